//! The data-quality report: every record dropped or repaired while building a [`History`](super::History).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::CustomerId;

/// Which input collection a record came from.
///
/// # Example
///
/// ```
/// use churnwise::records::RecordKind;
///
/// assert_eq!(RecordKind::Order.to_string(), "order");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecordKind {
    /// A [`Customer`](super::Customer).
    Customer,
    /// An [`Order`](super::Order).
    Order,
    /// An [`Interaction`](super::Interaction).
    Interaction,
    /// A [`Feedback`](super::Feedback).
    Feedback,
    /// A [`Subscription`](super::Subscription).
    Subscription,
    /// A [`SubscriptionEvent`](super::SubscriptionEvent).
    SubscriptionEvent,
}

impl RecordKind {
    /// Every kind, in report order.
    pub(crate) const ALL: [RecordKind; 6] = [
        RecordKind::Customer,
        RecordKind::Order,
        RecordKind::Interaction,
        RecordKind::Feedback,
        RecordKind::Subscription,
        RecordKind::SubscriptionEvent,
    ];
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordKind::Customer => "customer",
            RecordKind::Order => "order",
            RecordKind::Interaction => "interaction",
            RecordKind::Feedback => "feedback",
            RecordKind::Subscription => "subscription",
            RecordKind::SubscriptionEvent => "subscription event",
        })
    }
}

/// Where a record came from: its kind, its 0-based position among all input
/// records of that kind (in the order they were pushed or read), and, for CSV
/// input, the file and 1-based line.
///
/// # Example
///
/// ```
/// use churnwise::records::{RecordKind, RecordRef};
///
/// let r = RecordRef::new(RecordKind::Order, 17);
/// assert_eq!(r.to_string(), "order 17");
/// assert_eq!(r.line(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordRef {
    kind: RecordKind,
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
}

impl RecordRef {
    /// A reference to the `index`-th input record of `kind`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{RecordKind, RecordRef};
    ///
    /// let r = RecordRef::new(RecordKind::Feedback, 3);
    /// assert_eq!((r.kind(), r.index()), (RecordKind::Feedback, 3));
    /// ```
    pub fn new(kind: RecordKind, index: usize) -> Self {
        RecordRef {
            kind,
            index,
            source: None,
            line: None,
        }
    }

    pub(crate) fn with_line(mut self, source: Arc<str>, line: u64) -> Self {
        self.source = Some(source);
        self.line = Some(line);
        self
    }

    /// The record's kind.
    pub fn kind(&self) -> RecordKind {
        self.kind
    }

    /// The record's 0-based position among all input records of its kind.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The file (or source name) it was read from, for CSV input.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// The 1-based line in its file, for CSV input (the header is line 1).
    pub fn line(&self) -> Option<u64> {
        self.line
    }
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.index)?;
        match (&self.source, self.line) {
            (Some(s), Some(l)) => write!(f, " ({s} line {l})"),
            (None, Some(l)) => write!(f, " (line {l})"),
            _ => Ok(()),
        }
    }
}

/// What was wrong with a record.
///
/// # Example
///
/// ```
/// use churnwise::records::Problem;
///
/// let p = Problem::NonFinite { value: f64::NAN };
/// assert_eq!(p.name(), "non_finite");
/// assert_eq!(p.to_string(), "value is not finite (NaN)");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Problem {
    /// A number is NaN or infinite.
    NonFinite {
        /// The value found.
        value: f64,
    },
    /// An amount's magnitude exceeds the configured limit
    /// ([`HistoryBuilder::max_abs_amount`](super::HistoryBuilder::max_abs_amount)).
    AbsurdAmount {
        /// The value found.
        value: f64,
        /// The configured limit.
        limit: f64,
    },
    /// A value is negative where only non-negative values make sense (e.g. a response time).
    Negative {
        /// The value found.
        value: f64,
    },
    /// A time lies outside the accepted range
    /// ([`HistoryBuilder::time_range`](super::HistoryBuilder::time_range)).
    TimeOutOfRange {
        /// The time found.
        time: DateTime<Utc>,
    },
    /// The record repeats an earlier one exactly.
    Duplicate {
        /// The index of the record that was kept.
        kept: usize,
    },
    /// A customer id or order id appears twice with different contents.
    Conflict {
        /// The index of the record that was kept.
        kept: usize,
    },
    /// An event names a customer that is not in the customer list.
    UnknownCustomer {
        /// The unknown id.
        customer: CustomerId,
    },
    /// An event happened before its customer's signup.
    BeforeSignup {
        /// The event's time.
        time: DateTime<Utc>,
        /// The customer's signup time.
        signup: DateTime<Utc>,
    },
    /// A score lies outside its stated scale or range.
    OutOfScale {
        /// The value found.
        value: f64,
        /// The lowest valid value.
        min: f64,
        /// The highest valid value.
        max: f64,
    },
    /// A required field is empty.
    Missing,
    /// The row could not be parsed (wrong number of fields, unparsable number or date).
    Malformed {
        /// What the parser said.
        message: String,
    },
    /// A subscription event names a subscription that is not in the history
    /// (never pushed, or dropped itself).
    UnknownSubscription {
        /// The customer.
        customer: CustomerId,
        /// The subscription id.
        subscription: String,
    },
    /// A billing period of zero days.
    ZeroPeriod,
    /// A subscription event happened before its subscription's start.
    BeforeStart {
        /// The event's time.
        time: DateTime<Utc>,
        /// The subscription's start.
        start: DateTime<Utc>,
    },
    /// A subscription's stated current period end is before its start.
    EndBeforeStart {
        /// The stated end.
        end: DateTime<Utc>,
        /// The start.
        start: DateTime<Utc>,
    },
    /// A subscription event after the subscription's `Ended` event (a
    /// renewal, cancellation or anything else of an ended subscription).
    AfterEnd {
        /// The event's kind label (`renewal`, `cancellation_requested`, ...).
        event: &'static str,
        /// The event's time.
        time: DateTime<Utc>,
        /// When the subscription ended.
        ended: DateTime<Utc>,
    },
    /// A renewal less than half a billing period after the previous renewal
    /// of the same subscription: the two paid periods would overlap.
    OverlappingRenewal {
        /// The renewal's time.
        time: DateTime<Utc>,
        /// The previous renewal's time.
        previous: DateTime<Utc>,
    },
    /// A customer record merged by the identities into a customer with
    /// other records: folded into it ([`Action::Merged`]), or, for the
    /// record whose signup was kept, renamed to the canonical id
    /// ([`Action::Repaired`], field `id`).
    MergedCustomer {
        /// The id as given.
        source: CustomerId,
        /// The customer it became.
        canonical: CustomerId,
    },
    /// A customer record folded into another whose signup is earlier (the
    /// earliest is kept); reported with [`Action::Merged`] next to its
    /// [`Problem::MergedCustomer`].
    SignupConflict {
        /// The signup kept (the earliest of the merged records).
        kept: DateTime<Utc>,
        /// This record's signup, not kept.
        dropped: DateTime<Utc>,
    },
    /// A plan that is not among the declared plans
    /// ([`HistoryBuilder::plans`](super::HistoryBuilder::plans)).
    UnknownPlan {
        /// The plan found.
        plan: String,
    },
}

impl Problem {
    /// A stable snake_case name for counting and filtering.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::Problem;
    ///
    /// assert_eq!(Problem::Missing.name(), "missing");
    /// assert_eq!(Problem::Negative { value: -1.0 }.name(), "negative");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Problem::NonFinite { .. } => "non_finite",
            Problem::AbsurdAmount { .. } => "absurd_amount",
            Problem::Negative { .. } => "negative",
            Problem::TimeOutOfRange { .. } => "time_out_of_range",
            Problem::Duplicate { .. } => "duplicate",
            Problem::Conflict { .. } => "conflict",
            Problem::UnknownCustomer { .. } => "unknown_customer",
            Problem::BeforeSignup { .. } => "before_signup",
            Problem::OutOfScale { .. } => "out_of_scale",
            Problem::Missing => "missing",
            Problem::Malformed { .. } => "malformed",
            Problem::UnknownSubscription { .. } => "unknown_subscription",
            Problem::ZeroPeriod => "zero_period",
            Problem::BeforeStart { .. } => "before_start",
            Problem::EndBeforeStart { .. } => "end_before_start",
            Problem::AfterEnd { .. } => "after_end",
            Problem::OverlappingRenewal { .. } => "overlapping_renewal",
            Problem::UnknownPlan { .. } => "unknown_plan",
            Problem::MergedCustomer { .. } => "merged_customer",
            Problem::SignupConflict { .. } => "signup_conflict",
        }
    }
}

use crate::util::Readable;

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NonFinite { value } => write!(f, "value is not finite ({value})"),
            Problem::AbsurdAmount { value, limit } => {
                let (value, limit) = (Readable(*value), Readable(*limit));
                write!(f, "amount {value} exceeds the limit of ±{limit}")
            }
            Problem::Negative { value } => write!(f, "value {} is negative", Readable(*value)),
            Problem::TimeOutOfRange { time } => {
                write!(
                    f,
                    "time {} is outside the accepted range",
                    time.to_rfc3339()
                )
            }
            Problem::Duplicate { kept } => write!(f, "exact duplicate of record {kept}"),
            Problem::Conflict { kept } => {
                write!(f, "same id as record {kept} but different contents")
            }
            Problem::UnknownCustomer { customer } => write!(f, "unknown customer {customer}"),
            Problem::BeforeSignup { time, signup } => write!(
                f,
                "event at {} is before signup at {}",
                time.to_rfc3339(),
                signup.to_rfc3339()
            ),
            Problem::OutOfScale { value, min, max } => {
                let (value, min, max) = (Readable(*value), Readable(*min), Readable(*max));
                write!(f, "value {value} is outside [{min}, {max}]")
            }
            Problem::Missing => f.write_str("value is missing"),
            Problem::Malformed { message } => write!(f, "malformed row: {message}"),
            Problem::UnknownSubscription {
                customer,
                subscription,
            } => write!(
                f,
                "unknown subscription {} of customer {customer}",
                crate::util::quote_truncated(subscription)
            ),
            Problem::ZeroPeriod => f.write_str("billing period of 0 days"),
            Problem::BeforeStart { time, start } => write!(
                f,
                "event at {} is before the subscription's start at {}",
                time.to_rfc3339(),
                start.to_rfc3339()
            ),
            Problem::EndBeforeStart { end, start } => write!(
                f,
                "current period end {} is before the start at {}",
                end.to_rfc3339(),
                start.to_rfc3339()
            ),
            Problem::AfterEnd { event, time, ended } => write!(
                f,
                "{event} at {} after the subscription ended at {}",
                time.to_rfc3339(),
                ended.to_rfc3339()
            ),
            Problem::OverlappingRenewal { time, previous } => write!(
                f,
                "renewal at {} is less than half a period after the renewal at {}",
                time.to_rfc3339(),
                previous.to_rfc3339()
            ),
            Problem::MergedCustomer { source, canonical } => {
                write!(
                    f,
                    "record of customer {source} merged into customer {canonical}"
                )
            }
            Problem::SignupConflict { kept, dropped } => write!(
                f,
                "signup at {} merged away; the earlier signup at {} kept",
                dropped.to_rfc3339(),
                kept.to_rfc3339()
            ),
            Problem::UnknownPlan { plan } => {
                write!(
                    f,
                    "plan {} is not declared",
                    crate::util::quote_truncated(plan)
                )
            }
        }
    }
}

/// What the builder did about a problem.
///
/// # Example
///
/// ```
/// use churnwise::records::Action;
///
/// assert_eq!(Action::Dropped.to_string(), "record dropped");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// The record is not in the History.
    Dropped,
    /// The record is in the History with the named field cleared or corrected.
    Repaired,
    /// The record was folded into another customer's
    /// ([`HistoryBuilder::identities`](super::HistoryBuilder::identities)).
    Merged,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Dropped => "record dropped",
            Action::Repaired => "field repaired",
            Action::Merged => "record merged",
        })
    }
}

/// One problem found in one record, and what was done about it.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::records::{Action, HistoryBuilder, Order, Problem};
///
/// let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
/// let mut b = HistoryBuilder::new();
/// b.push_order(Order::new(1u64, t, f64::NAN)); // dropped before the customer is looked up
/// let (_, report) = b.build()?;
/// let issue = &report.issues()[0];
/// assert_eq!(issue.record().index(), 0);
/// assert_eq!(issue.field(), Some("amount"));
/// assert_eq!(issue.action(), Action::Dropped);
/// assert_eq!(issue.to_string(), "order 0, field `amount`: value is not finite (NaN); record dropped");
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    record: RecordRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
    #[serde(flatten)]
    problem: Problem,
    action: Action,
}

impl Issue {
    pub(crate) fn new(
        record: RecordRef,
        field: Option<&'static str>,
        problem: Problem,
        action: Action,
    ) -> Self {
        Issue {
            record,
            field,
            problem,
            action,
        }
    }

    /// The offending record.
    pub fn record(&self) -> &RecordRef {
        &self.record
    }

    /// The offending field, when one field is to blame.
    pub fn field(&self) -> Option<&'static str> {
        self.field
    }

    /// What was wrong.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// What was done about it.
    pub fn action(&self) -> Action {
        self.action
    }
}

impl Issue {
    /// The issue as an [`ErrorKind::InvalidRecord`](crate::ErrorKind::InvalidRecord) error.
    pub(crate) fn to_error(&self) -> crate::Error {
        crate::ErrorKind::InvalidRecord {
            record: self.record.to_string(),
            index: self.record.index,
            line: self.record.line,
            field: self.field,
            problem: self.problem.name(),
            reason: self.problem.to_string(),
        }
        .into()
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.record)?;
        if let Some(field) = self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}; {}", self.problem, self.action)
    }
}

/// Counts of records per kind.
///
/// # Example
///
/// ```
/// use churnwise::records::RecordCounts;
///
/// let c = RecordCounts::default();
/// assert_eq!(c.total(), 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RecordCounts {
    /// Customers.
    pub customers: usize,
    /// Orders.
    pub orders: usize,
    /// Interactions.
    pub interactions: usize,
    /// Feedback answers.
    pub feedback: usize,
    /// Subscriptions.
    pub subscriptions: usize,
    /// Subscription events.
    pub subscription_events: usize,
}

impl RecordCounts {
    /// The sum over all kinds.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::*;
    /// # let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let mut b = HistoryBuilder::new();
    /// # b.push_customer(Customer::new(1u64, t));
    /// # b.push_order(Order::new(1u64, t, 10.0));
    /// # b.push_order(Order::new(1u64, t, f64::NAN)); // dropped: not finite
    /// # b.push_order(Order::new(9u64, t, 10.0)); // dropped: unknown customer
    /// # b.push_feedback(Feedback::new(1u64, t, 4.0, SatisfactionScale::FIVE_POINT).with_nps(11)); // NPS cleared
    /// # let (_, report) = b.build()?;
    /// assert_eq!(report.received().total(), 5); // 1 customer, 3 orders, 1 feedback
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn total(&self) -> usize {
        self.customers
            + self.orders
            + self.interactions
            + self.feedback
            + self.subscriptions
            + self.subscription_events
    }

    pub(crate) fn get_mut(&mut self, kind: RecordKind) -> &mut usize {
        match kind {
            RecordKind::Customer => &mut self.customers,
            RecordKind::Order => &mut self.orders,
            RecordKind::Interaction => &mut self.interactions,
            RecordKind::Feedback => &mut self.feedback,
            RecordKind::Subscription => &mut self.subscriptions,
            RecordKind::SubscriptionEvent => &mut self.subscription_events,
        }
    }

    /// The count for one kind.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::*;
    /// # let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let mut b = HistoryBuilder::new();
    /// # b.push_customer(Customer::new(1u64, t));
    /// # b.push_order(Order::new(1u64, t, 10.0));
    /// # b.push_order(Order::new(1u64, t, f64::NAN)); // dropped: not finite
    /// # b.push_order(Order::new(9u64, t, 10.0)); // dropped: unknown customer
    /// # b.push_feedback(Feedback::new(1u64, t, 4.0, SatisfactionScale::FIVE_POINT).with_nps(11)); // NPS cleared
    /// # let (_, report) = b.build()?;
    /// assert_eq!(report.received().get(RecordKind::Order), 3);
    /// assert_eq!(report.accepted().get(RecordKind::Order), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn get(&self, kind: RecordKind) -> usize {
        match kind {
            RecordKind::Customer => self.customers,
            RecordKind::Order => self.orders,
            RecordKind::Interaction => self.interactions,
            RecordKind::Feedback => self.feedback,
            RecordKind::Subscription => self.subscriptions,
            RecordKind::SubscriptionEvent => self.subscription_events,
        }
    }
}

/// Everything [`HistoryBuilder::build`](super::HistoryBuilder::build) dropped
/// or repaired, record by record, with totals.
///
/// For every kind, `received = accepted + dropped + merged` (merged:
/// customer records folded into another customer by
/// [`HistoryBuilder::identities`](super::HistoryBuilder::identities)): no record disappears
/// without an [`Issue`]. Customers created implicitly for events with an
/// unknown id (see [`UnknownCustomers::Create`](super::UnknownCustomers::Create))
/// are counted in [`implicit_customers`](Self::implicit_customers), not as issues.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::records::{HistoryBuilder, Order, RecordKind, UnknownCustomers};
///
/// let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
/// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
/// b.push_order(Order::new(1u64, t, 10.0));
/// b.push_order(Order::new(1u64, t, 10.0)); // exact duplicate
/// let (history, report) = b.build()?;
/// assert_eq!(history.order_count(), 1);
/// assert_eq!(report.received().orders, 2);
/// assert_eq!(report.dropped(RecordKind::Order), 1);
/// assert_eq!(report.count("duplicate"), 1);
/// println!("{report}");
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DataQualityReport {
    received: RecordCounts,
    accepted: RecordCounts,
    implicit_customers: usize,
    issues: Vec<Issue>,
}

impl DataQualityReport {
    pub(crate) fn new(
        received: RecordCounts,
        accepted: RecordCounts,
        implicit_customers: usize,
        issues: Vec<Issue>,
    ) -> Self {
        DataQualityReport {
            received,
            accepted,
            implicit_customers,
            issues,
        }
    }

    /// Every issue, in input order within each kind (customers, orders,
    /// interactions, feedback, subscriptions, subscription events).
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    /// Iterates over the issues.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::*;
    /// # let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let mut b = HistoryBuilder::new();
    /// # b.push_customer(Customer::new(1u64, t));
    /// # b.push_order(Order::new(1u64, t, 10.0));
    /// # b.push_order(Order::new(1u64, t, f64::NAN)); // dropped: not finite
    /// # b.push_order(Order::new(9u64, t, 10.0)); // dropped: unknown customer
    /// # b.push_feedback(Feedback::new(1u64, t, 4.0, SatisfactionScale::FIVE_POINT).with_nps(11)); // NPS cleared
    /// # let (_, report) = b.build()?;
    /// assert_eq!(report.iter().filter(|i| i.action() == Action::Repaired).count(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn iter(&self) -> std::slice::Iter<'_, Issue> {
        self.issues.iter()
    }

    /// The number of issues (as [`issues`](Self::issues)`().len()`).
    pub fn len(&self) -> usize {
        self.issues.len()
    }

    /// Whether there is no issue (as [`is_clean`](Self::is_clean)).
    pub fn is_empty(&self) -> bool {
        self.issues.is_empty()
    }

    /// Whether nothing was dropped or repaired.
    pub fn is_clean(&self) -> bool {
        self.issues.is_empty()
    }

    /// Records offered to the builder, per kind (including malformed CSV rows).
    pub fn received(&self) -> RecordCounts {
        self.received
    }

    /// Records in the History, per kind (customers include implicit ones).
    pub fn accepted(&self) -> RecordCounts {
        self.accepted
    }

    /// Customers created for events whose id had no customer record.
    pub fn implicit_customers(&self) -> usize {
        self.implicit_customers
    }

    /// Records of `kind` that were dropped.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::*;
    /// # let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let mut b = HistoryBuilder::new();
    /// # b.push_customer(Customer::new(1u64, t));
    /// # b.push_order(Order::new(1u64, t, 10.0));
    /// # b.push_order(Order::new(1u64, t, f64::NAN)); // dropped: not finite
    /// # b.push_order(Order::new(9u64, t, 10.0)); // dropped: unknown customer
    /// # b.push_feedback(Feedback::new(1u64, t, 4.0, SatisfactionScale::FIVE_POINT).with_nps(11)); // NPS cleared
    /// # let (_, report) = b.build()?;
    /// assert_eq!(report.dropped(RecordKind::Order), 2);
    /// assert_eq!(report.dropped(RecordKind::Feedback), 0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn dropped(&self, kind: RecordKind) -> usize {
        self.issues
            .iter()
            .filter(|i| i.action == Action::Dropped && i.record.kind == kind)
            .count()
    }

    /// Customer records folded into another customer's by the identities
    /// ([`HistoryBuilder::identities`](super::HistoryBuilder::identities)):
    /// the [`Problem::MergedCustomer`] issues with [`Action::Merged`].
    pub fn merged(&self) -> usize {
        self.issues
            .iter()
            .filter(|i| {
                i.action == Action::Merged && matches!(i.problem, Problem::MergedCustomer { .. })
            })
            .count()
    }

    /// Records of any kind that were kept with a repaired field.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::*;
    /// # let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let mut b = HistoryBuilder::new();
    /// # b.push_customer(Customer::new(1u64, t));
    /// # b.push_order(Order::new(1u64, t, 10.0));
    /// # b.push_order(Order::new(1u64, t, f64::NAN)); // dropped: not finite
    /// # b.push_order(Order::new(9u64, t, 10.0)); // dropped: unknown customer
    /// # b.push_feedback(Feedback::new(1u64, t, 4.0, SatisfactionScale::FIVE_POINT).with_nps(11)); // NPS cleared
    /// # let (_, report) = b.build()?;
    /// assert_eq!(report.repaired(), 1); // the NPS of 11
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn repaired(&self) -> usize {
        self.issues
            .iter()
            .filter(|i| i.action == Action::Repaired)
            .count()
    }

    /// Issues whose [`Problem::name`] is `problem`.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::*;
    /// # let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let mut b = HistoryBuilder::new();
    /// # b.push_customer(Customer::new(1u64, t));
    /// # b.push_order(Order::new(1u64, t, 10.0));
    /// # b.push_order(Order::new(1u64, t, f64::NAN)); // dropped: not finite
    /// # b.push_order(Order::new(9u64, t, 10.0)); // dropped: unknown customer
    /// # b.push_feedback(Feedback::new(1u64, t, 4.0, SatisfactionScale::FIVE_POINT).with_nps(11)); // NPS cleared
    /// # let (_, report) = b.build()?;
    /// assert_eq!(report.count("unknown_customer"), 1);
    /// assert_eq!(report.count("duplicate"), 0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn count(&self, problem: &str) -> usize {
        self.issues
            .iter()
            .filter(|i| i.problem.name() == problem)
            .count()
    }

    /// Issue counts grouped by (record kind, field, problem name, action), sorted.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::*;
    /// # let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// # let mut b = HistoryBuilder::new();
    /// # b.push_customer(Customer::new(1u64, t));
    /// # b.push_order(Order::new(1u64, t, 10.0));
    /// # b.push_order(Order::new(1u64, t, f64::NAN)); // dropped: not finite
    /// # b.push_order(Order::new(9u64, t, 10.0)); // dropped: unknown customer
    /// # b.push_feedback(Feedback::new(1u64, t, 4.0, SatisfactionScale::FIVE_POINT).with_nps(11)); // NPS cleared
    /// # let (_, report) = b.build()?;
    /// let rows = report.summary();
    /// assert_eq!(rows.len(), 3);
    /// assert_eq!((rows[0].kind, rows[0].field, rows[0].count), (RecordKind::Order, "amount", 1));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn summary(&self) -> Vec<IssueCount> {
        let mut counts: BTreeMap<(RecordKind, &'static str, &'static str, Action), usize> =
            BTreeMap::new();
        for i in &self.issues {
            let key = (
                i.record.kind,
                i.field.unwrap_or("-"),
                i.problem.name(),
                i.action,
            );
            *counts.entry(key).or_default() += 1;
        }
        counts
            .into_iter()
            .map(|((kind, field, problem, action), count)| IssueCount {
                kind,
                field,
                problem,
                action,
                count,
            })
            .collect()
    }
}

impl<'a> IntoIterator for &'a DataQualityReport {
    type Item = &'a Issue;
    type IntoIter = std::slice::Iter<'a, Issue>;
    fn into_iter(self) -> Self::IntoIter {
        self.issues.iter()
    }
}

/// One row of [`DataQualityReport::summary`].
///
/// # Example
///
/// ```
/// use churnwise::records::DataQualityReport;
///
/// assert!(DataQualityReport::default().summary().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct IssueCount {
    /// The record kind.
    pub kind: RecordKind,
    /// The field, or `-` when the whole record is to blame.
    pub field: &'static str,
    /// The [`Problem::name`].
    pub problem: &'static str,
    /// What was done.
    pub action: Action,
    /// How many records.
    pub count: usize,
}

impl fmt::Display for DataQualityReport {
    /// A table: records received, accepted and dropped per kind, then issue counts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<12} {:>12} {:>12} {:>10}",
            "records", "received", "accepted", "dropped"
        )?;
        for kind in RecordKind::ALL {
            let subs = matches!(
                kind,
                RecordKind::Subscription | RecordKind::SubscriptionEvent
            );
            if subs && self.received.get(kind) == 0 {
                continue;
            }
            writeln!(
                f,
                "{:<12} {:>12} {:>12} {:>10}",
                kind.to_string(),
                self.received.get(kind),
                self.accepted.get(kind),
                self.dropped(kind)
            )?;
        }
        if self.implicit_customers > 0 {
            writeln!(
                f,
                "({} customers created implicitly from their first event)",
                self.implicit_customers
            )?;
        }
        let summary = self.summary();
        if summary.is_empty() {
            return writeln!(f, "no issues");
        }
        writeln!(
            f,
            "\n{:<12} {:<22} {:<18} {:<15} {:>8}",
            "record", "field", "problem", "action", "count"
        )?;
        for row in summary {
            let action = match row.action {
                Action::Dropped => "dropped",
                Action::Repaired => "repaired",
                Action::Merged => "merged",
            };
            writeln!(
                f,
                "{:<12} {:<22} {:<18} {:<15} {:>8}",
                row.kind.to_string(),
                row.field,
                row.problem,
                action,
                row.count
            )?;
        }
        Ok(())
    }
}
