//! Subscriptions and their events: staging when pushed, validation and
//! columnar assembly when built.

use super::*;
use crate::records::subscription::{
    BillingPeriod, Subscription, SubscriptionEvent, SubscriptionEventKind,
};
use crate::records::subscription_view::{
    CUSTOM_REASON, NO_SYMBOL, NO_TIME, SubEventCols, SubscriptionTable,
};
use crate::util::MICROS_PER_DAY;

/// A subscription accepted at push time.
#[derive(Debug, Clone)]
pub(super) struct StagedSub {
    key: u32,
    /// Subscription id symbol.
    name: u32,
    plan: u32,
    start: i64,
    period: BillingPeriod,
    price: f64,
    auto_renew: bool,
    period_end: i64,
    input: u32,
}

/// A subscription event accepted at push time.
#[derive(Debug, Clone, Copy)]
pub(super) struct StagedSubEvent {
    key: u32,
    name: u32,
    time: i64,
    kind: u8,
    price: f64,
    /// Plan symbol, reason code (custom: [`CUSTOM_REASON`] + symbol) or [`NO_SYMBOL`].
    detail: u32,
    input: u32,
}

/// Subscriptions and events waiting for [`HistoryBuilder::build`].
#[derive(Debug, Clone, Default)]
pub(crate) struct StagedSubs {
    subs: Vec<StagedSub>,
    events: Vec<StagedSubEvent>,
    /// Notes by staged event index, ascending (sparse).
    notes: Vec<(u32, Box<str>)>,
    names: StrInterner,
    plans: StrInterner,
    reasons: StrInterner,
}

impl StagedSubs {
    /// Renames customer keys (identities applied).
    pub(super) fn remap(&mut self, remap: &[u32]) {
        for s in &mut self.subs {
            s.key = remap[s.key as usize];
        }
        for e in &mut self.events {
            e.key = remap[e.key as usize];
        }
    }
}

/// A price's problem, if any: not finite, negative, or beyond the amount limit.
fn price_problem(price: f64, limit: f64) -> Option<Problem> {
    if !price.is_finite() {
        Some(Problem::NonFinite { value: price })
    } else if price < 0.0 {
        Some(Problem::Negative { value: price })
    } else if price > limit {
        Some(Problem::AbsurdAmount {
            value: price,
            limit,
        })
    } else {
        None
    }
}

fn period_key(p: BillingPeriod) -> (u8, u32) {
    match p {
        BillingPeriod::Monthly => (0, 0),
        BillingPeriod::Yearly => (1, 0),
        BillingPeriod::Days(n) => (2, n),
    }
}

impl HistoryBuilder {
    /// Adds a subscription.
    ///
    /// Dropped at once (and reported) when its start or stated period end is
    /// outside [`time_range`](Self::time_range), its price is negative, not
    /// finite or beyond [`max_abs_amount`](Self::max_abs_amount), or its
    /// period is 0 days; the rest is checked by [`build`](Self::build).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{BillingPeriod, Customer, HistoryBuilder, Subscription};
    ///
    /// let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new();
    /// b.push_customer(Customer::new(1u64, t));
    /// b.push_subscription(Subscription::new(1u64, "S-1", "basic", t, BillingPeriod::Monthly, 9.0));
    /// b.push_subscription(Subscription::new(1u64, "S-2", "basic", t, BillingPeriod::Monthly, f64::NAN));
    /// let (history, report) = b.build()?;
    /// assert_eq!((history.subscription_count(), report.count("non_finite")), (1, 1));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn push_subscription(&mut self, subscription: Subscription) {
        const KIND: RecordKind = RecordKind::Subscription;
        let input = self.next_input(KIND);
        let s = subscription;
        let start = to_micros(s.start);
        if !self.time_ok(KIND, input, "start", start) {
            return;
        }
        let period_end = match s.current_period_end {
            Some(e) => {
                let e = to_micros(e);
                if !self.time_ok(KIND, input, "current_period_end", e) {
                    return;
                }
                e
            }
            None => NO_TIME,
        };
        let period_end = if period_end != NO_TIME && period_end < start {
            let p = Problem::EndBeforeStart {
                end: from_micros(period_end),
                start: from_micros(start),
            };
            let field = Some("current_period_end");
            self.report(KIND, input, field, p, Action::Repaired);
            NO_TIME
        } else {
            period_end
        };
        if let Some(p) = price_problem(s.price, self.options.max_abs_amount) {
            self.report(KIND, input, Some("price"), p, Action::Dropped);
            return;
        }
        if s.period == BillingPeriod::Days(0) {
            self.report(
                KIND,
                input,
                Some("period"),
                Problem::ZeroPeriod,
                Action::Dropped,
            );
            return;
        }
        let key = self.interner.intern(&s.customer);
        let st = &mut self.subs;
        let staged = StagedSub {
            key,
            name: st.names.intern(&s.id),
            plan: st.plans.intern(&s.plan),
            start,
            period: s.period,
            price: s.price,
            auto_renew: s.auto_renew,
            period_end,
            input: input as u32,
        };
        st.subs.push(staged);
    }

    /// Adds a subscription event.
    ///
    /// Dropped at once (and reported) when its time is outside
    /// [`time_range`](Self::time_range) or an upgrade's or downgrade's price
    /// is negative, not finite or beyond
    /// [`max_abs_amount`](Self::max_abs_amount); the rest (its subscription
    /// exists, the event is not before its start, ...) is checked by
    /// [`build`](Self::build).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::*;
    ///
    /// let day = |d| Utc.with_ymd_and_hms(2024, 1, d, 0, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new();
    /// b.push_customer(Customer::new(1u64, day(1)));
    /// b.push_subscription(Subscription::new(1u64, "S-1", "basic", day(1), BillingPeriod::Days(7), 3.0));
    /// b.push_subscription_event(SubscriptionEvent::new(1u64, "S-1", day(8), SubscriptionEventKind::Renewal));
    /// b.push_subscription_event(SubscriptionEvent::new(1u64, "S-9", day(8), SubscriptionEventKind::Renewal));
    /// let (history, report) = b.build()?;
    /// assert_eq!(history.subscription_event_count(), 1);
    /// assert_eq!(report.count("unknown_subscription"), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn push_subscription_event(&mut self, event: SubscriptionEvent) {
        const KIND: RecordKind = RecordKind::SubscriptionEvent;
        let input = self.next_input(KIND);
        let time = to_micros(event.time);
        if !self.time_ok(KIND, input, "time", time) {
            return;
        }
        let code = event.kind.code();
        let (price, detail, note) = match event.kind {
            SubscriptionEventKind::Upgrade { price, plan }
            | SubscriptionEventKind::Downgrade { price, plan } => {
                if let Some(p) = price_problem(price, self.options.max_abs_amount) {
                    self.report(KIND, input, Some("price"), p, Action::Dropped);
                    return;
                }
                let plan = plan.map_or(NO_SYMBOL, |p| self.subs.plans.intern(&p));
                (price, plan, None)
            }
            SubscriptionEventKind::CancellationRequested { reason, note } => {
                let code = match reason.built_in_code() {
                    Some(c) => c,
                    None => CUSTOM_REASON + self.subs.reasons.intern(reason.label()),
                };
                (0.0, code, note.filter(|n| !n.is_empty()))
            }
            _ => (0.0, NO_SYMBOL, None),
        };
        let key = self.interner.intern(&event.customer);
        let st = &mut self.subs;
        let name = st.names.intern(&event.subscription);
        let n = st.events.len();
        if let Some(text) = note {
            st.notes.push((n as u32, text.into_boxed_str()));
        }
        st.events.push(StagedSubEvent {
            key,
            name,
            time,
            kind: code,
            price,
            detail,
            input: input as u32,
        });
    }
}

impl Extend<Subscription> for HistoryBuilder {
    fn extend<I: IntoIterator<Item = Subscription>>(&mut self, iter: I) {
        iter.into_iter().for_each(|s| self.push_subscription(s));
    }
}

impl Extend<SubscriptionEvent> for HistoryBuilder {
    fn extend<I: IntoIterator<Item = SubscriptionEvent>>(&mut self, iter: I) {
        iter.into_iter()
            .for_each(|e| self.push_subscription_event(e));
    }
}

/// Subscriptions of known customers, de-duplicated, before the signup check.
pub(super) struct Prepared {
    staged: StagedSubs,
    /// (dense customer, staged subscription), kept ones.
    subs: Vec<(u32, StagedSub)>,
    /// Per dense customer: the earliest subscription start or event.
    pub(super) first: Vec<Option<i64>>,
}

/// Per plan symbol, whether it is declared; `None` when no plans are declared.
fn known_plans(b: &HistoryBuilder, plans: &[Arc<str>]) -> Option<Vec<bool>> {
    let declared = b.options.plans.as_ref()?;
    Some(
        plans
            .iter()
            .map(|p| declared.binary_search(p).is_ok())
            .collect(),
    )
}

/// Ranks of the used symbols of an interner in name order, and the table of used names.
fn compact(names: &[Arc<str>], used: &[bool]) -> (Vec<Arc<str>>, Vec<u32>) {
    let mut order: Vec<u32> = (0..names.len() as u32)
        .filter(|&s| used[s as usize])
        .collect();
    order.sort_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
    let mut rank = vec![NONE; names.len()];
    for (r, &s) in order.iter().enumerate() {
        rank[s as usize] = r as u32;
    }
    (
        order.iter().map(|&s| names[s as usize].clone()).collect(),
        rank,
    )
}

/// Maps subscriptions to dense customers (reporting unknown ones) and drops
/// duplicate ids per customer: of the subscriptions sharing an id, the
/// first by (start, contents, input order) is kept.
pub(super) fn prepare(b: &mut HistoryBuilder, dense: &[u32], customers: usize) -> Prepared {
    let mut staged = std::mem::take(&mut b.subs);
    let mut first = vec![
        None;
        if staged.subs.is_empty() && staged.events.is_empty() {
            0
        } else {
            customers
        }
    ];
    let mut subs = Vec::with_capacity(staged.subs.len());
    let known = known_plans(b, &staged.plans.names);
    for s in std::mem::take(&mut staged.subs) {
        let d = dense[s.key as usize];
        let kind = RecordKind::Subscription;
        if d == NONE {
            let p = Problem::UnknownCustomer {
                customer: b.interner.ids[s.key as usize].clone(),
            };
            b.report(kind, s.input as usize, Some("customer"), p, Action::Dropped);
            continue;
        }
        if known.as_ref().is_some_and(|k| !k[s.plan as usize]) {
            let p = Problem::UnknownPlan {
                plan: staged.plans.names[s.plan as usize].to_string(),
            };
            b.report(kind, s.input as usize, Some("plan"), p, Action::Dropped);
            continue;
        }
        subs.push((d, s));
    }
    let names = &staged.names.names;
    let plans = &staged.plans.names;
    let content = |s: &StagedSub| {
        (
            s.start,
            plans[s.plan as usize].clone(),
            period_key(s.period),
            s.price.to_bits(),
            s.auto_renew,
            s.period_end,
        )
    };
    subs.par_sort_unstable_by(|(da, a), (db, b)| {
        da.cmp(db)
            .then_with(|| names[a.name as usize].cmp(&names[b.name as usize]))
            .then_with(|| content(a).cmp(&content(b)))
            .then_with(|| a.input.cmp(&b.input))
    });
    let mut kept: Vec<(u32, StagedSub)> = Vec::with_capacity(subs.len());
    for (d, s) in subs {
        if let Some((kd, k)) = kept.last()
            && *kd == d
            && k.name == s.name
        {
            let kept_input = k.input as usize;
            let p = if content(k) == content(&s) {
                Problem::Duplicate { kept: kept_input }
            } else {
                Problem::Conflict { kept: kept_input }
            };
            b.report(
                RecordKind::Subscription,
                s.input as usize,
                Some("id"),
                p,
                Action::Dropped,
            );
            continue;
        }
        kept.push((d, s));
    }
    let mut earliest = |d: u32, t: i64| {
        let f: &mut Option<i64> = &mut first[d as usize];
        *f = Some(f.map_or(t, |x| x.min(t)));
    };
    for (d, s) in &kept {
        earliest(*d, s.start);
    }
    for e in &staged.events {
        let d = dense[e.key as usize];
        if d != NONE {
            earliest(d, e.time);
        }
    }
    Prepared {
        staged,
        subs: kept,
        first,
    }
}

/// An event row being sorted: (subscription, time, kind, staged index).
type EventRow = (u32, i64, u8, u32);

/// Drops subscriptions before signup, sorts them by (customer, start, id),
/// then places, checks and sorts their events; returns the table.
pub(super) fn finish(
    b: &mut HistoryBuilder,
    prepared: Prepared,
    dense: &[u32],
    signup: &[i64],
) -> SubscriptionTable {
    let Prepared {
        staged,
        subs,
        first: _,
    } = prepared;
    if subs.is_empty() && staged.events.is_empty() {
        return SubscriptionTable::default();
    }
    let mut subs: Vec<(u32, StagedSub)> = subs
        .into_iter()
        .filter(|(d, s)| {
            let signup = signup[*d as usize];
            if s.start >= signup {
                return true;
            }
            let p = Problem::BeforeSignup {
                time: from_micros(s.start),
                signup: from_micros(signup),
            };
            let kind = RecordKind::Subscription;
            b.report(kind, s.input as usize, Some("start"), p, Action::Dropped);
            false
        })
        .collect();
    let names = &staged.names.names;
    subs.par_sort_unstable_by(|(da, a), (db, b)| {
        (da, a.start)
            .cmp(&(db, b.start))
            .then_with(|| names[a.name as usize].cmp(&names[b.name as usize]))
    });
    // Per-customer offsets: an event finds its subscription among its
    // customer's few (no hash lookup per event).
    let customers = signup.len();
    let mut offsets = vec![0usize; customers + 1];
    for (d, _) in &subs {
        offsets[*d as usize + 1] += 1;
    }
    for c in 0..customers {
        offsets[c + 1] += offsets[c];
    }
    let find = |d: u32, name: u32| {
        let d = d as usize;
        (offsets[d]..offsets[d + 1])
            .find(|&i| subs[i].1.name == name)
            .map(|i| i as u32)
    };

    // Events: place each under its subscription.
    let mut rows: Vec<EventRow> = Vec::with_capacity(staged.events.len());
    for (i, e) in staged.events.iter().enumerate() {
        let kind = RecordKind::SubscriptionEvent;
        let d = dense[e.key as usize];
        if d == NONE {
            let p = Problem::UnknownCustomer {
                customer: b.interner.ids[e.key as usize].clone(),
            };
            b.report(kind, e.input as usize, Some("customer"), p, Action::Dropped);
            continue;
        }
        let Some(s) = find(d, e.name) else {
            let p = Problem::UnknownSubscription {
                customer: b.interner.ids[e.key as usize].clone(),
                subscription: names[e.name as usize].to_string(),
            };
            b.report(
                kind,
                e.input as usize,
                Some("subscription"),
                p,
                Action::Dropped,
            );
            continue;
        };
        rows.push((s, e.time, e.kind, i as u32));
    }
    let ev = &staged.events;
    let notes = &staged.notes;
    let plans = &staged.plans.names;
    let reasons = &staged.reasons.names;
    let detail_key = |e: &StagedSubEvent| -> (Option<&str>, u32) {
        match e.kind {
            1 | 2 => (plans.get(e.detail as usize).map(|s| &**s), 0),
            6 if e.detail >= CUSTOM_REASON => (
                reasons
                    .get((e.detail - CUSTOM_REASON) as usize)
                    .map(|s| &**s),
                CUSTOM_REASON,
            ),
            _ => (None, e.detail),
        }
    };
    let note = |i: u32| {
        notes
            .binary_search_by_key(&i, |(r, _)| *r)
            .ok()
            .map(|p| &*notes[p].1)
    };
    let same = |x: u32, y: u32| {
        let (a, c) = (&ev[x as usize], &ev[y as usize]);
        a.price.total_cmp(&c.price).is_eq() && detail_key(a) == detail_key(c) && note(x) == note(y)
    };
    let order = |a: &EventRow, c: &EventRow| {
        (a.0, a.1, a.2).cmp(&(c.0, c.1, c.2)).then_with(|| {
            let (x, y) = (&ev[a.3 as usize], &ev[c.3 as usize]);
            x.price
                .total_cmp(&y.price)
                .then_with(|| detail_key(x).cmp(&detail_key(y)))
                .then_with(|| note(a.3).cmp(&note(c.3)))
                .then_with(|| x.input.cmp(&y.input))
        })
    };
    // Events usually arrive grouped and in time order: then this is a check.
    if !rows.is_sorted_by(|a, c| order(a, c).is_le()) {
        rows.par_sort_unstable_by(order);
    }

    // Checks, in (subscription, time, kind) order.
    let drop_dups = b.options.duplicates == Duplicates::Drop;
    let known = known_plans(b, plans);
    let mut keep = vec![true; rows.len()];
    let mut kept_of_run = 0usize;
    // The current subscription, its `Ended` time and last kept renewal.
    let mut current = u32::MAX;
    let (mut ended, mut renewed): (Option<i64>, Option<i64>) = (None, None);
    for r in 0..rows.len() {
        let (s, time, kind, i) = rows[r];
        if s != current {
            (current, ended, renewed) = (s, None, None);
        }
        let e = &ev[i as usize];
        let input = e.input as usize;
        let sub = &subs[s as usize].1;
        let report_kind = RecordKind::SubscriptionEvent;
        let mut drop_with = |field, p| {
            b.report(report_kind, input, field, p, Action::Dropped);
            keep[r] = false;
        };
        if time < sub.start {
            let p = Problem::BeforeStart {
                time: from_micros(time),
                start: from_micros(sub.start),
            };
            drop_with(Some("time"), p);
            continue;
        }
        if let Some(end) = ended {
            let p = Problem::AfterEnd {
                event: SubscriptionEventKind::LABELS[kind as usize],
                time: from_micros(time),
                ended: from_micros(end),
            };
            drop_with(Some("time"), p);
            continue;
        }
        if matches!(kind, 1 | 2)
            && e.detail != NO_SYMBOL
            && known.as_ref().is_some_and(|k| !k[e.detail as usize])
        {
            let p = Problem::UnknownPlan {
                plan: plans[e.detail as usize].to_string(),
            };
            drop_with(Some("plan"), p);
            continue;
        }
        if r > 0 && keep[kept_of_run] && {
            let (ps, pt, pk, pi) = rows[kept_of_run];
            drop_dups && ps == s && pt == time && pk == kind && same(pi, i)
        } {
            let kept = ev[rows[kept_of_run].3 as usize].input as usize;
            b.report(
                report_kind,
                input,
                None,
                Problem::Duplicate { kept },
                Action::Dropped,
            );
            keep[r] = false;
            continue;
        }
        if kind == 0 {
            let half = sub.period.approx_days() * MICROS_PER_DAY as f64 / 2.0;
            if let Some(prev) = renewed.filter(|&p| ((time - p) as f64) < half) {
                let p = Problem::OverlappingRenewal {
                    time: from_micros(time),
                    previous: from_micros(prev),
                };
                b.report(report_kind, input, Some("time"), p, Action::Dropped);
                keep[r] = false;
                continue;
            }
            renewed = Some(time);
        }
        if kind == 7 {
            ended = Some(time);
        }
        kept_of_run = r;
    }
    let rows: Vec<EventRow> = rows
        .into_iter()
        .zip(&keep)
        .filter_map(|(r, k)| k.then_some(r))
        .collect();

    // Interned names: only the used ones, in name order.
    let mut used_names = vec![false; names.len()];
    let mut used_plans = vec![false; plans.len()];
    let mut used_reasons = vec![false; reasons.len()];
    for (_, s) in &subs {
        used_names[s.name as usize] = true;
        used_plans[s.plan as usize] = true;
    }
    for &(_, _, kind, i) in &rows {
        let e = &ev[i as usize];
        match kind {
            1 | 2 if e.detail != NO_SYMBOL => used_plans[e.detail as usize] = true,
            6 if e.detail >= CUSTOM_REASON => {
                used_reasons[(e.detail - CUSTOM_REASON) as usize] = true;
            }
            _ => {}
        }
    }
    let (name_table, name_rank) = compact(names, &used_names);
    let (plan_table, plan_rank) = compact(plans, &used_plans);
    let (reason_table, reason_rank) = compact(reasons, &used_reasons);

    let mut event_offsets = vec![0usize; subs.len() + 1];
    for &(s, ..) in &rows {
        event_offsets[s as usize + 1] += 1;
    }
    for s in 0..subs.len() {
        event_offsets[s + 1] += event_offsets[s];
    }
    let cols = SubEventCols {
        kind: rows.iter().map(|r| r.2).collect(),
        price: rows.iter().map(|r| ev[r.3 as usize].price).collect(),
        detail: rows
            .iter()
            .map(|r| {
                let e = &ev[r.3 as usize];
                match r.2 {
                    1 | 2 if e.detail != NO_SYMBOL => plan_rank[e.detail as usize],
                    6 if e.detail >= CUSTOM_REASON => {
                        CUSTOM_REASON + reason_rank[(e.detail - CUSTOM_REASON) as usize]
                    }
                    _ => e.detail,
                }
            })
            .collect(),
        notes: rows
            .iter()
            .enumerate()
            .filter_map(|(r, row)| note(row.3).map(|n| (r as u32, Box::from(n))))
            .collect(),
    };
    SubscriptionTable {
        offsets,
        id: subs
            .iter()
            .map(|(_, s)| name_rank[s.name as usize])
            .collect(),
        plan: subs
            .iter()
            .map(|(_, s)| plan_rank[s.plan as usize])
            .collect(),
        start: subs.iter().map(|(_, s)| s.start).collect(),
        period: subs.iter().map(|(_, s)| s.period).collect(),
        price: subs.iter().map(|(_, s)| s.price).collect(),
        auto_renew: subs.iter().map(|(_, s)| s.auto_renew).collect(),
        period_end: subs.iter().map(|(_, s)| s.period_end).collect(),
        events: EventColumns {
            offsets: event_offsets,
            time: rows.iter().map(|r| r.1).collect(),
            cols,
        },
        names: name_table,
        plans: plan_table,
        reasons: reason_table,
    }
}
