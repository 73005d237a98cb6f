//! churnwise inside Apache DataFusion and Ballista: churn scoring,
//! segmentation, CLV and alerts as SQL functions built from churnwise's
//! fitted, saved objects.
//!
//! Fit in process with [`churnwise`], save the fitted objects in a
//! [`ChurnwiseFunctions`] bundle, register it on a DataFusion
//! `SessionContext`, and score tables of any size where they live:
//!
//! ```
//! use churnwise::segment::LifecyclePolicy;
//! use churnwise_datafusion::ChurnwiseFunctions;
//! use datafusion::prelude::SessionContext;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let (_, scorer) = churnwise::doc_support::small_scorer()?; // features: recency_days, orders_total
//! let ctx = SessionContext::new();
//! ChurnwiseFunctions::new().scorer(scorer).register(&ctx)?;
//! let df = ctx.sql("SELECT id, churn_score(recency_days, orders_total) AS p \
//!                   FROM (VALUES (1, 200.0, 1.0), (2, 10.0, 9.0)) AS t(id, recency_days, orders_total)").await?;
//! let batches = df.collect().await?;
//! assert_eq!(batches[0].num_rows(), 2);
//! # Ok(())
//! # }
//! ```
//!
//! # Overview
//!
//! - [`ChurnwiseFunctions`]: the bundle of fitted objects (scorer, RFM,
//!   lifecycle policy, BG/NBD, Gamma-Gamma and CLV settings, alert policy,
//!   feature spec); one call registers its functions; one JSON file ships it.
//! - [`scalar`]: `churn_score`, `rfm_segment`, `lifecycle_stage`,
//!   `p_alive`, `expected_purchases`, `clv`, `churn_alerts`; how arguments
//!   are matched to inputs by name; what is checked at planning and at run time.
//! - [`aggregate`]: point-in-time features and the RFM summary per
//!   customer from event rows.
//!
//! # Determinism
//!
//! Every function computes each row alone with the core's code, so the
//! results equal the core's in-process results (bit for bit) whatever the
//! batch size, the number of target partitions or threads.

#![deny(missing_docs)]
#![warn(missing_debug_implementations)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod aggregate;
#[cfg(feature = "ballista")]
pub mod ballista;
mod functions;
pub mod scalar;
// Read only by the Ballista codecs (and the unit tests) without the feature.
#[cfg_attr(not(feature = "ballista"), allow(dead_code))]
mod wire;

pub use functions::ChurnwiseFunctions;
