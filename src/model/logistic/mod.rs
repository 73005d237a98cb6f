//! Penalized logistic regression solved to its exact optimum.
//!
//! The folder is split by role:
//!
//! - `config`: [`LogisticRegression`] (the configuration, its
//!   [`validate`](LogisticRegression::validate) and `fit`), [`Penalty`] and
//!   [`ClassWeight`];
//! - `solver`: the damped (proximal) Newton solver over the rows;
//! - `kernel`: the numeric inner loops (the solver's per-chunk pass, the dot
//!   product, and the batch linear predictor with its AVX2 version), each
//!   doing the same operations in the same order at every SIMD level, so
//!   results are bit-identical whatever the CPU;
//! - `fitted`: [`FittedLogisticRegression`].

mod config;
mod fitted;
pub(crate) mod kernel;
mod solver;

pub use config::{ClassWeight, LogisticRegression, Penalty};
pub use fitted::FittedLogisticRegression;
