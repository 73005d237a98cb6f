//! Scalar SQL functions built from churnwise's fitted, saved objects.
//!
//! Each function carries its fitted object (a scorer, RFM edges, a policy,
//! a BG/NBD fit) and computes exactly what the core computes in process:
//!
//! | SQL | struct | from | returns |
//! |---|---|---|---|
//! | `churn_score(<features>)` | [`ChurnScore`] | [`ChurnScorer`](churnwise::score::ChurnScorer) | Float64 churn probability |
//! | `rfm_segment(<recency>, <frequency>)` | [`RfmSegmentUdf`] | [`FittedRfm`](churnwise::segment::FittedRfm) | Utf8 segment name |
//! | `lifecycle_stage(<7 features> [, churn_probability])` | [`LifecycleStageUdf`] | [`LifecyclePolicy`](churnwise::segment::LifecyclePolicy) | Utf8 stage name |
//! | `p_alive(frequency, recency, T)` | [`PAlive`] | [`FittedBetaGeo`](churnwise::clv::FittedBetaGeo) | Float64 |
//! | `expected_purchases(frequency, recency, T, horizon)` | [`ExpectedPurchases`] | [`FittedBetaGeo`](churnwise::clv::FittedBetaGeo) | Float64 |
//! | `clv(frequency, recency, T, monetary)` | [`ClvUdf`] | BG/NBD + [`FittedGammaGamma`](churnwise::clv::FittedGammaGamma) + [`Clv`](churnwise::clv::Clv) | Float64 |
//! | `churn_alerts(<profile fields>)` | [`ChurnAlerts`] | [`AlertPolicy`](churnwise::alert::AlertPolicy) | Struct {rule_ids, severity, route} |
//!
//! Build them all at once with
//! [`ChurnwiseFunctions`](crate::ChurnwiseFunctions), or one at a time with
//! each struct's `new` and [`ScalarUDF::new_from_impl`](datafusion::logical_expr::ScalarUDF::new_from_impl).
//!
//! # Arguments by name
//!
//! `churn_score`, `rfm_segment`, `lifecycle_stage` and `churn_alerts`
//! match their arguments to the inputs the fitted object reads **by name,
//! in any order**, when the query is planned: a missing input, an argument
//! that is not an input, an input given twice or an argument of the wrong
//! type is a plan error naming the function and the column, before any data
//! is read. The name of an argument is
//!
//! - a column's name, without its table qualifier;
//! - for `CAST(x AS ..)`, `TRY_CAST` and `x::DOUBLE`, the name of `x`;
//! - for a struct field `f['recency_days']` (or `get_field(f, 'recency_days')`), the field's name;
//! - for a `churn_score(..)` call, `churn_probability`.
//!
//! Any other expression (arithmetic, a literal, another function) has no
//! input name: compute it in a subquery or CTE under the input's name. Once
//! matched, the call is rewritten with its arguments in input order, so the
//! optimizer's later renames do not matter. The BG/NBD functions take their
//! arguments by position.
//!
//! # Bad input
//!
//! A null (or NaN, or infinite number) in an argument is an execution error
//! naming the function and the column, never a null or NaN result. Numbers
//! of any numeric type are read as Float64.
//!
//! # Equality
//!
//! Two functions are equal when they have the same name, the same fitted
//! object (compared through its canonical JSON; hashed by a 64-bit
//! fingerprint of it) and the same argument binding, as DataFusion requires
//! of a [`ScalarUDFImpl`](datafusion::logical_expr::ScalarUDFImpl).

mod alerts;
pub(crate) mod args;
mod clv;
mod score;
mod segment;

use std::fmt::Debug;
use std::hash::{Hash, Hasher};

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::{Signature, Volatility};

pub use alerts::ChurnAlerts;
pub use clv::{ClvUdf, ExpectedPurchases, PAlive};
pub use score::ChurnScore;
pub use segment::{LifecycleStageUdf, RfmSegmentUdf};

use crate::wire::State;
use args::{Arg, Binding, Layout};

/// What every churnwise scalar function shares: its inputs, signature, the
/// canonical JSON of its fitted state and its argument binding.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    layout: Layout,
    signature: Signature,
    state: State,
    binding: Option<Binding>,
}

impl Shared {
    fn new(layout: Layout, json: String) -> Shared {
        Shared {
            layout,
            signature: Signature::user_defined(Volatility::Immutable),
            state: State::new(json),
            binding: None,
        }
    }

    fn bound(&self, binding: Option<Binding>) -> Shared {
        Shared {
            binding,
            ..self.clone()
        }
    }
}

impl PartialEq for Shared {
    fn eq(&self, o: &Self) -> bool {
        self.layout.function == o.layout.function
            && self.binding == o.binding
            && self.state == o.state
    }
}

impl Eq for Shared {}

impl Hash for Shared {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.layout.function.hash(h);
        self.state.hash(h);
        self.binding.hash(h);
    }
}

/// A churnwise error as a DataFusion execution error naming the function.
fn exec_error(function: &str, e: churnwise::Error) -> DataFusionError {
    DataFusionError::Execution(format!("{function}: {e}"))
}

/// A churnwise error met while building a function.
fn build_error(function: &str, e: churnwise::Error) -> DataFusionError {
    DataFusionError::Plan(format!("{function}: {e}"))
}

/// A serde error met while saving or loading a function's state.
fn json_error(function: &str, e: serde_json::Error) -> DataFusionError {
    DataFusionError::Execution(format!("{function}: cannot read or write its state: {e}"))
}

/// The part of a function that differs between functions.
pub(crate) trait Kernel: Debug + Send + Sync + Sized + 'static {
    fn shared(&self) -> &Shared;
    fn with_shared(&self, shared: Shared) -> Self;
    fn return_type(&self) -> DataType;
    fn nullable(&self) -> bool {
        false
    }
    fn eval(&self, args: Vec<Option<Arg>>, rows: usize) -> Result<ArrayRef>;
}

/// The state a function is shipped as ([`crate::wire::Portable`]).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    state: serde_json::Value,
    #[serde(default)]
    binding: Option<Binding>,
}

/// Implements `PartialEq`, `Eq`, `Hash`, `ScalarUDFImpl` and `Portable` for
/// a [`Kernel`], given how to rebuild it from its state's JSON.
macro_rules! scalar_udf {
    ($t:ty, $tag:literal, $from_state:expr) => {
        impl PartialEq for $t {
            fn eq(&self, o: &Self) -> bool {
                crate::scalar::Kernel::shared(self) == crate::scalar::Kernel::shared(o)
            }
        }

        impl Eq for $t {}

        impl std::hash::Hash for $t {
            fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
                crate::scalar::Kernel::shared(self).hash(h)
            }
        }

        impl datafusion::logical_expr::ScalarUDFImpl for $t {
            fn name(&self) -> &str {
                crate::scalar::Kernel::shared(self).layout.function
            }

            fn signature(&self) -> &datafusion::logical_expr::Signature {
                &crate::scalar::Kernel::shared(self).signature
            }

            fn coerce_types(
                &self,
                types: &[datafusion::arrow::datatypes::DataType],
            ) -> datafusion::common::Result<Vec<datafusion::arrow::datatypes::DataType>> {
                crate::scalar::Kernel::shared(self).layout.coerce(types)
            }

            fn return_type(
                &self,
                _: &[datafusion::arrow::datatypes::DataType],
            ) -> datafusion::common::Result<datafusion::arrow::datatypes::DataType> {
                Ok(crate::scalar::Kernel::return_type(self))
            }

            fn return_field_from_args(
                &self,
                args: datafusion::logical_expr::ReturnFieldArgs,
            ) -> datafusion::common::Result<datafusion::arrow::datatypes::FieldRef> {
                let shared = crate::scalar::Kernel::shared(self);
                let names: Vec<&str> = args.arg_fields.iter().map(|f| f.name().as_str()).collect();
                let types: Vec<&datafusion::arrow::datatypes::DataType> =
                    args.arg_fields.iter().map(|f| f.data_type()).collect();
                shared
                    .layout
                    .resolve(shared.binding.as_ref(), &names, &types)?;
                Ok(std::sync::Arc::new(
                    datafusion::arrow::datatypes::Field::new(
                        shared.layout.function,
                        crate::scalar::Kernel::return_type(self),
                        crate::scalar::Kernel::nullable(self),
                    ),
                ))
            }

            fn simplify(
                &self,
                args: Vec<datafusion::logical_expr::Expr>,
                info: &datafusion::logical_expr::simplify::SimplifyContext,
            ) -> datafusion::common::Result<datafusion::logical_expr::simplify::ExprSimplifyResult>
            {
                let shared = crate::scalar::Kernel::shared(self);
                shared
                    .layout
                    .simplify(shared.binding.as_ref(), args, info, |binding| {
                        std::sync::Arc::new(datafusion::logical_expr::ScalarUDF::new_from_impl(
                            crate::scalar::Kernel::with_shared(self, shared.bound(Some(binding))),
                        ))
                    })
            }

            fn invoke_with_args(
                &self,
                args: datafusion::logical_expr::ScalarFunctionArgs,
            ) -> datafusion::common::Result<datafusion::logical_expr::ColumnarValue> {
                let shared = crate::scalar::Kernel::shared(self);
                let arrays = shared.layout.arrays(shared.binding.as_ref(), &args)?;
                // All-constant arguments come as one-row arrays (DataFusion
                // then keeps the one-row result as a constant).
                let rows = arrays
                    .iter()
                    .flatten()
                    .next()
                    .map_or(args.number_rows, |a| {
                        datafusion::arrow::array::Array::len(&a.array)
                    });
                let out = crate::scalar::Kernel::eval(self, arrays, rows)?;
                Ok(datafusion::logical_expr::ColumnarValue::Array(out))
            }
        }

        impl crate::wire::Portable for $t {
            const TAG: &'static str = $tag;

            fn to_json(&self) -> datafusion::common::Result<serde_json::Value> {
                let shared = crate::scalar::Kernel::shared(self);
                let state: serde_json::Value = shared
                    .state
                    .to_value()
                    .map_err(|e| crate::scalar::json_error(shared.layout.function, e))?;
                serde_json::to_value(crate::scalar::Payload {
                    state,
                    binding: shared.binding.clone(),
                })
                .map_err(|e| crate::scalar::json_error(shared.layout.function, e))
            }

            fn from_json(value: serde_json::Value) -> datafusion::common::Result<Self> {
                let payload: crate::scalar::Payload = serde_json::from_value(value)
                    .map_err(|e| crate::scalar::json_error($tag, e))?;
                let rebuilt: Self = ($from_state)(payload.state)?;
                let shared = crate::scalar::Kernel::shared(&rebuilt).bound(payload.binding);
                Ok(crate::scalar::Kernel::with_shared(&rebuilt, shared))
            }
        }
    };
}

pub(crate) use scalar_udf;

#[cfg(test)]
mod tests {
    use super::*;

    use crate::wire::{self, Portable};
    use churnwise::alert::AlertPolicy;
    use churnwise::clv::{Clv, FittedBetaGeo, FittedGammaGamma, TimeUnit, Variant};
    use churnwise::segment::{FittedRfm, LifecyclePolicy, Rfm};
    use datafusion::logical_expr::ScalarUDFImpl;

    /// Encodes `f` as a wire payload, decodes it back, and checks the copy
    /// equals the original (same hash), also once bound.
    fn round_trips<T: Kernel + Portable + ScalarUDFImpl + PartialEq + Hash>(f: T, tag: &str) {
        let mut buf = Vec::new();
        wire::encode(&f, &mut buf).unwrap();
        let (got_tag, json) = wire::split(&buf).unwrap();
        assert_eq!(got_tag, tag);
        assert_eq!(f.name(), tag);
        let back: T = wire::decode(tag, json).unwrap();
        assert!(back == f);
        assert_eq!(hash(&back), hash(&f));
        let n = f.shared().layout.inputs.len();
        let bound = f.with_shared(f.shared().bound(Some(Binding((0..n).collect()))));
        assert!(bound != f, "a bound copy differs from the by-name function");
        let mut buf = Vec::new();
        wire::encode(&bound, &mut buf).unwrap();
        let back: T = wire::decode(tag, wire::split(&buf).unwrap().1).unwrap();
        assert!(back == bound);
        assert_eq!(hash(&back), hash(&bound));
    }

    /// A hash with fixed keys, so equal values hash equal.
    fn hash<T: Hash>(t: &T) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        t.hash(&mut h);
        h.finish()
    }

    #[test]
    fn every_function_ships_and_compares_by_its_state() {
        let (_, scorer) = churnwise::doc_support::small_scorer().unwrap();
        round_trips(ChurnScore::new(scorer).unwrap(), "churn_score");
        let e = [1.0, 2.0, 3.0, 4.0];
        let rfm = FittedRfm::from_edges(Rfm::new(), e, e, e).unwrap();
        round_trips(RfmSegmentUdf::new(rfm).unwrap(), "rfm_segment");
        round_trips(
            LifecycleStageUdf::new(LifecyclePolicy::default()).unwrap(),
            "lifecycle_stage",
        );
        let bg = FittedBetaGeo::new(
            Variant::Standard,
            0.243,
            4.414,
            0.793,
            2.426,
            TimeUnit::Weeks,
        )
        .unwrap();
        round_trips(PAlive::new(bg.clone()).unwrap(), "p_alive");
        round_trips(
            ExpectedPurchases::new(bg.clone()).unwrap(),
            "expected_purchases",
        );
        let gg = FittedGammaGamma::new(6.25, 3.74, 15.44).unwrap();
        round_trips(
            ClvUdf::new(bg, gg, Clv::new(4.345, 12).discount_rate(0.01)).unwrap(),
            "clv",
        );
        round_trips(
            ChurnAlerts::new(
                AlertPolicy::new(AlertPolicy::default_policy().rules()[..3].to_vec()).unwrap(),
            )
            .unwrap(),
            "churn_alerts",
        );
    }

    #[test]
    fn functions_of_different_models_differ() {
        let e = [1.0, 2.0, 3.0, 4.0];
        let a = RfmSegmentUdf::new(FittedRfm::from_edges(Rfm::new(), e, e, e).unwrap()).unwrap();
        let e2 = [1.0, 2.0, 3.0, 5.0];
        let b = RfmSegmentUdf::new(FittedRfm::from_edges(Rfm::new(), e2, e, e).unwrap()).unwrap();
        assert!(a != b);
        assert!(a == a.clone());
    }

    #[test]
    fn alerts_refuse_fields_no_column_sets() {
        let doc = r#"{"rules": [{"id": "p", "severity": "low", "route": "sales",
            "condition": {"field": "plan", "==": "basic"}}]}"#;
        let policy = AlertPolicy::from_json(doc).unwrap();
        let e = ChurnAlerts::new(policy).unwrap_err().to_string();
        assert!(
            e.contains("churn_alerts: the policy reads the built-in field `plan`"),
            "{e}"
        );
    }
}
