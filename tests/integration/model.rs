//! Estimators against scikit-learn's exact optima (tests/fixtures/logistic_reference.json:
//! StandardScaler then LogisticRegression / Ridge, polished to gradient norm < 1e-9).

use approx::assert_abs_diff_eq;
use churnwise::ErrorKind;
use churnwise::features::{FeatureTable, TrainingSet};
use churnwise::model::{
    ClassWeight, LogisticRegression, Penalty, RegressionMetrics, RidgeRegression,
};
use ndarray::{Array1, Array2};
use serde_json::Value;

struct Data {
    table: FeatureTable,
    labels: Array1<bool>,
    weights: Array1<f64>,
    spend: Array1<f64>,
}

fn data() -> Data {
    let text = include_str!("../fixtures/logistic_data.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let features = [
        "tenure_days",
        "recency_days",
        "frequency",
        "monetary_avg",
        "complaints_90d",
        "satisfaction",
    ];
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    let n = rows.len();
    let values = Array2::from_shape_fn((n, 6), |(i, j)| rows[i][col(features[j])]);
    let table = FeatureTable::new(
        (0..n as u64).map(Into::into).collect(),
        features.map(String::from).to_vec(),
        values,
    )
    .unwrap();
    Data {
        table,
        labels: rows.iter().map(|r| r[col("churned")] == 1.0).collect(),
        weights: rows.iter().map(|r| r[col("sample_weight")]).collect(),
        spend: rows.iter().map(|r| r[col("spend_next_90d")]).collect(),
    }
}

fn reference() -> Value {
    serde_json::from_str(include_str!("../fixtures/logistic_reference.json")).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn check_logistic(case: &str, config: LogisticRegression, weighted: bool) {
    let d = data();
    let r = &reference()["logistic"][case];
    let mut train = TrainingSet::new(d.table.clone(), d.labels.clone()).unwrap();
    if weighted {
        train = train.with_weights(d.weights.clone()).unwrap();
    }
    let model = config.fit(&train).unwrap();
    for (got, want) in model
        .coefficients()
        .iter()
        .zip(floats(&r["coef_standardized"]))
    {
        assert_abs_diff_eq!(*got, want, epsilon = 1e-6);
    }
    assert_abs_diff_eq!(
        model.intercept(),
        r["intercept_standardized"].as_f64().unwrap(),
        epsilon = 1e-6
    );
    for (got, want) in model.raw_coefficients().iter().zip(floats(&r["coef_raw"])) {
        assert_abs_diff_eq!(*got, want, epsilon = 1e-6);
    }
    assert_abs_diff_eq!(
        model.raw_intercept(),
        r["intercept_raw"].as_f64().unwrap(),
        epsilon = 1e-6
    );
    let p = model.predict_proba(d.table.values()).unwrap();
    for (got, want) in p.iter().zip(floats(&r["proba_first_20"])) {
        assert_abs_diff_eq!(*got, want, epsilon = 1e-7);
    }
}

#[test]
fn l2_c1_matches_scikit_learn() {
    check_logistic("l2_C1", LogisticRegression::new().c(1.0), false);
}

#[test]
fn l2_c001_matches_scikit_learn() {
    check_logistic("l2_C0.01", LogisticRegression::new().c(0.01), false);
}

#[test]
fn unpenalized_matches_scikit_learn() {
    check_logistic(
        "unpenalized",
        LogisticRegression::new().penalty(Penalty::None),
        false,
    );
}

#[test]
fn balanced_matches_scikit_learn() {
    check_logistic(
        "balanced_C1",
        LogisticRegression::new().class_weight(ClassWeight::Balanced),
        false,
    );
}

#[test]
fn sample_weighted_matches_scikit_learn() {
    check_logistic("sample_weighted_C1", LogisticRegression::new(), true);
}

#[test]
fn l1_matches_scikit_learn() {
    let config = LogisticRegression::new()
        .penalty(Penalty::L1 { alpha: 1.0 })
        .c(0.01);
    check_logistic("l1_C0.01", config, false);
}

#[test]
fn elastic_net_matches_scikit_learn() {
    let config = LogisticRegression::new()
        .penalty(Penalty::ElasticNet {
            alpha: 1.0,
            l1_ratio: 0.5,
        })
        .c(0.01);
    check_logistic("elasticnet_C0.01_l1ratio0.5", config, false);
}

#[test]
fn ridge_matches_scikit_learn() {
    let d = data();
    let r = &reference()["ridge_on_spend_next_90d"];
    let model = RidgeRegression::new()
        .fit(&d.table, d.spend.view(), None)
        .unwrap();
    for (got, want) in model
        .coefficients()
        .iter()
        .zip(floats(&r["coef_standardized"]))
    {
        assert_abs_diff_eq!(*got, want, epsilon = 1e-8);
    }
    assert_abs_diff_eq!(
        model.intercept(),
        r["intercept_standardized"].as_f64().unwrap(),
        epsilon = 1e-8
    );
    let pred = model.predict(d.table.values()).unwrap();
    for (got, want) in pred.iter().zip(floats(&r["pred_first_20"])) {
        assert_abs_diff_eq!(*got, want, epsilon = 1e-8);
    }
    let m =
        RegressionMetrics::compute(d.spend.as_slice().unwrap(), pred.as_slice().unwrap()).unwrap();
    assert_abs_diff_eq!(m.r2, r["r2"].as_f64().unwrap(), epsilon = 1e-10);
    assert_abs_diff_eq!(m.rmse, r["rmse"].as_f64().unwrap(), epsilon = 1e-8);
    assert_abs_diff_eq!(m.mae, r["mae"].as_f64().unwrap(), epsilon = 1e-8);
}

#[test]
fn typed_errors_for_bad_training_data() {
    let d = data();
    let one_class =
        TrainingSet::new(d.table.clone(), Array1::from_elem(d.labels.len(), false)).unwrap();
    let err = LogisticRegression::new().fit(&one_class).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::SingleClass { class: false }),
        "{err}"
    );
    for c in [0.0, -1.0, f64::NAN, f64::NEG_INFINITY] {
        let err = LogisticRegression::new().c(c).fit(&one_class).unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::InvalidParameter { name: "alpha", .. }
            ),
            "C = {c}: {err}"
        );
    }
    let bad = LogisticRegression::new().penalty(Penalty::ElasticNet {
        alpha: 1.0,
        l1_ratio: 1.5,
    });
    let err = bad
        .fit(&TrainingSet::new(d.table.clone(), d.labels.clone()).unwrap())
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::InvalidParameter {
            name: "l1_ratio",
            ..
        }
    ));
    // Perfectly separable: L2 converges to finite coefficients; no penalty cannot.
    let x = FeatureTable::new(
        (0..4u64).map(Into::into).collect(),
        vec!["x".into()],
        ndarray::array![[0.0], [1.0], [2.0], [3.0]],
    )
    .unwrap();
    let separable = TrainingSet::new(x, ndarray::array![false, false, true, true]).unwrap();
    let m = LogisticRegression::new().fit(&separable).unwrap();
    assert!(m.coefficients()[0].is_finite() && m.coefficients()[0] > 0.0);
    let err = LogisticRegression::new()
        .penalty(Penalty::None)
        .fit(&separable)
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Fit { .. }), "{err}");
    assert!(err.to_string().contains("separable"), "{err}");
    let model = LogisticRegression::new()
        .fit(&TrainingSet::new(d.table.clone(), d.labels).unwrap())
        .unwrap();
    assert!(model.predict_proba(ndarray::array![[1.0]].view()).is_err());
}

#[test]
fn fitted_models_round_trip_through_json() {
    let d = data();
    let train = TrainingSet::new(d.table.clone(), d.labels.clone()).unwrap();
    let model = LogisticRegression::new().fit(&train).unwrap();
    let json = serde_json::to_string(&model).unwrap();
    let back: churnwise::model::FittedLogisticRegression = serde_json::from_str(&json).unwrap();
    let (p, q) = (
        model.predict_proba(d.table.values()).unwrap(),
        back.predict_proba(d.table.values()).unwrap(),
    );
    for (a, b) in p.iter().zip(&q) {
        assert_abs_diff_eq!(*a, *b, epsilon = 1e-15);
    }
    assert_eq!(back.feature_names(), model.feature_names());
    let ridge = RidgeRegression::new()
        .fit(&d.table, d.spend.view(), None)
        .unwrap();
    let back: churnwise::model::FittedRidgeRegression =
        serde_json::from_str(&serde_json::to_string(&ridge).unwrap()).unwrap();
    assert_eq!(back.feature_names(), ridge.feature_names());
}

#[test]
fn random_forest_is_deterministic_and_usable_through_the_traits() {
    use churnwise::model::{Fit, PredictProba, RandomForest};
    let d = data();
    let train = TrainingSet::new(d.table.clone(), d.labels.clone()).unwrap();
    let forest = RandomForest::new().trees(15).seed(3);
    let a =
        PredictProba::predict_proba(&Fit::fit(&forest, &train).unwrap(), d.table.values()).unwrap();
    let b = forest
        .fit(&train)
        .unwrap()
        .predict_proba(d.table.values())
        .unwrap();
    assert_eq!(a, b);
    assert!(a.iter().all(|p| (0.0..=1.0).contains(p)));
    let y: Vec<bool> = d.labels.to_vec();
    let auc = churnwise::model::metrics::roc_auc(a.as_slice().unwrap(), &y, None).unwrap();
    assert!(auc > 0.75, "in-sample AUC {auc}");
    let weighted = train.with_weights(d.weights.clone()).unwrap();
    assert!(forest.fit(&weighted).is_err());
}

#[test]
fn eight_threads_sharing_one_scorer_match_single_threaded_scores() {
    use chrono::{TimeZone, Utc};
    use churnwise::features::Snapshot;
    use churnwise::score::ChurnScorer;
    use std::sync::Arc;
    let d = data();
    let train = TrainingSet::new(d.table.clone(), d.labels.clone()).unwrap();
    let model = LogisticRegression::new().fit(&train).unwrap();
    let snapshot = Snapshot::new(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
    // The fixture's column names are not catalog features: scorers need catalog names.
    assert!(ChurnScorer::new(model.clone(), &snapshot).is_err());
    let renamed = [
        "tenure_days",
        "recency_days",
        "orders_total",
        "avg_order_value",
        "complaints_90d",
        "satisfaction_last",
    ];
    let table = FeatureTable::new(
        d.table.ids().to_vec(),
        renamed.map(String::from).to_vec(),
        d.table.values().to_owned(),
    )
    .unwrap();
    let model = LogisticRegression::new()
        .fit(&TrainingSet::new(table.clone(), d.labels.clone()).unwrap())
        .unwrap();
    let scorer = Arc::new(ChurnScorer::new(model, &snapshot).unwrap());
    let single: Vec<u64> = (0..table.nrows())
        .map(|i| {
            scorer
                .score_one(table.values().row(i).as_slice().unwrap())
                .unwrap()
                .to_bits()
        })
        .collect();
    // The batch path (vectorized, dispatched to the CPU's SIMD level) gives the same bits.
    let batch: Vec<u64> = scorer
        .score_table(&table)
        .unwrap()
        .iter()
        .map(|p| p.to_bits())
        .collect();
    assert_eq!(batch, single);
    let table = Arc::new(table);
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let (scorer, table) = (Arc::clone(&scorer), Arc::clone(&table));
            std::thread::spawn(move || {
                (t..table.nrows())
                    .step_by(8)
                    .map(|i| {
                        (
                            i,
                            scorer
                                .score_one(table.values().row(i).as_slice().unwrap())
                                .unwrap()
                                .to_bits(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for (i, bits) in h.join().unwrap() {
            assert_eq!(bits, single[i]);
        }
    }
    let batch: Vec<u64> = scorer
        .score_table(&table)
        .unwrap()
        .iter()
        .map(|p| p.to_bits())
        .collect();
    assert_eq!(batch, single);
}

#[test]
fn a_flat_csv_encoded_by_the_table_encoder_reproduces_the_reference_fit() {
    use churnwise::model::TableEncoder;
    // What `train_csv --label churned --drop sample_weight,spend_next_90d --c 1` does.
    let text = include_str!("../fixtures/logistic_data.csv");
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&j| !["churned", "sample_weight", "spend_next_90d"].contains(&header[j].as_str()))
        .collect();
    let label = header.iter().position(|h| h == "churned").unwrap();
    let cells: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    let rows: Vec<Vec<String>> = cells
        .iter()
        .map(|r| keep.iter().map(|&j| r[j].clone()).collect())
        .collect();
    let names: Vec<String> = keep.iter().map(|&j| header[j].clone()).collect();
    let encoder = TableEncoder::new().fit(&names, &rows).unwrap();
    let (x, imputed) = encoder.transform(&rows).unwrap();
    assert_eq!(imputed, 0);
    let y: Array1<bool> = cells.iter().map(|r| r[label] == "1").collect();
    let table = FeatureTable::new(
        (0..x.nrows() as u64).map(Into::into).collect(),
        encoder.feature_names(),
        x,
    )
    .unwrap();
    let model = LogisticRegression::new()
        .c(1.0)
        .fit(&TrainingSet::new(table, y).unwrap())
        .unwrap();
    let r = &reference()["logistic"]["l2_C1"];
    for (got, want) in model.raw_coefficients().iter().zip(floats(&r["coef_raw"])) {
        assert_abs_diff_eq!(*got, want, epsilon = 1e-6);
    }
}
