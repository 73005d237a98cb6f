//! Unit tests of the validation rules.

use super::*;
use crate::records::{ComplaintTopic, SatisfactionScale};

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, d, 0, 0, 0).unwrap()
}

fn one_customer() -> HistoryBuilder {
    let mut b = HistoryBuilder::new();
    b.push_customer(Customer::new(1u64, day(2)));
    b
}

/// (input index, problem) of every issue.
fn problems(report: &DataQualityReport) -> Vec<(usize, Problem)> {
    report
        .iter()
        .map(|i| (i.record().index(), i.problem().clone()))
        .collect()
}

fn only_issue(report: &DataQualityReport) -> &Issue {
    assert_eq!(report.issues().len(), 1, "{report}");
    &report.issues()[0]
}

#[test]
fn drops_non_finite_amounts() {
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut b = one_customer();
        b.push_order(Order::new(1u64, day(3), v));
        let (h, report) = b.build().unwrap();
        assert_eq!(h.order_count(), 0);
        let i = only_issue(&report);
        assert_eq!((i.field(), i.action()), (Some("amount"), Action::Dropped));
        assert_eq!(i.problem().name(), "non_finite");
    }
}

#[test]
fn drops_absurd_amounts_but_keeps_refunds() {
    let mut b = one_customer().max_abs_amount(1000.0);
    b.push_order(Order::new(1u64, day(3), 1000.5));
    b.push_order(Order::new(1u64, day(4), -1000.5));
    b.push_order(Order::new(1u64, day(5), -20.0));
    let (h, report) = b.build().unwrap();
    assert_eq!(h.customer(0).unwrap().orders().amounts(), [-20.0]);
    assert_eq!(report.count("absurd_amount"), 2);
    assert_eq!(h.summary().refunds, 20.0);
}

#[test]
fn rejects_invalid_limits() {
    for v in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = HistoryBuilder::new().max_abs_amount(v).build().unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter {
                name: "max_abs_amount",
                ..
            }
        ));
    }
    let err = HistoryBuilder::new()
        .time_range(day(5), day(4))
        .build()
        .unwrap_err();
    assert!(matches!(
        err.kind(),
        ErrorKind::InvalidParameter {
            name: "time_range",
            ..
        }
    ));
}

#[test]
fn drops_times_out_of_range() {
    let mut b = one_customer().time_range(day(1), day(20));
    b.push_order(Order::new(1u64, day(21), 5.0));
    b.push_customer(Customer::new(
        2u64,
        Utc.with_ymd_and_hms(1800, 1, 1, 0, 0, 0).unwrap(),
    ));
    let (h, report) = b.build().unwrap();
    assert_eq!((h.customer_count(), h.order_count()), (1, 0));
    assert_eq!(report.count("time_out_of_range"), 2);
    assert_eq!(report.dropped(RecordKind::Customer), 1);
}

#[test]
fn drops_exact_duplicates_keeping_the_first() {
    let mut b = one_customer();
    b.push_order(Order::new(1u64, day(3), 5.0));
    b.push_order(Order::new(1u64, day(4), 5.0));
    b.push_order(Order::new(1u64, day(3), 5.0));
    let (h, report) = b.build().unwrap();
    assert_eq!(h.order_count(), 2);
    let i = only_issue(&report);
    assert_eq!(i.record().index(), 2);
    assert_eq!(i.problem(), &Problem::Duplicate { kept: 0 });
}

#[test]
fn keeps_duplicates_when_asked() {
    let mut b = one_customer().duplicates(Duplicates::Keep);
    b.push_order(Order::new(1u64, day(3), 5.0));
    b.push_order(Order::new(1u64, day(3), 5.0));
    let (h, report) = b.build().unwrap();
    assert_eq!(h.order_count(), 2);
    assert!(report.is_clean());
}

#[test]
fn order_ids_are_unique_across_customers() {
    let mut b = one_customer().duplicates(Duplicates::Keep);
    b.push_customer(Customer::new(2u64, day(2)));
    b.push_order(Order::new(1u64, day(3), 5.0).with_order_id("A"));
    b.push_order(Order::new(1u64, day(3), 5.0).with_order_id("A"));
    b.push_order(Order::new(2u64, day(4), 7.0).with_order_id("A"));
    b.push_order(Order::new(2u64, day(4), 7.0).with_order_id("B"));
    let (h, report) = b.build().unwrap();
    assert_eq!(h.order_count(), 2);
    assert_eq!(
        problems(&report),
        [
            (1, Problem::Duplicate { kept: 0 }),
            (2, Problem::Conflict { kept: 0 })
        ]
    );
    let ids: Vec<_> = h.orders().map(|o| o.order_id).collect();
    assert_eq!(ids, [Some("A".to_owned()), Some("B".to_owned())]);
}

#[test]
fn unknown_customers_are_rejected_or_created() {
    let push = |b: &mut HistoryBuilder| {
        b.push_order(Order::new("X", day(5), 5.0));
        b.push_interaction(Interaction::new("X", day(4), InteractionKind::Login));
    };
    let mut b = one_customer();
    push(&mut b);
    let (h, report) = b.build().unwrap();
    assert_eq!(h.customer_count(), 1);
    assert_eq!(report.count("unknown_customer"), 2);

    let mut b = one_customer().unknown_customers(UnknownCustomers::Create);
    push(&mut b);
    let (h, report) = b.build().unwrap();
    assert!(report.is_clean());
    assert_eq!(report.implicit_customers(), 1);
    let x = h.find(&CustomerId::from("X")).unwrap();
    assert_eq!(x.signup(), day(4)); // the first event of any kind
    assert_eq!(report.accepted().customers, 2);
    assert_eq!(report.received().customers, 2);
}

#[test]
fn events_before_signup_are_dropped_or_move_the_signup() {
    let mut b = one_customer();
    b.push_order(Order::new(1u64, day(1), 5.0));
    let (h, report) = b.build().unwrap();
    assert_eq!(h.order_count(), 0);
    assert_eq!(only_issue(&report).problem().name(), "before_signup");

    let mut b = one_customer().events_before_signup(EventsBeforeSignup::MoveSignup);
    b.push_order(Order::new(1u64, day(1), 5.0));
    let (h, report) = b.build().unwrap();
    assert_eq!(h.order_count(), 1);
    assert_eq!(h.customer(0).unwrap().signup(), day(1));
    let i = only_issue(&report);
    assert_eq!(
        (i.record().kind(), i.field(), i.action()),
        (RecordKind::Customer, Some("signup"), Action::Repaired)
    );
}

#[test]
fn duplicate_customers_keep_the_earliest_signup() {
    let mut b = HistoryBuilder::new();
    b.push_customer(Customer::new(1u64, day(5)).with_plan("gold"));
    b.push_customer(Customer::new(1u64, day(2)));
    b.push_customer(Customer::new(1u64, day(2)));
    let (h, report) = b.build().unwrap();
    let c = h.customer(0).unwrap();
    assert_eq!((c.signup(), c.plan()), (day(2), None));
    assert_eq!(
        problems(&report),
        [
            (0, Problem::Conflict { kept: 1 }),
            (2, Problem::Duplicate { kept: 1 })
        ]
    );
}

#[test]
fn repairs_bad_response_times_and_nps() {
    let mut b = one_customer();
    let ticket = |h| InteractionKind::SupportTicket {
        first_response_hours: Some(h),
    };
    b.push_interaction(Interaction::new(1u64, day(3), ticket(-2.0)));
    b.push_interaction(Interaction::new(1u64, day(4), ticket(f64::NAN)));
    b.push_feedback(Feedback::new(1u64, day(3), 4.0, SatisfactionScale::FIVE_POINT).with_nps(11));
    let (h, report) = b.build().unwrap();
    assert_eq!(report.repaired(), 3);
    let kinds: Vec<_> = h.customer(0).unwrap().interactions().kinds().collect();
    let unanswered = InteractionKind::SupportTicket {
        first_response_hours: None,
    };
    assert_eq!(kinds, [unanswered.clone(), unanswered]);
    assert_eq!(h.feedback().next().unwrap().nps, None);
}

#[test]
fn drops_satisfaction_off_scale() {
    let mut b = one_customer();
    for v in [0.5, 5.5, f64::NAN] {
        b.push_feedback(Feedback::new(
            1u64,
            day(3),
            v,
            SatisfactionScale::FIVE_POINT,
        ));
    }
    b.push_feedback(Feedback::new(
        1u64,
        day(3),
        9.0,
        SatisfactionScale::TEN_POINT,
    ));
    let (h, report) = b.build().unwrap();
    assert_eq!(h.feedback_count(), 1);
    assert_eq!(report.count("out_of_scale"), 2);
    assert_eq!(report.count("non_finite"), 1);
}

#[test]
fn received_equals_accepted_plus_dropped() {
    let mut b = one_customer();
    b.push_order(Order::new(1u64, day(3), f64::NAN));
    b.push_order(Order::new(1u64, day(3), 1.0));
    b.push_order(Order::new(1u64, day(3), 1.0));
    b.push_order(Order::new(9u64, day(3), 1.0));
    b.push_interaction(Interaction::new(
        1u64,
        day(1),
        InteractionKind::Complaint {
            topic: ComplaintTopic::Price,
        },
    ));
    let (_, report) = b.build().unwrap();
    for kind in [
        RecordKind::Customer,
        RecordKind::Order,
        RecordKind::Interaction,
        RecordKind::Feedback,
    ] {
        assert_eq!(
            report.received().get(kind),
            report.accepted().get(kind) + report.dropped(kind),
            "{kind}"
        );
    }
}

#[test]
fn strict_build_names_the_first_problem() {
    let mut b = one_customer();
    b.push_order(Order::new(1u64, day(3), 1.0));
    b.push_order(Order::new(1u64, day(1), 1.0));
    b.push_order(Order::new(1u64, day(3), f64::NAN));
    let err = b.build_strict().unwrap_err();
    let ErrorKind::InvalidRecord {
        index,
        field,
        problem,
        ..
    } = err.kind()
    else {
        panic!("{err}")
    };
    assert_eq!(
        (*index, *field, *problem),
        (1, Some("time"), "before_signup")
    );
    assert!(
        err.to_string()
            .starts_with("order 1, field `time`: event at 2024-01-01")
    );
    assert!(one_customer().build_strict().is_ok());
}

#[test]
fn campaigns_are_canonical_whatever_the_push_order() {
    let build = |names: &[&str]| {
        let mut b = one_customer();
        for n in names {
            let kind = InteractionKind::CampaignResponse {
                campaign: (*n).into(),
            };
            b.push_interaction(Interaction::new(1u64, day(3), kind));
        }
        b.build().unwrap().0
    };
    assert_eq!(build(&["b", "a"]), build(&["a", "b"]));
}

#[test]
fn interner_direct_table_and_map_agree() {
    let mut i = Interner::default();
    let ids = [5u64, 1 << 40, 3, 70_000, 5, 1 << 40, 123_456, 3];
    let keys: Vec<u32> = ids.iter().map(|&n| i.intern_u64(n)).collect();
    assert_eq!(keys, [0, 1, 2, 3, 0, 1, 4, 2]);
    for (k, &n) in keys.iter().zip(&ids) {
        assert_eq!(i.ids[*k as usize], CustomerId::from(n));
    }
    assert_eq!(i.intern_str("70000"), 3);
    assert_eq!(i.intern_str("C-1"), 5);
}

#[test]
fn groups_rows_across_many_buckets() {
    // Enough rows and customers to use several buckets and threads.
    let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    let n = 50_000u64;
    for i in 0..200_000u64 {
        let c = (i * 7919) % n;
        b.push_order(Order::new(c, day(1 + (i % 28) as u32), i as f64));
    }
    let (h, report) = b.build().unwrap();
    assert!(report.is_clean());
    assert_eq!(h.customer_count(), n as usize);
    for c in h.customers() {
        let id = c.id().as_u64().unwrap();
        let o = c.orders();
        assert_eq!(o.len(), 4);
        assert!(o.amounts().iter().all(|&a| (a as u64 * 7919) % n == id));
        assert!(o.times().zip(o.times().skip(1)).all(|(a, b)| a <= b));
    }
}
