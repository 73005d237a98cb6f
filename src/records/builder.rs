//! Validation of raw records into a [`History`].

use std::cmp::Ordering;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::history::{
    CompactKind, CustomerAttrs, EventColumns, FastMap, FeedbackRow, History, OrderCols,
};
use super::id::parse_canonical_u64;
use super::quality::{Action, DataQualityReport, Issue, Problem, RecordCounts, RecordKind, RecordRef};
use super::time::{from_micros, to_micros};
use super::{Customer, CustomerId, Feedback, Interaction, InteractionKind, Order};
use crate::{Error, ErrorKind, Result};

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
/// | feedback | NPS above 10 | repaired (cleared) |
/// | customer | same id twice | first by (signup, attributes) kept, others dropped |
/// | events | unknown customer | per [`UnknownCustomers`] |
/// | events | before signup | per [`EventsBeforeSignup`] |
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
    pub(crate) received: RecordCounts,
    issues: Vec<Issue>,
    sources: Vec<SourceSpan>,
}

#[derive(Debug, Clone, PartialEq)]
struct Options {
    unknown: UnknownCustomers,
    before_signup: EventsBeforeSignup,
    duplicates: Duplicates,
    max_abs_amount: f64,
    time_range: (i64, i64),
}

/// Customer ids seen so far, mapped to dense keys in first-seen order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Interner {
    nums: FastMap<u64, u32>,
    strs: FastMap<Arc<str>, u32>,
    ids: Vec<CustomerId>,
}

impl Interner {
    fn insert(&mut self, id: CustomerId) -> u32 {
        let next = self.ids.len() as u32;
        self.ids.push(id);
        next
    }

    pub(crate) fn intern_u64(&mut self, n: u64) -> u32 {
        if let Some(&k) = self.nums.get(&n) {
            return k;
        }
        let k = self.insert(CustomerId::from(n));
        self.nums.insert(n, k);
        k
    }

    pub(crate) fn intern_str(&mut self, s: &str) -> u32 {
        if let Some(n) = parse_canonical_u64(s.as_bytes()) {
            return self.intern_u64(n);
        }
        if let Some(&k) = self.strs.get(s) {
            return k;
        }
        let arc: Arc<str> = Arc::from(s);
        let k = self.insert(CustomerId::from(s));
        self.strs.insert(arc, k);
        k
    }

    fn intern(&mut self, id: &CustomerId) -> u32 {
        match (id.as_u64(), id.as_str()) {
            (Some(n), _) => self.intern_u64(n),
            (None, Some(s)) => {
                if let Some(&k) = self.strs.get(s) {
                    return k;
                }
                let k = self.insert(id.clone());
                self.strs.insert(Arc::from(s), k);
                k
            }
            (None, None) => unreachable!("a CustomerId is a number or a string"),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct StrInterner {
    map: FastMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

impl StrInterner {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&k) = self.map.get(s) {
            return k;
        }
        let k = self.names.len() as u32;
        let arc: Arc<str> = Arc::from(s);
        self.names.push(arc.clone());
        self.map.insert(arc, k);
        k
    }
}

#[derive(Debug, Clone)]
struct StagedCustomer {
    key: u32,
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

/// Line numbers of the data rows of one CSV source.
#[derive(Debug, Clone)]
struct SourceSpan {
    kind: RecordKind,
    first: usize,
    name: Arc<str>,
    lines: Vec<u64>,
}

const DEFAULT_MAX_ABS_AMOUNT: f64 = 1e9;

impl Default for HistoryBuilder {
    fn default() -> Self {
        HistoryBuilder::new()
    }
}

impl HistoryBuilder {
    /// An empty builder with the default options.
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
            },
            interner: Interner::default(),
            customers: Vec::new(),
            orders: Staged::default(),
            interactions: Staged::default(),
            campaigns: StrInterner::default(),
            feedback: Staged::default(),
            received: RecordCounts::default(),
            issues: Vec::new(),
            sources: Vec::new(),
        }
    }

    /// What to do with events of unknown customers. Defaults to [`UnknownCustomers::Reject`].
    pub fn unknown_customers(mut self, policy: UnknownCustomers) -> Self {
        self.options.unknown = policy;
        self
    }

    /// What to do with events before signup. Defaults to [`EventsBeforeSignup::Drop`].
    pub fn events_before_signup(mut self, policy: EventsBeforeSignup) -> Self {
        self.options.before_signup = policy;
        self
    }

    /// What to do with exact duplicates. Defaults to [`Duplicates::Drop`].
    pub fn duplicates(mut self, policy: Duplicates) -> Self {
        self.options.duplicates = policy;
        self
    }

    /// The largest plausible order amount in absolute value; larger ones are
    /// dropped as absurd. Defaults to `1e9`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] unless `limit` is finite and > 0.
    pub fn max_abs_amount(mut self, limit: f64) -> Result<Self> {
        if !(limit.is_finite() && limit > 0.0) {
            return Err(Error::invalid_parameter(
                "max_abs_amount",
                format!("must be finite and > 0, got {limit}"),
            ));
        }
        self.options.max_abs_amount = limit;
        Ok(self)
    }

    /// Times accepted (inclusive); others are dropped. Defaults to
    /// 1900-01-01 to 2200-01-01 UTC.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] if `start > end`.
    pub fn time_range(mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self> {
        if start > end {
            return Err(Error::invalid_parameter(
                "time_range",
                format!("start {start} is after end {end}"),
            ));
        }
        self.options.time_range = (to_micros(start), to_micros(end));
        Ok(self)
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
        match span.and_then(|s| Some((s, *s.lines.get(index - s.first)?))) {
            Some((s, line)) => r.with_line(s.name.clone(), line),
            None => r,
        }
    }

    fn report(&mut self, kind: RecordKind, index: usize, field: &'static str, problem: Problem, action: Action) {
        let r = self.record_ref(kind, index);
        self.issues.push(Issue::new(r, Some(field), problem, action));
    }

    /// Checks a time; reports and returns `false` when out of range.
    fn time_ok(&mut self, kind: RecordKind, index: usize, field: &'static str, t: i64) -> bool {
        let (lo, hi) = self.options.time_range;
        if t < lo || t > hi {
            let p = Problem::TimeOutOfRange { time: from_micros(t) };
            self.report(kind, index, field, p, Action::Dropped);
            return false;
        }
        true
    }

    /// Adds a customer.
    pub fn push_customer(&mut self, customer: Customer) {
        let input = self.next_input(RecordKind::Customer);
        let signup = to_micros(customer.signup);
        if !self.time_ok(RecordKind::Customer, input, "signup", signup) {
            return;
        }
        let key = self.interner.intern(&customer.id);
        self.stage_customer(key, signup, attrs_of(customer), input);
    }

    fn stage_customer(&mut self, key: u32, signup: i64, attrs: Option<Box<CustomerAttrs>>, input: usize) {
        self.customers.push(StagedCustomer {
            key,
            signup,
            attrs,
            input,
        });
    }

    /// Adds an order.
    pub fn push_order(&mut self, order: Order) {
        let input = self.next_input(RecordKind::Order);
        let time = to_micros(order.time);
        if self.order_ok(input, time, order.amount) {
            let key = self.interner.intern(&order.customer);
            self.stage_order(key, time, order.amount, order.order_id.map(String::into_boxed_str), input);
        }
    }

    pub(crate) fn order_ok(&mut self, input: usize, time: i64, amount: f64) -> bool {
        let kind = RecordKind::Order;
        if !self.time_ok(kind, input, "time", time) {
            return false;
        }
        if !amount.is_finite() {
            self.report(kind, input, "amount", Problem::NonFinite { value: amount }, Action::Dropped);
            return false;
        }
        let limit = self.options.max_abs_amount;
        if amount.abs() > limit {
            let p = Problem::AbsurdAmount { value: amount, limit };
            self.report(kind, input, "amount", p, Action::Dropped);
            return false;
        }
        true
    }

    pub(crate) fn stage_order(&mut self, key: u32, time: i64, amount: f64, order_id: Option<Box<str>>, input: usize) {
        let o = &mut self.orders;
        if let Some(id) = order_id {
            let n = o.cust.len();
            o.cols
                .order_id
                .get_or_insert_with(|| vec![None; n])
                .push(Some(id));
        } else if let Some(ids) = &mut o.cols.order_id {
            ids.push(None);
        }
        o.cust.push(key);
        o.time.push(time);
        o.cols.amount.push(amount);
        o.input.push(input as u32);
    }

    /// Adds an interaction.
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
                        self.report(RecordKind::Interaction, input, field, p, Action::Repaired);
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
    pub fn push_feedback(&mut self, feedback: Feedback) {
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
            self.report(RecordKind::Feedback, input, "satisfaction", p, Action::Dropped);
            return;
        }
        let nps = match feedback.nps {
            Some(n) if n > 10 => {
                let p = Problem::OutOfScale {
                    value: f64::from(n),
                    min: 0.0,
                    max: 10.0,
                };
                self.report(RecordKind::Feedback, input, "nps", p, Action::Repaired);
                None
            }
            nps => nps,
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
    pub(crate) fn malformed(&mut self, kind: RecordKind, field: Option<&'static str>, problem: Problem) {
        let input = self.next_input(kind);
        let r = self.record_ref(kind, input);
        self.issues.push(Issue::new(r, field, problem, Action::Dropped));
    }

    /// Starts a CSV source: the next rows of `kind` come from `name`, at the lines pushed with [`Self::push_line`].
    pub(crate) fn begin_source(&mut self, kind: RecordKind, name: Arc<str>) {
        let first = self.received.get(kind);
        self.sources.push(SourceSpan {
            kind,
            first,
            name,
            lines: Vec::new(),
        });
    }

    /// The line of the next row of the current source; call before pushing the row.
    pub(crate) fn push_line(&mut self, line: u64) {
        if let Some(s) = self.sources.last_mut() {
            s.lines.push(line);
        }
    }

    pub(crate) fn reserve_lines(&mut self, n: usize) {
        if let Some(s) = self.sources.last_mut() {
            s.lines.reserve(n);
        }
    }

    /// Validates everything and builds the [`History`], with a report of every
    /// record dropped or repaired.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TooManyRecords`] if more than `u32::MAX` records of one kind
    /// or customers were pushed. Bad records are never errors here: they are
    /// in the report.
    pub fn build(self) -> Result<(History, DataQualityReport)> {
        let limit = u32::MAX as usize - 1;
        for (what, count) in [
            ("customers", self.interner.ids.len()),
            ("orders", self.received.orders),
            ("interactions", self.received.interactions),
            ("feedback answers", self.received.feedback),
        ] {
            if count > limit {
                return Err(ErrorKind::TooManyRecords { what, count, limit }.into());
            }
        }
        Ok(Assembly::new(self).run())
    }

    /// Like [`build`](Self::build), but any dropped or repaired record is an error.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidRecord`] with the first issue in input order
    /// (customers, then orders, interactions, feedback), naming the record,
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
    /// let ErrorKind::InvalidRecord(issue) = err.kind() else { panic!("{err}") };
    /// assert_eq!((issue.record().index(), issue.field()), (1, Some("amount")));
    /// ```
    pub fn build_strict(self) -> Result<History> {
        let (history, report) = self.build()?;
        match report.issues().first() {
            Some(issue) => Err(ErrorKind::InvalidRecord(issue.clone()).into()),
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

const NONE: u32 = u32::MAX;

/// Per-table content comparison and gathering, beyond (customer, time).
trait EventCols: Sync {
    type Out;
    /// Total order on the contents of rows `a` and `b` (equal means exact duplicate).
    fn cmp_rows(&self, a: usize, b: usize) -> Ordering;
    fn gather(&self, perm: &[u32]) -> Self::Out;
}

impl EventCols for StagedOrders {
    type Out = OrderCols;
    fn cmp_rows(&self, a: usize, b: usize) -> Ordering {
        self.amount[a].total_cmp(&self.amount[b]).then_with(|| match &self.order_id {
            Some(ids) => ids[a].cmp(&ids[b]),
            None => Ordering::Equal,
        })
    }
    fn gather(&self, perm: &[u32]) -> OrderCols {
        OrderCols {
            amount: gather(&self.amount, perm),
            order_id: self.order_id.as_ref().map(|ids| {
                perm.par_iter()
                    .map(|&i| ids[i as usize].clone())
                    .collect()
            }),
        }
    }
}

/// Interactions compare by kind code, then payload; campaigns by name (via `rank`).
struct InteractionCols<'a> {
    kinds: &'a [CompactKind],
    /// Campaign symbol → rank of its name, so order does not depend on first-seen order.
    rank: &'a [u32],
}

impl InteractionCols<'_> {
    fn canonical(&self, k: CompactKind) -> CompactKind {
        match k {
            CompactKind::CampaignResponse(c) => CompactKind::CampaignResponse(self.rank[c as usize]),
            k => k,
        }
    }
}

impl EventCols for InteractionCols<'_> {
    type Out = Vec<CompactKind>;
    fn cmp_rows(&self, a: usize, b: usize) -> Ordering {
        let (ka, kb) = (self.kinds[a], self.kinds[b]);
        ka.code().cmp(&kb.code()).then_with(|| match (ka, kb) {
            (CompactKind::SupportTicket(x), CompactKind::SupportTicket(y)) => x.total_cmp(&y),
            (CompactKind::Complaint(x), CompactKind::Complaint(y)) => x.cmp(&y),
            (CompactKind::CampaignResponse(x), CompactKind::CampaignResponse(y)) => {
                self.rank[x as usize].cmp(&self.rank[y as usize])
            }
            _ => Ordering::Equal,
        })
    }
    fn gather(&self, perm: &[u32]) -> Vec<CompactKind> {
        perm.par_iter()
            .map(|&i| self.canonical(self.kinds[i as usize]))
            .collect()
    }
}

impl EventCols for Vec<FeedbackRow> {
    type Out = Vec<FeedbackRow>;
    fn cmp_rows(&self, a: usize, b: usize) -> Ordering {
        let (x, y) = (&self[a], &self[b]);
        x.satisfaction
            .total_cmp(&y.satisfaction)
            .then_with(|| x.scale.min().total_cmp(&y.scale.min()))
            .then_with(|| x.scale.max().total_cmp(&y.scale.max()))
            .then_with(|| x.nps.cmp(&y.nps))
    }
    fn gather(&self, perm: &[u32]) -> Vec<FeedbackRow> {
        gather(self, perm)
    }
}

fn gather<T: Copy + Send + Sync>(v: &[T], perm: &[u32]) -> Vec<T> {
    perm.par_iter().map(|&i| v[i as usize]).collect()
}

/// The rows of one event table in canonical order, after dropping.
struct Arranged {
    /// Staged row indices, grouped by customer and sorted within.
    perm: Vec<u32>,
    offsets: Vec<usize>,
}

/// The state of one `build` run.
struct Assembly {
    b: HistoryBuilder,
    issues: Vec<Issue>,
    /// Key → dense customer index, or `NONE`.
    dense: Vec<u32>,
    /// Dense signup times.
    signup: Vec<i64>,
}

impl Assembly {
    fn new(mut b: HistoryBuilder) -> Self {
        let issues = std::mem::take(&mut b.issues);
        Assembly {
            b,
            issues,
            dense: Vec::new(),
            signup: Vec::new(),
        }
    }

    fn issue(&mut self, kind: RecordKind, input: usize, field: Option<&'static str>, problem: Problem, action: Action) {
        let r = self.b.record_ref(kind, input);
        self.issues.push(Issue::new(r, field, problem, action));
    }

    fn run(mut self) -> (History, DataQualityReport) {
        let n_keys = self.b.interner.ids.len();
        let first_event = self.first_event_per_key(n_keys);
        let (has_record, signup_by_key, attrs_by_key) = self.resolve_customers(n_keys, &first_event);

        // Customers in the History: explicit ones, plus implicit ones with events.
        let create = self.b.options.unknown == UnknownCustomers::Create;
        let mut keys: Vec<u32> = (0..n_keys as u32)
            .filter(|&k| has_record[k as usize] || (create && first_event[k as usize] != i64::MAX))
            .collect();
        let ids = &self.b.interner.ids;
        keys.par_sort_unstable_by(|&a, &b| ids[a as usize].cmp(&ids[b as usize]));
        self.dense = vec![NONE; n_keys];
        for (d, &k) in keys.iter().enumerate() {
            self.dense[k as usize] = d as u32;
        }
        let implicit = keys.iter().filter(|&&k| !has_record[k as usize]).count();
        self.signup = keys
            .iter()
            .map(|&k| {
                let k = k as usize;
                if has_record[k] { signup_by_key[k] } else { first_event[k] }
            })
            .collect();
        let mut attrs_by_key = attrs_by_key;
        let attrs: Vec<Option<Box<CustomerAttrs>>> = keys
            .iter()
            .map(|&k| attrs_by_key[k as usize].take())
            .collect();

        let orders = std::mem::take(&mut self.b.orders);
        let mut arranged = self.arrange(RecordKind::Order, &orders);
        if let Some(ids) = &orders.cols.order_id {
            self.dedup_order_ids(&mut arranged, &orders, ids);
        }
        let order_table = EventColumns {
            time: gather(&orders.time, &arranged.perm),
            cols: orders.cols.gather(&arranged.perm),
            offsets: arranged.offsets,
        };
        drop(orders);

        let interactions = std::mem::take(&mut self.b.interactions);
        let (campaigns, rank) = sorted_names(&self.b.campaigns.names);
        let cols = InteractionCols {
            kinds: &interactions.cols,
            rank: &rank,
        };
        let staged = Staged {
            cust: interactions.cust,
            time: interactions.time,
            input: interactions.input,
            cols,
        };
        let arranged = self.arrange(RecordKind::Interaction, &staged);
        let interaction_table = EventColumns {
            time: gather(&staged.time, &arranged.perm),
            cols: staged.cols.gather(&arranged.perm),
            offsets: arranged.offsets,
        };

        let feedback = std::mem::take(&mut self.b.feedback);
        let arranged = self.arrange(RecordKind::Feedback, &feedback);
        let feedback_table = EventColumns {
            time: gather(&feedback.time, &arranged.perm),
            cols: feedback.cols.gather(&arranged.perm),
            offsets: arranged.offsets,
        };

        let ids: Vec<CustomerId> = keys
            .iter()
            .map(|&k| self.b.interner.ids[k as usize].clone())
            .collect();
        let mut index = FastMap::with_capacity_and_hasher(ids.len(), Default::default());
        index.extend(ids.iter().cloned().zip(0u32..));
        let history = History {
            ids,
            signup: std::mem::take(&mut self.signup),
            attrs,
            index,
            orders: order_table,
            interactions: interaction_table,
            campaigns,
            feedback: feedback_table,
        };

        let mut issues = self.issues;
        issues.sort_by_key(|i| (i.record().kind(), i.record().index()));
        let accepted = RecordCounts {
            customers: history.customer_count(),
            orders: history.order_count(),
            interactions: history.interaction_count(),
            feedback: history.feedback_count(),
        };
        let mut received = self.b.received;
        received.customers += implicit;
        let report = DataQualityReport::new(received, accepted, implicit, issues);
        (history, report)
    }

    /// The earliest staged event of each key (`i64::MAX` if none).
    fn first_event_per_key(&self, n_keys: usize) -> Vec<i64> {
        let mut first = vec![i64::MAX; n_keys];
        let b = &self.b;
        for (cust, time) in [
            (&b.orders.cust, &b.orders.time),
            (&b.interactions.cust, &b.interactions.time),
            (&b.feedback.cust, &b.feedback.time),
        ] {
            for (&k, &t) in cust.iter().zip(time) {
                let f = &mut first[k as usize];
                *f = (*f).min(t);
            }
        }
        first
    }

    /// De-duplicates customer records and applies [`EventsBeforeSignup::MoveSignup`].
    /// Returns, per key: whether a record exists, its signup and its attributes.
    #[allow(clippy::type_complexity)]
    fn resolve_customers(
        &mut self,
        n_keys: usize,
        first_event: &[i64],
    ) -> (Vec<bool>, Vec<i64>, Vec<Option<Box<CustomerAttrs>>>) {
        let mut staged = std::mem::take(&mut self.b.customers);
        staged.sort_by(|a, b| {
            (a.key, a.signup, &a.attrs, a.input).cmp(&(b.key, b.signup, &b.attrs, b.input))
        });
        let mut has = vec![false; n_keys];
        let mut signup = vec![0i64; n_keys];
        let mut attrs: Vec<Option<Box<CustomerAttrs>>> = vec![None; n_keys];
        let mut kept: Option<usize> = None;
        for i in 0..staged.len() {
            let c = &staged[i];
            let k = c.key as usize;
            if let Some(j) = kept.filter(|&j| staged[j].key == c.key) {
                let first = &staged[j];
                let same = first.signup == c.signup && first.attrs == c.attrs;
                let problem = if same {
                    Problem::Duplicate { kept: first.input }
                } else {
                    Problem::Conflict { kept: first.input }
                };
                let input = c.input;
                self.issue(RecordKind::Customer, input, None, problem, Action::Dropped);
                continue;
            }
            kept = Some(i);
            has[k] = true;
            signup[k] = c.signup;
            let moves = self.b.options.before_signup == EventsBeforeSignup::MoveSignup;
            if moves && first_event[k] < c.signup {
                let problem = Problem::BeforeSignup {
                    time: from_micros(first_event[k]),
                    signup: from_micros(c.signup),
                };
                self.issue(RecordKind::Customer, c.input, Some("signup"), problem, Action::Repaired);
                signup[k] = first_event[k];
            }
        }
        for c in staged {
            if has[c.key as usize] && attrs[c.key as usize].is_none() {
                attrs[c.key as usize] = c.attrs;
            }
        }
        // `attrs` took the first record per key because `staged` is sorted and
        // the kept record is the first of its key.
        (has, signup, attrs)
    }

    /// Groups a table by dense customer, sorts each group by (time, contents,
    /// input index), and drops unknown-customer, before-signup and duplicate rows.
    fn arrange<C: EventCols>(&mut self, kind: RecordKind, s: &Staged<C>) -> Arranged {
        let n = self.signup.len();
        let mut counts = vec![0usize; n + 1];
        for (row, &k) in s.cust.iter().enumerate() {
            match self.dense[k as usize] {
                NONE => {
                    let id = self.b.interner.ids[k as usize].clone();
                    let input = s.input[row] as usize;
                    let p = Problem::UnknownCustomer { customer: id };
                    self.issue(kind, input, Some("customer"), p, Action::Dropped);
                }
                d => counts[d as usize + 1] += 1,
            }
        }
        for c in 1..=n {
            counts[c] += counts[c - 1];
        }
        let offsets = counts;
        let mut next = offsets.clone();
        let mut perm = vec![0u32; offsets[n]];
        for (row, &k) in s.cust.iter().enumerate() {
            let d = self.dense[k as usize];
            if d != NONE {
                perm[next[d as usize]] = row as u32;
                next[d as usize] += 1;
            }
        }
        sort_groups(&mut perm, &offsets, |a, b| {
            let (a, b) = (a as usize, b as usize);
            s.time[a]
                .cmp(&s.time[b])
                .then_with(|| s.cols.cmp_rows(a, b))
                .then_with(|| s.input[a].cmp(&s.input[b]))
        });

        // Drop before-signup rows and exact duplicates.
        let drop_dups = self.b.options.duplicates == Duplicates::Drop;
        let mut kept = Vec::with_capacity(perm.len());
        let mut new_offsets = Vec::with_capacity(n + 1);
        new_offsets.push(0);
        for c in 0..n {
            let group_start = kept.len();
            for &row in &perm[offsets[c]..offsets[c + 1]] {
                let r = row as usize;
                if s.time[r] < self.signup[c] {
                    let p = Problem::BeforeSignup {
                        time: from_micros(s.time[r]),
                        signup: from_micros(self.signup[c]),
                    };
                    self.issue(kind, s.input[r] as usize, Some("time"), p, Action::Dropped);
                    continue;
                }
                if drop_dups && kept.len() > group_start {
                    let prev = *kept.last().unwrap_or(&row) as usize;
                    if s.time[prev] == s.time[r] && s.cols.cmp_rows(prev, r) == Ordering::Equal {
                        let p = Problem::Duplicate {
                            kept: s.input[prev] as usize,
                        };
                        self.issue(kind, s.input[r] as usize, None, p, Action::Dropped);
                        continue;
                    }
                }
                kept.push(row);
            }
            new_offsets.push(kept.len());
        }
        Arranged {
            perm: kept,
            offsets: new_offsets,
        }
    }

    /// Drops every order whose id was already used by an earlier order in
    /// canonical (customer, time) order.
    fn dedup_order_ids(&mut self, a: &mut Arranged, s: &Staged<StagedOrders>, ids: &[Option<Box<str>>]) {
        let mut with_id: Vec<(&str, usize)> = a
            .perm
            .iter()
            .enumerate()
            .filter_map(|(pos, &row)| ids[row as usize].as_deref().map(|id| (id, pos)))
            .collect();
        if with_id.is_empty() {
            return;
        }
        with_id.par_sort_unstable();
        let mut drop = vec![false; a.perm.len()];
        let mut dropped_any = false;
        let mut group: Option<(&str, usize)> = None;
        for &(id, pos) in &with_id {
            // Sorted by (id, position): the first position of each id is kept.
            let kept_pos = match group {
                Some((g, first)) if g == id => first,
                _ => {
                    group = Some((id, pos));
                    continue;
                }
            };
            let (r, k) = (a.perm[pos] as usize, a.perm[kept_pos] as usize);
            let same = s.cust[r] == s.cust[k]
                && s.time[r] == s.time[k]
                && s.cols.amount[r].total_cmp(&s.cols.amount[k]) == Ordering::Equal;
            let kept = s.input[k] as usize;
            let p = if same {
                Problem::Duplicate { kept }
            } else {
                Problem::Conflict { kept }
            };
            self.issue(RecordKind::Order, s.input[r] as usize, Some("order_id"), p, Action::Dropped);
            drop[pos] = true;
            dropped_any = true;
        }
        if !dropped_any {
            return;
        }
        let n = a.offsets.len() - 1;
        let mut perm = Vec::with_capacity(a.perm.len());
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        for c in 0..n {
            for pos in a.offsets[c]..a.offsets[c + 1] {
                if !drop[pos] {
                    perm.push(a.perm[pos]);
                }
            }
            offsets.push(perm.len());
        }
        a.perm = perm;
        a.offsets = offsets;
    }
}

/// Sorts each `perm[offsets[c]..offsets[c + 1]]` by `cmp`, in parallel over groups.
fn sort_groups(perm: &mut [u32], offsets: &[usize], cmp: impl Fn(u32, u32) -> Ordering + Sync) {
    let mut groups: Vec<&mut [u32]> = Vec::with_capacity(offsets.len());
    let mut rest = perm;
    for w in offsets.windows(2) {
        let (g, r) = rest.split_at_mut(w[1] - w[0]);
        groups.push(g);
        rest = r;
    }
    groups.par_iter_mut().with_min_len(1024).for_each(|g| {
        if !g.is_sorted_by(|&a, &b| cmp(a, b) != Ordering::Greater) {
            g.sort_unstable_by(|&a, &b| cmp(a, b));
        }
    });
}

/// Sorts interned names; returns the sorted table and each symbol's rank in it.
fn sorted_names(names: &[Arc<str>]) -> (Vec<Arc<str>>, Vec<u32>) {
    let mut order: Vec<u32> = (0..names.len() as u32).collect();
    order.sort_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
    let mut rank = vec![0u32; names.len()];
    for (r, &sym) in order.iter().enumerate() {
        rank[sym as usize] = r as u32;
    }
    let sorted = order.iter().map(|&s| names[s as usize].clone()).collect();
    (sorted, rank)
}
