//! The campaign report: per-arm figures, effects against the control,
//! breakdowns and counts.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::evaluate::CampaignDesign;
use crate::stats::{Interval, MantelHaenszel};

/// A rate with its confidence interval.
///
/// # Example
///
/// ```
/// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
///
/// let outcomes = vec![
///     CampaignOutcome::new(1u64, "control", false).repurchased(false),
///     CampaignOutcome::new(2u64, "sms", false).repurchased(true),
///     CampaignOutcome::new(3u64, "sms", true), // repurchase unknown
/// ];
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
/// let repurchase = report.overall.arms[0].summary.repurchase.as_ref();
/// assert!(repurchase.is_some_and(|r| (r.n, r.count, r.rate) == (1, 1, 1.0) && r.ci.contains(1.0)));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RateEstimate {
    /// Customers with a known value.
    pub n: u64,
    /// Of them, how many had the event.
    pub count: u64,
    /// `count / n`.
    pub rate: f64,
    /// Wilson score interval ([`wilson_interval`](crate::stats::wilson_interval)).
    pub ci: Interval,
}

/// A mean with its standard error.
///
/// # Example
///
/// ```
/// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
///
/// let outcomes = vec![
///     CampaignOutcome::new(1u64, "control", false).revenue_after(10.0),
///     CampaignOutcome::new(2u64, "sms", false).revenue_after(10.0),
///     CampaignOutcome::new(3u64, "sms", false).revenue_after(20.0),
/// ];
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
/// let revenue = report.overall.arms[0].summary.revenue_after.as_ref();
/// // mean 15, sample SD √50, standard error √50 / √2 = 5
/// assert!(revenue.is_some_and(|r| r.total == 30.0 && r.mean == 15.0 && r.std_error == Some(5.0)));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MeanEstimate {
    /// Customers with a known value.
    pub n: u64,
    /// The sum of the values.
    pub total: f64,
    /// `total / n`.
    pub mean: f64,
    /// `s / √n` with the sample standard deviation `s` (divisor `n − 1`); `None` when `n < 2`.
    pub std_error: Option<f64>,
}

/// A before/after comparison of the same customers (paired).
///
/// Only customers with both values count, so the change is not confounded by
/// who answered which survey.
///
/// # Example
///
/// ```
/// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
///
/// let outcomes = vec![
///     CampaignOutcome::new(1u64, "control", false).satisfaction(5.0, 5.0),
///     CampaignOutcome::new(2u64, "vip", false).satisfaction(4.0, 7.0),
///     CampaignOutcome::new(3u64, "vip", false).satisfaction(6.0, 7.0),
/// ];
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
/// let change = report.overall.arms[0].summary.satisfaction_change.as_ref();
/// assert!(change.is_some_and(|c| (c.n, c.mean_before, c.mean_after, c.mean_change) == (2, 5.0, 7.0, 2.0)));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PairedChange {
    /// Customers with both a before and an after value.
    pub n: u64,
    /// Their mean before.
    pub mean_before: f64,
    /// Their mean after.
    pub mean_after: f64,
    /// The mean of `after − before`.
    pub mean_change: f64,
    /// The standard error of `mean_change` (sample SD of the changes / √n); `None` when `n < 2`.
    pub std_error: Option<f64>,
}

/// A difference of two estimates with a confidence interval.
///
/// # Example
///
/// ```
/// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
///
/// let outcomes: Vec<CampaignOutcome> = (0..100u64)
///     .map(|i| {
///         let arm = if i < 50 { "control" } else { "coupon" };
///         CampaignOutcome::new(i, arm, false).repurchased(if i < 50 { i < 10 } else { i < 70 })
///     })
///     .collect();
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
/// let d = report.overall.arms[0].repurchase_difference.as_ref();
/// // 20/50 − 10/50
/// assert!(d.is_some_and(|d| (d.estimate - 0.2).abs() < 1e-12 && d.ci.contains(d.estimate)));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Difference {
    /// The arm's value minus the control's.
    pub estimate: f64,
    /// The confidence interval of `estimate`.
    pub ci: Interval,
}

/// A difference of two means with its standard error.
///
/// # Example
///
/// ```
/// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
///
/// let outcomes = vec![
///     CampaignOutcome::new(1u64, "control", false).satisfaction(5.0, 4.0),
///     CampaignOutcome::new(2u64, "control", false).satisfaction(5.0, 6.0),
///     CampaignOutcome::new(3u64, "vip", false).satisfaction(4.0, 7.0),
///     CampaignOutcome::new(4u64, "vip", false).satisfaction(6.0, 7.0),
/// ];
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
/// let did = report.overall.arms[0].satisfaction_change_difference.as_ref();
/// // (3 + 1)/2 − (−1 + 1)/2 = 2; standard errors 1 and 1
/// assert!(did.is_some_and(|d| d.estimate == 2.0 && d.std_error == Some(2f64.sqrt())));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MeanDifference {
    /// The arm's value minus the control's.
    pub estimate: f64,
    /// `√(se_arm² + se_control²)` (independent arms); `None` when either is unknown.
    pub std_error: Option<f64>,
}

/// What one arm's customers did: counts, churn and repurchase rates,
/// revenue, satisfaction and cost.
///
/// `n` and `churned` are the sufficient statistics of the arm's churn rate:
/// a Beta(a, b) prior updates to Beta(a + churned, b + n − churned).
///
/// # Example
///
/// ```
/// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
///
/// let outcomes = vec![
///     CampaignOutcome::new(1u64, "control", true).revenue(50.0, 0.0).satisfaction(5.0, 4.0),
///     CampaignOutcome::new(2u64, "control", false).revenue(40.0, 45.0).satisfaction(6.0, 6.0),
///     CampaignOutcome::new(3u64, "call", false).revenue(60.0, 70.0).satisfaction(4.0, 7.0).cost(3.0),
///     CampaignOutcome::new(4u64, "call", false).revenue(20.0, 30.0).satisfaction(5.0, 6.0).cost(3.0),
/// ];
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
/// let control = &report.overall.control;
/// assert_eq!((control.n, control.churned, control.churn.rate), (2, 1, 0.5));
/// let call = &report.overall.arms[0].summary;
/// assert_eq!(call.cost, 6.0);
/// let revenue = call.revenue_after.as_ref().map(|r| r.mean);
/// assert_eq!(revenue, Some(50.0));
/// let satisfaction = call.satisfaction_change.as_ref().map(|s| s.mean_change);
/// assert_eq!(satisfaction, Some(2.0)); // (3 + 1) / 2
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArmSummary {
    /// The arm's name.
    pub arm: String,
    /// Customers in the arm.
    pub n: u64,
    /// Of them, how many churned.
    pub churned: u64,
    /// The churn rate `churned / n` and its Wilson interval.
    pub churn: RateEstimate,
    /// The repurchase rate over customers whose `repurchased` is known; `None` if none is.
    pub repurchase: Option<RateEstimate>,
    /// Revenue after the campaign over customers whose `revenue_after` is known.
    pub revenue_after: Option<MeanEstimate>,
    /// Revenue before vs after, over customers with both.
    pub revenue_change: Option<PairedChange>,
    /// Satisfaction before vs after, over customers with both.
    pub satisfaction_change: Option<PairedChange>,
    /// The summed `cost` of the arm's customers.
    pub cost: f64,
}

/// Which estimate an [`ArmEffect`]'s headline figures hold.
///
/// # Example
///
/// See [`CampaignDesign`](super::CampaignDesign).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EffectBasis {
    /// The arm against every control customer of the comparison: unbiased
    /// only when the arms were randomized over the same population.
    Pooled,
    /// Within matching (`intervention`, `segment`) strata, combined by
    /// Mantel–Haenszel: like for like when controls were held out per stratum.
    Stratified,
}

/// One treatment arm against the control: the effect on churn with its
/// confidence intervals and tests, and on repurchase, satisfaction, revenue
/// and ROI.
///
/// The headline figures (`churn_difference` to `p_value_holm`, and
/// `repurchase_difference` and `incremental_revenue`) are the stratified
/// estimate when `basis` is [`EffectBasis::Stratified`] and the pooled one
/// when it is [`EffectBasis::Pooled`]; see
/// [`CampaignDesign`](super::CampaignDesign) for which applies.
///
/// # Definitions
///
/// ```text
/// p_a, p_c             churn rates of the arm and the control
/// pooled               p_a − p_c with Newcombe's interval
/// stratified           per (intervention, segment) stratum, combined by Mantel–Haenszel
///                      (see stats::mantel_haenszel)
/// churn_difference     pooled: p_a − p_c;  stratified: the MH risk difference
///                      (negative = the arm churned less); Newcombe / Sato interval
/// absolute reduction   −churn_difference  (see absolute_churn_reduction())
/// relative reduction   pooled: 1 − p_a/p_c, interval 1 − (Katz log interval of p_a/p_c);
///                      stratified: 1 − MH risk ratio, interval from Greenland–Robins
/// z, p_value           pooled two-proportion z-test / Cochran–Mantel–Haenszel test, two-sided
///                      (with a single matching stratum: Newcombe's interval, Katz's and the
///                      z-test within it, the small-sample methods for one 2×2 table)
/// p_value_holm         Holm-adjusted over the arms of the same comparison
/// incremental_revenue  pooled: (mean revenue_after of the arm − of the control) × n of the arm;
///                      stratified: Σ over strata with revenue on both sides of
///                      n of the arm in the stratum × the same difference within it
/// net_revenue          incremental_revenue − cost of the arm
/// roi                  (incremental_revenue − cost) / cost      (None when cost = 0)
/// satisfaction_change_difference   mean change (after − before) of the arm − of the control
///                                  (a difference in differences; pooled)
/// ```
///
/// # Example
///
/// ```
/// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
///
/// let mut outcomes = Vec::new();
/// for i in 0..200u64 {
///     // Control: 50 of 200 churn, revenue 10 each. Treated: 30 of 200 churn, revenue 12, cost 1 each.
///     outcomes.push(CampaignOutcome::new(i, "control", i < 50).revenue_after(10.0));
///     outcomes.push(CampaignOutcome::new(1_000 + i, "offer", i < 30).revenue_after(12.0).cost(1.0));
/// }
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes[..])?;
/// let offer = &report.overall.arms[0];
/// let (reduction, _ci) = offer.absolute_churn_reduction();
/// assert!((reduction - 0.1).abs() < 1e-12); // 25% − 15%
/// assert!((offer.relative_churn_reduction.unwrap() - 0.4).abs() < 1e-12);
/// assert_eq!(offer.incremental_revenue, Some(2.0 * 200.0));
/// assert_eq!(offer.roi, Some((400.0 - 200.0) / 200.0));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ArmEffect {
    /// The arm's own figures.
    pub summary: ArmSummary,
    /// Which estimate the headline figures hold.
    pub basis: EffectBasis,
    /// The churn difference, arm minus control: `p_arm − p_control`
    /// (pooled) or the Mantel–Haenszel risk difference (stratified).
    pub churn_difference: f64,
    /// Its interval: Newcombe's hybrid score (pooled) or `± z·√(Sato variance)` (stratified).
    pub churn_difference_ci: Interval,
    /// `1 − p_arm / p_control` (pooled) or `1 −` the Mantel–Haenszel risk
    /// ratio (stratified); `None` when the control has no churner.
    pub relative_churn_reduction: Option<f64>,
    /// `1 −` the risk ratio's interval (Katz's log interval, or
    /// Greenland–Robins when stratified); `None` when either arm has no churner.
    pub relative_churn_reduction_ci: Option<Interval>,
    /// The test statistic, negative when the arm churned less: the pooled
    /// two-proportion z, or the signed square root of the CMH statistic.
    pub z: f64,
    /// Its two-sided p-value.
    pub p_value: f64,
    /// The p-value adjusted by Holm's method over the arms of the same
    /// comparison (equal to `p_value` when only one arm is tested).
    pub p_value_holm: f64,
    /// The pooled churn difference `p_arm − p_control` with Newcombe's
    /// interval. When `basis` is [`EffectBasis::Stratified`] it is **not
    /// comparable**: the arm and the pooled control differ in risk mix.
    pub pooled: Difference,
    /// The stratified comparison of churn (Mantel–Haenszel risk difference
    /// and ratio, CMH test, strata and customers matched); `None` when the
    /// outcomes carry no strata or the arm shares none with the control.
    pub stratified: Option<MantelHaenszel>,
    /// Repurchase rate difference (arm − control) with Newcombe's interval,
    /// or the Mantel–Haenszel difference when stratified; `None` unless
    /// both arms have known repurchases.
    pub repurchase_difference: Option<Difference>,
    /// Mean satisfaction change of the arm minus that of the control.
    pub satisfaction_change_difference: Option<MeanDifference>,
    /// Mean revenue-after difference times the arm's size (within strata
    /// when stratified); `None` unless both arms have revenue.
    pub incremental_revenue: Option<f64>,
    /// `incremental_revenue − cost`.
    pub net_revenue: Option<f64>,
    /// `(incremental_revenue − cost) / cost`; `None` when the cost is 0 or revenue unknown.
    pub roi: Option<f64>,
}

impl ArmEffect {
    /// The absolute churn reduction `p_control − p_arm` (positive = fewer
    /// churned) with its interval: `churn_difference` negated.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
    ///
    /// let outcomes: Vec<CampaignOutcome> = (0..400u64)
    ///     .map(|i| if i < 200 { CampaignOutcome::new(i, "control", i < 60) }
    ///              else { CampaignOutcome::new(i, "call", i < 230) })
    ///     .collect();
    /// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
    /// let call = &report.overall.arms[0];
    /// let (reduction, ci) = call.absolute_churn_reduction();
    /// assert!((reduction - 0.15).abs() < 1e-12); // 30% − 15%
    /// assert_eq!(ci.lower, -call.churn_difference_ci.upper);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn absolute_churn_reduction(&self) -> (f64, Interval) {
        (-self.churn_difference, self.churn_difference_ci.negated())
    }
}

/// The control and every treatment arm compared with it.
///
/// # Example
///
/// ```
/// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
///
/// let outcomes: Vec<CampaignOutcome> = (0..300u64)
///     .map(|i| {
///         let arm = ["control", "email", "call"][(i % 3) as usize];
///         CampaignOutcome::new(i, arm, i % 7 == 0)
///     })
///     .collect();
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
/// let arms: Vec<&str> = report.overall.arms.iter().map(|a| a.summary.arm.as_str()).collect();
/// assert_eq!(arms, ["call", "email"]); // sorted by name
/// assert!(report.overall.multiple_comparisons.is_some()); // two arms: Holm applies
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Comparison {
    /// The control group of this comparison.
    pub control: ArmSummary,
    /// Each treatment arm against it, sorted by arm name.
    pub arms: Vec<ArmEffect>,
    /// With more than one arm, a note that the p-values were adjusted by Holm's method.
    pub multiple_comparisons: Option<String>,
}

impl Comparison {
    /// The arm called `name`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
    ///
    /// let outcomes = vec![
    ///     CampaignOutcome::new(1u64, "control", true).segment("vip"),
    ///     CampaignOutcome::new(2u64, "sms", false).segment("vip"),
    /// ];
    /// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
    /// let vip = report.segment("vip").and_then(|b| b.comparison.as_ref());
    /// assert!(vip.is_some_and(|c| c.arm("sms").is_some() && c.arm("email").is_none()));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn arm(&self, name: &str) -> Option<&ArmEffect> {
        self.arms.iter().find(|a| a.summary.arm == name)
    }
}

/// Which control customers an intervention's treated customers are compared with.
///
/// # Example
///
/// ```
/// use churnwise::retention::{CampaignEvaluator, CampaignOutcome, ControlBasis};
///
/// let outcomes = vec![
///     CampaignOutcome::new(1u64, "treated", false).intervention("coupon"),
///     CampaignOutcome::new(2u64, "control", true).intervention("coupon"), // would have got a coupon
///     CampaignOutcome::new(3u64, "control", false).intervention("call"),
/// ];
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
/// let coupon = &report.by_intervention[0];
/// assert_eq!(coupon.control_basis, ControlBasis::Matched);
/// let control_n = coupon.comparison.as_ref().map(|c| c.control.n);
/// assert_eq!(control_n, Some(1));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ControlBasis {
    /// Controls of the same group: the same segment, or (for an intervention)
    /// the control customers whose `intervention` names it, i.e. who would
    /// have received it. Like-for-like.
    Matched,
    /// No control outcome names an intervention, so every control customer
    /// is used. Unbiased only if the intervention was not targeted at
    /// customers who differ from the rest.
    WholeControl,
}

/// One group of a breakdown (an intervention or a segment) and its comparison.
///
/// # Example
///
/// ```
/// use churnwise::retention::{CampaignEvaluator, CampaignOutcome, ControlBasis};
///
/// let outcomes = vec![
///     CampaignOutcome::new(1u64, "control", true).segment("new"),
///     CampaignOutcome::new(2u64, "control", false).segment("new"),
///     CampaignOutcome::new(3u64, "email", false).segment("new"),
/// ];
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
/// let new = &report.by_segment[0];
/// assert_eq!((new.label.as_str(), new.n, new.control_basis), ("new", 3, ControlBasis::Matched));
/// assert!(new.comparison.as_ref().is_some_and(|c| c.control.n == 2));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Breakdown {
    /// The intervention id or segment label.
    pub label: String,
    /// Customers in the group: its treated customers, plus its control
    /// customers when the control is [`ControlBasis::Matched`].
    pub n: u64,
    /// Where the control customers come from.
    pub control_basis: ControlBasis,
    /// The comparison; `None` when the group has no control or no treated customer.
    pub comparison: Option<Comparison>,
    /// Why there is no comparison, when there is none.
    pub note: Option<String>,
}

/// Counts of one (arm, intervention, segment) cell: what a Beta posterior
/// update of an intervention's effect per segment needs.
///
/// # Example
///
/// ```
/// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
///
/// let outcomes = vec![
///     CampaignOutcome::new(1u64, "control", true).segment("new").intervention("coupon"),
///     CampaignOutcome::new(2u64, "treated", false).segment("new").intervention("coupon"),
///     CampaignOutcome::new(3u64, "treated", true).segment("new").intervention("coupon").repurchased(true),
/// ];
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
/// let cells = report.counts();
/// assert_eq!(cells.len(), 2);
/// assert!(cells[0].is_control && (cells[0].n, cells[0].churned) == (1, 1));
/// let treated = &cells[1];
/// assert_eq!((treated.n, treated.churned, treated.repurchase_known, treated.repurchased), (2, 1, 1, 1));
/// assert_eq!(treated.intervention.as_deref(), Some("coupon"));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CellCounts {
    /// The arm.
    pub arm: String,
    /// Whether `arm` is the control.
    pub is_control: bool,
    /// The intervention, if recorded.
    pub intervention: Option<String>,
    /// The segment, if recorded.
    pub segment: Option<String>,
    /// Customers in the cell.
    pub n: u64,
    /// Of them, churned.
    pub churned: u64,
    /// Of them, with a known `repurchased`.
    pub repurchase_known: u64,
    /// Of those, repurchased.
    pub repurchased: u64,
}

/// The evaluation of a retention campaign: did each treatment arm reduce
/// churn against the control, by how much, at what cost, and for whom.
///
/// Built by [`CampaignEvaluator::evaluate`](super::CampaignEvaluator::evaluate). Three views of the same
/// outcomes, each a [`Comparison`] of the control with every treatment arm:
///
/// - `overall`: all customers;
/// - `by_intervention`: per intervention id, its treated customers against
///   matching controls (see [`ControlBasis`]);
/// - `by_segment`: per segment label, the segment's treated customers
///   against the segment's controls.
///
/// **Targeted campaigns are compared within strata.** When the controls
/// were held out per (`intervention`, `segment`) stratum (the outcomes'
/// controls carry those labels, or the design says so: see
/// [`CampaignDesign`](super::CampaignDesign)), every comparison's headline is
/// the Mantel–Haenszel estimate over those strata with the
/// Cochran–Mantel–Haenszel test ([`EffectBasis::Stratified`]); the pooled
/// difference is kept in [`ArmEffect::pooled`] but is not comparable, since
/// an arm and the pooled control differ in risk mix (it can even have the
/// wrong sign). Only for randomized arms is the pooled comparison the headline.
///
/// Rates get Wilson intervals; pooled churn differences Newcombe's hybrid
/// score interval and relative reductions Katz's log ratio interval, with a
/// pooled two-proportion z-test; stratified ones Sato's and
/// Greenland–Robins' variances with the CMH test; with several arms in a
/// comparison, Holm-adjusted p-values (the family is the arms of that one
/// comparison). All at the evaluator's confidence level. Formulas:
/// [`ArmEffect`] and the functions
/// [`wilson_interval`](crate::stats::wilson_interval),
/// [`newcombe_interval`](crate::stats::newcombe_interval),
/// [`risk_ratio_interval`](crate::stats::risk_ratio_interval),
/// [`two_proportion_z_test`](crate::stats::two_proportion_z_test),
/// [`mantel_haenszel`](crate::stats::mantel_haenszel),
/// [`holm`](crate::stats::holm).
///
/// # Example
///
/// ```
/// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
///
/// let mut outcomes = Vec::new();
/// for i in 0..600u64 {
///     let segment = if i % 2 == 0 { "new" } else { "loyal" };
///     let arm = if i % 3 == 0 { "control" } else { "coupon" };
///     // Coupons halve churn among new customers only.
///     let churned = match (segment, arm) {
///         ("new", "coupon") => i % 10 < 2,
///         ("new", _) => i % 10 < 4,
///         _ => i % 10 < 1,
///     };
///     outcomes.push(CampaignOutcome::new(i, arm, churned).segment(segment).cost(1.0 * f64::from(arm == "coupon")));
/// }
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
/// println!("{report}");
/// let new = report.segment("new").and_then(|b| b.comparison.as_ref()).and_then(|c| c.arm("coupon"));
/// assert!(new.is_some_and(|a| a.churn_difference < -0.1));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CampaignReport {
    /// The control arm's name.
    pub control_arm: String,
    /// The confidence level of every interval.
    pub confidence: f64,
    /// The design the evaluator was given.
    pub design: CampaignDesign,
    /// Outcomes evaluated.
    pub n: u64,
    /// All customers: the control against every treatment arm.
    pub overall: Comparison,
    /// Per intervention id (sorted), over treated customers with that intervention.
    pub by_intervention: Vec<Breakdown>,
    /// Per segment label (sorted).
    pub by_segment: Vec<Breakdown>,
    /// Counts per (arm, intervention, segment), sorted.
    pub counts: Vec<CellCounts>,
}

impl CampaignReport {
    /// The overall effect of the arm called `name` (`None` for the control or an unknown arm).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
    ///
    /// let outcomes = vec![
    ///     CampaignOutcome::new(1u64, "control", true),
    ///     CampaignOutcome::new(2u64, "sms", false),
    /// ];
    /// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
    /// assert_eq!(report.arm("sms").map(|a| a.churn_difference), Some(-1.0));
    /// assert!(report.arm("control").is_none());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn arm(&self, name: &str) -> Option<&ArmEffect> {
        self.overall.arm(name)
    }

    /// The breakdown of the segment labelled `label`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
    ///
    /// let outcomes = vec![
    ///     CampaignOutcome::new(1u64, "control", true).segment("vip"),
    ///     CampaignOutcome::new(2u64, "sms", false).segment("vip"),
    ///     CampaignOutcome::new(3u64, "sms", false).segment("new"),
    /// ];
    /// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
    /// assert!(report.segment("vip").is_some_and(|b| b.comparison.is_some()));
    /// // No control customer among "new": counted, but not compared.
    /// let new = report.segment("new");
    /// assert!(new.is_some_and(|b| b.n == 1 && b.comparison.is_none() && b.note.is_some()));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn segment(&self, label: &str) -> Option<&Breakdown> {
        self.by_segment.iter().find(|b| b.label == label)
    }

    /// The breakdown of the intervention `id`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::{CampaignEvaluator, CampaignOutcome, ControlBasis};
    ///
    /// let outcomes = vec![
    ///     CampaignOutcome::new(1u64, "control", true),
    ///     CampaignOutcome::new(2u64, "treated", false).intervention("coupon"),
    /// ];
    /// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
    /// // No control outcome names an intervention: the whole control is used.
    /// let coupon = report.intervention("coupon");
    /// assert!(coupon.is_some_and(|b| b.control_basis == ControlBasis::WholeControl));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn intervention(&self, id: &str) -> Option<&Breakdown> {
        self.by_intervention.iter().find(|b| b.label == id)
    }

    /// Counts per (arm, intervention, segment) cell: for Beta posterior
    /// updates of each intervention's effect per segment.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
    ///
    /// let outcomes = vec![
    ///     CampaignOutcome::new(1u64, "control", true).segment("vip"),
    ///     CampaignOutcome::new(2u64, "sms", false).segment("vip").intervention("sms_v1"),
    ///     CampaignOutcome::new(3u64, "sms", true).segment("vip").intervention("sms_v1"),
    /// ];
    /// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
    /// let cell = report.counts().iter().find(|c| c.arm == "sms");
    /// assert!(cell.is_some_and(|c| (c.n, c.churned) == (2, 1)));
    /// // Beta(1, 1) prior on the churn rate → Beta(1 + 1, 1 + 2 − 1).
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn counts(&self) -> &[CellCounts] {
        &self.counts
    }
}

// ---------------------------------------------------------------------------
// Display
// ---------------------------------------------------------------------------

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// A p-value with 4 decimals, or in scientific notation below 0.0001.
fn p_text(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

fn strata_text(strata: usize) -> String {
    if strata == 1 {
        "1 matching stratum".into()
    } else {
        format!("{strata} matching strata, Mantel–Haenszel and CMH test")
    }
}

fn pct_ci(ci: &Interval) -> String {
    format!("[{:.2}, {:.2}]", 100.0 * ci.lower, 100.0 * ci.upper)
}

impl fmt::Display for Comparison {
    /// A table: one row per arm (control first) with n, churn rate and its
    /// interval, difference vs control (percentage points) and its interval,
    /// relative reduction, z, p and Holm p; then revenue, cost, ROI and
    /// satisfaction lines where known.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<16} {:>8} {:>8} {:>18} {:>10} {:>18} {:>9} {:>7} {:>8} {:>8}",
            "arm", "n", "churn", "CI (%)", "diff (pp)", "CI (pp)", "rel. red.", "z", "p", "p Holm"
        )?;
        let c = &self.control;
        writeln!(
            f,
            "{:<16} {:>8} {:>8} {:>18} {:>10}",
            c.arm,
            c.n,
            pct(c.churn.rate),
            pct_ci(&c.churn.ci),
            "(control)"
        )?;
        for a in &self.arms {
            writeln!(
                f,
                "{:<16} {:>8} {:>8} {:>18} {:>10.2} {:>18} {:>9} {:>7.3} {:>8} {:>8}",
                a.summary.arm,
                a.summary.n,
                pct(a.summary.churn.rate),
                pct_ci(&a.summary.churn.ci),
                100.0 * a.churn_difference,
                pct_ci(&a.churn_difference_ci),
                a.relative_churn_reduction.map_or("-".into(), pct),
                a.z,
                p_text(a.p_value),
                p_text(a.p_value_holm)
            )?;
        }
        for a in &self.arms {
            let mut parts = Vec::new();
            if let Some(r) = &a.repurchase_difference {
                parts.push(format!("repurchase {:+.2} pp", 100.0 * r.estimate));
            }
            if let Some(s) = &a.satisfaction_change_difference {
                parts.push(format!("satisfaction change vs control {:+.3}", s.estimate));
            }
            if let Some(r) = a.incremental_revenue {
                parts.push(format!("incremental revenue {r:.2}"));
            }
            if a.summary.cost > 0.0 {
                parts.push(format!("cost {:.2}", a.summary.cost));
            }
            if let Some(roi) = a.roi {
                parts.push(format!("ROI {roi:.3}"));
            }
            if !parts.is_empty() {
                writeln!(f, "  {}: {}", a.summary.arm, parts.join(", "))?;
            }
        }
        for a in &self.arms {
            match (a.basis, &a.stratified) {
                (EffectBasis::Stratified, Some(mh)) => writeln!(
                    f,
                    "  {}: within {} ({} of {} treated matched, {} controls); \
                     pooled {:+.2} pp {} not comparable",
                    a.summary.arm,
                    strata_text(mh.strata),
                    mh.treated_n,
                    a.summary.n,
                    mh.control_n,
                    100.0 * a.pooled.estimate,
                    pct_ci(&a.pooled.ci)
                )?,
                (EffectBasis::Pooled, Some(mh)) => writeln!(
                    f,
                    "  {}: pooled (randomized); within {}: {:+.2} pp {}",
                    a.summary.arm,
                    strata_text(mh.strata),
                    100.0 * mh.risk_difference,
                    pct_ci(&mh.risk_difference_ci)
                )?,
                _ => {}
            }
        }
        if let Some(note) = &self.multiple_comparisons {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CampaignReport {
    /// The overall comparison, then one per intervention and per segment.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stratified = self
            .overall
            .arms
            .iter()
            .any(|a| a.basis == EffectBasis::Stratified);
        writeln!(
            f,
            "{} customers, control arm `{}`, {}% intervals ({})\n",
            self.n,
            self.control_arm,
            100.0 * self.confidence,
            if stratified {
                "Wilson; differences within matching strata: Mantel–Haenszel with Sato's variance, CMH test"
            } else {
                "Wilson; Newcombe for differences"
            }
        )?;
        write!(f, "{}", self.overall)?;
        for (title, breakdowns) in [
            ("intervention", &self.by_intervention),
            ("segment", &self.by_segment),
        ] {
            for b in breakdowns {
                writeln!(f, "\n{title} `{}` ({} customers)", b.label, b.n)?;
                match (&b.comparison, &b.note) {
                    (Some(c), _) => write!(f, "{c}")?,
                    (None, Some(note)) => writeln!(f, "  {note}")?,
                    (None, None) => {}
                }
            }
        }
        Ok(())
    }
}
