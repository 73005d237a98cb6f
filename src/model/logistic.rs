//! Penalized logistic regression solved to its exact optimum.

use std::borrow::Cow;

use ndarray::{Array1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::linalg::{cholesky, solve_factored};
use super::linear::{Linear, dot};
use super::link::{exp_non_positive, sigmoid, sigmoid_in_place};
use super::standardize::{FittedStandardizer, Standardizer};
use crate::features::{FeatureTable, TrainingSet};
use crate::{Error, ErrorKind, Result};

/// The penalty on the coefficients (never on the intercept).
///
/// # Formula
///
/// ```text
/// minimize  Σᵢ sᵢ · logloss(yᵢ, σ(b + xᵢ·w))  +  alpha · (l1_ratio · ‖w‖₁ + ½ (1 − l1_ratio) · ‖w‖²)
/// ```
///
/// on standardized features, with `sᵢ` the sample × class weights. `L2` is
/// `l1_ratio = 0`, `L1` is `l1_ratio = 1`. scikit-learn minimizes `C · Σ
/// loss + penalty`, the same optimum for `alpha = 1 / C`.
///
/// # Example
///
/// ```
/// use churnwise::model::Penalty;
///
/// let p: Penalty = serde_json::from_str(r#"{"type":"elastic_net","alpha":100.0,"l1_ratio":0.5}"#).unwrap();
/// assert_eq!(p, Penalty::ElasticNet { alpha: 100.0, l1_ratio: 0.5 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Penalty {
    /// No penalty (maximum likelihood); fails on separable data.
    None,
    /// Ridge: `½ · alpha · ‖w‖²`.
    L2 {
        /// Strength, ≥ 0 (scikit-learn's `1 / C`).
        alpha: f64,
    },
    /// Lasso: `alpha · ‖w‖₁`, for sparse models.
    L1 {
        /// Strength, ≥ 0.
        alpha: f64,
    },
    /// Elastic net: `alpha · (l1_ratio · ‖w‖₁ + ½ (1 − l1_ratio) · ‖w‖²)`.
    ElasticNet {
        /// Strength, ≥ 0.
        alpha: f64,
        /// Share of L1, in [0, 1].
        l1_ratio: f64,
    },
}

impl Penalty {
    /// `(l1, l2)`: the objective adds `l1 · ‖w‖₁ + ½ · l2 · ‖w‖²`.
    fn parts(self) -> (f64, f64) {
        match self {
            Penalty::None => (0.0, 0.0),
            Penalty::L2 { alpha } => (0.0, alpha),
            Penalty::L1 { alpha } => (alpha, 0.0),
            Penalty::ElasticNet { alpha, l1_ratio } => (alpha * l1_ratio, alpha * (1.0 - l1_ratio)),
        }
    }
}

/// How to weight the classes.
///
/// # Example
///
/// ```
/// use churnwise::model::ClassWeight;
///
/// assert_eq!(ClassWeight::default(), ClassWeight::None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClassWeight {
    /// Every row weighs 1 (times its sample weight).
    #[default]
    None,
    /// `n / (2 · count(class))`, as scikit-learn's `"balanced"`.
    Balanced,
    /// Explicit weights for non-churners and churners.
    Custom {
        /// Weight of rows labelled `false`.
        negative: f64,
        /// Weight of rows labelled `true`.
        positive: f64,
    },
}

/// Logistic regression configuration. [`fit`](Self::fit) standardizes the
/// features, solves to the exact optimum and returns a [`FittedLogisticRegression`].
///
/// Smooth penalties (none, L2) are solved by Newton's method with a
/// Cholesky factorization of the (d + 1) × (d + 1) Hessian; L1 and elastic
/// net by proximal Newton (coordinate descent on each quadratic model).
/// Both use a backtracking line search and stop when the largest gradient
/// (or optimality-condition) component divided by the total weight is at
/// most `tolerance`. The passes over the rows run on all rayon threads, in
/// fixed chunks summed in order, so results do not depend on the thread count.
///
/// # Example
///
/// ```
/// use churnwise::features::{FeatureTable, TrainingSet};
/// use churnwise::model::LogisticRegression;
/// use ndarray::array;
///
/// let x = FeatureTable::new(
///     (0..6u64).map(Into::into).collect(),
///     vec!["recency_days".into()],
///     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
/// )?;
/// let train = TrainingSet::new(x, array![false, false, true, false, true, true])?;
/// let model = LogisticRegression::new().c(1.0)?.fit(&train)?;
/// assert!(model.raw_coefficients()[0] > 0.0); // longer since the last order, more churn
/// let p = model.predict_proba(array![[3.0], [180.0]].view())?;
/// assert!(p[0] < 0.5 && p[1] > 0.5);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogisticRegression {
    penalty: Penalty,
    fit_intercept: bool,
    class_weight: ClassWeight,
    max_iterations: u32,
    tolerance: f64,
}

impl Default for LogisticRegression {
    fn default() -> Self {
        LogisticRegression {
            penalty: Penalty::L2 { alpha: 1.0 },
            fit_intercept: true,
            class_weight: ClassWeight::None,
            max_iterations: 100,
            tolerance: 1e-10,
        }
    }
}

impl LogisticRegression {
    /// L2 with `alpha = 1` (scikit-learn's default `C = 1`), an intercept,
    /// no class weights, 100 iterations, tolerance `1e-10`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::{LogisticRegression, Penalty};
    ///
    /// let config = LogisticRegression::new();
    /// assert_eq!(config.penalty_kind(), Penalty::L2 { alpha: 1.0 });
    /// assert!(config.validate().is_ok());
    /// ```
    pub fn new() -> Self {
        LogisticRegression::default()
    }

    /// The penalty. Defaults to `Penalty::L2 { alpha: 1.0 }`.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// // A strong lasso penalty removes the only feature.
    /// let sparse = LogisticRegression::new().penalty(Penalty::L1 { alpha: 10.0 }).fit(&train)?;
    /// assert_eq!(sparse.coefficients(), [0.0]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn penalty(mut self, penalty: Penalty) -> Self {
        self.penalty = penalty;
        self
    }

    /// Sets the penalty strength from scikit-learn's `C` (`alpha = 1 / C`),
    /// keeping the penalty's kind (L2 if there is none; `C = ∞` means no penalty).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `c` unless `C > 0` (∞ allowed).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::{LogisticRegression, Penalty};
    ///
    /// assert_eq!(LogisticRegression::new().c(4.0)?.penalty_kind(), Penalty::L2 { alpha: 0.25 });
    /// assert_eq!(LogisticRegression::new().c(f64::INFINITY)?.penalty_kind(), Penalty::None);
    /// assert!(LogisticRegression::new().c(0.0).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn c(mut self, c: f64) -> Result<Self> {
        if c.is_nan() || c <= 0.0 {
            return Err(Error::invalid_parameter(
                "c",
                format!("must be > 0, got {c}"),
            ));
        }
        if c.is_infinite() {
            self.penalty = Penalty::None;
            return Ok(self);
        }
        let alpha = 1.0 / c;
        self.penalty = match self.penalty {
            Penalty::None | Penalty::L2 { .. } => Penalty::L2 { alpha },
            Penalty::L1 { .. } => Penalty::L1 { alpha },
            Penalty::ElasticNet { l1_ratio, .. } => Penalty::ElasticNet { alpha, l1_ratio },
        };
        Ok(self)
    }

    /// Whether to fit an intercept. Defaults to `true`.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// let model = LogisticRegression::new().fit_intercept(false).fit(&train)?;
    /// assert_eq!(model.intercept(), 0.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit_intercept(mut self, fit: bool) -> Self {
        self.fit_intercept = fit;
        self
    }

    /// Class weights. Defaults to [`ClassWeight::None`].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// // Weighting churners up raises every predicted churn probability.
    /// let plain = LogisticRegression::new().fit(&train)?;
    /// let custom = ClassWeight::Custom { negative: 1.0, positive: 5.0 };
    /// let weighted = LogisticRegression::new().class_weight(custom).fit(&train)?;
    /// assert!(weighted.predict_proba(x.values())?[0] > plain.predict_proba(x.values())?[0]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn class_weight(mut self, weight: ClassWeight) -> Self {
        self.class_weight = weight;
        self
    }

    /// The most solver iterations. Defaults to 100 (Newton converges in about 10).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// let model = LogisticRegression::new().max_iterations(50).fit(&train)?;
    /// assert!(model.iterations() <= 50);
    /// assert!(LogisticRegression::new().max_iterations(0).validate().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn max_iterations(mut self, n: u32) -> Self {
        self.max_iterations = n;
        self
    }

    /// Convergence tolerance on the largest gradient component per unit of
    /// total weight. Defaults to `1e-10`.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// let model = LogisticRegression::new().tolerance(1e-6).fit(&train)?;
    /// assert!(model.raw_coefficients()[0] > 0.0);
    /// assert!(LogisticRegression::new().tolerance(0.0).validate().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn tolerance(mut self, tol: f64) -> Self {
        self.tolerance = tol;
        self
    }

    /// The penalty.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::{LogisticRegression, Penalty};
    ///
    /// let config = LogisticRegression::new().penalty(Penalty::None);
    /// assert_eq!(config.penalty_kind(), Penalty::None);
    /// ```
    pub fn penalty_kind(&self) -> Penalty {
        self.penalty
    }

    /// Checks the parameters.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming the first bad parameter: a
    /// negative or non-finite `alpha`, `l1_ratio` outside [0, 1], non-positive
    /// class weights, zero `max_iterations`, a tolerance not in (0, 1).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::{LogisticRegression, Penalty};
    ///
    /// assert!(LogisticRegression::new().validate().is_ok());
    /// let bad = LogisticRegression::new().penalty(Penalty::ElasticNet { alpha: 1.0, l1_ratio: 2.0 });
    /// assert!(bad.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        let alpha = match self.penalty {
            Penalty::None => 0.0,
            Penalty::L2 { alpha } | Penalty::L1 { alpha } => alpha,
            Penalty::ElasticNet { alpha, l1_ratio } => {
                if !(0.0..=1.0).contains(&l1_ratio) {
                    return Err(Error::invalid_parameter(
                        "l1_ratio",
                        format!("must be in [0, 1], got {l1_ratio}"),
                    ));
                }
                alpha
            }
        };
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(Error::invalid_parameter(
                "alpha",
                format!("must be finite and >= 0, got {alpha}"),
            ));
        }
        if let ClassWeight::Custom { negative, positive } = self.class_weight
            && !(negative.is_finite() && negative > 0.0 && positive.is_finite() && positive > 0.0)
        {
            return Err(Error::invalid_parameter(
                "class_weight",
                format!("weights must be finite and > 0, got {negative} and {positive}"),
            ));
        }
        if self.max_iterations == 0 {
            return Err(Error::invalid_parameter(
                "max_iterations",
                "must be at least 1, got 0",
            ));
        }
        if !(self.tolerance > 0.0 && self.tolerance < 1.0) {
            return Err(Error::invalid_parameter(
                "tolerance",
                format!("must be in (0, 1), got {}", self.tolerance),
            ));
        }
        Ok(())
    }

    /// Fits on a training set.
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate); [`ErrorKind::Empty`] without
    /// rows; [`ErrorKind::SingleClass`] if every label is the same;
    /// [`ErrorKind::NotConverged`] if the solver does not reach the tolerance;
    /// [`ErrorKind::Fit`] for an unpenalized fit of perfectly separable data,
    /// whose optimum is at infinity.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// let model = LogisticRegression::new().fit(&train)?;
    /// assert_eq!(model.feature_names(), ["recency_days"]);
    /// let one_class = TrainingSet::new(x, ndarray::Array1::from_elem(6, true))?;
    /// assert!(LogisticRegression::new().fit(&one_class).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit(&self, data: &TrainingSet) -> Result<FittedLogisticRegression> {
        self.validate()?;
        let table = data.features();
        let labels = data.labels();
        let n = labels.len();
        if n == 0 {
            return Err(
                ErrorKind::Empty("cannot fit on a training set without rows".into()).into(),
            );
        }
        let positives = labels.iter().filter(|&&l| l).count();
        if positives == 0 || positives == n {
            return Err(ErrorKind::SingleClass {
                class: positives == n,
            }
            .into());
        }
        let standardizer = Standardizer::new().fit(table.values())?;
        let raw = table.values();
        let scales = standardizer.scales();
        let problem = Problem {
            x: match raw.as_slice() {
                Some(x) => Cow::Borrowed(x),
                None => Cow::Owned(raw.iter().copied().collect()),
            },
            n,
            means: standardizer.means().to_vec(),
            // 0 for constant columns: they standardize to exactly 0.
            inv_scales: scales
                .iter()
                .enumerate()
                .map(|(j, s)| {
                    if standardizer.constant_columns().contains(&j) {
                        0.0
                    } else {
                        1.0 / s
                    }
                })
                .collect(),
            y: labels.to_vec(),
            s: self.row_weights(labels, data.weights(), positives),
            intercept: self.fit_intercept,
            constant: standardizer.constant_columns(),
        };
        let (l1, l2) = self.penalty.parts();
        let solution = problem.solve(l1, l2, self.max_iterations, self.tolerance)?;
        if l1 == 0.0 && l2 == 0.0 && problem.separates(&solution) {
            return Err(ErrorKind::Fit {
                what: "logistic regression",
                message: "the classes are perfectly separable, so the unpenalized optimum is at infinity; use a penalty".into(),
            }
            .into());
        }
        Ok(FittedLogisticRegression::new(
            self.clone(),
            table.names().to_vec(),
            standardizer,
            solution,
        ))
    }

    fn row_weights(
        &self,
        labels: &Array1<bool>,
        sample: Option<&Array1<f64>>,
        positives: usize,
    ) -> Vec<f64> {
        let n = labels.len() as f64;
        let (neg, pos) = match self.class_weight {
            ClassWeight::None => (1.0, 1.0),
            ClassWeight::Balanced => (
                n / (2.0 * (n - positives as f64)),
                n / (2.0 * positives as f64),
            ),
            ClassWeight::Custom { negative, positive } => (negative, positive),
        };
        labels
            .iter()
            .enumerate()
            .map(|(i, &l)| (if l { pos } else { neg }) * sample.map_or(1.0, |s| s[i]))
            .collect()
    }
}

/// Rows per chunk of the parallel passes: fixed, so sums do not depend on the thread count.
const CHUNK: usize = 4096;

/// Above twice this many rows, the solver first fits an evenly spaced
/// subsample of about this size to start near the optimum.
const SUBSAMPLE: usize = 50_000;

/// The data of one fit: the raw features (row-major, borrowed from the
/// table) and their standardization, applied block by block as the passes
/// transpose rows into columns; no standardized copy of the data is made.
struct Problem<'a> {
    x: Cow<'a, [f64]>,
    n: usize,
    means: Vec<f64>,
    inv_scales: Vec<f64>,
    y: Vec<bool>,
    s: Vec<f64>,
    intercept: bool,
    constant: Vec<usize>,
}

/// Rows per block inside a chunk: a block of every column fits in L1 cache.
const BLOCK: usize = 128;

/// Coefficients on the standardized scale, and how the solver got there.
/// Where the solver starts: coefficients, and optionally a Hessian (from a
/// subsample, its weights scaled up) to precondition the first steps.
#[derive(Clone)]
struct Start {
    w: Vec<f64>,
    b: f64,
    hess: Option<Vec<f64>>,
}

struct Solution {
    w: Vec<f64>,
    b: f64,
    iterations: u32,
}

/// What a pass computes besides the gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Gradient,
    Loss,
    Hessian,
}

/// Gradient, and loss or Hessian, of the objective at one point.
struct Pass {
    /// NaN unless computed.
    loss: f64,
    /// d + 1 entries; the last is the intercept.
    grad: Vec<f64>,
    /// (d + 1)², row-major, upper and lower filled.
    hess: Vec<f64>,
}

/// One chunk of rows of [`Problem::pass`], accumulated into `pass`.
struct ChunkPass<'p, 'a> {
    problem: &'p Problem<'a>,
    w: &'p [f64],
    b: f64,
    want: Want,
    rows: std::ops::Range<usize>,
    pass: Pass,
}

impl pulp::WithSimd for ChunkPass<'_, '_> {
    type Output = Pass;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Pass {
        let ChunkPass {
            problem,
            w,
            b,
            want,
            rows,
            pass: mut p,
        } = self;
        let (hessian, with_loss) = (want == Want::Hessian, want == Want::Loss);
        let d = problem.dim();
        let m = d + 1;
        let (mut z, mut r, mut q, mut t, mut e) = (
            [0.0; BLOCK],
            [0.0; BLOCK],
            [0.0; BLOCK],
            [0.0; BLOCK],
            [0.0; BLOCK],
        );
        let mut buf = vec![0.0; d * BLOCK];
        for start in rows.clone().step_by(BLOCK) {
            let len = BLOCK.min(rows.end - start);
            problem.block(start, len, &mut buf);
            let col = |j: usize| &buf[j * BLOCK..j * BLOCK + len];
            let (z, r, q, t, e) = (
                &mut z[..len],
                &mut r[..len],
                &mut q[..len],
                &mut t[..len],
                &mut e[..len],
            );
            z.fill(b);
            for (j, wj) in w.iter().enumerate() {
                for (zi, x) in z.iter_mut().zip(col(j)) {
                    *zi += wj * x;
                }
            }
            // One exponential serves both σ(z) and log(1 + eᶻ); a loop of its own vectorizes.
            for (ei, zi) in e.iter_mut().zip(z.iter()) {
                *ei = exp_non_positive(-zi.abs());
            }
            for k in 0..len {
                let (zi, ei) = (z[k], e[k]);
                let i = start + k;
                let prob = if zi >= 0.0 {
                    1.0 / (1.0 + ei)
                } else {
                    ei / (1.0 + ei)
                };
                let (yi, si) = (f64::from(u8::from(problem.y[i])), problem.s[i]);
                if with_loss {
                    p.loss += si * (zi.max(0.0) + ei.ln_1p() - yi * zi);
                }
                r[k] = si * (prob - yi);
                q[k] = si * prob * (1.0 - prob);
            }
            for j in 0..d {
                p.grad[j] += dot(col(j), r);
            }
            p.grad[d] += r.iter().sum::<f64>();
            if hessian {
                for j in 0..d {
                    for ((ti, x), qi) in t.iter_mut().zip(col(j)).zip(q.iter()) {
                        *ti = x * qi;
                    }
                    for k in 0..=j {
                        p.hess[j * m + k] += dot(t, col(k));
                    }
                    p.hess[d * m + j] += t.iter().sum::<f64>();
                }
                p.hess[d * m + d] += q.iter().sum::<f64>();
            }
        }
        p
    }
}

impl Problem<'_> {
    fn dim(&self) -> usize {
        self.means.len()
    }

    /// Rows `start..start + len`, standardized, column by column into `buf`
    /// (`buf[j * BLOCK + k]`).
    fn block(&self, start: usize, len: usize, buf: &mut [f64]) {
        let d = self.dim();
        for k in 0..len {
            let row = &self.x[(start + k) * d..(start + k + 1) * d];
            for j in 0..d {
                buf[j * BLOCK + k] = (row[j] - self.means[j]) * self.inv_scales[j];
            }
        }
    }

    fn total_weight(&self) -> f64 {
        self.s.iter().sum()
    }

    /// The gradient of the unpenalized objective at (w, b), plus its value or
    /// its Hessian as asked: chunks of rows in parallel, each in blocks over
    /// which every column is contiguous. (The loss costs a logarithm per row,
    /// so it is computed only when a line search needs it.)
    fn pass(&self, w: &[f64], b: f64, want: Want) -> Pass {
        let hessian = want == Want::Hessian;
        let with_loss = want == Want::Loss;
        let (n, d) = (self.n, self.dim());
        let m = d + 1;
        let empty = || Pass {
            loss: if with_loss { 0.0 } else { f64::NAN },
            grad: vec![0.0; m],
            hess: if hessian {
                vec![0.0; m * m]
            } else {
                Vec::new()
            },
        };
        let partials: Vec<Pass> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                // Compiled for each SIMD level and dispatched at run time; the
                // same operations in the same order at every level.
                pulp::Arch::new().dispatch(ChunkPass {
                    problem: self,
                    w,
                    b,
                    want,
                    rows: c * CHUNK..((c + 1) * CHUNK).min(n),
                    pass: empty(),
                })
            })
            .collect();
        let mut total = empty();
        for p in partials {
            total.loss += p.loss;
            total
                .grad
                .iter_mut()
                .zip(&p.grad)
                .for_each(|(a, b)| *a += b);
            total
                .hess
                .iter_mut()
                .zip(&p.hess)
                .for_each(|(a, b)| *a += b);
        }
        if hessian {
            for j in 0..m {
                for k in 0..j {
                    total.hess[k * m + j] = total.hess[j * m + k];
                }
            }
        }
        total
    }

    /// Adds the L2 part, pins constant columns and (without intercept) the intercept.
    fn regularize(&self, pass: &mut Pass, w: &[f64], l2: f64) {
        let d = self.dim();
        let m = d + 1;
        pass.loss += 0.5 * l2 * w.iter().map(|v| v * v).sum::<f64>();
        let hessian = !pass.hess.is_empty();
        for (j, wj) in w.iter().enumerate() {
            pass.grad[j] += l2 * wj;
            if hessian {
                pass.hess[j * m + j] += l2;
            }
        }
        // Constant columns (all 0 after standardization) and an absent
        // intercept get a unit curvature and zero gradient: their step is 0.
        let pinned = self
            .constant
            .iter()
            .copied()
            .chain((!self.intercept).then_some(d));
        for j in pinned {
            pass.grad[j] = 0.0;
            if !hessian {
                continue;
            }
            for k in 0..m {
                pass.hess[j * m + k] = 0.0;
                pass.hess[k * m + j] = 0.0;
            }
            pass.hess[j * m + j] = 1.0;
        }
    }

    /// Whether the solution classifies every row with certainty (the mark of
    /// separable data, where the unpenalized solver only stops because the
    /// gradient underflows).
    fn separates(&self, s: &Solution) -> bool {
        let d = self.dim();
        (0..self.n).into_par_iter().all(|i| {
            let row = &self.x[i * d..(i + 1) * d];
            let z = s.b
                + (0..d)
                    .map(|j| s.w[j] * (row[j] - self.means[j]) * self.inv_scales[j])
                    .sum::<f64>();
            let p = sigmoid(z);
            (if self.y[i] { 1.0 - p } else { p }) < 1e-6
        })
    }

    /// A starting point: zeros, or for large inputs the solution on an
    /// evenly spaced subsample (weights scaled up to keep the loss/penalty
    /// balance), so the full-data iterations start near the optimum.
    fn warm_start(&self, l1: f64, l2: f64) -> Start {
        let (n, d) = (self.n, self.dim());
        let stride = n / SUBSAMPLE;
        let cold = Start {
            w: vec![0.0; d],
            b: 0.0,
            hess: None,
        };
        if stride < 2 {
            return cold;
        }
        let rows: Vec<usize> = (0..n).step_by(stride).collect();
        let sub = Problem {
            x: Cow::Owned(
                rows.iter()
                    .flat_map(|&i| self.x[i * d..(i + 1) * d].iter().copied())
                    .collect(),
            ),
            n: rows.len(),
            means: self.means.clone(),
            inv_scales: self.inv_scales.clone(),
            y: rows.iter().map(|&i| self.y[i]).collect(),
            s: rows.iter().map(|&i| self.s[i] * stride as f64).collect(),
            intercept: self.intercept,
            constant: self.constant.clone(),
        };
        // The subsample's optimum is within sampling error (~1e-3) of the
        // full one: solving it further would not bring the start closer.
        match sub.iterate(cold.clone(), l1, l2, 100, 1e-5) {
            Ok(sol) => {
                // The Hessian at the subsample's optimum preconditions the
                // full-data steps (its weights are scaled to the full size).
                let mut at_start = sub.pass(&sol.w, sol.b, Want::Hessian);
                sub.regularize(&mut at_start, &sol.w, l2);
                Start {
                    w: sol.w,
                    b: sol.b,
                    hess: Some(at_start.hess),
                }
            }
            Err(_) => cold,
        }
    }

    fn solve(&self, l1: f64, l2: f64, max_iterations: u32, tol: f64) -> Result<Solution> {
        let start = self.warm_start(l1, l2);
        self.iterate(start, l1, l2, max_iterations, tol)
    }

    /// Damped (proximal) Newton from `start`. For smooth problems the
    /// Hessian's factorization is reused while the gradient keeps shrinking
    /// fast, so late iterations cost one gradient pass (n·d) instead of a
    /// Hessian pass (n·d²/2).
    fn iterate(
        &self,
        start: Start,
        l1: f64,
        l2: f64,
        max_iterations: u32,
        tol: f64,
    ) -> Result<Solution> {
        let Start { mut w, mut b, hess } = start;
        let d = self.dim();
        let scale = self.total_weight();
        let l1_norm = |w: &[f64]| l1 * w.iter().map(|v| v.abs()).sum::<f64>();
        let evaluate = |w: &[f64], b: f64, want: Want| {
            let mut p = self.pass(w, b, want);
            self.regularize(&mut p, w, l2);
            p
        };
        let d1 = d + 1;
        // With a preconditioner, start with a cheap gradient pass.
        let mut factor = hess.as_ref().and_then(|h| cholesky(h, d1));
        let mut pass = evaluate(
            &w,
            b,
            if factor.is_some() {
                Want::Gradient
            } else {
                Want::Hessian
            },
        );
        let mut last_norm = f64::INFINITY;
        for iteration in 0..max_iterations {
            let norm = optimality(&pass.grad, &w, l1) / scale;
            if norm <= tol {
                return Ok(Solution {
                    w,
                    b,
                    iterations: iteration,
                });
            }
            // Refresh the Hessian unless the last step cut the gradient tenfold.
            if l1 > 0.0 || norm > 0.1 * last_norm || factor.is_none() {
                if pass.hess.is_empty() {
                    pass = Pass {
                        loss: pass.loss,
                        ..evaluate(&w, b, Want::Hessian)
                    };
                }
                factor = cholesky(&pass.hess, d1);
            }
            last_norm = norm;
            let Some(l) = &factor else { break };
            let target = if l1 > 0.0 {
                proximal_step(&pass, &w, b, l1)
            } else {
                let delta = solve_factored(l, &pass.grad);
                w.iter()
                    .zip(&delta)
                    .map(|(v, dv)| v - dv)
                    .chain([b - delta[d]])
                    .collect()
            };
            let dir: Vec<f64> = (0..d)
                .map(|j| target[j] - w[j])
                .chain([target[d] - b])
                .collect();
            let along = |grad: &[f64]| dir.iter().zip(grad).map(|(a, g)| a * g).sum::<f64>();
            let slope = along(&pass.grad) + l1_norm(&target[..d]) - l1_norm(&w);
            // Smooth problems: accept the full step when it shrinks the
            // gradient (the convergence measure), without evaluating the loss,
            // whose logarithms cost more than the gradient itself.
            if l1 == 0.0 {
                let trial = evaluate(&target[..d], target[d], Want::Gradient);
                if optimality(&trial.grad, &target[..d], l1) < norm * scale {
                    (w, b, pass) = (target[..d].to_vec(), target[d], trial);
                    continue;
                }
            }
            // Otherwise backtrack on the objective (Armijo).
            if pass.loss.is_nan() {
                pass.loss = evaluate(&w, b, Want::Loss).loss;
            }
            let current = pass.loss + l1_norm(&w);
            let mut step = 1.0;
            let mut accepted = None;
            for _ in 0..40 {
                let w_new: Vec<f64> = (0..d).map(|j| w[j] + step * dir[j]).collect();
                let b_new = b + step * dir[d];
                let trial = evaluate(&w_new, b_new, Want::Loss);
                let objective = trial.loss + l1_norm(&w_new);
                // Near the optimum the objective stops resolving the change
                // (its rounding exceeds the decrease): then a smaller
                // gradient decides.
                let within_rounding = objective <= current + 1e-12 * current.abs().max(1.0)
                    && optimality(&trial.grad, &w_new, l1) < norm * scale;
                if objective <= current + 1e-4 * step * slope.min(0.0) || within_rounding {
                    accepted = Some((w_new, b_new, trial));
                    break;
                }
                step *= 0.5;
            }
            match accepted {
                Some((w_new, b_new, trial)) => {
                    if step < 1.0 {
                        factor = None; // a damped step: the model was poor, refresh
                    }
                    (w, b, pass) = (w_new, b_new, trial);
                }
                // No decrease is possible at machine precision: accept if optimal enough.
                None if norm <= tol * 1e3 => {
                    return Ok(Solution {
                        w,
                        b,
                        iterations: iteration,
                    });
                }
                None => break,
            }
        }
        Err(ErrorKind::NotConverged {
            solver: if l1 > 0.0 {
                "proximal Newton"
            } else {
                "Newton"
            },
            iterations: max_iterations,
            gradient_norm: last_norm,
        }
        .into())
    }
}

/// The largest violation of the optimality conditions: the gradient for
/// smooth problems; with L1, the subgradient distance from zero.
fn optimality(grad: &[f64], w: &[f64], l1: f64) -> f64 {
    let d = w.len();
    let mut worst = grad[d].abs();
    for j in 0..d {
        let v = if l1 == 0.0 {
            grad[j].abs()
        } else if w[j] != 0.0 {
            (grad[j] + l1 * w[j].signum()).abs()
        } else {
            (grad[j].abs() - l1).max(0.0)
        };
        worst = worst.max(v);
    }
    worst
}

/// Minimizes `gᵀ(v − θ) + ½ (v − θ)ᵀ H (v − θ) + l1 ‖v_w‖₁` over `v` by cyclic
/// coordinate descent (soft-thresholding), from `θ = (w, b)`.
fn proximal_step(pass: &Pass, w: &[f64], b: f64, l1: f64) -> Vec<f64> {
    let d = w.len();
    let m = d + 1;
    let theta: Vec<f64> = w.iter().copied().chain([b]).collect();
    let mut v = theta.clone();
    // hd = H (v − θ), kept up to date.
    let mut hd = vec![0.0; m];
    for _ in 0..10_000 {
        let mut largest = 0.0f64;
        for j in 0..m {
            let a = pass.hess[j * m + j];
            let c = pass.grad[j] + hd[j] - a * (v[j] - theta[j]);
            let new = if j == d {
                theta[j] - c / a
            } else {
                let z = a * theta[j] - c;
                z.signum() * (z.abs() - l1).max(0.0) / a
            };
            let change = new - v[j];
            if change != 0.0 {
                for (k, h) in hd.iter_mut().enumerate() {
                    *h += pass.hess[k * m + j] * change;
                }
                v[j] = new;
                largest = largest.max(change.abs());
            }
        }
        if largest <= 1e-15 * (1.0 + v.iter().fold(0.0f64, |a, x| a.max(x.abs()))) {
            break;
        }
    }
    v
}

/// A fitted logistic regression: the standardizer, coefficients on both
/// scales, and the feature names it expects, in order.
///
/// # Example
///
/// See [`LogisticRegression`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedLogisticRegression {
    params: LogisticRegression,
    #[serde(flatten)]
    linear: Linear,
    iterations: u32,
}

impl FittedLogisticRegression {
    fn new(
        params: LogisticRegression,
        feature_names: Vec<String>,
        standardizer: FittedStandardizer,
        s: Solution,
    ) -> Self {
        FittedLogisticRegression {
            params,
            linear: Linear::new(feature_names, standardizer, s.w, s.b),
            iterations: s.iterations,
        }
    }

    /// The configuration it was fitted with.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// let model = LogisticRegression::new().c(10.0)?.fit(&train)?;
    /// assert_eq!(model.params(), &LogisticRegression::new().c(10.0)?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn params(&self) -> &LogisticRegression {
        &self.params
    }

    /// The feature names, in the order the coefficients follow.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// # let model = LogisticRegression::new().fit(&train)?;
    /// assert_eq!(model.feature_names(), ["recency_days"]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn feature_names(&self) -> &[String] {
        &self.linear.feature_names
    }

    /// The standardizer learned on the training features.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// # let model = LogisticRegression::new().fit(&train)?;
    /// assert_eq!(model.standardizer().means(), [77.66666666666667]); // mean recency
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn standardizer(&self) -> &FittedStandardizer {
        &self.linear.standardizer
    }

    /// Coefficients on the standardized features (comparable across features).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// # let model = LogisticRegression::new().fit(&train)?;
    /// // Per standard deviation of recency; the raw coefficient is per day.
    /// let sd = model.standardizer().scales()[0];
    /// approx::assert_relative_eq!(model.coefficients()[0], model.raw_coefficients()[0] * sd, max_relative = 1e-12);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn coefficients(&self) -> &[f64] {
        &self.linear.coefficients
    }

    /// Intercept on the standardized features.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// # let model = LogisticRegression::new().fit(&train)?;
    /// // The log-odds at the mean recency.
    /// let p_at_mean = model.predict_proba(array![[model.standardizer().means()[0]]].view())?[0];
    /// approx::assert_relative_eq!(model.intercept(), (p_at_mean / (1.0 - p_at_mean)).ln(), max_relative = 1e-9);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn intercept(&self) -> f64 {
        self.linear.intercept
    }

    /// Coefficients on the raw features: the change in log-odds per unit.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// # let model = LogisticRegression::new().fit(&train)?;
    /// assert!(model.raw_coefficients()[0] > 0.0); // each day since the last order adds churn risk
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn raw_coefficients(&self) -> &[f64] {
        &self.linear.raw_coefficients
    }

    /// Intercept on the raw features.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// # let model = LogisticRegression::new().fit(&train)?;
    /// // The log-odds at recency 0.
    /// let p0 = model.predict_proba(array![[0.0]].view())?[0];
    /// approx::assert_relative_eq!(model.raw_intercept(), (p0 / (1.0 - p0)).ln(), max_relative = 1e-9);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn raw_intercept(&self) -> f64 {
        self.linear.raw_intercept
    }

    /// Solver iterations used.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// # let model = LogisticRegression::new().fit(&train)?;
    /// assert!(model.iterations() >= 1 && model.iterations() <= 100);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Churn probabilities for raw feature rows (columns in [`feature_names`](Self::feature_names) order).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if the column count differs;
    /// [`ErrorKind::NonFinite`] for a row whose values are so extreme that
    /// the log-odds overflow to +∞ and −∞ at once (e.g. ±1e308).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// # let model = LogisticRegression::new().fit(&train)?;
    /// let p = model.predict_proba(array![[3.0], [180.0]].view())?;
    /// assert!(p[0] < 0.5 && p[1] > 0.5);
    /// assert!(model.predict_proba(array![[3.0, 1.0]].view()).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        self.linear.apply(x, sigmoid_in_place).map(Array1::from)
    }

    /// One row's churn probability (raw values in feature order), computed
    /// exactly as [`predict_proba`](Self::predict_proba) computes each row,
    /// without allocating. The caller checks the length.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NonFinite`] as for [`predict_proba`](Self::predict_proba).
    pub(crate) fn predict_proba_one(&self, values: &[f64]) -> Result<f64> {
        let p = sigmoid(self.raw_intercept() + dot(values, self.raw_coefficients()));
        if p.is_nan() {
            return Err(self.linear.overflow(0, values));
        }
        Ok(p)
    }

    /// Churn probabilities for a feature table, whose columns are matched by name.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] if the table lacks a feature the model uses.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     (0..6u64).map(Into::into).collect(),
    /// #     vec!["recency_days".into()],
    /// #     array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    /// # )?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, true])?;
    /// # let model = LogisticRegression::new().fit(&train)?;
    /// assert_eq!(model.predict_proba_table(&x)?, model.predict_proba(x.values())?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn predict_proba_table(&self, table: &FeatureTable) -> Result<Array1<f64>> {
        let selected = table.select(&self.linear.feature_names)?;
        self.predict_proba(selected.values())
    }
}
