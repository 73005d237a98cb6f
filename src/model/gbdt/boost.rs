//! The boosting loop: base score, gradients, row and column sampling,
//! one tree per round, early stopping.

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

use super::bins::Binned;
use super::config::{EarlyStopping, GradientBoosting, Monotone};
use super::fitted::FittedGradientBoosting;
use super::grow::{Grower, Limits};
use super::tree::Tree;
use crate::features::TrainingSet;
use crate::model::ClassWeight;
use crate::model::link::sigmoid;
use crate::util::mix::{mix64, splitmix64};
use crate::{ErrorKind, Result};

/// Rows per chunk of the element-wise passes (fixed, so work splits the
/// same way whatever the thread count).
const CHUNK: usize = 1 << 14;

/// Hessians below this cannot make a leaf (LightGBM's `min_sum_hessian_in_leaf`).
const MIN_HESSIAN: f64 = 1e-3;

/// Training or validation rows: values may be NaN (missing), not infinite.
pub(super) struct Data<'a> {
    pub(super) names: &'a [String],
    pub(super) x: ArrayView2<'a, f64>,
    pub(super) y: Vec<bool>,
    pub(super) w: Option<Vec<f64>>,
}

impl<'a> Data<'a> {
    pub(super) fn of(set: &'a TrainingSet) -> Self {
        Data {
            names: set.features().names(),
            x: set.features().values(),
            y: set.labels().to_vec(),
            w: set.weights().map(|w| w.to_vec()),
        }
    }
}

/// Rows split off for fitting or validation: values, labels, weights.
type Owned = (Array2<f64>, Vec<bool>, Option<Vec<f64>>);

/// Borrowed rows: values, labels, weights.
type Rows<'a> = (ArrayView2<'a, f64>, &'a [bool], Option<&'a [f64]>);

/// Fits the ensemble on `train`, early-stopping on `valid` (or on a
/// hold-out of `train` under [`EarlyStopping::HoldOut`] without `valid`).
pub(super) fn fit(
    config: &GradientBoosting,
    train: Data<'_>,
    valid: Option<Data<'_>>,
) -> Result<FittedGradientBoosting> {
    let p = config.parts();
    let (n, d) = train.x.dim();
    if n == 0 || d == 0 {
        return Err(ErrorKind::Empty(format!(
            "cannot fit gradient boosting on {n} rows and {d} features"
        ))
        .into());
    }
    let monotone = monotone_signs(p.monotone, train.names)?;
    let positives = train.y.iter().filter(|&&l| l).count();
    if positives == 0 || positives == n {
        return Err(ErrorKind::SingleClass {
            class: positives == n,
        }
        .into());
    }
    // Hold out a validation part if asked and none was given.
    let held: Option<Owned>;
    let fit_part: Option<Owned>;
    match (&valid, p.early_stopping) {
        (None, EarlyStopping::HoldOut { fraction, .. }) => {
            let (fit_rows, hold_rows) = hold_out(&train.y, fraction, p.seed);
            if hold_rows.is_empty() || fit_rows.is_empty() {
                return Err(ErrorKind::Empty(format!(
                    "holding out {fraction} of {n} rows leaves no rows to fit on or to validate with"
                ))
                .into());
            }
            let pick = |rows: &[usize]| {
                (
                    train.x.select(Axis(0), rows),
                    rows.iter().map(|&i| train.y[i]).collect::<Vec<bool>>(),
                    train
                        .w
                        .as_ref()
                        .map(|w| rows.iter().map(|&i| w[i]).collect::<Vec<f64>>()),
                )
            };
            fit_part = Some(pick(&fit_rows));
            held = Some(pick(&hold_rows));
        }
        _ => {
            fit_part = None;
            held = None;
        }
    }
    let (x, train_y, train_w) = match &fit_part {
        Some((x, y, w)) => (x.view(), &y[..], w.as_deref()),
        None => (train.x, &train.y[..], train.w.as_deref()),
    };
    let valid: Option<Rows<'_>> = match (&held, &valid) {
        (Some((x, y, w)), _) => Some((x.view(), &y[..], w.as_deref())),
        (None, Some(v)) => Some((v.x, &v.y[..], v.w.as_deref())),
        (None, None) => None,
    };
    check_values(x)?;
    if let Some((vx, _, _)) = valid {
        check_values(vx)?;
    }
    let n = x.nrows();
    let weights = row_weights(p.class_weight, train_y, train_w);
    let (wp, wn) =
        train_y.iter().zip(&weights).fold(
            (0.0, 0.0),
            |(a, b), (&y, &w)| if y { (a + w, b) } else { (a, b + w) },
        );
    if !(wp > 0.0 && wn > 0.0) {
        return Err(ErrorKind::SingleClass { class: wn == 0.0 }.into());
    }
    let base = (wp / wn).ln();

    let binned = Binned::new(x, p.bins as usize, p.seed);
    let limits = Limits {
        max_leaves: p.max_leaves as usize,
        max_depth: p.max_depth,
        min_rows: p.min_rows_per_leaf,
        min_hessian: MIN_HESSIAN,
        l2: p.l2,
        learning_rate: p.learning_rate,
        monotone,
    };
    let grower = Grower::new(&binned, &limits);
    let mut score = vec![base; n];
    let mut gh = vec![[0.0f64; 2]; n];
    let mut rows: Vec<u32> = Vec::with_capacity(n);
    let mut valid_score: Vec<f64> =
        valid.map_or_else(Vec::new, |(vx, _, _)| vec![base; vx.nrows()]);
    let mut valid_loss = Vec::new();
    let mut trees: Vec<Tree> = Vec::with_capacity(p.trees as usize);
    let patience = match p.early_stopping {
        EarlyStopping::HoldOut { patience, .. } => Some(patience as usize),
        EarlyStopping::Off => None,
    };
    let mut best = (f64::INFINITY, 0usize);
    for t in 0..p.trees as usize {
        gradients(&score, train_y, &weights, &mut gh);
        rows.clear();
        let bagged = p.row_subsample < 1.0;
        if bagged {
            let cut = (p.row_subsample * 2f64.powi(64)) as u64;
            let key = mix64(p.seed ^ mix64(t as u64 + 1));
            rows.extend((0..n as u32).filter(|&i| mix64(key ^ u64::from(i)) < cut));
            if rows.is_empty() {
                rows.push((mix64(key) % n as u64) as u32);
            }
        } else {
            rows.extend(0..n as u32);
        }
        let active = columns(binned.edges.len(), p.column_subsample, p.seed, t);
        let grown = grower.grow(&mut rows, &gh, &active);
        // Update the training scores: bagged rows by their leaf, the others
        // by walking the tree on their bins.
        for &(node, start, end) in &grown.leaves {
            let v = grown.tree.nodes[node].value;
            for &r in &rows[start..end] {
                score[r as usize] += v;
            }
        }
        if bagged {
            let mut in_bag = vec![false; n];
            for &r in &rows {
                in_bag[r as usize] = true;
            }
            for (i, s) in score.iter_mut().enumerate() {
                if !in_bag[i] {
                    *s += binned_value(&grown.tree, &grown.node_bins, &binned, i);
                }
            }
        }
        let tree = grown.tree;
        if let Some((vx, vy, vw)) = valid {
            add_tree(&tree, vx, &mut valid_score);
            let loss = log_loss(&valid_score, vy, vw);
            valid_loss.push(loss);
            if loss < best.0 {
                best = (loss, t + 1);
            }
        }
        trees.push(tree);
        if let Some(patience) = patience
            && valid.is_some()
            && t + 1 - best.1 >= patience
        {
            break;
        }
    }
    let fitted = trees.len() as u32;
    if patience.is_some() && valid.is_some() {
        trees.truncate(best.1.max(1));
    }
    Ok(FittedGradientBoosting::new(
        config.clone(),
        train.names.to_vec(),
        base,
        trees,
        fitted,
        valid_loss,
    ))
}

/// Every value must be finite or NaN (a missing value).
fn check_values(x: ArrayView2<'_, f64>) -> Result<()> {
    if let Some(((row, col), &v)) = x.indexed_iter().find(|(_, v)| v.is_infinite()) {
        return Err(ErrorKind::NonFinite {
            what: "feature value (only NaN, as missing, is allowed)",
            row,
            column: format!("{col}"),
            value: v,
        }
        .into());
    }
    Ok(())
}

/// +1 / −1 / 0 per feature from the named constraints.
fn monotone_signs(named: &[(String, Monotone)], names: &[String]) -> Result<Vec<i8>> {
    let mut signs = vec![0i8; names.len()];
    for (feature, dir) in named {
        let Some(j) = names.iter().position(|n| n == feature) else {
            return Err(ErrorKind::UnknownName {
                what: "feature for a monotone constraint",
                name: feature.clone(),
                suggestions: Vec::new(),
            }
            .into());
        };
        signs[j] = match dir {
            Monotone::Increasing => 1,
            Monotone::Decreasing => -1,
        };
    }
    Ok(signs)
}

/// Sample weight × class weight per row.
fn row_weights(class: ClassWeight, y: &[bool], sample: Option<&[f64]>) -> Vec<f64> {
    let n = y.len() as f64;
    let pos = y.iter().filter(|&&l| l).count() as f64;
    let (wn, wp) = match class {
        ClassWeight::Balanced => (n / (2.0 * (n - pos)), n / (2.0 * pos)),
        ClassWeight::Custom { negative, positive } => (negative, positive),
        _ => (1.0, 1.0),
    };
    y.iter()
        .enumerate()
        .map(|(i, &l)| (if l { wp } else { wn }) * sample.map_or(1.0, |s| s[i]))
        .collect()
}

/// Gradients and hessians of the weighted log-loss at the current scores.
fn gradients(score: &[f64], y: &[bool], w: &[f64], gh: &mut [[f64; 2]]) {
    gh.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
        let o = c * CHUNK;
        for (k, e) in out.iter_mut().enumerate() {
            let i = o + k;
            let p = sigmoid(score[i]);
            let t = if y[i] { 1.0 } else { 0.0 };
            *e = [w[i] * (p - t), w[i] * p * (1.0 - p)];
        }
    });
}

/// The features tree `t` may use: all, or a seeded draw of
/// `ceil(share · d)` (at least one), sorted.
fn columns(d: usize, share: f64, seed: u64, t: usize) -> Vec<usize> {
    if share >= 1.0 {
        return (0..d).collect();
    }
    let k = ((share * d as f64).ceil() as usize).clamp(1, d);
    let mut state = seed ^ mix64(0xC0_1D ^ t as u64);
    let mut all: Vec<usize> = (0..d).collect();
    for i in 0..k {
        let r = ((u128::from(splitmix64(&mut state)) * (d - i) as u128) >> 64) as usize;
        all.swap(i, i + r);
    }
    all.truncate(k);
    all.sort_unstable();
    all
}

/// Stratified hold-out: each class shuffled with the seed, `fraction` of
/// it (rounded) held out. Returns (fit rows, held-out rows), each sorted.
fn hold_out(y: &[bool], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut state = seed ^ 0x00DD_5EED;
    let (mut fit, mut hold) = (Vec::new(), Vec::new());
    for class in [false, true] {
        let mut rows: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        for i in (1..rows.len()).rev() {
            let r = ((u128::from(splitmix64(&mut state)) * (i + 1) as u128) >> 64) as usize;
            rows.swap(i, r);
        }
        let k = (fraction * rows.len() as f64).round() as usize;
        hold.extend_from_slice(&rows[..k]);
        fit.extend_from_slice(&rows[k..]);
    }
    fit.sort_unstable();
    hold.sort_unstable();
    (fit, hold)
}

/// A training row's leaf value, walking the tree on its bins.
fn binned_value(tree: &Tree, node_bins: &[u8], binned: &Binned, i: usize) -> f64 {
    let mut k = 0;
    loop {
        let n = &tree.nodes[k];
        if n.is_leaf() {
            return n.value;
        }
        let f = n.feature as usize;
        let b = binned.get(i, f);
        let left = if b == binned.edges[f].missing() {
            n.missing_left
        } else {
            b <= node_bins[k]
        };
        k = if left { n.left } else { n.right } as usize;
    }
}

/// Adds one tree's values to the scores of raw rows `x`, in parallel chunks.
fn add_tree(tree: &Tree, x: ArrayView2<'_, f64>, score: &mut [f64]) {
    score
        .par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, out)| {
            let mut buf = Vec::new();
            for (k, s) in out.iter_mut().enumerate() {
                let row = x.row(c * CHUNK + k);
                let row = match row.as_slice() {
                    Some(r) => r,
                    None => {
                        buf.clear();
                        buf.extend(row.iter().copied());
                        &buf[..]
                    }
                };
                *s += tree.value(row);
            }
        });
}

/// Weighted mean log-loss of scores (log-odds), summed in order.
fn log_loss(score: &[f64], y: &[bool], w: Option<&[f64]>) -> f64 {
    let (mut total, mut weight) = (0.0, 0.0);
    for (i, (&s, &l)) in score.iter().zip(y).enumerate() {
        let wi = w.map_or(1.0, |w| w[i]);
        // −log σ(s) = log(1 + e^(−s)), stable for either sign.
        let z = if l { s } else { -s };
        let loss = if z > 0.0 {
            (-z).exp().ln_1p()
        } else {
            -z + z.exp().ln_1p()
        };
        total += wi * loss;
        weight += wi;
    }
    if weight > 0.0 { total / weight } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_out_is_stratified_and_seeded() {
        let y: Vec<bool> = (0..100).map(|i| i % 4 == 0).collect();
        let (fit, hold) = hold_out(&y, 0.2, 3);
        assert_eq!(hold.len(), 20);
        assert_eq!(hold.iter().filter(|&&i| y[i]).count(), 5);
        assert_eq!(fit.len() + hold.len(), 100);
        assert_eq!((fit.clone(), hold.clone()), hold_out(&y, 0.2, 3));
        assert_ne!(hold, hold_out(&y, 0.2, 4).1);
    }

    #[test]
    fn columns_are_a_seeded_subset() {
        assert_eq!(columns(5, 1.0, 1, 0), [0, 1, 2, 3, 4]);
        let c = columns(10, 0.3, 1, 0);
        assert_eq!(c.len(), 3);
        assert!(c.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(c, columns(10, 0.3, 1, 0));
        assert_eq!(columns(10, 0.01, 1, 0).len(), 1);
    }

    #[test]
    fn log_loss_by_hand() {
        // −(ln σ(0)) = ln 2 for either label; −ln σ(ln 3) = ln(4/3).
        approx::assert_relative_eq!(
            log_loss(&[0.0], &[true], None),
            2f64.ln(),
            max_relative = 1e-15
        );
        approx::assert_relative_eq!(
            log_loss(&[3f64.ln(), 3f64.ln()], &[true, false], Some(&[1.0, 3.0])),
            ((4.0f64 / 3.0).ln() + 3.0 * 4f64.ln()) / 4.0,
            max_relative = 1e-14
        );
    }
}
