//! The summary compressed for fitting: unique (x, t_x, T) triples with
//! counts, and tables of the distinct recencies and ages.
//!
//! Why: each likelihood pass then costs one exponential and one logarithm
//! per *distinct* triple, while the terms that depend on x alone (log-gamma,
//! digamma) are computed once per distinct x and the logarithms of α + t_x
//! and α + T once per distinct value. Day-level data over two years have at
//! most 731 distinct ages, and many customers share a triple (every one-time
//! buyer of a given day).

use rayon::prelude::*;

use super::summary::CalibrationSummary;

/// Unique (x, t_x, T) rows with their multiplicity, sorted by (x, t_x, T).
#[derive(Debug, Clone)]
pub(crate) struct Compressed {
    /// Index into `x_values` per row.
    pub(crate) x_group: Vec<u32>,
    /// Index into `tx_values` per row.
    pub(crate) tx_index: Vec<u32>,
    /// Index into `t_values` per row.
    pub(crate) t_index: Vec<u32>,
    /// Customers sharing the row.
    pub(crate) weight: Vec<f64>,
    /// Distinct x, ascending.
    pub(crate) x_values: Vec<u32>,
    /// Customers per distinct x.
    pub(crate) x_weight: Vec<f64>,
    /// Distinct t_x, ascending.
    pub(crate) tx_values: Vec<f64>,
    /// Distinct T, ascending.
    pub(crate) t_values: Vec<f64>,
    /// Customers in all.
    pub(crate) customers: usize,
}

/// Largest k / scale the dense fast path of [`index_values`] accepts.
const DENSE_LIMIT: f64 = 1e7;

/// Sorted distinct values and, per input value, its index among them.
fn index_values(values: &[f64]) -> (Vec<f64>, Vec<u32>) {
    // Summaries of dated logs hold whole days (or sevenths of a week): index
    // them through a dense table in O(n) instead of sorting.
    for scale in [1.0, 7.0] {
        if let Some(found) = index_dense(values, scale) {
            return found;
        }
    }
    index_sorted(values)
}

/// The dense path: every value is k / scale for an integer 0 ≤ k ≤ DENSE_LIMIT.
fn index_dense(values: &[f64], scale: f64) -> Option<(Vec<f64>, Vec<u32>)> {
    let steps: Option<Vec<u32>> = values
        .par_iter()
        .map(|&v| {
            let k = (v * scale).round();
            ((0.0..=DENSE_LIMIT).contains(&k) && k / scale == v).then_some(k as u32)
        })
        .collect();
    let steps = steps?;
    let max = steps.par_iter().copied().max().unwrap_or(0) as usize;
    let mut slot = vec![u32::MAX; max + 1];
    for &k in &steps {
        slot[k as usize] = 0;
    }
    let mut distinct = Vec::new();
    for (k, s) in slot.iter_mut().enumerate() {
        if *s == 0 {
            *s = distinct.len() as u32;
            distinct.push(k as f64 / scale);
        }
    }
    let index = steps.par_iter().map(|&k| slot[k as usize]).collect();
    Some((distinct, index))
}

/// The general path: sort, deduplicate, binary-search.
fn index_sorted(values: &[f64]) -> (Vec<f64>, Vec<u32>) {
    let mut distinct = values.to_vec();
    distinct.par_sort_unstable_by(f64::total_cmp);
    distinct.dedup_by(|a, b| a.total_cmp(b).is_eq());
    let index = values
        .par_iter()
        .map(|v| {
            // Every value is present, so the search finds it.
            distinct.partition_point(|d| d.total_cmp(v).is_lt()) as u32
        })
        .collect();
    (distinct, index)
}

impl Compressed {
    /// Compresses every row of the summary.
    pub(crate) fn new(summary: &CalibrationSummary) -> Compressed {
        let (tx_values, tx_of) = index_values(summary.recency());
        let (t_values, t_of) = index_values(summary.age());
        // One u128 key per customer: x, t_x index, T index (each < 2^32).
        let mut keys: Vec<u128> = summary
            .frequency()
            .par_iter()
            .zip(tx_of.par_iter().zip(t_of.par_iter()))
            .map(|(&x, (&tx, &t))| (u128::from(x) << 64) | (u128::from(tx) << 32) | u128::from(t))
            .collect();
        keys.par_sort_unstable();
        let mut out = Compressed {
            x_group: Vec::new(),
            tx_index: Vec::new(),
            t_index: Vec::new(),
            weight: Vec::new(),
            x_values: Vec::new(),
            x_weight: Vec::new(),
            tx_values,
            t_values,
            customers: keys.len(),
        };
        let mut i = 0;
        while i < keys.len() {
            let key = keys[i];
            let mut j = i + 1;
            while j < keys.len() && keys[j] == key {
                j += 1;
            }
            let count = (j - i) as f64;
            let x = (key >> 64) as u32;
            if out.x_values.last() != Some(&x) {
                out.x_values.push(x);
                out.x_weight.push(0.0);
            }
            let group = out.x_values.len() - 1;
            out.x_weight[group] += count;
            out.x_group.push(group as u32);
            out.tx_index.push((key >> 32) as u32);
            out.t_index.push(key as u32);
            out.weight.push(count);
            i = j;
        }
        out
    }

    /// Every `step`-th row, its weight multiplied by `step` (the value
    /// tables are shared; only the rows are thinned).
    pub(crate) fn subsample(&self, step: usize) -> Compressed {
        let step = step.max(1);
        let keep: Vec<usize> = (0..self.len()).step_by(step).collect();
        let weight: Vec<f64> = keep.iter().map(|&i| self.weight[i] * step as f64).collect();
        Compressed {
            x_group: keep.iter().map(|&i| self.x_group[i]).collect(),
            tx_index: keep.iter().map(|&i| self.tx_index[i]).collect(),
            t_index: keep.iter().map(|&i| self.t_index[i]).collect(),
            customers: weight.iter().sum::<f64>() as usize,
            weight,
            x_values: self.x_values.clone(),
            x_weight: self.x_weight.clone(),
            tx_values: self.tx_values.clone(),
            t_values: self.t_values.clone(),
        }
    }

    /// Number of distinct rows.
    pub(crate) fn len(&self) -> usize {
        self.weight.len()
    }

    /// Σ x over customers.
    pub(crate) fn total_repeats(&self) -> f64 {
        self.x_values
            .iter()
            .zip(&self.x_weight)
            .map(|(&x, w)| f64::from(x) * w)
            .sum()
    }

    /// Σ T over customers.
    pub(crate) fn total_age(&self) -> f64 {
        self.t_index
            .iter()
            .zip(&self.weight)
            .map(|(&t, w)| self.t_values[t as usize] * w)
            .sum()
    }

    /// The largest T.
    pub(crate) fn max_age(&self) -> f64 {
        self.t_values.last().copied().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::TimeUnit;

    #[test]
    fn counts_each_distinct_triple_once() {
        let s = CalibrationSummary::from_columns(
            TimeUnit::Days,
            vec![0, 2, 0, 2, 1, 0],
            vec![0.0, 5.0, 0.0, 5.0, 3.0, 0.0],
            vec![10.0, 10.0, 10.0, 10.0, 10.0, 8.0],
        )
        .unwrap();
        let c = Compressed::new(&s);
        assert_eq!(c.customers, 6);
        assert_eq!(c.len(), 4);
        assert_eq!(c.x_values, vec![0, 1, 2]);
        assert_eq!(c.x_weight, vec![3.0, 1.0, 2.0]);
        assert_eq!(c.t_values, vec![8.0, 10.0]);
        assert_eq!(c.tx_values, vec![0.0, 3.0, 5.0]);
        // Sorted by (x, t_x, T): (0,0,8) ×1, (0,0,10) ×2, (1,3,10) ×1, (2,5,10) ×2.
        assert_eq!(c.weight, vec![1.0, 2.0, 1.0, 2.0]);
        assert_eq!(c.t_index, vec![0, 1, 1, 1]);
        assert_eq!(c.total_repeats(), 5.0);
        assert_eq!(c.total_age(), 58.0);
        assert_eq!(c.max_age(), 10.0);
    }

    #[test]
    fn dense_and_sorted_indexing_agree() {
        let weeks: Vec<f64> = (0..500).map(|i| f64::from((i * 37) % 200) / 7.0).collect();
        let general: Vec<f64> = weeks.iter().map(|v| v + 1e-3).collect();
        for values in [weeks, general] {
            assert_eq!(index_values(&values), index_sorted(&values));
        }
        assert!(index_dense(&[0.5], 1.0).is_none());
    }
}
