//! `rfm_segment` and `lifecycle_stage`: segmentations as SQL functions.

use std::sync::Arc;

use churnwise::features::FeatureTable;
use churnwise::records::CustomerId;
use churnwise::segment::{FittedRfm, LifecyclePolicy};
use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result};

use super::args::{Arg, Input, Layout, Matching};
use super::{Kernel, Shared, build_error, exec_error, json_error, scalar_udf};

/// `rfm_segment(<recency>, <frequency>) → Utf8`: the RFM segment name of
/// a [`FittedRfm`] ("Champions", "At Risk", …), equal to
/// [`RfmScore::segment`](churnwise::segment::RfmScore::segment) of
/// [`FittedRfm::score`].
///
/// # SQL
///
/// ```sql
/// rfm_segment(recency_days, orders_total)  -- the fitted RFM's recency and frequency columns, by name
/// ```
///
/// The arguments are the recency and frequency columns the RFM was fitted
/// on ([`Rfm::columns`](churnwise::segment::Rfm::columns); by default
/// `recency_days` and `orders_total`), matched by name in any order. The
/// segment depends on the R and F scores only, so the monetary column is
/// not an argument.
///
/// # Errors
///
/// Plan errors as for [`ChurnScore`](super::ChurnScore); a null or
/// non-finite value is an execution error naming the column.
///
/// # Example
///
/// ```
/// use churnwise::segment::{FittedRfm, Rfm};
/// use churnwise_datafusion::scalar::RfmSegmentUdf;
/// use datafusion::logical_expr::ScalarUDF;
/// use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let rfm = FittedRfm::from_edges(Rfm::new(), [14.0, 30.0, 90.0, 180.0], [1.0, 2.0, 4.0, 8.0], [50.0, 100.0, 250.0, 500.0])?;
/// let ctx = SessionContext::new();
/// ctx.register_udf(ScalarUDF::new_from_impl(RfmSegmentUdf::new(rfm)?));
/// let batches = ctx.sql("SELECT rfm_segment(recency_days, orders_total) FROM (VALUES (10, 9)) AS t(recency_days, orders_total)")
///     .await?.collect().await?;
/// assert_eq!(datafusion::arrow::util::pretty::pretty_format_batches(&batches)?.to_string().contains("Champions"), true);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RfmSegmentUdf {
    rfm: Arc<FittedRfm>,
    shared: Shared,
}

impl RfmSegmentUdf {
    /// The SQL name, `rfm_segment`.
    pub const NAME: &'static str = "rfm_segment";

    /// The function for `rfm`.
    ///
    /// # Errors
    ///
    /// A plan error if the edges cannot be written as JSON.
    pub fn new(rfm: FittedRfm) -> Result<Self> {
        let json = serde_json::to_string(&rfm).map_err(|e| json_error(Self::NAME, e))?;
        let layout = Layout {
            function: Self::NAME,
            noun: "column",
            inputs: vec![
                Input::number(rfm.params().recency_column()),
                Input::number(rfm.params().frequency_column()),
            ],
            matching: Matching::ByName,
        };
        Ok(RfmSegmentUdf {
            rfm: Arc::new(rfm),
            shared: Shared::new(layout, json),
        })
    }

    /// The fitted RFM.
    pub fn rfm(&self) -> &FittedRfm {
        &self.rfm
    }
}

impl Kernel for RfmSegmentUdf {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn with_shared(&self, shared: Shared) -> Self {
        RfmSegmentUdf {
            rfm: Arc::clone(&self.rfm),
            shared,
        }
    }

    fn return_type(&self) -> DataType {
        DataType::Utf8
    }

    fn eval(&self, args: Vec<Option<Arg>>, _rows: usize) -> Result<ArrayRef> {
        let [Some(r), Some(f)] = &args[..] else {
            return Err(DataFusionError::Internal(format!(
                "{}: arguments not bound",
                Self::NAME
            )));
        };
        let (r, f) = (r.numbers(Self::NAME)?, f.numbers(Self::NAME)?);
        // The segment reads the R and F scores only; the monetary value
        // does not change it.
        let names: StringArray = r
            .iter()
            .zip(f.iter())
            .map(|(&r, &f)| Some(self.rfm.score(r, f, 0.0).segment().name()))
            .collect();
        Ok(Arc::new(names))
    }
}

scalar_udf!(RfmSegmentUdf, "rfm_segment", |state: serde_json::Value| {
    let rfm: FittedRfm =
        serde_json::from_value(state).map_err(|e| json_error(RfmSegmentUdf::NAME, e))?;
    RfmSegmentUdf::new(rfm)
});

/// The feature columns a [`LifecyclePolicy`] reads, in its order.
const LIFECYCLE_COLUMNS: [&str; 7] = [
    "recency_days",
    "tenure_days",
    "orders_total",
    "complaints_30d",
    "satisfaction_last",
    "has_feedback",
    "order_trend_90d",
];

/// `lifecycle_stage(<features> [, churn_probability]) → Utf8`: the
/// lifecycle stage of a [`LifecyclePolicy`] ("new", "active", "silent",
/// "at risk", "churned"), equal to [`LifecyclePolicy::apply`].
///
/// # SQL
///
/// ```sql
/// lifecycle_stage(recency_days, tenure_days, orders_total, complaints_30d,
///                 satisfaction_last, has_feedback, order_trend_90d
///                 [, churn_probability])   -- by name, any order
/// ```
///
/// The seven feature columns the policy reads, by name, and optionally the
/// churn probability (a column named `churn_probability` or a
/// `churn_score(..)` call): with it, a score at or above the policy's
/// `at_risk_score` marks a customer at risk instead of the behavioural
/// signals, as `apply(table, Some(scores))` does.
///
/// # Errors
///
/// Plan errors as for [`ChurnScore`](super::ChurnScore); a null or
/// non-finite value, or a churn probability outside [0, 1], is an
/// execution error naming the column.
#[derive(Debug, Clone)]
pub struct LifecycleStageUdf {
    policy: Arc<LifecyclePolicy>,
    shared: Shared,
}

impl LifecycleStageUdf {
    /// The SQL name, `lifecycle_stage`.
    pub const NAME: &'static str = "lifecycle_stage";

    /// The function for `policy`.
    ///
    /// # Errors
    ///
    /// A plan error naming the threshold if the policy is invalid
    /// ([`LifecyclePolicy::validate`]).
    pub fn new(policy: LifecyclePolicy) -> Result<Self> {
        policy.validate().map_err(|e| build_error(Self::NAME, e))?;
        let json = serde_json::to_string(&policy).map_err(|e| json_error(Self::NAME, e))?;
        let mut inputs: Vec<Input> = LIFECYCLE_COLUMNS
            .iter()
            .map(|c| Input::number(*c))
            .collect();
        inputs.push(Input::number("churn_probability").optional());
        let layout = Layout {
            function: Self::NAME,
            noun: "column",
            inputs,
            matching: Matching::ByName,
        };
        Ok(LifecycleStageUdf {
            policy: Arc::new(policy),
            shared: Shared::new(layout, json),
        })
    }

    /// The policy.
    pub fn policy(&self) -> &LifecyclePolicy {
        &self.policy
    }
}

impl Kernel for LifecycleStageUdf {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn with_shared(&self, shared: Shared) -> Self {
        LifecycleStageUdf {
            policy: Arc::clone(&self.policy),
            shared,
        }
    }

    fn return_type(&self) -> DataType {
        DataType::Utf8
    }

    fn eval(&self, args: Vec<Option<Arg>>, rows: usize) -> Result<ArrayRef> {
        let f = Self::NAME;
        let mut values = ndarray::Array2::<f64>::zeros((rows, LIFECYCLE_COLUMNS.len()));
        for (j, arg) in args[..LIFECYCLE_COLUMNS.len()].iter().enumerate() {
            let Some(arg) = arg else {
                return Err(DataFusionError::Internal(format!(
                    "{f}: arguments not bound"
                )));
            };
            for (i, &v) in arg.numbers(f)?.iter().enumerate() {
                values[[i, j]] = v;
            }
        }
        let scores = match &args[LIFECYCLE_COLUMNS.len()] {
            Some(arg) => {
                let s = arg.numbers(f)?.into_owned();
                if let Some((row, p)) = s
                    .iter()
                    .enumerate()
                    .find(|(_, p)| !(0.0..=1.0).contains(*p))
                {
                    return datafusion::common::exec_err!(
                        "{f}: churn probability {p} in {} at row {row} of the batch is outside [0, 1]",
                        arg.describe()
                    );
                }
                Some(s)
            }
            None => None,
        };
        let ids: Vec<CustomerId> = (0..rows as u64).map(CustomerId::from).collect();
        let names = LIFECYCLE_COLUMNS.iter().map(|c| c.to_string()).collect();
        let table = FeatureTable::new(ids, names, values).map_err(|e| exec_error(f, e))?;
        let stages = self
            .policy
            .apply(&table, scores.as_deref())
            .map_err(|e| exec_error(f, e))?;
        let names: StringArray = stages.iter().map(|s| Some(s.to_string())).collect();
        Ok(Arc::new(names))
    }
}

scalar_udf!(
    LifecycleStageUdf,
    "lifecycle_stage",
    |state: serde_json::Value| {
        let policy: LifecyclePolicy =
            serde_json::from_value(state).map_err(|e| json_error(LifecycleStageUdf::NAME, e))?;
        LifecycleStageUdf::new(policy)
    }
);
