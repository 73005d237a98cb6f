//! `churn_features`: the point-in-time features of a `FeatureSpec` per customer.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use churnwise::features::{
    CompactKind, CustomerEvents, EventFeatures, FeatureSpec, Snapshot, cmp_interactions, cmp_orders,
};
use datafusion::arrow::array::{ArrayRef, Float64Array, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{DataFusionError, Result, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, GroupsAccumulator, Signature, Volatility,
};

use super::accumulator::{EventsAccumulator, EventsGroups};
use super::input::{Ctx, Role, coerce};
use super::store::Taken;
use super::{FEATURES_NAME, Form, Output, state_fields};
use crate::wire::{Portable, State};

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
    pub(super) spec: FeatureSpec,
    pub(super) snapshot: Snapshot,
    pub(super) state: State,
    pub(super) signature: Signature,
    /// What the accumulators share.
    pub(super) plan: Arc<FeaturePlan>,
}

/// The resolved features of a [`ChurnFeatures`].
#[derive(Debug)]
pub(super) struct FeaturePlan {
    pub(super) events: EventFeatures,
    pub(super) as_of: i64,
    pub(super) fields: Fields,
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
            state: State::new(json),
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

    pub(super) fn form(&self, arity: usize) -> Result<Form> {
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

    pub(super) fn ctx(&self, args: &AccumulatorArgs) -> Result<Arc<Ctx>> {
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
        self.state == other.state
    }
}

impl Eq for ChurnFeatures {}

impl Hash for ChurnFeatures {
    fn hash<H: Hasher>(&self, state: &mut H) {
        FEATURES_NAME.hash(state);
        self.state.hash(state);
    }
}

impl Portable for ChurnFeatures {
    const TAG: &'static str = FEATURES_NAME;

    fn to_json(&self) -> Result<serde_json::Value> {
        self.state
            .to_value()
            .map_err(|e| DataFusionError::External(Box::new(e)))
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

pub(super) fn evaluate_features(plan: &FeaturePlan, t: &mut Taken, n: usize) -> Result<ArrayRef> {
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
            // Codes may come from another process's partial state.
            let mut kinds = inter
                .iter()
                .map(|&(t, c, h)| match CompactKind::from_code(c, h) {
                    Some(kind) => Ok((t, kind)),
                    None => exec_err!("{FEATURES_NAME}: unknown interaction code {c} in a state"),
                })
                .collect::<Result<Vec<(i64, CompactKind)>>>()?;
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
