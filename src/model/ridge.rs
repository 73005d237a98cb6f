//! Ridge regression for value forecasting (e.g. next-90-day spend).

use ndarray::{Array1, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::linalg::cholesky_solve;
use super::linear::{Intercept, Linear};
use super::logistic::kernel::dot;
use super::standardize::{FittedStandardizer, Standardizer};
use crate::features::FeatureTable;
use crate::{Error, ErrorKind, Result};

/// Ridge regression configuration: least squares with an L2 penalty on
/// standardized features, solved exactly (normal equations, Cholesky).
///
/// # Formula
///
/// ```text
/// minimize  Σᵢ sᵢ (yᵢ − b − xᵢ·w)²  +  alpha · ‖w‖²      (x standardized, b unpenalized)
/// ```
///
/// This is scikit-learn's `Ridge(alpha)` after `StandardScaler`.
///
/// # Example
///
/// ```
/// use churnwise::features::FeatureTable;
/// use churnwise::model::RidgeRegression;
/// use ndarray::array;
///
/// let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["spend_90d".into()], array![[0.0], [1.0], [2.0], [3.0]])?;
/// let y = array![1.0, 3.0, 5.0, 7.0];
/// let model = RidgeRegression::new().alpha(0.0).fit(&x, y.view(), None)?;
/// approx::assert_abs_diff_eq!(model.raw_coefficients()[0], 2.0, epsilon = 1e-12);
/// approx::assert_abs_diff_eq!(model.raw_intercept(), 1.0, epsilon = 1e-12);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RidgeRegression {
    alpha: f64,
    intercept: Intercept,
}

impl Default for RidgeRegression {
    fn default() -> Self {
        RidgeRegression {
            alpha: 1.0,
            intercept: Intercept::Fit,
        }
    }
}

impl RidgeRegression {
    /// `alpha = 1`, with an intercept.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::{Intercept, RidgeRegression};
    ///
    /// assert_eq!(RidgeRegression::new(), RidgeRegression::new().alpha(1.0).intercept(Intercept::Fit));
    /// ```
    pub fn new() -> Self {
        RidgeRegression::default()
    }

    /// The penalty strength. Defaults to 1. Must be finite and ≥ 0
    /// (checked by [`validate`](Self::validate)).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::model::RidgeRegression;
    /// # use ndarray::array;
    /// # // y = 1 + 2x exactly.
    /// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["spend_90d".into()], array![[0.0], [1.0], [2.0], [3.0]])?;
    /// # let y = array![1.0, 3.0, 5.0, 7.0];
    /// # let model = RidgeRegression::new().alpha(0.0).fit(&x, y.view(), None)?;
    /// // A penalty shrinks the slope below the exact 2.
    /// let shrunk = RidgeRegression::new().alpha(10.0).fit(&x, y.view(), None)?;
    /// assert!(shrunk.raw_coefficients()[0] < model.raw_coefficients()[0]);
    /// assert!(RidgeRegression::new().alpha(-1.0).validate().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Whether to fit an intercept. Defaults to [`Intercept::Fit`].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::model::{Intercept, RidgeRegression};
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["spend_90d".into()], array![[0.0], [1.0], [2.0], [3.0]])?;
    /// # let y = array![1.0, 3.0, 5.0, 7.0];
    /// let through_zero = RidgeRegression::new().alpha(0.0).intercept(Intercept::None).fit(&x, y.view(), None)?;
    /// assert_eq!(through_zero.intercept(), 0.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn intercept(mut self, intercept: Intercept) -> Self {
        self.intercept = intercept;
        self
    }

    /// Checks the parameters.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `alpha` unless it is finite and ≥ 0.
    pub fn validate(&self) -> Result<()> {
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(Error::invalid_parameter(
                "alpha",
                format!("must be finite and >= 0, got {}", self.alpha),
            ));
        }
        Ok(())
    }

    /// Fits `y` on the table's features, with optional sample weights.
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate); [`ErrorKind::LengthMismatch`] if `y` or the weights do not have one
    /// entry per row; [`ErrorKind::Empty`] without rows;
    /// [`ErrorKind::NonFinite`] for a NaN target; [`ErrorKind::Fit`] if the
    /// system is singular (no penalty and collinear features).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::model::RidgeRegression;
    /// # use ndarray::array;
    /// # // y = 1 + 2x exactly.
    /// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["spend_90d".into()], array![[0.0], [1.0], [2.0], [3.0]])?;
    /// # let y = array![1.0, 3.0, 5.0, 7.0];
    /// # let model = RidgeRegression::new().alpha(0.0).fit(&x, y.view(), None)?;
    /// approx::assert_abs_diff_eq!(model.raw_coefficients()[0], 2.0, epsilon = 1e-12);
    /// // Weights: a zero weight ignores a row.
    /// let weighted = RidgeRegression::new().fit(&x, y.view(), Some(array![1.0, 1.0, 0.0, 1.0].view()))?;
    /// assert_eq!(weighted.feature_names(), ["spend_90d"]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit(
        &self,
        table: &FeatureTable,
        y: ArrayView1<'_, f64>,
        weights: Option<ArrayView1<'_, f64>>,
    ) -> Result<FittedRidgeRegression> {
        self.validate()?;
        let n = table.nrows();
        for (what, len) in [
            ("targets per feature-table row", y.len()),
            (
                "weights per feature-table row",
                weights.map_or(n, |w| w.len()),
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
        if let Some((row, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ErrorKind::NonFinite {
                what: "regression target",
                row,
                column: "y".into(),
                value,
            }
            .into());
        }
        let standardizer = Standardizer::new().fit(table.values())?;
        let x = standardizer.transform(table.values())?;
        let d = x.ncols();
        let s: Vec<f64> = (0..n).map(|i| weights.map_or(1.0, |w| w[i])).collect();
        let total: f64 = s.iter().sum();
        // Weighted centring makes the intercept drop out of the normal equations.
        let (x_mean, y_mean) = if self.intercept == Intercept::Fit {
            let xm = (0..d)
                .map(|j| (0..n).map(|i| s[i] * x[[i, j]]).sum::<f64>() / total)
                .collect();
            (xm, (0..n).map(|i| s[i] * y[i]).sum::<f64>() / total)
        } else {
            (vec![0.0; d], 0.0)
        };
        let mut a = vec![0.0; d * d];
        let mut rhs = vec![0.0; d];
        for i in 0..n {
            let xi: Vec<f64> = (0..d).map(|j| x[[i, j]] - x_mean[j]).collect();
            let yi = y[i] - y_mean;
            for j in 0..d {
                rhs[j] += s[i] * xi[j] * yi;
                for k in 0..=j {
                    a[j * d + k] += s[i] * xi[j] * xi[k];
                }
            }
        }
        for j in 0..d {
            for k in 0..j {
                a[k * d + j] = a[j * d + k];
            }
            a[j * d + j] += self.alpha;
        }
        for j in standardizer.constant_columns() {
            a[j * d + j] = 1.0;
            rhs[j] = 0.0;
        }
        let w = cholesky_solve(&a, &rhs).ok_or_else(|| -> Error {
            ErrorKind::Fit {
                what: "ridge regression",
                message: "the normal equations are singular (collinear features without a penalty)"
                    .into(),
            }
            .into()
        })?;
        let b = y_mean - w.iter().zip(&x_mean).map(|(w, m)| w * m).sum::<f64>();
        Ok(FittedRidgeRegression {
            params: self.clone(),
            linear: Linear::new(table.names().to_vec(), standardizer, w, b),
        })
    }
}

/// A fitted ridge regression.
///
/// # Example
///
/// ```
/// use churnwise::features::FeatureTable;
/// use churnwise::model::{RegressionMetrics, RidgeRegression};
/// use ndarray::array;
///
/// // Next quarter's spend from this quarter's.
/// let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["spend_90d".into()], array![[10.0], [20.0], [30.0], [40.0]])?;
/// let y = array![12.0, 21.0, 33.0, 41.0];
/// let model = RidgeRegression::new().alpha(0.1).fit(&x, y.view(), None)?;
/// assert_eq!(model.feature_names(), ["spend_90d"]);
/// assert!(model.raw_coefficients()[0] > 0.9); // per unit of spend, in original units
/// let predicted = model.predict(x.values())?;
/// let fit = RegressionMetrics::compute(y.as_slice().unwrap(), predicted.as_slice().unwrap())?;
/// assert!(fit.r2 > 0.95);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedRidgeRegression {
    params: RidgeRegression,
    #[serde(flatten)]
    linear: Linear,
}

impl FittedRidgeRegression {
    /// The configuration it was fitted with.
    pub fn params(&self) -> &RidgeRegression {
        &self.params
    }

    /// The feature names, in coefficient order.
    pub fn feature_names(&self) -> &[String] {
        &self.linear.feature_names
    }

    /// The standardizer learned on the training features.
    pub fn standardizer(&self) -> &FittedStandardizer {
        &self.linear.standardizer
    }

    /// Coefficients on the standardized features.
    pub fn coefficients(&self) -> &[f64] {
        &self.linear.coefficients
    }

    /// Intercept on the standardized features.
    pub fn intercept(&self) -> f64 {
        self.linear.intercept
    }

    /// Coefficients on the raw features.
    pub fn raw_coefficients(&self) -> &[f64] {
        &self.linear.raw_coefficients
    }

    /// Intercept on the raw features.
    pub fn raw_intercept(&self) -> f64 {
        self.linear.raw_intercept
    }

    /// Predictions for raw feature rows (columns in feature-name order).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if the column count differs.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::model::RidgeRegression;
    /// # use ndarray::array;
    /// # // y = 1 + 2x exactly.
    /// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["spend_90d".into()], array![[0.0], [1.0], [2.0], [3.0]])?;
    /// # let y = array![1.0, 3.0, 5.0, 7.0];
    /// # let model = RidgeRegression::new().alpha(0.0).fit(&x, y.view(), None)?;
    /// let p = model.predict(array![[10.0]].view())?;
    /// approx::assert_abs_diff_eq!(p[0], 21.0, epsilon = 1e-9);
    /// assert!(model.predict(array![[1.0, 2.0]].view()).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        self.linear.apply(x, |_| {}).map(Array1::from)
    }

    /// One row's prediction (raw values in feature order), computed exactly
    /// as [`predict`](Self::predict) computes each row, without allocating.
    /// The caller checks the length.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NonFinite`] for values so extreme that the terms
    /// overflow to +∞ and −∞ at once.
    pub(crate) fn predict_one(&self, values: &[f64]) -> Result<f64> {
        let v = self.linear.raw_intercept + dot(values, &self.linear.raw_coefficients);
        if v.is_nan() {
            return Err(self.linear.overflow(0, values));
        }
        Ok(v)
    }
}

/// Regression quality: root mean squared error, mean absolute error and R².
///
/// # Example
///
/// ```
/// use churnwise::model::RegressionMetrics;
///
/// let m = RegressionMetrics::compute(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0])?;
/// approx::assert_abs_diff_eq!(m.rmse, (1.0f64 / 3.0).sqrt(), epsilon = 1e-15);
/// approx::assert_abs_diff_eq!(m.mae, 1.0 / 3.0, epsilon = 1e-15);
/// approx::assert_abs_diff_eq!(m.r2, 0.5, epsilon = 1e-15);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RegressionMetrics {
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Coefficient of determination, `1 − SS_res / SS_tot` (scikit-learn's `r2_score`).
    pub r2: f64,
}

impl RegressionMetrics {
    /// The metrics of `predicted` against `actual`. When `actual` is constant,
    /// R² is 1 for a perfect prediction and 0 otherwise (scikit-learn's convention).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] for different lengths; [`ErrorKind::Empty`] without values.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::RegressionMetrics;
    ///
    /// let m = RegressionMetrics::compute(&[2.0, 4.0], &[3.0, 3.0])?;
    /// assert_eq!((m.rmse, m.mae, m.r2), (1.0, 1.0, 0.0));
    /// assert!(RegressionMetrics::compute(&[1.0], &[1.0, 2.0]).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn compute(actual: &[f64], predicted: &[f64]) -> Result<Self> {
        if actual.len() != predicted.len() {
            return Err(ErrorKind::LengthMismatch {
                what: "predictions per actual value",
                expected: actual.len(),
                got: predicted.len(),
            }
            .into());
        }
        if actual.is_empty() {
            return Err(ErrorKind::Empty("no values to compare".into()).into());
        }
        let n = actual.len() as f64;
        let mean = actual.iter().sum::<f64>() / n;
        let ss_res: f64 = actual
            .iter()
            .zip(predicted)
            .map(|(a, p)| (a - p).powi(2))
            .sum();
        let ss_tot: f64 = actual.iter().map(|a| (a - mean).powi(2)).sum();
        let mae = actual
            .iter()
            .zip(predicted)
            .map(|(a, p)| (a - p).abs())
            .sum::<f64>()
            / n;
        let r2 = if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else if ss_res == 0.0 {
            1.0
        } else {
            0.0
        };
        Ok(RegressionMetrics {
            rmse: (ss_res / n).sqrt(),
            mae,
            r2,
        })
    }
}
