//! The Kaplan–Meier estimator with Greenwood's variance and the log(−log)
//! confidence interval.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::data::SurvivalData;
use crate::Result;
use crate::stats::{Interval, critical_value};

/// The Kaplan–Meier estimator of the survival function `S(t) = P(T > t)`:
/// the share of customers still not churned `t` after they started,
/// allowing for customers whose churn has not been observed (censored).
///
/// One curve for all rows and, when the data is grouped, one per group.
///
/// # Formula
///
/// ```text
/// t₁ < t₂ < …  the distinct durations; nᵢ at risk (duration ≥ tᵢ), dᵢ events at tᵢ
/// S(t)     = Π_{tᵢ ≤ t} (1 − dᵢ/nᵢ)
/// Var      : Greenwood  σ²(t) = Σ_{tᵢ ≤ t} dᵢ / (nᵢ(nᵢ − dᵢ))
/// interval : log(−log S) ± z·σ/|log S|, transformed back:
///            [exp(−exp(log(−log S) + z·σ/|log S|)), exp(−exp(log(−log S) − z·σ/|log S|))]
/// median   = the first tᵢ with S(tᵢ) ≤ 1/2 (none if S stays above 1/2)
/// ```
///
/// E. L. Kaplan and P. Meier (1958); M. Greenwood (1926); the exponential
/// Greenwood interval of D. Collett, *Modelling Survival Data in Medical
/// Research* (2015), §2.2.3; as lifelines' `KaplanMeierFitter`.
///
/// # Example
///
/// ```
/// use churnwise::analysis::survival::{KaplanMeier, SurvivalData};
///
/// // Five customers: churned after 2, 3 and 5 months, two still active at 4 and 6.
/// let data = SurvivalData::new(vec![2.0, 3.0, 4.0, 5.0, 6.0], vec![true, true, false, true, false])?;
/// let km = KaplanMeier::new().fit(&data)?;
/// let curve = km.overall();
/// assert_eq!(curve.survival_at(2.5), 0.8); // 1 − 1/5
/// assert!((curve.survival_at(5.0) - 0.8 * 0.75 * 0.5).abs() < 1e-15);
/// assert_eq!(curve.median(), Some(5.0));
/// assert_eq!(curve.at_risk_at(4.0), 3);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KaplanMeier {
    confidence: f64,
}

impl Default for KaplanMeier {
    fn default() -> Self {
        KaplanMeier { confidence: 0.95 }
    }
}

impl KaplanMeier {
    /// The estimator with a 95% interval.
    pub fn new() -> Self {
        KaplanMeier::default()
    }

    /// The interval's confidence level. Defaults to `0.95`. Must be in `(0, 1)`.
    pub fn confidence(mut self, confidence: f64) -> Self {
        self.confidence = confidence;
        self
    }

    /// The confidence level.
    pub fn confidence_value(&self) -> f64 {
        self.confidence
    }

    /// Checks the configuration; [`fit`](Self::fit) calls it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `confidence` unless it is in `(0, 1)`.
    pub fn validate(&self) -> Result<()> {
        critical_value(self.confidence).map(|_| ())
    }

    /// The curves: one for every row, and one per group when grouped.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate); [`ErrorKind::Empty`](crate::ErrorKind::Empty)
    /// without rows.
    pub fn fit(&self, data: &SurvivalData) -> Result<FittedKaplanMeier> {
        let z = critical_value(self.confidence)?;
        if data.is_empty() {
            return Err(crate::ErrorKind::Empty("no rows to estimate survival on".into()).into());
        }
        let order = sorted_rows(data.durations());
        let (durations, events) = (data.durations(), data.events());
        let overall = SurvivalCurve::from_sorted(
            "all".into(),
            order.iter().map(|&i| (durations[i], events[i])),
            z,
        );
        let groups = match data.group_codes() {
            None => Vec::new(),
            Some(codes) => {
                let levels = data.group_levels();
                let mut rows: Vec<Vec<(f64, bool)>> = vec![Vec::new(); levels.len()];
                for &i in &order {
                    rows[codes[i] as usize].push((durations[i], events[i]));
                }
                levels
                    .iter()
                    .zip(rows)
                    .map(|(label, rows)| {
                        SurvivalCurve::from_sorted(label.clone(), rows.into_iter(), z)
                    })
                    .collect()
            }
        };
        Ok(FittedKaplanMeier {
            params: self.clone(),
            group_name: data.group_name().map(str::to_owned),
            overall,
            groups,
        })
    }
}

/// Row indices sorted by duration (stable, so equal durations keep row order).
pub(super) fn sorted_rows(durations: &[f64]) -> Vec<usize> {
    // Sorting (duration, row) pairs compares in place rather than through
    // the index (several times faster on a million rows); the row breaks
    // ties, so the order is that of a stable sort.
    let mut pairs: Vec<(f64, usize)> = durations.iter().copied().zip(0..).collect();
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    pairs.into_iter().map(|(_, i)| i).collect()
}

/// Kaplan–Meier curves fitted by [`KaplanMeier::fit`]: one for all rows
/// and one per group.
///
/// Its [`Display`](fmt::Display) prints one line per curve: customers,
/// churned, median and survival at a few quantiles of the durations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FittedKaplanMeier {
    params: KaplanMeier,
    group_name: Option<String>,
    overall: SurvivalCurve,
    groups: Vec<SurvivalCurve>,
}

impl FittedKaplanMeier {
    /// The configuration it was fitted with.
    pub fn params(&self) -> &KaplanMeier {
        &self.params
    }

    /// The curve of every row together (labelled `all`).
    pub fn overall(&self) -> &SurvivalCurve {
        &self.overall
    }

    /// The per-group curves, in the order of the data's group levels (empty
    /// when the data is not grouped).
    pub fn groups(&self) -> &[SurvivalCurve] {
        &self.groups
    }

    /// The curve of group `label`, if there is one.
    pub fn group(&self, label: &str) -> Option<&SurvivalCurve> {
        self.groups.iter().find(|c| c.label == label)
    }

    /// The name of the grouping, if grouped.
    pub fn group_name(&self) -> Option<&str> {
        self.group_name.as_deref()
    }
}

impl fmt::Display for FittedKaplanMeier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<16} {:>9} {:>9} {:>9}",
            self.group_name.as_deref().unwrap_or("group"),
            "customers",
            "churned",
            "median"
        )?;
        for curve in std::iter::once(&self.overall).chain(&self.groups) {
            let median = curve
                .median()
                .map_or_else(|| "not reached".to_owned(), |m| format!("{m:.1}"));
            writeln!(
                f,
                "{:<16} {:>9} {:>9} {:>9}",
                curve.label, curve.n, curve.events, median
            )?;
        }
        Ok(())
    }
}

/// One Kaplan–Meier curve: the event table at each distinct duration, the
/// survival estimate and its confidence interval.
///
/// # Example
///
/// ```
/// use churnwise::analysis::survival::{KaplanMeier, SurvivalData};
///
/// let data = SurvivalData::new(vec![1.0, 1.0, 2.0, 4.0], vec![true, false, true, false])?;
/// let curve = KaplanMeier::new().fit(&data)?.overall().clone();
/// assert_eq!(curve.times(), [1.0, 2.0, 4.0]);
/// assert_eq!(curve.at_risk(), [4, 2, 1]);
/// assert_eq!(curve.survival(), [0.75, 0.375, 0.375]);
/// let ci = curve.interval_at(1.5);
/// assert!(ci.lower < 0.75 && 0.75 < ci.upper);
/// assert_eq!(curve.median(), Some(2.0));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurvivalCurve {
    label: String,
    n: usize,
    events: usize,
    times: Vec<f64>,
    at_risk: Vec<usize>,
    observed: Vec<usize>,
    censored: Vec<usize>,
    survival: Vec<f64>,
    variance: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
}

impl SurvivalCurve {
    /// The curve of rows `(duration, event)` sorted by duration, with
    /// critical value `z`.
    pub(super) fn from_sorted(
        label: String,
        rows: impl Iterator<Item = (f64, bool)>,
        z: f64,
    ) -> Self {
        let rows: Vec<(f64, bool)> = rows.collect();
        let n = rows.len();
        let mut curve = SurvivalCurve {
            label,
            n,
            events: 0,
            times: Vec::new(),
            at_risk: Vec::new(),
            observed: Vec::new(),
            censored: Vec::new(),
            survival: Vec::new(),
            variance: Vec::new(),
            lower: Vec::new(),
            upper: Vec::new(),
        };
        let (mut s, mut greenwood, mut remaining) = (1.0f64, 0.0f64, n);
        let mut start = 0;
        while start < n {
            let t = rows[start].0;
            let mut end = start;
            let mut d = 0;
            while end < n && rows[end].0 == t {
                d += usize::from(rows[end].1);
                end += 1;
            }
            let at_risk = remaining;
            if d > 0 {
                s *= 1.0 - d as f64 / at_risk as f64;
                greenwood += if d < at_risk {
                    d as f64 / (at_risk as f64 * (at_risk - d) as f64)
                } else {
                    f64::INFINITY
                };
            }
            let (lower, upper) = log_log_bounds(s, greenwood, z);
            curve.times.push(t);
            curve.at_risk.push(at_risk);
            curve.observed.push(d);
            curve.censored.push(end - start - d);
            curve.survival.push(s);
            curve.variance.push(greenwood);
            curve.lower.push(lower);
            curve.upper.push(upper);
            curve.events += d;
            remaining -= end - start;
            start = end;
        }
        curve
    }

    /// The curve's label: the group, or `all`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The number of rows.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The number of observed events (churns).
    pub fn events(&self) -> usize {
        self.events
    }

    /// The distinct durations, ascending (event and censoring times).
    pub fn times(&self) -> &[f64] {
        &self.times
    }

    /// The number at risk at each of [`times`](Self::times): rows whose
    /// duration is at least that time.
    pub fn at_risk(&self) -> &[usize] {
        &self.at_risk
    }

    /// The events at each time.
    pub fn observed(&self) -> &[usize] {
        &self.observed
    }

    /// The censored rows at each time.
    pub fn censored(&self) -> &[usize] {
        &self.censored
    }

    /// The survival estimate just after each time.
    pub fn survival(&self) -> &[f64] {
        &self.survival
    }

    /// Greenwood's sum `Σ d/(n(n − d))` at each time (the variance of
    /// `log S`); infinite once the curve reaches 0.
    pub fn greenwood(&self) -> &[f64] {
        &self.variance
    }

    /// The lower bounds of the interval at each time.
    pub fn lower(&self) -> &[f64] {
        &self.lower
    }

    /// The upper bounds of the interval at each time.
    pub fn upper(&self) -> &[f64] {
        &self.upper
    }

    /// The index of the last time at or before `t`, if any.
    fn index_at(&self, t: f64) -> Option<usize> {
        self.times.partition_point(|&x| x <= t).checked_sub(1)
    }

    /// `S(t)`: the estimated share still not churned after `t` (1 before
    /// the first time; the estimator is a right-continuous step function).
    pub fn survival_at(&self, t: f64) -> f64 {
        self.index_at(t).map_or(1.0, |i| self.survival[i])
    }

    /// The confidence interval of `S(t)` (`[1, 1]` before the first event).
    pub fn interval_at(&self, t: f64) -> Interval {
        let (lower, upper) = self
            .index_at(t)
            .map_or((1.0, 1.0), |i| (self.lower[i], self.upper[i]));
        Interval { lower, upper }
    }

    /// The number at risk at `t`: rows whose duration is at least `t`.
    pub fn at_risk_at(&self, t: f64) -> usize {
        let i = self.times.partition_point(|&x| x < t);
        self.at_risk.get(i).copied().unwrap_or(0)
    }

    /// The median survival time: the first time at which `S ≤ 1/2`; `None`
    /// when the curve never falls that far (fewer than half churned).
    pub fn median(&self) -> Option<f64> {
        self.quantile(0.5)
    }

    /// The first time at which `S ≤ 1 − q` (`q = 0.25`: the time by which a
    /// quarter have churned), or `None` if never reached or `q` is not in
    /// `(0, 1)`.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if !(q > 0.0 && q < 1.0) {
            return None;
        }
        let i = self.survival.iter().position(|&s| s <= 1.0 - q)?;
        Some(self.times[i])
    }
}

/// The exponential Greenwood (log(−log)) bounds of `s` with Greenwood sum `v`.
fn log_log_bounds(s: f64, v: f64, z: f64) -> (f64, f64) {
    if s >= 1.0 {
        return (1.0, 1.0);
    }
    if s <= 0.0 || !v.is_finite() {
        return (0.0, 0.0);
    }
    let log_s = s.ln();
    let centre = (-log_s).ln();
    // log S < 0: the half-width on the log(−log) scale is z·σ/|log S|.
    let half = z * v.sqrt() / -log_s;
    let lower = (-(centre + half).exp()).exp();
    let upper = (-(centre - half).exp()).exp();
    (lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// By hand: durations 1..=6 with events at 1, 3, 4, 6 and ties at 3.
    #[test]
    fn survival_matches_hand_calculation() {
        let data = SurvivalData::new(
            vec![1.0, 3.0, 3.0, 3.0, 4.0, 5.0, 6.0],
            vec![true, true, true, false, true, false, true],
        )
        .unwrap();
        let curve = KaplanMeier::new().fit(&data).unwrap().overall().clone();
        assert_eq!(curve.times(), [1.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(curve.at_risk(), [7, 6, 3, 2, 1]);
        assert_eq!(curve.observed(), [1, 2, 1, 0, 1]);
        assert_eq!(curve.censored(), [0, 1, 0, 1, 0]);
        let s1 = 6.0 / 7.0;
        let s3 = s1 * 4.0 / 6.0;
        let s4 = s3 * 2.0 / 3.0;
        assert_abs_diff_eq!(curve.survival_at(3.5), s3, epsilon = 1e-15);
        assert_abs_diff_eq!(curve.survival_at(5.0), s4, epsilon = 1e-15);
        assert_eq!(curve.survival_at(6.0), 0.0);
        assert_eq!(curve.survival_at(0.5), 1.0);
        assert_eq!(curve.median(), Some(4.0));
        // Greenwood at 3: 1/(7·6) + 2/(6·4)
        assert_abs_diff_eq!(
            curve.greenwood()[1],
            1.0 / 42.0 + 2.0 / 24.0,
            epsilon = 1e-15
        );
        assert_eq!(
            curve.interval_at(6.0),
            Interval {
                lower: 0.0,
                upper: 0.0
            }
        );
        assert_eq!(curve.at_risk_at(3.0), 6);
        assert_eq!(curve.at_risk_at(3.1), 3);
        assert_eq!(curve.at_risk_at(7.0), 0);
    }

    #[test]
    fn median_is_none_when_not_reached() {
        let data = SurvivalData::new(vec![1.0, 2.0, 3.0], vec![true, false, false]).unwrap();
        assert_eq!(
            KaplanMeier::new().fit(&data).unwrap().overall().median(),
            None
        );
    }

    #[test]
    fn interval_contains_the_estimate() {
        let durations: Vec<f64> = (0..50).map(|i| f64::from(i % 17)).collect();
        let events: Vec<bool> = (0..50).map(|i| i % 3 != 0).collect();
        let data = SurvivalData::new(durations, events).unwrap();
        let curve = KaplanMeier::new().fit(&data).unwrap().overall().clone();
        for i in 0..curve.times().len() {
            let s = curve.survival()[i];
            assert!(curve.lower()[i] <= s && s <= curve.upper()[i], "at {i}");
        }
    }

    #[test]
    fn rejects_bad_confidence_and_empty_data() {
        let data = SurvivalData::new(vec![1.0], vec![true]).unwrap();
        assert!(KaplanMeier::new().confidence(1.0).fit(&data).is_err());
        let empty = SurvivalData::new(vec![], vec![]).unwrap();
        assert!(KaplanMeier::new().fit(&empty).is_err());
    }
}
