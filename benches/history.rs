//! History construction: from records in memory, and from a CSV transaction log.
//!
//! `cargo bench --bench history`. Data comes from `synth` with a fixed seed;
//! the CSV files (one with a quoted field in every row) are written to the
//! system temp directory first.

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

/// Writes `orders` as `customer_id,date,amount`, or with `Quoting::Quoted`
/// as `customer_id,note,date,amount` where every note is a quoted field
/// holding the delimiter (and one in a hundred a doubled quote).
fn write_orders(path: &std::path::Path, orders: &[Order], quoting: Quoting) {
    let mut w = BufWriter::new(std::fs::File::create(path).expect("temp file"));
    match quoting {
        Quoting::None => writeln!(w, "customer_id,date,amount"),
        Quoting::Quoted => writeln!(w, "customer_id,note,date,amount"),
    }
    .expect("write");
    for (i, o) in orders.iter().enumerate() {
        let date = o.time.format("%Y-%m-%d");
        match quoting {
            Quoting::None => writeln!(w, "{},{date},{:.2}", o.customer, o.amount),
            Quoting::Quoted if i % 100 == 0 => writeln!(
                w,
                "{},\"order {i}, \"\"gift\"\"\",{date},{:.2}",
                o.customer, o.amount
            ),
            Quoting::Quoted => {
                writeln!(
                    w,
                    "{},\"order {i}, web\",{date},{:.2}",
                    o.customer, o.amount
                )
            }
        }
        .expect("write");
    }
    w.flush().expect("flush");
}

#[derive(Clone, Copy)]
enum Quoting {
    None,
    Quoted,
}

fn read_csv(c: &mut Criterion) {
    let mut group = c.benchmark_group("history_csv");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let cases = [
        ("transactions", 1_000_000, Quoting::None),
        ("transactions", 10_000_000, Quoting::None),
        ("transactions_quoted", 200_000, Quoting::Quoted),
    ];
    for (name, n, quoting) in cases {
        let (_, orders) = population(n);
        let path = std::env::temp_dir().join(format!("churnwise-bench-{name}-{n}.csv"));
        write_orders(&path, &orders, quoting);
        group.throughput(Throughput::Elements(orders.len() as u64));
        group.bench_with_input(BenchmarkId::new(name, orders.len()), &path, |b, path| {
            b.iter(|| {
                let mut builder = HistoryBuilder::new()
                    .unknown_customers(UnknownCustomers::Create)
                    .duplicates(Duplicates::Keep);
                builder
                    .read_orders_csv_path(path, &OrderCsv::new())
                    .expect("reads");
                black_box(builder.build().expect("builds"))
            })
        });
        std::fs::remove_file(&path).ok();
    }
    group.finish();
}

criterion_group!(benches, build_from_records, read_csv);
criterion_main!(benches);
