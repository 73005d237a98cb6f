//! Identifier tables from CSV: `source_id,kind,value` rows.

use std::io::Read;
use std::path::Path;

use super::{Identifier, IdentifierKind};
use crate::records::CustomerId;
use crate::{Error, ErrorKind, Result};

/// Columns of an identifier table: one row per identifier a source record
/// carries, `source_id,kind,value` by default.
///
/// The kind is parsed as [`IdentifierKind`] (any other name is a kind of
/// your own); the value is kept as written and normalised by the
/// [`IdentityResolver`](super::IdentityResolver). A source id that is all
/// digits is a numeric [`CustomerId`], anything else a text one.
///
/// # Example
///
/// ```
/// use churnwise::records::{IdentifierCsv, IdentityResolver};
///
/// let data = "source_id,kind,value\nweb-1,email,ann@example.com\nstore-9,e-mail,ANN@example.com\n";
/// let identifiers = IdentifierCsv::new().read(data.as_bytes(), "ids.csv")?;
/// let map = IdentityResolver::new().resolve(&identifiers)?;
/// assert_eq!(map.customers(), 1);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IdentifierCsv {
    source: String,
    kind: String,
    value: String,
    delimiter: u8,
}

impl Default for IdentifierCsv {
    fn default() -> Self {
        IdentifierCsv {
            source: "source_id".into(),
            kind: "kind".into(),
            value: "value".into(),
            delimiter: b',',
        }
    }
}

impl IdentifierCsv {
    /// Columns `source_id`, `kind`, `value`, comma-separated.
    pub fn new() -> Self {
        Self::default()
    }

    /// The column holding the source system's customer id.
    pub fn source(mut self, column: impl Into<String>) -> Self {
        self.source = column.into();
        self
    }

    /// The column holding the identifier's kind.
    pub fn kind(mut self, column: impl Into<String>) -> Self {
        self.kind = column.into();
        self
    }

    /// The column holding the identifier's value.
    pub fn value(mut self, column: impl Into<String>) -> Self {
        self.value = column.into();
        self
    }

    /// The field delimiter (default `,`).
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// Checks the delimiter.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for a delimiter that is a quote or a
    /// line end, or not ASCII.
    pub fn validate(&self) -> Result<()> {
        if matches!(self.delimiter, b'"' | b'\n' | b'\r') || !self.delimiter.is_ascii() {
            return Err(Error::invalid_parameter(
                "delimiter",
                format!("{:?} cannot separate fields", char::from(self.delimiter)),
            ));
        }
        Ok(())
    }

    /// Reads every row of `reader`; `source_name` names it in errors.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingColumn`] if a configured column is not in the
    /// header; [`ErrorKind::InvalidRecord`] naming the 1-based line of a row
    /// with a missing field or an empty source id; [`ErrorKind::Io`] if
    /// reading fails or the text is not UTF-8.
    pub fn read<R: Read>(&self, reader: R, source_name: &str) -> Result<Vec<Identifier>> {
        self.validate()?;
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .flexible(true)
            .from_reader(reader);
        let header = csv
            .headers()
            .map_err(|e| Error::csv(source_name, e))?
            .clone();
        let column = |name: &str| {
            header.iter().position(|h| h.trim() == name).ok_or_else(|| {
                Error::from(ErrorKind::MissingColumn {
                    source_name: source_name.to_string(),
                    column: name.to_string(),
                    available: crate::util::quote_truncated(
                        &header.iter().collect::<Vec<_>>().join(","),
                    )
                    .into_owned(),
                })
            })
        };
        let (source, kind, value) = (
            column(&self.source)?,
            column(&self.kind)?,
            column(&self.value)?,
        );
        let mut out = Vec::new();
        let mut record = csv::StringRecord::new();
        while csv
            .read_record(&mut record)
            .map_err(|e| Error::csv(source_name, e))?
        {
            let line = record.position().map_or(0, |p| p.line());
            let index = out.len();
            let field = |j: usize, name: &'static str| {
                record.get(j).ok_or_else(|| {
                    invalid(source_name, index, line, name, "the row has no such field")
                })
            };
            let source_id = field(source, "source_id")?.trim();
            if source_id.is_empty() {
                return Err(invalid(
                    source_name,
                    index,
                    line,
                    "source_id",
                    "the source id is empty",
                ));
            }
            let kind: IdentifierKind = field(kind, "kind")?.parse().unwrap_or_else(|e| match e {});
            out.push(Identifier::new(
                customer_id(source_id),
                kind,
                field(value, "value")?,
            ));
        }
        Ok(out)
    }

    /// Reads the file at `path` (see [`read`](Self::read)).
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read); [`ErrorKind::Io`] naming the path if it
    /// cannot be opened.
    pub fn read_path(&self, path: impl AsRef<Path>) -> Result<Vec<Identifier>> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| Error::io(name.clone(), e))?;
        self.read(std::io::BufReader::new(file), &name)
    }
}

fn customer_id(text: &str) -> CustomerId {
    match text.parse::<u64>() {
        Ok(n) if !text.starts_with('0') || text == "0" => CustomerId::from(n),
        _ => CustomerId::from(text),
    }
}

fn invalid(source_name: &str, index: usize, line: u64, field: &'static str, reason: &str) -> Error {
    ErrorKind::InvalidRecord {
        record: format!("identifier {index} ({source_name} line {line})"),
        field: Some(field),
        problem: "invalid_identifier_row",
        reason: reason.to_string(),
        index,
        line: Some(line),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_configurable_and_ids_keep_leading_zeros_as_text() {
        let data = "who;type;id\n007;phone;+1 555 0100\n42;Email;a@b.co\n";
        let ids = IdentifierCsv::new()
            .source("who")
            .kind("type")
            .value("id")
            .delimiter(b';')
            .read(data.as_bytes(), "t.csv")
            .unwrap();
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[0].source.as_str(), Some("007"));
        assert_eq!(ids[1].source.as_u64(), Some(42));
        assert_eq!(ids[1].kind, IdentifierKind::Email);
    }

    #[test]
    fn a_missing_column_or_field_is_an_error_naming_it() {
        let err = IdentifierCsv::new()
            .read("a,b\n1,2\n".as_bytes(), "t.csv")
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::MissingColumn { column, .. } if column == "source_id")
        );
        let err = IdentifierCsv::new()
            .read("source_id,kind,value\n1,phone\n".as_bytes(), "t.csv")
            .unwrap_err();
        assert!(err.to_string().contains("t.csv line 2"), "{err}");
        let err = IdentifierCsv::new()
            .read("source_id,kind,value\n ,phone,1\n".as_bytes(), "t.csv")
            .unwrap_err();
        assert!(err.to_string().contains("source id is empty"), "{err}");
    }

    #[test]
    fn a_quote_delimiter_is_rejected() {
        assert!(IdentifierCsv::new().delimiter(b'"').validate().is_err());
    }
}
