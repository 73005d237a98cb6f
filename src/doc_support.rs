//! Shared set-up for the documentation examples.
//!
//! Doc examples are compiled against the public crate, so the set-up that
//! many of them repeat (a synthetic history, a feature table, a trained
//! scorer) lives here once, behind `#[doc(hidden)]`. An example keeps the
//! lines it teaches visible and hides the set-up with `# let .. =
//! churnwise::doc_support::..;`. Not part of the supported API: it may change
//! in any release.

use chrono::{DateTime, TimeZone, Utc};

use crate::Result;
use crate::features::{ChurnLabeler, FeatureSpec, FeatureTable, Snapshot, TrainingSet};
use crate::model::LogisticRegression;
use crate::records::{
    Customer, Feedback, History, HistoryBuilder, Interaction, InteractionKind, Order,
    SatisfactionScale,
};
use crate::retention::{Intervention, InterventionKind, Playbook, SegmentBy};
use crate::rules::Route;
use crate::score::{ChurnScorer, Profile, Profiles};
use crate::segment::LifecycleStage;
use crate::synth::PopulationConfig;

/// Midnight UTC on the first day of `month` in 2024, the synthetic
/// populations' observation year.
pub fn month(month: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// A validated history of `customers` synthetic customers.
pub fn history(customers: usize, seed: u64) -> Result<History> {
    let population = PopulationConfig::default()
        .customers(customers)
        .seed(seed)
        .generate()?;
    Ok(population.history_builder().build()?.0)
}

/// Every built-in feature of a synthetic history as of `month(as_of_month)`.
pub fn table(customers: usize, seed: u64, as_of_month: u32) -> Result<(History, FeatureTable)> {
    let history = history(customers, seed)?;
    let table = FeatureSpec::all().extract(&history, &Snapshot::new(month(as_of_month)))?;
    Ok((history, table))
}

/// A logistic churn scorer trained on snapshots of March and June 2024 of a
/// synthetic history, with the history and the June snapshot.
pub fn scorer(customers: usize, seed: u64) -> Result<(History, Snapshot, ChurnScorer)> {
    let history = history(customers, seed)?;
    let snapshot = Snapshot::new(month(6));
    let train = ChurnLabeler::new().training_set(
        &history,
        &FeatureSpec::all(),
        &snapshot,
        &[month(3), month(6)],
    )?;
    let scorer = ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?;
    Ok((history, snapshot, scorer))
}

/// Midnight UTC on 2024-01-01 plus `days` days.
pub fn day(days: i64) -> DateTime<Utc> {
    month(1) + chrono::TimeDelta::days(days)
}

/// A two-customer history: customer 1 (signed up 2024-01-01, plan `gold`,
/// tag `b2b`) with an order of 40 on Jan 3, a login on Jan 4, a refund of
/// −10 on Jan 5 and a satisfaction of 4 of 5 on Jan 6; customer `C-2`
/// (signed up Jan 2) without events.
pub fn two_customers() -> Result<History> {
    let jan = |d: i64| day(d - 1);
    let mut b = HistoryBuilder::new();
    b.push_customer(
        Customer::new(1u64, jan(1))
            .with_plan("gold")
            .with_tag("b2b"),
    );
    b.push_customer(Customer::new("C-2", jan(2)));
    b.push_order(Order::new(1u64, jan(3), 40.0));
    b.push_order(Order::new(1u64, jan(5), -10.0));
    b.push_interaction(Interaction::new(1u64, jan(4), InteractionKind::Login));
    b.push_feedback(Feedback::new(
        1u64,
        jan(6),
        4.0,
        SatisfactionScale::FIVE_POINT,
    ));
    Ok(b.build()?.0)
}

/// Two customers signed up on [`day(0)`](day): customer 1 buys on days 20,
/// 150 and 400; customer 2 buys on day 5 and cancels on day 120.
pub fn buy_and_cancel() -> Result<History> {
    let mut b = HistoryBuilder::new();
    b.extend([Customer::new(1u64, day(0)), Customer::new(2u64, day(0))]);
    b.extend([
        Order::new(1u64, day(20), 20.0),
        Order::new(1u64, day(150), 20.0),
        Order::new(2u64, day(5), 20.0),
        Order::new(1u64, day(400), 5.0),
    ]);
    b.push_interaction(Interaction::new(
        2u64,
        day(120),
        InteractionKind::Cancellation,
    ));
    Ok(b.build()?.0)
}

/// Four active customers with churn probabilities 0.2, 0.4, 0.6 and 0.8
/// and a value of 500 each, and a playbook of one discount (cost 25,
/// effect 0.3, routed to marketing): the retention planner's examples.
pub fn plan_inputs() -> Result<(Profiles, Playbook)> {
    let profiles = Profiles::from_profiles(
        (0..4u64)
            .map(|i| {
                Profile::new(i)
                    .with_churn_probability(0.2 * (i + 1) as f64)
                    .with_customer_value(500.0)
                    .with_lifecycle_stage(LifecycleStage::Active)
            })
            .collect(),
    )?;
    let playbook = Playbook::new(
        vec![Intervention::new(
            "discount",
            InterventionKind::Discount,
            25.0,
            0.3,
            Route::Marketing,
        )],
        SegmentBy::LifecycleStage,
    )?;
    Ok((profiles, playbook))
}

/// Six customers' `recency_days` (1, 5, 20, 90, 150, 200 days) labelled
/// churned for 20, 150 and 200: the small set the model examples fit.
pub fn recency_set() -> Result<TrainingSet> {
    let x = FeatureTable::new(
        (0..6u64).map(Into::into).collect(),
        vec!["recency_days".into()],
        ndarray::array![[1.0], [5.0], [20.0], [90.0], [150.0], [200.0]],
    )?;
    TrainingSet::new(x, ndarray::array![false, false, true, false, true, true])
}

/// A logistic churn scorer fitted on four customers' `recency_days` and
/// `orders_total` ((1, 9), (20, 2), (90, 4), (200, 1), churned for the
/// second and fourth), with that table.
pub fn small_scorer() -> Result<(FeatureTable, ChurnScorer)> {
    let x = FeatureTable::new(
        (0..4u64).map(Into::into).collect(),
        vec!["recency_days".into(), "orders_total".into()],
        ndarray::array![[1.0, 9.0], [20.0, 2.0], [90.0, 4.0], [200.0, 1.0]],
    )?;
    let train = TrainingSet::new(x.clone(), ndarray::array![false, true, false, true])?;
    let scorer = ChurnScorer::new(
        LogisticRegression::new().fit(&train)?,
        &Snapshot::new(month(6)),
    )?;
    Ok((x, scorer))
}

/// A churn training set (snapshots of March and May 2024) and a test set
/// (June 2024) from a synthetic history, every built-in feature.
pub fn churn_split(customers: usize, seed: u64) -> Result<(TrainingSet, TrainingSet)> {
    let history = history(customers, seed)?;
    let snapshot = Snapshot::new(month(6));
    let labeler = ChurnLabeler::new();
    let train = labeler.training_set(
        &history,
        &FeatureSpec::all(),
        &snapshot,
        &[month(3), month(5)],
    )?;
    let test = labeler.training_set(&history, &FeatureSpec::all(), &snapshot, &[month(6)])?;
    Ok((train, test))
}

/// Two subscribers signed up on [`day(0)`](day) (2024-01-01):
///
/// - customer 1, `S-1`: monthly `basic` at 10 from day 0; renewals on days
///   31 and 60 (Feb 1, Mar 1), upgrade to `pro` at 25 on day 40,
///   cancellation requested (price, note "too dear") on day 70, so it ends
///   on day 91 (Apr 1) when the paid period ends;
/// - customer 1, `S-2`: yearly `basic` at 120 from day 100, paused on day
///   150, resumed on day 200;
/// - customer 2, `S-3`: monthly `pro` at 30 from day 10, a payment failure
///   on day 35, ended on day 45.
pub fn subscribers() -> Result<History> {
    use crate::records::{
        BillingPeriod, ChurnReason, Subscription, SubscriptionEvent, SubscriptionEventKind as K,
    };
    let mut b = HistoryBuilder::new();
    b.extend([Customer::new(1u64, day(0)), Customer::new(2u64, day(0))]);
    b.extend([
        Subscription::new(1u64, "S-1", "basic", day(0), BillingPeriod::Monthly, 10.0),
        Subscription::new(1u64, "S-2", "basic", day(100), BillingPeriod::Yearly, 120.0),
        Subscription::new(2u64, "S-3", "pro", day(10), BillingPeriod::Monthly, 30.0),
    ]);
    let e = |c: u64, s: &str, d: i64, k: K| SubscriptionEvent::new(c, s, day(d), k);
    b.extend([
        e(1, "S-1", 31, K::Renewal),
        e(
            1,
            "S-1",
            40,
            K::Upgrade {
                price: 25.0,
                plan: Some("pro".into()),
            },
        ),
        e(1, "S-1", 60, K::Renewal),
        e(
            1,
            "S-1",
            70,
            K::CancellationRequested {
                reason: ChurnReason::Price,
                note: Some("too dear".into()),
            },
        ),
        e(1, "S-2", 150, K::Pause),
        e(1, "S-2", 200, K::Resume),
        e(2, "S-3", 35, K::PaymentFailed),
        e(2, "S-3", 45, K::Ended),
    ]);
    Ok(b.build()?.0)
}

/// One cohort of yearly subscriptions started on day 0 (2024-01-01), not
/// renewing automatically, `active[0]` in all: `active[t]` of them renew at
/// each of the first `t` period ends (Jan 1 of each following year), the
/// others lapse there. Observe it at [`cohort_end`]`(active.len() - 1)`.
pub fn renewal_cohort(active: &[u64]) -> Result<History> {
    use crate::records::{
        BillingPeriod, Subscription, SubscriptionEvent, SubscriptionEventKind as K,
    };
    let mut b = HistoryBuilder::new();
    let size = active.first().copied().unwrap_or(0);
    for i in 0..size {
        b.push_customer(Customer::new(i, day(0)));
        let id = format!("S-{i}");
        b.push_subscription(
            Subscription::new(i, id.clone(), "plan", day(0), BillingPeriod::Yearly, 120.0)
                .with_auto_renew(false),
        );
        // Renews at the first k period ends, where k = #{t ≥ 1: i < active[t]}.
        let k = active.iter().skip(1).take_while(|&&a| i < a).count() as i32;
        for year in 1..=k {
            b.push_subscription_event(SubscriptionEvent::new(
                i,
                id.clone(),
                cohort_end(year as usize),
                K::Renewal,
            ));
        }
    }
    b.build_strict()
}

/// The `n`-th period end of [`renewal_cohort`]: January 1 of 2024 + `n`.
pub fn cohort_end(n: usize) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024 + n as i32, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Three orders of customers 1 and 2 as an Arrow batch, with the columns
/// named `names` (customer, time, amount): integer ids, `Date32` days,
/// `Float64` amounts.
#[cfg(feature = "arrow")]
pub fn orders_batch(names: &[&str; 3]) -> Result<arrow_array::RecordBatch> {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch};

    let day = 19_723; // 2024-01-01
    let columns: [ArrayRef; 3] = [
        Arc::new(Int64Array::from(vec![1, 1, 2])),
        Arc::new(Date32Array::from(vec![day, day + 31, day + 2])),
        Arc::new(Float64Array::from(vec![25.0, 40.0, 9.5])),
    ];
    RecordBatch::try_from_iter(names.iter().zip(columns))
        .map_err(|e| crate::arrow::arrow_error("<doc batch>", e))
}

/// Two subscriptions as an Arrow batch: customer 1's `S-1` (`basic`,
/// monthly at 10 from 2024-01-01, auto-renewing) and customer 2's `S-2`
/// (`pro`, yearly at 120 from 2024-01-01, not auto-renewing). Columns
/// `customer_id` (`Int64`), `subscription_id`, `plan`, `period` (`Utf8`),
/// `start` (`Date32`), `price` (`Float64`), `auto_renew` (`Boolean`).
#[cfg(feature = "arrow")]
pub fn subscriptions_batch() -> Result<arrow_array::RecordBatch> {
    use std::sync::Arc;

    use arrow_array::{
        ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    };

    let day = 19_723; // 2024-01-01
    let columns: [(&str, ArrayRef); 7] = [
        ("customer_id", Arc::new(Int64Array::from(vec![1, 2]))),
        (
            "subscription_id",
            Arc::new(StringArray::from(vec!["S-1", "S-2"])),
        ),
        ("plan", Arc::new(StringArray::from(vec!["basic", "pro"]))),
        ("start", Arc::new(Date32Array::from(vec![day, day]))),
        (
            "period",
            Arc::new(StringArray::from(vec!["monthly", "yearly"])),
        ),
        ("price", Arc::new(Float64Array::from(vec![10.0, 120.0]))),
        (
            "auto_renew",
            Arc::new(BooleanArray::from(vec![true, false])),
        ),
    ];
    RecordBatch::try_from_iter(columns).map_err(|e| crate::arrow::arrow_error("<doc batch>", e))
}

/// Three events of [`subscriptions_batch`]'s `S-1` as an Arrow batch: a
/// renewal on 2024-02-01, an upgrade to `pro` at 25 on 2024-02-10 and a
/// cancellation request (`too expensive`) on 2024-03-05. Columns
/// `customer_id` (`Int64`), `subscription_id` (`Utf8`), `time`
/// (`Timestamp(Millisecond, "UTC")`), `kind` (a dictionary of text),
/// `price` (`Float64`), `plan` and `reason` (`Utf8`), null where unused.
#[cfg(feature = "arrow")]
pub fn subscription_events_batch() -> Result<arrow_array::RecordBatch> {
    use std::sync::Arc;

    use arrow_array::types::Int32Type;
    use arrow_array::{
        ArrayRef, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray,
        TimestampMillisecondArray,
    };

    let ms = |d: i64| (19_723 + d) * 86_400_000;
    let kind: DictionaryArray<Int32Type> = ["renewal", "upgrade", "cancellation_requested"]
        .into_iter()
        .collect();
    let columns: [(&str, ArrayRef); 7] = [
        ("customer_id", Arc::new(Int64Array::from(vec![1, 1, 1]))),
        (
            "subscription_id",
            Arc::new(StringArray::from(vec!["S-1"; 3])),
        ),
        (
            "time",
            Arc::new(
                TimestampMillisecondArray::from(vec![ms(31), ms(40), ms(64)]).with_timezone("UTC"),
            ),
        ),
        ("kind", Arc::new(kind)),
        (
            "price",
            Arc::new(Float64Array::from(vec![None, Some(25.0), None])),
        ),
        (
            "plan",
            Arc::new(StringArray::from(vec![None, Some("pro"), None])),
        ),
        (
            "reason",
            Arc::new(StringArray::from(vec![None, None, Some("too expensive")])),
        ),
    ];
    RecordBatch::try_from_iter(columns).map_err(|e| crate::arrow::arrow_error("<doc batch>", e))
}
