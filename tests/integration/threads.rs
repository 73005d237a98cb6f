//! The whole pipeline gives bit-identical results on one and two rayon
//! threads. The single stages have their own checks (synth, CSV, alerts,
//! features); this one runs them end to end, from generation through
//! features, model fit, scoring, segmentation, alerts, planning and a
//! hold-out split, and compares every output.

use chrono::{TimeDelta, TimeZone, Utc};
use churnwise::alert::{AlertEngine, AlertPolicy};
use churnwise::features::{ChurnLabeler, FeatureSpec, LapsedCustomers, Snapshot};
use churnwise::model::LogisticRegression;
use churnwise::retention::{HoldOut, Planner, Playbook};
use churnwise::rules::Route;
use churnwise::score::{ChurnScorer, Profiles};
use churnwise::segment::{KMeansSegmenter, LifecyclePolicy, Rfm, Tiers};
use churnwise::synth::PopulationConfig;

/// Everything the pipeline produces, as text that shows every bit: JSON
/// (serde_json writes the shortest round-tripping form of each f64) and
/// score bit patterns.
#[derive(Debug, PartialEq)]
struct Outputs {
    features: String,
    scorer: String,
    score_bits: Vec<u64>,
    rfm: String,
    lifecycle: String,
    tiers: String,
    clusters: String,
    alerts: String,
    plan: String,
    hold_out: Vec<bool>,
}

fn pipeline() -> churnwise::Result<Outputs> {
    let population = PopulationConfig::default()
        .customers(1_500)
        .seed(21)
        .generate()?;
    let (history, _) = population.history_builder().build()?;
    let month = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    let as_of = month(10);
    let snapshot = Snapshot::new(as_of);
    let spec = FeatureSpec::all();
    let table = spec.extract(&history, &snapshot)?;
    let train = ChurnLabeler::new()
        .lapsed_customers(LapsedCustomers::Exclude)
        .training_set(&history, &spec, &snapshot, &[month(4), month(6)])?;
    let scorer = ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?;
    let scores = scorer.score_table(&table)?;
    let rfm = Rfm::new().fit(&table)?;
    let rfm_scores = rfm.apply(&table)?;
    let lifecycle = LifecyclePolicy::default().apply(&table, scores.as_slice())?;
    let value_tiers = Tiers::value().fit(&table)?;
    let tiers = value_tiers.apply(&table)?;
    let clusters = KMeansSegmenter::new().k(4).seed(3).fit(&table)?;
    let profiles_at = |t| -> churnwise::Result<Profiles> {
        let table = spec.extract(&history, &snapshot.at(t))?;
        Profiles::new(table)?
            .score_with(&scorer)?
            .segment_rfm(&rfm)?
            .stage_lifecycle(&LifecyclePolicy::default())?
            .tier_value(&value_tiers)?
            .values_from_column("spend_180d")
    };
    let (before, now) = (
        profiles_at(as_of - TimeDelta::days(30))?,
        profiles_at(as_of)?,
    );
    let engine = AlertEngine::new(AlertPolicy::default_policy());
    let alerts = engine.evaluate(&now, Some(&before))?;
    let plan = Planner::new(5_000.0)
        .team_capacity(Route::CustomerService, 40)
        .plan(&now, &Playbook::default_playbook())?;
    let hold_out = HoldOut::new(0.2, 5).split(&plan)?;
    Ok(Outputs {
        features: format!("{:?}", table.values()),
        scorer: scorer.to_json()?,
        score_bits: scores.iter().map(|p| p.to_bits()).collect(),
        rfm: json(&rfm_scores),
        lifecycle: json(&lifecycle),
        tiers: json(&tiers),
        clusters: json(&(
            clusters.sizes(),
            clusters.centroids(),
            clusters.predict(&table)?,
        )),
        alerts: json(&alerts),
        plan: json(&plan),
        hold_out,
    })
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("pipeline outputs serialize")
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn whole_pipeline_is_bit_identical_on_one_and_two_threads() {
    let one = in_pool(1, pipeline).unwrap();
    let two = in_pool(2, pipeline).unwrap();
    // Field by field, so a failure names the stage that drifted.
    assert!(one.features == two.features, "features differ");
    assert!(one.scorer == two.scorer, "fitted scorers differ");
    assert!(one.score_bits == two.score_bits, "scores differ");
    assert!(one.rfm == two.rfm, "RFM scores differ");
    assert!(one.lifecycle == two.lifecycle, "lifecycle stages differ");
    assert!(one.tiers == two.tiers, "value tiers differ");
    assert!(one.clusters == two.clusters, "k-means differs");
    assert!(one.alerts == two.alerts, "alerts differ");
    assert!(one.plan == two.plan, "plans differ");
    assert!(one.hold_out == two.hold_out, "hold-outs differ");
    // The run did real work at every stage.
    assert!(one.score_bits.len() > 1_000);
    assert!(one.alerts.len() > 100 && one.plan.len() > 100);
    assert!(one.hold_out.iter().any(|&c| c));
}
