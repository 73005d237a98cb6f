//! Segmentation invariants through the public API.

use churnwise::features::FeatureTable;
use churnwise::segment::{LifecyclePolicy, LifecycleStage, Rfm, SegmentReport};
use ndarray::Array2;
use proptest::prelude::*;

fn rfm_table(rows: &[(f64, f64, f64)]) -> FeatureTable {
    let ids = (0..rows.len() as u64).map(Into::into).collect();
    let values = Array2::from_shape_fn((rows.len(), 3), |(i, j)| {
        [rows[i].0, rows[i].1, rows[i].2][j]
    });
    let names = ["recency_days", "orders_total", "spend_total"]
        .map(String::from)
        .to_vec();
    FeatureTable::new(ids, names, values).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Scores are in 1..=5, better recency/frequency/spend never scores lower,
    /// and applying fitted edges to new customers uses the same edges.
    #[test]
    fn rfm_scores_are_bounded_and_monotone(
        rows in prop::collection::vec((0.0..500.0f64, 0u32..30, -50.0..5_000.0f64), 1..80),
        probe in (0.0..600.0f64, 0u32..40, -100.0..6_000.0f64),
    ) {
        let rows: Vec<(f64, f64, f64)> = rows.into_iter().map(|(r, f, m)| (r.round(), f64::from(f), m)).collect();
        let table = rfm_table(&rows);
        let fitted = Rfm::new().fit(&table).unwrap();
        let scores = fitted.apply(&table).unwrap();
        for s in &scores {
            prop_assert!((1..=5).contains(&s.r) && (1..=5).contains(&s.f) && (1..=5).contains(&s.m));
        }
        for (i, a) in rows.iter().enumerate() {
            for (j, b) in rows.iter().enumerate() {
                if a.0 <= b.0 { prop_assert!(scores[i].r >= scores[j].r); }
                if a.1 >= b.1 { prop_assert!(scores[i].f >= scores[j].f); }
                if a.2 >= b.2 { prop_assert!(scores[i].m >= scores[j].m); }
            }
        }
        let p = fitted.score(probe.0, f64::from(probe.1), probe.2);
        prop_assert!((1..=5).contains(&p.r) && (1..=5).contains(&p.f) && (1..=5).contains(&p.m));
    }

    /// Every customer lands in exactly one lifecycle stage, and the stage
    /// report's counts add up to the population.
    #[test]
    fn lifecycle_report_counts_every_customer_once(
        rows in prop::collection::vec((0.0..400.0f64, 0.0..400.0f64, 0u32..10, 0u32..4, 0.0..=1.0f64, any::<bool>(), -1.0..=1.0f64), 1..60),
        scores in prop::option::of(prop::collection::vec(0.0..=1.0f64, 60)),
    ) {
        let names = ["recency_days", "tenure_days", "orders_total", "complaints_30d", "satisfaction_last", "has_feedback", "order_trend_90d", "spend_total"];
        let n = rows.len();
        let values = Array2::from_shape_fn((n, 8), |(i, j)| {
            let r = rows[i];
            [r.0, r.1, f64::from(r.2), f64::from(r.3), r.4, f64::from(u8::from(r.5)), r.6, 10.0][j]
        });
        let table = FeatureTable::new((0..n as u64).map(Into::into).collect(), names.map(String::from).to_vec(), values).unwrap();
        let scores = scores.map(|s| s[..n].to_vec());
        let stages = LifecyclePolicy::default().apply(&table, scores.as_deref()).unwrap();
        prop_assert_eq!(stages.len(), n);
        let report = SegmentReport::new(&stages, &table, None).unwrap();
        prop_assert_eq!(report.rows().iter().map(|r| r.count()).sum::<usize>(), n);
        for (s, r) in stages.iter().zip(&rows) {
            if r.0 > 180.0 { prop_assert_eq!(*s, LifecycleStage::Churned); }
        }
    }
}
