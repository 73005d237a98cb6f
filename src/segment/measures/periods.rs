//! The time periods the measures are computed over: [`Period`] and
//! [`Periods`].

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{check_count, month_bounds, out_of_range};
use crate::util::to_micros;
use crate::{Error, Result};

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
    pub(super) start: DateTime<Utc>,
    pub(super) end: DateTime<Utc>,
}

impl Period {
    /// The period `[start, end)`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `end` unless `start < end`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::segment::Period;
    ///
    /// let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let feb = Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap();
    /// assert_eq!(Period::new(jan, feb)?.end(), feb);
    /// assert!(Period::new(feb, jan).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Period> {
        if start < end {
            Ok(Period { start, end })
        } else {
            Err(Error::invalid_parameter(
                "end",
                format!("must be after the start {start}, got {end}"),
            ))
        }
    }

    /// The first instant of the period (inclusive).
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The end of the period (exclusive): the start of the next one.
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

    pub(super) fn micros(&self) -> Vec<i64> {
        self.bounds.iter().map(|&t| to_micros(t)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::measures::fixtures::{at, day, invalid};

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
}
