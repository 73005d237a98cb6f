//! Survival analysis through the public API, against
//! tests/fixtures/survival_reference.json: lifelines 0.30.3 (KaplanMeierFitter,
//! multivariate_logrank_test, logrank_test, CoxPHFitter with Efron ties) on
//! tests/fixtures/survival_data.csv (2 000 subscriptions, whole-day
//! durations with many ties).

use approx::{assert_abs_diff_eq, assert_relative_eq};
use chrono::{TimeDelta, TimeZone, Utc};
use churnwise::ErrorKind;
use churnwise::analysis::survival::{
    CoxPh, KaplanMeier, Lifetimes, SurvivalData, logrank, logrank_between,
};
use churnwise::records::{Customer, HistoryBuilder, Interaction, InteractionKind, Order};
use churnwise::segment::ChurnDefinition;
use serde_json::Value;

/// The tolerances.
const KM_SURVIVAL: f64 = 1e-12;
const KM_INTERVAL: f64 = 1e-9;
const LOGRANK: f64 = 1e-8;
const COX_COEF: f64 = 1e-6;
const COX_SE: f64 = 1e-5;
const COX_LOG_LIKELIHOOD: f64 = 1e-6;
const CONCORDANCE: f64 = 1e-9;

fn reference() -> Value {
    serde_json::from_str(include_str!("../fixtures/survival_reference.json")).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

struct Rows {
    durations: Vec<f64>,
    events: Vec<bool>,
    plans: Vec<String>,
    fee: Vec<f64>,
    tickets: Vec<f64>,
    auto_renew: Vec<f64>,
}

fn rows() -> Rows {
    let mut r = Rows {
        durations: vec![],
        events: vec![],
        plans: vec![],
        fee: vec![],
        tickets: vec![],
        auto_renew: vec![],
    };
    for line in include_str!("../fixtures/survival_data.csv")
        .lines()
        .skip(1)
    {
        let c: Vec<&str> = line.split(',').collect();
        r.durations.push(c[0].parse().unwrap());
        r.events.push(c[1] == "1");
        r.plans.push(c[2].to_owned());
        r.fee.push(c[3].parse().unwrap());
        r.tickets.push(c[4].parse().unwrap());
        r.auto_renew.push(c[5].parse().unwrap());
    }
    r
}

fn data() -> SurvivalData {
    let r = rows();
    SurvivalData::new(r.durations, r.events)
        .unwrap()
        .with_groups("plan", &r.plans)
        .unwrap()
}

#[test]
fn kaplan_meier_matches_lifelines() {
    let reference = reference();
    let km = KaplanMeier::new().fit(&data()).unwrap();
    for (label, want) in reference["kaplan_meier"]["groups"].as_object().unwrap() {
        let curve = if label == "all" {
            km.overall()
        } else {
            km.group(label).unwrap()
        };
        assert_eq!(curve.n() as u64, want["n"].as_u64().unwrap(), "{label}");
        assert_eq!(
            curve.events() as u64,
            want["events"].as_u64().unwrap(),
            "{label}"
        );
        let times = floats(&want["times"]);
        let survival = floats(&want["survival"]);
        let lower = floats(&want["ci95_lower"]);
        let upper = floats(&want["ci95_upper"]);
        for (k, &t) in times.iter().enumerate() {
            assert_abs_diff_eq!(curve.survival_at(t), survival[k], epsilon = KM_SURVIVAL);
            let ci = curve.interval_at(t);
            assert_abs_diff_eq!(ci.lower, lower[k], epsilon = KM_INTERVAL);
            assert_abs_diff_eq!(ci.upper, upper[k], epsilon = KM_INTERVAL);
        }
        assert_eq!(curve.median(), want["median_survival"].as_f64(), "{label}");
    }
}

#[test]
fn logrank_matches_lifelines() {
    let reference = reference();
    let data = data();
    let all = logrank(&data).unwrap();
    let want = &reference["logrank_by_plan"];
    assert_eq!(u64::from(all.df), want["df"].as_u64().unwrap());
    assert_abs_diff_eq!(
        all.statistic,
        want["statistic"].as_f64().unwrap(),
        epsilon = LOGRANK
    );
    assert_abs_diff_eq!(all.p_value, want["p"].as_f64().unwrap(), epsilon = LOGRANK);
    assert_relative_eq!(
        all.p_value,
        want["p"].as_f64().unwrap(),
        max_relative = LOGRANK
    );
    let pair = logrank_between(&data, "basic", "pro").unwrap();
    let want = &reference["logrank_basic_vs_pro"];
    assert_abs_diff_eq!(
        pair.statistic,
        want["statistic"].as_f64().unwrap(),
        epsilon = LOGRANK
    );
    assert_relative_eq!(
        pair.p_value,
        want["p"].as_f64().unwrap(),
        max_relative = LOGRANK
    );
}

fn cox_data() -> SurvivalData {
    let r = rows();
    let dummy = |plan: &str| {
        r.plans
            .iter()
            .map(|p| f64::from(u8::from(p == plan)))
            .collect()
    };
    SurvivalData::new(r.durations.clone(), r.events.clone())
        .unwrap()
        .with_covariate("monthly_fee", r.fee.clone())
        .unwrap()
        .with_covariate("support_tickets", r.tickets.clone())
        .unwrap()
        .with_covariate("auto_renew", r.auto_renew.clone())
        .unwrap()
        .with_covariate("plan_basic", dummy("basic"))
        .unwrap()
        .with_covariate("plan_enterprise", dummy("enterprise"))
        .unwrap()
}

#[test]
fn cox_matches_lifelines() {
    let reference = reference();
    let want = &reference["cox"];
    let fit = CoxPh::new().fit(&cox_data()).unwrap();
    let names: Vec<&str> = want["covariates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let (coef, se, hr) = (
        floats(&want["coef"]),
        floats(&want["se"]),
        floats(&want["hazard_ratio"]),
    );
    let (lower, upper) = (
        floats(&want["coef_ci95_lower"]),
        floats(&want["coef_ci95_upper"]),
    );
    let (z, p) = (floats(&want["z"]), floats(&want["p"]));
    for (j, name) in names.iter().enumerate() {
        let c = fit.coefficient(name).unwrap();
        assert_abs_diff_eq!(c.coef, coef[j], epsilon = COX_COEF);
        assert_abs_diff_eq!(c.se, se[j], epsilon = COX_SE);
        assert_relative_eq!(c.hazard_ratio, hr[j], max_relative = COX_COEF);
        assert_abs_diff_eq!(c.interval.lower, lower[j], epsilon = COX_SE);
        assert_abs_diff_eq!(c.interval.upper, upper[j], epsilon = COX_SE);
        assert_abs_diff_eq!(c.z, z[j], epsilon = 1e-3);
        assert_relative_eq!(c.p_value, p[j], max_relative = 1e-3);
    }
    assert_abs_diff_eq!(
        fit.log_likelihood(),
        want["log_likelihood"].as_f64().unwrap(),
        epsilon = COX_LOG_LIKELIHOOD
    );
    assert_abs_diff_eq!(
        fit.concordance(),
        want["concordance"].as_f64().unwrap(),
        epsilon = CONCORDANCE
    );
    let lr = fit.likelihood_ratio_test();
    let want_lr = &want["log_likelihood_ratio_test"];
    assert_abs_diff_eq!(
        lr.statistic,
        want_lr["statistic"].as_f64().unwrap(),
        epsilon = 2.0 * COX_LOG_LIKELIHOOD
    );
    assert_eq!(u64::from(lr.df), want_lr["df"].as_u64().unwrap());
    let base = &want["baseline_survival_at"];
    for (t, s) in floats(&base["times"])
        .into_iter()
        .zip(floats(&base["survival"]))
    {
        assert_abs_diff_eq!(fit.baseline_survival_at(t), s, epsilon = COX_COEF);
    }
    // The average customer's predicted curve is the baseline.
    let curve = fit.survival_curve(fit.means()).unwrap();
    for (a, b) in curve.iter().zip(fit.baseline_survival()) {
        assert_abs_diff_eq!(*a, b, epsilon = 1e-12);
    }
}

#[test]
fn cox_names_a_collinear_covariate() {
    let r = rows();
    let doubled: Vec<f64> = r.fee.iter().map(|f| 2.0 * f + 1.0).collect();
    let data = cox_data().with_covariate("fee_doubled", doubled).unwrap();
    let err = CoxPh::new().fit(&data).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Fit { .. }));
    assert!(err.to_string().contains("`fee_doubled`"), "{err}");
}

#[test]
fn non_finite_input_is_refused() {
    let err = SurvivalData::new(vec![1.0, f64::NAN], vec![true, false]).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NonFinite { row: 1, .. }));
    let err = SurvivalData::new(vec![1.0, 2.0], vec![true, false])
        .unwrap()
        .with_covariate("x", vec![0.0, f64::INFINITY])
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::NonFinite { row: 1, .. }));
}

/// Hand-built records: signup on day 0 for everyone, as of day 200.
/// - A orders on days 10, 50, 120 → the 90-day gap after day 120 ends at
///   day 210, after the as-of time: censored at 200.
/// - B orders on day 20 then day 150 → lapsed on day 110 (event, 110).
/// - C never orders → churns 90 days after signup (event, 90).
/// - D signs up on day 250 → not yet a customer, left out.
/// - E cancels on day 70 (no orders).
#[test]
fn lifetimes_follow_the_churn_definition() {
    let day = |d: i64| Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + TimeDelta::days(d);
    let mut b = HistoryBuilder::new();
    for (id, signup) in [("A", 0), ("B", 0), ("C", 0), ("D", 250), ("E", 0)] {
        b.push_customer(Customer::new(id, day(signup)));
    }
    for (id, d) in [("A", 10), ("A", 50), ("A", 120), ("B", 20), ("B", 150)] {
        b.push_order(Order::new(id, day(d), 10.0));
    }
    b.push_interaction(Interaction::new(
        "E",
        day(70),
        InteractionKind::Cancellation,
    ));
    b.push_order(Order::new("D", day(260), 5.0));
    let (history, _) = b.build().unwrap();

    let data = Lifetimes::new(day(200)).extract(&history).unwrap();
    let ids: Vec<String> = data.ids().unwrap().iter().map(|i| i.to_string()).collect();
    assert_eq!(ids, ["A", "B", "C", "E"]);
    assert_eq!(data.durations(), [200.0, 110.0, 90.0, 90.0]);
    assert_eq!(data.events(), [false, true, true, true]);

    let cancelled = Lifetimes::new(day(200))
        .definition(ChurnDefinition::Cancellation)
        .extract(&history)
        .unwrap();
    assert_eq!(cancelled.durations(), [200.0, 200.0, 200.0, 70.0]);
    assert_eq!(cancelled.events(), [false, false, false, true]);

    // Nothing after the as-of time is read: as of day 100, B (next order on
    // day 150) is still censored, and A's later orders do not matter.
    let early = Lifetimes::new(day(100)).extract(&history).unwrap();
    assert_eq!(early.durations(), [100.0, 100.0, 90.0, 90.0]);
    assert_eq!(early.events(), [false, false, true, true]);

    let err = Lifetimes::new(day(200))
        .definition(ChurnDefinition::NoOrder { inactivity_days: 0 })
        .extract(&history)
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::InvalidParameter {
            name: "inactivity_days",
            ..
        }
    ));
}

proptest::proptest! {
    /// A Kaplan–Meier curve starts at most 1, never rises, stays in [0, 1],
    /// lies inside its interval, and its at-risk counts fall.
    #[test]
    fn kaplan_meier_is_a_survival_curve(
        rows in proptest::collection::vec((0u16..50, proptest::bool::ANY), 1..80)
    ) {
        let durations: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
        let events: Vec<bool> = rows.iter().map(|r| r.1).collect();
        let data = SurvivalData::new(durations, events).unwrap();
        let km = KaplanMeier::new().fit(&data).unwrap();
        let c = km.overall();
        proptest::prop_assert_eq!(c.at_risk()[0], rows.len());
        proptest::prop_assert_eq!(c.events(), rows.iter().filter(|r| r.1).count());
        for i in 0..c.times().len() {
            let s = c.survival()[i];
            proptest::prop_assert!((0.0..=1.0).contains(&s));
            proptest::prop_assert!(c.lower()[i] <= s + 1e-15 && s <= c.upper()[i] + 1e-15);
            if i > 0 {
                proptest::prop_assert!(s <= c.survival()[i - 1]);
                proptest::prop_assert!(c.at_risk()[i] < c.at_risk()[i - 1]);
            }
        }
    }
}
