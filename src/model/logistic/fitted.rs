//! The fitted logistic regression.

use ndarray::{Array1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::config::LogisticRegression;
use super::kernel::dot;
use super::solver::Solution;
use crate::Result;
use crate::features::FeatureTable;
use crate::model::linear::Linear;
use crate::model::link::{sigmoid, sigmoid_in_place};
use crate::model::standardize::FittedStandardizer;

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
    pub(super) fn new(
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
    pub fn params(&self) -> &LogisticRegression {
        &self.params
    }

    /// The feature names, in the order the coefficients follow.
    pub fn feature_names(&self) -> &[String] {
        &self.linear.feature_names
    }

    /// The standardizer learned on the training features.
    pub fn standardizer(&self) -> &FittedStandardizer {
        &self.linear.standardizer
    }

    /// Coefficients on the standardized features (comparable across features).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let train = churnwise::doc_support::recency_set()?;
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
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let train = churnwise::doc_support::recency_set()?;
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
    pub fn raw_coefficients(&self) -> &[f64] {
        &self.linear.raw_coefficients
    }

    /// Intercept on the raw features.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let train = churnwise::doc_support::recency_set()?;
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
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Churn probabilities for raw feature rows (columns in [`feature_names`](Self::feature_names) order).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`](crate::ErrorKind::LengthMismatch) if the column count differs;
    /// [`ErrorKind::NonFinite`](crate::ErrorKind::NonFinite) for a row whose values are so extreme that
    /// the log-odds overflow to +∞ and −∞ at once (e.g. ±1e308).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let train = churnwise::doc_support::recency_set()?;
    /// # let model = LogisticRegression::new().fit(&train)?;
    /// let p = model.predict_proba(array![[3.0], [180.0]].view())?;
    /// assert!(p[0] < 0.5 && p[1] > 0.5);
    /// assert!(model.predict_proba(array![[3.0, 1.0]].view()).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        self.linear.apply(x, sigmoid_in_place).map(Array1::from)
    }

    /// Churn probabilities for `rows` rows held as columns, one slice per
    /// feature in [`feature_names`](Self::feature_names) order (as Arrow
    /// and other columnar engines hold them), read in place without a
    /// row-major copy. Bit-identical to [`predict_proba`](Self::predict_proba)
    /// on the same rows.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`](crate::ErrorKind::LengthMismatch) if the column count differs or a
    /// column does not hold `rows` values; [`ErrorKind::NonFinite`](crate::ErrorKind::NonFinite) naming the
    /// feature and row of a NaN or infinite value, or as for
    /// [`predict_proba`](Self::predict_proba).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let train = churnwise::doc_support::recency_set()?;
    /// # let model = LogisticRegression::new().fit(&train)?;
    /// let recency = [3.0, 180.0];
    /// let p = model.predict_proba_columns(&[&recency], 2)?;
    /// assert_eq!(p, model.predict_proba(array![[3.0], [180.0]].view())?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn predict_proba_columns(&self, columns: &[&[f64]], rows: usize) -> Result<Array1<f64>> {
        self.linear
            .apply_columns(columns, rows, sigmoid_in_place)
            .map(Array1::from)
    }

    /// One row's churn probability (raw values in feature order), computed
    /// exactly as [`predict_proba`](Self::predict_proba) computes each row,
    /// without allocating. The caller checks the length.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NonFinite`](crate::ErrorKind::NonFinite) as for [`predict_proba`](Self::predict_proba).
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
    /// [`ErrorKind::UnknownName`](crate::ErrorKind::UnknownName) if the table lacks a feature the model uses.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::*;
    /// # use ndarray::array;
    /// # let train = churnwise::doc_support::recency_set()?;
    /// # let x = train.features().clone();
    /// # let model = LogisticRegression::new().fit(&train)?;
    /// assert_eq!(model.predict_proba_table(&x)?, model.predict_proba(x.values())?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn predict_proba_table(&self, table: &FeatureTable) -> Result<Array1<f64>> {
        let selected = table.select(&self.linear.feature_names)?;
        self.predict_proba(selected.values())
    }
}
