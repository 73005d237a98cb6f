//! `churn_score`: a deployed [`ChurnScorer`] as a SQL function.

use std::sync::Arc;

use churnwise::score::ChurnScorer;
use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;

use super::args::{Arg, Input, Layout, Matching};
use super::{Kernel, Shared, build_error, exec_error, scalar_udf};

/// `churn_score(<feature columns>) → Float64`: the churn probability of a
/// [`ChurnScorer`], equal to the core's in-process scoring.
///
/// # SQL
///
/// ```sql
/// churn_score(recency_days, orders_total, ...)  -- the scorer's features, by name, any order
/// ```
///
/// The arguments are the scorer's [`features`](ChurnScorer::features),
/// matched by name (see [the module docs](crate::scalar) for how an
/// argument is named), each numeric. Planning fails, naming the function
/// and the column, for a missing feature, an argument that is not a
/// feature, a feature given twice or a non-numeric column.
///
/// # Values
///
/// Each batch is scored with the scorer's batch path (the rows of the
/// batch as one row-major matrix through
/// [`FittedModel::predict_proba`](churnwise::model::FittedModel::predict_proba)),
/// the same computation as [`ChurnScorer::score_table`] and
/// [`Profiles::score_with`](churnwise::score::Profiles::score_with):
/// the probabilities are **bit-identical** to the core's, whatever the
/// batch size or partitioning, because every row is computed alone by the
/// same kernel in the same order of operations.
///
/// # Errors
///
/// At run time, a null, NaN or infinite feature value is an error naming the
/// column and the row of the batch (never a null or NaN score), as are
/// values so extreme that the model overflows.
///
/// # Example
///
/// ```
/// use datafusion::logical_expr::ScalarUDF;
/// use datafusion::prelude::SessionContext;
/// use churnwise_datafusion::scalar::ChurnScore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let (_, scorer) = churnwise::doc_support::small_scorer()?; // features: recency_days, orders_total
/// let ctx = SessionContext::new();
/// ctx.register_udf(ScalarUDF::new_from_impl(ChurnScore::new(scorer.clone())?));
/// let df = ctx.sql("SELECT churn_score(orders_total, recency_days) AS p \
///                   FROM (VALUES (90.0, 4.0)) AS t(recency_days, orders_total)").await?;
/// let batches = df.collect().await?;
/// let p = batches[0].column(0).as_any().downcast_ref::<datafusion::arrow::array::Float64Array>().unwrap();
/// assert_eq!(p.value(0), scorer.score_one(&[90.0, 4.0])?);
/// // A column that is not a feature fails at planning, named.
/// let err = ctx.sql("SELECT churn_score(recency_days, spend) FROM (VALUES (1.0, 2.0)) AS t(recency_days, spend)")
///     .await.unwrap_err();
/// assert!(err.to_string().contains("churn_score: argument 2 `spend` is not a feature"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ChurnScore {
    scorer: Arc<ChurnScorer>,
    shared: Shared,
}

impl ChurnScore {
    /// The SQL name, `churn_score`.
    pub const NAME: &'static str = "churn_score";

    /// The function for `scorer`.
    ///
    /// # Errors
    ///
    /// A plan error if the scorer cannot be written as JSON (a non-finite
    /// coefficient), which its equality and shipping need.
    pub fn new(scorer: ChurnScorer) -> Result<Self> {
        let json = scorer.to_json().map_err(|e| build_error(Self::NAME, e))?;
        let layout = Layout {
            function: Self::NAME,
            noun: "feature",
            inputs: scorer.features().iter().map(Input::number).collect(),
            matching: Matching::ByName,
        };
        Ok(ChurnScore {
            scorer: Arc::new(scorer),
            shared: Shared::new(layout, json),
        })
    }

    /// The scorer.
    pub fn scorer(&self) -> &ChurnScorer {
        &self.scorer
    }
}

impl Kernel for ChurnScore {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn with_shared(&self, shared: Shared) -> Self {
        ChurnScore {
            scorer: Arc::clone(&self.scorer),
            shared,
        }
    }

    fn return_type(&self) -> DataType {
        DataType::Float64
    }

    fn eval(&self, args: Vec<Option<Arg>>, rows: usize) -> Result<ArrayRef> {
        // Nulls are refused here; NaN and infinite values by the core,
        // which finds them while scoring instead of in a pass of their own.
        let columns = args
            .iter()
            .flatten()
            .map(|a| a.floats(Self::NAME))
            .collect::<Result<Vec<_>>>()?;
        // Arrow arrays are columns: scored in place, summed in the order
        // of the row-major batch kernel (bit-identical to `score_table`).
        let columns: Vec<&[f64]> = columns.iter().map(|c| c.as_ref()).collect();
        let p = self
            .scorer
            .score_columns(&columns, rows)
            .map_err(|e| exec_error(Self::NAME, e))?;
        Ok(Arc::new(Float64Array::from(p.into_raw_vec_and_offset().0)))
    }
}

scalar_udf!(ChurnScore, "churn_score", |state: serde_json::Value| {
    let scorer =
        ChurnScorer::from_json(&state.to_string()).map_err(|e| build_error(ChurnScore::NAME, e))?;
    ChurnScore::new(scorer)
});
