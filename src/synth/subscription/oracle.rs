//! The churn oracles of the subscription business: each subscriber's
//! probability that their subscription ends in `(as_of, as_of + horizon]`,
//! knowing their hidden traits or only what the records show.

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use super::config::SubscriptionPopulationConfig;
use super::life::{Ctx, Discard, End, Life, Run, draw_subscriber};
use crate::synth::ChurnRisk;
use crate::synth::forward::Window;
use crate::synth::rng::Rng;
use crate::{Error, Result};

/// Salt of the oracle's replica streams.
const ORACLE_SALT: u64 = 0x7375_6273_6f72_636c; // "subsorcl"
/// The longest horizon accepted, in days (100 years).
/// Subscribers per rayon work item (results never depend on it).
const MIN_TASK_CUSTOMERS: usize = 16;

impl SubscriptionPopulationConfig {
    /// The true probability that each subscription running at `as_of` ends
    /// in `(as_of, as_of + horizon_days]`, knowing the subscriber's hidden
    /// traits (usage, support propensities and speed, payment failure
    /// probability) and whole state at `as_of`.
    ///
    /// Works as [`churn_probabilities_given_records`](Self::churn_probabilities_given_records),
    /// with the hidden traits taken from the truth instead of drawn from
    /// their posterior: an upper bound no model of the records can reach.
    ///
    /// # Errors
    ///
    /// As for `churn_probabilities_given_records`.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// let config = SubscriptionPopulationConfig::default().customers(300).seed(3);
    /// let as_of = config.end_time() - TimeDelta::days(120);
    /// let risks = config.churn_probabilities(as_of, 90.0, 20)?;
    /// assert!(risks.iter().all(|r| (0.0..=1.0).contains(&r.probability())));
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

    /// The probability that each subscription running at `as_of` ends in
    /// `(as_of, as_of + horizon_days]` given what the records up to `as_of`
    /// show: the best a churn model of the records can do (the records
    /// oracle).
    ///
    /// A subscription is running at `as_of` when the business from
    /// [`generate`](Self::generate) shows its start at or before `as_of` and
    /// no end at or before it. Each subscriber is replayed up to `as_of` on
    /// the stream that generated them, so the path is exactly the one in the
    /// records. Everything the hazard depends on is observable: plan,
    /// billing period, auto-renew, channel, the renewal window, the
    /// scheduled price increase (announced 30 days ahead), complaints and
    /// slow replies in the last 60 days, the 14-day inactivity, pauses,
    /// payment retries and a pending cancellation (which ends the
    /// subscription at its period end for sure). What is hidden are the
    /// rates of the future processes, and each replica first draws them
    /// from their exact conjugate posterior given the records:
    ///
    /// | hidden | posterior given the records up to `as_of` |
    /// |---|---|
    /// | usage u | Gamma(2 + logins + upgrades, 2 + their expected number at u = 1) |
    /// | ticket propensity | Gamma(2 + tickets, 2 + expected tickets at propensity 1) |
    /// | complaint propensity | Gamma(1.5 + complaints, 1.5 + expected complaints at propensity 1) |
    /// | median first-response time | log-normal: the normal posterior of its log given the log response hours |
    /// | payment failure probability | Beta(20 m + failed, 20 (1 − m) + paid first attempts), m = `payment_failure_rate` |
    ///
    /// (Surviving so far tells nothing more about them: the cancellation
    /// hazard depends only on observed state.) The only approximation is
    /// that response hours are recorded to 0.1 h. Each replica then goes on
    /// from `as_of` with its own stream derived from `(seed, id, k)`;
    /// payment failures and retries are drawn, cancellations are not: the
    /// replica adds the probability of a cancellation request early enough
    /// to end by the horizon (before its last period end), from the
    /// integrated hazard along its path (a Rao–Blackwellised estimate).
    ///
    /// Returns one [`ChurnRisk`] per subscription running at `as_of`, in id
    /// order; bit-identical whatever the thread count. The window may run
    /// past `end`.
    ///
    /// # Formula
    ///
    /// ```text
    /// p̂ = (1/R) Σ_k [ 1 if replica k ends by payment failure or a pending
    ///                 cancellation in the window, else 1 − exp(−Λ_k) ]
    /// Λ_k  ∫ h(t) dt from as_of to the last period end ≤ as_of + horizon
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) if
    /// [`validate`](Self::validate) fails, or named `as_of` unless
    /// `start ≤ as_of < end`, `horizon_days` unless finite and in
    /// (0, 36 525], `replicas` if 0.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// let config = SubscriptionPopulationConfig::default().customers(300).seed(7);
    /// let as_of = config.end_time() - TimeDelta::days(180);
    /// let known = config.churn_probabilities(as_of, 90.0, 16)?;
    /// let seen = config.churn_probabilities_given_records(as_of, 90.0, 16)?;
    /// assert_eq!(known.len(), seen.len());
    /// let mean = |r: &[churnwise::synth::ChurnRisk]| {
    ///     r.iter().map(|x| x.probability()).sum::<f64>() / r.len() as f64
    /// };
    /// // Both predict the same event: their means agree.
    /// assert!((mean(&known) - mean(&seen)).abs() < 0.03);
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
        let ctx = Ctx::new(self);
        let (as_of_secs, until_secs) = (window.as_of_secs, window.until_secs);
        Ok((0..self.customers)
            .into_par_iter()
            .with_min_len(MIN_TASK_CUSTOMERS)
            .filter_map(|index| {
                let (profile, traits, mut rng) = draw_subscriber(&ctx, index);
                if profile.signup_secs > as_of_secs {
                    return None;
                }
                let mut snapshot = Life::begin(&ctx, &profile);
                let replay = Run::replay(as_of_secs, given_records);
                let end = snapshot.run(&ctx, &profile, &traits, &mut rng, &mut Discard, &replay);
                if end != End::Alive {
                    return None;
                }
                let last = profile.last_period_end_until(&ctx, until_secs);
                let eligible = if last >= 1 {
                    profile.period_end(&ctx, last)
                } else {
                    0
                };
                let run = Run::forward(until_secs, eligible);
                let mut scratch = snapshot.clone();
                let mut sum = 0.0;
                for k in 0..replicas {
                    let mut rng =
                        Rng::replica_stream(self.seed, index as u64 + 1, ORACLE_SALT, k.into());
                    scratch.reset_to(&snapshot);
                    let drawn = if given_records {
                        snapshot.evidence.draw(&ctx, &mut rng)
                    } else {
                        traits
                    };
                    sum += match scratch.run(&ctx, &profile, &drawn, &mut rng, &mut Discard, &run) {
                        End::Ended(..) => 1.0,
                        End::Alive => -(-scratch.integrated).exp_m1(),
                    };
                }
                Some(ChurnRisk::from_parts(
                    profile.id,
                    (sum / f64::from(replicas)).clamp(0.0, 1.0),
                ))
            })
            .collect())
    }
}
