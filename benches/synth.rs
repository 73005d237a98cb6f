//! Synthetic population generation (`cargo bench --bench synth`).

use std::hint::black_box;
use std::time::Duration;

use churnwise::synth::PopulationConfig;
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

criterion_group!(benches, generate);
criterion_main!(benches);
