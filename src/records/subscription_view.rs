//! Columnar storage of subscriptions and their events in a [`History`], and
//! the borrowed views that read them, including the point-in-time state
//! queries every consumer shares.

use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::history::{CustomerView, EventColumns, History};
use super::subscription::code;
use super::{BillingPeriod, ChurnReason, CustomerId, SubscriptionEventKind};
use crate::util::{MICROS_PER_DAY, from_micros, to_micros};

/// Marks "no plan" in the event detail column and "none" in u32 columns.
pub(super) const NO_SYMBOL: u32 = u32::MAX;
/// Marks "no current period end" in the period-end column.
pub(super) const NO_TIME: i64 = i64::MIN;
/// Cancellation reasons below this code are built in; above, custom (code − this).
pub(super) const CUSTOM_REASON: u32 = ChurnReason::BUILT_IN.len() as u32;

/// Subscriptions sorted by (customer, start, id) with per-customer offsets,
/// and their events sorted by (subscription, time, kind) with
/// per-subscription offsets.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct SubscriptionTable {
    /// `offsets[c]..offsets[c + 1]` are customer `c`'s subscriptions; empty
    /// when the history has no subscription (nothing allocated then).
    pub(super) offsets: Vec<usize>,
    /// Subscription id, into `names`.
    pub(super) id: Vec<u32>,
    /// Plan at the start, into `plans`.
    pub(super) plan: Vec<u32>,
    pub(super) start: Vec<i64>,
    pub(super) period: Vec<BillingPeriod>,
    pub(super) price: Vec<f64>,
    pub(super) auto_renew: Vec<bool>,
    /// Stated current period end, or [`NO_TIME`].
    pub(super) period_end: Vec<i64>,
    /// Events, grouped per subscription (`events.offsets[s]..events.offsets[s + 1]`).
    pub(super) events: EventColumns<SubEventCols>,
    /// Distinct subscription ids, sorted.
    pub(super) names: Vec<Arc<str>>,
    /// Distinct plans (of subscriptions and plan changes), sorted.
    pub(super) plans: Vec<Arc<str>>,
    /// Distinct custom cancellation reasons, sorted.
    pub(super) reasons: Vec<Arc<str>>,
}

/// The columns of subscription events beyond their time.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct SubEventCols {
    /// [`SubscriptionEventKind::code`].
    pub(super) kind: Vec<u8>,
    /// New price of upgrades and downgrades, 0 otherwise (NaN would break `History: PartialEq`).
    pub(super) price: Vec<f64>,
    /// Upgrades and downgrades: the new plan (into `plans`) or [`NO_SYMBOL`];
    /// cancellations: the reason code (built-in position, or
    /// [`CUSTOM_REASON`] + index into `reasons`); otherwise [`NO_SYMBOL`].
    pub(super) detail: Vec<u32>,
    /// Cancellation notes by event row, sorted (sparse: most events have none).
    pub(super) notes: Vec<(u32, Box<str>)>,
}

/// Bytes per subscription in the fixed-width columns: id and plan symbols
/// (4 + 4), start (8), period (8), price (8), auto-renew (1), stated period
/// end (8) and its event offset (8).
pub const BYTES_PER_SUBSCRIPTION: usize = 49;
/// Bytes per subscription event: time (8), kind (1), price (8) and detail (4);
/// each cancellation note adds 24 bytes plus its text.
pub const BYTES_PER_SUBSCRIPTION_EVENT: usize = 21;

impl SubscriptionTable {
    pub(super) fn len(&self) -> usize {
        self.start.len()
    }

    /// The earliest and latest subscription start or event time, if any.
    pub(super) fn span(&self) -> Option<(i64, i64)> {
        let times = self.start.iter().chain(&self.events.time).copied();
        times.fold(None, |acc, t| match acc {
            None => Some((t, t)),
            Some((a, b)) => Some((a.min(t), b.max(t))),
        })
    }

    pub(super) fn customer_range(&self, c: usize) -> Range<usize> {
        if self.offsets.is_empty() {
            0..0
        } else {
            self.offsets[c]..self.offsets[c + 1]
        }
    }

    fn event_range(&self, s: usize) -> Range<usize> {
        self.events.offsets[s]..self.events.offsets[s + 1]
    }

    /// Heap bytes held (subscription columns, events, interned strings).
    pub(super) fn memory(&self) -> (usize, usize) {
        use std::mem::size_of;
        let strings = |v: &Vec<Arc<str>>| {
            v.capacity() * size_of::<Arc<str>>() + v.iter().map(|s| s.len() + 16).sum::<usize>()
        };
        let subs = self.offsets.capacity() * 8
            + self.id.capacity() * 4
            + self.plan.capacity() * 4
            + self.start.capacity() * 8
            + self.period.capacity() * size_of::<BillingPeriod>()
            + self.price.capacity() * 8
            + self.auto_renew.capacity()
            + self.period_end.capacity() * 8
            + self.events.offsets.capacity() * 8
            + strings(&self.names)
            + strings(&self.plans);
        let e = &self.events;
        let notes = e.cols.notes.capacity() * size_of::<(u32, Box<str>)>()
            + e.cols.notes.iter().map(|(_, s)| s.len()).sum::<usize>();
        let events = e.time.capacity() * 8
            + e.cols.kind.capacity()
            + e.cols.price.capacity() * 8
            + e.cols.detail.capacity() * 4
            + notes
            + strings(&self.reasons);
        (subs, events)
    }

    fn reason(&self, code: u32) -> ChurnReason {
        match ChurnReason::BUILT_IN.get(code as usize) {
            Some(r) => r.clone(),
            None => self
                .reasons
                .get((code - CUSTOM_REASON) as usize)
                .map_or(ChurnReason::Other, |s| ChurnReason::Custom(s.clone())),
        }
    }

    fn plan_name(&self, sym: u32) -> Option<&str> {
        self.plans.get(sym as usize).map(|s| &**s)
    }

    fn event_kind(&self, row: usize) -> SubscriptionEventKind {
        let c = &self.events.cols;
        let plan = || self.plan_name(c.detail[row]).map(str::to_owned);
        match c.kind[row] {
            code::RENEWAL => SubscriptionEventKind::Renewal,
            code::UPGRADE => SubscriptionEventKind::Upgrade {
                price: c.price[row],
                plan: plan(),
            },
            code::DOWNGRADE => SubscriptionEventKind::Downgrade {
                price: c.price[row],
                plan: plan(),
            },
            code::PAUSE => SubscriptionEventKind::Pause,
            code::RESUME => SubscriptionEventKind::Resume,
            code::PAYMENT_FAILED => SubscriptionEventKind::PaymentFailed,
            code::CANCELLATION_REQUESTED => SubscriptionEventKind::CancellationRequested {
                reason: self.reason(c.detail[row]),
                note: c
                    .notes
                    .binary_search_by_key(&(row as u32), |(r, _)| *r)
                    .ok()
                    .map(|i| c.notes[i].1.to_string()),
            },
            _ => SubscriptionEventKind::Ended,
        }
    }
}

impl History {
    /// Number of subscriptions.
    pub fn subscription_count(&self) -> usize {
        self.subs.len()
    }

    /// Number of subscription events.
    pub fn subscription_event_count(&self) -> usize {
        self.subs.events.time.len()
    }

    /// The subscription with index `index` (`0..subscription_count()`, in
    /// (customer, start, id) order), if any.
    ///
    /// # Example
    ///
    /// ```
    /// # let history = churnwise::doc_support::subscribers()?;
    /// let s = history.subscription(0).expect("one subscription at least");
    /// assert_eq!((s.id(), s.plan()), ("S-1", "basic"));
    /// assert!(history.subscription(history.subscription_count()).is_none());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn subscription(&self, index: usize) -> Option<SubscriptionView<'_>> {
        (index < self.subs.len()).then_some(SubscriptionView {
            history: self,
            index,
        })
    }

    /// Every subscription, in (customer, start, id) order.
    ///
    /// # Example
    ///
    /// ```
    /// # let history = churnwise::doc_support::subscribers()?;
    /// let ids: Vec<&str> = history.subscriptions().map(|s| s.id()).collect();
    /// assert_eq!(ids, ["S-1", "S-2", "S-3"]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn subscriptions(&self) -> impl ExactSizeIterator<Item = SubscriptionView<'_>> + '_ {
        (0..self.subs.len()).map(move |index| SubscriptionView {
            history: self,
            index,
        })
    }
}

impl<'a> CustomerView<'a> {
    /// The customer's subscriptions, in (start, id) order.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::CustomerId;
    ///
    /// # let history = churnwise::doc_support::subscribers()?;
    /// let c = history.find(&CustomerId::from(1u64)).expect("customer 1");
    /// let subs = c.subscriptions();
    /// assert_eq!(subs.len(), 2);
    /// assert_eq!(subs.get(1).map(|s| s.id()), Some("S-2"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn subscriptions(&self) -> Subscriptions<'a> {
        let r = self.history.subs.customer_range(self.index);
        Subscriptions {
            history: self.history,
            start: r.start,
            end: r.end,
        }
    }
}

/// One customer's subscriptions, in (start, id) order, from
/// [`CustomerView::subscriptions`].
#[derive(Debug, Clone, Copy)]
pub struct Subscriptions<'a> {
    history: &'a History,
    start: usize,
    end: usize,
}

impl<'a> Subscriptions<'a> {
    /// Number of subscriptions.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The `i`-th subscription, if any.
    pub fn get(&self, i: usize) -> Option<SubscriptionView<'a>> {
        (i < self.len()).then_some(SubscriptionView {
            history: self.history,
            index: self.start + i,
        })
    }

    /// The subscriptions.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = SubscriptionView<'a>> + use<'a> {
        let history = self.history;
        (self.start..self.end).map(move |index| SubscriptionView { history, index })
    }
}

/// The state of a subscription at a point in time, from
/// [`SubscriptionView::status_at`].
///
/// # Example
///
/// ```
/// use churnwise::records::SubscriptionStatus;
///
/// assert!(SubscriptionStatus::PendingCancellation.is_billing());
/// assert!(!SubscriptionStatus::Paused.is_billing());
/// assert_eq!(SubscriptionStatus::Active.to_string(), "active");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SubscriptionStatus {
    /// Before the start.
    NotStarted,
    /// Running and billed.
    Active,
    /// Paused (not billed).
    Paused,
    /// A cancellation was requested; running (and billed) until the end of the paid period.
    PendingCancellation,
    /// Ended: an `Ended` event, or the end of a period that was not renewed.
    Ended,
}

impl SubscriptionStatus {
    /// Whether the subscription still holds its customer in this state
    /// (`Active`, `Paused` or `PendingCancellation`): the one notion of a
    /// running subscription behind contractual labels, features,
    /// [`ChurnDefinition::SubscriptionEnded`](crate::segment::ChurnDefinition::SubscriptionEnded)
    /// and the MRR measures.
    ///
    /// ```
    /// use churnwise::records::SubscriptionStatus;
    ///
    /// assert!(SubscriptionStatus::Paused.is_running());
    /// assert!(!SubscriptionStatus::Ended.is_running() && !SubscriptionStatus::NotStarted.is_running());
    /// ```
    pub fn is_running(&self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Active
                | SubscriptionStatus::Paused
                | SubscriptionStatus::PendingCancellation
        )
    }

    /// Whether the subscription earns recurring revenue in this state
    /// (`Active` or `PendingCancellation`).
    pub fn is_billing(&self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Active | SubscriptionStatus::PendingCancellation
        )
    }

    /// The snake_case label.
    pub fn label(&self) -> &'static str {
        match self {
            SubscriptionStatus::NotStarted => "not_started",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Paused => "paused",
            SubscriptionStatus::PendingCancellation => "pending_cancellation",
            SubscriptionStatus::Ended => "ended",
        }
    }
}

impl std::fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// One subscription of a [`History`], borrowed, with its events and its
/// state at any time.
///
/// # Life cycle
///
/// All state queries replay the subscription's events up to and including
/// the time asked (an event at exactly `t` has happened by `t`, as for
/// features as of `t`), so they never read the future and always agree
/// with each other:
///
/// - Before [`start`](Self::start) the status is `NotStarted`.
/// - **Period ends** are the start moved by whole billing periods (calendar
///   months or years with end-of-month clamping, counted from the start, or
///   `n` days). When the record states a
///   [`current_period_end`](Self::current_period_end), that date is the
///   billing anchor instead: period ends are it moved by whole periods
///   (backwards too), the first being the first one after the start.
/// - The **paid period** ends at the first period end, plus one period per
///   `Renewal` event so far.
/// - `Pause` → `Paused` until `Resume`; `CancellationRequested` →
///   `PendingCancellation` (billed until the paid period ends); a later
///   `Renewal` withdraws the pending cancellation.
/// - The subscription **ends** at an `Ended` event, or:
///   - when it does not renew automatically, at the end of the paid period
///     unless a `Renewal` arrives by then (a renewal at exactly the period
///     end counts);
///   - when it renews automatically and a cancellation is pending, at the
///     later of the paid period's end and the end of the period in which
///     the cancellation was requested (periods run from one period end,
///     included, to the next, excluded), unless a `Renewal` arrives first.
///
///   An auto-renewing subscription without a pending cancellation runs on
///   until an `Ended` event, renewal events or not (so sources that record
///   no renewals still work). Once ended it stays ended; later events are
///   ignored.
/// - Events at the same time apply in [`SubscriptionEventKind::code`]
///   order (a renewal before an end).
///
/// # Example
///
/// ```
/// use churnwise::records::{ChurnReason, CustomerId, SubscriptionStatus};
/// # let day = churnwise::doc_support::day;
/// # let history = churnwise::doc_support::subscribers()?;
/// // S-1: monthly at 10 from day 0, upgraded to 25 ("pro") on day 40,
/// // cancellation requested (price) on day 70, so it ends at the paid
/// // period's end on 2024-04-01 (day 91): one renewal on day 31, one on day 60.
/// let s = history.find(&CustomerId::from(1u64)).unwrap().subscriptions().get(0).unwrap();
/// assert_eq!(s.status_at(day(10)), SubscriptionStatus::Active);
/// assert_eq!((s.price_at(day(39)), s.price_at(day(40))), (10.0, 25.0));
/// assert_eq!(s.plan_at(day(50)), "pro");
/// assert_eq!(s.status_at(day(80)), SubscriptionStatus::PendingCancellation);
/// assert_eq!(s.mrr_at(day(80)), 25.0);
/// assert_eq!(s.ended_at(), Some(day(91)));
/// assert_eq!(s.status_at(day(91)), SubscriptionStatus::Ended);
/// assert_eq!(s.mrr_at(day(91)), 0.0);
/// assert_eq!(s.end_reason(), Some(ChurnReason::Price));
/// assert_eq!(s.renewals_up_to(day(60)), 2);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionView<'a> {
    history: &'a History,
    index: usize,
}

/// The state reached by replaying events.
#[derive(Debug, Clone, Copy)]
struct Replay {
    ended: Option<i64>,
    paused: bool,
    /// The pending cancellation's event row.
    pending: Option<usize>,
    /// For auto-renewing subscriptions, the end of the period in which the
    /// pending cancellation was requested.
    pending_end: i64,
    failed: bool,
    renewals: u32,
    /// The cancellation row, or `None` with `failed`, at the end.
    end_cancel: Option<usize>,
    end_failed: bool,
}

impl<'a> SubscriptionView<'a> {
    fn table(&self) -> &'a SubscriptionTable {
        &self.history.subs
    }

    /// The subscription's index in the history (`0..subscription_count()`).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The subscription id.
    pub fn id(&self) -> &'a str {
        let t = self.table();
        &t.names[t.id[self.index] as usize]
    }

    /// The customer's dense index (see [`History::customer`]).
    pub fn customer_index(&self) -> usize {
        // The first customer whose range ends after this subscription.
        self.table().offsets[1..].partition_point(|&end| end <= self.index)
    }

    /// The customer's id.
    pub fn customer_id(&self) -> &'a CustomerId {
        &self.history.customer_ids()[self.customer_index()]
    }

    /// The plan at the start.
    pub fn plan(&self) -> &'a str {
        let t = self.table();
        t.plan_name(t.plan[self.index]).unwrap_or_default()
    }

    /// The start.
    pub fn start(&self) -> DateTime<Utc> {
        from_micros(self.start_micros())
    }

    pub(crate) fn start_micros(&self) -> i64 {
        self.table().start[self.index]
    }

    /// The billing period.
    pub fn period(&self) -> BillingPeriod {
        self.table().period[self.index]
    }

    /// The price per period at the start (see [`price_at`](Self::price_at)).
    pub fn price(&self) -> f64 {
        self.table().price[self.index]
    }

    /// Whether it renews automatically.
    pub fn auto_renew(&self) -> bool {
        self.table().auto_renew[self.index]
    }

    /// The current period end stated by the record, if any.
    pub fn current_period_end(&self) -> Option<DateTime<Utc>> {
        let e = self.table().period_end[self.index];
        (e != NO_TIME).then(|| from_micros(e))
    }

    /// The events, in (time, kind code) order.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::SubscriptionEventKind;
    /// # let history = churnwise::doc_support::subscribers()?;
    /// let s = history.subscription(0).unwrap();
    /// let labels: Vec<&str> = s.events().iter().map(|(_, k)| k.label()).collect();
    /// assert_eq!(labels, ["renewal", "upgrade", "renewal", "cancellation_requested"]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn events(&self) -> SubscriptionEvents<'a> {
        let r = self.table().event_range(self.index);
        SubscriptionEvents {
            table: self.table(),
            start: r.start,
            end: r.end,
        }
    }

    /// Period end number `j` (may be negative), in microseconds;
    /// saturated on overflow.
    fn boundary(&self, j: i64) -> i64 {
        let t = self.table();
        let anchor = match t.period_end[self.index] {
            NO_TIME => t.start[self.index],
            e => e,
        };
        match self.period().shift(from_micros(anchor), j) {
            Some(b) => to_micros(b),
            None if j >= 0 => i64::MAX,
            None => i64::MIN,
        }
    }

    /// The smallest `j` whose period end is after `x` (period ends increase with `j`).
    fn first_boundary_after(&self, x: i64) -> i64 {
        const FAR: i64 = 1 << 40;
        let t = self.table();
        let anchor = match t.period_end[self.index] {
            NO_TIME => t.start[self.index],
            e => e,
        };
        let per = self.period().approx_days() * MICROS_PER_DAY as f64;
        let est = ((x as f64 - anchor as f64) / per)
            .floor()
            .clamp(-FAR as f64, FAR as f64) as i64;
        // Bracket: boundary(lo) <= x < boundary(hi), then bisect.
        let (mut lo, mut hi) = (est - 1, est + 1);
        let mut step = 2;
        while self.boundary(lo) > x && lo > -FAR {
            lo -= step;
            step *= 2;
        }
        step = 2;
        while self.boundary(hi) <= x && hi < FAR {
            hi += step;
            step *= 2;
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.boundary(mid) > x {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    /// Replays the events up to and including `t`.
    fn replay(&self, t: i64) -> Replay {
        let table = self.table();
        let cols = &table.events.cols;
        let k0 = self.first_boundary_after(self.start_micros());
        let auto = self.auto_renew();
        let mut s = Replay {
            ended: None,
            paused: false,
            pending: None,
            pending_end: i64::MIN,
            failed: false,
            renewals: 0,
            end_cancel: None,
            end_failed: false,
        };
        let lapse = |s: &Replay| {
            let paid = self.boundary(k0 + i64::from(s.renewals));
            if !auto {
                Some(paid)
            } else {
                s.pending.map(|_| paid.max(s.pending_end))
            }
        };
        let end = |s: &mut Replay, at: i64| {
            s.ended = Some(at);
            s.end_cancel = s.pending;
            s.end_failed = s.pending.is_none() && s.failed;
        };
        for row in table.event_range(self.index) {
            let time = table.events.time[row];
            if time > t {
                break;
            }
            if let Some(p) = lapse(&s).filter(|&p| p < time) {
                end(&mut s, p);
                return s;
            }
            match cols.kind[row] {
                code::RENEWAL => {
                    s.renewals += 1;
                    s.pending = None;
                    s.failed = false;
                }
                code::PAUSE => s.paused = true,
                code::RESUME => s.paused = false,
                code::PAYMENT_FAILED => s.failed = true,
                code::CANCELLATION_REQUESTED => {
                    if s.pending.is_none() {
                        s.pending_end = self.boundary(self.first_boundary_after(time));
                    }
                    s.pending = Some(row);
                }
                code::ENDED => {
                    end(&mut s, time);
                    return s;
                }
                _ => {}
            }
        }
        if let Some(p) = lapse(&s).filter(|&p| p <= t) {
            end(&mut s, p);
        }
        s
    }

    /// The status at `t` (see [Life cycle](Self#life-cycle)).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::SubscriptionStatus;
    /// # let day = churnwise::doc_support::day;
    /// # let history = churnwise::doc_support::subscribers()?;
    /// // S-2 (customer 1): yearly from day 100, paused on day 150, resumed on day 200.
    /// let s = history.subscription(1).unwrap();
    /// assert_eq!(s.status_at(day(99)), SubscriptionStatus::NotStarted);
    /// assert_eq!(s.status_at(day(150)), SubscriptionStatus::Paused);
    /// assert_eq!(s.status_at(day(200)), SubscriptionStatus::Active);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn status_at(&self, t: DateTime<Utc>) -> SubscriptionStatus {
        self.status_at_micros(to_micros(t))
    }

    pub(crate) fn status_at_micros(&self, t: i64) -> SubscriptionStatus {
        if t < self.start_micros() {
            return SubscriptionStatus::NotStarted;
        }
        let s = self.replay(t);
        if s.ended.is_some() {
            SubscriptionStatus::Ended
        } else if s.paused {
            SubscriptionStatus::Paused
        } else if s.pending.is_some() {
            SubscriptionStatus::PendingCancellation
        } else {
            SubscriptionStatus::Active
        }
    }

    /// The price per period in effect at `t`: the start price changed by
    /// every upgrade and downgrade up to and including `t` (before the start:
    /// the start price; after the end: the last price).
    pub fn price_at(&self, t: DateTime<Utc>) -> f64 {
        self.price_at_micros(to_micros(t))
    }

    pub(crate) fn price_at_micros(&self, t: i64) -> f64 {
        let table = self.table();
        let cols = &table.events.cols;
        let r = table.event_range(self.index);
        let upto = r.start + table.events.time[r.clone()].partition_point(|&x| x <= t);
        (r.start..upto)
            .rev()
            .find(|&row| matches!(cols.kind[row], code::UPGRADE | code::DOWNGRADE))
            .map_or(self.price(), |row| cols.price[row])
    }

    /// The plan in effect at `t`: the start plan changed by every upgrade or
    /// downgrade naming a plan, up to and including `t`.
    pub fn plan_at(&self, t: DateTime<Utc>) -> &'a str {
        let table = self.table();
        let cols = &table.events.cols;
        let r = table.event_range(self.index);
        let t = to_micros(t);
        let upto = r.start + table.events.time[r.clone()].partition_point(|&x| x <= t);
        (r.start..upto)
            .rev()
            .filter(|&row| matches!(cols.kind[row], code::UPGRADE | code::DOWNGRADE))
            .find_map(|row| table.plan_name(cols.detail[row]))
            .unwrap_or_else(|| self.plan())
    }

    /// Monthly recurring revenue at `t`: [`price_at`](Self::price_at) ×
    /// [`BillingPeriod::monthly_factor`] while `Active` or
    /// `PendingCancellation`, else 0.
    pub fn mrr_at(&self, t: DateTime<Utc>) -> f64 {
        self.mrr_at_micros(to_micros(t))
    }

    pub(crate) fn mrr_at_micros(&self, t: i64) -> f64 {
        self.mrr_in(self.status_at_micros(t), t)
    }

    /// The MRR at `t` given the status at `t` (saves a replay when the
    /// caller has it).
    pub(crate) fn mrr_in(&self, status: SubscriptionStatus, t: i64) -> f64 {
        if status.is_billing() {
            self.price_at_micros(t) * self.period().monthly_factor()
        } else {
            0.0
        }
    }

    /// When it ended, if it did (see [Life cycle](Self#life-cycle)): the
    /// `Ended` event, or the end of the paid period it did not renew.
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        self.replay(i64::MAX).ended.map(from_micros)
    }

    /// Why it ended: the reason of the cancellation pending at the end;
    /// [`ChurnReason::PaymentFailed`] when it ended after a payment failure
    /// (not followed by a renewal) without a cancellation request; `None`
    /// when it has not ended or ended without either (a plain lapse).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{ChurnReason, CustomerId};
    /// # let history = churnwise::doc_support::subscribers()?;
    /// // S-3 (customer 2): a payment failure, then ended.
    /// let s = history.find(&CustomerId::from(2u64)).unwrap().subscriptions().get(0).unwrap();
    /// assert_eq!(s.end_reason(), Some(ChurnReason::PaymentFailed));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn end_reason(&self) -> Option<ChurnReason> {
        let s = self.replay(i64::MAX);
        s.ended?;
        match s.end_cancel {
            Some(row) => Some(self.table().reason(self.table().events.cols.detail[row])),
            None => s.end_failed.then_some(ChurnReason::PaymentFailed),
        }
    }

    /// The number of `Renewal` events up to and including `t`.
    pub fn renewals_up_to(&self, t: DateTime<Utc>) -> u32 {
        let t = to_micros(t);
        let events = self.events();
        let upto = events.micros().partition_point(|&x| x <= t);
        events.codes()[..upto]
            .iter()
            .filter(|&&k| k == code::RENEWAL)
            .count() as u32
    }

    /// The first period end strictly after `t` (after the start when `t` is
    /// before it), or `None` when the subscription has ended by `t`. Period
    /// ends come from the start (or the stated
    /// [`current_period_end`](Self::current_period_end)) and the billing
    /// period, see [Life cycle](Self#life-cycle).
    ///
    /// # Example
    ///
    /// ```
    /// # let day = churnwise::doc_support::day;
    /// # let history = churnwise::doc_support::subscribers()?;
    /// let s = history.subscription(0).unwrap(); // monthly from 2024-01-01
    /// assert_eq!(s.next_period_end_after(day(0)), Some(day(31))); // Feb 1
    /// assert_eq!(s.next_period_end_after(day(31)), Some(day(60))); // Mar 1
    /// assert_eq!(s.next_period_end_after(day(95)), None); // ended on day 91
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn next_period_end_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let m = to_micros(t);
        if self.status_at_micros(m) == SubscriptionStatus::Ended {
            return None;
        }
        self.period_end_after_micros(m).map(from_micros)
    }

    /// [`next_period_end_after`](Self::next_period_end_after) for a caller
    /// that knows the subscription has not ended by `t` (no replay).
    pub(crate) fn period_end_after_micros(&self, t: i64) -> Option<i64> {
        let b = self.boundary(self.first_boundary_after(t.max(self.start_micros())));
        (b != i64::MAX).then_some(b)
    }
}

/// A subscription's events, in (time, kind code) order, from
/// [`SubscriptionView::events`].
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionEvents<'a> {
    table: &'a SubscriptionTable,
    start: usize,
    end: usize,
}

impl<'a> SubscriptionEvents<'a> {
    /// Number of events.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The event times in microseconds since the epoch, ascending.
    pub(crate) fn micros(&self) -> &'a [i64] {
        &self.table.events.time[self.start..self.end]
    }

    /// The kind codes ([`SubscriptionEventKind::code`]), in time order.
    pub(crate) fn codes(&self) -> &'a [u8] {
        &self.table.events.cols.kind[self.start..self.end]
    }

    /// The times, ascending.
    pub fn times(&self) -> impl ExactSizeIterator<Item = DateTime<Utc>> + use<'a> {
        self.micros().iter().map(|&t| from_micros(t))
    }

    /// The events as (time, kind), owned (plans, reasons and notes are
    /// copied out of the history).
    pub fn iter(
        &self,
    ) -> impl ExactSizeIterator<Item = (DateTime<Utc>, SubscriptionEventKind)> + use<'a> {
        let table = self.table;
        (self.start..self.end)
            .map(move |row| (from_micros(table.events.time[row]), table.event_kind(row)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{
        Customer, HistoryBuilder, Subscription, SubscriptionEvent, SubscriptionEventKind as K,
    };
    use chrono::TimeZone;

    fn day(d: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + chrono::TimeDelta::days(d)
    }

    /// One customer with one subscription `sub` and `events` (day, kind).
    fn one(sub: Subscription, events: Vec<(i64, K)>) -> History {
        let mut b = HistoryBuilder::new();
        b.push_customer(Customer::new(1u64, day(-400)));
        let id = sub.id.clone();
        b.push_subscription(sub);
        for (d, k) in events {
            b.push_subscription_event(SubscriptionEvent::new(1u64, id.clone(), day(d), k));
        }
        let (h, report) = b.build().unwrap();
        assert!(report.is_clean(), "{report}");
        h
    }

    fn monthly(start: DateTime<Utc>, price: f64) -> Subscription {
        Subscription::new(1u64, "S", "basic", start, BillingPeriod::Monthly, price)
    }

    #[test]
    fn non_renewing_subscription_lapses_at_period_end_unless_renewed_by_then() {
        let jan31 = day(30);
        let feb29 = day(59);
        let h = one(monthly(jan31, 10.0).with_auto_renew(false), vec![]);
        let s = h.subscription(0).unwrap();
        assert_eq!(s.ended_at(), Some(feb29));
        assert_eq!(
            s.status_at(feb29 - chrono::TimeDelta::seconds(1)),
            SubscriptionStatus::Active
        );
        assert_eq!(s.status_at(feb29), SubscriptionStatus::Ended);
        assert_eq!(s.end_reason(), None);
        assert_eq!(s.next_period_end_after(jan31), Some(feb29));
        assert_eq!(s.next_period_end_after(feb29), None);

        // A renewal exactly at the period end keeps it for another month (Mar 31).
        let h = one(
            monthly(jan31, 10.0).with_auto_renew(false),
            vec![(59, K::Renewal)],
        );
        let s = h.subscription(0).unwrap();
        assert_eq!(s.status_at(feb29), SubscriptionStatus::Active);
        assert_eq!(s.ended_at(), Some(day(90)));
        assert_eq!(s.renewals_up_to(feb29), 1);
        assert_eq!(s.renewals_up_to(day(58)), 0);
    }

    #[test]
    fn auto_renewing_subscription_runs_on_without_renewal_events() {
        let h = one(monthly(day(0), 10.0), vec![]);
        let s = h.subscription(0).unwrap();
        assert_eq!(s.ended_at(), None);
        assert_eq!(s.status_at(day(1000)), SubscriptionStatus::Active);
        assert_eq!(s.mrr_at(day(1000)), 10.0);
        assert_eq!(s.mrr_at(day(-1)), 0.0);
        assert_eq!(s.status_at(day(-1)), SubscriptionStatus::NotStarted);
        // Day 365 is 2024-12-31 (a leap year); day 366 is 2025-01-01.
        assert_eq!(s.next_period_end_after(day(365)), Some(day(366)));
        assert_eq!(s.next_period_end_after(day(366)), Some(day(366 + 31)));
    }

    #[test]
    fn renewal_withdraws_a_pending_cancellation() {
        let cancel = K::CancellationRequested {
            reason: ChurnReason::Competitor,
            note: None,
        };
        let h = one(
            monthly(day(0), 10.0),
            vec![(10, cancel.clone()), (31, K::Renewal)],
        );
        let s = h.subscription(0).unwrap();
        assert_eq!(
            s.status_at(day(30)),
            SubscriptionStatus::PendingCancellation
        );
        assert_eq!(s.status_at(day(31)), SubscriptionStatus::Active);
        assert_eq!((s.ended_at(), s.end_reason()), (None, None));

        // Without the renewal it ends on Feb 1 with the cancellation's reason.
        let h = one(monthly(day(0), 10.0), vec![(10, cancel)]);
        let s = h.subscription(0).unwrap();
        assert_eq!(s.ended_at(), Some(day(31)));
        assert_eq!(s.end_reason(), Some(ChurnReason::Competitor));
    }

    #[test]
    fn auto_renewing_cancellation_ends_with_the_current_period_without_renewal_events() {
        let cancel = K::CancellationRequested {
            reason: ChurnReason::Other,
            note: None,
        };
        // Monthly from Jan 1; cancelled Apr 10 (day 100): ends May 1 (day 121).
        let h = one(monthly(day(0), 10.0), vec![(100, cancel.clone())]);
        let s = h.subscription(0).unwrap();
        assert_eq!(s.status_at(day(99)), SubscriptionStatus::Active);
        assert_eq!(
            s.status_at(day(120)),
            SubscriptionStatus::PendingCancellation
        );
        assert_eq!(s.ended_at(), Some(day(121)));
        assert_eq!(s.status_at(day(121)), SubscriptionStatus::Ended);
        // Requested exactly on a period end (Apr 1, day 91): that new period runs to May 1.
        let h = one(monthly(day(0), 10.0), vec![(91, cancel)]);
        assert_eq!(h.subscription(0).unwrap().ended_at(), Some(day(121)));
    }

    #[test]
    fn pause_stops_revenue_and_price_changes_apply_from_their_time() {
        let h = one(
            Subscription::new(1u64, "S", "basic", day(0), BillingPeriod::Yearly, 120.0),
            vec![
                (
                    20,
                    K::Downgrade {
                        price: 60.0,
                        plan: Some("lite".into()),
                    },
                ),
                (30, K::Pause),
                (40, K::Resume),
                (
                    50,
                    K::Upgrade {
                        price: 240.0,
                        plan: None,
                    },
                ),
            ],
        );
        let s = h.subscription(0).unwrap();
        assert_eq!(s.mrr_at(day(19)), 10.0);
        assert_eq!(s.mrr_at(day(20)), 5.0);
        assert_eq!(s.mrr_at(day(35)), 0.0);
        assert_eq!(s.status_at(day(35)), SubscriptionStatus::Paused);
        assert_eq!(s.mrr_at(day(40)), 5.0);
        assert_eq!(s.mrr_at(day(50)), 20.0);
        // The upgrade named no plan: the downgrade's plan stays.
        assert_eq!((s.plan_at(day(10)), s.plan_at(day(60))), ("basic", "lite"));
        assert_eq!(s.price(), 120.0);
    }

    #[test]
    fn ended_is_final_and_same_time_events_apply_in_code_order() {
        let h = one(
            monthly(day(0), 10.0),
            vec![(31, K::Ended), (31, K::Renewal)], // later events are dropped by the builder
        );
        let s = h.subscription(0).unwrap();
        assert_eq!(s.renewals_up_to(day(31)), 1);
        assert_eq!(s.status_at(day(31)), SubscriptionStatus::Ended);
        assert_eq!(s.status_at(day(50)), SubscriptionStatus::Ended);
        assert_eq!(s.ended_at(), Some(day(31)));
        assert_eq!(s.end_reason(), None);
    }

    #[test]
    fn payment_failure_is_the_end_reason_only_when_not_renewed_after() {
        let h = one(
            monthly(day(0), 10.0),
            vec![(30, K::PaymentFailed), (45, K::Ended)],
        );
        let s = h.subscription(0).unwrap();
        assert_eq!(s.end_reason(), Some(ChurnReason::PaymentFailed));
        let h = one(
            monthly(day(0), 10.0),
            vec![(30, K::PaymentFailed), (31, K::Renewal), (45, K::Ended)],
        );
        assert_eq!(h.subscription(0).unwrap().end_reason(), None);
    }

    #[test]
    fn stated_period_end_anchors_the_period_ends() {
        // Every 10 days, anchored on day 25: period ends on days 5, 15, 25, ...
        let sub = Subscription::new(1u64, "S", "basic", day(0), BillingPeriod::Days(10), 7.0)
            .with_current_period_end(day(25))
            .with_auto_renew(false);
        let h = one(sub, vec![(15, K::Renewal)]);
        let s = h.subscription(0).unwrap();
        assert_eq!(s.next_period_end_after(day(0)), Some(day(5)));
        assert_eq!(s.next_period_end_after(day(4)), Some(day(5)));
        assert_eq!(s.current_period_end(), Some(day(25)));
        // Paid to day 5, one renewal (on day 15, after the lapse): ended on day 5.
        assert_eq!(s.ended_at(), Some(day(5)));
        assert_eq!(s.next_period_end_after(day(5)), None);
        // Auto-renewing, the same anchor gives day 15 after day 5.
        let sub = Subscription::new(1u64, "S", "basic", day(0), BillingPeriod::Days(10), 7.0)
            .with_current_period_end(day(25));
        let h = one(sub, vec![]);
        let s = h.subscription(0).unwrap();
        assert_eq!(s.next_period_end_after(day(5)), Some(day(15)));
        assert_eq!(s.next_period_end_after(day(-100)), Some(day(5)));
    }

    #[test]
    fn extreme_times_do_not_hang_or_panic() {
        let h = one(monthly(day(0), 10.0), vec![]);
        let s = h.subscription(0).unwrap();
        assert!(s.next_period_end_after(DateTime::<Utc>::MAX_UTC).is_none());
        assert_eq!(
            s.status_at(DateTime::<Utc>::MIN_UTC),
            SubscriptionStatus::NotStarted
        );
        assert_eq!(s.mrr_at(DateTime::<Utc>::MAX_UTC), 10.0);
    }

    #[test]
    fn stated_bytes_match_the_columns() {
        use std::mem::size_of;
        let per_sub = 4 + 4 + 8 + size_of::<BillingPeriod>() + 8 + size_of::<bool>() + 8 + 8;
        assert_eq!(BYTES_PER_SUBSCRIPTION, per_sub);
        assert_eq!(BYTES_PER_SUBSCRIPTION_EVENT, 8 + 1 + 8 + 4);
    }

    #[test]
    fn views_agree_with_the_records() {
        let h = one(monthly(day(0), 10.0), vec![(31, K::Renewal)]);
        let c = h.customer(0).unwrap();
        let subs = c.subscriptions();
        assert_eq!((subs.len(), subs.is_empty()), (1, false));
        let s = subs.iter().next().unwrap();
        assert_eq!((s.id(), s.customer_index(), s.index()), ("S", 0, 0));
        assert_eq!(s.customer_id(), &CustomerId::from(1u64));
        assert_eq!(s.events().times().collect::<Vec<_>>(), [day(31)]);
        assert!(subs.get(1).is_none());
    }
}
