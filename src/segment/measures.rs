//! Business churn measures over a [`History`]: churn rates per period,
//! signup-month cohort retention and revenue retention.
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
//!   revenue retention.
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
use std::iter::Peekable;
use std::ops::Range;

use chrono::{DateTime, Datelike, Months, NaiveTime, TimeDelta, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::records::history::CompactKind;
use crate::records::time::{MICROS_PER_DAY, to_micros};
use crate::records::{CustomerView, History};
use crate::{Error, Result};

/// The default inactivity window of [`ChurnDefinition::NoOrder`], in days.
const DEFAULT_INACTIVITY_DAYS: u32 = 90;

/// The longest accepted inactivity window (100 years), in days.
const MAX_INACTIVITY_DAYS: u32 = 36_500;

/// The most signup-month cohorts [`CohortRetention`] accepts (100 years).
const MAX_COHORT_MONTHS: usize = 1_200;

/// Customers per block of the parallel pass. The blocks are fixed, not
/// thread-dependent, so float sums combined in block order are deterministic.
/// Small under test so that the thread-count tests span many blocks.
const BLOCK: usize = if cfg!(test) { 64 } else { 2_048 };

// ---------------------------------------------------------------------------
// Churn definitions
// ---------------------------------------------------------------------------

/// When a customer counts as churned at a point in time.
///
/// Non-contractual businesses (retail, e-commerce) never hear that a customer
/// left, so churn is inferred from inactivity; subscriptions have an explicit
/// cancellation. Every measure of this module takes the definition as data,
/// so the same report can be produced under each and compared.
///
/// A customer exists from their signup on. For the inactivity definitions the
/// signup itself counts as activity: a new customer gets one full window
/// before they can be counted as churned, even if they have not bought yet.
/// With `last` the latest activity at or before `t` (or the signup, whichever
/// is later):
///
/// ```text
/// churned at t  ⇔  signup <= t  and  t − last >= inactivity_days
///               ⇔  no activity in (t − inactivity_days, t] and signup <= t − inactivity_days
/// ```
///
/// An inactive customer who becomes active again is no longer churned.
///
/// The default is `NoOrder { inactivity_days: 90 }` (DOMAIN.md: at one
/// retailer, customers with no order for 90 days churned with probability
/// about 75%). Serialized as `{"type": "no_order", "inactivity_days": 90}`,
/// `{"type": "no_activity", ...}` or `{"type": "cancellation"}`.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::segment::ChurnDefinition;
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
/// let (history, _report) = pop.history_builder().build()?;
/// let at = Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap();
/// let count = |def: ChurnDefinition| -> churnwise::Result<usize> {
///     let mut n = 0;
///     for c in history.customers() {
///         n += usize::from(def.status(c, at)?.is_churned());
///     }
///     Ok(n)
/// };
/// let by_orders = count(ChurnDefinition::default())?;
/// let by_activity = count(ChurnDefinition::NoActivity { inactivity_days: 90 })?;
/// // Logins and surveys keep some customers without recent orders active.
/// assert!(by_activity <= by_orders && by_orders > 0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum ChurnDefinition {
    /// Order-based: churned at `t` when the customer made no purchase
    /// (order with amount ≥ 0) in `(t − inactivity_days, t]`.
    NoOrder {
        /// The inactivity window in days; 1 to 36 500.
        inactivity_days: u32,
    },
    /// Activity-based: churned at `t` when the customer had no purchase, no
    /// interaction other than a cancellation, and no feedback answer in
    /// `(t − inactivity_days, t]`.
    NoActivity {
        /// The inactivity window in days; 1 to 36 500.
        inactivity_days: u32,
    },
    /// Contractual: churned from the customer's first
    /// [`InteractionKind::Cancellation`](crate::records::InteractionKind::Cancellation)
    /// on (a cancellation at exactly `t` counts at `t`).
    Cancellation,
}

impl Default for ChurnDefinition {
    /// `NoOrder { inactivity_days: 90 }`.
    fn default() -> Self {
        ChurnDefinition::NoOrder {
            inactivity_days: DEFAULT_INACTIVITY_DAYS,
        }
    }
}

/// A churn definition resolved to microseconds.
#[derive(Debug, Clone, Copy)]
enum Rule {
    Inactive { window: i64, any_event: bool },
    Cancelled,
}

impl ChurnDefinition {
    /// Checks the definition; every measure calls it first, so a definition
    /// read from a file is held to the same rules.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `inactivity_days` unless it is in 1..=36 500.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::segment::ChurnDefinition;
    ///
    /// ChurnDefinition::default().validate()?;
    /// let err = ChurnDefinition::NoOrder { inactivity_days: 0 }.validate().unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "inactivity_days", .. }));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn validate(&self) -> Result<()> {
        self.rule().map(|_| ())
    }

    fn rule(&self) -> Result<Rule> {
        let (days, any_event) = match self {
            ChurnDefinition::NoOrder { inactivity_days } => (*inactivity_days, false),
            ChurnDefinition::NoActivity { inactivity_days } => (*inactivity_days, true),
            ChurnDefinition::Cancellation => return Ok(Rule::Cancelled),
        };
        if !(1..=MAX_INACTIVITY_DAYS).contains(&days) {
            return Err(Error::invalid_parameter(
                "inactivity_days",
                format!("must be between 1 and {MAX_INACTIVITY_DAYS}, got {days}"),
            ));
        }
        Ok(Rule::Inactive {
            window: i64::from(days) * MICROS_PER_DAY,
            any_event,
        })
    }

    /// The customer's status at `at` under this definition: not yet signed
    /// up, active, or churned.
    ///
    /// Use it to label one customer; the measures of this module evaluate
    /// the same rule for every customer at once.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use churnwise::segment::{ChurnDefinition, ChurnStatus};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let c = history.customer(0).expect("500 customers");
    /// let def = ChurnDefinition::NoOrder { inactivity_days: 30 };
    /// let before = c.signup() - TimeDelta::seconds(1);
    /// assert_eq!(def.status(c, before)?, ChurnStatus::NotSignedUp);
    /// assert_eq!(def.status(c, c.signup())?, ChurnStatus::Active);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn status(&self, customer: CustomerView<'_>, at: DateTime<Utc>) -> Result<ChurnStatus> {
        let rule = self.rule()?;
        let mut status = ChurnStatus::NotSignedUp;
        for_each_status(rule, customer, &[to_micros(at)], |_, s| status = s);
        Ok(status)
    }
}

/// A customer's status at a point in time, from [`ChurnDefinition::status`].
///
/// # Example
///
/// ```
/// use churnwise::segment::{ChurnDefinition, ChurnStatus};
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
/// let (history, _report) = pop.history_builder().build()?;
/// let c = history.customer(3).expect("500 customers");
/// let s = ChurnDefinition::Cancellation.status(c, c.signup())?;
/// assert!(s.is_active() && !s.is_churned());
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChurnStatus {
    /// Before the customer's signup: not yet a customer.
    NotSignedUp,
    /// A customer, not churned.
    Active,
    /// A customer, churned.
    Churned,
}

impl ChurnStatus {
    /// Whether the status is [`ChurnStatus::Active`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::ChurnStatus;
    ///
    /// assert!(ChurnStatus::Active.is_active());
    /// assert!(!ChurnStatus::NotSignedUp.is_active());
    /// ```
    pub fn is_active(&self) -> bool {
        *self == ChurnStatus::Active
    }

    /// Whether the status is [`ChurnStatus::Churned`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::ChurnStatus;
    ///
    /// assert!(ChurnStatus::Churned.is_churned());
    /// assert!(!ChurnStatus::NotSignedUp.is_churned());
    /// ```
    pub fn is_churned(&self) -> bool {
        *self == ChurnStatus::Churned
    }
}

/// Calls `f(k, status at instants[k])` for each of the ascending `instants`,
/// in one merge pass over the customer's sorted events.
fn for_each_status(
    rule: Rule,
    customer: CustomerView<'_>,
    instants: &[i64],
    mut f: impl FnMut(usize, ChurnStatus),
) {
    let signup = to_micros(customer.signup());
    match rule {
        Rule::Cancelled => {
            let interactions = customer.interactions();
            let cancel = interactions
                .times
                .iter()
                .zip(interactions.kinds)
                .find(|(_, k)| matches!(k, CompactKind::Cancellation))
                .map(|(&t, _)| t);
            for (k, &t) in instants.iter().enumerate() {
                let status = if t < signup {
                    ChurnStatus::NotSignedUp
                } else if cancel.is_some_and(|c| c <= t) {
                    ChurnStatus::Churned
                } else {
                    ChurnStatus::Active
                };
                f(k, status);
            }
        }
        Rule::Inactive { window, any_event } => {
            let mut purchases = purchase_times(customer).peekable();
            let mut contacts = any_event
                .then(|| contact_times(customer))
                .into_iter()
                .flatten()
                .peekable();
            let mut answers = any_event
                .then(|| answer_times(customer))
                .into_iter()
                .flatten()
                .peekable();
            let mut last = signup;
            for (k, &t) in instants.iter().enumerate() {
                if t < signup {
                    f(k, ChurnStatus::NotSignedUp);
                    continue;
                }
                advance(&mut purchases, t, &mut last);
                advance(&mut contacts, t, &mut last);
                advance(&mut answers, t, &mut last);
                let status = if t.saturating_sub(last) >= window {
                    ChurnStatus::Churned
                } else {
                    ChurnStatus::Active
                };
                f(k, status);
            }
        }
    }
}

/// The customer's purchase times (orders with amount ≥ 0), ascending.
fn purchase_times<'a>(customer: CustomerView<'a>) -> impl Iterator<Item = i64> + 'a {
    let orders = customer.orders();
    orders
        .times
        .iter()
        .zip(orders.amounts())
        .filter(|(_, a)| **a >= 0.0)
        .map(|(&t, _)| t)
}

/// The customer's interaction times except cancellations, ascending.
fn contact_times<'a>(customer: CustomerView<'a>) -> impl Iterator<Item = i64> + 'a {
    let interactions = customer.interactions();
    interactions
        .times
        .iter()
        .zip(interactions.kinds)
        .filter(|(_, k)| !matches!(k, CompactKind::Cancellation))
        .map(|(&t, _)| t)
}

/// The customer's feedback times, ascending.
fn answer_times<'a>(customer: CustomerView<'a>) -> impl Iterator<Item = i64> + 'a {
    customer.feedback().times.iter().copied()
}

/// Consumes the events at or before `t`, keeping the latest in `last`.
fn advance<I: Iterator<Item = i64>>(events: &mut Peekable<I>, t: i64, last: &mut i64) {
    while let Some(s) = events.next_if(|&s| s <= t) {
        *last = (*last).max(s);
    }
}

// ---------------------------------------------------------------------------
// Periods
// ---------------------------------------------------------------------------

/// One half-open time interval `[start, end)` of a [`Periods`] sequence.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::segment::Periods;
///
/// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
/// let periods = Periods::months(jan, 2)?;
/// let feb = periods.get(1).expect("two periods");
/// assert_eq!(feb.start(), Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap());
/// assert_eq!(feb.end(), Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap());
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Period {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Period {
    /// The first instant of the period (inclusive).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::Periods;
    ///
    /// let start = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
    /// let first = Periods::days(start, 7, 4)?.get(0).expect("four weeks");
    /// assert_eq!(first.start(), start);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The end of the period (exclusive): the start of the next one.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeDelta, TimeZone, Utc};
    /// use churnwise::segment::Periods;
    ///
    /// let start = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
    /// let first = Periods::days(start, 7, 4)?.get(0).expect("four weeks");
    /// assert_eq!(first.end(), start + TimeDelta::days(7));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }
}

/// A sequence of one or more consecutive periods: calendar months,
/// fixed-length runs of days, or explicit bounds.
///
/// Period `k` is `[bounds[k], bounds[k + 1])`, so the periods are contiguous
/// and every instant between the first bound and the last falls in exactly
/// one of them. Serialized as `{"bounds": [...]}`; deserializing checks the
/// same rules as [`from_bounds`](Self::from_bounds).
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::segment::{Periods, churn_rates, ChurnDefinition};
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
/// let (history, _report) = pop.history_builder().build()?;
/// let quarters = Periods::from_bounds([
///     Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
///     Utc.with_ymd_and_hms(2024, 4, 1, 0, 0, 0).unwrap(),
///     Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap(),
/// ])?;
/// assert_eq!(quarters.len(), 2);
/// let rates = churn_rates(&history, &quarters, &ChurnDefinition::default())?;
/// assert_eq!(rates.len(), 2);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PeriodsRepr", into = "PeriodsRepr")]
pub struct Periods {
    bounds: Vec<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodsRepr {
    bounds: Vec<DateTime<Utc>>,
}

impl TryFrom<PeriodsRepr> for Periods {
    type Error = Error;
    fn try_from(repr: PeriodsRepr) -> Result<Self> {
        Periods::from_bounds(repr.bounds)
    }
}

impl From<Periods> for PeriodsRepr {
    fn from(p: Periods) -> Self {
        PeriodsRepr { bounds: p.bounds }
    }
}

impl Periods {
    /// `count` consecutive calendar months, the first starting at
    /// `first_month_start` (which must be 00:00:00 UTC on the 1st).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `first_month_start` if it is not the first instant of a month,
    /// or `count` if it is 0 or the months run past chrono's date range.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::Periods;
    ///
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let year = Periods::months(jan, 12)?;
    /// assert_eq!(year.len(), 12);
    /// assert_eq!(year.end(), Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap());
    /// assert!(Periods::months(jan + chrono::TimeDelta::days(1), 12).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn months(first_month_start: DateTime<Utc>, count: usize) -> Result<Periods> {
        Ok(Periods {
            bounds: month_bounds(first_month_start, count, "first_month_start", "count")?,
        })
    }

    /// `count` consecutive periods of `length_days` days each, the first
    /// starting at `start` (any instant): weeks are `days(start, 7, n)`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `length_days` if it is 0, or `count` if it is 0 or the periods
    /// run past chrono's date range.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::Periods;
    ///
    /// let monday = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let weeks = Periods::days(monday, 7, 52)?;
    /// assert_eq!(weeks.len(), 52);
    /// assert_eq!(weeks.end(), Utc.with_ymd_and_hms(2024, 12, 30, 0, 0, 0).unwrap());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn days(start: DateTime<Utc>, length_days: u32, count: usize) -> Result<Periods> {
        if length_days == 0 {
            return Err(Error::invalid_parameter(
                "length_days",
                "must be at least 1, got 0",
            ));
        }
        check_count("count", count)?;
        let offset = |k: usize| {
            i64::try_from(k)
                .ok()
                .and_then(|k| k.checked_mul(i64::from(length_days)))
                .and_then(TimeDelta::try_days)
                .and_then(|d| start.checked_add_signed(d))
        };
        if offset(count).is_none() {
            return Err(out_of_range("count", count, "periods", start));
        }
        let bounds = (0..=count)
            .map(offset)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| out_of_range("count", count, "periods", start))?;
        Ok(Periods { bounds })
    }

    /// Consecutive periods between the given bounds: `n` bounds make `n − 1`
    /// periods. Use it for quarters, fiscal months or any irregular calendar.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `bounds` if there are fewer than two or they are not strictly
    /// increasing.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::Periods;
    ///
    /// let t = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    /// let halves = Periods::from_bounds([t(1), t(7)])?;
    /// assert_eq!(halves.len(), 1);
    /// assert!(Periods::from_bounds([t(7), t(1)]).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_bounds(bounds: impl IntoIterator<Item = DateTime<Utc>>) -> Result<Periods> {
        let bounds: Vec<DateTime<Utc>> = bounds.into_iter().collect();
        if bounds.len() < 2 {
            return Err(Error::invalid_parameter(
                "bounds",
                format!("need at least 2 bounds, got {}", bounds.len()),
            ));
        }
        for (k, w) in bounds.windows(2).enumerate() {
            if let [a, b] = w {
                if a < b {
                    continue;
                }
                return Err(Error::invalid_parameter(
                    "bounds",
                    format!(
                        "must be strictly increasing, but bound {} ({b}) is not after bound {k} ({a})",
                        k + 1
                    ),
                ));
            }
        }
        Ok(Periods { bounds })
    }

    /// The number of periods (at least 1).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::Periods;
    ///
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// assert_eq!(Periods::months(jan, 3)?.len(), 3);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.bounds.len().saturating_sub(1)
    }

    /// Always `false`: a `Periods` holds at least one period.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::Periods;
    ///
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// assert!(!Periods::months(jan, 1)?.is_empty());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Period `index`, if it exists.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::Periods;
    ///
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let periods = Periods::months(jan, 3)?;
    /// assert!(periods.get(2).is_some() && periods.get(3).is_none());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn get(&self, index: usize) -> Option<Period> {
        match self.bounds.get(index..index.checked_add(2)?)? {
            [start, end] => Some(Period {
                start: *start,
                end: *end,
            }),
            _ => None,
        }
    }

    /// The periods in time order.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::Periods;
    ///
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let periods = Periods::months(jan, 12)?;
    /// assert!(periods.iter().all(|p| p.start() < p.end()));
    /// assert_eq!(periods.iter().count(), 12);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Period> + '_ {
        self.bounds
            .iter()
            .zip(self.bounds.iter().skip(1))
            .map(|(&start, &end)| Period { start, end })
    }

    /// The bounds: `len() + 1` strictly increasing instants.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::Periods;
    ///
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// assert_eq!(Periods::months(jan, 12)?.bounds().len(), 13);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn bounds(&self) -> &[DateTime<Utc>] {
        &self.bounds
    }

    /// The start of the first period.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::Periods;
    ///
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// assert_eq!(Periods::months(jan, 12)?.start(), jan);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn start(&self) -> DateTime<Utc> {
        self.bounds.first().copied().unwrap_or_default()
    }

    /// The end of the last period (exclusive).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::Periods;
    ///
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let end = Utc.with_ymd_and_hms(2024, 4, 1, 0, 0, 0).unwrap();
    /// assert_eq!(Periods::months(jan, 3)?.end(), end);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn end(&self) -> DateTime<Utc> {
        self.bounds.last().copied().unwrap_or_default()
    }

    fn micros(&self) -> Vec<i64> {
        self.bounds.iter().map(|&t| to_micros(t)).collect()
    }
}

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
// Churn rates
// ---------------------------------------------------------------------------

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
    /// let rates = churn_rates(&history, &Periods::months(jan, 2)?, &ChurnDefinition::default())?;
    /// assert_eq!(rates[1].start(), rates[0].end());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The end of the period (exclusive).
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
    /// assert_eq!(rates[0].end(), Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
    /// assert!(rates[0].active_at_start() > 0 && rates[0].active_at_start() <= 500);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn active_at_start(&self) -> usize {
        self.active_at_start
    }

    /// Of those active at the start, how many were churned at the end.
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
    /// assert!(rates.iter().map(|r| r.churned()).sum::<usize>() > 0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
    /// assert!(rates.iter().all(|r| (0.0..=1.0).contains(&r.rate())));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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

// ---------------------------------------------------------------------------
// Cohort retention
// ---------------------------------------------------------------------------

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
    /// assert_eq!(table.cohorts()[1].start(), Utc.with_ymd_and_hms(2023, 2, 1, 0, 0, 0).unwrap());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
    /// // Signups are spread over the first 75% of the two-year synthetic span.
    /// let table = CohortRetention::by_signup_month(&history, jan, 19, &CohortRule::Ordered)?;
    /// let total: usize = table.cohorts().iter().map(|c| c.size()).sum();
    /// assert_eq!(total, 500);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn size(&self) -> usize {
        self.size
    }

    /// Retained customers `m` months after signup, for `m` in
    /// `0..observed months` (the months that end inside the window).
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
    /// let table = CohortRetention::by_signup_month(&history, jan, 4, &CohortRule::Ordered)?;
    /// let lens: Vec<usize> = table.cohorts().iter().map(|c| c.retained().len()).collect();
    /// assert_eq!(lens, [4, 3, 2, 1]);
    /// assert!(table.cohorts().iter().all(|c| c.retained().iter().all(|&n| n <= c.size())));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn retained(&self) -> &[usize] {
        &self.retained
    }

    /// Shares of the cohort retained `m` months after signup
    /// (`retained[m] / size`; 0 for an empty cohort).
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
    /// let table = CohortRetention::by_signup_month(&history, jan, 6, &CohortRule::Active)?;
    /// assert!(table.cohorts()[0].shares().iter().all(|s| (0.0..=1.0).contains(s)));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
    /// let table = CohortRetention::by_signup_month(&history, jan, 3, &CohortRule::Active)?;
    /// assert_eq!(table.rule(), &CohortRule::Active);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn rule(&self) -> &CohortRule {
        &self.rule
    }

    /// The first signup month of the window.
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
    /// assert_eq!(table.first_month(), jan);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn first_month(&self) -> DateTime<Utc> {
        self.first_month
    }

    /// The number of calendar months in the window (cohorts, and columns of
    /// the first cohort).
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
    /// assert_eq!(table.months(), 3);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn months(&self) -> usize {
        self.months
    }

    /// The cohorts, in signup-month order (one per month of the window,
    /// empty ones included).
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
    /// let labels: Vec<String> = table.cohorts().iter().map(|c| c.label()).collect();
    /// assert_eq!(labels, ["2023-01", "2023-02", "2023-03"]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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

// ---------------------------------------------------------------------------
// Revenue retention
// ---------------------------------------------------------------------------

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
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{Periods, revenue_retention};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let periods = Periods::months(jan, 3)?;
    /// let rows = revenue_retention(&history, &periods)?;
    /// assert_eq!(Some(rows[0].previous_period()), periods.get(0));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn previous_period(&self) -> Period {
        self.previous
    }

    /// The period measured.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{Periods, revenue_retention};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let periods = Periods::months(jan, 3)?;
    /// let rows = revenue_retention(&history, &periods)?;
    /// assert_eq!(Some(rows[1].period()), periods.get(2));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn period(&self) -> Period {
        self.period
    }

    /// Customers with net revenue > 0 in the previous period.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{Periods, revenue_retention};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let rows = revenue_retention(&history, &Periods::months(jan, 2)?)?;
    /// assert!(rows[0].starting_customers() >= rows[0].churned_customers());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn starting_customers(&self) -> usize {
        self.starting_customers
    }

    /// Starting customers with net revenue ≤ 0 in this period.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{Periods, revenue_retention};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let rows = revenue_retention(&history, &Periods::months(jan, 2)?)?;
    /// // Monthly buyers rarely buy again the next month.
    /// assert!(rows[0].churned_customers() > 0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn churned_customers(&self) -> usize {
        self.churned_customers
    }

    /// Net revenue of the starting customers in the previous period.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{Periods, revenue_retention};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let rows = revenue_retention(&history, &Periods::months(jan, 2)?)?;
    /// assert!(rows[0].starting_revenue() > 0.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn starting_revenue(&self) -> f64 {
        self.starting_revenue
    }

    /// Net revenue of the starting customers in this period, counting only
    /// those still above zero: `Σ max(current, 0)`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{Periods, revenue_retention};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let rows = revenue_retention(&history, &Periods::months(jan, 2)?)?;
    /// assert!(rows[0].retained_revenue() >= 0.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn retained_revenue(&self) -> f64 {
        self.retained_revenue
    }

    /// Growth of starting customers who spent more: `Σ (current − previous)`
    /// over those with `current > previous`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{Periods, revenue_retention};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let rows = revenue_retention(&history, &Periods::months(jan, 2)?)?;
    /// assert!(rows[0].expansion_revenue() >= 0.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn expansion_revenue(&self) -> f64 {
        self.expansion_revenue
    }

    /// Shrinkage of starting customers who spent less but more than zero:
    /// `Σ (previous − current)` over those with `0 < current <= previous`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{Periods, revenue_retention};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let rows = revenue_retention(&history, &Periods::months(jan, 2)?)?;
    /// assert!(rows[0].contraction_revenue() >= 0.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn contraction_revenue(&self) -> f64 {
        self.contraction_revenue
    }

    /// The previous-period revenue of starting customers whose net revenue
    /// is now ≤ 0: `Σ previous` over those with `current <= 0`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{Periods, revenue_retention};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let rows = revenue_retention(&history, &Periods::months(jan, 2)?)?;
    /// assert!(rows[0].churned_revenue() <= rows[0].starting_revenue());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn churned_revenue(&self) -> f64 {
        self.churned_revenue
    }

    /// `(contraction + churned) / starting`, or `None` when the starting
    /// revenue is 0 (nobody bought in the previous period).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{Periods, revenue_retention};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let rows = revenue_retention(&history, &Periods::months(jan, 2)?)?;
    /// assert!(rows[0].gross_revenue_churn().is_some_and(|g| (0.0..=1.0).contains(&g)));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn gross_revenue_churn(&self) -> Option<f64> {
        self.gross_revenue_churn
    }

    /// `(starting + expansion − contraction − churned) / starting`, or `None`
    /// when the starting revenue is 0.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::{Periods, revenue_retention};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let rows = revenue_retention(&history, &Periods::months(jan, 2)?)?;
    /// assert!(rows[0].net_revenue_retention().is_some_and(|n| n >= 0.0));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
        for (&t, &amount) in orders.times.iter().zip(orders.amounts()) {
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
mod tests {
    use super::*;
    use crate::records::{
        Customer, Feedback, HistoryBuilder, Interaction, InteractionKind, Order, SatisfactionScale,
    };
    use crate::synth::PopulationConfig;
    use crate::{ErrorKind, records};
    use approx::assert_abs_diff_eq;
    use chrono::TimeZone;

    /// Tolerance for sums of a few cent amounts and their ratios.
    const EPS: f64 = 1e-12;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        at(y, m, d, 0, 0, 0)
    }

    fn login() -> InteractionKind {
        InteractionKind::Login
    }

    /// One event of a hand-built history.
    enum Ev {
        Order(DateTime<Utc>, f64),
        Contact(DateTime<Utc>, InteractionKind),
        Answer(DateTime<Utc>),
    }

    fn history(customers: Vec<(&str, DateTime<Utc>, Vec<Ev>)>) -> History {
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
    /// worked out in the tests below (2024 is a leap year).
    fn churn_fixture() -> History {
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

    fn q1() -> Periods {
        Periods::months(day(2024, 1, 1), 3).unwrap()
    }

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
    fn status_boundaries_are_exact_to_the_microsecond() {
        let h = history(vec![(
            "X",
            day(2024, 1, 1),
            vec![Ev::Order(at(2024, 1, 10, 12, 0, 0), 5.0)],
        )]);
        let x = h.customer(0).unwrap();
        let def = ChurnDefinition::NoOrder {
            inactivity_days: 30,
        };
        let churn_at = at(2024, 2, 9, 12, 0, 0); // 30 days after the order
        let tick = TimeDelta::microseconds(1);
        assert_eq!(
            def.status(x, day(2024, 1, 1) - tick).unwrap(),
            ChurnStatus::NotSignedUp
        );
        assert_eq!(def.status(x, day(2024, 1, 1)).unwrap(), ChurnStatus::Active);
        assert_eq!(def.status(x, churn_at - tick).unwrap(), ChurnStatus::Active);
        assert_eq!(def.status(x, churn_at).unwrap(), ChurnStatus::Churned);
        // The signup counts as activity: without the order, churned 30 days after signup.
        let idle = history(vec![("Y", day(2024, 1, 1), vec![])]);
        let y = idle.customer(0).unwrap();
        assert_eq!(
            def.status(y, day(2024, 1, 30)).unwrap(),
            ChurnStatus::Active
        );
        assert_eq!(
            def.status(y, day(2024, 1, 31)).unwrap(),
            ChurnStatus::Churned
        );
    }

    fn cohort_fixture() -> History {
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

    fn revenue_fixture() -> History {
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

    fn invalid(err: Error) -> &'static str {
        match err.kind() {
            ErrorKind::InvalidParameter { name, .. } => name,
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    #[test]
    fn rejects_bad_periods() {
        let jan = day(2024, 1, 1);
        let months = |t, n| Periods::months(t, n).unwrap_err();
        assert_eq!(invalid(months(day(2024, 1, 2), 3)), "first_month_start");
        assert_eq!(
            invalid(months(at(2024, 1, 1, 0, 0, 1), 3)),
            "first_month_start"
        );
        let nanos = jan + TimeDelta::nanoseconds(1);
        assert_eq!(invalid(months(nanos, 3)), "first_month_start");
        assert_eq!(invalid(months(jan, 0)), "count");
        assert_eq!(invalid(months(jan, 10_000_000)), "count");
        assert_eq!(invalid(months(jan, usize::MAX)), "count");
        let days = |len, n| Periods::days(jan, len, n).unwrap_err();
        assert_eq!(invalid(days(0, 3)), "length_days");
        assert_eq!(invalid(days(7, 0)), "count");
        assert_eq!(invalid(days(u32::MAX, 1_000_000)), "count");
        assert_eq!(invalid(days(1, usize::MAX)), "count");
        assert_eq!(invalid(Periods::from_bounds([jan]).unwrap_err()), "bounds");
        assert_eq!(invalid(Periods::from_bounds([]).unwrap_err()), "bounds");
        let err = Periods::from_bounds([jan, day(2024, 2, 1), day(2024, 2, 1)]).unwrap_err();
        assert_eq!(invalid(err.clone()), "bounds");
        assert!(err.to_string().contains("bound 2"), "{err}");
    }

    #[test]
    fn rejects_bad_churn_definitions_everywhere() {
        let h = churn_fixture();
        for def in [
            ChurnDefinition::NoOrder { inactivity_days: 0 },
            ChurnDefinition::NoActivity { inactivity_days: 0 },
            ChurnDefinition::NoOrder {
                inactivity_days: MAX_INACTIVITY_DAYS + 1,
            },
            ChurnDefinition::NoActivity {
                inactivity_days: u32::MAX,
            },
        ] {
            assert_eq!(invalid(def.validate().unwrap_err()), "inactivity_days");
            assert_eq!(
                invalid(churn_rates(&h, &q1(), &def).unwrap_err()),
                "inactivity_days"
            );
            let c = h.customer(0).unwrap();
            assert_eq!(
                invalid(def.status(c, day(2024, 1, 1)).unwrap_err()),
                "inactivity_days"
            );
            let rule = CohortRule::NotChurned {
                definition: def.clone(),
            };
            let err = CohortRetention::by_signup_month(&h, day(2024, 1, 1), 3, &rule);
            assert_eq!(invalid(err.unwrap_err()), "inactivity_days");
        }
        let longest = ChurnDefinition::NoOrder {
            inactivity_days: MAX_INACTIVITY_DAYS,
        };
        assert!(churn_rates(&h, &q1(), &longest).is_ok());
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

    #[test]
    fn periods_have_calendar_and_day_bounds() {
        let p = Periods::months(day(2023, 11, 1), 4).unwrap();
        let want = [
            day(2023, 11, 1),
            day(2023, 12, 1),
            day(2024, 1, 1),
            day(2024, 2, 1),
            day(2024, 3, 1),
        ];
        assert_eq!(p.bounds(), want);
        assert_eq!((p.len(), p.is_empty()), (4, false));
        assert_eq!((p.start(), p.end()), (want[0], want[4]));
        assert_eq!(p.iter().len(), 4);
        assert_eq!(p.get(4), None);
        assert_eq!(p.get(usize::MAX), None);
        let w = Periods::days(at(2024, 2, 26, 12, 0, 0), 2, 2).unwrap();
        let want = [
            at(2024, 2, 26, 12, 0, 0),
            at(2024, 2, 28, 12, 0, 0),
            at(2024, 3, 1, 12, 0, 0),
        ];
        assert_eq!(w.bounds(), want);
        assert_eq!(Periods::from_bounds(want).unwrap(), w);
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

    fn synth_history(customers: usize) -> History {
        let pop = PopulationConfig::default()
            .customers(customers)
            .seed(5)
            .generate()
            .unwrap();
        pop.history_builder().build().unwrap().0
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
    fn synthetic_churn_rates_are_strictly_between_zero_and_one() {
        let h = synth_history(1_000);
        let periods = Periods::months(day(2024, 1, 1), 12).unwrap();
        let rates = churn_rates(&h, &periods, &ChurnDefinition::default()).unwrap();
        for r in &rates {
            assert!(r.rate() > 0.0 && r.rate() < 1.0, "{r:?}");
            assert!(r.active_at_start() > 100, "{r:?}");
        }
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
