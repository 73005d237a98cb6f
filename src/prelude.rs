//! The types a typical pipeline names, in one import.
//!
//! `use churnwise::prelude::*;` brings in the configurations, builders and
//! engines of every stage (the ones `examples/quickstart.rs` uses), the
//! [`Fit`] and [`PredictProba`] traits, and [`Error`] / [`ErrorKind`]. No code
//! needs it: every core method is inherent, so importing the types from their
//! modules works the same. Fitted types (`FittedRfm`, …) are not included
//! because they are returned by `fit`, not named.
//!
//! [`Result`](crate::Result) is deliberately left out so that a glob import
//! does not shadow `std::result::Result`.
//!
//! # Example
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use churnwise::prelude::*;
//!
//! let population = PopulationConfig::default().customers(1_000).seed(3).generate()?;
//! let (history, _report) = population.history_builder().build()?;
//! let as_of = Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap();
//! let snapshot = Snapshot::new(as_of);
//! let train = ChurnLabeler::new().training_set(
//!     &history,
//!     &FeatureSpec::all(),
//!     &snapshot,
//!     &[Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()],
//! )?;
//! let scorer = ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?;
//! let table = FeatureSpec::all().extract(&history, &snapshot)?;
//! let profiles = Profiles::new(table.clone())?
//!     .score_with(&scorer)?
//!     .segment_rfm(&Rfm::new().fit(&table)?)?
//!     .stage_lifecycle(&LifecyclePolicy::default())?
//!     .tier_value(&Tiers::value().fit(&table)?)?
//!     .values_from_column("spend_180d")?;
//! let engine = AlertEngine::new(AlertPolicy::default_policy());
//! let alerts = engine.evaluate(&profiles, None)?; // borrows the engine's rules
//! assert_eq!(alerts.profiles_evaluated(), profiles.len());
//! # Ok::<(), churnwise::Error>(())
//! ```

#[doc(no_inline)]
pub use crate::alert::{AlertEngine, AlertLog, AlertPolicy, Severity};
#[doc(no_inline)]
pub use crate::clv::{BetaGeo, Calibration, Clv, GammaGamma, TimeUnit};
#[doc(no_inline)]
pub use crate::error::{Error, ErrorKind};
#[doc(no_inline)]
pub use crate::features::{ChurnLabeler, FeatureSpec, FeatureTable, Snapshot, TrainingSet};
#[doc(no_inline)]
pub use crate::model::metrics::Metrics;
#[doc(no_inline)]
pub use crate::model::{Fit, LogisticRegression, PredictProba, RidgeRegression};
#[doc(no_inline)]
pub use crate::records::{
    Customer, CustomerId, Feedback, History, HistoryBuilder, Interaction, InteractionKind, Order,
};
#[doc(no_inline)]
pub use crate::retention::{
    CampaignEvaluator, CampaignOutcome, EffectLearner, HoldOut, Planner, Playbook,
};
#[doc(no_inline)]
pub use crate::rules::{Condition, Route};
#[doc(no_inline)]
pub use crate::score::{ChurnScorer, Profile, Profiles};
#[doc(no_inline)]
pub use crate::segment::{KMeansSegmenter, LifecyclePolicy, Rfm, SegmentReport, Tiers};
#[doc(no_inline)]
pub use crate::synth::PopulationConfig;
