//! Alert policies through the public API.

use chrono::{TimeDelta, TimeZone, Utc};
use churnwise::ErrorKind;
use churnwise::alert::{
    AlertEngine, AlertLog, AlertPolicy, AlertRule, Observed, Precedence, Severity,
};
use churnwise::rules::{Condition, Route};
use churnwise::score::{Profile, Profiles};
use churnwise::segment::{LifecycleStage, RfmSegment, Tier};
use proptest::prelude::*;
use serde_json::Value;

fn profile(id: u64, recency: f64, complaints: f64, spend: f64, p: f64) -> Profile {
    Profile::new(id)
        .with_feature("recency_days", recency)
        .with_feature("complaints_30d", complaints)
        .with_feature("spend_90d", spend)
        .with_churn_probability(p)
        .with_customer_value(1000.0)
        .with_lifecycle_stage(if recency > 60.0 {
            LifecycleStage::Silent
        } else {
            LifecycleStage::Active
        })
        .with_value_tier(if spend > 300.0 { Tier::High } else { Tier::Low })
        .with_rfm_segment(RfmSegment::Loyal)
}

fn now() -> Profiles {
    Profiles::from_profiles(vec![
        profile(1, 120.0, 0.0, 100.0, 0.9),
        profile(2, 10.0, 3.0, 500.0, 0.2),
        profile(3, 95.0, 2.0, 400.0, 0.5),
        profile(4, 5.0, 0.0, 50.0, 0.1),
    ])
    .unwrap()
}

fn before() -> Profiles {
    // Shuffled order and a customer (5) that left: matched by id.
    Profiles::from_profiles(vec![
        profile(3, 60.0, 0.0, 900.0, 0.3),
        profile(5, 1.0, 0.0, 10.0, 0.1),
        profile(1, 90.0, 0.0, 120.0, 0.8),
        profile(4, 4.0, 0.0, 0.0, 0.1),
    ])
    .unwrap()
}

fn policy() -> AlertPolicy {
    use Condition as C;
    AlertPolicy::new(vec![
        AlertRule::new(
            "risk",
            C::field("churn_probability").gt(0.7),
            Severity::Critical,
            Route::Sales,
        ),
        AlertRule::new(
            "silent",
            C::field("recency_days").gt("90d"),
            Severity::High,
            Route::Sales,
        ),
        AlertRule::new(
            "complaints",
            C::all([
                C::field("complaints_30d").gte(2),
                C::not(C::field("lifecycle_stage").is_in(["churned"])),
            ]),
            Severity::Medium,
            Route::CustomerService,
        ),
        AlertRule::new(
            "spend_halved",
            C::field("spend_90d").relative_change().lte(-0.5),
            Severity::Low,
            Route::Marketing,
        ),
        AlertRule::new(
            "vip_quiet",
            C::all([
                C::field("value_tier").eq("high"),
                C::field("recency_days").between(30, 100),
            ]),
            Severity::High,
            Route::Custom("key accounts".into()),
        ),
    ])
    .unwrap()
}

fn fired(report: &churnwise::alert::AlertReport) -> Vec<(String, String)> {
    report
        .alerts()
        .iter()
        .map(|a| (a.customer().to_string(), a.rule().to_owned()))
        .collect()
}

#[test]
fn rules_fire_as_computed_by_hand_in_priority_order() {
    let engine = AlertEngine::new(policy());
    let report = engine.evaluate(&now(), Some(&before())).unwrap();
    // Customer 1: risk 0.9 (critical), recency 120 > 90 (high); spend 120 → 100 is −17%.
    // Customer 2: complaints 3 (medium). Customer 3: recency 95 (high), complaints 2
    // (medium), spend 900 → 400 = −56% (low), high tier with recency 95 in [30, 100] (high).
    // Customer 4: spend 0 → 50 has no relative change.
    // Max 3 per customer by severity: customer 3 keeps silent, vip_quiet, complaints.
    let expected = [
        ("1", "risk"),
        ("1", "silent"),
        ("3", "silent"),
        ("3", "vip_quiet"),
        ("3", "complaints"),
        ("2", "complaints"),
    ];
    // Within a severity, higher expected loss first (p × 1000): 1 (900) before 3 (500) before 2 (200).
    assert_eq!(
        fired(&report),
        expected.map(|(c, r)| (c.to_owned(), r.to_owned()))
    );
    assert_eq!(report.capped(), 1); // customer 3's spend_halved
    assert_eq!(report.profiles_evaluated(), 4);
    assert!(report.skipped_rules().is_empty());

    let silent_3 = &report.alerts()[2];
    assert_eq!(silent_3.expected_loss(), Some(500.0));
    assert_eq!(
        silent_3.reasons()[0].to_string(),
        "recency_days = 95 (> 90d)"
    );
    let complaints_3 = &report.alerts()[4];
    let reasons: Vec<String> = complaints_3
        .reasons()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        reasons,
        [
            "complaints_30d = 2 (>= 2)",
            "lifecycle_stage = silent (not in [churned])"
        ]
    );

    // Every alert is in exactly one work list, the one of its route.
    let lists = report.work_lists();
    assert_eq!(
        lists.iter().map(|l| l.alerts().len()).sum::<usize>(),
        report.alerts().len()
    );
    for list in &lists {
        assert!(list.alerts().iter().all(|a| a.route() == list.route()));
    }
    let counts = report.counts();
    assert!(counts.contains(&(Route::Sales, Severity::Critical, 1)));
    assert!(counts.contains(&(Route::Custom("key accounts".into()), Severity::High, 1)));
}

#[test]
fn change_rules_need_the_previous_snapshot() {
    let policy = policy().with_max_alerts_per_customer(10);
    let engine = AlertEngine::new(policy.clone());
    let with = engine.evaluate(&now(), Some(&before())).unwrap();
    let halved: Vec<_> = with
        .alerts()
        .iter()
        .filter(|a| a.rule() == "spend_halved")
        .collect();
    assert_eq!(halved.len(), 1);
    match halved[0].reasons()[0].value() {
        Observed::Change {
            before,
            now,
            change,
            relative,
        } => {
            assert_eq!((*before, *now, *relative), (900.0, 400.0, true));
            approx::assert_relative_eq!(*change, -500.0 / 900.0);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        halved[0].reasons()[0].to_string(),
        "spend_90d 900 → 400 (-55.556%) (relative change <= -0.5)"
    );

    let engine = AlertEngine::new(policy);
    let without = engine.evaluate(&now(), None).unwrap();
    assert_eq!(without.skipped_rules(), ["spend_halved"]);
    assert!(without.alerts().iter().all(|a| a.rule() != "spend_halved"));
}

#[test]
fn precedence_by_rule_order_keeps_the_first_rules() {
    let policy = policy()
        .with_max_alerts_per_customer(1)
        .with_precedence(Precedence::RuleOrder);
    let engine = AlertEngine::new(policy);
    let report = engine.evaluate(&now(), Some(&before())).unwrap();
    // Customer 3: rule order silent (index 1) before complaints and vip_quiet.
    assert!(fired(&report).contains(&("3".into(), "silent".into())));
    assert_eq!(report.alerts().len(), 3); // customers 1, 2, 3; one each
}

#[test]
fn unknown_fields_and_bad_documents_are_typed_errors_with_paths() {
    // A typo in a document is caught as it loads, with the closest names.
    let doc = r#"{"rules": [{"id": "a", "severity": "low", "route": "sales",
            "condition": {"any": [{"field": "complaints_30d", ">": 1}, {"field": "complaint_30d", ">": 1}]}}]}"#;
    match AlertPolicy::from_json(doc).unwrap_err().into_kind() {
        ErrorKind::InvalidPolicy {
            path, suggestions, ..
        } => {
            assert_eq!(path, "rules[0].condition.any[1].field");
            assert_eq!(suggestions[0], "complaints_30d");
        }
        other => panic!("unexpected {other:?}"),
    }
    // Built in code, at the latest when checked against the profiles.
    let p = AlertPolicy::new(vec![AlertRule::new(
        "a",
        Condition::any([
            Condition::field("complaints_30d").gt(1),
            Condition::field("complaint_30d").gt(1),
        ]),
        Severity::Low,
        Route::Sales,
    )])
    .unwrap();
    assert_eq!(p.fields(), ["complaint_30d"]);
    match AlertEngine::new(p).check(&now()).unwrap_err().into_kind() {
        ErrorKind::InvalidPolicy {
            path, suggestions, ..
        } => {
            assert_eq!(path, "rules[0].condition.any[1].field");
            assert_eq!(suggestions[0], "complaints_30d");
        }
        other => panic!("unexpected {other:?}"),
    }
    let cases = [
        (r#"{"rules": []}"#, "rules"),
        (r#"{"rules": {}}"#, "rules"),
        (r#"{"rulez": []}"#, ""),
        (
            r#"{"rules": [{"id": "a", "severity": "low", "route": "sales", "condition": {"all": []}}]}"#,
            "rules[0].condition.all",
        ),
        (
            r#"{"rules": [{"id": "a", "severity": "urgent", "route": "sales", "condition": {"field": "x", ">": 1}}]}"#,
            "rules[0].severity",
        ),
        (
            r#"{"rules": [{"id": "a", "severity": "low", "route": "", "condition": {"field": "x", ">": 1}}]}"#,
            "rules[0].route",
        ),
        (
            r#"{"rules": [{"id": "a", "severity": "low", "condition": {"field": "x", ">": 1}}]}"#,
            "rules[0]",
        ),
        (
            r#"{"rules": [{"id": "a", "severity": "low", "route": "sales", "condition": {"field": "x", ">": 1}, "cooldown": "-3d"}]}"#,
            "rules[0].cooldown",
        ),
        (
            r#"{"rules": [{"id": "a", "severity": "low", "route": "sales", "condition": {"field": "x", ">": 1}},
                       {"id": "a", "severity": "low", "route": "sales", "condition": {"field": "x", ">": 1}}]}"#,
            "rules[1].id",
        ),
        (
            r#"{"rules": [{"id": "a", "severity": "low", "route": "sales", "condition": {"field": "churn_probability", ">=": 1.2}}]}"#,
            "rules[0].condition.>=",
        ),
        (
            r#"{"rules": [{"id": "a", "severity": "low", "route": "sales", "condition": {"field": "x", ">": 1}}], "max_alerts_per_customer": 0}"#,
            "max_alerts_per_customer",
        ),
    ];
    // Text that is not JSON is its own kind, with the position.
    assert!(matches!(
        AlertPolicy::from_json("{\"rules\": [")
            .unwrap_err()
            .into_kind(),
        ErrorKind::NotJson {
            line: 1,
            column: 11,
            ..
        }
    ));
    for (json, expected) in cases {
        match AlertPolicy::from_json(json).unwrap_err().into_kind() {
            ErrorKind::InvalidPolicy { path, .. } => assert_eq!(path, expected, "{json}"),
            other => panic!("{json}: unexpected {other:?}"),
        }
    }
    // A change rule on a field the previous profiles lack.
    let previous =
        Profiles::from_profiles(vec![Profile::new(1u64).with_feature("recency_days", 1.0)])
            .unwrap();
    let p = AlertPolicy::new(vec![AlertRule::new(
        "c",
        Condition::field("spend_90d").change().lt(-10),
        Severity::Low,
        Route::Marketing,
    )])
    .unwrap();
    assert!(matches!(
        AlertEngine::new(p)
            .evaluate(&now(), Some(&previous))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidPolicy { .. }
    ));
}

#[test]
fn an_unset_profile_field_names_the_method_that_sets_it() {
    // `now()` has churn probabilities but no engagement tiers.
    let p = AlertPolicy::from_json(
        r#"{"rules": [{"id": "a", "severity": "low", "route": "sales",
            "condition": {"all": [{"field": "churn_probability", ">": 0.5}, {"field": "engagement_tier", "==": "high"}]}}]}"#,
    )
    .unwrap();
    match AlertEngine::new(p).check(&now()).unwrap_err().into_kind() {
        ErrorKind::InvalidPolicy { path, reason, .. } => {
            assert_eq!(path, "rules[0].condition.all[1].field");
            assert!(reason.contains("Profiles::tier_engagement"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[cfg(feature = "toml")]
#[test]
fn the_example_policy_file_loads_and_round_trips() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/alert_policy.toml"
    ))
    .unwrap();
    let policy = AlertPolicy::from_toml(&text).unwrap();
    assert_eq!(policy.rules().len(), 8);
    assert_eq!(policy.max_alerts_per_customer(), 2);
    assert_eq!(
        policy.rules()[1].route(),
        &Route::Custom("key_accounts".into())
    );
    assert_eq!(policy.rules()[1].cooldown_days(), 30.0);
    assert_eq!(AlertPolicy::from_json(&policy.to_json()).unwrap(), policy);
    let via_serde: AlertPolicy = serde_json::from_str(&policy.to_json()).unwrap();
    assert_eq!(via_serde, policy);
}

#[test]
fn the_log_suppresses_repeats_until_cooldown_or_higher_severity() {
    let t0 = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
    let engine = AlertEngine::new(policy());
    let mut log = AlertLog::new(100).unwrap();
    let first = engine
        .evaluate_with_log(&now(), Some(&before()), &mut log, t0)
        .unwrap();
    assert_eq!(first.suppressed(), 0);
    assert_eq!(log.len(), first.alerts().len());
    let second = engine
        .evaluate_with_log(&now(), Some(&before()), &mut log, t0 + TimeDelta::days(3))
        .unwrap();
    // Everything raised is held back; customer 3's capped alert was never
    // raised, so it now takes the free slot.
    assert_eq!(second.suppressed(), first.alerts().len());
    assert_eq!(
        fired(&second),
        [("3".to_owned(), "spend_halved".to_owned())]
    );
    // A policy edit that raises `silent` to critical lets it through at once.
    let raised: Vec<AlertRule> = policy()
        .rules()
        .iter()
        .map(|r| {
            let severity = if r.id() == "silent" {
                Severity::Critical
            } else {
                r.severity()
            };
            AlertRule::new(r.id(), r.condition().clone(), severity, r.route().clone())
        })
        .collect();
    let raised = AlertEngine::new(AlertPolicy::new(raised).unwrap());
    let third = raised
        .evaluate_with_log(&now(), Some(&before()), &mut log, t0 + TimeDelta::days(4))
        .unwrap();
    assert_eq!(
        fired(&third),
        [("1", "silent"), ("3", "silent")].map(|(c, r)| (c.to_owned(), r.to_owned()))
    );
    // After the 7-day default cooldown everything fires again.
    let later = engine
        .evaluate_with_log(&now(), Some(&before()), &mut log, t0 + TimeDelta::days(12))
        .unwrap();
    assert_eq!(later.alerts().len(), first.alerts().len());
}

#[test]
fn evaluation_is_identical_on_one_and_two_threads() {
    let pop = churnwise::synth::PopulationConfig::default()
        .customers(6_000)
        .seed(11)
        .generate()
        .unwrap();
    let (history, _) = pop.history_builder().build().unwrap();
    let at = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    let spec = churnwise::features::FeatureSpec::all();
    let profiles = |m| {
        let table = spec
            .extract(&history, &churnwise::features::Snapshot::new(at(m)))
            .unwrap();
        let tiers = churnwise::segment::Tiers::value().fit(&table).unwrap();
        let p: Vec<f64> = table
            .column("recency_days")
            .unwrap()
            .iter()
            .map(|r| (r / 160.0).min(1.0))
            .collect();
        Profiles::new(table)
            .unwrap()
            .with_churn_probabilities(p)
            .unwrap()
            .stage_lifecycle(&churnwise::segment::LifecyclePolicy::default())
            .unwrap()
            .tier_value(&tiers)
            .unwrap()
            .values_from_column("spend_180d")
            .unwrap()
    };
    let (before, now) = (profiles(5), profiles(6));
    let engine = AlertEngine::new(AlertPolicy::default_policy());
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| engine.evaluate(&now, Some(&before)).unwrap())
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one, two);
    assert!(one.alerts().len() > 100, "{}", one.alerts().len());
    // Each default rule fires for someone on this population.
    for rule in AlertPolicy::default_policy().rules() {
        assert!(
            one.alerts().iter().any(|a| a.rule() == rule.id()),
            "{}",
            rule.id()
        );
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "rules",
            "id",
            "field",
            "condition",
            "severity",
            "route",
            "all",
            "any",
            "not",
            ">",
            "in",
            "between",
            "high",
            "sales",
            "recency_days",
            "churn_probability",
            "90d",
            "value_tier",
            "change",
            "relative",
            "cooldown",
        ])
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "rules",
                        "id",
                        "field",
                        "condition",
                        "severity",
                        "route",
                        "all",
                        "any",
                        "not",
                        ">",
                        "<=",
                        "in",
                        "between",
                        "==",
                        "change",
                        "cooldown",
                        "suggest",
                        "max_alerts_per_customer",
                        "precedence",
                    ]),
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// No document makes loading or evaluating panic: it loads, or it is a typed error.
    #[test]
    fn arbitrary_documents_never_panic(doc in json_value()) {
        let json = doc.to_string();
        if let Ok(policy) = AlertPolicy::from_json(&json) {
            let engine = AlertEngine::new(policy);
    let _ = engine.evaluate(&now(), Some(&before()));
        }
        let wrapped = serde_json::json!({"rules": [{"id": "r", "severity": "low", "route": "sales", "condition": doc}]});
        if let Ok(policy) = AlertPolicy::from_json(&wrapped.to_string()) {
            let engine = AlertEngine::new(policy);
    let _ = engine.evaluate(&now(), None);
        }
    }
}

#[test]
fn reasons_under_not_name_only_what_decided() {
    use Condition as C;
    let profiles = Profiles::from_profiles(vec![
        Profile::new(1u64)
            .with_feature("a", 0.0)
            .with_feature("b", 1.0)
            .with_feature("c", 0.0),
    ])
    .unwrap();
    let rule = C::not(C::all([
        C::field("a").gt(0.5),
        C::any([C::field("b").gt(0.5), C::field("c").gt(0.5)]),
    ]));
    let policy =
        AlertPolicy::new(vec![AlertRule::new("r", rule, Severity::Low, Route::Sales)]).unwrap();
    let engine = AlertEngine::new(policy);
    let report = engine.evaluate(&profiles, None).unwrap();
    let reasons: Vec<String> = report.alerts()[0]
        .reasons()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(reasons, ["a = 0 (not > 0.5)"]);
}

#[test]
fn unknown_changes_never_fire_even_under_not() {
    use Condition as C;
    // Customer 2 is new (not in the previous snapshot); customer 4's spend was 0.
    let rule = C::not(C::field("spend_90d").relative_change().lte(-0.5));
    let policy = AlertPolicy::new(vec![AlertRule::new(
        "steady",
        rule,
        Severity::Low,
        Route::Marketing,
    )])
    .unwrap();
    let engine = AlertEngine::new(policy);
    let report = engine.evaluate(&now(), Some(&before())).unwrap();
    // 1: 120 → 100 is −17% (steady); 3: 900 → 400 is −56% (not steady).
    assert_eq!(fired(&report), [("1".to_owned(), "steady".to_owned())]);
    assert!(report.alerts().iter().all(|a| !a.reasons().is_empty()));
}

#[test]
fn conditions_built_in_code_are_validated_like_documents() {
    use Condition as C;
    let policy = |c| AlertPolicy::new(vec![AlertRule::new("r", c, Severity::Low, Route::Sales)]);
    let path = |c| match policy(c).unwrap_err().into_kind() {
        ErrorKind::InvalidPolicy { path, .. } => path,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(
        path(C::all([C::field("a").gt(1), C::any([])])),
        "rules[0].condition.all[1].any"
    );
    assert_eq!(
        path(C::field("a").between(5, 1)),
        "rules[0].condition.between"
    );
    assert_eq!(path(C::field("a").gt(f64::NAN)), "rules[0].condition.>");
    assert_eq!(
        path(C::field("recency_days").relative_change().gt("12h")),
        "rules[0].condition.>"
    );
    assert_eq!(
        path(C::field("value_tier").change().eq("high")),
        "rules[0].condition"
    );
}

/// `depth` levels of `all` (the JSON shape that nests deepest) around an `in` test.
fn nested_all(depth: usize) -> Condition {
    let mut c = Condition::field("recency_days").is_in(["90d", "120d"]);
    for _ in 1..depth {
        c = Condition::all([c]);
    }
    c
}

#[test]
fn nesting_past_the_limit_is_a_typed_error_everywhere_and_never_overflows() {
    use churnwise::rules::MAX_DEPTH;
    // Far past the limit, built in code: every entry point refuses it without recursing.
    let deep = nested_all(20_000);
    assert_eq!(deep.depth(), 20_000);
    let too_large = |e: churnwise::Error| match e.into_kind() {
        ErrorKind::TooLarge {
            what, size, limit, ..
        } => (what, size, limit),
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(
        too_large(deep.validate().unwrap_err()),
        ("nesting depth", 20_000, MAX_DEPTH)
    );
    assert_eq!(too_large(deep.rows_meeting(&now()).unwrap_err()).1, 20_000);
    let rule = AlertRule::new("deep", deep.clone(), Severity::Low, Route::Sales);
    let err = AlertPolicy::new(vec![rule.clone()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "rules[0].condition: nesting depth 20000 exceeds the limit of 32"
    );
    assert!(serde_json::to_string(&rule).is_err());
    assert!(serde_json::to_string(&deep).is_err());
    assert!(deep.to_string().starts_with("(((")); // Display walks without recursion
    assert!(format!("{deep:?}").contains("depth: 20000"));
    drop(deep);
    // Dropping a million levels does not recurse either.
    let mut c = Condition::field("recency_days").gt(1);
    for _ in 0..1_000_000 {
        c = Condition::not(c);
    }
    drop(c);

    // The same limit for expressions, JSON and TOML.
    let expr = format!("{}recency_days > 1", "not ".repeat(MAX_DEPTH));
    assert_eq!(
        too_large(Condition::parse_expr(&expr).unwrap_err()).2,
        MAX_DEPTH
    );
    let json = serde_json::to_string(&nested_all(MAX_DEPTH)).unwrap();
    let deeper = format!(r#"{{"all": [{json}]}}"#);
    assert!(matches!(
        Condition::from_json(&deeper).unwrap_err().kind(),
        ErrorKind::TooLarge { limit: 32, .. }
    ));
    // Past serde_json's own nesting limit, the same error.
    let deepest = format!("{}{json}{}", r#"{"not": "#.repeat(200), "}".repeat(200));
    assert!(matches!(
        Condition::from_json(&deepest).unwrap_err().kind(),
        ErrorKind::TooLarge { limit: 32, .. }
    ));
    #[cfg(feature = "toml")]
    {
        let toml_condition = |depth: usize| {
            let mut c = r#"{ field = "recency_days", ">" = 1 }"#.to_owned();
            for _ in 1..depth {
                c = format!("{{ all = [{c}] }}");
            }
            format!(
                "[[rules]]\nid = \"deep\"\nseverity = \"low\"\nroute = \"sales\"\ncondition = {c}\n"
            )
        };
        assert_eq!(
            AlertPolicy::from_toml(&toml_condition(MAX_DEPTH))
                .unwrap()
                .rules()[0]
                .condition()
                .depth(),
            MAX_DEPTH
        );
        assert!(matches!(
            AlertPolicy::from_toml(&toml_condition(MAX_DEPTH + 1))
                .unwrap_err()
                .kind(),
            ErrorKind::TooLarge { limit: 32, .. }
        ));
    }
}

#[test]
fn a_policy_at_the_nesting_limit_round_trips_through_json() {
    let rule = AlertRule::new(
        "deep",
        nested_all(churnwise::rules::MAX_DEPTH),
        Severity::Low,
        Route::Sales,
    );
    let policy = AlertPolicy::new(vec![rule]).unwrap();
    let back = AlertPolicy::from_json(&policy.to_json()).unwrap();
    assert_eq!(back, policy);
    let engine = AlertEngine::new(back);
    let report = engine.evaluate(&now(), None).unwrap();
    assert_eq!(report.alerts().len(), 1); // customer 1, recency 120
}

#[test]
fn alerts_keep_a_few_reasons_and_count_the_rest() {
    use churnwise::alert::MAX_REASONS;
    use churnwise::rules::MAX_CONDITIONS;
    let leaves: u32 = 50;
    let any =
        Condition::any((0..leaves).map(|k| Condition::field("recency_days").gt(f64::from(k))));
    let policy = AlertPolicy::new(vec![AlertRule::new(
        "many",
        any,
        Severity::Low,
        Route::Sales,
    )])
    .unwrap();
    let engine = AlertEngine::new(policy);
    let report = engine.evaluate(&now(), None).unwrap();
    let first = &report.alerts()[0];
    assert_eq!(first.customer().to_string(), "1"); // recency 120 meets all 50
    assert_eq!(first.reasons().len(), MAX_REASONS);
    assert_eq!(first.omitted_reasons(), leaves as usize - MAX_REASONS);
    let json = serde_json::to_value(first).unwrap();
    assert_eq!(json["omitted_reasons"], leaves as usize - MAX_REASONS);

    // A policy holds at most MAX_CONDITIONS comparisons and groups.
    let big = || {
        Condition::any(
            (0..MAX_CONDITIONS / 2).map(|k| Condition::field("recency_days").gt(k as f64)),
        )
    };
    let err = AlertPolicy::new(vec![
        AlertRule::new("a", big(), Severity::Low, Route::Sales),
        AlertRule::new("b", big(), Severity::Low, Route::Sales),
    ])
    .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::TooLarge {
            what: "number of conditions",
            size: 10_002,
            limit: 10_000,
            ..
        }
    ));
}

#[test]
fn durations_follow_one_overflow_rule_however_written() {
    let doc = |cooldown: &str, threshold: &str| {
        format!(
            r#"{{"rules": [{{"id": "r", "severity": "low", "route": "sales", "cooldown": {cooldown},
                "condition": {{"field": "recency_days", ">": {threshold}}}}}]}}"#
        )
    };
    let reason = |text: String| match AlertPolicy::from_json(&text).unwrap_err().into_kind() {
        ErrorKind::InvalidPolicy { path, reason, .. } => (path, reason),
        other => panic!("unexpected {other:?}"),
    };
    for (cooldown, threshold, path) in [
        (r#""99999999999999999999d""#, "1", "rules[0].cooldown"),
        ("1e20", "1", "rules[0].cooldown"),
        (
            r#""1d""#,
            r#""99999999999999999999h""#,
            "rules[0].condition.>",
        ),
    ] {
        let (at, why) = reason(doc(cooldown, threshold));
        assert_eq!(at, path);
        assert!(
            why.contains("longer than the limit of 365250 days"),
            "{why}"
        );
    }
    assert!(AlertPolicy::from_json(&doc(r#""365250d""#, r#""52w""#)).is_ok());
    let rule = AlertRule::new(
        "r",
        Condition::field("recency_days").gt(1),
        Severity::Low,
        Route::Sales,
    )
    .with_cooldown_days(1e20);
    assert!(AlertPolicy::new(vec![rule]).is_err());
}

#[test]
#[cfg(feature = "toml")]
fn policies_save_and_load_by_path_and_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("churnwise-policy-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // At the nesting limit, with a field of your own: both formats round-trip.
    let rule = AlertRule::new(
        "deep",
        Condition::all([
            nested_all(churnwise::rules::MAX_DEPTH - 1),
            Condition::field("credit_limit").lt(100),
        ]),
        Severity::Low,
        Route::Sales,
    );
    let policy = AlertPolicy::new(vec![rule]).unwrap();
    for name in ["p.json", "p.toml"] {
        policy.save(dir.join(name)).unwrap();
        assert_eq!(AlertPolicy::load(dir.join(name)).unwrap(), policy, "{name}");
    }
    std::fs::write(
        dir.join("bad.toml"),
        "[[rules]]\nid = \"r\"\nseverity = \"low\"\nroute = \"sales\"\ncondition = \"churn_probability > 7\"\n",
    )
    .unwrap();
    let err = AlertPolicy::load(dir.join("bad.toml")).unwrap_err();
    let file = dir.join("bad.toml").display().to_string();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidPolicy { path, .. } if path == &format!("{file}: rules[0].condition.>")),
        "{err}"
    );
    let err = AlertPolicy::load(dir.join("missing.json")).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Io { source_name, .. } if source_name.ends_with("missing.json"))
    );
    let err = policy.save(dir.join("p.yaml")).unwrap_err();
    assert!(
        err.to_string().contains("p.yaml: the extension must be"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[cfg(feature = "toml")]
fn hostile_nesting_in_toml_and_json_documents_is_an_error_not_a_crash() {
    // Far past every limit, in the document syntax itself.
    let toml = format!("x = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert!(AlertPolicy::from_toml(&toml).is_err());
    let inline = format!("x = {}1{}\n", "{a = ".repeat(100_000), "}".repeat(100_000));
    assert!(AlertPolicy::from_toml(&inline).is_err());
    let json = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(AlertPolicy::from_json(&json).is_err());
    assert!(churnwise::retention::Playbook::from_toml(&toml).is_err());
}

/// Subscription profiles: (id, has_subscription, days_to_renewal,
/// engagement_trend_30d, payment_failures_30d, downgrades_90d).
fn subscriber(
    id: u64,
    has: f64,
    renewal: f64,
    trend: f64,
    failures: f64,
    downgrades: f64,
) -> Profile {
    Profile::new(id)
        .with_feature("has_subscription", has)
        .with_feature("days_to_renewal", renewal)
        .with_feature("engagement_trend_30d", trend)
        .with_feature("payment_failures_30d", failures)
        .with_feature("downgrades_90d", downgrades)
}

#[test]
fn default_subscription_policy_fires_on_hand_built_profiles() {
    let profiles = Profiles::from_profiles(vec![
        subscriber(1, 1.0, 30.0, -0.2, 0.0, 0.0), // renewal exactly 30 days away, engagement down
        subscriber(2, 1.0, 31.0, -1.0, 0.0, 0.0), // renewal too far
        subscriber(3, 0.0, 0.0, -1.0, 0.0, 0.0),  // no subscription (days_to_renewal 0 means none)
        subscriber(4, 1.0, 5.0, 0.0, 1.0, 0.0),   // engagement flat, one payment failure
        subscriber(5, 1.0, 90.0, 0.5, 2.0, 1.0),  // two failures and a downgrade
    ])
    .unwrap();
    let policy = AlertPolicy::default_subscription_policy();
    let engine = AlertEngine::new(policy.clone());
    let report = engine.evaluate(&profiles, None).unwrap();
    let fired: Vec<(u64, &str, &str, Severity)> = report
        .alerts()
        .iter()
        .map(|a| {
            (
                a.customer().as_u64().unwrap(),
                a.rule(),
                a.route().name(),
                a.severity(),
            )
        })
        .collect();
    assert_eq!(
        fired,
        [
            (1, "renewal_due_engagement_down", "sales", Severity::High),
            (5, "repeated_payment_failures", "billing", Severity::High),
            (5, "recent_downgrade", "sales", Severity::Medium),
        ]
    );
    // Serde data like the default policy, and refused on profiles without subscription features.
    assert_eq!(AlertPolicy::from_json(&policy.to_json()).unwrap(), policy);
    let plain = Profiles::from_profiles(vec![Profile::new(1u64).with_feature("recency_days", 3.0)])
        .unwrap();
    let err = engine.check(&plain).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidPolicy { .. }),
        "{err}"
    );
    // The default policy is unchanged.
    assert_eq!(AlertPolicy::default_policy().rules().len(), 6);
}
