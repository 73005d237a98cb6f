//! Retention planning through the public API: optimality against brute
//! force, budgets and capacities, hold-outs, effect learning.

use churnwise::retention::{
    EXACT_CUSTOMERS, HoldOut, Intervention, InterventionKind, Planner, Playbook, SegmentBy,
    Unprofitable,
};
use churnwise::rules::{Condition, Route};
use churnwise::score::{Profile, Profiles};
use churnwise::segment::LifecycleStage;
use proptest::prelude::*;

fn profiles(data: &[(f64, f64, bool)]) -> Profiles {
    Profiles::from_profiles(
        data.iter()
            .enumerate()
            .map(|(i, &(p, v, silent))| {
                Profile::new(i as u64)
                    .with_feature("complaints_90d", (i % 3) as f64)
                    .with_churn_probability(p)
                    .with_customer_value(v)
                    .with_lifecycle_stage(if silent {
                        LifecycleStage::Silent
                    } else {
                        LifecycleStage::Active
                    })
            })
            .collect(),
    )
    .unwrap()
}

fn playbook(costs: [f64; 3], effects: [f64; 3]) -> Playbook {
    Playbook::new(
        vec![
            Intervention::new(
                "a",
                InterventionKind::Discount,
                costs[0],
                effects[0],
                Route::Marketing,
            ),
            Intervention::new(
                "b",
                InterventionKind::VipService,
                costs[1],
                effects[1],
                Route::CustomerService,
            )
            .with_segment_effect("silent", (effects[1] * 1.5).min(1.0)),
            Intervention::new(
                "c",
                InterventionKind::FreeRepair,
                costs[2],
                effects[2],
                Route::AfterSales,
            )
            .with_eligibility(Condition::field("complaints_90d").gte(1)),
        ],
        SegmentBy::LifecycleStage,
    )
    .unwrap()
}

/// The best net value by enumerating every assignment (4^n).
fn brute_force(
    data: &[(f64, f64, bool)],
    pb: &Playbook,
    budget: f64,
    team_cap: Option<(Route, usize)>,
) -> f64 {
    let n = data.len();
    let mut best: f64 = 0.0;
    for code in 0..4usize.pow(n as u32) {
        let (mut c, mut cost, mut value) = (code, 0.0, 0.0);
        let mut team_used = 0;
        let mut ok = true;
        for (i, &(p, v, silent)) in data.iter().enumerate() {
            let k = c % 4;
            c /= 4;
            if k == 3 {
                continue;
            }
            let iv = &pb.interventions()[k];
            if k == 2 && i % 3 == 0 {
                ok = false; // not eligible for repair
                break;
            }
            let e = iv.effect_for(Some(if silent { "silent" } else { "active" }));
            cost += iv.cost();
            value += p * v * e - iv.cost();
            if let Some((route, _)) = &team_cap
                && iv.owner() == route
            {
                team_used += 1;
            }
        }
        if ok && cost <= budget + 1e-9 && team_cap.as_ref().is_none_or(|(_, cap)| team_used <= *cap)
        {
            best = best.max(value);
        }
    }
    best
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Small plans are within 1% of the brute-force optimum (they are solved
    /// exactly), never over budget or capacity, never with a losing action.
    #[test]
    fn small_plans_match_brute_force(
        data in prop::collection::vec((0.05f64..0.95, 50.0f64..800.0, any::<bool>()), 3..8),
        costs in prop::array::uniform3(5.0f64..80.0),
        effects in prop::array::uniform3(0.05f64..0.6),
        budget in 20.0f64..300.0,
        cap in 0usize..3,
    ) {
        let pb = playbook(costs, effects);
        let prof = profiles(&data);
        let plan = Planner::new(budget)
            .team_capacity(Route::CustomerService, cap)
            .plan(&prof, &pb).unwrap();
        let best = brute_force(&data, &pb, budget, Some((Route::CustomerService, cap)));
        let got = plan.summary().net_value();
        prop_assert!(got >= best * 0.99 - 1e-9, "plan {got} vs optimum {best}");
        prop_assert!(got <= best + 1e-6);
        prop_assert!(plan.summary().cost() <= budget + 1e-9);
        prop_assert!(plan.assignments().iter().filter(|a| a.owner == Route::CustomerService).count() <= cap);
        prop_assert!(plan.assignments().iter().all(|a| a.net_value() > 0.0));
        prop_assert!(plan.summary().upper_bound() >= got - 1e-6);
    }
}

#[test]
fn large_plans_are_within_one_percent_of_the_lp_bound() {
    // 3 000 customers with varied risk and value; a budget for about a fifth of them.
    let data: Vec<(f64, f64, bool)> = (0..3_000)
        .map(|i| {
            let u = ((i * 7919) % 1000) as f64 / 1000.0;
            let w = ((i * 104_729) % 997) as f64 / 997.0;
            (0.05 + 0.9 * u * u, 80.0 + 900.0 * w, i % 4 == 0)
        })
        .collect();
    assert!(data.len() > EXACT_CUSTOMERS);
    let pb = playbook([12.0, 45.0, 70.0], [0.15, 0.3, 0.4]);
    let plan = Planner::new(15_000.0).plan(&profiles(&data), &pb).unwrap();
    let s = plan.summary();
    assert!(s.cost() <= 15_000.0);
    assert!(
        s.cost() > 14_800.0,
        "budget left unused: {}",
        15_000.0 - s.cost()
    );
    assert!(s.optimality_gap() < 0.01, "gap {}", s.optimality_gap());
    let roi = s.roi().unwrap();
    assert!((roi - s.net_value() / s.cost()).abs() < 1e-12);
    let by: f64 = plan.by_intervention().iter().map(|(_, t)| t.cost()).sum();
    assert!((by - s.cost()).abs() < 1e-6);
}

#[test]
fn capacities_and_missing_inputs() {
    let data: Vec<(f64, f64, bool)> = (0..100).map(|i| (0.6, 500.0 + i as f64, false)).collect();
    let pb = Playbook::new(
        vec![
            Intervention::new(
                "call",
                InterventionKind::PersonalCallBack,
                10.0,
                0.5,
                Route::Sales,
            )
            .with_capacity(7),
            Intervention::new(
                "mail",
                InterventionKind::CareMessage,
                1.0,
                0.05,
                Route::Marketing,
            ),
        ],
        SegmentBy::LifecycleStage,
    )
    .unwrap();
    let plan = Planner::new(1e6)
        .team_capacity(Route::Marketing, 20)
        .plan(&profiles(&data), &pb)
        .unwrap();
    let count = |id: &str| {
        plan.assignments()
            .iter()
            .filter(|a| a.intervention() == id)
            .count()
    };
    assert_eq!((count("call"), count("mail")), (7, 20));
    // The calls go to the most valuable customers.
    assert!(
        plan.assignments()
            .iter()
            .filter(|a| a.intervention() == "call")
            .all(|a| a.customer_value >= 593.0)
    );

    let bare = Profiles::from_profiles(vec![
        Profile::new(1u64).with_lifecycle_stage(LifecycleStage::New),
    ])
    .unwrap();
    let err = Planner::new(10.0).plan(&bare, &pb).unwrap_err();
    assert!(err.to_string().contains("churn_probability"), "{err}");
    assert!(Planner::new(-1.0).validate().is_err());
    assert!(Planner::new(-1.0).plan(&bare, &pb).is_err());
}

#[test]
fn negative_actions_only_when_asked() {
    let data = [(0.1, 50.0, false), (0.2, 60.0, false)]; // p·v·e far below the cost
    let pb = playbook([40.0, 45.0, 50.0], [0.2, 0.2, 0.2]);
    let none = Planner::new(1000.0).plan(&profiles(&data), &pb).unwrap();
    assert!(none.assignments().is_empty());
    let forced = Planner::new(1000.0)
        .unprofitable(Unprofitable::Assign)
        .plan(&profiles(&data), &pb)
        .unwrap();
    assert_eq!(forced.assignments().len(), 2);
    assert!(forced.summary().net_value() < 0.0);
}

#[test]
fn hold_outs_are_stratified_and_reproducible() {
    let data: Vec<(f64, f64, bool)> = (0..400).map(|i| (0.5, 300.0, i % 2 == 0)).collect();
    let pb = Playbook::new(
        vec![Intervention::new(
            "call",
            InterventionKind::PersonalCallBack,
            5.0,
            0.3,
            Route::Sales,
        )],
        SegmentBy::LifecycleStage,
    )
    .unwrap();
    let plan = Planner::new(1e6).plan(&profiles(&data), &pb).unwrap();
    let control = HoldOut::new(0.25, 1).split(&plan).unwrap();
    for segment in ["silent", "active"] {
        let held = plan
            .assignments()
            .iter()
            .zip(&control)
            .filter(|(a, c)| **c && a.segment == segment)
            .count();
        assert_eq!(held, 50, "{segment}");
    }
    assert_ne!(HoldOut::new(0.25, 2).split(&plan).unwrap(), control);
    assert!(HoldOut::new(1.0, 1).split(&plan).is_err());
}

#[test]
fn playbooks_load_from_documents_with_paths_in_errors() {
    let pb = Playbook::default_playbook();
    let json = serde_json::to_string_pretty(&pb).unwrap();
    assert_eq!(Playbook::from_json(&json).unwrap(), pb);
    let bad = r#"{"interventions": [
        {"id": "a", "kind": "discount", "cost": 5, "effect": 0.2, "owner": "marketing"},
        {"id": "a", "kind": "discount", "cost": 5, "effect": 0.2, "owner": "marketing"}]}"#;
    match Playbook::from_json(bad).unwrap_err().into_kind() {
        churnwise::ErrorKind::InvalidPolicy { path, .. } => assert_eq!(path, "interventions[1].id"),
        other => panic!("unexpected {other:?}"),
    }
    let negative = r#"{"interventions": [{"id": "a", "kind": "discount", "cost": -5, "effect": 0.2, "owner": "marketing"}]}"#;
    assert!(
        Playbook::from_json(negative)
            .unwrap_err()
            .to_string()
            .contains("interventions[0].cost")
    );
}

#[test]
fn negative_actions_never_displace_positive_ones() {
    // p·value = 10 each; "cheap" nets −1, "big" nets +2 (reviewer's case).
    let data: Vec<(f64, f64, bool)> = (0..30).map(|_| (0.5, 20.0, false)).collect();
    let pb = Playbook::new(
        vec![
            Intervention::new(
                "cheap",
                InterventionKind::CareMessage,
                6.0,
                0.5,
                Route::Marketing,
            ),
            Intervention::new(
                "big",
                InterventionKind::PersonalCallBack,
                8.0,
                1.0,
                Route::Sales,
            ),
        ],
        SegmentBy::LifecycleStage,
    )
    .unwrap();
    let off = Planner::new(100.0).plan(&profiles(&data), &pb).unwrap();
    assert!((off.summary().net_value() - 24.0).abs() < 1e-9); // 12 × big
    let on = Planner::new(100.0)
        .unprofitable(Unprofitable::Assign)
        .plan(&profiles(&data), &pb)
        .unwrap();
    assert_eq!(
        on.assignments()
            .iter()
            .filter(|a| a.intervention() == "big")
            .count(),
        12
    );
    assert!(on.summary().cost() <= 100.0);
    assert!(on.summary().upper_bound() >= off.summary().net_value());
}

#[test]
fn hold_outs_keep_the_overall_share_across_tiny_strata() {
    // Four customers, each alone in a (intervention, segment) stratum.
    let data = [
        (0.5, 300.0, false),
        (0.5, 300.0, true),
        (0.6, 300.0, false),
        (0.6, 300.0, true),
    ];
    let pb = Playbook::new(
        vec![
            Intervention::new("a", InterventionKind::Discount, 5.0, 0.3, Route::Marketing)
                .with_eligibility(Condition::field("complaints_90d").lt(1)),
            Intervention::new(
                "b",
                InterventionKind::PersonalCallBack,
                5.0,
                0.3,
                Route::Sales,
            )
            .with_eligibility(Condition::field("complaints_90d").gte(1)),
        ],
        SegmentBy::LifecycleStage,
    )
    .unwrap();
    let plan = Planner::new(1e6).plan(&profiles(&data), &pb).unwrap();
    assert_eq!(plan.assignments().len(), 4);
    for (fraction, expected) in [(0.5, 2), (0.49, 2), (0.25, 1), (0.8, 3)] {
        let held = HoldOut::new(fraction, 3)
            .split(&plan)
            .unwrap()
            .iter()
            .filter(|&&c| c)
            .count();
        assert_eq!(held, expected, "fraction {fraction}");
    }
    assert!(serde_json::from_str::<HoldOut>(r#"{"fraction": 2.0, "seed": 1}"#).is_err());
    assert!(serde_json::from_str::<Planner>(r#"{"budget": -5}"#).is_err());
    let planner: Planner = serde_json::from_str(r#"{"budget": 50}"#).unwrap();
    assert_eq!(planner.budget(), 50.0);
}

#[test]
fn playbook_errors_name_their_path_and_segment_labels_are_checked() {
    use churnwise::ErrorKind;
    use churnwise::retention::Playbook;
    let invalid = |text: &str| match Playbook::from_json(text).unwrap_err().into_kind() {
        ErrorKind::InvalidPolicy {
            path,
            reason,
            suggestions,
        } => (path, reason, suggestions),
        other => panic!("unexpected {other:?}"),
    };
    let one = |fields: &str| {
        format!(
            r#"{{"interventions": [{{"id": "d", "kind": "discount", "cost": 5, "effect": 0.2, "owner": "marketing"}},
                {{"id": "e", "kind": "discount", "cost": 5, "effect": 0.2, "owner": "marketing"{fields}}}]}}"#
        )
    };
    let (path, reason, _) = invalid(&one(r#", "capacity": "many""#));
    assert_eq!(path, "interventions[1].capacity");
    assert!(reason.contains("invalid type"), "{reason}");
    let (path, _, suggestions) = invalid(&one(r#", "costs": 3"#));
    assert_eq!(
        (path.as_str(), suggestions),
        ("interventions[1]", vec!["cost".to_owned()])
    );
    let (path, reason, _) = invalid(&one(
        r#", "eligibility": {"field": "churn_probability", ">": 7}"#,
    ));
    assert_eq!(path, "interventions[1].eligibility.>");
    assert!(reason.contains("outside [0, 1]"), "{reason}");
    // A miscased segment label is refused with the right spelling suggested.
    let (path, reason, suggestions) = invalid(&one(r#", "effect_by_segment": {"At_Risk": 0.3}"#));
    assert_eq!(path, "interventions[1].effect_by_segment");
    assert!(
        reason.contains("unknown lifecycle_stage label `At_Risk`"),
        "{reason}"
    );
    assert_eq!(suggestions, vec!["at_risk".to_owned()]);
    // Labels of a field of your own are known only from the data.
    let plan = one(r#", "effect_by_segment": {"gold": 0.3}"#).replacen(
        '{',
        r#"{"segment_by": "plan", "#,
        1,
    );
    assert!(Playbook::from_json(&plan).is_ok());

    // TOML: a non-finite threshold names its path; parse errors quote little.
    #[cfg(feature = "toml")]
    {
        let toml = |effect: &str| {
            format!(
                "[[interventions]]\nid = \"d\"\nkind = \"discount\"\ncost = 5\neffect = {effect}\nowner = \"marketing\"\n"
            )
        };
        match Playbook::from_toml(&toml("nan")).unwrap_err().into_kind() {
            ErrorKind::InvalidPolicy { path, reason, .. } => {
                assert_eq!(path, "interventions[0].effect");
                assert_eq!(reason, "expected a finite number, got NaN");
            }
            other => panic!("unexpected {other:?}"),
        }
        let long = toml(&format!("[{}", "1, ".repeat(40_000)));
        let err = Playbook::from_toml(&long).unwrap_err().to_string();
        assert!(err.len() < 2_000, "{}", err.len());
    }
}
