//! Integration tests through the public API only, built as one binary.

#[cfg(feature = "csv")]
mod csv_input;
mod features;
mod model;
mod records;
mod segment;
mod synth;
