//! Churn definitions ([`ChurnDefinition`]), a customer's [`ChurnStatus`] at
//! a point in time, and the merge pass that evaluates it at many instants.

use std::iter::Peekable;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::records::CompactKind;
use crate::records::CustomerView;
use crate::util::{MICROS_PER_DAY, from_micros, to_micros};
use crate::{Error, Result};

/// The default inactivity window of [`ChurnDefinition::NoOrder`], in days.
const DEFAULT_INACTIVITY_DAYS: u32 = 90;

/// The longest accepted inactivity window (100 years), in days.
const MAX_INACTIVITY_DAYS: u32 = 36_500;

/// When a customer counts as churned at a point in time.
///
/// Non-contractual businesses (retail, e-commerce) never hear that a customer
/// left, so churn is inferred from inactivity; subscriptions have an explicit
/// cancellation. Every measure of this module takes the definition as data,
/// so the same report can be produced under each and compared.
///
/// A customer exists from their signup on. For the inactivity definitions the
/// signup itself counts as activity: a new customer gets one full window
/// before they can be counted as churned, even if they have not bought yet.
/// With `last` the latest activity at or before `t` (or the signup, whichever
/// is later):
///
/// ```text
/// churned at t  ⇔  signup <= t  and  t − last >= inactivity_days
///               ⇔  no activity in (t − inactivity_days, t] and signup <= t − inactivity_days
/// ```
///
/// An inactive customer who becomes active again is no longer churned.
///
/// The default is `NoOrder { inactivity_days: 90 }` (DOMAIN.md: at one
/// retailer, customers with no order for 90 days churned with probability
/// about 75%). Serialized as `{"type": "no_order", "inactivity_days": 90}`,
/// `{"type": "no_activity", ...}`, `{"type": "cancellation"}` or
/// `{"type": "subscription_ended"}`.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::segment::ChurnDefinition;
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
/// let (history, _report) = pop.history_builder().build()?;
/// let at = Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap();
/// let count = |def: ChurnDefinition| -> churnwise::Result<usize> {
///     let mut n = 0;
///     for c in history.customers() {
///         n += usize::from(def.status(c, at)?.is_churned());
///     }
///     Ok(n)
/// };
/// let by_orders = count(ChurnDefinition::default())?;
/// let by_activity = count(ChurnDefinition::NoActivity { inactivity_days: 90 })?;
/// // Logins and surveys keep some customers without recent orders active.
/// assert!(by_activity <= by_orders && by_orders > 0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum ChurnDefinition {
    /// Order-based: churned at `t` when the customer made no purchase
    /// (order with amount ≥ 0) in `(t − inactivity_days, t]`.
    NoOrder {
        /// The inactivity window in days; 1 to 36 500.
        inactivity_days: u32,
    },
    /// Activity-based: churned at `t` when the customer had no purchase, no
    /// interaction other than a cancellation, and no feedback answer in
    /// `(t − inactivity_days, t]`.
    NoActivity {
        /// The inactivity window in days; 1 to 36 500.
        inactivity_days: u32,
    },
    /// Contractual: churned from the customer's first
    /// [`InteractionKind::Cancellation`](crate::records::InteractionKind::Cancellation)
    /// on (a cancellation at exactly `t` counts at `t`).
    Cancellation,
    /// Subscriptions: a customer is a subscriber from the start of their
    /// first [`Subscription`](crate::records::Subscription) on (before it:
    /// [`ChurnStatus::NotSignedUp`]), active while any of their
    /// subscriptions is running at `t` (active, paused or pending
    /// cancellation, see
    /// [`SubscriptionView::status_at`](crate::records::SubscriptionView::status_at)),
    /// and churned when every subscription that had started by `t` has
    /// ended. A customer who subscribes again is active again.
    SubscriptionEnded,
}

impl Default for ChurnDefinition {
    /// `NoOrder { inactivity_days: 90 }`.
    fn default() -> Self {
        ChurnDefinition::NoOrder {
            inactivity_days: DEFAULT_INACTIVITY_DAYS,
        }
    }
}

/// A churn definition resolved to microseconds.
#[derive(Debug, Clone, Copy)]
pub(super) enum Rule {
    Inactive { window: i64, any_event: bool },
    Cancelled,
    SubscriptionEnded,
}

impl ChurnDefinition {
    /// Checks the definition; every measure calls it first, so a definition
    /// read from a file is held to the same rules.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `inactivity_days` unless it is in 1..=36 500.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::segment::ChurnDefinition;
    ///
    /// ChurnDefinition::default().validate()?;
    /// let err = ChurnDefinition::NoOrder { inactivity_days: 0 }.validate().unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "inactivity_days", .. }));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn validate(&self) -> Result<()> {
        self.rule().map(|_| ())
    }

    pub(super) fn rule(&self) -> Result<Rule> {
        let (days, any_event) = match self {
            ChurnDefinition::NoOrder { inactivity_days } => (*inactivity_days, false),
            ChurnDefinition::NoActivity { inactivity_days } => (*inactivity_days, true),
            ChurnDefinition::Cancellation => return Ok(Rule::Cancelled),
            ChurnDefinition::SubscriptionEnded => return Ok(Rule::SubscriptionEnded),
        };
        if !(1..=MAX_INACTIVITY_DAYS).contains(&days) {
            return Err(Error::invalid_parameter(
                "inactivity_days",
                format!("must be between 1 and {MAX_INACTIVITY_DAYS}, got {days}"),
            ));
        }
        Ok(Rule::Inactive {
            window: i64::from(days) * MICROS_PER_DAY,
            any_event,
        })
    }

    /// The customer's status at `at` under this definition: not yet signed
    /// up, active, or churned.
    ///
    /// Use it to label one customer; the measures of this module evaluate
    /// the same rule for every customer at once.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::TimeDelta;
    /// use churnwise::segment::{ChurnDefinition, ChurnStatus};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
    /// let (history, _report) = pop.history_builder().build()?;
    /// let c = history.customer(0).expect("500 customers");
    /// let def = ChurnDefinition::NoOrder { inactivity_days: 30 };
    /// let before = c.signup() - TimeDelta::seconds(1);
    /// assert_eq!(def.status(c, before)?, ChurnStatus::NotSignedUp);
    /// assert_eq!(def.status(c, c.signup())?, ChurnStatus::Active);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn status(&self, customer: CustomerView<'_>, at: DateTime<Utc>) -> Result<ChurnStatus> {
        let rule = self.rule()?;
        let mut status = ChurnStatus::NotSignedUp;
        for_each_status(rule, customer, &[to_micros(at)], |_, s| status = s);
        Ok(status)
    }
}

/// A customer's status at a point in time, from [`ChurnDefinition::status`].
///
/// # Example
///
/// ```
/// use churnwise::segment::{ChurnDefinition, ChurnStatus};
/// use churnwise::synth::PopulationConfig;
///
/// let pop = PopulationConfig::default().customers(500).seed(1).generate()?;
/// let (history, _report) = pop.history_builder().build()?;
/// let c = history.customer(3).expect("500 customers");
/// let s = ChurnDefinition::Cancellation.status(c, c.signup())?;
/// assert!(s.is_active() && !s.is_churned());
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChurnStatus {
    /// Before the customer's signup: not yet a customer.
    NotSignedUp,
    /// A customer, not churned.
    Active,
    /// A customer, churned.
    Churned,
}

impl ChurnStatus {
    /// Whether the status is [`ChurnStatus::Active`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::ChurnStatus;
    ///
    /// assert!(ChurnStatus::Active.is_active());
    /// assert!(!ChurnStatus::NotSignedUp.is_active());
    /// ```
    pub fn is_active(&self) -> bool {
        *self == ChurnStatus::Active
    }

    /// Whether the status is [`ChurnStatus::Churned`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::ChurnStatus;
    ///
    /// assert!(ChurnStatus::Churned.is_churned());
    /// assert!(!ChurnStatus::NotSignedUp.is_churned());
    /// ```
    pub fn is_churned(&self) -> bool {
        *self == ChurnStatus::Churned
    }
}

/// Calls `f(k, status at instants[k])` for each of the ascending `instants`,
/// in one merge pass over the customer's sorted events.
pub(super) fn for_each_status(
    rule: Rule,
    customer: CustomerView<'_>,
    instants: &[i64],
    mut f: impl FnMut(usize, ChurnStatus),
) {
    let signup = customer.signup_micros();
    match rule {
        Rule::Cancelled => {
            let interactions = customer.interactions();
            let cancel = interactions
                .micros()
                .iter()
                .zip(interactions.compact_kinds())
                .find(|(_, k)| matches!(k, CompactKind::Cancellation))
                .map(|(&t, _)| t);
            for (k, &t) in instants.iter().enumerate() {
                let status = if t < signup {
                    ChurnStatus::NotSignedUp
                } else if cancel.is_some_and(|c| c <= t) {
                    ChurnStatus::Churned
                } else {
                    ChurnStatus::Active
                };
                f(k, status);
            }
        }
        Rule::SubscriptionEnded => {
            let subscriptions = customer.subscriptions();
            let first = subscriptions.iter().map(|s| s.start()).min();
            for (k, &t) in instants.iter().enumerate() {
                let at = from_micros(t);
                let status = if t < signup || first.is_none_or(|first| at < first) {
                    ChurnStatus::NotSignedUp
                } else if subscriptions.iter().any(|s| s.status_at(at).is_running()) {
                    ChurnStatus::Active
                } else {
                    ChurnStatus::Churned
                };
                f(k, status);
            }
        }
        Rule::Inactive { window, any_event } => {
            let mut purchases = purchase_times(customer).peekable();
            let mut contacts = any_event
                .then(|| contact_times(customer))
                .into_iter()
                .flatten()
                .peekable();
            let mut answers = any_event
                .then(|| answer_times(customer))
                .into_iter()
                .flatten()
                .peekable();
            let mut last = signup;
            for (k, &t) in instants.iter().enumerate() {
                if t < signup {
                    f(k, ChurnStatus::NotSignedUp);
                    continue;
                }
                advance(&mut purchases, t, &mut last);
                advance(&mut contacts, t, &mut last);
                advance(&mut answers, t, &mut last);
                let status = if t.saturating_sub(last) >= window {
                    ChurnStatus::Churned
                } else {
                    ChurnStatus::Active
                };
                f(k, status);
            }
        }
    }
}

/// The customer's purchase times (orders with amount ≥ 0), ascending.
pub(super) fn purchase_times<'a>(customer: CustomerView<'a>) -> impl Iterator<Item = i64> + 'a {
    let orders = customer.orders();
    orders
        .micros()
        .iter()
        .zip(orders.amounts())
        .filter(|(_, a)| **a >= 0.0)
        .map(|(&t, _)| t)
}

/// The customer's interaction times except cancellations, ascending.
pub(super) fn contact_times<'a>(customer: CustomerView<'a>) -> impl Iterator<Item = i64> + 'a {
    let interactions = customer.interactions();
    interactions
        .micros()
        .iter()
        .zip(interactions.compact_kinds())
        .filter(|(_, k)| !matches!(k, CompactKind::Cancellation))
        .map(|(&t, _)| t)
}

/// The customer's feedback times, ascending.
pub(super) fn answer_times<'a>(customer: CustomerView<'a>) -> impl Iterator<Item = i64> + 'a {
    customer.feedback().micros().iter().copied()
}

/// Consumes the events at or before `t`, keeping the latest in `last`.
fn advance<I: Iterator<Item = i64>>(events: &mut Peekable<I>, t: i64, last: &mut i64) {
    while let Some(s) = events.next_if(|&s| s <= t) {
        *last = (*last).max(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::measures::fixtures::{Ev, at, churn_fixture, day, history, invalid, q1};
    use crate::segment::measures::{CohortRetention, CohortRule, churn_rates};
    use chrono::TimeDelta;

    #[test]
    fn status_boundaries_are_exact_to_the_microsecond() {
        let h = history(vec![(
            "X",
            day(2024, 1, 1),
            vec![Ev::Order(at(2024, 1, 10, 12, 0, 0), 5.0)],
        )]);
        let x = h.customer(0).unwrap();
        let def = ChurnDefinition::NoOrder {
            inactivity_days: 30,
        };
        let churn_at = at(2024, 2, 9, 12, 0, 0); // 30 days after the order
        let tick = TimeDelta::microseconds(1);
        assert_eq!(
            def.status(x, day(2024, 1, 1) - tick).unwrap(),
            ChurnStatus::NotSignedUp
        );
        assert_eq!(def.status(x, day(2024, 1, 1)).unwrap(), ChurnStatus::Active);
        assert_eq!(def.status(x, churn_at - tick).unwrap(), ChurnStatus::Active);
        assert_eq!(def.status(x, churn_at).unwrap(), ChurnStatus::Churned);
        // The signup counts as activity: without the order, churned 30 days after signup.
        let idle = history(vec![("Y", day(2024, 1, 1), vec![])]);
        let y = idle.customer(0).unwrap();
        assert_eq!(
            def.status(y, day(2024, 1, 30)).unwrap(),
            ChurnStatus::Active
        );
        assert_eq!(
            def.status(y, day(2024, 1, 31)).unwrap(),
            ChurnStatus::Churned
        );
    }

    #[test]
    fn rejects_bad_churn_definitions_everywhere() {
        let h = churn_fixture();
        for def in [
            ChurnDefinition::NoOrder { inactivity_days: 0 },
            ChurnDefinition::NoActivity { inactivity_days: 0 },
            ChurnDefinition::NoOrder {
                inactivity_days: MAX_INACTIVITY_DAYS + 1,
            },
            ChurnDefinition::NoActivity {
                inactivity_days: u32::MAX,
            },
        ] {
            assert_eq!(invalid(def.validate().unwrap_err()), "inactivity_days");
            assert_eq!(
                invalid(churn_rates(&h, &q1(), &def).unwrap_err()),
                "inactivity_days"
            );
            let c = h.customer(0).unwrap();
            assert_eq!(
                invalid(def.status(c, day(2024, 1, 1)).unwrap_err()),
                "inactivity_days"
            );
            let rule = CohortRule::NotChurned {
                definition: def.clone(),
            };
            let err = CohortRetention::by_signup_month(&h, day(2024, 1, 1), 3, &rule);
            assert_eq!(invalid(err.unwrap_err()), "inactivity_days");
        }
        let longest = ChurnDefinition::NoOrder {
            inactivity_days: MAX_INACTIVITY_DAYS,
        };
        assert!(churn_rates(&h, &q1(), &longest).is_ok());
    }
}
