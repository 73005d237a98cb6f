//! FP-growth: frequent itemsets from a prefix tree of the transactions,
//! mined through conditional trees.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{FrequentItemsets, Transactions};
use crate::{Error, ErrorKind, Result};

/// Rows per parallel chunk when the transactions are ranked.
const CHUNK_ROWS: usize = 1 << 16;

/// Marks an item that is not frequent (in a tree's local ranking).
const NONE: u32 = u32::MAX;

/// [`Engine::Auto`] uses bitsets up to this many frequent items.
const AUTO_BITSET_ITEMS: usize = 512;

/// How [`FpGrowth`] counts itemsets. Every engine finds the same itemsets
/// with the same counts; they differ in speed and memory.
///
/// Serialized as `"auto"`, `"fp_tree"` or `"bitset"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Engine {
    /// Bitsets when at most 512 items are frequent, FP-trees otherwise.
    #[default]
    Auto,
    /// Conditional FP-trees (Han, Pei & Yin 2000): best for large, sparse
    /// vocabularies, where the tree compresses the transactions well.
    FpTree,
    /// Vertical bitsets (Eclat, Zaki 2000): each itemset's customers as
    /// one bit each, extended depth first by intersecting bitsets, and
    /// re-indexed onto the itemset's own customers once they are few. Best
    /// for a vocabulary of tens to hundreds of items held by many customers
    /// each, where a million-customer FP-tree barely compresses.
    Bitset,
}

/// Finds every itemset that at least a minimum share of customers hold,
/// with the FP-growth algorithm (Han, Pei & Yin 2000).
///
/// An itemset is frequent when at least `⌈min_support · n⌉` of the `n`
/// customers hold all its items (the count mlxtend's `fpgrowth` uses, so the
/// two find the same itemsets). The transactions are compressed into a prefix
/// tree of their frequent items, most frequent first; the itemsets ending in
/// each item are then mined from that item's conditional tree, recursively,
/// with the items' top-level trees mined in parallel and the results put in
/// one fixed order (see [`FrequentItemsets`]), so the output does not depend
/// on the number of threads.
///
/// A churn vocabulary is usually small (tens to hundreds of items) and
/// dense, and there a million-customer FP-tree barely compresses; so by
/// default ([`Engine::Auto`]) up to 512 frequent items are counted with one
/// bitset per item instead, which finds the same itemsets with the same
/// counts, an order of magnitude faster (`benches/association.rs`).
///
/// Serialized as `{"min_support": 0.01, "max_len": 3}` (`max_len` null or
/// absent for no limit).
///
/// # Example
///
/// ```
/// use churnwise::analysis::association::{FpGrowth, TransactionsBuilder};
///
/// let mut builder = TransactionsBuilder::new();
/// builder.push(1u64, ["complaint:price", "churned"]);
/// builder.push(2u64, ["complaint:price", "churned"]);
/// builder.push(3u64, ["complaint:price"]);
/// builder.push(4u64, ["login:none_30d"]);
/// let itemsets = FpGrowth::new().min_support(0.5).max_len(3).mine(&builder.build()?)?;
/// // {complaint:price} 3 of 4, {churned} 2 of 4, {churned, complaint:price} 2 of 4.
/// assert_eq!(itemsets.len(), 3);
/// assert_eq!(itemsets.support_of(&["churned", "complaint:price"]), Some(0.5));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FpGrowth {
    min_support: f64,
    max_len: Option<usize>,
    engine: Engine,
}

impl Default for FpGrowth {
    fn default() -> Self {
        FpGrowth {
            min_support: 0.01,
            max_len: None,
            engine: Engine::Auto,
        }
    }
}

impl FpGrowth {
    /// The defaults: minimum support 0.01, no limit on the itemset length.
    pub fn new() -> Self {
        Self::default()
    }

    /// The smallest share of customers an itemset must be held by.
    ///
    /// Defaults to `0.01`. Must be in `(0, 1]`.
    pub fn min_support(mut self, share: f64) -> Self {
        self.min_support = share;
        self
    }

    /// The largest number of items in an itemset.
    ///
    /// Defaults to no limit. Must be at least 1.
    pub fn max_len(mut self, items: usize) -> Self {
        self.max_len = Some(items);
        self
    }

    /// How itemsets are counted.
    ///
    /// Defaults to [`Engine::Auto`].
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// The engine.
    pub fn engine_value(&self) -> Engine {
        self.engine
    }

    /// The minimum support.
    pub fn min_support_value(&self) -> f64 {
        self.min_support
    }

    /// The largest itemset length, `None` for no limit.
    pub fn max_len_value(&self) -> Option<usize> {
        self.max_len
    }

    /// Checks the configuration; [`mine`](Self::mine) calls it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `min_support` unless it is in
    /// `(0, 1]`, or `max_len` when it is 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::analysis::association::FpGrowth;
    ///
    /// let err = FpGrowth::new().min_support(0.0).validate().unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "min_support", .. }));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if !(self.min_support > 0.0 && self.min_support <= 1.0) {
            return Err(Error::invalid_parameter(
                "min_support",
                format!("must be in (0, 1], got {}", self.min_support),
            ));
        }
        if self.max_len == Some(0) {
            return Err(Error::invalid_parameter(
                "max_len",
                "must be at least 1, got 0",
            ));
        }
        Ok(())
    }

    /// The frequent itemsets of `transactions`, with their supports.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate); [`ErrorKind::Empty`] without
    /// transactions.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::analysis::association::{FpGrowth, ItemVocabulary};
    ///
    /// # let history = churnwise::doc_support::history(500, 3)?;
    /// let as_of = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
    /// let transactions = ItemVocabulary::new().transactions(&history, as_of)?;
    /// let itemsets = FpGrowth::new().min_support(0.05).mine(&transactions)?;
    /// assert!(itemsets.iter().all(|s| s.support() >= 0.05));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn mine(&self, transactions: &Transactions) -> Result<FrequentItemsets> {
        self.validate()?;
        let n = transactions.len();
        if n == 0 {
            return Err(ErrorKind::Empty("no transactions to mine".into()).into());
        }
        // As mlxtend: frequent when held by at least ⌈min_support · n⌉ customers.
        let min_count = ((self.min_support * n as f64).ceil() as u64).max(1);
        let max_len = self.max_len.unwrap_or(usize::MAX);
        let found = mine_ids(transactions, min_count, max_len, self.engine);
        Ok(FrequentItemsets::from_found(
            transactions.item_names().to_vec(),
            n,
            self.min_support,
            self.max_len,
            found,
        ))
    }
}

/// Itemsets found, as global item ids, back to back.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub(super) offsets: Vec<usize>,
    pub(super) items: Vec<u32>,
    pub(super) counts: Vec<u64>,
}

impl Found {
    pub(super) fn new() -> Self {
        Found {
            offsets: vec![0],
            items: Vec::new(),
            counts: Vec::new(),
        }
    }

    /// Adds `items` (sorted here) with `count`.
    pub(super) fn emit(&mut self, items: &[u32], count: u64) {
        let start = self.items.len();
        self.items.extend_from_slice(items);
        self.items[start..].sort_unstable();
        self.offsets.push(self.items.len());
        self.counts.push(count);
    }

    pub(super) fn append(&mut self, other: Found) {
        let base = self.items.len();
        self.items.extend(other.items);
        self.offsets
            .extend(other.offsets.iter().skip(1).map(|o| o + base));
        self.counts.extend(other.counts);
    }
}

/// Weighted paths (ascending local ranks), back to back.
struct Paths {
    flat: Vec<u32>,
    starts: Vec<usize>,
    weights: Vec<u64>,
}

impl Paths {
    fn path(&self, k: usize) -> &[u32] {
        &self.flat[self.starts[k]..self.starts[k + 1]]
    }
}

/// An FP-tree in an arena: node 0 is the root.
struct Tree {
    item: Vec<u32>,
    parent: Vec<u32>,
    count: Vec<u64>,
    /// `head[head_start[r]..head_start[r + 1]]` are the nodes of rank `r`.
    head_start: Vec<usize>,
    head: Vec<u32>,
    /// Total count of each rank.
    rank_count: Vec<u64>,
}

impl Tree {
    /// Builds the tree from paths of ranks `0..ranks`: sorting the paths
    /// makes every shared prefix contiguous, so each node is created once
    /// without searching children.
    fn build(paths: &Paths, ranks: usize, parallel: bool) -> Tree {
        let m = paths.weights.len();
        let mut order: Vec<u32> = (0..m as u32).collect();
        let cmp = |a: &u32, b: &u32| paths.path(*a as usize).cmp(paths.path(*b as usize));
        if parallel {
            order.par_sort_unstable_by(cmp);
        } else {
            order.sort_unstable_by(cmp);
        }
        let mut item = vec![NONE];
        let mut parent = vec![0u32];
        let mut count = vec![0u64];
        let mut stack: Vec<u32> = Vec::new();
        let mut prev: &[u32] = &[];
        for &k in &order {
            let path = paths.path(k as usize);
            let w = paths.weights[k as usize];
            let lcp = path.iter().zip(prev).take_while(|(a, b)| a == b).count();
            stack.truncate(lcp);
            for &node in &stack {
                count[node as usize] += w;
            }
            for &r in &path[lcp..] {
                let p = stack.last().copied().unwrap_or(0);
                stack.push(item.len() as u32);
                item.push(r);
                parent.push(p);
                count.push(w);
            }
            prev = path;
        }
        let mut head_start = vec![0usize; ranks + 1];
        let mut rank_count = vec![0u64; ranks];
        for (node, &r) in item.iter().enumerate().skip(1) {
            head_start[r as usize + 1] += 1;
            rank_count[r as usize] += count[node];
        }
        for r in 0..ranks {
            head_start[r + 1] += head_start[r];
        }
        let mut fill = head_start.clone();
        let mut head = vec![0u32; item.len() - 1];
        for (node, &r) in item.iter().enumerate().skip(1) {
            head[fill[r as usize]] = node as u32;
            fill[r as usize] += 1;
        }
        Tree {
            item,
            parent,
            count,
            head_start,
            head,
            rank_count,
        }
    }

    fn nodes_of(&self, r: usize) -> &[u32] {
        &self.head[self.head_start[r]..self.head_start[r + 1]]
    }

    /// Whether the tree is one chain (node k's parent is node k − 1).
    fn is_single_path(&self) -> bool {
        self.parent
            .iter()
            .enumerate()
            .skip(1)
            .all(|(k, &p)| p as usize == k - 1)
    }
}

/// What every recursion level shares.
struct Ctx {
    min_count: u64,
    max_len: usize,
}

/// Mines `transactions`: ranks the frequent items, builds the top-level tree
/// and mines each item's conditional trees, the items in parallel.
fn mine_ids(transactions: &Transactions, min_count: u64, max_len: usize, engine: Engine) -> Found {
    let vocab = transactions.item_names().len();
    let mut counts = vec![0u64; vocab];
    for &i in transactions.all_ids() {
        counts[i as usize] += 1;
    }
    let mut frequent: Vec<u32> = (0..vocab as u32)
        .filter(|&i| counts[i as usize] >= min_count)
        .collect();
    frequent.sort_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
    let mut rank_of = vec![NONE; vocab];
    for (r, &i) in frequent.iter().enumerate() {
        rank_of[i as usize] = r as u32;
    }
    let n = transactions.len();
    // Row numbers are u32 in the bitset engine.
    let bitsets = n <= u32::MAX as usize
        && match engine {
            Engine::Bitset => true,
            Engine::FpTree => false,
            _ => frequent.len() <= AUTO_BITSET_ITEMS,
        };
    if bitsets {
        // Least frequent first: the classes of the rare items stay small.
        let order: Vec<u32> = frequent.iter().rev().copied().collect();
        let item_counts: Vec<u64> = order.iter().map(|&i| counts[i as usize]).collect();
        let mut tids: Vec<Vec<u32>> = item_counts
            .iter()
            .map(|&c| Vec::with_capacity(c as usize))
            .collect();
        for r in 0..n {
            for &i in transactions.row_ids(r) {
                let k = rank_of[i as usize];
                if k != NONE {
                    tids[frequent.len() - 1 - k as usize].push(r as u32);
                }
            }
        }
        return super::bitset::mine(
            transactions,
            &order,
            &item_counts,
            &tids,
            min_count,
            max_len,
        );
    }
    // Each transaction as its frequent items' ranks, ascending; in fixed chunks.
    let chunks: Vec<(Vec<u32>, Vec<usize>)> = (0..n.div_ceil(CHUNK_ROWS))
        .into_par_iter()
        .map(|c| {
            let rows = c * CHUNK_ROWS..((c + 1) * CHUNK_ROWS).min(n);
            let mut flat = Vec::new();
            let mut ends = Vec::with_capacity(rows.len());
            for r in rows {
                let start = flat.len();
                flat.extend(
                    transactions
                        .row_ids(r)
                        .iter()
                        .map(|&i| rank_of[i as usize])
                        .filter(|&r| r != NONE),
                );
                flat[start..].sort_unstable();
                ends.push(flat.len());
            }
            (flat, ends)
        })
        .collect();
    let mut paths = Paths {
        flat: Vec::new(),
        starts: vec![0],
        weights: vec![1; n],
    };
    for (flat, ends) in chunks {
        let base = paths.flat.len();
        paths.flat.extend(flat);
        paths.starts.extend(ends.into_iter().map(|e| e + base));
    }
    let tree = Tree::build(&paths, frequent.len(), true);
    drop(paths);
    let ctx = Ctx { min_count, max_len };
    if tree.is_single_path() {
        let mut found = Found::new();
        single_path(&tree, &frequent, &mut Vec::new(), &ctx, &mut found);
        return found;
    }
    let parts: Vec<Found> = (0..frequent.len())
        .into_par_iter()
        .map(|r| {
            let mut found = Found::new();
            mine_rank(&tree, &frequent, r, &mut Vec::new(), &ctx, &mut found);
            found
        })
        .collect();
    let mut found = Found::new();
    for part in parts {
        found.append(part);
    }
    found
}

/// Mines every itemset of `tree` (whose ranks are the items `global`) joined
/// with `suffix`.
fn mine_tree(tree: &Tree, global: &[u32], suffix: &mut Vec<u32>, ctx: &Ctx, out: &mut Found) {
    if tree.is_single_path() {
        single_path(tree, global, suffix, ctx, out);
        return;
    }
    for r in (0..global.len()).rev() {
        mine_rank(tree, global, r, suffix, ctx, out);
    }
}

/// Emits `suffix + {rank r}` and mines its conditional tree.
fn mine_rank(
    tree: &Tree,
    global: &[u32],
    r: usize,
    suffix: &mut Vec<u32>,
    ctx: &Ctx,
    out: &mut Found,
) {
    let support = tree.rank_count[r];
    if support < ctx.min_count {
        return;
    }
    suffix.push(global[r]);
    out.emit(suffix, support);
    if suffix.len() < ctx.max_len && r > 0 {
        // The conditional pattern base: the paths above r's nodes.
        let mut cond = vec![0u64; r];
        for &node in tree.nodes_of(r) {
            let w = tree.count[node as usize];
            let mut p = tree.parent[node as usize];
            while p != 0 {
                cond[tree.item[p as usize] as usize] += w;
                p = tree.parent[p as usize];
            }
        }
        let mut kept: Vec<u32> = (0..r as u32)
            .filter(|&q| cond[q as usize] >= ctx.min_count)
            .collect();
        if !kept.is_empty() {
            kept.sort_by(|&a, &b| cond[b as usize].cmp(&cond[a as usize]).then(a.cmp(&b)));
            let mut local = vec![NONE; r];
            for (k, &q) in kept.iter().enumerate() {
                local[q as usize] = k as u32;
            }
            let nodes = tree.nodes_of(r);
            let mut paths = Paths {
                flat: Vec::new(),
                starts: Vec::with_capacity(nodes.len() + 1),
                weights: Vec::with_capacity(nodes.len()),
            };
            paths.starts.push(0);
            for &node in nodes {
                let start = paths.flat.len();
                let mut p = tree.parent[node as usize];
                while p != 0 {
                    let l = local[tree.item[p as usize] as usize];
                    if l != NONE {
                        paths.flat.push(l);
                    }
                    p = tree.parent[p as usize];
                }
                if paths.flat.len() > start {
                    paths.flat[start..].sort_unstable();
                    paths.starts.push(paths.flat.len());
                    paths.weights.push(tree.count[node as usize]);
                }
            }
            let sub = Tree::build(&paths, kept.len(), false);
            let sub_global: Vec<u32> = kept.iter().map(|&q| global[q as usize]).collect();
            mine_tree(&sub, &sub_global, suffix, ctx, out);
        }
    }
    suffix.pop();
}

/// A chain: every combination of its nodes is frequent, with the count of
/// its deepest node.
fn single_path(tree: &Tree, global: &[u32], suffix: &mut Vec<u32>, ctx: &Ctx, out: &mut Found) {
    let chain: Vec<(u32, u64)> = (1..tree.item.len())
        .map(|k| (global[tree.item[k] as usize], tree.count[k]))
        .filter(|&(_, c)| c >= ctx.min_count)
        .collect();
    let room = ctx.max_len.saturating_sub(suffix.len());
    combine(&chain, 0, room, suffix, out);
}

/// Emits `suffix` + each non-empty combination of `chain[from..]` of at most
/// `room` items (counts are non-increasing down the chain).
fn combine(chain: &[(u32, u64)], from: usize, room: usize, suffix: &mut Vec<u32>, out: &mut Found) {
    if room == 0 {
        return;
    }
    for k in from..chain.len() {
        let (item, count) = chain[k];
        suffix.push(item);
        out.emit(suffix, count);
        combine(chain, k + 1, room - 1, suffix, out);
        suffix.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::association::TransactionsBuilder;
    use std::collections::BTreeMap;

    /// Every itemset with its count, by brute force over all subsets of the vocabulary.
    fn brute(
        rows: &[Vec<u32>],
        vocab: u32,
        min_count: u64,
        max_len: usize,
    ) -> BTreeMap<Vec<u32>, u64> {
        let mut out = BTreeMap::new();
        for mask in 1u32..(1 << vocab) {
            let set: Vec<u32> = (0..vocab).filter(|i| mask & (1 << i) != 0).collect();
            if set.len() > max_len {
                continue;
            }
            let c = rows
                .iter()
                .filter(|r| set.iter().all(|i| r.contains(i)))
                .count() as u64;
            if c >= min_count {
                out.insert(set, c);
            }
        }
        out
    }

    fn transactions(rows: &[Vec<u32>]) -> Transactions {
        let mut b = TransactionsBuilder::new();
        for (k, r) in rows.iter().enumerate() {
            b.push(k as u64, r.iter().map(|i| format!("i{i:02}")));
        }
        b.build().unwrap()
    }

    fn mined(t: &Transactions, min_count: u64, max_len: usize) -> BTreeMap<Vec<u32>, u64> {
        let tree = collect(t, mine_ids(t, min_count, max_len, Engine::FpTree));
        let bits = collect(t, mine_ids(t, min_count, max_len, Engine::Bitset));
        assert_eq!(tree, bits, "the engines disagree");
        tree
    }

    fn collect(t: &Transactions, f: Found) -> BTreeMap<Vec<u32>, u64> {
        let mut out = BTreeMap::new();
        for k in 0..f.counts.len() {
            let names: Vec<u32> = f.items[f.offsets[k]..f.offsets[k + 1]]
                .iter()
                .map(|&i| t.item_names()[i as usize][1..].parse().unwrap())
                .collect();
            assert!(
                out.insert(names, f.counts[k]).is_none(),
                "itemset found twice"
            );
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn finds_exactly_the_brute_force_itemsets(
            rows in proptest::collection::vec(proptest::collection::btree_set(0u32..8, 0..6), 1..200),
            min_count in 1u64..5,
            max_len in 1usize..6,
        ) {
            let rows: Vec<Vec<u32>> = rows.into_iter().map(|s| s.into_iter().collect()).collect();
            let t = transactions(&rows);
            proptest::prop_assert_eq!(mined(&t, min_count, max_len), brute(&rows, 8, min_count, max_len));
        }
    }

    #[test]
    fn single_chain_yields_every_combination() {
        let rows = vec![vec![0, 1, 2], vec![0, 1, 2], vec![0, 1], vec![0]];
        let t = transactions(&rows);
        assert_eq!(mined(&t, 1, 9), brute(&rows, 3, 1, 9));
        assert_eq!(mined(&t, 2, 2), brute(&rows, 3, 2, 2));
    }

    #[test]
    fn validates_parameters() {
        for s in [0.0, -0.1, 1.5, f64::NAN] {
            let err = FpGrowth::new().min_support(s).validate().unwrap_err();
            assert!(matches!(
                err.kind(),
                ErrorKind::InvalidParameter {
                    name: "min_support",
                    ..
                }
            ));
        }
        let err = FpGrowth::new().max_len(0).validate().unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter {
                name: "max_len",
                ..
            }
        ));
        let empty = TransactionsBuilder::new().build().unwrap();
        let err = FpGrowth::new().mine(&empty).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Empty(_)));
    }
}
