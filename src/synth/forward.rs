//! Continuing customers' lives past an as-of time: the true churn risk
//! ([`PopulationConfig::churn_probabilities`]) and retention campaigns with
//! known effects ([`PopulationConfig::simulate_campaign`]).
//!
//! Both replay each customer's generated life up to `as_of` (the same random
//! stream and draws as [`PopulationConfig::generate`], so the path up to
//! `as_of` is the one in the records), keep the whole latent state there, and
//! continue it with fresh random streams. See the [module docs](crate::synth).

use chrono::{DateTime, TimeDelta, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::PopulationConfig;
use super::customer::{Context, Discard, End, EventSink, Resumable, Run};
use super::rng::Rng;
use super::truth::ChurnCause;
use crate::records::CustomerId;
use crate::{Error, Result};

/// Salt of the oracle's replica streams.
const ORACLE_SALT: u64 = 0x6f72_6163_6c65_5f31; // "oracle_1"
/// Salt of the campaign's stream.
const CAMPAIGN_SALT: u64 = 0x6361_6d70_6169_676e; // "campaign"
/// The longest horizon accepted, in days (100 years).
const MAX_HORIZON_DAYS: f64 = 36_525.0;
/// Customers per rayon work item (results never depend on it).
const MIN_TASK_CUSTOMERS: usize = 16;

/// One customer's true probability of churning in `(as_of, as_of + horizon]`,
/// from [`PopulationConfig::churn_probabilities`].
///
/// Why: a churn model's scores can be compared with the probability the
/// generator itself implies, given everything it knows about the customer at
/// `as_of` (latent traits and state, not only the records), which separates
/// model error from irreducible noise.
///
/// # Example
///
/// ```
/// use chrono::TimeDelta;
/// use churnwise::synth::PopulationConfig;
///
/// let config = PopulationConfig::default().customers(200).seed(3);
/// let as_of = config.end_time() - TimeDelta::days(180);
/// let risks = config.churn_probabilities(as_of, 90.0, 20)?;
/// assert!(risks.iter().all(|r| (0.0..=1.0).contains(&r.probability())));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChurnRisk {
    id: CustomerId,
    probability: f64,
}

impl ChurnRisk {
    /// A risk from its parts (for the other oracles of this module).
    pub(super) fn from_parts(id: CustomerId, probability: f64) -> ChurnRisk {
        ChurnRisk { id, probability }
    }

    /// The customer's id.
    pub fn id(&self) -> &CustomerId {
        &self.id
    }

    /// The probability of churning (by dropout or hazard) in the window,
    /// estimated from the replicas: in [0, 1].
    pub fn probability(&self) -> f64 {
        self.probability
    }
}

/// A retention treatment in [`PopulationConfig::simulate_campaign`]: from
/// `as_of` on, the customer's churn hazard is multiplied by `1 − effect`.
///
/// `effect` uses the convention of
/// [`InterventionResponses`](super::InterventionResponses): the relative
/// reduction of the continuous churn hazard (0.4 = hazard × 0.6; 1 removes
/// it). BG/NBD dropout after a purchase is not affected (see the
/// [module docs](crate::synth)). A negative effect raises the hazard (a
/// treatment that backfires).
///
/// # Example
///
/// ```
/// use churnwise::synth::{PopulationConfig, Treatment};
///
/// let pop = PopulationConfig::default().customers(50).generate()?;
/// // Give everyone a discount, with its true effect on each customer.
/// let plan: Vec<_> = pop
///     .truth()
///     .iter()
///     .map(|t| Ok((t.id().clone(), Treatment::new(t.responses().discount())?)))
///     .collect::<churnwise::Result<_>>()?;
/// assert_eq!(plan.len(), 50);
/// assert!(Treatment::new(1.5).is_err());
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TreatmentRepr", deny_unknown_fields)]
#[non_exhaustive]
pub struct Treatment {
    effect: f64,
}

/// The serde form of [`Treatment`], validated on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TreatmentRepr {
    effect: f64,
}

impl TryFrom<TreatmentRepr> for Treatment {
    type Error = Error;
    fn try_from(repr: TreatmentRepr) -> Result<Treatment> {
        Treatment::new(repr.effect)
    }
}

impl Treatment {
    /// A treatment that multiplies the churn hazard by `1 − effect`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `effect` unless `effect` is finite and ≤ 1.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::{ErrorKind, synth::Treatment};
    ///
    /// assert_eq!(Treatment::new(0.4)?.effect(), 0.4);
    /// let err = Treatment::new(f64::NAN).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "effect", .. }));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(effect: f64) -> Result<Treatment> {
        if effect.is_finite() && effect <= 1.0 {
            Ok(Treatment { effect })
        } else {
            Err(Error::invalid_parameter(
                "effect",
                format!("must be finite and <= 1, got {effect}"),
            ))
        }
    }

    /// The relative reduction of the churn hazard.
    pub fn effect(&self) -> f64 {
        self.effect
    }
}

/// What happened to one customer in `(as_of, as_of + horizon]` in a campaign
/// simulated by [`PopulationConfig::simulate_campaign`].
///
/// # Example
///
/// ```
/// use chrono::TimeDelta;
/// use churnwise::synth::PopulationConfig;
///
/// let config = PopulationConfig::default().customers(300).seed(5);
/// let as_of = config.end_time() - TimeDelta::days(120);
/// let control = config.simulate_campaign(as_of, 90.0, &[])?;
/// for r in &control {
///     assert_eq!(r.effect(), 0.0);
///     assert_eq!(r.has_repurchased(), r.orders() > 0);
///     assert_eq!(r.is_churned(), r.churn_time().is_some());
/// }
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CampaignResult {
    id: CustomerId,
    effect: f64,
    churn_time: Option<DateTime<Utc>>,
    churn_cause: Option<ChurnCause>,
    orders: u32,
    revenue: f64,
}

impl CampaignResult {
    /// The customer's id.
    pub fn id(&self) -> &CustomerId {
        &self.id
    }

    /// The treatment's effect on this customer (0 when untreated).
    pub fn effect(&self) -> f64 {
        self.effect
    }

    /// Whether the customer churned in the window.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let config = PopulationConfig::default().customers(300).seed(5);
    /// let as_of = config.end_time() - TimeDelta::days(120);
    /// let results = config.simulate_campaign(as_of, 90.0, &[])?;
    /// let churned = results.iter().filter(|r| r.is_churned()).count();
    /// assert!(churned < results.len());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn is_churned(&self) -> bool {
        self.churn_time.is_some()
    }

    /// When the customer churned, if in the window (whole seconds, like the
    /// records; may lie past the configuration's `end`).
    pub fn churn_time(&self) -> Option<DateTime<Utc>> {
        self.churn_time
    }

    /// Which mechanism caused the churn, if in the window.
    pub fn churn_cause(&self) -> Option<ChurnCause> {
        self.churn_cause
    }

    /// Purchases in the window (refunds are not orders).
    pub fn orders(&self) -> u32 {
        self.orders
    }

    /// Net revenue in the window: purchases minus refunds paid in it (the sum
    /// of the amounts of the order records the window would hold, including
    /// refunds of earlier orders).
    pub fn revenue(&self) -> f64 {
        self.revenue
    }

    /// Whether the customer bought again in the window (at least one order).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let config = PopulationConfig::default().customers(300).seed(5);
    /// let as_of = config.end_time() - TimeDelta::days(120);
    /// let results = config.simulate_campaign(as_of, 90.0, &[])?;
    /// let repurchased = results.iter().filter(|r| r.has_repurchased()).count();
    /// assert!(repurchased > 0 && repurchased < results.len());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn has_repurchased(&self) -> bool {
        self.orders > 0
    }
}

/// Counts the orders and revenue of a continuation (all of whose events lie
/// in the window).
#[derive(Debug, Default)]
struct Tally {
    orders: u32,
    revenue: f64,
}

impl EventSink for Tally {
    const RECORDS: bool = false;
    fn purchase(&mut self, _: &Context<'_>, _: &CustomerId, _: f64, amount: f64) {
        self.orders = self.orders.saturating_add(1);
        self.revenue += amount;
    }
    fn refund(&mut self, _: &Context<'_>, _: &CustomerId, _: f64, amount: f64) {
        self.revenue += amount;
    }
    fn interaction(&mut self, _: crate::records::Interaction) {}
    fn feedback(&mut self, _: crate::records::Feedback) {}
}

/// The window `(as_of, as_of + horizon]` in whole seconds after `start`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    /// Records at most this many seconds after `start` are at or before `as_of`.
    pub(super) as_of_secs: i64,
    /// ... and at most this many, at or before `as_of + horizon`.
    pub(super) until_secs: i64,
}

impl Window {
    /// Validates an oracle's window `(as_of, as_of + horizon_days]` in a
    /// population simulated over `[start, end)` (every population's oracles
    /// share it).
    pub(super) fn new(
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        as_of: DateTime<Utc>,
        horizon_days: f64,
    ) -> Result<Window> {
        if as_of < start || as_of >= end {
            return Err(Error::invalid_parameter(
                "as_of",
                format!("must be in [start {start}, end {end}), got {as_of}"),
            ));
        }
        if !(horizon_days.is_finite() && horizon_days > 0.0 && horizon_days <= MAX_HORIZON_DAYS) {
            return Err(Error::invalid_parameter(
                "horizon_days",
                format!("must be finite and in (0, {MAX_HORIZON_DAYS}], got {horizon_days}"),
            ));
        }
        // At most 100 years of nanoseconds: well inside i64.
        let horizon = TimeDelta::nanoseconds((horizon_days * 86_400e9).round() as i64);
        let until = as_of.checked_add_signed(horizon).ok_or_else(|| {
            Error::invalid_parameter(
                "horizon_days",
                format!("as_of {as_of} + {horizon_days} days is out of range"),
            )
        })?;
        // Both differences are ≥ 0, where `num_seconds` is the floor.
        Ok(Window {
            as_of_secs: (as_of - start).num_seconds(),
            until_secs: (until - start).num_seconds(),
        })
    }
}

impl PopulationConfig {
    /// The true probability that each customer alive at `as_of` churns in
    /// `(as_of, as_of + horizon_days]`, given their whole latent state at
    /// `as_of`: an oracle to judge churn models against.
    ///
    /// A customer is alive at `as_of` when the population from
    /// [`generate`](PopulationConfig::generate) shows their signup at or
    /// before `as_of` and no churn time at or before it. Each is replayed up to
    /// `as_of` on the stream that generated them, so the path up to `as_of` is
    /// exactly the one in the records; their state there (traits, risk
    /// counters, tenure, renewal window, silent spell, scheduled refunds,
    /// surveys, expiries and campaign responses) is continued `replicas`
    /// times, replica `k` drawing from its own stream derived from
    /// `(seed, id, k)`. In each replica neither churn mechanism is drawn:
    /// the path goes on as if the customer stayed, and the replica contributes
    /// the probability of churning along it, from the integrated hazard and
    /// the dropout chances of its repeat purchases (conditional Monte Carlo, a
    /// Rao–Blackwellised estimate with less variance than counting churns).
    /// The Monte Carlo standard error is at most `0.5 / √replicas` and usually
    /// far smaller: with the defaults, 100 replicas leave a typical error of
    /// about 0.01 on a probability of 0.1.
    ///
    /// The window may run past `end`: the simulation goes on under the same
    /// mechanics (ticks, renewals, silent spells), without the marketing
    /// campaigns, which are only scheduled inside the span. Injected invalid
    /// records (`dirty_fraction`) do not change the result.
    ///
    /// Returns one [`ChurnRisk`] per customer alive at `as_of`, in id order
    /// (customers who have churned or not signed up are left out). Customers
    /// are processed in parallel; each result depends only on the
    /// configuration, `as_of`, `horizon_days`, `replicas` and the customer, so
    /// it is bit-identical whatever the number of threads.
    ///
    /// # Formula
    ///
    /// ```text
    /// p̂ = (1/R) Σ_k [ 1 − (1 − p)^N_k · exp(−Λ_k) ]
    /// p    the customer's dropout probability per repeat purchase
    /// N_k  repeat purchases in the window on replica k's path
    /// Λ_k  ∫ h(t) dt over the window along that path (h: the churn hazard)
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) if
    /// [`validate`](PopulationConfig::validate) fails, or named `as_of` unless
    /// `start ≤ as_of < end`, `horizon_days` unless finite and in (0, 36 525],
    /// `replicas` if 0.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let config = PopulationConfig::default().customers(400).seed(7);
    /// let as_of = config.end_time() - TimeDelta::days(180);
    /// let risks = config.churn_probabilities(as_of, 90.0, 50)?;
    ///
    /// // One risk per customer alive at `as_of` in the generated population.
    /// let pop = config.generate()?;
    /// let alive: Vec<_> = pop
    ///     .customers()
    ///     .iter()
    ///     .zip(pop.truth())
    ///     .filter(|(c, t)| c.signup <= as_of && t.churn_time().is_none_or(|ct| ct > as_of))
    ///     .map(|(c, _)| c.id.clone())
    ///     .collect();
    /// assert_eq!(alive, risks.iter().map(|r| r.id().clone()).collect::<Vec<_>>());
    /// let expected: f64 = risks.iter().map(|r| r.probability()).sum();
    /// assert!(expected > 1.0 && expected < 0.5 * risks.len() as f64);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn churn_probabilities(
        &self,
        as_of: DateTime<Utc>,
        horizon_days: f64,
        replicas: u32,
    ) -> Result<Vec<ChurnRisk>> {
        self.oracle(as_of, horizon_days, replicas, false)
    }

    /// The probability that each customer alive at `as_of` churns in
    /// `(as_of, as_of + horizon_days]` given what their records up to
    /// `as_of` show: the best a churn model of the records can do.
    ///
    /// [`churn_probabilities`](PopulationConfig::churn_probabilities) knows
    /// each customer's hidden traits, which no model can see: a customer's
    /// dropout probability, for one, shows in the records only as the repeat
    /// purchases they survived. Here each replica first draws the hidden
    /// traits from their posterior given the records (exact conjugate
    /// updates, since the clocks are Poisson), then continues as
    /// `churn_probabilities` does:
    ///
    /// | hidden | posterior given the records up to `as_of` |
    /// |---|---|
    /// | purchase rate λ | Gamma(r + x, α + T): x repeat purchases in T days since signup |
    /// | dropout probability p | Beta(a, b + x): x repeat purchases survived |
    /// | complaint propensity | Gamma(1.5 + n, 1.5 + expected complaints at propensity 1) |
    /// | ticket propensity | Gamma(2 + n, 2 + expected tickets at propensity 1), tickets opened by complaints aside |
    /// | median first-response time | log-normal: the normal posterior of its log given the log response times of all tickets |
    /// | silent spell at `as_of` | a two-state filter over the spell's Markov chain, weighing each state by the logins and visits, the campaign responses and the survival of the churn hazard since signup |
    ///
    /// Four hidden quantities are still taken from the truth, so this is an
    /// upper bound on what a model of the records can reach: the latent type
    /// (which only complaint topics and campaign responses hint at), the
    /// relative engagement e (seen through the rate of logins and visits),
    /// the spending level and the satisfaction level (seen through orders and
    /// survey answers). A campaign response is also weighed at the campaign,
    /// a couple of days before it is recorded.
    ///
    /// Customers, order, parallelism and errors are those of
    /// `churn_probabilities`, whose replica streams this shares; replica `k`
    /// draws the traits first, so its path differs.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let config = PopulationConfig::default().customers(400).seed(7);
    /// let as_of = config.end_time() - TimeDelta::days(180);
    /// let known = config.churn_probabilities(as_of, 90.0, 50)?;
    /// let seen = config.churn_probabilities_given_records(as_of, 90.0, 50)?;
    /// assert_eq!(known.len(), seen.len());
    /// // Hidden traits spread the true risks; the records only shrink them
    /// // toward the mean.
    /// let spread = |r: &[churnwise::synth::ChurnRisk]| {
    ///     let mean = r.iter().map(|x| x.probability()).sum::<f64>() / r.len() as f64;
    ///     r.iter().map(|x| (x.probability() - mean).powi(2)).sum::<f64>()
    /// };
    /// assert!(spread(&seen) < spread(&known));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn churn_probabilities_given_records(
        &self,
        as_of: DateTime<Utc>,
        horizon_days: f64,
        replicas: u32,
    ) -> Result<Vec<ChurnRisk>> {
        self.oracle(as_of, horizon_days, replicas, true)
    }

    /// The two oracles: hidden traits known, or drawn given the records.
    fn oracle(
        &self,
        as_of: DateTime<Utc>,
        horizon_days: f64,
        replicas: u32,
        given_records: bool,
    ) -> Result<Vec<ChurnRisk>> {
        self.validate()?;
        let window = Window::new((self.start, self.end), as_of, horizon_days)?;
        if replicas == 0 {
            return Err(Error::invalid_parameter(
                "replicas",
                "must be at least 1, got 0",
            ));
        }
        let ctx = Context::new(self);
        let run = Run::forward(window.until_secs, 1.0, true);
        Ok((0..self.customers)
            .into_par_iter()
            .with_min_len(MIN_TASK_CUSTOMERS)
            .filter_map(|index| {
                let snapshot = Resumable::replay(&ctx, index, window.as_of_secs, given_records)?;
                let mut scratch = snapshot.life().clone();
                let mut sum = 0.0;
                for k in 0..replicas {
                    let mut rng =
                        Rng::replica_stream(self.seed, index as u64 + 1, ORACLE_SALT, k.into());
                    // Churn is integrated, not drawn: no replica ends early.
                    let end = if given_records {
                        snapshot.resume_given_records(
                            &ctx,
                            &mut scratch,
                            &mut rng,
                            &mut Discard,
                            &run,
                        )
                    } else {
                        snapshot.resume(&ctx, &mut scratch, &mut rng, &mut Discard, &run)
                    };
                    sum += match end {
                        End::Churned(..) => 1.0,
                        End::Alive | End::Paused => -scratch.log_survival().exp_m1(),
                    };
                }
                Some(ChurnRisk {
                    id: snapshot.id().clone(),
                    probability: (sum / f64::from(replicas)).clamp(0.0, 1.0),
                })
            })
            .collect())
    }

    /// Simulates a retention campaign with known effects: from `as_of` on,
    /// each treated customer's churn hazard is multiplied by
    /// `1 − effect`, and every customer alive at `as_of` is followed to
    /// `as_of + horizon_days`.
    ///
    /// Customers alive at `as_of` are those of
    /// [`churn_probabilities`](PopulationConfig::churn_probabilities), replayed
    /// the same way. Each is then continued once, from a stream derived from
    /// `(seed, id)` and a fixed campaign salt, independent of every other
    /// customer and of the treatments of others: a customer's outcome with
    /// effect 0 is the same whichever other customers are treated, so the
    /// untreated customers of a campaign are a fair control, and a run with
    /// no treatment at all is statistically the generated population's own
    /// future. Running the same customer with different effects draws from
    /// the same stream (common random numbers), which sharpens comparisons.
    ///
    /// The effect reduces the continuous hazard only, not the BG/NBD dropout
    /// after a purchase (see the [module docs](crate::synth)), so an effect of
    /// 1 leaves dropout as the only way to churn. Treatments for customers not
    /// alive at `as_of` are accepted and change nothing (a real campaign also
    /// reaches customers who have silently left); those customers have no
    /// result. The window may run past `end`, as for `churn_probabilities`.
    ///
    /// Returns one [`CampaignResult`] per customer alive at `as_of`, in id
    /// order; bit-identical whatever the number of threads.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) if
    /// [`validate`](PopulationConfig::validate) fails, or named `as_of` unless
    /// `start ≤ as_of < end`, `horizon_days` unless finite and in (0, 36 525],
    /// or `treatments` for an id outside `1..=customers` or listed twice.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use churnwise::synth::{PopulationConfig, Treatment};
    ///
    /// let config = PopulationConfig::default().customers(2_000).seed(9);
    /// let pop = config.generate()?;
    /// let as_of = config.end_time() - TimeDelta::days(120);
    /// // Treat the odd ids with the discount, at its true effect on each customer.
    /// let plan: Vec<_> = pop
    ///     .truth()
    ///     .iter()
    ///     .filter(|t| t.id().as_u64().is_some_and(|i| i % 2 == 1))
    ///     .map(|t| Ok((t.id().clone(), Treatment::new(t.responses().discount())?)))
    ///     .collect::<churnwise::Result<_>>()?;
    /// let results = config.simulate_campaign(as_of, 90.0, &plan)?;
    /// let rate = |treated: bool| {
    ///     let group: Vec<_> = results.iter().filter(|r| (r.effect() > 0.0) == treated).collect();
    ///     group.iter().filter(|r| r.is_churned()).count() as f64 / group.len() as f64
    /// };
    /// assert!(rate(true) < rate(false) + 0.05);
    ///
    /// // Untreated customers' outcomes do not depend on who else is treated.
    /// let control = config.simulate_campaign(as_of, 90.0, &[])?;
    /// for (a, b) in results.iter().zip(&control) {
    ///     if a.effect() == 0.0 {
    ///         assert_eq!(a, b);
    ///     }
    /// }
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn simulate_campaign(
        &self,
        as_of: DateTime<Utc>,
        horizon_days: f64,
        treatments: &[(CustomerId, Treatment)],
    ) -> Result<Vec<CampaignResult>> {
        self.validate()?;
        let window = Window::new((self.start, self.end), as_of, horizon_days)?;
        let n = self.customers;
        let mut effects: Vec<Option<f64>> = vec![None; n];
        for (id, treatment) in treatments {
            let index = id
                .as_u64()
                .filter(|&i| i >= 1 && i <= n as u64)
                .map(|i| (i - 1) as usize)
                .ok_or_else(|| {
                    Error::invalid_parameter(
                        "treatments",
                        format!("unknown customer {id}: ids are 1..={n}"),
                    )
                })?;
            if effects[index].is_some() {
                return Err(Error::invalid_parameter(
                    "treatments",
                    format!("customer {id} is listed twice"),
                ));
            }
            effects[index] = Some(treatment.effect);
        }
        let ctx = Context::new(self);
        Ok((0..n)
            .into_par_iter()
            .with_min_len(MIN_TASK_CUSTOMERS)
            .filter_map(|index| {
                let snapshot = Resumable::replay(&ctx, index, window.as_of_secs, false)?;
                let effect = effects[index].unwrap_or(0.0);
                let run = Run::forward(window.until_secs, 1.0 - effect, false);
                let mut rng = Rng::replica_stream(self.seed, index as u64 + 1, CAMPAIGN_SALT, 0);
                let mut scratch = snapshot.life().clone();
                let mut tally = Tally::default();
                let end = snapshot.resume(&ctx, &mut scratch, &mut rng, &mut tally, &run);
                let (churn_time, churn_cause) = match end {
                    End::Churned(t, cause) => (Some(ctx.instant(t)), Some(cause)),
                    End::Alive | End::Paused => (None, None),
                };
                Some(CampaignResult {
                    id: snapshot.id().clone(),
                    effect,
                    churn_time,
                    churn_cause,
                    orders: tally.orders,
                    revenue: tally.revenue,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use approx::assert_abs_diff_eq;

    use super::*;
    use crate::ErrorKind;
    use crate::synth::Population;

    /// Allowed distance, in standard errors, for statistical checks.
    const Z: f64 = 5.0;

    fn config(n: usize) -> PopulationConfig {
        PopulationConfig::default().customers(n).seed(17)
    }

    fn days(d: i64) -> TimeDelta {
        TimeDelta::days(d)
    }

    fn index(id: &CustomerId) -> usize {
        id.as_u64().map_or(usize::MAX, |v| v as usize - 1)
    }

    /// Whether the population's truth shows a churn in `(as_of, until]`.
    fn churned_in(
        pop: &Population,
        id: &CustomerId,
        as_of: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> bool {
        pop.truth()[index(id)]
            .churn_time()
            .is_some_and(|t| t > as_of && t <= until)
    }

    fn treat_all(n: usize, effect: f64) -> Vec<(CustomerId, Treatment)> {
        (1..=n as u64)
            .map(|i| (CustomerId::from(i), Treatment::new(effect).unwrap()))
            .collect()
    }

    #[test]
    fn public_types_are_send_sync_unpin() {
        fn assert_auto<T: Send + Sync + Unpin>() {}
        assert_auto::<ChurnRisk>();
        assert_auto::<Treatment>();
        assert_auto::<CampaignResult>();
    }

    #[test]
    fn results_cover_exactly_the_customers_alive_at_as_of() {
        let config = config(1200);
        let pop = config.generate().unwrap();
        for as_of in [
            config.start_time(),
            config.start_time() + days(300) + TimeDelta::seconds(7),
            config.end_time() - TimeDelta::seconds(1),
        ] {
            let alive: Vec<&CustomerId> = pop
                .customers()
                .iter()
                .zip(pop.truth())
                .filter(|(c, t)| c.signup <= as_of && t.churn_time().is_none_or(|ct| ct > as_of))
                .map(|(c, _)| &c.id)
                .collect();
            let risks = config.churn_probabilities(as_of, 30.0, 3).unwrap();
            let campaign = config.simulate_campaign(as_of, 30.0, &[]).unwrap();
            assert_eq!(alive, risks.iter().map(ChurnRisk::id).collect::<Vec<_>>());
            assert_eq!(
                alive,
                campaign.iter().map(CampaignResult::id).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn oracle_is_calibrated_against_realized_churn_and_ranks_it() {
        let config = config(4000);
        let pop = config.generate().unwrap();
        let as_of = config.end_time() - days(180);
        let until = as_of + days(90);
        let risks = config.churn_probabilities(as_of, 90.0, 64).unwrap();
        assert!(risks.len() > 2500);
        assert!(risks.iter().all(|r| (0.0..=1.0).contains(&r.probability())));
        let n = risks.len() as f64;
        let mean_p = risks.iter().map(ChurnRisk::probability).sum::<f64>() / n;
        let labels: Vec<bool> = risks
            .iter()
            .map(|r| churned_in(&pop, r.id(), as_of, until))
            .collect();
        let realized = labels.iter().filter(|&&l| l).count() as f64 / n;
        // Given the oracle, realized churns are independent Bernoulli(p_i).
        let se = risks
            .iter()
            .map(|r| r.probability() * (1.0 - r.probability()))
            .sum::<f64>()
            .sqrt()
            / n;
        assert_abs_diff_eq!(realized, mean_p, epsilon = Z * se);
        // The riskiest fifth churns far more than the safest fifth.
        let mut order: Vec<usize> = (0..risks.len()).collect();
        order.sort_by(|&a, &b| risks[a].probability().total_cmp(&risks[b].probability()));
        let fifth = risks.len() / 5;
        let rate =
            |ix: &[usize]| ix.iter().filter(|&&i| labels[i]).count() as f64 / ix.len() as f64;
        assert!(rate(&order[risks.len() - fifth..]) > 3.0 * rate(&order[..fifth]));
    }

    #[test]
    fn records_oracle_is_calibrated_by_fifth_and_shrinks_the_full_oracle() {
        let config = config(4000);
        let pop = config.generate().unwrap();
        let as_of = config.end_time() - days(180);
        let until = as_of + days(90);
        let known = config.churn_probabilities(as_of, 90.0, 64).unwrap();
        let seen = config
            .churn_probabilities_given_records(as_of, 90.0, 64)
            .unwrap();
        assert_eq!(
            known.iter().map(ChurnRisk::id).collect::<Vec<_>>(),
            seen.iter().map(ChurnRisk::id).collect::<Vec<_>>()
        );
        let labels: Vec<bool> = seen
            .iter()
            .map(|r| churned_in(&pop, r.id(), as_of, until))
            .collect();
        // Given the records, realized churns are Bernoulli(p_i) as well: each
        // fifth by predicted risk churns at its mean predicted rate.
        let mut order: Vec<usize> = (0..seen.len()).collect();
        order.sort_by(|&a, &b| seen[a].probability().total_cmp(&seen[b].probability()));
        for fifth in order.chunks(seen.len().div_ceil(5)) {
            let n = fifth.len() as f64;
            let p = |i: &usize| seen[*i].probability();
            let mean_p = fifth.iter().map(p).sum::<f64>() / n;
            let se = fifth
                .iter()
                .map(|i| p(i) * (1.0 - p(i)))
                .sum::<f64>()
                .sqrt()
                / n;
            let realized = fifth.iter().filter(|&&i| labels[i]).count() as f64 / n;
            assert_abs_diff_eq!(realized, mean_p, epsilon = Z * se);
        }
        // Both predict the same event, so their means agree (tower
        // property); the records only shrink the risks toward it (total
        // variance: Var E[y | records] ≤ Var E[y | everything]).
        let moments = |r: &[ChurnRisk]| {
            let n = r.len() as f64;
            let mean = r.iter().map(ChurnRisk::probability).sum::<f64>() / n;
            let var = r
                .iter()
                .map(|x| (x.probability() - mean).powi(2))
                .sum::<f64>()
                / n;
            (mean, var)
        };
        let ((mean_known, var_known), (mean_seen, var_seen)) = (moments(&known), moments(&seen));
        assert_abs_diff_eq!(mean_seen, mean_known, epsilon = 0.05 * mean_known);
        assert!(var_seen < 0.8 * var_known, "{var_seen} vs {var_known}");
    }

    #[test]
    fn integrated_churn_estimate_matches_counting_churns() {
        // The oracle integrates churn; drawing it and counting churns must
        // agree in expectation, customer by customer.
        let config = config(400);
        let ctx = Context::new(&config);
        let as_of = config.end_time() - days(200);
        let window = Window::new((config.start, config.end), as_of, 120.0).unwrap();
        let counted = Run::forward(window.until_secs, 1.0, false);
        let replicas = 4000;
        let risks = config.churn_probabilities(as_of, 120.0, replicas).unwrap();
        let mut checked = 0;
        for risk in risks.iter().take(40) {
            let snapshot =
                Resumable::replay(&ctx, index(risk.id()), window.as_of_secs, false).unwrap();
            let mut scratch = snapshot.life().clone();
            let churns = (0..replicas)
                .filter(|&k| {
                    let mut rng = Rng::replica_stream(99, index(risk.id()) as u64, 5, k.into());
                    let end = snapshot.resume(&ctx, &mut scratch, &mut rng, &mut Discard, &counted);
                    matches!(end, End::Churned(..))
                })
                .count();
            let p = risk.probability();
            let freq = churns as f64 / f64::from(replicas);
            let se = (p * (1.0 - p) / f64::from(replicas)).sqrt().max(1e-3);
            assert_abs_diff_eq!(freq, p, epsilon = Z * se);
            checked += 1;
        }
        assert_eq!(checked, 40);
    }

    #[test]
    fn longer_horizons_never_lower_the_probability_and_may_pass_the_end() {
        let config = config(500);
        let as_of = config.end_time() - days(10);
        let short = config.churn_probabilities(as_of, 5.0, 20).unwrap();
        let long = config.churn_probabilities(as_of, 400.0, 20).unwrap();
        assert_eq!(short.len(), long.len());
        for (s, l) in short.iter().zip(&long) {
            // Replica k draws the same path in both, the long one going on.
            assert!(l.probability() >= s.probability() - 1e-12);
        }
        let mean =
            |r: &[ChurnRisk]| r.iter().map(ChurnRisk::probability).sum::<f64>() / r.len() as f64;
        assert!(mean(&long) > 5.0 * mean(&short));
        let campaign = config.simulate_campaign(as_of, 400.0, &[]).unwrap();
        assert!(
            campaign
                .iter()
                .any(|r| r.churn_time().is_some_and(|t| t >= config.end_time()))
        );
        assert!(campaign.iter().all(|r| {
            r.churn_time()
                .is_none_or(|t| t > as_of && t <= as_of + days(400))
        }));
    }

    #[test]
    fn dirty_records_change_nothing() {
        let clean = config(800);
        let dirty = config(800).dirty_fraction(0.1);
        let as_of = clean.end_time() - days(100);
        assert_eq!(
            clean.churn_probabilities(as_of, 60.0, 8).unwrap(),
            dirty.churn_probabilities(as_of, 60.0, 8).unwrap()
        );
        let plan = treat_all(800, 0.3);
        assert_eq!(
            clean.simulate_campaign(as_of, 60.0, &plan).unwrap(),
            dirty.simulate_campaign(as_of, 60.0, &plan).unwrap()
        );
    }

    #[test]
    fn zero_effect_campaign_matches_realized_churn_and_full_effect_leaves_only_dropout() {
        let config = config(6000);
        let pop = config.generate().unwrap();
        let as_of = config.end_time() - days(180);
        let until = as_of + days(90);
        let control = config.simulate_campaign(as_of, 90.0, &[]).unwrap();
        let n = control.len() as f64;
        let rate = |rs: &[CampaignResult], f: &dyn Fn(&CampaignResult) -> bool| {
            rs.iter().filter(|r| f(r)).count() as f64 / n
        };
        let simulated = rate(&control, &|r| r.is_churned());
        let realized = control
            .iter()
            .filter(|r| churned_in(&pop, r.id(), as_of, until))
            .count() as f64
            / n;
        // Two independent draws of the same rate.
        let se = (2.0 * realized * (1.0 - realized) / n).sqrt();
        assert_abs_diff_eq!(simulated, realized, epsilon = Z * se);
        // Repurchase and revenue are those of the population's own window.
        let bought: Vec<bool> = {
            let mut b = vec![false; config.customer_count()];
            for o in pop.orders() {
                if o.time > as_of && o.time <= until && o.amount > 0.0 {
                    b[index(&o.customer)] = true;
                }
            }
            b
        };
        let realized_repurchase =
            control.iter().filter(|r| bought[index(r.id())]).count() as f64 / n;
        let simulated_repurchase = rate(&control, &|r| r.has_repurchased());
        let se = (2.0 * realized_repurchase * (1.0 - realized_repurchase) / n).sqrt();
        assert_abs_diff_eq!(simulated_repurchase, realized_repurchase, epsilon = Z * se);

        let full = config
            .simulate_campaign(as_of, 90.0, &treat_all(config.customer_count(), 1.0))
            .unwrap();
        assert!(
            full.iter()
                .all(|r| r.churn_cause() != Some(ChurnCause::Hazard))
        );
        let dropout = rate(&full, &|r| r.is_churned());
        assert!(dropout > 0.0 && dropout < simulated);
        assert!(rate(&control, &|r| r.churn_cause() == Some(ChurnCause::Hazard)) > 0.02);
    }

    #[test]
    fn untreated_outcomes_do_not_depend_on_other_treatments() {
        let config = config(1000);
        let as_of = config.end_time() - days(150);
        let control = config.simulate_campaign(as_of, 90.0, &[]).unwrap();
        let half: Vec<_> = treat_all(1000, 0.5).into_iter().step_by(2).collect();
        let treated = config.simulate_campaign(as_of, 90.0, &half).unwrap();
        // An explicit zero effect is the same as no treatment.
        let zeros = config
            .simulate_campaign(as_of, 90.0, &treat_all(1000, 0.0))
            .unwrap();
        assert_eq!(control, zeros);
        let mut differ = 0;
        for (c, t) in control.iter().zip(&treated) {
            if index(c.id()) % 2 == 1 {
                assert_eq!(c, t);
            } else {
                assert_eq!(t.effect(), 0.5);
                differ += usize::from(c.churn_time() != t.churn_time());
            }
        }
        assert!(differ > 0);
        // Revenue is net of refunds; orders count purchases only.
        assert!(control.iter().all(|r| r.orders() > 0 || r.revenue() <= 0.0));
    }

    #[test]
    fn bad_parameters_are_rejected_by_name() {
        let config = config(50);
        let start = config.start_time();
        let end = config.end_time();
        let name = |r: Result<Vec<ChurnRisk>>| match r.unwrap_err().kind() {
            ErrorKind::InvalidParameter { name, .. } => *name,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            name(config.churn_probabilities(start - TimeDelta::seconds(1), 30.0, 1)),
            "as_of"
        );
        assert_eq!(name(config.churn_probabilities(end, 30.0, 1)), "as_of");
        for h in [0.0, -1.0, f64::NAN, f64::INFINITY, 40_000.0] {
            assert_eq!(
                name(config.churn_probabilities(start, h, 1)),
                "horizon_days"
            );
        }
        assert_eq!(name(config.churn_probabilities(start, 30.0, 0)), "replicas");
        assert_eq!(
            name(
                config
                    .clone()
                    .customers(0)
                    .churn_probabilities(start, 30.0, 1)
            ),
            "customers"
        );

        let campaign = |t: &[(CustomerId, Treatment)]| match config.simulate_campaign(
            start + days(100),
            30.0,
            t,
        ) {
            Err(e) => match e.kind() {
                ErrorKind::InvalidParameter { name, reason } => (*name, reason.clone()),
                other => panic!("{other:?}"),
            },
            Ok(_) => panic!("accepted"),
        };
        let t = Treatment::new(0.2).unwrap();
        for id in [
            CustomerId::from(0u64),
            CustomerId::from(51u64),
            CustomerId::from("x"),
        ] {
            assert_eq!(campaign(&[(id, t)]).0, "treatments");
        }
        let (n, reason) = campaign(&[(CustomerId::from(3u64), t), (CustomerId::from(3u64), t)]);
        assert_eq!(n, "treatments");
        assert!(reason.contains("twice"), "{reason}");

        for e in [1.01, f64::NAN, f64::NEG_INFINITY] {
            let err = Treatment::new(e).unwrap_err();
            assert!(matches!(
                err.kind(),
                ErrorKind::InvalidParameter { name: "effect", .. }
            ));
        }
        assert_eq!(Treatment::new(-0.5).unwrap().effect(), -0.5);
    }

    #[test]
    fn result_types_round_trip_through_serde_and_treatments_are_validated() {
        let config = config(200);
        let as_of = config.end_time() - days(100);
        let risks = config.churn_probabilities(as_of, 30.0, 4).unwrap();
        let json = serde_json::to_string(&risks).unwrap();
        assert_eq!(
            serde_json::from_str::<Vec<ChurnRisk>>(&json).unwrap(),
            risks
        );
        let results = config
            .simulate_campaign(as_of, 30.0, &treat_all(200, 0.25))
            .unwrap();
        let json = serde_json::to_string(&results).unwrap();
        assert_eq!(
            serde_json::from_str::<Vec<CampaignResult>>(&json).unwrap(),
            results
        );
        let t: Treatment = serde_json::from_str(r#"{"effect": 0.4}"#).unwrap();
        assert_eq!(t.effect(), 0.4);
        assert!(serde_json::from_str::<Treatment>(r#"{"effect": 2.0}"#).is_err());
        assert!(serde_json::from_str::<Treatment>(r#"{"effect": 0.1, "x": 1}"#).is_err());
    }

    #[test]
    fn results_are_independent_of_thread_count() {
        let config = config(1500);
        let as_of = config.end_time() - days(200);
        let plan: Vec<_> = treat_all(1500, 0.4).into_iter().step_by(3).collect();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    (
                        config.churn_probabilities(as_of, 90.0, 10).unwrap(),
                        config.simulate_campaign(as_of, 90.0, &plan).unwrap(),
                    )
                })
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
    }
}
