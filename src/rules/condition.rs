//! Conditions: comparisons of profile fields combined with `all`/`any`/`not`,
//! as serde data with path-aware validation.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::expr::{self, field_text, quote_if_needed};
use super::path::Path;
use crate::Result;
use crate::features::Unit;
use crate::score::{Builtin, Profiles, builtin};

/// A test on a customer's profile, as an expression tree.
///
/// A leaf compares one field (a feature, `churn_probability`,
/// `customer_value`, `expected_loss`, `rfm_segment`, `lifecycle_stage`,
/// `value_tier` or `engagement_tier`) with constants; `change` compares the
/// change of a numeric field since the previous snapshot instead (absolute,
/// or relative: `(now − before) / |before|`, so `-0.5` means "fell by
/// half"). A rule whose change is unknown for a customer (not in the previous
/// snapshot, or a relative change from 0) does not fire for them.
/// In JSON (TOML has the same shape):
///
/// ```json
/// {"all": [
///   {"field": "recency_days", ">": "90d"},
///   {"field": "value_tier", "==": "high"},
///   {"not": {"field": "lifecycle_stage", "in": ["new", "churned"]}},
///   {"field": "spend_90d", "change": "relative", "<=": -0.5}
/// ]}
/// ```
///
/// Operators: `>`, `>=`, `<`, `<=`, `==`, `between` (`[lo, hi]`, inclusive)
/// and `in` (a list); `gt`, `gte`, `lt`, `lte` and `eq` are accepted too.
/// Thresholds of day- or hour-valued features may carry a unit (`"90d"`,
/// `"24h"`, `"2w"`). Documents are validated as they load: wrong types,
/// unknown keys, empty `all`/`any`, labels that are not segments, stages or
/// tiers, and thresholds outside a field's range (a probability above 1, a
/// negative count, a duration for a count) are errors naming their path.
/// Field names are checked against the profiles when the policy is compiled
/// ([`AlertEngine::check`](crate::alert::AlertEngine::check)).
///
/// # Example
///
/// ```
/// use churnwise::rules::Condition;
///
/// let silent_vip = Condition::all([
///     Condition::field("days_since_interaction").gt(30),
///     Condition::field("value_tier").eq("high"),
/// ]);
/// let parsed = Condition::from_json(r#"{"all": [
///     {"field": "days_since_interaction", ">": 30},
///     {"field": "value_tier", "==": "high"}]}"#)?;
/// assert_eq!(parsed, silent_vip);
///
/// let err = Condition::from_json(r#"{"field": "churn_probability", ">": 70}"#).unwrap_err();
/// assert!(err.to_string().contains("outside [0, 1]"));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[non_exhaustive]
pub enum Condition {
    /// Every condition holds (at least one).
    All(Vec<Condition>),
    /// At least one condition holds (at least one).
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
    /// A comparison of one field.
    Test(Test),
}

/// The deepest a condition may nest: a comparison alone has depth 1, and
/// each `all`, `any` or `not` around it adds one.
///
/// The same limit holds for conditions built in code, written as
/// expressions, and loaded from JSON or TOML; a policy at the limit saves
/// and loads back (its JSON stays within `serde_json`'s nesting limit).
/// Deeper conditions are refused with
/// [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge) naming the depth and
/// the limit, so evaluating, validating and saving never exhaust the stack.
///
/// # Example
///
/// ```
/// use churnwise::ErrorKind;
/// use churnwise::rules::{Condition, MAX_DEPTH};
///
/// let mut c = Condition::field("recency_days").gt(90);
/// for _ in 1..MAX_DEPTH {
///     c = Condition::not(c);
/// }
/// assert_eq!(c.depth(), MAX_DEPTH);
/// let json = serde_json::to_string(&c)?;
/// assert_eq!(Condition::from_json(&json)?, c); // at the limit: fine
///
/// let err = Condition::from_json(&format!(r#"{{"not": {json}}}"#)).unwrap_err();
/// assert!(matches!(err.kind(), ErrorKind::TooLarge { what: "nesting depth", size: 33, limit: 32, .. }));
/// assert_eq!(Condition::not(c).validate().unwrap_err().to_string(), "condition: nesting depth 33 exceeds the limit of 32");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const MAX_DEPTH: usize = 32;

/// The most comparisons and groups (`all`, `any`, `not`) one condition, or
/// all the conditions of one policy or playbook together, may hold.
///
/// It bounds the work and memory of one evaluation (each alert keeps at
/// most a few reasons whatever the size of the rule).
pub const MAX_CONDITIONS: usize = 10_000;

/// One comparison: a field (or its change since the previous snapshot)
/// against constants. Build it with [`Condition::field`].
///
/// # Example
///
/// ```
/// use churnwise::rules::Condition;
///
/// let c = Condition::field("spend_90d").relative_change().lte(-0.5);
/// assert_eq!(c.to_string(), "relative change of spend_90d <= -0.5");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    pub(crate) field: String,
    pub(crate) change: Option<Change>,
    pub(crate) op: Op,
}

/// How a change since the previous snapshot is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Absolute,
    Relative,
}

/// A comparison operator with its constants.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Gt(Operand),
    Gte(Operand),
    Lt(Operand),
    Lte(Operand),
    Eq(Operand),
    Between(Operand, Operand),
    In(Vec<Operand>),
}

/// A constant in a condition: a number, a duration such as `"90d"`, or a
/// label such as `"high"` or `"at_risk"`.
///
/// # Example
///
/// ```
/// use churnwise::rules::Operand;
///
/// assert_eq!(Operand::from(90), Operand::Number(90.0));
/// assert_eq!(Operand::from("24h"), Operand::Text("24h".into()));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Operand {
    /// A number, in the field's unit.
    Number(f64),
    /// A duration (`"90d"`, `"24h"`, `"2w"`) or a category label.
    Text(String),
}

impl From<f64> for Operand {
    fn from(v: f64) -> Self {
        Operand::Number(v)
    }
}

impl From<i32> for Operand {
    fn from(v: i32) -> Self {
        Operand::Number(f64::from(v))
    }
}

impl From<&str> for Operand {
    fn from(v: &str) -> Self {
        Operand::Text(v.to_owned())
    }
}

impl From<String> for Operand {
    fn from(v: String) -> Self {
        Operand::Text(v)
    }
}

/// The start of a [`Test`]: a field, optionally its change.
///
/// # Example
///
/// ```
/// use churnwise::rules::Condition;
///
/// let c = Condition::field("complaints_30d").gte(2);
/// assert_eq!(c.to_string(), "complaints_30d >= 2");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    field: String,
    change: Option<Change>,
}

impl FieldRef {
    /// Compare the absolute change since the previous snapshot.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::field("orders_90d").change().lte(-2);
    /// assert_eq!(c.to_string(), "change of orders_90d <= -2");
    /// assert_eq!(c, Condition::from_json(r#"{"field": "orders_90d", "change": "absolute", "<=": -2}"#)?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn change(mut self) -> Self {
        self.change = Some(Change::Absolute);
        self
    }

    /// Compare the relative change `(now − before) / |before|`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::field("spend_90d").relative_change().lte(-0.5);
    /// assert_eq!(c.to_string(), "relative change of spend_90d <= -0.5");
    /// assert_eq!(c, Condition::from_json(r#"{"field": "spend_90d", "change": "relative", "<=": -0.5}"#)?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn relative_change(mut self) -> Self {
        self.change = Some(Change::Relative);
        self
    }

    fn test(self, op: Op) -> Condition {
        Condition::Test(Test {
            field: self.field,
            change: self.change,
            op,
        })
    }

    /// `field > v`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::field("recency_days").gt("90d");
    /// assert_eq!(c.to_string(), "recency_days > 90d");
    /// assert_eq!(c, Condition::from_json(r#"{"field": "recency_days", ">": "90d"}"#)?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn gt(self, v: impl Into<Operand>) -> Condition {
        self.test(Op::Gt(v.into()))
    }

    /// `field >= v`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::field("complaints_30d").gte(2);
    /// assert_eq!(c.to_string(), "complaints_30d >= 2");
    /// assert_eq!(c, Condition::from_json(r#"{"field": "complaints_30d", ">=": 2}"#)?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn gte(self, v: impl Into<Operand>) -> Condition {
        self.test(Op::Gte(v.into()))
    }

    /// `field < v`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::field("satisfaction_last").lt(0.4);
    /// assert_eq!(c.to_string(), "satisfaction_last < 0.4");
    /// assert_eq!(c, Condition::from_json(r#"{"field": "satisfaction_last", "<": 0.4}"#)?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn lt(self, v: impl Into<Operand>) -> Condition {
        self.test(Op::Lt(v.into()))
    }

    /// `field <= v`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::field("orders_90d").lte(1);
    /// assert_eq!(c.to_string(), "orders_90d <= 1");
    /// assert_eq!(c, Condition::from_json(r#"{"field": "orders_90d", "lte": 1}"#)?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn lte(self, v: impl Into<Operand>) -> Condition {
        self.test(Op::Lte(v.into()))
    }

    /// `field == v` (a number or a label).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::field("value_tier").eq("high");
    /// assert_eq!(c.to_string(), "value_tier == high");
    /// assert_eq!(c, Condition::from_json(r#"{"field": "value_tier", "==": "high"}"#)?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn eq(self, v: impl Into<Operand>) -> Condition {
        self.test(Op::Eq(v.into()))
    }

    /// `lo <= field <= hi`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::field("churn_probability").between(0.4, 0.7);
    /// assert_eq!(c.to_string(), "churn_probability between 0.4 and 0.7");
    /// assert_eq!(c, Condition::from_json(r#"{"field": "churn_probability", "between": [0.4, 0.7]}"#)?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn between(self, lo: impl Into<Operand>, hi: impl Into<Operand>) -> Condition {
        self.test(Op::Between(lo.into(), hi.into()))
    }

    /// `field` is one of `values`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::field("lifecycle_stage").is_in(["silent", "at_risk"]);
    /// assert_eq!(c.to_string(), "lifecycle_stage in [silent, at_risk]");
    /// assert_eq!(c, Condition::from_json(r#"{"field": "lifecycle_stage", "in": ["silent", "at_risk"]}"#)?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn is_in<V: Into<Operand>>(self, values: impl IntoIterator<Item = V>) -> Condition {
        self.test(Op::In(values.into_iter().map(Into::into).collect()))
    }
}

impl Condition {
    /// Starts a comparison of `field`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::field("recency_days").gt(90);
    /// assert_eq!(c.to_string(), "recency_days > 90");
    /// if let Condition::Test(test) = &c {
    ///     assert_eq!(test.field(), "recency_days");
    /// }
    /// ```
    pub fn field(name: impl Into<String>) -> FieldRef {
        FieldRef {
            field: name.into(),
            change: None,
        }
    }

    /// Every condition holds.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::all([Condition::field("value_tier").eq("high"), Condition::field("recency_days").gt("60d")]);
    /// assert_eq!(c.to_string(), "(value_tier == high and recency_days > 60d)");
    /// ```
    pub fn all(conditions: impl IntoIterator<Item = Condition>) -> Condition {
        Condition::All(conditions.into_iter().collect())
    }

    /// At least one condition holds.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::any([Condition::field("complaints_30d").gte(2), Condition::field("satisfaction_last").lt(0.4)]);
    /// assert_eq!(c.to_string(), "(complaints_30d >= 2 or satisfaction_last < 0.4)");
    /// ```
    pub fn any(conditions: impl IntoIterator<Item = Condition>) -> Condition {
        Condition::Any(conditions.into_iter().collect())
    }

    /// The condition does not hold.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::not(Condition::field("lifecycle_stage").eq("churned"));
    /// assert_eq!(c.to_string(), "not lifecycle_stage == churned");
    /// assert_eq!(c, Condition::from_json(r#"{"not": {"field": "lifecycle_stage", "==": "churned"}}"#)?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    #[allow(clippy::should_implement_trait)] // a constructor, not `!`
    pub fn not(condition: Condition) -> Condition {
        Condition::Not(Box::new(condition))
    }

    /// Parses and validates a condition written as an expression, the
    /// form [`Display`](fmt::Display) writes:
    /// `plan == "gold" and (churn_probability > 0.6 or recency_days > 90d)`.
    ///
    /// `and` binds tighter than `or`; `not`, parentheses, `between a and b`,
    /// `in [a, b]`, `!=`, and `change of` / `relative change of` a field
    /// are understood; labels may be quoted or bare. In a JSON or TOML
    /// policy, a condition given as a string is read this way.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidPolicy`](crate::ErrorKind::InvalidPolicy) giving
    /// the column and what was expected there, or the first value the field
    /// cannot hold.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::parse_expr("lifecycle_stage == silent and recency_days > 60d")?;
    /// let same = Condition::all([
    ///     Condition::field("lifecycle_stage").eq("silent"),
    ///     Condition::field("recency_days").gt("60d"),
    /// ]);
    /// assert_eq!(c, same);
    /// assert_eq!(Condition::parse_expr(&c.to_string())?, c); // Display reads back
    /// let err = Condition::parse_expr("recency_days >").unwrap_err();
    /// assert!(err.to_string().contains("at column 15: expected a value"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn parse_expr(text: &str) -> Result<Condition> {
        expr::parse(text, &Path::root())
    }

    /// Which of `profiles` meet this condition, in row order (evaluated in
    /// parallel, with the same result on any number of threads). A
    /// condition on a change since a previous snapshot meets nobody here;
    /// alert policies evaluate those ([`AlertEngine`](crate::alert::AlertEngine)).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidPolicy`](crate::ErrorKind::InvalidPolicy) for a
    /// field these profiles do not have (naming the closest ones) or a
    /// constant the field cannot hold.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    /// use churnwise::score::Profiles;
    /// # let (_, table) = churnwise::doc_support::table(300, 1, 6)?;
    ///
    /// let profiles = Profiles::new(table)?;
    /// let silent = Condition::field("recency_days").gt("60d").rows_meeting(&profiles)?;
    /// let expected = profiles.iter().filter(|p| p.feature("recency_days") > Some(60.0)).count();
    /// assert_eq!(silent.iter().filter(|s| **s).count(), expected);
    ///
    /// let typo = Condition::field("recency_dayz").gt(1).rows_meeting(&profiles).unwrap_err();
    /// assert!(typo.to_string().contains("recency_days")); // the closest known name
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn rows_meeting(&self, profiles: &Profiles) -> Result<Vec<bool>> {
        super::compile::rows_meeting(self, Path::root(), profiles, None)
    }

    /// Parses and validates a condition from JSON.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidPolicy`](crate::ErrorKind::InvalidPolicy) with the
    /// path of the first problem.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::from_json(r#"{"field": "response_hours_max_30d", "gt": "24h"}"#)?;
    /// assert_eq!(c, Condition::field("response_hours_max_30d").gt("24h"));
    /// let err = Condition::from_json(r#"{"all": []}"#).unwrap_err();
    /// assert!(err.to_string().contains("needs at least one condition"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Condition> {
        let value: Value = serde_json::from_str(json).map_err(|e| json_error("condition", e))?;
        Condition::parse(&value, &Path::root())
    }

    /// Parses and validates a condition from a serde value tree.
    pub(crate) fn parse(value: &Value, path: &Path) -> Result<Condition> {
        let condition = Condition::parse_at(value, path, 1)?;
        condition.check_limits(path)?;
        Ok(condition)
    }

    /// [`parse`](Self::parse) of a condition `depth` levels deep, refusing
    /// to go past [`MAX_DEPTH`] so that parsing cannot exhaust the stack.
    fn parse_at(value: &Value, path: &Path, depth: usize) -> Result<Condition> {
        if depth > MAX_DEPTH {
            return Err(path.too_large("nesting depth", depth, MAX_DEPTH));
        }
        if let Value::String(text) = value {
            return expr::parse(text, path);
        }
        let map = value.as_object().ok_or_else(|| {
            path.error(format!(
                "expected an object or an expression, got {}",
                describe(value)
            ))
        })?;
        for key in ["all", "any"] {
            if let Some(children) = map.get(key) {
                only_key(map, key, path)?;
                let path = path.key(key);
                let items = children.as_array().ok_or_else(|| {
                    path.error(format!(
                        "expected a list of conditions, got {}",
                        describe(children)
                    ))
                })?;
                if items.is_empty() {
                    return Err(path.error(format!("`{key}` needs at least one condition")));
                }
                let parsed = items
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Condition::parse_at(c, &path.index(i), depth + 1))
                    .collect::<Result<Vec<_>>>()?;
                return Ok(if key == "all" {
                    Condition::All(parsed)
                } else {
                    Condition::Any(parsed)
                });
            }
        }
        if let Some(inner) = map.get("not") {
            only_key(map, "not", path)?;
            return Ok(Condition::not(Condition::parse_at(
                inner,
                &path.key("not"),
                depth + 1,
            )?));
        }
        Test::parse(map, path).map(Condition::Test)
    }

    /// Checks a condition built in code as loading checks a document:
    /// within [`MAX_DEPTH`] and [`MAX_CONDITIONS`], no empty `all`/`any`,
    /// constants in range and of the right unit. Policies and playbooks
    /// call it for each of their conditions.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge) past a limit;
    /// [`ErrorKind::InvalidPolicy`](crate::ErrorKind::InvalidPolicy) naming
    /// the path of the first other problem.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// assert!(Condition::field("churn_probability").gt(0.5).validate().is_ok());
    /// let err = Condition::field("churn_probability").gt(50).validate().unwrap_err();
    /// assert!(err.to_string().contains("outside [0, 1]"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        self.validate_at(&Path::root())
    }

    /// [`validate`](Self::validate), with errors naming paths under `path`.
    pub(crate) fn validate_at(&self, path: &Path) -> Result<()> {
        self.check_limits(path)?;
        self.validate_within_limits(path)
    }

    fn validate_within_limits(&self, path: &Path) -> Result<()> {
        match self {
            Condition::All(cs) | Condition::Any(cs) => {
                let key = if matches!(self, Condition::All(_)) {
                    "all"
                } else {
                    "any"
                };
                if cs.is_empty() {
                    return Err(path
                        .key(key)
                        .error(format!("`{key}` needs at least one condition")));
                }
                cs.iter()
                    .enumerate()
                    .try_for_each(|(i, c)| c.validate_within_limits(&path.key(key).index(i)))
            }
            Condition::Not(c) => c.validate_within_limits(&path.key("not")),
            Condition::Test(t) => t.check_operands(path),
        }
    }

    /// How deep the condition nests: 1 for a comparison, one more for
    /// each `all`, `any` or `not` around it (measured without recursion,
    /// whatever the depth).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    ///
    /// let c = Condition::parse_expr("plan == gold and not (recency_days > 90d or orders_90d < 1)")?;
    /// assert_eq!(c.depth(), 4); // all → not → any → comparison
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn depth(&self) -> usize {
        self.measure().0
    }

    /// The depth and the number of nodes (comparisons and groups), with an
    /// explicit stack.
    pub(crate) fn measure(&self) -> (usize, usize) {
        let (mut depth, mut nodes) = (0, 0);
        let mut stack = vec![(self, 1)];
        while let Some((c, d)) = stack.pop() {
            depth = depth.max(d);
            nodes += 1;
            match c {
                Condition::All(cs) | Condition::Any(cs) => {
                    stack.extend(cs.iter().map(|c| (c, d + 1)));
                }
                Condition::Not(c) => stack.push((c, d + 1)),
                Condition::Test(_) => {}
            }
        }
        (depth, nodes)
    }

    /// `Err` unless the condition is within [`MAX_DEPTH`] and
    /// [`MAX_CONDITIONS`]; returns its number of nodes.
    pub(crate) fn check_limits(&self, path: &Path) -> Result<usize> {
        let (depth, nodes) = self.measure();
        if depth > MAX_DEPTH {
            return Err(path.too_large("nesting depth", depth, MAX_DEPTH));
        }
        if nodes > MAX_CONDITIONS {
            return Err(path.too_large("number of conditions", nodes, MAX_CONDITIONS));
        }
        Ok(nodes)
    }

    /// The names this condition reads that are neither built-in profile
    /// fields nor catalog features: fields of your own.
    pub(crate) fn own_fields(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut stack = vec![self];
        while let Some(c) = stack.pop() {
            match c {
                Condition::All(cs) | Condition::Any(cs) => stack.extend(cs.iter().rev()),
                Condition::Not(c) => stack.push(c),
                Condition::Test(t) => {
                    if Declared::of(&t.field) == Declared::Unknown && !names.contains(&t.field) {
                        names.push(t.field.clone());
                    }
                }
            }
        }
        names
    }

    /// Checks, as a document loads, that every field is a built-in profile
    /// field, a catalog feature or one of `declared` (the document's
    /// `fields`), suggesting the closest known names for a typo.
    pub(crate) fn check_names(&self, path: &Path, declared: &[String]) -> Result<()> {
        let mut stack = vec![(self, path.clone())];
        while let Some((c, at)) = stack.pop() {
            match c {
                Condition::All(cs) | Condition::Any(cs) => {
                    let key = if matches!(c, Condition::All(_)) {
                        "all"
                    } else {
                        "any"
                    };
                    let at = at.key(key);
                    stack.extend(cs.iter().enumerate().rev().map(|(i, c)| (c, at.index(i))));
                }
                Condition::Not(inner) => stack.push((inner, at.key("not"))),
                Condition::Test(t) => {
                    if Declared::of(&t.field) == Declared::Unknown && !declared.contains(&t.field) {
                        let mut known: Vec<String> = crate::features::catalog_names();
                        known.extend(crate::score::builtin_fields().map(str::to_owned));
                        known.extend(declared.iter().cloned());
                        let known: Vec<&str> = known.iter().map(String::as_str).collect();
                        return Err(at.key("field").error_with(
                            format!(
                                "unknown field `{}`: not a built-in field or a catalog feature (declare fields of your own in the document's `fields`)",
                                crate::util::quote_truncated(&t.field)
                            ),
                            crate::features::closest_names(&t.field, &known),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The condition as a serde value tree (the documented shape); only
    /// for conditions within the limits (checked by the callers).
    pub(crate) fn to_value(&self) -> Value {
        let list = |cs: &[Condition]| Value::Array(cs.iter().map(Condition::to_value).collect());
        match self {
            Condition::All(cs) => single("all", list(cs)),
            Condition::Any(cs) => single("any", list(cs)),
            Condition::Not(c) => single("not", c.to_value()),
            Condition::Test(t) => t.to_value(),
        }
    }
}

/// The expression form, written with an explicit stack (any depth).
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        enum Piece<'a> {
            Condition(&'a Condition),
            Text(&'static str),
        }
        let mut stack = vec![Piece::Condition(self)];
        while let Some(piece) = stack.pop() {
            match piece {
                Piece::Text(t) => f.write_str(t)?,
                Piece::Condition(Condition::All(cs) | Condition::Any(cs)) => {
                    let sep = if matches!(piece, Piece::Condition(Condition::All(_))) {
                        " and "
                    } else {
                        " or "
                    };
                    stack.push(Piece::Text(")"));
                    for (i, c) in cs.iter().enumerate().rev() {
                        stack.push(Piece::Condition(c));
                        if i > 0 {
                            stack.push(Piece::Text(sep));
                        }
                    }
                    stack.push(Piece::Text("("));
                }
                Piece::Condition(Condition::Not(c)) => {
                    stack.push(Piece::Condition(c));
                    stack.push(Piece::Text("not "));
                }
                Piece::Condition(Condition::Test(t)) => write!(f, "{t}")?,
            }
        }
        Ok(())
    }
}

/// As derived, for conditions within [`MAX_DEPTH`]; a deeper one is
/// summarised (its depth and size) rather than walked.
impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (depth, nodes) = self.measure();
        if depth > MAX_DEPTH {
            return f
                .debug_struct("Condition")
                .field("depth", &depth)
                .field("nodes", &nodes)
                .finish_non_exhaustive();
        }
        match self {
            Condition::All(cs) => f.debug_tuple("All").field(cs).finish(),
            Condition::Any(cs) => f.debug_tuple("Any").field(cs).finish(),
            Condition::Not(c) => f.debug_tuple("Not").field(c).finish(),
            Condition::Test(t) => f.debug_tuple("Test").field(t).finish(),
        }
    }
}

/// Copies the tree with an explicit stack (any depth).
impl Clone for Condition {
    fn clone(&self) -> Self {
        enum Step<'a> {
            Enter(&'a Condition),
            Exit(&'a Condition),
        }
        let mut work = vec![Step::Enter(self)];
        let mut done: Vec<Condition> = Vec::new();
        while let Some(step) = work.pop() {
            match step {
                Step::Enter(Condition::Test(t)) => done.push(Condition::Test(t.clone())),
                Step::Enter(c @ (Condition::All(cs) | Condition::Any(cs))) => {
                    work.push(Step::Exit(c));
                    work.extend(cs.iter().rev().map(Step::Enter));
                }
                Step::Enter(c @ Condition::Not(inner)) => {
                    work.push(Step::Exit(c));
                    work.push(Step::Enter(inner));
                }
                Step::Exit(c) => {
                    let copy = match c {
                        Condition::All(cs) => {
                            Condition::All(done.split_off(done.len().saturating_sub(cs.len())))
                        }
                        Condition::Any(cs) => {
                            Condition::Any(done.split_off(done.len().saturating_sub(cs.len())))
                        }
                        _ => Condition::Not(Box::new(
                            done.pop().unwrap_or_else(|| Condition::All(Vec::new())),
                        )),
                    };
                    done.push(copy);
                }
            }
        }
        done.pop().unwrap_or_else(|| Condition::All(Vec::new()))
    }
}

/// Compares the trees with an explicit stack (any depth).
impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        let mut stack = vec![(self, other)];
        while let Some(pair) = stack.pop() {
            match pair {
                (Condition::All(a), Condition::All(b)) | (Condition::Any(a), Condition::Any(b)) => {
                    if a.len() != b.len() {
                        return false;
                    }
                    stack.extend(a.iter().zip(b));
                }
                (Condition::Not(a), Condition::Not(b)) => stack.push((a, b)),
                (Condition::Test(a), Condition::Test(b)) => {
                    if a != b {
                        return false;
                    }
                }
                _ => return false,
            }
        }
        true
    }
}

/// Drops the tree with an explicit stack, so a condition of any depth
/// (even one past [`MAX_DEPTH`], built in code) is freed without recursion.
impl Drop for Condition {
    fn drop(&mut self) {
        fn detach(c: &mut Condition, stack: &mut Vec<Condition>) {
            match c {
                Condition::All(cs) | Condition::Any(cs) => {
                    if cs.iter().any(|c| !matches!(c, Condition::Test(_))) {
                        stack.append(cs);
                    }
                }
                Condition::Not(inner) if !matches!(**inner, Condition::Test(_)) => {
                    stack.push(std::mem::replace(&mut **inner, Condition::All(Vec::new())));
                }
                Condition::Not(_) | Condition::Test(_) => {}
            }
        }
        let mut stack = Vec::new();
        detach(self, &mut stack);
        while let Some(mut c) = stack.pop() {
            detach(&mut c, &mut stack);
            // `c` now has no nested groups: dropping it recurses at most once.
        }
    }
}

impl std::str::FromStr for Condition {
    type Err = crate::Error;

    /// [`Condition::parse_expr`].
    fn from_str(text: &str) -> Result<Condition> {
        Condition::parse_expr(text)
    }
}

/// The documented JSON/TOML shape; a condition past [`MAX_DEPTH`] or
/// [`MAX_CONDITIONS`] is an error, as loading it would be.
impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.check_limits(&Path::root())
            .map_err(serde::ser::Error::custom)?;
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Condition::parse(&value, &Path::root()).map_err(serde::de::Error::custom)
    }
}

/// The operator keys, canonical spelling first, then aliases.
const OPERATORS: [(&str, &str); 7] = [
    (">", "gt"),
    (">=", "gte"),
    ("<", "lt"),
    ("<=", "lte"),
    ("==", "eq"),
    ("between", "between"),
    ("in", "in"),
];

impl Test {
    /// The field compared.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The operator with its constants, as text (`>= 2`).
    pub(crate) fn op_text(&self) -> OpText<'_> {
        OpText(&self.op)
    }

    /// Whether the test is on a relative change since a previous snapshot.
    pub(crate) fn is_relative_change(&self) -> bool {
        self.change == Some(Change::Relative)
    }

    fn parse(map: &Map<String, Value>, path: &Path) -> Result<Test> {
        let field = match map.get("field") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(v) => {
                return Err(path
                    .key("field")
                    .error(format!("expected a field name, got {}", describe(v))));
            }
            None => {
                return Err(path.error(
                    "expected `all`, `any`, `not`, or a comparison with `field` and an operator",
                ));
            }
        };
        let change = match map.get("change") {
            None => None,
            Some(Value::String(s)) if s == "absolute" => Some(Change::Absolute),
            Some(Value::String(s)) if s == "relative" => Some(Change::Relative),
            Some(v) => {
                return Err(path.key("change").error(format!(
                    "expected \"absolute\" or \"relative\", got {}",
                    describe(v)
                )));
            }
        };
        let mut op = None;
        for (key, value) in map {
            if key == "field" || key == "change" {
                continue;
            }
            let Some(k) = OPERATORS.iter().position(|(a, b)| key == a || key == b) else {
                let valid: Vec<&str> = ["field", "change"]
                    .into_iter()
                    .chain(OPERATORS.iter().map(|o| o.0))
                    .collect();
                return Err(path.unknown("key", key, &valid));
            };
            if op.is_some() {
                return Err(path.error("a comparison takes exactly one operator"));
            }
            op = Some(parse_op(k, value, &path.key(key))?);
        }
        let op = op.ok_or_else(|| {
            path.error(format!(
                "comparison of `{field}` has no operator (one of >, >=, <, <=, ==, between, in)"
            ))
        })?;
        let test = Test { field, change, op };
        test.check_operands(path)?;
        Ok(test)
    }

    /// Checks the constants against what the field can hold, as far as the
    /// field's name tells: built-in fields and catalog features fully, other
    /// names (your own fields) when compiled against profiles.
    pub(crate) fn check_operands(&self, path: &Path) -> Result<()> {
        self.check_as(Declared::of(&self.field), path)
    }

    /// Checks the constants against a field of kind `kind`.
    pub(crate) fn check_as(&self, kind: Declared, path: &Path) -> Result<()> {
        let ordering = matches!(
            self.op,
            Op::Gt(_) | Op::Gte(_) | Op::Lt(_) | Op::Lte(_) | Op::Between(..)
        );
        let unit = match kind {
            Declared::Number(unit) => unit,
            Declared::Unknown if ordering || self.change.is_some() => None,
            Declared::Unknown => {
                // `==` / `in` on a field known only to the profiles: a label
                // or a number, decided when compiled.
                for (operand, at) in self.operands(path) {
                    if let Operand::Number(v) = operand {
                        finite(*v, &at)?;
                    }
                }
                return Ok(());
            }
            Declared::Category(labels) => {
                if self.change.is_some() {
                    return Err(path.error(format!(
                        "`change` needs a numeric field; `{}` is a category",
                        self.field
                    )));
                }
                if ordering {
                    return Err(path.error(format!(
                        "`{}` is a category: compare it with == or in",
                        self.field
                    )));
                }
                if let Some(labels) = labels {
                    for (operand, at) in self.operands(path) {
                        label_index(&self.field, labels, operand, &at)?;
                    }
                }
                return Ok(());
            }
        };
        for (operand, at) in self.operands(path) {
            self.number(operand, unit, &at)?;
        }
        if let Op::Between(lo, hi) = &self.op {
            let (lo, hi) = (self.number(lo, unit, path)?, self.number(hi, unit, path)?);
            if lo > hi {
                return Err(path.key("between").error(format!(
                    "the lower bound {lo} is above the upper bound {hi}"
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn operands<'a>(&'a self, path: &Path) -> Vec<(&'a Operand, Path)> {
        let key = OPERATORS[self.op_index()].0;
        match &self.op {
            Op::Gt(v) | Op::Gte(v) | Op::Lt(v) | Op::Lte(v) | Op::Eq(v) => vec![(v, path.key(key))],
            Op::Between(a, b) => vec![(a, path.key(key).index(0)), (b, path.key(key).index(1))],
            Op::In(vs) => vs
                .iter()
                .enumerate()
                .map(|(i, v)| (v, path.key(key).index(i)))
                .collect(),
        }
    }

    fn op_index(&self) -> usize {
        match self.op {
            Op::Gt(_) => 0,
            Op::Gte(_) => 1,
            Op::Lt(_) => 2,
            Op::Lte(_) => 3,
            Op::Eq(_) => 4,
            Op::Between(..) => 5,
            Op::In(_) => 6,
        }
    }

    /// A numeric operand in the field's unit, range-checked when the unit is known.
    pub(crate) fn number(&self, operand: &Operand, unit: Option<Unit>, path: &Path) -> Result<f64> {
        let v = match operand {
            Operand::Number(v) => *v,
            Operand::Text(t) if self.change == Some(Change::Relative) => {
                return Err(path.error(format!(
                    "a relative change is a fraction (-0.5 = fell by half), got \"{t}\""
                )));
            }
            Operand::Text(t) => {
                let (amount, hours) = parse_duration(t).ok_or_else(|| {
                    path.error(format!(
                        "expected a number for `{}`, got \"{t}\"",
                        self.field
                    ))
                })?;
                check_duration_days(amount * hours / 24.0, t, path)?;
                match (unit, self.change) {
                    (Some(Unit::Days), _) => amount * hours / 24.0,
                    (Some(Unit::Hours), _) => amount * hours,
                    (Some(other), _) => {
                        return Err(path.error(format!(
                            "\"{t}\" is a duration, but `{}` is measured in {}",
                            self.field,
                            unit_name(other)
                        )));
                    }
                    (None, _) => {
                        return Err(path.error(format!(
                            "\"{t}\" is a duration, but the unit of `{}` is not known; give a plain number",
                            self.field
                        )));
                    }
                }
            }
        };
        if !v.is_finite() {
            return Err(path.error(format!("expected a finite number, got {v}")));
        }
        let (lo, hi) = match (self.change, unit) {
            // Non-negative quantities cannot fall by more than 100%.
            (Some(Change::Relative), Some(u)) if u.range().0 >= 0.0 => (-1.0, f64::INFINITY),
            (Some(Change::Relative), _) => (f64::NEG_INFINITY, f64::INFINITY),
            (Some(Change::Absolute), Some(u)) => {
                let (a, b) = u.range();
                (a - b, b - a)
            }
            (None, Some(u)) => u.range(),
            (_, None) => (f64::NEG_INFINITY, f64::INFINITY),
        };
        if !(lo..=hi).contains(&v) {
            let what = match self.change {
                Some(Change::Relative) => "a relative change".to_owned(),
                _ => format!("`{}`", self.field),
            };
            return Err(path.error(format!("{v} is outside [{lo}, {hi}], the range of {what}")));
        }
        Ok(v)
    }

    fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("field".into(), Value::String(self.field.clone()));
        match self.change {
            Some(Change::Absolute) => map.insert("change".into(), "absolute".into()),
            Some(Change::Relative) => map.insert("change".into(), "relative".into()),
            None => None,
        };
        let key = OPERATORS[self.op_index()].0.to_owned();
        let value = match &self.op {
            Op::Gt(v) | Op::Gte(v) | Op::Lt(v) | Op::Lte(v) | Op::Eq(v) => operand_value(v),
            Op::Between(a, b) => Value::Array(vec![operand_value(a), operand_value(b)]),
            Op::In(vs) => Value::Array(vs.iter().map(operand_value).collect()),
        };
        map.insert(key, value);
        Value::Object(map)
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = field_text(&self.field);
        match self.change {
            Some(Change::Absolute) => write!(f, "change of {field} ")?,
            Some(Change::Relative) => write!(f, "relative change of {field} ")?,
            None => write!(f, "{field} ")?,
        }
        write!(f, "{}", OpText(&self.op))
    }
}

/// An operator with its constants, as text (`>= 2`, `in [new, active]`).
pub(crate) struct OpText<'a>(pub(crate) &'a Op);

impl fmt::Display for OpText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Op::Gt(v) => write!(f, "> {v}"),
            Op::Gte(v) => write!(f, ">= {v}"),
            Op::Lt(v) => write!(f, "< {v}"),
            Op::Lte(v) => write!(f, "<= {v}"),
            Op::Eq(v) => write!(f, "== {v}"),
            Op::Between(a, b) => write!(f, "between {a} and {b}"),
            Op::In(vs) => {
                f.write_str("in [")?;
                for (i, v) in vs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Number(v) => write!(f, "{v}"),
            Operand::Text(t) => f.write_str(&quote_if_needed(t)),
        }
    }
}

/// What a field holds, as far as its name tells before any profiles are
/// seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Declared {
    /// A number; the unit when known.
    Number(Option<Unit>),
    /// A category; its labels when they are fixed.
    Category(Option<&'static [&'static str]>),
    /// A name only the profiles know (a field of your own, a feature
    /// outside the catalog).
    Unknown,
}

impl Declared {
    pub(crate) fn of(field: &str) -> Declared {
        match builtin(field).map(|b| b.kind) {
            Some(Builtin::Number { unit, .. }) => Declared::Number(Some(unit)),
            Some(Builtin::Fixed(labels)) => Declared::Category(Some(labels)),
            Some(Builtin::Open | Builtin::Labels) => Declared::Category(None),
            None => {
                Unit::of_feature(field).map_or(Declared::Unknown, |u| Declared::Number(Some(u)))
            }
        }
    }
}

/// The index of `operand` in a category's `labels`. A number matches the
/// label that spells it (`cluster == 2`); anything else is an error naming
/// the labels.
pub(crate) fn label_index<S: AsRef<str>>(
    field: &str,
    labels: &[S],
    operand: &Operand,
    path: &Path,
) -> Result<usize> {
    let known = || labels.iter().map(AsRef::as_ref).collect::<Vec<&str>>();
    let text = match operand {
        Operand::Text(t) => t.clone(),
        Operand::Number(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v}"),
        Operand::Number(v) => {
            return Err(path.error(format!(
                "`{field}` is a category: expected a label ({}), got {v}",
                known().join(", ")
            )));
        }
    };
    match labels.iter().position(|l| l.as_ref() == text) {
        Some(i) => Ok(i),
        None if matches!(operand, Operand::Number(_)) => Err(path.error(format!(
            "`{field}` is a category: expected a label ({}), got {text}",
            known().join(", ")
        ))),
        None => Err(path.unknown("label", &text, &known())),
    }
}

fn finite(v: f64, path: &Path) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(path.error(format!("expected a finite number, got {v}")))
    }
}

fn parse_op(k: usize, value: &Value, path: &Path) -> Result<Op> {
    let one = |v: &Value, path: &Path| -> Result<Operand> {
        match v {
            Value::Number(n) => n
                .as_f64()
                .map(Operand::Number)
                .ok_or_else(|| path.error(format!("number {n} is out of range"))),
            Value::String(s) => Ok(Operand::Text(s.clone())),
            other => Err(path.error(format!(
                "expected a number or text, got {}",
                describe(other)
            ))),
        }
    };
    let list = |v: &Value| -> Result<Vec<Operand>> {
        let items = v
            .as_array()
            .ok_or_else(|| path.error(format!("expected a list, got {}", describe(v))))?;
        items
            .iter()
            .enumerate()
            .map(|(i, v)| one(v, &path.index(i)))
            .collect()
    };
    Ok(match k {
        0 => Op::Gt(one(value, path)?),
        1 => Op::Gte(one(value, path)?),
        2 => Op::Lt(one(value, path)?),
        3 => Op::Lte(one(value, path)?),
        4 => Op::Eq(one(value, path)?),
        5 => match <[Operand; 2]>::try_from(list(value)?) {
            Ok([lo, hi]) => Op::Between(lo, hi),
            Err(v) => {
                return Err(path.error(format!("expected [low, high], got {} values", v.len())));
            }
        },
        _ => {
            let values = list(value)?;
            if values.is_empty() {
                return Err(path.error("`in` needs at least one value"));
            }
            Op::In(values)
        }
    })
}

/// The longest duration a policy may give (a cooldown, a threshold written
/// `"90d"`): 1000 years, far inside what times can represent.
pub(crate) const MAX_DURATION_DAYS: f64 = 365_250.0;

/// The one overflow rule for durations, however written (`"14d"`, `"36h"`,
/// a number of days): at most [`MAX_DURATION_DAYS`].
pub(crate) fn check_duration_days(
    days: f64,
    written: impl fmt::Display,
    path: &Path,
) -> Result<()> {
    if days > MAX_DURATION_DAYS {
        return Err(path.error(format!(
            "the duration {written} is longer than the limit of {MAX_DURATION_DAYS} days (1000 years)"
        )));
    }
    Ok(())
}

/// `"90d"`, `"24h"`, `"2w"`, `"1.5d"` → (amount, hours per unit).
pub(crate) fn parse_duration(text: &str) -> Option<(f64, f64)> {
    let text = text.trim();
    let (number, hours) = match text.char_indices().last()? {
        (i, 'h') => (&text[..i], 1.0),
        (i, 'd') => (&text[..i], 24.0),
        (i, 'w') => (&text[..i], 168.0),
        _ => return None,
    };
    let amount: f64 = number.trim().parse().ok()?;
    (amount.is_finite() && amount >= 0.0).then_some((amount, hours))
}

fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Days => "days",
        Unit::Hours => "hours",
        Unit::Months => "months",
        Unit::Count => "counts",
        Unit::Currency => "currency",
        Unit::Flag => "0/1",
        Unit::Fraction => "a fraction in [0, 1]",
        Unit::Balance => "a balance in [-1, 1]",
    }
}

fn operand_value(v: &Operand) -> Value {
    match v {
        Operand::Number(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        Operand::Text(t) => Value::String(t.clone()),
    }
}

fn single(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_owned(), value);
    Value::Object(map)
}

fn only_key(map: &Map<String, Value>, key: &str, path: &Path) -> Result<()> {
    match map.keys().find(|k| *k != key) {
        Some(other) => Err(path.error(format!(
            "`{key}` cannot be combined with `{other}` in one object"
        ))),
        None => Ok(()),
    }
}

/// A `serde_json` error on a policy document: nesting past `serde_json`'s
/// own limit (far beyond [`MAX_DEPTH`]) is reported as the nesting limit.
pub(crate) fn json_error(source_name: &str, e: serde_json::Error) -> crate::Error {
    if e.to_string().starts_with("recursion limit exceeded") {
        // serde_json stops at 128 levels; a condition level takes at most two.
        return crate::ErrorKind::TooLarge {
            location: source_name.to_owned(),
            what: "nesting depth",
            size: MAX_DEPTH + 1,
            limit: MAX_DEPTH,
        }
        .into();
    }
    crate::Error::json(source_name, e)
}

/// A TOML policy document as a JSON value tree: floats that are not finite
/// (`nan`, `inf`) are errors naming their path, and parse errors quote at
/// most 200 characters of each line of the input.
#[cfg(feature = "toml")]
pub(crate) fn toml_value(text: &str) -> Result<Value> {
    let value: toml::Value = toml::from_str(text).map_err(|e| {
        let message = e.to_string();
        let lines: Vec<String> = message
            .trim_end()
            .lines()
            .map(|l| crate::util::quote_truncated(l).into_owned())
            .collect();
        Path::root().error(lines.join("\n"))
    })?;
    // Iteratively: TOML may nest deeper than conditions do.
    enum Step<'a> {
        Enter(&'a toml::Value, Path),
        Array(usize),
        Table(Vec<String>),
    }
    let mut work = vec![Step::Enter(&value, Path::root())];
    let mut done: Vec<Value> = Vec::new();
    while let Some(step) = work.pop() {
        match step {
            Step::Enter(v, path) => match v {
                toml::Value::String(s) => done.push(Value::String(s.clone())),
                toml::Value::Integer(i) => done.push(Value::from(*i)),
                toml::Value::Float(f) => match serde_json::Number::from_f64(*f) {
                    Some(n) => done.push(Value::Number(n)),
                    None => {
                        return Err(path.error(format!("expected a finite number, got {f}")));
                    }
                },
                toml::Value::Boolean(b) => done.push(Value::Bool(*b)),
                toml::Value::Datetime(d) => done.push(Value::String(d.to_string())),
                toml::Value::Array(items) => {
                    work.push(Step::Array(items.len()));
                    for (i, item) in items.iter().enumerate().rev() {
                        work.push(Step::Enter(item, path.index(i)));
                    }
                }
                toml::Value::Table(table) => {
                    work.push(Step::Table(table.keys().cloned().collect()));
                    for (key, item) in table.iter().rev() {
                        work.push(Step::Enter(item, path.key(key)));
                    }
                }
            },
            Step::Array(n) => {
                let items = done.split_off(done.len().saturating_sub(n));
                done.push(Value::Array(items));
            }
            Step::Table(keys) => {
                let items = done.split_off(done.len().saturating_sub(keys.len()));
                done.push(Value::Object(keys.into_iter().zip(items).collect()));
            }
        }
    }
    Ok(done.pop().unwrap_or(Value::Null))
}

/// A document's `fields`: the names of fields of your own its conditions read.
pub(crate) fn declared_fields(value: Option<&Value>, path: &Path) -> Result<Vec<String>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let items = value.as_array().ok_or_else(|| {
        path.error(format!(
            "expected a list of field names, got {}",
            describe(value)
        ))
    })?;
    items
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
            other => Err(path
                .index(i)
                .error(format!("expected a field name, got {}", describe(other)))),
        })
        .collect()
}

/// A policy document's value tree as TOML text, for saving to `path`.
#[cfg(feature = "toml")]
pub(crate) fn to_toml(value: &Value, path: &std::path::Path) -> Result<String> {
    toml::to_string(value).map_err(|e| {
        crate::Error::invalid_parameter(
            "path",
            format!("{}: cannot be written as TOML: {e}", path.display()),
        )
    })
}

/// A value's type, for messages.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the text \"{s}\""),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn err(json: &str) -> (String, String) {
        match Condition::from_json(json).unwrap_err().into_kind() {
            ErrorKind::InvalidPolicy { path, reason, .. } => (path, reason),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn round_trips_through_json() {
        let c = Condition::all([
            Condition::field("recency_days").gt("90d"),
            Condition::any([
                Condition::field("rfm_segment").is_in(["at_risk", "cant_lose_them"]),
                Condition::not(Condition::field("churn_probability").between(0.0, 0.5)),
            ]),
            Condition::field("spend_90d").relative_change().lte(-0.5),
        ]);
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(Condition::from_json(&json).unwrap(), c);
        let back: Condition = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        assert_eq!(
            c.to_string(),
            "(recency_days > 90d and (rfm_segment in [at_risk, cant_lose_them] or not churn_probability between 0 and 0.5) and relative change of spend_90d <= -0.5)"
        );
    }

    #[test]
    fn aliases_and_durations() {
        let c = Condition::from_json(r#"{"field": "response_hours_max_30d", "gt": "1d"}"#).unwrap();
        let Condition::Test(t) = &c else { panic!() };
        assert_eq!(
            t.number(&Operand::from("1d"), Some(Unit::Hours), &Path::root())
                .unwrap(),
            24.0
        );
        assert_eq!(
            t.number(&Operand::from("2w"), Some(Unit::Days), &Path::root())
                .unwrap(),
            14.0
        );
        assert_eq!(parse_duration("36h"), Some((36.0, 1.0)));
        assert_eq!(parse_duration("-1d"), None);
        assert_eq!(parse_duration("d"), None);
    }

    #[test]
    fn errors_name_the_path() {
        assert_eq!(err(r#"{"all": []}"#).0, "all");
        assert_eq!(
            err(r#"{"all": [{"field": "x", ">": 1}, {"any": [{"nope": 1}]}]}"#).0,
            "all[1].any[0]"
        );
        let (path, reason) = err(r#"{"not": {"field": "churn_probability", ">": 1.5}}"#);
        assert_eq!(path, "not.>");
        assert!(reason.contains("outside [0, 1]"), "{reason}");
        let (path, reason) = err(r#"{"field": "complaints_30d", ">=": "2d"}"#);
        assert_eq!(path, ">=");
        assert!(reason.contains("measured in counts"), "{reason}");
        assert!(
            err(r#"{"field": "complaints_30d", ">=": -1}"#)
                .1
                .contains("outside")
        );
        assert!(
            err(r#"{"field": "lifecycle_stage", "==": "sleepy"}"#)
                .1
                .contains("unknown label")
        );
        assert!(
            err(r#"{"field": "lifecycle_stage", ">": "silent"}"#)
                .1
                .contains("category")
        );
        assert!(
            err(r#"{"field": "value_tier", "change": "relative", "==": "high"}"#)
                .1
                .contains("numeric")
        );
        assert!(
            err(r#"{"field": "x", ">": 1, "<": 2}"#)
                .1
                .contains("exactly one")
        );
        assert!(err(r#"{"field": "x"}"#).1.contains("no operator"));
        assert!(
            err(r#"{"field": "x", "between": [3, 1]}"#)
                .1
                .contains("lower bound")
        );
        assert!(
            err(r#"{"field": "x", "between": [1]}"#)
                .1
                .contains("[low, high]")
        );
        assert!(
            err(r#"{"field": "x", "in": []}"#)
                .1
                .contains("at least one")
        );
        assert!(
            err(r#"{"field": "x", ">": true}"#)
                .1
                .contains("number or text")
        );
        assert!(
            err(r#"{"field": "orders_90d", "change": "relative", "<": -2}"#)
                .1
                .contains("relative change")
        );
        assert!(
            err(r#"{"all": [], "any": []}"#)
                .1
                .contains("cannot be combined")
        );
        assert!(err(r#"[1]"#).1.contains("expected an object"));
        assert!(err(r#"{"field": "x", ">": "90d"}"#).1.contains("not known"));
        assert!(
            err(r#"{"field": "recency_days", "change": "relative", ">": "12h"}"#)
                .1
                .contains("fraction")
        );
        // Net spend can turn negative: its relative change may fall below −100%.
        assert!(
            Condition::from_json(r#"{"field": "spend_90d", "change": "relative", "<": -1.5}"#)
                .is_ok()
        );
    }

    #[test]
    fn labels_are_the_serde_names() {
        use crate::score::Coded;
        use crate::segment::{LifecycleStage, RfmSegment, Segment, Tier};
        fn check<T: Coded + Serialize>() {
            for &v in T::all() {
                assert_eq!(
                    serde_json::to_value(v).unwrap(),
                    Value::String(v.label().into())
                );
            }
        }
        check::<RfmSegment>();
        check::<LifecycleStage>();
        check::<Tier>();
        assert!(RfmSegment::all().iter().all(|v| v.code() < 32));
    }

    #[test]
    fn unknown_keys_suggest_operators() {
        match Condition::from_json(r#"{"field": "x", "=>": 1}"#)
            .unwrap_err()
            .into_kind()
        {
            ErrorKind::InvalidPolicy { suggestions, .. } => {
                assert!(suggestions.contains(&">=".into()))
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
