//! Features of one customer from raw, time-sorted event slices rather than a
//! [`History`](crate::records::History).
//!
//! Query engines (the `churnwise-datafusion` aggregate) gather each
//! customer's events themselves; these entry points run the very code
//! [`FeatureSpec::extract`](super::FeatureSpec::extract) runs, so the values
//! are bit-identical when the events are sorted with [`cmp_orders`] and
//! [`cmp_interactions`] (the order a `History` keeps). Hidden from the docs:
//! an integration surface, not an API for applications.

use std::cmp::Ordering;

use super::extract::Customer;
use super::spec::{FeatureInfo, Kind};
use crate::records::CompactKind;
use crate::{ErrorKind, Result};

/// One customer's events up to any time, sorted; the as-of cut is applied
/// by [`EventFeatures::fill`].
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct CustomerEvents<'a> {
    /// Signup time, µs since the Unix epoch.
    pub signup_micros: i64,
    /// Order times (µs), sorted with [`cmp_orders`] together with `amounts`.
    pub order_micros: &'a [i64],
    /// Order amounts (negative: refunds).
    pub amounts: &'a [f64],
    /// Interaction times (µs), sorted with [`cmp_interactions`] together with `interactions`.
    pub interaction_micros: &'a [i64],
    /// Interaction kinds.
    pub interactions: &'a [CompactKind],
}

/// The order of orders within a customer in a `History`: by time, then amount.
#[doc(hidden)]
pub fn cmp_orders(a: (i64, f64), b: (i64, f64)) -> Ordering {
    a.0.cmp(&b.0).then_with(|| a.1.total_cmp(&b.1))
}

/// The order of interactions within a customer in a `History`: by time,
/// then kind, then response hours.
#[doc(hidden)]
pub fn cmp_interactions(a: (i64, CompactKind), b: (i64, CompactKind)) -> Ordering {
    a.0.cmp(&b.0)
        .then_with(|| a.1.code().cmp(&b.1.code()))
        .then_with(|| match (a.1, b.1) {
            (CompactKind::SupportTicket(x), CompactKind::SupportTicket(y)) => x.total_cmp(&y),
            (CompactKind::Complaint(x), CompactKind::Complaint(y)) => x.cmp(&y),
            (CompactKind::CampaignResponse(x), CompactKind::CampaignResponse(y)) => x.cmp(&y),
            _ => Ordering::Equal,
        })
}

/// The features of a spec, checked for computing from [`CustomerEvents`]:
/// only the signup time, orders and interactions (attribute, feedback and
/// subscription features need a `History`).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct EventFeatures {
    kinds: Vec<Kind>,
}

impl EventFeatures {
    /// Fails, naming the first feature that reads customer attributes,
    /// feedback or subscriptions.
    pub fn new(features: &[FeatureInfo]) -> Result<Self> {
        if let Some(f) = features.iter().find(|f| {
            let reads = f.kind().reads();
            matches!(f.kind(), Kind::Attribute(_)) || reads.feedback || reads.subscriptions
        }) {
            return Err(ErrorKind::InvalidParameter {
                name: "features",
                reason: format!(
                    "feature `{}` reads customer attributes, feedback or subscriptions, \
                     which event rows do not carry; use FeatureSpec::extract on a History",
                    f.name()
                ),
            }
            .into());
        }
        Ok(EventFeatures {
            kinds: features.iter().map(FeatureInfo::kind).collect(),
        })
    }

    /// How many features (slots of `out` in [`fill`](Self::fill)).
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Whether there are no features.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// Writes one customer's features as of `as_of_micros` into `out` (one
    /// slot per feature), exactly as
    /// [`FeatureSpec::extract`](super::FeatureSpec::extract) computes that
    /// customer's row.
    pub fn fill(&self, as_of_micros: i64, events: &CustomerEvents<'_>, out: &mut [f64]) {
        Customer::from_events(events, as_of_micros, &self.kinds).fill(&self.kinds, &[], out);
    }
}
