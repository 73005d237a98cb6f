//! Seeded synthetic customer populations with known ground truth.
//!
//! [`PopulationConfig::generate`] simulates customers, their orders,
//! interactions and survey answers, and returns them as the record types of
//! [`crate::records`] together with each customer's hidden truth
//! ([`CustomerTruth`]): latent type, purchase rate, dropout probability, churn
//! time and cause, and the true effect of each intervention. Churn models,
//! segmentations, alert rules and retention plans can then be checked against
//! what really happened. [`PopulationConfig::generate_into`] streams the same
//! records into a [`HistoryBuilder`](crate::records::HistoryBuilder) with
//! bounded memory, and [`simulate_bgnbd`] draws pure BG/NBD data for
//! parameter-recovery tests. [`PopulationConfig::churn_probabilities`] gives
//! each customer's true churn probability after an as-of time (an oracle for
//! churn models; [`PopulationConfig::churn_probabilities_given_records`]
//! gives it from what the records show, the best any model can do), and
//! [`PopulationConfig::simulate_campaign`] runs a retention
//! campaign with known effects from there.
//! [`SubscriptionPopulationConfig::generate`] simulates a subscription
//! business instead, with its own truth and records oracle (see
//! [Subscription businesses](#subscription-businesses)).
//!
//! ```
//! use churnwise::synth::PopulationConfig;
//!
//! let pop = PopulationConfig::default().customers(500).seed(7).generate()?;
//! let churned = pop.truth().iter().filter(|t| t.is_churned()).count();
//! assert_eq!(pop.customers().len(), 500);
//! assert!(churned > 0 && churned < 500);
//! # Ok::<(), churnwise::Error>(())
//! ```
//!
//! # Determinism and speed
//!
//! Customer `i` (id `i`, for `i` in `1..=customers`) draws from its own
//! xoshiro256++ stream seeded from `(seed, i)` through SplitMix64, so the
//! output is bit-identical for the same configuration whatever the number of
//! rayon threads. The generator has its own RNG and samplers, so a dependency
//! upgrade never changes a population. Each customer is an event-driven
//! simulation with competing exponential clocks (no day-by-day stepping): one
//! million customers (about 10 M orders and 20 M interactions) take a few
//! seconds on two cores.
//!
//! # Mechanics
//!
//! Times are in days from `start`; records carry whole seconds. Everything
//! below is part of the documented behaviour; the numbers that are not
//! configuration are fixed so that ground truth stays comparable across runs.
//!
//! **Customers.** Signup is uniform over the first `signup_fraction` of the
//! span. Attributes: plan `basic`/`plus`/`premium` with probabilities
//! 0.5/0.3/0.2; channel `web`/`app`/`store`/`referral` with 0.45/0.30/0.15/0.10;
//! region `north`/`south`/`east`/`west`, uniform (no effect). The latent type is
//! drawn from the configured mix.
//!
//! | process | mechanics | parameters (default) |
//! |---|---|---|
//! | purchase rate | λ ~ Gamma(shape r, rate α) per customer | `purchase_shape` r (1.5), `purchase_alpha_days` α (52): a purchase every 35 days on average |
//! | purchases | a trial order at signup, then a Poisson process with rate λ while alive | |
//! | dropout | right after each *repeat* purchase the customer leaves with probability p ~ Beta(a, b) (BG/NBD, Fader, Hardie & Lee 2005) | `dropout_a` (2), `dropout_b` (80) |
//! | amounts | customer mean m ~ LogNormal(ln 55, 0.6) × plan factor 1 / 1.1 / 1.3; each order m × LogNormal with mean 1 and log-sd 0.4, rounded to cents | |
//! | refunds | 3% of orders are partly refunded (30–100%) after Exp(mean 7 d); after a product complaint a refund of 30–100% of m follows with probability 0.4 after Exp(mean 3 d) | |
//! | logins / visits | rate `engagement_per_purchase` × (r/α) × e, with relative engagement e = √(λ/(r/α)) × LogNormal(mean 1, log-sd 0.4); visits are 80% of them for `store` customers, 20% otherwise; the rate is divided by √risk (below) and cut to a quarter during silent spells | `engagement_per_purchase` (2.5) |
//! | support tickets | rate 1/120 per day × Gamma(2, 2) propensity; first-response hours LogNormal around a customer-level median ~ LogNormal(ln 8 h, 0.8) with log-sd 0.6 (about 12% of replies are slower than 24 h, concentrated on some customers) | |
//! | complaints | rate 1/240 per day × Gamma(1.5, 1.5) propensity × 1 / 1 / 0.6 (price / service / indifferent), **doubled while a reply slower than 24 h is recent** (DOMAIN.md); half of them also open a ticket | |
//! | complaint topics | price-sensitive: price 0.50, product 0.25, service 0.10, delivery 0.10, other 0.05; service-sensitive: service 0.50, product 0.25, delivery 0.15, price 0.05, other 0.05; indifferent: product 0.45, delivery 0.25, service 0.10, price 0.10, other 0.10 | `price_sensitive_share` (0.35), `service_sensitive_share` (0.35) |
//! | surveys | rate 1/150 per day, plus one after 30% of tickets (when answered, plus Exp(1 d)); satisfaction = round(s + N(0, 0.6) − 0.9 × recent complaints − 0.8 × recent slow replies) clamped to 1–5, with s ~ N(4.2, 0.5) per customer and at most 3 of each counted; 40% include NPS = round(2.2 (sat − 1) + 0.5 + N(0, 1.2)) clamped to 0–10 | |
//! | campaigns | on day 45 of the span and every 91 days after, named `campaign-YYYY-MM-DD`; response probability 0.30 / 0.12 / 0.10 (price / service / indifferent) × clamp(√e, 0.5, 1.5), divided by √risk and quartered while silent; the response is recorded Exp(mean 2 d) later | |
//! | silent spells | start at rate 1/400 per day, end at rate 1/90 per day | `silent_hazard` (5) |
//!
//! **Churn hazard.** Besides dropout, a customer leaves when a continuous
//! hazard fires. It is piecewise constant, recomputed at every event and at a
//! refresh tick every 30 days after signup:
//!
//! ```text
//! h = baseline × plan × channel × clamp(e, 0.25, 4)^(−β)
//!       × risk × tenure^min(years, 3) × [renewal] × [silent]
//! risk = complaint^min(n_c, 3) × slow^(k × min(n_s, 3)) × [low satisfaction]
//! ```
//!
//! | factor | meaning | parameter (default) |
//! |---|---|---|
//! | baseline | per day | `baseline_hazard_per_day` (1/4500) |
//! | plan, channel | basic 1, plus 0.9, premium 0.8; referral 0.7, other channels 1 | |
//! | e^(−β) | engaged customers stay | `engagement_hazard_elasticity` β (0.5) |
//! | complaint^n_c | n_c = complaints in the last 60 days | `complaint_hazard` (4) |
//! | slow^(k n_s) | n_s = replies slower than 24 h to tickets opened in the last 60 days; k = 2 service-sensitive, 1 price-sensitive, 0.5 indifferent | `slow_reply_hazard` (2.5) |
//! | low satisfaction | while the last answer is 1 or 2 | `low_satisfaction_hazard` (3) |
//! | tenure | years since signup, updated at each 30-day tick | `tenure_hazard_per_year` (0.75) |
//! | renewal | premium only: the 30 days before each signup anniversary (contract renewal) | `renewal_hazard` (3) |
//! | silent | during a silent spell | `silent_hazard` (5) |
//!
//! Churn time is the first of dropout and hazard ([`ChurnCause`]); customers
//! active at `end` have none. After churn there are no more orders, refunds,
//! tickets, complaints, surveys or campaign responses: a premium customer
//! records an [`InteractionKind::Cancellation`](crate::records::InteractionKind::Cancellation)
//! at the churn time, and with probability 0.35 one trailing login follows
//! (Exp(mean 5 d) later; a second with probability 0.3).
//!
//! With the defaults, about 46% of customers churn before `end` (20% by
//! dropout, 26% by the hazard), and among customers active one year in, the
//! 90-day churn rate is about 11% with no complaint in the previous 90 days,
//! 17% after one and 28% after two or more; 23% after a slow reply; 25% after
//! a low satisfaction answer.
//!
//! **Intervention responses** ([`InterventionResponses`], relative reduction
//! of the hazard): discount 0.40 price-sensitive / 0.05 service-sensitive /
//! 0.10 indifferent; VIP service 0.05 / 0.40 / 0.10; free repair 0.45 with at
//! least one product complaint, else 0; reactivation 0.25 when e < 1, else
//! 0.05; onboarding 0.30 when λ < r/(2α), else 0.05. The generator applies no
//! intervention: these are the truth to evaluate targeting against, and
//! [`PopulationConfig::simulate_campaign`] applies them when asked.
//!
//! An effect reduces the continuous churn hazard above, never the BG/NBD
//! dropout after a purchase. Dropout stands for customers who leave silently,
//! for reasons no retention offer reaches, and its probability p is a fixed
//! trait of the customer (as in BG/NBD, Fader, Hardie & Lee 2005, which the
//! CLV models fit); the hazard is the part of churn driven by the customer's
//! experience (complaints, slow support, low satisfaction, silent spells,
//! renewals), which is what the interventions address. So an effect of 1
//! removes hazard churn only, and the true reduction of a customer's churn
//! probability is smaller than their effect whenever dropout is possible.
//!
//! **Invalid records.** With `dirty_fraction` f > 0, each customer gets
//! Poisson(f × their valid record count) extra records, each of one of five
//! kinds with equal probability, inserted at random positions among that
//! customer's records: an exact duplicate of one of their orders; an order
//! with amount NaN, ±∞ or ±10¹²; an order or login for an id above
//! `customers`; an order or login 1–60 days before signup; a survey answer of
//! −1, 0, 6, 7 or 10 on the 1–5 scale. [`Population::injected`] counts them
//! per kind. The invalid records are drawn after all valid ones, so the valid
//! records are the same whatever `dirty_fraction` is.
//!
//! # Continuing from an as-of time: churn oracle and campaigns
//!
//! A customer's life is resumable: besides their fixed traits, its state at
//! any time is the risk counters (recent complaints and slow replies, last
//! satisfaction, product complaints), tenure, the renewal window, the silent
//! spell and the scheduled events (ticks, renewals, campaigns and their
//! responses, expiries of the 60-day memory, refunds, surveys). The clocks are
//! memoryless, so a life paused at `as_of` and continued with fresh random
//! numbers is a correct draw of its future given everything up to `as_of`.
//!
//! Both [`PopulationConfig::churn_probabilities`] and
//! [`PopulationConfig::simulate_campaign`] replay each customer up to `as_of`
//! with the stream and draws of [`PopulationConfig::generate`] (the path up to
//! `as_of` is exactly the one in the records, so features computed from the
//! population are consistent with it), then continue it:
//!
//! | | streams | churn | result |
//! |---|---|---|---|
//! | `churn_probabilities` | replica `k` from `(seed, id, k)` | hazard and dropout integrated along each replica's path, not drawn | P(churn in `(as_of, as_of + h]`) |
//! | `churn_probabilities_given_records` | the same, after drawing the hidden traits and the silent spell from their posterior given the records | the same | P(churn in `(as_of, as_of + h]` \| the records) |
//! | `simulate_campaign` | one from `(seed, id)` and a campaign salt | drawn, × (1 − effect) for treated customers | churn time and cause, orders and net revenue in the window |
//!
//! Only customers alive at `as_of` (signed up at or before it, no churn time at
//! or before it) get a result. A window may run past `end`: the simulation goes
//! on under the same mechanics, except that no marketing campaign is scheduled
//! after `end`. Each customer's result depends only on the configuration, the
//! arguments and that customer (for a campaign, on their own effect only), so
//! results are bit-identical whatever the thread count, and
//! `dirty_fraction` changes nothing. 20 000 customers × 100 replicas over 90
//! days take about half a second on two cores.
//!
//! # Subscription businesses
//!
//! [`SubscriptionPopulationConfig::generate`] simulates a contractual
//! business instead (a SaaS, a telecom, a gym): each customer holds one
//! subscription, whose life is a series of
//! [`SubscriptionEvent`](crate::records::SubscriptionEvent)s, plus logins,
//! support tickets and complaints as interactions. The result
//! ([`SubscriptionPopulation`]) carries each subscriber's truth
//! ([`SubscriptionTruth`]: end time, voluntary or involuntary, true reason,
//! usage, payment failure probability, average monthly hazard), and
//! [`SubscriptionPopulationConfig::churn_probabilities_given_records`] is its
//! records oracle: each running subscription's probability of ending in a
//! window given what the records show (the best possible AUC). Determinism
//! is that of the non-contractual generator: subscriber `i` draws from its
//! own stream derived from `(seed, i)`, so output is bit-identical whatever
//! the thread count.
//!
//! ```
//! use churnwise::synth::SubscriptionPopulationConfig;
//!
//! let business = SubscriptionPopulationConfig::default().customers(500).seed(7).generate()?;
//! let (history, report) = business.history_builder().build()?;
//! assert!(report.is_clean());
//! let ended = history.subscriptions().filter(|s| s.ended_at().is_some_and(|t| t < business.config().end_time())).count();
//! assert_eq!(ended, business.truth().iter().filter(|t| t.is_churned()).count());
//! # Ok::<(), churnwise::Error>(())
//! ```
//!
//! **Subscribers.** Signup (= subscription start) is uniform over the first
//! `signup_fraction` of the span. Plan `basic`/`plus`/`premium` with
//! probabilities 0.5/0.3/0.2 at 12/29/59 a month; billed yearly with
//! probability `yearly_share` (0.3) at 12 × monthly × (1 − `yearly_discount`)
//! (0.15: 122.40/295.80/601.80), else monthly; auto-renew with probability
//! `auto_renew_share` (0.8). Channel `web`/`app`/`store`/`referral` with
//! 0.45/0.30/0.15/0.10, region `north`/`south`/`east`/`west` uniform (no
//! effect). Hidden traits: usage u ~ Gamma(2, 2), ticket propensity ~
//! Gamma(2, 2), complaint propensity ~ Gamma(1.5, 1.5), median first-response
//! hours ~ LogNormal(ln 8, 0.8), payment failure probability ~
//! Beta(20 m, 20 (1 − m)) with m = `payment_failure_rate`.
//!
//! | process | mechanics | parameters (default) |
//! |---|---|---|
//! | period ends | calendar months or years from the start ([`BillingPeriod`](crate::records::BillingPeriod)); at each one a `Renewal` (paid), unless paused (no billing) or a cancellation is pending (`Ended`) | |
//! | payments | auto-renewing only: the renewal payment fails with the subscriber's probability (`PaymentFailed`); retries 3 and 7 days later succeed with probability r (`Renewal`, late); after two failed retries `PaymentFailed` and `Ended` at day 7: involuntary churn, probability (1 − r)² per failed renewal | `payment_failure_rate` (0.05), `retry_success` r (0.5) |
//! | price increase | at each subscription's first period end on or after the date, the price rises (an `Upgrade` with no plan) | `price_increase` (0.10), `price_increase_at` (2024-01-01) |
//! | logins | rate `logins_per_day` × u × 0.6^k, k = complaints + slow replies in the last 60 days (at most 3); none while paused; 14 days without one make the subscriber inactive | `logins_per_day` (0.25) |
//! | support tickets | rate 1/90 per day × propensity; first-response hours LogNormal(subscriber median, 0.6), at least 0.1; slower than 24 h is a slow reply | |
//! | complaints | rate 1/300 per day × propensity, doubled while a slow reply is recent; topic product 0.5, service 0.3, price 0.2 | |
//! | upgrades | to the next plan at rate u / 720 per day while active (not paused, no cancellation pending, not in payment retries) | |
//! | downgrades | to the previous plan at rate 0.5 × (quality + service + price hazards) while active: dissatisfied subscribers downgrade before they leave | |
//! | pauses | auto-renewing active subscriptions pause at rate 1/720 per day and resume at rate 1/45 per day (no logins and no billing while paused) | |
//! | cancellation | a request (`CancellationRequested`) at the hazard below, while no cancellation is pending and no payment is being retried, stating its true reason with probability 0.8 (else `other`); the subscription `Ended` at the next period end | |
//!
//! **Cancellation hazard.** Per day, the sum of six cause-specific hazards;
//! a request's reason is drawn in proportion to them, so causes make sense
//! (price after a price increase, poor service after slow replies, product
//! quality after complaints, competitor or changed needs after inactivity):
//!
//! ```text
//! h = m × [ 0.20 c^n_c          (product_quality)
//!         + 0.15 s^n_s          (poor_service)
//!         + 0.20 P              (price)
//!         + 0.20 I + 0.15 I ]   (competitor, needs_changed)
//!   + 0.10 baseline             (moved_or_closed)
//! m = baseline × plan × channel × [manual renewal] × [renewal window]
//! ```
//!
//! | factor | meaning | parameter (default) |
//! |---|---|---|
//! | baseline | per day | `baseline_hazard_per_day` (1/1500) |
//! | plan, channel | basic 1, plus 0.85, premium 0.7 (the plan in effect); referral 0.7, other channels 1 | |
//! | manual renewal | without auto-renew | `manual_renewal_hazard` (1.5) |
//! | renewal window | the last 7 days (monthly) or 30 days (yearly) before each period end: the hazard peaks at renewals | `renewal_hazard` (4) |
//! | c^n_c | n_c complaints in the last 60 days (at most 3) | `complaint_hazard` c (3) |
//! | s^n_s | n_s replies slower than 24 h in the last 60 days (at most 3) | `slow_reply_hazard` s (2.5) |
//! | P | from 30 days before the subscription's price increase to 60 days after | `price_increase_hazard` (3) |
//! | I | no login in the last 14 days | `inactive_hazard` (3) |
//!
//! With the defaults, about 41% of subscriptions end before `end`, 16% of
//! them involuntarily; the true reasons of the cancellation requests are
//! product quality 23%, price 22%, competitor 21%, needs changed 16%, poor
//! service 13% and moved or closed 5%. Of the subscriptions running 180 days before `end`, 10.7%
//! end in the next 90 days; the records oracle ranks them with an AUC of
//! about 0.78 (0.79 knowing the hidden traits). 20 000 subscribers (1.6 M
//! logins, tickets and complaints, 190 000 subscription events) take about
//! 1.3 s on two cores, and the oracle with 32 replicas about 2 s.
//!
//! Not simulated: new subscriptions after an end (reactivation), several
//! subscriptions per customer, lapses without a request. A subscription
//! without auto-renew whose next period end falls after `end` shows in the
//! records as lapsing there, since its future renewal is unknown.

mod bgnbd;
mod config;
mod customer;
mod dirty;
mod forward;
mod population;
pub(crate) mod rng;
mod subscription;
mod truth;

pub use bgnbd::{BgNbdCustomer, BgNbdParams, simulate_bgnbd, simulate_bgnbd_horizons};
pub use config::PopulationConfig;
pub use forward::{CampaignResult, ChurnRisk, Treatment};
pub use population::{Population, PopulationParts};
pub use subscription::{SubscriptionPopulation, SubscriptionPopulationConfig, SubscriptionTruth};
pub use truth::{ChurnCause, CustomerTruth, InjectedCounts, InterventionResponses, LatentType};
