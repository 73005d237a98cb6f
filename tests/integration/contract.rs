//! Contractual churn through the public API: subscription labels, features,
//! a model trained on them, and the sBG fitted from subscriptions.

use chrono::{DateTime, Duration, TimeZone, Utc};
use churnwise::clv::{RenewalCounts, ShiftedBetaGeometric};
use churnwise::features::{
    ChurnKind, ChurnLabeler, FeatureSpec, InvoluntaryChurn, LabelRule, Snapshot,
};
use churnwise::model::LogisticRegression;
use churnwise::records::{
    BillingPeriod, ChurnReason, Customer, History, HistoryBuilder, Subscription, SubscriptionEvent,
    SubscriptionEventKind as K,
};

fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + Duration::days(d)
}

/// 300 monthly subscribers from day 0: every third asks to cancel on day
/// 100 (price), every seventh has two failed payments on days 95 and 100
/// and ends on day 110, the rest run on; a renewal on day 400 closes the
/// observation.
fn history() -> History {
    let mut b = HistoryBuilder::new();
    for i in 0..300u64 {
        b.push_customer(Customer::new(i, day(0)));
        b.push_subscription(Subscription::new(
            i,
            "S",
            "basic",
            day(0),
            BillingPeriod::Monthly,
            10.0 + (i % 5) as f64,
        ));
        let e = |d: i64, k: K| SubscriptionEvent::new(i, "S", day(d), k);
        if i % 7 == 0 {
            b.extend([
                e(95, K::PaymentFailed),
                e(100, K::PaymentFailed),
                e(110, K::Ended),
            ]);
        } else if i % 3 == 0 {
            b.push_subscription_event(e(
                100,
                K::CancellationRequested {
                    reason: ChurnReason::Price,
                    note: None,
                },
            ));
        } else {
            b.push_subscription_event(e(400, K::Renewal));
        }
    }
    let (h, report) = b.build().unwrap();
    assert!(report.is_clean(), "{report}");
    h
}

#[test]
fn labels_features_and_a_model_for_subscriptions() {
    let h = history();
    let t = day(105);
    let labeler = ChurnLabeler::new()
        .rule(LabelRule::SubscriptionEnd)
        .horizon_days(30);
    let labels = labeler.labels(&h, t).unwrap();
    assert_eq!(labels.len(), 300);
    for ((id, kind), reason) in labels
        .ids()
        .iter()
        .zip(labels.kinds())
        .zip(labels.reasons())
    {
        let i = id.as_u64().unwrap();
        // Cancelled on day 100 (Apr 10): the period ends on May 1 (day 121), in (105, 135].
        let expected = if i % 7 == 0 {
            (ChurnKind::Involuntary, Some(ChurnReason::PaymentFailed))
        } else if i % 3 == 0 {
            (ChurnKind::Voluntary, Some(ChurnReason::Price))
        } else {
            (ChurnKind::Retained, None)
        };
        assert_eq!((*kind, reason.clone()), expected, "customer {i}");
    }
    let spec = FeatureSpec::contractual();
    let snapshot = Snapshot::new(t);
    let set = labeler.training_set(&h, &spec, &snapshot, &[t]).unwrap();
    let failures = set.features().column("payment_failures_30d").unwrap();
    let pending = set.features().column("auto_renew").unwrap();
    for (row, kind) in set.churn_kinds().unwrap().iter().enumerate() {
        match kind {
            ChurnKind::Involuntary => assert_eq!(failures[row], 2.0),
            ChurnKind::Voluntary => assert_eq!(pending[row], 0.0), // cancellation pending
            _ => assert_eq!((failures[row], pending[row]), (0.0, 1.0)),
        }
    }
    // The features separate the classes: a model fits them.
    let model = LogisticRegression::new().fit(&set).unwrap();
    let p = model.predict_proba_table(set.features()).unwrap();
    let auc = churnwise::model::metrics::roc_auc(&p.to_vec(), set.churned(), None).unwrap();
    assert!(auc > 0.99, "{auc}");
    // Involuntary churn left out: only voluntary churn is positive.
    let voluntary = labeler
        .involuntary_churn(InvoluntaryChurn::Exclude)
        .training_set(&h, &spec, &snapshot, &[t])
        .unwrap();
    let n_involuntary = (0..300).filter(|i| i % 7 == 0).count();
    assert_eq!(voluntary.len(), 300 - n_involuntary);
    assert!(
        !voluntary
            .churn_kinds()
            .unwrap()
            .contains(&ChurnKind::Involuntary)
    );
}

/// Yearly subscriptions started on 2024-01-01: `active[t]` renew at each
/// of the first `t` period ends (Jan 1 of the next years), the others lapse.
fn cohort(active: &[u64]) -> History {
    let mut b = HistoryBuilder::new();
    for i in 0..active[0] {
        b.push_customer(Customer::new(i, day(0)));
        b.push_subscription(
            Subscription::new(i, "S", "p", day(0), BillingPeriod::Yearly, 99.0)
                .with_auto_renew(false),
        );
        let renewals = active[1..].iter().take_while(|&&a| i < a).count();
        for y in 1..=renewals {
            let at = Utc
                .with_ymd_and_hms(2024 + y as i32, 1, 1, 0, 0, 0)
                .unwrap();
            b.push_subscription_event(SubscriptionEvent::new(i, "S", at, K::Renewal));
        }
    }
    b.build_strict().unwrap()
}

#[test]
fn sbg_from_one_cohort_of_subscriptions_equals_the_fit_on_its_counts() {
    // The "High End" cohort of Fader & Hardie (2007), years 0-7.
    let active = [1000, 869, 743, 653, 593, 551, 517, 491];
    let h = cohort(&active);
    let as_of = Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 0).unwrap();
    let counts = RenewalCounts::from_subscriptions(&h, as_of, BillingPeriod::Yearly);
    assert_eq!(counts, RenewalCounts::from_active(&active).unwrap());
    let from_subs = ShiftedBetaGeometric::new()
        .fit_subscriptions(&h, as_of, BillingPeriod::Yearly)
        .unwrap();
    let direct = ShiftedBetaGeometric::new().fit(&active).unwrap();
    approx::assert_relative_eq!(from_subs.alpha(), direct.alpha(), max_relative = 1e-8);
    approx::assert_relative_eq!(from_subs.beta(), direct.beta(), max_relative = 1e-8);
    // Published estimates: α = 0.668, β = 3.806.
    approx::assert_abs_diff_eq!(from_subs.alpha(), 0.668, epsilon = 2e-3);
    approx::assert_abs_diff_eq!(from_subs.beta(), 3.806, epsilon = 2e-2);
    // Observed a year earlier, the last year is censored: the counts of years 0-6.
    let earlier = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    assert_eq!(
        RenewalCounts::from_subscriptions(&h, earlier, BillingPeriod::Yearly),
        RenewalCounts::from_active(&active[..7]).unwrap()
    );
}
