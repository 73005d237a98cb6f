//! Arrow record batches in and out (feature `arrow`), and Parquet files
//! (feature `parquet`).
//!
//! Teams keep customer data as Parquet in a lake or as Arrow batches from
//! their query engines; this module reads those into a
//! [`History`](crate::records::History) and writes churnwise's results back
//! as Arrow.

mod cells;
mod columns;
mod read;

pub use columns::{CustomerColumns, FeedbackColumns, InteractionColumns, OrderColumns};
pub use read::RecordColumns;
pub(crate) use read::arrow_error;
