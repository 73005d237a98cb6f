//! Trainable estimators (standardization, logistic and ridge regression,
//! gradient-boosted trees, a random forest for comparison), probability
//! calibration, and their evaluation ([`metrics`], [`CrossValidation`],
//! [`Backtest`], [`Comparison`]).
//!
//! A configuration (`LogisticRegression`, `RidgeRegression`, `Standardizer`)
//! is never a model: `fit` returns a separate `Fitted*` value that carries
//! what was learned and can be serialized and applied later. Configurations
//! have infallible, consuming setters; every check is in their `validate()`,
//! which `fit` (or `run`) calls first. Logistic regression standardizes the
//! features itself and reports coefficients on both the standardized and
//! the raw scale.
//!
//! A fitted churn model is deployed as a [`FittedModel`] (in a
//! [`ChurnScorer`](crate::score::ChurnScorer) or a [`TableModel`]); a
//! fitted ridge regression as a [`ValueScorer`](crate::score::ValueScorer).
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
//! use churnwise::model::LogisticRegression;
//! use churnwise::synth::PopulationConfig;
//!
//! let pop = PopulationConfig::default().customers(2_000).seed(5).generate()?;
//! let (history, _) = pop.history_builder().build()?;
//! let at = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
//! let train = ChurnLabeler::new().training_set(&history, &FeatureSpec::all(), &Snapshot::new(at(3)), &[at(3), at(6)])?;
//! let model = LogisticRegression::new().fit(&train)?;
//! let p = model.predict_proba(train.features().values())?;
//! assert!(p.iter().all(|&v| (0.0..=1.0).contains(&v)));
//! # Ok::<(), churnwise::Error>(())
//! ```

mod calibrate;
mod compare;
mod deploy;
mod encode;
mod forest;
mod gbdt;
pub(crate) mod linalg;
mod linear;
mod link;
mod logistic;
pub mod metrics;
mod ridge;
mod standardize;
mod validate;

pub use calibrate::{Calibrator, FittedCalibrator};
pub use compare::{Comparison, ComparisonRow, ModelConfig};
pub use deploy::{Contributions, FittedModel};
pub use encode::{FittedTableEncoder, TableEncoder, TableModel};
pub use forest::{FittedRandomForest, RandomForest};
pub use gbdt::{EarlyStopping, FittedGradientBoosting, GradientBoosting, Monotone};
pub use linear::Intercept;
pub use logistic::{ClassWeight, FittedLogisticRegression, LogisticRegression, Penalty};
pub use ridge::{FittedRidgeRegression, RegressionMetrics, RidgeRegression};
pub use standardize::{FittedStandardizer, Standardizer};
pub use validate::{Backtest, CrossValidation, CrossValidationReport, Summary};

use ndarray::{Array1, ArrayView2};

use crate::Result;
use crate::features::{FeatureTable, TrainingSet};

/// An estimator configuration that can be fitted on a [`TrainingSet`].
///
/// Lets validation (and your code) be generic over estimators. The
/// estimators' inherent `fit` methods do the same without importing the trait.
///
/// # Example
///
/// ```
/// use churnwise::features::{FeatureTable, TrainingSet};
/// use churnwise::model::{Fit, LogisticRegression, PredictProba};
/// use ndarray::array;
///
/// fn churn_risk<M: Fit>(model: &M, data: &TrainingSet) -> churnwise::Result<Vec<f64>> {
///     let fitted = model.fit(data)?;
///     Ok(fitted.predict_proba(data.features().values())?.to_vec())
/// }
/// let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["r".into()], array![[1.0], [2.0], [8.0], [9.0]])?;
/// let risk = churn_risk(&LogisticRegression::new(), &TrainingSet::new(x, array![false, true, false, true])?)?;
/// assert_eq!(risk.len(), 4);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub trait Fit {
    /// The fitted model.
    type Fitted: PredictProba;
    /// Fits on a training set.
    ///
    /// # Errors
    ///
    /// Whatever the estimator's fit returns.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::{FeatureTable, TrainingSet};
    /// use churnwise::model::{Fit, LogisticRegression};
    /// use ndarray::array;
    ///
    /// let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["r".into()], array![[1.0], [2.0], [8.0], [9.0]])?;
    /// let fitted = Fit::fit(&LogisticRegression::new(), &TrainingSet::new(x, array![false, false, true, true])?)?;
    /// assert_eq!(fitted.feature_names(), ["r"]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    fn fit(&self, data: &TrainingSet) -> Result<Self::Fitted>;
}

/// A fitted model that gives churn probabilities.
///
/// Object safe, so models of different kinds can sit side by side. Each
/// fitted model also has the methods as inherent methods, so calling them
/// needs no import of this trait.
///
/// # Example
///
/// ```
/// use churnwise::features::{FeatureTable, TrainingSet};
/// use churnwise::model::{LogisticRegression, PredictProba, RandomForest};
/// use ndarray::array;
///
/// let x = FeatureTable::new((0..8u64).map(Into::into).collect(), vec!["recency_days".into()],
///     array![[1.0], [2.0], [30.0], [4.0], [100.0], [12.0], [130.0], [150.0]])?;
/// let train = TrainingSet::new(x.clone(), array![false, false, true, false, true, false, true, true])?;
/// let models: Vec<Box<dyn PredictProba>> = vec![
///     Box::new(LogisticRegression::new().fit(&train)?),
///     Box::new(RandomForest::new().trees(10).min_samples_leaf(1).fit(&train)?),
/// ];
/// for model in &models {
///     let p = model.predict_proba_table(&x)?;
///     assert!(p.iter().all(|p| (0.0..=1.0).contains(p)));
///     assert!(p[7] > p[0]);
/// }
/// # Ok::<(), churnwise::Error>(())
/// ```
pub trait PredictProba: Send + Sync + std::fmt::Debug {
    /// Churn probabilities for raw feature rows, columns in [`feature_names`](Self::feature_names) order.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`](crate::ErrorKind::LengthMismatch) if the column count differs.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::{Fit, LogisticRegression, PredictProba};
    /// # use ndarray::array;
    /// # let train = churnwise::doc_support::recency_set()?;
    /// # let model: Box<dyn PredictProba> = Box::new(Fit::fit(&LogisticRegression::new(), &train)?);
    /// let p = model.predict_proba(array![[2.0], [190.0]].view())?;
    /// assert!(p[0] < p[1]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>>;

    /// The features the model expects, in order.
    fn feature_names(&self) -> &[String];

    /// Churn probabilities for a table whose columns are matched by name.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`](crate::ErrorKind::UnknownName) if a feature is missing.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::{Fit, LogisticRegression, PredictProba};
    /// # use ndarray::array;
    /// # let train = churnwise::doc_support::recency_set()?;
    /// # let x = train.features().clone();
    /// # let model: Box<dyn PredictProba> = Box::new(Fit::fit(&LogisticRegression::new(), &train)?);
    /// assert_eq!(model.predict_proba_table(&x)?, model.predict_proba(x.values())?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    fn predict_proba_table(&self, table: &FeatureTable) -> Result<Array1<f64>> {
        self.predict_proba(table.select(self.feature_names())?.values())
    }
}

impl Fit for LogisticRegression {
    type Fitted = FittedLogisticRegression;
    fn fit(&self, data: &TrainingSet) -> Result<FittedLogisticRegression> {
        LogisticRegression::fit(self, data)
    }
}

impl PredictProba for FittedLogisticRegression {
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        FittedLogisticRegression::predict_proba(self, x)
    }
    fn feature_names(&self) -> &[String] {
        FittedLogisticRegression::feature_names(self)
    }
}

impl Fit for GradientBoosting {
    type Fitted = FittedGradientBoosting;
    fn fit(&self, data: &TrainingSet) -> Result<FittedGradientBoosting> {
        GradientBoosting::fit(self, data)
    }
}

impl PredictProba for FittedGradientBoosting {
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        FittedGradientBoosting::predict_proba(self, x)
    }
    fn feature_names(&self) -> &[String] {
        FittedGradientBoosting::feature_names(self)
    }
}
