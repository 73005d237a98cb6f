//! One customer's result in a retention campaign.

use serde::{Deserialize, Serialize};

use crate::records::CustomerId;

/// What happened to one customer in a campaign: the arm they were assigned
/// to, the intervention, and the outcomes measured afterwards.
///
/// A campaign's outcomes, one per customer, go to
/// [`CampaignEvaluator::evaluate`](super::CampaignEvaluator::evaluate). Only
/// the customer, the arm and `churned` are required; every other field is
/// optional, and each statistic is computed over the customers that have it
/// (the report gives its count).
///
/// # Fields
///
/// - `arm`: the randomized group, e.g. `"control"`, `"discount"`,
///   `"vip_call"`. One arm is named the control when evaluating.
/// - `intervention`: what the customer received (an intervention id; a
///   plain string, so any planner's ids fit). For **control** customers, set
///   it to the intervention the plan *would* have given them, if known (a
///   holdout design): per-intervention comparisons then use matching
///   controls. See [`ControlBasis`](super::ControlBasis).
/// - `segment`: any label to break the report down by (RFM segment,
///   lifecycle stage, value tier, ...).
/// - `cost`: what was spent on this customer (0 for control customers);
///   an arm's cost is the sum, and its ROI is computed from it.
/// - `revenue_before` / `revenue_after`, `satisfaction_before` /
///   `satisfaction_after`: the same measure over comparable windows before
///   and after the campaign, for before/after comparisons of the same customers.
///
/// The struct is `#[non_exhaustive]`: build it with [`new`](Self::new) and
/// the chainable setters, or assign its public fields.
///
/// # Example
///
/// ```
/// use churnwise::retention::CampaignOutcome;
///
/// let treated = CampaignOutcome::new(42u64, "discount", false)
///     .intervention("coupon_10pct")
///     .segment("at_risk")
///     .cost(5.0)
///     .repurchased(true)
///     .revenue(80.0, 95.0)
///     .satisfaction(6.0, 8.0);
/// assert_eq!(treated.arm, "discount");
/// assert_eq!(treated.revenue_after, Some(95.0));
///
/// let mut control = CampaignOutcome::new("C-000043", "control", true);
/// control.segment = Some("at_risk".into());
/// assert_eq!(control.cost, 0.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CampaignOutcome {
    /// The customer.
    pub customer: CustomerId,
    /// The arm (randomized group) the customer was assigned to.
    pub arm: String,
    /// The intervention given (for control customers: the one planned, if known).
    #[serde(default)]
    pub intervention: Option<String>,
    /// A segment label for breakdowns.
    #[serde(default)]
    pub segment: Option<String>,
    /// Whether the customer churned in the evaluation window.
    pub churned: bool,
    /// Whether the customer bought again in the evaluation window, if known.
    #[serde(default)]
    pub repurchased: Option<bool>,
    /// Revenue from the customer in a window before the campaign.
    #[serde(default)]
    pub revenue_before: Option<f64>,
    /// Revenue from the customer in the evaluation window after the campaign.
    #[serde(default)]
    pub revenue_after: Option<f64>,
    /// Satisfaction score before the campaign (any consistent scale).
    #[serde(default)]
    pub satisfaction_before: Option<f64>,
    /// Satisfaction score after the campaign, on the same scale.
    #[serde(default)]
    pub satisfaction_after: Option<f64>,
    /// What was spent on this customer; `0` for control customers. Must be finite and `>= 0`.
    #[serde(default)]
    pub cost: f64,
}

impl CampaignOutcome {
    /// An outcome with only the required fields; the others are unknown and the cost 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::CampaignOutcome;
    ///
    /// let o = CampaignOutcome::new(7u64, "control", true);
    /// assert!(o.churned && o.segment.is_none() && o.revenue_after.is_none());
    /// ```
    pub fn new(customer: impl Into<CustomerId>, arm: impl Into<String>, churned: bool) -> Self {
        CampaignOutcome {
            customer: customer.into(),
            arm: arm.into(),
            intervention: None,
            segment: None,
            churned,
            repurchased: None,
            revenue_before: None,
            revenue_after: None,
            satisfaction_before: None,
            satisfaction_after: None,
            cost: 0.0,
        }
    }

    /// Sets the intervention id.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::CampaignOutcome;
    ///
    /// let o = CampaignOutcome::new(1u64, "vip", false).intervention("vip_call");
    /// assert_eq!(o.intervention.as_deref(), Some("vip_call"));
    /// ```
    pub fn intervention(mut self, id: impl Into<String>) -> Self {
        self.intervention = Some(id.into());
        self
    }

    /// Sets the segment label.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::CampaignOutcome;
    ///
    /// let o = CampaignOutcome::new(1u64, "control", false).segment("new");
    /// assert_eq!(o.segment.as_deref(), Some("new"));
    /// ```
    pub fn segment(mut self, label: impl Into<String>) -> Self {
        self.segment = Some(label.into());
        self
    }

    /// Sets whether the customer bought again.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::CampaignOutcome;
    ///
    /// assert_eq!(CampaignOutcome::new(1u64, "a", false).repurchased(true).repurchased, Some(true));
    /// ```
    pub fn repurchased(mut self, repurchased: bool) -> Self {
        self.repurchased = Some(repurchased);
        self
    }

    /// Sets the revenue before and after the campaign.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::CampaignOutcome;
    ///
    /// let o = CampaignOutcome::new(1u64, "a", false).revenue(10.0, 12.5);
    /// assert_eq!((o.revenue_before, o.revenue_after), (Some(10.0), Some(12.5)));
    /// ```
    pub fn revenue(mut self, before: f64, after: f64) -> Self {
        self.revenue_before = Some(before);
        self.revenue_after = Some(after);
        self
    }

    /// Sets the revenue after the campaign only.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::CampaignOutcome;
    ///
    /// let o = CampaignOutcome::new(1u64, "a", false).revenue_after(12.5);
    /// assert_eq!((o.revenue_before, o.revenue_after), (None, Some(12.5)));
    /// ```
    pub fn revenue_after(mut self, after: f64) -> Self {
        self.revenue_after = Some(after);
        self
    }

    /// Sets the satisfaction scores before and after the campaign.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::CampaignOutcome;
    ///
    /// let o = CampaignOutcome::new(1u64, "a", false).satisfaction(3.0, 4.0);
    /// assert_eq!(o.satisfaction_after, Some(4.0));
    /// ```
    pub fn satisfaction(mut self, before: f64, after: f64) -> Self {
        self.satisfaction_before = Some(before);
        self.satisfaction_after = Some(after);
        self
    }

    /// Sets the cost spent on the customer.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::CampaignOutcome;
    ///
    /// assert_eq!(CampaignOutcome::new(1u64, "a", false).cost(2.5).cost, 2.5);
    /// ```
    pub fn cost(mut self, cost: f64) -> Self {
        self.cost = cost;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_round_trip_with_defaults_and_unknown_fields() {
        let o = CampaignOutcome::new(3u64, "discount", true)
            .segment("new")
            .revenue(1.0, 2.0);
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(serde_json::from_str::<CampaignOutcome>(&json).unwrap(), o);
        let minimal: CampaignOutcome =
            serde_json::from_str(r#"{"customer": "C-1", "arm": "control", "churned": false}"#)
                .unwrap();
        assert_eq!(minimal, CampaignOutcome::new("C-1", "control", false));
        assert!(
            serde_json::from_str::<CampaignOutcome>(
                r#"{"customer": 1, "arm": "a", "churned": false, "churnd": true}"#
            )
            .is_err()
        );
    }
}
