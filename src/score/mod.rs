//! The deployable churn scorer: feature spec + fitted model + metadata.
//!
//! A [`ChurnScorer`] is what a service loads: it knows which features, in
//! which order, over which windows, the model was trained on, so scoring a
//! [`History`] or a [`FeatureTable`] cannot silently misalign columns. It is
//! `Send + Sync` (share it as `Arc<ChurnScorer>`), scores tables in parallel,
//! scores one customer from a slice without allocating, explains a score,
//! and saves to / loads from JSON with a schema version.

mod profile;

pub use profile::{Category, FieldKind, Iter, Profile, ProfileRef, Profiles, builtin_fields};

#[cfg(test)]
pub(crate) use profile::Coded;
pub(crate) use profile::{Builtin, Column, MISSING, builtin};

use chrono::{DateTime, Utc};
use ndarray::Array1;
use serde::{Deserialize, Serialize};

use crate::features::{FeatureSpec, FeatureTable, Snapshot};
use crate::model::FittedLogisticRegression;
use crate::model::metrics::Metrics;
use crate::records::History;
use crate::{Error, ErrorKind, Result};

/// The JSON schema version written by this release.
///
/// # Example
///
/// ```
/// # use chrono::{TimeZone, Utc};
/// # use churnwise::features::{FeatureTable, Snapshot, TrainingSet};
/// # use churnwise::model::LogisticRegression;
/// # use churnwise::score::{ChurnScorer, SCHEMA_VERSION};
/// # use ndarray::array;
/// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["recency_days".into()], array![[1.0], [20.0], [90.0], [200.0]])?;
/// # let model = LogisticRegression::new().fit(&TrainingSet::new(x, array![false, true, false, true])?)?;
/// # let scorer = ChurnScorer::from_logistic(model, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
/// // Every saved scorer records the schema version it was written with.
/// let json = scorer.to_json()?;
/// assert!(json.contains(&format!("\"schema_version\": {SCHEMA_VERSION}")));
/// # Ok::<(), churnwise::Error>(())
/// ```
pub const SCHEMA_VERSION: u32 = 1;

/// The fitted models a scorer can hold.
///
/// # Example
///
/// See [`ChurnScorer`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FittedModel {
    /// A logistic regression.
    Logistic(FittedLogisticRegression),
}

impl FittedModel {
    fn feature_names(&self) -> &[String] {
        match self {
            FittedModel::Logistic(m) => m.feature_names(),
        }
    }
}

/// What is known about how a scorer was trained.
///
/// # Example
///
/// See [`ChurnScorer`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TrainingInfo {
    /// The latest as-of time of the training rows.
    pub as_of: Option<DateTime<Utc>>,
    /// Held-out metrics, if measured.
    pub metrics: Option<Metrics>,
    /// The crate version that trained it.
    pub crate_version: String,
}

/// A feature's contribution to one customer's churn score.
///
/// # Example
///
/// See [`ChurnScorer::explain`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Reason {
    /// The feature's name.
    pub feature: String,
    /// The customer's value.
    pub value: f64,
    /// Its contribution to the log-odds of churn relative to the average
    /// training customer (positive raises the risk).
    pub contribution: f64,
}

/// The deployable churn scorer.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
/// use churnwise::model::LogisticRegression;
/// use churnwise::score::ChurnScorer;
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(2_000).seed(4).generate()?;
/// let (history, _) = pop.history_builder().build()?;
/// let at = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
/// let snapshot = Snapshot::new(at(6));
/// let train = ChurnLabeler::new().training_set(&history, &FeatureSpec::all(), &snapshot, &[at(3), at(6)])?;
/// let model = LogisticRegression::new().fit(&train)?;
/// let scorer = Arc::new(ChurnScorer::from_logistic(model, &snapshot)?);
///
/// // Score everyone as of a later date, and explain the riskiest customer.
/// let (table, risk) = scorer.score_history(&history, at(10))?;
/// let top = risk.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i).unwrap();
/// let row = table.values().row(top).to_vec();
/// let reasons = scorer.explain(&row)?;
/// assert_eq!(reasons.len(), table.ncols());
/// assert!(reasons[0].contribution.abs() >= reasons[1].contribution.abs());
///
/// // Save and load: the loaded scorer scores identically.
/// let loaded = ChurnScorer::from_json(&scorer.to_json()?)?;
/// assert_eq!(loaded.score_one(&row)?, scorer.score_one(&row)?);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnScorer {
    schema_version: u32,
    windows_days: Vec<u32>,
    features: Vec<String>,
    model: FittedModel,
    training: TrainingInfo,
}

impl ChurnScorer {
    /// A scorer for a fitted model whose features are extracted with the
    /// windows of `snapshot` (its time is not used).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] if the model uses a feature that the
    /// snapshot's catalog does not have (a model trained on your own table
    /// can still score tables with [`score_table`](Self::score_table), but not histories).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::features::{FeatureTable, Snapshot, TrainingSet};
    /// use churnwise::model::LogisticRegression;
    /// use churnwise::score::{ChurnScorer, FittedModel, TrainingInfo};
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["recency_days".into()], array![[1.0], [20.0], [90.0], [200.0]])?;
    /// # let train = TrainingSet::new(x, array![false, true, false, true])?;
    /// let as_of = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
    /// let model = FittedModel::Logistic(LogisticRegression::new().fit(&train)?);
    /// let mut info = TrainingInfo::default();
    /// info.as_of = Some(as_of);
    /// let scorer = ChurnScorer::new(model, &Snapshot::new(as_of), info)?;
    /// assert_eq!(scorer.training().as_of, Some(as_of));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(model: FittedModel, snapshot: &Snapshot, training: TrainingInfo) -> Result<Self> {
        let features = model.feature_names().to_vec();
        FeatureSpec::new(features.clone()).resolve(snapshot)?;
        Ok(ChurnScorer {
            schema_version: SCHEMA_VERSION,
            windows_days: snapshot.windows_days().to_vec(),
            features,
            model,
            training: TrainingInfo {
                crate_version: env!("CARGO_PKG_VERSION").to_owned(),
                ..training
            },
        })
    }

    /// A scorer for a logistic regression, with default training info.
    ///
    /// # Errors
    ///
    /// As for [`new`](Self::new).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::features::{FeatureTable, Snapshot, TrainingSet};
    /// use churnwise::model::LogisticRegression;
    /// use churnwise::score::ChurnScorer;
    /// use ndarray::array;
    ///
    /// let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["recency_days".into()], array![[1.0], [20.0], [90.0], [200.0]])?;
    /// let model = LogisticRegression::new().fit(&TrainingSet::new(x, array![false, true, false, true])?)?;
    /// let scorer = ChurnScorer::from_logistic(model, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// assert_eq!(scorer.features(), ["recency_days"]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_logistic(model: FittedLogisticRegression, snapshot: &Snapshot) -> Result<Self> {
        ChurnScorer::new(
            FittedModel::Logistic(model),
            snapshot,
            TrainingInfo::default(),
        )
    }

    /// The features, in the order [`score_one`](Self::score_one) and [`explain`](Self::explain) expect.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureTable, Snapshot, TrainingSet};
    /// # use churnwise::model::LogisticRegression;
    /// # use churnwise::score::ChurnScorer;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["recency_days".into(), "orders_total".into()], array![[1.0, 9.0], [20.0, 2.0], [90.0, 4.0], [200.0, 1.0]])?;
    /// # let model = LogisticRegression::new().fit(&TrainingSet::new(x, array![false, true, false, true])?)?;
    /// # let scorer = ChurnScorer::from_logistic(model, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// assert_eq!(scorer.features(), ["recency_days", "orders_total"]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn features(&self) -> &[String] {
        &self.features
    }

    /// The model.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureTable, Snapshot, TrainingSet};
    /// # use churnwise::model::LogisticRegression;
    /// # use churnwise::score::{ChurnScorer, FittedModel};
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["recency_days".into()], array![[1.0], [20.0], [90.0], [200.0]])?;
    /// # let model = LogisticRegression::new().fit(&TrainingSet::new(x, array![false, true, false, true])?)?;
    /// # let scorer = ChurnScorer::from_logistic(model.clone(), &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// assert_eq!(scorer.model(), &FittedModel::Logistic(model));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn model(&self) -> &FittedModel {
        &self.model
    }

    /// How it was trained.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureTable, Snapshot, TrainingSet};
    /// # use churnwise::model::LogisticRegression;
    /// # use churnwise::score::ChurnScorer;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["recency_days".into()], array![[1.0], [20.0], [90.0], [200.0]])?;
    /// # let model = LogisticRegression::new().fit(&TrainingSet::new(x, array![false, true, false, true])?)?;
    /// # let scorer = ChurnScorer::from_logistic(model, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// // `from_logistic` records no training time or metrics, only the crate version.
    /// assert_eq!(scorer.training().as_of, None);
    /// assert_eq!(scorer.training().crate_version, env!("CARGO_PKG_VERSION"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn training(&self) -> &TrainingInfo {
        &self.training
    }

    /// Churn probabilities for a table; columns are matched by name, in any order.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] if the table lacks a feature of the model;
    /// [`ErrorKind::NonFinite`] for a row whose values are so extreme that
    /// the log-odds overflow to +∞ and −∞ at once.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureTable, Snapshot, TrainingSet};
    /// # use churnwise::model::LogisticRegression;
    /// # use churnwise::score::ChurnScorer;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["recency_days".into(), "orders_total".into()], array![[1.0, 9.0], [20.0, 2.0], [90.0, 4.0], [200.0, 1.0]])?;
    /// # let model = LogisticRegression::new().fit(&TrainingSet::new(x.clone(), array![false, true, false, true])?)?;
    /// # let scorer = ChurnScorer::from_logistic(model, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// let p = scorer.score_table(&x)?;
    /// assert_eq!(p.len(), 4);
    /// // Columns are matched by name, so their order does not matter.
    /// assert_eq!(scorer.score_table(&x.select(&["orders_total", "recency_days"])?)?, p);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn score_table(&self, table: &FeatureTable) -> Result<Array1<f64>> {
        let x = if table.names() == self.features.as_slice() {
            table.values()
        } else {
            return match &self.model {
                FittedModel::Logistic(m) => m.predict_proba_table(table),
            };
        };
        match &self.model {
            FittedModel::Logistic(m) => m.predict_proba(x),
        }
    }

    /// Extracts the model's features from a history as of `as_of` and scores every customer.
    ///
    /// # Errors
    ///
    /// As for [`FeatureSpec::extract`].
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureTable, Snapshot, TrainingSet};
    /// # use churnwise::model::LogisticRegression;
    /// # use churnwise::score::ChurnScorer;
    /// # use churnwise::synth::PopulationConfig;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["recency_days".into(), "orders_total".into()], array![[1.0, 9.0], [20.0, 2.0], [90.0, 4.0], [200.0, 1.0]])?;
    /// # let model = LogisticRegression::new().fit(&TrainingSet::new(x, array![false, true, false, true])?)?;
    /// # let scorer = ChurnScorer::from_logistic(model, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// let (history, _) = PopulationConfig::default().customers(50).generate()?.history_builder().build()?;
    /// let (table, p) = scorer.score_history(&history, Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap())?;
    /// assert_eq!(table.names(), scorer.features());
    /// assert_eq!(p.len(), table.nrows());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn score_history(
        &self,
        history: &History,
        as_of: DateTime<Utc>,
    ) -> Result<(FeatureTable, Array1<f64>)> {
        let snapshot = Snapshot::new(as_of).windows(self.windows_days.iter().copied());
        snapshot.validate()?;
        let table = FeatureSpec::new(self.features.clone()).extract(history, &snapshot)?;
        let scores = self.score_table(&table)?;
        Ok((table, scores))
    }

    /// One customer's churn probability from raw feature values in
    /// [`features`](Self::features) order. Allocates nothing; bit-identical
    /// to the same row of [`score_table`](Self::score_table).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] for the wrong number of values;
    /// [`ErrorKind::NonFinite`] for a NaN or infinite value, or for values
    /// so extreme that the log-odds overflow to +∞ and −∞ at once.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureTable, Snapshot, TrainingSet};
    /// # use churnwise::model::LogisticRegression;
    /// # use churnwise::score::ChurnScorer;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["recency_days".into(), "orders_total".into()], array![[1.0, 9.0], [20.0, 2.0], [90.0, 4.0], [200.0, 1.0]])?;
    /// # let model = LogisticRegression::new().fit(&TrainingSet::new(x.clone(), array![false, true, false, true])?)?;
    /// # let scorer = ChurnScorer::from_logistic(model, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// // Values in `features()` order: recency_days, orders_total.
    /// let p = scorer.score_one(&[90.0, 4.0])?;
    /// assert_eq!(p, scorer.score_table(&x)?[2]);
    /// assert!(scorer.score_one(&[90.0]).is_err()); // wrong length
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn score_one(&self, values: &[f64]) -> Result<f64> {
        self.check(values)?;
        match &self.model {
            FittedModel::Logistic(m) => m.predict_proba_one(values),
        }
    }

    /// Each feature's contribution to one customer's log-odds of churn,
    /// relative to the average training customer, largest in magnitude first.
    ///
    /// # Formula
    ///
    /// ```text
    /// contribution_j = w_j · (x_j − mean_j) / scale_j      (standardized coefficient × standardized value)
    /// logit(p) = intercept + Σ_j contribution_j
    /// ```
    ///
    /// # Errors
    ///
    /// As for [`score_one`](Self::score_one).
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureTable, Snapshot, TrainingSet};
    /// # use churnwise::model::LogisticRegression;
    /// # use churnwise::score::ChurnScorer;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["recency_days".into(), "orders_total".into()], array![[1.0, 9.0], [20.0, 2.0], [90.0, 4.0], [200.0, 1.0]])?;
    /// # let model = LogisticRegression::new().fit(&TrainingSet::new(x, array![false, true, false, true])?)?;
    /// # let scorer = ChurnScorer::from_logistic(model, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// let reasons = scorer.explain(&[200.0, 1.0])?;
    /// assert_eq!(reasons.len(), 2);
    /// assert_eq!(reasons[0].value, if reasons[0].feature == "recency_days" { 200.0 } else { 1.0 });
    /// assert!(reasons[0].contribution.abs() >= reasons[1].contribution.abs());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn explain(&self, values: &[f64]) -> Result<Vec<Reason>> {
        self.check(values)?;
        let FittedModel::Logistic(m) = &self.model;
        let s = m.standardizer();
        let scales = s.scales();
        let constant = s.constant_columns();
        let mut reasons: Vec<Reason> = (0..values.len())
            .map(|j| Reason {
                feature: self.features[j].clone(),
                value: values[j],
                contribution: if constant.contains(&j) {
                    0.0
                } else {
                    m.coefficients()[j] * (values[j] - s.means()[j]) / scales[j]
                },
            })
            .collect();
        reasons.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
        Ok(reasons)
    }

    fn check(&self, values: &[f64]) -> Result<()> {
        if values.len() != self.features.len() {
            return Err(ErrorKind::LengthMismatch {
                what: "feature values for the scorer",
                expected: self.features.len(),
                got: values.len(),
            }
            .into());
        }
        if let Some((j, &v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ErrorKind::NonFinite {
                what: "feature value",
                row: 0,
                column: self.features[j].clone(),
                value: v,
            }
            .into());
        }
        Ok(())
    }

    /// The scorer as JSON.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] if serialization fails (it cannot for finite models).
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureTable, Snapshot, TrainingSet};
    /// # use churnwise::model::LogisticRegression;
    /// # use churnwise::score::ChurnScorer;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["recency_days".into()], array![[1.0], [20.0], [90.0], [200.0]])?;
    /// # let model = LogisticRegression::new().fit(&TrainingSet::new(x, array![false, true, false, true])?)?;
    /// # let scorer = ChurnScorer::from_logistic(model, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// let json = scorer.to_json()?;
    /// assert!(json.contains("\"recency_days\""));
    /// assert_eq!(ChurnScorer::from_json(&json)?, scorer);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(json_error)
    }

    /// Loads a scorer saved by [`to_json`](Self::to_json).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::SchemaMismatch`] if the schema version differs, the
    /// model's features disagree with the saved feature list, or the
    /// document is JSON of another shape or with inconsistent numbers (say,
    /// more coefficients than features); [`ErrorKind::NotJson`] for text that is
    /// not JSON.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::score::ChurnScorer;
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureTable, Snapshot, TrainingSet};
    /// # use churnwise::model::LogisticRegression;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["recency_days".into()], array![[1.0], [20.0], [90.0], [200.0]])?;
    /// # let model = LogisticRegression::new().fit(&TrainingSet::new(x, array![false, true, false, true])?)?;
    /// # let scorer = ChurnScorer::from_logistic(model, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// let loaded = ChurnScorer::from_json(&scorer.to_json()?)?;
    /// assert_eq!(loaded.score_one(&[42.0])?, scorer.score_one(&[42.0])?);
    /// let err = ChurnScorer::from_json(r#"{"schema_version": 99}"#).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::SchemaMismatch { .. }));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Self> {
        let scorer: ChurnScorer = serde_json::from_str(json).map_err(|e| {
            if e.classify() == serde_json::error::Category::Data {
                ErrorKind::SchemaMismatch {
                    reason: e.to_string(),
                }
                .into()
            } else {
                json_error(e)
            }
        })?;
        if scorer.schema_version != SCHEMA_VERSION {
            return Err(ErrorKind::SchemaMismatch {
                reason: format!(
                    "schema version {} (this release reads {SCHEMA_VERSION})",
                    scorer.schema_version
                ),
            }
            .into());
        }
        if scorer.model.feature_names() != scorer.features.as_slice() {
            return Err(ErrorKind::SchemaMismatch {
                reason:
                    "the model's feature names or their order differ from the scorer's feature list"
                        .into(),
            }
            .into());
        }
        Ok(scorer)
    }
}

fn json_error(e: serde_json::Error) -> Error {
    Error::json("<scorer json>", e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::TrainingSet;
    use crate::model::LogisticRegression;
    use ndarray::array;

    fn scorer() -> ChurnScorer {
        let x = FeatureTable::new(
            (0..6u64).map(Into::into).collect(),
            vec!["recency_days".into(), "complaints_30d".into()],
            array![
                [1.0, 0.0],
                [5.0, 1.0],
                [90.0, 0.0],
                [120.0, 2.0],
                [150.0, 1.0],
                [10.0, 3.0]
            ],
        )
        .unwrap();
        let model = LogisticRegression::new()
            .fit(&TrainingSet::new(x, array![false, false, true, true, true, false]).unwrap())
            .unwrap();
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2024, 1, 1, 0, 0, 0).unwrap();
        ChurnScorer::from_logistic(model, &Snapshot::new(t)).unwrap()
    }

    fn assert_auto<T: Send + Sync + Unpin>() {}

    #[test]
    fn scorer_is_send_sync() {
        assert_auto::<ChurnScorer>();
    }

    #[test]
    fn one_row_matches_the_batch_and_contributions_add_up() {
        let s = scorer();
        let rows = array![[30.0, 1.0], [200.0, 0.0]];
        let table = FeatureTable::new(
            vec![1u64.into(), 2u64.into()],
            s.features().to_vec(),
            rows.clone(),
        )
        .unwrap();
        let batch = s.score_table(&table).unwrap();
        for (i, row) in rows.rows().into_iter().enumerate() {
            let v = row.to_vec();
            assert_eq!(s.score_one(&v).unwrap().to_bits(), batch[i].to_bits());
            let FittedModel::Logistic(m) = s.model();
            let logit = m.intercept()
                + s.explain(&v)
                    .unwrap()
                    .iter()
                    .map(|r| r.contribution)
                    .sum::<f64>();
            approx::assert_abs_diff_eq!(1.0 / (1.0 + (-logit).exp()), batch[i], epsilon = 1e-12);
        }
        // Columns in another order are matched by name.
        let swapped = table.select(&["complaints_30d", "recency_days"]).unwrap();
        assert_eq!(s.score_table(&swapped).unwrap(), batch);
    }

    /// Found by the `scorer_json` fuzz target: a saved model with one
    /// coefficient more than it has features loaded, then `explain` indexed
    /// past the end of the standardizer's means.
    #[test]
    fn inconsistent_saved_models_are_rejected_on_load() {
        let json = scorer().to_json().unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let model = v["model"].as_object_mut().unwrap();
        model["coefficients"]
            .as_array_mut()
            .unwrap()
            .push(0.5.into());
        let err = ChurnScorer::from_json(&v.to_string()).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::SchemaMismatch { .. }),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("2 feature names but 3 coefficients"),
            "{err}"
        );
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["model"]["standardizer"]["scales"][0] = (-1.0).into();
        let err = ChurnScorer::from_json(&v.to_string()).unwrap_err();
        assert!(err.to_string().contains("scale 0 is negative"), "{err}");
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["model"]["raw_coefficients"].as_array_mut().unwrap().pop();
        assert!(ChurnScorer::from_json(&v.to_string()).is_err());
        // The untouched file still loads.
        assert_eq!(ChurnScorer::from_json(&json).unwrap(), scorer());
    }

    /// Found by the `invariants` property tests: finite values whose terms
    /// overflow to +∞ and −∞ gave a NaN churn probability.
    #[test]
    fn log_odds_overflow_is_a_typed_error() {
        let mut v: serde_json::Value = serde_json::from_str(&scorer().to_json().unwrap()).unwrap();
        v["model"]["raw_coefficients"] = serde_json::json!([2.0, 2.0]);
        let s = ChurnScorer::from_json(&v.to_string()).unwrap();
        let err = s.score_one(&[f64::MAX, -f64::MAX]).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::NonFinite { row: 0, column, value, .. }
                if column == "recency_days" && *value == f64::INFINITY),
            "{err}"
        );
        let table = FeatureTable::new(
            vec![1u64.into(), 2u64.into()],
            s.features().to_vec(),
            array![[1.0, 1.0], [f64::MAX, -f64::MAX]],
        )
        .unwrap();
        let err = s.score_table(&table).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::NonFinite { row: 1, .. }),
            "{err}"
        );
        // One side overflowing alone saturates to a probability.
        assert_eq!(s.score_one(&[f64::MAX, 1.0]).unwrap(), 1.0);
    }

    #[test]
    fn mismatches_are_typed_errors() {
        let s = scorer();
        assert!(matches!(
            s.score_one(&[1.0]).unwrap_err().kind(),
            ErrorKind::LengthMismatch { .. }
        ));
        assert!(matches!(
            s.score_one(&[f64::NAN, 1.0]).unwrap_err().kind(),
            ErrorKind::NonFinite { .. }
        ));
        let other = FeatureTable::new(vec![1u64.into()], vec!["tenure_days".into()], array![[1.0]])
            .unwrap();
        assert!(matches!(
            s.score_table(&other).unwrap_err().kind(),
            ErrorKind::UnknownName { .. }
        ));
        let json = s.to_json().unwrap();
        let bumped = json.replace("\"schema_version\": 1", "\"schema_version\": 99");
        assert!(matches!(
            ChurnScorer::from_json(&bumped).unwrap_err().kind(),
            ErrorKind::SchemaMismatch { .. }
        ));
        let renamed = json.replacen("\"complaints_30d\"", "\"complaints_90d\"", 1);
        assert!(matches!(
            ChurnScorer::from_json(&renamed).unwrap_err().kind(),
            ErrorKind::SchemaMismatch { .. }
        ));
        assert!(matches!(
            ChurnScorer::from_json("{").unwrap_err().kind(),
            ErrorKind::NotJson { .. }
        ));
        assert_eq!(ChurnScorer::from_json(&json).unwrap(), s);
    }
}
