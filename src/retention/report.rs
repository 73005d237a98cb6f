//! Campaign evaluation: treatment arms against a shared control, overall,
//! by intervention and by segment.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::interval::{Interval, critical_value, newcombe_z, ratio_z, wilson_z};
use super::outcome::CampaignOutcome;
use super::significance::{holm_unchecked, z_test_counts};
use crate::records::CustomerId;
use crate::{Error, ErrorKind, Result};

/// Settings for evaluating a campaign: which arm is the control, and the
/// confidence level of every interval.
///
/// [`evaluate`](Self::evaluate) turns a campaign's [`CampaignOutcome`]s
/// into a [`CampaignReport`]. Defaults: control arm `"control"`, confidence
/// `0.95`.
///
/// # Example
///
/// ```
/// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
///
/// // 2 400 treated customers of whom 312 churned; 800 controls of whom 136 churned.
/// let outcomes: Vec<CampaignOutcome> = (0..3_200u64)
///     .map(|i| match i {
///         0..2_400 => CampaignOutcome::new(i, "treatment", i < 312),
///         _ => CampaignOutcome::new(i, "control", i < 2_400 + 136),
///     })
///     .collect();
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
/// let arm = &report.overall.arms[0];
/// assert_eq!((arm.summary.n, arm.summary.churned), (2_400, 312));
/// assert!((arm.churn_difference - (0.13 - 0.17)).abs() < 1e-12);
/// assert!(arm.churn_difference_ci.upper < 0.0); // significantly fewer churned
/// assert!(arm.p_value < 0.01);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct CampaignEvaluator {
    control: String,
    confidence: f64,
}

impl Default for CampaignEvaluator {
    fn default() -> Self {
        CampaignEvaluator {
            control: "control".into(),
            confidence: 0.95,
        }
    }
}

impl CampaignEvaluator {
    /// Evaluates against the arm named `control`, at 95% confidence.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::CampaignEvaluator;
    ///
    /// let e = CampaignEvaluator::new("holdout");
    /// assert_eq!((e.control_arm(), e.confidence_level()), ("holdout", 0.95));
    /// ```
    pub fn new(control: impl Into<String>) -> Self {
        CampaignEvaluator {
            control: control.into(),
            ..CampaignEvaluator::default()
        }
    }

    /// The confidence level of every interval. Defaults to `0.95`; must be in `(0, 1)`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `confidence`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::CampaignEvaluator;
    ///
    /// let e = CampaignEvaluator::new("control").confidence(0.9)?;
    /// assert_eq!(e.confidence_level(), 0.9);
    /// assert!(CampaignEvaluator::new("control").confidence(95.0).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn confidence(mut self, confidence: f64) -> Result<Self> {
        critical_value(confidence)?;
        self.confidence = confidence;
        Ok(self)
    }

    /// The control arm's name.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::CampaignEvaluator;
    ///
    /// assert_eq!(CampaignEvaluator::default().control_arm(), "control");
    /// ```
    pub fn control_arm(&self) -> &str {
        &self.control
    }

    /// The confidence level.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::CampaignEvaluator;
    ///
    /// assert_eq!(CampaignEvaluator::default().confidence_level(), 0.95);
    /// ```
    pub fn confidence_level(&self) -> f64 {
        self.confidence
    }

    /// Checks the settings; [`evaluate`](Self::evaluate) calls it, so a
    /// configuration read from a file is checked too.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `confidence` unless in `(0, 1)`,
    /// or `control` when the control arm's name is empty.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::CampaignEvaluator;
    ///
    /// let e: CampaignEvaluator = serde_json::from_str(r#"{"confidence": 1.5}"#).unwrap();
    /// assert!(e.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        critical_value(self.confidence)?;
        if self.control.is_empty() {
            return Err(Error::invalid_parameter(
                "control",
                "the control arm's name must not be empty",
            ));
        }
        Ok(())
    }

    /// Evaluates a campaign: every treatment arm against the control,
    /// overall, by intervention and by segment.
    ///
    /// See [`CampaignReport`] for what is computed and how. The result does
    /// not depend on the order of `outcomes` except for the order of
    /// floating-point sums (arms, interventions and segments are sorted by name).
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::Empty`] when `outcomes` is empty, or only the control arm is present;
    /// - [`ErrorKind::UnknownName`] (what: "control arm") when no outcome is in the control arm,
    ///   suggesting the arms present;
    /// - [`ErrorKind::InvalidValue`] (what: "campaign outcome") naming the outcome's index and
    ///   field for an empty `arm`, `intervention` or `segment`, a negative `cost`, or a customer
    ///   listed twice;
    /// - [`ErrorKind::NonFinite`] (what: "campaign outcome") naming the index (`row`) and field
    ///   (`column`) for a NaN or infinite cost, revenue or satisfaction;
    /// - [`ErrorKind::InvalidParameter`] as [`validate`](Self::validate).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
    ///
    /// let outcomes = vec![
    ///     CampaignOutcome::new(1u64, "discount", false),
    ///     CampaignOutcome::new(2u64, "holdout", true).cost(-1.0),
    /// ];
    /// let err = CampaignEvaluator::new("holdout").evaluate(&outcomes).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidValue { index: 1, field: "cost", .. }));
    /// assert_eq!(err.to_string(), "campaign outcome 1, field `cost`: must be >= 0, got -1");
    ///
    /// let err = CampaignEvaluator::new("control").evaluate(&outcomes[..1]).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::UnknownName { what: "control arm", .. }));
    /// ```
    pub fn evaluate(&self, outcomes: &[CampaignOutcome]) -> Result<CampaignReport> {
        self.validate()?;
        if outcomes.is_empty() {
            return Err(ErrorKind::Empty("no campaign outcomes to evaluate".into()).into());
        }
        check_outcomes(outcomes)?;
        let arms: BTreeSet<&str> = outcomes.iter().map(|o| o.arm.as_str()).collect();
        if !arms.contains(self.control.as_str()) {
            return Err(ErrorKind::UnknownName {
                what: "control arm",
                name: self.control.clone(),
                suggestions: arms.iter().map(|a| (*a).to_owned()).collect(),
            }
            .into());
        }
        if arms.len() == 1 {
            return Err(ErrorKind::Empty(format!(
                "every outcome is in the control arm `{}`: no treatment arm to compare",
                self.control
            ))
            .into());
        }
        let ctx = Context {
            outcomes,
            control: &self.control,
            z: critical_value(self.confidence)?,
        };
        let all: Vec<usize> = (0..outcomes.len()).collect();
        let (control_rows, treated_rows) = ctx.split(&all);
        let overall = ctx
            .compare(&control_rows, &treated_rows)
            .ok_or_else(|| ErrorKind::Empty("no treatment arm to compare".into()))?;

        Ok(CampaignReport {
            control_arm: self.control.clone(),
            confidence: self.confidence,
            n: outcomes.len() as u64,
            overall,
            by_intervention: ctx.by_intervention(&control_rows, &treated_rows),
            by_segment: ctx.by_segment(),
            counts: counts(outcomes, &self.control),
        })
    }
}

/// Validates every outcome, naming the first bad one's index and field.
fn check_outcomes(outcomes: &[CampaignOutcome]) -> Result<()> {
    const WHAT: &str = "campaign outcome";
    let invalid = |index: usize, field: &'static str, reason: String| -> Error {
        ErrorKind::InvalidValue {
            what: WHAT,
            index,
            field,
            reason,
        }
        .into()
    };
    let mut seen: HashMap<&CustomerId, usize> = HashMap::with_capacity(outcomes.len());
    for (index, o) in outcomes.iter().enumerate() {
        if o.arm.is_empty() {
            return Err(invalid(index, "arm", "must not be empty".into()));
        }
        for (field, label) in [("intervention", &o.intervention), ("segment", &o.segment)] {
            if label.as_deref() == Some("") {
                return Err(invalid(
                    index,
                    field,
                    "must not be empty (use None for none)".into(),
                ));
            }
        }
        let numbers = [
            ("cost", Some(o.cost)),
            ("revenue_before", o.revenue_before),
            ("revenue_after", o.revenue_after),
            ("satisfaction_before", o.satisfaction_before),
            ("satisfaction_after", o.satisfaction_after),
        ];
        for (field, value) in numbers {
            if let Some(value) = value.filter(|v| !v.is_finite()) {
                return Err(ErrorKind::NonFinite {
                    what: WHAT,
                    row: index,
                    column: field.into(),
                    value,
                }
                .into());
            }
        }
        if o.cost < 0.0 {
            return Err(invalid(
                index,
                "cost",
                format!("must be >= 0, got {}", o.cost),
            ));
        }
        if let Some(first) = seen.insert(&o.customer, index) {
            return Err(invalid(
                index,
                "customer",
                format!(
                    "customer {} already appears in outcome {first}; each customer must be in one arm once",
                    o.customer
                ),
            ));
        }
    }
    Ok(())
}

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
    /// Wilson score interval ([`wilson_interval`](super::wilson_interval)).
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

/// One treatment arm against the control: the effect on churn with its
/// confidence intervals and tests, and on repurchase, satisfaction, revenue
/// and ROI.
///
/// # Definitions
///
/// ```text
/// p_a, p_c             churn rates of the arm and the control
/// churn_difference     p_a − p_c  (negative = the arm churned less); Newcombe interval
/// absolute reduction   p_c − p_a = −churn_difference  (see absolute_churn_reduction())
/// relative reduction   1 − p_a/p_c; interval 1 − (Katz log interval of p_a/p_c)
/// z, p_value           pooled two-proportion z-test, two-sided
/// p_value_holm         Holm-adjusted over the arms of the same comparison
/// incremental_revenue  (mean revenue_after of the arm − of the control) × n of the arm
/// net_revenue          incremental_revenue − cost of the arm
/// roi                  (incremental_revenue − cost) / cost      (None when cost = 0)
/// satisfaction_change_difference   mean change (after − before) of the arm − of the control
///                                  (a difference in differences)
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
    /// `p_arm − p_control`.
    pub churn_difference: f64,
    /// Newcombe's hybrid score interval of `churn_difference`.
    pub churn_difference_ci: Interval,
    /// `1 − p_arm / p_control`; `None` when the control churn rate is 0.
    pub relative_churn_reduction: Option<f64>,
    /// `1 −` Katz's log interval of the risk ratio; `None` when either arm has no churner.
    pub relative_churn_reduction_ci: Option<Interval>,
    /// The pooled two-proportion z statistic (negative = the arm churned less).
    pub z: f64,
    /// Its two-sided p-value.
    pub p_value: f64,
    /// The p-value adjusted by Holm's method over the arms of the same
    /// comparison (equal to `p_value` when only one arm is tested).
    pub p_value_holm: f64,
    /// Repurchase rate difference (arm − control) with Newcombe's interval;
    /// `None` unless both arms have known repurchases.
    pub repurchase_difference: Option<Difference>,
    /// Mean satisfaction change of the arm minus that of the control.
    pub satisfaction_change_difference: Option<MeanDifference>,
    /// Mean revenue-after difference times the arm's size; `None` unless both arms have revenue.
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
/// Built by [`CampaignEvaluator::evaluate`]. Three views of the same
/// outcomes, each a [`Comparison`] of the control with every treatment arm:
///
/// - `overall`: all customers;
/// - `by_intervention`: per intervention id, its treated customers against
///   matching controls (see [`ControlBasis`]);
/// - `by_segment`: per segment label, the segment's treated customers
///   against the segment's controls.
///
/// Rates get Wilson intervals; churn differences Newcombe's hybrid score
/// interval; relative reductions Katz's log ratio interval; each arm a pooled
/// two-proportion z-test; with several arms in a comparison, Holm-adjusted
/// p-values (the family is the arms of that one comparison). All at the
/// evaluator's confidence level. Formulas: [`ArmEffect`] and the functions
/// [`wilson_interval`](super::wilson_interval),
/// [`newcombe_interval`](super::newcombe_interval),
/// [`risk_ratio_interval`](super::risk_ratio_interval),
/// [`two_proportion_z_test`](super::two_proportion_z_test),
/// [`holm`](super::holm).
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

/// Shared state while building a report.
struct Context<'a> {
    outcomes: &'a [CampaignOutcome],
    control: &'a str,
    z: f64,
}

impl Context<'_> {
    fn is_control(&self, i: usize) -> bool {
        self.outcomes[i].arm == self.control
    }

    fn split(&self, rows: &[usize]) -> (Vec<usize>, Vec<usize>) {
        rows.iter().partition(|&&i| self.is_control(i))
    }

    /// The comparison of `control_rows` with each arm of `treated_rows`;
    /// `None` if either is empty.
    fn compare(&self, control_rows: &[usize], treated_rows: &[usize]) -> Option<Comparison> {
        if control_rows.is_empty() || treated_rows.is_empty() {
            return None;
        }
        let control = self.summarize(self.control, control_rows);
        let mut by_arm: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &i in treated_rows {
            by_arm
                .entry(self.outcomes[i].arm.as_str())
                .or_default()
                .push(i);
        }
        let mut arms: Vec<ArmEffect> = by_arm
            .iter()
            .map(|(arm, rows)| self.effect(self.summarize(arm, rows), &control))
            .collect();
        let raw: Vec<f64> = arms.iter().map(|a| a.p_value).collect();
        for (arm, adjusted) in arms.iter_mut().zip(holm_unchecked(&raw)) {
            arm.p_value_holm = adjusted;
        }
        let multiple_comparisons = (arms.len() > 1).then(|| {
            format!(
                "{} treatment arms are each tested against one control: p_value_holm adjusts \
                 for the {} comparisons (Holm's step-down method, family-wise error rate); \
                 judge significance by it, not by p_value",
                arms.len(),
                arms.len()
            )
        });
        Some(Comparison {
            control,
            arms,
            multiple_comparisons,
        })
    }

    fn summarize(&self, arm: &str, rows: &[usize]) -> ArmSummary {
        let outcomes = rows.iter().map(|&i| &self.outcomes[i]);
        let n = rows.len() as u64;
        let churned = outcomes.clone().filter(|o| o.churned).count() as u64;
        let repurchases: Vec<bool> = outcomes.clone().filter_map(|o| o.repurchased).collect();
        let revenue_after: Vec<f64> = outcomes.clone().filter_map(|o| o.revenue_after).collect();
        let pairs = |before: fn(&CampaignOutcome) -> Option<f64>,
                     after: fn(&CampaignOutcome) -> Option<f64>| {
            outcomes
                .clone()
                .filter_map(|o| Some((before(o)?, after(o)?)))
                .collect::<Vec<(f64, f64)>>()
        };
        ArmSummary {
            arm: arm.to_owned(),
            n,
            churned,
            churn: self.rate(churned, n),
            repurchase: (!repurchases.is_empty()).then(|| {
                let count = repurchases.iter().filter(|&&r| r).count() as u64;
                self.rate(count, repurchases.len() as u64)
            }),
            revenue_after: mean_estimate(&revenue_after),
            revenue_change: paired_change(&pairs(|o| o.revenue_before, |o| o.revenue_after)),
            satisfaction_change: paired_change(&pairs(
                |o| o.satisfaction_before,
                |o| o.satisfaction_after,
            )),
            cost: outcomes.map(|o| o.cost).sum(),
        }
    }

    fn rate(&self, count: u64, n: u64) -> RateEstimate {
        RateEstimate {
            n,
            count,
            rate: count as f64 / n as f64,
            ci: wilson_z(count, n, self.z),
        }
    }

    fn effect(&self, summary: ArmSummary, control: &ArmSummary) -> ArmEffect {
        let (xa, na, xc, nc) = (summary.churned, summary.n, control.churned, control.n);
        let (pa, pc) = (summary.churn.rate, control.churn.rate);
        let test = z_test_counts(xa, na, xc, nc);
        let relative = (pc > 0.0).then(|| 1.0 - pa / pc);
        let relative_ci = ratio_z(xa, na, xc, nc, self.z).map(|ratio| {
            let point = pa / pc;
            Interval {
                lower: 1.0 - ratio.upper.max(point),
                upper: 1.0 - ratio.lower.min(point),
            }
        });
        let repurchase_difference = match (&summary.repurchase, &control.repurchase) {
            (Some(a), Some(c)) => Some(Difference {
                estimate: a.rate - c.rate,
                ci: newcombe_z(a.count, a.n, c.count, c.n, self.z),
            }),
            _ => None,
        };
        let satisfaction_change_difference =
            match (&summary.satisfaction_change, &control.satisfaction_change) {
                (Some(a), Some(c)) => Some(MeanDifference {
                    estimate: a.mean_change - c.mean_change,
                    std_error: a.std_error.zip(c.std_error).map(|(x, y)| x.hypot(y)),
                }),
                _ => None,
            };
        let incremental_revenue = summary
            .revenue_after
            .as_ref()
            .zip(control.revenue_after.as_ref())
            .map(|(a, c)| (a.mean - c.mean) * na as f64);
        let cost = summary.cost;
        ArmEffect {
            churn_difference: pa - pc,
            churn_difference_ci: newcombe_z(xa, na, xc, nc, self.z),
            relative_churn_reduction: relative,
            relative_churn_reduction_ci: relative_ci,
            z: test.z,
            p_value: test.p_value,
            p_value_holm: test.p_value,
            repurchase_difference,
            satisfaction_change_difference,
            incremental_revenue,
            net_revenue: incremental_revenue.map(|r| r - cost),
            roi: incremental_revenue
                .filter(|_| cost > 0.0)
                .map(|r| (r - cost) / cost),
            summary,
        }
    }

    fn by_intervention(&self, control_rows: &[usize], treated_rows: &[usize]) -> Vec<Breakdown> {
        let label = |i: usize| self.outcomes[i].intervention.as_deref();
        let ids: BTreeSet<&str> = treated_rows.iter().filter_map(|&i| label(i)).collect();
        let matched = control_rows.iter().any(|&i| label(i).is_some());
        ids.into_iter()
            .map(|id| {
                let treated: Vec<usize> = treated_rows
                    .iter()
                    .copied()
                    .filter(|&i| label(i) == Some(id))
                    .collect();
                let control: Vec<usize> = if matched {
                    control_rows
                        .iter()
                        .copied()
                        .filter(|&i| label(i) == Some(id))
                        .collect()
                } else {
                    control_rows.to_vec()
                };
                let comparison = self.compare(&control, &treated);
                let note = comparison.is_none().then(|| {
                    format!(
                        "no control customer was planned for intervention `{id}` \
                         (control outcomes name interventions, so only matching ones are used)"
                    )
                });
                Breakdown {
                    label: id.to_owned(),
                    n: (treated.len() + if matched { control.len() } else { 0 }) as u64,
                    control_basis: if matched {
                        ControlBasis::Matched
                    } else {
                        ControlBasis::WholeControl
                    },
                    comparison,
                    note,
                }
            })
            .collect()
    }

    fn by_segment(&self) -> Vec<Breakdown> {
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, o) in self.outcomes.iter().enumerate() {
            if let Some(s) = o.segment.as_deref() {
                groups.entry(s).or_default().push(i);
            }
        }
        groups
            .into_iter()
            .map(|(label, rows)| {
                let (control, treated) = self.split(&rows);
                let comparison = self.compare(&control, &treated);
                let note = comparison.is_none().then(|| {
                    if control.is_empty() {
                        format!("no control customer in segment `{label}`")
                    } else {
                        format!("no treated customer in segment `{label}`")
                    }
                });
                Breakdown {
                    label: label.to_owned(),
                    n: rows.len() as u64,
                    control_basis: ControlBasis::Matched,
                    comparison,
                    note,
                }
            })
            .collect()
    }
}

fn mean_estimate(values: &[f64]) -> Option<MeanEstimate> {
    if values.is_empty() {
        return None;
    }
    let total: f64 = values.iter().sum();
    let mean = total / values.len() as f64;
    Some(MeanEstimate {
        n: values.len() as u64,
        total,
        mean,
        std_error: std_error(values, mean),
    })
}

fn paired_change(pairs: &[(f64, f64)]) -> Option<PairedChange> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let changes: Vec<f64> = pairs.iter().map(|(b, a)| a - b).collect();
    let mean_change = changes.iter().sum::<f64>() / n;
    Some(PairedChange {
        n: pairs.len() as u64,
        mean_before: pairs.iter().map(|p| p.0).sum::<f64>() / n,
        mean_after: pairs.iter().map(|p| p.1).sum::<f64>() / n,
        mean_change,
        std_error: std_error(&changes, mean_change),
    })
}

/// `s/√n` with the sample standard deviation (two-pass); `None` when `n < 2`.
fn std_error(values: &[f64], mean: f64) -> Option<f64> {
    let n = values.len();
    (n >= 2).then(|| {
        let ss: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        (ss / (n - 1) as f64 / n as f64).sqrt()
    })
}

fn counts(outcomes: &[CampaignOutcome], control: &str) -> Vec<CellCounts> {
    type Key<'a> = (&'a str, Option<&'a str>, Option<&'a str>);
    let mut cells: BTreeMap<Key<'_>, [u64; 4]> = BTreeMap::new();
    for o in outcomes {
        let c = cells
            .entry((
                o.arm.as_str(),
                o.intervention.as_deref(),
                o.segment.as_deref(),
            ))
            .or_default();
        c[0] += 1;
        c[1] += u64::from(o.churned);
        c[2] += u64::from(o.repurchased.is_some());
        c[3] += u64::from(o.repurchased == Some(true));
    }
    cells
        .into_iter()
        .map(|((arm, intervention, segment), c)| CellCounts {
            arm: arm.to_owned(),
            is_control: arm == control,
            intervention: intervention.map(str::to_owned),
            segment: segment.map(str::to_owned),
            n: c[0],
            churned: c[1],
            repurchase_known: c[2],
            repurchased: c[3],
        })
        .collect()
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
        if let Some(note) = &self.multiple_comparisons {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CampaignReport {
    /// The overall comparison, then one per intervention and per segment.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} customers, control arm `{}`, {}% intervals (Wilson; Newcombe for differences)\n",
            self.n,
            self.control_arm,
            100.0 * self.confidence
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

#[cfg(test)]
mod tests {
    use super::super::stats::tol;
    use super::*;
    use approx::assert_abs_diff_eq;

    /// The campaign of tests/fixtures/campaign_reference.json, as outcomes.
    fn fixture_outcomes() -> Vec<CampaignOutcome> {
        (0..3200u64)
            .map(|i| {
                if i < 2400 {
                    CampaignOutcome::new(i, "treatment", i < 312)
                } else {
                    CampaignOutcome::new(i, "control", i < 2400 + 136)
                }
            })
            .collect()
    }

    /// statsmodels 0.15.0 values from tests/fixtures/campaign_reference.json.
    #[test]
    fn report_matches_statsmodels_reference() {
        let r = CampaignEvaluator::new("control")
            .evaluate(&fixture_outcomes())
            .unwrap();
        let a = r.arm("treatment").unwrap();
        assert_eq!((a.summary.n, a.summary.churned), (2400, 312));
        assert_eq!((r.overall.control.n, r.overall.control.churned), (800, 136));
        assert_abs_diff_eq!(a.z, -2.823_724_832_010_070_5, epsilon = tol::ORACLE);
        assert_abs_diff_eq!(a.p_value, 0.004_746_911_940_511_481, epsilon = tol::ORACLE);
        assert_eq!(a.p_value_holm, a.p_value);
        assert_abs_diff_eq!(
            a.summary.churn.ci.lower,
            0.117_134_344_811_679_46,
            epsilon = tol::ORACLE
        );
        assert_abs_diff_eq!(
            a.summary.churn.ci.upper,
            0.144_048_212_181_371_26,
            epsilon = tol::ORACLE
        );
        assert_abs_diff_eq!(
            a.churn_difference_ci.lower,
            -0.070_444_240_211_409_69,
            epsilon = tol::ORACLE
        );
        assert_abs_diff_eq!(
            a.churn_difference_ci.upper,
            -0.011_811_836_955_163_007,
            epsilon = tol::ORACLE
        );
        assert!(r.overall.multiple_comparisons.is_none());
    }

    /// Relative reduction: 1 − 0.13/0.17, and 1 − Katz's interval, by hand:
    /// se = √(1/312 − 1/2400 + 1/136 − 1/800).
    #[test]
    fn relative_reduction_matches_hand_calculation() {
        let r = CampaignEvaluator::new("control")
            .evaluate(&fixture_outcomes())
            .unwrap();
        let a = r.arm("treatment").unwrap();
        assert_abs_diff_eq!(
            a.relative_churn_reduction.unwrap(),
            1.0 - 0.13 / 0.17,
            epsilon = tol::EXACT
        );
        let z = 1.959_963_984_540_054;
        let se = (1.0 / 312.0 - 1.0 / 2400.0 + 1.0 / 136.0 - 1.0 / 800.0f64).sqrt();
        let rr = 0.13f64 / 0.17;
        let ci = a.relative_churn_reduction_ci.unwrap();
        assert_abs_diff_eq!(ci.lower, 1.0 - rr * (z * se).exp(), epsilon = 1e-14);
        assert_abs_diff_eq!(ci.upper, 1.0 - rr * (-z * se).exp(), epsilon = 1e-14);
        let (abs, abs_ci) = a.absolute_churn_reduction();
        assert_abs_diff_eq!(abs, 0.04, epsilon = tol::EXACT);
        assert_eq!(abs_ci.lower, -a.churn_difference_ci.upper);
    }

    /// Money, repurchase and satisfaction on a hand-made campaign.
    ///
    /// control (2): revenue after 10, 20 (mean 15); satisfaction 5→4, 6→6 (changes −1, 0)
    /// offer (3): revenue after 30, 20, 25 (mean 25), cost 4 each = 12;
    ///            satisfaction 4→6, 5→6, 5→8 (changes 2, 1, 3)
    /// incremental revenue = (25 − 15)·3 = 30; ROI = (30 − 12)/12 = 1.5
    /// satisfaction DiD = 2 − (−0.5) = 2.5; SEs: offer √(1/3), control √(0.5/2)
    #[test]
    fn money_and_satisfaction_match_hand_calculation() {
        let outcomes = vec![
            CampaignOutcome::new(1u64, "control", false)
                .revenue(10.0, 10.0)
                .satisfaction(5.0, 4.0)
                .repurchased(false),
            CampaignOutcome::new(2u64, "control", true)
                .revenue(30.0, 20.0)
                .satisfaction(6.0, 6.0)
                .repurchased(true),
            CampaignOutcome::new(3u64, "offer", false)
                .revenue(20.0, 30.0)
                .satisfaction(4.0, 6.0)
                .cost(4.0)
                .repurchased(true),
            CampaignOutcome::new(4u64, "offer", false)
                .revenue_after(20.0)
                .satisfaction(5.0, 6.0)
                .cost(4.0),
            CampaignOutcome::new(5u64, "offer", true)
                .revenue(25.0, 25.0)
                .satisfaction(5.0, 8.0)
                .cost(4.0)
                .repurchased(true),
        ];
        let r = CampaignEvaluator::new("control")
            .evaluate(&outcomes)
            .unwrap();
        let offer = r.arm("offer").unwrap();
        assert_eq!(offer.summary.cost, 12.0);
        assert_abs_diff_eq!(
            offer.incremental_revenue.unwrap(),
            30.0,
            epsilon = tol::EXACT
        );
        assert_abs_diff_eq!(offer.net_revenue.unwrap(), 18.0, epsilon = tol::EXACT);
        assert_abs_diff_eq!(offer.roi.unwrap(), 1.5, epsilon = tol::EXACT);
        let s = offer.summary.satisfaction_change.as_ref().unwrap();
        assert_eq!(s.n, 3);
        assert_abs_diff_eq!(s.mean_change, 2.0, epsilon = tol::EXACT);
        assert_abs_diff_eq!(
            s.std_error.unwrap(),
            (1.0f64 / 3.0).sqrt(),
            epsilon = tol::EXACT
        );
        let did = offer.satisfaction_change_difference.as_ref().unwrap();
        assert_abs_diff_eq!(did.estimate, 2.5, epsilon = tol::EXACT);
        assert_abs_diff_eq!(
            did.std_error.unwrap(),
            (1.0f64 / 3.0 + 0.25).sqrt(),
            epsilon = tol::EXACT
        );
        // Revenue before/after only where both are known (2 of 3 offer customers).
        let rc = offer.summary.revenue_change.as_ref().unwrap();
        assert_eq!(rc.n, 2);
        assert_abs_diff_eq!(rc.mean_change, 5.0, epsilon = tol::EXACT);
        // Repurchase: offer 2/2 known, control 1/2.
        let rep = offer.repurchase_difference.as_ref().unwrap();
        assert_abs_diff_eq!(rep.estimate, 0.5, epsilon = tol::EXACT);
        assert_eq!(offer.summary.repurchase.as_ref().map(|r| r.n), Some(2));
    }

    /// Three arms against one control: Holm over the three z-test p-values.
    #[test]
    fn several_arms_share_the_control_with_holm() {
        let mut outcomes = Vec::new();
        let mut id = 0u64;
        for (arm, n, churned) in [
            ("control", 400, 80),
            ("a", 400, 50),
            ("b", 400, 70),
            ("c", 400, 79),
        ] {
            for i in 0..n {
                outcomes.push(CampaignOutcome::new(id, arm, i < churned));
                id += 1;
            }
        }
        let r = CampaignEvaluator::new("control")
            .evaluate(&outcomes)
            .unwrap();
        let raw: Vec<f64> = ["a", "b", "c"]
            .iter()
            .map(|a| {
                super::super::two_proportion_z_test(r.arm(a).unwrap().summary.churned, 400, 80, 400)
                    .unwrap()
                    .p_value
            })
            .collect();
        let holm = super::super::holm(&raw).unwrap();
        for (arm, (p, h)) in ["a", "b", "c"].iter().zip(raw.iter().zip(&holm)) {
            let e = r.arm(arm).unwrap();
            assert_eq!(e.p_value, *p);
            assert_eq!(e.p_value_holm, *h);
            assert!(e.p_value_holm >= e.p_value);
        }
        assert!(
            r.overall
                .multiple_comparisons
                .as_deref()
                .is_some_and(|n| n.contains("Holm"))
        );
    }

    #[test]
    fn breakdowns_use_matching_controls() {
        let mut outcomes = Vec::new();
        for i in 0..40u64 {
            let seg = if i % 2 == 0 { "new" } else { "loyal" };
            let iv = if i % 4 < 2 { "coupon" } else { "call" };
            let arm = if i < 10 { "control" } else { "treated" };
            outcomes.push(
                CampaignOutcome::new(i, arm, i % 5 == 0)
                    .segment(seg)
                    .intervention(iv),
            );
        }
        let r = CampaignEvaluator::new("control")
            .evaluate(&outcomes)
            .unwrap();
        let labels: Vec<&str> = r.by_intervention.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["call", "coupon"]);
        for b in &r.by_intervention {
            let c = b.comparison.as_ref().unwrap();
            assert_eq!(b.control_basis, ControlBasis::Matched);
            let want_control = outcomes
                .iter()
                .filter(|o| o.arm == "control" && o.intervention.as_deref() == Some(&b.label))
                .count() as u64;
            assert_eq!(c.control.n, want_control);
            assert_eq!(
                b.n,
                outcomes
                    .iter()
                    .filter(|o| o.intervention.as_deref() == Some(&b.label))
                    .count() as u64
            );
        }
        for b in &r.by_segment {
            let c = b.comparison.as_ref().unwrap();
            let in_seg = |o: &&CampaignOutcome| o.segment.as_deref() == Some(&b.label);
            assert_eq!(
                c.control.n,
                outcomes
                    .iter()
                    .filter(in_seg)
                    .filter(|o| o.arm == "control")
                    .count() as u64
            );
            assert_eq!(
                c.control.churned,
                outcomes
                    .iter()
                    .filter(in_seg)
                    .filter(|o| o.arm == "control" && o.churned)
                    .count() as u64
            );
        }
        // Counts cover every outcome once.
        assert_eq!(r.counts().iter().map(|c| c.n).sum::<u64>(), 40);
        assert_eq!(r.counts().iter().map(|c| c.churned).sum::<u64>(), 8);
    }

    #[test]
    fn intervention_without_labelled_controls_uses_the_whole_control() {
        let outcomes = vec![
            CampaignOutcome::new(1u64, "control", true),
            CampaignOutcome::new(2u64, "control", false),
            CampaignOutcome::new(3u64, "treated", false).intervention("coupon"),
        ];
        let r = CampaignEvaluator::new("control")
            .evaluate(&outcomes)
            .unwrap();
        let b = r.intervention("coupon").unwrap();
        assert_eq!(b.control_basis, ControlBasis::WholeControl);
        assert_eq!(b.comparison.as_ref().unwrap().control.n, 2);
    }

    #[test]
    fn rejects_bad_outcomes_naming_index_and_field() {
        let good = || CampaignOutcome::new(1u64, "control", false);
        let cases: Vec<(CampaignOutcome, &str)> = vec![
            (CampaignOutcome::new(2u64, "", false), "arm"),
            (
                CampaignOutcome::new(2u64, "a", false).segment(""),
                "segment",
            ),
            (
                CampaignOutcome::new(2u64, "a", false).intervention(""),
                "intervention",
            ),
            (CampaignOutcome::new(2u64, "a", false).cost(-0.5), "cost"),
            (CampaignOutcome::new(1u64, "a", false), "customer"),
        ];
        for (bad, field) in cases {
            let e = CampaignEvaluator::new("control")
                .evaluate(&[good(), bad])
                .unwrap_err();
            assert!(
                matches!(e.kind(), ErrorKind::InvalidValue { index: 1, field: f, .. } if *f == field),
                "{e}"
            );
        }
        let nan = CampaignOutcome::new(2u64, "a", false).revenue(1.0, f64::NAN);
        let e = CampaignEvaluator::new("control")
            .evaluate(&[good(), nan])
            .unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::NonFinite { row: 1, column, .. } if column == "revenue_after")
        );
        let e = CampaignEvaluator::new("control").evaluate(&[]).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Empty(_)));
        let e = CampaignEvaluator::new("control")
            .evaluate(&[good()])
            .unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Empty(_)));
        let e = CampaignEvaluator::new("ctrl")
            .evaluate(&[good()])
            .unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::UnknownName { suggestions, .. } if suggestions == &["control"])
        );
    }

    #[test]
    fn result_does_not_depend_on_input_order() {
        let mut outcomes = fixture_outcomes();
        for (i, o) in outcomes.iter_mut().enumerate() {
            o.segment = Some(["a", "b", "c"][i % 3].into());
        }
        let forward = CampaignEvaluator::new("control")
            .evaluate(&outcomes)
            .unwrap();
        outcomes.reverse();
        let backward = CampaignEvaluator::new("control")
            .evaluate(&outcomes)
            .unwrap();
        assert_eq!(forward, backward);
    }

    #[test]
    fn report_round_trips_through_json_and_displays() {
        let r = CampaignEvaluator::new("control")
            .evaluate(&fixture_outcomes())
            .unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<CampaignReport>(&json).unwrap(), r);
        let text = r.to_string();
        assert!(
            text.contains("treatment") && text.contains("13.00%") && text.contains("(control)")
        );
    }

    #[test]
    fn evaluator_config_is_serde_data_checked_on_use() {
        let e = CampaignEvaluator::new("holdout").confidence(0.9).unwrap();
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<CampaignEvaluator>(&json).unwrap(), e);
        let partial: CampaignEvaluator = serde_json::from_str(r#"{"control": "hold"}"#).unwrap();
        assert_eq!(partial.confidence_level(), 0.95);
        assert!(serde_json::from_str::<CampaignEvaluator>(r#"{"controll": "x"}"#).is_err());
        let bad: CampaignEvaluator = serde_json::from_str(r#"{"confidence": 0.0}"#).unwrap();
        let e = bad.evaluate(&fixture_outcomes()).unwrap_err();
        assert!(matches!(
            e.kind(),
            ErrorKind::InvalidParameter {
                name: "confidence",
                ..
            }
        ));
        let empty: CampaignEvaluator = serde_json::from_str(r#"{"control": ""}"#).unwrap();
        assert!(empty.validate().is_err());
    }

    /// At 90% the Wilson interval uses z = Φ⁻¹(0.95) = 1.6448536269514722 (mpmath).
    #[test]
    fn confidence_level_sets_the_critical_value() {
        let r = CampaignEvaluator::new("control")
            .confidence(0.9)
            .unwrap()
            .evaluate(&fixture_outcomes())
            .unwrap();
        let z: f64 = 1.644_853_626_951_472_2;
        let (p, n) = (0.13, 2400.0);
        let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
        let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
        let ci = r.arm("treatment").unwrap().summary.churn.ci;
        assert_abs_diff_eq!(ci.lower, centre - half, epsilon = 1e-15);
        assert_abs_diff_eq!(ci.upper, centre + half, epsilon = 1e-15);
    }

    #[test]
    fn public_types_are_send_sync() {
        fn assert_auto<T: Send + Sync + Unpin + Clone + 'static>() {}
        assert_auto::<CampaignReport>();
        assert_auto::<CampaignEvaluator>();
        assert_auto::<CampaignOutcome>();
    }

    proptest::proptest! {
        /// Every rate and its interval lie in [0, 1], every interval contains
        /// its estimate, and Holm p-values are ≥ the raw ones.
        #[test]
        fn rates_and_intervals_are_consistent(
            arms in proptest::collection::vec((1u64..300, 0.0..=1.0f64), 2..5),
            confidence in 0.5..0.999f64,
        ) {
            let mut outcomes = Vec::new();
            let mut id = 0u64;
            for (k, (n, f)) in arms.iter().enumerate() {
                let churned = ((*n as f64) * f).floor() as u64;
                let arm = if k == 0 { "control".to_owned() } else { format!("arm{k}") };
                for i in 0..*n {
                    outcomes.push(CampaignOutcome::new(id, arm.clone(), i < churned));
                    id += 1;
                }
            }
            let r = CampaignEvaluator::new("control").confidence(confidence).unwrap().evaluate(&outcomes).unwrap();
            let c = &r.overall.control;
            proptest::prop_assert!(0.0 <= c.churn.ci.lower && c.churn.ci.upper <= 1.0 && c.churn.ci.contains(c.churn.rate));
            for a in &r.overall.arms {
                let s = &a.summary.churn;
                proptest::prop_assert!((0.0..=1.0).contains(&s.rate));
                proptest::prop_assert!(0.0 <= s.ci.lower && s.ci.upper <= 1.0 && s.ci.contains(s.rate));
                proptest::prop_assert!(a.churn_difference_ci.contains(a.churn_difference));
                proptest::prop_assert!(-1.0 <= a.churn_difference_ci.lower && a.churn_difference_ci.upper <= 1.0);
                if let (Some(rel), Some(ci)) = (a.relative_churn_reduction, a.relative_churn_reduction_ci) {
                    proptest::prop_assert!(ci.contains(rel));
                }
                proptest::prop_assert!((0.0..=1.0).contains(&a.p_value));
                proptest::prop_assert!(a.p_value_holm >= a.p_value && a.p_value_holm <= 1.0);
            }
        }
    }
}
