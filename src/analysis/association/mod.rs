//! Association analysis: which behaviours go together before churn.
//!
//! Each customer becomes one itemset ([`Transactions`]): the behaviours of
//! the [`ItemVocabulary`] derived from their records up to an as-of time
//! (complaint topics, slow support replies, no login or no order for a
//! while, low satisfaction, refunds, campaign responses, ...), items you
//! supply yourself, and the churn label as the item `churned`.
//! [`FpGrowth`] finds the [`FrequentItemsets`], and
//! [`FrequentItemsets::rules_to`] the [`AssociationRules`] that lead to
//! churn, with support, confidence, lift, leverage and conviction as
//! mlxtend computes them.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use churnwise::analysis::association::{FpGrowth, ItemVocabulary, RuleFilter};
//! use churnwise::features::ChurnLabeler;
//!
//! # let history = churnwise::doc_support::history(3_000, 7)?;
//! let as_of = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
//! let labels = ChurnLabeler::new().labels(&history, as_of)?;
//! let transactions = ItemVocabulary::new()
//!     .transactions(&history, as_of)?
//!     .with_label(&labels, "churned")?;
//! let itemsets = FpGrowth::new().min_support(0.01).max_len(3).mine(&transactions)?;
//! let to_churn = itemsets.rules_to("churned", &RuleFilter::new().min_lift(1.0))?;
//! for rule in to_churn.iter().take(5) {
//!     assert!(rule.lift() >= 1.0 && rule.consequent() == ["churned"]);
//! }
//! # Ok::<(), churnwise::Error>(())
//! ```

mod bitset;
mod fpgrowth;
mod itemsets;
mod rules;
mod transactions;
mod vocabulary;

pub use fpgrowth::{Engine, FpGrowth};
pub use itemsets::{FrequentItemsets, Itemset};
pub use rules::{AssociationRules, Rule, RuleFilter};
pub use transactions::{Transactions, TransactionsBuilder};
pub use vocabulary::{AttributeItems, CampaignItems, ItemVocabulary};
