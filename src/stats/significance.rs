//! Significance tests: the pooled two-proportion z-test, Holm's step-down
//! adjustment (family-wise error rate) and the Benjamini–Hochberg step-up
//! adjustment (false discovery rate) for several tests at once.

use serde::{Deserialize, Serialize};

use super::interval::check_counts;
use super::normal::normal_sf;
use crate::{ErrorKind, Result};

/// The result of a two-sided two-proportion z-test.
///
/// # Example
///
/// ```
/// use churnwise::stats::two_proportion_z_test;
///
/// let t = two_proportion_z_test(312, 2_400, 136, 800)?;
/// assert!(t.z < 0.0 && t.p_value < 0.01);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ZTest {
    /// The z statistic; negative when the first rate is the lower.
    pub z: f64,
    /// The two-sided p-value `2·(1 − Φ(|z|))`.
    pub p_value: f64,
}

/// The pooled z statistic for validated counts; `(0, 1)` when the pooled
/// rate is 0 or 1 (both arms all-churned or none churned: no evidence of a
/// difference, where statsmodels returns NaN).
pub(crate) fn z_test_counts(x1: u64, n1: u64, x2: u64, n2: u64) -> ZTest {
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (x1 + x2) as f64 / (n1f + n2f);
    let variance = pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f);
    if variance <= 0.0 {
        return ZTest {
            z: 0.0,
            p_value: 1.0,
        };
    }
    let z = (x1 as f64 / n1f - x2 as f64 / n2f) / variance.sqrt();
    ZTest {
        z,
        p_value: (2.0 * normal_sf(z.abs())).min(1.0),
    }
}

/// The two-sided two-proportion z-test of `x1/n1` against `x2/n2`, with the
/// variance pooled under the null hypothesis of equal rates.
///
/// Reports use it to say whether an arm's churn rate differs from the
/// control's by more than chance; with several arms, adjust the p-values
/// with [`holm`].
///
/// # Formula
///
/// ```text
/// p1 = x1/n1,  p2 = x2/n2,  p = (x1 + x2)/(n1 + n2)
/// z  = (p1 − p2) / √( p(1 − p)(1/n1 + 1/n2) )
/// p-value = 2·(1 − Φ(|z|))
/// ```
///
/// As statsmodels' `proportions_ztest(count=[x1, x2], nobs=[n1, n2])`. When
/// the pooled rate is 0 or 1 the statistic is 0/0; this function then
/// returns `z = 0`, `p = 1` (the two arms are identical), where statsmodels
/// returns NaN.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`] named `n` when an arm is empty,
/// `successes` when a count exceeds its arm.
///
/// # Example
///
/// ```
/// use churnwise::stats::two_proportion_z_test;
///
/// // statsmodels: proportions_ztest([312, 136], [2400, 800])
/// let t = two_proportion_z_test(312, 2_400, 136, 800)?;
/// assert!((t.z - -2.823_724_832_010_070_5).abs() < 1e-12);
/// assert!((t.p_value - 0.004_746_911_940_511_481).abs() < 1e-12);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn two_proportion_z_test(x1: u64, n1: u64, x2: u64, n2: u64) -> Result<ZTest> {
    check_counts(x1, n1)?;
    check_counts(x2, n2)?;
    Ok(z_test_counts(x1, n1, x2, n2))
}

/// Holm–Bonferroni adjusted p-values, in the order given.
///
/// When several treatment arms are each tested against one control, the
/// chance that at least one looks significant by luck grows with the number
/// of arms. Holm's step-down method controls that family-wise error rate and
/// is uniformly more powerful than Bonferroni: reject the hypotheses whose
/// adjusted p-value is below α. With a single p-value it returns it
/// unchanged.
///
/// # Formula
///
/// ```text
/// p_(1) ≤ … ≤ p_(m) the sorted p-values (ties in input order)
/// adj_(i) = min(1, max_{j ≤ i} (m − j + 1) · p_(j))
/// ```
///
/// S. Holm, "A simple sequentially rejective multiple test procedure",
/// Scand. J. Statist. 6 (1979) 65–70; as statsmodels'
/// `multipletests(p, method="holm")[1]`.
///
/// # Errors
///
/// [`ErrorKind::NonFinite`] for a NaN or infinite p-value and
/// [`ErrorKind::InvalidValue`] for one outside `[0, 1]`, naming its index.
///
/// # Example
///
/// ```
/// use churnwise::stats::holm;
///
/// let adjusted = holm(&[0.01, 0.04, 0.03])?;
/// // sorted 0.01, 0.03, 0.04 → 3·0.01, 2·0.03, max(0.06, 1·0.04)
/// assert_eq!(adjusted, vec![0.03, 0.06, 0.06]);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn holm(p_values: &[f64]) -> Result<Vec<f64>> {
    check_p_values(p_values)?;
    Ok(holm_unchecked(p_values))
}

/// Checks that every p-value is finite and in `[0, 1]`, naming the first bad index.
fn check_p_values(p_values: &[f64]) -> Result<()> {
    for (index, &p) in p_values.iter().enumerate() {
        if !p.is_finite() {
            return Err(ErrorKind::NonFinite {
                what: "p-value",
                row: index,
                column: "p_value".into(),
                value: p,
            }
            .into());
        }
        if !(0.0..=1.0).contains(&p) {
            return Err(ErrorKind::InvalidValue {
                what: "p-value",
                index,
                field: "p_value",
                reason: format!("must be in [0, 1], got {p}"),
            }
            .into());
        }
    }
    Ok(())
}

/// Benjamini–Hochberg adjusted p-values (q-values), in the order given.
///
/// Where [`holm`] keeps the chance of *any* false positive below α, this
/// step-up method keeps the expected *share* of false positives among the
/// rejected hypotheses (the false discovery rate) below α, and so rejects
/// more when many hypotheses are tested, e.g. one effect per segment or per
/// driver. Valid for independent or positively dependent tests. Reject the
/// hypotheses whose adjusted p-value is below α.
///
/// # Formula
///
/// ```text
/// p_(1) ≤ … ≤ p_(m) the sorted p-values
/// adj_(i) = min(1, min_{j ≥ i} m·p_(j) / j)
/// ```
///
/// Y. Benjamini and Y. Hochberg, "Controlling the false discovery rate",
/// J. R. Statist. Soc. B 57 (1995) 289–300; as statsmodels'
/// `multipletests(p, method="fdr_bh")[1]`.
///
/// # Errors
///
/// As [`holm`].
///
/// # Example
///
/// ```
/// use churnwise::stats::benjamini_hochberg;
///
/// let adjusted = benjamini_hochberg(&[0.01, 0.04, 0.03])?;
/// // sorted 0.01, 0.03, 0.04 → 3·0.01/1 = 0.03, min(3·0.03/2, 0.04) = 0.04, 3·0.04/3 = 0.04
/// for (a, want) in adjusted.iter().zip([0.03, 0.04, 0.04]) {
///     assert!((a - want).abs() < 1e-15);
/// }
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn benjamini_hochberg(p_values: &[f64]) -> Result<Vec<f64>> {
    check_p_values(p_values)?;
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running_min: f64 = 1.0;
    for (rank, &i) in order.iter().enumerate().rev() {
        // The factor first: it is exactly 1 at the top rank, and ≥ 1 keeps
        // the product ≥ the raw p-value despite rounding.
        let scaled = (m as f64 / (rank + 1) as f64) * p_values[i];
        running_min = running_min.min(scaled);
        adjusted[i] = running_min;
    }
    Ok(adjusted)
}

/// [`holm`] for p-values known to be in `[0, 1]`.
pub(crate) fn holm_unchecked(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running_max: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        let scaled = ((m - rank) as f64 * p_values[i]).min(1.0);
        running_max = running_max.max(scaled);
        adjusted[i] = running_max;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::super::tol;
    use super::*;
    use approx::assert_abs_diff_eq;

    /// tests/fixtures/campaign_reference.json: statsmodels 0.15.0
    /// `proportions_ztest([312, 136], [2400, 800])`.
    #[test]
    fn z_test_matches_statsmodels_reference() {
        let t = two_proportion_z_test(312, 2400, 136, 800).unwrap();
        assert_abs_diff_eq!(t.z, -2.823_724_832_010_070_5, epsilon = tol::ORACLE);
        assert_abs_diff_eq!(t.p_value, 0.004_746_911_940_511_481, epsilon = tol::ORACLE);
    }

    /// Hand calculation: 10/100 vs 20/100, pooled 0.15, z = −0.1/√(0.15·0.85·0.02).
    #[test]
    fn z_test_matches_hand_calculation() {
        let t = two_proportion_z_test(10, 100, 20, 100).unwrap();
        let z = -0.1 / (0.15f64 * 0.85 * 0.02).sqrt();
        assert_abs_diff_eq!(t.z, z, epsilon = tol::EXACT);
        // mpmath at 30 digits: 2·ncdf(−1.98029508595334872823500625712)
        assert_abs_diff_eq!(t.p_value, 0.047_670_380_656_161_435, epsilon = tol::ORACLE);
        let same = two_proportion_z_test(3, 10, 3, 10).unwrap();
        assert_eq!((same.z, same.p_value), (0.0, 1.0));
        let none = two_proportion_z_test(0, 10, 0, 30).unwrap();
        assert_eq!((none.z, none.p_value), (0.0, 1.0));
    }

    /// statsmodels' docstring-style example, by hand: m = 4.
    #[test]
    fn holm_matches_hand_calculation() {
        let p = [0.01, 0.04, 0.03, 0.005];
        // sorted: 0.005 (×4 = 0.02), 0.01 (×3 = 0.03), 0.03 (×2 = 0.06), 0.04 (×1 → max 0.06)
        let adj = holm(&p).unwrap();
        for (a, want) in adj.iter().zip([0.03, 0.06, 0.06, 0.02]) {
            assert_abs_diff_eq!(*a, want, epsilon = tol::EXACT);
        }
        assert_eq!(holm(&[0.2]).unwrap(), vec![0.2]);
        assert_eq!(holm(&[0.6, 0.7]).unwrap(), vec![1.0, 1.0]);
        assert!(holm(&[]).unwrap().is_empty());
    }

    #[test]
    fn holm_rejects_invalid_p_values_naming_the_index() {
        let e = holm(&[0.1, f64::NAN]).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::NonFinite { row: 1, .. }));
        let e = holm(&[0.1, 0.2, 1.5]).unwrap_err();
        assert!(matches!(
            e.kind(),
            ErrorKind::InvalidValue {
                index: 2,
                field: "p_value",
                ..
            }
        ));
        assert_eq!(
            e.to_string(),
            "p-value 2, field `p_value`: must be in [0, 1], got 1.5"
        );
    }

    /// Hand calculation, m = 5: p sorted 0.001, 0.008, 0.039, 0.041, 0.6;
    /// m·p/rank = 0.005, 0.02, 0.065, 0.05125, 0.6; running minimum from the
    /// top: 0.6, 0.05125, 0.05125, 0.02, 0.005. statsmodels 0.15.0
    /// `multipletests([0.039, 0.001, 0.6, 0.041, 0.008], method="fdr_bh")[1]`
    /// gives the same: [0.05125, 0.005, 0.6, 0.05125, 0.02].
    #[test]
    fn benjamini_hochberg_matches_hand_calculation_and_statsmodels() {
        let adj = benjamini_hochberg(&[0.039, 0.001, 0.6, 0.041, 0.008]).unwrap();
        for (a, want) in adj.iter().zip([0.05125, 0.005, 0.6, 0.05125, 0.02]) {
            assert_abs_diff_eq!(*a, want, epsilon = tol::EXACT);
        }
        assert_eq!(benjamini_hochberg(&[0.2]).unwrap(), vec![0.2]);
        assert!(benjamini_hochberg(&[]).unwrap().is_empty());
        let e = benjamini_hochberg(&[0.1, -0.1]).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::InvalidValue { index: 1, .. }));
    }

    proptest::proptest! {
        /// Benjamini–Hochberg p-values lie between the raw ones and Holm's.
        #[test]
        fn benjamini_hochberg_is_between_raw_and_holm(p in proptest::collection::vec(0.0..=1.0f64, 1..30)) {
            let bh = benjamini_hochberg(&p).unwrap();
            let holm = holm(&p).unwrap();
            for i in 0..p.len() {
                proptest::prop_assert!(bh[i] >= p[i] && bh[i] <= holm[i] + 1e-15 && bh[i] <= 1.0);
            }
        }

        /// Holm p-values are ≥ the raw ones, ≤ 1, and monotone in the raw rank.
        #[test]
        fn holm_is_bounded_and_monotone(p in proptest::collection::vec(0.0..=1.0f64, 1..30)) {
            let adj = holm(&p).unwrap();
            for i in 0..p.len() {
                proptest::prop_assert!(adj[i] >= p[i] && adj[i] <= 1.0);
                for j in 0..p.len() {
                    if p[i] <= p[j] {
                        proptest::prop_assert!(adj[i] <= adj[j]);
                    }
                }
            }
        }

        /// The z-test's p-value is a probability and its sign follows the rates.
        #[test]
        fn z_test_p_value_is_a_probability(
            n1 in 1u64..3_000, x1f in 0.0..=1.0f64, n2 in 1u64..3_000, x2f in 0.0..=1.0f64,
        ) {
            let x1 = ((n1 as f64) * x1f).floor() as u64;
            let x2 = ((n2 as f64) * x2f).floor() as u64;
            let t = two_proportion_z_test(x1, n1, x2, n2).unwrap();
            proptest::prop_assert!((0.0..=1.0).contains(&t.p_value));
            let d = x1 as f64 / n1 as f64 - x2 as f64 / n2 as f64;
            proptest::prop_assert!(t.z * d >= 0.0);
        }
    }
}
