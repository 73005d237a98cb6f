//! Evaluating a policy over profiles: alerts, priorities and work lists.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::Serialize;

use super::log::AlertLog;
use super::policy::{AlertPolicy, AlertRule, Precedence, Severity};
use crate::Result;
use crate::records::CustomerId;
use crate::rules::{Path, Program, Route, Rows, Scratch, Seen, Test};
use crate::score::Profiles;

/// Profiles per parallel task (fixed, so the output does not depend on the thread count).
const CHUNK: usize = 4096;

/// One observation behind an alert: the field, its value (and its value in
/// the previous snapshot for a change) and the test it met.
///
/// # Example
///
/// See [`AlertEngine`]; `trigger.to_string()` reads like
/// `recency_days = 120 (> 90d)` or `complaints_30d = 0 (not >= 2)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger<'a> {
    test: &'a Test,
    value: Observed,
    negated: bool,
}

/// A field's observed value in a [`Trigger`].
///
/// # Example
///
/// ```
/// use churnwise::alert::Observed;
///
/// let seen = Observed::Change { before: 400.0, now: 100.0, change: -0.75, relative: true };
/// assert_eq!(seen.to_string(), "400 → 100 (-75%)");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Observed {
    /// A number.
    Number(f64),
    /// A category label (segment, stage or tier).
    Label(Arc<str>),
    /// A change since the previous snapshot.
    Change {
        /// The previous value.
        before: f64,
        /// The current value.
        now: f64,
        /// `now − before`, or `(now − before) / |before|` when relative.
        change: f64,
        /// Whether `change` is relative.
        relative: bool,
    },
}

impl<'a> Trigger<'a> {
    /// The field.
    pub fn field(&self) -> &'a str {
        self.test.field()
    }

    /// The test of the policy that was met (or failed, under a `not`).
    pub fn test(&self) -> &'a Test {
        self.test
    }

    /// What was observed.
    pub fn value(&self) -> &Observed {
        &self.value
    }

    /// Whether the test failing triggered the rule (it sits under a `not`).
    pub fn is_negated(&self) -> bool {
        self.negated
    }
}

impl fmt::Display for Trigger<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // "stage = at_risk (not == churned)": the value, then the test it met
        // or, under a `not`, failed.
        let not = if self.negated { "not " } else { "" };
        let (field, test) = (self.field(), self.test.op_text());
        match &self.value {
            Observed::Change { relative, .. } => {
                let what = if *relative {
                    "relative change"
                } else {
                    "change"
                };
                write!(f, "{field} {} ({not}{what} {test})", self.value)
            }
            v => write!(f, "{field} = {v} ({not}{test})"),
        }
    }
}

impl Serialize for Trigger<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Trigger", 4)?;
        st.serialize_field("field", self.field())?;
        st.serialize_field("test", &self.test.op_text().to_string())?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("text", &self.to_string())?;
        st.end()
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observed::Number(v) => f.write_str(&number(*v)),
            Observed::Label(l) => f.write_str(l),
            Observed::Change {
                before,
                now,
                change,
                relative,
            } => {
                let c = if *relative {
                    format!("{}%", number(change * 100.0))
                } else {
                    number(*change)
                };
                write!(f, "{} → {} ({c})", number(*before), number(*now))
            }
        }
    }
}

/// Up to 3 decimals, no trailing zeros.
fn number(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// One customer flagged by one rule. Borrows the rule from the engine's policy.
///
/// # Example
///
/// See [`AlertEngine`].
#[derive(Debug, Clone, PartialEq)]
pub struct Alert<'a> {
    customer: CustomerId,
    rule: &'a AlertRule,
    churn_probability: Option<f64>,
    expected_loss: Option<f64>,
    reasons: Vec<Trigger<'a>>,
    omitted_reasons: usize,
    row: usize,
    rule_index: usize,
}

/// The most reasons an [`Alert`] keeps; the rest are counted
/// ([`Alert::omitted_reasons`]), so a rule with thousands of matching
/// comparisons cannot make every alert large.
pub const MAX_REASONS: usize = 8;

impl<'a> Alert<'a> {
    /// The customer.
    pub fn customer(&self) -> &CustomerId {
        &self.customer
    }

    /// The id of the rule that fired.
    pub fn rule(&self) -> &'a str {
        self.rule.id()
    }

    /// The rule's description.
    pub fn description(&self) -> &'a str {
        self.rule.description()
    }

    /// The rule's severity.
    pub fn severity(&self) -> Severity {
        self.rule.severity()
    }

    /// The owning team.
    pub fn route(&self) -> &'a Route {
        self.rule.route()
    }

    /// The customer's churn probability, when profiled.
    pub fn churn_probability(&self) -> Option<f64> {
        self.churn_probability
    }

    /// Expected value at risk (churn probability × customer value), when profiled.
    pub fn expected_loss(&self) -> Option<f64> {
        self.expected_loss
    }

    /// The observations that triggered the rule, in condition order: the
    /// first [`MAX_REASONS`] of them.
    pub fn reasons(&self) -> &[Trigger<'a>] {
        &self.reasons
    }

    /// How many further observations triggered the rule beyond
    /// [`reasons`](Self::reasons) (0 unless the rule has more than
    /// [`MAX_REASONS`] matching comparisons).
    pub fn omitted_reasons(&self) -> usize {
        self.omitted_reasons
    }

    /// The rule's suggested intervention.
    pub fn suggestion(&self) -> Option<&'a str> {
        self.rule.suggestion()
    }

    /// The customer's row in the evaluated profiles.
    pub fn row(&self) -> usize {
        self.row
    }

    /// The sort key of [`AlertReport::alerts`]: severity and expected loss
    /// (unknown last) descending, then profile row and rule order, so the
    /// order is total and deterministic.
    fn priority(
        &self,
    ) -> (
        std::cmp::Reverse<Severity>,
        std::cmp::Reverse<OrdF64>,
        usize,
        usize,
    ) {
        use std::cmp::Reverse;
        let loss = self.expected_loss.unwrap_or(f64::NEG_INFINITY);
        (
            Reverse(self.severity()),
            Reverse(OrdF64(loss)),
            self.row,
            self.rule_index,
        )
    }
}

/// `customer 17: no_order_90d (high, sales): recency_days = 120 (> 90d)`,
/// with at most [`MAX_REASONS`] reasons and the count of the rest.
///
/// # Example
///
/// ```
/// use churnwise::alert::{AlertEngine, AlertPolicy, AlertRule, Severity};
/// use churnwise::rules::{Condition, Route};
/// use churnwise::score::{Profile, Profiles};
///
/// let profiles = Profiles::from_profiles(vec![Profile::new(17u64).with_feature("recency_days", 120.0)])?;
/// let rule = AlertRule::new("no_order_90d", Condition::field("recency_days").gt("90d"), Severity::High, Route::Sales);
/// let engine = AlertEngine::new(AlertPolicy::new(vec![rule])?);
/// let report = engine.evaluate(&profiles, None)?;
/// assert_eq!(report.alerts()[0].to_string(), "customer 17: no_order_90d (high, sales): recency_days = 120 (> 90d)");
/// # Ok::<(), churnwise::Error>(())
/// ```
impl fmt::Display for Alert<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "customer {}: {} ({}, {})",
            self.customer,
            self.rule(),
            self.severity(),
            self.route()
        )?;
        for (i, r) in self.reasons.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            write!(f, "{r}")?;
        }
        if self.omitted_reasons > 0 {
            write!(f, "; and {} more", self.omitted_reasons)?;
        }
        Ok(())
    }
}

/// `f64` ordered by `total_cmp`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrdF64(f64);

impl Eq for OrdF64 {}

impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrdF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl Serialize for Alert<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Alert", 9)?;
        st.serialize_field("customer", &self.customer)?;
        st.serialize_field("rule", self.rule())?;
        st.serialize_field("severity", &self.severity())?;
        st.serialize_field("route", self.route())?;
        st.serialize_field("churn_probability", &self.churn_probability)?;
        st.serialize_field("expected_loss", &self.expected_loss)?;
        st.serialize_field("reasons", &self.reasons)?;
        if self.omitted_reasons > 0 {
            st.serialize_field("omitted_reasons", &self.omitted_reasons)?;
        } else {
            st.skip_field("omitted_reasons")?;
        }
        st.serialize_field("suggestion", &self.suggestion())?;
        st.end()
    }
}

/// The alerts of one team, in priority order.
///
/// # Example
///
/// See [`AlertEngine`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkList<'r, 'a> {
    route: &'a Route,
    alerts: Vec<&'r Alert<'a>>,
}

impl<'r, 'a> WorkList<'r, 'a> {
    /// The team.
    pub fn route(&self) -> &'a Route {
        self.route
    }

    /// Its alerts, highest priority first.
    pub fn alerts(&self) -> &[&'r Alert<'a>] {
        &self.alerts
    }
}

/// The outcome of one evaluation: alerts in priority order and what was
/// held back.
///
/// # Example
///
/// ```
/// use churnwise::alert::{AlertEngine, AlertPolicy, AlertRule, Severity};
/// use churnwise::rules::{Condition, Route};
/// use churnwise::score::{Profile, Profiles};
///
/// let profiles = Profiles::from_profiles(
///     (0..5u64)
///         .map(|i| {
///             Profile::new(i)
///                 .with_feature("recency_days", 30.0 * i as f64)
///                 .with_churn_probability(0.5)
///                 .with_customer_value(100.0 * i as f64)
///         })
///         .collect(),
/// )?;
/// let engine = AlertEngine::new(AlertPolicy::new(vec![
///     AlertRule::new("lapsing", Condition::field("recency_days").gt("60d"), Severity::High, Route::Sales),
///     AlertRule::new("quiet", Condition::field("recency_days").gt("20d"), Severity::Low, Route::Marketing),
/// ])?);
/// let report = engine.evaluate(&profiles, None)?;
/// assert_eq!(report.profiles_evaluated(), 5);
/// // Highest severity first, then the largest expected loss (probability × value).
/// let first = &report.alerts()[0];
/// assert_eq!((first.rule(), first.customer().to_string().as_str()), ("lapsing", "4"));
/// assert_eq!(first.expected_loss(), Some(200.0));
/// // One work list per team, and counts per (team, severity).
/// for list in report.work_lists() {
///     assert!(list.alerts().iter().all(|a| a.route() == list.route()));
/// }
/// let total: usize = report.counts().iter().map(|(_, _, n)| n).sum();
/// assert_eq!(total, report.alerts().len());
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertReport<'a> {
    alerts: Vec<Alert<'a>>,
    profiles: usize,
    suppressed: usize,
    capped: usize,
    skipped_rules: Vec<String>,
}

impl<'a> AlertReport<'a> {
    /// Every alert, highest priority first (severity, then expected loss).
    pub fn alerts(&self) -> &[Alert<'a>] {
        &self.alerts
    }

    /// One work list per route that has alerts, by route; every alert is in exactly one.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::alert::{AlertEngine, AlertPolicy, AlertRule, Severity};
    /// # use churnwise::rules::{Condition, Route};
    /// # use churnwise::score::{Profile, Profiles};
    /// # let profiles = Profiles::from_profiles(vec![
    /// #     Profile::new(1u64).with_feature("recency_days", 120.0).with_churn_probability(0.6).with_customer_value(500.0),
    /// #     Profile::new(2u64).with_feature("recency_days", 10.0).with_churn_probability(0.1).with_customer_value(80.0),
    /// # ])?;
    /// # let rule = AlertRule::new("lapsing", Condition::field("recency_days").gt("90d"), Severity::High, Route::Sales)
    /// #     .with_description("no order for 90 days")
    /// #     .with_suggestion("reactivation");
    /// # let engine = AlertEngine::new(AlertPolicy::new(vec![rule])?);
    /// # let report = engine.evaluate(&profiles, None)?;
    /// # let alert = &report.alerts()[0];
    /// let lists = report.work_lists();
    /// assert_eq!(lists.len(), 1); // only the sales team has alerts
    /// assert_eq!(lists[0].route(), &Route::Sales);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn work_lists(&self) -> Vec<WorkList<'_, 'a>> {
        let mut routes: Vec<&'a Route> = self.alerts.iter().map(|a| a.route()).collect();
        routes.sort();
        routes.dedup();
        routes
            .into_iter()
            .map(|route| WorkList {
                route,
                alerts: self.alerts.iter().filter(|a| a.route() == route).collect(),
            })
            .collect()
    }

    /// Alert counts by route and severity (most severe first within a route).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::alert::{AlertEngine, AlertPolicy, AlertRule, Severity};
    /// # use churnwise::rules::{Condition, Route};
    /// # use churnwise::score::{Profile, Profiles};
    /// # let profiles = Profiles::from_profiles(vec![
    /// #     Profile::new(1u64).with_feature("recency_days", 120.0).with_churn_probability(0.6).with_customer_value(500.0),
    /// #     Profile::new(2u64).with_feature("recency_days", 10.0).with_churn_probability(0.1).with_customer_value(80.0),
    /// # ])?;
    /// # let rule = AlertRule::new("lapsing", Condition::field("recency_days").gt("90d"), Severity::High, Route::Sales)
    /// #     .with_description("no order for 90 days")
    /// #     .with_suggestion("reactivation");
    /// # let engine = AlertEngine::new(AlertPolicy::new(vec![rule])?);
    /// # let report = engine.evaluate(&profiles, None)?;
    /// # let alert = &report.alerts()[0];
    /// assert_eq!(report.counts(), [(Route::Sales, Severity::High, 1)]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn counts(&self) -> Vec<(Route, Severity, usize)> {
        let mut out: Vec<(Route, Severity, usize)> = Vec::new();
        for list in self.work_lists() {
            for s in Severity::ALL.iter().rev() {
                let n = list.alerts.iter().filter(|a| a.severity() == *s).count();
                if n > 0 {
                    out.push((list.route.clone(), *s, n));
                }
            }
        }
        out
    }

    /// Profiles evaluated.
    pub fn profiles_evaluated(&self) -> usize {
        self.profiles
    }

    /// Alerts held back by the log's cooldowns.
    pub fn suppressed(&self) -> usize {
        self.suppressed
    }

    /// Alerts dropped by the per-customer limit.
    pub fn capped(&self) -> usize {
        self.capped
    }

    /// Rules not evaluated because they compare with a previous snapshot and none was given.
    pub fn skipped_rules(&self) -> &[String] {
        &self.skipped_rules
    }
}

/// Evaluates an [`AlertPolicy`] over [`Profiles`], in parallel and
/// deterministically.
///
/// Each run compiles the policy against the profiles (unknown fields are
/// errors listing the closest names), evaluates every rule for every
/// customer, keeps at most the policy's number of alerts per customer by
/// its precedence, and sorts the alerts by priority: severity, then
/// expected loss. With an [`AlertLog`], alerts still in their cooldown are
/// held back unless their severity rose, and the log records the new ones.
///
/// # Example
///
/// ```
/// use churnwise::alert::{AlertEngine, AlertPolicy, AlertRule, Severity};
/// use churnwise::rules::{Condition, Route};
/// use churnwise::score::{Profile, Profiles};
///
/// let profiles = Profiles::from_profiles(vec![
///     Profile::new(1u64).with_feature("recency_days", 120.0).with_feature("complaints_30d", 0.0),
///     Profile::new(2u64).with_feature("recency_days", 10.0).with_feature("complaints_30d", 3.0),
/// ])?;
/// let policy = AlertPolicy::new(vec![
///     AlertRule::new("no_order_90d", Condition::field("recency_days").gt("90d"), Severity::High, Route::Sales),
///     AlertRule::new("complaints", Condition::field("complaints_30d").gte(2), Severity::Medium, Route::CustomerService),
/// ])?;
/// let engine = AlertEngine::new(policy);
/// let report = engine.evaluate(&profiles, None)?;
/// assert_eq!(report.alerts().len(), 2);
/// let first = &report.alerts()[0];
/// assert_eq!((first.rule(), first.customer().to_string().as_str()), ("no_order_90d", "1"));
/// assert_eq!(first.reasons()[0].to_string(), "recency_days = 120 (> 90d)");
/// assert_eq!(report.work_lists().len(), 2);
///
/// // A field these profiles lack (here one built in code) fails the check.
/// let typo = AlertPolicy::new(vec![AlertRule::new("r", Condition::field("recency_day").gt(1), Severity::Low, Route::Sales)])?;
/// let err = AlertEngine::new(typo).check(&profiles).unwrap_err();
/// assert_eq!(err.to_string(), "invalid policy at `rules[0].condition.field`: unknown field `recency_day` (did you mean `recency_days`?)");
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEngine {
    policy: AlertPolicy,
}

impl AlertEngine {
    /// An engine for a policy.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::{AlertEngine, AlertPolicy};
    ///
    /// let engine = AlertEngine::new(AlertPolicy::default_policy());
    /// assert_eq!(engine.policy(), &AlertPolicy::default_policy());
    /// ```
    pub fn new(policy: AlertPolicy) -> Self {
        AlertEngine { policy }
    }

    /// The policy.
    pub fn policy(&self) -> &AlertPolicy {
        &self.policy
    }

    /// Checks the policy's field names and constants against a set of profiles.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidPolicy`](crate::ErrorKind::InvalidPolicy) naming
    /// the path of an unknown field (with the closest names) or a bad constant.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::{AlertEngine, AlertPolicy, AlertRule, Severity};
    /// use churnwise::rules::{Condition, Route};
    /// use churnwise::score::{Profile, Profiles};
    ///
    /// let profiles = Profiles::from_profiles(vec![Profile::new(1u64).with_feature("recency_days", 120.0)])?;
    /// let rule = |field: &str| AlertRule::new("r", Condition::field(field).gt(90), Severity::High, Route::Sales);
    /// assert!(AlertEngine::new(AlertPolicy::new(vec![rule("recency_days")])?).check(&profiles).is_ok());
    /// let err = AlertEngine::new(AlertPolicy::new(vec![rule("recency_day")])?).check(&profiles).unwrap_err();
    /// assert!(err.to_string().ends_with("unknown field `recency_day` (did you mean `recency_days`?)"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn check(&self, profiles: &Profiles) -> Result<()> {
        compile(&self.policy, profiles, None).map(|_| ())
    }

    /// Evaluates the policy; `previous` (the last snapshot's profiles)
    /// enables the change tests, whose rules are otherwise skipped and listed
    /// in [`AlertReport::skipped_rules`].
    ///
    /// # Errors
    ///
    /// As for [`check`](Self::check), also for fields missing from `previous`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::{AlertEngine, AlertPolicy, AlertRule, Severity};
    /// use churnwise::rules::{Condition, Route};
    /// use churnwise::score::{Profile, Profiles};
    ///
    /// let spend = |v| Profiles::from_profiles(vec![Profile::new(1u64).with_feature("spend_90d", v)]);
    /// let rule = AlertRule::new("spend_halved", Condition::field("spend_90d").relative_change().lte(-0.5), Severity::Medium, Route::Marketing);
    /// let engine = AlertEngine::new(AlertPolicy::new(vec![rule])?);
    /// // Spend fell from 400 to 100 since the previous snapshot.
    /// let report = engine.evaluate(&spend(100.0)?, Some(&spend(400.0)?))?;
    /// assert_eq!(report.alerts()[0].reasons()[0].to_string(), "spend_90d 400 → 100 (-75%) (relative change <= -0.5)");
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn evaluate(
        &self,
        profiles: &Profiles,
        previous: Option<&Profiles>,
    ) -> Result<AlertReport<'_>> {
        self.run(profiles, previous, None)
    }

    /// As [`evaluate`](Self::evaluate), holding back alerts whose rule fired
    /// for the same customer within its cooldown before `now` (unless the
    /// severity rose), then recording the alerts raised in `log`.
    ///
    /// # Errors
    ///
    /// As for [`evaluate`](Self::evaluate).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeDelta, TimeZone, Utc};
    /// use churnwise::alert::AlertLog;
    /// # use churnwise::alert::{AlertEngine, AlertPolicy, AlertRule, Severity};
    /// # use churnwise::rules::{Condition, Route};
    /// # use churnwise::score::{Profile, Profiles};
    /// # let profiles = Profiles::from_profiles(vec![
    /// #     Profile::new(1u64).with_feature("recency_days", 120.0).with_churn_probability(0.6).with_customer_value(500.0),
    /// #     Profile::new(2u64).with_feature("recency_days", 10.0).with_churn_probability(0.1).with_customer_value(80.0),
    /// # ])?;
    /// # let rule = AlertRule::new("lapsing", Condition::field("recency_days").gt("90d"), Severity::High, Route::Sales)
    /// #     .with_description("no order for 90 days")
    /// #     .with_suggestion("reactivation");
    /// # let engine = AlertEngine::new(AlertPolicy::new(vec![rule])?);
    /// # let report = engine.evaluate(&profiles, None)?;
    /// # let alert = &report.alerts()[0];
    /// let mut log = AlertLog::new(100)?;
    /// let now = Utc.with_ymd_and_hms(2024, 6, 3, 9, 0, 0).unwrap();
    /// assert_eq!(engine.evaluate_with_log(&profiles, None, &mut log, now)?.alerts().len(), 1);
    /// assert_eq!(log.last_alert("lapsing", alert.customer()), Some(now));
    /// // The default cooldown is 7 days: after 8 the alert is raised again.
    /// assert_eq!(engine.evaluate_with_log(&profiles, None, &mut log, now + TimeDelta::days(8))?.alerts().len(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn evaluate_with_log(
        &self,
        profiles: &Profiles,
        previous: Option<&Profiles>,
        log: &mut AlertLog,
        now: DateTime<Utc>,
    ) -> Result<AlertReport<'_>> {
        let report = self.run(profiles, previous, Some((&*log, now)))?;
        for alert in &report.alerts {
            log.record(
                &alert.customer,
                alert.rule(),
                alert.severity(),
                now,
                alert.rule.cooldown_days(),
            );
        }
        log.prune(now);
        Ok(report)
    }

    fn run(
        &self,
        profiles: &Profiles,
        previous: Option<&Profiles>,
        log: Option<(&AlertLog, DateTime<Utc>)>,
    ) -> Result<AlertReport<'_>> {
        let program = compile(&self.policy, profiles, previous)?;
        let rows = Rows::new(profiles, previous);
        let skipped: Vec<bool> = program
            .rules
            .iter()
            .map(|r| r.needs_previous && previous.is_none())
            .collect();
        let order: Vec<usize> = self
            .rule_order()
            .into_iter()
            .filter(|&r| !skipped[r])
            .collect();
        let run = Run {
            engine: self,
            program: &program,
            rows: &rows,
            profiles,
            churn_probability: profiles.churn_probabilities(),
            expected_loss: profiles.expected_losses(),
            order: &order,
            log,
        };
        let chunks: Vec<(Vec<Alert<'_>>, usize, usize)> = (0..profiles.len().div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| run.chunk(c * CHUNK..((c + 1) * CHUNK).min(profiles.len())))
            .collect();
        let (mut suppressed, mut capped) = (0, 0);
        let mut alerts = Vec::with_capacity(chunks.iter().map(|c| c.0.len()).sum());
        for (a, s, k) in chunks {
            alerts.extend(a);
            suppressed += s;
            capped += k;
        }
        Ok(AlertReport {
            alerts: by_priority(alerts),
            profiles: profiles.len(),
            suppressed,
            capped,
            skipped_rules: self
                .policy
                .rules()
                .iter()
                .zip(&skipped)
                .filter(|r| *r.1)
                .map(|r| r.0.id().to_owned())
                .collect(),
        })
    }

    /// Rule indices in the order a customer's alerts are kept.
    fn rule_order(&self) -> Vec<usize> {
        let rules = self.policy.rules();
        let mut order: Vec<usize> = (0..rules.len()).collect();
        if self.policy.precedence() == Precedence::Severity {
            order.sort_by_key(|&r| std::cmp::Reverse(rules[r].severity()));
        }
        order
    }
}

/// Sorts alerts by priority through a key array, so the large alerts move once.
fn by_priority(alerts: Vec<Alert<'_>>) -> Vec<Alert<'_>> {
    let mut keys: Vec<_> = alerts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.priority(), i))
        .collect();
    keys.par_sort_unstable();
    let mut slots: Vec<Option<Alert<'_>>> = alerts.into_iter().map(Some).collect();
    keys.iter().filter_map(|&(_, i)| slots[i].take()).collect()
}

/// One evaluation's shared, read-only state.
struct Run<'e, 'p> {
    engine: &'e AlertEngine,
    program: &'p Program<'e>,
    rows: &'p Rows<'p>,
    profiles: &'p Profiles,
    churn_probability: Option<&'p [f64]>,
    expected_loss: Option<&'p [f64]>,
    order: &'p [usize],
    log: Option<(&'p AlertLog, DateTime<Utc>)>,
}

impl<'e> Run<'e, '_> {
    /// The alerts of the rows in `range`, with the counts held back by the log and by the cap.
    fn chunk(&self, range: Range<usize>) -> (Vec<Alert<'e>>, usize, usize) {
        let rules = self.engine.policy.rules();
        let n = range.len();
        // Which rules fire on which rows, rule by rule over the whole chunk.
        let mut scratch = Scratch::default();
        let mut fired = vec![false; rules.len() * n];
        for &r in self.order {
            self.program.fires(
                r,
                self.rows,
                range.clone(),
                &mut fired[r * n..(r + 1) * n],
                &mut scratch,
            );
        }
        let (mut alerts, mut suppressed, mut capped) = (Vec::new(), 0, 0);
        let max = self.engine.policy.max_alerts_per_customer();
        let mut seen = Vec::new();
        for (k, i) in range.enumerate() {
            let mut kept = 0;
            for &r in self.order {
                if !fired[r * n + k] {
                    continue;
                }
                let rule = &rules[r];
                if let Some((log, now)) = self.log
                    && log.holds_back(&self.profiles.ids()[i], rule.id(), rule.severity(), now)
                {
                    suppressed += 1;
                    continue;
                }
                if kept == max {
                    capped += 1;
                    continue;
                }
                kept += 1;
                seen.clear();
                let omitted_reasons = self
                    .program
                    .explain(r, self.rows, i, MAX_REASONS, &mut seen);
                alerts.push(Alert {
                    customer: self.profiles.ids()[i].clone(),
                    rule,
                    churn_probability: self.churn_probability.map(|p| p[i]),
                    expected_loss: self.expected_loss.map(|l| l[i]),
                    reasons: seen
                        .drain(..)
                        .map(|(t, value, negated)| trigger(self.program, t, value, negated))
                        .collect(),
                    omitted_reasons,
                    row: i,
                    rule_index: r,
                });
            }
        }
        (alerts, suppressed, capped)
    }
}

/// `policy`'s conditions compiled against `profiles`, each rule's errors
/// naming `rules[i].condition`.
fn compile<'p>(
    policy: &'p AlertPolicy,
    profiles: &Profiles,
    previous: Option<&Profiles>,
) -> Result<Program<'p>> {
    policy.validate()?;
    let conditions = policy.rules().iter().enumerate().map(|(r, rule)| {
        let path = Path::root().key("rules").index(r).key("condition");
        (rule.condition(), path)
    });
    Program::of(conditions, profiles, previous)
}

fn trigger<'e>(program: &Program<'e>, test: usize, seen: Seen, negated: bool) -> Trigger<'e> {
    let info = program.tests[test];
    let value = match seen {
        Seen::Number(v) => Observed::Number(v),
        Seen::Label(label) => Observed::Label(label),
        Seen::Change {
            before,
            now,
            change,
        } => Observed::Change {
            before,
            now,
            change,
            relative: info.is_relative_change(),
        },
    };
    Trigger {
        test: info,
        value,
        negated,
    }
}
