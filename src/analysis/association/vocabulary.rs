//! The item vocabulary derived from a [`History`]: what each customer did
//! (or failed to do) before the as-of time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Transactions, TransactionsBuilder};
use crate::records::{CompactKind, History, InteractionKind};
use crate::util::{MICROS_PER_DAY, MICROS_PER_HOUR, to_micros};
use crate::{Error, Result};

/// Whether customer attributes become items.
///
/// Serialized as `"exclude"` or `"include"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AttributeItems {
    /// Behaviours only.
    #[default]
    Exclude,
    /// Also `plan:<plan>`, `channel:<channel>`, `region:<region>` and `tag:<tag>`.
    Include,
}

/// How campaign responses become items.
///
/// Serialized as `"responded"` or `"by_name"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CampaignItems {
    /// One item, `campaign:responded`, for any response in the window.
    #[default]
    Responded,
    /// `campaign:responded` and one `campaign:<name>` per campaign answered.
    ByName,
}

/// The documented vocabulary of behaviour items derived from a [`History`]
/// as of a time `t`, and the [`Transactions`] it gives.
///
/// Every customer who had signed up by `t` gets one itemset; nothing after
/// `t` is read. With `W` the window (`window_days`):
///
/// | item | when |
/// |---|---|
/// | `complaint:<topic>` | a complaint about `<topic>` (`product`, `service`, `price`, `delivery`, `other`) in `(t − W, t]` |
/// | `ticket:slow_reply` | a support ticket opened in `(t − W, t]` whose first response took longer than `slow_reply_hours`, or that was still unanswered at `t` after that long |
/// | `survey:low_score` | a satisfaction answer in `(t − W, t]` below `low_satisfaction` on the scale mapped to [0, 1] |
/// | `nps:detractor` | an NPS answer of 0–6 in `(t − W, t]` |
/// | `order:refund` | a refund (an order with a negative amount) in `(t − W, t]` |
/// | `order:declining` | fewer purchases in `(t − W, t]` than in `(t − 2W, t − W]` |
/// | `order:none_<N>d` | no purchase in `(t − N, t]`, N = `no_order_days`, for customers signed up by `t − N` |
/// | `login:none_<N>d` | no login in `(t − N, t]`, N = `no_login_days`, for customers signed up by `t − N` |
/// | `campaign:responded` | a campaign response in `(t − W, t]` ([`CampaignItems`]) |
/// | `campaign:<name>` | a response to that campaign in `(t − W, t]`, with [`CampaignItems::ByName`] |
/// | `plan:<v>`, `channel:<v>`, `region:<v>`, `tag:<v>` | the customer's attributes, with [`AttributeItems::Include`] |
///
/// A purchase is an order with an amount ≥ 0. Downgrades, discounts used
/// or anything else the records do not hold are added with
/// [`Transactions::with_items`], and the churn label with
/// [`Transactions::with_label`].
///
/// Serialized with every field (`window_days`, `no_order_days`,
/// `no_login_days`, `slow_reply_hours`, `low_satisfaction`, `attributes`,
/// `campaigns`); absent fields take their defaults.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::analysis::association::{AttributeItems, ItemVocabulary};
///
/// # let history = churnwise::doc_support::history(500, 3)?;
/// let as_of = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
/// let transactions = ItemVocabulary::new()
///     .window_days(60)
///     .no_login_days(30)
///     .attributes(AttributeItems::Include)
///     .transactions(&history, as_of)?;
/// assert!(transactions.item_names().iter().any(|i| i == "login:none_30d"));
/// assert!(transactions.item_names().iter().any(|i| i.starts_with("plan:")));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ItemVocabulary {
    window_days: u32,
    no_order_days: u32,
    no_login_days: u32,
    slow_reply_hours: f64,
    low_satisfaction: f64,
    attributes: AttributeItems,
    campaigns: CampaignItems,
}

impl Default for ItemVocabulary {
    fn default() -> Self {
        ItemVocabulary {
            window_days: 90,
            no_order_days: 60,
            no_login_days: 30,
            slow_reply_hours: 24.0,
            low_satisfaction: 0.5,
            attributes: AttributeItems::Exclude,
            campaigns: CampaignItems::Responded,
        }
    }
}

/// The longest accepted window (100 years), in days.
const MAX_DAYS: u32 = 36_500;

impl ItemVocabulary {
    /// The defaults: a 90-day window, no order for 60 days, no login for 30
    /// days, replies slower than 24 hours, satisfaction below 0.5 of the
    /// scale, attributes excluded, campaign responses as one item.
    pub fn new() -> Self {
        Self::default()
    }

    /// The look-back window of the event items, in days.
    ///
    /// Defaults to `90`. Must be in 1..=36 500.
    pub fn window_days(mut self, days: u32) -> Self {
        self.window_days = days;
        self
    }

    /// N of `order:none_<N>d`.
    ///
    /// Defaults to `60`. Must be in 1..=36 500.
    pub fn no_order_days(mut self, days: u32) -> Self {
        self.no_order_days = days;
        self
    }

    /// N of `login:none_<N>d`.
    ///
    /// Defaults to `30`. Must be in 1..=36 500.
    pub fn no_login_days(mut self, days: u32) -> Self {
        self.no_login_days = days;
        self
    }

    /// A first response slower than this many hours is a slow reply (DOMAIN:
    /// replies slower than 24 h doubled the complaint rate).
    ///
    /// Defaults to `24.0`. Must be finite and ≥ 0.
    pub fn slow_reply_hours(mut self, hours: f64) -> Self {
        self.slow_reply_hours = hours;
        self
    }

    /// A satisfaction answer below this share of its scale (0 = the scale's
    /// minimum, 1 its maximum) is a low score; `0.5` makes 1 and 2 of 1–5 low.
    ///
    /// Defaults to `0.5`. Must be in `[0, 1]`.
    pub fn low_satisfaction(mut self, share: f64) -> Self {
        self.low_satisfaction = share;
        self
    }

    /// Whether attributes become items.
    ///
    /// Defaults to [`AttributeItems::Exclude`].
    pub fn attributes(mut self, attributes: AttributeItems) -> Self {
        self.attributes = attributes;
        self
    }

    /// How campaign responses become items.
    ///
    /// Defaults to [`CampaignItems::Responded`].
    pub fn campaigns(mut self, campaigns: CampaignItems) -> Self {
        self.campaigns = campaigns;
        self
    }

    /// The window in days.
    pub fn window_days_value(&self) -> u32 {
        self.window_days
    }

    /// N of `order:none_<N>d`.
    pub fn no_order_days_value(&self) -> u32 {
        self.no_order_days
    }

    /// N of `login:none_<N>d`.
    pub fn no_login_days_value(&self) -> u32 {
        self.no_login_days
    }

    /// The slow-reply threshold in hours.
    pub fn slow_reply_hours_value(&self) -> f64 {
        self.slow_reply_hours
    }

    /// The low-satisfaction threshold on [0, 1].
    pub fn low_satisfaction_value(&self) -> f64 {
        self.low_satisfaction
    }

    /// Whether attributes become items.
    pub fn attributes_value(&self) -> AttributeItems {
        self.attributes
    }

    /// How campaign responses become items.
    pub fn campaigns_value(&self) -> CampaignItems {
        self.campaigns
    }

    /// Checks the configuration; [`transactions`](Self::transactions) calls it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named after the setter whose value is out of range.
    pub fn validate(&self) -> Result<()> {
        for (name, days) in [
            ("window_days", self.window_days),
            ("no_order_days", self.no_order_days),
            ("no_login_days", self.no_login_days),
        ] {
            if !(1..=MAX_DAYS).contains(&days) {
                return Err(Error::invalid_parameter(
                    name,
                    format!("must be between 1 and {MAX_DAYS}, got {days}"),
                ));
            }
        }
        if !(self.slow_reply_hours.is_finite() && self.slow_reply_hours >= 0.0) {
            return Err(Error::invalid_parameter(
                "slow_reply_hours",
                format!("must be finite and >= 0, got {}", self.slow_reply_hours),
            ));
        }
        if !(0.0..=1.0).contains(&self.low_satisfaction) {
            return Err(Error::invalid_parameter(
                "low_satisfaction",
                format!("must be in [0, 1], got {}", self.low_satisfaction),
            ));
        }
        Ok(())
    }

    /// One itemset per customer signed up by `as_of`, in [`History`] order,
    /// from the records up to `as_of`.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::analysis::association::ItemVocabulary;
    /// use churnwise::records::{ComplaintTopic, Customer, HistoryBuilder, Interaction, InteractionKind, Order};
    ///
    /// let day = |d| Utc.with_ymd_and_hms(2024, 1, d, 0, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new();
    /// b.push_customer(Customer::new(1u64, day(1)));
    /// b.push_order(Order::new(1u64, day(2), 30.0));
    /// b.push_interaction(Interaction::new(1u64, day(3), InteractionKind::Complaint { topic: ComplaintTopic::Price }));
    /// b.push_interaction(Interaction::new(1u64, day(4), InteractionKind::SupportTicket { first_response_hours: Some(40.0) }));
    /// let (history, _) = b.build()?;
    /// let t = ItemVocabulary::new().no_login_days(5).transactions(&history, day(20))?;
    /// assert_eq!(t.items(0).collect::<Vec<_>>(), ["complaint:price", "login:none_5d", "ticket:slow_reply"]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn transactions(&self, history: &History, as_of: DateTime<Utc>) -> Result<Transactions> {
        self.validate()?;
        let t = to_micros(as_of);
        let day = MICROS_PER_DAY;
        let w = i64::from(self.window_days) * day;
        let no_order = i64::from(self.no_order_days) * day;
        let no_login = i64::from(self.no_login_days) * day;
        let slow = (self.slow_reply_hours * MICROS_PER_HOUR as f64) as i64;
        let login_item = format!("login:none_{}d", self.no_login_days);
        let order_item = format!("order:none_{}d", self.no_order_days);
        // Index of the first time > bound, in an ascending slice.
        let after = |times: &[i64], bound: i64| times.partition_point(|&x| x <= bound);
        let mut builder = TransactionsBuilder::with_capacity(history.customer_count(), 0);
        let mut items: Vec<String> = Vec::new();
        let mut fixed: Vec<&str> = Vec::new();
        for view in history.customers() {
            let signup = view.signup_micros();
            if signup > t {
                continue;
            }
            fixed.clear();
            items.clear();

            let orders = view.orders();
            let (times, amounts) = (orders.micros(), orders.amounts());
            let (lo2, lo, hi) = (
                after(times, t - 2 * w),
                after(times, t - w),
                after(times, t),
            );
            let purchases =
                |r: std::ops::Range<usize>| amounts[r].iter().filter(|&&a| a >= 0.0).count();
            if amounts[lo..hi].iter().any(|&a| a < 0.0) {
                fixed.push("order:refund");
            }
            if purchases(lo..hi) < purchases(lo2..lo) {
                fixed.push("order:declining");
            }
            if signup <= t - no_order && purchases(after(times, t - no_order)..hi) == 0 {
                items.push(order_item.clone());
            }

            let interactions = view.interactions();
            let (times, kinds) = (interactions.micros(), interactions.compact_kinds());
            let (lo, hi) = (after(times, t - w), after(times, t));
            let mut responded = false;
            let login_recent = kinds[after(times, t - no_login)..hi]
                .iter()
                .any(|k| matches!(k, CompactKind::Login));
            for k in lo..hi {
                match kinds[k] {
                    CompactKind::Complaint(topic) => fixed.push(topic_item(topic)),
                    CompactKind::SupportTicket(h) => {
                        let late = if h >= 0.0 {
                            h > self.slow_reply_hours
                        } else {
                            t - times[k] > slow
                        };
                        if late {
                            fixed.push("ticket:slow_reply");
                        }
                    }
                    CompactKind::CampaignResponse(_) => responded = true,
                    _ => {}
                }
            }
            if responded {
                fixed.push("campaign:responded");
                if self.campaigns == CampaignItems::ByName {
                    for kind in interactions.kinds().skip(lo).take(hi - lo) {
                        if let InteractionKind::CampaignResponse { campaign } = kind {
                            items.push(format!("campaign:{campaign}"));
                        }
                    }
                }
            }
            if signup <= t - no_login && !login_recent {
                items.push(login_item.clone());
            }

            let feedback = view.feedback();
            let times = feedback.micros();
            let (lo, hi) = (after(times, t - w), after(times, t));
            for answer in feedback.iter().skip(lo).take(hi - lo) {
                if answer.scale.normalize(answer.satisfaction) < self.low_satisfaction {
                    fixed.push("survey:low_score");
                }
                if answer.nps.is_some_and(|n| n <= 6) {
                    fixed.push("nps:detractor");
                }
            }

            if self.attributes == AttributeItems::Include {
                let a = view.attributes();
                for name in ["plan", "channel", "region"] {
                    if let Some(v) = a.get(name) {
                        items.push(format!("{name}:{v}"));
                    }
                }
                items.extend(a.tags().map(|tag| format!("tag:{tag}")));
            }
            builder.push(
                view.id().clone(),
                fixed
                    .iter()
                    .copied()
                    .chain(items.iter().map(String::as_str)),
            );
        }
        builder.build()
    }
}

fn topic_item(topic: crate::records::ComplaintTopic) -> &'static str {
    use crate::records::ComplaintTopic;
    match topic {
        ComplaintTopic::Product => "complaint:product",
        ComplaintTopic::Service => "complaint:service",
        ComplaintTopic::Price => "complaint:price",
        ComplaintTopic::Delivery => "complaint:delivery",
        _ => "complaint:other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::records::{
        ComplaintTopic, Customer, Feedback, HistoryBuilder, Interaction, Order, SatisfactionScale,
    };
    use chrono::{TimeDelta, TimeZone};

    fn day(d: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + TimeDelta::days(d)
    }

    #[test]
    fn derives_each_item_from_its_records_and_reads_nothing_after_as_of() {
        let mut b = HistoryBuilder::new();
        b.push_customer(Customer::new(1u64, day(0)).with_plan("gold"));
        b.push_customer(Customer::new(2u64, day(0)));
        b.push_customer(Customer::new(3u64, day(200))); // signs up after as-of
        // Customer 1: orders 3 in the earlier window, 1 in the window, a refund.
        for d in [5, 10, 20, 120] {
            b.push_order(Order::new(1u64, day(d), 10.0));
        }
        b.push_order(Order::new(1u64, day(130), -5.0));
        b.push_interaction(Interaction::new(1u64, day(140), InteractionKind::Login));
        b.push_interaction(Interaction::new(
            1u64,
            day(141),
            InteractionKind::SupportTicket {
                first_response_hours: None,
            },
        ));
        b.push_interaction(Interaction::new(
            1u64,
            day(142),
            InteractionKind::CampaignResponse {
                campaign: "spring".into(),
            },
        ));
        b.push_feedback(
            Feedback::new(1u64, day(143), 2.0, SatisfactionScale::FIVE_POINT).with_nps(6),
        );
        // Customer 2: a recent order and login, a complaint after as-of.
        b.push_order(Order::new(2u64, day(149), 10.0));
        b.push_interaction(Interaction::new(2u64, day(149), InteractionKind::Login));
        b.push_interaction(Interaction::new(
            2u64,
            day(151),
            InteractionKind::Complaint {
                topic: ComplaintTopic::Price,
            },
        ));
        b.push_order(Order::new(3u64, day(201), 10.0));
        let (history, report) = b.build().unwrap();
        assert!(report.is_clean());
        let t = ItemVocabulary::new()
            .attributes(AttributeItems::Include)
            .campaigns(CampaignItems::ByName)
            .transactions(&history, day(150))
            .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.items(0).collect::<Vec<_>>(),
            [
                "campaign:responded",
                "campaign:spring",
                "nps:detractor",
                "order:declining",
                "order:refund",
                "plan:gold",
                "survey:low_score",
                "ticket:slow_reply",
            ]
        );
        assert_eq!(t.items(1).count(), 0);
    }

    #[test]
    fn validates_each_setting() {
        let cases = [
            (ItemVocabulary::new().window_days(0), "window_days"),
            (ItemVocabulary::new().no_order_days(40_000), "no_order_days"),
            (ItemVocabulary::new().no_login_days(0), "no_login_days"),
            (
                ItemVocabulary::new().slow_reply_hours(-1.0),
                "slow_reply_hours",
            ),
            (
                ItemVocabulary::new().low_satisfaction(1.5),
                "low_satisfaction",
            ),
        ];
        for (v, name) in cases {
            let err = v.validate().unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::InvalidParameter { name: n, .. } if *n == name)
            );
        }
    }
}
