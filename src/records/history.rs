//! The validated, immutable, columnar store of customers and their events.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::subscription_view::SubscriptionTable;
use super::{
    ComplaintTopic, Customer, CustomerId, Feedback, Interaction, InteractionKind, Order,
    SatisfactionScale,
};
use crate::util::from_micros;

/// Optional customer attributes, boxed so customers without any cost one pointer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct CustomerAttrs {
    pub(super) plan: Option<Arc<str>>,
    pub(super) channel: Option<Arc<str>>,
    pub(super) region: Option<Arc<str>>,
    pub(super) tags: Box<[Arc<str>]>,
}

/// An interaction kind without heap data: campaigns are interned.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CompactKind {
    Login,
    Visit,
    /// Hours to first response; negative means unanswered.
    SupportTicket(f64),
    Complaint(ComplaintTopic),
    CampaignResponse(u32),
    Cancellation,
}

impl CompactKind {
    /// The kind's number: interactions at the same time sort by it.
    pub fn code(self) -> u8 {
        match self {
            CompactKind::Login => 0,
            CompactKind::Visit => 1,
            CompactKind::SupportTicket(_) => 2,
            CompactKind::Complaint(_) => 3,
            CompactKind::CampaignResponse(_) => 4,
            CompactKind::Cancellation => 5,
        }
    }

    /// The kind numbered `code` by [`code`](Self::code), for engines that
    /// keep kinds as numbers: a ticket's response hours (negative:
    /// unanswered) are `response_hours`; complaints get the default topic
    /// and campaign responses campaign 0, since no feature reads them.
    /// `None` for an unknown code.
    pub fn from_code(code: u8, response_hours: f64) -> Option<CompactKind> {
        Some(match code {
            0 => CompactKind::Login,
            1 => CompactKind::Visit,
            2 => CompactKind::SupportTicket(response_hours),
            3 => CompactKind::Complaint(ComplaintTopic::default()),
            4 => CompactKind::CampaignResponse(0),
            5 => CompactKind::Cancellation,
            _ => return None,
        })
    }
}

/// Feedback values stored together (feedback is sparse; no need to split further).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FeedbackRow {
    pub(super) satisfaction: f64,
    pub(super) scale: SatisfactionScale,
    pub(super) nps: Option<u8>,
}

impl FeedbackRow {
    /// The satisfaction score mapped onto [0, 1] by its scale.
    pub(crate) fn normalized(&self) -> f64 {
        self.scale.normalize(self.satisfaction)
    }
}

/// The validated, immutable store of a customer base: customers and their
/// orders, interactions, feedback, subscriptions and subscription events.
///
/// Built by [`HistoryBuilder`](super::HistoryBuilder). Internally columnar:
/// every event table is sorted by (customer, time) with per-customer offsets,
/// so a customer's events are contiguous slices found in O(1) from its dense
/// index (`0..customer_count()`, in [`CustomerId`] order). An order costs 16
/// bytes (time and amount) plus 8 bytes per customer for the offsets, and 8
/// more per order only when order ids are present: see [`History::memory`].
///
/// Subscriptions are sorted by (customer, start, id) with per-customer
/// offsets, and their events by (subscription, time, kind) with
/// per-subscription offsets; ids, plans and custom churn reasons are
/// interned. A subscription costs
/// [`BYTES_PER_SUBSCRIPTION`](super::BYTES_PER_SUBSCRIPTION) (49) bytes and
/// an event [`BYTES_PER_SUBSCRIPTION_EVENT`](super::BYTES_PER_SUBSCRIPTION_EVENT)
/// (21; a cancellation note 24 more plus its text), plus 8
/// bytes per customer for the offsets once there is any subscription.
/// A history without subscriptions allocates nothing for them.
///
/// Times are stored with microsecond resolution.
///
/// # Example
///
/// ```
/// use churnwise::records::CustomerId;
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(200).seed(1).generate()?;
/// let (history, report) = pop.history_builder().build()?;
/// assert!(report.is_clean());
/// let c = history.find(&CustomerId::from(1u64)).expect("customer 1 exists");
/// let orders = c.orders();
/// assert!(orders.times().zip(orders.times().skip(1)).all(|(a, b)| a <= b));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    ids: Vec<CustomerId>,
    signup: Vec<i64>,
    attrs: Vec<Option<Box<CustomerAttrs>>>,
    orders: EventColumns<OrderCols>,
    interactions: EventColumns<Vec<CompactKind>>,
    campaigns: Vec<Arc<str>>,
    feedback: EventColumns<Vec<FeedbackRow>>,
    pub(super) subs: SubscriptionTable,
}

/// One event table: per-customer offsets, times, and the remaining columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct EventColumns<C> {
    /// `offsets[c]..offsets[c + 1]` are customer `c`'s rows.
    pub(super) offsets: Vec<usize>,
    pub(super) time: Vec<i64>,
    pub(super) cols: C,
}

impl<C> EventColumns<C> {
    fn range(&self, c: usize) -> std::ops::Range<usize> {
        self.offsets[c]..self.offsets[c + 1]
    }
    fn len(&self) -> usize {
        self.time.len()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct OrderCols {
    pub(super) amount: Vec<f64>,
    /// Present only when at least one order has an id.
    pub(super) order_id: Option<Vec<Option<Box<str>>>>,
}

/// The parts the builder assembles into a [`History`], already sorted and
/// validated (see [`History::from_parts`]).
#[derive(Debug)]
pub(super) struct Parts {
    pub(super) ids: Vec<CustomerId>,
    pub(super) signup: Vec<i64>,
    pub(super) attrs: Vec<Option<Box<CustomerAttrs>>>,
    pub(super) orders: EventColumns<OrderCols>,
    pub(super) interactions: EventColumns<Vec<CompactKind>>,
    pub(super) campaigns: Vec<Arc<str>>,
    pub(super) feedback: EventColumns<Vec<FeedbackRow>>,
    pub(super) subs: SubscriptionTable,
}

impl History {
    /// Assembles a history from validated columns (the builder's last step).
    pub(super) fn from_parts(parts: Parts) -> History {
        let Parts {
            ids,
            signup,
            attrs,
            orders,
            interactions,
            campaigns,
            feedback,
            subs,
        } = parts;
        History {
            ids,
            signup,
            attrs,
            orders,
            interactions,
            campaigns,
            feedback,
            subs,
        }
    }

    /// The attributes (plan, channel, region, tags) of the customer with
    /// dense index `index`, in [`customer_ids`](Self::customer_ids) order,
    /// borrowed from the history; `None` when `index` is out of range.
    ///
    /// Reading them costs one pointer lookup, so a per-customer column (say,
    /// the plan of every scored customer) is built without cloning strings.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{Customer, HistoryBuilder};
    ///
    /// let t = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new();
    /// b.push_customer(Customer::new(1u64, t).with_plan("gold").with_region("EU").with_tag("b2b"));
    /// b.push_customer(Customer::new(2u64, t));
    /// let (history, _) = b.build()?;
    /// let plans: Vec<Option<&str>> = (0..history.customer_count())
    ///     .map(|i| history.attributes(i).and_then(|a| a.plan()))
    ///     .collect();
    /// assert_eq!(plans, [Some("gold"), None]);
    /// let first = history.attributes(0).unwrap();
    /// assert_eq!((first.get("region"), first.get("channel")), (Some("EU"), None));
    /// assert!(first.has_tag("b2b"));
    /// assert!(history.attributes(2).is_none());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn attributes(&self, index: usize) -> Option<Attributes<'_>> {
        self.attrs.get(index).map(|a| Attributes {
            attrs: a.as_deref(),
        })
    }

    /// Number of customers.
    pub fn customer_count(&self) -> usize {
        self.ids.len()
    }

    /// Number of orders.
    pub fn order_count(&self) -> usize {
        self.orders.len()
    }

    /// Number of interactions.
    pub fn interaction_count(&self) -> usize {
        self.interactions.len()
    }

    /// Number of feedback answers.
    pub fn feedback_count(&self) -> usize {
        self.feedback.len()
    }

    /// The customer with dense index `index` (`0..customer_count()`), if any.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// // Integer ids order before string ids.
    /// assert_eq!(history.customer(0).unwrap().id(), &CustomerId::from(1u64));
    /// assert_eq!(history.customer(1).unwrap().id().as_str(), Some("C-2"));
    /// assert!(history.customer(2).is_none());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn customer(&self, index: usize) -> Option<CustomerView<'_>> {
        (index < self.ids.len()).then_some(CustomerView {
            history: self,
            index,
        })
    }

    /// The dense index of a customer id, by binary search over the sorted ids
    /// (O(log n): about 20 comparisons for a million customers).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// assert_eq!(history.index_of(&CustomerId::from("C-2")), Some(1));
    /// assert_eq!(history.index_of(&CustomerId::from("C-9")), None);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn index_of(&self, id: &CustomerId) -> Option<usize> {
        self.ids.binary_search(id).ok()
    }

    /// The customer with this id, if any.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// let c = history.find(&CustomerId::from(1u64)).expect("known id");
    /// assert_eq!(c.orders().len(), 2);
    /// assert!(history.find(&CustomerId::from(99u64)).is_none());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn find(&self, id: &CustomerId) -> Option<CustomerView<'_>> {
        self.index_of(id).and_then(|i| self.customer(i))
    }

    /// All customers in dense-index order (ascending [`CustomerId`]).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// let indices: Vec<usize> = history.customers().map(|c| c.index()).collect();
    /// assert_eq!(indices, [0, 1]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn customers(&self) -> impl ExactSizeIterator<Item = CustomerView<'_>> + '_ {
        (0..self.ids.len()).map(move |index| CustomerView {
            history: self,
            index,
        })
    }

    /// The customer ids in dense-index order.
    pub fn customer_ids(&self) -> &[CustomerId] {
        &self.ids
    }

    /// Totals and the time span covered.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// let s = history.summary();
    /// assert_eq!((s.customers, s.orders), (2, 2));
    /// assert_eq!((s.gross_revenue, s.refunds), (40.0, 10.0));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn summary(&self) -> HistorySummary {
        let amounts = &self.orders.cols.amount;
        let refunds: f64 = amounts.iter().filter(|a| **a < 0.0).sum();
        let gross: f64 = amounts.iter().filter(|a| **a > 0.0).sum();
        let (first, last) = self.event_span().unwrap_or((i64::MAX, i64::MIN));
        HistorySummary {
            customers: self.customer_count(),
            orders: self.order_count(),
            interactions: self.interaction_count(),
            feedback: self.feedback_count(),
            subscriptions: self.subscription_count(),
            subscription_events: self.subscription_event_count(),
            gross_revenue: gross,
            refunds: -refunds,
            first_event: (first <= last).then(|| from_micros(first)),
            last_event: (first <= last).then(|| from_micros(last)),
        }
    }

    /// The earliest and latest event time (microseconds), if any, over
    /// orders, interactions, feedback, subscription starts and subscription
    /// events: each table is sorted per customer, so only the ends of each
    /// slice are read (subscriptions: one pass over starts and event times).
    pub(crate) fn event_span(&self) -> Option<(i64, i64)> {
        fn ends<C>(t: &EventColumns<C>, c: usize) -> Option<(i64, i64)> {
            let r = t.range(c);
            (!r.is_empty()).then(|| (t.time[r.start], t.time[r.end - 1]))
        }
        (0..self.customer_count())
            .flat_map(|c| {
                [
                    ends(&self.orders, c),
                    ends(&self.interactions, c),
                    ends(&self.feedback, c),
                ]
            })
            .flatten()
            .chain(self.subs.span())
            .reduce(|(a, b), (x, y)| (a.min(x), b.max(y)))
    }

    /// Heap bytes held, per table, to size deployments (approximate for strings).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// let m = history.memory();
    /// assert!(m.orders > 0);
    /// assert_eq!(m.total(), m.customers + m.orders + m.interactions + m.feedback);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn memory(&self) -> MemoryUsage {
        use std::mem::size_of;
        let attr_bytes: usize = self
            .attrs
            .iter()
            .flatten()
            .map(|a| size_of::<CustomerAttrs>() + a.tags.len() * size_of::<Arc<str>>())
            .sum();
        let customers = self.ids.capacity() * size_of::<CustomerId>()
            + self.signup.capacity() * 8
            + self.attrs.capacity() * size_of::<Option<Box<CustomerAttrs>>>()
            + attr_bytes;
        let ids = self.orders.cols.order_id.as_ref().map_or(0, |v| {
            v.capacity() * size_of::<Option<Box<str>>>()
                + v.iter().flatten().map(|s| s.len()).sum::<usize>()
        });
        let orders = self.orders.offsets.capacity() * 8
            + self.orders.time.capacity() * 8
            + self.orders.cols.amount.capacity() * 8
            + ids;
        let interactions = self.interactions.offsets.capacity() * 8
            + self.interactions.time.capacity() * 8
            + self.interactions.cols.capacity() * size_of::<CompactKind>();
        let feedback = self.feedback.offsets.capacity() * 8
            + self.feedback.time.capacity() * 8
            + self.feedback.cols.capacity() * size_of::<FeedbackRow>();
        let (subscriptions, subscription_events) = self.subs.memory();
        MemoryUsage {
            customers,
            orders,
            interactions,
            feedback,
            subscriptions,
            subscription_events,
            order_count: self.order_count(),
            subscription_count: self.subscription_count(),
            subscription_event_count: self.subscription_event_count(),
        }
    }

    /// Every order as a record, in (customer, time) order.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// let amounts: Vec<f64> = history.orders().map(|o| o.amount).collect();
    /// assert_eq!(amounts, [40.0, -10.0]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn orders(&self) -> impl Iterator<Item = Order> + '_ {
        self.customers().flat_map(|c| c.orders().iter())
    }

    /// Every interaction as a record, in (customer, time) order.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// let kinds: Vec<InteractionKind> = history.interactions().map(|i| i.kind).collect();
    /// assert_eq!(kinds, [InteractionKind::Login]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn interactions(&self) -> impl Iterator<Item = Interaction> + '_ {
        self.customers().flat_map(|c| c.interactions().iter())
    }

    /// Every feedback answer as a record, in (customer, time) order.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// let scores: Vec<f64> = history.feedback().map(|f| f.satisfaction).collect();
    /// assert_eq!(scores, [4.0]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn feedback(&self) -> impl Iterator<Item = Feedback> + '_ {
        self.customers().flat_map(|c| c.feedback().iter())
    }
}

/// Totals of a [`History`], from [`History::summary`].
///
/// # Example
///
/// ```
///
/// # let history = churnwise::doc_support::history(100, 3)?;
/// let s = history.summary();
/// assert_eq!(s.customers, 100);
/// assert!(s.net_revenue() <= s.gross_revenue);
/// println!("{s}");
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HistorySummary {
    /// Customers.
    pub customers: usize,
    /// Orders (refunds included).
    pub orders: usize,
    /// Interactions.
    pub interactions: usize,
    /// Feedback answers.
    pub feedback: usize,
    /// Subscriptions.
    pub subscriptions: usize,
    /// Subscription events.
    pub subscription_events: usize,
    /// Sum of positive order amounts.
    pub gross_revenue: f64,
    /// Sum of refunds, as a positive number.
    pub refunds: f64,
    /// The earliest event (order, interaction, feedback, subscription start
    /// or subscription event), if any.
    pub first_event: Option<DateTime<Utc>>,
    /// The latest event, if any.
    pub last_event: Option<DateTime<Utc>>,
}

impl HistorySummary {
    /// Gross revenue minus refunds.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// assert_eq!(history.summary().net_revenue(), 30.0); // 40 gross - 10 refunded
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn net_revenue(&self) -> f64 {
        self.gross_revenue - self.refunds
    }
}

impl fmt::Display for HistorySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<14} {:>14}", "customers", self.customers)?;
        writeln!(f, "{:<14} {:>14}", "orders", self.orders)?;
        writeln!(f, "{:<14} {:>14}", "interactions", self.interactions)?;
        writeln!(f, "{:<14} {:>14}", "feedback", self.feedback)?;
        if self.subscriptions > 0 {
            writeln!(f, "{:<14} {:>14}", "subscriptions", self.subscriptions)?;
            writeln!(f, "{:<14} {:>14}", "sub. events", self.subscription_events)?;
        }
        use crate::util::Money;
        writeln!(
            f,
            "{:<14} {:>14}",
            "gross revenue",
            Money(self.gross_revenue)
        )?;
        writeln!(f, "{:<14} {:>14}", "refunds", Money(self.refunds))?;
        writeln!(f, "{:<14} {:>14}", "net revenue", Money(self.net_revenue()))?;
        if let (Some(a), Some(b)) = (self.first_event, self.last_event) {
            writeln!(
                f,
                "{:<14} {} .. {}",
                "date range",
                a.format("%Y-%m-%d"),
                b.format("%Y-%m-%d")
            )?;
        }
        Ok(())
    }
}

/// Heap bytes held by a [`History`], from [`History::memory`].
///
/// # Example
///
/// ```
///
/// # let history = churnwise::doc_support::history(1000, 3)?;
/// let m = history.memory();
/// assert!(m.bytes_per_order() <= 24.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryUsage {
    /// Customer ids, signups, attributes and the id index.
    pub customers: usize,
    /// Order offsets, times, amounts and ids.
    pub orders: usize,
    /// Interaction offsets, times and kinds.
    pub interactions: usize,
    /// Feedback offsets, times and values.
    pub feedback: usize,
    /// Subscription columns (per customer offsets, then
    /// [`BYTES_PER_SUBSCRIPTION`](super::BYTES_PER_SUBSCRIPTION) per
    /// subscription), interned subscription ids and plans.
    pub subscriptions: usize,
    /// Subscription event columns
    /// ([`BYTES_PER_SUBSCRIPTION_EVENT`](super::BYTES_PER_SUBSCRIPTION_EVENT)
    /// per event), notes and custom reasons.
    pub subscription_events: usize,
    order_count: usize,
    subscription_count: usize,
    subscription_event_count: usize,
}

impl MemoryUsage {
    /// The sum over all tables.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// let m = history.memory();
    /// assert!(m.total() >= m.orders);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn total(&self) -> usize {
        self.customers
            + self.orders
            + self.interactions
            + self.feedback
            + self.subscriptions
            + self.subscription_events
    }

    /// Subscription-table bytes divided by the number of subscriptions (0 without any).
    ///
    /// # Example
    ///
    /// ```
    /// # let history = churnwise::doc_support::subscribers()?;
    /// let m = history.memory();
    /// assert!(m.bytes_per_subscription() >= churnwise::records::BYTES_PER_SUBSCRIPTION as f64);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn bytes_per_subscription(&self) -> f64 {
        per(self.subscriptions, self.subscription_count)
    }

    /// Subscription-event bytes divided by the number of events (0 without any).
    ///
    /// # Example
    ///
    /// ```
    /// # let history = churnwise::doc_support::subscribers()?;
    /// let m = history.memory();
    /// assert!(m.bytes_per_subscription_event() >= churnwise::records::BYTES_PER_SUBSCRIPTION_EVENT as f64);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn bytes_per_subscription_event(&self) -> f64 {
        per(self.subscription_events, self.subscription_event_count)
    }

    /// Order-table bytes divided by the number of orders (0 without orders).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// let m = history.memory();
    /// assert_eq!(m.bytes_per_order(), m.orders as f64 / 2.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn bytes_per_order(&self) -> f64 {
        per(self.orders, self.order_count)
    }
}

fn per(bytes: usize, count: usize) -> f64 {
    if count == 0 {
        0.0
    } else {
        bytes as f64 / count as f64
    }
}

/// A customer's attributes, borrowed from a [`History`]: plan, channel,
/// region and tags, from [`History::attributes`] or
/// [`CustomerView::attributes`].
///
/// Copying it is free; every string is borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attributes<'a> {
    attrs: Option<&'a CustomerAttrs>,
}

impl<'a> Attributes<'a> {
    /// The names [`get`](Self::get) knows, in order.
    pub const NAMES: [&'static str; 3] = ["plan", "channel", "region"];

    /// Plan or tier.
    pub fn plan(&self) -> Option<&'a str> {
        self.attrs.and_then(|a| a.plan.as_deref())
    }

    /// Acquisition channel.
    pub fn channel(&self) -> Option<&'a str> {
        self.attrs.and_then(|a| a.channel.as_deref())
    }

    /// Region.
    pub fn region(&self) -> Option<&'a str> {
        self.attrs.and_then(|a| a.region.as_deref())
    }

    /// Tags, in the order given.
    pub fn tags(&self) -> impl ExactSizeIterator<Item = &'a str> + use<'a> {
        self.attrs
            .map_or(&[][..], |a| &a.tags[..])
            .iter()
            .map(|t| &**t)
    }

    /// Whether the customer carries `tag`.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags().any(|t| t == tag)
    }

    /// A single-valued attribute by name (`"plan"`, `"channel"` or
    /// `"region"`, see [`NAMES`](Self::NAMES)); `None` when the customer has
    /// no value or the name is not one of these.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        match name {
            "plan" => self.plan(),
            "channel" => self.channel(),
            "region" => self.region(),
            _ => None,
        }
    }
}

/// One customer of a [`History`] and their events, borrowed.
///
/// # Example
///
/// ```
///
/// # let history = churnwise::doc_support::history(50, 9)?;
/// for c in history.customers().take(3) {
///     let spend: f64 = c.orders().amounts().iter().sum();
///     assert!(spend.is_finite());
///     assert!(c.orders().times().all(|t| t >= c.signup()));
/// }
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CustomerView<'a> {
    pub(super) history: &'a History,
    pub(super) index: usize,
}

impl<'a> CustomerView<'a> {
    /// The signup time in microseconds since the epoch.
    pub(crate) fn signup_micros(&self) -> i64 {
        self.history.signup[self.index]
    }

    /// The customer's attributes (plan, channel, region, tags).
    pub fn attributes(&self) -> Attributes<'a> {
        Attributes {
            attrs: self.history.attrs[self.index].as_deref(),
        }
    }

    /// The dense index (`0..customer_count()`).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The id.
    pub fn id(&self) -> &'a CustomerId {
        &self.history.ids[self.index]
    }

    /// The signup time (for implicit customers: their first event).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let day = |d: u32| churnwise::doc_support::day(i64::from(d) - 1);
    /// # let history = churnwise::doc_support::two_customers()?;
    /// # let c = history.find(&CustomerId::from(1u64)).unwrap();
    /// assert_eq!(c.signup(), day(1));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn signup(&self) -> DateTime<Utc> {
        from_micros(self.history.signup[self.index])
    }

    /// Plan or tier.
    pub fn plan(&self) -> Option<&'a str> {
        self.attributes().plan()
    }

    /// Acquisition channel.
    pub fn channel(&self) -> Option<&'a str> {
        self.attributes().channel()
    }

    /// Region.
    pub fn region(&self) -> Option<&'a str> {
        self.attributes().region()
    }

    /// Tags.
    pub fn tags(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.attributes().tags()
    }

    /// The customer as a record.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let day = |d: u32| churnwise::doc_support::day(i64::from(d) - 1);
    /// # let history = churnwise::doc_support::two_customers()?;
    /// # let c = history.find(&CustomerId::from(1u64)).unwrap();
    /// let record = c.to_customer();
    /// assert_eq!(record, Customer::new(1u64, day(1)).with_plan("gold").with_tag("b2b"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn to_customer(&self) -> Customer {
        let mut c = Customer::new(self.id().clone(), self.signup());
        c.plan = self.plan().map(str::to_owned);
        c.channel = self.channel().map(str::to_owned);
        c.region = self.region().map(str::to_owned);
        c.tags = self.tags().map(str::to_owned).collect();
        c
    }

    /// The customer's orders, in time order.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// # let c = history.find(&CustomerId::from(1u64)).unwrap();
    /// assert_eq!(c.orders().amounts(), [40.0, -10.0]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn orders(&self) -> Orders<'a> {
        let t = &self.history.orders;
        let r = t.range(self.index);
        Orders {
            customer: self.id(),
            times: &t.time[r.clone()],
            amounts: &t.cols.amount[r.clone()],
            order_ids: t.cols.order_id.as_ref().map(|v| &v[r]),
        }
    }

    /// The customer's interactions, in time order.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// # let c = history.find(&CustomerId::from(1u64)).unwrap();
    /// assert_eq!(c.interactions().len(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn interactions(&self) -> Interactions<'a> {
        let t = &self.history.interactions;
        let r = t.range(self.index);
        Interactions {
            customer: self.id(),
            times: &t.time[r.clone()],
            kinds: &t.cols[r],
            campaigns: &self.history.campaigns,
        }
    }

    /// The customer's feedback, in time order.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// # let c = history.find(&CustomerId::from(1u64)).unwrap();
    /// assert_eq!(c.feedback().len(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn feedback(&self) -> FeedbackSlice<'a> {
        let t = &self.history.feedback;
        let r = t.range(self.index);
        FeedbackSlice {
            customer: self.id(),
            times: &t.time[r.clone()],
            rows: &t.cols[r],
        }
    }
}

/// A customer's orders, in time order, from [`CustomerView::orders`].
///
/// # Example
///
/// ```
///
/// # let history = churnwise::doc_support::history(50, 9)?;
/// let orders = history.customer(0).expect("non-empty").orders();
/// assert_eq!(orders.iter().count(), orders.len());
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Orders<'a> {
    customer: &'a CustomerId,
    times: &'a [i64],
    amounts: &'a [f64],
    order_ids: Option<&'a [Option<Box<str>>]>,
}

impl<'a> Orders<'a> {
    /// The order times in microseconds since the epoch, ascending.
    pub(crate) fn micros(&self) -> &'a [i64] {
        self.times
    }

    /// Number of orders.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The amounts, in time order (refunds negative).
    pub fn amounts(&self) -> &'a [f64] {
        self.amounts
    }

    /// The times, ascending.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let day = |d: u32| churnwise::doc_support::day(i64::from(d) - 1);
    /// # let history = churnwise::doc_support::two_customers()?;
    /// # let c = history.find(&CustomerId::from(1u64)).unwrap();
    /// assert_eq!(c.orders().times().collect::<Vec<_>>(), [day(3), day(5)]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn times(&self) -> impl ExactSizeIterator<Item = DateTime<Utc>> + use<'a> {
        self.times.iter().map(|&t| from_micros(t))
    }

    /// The orders as records.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// # let c = history.find(&CustomerId::from(1u64)).unwrap();
    /// assert!(c.orders().iter().any(|o| o.is_refund()));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Order> + use<'a> {
        let (customer, times, amounts, ids) =
            (self.customer, self.times, self.amounts, self.order_ids);
        (0..times.len()).map(move |i| Order {
            customer: customer.clone(),
            time: from_micros(times[i]),
            amount: amounts[i],
            order_id: ids.and_then(|ids| ids[i].as_deref().map(str::to_owned)),
        })
    }
}

/// A customer's interactions, in time order, from [`CustomerView::interactions`].
///
/// # Example
///
/// ```
/// use churnwise::records::InteractionKind;
///
/// # let history = churnwise::doc_support::history(50, 9)?;
/// let logins: usize = history
///     .customers()
///     .map(|c| c.interactions().kinds().filter(|k| *k == InteractionKind::Login).count())
///     .sum();
/// assert!(logins > 0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Interactions<'a> {
    customer: &'a CustomerId,
    times: &'a [i64],
    kinds: &'a [CompactKind],
    campaigns: &'a [Arc<str>],
}

impl<'a> Interactions<'a> {
    /// The interaction times in microseconds since the epoch, ascending.
    pub(crate) fn micros(&self) -> &'a [i64] {
        self.times
    }

    /// The interaction kinds, without their heap data, in time order.
    pub(crate) fn compact_kinds(&self) -> &'a [CompactKind] {
        self.kinds
    }

    /// Number of interactions.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The times, ascending.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let day = |d: u32| churnwise::doc_support::day(i64::from(d) - 1);
    /// # let history = churnwise::doc_support::two_customers()?;
    /// # let c = history.find(&CustomerId::from(1u64)).unwrap();
    /// assert_eq!(c.interactions().times().collect::<Vec<_>>(), [day(4)]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn times(&self) -> impl ExactSizeIterator<Item = DateTime<Utc>> + use<'a> {
        self.times.iter().map(|&t| from_micros(t))
    }

    /// The kinds, in time order.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// # let c = history.find(&CustomerId::from(1u64)).unwrap();
    /// assert_eq!(c.interactions().kinds().collect::<Vec<_>>(), [InteractionKind::Login]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn kinds(&self) -> impl ExactSizeIterator<Item = InteractionKind> + use<'a> {
        let campaigns = self.campaigns;
        self.kinds.iter().map(move |k| expand_kind(*k, campaigns))
    }

    /// The interactions as records.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let day = |d: u32| churnwise::doc_support::day(i64::from(d) - 1);
    /// # let history = churnwise::doc_support::two_customers()?;
    /// # let c = history.find(&CustomerId::from(1u64)).unwrap();
    /// let first = c.interactions().iter().next().unwrap();
    /// assert_eq!((first.time, first.kind), (day(4), InteractionKind::Login));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Interaction> + use<'a> {
        let customer = self.customer;
        self.times()
            .zip(self.kinds())
            .map(move |(time, kind)| Interaction {
                customer: customer.clone(),
                time,
                kind,
            })
    }
}

fn expand_kind(k: CompactKind, campaigns: &[Arc<str>]) -> InteractionKind {
    match k {
        CompactKind::Login => InteractionKind::Login,
        CompactKind::Visit => InteractionKind::Visit,
        CompactKind::SupportTicket(h) => InteractionKind::SupportTicket {
            first_response_hours: (h >= 0.0).then_some(h),
        },
        CompactKind::Complaint(topic) => InteractionKind::Complaint { topic },
        CompactKind::CampaignResponse(c) => InteractionKind::CampaignResponse {
            campaign: campaigns
                .get(c as usize)
                .map_or_else(String::new, |s| s.to_string()),
        },
        CompactKind::Cancellation => InteractionKind::Cancellation,
    }
}

/// A customer's feedback answers, in time order, from [`CustomerView::feedback`].
///
/// # Example
///
/// ```
///
/// # let history = churnwise::doc_support::history(200, 9)?;
/// for c in history.customers() {
///     for f in c.feedback().iter() {
///         assert!(f.scale.contains(f.satisfaction));
///     }
/// }
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FeedbackSlice<'a> {
    customer: &'a CustomerId,
    times: &'a [i64],
    rows: &'a [FeedbackRow],
}

impl<'a> FeedbackSlice<'a> {
    /// The answer times in microseconds since the epoch, ascending.
    pub(crate) fn micros(&self) -> &'a [i64] {
        self.times
    }

    /// The answers' values, in time order.
    pub(crate) fn rows(&self) -> &'a [FeedbackRow] {
        self.rows
    }

    /// Number of answers.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Satisfaction scores mapped to [0, 1] by their scales, in time order.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let history = churnwise::doc_support::two_customers()?;
    /// # let c = history.find(&CustomerId::from(1u64)).unwrap();
    /// // 4 on a 1–5 scale is 0.75.
    /// assert_eq!(c.feedback().normalized_satisfaction().collect::<Vec<_>>(), [0.75]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn normalized_satisfaction(&self) -> impl ExactSizeIterator<Item = f64> + use<'a> {
        self.rows.iter().map(|r| r.scale.normalize(r.satisfaction))
    }

    /// The answers as records.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::records::*;
    /// # let day = |d: u32| churnwise::doc_support::day(i64::from(d) - 1);
    /// # let history = churnwise::doc_support::two_customers()?;
    /// # let c = history.find(&CustomerId::from(1u64)).unwrap();
    /// let f = c.feedback().iter().next().unwrap();
    /// assert_eq!((f.satisfaction, f.time), (4.0, day(6)));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Feedback> + use<'a> {
        let (customer, times, rows) = (self.customer, self.times, self.rows);
        times.iter().zip(rows).map(move |(&t, r)| Feedback {
            customer: customer.clone(),
            time: from_micros(t),
            satisfaction: r.satisfaction,
            scale: r.scale,
            nps: r.nps,
        })
    }
}

#[cfg(test)]
mod compact_kind_tests {
    use super::*;

    #[test]
    fn codes_round_trip_with_the_data_features_read() {
        for code in 0..6 {
            let kind = CompactKind::from_code(code, 2.5).unwrap();
            assert_eq!(kind.code(), code);
        }
        assert_eq!(
            CompactKind::from_code(2, 2.5),
            Some(CompactKind::SupportTicket(2.5))
        );
        assert_eq!(CompactKind::from_code(6, 0.0), None);
    }
}
