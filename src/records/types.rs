//! The typed input records: customers and the events they generate.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::CustomerId;
use crate::{Error, Result};

/// A customer as the CRM knows them: an id, a signup time and optional attributes.
///
/// The struct is `#[non_exhaustive]`: build it with [`Customer::new`] and the
/// `with_*` methods (or set the public fields), so new attributes can be
/// added without breaking your code.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::records::Customer;
///
/// let c = Customer::new("C-1", Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap())
///     .with_plan("gold")
///     .with_channel("web")
///     .with_region("EU")
///     .with_tag("b2b");
/// assert_eq!(c.plan.as_deref(), Some("gold"));
/// assert_eq!(c.tags, ["b2b"]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Customer {
    /// The customer's id.
    pub id: CustomerId,
    /// When the customer signed up (or first bought). Events before it are invalid.
    pub signup: DateTime<Utc>,
    /// Plan or tier ("free", "gold", ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// Acquisition channel ("web", "store", "referral", ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Region or market.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Customer {
    /// A customer with no optional attributes.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{Customer, CustomerId};
    ///
    /// let c = Customer::new(42u64, Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap());
    /// assert_eq!(c.id, CustomerId::from(42u64));
    /// assert!(c.plan.is_none() && c.tags.is_empty());
    /// ```
    pub fn new(id: impl Into<CustomerId>, signup: DateTime<Utc>) -> Self {
        Customer {
            id: id.into(),
            signup,
            plan: None,
            channel: None,
            region: None,
            tags: Vec::new(),
        }
    }

    /// Sets the plan or tier.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::Customer;
    /// let c = Customer::new("C-1", Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap()).with_plan("gold");
    /// assert_eq!(c.plan.as_deref(), Some("gold"));
    /// ```
    pub fn with_plan(mut self, plan: impl Into<String>) -> Self {
        self.plan = Some(plan.into());
        self
    }

    /// Sets the acquisition channel.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::Customer;
    /// let c = Customer::new("C-1", Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap()).with_channel("web");
    /// assert_eq!(c.channel.as_deref(), Some("web"));
    /// ```
    pub fn with_channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = Some(channel.into());
        self
    }

    /// Sets the region.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::Customer;
    /// let c = Customer::new("C-1", Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap()).with_region("EU");
    /// assert_eq!(c.region.as_deref(), Some("EU"));
    /// ```
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Adds a tag.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::Customer;
    /// let c = Customer::new("C-1", Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap())
    ///     .with_tag("b2b")
    ///     .with_tag("vip");
    /// assert_eq!(c.tags, ["b2b", "vip"]);
    /// ```
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }
}

/// One purchase. A negative amount is a refund and nets against spend.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::records::Order;
///
/// let t = Utc.with_ymd_and_hms(2024, 5, 2, 14, 30, 0).unwrap();
/// let sale = Order::new(42u64, t, 59.90).with_order_id("SO-1001");
/// let refund = Order::new(42u64, t, -19.90);
/// assert_eq!(sale.order_id.as_deref(), Some("SO-1001"));
/// assert!(refund.is_refund());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Order {
    /// The buying customer.
    pub customer: CustomerId,
    /// When the order was placed.
    pub time: DateTime<Utc>,
    /// Amount in the business's currency; negative for a refund.
    pub amount: f64,
    /// The source system's order id, if any. Two orders with the same id are duplicates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

impl Order {
    /// An order without an order id.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::Order;
    ///
    /// let o = Order::new("C-1", Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap(), 19.9);
    /// assert_eq!(o.amount, 19.9);
    /// assert!(o.order_id.is_none());
    /// ```
    pub fn new(customer: impl Into<CustomerId>, time: DateTime<Utc>, amount: f64) -> Self {
        Order {
            customer: customer.into(),
            time,
            amount,
            order_id: None,
        }
    }

    /// Sets the source system's order id.
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::Order;
    /// let o = Order::new(7u64, Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap(), 5.0).with_order_id("A-17");
    /// assert_eq!(o.order_id.as_deref(), Some("A-17"));
    /// ```
    pub fn with_order_id(mut self, order_id: impl Into<String>) -> Self {
        self.order_id = Some(order_id.into());
        self
    }

    /// Whether the order is a refund (negative amount).
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::Order;
    /// let t = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
    /// assert!(Order::new(7u64, t, -5.0).is_refund());
    /// assert!(!Order::new(7u64, t, 5.0).is_refund());
    /// ```
    pub fn is_refund(&self) -> bool {
        self.amount < 0.0
    }
}

/// What a complaint was about; drives which intervention fits (free repair after product complaints).
///
/// # Example
///
/// ```
/// use churnwise::records::ComplaintTopic;
///
/// let t: ComplaintTopic = serde_json::from_str(r#""product""#)?;
/// assert_eq!(t, ComplaintTopic::Product);
/// assert_eq!(ComplaintTopic::default(), ComplaintTopic::Other);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ComplaintTopic {
    /// Product quality or defects.
    Product,
    /// Service quality (staff, support).
    Service,
    /// Price or billing.
    Price,
    /// Delivery or logistics.
    Delivery,
    /// Anything else, or not recorded.
    #[default]
    Other,
}

/// What kind of contact an [`Interaction`] was.
///
/// Serialized with a `type` tag: `{"type":"support_ticket","first_response_hours":30.5}`.
///
/// # Example
///
/// ```
/// use churnwise::records::{ComplaintTopic, InteractionKind};
///
/// let k: InteractionKind = serde_json::from_str(r#"{"type":"complaint","topic":"product"}"#)?;
/// assert_eq!(k, InteractionKind::Complaint { topic: ComplaintTopic::Product });
/// let t = InteractionKind::SupportTicket { first_response_hours: Some(30.5) };
/// assert_eq!(serde_json::to_string(&t)?, r#"{"type":"support_ticket","first_response_hours":30.5}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum InteractionKind {
    /// A login to the app or account.
    Login,
    /// A visit to the website or a store.
    Visit,
    /// A support ticket, with the hours until the first response (`None` while unanswered).
    SupportTicket {
        /// Hours from opening to first response; must be finite and ≥ 0.
        #[serde(default)]
        first_response_hours: Option<f64>,
    },
    /// A complaint.
    Complaint {
        /// What the complaint was about.
        #[serde(default)]
        topic: ComplaintTopic,
    },
    /// A response to (participation in) a marketing campaign.
    CampaignResponse {
        /// The campaign's name or id.
        campaign: String,
    },
    /// An explicit cancellation of a contract or subscription (contractual churn).
    Cancellation,
}

/// A non-purchase contact: login, visit, support ticket, complaint, campaign response, cancellation.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::records::{Interaction, InteractionKind};
///
/// let t = Utc.with_ymd_and_hms(2024, 5, 2, 9, 0, 0).unwrap();
/// let i = Interaction::new("C-1", t, InteractionKind::SupportTicket { first_response_hours: Some(26.0) });
/// assert_eq!(i.customer.as_str(), Some("C-1"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Interaction {
    /// The customer.
    pub customer: CustomerId,
    /// When it happened (for tickets: when the ticket was opened).
    pub time: DateTime<Utc>,
    /// What it was.
    pub kind: InteractionKind,
}

impl Interaction {
    /// An interaction.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{Interaction, InteractionKind};
    ///
    /// let i = Interaction::new(7u64, Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap(), InteractionKind::Login);
    /// assert_eq!(i.kind, InteractionKind::Login);
    /// ```
    pub fn new(
        customer: impl Into<CustomerId>,
        time: DateTime<Utc>,
        kind: InteractionKind,
    ) -> Self {
        Interaction {
            customer: customer.into(),
            time,
            kind,
        }
    }
}

/// The scale a satisfaction score is stated on, e.g. 1–5 stars or 0–10.
///
/// # Example
///
/// ```
/// use churnwise::records::SatisfactionScale;
///
/// let s = SatisfactionScale::new(1.0, 5.0)?;
/// assert_eq!(s, SatisfactionScale::FIVE_POINT);
/// assert_eq!(s.normalize(4.0), 0.75);
/// assert!(!s.contains(6.0));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ScaleRepr", into = "ScaleRepr")]
pub struct SatisfactionScale {
    min: f64,
    max: f64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScaleRepr {
    min: f64,
    max: f64,
}

impl TryFrom<ScaleRepr> for SatisfactionScale {
    type Error = Error;
    fn try_from(r: ScaleRepr) -> Result<Self> {
        SatisfactionScale::new(r.min, r.max)
    }
}

impl From<SatisfactionScale> for ScaleRepr {
    fn from(s: SatisfactionScale) -> Self {
        ScaleRepr {
            min: s.min,
            max: s.max,
        }
    }
}

impl SatisfactionScale {
    /// 1 to 5 (stars, CSAT).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::SatisfactionScale;
    ///
    /// let s = SatisfactionScale::FIVE_POINT;
    /// assert_eq!((s.min(), s.max()), (1.0, 5.0));
    /// ```
    pub const FIVE_POINT: SatisfactionScale = SatisfactionScale { min: 1.0, max: 5.0 };
    /// 0 to 10.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::SatisfactionScale;
    ///
    /// assert_eq!(SatisfactionScale::TEN_POINT.normalize(7.0), 0.7);
    /// ```
    pub const TEN_POINT: SatisfactionScale = SatisfactionScale {
        min: 0.0,
        max: 10.0,
    };

    /// A scale from `min` to `max` inclusive.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) named `scale`
    /// unless both bounds are finite and `min < max`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::SatisfactionScale;
    ///
    /// assert_eq!(SatisfactionScale::new(0.0, 10.0)?, SatisfactionScale::TEN_POINT);
    /// assert!(SatisfactionScale::new(5.0, 1.0).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(min: f64, max: f64) -> Result<Self> {
        if !(min.is_finite() && max.is_finite() && min < max) {
            return Err(Error::invalid_parameter(
                "scale",
                format!("min must be below max, got {min} and {max}"),
            ));
        }
        Ok(SatisfactionScale { min, max })
    }

    /// The lowest score.
    pub fn min(&self) -> f64 {
        self.min
    }

    /// The highest score.
    pub fn max(&self) -> f64 {
        self.max
    }

    /// Whether `score` is finite and on the scale.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::SatisfactionScale;
    ///
    /// let s = SatisfactionScale::FIVE_POINT;
    /// assert!(s.contains(3.5));
    /// assert!(!s.contains(0.0) && !s.contains(f64::NAN));
    /// ```
    pub fn contains(&self, score: f64) -> bool {
        score >= self.min && score <= self.max
    }

    /// Maps `score` to [0, 1] (0 = scale minimum), so scores on different scales compare.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::SatisfactionScale;
    ///
    /// assert_eq!(SatisfactionScale::FIVE_POINT.normalize(1.0), 0.0);
    /// assert_eq!(SatisfactionScale::FIVE_POINT.normalize(5.0), 1.0);
    /// ```
    pub fn normalize(&self, score: f64) -> f64 {
        (score - self.min) / (self.max - self.min)
    }
}

impl Default for SatisfactionScale {
    /// [`SatisfactionScale::FIVE_POINT`].
    fn default() -> Self {
        SatisfactionScale::FIVE_POINT
    }
}

/// A satisfaction survey answer, optionally with a Net Promoter Score (0–10).
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::records::{Feedback, SatisfactionScale};
///
/// let t = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
/// let f = Feedback::new(7u64, t, 2.0, SatisfactionScale::FIVE_POINT).with_nps(3);
/// assert_eq!(f.nps, Some(3));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Feedback {
    /// The customer.
    pub customer: CustomerId,
    /// When the answer was given.
    pub time: DateTime<Utc>,
    /// The satisfaction score, on `scale`.
    pub satisfaction: f64,
    /// The scale of `satisfaction`. Defaults to 1–5 when absent in serialized data.
    #[serde(default)]
    pub scale: SatisfactionScale,
    /// Net Promoter Score answer, 0–10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps: Option<u8>,
}

impl Feedback {
    /// A survey answer without NPS.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::records::{Feedback, SatisfactionScale};
    ///
    /// let f = Feedback::new(7u64, Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap(), 4.0, SatisfactionScale::FIVE_POINT);
    /// assert_eq!(f.satisfaction, 4.0);
    /// assert_eq!(f.nps, None);
    /// ```
    pub fn new(
        customer: impl Into<CustomerId>,
        time: DateTime<Utc>,
        satisfaction: f64,
        scale: SatisfactionScale,
    ) -> Self {
        Feedback {
            customer: customer.into(),
            time,
            satisfaction,
            scale,
            nps: None,
        }
    }

    /// Sets the NPS answer (valid: 0–10).
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::records::{Feedback, SatisfactionScale};
    /// let t = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
    /// let f = Feedback::new(7u64, t, 4.0, SatisfactionScale::FIVE_POINT).with_nps(9);
    /// assert_eq!(f.nps, Some(9));
    /// ```
    pub fn with_nps(mut self, nps: u8) -> Self {
        self.nps = Some(nps);
        self
    }
}
