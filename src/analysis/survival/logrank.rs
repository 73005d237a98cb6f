//! The log-rank test of equal survival across groups.

use serde::Serialize;

use super::data::SurvivalData;
use super::kaplan_meier::sorted_rows;
use crate::model::linalg;
use crate::stats::chi_square_sf;
use crate::{ErrorKind, Result};

/// The result of a log-rank test, from [`logrank`] or [`logrank_between`].
///
/// # Example
///
/// ```
/// use churnwise::analysis::survival::{SurvivalData, logrank};
///
/// let data = SurvivalData::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![true; 6])?
///     .with_groups("plan", &["a", "a", "a", "b", "b", "b"])?;
/// let test = logrank(&data)?;
/// assert_eq!(test.df, 1);
/// assert_eq!(test.observed, [3, 3]);
/// assert!(test.expected[0] < 3.0); // group a churns earlier than the pooled rate says
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LogRankTest {
    /// The groups compared, in order.
    pub groups: Vec<String>,
    /// Each group's observed events.
    pub observed: Vec<usize>,
    /// Each group's expected events under equal hazards.
    pub expected: Vec<f64>,
    /// The chi-square statistic.
    pub statistic: f64,
    /// Its degrees of freedom: groups − 1.
    pub df: u32,
    /// The p-value `P(χ²_df > statistic)`.
    pub p_value: f64,
}

/// The log-rank test that every group of `data` has the same survival
/// curve (the k-group Mantel–Cox test).
///
/// Use it beside per-group [`KaplanMeier`](super::KaplanMeier) curves to
/// say whether, say, lifecycle stages or plans really churn at different
/// rates over time rather than by chance.
///
/// # Formula
///
/// ```text
/// at each distinct event time: n at risk (n_j per group), d events (d_j per group)
/// O_j = Σ d_j,   E_j = Σ d·n_j/n
/// V_jl = Σ d (n − d)/(n − 1) · n_j/n · (δ_jl − n_l/n)
/// χ² = (O − E)ᵀ V⁻¹ (O − E) over the first k − 1 groups,   df = k − 1
/// ```
///
/// N. Mantel (1966); as lifelines' `multivariate_logrank_test` (and, for two
/// groups, `logrank_test`).
///
/// # Errors
///
/// [`ErrorKind::MissingValue`] if the data is not grouped;
/// [`ErrorKind::Empty`] with fewer than two groups or without events;
/// [`ErrorKind::Fit`] if the covariance is singular (a group whose
/// customers all leave before anyone else's first event, for instance).
pub fn logrank(data: &SurvivalData) -> Result<LogRankTest> {
    let Some(codes) = data.group_codes() else {
        return Err(ErrorKind::MissingValue {
            record: "survival data".into(),
            field: "groups (for the log-rank test)".into(),
        }
        .into());
    };
    let k = data.group_levels().len();
    let selected: Vec<Option<usize>> = (0..k).map(Some).collect();
    test(data, codes, &selected, data.group_levels().to_vec())
}

/// The two-group log-rank test between groups `a` and `b` of `data`,
/// ignoring the other groups.
///
/// # Errors
///
/// [`ErrorKind::UnknownName`] if `a` or `b` is not a group; otherwise as
/// [`logrank`].
///
/// # Example
///
/// ```
/// use churnwise::analysis::survival::{SurvivalData, logrank_between};
///
/// let data = SurvivalData::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], vec![true; 7])?
///     .with_groups("plan", &["a", "a", "a", "b", "b", "b", "c"])?;
/// let test = logrank_between(&data, "a", "b")?;
/// assert_eq!(test.groups, ["a", "b"]);
/// assert_eq!(test.observed, [3, 3]);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn logrank_between(data: &SurvivalData, a: &str, b: &str) -> Result<LogRankTest> {
    let Some(codes) = data.group_codes() else {
        return Err(ErrorKind::MissingValue {
            record: "survival data".into(),
            field: "groups (for the log-rank test)".into(),
        }
        .into());
    };
    let levels = data.group_levels();
    let find = |name: &str| {
        levels.iter().position(|l| l == name).ok_or_else(|| {
            crate::Error::from(ErrorKind::UnknownName {
                what: "group",
                name: name.to_owned(),
                suggestions: levels.to_vec(),
            })
        })
    };
    let (ia, ib) = (find(a)?, find(b)?);
    let mut selected = vec![None; levels.len()];
    selected[ia] = Some(0);
    selected[ib] = Some(1);
    test(data, codes, &selected, vec![a.to_owned(), b.to_owned()])
}

/// The test over rows whose group code maps to `Some(slot)` in `selected`.
fn test(
    data: &SurvivalData,
    codes: &[u32],
    selected: &[Option<usize>],
    groups: Vec<String>,
) -> Result<LogRankTest> {
    let k = groups.len();
    if k < 2 {
        return Err(ErrorKind::Empty(format!(
            "the log-rank test needs at least two groups, got {k}"
        ))
        .into());
    }
    let (durations, events) = (data.durations(), data.events());
    let rows: Vec<(f64, bool, usize)> = sorted_rows(durations)
        .into_iter()
        .filter_map(|i| selected[codes[i] as usize].map(|slot| (durations[i], events[i], slot)))
        .collect();
    let mut at_risk = vec![0usize; k];
    for r in &rows {
        at_risk[r.2] += 1;
    }
    let mut observed = vec![0usize; k];
    let mut expected = vec![0.0; k];
    let mut v = vec![0.0; k * k];
    let mut deaths = vec![0usize; k];
    let mut leaving = vec![0usize; k];
    let mut start = 0;
    while start < rows.len() {
        let t = rows[start].0;
        deaths.iter_mut().for_each(|d| *d = 0);
        leaving.iter_mut().for_each(|d| *d = 0);
        let mut end = start;
        while end < rows.len() && rows[end].0 == t {
            let (_, event, slot) = rows[end];
            deaths[slot] += usize::from(event);
            leaving[slot] += 1;
            end += 1;
        }
        let d: usize = deaths.iter().sum();
        let n: usize = at_risk.iter().sum();
        if d > 0 {
            let (df, nf) = (d as f64, n as f64);
            let factor = if n > 1 {
                df * (nf - df) / (nf - 1.0)
            } else {
                0.0
            };
            for j in 0..k {
                let pj = at_risk[j] as f64 / nf;
                observed[j] += deaths[j];
                expected[j] += df * pj;
                for l in 0..k {
                    let pl = at_risk[l] as f64 / nf;
                    let delta = if j == l { 1.0 } else { 0.0 };
                    v[j * k + l] += factor * pj * (delta - pl);
                }
            }
        }
        for j in 0..k {
            at_risk[j] -= leaving[j];
        }
        start = end;
    }
    if observed.iter().all(|&o| o == 0) {
        return Err(ErrorKind::Empty("no events to compare the groups on".into()).into());
    }
    // The first k − 1 groups: (O − E)ᵀ V⁻¹ (O − E).
    let m = k - 1;
    let mut sub = vec![0.0; m * m];
    for j in 0..m {
        for l in 0..m {
            sub[j * m + l] = v[j * k + l];
        }
    }
    let diff: Vec<f64> = (0..m).map(|j| observed[j] as f64 - expected[j]).collect();
    let l =
        linalg::cholesky_checked(&sub, m, super::SINGULAR_PIVOT).map_err(|j| ErrorKind::Fit {
            what: "log-rank test",
            message: format!(
                "the covariance of the observed-minus-expected events is singular at group `{}`",
                groups[j]
            ),
        })?;
    let solved = linalg::solve_factored(&l, &diff);
    let statistic: f64 = diff.iter().zip(&solved).map(|(a, b)| a * b).sum();
    let df = m as u32;
    Ok(LogRankTest {
        groups,
        observed,
        expected,
        statistic,
        df,
        p_value: chi_square_sf(statistic, f64::from(df)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// By hand, two groups without ties: a = {1, 3}, b = {2, 4}, all events.
    /// t=1: n=4 (2, 2), E_a = 0.5, V = 1·3/3·(1/2)(1/2) = 0.25
    /// t=2: n=3 (1, 2), E_a = 1/3, V = (1/3)(2/3) = 2/9
    /// t=3: n=2 (1, 1), E_a = 1/2, V = 1/4;  t=4: n=1 (0, 1), E_a = 0, V = 0
    /// O_a − E_a = 2 − 4/3 = 2/3, V = 13/18 → χ² = (4/9)/(13/18) = 8/13.
    #[test]
    fn two_groups_match_hand_calculation() {
        let data = SurvivalData::new(vec![1.0, 3.0, 2.0, 4.0], vec![true; 4])
            .unwrap()
            .with_groups("g", &["a", "a", "b", "b"])
            .unwrap();
        let test = logrank(&data).unwrap();
        assert_abs_diff_eq!(test.expected[0], 4.0 / 3.0, epsilon = 1e-15);
        assert_abs_diff_eq!(test.statistic, 8.0 / 13.0, epsilon = 1e-15);
        assert_abs_diff_eq!(
            test.p_value,
            chi_square_sf(8.0 / 13.0, 1.0),
            epsilon = 1e-15
        );
        let pair = logrank_between(&data, "b", "a").unwrap();
        assert_abs_diff_eq!(pair.statistic, test.statistic, epsilon = 1e-14);
    }

    #[test]
    fn needs_groups_and_events() {
        let data = SurvivalData::new(vec![1.0, 2.0], vec![false, false]).unwrap();
        assert!(matches!(
            logrank(&data).unwrap_err().kind(),
            ErrorKind::MissingValue { .. }
        ));
        let grouped = data.with_groups("g", &["a", "b"]).unwrap();
        assert!(matches!(
            logrank(&grouped).unwrap_err().kind(),
            ErrorKind::Empty(_)
        ));
        assert!(matches!(
            logrank_between(&grouped, "a", "z").unwrap_err().kind(),
            ErrorKind::UnknownName { .. }
        ));
    }
}
