//! Why customers say they left: shares of churn reasons with Wilson
//! intervals, overall, by segment and by month.
//!
//! The input is one [`ChurnEvent`] per churned customer: who, when, the
//! reasons recorded (none, one, or several) and an optional segment. The
//! reasons can come from anywhere: an exit survey, a cancellation form, a
//! CRM field, or the complaints the customer raised before leaving, which
//! [`ComplaintReasons`] reads from a [`History`]. [`ReasonShares`] then
//! counts them into a [`ReasonReport`]; customers without a recorded
//! reason are counted as `no reason recorded`, never dropped.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use churnwise::analysis::reasons::{ChurnEvent, ReasonShares};
//!
//! let t = |m| Utc.with_ymd_and_hms(2024, m, 15, 0, 0, 0).unwrap();
//! let events = [
//!     ChurnEvent::new(1u64, t(3)).with_reason("price").with_segment("basic"),
//!     ChurnEvent::new(2u64, t(3)).with_reason("product quality").with_segment("premium"),
//!     ChurnEvent::new(3u64, t(4)).with_reason("price").with_segment("basic"),
//!     ChurnEvent::new(4u64, t(4)).with_segment("basic"), // no reason given
//! ];
//! let report = ReasonShares::new().report(&events)?;
//! let price = &report.overall()[0];
//! assert_eq!((price.reason(), price.count(), price.share()), ("price", 2, 0.5));
//! assert_eq!(report.overall().last().unwrap().reason(), "no reason recorded");
//! assert_eq!(report.count("price", "basic"), Some(2));
//! assert_eq!(report.by_month()[1].label(), "2024-04");
//! # Ok::<(), churnwise::Error>(())
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::features::Labels;
use crate::records::{ComplaintTopic, CustomerId, History, InteractionKind};
use crate::stats::{Interval, critical_value, wilson_interval};
use crate::util::FastMap;
use crate::{Error, ErrorKind, Result};

/// The label of customers without a recorded reason.
pub const NO_REASON: &str = "no reason recorded";
/// The label of customers without a segment.
pub const NO_SEGMENT: &str = "no segment";

/// One churned customer: when they left, the reasons recorded for it (none,
/// one or several) and, optionally, their segment.
///
/// A passive record: build it with [`ChurnEvent::new`] and the `with_*`
/// methods, or from the records with [`ComplaintReasons`].
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::analysis::reasons::ChurnEvent;
///
/// let e = ChurnEvent::new("C-7", Utc.with_ymd_and_hms(2024, 5, 2, 0, 0, 0).unwrap())
///     .with_reason("competitor")
///     .with_segment("gold");
/// assert_eq!(e.reasons, ["competitor"]);
/// assert_eq!(e.segment.as_deref(), Some("gold"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChurnEvent {
    /// The customer.
    pub customer: CustomerId,
    /// When they churned; the month of the trend.
    pub time: DateTime<Utc>,
    /// The reasons recorded; empty when none was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// The customer's segment, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
}

impl ChurnEvent {
    /// A churn without a recorded reason or segment.
    pub fn new(customer: impl Into<CustomerId>, time: DateTime<Utc>) -> Self {
        ChurnEvent {
            customer: customer.into(),
            time,
            reasons: Vec::new(),
            segment: None,
        }
    }

    /// Adds a reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reasons.push(reason.into());
        self
    }

    /// Sets the segment.
    pub fn with_segment(mut self, segment: impl Into<String>) -> Self {
        self.segment = Some(segment.into());
        self
    }
}

impl ChurnEvent {
    /// One event per customer who became a former subscriber in `[from, to)`:
    /// every subscription they had has ended by `to`, the last of them in the
    /// window. The time is that last end, the reason the
    /// [`end_reason`](crate::records::SubscriptionView::end_reason) of the
    /// subscription(s) ending then (none for a plain lapse), and the segment
    /// the plan in effect when it ended, so
    /// [`ReasonShares`] reports stated cancellation reasons by plan.
    /// Customers whose subscription ended while another still runs are not
    /// churned. Events are in [`History`] order.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `to` unless `from < to`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::analysis::reasons::{ChurnEvent, ReasonShares};
    /// # let history = churnwise::doc_support::subscribers()?;
    /// # let (from, to) = (churnwise::doc_support::day(0), churnwise::doc_support::day(366));
    /// let events = ChurnEvent::from_subscriptions(&history, from, to)?;
    /// let report = ReasonShares::new().report(&events)?;
    /// assert_eq!(report.churned() as usize, events.len());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_subscriptions(
        history: &History,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ChurnEvent>> {
        if from >= to {
            return Err(Error::invalid_parameter(
                "to",
                format!("must be after `from` ({from}), got {to}"),
            ));
        }
        let mut events = Vec::new();
        for customer in history.customers() {
            let subscriptions = customer.subscriptions();
            // The last end, if every subscription has ended.
            let mut last = None;
            for s in subscriptions.iter() {
                match s.ended_at() {
                    Some(end) => last = last.max(Some(end)),
                    None => {
                        last = None;
                        break;
                    }
                }
            }
            let Some(end) = last.filter(|&t| from <= t && t < to) else {
                continue;
            };
            let mut event = ChurnEvent::new(customer.id().clone(), end);
            for s in subscriptions.iter().filter(|s| s.ended_at() == Some(end)) {
                if let Some(reason) = s.end_reason() {
                    let label = reason.to_string();
                    if !event.reasons.contains(&label) {
                        event.reasons.push(label);
                    }
                }
                event
                    .segment
                    .get_or_insert_with(|| s.plan_at(end).to_owned());
            }
            events.push(event);
        }
        Ok(events)
    }
}

/// Counts churn reasons into shares with Wilson intervals: overall, by
/// segment and by calendar month (UTC).
///
/// A reason's share is the number of churned customers who gave it over the
/// number of churned customers (of the segment, of the month). A customer
/// with several reasons counts once under each, so the shares of such input
/// add up to more than 1; a customer without one counts under
/// [`NO_REASON`]. Serialized as `{"confidence": 0.95}`.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::analysis::reasons::{ChurnEvent, ReasonShares};
///
/// let t = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
/// let events: Vec<ChurnEvent> = (0..100u64)
///     .map(|i| {
///         let e = ChurnEvent::new(i, t);
///         if i < 40 { e.with_reason("product quality") } else if i < 65 { e.with_reason("competitor") } else { e }
///     })
///     .collect();
/// let report = ReasonShares::new().confidence(0.9).report(&events)?;
/// let quality = &report.overall()[0];
/// assert_eq!(quality.share(), 0.4);
/// assert!(quality.interval().lower < 0.4 && quality.interval().upper > 0.4);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReasonShares {
    confidence: f64,
}

impl Default for ReasonShares {
    fn default() -> Self {
        ReasonShares { confidence: 0.95 }
    }
}

impl ReasonShares {
    /// 95% intervals.
    pub fn new() -> Self {
        Self::default()
    }

    /// The confidence level of the Wilson intervals.
    ///
    /// Defaults to `0.95`. Must be in `(0, 1)`.
    pub fn confidence(mut self, level: f64) -> Self {
        self.confidence = level;
        self
    }

    /// The confidence level.
    pub fn confidence_value(&self) -> f64 {
        self.confidence
    }

    /// Checks the configuration; [`report`](Self::report) calls it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `confidence` unless in `(0, 1)`.
    pub fn validate(&self) -> Result<()> {
        critical_value(self.confidence).map(|_| ())
    }

    /// The report over `events`, one per churned customer.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate); [`ErrorKind::Empty`] without events;
    /// [`ErrorKind::InvalidValue`] (what `churn event`) for a customer listed
    /// twice (field `customer`), an empty reason (field `reasons`) or an
    /// empty segment (field `segment`).
    pub fn report(&self, events: &[ChurnEvent]) -> Result<ReasonReport> {
        self.validate()?;
        if events.is_empty() {
            return Err(ErrorKind::Empty("no churn events to count reasons in".into()).into());
        }
        let invalid = |index: usize, field: &'static str, reason: String| -> Error {
            ErrorKind::InvalidValue {
                what: "churn event",
                index,
                field,
                reason,
            }
            .into()
        };
        let mut seen = HashSet::with_capacity(events.len());
        // Each event's distinct reasons (NO_REASON when none), segment, month.
        let mut rows: Vec<(Vec<&str>, &str, (i32, u32))> = Vec::with_capacity(events.len());
        for (k, e) in events.iter().enumerate() {
            if !seen.insert(&e.customer) {
                return Err(invalid(
                    k,
                    "customer",
                    format!("customer {} is listed twice", e.customer),
                ));
            }
            if e.reasons.iter().any(String::is_empty) {
                return Err(invalid(
                    k,
                    "reasons",
                    format!("customer {} has an empty reason", e.customer),
                ));
            }
            if e.segment.as_deref() == Some("") {
                return Err(invalid(
                    k,
                    "segment",
                    format!("customer {} has an empty segment", e.customer),
                ));
            }
            let mut reasons: Vec<&str> = e.reasons.iter().map(String::as_str).collect();
            reasons.sort_unstable();
            reasons.dedup();
            if reasons.is_empty() {
                reasons.push(NO_REASON);
            }
            let segment = e.segment.as_deref().unwrap_or(NO_SEGMENT);
            rows.push((reasons, segment, (e.time.year(), e.time.month())));
        }
        // Reasons by count (largest first, then name), NO_REASON last.
        let mut totals: FastMap<&str, u64> = FastMap::default();
        for (reasons, _, _) in &rows {
            for r in reasons {
                *totals.entry(r).or_default() += 1;
            }
        }
        let mut order: Vec<(&str, u64)> = totals.into_iter().collect();
        order.sort_by(|a, b| {
            (a.0 == NO_REASON)
                .cmp(&(b.0 == NO_REASON))
                .then(b.1.cmp(&a.1))
                .then(a.0.cmp(b.0))
        });
        let reasons: Vec<&str> = order.iter().map(|r| r.0).collect();
        let index: FastMap<&str, usize> =
            reasons.iter().enumerate().map(|(i, r)| (*r, i)).collect();
        let group = |label: String, members: &[usize]| -> Result<GroupReasons> {
            let mut counts = vec![0u64; reasons.len()];
            for &m in members {
                for r in &rows[m].0 {
                    counts[index[r]] += 1;
                }
            }
            let n = members.len() as u64;
            let shares = reasons
                .iter()
                .zip(&counts)
                .map(|(r, &c)| self.share(r, c, n))
                .collect::<Result<_>>()?;
            Ok(GroupReasons {
                label,
                churned: n,
                shares,
            })
        };
        let all: Vec<usize> = (0..rows.len()).collect();
        let overall = group("all".into(), &all)?;
        let mut by_segment: BTreeMap<(bool, &str), Vec<usize>> = BTreeMap::new();
        let mut by_month: BTreeMap<(i32, u32), Vec<usize>> = BTreeMap::new();
        for (k, (_, segment, month)) in rows.iter().enumerate() {
            by_segment
                .entry((*segment == NO_SEGMENT, segment))
                .or_default()
                .push(k);
            by_month.entry(*month).or_default().push(k);
        }
        let segments = by_segment
            .into_iter()
            .map(|((_, s), m)| group(s.to_owned(), &m))
            .collect::<Result<_>>()?;
        let months = by_month
            .into_iter()
            .map(|((y, m), members)| group(format!("{y:04}-{m:02}"), &members))
            .collect::<Result<_>>()?;
        Ok(ReasonReport {
            confidence: self.confidence,
            churned: rows.len() as u64,
            with_several: rows.iter().filter(|r| r.0.len() > 1).count() as u64,
            overall: overall.shares,
            by_segment: segments,
            by_month: months,
        })
    }

    fn share(&self, reason: &str, count: u64, n: u64) -> Result<ReasonShare> {
        Ok(ReasonShare {
            reason: reason.to_owned(),
            count,
            share: count as f64 / n as f64,
            interval: wilson_interval(count, n, self.confidence)?,
        })
    }
}

/// One reason's count and share among a group of churned customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonShare {
    reason: String,
    count: u64,
    share: f64,
    interval: Interval,
}

impl ReasonShare {
    /// The reason ([`NO_REASON`] for customers without one).
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Churned customers who gave it.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// `count` over the group's churned customers.
    pub fn share(&self) -> f64 {
        self.share
    }

    /// The Wilson interval of the share ([`wilson_interval`]).
    pub fn interval(&self) -> Interval {
        self.interval
    }
}

/// The reasons of one segment's or one month's churned customers, in the
/// report's reason order (every reason, zeros included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupReasons {
    label: String,
    churned: u64,
    shares: Vec<ReasonShare>,
}

impl GroupReasons {
    /// The segment ([`NO_SEGMENT`] for customers without one) or the month (`YYYY-MM`).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Churned customers in the group.
    pub fn churned(&self) -> u64 {
        self.churned
    }

    /// One share per reason, in the order of [`ReasonReport::overall`].
    pub fn shares(&self) -> &[ReasonShare] {
        &self.shares
    }
}

/// Churn reasons with their shares and Wilson intervals, overall, by
/// segment (the reason × segment table) and by month (the trend), from
/// [`ReasonShares::report`].
///
/// Reasons are ordered by count, largest first, with [`NO_REASON`] last;
/// segments by name with [`NO_SEGMENT`] last; months ascending (months
/// without churned customers are not listed). Prints as three tables;
/// serializes with every field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonReport {
    confidence: f64,
    churned: u64,
    with_several: u64,
    overall: Vec<ReasonShare>,
    by_segment: Vec<GroupReasons>,
    by_month: Vec<GroupReasons>,
}

impl ReasonReport {
    /// The confidence level of the intervals.
    pub fn confidence(&self) -> f64 {
        self.confidence
    }

    /// Churned customers counted.
    pub fn churned(&self) -> u64 {
        self.churned
    }

    /// Churned customers with more than one reason (they count under each).
    pub fn with_several_reasons(&self) -> u64 {
        self.with_several
    }

    /// The reasons over all churned customers.
    pub fn overall(&self) -> &[ReasonShare] {
        &self.overall
    }

    /// The reasons by segment.
    pub fn by_segment(&self) -> &[GroupReasons] {
        &self.by_segment
    }

    /// The reasons by month of churn.
    pub fn by_month(&self) -> &[GroupReasons] {
        &self.by_month
    }

    /// Churned customers of `segment` who gave `reason`; `None` when either is unknown.
    pub fn count(&self, reason: &str, segment: &str) -> Option<u64> {
        let k = self.overall.iter().position(|r| r.reason == reason)?;
        let g = self.by_segment.iter().find(|g| g.label == segment)?;
        Some(g.shares[k].count)
    }
}

impl fmt::Display for ReasonReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = 100.0 * self.confidence;
        writeln!(
            f,
            "{:<24} {:>8} {:>7}  {pct:.0}% interval",
            "reason", "churned", "share"
        )?;
        for r in &self.overall {
            writeln!(
                f,
                "{:<24} {:>8} {:>6.1}%  {:>5.1}–{:.1}%",
                r.reason,
                r.count,
                100.0 * r.share,
                100.0 * r.interval.lower,
                100.0 * r.interval.upper
            )?;
        }
        write!(f, "({} churned customers", self.churned)?;
        if self.with_several > 0 {
            write!(
                f,
                "; {} with several reasons count under each",
                self.with_several
            )?;
        }
        writeln!(f, ")")?;
        if self.by_segment.len() > 1 {
            writeln!(f, "\nshare of each segment's churned customers")?;
            write!(f, "{:<24}", "reason")?;
            for g in &self.by_segment {
                write!(f, " {:>10}", truncate(&g.label, 10))?;
            }
            writeln!(f)?;
            for (k, r) in self.overall.iter().enumerate() {
                write!(f, "{:<24}", truncate(&r.reason, 24))?;
                for g in &self.by_segment {
                    write!(f, " {:>9.1}%", 100.0 * g.shares[k].share)?;
                }
                writeln!(f)?;
            }
            write!(f, "{:<24}", "churned")?;
            for g in &self.by_segment {
                write!(f, " {:>10}", g.churned)?;
            }
            writeln!(f)?;
        }
        if self.by_month.len() > 1 {
            writeln!(f, "\nshare of each month's churned customers")?;
            write!(f, "{:<8} {:>8}", "month", "churned")?;
            for r in &self.overall {
                write!(f, " {:>10}", truncate(&r.reason, 10))?;
            }
            writeln!(f)?;
            for g in &self.by_month {
                write!(f, "{:<8} {:>8}", g.label, g.churned)?;
                for s in &g.shares {
                    write!(f, " {:>9.1}%", 100.0 * s.share)?;
                }
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

fn truncate(s: &str, width: usize) -> &str {
    s.char_indices().nth(width).map_or(s, |(i, _)| &s[..i])
}

/// Which complaint topics become a churned customer's reasons.
///
/// Serialized as `"latest"` or `"all"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TopicChoice {
    /// The topic of the last complaint in the window: one reason each, so
    /// the shares add up to 1.
    #[default]
    Latest,
    /// Every distinct topic complained about in the window.
    All,
}

/// Reads churn reasons from a [`History`]: the topics of the complaints a
/// churned customer raised in the `window_days` up to their churn time
/// (`product`, `service`, `price`, `delivery`, `other`), as
/// [`ChurnEvent`]s for [`ReasonShares`].
///
/// The churn times come from any source
/// ([`events`](Self::events)), from churn labels at an as-of time
/// ([`from_labels`](Self::from_labels)), or from the cancellations recorded
/// in the history ([`from_cancellations`](Self::from_cancellations)). A
/// customer attribute (`plan`, `channel` or `region`) can become the
/// segment. Serialized as `{"window_days": 90, "topics": "latest",
/// "segment_attribute": null}`.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::analysis::reasons::{ComplaintReasons, ReasonShares};
///
/// # let history = churnwise::doc_support::history(3_000, 5)?;
/// let from = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
/// let to = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
/// let events = ComplaintReasons::new()
///     .window_days(60)
///     .segment_attribute("region")
///     .from_cancellations(&history, from, to)?;
/// let report = ReasonShares::new().report(&events)?;
/// assert_eq!(report.churned() as usize, events.len());
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComplaintReasons {
    window_days: u32,
    topics: TopicChoice,
    segment_attribute: Option<String>,
}

impl Default for ComplaintReasons {
    fn default() -> Self {
        ComplaintReasons {
            window_days: 90,
            topics: TopicChoice::Latest,
            segment_attribute: None,
        }
    }
}

impl ComplaintReasons {
    /// The defaults: a 90-day window, the latest topic, no segment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Complaints in the `days` up to the churn time count.
    ///
    /// Defaults to `90`. Must be in 1..=36 500.
    pub fn window_days(mut self, days: u32) -> Self {
        self.window_days = days;
        self
    }

    /// Which topics become reasons.
    ///
    /// Defaults to [`TopicChoice::Latest`].
    pub fn topics(mut self, topics: TopicChoice) -> Self {
        self.topics = topics;
        self
    }

    /// The customer attribute that becomes the segment.
    ///
    /// Defaults to none. Must be `plan`, `channel` or `region`.
    pub fn segment_attribute(mut self, name: impl Into<String>) -> Self {
        self.segment_attribute = Some(name.into());
        self
    }

    /// The window in days.
    pub fn window_days_value(&self) -> u32 {
        self.window_days
    }

    /// Which topics become reasons.
    pub fn topics_value(&self) -> TopicChoice {
        self.topics
    }

    /// The attribute that becomes the segment, if any.
    pub fn segment_attribute_value(&self) -> Option<&str> {
        self.segment_attribute.as_deref()
    }

    /// Checks the configuration; every method that reads a history calls it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `window_days` unless in
    /// 1..=36 500; [`ErrorKind::UnknownName`] (what `attribute`) for a
    /// segment attribute other than `plan`, `channel` or `region`.
    pub fn validate(&self) -> Result<()> {
        if !(1..=36_500).contains(&self.window_days) {
            return Err(Error::invalid_parameter(
                "window_days",
                format!("must be between 1 and 36500, got {}", self.window_days),
            ));
        }
        if let Some(a) = &self.segment_attribute
            && !crate::records::Attributes::NAMES.contains(&a.as_str())
        {
            return Err(ErrorKind::UnknownName {
                what: "attribute",
                name: a.clone(),
                suggestions: crate::records::Attributes::NAMES
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
            }
            .into());
        }
        Ok(())
    }

    /// One event per `(customer, churn time)`, with the complaint topics of
    /// the window up to that time.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate); [`ErrorKind::UnknownName`] (what
    /// `customer`) for a customer not in `history`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::analysis::reasons::ComplaintReasons;
    /// use churnwise::records::{ComplaintTopic, Customer, HistoryBuilder, Interaction, InteractionKind};
    ///
    /// let day = |d| Utc.with_ymd_and_hms(2024, 3, d, 0, 0, 0).unwrap();
    /// let mut b = HistoryBuilder::new();
    /// b.push_customer(Customer::new(1u64, day(1)).with_plan("basic"));
    /// let complaint = |d, topic| Interaction::new(1u64, day(d), InteractionKind::Complaint { topic });
    /// b.push_interaction(complaint(2, ComplaintTopic::Delivery));
    /// b.push_interaction(complaint(5, ComplaintTopic::Price));
    /// let (history, _) = b.build()?;
    /// let events = ComplaintReasons::new()
    ///     .segment_attribute("plan")
    ///     .events(&history, &[(1u64.into(), day(20))])?;
    /// assert_eq!(events[0].reasons, ["price"]); // the latest topic
    /// assert_eq!(events[0].segment.as_deref(), Some("basic"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn events(
        &self,
        history: &History,
        churned: &[(CustomerId, DateTime<Utc>)],
    ) -> Result<Vec<ChurnEvent>> {
        self.validate()?;
        let window = TimeDelta::days(i64::from(self.window_days));
        churned
            .iter()
            .map(|(id, time)| {
                let view = history.find(id).ok_or_else(|| -> Error {
                    ErrorKind::UnknownName {
                        what: "customer",
                        name: id.to_string(),
                        suggestions: Vec::new(),
                    }
                    .into()
                })?;
                let interactions = view.interactions();
                let mut topics: Vec<ComplaintTopic> = interactions
                    .times()
                    .zip(interactions.kinds())
                    .filter(|(t, _)| *t > *time - window && *t <= *time)
                    .filter_map(|(_, k)| match k {
                        InteractionKind::Complaint { topic } => Some(topic),
                        _ => None,
                    })
                    .collect();
                if self.topics == TopicChoice::Latest {
                    topics = topics.pop().into_iter().collect();
                }
                let mut event = ChurnEvent::new(id.clone(), *time);
                for topic in topics {
                    let name = topic_name(topic);
                    if !event.reasons.iter().any(|r| r == name) {
                        event.reasons.push(name.to_owned());
                    }
                }
                event.segment = self
                    .segment_attribute
                    .as_deref()
                    .and_then(|a| view.attributes().get(a))
                    .map(str::to_owned);
                Ok(event)
            })
            .collect()
    }

    /// The customers `labels` labels churned, with churn time `as_of` (the
    /// labels' as-of time): the complaints of the window before the
    /// prediction point.
    ///
    /// # Errors
    ///
    /// As [`events`](Self::events).
    pub fn from_labels(
        &self,
        history: &History,
        labels: &Labels,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<ChurnEvent>> {
        let churned: Vec<(CustomerId, DateTime<Utc>)> = labels
            .ids()
            .iter()
            .zip(labels.churned())
            .filter(|(_, c)| **c)
            .map(|(id, _)| (id.clone(), as_of))
            .collect();
        self.events(history, &churned)
    }

    /// Each customer's first recorded
    /// [`Cancellation`](InteractionKind::Cancellation) in `[from, to)`, as
    /// the churn time.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate).
    pub fn from_cancellations(
        &self,
        history: &History,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ChurnEvent>> {
        self.validate()?;
        let mut churned = Vec::new();
        for view in history.customers() {
            let interactions = view.interactions();
            let first = interactions
                .times()
                .zip(interactions.kinds())
                .find(|(_, k)| *k == InteractionKind::Cancellation);
            if let Some((t, _)) = first
                && t >= from
                && t < to
            {
                churned.push((view.id().clone(), t));
            }
        }
        self.events(history, &churned)
    }
}

fn topic_name(topic: ComplaintTopic) -> &'static str {
    match topic {
        ComplaintTopic::Product => "product",
        ComplaintTopic::Service => "service",
        ComplaintTopic::Price => "price",
        ComplaintTopic::Delivery => "delivery",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, m, 10, 0, 0, 0).unwrap()
    }

    #[test]
    fn counts_customers_without_reason_and_under_each_of_several() {
        let events = [
            ChurnEvent::new(1u64, t(1))
                .with_reason("price")
                .with_reason("service"),
            ChurnEvent::new(2u64, t(1))
                .with_reason("price")
                .with_reason("price"),
            ChurnEvent::new(3u64, t(2)),
        ];
        let r = ReasonShares::new().report(&events).unwrap();
        let got: Vec<(&str, u64)> = r
            .overall()
            .iter()
            .map(|s| (s.reason(), s.count()))
            .collect();
        assert_eq!(got, [("price", 2), ("service", 1), (NO_REASON, 1)]);
        assert_eq!(r.with_several_reasons(), 1);
        assert_eq!(r.by_segment()[0].label(), NO_SEGMENT);
        assert_eq!(r.by_month().len(), 2);
        assert_eq!(r.by_month()[1].shares()[2].share(), 1.0);
        // Wilson interval of 2 of 3 at 95%, by the formula.
        let z: f64 = 1.959_963_984_540_054;
        let (p, n) = (2.0 / 3.0, 3.0);
        let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
        let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
        approx::assert_abs_diff_eq!(
            r.overall()[0].interval().lower,
            centre - half,
            epsilon = 1e-12
        );
    }

    #[test]
    fn refuses_duplicates_empty_reasons_and_no_events() {
        let dup = [ChurnEvent::new(1u64, t(1)), ChurnEvent::new(1u64, t(2))];
        let err = ReasonShares::new().report(&dup).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidValue {
                index: 1,
                field: "customer",
                ..
            }
        ));
        let empty = [ChurnEvent::new(1u64, t(1)).with_reason("")];
        let err = ReasonShares::new().report(&empty).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidValue {
                field: "reasons",
                ..
            }
        ));
        assert!(matches!(
            ReasonShares::new().report(&[]).unwrap_err().kind(),
            ErrorKind::Empty(_)
        ));
        let err = ReasonShares::new().confidence(1.0).validate().unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::InvalidParameter { .. }));
        let err = ComplaintReasons::new()
            .segment_attribute("tier")
            .validate()
            .unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::UnknownName {
                what: "attribute",
                ..
            }
        ));
    }

    #[test]
    fn json_round_trip() {
        let events = [ChurnEvent::new(1u64, t(1))
            .with_reason("price")
            .with_segment("gold")];
        let r = ReasonShares::new().report(&events).unwrap();
        let back: ReasonReport = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        let e: ChurnEvent =
            serde_json::from_str(&serde_json::to_string(&events[0]).unwrap()).unwrap();
        assert_eq!(e, events[0]);
    }
}
