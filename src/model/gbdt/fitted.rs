//! The fitted ensemble: scoring, explanations, importances, and its
//! serialized form (checked on load).

use ndarray::{Array1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::GradientBoosting;
use super::shap::tree_shap;
use super::tree::Tree;
use crate::features::FeatureTable;
use crate::model::Contributions;
use crate::model::linear::check_column_count;
use crate::model::link::{sigmoid, sigmoid_in_place};
use crate::{Error, ErrorKind, Result};

/// Rows per chunk of parallel prediction (fixed: results do not depend on
/// the thread count).
const CHUNK: usize = 2048;

/// A fitted gradient-boosted tree ensemble for churn: the base log-odds,
/// the trees, and the features it reads, in order.
///
/// Scores are `σ(base + Σ tree values)`; batch scoring runs in parallel in
/// fixed chunks, and one row scores without allocating, bit-identical to
/// its row of the batch. Explanations are exact TreeSHAP values (see
/// [`contributions`](Self::contributions)). Serializes to JSON (one array
/// per node field per tree) and checks the numbers and the tree shapes on
/// load.
///
/// # Example
///
/// ```
/// use churnwise::model::{FittedModel, GradientBoosting};
/// # let (train, test) = churnwise::doc_support::churn_split(1_000, 2)?;
///
/// let model = GradientBoosting::new().trees(30).fit(&train)?;
/// let row = test.features().values().row(0).to_vec();
/// let why = model.contributions(&row)?;
/// let p = model.predict_proba(test.features().values())?[0];
/// approx::assert_relative_eq!(why.base_value + why.values.iter().sum::<f64>(), (p / (1.0 - p)).ln(), max_relative = 1e-9);
/// // Deployed and saved like any churn model.
/// let deployed = FittedModel::from(model);
/// let back: FittedModel = serde_json::from_str(&serde_json::to_string(&deployed).unwrap()).unwrap();
/// assert_eq!(back, deployed);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FittedRepr")]
pub struct FittedGradientBoosting {
    params: GradientBoosting,
    feature_names: Vec<String>,
    base_score: f64,
    trees_fitted: u32,
    validation_loss: Vec<f64>,
    pub(super) trees: Vec<Tree>,
}

/// The serialized form, checked on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FittedRepr {
    params: GradientBoosting,
    feature_names: Vec<String>,
    base_score: f64,
    trees_fitted: u32,
    validation_loss: Vec<f64>,
    trees: Vec<Tree>,
}

impl TryFrom<FittedRepr> for FittedGradientBoosting {
    type Error = Error;

    fn try_from(r: FittedRepr) -> Result<Self> {
        let schema = |reason: String| -> Error { ErrorKind::SchemaMismatch { reason }.into() };
        r.params
            .validate()
            .map_err(|e| schema(format!("gradient boosting parameters: {e}")))?;
        if !r.base_score.is_finite() {
            return Err(schema(format!(
                "the base score is not finite ({})",
                r.base_score
            )));
        }
        if r.trees.is_empty() {
            return Err(schema("the ensemble has no trees".into()));
        }
        let d = r.feature_names.len();
        for (k, t) in r.trees.iter().enumerate() {
            if t.features_used() > d {
                return Err(schema(format!(
                    "tree {k} splits on feature {} but the model has {d} feature names",
                    t.features_used() - 1
                )));
            }
            for (i, n) in t.nodes.iter().enumerate() {
                if !n.is_leaf() {
                    let (l, rr) = (t.nodes[n.left as usize], t.nodes[n.right as usize]);
                    if !(n.cover > 0.0 && l.cover + rr.cover == n.cover) {
                        return Err(schema(format!(
                            "tree {k} node {i}: its cover {} is not positive or not its children's sum",
                            n.cover
                        )));
                    }
                }
            }
        }
        Ok(FittedGradientBoosting {
            params: r.params,
            feature_names: r.feature_names,
            base_score: r.base_score,
            trees_fitted: r.trees_fitted,
            validation_loss: r.validation_loss,
            trees: r.trees,
        })
    }
}

impl FittedGradientBoosting {
    pub(super) fn new(
        params: GradientBoosting,
        feature_names: Vec<String>,
        base_score: f64,
        trees: Vec<Tree>,
        trees_fitted: u32,
        validation_loss: Vec<f64>,
    ) -> Self {
        FittedGradientBoosting {
            params,
            feature_names,
            base_score,
            trees_fitted,
            validation_loss,
            trees,
        }
    }

    /// The configuration it was fitted with.
    pub fn params(&self) -> &GradientBoosting {
        &self.params
    }

    /// The features, in the order rows give their values.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// The log-odds before any tree: the weighted training churn rate's.
    pub fn base_score(&self) -> f64 {
        self.base_score
    }

    /// The number of trees kept (fewer than fitted after early stopping).
    pub fn trees(&self) -> u32 {
        self.trees.len() as u32
    }

    /// The number of trees fitted before stopping.
    pub fn trees_fitted(&self) -> u32 {
        self.trees_fitted
    }

    /// The validation log-loss after each fitted tree (empty without
    /// validation data).
    pub fn validation_loss(&self) -> &[f64] {
        &self.validation_loss
    }

    /// The number of leaves of each tree.
    pub fn leaves(&self) -> Vec<usize> {
        self.trees
            .iter()
            .map(|t| t.nodes.iter().filter(|n| n.is_leaf()).count())
            .collect()
    }

    /// Churn probabilities for raw feature rows (columns in
    /// [`feature_names`](Self::feature_names) order); NaN is a missing
    /// value, routed the way training chose. Rows are scored in parallel.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if the column count differs.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::GradientBoosting;
    /// # let (train, test) = churnwise::doc_support::churn_split(500, 3)?;
    /// let model = GradientBoosting::new().trees(20).fit(&train)?;
    /// let p = model.predict_proba(test.features().values())?;
    /// assert!(p.iter().all(|p| (0.0..=1.0).contains(p)));
    /// // A missing value is scored too.
    /// let mut row = test.features().values().row(0).to_owned();
    /// row[0] = f64::NAN;
    /// assert!(model.predict_proba(row.view().insert_axis(ndarray::Axis(0)))?[0].is_finite());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        let mut out = self.predict_log_odds(x)?;
        out.par_chunks_mut(CHUNK).for_each(sigmoid_in_place);
        Ok(Array1::from(out))
    }

    /// Churn probabilities for a feature table, whose columns are matched by name.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] if the table lacks a feature the model uses.
    pub fn predict_proba_table(&self, table: &FeatureTable) -> Result<Array1<f64>> {
        if table.names() == self.feature_names.as_slice() {
            return self.predict_proba(table.values());
        }
        self.predict_proba(table.select(&self.feature_names)?.values())
    }

    /// The log-odds of churn of each row, in parallel chunks.
    pub(crate) fn predict_log_odds(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        self.check_width(x.ncols())?;
        let d = x.ncols();
        let mut out = vec![self.base_score; x.nrows()];
        out.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, chunk)| {
                let first = c * CHUNK;
                match x.as_slice() {
                    Some(data) => {
                        let rows = &data[first * d..(first + chunk.len()) * d];
                        for t in &self.trees {
                            for (o, row) in chunk.iter_mut().zip(rows.chunks_exact(d.max(1))) {
                                *o += t.value(row);
                            }
                        }
                    }
                    None => {
                        let mut row = vec![0.0; d];
                        for (k, o) in chunk.iter_mut().enumerate() {
                            for (v, x) in row.iter_mut().zip(x.row(first + k)) {
                                *v = *x;
                            }
                            for t in &self.trees {
                                *o += t.value(&row);
                            }
                        }
                    }
                }
            });
        Ok(out)
    }

    /// One row's churn probability (raw values in feature order), computed
    /// as [`predict_proba`](Self::predict_proba) computes each row, without
    /// allocating.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] for the wrong number of values.
    pub(crate) fn predict_proba_one(&self, values: &[f64]) -> Result<f64> {
        self.check_width(values.len())?;
        let mut s = self.base_score;
        for t in &self.trees {
            s += t.value(values);
        }
        Ok(sigmoid(s))
    }

    /// Each feature's exact SHAP value for one row (raw values in feature
    /// order), and the base value they add to: the log-odds of churn is
    /// `base_value + Σ values`.
    ///
    /// Path-dependent TreeSHAP: feature `j`'s value is its Shapley value in
    /// the game `v(S) = E[log-odds | the features in S]`, where the
    /// expectation follows the training rows down each tree (at a split on
    /// a feature outside `S`, both sides, weighted by their share of the
    /// rows). The base value is `v(∅)`, the average training customer's
    /// log-odds; a feature no tree splits on gets 0.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] for the wrong number of values.
    ///
    /// # Example
    ///
    /// See [`FittedGradientBoosting`].
    pub fn contributions(&self, values: &[f64]) -> Result<Contributions> {
        self.check_width(values.len())?;
        let mut phi = vec![0.0; values.len()];
        let mut base = self.base_score;
        for t in &self.trees {
            tree_shap(t, values, &mut phi);
            base += t.nodes[0].value;
        }
        Ok(Contributions {
            base_value: base,
            values: phi,
        })
    }

    /// Each feature's total gain: the training-loss reduction of every
    /// split on it, summed over the trees (LightGBM's
    /// `importance_type="gain"`, up to a factor of 2), in feature order.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::GradientBoosting;
    /// # let (train, _) = churnwise::doc_support::churn_split(1_000, 3)?;
    /// let model = GradientBoosting::new().trees(20).fit(&train)?;
    /// let gain = model.feature_importance_gain();
    /// assert_eq!(gain.len(), model.feature_names().len());
    /// assert!(gain.iter().all(|&g| g >= 0.0) && gain.iter().sum::<f64>() > 0.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn feature_importance_gain(&self) -> Vec<f64> {
        let mut gain = vec![0.0; self.feature_names.len()];
        for t in &self.trees {
            for n in t.nodes.iter().filter(|n| !n.is_leaf()) {
                gain[n.feature as usize] += n.gain;
            }
        }
        gain
    }

    /// Each feature's mean absolute SHAP value over the rows of `x`
    /// (columns in feature order): how much it moves a typical customer's
    /// log-odds. Rows are explained in parallel and summed in order.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if the column count differs;
    /// [`ErrorKind::Empty`] without rows.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::GradientBoosting;
    /// # let (train, test) = churnwise::doc_support::churn_split(1_000, 3)?;
    /// let model = GradientBoosting::new().trees(20).fit(&train)?;
    /// let shap = model.feature_importance_shap(test.features().values())?;
    /// // Features no tree uses have importance 0 by either measure.
    /// for (s, g) in shap.iter().zip(model.feature_importance_gain()) {
    ///     assert_eq!(*s == 0.0, g == 0.0);
    /// }
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn feature_importance_shap(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        self.check_width(x.ncols())?;
        let n = x.nrows();
        if n == 0 {
            return Err(ErrorKind::Empty("no rows to average SHAP values over".into()).into());
        }
        let d = x.ncols();
        let rows: Vec<usize> = (0..n).collect();
        let parts: Vec<Vec<f64>> = rows
            .par_chunks(256)
            .map(|chunk| {
                let mut sum = vec![0.0; d];
                let mut phi = vec![0.0; d];
                let mut row = vec![0.0; d];
                for &i in chunk {
                    for (v, x) in row.iter_mut().zip(x.row(i)) {
                        *v = *x;
                    }
                    phi.iter_mut().for_each(|p| *p = 0.0);
                    for t in &self.trees {
                        tree_shap(t, &row, &mut phi);
                    }
                    for (s, p) in sum.iter_mut().zip(&phi) {
                        *s += p.abs();
                    }
                }
                sum
            })
            .collect();
        let mut total = vec![0.0; d];
        for p in &parts {
            for (t, v) in total.iter_mut().zip(p) {
                *t += v;
            }
        }
        Ok(total.into_iter().map(|t| t / n as f64).collect())
    }

    fn check_width(&self, got: usize) -> Result<()> {
        check_column_count(self.feature_names.len(), got)
    }
}
