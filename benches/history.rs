//! History construction: from records in memory, from a CSV transaction log,
//! and from a subscription book.
//!
//! `cargo bench --bench history`. Data comes from `synth` with a fixed seed;
//! the CSV files (one with a quoted field in every row) are written to the
//! system temp directory first. The subscription book is generated here:
//! two subscriptions per customer, ten events each (monthly ones renew,
//! change price and end or fail a payment; yearly ones pause, resume,
//! change price, fail payments and get cancelled).

use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::time::Duration;

use chrono::{DateTime, Months, TimeDelta, TimeZone, Utc};
use churnwise::records::{
    BillingPeriod, ChurnReason, Customer, Duplicates, HistoryBuilder, Order, OrderCsv,
    Subscription, SubscriptionEvent, SubscriptionEventKind as K, UnknownCustomers,
};
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

/// `n` subscriptions (two per customer) with ten events each.
fn subscription_book(n: usize) -> (Vec<Customer>, Vec<Subscription>, Vec<SubscriptionEvent>) {
    let base: DateTime<Utc> = Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap();
    let customers: Vec<Customer> = (0..n as u64 / 2).map(|c| Customer::new(c, base)).collect();
    let mut subs = Vec::with_capacity(n);
    let mut events = Vec::with_capacity(10 * n);
    for i in 0..n as u64 {
        let (c, name) = (i / 2, if i % 2 == 0 { "S-1" } else { "S-2" });
        let start = base + TimeDelta::days((i * 7919 % 365) as i64);
        let price = 5.0 + (i % 40) as f64;
        let ev = |t: DateTime<Utc>, k: K| SubscriptionEvent::new(c, name, t, k);
        let days = |d: i64| start + TimeDelta::days(d);
        if i % 5 != 0 {
            subs.push(Subscription::new(
                c,
                name,
                "basic",
                start,
                BillingPeriod::Monthly,
                price,
            ));
            for m in 1..=8 {
                events.push(ev(start + Months::new(m), K::Renewal));
            }
            events.push(ev(
                days(100),
                K::Upgrade {
                    price: price * 1.5,
                    plan: Some("pro".into()),
                },
            ));
            events.push(if i % 3 == 0 {
                ev(
                    days(250),
                    K::CancellationRequested {
                        reason: ChurnReason::Price,
                        note: None,
                    },
                )
            } else {
                ev(days(250), K::PaymentFailed)
            });
        } else {
            subs.push(Subscription::new(
                c,
                name,
                "pro",
                start,
                BillingPeriod::Yearly,
                12.0 * price,
            ));
            events.push(ev(start + Months::new(12), K::Renewal));
            for (d, k) in [
                (30, K::Pause),
                (60, K::Resume),
                (
                    90,
                    K::Upgrade {
                        price: 20.0 * price,
                        plan: None,
                    },
                ),
                (
                    120,
                    K::Downgrade {
                        price: 10.0 * price,
                        plan: Some("basic".into()),
                    },
                ),
                (150, K::PaymentFailed),
                (200, K::Pause),
                (230, K::Resume),
                (400, K::PaymentFailed),
                (
                    420,
                    K::CancellationRequested {
                        reason: ChurnReason::Competitor,
                        note: Some("moved to a rival".into()),
                    },
                ),
            ] {
                events.push(ev(days(d), k));
            }
        }
    }
    (customers, subs, events)
}

fn build_subscriptions(c: &mut Criterion) {
    let mut group = c.benchmark_group("history_build_subscriptions");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for n in [100_000, 1_000_000] {
        let (customers, subs, events) = subscription_book(n);
        let once = {
            let mut b = HistoryBuilder::new();
            b.extend(customers.iter().cloned());
            b.extend(subs.iter().cloned());
            b.extend(events.iter().cloned());
            let (h, report) = b.build().expect("builds");
            assert!(report.is_clean(), "{report}");
            h.memory()
        };
        // Stated once per size (criterion measures time only).
        eprintln!(
            "{n} subscriptions, {} events: {:.1} bytes per subscription, {:.1} per event",
            events.len(),
            once.bytes_per_subscription(),
            once.bytes_per_subscription_event()
        );
        group.throughput(Throughput::Elements(events.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("records", n),
            &(customers, subs, events),
            |b, (cs, ss, es)| {
                b.iter_batched(
                    || (cs.clone(), ss.clone(), es.clone()),
                    |(cs, ss, es)| {
                        let mut builder = HistoryBuilder::new();
                        builder.extend(cs);
                        builder.extend(ss);
                        builder.extend(es);
                        black_box(builder.build().expect("builds"))
                    },
                    BatchSize::PerIteration,
                )
            },
        );
    }
    group.finish();
}

criterion_group!(benches, build_from_records, read_csv, build_subscriptions);
criterion_main!(benches);
