//! Integration tests through the public API only, built as one binary.

mod alert;
mod analysis_association;
mod analysis_reasons;
mod clv;
#[cfg(feature = "csv")]
mod csv_input;
mod deploy;
mod features;
mod invariants;
mod model;
mod plan;
mod records;
mod retention;
mod rules;
mod segment;
mod stats;
mod synth;
mod threads;
