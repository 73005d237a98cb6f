//! Monthly recurring revenue from subscriptions: [`mrr_movements`]
//! ([`MrrMovement`], [`MrrMovementsTable`]) and [`renewal_rates`]
//! ([`RenewalRate`], [`RenewalRatesTable`]).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::Serialize;

use super::{BLOCK, Period, Periods, fmt_instant, fmt_percent, write_table};
use crate::Result;
use crate::records::{CustomerView, History, SubscriptionView, subscription_code};
use crate::util::from_micros;

/// How a period's MRR moved from its start to its end, from [`mrr_movements`]:
/// the MRR bridge of one period.
///
/// Every customer's MRR at an instant is the sum of
/// [`SubscriptionView::mrr_at`] over their subscriptions (price per period
/// normalized to a month, while active or pending cancellation). Comparing
/// each customer's MRR at the period's start (`m0`) and end (`m1`):
///
/// | movement | when | amount |
/// |---|---|---|
/// | new | `m0 = 0 < m1`, no subscription started before the period | `m1` |
/// | reactivation | `m0 = 0 < m1`, a subscription started before the period (a returning or resumed customer) | `m1` |
/// | expansion | `0 < m0 < m1` | `m1 − m0` |
/// | contraction | `0 < m1 < m0`, or `m1 = 0` with a subscription still paused | `m0 − m1` |
/// | churned | `m0 > 0`, `m1 = 0` and every subscription ended | `m0` |
///
/// so that `closing = opening + new + reactivation + expansion − contraction − churned`
/// (up to floating-point rounding).
///
/// # Example
///
/// ```
/// use churnwise::segment::{Periods, mrr_movements};
/// # let history = churnwise::doc_support::subscribers()?;
/// # let jan = churnwise::doc_support::month(1);
/// let rows = mrr_movements(&history, &Periods::months(jan, 6)?)?;
/// for r in &rows {
///     let bridge = r.opening() + r.new_mrr() + r.reactivation() + r.expansion()
///         - r.contraction() - r.churned();
///     assert!((bridge - r.closing()).abs() < 1e-9);
/// }
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MrrMovement {
    period: Period,
    opening: f64,
    new: f64,
    reactivation: f64,
    expansion: f64,
    contraction: f64,
    churned: f64,
    closing: f64,
    paying_at_start: usize,
    new_customers: usize,
    reactivated_customers: usize,
    churned_customers: usize,
    paying_at_end: usize,
}

impl MrrMovement {
    /// The period.
    pub fn period(&self) -> Period {
        self.period
    }

    /// MRR at the period's start.
    pub fn opening(&self) -> f64 {
        self.opening
    }

    /// MRR of customers who first subscribed during the period.
    pub fn new_mrr(&self) -> f64 {
        self.new
    }

    /// MRR of customers who paid nothing at the start but had subscribed
    /// before (returning after ending, or resuming after a pause).
    pub fn reactivation(&self) -> f64 {
        self.reactivation
    }

    /// MRR added by customers who paid more at the end than at the start.
    pub fn expansion(&self) -> f64 {
        self.expansion
    }

    /// MRR lost by customers who paid less at the end (a paused customer
    /// counts here, not as churned).
    pub fn contraction(&self) -> f64 {
        self.contraction
    }

    /// MRR lost with customers whose subscriptions all ended.
    pub fn churned(&self) -> f64 {
        self.churned
    }

    /// MRR at the period's end.
    pub fn closing(&self) -> f64 {
        self.closing
    }

    /// Customers paying at the start (`m0 > 0`).
    pub fn paying_at_start(&self) -> usize {
        self.paying_at_start
    }

    /// Customers counted in [`new_mrr`](Self::new_mrr).
    pub fn new_customers(&self) -> usize {
        self.new_customers
    }

    /// Customers counted in [`reactivation`](Self::reactivation).
    pub fn reactivated_customers(&self) -> usize {
        self.reactivated_customers
    }

    /// Customers counted in [`churned`](Self::churned).
    pub fn churned_customers(&self) -> usize {
        self.churned_customers
    }

    /// Customers paying at the end (`m1 > 0`).
    pub fn paying_at_end(&self) -> usize {
        self.paying_at_end
    }

    /// Gross MRR retention: `(opening − contraction − churned) / opening`,
    /// the share of the opening MRR kept, expansion not counted; `None` when
    /// nothing was paid at the start.
    pub fn gross_retention(&self) -> Option<f64> {
        self.of_opening(self.opening - self.contraction - self.churned)
    }

    /// Net MRR retention: `(opening + expansion − contraction − churned) / opening`,
    /// the opening customers' MRR at the end relative to the start; `None`
    /// when nothing was paid at the start.
    pub fn net_retention(&self) -> Option<f64> {
        self.of_opening(self.opening + self.expansion - self.contraction - self.churned)
    }

    /// Logo churn rate: churned customers / customers paying at the start;
    /// `None` when nobody paid at the start.
    pub fn logo_churn_rate(&self) -> Option<f64> {
        (self.paying_at_start > 0)
            .then(|| self.churned_customers as f64 / self.paying_at_start as f64)
    }

    fn of_opening(&self, x: f64) -> Option<f64> {
        (self.opening > 0.0).then(|| x / self.opening)
    }
}

/// Per-period sums of one block of customers.
#[derive(Debug, Clone, Copy, Default)]
struct MrrSums {
    opening: f64,
    new: f64,
    reactivation: f64,
    expansion: f64,
    contraction: f64,
    churned: f64,
    closing: f64,
    paying_at_start: usize,
    new_customers: usize,
    reactivated_customers: usize,
    churned_customers: usize,
    paying_at_end: usize,
}

/// One customer at one instant.
#[derive(Debug, Clone, Copy, Default)]
struct State {
    mrr: f64,
    /// A subscription is running (billed or paused).
    subscribed: bool,
    /// A subscription started before the instant.
    subscribed_before: bool,
}

impl MrrSums {
    fn add_customer(&mut self, start: State, end: State) {
        let (m0, m1) = (start.mrr, end.mrr);
        self.opening += m0;
        self.closing += m1;
        self.paying_at_start += usize::from(m0 > 0.0);
        self.paying_at_end += usize::from(m1 > 0.0);
        if m0 > 0.0 {
            if m1 > m0 {
                self.expansion += m1 - m0;
            } else if m1 == 0.0 && !end.subscribed {
                self.churned += m0;
                self.churned_customers += 1;
            } else {
                self.contraction += m0 - m1;
            }
        } else if m1 > 0.0 {
            if start.subscribed_before {
                self.reactivation += m1;
                self.reactivated_customers += 1;
            } else {
                self.new += m1;
                self.new_customers += 1;
            }
        }
    }

    fn add(&mut self, o: &MrrSums) {
        self.opening += o.opening;
        self.new += o.new;
        self.reactivation += o.reactivation;
        self.expansion += o.expansion;
        self.contraction += o.contraction;
        self.churned += o.churned;
        self.closing += o.closing;
        self.paying_at_start += o.paying_at_start;
        self.new_customers += o.new_customers;
        self.reactivated_customers += o.reactivated_customers;
        self.churned_customers += o.churned_customers;
        self.paying_at_end += o.paying_at_end;
    }

    fn into_movement(self, period: Period) -> MrrMovement {
        MrrMovement {
            period,
            opening: self.opening,
            new: self.new,
            reactivation: self.reactivation,
            expansion: self.expansion,
            contraction: self.contraction,
            churned: self.churned,
            closing: self.closing,
            paying_at_start: self.paying_at_start,
            new_customers: self.new_customers,
            reactivated_customers: self.reactivated_customers,
            churned_customers: self.churned_customers,
            paying_at_end: self.paying_at_end,
        }
    }
}

/// The MRR bridge of every period: opening MRR, new, reactivation,
/// expansion, contraction and churned MRR, closing MRR, with gross and net
/// MRR retention and the logo churn rate (see [`MrrMovement`]).
///
/// Customers without subscriptions contribute nothing. A status "at `t`"
/// counts events at `t` itself (see [`SubscriptionView::status_at`]).
///
/// # Errors
///
/// None today beyond those of [`Periods`]; the `Result` leaves room for
/// options.
///
/// # Example
///
/// ```
/// use churnwise::segment::{MrrMovementsTable, Periods, mrr_movements};
/// # let history = churnwise::doc_support::subscribers()?;
/// # let jan = churnwise::doc_support::month(1);
/// let rows = mrr_movements(&history, &Periods::months(jan, 3)?)?;
/// assert_eq!(rows.len(), 3);
/// assert_eq!(rows[0].closing(), rows[1].opening()); // one period ends where the next starts
/// println!("{}", MrrMovementsTable::new(&rows));
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn mrr_movements(history: &History, periods: &Periods) -> Result<Vec<MrrMovement>> {
    let bounds = periods.micros();
    let customers = history.customer_count();
    // Fixed blocks of customers, summed in customer order inside a block and
    // in block order across blocks: the same float sums on any thread count.
    let blocks: Vec<Vec<MrrSums>> = (0..customers.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            mrr_block(
                history,
                b * BLOCK..((b + 1) * BLOCK).min(customers),
                &bounds,
            )
        })
        .collect();
    let mut totals = vec![MrrSums::default(); periods.len()];
    for block in &blocks {
        for (t, s) in totals.iter_mut().zip(block) {
            t.add(s);
        }
    }
    Ok(periods
        .iter()
        .zip(totals)
        .map(|(period, sums)| sums.into_movement(period))
        .collect())
}

fn mrr_block(history: &History, customers: Range<usize>, bounds: &[i64]) -> Vec<MrrSums> {
    let mut sums = vec![MrrSums::default(); bounds.len().saturating_sub(1)];
    let mut states = vec![State::default(); bounds.len()];
    for c in customers.filter_map(|i| history.customer(i)) {
        let subscriptions = c.subscriptions();
        if subscriptions.is_empty() {
            continue;
        }
        for (state, &t) in states.iter_mut().zip(bounds) {
            *state = customer_state(&c, t);
        }
        for (s, w) in sums.iter_mut().zip(states.windows(2)) {
            s.add_customer(w[0], w[1]);
        }
    }
    sums
}

fn customer_state(c: &CustomerView<'_>, t: i64) -> State {
    let mut state = State::default();
    for s in c.subscriptions().iter() {
        // One replay of the events gives both the MRR and whether it runs.
        let status = s.status_at_micros(t);
        state.mrr += s.mrr_in(status, t);
        state.subscribed |= status.is_running();
        state.subscribed_before |= s.start_micros() < t;
    }
    state
}

/// Prints [`mrr_movements`] output as an aligned table.
///
/// # Example
///
/// ```
/// use churnwise::segment::{MrrMovementsTable, Periods, mrr_movements};
/// # let history = churnwise::doc_support::subscribers()?;
/// # let jan = churnwise::doc_support::month(1);
/// let rows = mrr_movements(&history, &Periods::months(jan, 2)?)?;
/// let text = MrrMovementsTable::new(&rows).to_string();
/// assert!(text.starts_with("start"));
/// assert_eq!(text.lines().count(), 3);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MrrMovementsTable<'a> {
    rows: &'a [MrrMovement],
}

impl<'a> MrrMovementsTable<'a> {
    /// A table of these rows.
    pub fn new(rows: &'a [MrrMovement]) -> Self {
        MrrMovementsTable { rows }
    }
}

impl MrrMovementsTable<'_> {
    /// The column names (the report's table uses them too).
    pub(crate) const HEADER: [&'static str; 11] = [
        "start",
        "opening",
        "new",
        "reactivation",
        "expansion",
        "contraction",
        "churned",
        "closing",
        "gross retention",
        "net retention",
        "logo churn",
    ];

    /// The cells, as printed.
    pub(crate) fn cells(&self) -> Vec<Vec<String>> {
        let money = |x: f64| format!("{x:.2}");
        self.rows
            .iter()
            .map(|r| {
                vec![
                    fmt_instant(r.period.start),
                    money(r.opening),
                    money(r.new),
                    money(r.reactivation),
                    money(r.expansion),
                    money(r.contraction),
                    money(r.churned),
                    money(r.closing),
                    fmt_ratio(r.gross_retention()),
                    fmt_ratio(r.net_retention()),
                    fmt_ratio(r.logo_churn_rate()),
                ]
            })
            .collect()
    }
}

impl fmt::Display for MrrMovementsTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_table(f, &Self::HEADER, 1, &self.cells())
    }
}

fn fmt_ratio(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), fmt_percent)
}

/// How [`renewal_rates`] groups renewal decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RenewalGroup {
    /// One group of every decision.
    All,
    /// The plan in effect at the decision ([`SubscriptionView::plan_at`]).
    Plan,
    /// The subscription's start month (`YYYY-MM`), its cohort.
    Cohort,
    /// The billing period (`monthly`, `yearly`, `30d`, …).
    BillingPeriod,
}

/// Renewal decisions of one group, from [`renewal_rates`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenewalRate {
    group: String,
    renewals: usize,
    endings: usize,
}

impl RenewalRate {
    /// The group's label: a plan, a cohort month, a billing period or `all`.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// Renewals in the window.
    pub fn renewals(&self) -> usize {
        self.renewals
    }

    /// Subscriptions that ended in the window (cancelled, not renewed, or
    /// ended after a failed payment).
    pub fn endings(&self) -> usize {
        self.endings
    }

    /// Renewal decisions in the window: renewals + endings.
    pub fn decisions(&self) -> usize {
        self.renewals + self.endings
    }

    /// `renewals / decisions`; `None` without decisions.
    pub fn rate(&self) -> Option<f64> {
        let d = self.decisions();
        (d > 0).then(|| self.renewals as f64 / d as f64)
    }
}

/// The renewal rate per group over `window`: each renewal of a subscription
/// in `[start, end)` is a decision to stay, each end in the window
/// ([`SubscriptionView::ended_at`]: cancelled, a period not renewed, or ended
/// after a failed payment) a decision to leave.
///
/// Groups are sorted by label (cohorts thus in time order); groups without a
/// decision are left out.
///
/// # Formula
///
/// ```text
/// rate_g = renewals_g / (renewals_g + endings_g)
/// ```
///
/// # Errors
///
/// None today; the `Result` leaves room for options.
///
/// # Example
///
/// ```
/// use churnwise::segment::{Period, RenewalGroup, renewal_rates};
/// # let history = churnwise::doc_support::subscribers()?;
/// # let (jan, next_jan) = (churnwise::doc_support::day(0), churnwise::doc_support::day(366));
/// let year = Period::new(jan, next_jan)?;
/// for r in renewal_rates(&history, year, RenewalGroup::Plan)? {
///     assert_eq!(r.decisions(), r.renewals() + r.endings());
///     println!("{}: {:?}", r.group(), r.rate());
/// }
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn renewal_rates(
    history: &History,
    window: Period,
    by: RenewalGroup,
) -> Result<Vec<RenewalRate>> {
    let inside = |t: DateTime<Utc>| window.start <= t && t < window.end;
    let mut groups: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for s in history.subscriptions() {
        let events = s.events();
        for (&t, &code) in events.micros().iter().zip(events.codes()) {
            let t = from_micros(t);
            if code == subscription_code::RENEWAL && inside(t) {
                groups.entry(group_of(&s, t, by)).or_default().0 += 1;
            }
        }
        if let Some(t) = s.ended_at().filter(|&t| inside(t)) {
            groups.entry(group_of(&s, t, by)).or_default().1 += 1;
        }
    }
    Ok(groups
        .into_iter()
        .map(|(group, (renewals, endings))| RenewalRate {
            group,
            renewals,
            endings,
        })
        .collect())
}

fn group_of(s: &SubscriptionView<'_>, t: DateTime<Utc>, by: RenewalGroup) -> String {
    match by {
        RenewalGroup::All => "all".to_owned(),
        RenewalGroup::Plan => s.plan_at(t).to_owned(),
        RenewalGroup::Cohort => s.start().format("%Y-%m").to_string(),
        RenewalGroup::BillingPeriod => s.period().to_string(),
    }
}

/// Prints [`renewal_rates`] output as an aligned table.
#[derive(Debug, Clone, Copy)]
pub struct RenewalRatesTable<'a> {
    rows: &'a [RenewalRate],
}

impl<'a> RenewalRatesTable<'a> {
    /// A table of these rows.
    pub fn new(rows: &'a [RenewalRate]) -> Self {
        RenewalRatesTable { rows }
    }
}

impl RenewalRatesTable<'_> {
    /// The column names (the report's table uses them too).
    pub(crate) const HEADER: [&'static str; 4] = ["group", "renewals", "endings", "rate"];

    /// The cells, as printed.
    pub(crate) fn cells(&self) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .map(|r| {
                vec![
                    r.group.clone(),
                    r.renewals.to_string(),
                    r.endings.to_string(),
                    fmt_ratio(r.rate()),
                ]
            })
            .collect()
    }
}

impl fmt::Display for RenewalRatesTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_table(f, &Self::HEADER, 1, &self.cells())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc_support::{day, subscribers};
    use approx::assert_abs_diff_eq;

    /// (opening, new, reactivation, expansion, contraction, churned, closing)
    fn bridge(r: &MrrMovement) -> [f64; 7] {
        [
            r.opening(),
            r.new_mrr(),
            r.reactivation(),
            r.expansion(),
            r.contraction(),
            r.churned(),
            r.closing(),
        ]
    }

    #[test]
    fn mrr_bridge_matches_hand_computation() {
        // Customer MRR at each month start (2024; day 0 = Jan 1):
        //           Jan 1  Feb 1  Mar 1  Apr 1  May 1  Jun 1  Jul 1
        // 1: S-1      10     10     25      0 (ended Apr 1)
        //    S-2                             0     10      0 (paused)  0
        // 2: S-3       0     30      0 (ended Feb 15 after a failed payment)
        // Customer 1: 10, 10, 25, 0 (nothing runs: churned), 10 (reactivation),
        // 0 (paused: contraction), 0. Customer 2: 0, 30 (new), 0 (churned), 0...
        let h = subscribers().unwrap();
        let months = Periods::months(day(0), 6).unwrap();
        let rows = mrr_movements(&h, &months).unwrap();
        let want = [
            [10.0, 30.0, 0.0, 0.0, 0.0, 0.0, 40.0],
            [40.0, 0.0, 0.0, 15.0, 0.0, 30.0, 25.0],
            [25.0, 0.0, 0.0, 0.0, 0.0, 25.0, 0.0],
            [0.0, 0.0, 10.0, 0.0, 0.0, 0.0, 10.0],
            [10.0, 0.0, 0.0, 0.0, 10.0, 0.0, 0.0],
            [0.0; 7],
        ];
        for (r, w) in rows.iter().zip(want) {
            for (got, want) in bridge(r).into_iter().zip(w) {
                assert_abs_diff_eq!(got, want, epsilon = 1e-12);
            }
        }
        let counts: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.paying_at_start(),
                    r.new_customers(),
                    r.reactivated_customers(),
                    r.churned_customers(),
                    r.paying_at_end(),
                )
            })
            .collect();
        assert_eq!(
            counts,
            [
                (1, 1, 0, 0, 2),
                (2, 0, 0, 1, 1),
                (1, 0, 0, 1, 0),
                (0, 0, 1, 0, 1),
                (1, 0, 0, 0, 0),
                (0, 0, 0, 0, 0)
            ]
        );
        // February: (40 − 0 − 30) / 40 kept gross, (40 + 15 − 30) / 40 net, 1 of 2 logos lost.
        assert_eq!(rows[1].gross_retention(), Some(0.25));
        assert_eq!(rows[1].net_retention(), Some(0.625));
        assert_eq!(rows[1].logo_churn_rate(), Some(0.5));
        assert_eq!(rows[3].gross_retention(), None);
        assert_eq!(rows[4].logo_churn_rate(), Some(0.0));
    }

    #[test]
    fn subscription_ended_status_and_lifetimes_match_hand_computation() {
        use crate::analysis::survival::Lifetimes;
        use crate::segment::{ChurnDefinition, ChurnStatus};
        // Customer 1: S-1 runs days 0–91, S-2 from day 100 (paused 150–200);
        // customer 2: S-3 runs days 10–45 (ended after a failed payment).
        let h = subscribers().unwrap();
        let def = ChurnDefinition::SubscriptionEnded;
        let status = |c: usize, d: i64| def.status(h.customer(c).unwrap(), day(d)).unwrap();
        use ChurnStatus::*;
        let one: Vec<_> = [0, 90, 91, 99, 100, 150].map(|d| status(0, d)).into();
        assert_eq!(one, [Active, Active, Churned, Churned, Active, Active]);
        let two: Vec<_> = [5, 10, 44, 45].map(|d| status(1, d)).into();
        assert_eq!(two, [NotSignedUp, Active, Active, Churned]);
        // Lifetimes: from the first subscription to the first moment nothing runs.
        let data = Lifetimes::new(day(200))
            .definition(def.clone())
            .extract(&h)
            .unwrap();
        assert_eq!(data.durations(), [91.0, 35.0]);
        assert_eq!(data.events(), [true, true]);
        let early = Lifetimes::new(day(20))
            .definition(def.clone())
            .extract(&h)
            .unwrap();
        assert_eq!(
            (early.durations(), early.events()),
            (&[20.0, 10.0][..], &[false, false][..])
        );
        // Logo churn by month under the same definition.
        let rates =
            crate::segment::churn_rates(&h, &Periods::months(day(0), 4).unwrap(), &def).unwrap();
        let counts: Vec<_> = rates
            .iter()
            .map(|r| (r.active_at_start(), r.churned()))
            .collect();
        assert_eq!(counts, [(1, 0), (2, 1), (1, 1), (0, 0)]);
    }

    #[test]
    fn former_subscribers_carry_their_stated_reason_and_plan() {
        use crate::analysis::reasons::ChurnEvent;
        // Customer 1 still has S-2 running; customer 2's S-3 ended on day 45 after a failed payment.
        let h = subscribers().unwrap();
        let events = ChurnEvent::from_subscriptions(&h, day(0), day(366)).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].time, day(45));
        assert_eq!(events[0].reasons, ["payment_failed"]);
        assert_eq!(events[0].segment.as_deref(), Some("pro"));
        // Before S-2 started, customer 1 was a former subscriber (S-1 cancelled for price).
        let early = ChurnEvent::from_subscriptions(&h, day(0), day(95)).unwrap();
        assert!(early.iter().all(|e| e.time < day(95)));
        assert!(ChurnEvent::from_subscriptions(&h, day(5), day(5)).is_err());
    }

    #[test]
    fn renewal_rates_match_hand_computation() {
        // S-1 renews on Feb 1 (plan basic) and Mar 1 (pro since the Feb 10
        // upgrade), ends Apr 1 (pro); S-3 (pro) ends on Feb 15; S-2 makes
        // no decision in 2024.
        let h = subscribers().unwrap();
        let year = Period::new(day(0), day(366)).unwrap();
        let rates = |by| -> Vec<(String, usize, usize)> {
            renewal_rates(&h, year, by)
                .unwrap()
                .into_iter()
                .map(|r| (r.group().to_owned(), r.renewals(), r.endings()))
                .collect()
        };
        let owned = |v: &[(&str, usize, usize)]| -> Vec<(String, usize, usize)> {
            v.iter().map(|(g, a, b)| (g.to_string(), *a, *b)).collect()
        };
        assert_eq!(
            rates(RenewalGroup::Plan),
            owned(&[("basic", 1, 0), ("pro", 1, 2)])
        );
        assert_eq!(rates(RenewalGroup::Cohort), owned(&[("2024-01", 2, 2)]));
        assert_eq!(rates(RenewalGroup::All), owned(&[("all", 2, 2)]));
        assert_eq!(
            rates(RenewalGroup::BillingPeriod),
            owned(&[("monthly", 2, 2)])
        );
        let all = renewal_rates(&h, year, RenewalGroup::All).unwrap();
        assert_eq!(all[0].rate(), Some(0.5));
        // A window without decisions has no groups.
        let later = Period::new(day(300), day(310)).unwrap();
        assert!(
            renewal_rates(&h, later, RenewalGroup::Plan)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn tables_print_the_same_cells_as_the_report() {
        let h = subscribers().unwrap();
        let rows = mrr_movements(&h, &Periods::months(day(0), 2).unwrap()).unwrap();
        let text = MrrMovementsTable::new(&rows).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("start       opening"));
        assert!(lines[2].starts_with("2024-02-01    40.00"), "{text}");
        assert!(lines[2].ends_with("50.0%"), "{text}");
    }
}
