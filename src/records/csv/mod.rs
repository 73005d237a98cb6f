//! Reading customers, orders, interactions, feedback, subscriptions and
//! subscription events from CSV (feature `csv`).
//!
//! Files need a header row. Column names are configurable per file; when a
//! column is not configured, the first header name found among a short list of
//! common spellings is used (for orders: `customer_id`/`customer`/`cust`,
//! `time`/`date`/`timestamp`/`ts`, `amount`/`value`/`revenue`). Times may be
//! dates (`2024-05-01`, midnight UTC), RFC 3339 timestamps, or
//! `YYYY-MM-DD HH:MM:SS` (UTC), or follow a custom `strftime` format. Line ends
//! may be LF, CRLF or CR. A field may be quoted (`"Smith, Ann"`): it may then
//! hold the delimiter, line ends and `""` for one quote (RFC 4180, read as the
//! `csv` crate reads it).
//!
//! A malformed row (wrong number of fields, unparsable number or date, empty
//! required field) becomes an [`Issue`](super::Issue) with its line number and
//! reading goes on; [`HistoryBuilder::build_strict`] turns it into an error.
//!
//! Large files are read in blocks whose rows are parsed on all rayon threads,
//! quoted fields or not; the result does not depend on the thread count.
//! Reading takes time and memory linear in the input, whatever its shape.
//! Line numbers count the line ends the header uses: LF (or CRLF), or CR
//! alone in a classic-Mac file.
//!
//! # Limits
//!
//! | what | limit | beyond it |
//! |---|---|---|
//! | a line (one record, quoted line ends included), the header too | [`MAX_LINE_BYTES`] (1 MiB) | [`ErrorKind::TooLarge`] naming the line |
//! | a field | [`MAX_FIELD_BYTES`] (64 KiB) | the row is rejected ([`Issue`](super::Issue)) |
//! | a customer or order id | [`MAX_ID_BYTES`] (256 bytes) | the row is rejected |
//!
//! Errors and issues quote at most 200 characters of the input.

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

/// The longest line (one record, with any line ends inside quoted fields)
/// a CSV reader accepts, the header included: 1 MiB. A longer line stops
/// the read with [`ErrorKind::TooLarge`], so memory stays bounded.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The longest field a CSV reader accepts: 64 KiB. A row with a longer
/// field is rejected (an [`Issue`](super::Issue) naming the field).
pub const MAX_FIELD_BYTES: usize = 64 << 10;

/// The longest customer or order id a CSV reader accepts: 256 bytes. A row
/// with a longer id is rejected (an [`Issue`](super::Issue) naming the field).
pub const MAX_ID_BYTES: usize = 256;

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
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{CsvFormat, HistoryBuilder, OrderCsv, UnknownCustomers};
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// b.read_orders_csv("customer_id,date,amount\n1,2024-01-05,9.5\n".as_bytes(), &OrderCsv::new().format(CsvFormat::new()))?;
    /// assert_eq!(b.build()?.0.order_count(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new() -> Self {
        CsvFormat::default()
    }

    /// The field delimiter. Defaults to `b','`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{CsvFormat, HistoryBuilder, OrderCsv, UnknownCustomers};
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// let spec = OrderCsv::new().format(CsvFormat::new().delimiter(b';'));
    /// b.read_orders_csv("customer_id;date;amount\n1;2024-01-05;9.5\n".as_bytes(), &spec)?;
    /// assert_eq!(b.build()?.0.summary().gross_revenue, 9.5);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// A chrono `strftime` format for every time column (e.g. `"%d/%m/%Y"`,
    /// `"%Y-%m-%d %H:%M"`); a date-only format means midnight UTC. Defaults to
    /// automatic detection of ISO dates, RFC 3339 and `YYYY-MM-DD HH:MM:SS`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{CsvFormat, HistoryBuilder, OrderCsv, UnknownCustomers};
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// let spec = OrderCsv::new().format(CsvFormat::new().time_format("%d/%m/%Y"));
    /// b.read_orders_csv("customer_id,date,amount\n1,05/02/2024,9.5\n".as_bytes(), &spec)?;
    /// let t = b.build()?.0.orders().next().unwrap().time;
    /// assert_eq!(t, Utc.with_ymd_and_hms(2024, 2, 5, 0, 0, 0).unwrap());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn time_format(mut self, format: impl Into<String>) -> Self {
        self.time_format = TimeFormat::Custom(format.into());
        self
    }

    /// The name used for the source in issues and errors. Defaults to the
    /// file's path, or `"<reader>"`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{CsvFormat, HistoryBuilder, OrderCsv, UnknownCustomers};
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// let spec = OrderCsv::new().format(CsvFormat::new().source_name("erp.csv"));
    /// b.read_orders_csv("customer_id,date,amount\n1,2024-01-05,oops\n".as_bytes(), &spec)?;
    /// let (_, report) = b.build()?;
    /// assert_eq!(report.issues()[0].record().source(), Some("erp.csv"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn source_name(mut self, name: impl Into<String>) -> Self {
        self.source_name = Some(name.into());
        self
    }

    /// Checks the format; every `read_*_csv` method calls it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] if the delimiter is the quote
    /// character `"`, `\r` or `\n`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::records::CsvFormat;
    ///
    /// assert!(CsvFormat::new().delimiter(b'\t').validate().is_ok());
    /// let err = CsvFormat::new().delimiter(b'"').validate().unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "delimiter", .. }));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if matches!(self.delimiter, b'"' | b'\r' | b'\n') {
            return Err(Error::invalid_parameter(
                "delimiter",
                format!(
                    "must not be a quote, CR or LF, got {:?}",
                    char::from(self.delimiter)
                ),
            ));
        }
        Ok(())
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
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{HistoryBuilder, OrderCsv, UnknownCustomers};
    ///
    /// // `cust`, `ts` and `revenue` are among the guessed spellings.
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// b.read_orders_csv("cust,ts,revenue\n1,2024-01-05,9.5\n".as_bytes(), &OrderCsv::new())?;
    /// assert_eq!(b.build()?.0.order_count(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new() -> Self {
        OrderCsv::default()
    }
    column_setters! {
        /// The customer id column. Defaults to the first of `customer_id`, `customer`, `cust`, `customerid`, `client_id`.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{HistoryBuilder, OrderCsv, UnknownCustomers};
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_orders_csv("buyer,date,amount\n1,2024-01-05,9.5\n".as_bytes(), &OrderCsv::new().customer("buyer"))?;
        /// assert_eq!(b.build()?.0.customer_count(), 1);
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        customer,
        /// The order time column. Defaults to the first of `time`, `date`, `timestamp`, `ts`, `datetime`.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{HistoryBuilder, OrderCsv, UnknownCustomers};
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_orders_csv("customer_id,paid_on,amount\n1,2024-01-05,9.5\n".as_bytes(), &OrderCsv::new().time("paid_on"))?;
        /// assert_eq!(b.build()?.0.order_count(), 1);
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        time,
        /// The amount column. Defaults to the first of `amount`, `value`, `revenue`, `total`, `price`.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{HistoryBuilder, OrderCsv, UnknownCustomers};
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_orders_csv("customer_id,date,net\n1,2024-01-05,9.5\n".as_bytes(), &OrderCsv::new().amount("net"))?;
        /// assert_eq!(b.build()?.0.summary().gross_revenue, 9.5);
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        amount,
    }
    optional_column_setters! {
        /// The order id column. Defaults to `order_id` when the header has it.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{HistoryBuilder, OrderCsv, UnknownCustomers};
        /// let data = "customer_id,date,amount,ref\n1,2024-01-05,9.5,A1\n1,2024-01-06,9.5,A1\n";
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_orders_csv(data.as_bytes(), &OrderCsv::new().order_id("ref"))?;
        /// assert_eq!(b.build()?.0.order_count(), 1); // same order id: de-duplicated
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        order_id,
    }
    /// The file format. Defaults to [`CsvFormat::default`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{CsvFormat, HistoryBuilder, OrderCsv, UnknownCustomers};
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// let spec = OrderCsv::new().format(CsvFormat::new().delimiter(b'\t'));
    /// b.read_orders_csv("customer_id\tdate\tamount\n1\t2024-01-05\t9.5\n".as_bytes(), &spec)?;
    /// assert_eq!(b.build()?.0.order_count(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{CustomerCsv, HistoryBuilder};
    ///
    /// let mut b = HistoryBuilder::new();
    /// b.read_customers_csv("customer_id,signup,plan\nC-1,2024-01-02,gold\n".as_bytes(), &CustomerCsv::new())?;
    /// assert_eq!(b.build()?.0.customer(0).unwrap().plan(), Some("gold"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new() -> Self {
        CustomerCsv::default()
    }
    column_setters! {
        /// The id column. Defaults to the first of `customer_id`, `id`, `customer`, `cust`.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{CustomerCsv, CustomerId, HistoryBuilder};
        /// let mut b = HistoryBuilder::new();
        /// b.read_customers_csv("account,signup\nC-1,2024-01-02\n".as_bytes(), &CustomerCsv::new().id("account"))?;
        /// assert_eq!(b.build()?.0.customer_ids(), [CustomerId::from("C-1")]);
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        id,
        /// The signup column. Defaults to the first of `signup`, `signup_date`, `signup_time`, `created_at`, `created`, `date`.
        ///
        /// # Example
        ///
        /// ```
        /// # use chrono::{TimeZone, Utc};
        /// # use churnwise::records::{CustomerCsv, HistoryBuilder};
        /// let mut b = HistoryBuilder::new();
        /// b.read_customers_csv("id,joined\nC-1,2024-01-02\n".as_bytes(), &CustomerCsv::new().signup("joined"))?;
        /// let joined = b.build()?.0.customer(0).unwrap().signup();
        /// assert_eq!(joined, Utc.with_ymd_and_hms(2024, 1, 2, 0, 0, 0).unwrap());
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        signup,
    }
    optional_column_setters! {
        /// The plan column. Defaults to `plan` (or `tier`) when present.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{CustomerCsv, HistoryBuilder};
        /// let mut b = HistoryBuilder::new();
        /// b.read_customers_csv("id,signup,package\nC-1,2024-01-02,gold\n".as_bytes(), &CustomerCsv::new().plan("package"))?;
        /// assert_eq!(b.build()?.0.customer(0).unwrap().plan(), Some("gold"));
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        plan,
        /// The channel column. Defaults to `channel` when present.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{CustomerCsv, HistoryBuilder};
        /// let mut b = HistoryBuilder::new();
        /// b.read_customers_csv("id,signup,source\nC-1,2024-01-02,web\n".as_bytes(), &CustomerCsv::new().channel("source"))?;
        /// assert_eq!(b.build()?.0.customer(0).unwrap().channel(), Some("web"));
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        channel,
        /// The region column. Defaults to `region` when present.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{CustomerCsv, HistoryBuilder};
        /// let mut b = HistoryBuilder::new();
        /// b.read_customers_csv("id,signup,market\nC-1,2024-01-02,EU\n".as_bytes(), &CustomerCsv::new().region("market"))?;
        /// assert_eq!(b.build()?.0.customer(0).unwrap().region(), Some("EU"));
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        region,
        /// The tags column. Defaults to `tags` when present.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{CustomerCsv, HistoryBuilder};
        /// let mut b = HistoryBuilder::new();
        /// b.read_customers_csv("id,signup,labels\nC-1,2024-01-02,b2b|vip\n".as_bytes(), &CustomerCsv::new().tags("labels"))?;
        /// let history = b.build()?.0;
        /// assert_eq!(history.customer(0).unwrap().tags().collect::<Vec<_>>(), ["b2b", "vip"]);
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        tags,
    }
    /// The file format. Defaults to [`CsvFormat::default`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{CsvFormat, CustomerCsv, HistoryBuilder};
    ///
    /// let mut b = HistoryBuilder::new();
    /// let spec = CustomerCsv::new().format(CsvFormat::new().delimiter(b';'));
    /// b.read_customers_csv("id;signup\nC-1;2024-01-02\n".as_bytes(), &spec)?;
    /// assert_eq!(b.build()?.0.customer_count(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{HistoryBuilder, InteractionCsv, InteractionKind, UnknownCustomers};
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// b.read_interactions_csv("customer_id,date,type\n1,2024-01-05,LOGIN\n".as_bytes(), &InteractionCsv::new())?;
    /// assert_eq!(b.build()?.0.interactions().next().unwrap().kind, InteractionKind::Login);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new() -> Self {
        InteractionCsv::default()
    }
    column_setters! {
        /// The customer id column. Defaults as for [`OrderCsv::customer`].
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{HistoryBuilder, InteractionCsv, UnknownCustomers};
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_interactions_csv("user,date,kind\n1,2024-01-05,visit\n".as_bytes(), &InteractionCsv::new().customer("user"))?;
        /// assert_eq!(b.build()?.0.interaction_count(), 1);
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        customer,
        /// The time column. Defaults as for [`OrderCsv::time`].
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{HistoryBuilder, InteractionCsv, UnknownCustomers};
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_interactions_csv("customer_id,seen_at,kind\n1,2024-01-05,visit\n".as_bytes(), &InteractionCsv::new().time("seen_at"))?;
        /// assert_eq!(b.build()?.0.interaction_count(), 1);
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        time,
        /// The kind column. Defaults to the first of `kind`, `type`, `event`, `interaction`.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{HistoryBuilder, InteractionCsv, InteractionKind, UnknownCustomers};
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_interactions_csv("customer_id,date,what\n1,2024-01-05,cancellation\n".as_bytes(), &InteractionCsv::new().kind("what"))?;
        /// assert_eq!(b.build()?.0.interactions().next().unwrap().kind, InteractionKind::Cancellation);
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        kind,
    }
    optional_column_setters! {
        /// Hours to first response of tickets. Defaults to `first_response_hours` when present.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{HistoryBuilder, InteractionCsv, InteractionKind, UnknownCustomers};
        /// let data = "customer_id,date,kind,wait_h\n1,2024-01-05,ticket,4.5\n";
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_interactions_csv(data.as_bytes(), &InteractionCsv::new().first_response_hours("wait_h"))?;
        /// let kind = b.build()?.0.interactions().next().unwrap().kind;
        /// assert_eq!(kind, InteractionKind::SupportTicket { first_response_hours: Some(4.5) });
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        first_response_hours,
        /// Complaint topic. Defaults to `topic` when present.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{ComplaintTopic, HistoryBuilder, InteractionCsv, InteractionKind, UnknownCustomers};
        /// let data = "customer_id,date,kind,about\n1,2024-01-05,complaint,price\n";
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_interactions_csv(data.as_bytes(), &InteractionCsv::new().topic("about"))?;
        /// let kind = b.build()?.0.interactions().next().unwrap().kind;
        /// assert_eq!(kind, InteractionKind::Complaint { topic: ComplaintTopic::Price });
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        topic,
        /// Campaign name of campaign responses. Defaults to `campaign` when present.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{HistoryBuilder, InteractionCsv, InteractionKind, UnknownCustomers};
        /// let data = "customer_id,date,kind,promo\n1,2024-01-05,campaign_response,spring\n";
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_interactions_csv(data.as_bytes(), &InteractionCsv::new().campaign("promo"))?;
        /// let kind = b.build()?.0.interactions().next().unwrap().kind;
        /// assert_eq!(kind, InteractionKind::CampaignResponse { campaign: "spring".into() });
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        campaign,
    }
    /// The file format. Defaults to [`CsvFormat::default`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{CsvFormat, HistoryBuilder, InteractionCsv, UnknownCustomers};
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// let spec = InteractionCsv::new().format(CsvFormat::new().time_format("%d.%m.%Y"));
    /// b.read_interactions_csv("customer_id,date,kind\n1,05.01.2024,login\n".as_bytes(), &spec)?;
    /// assert_eq!(b.build()?.0.interaction_count(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{FeedbackCsv, HistoryBuilder, UnknownCustomers};
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// b.read_feedback_csv("customer_id,date,csat\n1,2024-01-05,4\n".as_bytes(), &FeedbackCsv::new())?;
    /// assert_eq!(b.build()?.0.feedback().next().unwrap().satisfaction, 4.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new() -> Self {
        FeedbackCsv::default()
    }
    column_setters! {
        /// The customer id column. Defaults as for [`OrderCsv::customer`].
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{FeedbackCsv, HistoryBuilder, UnknownCustomers};
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_feedback_csv("respondent,date,score\n1,2024-01-05,4\n".as_bytes(), &FeedbackCsv::new().customer("respondent"))?;
        /// assert_eq!(b.build()?.0.feedback_count(), 1);
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        customer,
        /// The time column. Defaults as for [`OrderCsv::time`].
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{FeedbackCsv, HistoryBuilder, UnknownCustomers};
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_feedback_csv("customer_id,answered,score\n1,2024-01-05,4\n".as_bytes(), &FeedbackCsv::new().time("answered"))?;
        /// assert_eq!(b.build()?.0.feedback_count(), 1);
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        time,
        /// The satisfaction column. Defaults to the first of `satisfaction`, `score`, `csat`, `rating`.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{FeedbackCsv, HistoryBuilder, UnknownCustomers};
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_feedback_csv("customer_id,date,stars\n1,2024-01-05,5\n".as_bytes(), &FeedbackCsv::new().satisfaction("stars"))?;
        /// assert_eq!(b.build()?.0.feedback().next().unwrap().satisfaction, 5.0);
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        satisfaction,
    }
    optional_column_setters! {
        /// The NPS column (0–10). Defaults to `nps` when present.
        ///
        /// # Example
        ///
        /// ```
        /// # use churnwise::records::{FeedbackCsv, HistoryBuilder, UnknownCustomers};
        /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
        /// b.read_feedback_csv("customer_id,date,score,recommend\n1,2024-01-05,4,9\n".as_bytes(), &FeedbackCsv::new().nps("recommend"))?;
        /// assert_eq!(b.build()?.0.feedback().next().unwrap().nps, Some(9));
        /// # Ok::<(), churnwise::Error>(())
        /// ```
        nps,
    }
    /// The scale of the satisfaction column. Defaults to [`SatisfactionScale::FIVE_POINT`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{FeedbackCsv, HistoryBuilder, SatisfactionScale, UnknownCustomers};
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// let spec = FeedbackCsv::new().scale(SatisfactionScale::TEN_POINT);
    /// b.read_feedback_csv("customer_id,date,score\n1,2024-01-05,8\n".as_bytes(), &spec)?;
    /// assert_eq!(b.build()?.0.feedback().next().unwrap().scale, SatisfactionScale::TEN_POINT);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn scale(mut self, scale: SatisfactionScale) -> Self {
        self.scale = scale;
        self
    }
    /// The file format. Defaults to [`CsvFormat::default`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{CsvFormat, FeedbackCsv, HistoryBuilder, UnknownCustomers};
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// let spec = FeedbackCsv::new().format(CsvFormat::new().delimiter(b'|'));
    /// b.read_feedback_csv("customer_id|date|score\n1|2024-01-05|4\n".as_bytes(), &spec)?;
    /// assert_eq!(b.build()?.0.feedback_count(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{HistoryBuilder, OrderCsv, UnknownCustomers};
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// let rows = b.read_orders_csv("customer_id,date,amount\n1,2024-01-05,9.5\n2,2024-01-06,3\n".as_bytes(), &OrderCsv::new())?;
    /// assert_eq!(rows, 2);
    /// assert_eq!(b.build()?.0.customer_count(), 2);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{HistoryBuilder, OrderCsv, UnknownCustomers};
    ///
    /// let path = std::env::temp_dir().join(format!("churnwise-doc-orders-{}.csv", std::process::id()));
    /// std::fs::write(&path, "customer_id,date,amount\n1,2024-01-05,oops\n")?;
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// assert_eq!(b.read_orders_csv_path(&path, &OrderCsv::new())?, 1);
    /// let (_, report) = b.build()?; // issues name the file and line
    /// assert_eq!(report.issues()[0].record().source(), Some(path.display().to_string().as_str()));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{CustomerCsv, HistoryBuilder};
    ///
    /// let mut b = HistoryBuilder::new();
    /// assert_eq!(b.read_customers_csv("id,signup\nC-1,2024-01-02\nC-2,2024-01-03\n".as_bytes(), &CustomerCsv::new())?, 2);
    /// assert_eq!(b.build()?.0.customer_count(), 2);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{CustomerCsv, HistoryBuilder};
    ///
    /// let path = std::env::temp_dir().join(format!("churnwise-doc-customers-{}.csv", std::process::id()));
    /// std::fs::write(&path, "id,signup\nC-1,2024-01-02\n")?;
    /// let mut b = HistoryBuilder::new();
    /// assert_eq!(b.read_customers_csv_path(&path, &CustomerCsv::new())?, 1);
    /// assert_eq!(b.build()?.0.customer_count(), 1);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{HistoryBuilder, InteractionCsv, UnknownCustomers};
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// let rows = b.read_interactions_csv("customer_id,date,kind\n1,2024-01-05,login\n1,2024-01-06,visit\n".as_bytes(), &InteractionCsv::new())?;
    /// assert_eq!(rows, 2);
    /// assert_eq!(b.build()?.0.interaction_count(), 2);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{HistoryBuilder, InteractionCsv, UnknownCustomers};
    ///
    /// let path = std::env::temp_dir().join(format!("churnwise-doc-interactions-{}.csv", std::process::id()));
    /// std::fs::write(&path, "customer_id,date,kind\n1,2024-01-05,login\n")?;
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// assert_eq!(b.read_interactions_csv_path(&path, &InteractionCsv::new())?, 1);
    /// assert_eq!(b.build()?.0.interaction_count(), 1);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{FeedbackCsv, HistoryBuilder, UnknownCustomers};
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// assert_eq!(b.read_feedback_csv("customer_id,date,score\n1,2024-01-05,4\n".as_bytes(), &FeedbackCsv::new())?, 1);
    /// assert_eq!(b.build()?.0.feedback_count(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::{FeedbackCsv, HistoryBuilder, UnknownCustomers};
    ///
    /// let path = std::env::temp_dir().join(format!("churnwise-doc-feedback-{}.csv", std::process::id()));
    /// std::fs::write(&path, "customer_id,date,score\n1,2024-01-05,4\n")?;
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// assert_eq!(b.read_feedback_csv_path(&path, &FeedbackCsv::new())?, 1);
    /// assert_eq!(b.build()?.0.feedback_count(), 1);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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

mod subs;
pub use subs::{SubscriptionCsv, SubscriptionEventCsv};

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

    /// A reader returning at most 5 bytes per call, so blocks are as small as asked.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(5).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Reads an orders file with the given block and piece sizes on `threads` threads.
    fn read_with(
        data: &[u8],
        block: usize,
        piece: usize,
        threads: usize,
    ) -> (History, crate::records::DataQualityReport) {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
            let spec = OrderCsv::new();
            let mut input = Input::open(Trickle(data), &spec.format).unwrap();
            (input.block, input.max_block, input.piece) = (block, block, piece);
            let parser = OrderParser {
                customer: input.column(&spec.customer).unwrap(),
                time: input.column(&spec.time).unwrap(),
                amount: input.column(&spec.amount).unwrap(),
                order_id: input.optional(&spec.order_id, &["order_id"]).unwrap(),
                format: TimeFormat::Auto,
                options: b.options().clone(),
            };
            input.run(&parser, &mut b).unwrap();
            b.build().unwrap()
        })
    }

    fn read_with_block(data: &str, block: usize) -> (History, crate::records::DataQualityReport) {
        read_with(data.as_bytes(), block, 1 << 16, 1)
    }

    /// Records as `(line, fields)`.
    type Records = Vec<(u64, Vec<Vec<u8>>)>;

    fn records(data: &[u8], last: bool, first_line: u64) -> (Records, Parsed) {
        let mut out = Vec::new();
        let done = parse_records(data, last, b',', b'\n', first_line, |fields, line| {
            out.push((line, fields.iter().map(|f| f.to_vec()).collect()));
        });
        (out, done)
    }

    /// The csv crate's records, each with the line its first byte is on
    /// (the crate's own position is the end of the previous record).
    fn csv_crate_records(data: &[u8]) -> Records {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(data);
        let mut out = Vec::new();
        for rec in rdr.byte_records() {
            let rec = rec.unwrap();
            let at = rec.position().unwrap().byte() as usize;
            let start = at
                + data[at..]
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
            let line = 1 + data[..start].iter().filter(|&&b| b == b'\n').count() as u64;
            out.push((line, rec.iter().map(|f| f.to_vec()).collect()));
        }
        out
    }

    #[test]
    fn quoted_fields_follow_the_csv_grammar() {
        let data = b"a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"x\ny\"z\"q,ab\"c\n\n\"\"\r\"open,\n";
        let (got, done) = records(data, true, 1);
        let want: Records = vec![
            (
                1,
                vec![b"a".to_vec(), b"b,c".to_vec(), b"say \"hi\"".to_vec()],
            ),
            (2, vec![b"x\nyz\"q".to_vec(), b"ab\"c".to_vec()]),
            (5, vec![b"".to_vec()]),
            (5, vec![b"open,\n".to_vec()]),
        ];
        assert_eq!(got, want);
        assert_eq!(got, csv_crate_records(data));
        assert_eq!(done.consumed, data.len());
        // Not the end of the input: the unterminated record is left over.
        let (got, done) = records(data, false, 1);
        assert_eq!(got, want[..3]);
        assert_eq!((done.consumed, done.lines), (data.len() - 7, 4));
    }

    /// Bytes that matter to the grammar, and others.
    fn soup() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            proptest::sample::select(b"ab ,,\"\"\"\n\n\r".to_vec()),
            0..160,
        )
    }

    proptest::proptest! {
        #[test]
        fn records_match_the_csv_crate_wherever_the_input_is_cut(data in soup()) {
            let (whole, done) = records(&data, true, 1);
            proptest::prop_assert_eq!(&whole, &csv_crate_records(&data));
            proptest::prop_assert_eq!(done.consumed, data.len());
            for cut in 0..=data.len() {
                let (mut got, first) = records(&data[..cut], false, 1);
                proptest::prop_assert!(first.consumed <= cut);
                let (rest, _) = records(&data[first.consumed..], true, 1 + first.lines);
                got.extend(rest);
                proptest::prop_assert_eq!(&got, &whole);
            }
        }
    }

    /// A random orders file: quoted order ids holding delimiters, `""`, CR
    /// and LF; quoted and bare customer ids; bad rows; blank lines; LF or CRLF.
    fn orders_file() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let row = (0u8..12, 0u32..500, 0u8..8, any::<bool>());
        (proptest::collection::vec(row, 0..120), any::<bool>()).prop_map(|(rows, crlf)| {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut s = format!("customer_id,date,amount,order_id{end}");
            for (i, (kind, n, id, quoted_customer)) in rows.into_iter().enumerate() {
                let customer = if quoted_customer {
                    format!("\"{}\"", n % 37)
                } else {
                    (n % 37).to_string()
                };
                let order_id = match id {
                    0 => String::new(),
                    1 => format!("o{i}"),
                    2 => format!("\"o{i}, by phone\""),
                    3 => format!("\"o{i} \"\"rush\"\"\""),
                    4 => format!("\"o{i}\nsecond line\""),
                    5 => format!("\"o{i}\r\n\r\nafter a blank\""),
                    6 => format!("\"\"\"o{i}\"\"\""),
                    _ => format!("\"o{i}\"x"),
                };
                let date = format!("2024-{:02}-{:02}", 1 + n % 12, 1 + n % 28);
                let amount = format!("{}.{:02}", n % 90, n % 100);
                let line = match kind {
                    0 => format!("{customer},{date},oops,{order_id}"),
                    1 => format!("{customer},{date}"),
                    2 => String::new(),
                    3 => format!("{customer},{date},{amount},{order_id},extra"),
                    4 => format!("{customer},\"{date}\",\"{amount}\",{order_id}"),
                    _ => format!("{customer},{date},{amount},{order_id}"),
                };
                s.push_str(&line);
                s.push_str(end);
            }
            s.into_bytes()
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn quoted_files_parse_the_same_in_any_blocks_pieces_and_threads(
            data in orders_file(),
            soup in soup(),
            block in 1usize..200,
            piece in 1usize..200,
        ) {
            let reference = read_with(&data, 1 << 20, 1 << 20, 1);
            for (block, piece, threads) in [(block, piece, 1), (block, piece, 2), (1 << 20, piece, 2)] {
                let got = read_with(&data, block, piece, threads);
                proptest::prop_assert!(got.0 == reference.0, "histories differ: block {}, piece {}, threads {}", block, piece, threads);
                proptest::prop_assert_eq!(&got.1, &reference.1);
            }
            // Anything after a header, malformed or not.
            let mut data = b"customer_id,date,amount\n".to_vec();
            data.extend(soup);
            let reference = read_with(&data, 1 << 20, 1 << 20, 1);
            let got = read_with(&data, block, piece, 2);
            proptest::prop_assert!(got.0 == reference.0);
            proptest::prop_assert_eq!(&got.1, &reference.1);
        }
    }

    #[test]
    fn a_block_or_piece_boundary_inside_quotes_changes_nothing() {
        // A quote and a line end inside quotes at every offset of a boundary;
        // a stray quote inside an unquoted field misleads the quote parity.
        let mut data = String::from("customer_id,date,amount,order_id\n");
        for i in 0..40 {
            match i % 4 {
                0 => data.push_str(&format!("{i},2024-01-02,{i}.5,\"o{i}, note\nmore\"\n")),
                1 => data.push_str(&format!("{i},2024-01-03,{i}.5,o{i} 5\" screen\n")),
                2 => data.push_str(&format!("{i},2024-01-04,bad,\"o{i} \"\"a\"\"\"\r\n")),
                _ => data.push_str(&format!("\"{i}\",2024-01-05,{i},\"\n\n\"\n")),
            }
        }
        let data = data.as_bytes();
        let (whole, report) = read_with(data, 1 << 20, 1 << 20, 1);
        assert_eq!(whole.order_count(), 30);
        let lines: Vec<u64> = report.iter().map(|i| i.record().line().unwrap()).collect();
        // Rows 2, 6, 10, ...: each earlier row 0 (mod 4) spans 2 lines, row 3 (mod 4) 3 lines.
        let want: Vec<u64> = (0..10).map(|k| 2 + 7 * k + 3).collect();
        assert_eq!(lines, want);
        for size in 1..120 {
            for (block, threads) in [(size, 1), (size, 2), (1 << 20, 1), (1 << 20, 2)] {
                let (h, r) = read_with(data, block, size, threads);
                assert!(h == whole, "block {block}, piece {size}, {threads} threads");
                assert_eq!(r, report, "block {block}, piece {size}, {threads} threads");
            }
        }
    }

    #[test]
    fn a_piece_cut_inside_quotes_is_parsed_again_from_the_last_record() {
        // The quote in `5" screen` is an ordinary byte, but it makes the quote
        // parity odd: the line end inside "xxxxx\ny" then looks like a record end.
        let block = "1,2024-01-01,5,5\" screen\n2,2024-01-02,6,\"xxxxx\ny\"\n3,2024-01-03,7,z\n";
        let inside = block.find("x\ny").unwrap() + 2;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(8)
            .build()
            .unwrap();
        let cuts = pool.install(|| cut_pieces(block.as_bytes(), 1, b'\n'));
        assert!(
            cuts.iter().any(|&(start, _, _)| start == inside),
            "{cuts:?}"
        );

        let data = format!("customer_id,date,amount,order_id\n{block}");
        let (h, report) = read_with(data.as_bytes(), 1 << 20, 1, 8);
        assert!(report.is_clean(), "{report}");
        let ids: Vec<_> = h.orders().map(|o| o.order_id.unwrap()).collect();
        assert_eq!(ids, ["5\" screen", "xxxxx\ny", "z"]);
        assert!(h == read_with(data.as_bytes(), 1 << 20, 1 << 20, 1).0);
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

    #[test]
    fn classic_mac_line_ends_number_lines_like_lf() {
        let mut lf = String::from("customer_id,date,amount\n");
        for i in 0..300 {
            if i % 41 == 0 {
                lf.push('\n'); // a blank line
            }
            if i % 30 == 4 {
                lf.push_str(&format!("{i},2024-01-01,\"not a\nnumber\"\n")); // quoted line end
            } else {
                lf.push_str(&format!("{},2024-01-{:02},{i}.5\n", i % 23, 1 + i % 28));
            }
        }
        let cr = lf.replace('\n', "\r");
        let lines = |report: &crate::records::DataQualityReport| -> Vec<u64> {
            report.iter().map(|i| i.record().line().unwrap()).collect()
        };
        let (want, want_report) = read_with(lf.as_bytes(), 1 << 20, 1 << 16, 1);
        assert_eq!(want_report.len(), 10);
        for (block, piece, threads) in [(1 << 20, 1 << 16, 1), (64, 1, 2), (1000, 8, 2)] {
            let (h, report) = read_with(cr.as_bytes(), block, piece, threads);
            assert_eq!(h, want);
            assert_eq!(lines(&report), lines(&want_report), "block {block}");
        }
    }
}
