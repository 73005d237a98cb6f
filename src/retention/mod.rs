//! Retention campaigns, evaluated: did the intervention reduce churn, by how
//! much, at what cost, for whom, and was the targeting right.
//!
//! This part of the module closes the loop of the pipeline: after a campaign
//! has run with a randomized control group, it measures the result.
//!
//! - [`CampaignOutcome`] records what happened to each customer (arm,
//!   intervention, segment, churned, repurchased, revenue and satisfaction
//!   before and after, cost), and [`CampaignEvaluator`] turns them into a
//!   [`CampaignReport`]: per arm churn and repurchase rates with Wilson
//!   intervals; absolute and relative churn reduction with Newcombe and Katz
//!   intervals; a two-proportion z-test per arm; with several arms against
//!   one shared control, Holm-adjusted p-values; satisfaction and revenue
//!   before/after for the same customers; incremental revenue, cost and ROI;
//!   all of it overall, by intervention and by segment, with the counts a
//!   Beta posterior update needs ([`CampaignReport::counts`]).
//! - [`uplift::UpliftReport`] and the functions of [`uplift`] evaluate a targeting
//!   score: uplift by decile, Qini curve and coefficient, uplift AUC and
//!   uplift at k, as scikit-uplift defines them.
//! - [`PowerAnalysis`] sizes the arms before a campaign (customers per arm
//!   to detect a churn reduction) and says what a given size can detect (the
//!   minimum detectable effect).
//! - The statistics underneath (intervals, tests, the Mantel–Haenszel
//!   estimators, multiple-testing corrections, power) live in the shared
//!   [`stats`](crate::stats) module.
//!
//! The statistics are checked against statsmodels 0.15 and scikit-uplift
//! 0.5.1 on the fixtures in `tests/fixtures/` (`campaign_reference.json`,
//! `uplift_reference.json`, `uplift_data.csv`). The module reads only
//! [`records::CustomerId`](crate::records::CustomerId): arms, interventions
//! and segments are plain strings, so it works with any planner or
//! segmentation.
//!
//! # Example
//!
//! A synthetic campaign: every other customer of a generated population gets
//! a discount, which prevents a churn with the customer's true response
//! probability (here decided deterministically from the id).
//!
//! ```
//! use churnwise::retention::{CampaignEvaluator, CampaignOutcome, PowerAnalysis};
//! use churnwise::synth::PopulationConfig;
//!
//! let pop = PopulationConfig::default().customers(4_000).seed(11).generate()?;
//! let outcomes: Vec<CampaignOutcome> = pop
//!     .truth()
//!     .iter()
//!     .enumerate()
//!     .map(|(i, t)| {
//!         let treated = i % 2 == 0;
//!         let saved = treated && ((i / 2) % 100) as f64 / 100.0 < t.responses().discount();
//!         let arm = if treated { "discount" } else { "control" };
//!         CampaignOutcome::new(t.id().clone(), arm, t.is_churned() && !saved)
//!             .segment(format!("{:?}", t.latent_type()))
//!             .cost(if treated { 2.0 } else { 0.0 })
//!     })
//!     .collect();
//!
//! let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
//! let discount = &report.overall.arms[0];
//! assert!(discount.churn_difference < 0.0);
//! assert!(discount.churn_difference_ci.contains(discount.churn_difference));
//! println!("{report}");
//!
//! // Was the campaign big enough to detect what it found?
//! let control_rate = report.overall.control.churn.rate;
//! let mde = PowerAnalysis::new().minimum_detectable_effect(control_rate, discount.summary.n as f64)?;
//! println!("detectable reduction: {:.1} pp", 100.0 * mde.absolute_reduction);
//! # Ok::<(), churnwise::Error>(())
//! ```

mod control;
mod evaluate;
mod learn;
mod outcome;
mod planner;
mod playbook;
mod power;
mod report;
pub mod uplift;

pub use control::HoldOut;
pub use evaluate::{CampaignDesign, CampaignEvaluator};
pub use learn::{EffectEstimate, EffectLearner};
pub use outcome::CampaignOutcome;
pub use planner::{Assignment, EXACT_CUSTOMERS, Plan, PlanSummary, Planner, Unprofitable};
pub use playbook::{Intervention, InterventionKind, Playbook, SegmentBy};
pub use power::{DetectableEffect, PowerAnalysis, SampleSize};
pub use report::{
    ArmEffect, ArmSummary, Breakdown, CampaignReport, CellCounts, Comparison, ControlBasis,
    Difference, EffectBasis, MeanDifference, MeanEstimate, PairedChange, RateEstimate,
};
