//! [`PopulationConfig`]: every knob of the synthetic population, with defaults and validation.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The settings of a synthetic population: size, time span, seed, and the
/// parameters of the generator's mechanics (see the [module docs](crate::synth)).
///
/// Start from [`PopulationConfig::default`], change what you need with the
/// consuming setters, and call [`generate`](PopulationConfig::generate). Each
/// setter's doc states its default and valid range; [`validate`](PopulationConfig::validate)
/// enforces them, and both `generate` and `generate_into` call it first. The
/// struct is serde data (`#[serde(default, deny_unknown_fields)]`), so a file
/// lists only what it changes and a misspelt key fails loudly.
///
/// # Example
///
/// ```
/// use churnwise::synth::PopulationConfig;
///
/// let config = PopulationConfig::default()
///     .customers(300)
///     .seed(7)
///     .price_sensitive_share(0.5)
///     .dirty_fraction(0.01);
/// config.validate()?;
/// let pop = config.generate()?;
/// assert_eq!(pop.customers().len(), 300);
/// assert_eq!(pop.config(), &config);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PopulationConfig {
    pub(crate) customers: usize,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) seed: u64,
    pub(crate) signup_fraction: f64,
    pub(crate) price_sensitive_share: f64,
    pub(crate) service_sensitive_share: f64,
    pub(crate) purchase_shape: f64,
    pub(crate) purchase_alpha_days: f64,
    pub(crate) dropout_a: f64,
    pub(crate) dropout_b: f64,
    pub(crate) engagement_per_purchase: f64,
    pub(crate) baseline_hazard_per_day: f64,
    pub(crate) complaint_hazard: f64,
    pub(crate) slow_reply_hazard: f64,
    pub(crate) low_satisfaction_hazard: f64,
    pub(crate) tenure_hazard_per_year: f64,
    pub(crate) engagement_hazard_elasticity: f64,
    pub(crate) renewal_hazard: f64,
    pub(crate) silent_hazard: f64,
    pub(crate) dirty_fraction: f64,
}

impl Default for PopulationConfig {
    /// 50 000 customers over 2023–2024, seed 42, and the documented default
    /// mechanics (see each setter).
    fn default() -> Self {
        PopulationConfig {
            customers: 50_000,
            start: Utc
                .timestamp_opt(1_672_531_200, 0)
                .single()
                .unwrap_or_default(),
            end: Utc
                .timestamp_opt(1_735_689_600, 0)
                .single()
                .unwrap_or_default(),
            seed: 42,
            signup_fraction: 0.75,
            price_sensitive_share: 0.35,
            service_sensitive_share: 0.35,
            purchase_shape: 1.5,
            purchase_alpha_days: 52.0,
            dropout_a: 2.0,
            dropout_b: 80.0,
            engagement_per_purchase: 2.5,
            baseline_hazard_per_day: 1.0 / 4500.0,
            complaint_hazard: 4.0,
            slow_reply_hazard: 2.5,
            low_satisfaction_hazard: 3.0,
            tenure_hazard_per_year: 0.75,
            engagement_hazard_elasticity: 0.5,
            renewal_hazard: 3.0,
            silent_hazard: 5.0,
            dirty_fraction: 0.0,
        }
    }
}

impl PopulationConfig {
    /// Same as [`PopulationConfig::default`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// assert_eq!(PopulationConfig::new(), PopulationConfig::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of customers, with ids `1..=customers`. Defaults to `50_000`. Must be ≥ 1.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(20).generate()?;
    /// assert_eq!(pop.customers().len(), 20);
    /// assert!(PopulationConfig::default().customers(0).validate().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn customers(mut self, customers: usize) -> Self {
        self.customers = customers;
        self
    }

    /// Start of the simulated span (inclusive). Defaults to 2023-01-01T00:00:00Z.
    /// Must be at least one day before `end`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let config = PopulationConfig::default().start(start);
    /// assert_eq!(config.start_time(), start);
    /// assert!(config.validate().is_ok());
    /// ```
    pub fn start(mut self, start: DateTime<Utc>) -> Self {
        self.start = start;
        self
    }

    /// End of the simulated span (exclusive): no event happens at or after it, and
    /// customers still active then have no churn time. Defaults to
    /// 2025-01-01T00:00:00Z. Must be at least one day after `start`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let end = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// assert_eq!(PopulationConfig::default().end(end).end_time(), end);
    /// // The end must come at least a day after the start.
    /// assert!(PopulationConfig::default().end(end).start(end).validate().is_err());
    /// ```
    pub fn end(mut self, end: DateTime<Utc>) -> Self {
        self.end = end;
        self
    }

    /// The seed. Defaults to `42`. Any value; the same seed and configuration give
    /// bit-identical output whatever the number of threads.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let a = PopulationConfig::default().customers(20).seed(7).generate()?;
    /// let b = PopulationConfig::default().customers(20).seed(7).generate()?;
    /// assert_eq!(a.orders(), b.orders());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Signups are uniform over the first `signup_fraction` of the span.
    /// Defaults to `0.75`. Must be in (0, 1].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// assert!(PopulationConfig::default().signup_fraction(0.5).validate().is_ok());
    /// assert!(PopulationConfig::default().signup_fraction(0.0).validate().is_err());
    /// ```
    pub fn signup_fraction(mut self, signup_fraction: f64) -> Self {
        self.signup_fraction = signup_fraction;
        self
    }

    /// Share of [`LatentType::PriceSensitive`](super::LatentType::PriceSensitive)
    /// customers. Defaults to `0.35`. Must be in [0, 1], and together with
    /// `service_sensitive_share` at most 1 (the rest are indifferent).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::{LatentType, PopulationConfig};
    ///
    /// let pop = PopulationConfig::default()
    ///     .customers(20)
    ///     .price_sensitive_share(1.0)
    ///     .service_sensitive_share(0.0)
    ///     .generate()?;
    /// assert!(pop.truth().iter().all(|t| t.latent_type() == LatentType::PriceSensitive));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn price_sensitive_share(mut self, share: f64) -> Self {
        self.price_sensitive_share = share;
        self
    }

    /// Share of [`LatentType::ServiceSensitive`](super::LatentType::ServiceSensitive)
    /// customers. Defaults to `0.35`. Must be in [0, 1], and together with
    /// `price_sensitive_share` at most 1.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let config = PopulationConfig::default().service_sensitive_share(0.5);
    /// assert!(config.validate().is_ok());
    /// // Together with the price-sensitive share it may not exceed 1.
    /// assert!(config.price_sensitive_share(0.6).validate().is_err());
    /// ```
    pub fn service_sensitive_share(mut self, share: f64) -> Self {
        self.service_sensitive_share = share;
        self
    }

    /// Shape `r` of the Gamma distribution of purchase rates λ (purchases per day).
    /// Defaults to `1.5` (coefficient of variation 0.82). Must be finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// assert_eq!(PopulationConfig::default().purchase_shape(1.5), PopulationConfig::default());
    /// assert!(PopulationConfig::default().purchase_shape(0.0).validate().is_err());
    /// ```
    pub fn purchase_shape(mut self, r: f64) -> Self {
        self.purchase_shape = r;
        self
    }

    /// Rate `α` (in days) of the Gamma distribution of purchase rates, so the mean
    /// rate is `r / α` per day. Defaults to `52.0`: with `r = 1.5` the mean customer
    /// buys every 35 days. Must be finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// assert_eq!(PopulationConfig::default().purchase_alpha_days(52.0), PopulationConfig::default());
    /// assert!(PopulationConfig::default().purchase_alpha_days(f64::NAN).validate().is_err());
    /// ```
    pub fn purchase_alpha_days(mut self, alpha: f64) -> Self {
        self.purchase_alpha_days = alpha;
        self
    }

    /// Parameter `a` of the Beta distribution of the per-purchase dropout
    /// probability p. Defaults to `2.0`. Must be finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// assert_eq!(PopulationConfig::default().dropout_a(2.0), PopulationConfig::default());
    /// assert!(PopulationConfig::default().dropout_a(0.0).validate().is_err());
    /// ```
    pub fn dropout_a(mut self, a: f64) -> Self {
        self.dropout_a = a;
        self
    }

    /// Parameter `b` of the Beta distribution of the per-purchase dropout
    /// probability p. Defaults to `80.0` (mean p = a / (a + b) ≈ 0.024).
    /// Must be finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// assert_eq!(PopulationConfig::default().dropout_b(80.0), PopulationConfig::default());
    /// assert!(PopulationConfig::default().dropout_b(-1.0).validate().is_err());
    /// ```
    pub fn dropout_b(mut self, b: f64) -> Self {
        self.dropout_b = b;
        self
    }

    /// Logins and visits per purchase for a customer with the mean purchase rate
    /// and no risk. Defaults to `2.5`.
    /// Must be finite and ≥ 0 (0 turns engagement events off).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// // 0 is allowed: it turns logins and visits off.
    /// assert!(PopulationConfig::default().engagement_per_purchase(0.0).validate().is_ok());
    /// assert!(PopulationConfig::default().engagement_per_purchase(-0.5).validate().is_err());
    /// ```
    pub fn engagement_per_purchase(mut self, ratio: f64) -> Self {
        self.engagement_per_purchase = ratio;
        self
    }

    /// Baseline churn hazard per day, before multipliers. Defaults to `1/4500`.
    /// Must be finite and ≥ 0 (0 leaves only BG/NBD dropout).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// assert_eq!(PopulationConfig::default().baseline_hazard_per_day(1.0 / 4500.0), PopulationConfig::default());
    /// assert!(PopulationConfig::default().baseline_hazard_per_day(0.0).validate().is_ok());
    /// assert!(PopulationConfig::default().baseline_hazard_per_day(f64::INFINITY).validate().is_err());
    /// ```
    pub fn baseline_hazard_per_day(mut self, hazard: f64) -> Self {
        self.baseline_hazard_per_day = hazard;
        self
    }

    /// Hazard multiplier per complaint in the last 60 days (at most 3 count).
    /// Defaults to `4.0`. Must be finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// assert_eq!(PopulationConfig::default().complaint_hazard(4.0), PopulationConfig::default());
    /// assert!(PopulationConfig::default().complaint_hazard(0.0).validate().is_err());
    /// ```
    pub fn complaint_hazard(mut self, multiplier: f64) -> Self {
        self.complaint_hazard = multiplier;
        self
    }

    /// Hazard multiplier per support reply slower than 24 h in the last 60 days
    /// (at most 3 count), raised to the power 2 for service-sensitive customers and
    /// 0.5 for indifferent ones. Defaults to `2.5`. Must be finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// assert_eq!(PopulationConfig::default().slow_reply_hazard(2.5), PopulationConfig::default());
    /// assert!(PopulationConfig::default().slow_reply_hazard(1.0).validate().is_ok());
    /// ```
    pub fn slow_reply_hazard(mut self, multiplier: f64) -> Self {
        self.slow_reply_hazard = multiplier;
        self
    }

    /// Hazard multiplier while the last satisfaction answer is 1 or 2 (of 5).
    /// Defaults to `3.0`. Must be finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// assert_eq!(PopulationConfig::default().low_satisfaction_hazard(3.0), PopulationConfig::default());
    /// assert!(PopulationConfig::default().low_satisfaction_hazard(-3.0).validate().is_err());
    /// ```
    pub fn low_satisfaction_hazard(mut self, multiplier: f64) -> Self {
        self.low_satisfaction_hazard = multiplier;
        self
    }

    /// Hazard multiplier per year of tenure (capped at 3 years, updated every 30
    /// days). Defaults to `0.75`. Must be finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// assert_eq!(PopulationConfig::default().tenure_hazard_per_year(0.75), PopulationConfig::default());
    /// assert!(PopulationConfig::default().tenure_hazard_per_year(0.0).validate().is_err());
    /// ```
    pub fn tenure_hazard_per_year(mut self, multiplier: f64) -> Self {
        self.tenure_hazard_per_year = multiplier;
        self
    }

    /// Elasticity `β` of the hazard to the customer's relative engagement rate `e`:
    /// the hazard is multiplied by `e^(-β)` (`e` clamped to [0.25, 4]). Defaults to
    /// `0.5`. Must be finite and ≥ 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// assert_eq!(PopulationConfig::default().engagement_hazard_elasticity(0.5), PopulationConfig::default());
    /// assert!(PopulationConfig::default().engagement_hazard_elasticity(0.0).validate().is_ok());
    /// assert!(PopulationConfig::default().engagement_hazard_elasticity(-1.0).validate().is_err());
    /// ```
    pub fn engagement_hazard_elasticity(mut self, beta: f64) -> Self {
        self.engagement_hazard_elasticity = beta;
        self
    }

    /// Hazard multiplier for premium subscribers in the 30 days before each
    /// yearly renewal (signup anniversary). Defaults to `3.0`. Must be finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// assert_eq!(PopulationConfig::default().renewal_hazard(3.0), PopulationConfig::default());
    /// assert!(PopulationConfig::default().renewal_hazard(0.0).validate().is_err());
    /// ```
    pub fn renewal_hazard(mut self, multiplier: f64) -> Self {
        self.renewal_hazard = multiplier;
        self
    }

    /// Hazard multiplier during a silent spell: spells start at rate 1/400 per
    /// day, end at rate 1/90 per day, and cut logins, visits and campaign
    /// responses to a quarter. Defaults to `5.0`. Must be finite and > 0
    /// (1 keeps the spells but removes their effect on churn).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// assert_eq!(PopulationConfig::default().silent_hazard(5.0), PopulationConfig::default());
    /// // 1 keeps the silent spells but removes their effect on churn.
    /// assert!(PopulationConfig::default().silent_hazard(1.0).validate().is_ok());
    /// ```
    pub fn silent_hazard(mut self, multiplier: f64) -> Self {
        self.silent_hazard = multiplier;
        self
    }

    /// Expected number of injected invalid records per valid record (duplicate
    /// orders, NaN or absurd amounts, unknown customers, events before signup,
    /// satisfaction off the scale), counted in [`Population::injected`](super::Population::injected).
    /// Defaults to `0.0` (clean data). Must be in [0, 1].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let clean = PopulationConfig::default().customers(20).dirty_fraction(0.0).generate()?;
    /// assert_eq!(clean.injected().total(), 0);
    /// assert!(PopulationConfig::default().dirty_fraction(1.5).validate().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn dirty_fraction(mut self, fraction: f64) -> Self {
        self.dirty_fraction = fraction;
        self
    }

    /// Checks every parameter against its documented range.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) naming the
    /// first offending parameter (as spelled by its setter) and its value.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::{ErrorKind, synth::PopulationConfig};
    ///
    /// let err = PopulationConfig::default().dropout_a(-1.0).validate().unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "dropout_a", .. }));
    /// assert_eq!(err.to_string(), "invalid parameter `dropout_a`: must be finite and > 0, got -1");
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.customers == 0 {
            return Err(Error::invalid_parameter(
                "customers",
                "must be at least 1, got 0",
            ));
        }
        if self.end - self.start < TimeDelta::days(1) {
            return Err(Error::invalid_parameter(
                "end",
                format!(
                    "must be at least one day after start {}, got {}",
                    self.start, self.end
                ),
            ));
        }
        unit_interval("signup_fraction", self.signup_fraction, false)?;
        unit_interval("price_sensitive_share", self.price_sensitive_share, true)?;
        unit_interval(
            "service_sensitive_share",
            self.service_sensitive_share,
            true,
        )?;
        if self.price_sensitive_share + self.service_sensitive_share > 1.0 {
            return Err(Error::invalid_parameter(
                "service_sensitive_share",
                format!(
                    "price_sensitive_share + service_sensitive_share must be <= 1, got {} + {}",
                    self.price_sensitive_share, self.service_sensitive_share
                ),
            ));
        }
        positive("purchase_shape", self.purchase_shape)?;
        positive("purchase_alpha_days", self.purchase_alpha_days)?;
        positive("dropout_a", self.dropout_a)?;
        positive("dropout_b", self.dropout_b)?;
        non_negative("engagement_per_purchase", self.engagement_per_purchase)?;
        non_negative("baseline_hazard_per_day", self.baseline_hazard_per_day)?;
        positive("complaint_hazard", self.complaint_hazard)?;
        positive("slow_reply_hazard", self.slow_reply_hazard)?;
        positive("low_satisfaction_hazard", self.low_satisfaction_hazard)?;
        positive("tenure_hazard_per_year", self.tenure_hazard_per_year)?;
        non_negative(
            "engagement_hazard_elasticity",
            self.engagement_hazard_elasticity,
        )?;
        positive("renewal_hazard", self.renewal_hazard)?;
        positive("silent_hazard", self.silent_hazard)?;
        unit_interval("dirty_fraction", self.dirty_fraction, true)?;
        Ok(())
    }
}

/// Getters, named like the setters. They live in a separate block so the
/// setters read as the builder.
impl PopulationConfig {
    /// Number of customers.
    pub fn customer_count(&self) -> usize {
        self.customers
    }

    /// Start of the simulated span (inclusive).
    pub fn start_time(&self) -> DateTime<Utc> {
        self.start
    }

    /// End of the simulated span (exclusive).
    pub fn end_time(&self) -> DateTime<Utc> {
        self.end
    }
}

fn positive(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            name,
            format!("must be finite and > 0, got {v}"),
        ))
    }
}

fn non_negative(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            name,
            format!("must be finite and >= 0, got {v}"),
        ))
    }
}

/// `[0, 1]`, or `(0, 1]` when `allow_zero` is false.
fn unit_interval(name: &'static str, v: f64, allow_zero: bool) -> Result<()> {
    let ok = if allow_zero {
        (0.0..=1.0).contains(&v)
    } else {
        v > 0.0 && v <= 1.0
    };
    if ok {
        Ok(())
    } else {
        let range = if allow_zero { "[0, 1]" } else { "(0, 1]" };
        Err(Error::invalid_parameter(
            name,
            format!("must be in {range}, got {v}"),
        ))
    }
}
