//! Gradient-boosted decision trees for churn: a histogram booster written
//! for this crate (leaf-wise growth, one byte per binned value, histogram
//! subtraction, native missing values), deployable and explainable.
//!
//! The folder is split by role:
//!
//! - `config`: [`GradientBoosting`] (the configuration, its
//!   [`validate`](GradientBoosting::validate) and `fit`), [`EarlyStopping`]
//!   and [`Monotone`];
//! - `bins`: quantile binning of the training matrix, column by column;
//! - `grow`: growing one tree on gradient histograms;
//! - `boost`: the boosting loop (gradients, sampling, early stopping);
//! - `tree`: a tree's nodes and their checked serialized form;
//! - `shap`: exact path-dependent TreeSHAP;
//! - `fitted`: [`FittedGradientBoosting`].

mod bins;
mod boost;
mod config;
mod fitted;
mod grow;
mod shap;
#[cfg(test)]
mod tests;
mod tree;

pub use config::{EarlyStopping, GradientBoosting, Monotone};
pub use fitted::FittedGradientBoosting;
