//! A random forest classifier through smartcore, behind the same traits:
//! for comparison only, not deployable (see [`RandomForest`]).

use ndarray::{Array1, ArrayView2};
use rayon::prelude::*;
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::{Fit, PredictProba};
use crate::features::{FeatureTable, TrainingSet};
use crate::{Error, ErrorKind, Result};

type Tree = RandomForestClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>>;

/// Random forest configuration: bootstrap samples, a random subset of
/// √d features at each split, trees grown by smartcore.
///
/// The churn probability is the share of trees voting churn (smartcore's
/// trees predict classes, not leaf frequencies). Each tree is a one-tree
/// smartcore forest with its own seed (`seed + i`), fitted in parallel, so the
/// forest is the same for the same seed whatever the thread count. It
/// ignores sample and class weights (an error if the training set has weights).
///
/// # Comparison only
///
/// The forest is a baseline to compare with
/// [`LogisticRegression`](super::LogisticRegression) (it implements [`Fit`]
/// and [`PredictProba`], so [`CrossValidation`](super::CrossValidation) and
/// [`Backtest`](super::Backtest) run it), and it is deliberately **not** a
/// [`FittedModel`](super::FittedModel) variant, so it cannot be deployed in a
/// [`ChurnScorer`](crate::score::ChurnScorer) or a [`TableModel`](super::TableModel):
///
/// - smartcore's trees have no faithful serde form, so a saved forest could
///   not be loaded and checked like the other models;
/// - its probabilities are vote shares in steps of `1 / trees`, too coarse
///   to rank or threshold customers, and it has no per-feature contributions
///   to explain a score;
/// - it is slow (about a minute for 100 trees on 72 k × 39 rows).
///
/// The deployable tree model is gradient boosting, which plugs into
/// [`FittedModel`](super::FittedModel) as its own variant.
///
/// # Example
///
/// ```
/// use churnwise::features::{FeatureTable, TrainingSet};
/// use churnwise::model::RandomForest;
/// use ndarray::array;
///
/// let x = FeatureTable::new((0..8u64).map(Into::into).collect(), vec!["recency_days".into()],
///     array![[1.0], [2.0], [3.0], [4.0], [100.0], [120.0], [130.0], [150.0]])?;
/// let train = TrainingSet::new(x, array![false, false, false, false, true, true, true, true])?;
/// let forest = RandomForest::new().trees(20).min_samples_leaf(1).fit(&train)?;
/// let p = forest.predict_proba(array![[2.0], [140.0]].view())?;
/// assert!(p[0] < 0.5 && p[1] > 0.5);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomForest {
    trees: u16,
    max_depth: Option<u16>,
    min_samples_leaf: usize,
    seed: u64,
}

impl Default for RandomForest {
    fn default() -> Self {
        RandomForest {
            trees: 100,
            max_depth: Some(12),
            min_samples_leaf: 20,
            seed: 42,
        }
    }
}

impl RandomForest {
    /// 100 trees, depth at most 12, at least 20 rows per leaf, seed 42.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::RandomForest;
    ///
    /// assert_eq!(RandomForest::new(), RandomForest::default());
    /// ```
    pub fn new() -> Self {
        RandomForest::default()
    }

    /// The number of trees. Defaults to 100. Must be at least 1 (checked by
    /// [`validate`](Self::validate)).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::RandomForest;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..8u64).map(Into::into).collect(), vec!["recency_days".into()],
    /// #     array![[1.0], [2.0], [3.0], [4.0], [100.0], [120.0], [130.0], [150.0]])?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, false, false, true, true, true, true])?;
    /// let forest = RandomForest::new().trees(5).min_samples_leaf(1).fit(&train)?;
    /// // The probability is the share of trees voting churn: a multiple of 1/5.
    /// let p = forest.predict_proba(array![[140.0]].view())?[0];
    /// assert_eq!((p * 5.0).round(), p * 5.0);
    /// assert!(RandomForest::new().trees(0).validate().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn trees(mut self, trees: u16) -> Self {
        self.trees = trees;
        self
    }

    /// The maximum depth (`None`: unlimited). Defaults to 12.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::RandomForest;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..8u64).map(Into::into).collect(), vec!["recency_days".into()],
    /// #     array![[1.0], [2.0], [3.0], [4.0], [100.0], [120.0], [130.0], [150.0]])?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, false, false, true, true, true, true])?;
    /// let stumps = RandomForest::new().trees(10).max_depth(Some(1)).min_samples_leaf(1).fit(&train)?;
    /// assert_eq!(stumps.params().clone(), RandomForest::new().trees(10).max_depth(Some(1)).min_samples_leaf(1));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn max_depth(mut self, depth: Option<u16>) -> Self {
        self.max_depth = depth;
        self
    }

    /// The fewest training rows in a leaf. Defaults to 20. Must be at least 1.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::RandomForest;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..8u64).map(Into::into).collect(), vec!["recency_days".into()],
    /// #     array![[1.0], [2.0], [3.0], [4.0], [100.0], [120.0], [130.0], [150.0]])?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, false, false, true, true, true, true])?;
    /// let forest = RandomForest::new().trees(10).min_samples_leaf(1).fit(&train)?;
    /// assert!(forest.predict_proba(array![[2.0]].view())?[0] < 0.5);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn min_samples_leaf(mut self, rows: usize) -> Self {
        self.min_samples_leaf = rows;
        self
    }

    /// The seed. Defaults to 42.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::RandomForest;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..8u64).map(Into::into).collect(), vec!["recency_days".into()],
    /// #     array![[1.0], [2.0], [3.0], [4.0], [100.0], [120.0], [130.0], [150.0]])?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, false, false, true, true, true, true])?;
    /// let config = RandomForest::new().trees(10).min_samples_leaf(1).seed(7);
    /// let (a, b) = (config.fit(&train)?, config.fit(&train)?);
    /// // Same seed, same forest.
    /// assert_eq!(a.predict_proba(x.values())?, b.predict_proba(x.values())?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks the parameters.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `trees` or `min_samples_leaf`
    /// if 0, or `max_depth` if `Some(0)`.
    pub fn validate(&self) -> Result<()> {
        for (name, value) in [
            ("trees", usize::from(self.trees)),
            ("min_samples_leaf", self.min_samples_leaf),
            ("max_depth", self.max_depth.map_or(1, usize::from)),
        ] {
            if value == 0 {
                return Err(Error::invalid_parameter(name, "must be at least 1, got 0"));
            }
        }
        Ok(())
    }

    /// Grows the forest.
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate); [`ErrorKind::InvalidParameter`] named `weights` if the training set has
    /// weights; [`ErrorKind::SingleClass`] for one class; [`ErrorKind::Fit`] if smartcore fails.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::RandomForest;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..8u64).map(Into::into).collect(), vec!["recency_days".into()],
    /// #     array![[1.0], [2.0], [3.0], [4.0], [100.0], [120.0], [130.0], [150.0]])?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, false, false, true, true, true, true])?;
    /// let forest = RandomForest::new().trees(10).min_samples_leaf(1).fit(&train)?;
    /// assert_eq!(forest.feature_names(), ["recency_days"]);
    /// let weighted = train.clone().with_weights(array![1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0])?;
    /// assert!(RandomForest::new().fit(&weighted).is_err()); // weights are not supported
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit(&self, data: &TrainingSet) -> Result<FittedRandomForest> {
        self.validate()?;
        if data.weights().is_some() {
            return Err(Error::invalid_parameter(
                "weights",
                "the random forest does not support sample weights",
            ));
        }
        let labels = data.labels();
        let positives = labels.iter().filter(|&&l| l).count();
        if positives == 0 || positives == labels.len() {
            return Err(ErrorKind::SingleClass {
                class: positives > 0,
            }
            .into());
        }
        let x = matrix(data.features().values())?;
        let y: Vec<u32> = labels.iter().map(|&l| u32::from(l)).collect();
        let trees = (0..self.trees)
            .into_par_iter()
            .map(|t| {
                let mut params = RandomForestClassifierParameters::default()
                    .with_n_trees(1)
                    .with_min_samples_leaf(self.min_samples_leaf)
                    .with_seed(self.seed.wrapping_add(u64::from(t)));
                params.max_depth = self.max_depth;
                Tree::fit(&x, &y, params).map_err(|e| -> Error {
                    ErrorKind::Fit {
                        what: "random forest",
                        message: e.to_string(),
                    }
                    .into()
                })
            })
            .collect::<Result<Vec<Tree>>>()?;
        Ok(FittedRandomForest {
            params: self.clone(),
            feature_names: data.features().names().to_vec(),
            trees,
        })
    }
}

fn matrix(x: ArrayView2<'_, f64>) -> Result<DenseMatrix<f64>> {
    let (n, d) = x.dim();
    DenseMatrix::new(n, d, x.iter().copied().collect(), false).map_err(|e| {
        ErrorKind::Fit {
            what: "random forest",
            message: e.to_string(),
        }
        .into()
    })
}

/// A grown random forest.
///
/// Not serializable (smartcore's trees are not), so it cannot be saved in a
/// [`ChurnScorer`](crate::score::ChurnScorer); compare it with a logistic
/// regression through [`PredictProba`] or [`model::validate`](super::CrossValidation).
///
/// # Example
///
/// ```
/// use churnwise::features::{FeatureTable, TrainingSet};
/// use churnwise::model::RandomForest;
/// use ndarray::array;
///
/// let x = FeatureTable::new((0..8u64).map(Into::into).collect(), vec!["recency_days".into()],
///     array![[1.0], [2.0], [3.0], [4.0], [100.0], [120.0], [130.0], [150.0]])?;
/// let train = TrainingSet::new(x.clone(), array![false, false, false, false, true, true, true, true])?;
/// let forest = RandomForest::new().trees(10).seed(4).min_samples_leaf(1).fit(&train)?;
/// assert_eq!(forest.feature_names(), ["recency_days"]);
/// let p = forest.predict_proba_table(&x)?; // columns matched by name
/// assert!(p[0] < 0.5 && p[7] > 0.5);
/// assert!(forest.predict_proba(array![[1.0, 2.0]].view()).is_err()); // wrong column count
/// # Ok::<(), churnwise::Error>(())
/// ```
pub struct FittedRandomForest {
    params: RandomForest,
    feature_names: Vec<String>,
    trees: Vec<Tree>,
}

impl std::fmt::Debug for FittedRandomForest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FittedRandomForest")
            .field("params", &self.params)
            .field("feature_names", &self.feature_names)
            .field("trees", &self.trees.len())
            .finish()
    }
}

impl FittedRandomForest {
    /// The configuration it was grown with.
    pub fn params(&self) -> &RandomForest {
        &self.params
    }

    /// The features the forest expects, in order.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Churn probabilities for a table whose columns are matched by name.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`](crate::ErrorKind::UnknownName) if a feature is missing.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::RandomForest;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..8u64).map(Into::into).collect(), vec!["recency_days".into()],
    /// #     array![[1.0], [2.0], [3.0], [4.0], [100.0], [120.0], [130.0], [150.0]])?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, false, false, true, true, true, true])?;
    /// let forest = RandomForest::new().trees(10).min_samples_leaf(1).fit(&train)?;
    /// let p = forest.predict_proba_table(&x)?;
    /// assert!(p[0] < 0.5 && p[7] > 0.5);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn predict_proba_table(&self, table: &FeatureTable) -> Result<Array1<f64>> {
        self.predict_proba(table.select(&self.feature_names)?.values())
    }

    /// Churn probabilities (the share of trees voting churn) for raw
    /// feature rows, columns in [`feature_names`](Self::feature_names) order.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if the column count differs;
    /// [`ErrorKind::Fit`] if smartcore fails to predict.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use churnwise::model::RandomForest;
    /// # use ndarray::array;
    /// # let x = FeatureTable::new((0..8u64).map(Into::into).collect(), vec!["recency_days".into()],
    /// #     array![[1.0], [2.0], [3.0], [4.0], [100.0], [120.0], [130.0], [150.0]])?;
    /// # let train = TrainingSet::new(x.clone(), array![false, false, false, false, true, true, true, true])?;
    /// let forest = RandomForest::new().trees(10).min_samples_leaf(1).fit(&train)?;
    /// let p = forest.predict_proba(array![[2.0], [140.0]].view())?;
    /// assert!(p[0] < 0.5 && p[1] > 0.5);
    /// assert!(forest.predict_proba(array![[1.0, 2.0]].view()).is_err()); // one column expected
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        if x.ncols() != self.feature_names.len() {
            return Err(ErrorKind::LengthMismatch {
                what: "feature columns for the model",
                expected: self.feature_names.len(),
                got: x.ncols(),
            }
            .into());
        }
        let m = matrix(x)?;
        let votes = self
            .trees
            .par_iter()
            .map(|t| {
                t.predict(&m).map_err(|e| -> Error {
                    ErrorKind::Fit {
                        what: "random forest",
                        message: e.to_string(),
                    }
                    .into()
                })
            })
            .collect::<Result<Vec<Vec<u32>>>>()?;
        let n = self.trees.len() as f64;
        Ok((0..x.nrows())
            .map(|i| votes.iter().map(|v| f64::from(v[i])).sum::<f64>() / n)
            .collect())
    }
}

impl PredictProba for FittedRandomForest {
    fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        FittedRandomForest::predict_proba(self, x)
    }

    fn feature_names(&self) -> &[String] {
        FittedRandomForest::feature_names(self)
    }
}

impl Fit for RandomForest {
    type Fitted = FittedRandomForest;
    fn fit(&self, data: &TrainingSet) -> Result<FittedRandomForest> {
        RandomForest::fit(self, data)
    }
}
