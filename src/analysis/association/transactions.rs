//! Per-customer itemsets, stored columnar with interned items.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::features::Labels;
use crate::records::CustomerId;
use crate::util::FastMap;
use crate::{ErrorKind, Result};

/// One itemset per customer: what each customer did (or was) in the window
/// analysed, as item names such as `complaint:price` or `churned`.
///
/// This is what [`FpGrowth`](super::FpGrowth) mines. Items are interned as
/// integer ids into a vocabulary sorted by name, and the customers' itemsets
/// are stored back to back (one offsets array, one item array), each sorted
/// and free of repeats; a million customers with fifteen items each take
/// about 70 MB.
///
/// Build it with [`TransactionsBuilder`] from any source (one list of item
/// names per customer), or from a [`History`](crate::records::History) with
/// [`ItemVocabulary`](super::ItemVocabulary); add items of your own with
/// [`with_items`](Self::with_items) and the churn label with
/// [`with_label`](Self::with_label).
///
/// # Example
///
/// ```
/// use churnwise::analysis::association::TransactionsBuilder;
///
/// let mut builder = TransactionsBuilder::new();
/// builder.push(1u64, ["complaint:price", "ticket:slow_reply"]);
/// builder.push(2u64, ["ticket:slow_reply", "ticket:slow_reply"]); // repeats count once
/// builder.push(3u64, Vec::<String>::new()); // a customer with no item still counts
/// let transactions = builder.build()?;
/// assert_eq!(transactions.len(), 3);
/// assert_eq!(transactions.item_names(), ["complaint:price", "ticket:slow_reply"]);
/// assert_eq!(transactions.items(1).collect::<Vec<_>>(), ["ticket:slow_reply"]);
/// assert_eq!(transactions.item_count("ticket:slow_reply"), 2);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TransactionsRepr", into = "TransactionsRepr")]
pub struct Transactions {
    ids: Vec<CustomerId>,
    /// `offsets[r]..offsets[r + 1]` are row `r`'s items in `items`.
    offsets: Vec<usize>,
    /// Item ids into `names`, ascending within each row.
    items: Vec<u32>,
    /// The vocabulary, sorted by name, unique.
    names: Vec<String>,
}

impl Transactions {
    /// Number of customers (transactions), including those without items.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The customers, in row order.
    pub fn ids(&self) -> &[CustomerId] {
        &self.ids
    }

    /// The vocabulary: every item that occurs, sorted by name.
    pub fn item_names(&self) -> &[String] {
        &self.names
    }

    /// The items of row `row`, sorted by name; none when `row` is out of range.
    pub fn items(&self, row: usize) -> impl ExactSizeIterator<Item = &str> + '_ {
        let ids: &[u32] = if row < self.ids.len() {
            &self.items[self.offsets[row]..self.offsets[row + 1]]
        } else {
            &[]
        };
        ids.iter().map(|&i| self.names[i as usize].as_str())
    }

    /// How many customers hold `item` (0 when it is not in the vocabulary).
    pub fn item_count(&self, item: &str) -> usize {
        match self.names.binary_search_by(|n| n.as_str().cmp(item)) {
            Ok(id) => self.items.iter().filter(|&&i| i as usize == id).count(),
            Err(_) => 0,
        }
    }

    /// Total number of (customer, item) pairs.
    pub fn total_items(&self) -> usize {
        self.items.len()
    }

    /// Row `r`'s item ids.
    pub(super) fn row_ids(&self, r: usize) -> &[u32] {
        &self.items[self.offsets[r]..self.offsets[r + 1]]
    }

    /// All item ids, rows back to back.
    pub(super) fn all_ids(&self) -> &[u32] {
        &self.items
    }

    /// Adds the items of `other` to the customers of `self`, matched by id:
    /// items you supply yourself (a discount used, a downgrade, a survey
    /// answer from another system) next to those derived from the records.
    ///
    /// Customers of `self` missing from `other` keep their items.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] (what `customer`) when `other` holds a
    /// customer that `self` does not.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::analysis::association::TransactionsBuilder;
    ///
    /// let mut derived = TransactionsBuilder::new();
    /// derived.push(1u64, ["complaint:price"]);
    /// derived.push(2u64, ["login:none_30d"]);
    /// let mut supplied = TransactionsBuilder::new();
    /// supplied.push(2u64, ["discount:used"]);
    /// let all = derived.build()?.with_items(&supplied.build()?)?;
    /// assert_eq!(all.items(1).collect::<Vec<_>>(), ["discount:used", "login:none_30d"]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_items(self, other: &Transactions) -> Result<Transactions> {
        let rows: FastMap<&CustomerId, usize> =
            self.ids.iter().enumerate().map(|(r, id)| (id, r)).collect();
        let mut extra: Vec<Vec<&str>> = vec![Vec::new(); self.ids.len()];
        for (r, id) in other.ids.iter().enumerate() {
            let Some(&row) = rows.get(id) else {
                return Err(ErrorKind::UnknownName {
                    what: "customer",
                    name: id.to_string(),
                    suggestions: Vec::new(),
                }
                .into());
            };
            extra[row].extend(other.items(r));
        }
        let mut builder = TransactionsBuilder::with_capacity(self.ids.len(), self.items.len());
        for (r, id) in self.ids.iter().enumerate() {
            builder.push(id.clone(), self.items(r).chain(extra[r].iter().copied()));
        }
        builder.build()
    }

    /// Keeps the customers that `labels` labels, in the labels' order, and
    /// adds the item `item` (e.g. `"churned"`) to those labelled churned.
    ///
    /// The churn label then takes part in the mining like any behaviour, and
    /// the rules with it as the consequent are the
    /// [rules that lead to churn](super::FrequentItemsets::rules_to).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] (what `customer`) when a labelled customer
    /// has no row here; [`ErrorKind::InvalidParameter`] named `item` when
    /// `item` is empty.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::analysis::association::ItemVocabulary;
    /// use churnwise::features::ChurnLabeler;
    ///
    /// # let history = churnwise::doc_support::history(300, 4)?;
    /// let as_of = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
    /// let labels = ChurnLabeler::new().labels(&history, as_of)?;
    /// let transactions = ItemVocabulary::new()
    ///     .transactions(&history, as_of)?
    ///     .with_label(&labels, "churned")?;
    /// let churned = labels.churned().iter().filter(|&&c| c).count();
    /// assert_eq!(transactions.item_count("churned"), churned);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_label(self, labels: &Labels, item: &str) -> Result<Transactions> {
        if item.is_empty() {
            return Err(crate::Error::invalid_parameter(
                "item",
                "must not be empty, got an empty name",
            ));
        }
        let rows: FastMap<&CustomerId, usize> =
            self.ids.iter().enumerate().map(|(r, id)| (id, r)).collect();
        let mut builder = TransactionsBuilder::with_capacity(labels.ids().len(), self.items.len());
        for (id, &churned) in labels.ids().iter().zip(labels.churned()) {
            let Some(&row) = rows.get(id) else {
                return Err(ErrorKind::UnknownName {
                    what: "customer",
                    name: id.to_string(),
                    suggestions: Vec::new(),
                }
                .into());
            };
            let label = churned.then_some(item);
            builder.push(id.clone(), self.items(row).chain(label));
        }
        builder.build()
    }
}

/// Collects one list of item names per customer and interns them into
/// [`Transactions`].
///
/// Pushing never fails; [`build`](Self::build) checks the whole input.
/// Repeated items within one customer count once.
///
/// # Example
///
/// ```
/// use churnwise::analysis::association::TransactionsBuilder;
///
/// let mut builder = TransactionsBuilder::new();
/// for (id, line) in [(1u64, "order:none_60d;churned"), (2, "discount:used")] {
///     builder.push(id, line.split(';'));
/// }
/// let transactions = builder.build()?;
/// assert_eq!(transactions.item_names(), ["churned", "discount:used", "order:none_60d"]);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TransactionsBuilder {
    ids: Vec<CustomerId>,
    offsets: Vec<usize>,
    items: Vec<u32>,
    index: FastMap<String, u32>,
    names: Vec<String>,
}

impl TransactionsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::with_capacity(0, 0)
    }

    /// An empty builder with room for `customers` customers and `items` items in all.
    pub fn with_capacity(customers: usize, items: usize) -> Self {
        let mut offsets = Vec::with_capacity(customers + 1);
        offsets.push(0);
        TransactionsBuilder {
            ids: Vec::with_capacity(customers),
            offsets,
            items: Vec::with_capacity(items),
            index: FastMap::default(),
            names: Vec::new(),
        }
    }

    /// Adds one customer with their items (possibly none).
    pub fn push<I, S>(&mut self, id: impl Into<CustomerId>, items: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.ids.push(id.into());
        for item in items {
            let item = item.as_ref();
            let next = self.names.len() as u32;
            let id = match self.index.get(item) {
                Some(&id) => id,
                None => {
                    self.index.insert(item.to_owned(), next);
                    self.names.push(item.to_owned());
                    next
                }
            };
            self.items.push(id);
        }
        self.offsets.push(self.items.len());
    }

    /// Number of customers pushed so far.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Interns the vocabulary in name order and sorts every itemset.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidValue`] (what `transaction`, field `items`) for an
    /// empty item name; [`ErrorKind::DuplicateName`] (what `customer`) when a
    /// customer was pushed twice; [`ErrorKind::TooManyRecords`] beyond
    /// 2³² − 1 distinct items.
    pub fn build(self) -> Result<Transactions> {
        let TransactionsBuilder {
            ids,
            offsets,
            mut items,
            names,
            ..
        } = self;
        if names.len() >= u32::MAX as usize {
            return Err(ErrorKind::TooManyRecords {
                what: "distinct items",
                count: names.len(),
                limit: u32::MAX as usize - 1,
            }
            .into());
        }
        if let Some(empty) = names.iter().position(String::is_empty) {
            let row = offsets
                .windows(2)
                .position(|w| items[w[0]..w[1]].contains(&(empty as u32)))
                .unwrap_or(0);
            return Err(ErrorKind::InvalidValue {
                what: "transaction",
                index: row,
                field: "items",
                reason: format!("customer {} has an empty item name", ids[row]),
            }
            .into());
        }
        let mut seen = HashSet::with_capacity(ids.len());
        for id in &ids {
            if !seen.insert(id) {
                return Err(ErrorKind::DuplicateName {
                    what: "customer",
                    name: id.to_string(),
                }
                .into());
            }
        }
        // Renumber the vocabulary in name order, then sort and deduplicate rows.
        let mut order: Vec<u32> = (0..names.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
        let mut rank = vec![0u32; names.len()];
        for (new, &old) in order.iter().enumerate() {
            rank[old as usize] = new as u32;
        }
        let sorted_names: Vec<String> = order.iter().map(|&o| names[o as usize].clone()).collect();
        let mut new_offsets = Vec::with_capacity(offsets.len());
        new_offsets.push(0);
        let mut write = 0;
        for w in offsets.windows(2) {
            let row = &mut items[w[0]..w[1]];
            for i in row.iter_mut() {
                *i = rank[*i as usize];
            }
            row.sort_unstable();
            let mut last = None;
            for k in w[0]..w[1] {
                let v = items[k];
                if last != Some(v) {
                    items[write] = v;
                    write += 1;
                    last = Some(v);
                }
            }
            new_offsets.push(write);
        }
        items.truncate(write);
        Ok(Transactions {
            ids,
            offsets: new_offsets,
            items,
            names: sorted_names,
        })
    }
}

/// The serialized form: one list of item names per customer.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TransactionsRepr {
    customers: Vec<CustomerId>,
    items: Vec<Vec<String>>,
}

impl TryFrom<TransactionsRepr> for Transactions {
    type Error = crate::Error;
    fn try_from(r: TransactionsRepr) -> Result<Self> {
        if r.customers.len() != r.items.len() {
            return Err(ErrorKind::LengthMismatch {
                what: "item lists per customer",
                expected: r.customers.len(),
                got: r.items.len(),
            }
            .into());
        }
        let mut b = TransactionsBuilder::new();
        for (id, items) in r.customers.into_iter().zip(r.items) {
            b.push(id, items);
        }
        b.build()
    }
}

impl From<Transactions> for TransactionsRepr {
    fn from(t: Transactions) -> Self {
        let items = (0..t.len())
            .map(|r| t.items(r).map(str::to_owned).collect())
            .collect();
        TransactionsRepr {
            customers: t.ids,
            items,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_duplicate_customers_and_empty_items() {
        let mut b = TransactionsBuilder::new();
        b.push(1u64, ["a"]);
        b.push(1u64, ["b"]);
        let err = b.build().unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::DuplicateName {
                what: "customer",
                ..
            }
        ));
        let mut b = TransactionsBuilder::new();
        b.push(1u64, ["a"]);
        b.push(2u64, ["b", ""]);
        let err = b.build().unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidValue { index: 1, .. }
        ));
    }

    #[test]
    fn vocabulary_is_sorted_and_rows_deduplicated() {
        let mut b = TransactionsBuilder::new();
        b.push(1u64, ["z", "a", "z"]);
        b.push(2u64, ["m"]);
        let t = b.build().unwrap();
        assert_eq!(t.item_names(), ["a", "m", "z"]);
        assert_eq!(t.row_ids(0), [0, 2]);
        assert_eq!(t.row_ids(1), [1]);
        assert_eq!(t.items(5).count(), 0);
    }

    #[test]
    fn json_round_trip() {
        let mut b = TransactionsBuilder::new();
        b.push(1u64, ["b", "a"]);
        b.push("x", Vec::<&str>::new());
        let t = b.build().unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"customers":[1,"x"],"items":[["a","b"],[]]}"#);
        let back: Transactions = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
    }
}
