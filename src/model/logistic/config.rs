//! The logistic regression configuration: penalty, class weights, solver
//! limits, and its validation.

use std::borrow::Cow;

use ndarray::Array1;
use serde::{Deserialize, Serialize};

use super::fitted::FittedLogisticRegression;
use super::solver::Problem;
use crate::features::TrainingSet;
use crate::model::Intercept;
use crate::model::standardize::Standardizer;
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
/// let model = LogisticRegression::new().c(1.0).fit(&train)?;
/// assert!(model.raw_coefficients()[0] > 0.0); // longer since the last order, more churn
/// let p = model.predict_proba(array![[3.0], [180.0]].view())?;
/// assert!(p[0] < 0.5 && p[1] > 0.5);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogisticRegression {
    penalty: Penalty,
    intercept: Intercept,
    class_weight: ClassWeight,
    max_iterations: u32,
    tolerance: f64,
}

impl Default for LogisticRegression {
    fn default() -> Self {
        LogisticRegression {
            penalty: Penalty::L2 { alpha: 1.0 },
            intercept: Intercept::Fit,
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
    /// assert_eq!(config.penalty_value(), Penalty::L2 { alpha: 1.0 });
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
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let train = churnwise::doc_support::recency_set()?;
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
    /// keeping the penalty's kind (L2 if there is none; `C = ∞` means no
    /// penalty). Must be > 0 (∞ allowed): [`validate`](Self::validate)
    /// rejects the `alpha` that a zero, negative or NaN `C` gives.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::{LogisticRegression, Penalty};
    ///
    /// assert_eq!(LogisticRegression::new().c(4.0).penalty_value(), Penalty::L2 { alpha: 0.25 });
    /// assert_eq!(LogisticRegression::new().c(f64::INFINITY).penalty_value(), Penalty::None);
    /// assert!(LogisticRegression::new().c(0.0).validate().is_err());
    /// ```
    pub fn c(mut self, c: f64) -> Self {
        if c == f64::INFINITY {
            self.penalty = Penalty::None;
            return self;
        }
        // C ≤ 0 or NaN has no alpha: NaN, which `validate` rejects.
        let alpha = if c > 0.0 { 1.0 / c } else { f64::NAN };
        self.penalty = match self.penalty {
            Penalty::None | Penalty::L2 { .. } => Penalty::L2 { alpha },
            Penalty::L1 { .. } => Penalty::L1 { alpha },
            Penalty::ElasticNet { l1_ratio, .. } => Penalty::ElasticNet { alpha, l1_ratio },
        };
        self
    }

    /// Whether to fit an intercept. Defaults to [`Intercept::Fit`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::{Intercept, LogisticRegression};
    /// # let train = churnwise::doc_support::recency_set()?;
    /// let model = LogisticRegression::new().intercept(Intercept::None).fit(&train)?;
    /// assert_eq!(model.intercept(), 0.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn intercept(mut self, intercept: Intercept) -> Self {
        self.intercept = intercept;
        self
    }

    /// Class weights. Defaults to [`ClassWeight::None`].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let train = churnwise::doc_support::recency_set()?;
    /// # let x = train.features().clone();
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
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let train = churnwise::doc_support::recency_set()?;
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
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let train = churnwise::doc_support::recency_set()?;
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
    /// assert_eq!(config.penalty_value(), Penalty::None);
    /// ```
    pub fn penalty_value(&self) -> Penalty {
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
                format!("must be finite and >= 0 (C > 0 for `c`), got {alpha}"),
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
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let train = churnwise::doc_support::recency_set()?;
    /// let model = LogisticRegression::new().fit(&train)?;
    /// assert_eq!(model.feature_names(), ["recency_days"]);
    /// let one_class = churnwise::features::TrainingSet::new(train.features().clone(), ndarray::Array1::from_elem(6, true))?;
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
        let s = self.row_weights(labels, data.weights(), positives);
        // Rows of weight 0 do not count: all-zero weights leave nothing to
        // fit, and zero weight on one class leaves a single class.
        let weight_of = |class: bool| -> f64 {
            s.iter()
                .zip(labels)
                .filter(|(_, l)| **l == class)
                .map(|(w, _)| w)
                .sum()
        };
        let (churned, stayed) = (weight_of(true), weight_of(false));
        if churned + stayed <= 0.0 {
            return Err(ErrorKind::Fit {
                what: "logistic regression",
                message: "the sample weights sum to zero: at least one row must weigh more than 0"
                    .into(),
            }
            .into());
        }
        if churned <= 0.0 || stayed <= 0.0 {
            return Err(ErrorKind::SingleClass {
                class: churned > 0.0,
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
            s,
            intercept: self.intercept == Intercept::Fit,
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn zero_weights_are_named_not_a_newton_failure() {
        let set = crate::doc_support::recency_set().unwrap();
        let zero = set.clone().with_weights(ndarray::Array1::zeros(6)).unwrap();
        let err = LogisticRegression::new().fit(&zero).unwrap_err();
        assert_eq!(
            err.to_string(),
            "fitting logistic regression failed: the sample weights sum to zero: at least one row must weigh more than 0"
        );
        // Zero weight on every churner: one class is left.
        let one_class = set
            .with_weights(array![1.0, 1.0, 0.0, 1.0, 0.0, 0.0])
            .unwrap();
        let err = LogisticRegression::new().fit(&one_class).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::SingleClass { class: false }
        ));
    }
}
