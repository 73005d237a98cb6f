//! Power analysis for a churn-reduction test: how many customers each arm
//! needs, and the smallest reduction a given size can detect.

use serde::{Deserialize, Serialize};

use crate::stats::cohens_h;
use crate::stats::power::{arcsine, check_rate, power_of, solve_effect, two_sided_critical};
use crate::{Error, Result};

/// Power-analysis settings for a two-sided test of a churn-rate difference
/// between one treatment arm and the control.
///
/// Run it before a campaign to size the arms, and after one to know which
/// effects it could have detected. The computation is the normal
/// approximation on Cohen's arcsine effect size `h` ([`cohens_h`]), as
/// statsmodels' `NormalIndPower` with `proportion_effectsize`: the power at
/// treatment size `n₁` and control size `n₂ = ratio·n₁` is
///
/// ```text
/// n_eff = 1 / (1/n₁ + 1/n₂),   c = Φ⁻¹(1 − α/2)
/// power = Φ(|h|·√n_eff − c) + Φ(−|h|·√n_eff − c)
/// ```
///
/// and [`sample_size`](Self::sample_size) and
/// [`minimum_detectable_effect`](Self::minimum_detectable_effect) solve it
/// for `n₁` and for `h` exactly (a safeguarded Newton iteration to machine
/// precision, including the far tail that the textbook closed form
/// `n = 2((c + Φ⁻¹(power))/h)²` drops).
///
/// With `k` treatment arms against one shared control, each comparison is
/// one such test; to keep the family-wise error rate at α as
/// [`holm`](crate::stats::holm) does, plan conservatively with `alpha(α / k)`.
///
/// Defaults: `alpha` 0.05, `target_power` 0.8, `control_ratio` 1.
///
/// # Example
///
/// ```
/// use churnwise::retention::PowerAnalysis;
///
/// // Customers per arm to detect 17% → 13% churn at α = 0.05 (two-sided), power 0.8.
/// let size = PowerAnalysis::new().sample_size(0.17, 0.13)?;
/// assert!((size.treatment - 1_245.809_235).abs() < 1e-5);
/// assert_eq!(size.treatment_customers, 1_246);
///
/// // And back: the smallest reduction 1 246 customers per arm can detect.
/// let mde = PowerAnalysis::new().minimum_detectable_effect(0.17, 1_246.0)?;
/// assert!(mde.absolute_reduction < 0.04 && mde.absolute_reduction > 0.0399);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PowerAnalysis {
    alpha: f64,
    target_power: f64,
    control_ratio: f64,
}

impl Default for PowerAnalysis {
    fn default() -> Self {
        PowerAnalysis {
            alpha: 0.05,
            target_power: 0.8,
            control_ratio: 1.0,
        }
    }
}

/// The customers each arm needs, from [`PowerAnalysis::sample_size`].
///
/// # Example
///
/// ```
/// use churnwise::retention::PowerAnalysis;
///
/// // A control a third the size of the treatment arm.
/// let size = PowerAnalysis::new().control_ratio(1.0 / 3.0).sample_size(0.17, 0.13)?;
/// assert!((size.control - size.treatment / 3.0).abs() < 1e-9);
/// assert!(size.treatment_customers >= 2_491);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SampleSize {
    /// The exact (fractional) solution for the treatment arm, as statsmodels reports it.
    pub treatment: f64,
    /// The exact solution for the control: `control_ratio · treatment`.
    pub control: f64,
    /// `treatment` rounded up: the customers to enrol in the treatment arm.
    pub treatment_customers: u64,
    /// `control` rounded up.
    pub control_customers: u64,
    /// Cohen's `h` of the two rates (control minus treatment).
    pub cohens_h: f64,
}

/// The smallest churn reduction a test of a given size detects with the
/// target power, from [`PowerAnalysis::minimum_detectable_effect`].
///
/// # Example
///
/// ```
/// use churnwise::retention::PowerAnalysis;
///
/// let mde = PowerAnalysis::new().minimum_detectable_effect(0.20, 500.0)?;
/// assert!((mde.control_rate - mde.treatment_rate - mde.absolute_reduction).abs() < 1e-15);
/// assert!((mde.relative_reduction - mde.absolute_reduction / 0.20).abs() < 1e-15);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DetectableEffect {
    /// The control churn rate assumed.
    pub control_rate: f64,
    /// The highest treatment churn rate that is still detected: `sin²(asin√p_c − h/2)`.
    pub treatment_rate: f64,
    /// `control_rate − treatment_rate`.
    pub absolute_reduction: f64,
    /// `absolute_reduction / control_rate`.
    pub relative_reduction: f64,
    /// Cohen's `h` detected.
    pub cohens_h: f64,
}

impl PowerAnalysis {
    /// The defaults: α = 0.05 two-sided, power 0.8, equal arms.
    pub fn new() -> Self {
        PowerAnalysis::default()
    }

    /// The two-sided significance level α. Defaults to `0.05`; must be in `(0, 1)`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::PowerAnalysis;
    ///
    /// // Three arms against one control: Bonferroni-conservative planning needs more customers.
    /// let three = PowerAnalysis::new().alpha(0.05 / 3.0).sample_size(0.17, 0.13)?;
    /// assert!(three.treatment > PowerAnalysis::new().sample_size(0.17, 0.13)?.treatment);
    /// assert!(PowerAnalysis::new().alpha(0.0).validate().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// The power to reach: the probability of a significant result when the
    /// effect is real. Defaults to `0.8`; must be in `(0, 1)` and above `alpha`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::PowerAnalysis;
    ///
    /// let strict = PowerAnalysis::new().target_power(0.9).sample_size(0.17, 0.13)?;
    /// let usual = PowerAnalysis::new().sample_size(0.17, 0.13)?;
    /// assert!(strict.treatment > usual.treatment);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn target_power(mut self, power: f64) -> Self {
        self.target_power = power;
        self
    }

    /// Control size per treatment customer (`n_control = ratio · n_treatment`,
    /// statsmodels' `ratio`). Defaults to `1`; must be finite and `> 0`.
    pub fn control_ratio(mut self, ratio: f64) -> Self {
        self.control_ratio = ratio;
        self
    }

    /// The significance level α.
    pub fn alpha_value(&self) -> f64 {
        self.alpha
    }

    /// The target power.
    pub fn target_power_value(&self) -> f64 {
        self.target_power
    }

    /// The control-to-treatment size ratio.
    pub fn control_ratio_value(&self) -> f64 {
        self.control_ratio
    }

    /// Checks the settings; every computation calls it, so a configuration
    /// built with the setters or read from a file is checked the same way.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `alpha` or `target_power` unless in `(0, 1)`, `control_ratio`
    /// unless finite and `> 0`, or `target_power` unless above `alpha`
    /// (without which no sample size suffices).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::PowerAnalysis;
    ///
    /// let bad: PowerAnalysis = serde_json::from_str(r#"{"alpha": 0.5, "target_power": 0.3}"#).unwrap();
    /// assert!(bad.validate().is_err());
    /// assert!(PowerAnalysis::new().control_ratio(0.0).sample_size(0.17, 0.13).is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        let open_unit = |name: &'static str, x: f64| -> Result<()> {
            if !(x > 0.0 && x < 1.0) {
                return Err(Error::invalid_parameter(
                    name,
                    format!("must be in (0, 1), got {x}"),
                ));
            }
            Ok(())
        };
        open_unit("alpha", self.alpha)?;
        open_unit("target_power", self.target_power)?;
        if !(self.control_ratio.is_finite() && self.control_ratio > 0.0) {
            return Err(Error::invalid_parameter(
                "control_ratio",
                format!("must be finite and > 0, got {}", self.control_ratio),
            ));
        }
        if self.target_power <= self.alpha {
            return Err(Error::invalid_parameter(
                "target_power",
                format!(
                    "must exceed alpha ({}) since a test has that power at no effect, got {}",
                    self.alpha, self.target_power
                ),
            ));
        }
        Ok(())
    }

    /// The power of the test at `treatment_n` treatment customers (and
    /// `control_ratio · treatment_n` controls) when the true churn rates are
    /// `control_rate` and `treatment_rate`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `control_rate` / `treatment_rate` for a rate outside `[0, 1]`,
    /// `treatment_n` unless finite and `> 0`, or as [`validate`](Self::validate).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::PowerAnalysis;
    ///
    /// let p = PowerAnalysis::new();
    /// let size = p.sample_size(0.17, 0.13)?;
    /// assert!((p.achieved_power(0.17, 0.13, size.treatment)? - 0.8).abs() < 1e-12);
    /// assert!(p.achieved_power(0.17, 0.13, 500.0)? < 0.5);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn achieved_power(
        &self,
        control_rate: f64,
        treatment_rate: f64,
        treatment_n: f64,
    ) -> Result<f64> {
        self.validate()?;
        check_rate("control_rate", control_rate)?;
        check_rate("treatment_rate", treatment_rate)?;
        check_size(treatment_n)?;
        let h = (arcsine(control_rate) - arcsine(treatment_rate)).abs();
        let u = h * self.effective_n(treatment_n).sqrt();
        Ok(power_of(u, self.critical()))
    }

    /// The customers needed in the treatment arm (and the control) to detect
    /// a change of the churn rate from `control_rate` to `treatment_rate`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `control_rate` / `treatment_rate` for a rate outside `[0, 1]`,
    /// `treatment_rate` when the two rates are equal (no sample suffices) or
    /// so close that an arm would need more than 2^53 customers, or as
    /// [`validate`](Self::validate).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::PowerAnalysis;
    ///
    /// // statsmodels: NormalIndPower().solve_power(proportion_effectsize(0.17, 0.13),
    /// //     alpha=0.05, power=0.8, ratio=1) = 1245.8092353084828
    /// let size = PowerAnalysis::new().sample_size(0.17, 0.13)?;
    /// assert!((size.treatment / 1_245.809_235_308_482_8 - 1.0).abs() < 1e-9);
    /// assert_eq!((size.treatment_customers, size.control_customers), (1_246, 1_246));
    /// // A vanishing change is an error, not a saturated count.
    /// let err = PowerAnalysis::new().sample_size(0.17, 0.17 + 1e-12).unwrap_err();
    /// assert!(err.to_string().contains("too small to detect"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn sample_size(&self, control_rate: f64, treatment_rate: f64) -> Result<SampleSize> {
        self.validate()?;
        let h = cohens_h(control_rate, treatment_rate).map_err(|_| {
            let (name, p) = if (0.0..=1.0).contains(&control_rate) {
                ("treatment_rate", treatment_rate)
            } else {
                ("control_rate", control_rate)
            };
            Error::invalid_parameter(name, format!("must be a rate in [0, 1], got {p}"))
        })?;
        if h == 0.0 {
            return Err(Error::invalid_parameter(
                "treatment_rate",
                format!(
                    "must differ from control_rate ({control_rate}): no sample detects no change"
                ),
            ));
        }
        let u = solve_effect(self.critical(), self.target_power);
        let effective = (u / h).powi(2);
        // n_eff = n₁·r/(1 + r)  ⇒  n₁ = n_eff·(1 + r)/r
        let treatment = effective * (1.0 + self.control_ratio) / self.control_ratio;
        let control = treatment * self.control_ratio;
        // Counts past 2^53 are not exact as floats (and would saturate as
        // u64): no real test can have that many customers.
        let largest = treatment.max(control);
        if largest.is_nan() || largest > MAX_EXACT_COUNT {
            return Err(Error::invalid_parameter(
                "treatment_rate",
                format!(
                    "the change from {control_rate} to {treatment_rate} is too small to detect: it needs {largest:.3e} customers in one arm, more than 2^53"
                ),
            ));
        }
        Ok(SampleSize {
            treatment,
            control,
            treatment_customers: ceil_count(treatment),
            control_customers: ceil_count(control),
            cohens_h: h,
        })
    }

    /// The smallest churn *reduction* from `control_rate` that a test with
    /// `treatment_n` treatment customers (and `control_ratio · treatment_n`
    /// controls) detects with the target power.
    ///
    /// `treatment_n` may be fractional, so that it inverts
    /// [`sample_size`](Self::sample_size) exactly.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `control_rate` unless in `(0, 1]`, `treatment_n` unless finite
    /// and `> 0`, or when the arms are so small that not even a churn rate of
    /// 0 would be detected; or as [`validate`](Self::validate).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::PowerAnalysis;
    ///
    /// let p = PowerAnalysis::new();
    /// let n = p.sample_size(0.17, 0.13)?.treatment;
    /// let mde = p.minimum_detectable_effect(0.17, n)?;
    /// assert!((mde.treatment_rate - 0.13).abs() < 1e-12);
    /// assert!(p.minimum_detectable_effect(0.17, 5.0).is_err()); // far too few
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn minimum_detectable_effect(
        &self,
        control_rate: f64,
        treatment_n: f64,
    ) -> Result<DetectableEffect> {
        self.validate()?;
        if !(control_rate > 0.0 && control_rate <= 1.0) {
            return Err(Error::invalid_parameter(
                "control_rate",
                format!("must be in (0, 1] for a reduction to exist, got {control_rate}"),
            ));
        }
        check_size(treatment_n)?;
        let u = solve_effect(self.critical(), self.target_power);
        let h = u / self.effective_n(treatment_n).sqrt();
        let angle = control_rate.sqrt().asin() - h / 2.0;
        if angle < 0.0 {
            return Err(Error::invalid_parameter(
                "treatment_n",
                format!(
                    "{treatment_n} treatment customers cannot detect any reduction from a churn \
                     rate of {control_rate} (even 0 needs Cohen's h = {h:.4})"
                ),
            ));
        }
        let treatment_rate = angle.sin().powi(2);
        let absolute_reduction = control_rate - treatment_rate;
        Ok(DetectableEffect {
            control_rate,
            treatment_rate,
            absolute_reduction,
            relative_reduction: absolute_reduction / control_rate,
            cohens_h: h,
        })
    }

    fn critical(&self) -> f64 {
        two_sided_critical(self.alpha)
    }

    fn effective_n(&self, treatment_n: f64) -> f64 {
        treatment_n * self.control_ratio / (1.0 + self.control_ratio)
    }
}

fn check_size(n: f64) -> Result<()> {
    if !(n.is_finite() && n > 0.0) {
        return Err(Error::invalid_parameter(
            "treatment_n",
            format!("must be finite and > 0, got {n}"),
        ));
    }
    Ok(())
}

/// 2^53: the largest count every smaller one of which is exact in `f64`.
const MAX_EXACT_COUNT: f64 = 9_007_199_254_740_992.0;

fn ceil_count(x: f64) -> u64 {
    // `as` saturates; x is finite and positive here. A tolerance absorbs
    // rounding of an exact integer solution (e.g. 1000.0000000000001).
    (x * (1.0 - 4.0 * f64::EPSILON)).ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::stats::tol;
    use approx::{assert_abs_diff_eq, assert_relative_eq};

    /// tests/fixtures/campaign_reference.json: statsmodels 0.15.0
    /// `NormalIndPower().solve_power(proportion_effectsize(0.17, 0.13), alpha=0.05,
    /// power=0.8, ratio=1)` = 1245.8092353084828 (its root finder stops at
    /// ~2e-10 relative; mpmath's exact root is 1245.80923530824023).
    #[test]
    fn sample_size_matches_statsmodels_reference() {
        let size = PowerAnalysis::new().sample_size(0.17, 0.13).unwrap();
        assert_relative_eq!(
            size.treatment,
            1_245.809_235_308_482_8,
            max_relative = tol::ROOT_FINDER
        );
        assert_relative_eq!(
            size.treatment,
            1_245.809_235_308_240_2,
            max_relative = 1e-12
        );
        assert_eq!(size.treatment_customers, 1246);
        // Direction does not matter for a two-sided test.
        let up = PowerAnalysis::new().sample_size(0.13, 0.17).unwrap();
        assert_relative_eq!(up.treatment, size.treatment, max_relative = tol::EXACT);
    }

    /// Closed form without the far tail: n = 2((z_0.975 + z_0.8)/h)² =
    /// 1245.81228679718412 (mpmath), just above the exact root.
    #[test]
    fn sample_size_is_just_below_the_textbook_closed_form() {
        let size = PowerAnalysis::new().sample_size(0.17, 0.13).unwrap();
        assert!(size.treatment < 1_245.812_286_797_184);
        assert_abs_diff_eq!(size.treatment, 1_245.812_286_797_184, epsilon = 4e-3);
    }

    /// Unequal arms: n_eff = n₁·r/(1 + r) is what matters, so n₁(r) = n₁(1)·(1 + r)/(2r).
    #[test]
    fn unequal_arms_scale_by_the_effective_size() {
        let equal = PowerAnalysis::new().sample_size(0.17, 0.13).unwrap();
        let third = PowerAnalysis::new()
            .control_ratio(1.0 / 3.0)
            .sample_size(0.17, 0.13)
            .unwrap();
        assert_relative_eq!(
            third.treatment,
            equal.treatment * (4.0 / 3.0) / (2.0 / 3.0),
            max_relative = 1e-13
        );
        assert_relative_eq!(
            third.control,
            third.treatment / 3.0,
            max_relative = tol::EXACT
        );
    }

    #[test]
    fn minimum_detectable_effect_inverts_sample_size() {
        let p = PowerAnalysis::new();
        let mde = p
            .minimum_detectable_effect(0.17, 1_245.809_235_308_482_8)
            .unwrap();
        assert_abs_diff_eq!(mde.treatment_rate, 0.13, epsilon = 1e-10);
        assert_abs_diff_eq!(mde.absolute_reduction, 0.04, epsilon = 1e-10);
        assert_abs_diff_eq!(mde.cohens_h, cohens_h(0.17, 0.13).unwrap(), epsilon = 1e-12);
        assert_relative_eq!(
            p.achieved_power(0.17, mde.treatment_rate, 1_245.809_235_308_482_8)
                .unwrap(),
            0.8,
            max_relative = 1e-12
        );
    }

    #[test]
    fn rejects_invalid_settings_and_inputs() {
        for (r, name) in [
            (PowerAnalysis::new().alpha(1.0).validate(), "alpha"),
            (
                PowerAnalysis::new().target_power(f64::NAN).validate(),
                "target_power",
            ),
            (
                PowerAnalysis::new()
                    .control_ratio(0.0)
                    .sample_size(0.2, 0.1)
                    .map(|_| ()),
                "control_ratio",
            ),
            (
                PowerAnalysis::new().sample_size(0.2, 0.2).map(|_| ()),
                "treatment_rate",
            ),
            (
                PowerAnalysis::new().sample_size(1.2, 0.2).map(|_| ()),
                "control_rate",
            ),
            (
                PowerAnalysis::new().sample_size(0.2, -0.1).map(|_| ()),
                "treatment_rate",
            ),
            (
                PowerAnalysis::new()
                    .minimum_detectable_effect(0.0, 100.0)
                    .map(|_| ()),
                "control_rate",
            ),
            (
                PowerAnalysis::new()
                    .minimum_detectable_effect(0.2, f64::INFINITY)
                    .map(|_| ()),
                "treatment_n",
            ),
            (
                PowerAnalysis::new()
                    .minimum_detectable_effect(0.01, 3.0)
                    .map(|_| ()),
                "treatment_n",
            ),
            (
                PowerAnalysis::new().alpha(0.5).target_power(0.4).validate(),
                "target_power",
            ),
        ] {
            let e = r.unwrap_err();
            assert!(
                matches!(e.kind(), ErrorKind::InvalidParameter { name: n, .. } if *n == name),
                "{e}"
            );
        }
    }

    #[test]
    fn serde_round_trip_and_unknown_fields() {
        let p = PowerAnalysis::new().alpha(0.01);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<PowerAnalysis>(&json).unwrap(), p);
        assert!(serde_json::from_str::<PowerAnalysis>(r#"{"alpah": 0.1}"#).is_err());
        let partial: PowerAnalysis = serde_json::from_str(r#"{"target_power": 0.9}"#).unwrap();
        assert_eq!(partial.alpha_value(), 0.05);
    }

    proptest::proptest! {
        /// The solved size reaches the target power and the detectable effect
        /// at that size is the effect it was solved for.
        #[test]
        fn sample_size_and_mde_are_inverse(
            pc in 0.02..0.9f64, drop in 0.05..0.9f64, power in 0.5..0.99f64, ratio in 0.1..5.0f64,
        ) {
            let pt = pc * (1.0 - drop);
            let p = PowerAnalysis::new().target_power(power).control_ratio(ratio);
            let size = p.sample_size(pc, pt).unwrap();
            let achieved = p.achieved_power(pc, pt, size.treatment).unwrap();
            proptest::prop_assert!((achieved - power).abs() < 1e-10);
            let mde = p.minimum_detectable_effect(pc, size.treatment).unwrap();
            proptest::prop_assert!((mde.treatment_rate - pt).abs() < 1e-9);
        }
    }
}
