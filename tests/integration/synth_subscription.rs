//! The synthetic subscription business, through the public API.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use churnwise::ErrorKind;
use churnwise::model::metrics::roc_auc;
use churnwise::records::{BillingPeriod, ChurnReason, InteractionKind, SubscriptionEventKind};
use churnwise::synth::{ChurnRisk, SubscriptionPopulation, SubscriptionPopulationConfig};

/// Allowed distance, in standard errors, for statistical checks.
const Z: f64 = 5.0;

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

fn business(n: usize, seed: u64) -> (SubscriptionPopulationConfig, SubscriptionPopulation) {
    let config = SubscriptionPopulationConfig::default()
        .customers(n)
        .seed(seed);
    let pop = config.generate().unwrap();
    (config, pop)
}

fn index(r: &ChurnRisk) -> usize {
    r.id().as_u64().unwrap() as usize - 1
}

/// `|observed share − p| ≤ Z` binomial standard errors.
fn assert_binomial(hits: usize, n: usize, p: f64, what: &str) {
    assert!(n > 100, "{what}: only {n} trials");
    let share = hits as f64 / n as f64;
    let se = (p * (1.0 - p) / n as f64).sqrt();
    assert!(
        (share - p).abs() <= Z * se,
        "{what}: {share} vs {p} (se {se}, n {n})"
    );
}

#[test]
fn same_seed_same_records_on_one_and_two_threads() {
    let config = SubscriptionPopulationConfig::default()
        .customers(3_000)
        .seed(11);
    let one = in_pool(1, || config.generate().unwrap());
    let two = in_pool(2, || config.generate().unwrap());
    assert!(one == two, "populations differ between 1 and 2 threads");
    let other = config.clone().seed(12).generate().unwrap();
    assert_ne!(one.subscription_events(), other.subscription_events());
    let risks = |threads| {
        in_pool(threads, || {
            config
                .churn_probabilities_given_records(
                    config.end_time() - TimeDelta::days(200),
                    60.0,
                    4,
                )
                .unwrap()
        })
    };
    assert_eq!(risks(1), risks(2));
}

#[test]
fn history_is_clean_and_agrees_with_the_truth() {
    let (config, pop) = business(4_000, 3);
    let (history, report) = pop.history_builder().build().unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(history.subscription_count(), 4_000);
    assert_eq!(
        history.subscription_event_count(),
        pop.subscription_events().len()
    );
    let end = config.end_time();
    let (mut churned, mut voluntary, mut stated_true) = (0, 0, 0);
    for (s, truth) in history.subscriptions().zip(pop.truth()) {
        assert_eq!(s.customer_id(), truth.id());
        let ended = s.ended_at().filter(|&t| t < end);
        assert_eq!(ended, truth.churn_time(), "customer {}", truth.id());
        if truth.is_churned() {
            churned += 1;
            // 80% of cancellations state their true reason, the others `other`.
            let stated = s.end_reason();
            assert!(
                stated.as_ref() == truth.reason() || stated == Some(ChurnReason::Other),
                "customer {}: {stated:?} vs {:?}",
                truth.id(),
                truth.reason()
            );
            if !truth.is_involuntary() {
                voluntary += 1;
                stated_true += usize::from(stated.as_ref() == truth.reason());
            }
            assert!(truth.monthly_hazard() > 0.0);
        }
    }
    assert!(
        churned > 800 && churned < 2_400,
        "{churned} churned of 4000"
    );
    assert_binomial(stated_true, voluntary, 0.8, "stated reasons");
}

#[test]
fn billing_mix_and_payment_failures_follow_the_configuration() {
    let (config, pop) = business(8_000, 5);
    let yearly = pop
        .subscriptions()
        .iter()
        .filter(|s| s.period == BillingPeriod::Yearly)
        .count();
    assert_binomial(yearly, 8_000, config.yearly_share_value(), "yearly share");
    let auto = pop.subscriptions().iter().filter(|s| s.auto_renew).count();
    assert_binomial(
        auto,
        8_000,
        config.auto_renew_share_value(),
        "auto-renew share",
    );

    // The first renewal payment of each auto-renewing subscription fails
    // with probability p_i ~ Beta(20 m, 20 (1 − m)): marginally Bernoulli(m).
    let subs: HashMap<_, _> = pop
        .subscriptions()
        .iter()
        .map(|s| (&s.customer, s))
        .collect();
    let (mut first_fails, mut first_attempts) = (0, 0);
    // Failed renewals (a failure not within 7 days of the previous one),
    // and how each resolved: recovered by a retry or ended.
    let (mut sequences, mut involuntary) = (0, 0);
    let mut last_failure: HashMap<_, DateTime<Utc>> = HashMap::new();
    let mut open: HashMap<_, bool> = HashMap::new();
    let end = config.end_time();
    for e in pop.subscription_events() {
        let s = subs[&e.customer];
        let first_end = s.period.advance(s.start);
        match e.kind {
            SubscriptionEventKind::PaymentFailed => {
                if e.time == first_end {
                    first_fails += 1;
                    first_attempts += 1;
                }
                let retry = last_failure
                    .get(&e.customer)
                    .is_some_and(|&t| e.time - t <= TimeDelta::days(7));
                // Failures in the last 7 days may resolve after the end: skip them.
                if !retry && e.time < end - TimeDelta::days(7) {
                    open.insert(&e.customer, true);
                }
                last_failure.insert(&e.customer, e.time);
            }
            SubscriptionEventKind::Renewal => {
                if e.time == first_end && s.auto_renew {
                    first_attempts += 1;
                }
                if open.remove(&e.customer).is_some() {
                    sequences += 1;
                }
            }
            SubscriptionEventKind::Ended if open.remove(&e.customer).is_some() => {
                sequences += 1;
                involuntary += 1;
            }
            _ => {}
        }
    }
    assert_binomial(
        first_fails,
        first_attempts,
        config.payment_failure_rate_value(),
        "first payment failure",
    );
    // Two retries, each succeeding with probability r.
    let r = config.retry_success_value();
    assert_binomial(
        involuntary,
        sequences,
        (1.0 - r) * (1.0 - r),
        "involuntary end after a failure",
    );
    let ended_involuntarily = pop
        .truth()
        .iter()
        .filter(|t| t.is_churned() && t.is_involuntary())
        .count();
    assert_eq!(ended_involuntarily, involuntary);
}

#[test]
fn cancellations_peak_before_renewals_and_reasons_follow_their_causes() {
    let (config, pop) = business(10_000, 7);
    let subs: HashMap<_, _> = pop
        .subscriptions()
        .iter()
        .map(|s| (&s.customer, s))
        .collect();
    // Yearly subscriptions: share of requests in the 30 days before a period end.
    let (mut in_window, mut yearly_requests) = (0, 0);
    let mut reason_counts: HashMap<(bool, bool), (usize, usize)> = HashMap::new();
    // Slow replies (first response > 24 h) per customer, in time order.
    let mut slow: HashMap<_, Vec<DateTime<Utc>>> = HashMap::new();
    for i in pop.interactions() {
        if let InteractionKind::SupportTicket {
            first_response_hours: Some(h),
        } = i.kind
            && h > 24.0
        {
            slow.entry(&i.customer).or_default().push(i.time);
        }
    }
    let increase = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let (mut service_after_slow, mut after_slow, mut service_otherwise, mut otherwise) =
        (0, 0, 0, 0);
    for e in pop.subscription_events() {
        let SubscriptionEventKind::CancellationRequested { reason, .. } = &e.kind else {
            continue;
        };
        let s = subs[&e.customer];
        if s.period == BillingPeriod::Yearly {
            yearly_requests += 1;
            let mut end = s.start;
            while end <= e.time {
                end = BillingPeriod::Yearly.advance(end);
            }
            in_window += usize::from(end - e.time <= TimeDelta::days(30));
        } else {
            // Monthly: price reasons around the increase (Dec–Feb) and half a year before.
            let near =
                e.time >= increase - TimeDelta::days(30) && e.time < increase + TimeDelta::days(60);
            let before = e.time >= increase - TimeDelta::days(210)
                && e.time < increase - TimeDelta::days(120);
            if near || before {
                let c = reason_counts.entry((near, true)).or_default();
                c.0 += usize::from(*reason == ChurnReason::Price);
                c.1 += 1;
            }
        }
        let recent_slow = slow.get(&e.customer).is_some_and(|ts| {
            ts.iter()
                .any(|&t| t <= e.time && e.time - t < TimeDelta::days(60))
        });
        let service = usize::from(*reason == ChurnReason::PoorService);
        if recent_slow {
            after_slow += 1;
            service_after_slow += service;
        } else {
            otherwise += 1;
            service_otherwise += service;
        }
    }
    // Without the peak, requests would fall in those 30 days 30/365 of the time.
    let share = in_window as f64 / yearly_requests as f64;
    let uniform = 30.0 / 365.0;
    let se = (uniform * (1.0 - uniform) / yearly_requests as f64).sqrt();
    assert!(
        yearly_requests > 200 && share > uniform + Z * se,
        "{share} of {yearly_requests}"
    );
    let rate = |k| {
        let (hits, n) = reason_counts[&(k, true)];
        hits as f64 / n as f64
    };
    assert!(
        rate(true) > 1.5 * rate(false),
        "price share {} vs {}",
        rate(true),
        rate(false)
    );
    let (a, b) = (
        service_after_slow as f64 / after_slow as f64,
        service_otherwise as f64 / otherwise as f64,
    );
    assert!(
        after_slow > 50 && a > 1.5 * b,
        "poor service share {a} after a slow reply vs {b}"
    );
    assert!(config.validate().is_ok());
}

#[test]
fn records_oracle_is_calibrated_and_ranks_churn() {
    let (config, pop) = business(4_000, 17);
    let as_of = config.end_time() - TimeDelta::days(180);
    let until = as_of + TimeDelta::days(90);
    let seen = config
        .churn_probabilities_given_records(as_of, 90.0, 32)
        .unwrap();
    let known = config.churn_probabilities(as_of, 90.0, 32).unwrap();
    // Exactly the subscriptions running at as_of, in id order.
    let running: Vec<_> = pop
        .customers()
        .iter()
        .zip(pop.truth())
        .filter(|(c, t)| c.signup <= as_of && t.churn_time().is_none_or(|ct| ct > as_of))
        .map(|(c, _)| c.id.clone())
        .collect();
    assert_eq!(
        running,
        seen.iter().map(|r| r.id().clone()).collect::<Vec<_>>()
    );
    assert_eq!(
        running,
        known.iter().map(|r| r.id().clone()).collect::<Vec<_>>()
    );
    let labels: Vec<bool> = seen
        .iter()
        .map(|r| {
            pop.truth()[index(r)]
                .churn_time()
                .is_some_and(|t| t > as_of && t <= until)
        })
        .collect();
    let p: Vec<f64> = seen.iter().map(ChurnRisk::probability).collect();
    let n = p.len() as f64;
    let mean_p = p.iter().sum::<f64>() / n;
    let realized = labels.iter().filter(|&&l| l).count() as f64 / n;
    // Given the records, realized ends are independent Bernoulli(p_i).
    let se = p.iter().map(|p| p * (1.0 - p)).sum::<f64>().sqrt() / n;
    assert!(
        (realized - mean_p).abs() <= Z * se,
        "{realized} vs {mean_p}"
    );
    let auc = roc_auc(&p, &labels, None).unwrap();
    assert!(auc > 0.7, "records oracle AUC {auc}");
    let k: Vec<f64> = known.iter().map(ChurnRisk::probability).collect();
    let known_auc = roc_auc(&k, &labels, None).unwrap();
    assert!(known_auc > auc - 0.02, "{known_auc} vs {auc}");
}

#[test]
fn oracle_rejects_bad_arguments_by_name() {
    let config = SubscriptionPopulationConfig::default().customers(20);
    let name = |r: churnwise::Result<Vec<ChurnRisk>>| match r.unwrap_err().kind() {
        ErrorKind::InvalidParameter { name, .. } => *name,
        other => panic!("{other:?}"),
    };
    let start = config.start_time();
    assert_eq!(
        name(config.churn_probabilities(config.end_time(), 30.0, 1)),
        "as_of"
    );
    assert_eq!(
        name(config.churn_probabilities(start - TimeDelta::days(1), 30.0, 1)),
        "as_of"
    );
    for h in [0.0, f64::NAN, 1e9] {
        assert_eq!(
            name(config.churn_probabilities_given_records(start, h, 1)),
            "horizon_days"
        );
    }
    assert_eq!(name(config.churn_probabilities(start, 30.0, 0)), "replicas");
    assert_eq!(
        name(
            config
                .clone()
                .customers(0)
                .churn_probabilities(start, 30.0, 1)
        ),
        "customers"
    );
}
