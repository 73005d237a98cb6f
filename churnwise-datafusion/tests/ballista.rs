//! churnwise on Apache Ballista, in its in-process standalone mode (a
//! scheduler and an executor on tokio tasks, plans serialized between them
//! exactly as across machines).

#![cfg(feature = "ballista")]

use std::sync::Arc;

use churnwise_datafusion::ballista;
use datafusion::arrow::array::{Array, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

/// A function of no churnwise type: it travels by name only.
fn twice() -> ScalarUDF {
    create_udf(
        "twice",
        vec![DataType::Float64],
        DataType::Float64,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let x = arrays[0]
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| {
                    datafusion::error::DataFusionError::Execution("twice: not Float64".into())
                })?;
            let out: Float64Array = x.iter().map(|v| v.map(|v| 2.0 * v)).collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

const TWICE_SQL: &str =
    "SELECT twice(CAST(column1 AS DOUBLE)) AS y FROM (VALUES (1), (2), (3)) ORDER BY y";

fn floats(batches: &[datafusion::arrow::record_batch::RecordBatch]) -> Vec<f64> {
    batches
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Float64Array>()
                .map(|a| a.values().to_vec())
                .unwrap_or_default()
        })
        .collect()
}

/// `standalone_with_udfs` registers the functions on the cluster and on the
/// client, so a name-only function runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_registers_name_only_functions_everywhere() -> Result<()> {
    let ctx = ballista::standalone_with_udfs(vec![twice()], Vec::new(), 2).await?;
    let batches = ctx.sql(TWICE_SQL).await?.collect().await?;
    assert_eq!(floats(&batches), vec![2.0, 4.0, 6.0]);
    Ok(())
}

/// A name-only function known to the client but not to the cluster fails
/// with an error naming it, not a panic or a null column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_missing_on_the_cluster_is_named() -> Result<()> {
    let ctx = ballista::standalone_with_udfs(Vec::new(), Vec::new(), 1).await?;
    ctx.register_udf(twice());
    let error = match ctx.sql(TWICE_SQL).await {
        Ok(df) => df.collect().await.map(|_| ()),
        Err(e) => Err(e),
    }
    .expect_err("the cluster does not have `twice`")
    .to_string();
    assert!(
        error.contains("function `twice` is not registered on this executor/scheduler"),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn zero_parallelism_is_refused() {
    let error = ballista::standalone_with_udfs(Vec::new(), Vec::new(), 0)
        .await
        .map(|_| ())
        .expect_err("no task slots");
    assert!(error.to_string().contains("parallelism"), "{error}");
}
