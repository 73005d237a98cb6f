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

mod engine;
mod parsers;

use engine::*;
use parsers::*;

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
