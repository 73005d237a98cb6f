//! Synthetic population generation (`cargo bench --bench synth`).

use std::hint::black_box;
use std::time::Duration;

use chrono::TimeDelta;
use churnwise::synth::{PopulationConfig, SubscriptionPopulationConfig};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn generate(c: &mut Criterion) {
    let mut group = c.benchmark_group("synth_generate");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    for customers in [10_000, 100_000] {
        let config = PopulationConfig::default().customers(customers).seed(7);
        group.throughput(Throughput::Elements(customers as u64));
        group.bench_with_input(
            BenchmarkId::new("customers", customers),
            &config,
            |b, config| b.iter(|| black_box(config.generate().expect("valid config"))),
        );
    }
    group.finish();
}

/// The churn oracle: 20 000 customers, as of 180 days before the end, 90-day
/// horizon, 10 and 100 replicas.
fn churn_probabilities(c: &mut Criterion) {
    let mut group = c.benchmark_group("synth_churn_probabilities");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    let config = PopulationConfig::default().customers(20_000).seed(7);
    let as_of = config.end_time() - TimeDelta::days(180);
    for replicas in [10u32, 100] {
        group.throughput(Throughput::Elements(20_000));
        group.bench_with_input(
            BenchmarkId::new("replicas", replicas),
            &replicas,
            |b, &replicas| {
                b.iter(|| {
                    black_box(
                        config
                            .churn_probabilities(as_of, 90.0, replicas)
                            .expect("valid arguments"),
                    )
                })
            },
        );
    }
    group.finish();
}

/// The subscription business: generation of 10 000 and 100 000 subscribers,
/// and its records oracle (20 000 subscribers, 32 replicas, 90 days).
fn subscriptions(c: &mut Criterion) {
    let mut group = c.benchmark_group("synth_subscriptions");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    for customers in [10_000, 100_000] {
        let config = SubscriptionPopulationConfig::default()
            .customers(customers)
            .seed(7);
        group.throughput(Throughput::Elements(customers as u64));
        group.bench_with_input(
            BenchmarkId::new("generate", customers),
            &config,
            |b, config| b.iter(|| black_box(config.generate().expect("valid config"))),
        );
    }
    let config = SubscriptionPopulationConfig::default()
        .customers(20_000)
        .seed(7);
    let as_of = config.end_time() - TimeDelta::days(180);
    group.throughput(Throughput::Elements(20_000));
    group.bench_function("oracle_given_records/20000", |b| {
        b.iter(|| {
            black_box(
                config
                    .churn_probabilities_given_records(as_of, 90.0, 32)
                    .expect("valid arguments"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, generate, churn_probabilities, subscriptions);
criterion_main!(benches);
