//! The open core: rules on any profile field (built-in, customer
//! attributes, k-means clusters, columns of your own), written as
//! expressions, JSON or TOML, through the public API.

use chrono::{TimeZone, Utc};
use churnwise::ErrorKind;
use churnwise::alert::{AlertEngine, AlertPolicy};
use churnwise::features::{FeatureSpec, Snapshot};
use churnwise::records::{Customer, HistoryBuilder, Order};
use churnwise::rules::Condition;
use churnwise::score::{FieldKind, Profile, Profiles};
use churnwise::segment::KMeansSegmenter;
use proptest::prelude::*;

/// Six customers with plans, regions and tags, one order each.
fn profiles() -> Profiles {
    let day =
        |d: i64| Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + chrono::TimeDelta::days(d);
    let plans = ["gold", "gold", "basic", "basic", "gold", "basic"];
    let mut b = HistoryBuilder::new();
    for (i, plan) in plans.iter().enumerate() {
        let id = i as u64 + 1;
        let mut c = Customer::new(id, day(0))
            .with_plan(*plan)
            .with_region(if i % 2 == 0 { "north" } else { "south" });
        if i < 2 {
            c = c.with_tag("vip");
        }
        b.push_customer(c);
        b.push_order(Order::new(id, day(10 * i as i64), 20.0 * (i + 1) as f64));
    }
    let (history, _) = b.build().unwrap();
    let table = FeatureSpec::new(["recency_days", "spend_total"])
        .extract(&history, &Snapshot::new(day(100)))
        .unwrap();
    Profiles::new(table)
        .unwrap()
        .with_churn_probabilities(vec![0.9, 0.2, 0.7, 0.8, 0.65, 0.1])
        .unwrap()
        .attributes_from(&history)
        .unwrap()
        .with_numeric(
            "credit_limit",
            vec![6000.0, 500.0, 7000.0, 100.0, 5000.0, 9000.0],
        )
        .unwrap()
        .with_category(
            "contract",
            [
                "yearly", "monthly", "monthly", "yearly", "monthly", "yearly",
            ],
        )
        .unwrap()
}

fn hits(expr: &str, profiles: &Profiles) -> Vec<u64> {
    let rows = Condition::parse_expr(expr)
        .unwrap()
        .rows_meeting(profiles)
        .unwrap();
    profiles
        .ids()
        .iter()
        .zip(rows)
        .filter(|(_, hit)| *hit)
        .map(|(id, _)| id.to_string().parse().unwrap())
        .collect()
}

#[test]
fn rules_read_attributes_and_user_columns() {
    let p = profiles();
    // Recency as of day 100: customer i ordered on day 10 * (i - 1).
    assert_eq!(
        hits(r#"plan == "gold" and churn_probability > 0.6"#, &p),
        [1, 5]
    );
    assert_eq!(hits("plan == gold and recency_days > 85", &p), [1, 2]);
    assert_eq!(
        hits("credit_limit >= 5000 and contract == yearly", &p),
        [1, 6]
    );
    assert_eq!(hits("tags == vip or region in [south]", &p), [1, 2, 4, 6]);
    assert_eq!(hits("not tags == vip and plan != basic", &p), [5]);
    assert_eq!(hits("plan == platinum", &p), [0u64; 0]); // a label nobody has
    assert_eq!(p.field_kind("plan"), Some(FieldKind::Category));
    assert_eq!(p.field_kind("tags"), Some(FieldKind::Labels));
    assert_eq!(p.field_kind("credit_limit"), Some(FieldKind::Number));
    assert_eq!(p.field_kind("spend_total"), Some(FieldKind::Number));
}

#[test]
#[cfg(feature = "toml")]
fn a_toml_policy_alerts_on_plan_and_user_columns() {
    let policy = AlertPolicy::from_toml(
        r#"
        fields = ["credit_limit"]

        [[rules]]
        id = "gold_at_risk"
        condition = 'plan == "gold" and churn_probability > 0.6 and recency_days > 30'
        severity = "high"
        route = "key_accounts"

        [[rules]]
        id = "credit_exposure"
        condition = { all = [ { field = "credit_limit", ">=" = 5000 }, { field = "churn_probability", ">" = 0.6 } ] }
        severity = "medium"
        route = "finance"
        "#,
    )
    .unwrap();
    let engine = AlertEngine::new(policy);
    let profiles = profiles();
    let report = engine.evaluate(&profiles, None).unwrap();
    let mut fired: Vec<(String, String)> = report
        .alerts()
        .iter()
        .map(|a| (a.rule().to_owned(), a.customer().to_string()))
        .collect();
    fired.sort();
    // credit_limit >= 5000 and p > 0.6: customers 1 (6000, 0.9), 3 (7000, 0.7), 5 (5000, 0.65).
    let expected = [
        ("credit_exposure", "1"),
        ("credit_exposure", "3"),
        ("credit_exposure", "5"),
        ("gold_at_risk", "1"),
        ("gold_at_risk", "5"),
    ];
    assert_eq!(fired, expected.map(|(r, c)| (r.to_owned(), c.to_owned())));
    let gold = report
        .alerts()
        .iter()
        .find(|a| a.rule() == "gold_at_risk")
        .unwrap();
    assert_eq!(gold.reasons()[0].to_string(), "plan = gold (== gold)");
}

#[test]
fn unknown_fields_and_wrong_comparisons_name_the_path() {
    let p = profiles();
    let policy = |expr: &str| {
        AlertPolicy::from_json(&format!(
            r#"{{"fields": ["contract", "credit_limt"], "rules": [{{"id": "r", "condition": "{expr}", "severity": "low", "route": "sales"}}]}}"#
        ))
    };
    // Undeclared, a typo of a field of your own is caught at load.
    let undeclared = AlertPolicy::from_json(
        r#"{"fields": ["credit_limit"], "rules": [{"id": "r", "condition": "credit_limt > 1", "severity": "low", "route": "sales"}]}"#,
    )
    .unwrap_err();
    assert!(
        undeclared
            .to_string()
            .contains("did you mean `credit_limit`"),
        "{undeclared}"
    );
    let at_evaluation =
        |expr: &str| match AlertEngine::new(policy(expr).unwrap()).evaluate(&p, None) {
            Err(e) => e.into_kind(),
            Ok(_) => panic!("{expr} evaluated"),
        };
    match at_evaluation("credit_limt > 1") {
        ErrorKind::InvalidPolicy {
            path,
            reason,
            suggestions,
        } => {
            assert_eq!(path, "rules[0].condition.field");
            assert!(reason.contains("unknown field `credit_limt`"), "{reason}");
            assert_eq!(suggestions[0], "credit_limit");
        }
        other => panic!("{other:?}"),
    }
    // A category of your own compared by order, or with a number.
    for expr in [
        "contract > 2",
        "contract == 2",
        "relative change of contract < -0.5",
    ] {
        match at_evaluation(expr) {
            ErrorKind::InvalidPolicy { path, reason, .. } => {
                assert!(path.starts_with("rules[0].condition"), "{path}");
                assert!(reason.contains("`contract`"), "{expr}: {reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    // A built-in category is known at load time.
    let err = policy("plan > 3").unwrap_err().into_kind();
    assert!(
        matches!(&err, ErrorKind::InvalidPolicy { path, reason, .. }
        if path == "rules[0].condition" && reason.contains("category")),
        "{err:?}"
    );
    // A built-in field that is not set says how to set it.
    let bare = Profiles::new(p.table().clone()).unwrap();
    let err = Condition::parse_expr("plan == gold")
        .unwrap()
        .rows_meeting(&bare)
        .unwrap_err();
    assert!(err.to_string().contains("attributes_from"), "{err}");
    // Not JSON at all is its own kind.
    assert!(matches!(
        AlertPolicy::from_json("{rules").unwrap_err().kind(),
        ErrorKind::NotJson { .. }
    ));
}

#[test]
fn user_fields_follow_the_naming_rules() {
    let p = profiles();
    let n = p.len();
    let dup = p
        .clone()
        .with_numeric("recency_days", vec![0.0; n])
        .unwrap_err();
    assert!(matches!(dup.kind(), ErrorKind::DuplicateName { .. }));
    let builtin = p.clone().with_category("plan", vec!["x"; n]).unwrap_err();
    assert!(matches!(builtin.kind(), ErrorKind::DuplicateName { .. }));
    let short = p.clone().with_numeric("score", vec![1.0]).unwrap_err();
    assert!(matches!(short.kind(), ErrorKind::LengthMismatch { .. }));
    let nan = p
        .clone()
        .with_numeric("score", vec![f64::NAN; n])
        .unwrap_err();
    assert!(matches!(nan.kind(), ErrorKind::NonFinite { row: 0, .. }));
    // Hand-made profiles follow the same rules.
    let clash = Profile::new(1u64)
        .with_feature("x", 1.0)
        .with_labels("x", ["a"]);
    let err = Profiles::from_profiles(vec![clash]).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::DuplicateName { .. }),
        "{err:?}"
    );
    let tags_as_one = Profile::new(1u64)
        .with_feature("x", 1.0)
        .with_label("tags", "vip");
    let err = Profiles::from_profiles(vec![tags_as_one]).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::InvalidValue { .. }),
        "{err:?}"
    );
    // Replacing a field of your own keeps one column.
    let twice = p
        .with_numeric("score", vec![1.0; n])
        .unwrap()
        .with_numeric("score", vec![2.0; n])
        .unwrap();
    assert_eq!(
        twice
            .field_names()
            .iter()
            .filter(|f| **f == "score")
            .count(),
        1
    );
    assert_eq!(twice.numbers("score"), Some(&vec![2.0; n][..]));
}

#[test]
fn clusters_are_categories_rules_compare_with_numbers() {
    let p = profiles();
    let kmeans = KMeansSegmenter::new()
        .k(2)
        .columns(["recency_days", "spend_total"])
        .fit(p.table())
        .unwrap();
    let clustered = p.cluster_with(&kmeans).unwrap();
    let labels: Vec<&str> = clustered
        .iter()
        .map(|r| r.label("cluster").unwrap())
        .collect();
    let in_zero = hits("cluster == 0", &clustered);
    let expected: Vec<u64> = (1..=6).filter(|i| labels[*i as usize - 1] == "0").collect();
    assert_eq!(in_zero, expected);
    assert_eq!(hits(r#"cluster in ["0", 1]"#, &clustered).len(), 6);
}

#[test]
#[cfg(feature = "toml")]
fn playbooks_read_user_fields_and_segment_by_any_category() {
    use churnwise::retention::{Planner, Playbook};
    let playbook = Playbook::from_toml(
        r#"
        segment_by = "plan"
        fields = ["credit_limit"]

        [[interventions]]
        id = "credit_review"
        kind = "personal_call_back"
        cost = 10.0
        effect = 0.15
        effect_by_segment = { gold = 0.3 }
        eligibility = "credit_limit >= 5000"
        owner = "finance"
        "#,
    )
    .unwrap();
    // Worth its cost of 10 when p × 1000 × effect > 10: all four eligible
    // customers (credit limit ≥ 5000: 1, 3, 5, 6), customer 6 at 0.1 × 150 = 15.
    let p = profiles().with_customer_values(vec![1000.0; 6]).unwrap();
    let plan = Planner::new(1_000.0).plan(&p, &playbook).unwrap();
    let mut assigned: Vec<(String, String, f64)> = plan
        .assignments()
        .iter()
        .map(|a| (a.customer.to_string(), a.segment.clone(), a.effect))
        .collect();
    assigned.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        assigned,
        [
            ("1", "gold", 0.3),
            ("3", "basic", 0.15),
            ("5", "gold", 0.3),
            ("6", "basic", 0.15)
        ]
        .map(|(c, s, e)| (c.to_owned(), s.to_owned(), e))
    );
}

#[test]
fn hand_made_profiles_round_trip_through_borrowed_views() {
    let p = profiles();
    let owned: Vec<Profile> = p.iter().map(|r| r.to_profile()).collect();
    let back = Profiles::from_profiles(owned).unwrap();
    assert_eq!(back.field_names(), p.field_names());
    for (a, b) in p.iter().zip(back.iter()) {
        assert_eq!(a.to_profile(), b.to_profile());
        assert_eq!(a.label("plan"), b.label("plan"));
        assert_eq!(
            a.labels("tags").collect::<Vec<_>>(),
            b.labels("tags").collect::<Vec<_>>()
        );
    }
    assert!(p.get(p.len()).is_none());
}

/// Random conditions over a few fields.
fn condition() -> impl Strategy<Value = Condition> {
    let leaf = prop_oneof![
        (0.0..1.0f64).prop_map(|v| Condition::field("churn_probability").gt(v)),
        (0u32..200).prop_map(|d| Condition::field("recency_days").lte(format!("{d}d"))),
        prop::sample::select(vec!["gold", "basic", "two words", "and"])
            .prop_map(|l| Condition::field("plan").eq(l)),
        (-5.0..5.0f64, 0.0..5.0f64)
            .prop_map(|(a, w)| Condition::field("balance").between(a, a + w)),
        Just(Condition::field("tags").is_in(["vip", "b2b"])),
        (-1.0..0.0f64).prop_map(|v| Condition::field("spend_total").relative_change().lt(v)),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::all),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::any),
            inner.prop_map(Condition::not),
        ]
    })
}

proptest! {
    #[test]
    fn expressions_read_back_as_the_same_condition(c in condition()) {
        let text = c.to_string();
        prop_assert_eq!(Condition::parse_expr(&text).unwrap(), c.clone());
        // The JSON tree form is equivalent.
        let json = serde_json::to_string(&c).unwrap();
        prop_assert_eq!(Condition::from_json(&json).unwrap(), c);
    }
}

#[test]
fn categories_with_many_labels_match_past_the_first_64() {
    // 100 customers, each with a zone of its own: codes 0..100.
    let wide = Profiles::from_profiles(
        (1..=100u64)
            .map(|i| {
                Profile::new(i)
                    .with_feature("x", i as f64)
                    .with_label("zone", format!("z{i}"))
            })
            .collect(),
    )
    .unwrap();
    assert_eq!(
        hits("zone in [z3, z64, z65, z99, z-none]", &wide),
        [3, 64, 65, 99]
    );
    let not_80 = hits("not zone == z80", &wide);
    assert_eq!(not_80.len(), 99);
    assert!(!not_80.contains(&80));
}
