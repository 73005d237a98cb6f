//! Churn reasons: shares and Wilson intervals against statsmodels'
//! `proportion_confint(method="wilson")` and hand counts, and complaint
//! topics read from hand-built histories.

use approx::assert_abs_diff_eq;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use churnwise::ErrorKind;
use churnwise::analysis::reasons::{
    ChurnEvent, ComplaintReasons, NO_REASON, NO_SEGMENT, ReasonShares, TopicChoice,
};
use churnwise::features::ChurnLabeler;
use churnwise::records::{
    ComplaintTopic, Customer, CustomerId, History, HistoryBuilder, Interaction, InteractionKind,
    Order,
};
use churnwise::synth::PopulationConfig;

fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + TimeDelta::days(d)
}

#[test]
fn shares_carry_the_statsmodels_wilson_interval() {
    // statsmodels: proportion_confint(312, 2400, method="wilson")
    //   -> (0.11713434481167946, 0.14404821218137126)
    let events: Vec<ChurnEvent> = (0..2_400u64)
        .map(|i| {
            let e = ChurnEvent::new(i, day(10));
            if i < 312 { e.with_reason("price") } else { e }
        })
        .collect();
    let report = ReasonShares::new().report(&events).unwrap();
    let price = &report.overall()[0];
    assert_eq!((price.reason(), price.count()), ("price", 312));
    assert_abs_diff_eq!(price.share(), 0.13, epsilon = 1e-15);
    assert_abs_diff_eq!(
        price.interval().lower,
        0.117_134_344_811_679_46,
        epsilon = 1e-12
    );
    assert_abs_diff_eq!(
        price.interval().upper,
        0.144_048_212_181_371_26,
        epsilon = 1e-12
    );
    let none = &report.overall()[1];
    assert_eq!((none.reason(), none.count()), (NO_REASON, 2_088));
}

#[test]
fn reason_by_segment_and_month_tables_count_every_customer() {
    let mut events = Vec::new();
    // January: 3 basic (2 price, 1 none), 1 premium (quality); February: 2 premium (competitor), 1 without segment.
    let jan = |i: u64| ChurnEvent::new(i, day(5));
    let feb = |i: u64| ChurnEvent::new(i, day(40));
    events.push(jan(1).with_reason("price").with_segment("basic"));
    events.push(jan(2).with_reason("price").with_segment("basic"));
    events.push(jan(3).with_segment("basic"));
    events.push(jan(4).with_reason("quality").with_segment("premium"));
    events.push(feb(5).with_reason("competitor").with_segment("premium"));
    events.push(feb(6).with_reason("competitor").with_segment("premium"));
    events.push(feb(7).with_reason("quality"));
    let report = ReasonShares::new().report(&events).unwrap();
    let order: Vec<&str> = report.overall().iter().map(|r| r.reason()).collect();
    assert_eq!(order, ["competitor", "price", "quality", NO_REASON]);
    assert_eq!(report.churned(), 7);
    let segments: Vec<(&str, u64)> = report
        .by_segment()
        .iter()
        .map(|g| (g.label(), g.churned()))
        .collect();
    assert_eq!(segments, [("basic", 3), ("premium", 3), (NO_SEGMENT, 1)]);
    assert_eq!(report.count("price", "basic"), Some(2));
    assert_eq!(report.count(NO_REASON, "basic"), Some(1));
    assert_eq!(report.count("competitor", "premium"), Some(2));
    assert_eq!(report.count("quality", NO_SEGMENT), Some(1));
    assert_eq!(report.count("price", "gold"), None);
    let months: Vec<(&str, u64)> = report
        .by_month()
        .iter()
        .map(|g| (g.label(), g.churned()))
        .collect();
    assert_eq!(months, [("2024-01", 4), ("2024-02", 3)]);
    let feb_shares: Vec<f64> = report.by_month()[1]
        .shares()
        .iter()
        .map(|s| s.share())
        .collect();
    assert_eq!(feb_shares, [2.0 / 3.0, 0.0, 1.0 / 3.0, 0.0]);
    // Every group's shares add up to 1 with one reason per customer.
    for g in report.by_segment().iter().chain(report.by_month()) {
        let total: f64 = g.shares().iter().map(|s| s.share()).sum();
        assert_abs_diff_eq!(total, 1.0, epsilon = 1e-12);
    }
    let text = report.to_string();
    assert!(text.contains("competitor") && text.contains("2024-02"));
}

/// Customer 1 (basic): delivery on day 10, price on day 50, cancels on day 100.
/// Customer 2 (premium): product on day 5 only, cancels on day 200.
/// Customer 3: no complaint, keeps buying.
fn history() -> History {
    let mut b = HistoryBuilder::new();
    b.push_customer(Customer::new(1u64, day(0)).with_plan("basic"));
    b.push_customer(Customer::new(2u64, day(0)).with_plan("premium"));
    b.push_customer(Customer::new(3u64, day(0)));
    let complaint =
        |c: u64, d, topic| Interaction::new(c, day(d), InteractionKind::Complaint { topic });
    b.push_interaction(complaint(1, 10, ComplaintTopic::Delivery));
    b.push_interaction(complaint(1, 50, ComplaintTopic::Price));
    b.push_interaction(Interaction::new(
        1u64,
        day(100),
        InteractionKind::Cancellation,
    ));
    b.push_interaction(complaint(2, 5, ComplaintTopic::Product));
    b.push_interaction(Interaction::new(
        2u64,
        day(200),
        InteractionKind::Cancellation,
    ));
    for d in (0..400).step_by(20) {
        b.push_order(Order::new(3u64, day(d), 10.0));
    }
    b.build().unwrap().0
}

#[test]
fn complaint_topics_in_the_window_before_churn_become_reasons() {
    let history = history();
    let events = ComplaintReasons::new()
        .segment_attribute("plan")
        .from_cancellations(&history, day(0), day(365))
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].reasons, ["price"]); // the latest of the 90 days
    assert_eq!(events[0].segment.as_deref(), Some("basic"));
    assert!(events[1].reasons.is_empty()); // product was 195 days before
    let all = ComplaintReasons::new()
        .topics(TopicChoice::All)
        .window_days(95)
        .events(&history, &[(CustomerId::from(1u64), day(100))])
        .unwrap();
    assert_eq!(all[0].reasons, ["delivery", "price"]);
    let report = ReasonShares::new().report(&events).unwrap();
    let counts: Vec<(&str, u64)> = report
        .overall()
        .iter()
        .map(|r| (r.reason(), r.count()))
        .collect();
    assert_eq!(counts, [("price", 1), (NO_REASON, 1)]);
    // Only cancellations in [from, to) count.
    let late = ComplaintReasons::new()
        .from_cancellations(&history, day(150), day(365))
        .unwrap();
    assert_eq!(late.len(), 1);
    let err = ComplaintReasons::new()
        .events(&history, &[(CustomerId::from(9u64), day(1))])
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
fn synthetic_cancellations_give_a_reason_report() {
    let population = PopulationConfig::default()
        .customers(4_000)
        .seed(23)
        .generate()
        .unwrap();
    let (history, _) = population.history_builder().build().unwrap();
    let as_of = Utc.with_ymd_and_hms(2024, 9, 1, 0, 0, 0).unwrap();
    let events = ComplaintReasons::new()
        .segment_attribute("channel")
        .from_cancellations(&history, as_of - TimeDelta::days(365), as_of)
        .unwrap();
    assert!(events.len() > 20, "{} cancellations", events.len());
    let report = ReasonShares::new().report(&events).unwrap();
    assert_eq!(report.churned() as usize, events.len());
    let total: u64 = report.overall().iter().map(|r| r.count()).sum();
    assert_eq!(total as usize, events.len()); // one reason (or none) each
    let labels = ChurnLabeler::new().labels(&history, as_of).unwrap();
    let from_labels = ComplaintReasons::new()
        .from_labels(&history, &labels, as_of)
        .unwrap();
    let churned = labels.churned().iter().filter(|&&c| c).count();
    assert_eq!(from_labels.len(), churned);
    assert!(from_labels.iter().all(|e| e.time == as_of));
}
