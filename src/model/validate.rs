//! Model validation: seeded, stratified k-fold cross-validation, and a
//! time-based backtest that trains on the past and tests on the future.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::Fit;
use super::metrics::Metrics;
use crate::features::{ChurnLabeler, FeatureSpec, Snapshot, TrainingSet};
use crate::records::History;
use crate::{Error, Result};

/// Seeded, stratified k-fold cross-validation.
///
/// Churners and non-churners are shuffled separately (from `seed`) and dealt
/// round-robin into `folds` folds, so every fold has the population's churn
/// rate within one row. Each fold is scored by a model fitted on the others;
/// the report gives each fold's [`Metrics`] and their mean and standard
/// deviation (population, ddof = 0, as `numpy.std`). Folds run one after the
/// other (each fit is itself parallel), so results do not depend on the thread count.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
/// use churnwise::model::{CrossValidation, LogisticRegression};
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(3_000).seed(11).generate()?;
/// let (history, _) = pop.history_builder().build()?;
/// let at = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
/// let train = ChurnLabeler::new().training_set(&history, &FeatureSpec::all(), &Snapshot::new(at), &[at])?;
/// let report = CrossValidation::new().folds(5).seed(7).run(&LogisticRegression::new(), &train)?;
/// assert_eq!(report.folds().len(), 5);
/// assert!(report.mean().roc_auc > 0.7);
/// println!("{report}");
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrossValidation {
    folds: usize,
    seed: u64,
}

impl Default for CrossValidation {
    fn default() -> Self {
        CrossValidation { folds: 5, seed: 42 }
    }
}

impl CrossValidation {
    /// Five folds, seed 42.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::CrossValidation;
    ///
    /// assert_eq!(CrossValidation::new(), CrossValidation::new().folds(5).seed(42));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new() -> Self {
        CrossValidation::default()
    }

    /// The number of folds. Defaults to 5. Must be 2 to 100 (checked by
    /// [`validate`](Self::validate)).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::{CrossValidation, LogisticRegression};
    /// # use ndarray::{Array1, Array2};
    /// # // 60 customers: churn gets likelier with recency (every 7th label flipped).
    /// # let x = Array2::from_shape_fn((60, 1), |(i, _)| i as f64);
    /// # let y: Array1<bool> = (0..60).map(|i| (i >= 30) != (i % 7 == 0)).collect();
    /// # let table = FeatureTable::new((0..60u64).map(Into::into).collect(), vec!["recency_days".into()], x)?;
    /// # let data = TrainingSet::new(table, y)?;
    /// let report = CrossValidation::new().folds(4).run(&LogisticRegression::new(), &data)?;
    /// assert_eq!(report.folds().len(), 4);
    /// assert!(CrossValidation::new().folds(1).validate().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn folds(mut self, folds: usize) -> Self {
        self.folds = folds;
        self
    }

    /// Checks the parameters.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `folds` unless 2 to 100.
    pub fn validate(&self) -> Result<()> {
        if !(2..=100).contains(&self.folds) {
            return Err(Error::invalid_parameter(
                "folds",
                format!("must be 2 to 100, got {}", self.folds),
            ));
        }
        Ok(())
    }

    /// The shuffling seed. Defaults to 42.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::CrossValidation;
    ///
    /// let labels = [false, true, false, true, false, true];
    /// let cv = CrossValidation::new().folds(2);
    /// // The same seed deals the same folds.
    /// assert_eq!(cv.clone().seed(9).assign(&labels), cv.seed(9).assign(&labels));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The fold of each row: stratified by label, shuffled from the seed.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::CrossValidation;
    ///
    /// let labels = [false, false, false, false, true, true];
    /// let folds = CrossValidation::new().folds(2).assign(&labels);
    /// // Stratified: each fold gets two non-churners and one churner.
    /// for k in 0..2 {
    ///     assert_eq!(folds[..4].iter().filter(|&&f| f == k).count(), 2);
    ///     assert_eq!(folds[4..].iter().filter(|&&f| f == k).count(), 1);
    /// }
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn assign(&self, labels: &[bool]) -> Vec<usize> {
        let mut fold = vec![0; labels.len()];
        let mut rng = SplitMix(self.seed);
        for class in [false, true] {
            let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
            // Fisher–Yates.
            for i in (1..rows.len()).rev() {
                rows.swap(i, rng.below(i + 1));
            }
            for (k, &r) in rows.iter().enumerate() {
                fold[r] = k % self.folds.max(1); // (0 folds fail `validate`; no panic here)
            }
        }
        fold
    }

    /// Fits `model` on all folds but one and scores the held-out fold, for each fold.
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate);
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `folds` when a class has fewer rows than folds; whatever fitting
    /// or scoring a fold returns.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::{CrossValidation, LogisticRegression};
    /// # use ndarray::{Array1, Array2};
    /// # // 60 customers: churn gets likelier with recency (every 7th label flipped).
    /// # let x = Array2::from_shape_fn((60, 1), |(i, _)| i as f64);
    /// # let y: Array1<bool> = (0..60).map(|i| (i >= 30) != (i % 7 == 0)).collect();
    /// # let table = FeatureTable::new((0..60u64).map(Into::into).collect(), vec!["recency_days".into()], x)?;
    /// # let data = TrainingSet::new(table, y)?;
    /// let report = CrossValidation::new().folds(3).seed(1).run(&LogisticRegression::new(), &data)?;
    /// assert!(report.mean().roc_auc > 0.7);
    /// // Each class needs at least one row per fold.
    /// assert!(CrossValidation::new().folds(31).run(&LogisticRegression::new(), &data).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn run<M: Fit>(&self, model: &M, data: &TrainingSet) -> Result<CrossValidationReport> {
        self.validate()?;
        let labels = data.labels().to_vec();
        for class in [false, true] {
            let count = labels.iter().filter(|&&l| l == class).count();
            if count < self.folds {
                return Err(Error::invalid_parameter(
                    "folds",
                    format!(
                        "{} folds need at least as many rows of each class, got {count} labelled {class}",
                        self.folds
                    ),
                ));
            }
        }
        let fold_of = self.assign(&labels);
        let mut folds = Vec::with_capacity(self.folds);
        for k in 0..self.folds {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..labels.len()).partition(|&i| fold_of[i] == k);
            let fitted = model.fit(&data.subset(&train)?)?;
            let held_out = data.subset(&test)?;
            let scores = super::PredictProba::predict_proba(&fitted, held_out.features().values())?;
            let weights = held_out.weights().map(|w| w.to_vec());
            let y = held_out.labels().to_vec();
            folds.push(Metrics::compute(
                scores.as_slice().unwrap_or(&[]),
                &y,
                weights.as_deref(),
            )?);
        }
        Ok(CrossValidationReport::new(folds))
    }
}

/// A time-based backtest: for each test date `t`, fit on snapshots whose
/// label windows end by `t`, then score the snapshot at `t` against what
/// happened after it.
///
/// Training snapshots are at `t − horizon − k · spacing` for `k` in
/// `0..train_snapshots`, so no training label peeks past `t`: the honest
/// estimate of how a model retrained each period would have done.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
/// use churnwise::model::{Backtest, LogisticRegression};
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(3_000).seed(12).generate()?;
/// let (history, _) = pop.history_builder().build()?;
/// let at = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
/// let backtest = Backtest::new(ChurnLabeler::new().lapsed_customers(churnwise::features::LapsedCustomers::Exclude), FeatureSpec::all(), Snapshot::new(at(1)));
/// let report = backtest.run(&LogisticRegression::new(), &history, &[at(8), at(9), at(10)])?;
/// assert_eq!(report.folds().len(), 3);
/// assert!(report.mean().roc_auc > 0.6);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    labeler: ChurnLabeler,
    spec: FeatureSpec,
    snapshot: Snapshot,
    train_snapshots: usize,
    spacing_days: u32,
}

impl Backtest {
    /// Labels, features and windows (the snapshot's time is not used); three
    /// training snapshots 60 days apart.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
    /// # use churnwise::model::{Backtest, LogisticRegression};
    /// # let at = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    /// let backtest = Backtest::new(ChurnLabeler::new(), FeatureSpec::rfm(), Snapshot::new(at(1)));
    /// // Defaults: three training snapshots, 60 days apart, ending 90 days (the horizon) before the test date.
    /// assert_eq!(backtest.train_times(at(10)).len(), 3);
    /// ```
    pub fn new(labeler: ChurnLabeler, spec: FeatureSpec, snapshot: Snapshot) -> Self {
        Backtest {
            labeler,
            spec,
            snapshot,
            train_snapshots: 3,
            spacing_days: 60,
        }
    }

    /// Training snapshots per test date, and days between them. Defaults
    /// to 3 and 60. The count must be 1 to 100 and the spacing at least 1
    /// (checked by [`validate`](Self::validate)).
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
    /// # use churnwise::model::{Backtest, LogisticRegression};
    /// # let at = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    /// let labeler = ChurnLabeler::new().horizon_days(30);
    /// let backtest = Backtest::new(labeler, FeatureSpec::rfm(), Snapshot::new(at(1))).train_snapshots(2, 31);
    /// // Testing on October 1: label windows end by then, so training is at August 1 and September 1.
    /// assert_eq!(backtest.train_times(at(10)), [at(8), at(9)]);
    /// assert!(backtest.train_snapshots(0, 31).validate().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn train_snapshots(mut self, count: usize, spacing_days: u32) -> Self {
        self.train_snapshots = count;
        self.spacing_days = spacing_days;
        self
    }

    /// Checks the parameters.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `train_snapshots` unless 1 to 100, or `spacing_days` if 0.
    pub fn validate(&self) -> Result<()> {
        if !(1..=100).contains(&self.train_snapshots) {
            return Err(Error::invalid_parameter(
                "train_snapshots",
                format!("must be 1 to 100, got {}", self.train_snapshots),
            ));
        }
        if self.spacing_days == 0 {
            return Err(Error::invalid_parameter(
                "spacing_days",
                "must be at least 1, got 0",
            ));
        }
        Ok(())
    }

    /// The training as-of times for test date `t`, oldest first.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
    /// # use churnwise::model::{Backtest, LogisticRegression};
    /// # let at = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    /// let backtest = Backtest::new(ChurnLabeler::new(), FeatureSpec::rfm(), Snapshot::new(at(1)));
    /// let days_before = |t: chrono::DateTime<Utc>| (at(10) - t).num_days();
    /// let gaps: Vec<i64> = backtest.train_times(at(10)).into_iter().map(days_before).collect();
    /// assert_eq!(gaps, [210, 150, 90]); // oldest first; the last label window ends at the test date
    /// ```
    pub fn train_times(&self, t: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let last = t - Duration::days(i64::from(self.labeler.horizon_days_value()));
        (0..self.train_snapshots)
            .rev()
            .map(|k| last - Duration::days(i64::from(self.spacing_days) * k as i64))
            .collect()
    }

    /// Fits and tests `model` at each test date.
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate);
    /// [`ErrorKind::Empty`](crate::ErrorKind::Empty) without test dates;
    /// whatever labelling (e.g. [`Censored`](crate::ErrorKind::Censored)),
    /// extraction, fitting or scoring returns.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
    /// # use churnwise::model::{Backtest, LogisticRegression};
    /// # let at = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(200).seed(12).generate()?;
    /// let (history, _) = pop.history_builder().build()?;
    /// let backtest = Backtest::new(ChurnLabeler::new(), FeatureSpec::rfm(), Snapshot::new(at(1)));
    /// let report = backtest.run(&LogisticRegression::new(), &history, &[at(9), at(10)])?;
    /// assert_eq!(report.folds().len(), 2);
    /// assert!(backtest.run(&LogisticRegression::new(), &history, &[]).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn run<M: Fit>(
        &self,
        model: &M,
        history: &History,
        test_times: &[DateTime<Utc>],
    ) -> Result<CrossValidationReport> {
        self.validate()?;
        if test_times.is_empty() {
            return Err(crate::ErrorKind::Empty("no test dates for the backtest".into()).into());
        }
        let mut folds = Vec::with_capacity(test_times.len());
        for &t in test_times {
            let train = self.labeler.training_set(
                history,
                &self.spec,
                &self.snapshot,
                &self.train_times(t),
            )?;
            let test = self
                .labeler
                .training_set(history, &self.spec, &self.snapshot, &[t])?;
            let fitted = model.fit(&train)?;
            let scores = super::PredictProba::predict_proba(&fitted, test.features().values())?;
            let y = test.labels().to_vec();
            folds.push(Metrics::compute(
                scores.as_slice().unwrap_or(&[]),
                &y,
                None,
            )?);
        }
        Ok(CrossValidationReport::new(folds))
    }
}

/// A small seeded generator for shuffling (SplitMix64).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        crate::util::mix::splitmix64(&mut self.0)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2⁻³² for any usize n here).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

/// Per-fold metrics with their mean and standard deviation.
///
/// # Example
///
/// ```
/// use churnwise::features::{FeatureTable, TrainingSet};
/// use churnwise::model::{CrossValidation, LogisticRegression};
/// use ndarray::{Array1, Array2};
///
/// // 60 customers: churn gets likelier with recency (every 7th label flipped).
/// let x = Array2::from_shape_fn((60, 1), |(i, _)| i as f64);
/// let y: Array1<bool> = (0..60).map(|i| (i >= 30) != (i % 7 == 0)).collect();
/// let table = FeatureTable::new((0..60u64).map(Into::into).collect(), vec!["recency_days".into()], x)?;
/// let report = CrossValidation::new().folds(3).seed(1).run(&LogisticRegression::new(), &TrainingSet::new(table, y)?)?;
/// assert_eq!(report.folds().len(), 3);
/// assert!(report.mean().roc_auc > 0.7);
/// assert!(report.std().roc_auc >= 0.0);
/// println!("{report}"); // per-fold table, then mean ± std
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossValidationReport {
    folds: Vec<Metrics>,
    mean: Summary,
    std: Summary,
}

/// The averaged metrics of a [`CrossValidationReport`].
///
/// # Example
///
/// See [`CrossValidation`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Summary {
    /// ROC-AUC.
    pub roc_auc: f64,
    /// Average precision.
    pub average_precision: f64,
    /// Log-loss.
    pub log_loss: f64,
    /// Brier score.
    pub brier: f64,
    /// Lift in the top decile.
    pub lift_at_10pct: f64,
}

impl CrossValidationReport {
    fn new(folds: Vec<Metrics>) -> Self {
        let stat = |f: &dyn Fn(&Metrics) -> f64| {
            let n = folds.len() as f64;
            let mean = folds.iter().map(f).sum::<f64>() / n;
            let var = folds.iter().map(|m| (f(m) - mean).powi(2)).sum::<f64>() / n;
            (mean, var.sqrt())
        };
        let (auc, ap, ll, br, lift) = (
            stat(&|m| m.roc_auc),
            stat(&|m| m.average_precision),
            stat(&|m| m.log_loss),
            stat(&|m| m.brier),
            stat(&|m| m.lift_at_10pct),
        );
        let pick = |i: usize| {
            let g = |p: (f64, f64)| if i == 0 { p.0 } else { p.1 };
            Summary {
                roc_auc: g(auc),
                average_precision: g(ap),
                log_loss: g(ll),
                brier: g(br),
                lift_at_10pct: g(lift),
            }
        };
        CrossValidationReport {
            mean: pick(0),
            std: pick(1),
            folds,
        }
    }

    /// Each fold's metrics.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::{CrossValidation, LogisticRegression};
    /// # use ndarray::{Array1, Array2};
    /// # // 60 customers: churn gets likelier with recency (every 7th label flipped).
    /// # let x = Array2::from_shape_fn((60, 1), |(i, _)| i as f64);
    /// # let y: Array1<bool> = (0..60).map(|i| (i >= 30) != (i % 7 == 0)).collect();
    /// # let table = FeatureTable::new((0..60u64).map(Into::into).collect(), vec!["recency_days".into()], x)?;
    /// # let data = TrainingSet::new(table, y)?;
    /// # let report = CrossValidation::new().folds(3).run(&LogisticRegression::new(), &data)?;
    /// assert_eq!(report.folds().len(), 3);
    /// assert!(report.folds().iter().all(|m| (0.0..=1.0).contains(&m.roc_auc)));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn folds(&self) -> &[Metrics] {
        &self.folds
    }

    /// The mean over folds.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::{CrossValidation, LogisticRegression};
    /// # use ndarray::{Array1, Array2};
    /// # // 60 customers: churn gets likelier with recency (every 7th label flipped).
    /// # let x = Array2::from_shape_fn((60, 1), |(i, _)| i as f64);
    /// # let y: Array1<bool> = (0..60).map(|i| (i >= 30) != (i % 7 == 0)).collect();
    /// # let table = FeatureTable::new((0..60u64).map(Into::into).collect(), vec!["recency_days".into()], x)?;
    /// # let data = TrainingSet::new(table, y)?;
    /// # let report = CrossValidation::new().folds(3).run(&LogisticRegression::new(), &data)?;
    /// let mean_auc = report.folds().iter().map(|m| m.roc_auc).sum::<f64>() / 3.0;
    /// approx::assert_relative_eq!(report.mean().roc_auc, mean_auc, max_relative = 1e-12);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn mean(&self) -> Summary {
        self.mean
    }

    /// The standard deviation over folds (ddof = 0).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::{CrossValidation, LogisticRegression};
    /// # use ndarray::{Array1, Array2};
    /// # // 60 customers: churn gets likelier with recency (every 7th label flipped).
    /// # let x = Array2::from_shape_fn((60, 1), |(i, _)| i as f64);
    /// # let y: Array1<bool> = (0..60).map(|i| (i >= 30) != (i % 7 == 0)).collect();
    /// # let table = FeatureTable::new((0..60u64).map(Into::into).collect(), vec!["recency_days".into()], x)?;
    /// # let data = TrainingSet::new(table, y)?;
    /// # let report = CrossValidation::new().folds(3).run(&LogisticRegression::new(), &data)?;
    /// let aucs: Vec<f64> = report.folds().iter().map(|m| m.roc_auc).collect();
    /// let var = aucs.iter().map(|a| (a - report.mean().roc_auc).powi(2)).sum::<f64>() / 3.0;
    /// approx::assert_relative_eq!(report.std().roc_auc, var.sqrt(), max_relative = 1e-9);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn std(&self) -> Summary {
        self.std
    }
}

impl fmt::Display for CrossValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<18} {:>8} {:>8}",
            format!("{} folds", self.folds.len()),
            "mean",
            "std"
        )?;
        let rows = [
            ("ROC-AUC", self.mean.roc_auc, self.std.roc_auc),
            (
                "average precision",
                self.mean.average_precision,
                self.std.average_precision,
            ),
            ("log-loss", self.mean.log_loss, self.std.log_loss),
            ("Brier", self.mean.brier, self.std.brier),
            (
                "lift @ 10%",
                self.mean.lift_at_10pct,
                self.std.lift_at_10pct,
            ),
        ];
        for (name, mean, std) in rows {
            writeln!(f, "{name:<18} {mean:>8.4} {std:>8.4}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified_and_seeded() {
        let labels: Vec<bool> = (0..103).map(|i| i % 5 == 0).collect();
        let cv = CrossValidation::new().folds(4).seed(3);
        let fold = cv.assign(&labels);
        for k in 0..4 {
            let rows: Vec<usize> = (0..103).filter(|&i| fold[i] == k).collect();
            let pos = rows.iter().filter(|&&i| labels[i]).count();
            assert!((5..=6).contains(&pos), "fold {k} has {pos} churners");
            assert!((25..=27).contains(&rows.len()));
        }
        assert_eq!(fold, cv.assign(&labels));
        assert_ne!(fold, cv.clone().seed(4).assign(&labels));
        assert!(CrossValidation::new().folds(1).validate().is_err());
        assert_eq!(
            CrossValidation::new().folds(0).assign(&labels),
            vec![0; 103]
        );
    }

    #[test]
    fn backtest_training_labels_end_by_the_test_date() {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap();
        let b = Backtest::new(ChurnLabeler::new(), FeatureSpec::rfm(), Snapshot::new(t))
            .train_snapshots(2, 30);
        let times = b.train_times(t);
        assert_eq!(times, [t - Duration::days(120), t - Duration::days(90)]);
        assert!(times.iter().all(|&s| s + Duration::days(90) <= t));
        assert!(b.clone().train_snapshots(0, 30).validate().is_err());
        let err = b.train_snapshots(1, 0).validate().unwrap_err();
        assert!(matches!(
            err.kind(),
            crate::ErrorKind::InvalidParameter {
                name: "spacing_days",
                ..
            }
        ));
    }

    #[test]
    fn mean_and_std_by_hand() {
        let m = |auc: f64| Metrics {
            roc_auc: auc,
            ..Metrics::compute(&[0.2, 0.8], &[false, true], None).unwrap()
        };
        let r = CrossValidationReport::new(vec![m(0.7), m(0.9)]);
        approx::assert_abs_diff_eq!(r.mean().roc_auc, 0.8, epsilon = 1e-15);
        approx::assert_abs_diff_eq!(r.std().roc_auc, 0.1, epsilon = 1e-15);
        assert_eq!(r.to_string().lines().count(), 6);
    }
}
