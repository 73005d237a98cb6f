//! The snapshot (as-of time and windows), the feature catalog and the feature selection.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::records::History;
use crate::{Error, ErrorKind, Result};

/// When features are computed and over which look-back windows.
///
/// Features as of `as_of` read only events at or before `as_of`. Windowed
/// features (`orders_30d`, ...) count events in `(as_of − w days, as_of]` for
/// each window `w`.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::Snapshot;
///
/// let t = Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap();
/// let s = Snapshot::new(t);
/// assert_eq!(s.windows_days(), [30, 90, 180]);
/// let s = s.windows([7, 28]);
/// assert_eq!(s.windows_days(), [7, 28]);
/// assert!(Snapshot::new(t).windows([0]).validate().is_err());
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    as_of: DateTime<Utc>,
    windows_days: Vec<u32>,
}

impl Snapshot {
    /// A snapshot at `as_of` with the default windows: 30, 90 and 180 days.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::features::Snapshot;
    ///
    /// let t = Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap();
    /// let s = Snapshot::new(t);
    /// assert_eq!((s.as_of(), s.windows_days()), (t, &[30, 90, 180][..]));
    /// ```
    pub fn new(as_of: DateTime<Utc>) -> Self {
        Snapshot {
            as_of,
            windows_days: vec![30, 90, 180],
        }
    }

    /// The look-back windows in days, kept sorted. Defaults to `[30, 90, 180]`.
    /// They must be distinct and 1 to 36 500 days (checked by
    /// [`validate`](Self::validate)).
    ///
    /// [`ErrorKind::InvalidParameter`] named `windows` unless there is at
    /// least one window, each between 1 and 36 500 days, without repeats.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::features::Snapshot;
    ///
    /// let s = Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap());
    /// assert_eq!(s.clone().windows([28, 7]).windows_days(), [7, 28]); // sorted
    /// ```
    pub fn windows(mut self, windows_days: impl IntoIterator<Item = u32>) -> Self {
        let mut w: Vec<u32> = windows_days.into_iter().collect();
        w.sort_unstable();
        self.windows_days = w;
        self
    }

    /// Checks the windows; [`FeatureSpec::resolve`] and
    /// [`FeatureSpec::extract`] call it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `windows` unless there is at
    /// least one window, all distinct and of 1 to 36 500 days.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::Snapshot;
    /// # let t = churnwise::doc_support::month(7);
    ///
    /// assert!(Snapshot::new(t).windows([7, 28]).validate().is_ok());
    /// assert!(Snapshot::new(t).windows([7, 7]).validate().is_err());
    /// assert!(Snapshot::new(t).windows([]).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        let w = &self.windows_days;
        let sorted = w.windows(2).all(|p| p[0] < p[1]);
        if w.is_empty() || !sorted || w[0] == 0 || w[w.len() - 1] > 36_500 {
            return Err(Error::invalid_parameter(
                "windows",
                format!("need distinct windows of 1 to 36500 days, got {w:?}"),
            ));
        }
        Ok(())
    }

    /// The same windows at another time.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::features::Snapshot;
    ///
    /// let month = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    /// let s = Snapshot::new(month(7)).windows([14]);
    /// let earlier = s.at(month(3));
    /// assert_eq!((earlier.as_of(), earlier.windows_days()), (month(3), &[14][..]));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn at(&self, as_of: DateTime<Utc>) -> Self {
        Snapshot {
            as_of,
            windows_days: self.windows_days.clone(),
        }
    }

    /// The as-of time.
    pub fn as_of(&self) -> DateTime<Utc> {
        self.as_of
    }

    /// The windows, ascending.
    pub fn windows_days(&self) -> &[u32] {
        &self.windows_days
    }

    /// Every feature this snapshot can compute, in catalog order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::features::Snapshot;
    ///
    /// let s = Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap());
    /// let catalog = s.catalog();
    /// let names: Vec<&str> = catalog.iter().map(|f| f.name()).collect();
    /// assert!(names.contains(&"recency_days") && names.contains(&"orders_90d"));
    /// ```
    pub fn catalog(&self) -> Vec<FeatureInfo> {
        let mut out: Vec<FeatureInfo> = SCALARS
            .iter()
            .map(|&(kind, name, unit, none)| FeatureInfo::new(kind, name.to_owned(), unit, none))
            .collect();
        for &(make, stem, unit, none) in WINDOWED {
            for &w in &self.windows_days {
                out.push(FeatureInfo::new(
                    make(w),
                    format!("{stem}_{w}d"),
                    unit,
                    none,
                ));
            }
        }
        out.extend(
            SUBSCRIPTION_SCALARS
                .iter()
                .map(|&(kind, name, unit, none)| {
                    FeatureInfo::new(kind, name.to_owned(), unit, none)
                }),
        );
        for &(make, stem, unit, none) in SUBSCRIPTION_WINDOWED {
            for &w in &self.windows_days {
                out.push(FeatureInfo::new(
                    make(w),
                    format!("{stem}_{w}d"),
                    unit,
                    none,
                ));
            }
        }
        out
    }
}

/// A customer attribute that can be one-hot encoded (`plan=gold`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attribute {
    Plan,
    Channel,
    Region,
}

impl Attribute {
    const ALL: [Attribute; 3] = [Attribute::Plan, Attribute::Channel, Attribute::Region];

    fn name(self) -> &'static str {
        match self {
            Attribute::Plan => "plan",
            Attribute::Channel => "channel",
            Attribute::Region => "region",
        }
    }

    /// The customer's value of the attribute.
    pub(crate) fn of<'a>(self, c: &crate::records::CustomerView<'a>) -> Option<&'a str> {
        match self {
            Attribute::Plan => c.plan(),
            Attribute::Channel => c.channel(),
            Attribute::Region => c.region(),
        }
    }

    /// The attribute and value of a one-hot name `attribute=value`.
    pub(crate) fn parse(name: &str) -> Option<(Attribute, &str)> {
        let (attr, value) = name.split_once('=')?;
        let attr = Attribute::ALL.into_iter().find(|a| a.name() == attr)?;
        Some((attr, value))
    }
}

/// What a feature computes. Internal: users name features by string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    RecencyDays,
    TenureDays,
    HasOrdered,
    OrdersTotal,
    SpendTotal,
    AvgOrderValue,
    MeanInterpurchaseDays,
    OrderTrend90d,
    RefundShare,
    DaysSinceInteraction,
    HasInteractions,
    EngagementTrend30d,
    ResponseHoursMean,
    ResponseHoursMax,
    HasTickets,
    SatisfactionLast,
    SatisfactionChange,
    HasFeedback,
    Orders(u32),
    Spend(u32),
    Logins(u32),
    Visits(u32),
    Tickets(u32),
    Complaints(u32),
    CampaignResponses(u32),
    ResponseHoursMaxIn(u32),
    DaysToRenewal,
    AutoRenew,
    MonthsOnPlan,
    Mrr,
    MrrChange90d,
    Paused,
    SubscriptionsActive,
    HasSubscription,
    Downgrades(u32),
    PaymentFailures(u32),
    /// A one-hot customer attribute (its value is in the feature's name).
    Attribute(Attribute),
}

impl Kind {
    /// Whether this is a subscription feature (left out of
    /// [`FeatureSpec::all`] unless asked for).
    pub(crate) fn is_subscription(self) -> bool {
        self.reads().subscriptions
    }

    /// Which event tables the feature reads.
    pub(crate) fn reads(self) -> Reads {
        use Kind::*;
        match self {
            RecencyDays
            | HasOrdered
            | OrdersTotal
            | SpendTotal
            | AvgOrderValue
            | MeanInterpurchaseDays
            | OrderTrend90d
            | RefundShare
            | Orders(_)
            | Spend(_) => Reads::ORDERS,
            TenureDays | Attribute(_) => Reads::NOTHING,
            DaysToRenewal | AutoRenew | MonthsOnPlan | Mrr | MrrChange90d | Paused
            | SubscriptionsActive | HasSubscription | Downgrades(_) | PaymentFailures(_) => {
                Reads::SUBSCRIPTIONS
            }
            DaysSinceInteraction
            | HasInteractions
            | EngagementTrend30d
            | ResponseHoursMean
            | ResponseHoursMax
            | HasTickets
            | Logins(_)
            | Visits(_)
            | Tickets(_)
            | Complaints(_)
            | CampaignResponses(_)
            | ResponseHoursMaxIn(_) => Reads::INTERACTIONS,
            SatisfactionLast | SatisfactionChange | HasFeedback => Reads::FEEDBACK,
        }
    }
}

impl Kind {
    /// The quantity the feature measures.
    pub(crate) fn unit(self) -> Unit {
        use Kind::*;
        match self {
            RecencyDays
            | TenureDays
            | MeanInterpurchaseDays
            | DaysSinceInteraction
            | DaysToRenewal => Unit::Days,
            MonthsOnPlan => Unit::Months,
            Mrr | MrrChange90d => Unit::Currency,
            SubscriptionsActive | Downgrades(_) | PaymentFailures(_) => Unit::Count,
            AutoRenew | Paused | HasSubscription | Attribute(_) => Unit::Flag,
            ResponseHoursMean | ResponseHoursMax | ResponseHoursMaxIn(_) => Unit::Hours,
            OrdersTotal | Orders(_) | Logins(_) | Visits(_) | Tickets(_) | Complaints(_)
            | CampaignResponses(_) => Unit::Count,
            SpendTotal | AvgOrderValue | Spend(_) => Unit::Currency,
            HasOrdered | HasInteractions | HasTickets | HasFeedback => Unit::Flag,
            RefundShare | SatisfactionLast => Unit::Fraction,
            OrderTrend90d | EngagementTrend30d | SatisfactionChange => Unit::Balance,
        }
    }
}

/// What a feature measures, so thresholds can be checked: a duration
/// compares with days or hours, a probability-like value lies in [0, 1].
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::{Snapshot, Unit};
///
/// let s = Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap());
/// let unit = |name: &str| s.catalog().into_iter().find(|f| f.name() == name).unwrap().quantity();
/// assert_eq!(unit("recency_days"), Unit::Days);
/// assert_eq!(unit("complaints_30d"), Unit::Count);
/// assert_eq!(Unit::Fraction.range(), (0.0, 1.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unit {
    /// A duration in days (≥ 0).
    Days,
    /// A duration in hours (≥ 0).
    Hours,
    /// A duration in months of 365.25 / 12 days (≥ 0).
    Months,
    /// A count of events (≥ 0).
    Count,
    /// An amount of money (net amounts may be negative).
    Currency,
    /// A 0/1 indicator.
    Flag,
    /// A share or score in [0, 1].
    Fraction,
    /// A balance or change in [−1, 1].
    Balance,
}

impl Unit {
    /// The values the quantity can take, as `(min, max)`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::Unit;
    ///
    /// assert_eq!(Unit::Balance.range(), (-1.0, 1.0));
    /// assert_eq!(Unit::Count.range(), (0.0, f64::INFINITY));
    /// ```
    pub fn range(self) -> (f64, f64) {
        match self {
            Unit::Days | Unit::Hours | Unit::Months | Unit::Count => (0.0, f64::INFINITY),
            Unit::Currency => (f64::NEG_INFINITY, f64::INFINITY),
            Unit::Flag | Unit::Fraction => (0.0, 1.0),
            Unit::Balance => (-1.0, 1.0),
        }
    }

    /// The unit of a catalog feature name (for any windows), `None` for
    /// names outside the catalog.
    pub(crate) fn of_feature(name: &str) -> Option<Unit> {
        if let Some(&(kind, ..)) = SCALARS
            .iter()
            .chain(SUBSCRIPTION_SCALARS)
            .find(|s| s.1 == name)
        {
            return Some(kind.unit());
        }
        if Attribute::parse(name).is_some() {
            return Some(Unit::Flag);
        }
        let (stem, window) = name.strip_suffix('d')?.rsplit_once('_')?;
        let w: u32 = window.parse().ok()?;
        WINDOWED
            .iter()
            .chain(SUBSCRIPTION_WINDOWED)
            .find(|s| s.1 == stem)
            .map(|&(make, ..)| make(w).unit())
    }
}

/// The event tables a set of features reads, so extraction skips the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Reads {
    pub(crate) orders: bool,
    pub(crate) interactions: bool,
    pub(crate) feedback: bool,
    pub(crate) subscriptions: bool,
}

impl Reads {
    const NOTHING: Reads = Reads {
        orders: false,
        interactions: false,
        feedback: false,
        subscriptions: false,
    };
    const SUBSCRIPTIONS: Reads = Reads {
        subscriptions: true,
        ..Reads::NOTHING
    };
    const ORDERS: Reads = Reads {
        orders: true,
        ..Reads::NOTHING
    };
    const INTERACTIONS: Reads = Reads {
        interactions: true,
        ..Reads::NOTHING
    };
    const FEEDBACK: Reads = Reads {
        feedback: true,
        ..Reads::NOTHING
    };

    pub(crate) fn union(self, o: Reads) -> Reads {
        Reads {
            orders: self.orders || o.orders,
            interactions: self.interactions || o.interactions,
            feedback: self.feedback || o.feedback,
            subscriptions: self.subscriptions || o.subscriptions,
        }
    }
}

/// (kind, name, unit, value when the customer has no such events).
type Scalar = (Kind, &'static str, &'static str, &'static str);

const SCALARS: &[Scalar] = &[
    (
        Kind::RecencyDays,
        "recency_days",
        "days",
        "tenure_days (days since signup)",
    ),
    (Kind::TenureDays, "tenure_days", "days", "always defined"),
    (Kind::HasOrdered, "has_ordered", "0/1", "0"),
    (
        Kind::OrdersTotal,
        "orders_total",
        "count of purchases (amount >= 0)",
        "0",
    ),
    (
        Kind::SpendTotal,
        "spend_total",
        "currency, net of refunds",
        "0",
    ),
    (
        Kind::AvgOrderValue,
        "avg_order_value",
        "currency per purchase",
        "0",
    ),
    (
        Kind::MeanInterpurchaseDays,
        "mean_interpurchase_days",
        "days",
        "one purchase: days since it; none: tenure_days",
    ),
    (
        Kind::OrderTrend90d,
        "order_trend_90d",
        "(a - b) / (a + b) in [-1, 1], a = purchases in the last 90 days, b = in the 90 before",
        "0",
    ),
    (
        Kind::RefundShare,
        "refund_share",
        "refunded / gross spend",
        "0",
    ),
    (
        Kind::DaysSinceInteraction,
        "days_since_interaction",
        "days",
        "tenure_days",
    ),
    (Kind::HasInteractions, "has_interactions", "0/1", "0"),
    (
        Kind::EngagementTrend30d,
        "engagement_trend_30d",
        "(a - b) / (a + b) in [-1, 1] of logins + visits, last 30 days vs the 30 before",
        "0",
    ),
    (
        Kind::ResponseHoursMean,
        "response_hours_mean",
        "hours to first support response (a ticket still waiting at as_of counts its wait so far)",
        "0",
    ),
    (
        Kind::ResponseHoursMax,
        "response_hours_max",
        "hours, as response_hours_mean",
        "0",
    ),
    (Kind::HasTickets, "has_tickets", "0/1", "0"),
    (
        Kind::SatisfactionLast,
        "satisfaction_last",
        "last answer mapped to [0, 1] by its scale",
        "0.5 (scale midpoint)",
    ),
    (
        Kind::SatisfactionChange,
        "satisfaction_change",
        "last minus previous answer, on [0, 1] scales",
        "0 (fewer than two answers)",
    ),
    (Kind::HasFeedback, "has_feedback", "0/1", "0"),
];

/// (constructor, stem, unit, value when none); the name is `{stem}_{w}d`.
type Windowed = (fn(u32) -> Kind, &'static str, &'static str, &'static str);

const WINDOWED: &[Windowed] = &[
    (
        Kind::Orders,
        "orders",
        "count of purchases in the window",
        "0",
    ),
    (
        Kind::Spend,
        "spend",
        "currency, net of refunds, in the window",
        "0",
    ),
    (Kind::Logins, "logins", "count in the window", "0"),
    (Kind::Visits, "visits", "count in the window", "0"),
    (
        Kind::Tickets,
        "tickets",
        "support tickets opened in the window",
        "0",
    ),
    (Kind::Complaints, "complaints", "count in the window", "0"),
    (
        Kind::CampaignResponses,
        "campaign_responses",
        "count in the window",
        "0",
    ),
    (
        Kind::ResponseHoursMaxIn,
        "response_hours_max",
        "hours to first response, worst ticket opened in the window (as response_hours_mean)",
        "0",
    ),
];

/// Subscription features: (kind, name, unit, value without a subscription held at `as_of`).
const SUBSCRIPTION_SCALARS: &[Scalar] = &[
    (
        Kind::DaysToRenewal,
        "days_to_renewal",
        "days to the nearest next period end of a held subscription",
        "0 (see has_subscription)",
    ),
    (
        Kind::AutoRenew,
        "auto_renew",
        "0/1: a held subscription renews automatically and has no pending cancellation",
        "0",
    ),
    (
        Kind::MonthsOnPlan,
        "months_on_plan",
        "months (365.25 / 12 days) since the main subscription's plan last changed (or it started)",
        "0",
    ),
    (
        Kind::Mrr,
        "mrr",
        "currency per month: monthly recurring revenue of all subscriptions",
        "0",
    ),
    (
        Kind::MrrChange90d,
        "mrr_change_90d",
        "currency per month: mrr now minus mrr 90 days before",
        "0",
    ),
    (
        Kind::Paused,
        "paused",
        "0/1: a held subscription is paused",
        "0",
    ),
    (
        Kind::SubscriptionsActive,
        "subscriptions_active",
        "count of held subscriptions (active, paused or pending cancellation)",
        "0",
    ),
    (
        Kind::HasSubscription,
        "has_subscription",
        "0/1: holds a subscription",
        "0",
    ),
];

/// Windowed subscription features; the name is `{stem}_{w}d`.
const SUBSCRIPTION_WINDOWED: &[Windowed] = &[
    (
        Kind::Downgrades,
        "downgrades",
        "downgrade events in the window, all subscriptions",
        "0",
    ),
    (
        Kind::PaymentFailures,
        "payment_failures",
        "failed payments in the window, all subscriptions",
        "0",
    ),
];

/// Whether [`FeatureSpec::all`] includes the subscription features.
///
/// Serialized as `"exclude"` or `"include"`.
///
/// # Example
///
/// ```
/// use churnwise::features::{FeatureSpec, SubscriptionFeatures};
///
/// assert_eq!(SubscriptionFeatures::default(), SubscriptionFeatures::Exclude);
/// assert_eq!(FeatureSpec::contractual(), FeatureSpec::all().subscription_features(SubscriptionFeatures::Include));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SubscriptionFeatures {
    /// The whole catalog minus the subscription features (the default, so
    /// non-contractual models keep their columns).
    #[default]
    Exclude,
    /// The whole catalog.
    Include,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// A feature's name, unit and its value for a customer without such events.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::Snapshot;
///
/// let s = Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap());
/// let recency = s.catalog().into_iter().find(|f| f.name() == "recency_days").unwrap();
/// assert_eq!(recency.unit(), "days");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureInfo {
    kind: Kind,
    name: String,
    unit: &'static str,
    when_none: &'static str,
}

impl FeatureInfo {
    fn new(kind: Kind, name: String, unit: &'static str, when_none: &'static str) -> Self {
        FeatureInfo {
            kind,
            name,
            unit,
            when_none,
        }
    }

    /// The stable name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The unit or definition.
    pub fn unit(&self) -> &'static str {
        self.unit
    }

    /// The quantity measured, for checking thresholds.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureSpec, Snapshot, Unit};
    /// let s = Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap());
    /// let info = &FeatureSpec::new(["spend_total"]).resolve(&s)?[0];
    /// assert_eq!(info.quantity(), Unit::Currency);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn quantity(&self) -> Unit {
        self.kind.unit()
    }

    /// The value for a customer with no events of the kind the feature reads.
    pub fn when_none(&self) -> &'static str {
        self.when_none
    }

    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }
}

/// Which features to compute, by name, in output column order.
///
/// [`FeatureSpec::all`] (the default) is every feature of the snapshot's
/// catalog but the subscription features ([`FeatureSpec::contractual`] adds them); [`FeatureSpec::rfm`] is the recency/frequency/monetary subset;
/// [`FeatureSpec::new`] lists names. Names are checked against the catalog
/// when features are extracted.
///
/// # The catalog
///
/// | name | unit | without such events |
/// |---|---|---|
/// | `recency_days` | days since the last order | `tenure_days` |
/// | `tenure_days` | days since signup | — |
/// | `has_ordered` | 0/1 | 0 |
/// | `orders_total`, `orders_{w}d` | purchases (amount ≥ 0), all time / in the last `w` days | 0 |
/// | `spend_total`, `spend_{w}d` | net amount (refunds subtract) | 0 |
/// | `avg_order_value` | gross purchase amount per purchase | 0 |
/// | `mean_interpurchase_days` | mean days between purchases | one purchase: days since it; none: `tenure_days` |
/// | `order_trend_90d` | (a − b)/(a + b), purchases in the last 90 days (a) vs the 90 before (b) | 0 |
/// | `refund_share` | refunded / gross purchase amount | 0 |
/// | `days_since_interaction` | days since the last interaction of any kind | `tenure_days` |
/// | `has_interactions` | 0/1 | 0 |
/// | `logins_{w}d`, `visits_{w}d` | counts in the window | 0 |
/// | `engagement_trend_30d` | (a − b)/(a + b) of logins + visits, last 30 days vs the 30 before | 0 |
/// | `tickets_{w}d`, `complaints_{w}d`, `campaign_responses_{w}d` | counts in the window | 0 |
/// | `response_hours_mean`, `response_hours_max` | hours to first support response; a ticket still unanswered at `as_of` counts its wait so far | 0 |
/// | `response_hours_max_{w}d` | as `response_hours_max`, over tickets opened in the window | 0 |
/// | `has_tickets` | 0/1 | 0 |
/// | `satisfaction_last` | last survey answer mapped to [0, 1] by its scale | 0.5 |
/// | `satisfaction_change` | last minus previous answer on [0, 1] | 0 |
/// | `has_feedback` | 0/1 | 0 |
///
/// **Subscription features** (from the customer's
/// [`Subscription`](crate::records::Subscription)s; in [`FeatureSpec::all`]
/// only with [`SubscriptionFeatures::Include`], see
/// [`FeatureSpec::contractual`]; always available by name). A subscription is
/// *held* at `as_of` while active, paused or pending cancellation (its
/// [`status_at`](crate::records::SubscriptionView::status_at)); the *main*
/// subscription is the held one with the highest MRR (the first on ties).
///
/// | name | unit | without a held subscription |
/// |---|---|---|
/// | `days_to_renewal` | days to the nearest next period end of a held subscription ([`next_period_end_after`](crate::records::SubscriptionView::next_period_end_after)) | 0 (check `has_subscription`) |
/// | `auto_renew` | 0/1: a held subscription renews automatically and no cancellation is pending | 0 |
/// | `months_on_plan` | months (365.25 / 12 days) since the main subscription's plan last changed, or since it started | 0 |
/// | `mrr` | monthly recurring revenue of all subscriptions ([`mrr_at`](crate::records::SubscriptionView::mrr_at)) | 0 |
/// | `mrr_change_90d` | `mrr` now minus `mrr` 90 days before | 0 (or minus the MRR lost) |
/// | `downgrades_{w}d`, `payment_failures_{w}d` | events in the window, all subscriptions | 0 |
/// | `paused` | 0/1: a held subscription is paused | 0 |
/// | `subscriptions_active` | held subscriptions | 0 |
/// | `has_subscription` | 0/1: holds a subscription | 0 |
///
/// **Customer attributes** one-hot: `plan=<value>`, `channel=<value>`,
/// `region=<value>` are 0/1 columns (1 when the customer's attribute equals
/// the value), available by name; [`one_hot_attributes`](Self::one_hot_attributes)
/// adds the most frequent values of a history.
///
/// `{w}` ranges over the snapshot's windows (default 30, 90, 180). Every
/// value is finite; the `has_*` indicators tell "none" apart from zero.
///
/// # Example
///
/// ```
/// use churnwise::features::FeatureSpec;
///
/// let spec = FeatureSpec::new(["recency_days", "orders_90d", "complaints_30d"]);
/// assert_eq!(spec.names().map(|n| n.len()), Some(3));
/// assert_eq!(FeatureSpec::default(), FeatureSpec::all());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FeatureSpec {
    names: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "is_default")]
    subscription_features: SubscriptionFeatures,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    one_hot: Vec<String>,
}

impl FeatureSpec {
    /// Every feature of the snapshot's catalog except the subscription
    /// features, in catalog order (see [`contractual`](Self::contractual)
    /// and [`subscription_features`](Self::subscription_features)).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::features::{FeatureSpec, Snapshot};
    ///
    /// let s = Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap());
    /// assert_eq!(FeatureSpec::all().names(), None);
    /// // 8 subscription features and 2 windowed ones for each of the 3 windows.
    /// assert_eq!(FeatureSpec::all().resolve(&s)?.len(), s.catalog().len() - 14);
    /// assert_eq!(FeatureSpec::contractual().resolve(&s)?.len(), s.catalog().len());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn all() -> Self {
        FeatureSpec::default()
    }

    /// Every feature of the catalog, the subscription features included:
    /// `FeatureSpec::all().subscription_features(SubscriptionFeatures::Include)`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::{FeatureSpec, Snapshot};
    /// # let day = churnwise::doc_support::day;
    /// # let history = churnwise::doc_support::subscribers()?;
    /// // Customer 1 at day 80: S-1 (pro, 25 a month, cancellation pending) is held, S-2 not started.
    /// let table = FeatureSpec::contractual().extract(&history, &Snapshot::new(day(80)))?;
    /// let v = |name: &str| table.column(name).map(|c| c[0]);
    /// assert_eq!(v("mrr")?, 25.0);
    /// assert_eq!(v("days_to_renewal")?, 11.0); // the period ends on day 91
    /// assert_eq!(v("auto_renew")?, 0.0); // a cancellation is pending
    /// assert_eq!(v("subscriptions_active")?, 1.0);
    /// assert_eq!(table.ncols(), FeatureSpec::all().extract(&history, &Snapshot::new(day(80)))?.ncols() + 14);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn contractual() -> Self {
        FeatureSpec::all().subscription_features(SubscriptionFeatures::Include)
    }

    /// Whether the whole-catalog spec ([`all`](Self::all)) includes the
    /// subscription features. Defaults to [`SubscriptionFeatures::Exclude`];
    /// a spec that lists names gets the subscription features it names
    /// whatever this says.
    pub fn subscription_features(mut self, include: SubscriptionFeatures) -> Self {
        self.subscription_features = include;
        self
    }

    /// Appends one-hot columns `plan=<value>`, `channel=<value>` and
    /// `region=<value>` for the `max_categories` most frequent values of
    /// each attribute among the history's customers (ties: alphabetical),
    /// after the spec's other features. Customers with another value, or
    /// none, get 0 in every column of that attribute. Replaces one-hot
    /// columns added before.
    ///
    /// The values are fixed in the spec here, so a model fitted on it (and a
    /// scorer saving it) sees the same columns on any later history.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::{FeatureSpec, Snapshot};
    /// use churnwise::records::{Customer, HistoryBuilder};
    /// # let day = churnwise::doc_support::day;
    /// let mut b = HistoryBuilder::new();
    /// for (id, plan) in [(1u64, "gold"), (2, "basic"), (3, "gold"), (4, "free")] {
    ///     let mut c = Customer::new(id, day(0));
    ///     c.plan = Some(plan.into());
    ///     b.push_customer(c);
    /// }
    /// let history = b.build_strict()?;
    /// let spec = FeatureSpec::new(["tenure_days"]).one_hot_attributes(&history, 2);
    /// assert_eq!(spec.one_hot_names(), ["plan=gold", "plan=basic"]);
    /// let table = spec.extract(&history, &Snapshot::new(day(10)))?;
    /// assert_eq!(table.column("plan=gold")?.to_vec(), [1.0, 0.0, 1.0, 0.0]);
    /// assert_eq!(table.column("plan=basic")?.to_vec(), [0.0, 1.0, 0.0, 0.0]); // "free" is beyond the limit
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn one_hot_attributes(mut self, history: &History, max_categories: usize) -> Self {
        let mut names = Vec::new();
        for attr in Attribute::ALL {
            let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
            for c in history.customers() {
                if let Some(v) = attr.of(&c) {
                    *counts.entry(v).or_default() += 1;
                }
            }
            let mut values: Vec<(&str, usize)> = counts.into_iter().collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            names.extend(
                values
                    .into_iter()
                    .take(max_categories)
                    .map(|(v, _)| format!("{}={v}", attr.name())),
            );
        }
        self.one_hot = names;
        self
    }

    /// The one-hot columns added by [`one_hot_attributes`](Self::one_hot_attributes).
    pub fn one_hot_names(&self) -> &[String] {
        &self.one_hot
    }

    /// The named features, in this order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::features::{FeatureSpec, Snapshot};
    ///
    /// let s = Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap());
    /// let spec = FeatureSpec::new(["orders_90d", "recency_days"]);
    /// let names: Vec<String> = spec.resolve(&s)?.iter().map(|f| f.name().to_owned()).collect();
    /// assert_eq!(names, ["orders_90d", "recency_days"]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        FeatureSpec {
            names: Some(names.into_iter().map(Into::into).collect()),
            ..FeatureSpec::default()
        }
    }

    /// Recency, frequency and monetary value: `recency_days`, `orders_total`,
    /// `spend_total`, `avg_order_value`, `tenure_days`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::FeatureSpec;
    ///
    /// let names = FeatureSpec::rfm().names().unwrap().to_vec();
    /// assert_eq!(names, ["recency_days", "orders_total", "spend_total", "avg_order_value", "tenure_days"]);
    /// ```
    pub fn rfm() -> Self {
        FeatureSpec::new(RFM)
    }

    /// The names, or `None` for the whole catalog.
    pub fn names(&self) -> Option<&[String]> {
        self.names.as_deref()
    }

    /// Resolves the names against a snapshot's catalog.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] with the closest catalog names for a name
    /// not in the catalog; [`ErrorKind::DuplicateName`] for a repeat;
    /// [`ErrorKind::Empty`] for an empty list.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::features::{FeatureSpec, Snapshot};
    ///
    /// let s = Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap()).windows([7]);
    /// assert_eq!(FeatureSpec::new(["orders_7d"]).resolve(&s)?[0].name(), "orders_7d");
    /// assert!(FeatureSpec::new(["orders_30d"]).resolve(&s).is_err()); // no 30-day window
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn resolve(&self, snapshot: &Snapshot) -> Result<Vec<FeatureInfo>> {
        snapshot.validate()?;
        let catalog = snapshot.catalog();
        let mut out: Vec<FeatureInfo> = match &self.names {
            None => {
                let include = self.subscription_features == SubscriptionFeatures::Include;
                catalog
                    .iter()
                    .filter(|f| include || !f.kind.is_subscription())
                    .cloned()
                    .collect()
            }
            Some(names) if names.is_empty() && self.one_hot.is_empty() => {
                return Err(ErrorKind::Empty("the feature spec names no feature".into()).into());
            }
            Some(_) => Vec::new(),
        };
        let names = self.names.as_deref().unwrap_or_default();
        for name in names.iter().chain(&self.one_hot) {
            if out.iter().any(|f| &f.name == name) {
                return Err(ErrorKind::DuplicateName {
                    what: "feature",
                    name: name.clone(),
                }
                .into());
            }
            let attribute = Attribute::parse(name).map(|(attr, _)| attr);
            match (catalog.iter().find(|f| &f.name == name), attribute) {
                (Some(f), _) => out.push(f.clone()),
                (None, Some(attr)) => {
                    out.push(FeatureInfo::new(
                        Kind::Attribute(attr),
                        name.clone(),
                        "0/1: the customer's attribute equals the value",
                        "0",
                    ));
                }
                (None, None) => {
                    let known: Vec<&str> = catalog.iter().map(|f| f.name.as_str()).collect();
                    return Err(unknown_name("feature", name, &known));
                }
            }
        }
        Ok(out)
    }
}

/// The RFM subset, in order.
pub(crate) const RFM: [&str; 5] = [
    "recency_days",
    "orders_total",
    "spend_total",
    "avg_order_value",
    "tenure_days",
];

/// The catalog's feature names with the default windows (30, 90 and 180
/// days), for suggestions.
pub(crate) fn catalog_names() -> Vec<String> {
    let mut names: Vec<String> = SCALARS
        .iter()
        .chain(SUBSCRIPTION_SCALARS)
        .map(|s| s.1.to_owned())
        .collect();
    for w in [30, 90, 180] {
        names.extend(
            WINDOWED
                .iter()
                .chain(SUBSCRIPTION_WINDOWED)
                .map(|s| format!("{}_{w}d", s.1)),
        );
    }
    names
}

/// An [`ErrorKind::UnknownName`] listing up to three known names closest to `name`.
pub(crate) fn unknown_name(what: &'static str, name: &str, known: &[&str]) -> Error {
    ErrorKind::UnknownName {
        what,
        name: name.to_owned(),
        suggestions: closest_names(name, known),
    }
    .into()
}

/// Up to three of `known` closest to `name` by edit distance, best first.
pub(crate) fn closest_names(name: &str, known: &[&str]) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> =
        known.iter().map(|k| (edit_distance(name, k), *k)).collect();
    scored.sort();
    let limit = (name.len() / 2).max(3);
    scored
        .into_iter()
        .filter(|(d, _)| *d <= limit)
        .take(3)
        .map(|(_, k)| k.to_owned())
        .collect()
}

/// Edit distance over chars where swapping two neighbours counts as one
/// edit (optimal string alignment), the commonest typo.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut before: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 0..a.len() {
        let mut cur = vec![i + 1; b.len() + 1];
        for j in 0..b.len() {
            let sub = prev[j] + usize::from(a[i] != b[j]);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                cur[j + 1] = cur[j + 1].min(before[j - 1] + 1);
            }
        }
        before = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn snapshot() -> Snapshot {
        Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap())
    }

    #[test]
    fn catalog_names_are_unique_and_cover_every_window() {
        let catalog = snapshot().catalog();
        let mut names: Vec<&str> = catalog.iter().map(|f| f.name()).collect();
        assert_eq!(
            names.len(),
            SCALARS.len()
                + SUBSCRIPTION_SCALARS.len()
                + 3 * (WINDOWED.len() + SUBSCRIPTION_WINDOWED.len())
        );
        names.sort();
        names.dedup();
        assert_eq!(names.len(), catalog.len());
        for w in [30, 90, 180] {
            assert!(names.contains(&format!("complaints_{w}d").as_str()));
        }
    }

    #[test]
    fn unknown_names_suggest_the_closest() {
        let err = FeatureSpec::new(["recency_day"])
            .resolve(&snapshot())
            .unwrap_err();
        match err.kind() {
            ErrorKind::UnknownName {
                name, suggestions, ..
            } => {
                assert_eq!(name, "recency_day");
                assert_eq!(suggestions[0], "recency_days");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "unknown feature `recency_day` (did you mean `recency_days`?)"
        );
        let err = FeatureSpec::new(["orders_45d"])
            .resolve(&snapshot())
            .unwrap_err();
        assert!(err.to_string().contains("`orders_90d`"), "{err}");
    }

    #[test]
    fn rejects_duplicates_and_empty_specs() {
        let err = FeatureSpec::new(["tenure_days", "tenure_days"])
            .resolve(&snapshot())
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::DuplicateName { .. }));
        let err = FeatureSpec::new(Vec::<String>::new())
            .resolve(&snapshot())
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Empty(_)));
    }

    #[test]
    fn units_of_catalog_names_for_any_window() {
        assert_eq!(Unit::of_feature("recency_days"), Some(Unit::Days));
        assert_eq!(Unit::of_feature("order_trend_90d"), Some(Unit::Balance));
        assert_eq!(Unit::of_feature("complaints_7d"), Some(Unit::Count));
        assert_eq!(
            Unit::of_feature("response_hours_max_30d"),
            Some(Unit::Hours)
        );
        assert_eq!(Unit::of_feature("spend_365d"), Some(Unit::Currency));
        assert_eq!(Unit::of_feature("complaints_xd"), None);
        assert_eq!(Unit::of_feature("my_column"), None);
        let s = snapshot();
        for f in s.catalog() {
            assert_eq!(
                Unit::of_feature(f.name()),
                Some(f.quantity()),
                "{}",
                f.name()
            );
        }
    }

    #[test]
    fn edit_distance_matches_hand_values() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance("=>", ">="), 1); // a swap is one edit
        assert_eq!(edit_distance("recnecy_days", "recency_days"), 1);
    }

    #[test]
    fn spec_serializes_as_a_name_list() {
        let json = serde_json::to_string(&FeatureSpec::new(["a", "b"])).unwrap();
        assert_eq!(json, r#"{"names":["a","b"]}"#);
        assert_eq!(
            serde_json::to_string(&FeatureSpec::all()).unwrap(),
            r#"{"names":null}"#
        );
    }
}
