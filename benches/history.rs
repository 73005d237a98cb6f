//! History construction: from records in memory, and from a CSV transaction log.
//!
//! `cargo bench --bench history`. Data comes from `synth` with a fixed seed;
//! the CSV file is written to the system temp directory first.

use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::time::Duration;

use churnwise::records::{Customer, Duplicates, HistoryBuilder, Order, OrderCsv, UnknownCustomers};
use churnwise::synth::PopulationConfig;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Customers and orders of a synthetic population with about `orders` orders.
fn population(orders: usize) -> (Vec<Customer>, Vec<Order>) {
    let config = PopulationConfig::default()
        .customers(orders / 10)
        .seed(2024);
    let parts = config.generate().expect("valid config").into_parts();
    (parts.customers, parts.orders)
}

fn build_from_records(c: &mut Criterion) {
    let mut group = c.benchmark_group("history_build");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for n in [100_000, 1_000_000, 10_000_000] {
        let (customers, orders) = population(n);
        group.throughput(Throughput::Elements(orders.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("records", orders.len()),
            &(customers, orders),
            |b, (cs, os)| {
                b.iter_batched(
                    || (cs.clone(), os.clone()),
                    |(cs, os)| {
                        let mut builder = HistoryBuilder::new();
                        builder.extend(cs);
                        builder.extend(os);
                        black_box(builder.build().expect("builds"))
                    },
                    BatchSize::PerIteration,
                )
            },
        );
    }
    group.finish();
}

fn read_csv(c: &mut Criterion) {
    let mut group = c.benchmark_group("history_csv");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for n in [1_000_000, 10_000_000] {
        let (_, orders) = population(n);
        let path = std::env::temp_dir().join(format!("churnwise-bench-orders-{n}.csv"));
        let mut w = BufWriter::new(std::fs::File::create(&path).expect("temp file"));
        writeln!(w, "customer_id,date,amount").expect("write");
        for o in &orders {
            writeln!(
                w,
                "{},{},{:.2}",
                o.customer,
                o.time.format("%Y-%m-%d"),
                o.amount
            )
            .expect("write");
        }
        w.flush().expect("flush");
        drop(w);
        group.throughput(Throughput::Elements(orders.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("transactions", orders.len()),
            &path,
            |b, path| {
                b.iter(|| {
                    let mut builder = HistoryBuilder::new()
                        .unknown_customers(UnknownCustomers::Create)
                        .duplicates(Duplicates::Keep);
                    builder
                        .read_orders_csv_path(path, &OrderCsv::new())
                        .expect("reads");
                    black_box(builder.build().expect("builds"))
                })
            },
        );
        std::fs::remove_file(&path).ok();
    }
    group.finish();
}

criterion_group!(benches, build_from_records, read_csv);
criterion_main!(benches);
