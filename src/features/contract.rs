//! Subscription (contractual) helpers shared by labels and features: which
//! subscriptions hold a customer at a time, and who churned in a window.
//!
//! Every state comes from the records' point-in-time queries
//! ([`SubscriptionView::status_at`], [`SubscriptionView::ended_at`],
//! [`SubscriptionView::end_reason`]); nothing here re-derives it.

use crate::records::{ChurnReason, CustomerView, History, SubscriptionStatus, SubscriptionView};
use crate::util::to_micros;

/// Whether a subscription in this state still holds the customer: active,
/// paused or pending cancellation.
///
/// The same notion as the segment measures' `ChurnDefinition::SubscriptionEnded`
/// (kept in step by a test in this module; `features` may not import
/// `segment`).
pub(crate) fn is_running(status: SubscriptionStatus) -> bool {
    matches!(
        status,
        SubscriptionStatus::Active
            | SubscriptionStatus::Paused
            | SubscriptionStatus::PendingCancellation
    )
}

/// Whether the subscription holds its customer at `t` (µs).
pub(crate) fn running_at(s: &SubscriptionView<'_>, t: i64) -> bool {
    t >= s.start_micros() && is_running(s.status_at_micros(t))
}

/// What happened to a customer holding a subscription at `t` by `t + h`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// No running subscription at `t`: not labelled.
    NotSubscribed,
    /// A subscription runs at `t + h`.
    Retained,
    /// None runs at `t + h`; the reason of the subscription that ended last
    /// in `(t, t + h]` (ties: the later one in history order).
    Churned(Option<ChurnReason>),
}

/// The contractual outcome of the customer at `t` over `(t, t + h]` (µs).
pub(crate) fn customer_outcome(view: CustomerView<'_>, t: i64, end: i64) -> Outcome {
    let subs = view.subscriptions();
    if !subs.iter().any(|s| running_at(&s, t)) {
        return Outcome::NotSubscribed;
    }
    if subs.iter().any(|s| running_at(&s, end)) {
        return Outcome::Retained;
    }
    let last = subs
        .iter()
        .filter_map(|s| {
            let e = to_micros(s.ended_at()?);
            (e > t && e <= end).then_some((e, s))
        })
        .max_by_key(|(e, s)| (*e, s.index()));
    Outcome::Churned(last.and_then(|(_, s)| s.end_reason()))
}

/// The outcome of one subscription running at `t`: `None` if it is not
/// running at `t`, `Some(None)` if it still runs at `t + h`, else
/// `Some(Some(reason))` with its end reason.
pub(crate) fn subscription_outcome(
    s: &SubscriptionView<'_>,
    t: i64,
    end: i64,
) -> Option<Option<Option<ChurnReason>>> {
    if !running_at(s, t) {
        return None;
    }
    if running_at(s, end) {
        return Some(None);
    }
    Some(Some(s.end_reason()))
}

/// The last time the history's subscriptions cover: the latest start or
/// subscription event, `None` without subscriptions.
pub(crate) fn subscription_span_end(history: &History) -> Option<i64> {
    history
        .subscriptions()
        .map(|s| {
            let last_event = s.events().micros().last().copied().unwrap_or(i64::MIN);
            last_event.max(s.start_micros())
        })
        .max()
}
