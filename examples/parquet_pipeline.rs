//! The scoring pipeline from Parquet to Parquet: orders and customers read
//! from Parquet files (as a data lake holds them), features, segments and
//! a churn score, and profiles, alerts and a retention plan written back.
//!
//! `cargo run --release --example parquet_pipeline --features parquet`
//!
//! The input files are made here from a synthetic population, in a
//! temporary folder that is removed at the end.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray, UInt64Array,
};
use churnwise::alert::{AlertEngine, AlertPolicy};
use churnwise::arrow::{
    CustomerColumns, OrderColumns, read_feature_table_parquet_path, write_parquet_path,
};
use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
use churnwise::model::LogisticRegression;
use churnwise::records::HistoryBuilder;
use churnwise::retention::{Planner, Playbook};
use churnwise::score::{ChurnScorer, Profiles};
use churnwise::segment::{LifecyclePolicy, Rfm, Tiers};
use churnwise::synth::PopulationConfig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir =
        std::env::temp_dir().join(format!("churnwise-parquet-pipeline-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(&dir);
    std::fs::remove_dir_all(&dir)?;
    result
}

fn run(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    // The lake: customers and orders of a synthetic population as Parquet
    // (ids as integers, times as UTC microsecond timestamps).
    let parts = PopulationConfig::default()
        .customers(20_000)
        .seed(42)
        .generate()?
        .into_parts();
    let micros = |t: chrono::DateTime<chrono::Utc>| t.timestamp_micros();
    let customers = RecordBatch::try_from_iter([
        (
            "customer_id",
            Arc::new(UInt64Array::from_iter_values(
                parts.customers.iter().filter_map(|c| c.id.as_u64()),
            )) as ArrayRef,
        ),
        (
            "signup",
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(
                    parts.customers.iter().map(|c| micros(c.signup)),
                )
                .with_timezone("UTC"),
            ),
        ),
        (
            "plan",
            Arc::new(StringArray::from_iter(
                parts.customers.iter().map(|c| c.plan.as_deref()),
            )),
        ),
    ])?;
    let orders = RecordBatch::try_from_iter([
        (
            "customer_id",
            Arc::new(UInt64Array::from_iter_values(
                parts.orders.iter().filter_map(|o| o.customer.as_u64()),
            )) as ArrayRef,
        ),
        (
            "ordered_at",
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(
                    parts.orders.iter().map(|o| micros(o.time)),
                )
                .with_timezone("UTC"),
            ),
        ),
        (
            "amount",
            Arc::new(Float64Array::from_iter_values(
                parts.orders.iter().map(|o| o.amount),
            )),
        ),
    ])?;
    write_parquet_path(&customers, dir.join("customers.parquet"))?;
    write_parquet_path(&orders, dir.join("orders.parquet"))?;

    // Read them back into a History, row group by row group; the report
    // would explain every record dropped.
    let mut builder = HistoryBuilder::new();
    builder.read_parquet_path(dir.join("customers.parquet"), &CustomerColumns::new())?;
    let rows = builder.read_parquet_path(
        dir.join("orders.parquet"),
        &OrderColumns::new().time("ordered_at"),
    )?;
    let (history, report) = builder.build()?;
    println!(
        "orders read: {rows}, kept: {}, dropped: {}",
        history.order_count(),
        report.issues().len()
    );

    // Features as of 1 October 2024, kept as Parquet for a later job.
    let as_of = chrono::DateTime::parse_from_rfc3339("2024-10-01T00:00:00Z")?.to_utc();
    let snapshot = Snapshot::new(as_of);
    let features_path = dir.join("features.parquet");
    write_parquet_path(
        &FeatureSpec::all().extract(&history, &snapshot)?,
        &features_path,
    )?;

    // A later job: the features from Parquet, a scorer trained on earlier snapshots.
    let table = read_feature_table_parquet_path(&features_path)?;
    let month = |m| {
        chrono::DateTime::parse_from_rfc3339(&format!("2024-{m:02}-01T00:00:00Z"))
            .map(|t| t.to_utc())
    };
    let train = ChurnLabeler::new().training_set(
        &history,
        &FeatureSpec::all(),
        &snapshot,
        &[month(4)?, month(6)?],
    )?;
    let scorer = ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?;
    let rfm = Rfm::new().fit(&table)?;
    let value_tiers = Tiers::value().fit(&table)?;
    let profiles = Profiles::new(table)?
        .score_with(&scorer)?
        .segment_rfm(&rfm)?
        .stage_lifecycle(&LifecyclePolicy::default())?
        .tier_value(&value_tiers)?
        .values_from_column("spend_180d")?
        .attributes_from(&history)?;

    // Results back to the lake: profiles, alerts and a retention plan.
    let engine = AlertEngine::new(AlertPolicy::default_policy());
    let alerts = engine.evaluate(&profiles, None)?;
    let plan = Planner::new(10_000.0).plan(&profiles, &Playbook::default_playbook())?;
    write_parquet_path(&profiles, dir.join("profiles.parquet"))?;
    write_parquet_path(&alerts, dir.join("alerts.parquet"))?;
    write_parquet_path(&plan, dir.join("plan.parquet"))?;

    println!("{:<10} {:>8} {:>10}", "table", "rows", "bytes");
    for (name, rows) in [
        ("profiles", profiles.len()),
        ("alerts", alerts.alerts().len()),
        ("plan", plan.assignments().len()),
    ] {
        let bytes = std::fs::metadata(dir.join(format!("{name}.parquet")))?.len();
        println!("{name:<10} {rows:>8} {bytes:>10}");
    }
    Ok(())
}
