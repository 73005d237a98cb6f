//! The churn-driver report through the public API, against
//! tests/fixtures/drivers_reference.json: scipy 1.17.1 (`mannwhitneyu`
//! asymptotic with tie and continuity corrections, `ttest_ind(equal_var=False)`,
//! `chi2_contingency(correction=False)`) and statsmodels 0.15.0
//! (`multipletests` fdr_bh and holm) on tests/fixtures/drivers_data.csv
//! (2 500 customers).

use approx::{assert_abs_diff_eq, assert_relative_eq};
use churnwise::ErrorKind;
use churnwise::analysis::drivers::{Driver, DriverData, Drivers};
use serde_json::Value;

/// The tolerances: statistics absolute, p-values relative.
const STATISTIC: f64 = 1e-9;
const P_RELATIVE: f64 = 1e-9;

const NUMERIC: [&str; 5] = [
    "age",
    "logins_30d",
    "spend_change_90d",
    "tickets_90d",
    "tenure_days",
];

fn reference() -> Value {
    serde_json::from_str(include_str!("../fixtures/drivers_reference.json")).unwrap()
}

fn data() -> DriverData {
    let text = include_str!("../fixtures/drivers_data.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let churned = rows.iter().map(|r| r[column("churned")] == "1").collect();
    let mut data = DriverData::new(churned).unwrap();
    for name in NUMERIC {
        let j = column(name);
        data = data
            .with_numeric(name, rows.iter().map(|r| r[j].parse().unwrap()).collect())
            .unwrap();
    }
    for name in ["region", "channel"] {
        let j = column(name);
        let labels: Vec<&str> = rows.iter().map(|r| r[j]).collect();
        data = data.with_category(name, &labels).unwrap();
    }
    data
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn numeric_drivers_match_scipy() {
    let reference = reference();
    let report = Drivers::new().analyze(&data()).unwrap();
    assert_eq!((report.churned(), report.retained()), (520, 1980));
    for name in NUMERIC {
        let want = &reference["numeric"]["features"][name];
        let d = report.numeric_driver(name).unwrap();
        assert_abs_diff_eq!(
            d.mean_churned,
            f(&want["mean_churned"]),
            epsilon = STATISTIC
        );
        assert_abs_diff_eq!(
            d.mean_retained,
            f(&want["mean_retained"]),
            epsilon = STATISTIC
        );
        assert_abs_diff_eq!(
            d.median_churned,
            f(&want["median_churned"]),
            epsilon = STATISTIC
        );
        assert_abs_diff_eq!(
            d.median_retained,
            f(&want["median_retained"]),
            epsilon = STATISTIC
        );
        assert_abs_diff_eq!(
            d.smd,
            f(&want["standardized_mean_difference"]),
            epsilon = STATISTIC
        );
        assert_abs_diff_eq!(
            d.mann_whitney.u,
            f(&want["mann_whitney_u"]),
            epsilon = STATISTIC
        );
        assert_relative_eq!(
            d.mann_whitney.p_value,
            f(&want["mann_whitney_p"]),
            max_relative = P_RELATIVE
        );
        assert_abs_diff_eq!(d.welch.t, f(&want["welch_t"]), epsilon = STATISTIC);
        assert_relative_eq!(
            d.welch.p_value,
            f(&want["welch_p"]),
            max_relative = P_RELATIVE
        );
    }
}

#[test]
fn categorical_drivers_match_scipy() {
    let reference = reference();
    let report = Drivers::new().analyze(&data()).unwrap();
    for name in ["region", "channel"] {
        let want = &reference["categorical"]["features"][name];
        let d = report.categorical_driver(name).unwrap();
        let levels: Vec<&str> = d.levels.iter().map(|l| l.level.as_str()).collect();
        let want_levels: Vec<&str> = want["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(levels, want_levels);
        for (k, level) in d.levels.iter().enumerate() {
            assert_eq!(level.churned, want["churned"][k].as_u64().unwrap());
            assert_eq!(
                level.customers - level.churned,
                want["retained"][k].as_u64().unwrap()
            );
            assert_abs_diff_eq!(
                level.churn_rate,
                f(&want["churn_rate"][k]),
                epsilon = STATISTIC
            );
            assert!(level.interval.contains(level.churn_rate));
        }
        assert_abs_diff_eq!(
            d.chi_square.statistic,
            f(&want["chi2"]),
            epsilon = STATISTIC
        );
        assert_eq!(u64::from(d.chi_square.dof), want["dof"].as_u64().unwrap());
        assert_relative_eq!(d.p_value, f(&want["p"]), max_relative = P_RELATIVE);
    }
}

#[test]
fn adjusted_p_values_match_statsmodels() {
    let reference = reference();
    let want = &reference["adjusted_p"];
    let report = Drivers::new().analyze(&data()).unwrap();
    for (k, name) in want["order"].as_array().unwrap().iter().enumerate() {
        let name = name.as_str().unwrap();
        let (bh, holm) = match report.numeric_driver(name) {
            Some(d) => (d.p_bh, d.p_holm),
            None => {
                let d = report.categorical_driver(name).unwrap();
                (d.p_bh, d.p_holm)
            }
        };
        assert_relative_eq!(
            bh,
            f(&want["benjamini_hochberg"][k]),
            max_relative = P_RELATIVE
        );
        assert_relative_eq!(holm, f(&want["holm"][k]), max_relative = P_RELATIVE);
    }
}

#[test]
fn report_is_ranked_by_effect_and_serializes() {
    let report = Drivers::new().analyze(&data()).unwrap();
    let ranked = report.ranked();
    assert_eq!(ranked.len(), 7);
    assert_eq!(ranked[0].name(), "logins_30d"); // |SMD| 1.34
    assert!(ranked.windows(2).all(|w| w[0].effect() >= w[1].effect()));
    assert!(matches!(ranked.last(), Some(Driver::Numeric(d)) if d.name == "tenure_days"));
    let text = report.to_string();
    assert!(
        text.lines().nth(2).unwrap().starts_with("logins_30d"),
        "{text}"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["numeric"].as_array().unwrap().len(), 5);
    assert_eq!(json["categorical"][1]["name"], "channel");
}

#[test]
fn errors_name_the_problem() {
    let err = DriverData::new(vec![true, false])
        .unwrap()
        .with_numeric("x", vec![1.0, f64::NAN])
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NonFinite { row: 1, .. }));
    let err = DriverData::new(vec![true, false])
        .unwrap()
        .with_numeric("x", vec![1.0])
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::LengthMismatch { .. }));
    let data = DriverData::new(vec![false; 4])
        .unwrap()
        .with_numeric("x", vec![1.0; 4])
        .unwrap();
    assert!(matches!(
        Drivers::new().analyze(&data).unwrap_err().kind(),
        ErrorKind::SingleClass { class: false }
    ));
}
