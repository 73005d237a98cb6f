//! The synthetic population and its ground truth: who churns, why and when,
//! and each customer's true churn probability after a date.
//!
//! ```text
//! cargo run --release --example synth_population
//! ```

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use churnwise::synth::{ChurnCause, LatentType, PopulationConfig};

/// Prints an error with its message (not its debug form) and exits with 1.
fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Generate: the same config and seed give the same population.
    let config = PopulationConfig::default()
        .customers(20_000)
        .seed(42)
        .dirty_fraction(0.001);
    let population = config.generate()?;
    println!(
        "{} customers, {} orders, {} interactions, {} survey answers ({} to {})",
        population.customers().len(),
        population.orders().len(),
        population.interactions().len(),
        population.feedback().len(),
        config.start_time().format("%Y-%m-%d"),
        config.end_time().format("%Y-%m-%d"),
    );
    println!(
        "{} invalid records injected for the quality report to catch",
        population.injected().total()
    );

    // 2. The truth a model never sees: latent type, churn time and cause.
    println!(
        "\n{:<18} {:>9} {:>9} {:>13} {:>13}",
        "latent type", "customers", "churned", "dropout", "purchases"
    );
    println!(
        "{:<18} {:>9} {:>9} {:>13} {:>13}",
        "", "", "(%)", "p (mean)", "(per 30 d)"
    );
    let truth = population.truth();
    for latent in [
        LatentType::PriceSensitive,
        LatentType::ServiceSensitive,
        LatentType::Indifferent,
    ] {
        let group: Vec<_> = truth.iter().filter(|t| t.latent_type() == latent).collect();
        let n = group.len().max(1) as f64;
        let churned = group.iter().filter(|t| t.is_churned()).count() as f64;
        let dropout: f64 = group.iter().map(|t| t.dropout_probability()).sum();
        let rate: f64 = group.iter().map(|t| t.purchase_rate_per_day()).sum();
        println!(
            "{:<18} {:>9} {:>9.1} {:>13.3} {:>13.2}",
            format!("{latent:?}"),
            group.len(),
            100.0 * churned / n,
            dropout / n,
            30.0 * rate / n
        );
    }
    let mut causes: BTreeMap<String, usize> = BTreeMap::new();
    for cause in truth.iter().filter_map(|t| t.churn_cause()) {
        let name = match cause {
            ChurnCause::Dropout => "dropout after a purchase",
            ChurnCause::Hazard => "hazard (service, price, silence)",
            _ => "other",
        };
        *causes.entry(name.to_string()).or_default() += 1;
    }
    println!("\nchurn causes");
    for (cause, n) in &causes {
        println!("  {cause:<34} {n:>7}");
    }

    // 3. The true probability of churning in the 90 days after 1 October
    //    2024, by Monte Carlo over the generator's own mechanics: the best
    //    any model could do.
    let as_of = Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap();
    let mut risks: Vec<f64> = config
        .churn_probabilities(as_of, 90.0, 20)?
        .iter()
        .map(|r| r.probability())
        .collect();
    risks.sort_by(f64::total_cmp);
    if risks.is_empty() {
        return Ok(());
    }
    let at = |q: f64| risks[((risks.len() - 1) as f64 * q) as usize];
    println!(
        "\ntrue 90-day churn probability of the {} customers alive on {}",
        risks.len(),
        as_of.format("%Y-%m-%d")
    );
    for q in [0.1, 0.25, 0.5, 0.75, 0.9] {
        println!("  {:>3.0}th percentile {:>6.1}%", 100.0 * q, 100.0 * at(q));
    }
    Ok(())
}
