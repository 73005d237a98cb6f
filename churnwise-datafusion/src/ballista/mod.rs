//! churnwise's functions across machines, on Apache Ballista.
//!
//! Ballista runs DataFusion plans on a cluster: a client plans the SQL, a
//! scheduler splits it into stages and executors run the tasks. It does not
//! ship function code: a serialized plan names its functions, and each
//! process looks the names up when it decodes the plan. churnwise's functions
//! carry a fitted model, so this module provides
//!
//! - [`ChurnwiseLogicalCodec`] and [`ChurnwisePhysicalCodec`]: Ballista's own
//!   extension codecs, plus the fitted state of every churnwise function,
//!   written into the plan and rebuilt on the scheduler and executors;
//! - [`standalone`] and [`remote`]: a Ballista `SessionContext` with the
//!   codecs set and a [`ChurnwiseFunctions`] bundle registered, in process
//!   (scheduler and executor on tokio tasks) or against a running
//!   scheduler; [`standalone_with_udfs`] and [`remote_with_udfs`] take any
//!   functions, churnwise's or your own;
//! - [`session_config`]: the Ballista session configuration with the codecs,
//!   for a set-up of your own.
//!
//! The `churnwise-ballista` binary of this crate (`scheduler` and `executor`
//! subcommands) runs the cluster processes with the same codecs.
//!
//! # Example
//!
//! ```
//! use churnwise::segment::LifecyclePolicy;
//! use churnwise_datafusion::{ChurnwiseFunctions, ballista};
//!
//! # #[tokio::main]
//! # async fn main() -> datafusion::error::Result<()> {
//! // A scheduler and an executor with 2 task slots, inside this process;
//! // the policy travels to them inside the plan.
//! let functions = ChurnwiseFunctions::new().lifecycle(LifecyclePolicy::default());
//! let ctx = ballista::standalone(&functions, 2).await?;
//! let batches = ctx
//!     .sql(
//!         "SELECT lifecycle_stage(recency_days, tenure_days, orders_total, complaints_30d,
//!                                 satisfaction_last, has_feedback, order_trend_90d) AS stage
//!          FROM (VALUES (400.0, 700.0, 3.0, 0.0, 0.5, 0.0, 0.0))
//!               AS t(recency_days, tenure_days, orders_total, complaints_30d,
//!                    satisfaction_last, has_feedback, order_trend_90d)",
//!     )
//!     .await?
//!     .collect()
//!     .await?;
//! assert_eq!(batches[0].num_rows(), 1);
//! # Ok(())
//! # }
//! ```

mod codec;

use std::sync::Arc;

use ballista::prelude::SessionContextExt;
use ballista_core::extension::SessionConfigExt;
use datafusion::common::{Result, plan_err};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::registry::FunctionRegistry;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::ChurnwiseFunctions;

pub use codec::{ChurnwiseLogicalCodec, ChurnwisePhysicalCodec};

#[cfg(test)]
pub(crate) use codec::ScalarKind;

/// A Ballista session configuration with churnwise's codecs set.
///
/// Start from it when you build a `SessionState` of your own for
/// `SessionContext::standalone_with_state` or `remote_with_state`; the
/// standalone scheduler and executor take their codecs from it.
///
/// # Example
///
/// ```
/// use ballista_core::extension::SessionConfigExt;
///
/// let config = churnwise_datafusion::ballista::session_config()
///     .with_target_partitions(4);
/// assert_eq!(config.target_partitions(), 4);
/// ```
pub fn session_config() -> SessionConfig {
    SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(Arc::new(ChurnwiseLogicalCodec::new()))
        .with_ballista_physical_extension_codec(Arc::new(ChurnwisePhysicalCodec::new()))
}

/// A Ballista cluster inside this process (one scheduler, one executor with
/// `parallelism` task slots) and a `SessionContext` that runs its queries on
/// it, with the functions of `functions` registered.
///
/// The in-process equivalent of a cluster, for tests and for trying a
/// pipeline before deploying it: every plan is serialized with
/// churnwise's codecs and decoded by the scheduler and the executor, as
/// across machines.
///
/// # Errors
///
/// As for [`ChurnwiseFunctions::validate`] and [`standalone_with_udfs`].
///
/// # Example
///
/// See the [module documentation](self).
pub async fn standalone(
    functions: &ChurnwiseFunctions,
    parallelism: usize,
) -> Result<SessionContext> {
    functions.validate()?;
    standalone_with_udfs(
        functions.scalar_udfs()?,
        functions.aggregate_udfs()?,
        parallelism,
    )
    .await
}

/// A `SessionContext` that runs its queries on the Ballista scheduler at
/// `url` (`df://host:port`), with churnwise's codecs set and the functions
/// of `functions` registered.
///
/// The scheduler and the executors must run churnwise's codecs (the
/// `churnwise-ballista` binary does); the functions' fitted objects then
/// reach them inside each plan.
///
/// # Errors
///
/// As for [`ChurnwiseFunctions::validate`] and [`remote_with_udfs`].
///
/// # Example
///
/// ```no_run
/// use churnwise::segment::LifecyclePolicy;
/// use churnwise_datafusion::{ChurnwiseFunctions, ballista};
///
/// # #[tokio::main]
/// # async fn main() -> datafusion::error::Result<()> {
/// let functions = ChurnwiseFunctions::new().lifecycle(LifecyclePolicy::default());
/// let ctx = ballista::remote("df://localhost:50050", &functions).await?;
/// # let _ = ctx;
/// # Ok(())
/// # }
/// ```
pub async fn remote(url: &str, functions: &ChurnwiseFunctions) -> Result<SessionContext> {
    functions.validate()?;
    remote_with_udfs(url, functions.scalar_udfs()?, functions.aggregate_udfs()?).await
}

/// A Ballista cluster inside this process (one scheduler, one executor with
/// `parallelism` task slots) and a `SessionContext` that runs its queries on
/// it, with `scalar` and `aggregate` registered on all three.
///
/// The functions are registered on the session state before the cluster
/// starts (the in-process scheduler and executor copy its registry) and again
/// on the returned context, since Ballista's set-up replaces the client's
/// function lists. churnwise's functions also travel inside each plan
/// through the codecs.
///
/// # Errors
///
/// A `parallelism` of 0, or an error of Ballista while it starts the
/// scheduler or the executor.
///
/// # Example
///
/// See the [module documentation](self).
pub async fn standalone_with_udfs(
    scalar: Vec<ScalarUDF>,
    aggregate: Vec<AggregateUDF>,
    parallelism: usize,
) -> Result<SessionContext> {
    if parallelism == 0 {
        return plan_err!("Ballista standalone: parallelism must be at least 1, got 0");
    }
    let config = session_config().with_ballista_standalone_parallelism(parallelism);
    let mut state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .build();
    for f in &scalar {
        state.register_udf(Arc::new(f.clone()))?;
    }
    for f in &aggregate {
        state.register_udaf(Arc::new(f.clone()))?;
    }
    let ctx = SessionContext::standalone_with_state(state).await?;
    register(&ctx, scalar, aggregate);
    Ok(ctx)
}

/// A `SessionContext` that runs its queries on the Ballista scheduler at
/// `url` (`df://host:port`), with churnwise's codecs set and `scalar` and
/// `aggregate` registered.
///
/// The scheduler and executors must run churnwise's codecs too (the
/// `churnwise-ballista` binary does); churnwise's functions then reach them
/// inside the plan, while any other function must be registered on every
/// process.
///
/// # Errors
///
/// A `url` that is not `df://host[:port]`. The connection itself is made at
/// the first query, which fails if no scheduler answers.
///
/// # Example
///
/// ```no_run
/// # #[tokio::main]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = churnwise_datafusion::ballista::remote_with_udfs(
///     "df://localhost:50050",
///     Vec::new(),
///     Vec::new(),
/// )
/// .await?;
/// ctx.sql("SELECT 1").await?.show().await?;
/// # Ok(())
/// # }
/// ```
pub async fn remote_with_udfs(
    url: &str,
    scalar: Vec<ScalarUDF>,
    aggregate: Vec<AggregateUDF>,
) -> Result<SessionContext> {
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(session_config())
        .build();
    let ctx = SessionContext::remote_with_state(url, state).await?;
    register(&ctx, scalar, aggregate);
    Ok(ctx)
}

fn register(ctx: &SessionContext, scalar: Vec<ScalarUDF>, aggregate: Vec<AggregateUDF>) {
    for f in scalar {
        ctx.register_udf(f);
    }
    for f in aggregate {
        ctx.register_udaf(f);
    }
}

#[cfg(test)]
mod tests;
