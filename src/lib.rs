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
//! - [`alert`]: rule-based early warning routed to teams, with cooldowns.
//! - [`retention`]: playbooks, budgeted plans, hold-out controls, campaign
//!   evaluation (intervals, tests, uplift, power) and effect learning.
//! - [`synth`]: a seeded synthetic customer base whose churn follows known
//!   mechanics, with its true churn probabilities and simulated campaigns.
//! - [`error`]: the one [`Error`] type, with a `#[non_exhaustive]` [`ErrorKind`].
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
//!
//! # Public dependencies
//!
//! [`chrono`] (`DateTime<Utc>` in records) and [`serde`] (every record and
//! configuration is serializable) appear in public signatures.

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![forbid(unsafe_code)]

pub mod alert;
pub mod clv;
pub mod error;
pub mod features;
mod mix;
pub mod model;
pub mod prelude;
pub mod records;
pub mod retention;
pub mod score;
pub mod segment;
pub mod synth;

pub use error::{Error, ErrorKind, Result};
