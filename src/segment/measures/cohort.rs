//! Signup-month cohort retention: [`CohortRetention`], [`Cohort`] and
//! [`CohortRule`].

use std::fmt;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::definition::{Rule, answer_times, contact_times, for_each_status, purchase_times};
use super::{BLOCK, ChurnDefinition, fmt_percent, month_bounds, write_table};
use crate::records::{CustomerView, History};
use crate::util::to_micros;
use crate::{Error, Result};

/// The most signup-month cohorts [`CohortRetention`] accepts (100 years).
const MAX_COHORT_MONTHS: usize = 1_200;

/// What makes a cohort member count as retained in a month since signup.
///
/// Serialized as `{"rule": "ordered"}`, `{"rule": "active"}` or
/// `{"rule": "not_churned", "definition": {"type": "no_order", "inactivity_days": 90}}`.
/// The default is `Ordered`.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::segment::{ChurnDefinition, CohortRetention, CohortRule};
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
/// let (history, _report) = pop.history_builder().build()?;
/// let jan = Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).unwrap();
/// let ordered = CohortRetention::by_signup_month(&history, jan, 12, &CohortRule::Ordered)?;
/// let active = CohortRetention::by_signup_month(&history, jan, 12, &CohortRule::Active)?;
/// // Any event is at least as common as an order.
/// let (o, a) = (ordered.share(0, 3), active.share(0, 3));
/// assert!(o.zip(a).is_some_and(|(o, a)| o <= a));
/// let survival = CohortRule::NotChurned { definition: ChurnDefinition::Cancellation };
/// let subs = CohortRetention::by_signup_month(&history, jan, 12, &survival)?;
/// assert_eq!(subs.cohorts().len(), 12);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum CohortRule {
    /// Order-based: at least one purchase (order with amount ≥ 0) in that
    /// calendar month. A refund alone does not count.
    #[default]
    Ordered,
    /// Activity-based: at least one purchase, interaction other than a
    /// cancellation, or feedback answer in that calendar month.
    Active,
    /// Survival: not churned under `definition` at the end of that calendar
    /// month (the first instant of the next month). With
    /// [`ChurnDefinition::Cancellation`] this is subscription retention.
    NotChurned {
        /// The churn definition to apply.
        definition: ChurnDefinition,
    },
}

/// One signup-month cohort of a [`CohortRetention`].
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::segment::{CohortRetention, CohortRule};
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
/// let (history, _report) = pop.history_builder().build()?;
/// let jan = Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).unwrap();
/// let table = CohortRetention::by_signup_month(&history, jan, 6, &CohortRule::Ordered)?;
/// let first = &table.cohorts()[0];
/// assert_eq!(first.label(), "2023-01");
/// assert_eq!(first.retained().len(), 6);
/// // Synthetic customers place a trial order at signup.
/// assert_eq!(first.share(0), Some(1.0));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    start: DateTime<Utc>,
    size: usize,
    retained: Vec<usize>,
    shares: Vec<f64>,
}

impl Cohort {
    /// The first instant of the signup month.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The signup month as `YYYY-MM`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{CohortRetention, CohortRule};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let mar = Utc.with_ymd_and_hms(2023, 3, 1, 0, 0, 0).unwrap();
    /// let table = CohortRetention::by_signup_month(&history, mar, 1, &CohortRule::Ordered)?;
    /// assert_eq!(table.cohorts()[0].label(), "2023-03");
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn label(&self) -> String {
        self.start.format("%Y-%m").to_string()
    }

    /// The number of customers who signed up in the month.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Retained customers `m` months after signup, for `m` in
    /// `0..observed months` (the months that end inside the window).
    pub fn retained(&self) -> &[usize] {
        &self.retained
    }

    /// Shares of the cohort retained `m` months after signup
    /// (`retained[m] / size`; 0 for an empty cohort).
    pub fn shares(&self) -> &[f64] {
        &self.shares
    }

    /// The share retained `months_since_signup` months after signup, or
    /// `None` if that month is not inside the window.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{CohortRetention, CohortRule};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).unwrap();
    /// let table = CohortRetention::by_signup_month(&history, jan, 6, &CohortRule::Ordered)?;
    /// let last = &table.cohorts()[5];
    /// assert!(last.share(0).is_some() && last.share(1).is_none());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn share(&self, months_since_signup: usize) -> Option<f64> {
        self.shares.get(months_since_signup).copied()
    }
}

/// Retention by signup-month cohort: rows are the customers who signed up in
/// each calendar month, columns the months since signup, cells the share of
/// the cohort retained in that month under a [`CohortRule`].
///
/// Cohort tables separate "are newer customers worse?" from "do customers
/// wear out with tenure?", which a single churn rate mixes. The window is
/// `months` calendar months from `first_month`: cohort `i` signed up in month
/// `i` of the window and has cells for months since signup
/// `0..months − i` (a triangle). Customers who signed up outside the window
/// are not counted. Cells in months after the end of your data show no
/// activity, so end the window with your data.
///
/// # Formula
///
/// ```text
/// C_i = { c : signup_c in calendar month first_month + i }
/// share_{i,m} = |{ c ∈ C_i : retained_c(month first_month + i + m) }| / |C_i|
///               (0 when C_i is empty), for 0 <= m < months − i
/// ```
///
/// Prints as an aligned table of percentages with one decimal, and serializes
/// with serde (rule, window, and per cohort: start, size, retained counts and
/// shares).
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::segment::{CohortRetention, CohortRule};
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
/// let (history, _report) = pop.history_builder().build()?;
/// let jan = Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).unwrap();
/// let cohorts = CohortRetention::by_signup_month(&history, jan, 12, &CohortRule::Ordered)?;
/// let text = cohorts.to_string();
/// // cohort   size      m0     m1  ...
/// // 2023-01   ...  100.0%    ...  ...
/// assert!(text.lines().nth(1).is_some_and(|l| l.starts_with("2023-01")));
/// assert!(cohorts.share(0, 1).is_some_and(|s| s < 1.0));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohortRetention {
    rule: CohortRule,
    first_month: DateTime<Utc>,
    months: usize,
    cohorts: Vec<Cohort>,
}

/// Per-block counts of [`CohortRetention::by_signup_month`].
struct CohortCounts {
    sizes: Vec<usize>,
    /// Row `i` has `months − i` cells.
    retained: Vec<Vec<usize>>,
    /// Scratch: months since signup with activity, for the current customer.
    flags: Vec<bool>,
}

impl CohortCounts {
    fn new(months: usize) -> Self {
        CohortCounts {
            sizes: vec![0; months],
            retained: (0..months).map(|i| vec![0; months - i]).collect(),
            flags: vec![false; months],
        }
    }

    fn merge(mut self, other: CohortCounts) -> Self {
        for (a, b) in self.sizes.iter_mut().zip(other.sizes) {
            *a += b;
        }
        for (ra, rb) in self.retained.iter_mut().zip(other.retained) {
            for (a, b) in ra.iter_mut().zip(rb) {
                *a += b;
            }
        }
        self
    }

    fn add(&mut self, rule: &CohortRule, churn: Option<Rule>, c: CustomerView<'_>, bounds: &[i64]) {
        let signup = to_micros(c.signup());
        let months = self.sizes.len();
        // Cohort i: bounds[i] <= signup < bounds[i + 1].
        let Some(i) = bounds.partition_point(|&b| b <= signup).checked_sub(1) else {
            return;
        };
        if i >= months {
            return;
        }
        let (Some(size), Some(row)) = (self.sizes.get_mut(i), self.retained.get_mut(i)) else {
            return;
        };
        *size += 1;
        let ends = bounds.get(i + 1..).unwrap_or_default();
        if let Some(rule) = churn {
            for_each_status(rule, c, ends, |m, status| {
                if let (true, Some(cell)) = (status.is_active(), row.get_mut(m)) {
                    *cell += 1;
                }
            });
            return;
        }
        let Some(flags) = self.flags.get_mut(..row.len()) else {
            return;
        };
        flags.fill(false);
        let window = bounds.get(i..).unwrap_or_default();
        mark_months(purchase_times(c), window, flags);
        if *rule == CohortRule::Active {
            mark_months(contact_times(c), window, flags);
            mark_months(answer_times(c), window, flags);
        }
        for (cell, &flag) in row.iter_mut().zip(flags.iter()) {
            *cell += usize::from(flag);
        }
    }
}

/// Sets `flags[m]` when an event (ascending `events`) falls in
/// `[bounds[m], bounds[m + 1])`.
fn mark_months(events: impl Iterator<Item = i64>, bounds: &[i64], flags: &mut [bool]) {
    let Some(&first) = bounds.first() else {
        return;
    };
    let mut m = 0;
    for t in events {
        if t < first {
            continue;
        }
        while let Some(&next) = bounds.get(m + 1) {
            if t < next {
                break;
            }
            m += 1;
        }
        match flags.get_mut(m) {
            Some(flag) if m + 1 < bounds.len() => *flag = true,
            _ => break,
        }
    }
}

impl CohortRetention {
    /// Cohort retention for the customers who signed up in the `months`
    /// calendar months from `first_month` (00:00:00 UTC on the 1st).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `first_month` if it is not the first instant of a month,
    /// `months` if it is 0, above 1 200 or runs past chrono's date range,
    /// and as [`ChurnDefinition::validate`] for
    /// [`CohortRule::NotChurned`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{ChurnDefinition, CohortRetention, CohortRule};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).unwrap();
    /// let rule = CohortRule::NotChurned { definition: ChurnDefinition::default() };
    /// let table = CohortRetention::by_signup_month(&history, jan, 12, &rule)?;
    /// // Nobody can be 90 days inactive by the end of the signup month.
    /// assert!(table.cohorts().iter().all(|c| c.size() == 0 || c.share(0) == Some(1.0)));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn by_signup_month(
        history: &History,
        first_month: DateTime<Utc>,
        months: usize,
        rule: &CohortRule,
    ) -> Result<CohortRetention> {
        if months > MAX_COHORT_MONTHS {
            return Err(Error::invalid_parameter(
                "months",
                format!("must be at most {MAX_COHORT_MONTHS}, got {months}"),
            ));
        }
        let starts = month_bounds(first_month, months, "first_month", "months")?;
        let churn = match rule {
            CohortRule::NotChurned { definition } => Some(definition.rule()?),
            CohortRule::Ordered | CohortRule::Active => None,
        };
        let bounds: Vec<i64> = starts.iter().map(|&t| to_micros(t)).collect();
        let counts = (0..history.customer_count())
            .into_par_iter()
            .with_min_len(BLOCK)
            .fold(
                || CohortCounts::new(months),
                |mut acc, index| {
                    if let Some(c) = history.customer(index) {
                        acc.add(rule, churn, c, &bounds);
                    }
                    acc
                },
            )
            .reduce(|| CohortCounts::new(months), CohortCounts::merge);
        let cohorts = starts
            .iter()
            .zip(counts.sizes)
            .zip(counts.retained)
            .map(|((&start, size), retained)| {
                let shares = retained
                    .iter()
                    .map(|&n| {
                        if size == 0 {
                            0.0
                        } else {
                            n as f64 / size as f64
                        }
                    })
                    .collect();
                Cohort {
                    start,
                    size,
                    retained,
                    shares,
                }
            })
            .collect();
        Ok(CohortRetention {
            rule: rule.clone(),
            first_month,
            months,
            cohorts,
        })
    }

    /// The rule that decided who was retained.
    pub fn rule(&self) -> &CohortRule {
        &self.rule
    }

    /// The first signup month of the window.
    pub fn first_month(&self) -> DateTime<Utc> {
        self.first_month
    }

    /// The number of calendar months in the window (cohorts, and columns of
    /// the first cohort).
    pub fn months(&self) -> usize {
        self.months
    }

    /// The cohorts, in signup-month order (one per month of the window,
    /// empty ones included).
    pub fn cohorts(&self) -> &[Cohort] {
        &self.cohorts
    }

    /// The share of cohort `cohort` retained `months_since_signup` months
    /// after signup, or `None` outside the triangle.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{CohortRetention, CohortRule};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).unwrap();
    /// let table = CohortRetention::by_signup_month(&history, jan, 3, &CohortRule::Ordered)?;
    /// assert!(table.share(0, 2).is_some());
    /// assert!(table.share(1, 2).is_none());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn share(&self, cohort: usize, months_since_signup: usize) -> Option<f64> {
        self.cohorts.get(cohort)?.share(months_since_signup)
    }
}

impl fmt::Display for CohortRetention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let columns: Vec<String> = (0..self.months).map(|m| format!("m{m}")).collect();
        let mut header = vec!["cohort", "size"];
        header.extend(columns.iter().map(String::as_str));
        let rows: Vec<Vec<String>> = self
            .cohorts
            .iter()
            .map(|c| {
                let mut row = vec![c.label(), c.size.to_string()];
                row.extend(c.shares.iter().map(|&s| fmt_percent(s)));
                row
            })
            .collect();
        write_table(f, &header, 1, &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::measures::fixtures::{EPS, cohort_fixture, day, invalid};
    use crate::segment::measures::{Periods, revenue_retention};
    use approx::assert_abs_diff_eq;

    fn cohort_cells(c: &CohortRetention) -> Vec<(usize, Vec<usize>)> {
        c.cohorts()
            .iter()
            .map(|c| (c.size(), c.retained().to_vec()))
            .collect()
    }

    #[test]
    fn cohorts_by_orders_match_hand_computation() {
        // Window Jan–Mar 2024; H5 (Dec) and H7 (Apr) are outside it.
        // Jan {H1, H2}: m0 both; m1 (Feb) H1; m2 (Mar) H2.
        // Feb {H3, H4}: m0 H3; m1 nobody (H3's March refund is not an order).
        // Mar {H6}: m0 H6.
        let h = cohort_fixture();
        let c =
            CohortRetention::by_signup_month(&h, day(2024, 1, 1), 3, &CohortRule::Ordered).unwrap();
        let want = [(2, vec![2, 1, 1]), (2, vec![1, 0]), (1, vec![1])];
        assert_eq!(cohort_cells(&c), want);
        assert_abs_diff_eq!(c.share(0, 1).unwrap(), 0.5, epsilon = EPS);
        assert_abs_diff_eq!(c.share(1, 0).unwrap(), 0.5, epsilon = EPS);
        assert_abs_diff_eq!(c.share(1, 1).unwrap(), 0.0, epsilon = EPS);
        assert_eq!(c.share(1, 2), None);
        assert_eq!(c.share(3, 0), None);
        assert_eq!(c.months(), 3);
        assert_eq!(c.first_month(), day(2024, 1, 1));
        assert_eq!(c.cohorts()[2].label(), "2024-03");
    }

    #[test]
    fn cohorts_by_activity_count_logins() {
        // As by orders, except Feb: m0 H3 (order) and H4 (login Feb 16); m1 H4 (login Mar 20).
        let h = cohort_fixture();
        let c =
            CohortRetention::by_signup_month(&h, day(2024, 1, 1), 3, &CohortRule::Active).unwrap();
        let want = [(2, vec![2, 1, 1]), (2, vec![2, 1]), (1, vec![1])];
        assert_eq!(cohort_cells(&c), want);
        assert_abs_diff_eq!(c.share(1, 1).unwrap(), 0.5, epsilon = EPS);
    }

    #[test]
    fn cohorts_by_survival_evaluate_at_month_ends() {
        // NotChurned{NoOrder{30}} at Feb 1, Mar 1, Apr 1:
        // H1: Jan 5 → 27 d A; Feb 10 → 20 d A; Feb 10 → 51 d C   = [1, 1, 0]
        // H2: Jan 20 → 12 d A; 41 d C; Mar 3 → 29 d A            = [1, 0, 1]
        // H3: (Mar 1) Feb 2 → 28 d A; (Apr 1) 59 d C              = [1, 0]
        // H4: signup Feb 15 → 15 d A; 46 d C                      = [1, 0]
        // H6: (Apr 1) Mar 1 → 31 d C                              = [0]
        let h = cohort_fixture();
        let no_order = CohortRule::NotChurned {
            definition: ChurnDefinition::NoOrder {
                inactivity_days: 30,
            },
        };
        let c = CohortRetention::by_signup_month(&h, day(2024, 1, 1), 3, &no_order).unwrap();
        let want = [(2, vec![2, 1, 1]), (2, vec![2, 0]), (1, vec![0])];
        assert_eq!(cohort_cells(&c), want);
        // Under NoActivity{30}, H4's login on Mar 20 keeps it (12 d at Apr 1).
        let no_activity = CohortRule::NotChurned {
            definition: ChurnDefinition::NoActivity {
                inactivity_days: 30,
            },
        };
        let c = CohortRetention::by_signup_month(&h, day(2024, 1, 1), 3, &no_activity).unwrap();
        assert_eq!(c.cohorts()[1].retained(), [2, 1]);
    }

    #[test]
    fn empty_cohorts_have_zero_shares() {
        let h = cohort_fixture();
        let c =
            CohortRetention::by_signup_month(&h, day(2022, 1, 1), 2, &CohortRule::Ordered).unwrap();
        assert!(c.cohorts().iter().all(|c| c.size() == 0));
        assert_eq!(c.cohorts()[0].shares(), [0.0, 0.0]);
    }

    #[test]
    fn rejects_bad_cohort_windows_and_single_period_revenue() {
        let h = cohort_fixture();
        let by = |t, n| CohortRetention::by_signup_month(&h, t, n, &CohortRule::Ordered);
        assert_eq!(invalid(by(day(2024, 1, 15), 3).unwrap_err()), "first_month");
        assert_eq!(invalid(by(day(2024, 1, 1), 0).unwrap_err()), "months");
        assert_eq!(
            invalid(by(day(2024, 1, 1), MAX_COHORT_MONTHS + 1).unwrap_err()),
            "months"
        );
        let late = day(262_100, 1, 1);
        assert_eq!(invalid(by(late, MAX_COHORT_MONTHS).unwrap_err()), "months");
        let one = Periods::months(day(2024, 1, 1), 1).unwrap();
        assert_eq!(invalid(revenue_retention(&h, &one).unwrap_err()), "periods");
    }
}
