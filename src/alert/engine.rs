//! Evaluating a policy over profiles: alerts, priorities and work lists.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::Serialize;

use super::compile::{Program, Rows, Seen};
use super::condition::Change;
use super::log::AlertLog;
use super::policy::{AlertPolicy, Precedence, Route, Severity};
use crate::Result;
use crate::records::CustomerId;
use crate::score::Profiles;

/// Profiles per parallel task (fixed, so the output does not depend on the thread count).
const CHUNK: usize = 4096;

/// One observation behind an alert: the field, its value (and its value in
/// the previous snapshot for a change) and the test it met.
///
/// # Example
///
/// See [`AlertEngine`]; `trigger.to_string()` reads like
/// `recency_days = 120 (> 90d)` or `not complaints_30d = 0 (>= 2)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    field: Arc<str>,
    test: Arc<str>,
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
    Label(&'static str),
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

impl Trigger {
    /// The field.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The test, as written in the policy (`> 90d`, `in [silent, at_risk]`).
    pub fn test(&self) -> &str {
        &self.test
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

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let not = if self.negated { "not " } else { "" };
        match &self.value {
            Observed::Change { relative, .. } => {
                let what = if *relative {
                    "relative change"
                } else {
                    "change"
                };
                write!(
                    f,
                    "{not}{} {} ({what} {})",
                    self.field, self.value, self.test
                )
            }
            v => write!(f, "{not}{} = {v} ({})", self.field, self.test),
        }
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

/// One customer flagged by one rule.
///
/// # Example
///
/// See [`AlertEngine`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    customer: CustomerId,
    rule: Arc<str>,
    severity: Severity,
    route: Route,
    churn_probability: Option<f64>,
    expected_loss: Option<f64>,
    reasons: Vec<Trigger>,
    suggestion: Option<Arc<str>>,
    #[serde(skip)]
    row: usize,
    #[serde(skip)]
    rule_index: usize,
}

impl Alert {
    /// The customer.
    pub fn customer(&self) -> &CustomerId {
        &self.customer
    }

    /// The id of the rule that fired.
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// The rule's severity.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The owning team.
    pub fn route(&self) -> &Route {
        &self.route
    }

    /// The customer's churn probability, when profiled.
    pub fn churn_probability(&self) -> Option<f64> {
        self.churn_probability
    }

    /// Expected value at risk (churn probability × customer value), when profiled.
    pub fn expected_loss(&self) -> Option<f64> {
        self.expected_loss
    }

    /// The observations that triggered the rule, in condition order.
    pub fn reasons(&self) -> &[Trigger] {
        &self.reasons
    }

    /// The rule's suggested intervention.
    pub fn suggestion(&self) -> Option<&str> {
        self.suggestion.as_deref()
    }

    /// The customer's row in the evaluated profiles.
    pub fn row(&self) -> usize {
        self.row
    }

    /// Priority order: severity, then expected loss (unknown last), then
    /// profile row and rule order, so the order is total and deterministic.
    fn priority_cmp(&self, other: &Alert) -> std::cmp::Ordering {
        other
            .severity
            .cmp(&self.severity)
            .then_with(|| {
                let loss = |a: &Alert| a.expected_loss.unwrap_or(f64::NEG_INFINITY);
                loss(other).total_cmp(&loss(self))
            })
            .then(self.row.cmp(&other.row))
            .then(self.rule_index.cmp(&other.rule_index))
    }
}

/// The alerts of one team, in priority order.
///
/// # Example
///
/// See [`AlertEngine`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkList<'a> {
    route: &'a Route,
    alerts: Vec<&'a Alert>,
}

impl<'a> WorkList<'a> {
    /// The team.
    pub fn route(&self) -> &'a Route {
        self.route
    }

    /// Its alerts, highest priority first.
    pub fn alerts(&self) -> &[&'a Alert] {
        &self.alerts
    }
}

/// The outcome of one evaluation: alerts in priority order and what was
/// held back.
///
/// # Example
///
/// See [`AlertEngine`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertReport {
    alerts: Vec<Alert>,
    profiles: usize,
    suppressed: usize,
    capped: usize,
    skipped_rules: Vec<String>,
}

impl AlertReport {
    /// Every alert, highest priority first (severity, then expected loss).
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// One work list per route that has alerts, by route; every alert is in exactly one.
    pub fn work_lists(&self) -> Vec<WorkList<'_>> {
        let mut routes: Vec<&Route> = self.alerts.iter().map(|a| &a.route).collect();
        routes.sort();
        routes.dedup();
        routes
            .into_iter()
            .map(|route| WorkList {
                route,
                alerts: self.alerts.iter().filter(|a| a.route == *route).collect(),
            })
            .collect()
    }

    /// Alert counts by route and severity (most severe first within a route).
    pub fn counts(&self) -> Vec<(Route, Severity, usize)> {
        let mut out: Vec<(Route, Severity, usize)> = Vec::new();
        for list in self.work_lists() {
            for s in Severity::ALL.iter().rev() {
                let n = list.alerts.iter().filter(|a| a.severity == *s).count();
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
/// use churnwise::alert::{AlertEngine, AlertPolicy, AlertRule, Condition, Route, Severity};
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
/// let report = AlertEngine::new(policy).evaluate(&profiles, None)?;
/// assert_eq!(report.alerts().len(), 2);
/// let first = &report.alerts()[0];
/// assert_eq!((first.rule(), first.customer().to_string().as_str()), ("no_order_90d", "1"));
/// assert_eq!(first.reasons()[0].to_string(), "recency_days = 120 (> 90d)");
/// assert_eq!(report.work_lists().len(), 2);
///
/// let typo = AlertPolicy::from_json(r#"{"rules": [{"id": "r", "severity": "low", "route": "sales",
///     "condition": {"field": "recency_day", ">": 1}}]}"#)?;
/// let err = AlertEngine::new(typo).check(&profiles).unwrap_err();
/// assert_eq!(err.to_string(), "invalid policy at `rules[0].condition.field`: unknown field `recency_day` (did you mean `recency_days`?)");
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AlertEngine {
    policy: AlertPolicy,
    rule_ids: Vec<Arc<str>>,
    suggestions: Vec<Option<Arc<str>>>,
}

impl AlertEngine {
    /// An engine for a policy.
    pub fn new(policy: AlertPolicy) -> Self {
        let rule_ids = policy.rules().iter().map(|r| Arc::from(r.id())).collect();
        let suggestions = policy
            .rules()
            .iter()
            .map(|r| r.suggestion().map(Arc::from))
            .collect();
        AlertEngine {
            policy,
            rule_ids,
            suggestions,
        }
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
    pub fn check(&self, profiles: &Profiles) -> Result<()> {
        Program::compile(&self.policy, profiles, None).map(|_| ())
    }

    /// Evaluates the policy; `previous` (the last snapshot's profiles)
    /// enables the change tests, whose rules are otherwise skipped and listed
    /// in [`AlertReport::skipped_rules`].
    ///
    /// # Errors
    ///
    /// As for [`check`](Self::check), also for fields missing from `previous`.
    pub fn evaluate(
        &self,
        profiles: &Profiles,
        previous: Option<&Profiles>,
    ) -> Result<AlertReport> {
        self.run(profiles, previous, None)
    }

    /// As [`evaluate`](Self::evaluate), holding back alerts whose rule fired
    /// for the same customer within its cooldown before `now` (unless the
    /// severity rose), then recording the alerts raised in `log`.
    ///
    /// # Errors
    ///
    /// As for [`evaluate`](Self::evaluate).
    pub fn evaluate_with_log(
        &self,
        profiles: &Profiles,
        previous: Option<&Profiles>,
        log: &mut AlertLog,
        now: DateTime<Utc>,
    ) -> Result<AlertReport> {
        let report = self.run(profiles, previous, Some((&*log, now)))?;
        for alert in &report.alerts {
            let cooldown = self.policy.rules()[alert.rule_index].cooldown_days();
            log.record(&alert.customer, &alert.rule, alert.severity, now, cooldown);
        }
        log.prune(now);
        Ok(report)
    }

    fn run(
        &self,
        profiles: &Profiles,
        previous: Option<&Profiles>,
        log: Option<(&AlertLog, DateTime<Utc>)>,
    ) -> Result<AlertReport> {
        let program = Program::compile(&self.policy, profiles, previous)?;
        let rows = Rows::new(profiles, previous);
        let skipped: Vec<bool> = program
            .rules
            .iter()
            .map(|r| r.needs_previous && previous.is_none())
            .collect();
        let order = self.rule_order();
        let chunks: Vec<(Vec<Alert>, usize, usize)> = (0..profiles.len().div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let rows_range = c * CHUNK..((c + 1) * CHUNK).min(profiles.len());
                self.chunk(&program, &rows, profiles, rows_range, &order, &skipped, log)
            })
            .collect();
        let (mut suppressed, mut capped) = (0, 0);
        let mut alerts = Vec::with_capacity(chunks.iter().map(|c| c.0.len()).sum());
        for (a, s, k) in chunks {
            alerts.extend(a);
            suppressed += s;
            capped += k;
        }
        alerts.par_sort_unstable_by(Alert::priority_cmp);
        Ok(AlertReport {
            alerts,
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

    #[allow(clippy::too_many_arguments)]
    fn chunk(
        &self,
        program: &Program,
        rows: &Rows<'_>,
        profiles: &Profiles,
        range: std::ops::Range<usize>,
        order: &[usize],
        skipped: &[bool],
        log: Option<(&AlertLog, DateTime<Utc>)>,
    ) -> (Vec<Alert>, usize, usize) {
        let (mut alerts, mut suppressed, mut capped) = (Vec::new(), 0, 0);
        let max = self.policy.max_alerts_per_customer();
        let mut seen = Vec::new();
        for i in range {
            let mut kept = 0;
            for &r in order {
                if skipped[r] || !program.fires(r, rows, i) {
                    continue;
                }
                let rule = &self.policy.rules()[r];
                if let Some((log, now)) = log
                    && log.holds_back(&profiles.ids()[i], rule.id(), rule.severity(), now)
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
                program.explain(r, rows, i, &mut seen);
                alerts.push(Alert {
                    customer: profiles.ids()[i].clone(),
                    rule: self.rule_ids[r].clone(),
                    severity: rule.severity(),
                    route: rule.route().clone(),
                    churn_probability: profiles.churn_probabilities().map(|p| p[i]),
                    expected_loss: profiles.expected_loss(i),
                    reasons: seen
                        .iter()
                        .map(|&(t, value, negated)| trigger(program, t, value, negated))
                        .collect(),
                    suggestion: self.suggestions[r].clone(),
                    row: i,
                    rule_index: r,
                });
            }
        }
        (alerts, suppressed, capped)
    }
}

fn trigger(program: &Program, test: usize, seen: Seen, negated: bool) -> Trigger {
    let info = &program.tests[test];
    let value = match seen {
        Seen::Number(v) => Observed::Number(v),
        Seen::Label(category, code) => Observed::Label(category.label(code)),
        Seen::Change {
            before,
            now,
            change,
        } => Observed::Change {
            before,
            now,
            change,
            relative: info.change == Some(Change::Relative),
        },
    };
    Trigger {
        field: info.field.clone(),
        test: info.test.clone(),
        value,
        negated,
    }
}
