//! Subscriptions and subscription events from record batches.

use arrow_array::RecordBatch;

use super::cells::*;
use super::columns::*;
use super::read::{col, id_of, reject};
use crate::Result;
use crate::records::{
    BillingPeriod, ChurnReason, HistoryBuilder, Problem, RecordKind, Subscription,
    SubscriptionEvent, SubscriptionEventKind, TimeFormat,
};
use crate::util::{from_micros, quote_truncated};

pub(crate) const SUBSCRIPTION: &[&str] = &["subscription_id", "subscription", "sub_id"];
pub(crate) const AUTO_RENEW: &[&str] = &["auto_renew"];
pub(crate) const PERIOD_END: &[&str] = &["current_period_end"];
pub(crate) const NEW_PRICE: &[&str] = &["price"];
pub(crate) const NEW_PLAN: &[&str] = &["plan"];
pub(crate) const REASON: &[&str] = &["reason"];
pub(crate) const NOTE: &[&str] = &["note"];

/// Columns of a subscriptions batch (or Parquet file), named as for
/// [`SubscriptionCsv`](crate::records::SubscriptionCsv).
///
/// | field | column (default: first found, case-insensitive) | Arrow types |
/// |---|---|---|
/// | customer | `customer_id`, `customer`, `cust`, `customerid`, `client_id` | any integer or text, as for [`OrderColumns`] |
/// | id | `subscription_id`, `subscription`, `sub_id` | text, or any integer (written in decimal) |
/// | plan | `plan`, `plan_id`, `product`, `tier` | text |
/// | start | `start`, `start_date`, `started`, `start_time`, `created` | `Timestamp` (any unit, any time zone), `Date32`, `Date64`, text parsed as CSV |
/// | period | `period`, `billing_period`, `interval`, `billing` | text parsed by [`BillingPeriod::from_str`](std::str::FromStr): `monthly`, `yearly`, `30d`, `30 days` |
/// | price per period | `price`, `amount`, `price_per_period`, `fee` | `Float64`, `Float32`, any integer, `Decimal128`, text |
/// | auto-renew (optional) | `auto_renew` when present | `Boolean`, or text `true`/`false`, `yes`/`no`, `y`/`n`, `1`/`0` (also integers 1 and 0); null or blank: `true` |
/// | current period end (optional) | `current_period_end` when present | as the start; null or blank: none |
///
/// Text columns may also be dictionaries of text. Rows are validated as
/// the CSV reader validates them (the same issues, naming the fields
/// `customer`, `id`, `plan`, `start`, `period`, `price`, `auto_renew`,
/// `current_period_end`).
///
/// # Example
///
/// ```
/// use churnwise::arrow::SubscriptionColumns;
/// use churnwise::records::{BillingPeriod, HistoryBuilder, UnknownCustomers};
/// // Columns customer_id (Int64), subscription_id (Utf8), plan, start
/// // (Date32), period, price (Float64) and auto_renew (Boolean).
/// # let batch = churnwise::doc_support::subscriptions_batch()?;
///
/// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
/// assert_eq!(b.read_arrow(&batch, &SubscriptionColumns::new())?, 2);
/// let (history, report) = b.build()?;
/// assert!(report.is_clean());
/// let s = history.subscription(1).unwrap();
/// assert_eq!((s.id(), s.period(), s.auto_renew()), ("S-2", BillingPeriod::Yearly, false));
/// assert_eq!(s.mrr_at(churnwise::doc_support::day(60)), 10.0); // 120 a year
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionColumns {
    pub(crate) customer: Column,
    pub(crate) id: Column,
    pub(crate) plan: Column,
    pub(crate) start: Column,
    pub(crate) period: Column,
    pub(crate) price: Column,
    pub(crate) auto_renew: Option<Column>,
    pub(crate) current_period_end: Option<Column>,
    pub(crate) time_format: TimeFormat,
    pub(crate) source_name: Option<String>,
}

impl Default for SubscriptionColumns {
    fn default() -> Self {
        SubscriptionColumns {
            customer: Column::Guess(CUSTOMER),
            id: Column::Guess(SUBSCRIPTION),
            plan: Column::Guess(&["plan", "plan_id", "product", "tier"]),
            start: Column::Guess(&["start", "start_date", "started", "start_time", "created"]),
            period: Column::Guess(&["period", "billing_period", "interval", "billing"]),
            price: Column::Guess(&["price", "amount", "price_per_period", "fee"]),
            auto_renew: None,
            current_period_end: None,
            time_format: TimeFormat::Auto,
            source_name: None,
        }
    }
}

impl SubscriptionColumns {
    /// Columns guessed from common names (see the table above).
    pub fn new() -> Self {
        SubscriptionColumns::default()
    }
    column_setters! {
        /// The customer id column. Defaults as for [`OrderColumns::customer`].
        customer,
        /// The subscription id column. Defaults to the first of
        /// `subscription_id`, `subscription`, `sub_id`.
        id,
        /// The plan column. Defaults to the first of `plan`, `plan_id`, `product`, `tier`.
        plan,
        /// The start column. Defaults to the first of `start`,
        /// `start_date`, `started`, `start_time`, `created`.
        start,
        /// The billing period column. Defaults to the first of `period`,
        /// `billing_period`, `interval`, `billing`.
        period,
        /// The price per period column. Defaults to the first of `price`,
        /// `amount`, `price_per_period`, `fee`.
        price,
    }
    optional_column_setters! {
        /// The auto-renew column. Defaults to `auto_renew` when present;
        /// without it every subscription renews automatically.
        auto_renew,
        /// The current period end column. Defaults to `current_period_end` when present.
        current_period_end,
    }
    common_setters!(SubscriptionColumns);
}

/// Columns of a subscription events batch, named as for
/// [`SubscriptionEventCsv`](crate::records::SubscriptionEventCsv).
///
/// | field | column (default: first found, case-insensitive) | Arrow types |
/// |---|---|---|
/// | customer, time | as for [`OrderColumns`] | as for [`OrderColumns`] |
/// | subscription | as for [`SubscriptionColumns::id`] | text, or any integer (written in decimal) |
/// | kind | `kind`, `type`, `event` | text: `renewal`, `upgrade`, `downgrade`, `pause`, `resume`, `payment_failed`, `cancellation_requested`, `ended` (case-insensitive; also `renew`, `cancel`, `cancellation`, `end`, `payment_failure`) |
/// | price (optional) | `price` when present | a number: the new price, required for upgrades and downgrades |
/// | plan (optional) | `plan` when present | text: the new plan of upgrades and downgrades |
/// | reason (optional) | `reason` when present | text: a cancellation's [`ChurnReason`], parsed with its aliases; null or blank: `other` |
/// | note (optional) | `note` when present | text: a cancellation's free-text note |
///
/// Text columns may also be dictionaries of text. Rows are validated as
/// the CSV reader validates them (an upgrade without a price is an issue
/// of its field `price`, an unknown kind one of `kind`).
///
/// # Example
///
/// ```
/// use churnwise::arrow::{SubscriptionColumns, SubscriptionEventColumns};
/// use churnwise::records::{ChurnReason, HistoryBuilder, UnknownCustomers};
/// # let subscriptions = churnwise::doc_support::subscriptions_batch()?;
/// // Columns customer_id, subscription_id, time (Timestamp), kind, price,
/// // plan and reason: S-1 renews, upgrades to pro at 25, then its
/// // cancellation is requested, too expensive.
/// # let events = churnwise::doc_support::subscription_events_batch()?;
///
/// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
/// b.read_arrow(&subscriptions, &SubscriptionColumns::new())?;
/// assert_eq!(b.read_arrow(&events, &SubscriptionEventColumns::new())?, 3);
/// let (history, report) = b.build()?;
/// assert!(report.is_clean());
/// let s = history.subscription(0).unwrap();
/// assert_eq!(s.events().len(), 3);
/// assert_eq!(s.end_reason(), Some(ChurnReason::Price));
/// assert_eq!(s.mrr_at(churnwise::doc_support::day(50)), 25.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionEventColumns {
    pub(crate) customer: Column,
    pub(crate) subscription: Column,
    pub(crate) time: Column,
    pub(crate) kind: Column,
    pub(crate) price: Option<Column>,
    pub(crate) plan: Option<Column>,
    pub(crate) reason: Option<Column>,
    pub(crate) note: Option<Column>,
    pub(crate) time_format: TimeFormat,
    pub(crate) source_name: Option<String>,
}

impl Default for SubscriptionEventColumns {
    fn default() -> Self {
        SubscriptionEventColumns {
            customer: Column::Guess(CUSTOMER),
            subscription: Column::Guess(SUBSCRIPTION),
            time: Column::Guess(TIME),
            kind: Column::Guess(&["kind", "type", "event"]),
            price: None,
            plan: None,
            reason: None,
            note: None,
            time_format: TimeFormat::Auto,
            source_name: None,
        }
    }
}

impl SubscriptionEventColumns {
    /// Columns guessed from common names (see the table above).
    pub fn new() -> Self {
        SubscriptionEventColumns::default()
    }
    column_setters! {
        /// The customer id column. Defaults as for [`OrderColumns::customer`].
        customer,
        /// The subscription id column. Defaults as for [`SubscriptionColumns::id`].
        subscription,
        /// The time column. Defaults as for [`OrderColumns::time`].
        time,
        /// The kind column. Defaults to the first of `kind`, `type`, `event`.
        kind,
    }
    optional_column_setters! {
        /// The new price of upgrades and downgrades. Defaults to `price` when present.
        price,
        /// The new plan of upgrades and downgrades. Defaults to `plan` when present.
        plan,
        /// A cancellation's reason. Defaults to `reason` when present.
        reason,
        /// A cancellation's free-text note. Defaults to `note` when present.
        note,
    }
    common_setters!(SubscriptionEventColumns);
}

/// A required text field: at most `limit` bytes, trimmed, not blank.
fn required_text<'a>(
    texts: &Texts<'a>,
    i: usize,
    field: &'static str,
    limit: usize,
    what: &str,
) -> Result<std::borrow::Cow<'a, str>, CellError> {
    required(text_field(texts, i, field, limit, what), field)
}

/// An optional text field (a field of at most [`MAX_FIELD_BYTES`]).
fn optional_text<'a>(
    texts: &Option<Texts<'a>>,
    i: usize,
    field: &'static str,
) -> Result<Option<std::borrow::Cow<'a, str>>, CellError> {
    match texts {
        Some(t) => text_field(t, i, field, MAX_FIELD_BYTES, "a field"),
        None => Ok(None),
    }
}

/// An optional time: a null or blank cell is none.
fn optional_time(
    times: &Option<Times<'_>>,
    i: usize,
    field: &'static str,
) -> Result<Option<i64>, CellError> {
    match times.as_ref().map(|t| t.get(i, field)) {
        None
        | Some(Err(CellError {
            problem: Problem::Missing,
            ..
        })) => Ok(None),
        Some(r) => r,
    }
}

pub(super) fn read_subscriptions(
    b: &mut HistoryBuilder,
    batch: &RecordBatch,
    spec: &SubscriptionColumns,
    source: &str,
) -> Result<usize> {
    let schema = batch.schema();
    let col = |i| col(&schema, batch, i, source);
    let required_col = |c: &Column| c.require(&schema, source).map(col);
    let customer = Ids::of(required_col(&spec.customer)?)?;
    let id = Texts::of(required_col(&spec.id)?)?;
    let plan = Texts::of(required_col(&spec.plan)?)?;
    let start = Times::of(required_col(&spec.start)?, &spec.time_format)?;
    let period = Texts::of(required_col(&spec.period)?)?;
    let price = Nums::of(required_col(&spec.price)?)?;
    let auto_renew = Column::optional(&spec.auto_renew, AUTO_RENEW, &schema, source)?
        .map(|i| Flags::of(col(i)))
        .transpose()?;
    let period_end = Column::optional(&spec.current_period_end, PERIOD_END, &schema, source)?
        .map(|i| Times::of(col(i), &spec.time_format))
        .transpose()?;
    for i in 0..batch.num_rows() {
        // Fields in the CSV reader's order: the first problem is reported.
        let row = (|| {
            let customer = required(customer.get(i, "customer"), "customer")?;
            let id = required_text(&id, i, "id", MAX_ID_BYTES, "an id")?;
            let plan = required_text(&plan, i, "plan", MAX_FIELD_BYTES, "a field")?;
            let start = required(start.get(i, "start"), "start")?;
            let period_s = required_text(&period, i, "period", MAX_FIELD_BYTES, "a field")?;
            let period: BillingPeriod = period_s.parse().map_err(|_| {
                let s = quote_truncated(&period_s);
                CellError::malformed(
                    "period",
                    format!(
                        "unknown billing period {s:?} (expected monthly, yearly or days such as 30d)"
                    ),
                )
            })?;
            let price = required(price.get(i, "price"), "price")?;
            let mut s = Subscription::new(
                id_of(customer),
                id.into_owned(),
                plan.into_owned(),
                from_micros(start),
                period,
                price,
            );
            if let Some(a) = &auto_renew
                && let Some(a) = a.get(i, "auto_renew")?
            {
                s.auto_renew = a;
            }
            s.current_period_end =
                optional_time(&period_end, i, "current_period_end")?.map(from_micros);
            Ok(s)
        })();
        match row {
            Ok(s) => b.push_subscription(s),
            Err(e) => reject(b, RecordKind::Subscription, e),
        }
    }
    Ok(batch.num_rows())
}

pub(super) fn read_subscription_events(
    b: &mut HistoryBuilder,
    batch: &RecordBatch,
    spec: &SubscriptionEventColumns,
    source: &str,
) -> Result<usize> {
    let schema = batch.schema();
    let col = |i| col(&schema, batch, i, source);
    let required_col = |c: &Column| c.require(&schema, source).map(col);
    let customer = Ids::of(required_col(&spec.customer)?)?;
    let subscription = Texts::of(required_col(&spec.subscription)?)?;
    let time = Times::of(required_col(&spec.time)?, &spec.time_format)?;
    let kind = Texts::of(required_col(&spec.kind)?)?;
    let price = Column::optional(&spec.price, NEW_PRICE, &schema, source)?
        .map(|i| Nums::of(col(i)))
        .transpose()?;
    let text = |c: &Option<Column>, default| -> Result<Option<Texts<'_>>> {
        Column::optional(c, default, &schema, source)?
            .map(|i| Texts::of(col(i)))
            .transpose()
    };
    let plan = text(&spec.plan, NEW_PLAN)?;
    let reason = text(&spec.reason, REASON)?;
    let note = text(&spec.note, NOTE)?;
    // The new price and plan of an upgrade or downgrade.
    let new_price = |i| -> Result<(f64, Option<String>), CellError> {
        let Some(price) = &price else {
            return Err(CellError::malformed(
                "price",
                "an upgrade or downgrade needs a price column".into(),
            ));
        };
        let p = required(price.get(i, "price"), "price")?;
        let plan = optional_text(&plan, i, "plan")?.map(String::from);
        Ok((p, plan))
    };
    for i in 0..batch.num_rows() {
        let row = (|| {
            let customer = required(customer.get(i, "customer"), "customer")?;
            let sub = required_text(&subscription, i, "subscription", MAX_ID_BYTES, "an id")?;
            let t = required(time.get(i, "time"), "time")?;
            let kind_s = required_text(&kind, i, "kind", MAX_FIELD_BYTES, "a field")?;
            let kind = match kind_s.to_ascii_lowercase().as_str() {
                "renewal" | "renew" | "renewed" => SubscriptionEventKind::Renewal,
                "upgrade" | "upgraded" => {
                    let (price, plan) = new_price(i)?;
                    SubscriptionEventKind::Upgrade { price, plan }
                }
                "downgrade" | "downgraded" => {
                    let (price, plan) = new_price(i)?;
                    SubscriptionEventKind::Downgrade { price, plan }
                }
                "pause" | "paused" => SubscriptionEventKind::Pause,
                "resume" | "resumed" => SubscriptionEventKind::Resume,
                "payment_failed" | "payment_failure" | "failed_payment" => {
                    SubscriptionEventKind::PaymentFailed
                }
                "cancellation_requested" | "cancellation" | "cancel" | "cancelled" | "canceled" => {
                    let reason = optional_text(&reason, i, "reason")?
                        .map_or(ChurnReason::Other, |r| ChurnReason::from(r.into_owned()));
                    let note = optional_text(&note, i, "note")?.map(String::from);
                    SubscriptionEventKind::CancellationRequested { reason, note }
                }
                "ended" | "end" | "expired" => SubscriptionEventKind::Ended,
                _ => {
                    let s = quote_truncated(&kind_s);
                    return Err(CellError::malformed(
                        "kind",
                        format!(
                            "unknown subscription event {s:?} (expected renewal, upgrade, downgrade, pause, resume, payment_failed, cancellation_requested or ended)"
                        ),
                    ));
                }
            };
            Ok(SubscriptionEvent::new(
                id_of(customer),
                sub.into_owned(),
                from_micros(t),
                kind,
            ))
        })();
        match row {
            Ok(e) => b.push_subscription_event(e),
            Err(e) => reject(b, RecordKind::SubscriptionEvent, e),
        }
    }
    Ok(batch.num_rows())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{
        ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
        UInt8Array,
    };

    use super::*;
    use crate::ErrorKind;
    use crate::records::{DataQualityReport, History, UnknownCustomers};

    const DAY: i32 = 19_723; // 2024-01-01

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    fn strs(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    /// `n` valid subscription rows of customer 1, with `columns` replaced or added.
    fn subs(n: usize, columns: Vec<(&'static str, ArrayRef)>) -> RecordBatch {
        let mut all: Vec<(&str, ArrayRef)> = vec![
            ("customer_id", Arc::new(Int64Array::from(vec![1; n]))),
            (
                "subscription_id",
                Arc::new(StringArray::from(
                    (0..n).map(|i| format!("S-{i}")).collect::<Vec<_>>(),
                )),
            ),
            ("plan", strs(&vec![Some("basic"); n])),
            ("start", Arc::new(Date32Array::from(vec![DAY; n]))),
            ("period", strs(&vec![Some("monthly"); n])),
            ("price", Arc::new(Float64Array::from(vec![10.0; n]))),
        ];
        for (name, c) in columns {
            match all.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = c,
                None => all.push((name, c)),
            }
        }
        batch(all)
    }

    fn build(
        subs: &RecordBatch,
        spec: &SubscriptionColumns,
        events: Option<(&RecordBatch, &SubscriptionEventColumns)>,
    ) -> (History, DataQualityReport) {
        let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        assert_eq!(b.read_arrow(subs, spec).unwrap(), subs.num_rows());
        if let Some((e, spec)) = events {
            assert_eq!(b.read_arrow(e, spec).unwrap(), e.num_rows());
        }
        b.build().unwrap()
    }

    /// `(index, field, problem)` of every issue.
    fn issues(r: &DataQualityReport) -> Vec<(usize, Option<&'static str>, &'static str)> {
        r.iter()
            .map(|i| (i.record().index(), i.field(), i.problem().name()))
            .collect()
    }

    #[test]
    fn a_null_in_each_required_column_drops_its_row_naming_the_field() {
        let n = 7;
        let b = subs(
            n,
            vec![
                (
                    "customer_id",
                    Arc::new(Int64Array::from(vec![
                        None,
                        Some(1),
                        Some(1),
                        Some(1),
                        Some(1),
                        Some(1),
                        Some(1),
                    ])),
                ),
                (
                    "subscription_id",
                    strs(&[
                        Some("A"),
                        None,
                        Some("C"),
                        Some("D"),
                        Some("E"),
                        Some("F"),
                        Some("G"),
                    ]),
                ),
                (
                    "plan",
                    strs(&[
                        Some("p"),
                        Some("p"),
                        Some(" "),
                        Some("p"),
                        Some("p"),
                        Some("p"),
                        Some("p"),
                    ]),
                ),
                (
                    "start",
                    Arc::new(Date32Array::from(vec![
                        Some(DAY),
                        Some(DAY),
                        Some(DAY),
                        None,
                        Some(DAY),
                        Some(DAY),
                        Some(DAY),
                    ])),
                ),
                (
                    "period",
                    strs(&[
                        Some("monthly"),
                        Some("monthly"),
                        Some("monthly"),
                        Some("monthly"),
                        None,
                        Some("monthly"),
                        Some("monthly"),
                    ]),
                ),
                (
                    "price",
                    Arc::new(Float64Array::from(vec![
                        Some(1.0),
                        Some(1.0),
                        Some(1.0),
                        Some(1.0),
                        Some(1.0),
                        None,
                        Some(1.0),
                    ])),
                ),
            ],
        );
        let (history, report) = build(&b, &SubscriptionColumns::new(), None);
        assert_eq!(history.subscription_count(), 1);
        assert_eq!(
            issues(&report),
            [
                (0, Some("customer"), "missing"),
                (1, Some("id"), "missing"),
                (2, Some("plan"), "missing"),
                (3, Some("start"), "missing"),
                (4, Some("period"), "missing"),
                (5, Some("price"), "missing"),
            ]
        );
    }

    #[test]
    fn auto_renew_reads_booleans_text_and_integers_and_nulls_mean_renewing() {
        let flags: Vec<(ArrayRef, [Option<bool>; 3])> = vec![
            (
                Arc::new(BooleanArray::from(vec![Some(false), None, Some(true)])),
                [Some(false), Some(true), Some(true)],
            ),
            (
                strs(&[Some(" NO "), Some(""), Some("y")]),
                [Some(false), Some(true), Some(true)],
            ),
            (
                Arc::new(UInt8Array::from(vec![Some(0), None, Some(1)])),
                [Some(false), Some(true), Some(true)],
            ),
            // `maybe` and 2 are malformed: the row is dropped.
            (
                strs(&[Some("maybe"), Some("F"), Some("T")]),
                [None, Some(false), Some(true)],
            ),
            (
                Arc::new(Int32Array::from(vec![1, 2, 0])),
                [Some(true), None, Some(false)],
            ),
        ];
        for (k, (column, want)) in flags.into_iter().enumerate() {
            let b = subs(3, vec![("auto_renew", column)]);
            let (history, report) = build(&b, &SubscriptionColumns::new(), None);
            let got: Vec<Option<bool>> = (0..3)
                .map(|i| {
                    history
                        .subscriptions()
                        .find(|s| s.id() == format!("S-{i}"))
                        .map(|s| s.auto_renew())
                })
                .collect();
            assert_eq!(got, want, "case {k}");
            for issue in report.iter() {
                assert_eq!(issue.field(), Some("auto_renew"), "case {k}");
                assert!(
                    issue
                        .problem()
                        .to_string()
                        .contains("as true/false, yes/no or 1/0"),
                    "{}",
                    issue.problem()
                );
            }
        }
    }

    #[test]
    fn period_ends_text_ids_and_periods_read_as_in_csv() {
        let b = subs(
            4,
            vec![
                (
                    "subscription_id",
                    Arc::new(Int64Array::from(vec![42, -5, 7, 8])),
                ),
                (
                    "period",
                    strs(&[
                        Some("yearly"),
                        Some(" 30 days"),
                        Some("weekly"),
                        Some("30D"),
                    ]),
                ),
                (
                    "current_period_end",
                    strs(&[Some("2024-06-01"), Some(" "), None, Some("someday")]),
                ),
            ],
        );
        let (history, report) = build(&b, &SubscriptionColumns::new(), None);
        let mut s: Vec<_> = history.subscriptions().collect();
        s.sort_by_key(|s| std::cmp::Reverse(s.id().to_owned()));
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].id(), s[0].period()), ("42", BillingPeriod::Yearly));
        assert_eq!(
            s[0].current_period_end(),
            Some(crate::doc_support::day(152))
        );
        assert_eq!((s[1].id(), s[1].period()), ("-5", BillingPeriod::Days(30)));
        assert_eq!(s[1].current_period_end(), None);
        assert_eq!(
            issues(&report),
            [
                (2, Some("period"), "malformed"),
                (3, Some("current_period_end"), "malformed"),
            ]
        );
        assert_eq!(
            report.issues()[0].problem(),
            &Problem::Malformed {
                message: "unknown billing period \"weekly\" (expected monthly, yearly or days such as 30d)".into()
            }
        );
        // A subscription id longer than an id may be: malformed, as in CSV.
        let long = "x".repeat(MAX_ID_BYTES + 1);
        let b = subs(1, vec![("subscription_id", strs(&[Some(&long)]))]);
        let (_, report) = build(&b, &SubscriptionColumns::new(), None);
        assert_eq!(issues(&report), [(0, Some("id"), "malformed")]);
    }

    #[test]
    fn columns_of_the_wrong_type_are_errors_naming_them() {
        let cases: Vec<(&str, ArrayRef)> = vec![
            ("auto_renew", Arc::new(Float64Array::from(vec![1.0]))),
            ("period", Arc::new(Float64Array::from(vec![30.0]))),
            ("start", Arc::new(BooleanArray::from(vec![true]))),
            ("price", Arc::new(BooleanArray::from(vec![true]))),
            ("subscription_id", Arc::new(Float64Array::from(vec![1.0]))),
        ];
        for (name, column) in cases {
            let b = subs(1, vec![(name, column)]);
            let spec = SubscriptionColumns::new().source_name("subs.parquet");
            let err = HistoryBuilder::new().read_arrow(&b, &spec).unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::ColumnType { source_name, column, .. }
                    if source_name == "subs.parquet" && column == name),
                "{name}: {err}"
            );
        }
        // A configured optional column must be there.
        let err = HistoryBuilder::new()
            .read_arrow(
                &subs(1, vec![]),
                &SubscriptionColumns::new().auto_renew("renews"),
            )
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::MissingColumn { column, .. } if column == "renews")
        );
    }

    fn events(columns: Vec<(&'static str, ArrayRef)>) -> RecordBatch {
        let n = columns[0].1.len();
        let mut all: Vec<(&str, ArrayRef)> = vec![
            ("customer_id", Arc::new(Int64Array::from(vec![1; n]))),
            ("subscription_id", strs(&vec![Some("S-0"); n])),
            ("time", Arc::new(Date32Array::from(vec![DAY + 10; n]))),
        ];
        all.extend(columns);
        batch(all)
    }

    #[test]
    fn event_kinds_and_their_columns_read_as_in_csv() {
        let e = events(vec![
            (
                "kind",
                strs(&[
                    Some("Upgrade"),
                    Some("downgrade"),
                    Some("cancel"),
                    None,
                    Some("teleport"),
                    Some("PAUSE"),
                    Some("cancellation_requested"),
                ]),
            ),
            (
                "price",
                Arc::new(Float64Array::from(vec![
                    Some(20.0),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                ])),
            ),
            (
                "plan",
                strs(&[Some("pro"), None, None, None, None, None, None]),
            ),
            (
                "reason",
                strs(&[None, None, Some("Moved"), None, None, None, Some(" ")]),
            ),
            (
                "note",
                strs(&[None, None, Some("bye"), None, None, None, None]),
            ),
        ]);
        let (history, report) = build(
            &subs(1, vec![]),
            &SubscriptionColumns::new(),
            Some((&e, &SubscriptionEventColumns::new())),
        );
        assert_eq!(
            issues(&report),
            [
                (1, Some("price"), "missing"),
                (3, Some("kind"), "missing"),
                (4, Some("kind"), "malformed"),
            ]
        );
        let s = history.subscription(0).unwrap();
        let kinds: Vec<SubscriptionEventKind> = s.events().iter().map(|(_, k)| k).collect();
        assert_eq!(kinds.len(), 4);
        assert_eq!(
            kinds[0],
            SubscriptionEventKind::Upgrade {
                price: 20.0,
                plan: Some("pro".into())
            }
        );
        assert!(
            kinds.contains(&SubscriptionEventKind::CancellationRequested {
                reason: ChurnReason::MovedOrClosed,
                note: Some("bye".into())
            })
        );
        assert!(
            kinds.contains(&SubscriptionEventKind::CancellationRequested {
                reason: ChurnReason::Other,
                note: None
            })
        );

        // Without a price column an upgrade is malformed, as in CSV.
        let e = events(vec![("kind", strs(&[Some("upgrade")]))]);
        let (_, report) = build(
            &subs(1, vec![]),
            &SubscriptionColumns::new(),
            Some((&e, &SubscriptionEventColumns::new())),
        );
        assert_eq!(
            report.issues()[0].problem(),
            &Problem::Malformed {
                message: "an upgrade or downgrade needs a price column".into()
            }
        );
    }
}
