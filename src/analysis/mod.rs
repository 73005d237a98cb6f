//! When and why customers leave.
//!
//! - [`survival`]: time to churn. Kaplan–Meier curves per segment, the
//!   log-rank test, Cox proportional hazards, from the records
//!   ([`Lifetimes`](survival::Lifetimes)) or a flat table.
//! - [`drivers`]: what distinguishes customers who left from those who
//!   stayed, feature by feature: effect sizes, Mann–Whitney and Welch tests
//!   for numeric features, churn rates with Wilson intervals and the
//!   chi-square test for categories, p-values adjusted across the report.
//! - [`reasons`]: why they say they left: shares of churn reasons (complaint
//!   topics before churn, cancellation reasons) with Wilson intervals,
//!   overall, by segment and by month.
//! - [`association`]: which behaviours go together before churn: frequent
//!   itemsets (FP-growth, or vertical bitsets for dense vocabularies) over
//!   per-customer items derived from the records, and the rules that lead
//!   to churn with support, confidence, lift, leverage and conviction.
//!
//! The statistics come from [`stats`](crate::stats); every figure is checked
//! against lifelines, scipy, statsmodels or mlxtend on reference fixtures.

pub mod association;
pub mod drivers;
mod levels;
pub mod reasons;
pub mod survival;
