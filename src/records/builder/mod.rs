//! Validation of raw records into a [`History`].

use std::cmp::Ordering;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::history::{
    CompactKind, CustomerAttrs, EventColumns, FeedbackRow, History, OrderCols, Parts,
};
use super::id::{IdRef, parse_canonical_u64};
use super::quality::{
    Action, DataQualityReport, Issue, Problem, RecordCounts, RecordKind, RecordRef,
};
use super::{Customer, CustomerId, Feedback, Interaction, InteractionKind, Order};
use crate::util::{FastMap, from_micros, to_micros};
use crate::{Error, ErrorKind, Result};

/// Marks "no index" in u32 index arrays.
const NONE: u32 = u32::MAX;

mod assemble;
mod intern;
mod lines;
mod merge;
mod subs;

use assemble::Assembly;
use intern::{Interner, StrInterner};
pub(crate) use lines::LineRuns;
use lines::SourceSpan;

/// What to do with an event whose customer id has no [`Customer`] record.
///
/// # Example
///
/// ```
/// use churnwise::records::{HistoryBuilder, UnknownCustomers};
///
/// let b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
/// # let _ = b;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnknownCustomers {
    /// Drop the event and report [`Problem::UnknownCustomer`] (the default:
    /// unknown ids usually mean a broken join between systems).
    #[default]
    Reject,
    /// Create the customer, with no attributes and signup at its first event
    /// (use this when you only have a transaction log). Counted in
    /// [`DataQualityReport::implicit_customers`].
    Create,
}

/// What to do with an event dated before its customer's signup.
///
/// # Example
///
/// ```
/// use churnwise::records::{EventsBeforeSignup, HistoryBuilder};
///
/// let b = HistoryBuilder::new().events_before_signup(EventsBeforeSignup::MoveSignup);
/// # let _ = b;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventsBeforeSignup {
    /// Drop the event and report [`Problem::BeforeSignup`] (the default).
    #[default]
    Drop,
    /// Keep the event and move the signup back to the customer's first event,
    /// reported as a repaired `signup` field on the customer record.
    MoveSignup,
}

/// What to do with exact duplicates (same customer, time and contents).
///
/// # Example
///
/// ```
/// use churnwise::records::{Duplicates, HistoryBuilder};
///
/// // Date-only order logs can hold two genuine same-day, same-amount orders.
/// let b = HistoryBuilder::new().duplicates(Duplicates::Keep);
/// # let _ = b;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Duplicates {
    /// Keep the first occurrence, drop the rest, report [`Problem::Duplicate`] (the default).
    #[default]
    Drop,
    /// Keep them all. Orders that share an order id are still de-duplicated.
    Keep,
}

/// Collects raw records, validates them and builds a [`History`].
///
/// Push records in any order ([`push_order`](Self::push_order) and friends,
/// `Extend`, or the CSV readers); nothing is validated against other records
/// until [`build`](Self::build), which sorts everything by (customer, time),
/// applies the rules below and returns the History with a
/// [`DataQualityReport`] explaining every dropped or repaired record. The
/// result does not depend on the order records were pushed in.
/// [`build_strict`](Self::build_strict) instead fails on the first problem.
///
/// # Validation rules
///
/// | record | rule | action |
/// |---|---|---|
/// | all | time outside [`time_range`](Self::time_range) | dropped |
/// | order | amount NaN/infinite, or beyond ±[`max_abs_amount`](Self::max_abs_amount) | dropped |
/// | order | same order id as an earlier order | dropped (duplicate or conflict) |
/// | interaction | ticket response hours NaN/infinite or negative | repaired (cleared) |
/// | feedback | satisfaction off its scale or not finite | dropped |
/// | feedback | NPS outside 0–10 (above or below) | repaired (cleared) |
/// | customer | same id twice | first by (signup, attributes) kept, others dropped |
/// | subscription | price negative, NaN/infinite or beyond [`max_abs_amount`](Self::max_abs_amount); period of 0 days | dropped |
/// | subscription | plan not among declared [`plans`](Self::plans) | dropped |
/// | subscription | current period end before the start | repaired (cleared) |
/// | subscription | same id twice for one customer | first by (start, contents) kept, others dropped |
/// | subscription event | its subscription unknown (or dropped) | dropped |
/// | subscription event | before the subscription's start, or after its `Ended` event | dropped |
/// | subscription event | upgrade/downgrade price as for subscriptions, or undeclared plan | dropped |
/// | subscription event | renewal less than half a period after the previous one | dropped (overlap) |
/// | events | unknown customer | per [`UnknownCustomers`] |
/// | events | before signup (subscriptions: their start) | per [`EventsBeforeSignup`] |
/// | events | exact duplicate | per [`Duplicates`] |
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::records::{Customer, HistoryBuilder, Order};
///
/// let day = |d| Utc.with_ymd_and_hms(2024, 1, d, 0, 0, 0).unwrap();
/// let mut b = HistoryBuilder::new();
/// b.push_customer(Customer::new("C-1", day(1)));
/// b.push_order(Order::new("C-1", day(3), 25.0));
/// b.push_order(Order::new("C-1", day(2), 40.0));
/// b.push_order(Order::new("C-9", day(2), 15.0)); // unknown customer: dropped
/// let (history, report) = b.build()?;
/// assert_eq!(history.order_count(), 2);
/// assert_eq!(report.count("unknown_customer"), 1);
/// let amounts = history.customer(0).expect("one customer").orders().amounts().to_vec();
/// assert_eq!(amounts, [40.0, 25.0]); // sorted by time
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct HistoryBuilder {
    options: Options,
    pub(crate) interner: Interner,
    customers: Vec<StagedCustomer>,
    pub(crate) orders: Staged<StagedOrders>,
    interactions: Staged<Vec<CompactKind>>,
    campaigns: StrInterner,
    feedback: Staged<Vec<FeedbackRow>>,
    pub(crate) subs: subs::StagedSubs,
    pub(crate) received: RecordCounts,
    issues: Vec<Issue>,
    sources: Vec<SourceSpan>,
    /// Per interner key: merged into another key by the identities (filled by `build`).
    merged_away: Vec<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Options {
    unknown: UnknownCustomers,
    before_signup: EventsBeforeSignup,
    duplicates: Duplicates,
    max_abs_amount: f64,
    time_range: (i64, i64),
    /// Declared plans, sorted and de-duplicated; `None`: any plan.
    plans: Option<Vec<Arc<str>>>,
    /// Source ids to merge into canonical customers.
    identities: Option<Arc<super::IdentityMap>>,
}

impl Options {
    /// The checks an order passes on its own: time in range, amount finite and plausible.
    pub(crate) fn check_order(
        &self,
        time: i64,
        amount: f64,
    ) -> Result<(), (&'static str, Problem)> {
        let (lo, hi) = self.time_range;
        if time < lo || time > hi {
            return Err((
                "time",
                Problem::TimeOutOfRange {
                    time: from_micros(time),
                },
            ));
        }
        if !amount.is_finite() {
            return Err(("amount", Problem::NonFinite { value: amount }));
        }
        let limit = self.max_abs_amount;
        if amount.abs() > limit {
            return Err((
                "amount",
                Problem::AbsurdAmount {
                    value: amount,
                    limit,
                },
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct StagedCustomer {
    key: u32,
    /// The key of the id as pushed (differs from `key` once merged by identities).
    orig: u32,
    signup: i64,
    attrs: Option<Box<CustomerAttrs>>,
    input: usize,
}

/// Events accepted at push time, waiting for [`HistoryBuilder::build`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Staged<C> {
    pub(crate) cust: Vec<u32>,
    pub(crate) time: Vec<i64>,
    /// Each event's input index (position among all records of its kind).
    pub(crate) input: Vec<u32>,
    pub(crate) cols: C,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct StagedOrders {
    pub(crate) amount: Vec<f64>,
    /// Allocated at the first order with an id.
    order_id: Option<Vec<Option<Box<str>>>>,
}

const DEFAULT_MAX_ABS_AMOUNT: f64 = 1e9;

impl Default for HistoryBuilder {
    fn default() -> Self {
        HistoryBuilder::new()
    }
}

impl HistoryBuilder {
    /// An empty builder with the default options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::HistoryBuilder;
    ///
    /// let (history, report) = HistoryBuilder::new().build()?;
    /// assert_eq!(history.customer_count(), 0);
    /// assert!(report.is_clean());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new() -> Self {
        let lo = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).single();
        let hi = Utc.with_ymd_and_hms(2200, 1, 1, 0, 0, 0).single();
        HistoryBuilder {
            options: Options {
                unknown: UnknownCustomers::default(),
                before_signup: EventsBeforeSignup::default(),
                duplicates: Duplicates::default(),
                max_abs_amount: DEFAULT_MAX_ABS_AMOUNT,
                time_range: (
                    lo.map_or(i64::MIN, to_micros),
                    hi.map_or(i64::MAX, to_micros),
                ),
                plans: None,
                identities: None,
            },
            interner: Interner::default(),
            customers: Vec::new(),
            orders: Staged::default(),
            interactions: Staged::default(),
            campaigns: StrInterner::default(),
            feedback: Staged::default(),
            subs: subs::StagedSubs::default(),
            received: RecordCounts::default(),
            issues: Vec::new(),
            sources: Vec::new(),
            merged_away: Vec::new(),
        }
    }

    /// What to do with events of unknown customers. Defaults to [`UnknownCustomers::Reject`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{HistoryBuilder, Order, UnknownCustomers};
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// b.push_order(Order::new(7u64, Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(), 9.0));
    /// let (history, report) = b.build()?;
    /// assert_eq!((history.customer_count(), report.implicit_customers()), (1, 1));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn unknown_customers(mut self, policy: UnknownCustomers) -> Self {
        self.options.unknown = policy;
        self
    }

    /// What to do with events before signup. Defaults to [`EventsBeforeSignup::Drop`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{Customer, EventsBeforeSignup, HistoryBuilder, Order};
    ///
    /// let day = |d| Utc.with_ymd_and_hms(2024, 1, d, 0, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new().events_before_signup(EventsBeforeSignup::MoveSignup);
    /// b.push_customer(Customer::new(1u64, day(10)));
    /// b.push_order(Order::new(1u64, day(3), 9.0));
    /// let (history, _) = b.build()?;
    /// assert_eq!(history.customer(0).unwrap().signup(), day(3));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn events_before_signup(mut self, policy: EventsBeforeSignup) -> Self {
        self.options.before_signup = policy;
        self
    }

    /// What to do with exact duplicates. Defaults to [`Duplicates::Drop`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{Duplicates, HistoryBuilder, Order, UnknownCustomers};
    ///
    /// let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create).duplicates(Duplicates::Keep);
    /// b.extend([Order::new(1u64, t, 5.0), Order::new(1u64, t, 5.0)]);
    /// assert_eq!(b.build()?.0.order_count(), 2);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn duplicates(mut self, policy: Duplicates) -> Self {
        self.options.duplicates = policy;
        self
    }

    /// The largest plausible order amount in absolute value; larger ones are
    /// dropped as absurd. Defaults to `1e9`. Must be finite and > 0 (checked
    /// by [`build`](Self::build)).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{HistoryBuilder, Order, UnknownCustomers};
    ///
    /// let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create).max_abs_amount(1_000.0);
    /// b.extend([Order::new(1u64, t, 50.0), Order::new(1u64, t, 5_000.0)]);
    /// assert_eq!(b.build()?.0.order_count(), 1);
    /// assert!(HistoryBuilder::new().max_abs_amount(-1.0).build().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn max_abs_amount(mut self, limit: f64) -> Self {
        self.options.max_abs_amount = limit;
        self
    }

    /// Times accepted (inclusive); others are dropped. Defaults to
    /// 1900-01-01 to 2200-01-01 UTC. `start` must not be after `end`
    /// (checked by [`build`](Self::build)).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{HistoryBuilder, Order, UnknownCustomers};
    ///
    /// let year = |y| Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create).time_range(year(2020), year(2025));
    /// b.extend([Order::new(1u64, year(2024), 5.0), Order::new(1u64, year(1999), 5.0)]);
    /// assert_eq!(b.build()?.0.order_count(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn time_range(mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        self.options.time_range = (to_micros(start), to_micros(end));
        self
    }

    /// Declares the plans subscriptions may use; a subscription, upgrade or
    /// downgrade naming another plan is dropped and reported as
    /// [`Problem::UnknownPlan`]. Defaults to any plan (none declared).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{BillingPeriod, HistoryBuilder, Subscription, UnknownCustomers};
    ///
    /// let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new()
    ///     .unknown_customers(UnknownCustomers::Create)
    ///     .plans(["basic", "pro"]);
    /// b.push_subscription(Subscription::new(1u64, "S-1", "pro", t, BillingPeriod::Monthly, 20.0));
    /// b.push_subscription(Subscription::new(1u64, "S-2", "gold", t, BillingPeriod::Monthly, 50.0));
    /// let (history, report) = b.build()?;
    /// assert_eq!((history.subscription_count(), report.count("unknown_plan")), (1, 1));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn plans<I, S>(mut self, plans: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut v: Vec<Arc<str>> = plans.into_iter().map(|p| Arc::from(p.as_ref())).collect();
        v.sort();
        v.dedup();
        self.options.plans = Some(v);
        self
    }

    /// Checks the options set on the builder; [`build`](Self::build) calls it
    /// first.
    fn validate(&self) -> Result<()> {
        let limit = self.options.max_abs_amount;
        if !(limit.is_finite() && limit > 0.0) {
            return Err(Error::invalid_parameter(
                "max_abs_amount",
                format!("must be finite and > 0, got {limit}"),
            ));
        }
        let (start, end) = self.options.time_range;
        if start > end {
            return Err(Error::invalid_parameter(
                "time_range",
                format!(
                    "start {} is after end {}",
                    from_micros(start),
                    from_micros(end)
                ),
            ));
        }
        Ok(())
    }

    fn next_input(&mut self, kind: RecordKind) -> usize {
        let counter = self.received.get_mut(kind);
        *counter += 1;
        *counter - 1
    }

    /// A reference to input record `index` of `kind`, with its CSV line when it has one.
    fn record_ref(&self, kind: RecordKind, index: usize) -> RecordRef {
        let r = RecordRef::new(kind, index);
        let span = self
            .sources
            .iter()
            .rev()
            .find(|s| s.kind == kind && s.first <= index);
        match span.and_then(|s| Some((s, s.lines.line_of(index - s.first)?))) {
            Some((s, line)) => r.with_line(s.name.clone(), line),
            None => r,
        }
    }

    /// Reports a problem with input record `index` of `kind`.
    pub(crate) fn report(
        &mut self,
        kind: RecordKind,
        index: usize,
        field: Option<&'static str>,
        problem: Problem,
        action: Action,
    ) {
        let r = self.record_ref(kind, index);
        self.issues.push(Issue::new(r, field, problem, action));
    }

    /// Checks a time; reports and returns `false` when out of range.
    fn time_ok(&mut self, kind: RecordKind, index: usize, field: &'static str, t: i64) -> bool {
        let (lo, hi) = self.options.time_range;
        if t < lo || t > hi {
            let p = Problem::TimeOutOfRange {
                time: from_micros(t),
            };
            self.report(kind, index, Some(field), p, Action::Dropped);
            return false;
        }
        true
    }

    /// Adds a customer.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{Customer, HistoryBuilder};
    ///
    /// let mut b = HistoryBuilder::new();
    /// b.push_customer(Customer::new("C-1", Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()));
    /// assert_eq!(b.build()?.0.customer_count(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn push_customer(&mut self, customer: Customer) {
        let input = self.next_input(RecordKind::Customer);
        let signup = to_micros(customer.signup);
        if !self.time_ok(RecordKind::Customer, input, "signup", signup) {
            return;
        }
        let key = self.interner.intern(&customer.id);
        self.customers.push(StagedCustomer {
            key,
            orig: key,
            signup,
            attrs: attrs_of(customer),
            input,
        });
    }

    /// Adds an order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{Customer, HistoryBuilder, Order};
    ///
    /// let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new();
    /// b.push_customer(Customer::new(1u64, t));
    /// b.push_order(Order::new(1u64, t, 12.5));
    /// assert_eq!(b.build()?.0.summary().gross_revenue, 12.5);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn push_order(&mut self, order: Order) {
        let input = self.next_input(RecordKind::Order);
        let time = to_micros(order.time);
        if let Err((field, p)) = self.options.check_order(time, order.amount) {
            self.report(RecordKind::Order, input, Some(field), p, Action::Dropped);
            return;
        }
        let key = self.interner.intern(&order.customer);
        let o = &mut self.orders;
        if let Some(id) = order.order_id {
            let n = o.cust.len();
            let column = o.cols.order_id.get_or_insert_with(|| vec![None; n]);
            column.push(Some(id.into_boxed_str()));
        } else if let Some(ids) = &mut o.cols.order_id {
            ids.push(None);
        }
        o.cust.push(key);
        o.time.push(time);
        o.cols.amount.push(order.amount);
        o.input.push(input as u32);
    }

    pub(crate) fn options(&self) -> &Options {
        &self.options
    }

    /// Adds an interaction.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{Customer, HistoryBuilder, Interaction, InteractionKind};
    ///
    /// let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new();
    /// b.push_customer(Customer::new(1u64, t));
    /// b.push_interaction(Interaction::new(1u64, t, InteractionKind::Visit));
    /// assert_eq!(b.build()?.0.interaction_count(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn push_interaction(&mut self, interaction: Interaction) {
        let input = self.next_input(RecordKind::Interaction);
        let time = to_micros(interaction.time);
        if !self.time_ok(RecordKind::Interaction, input, "time", time) {
            return;
        }
        let kind = self.compact_kind(interaction.kind, input);
        let key = self.interner.intern(&interaction.customer);
        self.stage_interaction(key, time, kind, input);
    }

    fn compact_kind(&mut self, kind: InteractionKind, input: usize) -> CompactKind {
        match kind {
            InteractionKind::Login => CompactKind::Login,
            InteractionKind::Visit => CompactKind::Visit,
            InteractionKind::SupportTicket {
                first_response_hours,
            } => {
                let hours = match first_response_hours {
                    Some(h) if h.is_finite() && h >= 0.0 => h,
                    Some(h) => {
                        let p = if h.is_finite() {
                            Problem::Negative { value: h }
                        } else {
                            Problem::NonFinite { value: h }
                        };
                        let field = "first_response_hours";
                        self.report(
                            RecordKind::Interaction,
                            input,
                            Some(field),
                            p,
                            Action::Repaired,
                        );
                        -1.0
                    }
                    None => -1.0,
                };
                CompactKind::SupportTicket(hours)
            }
            InteractionKind::Complaint { topic } => CompactKind::Complaint(topic),
            InteractionKind::CampaignResponse { campaign } => {
                CompactKind::CampaignResponse(self.campaigns.intern(&campaign))
            }
            InteractionKind::Cancellation => CompactKind::Cancellation,
        }
    }

    fn stage_interaction(&mut self, key: u32, time: i64, kind: CompactKind, input: usize) {
        let s = &mut self.interactions;
        s.cust.push(key);
        s.time.push(time);
        s.cols.push(kind);
        s.input.push(input as u32);
    }

    /// Adds a feedback answer.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{Customer, Feedback, HistoryBuilder, SatisfactionScale};
    ///
    /// let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new();
    /// b.push_customer(Customer::new(1u64, t));
    /// b.push_feedback(Feedback::new(1u64, t, 9.0, SatisfactionScale::FIVE_POINT)); // off the scale
    /// let (history, report) = b.build()?;
    /// assert_eq!((history.feedback_count(), report.count("out_of_scale")), (0, 1));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn push_feedback(&mut self, feedback: Feedback) {
        let nps = feedback.nps.map(f64::from);
        self.push_feedback_with_nps(feedback, nps);
    }

    /// [`push_feedback`](Self::push_feedback) with the NPS as read (a CSV
    /// may hold any integer): one rule for every NPS outside 0–10, above or
    /// below, whatever the source: it is cleared and reported as repaired,
    /// and the rest of the answer is kept.
    pub(crate) fn push_feedback_with_nps(&mut self, feedback: Feedback, nps: Option<f64>) {
        let input = self.next_input(RecordKind::Feedback);
        let time = to_micros(feedback.time);
        if !self.time_ok(RecordKind::Feedback, input, "time", time) {
            return;
        }
        let (score, scale) = (feedback.satisfaction, feedback.scale);
        if !scale.contains(score) {
            let p = if score.is_finite() {
                Problem::OutOfScale {
                    value: score,
                    min: scale.min(),
                    max: scale.max(),
                }
            } else {
                Problem::NonFinite { value: score }
            };
            let field = Some("satisfaction");
            self.report(RecordKind::Feedback, input, field, p, Action::Dropped);
            return;
        }
        let nps = match nps {
            Some(n) if !(0.0..=10.0).contains(&n) => {
                let p = Problem::OutOfScale {
                    value: n,
                    min: 0.0,
                    max: 10.0,
                };
                self.report(
                    RecordKind::Feedback,
                    input,
                    Some("nps"),
                    p,
                    Action::Repaired,
                );
                None
            }
            _ => feedback.nps,
        };
        let key = self.interner.intern(&feedback.customer);
        let s = &mut self.feedback;
        s.cust.push(key);
        s.time.push(time);
        s.cols.push(FeedbackRow {
            satisfaction: score,
            scale,
            nps,
        });
        s.input.push(input as u32);
    }

    /// Records a malformed input row (CSV) as a dropped record.
    pub(crate) fn malformed(
        &mut self,
        kind: RecordKind,
        field: Option<&'static str>,
        problem: Problem,
    ) {
        let input = self.next_input(kind);
        self.report(kind, input, field, problem, Action::Dropped);
    }

    /// Starts a CSV source: the next rows of `kind` come from `name`, at the
    /// lines given to [`Self::extend_lines`].
    pub(crate) fn begin_source(&mut self, kind: RecordKind, name: Arc<str>) {
        let first = self.received.get(kind);
        self.sources.push(SourceSpan {
            kind,
            first,
            name,
            lines: LineRuns::default(),
        });
    }

    /// The lines of the next rows of the current source; call before pushing the rows.
    pub(crate) fn extend_lines(&mut self, lines: &LineRuns) {
        if let Some(s) = self.sources.last_mut() {
            s.lines.append(lines);
        }
    }

    /// Makes room for `n` more staged orders.
    pub(crate) fn reserve_orders(&mut self, n: usize) {
        let o = &mut self.orders;
        o.cust.reserve(n);
        o.time.reserve(n);
        o.input.reserve(n);
        o.cols.amount.reserve(n);
    }

    /// Stages a batch of valid orders (already counted as received).
    /// `ids` and `str_ids` name the customers as the CSV reader parsed them;
    /// `order_ids` is empty or one per order.
    pub(crate) fn stage_orders(
        &mut self,
        ids: &[u64],
        str_ids: Vec<(usize, Box<str>)>,
        time: &[i64],
        amount: &[f64],
        input: impl Iterator<Item = usize>,
        order_ids: Vec<Option<Box<str>>>,
    ) {
        let o = &mut self.orders;
        let before = o.cust.len();
        o.cust.reserve(ids.len());
        let mut strs = str_ids.into_iter().peekable();
        for (i, &n) in ids.iter().enumerate() {
            let key = match strs.next_if(|(r, _)| *r == i) {
                Some((_, s)) => self.interner.intern_str(&s),
                None => self.interner.intern_u64(n),
            };
            o.cust.push(key);
        }
        o.time.extend_from_slice(time);
        o.cols.amount.extend_from_slice(amount);
        o.input.extend(input.map(|i| i as u32));
        if order_ids.iter().any(Option::is_some) || o.cols.order_id.is_some() {
            let column = o.cols.order_id.get_or_insert_with(|| vec![None; before]);
            if order_ids.is_empty() {
                column.resize(before + ids.len(), None);
            } else {
                column.extend(order_ids);
            }
        }
    }

    /// Validates everything and builds the [`History`], with a report of every
    /// record dropped or repaired.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `max_abs_amount` or
    /// `time_range` for an invalid option;
    /// [`ErrorKind::TooManyRecords`] if more than `u32::MAX` records of one kind
    /// or customers were pushed. Bad records are never errors here: they are
    /// in the report.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{HistoryBuilder, Order};
    ///
    /// let mut b = HistoryBuilder::new();
    /// b.push_order(Order::new(1u64, Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(), 5.0));
    /// let (history, report) = b.build()?; // no customer 1: the order is dropped, not an error
    /// assert_eq!((history.order_count(), report.count("unknown_customer")), (0, 1));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn build(self) -> Result<(History, DataQualityReport)> {
        self.validate()?;
        let limit = u32::MAX as usize - 1;
        for (what, count) in [
            ("customers", self.interner.ids.len()),
            ("orders", self.received.orders),
            ("interactions", self.received.interactions),
            ("feedback answers", self.received.feedback),
            ("subscriptions", self.received.subscriptions),
            ("subscription events", self.received.subscription_events),
        ] {
            if count > limit {
                return Err(ErrorKind::TooManyRecords { what, count, limit }.into());
            }
        }
        let mut b = self;
        b.apply_identities();
        Ok(Assembly::new(b).run())
    }

    /// Like [`build`](Self::build), but any dropped or repaired record is an error.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidRecord`] with the first issue in input order
    /// (customers, then orders, interactions, feedback, subscriptions,
    /// subscription events), naming the record,
    /// its index (and CSV line) and the field; [`ErrorKind::TooManyRecords`]
    /// as for `build`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::ErrorKind;
    /// use churnwise::records::{HistoryBuilder, Order, UnknownCustomers};
    ///
    /// let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// b.push_order(Order::new(1u64, t, 10.0));
    /// b.push_order(Order::new(1u64, t, f64::INFINITY));
    /// let err = b.build_strict().unwrap_err();
    /// let ErrorKind::InvalidRecord { index, field, problem, .. } = err.kind() else { panic!("{err}") };
    /// assert_eq!((*index, *field, *problem), (1, Some("amount"), "non_finite"));
    /// ```
    pub fn build_strict(self) -> Result<History> {
        let (history, report) = self.build()?;
        match report.issues().first() {
            Some(issue) => Err(issue.to_error()),
            None => Ok(history),
        }
    }
}

impl Extend<Customer> for HistoryBuilder {
    fn extend<I: IntoIterator<Item = Customer>>(&mut self, iter: I) {
        iter.into_iter().for_each(|c| self.push_customer(c));
    }
}

impl Extend<Order> for HistoryBuilder {
    fn extend<I: IntoIterator<Item = Order>>(&mut self, iter: I) {
        iter.into_iter().for_each(|o| self.push_order(o));
    }
}

impl Extend<Interaction> for HistoryBuilder {
    fn extend<I: IntoIterator<Item = Interaction>>(&mut self, iter: I) {
        iter.into_iter().for_each(|i| self.push_interaction(i));
    }
}

impl Extend<Feedback> for HistoryBuilder {
    fn extend<I: IntoIterator<Item = Feedback>>(&mut self, iter: I) {
        iter.into_iter().for_each(|f| self.push_feedback(f));
    }
}

pub(crate) fn attrs_of(c: Customer) -> Option<Box<CustomerAttrs>> {
    let Customer {
        plan,
        channel,
        region,
        tags,
        ..
    } = c;
    if plan.is_none() && channel.is_none() && region.is_none() && tags.is_empty() {
        return None;
    }
    Some(Box::new(CustomerAttrs {
        plan: plan.map(Arc::from),
        channel: channel.map(Arc::from),
        region: region.map(Arc::from),
        tags: tags.into_iter().map(Arc::from).collect(),
    }))
}

#[cfg(test)]
mod tests;
