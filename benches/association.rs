//! FP-growth on synthetic per-customer itemsets: 100 items with
//! heavy-tailed frequencies (the most common held by 90% of customers, the
//! rarest by 7%), three customer groups that favour a third of them each,
//! about 15 items per customer, and a `churned` item that depends on three
//! of them (`cargo bench --bench association`).
//!
//! The generator is SplitMix64 over (customer, item), so
//! `benches/association_vs_mlxtend.py` builds the very same data for
//! mlxtend's `fpgrowth`; the bench prints the number of frequent itemsets
//! found, which the script prints too. Only the mining is timed on both sides.

use std::hint::black_box;
use std::time::Duration;

use churnwise::analysis::association::{
    Engine, FpGrowth, RuleFilter, Transactions, TransactionsBuilder,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const ITEMS: u64 = 100;
const SEED: u64 = 0x5EED;

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn uniform(i: u64, j: u64) -> f64 {
    (mix64(SEED.wrapping_add(i.wrapping_mul(1024)).wrapping_add(j)) >> 11) as f64
        / (1u64 << 53) as f64
}

/// The same transactions as `generate` in the Python anchor.
fn transactions(n: u64) -> Transactions {
    let names: Vec<String> = (0..ITEMS).map(|j| format!("i{j:03}")).collect();
    let p: Vec<f64> = (0..ITEMS)
        .map(|j| (1.1 * (j as f64 + 1.0).powf(-0.6)).min(0.9))
        .collect();
    let mut builder = TransactionsBuilder::with_capacity(n as usize, 16 * n as usize);
    let mut row: Vec<&str> = Vec::with_capacity(32);
    for i in 0..n {
        row.clear();
        let group = (uniform(i, 1023) * 3.0).floor() as u64;
        let mut has = [false; ITEMS as usize];
        for j in 0..ITEMS {
            let mult = if group == j % 3 { 1.5 } else { 0.75 };
            if uniform(i, j) < (p[j as usize] * mult).min(0.95) {
                has[j as usize] = true;
                row.push(&names[j as usize]);
            }
        }
        let churn_p = 0.05
            + 0.25 * f64::from(u8::from(has[3]))
            + 0.2 * f64::from(u8::from(has[7] && has[11]));
        if uniform(i, 1000) < churn_p {
            row.push("churned");
        }
        builder.push(i, row.iter().copied());
    }
    builder.build().expect("valid transactions")
}

/// This process's CPU time (Linux; 0 elsewhere): on a shared machine the
/// wall time depends on the other jobs, the CPU time much less.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name: utime and stime are the 12th and 13th.
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |k: usize| {
        fields
            .get(k)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn mine(c: &mut Criterion) {
    let mut group = c.benchmark_group("fpgrowth");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for n in [100_000u64, 1_000_000] {
        let t = transactions(n);
        let config = FpGrowth::new().min_support(0.01);
        let (cpu, wall) = (cpu_seconds(), std::time::Instant::now());
        let found = config.mine(&t).expect("mined");
        eprintln!(
            "n={n}: one mining run took {:.3} s wall, {:.3} s of CPU (user + system, all threads)",
            wall.elapsed().as_secs_f64(),
            cpu_seconds() - cpu
        );
        let rules = found
            .rules_to("churned", &RuleFilter::new().min_lift(1.0))
            .expect("rules");
        eprintln!(
            "n={n} items/customer={:.2} total={}: {} frequent itemsets at min_support 0.01, {} rules to churned",
            t.total_items() as f64 / n as f64,
            t.total_items(),
            found.len(),
            rules.len()
        );
        group.throughput(Throughput::Elements(n));
        group.bench_with_input(BenchmarkId::new("min_support_0.01", n), &t, |b, t| {
            b.iter(|| black_box(config.mine(black_box(t)).expect("mined")))
        });
        if n <= 100_000 {
            let tree = FpGrowth::new().min_support(0.01).engine(Engine::FpTree);
            group.bench_with_input(
                BenchmarkId::new("fp_tree_min_support_0.01", n),
                &t,
                |b, t| b.iter(|| black_box(tree.mine(black_box(t)).expect("mined"))),
            );
        }
        group.bench_with_input(BenchmarkId::new("rules_to_churned", n), &found, |b, f| {
            b.iter(|| {
                black_box(
                    f.rules_to("churned", &RuleFilter::new().min_lift(1.0))
                        .expect("rules"),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, mine);
criterion_main!(benches);
