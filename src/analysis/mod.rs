//! When and why customers leave.
//!
//! - [`survival`]: time to churn. Kaplan–Meier curves per segment, the
//!   log-rank test, Cox proportional hazards, from the records
//!   ([`Lifetimes`](survival::Lifetimes)) or a flat table.
//! - [`drivers`]: what distinguishes customers who left from those who
//!   stayed, feature by feature: effect sizes, Mann–Whitney and Welch tests
//!   for numeric features, churn rates with Wilson intervals and the
//!   chi-square test for categories, p-values adjusted across the report.
//!
//! The statistics come from [`stats`](crate::stats); every figure is checked
//! against lifelines, scipy or statsmodels on reference fixtures.

pub mod drivers;
pub mod survival;
