//! Campaign evaluation, uplift and power analysis through the public API,
//! against tests/fixtures/campaign_reference.json (statsmodels 0.15.0) and
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
use churnwise::retention::{CampaignEvaluator, CampaignOutcome, PowerAnalysis};
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
        .evaluate(&outcomes)
        .unwrap();
    assert_eq!(report.overall.arms.len(), 2);
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
            "--id",
            "customer_id",
            "--json",
        ]);
        let v: Value = serde_json::from_str(&out).unwrap();
        let arm = &v["arms"]["treatment"];
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
