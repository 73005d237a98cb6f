//! Uplift evaluation of a targeting score: did treating the customers it
//! ranks first retain more of them than treating others would have?
//!
//! A churn model ranks who is *likely to leave*; an uplift (or targeting)
//! score ranks who is *persuadable*: whose retention the intervention
//! changes most. After a randomized campaign (treated and control customers
//! both scored), these functions measure how well the score ranked:
//!
//! - [`uplift_by_bins`] (deciles): the retention rate of treated minus control
//!   customers within each score band; a good score has high uplift at the
//!   top, falling towards the bottom;
//! - [`qini_curve`] / [`qini_coefficient`] and [`uplift_curve`] /
//!   [`uplift_auc`]: the cumulative gain from treating the top `k` customers,
//!   and its area normalized between random targeting (0) and the best
//!   possible ordering (1);
//! - [`uplift_at_k`]: the uplift among the top fraction `k` (e.g. 30%).
//!
//! # Conventions
//!
//! Every function takes parallel slices `scores` (higher = treat first),
//! `retained` (the desired outcome: `true` = the customer stayed; pass
//! `!churned`) and `treated` (`true` = received the intervention, `false` =
//! control). Definitions follow scikit-uplift 0.5 (`sklift.metrics`) and are
//! checked against it on `tests/fixtures/uplift_data.csv`. Like scikit-uplift,
//! customers are ordered by descending score, **tied scores in reverse input
//! order** (numpy's stable ascending sort, reversed); this matters only to
//! [`uplift_at_k`] and [`uplift_by_bins`] when ties straddle a cut, and
//! differs from [`model::metrics`](crate::model::metrics), whose ties keep
//! input order.
//!
//! # Example
//!
//! ```
//! use churnwise::retention::uplift::UpliftReport;
//!
//! // Customers 0..400: a score that finds the persuadable ones (every 4th, on top).
//! let n = 400;
//! let treated: Vec<bool> = (0..n).map(|i| i % 2 == 0).collect();
//! let persuadable: Vec<bool> = (0..n).map(|i| i % 4 < 2).collect();
//! // Persuadable customers stay only when treated; the others stay half the time.
//! let retained: Vec<bool> = (0..n)
//!     .map(|i| if persuadable[i] { treated[i] } else { i % 8 < 6 })
//!     .collect();
//! let scores: Vec<f64> = (0..n).map(|i| if persuadable[i] { 0.9 } else { 0.1 } + i as f64 * 1e-4).collect();
//!
//! let report = UpliftReport::compute(&scores, &retained, &treated)?;
//! assert!(report.qini_coefficient > 0.3); // random targeting scores about 0
//! let top = &report.deciles[0];
//! assert!(top.uplift.unwrap() > 0.9);
//! # Ok::<(), churnwise::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind, Result};

/// How [`uplift_at_k`] and [`uplift_by_bins`] cut the ranked customers.
///
/// # Example
///
/// ```
/// use churnwise::retention::uplift::{uplift_at_k, UpliftStrategy};
///
/// let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
/// let retained = [true, false, true, false, false, false];
/// let treated = [true, false, false, true, true, false];
/// // Overall: the top half is rows 0–2: treated {0} retained 1/1, control {1, 2} 1/2.
/// assert_eq!(uplift_at_k(&scores, &retained, &treated, 0.5, UpliftStrategy::Overall)?, 0.5);
/// // By group: the top half of each group: treated {0} 1/1, control {1} 0/1.
/// assert_eq!(uplift_at_k(&scores, &retained, &treated, 0.5, UpliftStrategy::ByGroup)?, 1.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UpliftStrategy {
    /// Rank all customers together and cut the ranking (scikit-uplift's `"overall"`).
    Overall,
    /// Rank treated and control customers separately and cut each ranking at
    /// the same fraction (scikit-uplift's `"by_group"`).
    ByGroup,
}

/// One point of a [`qini_curve`] or [`uplift_curve`].
///
/// # Example
///
/// ```
/// use churnwise::retention::uplift::qini_curve;
///
/// let curve = qini_curve(&[0.9, 0.1], &[true, false], &[true, false])?;
/// assert_eq!((curve[0].targeted, curve[0].value), (0, 0.0));
/// assert_eq!(curve.last().map(|p| p.targeted), Some(2));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CurvePoint {
    /// How many top-ranked customers are targeted (the curve's x).
    pub targeted: u64,
    /// The curve's value there: incremental retained customers.
    pub value: f64,
}

/// One score band of [`uplift_by_bins`].
///
/// Rates and uplift are `None` when the band holds no treated or no control
/// customer (scikit-uplift reports NaN).
///
/// # Example
///
/// ```
/// use churnwise::retention::uplift::{uplift_by_bins, UpliftStrategy};
///
/// let scores = [0.9, 0.8, 0.2, 0.1];
/// let retained = [true, false, true, true];
/// let treated = [true, false, true, false];
/// let bins = uplift_by_bins(&scores, &retained, &treated, 2, UpliftStrategy::Overall)?;
/// assert_eq!(bins[0].uplift, Some(1.0)); // 1/1 treated − 0/1 control
/// assert_eq!(bins[1].uplift, Some(0.0));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpliftBin {
    /// Customers in the band.
    pub n: u64,
    /// Treated customers in the band.
    pub n_treated: u64,
    /// Control customers in the band.
    pub n_control: u64,
    /// The highest score in the band.
    pub score_max: f64,
    /// The lowest score in the band.
    pub score_min: f64,
    /// Retention rate of the band's treated customers.
    pub rate_treated: Option<f64>,
    /// Retention rate of the band's control customers.
    pub rate_control: Option<f64>,
    /// `rate_treated − rate_control`.
    pub uplift: Option<f64>,
    /// `√( r_t(1 − r_t)/n_t + r_c(1 − r_c)/n_c )`, scikit-uplift's `std_uplift`.
    pub std_error: Option<f64>,
}

/// The uplift summary of a scored campaign: Qini coefficient, uplift AUC,
/// uplift at 30% and uplift by decile.
///
/// # Example
///
/// ```
/// use churnwise::retention::uplift::UpliftReport;
///
/// // 20 customers, alternately treated; the score ranks treated stayers first.
/// let treated: Vec<bool> = (0..20).map(|i| i % 2 == 0).collect();
/// let retained: Vec<bool> = (0..20).map(|i| i % 2 == 0 && i < 10).collect();
/// let scores: Vec<f64> = (0..20).map(|i| 20.0 - f64::from(i)).collect();
/// let report = UpliftReport::compute(&scores, &retained, &treated)?;
/// assert_eq!((report.n, report.n_treated, report.n_control), (20, 10, 10));
/// assert_eq!(report.deciles.len(), 10);
/// assert_eq!(report.uplift_at_30pct, Some(1.0)); // top 6: 3/3 treated stayed, 0/3 controls
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpliftReport {
    /// Customers scored.
    pub n: u64,
    /// Treated customers.
    pub n_treated: u64,
    /// Control customers.
    pub n_control: u64,
    /// [`qini_coefficient`].
    pub qini_coefficient: f64,
    /// [`uplift_auc`].
    pub uplift_auc: f64,
    /// [`uplift_at_k`] at 30%, [`UpliftStrategy::Overall`]; `None` when the
    /// top 30% holds no treated or no control customer.
    pub uplift_at_30pct: Option<f64>,
    /// [`uplift_at_k`] at 30%, [`UpliftStrategy::ByGroup`]; `None` when 30%
    /// of a group is less than one customer.
    pub uplift_at_30pct_by_group: Option<f64>,
    /// [`uplift_by_bins`] with 10 bins (one per customer below ten customers),
    /// [`UpliftStrategy::Overall`]: best scores first.
    pub deciles: Vec<UpliftBin>,
}

impl UpliftReport {
    /// Computes every metric of the summary.
    ///
    /// # Errors
    ///
    /// As [`qini_coefficient`] and [`uplift_auc`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::uplift::UpliftReport;
    ///
    /// let scores = [0.9, 0.8, 0.7, 0.6];
    /// let retained = [true, false, true, false];
    /// let treated = [true, false, false, true];
    /// let small = UpliftReport::compute(&scores, &retained, &treated)?;
    /// assert_eq!(small.deciles.len(), 4); // fewer than 10 customers: one bin each
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn compute(scores: &[f64], retained: &[bool], treated: &[bool]) -> Result<UpliftReport> {
        let ranked = Ranked::new(scores, retained, treated)?;
        let n_treated = treated.iter().filter(|&&t| t).count() as u64;
        let defined = |r: Result<f64>| match r {
            Ok(v) => Ok(Some(v)),
            Err(e) if matches!(e.kind(), ErrorKind::InvalidParameter { name: "k", .. }) => Ok(None),
            Err(e) => Err(e),
        };
        Ok(UpliftReport {
            n: scores.len() as u64,
            n_treated,
            n_control: scores.len() as u64 - n_treated,
            qini_coefficient: ranked.qini_coefficient()?,
            uplift_auc: ranked.uplift_auc()?,
            uplift_at_30pct: defined(ranked.at_k(0.3, UpliftStrategy::Overall))?,
            uplift_at_30pct_by_group: defined(ranked.at_k(0.3, UpliftStrategy::ByGroup))?,
            // Deciles; fewer bins (one customer each) below ten customers.
            deciles: ranked.bins(scores.len().clamp(1, 10), UpliftStrategy::Overall)?,
        })
    }
}

/// Validated inputs and the ranking order (descending score, ties in reverse input order).
struct Ranked<'a> {
    scores: &'a [f64],
    retained: &'a [bool],
    treated: &'a [bool],
    order: Vec<usize>,
}

impl<'a> Ranked<'a> {
    fn new(scores: &'a [f64], retained: &'a [bool], treated: &'a [bool]) -> Result<Self> {
        for (what, len) in [
            ("retained flags per score", retained.len()),
            ("treated flags per score", treated.len()),
        ] {
            if len != scores.len() {
                return Err(ErrorKind::LengthMismatch {
                    what,
                    expected: scores.len(),
                    got: len,
                }
                .into());
            }
        }
        if scores.is_empty() {
            return Err(
                ErrorKind::Empty("no scored customers to evaluate uplift on".into()).into(),
            );
        }
        if let Some((row, &value)) = scores.iter().enumerate().find(|(_, s)| !s.is_finite()) {
            return Err(ErrorKind::NonFinite {
                what: "uplift score",
                row,
                column: "score".into(),
                value,
            }
            .into());
        }
        let n_treated = treated.iter().filter(|&&t| t).count();
        if n_treated == 0 || n_treated == treated.len() {
            return Err(Error::invalid_parameter(
                "treated",
                format!(
                    "needs both treated and control customers, got {n_treated} treated of {}",
                    treated.len()
                ),
            ));
        }
        Ok(Ranked {
            scores,
            retained,
            treated,
            order: descending_order(scores),
        })
    }

    /// The curve at each distinct score threshold, from (0, 0).
    fn curve(&self, order: &[usize], scores: &[f64], kind: CurveKind) -> Vec<CurvePoint> {
        let mut points = vec![CurvePoint {
            targeted: 0,
            value: 0.0,
        }];
        let (mut n_t, mut y_t, mut y_c) = (0u64, 0u64, 0u64);
        for (pos, &i) in order.iter().enumerate() {
            if self.treated[i] {
                n_t += 1;
                y_t += u64::from(self.retained[i]);
            } else {
                y_c += u64::from(self.retained[i]);
            }
            let last_of_tie = order
                .get(pos + 1)
                .is_none_or(|&next| scores[next] != scores[i]);
            if !last_of_tie {
                continue;
            }
            let n_all = pos as u64 + 1;
            let n_c = n_all - n_t;
            let ratio = |num: u64, den: u64| {
                if den == 0 {
                    0.0
                } else {
                    num as f64 / den as f64
                }
            };
            let value = match kind {
                CurveKind::Qini => y_t as f64 - y_c as f64 * ratio(n_t, n_c),
                CurveKind::Uplift => (ratio(y_t, n_t) - ratio(y_c, n_c)) * n_all as f64,
            };
            points.push(CurvePoint {
                targeted: n_all,
                value,
            });
        }
        points
    }

    fn normalized_area(&self, kind: CurveKind) -> Result<f64> {
        let actual = self.curve(&self.order, self.scores, kind);
        let perfect_scores: Vec<f64> = match kind {
            // scikit-uplift's perfect_qini_curve(negative_effect=True)
            CurveKind::Qini => (0..self.scores.len())
                .map(|i| match (self.retained[i], self.treated[i]) {
                    (true, true) => 1.0,
                    (true, false) => -1.0,
                    _ => 0.0,
                })
                .collect(),
            // scikit-uplift's perfect_uplift_curve
            CurveKind::Uplift => {
                let control_responders = (0..self.scores.len())
                    .filter(|&i| self.retained[i] && !self.treated[i])
                    .count();
                let treated_non_responders = (0..self.scores.len())
                    .filter(|&i| !self.retained[i] && self.treated[i])
                    .count();
                (0..self.scores.len())
                    .map(|i| {
                        let summand = if control_responders > treated_non_responders {
                            self.retained[i]
                        } else {
                            self.treated[i]
                        };
                        2.0 * f64::from(u8::from(self.retained[i] == self.treated[i]))
                            + f64::from(u8::from(summand))
                    })
                    .collect()
            }
        };
        let perfect = self.curve(&descending_order(&perfect_scores), &perfect_scores, kind);
        let last = perfect[perfect.len() - 1];
        let baseline = last.targeted as f64 * last.value / 2.0;
        let perfect_area = trapezoid(&perfect) - baseline;
        if perfect_area == 0.0 {
            return Err(Error::invalid_parameter(
                "retained",
                "the best possible ordering gains nothing over random targeting \
                 (e.g. no customer was retained): the normalized area is undefined",
            ));
        }
        Ok((trapezoid(&actual) - baseline) / perfect_area)
    }

    fn qini_coefficient(&self) -> Result<f64> {
        self.normalized_area(CurveKind::Qini)
    }

    fn uplift_auc(&self) -> Result<f64> {
        self.normalized_area(CurveKind::Uplift)
    }

    fn at_k(&self, k: f64, strategy: UpliftStrategy) -> Result<f64> {
        if !(k > 0.0 && k <= 1.0) {
            return Err(Error::invalid_parameter(
                "k",
                format!("must be a fraction in (0, 1], got {k}"),
            ));
        }
        let n = self.scores.len();
        let (rate_t, rate_c) = match strategy {
            UpliftStrategy::Overall => {
                // scikit-uplift: n_size = int(n_samples * k)
                let size = (n as f64 * k) as usize;
                let top = &self.order[..size];
                (self.rate(top, true), self.rate(top, false))
            }
            UpliftStrategy::ByGroup => {
                let (group_t, group_c) = self.groups();
                let size_t = (group_t.len() as f64 * k) as usize;
                let size_c = (group_c.len() as f64 * k) as usize;
                (
                    self.rate(&group_t[..size_t], true),
                    self.rate(&group_c[..size_c], false),
                )
            }
        };
        match (rate_t, rate_c) {
            (Some(t), Some(c)) => Ok(t - c),
            _ => Err(Error::invalid_parameter(
                "k",
                format!(
                    "the top {:.4}% holds no {} customer, so the uplift there is undefined",
                    k * 100.0,
                    if rate_t.is_none() {
                        "treated"
                    } else {
                        "control"
                    }
                ),
            )),
        }
    }

    /// The ranking split into treated and control customers, each in rank order.
    fn groups(&self) -> (Vec<usize>, Vec<usize>) {
        self.order.iter().partition(|&&i| self.treated[i])
    }

    /// The retention rate of the `treated`-group customers among `rows`.
    fn rate(&self, rows: &[usize], treated: bool) -> Option<f64> {
        let (n, y) = rows
            .iter()
            .filter(|&&i| self.treated[i] == treated)
            .fold((0u64, 0u64), |(n, y), &i| {
                (n + 1, y + u64::from(self.retained[i]))
            });
        (n > 0).then(|| y as f64 / n as f64)
    }

    fn bins(&self, bins: usize, strategy: UpliftStrategy) -> Result<Vec<UpliftBin>> {
        let n = self.scores.len();
        let limit = match strategy {
            UpliftStrategy::Overall => n,
            UpliftStrategy::ByGroup => {
                let (t, c) = self.groups();
                t.len().min(c.len())
            }
        };
        if bins == 0 || bins > limit {
            return Err(Error::invalid_parameter(
                "bins",
                format!("must be in 1..={limit} (customers per ranking), got {bins}"),
            ));
        }
        let chunks: Vec<Vec<usize>> = match strategy {
            UpliftStrategy::Overall => array_split(&self.order, bins)
                .into_iter()
                .map(<[usize]>::to_vec)
                .collect(),
            UpliftStrategy::ByGroup => {
                let (t, c) = self.groups();
                array_split(&t, bins)
                    .into_iter()
                    .zip(array_split(&c, bins))
                    .map(|(a, b)| a.iter().chain(b).copied().collect())
                    .collect()
            }
        };
        Ok(chunks.iter().map(|rows| self.bin(rows)).collect())
    }

    fn bin(&self, rows: &[usize]) -> UpliftBin {
        let n_treated = rows.iter().filter(|&&i| self.treated[i]).count() as u64;
        let rate_treated = self.rate(rows, true);
        let rate_control = self.rate(rows, false);
        let n_control = rows.len() as u64 - n_treated;
        let (uplift, std_error) = match (rate_treated, rate_control) {
            (Some(t), Some(c)) => (
                Some(t - c),
                Some((t * (1.0 - t) / n_treated as f64 + c * (1.0 - c) / n_control as f64).sqrt()),
            ),
            _ => (None, None),
        };
        let (score_min, score_max) = rows
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &i| {
                (lo.min(self.scores[i]), hi.max(self.scores[i]))
            });
        UpliftBin {
            n: rows.len() as u64,
            n_treated,
            n_control,
            score_max,
            score_min,
            rate_treated,
            rate_control,
            uplift,
            std_error,
        }
    }
}

#[derive(Clone, Copy)]
enum CurveKind {
    Qini,
    Uplift,
}

/// Indices by descending score, ties in reverse input order (numpy's
/// `argsort(kind="mergesort")[::-1]`). `-0.0` and `0.0` tie, as in numpy.
fn descending_order(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| {
        scores[b]
            .partial_cmp(&scores[a])
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.cmp(&a))
    });
    order
}

/// numpy's `array_split`: `bins` chunks, the first `len % bins` one longer.
fn array_split<T>(items: &[T], bins: usize) -> Vec<&[T]> {
    let (q, r) = (items.len() / bins, items.len() % bins);
    let mut out = Vec::with_capacity(bins);
    let mut start = 0;
    for j in 0..bins {
        let size = q + usize::from(j < r);
        out.push(&items[start..start + size]);
        start += size;
    }
    out
}

/// Trapezoidal area under the curve (scikit-learn's `auc`).
fn trapezoid(points: &[CurvePoint]) -> f64 {
    points
        .windows(2)
        .map(|w| (w[1].targeted - w[0].targeted) as f64 * (w[1].value + w[0].value) / 2.0)
        .sum()
}

/// The uplift curve: for the top `k` customers at each distinct score, the
/// difference of treated and control retention rates among them times `k`.
///
/// # Formula
///
/// ```text
/// among the top k:  n_t, n_c treated / control customers, y_t, y_c of them retained
/// uplift_curve(k) = (y_t/n_t − y_c/n_c) · k      (a term is 0 when its group is empty)
/// ```
///
/// As `sklift.metrics.uplift_curve`: one point per distinct score (tied
/// customers enter together), starting at (0, 0).
///
/// # Errors
///
/// - [`ErrorKind::LengthMismatch`] if `retained` or `treated` differ in length from `scores`;
/// - [`ErrorKind::Empty`] if there are no scores;
/// - [`ErrorKind::NonFinite`] for a NaN or infinite score, naming its row;
/// - [`ErrorKind::InvalidParameter`] named `treated` unless both groups are present.
///
/// # Example
///
/// ```
/// use churnwise::retention::uplift::uplift_curve;
///
/// let curve = uplift_curve(&[0.9, 0.5, 0.1], &[true, false, false], &[true, false, true])?;
/// let values: Vec<f64> = curve.iter().map(|p| p.value).collect();
/// // k=1: (1/1 − 0)·1; k=2: (1/1 − 0/1)·2; k=3: (1/2 − 0/1)·3
/// assert_eq!(values, vec![0.0, 1.0, 2.0, 1.5]);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn uplift_curve(
    scores: &[f64],
    retained: &[bool],
    treated: &[bool],
) -> Result<Vec<CurvePoint>> {
    let r = Ranked::new(scores, retained, treated)?;
    Ok(r.curve(&r.order, scores, CurveKind::Uplift))
}

/// The Qini curve: for the top `k` customers at each distinct score, the
/// retained treated customers minus the retained controls scaled to the
/// treated group's size.
///
/// # Formula
///
/// ```text
/// qini_curve(k) = y_t − y_c · n_t / n_c        (y_c term 0 when n_c = 0)
/// ```
///
/// As `sklift.metrics.qini_curve`, with the notation of [`uplift_curve`].
///
/// # Errors
///
/// As [`uplift_curve`].
///
/// # Example
///
/// ```
/// use churnwise::retention::uplift::qini_curve;
///
/// let curve = qini_curve(&[0.9, 0.5, 0.1], &[true, false, true], &[true, false, false])?;
/// let values: Vec<f64> = curve.iter().map(|p| p.value).collect();
/// // k=1: 1 − 0; k=2: 1 − 0·1/1; k=3: 1 − 1·1/2
/// assert_eq!(values, vec![0.0, 1.0, 1.0, 0.5]);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn qini_curve(scores: &[f64], retained: &[bool], treated: &[bool]) -> Result<Vec<CurvePoint>> {
    let r = Ranked::new(scores, retained, treated)?;
    Ok(r.curve(&r.order, scores, CurveKind::Qini))
}

/// The Qini coefficient: the area between the [`qini_curve`] and the random
/// line, as a fraction of that of the best possible ordering.
///
/// 0 is random targeting, 1 the best ordering the data allow, negative
/// worse than random. Use it to compare targeting scores on the same campaign.
///
/// # Formula
///
/// ```text
/// A(c)     = trapezoidal area under curve c
/// random   = straight line from (0, 0) to the perfect curve's end (n, Q(n))
/// perfect  = qini_curve ranked by retained·treated − retained·(1 − treated)
/// qini     = (A(actual) − A(random)) / (A(perfect) − A(random))
/// ```
///
/// As `sklift.metrics.qini_auc_score(negative_effect=True)`.
///
/// # Errors
///
/// As [`uplift_curve`]; and [`ErrorKind::InvalidParameter`] named `retained`
/// when the perfect ordering gains nothing over random (e.g. no customer was
/// retained), where the ratio is 0/0.
///
/// # Example
///
/// ```
/// use churnwise::retention::uplift::qini_coefficient;
///
/// let retained = [true, false, false, true];
/// let treated = [true, true, false, false];
/// // Treated responder first, control responder last: the best ordering.
/// assert_eq!(qini_coefficient(&[4.0, 3.0, 2.0, 1.0], &retained, &treated)?, 1.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn qini_coefficient(scores: &[f64], retained: &[bool], treated: &[bool]) -> Result<f64> {
    Ranked::new(scores, retained, treated)?.qini_coefficient()
}

/// The uplift AUC: the area between the [`uplift_curve`] and the random line,
/// as a fraction of that of the best possible ordering.
///
/// # Formula
///
/// ```text
/// as qini_coefficient, with the uplift curve, and the perfect ordering
/// ranked by 2·[retained = treated] + (retained if #control responders >
/// #treated non-responders, else treated)
/// ```
///
/// As `sklift.metrics.uplift_auc_score`.
///
/// # Errors
///
/// As [`qini_coefficient`].
///
/// # Example
///
/// ```
/// use churnwise::retention::uplift::uplift_auc;
///
/// let retained = [true, false, false, true];
/// let treated = [true, true, false, false];
/// let best = uplift_auc(&[4.0, 3.0, 2.0, 1.0], &retained, &treated)?;
/// let worst = uplift_auc(&[1.0, 2.0, 3.0, 4.0], &retained, &treated)?;
/// assert!(best > worst);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn uplift_auc(scores: &[f64], retained: &[bool], treated: &[bool]) -> Result<f64> {
    Ranked::new(scores, retained, treated)?.uplift_auc()
}

/// Uplift among the top fraction `k` of customers: the retention rate of the
/// treated minus that of the controls among them.
///
/// Use it when the budget treats a fixed share: "if we treat the top 30% by
/// this score, how much more do they stay than untreated look-alikes?"
///
/// # Formula
///
/// ```text
/// Overall:  top = first ⌊n·k⌋ customers of the ranking
///           uplift = mean(retained | top, treated) − mean(retained | top, control)
/// ByGroup:  top_t = first ⌊n_t·k⌋ treated, top_c = first ⌊n_c·k⌋ controls
///           uplift = mean(retained | top_t) − mean(retained | top_c)
/// ```
///
/// As `sklift.metrics.uplift_at_k` with a float `k` (`⌊·⌋` is Python's `int`).
///
/// # Errors
///
/// As [`uplift_curve`]; and [`ErrorKind::InvalidParameter`] named `k` unless
/// `0 < k <= 1`, or when the top holds no treated or no control customer
/// (scikit-uplift returns NaN).
///
/// # Example
///
/// ```
/// use churnwise::retention::uplift::{uplift_at_k, UpliftStrategy};
///
/// let scores = [0.9, 0.8, 0.3, 0.2];
/// let retained = [true, false, true, true];
/// let treated = [true, false, false, true];
/// // Top half: treated row 0 stayed (1/1), control row 1 left (0/1).
/// assert_eq!(uplift_at_k(&scores, &retained, &treated, 0.5, UpliftStrategy::Overall)?, 1.0);
/// assert_eq!(uplift_at_k(&scores, &retained, &treated, 1.0, UpliftStrategy::Overall)?, 0.5);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn uplift_at_k(
    scores: &[f64],
    retained: &[bool],
    treated: &[bool],
    k: f64,
    strategy: UpliftStrategy,
) -> Result<f64> {
    Ranked::new(scores, retained, treated)?.at_k(k, strategy)
}

/// Uplift by score band (deciles with `bins = 10`), best scores first.
///
/// # Formula
///
/// ```text
/// Overall:  split the ranking into `bins` consecutive bands, the first
///           n mod bins one customer longer (numpy's array_split)
/// ByGroup:  split the treated and the control rankings separately; band j
///           holds band j of each
/// per band: rate_t, rate_c, uplift = rate_t − rate_c,
///           std_error = √(rate_t(1 − rate_t)/n_t + rate_c(1 − rate_c)/n_c)
/// ```
///
/// As `sklift.metrics.uplift_by_percentile(std=True)`.
///
/// # Errors
///
/// As [`uplift_curve`]; and [`ErrorKind::InvalidParameter`] named `bins`
/// unless `1 <= bins <=` the customers ranked (per group for `ByGroup`).
///
/// # Example
///
/// ```
/// use churnwise::retention::uplift::{uplift_by_bins, UpliftStrategy};
///
/// let scores = [0.9, 0.8, 0.7, 0.3, 0.2];
/// let retained = [true, false, true, true, false];
/// let treated = [true, false, true, false, true];
/// // 5 customers in 2 bins: the first gets the extra one (rows 0–2), then rows 3–4.
/// let bins = uplift_by_bins(&scores, &retained, &treated, 2, UpliftStrategy::Overall)?;
/// assert_eq!((bins[0].n, bins[1].n), (3, 2));
/// assert_eq!(bins[0].uplift, Some(1.0 - 0.0));
/// assert_eq!(bins[1].uplift, Some(0.0 - 1.0));
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn uplift_by_bins(
    scores: &[f64],
    retained: &[bool],
    treated: &[bool],
    bins: usize,
    strategy: UpliftStrategy,
) -> Result<Vec<UpliftBin>> {
    Ranked::new(scores, retained, treated)?.bins(bins, strategy)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reports_on_fewer_than_ten_customers_use_one_bin_each() {
        let r = UpliftReport::compute(
            &[0.9, 0.7, 0.4, 0.1],
            &[true, false, true, false],
            &[true, true, false, false],
        )
        .unwrap();
        assert_eq!(r.deciles.len(), 4);
    }

    use super::*;
    use crate::stats::tol;
    use approx::assert_abs_diff_eq;

    /// tests/fixtures/uplift_data.csv: `retained,treatment,uplift_score`.
    fn fixture() -> (Vec<f64>, Vec<bool>, Vec<bool>) {
        let text = include_str!("../../tests/fixtures/uplift_data.csv");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("retained,treatment,uplift_score"));
        let (mut s, mut y, mut t) = (Vec::new(), Vec::new(), Vec::new());
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let cells: Vec<&str> = line.split(',').collect();
            y.push(cells[0] == "1");
            t.push(cells[1] == "1");
            s.push(cells[2].parse::<f64>().expect("numeric score"));
        }
        assert_eq!(s.len(), 1000);
        (s, y, t)
    }

    /// tests/fixtures/uplift_reference.json: scikit-uplift 0.5.1.
    #[test]
    fn metrics_match_scikit_uplift_reference() {
        let (s, y, t) = fixture();
        assert_abs_diff_eq!(
            qini_coefficient(&s, &y, &t).unwrap(),
            0.049_792_616_172_624_68,
            epsilon = tol::ORACLE
        );
        assert_abs_diff_eq!(
            uplift_auc(&s, &y, &t).unwrap(),
            0.050_024_732_406_169_34,
            epsilon = tol::ORACLE
        );
        assert_abs_diff_eq!(
            uplift_at_k(&s, &y, &t, 0.3, UpliftStrategy::Overall).unwrap(),
            0.184_503_329_013_807_56,
            epsilon = tol::ORACLE
        );
        assert_abs_diff_eq!(
            uplift_at_k(&s, &y, &t, 0.3, UpliftStrategy::ByGroup).unwrap(),
            0.176_478_494_623_655_9,
            epsilon = tol::ORACLE
        );
    }

    /// Deciles of the fixture: counts and rates computed by an independent
    /// pure-Python transcription of `sklift.metrics.uplift_by_percentile`
    /// (numpy's array_split of the reversed stable argsort), exact fractions.
    #[test]
    fn deciles_match_independent_computation() {
        let (s, y, t) = fixture();
        let bins = uplift_by_bins(&s, &y, &t, 10, UpliftStrategy::Overall).unwrap();
        let expected: [(u64, u64, f64, f64); 10] = [
            (51, 49, 20.0 / 51.0, 14.0 / 49.0),
            (41, 59, 13.0 / 41.0, 13.0 / 59.0),
            (47, 53, 22.0 / 47.0, 7.0 / 53.0),
            (45, 55, 16.0 / 45.0, 11.0 / 55.0),
            (44, 56, 18.0 / 44.0, 12.0 / 56.0),
            (55, 45, 17.0 / 55.0, 9.0 / 45.0),
            (50, 50, 13.0 / 50.0, 10.0 / 50.0),
            (49, 51, 17.0 / 49.0, 16.0 / 51.0),
            (54, 46, 21.0 / 54.0, 7.0 / 46.0),
            (45, 55, 8.0 / 45.0, 12.0 / 55.0),
        ];
        for (bin, (nt, nc, rt, rc)) in bins.iter().zip(expected) {
            assert_eq!((bin.n, bin.n_treated, bin.n_control), (100, nt, nc));
            assert_abs_diff_eq!(bin.rate_treated.unwrap(), rt, epsilon = tol::EXACT);
            assert_abs_diff_eq!(bin.rate_control.unwrap(), rc, epsilon = tol::EXACT);
            assert_abs_diff_eq!(bin.uplift.unwrap(), rt - rc, epsilon = tol::EXACT);
            let se = (rt * (1.0 - rt) / nt as f64 + rc * (1.0 - rc) / nc as f64).sqrt();
            assert_abs_diff_eq!(bin.std_error.unwrap(), se, epsilon = tol::EXACT);
            assert!(bin.score_max >= bin.score_min);
        }
        // Bands are in descending score order.
        assert!(bins.windows(2).all(|w| w[0].score_min >= w[1].score_max));
    }

    /// Hand calculation of both curves on 5 customers with a tie.
    ///
    /// ranking (desc, ties reversed): scores 0.9 (row 0), 0.5 (rows 2, 1), 0.1 (rows 4, 3)
    /// rows:      0: T,y   1: C,y   2: T,n   3: C,n   4: T,y
    /// after 0.9: n_t 1 y_t 1, n_c 0 y_c 0 → qini 1, uplift (1 − 0)·1 = 1
    /// after 0.5: n_t 2 y_t 1, n_c 1 y_c 1 → qini 1 − 1·2/1 = −1, uplift (1/2 − 1)·3 = −1.5
    /// after 0.1: n_t 3 y_t 2, n_c 2 y_c 1 → qini 2 − 1·3/2 = 0.5, uplift (2/3 − 1/2)·5 = 5/6
    #[test]
    fn curves_match_hand_calculation_with_ties() {
        let s = [0.9, 0.5, 0.5, 0.1, 0.1];
        let y = [true, true, false, false, true];
        let t = [true, false, true, false, true];
        let q = qini_curve(&s, &y, &t).unwrap();
        let xs: Vec<u64> = q.iter().map(|p| p.targeted).collect();
        assert_eq!(xs, vec![0, 1, 3, 5]);
        for (p, want) in q.iter().zip([0.0, 1.0, -1.0, 0.5]) {
            assert_abs_diff_eq!(p.value, want, epsilon = tol::EXACT);
        }
        let u = uplift_curve(&s, &y, &t).unwrap();
        for (p, want) in u.iter().zip([0.0, 1.0, -1.5, 5.0 / 6.0]) {
            assert_abs_diff_eq!(p.value, want, epsilon = tol::EXACT);
        }
    }

    /// Hand calculation of the Qini coefficient on 4 customers.
    ///
    /// rows: 0 T,y  1 T,n  2 C,n  3 C,y; perfect scores 1, 0, 0, −1 → order 0, (2, 1), 3
    /// perfect: (1, 1), (3, 1 − 0·2/1 = 1), (4, 1 − 1·2/2 = 0)
    /// area = 0.5 + 2·1 + 0.5 = 3; random line ends at (4, 0): area 0
    /// actual scores 1, 2, 3, 4 → order 3, 2, 1, 0:
    /// (1, 0 − 1·0/1 = 0), (2, 0 − 1·0/2 = 0), (3, 0 − 1·1/2 = −0.5), (4, 1 − 1 = 0)
    /// area = 0 + 0 − 0.25 − 0.25 = −0.5 → qini = −0.5 / 3
    #[test]
    fn qini_coefficient_matches_hand_calculation() {
        let y = [true, false, false, true];
        let t = [true, true, false, false];
        let q = qini_coefficient(&[1.0, 2.0, 3.0, 4.0], &y, &t).unwrap();
        assert_abs_diff_eq!(q, -0.5 / 3.0, epsilon = tol::EXACT);
    }

    #[test]
    fn ties_take_reverse_input_order_like_scikit_uplift() {
        // All tied: the ranking is rows 3, 2, 1, 0; the top half is rows 3, 2.
        let s = [0.5; 4];
        let y = [true, true, false, true];
        let t = [true, false, true, false];
        let u = uplift_at_k(&s, &y, &t, 0.5, UpliftStrategy::Overall).unwrap();
        assert_eq!(u, 0.0 - 1.0); // treated row 2 (0/1), control row 3 (1/1)
    }

    #[test]
    fn rejects_bad_input_naming_what_is_wrong() {
        let e = qini_coefficient(&[0.1, f64::NAN], &[true, false], &[true, false]).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::NonFinite { row: 1, .. }));
        let e = qini_coefficient(&[0.1, 0.2], &[true], &[true, false]).unwrap_err();
        assert!(matches!(
            e.kind(),
            ErrorKind::LengthMismatch {
                expected: 2,
                got: 1,
                ..
            }
        ));
        let e = qini_coefficient(&[], &[], &[]).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Empty(_)));
        let e = qini_coefficient(&[0.1, 0.2], &[true, false], &[true, true]).unwrap_err();
        assert!(matches!(
            e.kind(),
            ErrorKind::InvalidParameter {
                name: "treated",
                ..
            }
        ));
        let e = qini_coefficient(&[0.1, 0.2], &[false, false], &[true, false]).unwrap_err();
        assert!(matches!(
            e.kind(),
            ErrorKind::InvalidParameter {
                name: "retained",
                ..
            }
        ));
        for k in [0.0, 1.5, f64::NAN] {
            let e = uplift_at_k(
                &[0.1, 0.2],
                &[true, false],
                &[true, false],
                k,
                UpliftStrategy::Overall,
            )
            .unwrap_err();
            assert!(matches!(
                e.kind(),
                ErrorKind::InvalidParameter { name: "k", .. }
            ));
        }
        // Top 25% of 4 = 1 customer: no control among it.
        let e = uplift_at_k(
            &[0.9, 0.2, 0.1, 0.0],
            &[true; 4],
            &[true, false, true, false],
            0.25,
            UpliftStrategy::Overall,
        )
        .unwrap_err();
        assert!(e.to_string().contains("no control"), "{e}");
        let e = uplift_by_bins(
            &[0.1, 0.2],
            &[true, false],
            &[true, false],
            3,
            UpliftStrategy::Overall,
        )
        .unwrap_err();
        assert!(matches!(
            e.kind(),
            ErrorKind::InvalidParameter { name: "bins", .. }
        ));
    }

    #[test]
    fn report_collects_the_metrics_and_round_trips() {
        let (s, y, t) = fixture();
        let r = UpliftReport::compute(&s, &y, &t).unwrap();
        assert_eq!((r.n, r.n_treated, r.n_control), (1000, 481, 519));
        assert_eq!(r.qini_coefficient, qini_coefficient(&s, &y, &t).unwrap());
        assert_eq!(
            r.uplift_at_30pct,
            Some(uplift_at_k(&s, &y, &t, 0.3, UpliftStrategy::Overall).unwrap())
        );
        assert_eq!(r.deciles.len(), 10);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<UpliftReport>(&json).unwrap(), r);
    }

    proptest::proptest! {
        /// Bands partition the customers, rates are in [0, 1], and the curves
        /// end at the whole population.
        #[test]
        fn bins_partition_and_rates_are_probabilities(
            rows in proptest::collection::vec((0u8..20, proptest::bool::ANY, proptest::bool::ANY), 4..120),
            bins in 1usize..8,
        ) {
            let s: Vec<f64> = rows.iter().map(|r| f64::from(r.0) / 10.0).collect();
            let y: Vec<bool> = rows.iter().map(|r| r.1).collect();
            let t: Vec<bool> = rows.iter().map(|r| r.2).collect();
            let n_t = t.iter().filter(|&&x| x).count();
            proptest::prop_assume!(n_t > 0 && n_t < t.len() && bins <= t.len());
            let out = uplift_by_bins(&s, &y, &t, bins, UpliftStrategy::Overall).unwrap();
            proptest::prop_assert_eq!(out.iter().map(|b| b.n).sum::<u64>(), t.len() as u64);
            proptest::prop_assert_eq!(out.iter().map(|b| b.n_treated).sum::<u64>(), n_t as u64);
            for b in &out {
                for r in [b.rate_treated, b.rate_control].into_iter().flatten() {
                    proptest::prop_assert!((0.0..=1.0).contains(&r));
                }
                if let Some(u) = b.uplift {
                    proptest::prop_assert!((-1.0..=1.0).contains(&u));
                }
            }
            let q = qini_curve(&s, &y, &t).unwrap();
            proptest::prop_assert_eq!(q.last().map(|p| p.targeted), Some(t.len() as u64));
        }
    }
}
