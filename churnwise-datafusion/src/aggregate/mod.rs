//! Aggregate functions: point-in-time churn features and the CLV (RFM)
//! summary per customer, computed from event rows with `GROUP BY customer_id`.
//!
//! - [`ChurnFeatures`] (SQL `churn_features`) computes the features of a
//!   [`FeatureSpec`](churnwise::features::FeatureSpec) as of a
//!   [`Snapshot`](churnwise::features::Snapshot), bit-identical to
//!   [`FeatureSpec::extract`](churnwise::features::FeatureSpec::extract) on
//!   the same records, whatever the partitioning.
//! - [`RfmSummary`] (SQL `rfm_summary`) computes the repeat purchases,
//!   recency, age and mean repeat value that
//!   [`Calibration::summarize`](churnwise::clv::Calibration::summarize)
//!   computes.
//!
//! Both keep each customer's raw events as their state (lists that merge
//! across partitions by appending) and sort them in the final step the way
//! a `History` does, so the floating-point sums run in the same order as in
//! process.
//!
//! # Times
//!
//! Time arguments may be `Timestamp` (any unit, with or without time zone:
//! the stored UTC instant is used), `Date32`/`Date64` (midnight UTC) or
//! integers (microseconds since the Unix epoch). Nanoseconds are floored to
//! microseconds, as the core does.
//!
//! # Nulls
//!
//! A customer without orders appears after a `LEFT JOIN` as one row with null
//! event columns: a row whose event time is null is **no event** (only its
//! signup counts). Any other null is an error naming the column: a null
//! signup, a null amount (or event kind, or order value) on a row with an
//! event time. Non-finite amounts are errors too.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::logical_expr::utils::format_state_name;

use features::FeaturePlan;
use rfm::RfmPlan;

mod accumulator;
mod features;
mod input;
mod rfm;
mod store;

pub use features::ChurnFeatures;
pub use rfm::RfmSummary;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The name `churn_features` is registered under.
const FEATURES_NAME: &str = "churn_features";
/// The name `rfm_summary` is registered under.
const RFM_NAME: &str = "rfm_summary";

/// The arguments' layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `(signup, order_time, amount)` (RFM: `(order_time, amount)`).
    Orders,
    /// `(signup, event_time, event_kind, value)`.
    Events,
}

fn list_field(item: DataType) -> FieldRef {
    Arc::new(Field::new_list_field(item, true))
}

fn state_fields(name: &str, signup: bool, form: Form) -> Vec<FieldRef> {
    let list = |n: &str, item: DataType| {
        Arc::new(Field::new(
            format_state_name(name, n),
            DataType::List(list_field(item)),
            true,
        ))
    };
    let mut fields = Vec::new();
    if signup {
        fields.push(Arc::new(Field::new(
            format_state_name(name, "signup"),
            DataType::Int64,
            true,
        )));
    }
    fields.push(list("order_times", DataType::Int64));
    fields.push(list("amounts", DataType::Float64));
    if form == Form::Events {
        fields.push(list("interaction_times", DataType::Int64));
        fields.push(list("interaction_kinds", DataType::UInt8));
        fields.push(list("response_hours", DataType::Float64));
    }
    fields
}

/// What the final step computes.
#[derive(Debug)]
enum Output {
    Features(Arc<FeaturePlan>),
    Rfm(Arc<RfmPlan>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Portable;
    use chrono::Utc;
    use churnwise::clv::Calibration;
    use churnwise::features::{FeatureSpec, Snapshot};

    #[test]
    fn portable_round_trip_keeps_equality() {
        use chrono::TimeZone;
        let snapshot = Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap());
        let f = ChurnFeatures::new(&FeatureSpec::rfm(), &snapshot).unwrap();
        let g = ChurnFeatures::from_json(f.to_json().unwrap()).unwrap();
        assert_eq!(f, g);
        let end = Utc.with_ymd_and_hms(2024, 6, 30, 0, 0, 0).unwrap();
        let r = RfmSummary::new(Calibration::new(end).unit(churnwise::clv::TimeUnit::Weeks));
        let s = RfmSummary::from_json(r.to_json().unwrap()).unwrap();
        assert_eq!(r, s);
        assert_eq!(s.plan.per_unit, 7.0);
        assert_ne!(r, RfmSummary::new(Calibration::new(end)));
    }
}
