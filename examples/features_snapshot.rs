//! Point-in-time features and churn labels: what a model trains on.
//!
//! ```text
//! cargo run --release --example features_snapshot
//! ```
//!
//! Builds a synthetic customer base, lists the documented feature catalog,
//! extracts every feature as of 1 October 2024 (reading nothing after that
//! moment), labels who places no order in the next 90 days, and stacks three
//! earlier snapshots into a training set.

use chrono::{TimeZone, Utc};
use churnwise::features::{ChurnLabeler, FeatureSpec, LapsedCustomers, Snapshot};
use churnwise::synth::PopulationConfig;

/// Prints an error with its message (not its debug form) and exits with 1.
fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A reproducible population of 10 000 customers, validated into a History.
    let population = PopulationConfig::default()
        .customers(10_000)
        .seed(11)
        .generate()?;
    let (history, _report) = population.history_builder().build()?;

    // 2. A snapshot fixes the as-of time and the look-back windows (days).
    let as_of = Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap();
    let snapshot = Snapshot::new(as_of);
    println!(
        "as of {} with windows {:?} days",
        as_of.format("%Y-%m-%d"),
        snapshot.windows_days()
    );

    // 3. Extract the whole catalog: one row per customer who signed up by as_of.
    let table = FeatureSpec::all().extract(&history, &snapshot)?;
    println!("{} customers × {} features\n", table.nrows(), table.ncols());

    // 4. The catalog documents each feature's unit; summarize a few columns.
    println!(
        "{:<20} {:>9} {:>9} {:>9}  unit",
        "feature", "mean", "median", "max"
    );
    let catalog = snapshot.catalog();
    for name in [
        "recency_days",
        "tenure_days",
        "orders_total",
        "spend_180d",
        "order_trend_90d",
        "complaints_30d",
        "satisfaction_last",
    ] {
        let Some(info) = catalog.iter().find(|f| f.name() == name) else {
            continue;
        };
        let mut values: Vec<f64> = table.column(name)?.to_vec();
        values.sort_by(f64::total_cmp);
        let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
        let median = values.get(values.len() / 2).copied().unwrap_or(f64::NAN);
        let max = values.last().copied().unwrap_or(f64::NAN);
        println!(
            "{:<20} {mean:>9.2} {median:>9.2} {max:>9.2}  {}",
            info.name(),
            info.unit()
        );
    }

    // 5. Labels: churned = no order in the 90 days after as_of.
    let labels = ChurnLabeler::new().labels(&history, as_of)?;
    let churned = labels.churned().iter().filter(|&&c| c).count();
    println!(
        "\nlabels as of {}: {} of {} customers ({:.1}%) place no order in the next 90 days",
        as_of.format("%Y-%m-%d"),
        churned,
        labels.churned().len(),
        100.0 * churned as f64 / labels.churned().len().max(1) as f64
    );

    // 6. A training set from earlier snapshots whose label windows end
    //    before today, leaving out customers who had already lapsed.
    let month = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    let train = ChurnLabeler::new()
        .lapsed_customers(LapsedCustomers::Exclude)
        .training_set(
            &history,
            &FeatureSpec::all(),
            &snapshot,
            &[month(3), month(5), month(7)],
        )?;
    println!(
        "training set (Mar, May, Jul 2024): {} rows × {} features, {:.1}% positive",
        train.features().nrows(),
        train.features().ncols(),
        100.0 * train.positive_rate()
    );
    Ok(())
}
