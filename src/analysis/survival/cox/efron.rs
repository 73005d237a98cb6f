//! The Cox partial likelihood with Efron's ties, its gradient and
//! information matrix, Breslow's baseline hazard, and Harrell's C.

/// Rows sorted by duration with centred covariates, and the blocks of tied
/// durations.
pub(super) struct Prepared {
    /// Number of covariates.
    pub(super) p: usize,
    /// Centred covariates, `n × p` row-major, rows in duration order.
    pub(super) x: Vec<f64>,
    /// Durations, ascending.
    pub(super) time: Vec<f64>,
    /// Events, in the same order.
    pub(super) event: Vec<bool>,
    /// `[start, end)` of each run of equal durations, ascending.
    pub(super) blocks: Vec<(usize, usize)>,
}

impl Prepared {
    /// Sorts `columns` (each `n` long) by `durations` and centres them on `means`.
    pub(super) fn new(
        durations: &[f64],
        events: &[bool],
        columns: &[&[f64]],
        means: &[f64],
    ) -> Self {
        let n = durations.len();
        let p = columns.len();
        let order = super::super::kaplan_meier::sorted_rows(durations);
        let mut x = Vec::with_capacity(n * p);
        let mut time = Vec::with_capacity(n);
        let mut event = Vec::with_capacity(n);
        for &i in &order {
            for (j, column) in columns.iter().enumerate() {
                x.push(column[i] - means[j]);
            }
            time.push(durations[i]);
            event.push(events[i]);
        }
        let mut blocks = Vec::new();
        let mut start = 0;
        while start < n {
            let mut end = start + 1;
            while end < n && time[end] == time[start] {
                end += 1;
            }
            blocks.push((start, end));
            start = end;
        }
        Prepared {
            p,
            x,
            time,
            event,
            blocks,
        }
    }

    /// The linear predictor `x·β` of every (sorted) row.
    pub(super) fn eta(&self, beta: &[f64]) -> Vec<f64> {
        self.x
            .chunks_exact(self.p.max(1))
            .map(|row| row.iter().zip(beta).map(|(a, b)| a * b).sum())
            .collect()
    }
}

/// The log partial likelihood, its gradient and the information matrix
/// (minus the Hessian, `p × p` row-major) at `beta`.
pub(super) struct Evaluation {
    pub(super) log_likelihood: f64,
    pub(super) gradient: Vec<f64>,
    pub(super) information: Vec<f64>,
}

/// Evaluates Efron's log partial likelihood in one pass from the longest
/// duration down, accumulating the risk-set sums (O(n p²)).
///
/// ```text
/// at each event time with D the d tied events, R the risk set, wᵢ = exp(xᵢβ):
/// ℓ += Σ_D xᵢβ − Σ_{l<d} log(Σ_R w − (l/d) Σ_D w)
/// ```
pub(super) fn evaluate(data: &Prepared, beta: &[f64]) -> Evaluation {
    let p = data.p;
    let mut ll = 0.0;
    let mut gradient = vec![0.0; p];
    let mut information = vec![0.0; p * p];
    let (mut s0, mut s1, mut s2) = (0.0, vec![0.0; p], vec![0.0; p * p]);
    let (mut d1, mut d2) = (vec![0.0; p], vec![0.0; p * p]);
    let (mut a1, mut a2) = (vec![0.0; p], vec![0.0; p * p]);
    for &(start, end) in data.blocks.iter().rev() {
        let mut d0 = 0.0;
        let mut deaths = 0usize;
        d1.iter_mut().for_each(|v| *v = 0.0);
        d2.iter_mut().for_each(|v| *v = 0.0);
        for i in start..end {
            let row = &data.x[i * p..(i + 1) * p];
            let eta: f64 = row.iter().zip(beta).map(|(a, b)| a * b).sum();
            let w = eta.exp();
            s0 += w;
            for j in 0..p {
                let wx = w * row[j];
                s1[j] += wx;
                for k in j..p {
                    s2[j * p + k] += wx * row[k];
                }
            }
            if data.event[i] {
                deaths += 1;
                ll += eta;
                d0 += w;
                for j in 0..p {
                    gradient[j] += row[j];
                    let wx = w * row[j];
                    d1[j] += wx;
                    for k in j..p {
                        d2[j * p + k] += wx * row[k];
                    }
                }
            }
        }
        for l in 0..deaths {
            let f = l as f64 / deaths as f64;
            let a0 = s0 - f * d0;
            for j in 0..p {
                a1[j] = s1[j] - f * d1[j];
                for k in j..p {
                    a2[j * p + k] = s2[j * p + k] - f * d2[j * p + k];
                }
            }
            ll -= a0.ln();
            for j in 0..p {
                let mj = a1[j] / a0;
                gradient[j] -= mj;
                for k in j..p {
                    information[j * p + k] += a2[j * p + k] / a0 - mj * (a1[k] / a0);
                }
            }
        }
    }
    for j in 0..p {
        for k in 0..j {
            information[j * p + k] = information[k * p + j];
        }
    }
    Evaluation {
        log_likelihood: ll,
        gradient,
        information,
    }
}

/// Breslow's baseline cumulative hazard at centred covariates: at each
/// distinct duration (ascending), `Σ_{s ≤ t} d_s / Σ_{R(s)} exp(xβ)`.
pub(super) fn baseline_cumulative_hazard(data: &Prepared, eta: &[f64]) -> Vec<f64> {
    let mut increments = vec![0.0; data.blocks.len()];
    let mut s0 = 0.0;
    for (b, &(start, end)) in data.blocks.iter().enumerate().rev() {
        s0 += eta[start..end].iter().map(|e| e.exp()).sum::<f64>();
        let deaths = data.event[start..end].iter().filter(|&&e| e).count();
        increments[b] = deaths as f64 / s0;
    }
    let mut total = 0.0;
    increments
        .into_iter()
        .map(|h| {
            total += h;
            total
        })
        .collect()
}

/// A Fenwick tree of counts over `len` slots.
struct Fenwick {
    tree: Vec<u64>,
}

impl Fenwick {
    fn new(len: usize) -> Self {
        Fenwick {
            tree: vec![0; len + 1],
        }
    }

    fn add(&mut self, slot: usize) {
        let mut i = slot + 1;
        while i < self.tree.len() {
            self.tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }

    /// The count in slots `0..end`.
    fn prefix(&self, end: usize) -> u64 {
        let (mut i, mut sum) = (end, 0);
        while i > 0 {
            sum += self.tree[i];
            i -= i & i.wrapping_neg();
        }
        sum
    }
}

/// Harrell's concordance index of risk scores (higher = earlier churn
/// predicted) against sorted durations and events, in O(n log n).
///
/// A pair is comparable when the shorter duration is an event (an event
/// and a censoring at the same time count, two events at the same time do
/// not); it is concordant when the earlier churner has the higher risk,
/// and tied risks count one half. As lifelines' `concordance_index(T,
/// −partial_hazard, E)`. `None` without a comparable pair.
pub(super) fn concordance(time: &[f64], event: &[bool], risk: &[f64]) -> Option<f64> {
    let n = time.len();
    // Each row's place among the distinct risks of the events, from one sort
    // (not a binary search per row): `below[i]` distinct event risks are
    // below row i's risk, and `at[i]` says whether an event has exactly it.
    let mut by_risk: Vec<usize> = (0..n).collect();
    by_risk.sort_unstable_by(|&a, &b| risk[a].total_cmp(&risk[b]));
    let mut below = vec![0u32; n];
    let mut at = vec![false; n];
    let mut distinct = 0u32;
    let mut start = 0;
    while start < n {
        let r = risk[by_risk[start]];
        let mut end = start;
        while end < n && risk[by_risk[end]] == r {
            end += 1;
        }
        let has_event = by_risk[start..end].iter().any(|&i| event[i]);
        for &i in &by_risk[start..end] {
            below[i] = distinct;
            at[i] = has_event;
        }
        distinct += u32::from(has_event);
        start = end;
    }
    let mut pool = Fenwick::new(distinct as usize);
    let mut pool_size = 0u64;
    let (mut pairs, mut correct, mut tied) = (0u64, 0u64, 0u64);
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && time[end] == time[start] {
            end += 1;
        }
        // Events at this time against earlier events, then censorings
        // against earlier and simultaneous events.
        for pass_events in [true, false] {
            for i in (start..end).filter(|&i| event[i] == pass_events) {
                pairs += pool_size;
                let lo = pool.prefix(below[i] as usize);
                let hi = if at[i] {
                    pool.prefix(below[i] as usize + 1)
                } else {
                    lo
                };
                correct += pool_size - hi;
                tied += hi - lo;
            }
            if pass_events {
                for i in (start..end).filter(|&i| event[i]) {
                    pool.add(below[i] as usize);
                    pool_size += 1;
                }
            }
        }
        start = end;
    }
    (pairs > 0).then(|| (correct as f64 + tied as f64 / 2.0) / pairs as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// The O(n²) definition, for comparison.
    fn naive(time: &[f64], event: &[bool], risk: &[f64]) -> f64 {
        let (mut pairs, mut score) = (0.0, 0.0);
        for a in 0..time.len() {
            for b in 0..time.len() {
                let comparable =
                    event[a] && (time[a] < time[b] || (time[a] == time[b] && !event[b]));
                if comparable {
                    pairs += 1.0;
                    if risk[a] > risk[b] {
                        score += 1.0;
                    } else if risk[a] == risk[b] {
                        score += 0.5;
                    }
                }
            }
        }
        score / pairs
    }

    #[test]
    fn concordance_matches_the_pairwise_definition() {
        let time = [1.0, 2.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0, 6.0, 6.0];
        let event = [
            true, true, false, true, true, false, true, true, false, true,
        ];
        let risk = [0.9, 0.5, 0.7, 0.5, 0.2, 0.2, 0.8, 0.1, 0.3, 0.2];
        let fast = concordance(&time, &event, &risk).unwrap();
        assert_abs_diff_eq!(fast, naive(&time, &event, &risk), epsilon = 1e-15);
    }

    proptest::proptest! {
        /// The O(n log n) count equals the pairwise definition, with ties in
        /// times, risks and censoring.
        #[test]
        fn concordance_equals_the_pairwise_count(
            rows in proptest::collection::vec((0u8..6, proptest::bool::ANY, 0u8..4), 2..40)
        ) {
            let mut rows = rows;
            rows.sort_by_key(|r| r.0);
            let time: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
            let event: Vec<bool> = rows.iter().map(|r| r.1).collect();
            let risk: Vec<f64> = rows.iter().map(|r| f64::from(r.2)).collect();
            match concordance(&time, &event, &risk) {
                Some(c) => proptest::prop_assert!((c - naive(&time, &event, &risk)).abs() < 1e-12),
                None => proptest::prop_assert!(naive(&time, &event, &risk).is_nan()),
            }
        }
    }

    /// By hand: one covariate x = (1, 0), both events at distinct times 1, 2.
    /// ℓ(β) = β − log(e^β + 1); ℓ'(β) = 1 − e^β/(e^β+1); I = e^β/(e^β+1)².
    #[test]
    fn likelihood_matches_hand_calculation() {
        let prepared = Prepared::new(&[1.0, 2.0], &[true, true], &[&[1.0, 0.0]], &[0.0]);
        let beta = 0.3f64;
        let e = prepared_eval(&prepared, beta);
        let w = beta.exp();
        assert_abs_diff_eq!(e.log_likelihood, beta - (w + 1.0).ln(), epsilon = 1e-15);
        assert_abs_diff_eq!(e.gradient[0], 1.0 - w / (w + 1.0), epsilon = 1e-15);
        assert_abs_diff_eq!(
            e.information[0],
            w / ((w + 1.0) * (w + 1.0)),
            epsilon = 1e-15
        );
    }

    fn prepared_eval(p: &Prepared, beta: f64) -> Evaluation {
        evaluate(p, &[beta])
    }

    /// By hand, Efron with two tied events among three at risk (x = 1, 0, 0;
    /// the first two die at t = 1): ℓ = β − log(e^β + 2) − log((e^β + 2) − (e^β + 1)/2).
    #[test]
    fn efron_ties_match_hand_calculation() {
        let prepared = Prepared::new(
            &[1.0, 1.0, 2.0],
            &[true, true, false],
            &[&[1.0, 0.0, 0.0]],
            &[0.0],
        );
        let beta = -0.4f64;
        let w = beta.exp();
        let want = beta - (w + 2.0).ln() - ((w + 2.0) - (w + 1.0) / 2.0).ln();
        assert_abs_diff_eq!(
            evaluate(&prepared, &[beta]).log_likelihood,
            want,
            epsilon = 1e-15
        );
    }
}
