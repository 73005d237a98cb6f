//! One subscriber's life: an event-driven simulation with competing
//! exponential clocks, interrupted by scheduled events (period ends, payment
//! retries, the end of a 60-day memory, the start of inactivity, the renewal
//! and price-increase windows). All numbers are documented in the module
//! docs of [`crate::synth`].
//!
//! One loop ([`Life::run`]) serves generation, the replay of a subscriber up
//! to an as-of time and the oracle's continuations from there: a [`Sink`]
//! decides what becomes of the records, and a [`Run`] where the run stops,
//! whether cancellation is drawn or integrated and whether the evidence for
//! the posterior of the hidden traits is gathered.

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};

use super::config::SubscriptionPopulationConfig;
use crate::records::{
    BillingPeriod, ChurnReason, ComplaintTopic, Customer, CustomerId, Interaction, InteractionKind,
    Subscription, SubscriptionEvent, SubscriptionEventKind,
};
use crate::synth::rng::Rng;

const SECS_PER_DAY: f64 = 86_400.0;
const DAY_SECS: i64 = 86_400;

/// Plans, their probabilities, monthly prices and hazard multipliers.
pub(crate) const PLANS: [&str; 3] = ["basic", "plus", "premium"];
const PLAN_WEIGHTS: [f64; 3] = [0.5, 0.3, 0.2];
const MONTHLY_PRICES: [f64; 3] = [12.0, 29.0, 59.0];
const PLAN_HAZARD: [f64; 3] = [1.0, 0.85, 0.7];
/// Channels, their probabilities and hazard multipliers.
const CHANNELS: [&str; 4] = ["web", "app", "store", "referral"];
const CHANNEL_WEIGHTS: [f64; 4] = [0.45, 0.30, 0.15, 0.10];
const CHANNEL_HAZARD: [f64; 4] = [1.0, 1.0, 1.0, 0.7];
/// Regions (uniform, no effect).
const REGIONS: [&str; 4] = ["north", "south", "east", "west"];

/// Days complaints and slow replies stay "recent"; at most this many count.
const RECENT_DAYS: f64 = 60.0;
const RECENT_CAP: usize = 3;
/// Days without a login after which a subscriber is inactive.
const INACTIVE_DAYS: f64 = 14.0;
/// Days before a period end in which the renewal hazard applies.
const PEAK_DAYS_MONTHLY: i64 = 7;
const PEAK_DAYS_YEARLY: i64 = 30;
/// The price hazard applies from this many days before a subscription's
/// price increase to this many after.
const PRICE_NOTICE_DAYS: i64 = 30;
const PRICE_AFTER_DAYS: i64 = 60;
/// Payment retries, in days after the failed renewal.
const RETRY_DAYS: [i64; 2] = [3, 7];
/// Beta concentration (a + b) of the per-subscriber failure probability.
const FAILURE_CONCENTRATION: f64 = 20.0;

/// Usage u ~ Gamma(shape, shape) (mean 1); logins at `logins_per_day × u`,
/// times this per recent complaint or slow reply (at most 3 count).
pub(super) const USAGE_SHAPE: f64 = 2.0;
const LOGIN_DROP: f64 = 0.6;
/// Upgrades per day at usage 1 (below premium, active).
const UPGRADE_PER_DAY: f64 = 1.0 / 720.0;
/// Downgrade rate as a share of the quality + service + price hazard.
const DOWNGRADE_RATIO: f64 = 0.5;
/// Pauses (auto-renewing, active) and resumes per day.
const PAUSE_PER_DAY: f64 = 1.0 / 720.0;
const RESUME_PER_DAY: f64 = 1.0 / 45.0;
/// Support tickets per day at propensity 1 (Gamma(2, 2) propensity).
const TICKETS_PER_DAY: f64 = 1.0 / 90.0;
pub(super) const TICKET_SHAPE: f64 = 2.0;
/// Complaints per day at propensity 1 (Gamma(1.5, 1.5) propensity), doubled
/// while a slow reply is recent.
const COMPLAINTS_PER_DAY: f64 = 1.0 / 300.0;
pub(super) const COMPLAINT_SHAPE: f64 = 1.5;
const SLOW_COMPLAINT_MULT: f64 = 2.0;
/// Complaint topics and their weights.
const TOPICS: [ComplaintTopic; 3] = [
    ComplaintTopic::Product,
    ComplaintTopic::Service,
    ComplaintTopic::Price,
];
const TOPIC_WEIGHTS: [f64; 3] = [0.5, 0.3, 0.2];
/// First-response hours: LogNormal around a subscriber median, itself
/// LogNormal(ln 8 h, 0.8); log-sd 0.6 between tickets; at least 0.1 h.
pub(super) const RESPONSE_MEDIAN_HOURS: f64 = 8.0;
pub(super) const RESPONSE_CUSTOMER_SIGMA: f64 = 0.8;
pub(super) const RESPONSE_TICKET_SIGMA: f64 = 0.6;
const SLOW_REPLY_HOURS: f64 = 24.0;

/// The voluntary reasons, their cause-specific hazard weights (summing to 1).
const REASONS: [ChurnReason; 6] = [
    ChurnReason::ProductQuality,
    ChurnReason::PoorService,
    ChurnReason::Price,
    ChurnReason::Competitor,
    ChurnReason::NeedsChanged,
    ChurnReason::MovedOrClosed,
];
const REASON_WEIGHTS: [f64; 6] = [0.20, 0.15, 0.20, 0.20, 0.15, 0.10];
/// Probability that a cancellation request states its true reason (the
/// others record `other`: no reason given).
const STATED_REASON_PROB: f64 = 0.8;
const QUALITY: usize = 0;
const SERVICE: usize = 1;
const PRICE: usize = 2;
const COMPETITOR: usize = 3;
const NEEDS: usize = 4;
const MOVED: usize = 5;

/// Everything shared by all subscribers of one run.
#[derive(Debug)]
pub(super) struct Ctx<'a> {
    pub(super) config: &'a SubscriptionPopulationConfig,
    pub(super) span_secs: i64,
    span_days: f64,
    /// Prices per plan and period before the increase: [monthly, yearly].
    prices: [[f64; 2]; 3],
}

impl<'a> Ctx<'a> {
    /// `config` must be valid.
    pub(super) fn new(config: &'a SubscriptionPopulationConfig) -> Self {
        let span_secs = (config.end - config.start).num_seconds();
        let prices =
            MONTHLY_PRICES.map(|m| [m, round_cents(12.0 * m * (1.0 - config.yearly_discount))]);
        Ctx {
            config,
            span_secs,
            span_days: span_secs as f64 / SECS_PER_DAY,
            prices,
        }
    }

    /// The instant `secs` whole seconds after `start` (saturating).
    pub(super) fn instant(&self, secs: i64) -> DateTime<Utc> {
        self.config
            .start
            .checked_add_signed(TimeDelta::seconds(secs))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Whole seconds from `start` to `t` (floor; `t` ≥ start).
    pub(super) fn secs(&self, t: DateTime<Utc>) -> i64 {
        (t - self.config.start).num_seconds()
    }
}

/// The whole-second offset of a record made at day `t`.
pub(super) fn whole_seconds(t: f64) -> i64 {
    (t * SECS_PER_DAY).floor() as i64
}

fn round_cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A subscriber's observable, fixed attributes and schedule.
#[derive(Debug, Clone)]
pub(super) struct Profile {
    pub(super) id: CustomerId,
    pub(super) signup_secs: i64,
    pub(super) plan: usize,
    pub(super) channel: usize,
    pub(super) region: usize,
    pub(super) period: BillingPeriod,
    pub(super) auto_renew: bool,
    /// baseline × channel × (manual renewal).
    static_hazard: f64,
    peak_secs: i64,
    /// The period end at which the price increases, if any (seconds).
    increase_secs: Option<i64>,
}

impl Profile {
    fn yearly(&self) -> usize {
        usize::from(self.period == BillingPeriod::Yearly)
    }

    /// Period end number `j` ≥ 1 in seconds after `start` (saturating).
    pub(super) fn period_end(&self, ctx: &Ctx<'_>, j: i64) -> i64 {
        let begin = ctx.instant(self.signup_secs);
        self.period
            .shift(begin, j)
            .map_or(i64::MAX / 4, |b| ctx.secs(b))
    }

    /// The number of the last period end at or before `secs` (0: none).
    pub(super) fn last_period_end_until(&self, ctx: &Ctx<'_>, secs: i64) -> i64 {
        let per = if self.yearly() == 1 { 365 } else { 28 };
        let mut j = ((secs - self.signup_secs) / (per * DAY_SECS)).max(0) + 2;
        while j > 0 && self.period_end(ctx, j) > secs {
            j -= 1;
        }
        j
    }
}

/// A subscriber's hidden traits.
#[derive(Debug, Clone, Copy)]
pub(super) struct Traits {
    pub(super) usage: f64,
    pub(super) ticket: f64,
    pub(super) complaint: f64,
    /// ln of the median first-response hours.
    pub(super) response_mu: f64,
    pub(super) failure: f64,
}

/// Draws a subscriber from their stream: profile, traits, and the stream
/// positioned for their life.
pub(super) fn draw_subscriber(ctx: &Ctx<'_>, index: usize) -> (Profile, Traits, Rng) {
    let c = ctx.config;
    let mut rng = Rng::replica_stream(c.seed, index as u64 + 1, STREAM_SALT, 0);
    let signup_days = rng.uniform() * c.signup_fraction * ctx.span_days;
    let signup_secs = whole_seconds(signup_days).min(ctx.span_secs - 1);
    let plan = rng.categorical(&PLAN_WEIGHTS);
    let channel = rng.categorical(&CHANNEL_WEIGHTS);
    let region = rng.below(REGIONS.len());
    let yearly = rng.bernoulli(c.yearly_share);
    let auto_renew = rng.bernoulli(c.auto_renew_share);
    let usage = rng.gamma(USAGE_SHAPE, USAGE_SHAPE);
    let ticket = rng.gamma(TICKET_SHAPE, TICKET_SHAPE);
    let complaint = rng.gamma(COMPLAINT_SHAPE, COMPLAINT_SHAPE);
    let response_mu = RESPONSE_MEDIAN_HOURS.ln() + RESPONSE_CUSTOMER_SIGMA * rng.normal();
    let failure = if c.payment_failure_rate > 0.0 {
        rng.beta(
            FAILURE_CONCENTRATION * c.payment_failure_rate,
            FAILURE_CONCENTRATION * (1.0 - c.payment_failure_rate),
        )
    } else {
        0.0
    };
    let period = if yearly {
        BillingPeriod::Yearly
    } else {
        BillingPeriod::Monthly
    };
    let manual = if auto_renew {
        1.0
    } else {
        c.manual_renewal_hazard
    };
    let mut profile = Profile {
        id: CustomerId::from(index as u64 + 1),
        signup_secs,
        plan,
        channel,
        region,
        period,
        auto_renew,
        static_hazard: c.baseline_hazard_per_day * CHANNEL_HAZARD[channel] * manual,
        peak_secs: if yearly {
            PEAK_DAYS_YEARLY
        } else {
            PEAK_DAYS_MONTHLY
        } * DAY_SECS,
        increase_secs: None,
    };
    if c.price_increase > 0.0 {
        let from = ctx.secs(c.price_increase_at.max(c.start));
        let j = profile.last_period_end_until(ctx, from.saturating_sub(1)) + 1;
        profile.increase_secs = Some(profile.period_end(ctx, j));
    }
    let traits = Traits {
        usage,
        ticket,
        complaint,
        response_mu,
        failure,
    };
    (profile, traits, rng)
}

/// Salt of the generation streams.
const STREAM_SALT: u64 = 0x7375_6273_5f67_656e; // "subs_gen"

/// The records of a run of consecutive subscribers.
#[derive(Debug, Default)]
pub(super) struct Chunk {
    pub(super) customers: Vec<Customer>,
    pub(super) subscriptions: Vec<Subscription>,
    pub(super) events: Vec<SubscriptionEvent>,
    pub(super) interactions: Vec<Interaction>,
    pub(super) truth: Vec<super::SubscriptionTruth>,
}

/// Where a life sends its records.
pub(super) trait Sink {
    /// Whether records are built at all.
    const RECORDS: bool;
    fn event(&mut self, event: SubscriptionEvent);
    fn interaction(&mut self, interaction: Interaction);
}

impl Sink for Chunk {
    const RECORDS: bool = true;
    fn event(&mut self, event: SubscriptionEvent) {
        self.events.push(event);
    }
    fn interaction(&mut self, interaction: Interaction) {
        self.interactions.push(interaction);
    }
}

/// A sink that keeps nothing.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Discard;

impl Sink for Discard {
    const RECORDS: bool = false;
    fn event(&mut self, _: SubscriptionEvent) {}
    fn interaction(&mut self, _: Interaction) {}
}

/// What the records up to a cutoff reveal about the hidden traits
/// (sufficient statistics of their conjugate posteriors).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Evidence {
    /// Logins and upgrades, and their exposure at usage 1.
    usage_events: f64,
    usage_exposure: f64,
    tickets: f64,
    ticket_exposure: f64,
    complaints: f64,
    complaint_exposure: f64,
    /// Number and sum of ln first-response hours.
    replies: f64,
    log_hours: f64,
    /// First payment attempts: failed and succeeded.
    failed: f64,
    paid: f64,
}

impl Evidence {
    /// Draws the hidden traits from their posterior given the evidence.
    pub(super) fn draw(&self, ctx: &Ctx<'_>, rng: &mut Rng) -> Traits {
        let c = ctx.config;
        let usage = rng.gamma(
            USAGE_SHAPE + self.usage_events,
            USAGE_SHAPE + self.usage_exposure,
        );
        let ticket = rng.gamma(
            TICKET_SHAPE + self.tickets,
            TICKET_SHAPE + self.ticket_exposure,
        );
        let complaint = rng.gamma(
            COMPLAINT_SHAPE + self.complaints,
            COMPLAINT_SHAPE + self.complaint_exposure,
        );
        let prior_precision = 1.0 / (RESPONSE_CUSTOMER_SIGMA * RESPONSE_CUSTOMER_SIGMA);
        let data_precision = self.replies / (RESPONSE_TICKET_SIGMA * RESPONSE_TICKET_SIGMA);
        let precision = prior_precision + data_precision;
        let mean = (RESPONSE_MEDIAN_HOURS.ln() * prior_precision
            + self.log_hours / (RESPONSE_TICKET_SIGMA * RESPONSE_TICKET_SIGMA))
            / precision;
        let response_mu = mean + rng.normal() / precision.sqrt();
        let failure = if c.payment_failure_rate > 0.0 {
            rng.beta(
                FAILURE_CONCENTRATION * c.payment_failure_rate + self.failed,
                FAILURE_CONCENTRATION * (1.0 - c.payment_failure_rate) + self.paid,
            )
        } else {
            0.0
        };
        Traits {
            usage,
            ticket,
            complaint,
            response_mu,
            failure,
        }
    }
}

/// How a run goes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    /// Events at or after this day are not applied (records: seconds after
    /// `stop_secs`).
    stop_days: f64,
    /// Draw cancellations (`false`) or integrate their hazard (`true`).
    integrate: bool,
    /// Gather [`Evidence`].
    observe: bool,
    /// With `integrate`, the hazard counts only before this day.
    eligible_days: f64,
}

impl Run {
    /// Generation: the whole span, cancellations drawn.
    pub(super) fn generate(ctx: &Ctx<'_>) -> Run {
        Run::replay(ctx.span_secs - 1, false)
    }

    /// Up to and including second `cutoff_secs`, cancellations drawn.
    pub(super) fn replay(cutoff_secs: i64, observe: bool) -> Run {
        Run {
            stop_days: (cutoff_secs as f64 + 1.0) / SECS_PER_DAY,
            integrate: false,
            observe,
            eligible_days: 0.0,
        }
    }

    /// A continuation up to second `until_secs`, integrating the
    /// cancellation hazard before second `eligible_secs` (a cancellation
    /// then ends the subscription by `until_secs`).
    pub(super) fn forward(until_secs: i64, eligible_secs: i64) -> Run {
        Run {
            stop_days: (until_secs as f64 + 1.0) / SECS_PER_DAY,
            integrate: true,
            observe: false,
            eligible_days: eligible_secs as f64 / SECS_PER_DAY,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum End {
    /// Still subscribed at the stop.
    Alive,
    /// Ended at this second; `true` when involuntary.
    Ended(i64, bool),
}

/// A subscriber's changing state.
#[derive(Debug, Clone)]
pub(super) struct Life {
    pub(super) t: f64,
    plan: usize,
    price: f64,
    increased: bool,
    paused: bool,
    /// The pending cancellation: request day and reason.
    pub(super) pending: Option<(f64, usize)>,
    /// 0: not in dunning; k: after k failed attempts.
    dunning: usize,
    failed_at_secs: i64,
    complaints: VecDeque<f64>,
    slow: VecDeque<f64>,
    inactive: bool,
    inactive_at: f64,
    /// The next period end's number and second.
    next_j: i64,
    next_end_secs: i64,
    in_peak: bool,
    /// 0 before the price window, 1 in it, 2 after.
    price_phase: u8,
    last_login_secs: i64,
    /// ∫ cancellation hazard (eligible part, when integrating).
    pub(super) integrated: f64,
    /// ∫ cancellation hazard over the whole run, and days run (truth).
    pub(super) total_hazard: f64,
    pub(super) days_run: f64,
    pub(super) evidence: Evidence,
}

/// Scheduled things, in tie-breaking order.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Due {
    PeriodEnd,
    Retry,
    ComplaintExpiry,
    SlowExpiry,
    Inactive,
    PeakOpen,
    PriceWindow,
}

/// Stochastic processes, in the order of their rates.
const LOGIN: usize = 0;
const TICKET: usize = 1;
const COMPLAINT: usize = 2;
const UPGRADE: usize = 3;
const DOWNGRADE: usize = 4;
const PAUSE: usize = 5;
// 6: a cancellation request (drawn only when not integrating).

impl Life {
    /// The life at signup (records the subscription start nothing else).
    pub(super) fn begin(ctx: &Ctx<'_>, p: &Profile) -> Life {
        let t = p.signup_secs as f64 / SECS_PER_DAY;
        let next_end_secs = p.period_end(ctx, 1);
        Life {
            t,
            plan: p.plan,
            price: ctx.prices[p.plan][p.yearly()],
            increased: false,
            paused: false,
            pending: None,
            dunning: 0,
            failed_at_secs: 0,
            complaints: VecDeque::new(),
            slow: VecDeque::new(),
            inactive: false,
            inactive_at: t + INACTIVE_DAYS,
            next_j: 1,
            next_end_secs,
            in_peak: false,
            price_phase: 0,
            last_login_secs: i64::MIN,
            integrated: 0.0,
            total_hazard: 0.0,
            days_run: 0.0,
            evidence: Evidence::default(),
        }
    }

    /// Overwrites `self` with `other`, reusing the queues' buffers.
    pub(super) fn reset_to(&mut self, other: &Life) {
        self.clone_from(other);
    }

    /// The price in effect.
    fn list_price(&self, ctx: &Ctx<'_>, p: &Profile, plan: usize) -> f64 {
        let base = ctx.prices[plan][p.yearly()];
        if self.increased {
            round_cents(base * (1.0 + ctx.config.price_increase))
        } else {
            base
        }
    }

    /// The cause-specific cancellation hazards per day.
    fn components(&self, ctx: &Ctx<'_>, p: &Profile) -> [f64; 6] {
        let c = ctx.config;
        let m = p.static_hazard
            * PLAN_HAZARD[self.plan]
            * if self.in_peak { c.renewal_hazard } else { 1.0 };
        let inactive = if self.inactive {
            c.inactive_hazard
        } else {
            1.0
        };
        let nc = self.complaints.len().min(RECENT_CAP) as i32;
        let ns = self.slow.len().min(RECENT_CAP) as i32;
        let price = if self.price_phase == 1 {
            c.price_increase_hazard
        } else {
            1.0
        };
        [
            m * REASON_WEIGHTS[QUALITY] * c.complaint_hazard.powi(nc),
            m * REASON_WEIGHTS[SERVICE] * c.slow_reply_hazard.powi(ns),
            m * REASON_WEIGHTS[PRICE] * price,
            m * REASON_WEIGHTS[COMPETITOR] * inactive,
            m * REASON_WEIGHTS[NEEDS] * inactive,
            c.baseline_hazard_per_day * REASON_WEIGHTS[MOVED],
        ]
    }

    /// Whether the subscriber can request a cancellation now.
    fn can_cancel(&self) -> bool {
        self.pending.is_none() && self.dunning == 0
    }

    /// Whether the subscription is running normally (not paused, no pending
    /// cancellation, not in dunning).
    fn active(&self) -> bool {
        !self.paused && self.can_cancel()
    }

    /// The next scheduled thing and its day.
    fn next_due(&self, p: &Profile) -> (f64, Due) {
        let mut best = (self.next_end_secs as f64 / SECS_PER_DAY, Due::PeriodEnd);
        let mut consider = |t: f64, d: Due| {
            if t < best.0 {
                best = (t, d);
            }
        };
        if self.dunning > 0 {
            let k = self.dunning - 1;
            consider(
                (self.failed_at_secs + RETRY_DAYS[k] * DAY_SECS) as f64 / SECS_PER_DAY,
                Due::Retry,
            );
        }
        if let Some(&t) = self.complaints.front() {
            consider(t, Due::ComplaintExpiry);
        }
        if let Some(&t) = self.slow.front() {
            consider(t, Due::SlowExpiry);
        }
        if !self.inactive {
            consider(self.inactive_at, Due::Inactive);
        }
        if !self.in_peak {
            consider(
                (self.next_end_secs - p.peak_secs) as f64 / SECS_PER_DAY,
                Due::PeakOpen,
            );
        }
        if let Some(inc) = p.increase_secs {
            let t = match self.price_phase {
                0 => Some(inc - PRICE_NOTICE_DAYS * DAY_SECS),
                1 => Some(inc + PRICE_AFTER_DAYS * DAY_SECS),
                _ => None,
            };
            if let Some(t) = t {
                consider(t as f64 / SECS_PER_DAY, Due::PriceWindow);
            }
        }
        best
    }

    fn record<S: Sink>(
        &self,
        ctx: &Ctx<'_>,
        p: &Profile,
        sink: &mut S,
        secs: i64,
        kind: SubscriptionEventKind,
    ) {
        if S::RECORDS {
            sink.event(SubscriptionEvent::new(
                p.id.clone(),
                subscription_id(&p.id),
                ctx.instant(secs),
                kind,
            ));
        }
    }

    fn interact<S: Sink>(
        &self,
        ctx: &Ctx<'_>,
        p: &Profile,
        sink: &mut S,
        secs: i64,
        kind: InteractionKind,
    ) {
        if S::RECORDS {
            sink.interaction(Interaction::new(p.id.clone(), ctx.instant(secs), kind));
        }
    }

    /// Runs the life until it ends or reaches the run's stop.
    pub(super) fn run<S: Sink>(
        &mut self,
        ctx: &Ctx<'_>,
        p: &Profile,
        tr: &Traits,
        rng: &mut Rng,
        sink: &mut S,
        run: &Run,
    ) -> End {
        let c = ctx.config;
        loop {
            let comps = self.components(ctx, p);
            let hazard: f64 = if self.can_cancel() {
                comps.iter().sum()
            } else {
                0.0
            };
            let drop =
                LOGIN_DROP.powi((self.complaints.len() + self.slow.len()).min(RECENT_CAP) as i32);
            let login_unit = if self.paused {
                0.0
            } else {
                c.logins_per_day * drop
            };
            let upgrade_unit = if self.active() && self.plan + 1 < PLANS.len() {
                UPGRADE_PER_DAY
            } else {
                0.0
            };
            let complaint_unit = COMPLAINTS_PER_DAY
                * if self.slow.is_empty() {
                    1.0
                } else {
                    SLOW_COMPLAINT_MULT
                };
            let downgrade = if self.active() && self.plan > 0 {
                DOWNGRADE_RATIO * (comps[QUALITY] + comps[SERVICE] + comps[PRICE])
            } else {
                0.0
            };
            let pause = if self.paused {
                RESUME_PER_DAY
            } else if self.active() && p.auto_renew {
                PAUSE_PER_DAY
            } else {
                0.0
            };
            let rates = [
                login_unit * tr.usage,
                TICKETS_PER_DAY * tr.ticket,
                complaint_unit * tr.complaint,
                upgrade_unit * tr.usage,
                downgrade,
                pause,
                if run.integrate { 0.0 } else { hazard },
            ];
            let total: f64 = rates.iter().sum();
            let (due_t, due) = self.next_due(p);
            let horizon = due_t.min(run.stop_days);
            let next = self.t + rng.exponential(total);
            let step_to = next.min(horizon).max(self.t);
            // Accumulate exposures over [t, step_to).
            let dt = step_to - self.t;
            self.total_hazard += hazard * dt;
            self.days_run += dt;
            if run.integrate && self.t < run.eligible_days {
                self.integrated += hazard * (step_to.min(run.eligible_days) - self.t);
            }
            if run.observe {
                let e = &mut self.evidence;
                e.usage_exposure += (login_unit + upgrade_unit) * dt;
                e.ticket_exposure += TICKETS_PER_DAY * dt;
                e.complaint_exposure += complaint_unit * dt;
            }
            self.t = step_to;
            if next >= horizon {
                if due_t >= run.stop_days {
                    return End::Alive;
                }
                if let Some(end) = self.scheduled(ctx, p, tr, rng, sink, run, due) {
                    return end;
                }
                continue;
            }
            let secs = whole_seconds(self.t);
            match rng.categorical(&rates) {
                LOGIN => {
                    if run.observe {
                        self.evidence.usage_events += 1.0;
                    }
                    self.inactive = false;
                    self.inactive_at = self.t + INACTIVE_DAYS;
                    // Two logins in the same second would be duplicates: keep one.
                    if secs != self.last_login_secs {
                        self.last_login_secs = secs;
                        self.interact(ctx, p, sink, secs, InteractionKind::Login);
                    }
                }
                TICKET => {
                    let hours = ((rng.lognormal(tr.response_mu, RESPONSE_TICKET_SIGMA) * 10.0)
                        .round()
                        / 10.0)
                        .max(0.1);
                    if run.observe {
                        let e = &mut self.evidence;
                        e.tickets += 1.0;
                        e.replies += 1.0;
                        e.log_hours += hours.ln();
                    }
                    if hours > SLOW_REPLY_HOURS {
                        self.slow.push_back(self.t + RECENT_DAYS);
                    }
                    self.interact(
                        ctx,
                        p,
                        sink,
                        secs,
                        InteractionKind::SupportTicket {
                            first_response_hours: Some(hours),
                        },
                    );
                }
                COMPLAINT => {
                    if run.observe {
                        self.evidence.complaints += 1.0;
                    }
                    let topic = TOPICS[rng.categorical(&TOPIC_WEIGHTS)];
                    self.complaints.push_back(self.t + RECENT_DAYS);
                    self.interact(ctx, p, sink, secs, InteractionKind::Complaint { topic });
                }
                UPGRADE => {
                    if run.observe {
                        self.evidence.usage_events += 1.0;
                    }
                    self.plan += 1;
                    self.price = self.list_price(ctx, p, self.plan);
                    let kind = SubscriptionEventKind::Upgrade {
                        price: self.price,
                        plan: Some(PLANS[self.plan].to_owned()),
                    };
                    self.record(ctx, p, sink, secs, kind);
                }
                DOWNGRADE => {
                    self.plan -= 1;
                    self.price = self.list_price(ctx, p, self.plan);
                    let kind = SubscriptionEventKind::Downgrade {
                        price: self.price,
                        plan: Some(PLANS[self.plan].to_owned()),
                    };
                    self.record(ctx, p, sink, secs, kind);
                }
                PAUSE => {
                    self.paused = !self.paused;
                    let kind = if self.paused {
                        SubscriptionEventKind::Pause
                    } else {
                        SubscriptionEventKind::Resume
                    };
                    self.record(ctx, p, sink, secs, kind);
                }
                _ => {
                    // A cancellation request.
                    let reason = rng.categorical(&comps);
                    self.pending = Some((self.t, reason));
                    let stated = if rng.bernoulli(STATED_REASON_PROB) {
                        REASONS[reason].clone()
                    } else {
                        ChurnReason::Other
                    };
                    let kind = SubscriptionEventKind::CancellationRequested {
                        reason: stated,
                        note: None,
                    };
                    self.record(ctx, p, sink, secs, kind);
                }
            }
        }
    }

    /// Applies a scheduled thing at `self.t`; `Some` when the subscription ends.
    #[allow(clippy::too_many_arguments)]
    fn scheduled<S: Sink>(
        &mut self,
        ctx: &Ctx<'_>,
        p: &Profile,
        tr: &Traits,
        rng: &mut Rng,
        sink: &mut S,
        run: &Run,
        due: Due,
    ) -> Option<End> {
        let c = ctx.config;
        match due {
            Due::PeriodEnd => {
                let secs = self.next_end_secs;
                if self.pending.is_some() {
                    self.record(ctx, p, sink, secs, SubscriptionEventKind::Ended);
                    return Some(End::Ended(secs, false));
                }
                if !self.paused {
                    if !self.increased && p.increase_secs.is_some_and(|i| secs >= i) {
                        self.increased = true;
                        self.price = self.list_price(ctx, p, self.plan);
                        let kind = SubscriptionEventKind::Upgrade {
                            price: self.price,
                            plan: None,
                        };
                        self.record(ctx, p, sink, secs, kind);
                    }
                    if p.auto_renew && c.payment_failure_rate > 0.0 && rng.bernoulli(tr.failure) {
                        if run.observe {
                            self.evidence.failed += 1.0;
                        }
                        self.dunning = 1;
                        self.failed_at_secs = secs;
                        self.record(ctx, p, sink, secs, SubscriptionEventKind::PaymentFailed);
                    } else {
                        if run.observe && p.auto_renew {
                            self.evidence.paid += 1.0;
                        }
                        self.record(ctx, p, sink, secs, SubscriptionEventKind::Renewal);
                    }
                }
                self.next_j += 1;
                self.next_end_secs = p.period_end(ctx, self.next_j);
                self.in_peak = false;
            }
            Due::Retry => {
                let secs = self.failed_at_secs + RETRY_DAYS[self.dunning - 1] * DAY_SECS;
                if rng.bernoulli(c.retry_success) {
                    self.dunning = 0;
                    self.record(ctx, p, sink, secs, SubscriptionEventKind::Renewal);
                } else {
                    self.record(ctx, p, sink, secs, SubscriptionEventKind::PaymentFailed);
                    if self.dunning == RETRY_DAYS.len() {
                        self.record(ctx, p, sink, secs, SubscriptionEventKind::Ended);
                        return Some(End::Ended(secs, true));
                    }
                    self.dunning += 1;
                }
            }
            Due::ComplaintExpiry => {
                self.complaints.pop_front();
            }
            Due::SlowExpiry => {
                self.slow.pop_front();
            }
            Due::Inactive => self.inactive = true,
            Due::PeakOpen => self.in_peak = true,
            Due::PriceWindow => self.price_phase += 1,
        }
        None
    }
}

/// The subscription id of customer `id`'s (only) subscription.
pub(super) fn subscription_id(id: &CustomerId) -> String {
    format!("S-{id}")
}

/// The records of a subscriber's start: customer and subscription.
pub(super) fn start_records(ctx: &Ctx<'_>, p: &Profile) -> (Customer, Subscription) {
    let signup = ctx.instant(p.signup_secs);
    let customer = Customer::new(p.id.clone(), signup)
        .with_plan(PLANS[p.plan])
        .with_channel(CHANNELS[p.channel])
        .with_region(REGIONS[p.region]);
    let subscription = Subscription::new(
        p.id.clone(),
        subscription_id(&p.id),
        PLANS[p.plan],
        signup,
        p.period,
        ctx.prices[p.plan][p.yearly()],
    )
    .with_auto_renew(p.auto_renew);
    (customer, subscription)
}

/// The reason of a cancellation component.
pub(super) fn reason(index: usize) -> ChurnReason {
    REASONS[index].clone()
}
