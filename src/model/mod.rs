//! Trainable estimators (standardization, logistic and ridge regression)
//! and their evaluation ([`metrics`]).
//!
//! A configuration (`LogisticRegression`, `RidgeRegression`, `Standardizer`)
//! is never a model: `fit` returns a separate `Fitted*` value that carries
//! what was learned and can be serialized and applied later. Logistic
//! regression standardizes the features itself and reports coefficients on
//! both the standardized and the raw scale.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
//! use churnwise::model::LogisticRegression;
//! use churnwise::synth::PopulationConfig;
//!
//! let pop = PopulationConfig::default().customers(2_000).seed(5).generate()?;
//! let (history, _) = pop.history_builder().build()?;
//! let at = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
//! let train = ChurnLabeler::new().training_set(&history, &FeatureSpec::all(), &Snapshot::new(at(3)), &[at(3), at(6)])?;
//! let model = LogisticRegression::new().fit(&train)?;
//! let p = model.predict_proba(train.features().values())?;
//! assert!(p.iter().all(|&v| (0.0..=1.0).contains(&v)));
//! # Ok::<(), churnwise::Error>(())
//! ```

mod linalg;
mod linear;
mod logistic;
pub mod metrics;
mod ridge;
mod standardize;

pub use logistic::{ClassWeight, FittedLogisticRegression, LogisticRegression, Penalty};
pub use ridge::{FittedRidgeRegression, RegressionMetrics, RidgeRegression};
pub use standardize::{FittedStandardizer, Standardizer};
