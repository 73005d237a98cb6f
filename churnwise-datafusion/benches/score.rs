//! Scoring 10 M customers: `SELECT churn_score(..)` through DataFusion
//! (1 and 2 target partitions) against the in-process batch scoring
//! (`ChurnScorer::score_table`, 1 thread and all threads) of the same rows,
//! side by side.
//!
//! ```text
//! cargo bench -p churnwise-datafusion --all-features --bench score
//! CHURNWISE_BENCH_ROWS=1000000 cargo bench ...   # fewer rows
//! ```
//!
//! The rows are a 20 000-customer synthetic population's features (10 of
//! them), repeated to 10 M rows; the scorer is a logistic regression fitted
//! on that population.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use churnwise::features::{ChurnLabeler, FeatureSpec, FeatureTable, Snapshot};
use churnwise::model::LogisticRegression;
use churnwise::score::ChurnScorer;
use churnwise::synth::PopulationConfig;
use churnwise_datafusion::ChurnwiseFunctions;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};

const FEATURES: [&str; 10] = [
    "recency_days",
    "tenure_days",
    "orders_total",
    "orders_90d",
    "spend_total",
    "spend_90d",
    "complaints_30d",
    "satisfaction_last",
    "order_trend_90d",
    "avg_order_value",
];

const BATCH: usize = 8192;

fn setup(rows: usize) -> (ChurnScorer, FeatureTable) {
    let at = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    let history = PopulationConfig::default()
        .customers(20_000)
        .seed(1)
        .generate()
        .unwrap()
        .history_builder()
        .build()
        .unwrap()
        .0;
    let spec = FeatureSpec::new(FEATURES);
    let snapshot = Snapshot::new(at(6));
    let train = ChurnLabeler::new()
        .training_set(&history, &spec, &snapshot, &[at(2), at(3)])
        .unwrap();
    let scorer =
        ChurnScorer::new(LogisticRegression::new().fit(&train).unwrap(), &snapshot).unwrap();
    let small = spec.extract(&history, &snapshot).unwrap();
    let names: Vec<String> = scorer.features().to_vec();
    let small = small.select(&names).unwrap();
    let k = names.len();
    let values =
        ndarray::Array2::from_shape_fn((rows, k), |(i, j)| small.values()[[i % small.nrows(), j]]);
    let ids = (0..rows as u64).map(Into::into).collect();
    (scorer, FeatureTable::new(ids, names, values).unwrap())
}

/// The table's columns as record batches of 8192 rows, dealt round-robin
/// into `partitions` partitions.
fn mem_table(table: &FeatureTable, partitions: usize) -> MemTable {
    let fields: Vec<Field> = table
        .names()
        .iter()
        .map(|n| Field::new(n, DataType::Float64, false))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions];
    let n = table.nrows();
    for (b, start) in (0..n).step_by(BATCH).enumerate() {
        let end = (start + BATCH).min(n);
        let values = table.values();
        let columns: Vec<ArrayRef> = (0..table.ncols())
            .map(|j| {
                let col = values.column(j);
                Arc::new(Float64Array::from_iter_values((start..end).map(|i| col[i]))) as ArrayRef
            })
            .collect();
        parts[b % partitions].push(RecordBatch::try_new(schema.clone(), columns).unwrap());
    }
    MemTable::try_new(schema, parts).unwrap()
}

fn bench(c: &mut Criterion) {
    let rows: usize = std::env::var("CHURNWISE_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let (scorer, table) = setup(rows);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let sql = format!("SELECT churn_score({}) FROM t", table.names().join(", "));

    let mut group = c.benchmark_group("churn_score");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Elements(rows as u64));

    group.bench_function(BenchmarkId::new("in_process_score_table", rows), |b| {
        b.iter(|| black_box(scorer.score_table(black_box(&table)).unwrap()))
    });
    // The same on one thread, beside one target partition.
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    group.bench_function(
        BenchmarkId::new("in_process_score_table_1_thread", rows),
        |b| {
            b.iter(|| {
                one_thread.install(|| black_box(scorer.score_table(black_box(&table)).unwrap()))
            })
        },
    );
    for partitions in [1, 2] {
        let ctx = SessionContext::new_with_config(
            SessionConfig::new()
                .with_target_partitions(partitions)
                .with_batch_size(BATCH),
        );
        ChurnwiseFunctions::new()
            .scorer(scorer.clone())
            .register(&ctx)
            .unwrap();
        ctx.register_table("t", Arc::new(mem_table(&table, partitions)))
            .unwrap();
        // Same values as in process, checked once before timing.
        let check: Vec<f64> = rt.block_on(async {
            let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
            batches
                .iter()
                .flat_map(|b| {
                    b.column(0)
                        .as_any()
                        .downcast_ref::<Float64Array>()
                        .unwrap()
                        .values()
                        .to_vec()
                })
                .collect()
        });
        assert_eq!(check.len(), rows);
        if partitions == 1 {
            assert_eq!(check, scorer.score_table(&table).unwrap().to_vec());
        }
        group.bench_function(
            BenchmarkId::new(format!("sql_target_partitions_{partitions}"), rows),
            |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
                        black_box(batches)
                    })
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
