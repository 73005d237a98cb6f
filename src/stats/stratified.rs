//! Stratified comparison of two groups' event rates: the Mantel–Haenszel
//! risk difference and risk ratio with their variances, and the
//! Cochran–Mantel–Haenszel test.

use serde::{Deserialize, Serialize};

use super::interval::{Interval, critical_value};
use super::normal::normal_sf;
use crate::{Error, ErrorKind, Result};

/// One stratum's 2×2 table: events and size of the treated group and of the
/// control group.
///
/// # Example
///
/// ```
/// use churnwise::stats::Stratum;
///
/// // 12 of 100 treated customers churned, 30 of 50 controls.
/// let s = Stratum::new(12, 100, 30, 50);
/// assert_eq!((s.treated_events, s.control_n), (12, 50));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Stratum {
    /// Events (e.g. churners) among the treated.
    pub treated_events: u64,
    /// Treated customers.
    pub treated_n: u64,
    /// Events among the controls.
    pub control_events: u64,
    /// Control customers.
    pub control_n: u64,
}

impl Stratum {
    /// A stratum from its counts, in the order of the two-group functions
    /// (`x1, n1, x2, n2`); [`mantel_haenszel`] checks them.
    pub fn new(treated_events: u64, treated_n: u64, control_events: u64, control_n: u64) -> Self {
        Stratum {
            treated_events,
            treated_n,
            control_events,
            control_n,
        }
    }
}

/// The stratified comparison of the treated with the controls, from
/// [`mantel_haenszel`].
///
/// # Example
///
/// See [`mantel_haenszel`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MantelHaenszel {
    /// The Mantel–Haenszel risk difference, treated minus control.
    pub risk_difference: f64,
    /// Its variance, by Sato's estimator (consistent both for many small
    /// strata and for few large ones).
    pub risk_difference_variance: f64,
    /// `risk_difference ± z·√variance`, clipped to `[−1, 1]`.
    pub risk_difference_ci: Interval,
    /// The Mantel–Haenszel risk ratio, treated over control; `None` when
    /// either group has no event in any stratum.
    pub risk_ratio: Option<f64>,
    /// `exp(ln RR ± z·se)` with the Greenland–Robins standard error of `ln RR`.
    pub risk_ratio_ci: Option<Interval>,
    /// The Cochran–Mantel–Haenszel statistic (χ² with 1 degree of freedom,
    /// without continuity correction).
    pub statistic: f64,
    /// Its signed square root: negative when the treated have fewer events
    /// than expected under no effect.
    pub z: f64,
    /// The two-sided p-value of the CMH test.
    pub p_value: f64,
    /// Strata with both treated and control customers (the others carry no
    /// information and are left out).
    pub strata: usize,
    /// Treated customers in those strata.
    pub treated_n: u64,
    /// Control customers in those strata.
    pub control_n: u64,
}

/// The Mantel–Haenszel estimate of a common risk difference and risk ratio
/// over strata, with the Cochran–Mantel–Haenszel test of no effect.
///
/// When treatment was assigned within strata (a campaign targeted by
/// intervention and segment, controls held out per stratum), customers of
/// different strata differ in risk, and one pooled comparison of all
/// treated with all controls mixes them: it can even show the wrong sign
/// (Simpson's paradox). These estimators compare treated with controls
/// *within* each stratum and then combine the strata, so the mix cannot bias
/// them. Strata lacking either group are left out.
///
/// # Formula
///
/// Per stratum `k`: treated `a` events of `n1`, controls `c` events of `n0`,
/// `N = n1 + n0`, `m1 = a + c`.
///
/// ```text
/// W        = Σ n1·n0/N
/// RD_MH    = Σ (a·n0 − c·n1)/N / W
/// Var(RD)  = (RD_MH·P + Q) / W²                                   (Sato 1989)
///   P      = Σ (n1²·c − n0²·a + n1·n0·(n0 − n1)/2) / N²
///   Q      = Σ (a·(n0 − c) + c·(n1 − a)) / (2N)
/// RR_MH    = R / S,   R = Σ a·n0/N,   S = Σ c·n1/N
/// Var(ln RR_MH) = Σ (n1·n0·m1 − a·c·N)/N² / (R·S)               (Greenland–Robins 1985)
/// CMH χ²   = (Σ a − Σ n1·m1/N)² / Σ n1·n0·m1·(N − m1) / (N²·(N − 1))
/// p-value  = 2·(1 − Φ(√χ²))
/// ```
///
/// N. Mantel and W. Haenszel, J. Natl. Cancer Inst. 22 (1959) 719–748;
/// T. Sato, Biometrics 45 (1989) 1323–1324; S. Greenland and J. M. Robins,
/// Biometrics 41 (1985) 55–68. The test and the risk ratio are those of
/// statsmodels' `StratifiedTable.test_null_odds(correction=False)` and
/// `riskratio_pooled`; the risk difference and its variance as R's metafor
/// `rma.mh(measure="RD")`. When no stratum has both an event and a
/// non-event the CMH statistic is 0/0: this function then returns `z = 0`,
/// `p = 1` (no evidence of a difference), where statsmodels returns NaN.
///
/// # Errors
///
/// - [`ErrorKind::InvalidValue`] (what: "stratum") naming the index and
///   field when events exceed the group's size;
/// - [`ErrorKind::Empty`] when no stratum has both treated and control customers;
/// - [`ErrorKind::InvalidParameter`] named `confidence` unless in `(0, 1)`.
///
/// # Example
///
/// ```
/// use churnwise::stats::{Stratum, mantel_haenszel, two_proportion_z_test};
///
/// // Risky customers were targeted: 80% of the treated are risky, 20% of the controls.
/// let strata = [
///     Stratum::new(40, 80, 12, 20),  // risky: 50% treated vs 60% control
///     Stratum::new(1, 20, 8, 80),    // safe:   5% treated vs 10% control
/// ];
/// let mh = mantel_haenszel(&strata, 0.95)?;
/// assert!(mh.risk_difference < 0.0); // the treatment lowered churn in both strata...
/// // ...but pooled, the treated churned more: 41% against 20%.
/// assert!(two_proportion_z_test(41, 100, 20, 100)?.z > 0.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn mantel_haenszel(strata: &[Stratum], confidence: f64) -> Result<MantelHaenszel> {
    for (index, s) in strata.iter().enumerate() {
        for (field, x, n) in [
            ("treated_events", s.treated_events, s.treated_n),
            ("control_events", s.control_events, s.control_n),
        ] {
            if x > n {
                return Err(ErrorKind::InvalidValue {
                    what: "stratum",
                    index,
                    field,
                    reason: format!("{x} events exceed the group's {n} customers"),
                }
                .into());
            }
        }
    }
    let z = critical_value(confidence)?;
    mantel_haenszel_z(strata, z).ok_or_else(|| -> Error {
        ErrorKind::Empty("no stratum has both treated and control customers".into()).into()
    })
}

/// [`mantel_haenszel`] for validated counts at critical value `z`; `None`
/// when no stratum has both groups.
pub(crate) fn mantel_haenszel_z(strata: &[Stratum], z: f64) -> Option<MantelHaenszel> {
    let (mut w, mut rd_num, mut p_sum, mut q_sum) = (0.0, 0.0, 0.0, 0.0);
    let (mut r, mut s, mut rr_var_num) = (0.0, 0.0, 0.0);
    let (mut observed, mut expected, mut variance) = (0.0, 0.0, 0.0);
    let (mut used, mut treated_n, mut control_n) = (0usize, 0u64, 0u64);
    for st in strata {
        if st.treated_n == 0 || st.control_n == 0 {
            continue;
        }
        used += 1;
        treated_n += st.treated_n;
        control_n += st.control_n;
        let (a, n1) = (st.treated_events as f64, st.treated_n as f64);
        let (c, n0) = (st.control_events as f64, st.control_n as f64);
        let n = n1 + n0;
        let m1 = a + c;
        w += n1 * n0 / n;
        rd_num += (a * n0 - c * n1) / n;
        p_sum += (n1 * n1 * c - n0 * n0 * a + n1 * n0 * (n0 - n1) / 2.0) / (n * n);
        q_sum += (a * (n0 - c) + c * (n1 - a)) / (2.0 * n);
        r += a * n0 / n;
        s += c * n1 / n;
        rr_var_num += (n1 * n0 * m1 - a * c * n) / (n * n);
        observed += a;
        expected += n1 * m1 / n;
        variance += n1 * n0 * m1 * (n - m1) / (n * n * (n - 1.0));
    }
    if used == 0 {
        return None;
    }
    let rd = rd_num / w;
    let rd_var = ((rd * p_sum + q_sum) / (w * w)).max(0.0);
    let half = z * rd_var.sqrt();
    let risk_difference_ci = Interval {
        lower: (rd - half).clamp(-1.0, rd.min(1.0)),
        upper: (rd + half).clamp(rd.max(-1.0), 1.0),
    };
    let (risk_ratio, risk_ratio_ci) = if r > 0.0 && s > 0.0 {
        let ratio = r / s;
        let se = (rr_var_num / (r * s)).max(0.0).sqrt();
        let ci = Interval {
            lower: ratio * (-z * se).exp(),
            upper: ratio * (z * se).exp(),
        };
        (Some(ratio), Some(ci))
    } else {
        (None, None)
    };
    let (statistic, signed, p_value) = if variance > 0.0 {
        let signed = (observed - expected) / variance.sqrt();
        (
            signed * signed,
            signed,
            (2.0 * normal_sf(signed.abs())).min(1.0),
        )
    } else {
        (0.0, 0.0, 1.0)
    };
    Some(MantelHaenszel {
        risk_difference: rd,
        risk_difference_variance: rd_var,
        risk_difference_ci,
        risk_ratio,
        risk_ratio_ci,
        statistic,
        z: signed,
        p_value,
        strata: used,
        treated_n,
        control_n,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tol;
    use super::*;
    use approx::assert_abs_diff_eq;

    /// Two strata, every figure by hand.
    ///
    /// ```text
    /// k  a  n1  c  n0   N   m1
    /// 1  2   4  3   6  10   5
    /// 2  1   5  4   5  10   5
    /// W     = 4·6/10 + 5·5/10 = 2.4 + 2.5 = 4.9
    /// RD    = [(2·6 − 3·4)/10 + (1·5 − 4·5)/10] / 4.9 = (0 − 1.5)/4.9 = −15/49
    /// P     = (16·3 − 36·2 + 24·(6 − 4)/2)/100 + (25·4 − 25·1 + 25·0/2)/100
    ///       = (48 − 72 + 24)/100 + 75/100 = 0.75
    /// Q     = (2·3 + 3·2)/20 + (1·1 + 4·4)/20 = 12/20 + 17/20 = 1.45
    /// Var   = (−15/49·0.75 + 1.45)/4.9²
    /// R     = 2·6/10 + 1·5/10 = 1.7;  S = 3·4/10 + 4·5/10 = 3.2;  RR = 1.7/3.2
    /// VarlnRR = [(24·5 − 6·10)/100 + (25·5 − 4·10)/100] / (1.7·3.2) = 1.45/5.44
    /// E[a]  = 4·5/10 + 5·5/10 = 4.5;  observed 3
    /// V     = 24·5·5/(100·9) + 25·5·5/(100·9) = 600/900 + 625/900 = 1225/900
    /// χ²    = (3 − 4.5)²/(1225/900) = 2.25·900/1225 = 81/49;  z = −9/7
    /// ```
    #[test]
    fn matches_hand_calculation() {
        let strata = [Stratum::new(2, 4, 3, 6), Stratum::new(1, 5, 4, 5)];
        let mh = mantel_haenszel(&strata, 0.95).unwrap();
        assert_abs_diff_eq!(mh.risk_difference, -15.0 / 49.0, epsilon = tol::EXACT);
        let var = (-15.0 / 49.0 * 0.75 + 1.45) / (4.9f64 * 4.9);
        assert_abs_diff_eq!(mh.risk_difference_variance, var, epsilon = tol::EXACT);
        let z = 1.959_963_984_540_054;
        assert_abs_diff_eq!(
            mh.risk_difference_ci.lower,
            -15.0 / 49.0 - z * var.sqrt(),
            epsilon = tol::EXACT
        );
        let rr = 1.7 / 3.2;
        assert_abs_diff_eq!(mh.risk_ratio.unwrap(), rr, epsilon = tol::EXACT);
        let se = (1.45f64 / 5.44).sqrt();
        let ci = mh.risk_ratio_ci.unwrap();
        assert_abs_diff_eq!(ci.lower, rr * (-z * se).exp(), epsilon = tol::EXACT);
        assert_abs_diff_eq!(ci.upper, rr * (z * se).exp(), epsilon = tol::EXACT);
        assert_abs_diff_eq!(mh.statistic, 81.0 / 49.0, epsilon = 1e-14);
        assert_abs_diff_eq!(mh.z, -9.0 / 7.0, epsilon = tol::EXACT);
        // mpmath: 2·ncdf(−9/7) = 0.198542793686662000484735
        assert_abs_diff_eq!(mh.p_value, 0.198_542_793_686_662, epsilon = 1e-12);
        assert_eq!((mh.strata, mh.treated_n, mh.control_n), (2, 9, 11));
    }

    /// One stratum: the MH risk difference is the plain difference and the
    /// CMH χ² is the pooled z² scaled by (N − 1)/N.
    #[test]
    fn one_stratum_reduces_to_the_two_group_comparison() {
        let mh = mantel_haenszel(&[Stratum::new(10, 100, 20, 100)], 0.95).unwrap();
        assert_abs_diff_eq!(mh.risk_difference, -0.1, epsilon = tol::EXACT);
        let z = -0.1 / (0.15f64 * 0.85 * 0.02).sqrt();
        assert_abs_diff_eq!(mh.statistic, z * z * 199.0 / 200.0, epsilon = 1e-13);
        assert_abs_diff_eq!(mh.risk_ratio.unwrap(), 0.5, epsilon = tol::EXACT);
    }

    #[test]
    fn skips_strata_without_both_groups_and_rejects_bad_counts() {
        let mh =
            mantel_haenszel(&[Stratum::new(1, 4, 0, 0), Stratum::new(2, 4, 3, 6)], 0.95).unwrap();
        assert_eq!((mh.strata, mh.treated_n), (1, 4));
        let e = mantel_haenszel(&[Stratum::new(1, 4, 0, 0)], 0.95).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Empty(_)));
        let e = mantel_haenszel(&[Stratum::new(1, 4, 7, 6)], 0.95).unwrap_err();
        assert!(matches!(
            e.kind(),
            ErrorKind::InvalidValue {
                index: 0,
                field: "control_events",
                ..
            }
        ));
        let none = mantel_haenszel(&[Stratum::new(0, 4, 0, 6)], 0.95).unwrap();
        assert_eq!((none.z, none.p_value, none.risk_ratio), (0.0, 1.0, None));
        assert!(mantel_haenszel(&[Stratum::new(0, 4, 0, 6)], 1.0).is_err());
    }

    proptest::proptest! {
        /// The interval contains the estimate, the p-value is a probability,
        /// and the test's sign follows the estimate's.
        #[test]
        fn estimate_interval_and_test_are_consistent(
            tables in proptest::collection::vec((1u64..200, 0.0..=1.0f64, 1u64..200, 0.0..=1.0f64), 1..8),
        ) {
            let strata: Vec<Stratum> = tables.iter().map(|&(n1, f1, n0, f0)| {
                Stratum::new((n1 as f64 * f1).floor() as u64, n1, (n0 as f64 * f0).floor() as u64, n0)
            }).collect();
            let mh = mantel_haenszel(&strata, 0.95).unwrap();
            proptest::prop_assert!(mh.risk_difference_ci.contains(mh.risk_difference));
            proptest::prop_assert!((-1.0..=1.0).contains(&mh.risk_difference));
            proptest::prop_assert!((0.0..=1.0).contains(&mh.p_value));
            if let (Some(rr), Some(ci)) = (mh.risk_ratio, mh.risk_ratio_ci) {
                proptest::prop_assert!(ci.contains(rr));
            }
            proptest::prop_assert!(mh.z * mh.risk_difference >= -1e-12);
        }
    }
}
