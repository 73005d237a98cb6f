//! Reading customers, orders, interactions and feedback from CSV (feature `csv`).
//!
//! Files need a header row. Column names are configurable per file; when a
//! column is not configured, the first header name found among a short list of
//! common spellings is used (for orders: `customer_id`/`customer`/`cust`,
//! `time`/`date`/`timestamp`/`ts`, `amount`/`value`/`revenue`). Times may be
//! dates (`2024-05-01`, midnight UTC), RFC 3339 timestamps, or
//! `YYYY-MM-DD HH:MM:SS` (UTC), or follow a custom `strftime` format. Line ends
//! may be LF or CRLF.
//!
//! A malformed row (wrong number of fields, unparsable number or date, empty
//! required field) becomes an [`Issue`](super::Issue) with its line number and
//! reading goes on; [`HistoryBuilder::build_strict`] turns it into an error.
//!
//! Large files are read in blocks whose rows are parsed on all rayon threads;
//! the result does not depend on the thread count.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use csv::ByteRecord;
use rayon::prelude::*;

use super::builder::{LineRuns, Options};
use super::id::parse_canonical_u64;
use super::quality::{Action, Problem, RecordKind};
use super::time::{TimeFormat, parse_time};
use super::{
    ComplaintTopic, Customer, CustomerId, Feedback, HistoryBuilder, Interaction, InteractionKind,
    SatisfactionScale,
};
use crate::{Error, ErrorKind, Result};

/// Format options shared by every CSV reader: delimiter, time format and the
/// name used for the source in issues and errors.
///
/// # Example
///
/// ```
/// use churnwise::records::{CsvFormat, OrderCsv};
///
/// // A semicolon-separated export with European dates.
/// let spec = OrderCsv::new()
///     .format(CsvFormat::new().delimiter(b';').time_format("%d.%m.%Y").source_name("erp.csv"));
/// # let _ = spec;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvFormat {
    delimiter: u8,
    time_format: TimeFormat,
    source_name: Option<String>,
}

impl Default for CsvFormat {
    fn default() -> Self {
        CsvFormat {
            delimiter: b',',
            time_format: TimeFormat::Auto,
            source_name: None,
        }
    }
}

impl CsvFormat {
    /// The default format: comma-delimited, times detected automatically.
    pub fn new() -> Self {
        CsvFormat::default()
    }

    /// The field delimiter. Defaults to `b','`.
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// A chrono `strftime` format for every time column (e.g. `"%d/%m/%Y"`,
    /// `"%Y-%m-%d %H:%M"`); a date-only format means midnight UTC. Defaults to
    /// automatic detection of ISO dates, RFC 3339 and `YYYY-MM-DD HH:MM:SS`.
    pub fn time_format(mut self, format: impl Into<String>) -> Self {
        self.time_format = TimeFormat::Custom(format.into());
        self
    }

    /// The name used for the source in issues and errors. Defaults to the
    /// file's path, or `"<reader>"`.
    pub fn source_name(mut self, name: impl Into<String>) -> Self {
        self.source_name = Some(name.into());
        self
    }
}

/// A configured column: an explicit name, or a list of common spellings.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Named(String),
    Guess(&'static [&'static str]),
}

impl Column {
    fn find(&self, header: &[String]) -> Option<usize> {
        match self {
            Column::Named(n) => header.iter().position(|h| h == n),
            Column::Guess(names) => names
                .iter()
                .find_map(|n| header.iter().position(|h| h.eq_ignore_ascii_case(n))),
        }
    }

    fn describe(&self) -> String {
        match self {
            Column::Named(n) => n.clone(),
            Column::Guess(names) => names.join("|"),
        }
    }
}

const CUSTOMER: &[&str] = &["customer_id", "customer", "cust", "customerid", "client_id"];
const TIME: &[&str] = &["time", "date", "timestamp", "ts", "datetime"];

macro_rules! column_setters {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(mut self, column: impl Into<String>) -> Self {
            self.$name = Column::Named(column.into());
            self
        }
    )*};
}

macro_rules! optional_column_setters {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(mut self, column: impl Into<String>) -> Self {
            self.$name = Some(Column::Named(column.into()));
            self
        }
    )*};
}

/// Columns of an orders file.
///
/// # Example
///
/// ```
/// use churnwise::records::{HistoryBuilder, OrderCsv, UnknownCustomers};
///
/// let data = "cust,ts,value\r\n7,2024-01-05,19.90\r\n7,2024-02-11,oops\r\n8,2024-02-12,5\r\n";
/// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
/// let rows = b.read_orders_csv(data.as_bytes(), &OrderCsv::new().customer("cust").time("ts").amount("value"))?;
/// assert_eq!(rows, 3);
/// let (history, report) = b.build()?;
/// assert_eq!(history.order_count(), 2);
/// assert_eq!(report.issues()[0].record().line(), Some(3));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCsv {
    customer: Column,
    time: Column,
    amount: Column,
    order_id: Option<Column>,
    format: CsvFormat,
}

impl Default for OrderCsv {
    fn default() -> Self {
        OrderCsv {
            customer: Column::Guess(CUSTOMER),
            time: Column::Guess(TIME),
            amount: Column::Guess(&["amount", "value", "revenue", "total", "price"]),
            order_id: None,
            format: CsvFormat::default(),
        }
    }
}

impl OrderCsv {
    /// Columns guessed from common names (see the module docs).
    pub fn new() -> Self {
        OrderCsv::default()
    }
    column_setters! {
        /// The customer id column. Defaults to the first of `customer_id`, `customer`, `cust`, `customerid`, `client_id`.
        customer,
        /// The order time column. Defaults to the first of `time`, `date`, `timestamp`, `ts`, `datetime`.
        time,
        /// The amount column. Defaults to the first of `amount`, `value`, `revenue`, `total`, `price`.
        amount,
    }
    optional_column_setters! {
        /// The order id column. Defaults to `order_id` when the header has it.
        order_id,
    }
    /// The file format. Defaults to [`CsvFormat::default`].
    pub fn format(mut self, format: CsvFormat) -> Self {
        self.format = format;
        self
    }
}

/// Columns of a customers file.
///
/// Tags are one column with values separated by `;` or `|`.
///
/// # Example
///
/// ```
/// use churnwise::records::{CustomerCsv, HistoryBuilder};
///
/// let data = "id,signup,plan,tags\nC-1,2024-01-02,gold,b2b;eu\nC-2,2024-01-03,,\n";
/// let mut b = HistoryBuilder::new();
/// b.read_customers_csv(data.as_bytes(), &CustomerCsv::new().id("id"))?;
/// let (history, _) = b.build()?;
/// let c = history.customer(0).expect("two customers");
/// assert_eq!(c.plan(), Some("gold"));
/// assert_eq!(c.tags().collect::<Vec<_>>(), ["b2b", "eu"]);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerCsv {
    id: Column,
    signup: Column,
    plan: Option<Column>,
    channel: Option<Column>,
    region: Option<Column>,
    tags: Option<Column>,
    format: CsvFormat,
}

impl Default for CustomerCsv {
    fn default() -> Self {
        CustomerCsv {
            id: Column::Guess(&["customer_id", "id", "customer", "cust"]),
            signup: Column::Guess(&[
                "signup",
                "signup_date",
                "signup_time",
                "created_at",
                "created",
                "date",
            ]),
            plan: None,
            channel: None,
            region: None,
            tags: None,
            format: CsvFormat::default(),
        }
    }
}

impl CustomerCsv {
    /// Columns guessed from common names.
    pub fn new() -> Self {
        CustomerCsv::default()
    }
    column_setters! {
        /// The id column. Defaults to the first of `customer_id`, `id`, `customer`, `cust`.
        id,
        /// The signup column. Defaults to the first of `signup`, `signup_date`, `signup_time`, `created_at`, `created`, `date`.
        signup,
    }
    optional_column_setters! {
        /// The plan column. Defaults to `plan` (or `tier`) when present.
        plan,
        /// The channel column. Defaults to `channel` when present.
        channel,
        /// The region column. Defaults to `region` when present.
        region,
        /// The tags column. Defaults to `tags` when present.
        tags,
    }
    /// The file format. Defaults to [`CsvFormat::default`].
    pub fn format(mut self, format: CsvFormat) -> Self {
        self.format = format;
        self
    }
}

/// Columns of an interactions file.
///
/// The kind column holds `login`, `visit`, `support_ticket` (or `ticket`),
/// `complaint`, `campaign_response` or `cancellation` (case-insensitive).
/// Optional columns give a ticket's `first_response_hours`, a complaint's
/// `topic` (`product`, `service`, `price`, `delivery`, `other`) and a response's `campaign`.
///
/// # Example
///
/// ```
/// use churnwise::records::{HistoryBuilder, InteractionCsv, InteractionKind, UnknownCustomers};
///
/// let data = "customer_id,time,kind,first_response_hours,topic,campaign\n\
///             1,2024-03-01T09:00:00Z,support_ticket,30.5,,\n\
///             1,2024-03-02T10:00:00Z,complaint,,product,\n\
///             1,2024-03-03T10:00:00Z,teleport,,,\n";
/// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
/// b.read_interactions_csv(data.as_bytes(), &InteractionCsv::new())?;
/// let (history, report) = b.build()?;
/// assert_eq!(history.interaction_count(), 2);
/// assert_eq!(report.count("malformed"), 1);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionCsv {
    customer: Column,
    time: Column,
    kind: Column,
    first_response_hours: Option<Column>,
    topic: Option<Column>,
    campaign: Option<Column>,
    format: CsvFormat,
}

impl Default for InteractionCsv {
    fn default() -> Self {
        InteractionCsv {
            customer: Column::Guess(CUSTOMER),
            time: Column::Guess(TIME),
            kind: Column::Guess(&["kind", "type", "event", "interaction"]),
            first_response_hours: None,
            topic: None,
            campaign: None,
            format: CsvFormat::default(),
        }
    }
}

impl InteractionCsv {
    /// Columns guessed from common names.
    pub fn new() -> Self {
        InteractionCsv::default()
    }
    column_setters! {
        /// The customer id column. Defaults as for [`OrderCsv::customer`].
        customer,
        /// The time column. Defaults as for [`OrderCsv::time`].
        time,
        /// The kind column. Defaults to the first of `kind`, `type`, `event`, `interaction`.
        kind,
    }
    optional_column_setters! {
        /// Hours to first response of tickets. Defaults to `first_response_hours` when present.
        first_response_hours,
        /// Complaint topic. Defaults to `topic` when present.
        topic,
        /// Campaign name of campaign responses. Defaults to `campaign` when present.
        campaign,
    }
    /// The file format. Defaults to [`CsvFormat::default`].
    pub fn format(mut self, format: CsvFormat) -> Self {
        self.format = format;
        self
    }
}

/// Columns of a feedback file, and the scale its satisfaction scores are on.
///
/// # Example
///
/// ```
/// use churnwise::records::{FeedbackCsv, HistoryBuilder, SatisfactionScale, UnknownCustomers};
///
/// let data = "customer_id,date,score,nps\n1,2024-03-01,8,9\n1,2024-04-01,11,\n";
/// let spec = FeedbackCsv::new().satisfaction("score").scale(SatisfactionScale::TEN_POINT);
/// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
/// b.read_feedback_csv(data.as_bytes(), &spec)?;
/// let (history, report) = b.build()?;
/// assert_eq!(history.feedback_count(), 1);
/// assert_eq!(report.count("out_of_scale"), 1);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackCsv {
    customer: Column,
    time: Column,
    satisfaction: Column,
    nps: Option<Column>,
    scale: SatisfactionScale,
    format: CsvFormat,
}

impl Default for FeedbackCsv {
    fn default() -> Self {
        FeedbackCsv {
            customer: Column::Guess(CUSTOMER),
            time: Column::Guess(TIME),
            satisfaction: Column::Guess(&["satisfaction", "score", "csat", "rating"]),
            nps: None,
            scale: SatisfactionScale::FIVE_POINT,
            format: CsvFormat::default(),
        }
    }
}

impl FeedbackCsv {
    /// Columns guessed from common names, 1–5 scale.
    pub fn new() -> Self {
        FeedbackCsv::default()
    }
    column_setters! {
        /// The customer id column. Defaults as for [`OrderCsv::customer`].
        customer,
        /// The time column. Defaults as for [`OrderCsv::time`].
        time,
        /// The satisfaction column. Defaults to the first of `satisfaction`, `score`, `csat`, `rating`.
        satisfaction,
    }
    optional_column_setters! {
        /// The NPS column (0–10). Defaults to `nps` when present.
        nps,
    }
    /// The scale of the satisfaction column. Defaults to [`SatisfactionScale::FIVE_POINT`].
    pub fn scale(mut self, scale: SatisfactionScale) -> Self {
        self.scale = scale;
        self
    }
    /// The file format. Defaults to [`CsvFormat::default`].
    pub fn format(mut self, format: CsvFormat) -> Self {
        self.format = format;
        self
    }
}

/// Why a row could not be turned into a record.
struct RowError {
    field: Option<&'static str>,
    problem: Problem,
}

fn malformed(field: &'static str, message: String) -> RowError {
    RowError {
        field: Some(field),
        problem: Problem::Malformed { message },
    }
}

/// A header resolved to field indices, turning rows into records of one kind.
///
/// Rows are parsed in parallel into `Rows` (one per chunk of lines), which
/// are then pushed into the builder in file order.
trait RowParser: Sync {
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
trait RecordParser: Sync {
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

fn field<'r>(rec: &[&'r [u8]], i: usize, name: &'static str) -> Result<&'r str, RowError> {
    let raw: &[u8] = rec.get(i).copied().unwrap_or_default();
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

fn optional_field<'r>(
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

fn number(rec: &[&[u8]], i: usize, name: &'static str) -> Result<f64, RowError> {
    if let Some(v) = rec.get(i).and_then(|f| parse_simple_decimal(f)) {
        return Ok(v);
    }
    let s = field(rec, i, name)?;
    s.parse::<f64>()
        .map_err(|_| malformed(name, format!("cannot parse {s:?} as a number")))
}

/// Parses `[-]digits[.digits]` with at most 15 significant digits exactly
/// (Clinger's fast path: the digits as an integer below 2^53, divided by an
/// exact power of ten, is correctly rounded). Anything else returns `None`
/// and goes to the general parser.
fn parse_simple_decimal(f: &[u8]) -> Option<f64> {
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

fn time(rec: &[&[u8]], i: usize, name: &'static str, format: &TimeFormat) -> Result<i64, RowError> {
    let s = field(rec, i, name)?;
    parse_time(s, format).map_err(|m| malformed(name, m))
}

/// A customer id as parsed: integers need no allocation.
enum RawId {
    Num(u64),
    Str(Box<str>),
}

fn raw_id(rec: &[&[u8]], i: usize, name: &'static str) -> Result<RawId, RowError> {
    let raw: &[u8] = rec.get(i).copied().unwrap_or_default();
    if let Some(n) = parse_canonical_u64(raw) {
        return Ok(RawId::Num(n));
    }
    Ok(RawId::Str(field(rec, i, name)?.into()))
}

impl From<RawId> for CustomerId {
    fn from(id: RawId) -> Self {
        match id {
            RawId::Num(n) => CustomerId::from(n),
            RawId::Str(s) => CustomerId::from(&*s),
        }
    }
}

struct OrderParser {
    customer: usize,
    time: usize,
    amount: usize,
    order_id: Option<usize>,
    format: TimeFormat,
    /// The builder's options, to validate rows while parsing in parallel.
    options: Options,
}

/// Parsed, valid order rows of one chunk, columnar, and the rows rejected.
#[derive(Default)]
struct OrderRows {
    ids: Vec<u64>,
    /// Valid rows whose id is not an integer (`ids` holds 0 there), by position in `ids`.
    str_ids: Vec<(usize, Box<str>)>,
    time: Vec<i64>,
    amount: Vec<f64>,
    order_id: Vec<Option<Box<str>>>,
    /// Rejected rows: (row index in the chunk, field, problem), in row order.
    rejected: Vec<(usize, Option<&'static str>, Problem)>,
    /// The last time field parsed and its value: logs sorted by date repeat it.
    last_time: Option<(Vec<u8>, i64)>,
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

struct CustomerParser {
    id: usize,
    signup: usize,
    plan: Option<usize>,
    channel: Option<usize>,
    region: Option<usize>,
    tags: Option<usize>,
    format: TimeFormat,
}

impl RecordParser for CustomerParser {
    type Record = Customer;
    const KIND: RecordKind = RecordKind::Customer;
    fn parse(&self, rec: &[&[u8]]) -> Result<Customer, RowError> {
        let id = raw_id(rec, self.id, "id")?;
        let signup = time(rec, self.signup, "signup", &self.format)?;
        let mut c = Customer::new(id, super::time::from_micros(signup));
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

struct InteractionParser {
    customer: usize,
    time: usize,
    kind: usize,
    hours: Option<usize>,
    topic: Option<usize>,
    campaign: Option<usize>,
    format: TimeFormat,
}

fn parse_topic(s: Option<&str>) -> Result<ComplaintTopic, RowError> {
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
        Ok(Interaction::new(id, super::time::from_micros(t), kind))
    }
    fn push(b: &mut HistoryBuilder, row: Interaction) {
        b.push_interaction(row);
    }
}

struct FeedbackParser {
    customer: usize,
    time: usize,
    satisfaction: usize,
    nps: Option<usize>,
    scale: SatisfactionScale,
    format: TimeFormat,
}

impl RecordParser for FeedbackParser {
    type Record = Feedback;
    const KIND: RecordKind = RecordKind::Feedback;
    fn parse(&self, rec: &[&[u8]]) -> Result<Feedback, RowError> {
        let id = raw_id(rec, self.customer, "customer")?;
        let t = time(rec, self.time, "time", &self.format)?;
        let score = number(rec, self.satisfaction, "satisfaction")?;
        let mut f = Feedback::new(id, super::time::from_micros(t), score, self.scale);
        if let Some(n) = optional_field(rec, self.nps, "nps")? {
            let v = n
                .parse::<u8>()
                .map_err(|_| malformed("nps", format!("cannot parse {n:?} as an integer 0-10")))?;
            f.nps = Some(v);
        }
        Ok(f)
    }
    fn push(b: &mut HistoryBuilder, row: Feedback) {
        b.push_feedback(row);
    }
}

/// Size of the blocks read and parsed in parallel.
const BLOCK_BYTES: usize = 32 << 20;

fn io_error(source: &str, e: impl std::fmt::Display) -> Error {
    ErrorKind::Io {
        source_name: source.to_owned(),
        message: e.to_string(),
    }
    .into()
}

/// The header and the rest of the input, read up to the end of the header line.
struct Input<R> {
    reader: R,
    /// The source's name in issues and errors.
    source: Arc<str>,
    header: Vec<String>,
    /// Read buffer: `buf[..filled]` holds bytes read past the header, not yet
    /// parsed. It is reused across blocks (never re-zeroed).
    buf: Vec<u8>,
    filled: usize,
    /// 1-based line number of the first line in `buf`.
    line: u64,
    delimiter: u8,
    /// Bytes read per block (a parameter so tests can cross block boundaries).
    block: usize,
    /// The input's size in bytes, when known, to size the builder's columns once.
    size_hint: Option<u64>,
}

impl<R: Read> Input<R> {
    fn open(mut reader: R, format: &CsvFormat) -> Result<Self> {
        let source: Arc<str> = Arc::from(format.source_name.as_deref().unwrap_or("<reader>"));
        let mut pending = Vec::new();
        // Read until the header line is complete (a header with quoted newlines is read whole by csv).
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            let n = reader.read(&mut chunk).map_err(|e| io_error(&source, e))?;
            pending.extend_from_slice(&chunk[..n]);
            if n == 0 || memchr::memchr(b'\n', &pending).is_some() {
                break;
            }
        }
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(format.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(&pending[..]);
        let mut rec = ByteRecord::new();
        let found = rdr
            .read_byte_record(&mut rec)
            .map_err(|e| io_error(&source, e))?;
        if !found {
            return Err(io_error(
                &source,
                "the file is empty: a header row is required",
            ));
        }
        let consumed = rdr.position().byte() as usize;
        let line = rdr.position().line();
        let header = rec
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_owned()
            })
            .collect();
        pending.drain(..consumed.min(pending.len()));
        Ok(Input {
            reader,
            source,
            header,
            filled: pending.len(),
            buf: pending,
            line,
            delimiter: format.delimiter,
            block: BLOCK_BYTES,
            size_hint: None,
        })
    }

    fn column(&self, c: &Column) -> Result<usize> {
        c.find(&self.header).ok_or_else(|| {
            ErrorKind::MissingColumn {
                source_name: self.source.to_string(),
                column: c.describe(),
                available: self.header.join(","),
            }
            .into()
        })
    }

    fn optional(
        &self,
        c: &Option<Column>,
        default: &'static [&'static str],
    ) -> Result<Option<usize>> {
        match c {
            Some(c) => self.column(c).map(Some),
            None => Ok(Column::Guess(default).find(&self.header)),
        }
    }

    /// Parses every remaining row with `parser` and pushes it into `builder`.
    /// Parses every remaining row with `parser` and pushes it into `builder`.
    ///
    /// Blocks are pipelined: while one block's rows are pushed into the
    /// builder (sequential: id interning), the next block is parsed on the
    /// other threads.
    fn run<P: RowParser>(mut self, parser: &P, builder: &mut HistoryBuilder) -> Result<usize> {
        let source = self.source.clone();
        builder.begin_source(P::KIND, source.clone());
        let width = self.header.len();
        let mut rows = 0;
        let mut parsed: Vec<Chunk<P::Rows>> = Vec::new();
        let mut push = |builder: &mut HistoryBuilder, chunks: Vec<Chunk<P::Rows>>| {
            for chunk in chunks {
                rows += chunk.lines.len();
                builder.extend_lines(&chunk.lines);
                parser.push_rows(builder, chunk.rows);
            }
        };
        let mut eof = false;
        while !eof {
            eof = self.fill(&source)?;
            let pending = &self.buf[..self.filled];
            if memchr::memchr(b'"', pending).is_some() {
                // Quoted fields may hold newlines: finish sequentially with the csv parser.
                push(builder, std::mem::take(&mut parsed));
                let reader = std::io::Cursor::new(pending).chain(&mut self.reader);
                let more = sequential(
                    reader,
                    self.delimiter,
                    self.line,
                    width,
                    parser,
                    builder,
                    &source,
                )?;
                return Ok(rows + more);
            }
            let end = match memchr::memrchr(b'\n', pending) {
                _ if eof => pending.len(),
                Some(i) => i + 1,
                None => continue, // a line longer than a block: read more
            };
            let block = &pending[..end];
            let previous = std::mem::take(&mut parsed);
            let ((next, lines), ()) = rayon::join(
                || parse_block(block, self.delimiter, self.line, width, parser),
                || push(builder, previous),
            );
            if let Some(size) = self.size_hint.take() {
                // Extrapolate the rows of the whole input from the first block.
                let first_rows: usize = next.iter().map(|c| c.lines.len()).sum();
                let estimate =
                    (size as f64 / end.max(1) as f64 * first_rows as f64 * 1.01) as usize;
                parser.reserve(builder, estimate);
            }
            parsed = next;
            self.line += lines;
            self.buf.copy_within(end..self.filled, 0);
            self.filled -= end;
        }
        push(builder, parsed);
        Ok(rows)
    }

    /// Reads until the buffer holds a full block or the input ends; returns whether it ended.
    fn fill(&mut self, source: &str) -> Result<bool> {
        // Grow only when a single line is longer than what the buffer holds.
        let target = self.block.max(self.filled + self.block / 32 + 1);
        if self.buf.len() < target {
            self.buf.resize(target, 0);
        }
        while self.filled < target {
            let n = self
                .reader
                .read(&mut self.buf[self.filled..target])
                .map_err(|e| io_error(source, e))?;
            if n == 0 {
                return Ok(true);
            }
            self.filled += n;
        }
        Ok(false)
    }
}

/// Parsed rows of one chunk and the line of each.
struct Chunk<R> {
    lines: LineRuns,
    rows: R,
}

/// Parses a block of whole lines (no quotes) in parallel chunks, in order;
/// also returns the number of lines in the block.
fn parse_block<P: RowParser>(
    block: &[u8],
    delimiter: u8,
    first_line: u64,
    width: usize,
    parser: &P,
) -> (Vec<Chunk<P::Rows>>, u64) {
    let threads = rayon::current_num_threads().max(1);
    let target = (block.len() / (threads * 4)).max(1 << 16);
    // Cut at newlines; each piece knows its first line number.
    let mut pieces = Vec::new();
    let (mut start, mut line) = (0usize, first_line);
    while start < block.len() {
        let mut end = (start + target).min(block.len());
        if end < block.len() {
            end = memchr::memchr(b'\n', &block[end..]).map_or(block.len(), |i| end + i + 1);
        }
        pieces.push((start, end, line));
        line += memchr::memchr_iter(b'\n', &block[start..end]).count() as u64;
        start = end;
    }
    let chunks = pieces
        .into_par_iter()
        .map(|(s, e, line)| split_lines(&block[s..e], delimiter, line, width, parser))
        .collect();
    (chunks, line - first_line)
}

/// Parses unquoted CSV lines: fields are the bytes between delimiters, a
/// trailing `\r` is dropped and empty lines are skipped (as the csv crate does).
fn split_lines<P: RowParser>(
    piece: &[u8],
    delimiter: u8,
    mut line: u64,
    width: usize,
    parser: &P,
) -> Chunk<P::Rows> {
    let mut chunk = Chunk {
        lines: LineRuns::default(),
        rows: parser.rows_with_capacity(piece.len() / 12 + 16),
    };
    let mut fields: Vec<&[u8]> = Vec::with_capacity(width);
    let mut emit = |fields: &mut Vec<&[u8]>, line: u64| {
        // An empty line (one empty field) is skipped, as the csv crate does.
        if fields.len() > 1 || fields.first().is_some_and(|f| !f.is_empty()) {
            chunk.lines.push(line);
            if fields.len() == width {
                parser.parse_into(fields, &mut chunk.rows);
            } else {
                parser.reject(wrong_width(width, fields.len()), &mut chunk.rows);
            }
        }
        fields.clear();
    };
    // One vectorized scan finds both delimiters and line ends.
    let mut start = 0;
    for i in memchr::memchr2_iter(delimiter, b'\n', piece) {
        if piece[i] == b'\n' {
            let end = if i > start && piece[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            fields.push(&piece[start..end]);
            emit(&mut fields, line);
            line += 1;
        } else {
            fields.push(&piece[start..i]);
        }
        start = i + 1;
    }
    if start < piece.len() || !fields.is_empty() {
        let rest = &piece[start..];
        fields.push(rest.strip_suffix(b"\r").unwrap_or(rest));
        emit(&mut fields, line);
    }
    chunk
}

fn wrong_width(width: usize, found: usize) -> RowError {
    RowError {
        field: None,
        problem: Problem::Malformed {
            message: format!("expected {width} fields, found {found}"),
        },
    }
}

fn csv_reader<R: Read>(r: R, delimiter: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(r)
}

/// Parses every remaining row with the csv crate (quoted fields may span
/// lines), pushing them in batches; `first_line` is the line of the reader's first byte.
fn sequential<R: Read, P: RowParser>(
    reader: R,
    delimiter: u8,
    first_line: u64,
    width: usize,
    parser: &P,
    builder: &mut HistoryBuilder,
    source: &str,
) -> Result<usize> {
    let mut rdr = csv_reader(reader, delimiter);
    let mut rec = ByteRecord::new();
    let mut total = 0;
    let mut chunk = Chunk {
        lines: LineRuns::default(),
        rows: P::Rows::default(),
    };
    loop {
        let line_before = rdr.position().line();
        let done = match rdr.read_byte_record(&mut rec) {
            Ok(false) => true,
            Ok(true) => {
                chunk
                    .lines
                    .push(first_line + rec.position().map_or(line_before, |p| p.line()) - 1);
                let fields: Vec<&[u8]> = rec.iter().collect();
                if fields.len() == width {
                    parser.parse_into(&fields, &mut chunk.rows);
                } else {
                    parser.reject(wrong_width(width, fields.len()), &mut chunk.rows);
                }
                false
            }
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => return Err(io_error(source, e)),
            Err(e) => {
                chunk
                    .lines
                    .push(first_line + e.position().map_or(line_before, |p| p.line()) - 1);
                let problem = Problem::Malformed {
                    message: e.to_string(),
                };
                parser.reject(
                    RowError {
                        field: None,
                        problem,
                    },
                    &mut chunk.rows,
                );
                false
            }
        };
        if done || chunk.lines.len() >= 1 << 16 {
            total += chunk.lines.len();
            let full = std::mem::replace(
                &mut chunk,
                Chunk {
                    lines: LineRuns::default(),
                    rows: P::Rows::default(),
                },
            );
            builder.extend_lines(&full.lines);
            parser.push_rows(builder, full.rows);
        }
        if done {
            return Ok(total);
        }
    }
}

fn open_path(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| io_error(&path.display().to_string(), e))
}

impl HistoryBuilder {
    /// Reads orders from CSV with a header row; returns the number of data rows read.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] if reading fails or there is no header;
    /// [`ErrorKind::MissingColumn`] if a configured column is not in the header.
    /// Bad rows are not errors: they are reported by [`build`](Self::build).
    pub fn read_orders_csv<R: Read>(&mut self, reader: R, spec: &OrderCsv) -> Result<usize> {
        self.read_orders(reader, spec, None)
    }

    fn read_orders<R: Read>(
        &mut self,
        reader: R,
        spec: &OrderCsv,
        size_hint: Option<u64>,
    ) -> Result<usize> {
        let mut input = Input::open(reader, &spec.format)?;
        input.size_hint = size_hint;
        let parser = OrderParser {
            customer: input.column(&spec.customer)?,
            time: input.column(&spec.time)?,
            amount: input.column(&spec.amount)?,
            order_id: input.optional(&spec.order_id, &["order_id"])?,
            format: spec.format.time_format.clone(),
            options: self.options().clone(),
        };
        input.run(&parser, self)
    }

    /// [`read_orders_csv`](Self::read_orders_csv) from a file.
    ///
    /// # Errors
    ///
    /// As for `read_orders_csv`, and [`ErrorKind::Io`] if the file cannot be opened.
    pub fn read_orders_csv_path(
        &mut self,
        path: impl AsRef<Path>,
        spec: &OrderCsv,
    ) -> Result<usize> {
        let path = path.as_ref();
        let spec = with_default_source(spec.clone(), path, |s| &mut s.format);
        let file = open_path(path)?;
        let size = file.metadata().ok().map(|m| m.len());
        self.read_orders(file, &spec, size)
    }

    /// Reads customers from CSV with a header row; returns the number of data rows read.
    ///
    /// # Errors
    ///
    /// As for [`read_orders_csv`](Self::read_orders_csv).
    pub fn read_customers_csv<R: Read>(&mut self, reader: R, spec: &CustomerCsv) -> Result<usize> {
        let input = Input::open(reader, &spec.format)?;
        let parser = CustomerParser {
            id: input.column(&spec.id)?,
            signup: input.column(&spec.signup)?,
            plan: input.optional(&spec.plan, &["plan", "tier"])?,
            channel: input.optional(&spec.channel, &["channel"])?,
            region: input.optional(&spec.region, &["region"])?,
            tags: input.optional(&spec.tags, &["tags"])?,
            format: spec.format.time_format.clone(),
        };
        input.run(&parser, self)
    }

    /// [`read_customers_csv`](Self::read_customers_csv) from a file.
    ///
    /// # Errors
    ///
    /// As for `read_customers_csv`, and [`ErrorKind::Io`] if the file cannot be opened.
    pub fn read_customers_csv_path(
        &mut self,
        path: impl AsRef<Path>,
        spec: &CustomerCsv,
    ) -> Result<usize> {
        let path = path.as_ref();
        let spec = with_default_source(spec.clone(), path, |s| &mut s.format);
        self.read_customers_csv(open_path(path)?, &spec)
    }

    /// Reads interactions from CSV with a header row; returns the number of data rows read.
    ///
    /// # Errors
    ///
    /// As for [`read_orders_csv`](Self::read_orders_csv).
    pub fn read_interactions_csv<R: Read>(
        &mut self,
        reader: R,
        spec: &InteractionCsv,
    ) -> Result<usize> {
        let input = Input::open(reader, &spec.format)?;
        let parser = InteractionParser {
            customer: input.column(&spec.customer)?,
            time: input.column(&spec.time)?,
            kind: input.column(&spec.kind)?,
            hours: input.optional(&spec.first_response_hours, &["first_response_hours"])?,
            topic: input.optional(&spec.topic, &["topic"])?,
            campaign: input.optional(&spec.campaign, &["campaign"])?,
            format: spec.format.time_format.clone(),
        };
        input.run(&parser, self)
    }

    /// [`read_interactions_csv`](Self::read_interactions_csv) from a file.
    ///
    /// # Errors
    ///
    /// As for `read_interactions_csv`, and [`ErrorKind::Io`] if the file cannot be opened.
    pub fn read_interactions_csv_path(
        &mut self,
        path: impl AsRef<Path>,
        spec: &InteractionCsv,
    ) -> Result<usize> {
        let path = path.as_ref();
        let spec = with_default_source(spec.clone(), path, |s| &mut s.format);
        self.read_interactions_csv(open_path(path)?, &spec)
    }

    /// Reads feedback from CSV with a header row; returns the number of data rows read.
    ///
    /// # Errors
    ///
    /// As for [`read_orders_csv`](Self::read_orders_csv).
    pub fn read_feedback_csv<R: Read>(&mut self, reader: R, spec: &FeedbackCsv) -> Result<usize> {
        let input = Input::open(reader, &spec.format)?;
        let parser = FeedbackParser {
            customer: input.column(&spec.customer)?,
            time: input.column(&spec.time)?,
            satisfaction: input.column(&spec.satisfaction)?,
            nps: input.optional(&spec.nps, &["nps"])?,
            scale: spec.scale,
            format: spec.format.time_format.clone(),
        };
        input.run(&parser, self)
    }

    /// [`read_feedback_csv`](Self::read_feedback_csv) from a file.
    ///
    /// # Errors
    ///
    /// As for `read_feedback_csv`, and [`ErrorKind::Io`] if the file cannot be opened.
    pub fn read_feedback_csv_path(
        &mut self,
        path: impl AsRef<Path>,
        spec: &FeedbackCsv,
    ) -> Result<usize> {
        let path = path.as_ref();
        let spec = with_default_source(spec.clone(), path, |s| &mut s.format);
        self.read_feedback_csv(open_path(path)?, &spec)
    }
}

fn with_default_source<S>(
    mut spec: S,
    path: &Path,
    format: impl Fn(&mut S) -> &mut CsvFormat,
) -> S {
    let f = format(&mut spec);
    if f.source_name.is_none() {
        f.source_name = Some(path.display().to_string());
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{History, UnknownCustomers};

    #[test]
    fn simple_decimals_parse_exactly_like_the_standard_parser() {
        let cases = [
            "0",
            "26.87",
            "-0.5",
            "123456789012345",
            "99999.99999",
            "0.1",
            "1.000",
            "-12.30",
            "7.",
            "42",
            "0.00000000000001",
            "3.14159265358979",
        ];
        for c in cases {
            let want: f64 = c.parse().unwrap();
            assert_eq!(parse_simple_decimal(c.as_bytes()), Some(want), "{c}");
        }
        // Left to the general parser.
        for c in [
            "1e5",
            "1234567890123456",
            ".5",
            "",
            "-",
            "+1",
            "1,5",
            " 1",
            "NaN",
            "inf",
        ] {
            assert_eq!(parse_simple_decimal(c.as_bytes()), None, "{c}");
        }
        // Every two-decimal amount below 10 000 matches.
        for cents in (0..1_000_000u64).step_by(7) {
            let s = format!("{}.{:02}", cents / 100, cents % 100);
            assert_eq!(
                parse_simple_decimal(s.as_bytes()),
                Some(s.parse::<f64>().unwrap()),
                "{s}"
            );
        }
    }

    fn read_with_block(data: &str, block: usize) -> (History, crate::records::DataQualityReport) {
        let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        let spec = OrderCsv::new();
        let mut input = Input::open(data.as_bytes(), &spec.format).unwrap();
        input.block = block;
        let parser = OrderParser {
            customer: input.column(&spec.customer).unwrap(),
            time: input.column(&spec.time).unwrap(),
            amount: input.column(&spec.amount).unwrap(),
            order_id: None,
            format: TimeFormat::Auto,
            options: b.options().clone(),
        };
        input.run(&parser, &mut b).unwrap();
        b.build().unwrap()
    }

    #[test]
    fn line_numbers_survive_block_boundaries() {
        let mut data = String::from("customer_id,date,amount\n");
        for i in 0..500 {
            if i % 97 == 0 {
                data.push_str("\r\n"); // blank lines count as lines
            }
            if i % 50 == 7 {
                data.push_str(&format!("{i},2024-01-01,not-a-number\n"));
            } else {
                data.push_str(&format!("{},2024-01-{:02},{i}.5\r\n", i % 37, 1 + i % 28));
            }
        }
        let (whole, whole_report) = read_with_block(&data, 1 << 20);
        for block in [16, 64, 1000] {
            let (h, report) = read_with_block(&data, block);
            assert_eq!(h, whole);
            assert_eq!(report, whole_report);
        }
        let lines: Vec<u64> = whole_report
            .iter()
            .map(|i| i.record().line().unwrap())
            .collect();
        let expected: Vec<u64> = data
            .lines()
            .enumerate()
            .filter(|(_, l)| l.ends_with("not-a-number"))
            .map(|(n, _)| n as u64 + 1)
            .collect();
        assert_eq!(lines, expected);
        assert_eq!(whole.order_count(), 500 - expected.len());
    }
}
