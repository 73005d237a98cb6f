//! Aggregate functions: point-in-time churn features and the CLV (RFM)
//! summary per customer, computed from event rows with `GROUP BY customer_id`.
//!
//! - [`ChurnFeatures`] (SQL `churn_features`) computes the features of a
//!   [`FeatureSpec`] as of a [`Snapshot`], bit-identical to
//!   [`FeatureSpec::extract`] on the same records, whatever the partitioning.
//! - [`RfmSummary`] (SQL `rfm_summary`) computes the repeat purchases,
//!   recency, age and mean repeat value that [`Calibration::summarize`]
//!   computes.
//!
//! Both keep each customer's raw events as their state (lists that merge
//! across partitions by appending) and sort them in the final step the way
//! a `History` does, so the floating-point sums run in the same order as in
//! process.
//!
//! # Times
//!
//! Time arguments may be `Timestamp` (any unit, with or without time zone:
//! the stored UTC instant is used), `Date32`/`Date64` (midnight UTC) or
//! integers (microseconds since the Unix epoch). Nanoseconds are floored to
//! microseconds, as the core does.
//!
//! # Nulls
//!
//! A customer without orders appears after a `LEFT JOIN` as one row with null
//! event columns: a row whose event time is null is **no event** (only its
//! signup counts). Any other null is an error naming the column: a null
//! signup, a null amount (or event kind, or order value) on a row with an
//! event time. Non-finite amounts are errors too.

use std::hash::{Hash, Hasher};
use std::mem::size_of;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use churnwise::clv::{Calibration, purchase_occasions};
use churnwise::features::{
    CompactKind, CustomerEvents, EventFeatures, FeatureSpec, Snapshot, cmp_interactions, cmp_orders,
};
use churnwise::records::ComplaintTopic;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, ListArray, StructArray,
    UInt8Array,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Field, FieldRef, Fields, Float64Type, Int64Type,
    TimeUnit as ArrowTimeUnit, UInt8Type,
};
use datafusion::arrow::error::ArrowError;
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::{AggregateOrderSensitivity, format_state_name};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};

use crate::wire::Portable;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The name `churn_features` is registered under.
const FEATURES_NAME: &str = "churn_features";
/// The name `rfm_summary` is registered under.
const RFM_NAME: &str = "rfm_summary";

/// Interaction kind codes of the state (the core's order of kinds).
const LOGIN: u8 = 0;
const VISIT: u8 = 1;
const TICKET: u8 = 2;
const COMPLAINT: u8 = 3;
const CAMPAIGN: u8 = 4;
const CANCELLATION: u8 = 5;

/// The point-in-time features of a [`FeatureSpec`] per customer, as an
/// aggregate (SQL `churn_features`).
///
/// Two forms:
///
/// - `churn_features(signup, order_time, amount)` over order rows, for specs
///   whose features read only the signup time and the orders (RFM, order
///   windows, spend, tenure, ...);
/// - `churn_features(signup, event_time, event_kind, value)` over orders and
///   interactions together (a `UNION ALL`), where `event_kind` is `'order'`
///   (then `value` is the amount) or one of the core's interaction kinds
///   `login`, `visit`, `support_ticket` (`value`: hours to first response,
///   null or negative while unanswered), `complaint`, `campaign_response`,
///   `cancellation` (aliases and case as the core's Arrow reader accepts;
///   `value` ignored). Complaint topics and campaign names do not affect
///   any feature, so they are not arguments.
///
/// The result is a struct with one non-null `Float64` field per feature,
/// named as [`FeatureTable`](churnwise::features::FeatureTable)'s columns:
/// `churn_features(...)['recency_days']`. The struct is null for a customer
/// who had not signed up by the as-of time ([`FeatureSpec::extract`] leaves
/// such customers out). Events after the as-of time are ignored, as in
/// process. The values are bit-identical to `FeatureSpec::extract` on a
/// `History` of the same records, for any partitioning and row order.
///
/// Features that read customer attributes, feedback or subscriptions are
/// rejected by [`ChurnFeatures::new`]; features that read interactions need
/// the four-argument form (an error at planning otherwise).
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::{FeatureSpec, Snapshot};
/// use churnwise_datafusion::aggregate::ChurnFeatures;
/// use datafusion::logical_expr::AggregateUDF;
/// use datafusion::prelude::SessionContext;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let snapshot = Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap());
/// let features = ChurnFeatures::new(&FeatureSpec::rfm(), &snapshot)?;
/// let ctx = SessionContext::new();
/// ctx.register_udaf(AggregateUDF::new_from_impl(features));
/// let df = ctx
///     .sql(
///         "SELECT id, churn_features(signup, t, amount)['orders_total'] AS n
///          FROM (VALUES (1, DATE '2024-01-01', DATE '2024-02-01', 10.0),
///                       (1, DATE '2024-01-01', DATE '2024-03-01', 20.0),
///                       (1, DATE '2024-01-01', DATE '2024-08-01', 30.0))
///               AS o(id, signup, t, amount)
///          GROUP BY id",
///     )
///     .await?;
/// let batches = df.collect().await?;
/// let n = batches[0].column(1).as_any().downcast_ref::<datafusion::arrow::array::Float64Array>().unwrap();
/// assert_eq!(n.value(0), 2.0); // the August order is after the as-of time
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ChurnFeatures {
    spec: FeatureSpec,
    snapshot: Snapshot,
    json: Arc<str>,
    fingerprint: u64,
    signature: Signature,
    /// What the accumulators share.
    plan: Arc<FeaturePlan>,
}

/// The resolved features of a [`ChurnFeatures`].
#[derive(Debug)]
struct FeaturePlan {
    events: EventFeatures,
    as_of: i64,
    fields: Fields,
}

impl ChurnFeatures {
    /// The aggregate for the features of `spec` as of `snapshot`.
    ///
    /// # Errors
    ///
    /// As for [`FeatureSpec::resolve`] (an unknown feature name, an invalid
    /// snapshot), and [`churnwise::ErrorKind::InvalidParameter`] naming the
    /// first feature that reads customer attributes, feedback or
    /// subscriptions, which event rows do not carry.
    pub fn new(spec: &FeatureSpec, snapshot: &Snapshot) -> churnwise::Result<Self> {
        let features = spec.resolve(snapshot)?;
        let events = EventFeatures::new(&features)?;
        let fields: Fields = features
            .iter()
            .map(|f| Field::new(f.name(), DataType::Float64, false))
            .collect();
        let json = serde_json::json!({ "spec": spec, "snapshot": snapshot }).to_string();
        Ok(ChurnFeatures {
            spec: spec.clone(),
            snapshot: snapshot.clone(),
            fingerprint: crate::wire::fingerprint(json.as_bytes()),
            json: json.into(),
            signature: Signature::user_defined(Volatility::Immutable),
            plan: Arc::new(FeaturePlan {
                events,
                as_of: snapshot.as_of().timestamp_micros(),
                fields,
            }),
        })
    }

    /// The feature spec.
    pub fn spec(&self) -> &FeatureSpec {
        &self.spec
    }

    /// The snapshot (as-of time and windows).
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The names of the result's fields, one per feature, in spec order.
    pub fn feature_names(&self) -> impl ExactSizeIterator<Item = &str> {
        self.plan.fields.iter().map(|f| f.name().as_str())
    }

    fn form(&self, arity: usize) -> Result<Form> {
        match arity {
            3 => match self.plan.events.interaction_feature() {
                Some(f) => plan_err!(
                    "{FEATURES_NAME}: feature `{f}` reads interactions; use the form \
                     {FEATURES_NAME}(signup, event_time, event_kind, value) over orders and \
                     interactions"
                ),
                None => Ok(Form::Orders),
            },
            4 => Ok(Form::Events),
            n => plan_err!(
                "{FEATURES_NAME} takes (signup, order_time, amount) or (signup, event_time, \
                 event_kind, value), got {n} arguments"
            ),
        }
    }

    fn ctx(&self, args: &AccumulatorArgs) -> Result<Arc<Ctx>> {
        let form = self.form(args.expr_fields.len())?;
        Ok(Arc::new(Ctx {
            function: FEATURES_NAME,
            form,
            signup: true,
            columns: args.expr_fields.iter().map(|f| f.name().clone()).collect(),
            keep_until: self.plan.as_of,
            output: Output::Features(Arc::clone(&self.plan)),
        }))
    }
}

impl PartialEq for ChurnFeatures {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint && self.json == other.json
    }
}

impl Eq for ChurnFeatures {}

impl Hash for ChurnFeatures {
    fn hash<H: Hasher>(&self, state: &mut H) {
        FEATURES_NAME.hash(state);
        self.fingerprint.hash(state);
    }
}

impl Portable for ChurnFeatures {
    const TAG: &'static str = FEATURES_NAME;

    fn to_json(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.json).map_err(|e| DataFusionError::External(Box::new(e)))
    }

    fn from_json(value: serde_json::Value) -> Result<Self> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct State {
            spec: FeatureSpec,
            snapshot: Snapshot,
        }
        let s: State = serde_json::from_value(value).map_err(|e| {
            DataFusionError::Execution(format!("cannot decode {FEATURES_NAME}: {e}"))
        })?;
        ChurnFeatures::new(&s.spec, &s.snapshot)
            .map_err(|e| DataFusionError::Execution(format!("{FEATURES_NAME}: {e}")))
    }
}

impl AggregateUDFImpl for ChurnFeatures {
    fn name(&self) -> &str {
        FEATURES_NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let form = self.form(arg_types.len())?;
        let roles: &[Role] = match form {
            Form::Orders => &[
                Role::Time("signup"),
                Role::Time("order_time"),
                Role::Number("amount"),
            ],
            Form::Events => &[
                Role::Time("signup"),
                Role::Time("event_time"),
                Role::Text("event_kind"),
                Role::Number("value"),
            ],
        };
        coerce(FEATURES_NAME, roles, arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.form(arg_types.len())?;
        Ok(DataType::Struct(self.plan.fields.clone()))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(EventsAccumulator::new(self.ctx(&args)?)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let form = self.form(args.input_fields.len())?;
        Ok(state_fields(args.name, true, form))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(EventsGroups::new(self.ctx(&args)?)))
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        AggregateOrderSensitivity::Insensitive
    }
}

/// The per-customer summary the customer-base (BG/NBD, Gamma-Gamma) models
/// read, as an aggregate (SQL `rfm_summary(order_time, amount)`), equal to
/// [`Calibration::summarize`] on the same orders.
///
/// The result is a struct `{frequency: Int64, recency: Float64, age:
/// Float64, monetary: Float64}` (plus `holdout_purchases: Int64` when the
/// calibration has a holdout period), in the calibration's time unit and
/// with its whole-day conventions: repeat purchase days, the time from the
/// first to the last purchase day, from the first purchase day to the
/// calibration day, and the mean value of the repeat purchase days. The
/// struct is null for a customer without a purchase on or before the
/// calibration day (the core leaves those out). Refunds (negative amounts)
/// are not purchases.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::clv::Calibration;
/// use churnwise_datafusion::aggregate::RfmSummary;
/// use datafusion::logical_expr::AggregateUDF;
/// use datafusion::prelude::SessionContext;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let end = Utc.with_ymd_and_hms(2024, 1, 29, 0, 0, 0).unwrap();
/// let ctx = SessionContext::new();
/// ctx.register_udaf(AggregateUDF::new_from_impl(RfmSummary::new(Calibration::new(end))));
/// let df = ctx
///     .sql(
///         "SELECT rfm_summary(t, amount)['recency'] AS r
///          FROM (VALUES (DATE '2024-01-01', 10.0), (DATE '2024-01-08', 30.0),
///                       (DATE '2024-01-15', 50.0)) AS o(t, amount)",
///     )
///     .await?;
/// let batches = df.collect().await?;
/// let r = batches[0].column(0).as_any().downcast_ref::<datafusion::arrow::array::Float64Array>().unwrap();
/// assert_eq!(r.value(0), 14.0); // days from the first to the last purchase
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct RfmSummary {
    calibration: Calibration,
    json: Arc<str>,
    fingerprint: u64,
    signature: Signature,
    plan: Arc<RfmPlan>,
}

/// The day bounds of an [`RfmSummary`].
#[derive(Debug)]
struct RfmPlan {
    end_day: i64,
    holdout_day: Option<i64>,
    per_unit: f64,
    fields: Fields,
}

impl RfmSummary {
    /// The aggregate for `calibration` (its end, time unit and holdout).
    pub fn new(calibration: Calibration) -> Self {
        let json = serde_json::json!({ "calibration": calibration }).to_string();
        let holdout_end = calibration.holdout_end_value();
        let unit = calibration.unit_value();
        let mut fields = vec![
            Field::new("frequency", DataType::Int64, false),
            Field::new("recency", DataType::Float64, false),
            Field::new("age", DataType::Float64, false),
            Field::new("monetary", DataType::Float64, false),
        ];
        if holdout_end.is_some() {
            fields.push(Field::new("holdout_purchases", DataType::Int64, false));
        }
        let day = |t: DateTime<Utc>| t.timestamp_micros().div_euclid(MICROS_PER_DAY);
        RfmSummary {
            plan: Arc::new(RfmPlan {
                end_day: day(calibration.end()),
                holdout_day: holdout_end.map(day),
                per_unit: unit.days(),
                fields: fields.into(),
            }),
            calibration,
            fingerprint: crate::wire::fingerprint(json.as_bytes()),
            json: json.into(),
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// The calibration period.
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    fn ctx(&self, args: &AccumulatorArgs) -> Result<Arc<Ctx>> {
        arity(RFM_NAME, args.expr_fields.len())?;
        let last_day = self.plan.holdout_day.unwrap_or(self.plan.end_day);
        Ok(Arc::new(Ctx {
            function: RFM_NAME,
            form: Form::Orders,
            signup: false,
            columns: args.expr_fields.iter().map(|f| f.name().clone()).collect(),
            keep_until: last_day
                .saturating_add(1)
                .saturating_mul(MICROS_PER_DAY)
                .saturating_sub(1),
            output: Output::Rfm(Arc::clone(&self.plan)),
        }))
    }
}

fn arity(function: &str, n: usize) -> Result<()> {
    if n == 2 {
        Ok(())
    } else {
        plan_err!("{function} takes (order_time, amount), got {n} arguments")
    }
}

impl PartialEq for RfmSummary {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint && self.json == other.json
    }
}

impl Eq for RfmSummary {}

impl Hash for RfmSummary {
    fn hash<H: Hasher>(&self, state: &mut H) {
        RFM_NAME.hash(state);
        self.fingerprint.hash(state);
    }
}

impl Portable for RfmSummary {
    const TAG: &'static str = RFM_NAME;

    fn to_json(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.json).map_err(|e| DataFusionError::External(Box::new(e)))
    }

    fn from_json(value: serde_json::Value) -> Result<Self> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct State {
            calibration: Calibration,
        }
        let s: State = serde_json::from_value(value)
            .map_err(|e| DataFusionError::Execution(format!("cannot decode {RFM_NAME}: {e}")))?;
        Ok(RfmSummary::new(s.calibration))
    }
}

impl AggregateUDFImpl for RfmSummary {
    fn name(&self) -> &str {
        RFM_NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        arity(RFM_NAME, arg_types.len())?;
        coerce(
            RFM_NAME,
            &[Role::Time("order_time"), Role::Number("amount")],
            arg_types,
        )
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        arity(RFM_NAME, arg_types.len())?;
        Ok(DataType::Struct(self.plan.fields.clone()))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(EventsAccumulator::new(self.ctx(&args)?)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(args.name, false, Form::Orders))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(EventsGroups::new(self.ctx(&args)?)))
    }

    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        AggregateOrderSensitivity::Insensitive
    }
}

/// The kind of an argument, for coercion.
#[derive(Clone, Copy)]
enum Role {
    Time(&'static str),
    Number(&'static str),
    Text(&'static str),
}

fn coerce(function: &str, roles: &[Role], types: &[DataType]) -> Result<Vec<DataType>> {
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

/// The arguments' layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `(signup, order_time, amount)` (RFM: `(order_time, amount)`).
    Orders,
    /// `(signup, event_time, event_kind, value)`.
    Events,
}

fn list_field(item: DataType) -> FieldRef {
    Arc::new(Field::new_list_field(item, true))
}

fn state_fields(name: &str, signup: bool, form: Form) -> Vec<FieldRef> {
    let list = |n: &str, item: DataType| {
        Arc::new(Field::new(
            format_state_name(name, n),
            DataType::List(list_field(item)),
            true,
        ))
    };
    let mut fields = Vec::new();
    if signup {
        fields.push(Arc::new(Field::new(
            format_state_name(name, "signup"),
            DataType::Int64,
            true,
        )));
    }
    fields.push(list("order_times", DataType::Int64));
    fields.push(list("amounts", DataType::Float64));
    if form == Form::Events {
        fields.push(list("interaction_times", DataType::Int64));
        fields.push(list("interaction_kinds", DataType::UInt8));
        fields.push(list("response_hours", DataType::Float64));
    }
    fields
}

/// What the final step computes.
#[derive(Debug)]
enum Output {
    Features(Arc<FeaturePlan>),
    Rfm(Arc<RfmPlan>),
}

/// What an accumulator needs to read its arguments and finish.
#[derive(Debug)]
struct Ctx {
    function: &'static str,
    form: Form,
    /// Whether the first argument is the signup time.
    signup: bool,
    /// The argument columns' names, for errors.
    columns: Vec<String>,
    /// Events after this time (µs) cannot change the result and are not kept.
    keep_until: i64,
    output: Output,
}

impl Ctx {
    fn column(&self, i: usize) -> &str {
        self.columns.get(i).map_or("?", String::as_str)
    }
}

/// Converts a time column to microseconds since the epoch.
fn micros(ctx: &Ctx, i: usize, a: &ArrayRef) -> Result<Int64Array> {
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

fn floats(ctx: &Ctx, i: usize, a: &ArrayRef) -> Result<Float64Array> {
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
enum Kinds<'a> {
    Utf8(&'a datafusion::arrow::array::StringArray),
    View(&'a datafusion::arrow::array::StringViewArray),
    Null,
}

impl Kinds<'_> {
    fn get(&self, i: usize) -> Option<&str> {
        match self {
            Kinds::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Kinds::View(a) => a.is_valid(i).then(|| a.value(i)),
            Kinds::Null => None,
        }
    }
}

/// A parsed event kind: an order, or an interaction code.
enum EventKind {
    Order,
    Interaction(u8),
}

fn parse_kind(s: &str) -> Option<EventKind> {
    let is = |names: &[&str]| names.iter().any(|n| s.eq_ignore_ascii_case(n));
    Some(if is(&["order"]) {
        EventKind::Order
    } else if is(&["login"]) {
        EventKind::Interaction(LOGIN)
    } else if is(&["visit"]) {
        EventKind::Interaction(VISIT)
    } else if is(&["support_ticket", "ticket", "support"]) {
        EventKind::Interaction(TICKET)
    } else if is(&["complaint"]) {
        EventKind::Interaction(COMPLAINT)
    } else if is(&["campaign_response", "campaign"]) {
        EventKind::Interaction(CAMPAIGN)
    } else if is(&["cancellation", "cancel"]) {
        EventKind::Interaction(CANCELLATION)
    } else {
        return None;
    })
}

fn compact(code: u8, hours: f64) -> CompactKind {
    match code {
        LOGIN => CompactKind::Login,
        VISIT => CompactKind::Visit,
        TICKET => CompactKind::SupportTicket(hours),
        COMPLAINT => CompactKind::Complaint(ComplaintTopic::default()),
        CAMPAIGN => CompactKind::CampaignResponse(0),
        _ => CompactKind::Cancellation,
    }
}

/// The raw events of many groups, in arrival order, with their group index.
#[derive(Debug, Clone, Default)]
struct Store {
    /// Per group: the signup time (µs), when seen.
    signup: Vec<Option<i64>>,
    order_group: Vec<u32>,
    order_times: Vec<i64>,
    amounts: Vec<f64>,
    interaction_group: Vec<u32>,
    interaction_times: Vec<i64>,
    interaction_codes: Vec<u8>,
    response_hours: Vec<f64>,
}

/// The events of the first groups of a [`Store`], grouped: group `g`'s
/// events are at `offsets[g]..offsets[g + 1]`.
struct Taken {
    signup: Vec<Option<i64>>,
    order_offsets: Vec<usize>,
    orders: Vec<(i64, f64)>,
    interaction_offsets: Vec<usize>,
    interactions: Vec<(i64, u8, f64)>,
}

fn group_u32(ctx: &Ctx, g: usize) -> Result<u32> {
    u32::try_from(g)
        .map_err(|_| DataFusionError::Execution(format!("{}: more than 2^32 groups", ctx.function)))
}

/// Takes the events of groups `< n` out of `groups`/`cols` (a counting sort),
/// renumbering the rest from 0.
fn take_grouped<T: Copy + Default>(
    n: usize,
    groups: &mut Vec<u32>,
    mut item: impl FnMut(usize) -> T,
    mut keep: impl FnMut(&[bool]),
) -> (Vec<usize>, Vec<T>) {
    let mut offsets = vec![0usize; n + 1];
    for &g in groups.iter() {
        let g = g as usize;
        if g < n {
            offsets[g + 1] += 1;
        }
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let total = offsets[n];
    let mut next = offsets.clone();
    let mut out: Vec<T> = vec![T::default(); total];
    let all = total == groups.len();
    let mut taken = if all {
        Vec::new()
    } else {
        vec![false; groups.len()]
    };
    for (i, &g) in groups.iter().enumerate() {
        let g = g as usize;
        if g < n {
            out[next[g]] = item(i);
            next[g] += 1;
            if !all {
                taken[i] = true;
            }
        }
    }
    if all {
        groups.clear();
        keep(&[]);
    } else {
        keep(&taken);
        let n32 = n as u32;
        let mut rest = Vec::with_capacity(groups.len() - total);
        for (i, &g) in groups.iter().enumerate() {
            if !taken[i] {
                rest.push(g - n32);
            }
        }
        *groups = rest;
    }
    (offsets, out)
}

/// Keeps the entries of `v` not marked in `taken` (all cleared when `taken` is empty).
fn retain_untaken<T>(v: &mut Vec<T>, taken: &[bool]) {
    if taken.is_empty() {
        v.clear();
    } else {
        let mut i = 0;
        v.retain(|_| {
            let keep = !taken[i];
            i += 1;
            keep
        });
    }
}

impl Store {
    fn size(&self) -> usize {
        self.signup.capacity() * size_of::<Option<i64>>()
            + self.order_group.capacity() * 4
            + self.order_times.capacity() * 8
            + self.amounts.capacity() * 8
            + self.interaction_group.capacity() * 4
            + self.interaction_times.capacity() * 8
            + self.interaction_codes.capacity()
            + self.response_hours.capacity() * 8
    }

    fn set_signup(&mut self, ctx: &Ctx, g: usize, t: i64) -> Result<()> {
        match self.signup[g] {
            None => self.signup[g] = Some(t),
            Some(s) if s == t => {}
            Some(s) => {
                return exec_err!(
                    "{}: column `{}` has two values in one group ({s} and {t} µs); a \
                     customer has one signup time",
                    ctx.function,
                    ctx.column(0)
                );
            }
        }
        Ok(())
    }

    fn push_order(&mut self, ctx: &Ctx, g: usize, t: i64, amount: f64) -> Result<()> {
        if t <= ctx.keep_until {
            self.order_group.push(group_u32(ctx, g)?);
            self.order_times.push(t);
            self.amounts.push(amount);
        }
        Ok(())
    }

    /// Adds input rows (the aggregate's arguments).
    fn update(
        &mut self,
        ctx: &Ctx,
        values: &[ArrayRef],
        groups: &[usize],
        filter: Option<&BooleanArray>,
        total: usize,
    ) -> Result<()> {
        if self.signup.len() < total {
            self.signup.resize(total, None);
        }
        let first = usize::from(ctx.signup);
        let want = first + if ctx.form == Form::Events { 3 } else { 2 };
        if values.len() != want {
            return exec_err!(
                "{}: expected {want} arguments, got {}",
                ctx.function,
                values.len()
            );
        }
        let signup = if ctx.signup {
            Some(micros(ctx, 0, &values[0])?)
        } else {
            None
        };
        let time = micros(ctx, first, &values[first])?;
        let selected = |i: usize| filter.is_none_or(|f| f.is_valid(i) && f.value(i));
        match ctx.form {
            Form::Orders => {
                let amount = floats(ctx, first + 1, &values[first + 1])?;
                for (i, &g) in groups.iter().enumerate() {
                    if !selected(i) {
                        continue;
                    }
                    if let Some(s) = &signup {
                        if s.is_null(i) {
                            return null_signup(ctx);
                        }
                        self.set_signup(ctx, g, s.value(i))?;
                    }
                    if time.is_null(i) {
                        continue;
                    }
                    let a = amount_at(ctx, first + 1, &amount, i)?;
                    self.push_order(ctx, g, time.value(i), a)?;
                }
            }
            Form::Events => {
                let kinds = match values[first + 1].data_type() {
                    DataType::Utf8 => Kinds::Utf8(values[first + 1].as_string::<i32>()),
                    DataType::Utf8View => Kinds::View(values[first + 1].as_string_view()),
                    DataType::Null => Kinds::Null,
                    t => {
                        return exec_err!(
                            "{}: column `{}` must be text, got {t}",
                            ctx.function,
                            ctx.column(first + 1)
                        );
                    }
                };
                let value = floats(ctx, first + 2, &values[first + 2])?;
                for (i, &g) in groups.iter().enumerate() {
                    if !selected(i) {
                        continue;
                    }
                    if let Some(s) = &signup {
                        if s.is_null(i) {
                            return null_signup(ctx);
                        }
                        self.set_signup(ctx, g, s.value(i))?;
                    }
                    if time.is_null(i) {
                        continue;
                    }
                    let t = time.value(i);
                    let Some(k) = kinds.get(i) else {
                        return exec_err!(
                            "{}: column `{}` is null on a row with an event time",
                            ctx.function,
                            ctx.column(first + 1)
                        );
                    };
                    match parse_kind(k) {
                        Some(EventKind::Order) => {
                            let a = amount_at(ctx, first + 2, &value, i)?;
                            self.push_order(ctx, g, t, a)?;
                        }
                        Some(EventKind::Interaction(code)) => {
                            let h = if code == TICKET && value.is_valid(i) {
                                let h = value.value(i);
                                if !h.is_finite() {
                                    return exec_err!(
                                        "{}: column `{}` has a non-finite response time {h}",
                                        ctx.function,
                                        ctx.column(first + 2)
                                    );
                                }
                                if h < 0.0 { -1.0 } else { h }
                            } else {
                                -1.0
                            };
                            if t <= ctx.keep_until {
                                self.interaction_group.push(group_u32(ctx, g)?);
                                self.interaction_times.push(t);
                                self.interaction_codes.push(code);
                                self.response_hours.push(h);
                            }
                        }
                        None => {
                            return exec_err!(
                                "{}: column `{}` has unknown event kind {k:?} (expected order, \
                                 login, visit, support_ticket, complaint, campaign_response or \
                                 cancellation)",
                                ctx.function,
                                ctx.column(first + 1)
                            );
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Adds partial states (the columns of [`state_fields`]).
    fn merge(
        &mut self,
        ctx: &Ctx,
        values: &[ArrayRef],
        groups: &[usize],
        total: usize,
    ) -> Result<()> {
        if self.signup.len() < total {
            self.signup.resize(total, None);
        }
        let first = usize::from(ctx.signup);
        if let Some(s) = ctx.signup.then(|| values[0].as_primitive::<Int64Type>()) {
            for (i, &g) in groups.iter().enumerate() {
                if s.is_valid(i) {
                    self.set_signup(ctx, g, s.value(i))?;
                }
            }
        }
        let list = |k: usize| -> Result<&ListArray> {
            values
                .get(first + k)
                .and_then(|a| a.as_list_opt::<i32>())
                .ok_or_else(|| {
                    DataFusionError::Internal(format!("{}: malformed state", ctx.function))
                })
        };
        let (ot, oa) = (list(0)?, list(1)?);
        let (otv, oav) = (
            ot.values().as_primitive::<Int64Type>(),
            oa.values().as_primitive::<Float64Type>(),
        );
        for (i, &g) in groups.iter().enumerate() {
            let g32 = group_u32(ctx, g)?;
            let (lo, hi) = (
                ot.value_offsets()[i] as usize,
                ot.value_offsets()[i + 1] as usize,
            );
            let alo = oa.value_offsets()[i] as usize;
            for j in lo..hi {
                self.order_group.push(g32);
                self.order_times.push(otv.value(j));
                self.amounts.push(oav.value(alo + j - lo));
            }
        }
        if ctx.form == Form::Events {
            let (it, ic, ih) = (list(2)?, list(3)?, list(4)?);
            let (itv, icv, ihv) = (
                it.values().as_primitive::<Int64Type>(),
                ic.values().as_primitive::<UInt8Type>(),
                ih.values().as_primitive::<Float64Type>(),
            );
            for (i, &g) in groups.iter().enumerate() {
                let g32 = group_u32(ctx, g)?;
                let (lo, hi) = (
                    it.value_offsets()[i] as usize,
                    it.value_offsets()[i + 1] as usize,
                );
                let clo = ic.value_offsets()[i] as usize;
                let hlo = ih.value_offsets()[i] as usize;
                for j in lo..hi {
                    self.interaction_group.push(g32);
                    self.interaction_times.push(itv.value(j));
                    self.interaction_codes.push(icv.value(clo + j - lo));
                    self.response_hours.push(ihv.value(hlo + j - lo));
                }
            }
        }
        Ok(())
    }

    /// Takes the events of the groups `emit_to` names, grouped.
    fn take(&mut self, emit_to: EmitTo) -> Taken {
        let signup = emit_to.take_needed(&mut self.signup);
        let n = signup.len();
        let (times, amounts) = (&self.order_times, &self.amounts);
        let mut taken_orders = Vec::new();
        let (order_offsets, orders) = take_grouped(
            n,
            &mut self.order_group,
            |i| (times[i], amounts[i]),
            |t| taken_orders = t.to_vec(),
        );
        retain_untaken(&mut self.order_times, &taken_orders);
        retain_untaken(&mut self.amounts, &taken_orders);
        let (times, codes, hours) = (
            &self.interaction_times,
            &self.interaction_codes,
            &self.response_hours,
        );
        let mut taken_interactions = Vec::new();
        let (interaction_offsets, interactions) = take_grouped(
            n,
            &mut self.interaction_group,
            |i| (times[i], codes[i], hours[i]),
            |t| taken_interactions = t.to_vec(),
        );
        retain_untaken(&mut self.interaction_times, &taken_interactions);
        retain_untaken(&mut self.interaction_codes, &taken_interactions);
        retain_untaken(&mut self.response_hours, &taken_interactions);
        Taken {
            signup,
            order_offsets,
            orders,
            interaction_offsets,
            interactions,
        }
    }

    fn state(&mut self, ctx: &Ctx, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let t = self.take(emit_to);
        let offsets = |o: &[usize]| -> Result<OffsetBuffer<i32>> {
            let o: Vec<i32> = o
                .iter()
                .map(|&x| i32::try_from(x))
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| {
                    DataFusionError::Execution(format!(
                        "{}: more than 2^31 events in one partial state",
                        ctx.function
                    ))
                })?;
            Ok(OffsetBuffer::new(ScalarBuffer::from(o)))
        };
        let list = |offsets: &OffsetBuffer<i32>, item: DataType, values: ArrayRef| -> ArrayRef {
            Arc::new(ListArray::new(
                list_field(item),
                offsets.clone(),
                values,
                None,
            ))
        };
        let mut out: Vec<ArrayRef> = Vec::new();
        if ctx.signup {
            out.push(Arc::new(t.signup.iter().copied().collect::<Int64Array>()));
        }
        let oo = offsets(&t.order_offsets)?;
        out.push(list(
            &oo,
            DataType::Int64,
            Arc::new(Int64Array::from_iter_values(t.orders.iter().map(|o| o.0))),
        ));
        out.push(list(
            &oo,
            DataType::Float64,
            Arc::new(Float64Array::from_iter_values(t.orders.iter().map(|o| o.1))),
        ));
        if ctx.form == Form::Events {
            let io = offsets(&t.interaction_offsets)?;
            out.push(list(
                &io,
                DataType::Int64,
                Arc::new(Int64Array::from_iter_values(
                    t.interactions.iter().map(|x| x.0),
                )),
            ));
            out.push(list(
                &io,
                DataType::UInt8,
                Arc::new(UInt8Array::from_iter_values(
                    t.interactions.iter().map(|x| x.1),
                )),
            ));
            out.push(list(
                &io,
                DataType::Float64,
                Arc::new(Float64Array::from_iter_values(
                    t.interactions.iter().map(|x| x.2),
                )),
            ));
        }
        Ok(out)
    }

    fn evaluate(&mut self, ctx: &Ctx, emit_to: EmitTo) -> Result<ArrayRef> {
        let mut t = self.take(emit_to);
        let n = t.signup.len();
        match &ctx.output {
            Output::Features(plan) => evaluate_features(plan, &mut t, n),
            Output::Rfm(plan) => evaluate_rfm(plan, &mut t, n),
        }
    }
}

fn null_signup<T>(ctx: &Ctx) -> Result<T> {
    exec_err!(
        "{}: column `{}` is null; every row needs the customer's signup time",
        ctx.function,
        ctx.column(0)
    )
}

fn amount_at(ctx: &Ctx, col: usize, a: &Float64Array, i: usize) -> Result<f64> {
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

fn evaluate_features(plan: &FeaturePlan, t: &mut Taken, n: usize) -> Result<ArrayRef> {
    let k = plan.events.len();
    let mut columns: Vec<Vec<f64>> = (0..k).map(|_| Vec::with_capacity(n)).collect();
    let mut valid = Vec::with_capacity(n);
    let mut row = vec![0.0; k];
    let (mut ot, mut oa, mut it, mut ik) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for g in 0..n {
        let signup = t.signup[g].filter(|&s| s <= plan.as_of);
        valid.push(signup.is_some());
        let Some(signup) = signup else {
            columns.iter_mut().for_each(|c| c.push(0.0));
            continue;
        };
        let orders = &mut t.orders[t.order_offsets[g]..t.order_offsets[g + 1]];
        orders.sort_unstable_by(|a, b| cmp_orders(*a, *b));
        ot.clear();
        oa.clear();
        ot.extend(orders.iter().map(|o| o.0));
        oa.extend(orders.iter().map(|o| o.1));
        it.clear();
        ik.clear();
        let inter = &t.interactions[t.interaction_offsets[g]..t.interaction_offsets[g + 1]];
        if !inter.is_empty() {
            let mut kinds: Vec<(i64, CompactKind)> =
                inter.iter().map(|&(t, c, h)| (t, compact(c, h))).collect();
            kinds.sort_unstable_by(|a, b| cmp_interactions(*a, *b));
            it.extend(kinds.iter().map(|x| x.0));
            ik.extend(kinds.iter().map(|x| x.1));
        }
        let events = CustomerEvents {
            signup_micros: signup,
            order_micros: &ot,
            amounts: &oa,
            interaction_micros: &it,
            interactions: &ik,
        };
        plan.events.fill(plan.as_of, &events, &mut row);
        for (c, v) in columns.iter_mut().zip(&row) {
            c.push(*v);
        }
    }
    let arrays: Vec<ArrayRef> = columns
        .into_iter()
        .map(|c| Arc::new(Float64Array::from(c)) as ArrayRef)
        .collect();
    let nulls = NullBuffer::from(valid);
    Ok(Arc::new(StructArray::try_new(
        plan.fields.clone(),
        arrays,
        Some(nulls),
    )?))
}

fn evaluate_rfm(plan: &RfmPlan, t: &mut Taken, n: usize) -> Result<ArrayRef> {
    let mut frequency = Vec::with_capacity(n);
    let mut recency = Vec::with_capacity(n);
    let mut age = Vec::with_capacity(n);
    let mut monetary = Vec::with_capacity(n);
    let mut holdout = Vec::with_capacity(n);
    let mut valid = Vec::with_capacity(n);
    for g in 0..n {
        let orders = &mut t.orders[t.order_offsets[g]..t.order_offsets[g + 1]];
        orders.sort_unstable_by(|a, b| cmp_orders(*a, *b));
        match purchase_occasions(orders.iter().copied(), plan.end_day, plan.holdout_day) {
            Some(o) => {
                valid.push(true);
                frequency.push(i64::from(o.repeats));
                recency.push((o.last - o.first) as f64 / plan.per_unit);
                age.push((plan.end_day - o.first) as f64 / plan.per_unit);
                monetary.push(o.mean_repeat_value());
                holdout.push(i64::from(o.holdout));
            }
            None => {
                valid.push(false);
                frequency.push(0);
                recency.push(0.0);
                age.push(0.0);
                monetary.push(0.0);
                holdout.push(0);
            }
        }
    }
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(frequency)),
        Arc::new(Float64Array::from(recency)),
        Arc::new(Float64Array::from(age)),
        Arc::new(Float64Array::from(monetary)),
    ];
    if plan.holdout_day.is_some() {
        arrays.push(Arc::new(Int64Array::from(holdout)));
    }
    Ok(Arc::new(StructArray::try_new(
        plan.fields.clone(),
        arrays,
        Some(NullBuffer::from(valid)),
    )?))
}

/// The native groups accumulator: flat event vectors for all groups.
#[derive(Debug)]
struct EventsGroups {
    ctx: Arc<Ctx>,
    store: Store,
}

impl EventsGroups {
    fn new(ctx: Arc<Ctx>) -> Self {
        EventsGroups {
            ctx,
            store: Store::default(),
        }
    }
}

impl GroupsAccumulator for EventsGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.store.update(
            &self.ctx,
            values,
            group_indices,
            opt_filter,
            total_num_groups,
        )
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        self.store.evaluate(&self.ctx, emit_to)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        self.store.state(&self.ctx, emit_to)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.store
            .merge(&self.ctx, values, group_indices, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let n = values.first().map_or(0, |a| a.len());
        let groups: Vec<usize> = (0..n).collect();
        let mut store = Store::default();
        store.update(&self.ctx, values, &groups, opt_filter, n)?;
        store.state(&self.ctx, EmitTo::All)
    }

    fn size(&self) -> usize {
        self.store.size()
    }
}

/// The plain accumulator (one group), for plans without grouping.
#[derive(Debug)]
struct EventsAccumulator {
    ctx: Arc<Ctx>,
    store: Store,
    zeros: Vec<usize>,
}

impl EventsAccumulator {
    fn new(ctx: Arc<Ctx>) -> Self {
        EventsAccumulator {
            ctx,
            store: Store {
                signup: vec![None],
                ..Store::default()
            },
            zeros: Vec::new(),
        }
    }

    fn zeros(&mut self, n: usize) -> Vec<usize> {
        let mut z = std::mem::take(&mut self.zeros);
        z.resize(n, 0);
        z
    }
}

impl Accumulator for EventsAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let z = self.zeros(values.first().map_or(0, |a| a.len()));
        let r = self.store.update(&self.ctx, values, &z, None, 1);
        self.zeros = z;
        r
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let a = self.store.clone().evaluate(&self.ctx, EmitTo::All)?;
        ScalarValue::try_from_array(&a, 0)
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.store.size() + self.zeros.capacity() * size_of::<usize>()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.store
            .clone()
            .state(&self.ctx, EmitTo::All)?
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let z = self.zeros(states.first().map_or(0, |a| a.len()));
        let r = self.store.merge(&self.ctx, states, &z, 1);
        self.zeros = z;
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_first_groups_renumbers_the_rest() {
        let mut groups = vec![2, 0, 1, 0, 3];
        let items = [20, 0, 10, 1, 30];
        let mut taken = Vec::new();
        let (offsets, out) = take_grouped(2, &mut groups, |i| items[i], |t| taken = t.to_vec());
        assert_eq!(offsets, [0, 2, 3]);
        assert_eq!(out, [0, 1, 10]);
        assert_eq!(groups, [0, 1]);
        let mut rest = items.to_vec();
        retain_untaken(&mut rest, &taken);
        assert_eq!(rest, [20, 30]);
    }

    fn orders_ctx() -> Ctx {
        use chrono::TimeZone;
        let snapshot = Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap());
        let f = ChurnFeatures::new(&FeatureSpec::rfm(), &snapshot).unwrap();
        Ctx {
            function: FEATURES_NAME,
            form: Form::Orders,
            signup: true,
            columns: vec!["signup".into(), "t".into(), "amount".into()],
            keep_until: f.plan.as_of,
            output: Output::Features(Arc::clone(&f.plan)),
        }
    }

    fn filled(ctx: &Ctx) -> Store {
        let day = MICROS_PER_DAY;
        let t0 = 1_700_000_000_000_000;
        let values: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![t0; 6])),
            Arc::new(Int64Array::from(vec![
                Some(t0 + day),
                Some(t0 + 2 * day),
                None,
                Some(t0 + 9 * day),
                Some(t0 + 3 * day),
                Some(t0 + 4 * day),
            ])),
            Arc::new(Float64Array::from(vec![1.5, 2.0, 0.0, -1.0, 4.25, 8.0])),
        ];
        let mut store = Store::default();
        store
            .update(ctx, &values, &[0, 1, 2, 1, 0, 3], None, 4)
            .unwrap();
        store
    }

    #[test]
    fn emitting_the_first_groups_then_the_rest_equals_emitting_all() {
        let ctx = orders_ctx();
        let all = filled(&ctx).evaluate(&ctx, EmitTo::All).unwrap();
        let mut store = filled(&ctx);
        let first = store.evaluate(&ctx, EmitTo::First(2)).unwrap();
        let rest = store.evaluate(&ctx, EmitTo::All).unwrap();
        assert_eq!((first.len(), rest.len()), (2, 2));
        assert_eq!(all.slice(0, 2).to_data(), first.to_data());
        assert_eq!(all.slice(2, 2).to_data(), rest.to_data());
        // Partial states of the first group, then the rest, merged into a new store.
        let mut store = filled(&ctx);
        let mut merged = Store::default();
        let s1 = store.state(&ctx, EmitTo::First(1)).unwrap();
        merged.merge(&ctx, &s1, &[0], 4).unwrap();
        let s2 = store.state(&ctx, EmitTo::All).unwrap();
        merged.merge(&ctx, &s2, &[1, 2, 3], 4).unwrap();
        assert_eq!(
            merged.evaluate(&ctx, EmitTo::All).unwrap().to_data(),
            all.to_data()
        );
    }

    #[test]
    fn kinds_parse_like_the_core_reader() {
        assert!(matches!(parse_kind("ORDER"), Some(EventKind::Order)));
        assert!(matches!(
            parse_kind("ticket"),
            Some(EventKind::Interaction(TICKET))
        ));
        assert!(matches!(
            parse_kind("cancel"),
            Some(EventKind::Interaction(CANCELLATION))
        ));
        assert!(parse_kind("refund").is_none());
    }

    #[test]
    fn portable_round_trip_keeps_equality() {
        use chrono::TimeZone;
        let snapshot = Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap());
        let f = ChurnFeatures::new(&FeatureSpec::rfm(), &snapshot).unwrap();
        let g = ChurnFeatures::from_json(f.to_json().unwrap()).unwrap();
        assert_eq!(f, g);
        let end = Utc.with_ymd_and_hms(2024, 6, 30, 0, 0, 0).unwrap();
        let r = RfmSummary::new(Calibration::new(end).unit(churnwise::clv::TimeUnit::Weeks));
        let s = RfmSummary::from_json(r.to_json().unwrap()).unwrap();
        assert_eq!(r, s);
        assert_eq!(s.plan.per_unit, 7.0);
        assert_ne!(r, RfmSummary::new(Calibration::new(end)));
    }
}
