//! Campaign evaluation: treatment arms against a shared control, overall,
//! by intervention and by segment.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::outcome::CampaignOutcome;
use super::report::{
    ArmEffect, ArmSummary, Breakdown, CampaignReport, CellCounts, Comparison, ControlBasis,
    Difference, EffectBasis, MeanDifference, MeanEstimate, PairedChange, RateEstimate,
};
use crate::records::CustomerId;
use crate::stats::{Interval, critical_value, newcombe_z, ratio_z, wilson_z};
use crate::stats::{MantelHaenszel, Stratum, holm_unchecked, mantel_haenszel_z, z_test_counts};
use crate::{Error, ErrorKind, Result};

/// How a campaign assigned customers to its arms, which decides the
/// headline comparison of each arm with the control.
///
/// A targeted campaign holds out controls *within* strata (the planner picks
/// who gets which intervention by risk and value, and
/// [`HoldOut`](super::HoldOut) draws controls within each (intervention,
/// segment) stratum), so the arms and the pooled control differ in risk:
/// comparing an arm with all controls mixes customers of different risk and
/// can show the wrong sign. Such a campaign must be compared within strata.
/// Only when the arms were randomized over the whole population is the
/// pooled comparison unbiased too.
///
/// The stratum of an outcome is its (`intervention`, `segment`) pair, exactly
/// the cells [`HoldOut`](super::HoldOut) draws its controls in. A label
/// counts only when the controls are matched on it: when some control
/// outcome carries an intervention (or segment) that treated outcomes carry
/// too. Controls labelled, say, `intervention: "control"` are thus not
/// matched by intervention.
///
/// # Example
///
/// ```
/// use churnwise::retention::{CampaignDesign, CampaignEvaluator, CampaignOutcome, EffectBasis};
///
/// let outcomes = vec![
///     CampaignOutcome::new(1u64, "control", true).segment("risky"),
///     CampaignOutcome::new(2u64, "sms", false).segment("risky"),
/// ];
/// // Controls carry a segment: compared within segments.
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
/// assert_eq!(report.overall.arms[0].basis, EffectBasis::Stratified);
/// // Declared randomized: the pooled comparison is the headline.
/// let report = CampaignEvaluator::new("control").design(CampaignDesign::Randomized).evaluate(&outcomes)?;
/// assert_eq!(report.overall.arms[0].basis, EffectBasis::Pooled);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CampaignDesign {
    /// Stratified when the controls are matched by intervention or segment
    /// (some control outcome carries a label that treated outcomes carry too,
    /// as with [`HoldOut`](super::HoldOut)), pooled otherwise. The default.
    #[default]
    Auto,
    /// Controls were drawn within (`intervention`, `segment`) strata: every
    /// comparison is stratified (Mantel–Haenszel), and the pooled one is
    /// reported as not comparable.
    Stratified,
    /// Every arm was randomized over the same population: the pooled
    /// comparison is the headline (a stratified one is still reported when
    /// the outcomes carry strata).
    Randomized,
}

/// Settings for evaluating a campaign: which arm is the control, how the
/// arms were assigned, and the confidence level of every interval.
///
/// [`evaluate`](Self::evaluate) turns a campaign's [`CampaignOutcome`]s
/// into a [`CampaignReport`]. Defaults: control arm `"control"`, design
/// [`CampaignDesign::Auto`], confidence `0.95`.
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
    design: CampaignDesign,
}

impl Default for CampaignEvaluator {
    fn default() -> Self {
        CampaignEvaluator {
            control: "control".into(),
            confidence: 0.95,
            design: CampaignDesign::Auto,
        }
    }
}

impl CampaignEvaluator {
    /// Evaluates against the arm named `control`, at 95% confidence.
    pub fn new(control: impl Into<String>) -> Self {
        CampaignEvaluator {
            control: control.into(),
            ..CampaignEvaluator::default()
        }
    }

    /// The confidence level of every interval. Defaults to `0.95`; must be
    /// in `(0, 1)`, which [`validate`](Self::validate) checks.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::{CampaignEvaluator, CampaignOutcome};
    ///
    /// let outcomes = vec![CampaignOutcome::new(1u64, "control", true), CampaignOutcome::new(2u64, "sms", false)];
    /// let narrow = CampaignEvaluator::new("control").confidence(0.5).evaluate(&outcomes)?;
    /// let wide = CampaignEvaluator::new("control").evaluate(&outcomes)?;
    /// assert!(narrow.overall.control.churn.ci.width() < wide.overall.control.churn.ci.width());
    /// assert!(CampaignEvaluator::new("control").confidence(95.0).evaluate(&outcomes).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn confidence(mut self, confidence: f64) -> Self {
        self.confidence = confidence;
        self
    }

    /// How the campaign assigned its arms. Defaults to [`CampaignDesign::Auto`].
    pub fn design(mut self, design: CampaignDesign) -> Self {
        self.design = design;
        self
    }

    /// The control arm's name.
    pub fn control_arm(&self) -> &str {
        &self.control
    }

    /// The confidence level.
    pub fn confidence_value(&self) -> f64 {
        self.confidence
    }

    /// The campaign design.
    pub fn design_value(&self) -> CampaignDesign {
        self.design
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
        // A label matches when some control and some treated customer share it.
        let matched = |label: fn(&CampaignOutcome) -> Option<&str>| -> bool {
            let treated: BTreeSet<&str> = outcomes
                .iter()
                .filter(|o| o.arm != self.control)
                .filter_map(label)
                .collect();
            outcomes
                .iter()
                .filter(|o| o.arm == self.control)
                .filter_map(label)
                .any(|l| treated.contains(l))
        };
        let by_intervention = matched(|o| o.intervention.as_deref());
        let by_segment = matched(|o| o.segment.as_deref());
        let has_strata = by_intervention || by_segment;
        let ctx = Context {
            outcomes,
            control: &self.control,
            z: critical_value(self.confidence)?,
            headline: match self.design {
                CampaignDesign::Auto if has_strata => EffectBasis::Stratified,
                CampaignDesign::Auto | CampaignDesign::Randomized => EffectBasis::Pooled,
                CampaignDesign::Stratified => EffectBasis::Stratified,
            },
            with_strata: has_strata || self.design == CampaignDesign::Stratified,
            by_intervention,
            by_segment,
        };
        let all: Vec<usize> = (0..outcomes.len()).collect();
        let (control_rows, treated_rows) = ctx.split(&all);
        let overall = ctx
            .compare(&control_rows, &treated_rows)
            .ok_or_else(|| ErrorKind::Empty("no treatment arm to compare".into()))?;

        Ok(CampaignReport {
            control_arm: self.control.clone(),
            confidence: self.confidence,
            design: self.design,
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

/// Shared state while building a report.
struct Context<'a> {
    outcomes: &'a [CampaignOutcome],
    control: &'a str,
    z: f64,
    /// The estimate each comparison leads with.
    headline: EffectBasis,
    /// Whether to compute stratified estimates at all.
    with_strata: bool,
    /// Whether strata are told apart by intervention (controls name the
    /// treated customers' interventions) and by segment.
    by_intervention: bool,
    by_segment: bool,
}

/// The matching stratum of an outcome: its (intervention, segment).
type StratumKey<'a> = (Option<&'a str>, Option<&'a str>);

/// Per stratum: (treated count, treated n, control count, control n).
type Tables<'a> = BTreeMap<StratumKey<'a>, [u64; 4]>;

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
            .map(|(arm, rows)| self.effect(self.summarize(arm, rows), &control, rows, control_rows))
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

    fn key(&self, i: usize) -> StratumKey<'_> {
        let o = &self.outcomes[i];
        (
            o.intervention.as_deref().filter(|_| self.by_intervention),
            o.segment.as_deref().filter(|_| self.by_segment),
        )
    }

    /// 2×2 tables per stratum of `event` among the rows where it is known.
    fn tables(
        &self,
        treated: &[usize],
        control: &[usize],
        event: impl Fn(&CampaignOutcome) -> Option<bool>,
    ) -> Tables<'_> {
        let mut tables: Tables<'_> = BTreeMap::new();
        for (rows, offset) in [(treated, 0), (control, 2)] {
            for &i in rows {
                if let Some(e) = event(&self.outcomes[i]) {
                    let t = tables.entry(self.key(i)).or_default();
                    t[offset] += u64::from(e);
                    t[offset + 1] += 1;
                }
            }
        }
        tables
    }

    fn mantel_haenszel(&self, tables: &Tables<'_>) -> Option<MantelHaenszel> {
        let strata: Vec<Stratum> = tables
            .values()
            .map(|t| Stratum::new(t[0], t[1], t[2], t[3]))
            .collect();
        mantel_haenszel_z(&strata, self.z)
    }

    /// `Σ_k n_arm,k · (mean revenue of the arm − of the control)` over the
    /// strata where both have revenue: the arm's incremental revenue
    /// compared like for like.
    fn stratified_revenue(&self, treated: &[usize], control: &[usize]) -> Option<f64> {
        // Per stratum: arm customers, arm revenue sum and count, control revenue sum and count.
        let mut cells: BTreeMap<StratumKey<'_>, (f64, f64, f64, f64, f64)> = BTreeMap::new();
        for &i in treated {
            let c = cells.entry(self.key(i)).or_default();
            c.0 += 1.0;
            if let Some(r) = self.outcomes[i].revenue_after {
                c.1 += r;
                c.2 += 1.0;
            }
        }
        for &i in control {
            if let (Some(c), Some(r)) =
                (cells.get_mut(&self.key(i)), self.outcomes[i].revenue_after)
            {
                c.3 += r;
                c.4 += 1.0;
            }
        }
        let matched: Vec<f64> = cells
            .values()
            .filter(|c| c.2 > 0.0 && c.4 > 0.0)
            .map(|c| c.0 * (c.1 / c.2 - c.3 / c.4))
            .collect();
        (!matched.is_empty()).then(|| matched.iter().sum())
    }

    fn effect(
        &self,
        summary: ArmSummary,
        control: &ArmSummary,
        treated_rows: &[usize],
        control_rows: &[usize],
    ) -> ArmEffect {
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
        let pooled = Difference {
            estimate: pa - pc,
            ci: newcombe_z(xa, na, xc, nc, self.z),
        };
        let churn_tables = if self.with_strata {
            self.tables(treated_rows, control_rows, |o| Some(o.churned))
        } else {
            BTreeMap::new()
        };
        let stratified = self.mantel_haenszel(&churn_tables);
        let mut repurchase_difference = match (&summary.repurchase, &control.repurchase) {
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
        let mut incremental_revenue = summary
            .revenue_after
            .as_ref()
            .zip(control.revenue_after.as_ref())
            .map(|(a, c)| (a.mean - c.mean) * na as f64);
        let cost = summary.cost;
        let mut effect = ArmEffect {
            basis: EffectBasis::Pooled,
            churn_difference: pooled.estimate,
            churn_difference_ci: pooled.ci,
            relative_churn_reduction: relative,
            relative_churn_reduction_ci: relative_ci,
            z: test.z,
            p_value: test.p_value,
            p_value_holm: test.p_value,
            pooled,
            stratified: None,
            repurchase_difference: None,
            satisfaction_change_difference,
            incremental_revenue: None,
            net_revenue: None,
            roi: None,
            summary,
        };
        if let (EffectBasis::Stratified, Some(mh)) = (self.headline, &stratified) {
            effect.basis = EffectBasis::Stratified;
            effect.churn_difference = mh.risk_difference;
            effect.churn_difference_ci = mh.risk_difference_ci;
            effect.relative_churn_reduction = mh.risk_ratio.map(|rr| 1.0 - rr);
            effect.relative_churn_reduction_ci = mh.risk_ratio_ci.map(|ci| Interval {
                lower: 1.0 - ci.upper,
                upper: 1.0 - ci.lower,
            });
            effect.z = mh.z;
            effect.p_value = mh.p_value;
            effect.p_value_holm = mh.p_value;
            // One matching stratum: the MH estimate is that stratum's plain
            // difference; its small-sample interval and test are Newcombe's
            // and the z-test (Sato's variance is 0 when the stratum has no
            // churner, which would give a zero-width interval).
            let mut matching = churn_tables.values().filter(|t| t[1] > 0 && t[3] > 0);
            if let (Some(&[xa, na, xc, nc]), None) = (matching.next(), matching.next()) {
                let test = z_test_counts(xa, na, xc, nc);
                effect.churn_difference_ci = newcombe_z(xa, na, xc, nc, self.z);
                effect.relative_churn_reduction_ci =
                    ratio_z(xa, na, xc, nc, self.z).map(|r| Interval {
                        lower: 1.0 - r.upper,
                        upper: 1.0 - r.lower,
                    });
                effect.z = test.z;
                effect.p_value = test.p_value;
                effect.p_value_holm = test.p_value;
            }
            if repurchase_difference.is_some() {
                repurchase_difference = self
                    .mantel_haenszel(&self.tables(treated_rows, control_rows, |o| o.repurchased))
                    .map(|r| Difference {
                        estimate: r.risk_difference,
                        ci: r.risk_difference_ci,
                    });
            }
            if incremental_revenue.is_some() {
                incremental_revenue = self.stratified_revenue(treated_rows, control_rows);
            }
        }
        effect.stratified = stratified;
        effect.repurchase_difference = repurchase_difference;
        effect.incremental_revenue = incremental_revenue;
        effect.net_revenue = incremental_revenue.map(|r| r - cost);
        effect.roi = incremental_revenue
            .filter(|_| cost > 0.0)
            .map(|r| (r - cost) / cost);
        effect
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::tol;
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
                crate::stats::two_proportion_z_test(r.arm(a).unwrap().summary.churned, 400, 80, 400)
                    .unwrap()
                    .p_value
            })
            .collect();
        let holm = crate::stats::holm(&raw).unwrap();
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
        let e = CampaignEvaluator::new("holdout").confidence(0.9);
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<CampaignEvaluator>(&json).unwrap(), e);
        let partial: CampaignEvaluator = serde_json::from_str(r#"{"control": "hold"}"#).unwrap();
        assert_eq!(partial.confidence_value(), 0.95);
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

    /// One matching stratum: the headline is that stratum's plain difference
    /// with Newcombe's interval and the z-test, not Sato's zero-width
    /// interval of a stratum without churners.
    #[test]
    fn single_stratum_uses_the_small_sample_methods() {
        let outcomes: Vec<CampaignOutcome> = (0..5u64)
            .map(|i| {
                let arm = if i < 3 { "onboarding" } else { "control" };
                CampaignOutcome::new(i, arm, false)
                    .intervention("onboarding")
                    .segment("new")
            })
            .collect();
        let r = CampaignEvaluator::new("control")
            .evaluate(&outcomes)
            .unwrap();
        let a = r.arm("onboarding").unwrap();
        assert_eq!(a.basis, EffectBasis::Stratified);
        assert_eq!(a.stratified.as_ref().map(|mh| mh.strata), Some(1));
        assert_eq!(a.churn_difference, 0.0);
        assert_eq!(
            a.churn_difference_ci,
            crate::stats::newcombe_interval(0, 3, 0, 2, 0.95).unwrap()
        );
        assert!(a.churn_difference_ci.width() > 0.5);
        assert_eq!((a.z, a.p_value), (0.0, 1.0));
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
            let r = CampaignEvaluator::new("control").confidence(confidence).evaluate(&outcomes).unwrap();
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
