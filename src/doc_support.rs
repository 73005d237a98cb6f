//! Shared set-up for the documentation examples.
//!
//! Doc examples are compiled against the public crate, so the set-up that
//! many of them repeat (a synthetic history, a feature table, a trained
//! scorer) lives here once, behind `#[doc(hidden)]`. An example keeps the
//! lines it teaches visible and hides the set-up with `# let .. =
//! churnwise::doc_support::..;`. Not part of the supported API: it may change
//! in any release.

use chrono::{DateTime, TimeZone, Utc};

use crate::Result;
use crate::features::{ChurnLabeler, FeatureSpec, FeatureTable, Snapshot, TrainingSet};
use crate::model::LogisticRegression;
use crate::records::History;
use crate::score::ChurnScorer;
use crate::synth::PopulationConfig;

/// Midnight UTC on the first day of `month` in 2024, the synthetic
/// populations' observation year.
pub fn month(month: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// A validated history of `customers` synthetic customers.
pub fn history(customers: usize, seed: u64) -> Result<History> {
    let population = PopulationConfig::default()
        .customers(customers)
        .seed(seed)
        .generate()?;
    Ok(population.history_builder().build()?.0)
}

/// Every built-in feature of a synthetic history as of `month(as_of_month)`.
pub fn table(customers: usize, seed: u64, as_of_month: u32) -> Result<(History, FeatureTable)> {
    let history = history(customers, seed)?;
    let table = FeatureSpec::all().extract(&history, &Snapshot::new(month(as_of_month)))?;
    Ok((history, table))
}

/// A logistic churn scorer trained on snapshots of March and June 2024 of a
/// synthetic history, with the history and the June snapshot.
pub fn scorer(customers: usize, seed: u64) -> Result<(History, Snapshot, ChurnScorer)> {
    let history = history(customers, seed)?;
    let snapshot = Snapshot::new(month(6));
    let train = ChurnLabeler::new().training_set(
        &history,
        &FeatureSpec::all(),
        &snapshot,
        &[month(3), month(6)],
    )?;
    let scorer = ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?;
    Ok((history, snapshot, scorer))
}

/// Six customers' `recency_days` (1, 5, 20, 90, 150, 200 days) labelled
/// churned for 20, 150 and 200: the small set the model examples fit.
pub fn recency_set() -> Result<TrainingSet> {
    let x = FeatureTable::new(
        (0..6u64).map(Into::into).collect(),
        vec!["recency_days".into()],
        ndarray::array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    )?;
    TrainingSet::new(x, ndarray::array![false, false, true, false, true, true])
}

/// A logistic churn scorer fitted on four customers' `recency_days` and
/// `orders_total` ((1, 9), (20, 2), (90, 4), (200, 1), churned for the
/// second and fourth), with that table.
pub fn small_scorer() -> Result<(FeatureTable, ChurnScorer)> {
    let x = FeatureTable::new(
        (0..4u64).map(Into::into).collect(),
        vec!["recency_days".into(), "orders_total".into()],
        ndarray::array![[1.0, 9.0], [20.0, 2.0], [90.0, 4.0], [200.0, 1.0]],
    )?;
    let train = TrainingSet::new(x.clone(), ndarray::array![false, true, false, true])?;
    let scorer = ChurnScorer::new(
        LogisticRegression::new().fit(&train)?,
        &Snapshot::new(month(6)),
    )?;
    Ok((x, scorer))
}
