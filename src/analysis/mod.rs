//! When and why customers leave: churn reasons and association rules.

pub mod association;
pub mod reasons;
