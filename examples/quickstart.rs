//! The churnwise pipeline on the built-in synthetic population.
//!
//! ```text
//! cargo run --release --example quickstart
//! ```
//!
//! Generates a customer base with known ground truth, validates it into a
//! `History`, reads the data-quality report, computes point-in-time features
//! and churn labels, segments customers (RFM, lifecycle, value tiers,
//! k-means), measures churn, trains, tests, explains and saves a churn
//! scorer, checks it against the generator's true churn probabilities and a
//! label-free BG/NBD model, raises early-warning alerts routed to teams, and
//! plans, runs (on the simulated population) and evaluates a retention
//! campaign under a budget, learning the interventions' effects.

#[path = "common/campaign.rs"]
mod campaign;
#[path = "common/models.rs"]
mod models;
#[path = "common/why_rules.rs"]
mod why_rules;
#[path = "common/why_survival.rs"]
mod why_survival;

use std::time::Instant;

use campaign::{run_campaign, truth_alive, truth_by_id};

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use churnwise::alert::{AlertEngine, AlertPolicy};
use churnwise::clv::{BetaGeo, Calibration, TimeUnit, Variant};
use churnwise::features::{
    ChurnLabeler, FeatureSpec, FeatureTable, LapsedCustomers, Snapshot, TrainingSet,
};
use churnwise::model::LogisticRegression;
use churnwise::model::metrics::{Metrics, roc_auc};
use churnwise::records::{CustomerId, RecordKind};
use churnwise::retention::{CampaignEvaluator, EffectLearner, Planner, Playbook};
use churnwise::score::{ChurnScorer, Profiles};
use churnwise::segment::{
    ChurnDefinition, ChurnRatesTable, CohortRetention, CohortRule, KMeansSegmenter,
    LifecyclePolicy, Periods, RevenueRetentionTable, Rfm, SegmentReport, Tiers, churn_rates,
    revenue_retention,
};
use churnwise::synth::{ChurnRisk, LatentType, PopulationConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A reproducible population: 50 000 customers over two years, signing
    //    up through the first 90% of it, with a few invalid records injected
    //    so the quality report has work to do.
    let config = PopulationConfig::default()
        .customers(50_000)
        .seed(42)
        .signup_fraction(0.9)
        .dirty_fraction(0.001);
    let started = Instant::now();
    let population = config.generate()?;
    let generated = started.elapsed();

    // 2. Validate everything into a columnar History. Nothing bad is dropped
    //    silently: the report explains every record it did not keep.
    let started = Instant::now();
    let (history, report) = population.history_builder().build()?;
    let built = started.elapsed();

    heading("Data quality");
    print!("{report}");
    println!("\nFirst issues:");
    for issue in report.iter().take(5) {
        println!("  {issue}");
    }
    let injected = population.injected().total();
    let dropped: usize = [
        RecordKind::Order,
        RecordKind::Interaction,
        RecordKind::Feedback,
    ]
    .into_iter()
    .map(|k| report.dropped(k))
    .sum();
    println!("  ({injected} invalid records were injected; {dropped} events were dropped)");

    heading("Customer base");
    print!("{}", history.summary());
    let memory = history.memory();
    println!(
        "{:<14} {:>14.1} bytes per order ({:.1} MiB in all)",
        "memory",
        memory.bytes_per_order(),
        memory.total() as f64 / (1u64 << 20) as f64
    );

    // 3. The ground truth later stages are checked against.
    heading("Ground truth (hidden from models)");
    let truth = population.truth();
    let churned = truth.iter().filter(|t| t.is_churned()).count();
    println!("{:<22} {:>8}  {:>6}", "latent type", "count", "churn");
    for latent in [
        LatentType::PriceSensitive,
        LatentType::ServiceSensitive,
        LatentType::Indifferent,
    ] {
        let group: Vec<_> = truth.iter().filter(|t| t.latent_type() == latent).collect();
        let churn =
            group.iter().filter(|t| t.is_churned()).count() as f64 / group.len().max(1) as f64;
        println!(
            "{:<22} {:>8}  {:>5.1}%",
            format!("{latent:?}"),
            group.len(),
            100.0 * churn
        );
    }
    println!(
        "{:<22} {:>8}  {:>5.1}%",
        "all",
        truth.len(),
        100.0 * churned as f64 / truth.len() as f64
    );

    // 4. Features as of 1 October 2024, and who really churned in the 90 days after.
    let as_of = Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap();
    let started = Instant::now();
    let table = FeatureSpec::all().extract(&history, &Snapshot::new(as_of))?;
    let featured = started.elapsed();
    let labels = ChurnLabeler::new().labels(&history, as_of)?;
    let churned = labels.churned();
    heading(&format!("Features as of {}", as_of.format("%Y-%m-%d")));
    println!(
        "{} customers × {} features; {:.1}% place no order in the next 90 days",
        table.nrows(),
        table.ncols(),
        100.0 * churned.iter().filter(|&&c| c).count() as f64 / churned.len().max(1) as f64
    );

    // 5. RFM segments: quintile edges learned on this population.
    let rfm = Rfm::new().fit(&table)?;
    let segments: Vec<_> = rfm.apply(&table)?.iter().map(|s| s.segment()).collect();
    heading("RFM segments (churn = no order in the next 90 days)");
    print!("{}", SegmentReport::new(&segments, &table, Some(churned))?);

    // 6. Lifecycle stages from behaviour (no churn model yet).
    let stages = LifecyclePolicy::default().apply(&table, None)?;
    heading("Lifecycle stages");
    print!("{}", SegmentReport::new(&stages, &table, Some(churned))?);

    // 7. Value tiers: top 20% by spend are high, the next 30% mid.
    let tiers = Tiers::value().fit(&table)?.apply(&table)?;
    heading("Value tiers");
    print!("{}", SegmentReport::new(&tiers, &table, Some(churned))?);

    // 8. k-means on standardized RFM and engagement.
    let kmeans = KMeansSegmenter::new().k(5).fit(&table)?;
    heading("k-means clusters (means in original units)");
    print!("{}", kmeans.profile(&table, Some(churned))?);

    // 9. Business measures: monthly churn (order-based and activity-based),
    //    cohort retention by signup month, revenue retention.
    let quarter_start = Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap();
    let months = Periods::months(quarter_start, 6)?;
    for (name, definition) in [
        (
            "no order for 90 days",
            ChurnDefinition::NoOrder {
                inactivity_days: 90,
            },
        ),
        (
            "no activity for 60 days",
            ChurnDefinition::NoActivity {
                inactivity_days: 60,
            },
        ),
    ] {
        heading(&format!("Monthly churn rate ({name})"));
        print!(
            "{}",
            ChurnRatesTable::new(&churn_rates(&history, &months, &definition)?)
        );
    }
    let first_cohort = Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).unwrap();
    let cohorts =
        CohortRetention::by_signup_month(&history, first_cohort, 12, &CohortRule::Ordered)?;
    heading("Cohort retention: share ordering in month m after signup");
    print!("{cohorts}");
    heading("Revenue retention by month");
    print!(
        "{}",
        RevenueRetentionTable::new(&revenue_retention(&history, &months)?)
    );

    // 10. Train a churn model on earlier snapshots (their 90-day label
    //     windows end before the test date), then test it on 1 October 2024.
    let month = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    let labeler = ChurnLabeler::new().lapsed_customers(LapsedCustomers::Exclude);
    let snapshot = Snapshot::new(as_of);
    let train = labeler.training_set(
        &history,
        &FeatureSpec::all(),
        &snapshot,
        &[month(3), month(5), month(7)],
    )?;
    let test = labeler.training_set(&history, &FeatureSpec::all(), &snapshot, &[as_of])?;
    let started = Instant::now();
    let model = LogisticRegression::new().fit(&train)?;
    let trained = started.elapsed();
    let scorer = ChurnScorer::new(model, &snapshot)?;
    let scores = scorer.score_table(test.features())?;
    let metrics = Metrics::compute(&scores, test.labels(), None)?;
    heading(&format!(
        "Churn model: trained on {} rows (Mar, May, Jul), tested on {} active customers",
        train.features().nrows(),
        test.features().nrows()
    ));
    print!("{metrics}");

    // 11. The ten customers most at risk, with the three strongest reasons.
    heading("Top 10 customers at risk (contribution to the log-odds)");
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    for &i in order.iter().take(10) {
        let values = test.features().values().row(i).to_vec();
        let reasons = scorer.explain(&values)?;
        let top: Vec<String> = reasons
            .iter()
            .take(3)
            .map(|r| format!("{} = {:.1} ({:+.2})", r.feature, r.value, r.contribution))
            .collect();
        println!(
            "{:>8}  p = {:.3}  {}",
            test.features().ids()[i].to_string(),
            scores[i],
            top.join(", ")
        );
    }

    // 12. How good can it be? The generator knows each customer's true
    //     churn probability given what their records show, which no model of
    //     the records can beat, and given their hidden traits as well. Train
    //     the same model on the true-churn target (customers alive at Mar,
    //     May, Jul; churned within 90 days) and compare on 1 October, next
    //     to BG/NBD's label-free P(alive).
    let started = Instant::now();
    let horizon = 90.0;
    let true_set = |t: DateTime<Utc>| -> churnwise::Result<TrainingSet> {
        let table = FeatureSpec::all().extract(&history, &snapshot.at(t))?;
        let truly = truth_by_id(truth, t, horizon);
        let alive: Vec<usize> = (0..table.nrows())
            .filter(|&i| truth_alive(truth, &table.ids()[i], t))
            .collect();
        let labels = table
            .ids()
            .iter()
            .map(|id| truly.get(id).copied().unwrap_or(false))
            .collect();
        TrainingSet::new(table, labels)?.subset(&alive)
    };
    let parts = [month(3), month(5), month(7)].map(true_set);
    let mut tables = Vec::new();
    let mut labels = Vec::new();
    for part in parts {
        let part = part?;
        labels.extend(part.labels().iter().copied());
        tables.push(part.features().clone());
    }
    let true_train = TrainingSet::new(FeatureTable::concat(&tables)?, labels.into())?;
    let true_model = LogisticRegression::new().fit(&true_train)?;
    let true_test = true_set(as_of)?;
    let model_p = true_model.predict_proba_table(true_test.features())?;
    let by_id = |risks: Vec<ChurnRisk>| -> HashMap<CustomerId, f64> {
        risks
            .into_iter()
            .map(|r| (r.id().clone(), r.probability()))
            .collect()
    };
    let oracle = by_id(config.churn_probabilities_given_records(as_of, horizon, 100)?);
    let hidden = by_id(config.churn_probabilities(as_of, horizon, 100)?);
    let summary = Calibration::new(as_of)
        .unit(TimeUnit::Weeks)
        .summarize(&history)?;
    let p_alive: HashMap<CustomerId, f64> = summary
        .ids()
        .iter()
        .cloned()
        .zip(
            BetaGeo::new()
                .variant(Variant::Modified)
                .fit(&summary)?
                .p_alive_all(&summary)?,
        )
        .collect();
    let (mut model_s, mut oracle_s, mut hidden_s, mut clv_s, mut y) =
        (vec![], vec![], vec![], vec![], vec![]);
    for (i, id) in true_test.features().ids().iter().enumerate() {
        if let (Some(&o), Some(&h), Some(&a)) = (oracle.get(id), hidden.get(id), p_alive.get(id)) {
            model_s.push(model_p[i]);
            oracle_s.push(o);
            hidden_s.push(h);
            clv_s.push(1.0 - a);
            y.push(true_test.labels()[i]);
        }
    }
    let auc = |s: &[f64]| roc_auc(s, &y, None);
    let (oracle_auc, model_auc) = (auc(&oracle_s)?, auc(&model_s)?);
    heading("Who truly churns in the next 90 days? (ROC-AUC, customers alive on 1 Oct)");
    let row = |name: &str, v: f64| println!("{name:<56} {v:>6.3}");
    row(
        "true probability given the records (the best possible)",
        oracle_auc,
    );
    row("logistic regression trained on true churn", model_auc);
    row(
        "true probability given hidden traits too (unreachable)",
        auc(&hidden_s)?,
    );
    row("MBG/NBD 1 − P(alive) (no labels)", auc(&clv_s)?);
    println!(
        "({} customers, {:.1}% truly churn; the trained model is {:.3} below the best possible; {:.1} s)",
        y.len(),
        100.0 * y.iter().filter(|&&c| c).count() as f64 / y.len() as f64,
        oracle_auc - model_auc,
        started.elapsed().as_secs_f64()
    );
    models::compare_models(&true_train, &true_test, oracle_auc)?;
    models::backtest_models(
        &history,
        &labeler,
        &snapshot,
        &[month(8), month(9), as_of],
        oracle_auc,
    )?;

    // 13. Early warning: profiles now and a month ago, the default alert
    //     policy, and one work list per team.
    let value_tiers = Tiers::value().fit(&table)?;
    let profiles_at = |t: DateTime<Utc>| -> churnwise::Result<Profiles> {
        let table = FeatureSpec::all().extract(&history, &snapshot.at(t))?;
        Profiles::new(table)?
            .score_with(&scorer)?
            .segment_rfm(&rfm)?
            .stage_lifecycle(&LifecyclePolicy::default())?
            .tier_value(&value_tiers)?
            .values_from_column("spend_180d")
    };
    let (before, profiles) = (
        profiles_at(as_of - TimeDelta::days(30))?,
        profiles_at(as_of)?,
    );
    let engine = AlertEngine::new(AlertPolicy::default_policy());
    let started = Instant::now();
    let alerts = engine.evaluate(&profiles, Some(&before))?;
    heading(&format!(
        "Alerts: default policy ({} customers, {:.0} ms)",
        profiles.len(),
        started.elapsed().as_secs_f64() * 1e3
    ));
    println!("{:<18} {:<9} {:>7}", "team", "severity", "alerts");
    for (route, severity, n) in alerts.counts() {
        println!(
            "{:<18} {:<9} {:>7}",
            route.to_string(),
            severity.to_string(),
            n
        );
    }
    println!(
        "
First alerts (by severity, then expected loss):"
    );
    for a in alerts.alerts().iter().take(6) {
        let reasons: Vec<String> = a.reasons().iter().map(ToString::to_string).collect();
        println!(
            "  {:>6} {:<8} {:<24} loss {:>7.0}  {}",
            a.customer().to_string(),
            a.severity().to_string(),
            a.rule(),
            a.expected_loss().unwrap_or(0.0),
            reasons.join("; ")
        );
    }

    why_survival::why_customers_leave(
        &history,
        as_of,
        &table,
        &ChurnLabeler::new().labels(&history, as_of)?,
        &profiles,
    )?;

    // 14. Retention: plan under a budget, hold out a fifth of each
    //     (intervention, segment) as controls, run the campaign on the
    //     simulated population (its true responses decide), evaluate, learn.
    let playbook = Playbook::default_playbook();
    let planner =
        Planner::new(25_000.0).team_capacity(churnwise::rules::Route::CustomerService, 300);
    let plan = planner.plan(&profiles, &playbook)?;
    let s = plan.summary();
    heading("Retention plan (budget 25 000, customer service ≤ 300)");
    println!(
        "{} customers, cost {:.0}, expected saved {:.1}, revenue protected {:.0}, ROI {:.2}, within {:.2}% of the optimum",
        s.customers(),
        s.cost(),
        s.expected_saved(),
        s.revenue_protected(),
        s.roi().unwrap_or(0.0),
        100.0 * s.optimality_gap()
    );
    for (id, t) in plan.by_intervention() {
        println!(
            "  {id:<14} {:>6} customers  cost {:>8.0}",
            t.customers(),
            t.cost()
        );
    }
    let outcomes = run_campaign(&config, &plan, &playbook, truth, as_of, horizon)?;
    let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
    heading("Campaign evaluation (90 days later, treated vs held-out controls)");
    print!("{report}");
    let (learned, estimates) = EffectLearner::new().update(&playbook, &report)?;
    heading("Measured effects feed the next plan (relative churn reduction)");
    for e in estimates.iter().filter(|e| e.segment.is_none()) {
        println!(
            "  {:<14} assumed {:.2} → measured {:.2}",
            e.intervention, e.prior_effect, e.effect
        );
    }
    let next = planner.plan(&profiles, &learned)?;
    println!(
        "next plan: {} customers, expected net value {:.0}",
        next.summary().customers(),
        next.summary().net_value()
    );

    // 15. Save the scorer under `target/` (or the directory given with
    //     `--out DIR`); another service loads it with ChurnScorer::load.
    let args: Vec<String> = std::env::args().collect();
    let dir = match args.iter().position(|a| a == "--out") {
        Some(k) => std::path::PathBuf::from(args.get(k + 1).ok_or("--out needs a directory")?),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
    };
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("churnwise-quickstart-scorer.json");
    scorer.save(&path)?;
    println!("\nscorer saved to {}", path.display());

    why_rules::why_rules(&history, as_of)?;
    println!(
        "for an HTML report with charts: cargo run --release --example report -- --out churn-report.html"
    );

    heading("Timing");
    println!("generate {:>8.3} s", generated.as_secs_f64());
    println!("build    {:>8.3} s", built.as_secs_f64());
    println!("features {:>8.3} s", featured.as_secs_f64());
    println!("train    {:>8.3} s", trained.as_secs_f64());
    Ok(())
}

fn heading(title: &str) {
    let rule = "=".repeat(60usize.saturating_sub(title.len()));
    println!("\n{}", format!("== {title} {rule}").trim_end());
}
