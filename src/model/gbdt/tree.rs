//! One regression tree of the ensemble: its nodes, how a row walks down
//! it, and its serialized form (checked on load).

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind, Result};

/// A node. Internal nodes send a row left when `x[feature] ≤ threshold`
/// (a NaN goes left when `missing_left`), to `left`, else to `right`,
/// which is always `left + 1`; leaves have `left == 0` (the root is node 0
/// and no node points back to it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Node {
    pub(super) feature: u32,
    pub(super) threshold: f64,
    pub(super) left: u32,
    pub(super) right: u32,
    pub(super) missing_left: bool,
    /// Leaf: its value (learning rate applied). Internal node: the
    /// cover-weighted mean of the leaves below it.
    pub(super) value: f64,
    /// Training rows that reached the node (of the tree's bagged rows).
    pub(super) cover: f64,
    /// Internal node: the split's reduction of the training loss. Leaf: 0.
    pub(super) gain: f64,
}

impl Node {
    pub(super) fn leaf(value: f64, cover: f64) -> Self {
        Node {
            feature: 0,
            threshold: 0.0,
            left: 0,
            right: 0,
            missing_left: false,
            value,
            cover,
            gain: 0.0,
        }
    }

    #[inline(always)]
    pub(super) fn is_leaf(&self) -> bool {
        self.left == 0
    }

    /// The child a row with value `x` of this node's feature goes to.
    /// (The right child is always `left + 1`, checked on load, so this
    /// compiles without a branch.)
    #[inline(always)]
    pub(super) fn child(&self, x: f64) -> usize {
        let left = (x <= self.threshold) | (self.missing_left & x.is_nan());
        self.left as usize + usize::from(!left)
    }
}

/// A regression tree, nodes in creation order (children after parents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TreeRepr", into = "TreeRepr")]
pub(super) struct Tree {
    pub(super) nodes: Vec<Node>,
}

impl Tree {
    /// The leaf value for raw row `row`.
    #[inline]
    pub(super) fn value(&self, row: &[f64]) -> f64 {
        let mut i = 0;
        loop {
            let n = &self.nodes[i];
            if n.is_leaf() {
                return n.value;
            }
            i = n.child(row[n.feature as usize]);
        }
    }

    /// The largest feature index used, plus one (0 for a single leaf).
    pub(super) fn features_used(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| !n.is_leaf())
            .map(|n| n.feature as usize + 1)
            .max()
            .unwrap_or(0)
    }

    /// Sets each internal node's value to the cover-weighted mean of its
    /// children (children come after parents, so walk backwards).
    pub(super) fn fill_internal_values(&mut self) {
        for i in (0..self.nodes.len()).rev() {
            let n = self.nodes[i];
            if n.is_leaf() {
                continue;
            }
            let (l, r) = (self.nodes[n.left as usize], self.nodes[n.right as usize]);
            let cover = l.cover + r.cover;
            self.nodes[i].value = if cover > 0.0 {
                (l.value * l.cover + r.value * r.cover) / cover
            } else {
                (l.value + r.value) / 2.0
            };
        }
    }
}

/// The serialized tree: one array per node field (compact JSON).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeRepr {
    feature: Vec<u32>,
    threshold: Vec<f64>,
    left: Vec<u32>,
    right: Vec<u32>,
    missing_left: Vec<bool>,
    value: Vec<f64>,
    cover: Vec<f64>,
    gain: Vec<f64>,
}

impl From<Tree> for TreeRepr {
    fn from(t: Tree) -> Self {
        let n = &t.nodes;
        TreeRepr {
            feature: n.iter().map(|n| n.feature).collect(),
            threshold: n.iter().map(|n| n.threshold).collect(),
            left: n.iter().map(|n| n.left).collect(),
            right: n.iter().map(|n| n.right).collect(),
            missing_left: n.iter().map(|n| n.missing_left).collect(),
            value: n.iter().map(|n| n.value).collect(),
            cover: n.iter().map(|n| n.cover).collect(),
            gain: n.iter().map(|n| n.gain).collect(),
        }
    }
}

fn schema(reason: String) -> Error {
    ErrorKind::SchemaMismatch { reason }.into()
}

impl TryFrom<TreeRepr> for Tree {
    type Error = Error;

    /// Checks that the arrays agree in length, every number is finite,
    /// covers are ≥ 0, and the nodes form one tree rooted at node 0 with
    /// children after their parents (so a walk always ends at a leaf).
    fn try_from(r: TreeRepr) -> Result<Self> {
        let len = r.feature.len();
        if len == 0 {
            return Err(schema("a tree has no nodes".into()));
        }
        let lens = [
            r.threshold.len(),
            r.left.len(),
            r.right.len(),
            r.missing_left.len(),
            r.value.len(),
            r.cover.len(),
            r.gain.len(),
        ];
        if lens.iter().any(|&l| l != len) {
            return Err(schema(format!(
                "a tree's node arrays differ in length ({len} features, {lens:?})"
            )));
        }
        let mut parents = vec![0u32; len];
        for i in 0..len {
            for (what, v) in [
                ("threshold", r.threshold[i]),
                ("value", r.value[i]),
                ("cover", r.cover[i]),
                ("gain", r.gain[i]),
            ] {
                if !v.is_finite() {
                    return Err(schema(format!("tree node {i}: {what} is not finite ({v})")));
                }
            }
            if r.cover[i] < 0.0 {
                return Err(schema(format!(
                    "tree node {i}: cover is negative ({})",
                    r.cover[i]
                )));
            }
            let (left, right) = (r.left[i] as usize, r.right[i] as usize);
            if left == 0 && right == 0 {
                continue;
            }
            if left <= i || right != left + 1 || right >= len {
                return Err(schema(format!(
                    "tree node {i}: children {left} and {right} must be consecutive nodes after it and before {len}"
                )));
            }
            parents[left] += 1;
            parents[right] += 1;
        }
        if let Some(i) = (1..len).find(|&i| parents[i] != 1) {
            return Err(schema(format!(
                "tree node {i} has {} parents (every node but the root has one)",
                parents[i]
            )));
        }
        let nodes = (0..len)
            .map(|i| Node {
                feature: r.feature[i],
                threshold: r.threshold[i],
                left: r.left[i],
                right: r.right[i],
                missing_left: r.missing_left[i],
                value: r.value[i],
                cover: r.cover[i],
                gain: r.gain[i],
            })
            .collect();
        Ok(Tree { nodes })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// x0 ≤ 1 → (x1 ≤ 0, NaN left → 1.0 | 2.0) | 3.0.
    pub(in crate::model::gbdt) fn small() -> Tree {
        let mut t = Tree {
            nodes: vec![
                Node {
                    feature: 0,
                    threshold: 1.0,
                    left: 1,
                    right: 2,
                    missing_left: false,
                    value: 0.0,
                    cover: 10.0,
                    gain: 5.0,
                },
                Node {
                    feature: 1,
                    threshold: 0.0,
                    left: 3,
                    right: 4,
                    missing_left: true,
                    value: 0.0,
                    cover: 6.0,
                    gain: 1.0,
                },
                Node::leaf(3.0, 4.0),
                Node::leaf(1.0, 2.0),
                Node::leaf(2.0, 4.0),
            ],
        };
        t.fill_internal_values();
        t
    }

    #[test]
    fn rows_walk_to_their_leaves_and_nan_follows_the_missing_side() {
        let t = small();
        assert_eq!(t.value(&[0.5, -1.0]), 1.0);
        assert_eq!(t.value(&[0.5, 1.0]), 2.0);
        assert_eq!(t.value(&[1.0, f64::NAN]), 1.0);
        assert_eq!(t.value(&[f64::NAN, 0.0]), 3.0); // root sends NaN right
        assert_eq!(t.value(&[2.0, -5.0]), 3.0);
        // Internal values: cover-weighted means.
        assert_eq!(t.nodes[1].value, (2.0 * 1.0 + 4.0 * 2.0) / 6.0);
        assert_eq!(t.features_used(), 2);
    }

    #[test]
    fn json_round_trips_and_broken_trees_are_refused() {
        let t = small();
        let json = serde_json::to_string(&t).unwrap();
        let back: Tree = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        let edit = |from: &str, to: &str| {
            let bad = json.replacen(from, to, 1);
            assert_ne!(bad, json, "{from}");
            serde_json::from_str::<Tree>(&bad).unwrap_err().to_string()
        };
        assert!(edit("\"left\":[1,3", "\"left\":[0,3").contains("children"));
        assert!(edit("\"left\":[1,3", "\"left\":[1,1").contains("children"));
        assert!(edit("\"right\":[2,4", "\"right\":[2,3").contains("children"));
        assert!(edit("\"cover\":[10.0", "\"cover\":[-1.0").contains("negative"));
        assert!(edit("\"gain\":[5.0,1.0,", "\"gain\":[5.0,").contains("length"));
        // A node reachable twice (a diamond) is not a tree.
        let diamond = json.replacen("\"left\":[1,3", "\"left\":[1,2", 1);
        assert!(serde_json::from_str::<Tree>(&diamond).is_err());
    }
}
