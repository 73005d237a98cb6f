//! Which columns of a record batch hold which record field.

use arrow_schema::Schema;

use crate::records::{SatisfactionScale, TimeFormat};
use crate::{ErrorKind, Result};

/// A configured column: an explicit name, or a list of common spellings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Column {
    Named(String),
    Guess(&'static [&'static str]),
}

impl Column {
    /// The column's index in `schema`, if there.
    fn find(&self, schema: &Schema) -> Option<usize> {
        let fields = schema.fields();
        match self {
            Column::Named(n) => fields.iter().position(|f| f.name() == n),
            Column::Guess(names) => names
                .iter()
                .find_map(|n| fields.iter().position(|f| f.name().eq_ignore_ascii_case(n))),
        }
    }

    fn describe(&self) -> String {
        match self {
            Column::Named(n) => n.clone(),
            Column::Guess(names) => names.join("|"),
        }
    }

    /// The index of a required column.
    pub(crate) fn require(&self, schema: &Schema, source: &str) -> Result<usize> {
        self.find(schema).ok_or_else(|| {
            let available = schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ");
            ErrorKind::MissingColumn {
                source_name: source.to_owned(),
                column: self.describe(),
                available,
            }
            .into()
        })
    }

    /// The index of an optional column: when configured it must be there;
    /// when not, `default` is used if the schema has it.
    pub(crate) fn optional(
        column: &Option<Column>,
        default: &'static [&'static str],
        schema: &Schema,
        source: &str,
    ) -> Result<Option<usize>> {
        match column {
            Some(c) => c.require(schema, source).map(Some),
            None => Ok(Column::Guess(default).find(schema)),
        }
    }
}

/// The columns of `schema` that the spec reads (required ones must be
/// there), in schema order: a Parquet reader decodes only these.
pub(crate) fn projection(
    required: &[&Column],
    optional: &[(&Option<Column>, &'static [&'static str])],
    schema: &Schema,
    source: &str,
) -> Result<Vec<usize>> {
    let mut at = Vec::new();
    for c in required {
        at.push(c.require(schema, source)?);
    }
    for (c, default) in optional {
        at.extend(Column::optional(c, default, schema, source)?);
    }
    at.sort_unstable();
    at.dedup();
    Ok(at)
}

pub(crate) const ORDER_ID: &[&str] = &["order_id"];
pub(crate) const PLAN: &[&str] = &["plan", "tier"];
pub(crate) const CHANNEL: &[&str] = &["channel"];
pub(crate) const REGION: &[&str] = &["region"];
pub(crate) const TAGS: &[&str] = &["tags"];
pub(crate) const HOURS: &[&str] = &["first_response_hours"];
pub(crate) const TOPIC: &[&str] = &["topic"];
pub(crate) const CAMPAIGN: &[&str] = &["campaign"];
pub(crate) const NPS: &[&str] = &["nps"];

pub(crate) const CUSTOMER: &[&str] =
    &["customer_id", "customer", "cust", "customerid", "client_id"];
pub(crate) const TIME: &[&str] = &["time", "date", "timestamp", "ts", "datetime"];

/// The name batches are given in errors when no source name is set.
pub(crate) const DEFAULT_SOURCE: &str = "<record batch>";

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

/// Setters shared by every spec: the time format of text columns and the source name.
macro_rules! common_setters {
    ($spec:ident) => {
        /// A chrono `strftime` format for time columns stored as text (e.g.
        /// `"%d/%m/%Y"`); a date-only format means midnight UTC. Defaults to
        /// the CSV reader's automatic detection (ISO dates, RFC 3339,
        /// `YYYY-MM-DD HH:MM:SS`). Timestamp and date columns ignore it.
        ///
        /// # Example
        ///
        /// ```
        #[doc = concat!("use churnwise::arrow::", stringify!($spec), ";")]
        ///
        #[doc = concat!("let spec = ", stringify!($spec), "::new().time_format(\"%d.%m.%Y\");")]
        /// # let _ = spec;
        /// ```
        pub fn time_format(mut self, format: impl Into<String>) -> Self {
            self.time_format = TimeFormat::Custom(format.into());
            self
        }

        /// The name of the source in errors. Defaults to `"<record batch>"`,
        /// or the file's path for Parquet files read by path.
        ///
        /// # Example
        ///
        /// ```
        #[doc = concat!("use churnwise::arrow::", stringify!($spec), ";")]
        ///
        #[doc = concat!("let spec = ", stringify!($spec), "::new().source_name(\"lake/2024-05.parquet\");")]
        /// # let _ = spec;
        /// ```
        pub fn source_name(mut self, name: impl Into<String>) -> Self {
            self.source_name = Some(name.into());
            self
        }
    };
}

pub(crate) use {column_setters, common_setters, optional_column_setters};

/// Columns of an orders batch (or Parquet file), named as for
/// [`OrderCsv`](crate::records::OrderCsv).
///
/// | field | column (default: first found, case-insensitive) | Arrow types |
/// |---|---|---|
/// | customer | `customer_id`, `customer`, `cust`, `customerid`, `client_id` | any integer, `Utf8`, `LargeUtf8`, `Utf8View`, a dictionary of these strings |
/// | time | `time`, `date`, `timestamp`, `ts`, `datetime` | `Timestamp` (any unit, any time zone), `Date32`, `Date64`, text parsed as CSV |
/// | amount | `amount`, `value`, `revenue`, `total`, `price` | `Float64`, `Float32`, any integer, `Decimal128`, text |
/// | order id (optional) | `order_id` when present | any integer or text |
///
/// # Example
///
/// ```
/// use churnwise::arrow::OrderColumns;
/// use churnwise::records::{HistoryBuilder, UnknownCustomers};
/// # let batch = churnwise::doc_support::orders_batch(&["buyer", "paid_at", "net"])?;
///
/// let spec = OrderColumns::new().customer("buyer").time("paid_at").amount("net");
/// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
/// assert_eq!(b.read_arrow(&batch, &spec)?, 3);
/// assert_eq!(b.build()?.0.order_count(), 3);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderColumns {
    pub(crate) customer: Column,
    pub(crate) time: Column,
    pub(crate) amount: Column,
    pub(crate) order_id: Option<Column>,
    pub(crate) time_format: TimeFormat,
    pub(crate) source_name: Option<String>,
}

impl Default for OrderColumns {
    fn default() -> Self {
        OrderColumns {
            customer: Column::Guess(CUSTOMER),
            time: Column::Guess(TIME),
            amount: Column::Guess(&["amount", "value", "revenue", "total", "price"]),
            order_id: None,
            time_format: TimeFormat::Auto,
            source_name: None,
        }
    }
}

impl OrderColumns {
    /// Columns guessed from common names (see the table above).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::arrow::OrderColumns;
    /// use churnwise::records::{HistoryBuilder, UnknownCustomers};
    /// # let batch = churnwise::doc_support::orders_batch(&["customer_id", "date", "amount"])?;
    ///
    /// let mut b = HistoryBuilder::new().unknown_customers(UnknownCustomers::Create);
    /// b.read_arrow(&batch, &OrderColumns::new())?;
    /// assert_eq!(b.build()?.0.order_count(), 3);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new() -> Self {
        OrderColumns::default()
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
        /// The order id column. Defaults to `order_id` when the batch has it.
        order_id,
    }
    common_setters!(OrderColumns);
}

/// Columns of a customers batch, named as for
/// [`CustomerCsv`](crate::records::CustomerCsv).
///
/// | field | column | Arrow types |
/// |---|---|---|
/// | id | `customer_id`, `id`, `customer`, `cust` | any integer or text |
/// | signup | `signup`, `signup_date`, `signup_time`, `created_at`, `created`, `date` | as an order's time |
/// | plan (optional) | `plan` or `tier` when present | text |
/// | channel, region (optional) | `channel`, `region` when present | text |
/// | tags (optional) | `tags` when present | text separated by `;` or `\|`, or a list of text |
///
/// # Example
///
/// ```
/// use churnwise::arrow::CustomerColumns;
///
/// let spec = CustomerColumns::new().id("account").signup("joined").plan("package");
/// # let _ = spec;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerColumns {
    pub(crate) id: Column,
    pub(crate) signup: Column,
    pub(crate) plan: Option<Column>,
    pub(crate) channel: Option<Column>,
    pub(crate) region: Option<Column>,
    pub(crate) tags: Option<Column>,
    pub(crate) time_format: TimeFormat,
    pub(crate) source_name: Option<String>,
}

impl Default for CustomerColumns {
    fn default() -> Self {
        CustomerColumns {
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
            time_format: TimeFormat::Auto,
            source_name: None,
        }
    }
}

impl CustomerColumns {
    /// Columns guessed from common names (see the table above).
    pub fn new() -> Self {
        CustomerColumns::default()
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
    common_setters!(CustomerColumns);
}

/// Columns of an interactions batch, named as for
/// [`InteractionCsv`](crate::records::InteractionCsv).
///
/// | field | column | Arrow types |
/// |---|---|---|
/// | customer, time | as for [`OrderColumns`] | as for [`OrderColumns`] |
/// | kind | `kind`, `type`, `event`, `interaction` | text: `login`, `visit`, `support_ticket` (`ticket`), `complaint`, `campaign_response`, `cancellation` |
/// | first response hours (optional) | `first_response_hours` when present | a number |
/// | topic (optional) | `topic` when present | text: `product`, `service`, `price`, `delivery`, `other` |
/// | campaign (optional) | `campaign` when present | text |
///
/// # Example
///
/// ```
/// use churnwise::arrow::InteractionColumns;
///
/// let spec = InteractionColumns::new().kind("event_type").first_response_hours("wait_h");
/// # let _ = spec;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionColumns {
    pub(crate) customer: Column,
    pub(crate) time: Column,
    pub(crate) kind: Column,
    pub(crate) first_response_hours: Option<Column>,
    pub(crate) topic: Option<Column>,
    pub(crate) campaign: Option<Column>,
    pub(crate) time_format: TimeFormat,
    pub(crate) source_name: Option<String>,
}

impl Default for InteractionColumns {
    fn default() -> Self {
        InteractionColumns {
            customer: Column::Guess(CUSTOMER),
            time: Column::Guess(TIME),
            kind: Column::Guess(&["kind", "type", "event", "interaction"]),
            first_response_hours: None,
            topic: None,
            campaign: None,
            time_format: TimeFormat::Auto,
            source_name: None,
        }
    }
}

impl InteractionColumns {
    /// Columns guessed from common names (see the table above).
    pub fn new() -> Self {
        InteractionColumns::default()
    }
    column_setters! {
        /// The customer id column. Defaults as for [`OrderColumns::customer`].
        customer,
        /// The time column. Defaults as for [`OrderColumns::time`].
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
    common_setters!(InteractionColumns);
}

/// Columns of a feedback batch, named as for
/// [`FeedbackCsv`](crate::records::FeedbackCsv), and the scale of its
/// satisfaction scores.
///
/// | field | column | Arrow types |
/// |---|---|---|
/// | customer, time | as for [`OrderColumns`] | as for [`OrderColumns`] |
/// | satisfaction | `satisfaction`, `score`, `csat`, `rating` | a number |
/// | NPS (optional) | `nps` when present | an integer (or a whole float) |
///
/// # Example
///
/// ```
/// use churnwise::arrow::FeedbackColumns;
/// use churnwise::records::SatisfactionScale;
///
/// let spec = FeedbackColumns::new().satisfaction("stars").scale(SatisfactionScale::TEN_POINT);
/// # let _ = spec;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackColumns {
    pub(crate) customer: Column,
    pub(crate) time: Column,
    pub(crate) satisfaction: Column,
    pub(crate) nps: Option<Column>,
    pub(crate) scale: SatisfactionScale,
    pub(crate) time_format: TimeFormat,
    pub(crate) source_name: Option<String>,
}

impl Default for FeedbackColumns {
    fn default() -> Self {
        FeedbackColumns {
            customer: Column::Guess(CUSTOMER),
            time: Column::Guess(TIME),
            satisfaction: Column::Guess(&["satisfaction", "score", "csat", "rating"]),
            nps: None,
            scale: SatisfactionScale::FIVE_POINT,
            time_format: TimeFormat::Auto,
            source_name: None,
        }
    }
}

impl FeedbackColumns {
    /// Columns guessed from common names (see the table above), 1–5 scale.
    pub fn new() -> Self {
        FeedbackColumns::default()
    }
    column_setters! {
        /// The customer id column. Defaults as for [`OrderColumns::customer`].
        customer,
        /// The time column. Defaults as for [`OrderColumns::time`].
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
    common_setters!(FeedbackColumns);
}
