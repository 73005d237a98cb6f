//! One customer's life: an event-driven simulation with competing exponential clocks.
//!
//! Every stochastic process (purchases, logins and visits, support tickets,
//! complaints, surveys, the churn hazard) has a rate that is constant between
//! events. The time to the next event is exponential with the sum of the
//! rates, and which process fired is drawn in proportion to its rate
//! (Gillespie's direct method). Deterministic events (30-day ticks, renewal
//! windows, campaigns, the end of a 60-day memory, scheduled refunds and
//! surveys) interrupt the draw; by memorylessness the clocks are then simply
//! redrawn. All numbers are documented in the module docs of [`crate::synth`].
//!
//! One loop ([`Life::run`]) serves generation, the replay of a customer up to
//! an as-of time ([`Resumable::replay`]) and the continuations from there
//! (oracle replicas and campaigns): an [`EventSink`] decides what becomes of
//! the events, and a [`Run`] where the run stops, how the hazard is scaled
//! and whether churn is drawn or integrated.

use chrono::{DateTime, NaiveDate, Utc};

use super::config::PopulationConfig;
use super::dirty::inject_dirty;
use super::rng::Rng;
use super::truth::{ChurnCause, CustomerTruth, InjectedCounts, InterventionResponses, LatentType};
use crate::records::{
    ComplaintTopic, Customer, CustomerId, Feedback, Interaction, InteractionKind, Order,
    SatisfactionScale,
};
use crate::util::SECONDS_PER_DAY;

/// Days in the "recent" window for complaints and slow replies.
const RECENT_DAYS: f64 = 60.0;
/// Days between refresh ticks (tenure updates).
const TICK_DAYS: f64 = 30.0;
/// Days in a contract year (premium renewal).
const YEAR_DAYS: f64 = 365.0;
/// Days of elevated hazard before each premium renewal.
const RENEWAL_WINDOW_DAYS: f64 = 30.0;
/// Days to a year of tenure.
const TENURE_YEAR_DAYS: f64 = 365.25;
/// Tenure is capped at this many years in the hazard.
const TENURE_CAP_YEARS: f64 = 3.0;
/// At most this many recent complaints or slow replies count in the hazard.
const RECENT_CAP: i32 = 3;
/// A first response slower than this is a slow reply.
const SLOW_REPLY_HOURS: f64 = 24.0;

/// Plans, their probabilities, spend multipliers and hazard multipliers.
pub(crate) const PLANS: [&str; 3] = ["basic", "plus", "premium"];
const PLAN_WEIGHTS: [f64; 3] = [0.5, 0.3, 0.2];
const PLAN_SPEND: [f64; 3] = [1.0, 1.1, 1.3];
const PLAN_HAZARD: [f64; 3] = [1.0, 0.9, 0.8];
const PREMIUM: usize = 2;

/// Channels, their probabilities and hazard multipliers.
pub(crate) const CHANNELS: [&str; 4] = ["web", "app", "store", "referral"];
const CHANNEL_WEIGHTS: [f64; 4] = [0.45, 0.30, 0.15, 0.10];
const CHANNEL_HAZARD: [f64; 4] = [1.0, 1.0, 1.0, 0.7];
const STORE: usize = 2;

/// Regions (uniform, no effect: a null attribute).
pub(crate) const REGIONS: [&str; 4] = ["north", "south", "east", "west"];

/// Median order amount of the median customer, and the spreads.
pub(super) const SPEND_MEDIAN: f64 = 55.0;
const SPEND_CUSTOMER_SIGMA: f64 = 0.6;
const SPEND_ORDER_SIGMA: f64 = 0.4;
/// Probability that an order is later partly refunded, and mean days until then.
const REFUND_PROB: f64 = 0.03;
const REFUND_DELAY_DAYS: f64 = 7.0;
/// Probability of a refund after a product complaint, and mean days until then.
const COMPLAINT_REFUND_PROB: f64 = 0.4;
const COMPLAINT_REFUND_DELAY_DAYS: f64 = 3.0;

/// Engagement noise (log-sd) around `sqrt(λ / mean λ)`.
const ENGAGEMENT_SIGMA: f64 = 0.4;
/// Engagement clamp in the hazard.
const ENGAGEMENT_CLAMP: (f64, f64) = (0.25, 4.0);
/// Probability that an engagement event is a visit (store customers / others).
const VISIT_PROB_STORE: f64 = 0.8;
const VISIT_PROB_OTHER: f64 = 0.2;
/// Silent spells: onset and recovery rates per day, and the factor on
/// engagement and campaign response while silent.
const SILENT_ONSET_PER_DAY: f64 = 1.0 / 400.0;
const SILENT_RECOVERY_PER_DAY: f64 = 1.0 / 90.0;
const SILENT_ENGAGEMENT: f64 = 0.25;

/// Support: tickets per day for the average customer (Gamma(2, 2) propensity).
const TICKETS_PER_DAY: f64 = 1.0 / 120.0;
/// Shape and rate of the Gamma (mean 1) of the ticket propensity.
const TICKET_PROPENSITY: f64 = 2.0;
/// Median first-response hours of the median customer, spread between
/// customers (service quality) and between tickets.
const RESPONSE_MEDIAN_HOURS: f64 = 8.0;
const RESPONSE_CUSTOMER_SIGMA: f64 = 0.8;
const RESPONSE_TICKET_SIGMA: f64 = 0.6;
/// Probability of a satisfaction survey after a ticket is answered.
const POST_TICKET_SURVEY_PROB: f64 = 0.3;

/// Complaints per day for the average customer (Gamma(1.5, 1.5) propensity)
/// and per-type multipliers (price, service, indifferent).
const COMPLAINTS_PER_DAY: f64 = 1.0 / 240.0;
/// Shape and rate of the Gamma (mean 1) of the complaint propensity.
const COMPLAINT_PROPENSITY: f64 = 1.5;
const COMPLAINT_TYPE_RATE: [f64; 3] = [1.0, 1.0, 0.6];
/// Complaint rate multiplier while a slow reply is recent (DOMAIN.md: replies
/// slower than 24 h doubled the complaint rate).
const SLOW_REPLY_COMPLAINT_MULT: f64 = 2.0;
/// Probability that a complaint also opens a support ticket.
const COMPLAINT_TICKET_PROB: f64 = 0.5;
/// Topic weights [product, service, price, delivery, other] per type.
const TOPICS: [ComplaintTopic; 5] = [
    ComplaintTopic::Product,
    ComplaintTopic::Service,
    ComplaintTopic::Price,
    ComplaintTopic::Delivery,
    ComplaintTopic::Other,
];
const TOPIC_WEIGHTS: [[f64; 5]; 3] = [
    [0.25, 0.10, 0.50, 0.10, 0.05],
    [0.25, 0.50, 0.05, 0.15, 0.05],
    [0.45, 0.10, 0.10, 0.25, 0.10],
];
/// Exponent of the slow-reply hazard multiplier per type.
const SLOW_REPLY_TYPE_EXPONENT: [f64; 3] = [1.0, 2.0, 0.5];

/// Surveys per day (besides post-ticket surveys).
const SURVEYS_PER_DAY: f64 = 1.0 / 150.0;
/// Customer-level satisfaction mean and sd; answer noise; penalties per recent
/// complaint and slow reply (at most 3 count).
const SATISFACTION_MEAN: f64 = 4.2;
const SATISFACTION_CUSTOMER_SD: f64 = 0.5;
const SATISFACTION_NOISE_SD: f64 = 0.6;
const SATISFACTION_COMPLAINT_PENALTY: f64 = 0.9;
const SATISFACTION_SLOW_PENALTY: f64 = 0.8;
/// A satisfaction at or below this is low.
const LOW_SATISFACTION: f64 = 2.0;
/// Probability that a survey answer includes NPS.
const NPS_PROB: f64 = 0.4;

/// Campaigns: the first this many days after `start`, then every `CAMPAIGN_EVERY_DAYS`.
const CAMPAIGN_FIRST_DAY: f64 = 45.0;
const CAMPAIGN_EVERY_DAYS: f64 = 91.0;
/// Response probability per type (price, service, indifferent) and mean delay in days.
const CAMPAIGN_RESPONSE: [f64; 3] = [0.30, 0.12, 0.10];
const CAMPAIGN_DELAY_DAYS: f64 = 2.0;

/// After churn: probability of a trailing login, of a second one, and their mean gap.
const TRAILING_LOGIN_PROB: f64 = 0.35;
const SECOND_TRAILING_LOGIN_PROB: f64 = 0.3;
const TRAILING_GAP_DAYS: f64 = 5.0;

/// Intervention responses (relative hazard reduction).
const DISCOUNT: [f64; 3] = [0.40, 0.05, 0.10];
const VIP_SERVICE: [f64; 3] = [0.05, 0.40, 0.10];
const FREE_REPAIR: (f64, f64) = (0.45, 0.0);
const REACTIVATION: (f64, f64) = (0.25, 0.05);
const ONBOARDING: (f64, f64) = (0.30, 0.05);

/// Everything shared by all customers of one generation run.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    pub(super) config: &'a PopulationConfig,
    start: DateTime<Utc>,
    start_secs: i64,
    start_nanos: u32,
    span_secs: i64,
    span_days: f64,
    mean_rate: f64,
    campaigns: Vec<(f64, String)>,
    /// `tenure_hazard_per_year ^ min(years, 3)` after `k` ticks, for each `k`
    /// until the cap (the last entry holds from then on).
    tenure_mults: Vec<f64>,
}

impl<'a> Context<'a> {
    /// Precomputes what every customer needs. `config` must be valid.
    pub(crate) fn new(config: &'a PopulationConfig) -> Self {
        let span_secs = (config.end - config.start).num_seconds();
        let span_days = span_secs as f64 / SECONDS_PER_DAY as f64;
        let mut ctx = Context {
            config,
            start: config.start,
            start_secs: config.start.timestamp(),
            start_nanos: config.start.timestamp_subsec_nanos(),
            span_secs,
            span_days,
            mean_rate: config.purchase_shape / config.purchase_alpha_days,
            campaigns: Vec::new(),
            tenure_mults: Vec::new(),
        };
        let mut ticks = 0u32;
        loop {
            let years = f64::from(ticks) * TICK_DAYS / TENURE_YEAR_DAYS;
            ctx.tenure_mults.push(
                config
                    .tenure_hazard_per_year
                    .powf(years.min(TENURE_CAP_YEARS)),
            );
            if years >= TENURE_CAP_YEARS {
                break;
            }
            ticks += 1;
        }
        let mut day = CAMPAIGN_FIRST_DAY;
        while day < span_days {
            let date: NaiveDate = ctx.at(day).date_naive();
            ctx.campaigns
                .push((day, format!("campaign-{}", date.format("%Y-%m-%d"))));
            day += CAMPAIGN_EVERY_DAYS;
        }
        ctx
    }

    /// The instant `days` after `start`, truncated to whole seconds and kept
    /// before `end`.
    pub(super) fn at(&self, days: f64) -> DateTime<Utc> {
        let secs = whole_seconds(days).min(self.span_secs - 1);
        DateTime::from_timestamp(self.start_secs.saturating_add(secs), self.start_nanos)
            .unwrap_or(self.start)
    }

    /// The instant `days` after `start`, truncated to whole seconds like
    /// [`Context::at`] but not kept before `end` (continuations run past it).
    /// Days past the range of `DateTime` give `start`; callers bound `days`.
    pub(super) fn instant(&self, days: f64) -> DateTime<Utc> {
        DateTime::from_timestamp(
            self.start_secs.saturating_add(whole_seconds(days)),
            self.start_nanos,
        )
        .unwrap_or(self.start)
    }
}

/// The records and truth of a run of consecutive customers.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    pub(crate) customers: Vec<Customer>,
    pub(crate) orders: Vec<Order>,
    pub(crate) interactions: Vec<Interaction>,
    pub(crate) feedback: Vec<Feedback>,
    pub(crate) truth: Vec<CustomerTruth>,
    pub(crate) injected: InjectedCounts,
}

impl Chunk {
    /// Simulates customers with 0-based indices `range` (ids `index + 1`).
    pub(crate) fn generate(ctx: &Context<'_>, range: std::ops::Range<usize>) -> Chunk {
        // Rough capacities for the default mechanics, so the vectors rarely
        // reallocate while they grow (an underestimate only costs a copy).
        // Capped, so extreme (valid) settings cannot ask for absurd capacities.
        let n = range.len();
        let capacity = |per_customer: f64| (per_customer.min(64.0) * n as f64) as usize;
        let days = ctx.span_days * (1.0 - 0.5 * ctx.config.signup_fraction);
        let orders = 1.0 + ctx.mean_rate * days;
        let mut chunk = Chunk {
            customers: Vec::with_capacity(n),
            orders: Vec::with_capacity(capacity(orders)),
            interactions: Vec::with_capacity(capacity(
                (1.0 + ctx.config.engagement_per_purchase) * orders,
            )),
            feedback: Vec::with_capacity(capacity(days / 90.0)),
            truth: Vec::with_capacity(n),
            injected: InjectedCounts::default(),
        };
        let mut pending = Vec::new();
        for index in range {
            pending = simulate(ctx, index, &mut chunk, pending);
        }
        chunk
    }
}

/// Where a customer's life sends what happens in it.
///
/// Generation builds records into a [`Chunk`]; the churn oracle discards
/// everything ([`Discard`]); a campaign tallies orders. The random draws are
/// the same whatever the sink, so a life is the same life in each.
pub(super) trait EventSink {
    /// Whether interaction and feedback records are built at all (`false`
    /// skips building them; nothing else changes).
    const RECORDS: bool;
    /// A purchase of `amount` (> 0) at day `t`.
    fn purchase(&mut self, ctx: &Context<'_>, id: &CustomerId, t: f64, amount: f64);
    /// A refund of `amount` (< 0) at day `t`.
    fn refund(&mut self, ctx: &Context<'_>, id: &CustomerId, t: f64, amount: f64);
    /// An interaction record (only called when [`Self::RECORDS`]).
    fn interaction(&mut self, interaction: Interaction);
    /// A survey answer (only called when [`Self::RECORDS`]).
    fn feedback(&mut self, feedback: Feedback);
}

impl EventSink for Chunk {
    const RECORDS: bool = true;
    fn purchase(&mut self, ctx: &Context<'_>, id: &CustomerId, t: f64, amount: f64) {
        self.orders.push(Order::new(id.clone(), ctx.at(t), amount));
    }
    fn refund(&mut self, ctx: &Context<'_>, id: &CustomerId, t: f64, amount: f64) {
        self.orders.push(Order::new(id.clone(), ctx.at(t), amount));
    }
    fn interaction(&mut self, interaction: Interaction) {
        self.interactions.push(interaction);
    }
    fn feedback(&mut self, feedback: Feedback) {
        self.feedback.push(feedback);
    }
}

/// A sink that keeps nothing: only the state and the outcome matter.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Discard;

impl EventSink for Discard {
    const RECORDS: bool = false;
    fn purchase(&mut self, _: &Context<'_>, _: &CustomerId, _: f64, _: f64) {}
    fn refund(&mut self, _: &Context<'_>, _: &CustomerId, _: f64, _: f64) {}
    fn interaction(&mut self, _: Interaction) {}
    fn feedback(&mut self, _: Feedback) {}
}

/// Something scheduled at a fixed time.
#[derive(Debug, Clone, Copy)]
enum Pending {
    Tick,
    RenewalOpen,
    RenewalClose,
    Campaign(usize),
    CampaignResponse(usize),
    ComplaintExpiry,
    SlowExpiry,
    Refund(f64),
    Survey,
}

/// The stochastic processes, in the order of their rates.
const PURCHASE: usize = 0;
const ENGAGE: usize = 1;
const TICKET: usize = 2;
const COMPLAINT: usize = 3;
const SURVEY: usize = 4;
const SILENCE: usize = 5;
const HAZARD: usize = 6;

/// A customer's fixed latent traits.
#[derive(Debug, Clone)]
pub(super) struct Traits {
    kind: usize,
    plan: usize,
    channel: usize,
    purchase_rate: f64,
    dropout: f64,
    spend_mean: f64,
    engagement_rel: f64,
    engagement_rate: f64,
    ticket_rate: f64,
    complaint_rate: f64,
    response_median_hours: f64,
    satisfaction_base: f64,
    /// The slow-reply hazard multiplier for this customer's type.
    slow_unit: f64,
    /// Hazard factors that never change: baseline × plan × channel × engagement.
    static_hazard: f64,
}

/// A customer's changing state.
#[derive(Debug, Clone, Copy)]
struct State {
    /// `tenure_hazard_per_year ^ min(tenure years at the last tick, 3)`.
    tenure_mult: f64,
    recent_complaints: i32,
    recent_slow: i32,
    low_satisfaction: bool,
    ticks: u32,
    in_renewal: bool,
    /// In a silent spell (engagement and campaign response fall, hazard rises).
    silent: bool,
    product_complaints: u32,
}

/// What a customer's records up to a cutoff reveal about their hidden traits
/// and silent spell: the sufficient statistics of the conjugate posteriors,
/// and a two-state filter over the spell (see [`Evidence::draw`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Evidence {
    /// Days since signup (the exposure of the purchase and ticket clocks).
    exposure: f64,
    repeat_purchases: u32,
    /// Tickets from the ticket clock (not those that complaints open).
    tickets: u32,
    complaints: u32,
    /// ∫ the complaint-rate multiplier dt (doubled while a slow reply is recent).
    complaint_exposure: f64,
    /// Answered tickets and the sum of their log first-response hours.
    responses: u32,
    log_hours: f64,
    /// P(active), P(silent) given the engagement events, campaign responses
    /// and survival so far (normalised after every update).
    spell: [f64; 2],
}

impl Evidence {
    const NONE: Evidence = Evidence {
        exposure: 0.0,
        repeat_purchases: 0,
        tickets: 0,
        complaints: 0,
        complaint_exposure: 0.0,
        responses: 0,
        log_hours: 0.0,
        spell: [1.0, 0.0],
    };

    /// Nothing observed for `dt` days: the clocks' exposure grows, and the
    /// spell filter moves by the two-state chain while weighting each state
    /// by the chance of no engagement event and no churn (`rates` = the
    /// engagement rate plus the churn hazard in each state).
    fn wait(&mut self, dt: f64, slow_recent: bool, rates: [f64; 2]) {
        if dt <= 0.0 {
            return;
        }
        self.exposure += dt;
        self.complaint_exposure += dt
            * if slow_recent {
                SLOW_REPLY_COMPLAINT_MULT
            } else {
                1.0
            };
        // w ← w · exp(M dt), M = Q − diag(rates), by the 2 × 2 closed form
        // e^{Ms} ∝ (1 + e^{−2δs})/2 · I + (1 − e^{−2δs})/(2δ) · (M − mI),
        // scaled by e^{−(m+δ)s} so nothing overflows (the filter is normalised).
        let (a, b) = (-SILENT_ONSET_PER_DAY - rates[0], SILENT_ONSET_PER_DAY);
        let (c, d) = (SILENT_RECOVERY_PER_DAY, -SILENT_RECOVERY_PER_DAY - rates[1]);
        let m = 0.5 * (a + d);
        let delta = (0.25 * (a - d) * (a - d) + b * c).sqrt();
        let decay = (-2.0 * delta * dt).exp();
        let (diag, off) = (0.5 * (1.0 + decay), 0.5 * (1.0 - decay) / delta);
        let [w0, w1] = self.spell;
        self.set_spell([
            w0 * (diag + off * (a - m)) + w1 * off * c,
            w0 * off * b + w1 * (diag + off * (d - m)),
        ]);
    }

    /// Sets the spell filter to the weights `w`, normalised.
    fn set_spell(&mut self, w: [f64; 2]) {
        let total = w[0] + w[1];
        if total > 0.0 && total.is_finite() {
            self.spell = [w[0] / total, w[1] / total];
        }
    }

    /// A ticket answered after `hours` (recorded to 0.1 h, so at least 0.05).
    fn answered(&mut self, hours: f64) {
        self.responses += 1;
        self.log_hours += hours.max(0.05).ln();
    }

    /// Multiplies the spell filter by an event's likelihood in each state.
    fn observe_spell(&mut self, likelihood: [f64; 2]) {
        self.set_spell([self.spell[0] * likelihood[0], self.spell[1] * likelihood[1]]);
    }

    /// Draws traits and a spell state from the posterior given the records:
    /// λ ~ Gamma(r + x, α + T), p ~ Beta(a, b + x) (x repeat purchases
    /// survived in T days), the complaint and ticket propensities from their
    /// Gamma posteriors given counts and exposure, the log median response
    /// time from its normal posterior, and the spell from the filter. The
    /// type, relative engagement, spending and satisfaction level are kept.
    fn draw(&self, ctx: &Context<'_>, tr: &Traits, rng: &mut Rng) -> (Traits, bool) {
        let cfg = ctx.config;
        let x = f64::from(self.repeat_purchases);
        let complaint_base = COMPLAINTS_PER_DAY * COMPLAINT_TYPE_RATE[tr.kind];
        let prior_precision = 1.0 / (RESPONSE_CUSTOMER_SIGMA * RESPONSE_CUSTOMER_SIGMA);
        let ticket_precision = 1.0 / (RESPONSE_TICKET_SIGMA * RESPONSE_TICKET_SIGMA);
        let precision = prior_precision + f64::from(self.responses) * ticket_precision;
        let log_median = (RESPONSE_MEDIAN_HOURS.ln() * prior_precision
            + self.log_hours * ticket_precision)
            / precision;
        let traits = Traits {
            purchase_rate: rng.gamma(
                cfg.purchase_shape + x,
                cfg.purchase_alpha_days + self.exposure,
            ),
            dropout: rng.beta(cfg.dropout_a, cfg.dropout_b + x),
            complaint_rate: complaint_base
                * rng.gamma(
                    COMPLAINT_PROPENSITY + f64::from(self.complaints),
                    COMPLAINT_PROPENSITY + complaint_base * self.complaint_exposure,
                ),
            ticket_rate: TICKETS_PER_DAY
                * rng.gamma(
                    TICKET_PROPENSITY + f64::from(self.tickets),
                    TICKET_PROPENSITY + TICKETS_PER_DAY * self.exposure,
                ),
            response_median_hours: (log_median + rng.normal() / precision.sqrt()).exp(),
            ..tr.clone()
        };
        (traits, rng.bernoulli(self.spell[1]))
    }
}

/// Per-customer output bookkeeping (where this customer's records start).
pub(super) struct Marks {
    pub(super) orders: usize,
    pub(super) interactions: usize,
    pub(super) feedback: usize,
}

pub(super) fn round_cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The whole-second offset from `start` of the record made at day `t`
/// (what [`Context::at`] uses, before its clamp to the span).
fn whole_seconds(t: f64) -> i64 {
    (t * SECONDS_PER_DAY as f64).floor() as i64
}

/// A customer's draws before their life starts.
struct Drawn {
    id: CustomerId,
    rng: Rng,
    signup: f64,
    region: usize,
    traits: Traits,
}

/// Customer-level draws (their order is part of the output's definition).
fn draw_customer(ctx: &Context<'_>, index: usize) -> Drawn {
    let cfg = ctx.config;
    let id_num = index as u64 + 1;
    let mut rng = Rng::stream(cfg.seed, id_num);
    let signup = rng.uniform() * cfg.signup_fraction * ctx.span_days;
    let kind = rng.categorical(&[
        cfg.price_sensitive_share,
        cfg.service_sensitive_share,
        (1.0 - cfg.price_sensitive_share - cfg.service_sensitive_share).max(0.0),
    ]);
    let plan = rng.categorical(&PLAN_WEIGHTS);
    let channel = rng.categorical(&CHANNEL_WEIGHTS);
    let region = rng.below(REGIONS.len());
    let purchase_rate = rng.gamma(cfg.purchase_shape, cfg.purchase_alpha_days);
    let dropout = rng.beta(cfg.dropout_a, cfg.dropout_b);
    let spend_mean = rng.lognormal(SPEND_MEDIAN.ln(), SPEND_CUSTOMER_SIGMA) * PLAN_SPEND[plan];
    let engagement_rel = (purchase_rate / ctx.mean_rate).sqrt()
        * rng.lognormal(-0.5 * ENGAGEMENT_SIGMA * ENGAGEMENT_SIGMA, ENGAGEMENT_SIGMA);
    let ticket_rate = TICKETS_PER_DAY * rng.gamma(TICKET_PROPENSITY, TICKET_PROPENSITY);
    let complaint_rate = COMPLAINTS_PER_DAY
        * rng.gamma(COMPLAINT_PROPENSITY, COMPLAINT_PROPENSITY)
        * COMPLAINT_TYPE_RATE[kind];
    let response_median_hours = rng.lognormal(RESPONSE_MEDIAN_HOURS.ln(), RESPONSE_CUSTOMER_SIGMA);
    let satisfaction_base = SATISFACTION_MEAN + SATISFACTION_CUSTOMER_SD * rng.normal();
    let engagement_clamped = engagement_rel.clamp(ENGAGEMENT_CLAMP.0, ENGAGEMENT_CLAMP.1);
    let traits = Traits {
        kind,
        plan,
        channel,
        purchase_rate,
        dropout,
        spend_mean,
        engagement_rel,
        engagement_rate: cfg.engagement_per_purchase * ctx.mean_rate * engagement_rel,
        ticket_rate,
        complaint_rate,
        response_median_hours,
        satisfaction_base,
        slow_unit: cfg.slow_reply_hazard.powf(SLOW_REPLY_TYPE_EXPONENT[kind]),
        static_hazard: cfg.baseline_hazard_per_day
            * PLAN_HAZARD[plan]
            * CHANNEL_HAZARD[channel]
            * engagement_clamped.powf(-cfg.engagement_hazard_elasticity),
    };
    Drawn {
        id: CustomerId::from(id_num),
        rng,
        signup,
        region,
        traits,
    }
}

/// Simulates customer `index` into `out`; `pending` is a buffer to reuse,
/// returned for the next customer.
fn simulate(
    ctx: &Context<'_>,
    index: usize,
    out: &mut Chunk,
    pending: Vec<(f64, Pending)>,
) -> Vec<(f64, Pending)> {
    let cfg = ctx.config;
    let Drawn {
        id,
        mut rng,
        signup,
        region,
        traits,
    } = draw_customer(ctx, index);
    let plan = traits.plan;

    out.customers.push(
        Customer::new(id.clone(), ctx.at(signup))
            .with_plan(PLANS[plan])
            .with_channel(CHANNELS[traits.channel])
            .with_region(REGIONS[region]),
    );
    let marks = Marks {
        orders: out.orders.len(),
        interactions: out.interactions.len(),
        feedback: out.feedback.len(),
    };

    let mut life = Life::begin(ctx, &traits, signup, &id, &mut rng, out, pending);
    let (churn_day, cause) = match life.run(ctx, &traits, &id, &mut rng, out, &Run::generation(ctx))
    {
        End::Churned(t, cause) => (Some(t), Some(cause)),
        End::Alive | End::Paused => (None, None),
    };
    let state = life.st;

    if let Some(tc) = churn_day {
        if plan == PREMIUM {
            out.interactions.push(Interaction::new(
                id.clone(),
                ctx.at(tc),
                InteractionKind::Cancellation,
            ));
        }
        if rng.bernoulli(TRAILING_LOGIN_PROB) {
            let t1 = tc + rng.exponential(1.0 / TRAILING_GAP_DAYS);
            if t1 < ctx.span_days {
                out.interactions.push(Interaction::new(
                    id.clone(),
                    ctx.at(t1),
                    InteractionKind::Login,
                ));
                if rng.bernoulli(SECOND_TRAILING_LOGIN_PROB) {
                    let t2 = t1 + rng.exponential(1.0 / TRAILING_GAP_DAYS);
                    if t2 < ctx.span_days {
                        out.interactions.push(Interaction::new(
                            id.clone(),
                            ctx.at(t2),
                            InteractionKind::Login,
                        ));
                    }
                }
            }
        }
    }

    if cfg.dirty_fraction > 0.0 {
        let active_until = churn_day.unwrap_or(ctx.span_days);
        inject_dirty(ctx, index, signup, active_until, &marks, &mut rng, out);
    }

    let kind = traits.kind;
    let slow_buyer = traits.purchase_rate < 0.5 * ctx.mean_rate;
    out.truth.push(CustomerTruth {
        id,
        latent_type: LatentType::ALL[kind],
        purchase_rate_per_day: traits.purchase_rate,
        dropout_probability: traits.dropout,
        service_response_hours: traits.response_median_hours,
        churn_time: churn_day.map(|d| ctx.at(d)),
        churn_cause: cause,
        responses: InterventionResponses {
            discount: DISCOUNT[kind],
            vip_service: VIP_SERVICE[kind],
            free_repair: if state.product_complaints > 0 {
                FREE_REPAIR.0
            } else {
                FREE_REPAIR.1
            },
            reactivation: if traits.engagement_rel < 1.0 {
                REACTIVATION.0
            } else {
                REACTIVATION.1
            },
            onboarding: if slow_buyer {
                ONBOARDING.0
            } else {
                ONBOARDING.1
            },
        },
    });
    life.pending
}

/// How a [`Life::run`] goes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    /// Nothing happens at or after this day: the run ends alive
    /// ([`End::Alive`]). The end of the span when generating.
    stop: f64,
    /// Events whose record would fall more than this many whole seconds after
    /// `start` do not happen: the run pauses before the first of them
    /// ([`End::Paused`]).
    cutoff_secs: i64,
    /// The day where `cutoff_secs` ends (the first instant after it).
    cutoff_days: f64,
    /// The hazard multiplier `1 − effect` (1 when generating).
    hazard_scale: f64,
    /// Instead of drawing churn, accumulate the probability of surviving it
    /// into [`Life::log_survival`]: the hazard is integrated along the path,
    /// and each repeat purchase multiplies survival by `1 − p` (the path then
    /// goes on as if the customer never churned).
    integrate_churn: bool,
    /// Accumulate the [`Evidence`] the records give (replays only).
    observe: bool,
}

impl Run {
    /// Generation: from signup to churn or the end of the span.
    pub(super) fn generation(ctx: &Context<'_>) -> Run {
        Run {
            stop: ctx.span_days,
            cutoff_secs: i64::MAX,
            cutoff_days: f64::INFINITY,
            hazard_scale: 1.0,
            integrate_churn: false,
            observe: false,
        }
    }

    /// Generation, paused before the first event after `cutoff_secs`;
    /// `observe` accumulates the [`Evidence`] on the way.
    fn replay(ctx: &Context<'_>, cutoff_secs: i64, observe: bool) -> Run {
        Run {
            cutoff_secs,
            cutoff_days: cutoff_end_days(cutoff_secs),
            observe,
            ..Run::generation(ctx)
        }
    }

    /// A continuation up to `cutoff_secs` (which may lie past the end of the
    /// span), with the hazard multiplied by `hazard_scale`; with
    /// `integrate_churn`, churn is integrated instead of drawn.
    pub(super) fn forward(cutoff_secs: i64, hazard_scale: f64, integrate_churn: bool) -> Run {
        Run {
            stop: f64::INFINITY,
            cutoff_secs,
            cutoff_days: cutoff_end_days(cutoff_secs),
            hazard_scale,
            integrate_churn,
            observe: false,
        }
    }
}

/// The first day whose record falls after whole second `cutoff_secs`.
fn cutoff_end_days(cutoff_secs: i64) -> f64 {
    (cutoff_secs as f64 + 1.0) / SECONDS_PER_DAY as f64
}

/// How a [`Life::run`] ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum End {
    /// Churned at this day, by this mechanism.
    Churned(f64, ChurnCause),
    /// Reached [`Run::stop`] alive.
    Alive,
    /// Alive, and the next event falls after [`Run::cutoff_secs`]: the state
    /// is the customer's state at the cutoff, ready to be continued.
    Paused,
}

/// A customer's life in progress: everything needed to continue it.
///
/// Apart from the traits, which never change, this is the whole latent state:
/// the time, the [`State`] (risk counters, tenure, renewal window, silent
/// spell), and the scheduled events (ticks, renewals, campaigns and responses,
/// expiries of recent complaints and slow replies, refunds, surveys). The
/// competing clocks are memoryless, so a paused life continues exactly like
/// an uninterrupted one.
#[derive(Debug, Clone)]
pub(super) struct Life {
    t: f64,
    st: State,
    pending: Vec<(f64, Pending)>,
    /// The last login and visit records (to drop same-second duplicates).
    last_login: Option<DateTime<Utc>>,
    last_visit: Option<DateTime<Utc>>,
    /// The log-probability of having survived both churn mechanisms along
    /// the path, for runs with [`Run::integrate_churn`].
    log_survival: f64,
    /// What the records so far reveal, for runs with [`Run::observe`].
    evidence: Evidence,
}

impl Life {
    /// Starts a life at `signup`: schedules the first events and makes the
    /// trial purchase (not a dropout opportunity, as in BG/NBD). `pending` is
    /// a buffer to reuse.
    fn begin<S: EventSink>(
        ctx: &Context<'_>,
        tr: &Traits,
        signup: f64,
        id: &CustomerId,
        rng: &mut Rng,
        sink: &mut S,
        mut pending: Vec<(f64, Pending)>,
    ) -> Life {
        pending.clear();
        pending.push((signup + TICK_DAYS, Pending::Tick));
        if tr.plan == PREMIUM {
            pending.push((
                signup + YEAR_DAYS - RENEWAL_WINDOW_DAYS,
                Pending::RenewalOpen,
            ));
        }
        if let Some(k) = ctx.campaigns.iter().position(|(d, _)| *d >= signup) {
            pending.push((ctx.campaigns[k].0, Pending::Campaign(k)));
        }
        let amount = round_cents(tr.spend_mean * order_noise(rng));
        sink.purchase(ctx, id, signup, amount);
        Life {
            t: signup,
            st: State {
                tenure_mult: 1.0,
                recent_complaints: 0,
                recent_slow: 0,
                low_satisfaction: false,
                ticks: 0,
                in_renewal: false,
                silent: false,
                product_complaints: 0,
            },
            pending,
            last_login: None,
            last_visit: None,
            log_survival: 0.0,
            evidence: Evidence::NONE,
        }
    }

    /// Makes `self` a copy of `other`, reusing `self`'s buffer.
    pub(super) fn reset_to(&mut self, other: &Life) {
        self.t = other.t;
        self.st = other.st;
        self.pending.clone_from(&other.pending);
        self.last_login = other.last_login;
        self.last_visit = other.last_visit;
        self.log_survival = other.log_survival;
        self.evidence = other.evidence;
    }

    /// The log-probability of having survived churn along the path, for runs
    /// with [`Run::integrate_churn`] (0 otherwise).
    pub(super) fn log_survival(&self) -> f64 {
        self.log_survival
    }

    /// Runs the competing clocks until churn, [`Run::stop`] or the first
    /// event after [`Run::cutoff_secs`].
    pub(super) fn run<S: EventSink>(
        &mut self,
        ctx: &Context<'_>,
        tr: &Traits,
        id: &CustomerId,
        rng: &mut Rng,
        sink: &mut S,
        run: &Run,
    ) -> End {
        let cfg = ctx.config;
        let visit_prob = if tr.channel == STORE {
            VISIT_PROB_STORE
        } else {
            VISIT_PROB_OTHER
        };
        let st = &mut self.st;
        let pending = &mut self.pending;
        let mut t = self.t;
        let mut rates = [0.0f64; 7];
        let mut hazard = 0.0;
        let mut total = 0.0;
        let mut damp = 1.0;
        // Engagement damping and hazard outside a silent spell (for the filter).
        let mut calm_damp = 1.0;
        let mut calm_hazard = 0.0;
        let mut stale = true;
        let end = loop {
            if stale {
                // Risk state: multiplies the hazard, and damps engagement.
                let risk = cfg
                    .complaint_hazard
                    .powi(st.recent_complaints.min(RECENT_CAP))
                    * tr.slow_unit.powi(st.recent_slow.min(RECENT_CAP))
                    * if st.low_satisfaction {
                        cfg.low_satisfaction_hazard
                    } else {
                        1.0
                    };
                calm_damp = 1.0 / risk.sqrt();
                damp = calm_damp * if st.silent { SILENT_ENGAGEMENT } else { 1.0 };
                rates[PURCHASE] = tr.purchase_rate;
                rates[ENGAGE] = tr.engagement_rate * damp;
                rates[TICKET] = tr.ticket_rate;
                rates[COMPLAINT] = tr.complaint_rate
                    * if st.recent_slow > 0 {
                        SLOW_REPLY_COMPLAINT_MULT
                    } else {
                        1.0
                    };
                rates[SURVEY] = SURVEYS_PER_DAY;
                rates[SILENCE] = if st.silent {
                    SILENT_RECOVERY_PER_DAY
                } else {
                    SILENT_ONSET_PER_DAY
                };
                calm_hazard = tr.static_hazard
                    * risk
                    * st.tenure_mult
                    * if st.in_renewal {
                        cfg.renewal_hazard
                    } else {
                        1.0
                    }
                    * run.hazard_scale;
                // The same product as `calm_hazard` in the order generation
                // has always used (so populations stay bit-identical).
                hazard = tr.static_hazard
                    * risk
                    * st.tenure_mult
                    * if st.silent { cfg.silent_hazard } else { 1.0 }
                    * if st.in_renewal {
                        cfg.renewal_hazard
                    } else {
                        1.0
                    }
                    * run.hazard_scale;
                // Integrated, the hazard is no clock: the path goes on as if
                // it never fired, weighted by its survival.
                rates[HAZARD] = if run.integrate_churn { 0.0 } else { hazard };
                total = rates.iter().sum();
                stale = false;
            }
            let dt = rng.exponential(total);

            // The next scheduled event (first of equal times wins).
            let mut next = None;
            let mut next_t = run.stop;
            for (i, &(tp, _)) in pending.iter().enumerate() {
                if tp < next_t {
                    next_t = tp;
                    next = Some(i);
                }
            }
            let scheduled = t + dt >= next_t;
            let at = if scheduled { next_t } else { t + dt };
            let paused = whole_seconds(at) > run.cutoff_secs;
            let until = if paused { run.cutoff_days } else { at };
            if run.integrate_churn {
                self.log_survival -= hazard * (until - t).max(0.0);
            }
            if run.observe {
                let engagement = tr.engagement_rate * calm_damp;
                self.evidence.wait(
                    until - t,
                    st.recent_slow > 0,
                    [
                        engagement + calm_hazard,
                        engagement * SILENT_ENGAGEMENT + calm_hazard * cfg.silent_hazard,
                    ],
                );
            }
            if paused {
                t = t.max(run.cutoff_days);
                break End::Paused;
            }
            if scheduled {
                t = next_t;
                let Some(i) = next else {
                    break End::Alive; // reached the stop (end of the span) alive
                };
                let (_, what) = pending.swap_remove(i);
                stale = true;
                match what {
                    Pending::Tick => {
                        st.ticks += 1;
                        let k = (st.ticks as usize).min(ctx.tenure_mults.len() - 1);
                        st.tenure_mult = ctx.tenure_mults[k];
                        pending.push((t + TICK_DAYS, Pending::Tick));
                    }
                    Pending::RenewalOpen => {
                        st.in_renewal = true;
                        pending.push((t + RENEWAL_WINDOW_DAYS, Pending::RenewalClose));
                    }
                    Pending::RenewalClose => {
                        st.in_renewal = false;
                        pending.push((t + YEAR_DAYS - RENEWAL_WINDOW_DAYS, Pending::RenewalOpen));
                    }
                    Pending::Campaign(k) => {
                        let response =
                            CAMPAIGN_RESPONSE[tr.kind] * tr.engagement_rel.sqrt().clamp(0.5, 1.5);
                        let responds = rng.bernoulli(response * damp);
                        if responds {
                            let delay = rng.exponential(1.0 / CAMPAIGN_DELAY_DAYS);
                            pending.push((t + delay, Pending::CampaignResponse(k)));
                        }
                        if run.observe {
                            let calm_p = response * calm_damp;
                            let silent_p = calm_p * SILENT_ENGAGEMENT;
                            self.evidence.observe_spell(if responds {
                                [calm_p, silent_p]
                            } else {
                                [1.0 - calm_p, 1.0 - silent_p]
                            });
                        }
                        if let Some((d, _)) = ctx.campaigns.get(k + 1) {
                            pending.push((*d, Pending::Campaign(k + 1)));
                        }
                    }
                    Pending::CampaignResponse(k) => {
                        if S::RECORDS {
                            let campaign = ctx.campaigns[k].1.clone();
                            sink.interaction(Interaction::new(
                                id.clone(),
                                ctx.at(t),
                                InteractionKind::CampaignResponse { campaign },
                            ));
                        }
                    }
                    Pending::ComplaintExpiry => st.recent_complaints -= 1,
                    Pending::SlowExpiry => st.recent_slow -= 1,
                    Pending::Refund(amount) => sink.refund(ctx, id, t, amount),
                    Pending::Survey => survey(ctx, tr, st, t, id, rng, sink),
                }
                continue;
            }

            t += dt;
            match rng.categorical(&rates) {
                PURCHASE => {
                    let amount = round_cents(tr.spend_mean * order_noise(rng));
                    sink.purchase(ctx, id, t, amount);
                    if rng.bernoulli(REFUND_PROB) {
                        let back = -round_cents(amount * rng.uniform_range(0.3, 1.0));
                        let delay = rng.exponential(1.0 / REFUND_DELAY_DAYS);
                        pending.push((t + delay, Pending::Refund(back)));
                    }
                    if run.observe {
                        self.evidence.repeat_purchases += 1;
                    }
                    if run.integrate_churn {
                        self.log_survival += (-tr.dropout).ln_1p();
                    } else if rng.bernoulli(tr.dropout) {
                        break End::Churned(t, ChurnCause::Dropout);
                    }
                }
                ENGAGE => {
                    if run.observe {
                        self.evidence.observe_spell([1.0, SILENT_ENGAGEMENT]);
                    }
                    let visit = rng.bernoulli(visit_prob);
                    if S::RECORDS {
                        let when = ctx.at(t);
                        // Two logins (or visits) in the same second would be exact
                        // duplicates of each other: keep the first.
                        let last = if visit {
                            &mut self.last_visit
                        } else {
                            &mut self.last_login
                        };
                        if *last != Some(when) {
                            *last = Some(when);
                            let kind = if visit {
                                InteractionKind::Visit
                            } else {
                                InteractionKind::Login
                            };
                            sink.interaction(Interaction::new(id.clone(), when, kind));
                        }
                    }
                }
                TICKET => {
                    let hours = ticket(ctx, tr, st, t, id, rng, sink, pending);
                    if run.observe {
                        self.evidence.tickets += 1;
                        self.evidence.answered(hours);
                    }
                    stale = true;
                }
                COMPLAINT => {
                    let topic = TOPICS[rng.categorical(&TOPIC_WEIGHTS[tr.kind])];
                    if S::RECORDS {
                        sink.interaction(Interaction::new(
                            id.clone(),
                            ctx.at(t),
                            InteractionKind::Complaint { topic },
                        ));
                    }
                    st.recent_complaints += 1;
                    stale = true;
                    pending.push((t + RECENT_DAYS, Pending::ComplaintExpiry));
                    if topic == ComplaintTopic::Product {
                        st.product_complaints += 1;
                        if rng.bernoulli(COMPLAINT_REFUND_PROB) {
                            let back = -round_cents(tr.spend_mean * rng.uniform_range(0.3, 1.0));
                            let delay = rng.exponential(1.0 / COMPLAINT_REFUND_DELAY_DAYS);
                            pending.push((t + delay, Pending::Refund(back)));
                        }
                    }
                    if run.observe {
                        self.evidence.complaints += 1;
                    }
                    if rng.bernoulli(COMPLAINT_TICKET_PROB) {
                        let hours = ticket(ctx, tr, st, t, id, rng, sink, pending);
                        if run.observe {
                            self.evidence.answered(hours);
                        }
                    }
                }
                SURVEY => {
                    survey(ctx, tr, st, t, id, rng, sink);
                    stale = true;
                }
                SILENCE => {
                    st.silent = !st.silent;
                    stale = true;
                }
                _ => break End::Churned(t, ChurnCause::Hazard),
            }
        };
        self.t = t;
        end
    }
}

/// A customer's exact latent state at an as-of second, found by replaying
/// their generated life up to it.
#[derive(Debug, Clone)]
pub(super) struct Resumable {
    id: CustomerId,
    traits: Traits,
    life: Life,
}

impl Resumable {
    /// Replays customer `index` exactly as generation does (same stream, same
    /// draws) and stops before the first event whose record would fall more
    /// than `cutoff_secs` whole seconds after `start`. `None` when the
    /// customer signs up after that or has churned by then, which is exactly
    /// when the generated population shows a signup after the cutoff or a
    /// churn time at or before it. With `observe`, it also gathers what the
    /// records reveal, for [`Resumable::resume_given_records`].
    pub(super) fn replay(
        ctx: &Context<'_>,
        index: usize,
        cutoff_secs: i64,
        observe: bool,
    ) -> Option<Resumable> {
        Resumable::replay_into(ctx, index, cutoff_secs, observe, &mut Discard)
    }

    /// [`Resumable::replay`], sending the replayed events to `sink`.
    fn replay_into<S: EventSink>(
        ctx: &Context<'_>,
        index: usize,
        cutoff_secs: i64,
        observe: bool,
        sink: &mut S,
    ) -> Option<Resumable> {
        let Drawn {
            id,
            mut rng,
            signup,
            traits,
            ..
        } = draw_customer(ctx, index);
        if whole_seconds(signup) > cutoff_secs {
            return None;
        }
        let mut life = Life::begin(ctx, &traits, signup, &id, &mut rng, sink, Vec::new());
        match life.run(
            ctx,
            &traits,
            &id,
            &mut rng,
            sink,
            &Run::replay(ctx, cutoff_secs, observe),
        ) {
            End::Churned(..) => None,
            End::Alive | End::Paused => {
                // Nothing happened between the last event and the cutoff, so by
                // memorylessness the clocks restart there.
                life.t = life.t.max(cutoff_end_days(cutoff_secs));
                Some(Resumable { id, traits, life })
            }
        }
    }

    /// The customer's id.
    pub(super) fn id(&self) -> &CustomerId {
        &self.id
    }

    /// The life as of the cutoff (a template for [`Resumable::resume`]).
    pub(super) fn life(&self) -> &Life {
        &self.life
    }

    /// Continues the life from the cutoff in `scratch` (overwritten with the
    /// snapshot first), drawing from `rng`.
    pub(super) fn resume<S: EventSink>(
        &self,
        ctx: &Context<'_>,
        scratch: &mut Life,
        rng: &mut Rng,
        sink: &mut S,
        run: &Run,
    ) -> End {
        scratch.reset_to(&self.life);
        scratch.run(ctx, &self.traits, &self.id, rng, sink, run)
    }

    /// [`Resumable::resume`], with the hidden traits and the silent spell
    /// drawn first from their posterior given the records up to the cutoff
    /// ([`Evidence::draw`]) instead of taken from the replayed truth.
    pub(super) fn resume_given_records<S: EventSink>(
        &self,
        ctx: &Context<'_>,
        scratch: &mut Life,
        rng: &mut Rng,
        sink: &mut S,
        run: &Run,
    ) -> End {
        scratch.reset_to(&self.life);
        let (traits, silent) = self.life.evidence.draw(ctx, &self.traits, rng);
        scratch.st.silent = silent;
        scratch.run(ctx, &traits, &self.id, rng, sink, run)
    }
}

/// Per-order amount multiplier: log-normal with mean 1.
pub(super) fn order_noise(rng: &mut Rng) -> f64 {
    rng.lognormal(
        -0.5 * SPEND_ORDER_SIGMA * SPEND_ORDER_SIGMA,
        SPEND_ORDER_SIGMA,
    )
}

#[allow(clippy::too_many_arguments)]
fn ticket<S: EventSink>(
    ctx: &Context<'_>,
    tr: &Traits,
    st: &mut State,
    t: f64,
    id: &CustomerId,
    rng: &mut Rng,
    sink: &mut S,
    pending: &mut Vec<(f64, Pending)>,
) -> f64 {
    let hours =
        (rng.lognormal(tr.response_median_hours.ln(), RESPONSE_TICKET_SIGMA) * 10.0).round() / 10.0;
    if S::RECORDS {
        sink.interaction(Interaction::new(
            id.clone(),
            ctx.at(t),
            InteractionKind::SupportTicket {
                first_response_hours: Some(hours),
            },
        ));
    }
    if hours > SLOW_REPLY_HOURS {
        st.recent_slow += 1;
        pending.push((t + RECENT_DAYS, Pending::SlowExpiry));
    }
    if rng.bernoulli(POST_TICKET_SURVEY_PROB) {
        let when = t + hours / 24.0 + rng.exponential(1.0);
        pending.push((when, Pending::Survey));
    }
    hours
}

fn survey<S: EventSink>(
    ctx: &Context<'_>,
    tr: &Traits,
    st: &mut State,
    t: f64,
    id: &CustomerId,
    rng: &mut Rng,
    sink: &mut S,
) {
    let raw = tr.satisfaction_base + SATISFACTION_NOISE_SD * rng.normal()
        - SATISFACTION_COMPLAINT_PENALTY * f64::from(st.recent_complaints.min(3))
        - SATISFACTION_SLOW_PENALTY * f64::from(st.recent_slow.min(3));
    let satisfaction = raw.round().clamp(1.0, 5.0);
    st.low_satisfaction = satisfaction <= LOW_SATISFACTION;
    let nps = if rng.bernoulli(NPS_PROB) {
        let nps = (2.2 * (satisfaction - 1.0) + 0.5 + 1.2 * rng.normal())
            .round()
            .clamp(0.0, 10.0);
        Some(nps as u8)
    } else {
        None
    };
    if S::RECORDS {
        let mut f = Feedback::new(
            id.clone(),
            ctx.at(t),
            satisfaction,
            SatisfactionScale::FIVE_POINT,
        );
        if let Some(nps) = nps {
            f = f.with_nps(nps);
        }
        sink.feedback(f);
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn spell_filter_matches_stepwise_integration() {
        // dw/dt = w (Q − diag(rates)), integrated in small Euler steps and
        // normalised, against the closed form.
        let rates = [0.3, 0.05];
        let mut closed = Evidence::NONE;
        closed.spell = [0.7, 0.3];
        let mut w = closed.spell;
        closed.wait(40.0, false, rates);
        let steps = 400_000;
        let h = 40.0 / f64::from(steps);
        for _ in 0..steps {
            let d0 = -w[0] * (SILENT_ONSET_PER_DAY + rates[0]) + w[1] * SILENT_RECOVERY_PER_DAY;
            let d1 = w[0] * SILENT_ONSET_PER_DAY - w[1] * (SILENT_RECOVERY_PER_DAY + rates[1]);
            w = [w[0] + h * d0, w[1] + h * d1];
        }
        let total = w[0] + w[1];
        assert!((closed.spell[1] - w[1] / total).abs() < 1e-5);
        assert_eq!(closed.exposure, 40.0);
        // Without evidence, the filter relaxes to the chain's stationary law.
        let mut idle = Evidence::NONE;
        idle.wait(5_000.0, false, [0.0, 0.0]);
        let stationary = SILENT_ONSET_PER_DAY / (SILENT_ONSET_PER_DAY + SILENT_RECOVERY_PER_DAY);
        assert!((idle.spell[1] - stationary).abs() < 1e-12);
    }

    #[test]
    fn replay_reproduces_every_record_up_to_the_cutoff() {
        let config = PopulationConfig::default().customers(1500).seed(21);
        let pop = config.generate().unwrap();
        let ctx = Context::new(&config);
        for days in [0, 200, 500, 730] {
            let as_of = config.start_time() + TimeDelta::days(days) - TimeDelta::seconds(1);
            let cutoff = (as_of - config.start_time()).num_seconds();
            let mut replayed = Chunk::default();
            let mut alive = 0;
            for index in 0..config.customer_count() {
                let before = (
                    replayed.orders.len(),
                    replayed.interactions.len(),
                    replayed.feedback.len(),
                );
                let resumed = Resumable::replay_into(&ctx, index, cutoff, false, &mut replayed);
                let truth = &pop.truth()[index];
                let signed_up = pop.customers()[index].signup <= as_of;
                let expect_alive = signed_up && truth.churn_time().is_none_or(|t| t > as_of);
                assert_eq!(
                    resumed.is_some(),
                    expect_alive,
                    "customer {index} at day {days}"
                );
                if resumed.is_none() {
                    // Churned customers' records stop at their churn; drop the
                    // replayed ones and compare only the living.
                    replayed.orders.truncate(before.0);
                    replayed.interactions.truncate(before.1);
                    replayed.feedback.truncate(before.2);
                } else {
                    alive += 1;
                }
            }
            let id_alive = |id: &CustomerId| {
                let i = id.as_u64().map_or(usize::MAX, |v| v as usize - 1);
                let c = &pop.customers()[i];
                c.signup <= as_of && pop.truth()[i].churn_time().is_none_or(|t| t > as_of)
            };
            let orders: Vec<_> = pop
                .orders()
                .iter()
                .filter(|o| o.time <= as_of && id_alive(&o.customer))
                .cloned()
                .collect();
            let interactions: Vec<_> = pop
                .interactions()
                .iter()
                .filter(|x| x.time <= as_of && id_alive(&x.customer))
                .cloned()
                .collect();
            let feedback: Vec<_> = pop
                .feedback()
                .iter()
                .filter(|f| f.time <= as_of && id_alive(&f.customer))
                .cloned()
                .collect();
            assert_eq!(replayed.orders, orders, "day {days}");
            assert_eq!(replayed.interactions, interactions, "day {days}");
            assert_eq!(replayed.feedback, feedback, "day {days}");
            assert!(days == 0 || alive > 100, "{alive} alive at day {days}");
        }
    }

    #[test]
    fn a_resumed_life_starts_after_the_cutoff() {
        let config = PopulationConfig::default().customers(300).seed(2);
        let ctx = Context::new(&config);
        let cutoff = 400 * 86_400;
        let run = Run::forward(cutoff + 30 * 86_400, 1.0, false);
        for index in 0..300 {
            let Some(snapshot) = Resumable::replay(&ctx, index, cutoff, false) else {
                continue;
            };
            assert!(whole_seconds(snapshot.life().t) > cutoff);
            assert!(
                snapshot
                    .life()
                    .pending
                    .iter()
                    .all(|&(t, _)| whole_seconds(t) > cutoff)
            );
            let mut scratch = snapshot.life().clone();
            let mut rng = Rng::stream(1, index as u64);
            if let End::Churned(t, _) =
                snapshot.resume(&ctx, &mut scratch, &mut rng, &mut Discard, &run)
            {
                let secs = whole_seconds(t);
                assert!(secs > cutoff && secs <= cutoff + 30 * 86_400);
            }
        }
    }
}
