//! Association analysis against mlxtend: tests/fixtures/association_reference.json
//! holds mlxtend 0.25.0's `fpgrowth(min_support=0.02)` itemsets of
//! tests/fixtures/association_data.csv and its `association_rules` to
//! `{churned}` with lift > 1, sorted by lift then support.

use std::collections::BTreeMap;

use approx::assert_abs_diff_eq;
use chrono::{TimeZone, Utc};
use churnwise::ErrorKind;
use churnwise::analysis::association::{
    Engine, FpGrowth, FrequentItemsets, ItemVocabulary, RuleFilter, Transactions,
    TransactionsBuilder,
};
use churnwise::features::ChurnLabeler;
use churnwise::synth::PopulationConfig;
use serde_json::Value;

/// The fixture's measures are matched to this, absolute.
const MLXTEND: f64 = 1e-12;

fn reference() -> Value {
    serde_json::from_str(include_str!("../fixtures/association_reference.json")).unwrap()
}

fn fixture_transactions() -> Transactions {
    let data = include_str!("../fixtures/association_data.csv");
    let mut builder = TransactionsBuilder::new();
    for line in data.lines().skip(1) {
        let (id, items) = line.split_once(',').unwrap();
        builder.push(id, items.split(';').filter(|i| !i.is_empty()));
    }
    builder.build().unwrap()
}

fn names(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    n.sort();
    n
}

#[test]
fn frequent_itemsets_match_mlxtend() {
    let reference = reference();
    let transactions = fixture_transactions();
    assert_eq!(transactions.len(), 1500);
    for engine in [Engine::Auto, Engine::FpTree, Engine::Bitset] {
        let itemsets = FpGrowth::new()
            .min_support(0.02)
            .engine(engine)
            .mine(&transactions)
            .unwrap();
        check_itemsets(&reference, &itemsets);
    }
}

fn check_itemsets(reference: &Value, itemsets: &FrequentItemsets) {
    let expected: BTreeMap<Vec<String>, f64> = reference["frequent_itemsets"]["itemsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (names(&s["items"]), s["support"].as_f64().unwrap()))
        .collect();
    let found: BTreeMap<Vec<String>, f64> = itemsets
        .iter()
        .map(|s| (s.items().map(str::to_owned).collect(), s.support()))
        .collect();
    assert_eq!(
        itemsets.len(),
        reference["frequent_itemsets"]["count"].as_u64().unwrap() as usize
    );
    assert_eq!(
        found.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (items, support) in &expected {
        assert_abs_diff_eq!(found[items], *support, epsilon = MLXTEND);
    }
}

#[test]
fn rules_to_churned_match_mlxtend_in_order_and_measures() {
    let reference = reference();
    let itemsets = FpGrowth::new()
        .min_support(0.02)
        .mine(&fixture_transactions())
        .unwrap();
    // mlxtend's filter is lift > 1; no rule here has a lift of exactly 1.
    let rules = itemsets
        .rules_to("churned", &RuleFilter::new().min_lift(1.0))
        .unwrap();
    let expected = reference["rules_to_churned"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), expected.len());
    for (rule, want) in rules.iter().zip(expected) {
        assert_eq!(rule.antecedent(), names(&want["antecedent"]).as_slice());
        assert_eq!(rule.consequent(), ["churned"]);
        for (got, key) in [
            (rule.support(), "support"),
            (rule.confidence(), "confidence"),
            (rule.lift(), "lift"),
            (rule.leverage(), "leverage"),
        ] {
            assert_abs_diff_eq!(got, want[key].as_f64().unwrap(), epsilon = MLXTEND);
        }
        match want["conviction"].as_f64() {
            Some(c) => assert_abs_diff_eq!(rule.conviction().unwrap(), c, epsilon = MLXTEND),
            None => assert_eq!(rule.conviction(), None),
        }
    }
}

#[test]
fn every_rule_holds_the_definitions_of_its_measures() {
    let itemsets = FpGrowth::new()
        .min_support(0.02)
        .max_len(3)
        .mine(&fixture_transactions())
        .unwrap();
    let rules = itemsets
        .rules(&RuleFilter::new().min_confidence(0.2))
        .unwrap();
    assert!(!rules.is_empty());
    for r in &rules {
        let joined: Vec<&str> = r
            .antecedent()
            .iter()
            .chain(r.consequent())
            .map(String::as_str)
            .collect();
        let s_ac = itemsets.support_of(&joined).unwrap();
        let a: Vec<&str> = r.antecedent().iter().map(String::as_str).collect();
        let c: Vec<&str> = r.consequent().iter().map(String::as_str).collect();
        let (s_a, s_c) = (
            itemsets.support_of(&a).unwrap(),
            itemsets.support_of(&c).unwrap(),
        );
        assert_abs_diff_eq!(r.support(), s_ac, epsilon = MLXTEND);
        assert_abs_diff_eq!(r.confidence(), s_ac / s_a, epsilon = MLXTEND);
        assert_abs_diff_eq!(r.lift(), s_ac / (s_a * s_c), epsilon = 1e-10);
        assert_abs_diff_eq!(r.leverage(), s_ac - s_a * s_c, epsilon = MLXTEND);
        assert!(r.confidence() >= 0.2 && joined.len() <= 3);
    }
    let json = serde_json::to_string(&rules).unwrap();
    let back: churnwise::analysis::association::AssociationRules =
        serde_json::from_str(&json).unwrap();
    assert_eq!(back, rules);
}

#[test]
fn synthetic_history_rules_lead_to_churn() {
    let population = PopulationConfig::default()
        .customers(3_000)
        .seed(17)
        .generate()
        .unwrap();
    let (history, _) = population.history_builder().build().unwrap();
    let as_of = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
    let labels = ChurnLabeler::new().labels(&history, as_of).unwrap();
    let transactions = ItemVocabulary::new()
        .transactions(&history, as_of)
        .unwrap()
        .with_label(&labels, "churned")
        .unwrap();
    assert_eq!(transactions.len(), labels.ids().len());
    let itemsets = FpGrowth::new()
        .min_support(0.01)
        .max_len(3)
        .mine(&transactions)
        .unwrap();
    let rules = itemsets
        .rules_to("churned", &RuleFilter::new().min_lift(1.0))
        .unwrap();
    // No order for 60 days is the strongest single sign of no order in the next 90.
    let single = rules
        .iter()
        .find(|r| r.antecedent() == ["order:none_60d"])
        .unwrap();
    assert!(single.lift() > 1.5, "{single}: lift {}", single.lift());
}

#[test]
fn labels_for_unknown_customers_are_refused() {
    let mut builder = TransactionsBuilder::new();
    builder.push(1u64, ["a"]);
    let population = PopulationConfig::default()
        .customers(50)
        .seed(1)
        .generate()
        .unwrap();
    let (history, _) = population.history_builder().build().unwrap();
    let labels = ChurnLabeler::new()
        .labels(&history, Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap())
        .unwrap();
    let err = builder
        .build()
        .unwrap()
        .with_label(&labels, "churned")
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::UnknownName {
            what: "customer",
            ..
        }
    ));
}

#[test]
fn mining_is_the_same_with_one_thread_and_with_many() {
    let transactions = fixture_transactions();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let sets = FpGrowth::new()
                    .min_support(0.005)
                    .mine(&transactions)
                    .unwrap();
                serde_json::to_string(&sets).unwrap()
            })
    };
    assert_eq!(run(1), run(4));
}
