//! Point-in-time features and churn labels.
//!
//! A [`Snapshot`] fixes the as-of time and look-back windows; a
//! [`FeatureSpec`] picks features by stable names (see its docs for the
//! catalog, units and values for customers without events);
//! [`FeatureSpec::extract`] computes a [`FeatureTable`] from a
//! [`History`](crate::records::History), reading nothing after the as-of time.
//! [`ChurnLabeler`] labels customers by what happened next and builds
//! [`TrainingSet`]s from one history at several as-of times.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use churnwise::features::{FeatureSpec, Snapshot};
//! use churnwise::synth::PopulationConfig;
//!
//! let pop = PopulationConfig::default().customers(1_000).seed(1).generate()?;
//! let (history, _) = pop.history_builder().build()?;
//! let snapshot = Snapshot::new(Utc.with_ymd_and_hms(2024, 9, 1, 0, 0, 0).unwrap());
//! let table = FeatureSpec::all().extract(&history, &snapshot)?;
//! assert!(table.ncols() > 30);
//! assert!(table.values().iter().all(|v| v.is_finite()));
//! # Ok::<(), churnwise::Error>(())
//! ```

mod contract;
mod events;
mod extract;
mod label;
mod spec;
mod table;

pub use label::{
    ChurnKind, ChurnLabeler, InvoluntaryChurn, LabelRule, Labels, LapsedCustomers,
    SubscriptionLabels, TrainingSet,
};
pub use spec::{FeatureInfo, FeatureSpec, Snapshot, SubscriptionFeatures, Unit};
pub use table::FeatureTable;

#[doc(hidden)]
pub use crate::records::CompactKind;
#[doc(hidden)]
pub use events::{CustomerEvents, EventFeatures, cmp_interactions, cmp_orders};

pub(crate) use spec::{catalog_names, closest_names, unknown_name};
