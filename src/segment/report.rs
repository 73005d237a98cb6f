//! Per-segment summaries as values that print as tables and serialize.

use std::fmt;

use serde::Serialize;

use super::Segment;
use crate::features::FeatureTable;
use crate::{ErrorKind, Result};

/// One segment's row of a [`SegmentReport`].
///
/// # Example
///
/// ```
/// use churnwise::features::FeatureTable;
/// use churnwise::segment::{SegmentReport, Tier};
/// use ndarray::array;
///
/// let table = FeatureTable::new(
///     vec![1u64.into(), 2u64.into()],
///     vec!["recency_days".into(), "orders_total".into(), "spend_total".into()],
///     array![[10.0, 4.0, 300.0], [200.0, 1.0, 100.0]],
/// )?;
/// let report = SegmentReport::new(&[Tier::High, Tier::Low], &table, Some(&[false, true]))?;
/// let high = &report.rows()[0];
/// assert_eq!((high.segment(), high.count(), high.revenue_share()), ("high", 1, 0.75));
/// assert_eq!(report.rows()[2].churn_rate(), Some(1.0)); // low
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentRow {
    segment: String,
    count: usize,
    share: f64,
    recency_mean: f64,
    frequency_mean: f64,
    monetary_mean: f64,
    revenue_share: f64,
    churn_rate: Option<f64>,
}

impl SegmentRow {
    /// The segment's name.
    pub fn segment(&self) -> &str {
        &self.segment
    }
    /// Customers in the segment.
    pub fn count(&self) -> usize {
        self.count
    }
    /// Share of all customers.
    pub fn share(&self) -> f64 {
        self.share
    }
    /// Mean `recency_days` (0 for an empty segment).
    pub fn recency_mean(&self) -> f64 {
        self.recency_mean
    }
    /// Mean `orders_total`.
    pub fn frequency_mean(&self) -> f64 {
        self.frequency_mean
    }
    /// Mean `spend_total`.
    pub fn monetary_mean(&self) -> f64 {
        self.monetary_mean
    }
    /// The segment's share of total `spend_total` (0 when the total is 0).
    pub fn revenue_share(&self) -> f64 {
        self.revenue_share
    }
    /// Share churned, when labels were given and the segment is not empty.
    pub fn churn_rate(&self) -> Option<f64> {
        self.churn_rate
    }
}

/// Count, share, mean R/F/M, revenue share and churn rate per segment.
///
/// Every segment of the kind appears, empty ones with zeros, in the kind's
/// order. Reads `recency_days`, `orders_total` and `spend_total`.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::{FeatureSpec, Snapshot};
/// use churnwise::segment::{Rfm, SegmentReport};
///
/// # let history = churnwise::doc_support::history(1_000, 8)?;
/// let table = FeatureSpec::rfm().extract(&history, &Snapshot::new(Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap()))?;
/// let segments: Vec<_> = Rfm::new().fit(&table)?.apply(&table)?.iter().map(|s| s.segment()).collect();
/// let report = SegmentReport::new(&segments, &table, None)?;
/// assert_eq!(report.rows().len(), 11);
/// println!("{report}");
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentReport {
    rows: Vec<SegmentRow>,
    customers: usize,
}

impl SegmentReport {
    /// A report of `segments` (one per table row), with churn labels when given.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if `segments` or `churned` do not have
    /// one entry per row; [`ErrorKind::UnknownName`] for a missing column.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::FeatureTable;
    /// use churnwise::segment::{SegmentReport, Tier};
    /// use ndarray::array;
    ///
    /// let table = FeatureTable::new(
    ///     vec![1u64.into(), 2u64.into()],
    ///     vec!["recency_days".into(), "orders_total".into(), "spend_total".into()],
    ///     array![[10.0, 4.0, 300.0], [200.0, 1.0, 100.0]],
    /// )?;
    /// let report = SegmentReport::new(&[Tier::High, Tier::Low], &table, None)?;
    /// assert_eq!(report.rows().len(), 3); // every tier, mid included
    /// assert!(SegmentReport::new(&[Tier::High], &table, None).is_err()); // one per row
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new<S: Segment>(
        segments: &[S],
        table: &FeatureTable,
        churned: Option<&[bool]>,
    ) -> Result<Self> {
        let all = S::all();
        let index: Vec<usize> = segments
            .iter()
            .map(|s| all.iter().position(|a| a == s).unwrap_or(0))
            .collect();
        let names: Vec<String> = all.iter().map(ToString::to_string).collect();
        Self::from_indices(&index, &names, table, churned)
    }

    /// A report of numbered groups (e.g. clusters `0..names.len()`), named by `names`.
    ///
    /// # Errors
    ///
    /// As for [`new`](Self::new), and [`ErrorKind::LengthMismatch`] for a group number without a name.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::FeatureTable;
    /// use churnwise::segment::SegmentReport;
    /// use ndarray::array;
    ///
    /// let table = FeatureTable::new(
    ///     vec![1u64.into(), 2u64.into()],
    ///     vec!["recency_days".into(), "orders_total".into(), "spend_total".into()],
    ///     array![[10.0, 4.0, 300.0], [200.0, 1.0, 100.0]],
    /// )?;
    /// let names = vec!["cluster 0".to_string(), "cluster 1".to_string()];
    /// let report = SegmentReport::from_indices(&[1, 1], &names, &table, None)?;
    /// assert_eq!((report.rows()[0].count(), report.rows()[1].count()), (0, 2));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_indices(
        groups: &[usize],
        names: &[String],
        table: &FeatureTable,
        churned: Option<&[bool]>,
    ) -> Result<Self> {
        let n = table.nrows();
        let check = |what, got| {
            if got == n {
                Ok(())
            } else {
                Err(ErrorKind::LengthMismatch {
                    what,
                    expected: n,
                    got,
                })
            }
        };
        check("segments per feature-table row", groups.len())?;
        if let Some(c) = churned {
            check("churn labels per feature-table row", c.len())?;
        }
        if let Some(&g) = groups.iter().find(|&&g| g >= names.len()) {
            return Err(ErrorKind::LengthMismatch {
                what: "segment names for the group numbers",
                expected: g + 1,
                got: names.len(),
            }
            .into());
        }
        let r = table.column("recency_days")?;
        let f = table.column("orders_total")?;
        let m = table.column("spend_total")?;
        let k = names.len();
        let (mut count, mut churn) = (vec![0usize; k], vec![0usize; k]);
        let (mut rs, mut fs, mut ms) = (vec![0.0; k], vec![0.0; k], vec![0.0; k]);
        for (i, &g) in groups.iter().enumerate() {
            count[g] += 1;
            rs[g] += r[i];
            fs[g] += f[i];
            ms[g] += m[i];
            churn[g] += usize::from(churned.is_some_and(|c| c[i]));
        }
        let revenue: f64 = ms.iter().sum();
        let mean = |sum: f64, c: usize| if c == 0 { 0.0 } else { sum / c as f64 };
        let rows = (0..k)
            .map(|g| SegmentRow {
                segment: names[g].clone(),
                count: count[g],
                share: mean(count[g] as f64, n),
                recency_mean: mean(rs[g], count[g]),
                frequency_mean: mean(fs[g], count[g]),
                monetary_mean: mean(ms[g], count[g]),
                revenue_share: if revenue == 0.0 { 0.0 } else { ms[g] / revenue },
                churn_rate: churned
                    .filter(|_| count[g] > 0)
                    .map(|_| churn[g] as f64 / count[g] as f64),
            })
            .collect();
        Ok(SegmentReport { rows, customers: n })
    }

    /// The rows, one per segment.
    pub fn rows(&self) -> &[SegmentRow] {
        &self.rows
    }

    /// All customers reported on.
    pub fn customers(&self) -> usize {
        self.customers
    }
}

impl fmt::Display for SegmentReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .rows
            .iter()
            .map(|r| r.segment.len())
            .max()
            .unwrap_or(7)
            .max(7);
        writeln!(
            f,
            "{:<width$} {:>9} {:>7} {:>10} {:>8} {:>10} {:>8} {:>7}",
            "segment", "customers", "share", "recency d", "orders", "spend", "revenue", "churn"
        )?;
        for r in &self.rows {
            let churn = r
                .churn_rate
                .map_or_else(|| "-".to_owned(), |c| format!("{:.1}%", 100.0 * c));
            writeln!(
                f,
                "{:<width$} {:>9} {:>6.1}% {:>10.1} {:>8.2} {:>10.2} {:>7.1}% {:>7}",
                r.segment,
                r.count,
                100.0 * r.share,
                r.recency_mean,
                r.frequency_mean,
                r.monetary_mean,
                100.0 * r.revenue_share,
                churn
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::LifecycleStage;
    use ndarray::array;

    #[test]
    fn sums_means_and_shares_by_hand() {
        let table = FeatureTable::new(
            (1..=4u64).map(Into::into).collect(),
            vec![
                "recency_days".into(),
                "orders_total".into(),
                "spend_total".into(),
            ],
            array![
                [10.0, 2.0, 100.0],
                [30.0, 4.0, 300.0],
                [300.0, 1.0, 0.0],
                [20.0, 1.0, 600.0]
            ],
        )
        .unwrap();
        use LifecycleStage::*;
        let report = SegmentReport::new(
            &[Active, Active, Churned, New],
            &table,
            Some(&[false, true, true, false]),
        )
        .unwrap();
        let names: Vec<&str> = report.rows().iter().map(|r| r.segment()).collect();
        assert_eq!(names, ["new", "active", "silent", "at risk", "churned"]);
        let active = &report.rows()[1];
        assert_eq!(active.count(), 2);
        approx::assert_abs_diff_eq!(active.share(), 0.5);
        approx::assert_abs_diff_eq!(active.recency_mean(), 20.0);
        approx::assert_abs_diff_eq!(active.frequency_mean(), 3.0);
        approx::assert_abs_diff_eq!(active.monetary_mean(), 200.0);
        approx::assert_abs_diff_eq!(active.revenue_share(), 0.4);
        assert_eq!(active.churn_rate(), Some(0.5));
        let silent = &report.rows()[2];
        assert_eq!(
            (silent.count(), silent.churn_rate(), silent.share()),
            (0, None, 0.0)
        );
        let text = report.to_string();
        assert_eq!(text.lines().count(), 6);
        assert!(
            text.lines().nth(2).unwrap().starts_with("active "),
            "{text}"
        );
    }

    #[test]
    fn lengths_are_checked() {
        let table = FeatureTable::new(
            vec![1u64.into()],
            vec![
                "recency_days".into(),
                "orders_total".into(),
                "spend_total".into(),
            ],
            array![[1.0, 1.0, 1.0]],
        )
        .unwrap();
        assert!(SegmentReport::new::<LifecycleStage>(&[], &table, None).is_err());
        assert!(SegmentReport::new(&[LifecycleStage::New], &table, Some(&[])).is_err());
        assert!(SegmentReport::from_indices(&[3], &["a".into()], &table, None).is_err());
    }
}
