//! The gradient boosting configuration and its validation.

use serde::{Deserialize, Serialize};

use super::boost::{self, Data};
use super::fitted::FittedGradientBoosting;
use crate::features::TrainingSet;
use crate::model::ClassWeight;
use crate::{Error, ErrorKind, Result};

/// A monotone constraint on one feature: the churn log-odds may only rise
/// (or only fall) as the feature grows, whatever the other features.
///
/// # Example
///
/// ```
/// use churnwise::model::{GradientBoosting, Monotone};
///
/// // More days since the last order never lowers the churn risk.
/// let config = GradientBoosting::new().monotone("recency_days", Monotone::Increasing);
/// assert_eq!(config.monotone_value(), [("recency_days".to_string(), Monotone::Increasing)]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Monotone {
    /// The prediction never decreases as the feature grows.
    Increasing,
    /// The prediction never increases as the feature grows.
    Decreasing,
}

/// When to stop adding trees early.
///
/// # Example
///
/// ```
/// use churnwise::model::{EarlyStopping, GradientBoosting};
///
/// let config = GradientBoosting::new()
///     .trees(1_000)
///     .early_stopping(EarlyStopping::HoldOut { fraction: 0.1, patience: 20 });
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EarlyStopping {
    /// Fit every tree (the default). With
    /// [`fit_with_validation`](GradientBoosting::fit_with_validation) the
    /// validation loss is still recorded and every tree kept.
    #[default]
    Off,
    /// Hold out `fraction` of the training rows (stratified by label, drawn
    /// with the seed), and stop once the held-out log-loss has not improved
    /// for `patience` trees; the model keeps the trees up to the best one.
    /// With [`fit_with_validation`](GradientBoosting::fit_with_validation)
    /// nothing is held out: the given set is used with the same patience.
    HoldOut {
        /// Share of training rows held out, in (0, 0.5].
        fraction: f64,
        /// Trees without improvement before stopping, ≥ 1.
        patience: u32,
    },
}

/// Gradient-boosted decision trees for churn: a histogram booster (as
/// LightGBM and scikit-learn's `HistGradientBoostingClassifier`) that fits
/// [`trees`](Self::trees) regression trees one after the other, each on the
/// gradient of the log-loss of the ensemble so far. [`fit`](Self::fit)
/// returns a [`FittedGradientBoosting`].
///
/// Trees find interactions and thresholds that a linear model misses
/// ("recent *and* a complaint"), need no scaling, and route missing values
/// (NaN) to the side that suits them. The fitted model deploys like a
/// logistic regression (in a [`FittedModel`](crate::model::FittedModel)),
/// explains each score exactly (TreeSHAP) and can be calibrated.
///
/// How it works:
///
/// - every feature is cut into at most [`bins`](Self::bins) bins at
///   quantiles of (up to 200 000 of) its training values; NaN gets a bin of
///   its own;
/// - trees grow leaf-wise (always splitting the leaf that reduces the loss
///   most) up to [`max_leaves`](Self::max_leaves) leaves and, optionally,
///   [`max_depth`](Self::max_depth); a split needs
///   [`min_rows_per_leaf`](Self::min_rows_per_leaf) rows on each side;
/// - a leaf's value is the Newton step `−G / (H + l2)` times the
///   [`learning_rate`](Self::learning_rate), from the sums of gradients
///   `G` and hessians `H` of its rows;
/// - rows and features can be subsampled per tree (with the
///   [`seed`](Self::seed)); sample weights (from the training set) and
///   [`class_weight`](Self::class_weight) multiply each row's gradient;
/// - histograms are built in parallel over features and every sum runs in
///   a fixed order, so the model is bit-identical for a seed whatever the
///   number of threads.
///
/// # Formula
///
/// ```text
/// F₀ = log(Σ wᵢ yᵢ / Σ wᵢ (1 − yᵢ))                  (the weighted base rate)
/// gᵢ = wᵢ (σ(Fᵢ) − yᵢ),  hᵢ = wᵢ σ(Fᵢ) (1 − σ(Fᵢ))
/// gain(split) = ½ [G_L² / (H_L + λ) + G_R² / (H_R + λ) − G² / (H + λ)]
/// leaf value  = −η · G / (H + λ)
/// P(churn) = σ(F₀ + Σ_trees leaf value)
/// ```
///
/// # Example
///
/// ```
/// use churnwise::model::GradientBoosting;
/// # let (train, test) = churnwise::doc_support::churn_split(3_000, 4)?;
///
/// let model = GradientBoosting::new().trees(50).learning_rate(0.1).max_leaves(15).fit(&train)?;
/// let p = model.predict_proba(test.features().values())?;
/// let auc = churnwise::model::metrics::roc_auc(p.as_slice().unwrap(), test.labels().as_slice().unwrap(), None)?;
/// assert!(auc > 0.7);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GradientBoosting {
    trees: u32,
    learning_rate: f64,
    max_leaves: u32,
    max_depth: Option<u32>,
    min_rows_per_leaf: u32,
    l2: f64,
    bins: u32,
    row_subsample: f64,
    column_subsample: f64,
    seed: u64,
    class_weight: ClassWeight,
    early_stopping: EarlyStopping,
    monotone: Vec<(String, Monotone)>,
}

impl Default for GradientBoosting {
    fn default() -> Self {
        GradientBoosting {
            trees: 100,
            learning_rate: 0.1,
            max_leaves: 31,
            max_depth: None,
            min_rows_per_leaf: 20,
            l2: 0.0,
            bins: 255,
            row_subsample: 1.0,
            column_subsample: 1.0,
            seed: 42,
            class_weight: ClassWeight::None,
            early_stopping: EarlyStopping::Off,
            monotone: Vec::new(),
        }
    }
}

impl GradientBoosting {
    /// LightGBM's defaults: 100 trees, learning rate 0.1, 31 leaves, no
    /// depth limit, 20 rows per leaf, no L2, 255 bins, no subsampling, seed
    /// 42, no class weights, no early stopping, no monotone constraints.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::GradientBoosting;
    ///
    /// let config = GradientBoosting::new();
    /// assert_eq!(config.trees_value(), 100);
    /// assert!(config.validate().is_ok());
    /// ```
    pub fn new() -> Self {
        GradientBoosting::default()
    }

    /// The number of trees (boosting rounds). Defaults to 100. Must be 1 to 100 000.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::GradientBoosting;
    /// # let (train, _) = churnwise::doc_support::churn_split(500, 1)?;
    /// let model = GradientBoosting::new().trees(10).fit(&train)?;
    /// assert_eq!(model.trees(), 10);
    /// assert!(GradientBoosting::new().trees(0).validate().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn trees(mut self, n: u32) -> Self {
        self.trees = n;
        self
    }

    /// The shrinkage applied to every tree. Defaults to `0.1`. Must be in (0, 1].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::GradientBoosting;
    /// assert!(GradientBoosting::new().learning_rate(0.05).validate().is_ok());
    /// assert!(GradientBoosting::new().learning_rate(0.0).validate().is_err());
    /// ```
    pub fn learning_rate(mut self, rate: f64) -> Self {
        self.learning_rate = rate;
        self
    }

    /// The most leaves per tree. Defaults to 31. Must be 2 to 65 536.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::GradientBoosting;
    /// # let (train, _) = churnwise::doc_support::churn_split(500, 1)?;
    /// // Stumps: one split per tree.
    /// let model = GradientBoosting::new().max_leaves(2).trees(5).fit(&train)?;
    /// assert!(model.leaves().iter().all(|&n| n <= 2));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn max_leaves(mut self, n: u32) -> Self {
        self.max_leaves = n;
        self
    }

    /// The deepest a leaf may be (the root is depth 0), or `None` for no
    /// limit beyond [`max_leaves`](Self::max_leaves). Defaults to `None`.
    /// Must be at least 1.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::GradientBoosting;
    /// // Depth 3 allows at most 8 leaves.
    /// let config = GradientBoosting::new().max_depth(Some(3));
    /// assert!(config.validate().is_ok());
    /// assert!(GradientBoosting::new().max_depth(Some(0)).validate().is_err());
    /// ```
    pub fn max_depth(mut self, depth: Option<u32>) -> Self {
        self.max_depth = depth;
        self
    }

    /// The fewest training rows in a leaf. Defaults to 20. Must be at least 1.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::GradientBoosting;
    /// assert!(GradientBoosting::new().min_rows_per_leaf(50).validate().is_ok());
    /// assert!(GradientBoosting::new().min_rows_per_leaf(0).validate().is_err());
    /// ```
    pub fn min_rows_per_leaf(mut self, n: u32) -> Self {
        self.min_rows_per_leaf = n;
        self
    }

    /// The L2 penalty on leaf values (λ in the formula). Defaults to `0.0`.
    /// Must be finite and ≥ 0.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::GradientBoosting;
    /// assert!(GradientBoosting::new().l2(1.0).validate().is_ok());
    /// assert!(GradientBoosting::new().l2(-1.0).validate().is_err());
    /// ```
    pub fn l2(mut self, lambda: f64) -> Self {
        self.l2 = lambda;
        self
    }

    /// The most histogram bins per feature (NaN gets one more). Defaults to
    /// 255. Must be 2 to 255.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::GradientBoosting;
    /// assert!(GradientBoosting::new().bins(63).validate().is_ok());
    /// assert!(GradientBoosting::new().bins(256).validate().is_err());
    /// ```
    pub fn bins(mut self, n: u32) -> Self {
        self.bins = n;
        self
    }

    /// The share of rows each tree is grown on (drawn per tree from the
    /// seed). Defaults to `1.0`. Must be in (0, 1].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::GradientBoosting;
    /// assert!(GradientBoosting::new().row_subsample(0.8).validate().is_ok());
    /// assert!(GradientBoosting::new().row_subsample(0.0).validate().is_err());
    /// ```
    pub fn row_subsample(mut self, share: f64) -> Self {
        self.row_subsample = share;
        self
    }

    /// The share of features each tree may split on (drawn per tree from
    /// the seed; at least one). Defaults to `1.0`. Must be in (0, 1].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::GradientBoosting;
    /// assert!(GradientBoosting::new().column_subsample(0.5).validate().is_ok());
    /// assert!(GradientBoosting::new().column_subsample(1.5).validate().is_err());
    /// ```
    pub fn column_subsample(mut self, share: f64) -> Self {
        self.column_subsample = share;
        self
    }

    /// The seed for subsampling, bin sampling and the early-stopping
    /// hold-out. Defaults to 42.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::GradientBoosting;
    /// # let (train, _) = churnwise::doc_support::churn_split(500, 1)?;
    /// let config = GradientBoosting::new().trees(5).row_subsample(0.5).seed(7);
    /// assert_eq!(config.fit(&train)?, config.fit(&train)?); // the same seed, the same trees
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Class weights, multiplying each row's sample weight. Defaults to
    /// [`ClassWeight::None`]. Custom weights must be finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::{ClassWeight, GradientBoosting};
    /// # let (train, test) = churnwise::doc_support::churn_split(500, 1)?;
    /// let plain = GradientBoosting::new().trees(10).fit(&train)?;
    /// let balanced = GradientBoosting::new().trees(10).class_weight(ClassWeight::Balanced).fit(&train)?;
    /// // Weighting the rarer churners up raises the predicted rates.
    /// let mean = |p: ndarray::Array1<f64>| p.mean().unwrap_or(0.0);
    /// assert!(mean(balanced.predict_proba(test.features().values())?) > mean(plain.predict_proba(test.features().values())?));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn class_weight(mut self, weight: ClassWeight) -> Self {
        self.class_weight = weight;
        self
    }

    /// Early stopping. Defaults to [`EarlyStopping::Off`].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::{EarlyStopping, GradientBoosting};
    /// # let (train, _) = churnwise::doc_support::churn_split(2_000, 1)?;
    /// let stop = EarlyStopping::HoldOut { fraction: 0.2, patience: 5 };
    /// let model = GradientBoosting::new().trees(500).learning_rate(0.3).early_stopping(stop).fit(&train)?;
    /// assert!(model.trees() < 500);
    /// assert_eq!(model.validation_loss().len(), model.trees_fitted() as usize);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn early_stopping(mut self, rule: EarlyStopping) -> Self {
        self.early_stopping = rule;
        self
    }

    /// Adds a monotone constraint on the feature named `feature` (replacing
    /// an earlier one on it). None by default. The name must be a feature
    /// of the training set (checked by [`fit`](Self::fit)).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::{GradientBoosting, Monotone};
    /// # let (train, _) = churnwise::doc_support::churn_split(1_000, 1)?;
    /// let model = GradientBoosting::new().trees(20).monotone("recency_days", Monotone::Increasing).fit(&train)?;
    /// // Raising recency alone never lowers anyone's churn probability.
    /// let j = model.feature_names().iter().position(|n| n == "recency_days").unwrap();
    /// let mut row = train.features().values().row(0).to_vec();
    /// let mut last = 0.0;
    /// for days in [0.0, 10.0, 30.0, 90.0, 180.0, 365.0] {
    ///     row[j] = days;
    ///     let p = model.predict_proba(ndarray::ArrayView2::from_shape((1, row.len()), &row).unwrap())?[0];
    ///     assert!(p >= last);
    ///     last = p;
    /// }
    /// assert!(GradientBoosting::new().monotone("no_such_feature", Monotone::Increasing).fit(&train).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn monotone(mut self, feature: impl Into<String>, direction: Monotone) -> Self {
        let feature = feature.into();
        self.monotone.retain(|(f, _)| *f != feature);
        self.monotone.push((feature, direction));
        self
    }

    /// The number of trees.
    pub fn trees_value(&self) -> u32 {
        self.trees
    }

    /// The learning rate.
    pub fn learning_rate_value(&self) -> f64 {
        self.learning_rate
    }

    /// The most leaves per tree.
    pub fn max_leaves_value(&self) -> u32 {
        self.max_leaves
    }

    /// The early-stopping rule.
    pub fn early_stopping_value(&self) -> EarlyStopping {
        self.early_stopping
    }

    /// The monotone constraints, by feature name.
    pub fn monotone_value(&self) -> &[(String, Monotone)] {
        &self.monotone
    }

    /// Checks the parameters.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming the first parameter out of
    /// the range its setter documents.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::{ErrorKind, model::GradientBoosting};
    ///
    /// let err = GradientBoosting::new().learning_rate(f64::NAN).validate().unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "learning_rate", .. }));
    /// ```
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &'static str, reason: String| Err(Error::invalid_parameter(name, reason));
        if !(1..=100_000).contains(&self.trees) {
            return bad("trees", format!("must be 1 to 100000, got {}", self.trees));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return bad(
                "learning_rate",
                format!("must be in (0, 1], got {}", self.learning_rate),
            );
        }
        if !(2..=65_536).contains(&self.max_leaves) {
            return bad(
                "max_leaves",
                format!("must be 2 to 65536, got {}", self.max_leaves),
            );
        }
        if self.max_depth == Some(0) {
            return bad("max_depth", "must be at least 1 (or None), got 0".into());
        }
        if self.min_rows_per_leaf == 0 {
            return bad("min_rows_per_leaf", "must be at least 1, got 0".into());
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return bad("l2", format!("must be finite and >= 0, got {}", self.l2));
        }
        if !(2..=255).contains(&self.bins) {
            return bad("bins", format!("must be 2 to 255, got {}", self.bins));
        }
        for (name, v) in [
            ("row_subsample", self.row_subsample),
            ("column_subsample", self.column_subsample),
        ] {
            if !(v > 0.0 && v <= 1.0) {
                return bad(name, format!("must be in (0, 1], got {v}"));
            }
        }
        if let ClassWeight::Custom { negative, positive } = self.class_weight
            && !(negative.is_finite() && negative > 0.0 && positive.is_finite() && positive > 0.0)
        {
            return bad(
                "class_weight",
                format!("weights must be finite and > 0, got {negative} and {positive}"),
            );
        }
        if let EarlyStopping::HoldOut { fraction, patience } = self.early_stopping {
            if !(fraction > 0.0 && fraction <= 0.5) {
                return bad(
                    "early_stopping",
                    format!("the hold-out fraction must be in (0, 0.5], got {fraction}"),
                );
            }
            if patience == 0 {
                return bad(
                    "early_stopping",
                    "the patience must be at least 1, got 0".into(),
                );
            }
        }
        Ok(())
    }

    /// Fits on a training set (holding part of it out if early stopping is on).
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate); [`ErrorKind::Empty`] without
    /// rows or features; [`ErrorKind::SingleClass`] if one class has no
    /// weight (or, with early stopping, too few rows to hold any out);
    /// [`ErrorKind::UnknownName`] for a monotone constraint on a feature
    /// the set lacks.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::GradientBoosting;
    /// # let (train, _) = churnwise::doc_support::churn_split(500, 1)?;
    /// let model = GradientBoosting::new().trees(20).fit(&train)?;
    /// assert_eq!(model.feature_names(), train.features().names());
    /// let one_class = churnwise::features::TrainingSet::new(train.features().clone(), ndarray::Array1::from_elem(train.labels().len(), false))?;
    /// assert!(GradientBoosting::new().fit(&one_class).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit(&self, data: &TrainingSet) -> Result<FittedGradientBoosting> {
        self.validate()?;
        boost::fit(self, Data::of(data), None)
    }

    /// Fits on `data`, measuring the log-loss on `validation` after every
    /// tree; with [`EarlyStopping::HoldOut`] it stops after `patience`
    /// trees without improvement (nothing is held out of `data`) and keeps
    /// the trees up to the best one.
    ///
    /// # Errors
    ///
    /// As for [`fit`](Self::fit); [`ErrorKind::SchemaMismatch`] if the
    /// validation set's feature names differ from the training set's.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::{EarlyStopping, GradientBoosting};
    /// # let (train, test) = churnwise::doc_support::churn_split(2_000, 1)?;
    /// let stop = EarlyStopping::HoldOut { fraction: 0.1, patience: 10 };
    /// let model = GradientBoosting::new().trees(300).learning_rate(0.3).early_stopping(stop).fit_with_validation(&train, &test)?;
    /// let losses = model.validation_loss();
    /// // The kept trees end at the lowest validation loss.
    /// let best = losses.iter().cloned().fold(f64::INFINITY, f64::min);
    /// assert_eq!(losses[model.trees() as usize - 1], best);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit_with_validation(
        &self,
        data: &TrainingSet,
        validation: &TrainingSet,
    ) -> Result<FittedGradientBoosting> {
        self.validate()?;
        if validation.features().names() != data.features().names() {
            return Err(ErrorKind::SchemaMismatch {
                reason: "the validation set's features differ from the training set's".into(),
            }
            .into());
        }
        boost::fit(self, Data::of(data), Some(Data::of(validation)))
    }

    pub(super) fn parts(&self) -> Parts<'_> {
        Parts {
            trees: self.trees,
            learning_rate: self.learning_rate,
            max_leaves: self.max_leaves,
            max_depth: self.max_depth,
            min_rows_per_leaf: self.min_rows_per_leaf,
            l2: self.l2,
            bins: self.bins,
            row_subsample: self.row_subsample,
            column_subsample: self.column_subsample,
            seed: self.seed,
            class_weight: self.class_weight,
            early_stopping: self.early_stopping,
            monotone: &self.monotone,
        }
    }
}

/// The parameters, read by the booster.
pub(super) struct Parts<'a> {
    pub(super) trees: u32,
    pub(super) learning_rate: f64,
    pub(super) max_leaves: u32,
    pub(super) max_depth: Option<u32>,
    pub(super) min_rows_per_leaf: u32,
    pub(super) l2: f64,
    pub(super) bins: u32,
    pub(super) row_subsample: f64,
    pub(super) column_subsample: f64,
    pub(super) seed: u64,
    pub(super) class_weight: ClassWeight,
    pub(super) early_stopping: EarlyStopping,
    pub(super) monotone: &'a [(String, Monotone)],
}
