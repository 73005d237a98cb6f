//! Association rules from frequent itemsets: support, confidence, lift,
//! leverage and conviction, filtered and sorted.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::FrequentItemsets;
use crate::util::FastMap;
use crate::{Error, Result};

/// Itemsets longer than this are not split into rules (2ⁿ − 2 rules each).
const MAX_SPLIT_LEN: usize = 24;

/// Which association rules to keep, from
/// [`FrequentItemsets::rules`] and [`FrequentItemsets::rules_to`].
///
/// A rule `A → C` is kept when its support, confidence and lift reach the
/// minimums and `A ∪ C` has at most `max_len` items. Serialized as
/// `{"min_support": 0.0, "min_confidence": 0.0, "min_lift": 0.0, "max_len": null}`.
///
/// # Example
///
/// ```
/// use churnwise::analysis::association::RuleFilter;
///
/// let filter = RuleFilter::new().min_confidence(0.3).min_lift(1.0).max_len(3);
/// filter.validate()?;
/// assert_eq!(filter.min_lift_value(), 1.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleFilter {
    min_support: f64,
    min_confidence: f64,
    min_lift: f64,
    max_len: Option<usize>,
}

impl Default for RuleFilter {
    fn default() -> Self {
        RuleFilter {
            min_support: 0.0,
            min_confidence: 0.0,
            min_lift: 0.0,
            max_len: None,
        }
    }
}

impl RuleFilter {
    /// Keeps every rule (all minimums 0, no length limit).
    pub fn new() -> Self {
        Self::default()
    }

    /// The smallest rule support, the share of customers holding `A ∪ C`.
    ///
    /// Defaults to `0.0`. Must be in `[0, 1]`.
    pub fn min_support(mut self, share: f64) -> Self {
        self.min_support = share;
        self
    }

    /// The smallest confidence, P(C | A).
    ///
    /// Defaults to `0.0`. Must be in `[0, 1]`.
    pub fn min_confidence(mut self, confidence: f64) -> Self {
        self.min_confidence = confidence;
        self
    }

    /// The smallest lift, P(C | A) / P(C); `1.0` keeps the rules whose
    /// antecedent makes the consequent at least as likely as usual.
    ///
    /// Defaults to `0.0`. Must be finite and ≥ 0.
    pub fn min_lift(mut self, lift: f64) -> Self {
        self.min_lift = lift;
        self
    }

    /// The largest number of items in antecedent and consequent together.
    ///
    /// Defaults to no limit. Must be at least 2.
    pub fn max_len(mut self, items: usize) -> Self {
        self.max_len = Some(items);
        self
    }

    /// The minimum rule support.
    pub fn min_support_value(&self) -> f64 {
        self.min_support
    }

    /// The minimum confidence.
    pub fn min_confidence_value(&self) -> f64 {
        self.min_confidence
    }

    /// The minimum lift.
    pub fn min_lift_value(&self) -> f64 {
        self.min_lift
    }

    /// The largest rule length, `None` for no limit.
    pub fn max_len_value(&self) -> Option<usize> {
        self.max_len
    }

    /// Checks the filter; the rule methods call it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) named `min_support` or
    /// `min_confidence` unless in `[0, 1]`, `min_lift` unless finite and
    /// ≥ 0, `max_len` when below 2.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("min_support", self.min_support),
            ("min_confidence", self.min_confidence),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::invalid_parameter(
                    name,
                    format!("must be in [0, 1], got {v}"),
                ));
            }
        }
        if !(self.min_lift.is_finite() && self.min_lift >= 0.0) {
            return Err(Error::invalid_parameter(
                "min_lift",
                format!("must be finite and >= 0, got {}", self.min_lift),
            ));
        }
        if let Some(k) = self.max_len
            && k < 2
        {
            return Err(Error::invalid_parameter(
                "max_len",
                format!("a rule has at least 2 items, got {k}"),
            ));
        }
        Ok(())
    }

    fn keeps(&self, rule: &Rule) -> bool {
        rule.support >= self.min_support
            && rule.confidence >= self.min_confidence
            && rule.lift >= self.min_lift
    }
}

/// One association rule `antecedent → consequent` with its measures.
///
/// With `s(X)` the share of customers holding every item of `X` and `n`
/// the number of customers:
///
/// ```text
/// support    = s(A ∪ C)
/// confidence = s(A ∪ C) / s(A)                 P(C | A)
/// lift       = confidence / s(C)               > 1: A makes C more likely
/// leverage   = s(A ∪ C) − s(A) · s(C)          excess share over independence
/// conviction = (1 − s(C)) / (1 − confidence)   None when confidence = 1 (infinite)
/// ```
///
/// as in mlxtend's `association_rules` (Agrawal, Imieliński & Swami 1993;
/// Piatetsky-Shapiro 1991; Brin et al. 1997), which they match to the last
/// bits on `tests/fixtures/association_reference.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    antecedent: Vec<String>,
    consequent: Vec<String>,
    count: u64,
    support: f64,
    antecedent_support: f64,
    consequent_support: f64,
    confidence: f64,
    lift: f64,
    leverage: f64,
    conviction: Option<f64>,
}

impl Rule {
    /// Computes the measures from the three supports as mlxtend does.
    fn new(antecedent: Vec<String>, consequent: Vec<String>, counts: [u64; 3], n: usize) -> Rule {
        let nf = n as f64;
        let [c_ac, c_a, c_c] = counts;
        let (s_ac, s_a, s_c) = (c_ac as f64 / nf, c_a as f64 / nf, c_c as f64 / nf);
        let confidence = (s_ac * nf) / (s_a * nf);
        let lift = confidence / s_c;
        let leverage = s_ac - s_a * s_c;
        let conviction = (confidence < 1.0).then(|| (1.0 - s_c) / (1.0 - confidence));
        Rule {
            antecedent,
            consequent,
            count: c_ac,
            support: s_ac,
            antecedent_support: s_a,
            consequent_support: s_c,
            confidence,
            lift,
            leverage,
            conviction,
        }
    }

    /// The items of the left-hand side, sorted by name.
    pub fn antecedent(&self) -> &[String] {
        &self.antecedent
    }

    /// The items of the right-hand side, sorted by name.
    pub fn consequent(&self) -> &[String] {
        &self.consequent
    }

    /// Number of customers holding every item of the rule.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Share of customers holding every item of the rule.
    pub fn support(&self) -> f64 {
        self.support
    }

    /// Share of customers holding the antecedent.
    pub fn antecedent_support(&self) -> f64 {
        self.antecedent_support
    }

    /// Share of customers holding the consequent.
    pub fn consequent_support(&self) -> f64 {
        self.consequent_support
    }

    /// P(consequent | antecedent).
    pub fn confidence(&self) -> f64 {
        self.confidence
    }

    /// Confidence over the consequent's support.
    pub fn lift(&self) -> f64 {
        self.lift
    }

    /// Support minus what independence would give.
    pub fn leverage(&self) -> f64 {
        self.leverage
    }

    /// `(1 − s(C)) / (1 − confidence)`; `None` when the confidence is 1
    /// (the conviction is infinite).
    pub fn conviction(&self) -> Option<f64> {
        self.conviction
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{{}}} → {{{}}}",
            self.antecedent.join(", "),
            self.consequent.join(", ")
        )
    }
}

/// Association rules sorted by lift, then support (both largest first), then
/// antecedent and consequent names; from [`FrequentItemsets::rules`] or
/// [`FrequentItemsets::rules_to`].
///
/// Prints as a table; serializes as `{"transactions": n, "rules": [...]}`.
///
/// # Example
///
/// ```
/// use churnwise::analysis::association::{FpGrowth, RuleFilter, TransactionsBuilder};
///
/// let mut builder = TransactionsBuilder::new();
/// builder.push(1u64, ["complaint:price", "churned"]);
/// builder.push(2u64, ["complaint:price", "churned"]);
/// builder.push(3u64, ["complaint:price"]);
/// builder.push(4u64, ["login:none_30d"]);
/// let itemsets = FpGrowth::new().min_support(0.25).mine(&builder.build()?)?;
/// let rules = itemsets.rules_to("churned", &RuleFilter::new().min_lift(1.0))?;
/// let top = &rules.rules()[0];
/// assert_eq!(top.antecedent(), ["complaint:price"]);
/// // 2 of the 3 who complained churned, against 2 of 4 overall.
/// assert_eq!((top.confidence(), top.lift()), (2.0 / 3.0, 4.0 / 3.0));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssociationRules {
    transactions: usize,
    rules: Vec<Rule>,
}

impl AssociationRules {
    /// The rules, best first.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Iterates over the rules, best first.
    pub fn iter(&self) -> std::slice::Iter<'_, Rule> {
        self.rules.iter()
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether no rule passed the filter.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Number of transactions (customers) the supports are shares of.
    pub fn transactions(&self) -> usize {
        self.transactions
    }

    /// The first `k` rules (all when fewer), as a new value that prints the same way.
    pub fn top(&self, k: usize) -> AssociationRules {
        AssociationRules {
            transactions: self.transactions,
            rules: self.rules.iter().take(k).cloned().collect(),
        }
    }
}

impl<'a> IntoIterator for &'a AssociationRules {
    type Item = &'a Rule;
    type IntoIter = std::slice::Iter<'a, Rule>;
    fn into_iter(self) -> Self::IntoIter {
        self.rules.iter()
    }
}

impl fmt::Display for AssociationRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>8} {:>10} {:>6} {:>9} {:>10}  rule",
            "support", "confidence", "lift", "leverage", "conviction"
        )?;
        for r in &self.rules {
            let conviction = r
                .conviction
                .map_or_else(|| "inf".to_owned(), |c| format!("{c:.2}"));
            writeln!(
                f,
                "{:>7.2}% {:>9.1}% {:>6.2} {:>9.4} {:>10}  {r}",
                100.0 * r.support,
                100.0 * r.confidence,
                r.lift,
                r.leverage,
                conviction
            )?;
        }
        write!(
            f,
            "({} rules, {} customers)",
            self.rules.len(),
            self.transactions
        )?;
        writeln!(f)
    }
}

impl FrequentItemsets {
    /// Every rule `A → C` with `A`, `C` non-empty, disjoint and `A ∪ C` a
    /// frequent itemset, that `filter` keeps (what mlxtend's
    /// `association_rules` lists).
    ///
    /// # Errors
    ///
    /// As [`RuleFilter::validate`]; [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) named
    /// `max_len` when a frequent itemset has more than 24 items and the
    /// filter sets no `max_len` up to 24.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::analysis::association::{FpGrowth, RuleFilter, TransactionsBuilder};
    ///
    /// let mut builder = TransactionsBuilder::new();
    /// builder.push(1u64, ["a", "b"]);
    /// builder.push(2u64, ["a", "b"]);
    /// builder.push(3u64, ["a"]);
    /// let itemsets = FpGrowth::new().min_support(0.5).mine(&builder.build()?)?;
    /// let rules = itemsets.rules(&RuleFilter::new().min_confidence(0.9))?;
    /// assert_eq!(rules.len(), 1); // b → a (1.0); a → b has 2/3
    /// assert_eq!(rules.rules()[0].to_string(), "{b} → {a}");
    /// assert_eq!(rules.rules()[0].conviction(), None); // infinite
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn rules(&self, filter: &RuleFilter) -> Result<AssociationRules> {
        filter.validate()?;
        let max_len = filter.max_len.unwrap_or(usize::MAX);
        let lookup = self.lookup();
        let mut rules = Vec::new();
        for k in 0..self.len() {
            let set = self.ids(k);
            if set.len() < 2 || set.len() > max_len {
                continue;
            }
            if set.len() > MAX_SPLIT_LEN {
                return Err(Error::invalid_parameter(
                    "max_len",
                    format!(
                        "a frequent itemset has {} items; set a max_len of at most {MAX_SPLIT_LEN}",
                        set.len()
                    ),
                ));
            }
            let full = (1u32 << set.len()) - 1;
            for mask in 1..full {
                let (a, c): (Vec<u32>, Vec<u32>) = {
                    let mut a = Vec::new();
                    let mut c = Vec::new();
                    for (b, &i) in set.iter().enumerate() {
                        if mask & (1 << b) != 0 {
                            a.push(i);
                        } else {
                            c.push(i);
                        }
                    }
                    (a, c)
                };
                let rule = self.rule(&lookup, &a, &c, self.count(k));
                if filter.keeps(&rule) {
                    rules.push(rule);
                }
            }
        }
        Ok(self.sorted(rules))
    }

    /// The rules `A → {consequent}` that `filter` keeps: for churn, the
    /// behaviours that go together before customers leave, the main view of
    /// association analysis here.
    ///
    /// An unknown or infrequent `consequent` gives no rules.
    ///
    /// # Errors
    ///
    /// As [`RuleFilter::validate`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::analysis::association::{FpGrowth, ItemVocabulary, RuleFilter};
    /// use churnwise::features::ChurnLabeler;
    ///
    /// # let history = churnwise::doc_support::history(2_000, 5)?;
    /// let as_of = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
    /// let labels = ChurnLabeler::new().labels(&history, as_of)?;
    /// let transactions = ItemVocabulary::new()
    ///     .transactions(&history, as_of)?
    ///     .with_label(&labels, "churned")?;
    /// let itemsets = FpGrowth::new().min_support(0.01).max_len(3).mine(&transactions)?;
    /// let to_churn = itemsets.rules_to("churned", &RuleFilter::new().min_lift(1.0))?;
    /// assert!(to_churn.iter().all(|r| r.consequent() == ["churned"] && r.lift() >= 1.0));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn rules_to(&self, consequent: &str, filter: &RuleFilter) -> Result<AssociationRules> {
        filter.validate()?;
        let Some(target) = self.id_of(consequent) else {
            return Ok(self.sorted(Vec::new()));
        };
        let max_len = filter.max_len.unwrap_or(usize::MAX);
        let lookup = self.lookup();
        let mut rules = Vec::new();
        for k in 0..self.len() {
            let set = self.ids(k);
            if set.len() < 2 || set.len() > max_len || !set.contains(&target) {
                continue;
            }
            let a: Vec<u32> = set.iter().copied().filter(|&i| i != target).collect();
            let rule = self.rule(&lookup, &a, &[target], self.count(k));
            if filter.keeps(&rule) {
                rules.push(rule);
            }
        }
        Ok(self.sorted(rules))
    }

    fn lookup(&self) -> FastMap<&[u32], u64> {
        (0..self.len())
            .map(|k| (self.ids(k), self.count(k)))
            .collect()
    }

    fn rule(&self, lookup: &FastMap<&[u32], u64>, a: &[u32], c: &[u32], count: u64) -> Rule {
        // Every subset of a frequent itemset is frequent (and no longer), so
        // both are found; 0 only if that invariant broke.
        let get = |s: &[u32]| lookup.get(s).copied().unwrap_or(0);
        let names = |s: &[u32]| s.iter().map(|&i| self.name(i).to_owned()).collect();
        Rule::new(
            names(a),
            names(c),
            [count, get(a), get(c)],
            self.transactions(),
        )
    }

    fn sorted(&self, mut rules: Vec<Rule>) -> AssociationRules {
        rules.sort_by(|x, y| {
            y.lift
                .total_cmp(&x.lift)
                .then(y.support.total_cmp(&x.support))
                .then_with(|| x.antecedent.cmp(&y.antecedent))
                .then_with(|| x.consequent.cmp(&y.consequent))
        });
        AssociationRules {
            transactions: self.transactions(),
            rules,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::analysis::association::{FpGrowth, TransactionsBuilder};

    fn itemsets() -> FrequentItemsets {
        let mut b = TransactionsBuilder::new();
        b.push(1u64, ["a", "b", "c"]);
        b.push(2u64, ["a", "b"]);
        b.push(3u64, ["a", "c"]);
        b.push(4u64, ["b"]);
        b.push(5u64, Vec::<&str>::new());
        FpGrowth::new()
            .min_support(0.2)
            .mine(&b.build().unwrap())
            .unwrap()
    }

    #[test]
    fn measures_match_hand_calculation() {
        let rules = itemsets().rules_to("a", &RuleFilter::new()).unwrap();
        // {c} → {a}: s(ac) = 2/5, s(c) = 2/5, s(a) = 3/5.
        let r = rules.iter().find(|r| r.antecedent() == ["c"]).unwrap();
        approx::assert_abs_diff_eq!(r.confidence(), 1.0, epsilon = 1e-15);
        approx::assert_abs_diff_eq!(r.lift(), 5.0 / 3.0, epsilon = 1e-15);
        approx::assert_abs_diff_eq!(r.leverage(), 0.4 - 0.4 * 0.6, epsilon = 1e-15);
        assert_eq!(r.conviction(), None);
        // {b} → {a}: s(ab) = 2/5, s(b) = 3/5.
        let r = rules.iter().find(|r| r.antecedent() == ["b"]).unwrap();
        approx::assert_abs_diff_eq!(r.confidence(), 2.0 / 3.0, epsilon = 1e-15);
        approx::assert_abs_diff_eq!(r.conviction().unwrap(), 0.4 / (1.0 / 3.0), epsilon = 1e-14);
    }

    #[test]
    fn all_rules_split_every_itemset() {
        let sets = itemsets();
        let rules = sets.rules(&RuleFilter::new()).unwrap();
        // Pairs ab, ac, bc give 2 rules each; abc (support 1/5) gives 6.
        assert_eq!(rules.len(), 3 * 2 + 6);
        let short = sets.rules(&RuleFilter::new().max_len(2)).unwrap();
        assert_eq!(short.len(), 6);
        let lifts: Vec<f64> = rules.iter().map(Rule::lift).collect();
        assert!(lifts.windows(2).all(|w| w[0] >= w[1]));
        assert!(sets.rules_to("zzz", &RuleFilter::new()).unwrap().is_empty());
    }

    #[test]
    fn filter_rejects_bad_bounds() {
        for (f, name) in [
            (RuleFilter::new().min_support(1.5), "min_support"),
            (RuleFilter::new().min_confidence(-0.1), "min_confidence"),
            (RuleFilter::new().min_lift(f64::NAN), "min_lift"),
            (RuleFilter::new().max_len(1), "max_len"),
        ] {
            let err = f.validate().unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::InvalidParameter { name: n, .. } if *n == name)
            );
        }
    }
}
