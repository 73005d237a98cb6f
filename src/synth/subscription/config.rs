//! [`SubscriptionPopulationConfig`]: every knob of the synthetic subscription
//! business, with defaults and validation.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The settings of a synthetic subscription business: size, time span, seed,
/// prices and the parameters of the renewal, cancellation and payment
/// mechanics (see the [module docs](crate::synth#subscription-businesses)).
///
/// Start from [`SubscriptionPopulationConfig::default`], change what you need
/// with the consuming setters and call
/// [`generate`](SubscriptionPopulationConfig::generate). Each setter states
/// its default and valid range; [`validate`](SubscriptionPopulationConfig::validate)
/// enforces them, and `generate` and the oracles call it first. The struct is
/// serde data (`#[serde(default, deny_unknown_fields)]`).
///
/// # Example
///
/// ```
/// use churnwise::synth::SubscriptionPopulationConfig;
///
/// let config = SubscriptionPopulationConfig::default()
///     .customers(300)
///     .seed(7)
///     .yearly_share(0.5)
///     .payment_failure_rate(0.1);
/// config.validate()?;
/// let business = config.generate()?;
/// assert_eq!(business.customers().len(), 300);
/// assert_eq!(business.subscriptions().len(), 300); // one subscription each
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SubscriptionPopulationConfig {
    pub(crate) customers: usize,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) seed: u64,
    pub(crate) signup_fraction: f64,
    pub(crate) yearly_share: f64,
    pub(crate) yearly_discount: f64,
    pub(crate) auto_renew_share: f64,
    pub(crate) logins_per_day: f64,
    pub(crate) baseline_hazard_per_day: f64,
    pub(crate) renewal_hazard: f64,
    pub(crate) manual_renewal_hazard: f64,
    pub(crate) inactive_hazard: f64,
    pub(crate) complaint_hazard: f64,
    pub(crate) slow_reply_hazard: f64,
    pub(crate) price_increase: f64,
    pub(crate) price_increase_at: DateTime<Utc>,
    pub(crate) price_increase_hazard: f64,
    pub(crate) payment_failure_rate: f64,
    pub(crate) retry_success: f64,
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

impl Default for SubscriptionPopulationConfig {
    /// 20 000 customers over 2023–2024, seed 42, a 10% price increase from
    /// 2024-01-01, and the documented default mechanics (see each setter).
    fn default() -> Self {
        SubscriptionPopulationConfig {
            customers: 20_000,
            start: at(1_672_531_200),
            end: at(1_735_689_600),
            seed: 42,
            signup_fraction: 0.75,
            yearly_share: 0.3,
            yearly_discount: 0.15,
            auto_renew_share: 0.8,
            logins_per_day: 0.25,
            baseline_hazard_per_day: 1.0 / 1500.0,
            renewal_hazard: 4.0,
            manual_renewal_hazard: 1.5,
            inactive_hazard: 3.0,
            complaint_hazard: 3.0,
            slow_reply_hazard: 2.5,
            price_increase: 0.10,
            price_increase_at: at(1_704_067_200),
            price_increase_hazard: 3.0,
            payment_failure_rate: 0.05,
            retry_success: 0.5,
        }
    }
}

impl SubscriptionPopulationConfig {
    /// Same as [`SubscriptionPopulationConfig::default`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// assert_eq!(SubscriptionPopulationConfig::new(), SubscriptionPopulationConfig::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of customers, with ids `1..=customers`, one subscription each.
    /// Defaults to `20_000`. Must be ≥ 1.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// let business = SubscriptionPopulationConfig::default().customers(20).generate()?;
    /// assert_eq!(business.customers().len(), 20);
    /// assert!(SubscriptionPopulationConfig::default().customers(0).validate().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn customers(mut self, customers: usize) -> Self {
        self.customers = customers;
        self
    }

    /// Start of the simulated span (inclusive). Defaults to
    /// 2023-01-01T00:00:00Z. Must be at least one day before `end`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    /// let config = SubscriptionPopulationConfig::default().start(start);
    /// assert_eq!(config.start_time(), start);
    /// assert!(config.validate().is_ok());
    /// ```
    pub fn start(mut self, start: DateTime<Utc>) -> Self {
        self.start = start;
        self
    }

    /// End of the simulated span (exclusive). Defaults to 2025-01-01T00:00:00Z.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// let end = Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap();
    /// assert_eq!(SubscriptionPopulationConfig::default().end(end).end_time(), end);
    /// // The end must come at least a day after the start.
    /// assert!(SubscriptionPopulationConfig::default().end(end).start(end).validate().is_err());
    /// ```
    pub fn end(mut self, end: DateTime<Utc>) -> Self {
        self.end = end;
        self
    }

    /// Seed of every random stream. Defaults to `42`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// let config = SubscriptionPopulationConfig::default().customers(50);
    /// let (a, b) = (config.clone().seed(1).generate()?, config.seed(1).generate()?);
    /// assert_eq!(a.subscription_events(), b.subscription_events());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Signups are uniform over this first fraction of the span. Defaults to
    /// `0.75`. Must be in (0, 1].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// let config = SubscriptionPopulationConfig::default().customers(100).signup_fraction(0.5);
    /// let half = config.start_time() + (config.end_time() - config.start_time()) / 2;
    /// assert!(config.generate()?.subscriptions().iter().all(|s| s.start < half));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn signup_fraction(mut self, fraction: f64) -> Self {
        self.signup_fraction = fraction;
        self
    }

    /// Share of subscriptions billed yearly (the rest monthly). Defaults to
    /// `0.3`. Must be in [0, 1].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::BillingPeriod;
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// let business = SubscriptionPopulationConfig::default().customers(50).yearly_share(1.0).generate()?;
    /// assert!(business.subscriptions().iter().all(|s| s.period == BillingPeriod::Yearly));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn yearly_share(mut self, share: f64) -> Self {
        self.yearly_share = share;
        self
    }

    /// Discount of a yearly price on twelve monthly prices: the yearly price
    /// is `12 × monthly × (1 − discount)`, rounded to cents. Defaults to
    /// `0.15`. Must be in [0, 1).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::BillingPeriod;
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// // Without a discount a yearly basic plan costs twelve monthly prices of 12.
    /// let business = SubscriptionPopulationConfig::default()
    ///     .customers(200)
    ///     .yearly_discount(0.0)
    ///     .generate()?;
    /// let basic_yearly = business
    ///     .subscriptions()
    ///     .iter()
    ///     .find(|s| s.plan == "basic" && s.period == BillingPeriod::Yearly)
    ///     .map(|s| s.price);
    /// assert_eq!(basic_yearly, Some(144.0));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn yearly_discount(mut self, discount: f64) -> Self {
        self.yearly_discount = discount;
        self
    }

    /// Share of subscriptions that renew automatically (the rest renew by
    /// hand at each period end). Defaults to `0.8`. Must be in [0, 1].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// let business = SubscriptionPopulationConfig::default().customers(50).auto_renew_share(0.0).generate()?;
    /// assert!(business.subscriptions().iter().all(|s| !s.auto_renew));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn auto_renew_share(mut self, share: f64) -> Self {
        self.auto_renew_share = share;
        self
    }

    /// Logins per day of a subscriber with usage 1 and no recent complaint
    /// or slow reply. Defaults to `0.25`. Must be finite and ≥ 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::InteractionKind;
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// // 0 turns logins off; tickets and complaints remain.
    /// let business = SubscriptionPopulationConfig::default().customers(50).logins_per_day(0.0).generate()?;
    /// assert!(business.interactions().iter().all(|i| i.kind != InteractionKind::Login));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn logins_per_day(mut self, rate: f64) -> Self {
        self.logins_per_day = rate;
        self
    }

    /// Cancellation hazard per day before multipliers. Defaults to `1/1500`.
    /// Must be finite and ≥ 0 (0 leaves only involuntary churn).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::SubscriptionEventKind;
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// // Without a cancellation hazard, subscriptions end only by payment failures.
    /// let business = SubscriptionPopulationConfig::default()
    ///     .customers(200)
    ///     .baseline_hazard_per_day(0.0)
    ///     .generate()?;
    /// assert!(business.subscription_events().iter().all(|e| !matches!(e.kind, SubscriptionEventKind::CancellationRequested { .. })));
    /// assert!(business.truth().iter().filter(|t| t.is_churned()).all(|t| t.is_involuntary()));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn baseline_hazard_per_day(mut self, hazard: f64) -> Self {
        self.baseline_hazard_per_day = hazard;
        self
    }

    /// Hazard multiplier in the last days before each period end (7 days
    /// for monthly, 30 for yearly billing): the renewal decision. Defaults
    /// to `4.0`. Must be finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// assert_eq!(SubscriptionPopulationConfig::default().renewal_hazard(4.0), SubscriptionPopulationConfig::default());
    /// // 1 removes the peak at period ends.
    /// assert!(SubscriptionPopulationConfig::default().renewal_hazard(1.0).validate().is_ok());
    /// assert!(SubscriptionPopulationConfig::default().renewal_hazard(0.0).validate().is_err());
    /// ```
    pub fn renewal_hazard(mut self, multiplier: f64) -> Self {
        self.renewal_hazard = multiplier;
        self
    }

    /// Hazard multiplier of subscriptions without auto-renew. Defaults to
    /// `1.5`. Must be finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// assert_eq!(SubscriptionPopulationConfig::default().manual_renewal_hazard(1.5), SubscriptionPopulationConfig::default());
    /// assert!(SubscriptionPopulationConfig::default().manual_renewal_hazard(-1.0).validate().is_err());
    /// ```
    pub fn manual_renewal_hazard(mut self, multiplier: f64) -> Self {
        self.manual_renewal_hazard = multiplier;
        self
    }

    /// Multiplier of the competitor and needs-changed hazards while the
    /// subscriber has not logged in for 14 days. Defaults to `3.0`. Must be
    /// finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// assert_eq!(SubscriptionPopulationConfig::default().inactive_hazard(3.0), SubscriptionPopulationConfig::default());
    /// assert!(SubscriptionPopulationConfig::default().inactive_hazard(f64::NAN).validate().is_err());
    /// ```
    pub fn inactive_hazard(mut self, multiplier: f64) -> Self {
        self.inactive_hazard = multiplier;
        self
    }

    /// Multiplier of the product-quality hazard per complaint in the last
    /// 60 days (at most 3 count). Defaults to `3.0`. Must be finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// assert_eq!(SubscriptionPopulationConfig::default().complaint_hazard(3.0), SubscriptionPopulationConfig::default());
    /// assert!(SubscriptionPopulationConfig::default().complaint_hazard(0.0).validate().is_err());
    /// ```
    pub fn complaint_hazard(mut self, multiplier: f64) -> Self {
        self.complaint_hazard = multiplier;
        self
    }

    /// Multiplier of the poor-service hazard per support reply slower than
    /// 24 h in the last 60 days (at most 3 count). Defaults to `2.5`. Must be
    /// finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// assert_eq!(SubscriptionPopulationConfig::default().slow_reply_hazard(2.5), SubscriptionPopulationConfig::default());
    /// assert!(SubscriptionPopulationConfig::default().slow_reply_hazard(1.0).validate().is_ok());
    /// ```
    pub fn slow_reply_hazard(mut self, multiplier: f64) -> Self {
        self.slow_reply_hazard = multiplier;
        self
    }

    /// Relative price increase applied to every subscription at its first
    /// period end on or after [`price_increase_at`](Self::price_increase_at).
    /// Defaults to `0.10`. Must be finite and in [0, 1] (0: no increase).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::SubscriptionEventKind;
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// // The increase shows as an upgrade without a plan; 0 means none.
    /// let is_increase = |k: &SubscriptionEventKind| matches!(k, SubscriptionEventKind::Upgrade { plan: None, .. });
    /// let with = SubscriptionPopulationConfig::default().customers(100).generate()?;
    /// assert!(with.subscription_events().iter().any(|e| is_increase(&e.kind)));
    /// let without = SubscriptionPopulationConfig::default().customers(100).price_increase(0.0).generate()?;
    /// assert!(!without.subscription_events().iter().any(|e| is_increase(&e.kind)));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn price_increase(mut self, increase: f64) -> Self {
        self.price_increase = increase;
        self
    }

    /// From when the price increase applies (at each subscription's next
    /// period end). Defaults to 2024-01-01T00:00:00Z. Any time.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// let at = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
    /// assert!(SubscriptionPopulationConfig::default().price_increase_at(at).validate().is_ok());
    /// ```
    pub fn price_increase_at(mut self, at: DateTime<Utc>) -> Self {
        self.price_increase_at = at;
        self
    }

    /// Multiplier of the price hazard from 30 days before a subscription's
    /// price increase (its notice) to 60 days after. Defaults to `3.0`. Must
    /// be finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// assert_eq!(SubscriptionPopulationConfig::default().price_increase_hazard(3.0), SubscriptionPopulationConfig::default());
    /// assert!(SubscriptionPopulationConfig::default().price_increase_hazard(0.0).validate().is_err());
    /// ```
    pub fn price_increase_hazard(mut self, multiplier: f64) -> Self {
        self.price_increase_hazard = multiplier;
        self
    }

    /// Mean probability that an automatic renewal payment fails at its first
    /// attempt (each subscriber's own probability is Beta-distributed around
    /// it, with concentration 20). Defaults to `0.05`. Must be in [0, 1).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::SubscriptionEventKind;
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// let business = SubscriptionPopulationConfig::default()
    ///     .customers(100)
    ///     .payment_failure_rate(0.0)
    ///     .generate()?;
    /// assert!(business.subscription_events().iter().all(|e| e.kind != SubscriptionEventKind::PaymentFailed));
    /// assert!(SubscriptionPopulationConfig::default().payment_failure_rate(1.0).validate().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn payment_failure_rate(mut self, rate: f64) -> Self {
        self.payment_failure_rate = rate;
        self
    }

    /// Probability that each of the two payment retries (3 and 7 days after
    /// a failed renewal) succeeds; after two failed retries the subscription
    /// ends (involuntary churn). Defaults to `0.5`. Must be in [0, 1].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// // With retries that never succeed, every failed renewal ends the subscription.
    /// let config = SubscriptionPopulationConfig::default().customers(100).retry_success(0.0);
    /// assert!(config.validate().is_ok());
    /// assert!(config.retry_success(1.5).validate().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn retry_success(mut self, probability: f64) -> Self {
        self.retry_success = probability;
        self
    }

    /// Checks every parameter against its documented range.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// naming the first offending parameter (as spelled by its setter) and
    /// its value.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::{ErrorKind, synth::SubscriptionPopulationConfig};
    ///
    /// let err = SubscriptionPopulationConfig::default().yearly_discount(1.0).validate().unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "yearly_discount", .. }));
    /// assert_eq!(err.to_string(), "invalid parameter `yearly_discount`: must be in [0, 1), got 1");
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
        if !(self.signup_fraction > 0.0 && self.signup_fraction <= 1.0) {
            return Err(Error::invalid_parameter(
                "signup_fraction",
                format!("must be in (0, 1], got {}", self.signup_fraction),
            ));
        }
        unit("yearly_share", self.yearly_share)?;
        below_one("yearly_discount", self.yearly_discount)?;
        unit("auto_renew_share", self.auto_renew_share)?;
        non_negative("logins_per_day", self.logins_per_day)?;
        non_negative("baseline_hazard_per_day", self.baseline_hazard_per_day)?;
        positive("renewal_hazard", self.renewal_hazard)?;
        positive("manual_renewal_hazard", self.manual_renewal_hazard)?;
        positive("inactive_hazard", self.inactive_hazard)?;
        positive("complaint_hazard", self.complaint_hazard)?;
        positive("slow_reply_hazard", self.slow_reply_hazard)?;
        unit("price_increase", self.price_increase)?;
        positive("price_increase_hazard", self.price_increase_hazard)?;
        below_one("payment_failure_rate", self.payment_failure_rate)?;
        unit("retry_success", self.retry_success)?;
        Ok(())
    }
}

/// Getters. They live in a separate block so the setters read as the builder.
impl SubscriptionPopulationConfig {
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

    /// The seed.
    pub fn seed_value(&self) -> u64 {
        self.seed
    }

    /// Mean first-attempt payment failure probability.
    pub fn payment_failure_rate_value(&self) -> f64 {
        self.payment_failure_rate
    }

    /// Probability that a payment retry succeeds.
    pub fn retry_success_value(&self) -> f64 {
        self.retry_success
    }

    /// Share of yearly subscriptions.
    pub fn yearly_share_value(&self) -> f64 {
        self.yearly_share
    }

    /// Share of auto-renewing subscriptions.
    pub fn auto_renew_share_value(&self) -> f64 {
        self.auto_renew_share
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

fn unit(name: &'static str, v: f64) -> Result<()> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            name,
            format!("must be in [0, 1], got {v}"),
        ))
    }
}

fn below_one(name: &'static str, v: f64) -> Result<()> {
    if (0.0..1.0).contains(&v) {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            name,
            format!("must be in [0, 1), got {v}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn rejects_each_out_of_range_parameter_by_name() {
        let d = SubscriptionPopulationConfig::default;
        let cases: Vec<(SubscriptionPopulationConfig, &str)> = vec![
            (d().customers(0), "customers"),
            (d().end(d().start_time()), "end"),
            (d().signup_fraction(0.0), "signup_fraction"),
            (d().yearly_share(1.1), "yearly_share"),
            (d().yearly_discount(-0.1), "yearly_discount"),
            (d().auto_renew_share(f64::NAN), "auto_renew_share"),
            (d().logins_per_day(-1.0), "logins_per_day"),
            (
                d().baseline_hazard_per_day(f64::INFINITY),
                "baseline_hazard_per_day",
            ),
            (d().renewal_hazard(0.0), "renewal_hazard"),
            (d().manual_renewal_hazard(-2.0), "manual_renewal_hazard"),
            (d().inactive_hazard(0.0), "inactive_hazard"),
            (d().complaint_hazard(f64::NAN), "complaint_hazard"),
            (d().slow_reply_hazard(0.0), "slow_reply_hazard"),
            (d().price_increase(2.0), "price_increase"),
            (d().price_increase_hazard(0.0), "price_increase_hazard"),
            (d().payment_failure_rate(1.0), "payment_failure_rate"),
            (d().retry_success(-0.5), "retry_success"),
        ];
        for (config, expected) in cases {
            let err = config.validate().unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::InvalidParameter { name, .. } if *name == expected),
                "{expected}: {err}"
            );
        }
        assert!(d().validate().is_ok());
        assert_eq!(d(), SubscriptionPopulationConfig::new());
    }

    #[test]
    fn serde_lists_only_changes_and_rejects_typos() {
        let c: SubscriptionPopulationConfig =
            serde_json::from_str(r#"{"customers": 10, "yearly_share": 0.5}"#).unwrap();
        assert_eq!(
            c,
            SubscriptionPopulationConfig::default()
                .customers(10)
                .yearly_share(0.5)
        );
        assert!(
            serde_json::from_str::<SubscriptionPopulationConfig>(r#"{"yearly": 0.5}"#).is_err()
        );
    }
}
