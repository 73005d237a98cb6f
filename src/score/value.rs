//! The deployable value scorer: feature spec + fitted value model.

use chrono::{DateTime, Utc};
use ndarray::Array1;
use serde::{Deserialize, Serialize};

use super::{
    SCHEMA_VERSION, TrainingInfo, check_values, deployable_features, extract, from_versioned_json,
    json_error, same_features, stamped,
};
use crate::Result;
use crate::features::{FeatureTable, Snapshot};
use crate::model::FittedRidgeRegression;
use crate::records::History;

/// The value models a value scorer can hold (serialized tagged by kind, so
/// other kinds can join without changing the format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ValueModel {
    Ridge(FittedRidgeRegression),
}

impl ValueModel {
    fn feature_names(&self) -> &[String] {
        match self {
            ValueModel::Ridge(m) => m.feature_names(),
        }
    }
}

/// The deployable value scorer: predicts a customer's value (for example
/// next-90-day spend) from their features, with the same guarantees as a
/// [`ChurnScorer`](super::ChurnScorer): the feature list and windows the
/// model was trained on, columns matched by name, `Send + Sync`, parallel
/// batch scoring, allocation-free single scoring, and JSON with a schema
/// version that refuses a mismatched file.
///
/// Its output is meant to fill a profile's customer value, so **a negative
/// prediction is clamped to 0**: a linear model extrapolates below zero for
/// customers far from the training data, but no customer is worth less than
/// nothing to a retention budget. (Fit the model on `ln(1 + spend)` and
/// transform back yourself if you need another treatment.)
///
/// # Example
///
/// ```
/// use churnwise::features::{FeatureSpec, Snapshot};
/// use churnwise::model::RidgeRegression;
/// use churnwise::score::ValueScorer;
/// # use churnwise::doc_support::month;
/// # let history = churnwise::doc_support::history(500, 3)?;
///
/// // Features as of June; the target is each customer's spend over the next 90 days.
/// let snapshot = Snapshot::new(month(6));
/// let spec = FeatureSpec::new(["recency_days", "spend_total", "orders_90d"]);
/// let table = spec.extract(&history, &snapshot)?;
/// let next_90d = ndarray::Array1::from_iter((0..table.nrows()).map(|i| 0.3 * table.values()[[i, 1]]));
/// let model = RidgeRegression::new().fit(&table, next_90d.view(), None)?;
/// let scorer = ValueScorer::new(model.clone(), &snapshot)?;
///
/// // Score everyone as of a later date; save and load.
/// let (table, value) = scorer.score_history(&history, month(9))?;
/// assert!(value.iter().all(|&v| v >= 0.0));
/// let loaded = ValueScorer::from_json(&scorer.to_json()?)?;
/// assert_eq!(loaded.score_table(&table)?, value);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueScorer {
    schema_version: u32,
    windows_days: Vec<u32>,
    features: Vec<String>,
    model: ValueModel,
    training: TrainingInfo,
}

impl ValueScorer {
    /// A scorer for a fitted ridge regression whose features are extracted
    /// with the windows of `snapshot` (its time is not used).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`](crate::ErrorKind::UnknownName) if the model uses a feature that the
    /// snapshot's catalog does not have (such a model can still score
    /// tables with [`score_table`](Self::score_table), but not histories).
    pub fn new(model: FittedRidgeRegression, snapshot: &Snapshot) -> Result<Self> {
        Ok(ValueScorer {
            schema_version: SCHEMA_VERSION,
            windows_days: snapshot.windows_days().to_vec(),
            features: deployable_features(model.feature_names(), snapshot)?,
            model: ValueModel::Ridge(model),
            training: stamped(TrainingInfo::default()),
        })
    }

    /// The scorer with what is known about its training (the crate version
    /// is always this release's; churn metrics do not apply to a value model).
    pub fn with_training(mut self, training: TrainingInfo) -> Self {
        self.training = stamped(training);
        self
    }

    /// The features, in the order [`score_one`](Self::score_one) expects.
    pub fn features(&self) -> &[String] {
        &self.features
    }

    /// How it was trained.
    pub fn training(&self) -> &TrainingInfo {
        &self.training
    }

    /// Predicted values for a table, clamped at 0; columns are matched by
    /// name, in any order. Rows are scored in parallel.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`](crate::ErrorKind::UnknownName) if the table lacks a feature of the model;
    /// [`ErrorKind::NonFinite`](crate::ErrorKind::NonFinite) for a row whose values are so extreme that
    /// the prediction's terms overflow to +∞ and −∞ at once.
    pub fn score_table(&self, table: &FeatureTable) -> Result<Array1<f64>> {
        let ValueModel::Ridge(m) = &self.model;
        let mut v = if table.names() == self.features.as_slice() {
            m.predict(table.values())?
        } else {
            m.predict(table.select(&self.features)?.values())?
        };
        v.mapv_inplace(clamp);
        Ok(v)
    }

    /// Extracts the model's features from a history as of `as_of` and
    /// predicts every customer's value.
    ///
    /// # Errors
    ///
    /// As for [`FeatureSpec::extract`](crate::features::FeatureSpec::extract) and [`score_table`](Self::score_table).
    pub fn score_history(
        &self,
        history: &History,
        as_of: DateTime<Utc>,
    ) -> Result<(FeatureTable, Array1<f64>)> {
        let table = extract(history, as_of, &self.windows_days, &self.features)?;
        let values = self.score_table(&table)?;
        Ok((table, values))
    }

    /// One customer's predicted value from raw feature values in
    /// [`features`](Self::features) order, clamped at 0. Allocates nothing;
    /// bit-identical to the same row of [`score_table`](Self::score_table).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`](crate::ErrorKind::LengthMismatch) for the wrong number of values;
    /// [`ErrorKind::NonFinite`](crate::ErrorKind::NonFinite) for a NaN or infinite value, or for values
    /// so extreme that the terms overflow to +∞ and −∞ at once.
    pub fn score_one(&self, values: &[f64]) -> Result<f64> {
        check_values(&self.features, values)?;
        let ValueModel::Ridge(m) = &self.model;
        m.predict_one(values).map(clamp)
    }

    /// The scorer as JSON.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`](crate::ErrorKind::InvalidValue) if serialization fails (it cannot for finite models).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| json_error(&e))
    }

    /// Loads a scorer saved by [`to_json`](Self::to_json).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::SchemaMismatch`](crate::ErrorKind::SchemaMismatch) if the schema version differs, the
    /// model's features disagree with the saved feature list, or the
    /// document is JSON of another shape (a churn scorer, say) or with
    /// inconsistent numbers; [`ErrorKind::NotJson`](crate::ErrorKind::NotJson) for text that is not JSON.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::score::ValueScorer;
    /// # let (_, churn) = churnwise::doc_support::small_scorer()?;
    /// // A churn scorer's file is not a value scorer.
    /// let err = ValueScorer::from_json(&churn.to_json()?).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::SchemaMismatch { .. }));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Self> {
        let scorer: ValueScorer = from_versioned_json(json)?;
        super::saved_layout(&scorer.windows_days, &scorer.features)?;
        same_features(scorer.model.feature_names(), &scorer.features)?;
        Ok(scorer)
    }
}

impl ValueScorer {
    /// Saves the scorer as JSON to a `.json` file that [`load`](Self::load)
    /// reads back.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `path` for another extension; [`ErrorKind::Io`](crate::ErrorKind::Io)
    /// naming the file if it cannot be written.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        crate::error::DocumentFormat::of(path, false)?;
        crate::error::write_document(path, &self.to_json().map_err(|e| e.in_file(path))?)
    }

    /// Loads a scorer saved with [`save`](Self::save) from a `.json` file.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `path` for another extension; [`ErrorKind::Io`](crate::ErrorKind::Io)
    /// if the file cannot be read; otherwise as [`from_json`](Self::from_json).
    /// Every error names the file.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        crate::error::DocumentFormat::of(path, false)?;
        let text = crate::error::read_document(path)?;
        ValueScorer::from_json(&text).map_err(|e| e.in_file(path))
    }
}

/// A customer value is never negative: predictions below 0 (and −0) become 0.
fn clamp(v: f64) -> f64 {
    if v > 0.0 { v } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::model::RidgeRegression;
    use ndarray::array;

    fn table() -> FeatureTable {
        FeatureTable::new(
            (0..5u64).map(Into::into).collect(),
            vec!["spend_total".into(), "recency_days".into()],
            array![
                [100.0, 10.0],
                [20.0, 200.0],
                [300.0, 5.0],
                [50.0, 90.0],
                [0.0, 300.0]
            ],
        )
        .unwrap()
    }

    fn fitted() -> FittedRidgeRegression {
        let y = array![40.0, 2.0, 110.0, 15.0, 0.0];
        RidgeRegression::new()
            .alpha(0.5)
            .fit(&table(), y.view(), None)
            .unwrap()
    }

    fn scorer() -> ValueScorer {
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2024, 1, 1, 0, 0, 0).unwrap();
        ValueScorer::new(fitted(), &Snapshot::new(t)).unwrap()
    }

    fn assert_auto<T: Send + Sync + Unpin>() {}

    #[test]
    fn predictions_equal_the_ridge_clamped_at_zero() {
        assert_auto::<ValueScorer>();
        let s = scorer();
        let t = table();
        let ridge = fitted().predict(t.values()).unwrap();
        let scored = s.score_table(&t).unwrap();
        assert!(
            ridge.iter().any(|&v| v < 0.0),
            "a negative prediction to clamp: {ridge}"
        );
        for i in 0..t.nrows() {
            let expected = if ridge[i] > 0.0 { ridge[i] } else { 0.0 };
            assert_eq!(scored[i].to_bits(), expected.to_bits(), "row {i}");
            let one = s.score_one(&t.values().row(i).to_vec()).unwrap();
            assert_eq!(one.to_bits(), expected.to_bits(), "row {i}");
        }
        // Columns are matched by name.
        let swapped = t.select(&["recency_days", "spend_total"]).unwrap();
        assert_eq!(s.score_table(&swapped).unwrap(), scored);
    }

    #[test]
    fn json_round_trip_is_exact_and_mismatches_are_errors() {
        let s = scorer();
        let json = s.to_json().unwrap();
        assert!(json.contains("\"type\": \"ridge\""), "{json}");
        let back = ValueScorer::from_json(&json).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.to_json().unwrap(), json);
        let t = table();
        assert_eq!(back.score_table(&t).unwrap(), s.score_table(&t).unwrap());

        let other = FeatureTable::new(vec![1u64.into()], vec!["tenure_days".into()], array![[1.0]])
            .unwrap();
        assert!(matches!(
            s.score_table(&other).unwrap_err().kind(),
            ErrorKind::UnknownName { .. }
        ));
        assert!(matches!(
            s.score_one(&[1.0]).unwrap_err().kind(),
            ErrorKind::LengthMismatch { .. }
        ));
        assert!(matches!(
            s.score_one(&[f64::NAN, 1.0]).unwrap_err().kind(),
            ErrorKind::NonFinite { .. }
        ));
        let renamed = json.replacen("\"recency_days\"", "\"recency_dayz\"", 1);
        assert!(matches!(
            ValueScorer::from_json(&renamed).unwrap_err().kind(),
            ErrorKind::SchemaMismatch { .. }
        ));
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v["model"]["raw_coefficients"].as_array_mut().unwrap().pop();
        assert!(matches!(
            ValueScorer::from_json(&v.to_string()).unwrap_err().kind(),
            ErrorKind::SchemaMismatch { .. }
        ));
        let bumped = json.replace("\"schema_version\": 2", "\"schema_version\": 3");
        assert!(matches!(
            ValueScorer::from_json(&bumped).unwrap_err().kind(),
            ErrorKind::SchemaMismatch { .. }
        ));
        assert!(matches!(
            ValueScorer::from_json("[").unwrap_err().kind(),
            ErrorKind::NotJson { .. }
        ));
    }
}
