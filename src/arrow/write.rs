//! churnwise's results as Arrow record batches, and feature tables back.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder, StringDictionaryBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int32Type};
use arrow_array::{
    Array, ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema};
use chrono::{DateTime, SecondsFormat, Utc};
use ndarray::Array2;

use super::cells::{Col, Ids, RawId, required};
use super::read::arrow_error;
use crate::alert::{Alert, AlertReport};
use crate::features::FeatureTable;
use crate::records::CustomerId;
use crate::retention::Plan;
use crate::score::{FieldKind, Profiles};
use crate::{ErrorKind, Result};

/// Schema metadata key holding the as-of time (RFC 3339, UTC) of a feature
/// table or of profiles, when known.
pub const AS_OF_KEY: &str = "churnwise.as_of";

/// Field metadata key saying what a profiles column holds: `feature` for
/// the features, `field` for the other profile fields.
pub const ROLE_KEY: &str = "churnwise.role";

/// Results that churnwise writes as one Arrow [`RecordBatch`], with the
/// schema documented on each implementation (see the [module
/// docs](crate::arrow#schemas)). Sealed.
///
/// # Example
///
/// ```
/// use churnwise::arrow::ToRecordBatch;
/// # let (_, table) = churnwise::doc_support::table(100, 1, 6)?;
///
/// let batch = table.to_record_batch()?;
/// assert_eq!(batch.num_rows(), table.nrows());
/// assert_eq!(batch.schema().field(0).name(), "customer_id");
/// # Ok::<(), churnwise::Error>(())
/// ```
pub trait ToRecordBatch: private::Sealed {
    /// The batch: one row per customer (per alert, per assignment).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] if Arrow rejects the columns (it does not for
    /// values churnwise made).
    fn to_record_batch(&self) -> Result<RecordBatch>;
}

mod private {
    pub trait Sealed {}
    impl Sealed for crate::features::FeatureTable {}
    impl Sealed for crate::score::Profiles {}
    impl Sealed for crate::alert::AlertReport<'_> {}
    impl Sealed for [crate::alert::Alert<'_>] {}
    impl Sealed for crate::retention::Plan {}
    impl Sealed for arrow_array::RecordBatch {}
}

/// The `customer_id` column: `UInt64` when every id is an integer,
/// otherwise `Utf8` (integers in decimal, which read back as the same ids).
fn id_column<'a>(ids: impl ExactSizeIterator<Item = &'a CustomerId> + Clone) -> (Field, ArrayRef) {
    let ints: Option<Vec<u64>> = ids.clone().map(CustomerId::as_u64).collect();
    match ints {
        Some(v) => (
            Field::new("customer_id", DataType::UInt64, false),
            Arc::new(UInt64Array::from(v)),
        ),
        None => {
            let v: Vec<String> = ids.map(ToString::to_string).collect();
            (
                Field::new("customer_id", DataType::Utf8, false),
                Arc::new(StringArray::from(v)),
            )
        }
    }
}

fn float(name: &str, values: Vec<f64>) -> (Field, ArrayRef) {
    (
        Field::new(name, DataType::Float64, false),
        Arc::new(Float64Array::from(values)),
    )
}

fn optional_float(name: &str, values: Vec<Option<f64>>) -> (Field, ArrayRef) {
    (
        Field::new(name, DataType::Float64, true),
        Arc::new(Float64Array::from(values)),
    )
}

fn text<S: AsRef<str>>(name: &str, values: impl IntoIterator<Item = S>) -> (Field, ArrayRef) {
    let v: StringArray = values.into_iter().map(Some).collect();
    (Field::new(name, DataType::Utf8, false), Arc::new(v))
}

fn optional_text<'a>(
    name: &str,
    values: impl IntoIterator<Item = Option<&'a str>>,
) -> (Field, ArrayRef) {
    let v: StringArray = values.into_iter().collect();
    (Field::new(name, DataType::Utf8, true), Arc::new(v))
}

/// A category: dictionary-encoded text, null where there is no label.
fn category<'a>(
    name: &str,
    labels: impl IntoIterator<Item = Option<&'a str>>,
) -> (Field, ArrayRef) {
    let mut b = StringDictionaryBuilder::<Int32Type>::new();
    for l in labels {
        b.append_option(l);
    }
    let array = b.finish();
    (
        Field::new(name, array.data_type().clone(), true),
        Arc::new(array),
    )
}

/// A list of text per row.
fn text_lists<I, S>(name: &str, rows: impl IntoIterator<Item = I>) -> (Field, ArrayRef)
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut b = ListBuilder::new(StringBuilder::new());
    for row in rows {
        for s in row {
            b.values().append_value(s);
        }
        b.append(true);
    }
    let array = b.finish();
    (
        Field::new(name, array.data_type().clone(), false),
        Arc::new(array),
    )
}

fn finish(
    columns: Vec<(Field, ArrayRef)>,
    metadata: HashMap<String, String>,
    what: &str,
) -> Result<RecordBatch> {
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns.into_iter().unzip();
    let schema = Arc::new(Schema::new_with_metadata(fields, metadata));
    RecordBatch::try_new(schema, arrays).map_err(|e| arrow_error(what, e))
}

fn as_of_metadata(as_of: Option<DateTime<Utc>>) -> HashMap<String, String> {
    as_of
        .map(|t| {
            (
                AS_OF_KEY.to_owned(),
                t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            )
        })
        .into_iter()
        .collect()
}

fn with_role(field: Field, role: &str) -> Field {
    field.with_metadata(HashMap::from([(ROLE_KEY.to_owned(), role.to_owned())]))
}

/// One `Float64` column per feature.
fn feature_columns(table: &FeatureTable) -> Vec<(Field, ArrayRef)> {
    let values = table.values();
    table
        .names()
        .iter()
        .zip(values.columns())
        .map(|(name, col)| float(name, col.to_vec()))
        .collect()
}

/// The schema in the [module docs](crate::arrow#feature-tables).
impl ToRecordBatch for FeatureTable {
    fn to_record_batch(&self) -> Result<RecordBatch> {
        let mut columns = vec![id_column(self.ids().iter())];
        columns.extend(feature_columns(self));
        finish(columns, as_of_metadata(self.as_of()), "<feature table>")
    }
}

/// The schema in the [module docs](crate::arrow#profiles).
impl ToRecordBatch for Profiles {
    fn to_record_batch(&self) -> Result<RecordBatch> {
        let table = self.table();
        let mut columns = vec![id_column(self.ids().iter())];
        columns.extend(
            feature_columns(table)
                .into_iter()
                .map(|(f, a)| (with_role(f, "feature"), a)),
        );
        let names = self.field_names();
        for &name in &names[table.ncols()..] {
            let column = match self.field_kind(name) {
                Some(FieldKind::Number) => self.numbers(name).map(|v| float(name, v.to_vec())),
                Some(FieldKind::Category) => self.category(name).map(|c| category(name, c.iter())),
                Some(FieldKind::Labels) => {
                    Some(text_lists(name, self.iter().map(|p| p.labels(name))))
                }
                _ => None,
            };
            if let Some((f, a)) = column {
                columns.push((with_role(f, "field"), a));
            }
        }
        finish(columns, as_of_metadata(self.as_of()), "<profiles>")
    }
}

/// The schema in the [module docs](crate::arrow#alerts).
impl ToRecordBatch for [Alert<'_>] {
    fn to_record_batch(&self) -> Result<RecordBatch> {
        let columns = vec![
            id_column(self.iter().map(Alert::customer)),
            text("rule", self.iter().map(Alert::rule)),
            text("description", self.iter().map(Alert::description)),
            category("severity", self.iter().map(|a| Some(a.severity().name()))),
            category("route", self.iter().map(|a| Some(a.route().name()))),
            optional_float(
                "churn_probability",
                self.iter().map(Alert::churn_probability).collect(),
            ),
            optional_float(
                "expected_loss",
                self.iter().map(Alert::expected_loss).collect(),
            ),
            text_lists(
                "reasons",
                self.iter().map(|a| {
                    a.reasons()
                        .iter()
                        .map(|r| r.to_string())
                        .collect::<Vec<_>>()
                }),
            ),
            (
                Field::new("omitted_reasons", DataType::UInt32, false),
                Arc::new(UInt32Array::from_iter_values(
                    self.iter()
                        .map(|a| u32::try_from(a.omitted_reasons()).unwrap_or(u32::MAX)),
                )),
            ),
            optional_text("suggestion", self.iter().map(Alert::suggestion)),
            (
                Field::new("row", DataType::UInt64, false),
                Arc::new(UInt64Array::from_iter_values(
                    self.iter().map(|a| a.row() as u64),
                )),
            ),
        ];
        finish(columns, HashMap::new(), "<alerts>")
    }
}

/// Every alert of the report, as for `[Alert]`.
impl ToRecordBatch for AlertReport<'_> {
    fn to_record_batch(&self) -> Result<RecordBatch> {
        self.alerts().to_record_batch()
    }
}

/// The schema in the [module docs](crate::arrow#retention-plans).
impl ToRecordBatch for Plan {
    fn to_record_batch(&self) -> Result<RecordBatch> {
        let a = self.assignments();
        let f = |name, v: fn(&crate::retention::Assignment) -> f64| {
            float(name, a.iter().map(v).collect())
        };
        let columns = vec![
            id_column(a.iter().map(|x| &x.customer)),
            (
                Field::new("row", DataType::UInt64, false),
                Arc::new(UInt64Array::from_iter_values(
                    a.iter().map(|x| x.row as u64),
                )),
            ),
            category("intervention", a.iter().map(|x| Some(x.intervention()))),
            category("owner", a.iter().map(|x| Some(x.owner.name()))),
            category("segment", a.iter().map(|x| Some(x.segment.as_str()))),
            f("churn_probability", |x| x.churn_probability),
            f("customer_value", |x| x.customer_value),
            f("effect", |x| x.effect),
            f("cost", |x| x.cost),
            f("expected_saved", |x| x.expected_saved()),
            f("revenue_protected", |x| x.revenue_protected()),
            f("net_value", |x| x.net_value()),
        ];
        finish(columns, HashMap::new(), "<plan>")
    }
}

/// A batch as it is (so that `write_parquet`, feature `parquet`, takes batches of your own).
impl ToRecordBatch for RecordBatch {
    fn to_record_batch(&self) -> Result<RecordBatch> {
        Ok(self.clone())
    }
}

/// Reads a [`FeatureTable`] from record batches written by
/// [`ToRecordBatch`] (or any batches of that shape): a `customer_id` column
/// of integers or text, and every other column a feature of `Float64`,
/// `Float32` or integers. The as-of time is read from the schema metadata
/// [`AS_OF_KEY`] when there.
///
/// # Errors
///
/// [`ErrorKind::Empty`] for no batches; [`ErrorKind::MissingColumn`]
/// without `customer_id`; [`ErrorKind::ColumnType`] for a column of another
/// type; [`ErrorKind::MissingValue`] for a null; the errors of
/// [`FeatureTable::new`] (a repeated name, a NaN or infinite value).
///
/// # Example
///
/// ```
/// use churnwise::arrow::{ToRecordBatch, read_feature_table};
/// # let (_, table) = churnwise::doc_support::table(100, 1, 6)?;
///
/// let batch = table.to_record_batch()?;
/// let back = read_feature_table(&[batch.slice(0, 40), batch.slice(40, batch.num_rows() - 40)])?;
/// assert_eq!(back, table);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn read_feature_table(batches: &[RecordBatch]) -> Result<FeatureTable> {
    read_feature_table_from("<record batch>", batches)
}

pub(crate) fn read_feature_table_from(
    source: &str,
    batches: &[RecordBatch],
) -> Result<FeatureTable> {
    let first = batches
        .first()
        .ok_or_else(|| ErrorKind::Empty("no record batches to read a feature table from".into()))?;
    let schema = first.schema();
    let id_at = super::columns::Column::Named("customer_id".into()).require(&schema, source)?;
    let names: Vec<String> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != id_at)
        .map(|(_, f)| f.name().clone())
        .collect();
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut ids = Vec::with_capacity(rows);
    let mut values = Array2::<f64>::zeros((rows, names.len()));
    let mut at = 0;
    for batch in batches {
        let n = batch.num_rows();
        let bs = batch.schema();
        let col = |i: usize| Col {
            name: bs.field(i).name(),
            array: batch.column(i),
            source,
        };
        let id_at = super::columns::Column::Named("customer_id".into()).require(&bs, source)?;
        let id_col = Ids::of(col(id_at))?;
        for i in 0..n {
            let id = required(id_col.get(i, "customer_id"), "customer_id").map_err(|e| {
                ErrorKind::MissingValue {
                    record: format!("row {}", at + i),
                    field: format!("customer_id ({})", e.problem),
                }
            })?;
            ids.push(match id {
                RawId::Num(n) => CustomerId::from(n),
                RawId::Str(s) => CustomerId::from(&*s),
            });
        }
        for (j, name) in names.iter().enumerate() {
            let k = super::columns::Column::Named(name.clone()).require(&bs, source)?;
            let c = col(k);
            let array = c.array.as_ref();
            let get: Box<dyn Fn(usize) -> f64> = match array.data_type() {
                DataType::Float64 => {
                    let a = array.as_primitive::<Float64Type>();
                    Box::new(move |i| a.value(i))
                }
                DataType::Float32 => {
                    let a = array.as_primitive::<Float32Type>();
                    Box::new(move |i| f64::from(a.value(i)))
                }
                _ => match super::cells::Ints::of(array) {
                    Some(ints) => Box::new(move |i| ints.get(i).unwrap_or_default() as f64),
                    None => {
                        return Err(ErrorKind::ColumnType {
                            source_name: source.to_owned(),
                            column: name.clone(),
                            found: array.data_type().to_string(),
                            expected: "Float64, Float32 or an integer type",
                        }
                        .into());
                    }
                },
            };
            for i in 0..n {
                if array.is_null(i) {
                    return Err(ErrorKind::MissingValue {
                        record: format!("row {} (customer {})", at + i, ids[at + i]),
                        field: name.clone(),
                    }
                    .into());
                }
                values[[at + i, j]] = get(i);
            }
        }
        at += n;
    }
    let table = FeatureTable::new(ids, names, values)?;
    let as_of = schema
        .metadata()
        .get(AS_OF_KEY)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let (ids, names, values) = table.into_parts();
    Ok(FeatureTable::from_parts(ids, names, values, as_of))
}
