//! The traits and the headline types of a churn pipeline, in one import.
//!
//! `use churnwise::prelude::*;` brings in the [`Fit`] and [`PredictProba`]
//! traits, [`Error`] / [`ErrorKind`], and the types a pipeline starts from:
//! the records ([`History`]), features and labels ([`FeatureSpec`],
//! [`Snapshot`], [`ChurnLabeler`]), the model ([`LogisticRegression`]), its
//! deployment ([`ChurnScorer`], [`Profiles`]), and the actions
//! ([`AlertEngine`], [`AlertPolicy`], [`Planner`], [`Playbook`]). Everything
//! else is imported from its module (`churnwise::segment::Rfm`, …): no code
//! needs the prelude, because every core method is inherent.
//!
//! [`Result`](crate::Result) is deliberately left out so that a glob import
//! does not shadow `std::result::Result`.
//!
//! # Example
//!
//! ```
//! use churnwise::prelude::*;
//! use churnwise::segment::{LifecyclePolicy, Tiers}; // everything else from its module
//! # let (history, snapshot, scorer) = churnwise::doc_support::scorer(1_000, 3)?;
//!
//! let table = FeatureSpec::all().extract(&history, &snapshot)?;
//! let tiers = Tiers::value().fit(&table)?;
//! let profiles = Profiles::new(table)?
//!     .score_with(&scorer)?
//!     .stage_lifecycle(&LifecyclePolicy::default())?
//!     .tier_value(&tiers)?;
//! let engine = AlertEngine::new(AlertPolicy::default_policy());
//! let alerts = engine.evaluate(&profiles, None)?; // borrows the engine's rules
//! assert_eq!(alerts.profiles_evaluated(), profiles.len());
//! # Ok::<(), churnwise::Error>(())
//! ```

#[doc(no_inline)]
pub use crate::alert::{AlertEngine, AlertPolicy};
#[doc(no_inline)]
pub use crate::error::{Error, ErrorKind};
#[doc(no_inline)]
pub use crate::features::{ChurnLabeler, FeatureSpec, Snapshot};
#[doc(no_inline)]
pub use crate::model::{Fit, LogisticRegression, PredictProba};
#[doc(no_inline)]
pub use crate::records::History;
#[doc(no_inline)]
pub use crate::retention::{Planner, Playbook};
#[doc(no_inline)]
pub use crate::score::{ChurnScorer, Profiles};
