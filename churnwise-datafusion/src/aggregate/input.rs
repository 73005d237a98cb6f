//! Reading the arguments: coercion, times, amounts and event kinds, with
//! errors naming the function and column.

use churnwise::features::CompactKind;
use churnwise::records::ComplaintTopic;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array};
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Float64Type, Int64Type, TimeUnit as ArrowTimeUnit,
};
use datafusion::arrow::error::ArrowError;
use datafusion::common::{DataFusionError, Result, exec_err, plan_err};

use super::{Form, MICROS_PER_DAY, Output};

pub(super) fn arity(function: &str, n: usize) -> Result<()> {
    if n == 2 {
        Ok(())
    } else {
        plan_err!("{function} takes (order_time, amount), got {n} arguments")
    }
}

/// The kind of an argument, for coercion.
#[derive(Clone, Copy)]
pub(super) enum Role {
    Time(&'static str),
    Number(&'static str),
    Text(&'static str),
}

pub(super) fn coerce(function: &str, roles: &[Role], types: &[DataType]) -> Result<Vec<DataType>> {
    roles
        .iter()
        .zip(types)
        .map(|(role, t)| match (role, t) {
            (Role::Time(_), DataType::Timestamp(..) | DataType::Date32 | DataType::Date64)
            | (Role::Time(_), DataType::Int64) => Ok(t.clone()),
            (Role::Time(_), DataType::Null) => Ok(DataType::Int64),
            (Role::Time(_), t) if t.is_integer() => Ok(DataType::Int64),
            (Role::Number(_), DataType::Null) => Ok(DataType::Float64),
            (Role::Number(_), t) if t.is_numeric() => Ok(DataType::Float64),
            (Role::Text(_), DataType::Utf8 | DataType::Utf8View) => Ok(t.clone()),
            (Role::Text(_), DataType::Null | DataType::LargeUtf8 | DataType::Dictionary(..)) => {
                Ok(DataType::Utf8)
            }
            (Role::Time(name), t) => plan_err!(
                "{function}: argument `{name}` must be a timestamp, a date or integer \
                 microseconds, got {t}"
            ),
            (Role::Number(name), t) => {
                plan_err!("{function}: argument `{name}` must be numeric, got {t}")
            }
            (Role::Text(name), t) => {
                plan_err!("{function}: argument `{name}` must be text, got {t}")
            }
        })
        .collect()
}

/// What an accumulator needs to read its arguments and finish.
#[derive(Debug)]
pub(super) struct Ctx {
    pub(super) function: &'static str,
    pub(super) form: Form,
    /// Whether the first argument is the signup time.
    pub(super) signup: bool,
    /// The argument columns' names, for errors.
    pub(super) columns: Vec<String>,
    /// Events after this time (µs) cannot change the result and are not kept.
    pub(super) keep_until: i64,
    pub(super) output: Output,
}

impl Ctx {
    pub(super) fn column(&self, i: usize) -> &str {
        self.columns.get(i).map_or("?", String::as_str)
    }
}

/// Converts a time column to microseconds since the epoch.
pub(super) fn micros(ctx: &Ctx, i: usize, a: &ArrayRef) -> Result<Int64Array> {
    fn scale<T: ArrowPrimitiveType>(a: &ArrayRef, mul: i64) -> Result<Int64Array, ArrowError>
    where
        T::Native: Into<i64>,
    {
        a.as_primitive::<T>().try_unary::<_, Int64Type, _>(|v| {
            v.into()
                .checked_mul(mul)
                .ok_or_else(|| ArrowError::ComputeError("time out of range".into()))
        })
    }
    use datafusion::arrow::datatypes::{
        Date32Type, Date64Type, TimestampMicrosecondType, TimestampMillisecondType,
        TimestampNanosecondType, TimestampSecondType,
    };
    let r = match a.data_type() {
        DataType::Int64 => Ok(a.as_primitive::<Int64Type>().clone()),
        DataType::Timestamp(ArrowTimeUnit::Microsecond, _) => Ok(a
            .as_primitive::<TimestampMicrosecondType>()
            .reinterpret_cast::<Int64Type>()),
        DataType::Timestamp(ArrowTimeUnit::Nanosecond, _) => Ok(a
            .as_primitive::<TimestampNanosecondType>()
            .unary::<_, Int64Type>(|v| v.div_euclid(1000))),
        DataType::Timestamp(ArrowTimeUnit::Millisecond, _) => {
            scale::<TimestampMillisecondType>(a, 1000)
        }
        DataType::Timestamp(ArrowTimeUnit::Second, _) => scale::<TimestampSecondType>(a, 1_000_000),
        DataType::Date32 => scale::<Date32Type>(a, MICROS_PER_DAY),
        DataType::Date64 => scale::<Date64Type>(a, 1000),
        DataType::Null => Ok(Int64Array::new_null(a.len())),
        t => {
            return exec_err!(
                "{}: column `{}` must be a timestamp, a date or integer microseconds, got {t}",
                ctx.function,
                ctx.column(i)
            );
        }
    };
    r.map_err(|e| {
        DataFusionError::Execution(format!("{}: column `{}`: {e}", ctx.function, ctx.column(i)))
    })
}

pub(super) fn floats(ctx: &Ctx, i: usize, a: &ArrayRef) -> Result<Float64Array> {
    match a.data_type() {
        DataType::Float64 => Ok(a.as_primitive::<Float64Type>().clone()),
        DataType::Null => Ok(Float64Array::new_null(a.len())),
        t => exec_err!(
            "{}: column `{}` must be Float64, got {t}",
            ctx.function,
            ctx.column(i)
        ),
    }
}

/// An event-kind column.
pub(super) enum Kinds<'a> {
    Utf8(&'a datafusion::arrow::array::StringArray),
    View(&'a datafusion::arrow::array::StringViewArray),
    Null,
}

impl Kinds<'_> {
    pub(super) fn get(&self, i: usize) -> Option<&str> {
        match self {
            Kinds::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Kinds::View(a) => a.is_valid(i).then(|| a.value(i)),
            Kinds::Null => None,
        }
    }
}

/// A parsed event kind: an order, or an interaction (a ticket's response
/// hours are read from the `value` column afterwards).
pub(super) enum EventKind {
    Order,
    Interaction(CompactKind),
}

pub(super) fn parse_kind(s: &str) -> Option<EventKind> {
    let is = |names: &[&str]| names.iter().any(|n| s.eq_ignore_ascii_case(n));
    Some(if is(&["order"]) {
        EventKind::Order
    } else if is(&["login"]) {
        EventKind::Interaction(CompactKind::Login)
    } else if is(&["visit"]) {
        EventKind::Interaction(CompactKind::Visit)
    } else if is(&["support_ticket", "ticket", "support"]) {
        EventKind::Interaction(CompactKind::SupportTicket(-1.0))
    } else if is(&["complaint"]) {
        EventKind::Interaction(CompactKind::Complaint(ComplaintTopic::default()))
    } else if is(&["campaign_response", "campaign"]) {
        EventKind::Interaction(CompactKind::CampaignResponse(0))
    } else if is(&["cancellation", "cancel"]) {
        EventKind::Interaction(CompactKind::Cancellation)
    } else {
        return None;
    })
}

pub(super) fn null_signup<T>(ctx: &Ctx) -> Result<T> {
    exec_err!(
        "{}: column `{}` is null; every row needs the customer's signup time",
        ctx.function,
        ctx.column(0)
    )
}

pub(super) fn amount_at(ctx: &Ctx, col: usize, a: &Float64Array, i: usize) -> Result<f64> {
    if a.is_null(i) {
        return exec_err!(
            "{}: column `{}` is null on a row with an order time",
            ctx.function,
            ctx.column(col)
        );
    }
    let v = a.value(i);
    if !v.is_finite() {
        return exec_err!(
            "{}: column `{}` has a non-finite amount {v}",
            ctx.function,
            ctx.column(col)
        );
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_like_the_core_reader() {
        assert!(matches!(parse_kind("ORDER"), Some(EventKind::Order)));
        assert!(matches!(
            parse_kind("ticket"),
            Some(EventKind::Interaction(CompactKind::SupportTicket(_)))
        ));
        assert!(matches!(
            parse_kind("cancel"),
            Some(EventKind::Interaction(CompactKind::Cancellation))
        ));
        assert!(parse_kind("refund").is_none());
    }
}
