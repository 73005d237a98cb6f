//! The per-customer summary the customer-base models read: repeat purchases
//! x, recency t_x and age T over a calibration period, plus mean repeat-order
//! value and, optionally, purchases in a holdout period.

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::records::{CustomerId, History};
use crate::util::MICROS_PER_DAY;
use crate::{Error, ErrorKind, Result};

/// The time unit of recency, age and horizons (and so of the rate parameter α).
///
/// # Example
///
/// ```
/// use churnwise::clv::TimeUnit;
///
/// assert_eq!(TimeUnit::Weeks.days(), 7.0);
/// assert_eq!(TimeUnit::default(), TimeUnit::Days);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TimeUnit {
    /// Calendar days.
    #[default]
    Days,
    /// Weeks of 7 days (fractional: 10 days are 1.43 weeks).
    Weeks,
}

impl TimeUnit {
    /// Days per unit.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::TimeUnit;
    ///
    /// assert_eq!(TimeUnit::Days.days(), 1.0);
    /// ```
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
        }
    }

    /// The lower-case name (`"days"`, `"weeks"`).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::TimeUnit;
    ///
    /// assert_eq!(TimeUnit::Weeks.name(), "weeks");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Days => "days",
            TimeUnit::Weeks => "weeks",
        }
    }
}

/// One customer's summary: repeat purchases `x`, recency `t_x` (time of the
/// last repeat purchase after the first one), age `T` (time from the first
/// purchase to the end of calibration), and mean repeat-order value.
///
/// Built validated by [`SummaryRow::new`]; the model methods that read it
/// (P(alive), expected purchases) need no further checks.
///
/// # Example
///
/// ```
/// use churnwise::{ErrorKind, clv::SummaryRow};
///
/// let row = SummaryRow::new(2, 30.43, 38.86)?;
/// assert_eq!((row.frequency(), row.recency(), row.age()), (2, 30.43, 38.86));
/// let err = SummaryRow::new(1, 40.0, 38.86).unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "recency", .. }));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SummaryRow {
    x: u32,
    t_x: f64,
    t: f64,
    monetary: f64,
}

impl SummaryRow {
    /// A row with `frequency` repeat purchases, the last at `recency`, seen for
    /// `age` time units since the first purchase; mean repeat value 0.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `age` unless it is finite and ≥ 0;
    /// named `recency` unless 0 ≤ recency ≤ age, and recency = 0 when frequency = 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::SummaryRow;
    ///
    /// let row = SummaryRow::new(2, 30.43, 38.86)?;
    /// assert_eq!(row.monetary(), 0.0);
    /// assert!(SummaryRow::new(0, 5.0, 38.86).is_err()); // no repeats, so recency must be 0
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(frequency: u32, recency: f64, age: f64) -> Result<Self> {
        if !(age.is_finite() && age >= 0.0) {
            return Err(Error::invalid_parameter(
                "age",
                format!("must be finite and >= 0, got {age}"),
            ));
        }
        if !(recency >= 0.0 && recency <= age) {
            return Err(Error::invalid_parameter(
                "recency",
                format!("must be in [0, age = {age}], got {recency}"),
            ));
        }
        if frequency == 0 && recency != 0.0 {
            return Err(Error::invalid_parameter(
                "recency",
                format!("must be 0 without repeat purchases, got {recency}"),
            ));
        }
        Ok(SummaryRow {
            x: frequency,
            t_x: recency,
            t: age,
            monetary: 0.0,
        })
    }

    /// The same row with mean repeat-order value `monetary`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `monetary` unless it is finite and ≥ 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::SummaryRow;
    ///
    /// let row = SummaryRow::new(2, 30.43, 38.86)?.with_monetary(22.35)?;
    /// assert_eq!(row.monetary(), 22.35);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_monetary(mut self, monetary: f64) -> Result<Self> {
        if !(monetary.is_finite() && monetary >= 0.0) {
            return Err(Error::invalid_parameter(
                "monetary",
                format!("must be finite and >= 0, got {monetary}"),
            ));
        }
        self.monetary = monetary;
        Ok(self)
    }

    /// Repeat purchases x (purchase occasions after the first).
    pub fn frequency(&self) -> u32 {
        self.x
    }

    /// Time of the last repeat purchase after the first purchase, t_x (0 without repeats).
    pub fn recency(&self) -> f64 {
        self.t_x
    }

    /// Time from the first purchase to the end of calibration, T.
    pub fn age(&self) -> f64 {
        self.t
    }

    /// Mean value of the repeat purchases (0 without repeats).
    pub fn monetary(&self) -> f64 {
        self.monetary
    }
}

/// The calibration (and optional holdout) period over which a [`History`] is
/// summarized for the customer-base models.
///
/// Time is counted in whole UTC calendar days, as in Fader, Hardie & Lee
/// (2005) and lifetimes' `summary_data_from_transaction_data(freq="D")`:
/// several orders of one customer on one day are one purchase occasion (its
/// value is their sum), the calibration period takes every order on or before
/// the day of `end`, the age T counts days from the first purchase day to
/// that day, and the holdout takes the days after it up to and including the
/// day of `holdout_end`. Orders with a negative amount (refunds) are not
/// purchases. Customers without a purchase in the calibration period are left out.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::clv::{Calibration, TimeUnit};
///
/// # let history = churnwise::doc_support::history(500, 7)?;
/// let end = Utc.with_ymd_and_hms(2024, 6, 30, 0, 0, 0).unwrap();
/// let summary = Calibration::new(end)
///     .unit(TimeUnit::Weeks)
///     .holdout_end(Utc.with_ymd_and_hms(2024, 12, 31, 0, 0, 0).unwrap())
///     .summarize(&history)?;
/// assert!(summary.len() > 0 && summary.len() <= 500);
/// assert_eq!(summary.holdout_length(), Some(184.0 / 7.0));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    end: DateTime<Utc>,
    holdout_end: Option<DateTime<Utc>>,
    unit: TimeUnit,
}

impl Calibration {
    /// A calibration period ending on the day of `end` (inclusive), in days, without holdout.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::clv::{Calibration, TimeUnit};
    ///
    /// let end = Utc.with_ymd_and_hms(2024, 6, 30, 0, 0, 0).unwrap();
    /// let calibration = Calibration::new(end);
    /// assert_eq!(calibration.end(), end);
    /// assert_eq!(calibration, Calibration::new(end).unit(TimeUnit::Days)); // days by default
    /// ```
    pub fn new(end: DateTime<Utc>) -> Self {
        Calibration {
            end,
            holdout_end: None,
            unit: TimeUnit::Days,
        }
    }

    /// The time unit. Defaults to [`TimeUnit::Days`].
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// use churnwise::clv::{Calibration, TimeUnit};
    /// # use churnwise::records::{Customer, HistoryBuilder, Order};
    /// # let day = |d| Utc.with_ymd_and_hms(2024, 1, d, 12, 0, 0).unwrap();
    /// # let mut b = HistoryBuilder::new();
    /// # b.push_customer(Customer::new(1u64, day(1)));
    /// # for d in [1, 8, 15] { b.push_order(Order::new(1u64, day(d), 10.0)); }
    /// # let (history, _) = b.build()?;
    ///
    /// // Orders on January 1, 8 and 15; calibration ends January 29.
    /// let summary = Calibration::new(day(29)).unit(TimeUnit::Weeks).summarize(&history)?;
    /// assert_eq!(summary.unit(), TimeUnit::Weeks);
    /// assert_eq!((summary.recency(), summary.age()), (&[2.0][..], &[4.0][..]));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn unit(mut self, unit: TimeUnit) -> Self {
        self.unit = unit;
        self
    }

    /// Also count purchases in a holdout period from the day after `end` up to
    /// the day of `holdout_end` (inclusive). Defaults to no holdout.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::clv::Calibration;
    /// # use churnwise::records::{Customer, HistoryBuilder, Order};
    /// let day = |d| Utc.with_ymd_and_hms(2024, 1, d, 12, 0, 0).unwrap();
    /// # let mut b = HistoryBuilder::new();
    /// # b.push_customer(Customer::new(1u64, day(1)));
    /// # for d in [1, 8, 15, 30] { b.push_order(Order::new(1u64, day(d), 10.0)); }
    /// # let (history, _) = b.build()?;
    ///
    /// // Orders on January 1, 8, 15 and 30.
    /// let summary = Calibration::new(day(29)).holdout_end(day(31)).summarize(&history)?;
    /// assert_eq!(summary.holdout_purchases(), Some(&[1][..]));
    /// assert!(Calibration::new(day(29)).holdout_end(day(29)).summarize(&history).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn holdout_end(mut self, holdout_end: DateTime<Utc>) -> Self {
        self.holdout_end = Some(holdout_end);
        self
    }

    /// The end of the calibration period.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// The time unit of the summary's recency and age.
    pub fn unit_value(&self) -> TimeUnit {
        self.unit
    }

    /// The end of the holdout period, if any.
    pub fn holdout_end_value(&self) -> Option<DateTime<Utc>> {
        self.holdout_end
    }

    /// Summarizes every customer with a purchase on or before the calibration end.
    /// Customers are processed on all rayon threads; the output is in
    /// [`History`] order whatever the thread count.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `holdout_end` unless its day is
    /// after the calibration day; [`ErrorKind::Empty`] when no customer
    /// purchased in the calibration period.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::clv::Calibration;
    /// use churnwise::records::{Customer, HistoryBuilder, Order};
    ///
    /// let day = |d| Utc.with_ymd_and_hms(2024, 1, d, 12, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new();
    /// b.push_customer(Customer::new(1u64, day(1)));
    /// for (d, amount) in [(1, 10.0), (8, 30.0), (15, 50.0)] {
    ///     b.push_order(Order::new(1u64, day(d), amount));
    /// }
    /// let (history, _) = b.build()?;
    /// let summary = Calibration::new(day(29)).summarize(&history)?;
    /// // Two repeat purchases, the last 14 days after the first, seen for 28 days.
    /// let row = summary.row(0).unwrap();
    /// assert_eq!((row.frequency(), row.recency(), row.age(), row.monetary()), (2, 14.0, 28.0, 40.0));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn summarize(&self, history: &History) -> Result<CalibrationSummary> {
        let end_day = day(self.end.timestamp_micros());
        let holdout_day = match self.holdout_end {
            Some(h) if day(h.timestamp_micros()) <= end_day => {
                return Err(Error::invalid_parameter(
                    "holdout_end",
                    format!(
                        "must be on a day after the calibration end {}, got {}",
                        self.end.format("%Y-%m-%d"),
                        h.format("%Y-%m-%d")
                    ),
                ));
            }
            Some(h) => Some(day(h.timestamp_micros())),
            None => None,
        };
        let rows: Vec<(usize, Occasions)> = (0..history.customer_count())
            .into_par_iter()
            .filter_map(|c| {
                let orders = history.customer(c)?.orders();
                let days = orders
                    .micros()
                    .iter()
                    .copied()
                    .zip(orders.amounts().iter().copied());
                purchase_occasions(days, end_day, holdout_day).map(|o| (c, o))
            })
            .collect();
        if rows.is_empty() {
            return Err(ErrorKind::Empty(format!(
                "no customer purchased on or before the calibration end {}",
                self.end.format("%Y-%m-%d")
            ))
            .into());
        }
        let per_unit = self.unit.days();
        let ids = history.customer_ids();
        Ok(CalibrationSummary {
            unit: self.unit,
            ids: rows.iter().map(|(c, _)| ids[*c].clone()).collect(),
            frequency: rows.iter().map(|(_, o)| o.repeats).collect(),
            recency: rows
                .iter()
                .map(|(_, o)| (o.last - o.first) as f64 / per_unit)
                .collect(),
            age: rows
                .iter()
                .map(|(_, o)| (end_day - o.first) as f64 / per_unit)
                .collect(),
            monetary: rows.iter().map(|(_, o)| o.mean_repeat_value()).collect(),
            holdout: holdout_day.map(|h| Holdout {
                length: (h - end_day) as f64 / per_unit,
                purchases: rows.iter().map(|(_, o)| o.holdout).collect(),
            }),
        })
    }
}

/// The UTC day number of a time in microseconds.
fn day(micros: i64) -> i64 {
    micros.div_euclid(MICROS_PER_DAY)
}

/// One customer's purchase days, counted. Public but hidden: query-engine
/// aggregates (`churnwise-datafusion`'s `rfm_summary`) call
/// [`purchase_occasions`] so that they count exactly as
/// [`Calibration::summarize`] does.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Occasions {
    /// Day of the first purchase (days since the Unix epoch).
    pub first: i64,
    /// Day of the last purchase by the end of calibration.
    pub last: i64,
    /// Repeat purchase days by the end of calibration.
    pub repeats: u32,
    /// Total value of the repeat purchase days.
    pub repeat_value: f64,
    /// Purchase days in the holdout period.
    pub holdout: u32,
}

impl Occasions {
    /// The mean value of a repeat purchase day (0 without repeats).
    pub fn mean_repeat_value(&self) -> f64 {
        if self.repeats == 0 {
            0.0
        } else {
            self.repeat_value / f64::from(self.repeats)
        }
    }
}

/// Collapses time-sorted orders `(µs, amount)` into purchase days; `None`
/// without a purchase by `end_day` (days since the Unix epoch).
#[doc(hidden)]
pub fn purchase_occasions(
    orders: impl IntoIterator<Item = (i64, f64)>,
    end_day: i64,
    holdout_day: Option<i64>,
) -> Option<Occasions> {
    let mut o: Option<Occasions> = None;
    let mut current = i64::MIN;
    for (t, amount) in orders {
        // Refunds are not purchase occasions.
        if amount < 0.0 {
            continue;
        }
        let d = day(t);
        if d > end_day {
            match (&mut o, holdout_day) {
                (Some(o), Some(h)) if d <= h && d != current => {
                    o.holdout += 1;
                    current = d;
                }
                _ => {}
            }
            continue;
        }
        match &mut o {
            None => {
                o = Some(Occasions {
                    first: d,
                    last: d,
                    repeats: 0,
                    repeat_value: 0.0,
                    holdout: 0,
                });
            }
            Some(o) if d == current => {
                // Same day: one occasion; its value is the day's total (not for the first).
                if o.repeats > 0 {
                    o.repeat_value += amount;
                }
            }
            Some(o) => {
                o.repeats = o.repeats.saturating_add(1);
                o.repeat_value += amount;
                o.last = d;
            }
        }
        current = d;
    }
    o
}

/// Holdout purchase counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Holdout {
    length: f64,
    purchases: Vec<u32>,
}

/// Per-customer repeat purchases, recency, age and mean repeat value over a
/// calibration period (columnar), from [`Calibration::summarize`] or
/// [`CalibrationSummary::from_columns`].
///
/// # Example
///
/// ```
/// use churnwise::clv::{CalibrationSummary, TimeUnit};
///
/// let s = CalibrationSummary::from_columns(
///     TimeUnit::Weeks,
///     vec![2, 1, 0],
///     vec![30.43, 1.71, 0.0],
///     vec![38.86, 38.86, 38.86],
/// )?;
/// assert_eq!(s.len(), 3);
/// assert_eq!(s.row(0).map(|r| r.frequency()), Some(2));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SummaryRepr")]
pub struct CalibrationSummary {
    unit: TimeUnit,
    ids: Vec<CustomerId>,
    frequency: Vec<u32>,
    recency: Vec<f64>,
    age: Vec<f64>,
    monetary: Vec<f64>,
    holdout: Option<Holdout>,
}

/// The serialized form, validated as [`CalibrationSummary::from_columns`]
/// validates on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryRepr {
    unit: TimeUnit,
    ids: Vec<CustomerId>,
    frequency: Vec<u32>,
    recency: Vec<f64>,
    age: Vec<f64>,
    monetary: Vec<f64>,
    holdout: Option<Holdout>,
}

impl TryFrom<SummaryRepr> for CalibrationSummary {
    type Error = crate::Error;

    fn try_from(r: SummaryRepr) -> Result<Self> {
        let n = r.frequency.len();
        for (what, len) in [
            ("customer ids per frequency", r.ids.len()),
            (
                "holdout purchases per frequency",
                r.holdout.as_ref().map_or(n, |h| h.purchases.len()),
            ),
        ] {
            if len != n {
                return Err(ErrorKind::LengthMismatch {
                    what,
                    expected: n,
                    got: len,
                }
                .into());
            }
        }
        if let Some(h) = &r.holdout
            && !(h.length.is_finite() && h.length > 0.0)
        {
            return Err(crate::Error::invalid_parameter(
                "holdout",
                format!("length must be finite and > 0, got {}", h.length),
            ));
        }
        let mut s = CalibrationSummary::from_columns(r.unit, r.frequency, r.recency, r.age)?
            .with_monetary(r.monetary)?;
        s.ids = r.ids;
        s.holdout = r.holdout;
        Ok(s)
    }
}

impl CalibrationSummary {
    /// A summary from columns (customer ids `0..n`, mean repeat values 0),
    /// e.g. a published data set or a simulation.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] unless the columns have equal lengths;
    /// [`ErrorKind::InvalidParameter`] (see [`SummaryRow::new`]) naming the
    /// row for an invalid value; [`ErrorKind::Empty`] without rows.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{CalibrationSummary, TimeUnit};
    ///
    /// let s = CalibrationSummary::from_columns(TimeUnit::Weeks, vec![2, 0], vec![30.4, 0.0], vec![38.9, 38.9])?;
    /// assert_eq!(s.len(), 2);
    /// assert_eq!(s.ids()[1].to_string(), "1"); // ids 0..n
    /// assert!(CalibrationSummary::from_columns(TimeUnit::Weeks, vec![2], vec![30.4], vec![]).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_columns(
        unit: TimeUnit,
        frequency: Vec<u32>,
        recency: Vec<f64>,
        age: Vec<f64>,
    ) -> Result<Self> {
        let n = frequency.len();
        for (what, len) in [
            ("recency per frequency", recency.len()),
            ("age per frequency", age.len()),
        ] {
            if len != n {
                return Err(ErrorKind::LengthMismatch {
                    what,
                    expected: n,
                    got: len,
                }
                .into());
            }
        }
        if n == 0 {
            return Err(ErrorKind::Empty("a calibration summary needs customers".into()).into());
        }
        for i in 0..n {
            SummaryRow::new(frequency[i], recency[i], age[i]).map_err(|e| at_row(e, i))?;
        }
        Ok(CalibrationSummary {
            unit,
            ids: (0..n as u64).map(CustomerId::from).collect(),
            frequency,
            recency,
            age,
            monetary: vec![0.0; n],
            holdout: None,
        })
    }

    /// The same summary with mean repeat-order values.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] unless there is one value per customer;
    /// [`ErrorKind::InvalidParameter`] named `monetary` (with the row) unless
    /// each is finite and ≥ 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{CalibrationSummary, TimeUnit};
    ///
    /// let s = CalibrationSummary::from_columns(TimeUnit::Weeks, vec![2, 0], vec![30.4, 0.0], vec![38.9, 38.9])?
    ///     .with_monetary(vec![22.35, 0.0])?;
    /// assert_eq!(s.monetary(), &[22.35, 0.0]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_monetary(mut self, monetary: Vec<f64>) -> Result<Self> {
        if monetary.len() != self.len() {
            return Err(ErrorKind::LengthMismatch {
                what: "monetary values per customer",
                expected: self.len(),
                got: monetary.len(),
            }
            .into());
        }
        for (i, &m) in monetary.iter().enumerate() {
            if !(m.is_finite() && m >= 0.0) {
                return Err(Error::invalid_parameter(
                    "monetary",
                    format!("row {i}: must be finite and >= 0, got {m}"),
                ));
            }
        }
        self.monetary = monetary;
        Ok(self)
    }

    /// Number of customers.
    pub fn len(&self) -> usize {
        self.frequency.len()
    }

    /// Whether there are none (never true for a built summary).
    pub fn is_empty(&self) -> bool {
        self.frequency.is_empty()
    }

    /// The time unit of recency, age and the holdout length.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// Customer ids, one per row.
    pub fn ids(&self) -> &[CustomerId] {
        &self.ids
    }

    /// Repeat purchases x per customer.
    pub fn frequency(&self) -> &[u32] {
        &self.frequency
    }

    /// Recency t_x per customer.
    pub fn recency(&self) -> &[f64] {
        &self.recency
    }

    /// Age T per customer.
    pub fn age(&self) -> &[f64] {
        &self.age
    }

    /// Mean repeat-order value per customer (0 without repeats).
    pub fn monetary(&self) -> &[f64] {
        &self.monetary
    }

    /// The holdout period's length in [`unit`](Self::unit)s, if summarized with one.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// use churnwise::clv::{Calibration, TimeUnit};
    /// # use churnwise::records::{Customer, HistoryBuilder, Order};
    /// # let day = |d| Utc.with_ymd_and_hms(2024, 1, d, 12, 0, 0).unwrap();
    /// # let mut b = HistoryBuilder::new();
    /// # b.push_customer(Customer::new(1u64, day(1)));
    /// # for d in [1, 8, 15, 30] { b.push_order(Order::new(1u64, day(d), 10.0)); }
    /// # let (history, _) = b.build()?;
    ///
    /// let summary = Calibration::new(day(15)).holdout_end(day(29)).unit(TimeUnit::Weeks).summarize(&history)?;
    /// assert_eq!(summary.holdout_length(), Some(2.0)); // January 16 to 29
    /// assert_eq!(Calibration::new(day(15)).summarize(&history)?.holdout_length(), None);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn holdout_length(&self) -> Option<f64> {
        self.holdout.as_ref().map(|h| h.length)
    }

    /// Purchase occasions per customer in the holdout period, if any.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// use churnwise::clv::Calibration;
    /// # use churnwise::records::{Customer, HistoryBuilder, Order};
    /// # let day = |d| Utc.with_ymd_and_hms(2024, 1, d, 12, 0, 0).unwrap();
    /// # let mut b = HistoryBuilder::new();
    /// # b.push_customer(Customer::new(1u64, day(1)));
    /// # for d in [1, 8, 15, 30] { b.push_order(Order::new(1u64, day(d), 10.0)); }
    /// # let (history, _) = b.build()?;
    ///
    /// // Orders on January 1, 8, 15 and 30; the holdout runs January 16 to 31.
    /// let summary = Calibration::new(day(15)).holdout_end(day(31)).summarize(&history)?;
    /// assert_eq!(summary.holdout_purchases(), Some(&[1][..]));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn holdout_purchases(&self) -> Option<&[u32]> {
        self.holdout.as_ref().map(|h| h.purchases.as_slice())
    }

    /// Row `i`, if any.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::clv::{CalibrationSummary, TimeUnit};
    /// let s = CalibrationSummary::from_columns(TimeUnit::Weeks, vec![2, 0], vec![30.4, 0.0], vec![38.9, 38.9])?;
    /// assert_eq!(s.row(0).map(|r| r.recency()), Some(30.4));
    /// assert_eq!(s.row(2), None);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn row(&self, i: usize) -> Option<SummaryRow> {
        (i < self.len()).then(|| self.row_unchecked(i))
    }

    /// Every row, in order.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::clv::{CalibrationSummary, TimeUnit};
    /// let s = CalibrationSummary::from_columns(TimeUnit::Weeks, vec![2, 0], vec![30.4, 0.0], vec![38.9, 38.9])?;
    /// let repeat_buyers = s.rows().filter(|r| r.frequency() > 0).count();
    /// assert_eq!((s.rows().len(), repeat_buyers), (2, 1));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn rows(&self) -> impl ExactSizeIterator<Item = SummaryRow> + '_ {
        (0..self.len()).map(|i| self.row_unchecked(i))
    }

    /// Rows were validated on construction.
    pub(crate) fn row_unchecked(&self, i: usize) -> SummaryRow {
        SummaryRow {
            x: self.frequency[i],
            t_x: self.recency[i],
            t: self.age[i],
            monetary: self.monetary[i],
        }
    }
}

/// Adds the row number to a per-value error.
fn at_row(e: Error, row: usize) -> Error {
    match e.into_kind() {
        ErrorKind::InvalidParameter { name, reason } => {
            Error::invalid_parameter(name, format!("row {row}: {reason}"))
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn deserializing_validates_like_from_columns() {
        let good = CalibrationSummary::from_columns(
            TimeUnit::Weeks,
            vec![2, 0],
            vec![3.0, 0.0],
            vec![5.0, 4.0],
        )
        .unwrap();
        let json = serde_json::to_string(&good).unwrap();
        assert_eq!(
            serde_json::from_str::<CalibrationSummary>(&json).unwrap(),
            good
        );
        let short = json.replace("\"age\":[5.0,4.0]", "\"age\":[5.0]");
        assert!(serde_json::from_str::<CalibrationSummary>(&short).is_err());
        let bad = json.replace("\"age\":[5.0,4.0]", "\"age\":[5.0,-3.0]");
        assert!(serde_json::from_str::<CalibrationSummary>(&bad).is_err());
    }

    use super::*;
    use crate::records::{HistoryBuilder, Order, UnknownCustomers};
    use approx::assert_abs_diff_eq;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn history(orders: &[(u64, DateTime<Utc>, f64)]) -> History {
        let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        for &(c, t, a) in orders {
            b.push_order(Order::new(c, t, a));
        }
        b.build().unwrap().0
    }

    #[test]
    fn same_day_orders_are_one_occasion_and_counts_match_a_hand_count() {
        // Customer 1: first day Jan 1 (two orders), repeats Jan 8 (two orders: 10 + 5) and Jan 15;
        // holdout: Jan 20 (two orders) and Feb 2. Customer 2 buys only after the calibration end.
        let h = history(&[
            (1, at(2024, 1, 1, 9), 20.0),
            (1, at(2024, 1, 1, 17), 7.0),
            (1, at(2024, 1, 8, 10), 10.0),
            (1, at(2024, 1, 8, 23), 5.0),
            (1, at(2024, 1, 15, 12), 30.0),
            (1, at(2024, 1, 16, 8), -12.0),
            (1, at(2024, 1, 20, 1), 4.0),
            (1, at(2024, 1, 20, 2), 4.0),
            (1, at(2024, 2, 2, 0), 4.0),
            (1, at(2024, 3, 2, 0), 4.0),
            (2, at(2024, 1, 25, 0), 9.0),
        ]);
        let s = Calibration::new(at(2024, 1, 17, 15))
            .holdout_end(at(2024, 2, 2, 0))
            .summarize(&h)
            .unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s.ids()[0], CustomerId::from(1u64));
        assert_eq!(s.frequency(), &[2]);
        assert_eq!(s.recency(), &[14.0]);
        assert_eq!(s.age(), &[16.0]);
        assert_abs_diff_eq!(s.monetary()[0], (15.0 + 30.0) / 2.0, epsilon = 1e-12);
        assert_eq!(s.holdout_length(), Some(16.0));
        assert_eq!(s.holdout_purchases(), Some(&[2][..]));

        let weeks = Calibration::new(at(2024, 1, 17, 15))
            .unit(TimeUnit::Weeks)
            .summarize(&h)
            .unwrap();
        assert_abs_diff_eq!(weeks.age()[0], 16.0 / 7.0, epsilon = 1e-15);
        assert_eq!(weeks.holdout_purchases(), None);
    }

    #[test]
    fn rejects_bad_periods_and_columns_by_name() {
        let h = history(&[(1, at(2024, 1, 1, 0), 1.0)]);
        let err = Calibration::new(at(2024, 1, 5, 0))
            .holdout_end(at(2024, 1, 5, 23))
            .summarize(&h)
            .unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter {
                name: "holdout_end",
                ..
            }
        ));
        let err = Calibration::new(at(2023, 1, 5, 0))
            .summarize(&h)
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Empty(_)));

        let err =
            CalibrationSummary::from_columns(TimeUnit::Days, vec![1, 0], vec![2.0], vec![3.0, 3.0])
                .unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::LengthMismatch {
                expected: 2,
                got: 1,
                ..
            }
        ));
        let err = CalibrationSummary::from_columns(
            TimeUnit::Days,
            vec![1, 0],
            vec![2.0, 1.0],
            vec![3.0, 3.0],
        )
        .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidParameter { name: "recency", reason } if reason.starts_with("row 1"))
        );
        let err =
            CalibrationSummary::from_columns(TimeUnit::Days, vec![0], vec![0.0], vec![f64::NAN])
                .unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter { name: "age", .. }
        ));
        let err = SummaryRow::new(1, 1.0, 2.0)
            .unwrap()
            .with_monetary(-1.0)
            .unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter {
                name: "monetary",
                ..
            }
        ));
    }
}
