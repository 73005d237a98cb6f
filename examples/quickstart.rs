//! The churnwise pipeline on the built-in synthetic population.
//!
//! ```text
//! cargo run --release --example quickstart
//! ```
//!
//! Generates a customer base with known ground truth, validates it into a
//! `History`, reads the data-quality report, computes point-in-time features
//! and churn labels, segments customers (RFM, lifecycle, value tiers,
//! k-means), measures churn, and trains, tests, explains and saves a churn
//! scorer. Later releases extend it through alerts and retention.

use std::time::Instant;

use chrono::{TimeZone, Utc};
use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
use churnwise::model::LogisticRegression;
use churnwise::model::metrics::Metrics;
use churnwise::records::RecordKind;
use churnwise::score::ChurnScorer;
use churnwise::segment::{
    ChurnDefinition, ChurnRatesTable, CohortRetention, CohortRule, KMeansSegmenter,
    LifecyclePolicy, Periods, RevenueRetentionTable, Rfm, SegmentReport, Tiers, churn_rates,
    revenue_retention,
};
use churnwise::synth::{LatentType, PopulationConfig};

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
    let kmeans = KMeansSegmenter::new().k(5)?.fit(&table)?;
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
    let labeler = ChurnLabeler::new().exclude_lapsed(true);
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
    let scorer = ChurnScorer::from_logistic(model, &snapshot)?;
    let scores = scorer.score_table(test.features())?;
    let metrics = Metrics::compute(
        scores.as_slice().unwrap_or(&[]),
        &test.labels().to_vec(),
        None,
    )?;
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

    // 12. Save the scorer; another service loads it with ChurnScorer::from_json.
    let path = std::env::temp_dir().join("churnwise-quickstart-scorer.json");
    std::fs::write(&path, scorer.to_json()?)?;
    println!("\nscorer saved to {}", path.display());

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
