//! The condition language shared by alert rules and playbook eligibility:
//! comparisons of any profile field, combined with `and`, `or` and `not`,
//! and the [`Route`]s that name the team owning a follow-up.
//!
//! A [`Condition`] reads any field of [`Profiles`](crate::score::Profiles)
//! by name: a feature (`recency_days`), a built-in field
//! (`churn_probability`, `rfm_segment`, `lifecycle_stage`, `plan`, `tags`,
//! `cluster`, …) or a column of your own (`credit_limit`, `contract`).
//! Numbers compare with `>`, `>=`, `<`, `<=`, `==`, `between` and `in`, or
//! by their change since a previous snapshot; categories with `==` and `in`.
//! Durations may be written with a unit (`"90d"`, `"36h"`, `"2w"`) for
//! fields measured in days or hours.
//!
//! Conditions are serde data, written in three equivalent ways:
//!
//! - in code: `Condition::field("plan").eq("gold")`;
//! - as an expression: `plan == "gold" and churn_probability > 0.6`
//!   ([`Condition::parse_expr`]; in a TOML or JSON policy, a string);
//! - as a JSON / TOML tree: `{"all": [{"field": "plan", "==": "gold"}, …]}`.
//!
//! Every check that the names alone allow is made as a condition loads
//! (ranges, units, labels of built-in categories), with errors naming the
//! path of the problem (`rules[2].condition.all[0].>`); the rest (fields of
//! your own, labels found in the data) when it is evaluated against
//! profiles, where an unknown field is an error naming the closest known
//! names.
//!
//! ```
//! use churnwise::rules::Condition;
//! use churnwise::score::Profiles;
//! # let (history, snapshot, scorer) = churnwise::doc_support::scorer(1_000, 5)?;
//! # let table = churnwise::features::FeatureSpec::all().extract(&history, &snapshot)?;
//! let profiles = Profiles::new(table)?.score_with(&scorer)?.attributes_from(&history)?;
//! let rule = Condition::parse_expr(
//!     r#"plan == "premium" and churn_probability > 0.3 and days_since_interaction > 30"#,
//! )?;
//! let flagged = rule.rows_meeting(&profiles)?;
//! for (p, &hit) in profiles.iter().zip(&flagged) {
//!     let expected = p.label("plan") == Some("premium")
//!         && p.churn_probability().is_some_and(|x| x > 0.3)
//!         && p.feature("days_since_interaction").is_some_and(|d| d > 30.0);
//!     assert_eq!(hit, expected);
//! }
//! assert!(flagged.iter().any(|f| *f));
//! # Ok::<(), churnwise::Error>(())
//! ```

mod compile;
mod condition;
mod expr;
mod path;
mod route;

pub use condition::{Condition, FieldRef, MAX_CONDITIONS, MAX_DEPTH, Operand, Test};
pub use route::Route;

pub(crate) use compile::{Program, Rows, Scratch, Seen, rows_meeting};
pub(crate) use condition::{
    check_duration_days, declared_fields, describe, json_error, parse_duration,
};
#[cfg(feature = "toml")]
pub(crate) use condition::{to_toml, toml_value};
pub(crate) use path::Path;
