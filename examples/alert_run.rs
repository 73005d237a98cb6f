//! Early warning: load an operations team's alert policy, evaluate it on
//! today's customer profiles (compared with a month ago), print one work list
//! per team, and show cooldowns suppressing repeats on the next run.
//!
//! ```text
//! cargo run --release --example alert_run [-- POLICY.toml]
//! ```
//!
//! Without an argument it uses `examples/alert_policy.toml` (compiled in).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use churnwise::alert::{AlertEngine, AlertLog, AlertPolicy};
use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
use churnwise::model::LogisticRegression;
use churnwise::score::{ChurnScorer, Profiles};
use churnwise::segment::{LifecyclePolicy, Rfm, Tiers};
use churnwise::synth::PopulationConfig;

/// Prints an error with its message (not its debug form) and exits with 1.
fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The policy: TOML data an operations team edits without a rebuild.
    let toml = match std::env::args().nth(1) {
        Some(path) => std::fs::read_to_string(path)?,
        None => include_str!("alert_policy.toml").to_string(),
    };
    let engine = AlertEngine::new(AlertPolicy::from_toml(&toml)?);
    println!("{} rules loaded", engine.policy().rules().len());

    // 2. A customer base and a churn scorer trained on earlier snapshots.
    let population = PopulationConfig::default()
        .customers(20_000)
        .seed(9)
        .generate()?;
    let (history, _) = population.history_builder().build()?;
    let as_of = Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap();
    let snapshot = Snapshot::new(as_of);
    let month = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    let train = ChurnLabeler::new().training_set(
        &history,
        &FeatureSpec::all(),
        &snapshot,
        &[month(4), month(6)],
    )?;
    let scorer = ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?;

    // 3. Profiles: features, churn probability, RFM segment, lifecycle stage,
    //    value tier, customer value, the customers' plan / channel / region /
    //    tags from the records, and a column of the application's own (a
    //    credit limit, as a finance system would supply it; derived from
    //    spend here), today and 30 days ago (for `change`).
    let table = FeatureSpec::all().extract(&history, &snapshot)?;
    let rfm = Rfm::new().fit(&table)?;
    let value_tiers = Tiers::value().fit(&table)?;
    let profiles_at = |t: DateTime<Utc>| -> churnwise::Result<Profiles> {
        let profiles = Profiles::new(FeatureSpec::all().extract(&history, &snapshot.at(t))?)?
            .score_with(&scorer)?
            .segment_rfm(&rfm)?
            .stage_lifecycle(&LifecyclePolicy::default())?
            .tier_value(&value_tiers)?
            .values_from_column("spend_180d")?
            .attributes_from(&history)?;
        let credit_limit = credit_limits(&profiles);
        profiles.with_numeric("credit_limit", credit_limit)
    };
    let today = profiles_at(as_of)?;
    let month_ago = profiles_at(as_of - TimeDelta::days(30))?;

    // 4. Evaluate, remembering who was alerted when (the log is state kept
    //    between runs; the policy stays plain data).
    let mut log = AlertLog::new(1_000_000)?;
    let report = engine.evaluate_with_log(&today, Some(&month_ago), &mut log, as_of)?;
    println!(
        "{} profiles evaluated, {} alerts raised\n",
        report.profiles_evaluated(),
        report.alerts().len()
    );
    println!("{:<18} {:<9} {:>7}", "team", "severity", "alerts");
    for (route, severity, n) in report.counts() {
        println!(
            "{:<18} {:<9} {:>7}",
            route.to_string(),
            severity.to_string(),
            n
        );
    }

    // 5. One work list per team, highest priority first.
    for list in report.work_lists() {
        println!("\n== {} ({} alerts)", list.route(), list.alerts().len());
        for alert in list.alerts().iter().take(3) {
            let reasons: Vec<String> = alert.reasons().iter().map(ToString::to_string).collect();
            println!(
                "  {:>6}  {:<8} {:<24} p = {:.2}  loss {:>6.0}  {}",
                alert.customer().to_string(),
                alert.severity().to_string(),
                alert.rule(),
                alert.churn_probability().unwrap_or(f64::NAN),
                alert.expected_loss().unwrap_or(0.0),
                reasons.join("; ")
            );
        }
    }

    // 6. A week later with nothing changed: cooldowns hold back repeats.
    let next_week = as_of + TimeDelta::days(7);
    let again = engine.evaluate_with_log(&today, Some(&month_ago), &mut log, next_week)?;
    println!(
        "\none week later: {} alerts raised, {} suppressed by cooldowns",
        again.alerts().len(),
        again.suppressed()
    );
    Ok(())
}

/// A credit limit per customer: ten times their 180-day spend, in steps of
/// 500 (a stand-in for a column from the finance system).
fn credit_limits(profiles: &Profiles) -> Vec<f64> {
    profiles
        .iter()
        .map(|p| {
            let spend = p.feature("spend_180d").unwrap_or(0.0).max(0.0);
            (spend * 10.0 / 500.0).round() * 500.0
        })
        .collect()
}
