//! The frequent itemsets found by [`FpGrowth`](super::FpGrowth).

use std::fmt;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::fpgrowth::Found;

/// The frequent itemsets of a set of [`Transactions`](super::Transactions),
/// with their counts and supports, from [`FpGrowth::mine`](super::FpGrowth::mine).
///
/// Stored columnar (item ids back to back) in one fixed order: by length,
/// then by count (largest first), then by the items' names; every itemset's
/// items are sorted by name. Association rules come from
/// [`rules`](Self::rules), and the rules that lead to one item (churn) from
/// [`rules_to`](Self::rules_to).
///
/// Serialized as `{"transactions": n, "min_support": s, "max_len": k,
/// "itemsets": [{"items": [...], "count": c, "support": c / n}, ...]}`.
///
/// # Example
///
/// ```
/// use churnwise::analysis::association::{FpGrowth, TransactionsBuilder};
///
/// let mut builder = TransactionsBuilder::new();
/// builder.push(1u64, ["a", "b"]);
/// builder.push(2u64, ["a", "b"]);
/// builder.push(3u64, ["a"]);
/// let itemsets = FpGrowth::new().min_support(0.5).mine(&builder.build()?)?;
/// let first = itemsets.iter().next().unwrap();
/// assert_eq!((first.items().collect::<Vec<_>>(), first.count()), (vec!["a"], 3));
/// assert_eq!(itemsets.support_of(&["b", "a"]), Some(2.0 / 3.0));
/// assert_eq!(itemsets.support_of(&["c"]), None);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FrequentItemsets {
    names: Vec<String>,
    transactions: usize,
    min_support: f64,
    max_len: Option<usize>,
    offsets: Vec<usize>,
    items: Vec<u32>,
    counts: Vec<u64>,
}

impl FrequentItemsets {
    /// Sorts what the miner found into the canonical order.
    pub(super) fn from_found(
        names: Vec<String>,
        transactions: usize,
        min_support: f64,
        max_len: Option<usize>,
        found: Found,
    ) -> Self {
        let m = found.counts.len();
        let set = |k: usize| &found.items[found.offsets[k]..found.offsets[k + 1]];
        let mut order: Vec<usize> = (0..m).collect();
        // Item ids follow name order, so comparing ids compares names.
        order.sort_unstable_by(|&a, &b| {
            set(a)
                .len()
                .cmp(&set(b).len())
                .then(found.counts[b].cmp(&found.counts[a]))
                .then(set(a).cmp(set(b)))
        });
        let mut offsets = Vec::with_capacity(m + 1);
        offsets.push(0);
        let mut items = Vec::with_capacity(found.items.len());
        let mut counts = Vec::with_capacity(m);
        for k in order {
            items.extend_from_slice(set(k));
            offsets.push(items.len());
            counts.push(found.counts[k]);
        }
        FrequentItemsets {
            names,
            transactions,
            min_support,
            max_len,
            offsets,
            items,
            counts,
        }
    }

    /// Number of frequent itemsets.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether no itemset is frequent.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Number of transactions (customers) mined, the denominator of every support.
    pub fn transactions(&self) -> usize {
        self.transactions
    }

    /// The minimum support they were mined with.
    pub fn min_support(&self) -> f64 {
        self.min_support
    }

    /// The largest itemset length they were mined with (`None`: no limit).
    pub fn max_len(&self) -> Option<usize> {
        self.max_len
    }

    /// The itemsets, in the canonical order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Itemset<'_>> + '_ {
        (0..self.len()).map(move |k| Itemset { set: self, k })
    }

    /// The `k`-th itemset, if any.
    pub fn get(&self, k: usize) -> Option<Itemset<'_>> {
        (k < self.len()).then_some(Itemset { set: self, k })
    }

    /// The support of the itemset made of `items` (in any order), if it is frequent.
    pub fn support_of(&self, items: &[&str]) -> Option<f64> {
        let mut ids = Vec::with_capacity(items.len());
        for item in items {
            ids.push(self.id_of(item)?);
        }
        ids.sort_unstable();
        ids.dedup();
        (0..self.len())
            .find(|&k| self.ids(k) == ids.as_slice())
            .map(|k| self.support(k))
    }

    pub(super) fn id_of(&self, item: &str) -> Option<u32> {
        self.names
            .binary_search_by(|n| n.as_str().cmp(item))
            .ok()
            .map(|i| i as u32)
    }

    pub(super) fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    pub(super) fn ids(&self, k: usize) -> &[u32] {
        &self.items[self.offsets[k]..self.offsets[k + 1]]
    }

    pub(super) fn count(&self, k: usize) -> u64 {
        self.counts[k]
    }

    pub(super) fn support(&self, k: usize) -> f64 {
        // As mlxtend: count / n.
        self.counts[k] as f64 / self.transactions as f64
    }
}

/// One frequent itemset, borrowed from [`FrequentItemsets`].
#[derive(Debug, Clone, Copy)]
pub struct Itemset<'a> {
    set: &'a FrequentItemsets,
    k: usize,
}

impl<'a> Itemset<'a> {
    /// The items, sorted by name.
    pub fn items(&self) -> impl ExactSizeIterator<Item = &'a str> + use<'a> {
        let set = self.set;
        set.ids(self.k).iter().map(move |&i| set.name(i))
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.set.ids(self.k).len()
    }

    /// Always false: an itemset has at least one item.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of transactions holding every item.
    pub fn count(&self) -> u64 {
        self.set.count(self.k)
    }

    /// Share of transactions holding every item: `count / transactions`.
    pub fn support(&self) -> f64 {
        self.set.support(self.k)
    }
}

impl Serialize for FrequentItemsets {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Row<'a> {
            items: Vec<&'a str>,
            count: u64,
            support: f64,
        }
        let rows: Vec<Row<'_>> = self
            .iter()
            .map(|s| Row {
                items: s.items().collect(),
                count: s.count(),
                support: s.support(),
            })
            .collect();
        let mut st = serializer.serialize_struct("FrequentItemsets", 4)?;
        st.serialize_field("transactions", &self.transactions)?;
        st.serialize_field("min_support", &self.min_support)?;
        st.serialize_field("max_len", &self.max_len)?;
        st.serialize_field("itemsets", &rows)?;
        st.end()
    }
}

impl fmt::Display for FrequentItemsets {
    /// A summary line, then the twenty itemsets of highest support.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} frequent itemsets in {} transactions (min support {})",
            self.len(),
            self.transactions,
            self.min_support
        )?;
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_by(|&a, &b| self.counts[b].cmp(&self.counts[a]).then(a.cmp(&b)));
        writeln!(f, "{:>9} {:>8}  items", "support", "count")?;
        for &k in order.iter().take(20) {
            let names: Vec<&str> = self.ids(k).iter().map(|&i| self.name(i)).collect();
            writeln!(
                f,
                "{:>8.2}% {:>8}  {{{}}}",
                100.0 * self.support(k),
                self.counts[k],
                names.join(", ")
            )?;
        }
        Ok(())
    }
}
