//! Deployable models through the public API: the churn scorer over the one
//! model type, the value scorer over a ridge regression, the table model,
//! and the configs' infallible setters with `validate`.
//!
//! Reference values come from tests/fixtures/logistic_reference.json
//! (scikit-learn: StandardScaler then Ridge(alpha=1) on `spend_next_90d`)
//! and from hand calculation.

use approx::assert_abs_diff_eq;
use chrono::{TimeZone, Utc};
use churnwise::ErrorKind;
use churnwise::features::{FeatureTable, Snapshot, TrainingSet};
use churnwise::model::{
    CrossValidation, FittedModel, Intercept, LogisticRegression, RandomForest, RidgeRegression,
    TableEncoder, TableModel,
};
use churnwise::score::{ChurnScorer, ValueScorer};
use ndarray::{Array1, Array2, array};
use serde_json::Value;

/// The fixture's rows with catalog feature names (the scorers need them),
/// churn labels and next-90-day spend.
fn fixture() -> (FeatureTable, Array1<bool>, Array1<f64>) {
    let text = include_str!("../fixtures/logistic_data.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let source = [
        "tenure_days",
        "recency_days",
        "frequency",
        "monetary_avg",
        "complaints_90d",
        "satisfaction",
    ];
    let names = [
        "tenure_days",
        "recency_days",
        "orders_total",
        "avg_order_value",
        "complaints_90d",
        "satisfaction_last",
    ];
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let n = rows.len();
    let values = Array2::from_shape_fn((n, 6), |(i, j)| rows[i][col(source[j])]);
    let table = FeatureTable::new(
        (0..n as u64).map(Into::into).collect(),
        names.map(String::from).to_vec(),
        values,
    )
    .unwrap();
    let labels = rows.iter().map(|r| r[col("churned")] == 1.0).collect();
    let spend = rows.iter().map(|r| r[col("spend_next_90d")]).collect();
    (table, labels, spend)
}

fn snapshot() -> Snapshot {
    Snapshot::new(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap())
}

#[test]
fn value_scorer_matches_scikit_learn_ridge_and_round_trips_exactly() {
    let (table, _, spend) = fixture();
    let ridge = RidgeRegression::new()
        .fit(&table, spend.view(), None)
        .unwrap();
    let scorer = ValueScorer::new(ridge.clone(), &snapshot()).unwrap();
    let values = scorer.score_table(&table).unwrap();
    // The fixture's predictions are all positive, so clamping changes none.
    let reference: Value =
        serde_json::from_str(include_str!("../fixtures/logistic_reference.json")).unwrap();
    let want = reference["ridge_on_spend_next_90d"]["pred_first_20"]
        .as_array()
        .unwrap();
    for (got, want) in values.iter().zip(want) {
        assert_abs_diff_eq!(*got, want.as_f64().unwrap(), epsilon = 1e-8);
    }
    // Equal to the fitted ridge's own predictions, bit for bit, batch and one by one.
    let direct = ridge.predict(table.values()).unwrap();
    for i in 0..table.nrows() {
        let expected = direct[i].max(0.0);
        assert_eq!(values[i].to_bits(), expected.to_bits(), "row {i}");
        let one = scorer
            .score_one(table.values().row(i).as_slice().unwrap())
            .unwrap();
        assert_eq!(one.to_bits(), expected.to_bits(), "row {i}");
    }
    // JSON round trip: equal, same text, same scores.
    let json = scorer.to_json().unwrap();
    let loaded = ValueScorer::from_json(&json).unwrap();
    assert_eq!(loaded, scorer);
    assert_eq!(loaded.to_json().unwrap(), json);
    assert_eq!(loaded.score_table(&table).unwrap(), values);
    // A table without the model's features is an error naming the feature.
    let other = table.select(&["tenure_days", "recency_days"]).unwrap();
    let err = scorer.score_table(&other).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::UnknownName { name, .. } if name == "orders_total"),
        "{err}"
    );
    // The churn scorer's format is not the value scorer's, and vice versa.
    assert!(matches!(
        ChurnScorer::from_json(&json).unwrap_err().kind(),
        ErrorKind::SchemaMismatch { .. }
    ));
}

#[test]
fn value_scorer_clamps_negative_predictions_at_zero() {
    // y = 1 + 2x exactly, so unpenalized ridge predicts 21 at x = 10 and
    // −9 at x = −5, which the scorer reports as a value of 0.
    let x = FeatureTable::new(
        (0..4u64).map(Into::into).collect(),
        vec!["recency_days".into()],
        array![[0.0], [1.0], [2.0], [3.0]],
    )
    .unwrap();
    let ridge = RidgeRegression::new()
        .alpha(0.0)
        .fit(&x, array![1.0, 3.0, 5.0, 7.0].view(), None)
        .unwrap();
    let scorer = ValueScorer::new(ridge, &snapshot()).unwrap();
    assert_abs_diff_eq!(scorer.score_one(&[10.0]).unwrap(), 21.0, epsilon = 1e-9);
    assert_eq!(scorer.score_one(&[-5.0]).unwrap(), 0.0);
    let t = FeatureTable::new(
        vec![1u64.into(), 2u64.into()],
        vec!["recency_days".into()],
        array![[10.0], [-5.0]],
    )
    .unwrap();
    let v = scorer.score_table(&t).unwrap();
    assert_abs_diff_eq!(v[0], 21.0, epsilon = 1e-9);
    assert_eq!(v[1], 0.0);
    // The value model fills the profiles' customer value, and so the
    // expected loss (probability × value).
    let profiles = churnwise::score::Profiles::new(t)
        .unwrap()
        .value_with(&scorer)
        .unwrap()
        .with_churn_probabilities(vec![0.5, 0.9])
        .unwrap();
    assert_eq!(profiles.customer_values().unwrap(), v.as_slice().unwrap());
    assert_abs_diff_eq!(profiles.expected_losses().unwrap()[0], 10.5, epsilon = 1e-9);
    assert_eq!(profiles.expected_losses().unwrap()[1], 0.0);
}

#[test]
fn churn_scorer_deploys_the_model_type_and_explains_in_log_odds() {
    let (table, labels, _) = fixture();
    let logistic = LogisticRegression::new()
        .fit(&TrainingSet::new(table.clone(), labels).unwrap())
        .unwrap();
    let model = FittedModel::from(logistic.clone());
    let scorer = ChurnScorer::new(model.clone(), &snapshot()).unwrap();
    assert_eq!(
        ChurnScorer::new(logistic, &snapshot()).unwrap(),
        scorer,
        "a fitted model and its FittedModel deploy the same"
    );
    assert_eq!(scorer.model(), &model);
    let p = scorer.score_table(&table).unwrap();
    assert_eq!(p, model.predict_proba_table(&table).unwrap());
    for i in [0, 17, 4_999] {
        let row = table.values().row(i).to_vec();
        let why = scorer.explain(&row).unwrap();
        // Base value plus contributions is the log-odds of the score.
        assert_abs_diff_eq!(why.log_odds(), (p[i] / (1.0 - p[i])).ln(), epsilon = 1e-9);
        assert_eq!(why.reasons.len(), 6);
        let c = model.contributions(&row).unwrap();
        assert_eq!(c.base_value, why.base_value);
        for r in &why {
            let j = scorer
                .features()
                .iter()
                .position(|f| *f == r.feature)
                .unwrap();
            assert_eq!(r.contribution, c.values[j]);
            assert_eq!(r.value, row[j]);
        }
    }
    let json = scorer.to_json().unwrap();
    assert!(json.contains("\"type\": \"logistic\""));
    let loaded = ChurnScorer::from_json(&json).unwrap();
    assert_eq!(loaded, scorer);
    assert_eq!(loaded.to_json().unwrap(), json);
}

#[test]
fn table_model_saves_the_model_type_and_scores_identically() {
    let cells = |rows: &[[&str; 2]]| -> Vec<Vec<String>> {
        rows.iter().map(|r| r.map(String::from).to_vec()).collect()
    };
    let header = ["plan", "recency_days"].map(String::from).to_vec();
    let rows = cells(&[
        ["monthly", "5"],
        ["yearly", "200"],
        ["monthly", "150"],
        ["yearly", "3"],
        ["monthly", "40"],
        ["yearly", "90"],
    ]);
    let encoder = TableEncoder::new().fit(&header, &rows).unwrap();
    let (x, _) = encoder.transform(&rows).unwrap();
    let table = FeatureTable::new(
        (0..6u64).map(Into::into).collect(),
        encoder.feature_names(),
        x,
    )
    .unwrap();
    let model = LogisticRegression::new()
        .fit(&TrainingSet::new(table, array![false, true, true, false, false, true]).unwrap())
        .unwrap();
    let bundle = TableModel::new(encoder, model).unwrap();
    let json = serde_json::to_string(&bundle).unwrap();
    let loaded: TableModel = serde_json::from_str(&json).unwrap();
    assert_eq!(loaded, bundle);
    assert_eq!(loaded.model().kind(), "logistic");
    let p = loaded.predict_proba(&rows).unwrap();
    let q = bundle.predict_proba(&rows).unwrap();
    assert_eq!(
        p.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        q.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

#[test]
fn setters_are_infallible_and_fit_validates() {
    let (table, labels, spend) = fixture();
    let train = TrainingSet::new(table.clone(), labels).unwrap();
    // Whole chains build without `?`; the check comes at fit or run.
    let err = LogisticRegression::new()
        .c(-1.0)
        .intercept(Intercept::None)
        .fit(&train)
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::InvalidParameter { name: "alpha", .. }
    ));
    let err = RidgeRegression::new()
        .alpha(f64::NAN)
        .fit(&table, spend.view(), None)
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::InvalidParameter { name: "alpha", .. }
    ));
    let err = RandomForest::new().trees(0).fit(&train).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::InvalidParameter { name: "trees", .. }
    ));
    let err = RandomForest::new()
        .min_samples_leaf(0)
        .fit(&train)
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::InvalidParameter {
            name: "min_samples_leaf",
            ..
        }
    ));
    let err = CrossValidation::new()
        .folds(1)
        .run(&LogisticRegression::new(), &train)
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::InvalidParameter { name: "folds", .. }
    ));
    let header = vec!["plan".to_string()];
    let err = TableEncoder::new()
        .max_categories(0)
        .fit(&header, &[vec!["a".to_string()]])
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::InvalidParameter {
            name: "max_categories",
            ..
        }
    ));
    // Without an intercept the raw log-odds at the standardized origin are 0.
    let no_intercept = LogisticRegression::new()
        .intercept(Intercept::None)
        .fit(&train)
        .unwrap();
    assert_eq!(no_intercept.intercept(), 0.0);
}

#[test]
fn metrics_report_a_single_class_as_single_class() {
    use churnwise::model::metrics::{Metrics, average_precision, lift_at, roc_auc};
    let s = [0.2, 0.4, 0.9];
    for labels in [[true; 3], [false; 3]] {
        let class = labels[0];
        assert_eq!(
            roc_auc(&s, &labels, None).unwrap_err().kind(),
            &ErrorKind::SingleClass { class }
        );
        assert_eq!(
            Metrics::compute(&s, &labels, None).unwrap_err().kind(),
            &ErrorKind::SingleClass { class }
        );
    }
    assert_eq!(
        average_precision(&s, &[false; 3], None).unwrap_err().kind(),
        &ErrorKind::SingleClass { class: false }
    );
    assert_eq!(
        lift_at(&s, &[false; 3], 0.5).unwrap_err().kind(),
        &ErrorKind::SingleClass { class: false }
    );
}

/// A logistic scorer over the whole catalog's deployable features, and its
/// features of 400 synthetic customers at the snapshot.
fn scorer_with_its_features() -> (
    churnwise::records::History,
    Snapshot,
    ChurnScorer,
    FeatureTable,
) {
    let (history, snapshot, scorer) = churnwise::doc_support::scorer(400, 5).unwrap();
    let table = churnwise::features::FeatureSpec::all()
        .extract(&history, &snapshot)
        .unwrap()
        .select(scorer.features())
        .unwrap();
    (history, snapshot, scorer, table)
}

/// Rows that are not contiguous (a column-major matrix) score bit for bit
/// like contiguous rows and like one row at a time.
#[test]
fn strided_rows_score_like_single_rows() {
    use ndarray::ShapeBuilder;
    let (_, _, scorer, table) = scorer_with_its_features();
    let rows = table.values();
    assert!(
        rows.ncols() > 8,
        "enough columns for the 4-lane sum to differ"
    );
    let column_major =
        Array2::from_shape_vec(rows.raw_dim().f(), rows.t().iter().copied().collect()).unwrap();
    assert!(column_major.as_slice().is_none());
    let strided = scorer.model().predict_proba(column_major.view()).unwrap();
    let contiguous = scorer.score_table(&table).unwrap();
    for (i, row) in rows.rows().into_iter().enumerate() {
        let one = scorer.score_one(&row.to_vec()).unwrap();
        assert_eq!(strided[i].to_bits(), one.to_bits(), "row {i}");
        assert_eq!(contiguous[i].to_bits(), one.to_bits(), "row {i}");
    }
}

#[test]
fn columns_score_like_rows_for_every_model_kind() {
    use churnwise::model::{Calibrator, GradientBoosting};
    let (history, snapshot, scorer, table) = scorer_with_its_features();
    let train = churnwise::features::ChurnLabeler::new()
        .training_set(
            &history,
            &churnwise::features::FeatureSpec::new(scorer.features()),
            &snapshot,
            &[snapshot.as_of() - chrono::Duration::days(120)],
        )
        .unwrap();
    let trees = GradientBoosting::new().trees(10).fit(&train).unwrap();
    let logistic = scorer.model().clone();
    let calibrated = logistic
        .clone()
        .calibrate(Calibrator::Platt, &train)
        .unwrap();
    let rows = table.values();
    let columns: Vec<Vec<f64>> = rows.columns().into_iter().map(|c| c.to_vec()).collect();
    let columns: Vec<&[f64]> = columns.iter().map(Vec::as_slice).collect();
    for model in [logistic, FittedModel::from(trees), calibrated] {
        let by_columns = model.predict_proba_columns(&columns, rows.nrows()).unwrap();
        let by_rows = model.predict_proba(rows).unwrap();
        for (i, (c, r)) in by_columns.iter().zip(&by_rows).enumerate() {
            assert_eq!(c.to_bits(), r.to_bits(), "{} row {i}", model.kind());
        }
        // A NaN is an error naming its feature and row, for every kind
        // (trees included, though their row path reads NaN as missing).
        let mut bad = columns.clone();
        let poisoned: Vec<f64> = (0..rows.nrows())
            .map(|i| if i == 300 { f64::NAN } else { bad[1][i] })
            .collect();
        bad[1] = &poisoned;
        match model
            .predict_proba_columns(&bad, rows.nrows())
            .unwrap_err()
            .kind()
        {
            ErrorKind::NonFinite { row, column, .. } => {
                assert_eq!(
                    (*row, column.as_str()),
                    (300, scorer.features()[1].as_str())
                );
            }
            other => panic!("{}: unexpected error {other:?}", model.kind()),
        }
    }
    let p = scorer.score_columns(&columns, rows.nrows()).unwrap();
    for (i, row) in rows.rows().into_iter().enumerate() {
        assert_eq!(
            p[i].to_bits(),
            scorer.score_one(&row.to_vec()).unwrap().to_bits()
        );
    }
}

#[test]
fn column_scoring_names_the_feature_and_row_of_bad_input() {
    let (x, scorer) = churnwise::doc_support::small_scorer().unwrap();
    let columns: Vec<Vec<f64>> = x
        .values()
        .columns()
        .into_iter()
        .map(|c| c.to_vec())
        .collect();
    let n = x.nrows();
    let err = scorer.score_columns(&[&columns[0]], n).unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::LengthMismatch {
            expected: 2,
            got: 1,
            ..
        }
    ));
    let err = scorer
        .score_columns(&[&columns[0], &columns[1][1..]], n)
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::LengthMismatch { got, .. } if *got == n - 1));
    let mut orders = columns[1].clone();
    orders[2] = f64::INFINITY;
    let err = scorer
        .score_columns(&[&columns[0], &orders], n)
        .unwrap_err();
    match err.kind() {
        ErrorKind::NonFinite { row, column, .. } => {
            assert_eq!((*row, column.as_str()), (2, scorer.features()[1].as_str()));
        }
        other => panic!("unexpected error {other:?}"),
    }
}
