//! Closing the loop: measured effects per intervention and segment feed the next plan.

use serde::{Deserialize, Serialize};

use super::playbook::Playbook;
use super::report::{CampaignReport, CellCounts};
use crate::{Error, Result};

/// Updates a playbook's effects from a campaign's outcomes with Beta
/// posteriors.
///
/// For each intervention, the churn rates of its treated customers (`p_t`)
/// and of its matched controls (`p_c`, controls planned for the same
/// intervention) get Beta priors worth `prior_strength` customers: `p_c`
/// centred on the controls' pooled rate, `p_t` on `p_c`'s posterior mean ×
/// (1 − the playbook's current effect), so evidence on one arm alone leaves
/// the effect where it was. The posterior means give the intervention's
/// new effect `1 − E[p_t] / E[p_c]`, clamped to [0, 1]. Each segment is then
/// estimated the same way with the intervention's new effect as its prior,
/// worth `segment_strength` customers, so small segments borrow strength
/// from the whole (partial pooling) instead of swinging with noise.
/// Interventions without controls keep their figures.
///
/// # Example
///
/// ```
/// use churnwise::rules::Route;
/// use churnwise::retention::{CampaignEvaluator, CampaignOutcome, EffectLearner, Intervention, InterventionKind, Playbook, SegmentBy};
///
/// let playbook = Playbook::new(vec![Intervention::new("call", InterventionKind::PersonalCallBack, 5.0, 0.1, Route::Sales)],
///     SegmentBy::LifecycleStage)?;
/// // 400 treated (40 churned) against 400 controls (80 churned), all silent: a 50% reduction.
/// let outcomes: Vec<CampaignOutcome> = (0..800u64).map(|i| {
///     let treated = i < 400;
///     let churned = if treated { i % 10 == 0 } else { i % 5 == 0 };
///     CampaignOutcome::new(i, if treated { "call" } else { "control" }, churned)
///         .intervention("call").segment("silent")
/// }).collect();
/// let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
/// let (updated, estimates) = EffectLearner::new().update(&playbook, &report)?;
/// let silent = updated.get("call").unwrap().effect_for(Some("silent"));
/// assert!(silent > 0.4 && silent < 0.5, "{silent}"); // pulled slightly toward the guess 0.1
/// assert_eq!(estimates[0].segment.as_deref(), Some("silent"));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EffectLearner {
    prior_strength: f64,
    segment_strength: f64,
}

impl Default for EffectLearner {
    fn default() -> Self {
        EffectLearner::new()
    }
}

/// A measured effect of one intervention in one segment (`None`: all segments).
///
/// # Example
///
/// See [`EffectLearner`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EffectEstimate {
    /// The intervention's id.
    pub intervention: String,
    /// The segment, or `None` for the intervention's default effect.
    pub segment: Option<String>,
    /// Treated customers and how many churned.
    pub treated: (u64, u64),
    /// Matched controls and how many churned.
    pub control: (u64, u64),
    /// The effect before the update.
    pub prior_effect: f64,
    /// The posterior effect.
    pub effect: f64,
}

impl EffectLearner {
    /// A learner with priors worth 20 customers, and segment priors worth 400.
    pub fn new() -> Self {
        EffectLearner {
            prior_strength: 20.0,
            segment_strength: 400.0,
        }
    }

    /// How many customers a segment's prior (the intervention's overall
    /// effect) is worth. Defaults to `400`; must be finite and `> 0`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::EffectLearner;
    /// # use churnwise::rules::Route;
    /// # use churnwise::retention::{CampaignEvaluator, CampaignOutcome, Intervention, InterventionKind, Playbook, SegmentBy};
    /// # let playbook = Playbook::new(vec![Intervention::new("call", InterventionKind::PersonalCallBack, 5.0, 0.1, Route::Sales)],
    /// #     SegmentBy::LifecycleStage)?;
    /// # // 400 treated (40 churned) against 400 controls (80 churned), all silent: a 50% reduction.
    /// # let outcomes: Vec<CampaignOutcome> = (0..800u64).map(|i| {
    /// #     let treated = i < 400;
    /// #     let churned = if treated { i % 10 == 0 } else { i % 5 == 0 };
    /// #     CampaignOutcome::new(i, if treated { "call" } else { "control" }, churned).intervention("call").segment("silent")
    /// # }).collect();
    /// # let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
    /// // Measured: a 50% reduction in the silent segment; the overall estimate is about 0.48.
    /// let silent = |learner: EffectLearner| -> churnwise::Result<f64> {
    ///     let (updated, _) = learner.update(&playbook, &report)?;
    ///     Ok(updated.get("call").unwrap().effect_for(Some("silent")))
    /// };
    /// assert!(silent(EffectLearner::new().segment_strength(1.0))? > 0.49); // the segment's own data
    /// assert!((silent(EffectLearner::new().segment_strength(1e9))? - 0.481).abs() < 1e-3); // the overall figure
    /// assert!(EffectLearner::new().segment_strength(0.0).validate().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn segment_strength(mut self, customers: f64) -> Self {
        self.segment_strength = customers;
        self
    }

    /// How many customers the prior is worth. Defaults to `20`; must be
    /// finite and `> 0`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::EffectLearner;
    /// # use churnwise::rules::Route;
    /// # use churnwise::retention::{CampaignEvaluator, CampaignOutcome, Intervention, InterventionKind, Playbook, SegmentBy};
    /// # let playbook = Playbook::new(vec![Intervention::new("call", InterventionKind::PersonalCallBack, 5.0, 0.1, Route::Sales)],
    /// #     SegmentBy::LifecycleStage)?;
    /// # // 400 treated (40 churned) against 400 controls (80 churned), all silent: a 50% reduction.
    /// # let outcomes: Vec<CampaignOutcome> = (0..800u64).map(|i| {
    /// #     let treated = i < 400;
    /// #     let churned = if treated { i % 10 == 0 } else { i % 5 == 0 };
    /// #     CampaignOutcome::new(i, if treated { "call" } else { "control" }, churned).intervention("call").segment("silent")
    /// # }).collect();
    /// # let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
    /// let overall = |learner: EffectLearner| -> churnwise::Result<f64> {
    ///     let (updated, _) = learner.update(&playbook, &report)?;
    ///     Ok(updated.get("call").unwrap().effect())
    /// };
    /// // A weak prior follows the data (0.5); a strong one keeps the playbook's guess (0.1).
    /// assert!((overall(EffectLearner::new().prior_strength(1.0))? - 0.5).abs() < 0.01);
    /// assert!((overall(EffectLearner::new().prior_strength(1e9))? - 0.1).abs() < 0.01);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn prior_strength(mut self, customers: f64) -> Self {
        self.prior_strength = customers;
        self
    }

    /// The prior's strength, in customers.
    pub fn prior_strength_value(&self) -> f64 {
        self.prior_strength
    }

    /// The segment prior's strength, in customers.
    pub fn segment_strength_value(&self) -> f64 {
        self.segment_strength
    }

    /// Checks the settings; [`update`](Self::update) calls it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `prior_strength` or `segment_strength` for a strength ≤ 0 or
    /// not finite.
    pub fn validate(&self) -> Result<()> {
        strength("prior_strength", self.prior_strength)?;
        strength("segment_strength", self.segment_strength)?;
        Ok(())
    }

    /// The estimates for every intervention of the playbook measured in the
    /// report, and the playbook with its effects replaced by them.
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate) and [`Playbook::set_effects`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::EffectLearner;
    /// # use churnwise::rules::Route;
    /// # use churnwise::retention::{CampaignEvaluator, CampaignOutcome, Intervention, InterventionKind, Playbook, SegmentBy};
    /// # let playbook = Playbook::new(vec![Intervention::new("call", InterventionKind::PersonalCallBack, 5.0, 0.1, Route::Sales)],
    /// #     SegmentBy::LifecycleStage)?;
    /// # // 400 treated (40 churned) against 400 controls (80 churned), all silent: a 50% reduction.
    /// # let outcomes: Vec<CampaignOutcome> = (0..800u64).map(|i| {
    /// #     let treated = i < 400;
    /// #     let churned = if treated { i % 10 == 0 } else { i % 5 == 0 };
    /// #     CampaignOutcome::new(i, if treated { "call" } else { "control" }, churned).intervention("call").segment("silent")
    /// # }).collect();
    /// # let report = CampaignEvaluator::new("control").evaluate(&outcomes)?;
    /// let (updated, estimates) = EffectLearner::new().update(&playbook, &report)?;
    /// // One estimate for the silent segment, then the intervention's overall one.
    /// let overall = &estimates[1];
    /// assert_eq!((overall.segment.as_deref(), overall.treated, overall.control), (None, (400, 40), (400, 80)));
    /// assert_eq!(overall.prior_effect, 0.1);
    /// assert_eq!(updated.get("call").unwrap().effect(), overall.effect);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn update(
        &self,
        playbook: &Playbook,
        report: &CampaignReport,
    ) -> Result<(Playbook, Vec<EffectEstimate>)> {
        self.validate()?;
        let mut updated = playbook.clone();
        let mut estimates = Vec::new();
        for iv in playbook.interventions() {
            let cells: Vec<&CellCounts> = report
                .counts()
                .iter()
                .filter(|c| c.intervention.as_deref() == Some(iv.id()))
                .collect();
            let (control_n, control_churned) = totals(cells.iter().filter(|c| c.is_control));
            if control_n == 0 {
                continue; // nothing to compare with: keep the playbook's figures
            }
            let base = control_churned as f64 / control_n as f64;
            let mut segments: Vec<&str> =
                cells.iter().filter_map(|c| c.segment.as_deref()).collect();
            segments.sort_unstable();
            segments.dedup();
            let overall = self.estimate(
                iv.id(),
                None,
                iv.effect(),
                base,
                self.prior_strength,
                cells.iter(),
            );
            let mut by_segment = iv.segment_effects().clone();
            for segment in segments {
                let in_segment = cells
                    .iter()
                    .filter(|c| c.segment.as_deref() == Some(segment));
                let estimate = self.estimate(
                    iv.id(),
                    Some(segment),
                    overall.effect,
                    base,
                    self.segment_strength,
                    in_segment,
                );
                by_segment.insert(segment.to_owned(), estimate.effect);
                estimates.push(estimate);
            }
            updated.set_effects(iv.id(), overall.effect, by_segment)?;
            estimates.push(overall);
        }
        Ok((updated, estimates))
    }

    fn estimate<'a>(
        &self,
        intervention: &str,
        segment: Option<&str>,
        prior_effect: f64,
        base_rate: f64,
        k: f64,
        cells: impl Iterator<Item = &'a &'a CellCounts> + Clone,
    ) -> EffectEstimate {
        let treated = totals(cells.clone().filter(|c| !c.is_control));
        let control = totals(cells.filter(|c| c.is_control));
        let posterior_mean = |prior_mean: f64, (n, churned): (u64, u64)| {
            (k * prior_mean + churned as f64) / (k + n as f64)
        };
        // The treated prior follows the control posterior, so evidence on
        // one arm alone leaves the effect at its prior.
        let p_c = posterior_mean(base_rate, control);
        let p_t = posterior_mean(p_c * (1.0 - prior_effect), treated);
        let effect = if control.0 == 0 || treated.0 == 0 || p_c <= 0.0 {
            prior_effect
        } else {
            (1.0 - p_t / p_c).clamp(0.0, 1.0)
        };
        EffectEstimate {
            intervention: intervention.to_owned(),
            segment: segment.map(str::to_owned),
            treated,
            control,
            prior_effect,
            effect,
        }
    }
}

fn strength(name: &'static str, customers: f64) -> Result<f64> {
    if customers.is_finite() && customers > 0.0 {
        Ok(customers)
    } else {
        Err(Error::invalid_parameter(
            name,
            format!("must be finite and > 0, got {customers}"),
        ))
    }
}

fn totals<'a>(cells: impl Iterator<Item = &'a &'a CellCounts>) -> (u64, u64) {
    cells.fold((0, 0), |(n, x), c| (n + c.n, x + c.churned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posterior_effect_matches_a_hand_calculation() {
        // Prior strength 20, control pooled rate 0.2, prior effect 0.25:
        // p_c = (20·0.2 + 30) / (20 + 100) = 34/120;
        // p_t = (20 · (34/120) · 0.75 + 10) / (20 + 100) = 14.25/120; effect = 1 − 14.25/34.
        let cell = |is_control, n, churned| CellCounts {
            arm: if is_control {
                "control".into()
            } else {
                "x".into()
            },
            is_control,
            intervention: Some("x".into()),
            segment: Some("s".into()),
            n,
            churned,
            repurchase_known: 0,
            repurchased: 0,
        };
        let cells = [cell(false, 100, 10), cell(true, 100, 30)];
        let refs: Vec<&CellCounts> = cells.iter().collect();
        let e = EffectLearner::new().estimate("x", Some("s"), 0.25, 0.2, 20.0, refs.iter());
        approx::assert_relative_eq!(e.effect, 1.0 - 14.25 / 34.0, epsilon = 1e-12);

        assert_eq!((e.treated, e.control), ((100, 10), (100, 30)));
        // Controls only: the effect stays at its prior.
        let only_controls = [cell(true, 50, 1)];
        let refs: Vec<&CellCounts> = only_controls.iter().collect();
        let e = EffectLearner::new().estimate("x", Some("s"), 0.186, 0.2, 400.0, refs.iter());
        assert_eq!(e.effect, 0.186);
    }

    #[test]
    fn strength_must_be_positive() {
        assert!(EffectLearner::new().prior_strength(0.0).validate().is_err());
        let e = EffectLearner::new()
            .segment_strength(f64::NAN)
            .validate()
            .unwrap_err();
        assert!(matches!(
            e.kind(),
            crate::ErrorKind::InvalidParameter {
                name: "segment_strength",
                ..
            }
        ));
    }
}
