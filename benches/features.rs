//! Feature extraction and RFM fit/apply (`cargo bench --bench features`).
//!
//! The synthetic population of 1 M customers (about 10 M orders and 22 M
//! interactions) is generated once, streamed into a History, then reused.

use std::hint::black_box;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use churnwise::features::{FeatureSpec, Snapshot};
use churnwise::records::{
    BillingPeriod, ChurnReason, History, HistoryBuilder, Subscription, SubscriptionEvent,
    SubscriptionEventKind as K,
};
use churnwise::segment::Rfm;
use churnwise::synth::PopulationConfig;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn history(customers: usize) -> History {
    let mut builder = HistoryBuilder::new();
    PopulationConfig::default()
        .customers(customers)
        .seed(2024)
        .generate_into(&mut builder)
        .expect("valid config");
    builder.build().expect("builds").0
}

/// The synthetic population with one or two subscriptions per customer
/// (monthly or yearly from signup) and a few events each (renewals,
/// plan changes, payment failures, pauses, cancellations), from a fixed LCG.
fn history_with_subscriptions(customers: usize) -> History {
    let pop = PopulationConfig::default()
        .customers(customers)
        .seed(2024)
        .generate()
        .expect("valid config");
    let mut b = pop.history_builder();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    for c in pop.customers() {
        for s in 0..1 + next(2) {
            let id = format!("S{s}");
            let start = c.signup + chrono::TimeDelta::days(next(60) as i64);
            let period = if next(4) == 0 {
                BillingPeriod::Yearly
            } else {
                BillingPeriod::Monthly
            };
            b.push_subscription(Subscription::new(
                c.id.clone(),
                id.clone(),
                "basic",
                start,
                period,
                10.0 + next(40) as f64,
            ));
            let mut t = start;
            for _ in 0..next(8) {
                t += chrono::TimeDelta::days(1 + next(60) as i64);
                let kind = match next(10) {
                    0..=3 => K::Renewal,
                    4 => K::Upgrade {
                        price: 60.0,
                        plan: Some("pro".into()),
                    },
                    5 => K::Downgrade {
                        price: 5.0,
                        plan: Some("lite".into()),
                    },
                    6 => K::PaymentFailed,
                    7 => K::Pause,
                    8 => K::Resume,
                    _ => K::CancellationRequested {
                        reason: ChurnReason::Price,
                        note: None,
                    },
                };
                b.push_subscription_event(SubscriptionEvent::new(
                    c.id.clone(),
                    id.clone(),
                    t,
                    kind,
                ));
            }
        }
    }
    b.build().expect("builds").0
}

/// Extraction with and without the subscription features on one history
/// holding subscriptions.
fn contract(c: &mut Criterion) {
    let mut group = c.benchmark_group("features_contract");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    let customers = 100_000;
    let h = history_with_subscriptions(customers);
    group.throughput(Throughput::Elements(customers as u64));
    for (name, spec) in [
        ("all", FeatureSpec::all()),
        ("contractual", FeatureSpec::contractual()),
    ] {
        group.bench_with_input(BenchmarkId::new(name, customers), &h, |b, h| {
            b.iter(|| black_box(spec.extract(h, &snapshot()).expect("extracts")))
        });
    }
    group.finish();
}

fn snapshot() -> Snapshot {
    Snapshot::new(Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap())
}

fn extract(c: &mut Criterion) {
    let mut group = c.benchmark_group("features");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    for customers in [100_000, 1_000_000] {
        let h = history(customers);
        group.throughput(Throughput::Elements(customers as u64));
        for (name, spec) in [("rfm", FeatureSpec::rfm()), ("all", FeatureSpec::all())] {
            group.bench_with_input(BenchmarkId::new(name, customers), &h, |b, h| {
                b.iter(|| black_box(spec.extract(h, &snapshot()).expect("extracts")))
            });
        }
    }
    group.finish();
}

fn rfm(c: &mut Criterion) {
    let h = history(1_000_000);
    let table = FeatureSpec::rfm()
        .extract(&h, &snapshot())
        .expect("extracts");
    let fitted = Rfm::new().fit(&table).expect("fits");
    let mut group = c.benchmark_group("rfm");
    group.sample_size(10);
    group.throughput(Throughput::Elements(table.nrows() as u64));
    group.bench_function(BenchmarkId::new("fit", table.nrows()), |b| {
        b.iter(|| black_box(Rfm::new().fit(&table).expect("fits")))
    });
    group.bench_function(BenchmarkId::new("apply", table.nrows()), |b| {
        b.iter(|| black_box(fitted.apply(&table).expect("applies")))
    });
    group.finish();
}

criterion_group!(benches, extract, contract, rfm);
criterion_main!(benches);
