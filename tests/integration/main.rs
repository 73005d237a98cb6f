//! Integration tests through the public API only, built as one binary.

mod alert;
mod analysis_association;
mod analysis_drivers;
mod analysis_reasons;
mod analysis_survival;
#[cfg(feature = "arrow")]
mod arrow;
mod calibrate;
mod clv;
mod contract;
#[cfg(feature = "csv")]
mod csv_input;
mod deploy;
mod features;
mod gbdt;
mod identity;
mod invariants;
mod model;
mod plan;
mod public_churn;
mod records;
#[cfg(feature = "charts")]
mod report;
mod retention;
mod rules;
mod segment;
mod stats;
mod subscriptions;
mod synth;
mod synth_subscription;
mod threads;
