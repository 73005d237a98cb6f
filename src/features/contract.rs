//! Subscription (contractual) helpers shared by labels and features: which
//! subscriptions hold a customer at a time, and who churned in a window.
//!
//! Every state comes from the records' point-in-time queries
//! ([`SubscriptionView::status_at`], [`SubscriptionView::ended_at`],
//! [`SubscriptionView::end_reason`]); nothing here re-derives it.

use super::spec::Kind;
use crate::records::subscription_code as code;
use crate::records::{ChurnReason, CustomerView, SubscriptionStatus, SubscriptionView};
use crate::util::{MICROS_PER_DAY, from_micros, to_micros};

/// Whether the subscription holds its customer at `t` (µs).
pub(crate) fn running_at(s: &SubscriptionView<'_>, t: i64) -> bool {
    t >= s.start_micros() && s.status_at_micros(t).is_running()
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

/// Average days in a month (365.25 / 12), for `months_on_plan`.
const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

/// One customer's subscription state at `t`, for the subscription features.
#[derive(Debug)]
pub(crate) struct SubscriptionState<'a> {
    view: CustomerView<'a>,
    t: i64,
    held: u32,
    paused: bool,
    auto_renew: bool,
    mrr: f64,
    mrr_before: f64,
    days_to_renewal: f64,
    months_on_plan: f64,
}

/// When the subscription's plan as of `t` took effect: its last plan
/// change (an upgrade or downgrade naming another plan) up to `t`, or its start.
fn plan_since(s: &SubscriptionView<'_>, t: i64) -> i64 {
    let events = s.events();
    let (times, codes) = (events.micros(), events.codes());
    let upto = times.partition_point(|&x| x <= t);
    let mut current = s.plan();
    let mut since = s.start_micros();
    for (&time, _) in times[..upto]
        .iter()
        .zip(&codes[..upto])
        .filter(|&(_, &k)| matches!(k, code::UPGRADE | code::DOWNGRADE))
    {
        let plan = s.plan_at(from_micros(time));
        if plan != current {
            current = plan;
            since = time;
        }
    }
    since
}

/// The customer's subscription state at `t` (µs), reading nothing after `t`.
pub(crate) fn subscription_state(view: CustomerView<'_>, t: i64) -> SubscriptionState<'_> {
    let mut st = SubscriptionState {
        view,
        t,
        held: 0,
        paused: false,
        auto_renew: false,
        mrr: 0.0,
        mrr_before: 0.0,
        days_to_renewal: 0.0,
        months_on_plan: 0.0,
    };
    let before = t.saturating_sub(90 * MICROS_PER_DAY);
    let mut next_end: Option<i64> = None;
    let mut main: Option<(f64, SubscriptionView<'_>)> = None;
    for s in view.subscriptions().iter() {
        if s.start_micros() > t {
            continue;
        }
        st.mrr_before += s.mrr_at_micros(before);
        let status = s.status_at_micros(t);
        let mrr = s.mrr_in(status, t);
        st.mrr += mrr;
        if !status.is_running() {
            continue;
        }
        st.held += 1;
        st.paused |= status == SubscriptionStatus::Paused;
        st.auto_renew |= s.auto_renew() && status != SubscriptionStatus::PendingCancellation;
        // Running, so not ended: the next period end needs no second replay.
        if let Some(end) = s.period_end_after_micros(t) {
            next_end = Some(next_end.map_or(end, |e| e.min(end)));
        }
        if main.as_ref().is_none_or(|(m, _)| mrr > *m) {
            main = Some((mrr, s));
        }
    }
    if let Some(end) = next_end {
        st.days_to_renewal = (end - t) as f64 / MICROS_PER_DAY as f64;
    }
    if let Some((_, s)) = main {
        let days = (t - plan_since(&s, t)) as f64 / MICROS_PER_DAY as f64;
        st.months_on_plan = days / DAYS_PER_MONTH;
    }
    st
}

impl SubscriptionState<'_> {
    /// Events of kind `code` in `(t − w days, t]`, over all subscriptions.
    fn count_in(&self, code: u8, w: u32) -> f64 {
        let lo = self.t.saturating_sub(i64::from(w) * MICROS_PER_DAY);
        let mut n = 0usize;
        for s in self.view.subscriptions().iter() {
            let events = s.events();
            let times = events.micros();
            let a = times.partition_point(|&x| x <= lo);
            let b = times.partition_point(|&x| x <= self.t);
            n += events.codes()[a..b].iter().filter(|&&k| k == code).count();
        }
        n as f64
    }

    /// The value of a subscription feature.
    pub(crate) fn value(&self, kind: Kind) -> f64 {
        let flag = |b: bool| f64::from(u8::from(b));
        match kind {
            Kind::DaysToRenewal => self.days_to_renewal,
            Kind::AutoRenew => flag(self.auto_renew),
            Kind::MonthsOnPlan => self.months_on_plan,
            Kind::Mrr => self.mrr,
            Kind::MrrChange90d => self.mrr - self.mrr_before,
            Kind::Paused => flag(self.paused),
            Kind::SubscriptionsActive => f64::from(self.held),
            Kind::HasSubscription => flag(self.held > 0),
            Kind::Downgrades(w) => self.count_in(code::DOWNGRADE, w),
            Kind::PaymentFailures(w) => self.count_in(code::PAYMENT_FAILED, w),
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use approx::assert_abs_diff_eq;
    use chrono::{DateTime, Duration, TimeZone, Utc};

    use crate::features::{FeatureSpec, FeatureTable, Snapshot};
    use crate::records::{
        BillingPeriod, Customer, History, HistoryBuilder, Subscription, SubscriptionEvent,
        SubscriptionEventKind as K,
    };

    fn day(d: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + Duration::days(d)
    }

    /// Customer 1 (plan gold): A monthly from Jan 1 at 10 (basic), upgraded
    /// to 20 (pro) on day 50, downgraded to 15 (plus) on day 120, payments
    /// failed on days 130 and 140, paused on day 170; B yearly at 120
    /// (addon, not auto-renewing) from day 100. Customer 2: nothing.
    fn history() -> History {
        let mut b = HistoryBuilder::new();
        let mut c = Customer::new(1u64, day(0));
        c.plan = Some("gold".into());
        b.extend([c, Customer::new(2u64, day(0))]);
        b.extend([
            Subscription::new(1u64, "A", "basic", day(0), BillingPeriod::Monthly, 10.0),
            Subscription::new(1u64, "B", "addon", day(100), BillingPeriod::Yearly, 120.0)
                .with_auto_renew(false),
        ]);
        let e = |d: i64, k: K| SubscriptionEvent::new(1u64, "A", day(d), k);
        b.extend([
            e(
                50,
                K::Upgrade {
                    price: 20.0,
                    plan: Some("pro".into()),
                },
            ),
            e(
                120,
                K::Downgrade {
                    price: 15.0,
                    plan: Some("plus".into()),
                },
            ),
            e(130, K::PaymentFailed),
            e(140, K::PaymentFailed),
            e(170, K::Pause),
        ]);
        let (h, report) = b.build().unwrap();
        assert!(report.is_clean(), "{report}");
        h
    }

    fn table(at: i64) -> FeatureTable {
        FeatureSpec::contractual()
            .extract(&history(), &Snapshot::new(day(at)))
            .unwrap()
    }

    #[test]
    fn subscription_features_match_hand_computation() {
        let t = table(175);
        let v = |name: &str| t.column(name).unwrap()[0];
        // A is paused (no MRR); B bills 120 / 12.
        assert_abs_diff_eq!(v("mrr"), 10.0);
        // Day 85: A at 20, B not started.
        assert_abs_diff_eq!(v("mrr_change_90d"), -10.0);
        assert_abs_diff_eq!(v("subscriptions_active"), 2.0);
        assert_abs_diff_eq!(v("has_subscription"), 1.0);
        assert_abs_diff_eq!(v("paused"), 1.0);
        assert_abs_diff_eq!(v("auto_renew"), 1.0); // A renews automatically
        // A's next period end is Jul 1 (day 182); B's Apr 10, 2025 (day 465).
        assert_abs_diff_eq!(v("days_to_renewal"), 7.0);
        // The main subscription is B (A is paused): on its plan since day 100.
        assert_abs_diff_eq!(v("months_on_plan"), 75.0 / 30.4375, epsilon = 1e-12);
        assert_abs_diff_eq!(v("downgrades_30d"), 0.0);
        assert_abs_diff_eq!(v("downgrades_90d"), 1.0); // day 120 in (85, 175]
        assert_abs_diff_eq!(v("payment_failures_30d"), 0.0);
        assert_abs_diff_eq!(v("payment_failures_90d"), 2.0);
        // Customer 2 holds nothing: every subscription feature is 0.
        for name in t.names().iter().skip(t.ncols() - 14) {
            assert_eq!(t.column(name).unwrap()[1], 0.0, "{name}");
        }
    }

    #[test]
    fn months_on_plan_counts_from_the_last_plan_change() {
        let t = table(125);
        let v = |name: &str| t.column(name).unwrap()[0];
        // A bills 15 (plus since day 120) and B 10: A is the main subscription.
        assert_abs_diff_eq!(v("mrr"), 25.0);
        assert_abs_diff_eq!(v("months_on_plan"), 5.0 / 30.4375, epsilon = 1e-12);
        assert_abs_diff_eq!(v("days_to_renewal"), 27.0); // Jun 1 is day 152
        assert_abs_diff_eq!(v("paused"), 0.0);
    }

    #[test]
    fn all_leaves_subscription_features_out_unless_included() {
        let s = Snapshot::new(day(100));
        let all = FeatureSpec::all().resolve(&s).unwrap();
        let contractual = FeatureSpec::contractual().resolve(&s).unwrap();
        assert_eq!(contractual.len(), all.len() + 8 + 2 * 3);
        assert!(all.iter().all(|f| !f.kind().is_subscription()));
        assert_eq!(&contractual[..all.len()], &all[..]);
        let named = FeatureSpec::new(["mrr", "payment_failures_30d"])
            .resolve(&s)
            .unwrap();
        assert_eq!(named[0].quantity(), crate::features::Unit::Currency);
        let json = serde_json::to_string(&FeatureSpec::contractual()).unwrap();
        assert_eq!(json, r#"{"names":null,"subscription_features":"include"}"#);
        let back: FeatureSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, FeatureSpec::contractual());
    }

    #[test]
    fn attributes_one_hot_by_name_and_from_the_history() {
        let h = history();
        let t = FeatureSpec::new(["plan=gold", "plan=silver", "region=north"])
            .extract(&h, &Snapshot::new(day(10)))
            .unwrap();
        assert_eq!(t.column("plan=gold").unwrap().to_vec(), [1.0, 0.0]);
        assert_eq!(t.column("plan=silver").unwrap().to_vec(), [0.0, 0.0]);
        assert_eq!(t.column("region=north").unwrap().to_vec(), [0.0, 0.0]);
        let spec = FeatureSpec::all().one_hot_attributes(&h, 5);
        assert_eq!(spec.one_hot_names(), ["plan=gold"]);
        let t = spec.extract(&h, &Snapshot::new(day(10))).unwrap();
        assert_eq!(t.names().last().unwrap(), "plan=gold");
        assert_eq!(
            crate::features::Unit::of_feature("channel=web"),
            Some(crate::features::Unit::Flag)
        );
        assert!(
            FeatureSpec::new(["colour=red"])
                .resolve(&Snapshot::new(day(10)))
                .is_err()
        );
        let spec = FeatureSpec::new(["tenure_days"]).one_hot_attributes(&h, 0);
        assert!(spec.one_hot_names().is_empty());
    }
}
