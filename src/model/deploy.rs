//! One serializable type for every deployable churn model.

use ndarray::{Array1, Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::calibrate::logit;
use super::linear::{check_columns, check_finite};
use super::{
    Calibrator, FittedCalibrator, FittedGradientBoosting, FittedLogisticRegression, PredictProba,
};
use crate::features::{FeatureTable, TrainingSet};
use crate::{ErrorKind, Result};

/// A fitted churn model that can be deployed: saved, loaded, scored and
/// explained. [`ChurnScorer`](crate::score::ChurnScorer) and
/// [`TableModel`](super::TableModel) hold one.
///
/// An enum rather than a `Box<dyn PredictProba>`, so it serializes without
/// a registry of types (JSON tagged by `"type"`, for example
/// `{"type": "logistic", ...}`) and a loaded model is checked as it loads.
/// It is `#[non_exhaustive]`: new kinds of model arrive as new variants
/// without another breaking change.
///
/// Every variant provides what deployment needs:
///
/// - its feature names, in the order it reads values;
/// - batch churn probabilities for a matrix or a [`FeatureTable`], computed
///   in parallel in fixed chunks (the same bits whatever the thread count);
/// - one row's probability without allocating, bit-identical to the same
///   row of the batch;
/// - an explanation: each feature's contribution to the log-odds plus a
///   base value (the log-odds of the average training customer), summing to
///   the row's log-odds;
/// - an exact JSON round trip, with the numbers checked on load (a file of
///   the wrong shape is [`ErrorKind::SchemaMismatch`]).
///
/// The random forest is not a variant: it is for comparison only (see
/// [`RandomForest`](super::RandomForest)).
///
/// # Example
///
/// ```
/// use churnwise::model::{FittedModel, LogisticRegression};
/// # let train = churnwise::doc_support::recency_set()?;
///
/// let model: FittedModel = LogisticRegression::new().fit(&train)?.into();
/// assert_eq!(model.kind(), "logistic");
/// let p = model.predict_proba_one(&[180.0])?;
/// // Contributions plus the base value are the log-odds.
/// let why = model.contributions(&[180.0])?;
/// approx::assert_relative_eq!(why.base_value + why.values.iter().sum::<f64>(), (p / (1.0 - p)).ln(), max_relative = 1e-12);
/// let back: FittedModel = serde_json::from_str(&serde_json::to_string(&model).unwrap()).unwrap();
/// assert_eq!(back, model);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FittedModel {
    /// A logistic regression.
    Logistic(FittedLogisticRegression),
    /// Gradient-boosted trees (JSON tag `"gradient_boosting"`).
    GradientBoosting(FittedGradientBoosting),
    /// A model whose probabilities pass through a fitted calibration
    /// (JSON tag `"calibrated"`); made by [`calibrate`](FittedModel::calibrate).
    Calibrated {
        /// The underlying model.
        model: Box<FittedModel>,
        /// The calibration applied to its probabilities.
        calibration: FittedCalibrator,
    },
}

impl From<FittedLogisticRegression> for FittedModel {
    fn from(model: FittedLogisticRegression) -> Self {
        FittedModel::Logistic(model)
    }
}

impl From<FittedGradientBoosting> for FittedModel {
    fn from(model: FittedGradientBoosting) -> Self {
        FittedModel::GradientBoosting(model)
    }
}

/// Each feature's contribution to one row's log-odds of churn, and the base
/// value they are added to.
///
/// # Formula
///
/// ```text
/// log-odds(row) = base_value + Σ_j values[j]
/// ```
///
/// For logistic regression, `base_value` is the intercept on standardized
/// features (the log-odds of the average training customer) and
/// `values[j] = w_j · (x_j − mean_j) / scale_j`: the exact Shapley values of
/// a linear model with the training means as the reference. For
/// gradient-boosted trees they are exact path-dependent TreeSHAP values
/// and `base_value` is the training rows' mean log-odds (see
/// [`FittedGradientBoosting::contributions`]).
///
/// # Example
///
/// See [`FittedModel`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Contributions {
    /// The log-odds with every feature at its reference (training mean) value.
    pub base_value: f64,
    /// One contribution per feature, in the model's feature order.
    pub values: Vec<f64>,
}

impl FittedModel {
    /// The kind of model, as its JSON `"type"` tag: `"logistic"`,
    /// `"gradient_boosting"` or `"calibrated"`.
    pub fn kind(&self) -> &'static str {
        match self {
            FittedModel::Logistic(_) => "logistic",
            FittedModel::GradientBoosting(_) => "gradient_boosting",
            FittedModel::Calibrated { .. } => "calibrated",
        }
    }

    /// The features the model reads, in order.
    pub fn feature_names(&self) -> &[String] {
        match self {
            FittedModel::Logistic(m) => m.feature_names(),
            FittedModel::GradientBoosting(m) => m.feature_names(),
            FittedModel::Calibrated { model, .. } => model.feature_names(),
        }
    }

    /// Churn probabilities for raw feature rows (columns in
    /// [`feature_names`](Self::feature_names) order), in parallel.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if the column count differs;
    /// [`ErrorKind::NonFinite`] for a row whose values overflow the model.
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        match self {
            FittedModel::Logistic(m) => m.predict_proba(x),
            FittedModel::GradientBoosting(m) => m.predict_proba(x),
            FittedModel::Calibrated { model, calibration } => {
                let mut p = model.predict_proba(x)?;
                calibrate_in_place(&mut p, calibration);
                Ok(p)
            }
        }
    }

    /// Churn probabilities for `rows` rows held as columns, one slice per
    /// feature in [`feature_names`](Self::feature_names) order (as Arrow
    /// and other columnar engines hold them); bit-identical to
    /// [`predict_proba`](Self::predict_proba) on the same rows. A logistic
    /// regression reads the columns in place; trees gather each row first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if the column count differs or a column
    /// does not hold `rows` values; [`ErrorKind::NonFinite`] naming the
    /// feature and row of a NaN or infinite value (unlike
    /// [`predict_proba`](Self::predict_proba), where trees read NaN as
    /// missing), or for a row whose values overflow the model.
    pub fn predict_proba_columns(&self, columns: &[&[f64]], rows: usize) -> Result<Array1<f64>> {
        match self {
            FittedModel::Logistic(m) => m.predict_proba_columns(columns, rows),
            FittedModel::GradientBoosting(m) => {
                check_columns(columns, m.feature_names().len(), rows)?;
                check_finite(columns, 0..rows, m.feature_names())?;
                let x = Array2::from_shape_fn((rows, columns.len()), |(i, j)| columns[j][i]);
                m.predict_proba(x.view())
            }
            FittedModel::Calibrated { model, calibration } => {
                let mut p = model.predict_proba_columns(columns, rows)?;
                calibrate_in_place(&mut p, calibration);
                Ok(p)
            }
        }
    }

    /// Churn probabilities for a table whose columns are matched by name.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] if the table lacks a feature; otherwise as
    /// for [`predict_proba`](Self::predict_proba).
    pub fn predict_proba_table(&self, table: &FeatureTable) -> Result<Array1<f64>> {
        if table.names() == self.feature_names() {
            return self.predict_proba(table.values());
        }
        self.predict_proba(table.select(self.feature_names())?.values())
    }

    /// One row's churn probability (raw values in feature order), without
    /// allocating; bit-identical to the same row of
    /// [`predict_proba`](Self::predict_proba).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] for the wrong number of values;
    /// [`ErrorKind::NonFinite`] for values that overflow the model.
    pub fn predict_proba_one(&self, values: &[f64]) -> Result<f64> {
        self.check_len(values)?;
        match self {
            FittedModel::Logistic(m) => m.predict_proba_one(values),
            FittedModel::GradientBoosting(m) => m.predict_proba_one(values),
            FittedModel::Calibrated { model, calibration } => {
                Ok(calibration.apply(model.predict_proba_one(values)?))
            }
        }
    }

    /// Each feature's contribution to one row's log-odds, and the base value.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] for the wrong number of values.
    pub fn contributions(&self, values: &[f64]) -> Result<Contributions> {
        self.check_len(values)?;
        match self {
            FittedModel::Logistic(m) => {
                let s = m.standardizer();
                let constant = s.constant_columns();
                let scales = s.scales();
                let contributions = (0..values.len())
                    .map(|j| {
                        if constant.contains(&j) {
                            0.0
                        } else {
                            m.coefficients()[j] * (values[j] - s.means()[j]) / scales[j]
                        }
                    })
                    .collect();
                Ok(Contributions {
                    base_value: m.intercept(),
                    values: contributions,
                })
            }
            FittedModel::GradientBoosting(m) => m.contributions(values),
            FittedModel::Calibrated { model, calibration } => {
                let c = model.contributions(values)?;
                match calibration {
                    // Platt is linear in the log-odds: logit(P) = −(a·f + b).
                    FittedCalibrator::Platt { a, b } => Ok(Contributions {
                        base_value: -(a * c.base_value + b),
                        values: c.values.iter().map(|v| -a * v).collect(),
                    }),
                    _ => {
                        let p = calibration.apply(model.predict_proba_one(values)?);
                        let target = logit(p.clamp(1e-15, 1.0 - 1e-15));
                        Ok(Contributions {
                            base_value: target - c.values.iter().sum::<f64>(),
                            values: c.values,
                        })
                    }
                }
            }
        }
    }

    /// This model with its probabilities calibrated on `held_out` (rows it
    /// was not trained on; out-of-fold predictions work too): what a
    /// deployment should use when scores are read as probabilities (alert
    /// thresholds, expected loss, budgets).
    ///
    /// Explanations stay exact for Platt scaling, which is linear in the
    /// log-odds (contributions are scaled by `−a`). Isotonic calibration is
    /// not: its explanation keeps the underlying model's contributions and
    /// moves the base value so they add up to the calibrated log-odds
    /// (probabilities of 0 or 1 are taken as 1e-15 from them).
    ///
    /// # Errors
    ///
    /// As for [`predict_proba_table`](Self::predict_proba_table) on the
    /// held-out rows and [`Calibrator::fit`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::{Calibrator, FittedModel, GradientBoosting};
    /// # let (train, held_out) = churnwise::doc_support::churn_split(1_000, 6)?;
    /// let model = FittedModel::from(GradientBoosting::new().trees(30).fit(&train)?);
    /// let calibrated = model.calibrate(Calibrator::Platt, &held_out)?;
    /// assert_eq!(calibrated.kind(), "calibrated");
    /// let row = held_out.features().values().row(0).to_vec();
    /// let p = calibrated.predict_proba_one(&row)?;
    /// let why = calibrated.contributions(&row)?;
    /// approx::assert_relative_eq!(why.base_value + why.values.iter().sum::<f64>(), (p / (1.0 - p)).ln(), max_relative = 1e-9);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn calibrate(self, method: Calibrator, held_out: &TrainingSet) -> Result<FittedModel> {
        let p = self.predict_proba_table(held_out.features())?;
        let labels = held_out.labels().to_vec();
        let calibration = method.fit(&p.to_vec(), &labels)?;
        Ok(FittedModel::Calibrated {
            model: Box::new(self),
            calibration,
        })
    }

    fn check_len(&self, values: &[f64]) -> Result<()> {
        let expected = self.feature_names().len();
        if values.len() != expected {
            return Err(ErrorKind::LengthMismatch {
                what: "feature values for the model",
                expected,
                got: values.len(),
            }
            .into());
        }
        Ok(())
    }
}

/// Applies a fitted calibration to probabilities in place, in parallel.
fn calibrate_in_place(p: &mut Array1<f64>, calibration: &FittedCalibrator) {
    match p.as_slice_mut() {
        Some(s) => s.par_chunks_mut(4096).for_each(|c| {
            c.iter_mut().for_each(|v| *v = calibration.apply(*v));
        }),
        None => p.mapv_inplace(|v| calibration.apply(v)),
    }
}

impl PredictProba for FittedModel {
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        FittedModel::predict_proba(self, x)
    }
    fn feature_names(&self) -> &[String] {
        FittedModel::feature_names(self)
    }
    fn predict_proba_table(&self, table: &FeatureTable) -> Result<Array1<f64>> {
        FittedModel::predict_proba_table(self, table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LogisticRegression;
    use ndarray::array;

    fn model() -> FittedModel {
        let x = FeatureTable::new(
            (0..6u64).map(Into::into).collect(),
            vec![
                "recency_days".into(),
                "constant".into(),
                "complaints".into(),
            ],
            array![
                [1.0, 3.0, 0.0],
                [5.0, 3.0, 1.0],
                [90.0, 3.0, 0.0],
                [120.0, 3.0, 2.0],
                [150.0, 3.0, 1.0],
                [10.0, 3.0, 3.0]
            ],
        )
        .unwrap();
        let train =
            crate::features::TrainingSet::new(x, array![false, false, true, true, true, false])
                .unwrap();
        LogisticRegression::new().fit(&train).unwrap().into()
    }

    #[test]
    fn contributions_add_up_to_the_log_odds_and_rows_match_the_batch() {
        let m = model();
        let rows = array![[30.0, 3.0, 1.0], [200.0, 3.0, 0.0], [0.0, 3.0, 9.0]];
        let batch = m.predict_proba(rows.view()).unwrap();
        for (i, row) in rows.rows().into_iter().enumerate() {
            let v = row.to_vec();
            let p = m.predict_proba_one(&v).unwrap();
            assert_eq!(p.to_bits(), batch[i].to_bits());
            let c = m.contributions(&v).unwrap();
            assert_eq!(c.values[1], 0.0, "a constant column contributes nothing");
            let logit = c.base_value + c.values.iter().sum::<f64>();
            approx::assert_relative_eq!(logit, (p / (1.0 - p)).ln(), max_relative = 1e-12);
        }
        // At the training means every contribution is zero: the base value
        // is the log-odds of the average customer.
        let FittedModel::Logistic(l) = &m else {
            panic!("a logistic model")
        };
        let means = l.standardizer().means().to_vec();
        let c = m.contributions(&means).unwrap();
        assert!(c.values.iter().all(|v| v.abs() < 1e-12), "{c:?}");
        assert_eq!(c.base_value, l.intercept());
    }

    #[test]
    fn wrong_lengths_are_typed_errors_and_json_round_trips() {
        let m = model();
        for bad in [&[1.0][..], &[1.0, 2.0, 3.0, 4.0]] {
            assert!(matches!(
                m.predict_proba_one(bad).unwrap_err().kind(),
                ErrorKind::LengthMismatch { expected: 3, .. }
            ));
            assert!(m.contributions(bad).is_err());
        }
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.starts_with(r#"{"type":"logistic""#), "{json}");
        let back: FittedModel = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }
}
