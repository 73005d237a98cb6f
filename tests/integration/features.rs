//! Features through the public API: no leakage across the as-of time.

use chrono::{DateTime, Duration, TimeZone, Utc};
use churnwise::features::{FeatureSpec, FeatureTable, Snapshot};
use churnwise::records::{
    BillingPeriod, ChurnReason, ComplaintTopic, Customer, Feedback, HistoryBuilder, Interaction,
    InteractionKind, Order, SatisfactionScale, Subscription, SubscriptionEvent,
    SubscriptionEventKind,
};
use proptest::prelude::*;

fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(d)
}

const AS_OF: i64 = 400 * 24 * 60; // minutes

#[derive(Debug, Clone)]
enum Event {
    Order(u64, i64, f64),
    Interaction(u64, i64, u8, f64),
    Feedback(u64, i64, f64),
    /// customer, subscription number, start, period code, auto-renew, price.
    Subscription(u64, u8, i64, u8, bool, f64),
    /// customer, subscription number, time, kind code, price.
    SubChange(u64, u8, i64, u8, f64),
}

fn event(ids: std::ops::Range<u64>, times: std::ops::Range<i64>) -> impl Strategy<Value = Event> {
    prop_oneof![
        (ids.clone(), times.clone(), -20.0..200.0f64).prop_map(|(c, t, a)| Event::Order(c, t, a)),
        (ids.clone(), times.clone(), 0u8..6, 0.0..100.0f64)
            .prop_map(|(c, t, k, h)| Event::Interaction(c, t, k, h)),
        (ids.clone(), times.clone(), 1.0..5.0f64).prop_map(|(c, t, s)| Event::Feedback(
            c,
            t,
            s.round()
        )),
        (
            ids.clone(),
            0u8..2,
            times.clone(),
            0u8..3,
            any::<bool>(),
            0.0..50.0f64
        )
            .prop_map(|(c, n, t, p, a, x)| Event::Subscription(c, n, t, p, a, x)),
        (ids, 0u8..2, times, 0u8..8, 0.0..50.0f64)
            .prop_map(|(c, n, t, k, x)| Event::SubChange(c, n, t, k, x)),
    ]
}

fn push(b: &mut HistoryBuilder, e: &Event) {
    match *e {
        Event::Order(c, t, a) => b.push_order(Order::new(c, day(t), a)),
        Event::Interaction(c, t, k, h) => {
            let kind = match k {
                0 => InteractionKind::Login,
                1 => InteractionKind::Visit,
                2 => InteractionKind::SupportTicket {
                    first_response_hours: Some(h),
                },
                3 => InteractionKind::Complaint {
                    topic: ComplaintTopic::Service,
                },
                4 => InteractionKind::CampaignResponse {
                    campaign: "spring".into(),
                },
                _ => InteractionKind::Cancellation,
            };
            b.push_interaction(Interaction::new(c, day(t), kind));
        }
        Event::Feedback(c, t, s) => {
            b.push_feedback(Feedback::new(c, day(t), s, SatisfactionScale::FIVE_POINT))
        }
        Event::Subscription(c, n, t, p, auto, price) => {
            let period = match p {
                0 => BillingPeriod::Monthly,
                1 => BillingPeriod::Yearly,
                _ => BillingPeriod::Days(7),
            };
            let plan = if n == 0 { "basic" } else { "pro" };
            b.push_subscription(
                Subscription::new(c, format!("S{n}"), plan, day(t), period, price)
                    .with_auto_renew(auto),
            );
        }
        Event::SubChange(c, n, t, k, price) => {
            let plan = Some(if price > 25.0 { "pro" } else { "lite" }.to_owned());
            let kind = match k {
                0 => SubscriptionEventKind::Renewal,
                1 => SubscriptionEventKind::Upgrade { price, plan },
                2 => SubscriptionEventKind::Downgrade { price, plan },
                3 => SubscriptionEventKind::Pause,
                4 => SubscriptionEventKind::Resume,
                5 => SubscriptionEventKind::PaymentFailed,
                6 => SubscriptionEventKind::CancellationRequested {
                    reason: ChurnReason::Price,
                    note: None,
                },
                _ => SubscriptionEventKind::Ended,
            };
            b.push_subscription_event(SubscriptionEvent::new(c, format!("S{n}"), day(t), kind));
        }
    }
}

fn table(signups: &[i64], events: &[Event], late_customers: &[(u64, i64)]) -> FeatureTable {
    let mut b = HistoryBuilder::new();
    for (i, &s) in signups.iter().enumerate() {
        b.push_customer(Customer::new(i as u64, day(s)));
    }
    for &(id, s) in late_customers {
        b.push_customer(Customer::new(id, day(s)));
    }
    events.iter().for_each(|e| push(&mut b, e));
    let (history, _) = b.build().unwrap();
    FeatureSpec::contractual()
        .extract(&history, &Snapshot::new(day(AS_OF)))
        .unwrap()
}

fn bits(t: &FeatureTable) -> Vec<u64> {
    t.values().iter().map(|v| v.to_bits()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    /// Adding any events after the as-of time (orders, interactions,
    /// feedback, subscriptions starting later and subscription events), and
    /// customers who sign up after it, leaves the feature table (with the
    /// subscription features) bit-identical.
    #[test]
    fn features_read_nothing_after_as_of(
        signups in prop::collection::vec(0..AS_OF, 1..8),
        before in prop::collection::vec(event(0..8, 0..AS_OF + 1), 0..60),
        after in prop::collection::vec(event(0..10, AS_OF + 1..AS_OF + 200_000), 1..40),
        late in prop::collection::vec((100u64..104, AS_OF + 1..AS_OF + 90_000), 0..3),
    ) {
        let base = table(&signups, &before, &[]);
        let all: Vec<Event> = before.iter().chain(&after).cloned().collect();
        let more = table(&signups, &all, &late);
        prop_assert_eq!(base.ids(), more.ids());
        prop_assert_eq!(base.names(), more.names());
        prop_assert_eq!(bits(&base), bits(&more));
        prop_assert!(base.values().iter().all(|v| v.is_finite()));
    }
}

#[test]
fn rfm_features_agree_with_a_direct_group_by() {
    let pop = churnwise::synth::PopulationConfig::default()
        .customers(1_500)
        .seed(21)
        .generate()
        .unwrap();
    let (history, _) = pop.history_builder().build().unwrap();
    let as_of = Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap();
    let table = FeatureSpec::rfm()
        .extract(&history, &Snapshot::new(as_of))
        .unwrap();
    // Recompute from the raw order records, as a group-by would.
    for (row, id) in table.ids().iter().enumerate() {
        let orders: Vec<&Order> = pop
            .orders()
            .iter()
            .filter(|o| &o.customer == id && o.time <= as_of)
            .collect();
        let spend: f64 = orders.iter().map(|o| o.amount).sum();
        let purchases = orders.iter().filter(|o| o.amount >= 0.0).count();
        assert_eq!(table.column("orders_total").unwrap()[row], purchases as f64);
        approx::assert_relative_eq!(
            table.column("spend_total").unwrap()[row],
            spend,
            max_relative = 1e-12,
            epsilon = 1e-9
        );
        if let Some(last) = orders.iter().map(|o| o.time).max() {
            let recency = (as_of - last).num_seconds() as f64 / 86_400.0;
            approx::assert_abs_diff_eq!(
                table.column("recency_days").unwrap()[row],
                recency,
                epsilon = 1e-9
            );
        }
    }
}
