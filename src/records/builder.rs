//! Validation of raw records into a [`History`].

use std::cmp::Ordering;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::history::{
    CompactKind, CustomerAttrs, EventColumns, FastMap, FeedbackRow, History, OrderCols,
};
use super::id::{IdRef, parse_canonical_u64};
use super::quality::{
    Action, DataQualityReport, Issue, Problem, RecordCounts, RecordKind, RecordRef,
};
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
pub(crate) struct Options {
    unknown: UnknownCustomers,
    before_signup: EventsBeforeSignup,
    duplicates: Duplicates,
    max_abs_amount: f64,
    time_range: (i64, i64),
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

/// Customer ids seen so far, mapped to dense keys in first-seen order.
///
/// Small integer ids (the common auto-increment case) are looked up in a
/// directly indexed table instead of a hash map: one array read per event.
#[derive(Debug, Clone, Default)]
pub(crate) struct Interner {
    direct: Vec<u32>,
    nums: FastMap<u64, u32>,
    strs: FastMap<Arc<str>, u32>,
    ids: Vec<CustomerId>,
}

/// The direct table never exceeds this many entries (256 MiB).
const DIRECT_MAX: u64 = 1 << 26;

impl Interner {
    fn insert(&mut self, id: CustomerId) -> u32 {
        let next = self.ids.len() as u32;
        self.ids.push(id);
        next
    }

    pub(crate) fn intern_u64(&mut self, n: u64) -> u32 {
        if let Some(&k) = self.direct.get(n as usize) {
            if k != NONE {
                return k;
            }
            let k = self.insert(CustomerId::from(n));
            self.direct[n as usize] = k;
            return k;
        }
        if let Some(&k) = self.nums.get(&n) {
            return k;
        }
        if self.grow_direct(n) {
            return self.intern_u64(n);
        }
        let k = self.insert(CustomerId::from(n));
        self.nums.insert(n, k);
        k
    }

    /// Grows the direct table to cover `n` when it stays within 16 entries
    /// per known id (so sparse ids never cost much memory); moves the
    /// hash-mapped ids it now covers.
    fn grow_direct(&mut self, n: u64) -> bool {
        let len = (n + 1).next_power_of_two();
        let budget = 16 * (self.ids.len() as u64 + 4096);
        if len > DIRECT_MAX || len > budget {
            return false;
        }
        self.direct.resize(len as usize, NONE);
        let direct = &mut self.direct;
        self.nums
            .retain(|&m, &mut k| match direct.get_mut(m as usize) {
                Some(slot) => {
                    *slot = k;
                    false
                }
                None => true,
            });
        true
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
        match id.repr() {
            IdRef::Num(n) => self.intern_u64(n),
            IdRef::Str(s) => {
                if let Some(&k) = self.strs.get(s) {
                    return k;
                }
                let k = self.insert(id.clone());
                self.strs.insert(Arc::from(s), k);
                k
            }
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

/// The data rows of one CSV source and their lines.
#[derive(Debug, Clone)]
struct SourceSpan {
    kind: RecordKind,
    /// Input index of the first row.
    first: usize,
    name: Arc<str>,
    lines: LineRuns,
}

/// The line numbers of consecutive rows, stored as runs of consecutive lines
/// (one run per blank line or multi-line record, not one entry per row).
#[derive(Debug, Clone, Default)]
pub(crate) struct LineRuns {
    /// Rows recorded.
    len: usize,
    /// `(row, line)` where numbering jumps: row `r` is on line
    /// `line + (r - row)` for the last run with `row <= r`.
    runs: Vec<(usize, u64)>,
}

impl LineRuns {
    /// Rows recorded.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn line_of(&self, row: usize) -> Option<u64> {
        if row >= self.len {
            return None;
        }
        let i = self.runs.partition_point(|&(r, _)| r <= row);
        let &(start, line) = self.runs.get(i.checked_sub(1)?)?;
        Some(line + (row - start) as u64)
    }

    /// Records the line of the next row.
    pub(crate) fn push(&mut self, line: u64) {
        let continues = self
            .runs
            .last()
            .is_some_and(|&(start, first)| first + (self.len - start) as u64 == line);
        if !continues {
            self.runs.push((self.len, line));
        }
        self.len += 1;
    }

    /// Appends the rows of `other` after these.
    fn append(&mut self, other: &LineRuns) {
        for &(row, line) in &other.runs {
            let continues = self
                .runs
                .last()
                .is_some_and(|&(start, first)| first + (self.len + row - start) as u64 == line);
            if !continues {
                self.runs.push((self.len + row, line));
            }
        }
        self.len += other.len;
    }
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
    pub fn push_customer(&mut self, customer: Customer) {
        let input = self.next_input(RecordKind::Customer);
        let signup = to_micros(customer.signup);
        if !self.time_ok(RecordKind::Customer, input, "signup", signup) {
            return;
        }
        let key = self.interner.intern(&customer.id);
        self.customers.push(StagedCustomer {
            key,
            signup,
            attrs: attrs_of(customer),
            input,
        });
    }

    /// Adds an order.
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
            let field = Some("satisfaction");
            self.report(RecordKind::Feedback, input, field, p, Action::Dropped);
            return;
        }
        let nps = match feedback.nps {
            Some(n) if n > 10 => {
                let p = Problem::OutOfScale {
                    value: f64::from(n),
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

/// What an event table stores beyond (customer, time): a `Copy` payload per
/// row and a total order on rows with equal times (equal means exact duplicate).
trait EventCols: Sync {
    type Payload: Copy + Send + Sync;
    type Out;
    fn payload(&self, row: usize) -> Self::Payload;
    fn cmp_rows(&self, a: &Row<Self::Payload>, b: &Row<Self::Payload>) -> Ordering;
    fn finish(&self, rows: &[Row<Self::Payload>]) -> Self::Out;
}

/// An event moved next to its customer's other events.
#[derive(Debug, Clone, Copy)]
struct Row<P> {
    time: i64,
    /// Index into the staged columns (staged order is input order).
    row: u32,
    /// Dense customer index.
    cust: u32,
    payload: P,
}

impl StagedOrders {
    fn id(&self, row: u32) -> Option<&str> {
        self.order_id.as_ref()?.get(row as usize)?.as_deref()
    }
}

impl EventCols for StagedOrders {
    type Payload = f64;
    type Out = OrderCols;
    fn payload(&self, row: usize) -> f64 {
        self.amount[row]
    }
    fn cmp_rows(&self, a: &Row<f64>, b: &Row<f64>) -> Ordering {
        a.payload
            .total_cmp(&b.payload)
            .then_with(|| match &self.order_id {
                Some(_) => self.id(a.row).cmp(&self.id(b.row)),
                None => Ordering::Equal,
            })
    }
    fn finish(&self, rows: &[Row<f64>]) -> OrderCols {
        OrderCols {
            amount: rows.par_iter().map(|r| r.payload).collect(),
            // Present only when a kept order has an id, as if the others were never pushed.
            order_id: rows.iter().any(|r| self.id(r.row).is_some()).then(|| {
                rows.par_iter()
                    .map(|r| self.id(r.row).map(Box::from))
                    .collect()
            }),
        }
    }
}

/// Interactions, with campaign symbols replaced by the rank of their name so
/// the order does not depend on which campaign was seen first.
struct InteractionCols<'a> {
    kinds: &'a [CompactKind],
    rank: &'a [u32],
}

impl EventCols for InteractionCols<'_> {
    type Payload = CompactKind;
    type Out = Vec<CompactKind>;
    fn payload(&self, row: usize) -> CompactKind {
        match self.kinds[row] {
            CompactKind::CampaignResponse(c) => {
                CompactKind::CampaignResponse(self.rank[c as usize])
            }
            k => k,
        }
    }
    fn cmp_rows(&self, a: &Row<CompactKind>, b: &Row<CompactKind>) -> Ordering {
        let (a, b) = (&a.payload, &b.payload);
        a.code().cmp(&b.code()).then_with(|| match (a, b) {
            (CompactKind::SupportTicket(x), CompactKind::SupportTicket(y)) => x.total_cmp(y),
            (CompactKind::Complaint(x), CompactKind::Complaint(y)) => x.cmp(y),
            (CompactKind::CampaignResponse(x), CompactKind::CampaignResponse(y)) => x.cmp(y),
            _ => Ordering::Equal,
        })
    }
    fn finish(&self, rows: &[Row<CompactKind>]) -> Vec<CompactKind> {
        rows.par_iter().map(|r| r.payload).collect()
    }
}

impl EventCols for Vec<FeedbackRow> {
    type Payload = FeedbackRow;
    type Out = Vec<FeedbackRow>;
    fn payload(&self, row: usize) -> FeedbackRow {
        self[row]
    }
    fn cmp_rows(&self, x: &Row<FeedbackRow>, y: &Row<FeedbackRow>) -> Ordering {
        let (x, y) = (&x.payload, &y.payload);
        x.satisfaction
            .total_cmp(&y.satisfaction)
            .then_with(|| x.scale.min().total_cmp(&y.scale.min()))
            .then_with(|| x.scale.max().total_cmp(&y.scale.max()))
            .then_with(|| x.nps.cmp(&y.nps))
    }
    fn finish(&self, rows: &[Row<FeedbackRow>]) -> Vec<FeedbackRow> {
        rows.par_iter().map(|r| r.payload).collect()
    }
}

/// The rows of one event table grouped by customer and sorted within.
struct Arranged<P> {
    rows: Vec<Row<P>>,
    /// `offsets[c]..offsets[c + 1]` are customer `c`'s rows.
    offsets: Vec<usize>,
}

impl<P: Copy + Send + Sync> Arranged<P> {
    /// The time of customer `c`'s first row, if any.
    fn first_time(&self, c: usize) -> Option<i64> {
        let r = self.offsets[c];
        (r < self.offsets[c + 1]).then(|| self.rows[r].time)
    }

    /// Removes the rows whose `drop` flag is set, keeping offsets in step.
    fn remove(&mut self, drop: &[bool]) {
        let mut w = 0;
        let mut start = 0;
        for c in 0..self.offsets.len() - 1 {
            let end = self.offsets[c + 1];
            for (r, _) in drop
                .iter()
                .enumerate()
                .take(end)
                .skip(start)
                .filter(|(_, d)| !**d)
            {
                self.rows[w] = self.rows[r];
                w += 1;
            }
            start = end;
            self.offsets[c + 1] = w;
        }
        self.rows.truncate(w);
    }

    fn into_columns<C: EventCols<Payload = P>>(self, cols: &C) -> EventColumns<C::Out> {
        EventColumns {
            time: self.rows.par_iter().map(|r| r.time).collect(),
            cols: cols.finish(&self.rows),
            offsets: self.offsets,
        }
    }
}

/// The state of one `build` run.
struct Assembly {
    b: HistoryBuilder,
    /// Key → dense customer index, or `NONE`.
    dense: Vec<u32>,
}

/// One event table grouped by customer, and the staged columns it refers to.
type Grouped<C> = (Arranged<<C as EventCols>::Payload>, Staged<C>);

impl Assembly {
    fn new(b: HistoryBuilder) -> Self {
        Assembly {
            b,
            dense: Vec::new(),
        }
    }

    fn run(mut self) -> (History, DataQualityReport) {
        let n_keys = self.b.interner.ids.len();
        let records = self.resolve_customers(n_keys);

        // Customers in the History: explicit ones, plus (when creating) every
        // other id, which was interned because an accepted event named it.
        let create = self.b.options.unknown == UnknownCustomers::Create;
        let keys = self.sorted_keys(|k| create || records.signup[k].is_some());
        self.dense = vec![NONE; n_keys];
        for (d, &k) in keys.iter().enumerate() {
            self.dense[k as usize] = d as u32;
        }

        let orders = std::mem::take(&mut self.b.orders);
        let mut orders = self.group(RecordKind::Order, orders);
        let staged = std::mem::take(&mut self.b.interactions);
        let (campaigns, rank) = sorted_names(&self.b.campaigns.names);
        let staged = Staged {
            cust: staged.cust,
            time: staged.time,
            input: staged.input,
            cols: InteractionCols {
                kinds: &staged.cols,
                rank: &rank,
            },
        };
        let mut interactions = self.group(RecordKind::Interaction, staged);
        let feedback = std::mem::take(&mut self.b.feedback);
        let mut feedback = self.group(RecordKind::Feedback, feedback);

        let first = |c: usize| {
            let firsts = [
                orders.0.first_time(c),
                interactions.0.first_time(c),
                feedback.0.first_time(c),
            ];
            firsts.into_iter().flatten().min()
        };
        let signup = self.signups(&keys, &records, first);

        self.drop_invalid(RecordKind::Order, &mut orders, &signup);
        if orders.1.cols.order_id.is_some() {
            self.dedup_order_ids(&mut orders.0, &orders.1);
        }
        let order_table = orders.0.into_columns(&orders.1.cols);
        drop(orders.1);
        self.drop_invalid(RecordKind::Interaction, &mut interactions, &signup);
        let mut interaction_table = interactions.0.into_columns(&interactions.1.cols);
        let campaigns = drop_unused_campaigns(campaigns, &mut interaction_table.cols);
        self.drop_invalid(RecordKind::Feedback, &mut feedback, &signup);
        let feedback_table = feedback.0.into_columns(&feedback.1.cols);

        let mut attrs_by_key = records.attrs;
        let attrs = keys
            .iter()
            .map(|&k| attrs_by_key[k as usize].take())
            .collect();
        let implicit = keys
            .iter()
            .filter(|&&k| records.signup[k as usize].is_none())
            .count();
        let ids = keys
            .iter()
            .map(|&k| self.b.interner.ids[k as usize].clone())
            .collect();
        let history = History {
            ids,
            signup,
            attrs,
            orders: order_table,
            interactions: interaction_table,
            campaigns,
            feedback: feedback_table,
        };

        let mut issues = std::mem::take(&mut self.b.issues);
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

    /// The keys passing `keep`, in [`CustomerId`] order (the dense order).
    fn sorted_keys(&self, keep: impl Fn(usize) -> bool) -> Vec<u32> {
        let interner = &self.b.interner;
        let ids = &interner.ids;
        if interner.strs.is_empty() && interner.nums.is_empty() {
            // Every id is a small integer in the direct table: read it in id order.
            return interner
                .direct
                .iter()
                .filter(|&&k| k != NONE && keep(k as usize))
                .copied()
                .collect();
        }
        let keys = (0..ids.len() as u32).filter(|&k| keep(k as usize));
        if interner.strs.is_empty() {
            // All ids are integers: sort plain numbers.
            let mut num: Vec<(u64, u32)> = keys
                .map(|k| (ids[k as usize].as_u64().unwrap_or(u64::MAX), k))
                .collect();
            num.par_sort_unstable();
            num.into_iter().map(|(_, k)| k).collect()
        } else {
            let mut keys: Vec<u32> = keys.collect();
            keys.par_sort_unstable_by(|&a, &b| ids[a as usize].cmp(&ids[b as usize]));
            keys
        }
    }

    /// De-duplicates customer records: per key, the first by (signup,
    /// attributes) is kept and the others are reported.
    fn resolve_customers(&mut self, n_keys: usize) -> CustomerRecords {
        let mut staged = std::mem::take(&mut self.b.customers);
        staged.sort_by(|a, b| {
            (a.key, a.signup, &a.attrs, a.input).cmp(&(b.key, b.signup, &b.attrs, b.input))
        });
        let mut records = CustomerRecords {
            signup: vec![None; n_keys],
            input: vec![0; n_keys],
            attrs: vec![None; n_keys],
        };
        let mut kept: Option<StagedCustomer> = None;
        for c in staged {
            if let Some(first) = kept.as_ref().filter(|f| f.key == c.key) {
                let problem = if first.signup == c.signup && first.attrs == c.attrs {
                    Problem::Duplicate { kept: first.input }
                } else {
                    Problem::Conflict { kept: first.input }
                };
                self.b.report(
                    RecordKind::Customer,
                    c.input,
                    None,
                    problem,
                    Action::Dropped,
                );
                continue;
            }
            let k = c.key as usize;
            records.signup[k] = Some(c.signup);
            records.input[k] = c.input;
            records.attrs[k] = c.attrs.clone();
            kept = Some(c);
        }
        records
    }

    /// Signup per dense customer: the record's, moved back to the first event
    /// under [`EventsBeforeSignup::MoveSignup`]; the first event for implicit customers.
    fn signups(
        &mut self,
        keys: &[u32],
        records: &CustomerRecords,
        first: impl Fn(usize) -> Option<i64> + Sync,
    ) -> Vec<i64> {
        let moves = self.b.options.before_signup == EventsBeforeSignup::MoveSignup;
        let firsts: Vec<Option<i64>> = (0..keys.len()).into_par_iter().map(&first).collect();
        let mut signup = Vec::with_capacity(keys.len());
        for (&k, first) in keys.iter().zip(firsts) {
            let k = k as usize;
            let s = match (records.signup[k], first) {
                (Some(s), Some(f)) if moves && f < s => {
                    let problem = Problem::BeforeSignup {
                        time: from_micros(f),
                        signup: from_micros(s),
                    };
                    self.b.report(
                        RecordKind::Customer,
                        records.input[k],
                        Some("signup"),
                        problem,
                        Action::Repaired,
                    );
                    f
                }
                (Some(s), _) => s,
                // Implicit customers exist because an event named them.
                (None, f) => f.unwrap_or_default(),
            };
            signup.push(s);
        }
        signup
    }

    /// Groups a table by dense customer and sorts each group by (time,
    /// contents, input order); reports and drops rows of unknown customers.
    fn group<C: EventCols>(&mut self, kind: RecordKind, s: Staged<C>) -> Grouped<C> {
        let n = self.dense.iter().filter(|&&d| d != NONE).count();
        let dense: Vec<u32> = s.cust.par_iter().map(|&k| self.dense[k as usize]).collect();
        if dense.par_iter().any(|&d| d == NONE) {
            for (row, _) in dense.iter().enumerate().filter(|(_, d)| **d == NONE) {
                let id = self.b.interner.ids[s.cust[row] as usize].clone();
                let p = Problem::UnknownCustomer { customer: id };
                self.b.report(
                    kind,
                    s.input[row] as usize,
                    Some("customer"),
                    p,
                    Action::Dropped,
                );
            }
        }
        let cols = &s.cols;
        let (rows, offsets) = group_by_customer(&dense, n, &s.time, cols, |a, b| {
            a.time
                .cmp(&b.time)
                .then_with(|| cols.cmp_rows(a, b))
                .then_with(|| a.row.cmp(&b.row))
        });
        (Arranged { rows, offsets }, s)
    }

    /// Drops rows before their customer's signup and exact duplicates.
    fn drop_invalid<C: EventCols>(
        &mut self,
        kind: RecordKind,
        (arranged, s): &mut Grouped<C>,
        signup: &[i64],
    ) {
        let n = signup.len();
        if arranged.rows.is_empty() {
            return;
        }
        let drop_dups = self.b.options.duplicates == Duplicates::Drop;
        // Scan customer ranges in parallel; issues are sorted at the end anyway.
        let this = &*self;
        let rows = &arranged.rows;
        let offsets = &arranged.offsets;
        let ranges: Vec<std::ops::Range<usize>> =
            (0..n).step_by(4096).map(|c| c..(c + 4096).min(n)).collect();
        let found: Vec<(Vec<usize>, Vec<Issue>)> = ranges
            .into_par_iter()
            .map(|customers| {
                let (mut drops, mut issues) = (Vec::new(), Vec::new());
                let mut report = |r: usize, row: &Row<C::Payload>, field, p| {
                    let rec = this.b.record_ref(kind, s.input[row.row as usize] as usize);
                    issues.push(Issue::new(rec, field, p, Action::Dropped));
                    drops.push(r);
                };
                for c in customers {
                    let group = &rows[offsets[c]..offsets[c + 1]];
                    for (i, row) in group.iter().enumerate() {
                        if row.time < signup[c] {
                            let p = Problem::BeforeSignup {
                                time: from_micros(row.time),
                                signup: from_micros(signup[c]),
                            };
                            report(offsets[c] + i, row, Some("time"), p);
                            continue;
                        }
                        // Sorted: a duplicate follows the row it repeats (or its duplicates).
                        if drop_dups
                            && i > 0
                            && group[i - 1].time == row.time
                            && s.cols.cmp_rows(&group[i - 1], row).is_eq()
                        {
                            let first = group[..i]
                                .iter()
                                .rev()
                                .take_while(|r| {
                                    r.time == row.time && s.cols.cmp_rows(r, row).is_eq()
                                })
                                .last()
                                .unwrap_or(row);
                            let kept = s.input[first.row as usize] as usize;
                            report(offsets[c] + i, row, None, Problem::Duplicate { kept });
                        }
                    }
                }
                (drops, issues)
            })
            .collect();
        let mut drop = Vec::new();
        for (drops, issues) in found {
            if !drops.is_empty() {
                drop.resize(arranged.rows.len(), false);
                drops.into_iter().for_each(|r| drop[r] = true);
            }
            self.b.issues.extend(issues);
        }
        if !drop.is_empty() {
            arranged.remove(&drop);
        }
    }

    /// Drops every order whose id was already used by an earlier order in
    /// canonical (customer, time) order.
    fn dedup_order_ids(&mut self, a: &mut Arranged<f64>, s: &Staged<StagedOrders>) {
        let mut with_id: Vec<(&str, usize)> = a
            .rows
            .iter()
            .enumerate()
            .filter_map(|(pos, r)| s.cols.id(r.row).map(|id| (id, pos)))
            .collect();
        with_id.par_sort_unstable();
        let mut drop = vec![false; a.rows.len()];
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
            let (r, k) = (a.rows[pos], a.rows[kept_pos]);
            let same =
                r.cust == k.cust && r.time == k.time && r.payload.total_cmp(&k.payload).is_eq();
            let kept = s.input[k.row as usize] as usize;
            let p = if same {
                Problem::Duplicate { kept }
            } else {
                Problem::Conflict { kept }
            };
            let input = s.input[r.row as usize] as usize;
            self.b.report(
                RecordKind::Order,
                input,
                Some("order_id"),
                p,
                Action::Dropped,
            );
            drop[pos] = true;
        }
        if drop.contains(&true) {
            a.remove(&drop);
        }
    }
}

/// Per key: the kept customer record's signup (`None` without a record), input index and attributes.
struct CustomerRecords {
    signup: Vec<Option<i64>>,
    input: Vec<usize>,
    attrs: Vec<Option<Box<CustomerAttrs>>>,
}

/// Moves staged rows into customer order with a stable two-pass counting
/// sort, first into buckets of consecutive customers, then within each
/// bucket (where each customer's rows are then sorted by `cmp`), and returns
/// the rows with per-customer offsets. Neither pass
/// scatters writes over the whole array, which a one-pass scatter of
/// millions of rows would (a cache miss per row), and both run in parallel.
fn group_by_customer<C: EventCols>(
    dense: &[u32],
    n: usize,
    time: &[i64],
    cols: &C,
    cmp: impl Fn(&Row<C::Payload>, &Row<C::Payload>) -> Ordering + Sync,
) -> (Vec<Row<C::Payload>>, Vec<usize>) {
    let mut offsets = vec![0usize; n + 1];
    if n == 0 || dense.is_empty() {
        return (Vec::new(), offsets);
    }
    let wanted = (dense.len() / 16_384).clamp(1, 4096);
    let shift = n.div_ceil(wanted).next_power_of_two().trailing_zeros();
    let per_bucket = 1usize << shift;
    let buckets = n.div_ceil(per_bucket);

    // Pass 1: each thread scatters its share of rows into its region of every bucket.
    let chunk = dense.len().div_ceil(rayon::current_num_threads()).max(1);
    let ranges: Vec<std::ops::Range<usize>> = (0..dense.len())
        .step_by(chunk)
        .map(|s| s..(s + chunk).min(dense.len()))
        .collect();
    let counts: Vec<Vec<usize>> = ranges
        .par_iter()
        .map(|r| {
            let mut c = vec![0usize; buckets];
            for &d in &dense[r.clone()] {
                if d != NONE {
                    c[(d >> shift) as usize] += 1;
                }
            }
            c
        })
        .collect();
    let bucket_len: Vec<usize> = (0..buckets)
        .map(|b| counts.iter().map(|c| c[b]).sum())
        .collect();
    let fill = Row {
        time: 0,
        row: 0,
        cust: 0,
        payload: cols.payload(0),
    };
    let mut out = vec![fill; bucket_len.iter().sum()];
    let mut regions: Vec<Vec<&mut [Row<C::Payload>]>> =
        ranges.iter().map(|_| Vec::with_capacity(buckets)).collect();
    let mut rest: &mut [Row<C::Payload>] = &mut out;
    for b in 0..buckets {
        for (region, count) in regions.iter_mut().zip(&counts) {
            let (head, tail) = rest.split_at_mut(count[b]);
            region.push(head);
            rest = tail;
        }
    }
    ranges
        .par_iter()
        .zip(regions.par_iter_mut())
        .for_each(|(r, region)| {
            let mut cursor = vec![0usize; buckets];
            for row in r.clone() {
                let d = dense[row];
                if d != NONE {
                    let b = (d >> shift) as usize;
                    region[b][cursor[b]] = Row {
                        time: time[row],
                        row: row as u32,
                        cust: d,
                        payload: cols.payload(row),
                    };
                    cursor[b] += 1;
                }
            }
        });

    // Pass 2: within each bucket, count its customers' rows, record their
    // offsets, and counting-sort the bucket through a scratch copy.
    let mut slices: Vec<&mut [Row<C::Payload>]> = Vec::with_capacity(buckets);
    let mut rest: &mut [Row<C::Payload>] = &mut out;
    for &len in &bucket_len {
        let (head, tail) = rest.split_at_mut(len);
        slices.push(head);
        rest = tail;
    }
    let bucket_start: Vec<usize> = bucket_len
        .iter()
        .scan(0, |acc, &len| {
            let start = *acc;
            *acc += len;
            Some(start)
        })
        .collect();
    slices
        .par_iter_mut()
        .zip(offsets[1..].par_chunks_mut(per_bucket))
        .enumerate()
        .for_each_init(Vec::new, |scratch, (b, (slice, ends))| {
            let first = b << shift;
            let mut cursor = vec![0usize; ends.len()];
            for r in slice.iter() {
                cursor[r.cust as usize - first] += 1;
            }
            let mut acc = 0;
            for (c, end) in cursor.iter_mut().zip(ends.iter_mut()) {
                let len = *c;
                *c = acc;
                acc += len;
                *end = bucket_start[b] + acc;
            }
            scratch.clear();
            scratch.extend_from_slice(slice);
            for r in scratch.iter() {
                let i = r.cust as usize - first;
                slice[cursor[i]] = *r;
                cursor[i] += 1;
            }
            // Sort each customer's rows while the bucket is in cache; rows
            // usually arrive in time order, so this is mostly a check.
            let mut start = 0;
            for &end in cursor.iter() {
                let g = &mut slice[start..end];
                if !g.is_sorted_by(|a, b| cmp(a, b).is_le()) {
                    g.sort_unstable_by(&cmp);
                }
                start = end;
            }
        });
    (out, offsets)
}

/// Keeps only the campaigns that kept interactions refer to, renumbered in name order.
fn drop_unused_campaigns(names: Vec<Arc<str>>, kinds: &mut [CompactKind]) -> Vec<Arc<str>> {
    let mut used = vec![false; names.len()];
    for k in kinds.iter() {
        if let CompactKind::CampaignResponse(c) = k {
            used[*c as usize] = true;
        }
    }
    let mut new_index = vec![NONE; names.len()];
    let mut kept = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        if used[i] {
            new_index[i] = kept.len() as u32;
            kept.push(name);
        }
    }
    for k in kinds.iter_mut() {
        if let CompactKind::CampaignResponse(c) = k {
            *c = new_index[*c as usize];
        }
    }
    kept
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{ComplaintTopic, SatisfactionScale};

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, d, 0, 0, 0).unwrap()
    }

    fn one_customer() -> HistoryBuilder {
        let mut b = HistoryBuilder::new();
        b.push_customer(Customer::new(1u64, day(2)));
        b
    }

    /// (input index, problem) of every issue.
    fn problems(report: &DataQualityReport) -> Vec<(usize, Problem)> {
        report
            .iter()
            .map(|i| (i.record().index(), i.problem().clone()))
            .collect()
    }

    fn only_issue(report: &DataQualityReport) -> &Issue {
        assert_eq!(report.issues().len(), 1, "{report}");
        &report.issues()[0]
    }

    #[test]
    fn drops_non_finite_amounts() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut b = one_customer();
            b.push_order(Order::new(1u64, day(3), v));
            let (h, report) = b.build().unwrap();
            assert_eq!(h.order_count(), 0);
            let i = only_issue(&report);
            assert_eq!((i.field(), i.action()), (Some("amount"), Action::Dropped));
            assert_eq!(i.problem().name(), "non_finite");
        }
    }

    #[test]
    fn drops_absurd_amounts_but_keeps_refunds() {
        let mut b = one_customer().max_abs_amount(1000.0).unwrap();
        b.push_order(Order::new(1u64, day(3), 1000.5));
        b.push_order(Order::new(1u64, day(4), -1000.5));
        b.push_order(Order::new(1u64, day(5), -20.0));
        let (h, report) = b.build().unwrap();
        assert_eq!(h.customer(0).unwrap().orders().amounts(), [-20.0]);
        assert_eq!(report.count("absurd_amount"), 2);
        assert_eq!(h.summary().refunds, 20.0);
    }

    #[test]
    fn rejects_invalid_limits() {
        for v in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = HistoryBuilder::new().max_abs_amount(v).unwrap_err();
            assert!(matches!(
                err.kind(),
                ErrorKind::InvalidParameter {
                    name: "max_abs_amount",
                    ..
                }
            ));
        }
        let err = HistoryBuilder::new()
            .time_range(day(5), day(4))
            .unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter {
                name: "time_range",
                ..
            }
        ));
    }

    #[test]
    fn drops_times_out_of_range() {
        let mut b = one_customer().time_range(day(1), day(20)).unwrap();
        b.push_order(Order::new(1u64, day(21), 5.0));
        b.push_customer(Customer::new(
            2u64,
            Utc.with_ymd_and_hms(1800, 1, 1, 0, 0, 0).unwrap(),
        ));
        let (h, report) = b.build().unwrap();
        assert_eq!((h.customer_count(), h.order_count()), (1, 0));
        assert_eq!(report.count("time_out_of_range"), 2);
        assert_eq!(report.dropped(RecordKind::Customer), 1);
    }

    #[test]
    fn drops_exact_duplicates_keeping_the_first() {
        let mut b = one_customer();
        b.push_order(Order::new(1u64, day(3), 5.0));
        b.push_order(Order::new(1u64, day(4), 5.0));
        b.push_order(Order::new(1u64, day(3), 5.0));
        let (h, report) = b.build().unwrap();
        assert_eq!(h.order_count(), 2);
        let i = only_issue(&report);
        assert_eq!(i.record().index(), 2);
        assert_eq!(i.problem(), &Problem::Duplicate { kept: 0 });
    }

    #[test]
    fn keeps_duplicates_when_asked() {
        let mut b = one_customer().duplicates(Duplicates::Keep);
        b.push_order(Order::new(1u64, day(3), 5.0));
        b.push_order(Order::new(1u64, day(3), 5.0));
        let (h, report) = b.build().unwrap();
        assert_eq!(h.order_count(), 2);
        assert!(report.is_clean());
    }

    #[test]
    fn order_ids_are_unique_across_customers() {
        let mut b = one_customer().duplicates(Duplicates::Keep);
        b.push_customer(Customer::new(2u64, day(2)));
        b.push_order(Order::new(1u64, day(3), 5.0).with_order_id("A"));
        b.push_order(Order::new(1u64, day(3), 5.0).with_order_id("A"));
        b.push_order(Order::new(2u64, day(4), 7.0).with_order_id("A"));
        b.push_order(Order::new(2u64, day(4), 7.0).with_order_id("B"));
        let (h, report) = b.build().unwrap();
        assert_eq!(h.order_count(), 2);
        assert_eq!(
            problems(&report),
            [
                (1, Problem::Duplicate { kept: 0 }),
                (2, Problem::Conflict { kept: 0 })
            ]
        );
        let ids: Vec<_> = h.orders().map(|o| o.order_id).collect();
        assert_eq!(ids, [Some("A".to_owned()), Some("B".to_owned())]);
    }

    #[test]
    fn unknown_customers_are_rejected_or_created() {
        let push = |b: &mut HistoryBuilder| {
            b.push_order(Order::new("X", day(5), 5.0));
            b.push_interaction(Interaction::new("X", day(4), InteractionKind::Login));
        };
        let mut b = one_customer();
        push(&mut b);
        let (h, report) = b.build().unwrap();
        assert_eq!(h.customer_count(), 1);
        assert_eq!(report.count("unknown_customer"), 2);

        let mut b = one_customer().unknown_customers(UnknownCustomers::Create);
        push(&mut b);
        let (h, report) = b.build().unwrap();
        assert!(report.is_clean());
        assert_eq!(report.implicit_customers(), 1);
        let x = h.find(&CustomerId::from("X")).unwrap();
        assert_eq!(x.signup(), day(4)); // the first event of any kind
        assert_eq!(report.accepted().customers, 2);
        assert_eq!(report.received().customers, 2);
    }

    #[test]
    fn events_before_signup_are_dropped_or_move_the_signup() {
        let mut b = one_customer();
        b.push_order(Order::new(1u64, day(1), 5.0));
        let (h, report) = b.build().unwrap();
        assert_eq!(h.order_count(), 0);
        assert_eq!(only_issue(&report).problem().name(), "before_signup");

        let mut b = one_customer().events_before_signup(EventsBeforeSignup::MoveSignup);
        b.push_order(Order::new(1u64, day(1), 5.0));
        let (h, report) = b.build().unwrap();
        assert_eq!(h.order_count(), 1);
        assert_eq!(h.customer(0).unwrap().signup(), day(1));
        let i = only_issue(&report);
        assert_eq!(
            (i.record().kind(), i.field(), i.action()),
            (RecordKind::Customer, Some("signup"), Action::Repaired)
        );
    }

    #[test]
    fn duplicate_customers_keep_the_earliest_signup() {
        let mut b = HistoryBuilder::new();
        b.push_customer(Customer::new(1u64, day(5)).with_plan("gold"));
        b.push_customer(Customer::new(1u64, day(2)));
        b.push_customer(Customer::new(1u64, day(2)));
        let (h, report) = b.build().unwrap();
        let c = h.customer(0).unwrap();
        assert_eq!((c.signup(), c.plan()), (day(2), None));
        assert_eq!(
            problems(&report),
            [
                (0, Problem::Conflict { kept: 1 }),
                (2, Problem::Duplicate { kept: 1 })
            ]
        );
    }

    #[test]
    fn repairs_bad_response_times_and_nps() {
        let mut b = one_customer();
        let ticket = |h| InteractionKind::SupportTicket {
            first_response_hours: Some(h),
        };
        b.push_interaction(Interaction::new(1u64, day(3), ticket(-2.0)));
        b.push_interaction(Interaction::new(1u64, day(4), ticket(f64::NAN)));
        b.push_feedback(
            Feedback::new(1u64, day(3), 4.0, SatisfactionScale::FIVE_POINT).with_nps(11),
        );
        let (h, report) = b.build().unwrap();
        assert_eq!(report.repaired(), 3);
        let kinds: Vec<_> = h.customer(0).unwrap().interactions().kinds().collect();
        let unanswered = InteractionKind::SupportTicket {
            first_response_hours: None,
        };
        assert_eq!(kinds, [unanswered.clone(), unanswered]);
        assert_eq!(h.feedback().next().unwrap().nps, None);
    }

    #[test]
    fn drops_satisfaction_off_scale() {
        let mut b = one_customer();
        for v in [0.5, 5.5, f64::NAN] {
            b.push_feedback(Feedback::new(
                1u64,
                day(3),
                v,
                SatisfactionScale::FIVE_POINT,
            ));
        }
        b.push_feedback(Feedback::new(
            1u64,
            day(3),
            9.0,
            SatisfactionScale::TEN_POINT,
        ));
        let (h, report) = b.build().unwrap();
        assert_eq!(h.feedback_count(), 1);
        assert_eq!(report.count("out_of_scale"), 2);
        assert_eq!(report.count("non_finite"), 1);
    }

    #[test]
    fn received_equals_accepted_plus_dropped() {
        let mut b = one_customer();
        b.push_order(Order::new(1u64, day(3), f64::NAN));
        b.push_order(Order::new(1u64, day(3), 1.0));
        b.push_order(Order::new(1u64, day(3), 1.0));
        b.push_order(Order::new(9u64, day(3), 1.0));
        b.push_interaction(Interaction::new(
            1u64,
            day(1),
            InteractionKind::Complaint {
                topic: ComplaintTopic::Price,
            },
        ));
        let (_, report) = b.build().unwrap();
        for kind in [
            RecordKind::Customer,
            RecordKind::Order,
            RecordKind::Interaction,
            RecordKind::Feedback,
        ] {
            assert_eq!(
                report.received().get(kind),
                report.accepted().get(kind) + report.dropped(kind),
                "{kind}"
            );
        }
    }

    #[test]
    fn strict_build_names_the_first_problem() {
        let mut b = one_customer();
        b.push_order(Order::new(1u64, day(3), 1.0));
        b.push_order(Order::new(1u64, day(1), 1.0));
        b.push_order(Order::new(1u64, day(3), f64::NAN));
        let err = b.build_strict().unwrap_err();
        let ErrorKind::InvalidRecord(issue) = err.kind() else {
            panic!("{err}")
        };
        assert_eq!(issue.record().index(), 1);
        assert_eq!(issue.field(), Some("time"));
        assert!(
            err.to_string()
                .starts_with("order 1, field `time`: event at 2024-01-01")
        );
        assert!(one_customer().build_strict().is_ok());
    }

    #[test]
    fn campaigns_are_canonical_whatever_the_push_order() {
        let build = |names: &[&str]| {
            let mut b = one_customer();
            for n in names {
                let kind = InteractionKind::CampaignResponse {
                    campaign: (*n).into(),
                };
                b.push_interaction(Interaction::new(1u64, day(3), kind));
            }
            b.build().unwrap().0
        };
        assert_eq!(build(&["b", "a"]), build(&["a", "b"]));
    }

    #[test]
    fn interner_direct_table_and_map_agree() {
        let mut i = Interner::default();
        let ids = [5u64, 1 << 40, 3, 70_000, 5, 1 << 40, 123_456, 3];
        let keys: Vec<u32> = ids.iter().map(|&n| i.intern_u64(n)).collect();
        assert_eq!(keys, [0, 1, 2, 3, 0, 1, 4, 2]);
        for (k, &n) in keys.iter().zip(&ids) {
            assert_eq!(i.ids[*k as usize], CustomerId::from(n));
        }
        assert_eq!(i.intern_str("70000"), 3);
        assert_eq!(i.intern_str("C-1"), 5);
    }

    #[test]
    fn groups_rows_across_many_buckets() {
        // Enough rows and customers to use several buckets and threads.
        let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        let n = 50_000u64;
        for i in 0..200_000u64 {
            let c = (i * 7919) % n;
            b.push_order(Order::new(c, day(1 + (i % 28) as u32), i as f64));
        }
        let (h, report) = b.build().unwrap();
        assert!(report.is_clean());
        assert_eq!(h.customer_count(), n as usize);
        for c in h.customers() {
            let id = c.id().as_u64().unwrap();
            let o = c.orders();
            assert_eq!(o.len(), 4);
            assert!(o.amounts().iter().all(|&a| (a as u64 * 7919) % n == id));
            assert!(o.times().zip(o.times().skip(1)).all(|(a, b)| a <= b));
        }
    }
}
