//! Feature binning: each column's values mapped to at most 255 ordered
//! bins (one byte each) plus a bin for missing values, stored column by
//! column.

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::util::mix::splitmix64;

/// At most this many rows are sorted to find a column's bin edges (as
/// scikit-learn's `HistGradientBoosting`); larger tables are sampled.
const SAMPLE_ROWS: usize = 200_000;

/// Rows per chunk when binning in parallel (fixed, so chunking never
/// depends on the thread count; binning is element-wise anyway).
const CHUNK: usize = 1 << 16;

/// One column's bin edges: a value `x` falls in bin `#{t ∈ thresholds : t < x}`,
/// so bin `b` holds `thresholds[b − 1] < x ≤ thresholds[b]`, and a split
/// "bin ≤ b" is the rule "x ≤ thresholds[b]" on raw values. NaN falls in
/// [`missing`](Self::missing), one past the last value bin.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Edges {
    pub(super) thresholds: Vec<f64>,
}

impl Edges {
    /// The number of value bins (the missing bin comes after them).
    pub(super) fn value_bins(&self) -> usize {
        self.thresholds.len() + 1
    }

    /// The missing-value bin.
    pub(super) fn missing(&self) -> u8 {
        // At most 254 thresholds, so at most 255 value bins: 0..=254, missing 255.
        self.thresholds.len() as u8 + 1
    }

    /// The bin of `x`.
    #[inline]
    pub(super) fn bin(&self, x: f64) -> u8 {
        if x.is_nan() {
            self.missing()
        } else {
            self.thresholds.partition_point(|&t| t < x) as u8
        }
    }
}

/// The binned training matrix, column-major: `column(j)[i]` is row `i`'s
/// bin in feature `j`.
#[derive(Debug)]
pub(super) struct Binned {
    n: usize,
    data: Vec<u8>,
    pub(super) edges: Vec<Edges>,
}

impl Binned {
    /// Finds each column's edges (at most `max_bins` value bins, from up to
    /// [`SAMPLE_ROWS`] rows chosen with `seed`) and bins every value.
    /// Values must be finite or NaN (the caller checks).
    pub(super) fn new(x: ArrayView2<'_, f64>, max_bins: usize, seed: u64) -> Self {
        let (n, d) = x.dim();
        let sample = sample_rows(n, seed);
        let edges: Vec<Edges> = (0..d)
            .into_par_iter()
            .map(|j| {
                let col = x.column(j);
                let mut v: Vec<f64> = match &sample {
                    Some(rows) => rows.iter().map(|&i| col[i]).collect(),
                    None => col.iter().copied().collect(),
                };
                v.retain(|x| !x.is_nan());
                v.sort_unstable_by(f64::total_cmp);
                find_edges(&v, max_bins)
            })
            .collect();
        // Each chunk of rows reads its rows once, in order, and writes its
        // part of every column.
        let mut data = vec![0u8; n * d];
        let mut parts: Vec<Vec<&mut [u8]>> = (0..n.div_ceil(CHUNK)).map(|_| Vec::new()).collect();
        for col in data.chunks_mut(n.max(1)) {
            for (part, piece) in parts.iter_mut().zip(col.chunks_mut(CHUNK)) {
                part.push(piece);
            }
        }
        parts.into_par_iter().enumerate().for_each(|(c, mut cols)| {
            let len = cols.first().map_or(0, |s| s.len());
            for k in 0..len {
                let row = x.row(c * CHUNK + k);
                for ((col, e), &v) in cols.iter_mut().zip(&edges).zip(row.iter()) {
                    col[k] = e.bin(v);
                }
            }
        });
        Binned { n, data, edges }
    }

    /// Bins of feature `j`, one per row.
    #[inline]
    pub(super) fn column(&self, j: usize) -> &[u8] {
        &self.data[j * self.n..(j + 1) * self.n]
    }

    /// Row `i`'s bin in feature `j`.
    #[inline]
    pub(super) fn get(&self, i: usize, j: usize) -> u8 {
        self.data[j * self.n + i]
    }

    /// The number of rows.
    pub(super) fn nrows(&self) -> usize {
        self.n
    }

    /// The size of the binned data in bytes.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.data.len()
    }
}

/// `None` (use every row) for small tables; otherwise [`SAMPLE_ROWS`]
/// distinct rows drawn with `seed` (a partial Fisher–Yates shuffle), sorted.
fn sample_rows(n: usize, seed: u64) -> Option<Vec<usize>> {
    if n <= SAMPLE_ROWS {
        return None;
    }
    let mut state = seed ^ 0x5EED_B1A5;
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..SAMPLE_ROWS {
        let r = ((u128::from(splitmix64(&mut state)) * (n - i) as u128) >> 64) as usize;
        idx.swap(i, i + r);
    }
    idx.truncate(SAMPLE_ROWS);
    idx.sort_unstable();
    Some(idx)
}

/// Bin edges for sorted, NaN-free values: midpoints between consecutive
/// distinct values when there are at most `max_bins` of them; otherwise
/// the midpoint-interpolated percentiles at `k / max_bins` (as scikit-learn's
/// `_find_binning_thresholds`), deduplicated.
fn find_edges(sorted: &[f64], max_bins: usize) -> Edges {
    let mut distinct: Vec<f64> = sorted.to_vec();
    distinct.dedup();
    let mut thresholds: Vec<f64> = if distinct.len() <= max_bins {
        distinct.windows(2).map(|w| midpoint(w[0], w[1])).collect()
    } else {
        let m = sorted.len() - 1;
        (1..max_bins)
            .map(|k| {
                // numpy's percentile(method="midpoint") at 100·k/max_bins.
                let pos = k as f64 * m as f64 / max_bins as f64;
                let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
                midpoint(sorted[lo], sorted[hi])
            })
            .collect()
    };
    thresholds.dedup();
    // A threshold at the largest value would leave the last bin empty.
    if let Some(&max) = sorted.last() {
        while thresholds.last().is_some_and(|&t| t >= max) {
            thresholds.pop();
        }
    }
    Edges { thresholds }
}

/// A value between `a ≤ b` that `a` is at most and `b` exceeds (so `a`
/// and `b` fall in different bins), or `a` itself when `a == b`.
fn midpoint(a: f64, b: f64) -> f64 {
    let m = a + (b - a) / 2.0;
    if m < b { m } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn few_distinct_values_get_one_bin_each_and_nan_its_own() {
        let x = array![[1.0], [3.0], [3.0], [f64::NAN], [2.0], [1.0]];
        let b = Binned::new(x.view(), 255, 1);
        assert_eq!(b.edges[0].thresholds, [1.5, 2.5]);
        assert_eq!(b.column(0), [0, 2, 2, 3, 1, 0]);
        assert_eq!(b.edges[0].missing(), 3);
        assert_eq!(b.bytes(), 6);
        assert_eq!(b.get(4, 0), 1);
    }

    #[test]
    fn many_values_are_cut_at_percentiles_and_split_rules_match_bins() {
        let v: Vec<f64> = (0..1000)
            .map(|i| ((i * 7919) % 1000) as f64 * 0.5)
            .collect();
        let x = ndarray::Array2::from_shape_vec((1000, 1), v.clone()).unwrap();
        let b = Binned::new(x.view(), 10, 3);
        let e = &b.edges[0];
        assert_eq!(e.value_bins(), 10);
        // Equal-count bins: 100 rows each.
        for bin in 0..10u8 {
            assert_eq!(b.column(0).iter().filter(|&&c| c == bin).count(), 100);
        }
        // "bin ≤ k" is "x ≤ thresholds[k]".
        let col = b.column(0);
        for (i, &xi) in v.iter().enumerate() {
            for (k, &t) in e.thresholds.iter().enumerate() {
                assert_eq!(col[i] as usize <= k, xi <= t);
            }
        }
    }

    #[test]
    fn adjacent_floats_still_separate_and_constants_have_one_bin() {
        let a = 1.0f64;
        let b = f64::from_bits(a.to_bits() + 1);
        let e = find_edges(&[a, b], 255);
        assert_eq!(e.bin(a), 0);
        assert_eq!(e.bin(b), 1);
        let c = find_edges(&[4.0, 4.0, 4.0], 255);
        assert!(c.thresholds.is_empty());
        assert_eq!(c.bin(4.0), 0);
        assert_eq!(c.missing(), 1);
        assert!(find_edges(&[], 255).thresholds.is_empty());
    }

    #[test]
    fn large_tables_are_sampled_with_the_seed() {
        let s = sample_rows(300_000, 7).unwrap();
        assert_eq!(s.len(), SAMPLE_ROWS);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(s, sample_rows(300_000, 7).unwrap());
        assert_ne!(s, sample_rows(300_000, 8).unwrap());
        assert!(sample_rows(1000, 7).is_none());
    }
}
