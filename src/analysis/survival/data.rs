//! Survival input: durations, events, groups and covariates
//! ([`SurvivalData`]), from a flat table or from the records
//! ([`Lifetimes`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::features::FeatureTable;
use crate::records::{CompactKind, CustomerId, CustomerView, History};
use crate::score::Profiles;
use crate::segment::ChurnDefinition;
use crate::util::{MICROS_PER_DAY, to_micros};
use crate::{Error, ErrorKind, Result};

/// The label of a customer without a value in a grouping field.
pub const MISSING_GROUP: &str = "(none)";

/// Time-to-churn data: one row per customer with a duration, whether churn
/// was observed (an event) or the customer was still active when
/// observation stopped (censored), and optionally ids, a grouping and
/// numeric covariates.
///
/// Build it from a flat table with [`SurvivalData::new`] and the `with_*`
/// methods, or from the records with [`Lifetimes`]; group it by any
/// [`Profiles`] category with [`with_groups_from`](Self::with_groups_from).
/// [`KaplanMeier`](super::KaplanMeier), [`logrank`](super::logrank) and
/// [`CoxPh`](super::CoxPh) read it.
///
/// # Example
///
/// ```
/// use churnwise::analysis::survival::SurvivalData;
///
/// // Months until cancellation; `false` = still subscribed when observed.
/// let data = SurvivalData::new(vec![3.0, 12.0, 7.0, 12.0], vec![true, false, true, false])?
///     .with_groups("plan", &["basic", "pro", "basic", "pro"])?
///     .with_covariate("monthly_fee", vec![10.0, 30.0, 12.0, 28.0])?;
/// assert_eq!(data.len(), 4);
/// assert_eq!(data.events_observed(), 2);
/// assert_eq!(data.group_levels(), ["basic", "pro"]);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SurvivalData {
    ids: Option<Vec<CustomerId>>,
    durations: Vec<f64>,
    events: Vec<bool>,
    groups: Option<Groups>,
    covariates: Vec<(String, Vec<f64>)>,
}

/// A grouping: its name, its levels in order, and each row's level.
#[derive(Debug, Clone, PartialEq)]
struct Groups {
    name: String,
    levels: Vec<String>,
    codes: Vec<u32>,
}

impl SurvivalData {
    /// Data from durations (any unit; [`Lifetimes`] uses days) and event
    /// flags (`true` = churn observed at that duration, `false` = censored).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if the lengths differ;
    /// [`ErrorKind::NonFinite`] for a NaN or infinite duration;
    /// [`ErrorKind::OutOfRange`] for a negative one.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::analysis::survival::SurvivalData;
    ///
    /// let err = SurvivalData::new(vec![1.0, -2.0], vec![true, false]).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::OutOfRange { row: 1, .. }));
    /// ```
    pub fn new(durations: Vec<f64>, events: Vec<bool>) -> Result<Self> {
        if durations.len() != events.len() {
            return Err(ErrorKind::LengthMismatch {
                what: "event flags per duration",
                expected: durations.len(),
                got: events.len(),
            }
            .into());
        }
        for (row, &d) in durations.iter().enumerate() {
            if !d.is_finite() {
                return Err(ErrorKind::NonFinite {
                    what: "duration",
                    row,
                    column: "duration".into(),
                    value: d,
                }
                .into());
            }
            if d < 0.0 {
                return Err(ErrorKind::OutOfRange {
                    what: "duration",
                    row,
                    value: d,
                    min: 0.0,
                    max: f64::INFINITY,
                }
                .into());
            }
        }
        Ok(SurvivalData {
            ids: None,
            durations,
            events,
            groups: None,
            covariates: Vec::new(),
        })
    }

    fn check_len(&self, what: &'static str, got: usize) -> Result<()> {
        if got != self.len() {
            return Err(ErrorKind::LengthMismatch {
                what,
                expected: self.len(),
                got,
            }
            .into());
        }
        Ok(())
    }

    /// Attaches the customers' ids (needed to group by [`Profiles`] or to
    /// take covariates from a [`FeatureTable`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] unless there is one id per row.
    pub fn with_ids(mut self, ids: Vec<CustomerId>) -> Result<Self> {
        self.check_len("customer ids per row", ids.len())?;
        self.ids = Some(ids);
        Ok(self)
    }

    /// Groups the rows by a label each (a plan, a region, a cohort), for
    /// per-group Kaplan–Meier curves and the log-rank test. The levels are
    /// sorted by label. Replaces any earlier grouping.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] unless there is one label per row.
    pub fn with_groups<S: AsRef<str>>(
        mut self,
        name: impl Into<String>,
        labels: &[S],
    ) -> Result<Self> {
        self.check_len("group labels per row", labels.len())?;
        let (levels, codes) = super::super::levels::from_labels(labels.iter().map(AsRef::as_ref));
        self.groups = Some(Groups {
            name: name.into(),
            levels,
            codes,
        });
        Ok(self)
    }

    /// Groups the rows by a category field of `profiles` (`lifecycle_stage`,
    /// `value_tier`, `rfm_segment`, `plan`, or one of your own), matching
    /// customers by id. Levels keep the field's order (a built-in
    /// category's fixed order, otherwise first appearance); customers
    /// without a label form the level [`MISSING_GROUP`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingValue`] without ids ([`with_ids`](Self::with_ids)
    /// or [`Lifetimes`]) or for a customer the profiles lack;
    /// [`ErrorKind::UnknownName`] if `field` is not a category of `profiles`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::analysis::survival::{KaplanMeier, Lifetimes};
    /// use churnwise::features::{FeatureSpec, Snapshot};
    /// use churnwise::score::Profiles;
    /// use churnwise::segment::LifecyclePolicy;
    /// # use churnwise::doc_support::{history, month};
    ///
    /// # let history = history(400, 3)?;
    /// let as_of = month(10);
    /// let table = FeatureSpec::all().extract(&history, &Snapshot::new(as_of))?;
    /// let profiles = Profiles::new(table)?.stage_lifecycle(&LifecyclePolicy::default())?;
    /// let data = Lifetimes::new(as_of).extract(&history)?.with_groups_from(&profiles, "lifecycle_stage")?;
    /// let curves = KaplanMeier::new().fit(&data)?;
    /// assert_eq!(curves.groups().len(), data.group_levels().len());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_groups_from(mut self, profiles: &Profiles, field: &str) -> Result<Self> {
        let Some(category) = profiles.category(field) else {
            return Err(ErrorKind::UnknownName {
                what: "category field",
                name: field.to_owned(),
                suggestions: Vec::new(),
            }
            .into());
        };
        let rows = self.rows_in(profiles.ids(), field)?;
        let (levels, codes) = super::super::levels::from_category(&category, &rows, MISSING_GROUP);
        self.groups = Some(Groups {
            name: field.to_owned(),
            levels,
            codes,
        });
        Ok(self)
    }

    /// For each row, its row in a table whose ids are `ids`.
    fn rows_in(&self, ids: &[CustomerId], field: &str) -> Result<Vec<usize>> {
        let Some(own) = &self.ids else {
            return Err(ErrorKind::MissingValue {
                record: "survival data".into(),
                field: "customer ids (needed to match `".to_owned() + field + "`)",
            }
            .into());
        };
        let index: HashMap<&CustomerId, usize> =
            ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
        own.iter()
            .map(|id| {
                index.get(id).copied().ok_or_else(|| {
                    Error::from(ErrorKind::MissingValue {
                        record: format!("customer {id}"),
                        field: field.to_owned(),
                    })
                })
            })
            .collect()
    }

    /// Adds a numeric covariate for [`CoxPh`](super::CoxPh), one value per row.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] unless there is one value per row;
    /// [`ErrorKind::NonFinite`] for a NaN or infinite value;
    /// [`ErrorKind::DuplicateName`] if a covariate of that name exists.
    pub fn with_covariate(mut self, name: impl Into<String>, values: Vec<f64>) -> Result<Self> {
        let name = name.into();
        self.check_len("covariate values per row", values.len())?;
        if self.covariates.iter().any(|(n, _)| *n == name) {
            return Err(ErrorKind::DuplicateName {
                what: "covariate",
                name,
            }
            .into());
        }
        if let Some((row, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ErrorKind::NonFinite {
                what: "covariate",
                row,
                column: name,
                value,
            }
            .into());
        }
        self.covariates.push((name, values));
        Ok(self)
    }

    /// Adds the columns `names` of a feature table as covariates, matching
    /// customers by id.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] for a column the table lacks;
    /// [`ErrorKind::MissingValue`] without ids or for a customer the table
    /// lacks; as [`with_covariate`](Self::with_covariate).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::analysis::survival::Lifetimes;
    /// use churnwise::features::{FeatureSpec, Snapshot};
    /// # use churnwise::doc_support::{history, month};
    ///
    /// # let history = history(400, 3)?;
    /// let as_of = month(10);
    /// let table = FeatureSpec::all().extract(&history, &Snapshot::new(as_of))?;
    /// let data = Lifetimes::new(as_of)
    ///     .extract(&history)?
    ///     .with_features(&table, &["spend_total", "satisfaction_last"])?;
    /// assert_eq!(data.covariate_names(), ["spend_total", "satisfaction_last"]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_features<S: AsRef<str>>(
        mut self,
        table: &FeatureTable,
        names: &[S],
    ) -> Result<Self> {
        for name in names {
            let name = name.as_ref();
            let column = table.column(name)?;
            let rows = self.rows_in(table.ids(), name)?;
            let values = rows.iter().map(|&r| column[r]).collect();
            self = self.with_covariate(name, values)?;
        }
        Ok(self)
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.durations.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.durations.is_empty()
    }

    /// The durations.
    pub fn durations(&self) -> &[f64] {
        &self.durations
    }

    /// Whether churn was observed for each row (`false`: censored).
    pub fn events(&self) -> &[bool] {
        &self.events
    }

    /// How many rows have an observed event.
    pub fn events_observed(&self) -> usize {
        self.events.iter().filter(|&&e| e).count()
    }

    /// The customers' ids, if attached.
    pub fn ids(&self) -> Option<&[CustomerId]> {
        self.ids.as_deref()
    }

    /// The grouping's name, if the rows are grouped.
    pub fn group_name(&self) -> Option<&str> {
        self.groups.as_ref().map(|g| g.name.as_str())
    }

    /// The group levels in order (empty when not grouped).
    pub fn group_levels(&self) -> &[String] {
        self.groups.as_ref().map_or(&[], |g| &g.levels)
    }

    /// Each row's group label, if the rows are grouped.
    pub fn group(&self, row: usize) -> Option<&str> {
        let g = self.groups.as_ref()?;
        Some(g.levels[*g.codes.get(row)? as usize].as_str())
    }

    /// Each row's group as an index into [`group_levels`](Self::group_levels).
    pub(crate) fn group_codes(&self) -> Option<&[u32]> {
        self.groups.as_ref().map(|g| g.codes.as_slice())
    }

    /// The covariates' names, in the order added.
    pub fn covariate_names(&self) -> Vec<&str> {
        self.covariates.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// A covariate's values, if present.
    pub fn covariate(&self, name: &str) -> Option<&[f64]> {
        self.covariates
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The covariates as columns, in order.
    pub(crate) fn covariate_columns(&self) -> impl Iterator<Item = &[f64]> {
        self.covariates.iter().map(|(_, v)| v.as_slice())
    }
}

/// Durations from signup to churn, read from the records: each customer
/// who signed up by the as-of time, followed until they first churn under
/// a [`ChurnDefinition`] (event) or until the as-of time (censored).
///
/// The definition is the one the segment measures use: for
/// `NoOrder { inactivity_days }` (the default, 90 days) a customer churns
/// at the moment they have gone `inactivity_days` without a purchase (the
/// signup counting as activity), so the churn time is the start of the
/// first long enough gap plus the window; for `NoActivity` any contact or
/// answer also counts as activity; for `Cancellation` churn is the first
/// cancellation. A customer who returns after churning still counts from
/// their first churn. Nothing after the as-of time is read. Durations are in
/// days.
///
/// # Example
///
/// ```
/// use churnwise::analysis::survival::{KaplanMeier, Lifetimes};
/// use churnwise::segment::ChurnDefinition;
/// # use churnwise::doc_support::{history, month};
///
/// # let history = history(500, 2)?;
/// let data = Lifetimes::new(month(10))
///     .definition(ChurnDefinition::NoOrder { inactivity_days: 60 })
///     .extract(&history)?;
/// assert!(data.events_observed() > 0 && data.events_observed() < data.len());
/// let curve = KaplanMeier::new().fit(&data)?;
/// assert!(curve.overall().survival_at(365.0) < 1.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifetimes {
    as_of: DateTime<Utc>,
    #[serde(default)]
    definition: ChurnDefinition,
}

impl Lifetimes {
    /// Lifetimes observed up to `as_of`, with the default definition
    /// (`NoOrder { inactivity_days: 90 }`).
    pub fn new(as_of: DateTime<Utc>) -> Self {
        Lifetimes {
            as_of,
            definition: ChurnDefinition::default(),
        }
    }

    /// The churn definition. Defaults to `NoOrder { inactivity_days: 90 }`.
    pub fn definition(mut self, definition: ChurnDefinition) -> Self {
        self.definition = definition;
        self
    }

    /// The as-of time.
    pub fn as_of_value(&self) -> DateTime<Utc> {
        self.as_of
    }

    /// The churn definition.
    pub fn definition_value(&self) -> &ChurnDefinition {
        &self.definition
    }

    /// Checks the configuration; [`extract`](Self::extract) calls it first.
    ///
    /// # Errors
    ///
    /// As [`ChurnDefinition::validate`].
    pub fn validate(&self) -> Result<()> {
        self.definition.validate()
    }

    /// One row per customer who signed up by the as-of time, in
    /// [`History`] order, with their ids attached.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate); [`ErrorKind::Empty`] if nobody had
    /// signed up by the as-of time.
    pub fn extract(&self, history: &History) -> Result<SurvivalData> {
        self.validate()?;
        let t = to_micros(self.as_of);
        let any_event = matches!(self.definition, ChurnDefinition::NoActivity { .. });
        let (mut ids, mut durations, mut events) = (Vec::new(), Vec::new(), Vec::new());
        for customer in history.customers() {
            let (start, churn) = match self.definition {
                ChurnDefinition::NoOrder { inactivity_days }
                | ChurnDefinition::NoActivity { inactivity_days } => {
                    let window = i64::from(inactivity_days) * MICROS_PER_DAY;
                    let lapse = first_lapse(customer, any_event, window, t);
                    (Some(customer.signup_micros()), lapse)
                }
                ChurnDefinition::Cancellation => (
                    Some(customer.signup_micros()),
                    first_cancellation(customer, t),
                ),
                ChurnDefinition::SubscriptionEnded => first_subscription_end(customer, t),
            };
            let Some(start) = start.filter(|&s| s <= t) else {
                continue;
            };
            let end = churn.unwrap_or(t);
            ids.push(customer.id().clone());
            durations.push((end - start).max(0) as f64 / MICROS_PER_DAY as f64);
            events.push(churn.is_some());
        }
        if ids.is_empty() {
            let what = match self.definition {
                ChurnDefinition::SubscriptionEnded => "no subscription had started",
                _ => "no customer had signed up",
            };
            return Err(ErrorKind::Empty(format!("{what} by {}", self.as_of)).into());
        }
        SurvivalData::new(durations, events)?.with_ids(ids)
    }
}

/// The first moment at or before `until` when the customer has gone
/// `window` without activity (from signup on), if any.
fn first_lapse(
    customer: CustomerView<'_>,
    any_event: bool,
    window: i64,
    until: i64,
) -> Option<i64> {
    let mut times: Vec<i64> = Vec::new();
    let orders = customer.orders();
    times.extend(
        orders
            .micros()
            .iter()
            .zip(orders.amounts())
            .filter(|(t, a)| **a >= 0.0 && **t <= until)
            .map(|(&t, _)| t),
    );
    if any_event {
        let interactions = customer.interactions();
        times.extend(
            interactions
                .micros()
                .iter()
                .zip(interactions.compact_kinds())
                .filter(|(t, k)| !matches!(k, CompactKind::Cancellation) && **t <= until)
                .map(|(&t, _)| t),
        );
        times.extend(
            customer
                .feedback()
                .micros()
                .iter()
                .copied()
                .filter(|&t| t <= until),
        );
        times.sort_unstable();
    }
    let mut last = customer.signup_micros();
    for s in times {
        if s - last >= window {
            break;
        }
        last = last.max(s);
    }
    let churn = last.saturating_add(window);
    (churn <= until).then_some(churn)
}

/// For [`ChurnDefinition::SubscriptionEnded`]: the start of the customer's
/// first subscription, and the first moment at or before `until` when every
/// subscription started so far had ended with none running, if any.
fn first_subscription_end(customer: CustomerView<'_>, until: i64) -> (Option<i64>, Option<i64>) {
    let mut spans: Vec<(i64, i64)> = customer
        .subscriptions()
        .iter()
        .map(|s| {
            let end = s.ended_at().map_or(i64::MAX, to_micros);
            (to_micros(s.start()), end)
        })
        .collect();
    spans.sort_unstable();
    let Some(&(first, _)) = spans.first() else {
        return (None, None);
    };
    // Walk the union of the [start, end) spans: churn is the end of the
    // first stretch that no later subscription continues.
    let mut covered = first;
    for &(start, end) in &spans {
        if start > covered {
            break;
        }
        covered = covered.max(end);
    }
    (Some(first), (covered <= until).then_some(covered))
}

/// The customer's first cancellation at or before `until`, if any.
fn first_cancellation(customer: CustomerView<'_>, until: i64) -> Option<i64> {
    let interactions = customer.interactions();
    interactions
        .micros()
        .iter()
        .zip(interactions.compact_kinds())
        .find(|(_, k)| matches!(k, CompactKind::Cancellation))
        .map(|(&t, _)| t)
        .filter(|&t| t <= until)
}
