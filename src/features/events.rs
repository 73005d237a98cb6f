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
    /// The first feature that reads interactions, if any.
    interaction_feature: Option<String>,
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
            interaction_feature: features
                .iter()
                .find(|f| f.kind().reads().interactions)
                .map(|f| f.name().to_owned()),
        })
    }

    /// The name of the first feature that reads interactions (support
    /// tickets, complaints, logins, ...), or `None` when the orders and the
    /// signup time are enough.
    pub fn interaction_feature(&self) -> Option<&str> {
        self.interaction_feature.as_deref()
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

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::features::{FeatureSpec, Snapshot};
    use crate::util::to_micros;

    /// Every feature of the catalog that event slices can compute.
    fn event_spec(snapshot: &Snapshot) -> FeatureSpec {
        let names: Vec<String> = snapshot
            .catalog()
            .into_iter()
            .filter(|f| EventFeatures::new(std::slice::from_ref(f)).is_ok())
            .map(|f| f.name().to_owned())
            .collect();
        FeatureSpec::new(names)
    }

    #[test]
    fn fill_equals_extract_for_every_customer() -> Result<()> {
        let history = crate::doc_support::history(400, 11)?;
        let snapshot = Snapshot::new(Utc.with_ymd_and_hms(2024, 9, 1, 0, 0, 0).unwrap());
        let spec = event_spec(&snapshot);
        let features = spec.resolve(&snapshot)?;
        assert!(features.len() > 20, "{} event features", features.len());
        let events = EventFeatures::new(&features)?;
        assert_eq!(events.len(), features.len());
        assert!(events.interaction_feature().is_some());
        let table = spec.extract(&history, &snapshot)?;
        let t = to_micros(snapshot.as_of());
        let ids = history.customer_ids();
        let mut out = vec![f64::NAN; events.len()];
        let mut compared = 0;
        for (row, id) in table.ids().iter().enumerate() {
            let c = ids.iter().position(|x| x == id).expect("id of the history");
            let view = history.customer(c).expect("customer");
            let (orders, interactions) = (view.orders(), view.interactions());
            let e = CustomerEvents {
                signup_micros: view.signup_micros(),
                order_micros: orders.micros(),
                amounts: orders.amounts(),
                interaction_micros: interactions.micros(),
                interactions: interactions.compact_kinds(),
            };
            events.fill(t, &e, &mut out);
            for (j, v) in out.iter().enumerate() {
                assert_eq!(v.to_bits(), table.values()[[row, j]].to_bits(), "{id} {j}");
                compared += 1;
            }
        }
        assert!(compared > 1000);
        Ok(())
    }

    #[test]
    fn rejects_features_without_event_rows_by_name() {
        let snapshot = Snapshot::new(Utc.with_ymd_and_hms(2024, 9, 1, 0, 0, 0).unwrap());
        let features = FeatureSpec::all().resolve(&snapshot).unwrap();
        let err = EventFeatures::new(&features).unwrap_err().to_string();
        let rejected = features
            .iter()
            .find(|f| EventFeatures::new(std::slice::from_ref(*f)).is_err())
            .unwrap();
        assert!(err.contains(&format!("`{}`", rejected.name())), "{err}");
        let orders_only = FeatureSpec::rfm().resolve(&snapshot).unwrap();
        assert_eq!(
            EventFeatures::new(&orders_only)
                .unwrap()
                .interaction_feature(),
            None
        );
    }
}
