//! The crate's single error type.
//!
//! Every fallible call in churnwise returns [`Result<T>`], whose error is the
//! opaque [`Error`]. Branch on what went wrong with [`Error::kind`], which
//! returns a `#[non_exhaustive]` [`ErrorKind`] carrying the offending record,
//! field or value.

use std::fmt;

use crate::records::Issue;

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
#[derive(Clone, PartialEq, thiserror::Error)]
#[error(transparent)]
pub struct Error(Box<ErrorKind>);

impl Error {
    /// What went wrong, with the values that explain it.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::features::ChurnLabeler;
    ///
    /// let err = ChurnLabeler::new().horizon_days(0).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "horizon_days", .. }));
    /// ```
    pub fn kind(&self) -> &ErrorKind {
        &self.0
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
        *self.0
    }

    pub(crate) fn invalid_parameter(name: &'static str, reason: impl Into<String>) -> Self {
        ErrorKind::InvalidParameter {
            name,
            reason: reason.into(),
        }
        .into()
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error(Box::new(kind))
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
    /// ([`HistoryBuilder::build_strict`](crate::records::HistoryBuilder::build_strict)).
    #[error("{0}")]
    InvalidRecord(Issue),
    /// A CSV file lacks a configured column.
    #[error("{source_name}: column `{column}` not found in the header (columns: {available})")]
    MissingColumn {
        /// The file or source being read.
        source_name: String,
        /// The configured column name that was not found.
        column: String,
        /// The header's columns, comma-separated.
        available: String,
    },
    /// Reading input failed (file not found, permission, broken stream, CSV header).
    #[error("{source_name}: {message}")]
    Io {
        /// The file or source being read.
        source_name: String,
        /// The underlying error's message.
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
    #[error("training labels contain only one class ({class})")]
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
