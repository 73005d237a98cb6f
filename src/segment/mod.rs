//! Segmentation: RFM scores and named segments, value and engagement tiers,
//! lifecycle stages, k-means clusters, and per-segment reports; and the
//! business churn measures (fight-churn chapter 2): churn rate per period
//! ([`churn_rates`]) under an order-based, activity-based or contractual
//! [`ChurnDefinition`], cohort retention by signup month
//! ([`CohortRetention`]), and revenue churn and net revenue retention
//! ([`revenue_retention`]).
//!
//! Everything learned from a population (RFM edges, tier cuts) is a fitted
//! value ([`FittedRfm`], [`FittedTiers`]) that scores customers later with the
//! same edges, so segments are stable across runs.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use churnwise::features::{FeatureSpec, Snapshot};
//! use churnwise::segment::{LifecyclePolicy, LifecycleStage, SegmentReport};
//! use churnwise::synth::PopulationConfig;
//!
//! let pop = PopulationConfig::default().customers(2_000).seed(1).generate()?;
//! let (history, _) = pop.history_builder().build()?;
//! let snapshot = Snapshot::new(Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap());
//! let table = FeatureSpec::all().extract(&history, &snapshot)?;
//! let stages = LifecyclePolicy::default().apply(&table, None)?;
//! let report = SegmentReport::new(&stages, &table, None)?;
//! assert_eq!(report.customers(), table.nrows());
//! # Ok::<(), churnwise::Error>(())
//! ```

mod cluster;
mod lifecycle;
mod measures;
mod report;
mod rfm;
mod tiers;

pub use cluster::{ClusterProfile, ClusterRow, FittedKMeans, KMeansSegmenter};
pub use lifecycle::{LifecyclePolicy, LifecycleStage};
pub use measures::{
    ChurnDefinition, ChurnRatesTable, ChurnStatus, Cohort, CohortRetention, CohortRule,
    MrrMovement, MrrMovementsTable, Period, PeriodChurn, Periods, RenewalGroup, RenewalRate,
    RenewalRatesTable, RevenueRetention, RevenueRetentionTable, churn_rates, mrr_movements,
    renewal_rates, revenue_retention,
};
pub use report::{SegmentReport, SegmentRow};
pub use rfm::{FittedRfm, Rfm, RfmScore, RfmSegment};
pub use tiers::{FittedTiers, Tier, Tiers};

/// A closed set of named segments (RFM segments, tiers, lifecycle stages),
/// so reports can list every segment, empty ones included, in a fixed order.
///
/// Sealed: implemented by the crate's segment types only.
///
/// # Example
///
/// ```
/// use churnwise::segment::{LifecycleStage, RfmSegment, Segment, Tier};
///
/// // Counts per segment, every segment listed, for any segment type.
/// fn counts<S: Segment>(assigned: &[S]) -> Vec<(String, usize)> {
///     S::all()
///         .iter()
///         .map(|s| (s.to_string(), assigned.iter().filter(|a| *a == s).count()))
///         .collect()
/// }
/// let tiers = counts(&[Tier::High, Tier::Low, Tier::Low]);
/// assert_eq!(tiers, [("high".into(), 1), ("mid".into(), 0), ("low".into(), 2)]);
/// assert_eq!(counts::<RfmSegment>(&[]).len(), RfmSegment::all().len());
/// assert!(LifecycleStage::all().contains(&LifecycleStage::Churned));
/// ```
pub trait Segment: Copy + Eq + std::fmt::Display + private::Sealed + 'static {
    /// Every segment, in report order.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::{LifecycleStage, Segment, Tier};
    ///
    /// assert_eq!(Tier::all(), [Tier::High, Tier::Mid, Tier::Low]);
    /// assert_eq!(LifecycleStage::all().first(), Some(&LifecycleStage::New));
    /// ```
    fn all() -> &'static [Self];
}

mod private {
    pub trait Sealed {}
    impl Sealed for super::RfmSegment {}
    impl Sealed for super::Tier {}
    impl Sealed for super::LifecycleStage {}
}
