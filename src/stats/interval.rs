//! Confidence intervals for a rate and for the difference and ratio of two
//! rates: Wilson, Newcombe's hybrid score, Wald and Katz's log ratio.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::normal::normal_quantile;
use crate::{Error, Result};

/// A two-sided confidence interval `[lower, upper]`.
///
/// # Example
///
/// ```
/// use churnwise::stats::wilson_interval;
///
/// let ci = wilson_interval(312, 2_400, 0.95)?;
/// assert!(ci.contains(0.13));
/// assert!(ci.width() < 0.03);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Interval {
    /// The lower bound.
    pub lower: f64,
    /// The upper bound.
    pub upper: f64,
}

impl Interval {
    /// An interval from its bounds.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `interval` unless both bounds are finite and `lower <= upper`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::stats::Interval;
    ///
    /// let ci = Interval::new(-0.07, -0.01)?;
    /// assert!(ci.contains(-0.04) && !ci.contains(0.0));
    /// assert!(Interval::new(1.0, 0.0).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(lower: f64, upper: f64) -> Result<Self> {
        if !lower.is_finite() || !upper.is_finite() || lower > upper {
            return Err(Error::invalid_parameter(
                "interval",
                format!("bounds must be finite with lower <= upper, got [{lower}, {upper}]"),
            ));
        }
        Ok(Interval { lower, upper })
    }

    /// Whether `x` lies in the closed interval.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::stats::Interval;
    ///
    /// assert!(Interval::new(0.1, 0.2)?.contains(0.2));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn contains(&self, x: f64) -> bool {
        self.lower <= x && x <= self.upper
    }

    /// `upper − lower`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::stats::Interval;
    ///
    /// assert_eq!(Interval::new(0.25, 0.75)?.width(), 0.5);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn width(&self) -> f64 {
        self.upper - self.lower
    }

    /// The interval of `−x`: `[−upper, −lower]`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::stats::Interval;
    ///
    /// let ci = Interval::new(-0.07, -0.01)?.negated();
    /// assert_eq!((ci.lower, ci.upper), (0.01, 0.07));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn negated(&self) -> Interval {
        Interval {
            lower: -self.upper,
            upper: -self.lower,
        }
    }
}

impl fmt::Display for Interval {
    /// `[lower, upper]`, honouring a precision (`{:.4}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match f.precision() {
            Some(p) => write!(f, "[{:.*}, {:.*}]", p, self.lower, p, self.upper),
            None => write!(f, "[{}, {}]", self.lower, self.upper),
        }
    }
}

/// The two-sided critical value `z = Φ⁻¹(1 − (1 − confidence)/2)` of a
/// confidence level: the multiplier of a standard error in a normal interval.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) named
/// `confidence` unless it is in `(0, 1)`.
///
/// # Example
///
/// ```
/// use churnwise::stats::critical_value;
///
/// assert!((critical_value(0.95)? - 1.959_963_984_540_054).abs() < 1e-15);
/// assert!(critical_value(95.0).is_err());
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn critical_value(confidence: f64) -> Result<f64> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(Error::invalid_parameter(
            "confidence",
            format!("must be in (0, 1), got {confidence}"),
        ));
    }
    Ok(normal_quantile(1.0 - (1.0 - confidence) / 2.0))
}

/// Checks `successes <= n` and `n > 0`, naming `what` (e.g. "churned").
pub(crate) fn check_counts(successes: u64, n: u64) -> Result<()> {
    if n == 0 {
        return Err(Error::invalid_parameter("n", "must be > 0, got 0"));
    }
    if successes > n {
        return Err(Error::invalid_parameter(
            "successes",
            format!("must be <= n ({n}), got {successes}"),
        ));
    }
    Ok(())
}

/// Wilson's score interval at critical value `z`, for validated counts.
///
/// The bounds are clamped to `[0, 1]` and to include the point estimate, which
/// they do mathematically; the clamps only absorb rounding (at 0 and n successes).
pub(crate) fn wilson_z(successes: u64, n: u64, z: f64) -> Interval {
    let n_f = n as f64;
    let p = successes as f64 / n_f;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    Interval {
        lower: (centre - half).clamp(0.0, p),
        upper: (centre + half).clamp(p, 1.0),
    }
}

/// Wilson's score interval for a proportion `successes / n`.
///
/// Use it for every rate in a campaign report (churn, repurchase): unlike the
/// textbook Wald interval `p ± z·√(p(1−p)/n)`, it stays inside `[0, 1]`, is
/// not degenerate at 0 or `n` successes, and keeps close to its nominal
/// coverage for small `n` and rates near 0 or 1.
///
/// # Formula
///
/// ```text
/// p = x / n,   z = Φ⁻¹(1 − (1 − confidence)/2)
/// centre = (p + z²/(2n)) / (1 + z²/n)
/// half   = z / (1 + z²/n) · √( p(1 − p)/n + z²/(4n²) )
/// CI     = [centre − half, centre + half]
/// ```
///
/// E. B. Wilson (1927); as statsmodels' `proportion_confint(method="wilson")`.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) named
/// `n` when `n == 0`, `successes` when `successes > n`, `confidence` unless it
/// is in `(0, 1)`.
///
/// # Example
///
/// ```
/// use churnwise::stats::wilson_interval;
///
/// // statsmodels: proportion_confint(312, 2400, method="wilson")
/// let ci = wilson_interval(312, 2_400, 0.95)?;
/// assert!((ci.lower - 0.117_134_344_811_679_46).abs() < 1e-12);
/// assert!((ci.upper - 0.144_048_212_181_371_26).abs() < 1e-12);
///
/// // No churner among 20 customers still gives a useful upper bound.
/// let zero = wilson_interval(0, 20, 0.95)?;
/// assert_eq!(zero.lower, 0.0);
/// assert!(zero.upper > 0.15 && zero.upper < 0.17);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn wilson_interval(successes: u64, n: u64, confidence: f64) -> Result<Interval> {
    check_counts(successes, n)?;
    let z = critical_value(confidence)?;
    Ok(wilson_z(successes, n, z))
}

/// Newcombe's hybrid score interval at critical value `z`, for validated counts.
pub(crate) fn newcombe_z(x1: u64, n1: u64, x2: u64, n2: u64, z: f64) -> Interval {
    let p1 = x1 as f64 / n1 as f64;
    let p2 = x2 as f64 / n2 as f64;
    let w1 = wilson_z(x1, n1, z);
    let w2 = wilson_z(x2, n2, z);
    let d = p1 - p2;
    let lower = d - ((p1 - w1.lower).powi(2) + (w2.upper - p2).powi(2)).sqrt();
    let upper = d + ((w1.upper - p1).powi(2) + (p2 - w2.lower).powi(2)).sqrt();
    Interval {
        lower: lower.clamp(-1.0, d),
        upper: upper.clamp(d, 1.0),
    }
}

/// Newcombe's hybrid score interval for the difference of two proportions,
/// `x1/n1 − x2/n2` (method 10 of Newcombe 1998).
///
/// Use it for "treatment churn minus control churn": it combines the two
/// arms' [`wilson_interval`]s, so it inherits their good behaviour for small
/// arms and rates near 0, where the [`wald_difference_interval`] is too
/// narrow.
///
/// # Formula
///
/// ```text
/// d = p1 − p2;  [l1, u1], [l2, u2] the Wilson intervals of p1 and p2
/// lower = d − √( (p1 − l1)² + (u2 − p2)² )
/// upper = d + √( (u1 − p1)² + (p2 − l2)² )
/// ```
///
/// R. G. Newcombe, "Interval estimation for the difference between
/// independent proportions", Statistics in Medicine 17 (1998) 873–890; as
/// statsmodels' `confint_proportions_2indep(method="newcomb")`.
///
/// # Errors
///
/// As [`wilson_interval`], for either arm.
///
/// # Example
///
/// ```
/// use churnwise::stats::newcombe_interval;
///
/// // 312 of 2 400 treated churned, 136 of 800 controls: 13% − 17%.
/// let ci = newcombe_interval(312, 2_400, 136, 800, 0.95)?;
/// assert!((ci.lower - -0.070_444_240_211_409_69).abs() < 1e-12);
/// assert!((ci.upper - -0.011_811_836_955_163_007).abs() < 1e-12);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn newcombe_interval(x1: u64, n1: u64, x2: u64, n2: u64, confidence: f64) -> Result<Interval> {
    check_counts(x1, n1)?;
    check_counts(x2, n2)?;
    let z = critical_value(confidence)?;
    Ok(newcombe_z(x1, n1, x2, n2, z))
}

/// The Wald interval for the difference of two proportions, `x1/n1 − x2/n2`.
///
/// Given for comparison with textbooks and spreadsheets; prefer
/// [`newcombe_interval`], which reports use. The Wald interval has width 0
/// when both rates are 0 or 1, and undercovers for small arms.
///
/// # Formula
///
/// ```text
/// d ± z · √( p1(1 − p1)/n1 + p2(1 − p2)/n2 )
/// ```
///
/// As statsmodels' `confint_proportions_2indep(method="wald")`.
///
/// # Errors
///
/// As [`wilson_interval`], for either arm.
///
/// # Example
///
/// ```
/// use churnwise::stats::wald_difference_interval;
///
/// let ci = wald_difference_interval(312, 2_400, 136, 800, 0.95)?;
/// assert!((ci.lower - -0.069_301_297_691_828_22).abs() < 1e-12);
/// assert!((ci.upper - -0.010_698_702_308_171_795).abs() < 1e-12);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn wald_difference_interval(
    x1: u64,
    n1: u64,
    x2: u64,
    n2: u64,
    confidence: f64,
) -> Result<Interval> {
    check_counts(x1, n1)?;
    check_counts(x2, n2)?;
    let z = critical_value(confidence)?;
    let (n1, n2) = (n1 as f64, n2 as f64);
    let p1 = x1 as f64 / n1;
    let p2 = x2 as f64 / n2;
    let d = p1 - p2;
    let half = z * (p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2).sqrt();
    Ok(Interval {
        lower: d - half,
        upper: d + half,
    })
}

/// Katz's log interval of the ratio `(x1/n1) / (x2/n2)` at critical value `z`,
/// for validated counts; `None` when either count is 0 (the ratio or its log
/// is then undefined or infinite).
pub(crate) fn ratio_z(x1: u64, n1: u64, x2: u64, n2: u64, z: f64) -> Option<Interval> {
    if x1 == 0 || x2 == 0 {
        return None;
    }
    let (x1, n1, x2, n2) = (x1 as f64, n1 as f64, x2 as f64, n2 as f64);
    let log_ratio = (x1 / n1).ln() - (x2 / n2).ln();
    let se = (1.0 / x1 - 1.0 / n1 + 1.0 / x2 - 1.0 / n2).sqrt();
    Some(Interval {
        lower: (log_ratio - z * se).exp(),
        upper: (log_ratio + z * se).exp(),
    })
}

/// Katz's log interval for the risk ratio `(x1/n1) / (x2/n2)`; `None` when
/// either count is 0.
///
/// The relative churn reduction of a campaign is `1 − ratio`, so its interval
/// is `[1 − upper, 1 − lower]` (what campaign reports give).
///
/// # Formula
///
/// ```text
/// ln RR = ln(x1/n1) − ln(x2/n2)
/// se    = √( 1/x1 − 1/n1 + 1/x2 − 1/n2 )
/// CI    = [exp(ln RR − z·se), exp(ln RR + z·se)]
/// ```
///
/// D. Katz et al., Biometrics 34 (1978) 469–474; as statsmodels'
/// `confint_proportions_2indep(compare="ratio", method="log")`.
///
/// # Errors
///
/// As [`wilson_interval`], for either arm.
///
/// # Example
///
/// ```
/// use churnwise::stats::risk_ratio_interval;
///
/// let ci = risk_ratio_interval(312, 2_400, 136, 800, 0.95)?.expect("both counts > 0");
/// assert!(ci.contains(0.13 / 0.17) && ci.upper < 1.0);
/// assert!(risk_ratio_interval(0, 100, 5, 100, 0.95)?.is_none());
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn risk_ratio_interval(
    x1: u64,
    n1: u64,
    x2: u64,
    n2: u64,
    confidence: f64,
) -> Result<Option<Interval>> {
    check_counts(x1, n1)?;
    check_counts(x2, n2)?;
    let z = critical_value(confidence)?;
    Ok(ratio_z(x1, n1, x2, n2, z))
}

#[cfg(test)]
mod tests {
    use super::super::tol;
    use super::*;
    use crate::ErrorKind;
    use approx::assert_abs_diff_eq;

    /// tests/fixtures/campaign_reference.json (statsmodels 0.15.0): Wilson CI
    /// of 312/2400, Newcombe and Wald CIs of 312/2400 − 136/800.
    #[test]
    fn intervals_match_statsmodels_reference() {
        let w = wilson_interval(312, 2400, 0.95).unwrap();
        assert_abs_diff_eq!(w.lower, 0.117_134_344_811_679_46, epsilon = tol::ORACLE);
        assert_abs_diff_eq!(w.upper, 0.144_048_212_181_371_26, epsilon = tol::ORACLE);
        let n = newcombe_interval(312, 2400, 136, 800, 0.95).unwrap();
        assert_abs_diff_eq!(n.lower, -0.070_444_240_211_409_69, epsilon = tol::ORACLE);
        assert_abs_diff_eq!(n.upper, -0.011_811_836_955_163_007, epsilon = tol::ORACLE);
        let d = wald_difference_interval(312, 2400, 136, 800, 0.95).unwrap();
        assert_abs_diff_eq!(d.lower, -0.069_301_297_691_828_22, epsilon = tol::ORACLE);
        assert_abs_diff_eq!(d.upper, -0.010_698_702_308_171_795, epsilon = tol::ORACLE);
    }

    /// Hand calculation: 4 of 10 at 95%, z = 1.959963984540054.
    /// centre = (0.4 + z²/20)/(1 + z²/10), half = z/(1 + z²/10)·√(0.024 + z²/400).
    #[test]
    fn wilson_matches_hand_calculation() {
        let z: f64 = 1.959_963_984_540_054;
        let z2 = z * z;
        let centre = (0.4 + z2 / 20.0) / (1.0 + z2 / 10.0);
        let half = z / (1.0 + z2 / 10.0) * (0.024 + z2 / 400.0).sqrt();
        let ci = wilson_interval(4, 10, 0.95).unwrap();
        assert_abs_diff_eq!(ci.lower, centre - half, epsilon = tol::EXACT);
        assert_abs_diff_eq!(ci.upper, centre + half, epsilon = tol::EXACT);
        // Closed forms at the ends: [0, z²/(n + z²)] and [n/(n + z²), 1].
        let zero = wilson_interval(0, 10, 0.95).unwrap();
        assert_eq!(zero.lower, 0.0);
        assert_abs_diff_eq!(zero.upper, z2 / (10.0 + z2), epsilon = tol::EXACT);
        let all = wilson_interval(10, 10, 0.95).unwrap();
        assert_eq!(all.upper, 1.0);
        assert_abs_diff_eq!(all.lower, 10.0 / (10.0 + z2), epsilon = tol::EXACT);
    }

    /// Newcombe (1998), Table II, example (a): 56/70 − 48/80, method 10
    /// gives [0.0524, 0.3339] to four decimals.
    #[test]
    fn newcombe_matches_published_example() {
        let ci = newcombe_interval(56, 70, 48, 80, 0.95).unwrap();
        assert_abs_diff_eq!(ci.lower, 0.0524, epsilon = 5e-5);
        assert_abs_diff_eq!(ci.upper, 0.3339, epsilon = 5e-5);
        // The same by mpmath at 30 digits, and a zero count (5/56 − 0/29).
        assert_abs_diff_eq!(ci.lower, 0.052_431_472_402_364_88, epsilon = tol::ORACLE);
        assert_abs_diff_eq!(ci.upper, 0.333_872_654_036_905_98, epsilon = tol::ORACLE);
        let zero = newcombe_interval(5, 56, 0, 29, 0.95).unwrap();
        assert_abs_diff_eq!(zero.lower, -0.038_137_147_903_536_9, epsilon = tol::ORACLE);
        assert_abs_diff_eq!(zero.upper, 0.192_560_013_855_111_62, epsilon = tol::ORACLE);
    }

    /// Hand calculation of Katz's interval for 10/100 vs 20/100:
    /// ln RR = ln 0.5, se = √(1/10 − 1/100 + 1/20 − 1/100) = √0.13.
    #[test]
    fn risk_ratio_matches_hand_calculation() {
        let z: f64 = 1.959_963_984_540_054;
        let se = 0.13f64.sqrt();
        let ci = risk_ratio_interval(10, 100, 20, 100, 0.95)
            .unwrap()
            .unwrap();
        assert_abs_diff_eq!(ci.lower, 0.5 * (-z * se).exp(), epsilon = tol::EXACT);
        assert_abs_diff_eq!(ci.upper, 0.5 * (z * se).exp(), epsilon = tol::EXACT);
    }

    #[test]
    fn rejects_bad_counts_and_confidence() {
        let e = wilson_interval(1, 0, 0.95).unwrap_err();
        assert!(matches!(
            e.kind(),
            ErrorKind::InvalidParameter { name: "n", .. }
        ));
        let e = wilson_interval(5, 4, 0.95).unwrap_err();
        assert!(matches!(
            e.kind(),
            ErrorKind::InvalidParameter {
                name: "successes",
                ..
            }
        ));
        for c in [0.0, 1.0, f64::NAN, -0.5, 95.0] {
            let e = newcombe_interval(1, 10, 2, 10, c).unwrap_err();
            assert!(matches!(
                e.kind(),
                ErrorKind::InvalidParameter {
                    name: "confidence",
                    ..
                }
            ));
        }
    }

    #[test]
    fn display_honours_precision() {
        let ci = Interval::new(0.1171, 0.1440).unwrap();
        assert_eq!(format!("{ci:.2}"), "[0.12, 0.14]");
    }

    proptest::proptest! {
        /// Wilson and Newcombe intervals lie in [0, 1] / [−1, 1] and contain
        /// their point estimate, for any counts and confidence.
        #[test]
        fn intervals_are_bounded_and_contain_the_estimate(
            n1 in 1u64..5_000, f1 in 0.0..=1.0f64,
            n2 in 1u64..5_000, f2 in 0.0..=1.0f64,
            confidence in 0.5..0.999f64,
        ) {
            let x1 = ((n1 as f64) * f1).floor() as u64;
            let x2 = ((n2 as f64) * f2).floor() as u64;
            let p1 = x1 as f64 / n1 as f64;
            let p2 = x2 as f64 / n2 as f64;
            let w = wilson_interval(x1, n1, confidence).unwrap();
            proptest::prop_assert!(0.0 <= w.lower && w.upper <= 1.0);
            proptest::prop_assert!(w.contains(p1));
            let d = newcombe_interval(x1, n1, x2, n2, confidence).unwrap();
            proptest::prop_assert!(-1.0 <= d.lower && d.upper <= 1.0);
            proptest::prop_assert!(d.contains(p1 - p2));
        }
    }
}
