//! Arrow record batches in and out (feature `arrow`), and Parquet files
//! (feature `parquet`).
//!
//! Teams keep customer data as Parquet in a lake or as Arrow batches from
//! their query engines; this module reads those into a
//! [`History`](crate::records::History) and writes churnwise's results back
//! as Arrow.

mod cells;
mod columns;
#[cfg(feature = "parquet")]
mod parquet;
mod read;
mod write;

pub use columns::{CustomerColumns, FeedbackColumns, InteractionColumns, OrderColumns};
#[cfg(feature = "parquet")]
pub use parquet::{
    PARQUET_BATCH_ROWS, PARQUET_ROW_GROUP_ROWS, read_feature_table_parquet,
    read_feature_table_parquet_path, write_parquet, write_parquet_path,
};
pub use read::RecordColumns;
pub(crate) use read::arrow_error;
pub use write::{AS_OF_KEY, ROLE_KEY, ToRecordBatch, read_feature_table};
