//! Alert evaluation: 1 M profiles × 20 rules (`cargo bench --bench alert`).
//!
//! Profiles are drawn from a fixed generator (features with the catalog's
//! names, churn probabilities, values, stages and tiers) and a previous
//! snapshot with perturbed spend, so the change rules run too.

use std::hint::black_box;
use std::time::Duration;

use churnwise::alert::{AlertEngine, AlertPolicy, AlertRule, Severity};
use churnwise::features::FeatureTable;
use churnwise::rules::Condition as C;
use churnwise::rules::Route;
use churnwise::score::Profiles;
use churnwise::segment::{LifecycleStage, Tier};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Array2;

/// SplitMix64 uniforms.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

const NAMES: [&str; 10] = [
    "recency_days",
    "days_since_interaction",
    "complaints_30d",
    "complaints_90d",
    "response_hours_max_30d",
    "spend_90d",
    "spend_180d",
    "orders_90d",
    "engagement_trend_30d",
    "satisfaction_last",
];

fn profiles(n: usize, seed: u64, spend_scale: f64) -> Profiles {
    let mut rng = Rng(seed);
    let mut x = Array2::zeros((n, NAMES.len()));
    // Shaped so each rule flags a few percent of customers, as in practice.
    let exp = |rng: &mut Rng, mean: f64| -rng.next().max(1e-12).ln() * mean;
    for mut row in x.rows_mut() {
        row[0] = exp(&mut rng, 30.0).floor();
        row[1] = exp(&mut rng, 12.0).floor();
        row[2] = exp(&mut rng, 0.25).floor();
        row[3] = exp(&mut rng, 0.5).floor();
        row[4] = if rng.next() < 0.2 {
            exp(&mut rng, 8.0)
        } else {
            0.0
        };
        row[5] = (exp(&mut rng, 250.0) * spend_scale).floor();
        row[6] = row[5] * 2.0;
        row[7] = (rng.next() * 6.0).floor();
        row[8] = (rng.next() - 0.5) * rng.next() * 1.5;
        row[9] = 1.0 - rng.next() * rng.next();
    }
    let ids = (1..=n as u64).map(Into::into).collect();
    let table = FeatureTable::new(ids, NAMES.map(String::from).to_vec(), x).expect("finite");
    let p_churn = (0..n).map(|_| rng.next().powi(6)).collect();
    // 5% each silent, at risk, new and churned; the rest active.
    let stages = [
        LifecycleStage::Silent,
        LifecycleStage::AtRisk,
        LifecycleStage::New,
        LifecycleStage::Churned,
        LifecycleStage::Active,
    ];
    let tiers = [Tier::Low, Tier::Mid, Tier::High];
    Profiles::new(table)
        .and_then(|p| p.with_churn_probabilities(p_churn))
        .and_then(|p| p.values_from_column("spend_180d"))
        .and_then(|p| p.with_lifecycle_stages((0..n).map(|i| stages[(i % 20).min(4)]).collect()))
        .and_then(|p| p.with_value_tiers((0..n).map(|i| tiers[(i / 5) % 3]).collect()))
        .expect("valid profiles")
}

/// The default policy plus 14 variants: 20 rules.
fn policy() -> AlertPolicy {
    let mut rules = AlertPolicy::default_policy().rules().to_vec();
    for k in 0..14 {
        let t = f64::from(k);
        let (condition, severity, route) = match k % 4 {
            0 => (
                C::field("churn_probability").between(0.9 + t / 400.0, 1.0),
                Severity::Medium,
                Route::Sales,
            ),
            1 => (
                C::all([
                    C::field("complaints_90d").gte(3 + k / 4),
                    C::not(C::field("value_tier").eq("low")),
                ]),
                Severity::Medium,
                Route::AfterSales,
            ),
            2 => (
                C::any([
                    C::field("engagement_trend_30d").lte(-0.7 - t / 50.0),
                    C::field("satisfaction_last").lt(0.02 + t / 400.0),
                ]),
                Severity::Low,
                Route::Marketing,
            ),
            _ => (
                C::all([
                    C::field("lifecycle_stage").is_in(["silent", "at_risk"]),
                    C::field("spend_180d").change().lt(-400.0 - 50.0 * t),
                ]),
                Severity::High,
                Route::CustomerService,
            ),
        };
        rules.push(AlertRule::new(
            format!("variant_{k}"),
            condition,
            severity,
            route,
        ));
    }
    AlertPolicy::new(rules).expect("valid")
}

fn evaluate(c: &mut Criterion) {
    let n = 1_000_000;
    let (now, before) = (profiles(n, 1, 1.0), profiles(n, 1, 1.6));
    let engine = AlertEngine::new(policy());
    let report = engine.evaluate(&now, Some(&before)).expect("evaluates");
    eprintln!(
        "{} alerts for {} profiles ({} capped)",
        report.alerts().len(),
        n,
        report.capped()
    );
    for rule in engine.policy().rules() {
        let k = report
            .alerts()
            .iter()
            .filter(|a| a.rule() == rule.id())
            .count();
        eprintln!("  {:<26} {k:>8}", rule.id());
    }
    let mut group = c.benchmark_group("alert");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("evaluate_1m_x_20_rules", |b| {
        b.iter(|| black_box(engine.evaluate(&now, Some(&before)).expect("evaluates")))
    });
    // The same rules, each also requiring an impossible score: evaluation without alerts.
    let quiet: Vec<AlertRule> = engine
        .policy()
        .rules()
        .iter()
        .map(|r| {
            let never = C::all([r.condition().clone(), C::field("churn_probability").gt(1.0)]);
            AlertRule::new(r.id(), never, r.severity(), r.route().clone())
        })
        .collect();
    let quiet = AlertEngine::new(AlertPolicy::new(quiet).expect("valid"));
    group.bench_function("evaluate_1m_x_20_rules_no_alerts", |b| {
        b.iter(|| black_box(quiet.evaluate(&now, Some(&before)).expect("evaluates")))
    });
    group.finish();
}

criterion_group!(benches, evaluate);
criterion_main!(benches);
