//! Revenue churn and net revenue retention: [`revenue_retention`],
//! [`RevenueRetention`] and [`RevenueRetentionTable`].

use std::fmt;
use std::ops::Range;

use rayon::prelude::*;
use serde::Serialize;

use super::{BLOCK, Period, Periods, fmt_instant, fmt_percent, write_table};
use crate::records::History;
use crate::{Error, Result};

/// Revenue kept, grown, shrunk and lost between two consecutive periods,
/// from [`revenue_retention`].
///
/// # Example
///
/// ```
/// use approx::assert_relative_eq;
/// use chrono::{TimeZone, Utc};
/// use churnwise::segment::{Periods, revenue_retention};
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
/// let (history, _report) = pop.history_builder().build()?;
/// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
/// let rows = revenue_retention(&history, &Periods::months(jan, 4)?)?;
/// let r = &rows[0];
/// let identity = r.starting_revenue() + r.expansion_revenue()
///     - r.contraction_revenue() - r.churned_revenue();
/// assert_relative_eq!(r.retained_revenue(), identity, max_relative = 1e-9);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevenueRetention {
    previous: Period,
    period: Period,
    starting_customers: usize,
    churned_customers: usize,
    starting_revenue: f64,
    retained_revenue: f64,
    expansion_revenue: f64,
    contraction_revenue: f64,
    churned_revenue: f64,
    gross_revenue_churn: Option<f64>,
    net_revenue_retention: Option<f64>,
}

/// Per-block sums for one pair of periods.
#[derive(Debug, Clone, Copy, Default)]
struct RevenueSums {
    starting_customers: usize,
    churned_customers: usize,
    starting: f64,
    retained: f64,
    expansion: f64,
    contraction: f64,
    churned: f64,
}

impl RevenueSums {
    /// Adds one customer with net revenue `prev` then `cur`.
    fn add_customer(&mut self, prev: f64, cur: f64) {
        if prev <= 0.0 {
            return;
        }
        self.starting_customers += 1;
        self.starting += prev;
        if cur <= 0.0 {
            self.churned_customers += 1;
            self.churned += prev;
        } else {
            self.retained += cur;
            if cur > prev {
                self.expansion += cur - prev;
            } else {
                self.contraction += prev - cur;
            }
        }
    }

    fn add(&mut self, o: &RevenueSums) {
        self.starting_customers += o.starting_customers;
        self.churned_customers += o.churned_customers;
        self.starting += o.starting;
        self.retained += o.retained;
        self.expansion += o.expansion;
        self.contraction += o.contraction;
        self.churned += o.churned;
    }
}

impl RevenueRetention {
    fn new(previous: Period, period: Period, s: RevenueSums) -> Self {
        let ratio = |x: f64| (s.starting > 0.0).then(|| x / s.starting);
        RevenueRetention {
            previous,
            period,
            starting_customers: s.starting_customers,
            churned_customers: s.churned_customers,
            starting_revenue: s.starting,
            retained_revenue: s.retained,
            expansion_revenue: s.expansion,
            contraction_revenue: s.contraction,
            churned_revenue: s.churned,
            gross_revenue_churn: ratio(s.contraction + s.churned),
            net_revenue_retention: ratio(s.starting + s.expansion - s.contraction - s.churned),
        }
    }

    /// The earlier period, whose buyers and revenue are the baseline.
    pub fn previous_period(&self) -> Period {
        self.previous
    }

    /// The period measured.
    pub fn period(&self) -> Period {
        self.period
    }

    /// Customers with net revenue > 0 in the previous period.
    pub fn starting_customers(&self) -> usize {
        self.starting_customers
    }

    /// Starting customers with net revenue ≤ 0 in this period.
    pub fn churned_customers(&self) -> usize {
        self.churned_customers
    }

    /// Net revenue of the starting customers in the previous period.
    pub fn starting_revenue(&self) -> f64 {
        self.starting_revenue
    }

    /// Net revenue of the starting customers in this period, counting only
    /// those still above zero: `Σ max(current, 0)`.
    pub fn retained_revenue(&self) -> f64 {
        self.retained_revenue
    }

    /// Growth of starting customers who spent more: `Σ (current − previous)`
    /// over those with `current > previous`.
    pub fn expansion_revenue(&self) -> f64 {
        self.expansion_revenue
    }

    /// Shrinkage of starting customers who spent less but more than zero:
    /// `Σ (previous − current)` over those with `0 < current <= previous`.
    pub fn contraction_revenue(&self) -> f64 {
        self.contraction_revenue
    }

    /// The previous-period revenue of starting customers whose net revenue
    /// is now ≤ 0: `Σ previous` over those with `current <= 0`.
    pub fn churned_revenue(&self) -> f64 {
        self.churned_revenue
    }

    /// `(contraction + churned) / starting`, or `None` when the starting
    /// revenue is 0 (nobody bought in the previous period).
    pub fn gross_revenue_churn(&self) -> Option<f64> {
        self.gross_revenue_churn
    }

    /// `(starting + expansion − contraction − churned) / starting`, or `None`
    /// when the starting revenue is 0.
    pub fn net_revenue_retention(&self) -> Option<f64> {
        self.net_revenue_retention
    }
}

/// Revenue retention between each pair of consecutive periods: one row per
/// period after the first.
///
/// The starting customers of period `k` are those whose net revenue (orders
/// minus refunds) in period `k − 1` was above zero; customers who first buy
/// in period `k` (new or reactivated) are not part of it. Each starting
/// customer falls in exactly one of: expanded (spent more), contracted (spent
/// less but above zero, or the same), or churned (net revenue ≤ 0 now,
/// refunds included).
///
/// # Formula
///
/// ```text
/// p_c, q_c   net order amounts of customer c in periods k − 1 and k
/// S          = { c : p_c > 0 }                      starting customers
/// starting   = Σ_S p_c
/// expansion  = Σ_S [q_c > p_c] (q_c − p_c)
/// contraction= Σ_S [0 < q_c <= p_c] (p_c − q_c)
/// churned    = Σ_S [q_c <= 0] p_c
/// retained   = Σ_S max(q_c, 0) = starting + expansion − contraction − churned
/// gross revenue churn   = (contraction + churned) / starting
/// net revenue retention = (starting + expansion − contraction − churned) / starting
/// ```
///
/// Both ratios are `None` when `starting` is 0 (the ratio is undefined).
/// These are the SaaS definitions of gross and net revenue retention
/// (Gold, *Fighting Churn with Data*, chapter 2) applied to order revenue.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
/// named `periods` if there is only one period.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::segment::{Periods, RevenueRetentionTable, revenue_retention};
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
/// let (history, _report) = pop.history_builder().build()?;
/// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
/// let rows = revenue_retention(&history, &Periods::months(jan, 6)?)?;
/// assert_eq!(rows.len(), 5);
/// for r in &rows {
///     let grc = r.gross_revenue_churn().expect("revenue every month");
///     let nrr = r.net_revenue_retention().expect("revenue every month");
///     // NRR = 1 − gross revenue churn + expansion share.
///     let expansion = r.expansion_revenue() / r.starting_revenue();
///     approx::assert_relative_eq!(nrr, 1.0 - grc + expansion, max_relative = 1e-9);
/// }
/// println!("{}", RevenueRetentionTable::new(&rows));
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn revenue_retention(history: &History, periods: &Periods) -> Result<Vec<RevenueRetention>> {
    let n = periods.len();
    if n < 2 {
        return Err(Error::invalid_parameter(
            "periods",
            format!("need at least 2 periods to compare, got {n}"),
        ));
    }
    let bounds = periods.micros();
    let customers = history.customer_count();
    // Fixed blocks of customers, summed in customer order inside a block and
    // in block order across blocks: the same float sums on any thread count.
    let blocks: Vec<Vec<RevenueSums>> = (0..customers.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            revenue_block(
                history,
                b * BLOCK..((b + 1) * BLOCK).min(customers),
                &bounds,
            )
        })
        .collect();
    let mut totals = vec![RevenueSums::default(); n - 1];
    for block in &blocks {
        for (t, s) in totals.iter_mut().zip(block) {
            t.add(s);
        }
    }
    Ok(periods
        .iter()
        .zip(periods.iter().skip(1))
        .zip(totals)
        .map(|((previous, period), sums)| RevenueRetention::new(previous, period, sums))
        .collect())
}

fn revenue_block(history: &History, customers: Range<usize>, bounds: &[i64]) -> Vec<RevenueSums> {
    let n = bounds.len().saturating_sub(1);
    let mut sums = vec![RevenueSums::default(); n.saturating_sub(1)];
    let mut net = vec![0.0; n];
    for c in customers.filter_map(|i| history.customer(i)) {
        net.fill(0.0);
        let orders = c.orders();
        let mut k = 0;
        for (&t, &amount) in orders.micros().iter().zip(orders.amounts()) {
            if bounds.first().is_none_or(|&b| t < b) {
                continue;
            }
            while bounds.get(k + 1).is_some_and(|&next| t >= next) {
                k += 1;
            }
            match net.get_mut(k) {
                Some(slot) => *slot += amount,
                None => break,
            }
        }
        for ((s, &prev), &cur) in sums.iter_mut().zip(&net).zip(net.iter().skip(1)) {
            s.add_customer(prev, cur);
        }
    }
    sums
}

/// Prints [`revenue_retention`] output as an aligned table; undefined ratios
/// print as `-`.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::segment::{Periods, RevenueRetentionTable, revenue_retention};
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
/// let (history, _report) = pop.history_builder().build()?;
/// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
/// let rows = revenue_retention(&history, &Periods::months(jan, 4)?)?;
/// let text = RevenueRetentionTable::new(&rows).to_string();
/// assert_eq!(text.lines().count(), 4);
/// assert!(text.lines().next().is_some_and(|h| h.contains("net retention")));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RevenueRetentionTable<'a> {
    rows: &'a [RevenueRetention],
}

impl<'a> RevenueRetentionTable<'a> {
    /// A table of these rows.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::RevenueRetentionTable;
    ///
    /// assert_eq!(RevenueRetentionTable::new(&[]).to_string().lines().count(), 1);
    /// ```
    pub fn new(rows: &'a [RevenueRetention]) -> Self {
        RevenueRetentionTable { rows }
    }
}

impl fmt::Display for RevenueRetentionTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let money = |x: f64| format!("{x:.2}");
        let ratio = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), fmt_percent);
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    fmt_instant(r.period.start),
                    fmt_instant(r.period.end),
                    r.starting_customers.to_string(),
                    money(r.starting_revenue),
                    money(r.retained_revenue),
                    money(r.expansion_revenue),
                    money(r.contraction_revenue),
                    money(r.churned_revenue),
                    ratio(r.gross_revenue_churn),
                    ratio(r.net_revenue_retention),
                ]
            })
            .collect();
        let header = [
            "start",
            "end",
            "customers",
            "starting",
            "retained",
            "expansion",
            "contraction",
            "churned",
            "gross churn",
            "net retention",
        ];
        write_table(f, &header, 2, &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::measures::fixtures::{EPS, day, q1, revenue_fixture};
    use approx::assert_abs_diff_eq;

    #[test]
    fn revenue_retention_matches_hand_computation() {
        // Net revenue per month (Dec and Apr orders are outside the periods;
        // R6's order at Feb 1 00:00 is in Feb, the one at Mar 31 23:59:59 in Mar):
        //       Jan   Feb   Mar
        // R1    100   150   150
        // R2     60    40     0
        // R3     50     0     0
        // R4     30   -10     0
        // R5    -15    70    35
        // R6      0   200   250
        // R7     20    20     0
        // Feb vs Jan: S = {R1, R2, R3, R4, R7}, starting 260; R1 expands 50,
        //   R2 contracts 20, R7 flat (retained 20), R3 and R4 churn 50 + 30 = 80.
        //   retained 150 + 40 + 20 = 210 = 260 + 50 − 20 − 80.
        // Mar vs Feb: S = {R1, R2, R5, R6, R7}, starting 480; R6 expands 50,
        //   R5 contracts 35, R1 flat, R2 and R7 churn 40 + 20 = 60.
        //   retained 150 + 35 + 250 = 435 = 480 + 50 − 35 − 60.
        let h = revenue_fixture();
        let rows = revenue_retention(&h, &q1()).unwrap();
        assert_eq!(rows.len(), 2);
        let want = [
            (5, 2, 260.0, 210.0, 50.0, 20.0, 80.0),
            (5, 2, 480.0, 435.0, 50.0, 35.0, 60.0),
        ];
        for (r, w) in rows.iter().zip(want) {
            assert_eq!((r.starting_customers(), r.churned_customers()), (w.0, w.1));
            assert_abs_diff_eq!(r.starting_revenue(), w.2, epsilon = EPS);
            assert_abs_diff_eq!(r.retained_revenue(), w.3, epsilon = EPS);
            assert_abs_diff_eq!(r.expansion_revenue(), w.4, epsilon = EPS);
            assert_abs_diff_eq!(r.contraction_revenue(), w.5, epsilon = EPS);
            assert_abs_diff_eq!(r.churned_revenue(), w.6, epsilon = EPS);
        }
        assert_abs_diff_eq!(
            rows[0].gross_revenue_churn().unwrap(),
            100.0 / 260.0,
            epsilon = EPS
        );
        assert_abs_diff_eq!(
            rows[0].net_revenue_retention().unwrap(),
            210.0 / 260.0,
            epsilon = EPS
        );
        assert_abs_diff_eq!(
            rows[1].gross_revenue_churn().unwrap(),
            95.0 / 480.0,
            epsilon = EPS
        );
        assert_abs_diff_eq!(
            rows[1].net_revenue_retention().unwrap(),
            435.0 / 480.0,
            epsilon = EPS
        );
        assert_eq!(rows[0].previous_period(), q1().get(0).unwrap());
        assert_eq!(rows[1].period(), q1().get(2).unwrap());
    }

    #[test]
    fn zero_starting_revenue_gives_undefined_ratios() {
        // No orders in Oct or Nov 2023: nothing to retain in Nov or Dec.
        let h = revenue_fixture();
        let rows = revenue_retention(&h, &Periods::months(day(2023, 10, 1), 3).unwrap()).unwrap();
        for r in &rows {
            assert_eq!(r.starting_customers(), 0);
            assert_eq!(r.starting_revenue(), 0.0);
            assert_eq!(r.gross_revenue_churn(), None);
            assert_eq!(r.net_revenue_retention(), None);
        }
        let text = RevenueRetentionTable::new(&rows).to_string();
        assert!(
            text.lines()
                .skip(1)
                .all(|l| l.ends_with("-              -"))
        );
    }
}
