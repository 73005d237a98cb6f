//! Record batches of customers, orders, interactions, feedback,
//! subscriptions and subscription events into a [`HistoryBuilder`].

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, Schema};

use super::cells::*;
use super::columns::*;
use super::subs::*;
use crate::records::{
    Action, ComplaintTopic, Customer, CustomerId, Feedback, HistoryBuilder, Interaction,
    InteractionKind, Problem, RecordKind,
};
use crate::util::{from_micros, quote_truncated};
use crate::{Error, Result};

/// The column specs that [`HistoryBuilder::read_arrow`] accepts: one per
/// record kind ([`CustomerColumns`], [`OrderColumns`],
/// [`InteractionColumns`], [`FeedbackColumns`], [`SubscriptionColumns`],
/// [`SubscriptionEventColumns`]). Sealed: the spec says
/// which kind of record the batch holds.
pub trait RecordColumns: private::Sealed {}

pub(crate) mod private {
    use super::*;

    /// Reads one batch of the spec's record kind.
    pub trait Sealed {
        /// Pushes the batch's rows into `b`; returns the number of rows.
        fn read_batch(
            &self,
            b: &mut HistoryBuilder,
            batch: &RecordBatch,
            source: &str,
        ) -> Result<usize>;
        /// Reads every batch of `batches` (decoded from a file).
        fn read_decoded<I>(&self, b: &mut HistoryBuilder, batches: I, source: &str) -> Result<usize>
        where
            I: Iterator<Item = Result<RecordBatch>> + Send,
        {
            let mut rows = 0;
            for batch in batches {
                rows += self.read_batch(b, &batch?, source)?;
            }
            Ok(rows)
        }
        /// The configured source name.
        fn source(&self) -> Option<&str>;
        /// The columns of `schema` the spec reads, in schema order.
        fn projection(&self, schema: &Schema, source: &str) -> Result<Vec<usize>>;
        /// A copy with the source name set, unless one is configured.
        fn or_source(&self, name: String) -> Self
        where
            Self: Sized;
    }
}

macro_rules! sealed {
    ($($spec:ident => $read:ident $(| $pipelined:ident)?, [$($req:ident),*], [$($opt:ident: $default:ident),*]);* $(;)?) => {$(
        impl RecordColumns for $spec {}
        impl private::Sealed for $spec {
            $(fn read_decoded<I>(&self, b: &mut HistoryBuilder, batches: I, source: &str) -> Result<usize>
            where
                I: Iterator<Item = Result<RecordBatch>> + Send,
            {
                $pipelined(b, batches, self, source)
            })?
            fn read_batch(&self, b: &mut HistoryBuilder, batch: &RecordBatch, source: &str) -> Result<usize> {
                $read(b, batch, self, source)
            }
            fn source(&self) -> Option<&str> {
                self.source_name.as_deref()
            }
            fn projection(&self, schema: &Schema, source: &str) -> Result<Vec<usize>> {
                projection(&[$(&self.$req),*], &[$((&self.$opt, $default)),*], schema, source)
            }
            fn or_source(&self, name: String) -> Self {
                let mut spec = self.clone();
                spec.source_name.get_or_insert(name);
                spec
            }
        }
    )*};
}

sealed! {
    CustomerColumns => read_customers, [id, signup], [plan: PLAN, channel: CHANNEL, region: REGION, tags: TAGS];
    OrderColumns => read_orders | read_orders_pipelined, [customer, time, amount], [order_id: ORDER_ID];
    InteractionColumns => read_interactions, [customer, time, kind], [first_response_hours: HOURS, topic: TOPIC, campaign: CAMPAIGN];
    FeedbackColumns => read_feedback, [customer, time, satisfaction], [nps: NPS];
    SubscriptionColumns => read_subscriptions, [customer, id, plan, start, period, price], [auto_renew: AUTO_RENEW, current_period_end: PERIOD_END];
    SubscriptionEventColumns => read_subscription_events, [customer, subscription, time, kind], [price: NEW_PRICE, plan: NEW_PLAN, reason: REASON, note: NOTE];
}

impl HistoryBuilder {
    /// Reads the rows of one Arrow record batch; the spec's type says which
    /// records it holds. Returns the number of rows read.
    ///
    /// Rows are validated as the CSV readers validate them: a null or blank
    /// required cell is an [`Issue`](crate::records::Issue) with
    /// [`Problem::Missing`](Problem::Missing), an
    /// unparsable text cell one with `Malformed`, each naming the record's
    /// index and field (`customer`, `time`, `amount`, …); every other rule
    /// is applied by [`build`](Self::build), and reading goes on.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingColumn`](crate::ErrorKind::MissingColumn) if a
    /// configured column is not in the batch;
    /// [`ErrorKind::ColumnType`](crate::ErrorKind::ColumnType) naming the
    /// column, its type and the types accepted if it cannot be read.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{Float64Array, Int64Array, RecordBatch, TimestampMillisecondArray};
    /// use churnwise::arrow::OrderColumns;
    /// use churnwise::records::{HistoryBuilder, UnknownCustomers};
    ///
    /// let batch = RecordBatch::try_from_iter([
    ///     ("customer_id", Arc::new(Int64Array::from(vec![1, 1, 2])) as _),
    ///     ("time", Arc::new(TimestampMillisecondArray::from(vec![Some(1_704_067_200_000), Some(1_704_153_600_000), None]).with_timezone("+01:00")) as _),
    ///     ("amount", Arc::new(Float64Array::from(vec![25.0, 40.0, 9.5])) as _),
    /// ]).map_err(|e| e.to_string())?;
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// assert_eq!(b.read_arrow(&batch, &OrderColumns::new())?, 3);
    /// let (history, report) = b.build()?;
    /// assert_eq!(history.order_count(), 2);
    /// let issue = &report.issues()[0]; // the null time
    /// assert_eq!((issue.record().index(), issue.field()), (2, Some("time")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_arrow<C: RecordColumns>(&mut self, batch: &RecordBatch, spec: &C) -> Result<usize> {
        let source = spec.source().unwrap_or(DEFAULT_SOURCE);
        spec.read_batch(self, batch, source)
    }

    /// Reads every batch of a stream (an Arrow `RecordBatchReader`, such as
    /// one imported through the C stream interface, or any iterator of
    /// batches) with [`read_arrow`](Self::read_arrow); returns the number
    /// of rows read.
    ///
    /// # Errors
    ///
    /// As [`read_arrow`](Self::read_arrow), and
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) if the stream fails.
    ///
    /// # Example
    ///
    /// ```
    /// use arrow_array::RecordBatchIterator;
    /// use churnwise::arrow::OrderColumns;
    /// use churnwise::records::{HistoryBuilder, UnknownCustomers};
    /// # let batch = churnwise::doc_support::orders_batch(&["customer_id", "date", "amount"])?;
    ///
    /// let stream = RecordBatchIterator::new([Ok(batch.clone()), Ok(batch.clone())], batch.schema());
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// assert_eq!(b.read_arrow_stream(stream, &OrderColumns::new())?, 6);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn read_arrow_stream<C, I>(&mut self, batches: I, spec: &C) -> Result<usize>
    where
        C: RecordColumns,
        I: IntoIterator<Item = std::result::Result<RecordBatch, ArrowError>>,
    {
        let source = spec.source().unwrap_or(DEFAULT_SOURCE);
        let mut rows = 0;
        for batch in batches {
            let batch = batch.map_err(|e| arrow_error(source, e))?;
            rows += spec.read_batch(self, &batch, source)?;
        }
        Ok(rows)
    }
}

/// An Arrow error reading `source`, as [`ErrorKind::Io`](crate::ErrorKind::Io).
pub(crate) fn arrow_error(source: &str, e: ArrowError) -> Error {
    let io = match e {
        ArrowError::IoError(_, io) => io,
        other => std::io::Error::new(std::io::ErrorKind::InvalidData, other),
    };
    Error::io(source, io)
}

/// The column at `i`, for the cell readers.
pub(super) fn col<'a>(
    schema: &'a Schema,
    batch: &'a RecordBatch,
    i: usize,
    source: &'a str,
) -> Col<'a> {
    Col {
        name: schema.field(i).name(),
        array: batch.column(i),
        source,
    }
}

pub(super) fn id_of(id: RawId<'_>) -> CustomerId {
    match id {
        RawId::Num(n) => CustomerId::from(n),
        RawId::Str(s) => CustomerId::from(&*s),
    }
}

/// Reports `e` for a record of `kind` that could not be read.
pub(super) fn reject(b: &mut HistoryBuilder, kind: RecordKind, e: CellError) {
    b.malformed(kind, Some(e.field), e.problem);
}

/// The builder's checks of an order on its own (time range, amount), which
/// a converting thread applies.
type CheckOrder<'a> =
    &'a (dyn Fn(i64, f64) -> std::result::Result<(), (&'static str, Problem)> + Sync);

fn read_orders(
    b: &mut HistoryBuilder,
    batch: &RecordBatch,
    spec: &OrderColumns,
    source: &str,
) -> Result<usize> {
    let options = b.options().clone();
    let check = move |t, amount| options.check_order(t, amount);
    let (rows, n) = convert_orders(batch, spec, source, &check)?;
    rows.stage(b, n);
    Ok(n)
}

/// Reads a stream of order batches, converting the next batches on a
/// second thread while this one stages the last (a bounded pipeline: at
/// most two converted batches wait). The result is the same as reading
/// them one by one.
fn read_orders_pipelined<I>(
    b: &mut HistoryBuilder,
    batches: I,
    spec: &OrderColumns,
    source: &str,
) -> Result<usize>
where
    I: Iterator<Item = Result<RecordBatch>> + Send,
{
    let options = b.options().clone();
    let check = move |t, amount| options.check_order(t, amount);
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        let check = &check;
        s.spawn(move || {
            for batch in batches {
                let converted = batch.and_then(|batch| convert_orders(&batch, spec, source, check));
                let failed = converted.is_err();
                // The receiver stops at the first error and hangs up.
                if tx.send(converted).is_err() || failed {
                    break;
                }
            }
        });
        let mut total = 0;
        for converted in rx {
            let (rows, n) = converted?;
            rows.stage(b, n);
            total += n;
        }
        Ok(total)
    })
}

/// One batch's orders, converted and checked, ready to stage.
fn convert_orders(
    batch: &RecordBatch,
    spec: &OrderColumns,
    source: &str,
    check: CheckOrder<'_>,
) -> Result<(OrderRows, usize)> {
    let schema = batch.schema();
    let col = |i| col(&schema, batch, i, source);
    let customer = Ids::of(col(spec.customer.require(&schema, source)?))?;
    let time = Times::of(col(spec.time.require(&schema, source)?), &spec.time_format)?;
    let amount = Nums::of(col(spec.amount.require(&schema, source)?))?;
    let order_id = Column::optional(&spec.order_id, ORDER_ID, &schema, source)?
        .map(|i| Texts::of(col(i)))
        .transpose()?;

    let n = batch.num_rows();
    let mut rows = OrderRows::with_capacity(n, order_id.is_some());
    // Logs sorted by date repeat a text time: parse it once.
    let mut last_text: Option<(&str, i64)> = None;
    for i in 0..n {
        let row = (|| {
            let id = required(customer.get(i, "customer"), "customer")?;
            let t = match (time.text(i), last_text) {
                (Some(s), Some((last, t))) if s == last => t,
                (text, _) => {
                    let t = required(time.get(i, "time"), "time")?;
                    last_text = text.map(|s| (s, t));
                    t
                }
            };
            let value = required(amount.get(i, "amount"), "amount")?;
            let oid = match &order_id {
                Some(c) => match c.get(i) {
                    Some(s) if s.len() > MAX_ID_BYTES => {
                        return Err(CellError::malformed(
                            "order_id",
                            format!(
                                "an id of {} bytes exceeds the limit of {MAX_ID_BYTES}",
                                s.len()
                            ),
                        ));
                    }
                    s => s.map(|s| Box::from(&*s)),
                },
                None => None,
            };
            check(t, value).map_err(|(field, problem)| CellError { field, problem })?;
            Ok((id, t, value, oid))
        })();
        match row {
            Ok((id, t, value, oid)) => rows.push(id, t, value, oid, order_id.is_some()),
            Err(e) => rows.rejected.push((i, e)),
        }
    }
    Ok((rows, n))
}

/// The valid orders of one batch, columnar, and the rows rejected.
struct OrderRows {
    ids: Vec<u64>,
    str_ids: Vec<(usize, Box<str>)>,
    time: Vec<i64>,
    amount: Vec<f64>,
    order_id: Vec<Option<Box<str>>>,
    rejected: Vec<(usize, CellError)>,
}

impl OrderRows {
    fn with_capacity(n: usize, order_ids: bool) -> Self {
        OrderRows {
            ids: Vec::with_capacity(n),
            str_ids: Vec::new(),
            time: Vec::with_capacity(n),
            amount: Vec::with_capacity(n),
            order_id: Vec::with_capacity(if order_ids { n } else { 0 }),
            rejected: Vec::new(),
        }
    }

    fn push(&mut self, id: RawId<'_>, t: i64, amount: f64, oid: Option<Box<str>>, ids: bool) {
        match id {
            RawId::Num(n) => self.ids.push(n),
            RawId::Str(s) => {
                self.str_ids.push((self.ids.len(), Box::from(&*s)));
                self.ids.push(0);
            }
        }
        self.time.push(t);
        self.amount.push(amount);
        if ids {
            self.order_id.push(oid);
        }
    }

    /// Counts the batch's `total` rows as received, reports the rejected
    /// ones and stages the rest, as the CSV reader does with a block.
    fn stage(self, b: &mut HistoryBuilder, total: usize) {
        let base = b.received.get(RecordKind::Order);
        *b.received.get_mut(RecordKind::Order) += total;
        let rejected: Vec<usize> = self.rejected.iter().map(|r| r.0).collect();
        for (row, e) in self.rejected {
            let field = Some(e.field);
            b.report(
                RecordKind::Order,
                base + row,
                field,
                e.problem,
                Action::Dropped,
            );
        }
        let mut skip = rejected.into_iter().peekable();
        let input = (0..total)
            .filter(move |r| skip.next_if_eq(r).is_none())
            .map(|r| base + r);
        b.reserve_orders(self.ids.len());
        b.stage_orders(
            &self.ids,
            self.str_ids,
            &self.time,
            &self.amount,
            input,
            self.order_id,
        );
    }
}

fn read_customers(
    b: &mut HistoryBuilder,
    batch: &RecordBatch,
    spec: &CustomerColumns,
    source: &str,
) -> Result<usize> {
    let schema = batch.schema();
    let col = |i| col(&schema, batch, i, source);
    let id = Ids::of(col(spec.id.require(&schema, source)?))?;
    let signup = Times::of(
        col(spec.signup.require(&schema, source)?),
        &spec.time_format,
    )?;
    let text = |c: &Option<Column>, default| -> Result<Option<Texts<'_>>> {
        Column::optional(c, default, &schema, source)?
            .map(|i| Texts::of(col(i)))
            .transpose()
    };
    let plan = text(&spec.plan, PLAN)?;
    let channel = text(&spec.channel, CHANNEL)?;
    let region = text(&spec.region, REGION)?;
    let tags = Column::optional(&spec.tags, TAGS, &schema, source)?
        .map(|i| Tags::of(col(i)))
        .transpose()?;
    let get = |c: &Option<Texts<'_>>, i| c.as_ref().and_then(|c| c.get(i)).map(String::from);
    for i in 0..batch.num_rows() {
        let row = (|| {
            let id = required(id.get(i, "id"), "id")?;
            let t = required(signup.get(i, "signup"), "signup")?;
            let mut c = Customer::new(id_of(id), from_micros(t));
            c.plan = get(&plan, i);
            c.channel = get(&channel, i);
            c.region = get(&region, i);
            c.tags = tags.as_ref().map(|t| t.get(i)).unwrap_or_default();
            Ok(c)
        })();
        match row {
            Ok(c) => b.push_customer(c),
            Err(e) => reject(b, RecordKind::Customer, e),
        }
    }
    Ok(batch.num_rows())
}

fn read_interactions(
    b: &mut HistoryBuilder,
    batch: &RecordBatch,
    spec: &InteractionColumns,
    source: &str,
) -> Result<usize> {
    let schema = batch.schema();
    let col = |i| col(&schema, batch, i, source);
    let customer = Ids::of(col(spec.customer.require(&schema, source)?))?;
    let time = Times::of(col(spec.time.require(&schema, source)?), &spec.time_format)?;
    let kind = Texts::of(col(spec.kind.require(&schema, source)?))?;
    let hours = Column::optional(&spec.first_response_hours, HOURS, &schema, source)?
        .map(|i| Nums::of(col(i)))
        .transpose()?;
    let text = |c: &Option<Column>, default| -> Result<Option<Texts<'_>>> {
        Column::optional(c, default, &schema, source)?
            .map(|i| Texts::of(col(i)))
            .transpose()
    };
    let topic = text(&spec.topic, TOPIC)?;
    let campaign = text(&spec.campaign, CAMPAIGN)?;
    for i in 0..batch.num_rows() {
        let row = (|| {
            let id = required(customer.get(i, "customer"), "customer")?;
            let t = required(time.get(i, "time"), "time")?;
            let k = kind.get(i).ok_or_else(|| CellError::missing("kind"))?;
            let k = match k.to_ascii_lowercase().as_str() {
                "login" => InteractionKind::Login,
                "visit" => InteractionKind::Visit,
                "support_ticket" | "ticket" | "support" => InteractionKind::SupportTicket {
                    first_response_hours: match &hours {
                        Some(h) => {
                            h.get(i, "first_response_hours")
                                .or_else(|e| match e.problem {
                                    Problem::Missing => Ok(None),
                                    _ => Err(e),
                                })?
                        }
                        None => None,
                    },
                },
                "complaint" => InteractionKind::Complaint {
                    topic: parse_topic(topic.as_ref().and_then(|t| t.get(i)).as_deref())?,
                },
                "campaign_response" | "campaign" => InteractionKind::CampaignResponse {
                    campaign: campaign
                        .as_ref()
                        .and_then(|c| c.get(i))
                        .map(String::from)
                        .unwrap_or_default(),
                },
                "cancellation" | "cancel" => InteractionKind::Cancellation,
                other => {
                    let other = quote_truncated(other);
                    return Err(CellError::malformed(
                        "kind",
                        format!(
                            "unknown interaction kind {other:?} (expected login, visit, support_ticket, complaint, campaign_response or cancellation)"
                        ),
                    ));
                }
            };
            Ok(Interaction::new(id_of(id), from_micros(t), k))
        })();
        match row {
            Ok(r) => b.push_interaction(r),
            Err(e) => reject(b, RecordKind::Interaction, e),
        }
    }
    Ok(batch.num_rows())
}

/// A complaint topic as the CSV reader reads it; no topic is `Other`.
fn parse_topic(s: Option<&str>) -> Result<ComplaintTopic, CellError> {
    let Some(s) = s else {
        return Ok(ComplaintTopic::Other);
    };
    Ok(match s.to_ascii_lowercase().as_str() {
        "product" => ComplaintTopic::Product,
        "service" => ComplaintTopic::Service,
        "price" | "billing" => ComplaintTopic::Price,
        "delivery" | "shipping" => ComplaintTopic::Delivery,
        "other" => ComplaintTopic::Other,
        _ => {
            let s = quote_truncated(s);
            return Err(CellError::malformed(
                "topic",
                format!(
                    "unknown topic {s:?} (expected product, service, price, delivery or other)"
                ),
            ));
        }
    })
}

fn read_feedback(
    b: &mut HistoryBuilder,
    batch: &RecordBatch,
    spec: &FeedbackColumns,
    source: &str,
) -> Result<usize> {
    let schema = batch.schema();
    let col = |i| col(&schema, batch, i, source);
    let customer = Ids::of(col(spec.customer.require(&schema, source)?))?;
    let time = Times::of(col(spec.time.require(&schema, source)?), &spec.time_format)?;
    let satisfaction = Nums::of(col(spec.satisfaction.require(&schema, source)?))?;
    let nps = Column::optional(&spec.nps, NPS, &schema, source)?
        .map(|i| Nums::of(col(i)))
        .transpose()?;
    for i in 0..batch.num_rows() {
        let row = (|| {
            let id = required(customer.get(i, "customer"), "customer")?;
            let t = required(time.get(i, "time"), "time")?;
            let score = required(satisfaction.get(i, "satisfaction"), "satisfaction")?;
            let mut f = Feedback::new(id_of(id), from_micros(t), score, spec.scale);
            let value = match &nps {
                Some(c) => match c.get(i, "nps") {
                    Err(CellError {
                        problem: Problem::Missing,
                        ..
                    }) => None,
                    v => v?,
                },
                None => None,
            };
            let nps = match value {
                Some(v) if v.fract() != 0.0 || !v.is_finite() => {
                    return Err(CellError::malformed(
                        "nps",
                        format!("cannot parse {v} as an integer 0-10"),
                    ));
                }
                Some(v) => {
                    f.nps = u8::try_from(v as i64).ok();
                    Some(v)
                }
                None => None,
            };
            Ok((f, nps))
        })();
        match row {
            Ok((f, nps)) => b.push_feedback_with_nps(f, nps),
            Err(e) => reject(b, RecordKind::Feedback, e),
        }
    }
    Ok(batch.num_rows())
}
