//! Reading subscriptions and subscription events from CSV.

use super::*;
use crate::records::{
    BillingPeriod, ChurnReason, Subscription, SubscriptionEvent, SubscriptionEventKind,
};
use crate::util::from_micros;

const SUBSCRIPTION: &[&str] = &["subscription_id", "subscription", "sub_id"];

/// Columns of a subscriptions file.
///
/// Required: customer, subscription id, plan, start, period (parsed by
/// [`BillingPeriod::from_str`](std::str::FromStr): `monthly`, `yearly`,
/// `30d`, `30 days`) and price per period. Optional: `auto_renew`
/// (`true`/`false`, `yes`/`no`, `1`/`0`, `y`/`n`, case-insensitive; empty
/// means the default, `true`) and `current_period_end`.
///
/// # Example
///
/// ```
/// use churnwise::records::{BillingPeriod, HistoryBuilder, SubscriptionCsv, UnknownCustomers};
///
/// let data = "customer_id,subscription_id,plan,start,period,price,auto_renew\n\
///             1,S-1,pro,2024-01-15,monthly,29.0,yes\n\
///             2,S-2,basic,2024-02-01,yearly,99,no\n\
///             3,S-3,basic,2024-02-01,fortnightly,9,\n";
/// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
/// assert_eq!(b.read_subscriptions_csv(data.as_bytes(), &SubscriptionCsv::new())?, 3);
/// let (history, report) = b.build()?;
/// assert_eq!(history.subscription_count(), 2);
/// let s2 = history.subscription(1).unwrap();
/// assert_eq!((s2.period(), s2.auto_renew()), (BillingPeriod::Yearly, false));
/// assert_eq!(report.issues()[0].record().line(), Some(4));
/// assert_eq!(report.issues()[0].field(), Some("period"));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionCsv {
    customer: Column,
    id: Column,
    plan: Column,
    start: Column,
    period: Column,
    price: Column,
    auto_renew: Option<Column>,
    current_period_end: Option<Column>,
    format: CsvFormat,
}

impl Default for SubscriptionCsv {
    fn default() -> Self {
        SubscriptionCsv {
            customer: Column::Guess(CUSTOMER),
            id: Column::Guess(SUBSCRIPTION),
            plan: Column::Guess(&["plan", "plan_id", "product", "tier"]),
            start: Column::Guess(&["start", "start_date", "started", "start_time", "created"]),
            period: Column::Guess(&["period", "billing_period", "interval", "billing"]),
            price: Column::Guess(&["price", "amount", "price_per_period", "fee"]),
            auto_renew: None,
            current_period_end: None,
            format: CsvFormat::default(),
        }
    }
}

impl SubscriptionCsv {
    /// Columns guessed from common names: customer as for
    /// [`OrderCsv::customer`]; id `subscription_id`/`subscription`/`sub_id`;
    /// `plan`/`plan_id`/`product`/`tier`; `start`/`start_date`/`started`/
    /// `start_time`/`created`; `period`/`billing_period`/`interval`/`billing`;
    /// `price`/`amount`/`price_per_period`/`fee`; optional `auto_renew` and
    /// `current_period_end` when present.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{HistoryBuilder, SubscriptionCsv, UnknownCustomers};
    ///
    /// let data = "customer,sub_id,tier,started,interval,fee\n1,A,pro,2024-01-01,30d,10\n";
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// b.read_subscriptions_csv(data.as_bytes(), &SubscriptionCsv::new())?;
    /// assert_eq!(b.build()?.0.subscription_count(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new() -> Self {
        SubscriptionCsv::default()
    }
    column_setters! {
        /// The customer id column. Defaults as for [`OrderCsv::customer`].
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
        ///
        /// # Example
        ///
        /// ```
        /// use churnwise::records::{HistoryBuilder, SubscriptionCsv, UnknownCustomers};
        ///
        /// let data = "who,contract,offer,since,every,eur\n1,A,pro,2024-01-01,monthly,10\n";
        /// let spec = SubscriptionCsv::new()
        ///     .customer("who")
        ///     .id("contract")
        ///     .plan("offer")
        ///     .start("since")
        ///     .period("every")
        ///     .price("eur");
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_subscriptions_csv(data.as_bytes(), &spec)?;
        /// assert_eq!(b.build()?.0.subscription(0).unwrap().price(), 10.0);
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        price,
    }
    optional_column_setters! {
        /// The auto-renew column. Defaults to `auto_renew` when present;
        /// without it every subscription renews automatically.
        auto_renew,
        /// The current period end column. Defaults to `current_period_end` when present.
        ///
        /// # Example
        ///
        /// ```
        /// use chrono::{TimeZone, Utc};
        /// use churnwise::records::{HistoryBuilder, SubscriptionCsv, UnknownCustomers};
        ///
        /// let data = "customer_id,subscription_id,plan,start,period,price,renews\n\
        ///             1,A,pro,2024-01-10,monthly,10,2024-02-01\n";
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_subscriptions_csv(data.as_bytes(), &SubscriptionCsv::new().current_period_end("renews"))?;
        /// let end = b.build()?.0.subscription(0).unwrap().current_period_end();
        /// assert_eq!(end, Some(Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap()));
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        current_period_end,
    }
    /// The file format. Defaults to [`CsvFormat::default`].
    pub fn format(mut self, format: CsvFormat) -> Self {
        self.format = format;
        self
    }
}

/// Columns of a subscription events file.
///
/// Required: customer, subscription id, time and kind (the
/// [`SubscriptionEventKind::label`]s `renewal`, `upgrade`, `downgrade`,
/// `pause`, `resume`, `payment_failed`, `cancellation_requested`, `ended`,
/// case-insensitive, also `renew`, `cancel`, `cancellation`, `end`,
/// `payment_failure`). Optional: `price` and `plan` (the new price, required
/// for upgrades and downgrades, and the new plan), `reason` and `note`
/// (a cancellation's [`ChurnReason`], parsed with its aliases, `other` when
/// empty, and free text).
///
/// # Example
///
/// ```
/// use churnwise::records::*;
///
/// let subs = "customer_id,subscription_id,plan,start,period,price\n1,S-1,basic,2024-01-01,monthly,10\n";
/// let events = "customer_id,subscription_id,time,kind,price,plan,reason,note\n\
///               1,S-1,2024-02-01,renewal,,,,\n\
///               1,S-1,2024-02-10,upgrade,25,pro,,\n\
///               1,S-1,2024-03-05,cancellation_requested,,,too expensive,found a cheaper offer\n\
///               1,S-1,2024-03-06,upgrade,,,,\n";
/// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
/// b.read_subscriptions_csv(subs.as_bytes(), &SubscriptionCsv::new())?;
/// b.read_subscription_events_csv(events.as_bytes(), &SubscriptionEventCsv::new())?;
/// let (history, report) = b.build()?;
/// let s = history.subscription(0).unwrap();
/// assert_eq!(s.events().len(), 3);
/// assert_eq!(s.end_reason(), Some(ChurnReason::Price));
/// // The upgrade without a price: line 5, field `price`.
/// assert_eq!((report.issues()[0].record().line(), report.issues()[0].field()), (Some(5), Some("price")));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionEventCsv {
    customer: Column,
    subscription: Column,
    time: Column,
    kind: Column,
    price: Option<Column>,
    plan: Option<Column>,
    reason: Option<Column>,
    note: Option<Column>,
    format: CsvFormat,
}

impl Default for SubscriptionEventCsv {
    fn default() -> Self {
        SubscriptionEventCsv {
            customer: Column::Guess(CUSTOMER),
            subscription: Column::Guess(SUBSCRIPTION),
            time: Column::Guess(TIME),
            kind: Column::Guess(&["kind", "type", "event"]),
            price: None,
            plan: None,
            reason: None,
            note: None,
            format: CsvFormat::default(),
        }
    }
}

impl SubscriptionEventCsv {
    /// Columns guessed from common names: customer and time as for
    /// [`OrderCsv`]; subscription as for [`SubscriptionCsv::id`]; kind
    /// `kind`/`type`/`event`; optional `price`, `plan`, `reason`, `note`
    /// when present.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::*;
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// b.read_subscriptions_csv("customer,sub_id,plan,start,period,price\n1,A,x,2024-01-01,monthly,5\n".as_bytes(), &SubscriptionCsv::new())?;
    /// b.read_subscription_events_csv("customer,sub_id,date,type\n1,A,2024-01-20,PAUSE\n".as_bytes(), &SubscriptionEventCsv::new())?;
    /// let (history, _) = b.build()?;
    /// assert_eq!(history.subscription_event_count(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new() -> Self {
        SubscriptionEventCsv::default()
    }
    column_setters! {
        /// The customer id column. Defaults as for [`OrderCsv::customer`].
        customer,
        /// The subscription id column. Defaults as for [`SubscriptionCsv::id`].
        subscription,
        /// The time column. Defaults as for [`OrderCsv::time`].
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
        ///
        /// # Example
        ///
        /// ```
        /// use churnwise::records::*;
        ///
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_subscriptions_csv("customer,sub_id,plan,start,period,price\n1,A,x,2024-01-01,monthly,5\n".as_bytes(), &SubscriptionCsv::new())?;
        /// let events = "customer,sub_id,date,type,why\n1,A,2024-01-20,cancel,Moved\n";
        /// b.read_subscription_events_csv(events.as_bytes(), &SubscriptionEventCsv::new().reason("why"))?;
        /// let (history, _) = b.build()?;
        /// assert_eq!(history.subscription(0).unwrap().end_reason(), Some(ChurnReason::MovedOrClosed));
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        reason,
        /// A cancellation's free-text note. Defaults to `note` when present.
        note,
    }
    /// The file format. Defaults to [`CsvFormat::default`].
    pub fn format(mut self, format: CsvFormat) -> Self {
        self.format = format;
        self
    }
}

pub(super) struct SubscriptionParser {
    customer: usize,
    id: usize,
    plan: usize,
    start: usize,
    period: usize,
    price: usize,
    auto_renew: Option<usize>,
    current_period_end: Option<usize>,
    format: TimeFormat,
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "t" => Some(true),
        "false" | "no" | "n" | "0" | "f" => Some(false),
        _ => None,
    }
}

impl RecordParser for SubscriptionParser {
    type Record = Subscription;
    const KIND: RecordKind = RecordKind::Subscription;
    fn parse(&self, rec: &[&[u8]]) -> Result<Subscription, RowError> {
        let customer = raw_id(rec, self.customer, "customer")?;
        let id = id_field(rec, self.id, "id")?;
        let plan = field(rec, self.plan, "plan")?;
        let start = time(rec, self.start, "start", &self.format)?;
        let period_s = field(rec, self.period, "period")?;
        let period: BillingPeriod = period_s.parse().map_err(|_| {
            let s = crate::util::quote_truncated(period_s);
            malformed(
                "period",
                format!(
                    "unknown billing period {s:?} (expected monthly, yearly or days such as 30d)"
                ),
            )
        })?;
        let price = number(rec, self.price, "price")?;
        let mut s = Subscription::new(customer, id, plan, from_micros(start), period, price);
        if let Some(a) = optional_field(rec, self.auto_renew, "auto_renew")? {
            s.auto_renew = parse_bool(a).ok_or_else(|| {
                let a = crate::util::quote_truncated(a);
                malformed(
                    "auto_renew",
                    format!("cannot parse {a:?} as true/false, yes/no or 1/0"),
                )
            })?;
        }
        if let Some(i) = self.current_period_end
            && optional_field(rec, Some(i), "current_period_end")?.is_some()
        {
            let end = time(rec, i, "current_period_end", &self.format)?;
            s.current_period_end = Some(from_micros(end));
        }
        Ok(s)
    }
    fn push(b: &mut HistoryBuilder, row: Subscription) {
        b.push_subscription(row);
    }
}

pub(super) struct SubscriptionEventParser {
    customer: usize,
    subscription: usize,
    time: usize,
    kind: usize,
    price: Option<usize>,
    plan: Option<usize>,
    reason: Option<usize>,
    note: Option<usize>,
    format: TimeFormat,
}

impl SubscriptionEventParser {
    fn new_price(&self, rec: &[&[u8]]) -> Result<(f64, Option<String>), RowError> {
        let Some(i) = self.price else {
            return Err(malformed(
                "price",
                "an upgrade or downgrade needs a price column".into(),
            ));
        };
        let price = number(rec, i, "price")?;
        let plan = optional_field(rec, self.plan, "plan")?.map(str::to_owned);
        Ok((price, plan))
    }
}

impl RecordParser for SubscriptionEventParser {
    type Record = SubscriptionEvent;
    const KIND: RecordKind = RecordKind::SubscriptionEvent;
    fn parse(&self, rec: &[&[u8]]) -> Result<SubscriptionEvent, RowError> {
        let customer = raw_id(rec, self.customer, "customer")?;
        let subscription = id_field(rec, self.subscription, "subscription")?;
        let t = time(rec, self.time, "time", &self.format)?;
        let kind_s = field(rec, self.kind, "kind")?;
        let kind = match kind_s.to_ascii_lowercase().as_str() {
            "renewal" | "renew" | "renewed" => SubscriptionEventKind::Renewal,
            "upgrade" | "upgraded" => {
                let (price, plan) = self.new_price(rec)?;
                SubscriptionEventKind::Upgrade { price, plan }
            }
            "downgrade" | "downgraded" => {
                let (price, plan) = self.new_price(rec)?;
                SubscriptionEventKind::Downgrade { price, plan }
            }
            "pause" | "paused" => SubscriptionEventKind::Pause,
            "resume" | "resumed" => SubscriptionEventKind::Resume,
            "payment_failed" | "payment_failure" | "failed_payment" => {
                SubscriptionEventKind::PaymentFailed
            }
            "cancellation_requested" | "cancellation" | "cancel" | "cancelled" | "canceled" => {
                let reason = optional_field(rec, self.reason, "reason")?
                    .map_or(ChurnReason::Other, |r| {
                        r.parse().unwrap_or(ChurnReason::Other)
                    });
                let note = optional_field(rec, self.note, "note")?.map(str::to_owned);
                SubscriptionEventKind::CancellationRequested { reason, note }
            }
            "ended" | "end" | "expired" => SubscriptionEventKind::Ended,
            _ => {
                let s = crate::util::quote_truncated(kind_s);
                return Err(malformed(
                    "kind",
                    format!(
                        "unknown subscription event {s:?} (expected renewal, upgrade, downgrade, pause, resume, payment_failed, cancellation_requested or ended)"
                    ),
                ));
            }
        };
        Ok(SubscriptionEvent::new(
            customer,
            subscription,
            from_micros(t),
            kind,
        ))
    }
    fn push(b: &mut HistoryBuilder, row: SubscriptionEvent) {
        b.push_subscription_event(row);
    }
}

impl HistoryBuilder {
    /// Reads subscriptions from CSV with a header row; returns the number of data rows read.
    ///
    /// # Errors
    ///
    /// As for [`read_orders_csv`](Self::read_orders_csv).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{HistoryBuilder, SubscriptionCsv, UnknownCustomers};
    ///
    /// let data = "customer_id,subscription_id,plan,start,period,price\n1,A,pro,2024-01-01,yearly,120\n";
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// assert_eq!(b.read_subscriptions_csv(data.as_bytes(), &SubscriptionCsv::new())?, 1);
    /// assert_eq!(b.build()?.0.subscription(0).unwrap().mrr_at(churnwise::doc_support::day(40)), 10.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn read_subscriptions_csv<R: Read>(
        &mut self,
        reader: R,
        spec: &SubscriptionCsv,
    ) -> Result<usize> {
        let input = Input::open(reader, &spec.format)?;
        let parser = SubscriptionParser {
            customer: input.column(&spec.customer)?,
            id: input.column(&spec.id)?,
            plan: input.column(&spec.plan)?,
            start: input.column(&spec.start)?,
            period: input.column(&spec.period)?,
            price: input.column(&spec.price)?,
            auto_renew: input.optional(&spec.auto_renew, &["auto_renew"])?,
            current_period_end: input
                .optional(&spec.current_period_end, &["current_period_end"])?,
            format: spec.format.time_format.clone(),
        };
        input.run(&parser, self)
    }

    /// [`read_subscriptions_csv`](Self::read_subscriptions_csv) from a file.
    ///
    /// # Errors
    ///
    /// As for `read_subscriptions_csv`, and [`ErrorKind::Io`] if the file cannot be opened.
    pub fn read_subscriptions_csv_path(
        &mut self,
        path: impl AsRef<Path>,
        spec: &SubscriptionCsv,
    ) -> Result<usize> {
        let path = path.as_ref();
        let spec = with_default_source(spec.clone(), path, |s| &mut s.format);
        self.read_subscriptions_csv(open_path(path)?, &spec)
    }

    /// Reads subscription events from CSV with a header row; returns the
    /// number of data rows read.
    ///
    /// # Errors
    ///
    /// As for [`read_orders_csv`](Self::read_orders_csv).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::*;
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// b.read_subscriptions_csv("customer,sub_id,plan,start,period,price\n1,A,x,2024-01-01,monthly,5\n".as_bytes(), &SubscriptionCsv::new())?;
    /// let n = b.read_subscription_events_csv("customer,sub_id,date,type\n1,A,2024-02-01,renewal\n1,A,2024-02-20,ended\n".as_bytes(), &SubscriptionEventCsv::new())?;
    /// assert_eq!(n, 2);
    /// let (history, _) = b.build()?;
    /// assert_eq!(history.subscription(0).unwrap().ended_at(), Some(churnwise::doc_support::day(50)));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn read_subscription_events_csv<R: Read>(
        &mut self,
        reader: R,
        spec: &SubscriptionEventCsv,
    ) -> Result<usize> {
        let input = Input::open(reader, &spec.format)?;
        let parser = SubscriptionEventParser {
            customer: input.column(&spec.customer)?,
            subscription: input.column(&spec.subscription)?,
            time: input.column(&spec.time)?,
            kind: input.column(&spec.kind)?,
            price: input.optional(&spec.price, &["price"])?,
            plan: input.optional(&spec.plan, &["plan"])?,
            reason: input.optional(&spec.reason, &["reason"])?,
            note: input.optional(&spec.note, &["note"])?,
            format: spec.format.time_format.clone(),
        };
        input.run(&parser, self)
    }

    /// [`read_subscription_events_csv`](Self::read_subscription_events_csv) from a file.
    ///
    /// # Errors
    ///
    /// As for `read_subscription_events_csv`, and [`ErrorKind::Io`] if the file cannot be opened.
    pub fn read_subscription_events_csv_path(
        &mut self,
        path: impl AsRef<Path>,
        spec: &SubscriptionEventCsv,
    ) -> Result<usize> {
        let path = path.as_ref();
        let spec = with_default_source(spec.clone(), path, |s| &mut s.format);
        self.read_subscription_events_csv(open_path(path)?, &spec)
    }
}
