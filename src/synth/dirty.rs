//! Injected invalid records, so data-quality checks have something to find.

use super::customer::{Chunk, Context, Marks, SPEND_MEDIAN, order_noise, round_cents};
use super::rng::Rng;
use crate::records::{
    CustomerId, Feedback, Interaction, InteractionKind, Order, SatisfactionScale,
};

/// Dirty records: invalid amounts, out-of-scale satisfaction, and the range of
/// days before signup for early events.
const INVALID_AMOUNTS: [f64; 5] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e12, -1e12];
const OUT_OF_SCALE: [f64; 5] = [0.0, 6.0, 7.0, 10.0, -1.0];
const BEFORE_SIGNUP_DAYS: (f64, f64) = (1.0, 60.0);

/// An invalid record waiting to be inserted.
enum Dirty {
    Order(Order),
    Interaction(Interaction),
    Feedback(Feedback),
}

/// Adds invalid records for this customer (after all valid draws, so the valid
/// records do not depend on `dirty_fraction`). They are drawn first, from the
/// valid records only, then inserted at random positions among the
/// customer's records.
pub(super) fn inject_dirty(
    ctx: &Context<'_>,
    index: usize,
    signup: f64,
    active_until: f64,
    marks: &Marks,
    rng: &mut Rng,
    out: &mut Chunk,
) {
    let cfg = ctx.config;
    let id = CustomerId::from(index as u64 + 1);
    let valid_orders = out.orders.len() - marks.orders;
    let valid = valid_orders
        + (out.interactions.len() - marks.interactions)
        + (out.feedback.len() - marks.feedback);
    let count = rng.poisson(cfg.dirty_fraction * valid as f64);
    let mut dirty = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let when = rng.uniform_range(signup, active_until);
        let record = match rng.below(5) {
            0 => {
                out.injected.duplicate_orders += 1;
                Dirty::Order(out.orders[marks.orders + rng.below(valid_orders)].clone())
            }
            1 => {
                out.injected.invalid_amounts += 1;
                let amount = INVALID_AMOUNTS[rng.below(INVALID_AMOUNTS.len())];
                Dirty::Order(Order::new(id.clone(), ctx.at(when), amount))
            }
            2 => {
                out.injected.unknown_customers += 1;
                // Ids above `customers` belong to nobody.
                let stranger = CustomerId::from((cfg.customers + index) as u64 + 1);
                order_or_login(ctx, rng, stranger, when)
            }
            3 => {
                out.injected.before_signup += 1;
                let before = signup - rng.uniform_range(BEFORE_SIGNUP_DAYS.0, BEFORE_SIGNUP_DAYS.1);
                order_or_login(ctx, rng, id.clone(), before)
            }
            _ => {
                out.injected.satisfaction_out_of_scale += 1;
                let score = OUT_OF_SCALE[rng.below(OUT_OF_SCALE.len())];
                Dirty::Feedback(Feedback::new(
                    id.clone(),
                    ctx.at(when),
                    score,
                    SatisfactionScale::FIVE_POINT,
                ))
            }
        };
        dirty.push(record);
    }
    for record in dirty {
        match record {
            Dirty::Order(o) => {
                let pos = marks.orders + rng.below(out.orders.len() - marks.orders + 1);
                out.orders.insert(pos, o);
            }
            Dirty::Interaction(i) => {
                let pos =
                    marks.interactions + rng.below(out.interactions.len() - marks.interactions + 1);
                out.interactions.insert(pos, i);
            }
            Dirty::Feedback(f) => {
                let pos = marks.feedback + rng.below(out.feedback.len() - marks.feedback + 1);
                out.feedback.insert(pos, f);
            }
        }
    }
}

/// An order (half the time) or a login at `days`.
fn order_or_login(ctx: &Context<'_>, rng: &mut Rng, customer: CustomerId, days: f64) -> Dirty {
    if rng.bernoulli(0.5) {
        let amount = round_cents(SPEND_MEDIAN * order_noise(rng));
        Dirty::Order(Order::new(customer, ctx.at(days), amount))
    } else {
        Dirty::Interaction(Interaction::new(
            customer,
            ctx.at(days),
            InteractionKind::Login,
        ))
    }
}
