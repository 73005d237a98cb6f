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
//! - [`standalone_with_udfs`] and [`remote_with_udfs`]: a Ballista
//!   `SessionContext` with the codecs set and the functions registered, in
//!   process (scheduler and executor on tokio tasks) or against a running
//!   scheduler;
//! - [`session_config`]: the Ballista session configuration with the codecs,
//!   for a set-up of your own.
//!
//! The `churnwise-ballista` binary of this crate (`scheduler` and `executor`
//! subcommands) runs the cluster processes with the same codecs.
//!
//! # Example
//!
//! ```no_run
//! use churnwise_datafusion::ballista;
//!
//! # #[tokio::main]
//! # async fn main() -> datafusion::error::Result<()> {
//! // A scheduler and an executor with 2 task slots, inside this process.
//! let ctx = ballista::standalone_with_udfs(Vec::new(), Vec::new(), 2).await?;
//! let batches = ctx.sql("SELECT 1 + 1 AS two").await?.collect().await?;
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

pub use codec::{ChurnwiseLogicalCodec, ChurnwisePhysicalCodec};

#[cfg(test)]
pub(crate) use codec::{AggregateKind, ScalarKind};

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
