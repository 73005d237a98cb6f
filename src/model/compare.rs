//! Comparing model configurations side by side on the same splits.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};
use ndarray::{Array1, ArrayView2};
use serde::{Deserialize, Serialize};

use super::{
    Backtest, CrossValidation, CrossValidationReport, Fit, FittedModel, GradientBoosting,
    LogisticRegression, PredictProba,
};
use crate::features::TrainingSet;
use crate::records::History;
use crate::{ErrorKind, Result};

/// A configuration of any deployable churn model: fitting it gives a
/// [`FittedModel`]. Lets code (and config files) choose the kind of model
/// at run time, and [`Comparison`] compare several kinds.
///
/// # Example
///
/// ```
/// use churnwise::model::{GradientBoosting, LogisticRegression, ModelConfig};
/// # let (train, _) = churnwise::doc_support::churn_split(500, 1)?;
///
/// let configs = [ModelConfig::from(LogisticRegression::new()), GradientBoosting::new().trees(10).into()];
/// for config in &configs {
///     let model = config.fit(&train)?;
///     assert_eq!(model.feature_names(), train.features().names());
/// }
/// assert_eq!(configs[1].kind(), "gradient_boosting");
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ModelConfig {
    /// A logistic regression.
    Logistic(LogisticRegression),
    /// Gradient-boosted trees.
    GradientBoosting(GradientBoosting),
}

impl From<LogisticRegression> for ModelConfig {
    fn from(c: LogisticRegression) -> Self {
        ModelConfig::Logistic(c)
    }
}

impl From<GradientBoosting> for ModelConfig {
    fn from(c: GradientBoosting) -> Self {
        ModelConfig::GradientBoosting(c)
    }
}

impl ModelConfig {
    /// The kind, as the fitted model's [`kind`](FittedModel::kind).
    pub fn kind(&self) -> &'static str {
        match self {
            ModelConfig::Logistic(_) => "logistic",
            ModelConfig::GradientBoosting(_) => "gradient_boosting",
        }
    }

    /// Checks the parameters.
    ///
    /// # Errors
    ///
    /// As the configuration's own `validate`.
    pub fn validate(&self) -> Result<()> {
        match self {
            ModelConfig::Logistic(c) => c.validate(),
            ModelConfig::GradientBoosting(c) => c.validate(),
        }
    }

    /// Fits on a training set.
    ///
    /// # Errors
    ///
    /// As the configuration's own `fit`.
    pub fn fit(&self, data: &TrainingSet) -> Result<FittedModel> {
        Ok(match self {
            ModelConfig::Logistic(c) => c.fit(data)?.into(),
            ModelConfig::GradientBoosting(c) => c.fit(data)?.into(),
        })
    }
}

impl Fit for ModelConfig {
    type Fitted = FittedModel;
    fn fit(&self, data: &TrainingSet) -> Result<FittedModel> {
        ModelConfig::fit(self, data)
    }
}

/// Seconds spent fitting and predicting, per fold.
type Clock = Arc<Mutex<(Vec<f64>, Vec<f64>)>>;

/// A configuration whose fits (and its models' predictions) are timed.
struct Timed<'a> {
    config: &'a ModelConfig,
    clock: Clock,
}

#[derive(Debug)]
struct TimedModel {
    model: FittedModel,
    clock: Clock,
}

impl Fit for Timed<'_> {
    type Fitted = TimedModel;
    fn fit(&self, data: &TrainingSet) -> Result<TimedModel> {
        let started = Instant::now();
        let model = self.config.fit(data)?;
        let seconds = started.elapsed().as_secs_f64();
        if let Ok(mut c) = self.clock.lock() {
            c.0.push(seconds);
        }
        Ok(TimedModel {
            model,
            clock: Arc::clone(&self.clock),
        })
    }
}

impl PredictProba for TimedModel {
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        let started = Instant::now();
        let p = self.model.predict_proba(x)?;
        let seconds = started.elapsed().as_secs_f64();
        if let Ok(mut c) = self.clock.lock() {
            c.1.push(seconds);
        }
        Ok(p)
    }
    fn feature_names(&self) -> &[String] {
        self.model.feature_names()
    }
}

/// Several model configurations validated on the same splits, side by
/// side: ROC-AUC, average precision, log-loss, Brier score and lift in the
/// top decile (mean ± standard deviation over the folds), and the seconds
/// spent fitting and predicting.
///
/// Every configuration sees exactly the same folds (time-based test dates
/// for a [`Backtest`], seeded stratified folds for a [`CrossValidation`]),
/// so differences are the models', not the splits'. The metrics are
/// deterministic; the times are wall-clock measurements.
///
/// # Example
///
/// ```
/// use churnwise::model::{Comparison, CrossValidation, GradientBoosting, LogisticRegression, ModelConfig};
/// # let (train, _) = churnwise::doc_support::churn_split(1_000, 1)?;
///
/// let models = [
///     ("logistic", ModelConfig::from(LogisticRegression::new())),
///     ("trees", GradientBoosting::new().trees(30).max_leaves(8).into()),
/// ];
/// let comparison = Comparison::cross_validate(&CrossValidation::new().folds(3), &train, &models)?;
/// assert_eq!(comparison.rows().len(), 2);
/// assert_eq!(comparison.rows()[1].report.folds().len(), 3);
/// println!("{comparison}");
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    rows: Vec<ComparisonRow>,
}

/// One configuration's results in a [`Comparison`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ComparisonRow {
    /// The name it was given.
    pub name: String,
    /// The metrics of each fold, their mean and standard deviation.
    pub report: CrossValidationReport,
    /// Seconds to fit, per fold.
    pub fit_seconds: Vec<f64>,
    /// Seconds to predict the held-out rows, per fold.
    pub predict_seconds: Vec<f64>,
}

impl Comparison {
    /// Cross-validates each configuration on the same stratified folds of a flat table.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Empty`] without configurations; whatever
    /// [`CrossValidation::run`] returns for one of them.
    ///
    /// # Example
    ///
    /// See [`Comparison`].
    pub fn cross_validate(
        cv: &CrossValidation,
        data: &TrainingSet,
        models: &[(&str, ModelConfig)],
    ) -> Result<Comparison> {
        Self::each(models, |timed| cv.run(timed, data))
    }

    /// Backtests each configuration on the same test dates.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Empty`] without configurations; whatever
    /// [`Backtest::run`] returns for one of them.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
    /// use churnwise::model::{Backtest, Comparison, GradientBoosting, LogisticRegression, ModelConfig};
    /// # use churnwise::doc_support::month;
    /// # let history = churnwise::doc_support::history(1_500, 3)?;
    /// let backtest = Backtest::new(ChurnLabeler::new(), FeatureSpec::all(), Snapshot::new(month(1)));
    /// let models = [
    ///     ("logistic", ModelConfig::from(LogisticRegression::new())),
    ///     ("trees", GradientBoosting::new().trees(30).max_leaves(8).into()),
    /// ];
    /// let comparison = Comparison::backtest(&backtest, &history, &[month(9), month(10)], &models)?;
    /// assert!(comparison.rows().iter().all(|r| r.report.mean().roc_auc > 0.6));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn backtest(
        backtest: &Backtest,
        history: &History,
        test_times: &[DateTime<Utc>],
        models: &[(&str, ModelConfig)],
    ) -> Result<Comparison> {
        Self::each(models, |timed| backtest.run(timed, history, test_times))
    }

    fn each(
        models: &[(&str, ModelConfig)],
        run: impl Fn(&Timed<'_>) -> Result<CrossValidationReport>,
    ) -> Result<Comparison> {
        if models.is_empty() {
            return Err(ErrorKind::Empty("no model configurations to compare".into()).into());
        }
        let mut rows = Vec::with_capacity(models.len());
        for (name, config) in models {
            config.validate()?;
            let clock: Clock = Arc::default();
            let report = run(&Timed {
                config,
                clock: Arc::clone(&clock),
            })?;
            let (fit_seconds, predict_seconds) =
                clock.lock().map(|c| c.clone()).unwrap_or_default();
            rows.push(ComparisonRow {
                name: (*name).to_owned(),
                report,
                fit_seconds,
                predict_seconds,
            });
        }
        Ok(Comparison { rows })
    }

    /// One row per configuration, in the order given.
    pub fn rows(&self) -> &[ComparisonRow] {
        &self.rows
    }
}

/// A table: one line per configuration, each metric as mean ± std, and
/// the mean fit and predict seconds.
impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .rows
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(
            f,
            "{:<width$} {:>15} {:>15} {:>15} {:>15} {:>13} {:>7} {:>9}",
            "model",
            "ROC-AUC",
            "avg precision",
            "log-loss",
            "Brier",
            "lift @ 10%",
            "fit s",
            "predict s"
        )?;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        for r in &self.rows {
            let (m, s) = (r.report.mean(), r.report.std());
            writeln!(
                f,
                "{:<width$} {:>7.4} ± {:<5.3} {:>7.4} ± {:<5.3} {:>7.4} ± {:<5.3} {:>7.4} ± {:<5.3} {:>5.2} ± {:<5.2} {:>7.3} {:>9.4}",
                r.name,
                m.roc_auc,
                s.roc_auc,
                m.average_precision,
                s.average_precision,
                m.log_loss,
                s.log_loss,
                m.brier,
                s.brier,
                m.lift_at_10pct,
                s.lift_at_10pct,
                mean(&r.fit_seconds),
                mean(&r.predict_seconds),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_round_trip_as_tagged_json_and_folds_are_shared() {
        let c: ModelConfig = GradientBoosting::new().trees(7).into();
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.starts_with(r#"{"type":"gradient_boosting""#), "{json}");
        assert_eq!(serde_json::from_str::<ModelConfig>(&json).unwrap(), c);
        let l: ModelConfig = serde_json::from_str(r#"{"type":"logistic"}"#).unwrap();
        assert_eq!(l, LogisticRegression::new().into());
        assert!(Comparison::each(&[], |_| unreachable!()).is_err());
    }
}
