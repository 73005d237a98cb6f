//! Rule-based early warning: who needs attention, how urgently, and which
//! team owns the follow-up.
//!
//! An [`AlertPolicy`] is a list of [`AlertRule`]s, each a [`Condition`](crate::rules::Condition) on a
//! customer's profile (any field of [`Profiles`](crate::score::Profiles):
//! features, churn probability, segments, stages, tiers, customer
//! attributes, columns of your own, and changes since the previous snapshot) with a [`Severity`], a [`Route`](crate::rules::Route) to a team, a cooldown
//! and an optional suggested intervention. Policies are serde data that an
//! operations team edits ([`AlertPolicy::from_json`], `from_toml`), validated
//! as they load, with errors naming the path of the problem.
//! [`AlertEngine`] evaluates a policy over [`Profiles`](crate::score::Profiles)
//! in parallel: [`Alert`]s with their reasons, sorted by severity and expected
//! loss, and one work list per team, so no alert is left without an owner.
//! [`AlertLog`] keeps the same rule from alerting on the same customer again
//! within its cooldown, across runs.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use churnwise::alert::{AlertEngine, AlertPolicy};
//! use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
//! use churnwise::model::LogisticRegression;
//! use churnwise::score::{ChurnScorer, Profiles};
//! use churnwise::segment::{LifecyclePolicy, Tiers};
//! use churnwise::synth::PopulationConfig;
//!
//! let (history, _) = PopulationConfig::default().customers(3_000).seed(3).generate()?.history_builder().build()?;
//! let at = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
//! let snapshot = Snapshot::new(at(6));
//! let train = ChurnLabeler::new().training_set(&history, &FeatureSpec::all(), &snapshot, &[at(2), at(3)])?;
//! let scorer = ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?;
//!
//! let profiles = |t| -> churnwise::Result<Profiles> {
//!     let table = FeatureSpec::all().extract(&history, &snapshot.at(t))?;
//!     let tiers = Tiers::value().fit(&table)?;
//!     Profiles::new(table)?
//!         .score_with(&scorer)?
//!         .stage_lifecycle(&LifecyclePolicy::default())?
//!         .tier_value(&tiers)?
//!         .values_from_column("spend_180d")
//! };
//! let (before, now) = (profiles(at(5))?, profiles(at(6))?);
//! let engine = AlertEngine::new(AlertPolicy::default_policy());
//! let report = engine.evaluate(&now, Some(&before))?;
//! for list in report.work_lists() {
//!     assert!(list.alerts().iter().all(|a| a.route() == list.route()));
//! }
//! let total: usize = report.work_lists().iter().map(|l| l.alerts().len()).sum();
//! assert_eq!(total, report.alerts().len());
//! # Ok::<(), churnwise::Error>(())
//! ```

mod engine;
mod log;
mod policy;

pub use engine::{Alert, AlertEngine, AlertReport, MAX_REASONS, Observed, Trigger, WorkList};
pub use log::AlertLog;
pub use policy::{AlertPolicy, AlertRule, Precedence, Severity};
