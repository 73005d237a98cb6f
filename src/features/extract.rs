//! Point-in-time feature extraction from a [`History`].

use rayon::prelude::*;

use super::contract::{SubscriptionState, subscription_state};
use super::events::CustomerEvents;
use super::spec::{Attribute, FeatureInfo, FeatureSpec, Kind, Reads, Snapshot};
use super::table::FeatureTable;
use crate::Result;
use crate::records::History;
use crate::records::{CompactKind, CustomerView, FeedbackRow};
use crate::util::{MICROS_PER_DAY, MICROS_PER_HOUR, to_micros};

impl FeatureSpec {
    /// Computes the features as of `snapshot.as_of()` for every customer who
    /// had signed up by then, one row per customer in [`History`] order.
    ///
    /// Reads nothing after the as-of time: events at or before it count,
    /// later ones are ignored. Runs on all rayon threads; the result does not
    /// depend on the thread count. Time is linear in the events read (window
    /// bounds are found by binary search in each customer's sorted events).
    ///
    /// # Errors
    ///
    /// As for [`FeatureSpec::resolve`].
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::features::{FeatureSpec, Snapshot};
    ///
    /// # let history = churnwise::doc_support::history(300, 2)?;
    /// let snapshot = Snapshot::new(Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap());
    /// let table = FeatureSpec::rfm().extract(&history, &snapshot)?;
    /// assert_eq!(table.names(), ["recency_days", "orders_total", "spend_total", "avg_order_value", "tenure_days"]);
    /// assert!(table.column("recency_days")?.iter().all(|&r| r >= 0.0));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn extract(&self, history: &History, snapshot: &Snapshot) -> Result<FeatureTable> {
        let features = self.resolve(snapshot)?;
        let t = to_micros(snapshot.as_of());
        let rows: Vec<usize> = history
            .customers()
            .filter(|c| c.signup_micros() <= t)
            .map(|c| c.index())
            .collect();
        let k = features.len();
        let mut values = vec![0.0; rows.len() * k];
        fill_rows(&features, history, snapshot, &rows, &mut values);
        let ids = rows
            .iter()
            .map(|&c| history.customer_ids()[c].clone())
            .collect();
        let names = features.iter().map(|f| f.name().to_owned()).collect();
        let values = ndarray::Array2::from_shape_vec((rows.len(), k), values)
            .map_err(|e| crate::ErrorKind::Empty(e.to_string()))?;
        Ok(FeatureTable::from_parts(
            ids,
            names,
            values,
            Some(snapshot.as_of()),
        ))
    }
}

/// Writes the `features` of the customers at History indices `rows` as of
/// the snapshot into `out`, row-major (`rows.len() × features.len()`).
pub(crate) fn fill_rows(
    features: &[FeatureInfo],
    history: &History,
    snapshot: &Snapshot,
    rows: &[usize],
    out: &mut [f64],
) {
    let t = to_micros(snapshot.as_of());
    let kinds: Vec<Kind> = features.iter().map(FeatureInfo::kind).collect();
    // The value of each one-hot attribute column, from its name.
    let values: Vec<Option<&str>> = features
        .iter()
        .map(|f| Attribute::parse(f.name()).map(|(_, v)| v))
        .collect();
    let k = kinds.len();
    if k > 0 {
        out.par_chunks_mut(k)
            .zip(rows.par_iter())
            .with_min_len(256)
            .for_each(|(out, &c)| {
                if let Some(view) = history.customer(c) {
                    Customer::at(view, t, &kinds).fill(&kinds, &values, out);
                }
            });
    }
}

fn days(micros: i64) -> f64 {
    micros as f64 / MICROS_PER_DAY as f64
}

/// (a − b) / (a + b), or 0 when both are 0.
fn trend(a: usize, b: usize) -> f64 {
    if a + b == 0 {
        0.0
    } else {
        (a as f64 - b as f64) / (a + b) as f64
    }
}

/// The first index whose time is after `bound`, in sorted `times`.
fn after(times: &[i64], bound: i64) -> usize {
    times.partition_point(|&x| x <= bound)
}

/// One customer's events up to the as-of time.
pub(super) struct Customer<'a> {
    /// `None` when computed from event slices (no attributes).
    view: Option<CustomerView<'a>>,
    subs: Option<SubscriptionState<'a>>,
    t: i64,
    tenure: i64,
    order_times: &'a [i64],
    amounts: &'a [f64],
    interaction_times: &'a [i64],
    kinds: &'a [CompactKind],
    feedback: &'a [FeedbackRow],
}

impl<'a> Customer<'a> {
    fn at(view: CustomerView<'a>, t: i64, kinds: &[Kind]) -> Self {
        let reads = kinds
            .iter()
            .fold(Reads::default(), |r, k| r.union(k.reads()));
        let mut me = Customer {
            view: Some(view),
            subs: None,
            t,
            tenure: t - view.signup_micros(),
            order_times: &[],
            amounts: &[],
            interaction_times: &[],
            kinds: &[],
            feedback: &[],
        };
        if reads.orders {
            let orders = view.orders();
            let end = after(orders.micros(), t);
            me.order_times = &orders.micros()[..end];
            me.amounts = &orders.amounts()[..end];
        }
        if reads.interactions {
            let interactions = view.interactions();
            let end = after(interactions.micros(), t);
            me.interaction_times = &interactions.micros()[..end];
            me.kinds = &interactions.compact_kinds()[..end];
        }
        if reads.feedback {
            let feedback = view.feedback();
            let end = after(feedback.micros(), t);
            me.feedback = &feedback.rows()[..end];
        }
        if reads.subscriptions {
            me.subs = Some(subscription_state(view, t));
        }
        me
    }

    /// The events of `events` up to `t`; reads no attributes, feedback or
    /// subscriptions.
    pub(super) fn from_events(events: &CustomerEvents<'a>, t: i64, kinds: &[Kind]) -> Self {
        let reads = kinds
            .iter()
            .fold(Reads::default(), |r, k| r.union(k.reads()));
        let mut me = Customer {
            view: None,
            subs: None,
            t,
            tenure: t - events.signup_micros,
            order_times: &[],
            amounts: &[],
            interaction_times: &[],
            kinds: &[],
            feedback: &[],
        };
        if reads.orders {
            let end = after(events.order_micros, t).min(events.amounts.len());
            me.order_times = &events.order_micros[..end];
            me.amounts = &events.amounts[..end];
        }
        if reads.interactions {
            let end = after(events.interaction_micros, t).min(events.interactions.len());
            me.interaction_times = &events.interaction_micros[..end];
            me.kinds = &events.interactions[..end];
        }
        me
    }

    /// Orders in the last `w` days: `(as_of − w, as_of]`.
    fn orders_in(&self, w_days: i64) -> &'a [f64] {
        &self.amounts[after(self.order_times, self.t - w_days * MICROS_PER_DAY)..]
    }

    /// Purchases (amount ≥ 0) in `(as_of − to, as_of − from]`, in days.
    fn purchases_between(&self, from_days: i64, to_days: i64) -> usize {
        let lo = after(self.order_times, self.t - to_days * MICROS_PER_DAY);
        let hi = after(self.order_times, self.t - from_days * MICROS_PER_DAY);
        self.amounts[lo..hi].iter().filter(|&&a| a >= 0.0).count()
    }

    /// Interactions matching `pred` in `(as_of − to, as_of − from]`, in days.
    fn interactions_between(
        &self,
        from_days: i64,
        to_days: i64,
        pred: impl Fn(&CompactKind) -> bool,
    ) -> usize {
        let lo = after(self.interaction_times, self.t - to_days * MICROS_PER_DAY);
        let hi = after(self.interaction_times, self.t - from_days * MICROS_PER_DAY);
        self.kinds[lo..hi].iter().filter(|k| pred(k)).count()
    }

    /// Hours to first response of each ticket; a ticket not answered by the
    /// as-of time counts the hours it has waited so far.
    fn response_hours(&self) -> impl Iterator<Item = f64> + '_ {
        self.response_hours_since(i64::MIN)
    }

    /// [`response_hours`](Self::response_hours) of the tickets opened after `from` (µs).
    fn response_hours_since(&self, from: i64) -> impl Iterator<Item = f64> + '_ {
        let lo = after(self.interaction_times, from);
        self.interaction_times[lo..]
            .iter()
            .zip(&self.kinds[lo..])
            .filter_map(move |(&opened, k)| match *k {
                CompactKind::SupportTicket(h) => {
                    let waited = (self.t - opened) as f64 / MICROS_PER_HOUR as f64;
                    Some(if h >= 0.0 && h <= waited { h } else { waited })
                }
                _ => None,
            })
    }

    /// `values`: the value of each one-hot attribute column (missing: none).
    pub(super) fn fill(&self, kinds: &[Kind], values: &[Option<&str>], out: &mut [f64]) {
        for (i, (slot, kind)) in out.iter_mut().zip(kinds).enumerate() {
            *slot = match kind {
                Kind::Attribute(attr) => {
                    let value = values.get(i).copied().flatten();
                    let matches = self
                        .view
                        .is_some_and(|v| value.is_some() && attr.of(&v) == value);
                    f64::from(u8::from(matches))
                }
                _ => self.value(*kind),
            };
        }
    }

    fn value(&self, kind: Kind) -> f64 {
        let tenure = days(self.tenure);
        let purchases = || self.amounts.iter().filter(|&&a| a >= 0.0);
        let is_session = |k: &CompactKind| matches!(k, CompactKind::Login | CompactKind::Visit);
        match kind {
            Kind::RecencyDays => self
                .order_times
                .last()
                .map_or(tenure, |&l| days(self.t - l)),
            Kind::TenureDays => tenure,
            Kind::HasOrdered => f64::from(u8::from(!self.order_times.is_empty())),
            Kind::OrdersTotal => purchases().count() as f64,
            Kind::SpendTotal => self.amounts.iter().sum(),
            Kind::AvgOrderValue => {
                let n = purchases().count();
                if n == 0 {
                    0.0
                } else {
                    purchases().sum::<f64>() / n as f64
                }
            }
            Kind::MeanInterpurchaseDays => {
                let mut times = self
                    .order_times
                    .iter()
                    .zip(self.amounts)
                    .filter(|(_, a)| **a >= 0.0)
                    .map(|(t, _)| *t);
                let first = times.next();
                match (first, times.next_back()) {
                    (None, _) => tenure,
                    (Some(only), None) => days(self.t - only),
                    (Some(first), Some(last)) => {
                        let n = purchases().count();
                        days(last - first) / (n - 1) as f64
                    }
                }
            }
            Kind::OrderTrend90d => trend(
                self.purchases_between(0, 90),
                self.purchases_between(90, 180),
            ),
            Kind::RefundShare => {
                let gross: f64 = purchases().sum();
                let refunded: f64 = self.amounts.iter().filter(|&&a| a < 0.0).map(|a| -a).sum();
                if gross > 0.0 { refunded / gross } else { 0.0 }
            }
            Kind::DaysSinceInteraction => self
                .interaction_times
                .last()
                .map_or(tenure, |&l| days(self.t - l)),
            Kind::HasInteractions => f64::from(u8::from(!self.interaction_times.is_empty())),
            Kind::EngagementTrend30d => trend(
                self.interactions_between(0, 30, is_session),
                self.interactions_between(30, 60, is_session),
            ),
            Kind::ResponseHoursMean => {
                let (n, sum) = self
                    .response_hours()
                    .fold((0usize, 0.0), |(n, s), h| (n + 1, s + h));
                if n == 0 { 0.0 } else { sum / n as f64 }
            }
            Kind::ResponseHoursMax => self.response_hours().fold(0.0, f64::max),
            Kind::HasTickets => f64::from(u8::from(
                self.kinds
                    .iter()
                    .any(|k| matches!(k, CompactKind::SupportTicket(_))),
            )),
            Kind::SatisfactionLast => self.feedback.last().map_or(0.5, normalized),
            Kind::SatisfactionChange => match self.feedback {
                [.., prev, last] => normalized(last) - normalized(prev),
                _ => 0.0,
            },
            Kind::HasFeedback => f64::from(u8::from(!self.feedback.is_empty())),
            Kind::Orders(w) => self
                .orders_in(i64::from(w))
                .iter()
                .filter(|&&a| a >= 0.0)
                .count() as f64,
            Kind::Spend(w) => self.orders_in(i64::from(w)).iter().sum(),
            Kind::Logins(w) => self.count_in(w, |k| matches!(k, CompactKind::Login)),
            Kind::Visits(w) => self.count_in(w, |k| matches!(k, CompactKind::Visit)),
            Kind::Tickets(w) => self.count_in(w, |k| matches!(k, CompactKind::SupportTicket(_))),
            Kind::Complaints(w) => self.count_in(w, |k| matches!(k, CompactKind::Complaint(_))),
            Kind::CampaignResponses(w) => {
                self.count_in(w, |k| matches!(k, CompactKind::CampaignResponse(_)))
            }
            Kind::ResponseHoursMaxIn(w) => {
                let from = self.t - i64::from(w) * MICROS_PER_DAY;
                self.response_hours_since(from).fold(0.0, f64::max)
            }
            Kind::Attribute(_) => 0.0, // filled by `fill`, which knows the value
            Kind::DaysToRenewal
            | Kind::AutoRenew
            | Kind::MonthsOnPlan
            | Kind::Mrr
            | Kind::MrrChange90d
            | Kind::Paused
            | Kind::SubscriptionsActive
            | Kind::HasSubscription
            | Kind::Downgrades(_)
            | Kind::PaymentFailures(_) => self.subs.as_ref().map_or(0.0, |s| s.value(kind)),
        }
    }

    fn count_in(&self, w: u32, pred: impl Fn(&CompactKind) -> bool) -> f64 {
        self.interactions_between(0, i64::from(w), pred) as f64
    }
}

fn normalized(row: &FeedbackRow) -> f64 {
    row.normalized()
}

#[cfg(test)]
mod tests {
    use approx::assert_abs_diff_eq;
    use chrono::{DateTime, Duration, TimeZone, Utc};

    use super::*;
    use crate::records::{
        ComplaintTopic, Customer, Feedback, HistoryBuilder, Interaction, InteractionKind, Order,
        SatisfactionScale,
    };

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
    }

    /// `d` days (may be fractional via hours) after 2024-01-01.
    fn day(d: i64) -> DateTime<Utc> {
        t0() + Duration::days(d)
    }

    fn value(table: &FeatureTable, row: usize, name: &str) -> f64 {
        table.column(name).unwrap()[row]
    }

    /// Customer 1 signs up on day 0; as-of day 200. Hand-computed values below.
    fn history() -> History {
        let mut b = HistoryBuilder::new();
        b.push_customer(Customer::new(1u64, day(0)));
        b.push_customer(Customer::new(2u64, day(150))); // no events
        b.push_customer(Customer::new(3u64, day(250))); // after as-of: no row
        for (d, amount) in [
            (10, 50.0),
            (40, 30.0),
            (100, 20.0),
            (105, -10.0),
            (190, 40.0),
            (230, 99.0),
        ] {
            b.push_order(Order::new(1u64, day(d), amount));
        }
        let ticket = |h| InteractionKind::SupportTicket {
            first_response_hours: h,
        };
        for (d, kind) in [
            (20, InteractionKind::Login),
            (175, InteractionKind::Login),
            (185, InteractionKind::Visit),
            (195, InteractionKind::Login),
            (160, ticket(Some(10.0))),
            (199, ticket(Some(48.0))), // answered after as-of: waited 24 h so far
            (
                180,
                InteractionKind::Complaint {
                    topic: ComplaintTopic::Product,
                },
            ),
            (
                120,
                InteractionKind::CampaignResponse {
                    campaign: "c".into(),
                },
            ),
            (
                210,
                InteractionKind::Complaint {
                    topic: ComplaintTopic::Price,
                },
            ), // after as-of
        ] {
            b.push_interaction(Interaction::new(1u64, day(d), kind));
        }
        b.push_feedback(Feedback::new(
            1u64,
            day(50),
            5.0,
            SatisfactionScale::FIVE_POINT,
        ));
        b.push_feedback(Feedback::new(
            1u64,
            day(170),
            2.0,
            SatisfactionScale::FIVE_POINT,
        ));
        b.build_strict().unwrap()
    }

    #[test]
    fn features_match_hand_computation() {
        let h = history();
        let table = FeatureSpec::all()
            .extract(&h, &Snapshot::new(day(200)))
            .unwrap();
        assert_eq!(table.ids(), [1u64.into(), 2u64.into()]);
        let v = |name| value(&table, 0, name);
        assert_abs_diff_eq!(v("recency_days"), 10.0); // last order day 190
        assert_abs_diff_eq!(v("tenure_days"), 200.0);
        assert_abs_diff_eq!(v("has_ordered"), 1.0);
        assert_abs_diff_eq!(v("orders_total"), 4.0); // the refund is not a purchase
        assert_abs_diff_eq!(v("spend_total"), 130.0); // 50 + 30 + 20 - 10 + 40
        assert_abs_diff_eq!(v("avg_order_value"), 35.0); // 140 / 4
        assert_abs_diff_eq!(v("mean_interpurchase_days"), 60.0); // (190 - 10) / 3
        // Purchases in (110, 200]: day 190 → a = 1; in (20, 110]: days 40, 100 → b = 2.
        assert_abs_diff_eq!(v("order_trend_90d"), -1.0 / 3.0, epsilon = 1e-12);
        assert_abs_diff_eq!(v("refund_share"), 10.0 / 140.0, epsilon = 1e-12);
        assert_abs_diff_eq!(v("orders_30d"), 1.0);
        assert_abs_diff_eq!(v("spend_90d"), 40.0);
        assert_abs_diff_eq!(v("spend_180d"), 80.0); // (20, 200]: 30 + 20 - 10 + 40
        assert_abs_diff_eq!(v("days_since_interaction"), 1.0); // ticket on day 199
        assert_abs_diff_eq!(v("logins_30d"), 2.0); // days 175, 195
        assert_abs_diff_eq!(v("visits_30d"), 1.0);
        // Sessions in (170, 200]: 175, 185, 195 → 3; in (140, 170]: none.
        assert_abs_diff_eq!(v("engagement_trend_30d"), 1.0);
        assert_abs_diff_eq!(v("tickets_90d"), 2.0);
        assert_abs_diff_eq!(v("complaints_30d"), 1.0);
        assert_abs_diff_eq!(v("complaints_180d"), 1.0); // day 210 is after as-of
        assert_abs_diff_eq!(v("campaign_responses_90d"), 1.0);
        assert_abs_diff_eq!(v("response_hours_mean"), 17.0); // (10 + 24) / 2
        assert_abs_diff_eq!(v("response_hours_max"), 24.0);
        // Tickets opened in (170, 200]: only day 199's (24 h so far); (20, 200]: both.
        assert_abs_diff_eq!(v("response_hours_max_30d"), 24.0);
        assert_abs_diff_eq!(v("response_hours_max_180d"), 24.0);
        let at_190 = FeatureSpec::new(["response_hours_max_30d", "response_hours_max_90d"])
            .extract(&h, &Snapshot::new(day(190)))
            .unwrap();
        // At day 190: (160, 190] holds no ticket (day 160 is on the open end); (100, 190] holds day 160's.
        assert_abs_diff_eq!(value(&at_190, 0, "response_hours_max_30d"), 0.0);
        assert_abs_diff_eq!(value(&at_190, 0, "response_hours_max_90d"), 10.0);
        assert_abs_diff_eq!(v("has_tickets"), 1.0);
        assert_abs_diff_eq!(v("satisfaction_last"), 0.25); // 2 on 1..5
        assert_abs_diff_eq!(v("satisfaction_change"), -0.75);
        assert_abs_diff_eq!(v("has_feedback"), 1.0);
    }

    #[test]
    fn customers_without_events_get_documented_defaults() {
        let h = history();
        let table = FeatureSpec::all()
            .extract(&h, &Snapshot::new(day(200)))
            .unwrap();
        let v = |name| value(&table, 1, name);
        assert_abs_diff_eq!(v("tenure_days"), 50.0);
        assert_abs_diff_eq!(v("recency_days"), 50.0);
        assert_abs_diff_eq!(v("mean_interpurchase_days"), 50.0);
        assert_abs_diff_eq!(v("days_since_interaction"), 50.0);
        assert_abs_diff_eq!(v("satisfaction_last"), 0.5);
        for name in [
            "has_ordered",
            "orders_total",
            "spend_total",
            "avg_order_value",
            "order_trend_90d",
            "refund_share",
            "has_interactions",
            "response_hours_mean",
            "has_tickets",
            "satisfaction_change",
            "has_feedback",
            "complaints_30d",
        ] {
            assert_abs_diff_eq!(v(name), 0.0);
        }
    }

    #[test]
    fn one_purchase_gives_days_since_it() {
        let mut b = HistoryBuilder::new();
        b.push_customer(Customer::new(1u64, day(0)));
        b.push_order(Order::new(1u64, day(30), 9.0));
        let h = b.build_strict().unwrap();
        let table = FeatureSpec::new(["mean_interpurchase_days"])
            .extract(&h, &Snapshot::new(day(100)))
            .unwrap();
        assert_abs_diff_eq!(value(&table, 0, "mean_interpurchase_days"), 70.0);
    }

    #[test]
    fn events_exactly_at_as_of_count_and_window_starts_are_exclusive() {
        let mut b = HistoryBuilder::new();
        b.push_customer(Customer::new(1u64, day(0)));
        b.push_order(Order::new(1u64, day(70), 1.0)); // exactly 30 days before: outside (70, 100]
        b.push_order(Order::new(1u64, day(100), 2.0)); // exactly at as-of: inside
        let h = b.build_strict().unwrap();
        let table = FeatureSpec::new(["orders_30d", "recency_days"])
            .extract(&h, &Snapshot::new(day(100)))
            .unwrap();
        assert_abs_diff_eq!(value(&table, 0, "orders_30d"), 1.0);
        assert_abs_diff_eq!(value(&table, 0, "recency_days"), 0.0);
    }

    #[test]
    fn extraction_is_identical_on_one_and_two_threads() {
        let pop = crate::synth::PopulationConfig::default()
            .customers(2_000)
            .seed(9)
            .generate()
            .unwrap();
        let (h, _) = pop.history_builder().build().unwrap();
        let snapshot = Snapshot::new(Utc.with_ymd_and_hms(2024, 8, 1, 0, 0, 0).unwrap());
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| FeatureSpec::all().extract(&h, &snapshot).unwrap())
        };
        let (a, b) = (run(1), run(2));
        assert!(
            a.values()
                .iter()
                .zip(b.values().iter())
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
        assert_eq!(a.ids(), b.ids());
    }
}
