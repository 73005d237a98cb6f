//! Segmentation: RFM segments, lifecycle stages and value tiers, each with a
//! report of size, recency, frequency, spend, revenue share and churn rate.
//!
//! ```text
//! cargo run --release --example segment_customers
//! ```

use chrono::{TimeZone, Utc};
use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
use churnwise::segment::{LifecyclePolicy, Rfm, SegmentReport, Tiers};
use churnwise::synth::PopulationConfig;

/// Prints an error with its message (not its debug form) and exits with 1.
fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Customers and their features as of 1 October 2024.
    let population = PopulationConfig::default()
        .customers(20_000)
        .seed(5)
        .generate()?;
    let (history, _) = population.history_builder().build()?;
    let as_of = Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap();
    let table = FeatureSpec::all().extract(&history, &Snapshot::new(as_of))?;

    // 2. Who churned afterwards: the reports show each segment's churn rate.
    let labels = ChurnLabeler::new().labels(&history, as_of)?;
    let churned = Some(labels.churned());

    // 3. RFM: quintile edges learned on this population (a fitted value that
    //    can be saved and applied to new customers later).
    let rfm = Rfm::new().fit(&table)?;
    println!("RFM quintile edges (score 1 | 2 | 3 | 4 | 5)");
    for (name, edges) in [
        ("recency (days)", rfm.recency_edges()),
        ("frequency (orders)", rfm.frequency_edges()),
        ("monetary (spend)", rfm.monetary_edges()),
    ] {
        let edges: Vec<String> = edges.iter().map(|e| format!("{e:>8.1}")).collect();
        println!("  {name:<20} {}", edges.join(" |"));
    }
    let segments: Vec<_> = rfm.apply(&table)?.iter().map(|s| s.segment()).collect();
    heading("RFM segments (churn = no order in the next 90 days)");
    print!("{}", SegmentReport::new(&segments, &table, churned)?);

    // 4. Lifecycle stages from thresholds (serde data an ops team can edit).
    let stages = LifecyclePolicy::default().apply(&table, None)?;
    heading("Lifecycle stages");
    print!("{}", SegmentReport::new(&stages, &table, churned)?);

    // 5. Value tiers: the top 20% by spend are high, the next 30% mid.
    let tiers = Tiers::value().fit(&table)?.apply(&table)?;
    heading("Value tiers");
    print!("{}", SegmentReport::new(&tiers, &table, churned)?);
    Ok(())
}

fn heading(title: &str) {
    println!("\n== {title}");
}
