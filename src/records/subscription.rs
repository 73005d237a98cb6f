//! Subscription records: contracts with a billing period, and their dated events.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Days, Months, Utc};
use serde::{Deserialize, Serialize};

use super::CustomerId;
use crate::{Error, Result};

/// How often a subscription is billed: every calendar month, every calendar
/// year, or every `n` days.
///
/// Serialized as `"monthly"`, `"yearly"` or `{"days": n}`; parsed from and
/// displayed as `monthly`, `yearly` or `30d` (parsing also accepts `30 days`,
/// `1 day`, `month`, `annual`, `year` and `annually`, case-insensitive).
///
/// # Example
///
/// ```
/// use churnwise::records::BillingPeriod;
///
/// let p: BillingPeriod = "30 days".parse()?;
/// assert_eq!(p, BillingPeriod::Days(30));
/// assert_eq!(p.to_string(), "30d");
/// assert_eq!(serde_json::to_string(&BillingPeriod::Yearly).unwrap(), r#""yearly""#);
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"days":30}"#);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BillingPeriod {
    /// Every calendar month, on the start's day of month (clamped to the
    /// month's last day: a subscription started on Jan 31 renews on Feb 29,
    /// then Mar 31).
    Monthly,
    /// Every calendar year (Feb 29 is clamped to Feb 28 in other years).
    Yearly,
    /// Every `n` days (of 24 hours, UTC). `n` must be at least 1.
    Days(u32),
}

/// Average days in a month, the Gregorian year's 365.25 days over 12.
const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

impl BillingPeriod {
    /// The factor that turns a price per period into monthly recurring
    /// revenue (MRR): 1 for monthly, 1/12 for yearly, and
    /// (365.25 / 12) / n for `n` days.
    ///
    /// # Formula
    ///
    /// ```text
    /// MRR = price per period × monthly_factor
    /// monthly = 1, yearly = 1/12, n days = (365.25 / 12) / n
    /// ```
    ///
    /// `Days(0)` gives infinity (the builder rejects such subscriptions).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::BillingPeriod;
    ///
    /// assert_eq!(120.0 * BillingPeriod::Yearly.monthly_factor(), 10.0);
    /// assert_eq!(BillingPeriod::Monthly.monthly_factor(), 1.0);
    /// let weekly = BillingPeriod::Days(7).monthly_factor();
    /// assert!((weekly - 30.4375 / 7.0).abs() < 1e-12);
    /// ```
    pub fn monthly_factor(&self) -> f64 {
        match self {
            BillingPeriod::Monthly => 1.0,
            BillingPeriod::Yearly => 1.0 / 12.0,
            BillingPeriod::Days(n) => DAYS_PER_MONTH / f64::from(*n),
        }
    }

    /// The end of the period that starts at `from`: one calendar month or year
    /// later with end-of-month clamping (like chrono's `checked_add_months`),
    /// or `n` days later. Saturates at chrono's largest time.
    ///
    /// Successive periods of a subscription are computed from its start
    /// (`k` periods after the start), not by advancing clamped dates
    /// again, so Jan 31 → Feb 29 → Mar 31.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::BillingPeriod;
    ///
    /// let jan31 = Utc.with_ymd_and_hms(2024, 1, 31, 9, 0, 0).unwrap();
    /// let feb29 = Utc.with_ymd_and_hms(2024, 2, 29, 9, 0, 0).unwrap();
    /// assert_eq!(BillingPeriod::Monthly.advance(jan31), feb29);
    /// assert_eq!(BillingPeriod::Days(30).advance(jan31), Utc.with_ymd_and_hms(2024, 3, 1, 9, 0, 0).unwrap());
    /// assert_eq!(BillingPeriod::Yearly.advance(feb29), Utc.with_ymd_and_hms(2025, 2, 28, 9, 0, 0).unwrap());
    /// ```
    pub fn advance(&self, from: DateTime<Utc>) -> DateTime<Utc> {
        self.shift(from, 1).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// `from` moved by `k` whole periods (negative: back), `None` on overflow.
    pub(crate) fn shift(&self, from: DateTime<Utc>, k: i64) -> Option<DateTime<Utc>> {
        let months = |m: i64| -> Option<DateTime<Utc>> {
            let n = u32::try_from(m.unsigned_abs()).ok()?;
            if m >= 0 {
                from.checked_add_months(Months::new(n))
            } else {
                from.checked_sub_months(Months::new(n))
            }
        };
        match self {
            BillingPeriod::Monthly => months(k),
            BillingPeriod::Yearly => months(k.checked_mul(12)?),
            BillingPeriod::Days(n) => {
                let d = k.checked_mul(i64::from(*n))?;
                if d >= 0 {
                    from.checked_add_days(Days::new(d.unsigned_abs()))
                } else {
                    from.checked_sub_days(Days::new(d.unsigned_abs()))
                }
            }
        }
    }

    /// The average length of a period in days (for estimates only).
    pub(crate) fn approx_days(&self) -> f64 {
        match self {
            BillingPeriod::Monthly => DAYS_PER_MONTH,
            BillingPeriod::Yearly => 365.25,
            BillingPeriod::Days(n) => f64::from(*n),
        }
    }
}

impl fmt::Display for BillingPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BillingPeriod::Monthly => f.write_str("monthly"),
            BillingPeriod::Yearly => f.write_str("yearly"),
            BillingPeriod::Days(n) => write!(f, "{n}d"),
        }
    }
}

impl FromStr for BillingPeriod {
    type Err = Error;

    /// Parses `monthly`, `yearly`, `30d` or `30 days` (see [`BillingPeriod`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `period` for anything else, including `0d`.
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "monthly" | "month" | "1 month" | "1m" => return Ok(BillingPeriod::Monthly),
            "yearly" | "year" | "annual" | "annually" | "1 year" | "1y" => {
                return Ok(BillingPeriod::Yearly);
            }
            _ => {}
        }
        let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == ' ');
        let unit = t[digits.len()..].trim();
        let n = digits.trim().parse::<u32>().ok().filter(|n| *n > 0);
        match (n, unit) {
            (Some(n), "d" | "day" | "days") => Ok(BillingPeriod::Days(n)),
            _ => Err(Error::invalid_parameter(
                "period",
                format!(
                    "expected monthly, yearly or a number of days such as 30d, got {:?}",
                    crate::util::quote_truncated(s)
                ),
            )),
        }
    }
}

/// Why a customer left: the taxonomy of churn reasons, extensible with
/// [`ChurnReason::Custom`].
///
/// The built-in reasons are the ones the churn-management practice names
/// when it studies why customers leave (summarised in the project's domain
/// notes): dissatisfaction with the product or its quality, price, a
/// competitor's offer, poor service or slow support, changed needs, moving
/// away or closing down, and involuntary churn when a payment fails. Anything
/// else is `Other`, or a business's own reason as `Custom`.
///
/// Each reason has a snake_case [`label`](Self::label) (also its serde and
/// `Display` form). Parsing is case-insensitive, accepts the labels with
/// spaces or hyphens instead of underscores and these aliases:
///
/// | text | reason |
/// |---|---|
/// | `quality`, `product` | `ProductQuality` |
/// | `too expensive`, `expensive`, `pricing`, `cost` | `Price` |
/// | `competition`, `competitor offer`, `switched` | `Competitor` |
/// | `service`, `support`, `slow support`, `bad service` | `PoorService` |
/// | `no longer needed`, `not needed` | `NeedsChanged` |
/// | `moved`, `closed`, `relocated` | `MovedOrClosed` |
/// | `payment`, `involuntary`, `card declined` | `PaymentFailed` |
/// | empty text | `Other` |
///
/// Any other text becomes `Custom` with the trimmed text as given.
///
/// # Example
///
/// ```
/// use churnwise::records::ChurnReason;
///
/// let r: ChurnReason = "Too expensive".parse()?;
/// assert_eq!(r, ChurnReason::Price);
/// assert_eq!(r.label(), "price");
/// let own: ChurnReason = "merged with parent company".parse()?;
/// assert_eq!(own.label(), "merged with parent company");
/// assert!(ChurnReason::PaymentFailed.is_involuntary());
/// assert_eq!(serde_json::to_string(&ChurnReason::PoorService).unwrap(), r#""poor_service""#);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
#[non_exhaustive]
pub enum ChurnReason {
    /// The product or its quality disappointed.
    ProductQuality,
    /// Too expensive.
    Price,
    /// A competitor's offer.
    Competitor,
    /// Poor service or slow support.
    PoorService,
    /// The customer's needs changed.
    NeedsChanged,
    /// The customer moved away or closed down.
    MovedOrClosed,
    /// A payment failed (involuntary churn).
    PaymentFailed,
    /// Any other reason, or none given.
    Other,
    /// A business's own reason, by its text.
    Custom(Arc<str>),
}

impl ChurnReason {
    /// The built-in reasons, in declaration order.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::ChurnReason;
    ///
    /// assert_eq!(ChurnReason::BUILT_IN.len(), 8);
    /// assert_eq!(ChurnReason::BUILT_IN[0].label(), "product_quality");
    /// ```
    pub const BUILT_IN: [ChurnReason; 8] = [
        ChurnReason::ProductQuality,
        ChurnReason::Price,
        ChurnReason::Competitor,
        ChurnReason::PoorService,
        ChurnReason::NeedsChanged,
        ChurnReason::MovedOrClosed,
        ChurnReason::PaymentFailed,
        ChurnReason::Other,
    ];

    /// The snake_case label (`product_quality`, `price`, `competitor`,
    /// `poor_service`, `needs_changed`, `moved_or_closed`, `payment_failed`,
    /// `other`), or a custom reason's own text.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::ChurnReason;
    ///
    /// assert_eq!(ChurnReason::MovedOrClosed.label(), "moved_or_closed");
    /// assert_eq!(ChurnReason::Custom("visa expired".into()).label(), "visa expired");
    /// ```
    pub fn label(&self) -> &str {
        match self {
            ChurnReason::ProductQuality => "product_quality",
            ChurnReason::Price => "price",
            ChurnReason::Competitor => "competitor",
            ChurnReason::PoorService => "poor_service",
            ChurnReason::NeedsChanged => "needs_changed",
            ChurnReason::MovedOrClosed => "moved_or_closed",
            ChurnReason::PaymentFailed => "payment_failed",
            ChurnReason::Other => "other",
            ChurnReason::Custom(s) => s,
        }
    }

    /// Whether the customer left without choosing to (a failed payment).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::ChurnReason;
    ///
    /// assert!(ChurnReason::PaymentFailed.is_involuntary());
    /// assert!(!ChurnReason::Price.is_involuntary());
    /// ```
    pub fn is_involuntary(&self) -> bool {
        matches!(self, ChurnReason::PaymentFailed)
    }

    /// The position in [`BUILT_IN`](Self::BUILT_IN), `None` for custom reasons.
    pub(crate) fn built_in_code(&self) -> Option<u32> {
        ChurnReason::BUILT_IN
            .iter()
            .position(|r| r == self)
            .map(|p| p as u32)
    }

    /// Parses text (infallible: unknown text is a custom reason).
    fn parse(s: &str) -> ChurnReason {
        let trimmed = s.trim();
        let norm: String = trimmed
            .chars()
            .map(|c| match c {
                ' ' | '-' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        match norm.as_str() {
            "product_quality" | "quality" | "product" => ChurnReason::ProductQuality,
            "price" | "too_expensive" | "expensive" | "pricing" | "cost" => ChurnReason::Price,
            "competitor" | "competition" | "competitor_offer" | "switched" => {
                ChurnReason::Competitor
            }
            "poor_service" | "service" | "support" | "slow_support" | "bad_service" => {
                ChurnReason::PoorService
            }
            "needs_changed" | "no_longer_needed" | "not_needed" => ChurnReason::NeedsChanged,
            "moved_or_closed" | "moved" | "closed" | "relocated" => ChurnReason::MovedOrClosed,
            "payment_failed" | "payment" | "involuntary" | "card_declined" => {
                ChurnReason::PaymentFailed
            }
            "other" | "" => ChurnReason::Other,
            _ => ChurnReason::Custom(Arc::from(trimmed)),
        }
    }
}

impl FromStr for ChurnReason {
    type Err = Error;

    /// Parses a label or alias (see [`ChurnReason`]); never fails: unknown
    /// text is [`ChurnReason::Custom`].
    fn from_str(s: &str) -> Result<Self> {
        Ok(ChurnReason::parse(s))
    }
}

impl From<String> for ChurnReason {
    fn from(s: String) -> Self {
        ChurnReason::parse(&s)
    }
}

impl From<ChurnReason> for String {
    fn from(r: ChurnReason) -> Self {
        r.label().to_owned()
    }
}

impl fmt::Display for ChurnReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A subscription (contract): who, which plan, since when, billed how often and at what price.
///
/// Its life after the start is a series of [`SubscriptionEvent`]s
/// (renewals, plan changes, pauses, payment failures, cancellation, end)
/// that name it by `customer` and `id`. Build it with
/// [`Subscription::new`] and the `with_*` methods.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::records::{BillingPeriod, Subscription};
///
/// let start = Utc.with_ymd_and_hms(2024, 1, 15, 0, 0, 0).unwrap();
/// let s = Subscription::new("C-1", "S-1", "pro", start, BillingPeriod::Yearly, 240.0)
///     .with_auto_renew(false);
/// assert_eq!(s.price * s.period.monthly_factor(), 20.0); // MRR
/// assert!(!s.auto_renew);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Subscription {
    /// The subscribing customer.
    pub customer: CustomerId,
    /// The subscription id, unique per customer.
    pub id: String,
    /// The plan subscribed to.
    pub plan: String,
    /// When the subscription started (its first period starts here).
    pub start: DateTime<Utc>,
    /// How often it is billed.
    pub period: BillingPeriod,
    /// Price per billing period at the start; finite and ≥ 0.
    pub price: f64,
    /// Whether it renews automatically at each period end. Defaults to `true`.
    #[serde(default = "yes")]
    pub auto_renew: bool,
    /// The end of the current billing period as the source system states
    /// it; when present, period ends are counted from it instead of from
    /// the start (a billing anchor; see
    /// [`SubscriptionView::next_period_end_after`](super::SubscriptionView::next_period_end_after)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_period_end: Option<DateTime<Utc>>,
}

fn yes() -> bool {
    true
}

impl Subscription {
    /// An auto-renewing subscription without a stated current period end.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{BillingPeriod, Subscription};
    ///
    /// let start = Utc.with_ymd_and_hms(2024, 1, 15, 0, 0, 0).unwrap();
    /// let s = Subscription::new(7u64, "S-1", "basic", start, BillingPeriod::Monthly, 9.0);
    /// assert!(s.auto_renew && s.current_period_end.is_none());
    /// ```
    pub fn new(
        customer: impl Into<CustomerId>,
        id: impl Into<String>,
        plan: impl Into<String>,
        start: DateTime<Utc>,
        period: BillingPeriod,
        price: f64,
    ) -> Self {
        Subscription {
            customer: customer.into(),
            id: id.into(),
            plan: plan.into(),
            start,
            period,
            price,
            auto_renew: true,
            current_period_end: None,
        }
    }

    /// Sets whether it renews automatically.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::{BillingPeriod, Subscription};
    /// # let start = Utc.with_ymd_and_hms(2024, 1, 15, 0, 0, 0).unwrap();
    /// let s = Subscription::new(7u64, "S-1", "basic", start, BillingPeriod::Monthly, 9.0).with_auto_renew(false);
    /// assert!(!s.auto_renew);
    /// ```
    pub fn with_auto_renew(mut self, auto_renew: bool) -> Self {
        self.auto_renew = auto_renew;
        self
    }

    /// Sets the end of the current billing period (the billing anchor).
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::{BillingPeriod, Subscription};
    /// # let start = Utc.with_ymd_and_hms(2024, 1, 15, 0, 0, 0).unwrap();
    /// let end = Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap();
    /// let s = Subscription::new(7u64, "S-1", "basic", start, BillingPeriod::Monthly, 9.0)
    ///     .with_current_period_end(end);
    /// assert_eq!(s.current_period_end, Some(end));
    /// ```
    pub fn with_current_period_end(mut self, end: DateTime<Utc>) -> Self {
        self.current_period_end = Some(end);
        self
    }
}

/// What happened to a subscription.
///
/// Serialized with a `type` tag, like
/// `{"type":"upgrade","price":49.0,"plan":"pro"}` or
/// `{"type":"cancellation_requested","reason":"price"}`.
///
/// # Example
///
/// ```
/// use churnwise::records::{ChurnReason, SubscriptionEventKind};
///
/// let k: SubscriptionEventKind =
///     serde_json::from_str(r#"{"type":"cancellation_requested","reason":"too expensive"}"#)?;
/// assert_eq!(k, SubscriptionEventKind::CancellationRequested { reason: ChurnReason::Price, note: None });
/// assert_eq!(k.label(), "cancellation_requested");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SubscriptionEventKind {
    /// The subscription renewed for another period (paid).
    Renewal,
    /// Moved to a more expensive price (and maybe plan).
    Upgrade {
        /// The new price per period; finite and ≥ 0.
        price: f64,
        /// The new plan, if it changed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan: Option<String>,
    },
    /// Moved to a cheaper price (and maybe plan).
    Downgrade {
        /// The new price per period; finite and ≥ 0.
        price: f64,
        /// The new plan, if it changed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan: Option<String>,
    },
    /// The subscription was paused (no revenue until resumed).
    Pause,
    /// A paused subscription resumed.
    Resume,
    /// A payment attempt failed.
    PaymentFailed,
    /// The customer asked to cancel; the subscription runs to the end of the paid period.
    CancellationRequested {
        /// Why.
        #[serde(default = "other_reason")]
        reason: ChurnReason,
        /// Free text, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The subscription ended.
    Ended,
}

fn other_reason() -> ChurnReason {
    ChurnReason::Other
}

impl SubscriptionEventKind {
    /// The labels of the kinds, indexed by [`code`](Self::code).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::SubscriptionEventKind;
    ///
    /// assert_eq!(SubscriptionEventKind::LABELS[SubscriptionEventKind::Ended.code() as usize], "ended");
    /// ```
    pub const LABELS: [&'static str; 8] = [
        "renewal",
        "upgrade",
        "downgrade",
        "pause",
        "resume",
        "payment_failed",
        "cancellation_requested",
        "ended",
    ];

    /// A stable number per kind, 0–7 in declaration order (events at the
    /// same time are applied in this order: a renewal before an end).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::SubscriptionEventKind;
    ///
    /// assert_eq!(SubscriptionEventKind::Renewal.code(), 0);
    /// assert_eq!(SubscriptionEventKind::Ended.code(), 7);
    /// ```
    pub fn code(&self) -> u8 {
        match self {
            SubscriptionEventKind::Renewal => code::RENEWAL,
            SubscriptionEventKind::Upgrade { .. } => code::UPGRADE,
            SubscriptionEventKind::Downgrade { .. } => code::DOWNGRADE,
            SubscriptionEventKind::Pause => code::PAUSE,
            SubscriptionEventKind::Resume => code::RESUME,
            SubscriptionEventKind::PaymentFailed => code::PAYMENT_FAILED,
            SubscriptionEventKind::CancellationRequested { .. } => code::CANCELLATION_REQUESTED,
            SubscriptionEventKind::Ended => code::ENDED,
        }
    }

    /// The snake_case label (`renewal`, `upgrade`, `downgrade`, `pause`,
    /// `resume`, `payment_failed`, `cancellation_requested`, `ended`), as in
    /// serde and CSV input.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::SubscriptionEventKind;
    ///
    /// assert_eq!(SubscriptionEventKind::PaymentFailed.label(), "payment_failed");
    /// ```
    pub fn label(&self) -> &'static str {
        Self::LABELS[self.code() as usize]
    }
}

/// One dated event in a subscription's life.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::records::{ChurnReason, SubscriptionEvent, SubscriptionEventKind};
///
/// let t = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
/// let e = SubscriptionEvent::new("C-1", "S-1", t, SubscriptionEventKind::CancellationRequested {
///     reason: ChurnReason::Competitor,
///     note: Some("cheaper elsewhere".into()),
/// });
/// assert_eq!(e.kind.label(), "cancellation_requested");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionEvent {
    /// The customer.
    pub customer: CustomerId,
    /// The subscription's id (unique per customer).
    pub subscription: String,
    /// When it happened.
    pub time: DateTime<Utc>,
    /// What happened.
    pub kind: SubscriptionEventKind,
}

impl SubscriptionEvent {
    /// An event of the customer's subscription `subscription`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{SubscriptionEvent, SubscriptionEventKind};
    ///
    /// let t = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
    /// let e = SubscriptionEvent::new(7u64, "S-1", t, SubscriptionEventKind::Renewal);
    /// assert_eq!(e.subscription, "S-1");
    /// ```
    pub fn new(
        customer: impl Into<CustomerId>,
        subscription: impl Into<String>,
        time: DateTime<Utc>,
        kind: SubscriptionEventKind,
    ) -> Self {
        SubscriptionEvent {
            customer: customer.into(),
            subscription: subscription.into(),
            time,
            kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn period_parses_and_displays() {
        for (text, p) in [
            ("monthly", BillingPeriod::Monthly),
            (" Yearly ", BillingPeriod::Yearly),
            ("annual", BillingPeriod::Yearly),
            ("30d", BillingPeriod::Days(30)),
            ("30 days", BillingPeriod::Days(30)),
            ("1 day", BillingPeriod::Days(1)),
            ("7D", BillingPeriod::Days(7)),
        ] {
            assert_eq!(text.parse::<BillingPeriod>().unwrap(), p, "{text}");
            assert_eq!(p.to_string().parse::<BillingPeriod>().unwrap(), p);
        }
        for bad in ["", "0d", "weekly", "-3d", "3 weeks", "d"] {
            assert!(bad.parse::<BillingPeriod>().is_err(), "{bad}");
        }
    }

    #[test]
    fn period_serde_forms() {
        let json = serde_json::to_string(&[
            BillingPeriod::Monthly,
            BillingPeriod::Yearly,
            BillingPeriod::Days(14),
        ])
        .unwrap();
        assert_eq!(json, r#"["monthly","yearly",{"days":14}]"#);
        let back: Vec<BillingPeriod> = serde_json::from_str(&json).unwrap();
        assert_eq!(back[2], BillingPeriod::Days(14));
    }

    #[test]
    fn monthly_advance_clamps_and_shift_counts_from_the_anchor() {
        let jan31 = Utc.with_ymd_and_hms(2023, 1, 31, 0, 0, 0).unwrap();
        let p = BillingPeriod::Monthly;
        assert_eq!(
            p.advance(jan31),
            Utc.with_ymd_and_hms(2023, 2, 28, 0, 0, 0).unwrap()
        );
        assert_eq!(
            p.shift(jan31, 2).unwrap(),
            Utc.with_ymd_and_hms(2023, 3, 31, 0, 0, 0).unwrap()
        );
        assert_eq!(
            p.shift(jan31, -2).unwrap(),
            Utc.with_ymd_and_hms(2022, 11, 30, 0, 0, 0).unwrap()
        );
        assert_eq!(
            BillingPeriod::Days(10).shift(jan31, -1).unwrap(),
            Utc.with_ymd_and_hms(2023, 1, 21, 0, 0, 0).unwrap()
        );
        assert_eq!(
            BillingPeriod::Yearly.advance(DateTime::<Utc>::MAX_UTC),
            DateTime::<Utc>::MAX_UTC
        );
    }

    #[test]
    fn monthly_factors() {
        assert_eq!(BillingPeriod::Yearly.monthly_factor() * 12.0, 1.0);
        assert!((BillingPeriod::Days(30).monthly_factor() - 30.4375 / 30.0).abs() < 1e-15);
    }

    #[test]
    fn reasons_parse_labels_aliases_and_custom() {
        for r in ChurnReason::BUILT_IN {
            assert_eq!(r.label().parse::<ChurnReason>().unwrap(), r);
            assert_eq!(r.label().to_uppercase().parse::<ChurnReason>().unwrap(), r);
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<ChurnReason>(&json).unwrap(), r);
        }
        let cases = [
            ("Too Expensive", ChurnReason::Price),
            ("service", ChurnReason::PoorService),
            ("moved-or-closed", ChurnReason::MovedOrClosed),
            ("card declined", ChurnReason::PaymentFailed),
            ("", ChurnReason::Other),
        ];
        for (text, r) in cases {
            assert_eq!(text.parse::<ChurnReason>().unwrap(), r, "{text}");
        }
        let c: ChurnReason = "  Visa Expired ".parse().unwrap();
        assert_eq!(c, ChurnReason::Custom("Visa Expired".into()));
        assert_eq!(c.to_string(), "Visa Expired");
        assert_eq!(c.built_in_code(), None);
        assert_eq!(ChurnReason::Other.built_in_code(), Some(7));
    }

    #[test]
    fn event_kind_codes_match_labels_and_serde() {
        let kinds = [
            SubscriptionEventKind::Renewal,
            SubscriptionEventKind::Upgrade {
                price: 2.0,
                plan: Some("pro".into()),
            },
            SubscriptionEventKind::Downgrade {
                price: 1.0,
                plan: None,
            },
            SubscriptionEventKind::Pause,
            SubscriptionEventKind::Resume,
            SubscriptionEventKind::PaymentFailed,
            SubscriptionEventKind::CancellationRequested {
                reason: ChurnReason::Custom("x".into()),
                note: Some("n".into()),
            },
            SubscriptionEventKind::Ended,
        ];
        for (i, k) in kinds.iter().enumerate() {
            assert_eq!(k.code() as usize, i);
            let json = serde_json::to_string(k).unwrap();
            assert!(
                json.contains(&format!(r#""type":"{}""#, k.label())),
                "{json}"
            );
            assert_eq!(
                &serde_json::from_str::<SubscriptionEventKind>(&json).unwrap(),
                k
            );
        }
    }
}

/// The stored kind codes of subscription events
/// ([`SubscriptionEventKind::code`]), named for the columnar readers.
pub(crate) mod code {
    pub(crate) const RENEWAL: u8 = 0;
    pub(crate) const UPGRADE: u8 = 1;
    pub(crate) const DOWNGRADE: u8 = 2;
    pub(crate) const PAUSE: u8 = 3;
    pub(crate) const RESUME: u8 = 4;
    pub(crate) const PAYMENT_FAILED: u8 = 5;
    pub(crate) const CANCELLATION_REQUESTED: u8 = 6;
    pub(crate) const ENDED: u8 = 7;
}
