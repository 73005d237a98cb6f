//! churnwise finds customers who are about to leave, explains why, warns the
//! right people, chooses what to do within a budget, and measures whether it worked.
//!
//! Validated records become point-in-time features; features become
//! segments, churn scores and customer-base (BG/NBD) estimates; those become
//! per-customer [`Profiles`](score::Profiles) that alert policies and
//! retention plans read; campaign outcomes are evaluated and fed back into
//! the next plan. A seeded synthetic population with known ground truth runs
//! the whole pipeline (`cargo run --release --example quickstart`).
//!
//! ```
//! use churnwise::synth::PopulationConfig;
//!
//! // A reproducible population of 2 000 customers with known churn times.
//! let population = PopulationConfig::default().customers(2_000).seed(7).generate()?;
//! // Validate it into a columnar History; the report explains every dropped record.
//! let (history, report) = population.history_builder().build()?;
//! assert!(report.is_clean());
//! let summary = history.summary();
//! assert_eq!(summary.customers, 2_000);
//! assert!(summary.orders > 10_000);
//! # Ok::<(), churnwise::Error>(())
//! ```
//!
//! # The whole pipeline
//!
//! Each stage in data-flow order, on a synthetic population so that it runs
//! as written; with real data, start from [`HistoryBuilder`](records::HistoryBuilder)
//! (`push_order`, `extend`, or the CSV readers) instead of [`synth`].
//!
//! ```
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use churnwise::alert::{AlertEngine, AlertPolicy};
//! use churnwise::clv::{BetaGeo, Calibration, Clv, GammaGamma, TimeUnit};
//! use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
//! use churnwise::model::LogisticRegression;
//! use churnwise::retention::{CampaignEvaluator, CampaignOutcome, HoldOut, Planner, Playbook};
//! use churnwise::score::{ChurnScorer, Profiles};
//! use churnwise::segment::{LifecyclePolicy, Rfm, SegmentReport, Tiers};
//! use churnwise::synth::{PopulationConfig, Treatment};
//!
//! // synth + records: a seeded population, validated into a columnar History.
//! let config = PopulationConfig::default().customers(3_000).seed(11);
//! let population = config.generate()?;
//! let (history, _quality) = population.history_builder().build()?;
//!
//! // features: every feature as of one moment (nothing after it is read),
//! // and labels: who places no order in the next 90 days.
//! let as_of = Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap();
//! let snapshot = Snapshot::new(as_of);
//! let table = FeatureSpec::all().extract(&history, &snapshot)?;
//! let labels = ChurnLabeler::new().labels(&history, as_of)?;
//!
//! // segment: RFM edges and value tiers learned on this population.
//! let rfm = Rfm::new().fit(&table)?;
//! let value_tiers = Tiers::value().fit(&table)?;
//! let segments: Vec<_> = rfm.apply(&table)?.iter().map(|s| s.segment()).collect();
//! let report = SegmentReport::new(&segments, &table, Some(labels.churned()))?;
//! assert_eq!(report.customers(), table.nrows());
//!
//! // model + score: train on earlier snapshots whose label windows have
//! // closed, then wrap the model into a deployable, serializable scorer.
//! let month = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
//! let train = ChurnLabeler::new().training_set(
//!     &history,
//!     &FeatureSpec::all(),
//!     &snapshot,
//!     &[month(4), month(6)],
//! )?;
//! let scorer = ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?;
//! let scorer = ChurnScorer::from_json(&scorer.to_json()?)?; // what another service loads
//!
//! // clv: BG/NBD and Gamma-Gamma on a calibration summary, then a
//! // one-year customer lifetime value (12 periods of 30 days).
//! let summary = Calibration::new(as_of).unit(TimeUnit::Days).summarize(&history)?;
//! let purchases = BetaGeo::new().fit(&summary)?;
//! let spend = GammaGamma::new().fit(&summary)?;
//! let clv = Clv::new(30.0, 12).values(&purchases, &spend, &summary)?;
//! assert!(clv.iter().all(|v| v.is_finite() && *v >= 0.0));
//!
//! // score -> Profile: the per-customer view alerts and retention read.
//! let profiles_at = |t| -> churnwise::Result<Profiles> {
//!     Profiles::new(FeatureSpec::all().extract(&history, &snapshot.at(t))?)?
//!         .score_with(&scorer)?
//!         .segment_rfm(&rfm)?
//!         .stage_lifecycle(&LifecyclePolicy::default())?
//!         .tier_value(&value_tiers)?
//!         .values_from_column("spend_180d")
//! };
//! let profiles = profiles_at(as_of)?;
//! let month_ago = profiles_at(as_of - TimeDelta::days(30))?;
//!
//! // alert: the default policy, compared with a month ago; one list per team.
//! let engine = AlertEngine::new(AlertPolicy::default_policy());
//! let alerts = engine.evaluate(&profiles, Some(&month_ago))?;
//! for list in alerts.work_lists() {
//!     assert!(!list.alerts().is_empty());
//! }
//!
//! // retention: a budgeted plan, a fifth held back as controls, the campaign
//! // simulated 90 days forward (here at the planned effects), and evaluated.
//! let plan = Planner::new(5_000.0).plan(&profiles, &Playbook::default_playbook())?;
//! assert!(plan.summary().cost() <= 5_000.0);
//! let held_out = HoldOut::new(0.2, 7).split(&plan)?;
//! let treatments = plan
//!     .assignments()
//!     .iter()
//!     .zip(&held_out)
//!     .filter(|(_, control)| !**control)
//!     .map(|(a, _)| Ok((a.customer.clone(), Treatment::new(a.effect)?)))
//!     .collect::<churnwise::Result<Vec<_>>>()?;
//! let results = config.simulate_campaign(as_of, 90.0, &treatments)?;
//! let churned: std::collections::HashMap<_, _> =
//!     results.iter().map(|r| (r.id().clone(), r.is_churned())).collect();
//! let outcomes: Vec<CampaignOutcome> = plan
//!     .assignments()
//!     .iter()
//!     .zip(&held_out)
//!     .filter_map(|(a, &control)| {
//!         let churned = *churned.get(&a.customer)?;
//!         Some(if control {
//!             CampaignOutcome::new(a.customer.clone(), "control", churned)
//!         } else {
//!             CampaignOutcome::new(a.customer.clone(), a.intervention(), churned).cost(a.cost)
//!         })
//!     })
//!     .collect();
//! let campaign = CampaignEvaluator::new("control").evaluate(&outcomes)?;
//! assert!(campaign.arm("control").is_none()); // the control arm is the baseline
//! # Ok::<(), churnwise::Error>(())
//! ```
//!
//! # Overview
//!
//! The pipeline, in data-flow order:
//!
//! - [`records`]: [`Customer`](records::Customer), [`Order`](records::Order),
//!   [`Interaction`](records::Interaction), [`Feedback`](records::Feedback) and
//!   their validation by [`HistoryBuilder`](records::HistoryBuilder) into a
//!   [`History`](records::History), with a
//!   [`DataQualityReport`](records::DataQualityReport); CSV input.
//! - [`features`]: point-in-time features by name and churn labels.
//! - [`segment`]: RFM, value and engagement tiers, lifecycle stages, k-means,
//!   churn, cohort and revenue measures.
//! - [`model`]: logistic and ridge regression, a random forest, metrics,
//!   cross-validation and backtests.
//! - [`clv`]: BG/NBD and MBG/NBD (P(alive), expected purchases), Gamma-Gamma
//!   spend, CLV, and the shifted-beta-geometric model for contracts.
//! - [`score`]: the deployable [`ChurnScorer`](score::ChurnScorer) and the
//!   per-customer [`Profiles`](score::Profiles).
//! - [`rules`]: the condition language alerts and playbooks share: any
//!   profile field by name, in code, as an expression
//!   (`plan == "gold" and churn_probability > 0.6`) or as JSON / TOML.
//! - [`analysis`]: when and why customers leave: Kaplan–Meier curves, the
//!   log-rank test and Cox proportional hazards; churned-vs-retained
//!   drivers; churn-reason shares; association rules leading to churn.
//! - [`alert`]: rule-based early warning routed to teams, with cooldowns.
//! - [`retention`]: playbooks, budgeted plans, hold-out controls, campaign
//!   evaluation (intervals, tests, uplift, power) and effect learning.
//! - [`stats`]: the shared statistics under them: normal distribution,
//!   Wilson / Newcombe intervals, two-proportion and Cochran–Mantel–Haenszel
//!   tests, Holm and Benjamini–Hochberg corrections, power.
//! - [`synth`]: a seeded synthetic customer base whose churn follows known
//!   mechanics, with its true churn probabilities and simulated campaigns.
//! - `report` (feature `charts`, on by default): SVG charts of the results
//!   and a self-contained HTML (or Markdown) report.
//! - `arrow` (features `arrow`, `parquet`): Arrow record batches and
//!   Parquet files in and out.
//! - [`error`]: the one [`Error`] type, with a `#[non_exhaustive]` [`ErrorKind`].
//! - [`prelude`]: `use churnwise::prelude::*;` for the types a pipeline names.
//!
//! Each module has a runnable example under `examples/`: `read_transactions`
//! (records), `features_snapshot`, `segment_customers`, `train_csv` (model),
//! `score_service`, `clv_csv`, `alert_run`, `retention_loop` and
//! `evaluate_campaign` (retention), `synth_population`, `report`, and
//! `quickstart` for all of them together.
//!
//! # Conventions
//!
//! Every module follows the same rules, so what you learn in one carries
//! over (contributors: keep to them).
//!
//! - **Configurations and fitted values.** A configuration (`Rfm`,
//!   `LogisticRegression`, `BetaGeo`, `Planner`, …) is built with bare,
//!   consuming, infallible setters named for what they set
//!   (`.tolerance(1e-8)`), each documenting its default and valid range.
//!   Every check lives in its `validate()`, which `fit` / `build` / `plan`
//!   call before doing any work, so a builder chain never needs `?` in the
//!   middle. Getters read back what the setters set; since a setter already
//!   takes the bare name, a getter adds `_value` (`.alpha(0.01)` /
//!   `alpha_value()`). `fit` returns a `Fitted…` type (`Rfm` → `FittedRfm`) that can
//!   be saved and applied to new customers; a configuration cannot score.
//! - **Records and data builders keep `with_*`** (`Customer::with_plan`,
//!   `Profiles::with_numeric`, `AlertRule::with_cooldown_days`): they add
//!   data, and check it where it arrives.
//! - **Switches are enums, not `bool`s**, so a call reads as what it does.
//! - **One error type.** Every fallible call returns [`Result`] with an
//!   [`Error`] whose [`kind`](Error::kind) is one [`ErrorKind`] per
//!   situation across the crate, naming the record, field or parameter and
//!   the offending value. Input never panics.
//! - **Policies are data.** Alert policies, playbooks, scorers and fitted
//!   models are serde values validated as they load, with errors naming the
//!   path of the problem.
//!
//! # Determinism and threads
//!
//! Same input and seed give bit-identical output whatever the number of
//! rayon threads: parallel work is split into pieces whose results are
//! combined in a fixed order, and random streams are derived per customer.
//! The library never reads the clock, prints, or uses global state.
//!
//! # Crate features
//!
//! - `csv` (default): read customers, orders, interactions and feedback from
//!   CSV files ([`HistoryBuilder::read_orders_csv`](records::HistoryBuilder::read_orders_csv) and friends).
//! - `toml` (default): load alert policies and retention playbooks from TOML.
//! - `charts` (default): SVG charts and the HTML report (`report`).
//! - `arrow`: build a History from Arrow record batches (or a C stream from
//!   polars / pyarrow) with the CSV readers' validation, and write feature
//!   tables, profiles, alerts and plans as record batches (`churnwise::arrow`;
//!   arrow-array / arrow-schema 59.3).
//! - `parquet` (implies `arrow`): the same tables as Parquet files, read
//!   row group by row group (parquet 59.3, pure-Rust Snappy and LZ4; other
//!   codecs through the `parquet` crate's own features).
//!
//! # Public dependencies
//!
//! [`chrono`] (`DateTime<Utc>` in records) and [`serde`] (every record and
//! configuration is serializable) appear in public signatures; with
//! feature `arrow`, `arrow-array` and `arrow-schema` 59 (`RecordBatch`,
//! `ArrowError`), and with `parquet`, `parquet` 59 (`ChunkReader`).

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![forbid(unsafe_code)]

pub mod alert;
pub mod analysis;
#[cfg(feature = "arrow")]
pub mod arrow;
pub mod clv;
#[doc(hidden)]
pub mod doc_support;
pub mod error;
pub mod features;
pub mod model;
pub mod prelude;
pub mod records;
#[cfg(feature = "charts")]
pub mod report;
pub mod retention;
pub mod rules;
pub mod score;
pub mod segment;
pub mod stats;
pub mod synth;
mod util;

pub use error::{Error, ErrorKind, Result};

// The README's Rust examples run as doctests, so they stay correct.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
