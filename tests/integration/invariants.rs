//! Invariants through the public API, on random and extreme input: what
//! the other files' properties do not already cover (extreme finite values
//! for scores, RFM and lifecycle stages; plans on the greedy path with
//! per-intervention and several team capacities; repurchase rates and
//! per-segment breakdowns of campaign reports).

use std::sync::LazyLock;

use churnwise::ErrorKind;
use churnwise::features::{FeatureTable, TrainingSet};
use churnwise::model::LogisticRegression;
use churnwise::retention::{
    CampaignEvaluator, CampaignOutcome, EXACT_CUSTOMERS, Intervention, InterventionKind, Planner,
    Playbook, SegmentBy, Unprofitable,
};
use churnwise::rules::{Condition, Route};
use churnwise::score::{ChurnScorer, Profile, Profiles};
use churnwise::segment::{LifecyclePolicy, LifecycleStage, Rfm};
use ndarray::{Array1, Array2};
use proptest::prelude::*;

const NAMES: [&str; 4] = [
    "recency_days",
    "orders_total",
    "spend_total",
    "complaints_90d",
];

/// A scorer fitted once on a small deterministic training set whose label
/// depends on every feature, so every coefficient is non-zero. The features
/// are in [0, 1], so raw coefficients are large and extreme inputs overflow
/// the log-odds.
static SCORER: LazyLock<ChurnScorer> = LazyLock::new(|| {
    let n = 200;
    let values = Array2::from_shape_fn((n, 4), |(i, j)| {
        let i = i as f64;
        [
            (i * 37.0) % 365.0 / 365.0,
            (i * 7.0) % 23.0 / 23.0,
            (i * 131.0) % 2_000.0 / 2_000.0,
            (i * 3.0) % 5.0 / 5.0,
        ][j]
    });
    let labels: Array1<bool> = values
        .rows()
        .into_iter()
        .map(|r| r[0] - r[1] - r[2] / 2.0 + r[3] > 0.05)
        .collect();
    let ids = (0..n as u64).map(Into::into).collect();
    let table = FeatureTable::new(ids, NAMES.map(String::from).to_vec(), values).unwrap();
    let model = LogisticRegression::new()
        .fit(&TrainingSet::new(table, labels).unwrap())
        .unwrap();
    let as_of = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2024, 1, 1, 0, 0, 0).unwrap();
    ChurnScorer::new(model, &churnwise::features::Snapshot::new(as_of)).unwrap()
});

/// Any finite f64, with the extremes and their neighbours drawn often.
fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => -1e4..1e4f64,
        2 => any::<f64>().prop_filter("finite", |v| v.is_finite()),
        1 => prop::sample::select(vec![
            0.0,
            -0.0,
            f64::MAX,
            -f64::MAX,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            1e308,
            -1e308,
            1e154,
            -1e154,
        ]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A fitted scorer's churn probability is finite and in [0, 1] for any
    /// finite row, one at a time and in a batch (bit-identical); a row so
    /// extreme that its log-odds overflow to +∞ and −∞ at once is a typed
    /// error, in both paths, never a NaN probability.
    #[test]
    fn churn_probabilities_are_finite_and_in_unit_interval(
        rows in prop::collection::vec(prop::array::uniform4(finite()), 1..12),
    ) {
        let scorer = &*SCORER;
        let n = rows.len();
        let values = Array2::from_shape_fn((n, 4), |(i, j)| rows[i][j]);
        let table = FeatureTable::new(
            (0..n as u64).map(Into::into).collect(),
            NAMES.map(String::from).to_vec(),
            values,
        ).unwrap();
        let batch = scorer.score_table(&table);
        let mut first_overflow = None;
        for (i, row) in rows.iter().enumerate() {
            match scorer.score_one(row) {
                Ok(p) => {
                    prop_assert!(p.is_finite() && (0.0..=1.0).contains(&p), "{row:?} -> {p}");
                    if let Ok(batch) = &batch {
                        prop_assert_eq!(p.to_bits(), batch[i].to_bits());
                    }
                }
                Err(e) => {
                    prop_assert!(matches!(e.kind(), ErrorKind::NonFinite { .. }), "{e}");
                    first_overflow.get_or_insert(i);
                }
            }
        }
        match (first_overflow, batch) {
            (None, Ok(_)) => {}
            (Some(i), Err(e)) => prop_assert!(
                matches!(e.kind(), ErrorKind::NonFinite { row, .. } if *row == i),
                "{e}"
            ),
            (i, b) => prop_assert!(false, "one-row overflow {i:?} but batch {b:?}"),
        }
    }

    /// RFM scores are in 1..=5 on populations and probes with extreme values.
    #[test]
    fn rfm_scores_stay_in_one_to_five_on_extreme_values(
        rows in prop::collection::vec((finite(), finite(), finite()), 1..40),
        probe in (finite(), finite(), finite()),
    ) {
        let n = rows.len();
        let values = Array2::from_shape_fn((n, 3), |(i, j)| [rows[i].0, rows[i].1, rows[i].2][j]);
        let table = FeatureTable::new(
            (0..n as u64).map(Into::into).collect(),
            NAMES[..3].iter().map(|s| s.to_string()).collect(),
            values,
        ).unwrap();
        // Fitting may reject a population (e.g. negative counts); when it
        // fits, every score is in range.
        if let Ok(fitted) = Rfm::new().fit(&table) {
            for s in fitted.apply(&table).unwrap() {
                prop_assert!((1..=5).contains(&s.r) && (1..=5).contains(&s.f) && (1..=5).contains(&s.m), "{s:?}");
            }
            let s = fitted.score(probe.0, probe.1, probe.2);
            prop_assert!((1..=5).contains(&s.r) && (1..=5).contains(&s.f) && (1..=5).contains(&s.m), "{s:?}");
        }
    }

    /// Every customer gets exactly one lifecycle stage, also for extreme
    /// feature values and any churn scores in [0, 1].
    #[test]
    fn every_customer_has_one_lifecycle_stage_on_extreme_values(
        rows in prop::collection::vec(prop::array::uniform8(finite()), 1..30),
        scores in prop::collection::vec(0.0..=1.0f64, 30),
        with_scores in any::<bool>(),
    ) {
        let names = ["recency_days", "tenure_days", "orders_total", "complaints_30d", "satisfaction_last", "has_feedback", "order_trend_90d", "spend_total"];
        let n = rows.len();
        let values = Array2::from_shape_fn((n, 8), |(i, j)| rows[i][j]);
        let table = FeatureTable::new(
            (0..n as u64).map(Into::into).collect(),
            names.map(String::from).to_vec(),
            values,
        ).unwrap();
        let scores = with_scores.then(|| scores[..n].to_vec());
        let stages = LifecyclePolicy::default().apply(&table, scores.as_deref()).unwrap();
        prop_assert_eq!(stages.len(), n);
        let all = [LifecycleStage::New, LifecycleStage::Active, LifecycleStage::Silent, LifecycleStage::AtRisk, LifecycleStage::Churned];
        for s in &stages {
            prop_assert_eq!(all.iter().filter(|a| *a == s).count(), 1);
        }
    }
}

/// Found by `churn_probabilities_are_finite_and_in_unit_interval`: finite
/// values whose terms overflow to +∞ and −∞ gave a NaN probability.
#[test]
fn log_odds_overflow_is_a_typed_error_not_nan() {
    let row = [0.0, 1e308, -f64::MAX, 0.0];
    let err = SCORER.score_one(&row).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::NonFinite { row: 0, column, .. } if column == "orders_total"),
        "{err}"
    );
    let table = FeatureTable::new(
        vec![1u64.into(), 2u64.into()],
        NAMES.map(String::from).to_vec(),
        Array2::from_shape_fn((2, 4), |(i, j)| if i == 0 { 0.5 } else { row[j] }),
    )
    .unwrap();
    let err = SCORER.score_table(&table).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::NonFinite { row: 1, .. }),
        "{err}"
    );
    let columns: Vec<[f64; 2]> = row.iter().map(|&v| [0.5, v]).collect();
    let columns: Vec<&[f64]> = columns.iter().map(|c| c.as_slice()).collect();
    let err = SCORER.score_columns(&columns, 2).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::NonFinite { row: 1, column, .. } if column == "orders_total"),
        "{err}"
    );
    // Large but representable log-odds saturate to a valid probability.
    let p = SCORER.score_one(&[0.0, 1e308, 0.0, 0.0]).unwrap();
    assert!(p < 1e-300 || p == 1.0, "{p}");
}

/// Random customers for planning: churn probability, value, segment, complaints.
fn plan_profiles(data: &[(f64, f64, u8, u8)]) -> Profiles {
    let stages = [
        LifecycleStage::New,
        LifecycleStage::Active,
        LifecycleStage::Silent,
        LifecycleStage::AtRisk,
    ];
    Profiles::from_profiles(
        data.iter()
            .enumerate()
            .map(|(i, &(p, v, s, c))| {
                Profile::new(i as u64)
                    .with_feature("complaints_90d", f64::from(c))
                    .with_churn_probability(p)
                    .with_customer_value(v)
                    .with_lifecycle_stage(stages[usize::from(s) % 4])
            })
            .collect(),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Plans too large to solve exactly (the greedy path) never exceed the
    /// budget, any team's capacity or any intervention's capacity, assign
    /// each customer at most once, and (unless asked) take no losing action.
    #[test]
    fn larger_plans_respect_budget_and_every_capacity(
        data in prop::collection::vec((0.0..=1.0f64, 0.0..2_000.0f64, 0u8..4, 0u8..3), EXACT_CUSTOMERS + 1..150),
        costs in prop::array::uniform4(0.5..120.0f64),
        effects in prop::array::uniform4(0.0..=1.0f64),
        budget in 0.0..3_000.0f64,
        team_caps in prop::array::uniform2(0usize..30),
        own_cap in 1usize..20,
        negative in any::<bool>(),
    ) {
        let playbook = Playbook::new(
            vec![
                Intervention::new("discount", InterventionKind::Discount, costs[0], effects[0], Route::Marketing),
                Intervention::new("vip", InterventionKind::VipService, costs[1], effects[1], Route::CustomerService)
                    .with_segment_effect("silent", (effects[1] * 1.3).min(1.0)),
                Intervention::new("call", InterventionKind::PersonalCallBack, costs[2], effects[2], Route::Sales)
                    .with_capacity(own_cap),
                Intervention::new("repair", InterventionKind::FreeRepair, costs[3], effects[3], Route::AfterSales)
                    .with_eligibility(Condition::field("complaints_90d").gte(1)),
            ],
            SegmentBy::LifecycleStage,
        ).unwrap();
        let profiles = plan_profiles(&data);
        let plan = Planner::new(budget)
            .team_capacity(Route::CustomerService, team_caps[0])
            .team_capacity(Route::Sales, team_caps[1])
            .unprofitable(if negative { Unprofitable::Assign } else { Unprofitable::Skip })
            .plan(&profiles, &playbook).unwrap();
        let a = plan.assignments();
        let s = plan.summary();
        prop_assert!(s.cost() <= budget * (1.0 + 1e-12) + 1e-9, "cost {} > budget {budget}", s.cost());
        let cost: f64 = a.iter().map(|x| playbook.get(&x.intervention).unwrap().cost()).sum();
        prop_assert!(cost <= budget * (1.0 + 1e-12) + 1e-9);
        let owned = |r: Route| a.iter().filter(|x| x.owner == r).count();
        prop_assert!(owned(Route::CustomerService) <= team_caps[0]);
        prop_assert!(owned(Route::Sales) <= team_caps[1]);
        prop_assert!(a.iter().filter(|x| x.intervention == "call").count() <= own_cap);
        let mut rows: Vec<usize> = a.iter().map(|x| x.row).collect();
        rows.sort_unstable();
        rows.dedup();
        prop_assert_eq!(rows.len(), a.len(), "a customer is assigned twice");
        for x in a.iter().filter(|x| x.intervention == "repair") {
            prop_assert!(data[x.row].3 >= 1, "ineligible customer {} repaired", x.row);
        }
        if !negative {
            prop_assert!(a.iter().all(|x| x.net_value() > 0.0));
        }
        prop_assert!(s.customers() == a.len());
        prop_assert!(s.net_value() <= s.upper_bound() + 1e-6 * s.upper_bound().abs().max(1.0));
    }

    /// Campaign reports on random outcomes, with repurchases and segments:
    /// every churn and repurchase rate and every rate interval is in [0, 1]
    /// and contains its estimate, overall and per segment and intervention.
    #[test]
    fn campaign_rates_and_intervals_are_in_unit_interval(
        cells in prop::collection::vec((0u8..3, 0u8..3, any::<bool>(), prop::option::of(any::<bool>())), 2..300),
        confidence in 0.5..0.999f64,
    ) {
        let arms = ["control", "discount", "call"];
        let segments = ["new", "loyal", "at_risk"];
        // Both the control and a treated arm always have someone.
        let mut outcomes = vec![
            CampaignOutcome::new(1_000_000u64, "control", false).segment("new").repurchased(true),
            CampaignOutcome::new(1_000_001u64, "discount", true).intervention("discount").segment("new").repurchased(false),
        ];
        for (i, &(arm, seg, churned, repurchased)) in cells.iter().enumerate() {
            let arm = arms[usize::from(arm)];
            let mut o = CampaignOutcome::new(i as u64, arm, churned).segment(segments[usize::from(seg)]);
            if arm != "control" {
                o = o.intervention(arm);
            }
            if let Some(r) = repurchased {
                o = o.repurchased(r);
            }
            outcomes.push(o);
        }
        let report = CampaignEvaluator::new("control").confidence(confidence).evaluate(&outcomes).unwrap();
        let unit = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        let mut comparisons = vec![&report.overall];
        comparisons.extend(report.by_segment.iter().chain(&report.by_intervention).filter_map(|b| b.comparison.as_ref()));
        for c in comparisons {
            for s in std::iter::once(&c.control).chain(c.arms.iter().map(|a| &a.summary)) {
                for r in std::iter::once(&s.churn).chain(s.repurchase.as_ref()) {
                    prop_assert!(unit(r.rate) && unit(r.ci.lower) && unit(r.ci.upper), "{r:?}");
                    prop_assert!(r.ci.contains(r.rate), "{r:?}");
                    prop_assert!(r.count <= r.n);
                }
            }
            for a in &c.arms {
                prop_assert!(unit(a.p_value) && unit(a.p_value_holm));
                prop_assert!(a.churn_difference_ci.contains(a.churn_difference));
                if let Some(d) = &a.repurchase_difference {
                    prop_assert!((-1.0..=1.0).contains(&d.estimate) && d.ci.contains(d.estimate), "{d:?}");
                    prop_assert!(d.ci.lower >= -1.0 && d.ci.upper <= 1.0, "{d:?}");
                }
            }
        }
    }
}
