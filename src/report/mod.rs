//! Charts and a self-contained report of a churn analysis.
//!
//! - [`Chart`] renders the crate's results as standalone SVG: cumulative
//!   gains and lift, calibration, Qini, cohort retention, segment sizes and
//!   churn rates, churn rate over time, and the score distribution of
//!   churned and retained customers.
//! - [`Report`] assembles [`Section`]s (data quality, customer base,
//!   segments, the model, the customers most at risk, alerts by team, the
//!   retention plan, campaign evaluation, or sections of your own) into one
//!   self-contained HTML file, or into Markdown with the charts beside it.
//! - [`Table`] holds formatted cells, written as aligned text, HTML or
//!   Markdown from the same strings.
//!
//! The SVG and HTML are written by hand: no dependency, nothing downloaded
//! at build time, no JavaScript, no external request from the HTML. The
//! same input gives the same bytes. Enabled by the `charts` feature (on by
//! default; it adds no dependency).
//!
//! `examples/report.rs` writes the whole report for the synthetic
//! population: `cargo run --release --example report -- --out churn-report.html`.

mod chart;
mod document;
mod plot;
mod sections;
mod svg;
mod table;

pub use chart::{Chart, ChartOptions};
pub use document::{Block, Report, Section};
pub use table::{Align, Table};
