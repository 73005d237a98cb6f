//! Turning CSV fields into records of each kind.

use super::*;
use crate::util::from_micros;

/// Why a row could not be turned into a record.
pub(super) struct RowError {
    pub(super) field: Option<&'static str>,
    pub(super) problem: Problem,
}

/// A malformed field (messages quote at most 200 characters of a value).
pub(super) fn malformed(field: &'static str, message: String) -> RowError {
    RowError {
        field: Some(field),
        problem: Problem::Malformed { message },
    }
}

/// `Err` when `raw` is longer than `limit` bytes.
fn within(raw: &[u8], limit: usize, what: &str, name: &'static str) -> Result<(), RowError> {
    if raw.len() > limit {
        return Err(malformed(
            name,
            format!("{what} of {} bytes exceeds the limit of {limit}", raw.len()),
        ));
    }
    Ok(())
}

/// An id field (customer or order): at most [`MAX_ID_BYTES`](super::MAX_ID_BYTES).
pub(super) fn id_field<'r>(
    rec: &[&'r [u8]],
    i: usize,
    name: &'static str,
) -> Result<&'r str, RowError> {
    within(
        rec.get(i).copied().unwrap_or_default(),
        super::MAX_ID_BYTES,
        "an id",
        name,
    )?;
    field(rec, i, name)
}

/// A header resolved to field indices, turning rows into records of one kind.
///
/// Rows are parsed in parallel into `Rows` (one per chunk of lines), which
/// are then pushed into the builder in file order.
pub(super) trait RowParser: Sync {
    type Rows: Default + Send;
    const KIND: RecordKind;
    /// Makes room in the builder for about `rows` more rows.
    fn reserve(&self, _builder: &mut HistoryBuilder, _rows: usize) {}
    /// Empty rows with room for about `rows` rows.
    fn rows_with_capacity(&self, _rows: usize) -> Self::Rows {
        Self::Rows::default()
    }
    /// Parses one row (a record, or a malformed-row entry) into `rows`.
    fn parse_into(&self, rec: &[&[u8]], rows: &mut Self::Rows);
    /// Adds a row that could not be split into the expected fields.
    fn reject(&self, e: RowError, rows: &mut Self::Rows);
    fn push_rows(&self, builder: &mut HistoryBuilder, rows: Self::Rows);
}

/// A parser producing one record per row, pushed through the builder's `push_*`.
pub(super) trait RecordParser: Sync {
    type Record: Send;
    const KIND: RecordKind;
    fn parse(&self, rec: &[&[u8]]) -> Result<Self::Record, RowError>;
    fn push(builder: &mut HistoryBuilder, record: Self::Record);
}

impl<P: RecordParser> RowParser for P {
    type Rows = Vec<Result<P::Record, RowError>>;
    const KIND: RecordKind = P::KIND;
    fn parse_into(&self, rec: &[&[u8]], rows: &mut Self::Rows) {
        rows.push(self.parse(rec));
    }
    fn reject(&self, e: RowError, rows: &mut Self::Rows) {
        rows.push(Err(e));
    }
    fn push_rows(&self, b: &mut HistoryBuilder, rows: Self::Rows) {
        for row in rows {
            match row {
                Ok(r) => P::push(b, r),
                Err(e) => b.malformed(P::KIND, e.field, e.problem),
            }
        }
    }
}

pub(super) fn field<'r>(
    rec: &[&'r [u8]],
    i: usize,
    name: &'static str,
) -> Result<&'r str, RowError> {
    let raw: &[u8] = rec.get(i).copied().unwrap_or_default();
    within(raw, super::MAX_FIELD_BYTES, "a field", name)?;
    let s = std::str::from_utf8(raw)
        .map_err(|_| malformed(name, "not valid UTF-8".into()))?
        .trim();
    if s.is_empty() {
        return Err(RowError {
            field: Some(name),
            problem: Problem::Missing,
        });
    }
    Ok(s)
}

pub(super) fn optional_field<'r>(
    rec: &[&'r [u8]],
    i: Option<usize>,
    name: &'static str,
) -> Result<Option<&'r str>, RowError> {
    match i.map(|i| field(rec, i, name)) {
        None
        | Some(Err(RowError {
            problem: Problem::Missing,
            ..
        })) => Ok(None),
        Some(r) => r.map(Some),
    }
}

pub(super) fn number(rec: &[&[u8]], i: usize, name: &'static str) -> Result<f64, RowError> {
    if let Some(v) = rec.get(i).and_then(|f| parse_simple_decimal(f)) {
        return Ok(v);
    }
    let s = field(rec, i, name)?;
    s.parse::<f64>().map_err(|_| {
        let s = crate::util::quote_truncated(s);
        malformed(name, format!("cannot parse {s:?} as a number"))
    })
}

/// Parses `[-]digits[.digits]` with at most 15 significant digits exactly
/// (Clinger's fast path: the digits as an integer below 2^53, divided by an
/// exact power of ten, is correctly rounded). Anything else returns `None`
/// and goes to the general parser.
pub(super) fn parse_simple_decimal(f: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (negative, digits) = match f.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, f),
    };
    let (int, frac) = match memchr::memchr(b'.', digits) {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &digits[..0]),
    };
    if int.is_empty() || int.len() + frac.len() > 15 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in int.iter().chain(frac) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u64::from(d);
    }
    let v = n as f64 / POW10[frac.len()];
    Some(if negative { -v } else { v })
}

pub(super) fn time(
    rec: &[&[u8]],
    i: usize,
    name: &'static str,
    format: &TimeFormat,
) -> Result<i64, RowError> {
    let s = field(rec, i, name)?;
    parse_time(s, format).map_err(|m| malformed(name, m))
}

/// A customer id as parsed: integers need no allocation.
pub(super) enum RawId {
    Num(u64),
    Str(Box<str>),
}

pub(super) fn raw_id(rec: &[&[u8]], i: usize, name: &'static str) -> Result<RawId, RowError> {
    let raw: &[u8] = rec.get(i).copied().unwrap_or_default();
    if let Some(n) = parse_canonical_u64(raw) {
        return Ok(RawId::Num(n));
    }
    Ok(RawId::Str(id_field(rec, i, name)?.into()))
}

impl From<RawId> for CustomerId {
    fn from(id: RawId) -> Self {
        match id {
            RawId::Num(n) => CustomerId::from(n),
            RawId::Str(s) => CustomerId::from(&*s),
        }
    }
}

pub(super) struct OrderParser {
    pub(super) customer: usize,
    pub(super) time: usize,
    pub(super) amount: usize,
    pub(super) order_id: Option<usize>,
    pub(super) format: TimeFormat,
    /// The builder's options, to validate rows while parsing in parallel.
    pub(super) options: Options,
}

/// Parsed, valid order rows of one chunk, columnar, and the rows rejected.
#[derive(Default)]
pub(super) struct OrderRows {
    pub(super) ids: Vec<u64>,
    /// Valid rows whose id is not an integer (`ids` holds 0 there), by position in `ids`.
    pub(super) str_ids: Vec<(usize, Box<str>)>,
    pub(super) time: Vec<i64>,
    pub(super) amount: Vec<f64>,
    pub(super) order_id: Vec<Option<Box<str>>>,
    /// Rejected rows: (row index in the chunk, field, problem), in row order.
    pub(super) rejected: Vec<(usize, Option<&'static str>, Problem)>,
    /// The last time field parsed and its value: logs sorted by date repeat it.
    pub(super) last_time: Option<(Vec<u8>, i64)>,
}

impl OrderRows {
    fn rows(&self) -> usize {
        self.ids.len() + self.rejected.len()
    }
}

impl OrderParser {
    fn time_cached(&self, rec: &[&[u8]], rows: &mut OrderRows) -> Result<i64, RowError> {
        let raw: &[u8] = rec.get(self.time).copied().unwrap_or_default();
        if let Some((last, t)) = &rows.last_time
            && last.as_slice() == raw
        {
            return Ok(*t);
        }
        let t = time(rec, self.time, "time", &self.format)?;
        rows.last_time = Some((raw.to_vec(), t));
        Ok(t)
    }

    fn parse_row(&self, rec: &[&[u8]], rows: &mut OrderRows) -> Result<(), RowError> {
        let id = raw_id(rec, self.customer, "customer")?;
        let t = self.time_cached(rec, rows)?;
        let amount = number(rec, self.amount, "amount")?;
        if let Some(k) = self.order_id {
            within(
                rec.get(k).copied().unwrap_or_default(),
                super::MAX_ID_BYTES,
                "an id",
                "order_id",
            )?;
        }
        let order_id = optional_field(rec, self.order_id, "order_id")?.map(Box::from);
        self.options
            .check_order(t, amount)
            .map_err(|(field, problem)| RowError {
                field: Some(field),
                problem,
            })?;
        match id {
            RawId::Num(n) => rows.ids.push(n),
            RawId::Str(s) => {
                rows.str_ids.push((rows.ids.len(), s));
                rows.ids.push(0);
            }
        }
        rows.time.push(t);
        rows.amount.push(amount);
        if self.order_id.is_some() {
            rows.order_id.push(order_id);
        }
        Ok(())
    }
}

impl RowParser for OrderParser {
    type Rows = OrderRows;
    const KIND: RecordKind = RecordKind::Order;
    fn reserve(&self, builder: &mut HistoryBuilder, rows: usize) {
        builder.reserve_orders(rows);
    }
    fn rows_with_capacity(&self, rows: usize) -> OrderRows {
        OrderRows {
            ids: Vec::with_capacity(rows),
            time: Vec::with_capacity(rows),
            amount: Vec::with_capacity(rows),
            ..OrderRows::default()
        }
    }
    fn parse_into(&self, rec: &[&[u8]], rows: &mut OrderRows) {
        if let Err(e) = self.parse_row(rec, rows) {
            self.reject(e, rows);
        }
    }
    fn reject(&self, e: RowError, rows: &mut OrderRows) {
        rows.rejected.push((rows.rows(), e.field, e.problem));
    }
    fn push_rows(&self, b: &mut HistoryBuilder, rows: OrderRows) {
        let base = b.received.orders;
        let total = rows.rows();
        b.received.orders += total;
        let rejected_rows: Vec<usize> = rows.rejected.iter().map(|r| r.0).collect();
        for (row, field, problem) in rows.rejected {
            b.report(
                RecordKind::Order,
                base + row,
                field,
                problem,
                Action::Dropped,
            );
        }
        // Input indices of the valid rows: every row of the chunk but the rejected.
        let mut skip = rejected_rows.into_iter().peekable();
        let input = (0..total)
            .filter(move |r| skip.next_if_eq(r).is_none())
            .map(|r| base + r);
        b.stage_orders(
            &rows.ids,
            rows.str_ids,
            &rows.time,
            &rows.amount,
            input,
            rows.order_id,
        );
    }
}

pub(super) struct CustomerParser {
    pub(super) id: usize,
    pub(super) signup: usize,
    pub(super) plan: Option<usize>,
    pub(super) channel: Option<usize>,
    pub(super) region: Option<usize>,
    pub(super) tags: Option<usize>,
    pub(super) format: TimeFormat,
}

impl RecordParser for CustomerParser {
    type Record = Customer;
    const KIND: RecordKind = RecordKind::Customer;
    fn parse(&self, rec: &[&[u8]]) -> Result<Customer, RowError> {
        let id = raw_id(rec, self.id, "id")?;
        let signup = time(rec, self.signup, "signup", &self.format)?;
        let mut c = Customer::new(id, from_micros(signup));
        c.plan = optional_field(rec, self.plan, "plan")?.map(str::to_owned);
        c.channel = optional_field(rec, self.channel, "channel")?.map(str::to_owned);
        c.region = optional_field(rec, self.region, "region")?.map(str::to_owned);
        if let Some(tags) = optional_field(rec, self.tags, "tags")? {
            c.tags = tags
                .split([';', '|'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect();
        }
        Ok(c)
    }
    fn push(b: &mut HistoryBuilder, row: Customer) {
        b.push_customer(row);
    }
}

pub(super) struct InteractionParser {
    pub(super) customer: usize,
    pub(super) time: usize,
    pub(super) kind: usize,
    pub(super) hours: Option<usize>,
    pub(super) topic: Option<usize>,
    pub(super) campaign: Option<usize>,
    pub(super) format: TimeFormat,
}

pub(super) fn parse_topic(s: Option<&str>) -> Result<ComplaintTopic, RowError> {
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
            let s = crate::util::quote_truncated(s);
            return Err(malformed(
                "topic",
                format!(
                    "unknown topic {s:?} (expected product, service, price, delivery or other)"
                ),
            ));
        }
    })
}

impl RecordParser for InteractionParser {
    type Record = Interaction;
    const KIND: RecordKind = RecordKind::Interaction;
    fn parse(&self, rec: &[&[u8]]) -> Result<Interaction, RowError> {
        let id = raw_id(rec, self.customer, "customer")?;
        let t = time(rec, self.time, "time", &self.format)?;
        let kind_s = field(rec, self.kind, "kind")?;
        let kind = match kind_s.to_ascii_lowercase().as_str() {
            "login" => InteractionKind::Login,
            "visit" => InteractionKind::Visit,
            "support_ticket" | "ticket" | "support" => {
                let hours = optional_field(rec, self.hours, "first_response_hours")?
                    .map(|h| {
                        h.parse::<f64>().map_err(|_| {
                            malformed(
                                "first_response_hours",
                                format!("cannot parse {h:?} as a number"),
                            )
                        })
                    })
                    .transpose()?;
                InteractionKind::SupportTicket {
                    first_response_hours: hours,
                }
            }
            "complaint" => InteractionKind::Complaint {
                topic: parse_topic(optional_field(rec, self.topic, "topic")?)?,
            },
            "campaign_response" | "campaign" => InteractionKind::CampaignResponse {
                campaign: optional_field(rec, self.campaign, "campaign")?
                    .unwrap_or_default()
                    .to_owned(),
            },
            "cancellation" | "cancel" => InteractionKind::Cancellation,
            other => {
                return Err(malformed(
                    "kind",
                    format!(
                        "unknown interaction kind {other:?} (expected login, visit, support_ticket, complaint, campaign_response or cancellation)"
                    ),
                ));
            }
        };
        Ok(Interaction::new(id, from_micros(t), kind))
    }
    fn push(b: &mut HistoryBuilder, row: Interaction) {
        b.push_interaction(row);
    }
}

pub(super) struct FeedbackParser {
    pub(super) customer: usize,
    pub(super) time: usize,
    pub(super) satisfaction: usize,
    pub(super) nps: Option<usize>,
    pub(super) scale: SatisfactionScale,
    pub(super) format: TimeFormat,
}

impl RecordParser for FeedbackParser {
    /// The answer and its NPS as read (any integer: the builder repairs
    /// one outside 0–10).
    type Record = (Feedback, Option<f64>);
    const KIND: RecordKind = RecordKind::Feedback;
    fn parse(&self, rec: &[&[u8]]) -> Result<Self::Record, RowError> {
        let id = raw_id(rec, self.customer, "customer")?;
        let t = time(rec, self.time, "time", &self.format)?;
        let score = number(rec, self.satisfaction, "satisfaction")?;
        let mut f = Feedback::new(id, from_micros(t), score, self.scale);
        let mut nps = None;
        if let Some(n) = optional_field(rec, self.nps, "nps")? {
            let v = n.parse::<i64>().map_err(|_| {
                let n = crate::util::quote_truncated(n);
                malformed("nps", format!("cannot parse {n:?} as an integer 0-10"))
            })?;
            f.nps = u8::try_from(v).ok();
            nps = Some(v as f64);
        }
        Ok((f, nps))
    }
    fn push(b: &mut HistoryBuilder, (row, nps): Self::Record) {
        b.push_feedback_with_nps(row, nps);
    }
}
