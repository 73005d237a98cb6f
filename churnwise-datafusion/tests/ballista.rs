//! churnwise on Apache Ballista, in its in-process standalone mode (a
//! scheduler and an executor on tokio tasks, plans serialized between them
//! exactly as across machines).

#![cfg(feature = "ballista")]

#[path = "../examples/common/pipeline.rs"]
mod pipeline;

use std::sync::Arc;

use churnwise::segment::LifecyclePolicy;
use churnwise_datafusion::{ChurnwiseFunctions, ballista};
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

/// The whole SQL pipeline (features aggregate, churn score, RFM segment,
/// lifecycle stage, P(alive), CLV, alerts; Parquet in and out) on a
/// standalone cluster that has none of churnwise's functions: they are
/// registered on the client only and reach the scheduler and the executor
/// through the codecs. Every value equals the in-process pipeline's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_pipeline_on_standalone_equals_the_in_process_pipeline()
-> Result<(), pipeline::BoxError> {
    let dir = tempfile::tempdir()?;
    let parts = pipeline::shop(1_000, 7)?;
    let lake = dir.path().join("lake");
    pipeline::write_lake(&parts, &lake, 3)?;
    let (models, in_process) = pipeline::fit_and_run(&parts)?;
    assert!(!in_process.alerts.is_empty(), "the policy raises alerts");

    let ctx = ballista::standalone_with_udfs(Vec::new(), Vec::new(), 2).await?;
    let (scalar, aggregate) = models.udfs()?;
    scalar.into_iter().for_each(|f| ctx.register_udf(f));
    aggregate.into_iter().for_each(|f| ctx.register_udaf(f));
    ctx.sql("SET datafusion.execution.target_partitions = 2")
        .await?
        .collect()
        .await?;
    let sql = pipeline::run_sql(&ctx, &models, &lake, &dir.path().join("out")).await?;
    pipeline::compare(&models, &sql, &in_process)?;
    assert_eq!(sql.profiles.len(), in_process.profiles.len());
    Ok(())
}

/// A `ChurnwiseFunctions` bundle on `ballista::standalone`: the policy
/// travels with the plan, and a bad row is an error naming the column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_runs_a_bundle_and_reports_bad_input_by_column() -> Result<()> {
    let functions = ChurnwiseFunctions::new().lifecycle(LifecyclePolicy::default());
    let ctx = ballista::standalone(&functions, 1).await?;
    let query = |recency: &str| {
        format!(
            "SELECT lifecycle_stage(recency_days, tenure_days, orders_total, complaints_30d,
                                    satisfaction_last, has_feedback, order_trend_90d) AS stage
             FROM (VALUES ({recency}, 700.0, 3.0, 0.0, 0.5, 0.0, 0.0))
                  AS t(recency_days, tenure_days, orders_total, complaints_30d,
                       satisfaction_last, has_feedback, order_trend_90d)"
        )
    };
    let batches = ctx.sql(&query("400.0")).await?.collect().await?;
    let stage = datafusion::arrow::compute::cast(batches[0].column(0), &DataType::Utf8)?;
    let stage = stage
        .as_any()
        .downcast_ref::<datafusion::arrow::array::StringArray>()
        .map(|a| a.value(0).to_owned());
    let table = churnwise::features::FeatureTable::new(
        vec![churnwise::records::CustomerId::from(1u64)],
        [
            "recency_days",
            "tenure_days",
            "orders_total",
            "complaints_30d",
            "satisfaction_last",
            "has_feedback",
            "order_trend_90d",
        ]
        .map(String::from)
        .to_vec(),
        ndarray::array![[400.0, 700.0, 3.0, 0.0, 0.5, 0.0, 0.0]],
    )
    .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
    let want = LifecyclePolicy::default()
        .apply(&table, None)
        .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?[0]
        .to_string();
    assert_eq!(stage, Some(want));

    let error = match ctx.sql(&query("CAST(NULL AS DOUBLE)")).await {
        Ok(df) => df.collect().await.map(|_| ()),
        Err(e) => Err(e),
    }
    .expect_err("a null feature is an error")
    .to_string();
    assert!(error.contains("lifecycle_stage"), "{error}");
    assert!(error.contains("recency_days"), "{error}");
    Ok(())
}
