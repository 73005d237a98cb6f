//! Typed access to the cells of one Arrow column, whatever its physical type.
//!
//! Each reader checks the column's type once (a [`ErrorKind::ColumnType`]
//! naming the column and the types accepted) and then reads a row at a
//! time: `Ok(None)` for a null, `Err` for a value that cannot be used.

use std::borrow::Cow;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{
    Array, ArrayRef, BooleanArray, GenericStringArray, PrimitiveArray, StringViewArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, TimeUnit};

use crate::records::{Problem, TimeFormat, parse_canonical_u64, parse_time};
use crate::util::{MICROS_PER_DAY, quote_truncated};
use crate::{ErrorKind, Result};

/// The longest customer or order id accepted: 256 bytes, as the CSV reader.
pub(crate) const MAX_ID_BYTES: usize = 256;

/// Why a cell could not be used: the record field and the problem.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CellError {
    pub(crate) field: &'static str,
    pub(crate) problem: Problem,
}

impl CellError {
    pub(crate) fn missing(field: &'static str) -> Self {
        CellError {
            field,
            problem: Problem::Missing,
        }
    }

    pub(crate) fn malformed(field: &'static str, message: String) -> Self {
        CellError {
            field,
            problem: Problem::Malformed { message },
        }
    }
}

/// A required cell: a null is [`Problem::Missing`].
pub(crate) fn required<T>(
    cell: Result<Option<T>, CellError>,
    field: &'static str,
) -> Result<T, CellError> {
    cell?.ok_or_else(|| CellError::missing(field))
}

/// The column's name, index and array, for messages and type checks.
#[derive(Clone, Copy)]
pub(crate) struct Col<'a> {
    pub(crate) name: &'a str,
    pub(crate) array: &'a ArrayRef,
    pub(crate) source: &'a str,
}

impl Col<'_> {
    fn wrong_type(&self, expected: &'static str) -> crate::Error {
        ErrorKind::ColumnType {
            source_name: self.source.to_owned(),
            column: self.name.to_owned(),
            found: self.array.data_type().to_string(),
            expected,
        }
        .into()
    }
}

/// Text cells: `Utf8`, `LargeUtf8`, `Utf8View`, or a dictionary of them.
pub(crate) enum Strs<'a> {
    Utf8(&'a GenericStringArray<i32>),
    Large(&'a GenericStringArray<i64>),
    View(&'a StringViewArray),
    Dict {
        keys: Vec<usize>,
        nulls: Option<&'a NullBuffer>,
        values: Box<Strs<'a>>,
    },
}

impl<'a> Strs<'a> {
    /// The text cells of `array`, or `None` if it does not hold text.
    pub(crate) fn of(array: &'a dyn Array) -> Option<Self> {
        Some(match array.data_type() {
            DataType::Utf8 => Strs::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => Strs::Large(array.as_string::<i64>()),
            DataType::Utf8View => Strs::View(array.as_string_view()),
            DataType::Dictionary(_, value) if is_text(value) => {
                let dict = array.as_any_dictionary();
                Strs::Dict {
                    keys: dict.normalized_keys(),
                    nulls: dict.keys().nulls(),
                    values: Box::new(Strs::of(dict.values().as_ref())?),
                }
            }
            _ => return None,
        })
    }

    /// Row `i`, `None` when null.
    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Strs::Utf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strs::Large(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strs::View(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strs::Dict {
                keys,
                nulls,
                values,
            } => {
                if nulls.is_some_and(|n| n.is_null(i)) {
                    return None;
                }
                values.get(*keys.get(i)?)
            }
        }
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Integer cells of any width and sign.
pub(crate) enum Ints<'a> {
    I8(&'a PrimitiveArray<Int8Type>),
    I16(&'a PrimitiveArray<Int16Type>),
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    U8(&'a PrimitiveArray<UInt8Type>),
    U16(&'a PrimitiveArray<UInt16Type>),
    U32(&'a PrimitiveArray<UInt32Type>),
    U64(&'a PrimitiveArray<UInt64Type>),
}

macro_rules! each_int {
    ($self:ident, $a:ident => $e:expr) => {
        match $self {
            Ints::I8($a) => $e,
            Ints::I16($a) => $e,
            Ints::I32($a) => $e,
            Ints::I64($a) => $e,
            Ints::U8($a) => $e,
            Ints::U16($a) => $e,
            Ints::U32($a) => $e,
            Ints::U64($a) => $e,
        }
    };
}

impl<'a> Ints<'a> {
    pub(crate) fn of(array: &'a dyn Array) -> Option<Self> {
        Some(match array.data_type() {
            DataType::Int8 => Ints::I8(array.as_primitive()),
            DataType::Int16 => Ints::I16(array.as_primitive()),
            DataType::Int32 => Ints::I32(array.as_primitive()),
            DataType::Int64 => Ints::I64(array.as_primitive()),
            DataType::UInt8 => Ints::U8(array.as_primitive()),
            DataType::UInt16 => Ints::U16(array.as_primitive()),
            DataType::UInt32 => Ints::U32(array.as_primitive()),
            DataType::UInt64 => Ints::U64(array.as_primitive()),
            _ => return None,
        })
    }

    pub(crate) fn get(&self, i: usize) -> Option<i128> {
        each_int!(self, a => (!a.is_null(i)).then(|| i128::from(a.value(i))))
    }
}

/// A customer id as read: integers need no allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RawId<'a> {
    Num(u64),
    Str(Cow<'a, str>),
}

/// Customer id cells: integers, or text read as the CSV reader reads it
/// (the canonical decimal form of a `u64` is that integer).
pub(crate) enum Ids<'a> {
    Int(Ints<'a>),
    /// Negative integers become text ids, as `-5` does in a CSV file.
    Text(Strs<'a>),
}

impl<'a> Ids<'a> {
    pub(crate) const TYPES: &'static str =
        "an integer type, Utf8, LargeUtf8, Utf8View or a dictionary of text";

    pub(crate) fn of(col: Col<'a>) -> Result<Self> {
        let array = col.array.as_ref();
        if let Some(ints) = Ints::of(array) {
            return Ok(Ids::Int(ints));
        }
        Strs::of(array)
            .map(Ids::Text)
            .ok_or_else(|| col.wrong_type(Self::TYPES))
    }

    /// Row `i`'s id.
    pub(crate) fn get(
        &self,
        i: usize,
        field: &'static str,
    ) -> Result<Option<RawId<'a>>, CellError> {
        match self {
            Ids::Int(ints) => Ok(ints.get(i).map(|v| match u64::try_from(v) {
                Ok(n) => RawId::Num(n),
                Err(_) => RawId::Str(Cow::Owned(v.to_string())),
            })),
            Ids::Text(strs) => strs.get(i).map(|s| text_id(s, field)).transpose(),
        }
    }
}

/// A text id: within [`MAX_ID_BYTES`], trimmed, not empty.
pub(crate) fn text_id<'a>(s: &'a str, field: &'static str) -> Result<RawId<'a>, CellError> {
    if let Some(n) = parse_canonical_u64(s.as_bytes()) {
        return Ok(RawId::Num(n));
    }
    if s.len() > MAX_ID_BYTES {
        return Err(CellError::malformed(
            field,
            format!(
                "an id of {} bytes exceeds the limit of {MAX_ID_BYTES}",
                s.len()
            ),
        ));
    }
    match s.trim() {
        "" => Err(CellError::missing(field)),
        s => Ok(parse_canonical_u64(s.as_bytes()).map_or(RawId::Str(Cow::Borrowed(s)), RawId::Num)),
    }
}

/// Time cells, as microseconds since the epoch.
pub(crate) enum Times<'a> {
    /// Timestamps in any unit: `value * mul / div`.
    Stamp {
        array: &'a dyn Array,
        values: &'a [i64],
        mul: i64,
        div: i64,
    },
    Date32(&'a PrimitiveArray<Date32Type>),
    Text(Strs<'a>, &'a TimeFormat),
}

impl<'a> Times<'a> {
    pub(crate) const TYPES: &'static str =
        "Timestamp (any unit and time zone), Date32, Date64, Utf8, LargeUtf8 or Utf8View";

    pub(crate) fn of(col: Col<'a>, format: &'a TimeFormat) -> Result<Self> {
        let array = col.array.as_ref();
        let stamp = |values: &'a [i64], mul, div| Times::Stamp {
            array,
            values,
            mul,
            div,
        };
        Ok(match array.data_type() {
            DataType::Timestamp(unit, _) => match unit {
                TimeUnit::Second => stamp(
                    array.as_primitive::<TimestampSecondType>().values(),
                    1_000_000,
                    1,
                ),
                TimeUnit::Millisecond => stamp(
                    array.as_primitive::<TimestampMillisecondType>().values(),
                    1_000,
                    1,
                ),
                TimeUnit::Microsecond => stamp(
                    array.as_primitive::<TimestampMicrosecondType>().values(),
                    1,
                    1,
                ),
                TimeUnit::Nanosecond => stamp(
                    array.as_primitive::<TimestampNanosecondType>().values(),
                    1,
                    1_000,
                ),
            },
            DataType::Date32 => Times::Date32(array.as_primitive()),
            DataType::Date64 => stamp(array.as_primitive::<Date64Type>().values(), 1_000, 1),
            _ => match Strs::of(array) {
                Some(s) => Times::Text(s, format),
                None => return Err(col.wrong_type(Self::TYPES)),
            },
        })
    }

    pub(crate) fn get(&self, i: usize, field: &'static str) -> Result<Option<i64>, CellError> {
        let too_far = |v: i64| {
            CellError::malformed(
                field,
                format!("time {v} cannot be represented in microseconds"),
            )
        };
        match self {
            Times::Stamp {
                array,
                values,
                mul,
                div,
            } => {
                if array.is_null(i) {
                    return Ok(None);
                }
                let v = values[i];
                let m = v.checked_mul(*mul).ok_or_else(|| too_far(v))?;
                Ok(Some(m.div_euclid(*div)))
            }
            Times::Date32(a) => Ok((!a.is_null(i)).then(|| i64::from(a.value(i)) * MICROS_PER_DAY)),
            Times::Text(s, format) => match s.get(i) {
                None => Ok(None),
                Some(t) if t.trim().is_empty() => Err(CellError::missing(field)),
                Some(t) => parse_time(t, format)
                    .map(Some)
                    .map_err(|m| CellError::malformed(field, m)),
            },
        }
    }

    /// The raw text of a text time cell, to reuse the previous row's parse.
    pub(crate) fn text(&self, i: usize) -> Option<&'a str> {
        match self {
            Times::Text(s, _) => s.get(i),
            _ => None,
        }
    }
}

/// Number cells: floats, integers, decimals or text.
pub(crate) enum Nums<'a> {
    F64(&'a PrimitiveArray<Float64Type>),
    F32(&'a PrimitiveArray<Float32Type>),
    Int(Ints<'a>),
    Decimal(&'a PrimitiveArray<Decimal128Type>, f64),
    Text(Strs<'a>),
}

impl<'a> Nums<'a> {
    pub(crate) const TYPES: &'static str =
        "Float64, Float32, an integer type, Decimal128, Utf8, LargeUtf8 or Utf8View";

    pub(crate) fn of(col: Col<'a>) -> Result<Self> {
        let array = col.array.as_ref();
        Ok(match array.data_type() {
            DataType::Float64 => Nums::F64(array.as_primitive()),
            DataType::Float32 => Nums::F32(array.as_primitive()),
            DataType::Decimal128(_, scale) => {
                Nums::Decimal(array.as_primitive(), 10f64.powi(i32::from(*scale)))
            }
            _ => match (Ints::of(array), Strs::of(array)) {
                (Some(ints), _) => Nums::Int(ints),
                (None, Some(strs)) => Nums::Text(strs),
                (None, None) => return Err(col.wrong_type(Self::TYPES)),
            },
        })
    }

    pub(crate) fn get(&self, i: usize, field: &'static str) -> Result<Option<f64>, CellError> {
        Ok(match self {
            Nums::F64(a) => (!a.is_null(i)).then(|| a.value(i)),
            Nums::F32(a) => (!a.is_null(i)).then(|| f64::from(a.value(i))),
            Nums::Int(a) => a.get(i).map(|v| v as f64),
            Nums::Decimal(a, scale) => (!a.is_null(i)).then(|| a.value(i) as f64 / scale),
            Nums::Text(s) => match s.get(i).map(str::trim) {
                None => None,
                Some("") => return Err(CellError::missing(field)),
                Some(t) => Some(t.parse::<f64>().map_err(|_| {
                    let t = quote_truncated(t);
                    CellError::malformed(field, format!("cannot parse {t:?} as a number"))
                })?),
            },
        })
    }
}

/// Optional text cells (plan, topic, order id): text, or integers written
/// in decimal; blank text counts as absent.
pub(crate) enum Texts<'a> {
    Text(Strs<'a>),
    Int(Ints<'a>),
}

impl<'a> Texts<'a> {
    pub(crate) const TYPES: &'static str =
        "Utf8, LargeUtf8, Utf8View, a dictionary of text or an integer type";

    pub(crate) fn of(col: Col<'a>) -> Result<Self> {
        let array = col.array.as_ref();
        if let Some(s) = Strs::of(array) {
            return Ok(Texts::Text(s));
        }
        Ints::of(array)
            .map(Texts::Int)
            .ok_or_else(|| col.wrong_type(Self::TYPES))
    }

    /// Row `i`, trimmed; `None` for a null or blank cell.
    pub(crate) fn get(&self, i: usize) -> Option<Cow<'a, str>> {
        match self {
            Texts::Text(s) => s
                .get(i)
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(Cow::Borrowed),
            Texts::Int(a) => a.get(i).map(|v| Cow::Owned(v.to_string())),
        }
    }
}

/// The longest text field accepted: 64 KiB, as the CSV reader.
pub(crate) const MAX_FIELD_BYTES: usize = 64 << 10;

/// A text cell read as the CSV reader reads a field: at most `limit` bytes
/// as stored (`what` names it in the message: `"an id"`, `"a field"`),
/// then trimmed; `None` for a null or blank cell.
pub(crate) fn text_field<'a>(
    texts: &Texts<'a>,
    i: usize,
    field: &'static str,
    limit: usize,
    what: &str,
) -> Result<Option<Cow<'a, str>>, CellError> {
    match texts {
        Texts::Text(s) => match s.get(i) {
            Some(raw) if raw.len() > limit => Err(CellError::malformed(
                field,
                format!("{what} of {} bytes exceeds the limit of {limit}", raw.len()),
            )),
            _ => Ok(texts.get(i)),
        },
        Texts::Int(_) => Ok(texts.get(i)),
    }
}

/// Yes/no cells: `Boolean`, or text (and integers) read as the CSV reader
/// reads them: `true`/`false`, `yes`/`no`, `y`/`n`, `t`/`f`, `1`/`0`,
/// case-insensitive.
pub(crate) enum Flags<'a> {
    Bool(&'a BooleanArray),
    Text(Texts<'a>),
}

impl<'a> Flags<'a> {
    pub(crate) const TYPES: &'static str =
        "Boolean, Utf8, LargeUtf8, Utf8View, a dictionary of text or an integer type";

    pub(crate) fn of(col: Col<'a>) -> Result<Self> {
        let array = col.array.as_ref();
        if let DataType::Boolean = array.data_type() {
            return Ok(Flags::Bool(array.as_boolean()));
        }
        Texts::of(col)
            .map(Flags::Text)
            .map_err(|_| col.wrong_type(Self::TYPES))
    }

    /// Row `i`; `None` for a null or blank cell.
    pub(crate) fn get(&self, i: usize, field: &'static str) -> Result<Option<bool>, CellError> {
        let t = match self {
            Flags::Bool(a) => return Ok((!a.is_null(i)).then(|| a.value(i))),
            Flags::Text(t) => match text_field(t, i, field, MAX_FIELD_BYTES, "a field")? {
                Some(t) => t,
                None => return Ok(None),
            },
        };
        match t.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "t" => Ok(Some(true)),
            "false" | "no" | "n" | "0" | "f" => Ok(Some(false)),
            _ => {
                let t = quote_truncated(&t);
                Err(CellError::malformed(
                    field,
                    format!("cannot parse {t:?} as true/false, yes/no or 1/0"),
                ))
            }
        }
    }
}

/// Tag cells: text separated by `;` or `|`, or a list of text.
pub(crate) enum Tags<'a> {
    Text(Strs<'a>),
    List {
        array: &'a dyn Array,
        offsets: Vec<usize>,
        values: Strs<'a>,
    },
}

impl<'a> Tags<'a> {
    pub(crate) const TYPES: &'static str =
        "text separated by `;` or `|`, or a List or LargeList of text";

    pub(crate) fn of(col: Col<'a>) -> Result<Self> {
        let array = col.array.as_ref();
        if let Some(s) = Strs::of(array) {
            return Ok(Tags::Text(s));
        }
        let (offsets, values): (Vec<usize>, &'a ArrayRef) = match array.data_type() {
            DataType::List(_) => {
                let l = array.as_list::<i32>();
                let offsets = l.value_offsets().iter().map(|&o| o as usize).collect();
                (offsets, l.values())
            }
            DataType::LargeList(_) => {
                let l = array.as_list::<i64>();
                let offsets = l.value_offsets().iter().map(|&o| o as usize).collect();
                (offsets, l.values())
            }
            _ => return Err(col.wrong_type(Self::TYPES)),
        };
        let values = Strs::of(values.as_ref()).ok_or_else(|| col.wrong_type(Self::TYPES))?;
        Ok(Tags::List {
            array,
            offsets,
            values,
        })
    }

    /// Row `i`'s tags, trimmed, blanks dropped.
    pub(crate) fn get(&self, i: usize) -> Vec<String> {
        let clean = |t: &str| Some(t.trim()).filter(|t| !t.is_empty()).map(str::to_owned);
        match self {
            Tags::Text(s) => s
                .get(i)
                .map(|t| t.split([';', '|']).filter_map(clean).collect())
                .unwrap_or_default(),
            Tags::List {
                array,
                offsets,
                values,
            } => {
                if array.is_null(i) {
                    return Vec::new();
                }
                let (start, end) = (offsets[i], offsets[i + 1]);
                (start..end)
                    .filter_map(|j| values.get(j).and_then(clean))
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array, StringArray, TimestampSecondArray};

    use super::*;

    fn col(array: &ArrayRef) -> Col<'_> {
        Col {
            name: "c",
            array,
            source: "test",
        }
    }

    #[test]
    fn times_beyond_the_microsecond_range_are_malformed_not_a_panic() {
        let a: ArrayRef = Arc::new(TimestampSecondArray::from(vec![i64::MAX, i64::MIN, 0]));
        let format = TimeFormat::Auto;
        let t = Times::of(col(&a), &format).unwrap();
        for i in 0..2 {
            let e = t.get(i, "time").unwrap_err();
            assert_eq!((e.field, e.problem.name()), ("time", "malformed"));
        }
        assert_eq!(t.get(2, "time"), Ok(Some(0)));
    }

    #[test]
    fn text_ids_are_read_as_the_csv_reader_reads_them() {
        assert_eq!(text_id("42", "id"), Ok(RawId::Num(42)));
        assert_eq!(text_id(" 42 ", "id"), Ok(RawId::Num(42)));
        assert_eq!(text_id("042", "id"), Ok(RawId::Str(Cow::Borrowed("042"))));
        assert_eq!(text_id("  ", "id").unwrap_err().problem, Problem::Missing);
        let long = "x".repeat(MAX_ID_BYTES + 1);
        assert_eq!(
            text_id(&long, "id").unwrap_err().problem.name(),
            "malformed"
        );
        // Integers below zero are text ids.
        let a: ArrayRef = Arc::new(Int64Array::from(vec![-7]));
        let ids = Ids::of(col(&a)).unwrap();
        assert_eq!(
            ids.get(0, "id"),
            Ok(Some(RawId::Str(Cow::Owned("-7".into()))))
        );
    }

    #[test]
    fn blank_text_numbers_are_missing_and_junk_is_malformed() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![
            Some(" "),
            Some("x1"),
            None,
            Some("1e3"),
        ]));
        let n = Nums::of(col(&a)).unwrap();
        assert_eq!(n.get(0, "amount").unwrap_err().problem, Problem::Missing);
        assert_eq!(n.get(1, "amount").unwrap_err().problem.name(), "malformed");
        assert_eq!(n.get(2, "amount"), Ok(None));
        assert_eq!(n.get(3, "amount"), Ok(Some(1000.0)));
    }
}
