//! Growing one tree leaf-wise on gradient histograms.
//!
//! Each leaf owns a contiguous range of a row-index array. A leaf's
//! histogram holds, for every feature and bin, the sums of gradients and
//! hessians and the row count; the best split of a feature is one scan of
//! its bins. Only the smaller child of a split is histogrammed from its
//! rows; the larger one is the parent's histogram minus the smaller's.
//! Histograms are built row by row (a row's bins are contiguous) over
//! fixed pieces of the leaf's rows in parallel, and the pieces' sums are
//! added in order, so the result does not depend on the thread count.

use rayon::prelude::*;

use super::bins::Binned;
use super::tree::{Node, Tree};

/// Rows per partial histogram (a fixed size, so the pieces and the order
/// of their sums never depend on the thread count).
const PIECE: usize = 1 << 15;

/// Up to this many rows, a histogram is built feature by feature in
/// parallel (no partial histograms to add up).
const BY_FEATURE: usize = 1 << 16;

/// Partial histograms built at once (bounds their memory).
const WAVE: usize = 8;

/// Rows per piece when partitioning a leaf's rows in parallel.
const PART_PIECE: usize = 1 << 16;

/// One histogram bin's sums.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Bin {
    pub(super) g: f64,
    pub(super) h: f64,
    pub(super) n: u32,
}

/// Growth limits and penalties, checked by the configuration.
#[derive(Debug, Clone)]
pub(super) struct Limits {
    pub(super) max_leaves: usize,
    pub(super) max_depth: Option<u32>,
    pub(super) min_rows: u32,
    pub(super) min_hessian: f64,
    pub(super) l2: f64,
    pub(super) learning_rate: f64,
    /// Per feature: +1 increasing, −1 decreasing, 0 free.
    pub(super) monotone: Vec<i8>,
}

/// A candidate split of a leaf.
#[derive(Debug, Clone, Copy)]
struct Split {
    gain: f64,
    feature: usize,
    bin: u8,
    missing_left: bool,
    left: Totals,
    /// Unscaled leaf weights of the two children (clamped to the bounds).
    w_left: f64,
    w_right: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Totals {
    g: f64,
    h: f64,
    n: u32,
}

impl Totals {
    fn minus(self, o: Totals) -> Totals {
        Totals {
            g: self.g - o.g,
            h: self.h - o.h,
            n: self.n - o.n,
        }
    }
}

/// A leaf while the tree grows.
struct Leaf {
    node: usize,
    start: usize,
    end: usize,
    depth: u32,
    totals: Totals,
    lower: f64,
    upper: f64,
    hist: Option<Vec<Bin>>,
    best: Option<Split>,
}

/// The grown tree, the bin of each internal node's threshold (to route
/// binned rows), and each leaf's node and row range.
pub(super) struct Grown {
    pub(super) tree: Tree,
    pub(super) node_bins: Vec<u8>,
    pub(super) leaves: Vec<(usize, usize, usize)>,
}

/// Grows trees on one binned matrix.
pub(super) struct Grower<'a> {
    binned: &'a Binned,
    limits: &'a Limits,
    /// Offset of each feature's histogram in the flat histogram.
    offsets: Vec<usize>,
    /// Length of each feature's histogram (its value bins and the missing bin).
    lens: Vec<usize>,
    hist_len: usize,
}

impl<'a> Grower<'a> {
    pub(super) fn new(binned: &'a Binned, limits: &'a Limits) -> Self {
        let mut offsets = Vec::with_capacity(binned.edges.len());
        let mut lens = Vec::with_capacity(binned.edges.len());
        let mut len = 0;
        for e in &binned.edges {
            offsets.push(len);
            lens.push(e.value_bins() + 1);
            len += e.value_bins() + 1;
        }
        Grower {
            binned,
            limits,
            offsets,
            lens,
            hist_len: len,
        }
    }

    /// Grows one tree on the rows in `rows` (which it reorders so that each
    /// leaf's rows are contiguous) with gradients and hessians `gh`, using
    /// the features in `active` (sorted).
    pub(super) fn grow(&self, rows: &mut [u32], gh: &[[f64; 2]], active: &[usize]) -> Grown {
        let lim = self.limits;
        let totals = sum_rows(rows, gh);
        let mut nodes = vec![Node::leaf(0.0, f64::from(totals.n))];
        let mut node_bins = vec![0u8];
        let mut scratch: Vec<u32> = Vec::new();
        let root_hist = self.histogram(rows, gh, active);
        let mut leaves = vec![Leaf {
            node: 0,
            start: 0,
            end: rows.len(),
            depth: 0,
            totals,
            lower: f64::NEG_INFINITY,
            upper: f64::INFINITY,
            hist: Some(root_hist),
            best: None,
        }];
        self.evaluate(&mut leaves[0], active);
        while leaves.len() < lim.max_leaves {
            // The leaf with the largest gain; the first on ties.
            let mut pick: Option<(usize, f64)> = None;
            for (k, l) in leaves.iter().enumerate() {
                if let Some(s) = l.best
                    && pick.is_none_or(|(_, g)| s.gain > g)
                {
                    pick = Some((k, s.gain));
                }
            }
            let Some((k, _)) = pick else { break };
            let leaf = &mut leaves[k];
            let Some(split) = leaf.best.take() else { break };
            let parent_hist = leaf.hist.take();
            let (start, end) = (leaf.start, leaf.end);
            // Partition the leaf's rows, stably: left rows first.
            let col = self.binned.column(split.feature);
            let missing = self.binned.edges[split.feature].missing();
            let goes_left = |r: u32| {
                let b = col[r as usize];
                if b == missing {
                    split.missing_left
                } else {
                    b <= split.bin
                }
            };
            let mid = start + partition(&mut rows[start..end], &mut scratch, goes_left);
            let left_totals = split.left;
            let right_totals = leaf.totals.minus(split.left);
            debug_assert_eq!(left_totals.n as usize, mid - start);
            // Bounds for the children (monotone constraints).
            let (mut l_bounds, mut r_bounds) = ((leaf.lower, leaf.upper), (leaf.lower, leaf.upper));
            let c = lim.monotone.get(split.feature).copied().unwrap_or(0);
            if c != 0 {
                let m = (split.w_left + split.w_right) / 2.0;
                if c > 0 {
                    l_bounds.1 = l_bounds.1.min(m);
                    r_bounds.0 = r_bounds.0.max(m);
                } else {
                    l_bounds.0 = l_bounds.0.max(m);
                    r_bounds.1 = r_bounds.1.min(m);
                }
            }
            let node = leaf.node;
            let depth = leaf.depth + 1;
            let (li, ri) = (nodes.len(), nodes.len() + 1);
            nodes[node] = Node {
                feature: split.feature as u32,
                threshold: self.threshold(split.feature, split.bin),
                left: li as u32,
                right: ri as u32,
                missing_left: split.missing_left,
                value: 0.0,
                cover: nodes[node].cover,
                gain: split.gain,
            };
            node_bins[node] = split.bin;
            nodes.push(Node::leaf(0.0, f64::from(left_totals.n)));
            nodes.push(Node::leaf(0.0, f64::from(right_totals.n)));
            node_bins.extend([0, 0]);
            let can_split =
                |n: u32| lim.max_depth.is_none_or(|d| depth < d) && n >= 2 * lim.min_rows.max(1);
            let (l_split, r_split) = (can_split(left_totals.n), can_split(right_totals.n));
            // Histograms: the smaller child from its rows, the larger by subtraction.
            let (l_hist, r_hist) = if (l_split || r_split)
                && let Some(mut parent) = parent_hist
            {
                let left_smaller = mid - start <= end - mid;
                let small_rows = if left_smaller {
                    &rows[start..mid]
                } else {
                    &rows[mid..end]
                };
                let small = self.histogram(small_rows, gh, active);
                for &j in active {
                    let (o, len) = (self.offsets[j], self.binned.edges[j].value_bins() + 1);
                    for b in o..o + len {
                        let (p, s) = (&mut parent[b], small[b]);
                        p.g -= s.g;
                        p.h -= s.h;
                        p.n -= s.n;
                    }
                }
                if left_smaller {
                    (Some(small), Some(parent))
                } else {
                    (Some(parent), Some(small))
                }
            } else {
                (None, None)
            };
            let mut left = Leaf {
                node: li,
                start,
                end: mid,
                depth,
                totals: left_totals,
                lower: l_bounds.0,
                upper: l_bounds.1,
                hist: l_hist.filter(|_| l_split),
                best: None,
            };
            let mut right = Leaf {
                node: ri,
                start: mid,
                end,
                depth,
                totals: right_totals,
                lower: r_bounds.0,
                upper: r_bounds.1,
                hist: r_hist.filter(|_| r_split),
                best: None,
            };
            self.evaluate(&mut left, active);
            self.evaluate(&mut right, active);
            leaves[k] = left;
            leaves.push(right);
        }
        let mut out = Vec::with_capacity(leaves.len());
        for l in &leaves {
            let w = leaf_weight(l.totals.g, l.totals.h, lim.l2, l.lower, l.upper);
            nodes[l.node].value = w * lim.learning_rate;
            out.push((l.node, l.start, l.end));
        }
        let mut tree = Tree { nodes };
        tree.fill_internal_values();
        Grown {
            tree,
            node_bins,
            leaves: out,
        }
    }

    /// The raw-value threshold of "bin ≤ `bin`" in feature `j`.
    fn threshold(&self, j: usize, bin: u8) -> f64 {
        self.binned.edges[j].thresholds[bin as usize]
    }

    /// The histogram of `rows`, over the `active` features (others stay zero).
    ///
    /// Up to [`BY_FEATURE`] rows, features are summed in parallel, each over
    /// all the rows in order. Larger sets of rows are cut into pieces of
    /// [`PIECE`] rows; each piece is summed into its own histogram (feature
    /// after feature, its gradients gathered once), pieces in parallel, and
    /// the pieces' histograms are added in order. Either way the sums do not
    /// depend on the thread count.
    fn histogram(&self, rows: &[u32], gh: &[[f64; 2]], active: &[usize]) -> Vec<Bin> {
        let len = rows.len();
        // The root passes every row in order: read whole columns in order.
        let whole = len == self.binned.nrows();
        if len <= BY_FEATURE && !whole {
            return self.histogram_by_feature(rows, gh, active);
        }
        let pieces = len.div_ceil(PIECE);
        let mut total = vec![Bin::default(); self.hist_len];
        for wave in (0..pieces).collect::<Vec<_>>().chunks(WAVE) {
            let sums: Vec<Vec<Bin>> = wave
                .par_iter()
                .map(|&p| {
                    let mut hist = vec![Bin::default(); self.hist_len];
                    let (lo, hi) = (p * PIECE, ((p + 1) * PIECE).min(len));
                    if whole {
                        self.add_range(&mut hist, lo, hi, gh, active);
                    } else {
                        self.add_rows(&mut hist, &rows[lo..hi], gh, active);
                    }
                    hist
                })
                .collect();
            for piece in &sums {
                for &j in active {
                    let (o, l) = (self.offsets[j], self.lens[j]);
                    for (t, p) in total[o..o + l].iter_mut().zip(&piece[o..o + l]) {
                        t.g += p.g;
                        t.h += p.h;
                        t.n += p.n;
                    }
                }
            }
        }
        total
    }

    /// The histogram of `rows`, one feature per task.
    fn histogram_by_feature(&self, rows: &[u32], gh: &[[f64; 2]], active: &[usize]) -> Vec<Bin> {
        let mut hist = vec![Bin::default(); self.hist_len];
        let mut ordered: Vec<[f64; 2]> = Vec::with_capacity(rows.len());
        rows.par_iter()
            .map(|&r| gh[r as usize])
            .collect_into_vec(&mut ordered);
        // One slice of the flat histogram per active feature (sorted).
        let mut slices: Vec<(usize, &mut [Bin])> = Vec::with_capacity(active.len());
        let mut rest: &mut [Bin] = &mut hist;
        let mut at = 0;
        for &j in active {
            let (_, tail) = rest.split_at_mut(self.offsets[j] - at);
            let (mine, tail) = tail.split_at_mut(self.lens[j]);
            slices.push((j, mine));
            rest = tail;
            at = self.offsets[j] + self.lens[j];
        }
        slices.into_par_iter().for_each(|(j, out)| {
            let col = self.binned.column(j);
            add_feature(out, rows.len(), |k| (col[rows[k] as usize], ordered[k]));
        });
        hist
    }

    /// Adds rows `lo..hi` (all rows, in order) to `hist`, feature after feature.
    fn add_range(&self, hist: &mut [Bin], lo: usize, hi: usize, gh: &[[f64; 2]], active: &[usize]) {
        let gh = &gh[lo..hi];
        for &j in active {
            let out = &mut hist[self.offsets[j]..self.offsets[j] + self.lens[j]];
            let col = &self.binned.column(j)[lo..hi];
            add_feature(out, gh.len(), |k| (col[k], gh[k]));
        }
    }

    /// Adds the scattered `rows` (sorted) to `hist`, feature after feature,
    /// with their gradients gathered once.
    fn add_rows(&self, hist: &mut [Bin], rows: &[u32], gh: &[[f64; 2]], active: &[usize]) {
        let ordered: Vec<[f64; 2]> = rows.iter().map(|&r| gh[r as usize]).collect();
        for &j in active {
            let out = &mut hist[self.offsets[j]..self.offsets[j] + self.lens[j]];
            let col = self.binned.column(j);
            add_feature(out, rows.len(), |k| (col[rows[k] as usize], ordered[k]));
        }
    }

    /// Finds the leaf's best split, if it has a histogram and any split
    /// improves the loss.
    fn evaluate(&self, leaf: &mut Leaf, active: &[usize]) {
        let Some(hist) = &leaf.hist else { return };
        let lim = self.limits;
        let t = leaf.totals;
        let parent_w = leaf_weight(t.g, t.h, lim.l2, leaf.lower, leaf.upper);
        let parent_score = score(t.g, t.h, lim.l2, parent_w);
        let mut best: Option<Split> = None;
        for &j in active {
            let e = &self.binned.edges[j];
            let nb = e.value_bins();
            if nb < 2 {
                continue;
            }
            let h = &hist[self.offsets[j]..self.offsets[j] + nb + 1];
            let m = h[nb];
            let mono = lim.monotone.get(j).copied().unwrap_or(0);
            let directions: &[bool] = if m.n > 0 { &[false, true] } else { &[false] };
            for &missing_left in directions {
                let mut left = if missing_left {
                    Totals {
                        g: m.g,
                        h: m.h,
                        n: m.n,
                    }
                } else {
                    Totals::default()
                };
                for (b, bin) in h[..nb - 1].iter().enumerate() {
                    left.g += bin.g;
                    left.h += bin.h;
                    left.n += bin.n;
                    if left.n < lim.min_rows || left.h < lim.min_hessian {
                        continue;
                    }
                    let right = t.minus(left);
                    if right.n < lim.min_rows || right.h < lim.min_hessian {
                        // Moving more bins left only shrinks the right.
                        break;
                    }
                    let wl = leaf_weight(left.g, left.h, lim.l2, leaf.lower, leaf.upper);
                    let wr = leaf_weight(right.g, right.h, lim.l2, leaf.lower, leaf.upper);
                    if (mono > 0 && wl > wr) || (mono < 0 && wl < wr) {
                        continue;
                    }
                    let gain = score(left.g, left.h, lim.l2, wl)
                        + score(right.g, right.h, lim.l2, wr)
                        - parent_score;
                    if gain > 0.0 && best.is_none_or(|s| gain > s.gain) {
                        best = Some(Split {
                            gain,
                            feature: j,
                            bin: b as u8,
                            missing_left,
                            left,
                            w_left: wl,
                            w_right: wr,
                        });
                    }
                }
            }
            // A feature without missing training values sends NaN to the
            // side with more rows (decided below, once the split is known).
        }
        if let Some(s) = &mut best
            && hist[self.offsets[s.feature] + self.binned.edges[s.feature].value_bins()].n == 0
        {
            s.missing_left = s.left.n >= t.n - s.left.n;
        }
        leaf.best = best;
    }
}

/// The unscaled Newton step `−G / (H + λ)`, clamped to `[lower, upper]`.
#[inline]
pub(super) fn leaf_weight(g: f64, h: f64, l2: f64, lower: f64, upper: f64) -> f64 {
    let d = h + l2;
    let w = if d > 0.0 { -g / d } else { 0.0 };
    w.clamp(lower, upper)
}

/// The loss reduction of a leaf with weight `w`: `−(G·w + ½ (H + λ) w²)`
/// (`G² / 2(H + λ)` at the unconstrained optimum).
#[inline]
fn score(g: f64, h: f64, l2: f64, w: f64) -> f64 {
    -(g * w + 0.5 * (h + l2) * w * w)
}

/// Adds `n` rows of one feature (row `k`'s bin and gradients are `row(k)`)
/// to the feature's histogram `out`. Even and odd rows go to two separate
/// histograms added at the end, so that runs of rows in one bin (common in
/// features with few values) do not wait on each other's sums.
#[inline(always)]
fn add_feature(out: &mut [Bin], n: usize, row: impl Fn(usize) -> (u8, [f64; 2])) {
    let mut even = [Bin::default(); 256];
    let mut odd = [Bin::default(); 256];
    let mut k = 0;
    while k + 1 < n {
        let (b0, [g0, h0]) = row(k);
        let (b1, [g1, h1]) = row(k + 1);
        let e = &mut even[b0 as usize];
        e.g += g0;
        e.h += h0;
        e.n += 1;
        let o = &mut odd[b1 as usize];
        o.g += g1;
        o.h += h1;
        o.n += 1;
        k += 2;
    }
    if k < n {
        let (b, [g, h]) = row(k);
        let e = &mut even[b as usize];
        e.g += g;
        e.h += h;
        e.n += 1;
    }
    for ((t, e), o) in out.iter_mut().zip(&even).zip(&odd) {
        t.g += e.g + o.g;
        t.h += e.h + o.h;
        t.n += e.n + o.n;
    }
}

/// Reorders `rows` stably so that the rows going left come first, and
/// returns how many go left. Large leaves are split into fixed pieces
/// partitioned in parallel and put back in order (the same result).
fn partition(
    rows: &mut [u32],
    scratch: &mut Vec<u32>,
    goes_left: impl Fn(u32) -> bool + Sync,
) -> usize {
    scratch.clear();
    scratch.resize(rows.len(), 0);
    // Each piece writes its left rows forward from its start and its right
    // rows backward from its end, without branches.
    let lefts: Vec<usize> = rows
        .par_chunks(PART_PIECE)
        .zip(scratch.par_chunks_mut(PART_PIECE))
        .map(|(src, buf)| {
            let (mut l, mut r) = (0, buf.len());
            for &x in src {
                let left = goes_left(x);
                buf[l] = x;
                buf[r - 1] = x;
                l += usize::from(left);
                r -= usize::from(!left);
            }
            l
        })
        .collect();
    let mut w = 0;
    for (buf, &l) in scratch.chunks(PART_PIECE).zip(&lefts) {
        rows[w..w + l].copy_from_slice(&buf[..l]);
        w += l;
    }
    let mid = w;
    for (buf, &l) in scratch.chunks(PART_PIECE).zip(&lefts) {
        for &x in buf[l..].iter().rev() {
            rows[w] = x;
            w += 1;
        }
    }
    mid
}

/// Gradient and hessian sums of `rows`, in fixed chunks summed in order.
fn sum_rows(rows: &[u32], gh: &[[f64; 2]]) -> Totals {
    const CHUNK: usize = 1 << 14;
    let parts: Vec<(f64, f64)> = rows
        .par_chunks(CHUNK)
        .map(|c| {
            c.iter().fold((0.0, 0.0), |(g, h), &r| {
                let [a, b] = gh[r as usize];
                (g + a, h + b)
            })
        })
        .collect();
    let (g, h) = parts
        .iter()
        .fold((0.0, 0.0), |(g, h), &(a, b)| (g + a, h + b));
    Totals {
        g,
        h,
        n: rows.len() as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn limits(max_leaves: usize) -> Limits {
        Limits {
            max_leaves,
            max_depth: None,
            min_rows: 1,
            min_hessian: 0.0,
            l2: 0.0,
            learning_rate: 1.0,
            monotone: vec![0, 0],
        }
    }

    #[test]
    fn a_stump_splits_at_the_best_threshold_with_newton_leaf_values() {
        // Gradients −1 for x < 5 and +1 for x ≥ 5, hessian 1.
        let x = Array2::from_shape_fn((10, 2), |(i, j)| if j == 0 { i as f64 } else { 0.0 });
        let b = Binned::new(x.view(), 255, 1);
        let gh: Vec<[f64; 2]> = (0..10)
            .map(|i| [if i < 5 { -1.0 } else { 1.0 }, 1.0])
            .collect();
        let lim = limits(2);
        let g = Grower::new(&b, &lim);
        let mut rows: Vec<u32> = (0..10).collect();
        let grown = g.grow(&mut rows, &gh, &[0, 1]);
        let t = &grown.tree;
        assert_eq!(t.nodes.len(), 3);
        assert_eq!(t.nodes[0].feature, 0);
        assert_eq!(t.nodes[0].threshold, 4.5);
        assert_eq!(t.nodes[1].value, 1.0);
        assert_eq!(t.nodes[2].value, -1.0);
        // Gain: ½ (5²/5 + 5²/5 − 0²/10) = 5.
        assert_eq!(t.nodes[0].gain, 5.0);
        assert_eq!(t.nodes[0].cover, 10.0);
        // NaN was never seen in training: it goes to the larger side (a tie: left).
        assert!(t.nodes[0].missing_left);
        assert_eq!(grown.leaves, vec![(1, 0, 5), (2, 5, 10)]);
    }

    #[test]
    fn min_rows_and_monotone_constraints_limit_splits() {
        let x = Array2::from_shape_fn((10, 2), |(i, j)| if j == 0 { i as f64 } else { 0.0 });
        let b = Binned::new(x.view(), 255, 1);
        // Decreasing in x: the only useful split has the left side higher.
        let gh: Vec<[f64; 2]> = (0..10)
            .map(|i| [if i < 5 { -1.0 } else { 1.0 }, 1.0])
            .collect();
        let mut lim = limits(4);
        lim.monotone = vec![1, 0];
        let mut rows: Vec<u32> = (0..10).collect();
        let grown = Grower::new(&b, &lim).grow(&mut rows, &gh, &[0, 1]);
        // No increasing split improves the loss: a single leaf.
        assert_eq!(grown.tree.nodes.len(), 1);
        let mut lim = limits(4);
        lim.min_rows = 6;
        let grown = Grower::new(&b, &lim).grow(&mut rows, &gh, &[0, 1]);
        assert_eq!(
            grown.tree.nodes.len(),
            1,
            "no split leaves 6 rows on each side"
        );
    }

    #[test]
    fn missing_values_take_the_better_side() {
        // Rows with NaN have negative gradients like the small values.
        let v = [0.0, 1.0, 2.0, 3.0, f64::NAN, f64::NAN, 6.0, 7.0, 8.0, 9.0];
        let x = Array2::from_shape_fn((10, 2), |(i, j)| if j == 0 { v[i] } else { 0.0 });
        let b = Binned::new(x.view(), 255, 1);
        let gh: Vec<[f64; 2]> = (0..10)
            .map(|i| [if i < 6 { -1.0 } else { 1.0 }, 1.0])
            .collect();
        let lim = limits(2);
        let mut rows: Vec<u32> = (0..10).collect();
        let grown = Grower::new(&b, &lim).grow(&mut rows, &gh, &[0, 1]);
        let root = grown.tree.nodes[0];
        assert!(root.missing_left);
        assert_eq!(root.threshold, 4.5);
        assert_eq!(grown.tree.nodes[1].value, 1.0);
        assert_eq!(grown.tree.value(&[f64::NAN, 0.0]), 1.0);
    }

    #[test]
    fn large_histograms_and_partitions_do_not_depend_on_the_thread_count() {
        // Pieces of rows for every row and for two thirds of them, by feature
        // for a small set; several partition pieces.
        let n = 3 * PIECE + 1000;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| ((i * 7919 + j * 104_729) % 1000) as f64);
        let b = Binned::new(x.view(), 255, 1);
        let gh: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                [
                    ((i * 31) % 17) as f64 * 0.1 - 0.8,
                    0.1 + (i % 5) as f64 * 0.01,
                ]
            })
            .collect();
        let lim = limits(2);
        let g = Grower::new(&b, &lim);
        let every: Vec<u32> = (0..n as u32).collect();
        let some: Vec<u32> = (0..n as u32).filter(|i| i % 3 != 0).collect();
        let few: Vec<u32> = (0..n as u32).filter(|i| i % 7 == 2).collect();
        assert!(some.len() > BY_FEATURE && few.len() <= BY_FEATURE);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let mut rows = every.clone();
                    let mut scratch = Vec::new();
                    let mid = partition(&mut rows, &mut scratch, |r| r % 2 == 0);
                    (
                        g.histogram(&every, &gh, &[0, 1]),
                        g.histogram(&some, &gh, &[0, 1]),
                        g.histogram(&few, &gh, &[0, 1]),
                        rows,
                        mid,
                    )
                })
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
        // Counts are exact, sums agree with a plain sum.
        let (whole, part, small, rows, mid) = one;
        let col = b.column(0);
        for (hist, set) in [(&whole, &every), (&part, &some), (&small, &few)] {
            let mut want = vec![(0.0, 0.0, 0u32); g.lens[0]];
            for &r in set.iter() {
                let e = &mut want[col[r as usize] as usize];
                e.0 += gh[r as usize][0];
                e.1 += gh[r as usize][1];
                e.2 += 1;
            }
            for (got, want) in hist[..g.lens[0]].iter().zip(&want) {
                assert_eq!(got.n, want.2);
                approx::assert_relative_eq!(got.g, want.0, epsilon = 1e-9, max_relative = 1e-12);
                approx::assert_relative_eq!(got.h, want.1, epsilon = 1e-9, max_relative = 1e-12);
            }
        }
        // The stable partition: evens in order, then odds in order.
        assert!(rows.len() > PART_PIECE);
        let evens: Vec<u32> = (0..n as u32).filter(|r| r % 2 == 0).collect();
        let odds: Vec<u32> = (0..n as u32).filter(|r| r % 2 != 0).collect();
        assert_eq!(mid, evens.len());
        assert_eq!(rows[..mid], evens[..]);
        assert_eq!(rows[mid..], odds[..]);
    }
}
