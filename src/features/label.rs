//! Churn labels and (features, labels) training sets.

use chrono::{DateTime, Utc};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::contract::{self, Outcome};
use super::extract::fill_rows;
use super::{FeatureSpec, FeatureTable, Snapshot};
use crate::records::History;
use crate::records::{ChurnReason, CompactKind};
use crate::util::{MICROS_PER_DAY, from_micros, to_micros};
use crate::{Error, ErrorKind, Result};

/// What counts as churn after the as-of time.
///
/// # Example
///
/// ```
/// use churnwise::features::LabelRule;
///
/// assert_eq!(LabelRule::default(), LabelRule::NoOrder);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LabelRule {
    /// Non-contractual: churned when there is no purchase in `(t, t + horizon]`.
    #[default]
    NoOrder,
    /// Contractual: churned when a [`Cancellation`](crate::records::InteractionKind::Cancellation)
    /// falls in `(t, t + horizon]`. Customers who cancelled at or before `t` are left out.
    Cancellation,
    /// Subscriptions: churned when the customer's subscriptions end in
    /// `(t, t + horizon]` and none is left.
    ///
    /// A subscription *holds* the customer at a time while it is active,
    /// paused or pending cancellation there (its
    /// [`status_at`](crate::records::SubscriptionView::status_at), the same
    /// notion as the segment measures'
    /// [`ChurnDefinition::SubscriptionEnded`](crate::segment::ChurnDefinition::SubscriptionEnded)).
    ///
    /// - Only customers held by at least one subscription at `t` are
    ///   labelled (a cancellation requested before `t` whose paid period
    ///   runs past `t` still holds the customer at `t`).
    /// - The customer **churned** when no subscription holds them at
    ///   `t + horizon`: every subscription that held them at `t` ended in
    ///   `(t, t + horizon]` (an `Ended` event, a cancellation reaching the
    ///   end of its paid period, or a period end without renewal of a
    ///   subscription that does not renew automatically), and any
    ///   subscription started after `t` ended too.
    /// - The customer is **retained** when any subscription holds them at
    ///   `t + horizon`, be it one they already had, or a new one replacing
    ///   it (an upgrade recorded as a new subscription, a second contract).
    ///   A renewal exactly at `t + horizon` counts (events at a time have
    ///   happened by that time); a lapse exactly at `t + horizon` is churn.
    /// - The churn **reason** is the
    ///   [`end_reason`](crate::records::SubscriptionView::end_reason) of the
    ///   subscription that ended last in the window (a plain lapse has
    ///   none); a [`ChurnReason::PaymentFailed`] end is
    ///   [`ChurnKind::Involuntary`], any other end
    ///   [`ChurnKind::Voluntary`]. See
    ///   [`ChurnLabeler::involuntary_churn`].
    SubscriptionEnd,
}

/// How a labelled customer's horizon ended: retained, or churned by choice
/// or not.
///
/// [`LabelRule::SubscriptionEnd`] tells involuntary churn (a subscription
/// ended after a failed payment, [`ChurnReason::PaymentFailed`]) from the
/// rest; the other rules cannot, and label every churned customer
/// `Voluntary`.
///
/// # Example
///
/// ```
/// use churnwise::features::ChurnKind;
///
/// assert!(ChurnKind::Involuntary.is_churned());
/// assert!(!ChurnKind::Retained.is_churned());
/// assert_eq!(serde_json::to_string(&ChurnKind::Voluntary).unwrap(), r#""voluntary""#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChurnKind {
    /// Not churned in the horizon.
    Retained,
    /// Churned by the customer's choice (or a churn the rule cannot classify).
    Voluntary,
    /// Churned because a payment failed.
    Involuntary,
}

impl ChurnKind {
    /// Whether this is churn of either kind.
    pub fn is_churned(&self) -> bool {
        !matches!(self, ChurnKind::Retained)
    }
}

/// Whether [`ChurnLabeler`] trains on involuntary churn (subscriptions
/// ended after a failed payment, for [`LabelRule::SubscriptionEnd`]).
///
/// Payment failures have other causes and other remedies (card updates,
/// dunning) than customers who choose to leave, so a model of voluntary
/// churn is often trained without them, and a second one on them alone.
/// Whatever the choice, [`Labels::kinds`] and [`TrainingSet::churn_kinds`]
/// tell the two apart.
///
/// Serialized as `"include"` or `"exclude"`.
///
/// # Example
///
/// ```
/// use churnwise::features::InvoluntaryChurn;
///
/// assert_eq!(InvoluntaryChurn::default(), InvoluntaryChurn::Include);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InvoluntaryChurn {
    /// Involuntary churners are labelled churned (`true`), like voluntary ones.
    #[default]
    Include,
    /// Involuntary churners are left out of the labels, so `true` means
    /// voluntary churn and `false` retained.
    Exclude,
}

/// Whether [`ChurnLabeler`] labels customers who had already lapsed at the
/// as-of time (no purchase in the `horizon` days up to it).
///
/// Serialized as `"keep"` or `"exclude"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LapsedCustomers {
    /// Label them like everybody else (most will be labelled churned).
    #[default]
    Keep,
    /// Leave them out, for [`LabelRule::NoOrder`]: their label would only
    /// restate the past.
    Exclude,
}

/// Labels customers as churned or not after an as-of time, and builds
/// training sets of (features at `t`, label) from one [`History`].
///
/// Only customers who had signed up by `t` are labelled. Labels need the
/// history to be observed up to `t + horizon`; by default that is its last
/// event, and [`observed_until`](Self::observed_until) sets it explicitly.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::{ChurnLabeler, FeatureSpec, LapsedCustomers, Snapshot};
///
/// # let history = churnwise::doc_support::history(500, 4)?;
/// let times = [
///     Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap(),
///     Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap(),
/// ];
/// let labeler = ChurnLabeler::new().horizon_days(90).lapsed_customers(LapsedCustomers::Exclude);
/// let snapshot = Snapshot::new(times[0]);
/// let train = labeler.training_set(&history, &FeatureSpec::all(), &snapshot, &times)?;
/// assert_eq!(train.features().nrows(), train.labels().len());
/// let rate = train.positive_rate();
/// assert!(rate > 0.0 && rate < 1.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChurnLabeler {
    horizon_days: u32,
    rule: LabelRule,
    lapsed_customers: LapsedCustomers,
    involuntary_churn: InvoluntaryChurn,
    observed_until: Option<DateTime<Utc>>,
}

impl Default for ChurnLabeler {
    fn default() -> Self {
        ChurnLabeler {
            horizon_days: 90,
            rule: LabelRule::NoOrder,
            lapsed_customers: LapsedCustomers::Keep,
            involuntary_churn: InvoluntaryChurn::Include,
            observed_until: None,
        }
    }
}

/// Labels at one as-of time: customer ids (in [`History`] order), whether
/// each churned, how ([`ChurnKind`]) and why (the [`ChurnReason`] when the
/// rule knows it).
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::ChurnLabeler;
///
/// # let history = churnwise::doc_support::history(200, 4)?;
/// let labels = ChurnLabeler::new().labels(&history, Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap())?;
/// assert_eq!(labels.ids().len(), labels.churned().len());
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    ids: Vec<crate::records::CustomerId>,
    churned: Vec<bool>,
    kinds: Vec<ChurnKind>,
    reasons: Vec<Option<ChurnReason>>,
}

impl Labels {
    /// The number of labelled customers.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no customer is labelled.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The labelled customers.
    pub fn ids(&self) -> &[crate::records::CustomerId] {
        &self.ids
    }

    /// Whether each churned.
    pub fn churned(&self) -> &[bool] {
        &self.churned
    }

    /// How each row's horizon ended (`Retained` exactly where
    /// [`churned`](Self::churned) is `false`).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::{ChurnKind, ChurnLabeler, LabelRule};
    /// use churnwise::records::ChurnReason;
    /// # let day = churnwise::doc_support::day;
    /// # let history = churnwise::doc_support::subscribers()?;
    /// // Customer 2's only subscription ends on day 45 after a failed payment.
    /// let labels = ChurnLabeler::new().rule(LabelRule::SubscriptionEnd).horizon_days(30).labels(&history, day(20))?;
    /// assert_eq!(labels.kinds(), [ChurnKind::Retained, ChurnKind::Involuntary]);
    /// assert_eq!(labels.reasons()[1], Some(ChurnReason::PaymentFailed));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn kinds(&self) -> &[ChurnKind] {
        &self.kinds
    }

    /// Why each churned row churned, when known (`None` for retained rows,
    /// rules without reasons and subscriptions that lapsed without one).
    pub fn reasons(&self) -> &[Option<ChurnReason>] {
        &self.reasons
    }
}

/// Subscription-level labels at one as-of time, from
/// [`ChurnLabeler::subscription_labels`]: one row per subscription running
/// at the as-of time, in [`History`] order.
///
/// # Example
///
/// ```
/// use churnwise::features::{ChurnKind, ChurnLabeler};
/// # let day = churnwise::doc_support::day;
/// # let history = churnwise::doc_support::subscribers()?;
/// let labels = ChurnLabeler::new().horizon_days(30).subscription_labels(&history, day(80))?;
/// // S-1 ends on day 91 (cancelled for its price); S-2 starts on day 100; S-3 ended on day 45.
/// assert_eq!(labels.subscription_ids(), ["S-1"]);
/// assert_eq!(labels.kinds(), [ChurnKind::Voluntary]);
/// assert_eq!(labels.reasons()[0].as_ref().map(|r| r.label()), Some("price"));
/// let later = ChurnLabeler::new().horizon_days(30).subscription_labels(&history, day(100))?;
/// assert_eq!((later.subscription_ids(), later.kinds()), (&["S-2".to_owned()][..], &[ChurnKind::Retained][..]));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionLabels {
    customers: Vec<crate::records::CustomerId>,
    subscriptions: Vec<String>,
    churned: Vec<bool>,
    kinds: Vec<ChurnKind>,
    reasons: Vec<Option<ChurnReason>>,
}

impl SubscriptionLabels {
    /// The number of labelled subscriptions.
    pub fn len(&self) -> usize {
        self.churned.len()
    }

    /// Whether no subscription is labelled.
    pub fn is_empty(&self) -> bool {
        self.churned.is_empty()
    }

    /// The customer of each row.
    pub fn customer_ids(&self) -> &[crate::records::CustomerId] {
        &self.customers
    }

    /// The subscription id of each row.
    pub fn subscription_ids(&self) -> &[String] {
        &self.subscriptions
    }

    /// Whether each subscription ended in the horizon.
    pub fn churned(&self) -> &[bool] {
        &self.churned
    }

    /// How each subscription's horizon ended.
    pub fn kinds(&self) -> &[ChurnKind] {
        &self.kinds
    }

    /// Why each ended subscription ended, when known.
    pub fn reasons(&self) -> &[Option<ChurnReason>] {
        &self.reasons
    }
}

/// Labels of one as-of time by History index.
#[derive(Debug, Default)]
struct Rows {
    rows: Vec<usize>,
    churned: Vec<bool>,
    kinds: Vec<ChurnKind>,
    reasons: Vec<Option<ChurnReason>>,
}

impl Rows {
    fn push(&mut self, row: usize, kind: ChurnKind, reason: Option<ChurnReason>) {
        self.rows.push(row);
        self.churned.push(kind.is_churned());
        self.kinds.push(kind);
        self.reasons.push(reason);
    }
}

impl ChurnLabeler {
    /// The defaults: no purchase within 90 days, lapsed customers included,
    /// observed until the history's last event.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::{ChurnLabeler, LabelRule, LapsedCustomers};
    ///
    /// let labeler = ChurnLabeler::new();
    /// assert_eq!(labeler.horizon_days_value(), 90);
    /// assert_eq!(labeler, ChurnLabeler::new().rule(LabelRule::NoOrder).lapsed_customers(LapsedCustomers::Keep));
    /// ```
    pub fn new() -> Self {
        ChurnLabeler::default()
    }

    /// The label horizon in days. Defaults to 90. Must be 1 to 36 500
    /// (checked by [`validate`](Self::validate)).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::*;
    /// # use churnwise::records::*;
    /// # use churnwise::doc_support::day;
    /// # // Customer 1 buys on days 20, 150 and 400, customer 2 on day 5, then cancels on day 120.
    /// # let history = churnwise::doc_support::buy_and_cancel()?;
    /// // With a 30-day horizon, customer 1 (next purchase on day 150) churned at day 100 too.
    /// let labels = ChurnLabeler::new().horizon_days(30).labels(&history, day(100))?;
    /// assert_eq!(labels.churned(), [true, true]);
    /// assert!(ChurnLabeler::new().horizon_days(0).labels(&history, day(100)).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn horizon_days(mut self, days: u32) -> Self {
        self.horizon_days = days;
        self
    }

    /// Checks the configuration; [`labels`](Self::labels) and
    /// [`training_set`](Self::training_set) call it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `horizon_days` unless 1 to 36 500.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::features::ChurnLabeler;
    ///
    /// let err = ChurnLabeler::new().horizon_days(0).validate().unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "horizon_days", .. }));
    /// ```
    pub fn validate(&self) -> Result<()> {
        let days = self.horizon_days;
        if !(1..=36_500).contains(&days) {
            return Err(Error::invalid_parameter(
                "horizon_days",
                format!("must be 1 to 36500, got {days}"),
            ));
        }
        Ok(())
    }

    /// The label rule. Defaults to [`LabelRule::NoOrder`].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::*;
    /// # use churnwise::records::*;
    /// # use churnwise::doc_support::day;
    /// # // Customer 1 buys on days 20, 150 and 400, customer 2 on day 5, then cancels on day 120.
    /// # let history = churnwise::doc_support::buy_and_cancel()?;
    /// // Contractual churn: customer 2 cancels on day 120.
    /// let labels = ChurnLabeler::new().rule(LabelRule::Cancellation).labels(&history, day(100))?;
    /// assert_eq!(labels.churned(), [false, true]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn rule(mut self, rule: LabelRule) -> Self {
        self.rule = rule;
        self
    }

    /// Whether to label customers already lapsed at `t`: no purchase in the
    /// `horizon` days up to `t` (for [`LabelRule::NoOrder`]; their label
    /// would only restate the past). Defaults to [`LapsedCustomers::Keep`].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::*;
    /// # use churnwise::records::*;
    /// # use churnwise::doc_support::day;
    /// # // Customer 1 buys on days 20, 150 and 400, customer 2 on day 5, then cancels on day 120.
    /// # let history = churnwise::doc_support::buy_and_cancel()?;
    /// // Customer 2's last purchase (day 5) is more than 90 days before day 100.
    /// let labels = ChurnLabeler::new().lapsed_customers(LapsedCustomers::Exclude).labels(&history, day(100))?;
    /// assert_eq!(labels.ids(), [CustomerId::from(1u64)]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn lapsed_customers(mut self, lapsed: LapsedCustomers) -> Self {
        self.lapsed_customers = lapsed;
        self
    }

    /// Whether involuntary churn (a subscription ended after a failed
    /// payment) is labelled churned or left out; for
    /// [`LabelRule::SubscriptionEnd`], the only rule that tells it apart.
    /// Defaults to [`InvoluntaryChurn::Include`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::{ChurnLabeler, InvoluntaryChurn, LabelRule};
    /// use churnwise::records::CustomerId;
    /// # let day = churnwise::doc_support::day;
    /// # let history = churnwise::doc_support::subscribers()?;
    /// // Customer 2 churns involuntarily by day 50: left out of the labels.
    /// let labeler = ChurnLabeler::new().rule(LabelRule::SubscriptionEnd).horizon_days(30);
    /// let labels = labeler.involuntary_churn(InvoluntaryChurn::Exclude).labels(&history, day(20))?;
    /// assert_eq!(labels.ids(), [CustomerId::from(1u64)]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn involuntary_churn(mut self, involuntary: InvoluntaryChurn) -> Self {
        self.involuntary_churn = involuntary;
        self
    }

    /// The last time the history is complete. Defaults to its last event
    /// (orders, interactions, feedback, subscription starts and events).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::*;
    /// # use churnwise::records::*;
    /// # use churnwise::doc_support::day;
    /// # // Customer 1 buys on days 20, 150 and 400, customer 2 on day 5, then cancels on day 120.
    /// # let history = churnwise::doc_support::buy_and_cancel()?;
    /// // Day 100 + 90 days is after day 150: those labels would be censored.
    /// let labeler = ChurnLabeler::new().observed_until(day(150));
    /// assert!(labeler.labels(&history, day(100)).is_err());
    /// assert!(labeler.labels(&history, day(60)).is_ok());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn observed_until(mut self, until: DateTime<Utc>) -> Self {
        self.observed_until = Some(until);
        self
    }

    /// The horizon in days.
    pub fn horizon_days_value(&self) -> u32 {
        self.horizon_days
    }

    /// The label rule.
    pub fn rule_value(&self) -> LabelRule {
        self.rule
    }

    /// Whether lapsed customers are labelled.
    pub fn lapsed_customers_value(&self) -> LapsedCustomers {
        self.lapsed_customers
    }

    /// Whether involuntary churners are labelled.
    pub fn involuntary_churn_value(&self) -> InvoluntaryChurn {
        self.involuntary_churn
    }

    /// The end of observation, if set.
    pub fn observed_until_value(&self) -> Option<DateTime<Utc>> {
        self.observed_until
    }

    /// Labels every customer who had signed up by `as_of` (minus those left out).
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate); [`ErrorKind::Censored`] if
    /// `as_of + horizon` is after the end of observation.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::*;
    /// # use churnwise::records::*;
    /// # use churnwise::doc_support::day;
    /// # // Customer 1 buys on days 20, 150 and 400, customer 2 on day 5, then cancels on day 120.
    /// # let history = churnwise::doc_support::buy_and_cancel()?;
    /// let labels = ChurnLabeler::new().labels(&history, day(100))?;
    /// assert_eq!(labels.churned(), [false, true]);
    /// assert!(ChurnLabeler::new().labels(&history, day(350)).is_err()); // day 440 not observed
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn labels(&self, history: &History, as_of: DateTime<Utc>) -> Result<Labels> {
        let r = self.label_rows(history, as_of)?;
        let ids = r
            .rows
            .iter()
            .map(|&c| history.customer_ids()[c].clone())
            .collect();
        Ok(Labels {
            ids,
            churned: r.churned,
            kinds: r.kinds,
            reasons: r.reasons,
        })
    }

    /// Labels subscriptions rather than customers: one row per subscription
    /// that holds its customer at `as_of` (active, paused or pending
    /// cancellation), churned when it no longer does at `as_of + horizon`
    /// (it ended in the window, see [`LabelRule::SubscriptionEnd`] for the
    /// ways it can end), with the subscription's
    /// [`end_reason`](crate::records::SubscriptionView::end_reason) and
    /// [`ChurnKind`]. Unlike the customer-level rule, a subscription
    /// replaced by another (an upgrade recorded as a new subscription)
    /// churns here. The rule and lapsed-customer settings do not apply;
    /// [`involuntary_churn`](Self::involuntary_churn) does.
    ///
    /// # Errors
    ///
    /// As for [`labels`](Self::labels).
    pub fn subscription_labels(
        &self,
        history: &History,
        as_of: DateTime<Utc>,
    ) -> Result<SubscriptionLabels> {
        let (t, end) = self.window(history, as_of)?;
        let mut out = SubscriptionLabels {
            customers: Vec::new(),
            subscriptions: Vec::new(),
            churned: Vec::new(),
            kinds: Vec::new(),
            reasons: Vec::new(),
        };
        for s in history.subscriptions() {
            let (kind, reason) = match contract::subscription_outcome(&s, t, end) {
                None => continue,
                Some(None) => (ChurnKind::Retained, None),
                Some(Some(reason)) => match self.churn_kind(&reason) {
                    Some(kind) => (kind, reason),
                    None => continue,
                },
            };
            out.customers.push(s.customer_id().clone());
            out.subscriptions.push(s.id().to_owned());
            out.churned.push(kind.is_churned());
            out.kinds.push(kind);
            out.reasons.push(reason);
        }
        Ok(out)
    }

    /// The kind of a churn with this reason, `None` when it is left out.
    fn churn_kind(&self, reason: &Option<ChurnReason>) -> Option<ChurnKind> {
        let involuntary = reason.as_ref().is_some_and(ChurnReason::is_involuntary);
        match (involuntary, self.involuntary_churn) {
            (true, InvoluntaryChurn::Exclude) => None,
            (true, _) => Some(ChurnKind::Involuntary),
            (false, _) => Some(ChurnKind::Voluntary),
        }
    }

    /// Validates and returns `(t, t + horizon)` in µs, refusing censored windows.
    fn window(&self, history: &History, as_of: DateTime<Utc>) -> Result<(i64, i64)> {
        self.validate()?;
        let t = to_micros(as_of);
        let h = i64::from(self.horizon_days) * MICROS_PER_DAY;
        let until = match self.observed_until {
            Some(u) => to_micros(u),
            None => {
                let events = history.event_span().map(|(_, last)| last);
                events
                    .max(contract::subscription_span_end(history))
                    .unwrap_or(i64::MIN)
            }
        };
        if t.saturating_add(h) > until {
            return Err(ErrorKind::Censored {
                as_of,
                needed: from_micros(t.saturating_add(h)),
                observed_until: from_micros(until),
            }
            .into());
        }
        Ok((t, t + h))
    }

    /// [`labels`](Self::labels) with the customers' History indices.
    fn label_rows(&self, history: &History, as_of: DateTime<Utc>) -> Result<Rows> {
        let (t, end) = self.window(history, as_of)?;
        let h = end - t;
        let after = |times: &[i64], bound: i64| times.partition_point(|&x| x <= bound);
        let mut out = Rows::default();
        let simple = |churned: bool| {
            if churned {
                ChurnKind::Voluntary
            } else {
                ChurnKind::Retained
            }
        };
        for view in history.customers() {
            let c = view.index();
            if view.signup_micros() > t {
                continue;
            }
            match self.rule {
                LabelRule::NoOrder => {
                    let orders = view.orders();
                    let (times, amounts) = (orders.micros(), orders.amounts());
                    let purchases = |lo: i64, hi: i64| {
                        amounts[after(times, lo)..after(times, hi)]
                            .iter()
                            .any(|&a| a >= 0.0)
                    };
                    if self.lapsed_customers == LapsedCustomers::Exclude && !purchases(t - h, t) {
                        continue;
                    }
                    out.push(c, simple(!purchases(t, t + h)), None);
                }
                LabelRule::Cancellation => {
                    let interactions = view.interactions();
                    let (times, kinds) = (interactions.micros(), interactions.compact_kinds());
                    let cancelled = |lo: i64, hi: i64| {
                        kinds[after(times, lo)..after(times, hi)]
                            .iter()
                            .any(|k| matches!(k, CompactKind::Cancellation))
                    };
                    if cancelled(i64::MIN, t) {
                        continue;
                    }
                    out.push(c, simple(cancelled(t, t + h)), None);
                }
                LabelRule::SubscriptionEnd => match contract::customer_outcome(view, t, t + h) {
                    Outcome::NotSubscribed => {}
                    Outcome::Retained => out.push(c, ChurnKind::Retained, None),
                    Outcome::Churned(reason) => {
                        if let Some(kind) = self.churn_kind(&reason) {
                            out.push(c, kind, reason);
                        }
                    }
                },
            }
        }
        Ok(out)
    }

    /// Features at each as-of time with their labels, stacked: one row per
    /// (customer, as-of time), in the order of `as_ofs`, then [`History`] order.
    /// `snapshot` gives the windows; its time is replaced by each of `as_ofs`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Empty`] without as-of times or without any labelled
    /// customer; as for [`labels`](Self::labels) and [`FeatureSpec::extract`].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::*;
    /// # use churnwise::records::*;
    /// # use churnwise::doc_support::day;
    /// # // Customer 1 buys on days 20, 150 and 400, customer 2 on day 5, then cancels on day 120.
    /// # let history = churnwise::doc_support::buy_and_cancel()?;
    /// let times = [day(100), day(200)];
    /// let set = ChurnLabeler::new().training_set(&history, &FeatureSpec::rfm(), &Snapshot::new(times[0]), &times)?;
    /// assert_eq!(set.features().nrows(), 4); // 2 customers × 2 as-of times
    /// assert_eq!(set.labels().to_vec(), [false, true, true, true]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn training_set(
        &self,
        history: &History,
        spec: &FeatureSpec,
        snapshot: &Snapshot,
        as_ofs: &[DateTime<Utc>],
    ) -> Result<TrainingSet> {
        if as_ofs.is_empty() {
            return Err(ErrorKind::Empty("no as-of times for the training set".into()).into());
        }
        // Labels first (small), so the stacked table is allocated once and
        // each as-of time's features are written straight into it: holding
        // a table per time and then their concatenation would triple the
        // peak memory of large training sets.
        let labelled = as_ofs
            .iter()
            .map(|&t| self.label_rows(history, t))
            .collect::<Result<Vec<_>>>()?;
        let total: usize = labelled.iter().map(|r| r.rows.len()).sum();
        let mut ids = Vec::with_capacity(total);
        let mut labels = Vec::with_capacity(total);
        let mut times = Vec::with_capacity(total);
        let mut kinds = Vec::with_capacity(total);
        let mut reasons = Vec::with_capacity(total);
        let mut stacked: Option<(Vec<String>, Vec<f64>)> = None;
        for (&t, r) in as_ofs.iter().zip(labelled) {
            let Rows {
                rows,
                churned,
                kinds: row_kinds,
                reasons: row_reasons,
            } = r;
            let at = snapshot.at(t);
            let features = spec.resolve(&at)?;
            let k = features.len();
            let (names, values) = stacked.get_or_insert_with(|| {
                let names = features.iter().map(|f| f.name().to_owned()).collect();
                (names, vec![0.0; total * k])
            });
            if names.len() != k
                || features
                    .iter()
                    .zip(names.iter())
                    .any(|(f, n)| f.name() != n)
            {
                return Err(ErrorKind::LengthMismatch {
                    what: "feature tables with the same columns",
                    expected: names.len(),
                    got: k,
                }
                .into());
            }
            let start = ids.len() * k;
            let out = &mut values[start..start + rows.len() * k];
            fill_rows(&features, history, &at, &rows, out);
            ids.extend(rows.iter().map(|&c| history.customer_ids()[c].clone()));
            times.extend(std::iter::repeat_n(t, churned.len()));
            labels.extend(churned);
            kinds.extend(row_kinds);
            reasons.extend(row_reasons);
        }
        let (names, values) = stacked.unwrap_or_default();
        let values = Array2::from_shape_vec((total, names.len()), values)
            .map_err(|e| ErrorKind::Empty(e.to_string()))?;
        let same_time = as_ofs.iter().all(|&t| t == as_ofs[0]);
        let as_of = same_time.then_some(as_ofs[0]);
        let features = FeatureTable::from_parts(ids, names, values, as_of);
        if features.is_empty() {
            return Err(ErrorKind::Empty("no customer to label at the as-of times".into()).into());
        }
        TrainingSet::new(features, Array1::from(labels)).map(|mut s| {
            s.as_ofs = Some(times);
            s.kinds = Some(kinds);
            s.reasons = Some(reasons);
            s
        })
    }
}

/// Features, churn labels and optional sample weights: what a model is fitted on.
///
/// Built by [`ChurnLabeler::training_set`] or from your own data with
/// [`TrainingSet::new`].
///
/// # Example
///
/// ```
/// use churnwise::features::{FeatureTable, TrainingSet};
/// use ndarray::array;
///
/// let x = FeatureTable::new(vec![1u64.into(), 2u64.into()], vec!["recency_days".into()], array![[5.0], [200.0]])?;
/// let set = TrainingSet::new(x, array![false, true])?.with_weights(array![1.0, 2.0])?;
/// assert_eq!(set.positive_rate(), 0.5);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingSet {
    features: FeatureTable,
    labels: Array1<bool>,
    weights: Option<Array1<f64>>,
    as_ofs: Option<Vec<DateTime<Utc>>>,
    kinds: Option<Vec<ChurnKind>>,
    reasons: Option<Vec<Option<ChurnReason>>>,
}

impl TrainingSet {
    /// Features with one label per row.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] unless there is one label per row.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::{FeatureTable, TrainingSet};
    /// use ndarray::array;
    ///
    /// let x = FeatureTable::new(vec![1u64.into(), 2u64.into()], vec!["recency_days".into()], array![[5.0], [200.0]])?;
    /// assert!(TrainingSet::new(x.clone(), array![true]).is_err()); // one label per row
    /// let set = TrainingSet::new(x, array![false, true])?;
    /// assert_eq!(set.labels().len(), 2);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(features: FeatureTable, labels: Array1<bool>) -> Result<Self> {
        if labels.len() != features.nrows() {
            return Err(ErrorKind::LengthMismatch {
                what: "labels per feature-table row",
                expected: features.nrows(),
                got: labels.len(),
            }
            .into());
        }
        // Contiguous, so that `churned` hands out a slice.
        let labels = if labels.as_slice().is_some() {
            labels
        } else {
            labels.iter().copied().collect()
        };
        Ok(TrainingSet {
            features,
            labels,
            weights: None,
            as_ofs: None,
            kinds: None,
            reasons: None,
        })
    }

    /// Adds sample weights, one per row.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] unless there is one weight per row;
    /// [`ErrorKind::InvalidParameter`] named `weights` if one is negative or not finite.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     vec![1u64.into(), 2u64.into(), 3u64.into()],
    /// #     vec!["recency_days".into()],
    /// #     array![[5.0], [200.0], [90.0]],
    /// # )?;
    /// # let set = TrainingSet::new(x, array![false, true, true])?;
    /// let weighted = set.clone().with_weights(array![1.0, 3.0, 3.0])?;
    /// assert_eq!(weighted.weights().map(|w| w.sum()), Some(7.0));
    /// assert!(set.with_weights(array![1.0, -1.0, 1.0]).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_weights(mut self, weights: Array1<f64>) -> Result<Self> {
        if weights.len() != self.labels.len() {
            return Err(ErrorKind::LengthMismatch {
                what: "weights per feature-table row",
                expected: self.labels.len(),
                got: weights.len(),
            }
            .into());
        }
        if let Some((i, w)) = weights
            .iter()
            .enumerate()
            .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
        {
            return Err(Error::invalid_parameter(
                "weights",
                format!("must be finite and >= 0, got {w} at row {i}"),
            ));
        }
        self.weights = Some(weights);
        Ok(self)
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// The labels as a slice (`true` = churned), as the
    /// [`metrics`](crate::model::metrics) take them.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::{LogisticRegression, metrics::roc_auc};
    /// # let train = churnwise::doc_support::recency_set()?;
    /// let model = LogisticRegression::new().fit(&train)?;
    /// let p = model.predict_proba_table(train.features())?.to_vec();
    /// assert!(roc_auc(&p, train.churned(), None)? > 0.5);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn churned(&self) -> &[bool] {
        self.labels.as_slice().unwrap_or_default()
    }

    /// Whether the set has no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The features.
    pub fn features(&self) -> &FeatureTable {
        &self.features
    }

    /// The labels (`true` = churned).
    pub fn labels(&self) -> &Array1<bool> {
        &self.labels
    }

    /// The sample weights, if any.
    pub fn weights(&self) -> Option<&Array1<f64>> {
        self.weights.as_ref()
    }

    /// The as-of time of each row, for sets built by [`ChurnLabeler::training_set`].
    pub fn as_ofs(&self) -> Option<&[DateTime<Utc>]> {
        self.as_ofs.as_deref()
    }

    /// How each row's horizon ended, for sets built by
    /// [`ChurnLabeler::training_set`] (see [`Labels::kinds`]).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::{ChurnKind, ChurnLabeler, FeatureSpec, LabelRule, Snapshot};
    /// # let day = churnwise::doc_support::day;
    /// # let history = churnwise::doc_support::subscribers()?;
    /// let labeler = ChurnLabeler::new().rule(LabelRule::SubscriptionEnd).horizon_days(30);
    /// let set = labeler.training_set(&history, &FeatureSpec::new(["tenure_days"]), &Snapshot::new(day(20)), &[day(20)])?;
    /// assert_eq!(set.churn_kinds(), Some(&[ChurnKind::Retained, ChurnKind::Involuntary][..]));
    /// assert_eq!(set.subset(&[1])?.churn_kinds(), Some(&[ChurnKind::Involuntary][..]));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn churn_kinds(&self) -> Option<&[ChurnKind]> {
        self.kinds.as_deref()
    }

    /// Why each churned row churned, when known, for sets built by
    /// [`ChurnLabeler::training_set`] (see [`Labels::reasons`]).
    pub fn churn_reasons(&self) -> Option<&[Option<ChurnReason>]> {
        self.reasons.as_deref()
    }

    /// The rows at `rows` (in that order), e.g. one fold of a cross-validation.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if an index is out of range.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     vec![1u64.into(), 2u64.into(), 3u64.into()],
    /// #     vec!["recency_days".into()],
    /// #     array![[5.0], [200.0], [90.0]],
    /// # )?;
    /// # let set = TrainingSet::new(x, array![false, true, true])?;
    /// let fold = set.subset(&[2, 0])?;
    /// assert_eq!(fold.labels().to_vec(), [true, false]);
    /// assert_eq!(fold.features().values()[[0, 0]], 90.0);
    /// assert!(set.subset(&[3]).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn subset(&self, rows: &[usize]) -> Result<TrainingSet> {
        let n = self.labels.len();
        if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
            return Err(ErrorKind::LengthMismatch {
                what: "training-set rows for a row index",
                expected: n,
                got: bad + 1,
            }
            .into());
        }
        let (ids, names, values) = self.features.clone().into_parts();
        let features = FeatureTable::from_parts(
            rows.iter().map(|&r| ids[r].clone()).collect(),
            names,
            values.select(ndarray::Axis(0), rows),
            self.features.as_of(),
        );
        Ok(TrainingSet {
            features,
            labels: rows.iter().map(|&r| self.labels[r]).collect(),
            weights: self
                .weights
                .as_ref()
                .map(|w| rows.iter().map(|&r| w[r]).collect()),
            as_ofs: self
                .as_ofs
                .as_ref()
                .map(|t| rows.iter().map(|&r| t[r]).collect()),
            kinds: self
                .kinds
                .as_ref()
                .map(|k| rows.iter().map(|&r| k[r]).collect()),
            reasons: self
                .reasons
                .as_ref()
                .map(|k| rows.iter().map(|&r| k[r].clone()).collect()),
        })
    }

    /// The share of rows labelled churned (0 without rows).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     vec![1u64.into(), 2u64.into(), 3u64.into()],
    /// #     vec!["recency_days".into()],
    /// #     array![[5.0], [200.0], [90.0]],
    /// # )?;
    /// # let set = TrainingSet::new(x, array![false, true, true])?;
    /// assert!((set.positive_rate() - 2.0 / 3.0).abs() < 1e-12);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn positive_rate(&self) -> f64 {
        let n = self.labels.len();
        if n == 0 {
            return 0.0;
        }
        self.labels.iter().filter(|&&l| l).count() as f64 / n as f64
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::records::{Customer, HistoryBuilder, Interaction, InteractionKind, Order};

    fn day(d: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + Duration::days(d)
    }

    /// 1 buys on days 10 and 150; 2 on day 10 only; 3 on days 95 and 120;
    /// 4 signs up on day 200; 5 cancels on day 130; the history ends on day 400.
    fn history() -> History {
        let mut b = HistoryBuilder::new();
        for (id, signup) in [(1u64, 0), (2, 0), (3, 0), (4, 200), (5, 0)] {
            b.push_customer(Customer::new(id, day(signup)));
        }
        for (id, d) in [(1u64, 10), (1, 150), (2, 10), (3, 95), (3, 120), (4, 400)] {
            b.push_order(Order::new(id, day(d), 5.0));
        }
        b.push_interaction(Interaction::new(
            5u64,
            day(130),
            InteractionKind::Cancellation,
        ));
        b.build_strict().unwrap()
    }

    fn labelled(l: &Labels) -> Vec<(u64, bool)> {
        l.ids()
            .iter()
            .map(|i| i.as_u64().unwrap())
            .zip(l.churned().iter().copied())
            .collect()
    }

    #[test]
    fn no_order_rule_labels_by_the_next_horizon() {
        let l = ChurnLabeler::new().labels(&history(), day(100)).unwrap();
        // (100, 190]: 1 buys on 150, 2 never, 3 on 120, 5 never; 4 not signed up.
        assert_eq!(labelled(&l), [(1, false), (2, true), (3, false), (5, true)]);
    }

    #[test]
    fn lapsed_customers_can_be_left_out() {
        let l = ChurnLabeler::new()
            .lapsed_customers(LapsedCustomers::Exclude)
            .labels(&history(), day(100))
            .unwrap();
        // Purchases in (10, 100]: only 3 (day 95); 1 and 2 bought on day 10 exactly, outside.
        assert_eq!(labelled(&l), [(3, false)]);
    }

    #[test]
    fn cancellation_rule_leaves_out_those_already_gone() {
        let labeler = ChurnLabeler::new().rule(LabelRule::Cancellation);
        let l = labeler.labels(&history(), day(100)).unwrap();
        assert_eq!(
            labelled(&l),
            [(1, false), (2, false), (3, false), (5, true)]
        );
        let l = labeler.labels(&history(), day(140)).unwrap();
        assert_eq!(labelled(&l), [(1, false), (2, false), (3, false)]);
    }

    #[test]
    fn labels_beyond_the_observed_history_are_refused() {
        let err = ChurnLabeler::new()
            .labels(&history(), day(320))
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Censored { .. }), "{err}");
        let ok = ChurnLabeler::new().labels(&history(), day(310));
        assert!(ok.is_ok());
        let err = ChurnLabeler::new()
            .observed_until(day(200))
            .labels(&history(), day(150))
            .unwrap_err();
        assert!(
            err.to_string().contains("observed until 2024-07-19"),
            "{err}"
        );
    }

    #[test]
    fn training_sets_stack_as_of_times_with_aligned_labels() {
        let labeler = ChurnLabeler::new().lapsed_customers(LapsedCustomers::Exclude);
        let spec = FeatureSpec::new(["recency_days", "orders_total"]);
        let set = labeler
            .training_set(
                &history(),
                &spec,
                &Snapshot::new(day(0)),
                &[day(100), day(200)],
            )
            .unwrap();
        // day 100: only 3 (not churned). day 200: purchases in (110, 200]: 1 (150), 3 (120);
        // (200, 290]: neither buys → both churned.
        assert_eq!(
            set.features().ids(),
            [3u64.into(), 1u64.into(), 3u64.into()]
        );
        assert_eq!(set.labels().to_vec(), [false, true, true]);
        assert_eq!(
            set.features().column("recency_days").unwrap().to_vec(),
            [5.0, 50.0, 80.0]
        );
        assert_eq!(set.as_ofs().unwrap(), [day(100), day(200), day(200)]);
        assert!(matches!(
            labeler
                .training_set(&history(), &spec, &Snapshot::new(day(0)), &[])
                .unwrap_err()
                .kind(),
            ErrorKind::Empty(_)
        ));
    }

    #[test]
    fn training_rows_are_each_times_extracted_features_of_the_labelled() {
        let pop = crate::synth::PopulationConfig::default()
            .customers(400)
            .seed(3)
            .generate()
            .unwrap();
        let (history, _) = pop.history_builder().build().unwrap();
        let at = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
        let (spec, snapshot) = (FeatureSpec::all(), Snapshot::new(at(9)));
        let labeler = ChurnLabeler::new().lapsed_customers(LapsedCustomers::Exclude);
        let times = [at(3), at(6), at(3)];
        let set = labeler
            .training_set(&history, &spec, &snapshot, &times)
            .unwrap();
        let mut row = 0;
        for t in times {
            let table = spec.extract(&history, &snapshot.at(t)).unwrap();
            let labels = labeler.labels(&history, t).unwrap();
            for (id, &churned) in labels.ids().iter().zip(labels.churned()) {
                let i = table.ids().iter().position(|x| x == id).unwrap();
                assert_eq!(&set.features().ids()[row], id);
                assert_eq!(set.features().values().row(row), table.values().row(i));
                assert_eq!(set.labels()[row], churned);
                assert_eq!(set.as_ofs().unwrap()[row], t);
                row += 1;
            }
        }
        assert_eq!(row, set.features().nrows());
        assert_eq!(
            set.features().names(),
            spec.extract(&history, &snapshot).unwrap().names()
        );
        assert_eq!(set.features().as_of(), None);
        let one = labeler
            .training_set(&history, &spec, &snapshot, &[at(3), at(3)])
            .unwrap();
        assert_eq!(one.features().as_of(), Some(at(3)));
    }

    #[test]
    fn validates_parameters_and_weights() {
        assert!(ChurnLabeler::new().horizon_days(0).validate().is_err());
        let x =
            FeatureTable::new(vec![1u64.into()], vec!["a".into()], ndarray::array![[1.0]]).unwrap();
        assert!(TrainingSet::new(x.clone(), ndarray::array![true, false]).is_err());
        let set = TrainingSet::new(x, ndarray::array![true]).unwrap();
        assert!(set.clone().with_weights(ndarray::array![-1.0]).is_err());
        assert!(set.with_weights(ndarray::array![f64::NAN]).is_err());
    }

    mod subscriptions {
        use super::*;
        use crate::records::{
            BillingPeriod, Subscription, SubscriptionEvent, SubscriptionEventKind as K,
        };

        /// Every 30 days from day 0: period ends on days 30, 60, 90, 120, 150.
        fn sub(c: u64, id: &str, start: i64) -> Subscription {
            Subscription::new(c, id, "basic", day(start), BillingPeriod::Days(30), 9.0)
        }

        fn cancel(reason: ChurnReason) -> K {
            K::CancellationRequested { reason, note: None }
        }

        /// Labels at day 100 with a 20-day horizon: the window is (100, 120].
        fn history() -> History {
            let mut b = HistoryBuilder::new();
            for id in 1..=9u64 {
                b.push_customer(Customer::new(id, day(0)));
            }
            let manual = |c, id| sub(c, id, 0).with_auto_renew(false);
            b.extend([
                manual(1, "A"), // renewed on 30, 60, 90 and exactly at 120: retained
                manual(2, "A"), // renewed on 30, 60, 90, lapses exactly at 120: churned
                sub(3, "A", 0), // cancellation requested on day 95, ends at 120
                sub(4, "A", 0), // paused on day 90, still paused
                sub(5, "A", 0), // upgraded on day 110: A ended, B started the same day
                sub(5, "B", 110),
                sub(6, "A", 0),   // payment failed on 105, ended on 110
                sub(7, "A", 105), // starts after t: not labelled
                sub(8, "A", 0),   // ended on day 50: not labelled
                sub(9, "A", 0),   // ends on day 110 ...
                sub(9, "B", 20),  // ... but B runs on: retained
            ]);
            let e = |c: u64, id: &str, d: i64, k: K| SubscriptionEvent::new(c, id, day(d), k);
            for c in [1u64, 2] {
                for d in [30, 60, 90] {
                    b.push_subscription_event(e(c, "A", d, K::Renewal));
                }
            }
            b.extend([
                e(1, "A", 120, K::Renewal),
                e(3, "A", 95, cancel(ChurnReason::Competitor)),
                e(4, "A", 90, K::Pause),
                e(5, "A", 110, K::Ended),
                e(6, "A", 105, K::PaymentFailed),
                e(6, "A", 110, K::Ended),
                e(8, "A", 50, K::Ended),
                e(9, "A", 110, K::Ended),
                e(9, "B", 300, K::Renewal),
            ]);
            let (h, report) = b.build().unwrap();
            assert!(report.is_clean(), "{report}");
            h
        }

        fn labeler() -> ChurnLabeler {
            ChurnLabeler::new()
                .rule(LabelRule::SubscriptionEnd)
                .horizon_days(20)
        }

        #[test]
        fn subscription_end_rule_matches_hand_labels() {
            let l = labeler().labels(&history(), day(100)).unwrap();
            assert_eq!(
                labelled(&l),
                [
                    (1, false), // renewal exactly at t + h
                    (2, true),  // lapse exactly at t + h
                    (3, true),  // cancellation requested before t, ending inside the window
                    (4, false), // paused at t and at t + h: held
                    (5, false), // upgrade: a new subscription replaces the old one
                    (6, true),  // payment failure
                    (9, false), // one of two subscriptions ended
                ]
            );
            use ChurnKind::*;
            assert_eq!(
                l.kinds(),
                [
                    Retained,
                    Voluntary,
                    Voluntary,
                    Retained,
                    Retained,
                    Involuntary,
                    Retained
                ]
            );
            assert_eq!(
                l.reasons(),
                [
                    None,
                    None, // a plain lapse has no reason
                    Some(ChurnReason::Competitor),
                    None,
                    None,
                    Some(ChurnReason::PaymentFailed),
                    None
                ]
            );
        }

        #[test]
        fn involuntary_churn_can_be_left_out() {
            let l = labeler()
                .involuntary_churn(InvoluntaryChurn::Exclude)
                .labels(&history(), day(100))
                .unwrap();
            let ids: Vec<u64> = l.ids().iter().map(|i| i.as_u64().unwrap()).collect();
            assert_eq!(ids, [1, 2, 3, 4, 5, 9]);
            assert!(!l.kinds().contains(&ChurnKind::Involuntary));
        }

        #[test]
        fn subscription_level_labels_churn_replaced_subscriptions() {
            let l = labeler().subscription_labels(&history(), day(100)).unwrap();
            let rows: Vec<(u64, &str, bool)> = l
                .customer_ids()
                .iter()
                .zip(l.subscription_ids())
                .zip(l.churned())
                .map(|((c, s), &x)| (c.as_u64().unwrap(), s.as_str(), x))
                .collect();
            assert_eq!(
                rows,
                [
                    (1, "A", false),
                    (2, "A", true),
                    (3, "A", true),
                    (4, "A", false),
                    (5, "A", true), // replaced by B, which started after t
                    (6, "A", true),
                    (9, "A", true),
                    (9, "B", false),
                ]
            );
            assert_eq!(l.kinds()[5], ChurnKind::Involuntary);
            assert_eq!(l.len(), 8);
        }

        #[test]
        fn training_sets_carry_kinds_and_reasons() {
            let h = history();
            let set = labeler()
                .training_set(
                    &h,
                    &FeatureSpec::new(["tenure_days"]),
                    &Snapshot::new(day(100)),
                    &[day(100)],
                )
                .unwrap();
            let kinds = set.churn_kinds().unwrap();
            assert_eq!(kinds.len(), set.len());
            assert_eq!(kinds[5], ChurnKind::Involuntary);
            assert_eq!(
                set.churn_reasons().unwrap()[2],
                Some(ChurnReason::Competitor)
            );
            let sub = set.subset(&[5, 2]).unwrap();
            assert_eq!(
                sub.churn_kinds().unwrap(),
                [ChurnKind::Involuntary, ChurnKind::Voluntary]
            );
            assert_eq!(
                sub.churn_reasons().unwrap()[0],
                Some(ChurnReason::PaymentFailed)
            );
            // Other rules: churn is voluntary, without reasons.
            let set = ChurnLabeler::new()
                .horizon_days(20)
                .training_set(
                    &h,
                    &FeatureSpec::new(["tenure_days"]),
                    &Snapshot::new(day(100)),
                    &[day(100)],
                )
                .unwrap();
            assert!(
                set.churn_kinds()
                    .unwrap()
                    .iter()
                    .all(|k| *k == ChurnKind::Voluntary)
            );
            assert!(set.churn_reasons().unwrap().iter().all(Option::is_none));
        }

        #[test]
        fn observation_ends_with_the_last_subscription_event() {
            // The last event is the renewal on day 300.
            assert!(labeler().labels(&history(), day(280)).is_ok());
            let err = labeler().labels(&history(), day(281)).unwrap_err();
            assert!(matches!(err.kind(), ErrorKind::Censored { .. }), "{err}");
        }

        #[test]
        fn held_customers_agree_with_the_segment_definition() {
            use crate::segment::{ChurnDefinition, ChurnStatus};
            let h = history();
            for view in h.customers() {
                for d in (0..200).step_by(5) {
                    let t = to_micros(day(d));
                    let held = view
                        .subscriptions()
                        .iter()
                        .any(|s| contract::running_at(&s, t));
                    let status = ChurnDefinition::SubscriptionEnded
                        .status(view, day(d))
                        .unwrap();
                    assert_eq!(
                        held,
                        status == ChurnStatus::Active,
                        "customer {} day {d}",
                        view.id()
                    );
                }
            }
        }
    }
}
