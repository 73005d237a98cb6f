//! k-means clustering of customers on standardized features (through smartcore).

use std::fmt;

use serde::{Deserialize, Serialize};
use smartcore::cluster::kmeans::{KMeans, KMeansParameters};
use smartcore::linalg::basic::matrix::DenseMatrix;

use crate::features::FeatureTable;
use crate::{Error, ErrorKind, Result};

/// k-means segmentation configuration: which feature columns, how many clusters, the seed.
///
/// Columns are standardized (zero mean, unit variance on the fitted
/// population; a constant column is left centred) so that days, counts and
/// currency weigh alike. Fitting uses smartcore's k-means (k-means++
/// initialisation from `seed`, then the filtering algorithm), so the result
/// is the same for the same data and seed. Clusters are numbered by size,
/// largest first.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::{FeatureSpec, Snapshot};
/// use churnwise::segment::KMeansSegmenter;
///
/// # let history = churnwise::doc_support::history(1_000, 2)?;
/// let table = FeatureSpec::all().extract(&history, &Snapshot::new(Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap()))?;
/// let fitted = KMeansSegmenter::new().k(4).fit(&table)?;
/// let clusters = fitted.predict(&table)?;
/// assert!(clusters.iter().all(|&c| c < 4));
/// assert!(fitted.sizes()[0] >= fitted.sizes()[3]);
/// println!("{}", fitted.profile(&table, None)?);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KMeansSegmenter {
    k: usize,
    columns: Vec<String>,
    max_iterations: usize,
    seed: u64,
}

impl Default for KMeansSegmenter {
    fn default() -> Self {
        KMeansSegmenter {
            k: 4,
            columns: [
                "recency_days",
                "orders_total",
                "spend_total",
                "logins_90d",
                "visits_90d",
            ]
            .map(String::from)
            .to_vec(),
            max_iterations: 100,
            seed: 42,
        }
    }
}

impl KMeansSegmenter {
    /// Four clusters on RFM and engagement: `recency_days`, `orders_total`,
    /// `spend_total`, `logins_90d`, `visits_90d`; 100 iterations; seed 42.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::KMeansSegmenter;
    ///
    /// assert_eq!(KMeansSegmenter::new(), KMeansSegmenter::default());
    /// ```
    pub fn new() -> Self {
        KMeansSegmenter::default()
    }

    /// The number of clusters. Defaults to 4. Must be 2 to 100 (checked by
    /// [`validate`](Self::validate)).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::KMeansSegmenter;
    /// # use ndarray::array;
    /// # // Four recent frequent buyers and two lapsed one-off buyers.
    /// # let table = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[5.0, 20.0], [8.0, 18.0], [6.0, 22.0], [7.0, 19.0], [300.0, 1.0], [280.0, 2.0]],
    /// # )?;
    /// # let fitted = KMeansSegmenter::new().columns(["recency_days", "orders_total"]).k(2).fit(&table)?;
    /// let three = KMeansSegmenter::new().columns(["recency_days", "orders_total"]).k(3).fit(&table)?;
    /// assert_eq!(three.sizes().len(), 3);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }

    /// The feature columns to cluster on (at least one, checked by
    /// [`validate`](Self::validate)).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::KMeansSegmenter;
    /// # use ndarray::array;
    /// # // Four recent frequent buyers and two lapsed one-off buyers.
    /// # let table = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[5.0, 20.0], [8.0, 18.0], [6.0, 22.0], [7.0, 19.0], [300.0, 1.0], [280.0, 2.0]],
    /// # )?;
    /// # let fitted = KMeansSegmenter::new().columns(["recency_days", "orders_total"]).k(2).fit(&table)?;
    /// assert_eq!(fitted.centroids()[0].len(), 2); // one mean per column
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn columns<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.columns = columns.into_iter().map(Into::into).collect();
        self
    }

    /// The most iterations of the k-means updates. Defaults to 100. Must be
    /// at least 1 (checked by [`validate`](Self::validate)).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::KMeansSegmenter;
    /// # use ndarray::array;
    /// # // Four recent frequent buyers and two lapsed one-off buyers.
    /// # let table = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[5.0, 20.0], [8.0, 18.0], [6.0, 22.0], [7.0, 19.0], [300.0, 1.0], [280.0, 2.0]],
    /// # )?;
    /// # let fitted = KMeansSegmenter::new().columns(["recency_days", "orders_total"]).k(2).fit(&table)?;
    /// let quick = KMeansSegmenter::new().columns(["recency_days", "orders_total"]).k(2).max_iterations(10);
    /// assert_eq!(quick.fit(&table)?.sizes(), [4, 2]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn max_iterations(mut self, n: usize) -> Self {
        self.max_iterations = n;
        self
    }

    /// Checks the configuration; [`fit`](Self::fit) calls it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `k` unless 2 to 100, or
    /// `max_iterations` if 0; [`ErrorKind::Empty`] without columns.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::segment::KMeansSegmenter;
    ///
    /// assert!(KMeansSegmenter::new().k(3).validate().is_ok());
    /// let err = KMeansSegmenter::new().k(1).validate().unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "k", .. }));
    /// assert!(KMeansSegmenter::new().max_iterations(0).validate().is_err());
    /// assert!(KMeansSegmenter::new().columns(Vec::<String>::new()).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        let k = self.k;
        if !(2..=100).contains(&k) {
            return Err(Error::invalid_parameter(
                "k",
                format!("must be 2 to 100, got {k}"),
            ));
        }
        if self.max_iterations == 0 {
            return Err(Error::invalid_parameter(
                "max_iterations",
                "must be at least 1, got 0",
            ));
        }
        if self.columns.is_empty() {
            return Err(ErrorKind::Empty("k-means needs at least one column".into()).into());
        }
        Ok(())
    }

    /// The seed of the k-means++ initialisation. Defaults to 42.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::KMeansSegmenter;
    /// # use ndarray::array;
    /// # // Four recent frequent buyers and two lapsed one-off buyers.
    /// # let table = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[5.0, 20.0], [8.0, 18.0], [6.0, 22.0], [7.0, 19.0], [300.0, 1.0], [280.0, 2.0]],
    /// # )?;
    /// # let fitted = KMeansSegmenter::new().columns(["recency_days", "orders_total"]).k(2).fit(&table)?;
    /// let seeded = KMeansSegmenter::new().columns(["recency_days", "orders_total"]).k(2).seed(7);
    /// // Same data and seed, same clusters.
    /// assert_eq!(seeded.fit(&table)?, seeded.fit(&table)?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Clusters the table's rows.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate); [`ErrorKind::UnknownName`] for a missing column;
    /// [`ErrorKind::InvalidParameter`] named `k` when there are fewer rows than clusters;
    /// [`ErrorKind::Fit`] if smartcore fails.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::KMeansSegmenter;
    /// # use ndarray::array;
    /// # // Four recent frequent buyers and two lapsed one-off buyers.
    /// # let table = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[5.0, 20.0], [8.0, 18.0], [6.0, 22.0], [7.0, 19.0], [300.0, 1.0], [280.0, 2.0]],
    /// # )?;
    /// # let fitted = KMeansSegmenter::new().columns(["recency_days", "orders_total"]).k(2).fit(&table)?;
    /// assert_eq!(fitted.sizes(), [4, 2]); // largest cluster first
    /// assert!(KMeansSegmenter::new().k(2).fit(&table).is_err()); // default columns missing
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit(&self, table: &FeatureTable) -> Result<FittedKMeans> {
        self.validate()?;
        let n = table.nrows();
        if n < self.k {
            return Err(Error::invalid_parameter(
                "k",
                format!("{} clusters need at least as many rows, got {n}", self.k),
            ));
        }
        let raw = columns(table, &self.columns)?;
        let d = self.columns.len();
        let (means, scales) = standardization(&raw, n, d);
        let z: Vec<f64> = raw
            .iter()
            .enumerate()
            .map(|(i, v)| (v - means[i % d]) / scales[i % d])
            .collect();
        let x = DenseMatrix::new(n, d, z.clone(), false).map_err(|e| fit_error(e.to_string()))?;
        let mut params = KMeansParameters::default()
            .with_k(self.k)
            .with_max_iter(self.max_iterations);
        params.seed = Some(self.seed);
        let model: KMeans<f64, usize, DenseMatrix<f64>, Vec<usize>> =
            KMeans::fit(&x, params).map_err(|e| fit_error(e.to_string()))?;
        let labels = model.predict(&x).map_err(|e| fit_error(e.to_string()))?;

        // Centroids as member means (in standardized units), numbered by size.
        let mut sums = vec![vec![0.0; d]; self.k];
        let mut sizes = vec![0usize; self.k];
        for (i, &c) in labels.iter().enumerate() {
            sizes[c] += 1;
            for j in 0..d {
                sums[c][j] += z[i * d + j];
            }
        }
        let mut order: Vec<usize> = (0..self.k).filter(|&c| sizes[c] > 0).collect();
        order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
        let centroids = order
            .iter()
            .map(|&c| sums[c].iter().map(|s| s / sizes[c] as f64).collect())
            .collect();
        let mut fitted = FittedKMeans {
            params: self.clone(),
            means,
            scales,
            centroids,
            sizes: Vec::new(),
        };
        let assigned = fitted.assign(&raw, n);
        fitted.sizes = (0..fitted.centroids.len())
            .map(|c| assigned.iter().filter(|&&a| a == c).count())
            .collect();
        Ok(fitted)
    }
}

fn fit_error(message: String) -> Error {
    ErrorKind::Fit {
        what: "k-means",
        message,
    }
    .into()
}

/// The named columns, row-major.
fn columns(table: &FeatureTable, names: &[String]) -> Result<Vec<f64>> {
    let cols = names
        .iter()
        .map(|c| table.column(c))
        .collect::<Result<Vec<_>>>()?;
    let mut out = Vec::with_capacity(table.nrows() * names.len());
    for i in 0..table.nrows() {
        out.extend(cols.iter().map(|c| c[i]));
    }
    Ok(out)
}

/// Column means and standard deviations (population); a zero deviation becomes 1.
fn standardization(raw: &[f64], n: usize, d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut means = vec![0.0; d];
    for (i, v) in raw.iter().enumerate() {
        means[i % d] += v;
    }
    means.iter_mut().for_each(|m| *m /= n as f64);
    let mut var = vec![0.0; d];
    for (i, v) in raw.iter().enumerate() {
        var[i % d] += (v - means[i % d]).powi(2);
    }
    let scales = var
        .iter()
        .map(|v| {
            let s = (v / n as f64).sqrt();
            if s > 0.0 { s } else { 1.0 }
        })
        .collect();
    (means, scales)
}

/// A fitted k-means segmentation: standardization and centroids, applicable to new customers.
///
/// Serializable, so a segmentation can be saved and applied later.
///
/// # Example
///
/// ```
/// use churnwise::features::FeatureTable;
/// use churnwise::segment::KMeansSegmenter;
/// use ndarray::array;
///
/// // Two obvious groups: recent frequent buyers and lapsed one-off buyers.
/// let table = FeatureTable::new(
///     (0..6u64).map(Into::into).collect(),
///     vec!["recency_days".into(), "orders_total".into()],
///     array![[5.0, 20.0], [8.0, 18.0], [6.0, 22.0], [300.0, 1.0], [280.0, 2.0], [310.0, 1.0]],
/// )?;
/// let fitted = KMeansSegmenter::new().columns(["recency_days", "orders_total"]).k(2).seed(3).fit(&table)?;
/// let clusters = fitted.predict(&table)?;
/// assert_eq!(clusters[0], clusters[1]);
/// assert_ne!(clusters[0], clusters[3]);
/// assert_eq!(fitted.sizes(), [3, 3]);
///
/// // Saved and applied later to new customers.
/// let json = serde_json::to_string(&fitted)?;
/// let loaded: churnwise::segment::FittedKMeans = serde_json::from_str(&json)?;
/// assert_eq!(loaded.predict(&table)?, clusters);
///
/// // Per-cluster means in original units, with churn rates when labels are given.
/// let churned = [false, false, true, true, true, true];
/// let profile = fitted.profile(&table, Some(&churned))?;
/// assert_eq!(profile.columns(), ["recency_days", "orders_total"]);
/// let lapsed = profile.rows().iter().find(|r| r.means()[0] > 100.0).unwrap();
/// assert_eq!((lapsed.size(), lapsed.churn_rate()), (3, Some(1.0)));
/// println!("{profile}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedKMeans {
    params: KMeansSegmenter,
    means: Vec<f64>,
    scales: Vec<f64>,
    /// In standardized units, numbered by size.
    centroids: Vec<Vec<f64>>,
    sizes: Vec<usize>,
}

impl FittedKMeans {
    /// The configuration.
    pub fn params(&self) -> &KMeansSegmenter {
        &self.params
    }

    /// Customers per cluster in the fitted population, largest first.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// The centroids in the original units of the columns (one row per cluster).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::KMeansSegmenter;
    /// # use ndarray::array;
    /// # // Four recent frequent buyers and two lapsed one-off buyers.
    /// # let table = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[5.0, 20.0], [8.0, 18.0], [6.0, 22.0], [7.0, 19.0], [300.0, 1.0], [280.0, 2.0]],
    /// # )?;
    /// # let fitted = KMeansSegmenter::new().columns(["recency_days", "orders_total"]).k(2).fit(&table)?;
    /// let lapsed = &fitted.centroids()[1];
    /// assert!((lapsed[0] - 290.0).abs() < 1e-9 && (lapsed[1] - 1.5).abs() < 1e-9);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn centroids(&self) -> Vec<Vec<f64>> {
        self.centroids
            .iter()
            .map(|c| {
                c.iter()
                    .zip(&self.means)
                    .zip(&self.scales)
                    .map(|((z, m), s)| m + z * s)
                    .collect()
            })
            .collect()
    }

    fn assign(&self, raw: &[f64], n: usize) -> Vec<usize> {
        let d = self.means.len();
        (0..n)
            .map(|i| {
                let row = &raw[i * d..(i + 1) * d];
                let dist = |c: &Vec<f64>| -> f64 {
                    row.iter()
                        .zip(c)
                        .enumerate()
                        .map(|(j, (v, cz))| ((v - self.means[j]) / self.scales[j] - cz).powi(2))
                        .sum()
                };
                let mut best = (0, f64::INFINITY);
                for (c, centroid) in self.centroids.iter().enumerate() {
                    let dd = dist(centroid);
                    if dd < best.1 {
                        best = (c, dd);
                    }
                }
                best.0
            })
            .collect()
    }

    /// The nearest cluster of every row.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] for a missing column.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::KMeansSegmenter;
    /// # use ndarray::array;
    /// # // Four recent frequent buyers and two lapsed one-off buyers.
    /// # let table = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[5.0, 20.0], [8.0, 18.0], [6.0, 22.0], [7.0, 19.0], [300.0, 1.0], [280.0, 2.0]],
    /// # )?;
    /// # let fitted = KMeansSegmenter::new().columns(["recency_days", "orders_total"]).k(2).fit(&table)?;
    /// assert_eq!(fitted.predict(&table)?, [0, 0, 0, 0, 1, 1]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn predict(&self, table: &FeatureTable) -> Result<Vec<usize>> {
        let raw = columns(table, &self.params.columns)?;
        Ok(self.assign(&raw, table.nrows()))
    }

    /// Size, share, column means and (with labels) churn rate per cluster.
    ///
    /// # Errors
    ///
    /// As for [`predict`](Self::predict); [`ErrorKind::LengthMismatch`] if
    /// `churned` does not have one label per row.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::KMeansSegmenter;
    /// # use ndarray::array;
    /// # // Four recent frequent buyers and two lapsed one-off buyers.
    /// # let table = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into(), "orders_total".into()],
    /// #     array![[5.0, 20.0], [8.0, 18.0], [6.0, 22.0], [7.0, 19.0], [300.0, 1.0], [280.0, 2.0]],
    /// # )?;
    /// # let fitted = KMeansSegmenter::new().columns(["recency_days", "orders_total"]).k(2).fit(&table)?;
    /// let profile = fitted.profile(&table, Some(&[false, false, true, false, true, true]))?;
    /// assert_eq!(profile.rows()[0].churn_rate(), Some(0.25));
    /// assert_eq!(profile.rows()[1].churn_rate(), Some(1.0));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn profile(
        &self,
        table: &FeatureTable,
        churned: Option<&[bool]>,
    ) -> Result<ClusterProfile> {
        if let Some(c) = churned
            && c.len() != table.nrows()
        {
            return Err(ErrorKind::LengthMismatch {
                what: "churn labels per feature-table row",
                expected: table.nrows(),
                got: c.len(),
            }
            .into());
        }
        let raw = columns(table, &self.params.columns)?;
        let n = table.nrows();
        let d = self.means.len();
        let labels = self.assign(&raw, n);
        let k = self.centroids.len();
        let mut rows: Vec<ClusterRow> = (0..k)
            .map(|cluster| ClusterRow {
                cluster,
                size: 0,
                share: 0.0,
                means: vec![0.0; d],
                churn_rate: None,
            })
            .collect();
        let mut churn = vec![0usize; k];
        for (i, &c) in labels.iter().enumerate() {
            rows[c].size += 1;
            for j in 0..d {
                rows[c].means[j] += raw[i * d + j];
            }
            churn[c] += usize::from(churned.is_some_and(|l| l[i]));
        }
        for (row, churned_count) in rows.iter_mut().zip(churn) {
            if row.size > 0 {
                row.means.iter_mut().for_each(|m| *m /= row.size as f64);
                row.churn_rate = churned.map(|_| churned_count as f64 / row.size as f64);
            }
            row.share = if n == 0 {
                0.0
            } else {
                row.size as f64 / n as f64
            };
        }
        Ok(ClusterProfile {
            columns: self.params.columns.clone(),
            rows,
        })
    }
}

/// One cluster's row of a [`ClusterProfile`].
///
/// # Example
///
/// See [`KMeansSegmenter`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterRow {
    cluster: usize,
    size: usize,
    share: f64,
    means: Vec<f64>,
    churn_rate: Option<f64>,
}

impl ClusterRow {
    /// The cluster number.
    pub fn cluster(&self) -> usize {
        self.cluster
    }
    /// Customers in it.
    pub fn size(&self) -> usize {
        self.size
    }
    /// Share of all customers.
    pub fn share(&self) -> f64 {
        self.share
    }
    /// Mean of each clustering column, in [`ClusterProfile::columns`] order.
    pub fn means(&self) -> &[f64] {
        &self.means
    }
    /// Share churned, with labels and a non-empty cluster.
    pub fn churn_rate(&self) -> Option<f64> {
        self.churn_rate
    }
}

/// Per-cluster profile, from [`FittedKMeans::profile`]; prints as a table.
///
/// # Example
///
/// See [`FittedKMeans`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterProfile {
    columns: Vec<String>,
    rows: Vec<ClusterRow>,
}

impl ClusterProfile {
    /// The clustering columns.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
    /// One row per cluster.
    pub fn rows(&self) -> &[ClusterRow] {
        &self.rows
    }
}

impl fmt::Display for ClusterProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w: Vec<usize> = self.columns.iter().map(|c| c.len().max(9)).collect();
        write!(f, "{:<8} {:>9} {:>7}", "cluster", "customers", "share")?;
        for (c, w) in self.columns.iter().zip(&w) {
            write!(f, " {c:>w$}")?;
        }
        writeln!(f, " {:>7}", "churn")?;
        for r in &self.rows {
            write!(
                f,
                "{:<8} {:>9} {:>6.1}%",
                r.cluster,
                r.size,
                100.0 * r.share
            )?;
            for (m, w) in r.means.iter().zip(&w) {
                write!(f, " {m:>w$.2}")?;
            }
            let churn = r
                .churn_rate
                .map_or_else(|| "-".to_owned(), |c| format!("{:.1}%", 100.0 * c));
            writeln!(f, " {churn:>7}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Three well-separated blobs of 50, 30 and 20 points in two columns.
    fn blobs() -> FeatureTable {
        let centers = [(0.0, 0.0, 50), (100.0, 10.0, 30), (0.0, 50.0, 20)];
        let mut values = Vec::new();
        for (cx, cy, n) in centers {
            for i in 0..n {
                let jitter = (i % 5) as f64 * 0.1;
                values.extend([cx + jitter, cy - jitter]);
            }
        }
        let n = values.len() / 2;
        let ids = (0..n as u64).map(Into::into).collect();
        FeatureTable::new(
            ids,
            vec!["a".into(), "b".into()],
            Array2::from_shape_vec((n, 2), values).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn recovers_separated_blobs_ordered_by_size() {
        let t = blobs();
        let fitted = KMeansSegmenter::new()
            .columns(["a", "b"])
            .k(3)
            .fit(&t)
            .unwrap();
        assert_eq!(fitted.sizes(), [50, 30, 20]);
        let centroids = fitted.centroids();
        approx::assert_abs_diff_eq!(centroids[1][0], 100.2, epsilon = 1e-9);
        approx::assert_abs_diff_eq!(centroids[2][1], 49.8, epsilon = 1e-9);
        let labels = fitted.predict(&t).unwrap();
        assert!(labels[..50].iter().all(|&l| l == 0));
        assert!(labels[50..80].iter().all(|&l| l == 1));
        let churned: Vec<bool> = (0..100).map(|i| i >= 80).collect();
        let profile = fitted.profile(&t, Some(&churned)).unwrap();
        assert_eq!(profile.rows()[2].churn_rate(), Some(1.0));
        assert_eq!(profile.rows()[0].churn_rate(), Some(0.0));
        assert_eq!(profile.to_string().lines().count(), 4);
    }

    #[test]
    fn same_seed_same_result_and_round_trip() {
        let t = blobs();
        let seg = KMeansSegmenter::new().columns(["a", "b"]).k(3).seed(7);
        let a = seg.fit(&t).unwrap();
        assert_eq!(a, seg.fit(&t).unwrap());
        let back: FittedKMeans = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back.predict(&t).unwrap(), a.predict(&t).unwrap());
    }

    #[test]
    fn rejects_bad_parameters() {
        let t = blobs();
        let invalid = |k: KMeansSegmenter| k.fit(&t).unwrap_err().into_kind();
        assert!(matches!(
            invalid(KMeansSegmenter::new().columns(["a", "b"]).k(1)),
            ErrorKind::InvalidParameter { name: "k", .. }
        ));
        assert!(matches!(
            invalid(KMeansSegmenter::new().columns(["a", "b"]).max_iterations(0)),
            ErrorKind::InvalidParameter {
                name: "max_iterations",
                ..
            }
        ));
        assert!(matches!(
            invalid(KMeansSegmenter::new().columns(Vec::<String>::new())),
            ErrorKind::Empty(_)
        ));
        let tiny =
            FeatureTable::new(vec![1u64.into()], vec!["a".into()], ndarray::array![[1.0]]).unwrap();
        let err = KMeansSegmenter::new()
            .columns(["a"])
            .fit(&tiny)
            .unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter { name: "k", .. }
        ));
        assert!(KMeansSegmenter::new().fit(&t).is_err()); // default columns are missing
    }
}
