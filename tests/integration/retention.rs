//! Campaign evaluation, uplift and power analysis through the public API,
//! against tests/fixtures/campaign_reference.json (statsmodels 0.15.0),
//! tests/fixtures/stratified_reference.json (statsmodels 0.15.0; made by
//! tests/fixtures/stratified_reference.py) and
//! tests/fixtures/uplift_reference.json (scikit-uplift 0.5.1 on
//! tests/fixtures/uplift_data.csv).
//!
//! tests/fixtures/campaign_outcomes.csv is the campaign of
//! campaign_reference.json as a per-customer table (its `arms` counts:
//! 2 400 treated with 312 churned, 800 controls with 136 churned); its
//! `segment` column is arbitrary (customer id parity), for exercising
//! `--segment`.

use approx::{assert_abs_diff_eq, assert_relative_eq};
use churnwise::ErrorKind;
use churnwise::retention::uplift::{
    UpliftReport, UpliftStrategy, qini_coefficient, uplift_at_k, uplift_auc,
};
use churnwise::retention::{
    CampaignDesign, CampaignEvaluator, CampaignOutcome, EffectBasis, PowerAnalysis,
};
use churnwise::stats::{holm, two_proportion_z_test};
use proptest::prelude::*;
use serde_json::Value;

/// Against the statsmodels / scikit-uplift reference values.
const ORACLE: f64 = 1e-12;

fn campaign_reference() -> Value {
    serde_json::from_str(include_str!("../fixtures/campaign_reference.json")).unwrap()
}

fn uplift_reference() -> Value {
    serde_json::from_str(include_str!("../fixtures/uplift_reference.json")).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn count(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

/// Outcomes with the reference's counts per arm.
fn reference_outcomes(reference: &Value) -> Vec<CampaignOutcome> {
    let mut outcomes = Vec::new();
    let mut id = 0u64;
    for arm in ["treatment", "control"] {
        let n = count(&reference["arms"][arm]["n"]);
        let churned = count(&reference["arms"][arm]["churned"]);
        for i in 0..n {
            outcomes.push(CampaignOutcome::new(id, arm, i < churned));
            id += 1;
        }
    }
    outcomes
}

/// tests/fixtures/uplift_data.csv as (scores, retained, treated).
fn uplift_data() -> (Vec<f64>, Vec<bool>, Vec<bool>) {
    let text = include_str!("../fixtures/uplift_data.csv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("retained,treatment,uplift_score"));
    let (mut s, mut y, mut t) = (Vec::new(), Vec::new(), Vec::new());
    for line in lines.filter(|l| !l.is_empty()) {
        let c: Vec<&str> = line.split(',').collect();
        y.push(c[0] == "1");
        t.push(c[1] == "1");
        s.push(c[2].parse().unwrap());
    }
    (s, y, t)
}

#[test]
fn campaign_report_matches_statsmodels_reference() {
    let reference = campaign_reference();
    let report = CampaignEvaluator::new("control")
        .evaluate(&reference_outcomes(&reference))
        .unwrap();
    let arm = report.arm("treatment").unwrap();
    assert_abs_diff_eq!(arm.z, f(&reference["z"]), epsilon = ORACLE);
    assert_abs_diff_eq!(
        arm.p_value,
        f(&reference["p_value_two_sided"]),
        epsilon = ORACLE
    );
    let wilson = &reference["treatment_rate_wilson_95"];
    assert_abs_diff_eq!(arm.summary.churn.ci.lower, f(&wilson[0]), epsilon = ORACLE);
    assert_abs_diff_eq!(arm.summary.churn.ci.upper, f(&wilson[1]), epsilon = ORACLE);
    let newcombe = &reference["diff_newcombe_95"];
    assert_abs_diff_eq!(
        arm.churn_difference_ci.lower,
        f(&newcombe[0]),
        epsilon = ORACLE
    );
    assert_abs_diff_eq!(
        arm.churn_difference_ci.upper,
        f(&newcombe[1]),
        epsilon = ORACLE
    );
    // The Wald interval is given for comparison; reports use Newcombe's.
    let wald = churnwise::stats::wald_difference_interval(312, 2400, 136, 800, 0.95).unwrap();
    assert_abs_diff_eq!(
        wald.lower,
        f(&reference["diff_wald_95"][0]),
        epsilon = ORACLE
    );
    assert_abs_diff_eq!(
        wald.upper,
        f(&reference["diff_wald_95"][1]),
        epsilon = ORACLE
    );
}

#[test]
fn sample_size_matches_statsmodels_reference() {
    let reference = campaign_reference();
    let size = PowerAnalysis::new().sample_size(0.17, 0.13).unwrap();
    // statsmodels' brentq stops at ~2e-10 relative of the exact root.
    assert_relative_eq!(
        size.treatment,
        f(&reference["required_n_per_arm_17_to_13_pct"]),
        max_relative = 1e-9
    );
    let mde = PowerAnalysis::new()
        .minimum_detectable_effect(0.17, f(&reference["required_n_per_arm_17_to_13_pct"]))
        .unwrap();
    assert_abs_diff_eq!(mde.absolute_reduction, 0.04, epsilon = 1e-9);
}

#[test]
fn uplift_metrics_match_scikit_uplift_reference() {
    let reference = uplift_reference();
    let (s, y, t) = uplift_data();
    assert_abs_diff_eq!(
        qini_coefficient(&s, &y, &t).unwrap(),
        f(&reference["qini_auc_score"]),
        epsilon = ORACLE
    );
    assert_abs_diff_eq!(
        uplift_auc(&s, &y, &t).unwrap(),
        f(&reference["uplift_auc_score"]),
        epsilon = ORACLE
    );
    assert_abs_diff_eq!(
        uplift_at_k(&s, &y, &t, 0.3, UpliftStrategy::Overall).unwrap(),
        f(&reference["uplift_at_30pct_overall"]),
        epsilon = ORACLE
    );
    assert_abs_diff_eq!(
        uplift_at_k(&s, &y, &t, 0.3, UpliftStrategy::ByGroup).unwrap(),
        f(&reference["uplift_at_30pct_by_group"]),
        epsilon = ORACLE
    );
    let report = UpliftReport::compute(&s, &y, &t).unwrap();
    assert_abs_diff_eq!(
        report.qini_coefficient,
        f(&reference["qini_auc_score"]),
        epsilon = ORACLE
    );
    assert_eq!(report.deciles.iter().map(|d| d.n).sum::<u64>(), 1000);
}

/// Several arms against one shared control, per segment: every comparison
/// uses its own controls, Holm adjusts within it, and the cell counts add up.
/// The arms are randomized (customer id modulo 3), so the pooled
/// comparison is the headline when the design says so.
#[test]
fn several_arms_and_segments_close_the_loop() {
    let mut outcomes = Vec::new();
    for i in 0..3_000u64 {
        let arm = ["control", "coupon", "call"][(i % 3) as usize];
        let segment = if i % 2 == 0 { "new" } else { "loyal" };
        let base = if segment == "new" { 30 } else { 10 };
        let effect = match (arm, segment) {
            ("coupon", "new") => 15,
            ("call", _) => 3,
            _ => 0,
        };
        let churned = (i * 37 % 100) < base - effect;
        outcomes.push(
            CampaignOutcome::new(i, arm, churned)
                .segment(segment)
                .intervention(arm)
                .cost(if arm == "control" { 0.0 } else { 1.5 }),
        );
    }
    let report = CampaignEvaluator::new("control")
        .design(CampaignDesign::Randomized)
        .evaluate(&outcomes)
        .unwrap();
    assert_eq!(report.overall.arms.len(), 2);
    // By default the controls' segments match the arms': stratified by segment.
    let auto = CampaignEvaluator::new("control")
        .evaluate(&outcomes)
        .unwrap();
    let coupon = auto.arm("coupon").unwrap();
    assert_eq!(coupon.basis, EffectBasis::Stratified);
    assert_eq!(coupon.stratified.as_ref().map(|mh| mh.strata), Some(2));
    let raw: Vec<f64> = report.overall.arms.iter().map(|a| a.p_value).collect();
    let adjusted = holm(&raw).unwrap();
    for (a, h) in report.overall.arms.iter().zip(adjusted) {
        assert_eq!(a.p_value_holm, h);
        let direct = two_proportion_z_test(
            a.summary.churned,
            a.summary.n,
            report.overall.control.churned,
            report.overall.control.n,
        )
        .unwrap();
        assert_eq!(a.z, direct.z);
    }
    let new = report.segment("new").unwrap().comparison.as_ref().unwrap();
    let coupon_new = new.arm("coupon").unwrap();
    assert!(
        coupon_new.churn_difference_ci.upper < 0.0,
        "coupons work for new customers"
    );
    // Beta-update counts: per (arm, intervention, segment), summing to the arms.
    let coupon_cells: u64 = report
        .counts()
        .iter()
        .filter(|c| c.arm == "coupon")
        .map(|c| c.n)
        .sum();
    assert_eq!(coupon_cells, report.arm("coupon").unwrap().summary.n);
    // Controls name an intervention here, and not "coupon": no matched control.
    let coupon_iv = report.intervention("coupon").unwrap();
    assert!(coupon_iv.comparison.is_none() && coupon_iv.note.is_some());
}

#[test]
fn bad_outcomes_are_typed_errors_naming_the_record() {
    let outcomes = vec![
        CampaignOutcome::new(1u64, "control", false),
        CampaignOutcome::new(2u64, "sms", false).satisfaction(f64::INFINITY, 3.0),
    ];
    let e = CampaignEvaluator::new("control")
        .evaluate(&outcomes)
        .unwrap_err();
    assert!(matches!(
        e.kind(),
        ErrorKind::NonFinite { row: 1, column, .. } if column == "satisfaction_before"
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// With k arms against one control: rates and intervals in [0, 1],
    /// intervals contain their estimates, Holm p-values ≥ raw and monotone.
    #[test]
    fn report_invariants_hold_for_k_arms(
        arms in prop::collection::vec((1u64..200, 0.0..=1.0f64), 2..6),
    ) {
        let mut outcomes = Vec::new();
        let mut id = 0u64;
        for (k, (n, frac)) in arms.iter().enumerate() {
            let churned = ((*n as f64) * frac).floor() as u64;
            let arm = if k == 0 { "control".to_owned() } else { format!("arm{k}") };
            for i in 0..*n {
                outcomes.push(CampaignOutcome::new(id, arm.clone(), i < churned));
                id += 1;
            }
        }
        let report = CampaignEvaluator::new("control").evaluate(&outcomes).unwrap();
        let effects = &report.overall.arms;
        for a in effects {
            let rate = &a.summary.churn;
            prop_assert!((0.0..=1.0).contains(&rate.rate) && rate.ci.contains(rate.rate));
            prop_assert!(rate.ci.lower >= 0.0 && rate.ci.upper <= 1.0);
            prop_assert!(a.churn_difference_ci.contains(a.churn_difference));
            prop_assert!(a.p_value_holm >= a.p_value);
        }
        for a in effects {
            for b in effects {
                if a.p_value <= b.p_value {
                    prop_assert!(a.p_value_holm <= b.p_value_holm);
                }
            }
        }
    }
}

/// The example `evaluate_campaign`, compiled into this test binary and run
/// on the fixtures (cheaper than `cargo run --example`, and the same code).
#[cfg(feature = "csv")]
#[allow(dead_code)]
#[path = "../../examples/evaluate_campaign.rs"]
mod evaluate_campaign;

#[cfg(feature = "csv")]
mod example {
    use super::*;

    fn run(args: &[&str]) -> String {
        let args = evaluate_campaign::parse_args(args.iter().map(|a| (*a).to_owned())).unwrap();
        evaluate_campaign::run(&args).unwrap()
    }

    fn fixture(name: &str) -> String {
        format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn example_json_matches_campaign_reference() {
        let reference = campaign_reference();
        let path = fixture("campaign_outcomes.csv");
        let out = run(&[
            &path,
            "--arm",
            "arm",
            "--control",
            "control",
            "--outcome",
            "churned",
            "--segment",
            "segment",
            "--design",
            "randomized",
            "--id",
            "customer_id",
            "--json",
        ]);
        let v: Value = serde_json::from_str(&out).unwrap();
        let arm = &v["arms"]["treatment"];
        assert_eq!(arm["basis"], "pooled");
        assert_eq!(count(&arm["n"]), 2400);
        assert_eq!(count(&v["control"]["n"]), 800);
        assert_abs_diff_eq!(f(&arm["z"]), f(&reference["z"]), epsilon = ORACLE);
        assert_abs_diff_eq!(
            f(&arm["p_value"]),
            f(&reference["p_value_two_sided"]),
            epsilon = ORACLE
        );
        assert_eq!(f(&arm["p_value_holm"]), f(&arm["p_value"]));
        for (key, reference_key) in [
            ("rate_ci95", "treatment_rate_wilson_95"),
            ("diff_ci95", "diff_newcombe_95"),
        ] {
            for j in 0..2 {
                assert_abs_diff_eq!(
                    f(&arm[key][j]),
                    f(&reference[reference_key][j]),
                    epsilon = ORACLE
                );
            }
        }
        assert_abs_diff_eq!(f(&arm["diff_vs_control"]), 0.13 - 0.17, epsilon = 1e-15);
        let segments = v["segments"].as_object().unwrap();
        assert_eq!(segments.len(), 2);
        let n_new = count(&segments["new"]["control"]["n"])
            + count(&segments["new"]["arms"]["treatment"]["n"]);
        assert_eq!(n_new, 1600);
        assert!(v.get("uplift").is_none());
    }

    #[test]
    fn example_uplift_matches_scikit_uplift_reference() {
        let reference = uplift_reference();
        let path = fixture("uplift_data.csv");
        let out = run(&[
            &path,
            "--arm",
            "treatment",
            "--control",
            "0",
            "--outcome",
            "retained",
            "--outcome-is",
            "retained",
            "--score",
            "uplift_score",
            "--json",
        ]);
        let v: Value = serde_json::from_str(&out).unwrap();
        let u = &v["uplift"]["1"];
        assert_abs_diff_eq!(
            f(&u["qini_coefficient"]),
            f(&reference["qini_auc_score"]),
            epsilon = ORACLE
        );
        assert_abs_diff_eq!(
            f(&u["uplift_auc"]),
            f(&reference["uplift_auc_score"]),
            epsilon = ORACLE
        );
        assert_abs_diff_eq!(
            f(&u["uplift_at_30pct"]),
            f(&reference["uplift_at_30pct_overall"]),
            epsilon = ORACLE
        );
        assert_abs_diff_eq!(
            f(&u["uplift_at_30pct_by_group"]),
            f(&reference["uplift_at_30pct_by_group"]),
            epsilon = ORACLE
        );
        assert_eq!(u["deciles"].as_array().unwrap().len(), 10);
        // Churn rates: retained = 1 means not churned.
        let (_, y, t) = uplift_data();
        let treated_churned = y.iter().zip(&t).filter(|(y, t)| **t && !**y).count() as u64;
        assert_eq!(count(&v["arms"]["1"]["churned"]), treated_churned);
    }

    #[test]
    fn example_text_output_has_one_line_per_arm() {
        let path = fixture("campaign_outcomes.csv");
        let out = run(&[
            &path,
            "--arm",
            "arm",
            "--control",
            "control",
            "--outcome",
            "churned",
        ]);
        assert!(
            out.lines()
                .any(|l| l.starts_with("treatment") && l.contains("13.00%"))
        );
        assert!(
            out.lines()
                .any(|l| l.starts_with("control") && l.contains("17.00%"))
        );
    }

    #[test]
    fn example_reports_bad_cells_and_arguments() {
        let path = fixture("campaign_outcomes.csv");
        let args = evaluate_campaign::parse_args(
            [
                &path,
                "--arm",
                "arm",
                "--control",
                "control",
                "--outcome",
                "segment",
            ]
            .iter()
            .map(|a| (*a).to_owned()),
        )
        .unwrap();
        let e = evaluate_campaign::run(&args).unwrap_err().to_string();
        assert!(e.contains("row 0, column `segment`"), "{e}");
        let missing = evaluate_campaign::parse_args(["x.csv".to_owned()]);
        assert!(missing.is_err());
        let bad_flag = evaluate_campaign::parse_args(
            [
                "x.csv",
                "--arm",
                "a",
                "--control",
                "c",
                "--outcome",
                "o",
                "--outcom-is",
                "x",
            ]
            .iter()
            .map(|a| (*a).to_owned()),
        );
        assert!(bad_flag.is_err());
    }
}

fn stratified_reference() -> Value {
    serde_json::from_str(include_str!("../fixtures/stratified_reference.json")).unwrap()
}

/// A Simpson's-paradox campaign: risky customers were targeted, so 80% of
/// the treated are risky and 80% of the controls are safe.
///
/// ```text
/// segment  treated churned/n   control churned/n
/// risky      400/800 (50%)       120/200 (60%)     within: −10 pp
/// safe        10/200  (5%)        80/800 (10%)     within:  −5 pp
/// pooled     410/1000 (41%)      200/1000 (20%)    pooled:  +21 pp
/// ```
///
/// Controls were held out per (intervention, segment), as `HoldOut` does,
/// so the outcomes carry those strata and the headline is stratified.
fn simpson_outcomes() -> Vec<CampaignOutcome> {
    let mut outcomes = Vec::new();
    let mut id = 0u64;
    for (segment, arm, n, churned) in [
        ("risky", "discount", 800, 400),
        ("risky", "control", 200, 120),
        ("safe", "discount", 200, 10),
        ("safe", "control", 800, 80),
    ] {
        for i in 0..n {
            outcomes.push(
                CampaignOutcome::new(id, arm, i < churned)
                    .intervention("discount")
                    .segment(segment),
            );
            id += 1;
        }
    }
    outcomes
}

/// The stratified figures by hand (k = risky, safe; a, n1 treated churned
/// and size, c, n0 control; N = n1 + n0 = 1000 in both):
///
/// ```text
/// W      = Σ n1·n0/N = 800·200/1000 + 200·800/1000 = 160 + 160 = 320
/// RD_MH  = Σ (a·n0 − c·n1)/N / W
///        = [(400·200 − 120·800) + (10·800 − 80·200)]/1000 / 320
///        = (−16 − 8)/320 = −0.075                    (pooled: 0.41 − 0.20 = +0.21)
/// P      = Σ (n1²·c − n0²·a + n1·n0·(n0 − n1)/2)/N²
///        = (640000·120 − 40000·400 − 160000·300)/1e6 + (40000·80 − 640000·10 + 160000·300)/1e6
///        = 12.8 + 44.8 = 57.6
/// Q      = Σ (a·(n0 − c) + c·(n1 − a))/(2N)
///        = (400·80 + 120·400)/2000 + (10·720 + 80·190)/2000 = 40 + 11.2 = 51.2
/// Var    = (RD·P + Q)/W² = (−4.32 + 51.2)/102400 = 46.88/102400 = 4.578125e-4   (Sato)
/// CI     = −0.075 ± 1.959963984540054·√Var = [−0.1169365, −0.0330635]
/// CMH:   O − E = 410 − (800·520 + 200·90)/1000 = 410 − 434 = −24
///        V = Σ n1·n0·m1·m0/(N²(N − 1)) = 160000·(520·480 + 90·910)/(1e6·999) = 53040/999
///        χ² = 24²·999/53040 = 575424/53040 = 10.8488688;  z = −√χ²
/// RR_MH  = Σ a·n0/N / Σ c·n1/N = (80 + 8)/(96 + 16) = 11/14
/// Var ln RR_MH = Σ (n1·n0·m1 − a·c·N)/N² / (88·112) = (35.2 + 13.6)/9856   (Greenland–Robins)
/// ```
///
/// and against tests/fixtures/stratified_reference.json (statsmodels
/// 0.15.0 `StratifiedTable` for the CMH test and pooled risk ratio).
#[test]
fn targeted_campaign_is_compared_within_strata_despite_simpsons_paradox() {
    let reference = stratified_reference();
    let report = CampaignEvaluator::new("control")
        .evaluate(&simpson_outcomes())
        .unwrap();
    let arm = report.arm("discount").unwrap();
    assert_eq!(arm.basis, EffectBasis::Stratified);

    // Pooled and stratified estimates have opposite signs.
    assert_abs_diff_eq!(arm.pooled.estimate, 0.21, epsilon = 1e-15);
    assert!(arm.pooled.ci.lower > 0.0);
    assert_abs_diff_eq!(arm.churn_difference, -0.075, epsilon = 1e-15);
    assert!(arm.churn_difference_ci.upper < 0.0);

    let mh = arm.stratified.as_ref().unwrap();
    assert_eq!((mh.strata, mh.treated_n, mh.control_n), (2, 1000, 1000));
    let var = 46.88 / 102_400.0;
    assert_abs_diff_eq!(mh.risk_difference_variance, var, epsilon = 1e-18);
    let z = 1.959_963_984_540_054;
    assert_abs_diff_eq!(
        arm.churn_difference_ci.lower,
        -0.075 - z * var.sqrt(),
        epsilon = 1e-15
    );
    assert_abs_diff_eq!(
        arm.churn_difference_ci.upper,
        -0.075 + z * var.sqrt(),
        epsilon = 1e-15
    );
    assert_abs_diff_eq!(mh.statistic, 575_424.0 / 53_040.0, epsilon = 1e-13);
    assert_abs_diff_eq!(arm.z, -(575_424.0f64 / 53_040.0).sqrt(), epsilon = 1e-14);
    assert_abs_diff_eq!(mh.risk_ratio.unwrap(), 11.0 / 14.0, epsilon = 1e-15);
    let se = (48.8f64 / 9856.0).sqrt();
    let rr_ci = mh.risk_ratio_ci.unwrap();
    assert_abs_diff_eq!(rr_ci.lower, 11.0 / 14.0 * (-z * se).exp(), epsilon = 1e-15);
    assert_abs_diff_eq!(
        arm.relative_churn_reduction.unwrap(),
        3.0 / 14.0,
        epsilon = 1e-15
    );

    // The same against the fixture.
    assert_abs_diff_eq!(
        arm.pooled.estimate,
        f(&reference["pooled_difference"]),
        epsilon = ORACLE
    );
    assert_abs_diff_eq!(
        arm.churn_difference,
        f(&reference["mh_risk_difference"]),
        epsilon = ORACLE
    );
    assert_relative_eq!(
        mh.risk_difference_variance,
        f(&reference["mh_risk_difference_variance_sato"]),
        max_relative = ORACLE
    );
    for (got, want) in [
        (
            arm.churn_difference_ci.lower,
            &reference["mh_risk_difference_ci_95"][0],
        ),
        (
            arm.churn_difference_ci.upper,
            &reference["mh_risk_difference_ci_95"][1],
        ),
        (rr_ci.lower, &reference["mh_risk_ratio_ci_95"][0]),
        (rr_ci.upper, &reference["mh_risk_ratio_ci_95"][1]),
        (
            mh.risk_ratio.unwrap(),
            &reference["statsmodels_riskratio_pooled"],
        ),
        (mh.statistic, &reference["cmh_statistic"]),
        (arm.p_value, &reference["cmh_p_value"]),
    ] {
        assert_abs_diff_eq!(got, f(want), epsilon = ORACLE);
    }
    assert!(arm.p_value < 0.001);

    // The text says which is which.
    let text = report.to_string();
    assert!(
        text.contains("not comparable") && text.contains("Mantel–Haenszel"),
        "{text}"
    );
}

/// Declared randomized, the same outcomes lead with the pooled comparison
/// (the stratified one is still reported beside it).
#[test]
fn randomized_design_leads_with_the_pooled_comparison() {
    let report = CampaignEvaluator::new("control")
        .design(CampaignDesign::Randomized)
        .evaluate(&simpson_outcomes())
        .unwrap();
    let arm = report.arm("discount").unwrap();
    assert_eq!(arm.basis, EffectBasis::Pooled);
    assert_abs_diff_eq!(arm.churn_difference, 0.21, epsilon = 1e-15);
    assert_eq!(arm.churn_difference_ci, arm.pooled.ci);
    let direct = two_proportion_z_test(410, 1000, 200, 1000).unwrap();
    assert_eq!(arm.z, direct.z);
    assert!(
        arm.stratified
            .as_ref()
            .is_some_and(|mh| mh.risk_difference < 0.0)
    );
}
