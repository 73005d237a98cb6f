//! Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent
//! individualized feature attribution for tree ensembles", Algorithm 2;
//! the same recursion as the `shap` package's `tree_shap`).
//!
//! For one tree and one row, it gives each feature's Shapley value of the
//! game `v(S) = E[f(x) | x_S]`, where the expectation follows the
//! training covers: at a split on a feature outside `S`, both children are
//! visited and weighted by their share of the node's training rows. The
//! values add up to `f(x) − E[f]` (the root's cover-weighted mean), in
//! O(leaves · depth²) instead of 2^features.

use super::tree::Tree;

#[derive(Debug, Clone, Copy)]
struct PathElement {
    feature: usize,
    zero_fraction: f64,
    one_fraction: f64,
    weight: f64,
}

/// No feature (the path's root element).
const NONE: usize = usize::MAX;

/// Adds the tree's SHAP values for `row` to `phi`.
pub(super) fn tree_shap(tree: &Tree, row: &[f64], phi: &mut [f64]) {
    let mut path = Vec::with_capacity(64);
    recurse(tree, row, phi, 0, &mut path, 0, 1.0, 1.0, NONE);
}

#[allow(clippy::too_many_arguments)]
fn recurse(
    tree: &Tree,
    row: &[f64],
    phi: &mut [f64],
    node: usize,
    parent: &mut [PathElement],
    depth: usize,
    zero_fraction: f64,
    one_fraction: f64,
    feature: usize,
) {
    // This call's path: the parent's (its first `depth` elements), extended.
    let mut path: Vec<PathElement> = parent[..depth].to_vec();
    let mut depth = depth;
    extend(&mut path, depth, zero_fraction, one_fraction, feature);
    let n = &tree.nodes[node];
    if n.is_leaf() {
        for i in 1..=depth {
            let w = unwound_sum(&path, depth, i);
            let e = path[i];
            phi[e.feature] += w * (e.one_fraction - e.zero_fraction) * n.value;
        }
        return;
    }
    let split = n.feature as usize;
    let hot = n.child(row[split]);
    let cold = if hot == n.left as usize {
        n.right as usize
    } else {
        n.left as usize
    };
    let cover = n.cover;
    let hot_zero = tree.nodes[hot].cover / cover;
    let cold_zero = tree.nodes[cold].cover / cover;
    let (mut in_zero, mut in_one) = (1.0, 1.0);
    // A feature split on again: undo its earlier element.
    if let Some(k) = (1..=depth).find(|&k| path[k].feature == split) {
        in_zero = path[k].zero_fraction;
        in_one = path[k].one_fraction;
        unwind(&mut path, depth, k);
        depth -= 1;
    }
    recurse(
        tree,
        row,
        phi,
        hot,
        &mut path,
        depth + 1,
        hot_zero * in_zero,
        in_one,
        split,
    );
    recurse(
        tree,
        row,
        phi,
        cold,
        &mut path,
        depth + 1,
        cold_zero * in_zero,
        0.0,
        split,
    );
}

fn extend(path: &mut Vec<PathElement>, depth: usize, zero: f64, one: f64, feature: usize) {
    path.truncate(depth);
    path.push(PathElement {
        feature,
        zero_fraction: zero,
        one_fraction: one,
        weight: if depth == 0 { 1.0 } else { 0.0 },
    });
    let d = depth as f64;
    for i in (0..depth).rev() {
        let fi = i as f64;
        path[i + 1].weight += one * path[i].weight * (fi + 1.0) / (d + 1.0);
        path[i].weight = zero * path[i].weight * (d - fi) / (d + 1.0);
    }
}

fn unwind(path: &mut Vec<PathElement>, depth: usize, k: usize) {
    let (one, zero) = (path[k].one_fraction, path[k].zero_fraction);
    let d = depth as f64;
    let mut next_one = path[depth].weight;
    for i in (0..depth).rev() {
        let fi = i as f64;
        if one != 0.0 {
            let tmp = path[i].weight;
            path[i].weight = next_one * (d + 1.0) / ((fi + 1.0) * one);
            next_one = tmp - path[i].weight * zero * (d - fi) / (d + 1.0);
        } else {
            path[i].weight = path[i].weight * (d + 1.0) / (zero * (d - fi));
        }
    }
    for i in k..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
    path.truncate(depth);
}

fn unwound_sum(path: &[PathElement], depth: usize, k: usize) -> f64 {
    let (one, zero) = (path[k].one_fraction, path[k].zero_fraction);
    let d = depth as f64;
    let mut next_one = path[depth].weight;
    let mut total = 0.0;
    for i in (0..depth).rev() {
        let fi = i as f64;
        if one != 0.0 {
            let tmp = next_one * (d + 1.0) / ((fi + 1.0) * one);
            total += tmp;
            next_one = path[i].weight - tmp * zero * (d - fi) / (d + 1.0);
        } else if zero != 0.0 {
            total += path[i].weight / zero / ((d - fi) / (d + 1.0));
        }
    }
    total
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::model::gbdt::tree::tests::small;

    /// `E[f(x) | x_S]` along the covers: the path-dependent value of coalition `s`.
    pub(in crate::model::gbdt) fn expected(tree: &Tree, row: &[f64], s: u32, node: usize) -> f64 {
        let n = &tree.nodes[node];
        if n.is_leaf() {
            return n.value;
        }
        let f = n.feature as usize;
        if s & (1 << f) != 0 {
            return expected(tree, row, s, n.child(row[f]));
        }
        let (l, r) = (n.left as usize, n.right as usize);
        (tree.nodes[l].cover * expected(tree, row, s, l)
            + tree.nodes[r].cover * expected(tree, row, s, r))
            / n.cover
    }

    /// Shapley values by enumerating every coalition of `d` features.
    pub(in crate::model::gbdt) fn brute_force(value: impl Fn(u32) -> f64, d: usize) -> Vec<f64> {
        let fact = |k: usize| (1..=k).map(|v| v as f64).product::<f64>();
        let mut phi = vec![0.0; d];
        for (i, p) in phi.iter_mut().enumerate() {
            for s in 0u32..(1 << d) {
                if s & (1 << i) != 0 {
                    continue;
                }
                let size = s.count_ones() as usize;
                let weight = fact(size) * fact(d - size - 1) / fact(d);
                *p += weight * (value(s | (1 << i)) - value(s));
            }
        }
        phi
    }

    #[test]
    fn shap_equals_brute_force_on_a_hand_made_tree() {
        let t = small();
        for row in [[0.5, -1.0], [0.5, 1.0], [3.0, f64::NAN], [1.0, f64::NAN]] {
            let mut phi = vec![0.0; 2];
            tree_shap(&t, &row, &mut phi);
            let exact = brute_force(|s| expected(&t, &row, s, 0), 2);
            for j in 0..2 {
                approx::assert_abs_diff_eq!(phi[j], exact[j], epsilon = 1e-12);
            }
            approx::assert_abs_diff_eq!(
                phi.iter().sum::<f64>() + t.nodes[0].value,
                t.value(&row),
                epsilon = 1e-12
            );
        }
        // By hand for x = (0.5, −1): v(∅) = 2.2, v({0}) = (2·1 + 4·2)/6,
        // v({1}) = 0.6·1 + 0.4·3, v({0,1}) = 1.
        let (v0, v1, v01, ve) = (10.0 / 6.0, 1.8, 1.0, 2.2);
        let mut phi = vec![0.0; 2];
        tree_shap(&t, &[0.5, -1.0], &mut phi);
        approx::assert_abs_diff_eq!(phi[0], 0.5 * (v0 - ve) + 0.5 * (v01 - v1), epsilon = 1e-12);
        approx::assert_abs_diff_eq!(phi[1], 0.5 * (v1 - ve) + 0.5 * (v01 - v0), epsilon = 1e-12);
    }
}
