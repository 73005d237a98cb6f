//! Business churn measures over a [`History`](crate::records::History):
//! churn rates per period, signup-month cohort retention and revenue
//! retention.
//!
//! These are the descriptive numbers a churn team reports every month
//! (Carl Gold, *Fighting Churn with Data*, Manning 2020, chapter 2), computed from the validated
//! records without a model:
//!
//! - [`churn_rates`]: of the customers active at the start of each period,
//!   how many had churned by its end, under a [`ChurnDefinition`];
//! - [`CohortRetention`]: for each signup-month cohort, the share still
//!   active 0, 1, 2, … months after signup;
//! - [`revenue_retention`]: starting, expansion, contraction and churned
//!   revenue between consecutive periods, with gross revenue churn and net
//!   revenue retention;
//! - [`mrr_movements`]: for subscriptions, the monthly recurring revenue
//!   bridge of each period (new, reactivation, expansion, contraction,
//!   churned), with gross and net MRR retention and logo churn;
//! - [`renewal_rates`]: renewals over renewal decisions, by plan, cohort
//!   or billing period.
//!
//! Periods are given by [`Periods`] (calendar months, fixed-length days, or
//! explicit bounds). Each result prints as an aligned table
//! ([`ChurnRatesTable`], [`RevenueRetentionTable`], `Display` on
//! [`CohortRetention`]) and serializes with serde.
//!
//! # Conventions
//!
//! - All times are UTC and compared at microsecond resolution.
//! - A customer exists from their signup on: at `t` they are
//!   [`ChurnStatus::NotSignedUp`] if `t < signup`.
//! - A status "at `t`" counts events at `t` itself. A period `[start, end)`
//!   holds the events with `start <= time < end`.
//! - A *purchase* is an order with amount ≥ 0. A refund (negative amount) is
//!   not activity, but revenue measures use net amounts (refunds subtracted).
//! - A [`Cancellation`](crate::records::InteractionKind::Cancellation)
//!   interaction is never counted as activity: it is the act of leaving.
//!
//! # Determinism
//!
//! The per-customer pass runs on rayon. Counts are integers, and revenue sums
//! are accumulated per fixed-size block of customers and then added in block
//! order, so every result is bit-identical whatever the number of threads.

use std::fmt;

use chrono::{DateTime, Datelike, Months, NaiveTime, Utc};

use crate::{Error, Result};

mod churn_rate;
mod cohort;
mod definition;
mod mrr;
mod periods;
mod revenue;

pub use churn_rate::{ChurnRatesTable, PeriodChurn, churn_rates};
pub use cohort::{Cohort, CohortRetention, CohortRule};
pub use definition::{ChurnDefinition, ChurnStatus};
pub use mrr::{
    MrrMovement, MrrMovementsTable, RenewalGroup, RenewalRate, RenewalRatesTable, mrr_movements,
    renewal_rates,
};
pub use periods::{Period, Periods};
pub use revenue::{RevenueRetention, RevenueRetentionTable, revenue_retention};

/// Customers per block of the parallel pass. The blocks are fixed, not
/// thread-dependent, so float sums combined in block order are deterministic.
/// Small under test so that the thread-count tests span many blocks.
const BLOCK: usize = if cfg!(test) { 64 } else { 2_048 };

// ---------------------------------------------------------------------------
// Time helpers
// ---------------------------------------------------------------------------

fn check_count(name: &'static str, count: usize) -> Result<()> {
    if count == 0 {
        Err(Error::invalid_parameter(name, "must be at least 1, got 0"))
    } else {
        Ok(())
    }
}

fn out_of_range(name: &'static str, count: usize, what: &str, start: DateTime<Utc>) -> Error {
    Error::invalid_parameter(
        name,
        format!("{count} {what} from {start} run past the supported date range"),
    )
}

/// `count + 1` month starts from `start`, which must itself be a month start.
fn month_bounds(
    start: DateTime<Utc>,
    count: usize,
    start_name: &'static str,
    count_name: &'static str,
) -> Result<Vec<DateTime<Utc>>> {
    if start.day() != 1 || start.time() != NaiveTime::MIN {
        return Err(Error::invalid_parameter(
            start_name,
            format!("must be the first instant of a month (day 1, 00:00:00 UTC), got {start}"),
        ));
    }
    check_count(count_name, count)?;
    let nth = |k: usize| {
        u32::try_from(k)
            .ok()
            .and_then(|k| start.checked_add_months(Months::new(k)))
    };
    if nth(count).is_none() {
        return Err(out_of_range(count_name, count, "months", start));
    }
    (0..=count)
        .map(nth)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| out_of_range(count_name, count, "months", start))
}

// ---------------------------------------------------------------------------
// Table formatting
// ---------------------------------------------------------------------------

/// A date, or a date and time when the instant is not midnight.
fn fmt_instant(t: DateTime<Utc>) -> String {
    if t.time() == NaiveTime::MIN {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

fn fmt_percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// Writes a table: the first `left` columns left-aligned, the rest
/// right-aligned, two spaces between columns. Rows may be shorter than the
/// header (cohort triangles).
fn write_table(
    f: &mut fmt::Formatter<'_>,
    header: &[&str],
    left: usize,
    rows: &[Vec<String>],
) -> fmt::Result {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |f: &mut fmt::Formatter<'_>, cells: &mut dyn Iterator<Item = &str>| {
        for (j, (cell, &w)) in cells.zip(&widths).enumerate() {
            if j > 0 {
                f.write_str("  ")?;
            }
            if j < left {
                write!(f, "{cell:<w$}")?;
            } else {
                write!(f, "{cell:>w$}")?;
            }
        }
        writeln!(f)
    };
    line(f, &mut header.iter().copied())?;
    for row in rows {
        line(f, &mut row.iter().map(String::as_str))?;
    }
    Ok(())
}

#[cfg(test)]
mod fixtures {
    //! Hand-built histories and helpers shared by the tests of every measure.

    use chrono::{DateTime, TimeZone, Utc};

    use super::Periods;
    use crate::records::{
        Customer, Feedback, History, HistoryBuilder, Interaction, InteractionKind, Order,
        SatisfactionScale,
    };
    use crate::synth::PopulationConfig;
    use crate::{Error, ErrorKind};

    /// Tolerance for sums of a few cent amounts and their ratios.
    pub(super) const EPS: f64 = 1e-12;

    pub(super) fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
    }

    pub(super) fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        at(y, m, d, 0, 0, 0)
    }

    fn login() -> InteractionKind {
        InteractionKind::Login
    }

    /// One event of a hand-built history.
    pub(super) enum Ev {
        Order(DateTime<Utc>, f64),
        Contact(DateTime<Utc>, InteractionKind),
        Answer(DateTime<Utc>),
    }

    pub(super) fn history(customers: Vec<(&str, DateTime<Utc>, Vec<Ev>)>) -> History {
        let mut b = HistoryBuilder::new();
        for (id, signup, events) in customers {
            b.push_customer(Customer::new(id, signup));
            for e in events {
                match e {
                    Ev::Order(t, a) => b.push_order(Order::new(id, t, a)),
                    Ev::Contact(t, k) => b.push_interaction(Interaction::new(id, t, k)),
                    Ev::Answer(t) => {
                        b.push_feedback(Feedback::new(id, t, 4.0, SatisfactionScale::FIVE_POINT))
                    }
                }
            }
        }
        b.build_strict().unwrap()
    }

    /// The churn fixture; statuses at Jan 1, Feb 1, Mar 1 and Apr 1 2024 are
    /// worked out in the `churn_rate` tests (2024 is a leap year).
    pub(super) fn churn_fixture() -> History {
        use Ev::*;
        history(vec![
            (
                "A",
                day(2023, 12, 1),
                vec![
                    Order(day(2023, 12, 5), 10.0),
                    Order(day(2024, 1, 20), 10.0),
                    Contact(day(2024, 2, 25), InteractionKind::Cancellation),
                    Order(day(2024, 3, 10), 10.0),
                ],
            ),
            (
                "B",
                day(2023, 11, 1),
                vec![
                    Order(day(2023, 11, 1), 10.0),
                    Order(day(2023, 12, 20), 10.0),
                    Contact(day(2024, 1, 10), login()),
                    Order(day(2024, 1, 25), -10.0),
                ],
            ),
            ("C", day(2024, 1, 15), vec![Answer(day(2024, 2, 10))]),
            ("D", day(2023, 10, 1), vec![Order(day(2023, 10, 1), 10.0)]),
            ("E", day(2024, 2, 20), vec![Order(day(2024, 2, 20), 10.0)]),
            ("F", day(2024, 2, 25), vec![Order(day(2024, 3, 25), 10.0)]),
            (
                "G",
                day(2023, 6, 1),
                vec![Contact(day(2024, 1, 1), InteractionKind::Cancellation)],
            ),
        ])
    }

    pub(super) fn q1() -> Periods {
        Periods::months(day(2024, 1, 1), 3).unwrap()
    }

    pub(super) fn cohort_fixture() -> History {
        use Ev::*;
        history(vec![
            (
                "H1",
                day(2024, 1, 5),
                vec![Order(day(2024, 1, 5), 20.0), Order(day(2024, 2, 10), 20.0)],
            ),
            (
                "H2",
                day(2024, 1, 20),
                vec![Order(day(2024, 1, 20), 20.0), Order(day(2024, 3, 3), 20.0)],
            ),
            (
                "H3",
                day(2024, 2, 2),
                vec![Order(day(2024, 2, 2), 20.0), Order(day(2024, 3, 4), -5.0)],
            ),
            (
                "H4",
                day(2024, 2, 15),
                vec![
                    Contact(day(2024, 2, 16), login()),
                    Contact(day(2024, 3, 20), login()),
                ],
            ),
            (
                "H5",
                day(2023, 12, 10),
                vec![Order(day(2023, 12, 10), 20.0), Order(day(2024, 1, 10), 9.0)],
            ),
            ("H6", day(2024, 3, 1), vec![Order(day(2024, 3, 1), 20.0)]),
            ("H7", day(2024, 4, 1), vec![Order(day(2024, 4, 1), 20.0)]),
        ])
    }

    pub(super) fn revenue_fixture() -> History {
        use Ev::Order as O;
        let s = day(2023, 12, 1);
        history(vec![
            (
                "R1",
                s,
                vec![
                    O(day(2023, 12, 15), 999.0),
                    O(day(2024, 1, 10), 100.0),
                    O(day(2024, 2, 10), 150.0),
                    O(day(2024, 3, 10), 150.0),
                    O(day(2024, 4, 10), 500.0),
                ],
            ),
            (
                "R2",
                s,
                vec![
                    O(day(2024, 1, 5), 80.0),
                    O(day(2024, 1, 20), -20.0),
                    O(day(2024, 2, 5), 40.0),
                ],
            ),
            ("R3", s, vec![O(day(2024, 1, 7), 50.0)]),
            (
                "R4",
                s,
                vec![
                    O(day(2024, 1, 8), 30.0),
                    O(day(2024, 2, 8), 30.0),
                    O(day(2024, 2, 18), -40.0),
                ],
            ),
            (
                "R5",
                s,
                vec![
                    O(day(2024, 1, 9), -15.0),
                    O(day(2024, 2, 9), 70.0),
                    O(day(2024, 3, 9), 35.0),
                ],
            ),
            (
                "R6",
                s,
                vec![
                    O(day(2024, 2, 1), 200.0),
                    O(at(2024, 3, 31, 23, 59, 59), 250.0),
                ],
            ),
            (
                "R7",
                s,
                vec![O(day(2024, 1, 11), 20.0), O(day(2024, 2, 11), 20.0)],
            ),
        ])
    }

    pub(super) fn invalid(err: Error) -> &'static str {
        match err.kind() {
            ErrorKind::InvalidParameter { name, .. } => name,
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    pub(super) fn synth_history(customers: usize) -> History {
        let pop = PopulationConfig::default()
            .customers(customers)
            .seed(5)
            .generate()
            .unwrap();
        pop.history_builder().build().unwrap().0
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{
        at, churn_fixture, cohort_fixture, day, q1, revenue_fixture, synth_history,
    };
    use super::*;
    use crate::records;
    use approx::assert_abs_diff_eq;

    #[test]
    fn tables_are_aligned() {
        let h = churn_fixture();
        let def = ChurnDefinition::NoOrder {
            inactivity_days: 30,
        };
        let rates = churn_rates(&h, &q1(), &def).unwrap();
        assert_eq!(
            ChurnRatesTable::new(&rates).to_string(),
            "start       end         active  churned    rate\n\
             2024-01-01  2024-02-01       2        1   50.0%\n\
             2024-02-01  2024-03-01       2        2  100.0%\n\
             2024-03-01  2024-04-01       2        1   50.0%\n"
        );
        let h = cohort_fixture();
        let c =
            CohortRetention::by_signup_month(&h, day(2024, 1, 1), 3, &CohortRule::Ordered).unwrap();
        assert_eq!(
            c.to_string(),
            "cohort   size      m0     m1     m2\n\
             2024-01     2  100.0%  50.0%  50.0%\n\
             2024-02     2   50.0%   0.0%\n\
             2024-03     1  100.0%\n"
        );
        let rows = revenue_retention(&revenue_fixture(), &q1()).unwrap();
        let text = RevenueRetentionTable::new(&rows).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "start       end         customers  starting  retained  expansion  contraction  churned  gross churn  net retention"
        );
        assert!(lines.iter().all(|l| l.len() == lines[0].len()));
        assert!(lines[1].starts_with("2024-02-01  2024-03-01          5    260.00    210.00"));
        // Periods that do not start at midnight print the time.
        let p = Periods::days(at(2024, 1, 1, 6, 0, 0), 31, 2).unwrap();
        let rows = revenue_retention(&revenue_fixture(), &p).unwrap();
        let text = RevenueRetentionTable::new(&rows).to_string();
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .starts_with("2024-02-01 06:00:00")
        );
    }

    #[test]
    fn configs_round_trip_through_serde() {
        let defs = [
            ChurnDefinition::default(),
            ChurnDefinition::NoActivity {
                inactivity_days: 45,
            },
            ChurnDefinition::Cancellation,
        ];
        for def in defs {
            let json = serde_json::to_string(&def).unwrap();
            assert_eq!(serde_json::from_str::<ChurnDefinition>(&json).unwrap(), def);
            let rule = CohortRule::NotChurned {
                definition: def.clone(),
            };
            let json = serde_json::to_string(&rule).unwrap();
            assert_eq!(serde_json::from_str::<CohortRule>(&json).unwrap(), rule);
        }
        assert_eq!(
            serde_json::to_string(&ChurnDefinition::default()).unwrap(),
            r#"{"type":"no_order","inactivity_days":90}"#
        );
        assert_eq!(
            serde_json::to_string(&CohortRule::Ordered).unwrap(),
            r#"{"rule":"ordered"}"#
        );
        let typo = r#"{"type":"no_order","inactivity_day":90}"#;
        assert!(serde_json::from_str::<ChurnDefinition>(typo).is_err());
        let p = q1();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Periods>(&json).unwrap(), p);
        let bad = r#"{"bounds":["2024-02-01T00:00:00Z","2024-01-01T00:00:00Z"]}"#;
        let err = serde_json::from_str::<Periods>(bad).unwrap_err();
        assert!(err.to_string().contains("strictly increasing"), "{err}");
        let unknown = r#"{"bounds":["2024-01-01T00:00:00Z","2024-02-01T00:00:00Z"],"x":1}"#;
        assert!(serde_json::from_str::<Periods>(unknown).is_err());
        // Results serialize (no Deserialize: they come only from the measures).
        let rates = churn_rates(&churn_fixture(), &q1(), &ChurnDefinition::Cancellation).unwrap();
        let v = serde_json::to_value(&rates).unwrap();
        assert_eq!(v[1]["active_at_start"], 4);
        assert_eq!(v[1]["rate"], 0.25);
        let h = cohort_fixture();
        let c =
            CohortRetention::by_signup_month(&h, day(2024, 1, 1), 3, &CohortRule::Ordered).unwrap();
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["rule"]["rule"], "ordered");
        assert_eq!(v["cohorts"][0]["retained"], serde_json::json!([2, 1, 1]));
        let rows = revenue_retention(&revenue_fixture(), &q1()).unwrap();
        let v = serde_json::to_value(&rows).unwrap();
        assert_eq!(v[0]["starting_revenue"], 260.0);
        let none = revenue_retention(
            &revenue_fixture(),
            &Periods::months(day(2023, 10, 1), 2).unwrap(),
        )
        .unwrap();
        assert!(serde_json::to_value(&none).unwrap()[0]["net_revenue_retention"].is_null());
    }

    #[test]
    fn public_types_are_send_sync_unpin() {
        fn assert_auto<T: Send + Sync + Unpin>() {}
        assert_auto::<ChurnDefinition>();
        assert_auto::<ChurnStatus>();
        assert_auto::<Period>();
        assert_auto::<Periods>();
        assert_auto::<PeriodChurn>();
        assert_auto::<ChurnRatesTable<'_>>();
        assert_auto::<CohortRule>();
        assert_auto::<Cohort>();
        assert_auto::<CohortRetention>();
        assert_auto::<RevenueRetention>();
        assert_auto::<RevenueRetentionTable<'_>>();
    }

    fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    #[test]
    fn results_do_not_depend_on_thread_count() {
        // 1 000 customers span 16 blocks of 64 under test.
        let h = synth_history(1_000);
        let months = Periods::months(day(2023, 1, 1), 24).unwrap();
        let weeks = Periods::days(at(2023, 3, 1, 8, 0, 0), 7, 60).unwrap();
        let defs = [
            ChurnDefinition::default(),
            ChurnDefinition::NoActivity {
                inactivity_days: 60,
            },
            ChurnDefinition::Cancellation,
        ];
        let run = || {
            let rates: Vec<_> = defs
                .iter()
                .map(|d| churn_rates(&h, &months, d).unwrap())
                .collect();
            let rules = [
                CohortRule::Ordered,
                CohortRule::Active,
                CohortRule::NotChurned {
                    definition: defs[0].clone(),
                },
            ];
            let cohorts: Vec<_> = rules
                .iter()
                .map(|r| CohortRetention::by_signup_month(&h, day(2023, 1, 1), 24, r).unwrap())
                .collect();
            let revenue = (
                revenue_retention(&h, &months).unwrap(),
                revenue_retention(&h, &weeks).unwrap(),
            );
            (rates, cohorts, revenue)
        };
        let one = in_pool(1, run);
        let two = in_pool(2, run);
        assert!(one == two, "results differ between 1 and 2 threads");
        // Bit-identical floats, not merely equal.
        let bits = |r: &[RevenueRetention]| -> Vec<u64> {
            r.iter().map(|x| x.starting_revenue().to_bits()).collect()
        };
        assert_eq!(bits(&one.2.1), bits(&two.2.1));
    }

    #[test]
    fn batch_measures_agree_with_per_customer_oracles() {
        // Churn rates against ChurnDefinition::status evaluated one instant at
        // a time; revenue against sums over the public Order records.
        let h = synth_history(600);
        let periods = Periods::months(day(2023, 6, 1), 14).unwrap();
        let bounds = periods.bounds();
        for def in [
            ChurnDefinition::NoOrder {
                inactivity_days: 45,
            },
            ChurnDefinition::NoActivity {
                inactivity_days: 30,
            },
            ChurnDefinition::Cancellation,
        ] {
            let rates = churn_rates(&h, &periods, &def).unwrap();
            for (k, r) in rates.iter().enumerate() {
                let (mut active, mut churned) = (0, 0);
                for c in h.customers() {
                    if def.status(c, bounds[k]).unwrap().is_active() {
                        active += 1;
                        churned += usize::from(def.status(c, bounds[k + 1]).unwrap().is_churned());
                    }
                }
                assert_eq!(
                    (r.active_at_start(), r.churned()),
                    (active, churned),
                    "{def:?} {k}"
                );
            }
        }
        let rows = revenue_retention(&h, &periods).unwrap();
        let net = |c: &records::CustomerView<'_>, k: usize| -> f64 {
            c.orders()
                .iter()
                .filter(|o| o.time >= bounds[k] && o.time < bounds[k + 1])
                .map(|o| o.amount)
                .sum()
        };
        for (k, r) in rows.iter().enumerate() {
            let (mut starting, mut retained, mut churned) = (0.0, 0.0, 0.0);
            for c in h.customers() {
                let (p, q) = (net(&c, k), net(&c, k + 1));
                if p > 0.0 {
                    starting += p;
                    retained += q.max(0.0);
                    churned += if q <= 0.0 { p } else { 0.0 };
                }
            }
            assert_abs_diff_eq!(r.starting_revenue(), starting, epsilon = 1e-6);
            assert_abs_diff_eq!(r.retained_revenue(), retained, epsilon = 1e-6);
            assert_abs_diff_eq!(r.churned_revenue(), churned, epsilon = 1e-6);
            let identity = r.starting_revenue() + r.expansion_revenue()
                - r.contraction_revenue()
                - r.churned_revenue();
            assert_abs_diff_eq!(r.retained_revenue(), identity, epsilon = 1e-6);
        }
    }
}
