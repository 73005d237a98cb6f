//! Churn rate per period: [`churn_rates`], [`PeriodChurn`] and
//! [`ChurnRatesTable`].

use std::fmt;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::Serialize;

use super::definition::for_each_status;
use super::{
    BLOCK, ChurnDefinition, ChurnStatus, Period, Periods, fmt_instant, fmt_percent, write_table,
};
use crate::Result;
use crate::records::History;

/// The churn of one period, from [`churn_rates`].
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::segment::{ChurnDefinition, Periods, churn_rates};
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
/// let (history, _report) = pop.history_builder().build()?;
/// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
/// let rates = churn_rates(&history, &Periods::months(jan, 6)?, &ChurnDefinition::default())?;
/// let first = &rates[0];
/// assert_eq!(first.start(), jan);
/// assert!(first.churned() <= first.active_at_start());
/// assert_eq!(first.retained(), first.active_at_start() - first.churned());
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodChurn {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    active_at_start: usize,
    churned: usize,
    rate: f64,
}

impl PeriodChurn {
    fn new(period: Period, active_at_start: usize, churned: usize) -> Self {
        let rate = if active_at_start == 0 {
            0.0
        } else {
            churned as f64 / active_at_start as f64
        };
        PeriodChurn {
            start: period.start,
            end: period.end,
            active_at_start,
            churned,
            rate,
        }
    }

    /// The start of the period (inclusive).
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The end of the period (exclusive).
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// The period as a [`Period`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{ChurnDefinition, Periods, churn_rates};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let periods = Periods::months(jan, 3)?;
    /// let rates = churn_rates(&history, &periods, &ChurnDefinition::default())?;
    /// assert!(rates.iter().map(|r| r.period()).eq(periods.iter()));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn period(&self) -> Period {
        Period {
            start: self.start,
            end: self.end,
        }
    }

    /// Customers who existed and were not churned at the start.
    pub fn active_at_start(&self) -> usize {
        self.active_at_start
    }

    /// Of those active at the start, how many were churned at the end.
    pub fn churned(&self) -> usize {
        self.churned
    }

    /// Of those active at the start, how many were not churned at the end.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{ChurnDefinition, Periods, churn_rates};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let rates = churn_rates(&history, &Periods::months(jan, 1)?, &ChurnDefinition::default())?;
    /// assert_eq!(rates[0].retained() + rates[0].churned(), rates[0].active_at_start());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn retained(&self) -> usize {
        self.active_at_start.saturating_sub(self.churned)
    }

    /// `churned / active_at_start`, or 0 when nobody was active at the start.
    pub fn rate(&self) -> f64 {
        self.rate
    }
}

/// Churn per period: of the customers active at the start of each period,
/// how many were churned at its end.
///
/// This is the headline churn rate of a churn report. For each period
/// `[start, end)`, a customer counts in `active_at_start` if they had signed
/// up by `start` and were not churned at `start` under `definition`, and in
/// `churned` if, in addition, they were churned at `end`. A customer who
/// lapses and comes back within the period is not churned; customers who sign
/// up during the period are not counted in it (they are in the next one).
///
/// # Formula
///
/// ```text
/// A_k = { c : status_c(start_k) = Active }
/// churned_k = |{ c ∈ A_k : status_c(end_k) = Churned }|
/// rate_k = churned_k / |A_k|        (0 when A_k is empty)
/// ```
///
/// # Errors
///
/// As [`ChurnDefinition::validate`].
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::segment::{ChurnDefinition, ChurnRatesTable, Periods, churn_rates};
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
/// let (history, _report) = pop.history_builder().build()?;
/// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
/// let rates = churn_rates(&history, &Periods::months(jan, 6)?, &ChurnDefinition::default())?;
/// assert_eq!(rates.len(), 6);
/// assert!(rates.iter().all(|r| r.rate() > 0.0 && r.rate() < 1.0));
/// let table = ChurnRatesTable::new(&rates).to_string();
/// assert!(table.starts_with("start"));
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn churn_rates(
    history: &History,
    periods: &Periods,
    definition: &ChurnDefinition,
) -> Result<Vec<PeriodChurn>> {
    let rule = definition.rule()?;
    let instants = periods.micros();
    let n = periods.len();
    // Per period: [active at start, churned at end]. Integer counts, so the
    // rayon fold/reduce tree does not affect the result.
    let counts = (0..history.customer_count())
        .into_par_iter()
        .with_min_len(BLOCK)
        .fold(
            || vec![[0usize; 2]; n],
            |mut counts, index| {
                if let Some(customer) = history.customer(index) {
                    let mut previous = ChurnStatus::NotSignedUp;
                    for_each_status(rule, customer, &instants, |k, status| {
                        let slot = k.checked_sub(1).and_then(|p| counts.get_mut(p));
                        if let (true, Some(slot)) = (previous.is_active(), slot) {
                            slot[0] += 1;
                            slot[1] += usize::from(status.is_churned());
                        }
                        previous = status;
                    });
                }
                counts
            },
        )
        .reduce(|| vec![[0usize; 2]; n], add_counts);
    Ok(periods
        .iter()
        .zip(counts)
        .map(|(period, [active, churned])| PeriodChurn::new(period, active, churned))
        .collect())
}

fn add_counts(mut a: Vec<[usize; 2]>, b: Vec<[usize; 2]>) -> Vec<[usize; 2]> {
    for (x, y) in a.iter_mut().zip(b) {
        x[0] += y[0];
        x[1] += y[1];
    }
    a
}

/// Prints [`churn_rates`] output as an aligned table.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::segment::{ChurnDefinition, ChurnRatesTable, Periods, churn_rates};
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
/// let (history, _report) = pop.history_builder().build()?;
/// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
/// let rates = churn_rates(&history, &Periods::months(jan, 3)?, &ChurnDefinition::default())?;
/// let text = ChurnRatesTable::new(&rates).to_string();
/// // start       end         active  churned   rate
/// // 2024-01-01  2024-02-01     ...
/// assert_eq!(text.lines().count(), 4);
/// assert!(text.lines().nth(1).is_some_and(|l| l.starts_with("2024-01-01  2024-02-01")));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ChurnRatesTable<'a> {
    rows: &'a [PeriodChurn],
}

impl<'a> ChurnRatesTable<'a> {
    /// A table of these rows.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::ChurnRatesTable;
    ///
    /// assert_eq!(ChurnRatesTable::new(&[]).to_string().lines().count(), 1);
    /// ```
    pub fn new(rows: &'a [PeriodChurn]) -> Self {
        ChurnRatesTable { rows }
    }
}

impl fmt::Display for ChurnRatesTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    fmt_instant(r.start),
                    fmt_instant(r.end),
                    r.active_at_start.to_string(),
                    r.churned.to_string(),
                    fmt_percent(r.rate),
                ]
            })
            .collect();
        write_table(f, &["start", "end", "active", "churned", "rate"], 2, &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::measures::fixtures::{EPS, churn_fixture, day, q1, synth_history};
    use approx::assert_abs_diff_eq;

    fn counts(rates: &[PeriodChurn]) -> Vec<(usize, usize)> {
        rates
            .iter()
            .map(|r| (r.active_at_start(), r.churned()))
            .collect()
    }

    #[test]
    fn no_order_churn_rates_match_hand_computation() {
        // NoOrder{30}; status = Churned when (t − max(signup, last purchase <= t)) >= 30 days.
        //        Jan 1          Feb 1                     Mar 1           Apr 1
        // A  Dec 5: 27 d A   Jan 20: 12 d A            Jan 20: 41 d C   Mar 10: 22 d A
        // B  Dec 20: 12 d A  Dec 20: 43 d C (refund    C                C
        //                    Jan 25 is not a purchase)
        // C  not signed up   signup Jan 15: 17 d A     46 d C           C
        // D  Oct 1: 92 d C   C                         C                C
        // E  not signed up   not signed up             Feb 20: 10 d A   41 d C
        // F  not signed up   not signed up             signup Feb 25: A Mar 25: 7 d A
        // G  signup Jun 1: C C                         C                C
        // Jan: active {A, B}, churned {B}; Feb: {A, C}, {A, C}; Mar: {E, F}, {E}.
        let h = churn_fixture();
        let def = ChurnDefinition::NoOrder {
            inactivity_days: 30,
        };
        let rates = churn_rates(&h, &q1(), &def).unwrap();
        assert_eq!(counts(&rates), [(2, 1), (2, 2), (2, 1)]);
        assert_abs_diff_eq!(rates[0].rate(), 0.5, epsilon = EPS);
        assert_abs_diff_eq!(rates[1].rate(), 1.0, epsilon = EPS);
        assert_abs_diff_eq!(rates[2].rate(), 0.5, epsilon = EPS);
        assert_eq!(rates[2].retained(), 1);
        assert_eq!(rates[1].period(), q1().get(1).unwrap());
    }

    #[test]
    fn no_activity_counts_contacts_and_feedback_but_not_cancellations_or_refunds() {
        // NoActivity{30}: logins and feedback count; A's cancellation and B's refund do not.
        //        Jan 1          Feb 1                Mar 1                     Apr 1
        // A  Dec 5: A        Jan 20: A            Jan 20: 41 d C (cancel   Mar 10: A
        //                                         Feb 25 is not activity)
        // B  Dec 20: A       login Jan 10: 22 d A Jan 10: 51 d C           C
        // C  not signed up   signup Jan 15: A     feedback Feb 10: 20 d A  51 d C
        // D, G churned throughout; E, F as under NoOrder (Mar 1: A; Apr 1: E C, F A).
        // Jan: {A, B} → none; Feb: {A, B, C} → {A, B}; Mar: {C, E, F} → {C, E}.
        let h = churn_fixture();
        let def = ChurnDefinition::NoActivity {
            inactivity_days: 30,
        };
        let rates = churn_rates(&h, &q1(), &def).unwrap();
        assert_eq!(counts(&rates), [(2, 0), (3, 2), (3, 2)]);
        assert_abs_diff_eq!(rates[0].rate(), 0.0, epsilon = EPS);
        assert_abs_diff_eq!(rates[1].rate(), 2.0 / 3.0, epsilon = EPS);
        assert_abs_diff_eq!(rates[2].rate(), 2.0 / 3.0, epsilon = EPS);
    }

    #[test]
    fn cancellation_churn_counts_the_first_cancellation_inclusively() {
        // Cancellation: G cancels at exactly Jan 1 00:00, so is churned at Jan 1.
        // Jan 1 active {A, B, D} → none by Feb 1.
        // Feb 1 active {A, B, C, D} → A (cancelled Feb 25) by Mar 1.
        // Mar 1 active {B, C, D, E, F} → none by Apr 1 (A's later order does not revive it).
        let h = churn_fixture();
        let rates = churn_rates(&h, &q1(), &ChurnDefinition::Cancellation).unwrap();
        assert_eq!(counts(&rates), [(3, 0), (4, 1), (5, 0)]);
        assert_abs_diff_eq!(rates[1].rate(), 0.25, epsilon = EPS);
        let a = h.find(&"A".into()).unwrap();
        let def = ChurnDefinition::Cancellation;
        assert_eq!(
            def.status(a, day(2024, 4, 1)).unwrap(),
            ChurnStatus::Churned
        );
    }

    #[test]
    fn synthetic_churn_rates_are_strictly_between_zero_and_one() {
        let h = synth_history(1_000);
        let periods = Periods::months(day(2024, 1, 1), 12).unwrap();
        let rates = churn_rates(&h, &periods, &ChurnDefinition::default()).unwrap();
        for r in &rates {
            assert!(r.rate() > 0.0 && r.rate() < 1.0, "{r:?}");
            assert!(r.active_at_start() > 100, "{r:?}");
        }
    }
}
