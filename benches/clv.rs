//! BG/NBD fit on calibration summaries of 100 k and 1 M customers
//! (`cargo bench --bench clv`).
//!
//! The summaries are simulated here from fixed BG/NBD parameters in days
//! (customers joining uniformly over a year, observed to day 730, times
//! rounded to whole days as a daily transaction log gives), so the bench
//! needs nothing outside the repository. Compare with lifetimes'
//! BetaGeoFitter through ../shared/anchors (`run_all.sh lifetimes`).

use std::hint::black_box;
use std::time::Duration;

use churnwise::clv::{BetaGeo, CalibrationSummary, TimeUnit};
use churnwise::synth::{BgNbdParams, simulate_bgnbd_horizons};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn summary(customers: usize) -> CalibrationSummary {
    let truth = BgNbdParams::new(1.5, 52.0, 2.0, 80.0).expect("valid parameters");
    // Whole-day ages between 365 and 730 days.
    let horizons: Vec<f64> = (0..customers)
        .map(|i| 365.0 + ((i * 7_919) % 366) as f64)
        .collect();
    let sim = simulate_bgnbd_horizons(truth, &horizons, 2024).expect("valid horizons");
    CalibrationSummary::from_columns(
        TimeUnit::Days,
        sim.iter().map(|c| c.x).collect(),
        sim.iter().map(|c| c.t_x.floor()).collect(),
        sim.iter().map(|c| c.t).collect(),
    )
    .expect("valid summary")
}

fn fit(c: &mut Criterion) {
    let mut group = c.benchmark_group("bgnbd");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for n in [100_000, 1_000_000] {
        let s = summary(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("fit", n), &s, |b, s| {
            b.iter(|| black_box(BetaGeo::new().fit(s).expect("fits")))
        });
    }
    group.finish();
}

criterion_group!(benches, fit);
criterion_main!(benches);
