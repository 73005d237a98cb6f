//! Feature extraction and RFM fit/apply (`cargo bench --bench features`).
//!
//! The synthetic population of 1 M customers (about 10 M orders and 22 M
//! interactions) is generated once, streamed into a History, then reused.

use std::hint::black_box;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use churnwise::features::{FeatureSpec, Snapshot};
use churnwise::records::{History, HistoryBuilder};
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

criterion_group!(benches, extract, rfm);
criterion_main!(benches);
