//! Kaplan–Meier (with per-plan curves) and a five-covariate Cox model with
//! Efron ties on 100 k and 1 M subscriptions (`cargo bench --bench survival`).
//!
//! The data is simulated here from a known Cox model (exponential baseline,
//! uniform censoring over two years, durations rounded up to whole days, so
//! ties abound) from a splitmix64 stream that a Python script can reproduce
//! bit for bit, to time lifelines on the very same rows.

use std::hint::black_box;
use std::time::Duration;

use churnwise::analysis::survival::{CoxPh, KaplanMeier, SurvivalData};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

struct SplitMix(u64);

impl SplitMix {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // In (0, 1]: never 0, so that ln(u) is finite.
        ((z >> 11) as f64 + 1.0) * (1.0 / (1u64 << 53) as f64)
    }
}

/// `n` subscriptions: fee, tickets, auto-renewal and plan, with
/// log-hazard −0.01·fee + 0.3·tickets − 0.8·auto + 0.4·basic − 0.2·enterprise.
fn data(n: usize) -> SurvivalData {
    let mut rng = SplitMix(2024);
    let mut cols: Vec<Vec<f64>> = (0..5).map(|_| Vec::with_capacity(n)).collect();
    let (mut durations, mut events, mut plans) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for _ in 0..n {
        let fee = 10.0 + 40.0 * rng.uniform();
        let tickets = (-rng.uniform().ln()).floor();
        let auto = f64::from(u8::from(rng.uniform() < 0.5));
        let u = rng.uniform();
        let (basic, enterprise, plan) = if u < 0.5 {
            (1.0, 0.0, "basic")
        } else if u < 0.8 {
            (0.0, 0.0, "pro")
        } else {
            (0.0, 1.0, "enterprise")
        };
        let lp = -0.01 * fee + 0.3 * tickets - 0.8 * auto + 0.4 * basic - 0.2 * enterprise;
        let event_time = -rng.uniform().ln() / (0.004 * lp.exp());
        let censor_time = 730.0 * rng.uniform();
        durations.push(event_time.min(censor_time).ceil());
        events.push(event_time <= censor_time);
        plans.push(plan);
        for (c, v) in cols.iter_mut().zip([fee, tickets, auto, basic, enterprise]) {
            c.push(v);
        }
    }
    let mut d = SurvivalData::new(durations, events)
        .expect("valid durations")
        .with_groups("plan", &plans)
        .expect("one plan per row");
    for (name, c) in [
        "monthly_fee",
        "support_tickets",
        "auto_renew",
        "plan_basic",
        "plan_enterprise",
    ]
    .into_iter()
    .zip(cols)
    {
        d = d.with_covariate(name, c).expect("finite covariates");
    }
    d
}

fn survival(c: &mut Criterion) {
    let mut group = c.benchmark_group("survival");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for n in [100_000, 1_000_000] {
        let d = data(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("kaplan_meier_by_plan", n), &d, |b, d| {
            b.iter(|| black_box(KaplanMeier::new().fit(d).expect("fits")))
        });
        group.bench_with_input(BenchmarkId::new("cox_efron_5", n), &d, |b, d| {
            b.iter(|| black_box(CoxPh::new().fit(d).expect("fits")))
        });
    }
    group.finish();
}

criterion_group!(benches, survival);
criterion_main!(benches);
