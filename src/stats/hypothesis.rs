//! Two-sample tests (Mann–Whitney U, Welch's t) and Pearson's chi-square
//! test of independence on a contingency table.

use serde::{Deserialize, Serialize};

use super::distribution::{chi_square_sf, student_t_sf};
use super::normal::normal_sf;
use crate::{ErrorKind, Result};

/// The result of a two-sided Mann–Whitney U test, from [`mann_whitney_u`].
///
/// # Example
///
/// ```
/// use churnwise::stats::mann_whitney_u;
///
/// let t = mann_whitney_u(&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0, 9.0])?;
/// assert_eq!(t.u, 0.0); // every value of the first sample is below the second's
/// assert!(t.p_value < 0.05);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MannWhitney {
    /// The U statistic of the first sample: the number of (x, y) pairs with
    /// `x > y`, ties counting one half.
    pub u: f64,
    /// The normal approximation's z, with the tie and continuity corrections
    /// (computed from the larger of the two U statistics, so `z ≥ 0`).
    pub z: f64,
    /// The two-sided p-value `2·(1 − Φ(z))`, at most 1.
    pub p_value: f64,
}

/// The result of Welch's two-sample t-test, from [`welch_t_test`].
///
/// # Example
///
/// ```
/// use churnwise::stats::welch_t_test;
///
/// let t = welch_t_test(&[1.0, 2.0, 3.0, 4.0], &[3.0, 5.0, 7.0, 9.0, 11.0])?;
/// assert!(t.t < 0.0 && t.df > 4.0 && t.p_value < 0.05);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WelchTTest {
    /// The t statistic; negative when the first sample's mean is the lower.
    pub t: f64,
    /// The Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// The two-sided p-value.
    pub p_value: f64,
}

/// The result of Pearson's chi-square test of independence, from
/// [`chi_square_independence`].
///
/// # Example
///
/// ```
/// use churnwise::stats::chi_square_independence;
///
/// let t = chi_square_independence(&[[30, 70], [10, 90]])?;
/// assert_eq!(t.dof, 1);
/// assert!(t.p_value < 0.001);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChiSquareTest {
    /// The statistic `Σ (observed − expected)² / expected`.
    pub statistic: f64,
    /// The degrees of freedom `(rows − 1)(columns − 1)`.
    pub dof: u32,
    /// The p-value `P(χ²_dof > statistic)`.
    pub p_value: f64,
}

/// Checks a sample: not empty, every value finite.
fn check_sample(sample: &[f64], name: &'static str, min_len: usize) -> Result<()> {
    if sample.len() < min_len {
        return Err(ErrorKind::Empty(format!(
            "sample `{name}` has {} values, the test needs at least {min_len}",
            sample.len()
        ))
        .into());
    }
    if let Some((row, &value)) = sample.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(ErrorKind::NonFinite {
            what: "sample value",
            row,
            column: name.into(),
            value,
        }
        .into());
    }
    Ok(())
}

/// The two-sided Mann–Whitney U test (Wilcoxon rank-sum test) of `x`
/// against `y`, by the normal approximation with the tie correction and the
/// continuity correction.
///
/// It asks whether values in one sample tend to be larger than in the other
/// without assuming a distribution, so a few extreme spenders do not decide
/// the answer; use it to compare a feature between churned and retained
/// customers.
///
/// # Formula
///
/// ```text
/// R₁ = sum of the (average, for ties) ranks of x in the pooled sample
/// U  = R₁ − n₁(n₁ + 1)/2,   U' = max(U, n₁n₂ − U)
/// σ  = √( n₁n₂/12 · ((n + 1) − Σ(tᵢ³ − tᵢ)/(n(n − 1))) )    tᵢ: sizes of tied groups
/// z  = (U' − n₁n₂/2 − 1/2) / σ,   p = min(1, 2·(1 − Φ(z)))
/// ```
///
/// H. B. Mann and D. R. Whitney (1947); as scipy's
/// `mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")`.
/// When every value is tied (`σ = 0`) the test has no information: `z = 0`,
/// `p = 1`.
///
/// # Errors
///
/// [`ErrorKind::Empty`] for an empty sample; [`ErrorKind::NonFinite`] for a
/// NaN or infinite value (column `x` or `y`).
///
/// # Example
///
/// ```
/// use churnwise::stats::mann_whitney_u;
///
/// // Logins in the last 30 days: churned vs retained customers.
/// let churned = [0.0, 1.0, 1.0, 2.0, 3.0, 0.0];
/// let retained = [4.0, 2.0, 6.0, 5.0, 8.0, 3.0, 7.0];
/// let t = mann_whitney_u(&churned, &retained)?;
/// // scipy: mannwhitneyu(churned, retained, method="asymptotic") → U = 2, p = 0.00787
/// assert_eq!(t.u, 2.0);
/// assert!((t.p_value - 0.007_872_279_533_700_541).abs() < 1e-12);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn mann_whitney_u(x: &[f64], y: &[f64]) -> Result<MannWhitney> {
    check_sample(x, "x", 1)?;
    check_sample(y, "y", 1)?;
    let (n1, n2) = (x.len(), y.len());
    let n = n1 + n2;
    // (value, from x) sorted by value; ties get the average of their ranks.
    let mut pooled: Vec<(f64, bool)> = x
        .iter()
        .map(|&v| (v, true))
        .chain(y.iter().map(|&v| (v, false)))
        .collect();
    pooled.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum_x, mut tie_term) = (0.0, 0.0);
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && pooled[end].0 == pooled[start].0 {
            end += 1;
        }
        // Ranks start + 1 ..= end, averaged.
        let rank = (start + 1 + end) as f64 / 2.0;
        let in_x = pooled[start..end].iter().filter(|p| p.1).count();
        rank_sum_x += rank * in_x as f64;
        let t = (end - start) as f64;
        tie_term += t * t * t - t;
        start = end;
    }
    let (n1f, n2f, nf) = (n1 as f64, n2 as f64, n as f64);
    let u = rank_sum_x - n1f * (n1f + 1.0) / 2.0;
    let u_max = u.max(n1f * n2f - u);
    let ties = if n > 1 {
        tie_term / (nf * (nf - 1.0))
    } else {
        0.0
    };
    let variance = n1f * n2f / 12.0 * ((nf + 1.0) - ties);
    if variance <= 0.0 {
        return Ok(MannWhitney {
            u,
            z: 0.0,
            p_value: 1.0,
        });
    }
    let z = (u_max - n1f * n2f / 2.0 - 0.5) / variance.sqrt();
    Ok(MannWhitney {
        u,
        z,
        p_value: (2.0 * normal_sf(z)).clamp(0.0, 1.0),
    })
}

/// Mean and sample variance (denominator `n − 1`) by Welford's update.
pub(crate) fn mean_variance(values: &[f64]) -> (f64, f64) {
    let (mut mean, mut m2) = (0.0, 0.0);
    for (i, &v) in values.iter().enumerate() {
        let delta = v - mean;
        mean += delta / (i + 1) as f64;
        m2 += delta * (v - mean);
    }
    let n = values.len();
    let variance = if n > 1 { m2 / (n - 1) as f64 } else { 0.0 };
    (mean, variance)
}

/// Welch's two-sided t-test of equal means, without assuming equal
/// variances.
///
/// The t-test on means, robust to the two groups having different spreads
/// (churned customers' spend is often more variable than retained ones').
///
/// # Formula
///
/// ```text
/// sᵢ² sample variances (denominator nᵢ − 1),   vᵢ = sᵢ²/nᵢ
/// t  = (x̄ − ȳ) / √(v₁ + v₂)
/// df = (v₁ + v₂)² / (v₁²/(n₁ − 1) + v₂²/(n₂ − 1))
/// p  = 2·P(T_df > |t|)
/// ```
///
/// B. L. Welch (1947); as scipy's `ttest_ind(x, y, equal_var=False)`. When
/// both samples are constant (`v₁ + v₂ = 0`): `t = 0`, `p = 1` if the means
/// are equal, and `t = ±∞`, `p = 0` otherwise.
///
/// # Errors
///
/// [`ErrorKind::Empty`] unless each sample has at least two values;
/// [`ErrorKind::NonFinite`] for a NaN or infinite value.
///
/// # Example
///
/// ```
/// use churnwise::stats::welch_t_test;
///
/// let churned = [12.0, 15.0, 9.0, 11.0, 8.0];
/// let retained = [20.0, 25.0, 18.0, 30.0, 22.0, 27.0];
/// let t = welch_t_test(&churned, &retained)?;
/// // scipy: ttest_ind(churned, retained, equal_var=False)
/// assert!((t.t - -5.735_236_568_493_33).abs() < 1e-9);
/// assert!(t.p_value < 0.001);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn welch_t_test(x: &[f64], y: &[f64]) -> Result<WelchTTest> {
    check_sample(x, "x", 2)?;
    check_sample(y, "y", 2)?;
    let (n1, n2) = (x.len() as f64, y.len() as f64);
    let (m1, s1) = mean_variance(x);
    let (m2, s2) = mean_variance(y);
    let (v1, v2) = (s1 / n1, s2 / n2);
    let se2 = v1 + v2;
    if se2 <= 0.0 {
        let diff = m1 - m2;
        return Ok(if diff == 0.0 {
            WelchTTest {
                t: 0.0,
                df: n1 + n2 - 2.0,
                p_value: 1.0,
            }
        } else {
            WelchTTest {
                t: diff.signum() * f64::INFINITY,
                df: n1 + n2 - 2.0,
                p_value: 0.0,
            }
        });
    }
    let t = (m1 - m2) / se2.sqrt();
    let df = se2 * se2 / (v1 * v1 / (n1 - 1.0) + v2 * v2 / (n2 - 1.0));
    Ok(WelchTTest {
        t,
        df,
        p_value: (2.0 * student_t_sf(t.abs(), df)).clamp(0.0, 1.0),
    })
}

/// Pearson's chi-square test of independence on an `r × c` table of counts
/// (without Yates' continuity correction).
///
/// For a category (plan, channel, region) against churned / retained: does
/// the churn rate differ between the levels more than chance allows?
///
/// # Formula
///
/// ```text
/// E_ij = (row_i total)(column_j total) / N
/// χ²   = Σ (O_ij − E_ij)² / E_ij,   dof = (r − 1)(c − 1),   p = P(χ²_dof > χ²)
/// ```
///
/// As scipy's `chi2_contingency(table, correction=False)`.
///
/// # Errors
///
/// [`ErrorKind::Empty`] for fewer than two rows or two columns;
/// [`ErrorKind::InvalidValue`] for rows of different lengths or a row or
/// column whose total is 0 (naming it).
///
/// # Example
///
/// ```
/// use churnwise::stats::chi_square_independence;
///
/// // Churned and retained customers by channel (web, store, referral).
/// let t = chi_square_independence(&[[269, 715], [130, 641], [121, 624]])?;
/// // scipy: chi2_contingency(..., correction=False) → 42.1859, dof 2, p 6.91e-10
/// assert!((t.statistic - 42.185_894_849_390_92).abs() < 1e-9);
/// assert_eq!(t.dof, 2);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn chi_square_independence<R: AsRef<[u64]>>(table: &[R]) -> Result<ChiSquareTest> {
    let rows = table.len();
    let cols = table.first().map_or(0, |r| r.as_ref().len());
    if rows < 2 || cols < 2 {
        return Err(ErrorKind::Empty(format!(
            "a chi-square test needs at least 2 rows and 2 columns, got {rows} × {cols}"
        ))
        .into());
    }
    let mut row_totals = vec![0.0; rows];
    let mut col_totals = vec![0.0; cols];
    for (i, row) in table.iter().enumerate() {
        let row = row.as_ref();
        if row.len() != cols {
            return Err(ErrorKind::InvalidValue {
                what: "contingency table row",
                index: i,
                field: "counts",
                reason: format!("has {} columns, the first row has {cols}", row.len()),
            }
            .into());
        }
        for (j, &count) in row.iter().enumerate() {
            row_totals[i] += count as f64;
            col_totals[j] += count as f64;
        }
    }
    if let Some(i) = row_totals.iter().position(|&t| t == 0.0) {
        return Err(ErrorKind::InvalidValue {
            what: "contingency table row",
            index: i,
            field: "counts",
            reason: "has no observation".into(),
        }
        .into());
    }
    if let Some(j) = col_totals.iter().position(|&t| t == 0.0) {
        return Err(ErrorKind::InvalidValue {
            what: "contingency table column",
            index: j,
            field: "counts",
            reason: "has no observation".into(),
        }
        .into());
    }
    let total: f64 = row_totals.iter().sum();
    let mut statistic = 0.0;
    for (i, row) in table.iter().enumerate() {
        for (j, &count) in row.as_ref().iter().enumerate() {
            let expected = row_totals[i] * col_totals[j] / total;
            let d = count as f64 - expected;
            statistic += d * d / expected;
        }
    }
    let dof = ((rows - 1) * (cols - 1)) as u32;
    Ok(ChiSquareTest {
        statistic,
        dof,
        p_value: chi_square_sf(statistic, f64::from(dof)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::{assert_abs_diff_eq, assert_relative_eq};

    /// scipy 1.17: `mannwhitneyu([0,1,1,2,3,0], [4,2,6,5,8,3,7])` (asymptotic,
    /// tie- and continuity-corrected) and by hand: ranks of x are 1.5, 3.5,
    /// 3.5, 5.5, 7.5, 1.5 → R₁ = 23, U = 23 − 21 = 2.
    #[test]
    fn mann_whitney_matches_scipy() {
        let x = [0.0, 1.0, 1.0, 2.0, 3.0, 0.0];
        let y = [4.0, 2.0, 6.0, 5.0, 8.0, 3.0, 7.0];
        let t = mann_whitney_u(&x, &y).unwrap();
        assert_eq!(t.u, 2.0);
        assert_relative_eq!(t.p_value, 0.007_872_279_533_700_541, max_relative = 1e-12);
        let swapped = mann_whitney_u(&y, &x).unwrap();
        assert_eq!(swapped.u, 42.0 - 2.0);
        assert_eq!(swapped.p_value, t.p_value);
    }

    #[test]
    fn mann_whitney_of_all_ties_has_no_evidence() {
        let t = mann_whitney_u(&[1.0, 1.0], &[1.0, 1.0, 1.0]).unwrap();
        assert_eq!((t.u, t.z, t.p_value), (3.0, 0.0, 1.0));
    }

    #[test]
    fn rejects_empty_and_non_finite_samples() {
        assert!(matches!(
            mann_whitney_u(&[], &[1.0]).unwrap_err().kind(),
            ErrorKind::Empty(_)
        ));
        let err = welch_t_test(&[1.0, f64::NAN], &[1.0, 2.0]).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::NonFinite { row: 1, .. }));
        assert!(welch_t_test(&[1.0], &[1.0, 2.0]).is_err());
    }

    /// scipy 1.17: `ttest_ind([12,15,9,11,8], [20,25,18,30,22,27], equal_var=False)`.
    #[test]
    fn welch_matches_scipy() {
        let t = welch_t_test(
            &[12.0, 15.0, 9.0, 11.0, 8.0],
            &[20.0, 25.0, 18.0, 30.0, 22.0, 27.0],
        )
        .unwrap();
        assert_relative_eq!(t.t, -5.735_236_568_493_33, max_relative = 1e-12);
        assert_relative_eq!(t.df, 8.364_826_417_297_289, max_relative = 1e-12);
        assert_relative_eq!(
            t.p_value,
            0.000_369_980_326_171_644_33,
            max_relative = 1e-10
        );
    }

    #[test]
    fn welch_of_constant_samples() {
        let same = welch_t_test(&[2.0, 2.0], &[2.0, 2.0, 2.0]).unwrap();
        assert_eq!((same.t, same.p_value), (0.0, 1.0));
        let apart = welch_t_test(&[1.0, 1.0], &[2.0, 2.0]).unwrap();
        assert_eq!((apart.t, apart.p_value), (f64::NEG_INFINITY, 0.0));
    }

    /// By hand: [[30, 70], [10, 90]] has expected 20/80 in both rows;
    /// χ² = 2·(100/20 + 100/80) = 12.5.
    #[test]
    fn chi_square_matches_hand_calculation() {
        let t = chi_square_independence(&[[30, 70], [10, 90]]).unwrap();
        assert_abs_diff_eq!(t.statistic, 12.5, epsilon = 1e-12);
        assert_eq!(t.dof, 1);
        assert_relative_eq!(t.p_value, chi_square_sf(12.5, 1.0), max_relative = 1e-15);
    }

    #[test]
    fn chi_square_rejects_degenerate_tables() {
        assert!(matches!(
            chi_square_independence(&[[1u64, 2]]).unwrap_err().kind(),
            ErrorKind::Empty(_)
        ));
        let err = chi_square_independence(&[[0u64, 0], [1, 2]]).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidValue { index: 0, .. }
        ));
        let ragged: [&[u64]; 2] = [&[1, 2], &[1]];
        assert!(chi_square_independence(&ragged).is_err());
    }
}
