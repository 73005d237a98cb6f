//! A History from Parquet versus from CSV: the same synthetic orders in
//! both formats (Parquet with `Int64` ids, `Date32` days, `Float64`
//! amounts, Snappy), read and built side by side.
//!
//! `cargo bench --bench arrow --features parquet`. The files are written
//! to the system temp directory first and removed at the end. The 10 M
//! side-by-side figures (with polars' `read_parquet` + `group_by`) are in
//! the README.

use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::Duration;

use arrow_array::{ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch};
use churnwise::arrow::{OrderColumns, ToRecordBatch, write_parquet_path};
use churnwise::records::{Duplicates, HistoryBuilder, Order, OrderCsv, UnknownCustomers};
use churnwise::synth::PopulationConfig;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Orders of a synthetic population with about `orders` orders.
fn population(orders: usize) -> Vec<Order> {
    let config = PopulationConfig::default()
        .customers(orders / 10)
        .seed(2024);
    config.generate().expect("valid config").into_parts().orders
}

/// The orders as `customer_id,date,amount` text and as a batch of the same
/// values (dates at midnight, amounts to the cent).
fn write_both(orders: &[Order], csv: &std::path::Path, parquet: &std::path::Path) {
    let mut w = BufWriter::new(std::fs::File::create(csv).expect("temp file"));
    writeln!(w, "customer_id,date,amount").expect("write");
    let (mut ids, mut days, mut amounts) = (Vec::new(), Vec::new(), Vec::new());
    for o in orders {
        let amount = format!("{:.2}", o.amount);
        writeln!(w, "{},{},{amount}", o.customer, o.time.format("%Y-%m-%d")).expect("write");
        ids.push(o.customer.as_u64().expect("integer ids") as i64);
        days.push((o.time.timestamp().div_euclid(86_400)) as i32);
        amounts.push(amount.parse::<f64>().expect("a number"));
    }
    w.flush().expect("flush");
    let batch = RecordBatch::try_from_iter([
        ("customer_id", Arc::new(Int64Array::from(ids)) as ArrayRef),
        ("date", Arc::new(Date32Array::from(days))),
        ("amount", Arc::new(Float64Array::from(amounts))),
    ])
    .expect("a batch");
    write_parquet_path(&batch.to_record_batch().expect("a batch"), parquet).expect("writes");
}

fn builder() -> HistoryBuilder {
    HistoryBuilder::new()
        .unknown_customers(UnknownCustomers::Create)
        .duplicates(Duplicates::Keep)
}

fn parquet_vs_csv(c: &mut Criterion) {
    let mut group = c.benchmark_group("history_from_file");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    for n in [100_000, 1_000_000] {
        let orders = population(n);
        let dir = std::env::temp_dir();
        let csv = dir.join(format!("churnwise-bench-arrow-{n}.csv"));
        let parquet = dir.join(format!("churnwise-bench-arrow-{n}.parquet"));
        write_both(&orders, &csv, &parquet);
        // Both paths build the same History.
        let from_csv = {
            let mut b = builder();
            b.read_orders_csv_path(&csv, &OrderCsv::new())
                .expect("reads");
            b.build().expect("builds").0
        };
        let mut b = builder();
        b.read_parquet_path(&parquet, &OrderColumns::new())
            .expect("reads");
        assert!(
            b.build().expect("builds").0 == from_csv,
            "the two paths differ"
        );

        group.throughput(Throughput::Elements(orders.len() as u64));
        group.bench_with_input(BenchmarkId::new("csv", orders.len()), &csv, |b, path| {
            b.iter(|| {
                let mut builder = builder();
                builder
                    .read_orders_csv_path(path, &OrderCsv::new())
                    .expect("reads");
                black_box(builder.build().expect("builds"))
            })
        });
        group.bench_with_input(
            BenchmarkId::new("parquet", orders.len()),
            &parquet,
            |b, path| {
                b.iter(|| {
                    let mut builder = builder();
                    builder
                        .read_parquet_path(path, &OrderColumns::new())
                        .expect("reads");
                    black_box(builder.build().expect("builds"))
                })
            },
        );
        std::fs::remove_file(&csv).ok();
        std::fs::remove_file(&parquet).ok();
    }
    group.finish();
}

criterion_group!(benches, parquet_vs_csv);
criterion_main!(benches);
