//! Fixed inputs shared by the fuzz targets: a small synthetic population's
//! profiles, scored, segmented and staged, built once per process.

use std::sync::OnceLock;

use chrono::{TimeDelta, TimeZone, Utc};
use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
use churnwise::model::LogisticRegression;
use churnwise::retention::{Planner, Playbook};
use churnwise::score::{ChurnScorer, Profiles};
use churnwise::segment::{LifecyclePolicy, Rfm, Tiers};
use churnwise::synth::PopulationConfig;

/// Profiles now and thirty days earlier, plus the scorer that scored them.
pub struct Fixture {
    pub now: Profiles,
    pub before: Profiles,
    pub scorer: ChurnScorer,
    /// A fixed raw feature row in the scorer's feature order.
    pub row: Vec<f64>,
}

/// The fixture, built on first use. Panics only if the library fails on its
/// own synthetic data, which is itself a bug worth a crash report.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| build().expect("fixture builds"))
}

fn build() -> churnwise::Result<Fixture> {
    let population = PopulationConfig::default()
        .customers(150)
        .seed(9)
        .generate()?;
    let (history, _) = population.history_builder().build()?;
    let as_of = Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap();
    let month = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    let snapshot = Snapshot::new(as_of);
    let train = ChurnLabeler::new().training_set(
        &history,
        &FeatureSpec::all(),
        &snapshot,
        &[month(4), month(6)],
    )?;
    let scorer = ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?;
    let table = FeatureSpec::all().extract(&history, &snapshot)?;
    let rfm = Rfm::new().fit(&table)?;
    let tiers = Tiers::value().fit(&table)?;
    let profiles_at = |t| -> churnwise::Result<Profiles> {
        let table = FeatureSpec::all().extract(&history, &snapshot.at(t))?;
        let engagement = Tiers::engagement().fit(&table)?;
        Profiles::new(table)?
            .score_with(&scorer)?
            .segment_rfm(&rfm)?
            .stage_lifecycle(&LifecyclePolicy::default())?
            .tier_value(&tiers)?
            .tier_engagement(&engagement)?
            .values_from_column("spend_180d")
    };
    let now = profiles_at(as_of)?;
    let before = profiles_at(as_of - TimeDelta::days(30))?;
    let row = (0..scorer.features().len())
        .map(|j| [0.0, 1.0, 3.5, 120.0, 1e6][j % 5])
        .collect();
    Ok(Fixture {
        now,
        before,
        scorer,
        row,
    })
}

/// A plan of the default playbook on the fixture, for hold-out splits.
pub fn default_plan() -> &'static churnwise::retention::Plan {
    static PLAN: OnceLock<churnwise::retention::Plan> = OnceLock::new();
    PLAN.get_or_init(|| {
        Planner::new(2_000.0)
            .plan(&fixture().now, &Playbook::default_playbook())
            .expect("default plan")
    })
}
