//! The ground truth behind a generated population.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::records::CustomerId;

/// A customer's hidden motivation, which decides what they complain about, how
/// much slow support hurts, how they answer campaigns, and which intervention works.
///
/// # Example
///
/// ```
/// use churnwise::synth::{LatentType, PopulationConfig};
///
/// let pop = PopulationConfig::default().customers(400).generate()?;
/// let price = pop.truth().iter().filter(|t| t.latent_type() == LatentType::PriceSensitive).count();
/// assert!(price > 0 && price < 400);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LatentType {
    /// Complains mostly about price, answers campaigns most, responds to discounts.
    PriceSensitive,
    /// Complains mostly about service, is hurt most by slow replies, responds to VIP service.
    ServiceSensitive,
    /// Neither: product and delivery complaints, weak responses to targeted offers.
    Indifferent,
}

impl LatentType {
    /// The types in the order of the configuration's mix.
    pub(crate) const ALL: [LatentType; 3] = [
        LatentType::PriceSensitive,
        LatentType::ServiceSensitive,
        LatentType::Indifferent,
    ];
}

/// Which of the two competing churn mechanisms ended a customer's life.
///
/// # Example
///
/// ```
/// use churnwise::synth::{ChurnCause, PopulationConfig};
///
/// let pop = PopulationConfig::default().customers(400).generate()?;
/// let dropouts = pop.truth().iter().filter(|t| t.churn_cause() == Some(ChurnCause::Dropout)).count();
/// assert!(dropouts > 0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChurnCause {
    /// BG/NBD-style silent dropout right after a repeat purchase.
    Dropout,
    /// The continuous hazard (complaints, slow replies, low satisfaction, ...).
    Hazard,
}

/// The true effect of each intervention on a customer: the relative reduction
/// of their churn hazard (0.4 = hazard × 0.6) if they received it.
///
/// These are the generator's documented mechanics (see the
/// [module docs](crate::synth)), for scoring targeting policies against the
/// truth; [`generate`](super::PopulationConfig::generate) applies no
/// intervention, and [`simulate_campaign`](super::PopulationConfig::simulate_campaign)
/// applies them as [`Treatment`](super::Treatment)s from an as-of time.
///
/// The hazard is the continuous churn hazard of the module docs; the BG/NBD
/// dropout after a purchase is not reduced by any intervention, so the
/// reduction of a customer's churn *probability* is smaller than the effect.
///
/// # Example
///
/// ```
/// use churnwise::synth::{LatentType, PopulationConfig};
///
/// let pop = PopulationConfig::default().customers(200).generate()?;
/// for t in pop.truth() {
///     if t.latent_type() == LatentType::PriceSensitive {
///         assert_eq!(t.responses().discount(), 0.4);
///     }
/// }
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InterventionResponses {
    pub(crate) discount: f64,
    pub(crate) vip_service: f64,
    pub(crate) free_repair: f64,
    pub(crate) reactivation: f64,
    pub(crate) onboarding: f64,
}

impl InterventionResponses {
    /// Limited-time discount or coupon: 0.40 for price-sensitive, 0.05 for
    /// service-sensitive, 0.10 for indifferent customers.
    pub fn discount(&self) -> f64 {
        self.discount
    }

    /// VIP or personalised service: 0.40 for service-sensitive, 0.05 for
    /// price-sensitive, 0.10 for indifferent customers.
    pub fn vip_service(&self) -> f64 {
        self.vip_service
    }

    /// Free inspection or repair: 0.45 for customers with at least one product
    /// complaint before churn or the end, else 0.
    pub fn free_repair(&self) -> f64 {
        self.free_repair
    }

    /// Reactivation push or call-back: 0.25 for customers whose engagement rate
    /// is below the average customer's (relative engagement < 1), else 0.05.
    pub fn reactivation(&self) -> f64 {
        self.reactivation
    }

    /// Onboarding follow-up and repeat-purchase incentive: 0.30 for slow buyers
    /// (purchase rate below half the mean rate `r / α`), else 0.05.
    pub fn onboarding(&self) -> f64 {
        self.onboarding
    }
}

/// What the generator knows about one customer and the data does not show.
///
/// # Example
///
/// ```
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(300).generate()?;
/// let churned = pop.truth().iter().filter(|t| t.is_churned()).count();
/// assert!(churned > 0 && churned < 300);
/// let first = &pop.truth()[0];
/// assert_eq!(first.id().as_u64(), Some(1));
/// assert!(first.purchase_rate_per_day() > 0.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerTruth {
    pub(crate) id: CustomerId,
    pub(crate) latent_type: LatentType,
    pub(crate) purchase_rate_per_day: f64,
    pub(crate) dropout_probability: f64,
    pub(crate) service_response_hours: f64,
    pub(crate) churn_time: Option<DateTime<Utc>>,
    pub(crate) churn_cause: Option<ChurnCause>,
    pub(crate) responses: InterventionResponses,
}

impl CustomerTruth {
    /// The customer's id (`1..=customers`).
    pub fn id(&self) -> &CustomerId {
        &self.id
    }

    /// The customer's latent behaviour type.
    pub fn latent_type(&self) -> LatentType {
        self.latent_type
    }

    /// The customer's purchase rate λ (repeat purchases per day while alive),
    /// drawn from Gamma(r, α).
    pub fn purchase_rate_per_day(&self) -> f64 {
        self.purchase_rate_per_day
    }

    /// The probability p of dropping out right after each repeat purchase,
    /// drawn from Beta(a, b).
    pub fn dropout_probability(&self) -> f64 {
        self.dropout_probability
    }

    /// The median hours to a first support response this customer gets (their
    /// service quality); individual tickets vary around it.
    pub fn service_response_hours(&self) -> f64 {
        self.service_response_hours
    }

    /// When the customer churned, or `None` if still active at the end of the span.
    pub fn churn_time(&self) -> Option<DateTime<Utc>> {
        self.churn_time
    }

    /// Which mechanism caused the churn, or `None` if still active.
    pub fn churn_cause(&self) -> Option<ChurnCause> {
        self.churn_cause
    }

    /// Whether the customer churned before the end of the span.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(50).generate()?;
    /// let t = &pop.truth()[0];
    /// assert_eq!(t.is_churned(), t.churn_time().is_some());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn is_churned(&self) -> bool {
        self.churn_time.is_some()
    }

    /// The true response to each intervention: the relative reduction of the
    /// continuous churn hazard (BG/NBD dropout is never reduced), usable as a
    /// [`Treatment`](super::Treatment) effect in
    /// [`simulate_campaign`](super::PopulationConfig::simulate_campaign).
    pub fn responses(&self) -> &InterventionResponses {
        &self.responses
    }
}

/// How many invalid records of each kind were injected (see
/// [`PopulationConfig::dirty_fraction`](super::PopulationConfig::dirty_fraction)).
///
/// # Example
///
/// ```
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(300).dirty_fraction(0.05).generate()?;
/// let inj = pop.injected();
/// assert!(inj.total() > 0);
/// assert_eq!(
///     inj.total(),
///     inj.duplicate_orders() + inj.invalid_amounts() + inj.unknown_customers()
///         + inj.before_signup() + inj.satisfaction_out_of_scale()
/// );
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectedCounts {
    pub(crate) duplicate_orders: u64,
    pub(crate) invalid_amounts: u64,
    pub(crate) unknown_customers: u64,
    pub(crate) before_signup: u64,
    pub(crate) satisfaction_out_of_scale: u64,
}

impl InjectedCounts {
    /// Exact copies of a valid order of the same customer.
    pub fn duplicate_orders(&self) -> u64 {
        self.duplicate_orders
    }

    /// Orders whose amount is NaN, ±infinity or ±10¹².
    pub fn invalid_amounts(&self) -> u64 {
        self.invalid_amounts
    }

    /// Orders or logins for ids above `customers` (no such customer).
    pub fn unknown_customers(&self) -> u64 {
        self.unknown_customers
    }

    /// Orders or logins 1–60 days before the customer's signup.
    pub fn before_signup(&self) -> u64 {
        self.before_signup
    }

    /// Feedback with a satisfaction of -1, 0, 6, 7 or 10 on the 1–5 scale.
    pub fn satisfaction_out_of_scale(&self) -> u64 {
        self.satisfaction_out_of_scale
    }

    /// All injected records.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(50).generate()?;
    /// assert_eq!(pop.injected().total(), 0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn total(&self) -> u64 {
        self.duplicate_orders
            + self.invalid_amounts
            + self.unknown_customers
            + self.before_signup
            + self.satisfaction_out_of_scale
    }

    pub(crate) fn add(&mut self, other: &InjectedCounts) {
        self.duplicate_orders += other.duplicate_orders;
        self.invalid_amounts += other.invalid_amounts;
        self.unknown_customers += other.unknown_customers;
        self.before_signup += other.before_signup;
        self.satisfaction_out_of_scale += other.satisfaction_out_of_scale;
    }
}
