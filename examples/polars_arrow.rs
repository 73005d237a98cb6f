//! From a polars (or pyarrow, DuckDB) DataFrame to a churnwise History
//! through the Arrow C stream interface: zero-copy, and no polars
//! dependency on the Rust side.
//!
//! `cargo run --example polars_arrow --features arrow`
//!
//! # The Python side
//!
//! polars (1.x) and pyarrow export a DataFrame as an Arrow C stream, a
//! PyCapsule named `"arrow_array_stream"` that wraps a pointer to an
//! `ArrowArrayStream` struct (the Arrow C stream interface). The buffers
//! are not copied: the consumer reads polars' own memory.
//!
//! ```python
//! import polars as pl
//! import my_churn_ext                      # your pyo3 module, below
//!
//! orders = pl.read_parquet("orders/*.parquet")           # customer_id, date, amount
//! report = my_churn_ext.load_orders(orders)              # polars >= 1.0: DataFrame.__arrow_c_stream__
//! # older polars, or anything Arrow: pass orders.to_arrow() (a pyarrow.Table),
//! # which has __arrow_c_stream__ too.
//! ```
//!
//! # The Rust side (a pyo3 extension)
//!
//! ```ignore
//! #[pyfunction]
//! fn load_orders(df: &Bound<'_, PyAny>) -> PyResult<String> {
//!     let capsule = df.call_method0("__arrow_c_stream__")?.downcast_into::<PyCapsule>()?;
//!     let stream = capsule.pointer() as *mut FFI_ArrowArrayStream;
//!     // SAFETY: the capsule holds a valid stream; from_raw moves it out
//!     // (leaving a released one behind for the capsule's destructor).
//!     let reader = unsafe { ArrowArrayStreamReader::from_raw(stream) }?;
//!     let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
//!     b.read_arrow_stream(reader, &OrderColumns::new())?;
//!     let (history, report) = b.build()?;
//!     Ok(report.to_string())
//! }
//! ```
//!
//! This example runs that Rust side on its own: it exports a stream of
//! batches through the same C structs a DataFrame would hand over, imports
//! it by raw pointer, and builds a History.

use std::sync::Arc;

use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow_array::{
    ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, RecordBatchIterator,
};
use churnwise::arrow::OrderColumns;
use churnwise::records::{HistoryBuilder, UnknownCustomers};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // What `pl.DataFrame({"customer_id": ..., "date": ..., "amount": ...})`
    // holds: Int64 ids, Date32 days, Float64 amounts, in two chunks.
    let chunk = |first: i64| -> Result<RecordBatch, arrow_schema::ArrowError> {
        let n = 50_000;
        let ids: Vec<i64> = (0..n).map(|i| first + i % 5_000).collect();
        let days: Vec<i32> = (0..n).map(|i| 19_723 + (i % 365) as i32).collect();
        let amounts: Vec<f64> = (0..n).map(|i| 5.0 + (i % 97) as f64).collect();
        let columns: [(&str, ArrayRef); 3] = [
            ("customer_id", Arc::new(Int64Array::from(ids))),
            ("date", Arc::new(Date32Array::from(days))),
            ("amount", Arc::new(Float64Array::from(amounts))),
        ];
        RecordBatch::try_from_iter(columns)
    };
    let (a, b) = (chunk(0)?, chunk(5_000)?);
    let schema = a.schema();

    // Producer: export the chunks as an Arrow C stream (what polars'
    // `__arrow_c_stream__` puts in its capsule).
    let producer = RecordBatchIterator::new([Ok(a), Ok(b)], schema);
    let mut exported = FFI_ArrowArrayStream::new(Box::new(producer));

    // Consumer: import it by raw pointer, as from a PyCapsule.
    let pointer: *mut FFI_ArrowArrayStream = &mut exported;
    // SAFETY: `pointer` is a valid, initialised stream that nothing else
    // reads; `from_raw` moves it out and leaves a released stream behind.
    let reader = unsafe { ArrowArrayStreamReader::from_raw(pointer) }?;

    // churnwise reads the stream batch by batch, validating every row.
    let mut builder = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    let rows = builder.read_arrow_stream(reader, &OrderColumns::new())?;
    let (history, report) = builder.build()?;

    println!("rows read through the C stream: {rows}");
    println!(
        "customers: {}, orders: {}, dropped: {}",
        history.customer_count(),
        history.order_count(),
        report.issues().len()
    );
    Ok(())
}
