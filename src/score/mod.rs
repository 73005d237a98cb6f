//! The deployable churn scorer: feature spec + fitted model + metadata.
//!
//! A [`ChurnScorer`] is what a service loads: it knows which features, in
//! which order, over which windows, the model was trained on, so scoring a
//! [`History`] or a [`FeatureTable`] cannot silently misalign columns. It is
//! `Send + Sync` (share it as `Arc<ChurnScorer>`), scores tables in parallel,
//! scores one customer from a slice without allocating, explains a score,
//! and saves to / loads from JSON with a schema version. It deploys any
//! fitted churn model of the crate through one
//! [`crate::model::FittedModel`].
//!
//! A [`ValueScorer`] does the same for a value model (a ridge regression of,
//! say, next-90-day spend), whose predictions can fill a profile's customer value.

mod profile;
mod value;

pub use profile::{Category, FieldKind, Iter, Profile, ProfileRef, Profiles, builtin_fields};

#[cfg(test)]
pub(crate) use profile::Coded;
pub(crate) use profile::{Builtin, Column, MISSING, builtin};
pub use value::ValueScorer;

use chrono::{DateTime, Utc};
use ndarray::Array1;
use serde::{Deserialize, Serialize};

use crate::features::{FeatureSpec, FeatureTable, Snapshot};
use crate::model::FittedModel;
use crate::model::metrics::Metrics;
use crate::records::History;
use crate::{Error, ErrorKind, Result};

/// The JSON schema version written by this release, for churn and value
/// scorers alike. Version 2 (churnwise 0.2) stores the model tagged by kind
/// and the intercept setting as `"intercept": "fit"`; files of version 1 are
/// refused with [`ErrorKind::SchemaMismatch`].
///
/// # Example
///
/// ```
/// # use churnwise::score::SCHEMA_VERSION;
/// # let (_, scorer) = churnwise::doc_support::small_scorer()?;
/// // Every saved scorer records the schema version it was written with.
/// let json = scorer.to_json()?;
/// assert!(json.contains(&format!("\"schema_version\": {SCHEMA_VERSION}")));
/// # Ok::<(), churnwise::Error>(())
/// ```
pub const SCHEMA_VERSION: u32 = 2;

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

/// Why a customer got their churn score: the base value and each feature's
/// contribution to the log-odds, largest in magnitude first.
///
/// Every kind of model explains itself in this form (for logistic
/// regression, see [`Contributions`](crate::model::Contributions)), so
/// `base_value + Σ contribution` is the customer's log-odds of churn.
///
/// # Example
///
/// See [`ChurnScorer::explain`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Explanation {
    /// The log-odds of churn of the average training customer.
    pub base_value: f64,
    /// One reason per feature, largest contribution in magnitude first.
    pub reasons: Vec<Reason>,
}

impl Explanation {
    /// The customer's log-odds of churn: the base value plus every contribution.
    pub fn log_odds(&self) -> f64 {
        self.base_value + self.reasons.iter().map(|r| r.contribution).sum::<f64>()
    }

    /// The reasons, largest contribution in magnitude first.
    pub fn iter(&self) -> std::slice::Iter<'_, Reason> {
        self.reasons.iter()
    }

    /// The number of reasons (one per feature).
    pub fn len(&self) -> usize {
        self.reasons.len()
    }

    /// Whether there is no reason (a model without features).
    pub fn is_empty(&self) -> bool {
        self.reasons.is_empty()
    }
}

/// `recency_days = 120 (+0.85)`: the feature, the customer's value and its
/// contribution to the log-odds.
impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let contribution = if self.contribution == 0.0 {
            0.0
        } else {
            self.contribution
        };
        write!(
            f,
            "{} = {} ({contribution:+.2})",
            self.feature,
            crate::util::Readable(self.value)
        )
    }
}

/// The base log-odds, then one reason per line, largest first.
///
/// # Example
///
/// ```
/// # let (table, scorer) = churnwise::doc_support::small_scorer()?;
/// let explanation = scorer.explain(&[200.0, 1.0])?;
/// let text = explanation.to_string();
/// assert!(text.starts_with("base log-odds"));
/// assert_eq!(text.lines().count(), 1 + explanation.len());
/// assert!(text.contains(&explanation.reasons[0].to_string()));
/// # Ok::<(), churnwise::Error>(())
/// ```
impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "base log-odds {:+.2}", self.base_value)?;
        for r in &self.reasons {
            write!(f, "\n  {r}")?;
        }
        Ok(())
    }
}

impl<'a> IntoIterator for &'a Explanation {
    type Item = &'a Reason;
    type IntoIter = std::slice::Iter<'a, Reason>;
    fn into_iter(self) -> Self::IntoIter {
        self.reasons.iter()
    }
}

/// The deployable churn scorer.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
/// use churnwise::model::LogisticRegression;
/// use churnwise::score::ChurnScorer;
/// # use churnwise::doc_support::month;
/// # let history = churnwise::doc_support::history(2_000, 4)?;
///
/// let snapshot = Snapshot::new(month(6));
/// let train = ChurnLabeler::new().training_set(&history, &FeatureSpec::all(), &snapshot, &[month(3), month(6)])?;
/// let model = LogisticRegression::new().fit(&train)?;
/// let scorer = Arc::new(ChurnScorer::new(model, &snapshot)?);
///
/// // Score everyone as of a later date, and explain the riskiest customer.
/// let (table, risk) = scorer.score_history(&history, month(10))?;
/// let top = risk.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i).unwrap();
/// let row = table.values().row(top).to_vec();
/// let why = scorer.explain(&row)?;
/// assert_eq!(why.reasons.len(), table.ncols());
/// assert!(why.reasons[0].contribution.abs() >= why.reasons[1].contribution.abs());
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

/// The first field read from a saved scorer, so that a file of another
/// schema version is reported as such rather than as a shape error.
#[derive(Deserialize)]
pub(crate) struct SchemaVersion {
    pub(crate) schema_version: u32,
}

impl ChurnScorer {
    /// A scorer for any fitted churn model of the crate (for example a
    /// [`FittedLogisticRegression`](crate::model::FittedLogisticRegression)),
    /// whose features are extracted with the windows of `snapshot` (its time
    /// is not used). The training info records the crate version; add more
    /// with [`with_training`](Self::with_training).
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
    /// use churnwise::features::Snapshot;
    /// use churnwise::model::{FittedModel, LogisticRegression};
    /// use churnwise::score::ChurnScorer;
    /// # let train = churnwise::doc_support::recency_set()?;
    /// # let as_of = churnwise::doc_support::month(6);
    /// let model = LogisticRegression::new().fit(&train)?;
    /// let scorer = ChurnScorer::new(model.clone(), &Snapshot::new(as_of))?;
    /// assert_eq!(scorer.features(), ["recency_days"]);
    /// assert_eq!(scorer.model(), &FittedModel::from(model));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(model: impl Into<FittedModel>, snapshot: &Snapshot) -> Result<Self> {
        let model = model.into();
        Ok(ChurnScorer {
            schema_version: SCHEMA_VERSION,
            windows_days: snapshot.windows_days().to_vec(),
            features: deployable_features(model.feature_names(), snapshot)?,
            model,
            training: stamped(TrainingInfo::default()),
        })
    }

    /// The scorer with what is known about its training (the crate version
    /// is always this release's).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::TrainingInfo;
    /// # let (table, scorer) = churnwise::doc_support::small_scorer()?;
    /// # let as_of = churnwise::doc_support::month(6);
    /// let mut info = TrainingInfo::default();
    /// info.as_of = Some(as_of);
    /// let scorer = scorer.with_training(info);
    /// assert_eq!(scorer.training().as_of, Some(as_of));
    /// assert_eq!(scorer.training().crate_version, env!("CARGO_PKG_VERSION"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_training(mut self, training: TrainingInfo) -> Self {
        self.training = stamped(training);
        self
    }

    /// The features, in the order [`score_one`](Self::score_one) and [`explain`](Self::explain) expect.
    pub fn features(&self) -> &[String] {
        &self.features
    }

    /// The model.
    pub fn model(&self) -> &FittedModel {
        &self.model
    }

    /// How it was trained.
    pub fn training(&self) -> &TrainingInfo {
        &self.training
    }

    /// Churn probabilities for a table; columns are matched by name, in any
    /// order. Rows are scored in parallel.
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
    /// # let (x, scorer) = churnwise::doc_support::small_scorer()?;
    /// let p = scorer.score_table(&x)?;
    /// assert_eq!(p.len(), 4);
    /// // Columns are matched by name, so their order does not matter.
    /// assert_eq!(scorer.score_table(&x.select(&["orders_total", "recency_days"])?)?, p);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn score_table(&self, table: &FeatureTable) -> Result<Array1<f64>> {
        self.model.predict_proba_table(table)
    }

    /// Churn probabilities for `rows` customers whose features are held as
    /// columns, one slice per feature in [`features`](Self::features)
    /// order: the layout of Arrow arrays and other columnar engines. A
    /// logistic regression reads the columns in place, without a row-major
    /// copy. Bit-identical to [`score_table`](Self::score_table) and
    /// [`score_one`](Self::score_one) on the same rows.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] for the wrong number of columns or a
    /// column that does not hold `rows` values; [`ErrorKind::NonFinite`]
    /// naming the feature and row of a NaN or infinite value, or of values
    /// so extreme that the log-odds overflow.
    ///
    /// # Example
    ///
    /// ```
    /// # let (x, scorer) = churnwise::doc_support::small_scorer()?;
    /// // One slice per feature, in `features()` order: recency_days, orders_total.
    /// let recency = [10.0, 90.0];
    /// let orders = [7.0, 4.0];
    /// let p = scorer.score_columns(&[&recency, &orders], 2)?;
    /// assert_eq!(p[1], scorer.score_one(&[90.0, 4.0])?);
    /// assert!(scorer.score_columns(&[&recency, &[7.0, f64::NAN]], 2).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn score_columns(&self, columns: &[&[f64]], rows: usize) -> Result<Array1<f64>> {
        self.model.predict_proba_columns(columns, rows)
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
    /// # use churnwise::doc_support::month;
    /// # let (_, scorer) = churnwise::doc_support::small_scorer()?;
    /// let history = churnwise::doc_support::history(50, 1)?;
    /// let (table, p) = scorer.score_history(&history, month(10))?;
    /// assert_eq!(table.names(), scorer.features());
    /// assert_eq!(p.len(), table.nrows());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn score_history(
        &self,
        history: &History,
        as_of: DateTime<Utc>,
    ) -> Result<(FeatureTable, Array1<f64>)> {
        let table = extract(history, as_of, &self.windows_days, &self.features)?;
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
    /// # let (x, scorer) = churnwise::doc_support::small_scorer()?;
    /// // Values in `features()` order: recency_days, orders_total.
    /// let p = scorer.score_one(&[90.0, 4.0])?;
    /// assert_eq!(p, scorer.score_table(&x)?[2]);
    /// assert!(scorer.score_one(&[90.0]).is_err()); // wrong length
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn score_one(&self, values: &[f64]) -> Result<f64> {
        check_values(&self.features, values)?;
        self.model.predict_proba_one(values)
    }

    /// Why a customer got their score: each feature's contribution to the
    /// log-odds of churn relative to the average training customer, largest
    /// in magnitude first, and the base value they add to.
    ///
    /// # Formula
    ///
    /// ```text
    /// logit(p) = base_value + Σ_j contribution_j
    /// logistic regression: base_value = intercept (standardized),
    ///                      contribution_j = w_j · (x_j − mean_j) / scale_j
    /// ```
    ///
    /// # Errors
    ///
    /// As for [`score_one`](Self::score_one).
    ///
    /// # Example
    ///
    /// ```
    /// # let (_, scorer) = churnwise::doc_support::small_scorer()?;
    /// let why = scorer.explain(&[200.0, 1.0])?;
    /// assert_eq!(why.reasons.len(), 2);
    /// assert_eq!(why.reasons[0].value, if why.reasons[0].feature == "recency_days" { 200.0 } else { 1.0 });
    /// assert!(why.reasons[0].contribution.abs() >= why.reasons[1].contribution.abs());
    /// // The base value and the contributions add up to the log-odds.
    /// let p = scorer.score_one(&[200.0, 1.0])?;
    /// approx::assert_relative_eq!(why.log_odds(), (p / (1.0 - p)).ln(), max_relative = 1e-9);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn explain(&self, values: &[f64]) -> Result<Explanation> {
        check_values(&self.features, values)?;
        let c = self.model.contributions(values)?;
        let mut reasons: Vec<Reason> = c
            .values
            .iter()
            .enumerate()
            .map(|(j, &contribution)| Reason {
                feature: self.features[j].clone(),
                value: values[j],
                contribution,
            })
            .collect();
        reasons.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
        Ok(Explanation {
            base_value: c.base_value,
            reasons,
        })
    }

    /// The scorer as JSON.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] if serialization fails (it cannot for finite models).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::ChurnScorer;
    /// # let (_, scorer) = churnwise::doc_support::small_scorer()?;
    /// let json = scorer.to_json()?;
    /// assert!(json.contains("\"recency_days\""));
    /// assert!(json.contains("\"type\": \"logistic\""));
    /// assert_eq!(ChurnScorer::from_json(&json)?, scorer);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| json_error(&e))
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
    /// # let (_, scorer) = churnwise::doc_support::small_scorer()?;
    /// let loaded = ChurnScorer::from_json(&scorer.to_json()?)?;
    /// assert_eq!(loaded.score_one(&[42.0, 3.0])?, scorer.score_one(&[42.0, 3.0])?);
    /// let err = ChurnScorer::from_json(r#"{"schema_version": 99}"#).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::SchemaMismatch { .. }));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Self> {
        let scorer: ChurnScorer = from_versioned_json(json)?;
        saved_layout(&scorer.windows_days, &scorer.features)?;
        same_features(scorer.model.feature_names(), &scorer.features)?;
        Ok(scorer)
    }
}

impl ChurnScorer {
    /// Saves the scorer as JSON to a `.json` file that [`load`](Self::load)
    /// reads back.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `path` for another extension;
    /// [`ErrorKind::Io`] naming the file if it cannot be written.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::ChurnScorer;
    /// # let (_, scorer) = churnwise::doc_support::small_scorer()?;
    /// let path = std::env::temp_dir().join(format!("churnwise-scorer-doc-{}.json", std::process::id()));
    /// scorer.save(&path)?;
    /// assert_eq!(ChurnScorer::load(&path)?, scorer);
    /// std::fs::remove_file(&path)?;
    /// let err = ChurnScorer::load(&path).unwrap_err();
    /// assert!(err.to_string().starts_with(&path.display().to_string()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        crate::error::DocumentFormat::of(path, false)?;
        crate::error::write_document(path, &self.to_json().map_err(|e| e.in_file(path))?)
    }

    /// Loads a scorer saved with [`save`](Self::save) (or written by
    /// [`to_json`](Self::to_json)) from a `.json` file.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `path` for another extension;
    /// [`ErrorKind::Io`] if the file cannot be read; otherwise as
    /// [`from_json`](Self::from_json). Every error names the file.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        crate::error::DocumentFormat::of(path, false)?;
        let text = crate::error::read_document(path)?;
        ChurnScorer::from_json(&text).map_err(|e| e.in_file(path))
    }
}

/// A model's features, which must all be extractable with `snapshot`'s
/// windows for the scorer to score histories.
pub(crate) fn deployable_features(names: &[String], snapshot: &Snapshot) -> Result<Vec<String>> {
    FeatureSpec::new(names.to_vec()).resolve(snapshot)?;
    Ok(names.to_vec())
}

/// `training`, stamped with this release's version.
pub(crate) fn stamped(training: TrainingInfo) -> TrainingInfo {
    TrainingInfo {
        crate_version: env!("CARGO_PKG_VERSION").to_owned(),
        ..training
    }
}

/// A deployed model's features extracted from `history` as of `as_of`.
pub(crate) fn extract(
    history: &History,
    as_of: DateTime<Utc>,
    windows_days: &[u32],
    features: &[String],
) -> Result<FeatureTable> {
    let snapshot = Snapshot::new(as_of).windows(windows_days.iter().copied());
    snapshot.validate()?;
    FeatureSpec::new(features.to_vec()).extract(history, &snapshot)
}

/// A saved scorer's windows and features, checked as they load: distinct,
/// increasing windows of 1 to 36 500 days; at least one feature, none
/// twice, each extractable with those windows. A file edited by hand fails
/// here, not when it scores.
pub(crate) fn saved_layout(windows_days: &[u32], features: &[String]) -> Result<()> {
    let mismatch = |reason: String| -> Error { ErrorKind::SchemaMismatch { reason }.into() };
    let snapshot = Snapshot::new(DateTime::<Utc>::UNIX_EPOCH).windows(windows_days.iter().copied());
    if snapshot.windows_days() != windows_days || snapshot.validate().is_err() {
        return Err(mismatch(format!(
            "the saved windows must be distinct and increasing, of 1 to 36500 days, got {windows_days:?}"
        )));
    }
    if features.is_empty() {
        return Err(mismatch("the saved scorer lists no feature".into()));
    }
    let mut sorted: Vec<&String> = features.iter().collect();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(mismatch(format!(
            "the saved scorer lists the feature `{}` twice",
            w[0]
        )));
    }
    deployable_features(features, &snapshot).map_err(|e| mismatch(e.to_string()))?;
    Ok(())
}

/// A saved model's features must be the scorer's feature list, in order.
pub(crate) fn same_features(model: &[String], listed: &[String]) -> Result<()> {
    if model == listed {
        return Ok(());
    }
    Err(ErrorKind::SchemaMismatch {
        reason: "the model's feature names or their order differ from the scorer's feature list"
            .into(),
    }
    .into())
}

/// Parses a saved scorer: first its schema version (another version is a
/// [`ErrorKind::SchemaMismatch`] naming both), then the whole document
/// (JSON of another shape is a schema mismatch too; text that is not JSON
/// is [`ErrorKind::NotJson`]).
pub(crate) fn from_versioned_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T> {
    let as_schema_error = |e: serde_json::Error| -> Error {
        if e.classify() == serde_json::error::Category::Data {
            // A check inside the document (a model's own) already says
            // "model schema mismatch": say it once.
            let message = e.to_string();
            let reason = message
                .strip_prefix("model schema mismatch: ")
                .unwrap_or(&message);
            ErrorKind::SchemaMismatch {
                reason: reason.to_owned(),
            }
            .into()
        } else {
            Error::json("saved scorer", e)
        }
    };
    let version: SchemaVersion = serde_json::from_str(json).map_err(as_schema_error)?;
    if version.schema_version != SCHEMA_VERSION {
        return Err(ErrorKind::SchemaMismatch {
            reason: format!(
                "schema version {} (this release reads {SCHEMA_VERSION})",
                version.schema_version
            ),
        }
        .into());
    }
    serde_json::from_str(json).map_err(as_schema_error)
}

/// Checks one customer's raw values: one per feature, all finite.
pub(crate) fn check_values(features: &[String], values: &[f64]) -> Result<()> {
    if values.len() != features.len() {
        return Err(ErrorKind::LengthMismatch {
            what: "feature values for the scorer",
            expected: features.len(),
            got: values.len(),
        }
        .into());
    }
    if let Some((j, &v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(ErrorKind::NonFinite {
            what: "feature value",
            row: 0,
            column: features[j].clone(),
            value: v,
        }
        .into());
    }
    Ok(())
}

/// A scorer that cannot be written as JSON (a non-finite number).
pub(crate) fn json_error(e: &serde_json::Error) -> Error {
    ErrorKind::InvalidValue {
        what: "scorer",
        index: 0,
        field: "json",
        reason: e.to_string(),
    }
    .into()
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
        ChurnScorer::new(model, &Snapshot::new(t)).unwrap()
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
            let why = s.explain(&v).unwrap();
            let FittedModel::Logistic(m) = s.model() else {
                panic!("a logistic model")
            };
            assert_eq!(why.base_value, m.intercept());
            let logit = why.log_odds();
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
        // Raw coefficients that disagree with the standardized ones: refused,
        // naming the coefficient (and "model schema mismatch" once).
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["model"]["raw_coefficients"][1] = 123.0.into();
        let err = ChurnScorer::from_json(&v.to_string()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("model schema mismatch: raw coefficient 1"),
            "{text}"
        );
        assert_eq!(text.matches("schema mismatch").count(), 1, "{text}");
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["model"]["raw_intercept"] = 5.0.into();
        assert!(
            ChurnScorer::from_json(&v.to_string())
                .unwrap_err()
                .to_string()
                .contains("raw intercept")
        );
        // Layout checks at load: no features, a repeated one, bad windows.
        for (key, value, says) in [
            ("windows_days", serde_json::json!([]), "windows"),
            ("windows_days", serde_json::json!([90, 30]), "windows"),
            ("windows_days", serde_json::json!([30, 99999999]), "windows"),
            ("features", serde_json::json!([]), "no feature"),
            (
                "features",
                serde_json::json!(["recency_days", "recency_days"]),
                "twice",
            ),
        ] {
            let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
            v[key] = value;
            let err = ChurnScorer::from_json(&v.to_string()).unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::SchemaMismatch { .. }),
                "{err}"
            );
            assert!(err.to_string().contains(says), "{err}");
        }
        // The untouched file still loads.
        assert_eq!(ChurnScorer::from_json(&json).unwrap(), scorer());
    }

    /// Found by the `invariants` property tests: finite values whose terms
    /// overflow to +∞ and −∞ gave a NaN churn probability.
    #[test]
    fn log_odds_overflow_is_a_typed_error() {
        let mut v: serde_json::Value = serde_json::from_str(&scorer().to_json().unwrap()).unwrap();
        // Raw and standardized coefficients agree (unit scales, zero means).
        v["model"]["standardizer"]["means"] = serde_json::json!([0.0, 0.0]);
        v["model"]["standardizer"]["scales"] = serde_json::json!([1.0, 1.0]);
        v["model"]["coefficients"] = serde_json::json!([2.0, 2.0]);
        v["model"]["raw_coefficients"] = serde_json::json!([2.0, 2.0]);
        v["model"]["raw_intercept"] = v["model"]["intercept"].clone();
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
        let bumped = json.replace("\"schema_version\": 2", "\"schema_version\": 99");
        assert_ne!(bumped, json);
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

    /// A scorer saved by 0.1 (schema 1: an untagged-by-kind logistic with
    /// `fit_intercept`) is refused for its version, not for its shape.
    #[test]
    fn schema_one_files_are_refused_by_version() {
        let json = scorer().to_json().unwrap();
        let old = json
            .replace("\"schema_version\": 2", "\"schema_version\": 1")
            .replace("\"intercept\": \"fit\"", "\"fit_intercept\": true");
        let err = ChurnScorer::from_json(&old).unwrap_err();
        assert!(
            err.to_string()
                .contains("schema version 1 (this release reads 2)"),
            "{err}"
        );
        // Without a version at all it is a schema mismatch too.
        assert!(matches!(
            ChurnScorer::from_json("{}").unwrap_err().kind(),
            ErrorKind::SchemaMismatch { .. }
        ));
    }
}
