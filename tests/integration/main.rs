//! Integration tests through the public API only, built as one binary.

mod csv_input;
mod records;
