//! Power of the two-sided normal (z) test and Cohen's effect size for two
//! proportions: the generic maths behind sample sizes and detectable effects.

use super::normal::{normal_cdf, normal_quantile};
use crate::{Error, Result};

/// Cohen's effect size `h` for two proportions: `2·asin(√p1) − 2·asin(√p2)`.
///
/// The arcsine transform makes the sampling variance of a rate independent of
/// the rate, so one `h` means the same detectability at any base rate: a drop
/// from 17% to 13% (`h ≈ 0.112`) is easier to detect than one from 50% to 46%
/// (`h ≈ 0.080`).
///
/// # Formula
///
/// ```text
/// h = 2·asin(√p1) − 2·asin(√p2)
/// ```
///
/// J. Cohen, *Statistical Power Analysis for the Behavioral Sciences* (1988),
/// §6.2; as statsmodels' `proportion_effectsize(p1, p2)`.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) named
/// `p1` or `p2` unless it is in `[0, 1]`.
///
/// # Example
///
/// ```
/// use churnwise::stats::cohens_h;
///
/// let h = cohens_h(0.17, 0.13)?;
/// assert!((h - 0.112_251_597).abs() < 1e-8);
/// assert_eq!(cohens_h(0.3, 0.3)?, 0.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn cohens_h(p1: f64, p2: f64) -> Result<f64> {
    check_rate("p1", p1)?;
    check_rate("p2", p2)?;
    Ok(arcsine(p1) - arcsine(p2))
}

/// `2·asin(√p)`, Cohen's arcsine transform of a rate.
pub(crate) fn arcsine(p: f64) -> f64 {
    2.0 * p.sqrt().asin()
}

/// Checks that `p` is a rate in `[0, 1]`, naming it.
pub(crate) fn check_rate(name: &'static str, p: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::invalid_parameter(
            name,
            format!("must be a rate in [0, 1], got {p}"),
        ));
    }
    Ok(())
}

fn check_alpha(alpha: f64) -> Result<()> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(Error::invalid_parameter(
            "alpha",
            format!("must be in (0, 1), got {alpha}"),
        ));
    }
    Ok(())
}

/// The power of a two-sided z-test at level `alpha` when the test statistic
/// is normal with mean `effect` (the standardized effect, e.g. `|h|·√n_eff`
/// for two proportions with Cohen's `h`) and variance 1.
///
/// # Formula
///
/// ```text
/// c = Φ⁻¹(1 − α/2)
/// power = Φ(|effect| − c) + Φ(−|effect| − c)
/// ```
///
/// As statsmodels' `NormalIndPower().power(effect_size, nobs1, alpha, ratio)`
/// with `effect = effect_size·√(nobs1·ratio/(1 + ratio))`.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) named
/// `alpha` unless in `(0, 1)`, `effect` unless finite.
///
/// # Example
///
/// ```
/// use churnwise::stats::z_test_power;
///
/// // No effect: the test rejects with probability α.
/// assert!((z_test_power(0.0, 0.05)? - 0.05).abs() < 1e-15);
/// // effect = c + Φ⁻¹(0.8): power 0.8 plus the far tail Φ(−effect − c) ≈ 9.6e-7.
/// let far_tail = z_test_power(1.959_963_984_540_054 + 0.841_621_233_572_914_2, 0.05)? - 0.8;
/// assert!(far_tail > 9.5e-7 && far_tail < 9.7e-7);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn z_test_power(effect: f64, alpha: f64) -> Result<f64> {
    check_alpha(alpha)?;
    if !effect.is_finite() {
        return Err(Error::invalid_parameter(
            "effect",
            format!("must be finite, got {effect}"),
        ));
    }
    Ok(power_of(effect.abs(), two_sided_critical(alpha)))
}

/// The standardized effect at which a two-sided z-test at level `alpha`
/// reaches `power`: the inverse of [`z_test_power`], solved exactly (a
/// safeguarded Newton iteration to machine precision, including the far tail
/// that the textbook closed form `c + Φ⁻¹(power)` drops).
///
/// Divide it by `√n_eff` for the detectable Cohen's `h`, or square `effect / h`
/// for the effective sample size.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) named
/// `alpha` unless in `(0, 1)`, `power` unless in `(alpha, 1)` (a test has
/// power α at no effect, so less is never reached).
///
/// # Example
///
/// ```
/// use churnwise::stats::{z_test_effect, z_test_power};
///
/// let u = z_test_effect(0.05, 0.8)?;
/// assert!((z_test_power(u, 0.05)? - 0.8).abs() < 1e-15);
/// assert!(u < 1.959_963_984_540_054 + 0.841_621_233_572_914_2); // just below the closed form
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn z_test_effect(alpha: f64, power: f64) -> Result<f64> {
    check_alpha(alpha)?;
    if !(power > alpha && power < 1.0) {
        return Err(Error::invalid_parameter(
            "power",
            format!("must be in (alpha, 1) = ({alpha}, 1), got {power}"),
        ));
    }
    Ok(solve_effect(two_sided_critical(alpha), power))
}

/// `Φ⁻¹(1 − α/2)`.
pub(crate) fn two_sided_critical(alpha: f64) -> f64 {
    normal_quantile(1.0 - alpha / 2.0)
}

/// The two-sided power at standardized effect `u ≥ 0`.
pub(crate) fn power_of(u: f64, critical: f64) -> f64 {
    normal_cdf(u - critical) + normal_cdf(-u - critical)
}

/// Solves `power_of(u) = target` for `u > 0` (requires `alpha < target < 1`,
/// where `power_of(0) = alpha` and `power_of(∞) = 1`): Newton steps, each
/// kept inside a shrinking bracket, falling back to bisection.
pub(crate) fn solve_effect(critical: f64, target: f64) -> f64 {
    let density = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    // Dropping the far tail, u = c + Φ⁻¹(target) gives power ≥ target: an upper bracket.
    let mut hi = critical + normal_quantile(target);
    let mut lo = 0.0;
    let mut u = hi;
    for _ in 0..200 {
        let f = power_of(u, critical) - target;
        if f > 0.0 {
            hi = u;
        } else {
            lo = u;
        }
        let slope = density(u - critical) - density(u + critical);
        let newton = u - f / slope;
        let next = if slope > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - u).abs() <= 2.0 * f64::EPSILON * u || hi - lo <= 2.0 * f64::EPSILON * hi {
            return next;
        }
        u = next;
    }
    u
}

#[cfg(test)]
mod tests {
    use super::super::tol;
    use super::*;
    use crate::ErrorKind;
    use approx::{assert_abs_diff_eq, assert_relative_eq};

    /// Hand calculation: h = 2 asin √0.17 − 2 asin √0.13 by mpmath =
    /// 0.1122515974715581814668648721.
    #[test]
    fn cohens_h_matches_mpmath() {
        assert_abs_diff_eq!(
            cohens_h(0.17, 0.13).unwrap(),
            0.112_251_597_471_558_18,
            epsilon = tol::ORACLE
        );
        assert_abs_diff_eq!(
            cohens_h(1.0, 0.0).unwrap(),
            std::f64::consts::PI,
            epsilon = tol::EXACT
        );
        assert!(matches!(
            cohens_h(1.2, 0.1).unwrap_err().kind(),
            ErrorKind::InvalidParameter { name: "p1", .. }
        ));
    }

    /// The effective size of statsmodels 0.15.0's
    /// `NormalIndPower().solve_power(proportion_effectsize(0.17, 0.13), alpha=0.05,
    /// power=0.8, ratio=1)` = 1245.8092353084828 per arm (root finder ~2e-10
    /// relative): u = h·√(n/2).
    #[test]
    fn effect_matches_statsmodels_sample_size() {
        let u = z_test_effect(0.05, 0.8).unwrap();
        let h = 0.112_251_597_471_558_18;
        let n = 2.0 * (u / h).powi(2);
        assert_relative_eq!(n, 1_245.809_235_308_482_8, max_relative = tol::ROOT_FINDER);
        assert_relative_eq!(z_test_power(u, 0.05).unwrap(), 0.8, max_relative = 1e-15);
    }

    #[test]
    fn rejects_invalid_levels() {
        for (r, name) in [
            (z_test_power(1.0, 0.0), "alpha"),
            (z_test_power(f64::NAN, 0.05), "effect"),
            (z_test_effect(0.05, 0.04), "power"),
            (z_test_effect(1.0, 0.8), "alpha"),
        ] {
            let e = r.unwrap_err();
            assert!(
                matches!(e.kind(), ErrorKind::InvalidParameter { name: n, .. } if *n == name),
                "{e}"
            );
        }
    }
}
