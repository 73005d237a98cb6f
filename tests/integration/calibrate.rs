//! Calibration against scikit-learn 1.9.1 (tests/fixtures/calibration_reference.json,
//! made from calibration_data.csv: `IsotonicRegression(y_min=0, y_max=1,
//! out_of_bounds="clip")` and `_SigmoidCalibration` on the scores' log-odds).

use churnwise::model::metrics::brier;
use churnwise::model::{Calibrator, FittedCalibrator};
use serde_json::Value;

fn data() -> (Vec<f64>, Vec<bool>) {
    let text = include_str!("../fixtures/calibration_data.csv");
    text.lines()
        .skip(1)
        .map(|l| {
            let (s, c) = l.split_once(',').unwrap();
            (s.parse::<f64>().unwrap(), c.trim() == "1")
        })
        .unzip()
}

fn reference() -> Value {
    serde_json::from_str(include_str!("../fixtures/calibration_reference.json")).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn isotonic_matches_scikit_learn() {
    let (scores, labels) = data();
    let r = reference();
    let iso = Calibrator::Isotonic.fit(&scores, &labels).unwrap();
    let FittedCalibrator::Isotonic { x, .. } = &iso else {
        panic!("isotonic")
    };
    assert_eq!(
        x.len() as u64,
        r["isotonic"]["n_thresholds"].as_u64().unwrap()
    );
    for (g, want) in floats(&r["isotonic"]["grid"])
        .into_iter()
        .zip(floats(&r["isotonic"]["predict_at_grid"]))
    {
        approx::assert_abs_diff_eq!(iso.apply(g), want, epsilon = 1e-12);
    }
    for (s, want) in scores
        .iter()
        .zip(floats(&r["isotonic"]["predict_first_20_rows"]))
    {
        approx::assert_abs_diff_eq!(iso.apply(*s), want, epsilon = 1e-12);
    }
    let calibrated: Vec<f64> = scores.iter().map(|&s| iso.apply(s)).collect();
    approx::assert_abs_diff_eq!(
        brier(&calibrated, &labels, None).unwrap(),
        r["brier_after_isotonic_in_sample"].as_f64().unwrap(),
        epsilon = 1e-12
    );
    approx::assert_abs_diff_eq!(
        brier(&scores, &labels, None).unwrap(),
        r["brier_before"].as_f64().unwrap(),
        epsilon = 1e-7
    );
}

#[test]
fn platt_matches_scikit_learn() {
    let (scores, labels) = data();
    let r = reference();
    let platt = Calibrator::Platt.fit(&scores, &labels).unwrap();
    let FittedCalibrator::Platt { a, b } = platt else {
        panic!("platt")
    };
    approx::assert_abs_diff_eq!(a, r["platt"]["a"].as_f64().unwrap(), epsilon = 1e-6);
    approx::assert_abs_diff_eq!(b, r["platt"]["b"].as_f64().unwrap(), epsilon = 1e-6);
    for (s, want) in scores
        .iter()
        .zip(floats(&r["platt"]["predict_first_20_rows"]))
    {
        approx::assert_abs_diff_eq!(platt.apply(*s), want, epsilon = 1e-9);
    }
    let calibrated: Vec<f64> = scores.iter().map(|&s| platt.apply(s)).collect();
    approx::assert_abs_diff_eq!(
        brier(&calibrated, &labels, None).unwrap(),
        r["brier_after_platt_in_sample"].as_f64().unwrap(),
        epsilon = 1e-9
    );
}
