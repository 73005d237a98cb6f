//! Tests of the whole booster: fitting, scoring, explanations, saving.

use ndarray::{Array1, Array2};

use super::boost::{self, Data};
use super::shap::tests::{brute_force, expected};
use super::*;
use crate::ErrorKind;
use crate::features::{FeatureTable, TrainingSet};
use crate::model::metrics::roc_auc;
use crate::model::{ClassWeight, FittedModel};
use crate::util::mix::splitmix64;

/// `n` rows of `d` uniform features; churn is likelier when x0 > 0.6 and
/// x1 < 0.3 (an interaction), and rises with x2.
fn data(n: usize, d: usize, seed: u64) -> (Array2<f64>, Vec<bool>) {
    let mut s = seed;
    let mut u = || (splitmix64(&mut s) >> 11) as f64 / (1u64 << 53) as f64;
    let mut x = Array2::zeros((n, d));
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        for j in 0..d {
            x[[i, j]] = (u() * 1000.0).round() / 1000.0;
        }
        let logit = true_logit(x.row(i).as_slice().unwrap());
        y.push(u() < 1.0 / (1.0 + (-logit).exp()));
    }
    (x, y)
}

fn true_logit(row: &[f64]) -> f64 {
    -1.5 + 2.5 * f64::from(u8::from(row[0] > 0.6 && row[1] < 0.3)) + 1.5 * row[2.min(row.len() - 1)]
}

fn set(x: Array2<f64>, y: Vec<bool>) -> TrainingSet {
    let ids = (0..x.nrows() as u64).map(Into::into).collect();
    let names = (0..x.ncols()).map(|j| format!("x{j}")).collect();
    TrainingSet::new(FeatureTable::new(ids, names, x).unwrap(), Array1::from(y)).unwrap()
}

fn auc(p: &Array1<f64>, y: &[bool]) -> f64 {
    roc_auc(p.as_slice().unwrap(), y, None).unwrap()
}

#[test]
fn learns_an_interaction_and_rows_match_the_batch_bit_for_bit() {
    let (x, y) = data(4000, 5, 1);
    let (tx, ty) = data(2000, 5, 2);
    let model = GradientBoosting::new()
        .trees(100)
        .max_leaves(4)
        .learning_rate(0.05)
        .fit(&set(x, y))
        .unwrap();
    let p = model.predict_proba(tx.view()).unwrap();
    // Close to the AUC of the true model.
    let oracle: Array1<f64> = tx
        .rows()
        .into_iter()
        .map(|r| true_logit(r.as_slice().unwrap()))
        .collect();
    let (got, best) = (auc(&p, &ty), auc(&oracle, &ty));
    assert!(got > best - 0.02, "{got} vs {best}");
    let linear = crate::model::LogisticRegression::new()
        .fit(&set(data(4000, 5, 1).0, data(4000, 5, 1).1))
        .unwrap();
    let lin = auc(&linear.predict_proba(tx.view()).unwrap(), &ty);
    assert!(got > lin + 0.01, "trees {got}, logistic {lin}");
    for (i, row) in tx.rows().into_iter().take(50).enumerate() {
        let one = model.predict_proba_one(row.as_slice().unwrap()).unwrap();
        assert_eq!(one.to_bits(), p[i].to_bits());
    }
    // A column-major view scores the same.
    let f = tx.t().as_standard_layout().into_owned();
    let p_f = model.predict_proba(f.t()).unwrap();
    assert_eq!(p_f, p);
    assert!(matches!(
        model
            .predict_proba(tx.slice_axis(ndarray::Axis(1), ndarray::Slice::from(..3)))
            .unwrap_err()
            .kind(),
        ErrorKind::LengthMismatch {
            expected: 5,
            got: 3,
            ..
        }
    ));
}

#[test]
fn the_base_score_is_the_training_log_odds_and_leaves_follow_the_limits() {
    let (x, y) = data(1000, 3, 3);
    let pos = y.iter().filter(|&&v| v).count() as f64;
    let model = GradientBoosting::new()
        .trees(5)
        .max_leaves(7)
        .min_rows_per_leaf(40)
        .fit(&set(x.clone(), y.clone()))
        .unwrap();
    approx::assert_relative_eq!(
        model.base_score(),
        (pos / (1000.0 - pos)).ln(),
        max_relative = 1e-12
    );
    assert!(model.leaves().iter().all(|&l| (2..=7).contains(&l)));
    for t in &model.trees {
        assert!(
            t.nodes
                .iter()
                .filter(|n| n.is_leaf())
                .all(|n| n.cover >= 40.0)
        );
    }
    let deep = GradientBoosting::new()
        .trees(3)
        .max_leaves(64)
        .max_depth(Some(2))
        .min_rows_per_leaf(1)
        .fit(&set(x, y))
        .unwrap();
    assert!(deep.leaves().iter().all(|&l| l <= 4));
}

#[test]
fn bit_identical_on_one_and_two_threads_and_for_a_seed() {
    let (x, y) = data(3000, 6, 4);
    let train = set(x, y);
    let config = GradientBoosting::new()
        .trees(15)
        .row_subsample(0.7)
        .column_subsample(0.6)
        .seed(9);
    let on = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| config.fit(&train).unwrap())
    };
    let one = on(1);
    let two = on(2);
    assert_eq!(one, two);
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&two).unwrap()
    );
    let other = config.clone().seed(10).fit(&train).unwrap();
    assert_ne!(other, one);
}

#[test]
fn shap_values_add_up_and_equal_brute_force_shapley_values() {
    let (x, y) = data(800, 6, 5);
    let model = GradientBoosting::new()
        .trees(8)
        .max_leaves(8)
        .min_rows_per_leaf(10)
        .fit(&set(x.clone(), y))
        .unwrap();
    for row in x.rows().into_iter().take(5) {
        let row = row.to_vec();
        let c = model.contributions(&row).unwrap();
        let p = model.predict_proba_one(&row).unwrap();
        approx::assert_relative_eq!(
            c.base_value + c.values.iter().sum::<f64>(),
            (p / (1.0 - p)).ln(),
            max_relative = 1e-9
        );
        // Every coalition of the 6 features, the expectation along the covers.
        let value = |s: u32| {
            model.base_score()
                + model
                    .trees
                    .iter()
                    .map(|t| expected(t, &row, s, 0))
                    .sum::<f64>()
        };
        let exact = brute_force(value, 6);
        for (got, want) in c.values.iter().zip(&exact) {
            approx::assert_abs_diff_eq!(*got, *want, epsilon = 1e-10);
        }
        approx::assert_relative_eq!(c.base_value, value(0), max_relative = 1e-12);
    }
}

#[test]
fn importances_rank_the_informative_features_first() {
    let (x, y) = data(4000, 6, 6);
    let model = GradientBoosting::new()
        .trees(30)
        .fit(&set(x.clone(), y))
        .unwrap();
    for imp in [
        model.feature_importance_gain(),
        model.feature_importance_shap(x.view()).unwrap(),
    ] {
        let noise = imp[3..].iter().cloned().fold(0.0, f64::max);
        assert!(imp[..3].iter().all(|&v| v > noise), "{imp:?}");
    }
    assert!(
        model
            .feature_importance_shap(x.slice_axis(ndarray::Axis(0), ndarray::Slice::from(..0)))
            .is_err()
    );
}

#[test]
fn missing_values_are_routed_by_what_training_saw() {
    // x0 is missing for a third of the rows, and those rows mostly churn.
    let (mut x, mut y) = data(3000, 3, 7);
    for i in (0..3000).step_by(3) {
        x[[i, 0]] = f64::NAN;
        y[i] = i % 2 == 0 || i % 5 == 0;
    }
    let names: Vec<String> = (0..3).map(|j| format!("x{j}")).collect();
    let config = GradientBoosting::new().trees(20);
    let model = boost::fit(
        &config,
        Data {
            names: &names,
            x: x.view(),
            y: y.clone(),
            w: None,
        },
        None,
    )
    .unwrap();
    let p = model.predict_proba(x.view()).unwrap();
    let mean = |rows: &mut dyn Iterator<Item = usize>| {
        let v: Vec<f64> = rows.map(|i| p[i]).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let missing = mean(&mut (0..3000).step_by(3));
    let present = mean(&mut (0..3000).filter(|i| i % 3 != 0));
    assert!(missing > present + 0.1, "{missing} vs {present}");
    // An infinite value is refused (NaN is the only non-finite value allowed).
    x[[1, 1]] = f64::INFINITY;
    let err = boost::fit(
        &config,
        Data {
            names: &names,
            x: x.view(),
            y,
            w: None,
        },
        None,
    )
    .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NonFinite { row: 1, .. }));
}

#[test]
fn weights_and_class_weights_shift_the_rates() {
    let (x, y) = data(2000, 3, 8);
    let train = set(x.clone(), y.clone());
    let plain = GradientBoosting::new().trees(10).fit(&train).unwrap();
    let mean = |m: &FittedGradientBoosting| m.predict_proba(x.view()).unwrap().mean().unwrap();
    let balanced = GradientBoosting::new()
        .trees(10)
        .class_weight(ClassWeight::Balanced)
        .fit(&train)
        .unwrap();
    assert!(mean(&balanced) > mean(&plain) + 0.05);
    // Sample weights of 3 on churners equal class weights of 3.
    let w = Array1::from_iter(y.iter().map(|&l| if l { 3.0 } else { 1.0 }));
    let weighted = GradientBoosting::new()
        .trees(10)
        .fit(&train.clone().with_weights(w).unwrap())
        .unwrap();
    let custom = GradientBoosting::new()
        .trees(10)
        .class_weight(ClassWeight::Custom {
            negative: 1.0,
            positive: 3.0,
        })
        .fit(&train)
        .unwrap();
    assert_eq!(weighted.trees, custom.trees);
    assert_eq!(weighted.base_score(), custom.base_score());
}

#[test]
fn early_stopping_keeps_the_best_iteration() {
    let (x, y) = data(3000, 6, 9);
    let (vx, vy) = data(1000, 6, 10);
    let config = GradientBoosting::new()
        .trees(400)
        .learning_rate(0.5)
        .min_rows_per_leaf(2)
        .early_stopping(EarlyStopping::HoldOut {
            fraction: 0.2,
            patience: 10,
        });
    let model = config
        .fit_with_validation(&set(x.clone(), y.clone()), &set(vx, vy))
        .unwrap();
    let losses = model.validation_loss();
    assert!(model.trees_fitted() < 400);
    assert_eq!(losses.len(), model.trees_fitted() as usize);
    let best = (0..losses.len())
        .min_by(|&a, &b| losses[a].total_cmp(&losses[b]))
        .unwrap();
    assert_eq!(model.trees() as usize, best + 1);
    assert_eq!(model.trees_fitted() as usize, best + 1 + 10);
    // Holding out of the training set works the same way.
    let held = config.fit(&set(x, y)).unwrap();
    assert!(held.trees() < held.trees_fitted());
}

#[test]
fn monotone_constraints_hold_everywhere() {
    let (x, y) = data(3000, 3, 11);
    let model = GradientBoosting::new()
        .trees(30)
        .min_rows_per_leaf(5)
        .monotone("x2", Monotone::Increasing)
        .monotone("x1", Monotone::Increasing)
        .fit(&set(x.clone(), y))
        .unwrap();
    for row in x.rows().into_iter().take(40) {
        let mut r = row.to_vec();
        let mut last = f64::NEG_INFINITY;
        for k in 0..=50 {
            r[1] = f64::from(k) / 50.0;
            let p = model.predict_proba_one(&r).unwrap();
            assert!(p >= last);
            last = p;
        }
    }
}

#[test]
fn json_round_trips_exactly_and_edited_files_are_refused() {
    let (x, y) = data(1000, 4, 12);
    let model: FittedModel = GradientBoosting::new()
        .trees(5)
        .fit(&set(x, y))
        .unwrap()
        .into();
    let json = serde_json::to_string(&model).unwrap();
    assert!(
        json.starts_with(r#"{"type":"gradient_boosting""#),
        "{}",
        &json[..60]
    );
    let back: FittedModel = serde_json::from_str(&json).unwrap();
    assert_eq!(back, model);
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    let FittedModel::GradientBoosting(m) = &model else {
        panic!("a gradient boosting model")
    };
    // A split on a feature the model does not have.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["trees"][0]["feature"][0] = 9.into();
    let err = serde_json::from_value::<FittedModel>(v)
        .unwrap_err()
        .to_string();
    assert!(err.contains("splits on feature 9"), "{err}");
    // Covers that do not add up.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["trees"][0]["cover"][0] = 1.0.into();
    assert!(serde_json::from_value::<FittedModel>(v).is_err());
    // Invalid parameters.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["params"]["learning_rate"] = 0.0.into();
    assert!(serde_json::from_value::<FittedModel>(v).is_err());
    assert_eq!(m.trees(), 5);
}

#[test]
fn invalid_input_is_a_typed_error() {
    let (x, y) = data(100, 2, 13);
    let train = set(x, y);
    let err = GradientBoosting::new()
        .monotone("nope", Monotone::Decreasing)
        .fit(&train)
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::UnknownName { .. }));
    for (config, expected) in [
        (GradientBoosting::new().trees(0), "trees"),
        (GradientBoosting::new().max_leaves(1), "max_leaves"),
        (GradientBoosting::new().bins(1), "bins"),
        (GradientBoosting::new().l2(f64::INFINITY), "l2"),
        (
            GradientBoosting::new().row_subsample(f64::NAN),
            "row_subsample",
        ),
        (
            GradientBoosting::new().early_stopping(EarlyStopping::HoldOut {
                fraction: 0.9,
                patience: 3,
            }),
            "early_stopping",
        ),
        (
            GradientBoosting::new().class_weight(ClassWeight::Custom {
                negative: 0.0,
                positive: 1.0,
            }),
            "class_weight",
        ),
    ] {
        let err = config.fit(&train).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidParameter { name, .. } if *name == expected),
            "{err}"
        );
    }
    let zero_churn = set(Array2::zeros((10, 2)), vec![false; 10]);
    assert!(matches!(
        GradientBoosting::new().fit(&zero_churn).unwrap_err().kind(),
        ErrorKind::SingleClass { class: false }
    ));
    // A config file lists what it changes; a typo fails.
    let c: GradientBoosting = serde_json::from_str(r#"{"trees": 7}"#).unwrap();
    assert_eq!(c.trees_value(), 7);
    assert!(serde_json::from_str::<GradientBoosting>(r#"{"tress": 7}"#).is_err());
}
