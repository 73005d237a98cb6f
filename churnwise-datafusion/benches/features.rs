//! Point-in-time order features of about 1 M customers (10 M orders) from
//! Parquet: the `churn_features` aggregate in DataFusion (1 and 2 target
//! partitions) against the in-process path (Parquet → `HistoryBuilder` →
//! `FeatureSpec::extract`) and `extract` alone (1 and 2 threads).
//!
//! ```text
//! cargo bench -p churnwise-datafusion --bench features
//! CHURNWISE_BENCH_DIR=/tmp/cw-features cargo bench -p churnwise-datafusion --bench features
//! ```
//!
//! The orders are written as four Parquet files (`orders/part-*.parquet`:
//! `customer_id` Int64, `time` Timestamp(µs, UTC), `amount` Float64) and the
//! customers as one (`customers.parquet`: `customer_id`, `signup`), in
//! `$CHURNWISE_BENCH_DIR` when set (kept, and reused by later runs, so that
//! polars' `group_by` can be timed on the same files side by side) or in a
//! temporary directory removed at the end. The spec is every feature that
//! reads only orders and the signup time (15 with the default windows).
//!
//! polars on the same files, side by side (Python only for the comparison):
//! `python benches/features_polars.py $CHURNWISE_BENCH_DIR 5`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use churnwise::arrow::{CustomerColumns, OrderColumns};
use churnwise::features::{EventFeatures, FeatureSpec, Snapshot};
use churnwise::records::{History, HistoryBuilder};
use churnwise::synth::PopulationConfig;
use churnwise_datafusion::aggregate::ChurnFeatures;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, TimestampMicrosecondArray,
};
use datafusion::logical_expr::AggregateUDF;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

const CUSTOMERS: usize = 1_000_000;
const FILES: usize = 4;

const SQL: &str = "SELECT o.customer_id, churn_features(c.signup, o.time, o.amount) AS f
    FROM orders o JOIN customers c ON o.customer_id = c.customer_id
    GROUP BY o.customer_id";

fn snapshot() -> Snapshot {
    Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap())
}

/// Every catalog feature computed from the orders and the signup time alone.
fn order_spec(snapshot: &Snapshot) -> FeatureSpec {
    let names: Vec<String> = snapshot
        .catalog()
        .into_iter()
        .filter(|f| {
            EventFeatures::new(std::slice::from_ref(f))
                .is_ok_and(|e| e.interaction_feature().is_none())
        })
        .map(|f| f.name().to_owned())
        .collect();
    FeatureSpec::new(names)
}

fn write(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).expect("bench file");
    let mut w = ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    for lo in (0..batch.num_rows()).step_by(1 << 20) {
        w.write(&batch.slice(lo, (1 << 20).min(batch.num_rows() - lo)))
            .expect("write");
    }
    w.close().expect("close");
}

fn micros(ts: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from_iter_values(ts).with_timezone("UTC"))
}

/// Writes the synthetic customers and orders as Parquet under `dir` (unless
/// already there); returns the number of orders.
fn write_data(dir: &Path) -> usize {
    let orders_dir = dir.join("orders");
    if dir.join("customers.parquet").exists() && orders_dir.exists() {
        return orders_dir
            .read_dir()
            .expect("orders dir")
            .map(|f| {
                let file = std::fs::File::open(f.expect("entry").path()).expect("open");
                ParquetRecordBatchReaderBuilder::try_new(file)
                    .expect("parquet")
                    .metadata()
                    .file_metadata()
                    .num_rows() as usize
            })
            .sum();
    }
    std::fs::create_dir_all(&orders_dir).expect("bench dir");
    let parts = PopulationConfig::default()
        .customers(CUSTOMERS)
        .seed(2024)
        .generate()
        .expect("valid config")
        .into_parts();
    let id = |c: &churnwise::records::CustomerId| c.as_u64().expect("integer ids") as i64;
    let customers = RecordBatch::try_from_iter([
        (
            "customer_id",
            Arc::new(Int64Array::from_iter_values(
                parts.customers.iter().map(|c| id(&c.id)),
            )) as ArrayRef,
        ),
        (
            "signup",
            micros(parts.customers.iter().map(|c| c.signup.timestamp_micros())),
        ),
    ])
    .expect("customers");
    write(&dir.join("customers.parquet"), &customers);
    let o = &parts.orders;
    for k in 0..FILES {
        let (lo, hi) = (k * o.len() / FILES, (k + 1) * o.len() / FILES);
        let rows = &o[lo..hi];
        let batch = RecordBatch::try_from_iter([
            (
                "customer_id",
                Arc::new(Int64Array::from_iter_values(
                    rows.iter().map(|r| id(&r.customer)),
                )) as ArrayRef,
            ),
            (
                "time",
                micros(rows.iter().map(|r| r.time.timestamp_micros())),
            ),
            (
                "amount",
                Arc::new(Float64Array::from_iter_values(
                    rows.iter().map(|r| r.amount),
                )),
            ),
        ])
        .expect("orders");
        write(&orders_dir.join(format!("part-{k}.parquet")), &batch);
    }
    o.len()
}

/// The in-process path: every Parquet file through the arrow-rs reader into
/// a `HistoryBuilder`, then the History.
fn read_history(dir: &Path) -> History {
    let batches = |path: PathBuf| {
        let file = std::fs::File::open(path).expect("open");
        ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("parquet")
            .with_batch_size(64 * 1024)
            .build()
            .expect("reader")
            .map(|b| b.expect("batch"))
    };
    let mut b = HistoryBuilder::new();
    for batch in batches(dir.join("customers.parquet")) {
        b.read_arrow(&batch, &CustomerColumns::new())
            .expect("customers");
    }
    let mut files: Vec<PathBuf> = dir
        .join("orders")
        .read_dir()
        .expect("orders dir")
        .map(|f| f.expect("entry").path())
        .collect();
    files.sort();
    for f in files {
        for batch in batches(f) {
            b.read_arrow(&batch, &OrderColumns::new()).expect("orders");
        }
    }
    b.build().expect("history").0
}

fn features(c: &mut Criterion) {
    let kept = std::env::var_os("CHURNWISE_BENCH_DIR").map(PathBuf::from);
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = kept.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let orders = write_data(&dir);
    let snapshot = snapshot();
    let spec = order_spec(&snapshot);
    let history = read_history(&dir);
    let expected_rows = spec
        .extract(&history, &snapshot)
        .expect("features")
        .ids()
        .len();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    let mut group = c.benchmark_group("features_10m_orders");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(orders as u64));

    for target in [1, 2] {
        let ctx =
            SessionContext::new_with_config(SessionConfig::new().with_target_partitions(target));
        let udaf = ChurnFeatures::new(&spec, &snapshot).expect("spec");
        ctx.register_udaf(AggregateUDF::new_from_impl(udaf));
        rt.block_on(async {
            let opts = ParquetReadOptions::default();
            ctx.register_parquet("orders", dir.join("orders").to_str().expect("utf-8"), opts)
                .await
                .expect("orders");
            let opts = ParquetReadOptions::default();
            ctx.register_parquet(
                "customers",
                dir.join("customers.parquet").to_str().expect("utf-8"),
                opts,
            )
            .await
            .expect("customers");
        });
        let run = || {
            rt.block_on(async {
                let batches = ctx.sql(SQL).await?.collect().await?;
                Ok::<_, datafusion::error::DataFusionError>(batches)
            })
            .expect("query")
        };
        // One row per customer with an order (null structs for those who
        // signed up after the as-of time).
        let rows: usize = run().iter().map(RecordBatch::num_rows).sum();
        assert!(
            rows > expected_rows / 2,
            "{rows} rows, {expected_rows} in process"
        );
        group.bench_with_input(
            BenchmarkId::new("datafusion_aggregate_partitions", target),
            &target,
            |b, _| b.iter(|| black_box(run())),
        );
    }

    group.bench_function("in_process_parquet_history_extract", |b| {
        b.iter(|| {
            let history = read_history(&dir);
            black_box(spec.extract(&history, &snapshot).expect("features"))
        })
    });
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        group.bench_with_input(
            BenchmarkId::new("in_process_extract_threads", threads),
            &threads,
            |b, _| {
                b.iter(|| {
                    pool.install(|| black_box(spec.extract(&history, &snapshot).expect("features")))
                })
            },
        );
    }
    group.finish();
    drop(temp);
}

criterion_group!(benches, features);
criterion_main!(benches);
