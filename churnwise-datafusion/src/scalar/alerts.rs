//! `churn_alerts`: an alert policy as a SQL function.

use std::sync::Arc;

use churnwise::alert::{AlertEngine, AlertPolicy};
use churnwise::features::FeatureTable;
use churnwise::records::CustomerId;
use churnwise::rules::Condition;
use churnwise::score::Profiles;
use churnwise::segment::{LifecycleStage, RfmSegment, Segment, Tier};
use datafusion::arrow::array::{ArrayRef, ListBuilder, StringBuilder, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{DataFusionError, Result, exec_err, plan_err};

use super::args::{Arg, Input, Kind, Layout, Matching};
use super::{Kernel, Shared, exec_error, scalar_udf};

/// Built-in profile fields that are labels, and how SQL gives them.
const LABELS: [&str; 4] = [
    "rfm_segment",
    "lifecycle_stage",
    "value_tier",
    "engagement_tier",
];

/// Built-in profile fields that are numbers set from a column.
const NUMBERS: [&str; 2] = ["churn_probability", "customer_value"];

/// `churn_alerts(<profile fields>) → Struct {rule_ids, severity, route}`:
/// the alerts an [`AlertPolicy`] raises for each customer, equal to
/// [`AlertEngine::evaluate`] on the same profiles (without a previous
/// snapshot).
///
/// # SQL
///
/// ```sql
/// churn_alerts(churn_probability, lifecycle_stage, recency_days, ...)  -- the fields the rules read, by name
/// -- returns Struct {rule_ids: List<Utf8>, severity: Utf8 (null: no alert), route: Utf8 (null: no alert)}
/// ```
///
/// The arguments are the profile fields the policy's rules read, matched by
/// name in any order:
///
/// - feature columns (`recency_days`, `complaints_30d`, …) and
///   `churn_probability` / `customer_value`: numeric (`expected_loss` is
///   their product, so a rule on it needs both);
/// - `rfm_segment`, `lifecycle_stage`, `value_tier`, `engagement_tier`:
///   strings, as `rfm_segment` and `lifecycle_stage` return them (the
///   display names, or the snake_case names of the JSON forms);
/// - the policy's own [`fields`](AlertPolicy::fields): a number or a string,
///   whichever the column is.
///
/// `rule_ids` lists the ids of the alerts raised for the row in the core's
/// order (highest severity first, then the order of the rules), at most the
/// policy's `max_alerts_per_customer`; `severity` and `route` are those of
/// the first, the customer's most severe alert, or null without an alert.
/// Rules on a change since the previous snapshot need that snapshot, which
/// a scalar function does not have: they are skipped, as
/// `evaluate(profiles, None)` skips them.
///
/// # Errors
///
/// [`new`](Self::new) refuses a policy reading the customer attributes
/// (`plan`, `channel`, `region`, `tags`) or `cluster`, which no column can
/// set. Plan errors as for [`ChurnScore`](super::ChurnScore); a null, an
/// unknown label or a probability outside [0, 1] is an execution error
/// naming the column.
#[derive(Debug, Clone)]
pub struct ChurnAlerts {
    engine: Arc<AlertEngine>,
    shared: Shared,
}

/// Every field a condition reads, in order of first appearance.
fn fields_of(c: &Condition, out: &mut Vec<String>) {
    match c {
        Condition::All(v) | Condition::Any(v) => v.iter().for_each(|c| fields_of(c, out)),
        Condition::Not(c) => fields_of(c, out),
        Condition::Test(t) if !out.iter().any(|f| f == t.field()) => {
            out.push(t.field().to_owned());
        }
        _ => {}
    }
}

impl ChurnAlerts {
    /// The SQL name, `churn_alerts`.
    pub const NAME: &'static str = "churn_alerts";

    /// The function for `policy`.
    ///
    /// # Errors
    ///
    /// A plan error for an invalid policy, or one that reads a built-in
    /// field no column can set (`plan`, `channel`, `region`, `tags`,
    /// `cluster`).
    pub fn new(policy: AlertPolicy) -> Result<Self> {
        let f = Self::NAME;
        policy
            .validate()
            .map_err(|e| DataFusionError::Plan(format!("{f}: {e}")))?;
        let mut fields = Vec::new();
        for rule in policy.rules() {
            fields_of(rule.condition(), &mut fields);
        }
        let builtin: Vec<&str> = churnwise::score::builtin_fields().collect();
        let mut inputs: Vec<Input> = Vec::new();
        let mut add = |input: Input| {
            if !inputs.iter().any(|i| i.name == input.name) {
                inputs.push(input);
            }
        };
        for field in &fields {
            let name = field.as_str();
            if NUMBERS.contains(&name) {
                add(Input::number(name));
            } else if name == "expected_loss" {
                add(Input::number("churn_probability"));
                add(Input::number("customer_value"));
            } else if LABELS.contains(&name) {
                add(Input::text(name));
            } else if builtin.contains(&name) {
                return plan_err!(
                    "{f}: the policy reads the built-in field `{name}`, which a SQL column cannot set (supported: features, {}, {}, expected_loss and the policy's own fields)",
                    NUMBERS.join(", "),
                    LABELS.join(", ")
                );
            } else if policy.fields().iter().any(|u| u == name) {
                add(Input {
                    name: name.to_owned(),
                    kind: Kind::Either,
                    required: true,
                });
            } else {
                add(Input::number(name));
            }
        }
        let json = policy.to_json();
        let layout = Layout {
            function: f,
            noun: "profile field",
            inputs,
            matching: Matching::ByName,
        };
        Ok(ChurnAlerts {
            engine: Arc::new(AlertEngine::new(policy)),
            shared: Shared::new(layout, json),
        })
    }

    /// The policy.
    pub fn policy(&self) -> &AlertPolicy {
        self.engine.policy()
    }

    /// The fields of the returned struct.
    fn struct_fields() -> Fields {
        Fields::from(vec![
            Field::new(
                "rule_ids",
                DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
                false,
            ),
            Field::new("severity", DataType::Utf8, true),
            Field::new("route", DataType::Utf8, true),
        ])
    }

    /// The profiles of a batch, from the bound arguments.
    fn profiles(&self, args: &[Option<Arg>], rows: usize) -> Result<Profiles> {
        let f = Self::NAME;
        let inputs = &self.shared.layout.inputs;
        let given: Vec<&Arg> = args.iter().flatten().collect();
        // Catalog features (numbers that are neither built in nor the policy's own).
        let is_feature = |i: &Input| i.kind == Kind::Number && !NUMBERS.contains(&i.name.as_str());
        let features: Vec<&Arg> = given
            .iter()
            .copied()
            .filter(|a| inputs.iter().any(|i| i.name == a.input && is_feature(i)))
            .collect();
        let mut values = ndarray::Array2::<f64>::zeros((rows, features.len()));
        for (j, a) in features.iter().enumerate() {
            for (i, &v) in a.numbers(f)?.iter().enumerate() {
                values[[i, j]] = v;
            }
        }
        let ids: Vec<CustomerId> = (0..rows as u64).map(CustomerId::from).collect();
        let names = features.iter().map(|a| a.input.clone()).collect();
        let table = FeatureTable::new(ids, names, values).map_err(|e| exec_error(f, e))?;
        let mut profiles = Profiles::new(table).map_err(|e| exec_error(f, e))?;
        for a in given {
            let input = inputs
                .iter()
                .find(|i| i.name == a.input)
                .ok_or_else(|| DataFusionError::Internal(format!("{f}: unbound argument")))?;
            if is_feature(input) {
                continue;
            }
            let with = |e: churnwise::Error| {
                DataFusionError::Execution(format!("{f}: {}: {e}", a.describe()))
            };
            profiles = match a.input.as_str() {
                "churn_probability" => profiles
                    .with_churn_probabilities(a.numbers(f)?.into_owned())
                    .map_err(with)?,
                "customer_value" => profiles
                    .with_customer_values(a.numbers(f)?.into_owned())
                    .map_err(with)?,
                "rfm_segment" => profiles
                    .with_rfm_segments(parse::<RfmSegment>(f, a, |s| {
                        serde_json::to_value(s)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                    })?)
                    .map_err(with)?,
                "lifecycle_stage" => profiles
                    .with_lifecycle_stages(parse::<LifecycleStage>(f, a, |s| {
                        serde_json::to_value(s)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                    })?)
                    .map_err(with)?,
                "value_tier" => profiles
                    .with_value_tiers(parse::<Tier>(f, a, |_| None)?)
                    .map_err(with)?,
                "engagement_tier" => profiles
                    .with_engagement_tiers(parse::<Tier>(f, a, |_| None)?)
                    .map_err(with)?,
                name if a.is_numeric() => profiles
                    .with_numeric(name, a.numbers(f)?.into_owned())
                    .map_err(with)?,
                name => {
                    let labels = a.labels(f)?;
                    profiles
                        .with_category(name, labels.iter().map(|l| l.unwrap_or_default()))
                        .map_err(with)?
                }
            };
        }
        Ok(profiles)
    }
}

/// A label column as segments: each label is a segment's display name or
/// its serde (snake_case) name.
fn parse<S: Segment + serde::Serialize>(
    function: &str,
    arg: &Arg,
    serde_name: impl Fn(&S) -> Option<String>,
) -> Result<Vec<S>> {
    let names: Vec<(String, Option<String>, S)> = S::all()
        .iter()
        .map(|s| (s.to_string(), serde_name(s), *s))
        .collect();
    let labels = arg.labels(function)?;
    labels
        .iter()
        .enumerate()
        .map(|(row, l)| {
            let l = l.unwrap_or_default();
            match names
                .iter()
                .find(|(d, n, _)| d == l || n.as_deref() == Some(l))
            {
                Some((_, _, s)) => Ok(*s),
                None => {
                    let known: Vec<&str> = names.iter().map(|(d, _, _)| d.as_str()).collect();
                    exec_err!(
                        "{function}: unknown label `{l}` in {} at row {row} of the batch (expected one of: {})",
                        arg.describe(),
                        known.join(", ")
                    )
                }
            }
        })
        .collect()
}

impl Kernel for ChurnAlerts {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn with_shared(&self, shared: Shared) -> Self {
        ChurnAlerts {
            engine: Arc::clone(&self.engine),
            shared,
        }
    }

    fn return_type(&self) -> DataType {
        DataType::Struct(Self::struct_fields())
    }

    fn eval(&self, args: Vec<Option<Arg>>, rows: usize) -> Result<ArrayRef> {
        let f = Self::NAME;
        let profiles = self.profiles(&args, rows)?;
        let report = self
            .engine
            .evaluate(&profiles, None)
            .map_err(|e| exec_error(f, e))?;
        // The alerts of each row, in the report's order.
        let mut by_row: Vec<Vec<usize>> = vec![Vec::new(); rows];
        for (k, alert) in report.alerts().iter().enumerate() {
            by_row[alert.row()].push(k);
        }
        let mut ids = ListBuilder::new(StringBuilder::new());
        let mut severity = StringBuilder::new();
        let mut route = StringBuilder::new();
        for alerts in &by_row {
            for &k in alerts {
                ids.values().append_value(report.alerts()[k].rule());
            }
            ids.append(true);
            match alerts.first().map(|&k| &report.alerts()[k]) {
                Some(a) => {
                    severity.append_value(a.severity().name());
                    route.append_value(a.route().name());
                }
                None => {
                    severity.append_null();
                    route.append_null();
                }
            }
        }
        let ids = ids.finish();
        let list_type = Self::struct_fields()[0].data_type().clone();
        let ids: ArrayRef = Arc::new(ids);
        let ids = if ids.data_type() == &list_type {
            ids
        } else {
            datafusion::arrow::compute::cast(&ids, &list_type)?
        };
        Ok(Arc::new(StructArray::try_new(
            Self::struct_fields(),
            vec![ids, Arc::new(severity.finish()), Arc::new(route.finish())],
            None,
        )?))
    }
}

scalar_udf!(ChurnAlerts, "churn_alerts", |state: serde_json::Value| {
    let policy = AlertPolicy::from_json(&state.to_string())
        .map_err(|e| DataFusionError::Plan(format!("{}: {e}", ChurnAlerts::NAME)))?;
    ChurnAlerts::new(policy)
});
