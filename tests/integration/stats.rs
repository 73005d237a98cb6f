//! The shared statistics through the public API, against
//! tests/fixtures/stratified_reference.json (statsmodels 0.15.0; made by
//! tests/fixtures/stratified_reference.py) and hand calculations.

use approx::assert_abs_diff_eq;
use churnwise::ErrorKind;
use churnwise::stats::{
    Stratum, benjamini_hochberg, holm, mantel_haenszel, newcombe_interval, normal_cdf,
    normal_quantile, two_proportion_z_test,
};
use serde_json::Value;

const ORACLE: f64 = 1e-12;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn mantel_haenszel_matches_the_stratified_reference() {
    let reference: Value =
        serde_json::from_str(include_str!("../fixtures/stratified_reference.json")).unwrap();
    let strata: Vec<Stratum> = reference["strata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let n = |k: &str| s[k].as_u64().unwrap();
            Stratum::new(
                n("treated_churned"),
                n("treated_n"),
                n("control_churned"),
                n("control_n"),
            )
        })
        .collect();
    let mh = mantel_haenszel(&strata, 0.95).unwrap();
    assert_abs_diff_eq!(
        mh.risk_difference,
        f(&reference["mh_risk_difference"]),
        epsilon = ORACLE
    );
    assert_abs_diff_eq!(
        mh.risk_difference_variance,
        f(&reference["mh_risk_difference_variance_sato"]),
        epsilon = ORACLE
    );
    assert_abs_diff_eq!(
        mh.statistic,
        f(&reference["cmh_statistic"]),
        epsilon = ORACLE
    );
    assert_abs_diff_eq!(mh.p_value, f(&reference["cmh_p_value"]), epsilon = ORACLE);
    assert_abs_diff_eq!(
        mh.risk_ratio.unwrap(),
        f(&reference["statsmodels_riskratio_pooled"]),
        epsilon = ORACLE
    );
    // Pooled, the treated churned more: the z-test says so, with the opposite sign.
    let pooled = two_proportion_z_test(410, 1000, 200, 1000).unwrap();
    assert!(pooled.z > 0.0 && mh.z < 0.0);
    assert!(newcombe_interval(410, 1000, 200, 1000, 0.95).unwrap().lower > 0.0);
}

#[test]
fn corrections_order_raw_fdr_and_fwer() {
    let p = [0.039, 0.001, 0.6, 0.041, 0.008];
    let bh = benjamini_hochberg(&p).unwrap();
    let fwer = holm(&p).unwrap();
    for i in 0..p.len() {
        assert!(p[i] <= bh[i] && bh[i] <= fwer[i]);
    }
    let e = benjamini_hochberg(&[0.5, f64::NAN]).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NonFinite { row: 1, .. }));
}

#[test]
fn normal_distribution_round_trips() {
    for p in [1e-12, 0.025, 0.5, 0.8, 0.999_999] {
        assert_abs_diff_eq!(normal_cdf(normal_quantile(p)), p, epsilon = 1e-15);
    }
}
