//! The crate's single error type.
//!
//! Every fallible call in churnwise returns [`Result<T>`], whose error is the
//! opaque [`Error`]. Branch on what went wrong with [`Error::kind`], which
//! returns a `#[non_exhaustive]` [`ErrorKind`] carrying the offending record,
//! field or value.

use std::fmt;
use std::sync::Arc;

/// A churnwise error: one pointer wide, cheap to clone, `Send + Sync`.
///
/// # Example
///
/// ```
/// use churnwise::{ErrorKind, records::SatisfactionScale};
///
/// let err = SatisfactionScale::new(5.0, 1.0).unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "scale", .. }));
/// assert_eq!(err.to_string(), "invalid parameter `scale`: min must be below max, got 5 and 1");
/// ```
#[derive(Clone)]
pub struct Error(Box<Inner>);

/// The kind, and for I/O errors the original [`std::io::Error`], kept apart
/// from [`ErrorKind`] so that the kind stays `Clone + PartialEq`.
#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    io: Option<Arc<std::io::Error>>,
}

impl Error {
    /// What went wrong, with the values that explain it.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// Consumes the error and returns its kind.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::features::FeatureTable;
    ///
    /// let err = FeatureTable::concat(&[]).unwrap_err();
    /// let ErrorKind::Empty(message) = err.into_kind() else { panic!("expected Empty") };
    /// assert_eq!(message, "no feature tables to concatenate");
    /// ```
    pub fn into_kind(self) -> ErrorKind {
        self.0.kind
    }

    pub(crate) fn invalid_parameter(name: &'static str, reason: impl Into<String>) -> Self {
        ErrorKind::InvalidParameter {
            name,
            reason: reason.into(),
        }
        .into()
    }

    /// An [`ErrorKind::Io`] reading or writing `source_name`, keeping `error`
    /// as the [`source`](std::error::Error::source).
    pub(crate) fn io(source_name: impl Into<String>, error: std::io::Error) -> Self {
        let kind = ErrorKind::Io {
            source_name: source_name.into(),
            kind: error.kind(),
            message: error.to_string(),
        };
        Error(Box::new(Inner {
            kind,
            io: Some(Arc::new(error)),
        }))
    }

    /// This error with the file `file` named in it: as the source of an
    /// I/O or JSON error, before the document path of an invalid policy,
    /// before the reason of a schema mismatch or the location of a size
    /// limit. Other kinds are returned as they are.
    pub(crate) fn in_file(self, file: &std::path::Path) -> Error {
        let file = file.display().to_string();
        let Inner { mut kind, io } = *self.0;
        match &mut kind {
            ErrorKind::Io { source_name, .. }
            | ErrorKind::NotJson { source_name, .. }
            | ErrorKind::WrongShape { source_name, .. } => *source_name = file,
            ErrorKind::InvalidPolicy { path, .. } => {
                *path = if path.is_empty() {
                    file
                } else {
                    format!("{file}: {path}")
                };
            }
            ErrorKind::SchemaMismatch { reason } => *reason = format!("{file}: {reason}"),
            ErrorKind::TooLarge { location, .. } => *location = format!("{file}: {location}"),
            _ => {}
        }
        Error(Box::new(Inner { kind, io }))
    }

    /// A CSV reader's or writer's error: [`ErrorKind::Io`], with the
    /// underlying [`std::io::Error`] as the source when there is one (and an
    /// `InvalidData` one wrapping the CSV error otherwise).
    #[cfg(feature = "csv")]
    pub(crate) fn csv(source_name: impl Into<String>, error: csv::Error) -> Self {
        let io = if matches!(error.kind(), csv::ErrorKind::Io(_)) {
            match error.into_kind() {
                csv::ErrorKind::Io(io) => io,
                other => std::io::Error::other(format!("{other:?}")),
            }
        } else {
            std::io::Error::new(std::io::ErrorKind::InvalidData, error)
        };
        Error::io(source_name, io)
    }

    /// Classifies a `serde_json` error on the document `source_name`: text
    /// that is not JSON (a syntax error or a truncated document) is
    /// [`ErrorKind::NotJson`], JSON of the wrong shape (a missing or unknown
    /// field, a value of the wrong type or out of range) is
    /// [`ErrorKind::WrongShape`], and a failed read is [`ErrorKind::Io`].
    pub(crate) fn json(source_name: impl Into<String>, error: serde_json::Error) -> Self {
        use serde_json::error::Category;
        let source_name = source_name.into();
        let (line, column) = (error.line(), error.column());
        match error.classify() {
            Category::Io => Error::io(source_name, error.into()),
            Category::Syntax | Category::Eof => ErrorKind::NotJson {
                source_name,
                line,
                column,
                message: error.to_string(),
            }
            .into(),
            Category::Data => ErrorKind::WrongShape {
                source_name,
                line,
                column,
                message: error.to_string(),
            }
            .into(),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0.kind, f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.kind, f)
    }
}

/// Errors compare by their kind (the kept [`std::io::Error`] of an I/O error
/// is not compared: its kind and message are part of [`ErrorKind::Io`]).
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.0.kind == other.0.kind
    }
}

/// The source of an [`ErrorKind::Io`] error is the original
/// [`std::io::Error`]; other kinds have none.
///
/// # Example
///
/// ```
/// use std::error::Error as _;
/// use churnwise::records::{HistoryBuilder, OrderCsv};
///
/// let mut b = HistoryBuilder::new();
/// let err = b.read_orders_csv_path("no/such/orders.csv", &OrderCsv::new()).unwrap_err();
/// let io = err.source().and_then(|s| s.downcast_ref::<std::io::Error>()).expect("an io::Error");
/// assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
/// ```
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .io
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The format of a document file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocumentFormat {
    Json,
    #[cfg(feature = "toml")]
    Toml,
}

impl DocumentFormat {
    /// `.json`, or `.toml` when `toml` is true (and the feature is on); an
    /// error naming the file and the extensions it may have otherwise.
    pub(crate) fn of(path: &std::path::Path, toml: bool) -> Result<DocumentFormat> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("json") => Ok(DocumentFormat::Json),
            #[cfg(feature = "toml")]
            Some("toml") if toml => Ok(DocumentFormat::Toml),
            other => {
                let allowed = if toml && cfg!(feature = "toml") {
                    "`.json` or `.toml`"
                } else {
                    "`.json`"
                };
                Err(Error::invalid_parameter(
                    "path",
                    format!(
                        "{}: the extension must be {allowed}, got {}",
                        path.display(),
                        other.map_or_else(|| "none".to_owned(), |e| format!("`.{e}`"))
                    ),
                ))
            }
        }
    }
}

/// Reads a whole document file; errors name it.
pub(crate) fn read_document(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path.display().to_string(), e))
}

/// Writes a whole document file; errors name it.
pub(crate) fn write_document(path: &std::path::Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(path.display().to_string(), e))
}

/// An I/O error met outside churnwise's own readers (say, by
/// `std::fs::read_to_string` in a function returning
/// [`churnwise::Result`](Result)): [`ErrorKind::Io`], with the error kept as
/// the [`source`](std::error::Error::source). The crate's own readers name
/// the file instead.
///
/// # Example
///
/// ```
/// use churnwise::alert::AlertPolicy;
///
/// fn load(path: &str) -> churnwise::Result<AlertPolicy> {
///     AlertPolicy::from_toml(&std::fs::read_to_string(path)?)
/// }
/// let err = load("no/such/policy.toml").unwrap_err();
/// assert!(matches!(err.kind(), churnwise::ErrorKind::Io { kind: std::io::ErrorKind::NotFound, .. }));
/// ```
impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::io("I/O", error)
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error(Box::new(Inner { kind, io: None }))
    }
}

/// The kinds of [`Error`]. New kinds may be added in minor releases.
///
/// Match on the kinds you handle and keep a `_` arm for the rest; each kind
/// carries the values that explain it.
///
/// # Example
///
/// ```
/// use churnwise::ErrorKind;
/// use churnwise::features::FeatureTable;
/// use churnwise::retention::Planner;
///
/// let err = Planner::new(-1.0).validate().unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "budget", .. }));
///
/// let table = FeatureTable::new(vec![1u64.into()], vec!["recency_days".into()], ndarray::array![[3.0]])?;
/// let err = table.column("recency").unwrap_err();
/// match err.kind() {
///     ErrorKind::UnknownName { what, name, .. } => assert_eq!((*what, name.as_str()), ("feature", "recency")),
///     other => panic!("unexpected: {other}"),
/// }
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A configuration value is out of its documented range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter's name, as spelled by its setter.
        name: &'static str,
        /// Why it was rejected, including the value.
        reason: String,
    },
    /// A record failed validation in strict mode
    /// ([`HistoryBuilder::build_strict`](crate::records::HistoryBuilder::build_strict)):
    /// the first [`Issue`](crate::records::Issue) of the quality report, as
    /// plain fields (the full report comes from `build`).
    #[error("{record}{}: {reason}", field_suffix(*.field))]
    #[non_exhaustive]
    InvalidRecord {
        /// The record, e.g. `order 1 (orders.csv line 3)`.
        record: String,
        /// The record's 0-based index among the records of its kind.
        index: usize,
        /// Its 1-based line in a CSV source, if read from one.
        line: Option<u64>,
        /// The field at fault, if one.
        field: Option<&'static str>,
        /// The problem's stable name, as
        /// [`Problem::name`](crate::records::Problem::name) (`before_signup`, ...).
        problem: &'static str,
        /// The problem, with the values found.
        reason: String,
    },
    /// A CSV file (or an Arrow batch, a Parquet file) lacks a configured column.
    #[error("{source_name}: column `{column}` not found in the header (columns: {available})")]
    MissingColumn {
        /// The file or source being read.
        source_name: String,
        /// The configured column name that was not found.
        column: String,
        /// The header's columns, comma-separated.
        available: String,
    },
    /// An Arrow or Parquet column has a type the reader cannot use (feature `arrow`).
    #[error("{source_name}: column `{column}` has type {found}, expected {expected}")]
    ColumnType {
        /// The batch, stream or file being read.
        source_name: String,
        /// The column's name.
        column: String,
        /// The column's Arrow data type.
        found: String,
        /// The types accepted, e.g. `Int64, UInt64 or Utf8`.
        expected: &'static str,
    },
    /// Reading or writing failed (file not found, permission, broken
    /// stream, unreadable CSV header). The original [`std::io::Error`] is the
    /// error's [`source`](std::error::Error::source).
    #[error("{source_name}: {message}")]
    Io {
        /// The file or source being read or written.
        source_name: String,
        /// The underlying error's kind.
        kind: std::io::ErrorKind,
        /// The underlying error's message.
        message: String,
    },
    /// A document that should be JSON is not (a syntax error or truncated text).
    #[error("{source_name}: not JSON at line {line}, column {column}: {message}")]
    NotJson {
        /// The document, e.g. `<scorer json>`.
        source_name: String,
        /// The 1-based line of the error.
        line: usize,
        /// The 1-based column of the error.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A JSON document parses but has the wrong shape: a missing or unknown
    /// field, a value of the wrong type or out of range.
    #[error("{source_name}: JSON of the wrong shape at line {line}, column {column}: {message}")]
    WrongShape {
        /// The document, e.g. `<scorer json>`.
        source_name: String,
        /// The 1-based line of the error.
        line: usize,
        /// The 1-based column of the error.
        column: usize,
        /// What is wrong, with the value found.
        message: String,
    },
    /// A feature (or other) name is not known; `suggestions` lists the closest valid names.
    #[error("unknown {what} `{name}`{}", suggest(.suggestions))]
    UnknownName {
        /// What kind of name ("feature", "column", ...).
        what: &'static str,
        /// The name given.
        name: String,
        /// The closest valid names, best first (may be empty).
        suggestions: Vec<String>,
    },
    /// The same name was given twice where names must be unique.
    #[error("duplicate {what} `{name}`")]
    DuplicateName {
        /// What kind of name.
        what: &'static str,
        /// The repeated name.
        name: String,
    },
    /// Two inputs that must have the same length do not.
    #[error("{what}: expected {expected}, got {got}")]
    LengthMismatch {
        /// What was being matched, e.g. "labels per feature-table row".
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A value that must be finite is NaN or infinite.
    #[error("{what} at row {row}, column `{column}` is not finite ({value})")]
    NonFinite {
        /// What holds the value.
        what: &'static str,
        /// The 0-based row.
        row: usize,
        /// The column's name.
        column: String,
        /// The value found.
        value: f64,
    },
    /// A value lies outside the range its field allows (a probability above 1, a negative value).
    #[error("{what} at row {row} is {value}, outside [{min}, {max}]")]
    OutOfRange {
        /// What holds the value.
        what: &'static str,
        /// The 0-based row.
        row: usize,
        /// The value found.
        value: f64,
        /// The smallest allowed value.
        min: f64,
        /// The largest allowed value.
        max: f64,
    },
    /// A record lacks a field that the others have or that is required.
    #[error("{record} has no `{field}`")]
    MissingValue {
        /// The record (index and customer).
        record: String,
        /// The field it lacks.
        field: String,
    },
    /// A policy document (alert rules, playbook) is invalid at `path`
    /// (e.g. `rules[2].condition.all[0].field`); `suggestions` lists the
    /// closest valid names when a name is unknown.
    #[error("invalid policy at `{path}`: {reason}{}", suggest(.suggestions))]
    InvalidPolicy {
        /// Where in the document, as `key.key[index]`.
        path: String,
        /// What is wrong, with the value found.
        reason: String,
        /// The closest valid names, best first (may be empty).
        suggestions: Vec<String>,
    },
    /// A value in an input record is outside its valid domain (a negative
    /// cost, an empty arm name, a customer listed twice, ...).
    #[error("{what} {index}, field `{field}`: {reason}")]
    InvalidValue {
        /// What kind of record holds the value, e.g. "campaign outcome".
        what: &'static str,
        /// The record's 0-based index in the input.
        index: usize,
        /// The field's name.
        field: &'static str,
        /// Why it was rejected, including the value.
        reason: String,
    },
    /// Labels would need events after the end of the observed history.
    #[error(
        "labels at {as_of} need events up to {needed}, but the history is only observed until {observed_until}"
    )]
    Censored {
        /// The as-of time of the labels.
        as_of: chrono::DateTime<chrono::Utc>,
        /// The end of the label horizon.
        needed: chrono::DateTime<chrono::Utc>,
        /// The last time the history covers.
        observed_until: chrono::DateTime<chrono::Utc>,
    },
    /// Training labels hold a single class; a classifier cannot be fitted.
    #[error("labels contain only one class ({class})")]
    SingleClass {
        /// The only class present.
        class: bool,
    },
    /// An iterative solver stopped before reaching its tolerance.
    #[error(
        "{solver} stopped after {iterations} iterations without converging (gradient norm {gradient_norm:e})"
    )]
    NotConverged {
        /// The solver.
        solver: &'static str,
        /// Iterations done.
        iterations: u32,
        /// The scaled gradient (or optimality) norm reached.
        gradient_norm: f64,
    },
    /// A saved model does not match what it is applied to, or this release.
    #[error("model schema mismatch: {reason}")]
    SchemaMismatch {
        /// What differs.
        reason: String,
    },
    /// An estimator could not be fitted (the message comes from the solver).
    #[error("fitting {what} failed: {message}")]
    Fit {
        /// The estimator.
        what: &'static str,
        /// Why.
        message: String,
    },
    /// There is nothing to compute on (no customers at the as-of time, no rows, ...).
    #[error("empty input: {0}")]
    Empty(String),
    /// More records than the in-memory representation can index.
    #[error("too many {what}: {count} exceeds the limit of {limit}")]
    TooManyRecords {
        /// What was counted ("orders", "customers", ...).
        what: &'static str,
        /// How many were given.
        count: usize,
        /// The largest supported count.
        limit: usize,
    },
    /// An input is larger than a documented limit: a condition nested too
    /// deep or a policy with too many conditions, a CSV field, line or id
    /// that is too long. The limits keep memory and stack use bounded
    /// whatever the input.
    #[error("{location}: {what} {size} exceeds the limit of {limit}")]
    #[non_exhaustive]
    TooLarge {
        /// Where: a policy path (`rules[0].condition`), or a source and line
        /// (`orders.csv line 3`).
        location: String,
        /// What was measured (`nesting depth`, `field length in bytes`, ...).
        what: &'static str,
        /// The size found (when reading stops at the limit, the first size
        /// past it).
        size: usize,
        /// The largest size allowed.
        limit: usize,
    },
}

fn field_suffix(field: Option<&str>) -> String {
    field.map_or_else(String::new, |f| format!(", field `{f}`"))
}

fn suggest(names: &[String]) -> String {
    match names {
        [] => String::new(),
        names => format!(
            " (did you mean {}?)",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `Result` with churnwise's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_auto<T: Send + Sync + Unpin + Clone + 'static>() {}

    #[test]
    fn error_is_send_sync_clone_and_one_word() {
        assert_auto::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn io_errors_keep_the_io_error_as_source() {
        use std::error::Error as _;
        let e = Error::io(
            "orders.csv",
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        );
        assert_eq!(e.to_string(), "orders.csv: no such file");
        assert!(matches!(
            e.kind(),
            ErrorKind::Io {
                kind: std::io::ErrorKind::NotFound,
                ..
            }
        ));
        let source = e.source().and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(
            source.map(std::io::Error::kind),
            Some(std::io::ErrorKind::NotFound)
        );
        assert_eq!(e.clone(), e);
        let other = Error::invalid_parameter("k", "must be >= 1, got 0");
        assert!(other.source().is_none());
    }

    #[test]
    fn json_errors_separate_text_that_is_not_json_from_the_wrong_shape() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Doc {
            k: u32,
        }
        let not_json = serde_json::from_str::<Doc>("{\"k\": ").unwrap_err();
        let syntax = serde_json::from_str::<Doc>("k = 3").unwrap_err();
        let shape = serde_json::from_str::<Doc>("{\"k\": \"three\"}").unwrap_err();
        assert!(matches!(
            Error::json("doc", not_json).kind(),
            ErrorKind::NotJson { line: 1, .. }
        ));
        assert!(matches!(
            Error::json("doc", syntax).kind(),
            ErrorKind::NotJson { .. }
        ));
        let shape = Error::json("doc", shape);
        assert!(matches!(shape.kind(), ErrorKind::WrongShape { .. }));
        assert!(
            shape
                .to_string()
                .starts_with("doc: JSON of the wrong shape at line 1")
        );
    }

    #[test]
    fn message_is_lowercase_without_trailing_period() {
        let e = Error::invalid_parameter("max_abs_amount", "must be finite and > 0, got NaN");
        let msg = e.to_string();
        assert_eq!(
            msg,
            "invalid parameter `max_abs_amount`: must be finite and > 0, got NaN"
        );
        assert!(!msg.ends_with('.'));
    }
}
