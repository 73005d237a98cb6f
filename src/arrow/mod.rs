//! Arrow record batches in and out (feature `arrow`), and Parquet files
//! (feature `parquet`).
//!
//! Teams keep customer data as Parquet in a lake or as Arrow batches from
//! their query engines (DataFusion, DuckDB, polars, pyarrow). This module
//! reads such batches into a [`HistoryBuilder`](crate::records::HistoryBuilder)
//! and writes churnwise's results back as batches with the schemas below.
//!
//! # Reading records
//!
//! [`HistoryBuilder::read_arrow`](crate::records::HistoryBuilder::read_arrow)
//! reads one batch, [`read_arrow_stream`](crate::records::HistoryBuilder::read_arrow_stream)
//! a stream of them (for instance one imported through the Arrow C stream
//! interface from polars or pyarrow: see `examples/polars_arrow.rs`), and
//! with feature `parquet`, [`read_parquet`](crate::records::HistoryBuilder::read_parquet)
//! a file, streamed row group by row group. The column spec says which
//! records the batch holds and names its columns, as the CSV readers'
//! specs do: [`CustomerColumns`], [`OrderColumns`], [`InteractionColumns`],
//! [`FeedbackColumns`], [`SubscriptionColumns`] and
//! [`SubscriptionEventColumns`].
//!
//! Rows are validated exactly as CSV rows are, into the same
//! [`DataQualityReport`](crate::records::DataQualityReport): the same
//! records build the same [`History`](crate::records::History) from either
//! source. Column types:
//!
//! | field | Arrow types accepted |
//! |---|---|
//! | ids | any integer type; `Utf8`, `LargeUtf8`, `Utf8View` or a dictionary of them (text read as the CSV reader reads it: `"42"` is the integer id 42, `"-5"` and `"042"` stay text) |
//! | times | `Timestamp` in any unit, with or without a time zone (an instant); `Date32`, `Date64` (midnight UTC); text, parsed as CSV times (or with the spec's `time_format`) |
//! | numbers | `Float64`, `Float32`, any integer type, `Decimal128`, text |
//! | labels (plan, kind, topic, billing period, reason, …) and subscription ids | text or a dictionary of text (integers are written in decimal) |
//! | flags (auto-renew) | `Boolean`; text `true`/`false`, `yes`/`no`, `y`/`n`, `1`/`0` as in CSV |
//! | tags | text separated by `;` or `\|`, or a `List`/`LargeList` of text |
//!
//! A null in a required column is a dropped record reported as
//! [`Problem::Missing`](crate::records::Problem::Missing) with the record's
//! index and field, never a panic; a column of another type is an
//! [`ErrorKind::ColumnType`](crate::ErrorKind::ColumnType) naming the
//! column, its type and the types accepted.
//!
//! # Writing results
//!
//! [`ToRecordBatch`] turns a [`FeatureTable`](crate::features::FeatureTable),
//! [`Profiles`](crate::score::Profiles), alerts (an
//! [`AlertReport`](crate::alert::AlertReport) or a slice of
//! [`Alert`](crate::alert::Alert)s) and a retention
//! [`Plan`](crate::retention::Plan) into one batch each; with feature
//! `parquet`, `write_parquet` writes any of them to a file.
//! [`read_feature_table`] reads a feature table back, so one job can
//! extract features and another score them.
//!
//! Every schema starts with `customer_id`: `UInt64` when every id is an
//! integer, otherwise `Utf8` with integers in decimal (which read back as
//! the same ids).
//!
//! ## Feature tables
//!
//! | column | type | |
//! |---|---|---|
//! | `customer_id` | `UInt64` or `Utf8` | not null |
//! | one per feature, by name | `Float64` | not null, finite |
//!
//! The schema metadata [`AS_OF_KEY`] holds the as-of time (RFC 3339, UTC)
//! when known.
//!
//! ## Profiles
//!
//! | column | type | |
//! |---|---|---|
//! | `customer_id` | `UInt64` or `Utf8` | not null |
//! | one per feature, by name | `Float64` | field metadata [`ROLE_KEY`] = `feature` |
//! | each numeric field that is set, in the order set: `churn_probability`, `customer_value`, `expected_loss`, numbers of your own | `Float64` | [`ROLE_KEY`] = `field` (as below) |
//! | each category that is set: `rfm_segment`, `lifecycle_stage`, `value_tier`, `engagement_tier`, `plan`, `channel`, `region`, `cluster`, categories of your own | `Dictionary(Int32, Utf8)` | null where a customer has no label |
//! | `tags`, when set | `List(Utf8)` | |
//!
//! The schema metadata [`AS_OF_KEY`] holds the as-of time when known.
//!
//! ## Alerts
//!
//! | column | type | |
//! |---|---|---|
//! | `customer_id` | `UInt64` or `Utf8` | |
//! | `rule` | `Utf8` | the rule's id |
//! | `description` | `Utf8` | the rule's description |
//! | `severity` | `Dictionary(Int32, Utf8)` | `info`, `low`, `medium`, `high`, `critical` |
//! | `route` | `Dictionary(Int32, Utf8)` | the team (`sales`, `customer_service`, … or your own) |
//! | `churn_probability`, `expected_loss` | `Float64` | null when the profiles lack them |
//! | `reasons` | `List(Utf8)` | each trigger as text (`recency_days = 120 (> 90d)`) |
//! | `omitted_reasons` | `UInt32` | triggers beyond those kept |
//! | `suggestion` | `Utf8` | null when the rule has none |
//! | `row` | `UInt64` | the customer's row in the profiles |
//!
//! ## Retention plans
//!
//! | column | type | |
//! |---|---|---|
//! | `customer_id` | `UInt64` or `Utf8` | |
//! | `row` | `UInt64` | the customer's row in the profiles |
//! | `intervention` | `Dictionary(Int32, Utf8)` | the intervention's name |
//! | `owner` | `Dictionary(Int32, Utf8)` | the team that carries it out |
//! | `segment` | `Dictionary(Int32, Utf8)` | the customer's segment |
//! | `churn_probability`, `customer_value`, `effect`, `cost` | `Float64` | as planned |
//! | `expected_saved`, `revenue_protected`, `net_value` | `Float64` | as [`Assignment`](crate::retention::Assignment) derives them |
//!
//! # Versions
//!
//! The Arrow types in signatures come from `arrow-array` and
//! `arrow-schema` 59.3 (re-exported by the `arrow` crate 59.3), the version
//! DataFusion 55.2 uses; `parquet` 59.3 with Snappy and LZ4 built in.
//!
//! # Example
//!
//! ```
//! use churnwise::arrow::{OrderColumns, ToRecordBatch, read_feature_table};
//! use churnwise::features::{FeatureSpec, Snapshot};
//! use churnwise::records::{HistoryBuilder, UnknownCustomers};
//! # let batch = churnwise::doc_support::orders_batch(&["customer_id", "date", "amount"])?;
//! # let as_of = churnwise::doc_support::month(3);
//!
//! // Orders from a query engine's batch into a History.
//! let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
//! b.read_arrow(&batch, &OrderColumns::new())?;
//! let (history, report) = b.build()?;
//! assert!(report.is_clean());
//! // Features out as a batch, and back.
//! let table = FeatureSpec::all().extract(&history, &Snapshot::new(as_of))?;
//! let out = table.to_record_batch()?;
//! assert_eq!(out.num_rows(), 2);
//! assert_eq!(read_feature_table(&[out])?, table);
//! # Ok::<(), churnwise::Error>(())
//! ```

mod cells;
mod columns;
#[cfg(feature = "parquet")]
mod parquet;
mod read;
mod subs;
mod write;

pub use columns::{CustomerColumns, FeedbackColumns, InteractionColumns, OrderColumns};
#[cfg(feature = "parquet")]
pub use parquet::{
    PARQUET_BATCH_ROWS, PARQUET_ROW_GROUP_ROWS, read_feature_table_parquet,
    read_feature_table_parquet_path, write_parquet, write_parquet_path,
};
pub use read::RecordColumns;
pub(crate) use read::arrow_error;
pub use subs::{SubscriptionColumns, SubscriptionEventColumns};
pub use write::{AS_OF_KEY, ROLE_KEY, ToRecordBatch, read_feature_table};
