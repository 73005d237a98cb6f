//! High / mid / low tiers by value or engagement.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Segment;
use super::rfm::quantiles;
use crate::features::FeatureTable;
use crate::{Error, ErrorKind, Result};

/// A low, mid or high tier.
///
/// The set is closed (two cut points make three tiers), so, unlike most enums
/// of the crate, `Tier` is not `#[non_exhaustive]` and can be matched
/// exhaustively.
///
/// # Example
///
/// ```
/// use churnwise::segment::Tier;
///
/// assert!(Tier::High > Tier::Low);
/// assert_eq!(Tier::Mid.to_string(), "mid");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// At or below the lower cut.
    Low,
    /// Above the lower cut, at or below the upper cut.
    Mid,
    /// Above the upper cut.
    High,
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::Low => "low",
            Tier::Mid => "mid",
            Tier::High => "high",
        })
    }
}

impl Segment for Tier {
    fn all() -> &'static [Self] {
        &[Tier::High, Tier::Mid, Tier::Low]
    }
}

/// Tiers by the sum of one or more feature columns, cut at two population quantiles.
///
/// [`Tiers::value`] ranks by `spend_total` (DOMAIN: high / mid / low value);
/// [`Tiers::engagement`] by `logins_90d + visits_90d` (high / mid / low
/// engagement). The default cuts are the 50th and 80th percentiles: the top
/// 20% are high, the next 30% mid, the rest low. [`Tiers::fit`] learns the cut
/// values; [`FittedTiers`] applies them to anyone later.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::{FeatureSpec, Snapshot};
/// use churnwise::segment::{Tier, Tiers};
///
/// # let history = churnwise::doc_support::history(1_000, 5)?;
/// let table = FeatureSpec::all().extract(&history, &Snapshot::new(Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap()))?;
/// let value = Tiers::value().fit(&table)?;
/// let tiers = value.apply(&table)?;
/// let high = tiers.iter().filter(|t| **t == Tier::High).count();
/// assert!(high > 150 && high < 250);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tiers {
    columns: Vec<String>,
    quantiles: [f64; 2],
}

impl Tiers {
    /// Tiers by the sum of `columns` (at least one, checked by
    /// [`validate`](Self::validate)), cut at the 50th and 80th percentiles.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::*;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     (1..=5u64).map(Into::into).collect(),
    /// #     vec!["spend_total".into(), "logins_90d".into(), "visits_90d".into()],
    /// #     array![[100.0, 0.0, 1.0], [200.0, 2.0, 0.0], [300.0, 9.0, 9.0], [400.0, 4.0, 0.0], [500.0, 1.0, 1.0]],
    /// # )?;
    /// // Tiers by total activity: logins + visits = [1, 2, 18, 4, 2].
    /// let activity = Tiers::new(["logins_90d", "visits_90d"]).fit(&table)?;
    /// assert_eq!(activity.apply(&table)?[2], Tier::High);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new<I, S>(columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Tiers {
            columns: columns.into_iter().map(Into::into).collect(),
            quantiles: [0.5, 0.8],
        }
    }

    /// Value tiers: by `spend_total`.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::*;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     (1..=5u64).map(Into::into).collect(),
    /// #     vec!["spend_total".into(), "logins_90d".into(), "visits_90d".into()],
    /// #     array![[100.0, 0.0, 1.0], [200.0, 2.0, 0.0], [300.0, 9.0, 9.0], [400.0, 4.0, 0.0], [500.0, 1.0, 1.0]],
    /// # )?;
    /// let tiers = Tiers::value().fit(&table)?.apply(&table)?;
    /// assert_eq!(tiers, [Tier::Low, Tier::Low, Tier::Low, Tier::Mid, Tier::High]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn value() -> Self {
        Tiers {
            columns: vec!["spend_total".into()],
            quantiles: [0.5, 0.8],
        }
    }

    /// Engagement tiers: by `logins_90d + visits_90d`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::Tiers;
    ///
    /// assert_eq!(Tiers::engagement().columns(), ["logins_90d", "visits_90d"]);
    /// ```
    pub fn engagement() -> Self {
        Tiers {
            columns: vec!["logins_90d".into(), "visits_90d".into()],
            quantiles: [0.5, 0.8],
        }
    }

    /// The population quantiles to cut at. Defaults to `(0.5, 0.8)`. Must
    /// satisfy `0 < lower < upper < 1` (checked by [`validate`](Self::validate)).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::*;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     (1..=5u64).map(Into::into).collect(),
    /// #     vec!["spend_total".into(), "logins_90d".into(), "visits_90d".into()],
    /// #     array![[100.0, 0.0, 1.0], [200.0, 2.0, 0.0], [300.0, 9.0, 9.0], [400.0, 4.0, 0.0], [500.0, 1.0, 1.0]],
    /// # )?;
    /// // Cut at the median and the 60th percentile: 300 and 340.
    /// let fitted = Tiers::value().quantiles(0.5, 0.6).fit(&table)?;
    /// assert_eq!(fitted.cuts(), [300.0, 340.0]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn quantiles(mut self, lower: f64, upper: f64) -> Self {
        self.quantiles = [lower, upper];
        self
    }

    /// Checks the configuration; [`fit`](Self::fit) and
    /// [`FittedTiers::from_cuts`] call it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Empty`] without columns; [`ErrorKind::InvalidParameter`]
    /// named `quantiles` unless `0 < lower < upper < 1`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::Tiers;
    ///
    /// assert!(Tiers::value().quantiles(0.5, 0.9).validate().is_ok());
    /// assert!(Tiers::value().quantiles(0.8, 0.5).validate().is_err());
    /// assert!(Tiers::new(Vec::<String>::new()).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.columns.is_empty() {
            return Err(ErrorKind::Empty("tiers need at least one column".into()).into());
        }
        let [lower, upper] = self.quantiles;
        if !(lower > 0.0 && lower < upper && upper < 1.0) {
            return Err(Error::invalid_parameter(
                "quantiles",
                format!("need 0 < lower < upper < 1, got {lower} and {upper}"),
            ));
        }
        Ok(())
    }

    /// The summed columns.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Learns the cut values on a population.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate); [`ErrorKind::UnknownName`] for a
    /// missing column; [`ErrorKind::Empty`] for a table without rows.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::*;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     (1..=5u64).map(Into::into).collect(),
    /// #     vec!["spend_total".into(), "logins_90d".into(), "visits_90d".into()],
    /// #     array![[100.0, 0.0, 1.0], [200.0, 2.0, 0.0], [300.0, 9.0, 9.0], [400.0, 4.0, 0.0], [500.0, 1.0, 1.0]],
    /// # )?;
    /// // Spend 100..=500: the 50th percentile is 300, the 80th 420.
    /// let fitted = Tiers::value().fit(&table)?;
    /// assert_eq!(fitted.cuts(), [300.0, 420.0]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit(&self, table: &FeatureTable) -> Result<FittedTiers> {
        self.validate()?;
        if table.is_empty() {
            return Err(ErrorKind::Empty("cannot fit tiers on a table without rows".into()).into());
        }
        let q = quantiles(summed(&self.columns, table)?, &self.quantiles);
        Ok(FittedTiers {
            cuts: [q[0], q[1]],
            params: self.clone(),
        })
    }
}

fn summed(columns: &[String], table: &FeatureTable) -> Result<Vec<f64>> {
    let mut sum = vec![0.0; table.nrows()];
    for c in columns {
        for (s, v) in sum.iter_mut().zip(table.column(c)?) {
            *s += v;
        }
    }
    Ok(sum)
}

/// Cut values learned by [`Tiers::fit`]: a value must exceed a cut to move up a tier.
///
/// # Example
///
/// ```
/// use churnwise::segment::{FittedTiers, Tier, Tiers};
///
/// let fixed = FittedTiers::from_cuts(Tiers::value(), 100.0, 1_000.0)?;
/// assert_eq!(fixed.tier(100.0), Tier::Low);
/// assert_eq!(fixed.tier(100.5), Tier::Mid);
/// assert_eq!(fixed.tier(5_000.0), Tier::High);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedTiers {
    params: Tiers,
    cuts: [f64; 2],
}

impl FittedTiers {
    /// Tiers with fixed cut values.
    ///
    /// # Errors
    ///
    /// As [`Tiers::validate`]; [`ErrorKind::InvalidParameter`] named `cuts`
    /// unless both are finite and `lower <= upper`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::{FittedTiers, Tier, Tiers};
    ///
    /// let fixed = FittedTiers::from_cuts(Tiers::value(), 100.0, 1_000.0)?;
    /// assert_eq!(fixed.tier(500.0), Tier::Mid);
    /// assert!(FittedTiers::from_cuts(Tiers::value(), 1_000.0, 100.0).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_cuts(params: Tiers, lower: f64, upper: f64) -> Result<Self> {
        params.validate()?;
        if !(lower.is_finite() && upper.is_finite() && lower <= upper) {
            return Err(Error::invalid_parameter(
                "cuts",
                format!("need finite lower <= upper, got {lower} and {upper}"),
            ));
        }
        Ok(FittedTiers {
            params,
            cuts: [lower, upper],
        })
    }

    /// The configuration.
    pub fn params(&self) -> &Tiers {
        &self.params
    }

    /// The lower and upper cut values.
    pub fn cuts(&self) -> [f64; 2] {
        self.cuts
    }

    /// The tier of a value.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::{FittedTiers, Tier, Tiers};
    ///
    /// let fixed = FittedTiers::from_cuts(Tiers::value(), 100.0, 1_000.0)?;
    /// assert_eq!(fixed.tier(1_000.0), Tier::Mid); // a value must exceed a cut
    /// assert_eq!(fixed.tier(1_000.01), Tier::High);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn tier(&self, value: f64) -> Tier {
        if value > self.cuts[1] {
            Tier::High
        } else if value > self.cuts[0] {
            Tier::Mid
        } else {
            Tier::Low
        }
    }

    /// The tier of every row.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] for a missing column.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::*;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     (1..=5u64).map(Into::into).collect(),
    /// #     vec!["spend_total".into(), "logins_90d".into(), "visits_90d".into()],
    /// #     array![[100.0, 0.0, 1.0], [200.0, 2.0, 0.0], [300.0, 9.0, 9.0], [400.0, 4.0, 0.0], [500.0, 1.0, 1.0]],
    /// # )?;
    /// let fixed = FittedTiers::from_cuts(Tiers::value(), 150.0, 450.0)?;
    /// assert_eq!(fixed.apply(&table)?, [Tier::Low, Tier::Mid, Tier::Mid, Tier::Mid, Tier::High]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn apply(&self, table: &FeatureTable) -> Result<Vec<Tier>> {
        Ok(summed(&self.params.columns, table)?
            .into_iter()
            .map(|v| self.tier(v))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn table(values: &[f64]) -> FeatureTable {
        let ids = (0..values.len() as u64).map(Into::into).collect();
        let v = Array2::from_shape_vec((values.len(), 1), values.to_vec()).unwrap();
        FeatureTable::new(ids, vec!["spend_total".into()], v).unwrap()
    }

    #[test]
    fn default_cuts_split_50_30_20() {
        let t = table(&(1..=100).map(f64::from).collect::<Vec<_>>());
        let fitted = Tiers::value().fit(&t).unwrap();
        // numpy.quantile(1..=100, [0.5, 0.8]) = [50.5, 80.2]
        approx::assert_abs_diff_eq!(fitted.cuts()[0], 50.5, epsilon = 1e-12);
        approx::assert_abs_diff_eq!(fitted.cuts()[1], 80.2, epsilon = 1e-12);
        let tiers = fitted.apply(&t).unwrap();
        let count = |x| tiers.iter().filter(|t| **t == x).count();
        assert_eq!(
            (count(Tier::Low), count(Tier::Mid), count(Tier::High)),
            (50, 30, 20)
        );
    }

    #[test]
    fn engagement_sums_its_columns_and_parameters_are_validated() {
        let ids = vec![1u64.into(), 2u64.into()];
        let v = ndarray::array![[1.0, 2.0], [0.0, 0.0]];
        let t = FeatureTable::new(ids, vec!["logins_90d".into(), "visits_90d".into()], v).unwrap();
        let fitted = FittedTiers::from_cuts(Tiers::engagement(), 0.0, 2.0).unwrap();
        assert_eq!(fitted.apply(&t).unwrap(), [Tier::High, Tier::Low]);
        assert!(matches!(
            Tiers::engagement()
                .quantiles(0.8, 0.5)
                .fit(&t)
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidParameter {
                name: "quantiles",
                ..
            }
        ));
        assert!(matches!(
            Tiers::new(Vec::<String>::new()).fit(&t).unwrap_err().kind(),
            ErrorKind::Empty(_)
        ));
        assert!(FittedTiers::from_cuts(Tiers::value(), 2.0, 1.0).is_err());
        assert!(Tiers::value().fit(&table(&[])).is_err());
    }
}
