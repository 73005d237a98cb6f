//! Gradient-boosted trees through the public API: deployed in a churn
//! scorer and a table model, saved and loaded, explained, and compared
//! with logistic regression on the synthetic population.

use chrono::{TimeZone, Utc};
use churnwise::features::{ChurnLabeler, FeatureSpec, FeatureTable, Snapshot, TrainingSet};
use churnwise::model::{Backtest, GradientBoosting, LogisticRegression, TableEncoder, TableModel};
use churnwise::score::ChurnScorer;
use churnwise::synth::PopulationConfig;

fn at(month: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, month, 1, 0, 0, 0).unwrap()
}

#[test]
fn a_scorer_deploys_trees_scores_one_row_as_the_batch_and_explains_it() {
    let pop = PopulationConfig::default()
        .customers(1_500)
        .seed(21)
        .generate()
        .unwrap();
    let (history, _) = pop.history_builder().build().unwrap();
    let snapshot = Snapshot::new(at(6));
    let train = ChurnLabeler::new()
        .training_set(&history, &FeatureSpec::all(), &snapshot, &[at(3), at(6)])
        .unwrap();
    let model = GradientBoosting::new().trees(40).fit(&train).unwrap();
    let scorer = ChurnScorer::new(model, &snapshot).unwrap();
    assert_eq!(scorer.model().kind(), "gradient_boosting");
    let (table, p) = scorer.score_history(&history, at(9)).unwrap();
    for i in (0..table.nrows()).step_by(97) {
        let row = table.values().row(i).to_vec();
        assert_eq!(scorer.score_one(&row).unwrap().to_bits(), p[i].to_bits());
        let why = scorer.explain(&row).unwrap();
        approx::assert_relative_eq!(
            why.log_odds(),
            (p[i] / (1.0 - p[i])).ln(),
            max_relative = 1e-9
        );
    }
    let json = scorer.to_json().unwrap();
    assert!(json.contains("\"type\": \"gradient_boosting\""));
    let loaded = ChurnScorer::from_json(&json).unwrap();
    assert_eq!(loaded, scorer);
    assert_eq!(loaded.score_table(&table).unwrap(), p);
    assert_eq!(loaded.to_json().unwrap(), json);
}

#[test]
fn a_table_model_with_trees_round_trips() {
    let header = ["plan", "recency_days", "tickets"]
        .map(String::from)
        .to_vec();
    let rows: Vec<Vec<String>> = (0..200)
        .map(|i| {
            vec![
                if i % 3 == 0 { "monthly" } else { "yearly" }.to_string(),
                format!("{}", (i * 37) % 200),
                format!("{}", i % 5),
            ]
        })
        .collect();
    let labels: Vec<bool> = (0..200)
        .map(|i| (i * 37) % 200 > 120 || i % 5 == 4)
        .collect();
    let encoder = TableEncoder::new().fit(&header, &rows).unwrap();
    let (x, _) = encoder.transform(&rows).unwrap();
    let table = FeatureTable::new(
        (0..200u64).map(Into::into).collect(),
        encoder.feature_names(),
        x,
    )
    .unwrap();
    let model = GradientBoosting::new()
        .trees(20)
        .min_rows_per_leaf(5)
        .fit(&TrainingSet::new(table, labels.into()).unwrap())
        .unwrap();
    let saved = serde_json::to_string(&TableModel::new(encoder, model).unwrap()).unwrap();
    let loaded: TableModel = serde_json::from_str(&saved).unwrap();
    assert_eq!(loaded.model().kind(), "gradient_boosting");
    let p = loaded.predict_proba(&rows).unwrap();
    assert!(p[199] > p[0], "{} vs {}", p[199], p[0]);
    assert_eq!(serde_json::to_string(&loaded).unwrap(), saved);
}

/// The quality bar: on the synthetic population's backtest, trees
/// reach at least the logistic model's AUC.
#[test]
fn trees_match_logistic_regression_on_the_synthetic_backtest() {
    let pop = PopulationConfig::default()
        .customers(4_000)
        .seed(22)
        .generate()
        .unwrap();
    let (history, _) = pop.history_builder().build().unwrap();
    let backtest = Backtest::new(
        ChurnLabeler::new(),
        FeatureSpec::all(),
        Snapshot::new(at(1)),
    )
    .train_snapshots(2, 60);
    let tests = [at(9), at(10)];
    let logistic = backtest
        .run(&LogisticRegression::new(), &history, &tests)
        .unwrap();
    let trees = backtest
        .run(
            &GradientBoosting::new()
                .trees(150)
                .learning_rate(0.05)
                .max_leaves(8)
                .min_rows_per_leaf(40),
            &history,
            &tests,
        )
        .unwrap();
    assert!(
        trees.mean().roc_auc >= logistic.mean().roc_auc - 0.005,
        "trees {} vs logistic {}",
        trees.mean().roc_auc,
        logistic.mean().roc_auc
    );
}
