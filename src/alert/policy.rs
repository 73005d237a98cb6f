//! Alert rules and policies: what fires, how urgent, for which team.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};

use crate::Result;
use crate::rules::{Condition, MAX_CONDITIONS, Path, Route, describe};

/// How urgent an alert is, `Info` lowest.
///
/// # Example
///
/// ```
/// use churnwise::alert::Severity;
///
/// assert!(Severity::Critical > Severity::High);
/// assert_eq!(Severity::Medium.to_string(), "medium");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// For the record; no action expected.
    Info,
    /// Act when convenient.
    Low,
    /// Act this week.
    Medium,
    /// Act within a day or two.
    High,
    /// Act now.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::Severity;
    ///
    /// assert_eq!(Severity::ALL.len(), 5);
    /// assert!(Severity::ALL.windows(2).all(|w| w[0] < w[1])); // lowest first
    /// ```
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The name used in policy documents.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::Severity;
    ///
    /// assert_eq!(Severity::Critical.name(), "critical");
    /// assert_eq!(Severity::Info.name(), Severity::Info.to_string());
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// When a customer matches several rules, which alerts to keep (up to
/// [`AlertPolicy::max_alerts_per_customer`]).
///
/// # Example
///
/// ```
/// use churnwise::alert::{AlertPolicy, Precedence};
///
/// let policy = AlertPolicy::default_policy().with_precedence(Precedence::RuleOrder);
/// assert_eq!(policy.precedence(), Precedence::RuleOrder);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Precedence {
    /// Highest severity first, then the order of the rules in the policy.
    #[default]
    Severity,
    /// The order of the rules in the policy.
    RuleOrder,
}

/// One early-warning rule.
///
/// # Example
///
/// ```
/// use churnwise::alert::{AlertRule, Severity};
/// use churnwise::rules::{Condition, Route};
///
/// let rule = AlertRule::new("no_order_90d", Condition::field("recency_days").gt("90d"), Severity::High, Route::Sales)
///     .with_description("no order for 90 days")
///     .with_cooldown_days(30.0)
///     .with_suggestion("reactivation");
/// assert_eq!(rule.cooldown_days(), 30.0);
///
/// // A rule is serde data on its own too, in the shape of a policy's `rules` entries.
/// let json = serde_json::to_string(&rule)?;
/// let back: AlertRule = serde_json::from_str(&json)?;
/// assert_eq!(back, rule);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    id: String,
    description: String,
    condition: Condition,
    severity: Severity,
    route: Route,
    cooldown_days: f64,
    suggestion: Option<String>,
}

/// Days before the same rule may alert on the same customer again, by default.
const DEFAULT_COOLDOWN_DAYS: f64 = 7.0;

impl AlertRule {
    /// A rule with no description, a 7-day cooldown and no suggested intervention.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::{AlertRule, Severity};
    /// use churnwise::rules::{Condition, Route};
    ///
    /// let rule = AlertRule::new("lapsing", Condition::field("recency_days").gt("90d"), Severity::High, Route::Sales);
    /// assert_eq!(rule.id(), "lapsing");
    /// assert_eq!(rule.cooldown_days(), 7.0); // the default
    /// assert_eq!(rule.suggestion(), None);
    /// ```
    pub fn new(
        id: impl Into<String>,
        condition: Condition,
        severity: Severity,
        route: Route,
    ) -> Self {
        AlertRule {
            id: id.into(),
            description: String::new(),
            condition,
            severity,
            route,
            cooldown_days: DEFAULT_COOLDOWN_DAYS,
            suggestion: None,
        }
    }

    /// Sets the description shown with alerts.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::{AlertRule, Severity};
    /// use churnwise::rules::{Condition, Route};
    ///
    /// let rule = AlertRule::new("lapsing", Condition::field("recency_days").gt("90d"), Severity::High, Route::Sales)
    ///     .with_description("no order for 90 days");
    /// assert_eq!(rule.description(), "no order for 90 days");
    /// ```
    pub fn with_description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Sets the cooldown (checked by [`AlertPolicy::new`]: finite, ≥ 0).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::{AlertPolicy, AlertRule, Severity};
    /// use churnwise::rules::{Condition, Route};
    ///
    /// let rule = AlertRule::new("lapsing", Condition::field("recency_days").gt("90d"), Severity::High, Route::Sales).with_cooldown_days(30.0);
    /// assert_eq!(rule.cooldown_days(), 30.0);
    /// // Negative cooldowns are rejected when the policy is built.
    /// assert!(AlertPolicy::new(vec![rule.with_cooldown_days(-1.0)]).is_err());
    /// ```
    pub fn with_cooldown_days(mut self, days: f64) -> Self {
        self.cooldown_days = days;
        self
    }

    /// Sets the suggested intervention (an intervention id of a retention playbook).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::{AlertRule, Severity};
    /// use churnwise::rules::{Condition, Route};
    ///
    /// let rule = AlertRule::new("lapsing", Condition::field("recency_days").gt("90d"), Severity::High, Route::Sales).with_suggestion("reactivation");
    /// assert_eq!(rule.suggestion(), Some("reactivation"));
    /// ```
    pub fn with_suggestion(mut self, intervention: impl Into<String>) -> Self {
        self.suggestion = Some(intervention.into());
        self
    }

    /// The rule's id, unique in its policy.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The condition.
    pub fn condition(&self) -> &Condition {
        &self.condition
    }

    /// The severity of its alerts.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The team its alerts go to.
    pub fn route(&self) -> &Route {
        &self.route
    }

    /// Days before it may alert on the same customer again.
    pub fn cooldown_days(&self) -> f64 {
        self.cooldown_days
    }

    /// The suggested intervention.
    pub fn suggestion(&self) -> Option<&str> {
        self.suggestion.as_deref()
    }

    fn parse(value: &Value, path: &Path) -> Result<AlertRule> {
        let map = object(value, path)?;
        check_keys(
            map,
            &[
                "id",
                "description",
                "condition",
                "severity",
                "route",
                "cooldown",
                "suggest",
            ],
            path,
        )?;
        let id = text(map, "id", path)?.ok_or_else(|| path.error("a rule needs an `id`"))?;
        let condition = Condition::parse(
            map.get("condition")
                .ok_or_else(|| path.error(format!("rule `{id}` needs a `condition`")))?,
            &path.key("condition"),
        )?;
        let severity = match text(map, "severity", path)? {
            None => return Err(path.error(format!("rule `{id}` needs a `severity`"))),
            Some(s) => match Severity::ALL.iter().find(|v| v.name() == s) {
                Some(&v) => v,
                None => {
                    let names = Severity::ALL.map(Severity::name);
                    return Err(path.key("severity").unknown("severity", &s, &names));
                }
            },
        };
        let route = match text(map, "route", path)? {
            None => {
                return Err(path.error(format!("rule `{id}` needs a `route` (the owning team)")));
            }
            Some(r) => Route::from_name(&r).map_err(|e| path.key("route").error(e))?,
        };
        let cooldown_days = match map.get("cooldown") {
            None => DEFAULT_COOLDOWN_DAYS,
            Some(v) => days(v, &path.key("cooldown"))?,
        };
        Ok(AlertRule {
            description: text(map, "description", path)?.unwrap_or_default(),
            suggestion: text(map, "suggest", path)?,
            id,
            condition,
            severity,
            route,
            cooldown_days,
        })
    }

    fn to_value(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "description": self.description,
            "condition": self.condition.to_value(),
            "severity": self.severity.name(),
            "route": self.route.name(),
            "cooldown": format!("{}d", self.cooldown_days),
        });
        if let (Some(s), Some(map)) = (&self.suggestion, v.as_object_mut()) {
            map.insert("suggest".into(), Value::String(s.clone()));
        }
        v
    }
}

/// A set of alert rules with how many alerts a customer may get per run.
///
/// Policies are serde data an operations team edits (JSON, or TOML with the
/// `toml` feature); loading validates structure, types, units and ranges
/// and reports the path of the first problem. Field names are checked as
/// the document loads: each must be a built-in profile field, a catalog
/// feature, or a field of your own listed in the document's `fields`
/// (a typo is an error naming the closest names); they are checked again
/// against the profiles by [`AlertEngine::check`](super::AlertEngine::check).
///
/// ```json
/// {
///   "max_alerts_per_customer": 2,
///   "precedence": "severity",
///   "rules": [
///     {"id": "no_order_90d", "description": "no order for 90 days",
///      "condition": {"field": "recency_days", ">": "90d"},
///      "severity": "high", "route": "sales", "cooldown": "30d", "suggest": "reactivation"}
///   ]
/// }
/// ```
///
/// # Example
///
/// ```
/// use churnwise::alert::AlertPolicy;
///
/// let policy = AlertPolicy::from_json(r#"{"rules": [
///     {"id": "complaints", "condition": {"field": "complaints_30d", ">=": 2},
///      "severity": "high", "route": "customer_service"}]}"#)?;
/// assert_eq!(policy.rules()[0].id(), "complaints");
/// assert_eq!(policy.max_alerts_per_customer(), 3);
///
/// let err = AlertPolicy::from_json(r#"{"rules": [
///     {"id": "risk", "condition": {"field": "churn_probability", ">": 70},
///      "severity": "high", "route": "sales"}]}"#).unwrap_err();
/// assert_eq!(err.to_string(), "invalid policy at `rules[0].condition.>`: 70 is outside [0, 1], the range of `churn_probability`");
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AlertPolicy {
    rules: Vec<AlertRule>,
    max_alerts_per_customer: usize,
    precedence: Precedence,
    fields: Vec<String>,
}

impl AlertPolicy {
    /// A policy of `rules`, at most 3 alerts per customer, by severity.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidPolicy`](crate::ErrorKind::InvalidPolicy) for no
    /// rules, a blank or repeated rule id, a cooldown that is negative or
    /// not finite, or a condition that parsing would reject (an empty
    /// `all`/`any`, a constant out of range or of the wrong unit).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::{AlertPolicy, AlertRule, Severity};
    /// use churnwise::rules::{Condition, Route};
    ///
    /// let policy = AlertPolicy::new(vec![AlertRule::new("lapsing", Condition::field("recency_days").gt("90d"), Severity::High, Route::Sales)])?;
    /// assert_eq!(policy.rules().len(), 1);
    /// assert!(AlertPolicy::new(vec![]).is_err()); // at least one rule
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(rules: Vec<AlertRule>) -> Result<Self> {
        let mut policy = AlertPolicy {
            rules,
            max_alerts_per_customer: 3,
            precedence: Precedence::Severity,
            fields: Vec::new(),
        };
        policy.validate()?;
        policy.fields = own_fields(&policy.rules, Vec::new());
        Ok(policy)
    }

    /// The fields of your own its rules read (names that are neither
    /// built-in profile fields nor catalog features), sorted: those a
    /// document declares in `fields`, and those of rules built in code.
    /// [`to_json`](Self::to_json) writes them, so saved policies load back.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::AlertPolicy;
    ///
    /// let doc = r#"{"fields": ["credit_limit"], "rules": [{"id": "limit", "severity": "low", "route": "sales",
    ///     "condition": {"field": "credit_limit", "<": 100}}]}"#;
    /// let policy = AlertPolicy::from_json(doc)?;
    /// assert_eq!(policy.fields(), ["credit_limit"]);
    /// // Undeclared, the name is taken for a typo.
    /// let err = AlertPolicy::from_json(&doc.replace(r#""fields": ["credit_limit"], "#, "")).unwrap_err();
    /// assert!(err.to_string().contains("unknown field `credit_limit`"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Checks the whole policy: at least one rule, unique non-blank ids,
    /// valid conditions and cooldowns, and at least one alert per customer.
    /// Loading and evaluating a policy call it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidPolicy`](crate::ErrorKind::InvalidPolicy) naming
    /// the path of the first problem.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::AlertPolicy;
    ///
    /// let policy = AlertPolicy::default_policy().with_max_alerts_per_customer(0);
    /// let err = policy.validate().unwrap_err();
    /// assert!(err.to_string().contains("max_alerts_per_customer"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        let rules_path = Path::root().key("rules");
        if self.rules.is_empty() {
            return Err(rules_path.error("a policy needs at least one rule"));
        }
        let mut conditions = 0usize;
        for (i, rule) in self.rules.iter().enumerate() {
            let at = rules_path.index(i);
            conditions += rule.condition.check_limits(&at.key("condition"))?;
            if conditions > MAX_CONDITIONS {
                return Err(rules_path.too_large(
                    "number of conditions",
                    self.rules.iter().map(|r| r.condition.measure().1).sum(),
                    MAX_CONDITIONS,
                ));
            }
            if rule.id.trim().is_empty() {
                return Err(at.key("id").error("a rule id cannot be blank"));
            }
            if self.rules[..i].iter().any(|r| r.id == rule.id) {
                return Err(at
                    .key("id")
                    .error(format!("duplicate rule id `{}`", rule.id)));
            }
            rule.condition.validate_at(&at.key("condition"))?;
            if !(rule.cooldown_days.is_finite() && rule.cooldown_days >= 0.0) {
                return Err(at.key("cooldown").error(format!(
                    "expected a cooldown of 0 days or more, got {}",
                    rule.cooldown_days
                )));
            }
            crate::rules::check_duration_days(
                rule.cooldown_days,
                format_args!("{} days", rule.cooldown_days),
                &at.key("cooldown"),
            )?;
        }
        if self.max_alerts_per_customer == 0 {
            return Err(Path::root()
                .key("max_alerts_per_customer")
                .error("must be at least 1"));
        }
        Ok(())
    }

    /// At most `n` alerts per customer per run; defaults to 3, must be at
    /// least 1 (checked by [`validate`](Self::validate)).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::AlertPolicy;
    ///
    /// let policy = AlertPolicy::default_policy().with_max_alerts_per_customer(1);
    /// assert_eq!(policy.max_alerts_per_customer(), 1);
    /// ```
    pub fn with_max_alerts_per_customer(mut self, n: usize) -> Self {
        self.max_alerts_per_customer = n;
        self
    }

    /// Which alerts a customer keeps when more rules fire than allowed.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::{AlertPolicy, Precedence};
    ///
    /// let policy = AlertPolicy::default_policy();
    /// assert_eq!(policy.precedence(), Precedence::Severity); // the default
    /// assert_eq!(policy.with_precedence(Precedence::RuleOrder).precedence(), Precedence::RuleOrder);
    /// ```
    pub fn with_precedence(mut self, precedence: Precedence) -> Self {
        self.precedence = precedence;
        self
    }

    /// The warnings of everyday practice:
    ///
    /// | id | condition | severity | route | suggests |
    /// |---|---|---|---|---|
    /// | `high_churn_risk` | `churn_probability > 0.7`, not already churned | critical | sales | `personal_call_back` |
    /// | `no_order_90d` | `recency_days` in (90, 365] days | high | sales | `reactivation` |
    /// | `repeated_complaints` | `complaints_30d >= 2` | high | customer_service | `personal_call_back` |
    /// | `high_value_going_silent` | value tier high and (stage silent or no interaction for 30 days) | high | sales | `vip_service` |
    /// | `slow_support_reply` | `response_hours_max_30d > 24h` | medium | customer_service | `vip_service` |
    /// | `spend_halved` | `spend_90d` fell by half or more since the previous snapshot | medium | marketing | `discount` |
    ///
    /// It reads churn probabilities, lifecycle stages and value tiers, so the
    /// profiles need a scorer, a lifecycle policy and value tiers.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::AlertPolicy;
    ///
    /// let policy = AlertPolicy::default_policy();
    /// assert_eq!(policy.rules().len(), 6);
    /// assert_eq!(AlertPolicy::from_json(&policy.to_json())?, policy);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn default_policy() -> AlertPolicy {
        use Condition as C;
        let rules = vec![
            AlertRule::new(
                "high_churn_risk",
                C::all([
                    C::field("churn_probability").gt(0.7),
                    C::not(C::field("lifecycle_stage").eq("churned")),
                ]),
                Severity::Critical,
                Route::Sales,
            )
            .with_description("churn risk above 70%")
            .with_cooldown_days(14.0)
            .with_suggestion("personal_call_back"),
            AlertRule::new(
                "no_order_90d",
                C::all([
                    C::field("recency_days").gt("90d"),
                    C::field("recency_days").lte("365d"),
                ]),
                Severity::High,
                Route::Sales,
            )
            .with_description("no order for more than 90 days")
            .with_cooldown_days(30.0)
            .with_suggestion("reactivation"),
            AlertRule::new(
                "repeated_complaints",
                C::field("complaints_30d").gte(2),
                Severity::High,
                Route::CustomerService,
            )
            .with_description("two or more complaints in 30 days")
            .with_cooldown_days(14.0)
            .with_suggestion("personal_call_back"),
            AlertRule::new(
                "high_value_going_silent",
                C::all([
                    C::field("value_tier").eq("high"),
                    C::any([
                        C::field("lifecycle_stage").eq("silent"),
                        C::field("days_since_interaction").gt("30d"),
                    ]),
                ]),
                Severity::High,
                Route::Sales,
            )
            .with_description("a high-value customer has gone quiet")
            .with_cooldown_days(30.0)
            .with_suggestion("vip_service"),
            AlertRule::new(
                "slow_support_reply",
                C::field("response_hours_max_30d").gt("24h"),
                Severity::Medium,
                Route::CustomerService,
            )
            .with_description("a support ticket waited more than 24 hours for a first reply")
            .with_cooldown_days(7.0)
            .with_suggestion("vip_service"),
            AlertRule::new(
                "spend_halved",
                C::field("spend_90d").relative_change().lte(-0.5),
                Severity::Medium,
                Route::Marketing,
            )
            .with_description("90-day spend fell by half or more since the last snapshot")
            .with_cooldown_days(30.0)
            .with_suggestion("discount"),
        ];
        AlertPolicy {
            rules,
            max_alerts_per_customer: 3,
            precedence: Precedence::Severity,
            fields: Vec::new(),
        }
    }

    /// Warnings for subscription businesses, read from the subscription
    /// features ([`FeatureSpec::contractual`](crate::features::FeatureSpec::contractual)):
    ///
    /// | id | condition | severity | route | suggests |
    /// |---|---|---|---|---|
    /// | `renewal_due_engagement_down` | holds a subscription, `days_to_renewal <= 30d` and `engagement_trend_30d < 0` (logins and visits fell against the 30 days before) | high | sales (account management) | `personal_call_back` |
    /// | `repeated_payment_failures` | `payment_failures_30d >= 2` | high | `billing` | `update_payment_method` |
    /// | `recent_downgrade` | `downgrades_90d >= 1` | medium | sales (account management) | `personal_call_back` |
    ///
    /// A separate policy, not part of [`default_policy`](Self::default_policy):
    /// its fields exist only in profiles with the subscription features, and a
    /// policy naming a missing field is refused. Combine both with
    /// `AlertPolicy::new(default.rules().iter().chain(subscription.rules()).cloned().collect())`.
    /// The downgrade rule uses the default 90-day window (a snapshot with a
    /// 60-day window can tighten it to `downgrades_60d`).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::{AlertEngine, AlertPolicy};
    /// use churnwise::score::{Profile, Profiles};
    ///
    /// let subscriber = |id: u64, renewal_days: f64, trend: f64, failures: f64| {
    ///     Profile::new(id)
    ///         .with_feature("has_subscription", 1.0)
    ///         .with_feature("days_to_renewal", renewal_days)
    ///         .with_feature("engagement_trend_30d", trend)
    ///         .with_feature("payment_failures_30d", failures)
    ///         .with_feature("downgrades_90d", 0.0)
    /// };
    /// let profiles = Profiles::from_profiles(vec![subscriber(1, 12.0, -0.5, 0.0), subscriber(2, 200.0, 0.0, 2.0)])?;
    /// let engine = AlertEngine::new(AlertPolicy::default_subscription_policy());
    /// let report = engine.evaluate(&profiles, None)?;
    /// let fired: Vec<(&str, &str)> = report.alerts().iter().map(|a| (a.rule(), a.route().name())).collect();
    /// assert_eq!(fired, [("renewal_due_engagement_down", "sales"), ("repeated_payment_failures", "billing")]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn default_subscription_policy() -> AlertPolicy {
        use Condition as C;
        let rules = vec![
            AlertRule::new(
                "renewal_due_engagement_down",
                C::all([
                    C::field("has_subscription").eq(1),
                    C::field("days_to_renewal").lte("30d"),
                    C::field("engagement_trend_30d").lt(0),
                ]),
                Severity::High,
                Route::Sales,
            )
            .with_description("renewal within 30 days and logins and visits down")
            .with_cooldown_days(14.0)
            .with_suggestion("personal_call_back"),
            AlertRule::new(
                "repeated_payment_failures",
                C::field("payment_failures_30d").gte(2),
                Severity::High,
                Route::Custom("billing".into()),
            )
            .with_description("two or more failed payments in 30 days")
            .with_cooldown_days(7.0)
            .with_suggestion("update_payment_method"),
            AlertRule::new(
                "recent_downgrade",
                C::field("downgrades_90d").gte(1),
                Severity::Medium,
                Route::Sales,
            )
            .with_description("downgraded in the last 90 days")
            .with_cooldown_days(30.0)
            .with_suggestion("personal_call_back"),
        ];
        AlertPolicy {
            rules,
            max_alerts_per_customer: 3,
            precedence: Precedence::Severity,
            fields: Vec::new(),
        }
    }

    /// The rules, in policy order.
    pub fn rules(&self) -> &[AlertRule] {
        &self.rules
    }

    /// At most this many alerts per customer per run.
    pub fn max_alerts_per_customer(&self) -> usize {
        self.max_alerts_per_customer
    }

    /// Which alerts a customer keeps.
    pub fn precedence(&self) -> Precedence {
        self.precedence
    }

    /// Parses and validates a policy from JSON.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidPolicy`](crate::ErrorKind::InvalidPolicy) with the
    /// path of the first problem (syntax errors have an empty path and the
    /// line and column in the reason).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::{AlertPolicy, Severity};
    /// use churnwise::rules::Route;
    ///
    /// let policy = AlertPolicy::from_json(r#"{"rules": [{"id": "complaints", "severity": "high",
    ///     "route": "customer_service", "cooldown": "14d",
    ///     "condition": {"field": "complaints_30d", ">=": 2}}]}"#)?;
    /// let rule = &policy.rules()[0];
    /// assert_eq!((rule.severity(), rule.route(), rule.cooldown_days()), (Severity::High, &Route::CustomerService, 14.0));
    /// assert!(AlertPolicy::from_json(r#"{"rules": []}"#).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_json(json: &str) -> Result<AlertPolicy> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| crate::rules::json_error("alert policy", e))?;
        AlertPolicy::from_value(&value)
    }

    /// Parses and validates a policy from TOML (feature `toml`).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::AlertPolicy;
    ///
    /// let policy = AlertPolicy::from_toml(r#"
    ///     [[rules]]
    ///     id = "slow_reply"
    ///     condition = { field = "response_hours_max_30d", ">" = "24h" }
    ///     severity = "medium"
    ///     route = "customer_service"
    /// "#)?;
    /// assert_eq!(policy.rules()[0].cooldown_days(), 7.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As for [`from_json`](Self::from_json).
    #[cfg(feature = "toml")]
    pub fn from_toml(text: &str) -> Result<AlertPolicy> {
        AlertPolicy::from_value(&crate::rules::toml_value(text)?)
    }

    /// The policy as pretty-printed JSON (the documented shape).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::AlertPolicy;
    ///
    /// let policy = AlertPolicy::default_policy();
    /// let json = policy.to_json();
    /// assert!(json.contains("\"high_churn_risk\""));
    /// assert_eq!(AlertPolicy::from_json(&json)?, policy);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn to_json(&self) -> String {
        // Serializing a `Value` cannot fail.
        serde_json::to_string_pretty(&self.to_value()).unwrap_or_default()
    }

    /// Loads a policy file: JSON for `.json`, TOML for `.toml` (feature
    /// `toml`), chosen by the extension.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `path` for another extension; [`ErrorKind::Io`](crate::ErrorKind::Io)
    /// if the file cannot be read; otherwise as [`from_json`](Self::from_json).
    /// Every error names the file (an invalid policy's path starts with it).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::AlertPolicy;
    ///
    /// let policy = AlertPolicy::load("examples/alert_policy.toml")?;
    /// assert_eq!(policy.rules().len(), 8);
    /// let err = AlertPolicy::load("no/such/policy.json").unwrap_err();
    /// assert!(err.to_string().starts_with("no/such/policy.json: "));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<AlertPolicy> {
        let path = path.as_ref();
        let format = crate::error::DocumentFormat::of(path, true)?;
        let text = crate::error::read_document(path)?;
        match format {
            crate::error::DocumentFormat::Json => AlertPolicy::from_json(&text),
            #[cfg(feature = "toml")]
            crate::error::DocumentFormat::Toml => AlertPolicy::from_toml(&text),
        }
        .map_err(|e| e.in_file(path))
    }

    /// Saves the policy to a file that [`load`](Self::load) reads back:
    /// JSON for `.json`, TOML for `.toml` (feature `toml`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `path` for another extension; [`ErrorKind::Io`](crate::ErrorKind::Io)
    /// naming the file if it cannot be written.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::AlertPolicy;
    ///
    /// let dir = std::env::temp_dir().join(format!("churnwise-policy-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let policy = AlertPolicy::default_policy();
    /// for name in ["policy.json", "policy.toml"] {
    ///     policy.save(dir.join(name))?;
    ///     assert_eq!(AlertPolicy::load(dir.join(name))?, policy);
    /// }
    /// assert!(policy.save(dir.join("policy.yaml")).is_err());
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        let text = match crate::error::DocumentFormat::of(path, true)? {
            crate::error::DocumentFormat::Json => self.to_json(),
            #[cfg(feature = "toml")]
            crate::error::DocumentFormat::Toml => crate::rules::to_toml(&self.to_value(), path)?,
        };
        crate::error::write_document(path, &text)
    }

    /// Parses and validates a policy from a serde value tree (any format).
    pub(crate) fn from_value(value: &Value) -> Result<AlertPolicy> {
        let root = Path::root();
        let map = object(value, &root)?;
        check_keys(
            map,
            &["rules", "max_alerts_per_customer", "precedence", "fields"],
            &root,
        )?;
        let declared = crate::rules::declared_fields(map.get("fields"), &root.key("fields"))?;
        let rules_path = root.key("rules");
        let rules = match map.get("rules") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, r)| AlertRule::parse(r, &rules_path.index(i)))
                .collect::<Result<Vec<_>>>()?,
            Some(other) => {
                return Err(
                    rules_path.error(format!("expected a list of rules, got {}", describe(other)))
                );
            }
            None => return Err(root.error("a policy needs `rules`")),
        };
        let mut policy = AlertPolicy::new(rules)?;
        if let Some(v) = map.get("max_alerts_per_customer") {
            let at = root.key("max_alerts_per_customer");
            let n = v.as_u64().filter(|&n| n >= 1).ok_or_else(|| {
                at.error(format!(
                    "expected a whole number of 1 or more, got {}",
                    describe(v)
                ))
            })?;
            policy.max_alerts_per_customer = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(v) = map.get("precedence") {
            policy.precedence = match v.as_str() {
                Some("severity") => Precedence::Severity,
                Some("rule_order") => Precedence::RuleOrder,
                _ => {
                    return Err(root.key("precedence").error(format!(
                        "expected \"severity\" or \"rule_order\", got {}",
                        describe(v)
                    )));
                }
            };
        }
        // Names are checked as the document loads, before any profiles exist.
        for (i, rule) in policy.rules.iter().enumerate() {
            rule.condition
                .check_names(&rules_path.index(i).key("condition"), &declared)?;
        }
        policy.fields = own_fields(&policy.rules, declared);
        Ok(policy)
    }

    fn to_value(&self) -> Value {
        let mut v = json!({
            "max_alerts_per_customer": self.max_alerts_per_customer,
            "precedence": match self.precedence {
                Precedence::Severity => "severity",
                Precedence::RuleOrder => "rule_order",
            },
            "rules": self.rules.iter().map(AlertRule::to_value).collect::<Vec<_>>(),
        });
        if let (false, Some(map)) = (self.fields.is_empty(), v.as_object_mut()) {
            map.insert("fields".into(), json!(self.fields));
        }
        v
    }
}

impl Default for AlertPolicy {
    fn default() -> Self {
        AlertPolicy::default_policy()
    }
}

impl Serialize for AlertRule {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.condition
            .check_limits(&Path::root().key("condition"))
            .map_err(serde::ser::Error::custom)?;
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for AlertRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        AlertRule::parse(&value, &Path::root()).map_err(serde::de::Error::custom)
    }
}

impl Serialize for AlertPolicy {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for AlertPolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        AlertPolicy::from_value(&value).map_err(serde::de::Error::custom)
    }
}

/// `declared` and the fields of your own `rules` read, sorted, once each.
fn own_fields(rules: &[AlertRule], declared: Vec<String>) -> Vec<String> {
    let mut fields = declared;
    fields.extend(rules.iter().flat_map(|r| r.condition.own_fields()));
    fields.sort_unstable();
    fields.dedup();
    fields
}

fn object<'a>(value: &'a Value, path: &Path) -> Result<&'a Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| path.error(format!("expected an object, got {}", describe(value))))
}

fn check_keys(map: &Map<String, Value>, known: &[&str], path: &Path) -> Result<()> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(path.unknown("key", k, known)),
        None => Ok(()),
    }
}

/// An optional text member.
fn text(map: &Map<String, Value>, key: &str, path: &Path) -> Result<Option<String>> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(path
            .key(key)
            .error(format!("expected text, got {}", describe(other)))),
    }
}

/// Days from a number of days or a duration text (`"14d"`, `"36h"`, `"2w"`).
fn days(value: &Value, path: &Path) -> Result<f64> {
    let d = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => crate::rules::parse_duration(s).map(|(a, hours)| a * hours / 24.0),
        _ => None,
    };
    let d = d.filter(|d| d.is_finite() && *d >= 0.0).ok_or_else(|| {
        path.error(format!(
            "expected a duration such as \"14d\", \"36h\" or a number of days ≥ 0, got {}",
            describe(value)
        ))
    })?;
    crate::rules::check_duration_days(d, describe(value), path)?;
    Ok(d)
}
