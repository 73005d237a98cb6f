//! Logistic regression and gradient-boosted trees: fit and batch
//! prediction (`cargo bench --bench fit`).
//!
//! The data mimic the anchors' `features_*.csv` (20 features: 12 correlated
//! Gaussians with varied locations and scales, 8 skewed counts; labels from
//! a known logistic model, about 20% positive), generated here from a fixed
//! seed so the bench needs nothing outside the repository.
//!
//! numpy asks the kernel for huge pages for its arrays; to give this process
//! the same (glibc 2.35+), run
//! `GLIBC_TUNABLES=glibc.malloc.hugetlb=1 cargo bench --bench fit`.

use std::hint::black_box;
use std::time::Duration;

use churnwise::features::{FeatureTable, TrainingSet};
use churnwise::model::{GradientBoosting, LogisticRegression};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{Array1, Array2};

/// SplitMix64: a small, fixed generator for bench data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-300), self.next());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn data(n: usize) -> TrainingSet {
    let mut rng = Rng(20_261_122);
    let beta = [
        1.0, -0.8, 0.5, 0.0, 0.3, 0.0, -0.4, 0.2, 0.0, 0.0, 0.6, -0.3, 0.7, 0.4, -0.5, 0.0, 0.25,
        0.0, 0.15, 0.35,
    ];
    let mut x = Array2::zeros((n, 20));
    let mut y = Array1::from_elem(n, false);
    for i in 0..n {
        let mut prev = rng.normal();
        let mut logit = -1.9;
        for j in 0..20 {
            let z = if j == 0 {
                prev
            } else {
                0.6 * prev + 0.8 * rng.normal()
            };
            prev = z;
            let v = if j < 12 {
                10.0 * j as f64 + (1.0 + j as f64) * z
            } else {
                (-(1.0 + j as f64 - 11.0) * rng.next().max(1e-12).ln() * (0.4 * z).exp()).floor()
            };
            x[[i, j]] = v;
            logit += beta[j] * z;
        }
        y[i] = rng.next() < 1.0 / (1.0 + (-logit).exp());
    }
    let ids = (0..n as u64).map(Into::into).collect();
    let names = (0..20).map(|j| format!("x{j}")).collect();
    TrainingSet::new(FeatureTable::new(ids, names, x).expect("finite"), y).expect("aligned")
}

fn fit(c: &mut Criterion) {
    let mut group = c.benchmark_group("logistic");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    for n in [80_000, 800_000] {
        let train = data(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("fit_c1", n), &train, |b, train| {
            b.iter(|| black_box(LogisticRegression::new().fit(train).expect("fits")))
        });
    }
    let test = data(1_000_000);
    let model = LogisticRegression::new().fit(&data(100_000)).expect("fits");
    group.throughput(Throughput::Elements(1_000_000));
    group.bench_function(BenchmarkId::new("predict_proba", 1_000_000), |b| {
        b.iter(|| {
            black_box(
                model
                    .predict_proba(test.features().values())
                    .expect("predicts"),
            )
        })
    });
    group.finish();
}

/// Gradient-boosted trees with the anchors' settings (`bench_gbdt.py`: 100
/// trees, 31 leaves, learning rate 0.1, 255 bins, min 20 rows per leaf, no L2).
fn gbdt(c: &mut Criterion) {
    let mut group = c.benchmark_group("gbdt");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    let config = GradientBoosting::new()
        .trees(100)
        .learning_rate(0.1)
        .max_leaves(31)
        .bins(255)
        .min_rows_per_leaf(20)
        .l2(0.0);
    for n in [80_000, 800_000] {
        let train = data(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("fit_100x31", n), &train, |b, train| {
            b.iter(|| black_box(config.fit(train).expect("fits")))
        });
    }
    let test = data(1_000_000);
    let model = config.fit(&data(800_000)).expect("fits");
    group.throughput(Throughput::Elements(1_000_000));
    group.bench_function(BenchmarkId::new("predict_proba", 1_000_000), |b| {
        b.iter(|| {
            black_box(
                model
                    .predict_proba(test.features().values())
                    .expect("predicts"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, fit, gbdt);
criterion_main!(benches);
