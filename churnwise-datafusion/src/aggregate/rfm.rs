//! `rfm_summary`: the CLV (RFM) summary per customer.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use churnwise::clv::{Calibration, purchase_occasions};
use churnwise::features::cmp_orders;
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, GroupsAccumulator, Signature, Volatility,
};

use super::accumulator::{EventsAccumulator, EventsGroups};
use super::input::{Ctx, Role, arity, coerce};
use super::store::Taken;
use super::{Form, MICROS_PER_DAY, Output, RFM_NAME, state_fields};
use crate::wire::{Portable, State};

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
    pub(super) calibration: Calibration,
    pub(super) state: State,
    pub(super) signature: Signature,
    pub(super) plan: Arc<RfmPlan>,
}

/// The day bounds of an [`RfmSummary`].
#[derive(Debug)]
pub(super) struct RfmPlan {
    pub(super) end_day: i64,
    pub(super) holdout_day: Option<i64>,
    pub(super) per_unit: f64,
    pub(super) fields: Fields,
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
            state: State::new(json),
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// The calibration period.
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    pub(super) fn ctx(&self, args: &AccumulatorArgs) -> Result<Arc<Ctx>> {
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

impl PartialEq for RfmSummary {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state
    }
}

impl Eq for RfmSummary {}

impl Hash for RfmSummary {
    fn hash<H: Hasher>(&self, state: &mut H) {
        RFM_NAME.hash(state);
        self.state.hash(state);
    }
}

impl Portable for RfmSummary {
    const TAG: &'static str = RFM_NAME;

    fn to_json(&self) -> Result<serde_json::Value> {
        self.state
            .to_value()
            .map_err(|e| DataFusionError::External(Box::new(e)))
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

pub(super) fn evaluate_rfm(plan: &RfmPlan, t: &mut Taken, n: usize) -> Result<ArrayRef> {
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
