//! Subscriptions in `HistoryBuilder` and `History`: validation, storage and
//! order independence, through the public API.

use chrono::{DateTime, TimeZone, Utc};
use churnwise::records::{
    BillingPeriod, ChurnReason, Customer, CustomerId, HistoryBuilder, RecordKind, Subscription,
    SubscriptionEvent, SubscriptionEventKind as K, SubscriptionStatus, UnknownCustomers,
};
use proptest::prelude::*;

fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + chrono::TimeDelta::days(d)
}

fn sub(c: u64, id: &str, start: i64, price: f64) -> Subscription {
    Subscription::new(c, id, "basic", day(start), BillingPeriod::Monthly, price)
}

fn ev(c: u64, id: &str, d: i64, k: K) -> SubscriptionEvent {
    SubscriptionEvent::new(c, id, day(d), k)
}

#[test]
fn bad_subscriptions_and_events_are_dropped_and_explained() {
    let mut b = HistoryBuilder::new();
    b.push_customer(Customer::new(1u64, day(0)));
    b.extend([
        sub(1, "A", 0, 10.0),
        sub(1, "A", 0, 10.0),  // 1: exact duplicate of 0
        sub(1, "A", 5, 12.0),  // 2: same id, other contents
        sub(1, "B", 0, -1.0),  // 3: negative price
        sub(9, "C", 0, 10.0),  // 4: unknown customer
        sub(1, "D", -5, 10.0), // 5: before signup
        Subscription::new(1u64, "E", "x", day(0), BillingPeriod::Days(0), 1.0), // 6
    ]);
    b.extend([
        ev(1, "A", 31, K::Renewal),
        ev(1, "A", -1, K::Renewal), // 1: before the start
        ev(1, "Z", 31, K::Renewal), // 2: unknown subscription
        ev(1, "D", 31, K::Renewal), // 3: its subscription was dropped
        ev(
            1,
            "A",
            40,
            K::Upgrade {
                price: f64::NAN,
                plan: None,
            },
        ), // 4
        ev(1, "A", 31, K::Renewal), // 5: exact duplicate of 0
    ]);
    let (history, report) = b.build().unwrap();
    assert_eq!(history.subscription_count(), 1);
    assert_eq!(history.subscription_event_count(), 1);
    let found: Vec<(RecordKind, usize, Option<&str>, &str)> = report
        .iter()
        .map(|i| {
            (
                i.record().kind(),
                i.record().index(),
                i.field(),
                i.problem().name(),
            )
        })
        .collect();
    use RecordKind::{Subscription as S, SubscriptionEvent as E};
    assert_eq!(
        found,
        [
            (S, 1, Some("id"), "duplicate"),
            (S, 2, Some("id"), "conflict"),
            (S, 3, Some("price"), "negative"),
            (S, 4, Some("customer"), "unknown_customer"),
            (S, 5, Some("start"), "before_signup"),
            (S, 6, Some("period"), "zero_period"),
            (E, 1, Some("time"), "before_start"),
            (E, 2, Some("subscription"), "unknown_subscription"),
            (E, 3, Some("subscription"), "unknown_subscription"),
            (E, 4, Some("price"), "non_finite"),
            (E, 5, None, "duplicate"),
        ]
    );
    assert_eq!(report.received().subscriptions, 7);
    assert_eq!(report.accepted().subscription_events, 1);
    assert_eq!(report.dropped(S), 6);
}

#[test]
fn overlaps_events_after_the_end_undeclared_plans_and_bad_period_ends_are_reported() {
    let mut b = HistoryBuilder::new().plans(["basic", "pro"]);
    b.push_customer(Customer::new(1u64, day(0)));
    b.extend([
        sub(1, "A", 0, 10.0),
        Subscription::new(1u64, "B", "gold", day(0), BillingPeriod::Monthly, 5.0), // 1: undeclared
        sub(1, "C", 10, 10.0).with_current_period_end(day(5)), // 2: end before start, cleared
    ]);
    b.extend([
        ev(1, "A", 31, K::Renewal),
        ev(1, "A", 40, K::Renewal), // 1: 9 days after the last renewal of a monthly plan
        ev(1, "A", 60, K::Renewal),
        ev(
            1,
            "A",
            61,
            K::Upgrade {
                price: 50.0,
                plan: Some("gold".into()),
            },
        ), // 3: undeclared
        ev(
            1,
            "A",
            62,
            K::Upgrade {
                price: 20.0,
                plan: Some("pro".into()),
            },
        ),
        ev(1, "A", 70, K::Ended),
        ev(
            1,
            "A",
            75,
            K::CancellationRequested {
                reason: ChurnReason::Price,
                note: None,
            },
        ), // 6
        ev(1, "A", 91, K::Renewal), // 7: after the end
    ]);
    let (history, report) = b.build().unwrap();
    let found: Vec<(RecordKind, usize, Option<&str>, &str)> = report
        .iter()
        .map(|i| {
            (
                i.record().kind(),
                i.record().index(),
                i.field(),
                i.problem().name(),
            )
        })
        .collect();
    use RecordKind::{Subscription as S, SubscriptionEvent as E};
    assert_eq!(
        found,
        [
            (S, 1, Some("plan"), "unknown_plan"),
            (S, 2, Some("current_period_end"), "end_before_start"),
            (E, 1, Some("time"), "overlapping_renewal"),
            (E, 3, Some("plan"), "unknown_plan"),
            (E, 6, Some("time"), "after_end"),
            (E, 7, Some("time"), "after_end"),
        ]
    );
    assert_eq!(report.repaired(), 1);
    assert_eq!(history.subscription_count(), 2);
    let c = history.subscription(1).unwrap();
    assert_eq!((c.id(), c.current_period_end()), ("C", None));
    let a = history.subscription(0).unwrap();
    assert_eq!(a.events().len(), 4);
    assert_eq!(a.plan_at(day(80)), "pro");
    let msg = report.issues()[4].to_string();
    assert!(
        msg.contains("cancellation_requested at 2024-03-16"),
        "{msg}"
    );
}

#[test]
fn build_strict_names_the_subscription_record_and_field() {
    let mut b = HistoryBuilder::new();
    b.push_customer(Customer::new(1u64, day(0)));
    b.push_subscription(sub(1, "A", 0, 10.0));
    b.push_subscription_event(ev(
        1,
        "A",
        10,
        K::Upgrade {
            price: -3.0,
            plan: None,
        },
    ));
    let err = b.build_strict().unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("subscription event 0"), "{msg}");
    assert!(msg.contains("price"), "{msg}");
}

#[test]
fn implicit_customers_sign_up_at_their_first_subscription() {
    let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    b.push_subscription(sub(5, "A", 20, 10.0));
    b.push_subscription_event(ev(5, "A", 25, K::PaymentFailed));
    let (history, report) = b.build().unwrap();
    assert!(report.is_clean(), "{report}");
    let c = history.find(&CustomerId::from(5u64)).unwrap();
    assert_eq!(c.signup(), day(20));
    assert_eq!(c.subscriptions().len(), 1);
}

#[test]
fn memory_states_bytes_per_subscription_and_event() {
    let history = churnwise::doc_support::subscribers().unwrap();
    let m = history.memory();
    assert!(m.subscriptions > 0 && m.subscription_events > 0);
    assert_eq!(
        m.total(),
        m.customers
            + m.orders
            + m.interactions
            + m.feedback
            + m.subscriptions
            + m.subscription_events
    );
    // Fixed columns plus the interned ids, plans, note and custom reasons.
    assert!(m.bytes_per_subscription_event() >= 21.0);
}

#[test]
fn a_history_without_subscriptions_allocates_nothing_for_them() {
    let history = churnwise::doc_support::two_customers().unwrap();
    let m = history.memory();
    assert_eq!((m.subscriptions, m.subscription_events), (0, 0));
    assert_eq!(history.customer(0).unwrap().subscriptions().len(), 0);
}

#[test]
fn events_round_trip_through_the_history() {
    let history = churnwise::doc_support::subscribers().unwrap();
    let s = history.subscription(0).unwrap();
    let events: Vec<(DateTime<Utc>, K)> = s.events().iter().collect();
    assert_eq!(
        events[3],
        (
            day(70),
            K::CancellationRequested {
                reason: ChurnReason::Price,
                note: Some("too dear".into())
            }
        )
    );
    assert_eq!(
        events[1].1,
        K::Upgrade {
            price: 25.0,
            plan: Some("pro".into())
        }
    );
    assert_eq!(
        s.status_at(day(80)),
        SubscriptionStatus::PendingCancellation
    );
    let summary = history.summary();
    assert_eq!((summary.subscriptions, summary.subscription_events), (3, 8));
    assert_eq!(
        (summary.first_event, summary.last_event),
        (Some(day(0)), Some(day(200)))
    );
}

/// A small random subscription book: (customer, id, start, price, events).
fn book() -> impl Strategy<Value = (Vec<Subscription>, Vec<SubscriptionEvent>)> {
    let subs = prop::collection::vec((1u64..4, 0u8..3, 0i64..60, 0u32..4), 0..12);
    let events = prop::collection::vec((1u64..4, 0u8..3, 0i64..200, 0u8..8, 0u32..4), 0..40);
    (subs, events).prop_map(|(subs, events)| {
        let subs = subs
            .into_iter()
            .map(|(c, s, start, p)| sub(c, &format!("S{s}"), start, f64::from(p) * 5.0))
            .collect();
        let events = events
            .into_iter()
            .map(|(c, s, d, k, p)| {
                let kind = match k {
                    0 => K::Renewal,
                    1 => K::Upgrade {
                        price: f64::from(p) * 7.0,
                        plan: Some(format!("p{p}")),
                    },
                    2 => K::Downgrade {
                        price: f64::from(p),
                        plan: None,
                    },
                    3 => K::Pause,
                    4 => K::Resume,
                    5 => K::PaymentFailed,
                    6 => K::CancellationRequested {
                        reason: if p == 0 {
                            ChurnReason::Custom("own".into())
                        } else {
                            ChurnReason::Price
                        },
                        note: (p == 1).then(|| "n".to_string()),
                    },
                    _ => K::Ended,
                };
                ev(c, &format!("S{s}"), d, kind)
            })
            .collect();
        (subs, events)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn subscriptions_do_not_depend_on_push_order(
        (subs, events) in book(),
        seed in any::<u64>(),
    ) {
        let build = |subs: &[Subscription], events: &[SubscriptionEvent]| {
            let mut b = HistoryBuilder::new();
            b.extend((1u64..4).map(|c| Customer::new(c, day(0))));
            b.extend(subs.iter().cloned());
            b.extend(events.iter().cloned());
            b.build().unwrap()
        };
        let (a, ra) = build(&subs, &events);
        let mut s2 = subs.clone();
        let mut e2 = events.clone();
        // A seeded shuffle (Fisher–Yates with a simple LCG).
        let mut state = seed | 1;
        let mut next = |n: usize| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        for i in (1..s2.len()).rev() { let j = next(i + 1); s2.swap(i, j); }
        for i in (1..e2.len()).rev() { let j = next(i + 1); e2.swap(i, j); }
        let (b, rb) = build(&s2, &e2);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(ra.len(), rb.len());
        prop_assert_eq!(ra.accepted(), rb.accepted());
        // Every state query stays in range and agrees with itself.
        for s in a.subscriptions() {
            for d in [0i64, 30, 90, 365] {
                let st = s.status_at(day(d));
                prop_assert_eq!(s.mrr_at(day(d)) > 0.0, st.is_billing() && s.price_at(day(d)) > 0.0);
                if let Some(end) = s.ended_at() {
                    prop_assert_eq!(day(d) >= end, st == SubscriptionStatus::Ended);
                }
            }
        }
    }
}

/// `tests/fixtures/subscriptions.csv` and `subscription_events.csv`: a
/// small book with one problem per bad row, by hand.
#[cfg(feature = "csv")]
#[test]
fn csv_fixtures_read_validate_and_explain_every_bad_row() {
    use churnwise::records::{SubscriptionCsv, SubscriptionEventCsv};
    let subs = include_str!("../fixtures/subscriptions.csv");
    let events = include_str!("../fixtures/subscription_events.csv");
    let mut b = HistoryBuilder::new();
    b.extend((1u64..=3).map(|c| Customer::new(c, day(0))));
    let n = b
        .read_subscriptions_csv(subs.as_bytes(), &SubscriptionCsv::new())
        .unwrap();
    assert_eq!(n, 8);
    let n = b
        .read_subscription_events_csv(events.as_bytes(), &SubscriptionEventCsv::new())
        .unwrap();
    assert_eq!(n, 11);
    let (history, report) = b.build().unwrap();
    let found: Vec<(RecordKind, Option<u64>, Option<&str>, &str)> = report
        .iter()
        .map(|i| {
            (
                i.record().kind(),
                i.record().line(),
                i.field(),
                i.problem().name(),
            )
        })
        .collect();
    use RecordKind::{Subscription as S, SubscriptionEvent as E};
    assert_eq!(
        found,
        [
            (S, Some(5), Some("period"), "malformed"),
            (S, Some(6), Some("price"), "negative"),
            (S, Some(7), Some("auto_renew"), "malformed"),
            (S, Some(8), Some("current_period_end"), "end_before_start"),
            (S, Some(9), Some("customer"), "unknown_customer"),
            (E, Some(8), Some("time"), "after_end"),
            (E, Some(9), Some("price"), "missing"),
            (E, Some(10), Some("subscription"), "unknown_subscription"),
            (E, Some(11), Some("kind"), "malformed"),
        ]
    );
    assert_eq!(history.subscription_count(), 4);
    assert_eq!(history.subscription_event_count(), 7);

    // S-1: monthly at 10, renewed Feb 1 and Mar 1, upgraded to 25 on Feb 20,
    // cancellation requested (price) on Mar 10: ends Apr 1 (day 91).
    let c1 = history.find(&CustomerId::from(1u64)).unwrap();
    let s1 = c1.subscriptions().get(0).unwrap();
    assert_eq!(s1.id(), "S-1");
    assert_eq!(s1.ended_at(), Some(day(91)));
    assert_eq!(s1.end_reason(), Some(ChurnReason::Price));
    assert_eq!(s1.mrr_at(day(80)), 25.0);
    let (_, cancel) = s1.events().iter().last().unwrap();
    assert_eq!(
        cancel,
        K::CancellationRequested {
            reason: ChurnReason::Price,
            note: Some("found a cheaper offer, sadly".into())
        }
    );
    // S-2: yearly at 240, not auto-renewing, anchored on 2025-03-15: ends
    // then, with the custom reason requested on May 1.
    let s2 = c1.subscriptions().get(1).unwrap();
    assert_eq!(s2.mrr_at(day(100)), 20.0);
    assert_eq!(
        s2.ended_at(),
        Some(Utc.with_ymd_and_hms(2025, 3, 15, 0, 0, 0).unwrap())
    );
    assert_eq!(
        s2.end_reason(),
        Some(ChurnReason::Custom("visa expired".into()))
    );
    // S-3: every 30 days, a payment failure then the end on Mar 1.
    let c2 = history.find(&CustomerId::from(2u64)).unwrap();
    let s3 = c2.subscriptions().get(0).unwrap();
    assert_eq!(s3.period(), BillingPeriod::Days(30));
    assert_eq!(s3.end_reason(), Some(ChurnReason::PaymentFailed));
    assert_eq!(s3.ended_at(), Some(day(60)));
    // S-7 kept with its period end cleared.
    let c3 = history.find(&CustomerId::from(3u64)).unwrap();
    assert_eq!(
        c3.subscriptions().get(0).unwrap().current_period_end(),
        None
    );
}
