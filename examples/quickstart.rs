//! The churnwise pipeline on the built-in synthetic population.
//!
//! ```text
//! cargo run --release --example quickstart
//! ```
//!
//! This release covers the first stage: generate a customer base with known
//! ground truth, validate it into a `History`, and read the data-quality
//! report. Later releases extend it through features, scoring, alerts and
//! retention.

use std::time::Instant;

use churnwise::records::RecordKind;
use churnwise::synth::{LatentType, PopulationConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A reproducible population: 50 000 customers over two years, with a
    //    few invalid records injected so the quality report has work to do.
    let config = PopulationConfig::default()
        .customers(50_000)
        .seed(42)
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

    heading("Timing");
    println!("generate {:>8.3} s", generated.as_secs_f64());
    println!("build    {:>8.3} s", built.as_secs_f64());
    Ok(())
}

fn heading(title: &str) {
    println!(
        "\n== {title} {}",
        "=".repeat(60usize.saturating_sub(title.len()))
    );
}
