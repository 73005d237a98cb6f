//! [`SubscriptionPopulation`], its ground truth ([`SubscriptionTruth`]) and generation.

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::SubscriptionPopulationConfig;
use super::life::{
    Chunk, Ctx, End, Life, PLANS, Run, draw_subscriber, reason, start_records, whole_seconds,
};
use crate::Result;
use crate::records::{
    ChurnReason, Customer, CustomerId, HistoryBuilder, Interaction, Subscription, SubscriptionEvent,
};

/// Subscribers simulated per parallel task. Output never depends on it.
const TASK_CUSTOMERS: usize = 1024;
/// Days in an average month (365.25 / 12).
const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

/// One subscriber's hidden truth, from [`SubscriptionPopulation::truth`].
///
/// Why: a contractual churn model, a reason analysis or an alert rule can
/// be checked against what really happened: when each subscription ended,
/// whether the subscriber chose to leave, why, and how risky they were.
///
/// # Example
///
/// ```
/// use churnwise::synth::SubscriptionPopulationConfig;
///
/// let business = SubscriptionPopulationConfig::default().customers(500).seed(3).generate()?;
/// for t in business.truth() {
///     assert_eq!(t.is_churned(), t.churn_time().is_some());
///     // Voluntary leavers asked to cancel first; involuntary ones did not.
///     if t.is_churned() {
///         assert_eq!(t.is_involuntary(), t.cancellation_time().is_none());
///     }
/// }
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubscriptionTruth {
    id: CustomerId,
    churn_time: Option<DateTime<Utc>>,
    cancellation_time: Option<DateTime<Utc>>,
    reason: Option<ChurnReason>,
    usage: f64,
    payment_failure_probability: f64,
    monthly_hazard: f64,
}

impl SubscriptionTruth {
    /// The customer's id.
    pub fn id(&self) -> &CustomerId {
        &self.id
    }

    /// When the subscription ended (the `Ended` record), if before `end`.
    pub fn churn_time(&self) -> Option<DateTime<Utc>> {
        self.churn_time
    }

    /// Whether the subscription ended before `end`.
    pub fn is_churned(&self) -> bool {
        self.churn_time.is_some()
    }

    /// When the subscriber asked to cancel, if they did before `end` (the
    /// subscription then ends at the period end, possibly after `end`).
    pub fn cancellation_time(&self) -> Option<DateTime<Utc>> {
        self.cancellation_time
    }

    /// The true reason (which the cancellation request states 80% of the
    /// time, else `other`): the cancellation's reason, or
    /// [`ChurnReason::PaymentFailed`] for an involuntary end; `None` while
    /// the subscriber has neither asked to cancel nor been ended.
    pub fn reason(&self) -> Option<&ChurnReason> {
        self.reason.as_ref()
    }

    /// Whether the subscription ended because payments failed.
    pub fn is_involuntary(&self) -> bool {
        self.reason
            .as_ref()
            .is_some_and(ChurnReason::is_involuntary)
    }

    /// Relative usage u (mean 1): logins come at `logins_per_day × u` and
    /// upgrades at `u / 720` per day.
    pub fn usage(&self) -> f64 {
        self.usage
    }

    /// The probability that a renewal payment fails at its first attempt.
    pub fn payment_failure_probability(&self) -> f64 {
        self.payment_failure_probability
    }

    /// The true cancellation hazard per month, averaged over the
    /// subscriber's time in the span (integrated hazard ÷ months).
    pub fn monthly_hazard(&self) -> f64 {
        self.monthly_hazard
    }
}

/// A generated subscription business: the records it would have, plus the
/// ground truth behind them.
///
/// Records are grouped by customer in id order, each kind in time order;
/// `truth()[i]` belongs to the customer with id `i + 1`, whose only
/// subscription has id `S-{id}`.
///
/// # Example
///
/// ```
/// use churnwise::synth::SubscriptionPopulationConfig;
///
/// let business = SubscriptionPopulationConfig::default().customers(400).seed(5).generate()?;
/// let (history, report) = business.history_builder().build()?;
/// assert!(report.is_clean());
/// assert_eq!(history.subscription_count(), 400);
/// assert!(history.subscription_event_count() > 400);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionPopulation {
    config: SubscriptionPopulationConfig,
    customers: Vec<Customer>,
    subscriptions: Vec<Subscription>,
    subscription_events: Vec<SubscriptionEvent>,
    interactions: Vec<Interaction>,
    truth: Vec<SubscriptionTruth>,
}

impl SubscriptionPopulation {
    /// The configuration that generated this business.
    pub fn config(&self) -> &SubscriptionPopulationConfig {
        &self.config
    }

    /// Customers in id order, with plan (at signup), channel and region.
    pub fn customers(&self) -> &[Customer] {
        &self.customers
    }

    /// Subscriptions, one per customer, in id order.
    pub fn subscriptions(&self) -> &[Subscription] {
        &self.subscriptions
    }

    /// Renewals, upgrades (plan changes and the price increase), downgrades,
    /// pauses, resumes, payment failures, cancellation requests and ends.
    pub fn subscription_events(&self) -> &[SubscriptionEvent] {
        &self.subscription_events
    }

    /// Logins, support tickets (with first-response hours) and complaints.
    pub fn interactions(&self) -> &[Interaction] {
        &self.interactions
    }

    /// Ground truth, one per customer in id order.
    pub fn truth(&self) -> &[SubscriptionTruth] {
        &self.truth
    }

    /// A [`HistoryBuilder`] declaring the plans `basic`, `plus` and
    /// `premium` and holding copies of all records, ready to
    /// [`build`](HistoryBuilder::build): every record is valid, so its
    /// [`DataQualityReport`](crate::records::DataQualityReport) is clean.
    pub fn history_builder(&self) -> HistoryBuilder {
        let mut b = HistoryBuilder::new().plans(PLANS);
        self.customers
            .iter()
            .for_each(|c| b.push_customer(c.clone()));
        b.extend(self.subscriptions.iter().cloned());
        b.extend(self.subscription_events.iter().cloned());
        self.interactions
            .iter()
            .for_each(|i| b.push_interaction(i.clone()));
        b
    }
}

/// Simulates subscriber `index` into `chunk`.
fn simulate(ctx: &Ctx<'_>, index: usize, chunk: &mut Chunk) {
    let (profile, traits, mut rng) = draw_subscriber(ctx, index);
    let (customer, subscription) = start_records(ctx, &profile);
    chunk.customers.push(customer);
    chunk.subscriptions.push(subscription);
    let mut life = Life::begin(ctx, &profile);
    let end = life.run(ctx, &profile, &traits, &mut rng, chunk, &Run::generate(ctx));
    let (churn_time, involuntary) = match end {
        End::Ended(secs, involuntary) => (Some(ctx.instant(secs)), involuntary),
        End::Alive => (None, false),
    };
    let cancellation = life.pending;
    let reason = if involuntary {
        Some(ChurnReason::PaymentFailed)
    } else {
        cancellation.map(|(_, r)| reason(r))
    };
    chunk.truth.push(SubscriptionTruth {
        id: profile.id,
        churn_time,
        cancellation_time: cancellation.map(|(t, _)| ctx.instant(whole_seconds(t))),
        reason,
        usage: traits.usage,
        payment_failure_probability: traits.failure,
        monthly_hazard: if life.days_run > 0.0 {
            life.total_hazard / life.days_run * DAYS_PER_MONTH
        } else {
            0.0
        },
    });
}

fn concat<T>(parts: Vec<Vec<T>>) -> Vec<T> {
    let mut all = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    parts.into_iter().for_each(|p| all.extend(p));
    all
}

impl SubscriptionPopulationConfig {
    /// Generates the business in memory.
    ///
    /// Subscribers are simulated in parallel (rayon), each from its own
    /// random stream derived from `(seed, id)`, and concatenated in id
    /// order, so the result is bit-identical whatever the number of threads.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) if
    /// [`validate`](SubscriptionPopulationConfig::validate) fails.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::ChurnReason;
    /// use churnwise::synth::SubscriptionPopulationConfig;
    ///
    /// let business = SubscriptionPopulationConfig::default().customers(2_000).seed(7).generate()?;
    /// let churned: Vec<_> = business.truth().iter().filter(|t| t.is_churned()).collect();
    /// let involuntary = churned.iter().filter(|t| t.is_involuntary()).count();
    /// assert!(churned.len() > 200 && involuntary > 0 && involuntary < churned.len() / 2);
    /// assert!(churned.iter().any(|t| t.reason() == Some(&ChurnReason::Price)));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn generate(&self) -> Result<SubscriptionPopulation> {
        self.validate()?;
        let ctx = Ctx::new(self);
        let starts: Vec<usize> = (0..self.customers).step_by(TASK_CUSTOMERS).collect();
        let chunks: Vec<Chunk> = starts
            .into_par_iter()
            .map(|s| {
                let mut chunk = Chunk::default();
                for index in s..(s + TASK_CUSTOMERS).min(self.customers) {
                    simulate(&ctx, index, &mut chunk);
                }
                chunk
            })
            .collect();
        let mut parts = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for c in chunks {
            parts.0.push(c.customers);
            parts.1.push(c.subscriptions);
            parts.2.push(c.events);
            parts.3.push(c.interactions);
            parts.4.push(c.truth);
        }
        Ok(SubscriptionPopulation {
            config: self.clone(),
            customers: concat(parts.0),
            subscriptions: concat(parts.1),
            subscription_events: concat(parts.2),
            interactions: concat(parts.3),
            truth: concat(parts.4),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::life::{Discard, Life, Run, draw_subscriber};
    use super::*;

    #[test]
    fn public_types_are_send_sync_unpin() {
        fn assert_auto<T: Send + Sync + Unpin>() {}
        assert_auto::<SubscriptionPopulationConfig>();
        assert_auto::<SubscriptionPopulation>();
        assert_auto::<SubscriptionTruth>();
    }

    #[test]
    fn replay_reproduces_every_record_up_to_the_cutoff() {
        let config = SubscriptionPopulationConfig::default()
            .customers(600)
            .seed(21);
        let pop = config.generate().unwrap();
        let ctx = Ctx::new(&config);
        for days in [0, 200, 500, 700] {
            let as_of = config.start_time() + chrono::TimeDelta::days(days);
            let cutoff = ctx.secs(as_of);
            let mut replayed = Chunk::default();
            let mut alive = 0;
            for index in 0..config.customer_count() {
                let (profile, traits, mut rng) = draw_subscriber(&ctx, index);
                if profile.signup_secs > cutoff {
                    continue;
                }
                let mut life = Life::begin(&ctx, &profile);
                let end = life.run(
                    &ctx,
                    &profile,
                    &traits,
                    &mut rng,
                    &mut replayed,
                    &Run::replay(cutoff, true),
                );
                let truth = &pop.truth()[index];
                assert_eq!(
                    end == End::Alive,
                    truth.churn_time().is_none_or(|t| t > as_of)
                );
                alive += usize::from(end == End::Alive);
                // The same draws with nothing recorded reach the same state.
                let (_, _, mut rng) = draw_subscriber(&ctx, index);
                let mut quiet = Life::begin(&ctx, &profile);
                quiet.run(
                    &ctx,
                    &profile,
                    &traits,
                    &mut rng,
                    &mut Discard,
                    &Run::replay(cutoff, false),
                );
                assert_eq!(quiet.t, life.t);
            }
            let events: Vec<_> = pop
                .subscription_events()
                .iter()
                .filter(|e| e.time <= as_of)
                .cloned()
                .collect();
            let interactions: Vec<_> = pop
                .interactions()
                .iter()
                .filter(|e| e.time <= as_of)
                .cloned()
                .collect();
            assert_eq!(replayed.events, events, "day {days}");
            assert_eq!(replayed.interactions, interactions, "day {days}");
            assert!(days == 0 || alive > 100, "{alive} alive at day {days}");
        }
    }
}
