//! RFM scoring: quintile edges learned on a population, applied to anyone later.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Segment;
use crate::features::FeatureTable;
use crate::{Error, Result};

/// RFM configuration: which feature columns hold recency, frequency and monetary value.
///
/// [`Rfm::fit`] learns quintile edges on a population and returns a
/// [`FittedRfm`], which scores any customer later with those same edges, so
/// scores are stable across runs and comparable over time.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::{FeatureSpec, Snapshot};
/// use churnwise::segment::{Rfm, RfmSegment};
///
/// # let history = churnwise::doc_support::history(2_000, 3)?;
/// let snapshot = Snapshot::new(Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap());
/// let table = FeatureSpec::rfm().extract(&history, &snapshot)?;
/// let fitted = Rfm::new().fit(&table)?;
/// let scores = fitted.apply(&table)?;
/// assert!(scores.iter().all(|s| (1..=5).contains(&s.r) && (1..=5).contains(&s.f)));
/// let champions = scores.iter().filter(|s| s.segment() == RfmSegment::Champions).count();
/// assert!(champions > 0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rfm {
    recency: String,
    frequency: String,
    monetary: String,
}

impl Default for Rfm {
    fn default() -> Self {
        Rfm {
            recency: "recency_days".into(),
            frequency: "orders_total".into(),
            monetary: "spend_total".into(),
        }
    }
}

impl Rfm {
    /// Reads `recency_days`, `orders_total` and `spend_total`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::Rfm;
    ///
    /// let rfm = Rfm::new();
    /// assert_eq!(rfm.recency_column(), "recency_days");
    /// assert_eq!(rfm, Rfm::default());
    /// ```
    pub fn new() -> Self {
        Rfm::default()
    }

    /// The columns to read. Defaults to `recency_days`, `orders_total`, `spend_total`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::Rfm;
    ///
    /// let rfm = Rfm::new().columns("days_idle", "orders_90d", "spend_90d");
    /// assert_eq!(rfm.frequency_column(), "orders_90d");
    /// ```
    pub fn columns(
        mut self,
        recency: impl Into<String>,
        frequency: impl Into<String>,
        monetary: impl Into<String>,
    ) -> Self {
        self.recency = recency.into();
        self.frequency = frequency.into();
        self.monetary = monetary.into();
        self
    }

    /// The recency column.
    pub fn recency_column(&self) -> &str {
        &self.recency
    }

    /// The frequency column.
    pub fn frequency_column(&self) -> &str {
        &self.frequency
    }

    /// The monetary column.
    pub fn monetary_column(&self) -> &str {
        &self.monetary
    }

    /// Learns the quintile edges (the 20th, 40th, 60th and 80th percentiles,
    /// linearly interpolated as numpy's default) of each column.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`](crate::ErrorKind::UnknownName) for a missing
    /// column; [`ErrorKind::Empty`](crate::ErrorKind::Empty) for a table without rows.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::*;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     (1..=5u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into(), "orders_total".into(), "spend_total".into()],
    /// #     array![[1.0, 5.0, 500.0], [10.0, 4.0, 400.0], [20.0, 3.0, 300.0], [30.0, 2.0, 200.0], [40.0, 1.0, 100.0]],
    /// # )?;
    /// let fitted = Rfm::new().fit(&table)?;
    /// assert_eq!(fitted.frequency_edges(), [1.8, 2.6, 3.4, 4.2]);
    /// assert_eq!(fitted.apply(&table)?[0], RfmScore { r: 5, f: 5, m: 5 });
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit(&self, table: &FeatureTable) -> Result<FittedRfm> {
        if table.is_empty() {
            return Err(crate::ErrorKind::Empty(
                "cannot fit RFM edges on a table without rows".into(),
            )
            .into());
        }
        let edges = |name: &str| -> Result<[f64; 4]> {
            let q = quantiles(table.column(name)?.to_vec(), &[0.2, 0.4, 0.6, 0.8]);
            Ok([q[0], q[1], q[2], q[3]])
        };
        Ok(FittedRfm {
            recency_edges: edges(&self.recency)?,
            frequency_edges: edges(&self.frequency)?,
            monetary_edges: edges(&self.monetary)?,
            params: self.clone(),
        })
    }
}

/// The `ps`-quantiles of non-empty `v`, linearly interpolated (numpy's
/// default, Hyndman & Fan type 7), in O(n): only the order statistics needed
/// are selected, not the whole vector sorted.
pub(crate) fn quantiles(mut v: Vec<f64>, ps: &[f64]) -> Vec<f64> {
    let n = v.len();
    let position = |p: f64| {
        let h = (n - 1) as f64 * p;
        let lo = h.floor() as usize;
        (lo, (lo + 1).min(n - 1), h - lo as f64)
    };
    let mut needed: Vec<usize> = ps
        .iter()
        .flat_map(|&p| {
            let (lo, hi, _) = position(p);
            [lo, hi]
        })
        .collect();
    needed.sort_unstable();
    needed.dedup();
    // Each selection leaves larger values to its right: select the next within them.
    let mut start = 0;
    for &i in &needed {
        v[start..].select_nth_unstable_by(i - start, f64::total_cmp);
        start = i + 1;
    }
    ps.iter()
        .map(|&p| {
            let (lo, hi, frac) = position(p);
            v[lo] + frac * (v[hi] - v[lo])
        })
        .collect()
}

/// Quintile edges for recency, frequency and monetary value.
///
/// # Scoring and ties
///
/// Each column's four edges split values into bins `(−∞, e1]`, `(e1, e2]`,
/// `(e2, e3]`, `(e3, e4]`, `(e4, ∞)`: a value must *exceed* an edge to move
/// up a bin, so a value equal to an edge stays in the lower bin, and tied
/// values always share a score. Frequency and monetary scores are the bin
/// number (1–5, higher is better); the recency score is 6 minus it (a lower
/// recency is better). With heavily tied data (most customers bought once)
/// several edges coincide and some scores are unused; that is the honest
/// outcome, unlike rank-based quintiles that split equal customers.
///
/// # Example
///
/// ```
/// use churnwise::segment::{FittedRfm, Rfm, RfmScore};
///
/// // Fixed, user-given edges: recency in days, orders, spend.
/// let rfm = FittedRfm::from_edges(Rfm::new(), [14.0, 30.0, 90.0, 180.0], [1.0, 2.0, 4.0, 8.0], [50.0, 100.0, 250.0, 500.0])?;
/// assert_eq!(rfm.score(10.0, 9.0, 600.0), RfmScore { r: 5, f: 5, m: 5 });
/// assert_eq!(rfm.score(30.0, 2.0, 100.0), RfmScore { r: 4, f: 2, m: 2 });
/// assert_eq!(rfm.score(400.0, 1.0, 20.0), RfmScore { r: 1, f: 1, m: 1 });
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FittedRfmRepr", into = "FittedRfmRepr")]
pub struct FittedRfm {
    params: Rfm,
    recency_edges: [f64; 4],
    frequency_edges: [f64; 4],
    monetary_edges: [f64; 4],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FittedRfmRepr {
    params: Rfm,
    recency_edges: [f64; 4],
    frequency_edges: [f64; 4],
    monetary_edges: [f64; 4],
}

impl TryFrom<FittedRfmRepr> for FittedRfm {
    type Error = Error;
    fn try_from(r: FittedRfmRepr) -> Result<Self> {
        FittedRfm::from_edges(
            r.params,
            r.recency_edges,
            r.frequency_edges,
            r.monetary_edges,
        )
    }
}

impl From<FittedRfm> for FittedRfmRepr {
    fn from(f: FittedRfm) -> Self {
        FittedRfmRepr {
            params: f.params,
            recency_edges: f.recency_edges,
            frequency_edges: f.frequency_edges,
            monetary_edges: f.monetary_edges,
        }
    }
}

impl FittedRfm {
    /// RFM with fixed edges instead of learned ones.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// unless each set of edges is finite and non-decreasing.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::{FittedRfm, Rfm};
    ///
    /// let edges = [1.0, 2.0, 3.0, 4.0];
    /// let rfm = FittedRfm::from_edges(Rfm::new(), edges, edges, edges)?;
    /// assert_eq!(rfm.recency_edges(), edges);
    /// assert!(FittedRfm::from_edges(Rfm::new(), [4.0, 3.0, 2.0, 1.0], edges, edges).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_edges(
        params: Rfm,
        recency: [f64; 4],
        frequency: [f64; 4],
        monetary: [f64; 4],
    ) -> Result<Self> {
        for (name, e) in [
            ("recency_edges", recency),
            ("frequency_edges", frequency),
            ("monetary_edges", monetary),
        ] {
            if e.iter().any(|v| !v.is_finite()) || e.windows(2).any(|w| w[0] > w[1]) {
                return Err(Error::invalid_parameter(
                    name,
                    format!("edges must be finite and non-decreasing, got {e:?}"),
                ));
            }
        }
        Ok(FittedRfm {
            params: params.clone(),
            recency_edges: recency,
            frequency_edges: frequency,
            monetary_edges: monetary,
        })
    }

    /// The configuration it was fitted with.
    pub fn params(&self) -> &Rfm {
        &self.params
    }

    /// Recency edges.
    pub fn recency_edges(&self) -> [f64; 4] {
        self.recency_edges
    }

    /// Frequency edges.
    pub fn frequency_edges(&self) -> [f64; 4] {
        self.frequency_edges
    }

    /// Monetary edges.
    pub fn monetary_edges(&self) -> [f64; 4] {
        self.monetary_edges
    }

    /// Scores one customer.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::segment::{FittedRfm, Rfm, RfmScore};
    /// # let rfm = FittedRfm::from_edges(Rfm::new(), [14.0, 30.0, 90.0, 180.0], [1.0, 2.0, 4.0, 8.0], [50.0, 100.0, 250.0, 500.0])?;
    /// // 20 days since the last order, 3 orders, 120 spent.
    /// assert_eq!(rfm.score(20.0, 3.0, 120.0), RfmScore { r: 4, f: 3, m: 3 });
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn score(&self, recency: f64, frequency: f64, monetary: f64) -> RfmScore {
        let bin = |edges: &[f64; 4], v: f64| edges.iter().filter(|&&e| v > e).count() as u8;
        RfmScore {
            r: 5 - bin(&self.recency_edges, recency),
            f: 1 + bin(&self.frequency_edges, frequency),
            m: 1 + bin(&self.monetary_edges, monetary),
        }
    }

    /// Scores every row of a table.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`](crate::ErrorKind::UnknownName) for a missing column.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::segment::*;
    /// # use ndarray::array;
    /// # let table = FeatureTable::new(
    /// #     (1..=5u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into(), "orders_total".into(), "spend_total".into()],
    /// #     array![[1.0, 5.0, 500.0], [10.0, 4.0, 400.0], [20.0, 3.0, 300.0], [30.0, 2.0, 200.0], [40.0, 1.0, 100.0]],
    /// # )?;
    /// let scores = Rfm::new().fit(&table)?.apply(&table)?;
    /// assert_eq!(scores.len(), 5);
    /// assert_eq!(scores[4], RfmScore { r: 1, f: 1, m: 1 });
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn apply(&self, table: &FeatureTable) -> Result<Vec<RfmScore>> {
        let r = table.column(&self.params.recency)?;
        let f = table.column(&self.params.frequency)?;
        let m = table.column(&self.params.monetary)?;
        Ok((0..table.nrows())
            .map(|i| self.score(r[i], f[i], m[i]))
            .collect())
    }
}

/// Recency, frequency and monetary scores, each 1 (worst) to 5 (best).
///
/// # Example
///
/// ```
/// use churnwise::segment::{RfmScore, RfmSegment};
///
/// let s = RfmScore { r: 5, f: 1, m: 3 };
/// assert_eq!(s.to_string(), "513");
/// assert_eq!(s.segment(), RfmSegment::NewCustomers);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RfmScore {
    /// Recency score: 5 = bought most recently.
    pub r: u8,
    /// Frequency score: 5 = buys most often.
    pub f: u8,
    /// Monetary score: 5 = spends most.
    pub m: u8,
}

impl RfmScore {
    /// The named segment of the R×F grid.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::{RfmScore, RfmSegment};
    ///
    /// assert_eq!(RfmScore { r: 5, f: 5, m: 1 }.segment(), RfmSegment::Champions);
    /// assert_eq!(RfmScore { r: 1, f: 1, m: 5 }.segment(), RfmSegment::Lost);
    /// ```
    pub fn segment(&self) -> RfmSegment {
        RfmSegment::from_scores(self.r, self.f)
    }
}

impl fmt::Display for RfmScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.r, self.f, self.m)
    }
}

/// The classic named RFM segments, from the recency × frequency grid.
///
/// | R \ F | 1 | 2 | 3 | 4 | 5 |
/// |---|---|---|---|---|---|
/// | **5** | New Customers | Potential Loyalist | Potential Loyalist | Champions | Champions |
/// | **4** | Promising | Potential Loyalist | Potential Loyalist | Loyal | Loyal |
/// | **3** | About to Sleep | About to Sleep | Need Attention | Loyal | Loyal |
/// | **2** | Hibernating | Hibernating | At Risk | At Risk | Can't Lose Them |
/// | **1** | Lost | Lost | At Risk | At Risk | Can't Lose Them |
///
/// # Example
///
/// ```
/// use churnwise::segment::RfmSegment;
///
/// assert_eq!(RfmSegment::from_scores(1, 5), RfmSegment::CantLoseThem);
/// assert_eq!(RfmSegment::CantLoseThem.to_string(), "Can't Lose Them");
/// assert_eq!(RfmSegment::ALL.len(), 11);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RfmSegment {
    /// Bought recently, buy often: R 5, F 4–5.
    Champions,
    /// Buy often, fairly recently: R 3–4, F 4–5.
    Loyal,
    /// Recent, a few purchases: R 4–5, F 2–3.
    PotentialLoyalist,
    /// Just bought, once: R 5, F 1.
    NewCustomers,
    /// Recent-ish, once: R 4, F 1.
    Promising,
    /// Middle of the road: R 3, F 3.
    NeedAttention,
    /// Slipping, few purchases: R 3, F 1–2.
    AboutToSleep,
    /// Used to buy often, not lately: R 1–2, F 3–4.
    AtRisk,
    /// Used to be the best, gone quiet: R 1–2, F 5.
    CantLoseThem,
    /// Long ago, rarely: R 2, F 1–2.
    Hibernating,
    /// Longest ago, rarely: R 1, F 1–2.
    Lost,
}

impl RfmSegment {
    /// Every segment, best first.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::RfmSegment;
    ///
    /// assert_eq!(RfmSegment::ALL[0], RfmSegment::Champions);
    /// assert_eq!(RfmSegment::ALL.last(), Some(&RfmSegment::Lost));
    /// ```
    pub const ALL: [RfmSegment; 11] = [
        RfmSegment::Champions,
        RfmSegment::Loyal,
        RfmSegment::PotentialLoyalist,
        RfmSegment::NewCustomers,
        RfmSegment::Promising,
        RfmSegment::NeedAttention,
        RfmSegment::AboutToSleep,
        RfmSegment::AtRisk,
        RfmSegment::CantLoseThem,
        RfmSegment::Hibernating,
        RfmSegment::Lost,
    ];

    /// The segment of a recency and frequency score (values outside 1–5 are clamped).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::RfmSegment;
    ///
    /// assert_eq!(RfmSegment::from_scores(4, 1), RfmSegment::Promising);
    /// assert_eq!(RfmSegment::from_scores(9, 0), RfmSegment::NewCustomers); // clamped to (5, 1)
    /// ```
    pub fn from_scores(r: u8, f: u8) -> RfmSegment {
        use RfmSegment::*;
        match (r.clamp(1, 5), f.clamp(1, 5)) {
            (5, 1) => NewCustomers,
            (4..=5, 2..=3) => PotentialLoyalist,
            (5, _) => Champions,
            (4, 1) => Promising,
            (3..=4, 4..=5) => Loyal,
            (3, 3) => NeedAttention,
            (3, _) => AboutToSleep,
            (1..=2, 5) => CantLoseThem,
            (1..=2, 3..=4) => AtRisk,
            (2, _) => Hibernating,
            _ => Lost,
        }
    }

    /// The display name.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::RfmSegment;
    ///
    /// assert_eq!(RfmSegment::AboutToSleep.name(), "About to Sleep");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            RfmSegment::Champions => "Champions",
            RfmSegment::Loyal => "Loyal",
            RfmSegment::PotentialLoyalist => "Potential Loyalist",
            RfmSegment::NewCustomers => "New Customers",
            RfmSegment::Promising => "Promising",
            RfmSegment::NeedAttention => "Need Attention",
            RfmSegment::AboutToSleep => "About to Sleep",
            RfmSegment::AtRisk => "At Risk",
            RfmSegment::CantLoseThem => "Can't Lose Them",
            RfmSegment::Hibernating => "Hibernating",
            RfmSegment::Lost => "Lost",
        }
    }
}

impl fmt::Display for RfmSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Segment for RfmSegment {
    fn all() -> &'static [Self] {
        &RfmSegment::ALL
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn quantiles_match_numpy_linear() {
        // numpy.quantile([1, 2, 3, 4, 10], [0.2, 0.4, 0.6, 0.8]) = [1.8, 2.6, 3.4, 5.2]
        let v = vec![10.0, 2.0, 4.0, 1.0, 3.0];
        let q = quantiles(v, &[0.2, 0.4, 0.6, 0.8]);
        for (a, b) in q.iter().zip([1.8, 2.6, 3.4, 5.2]) {
            approx::assert_abs_diff_eq!(*a, b, epsilon = 1e-12);
        }
        assert_eq!(quantiles(vec![7.0], &[0.5]), [7.0]);
        // Against a full sort, on shuffled data with ties.
        let data: Vec<f64> = (0..1001).map(|i| ((i * 7919) % 1000 / 3) as f64).collect();
        let mut sorted = data.clone();
        sorted.sort_by(f64::total_cmp);
        let ps = [0.0, 0.13, 0.5, 0.8, 0.999, 1.0];
        for (p, q) in ps.iter().zip(quantiles(data, &ps)) {
            let h = 1000.0 * p;
            let lo = h.floor() as usize;
            let want = sorted[lo] + (h - lo as f64) * (sorted[(lo + 1).min(1000)] - sorted[lo]);
            approx::assert_abs_diff_eq!(q, want, epsilon = 1e-12);
        }
    }

    #[test]
    fn grid_covers_every_cell_as_documented() {
        let grid = [
            // f = 1..5 for r = 5, 4, 3, 2, 1
            [
                "New Customers",
                "Potential Loyalist",
                "Potential Loyalist",
                "Champions",
                "Champions",
            ],
            [
                "Promising",
                "Potential Loyalist",
                "Potential Loyalist",
                "Loyal",
                "Loyal",
            ],
            [
                "About to Sleep",
                "About to Sleep",
                "Need Attention",
                "Loyal",
                "Loyal",
            ],
            [
                "Hibernating",
                "Hibernating",
                "At Risk",
                "At Risk",
                "Can't Lose Them",
            ],
            ["Lost", "Lost", "At Risk", "At Risk", "Can't Lose Them"],
        ];
        for (i, row) in grid.iter().enumerate() {
            for (j, name) in row.iter().enumerate() {
                let (r, f) = (5 - i as u8, 1 + j as u8);
                assert_eq!(RfmSegment::from_scores(r, f).name(), *name, "r={r} f={f}");
            }
        }
        let used: std::collections::BTreeSet<_> = (1..=5)
            .flat_map(|r| (1..=5).map(move |f| RfmSegment::from_scores(r, f)))
            .collect();
        assert_eq!(used.len(), RfmSegment::ALL.len());
    }

    #[test]
    fn fitted_edges_score_quintiles_and_keep_ties_together() {
        // Recency 1..=100 and frequency with heavy ties.
        let n = 100;
        let ids = (0..n as u64).map(Into::into).collect();
        let values = Array2::from_shape_fn((n, 3), |(i, j)| match j {
            0 => (i + 1) as f64,
            1 => {
                if i < 60 {
                    1.0
                } else {
                    (i - 58) as f64
                }
            }
            _ => ((i * 37) % 100) as f64,
        });
        let names = vec![
            "recency_days".into(),
            "orders_total".into(),
            "spend_total".into(),
        ];
        let table = FeatureTable::new(ids, names, values).unwrap();
        let fitted = Rfm::new().fit(&table).unwrap();
        let scores = fitted.apply(&table).unwrap();
        for r in 1..=5u8 {
            assert_eq!(
                scores.iter().filter(|s| s.r == r).count(),
                20,
                "recency score {r}"
            );
        }
        // Sixty customers tied at one purchase all share the lowest frequency score.
        assert!(scores[..60].iter().all(|s| s.f == 1));
        assert!(scores[60..].iter().all(|s| s.f > 1));
        // More spend never lowers the monetary score.
        let m = table.column("spend_total").unwrap();
        for i in 0..n {
            for j in 0..n {
                if m[i] > m[j] {
                    assert!(scores[i].m >= scores[j].m);
                }
            }
        }
    }

    #[test]
    fn fixed_edges_are_validated_and_round_trip_through_json() {
        assert!(
            FittedRfm::from_edges(Rfm::new(), [1.0, 0.0, 2.0, 3.0], [0.0; 4], [0.0; 4]).is_err()
        );
        assert!(
            FittedRfm::from_edges(Rfm::new(), [0.0; 4], [f64::NAN, 0.0, 0.0, 0.0], [0.0; 4])
                .is_err()
        );
        let f = FittedRfm::from_edges(
            Rfm::new(),
            [1.0, 2.0, 3.0, 4.0],
            [1.0; 4],
            [0.0, 10.0, 20.0, 30.0],
        )
        .unwrap();
        let json = serde_json::to_string(&f).unwrap();
        let back: FittedRfm = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f);
        let bad = json.replace("[1.0,2.0,3.0,4.0]", "[4.0,2.0,3.0,4.0]");
        assert!(serde_json::from_str::<FittedRfm>(&bad).is_err());
    }
}
