//! When customers leave: time-to-churn data, Kaplan–Meier curves, the
//! log-rank test and Cox proportional hazards.
//!
//! - [`SurvivalData`]: durations, events (churn observed or censored),
//!   groups and covariates, from a flat table or from the records with
//!   [`Lifetimes`] (signup to churn under a
//!   [`ChurnDefinition`](crate::segment::ChurnDefinition), censored at the
//!   as-of time).
//! - [`KaplanMeier`] → [`FittedKaplanMeier`]: a [`SurvivalCurve`] overall and
//!   per group, with Greenwood's variance, the log(−log) interval, the
//!   median and the number at risk.
//! - [`logrank`] and [`logrank_between`]: do the groups churn alike?
//!   ([`LogRankTest`]).
//! - [`CoxPh`] → [`FittedCoxPh`]: hazard ratios of several covariates at
//!   once (Efron's ties), with the likelihood-ratio test, Harrell's
//!   concordance, the baseline survival and a customer's predicted curve.
//!
//! Each is checked against lifelines 0.30 on a 2 000-subscription fixture
//! (`tests/fixtures/survival_reference.json`).
//!
//! # Example
//!
//! ```
//! use churnwise::analysis::survival::{KaplanMeier, Lifetimes, logrank};
//! use churnwise::features::{FeatureSpec, Snapshot};
//! use churnwise::score::Profiles;
//! use churnwise::segment::Tiers;
//! # use churnwise::doc_support::{history, month};
//!
//! # let history = history(600, 5)?;
//! let as_of = month(10);
//! // Value tiers of the customers at the as-of time...
//! let table = FeatureSpec::all().extract(&history, &Snapshot::new(as_of))?;
//! let tiers = Tiers::value().fit(&table)?;
//! let profiles = Profiles::new(table)?.tier_value(&tiers)?;
//! // ...and their time from signup to churn (90 days without an order).
//! let data = Lifetimes::new(as_of).extract(&history)?.with_groups_from(&profiles, "value_tier")?;
//! let curves = KaplanMeier::new().fit(&data)?;
//! let test = logrank(&data)?;
//! assert_eq!(curves.groups().len(), 3);
//! assert!(test.p_value < 0.05); // the tiers churn at different rates
//! # Ok::<(), churnwise::Error>(())
//! ```

mod cox;
mod data;
mod kaplan_meier;
mod logrank;

/// A pivot of the log-rank covariance or the Cox information matrix at or
/// below this share of its diagonal entry marks a dependent column.
const SINGULAR_PIVOT: f64 = 1e-12;

pub use cox::{CoxCoefficient, CoxPh, FittedCoxPh, LikelihoodRatioTest};
pub use data::{Lifetimes, MISSING_GROUP, SurvivalData};
pub use kaplan_meier::{FittedKaplanMeier, KaplanMeier, SurvivalCurve};
pub use logrank::{LogRankTest, logrank, logrank_between};
