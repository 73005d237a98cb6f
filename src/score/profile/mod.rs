//! The per-customer view that alerts and retention read.
//!
//! Every customer's fields: the registry, the column types and the views.

mod field;
mod view;

pub use field::{FieldKind, builtin_fields};
pub use view::{Category, Iter, Profile, ProfileRef};

pub(crate) use field::{Builtin, Coded, Codes, Column, LabelSets, MISSING, builtin};

use chrono::{DateTime, Utc};

use super::{ChurnScorer, ValueScorer};
use crate::features::{FeatureTable, closest_names};
use crate::records::{CustomerId, History};
use crate::segment::{FittedKMeans, FittedRfm, FittedTiers, LifecyclePolicy, LifecycleStage};
use crate::segment::{RfmSegment, Tier};
use crate::{ErrorKind, Result};

/// Every customer's profile, column by column: features (a
/// [`FeatureTable`]) plus named fields.
///
/// The fields, numeric or categorical, live in one registry:
///
/// | field | kind | set by |
/// |---|---|---|
/// | `churn_probability` | number in [0, 1] | [`score_with`](Profiles::score_with), [`with_churn_probabilities`](Profiles::with_churn_probabilities) |
/// | `customer_value` | currency ≥ 0 | [`values_from_column`](Profiles::values_from_column), [`value_with`](Profiles::value_with), [`with_customer_values`](Profiles::with_customer_values) |
/// | `expected_loss` | currency ≥ 0 | derived: churn probability × customer value |
/// | `rfm_segment` | category | [`segment_rfm`](Profiles::segment_rfm) |
/// | `lifecycle_stage` | category | [`stage_lifecycle`](Profiles::stage_lifecycle) |
/// | `value_tier`, `engagement_tier` | category (`low`, `mid`, `high`) | [`tier_value`](Profiles::tier_value), [`tier_engagement`](Profiles::tier_engagement) |
/// | `plan`, `channel`, `region` | category from the records | [`attributes_from`](Profiles::attributes_from) |
/// | `tags` | labels from the records | [`attributes_from`](Profiles::attributes_from) |
/// | `cluster` | category (`0`, `1`, …) | [`cluster_with`](Profiles::cluster_with) |
/// | any name of yours | number or category | [`with_numeric`](Profiles::with_numeric), [`with_category`](Profiles::with_category) |
///
/// Alert conditions and playbook eligibility reference every field, and
/// every feature, by name.
///
/// Assemble it in one chain from a table, a scorer, fitted segmentations,
/// the records' customer attributes and columns of your own (each step
/// checks lengths and values), or from hand-made [`Profile`]s. Alerts and
/// retention read nothing else, so they work with a scorer or segmentation
/// of your own. Read it customer by customer with [`iter`](Self::iter) or
/// [`get`](Self::get), which borrow rather than copy.
///
/// # Example
///
/// ```
/// use churnwise::score::Profiles;
/// use churnwise::segment::{LifecyclePolicy, Rfm, Tiers};
/// # let (history, table) = churnwise::doc_support::table(500, 1, 6)?;
///
/// let rfm = Rfm::new().fit(&table)?;
/// let value = Tiers::value().fit(&table)?;
/// let credit: Vec<f64> = (0..table.nrows()).map(|i| 500.0 * (i % 4) as f64).collect();
/// let profiles = Profiles::new(table)?
///     .segment_rfm(&rfm)?
///     .stage_lifecycle(&LifecyclePolicy::default())?
///     .tier_value(&value)?
///     .values_from_column("spend_180d")?
///     .attributes_from(&history)?
///     .with_numeric("credit_limit", credit)?;
/// let first = profiles.iter().next().ok_or("no customers")?;
/// assert!(first.rfm_segment().is_some());
/// assert!(first.number("credit_limit").is_some());
/// assert!(profiles.churn_probabilities().is_none()); // no scorer given
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Profiles {
    table: FeatureTable,
    fields: Vec<Field>,
}

/// A named column besides the features.
#[derive(Debug, Clone, PartialEq)]
struct Field {
    name: String,
    column: Column,
}

impl Profiles {
    /// Profiles with the features of `table` and no other field yet.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::DuplicateName`] if a feature column takes the name of
    /// a built-in field ([`builtin_fields`]), or if a customer id appears
    /// twice (say, two snapshots' tables concatenated): each customer has
    /// one profile, so plans and alerts never repeat a customer.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::features::FeatureTable;
    /// use churnwise::score::Profiles;
    ///
    /// let table = FeatureTable::new(vec![7u64.into(), 7u64.into()], vec!["recency_days".into()], ndarray::array![[3.0], [9.0]])?;
    /// let err = Profiles::new(table).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::DuplicateName { name, .. } if name == "7"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(table: FeatureTable) -> Result<Self> {
        if let Some(name) = table.names().iter().find(|n| builtin(n).is_some()) {
            return Err(ErrorKind::DuplicateName {
                what: "profile field (a feature column takes a built-in field's name)",
                name: name.clone(),
            }
            .into());
        }
        let ids = table.ids();
        if !ids.windows(2).all(|w| w[0] < w[1]) {
            let mut sorted: Vec<&crate::records::CustomerId> = ids.iter().collect();
            sorted.sort_unstable();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(ErrorKind::DuplicateName {
                    what: "customer in profiles",
                    name: w[0].to_string(),
                }
                .into());
            }
        }
        Ok(Profiles {
            table,
            fields: Vec::new(),
        })
    }

    /// Sets the churn probabilities, one per customer in table order.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] for the wrong length,
    /// [`ErrorKind::OutOfRange`] for a value outside [0, 1] or NaN.
    pub fn with_churn_probabilities(self, p: Vec<f64>) -> Result<Self> {
        self.with_builtin_number("churn_probability", p)
    }

    /// Scores every customer with `scorer` and sets the churn probabilities.
    ///
    /// # Errors
    ///
    /// The errors of [`ChurnScorer::score_table`] (a table without the
    /// scorer's features).
    pub fn score_with(self, scorer: &ChurnScorer) -> Result<Self> {
        let p = scorer.score_table(&self.table)?.to_vec();
        self.with_churn_probabilities(p)
    }

    /// Sets the customers' values: what is lost if they churn, in currency.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] for the wrong length,
    /// [`ErrorKind::OutOfRange`] for a negative or non-finite value.
    pub fn with_customer_values(self, values: Vec<f64>) -> Result<Self> {
        self.with_builtin_number("customer_value", values)
    }

    /// Sets the customers' values with a deployed value model (for example
    /// next-90-day spend; negative predictions count as 0).
    ///
    /// # Errors
    ///
    /// The errors of [`ValueScorer::score_table`] (a table without the
    /// scorer's features).
    pub fn value_with(self, scorer: &ValueScorer) -> Result<Self> {
        let values = scorer.score_table(&self.table)?.to_vec();
        self.with_customer_values(values)
    }

    /// Sets the customers' values from a feature column (negative values,
    /// net refunds, and −0 count as +0, so equal inputs give equal bits).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] if the table has no such column.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profiles;
    /// # let (_, table) = churnwise::doc_support::table(200, 1, 6)?;
    ///
    /// let profiles = Profiles::new(table)?.values_from_column("spend_180d")?;
    /// let values = profiles.customer_values().ok_or("no values")?;
    /// assert!(values.iter().all(|v| *v >= 0.0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn values_from_column(self, name: &str) -> Result<Self> {
        let values = self
            .table
            .column(name)?
            .iter()
            // Not `max`, whose result for −0 may be either zero: −0 → +0.
            .map(|&v| if v > 0.0 { v } else { 0.0 })
            .collect();
        self.with_customer_values(values)
    }

    /// Assigns every customer's RFM segment with fitted RFM edges.
    ///
    /// # Errors
    ///
    /// The errors of [`FittedRfm::apply`].
    pub fn segment_rfm(self, rfm: &FittedRfm) -> Result<Self> {
        let segments = rfm
            .apply(&self.table)?
            .iter()
            .map(|s| s.segment())
            .collect();
        self.with_rfm_segments(segments)
    }

    /// Assigns every customer's lifecycle stage (using the churn
    /// probabilities, if already set).
    ///
    /// # Errors
    ///
    /// The errors of [`LifecyclePolicy::apply`].
    pub fn stage_lifecycle(self, policy: &LifecyclePolicy) -> Result<Self> {
        let stages = policy.apply(&self.table, self.churn_probabilities())?;
        self.with_lifecycle_stages(stages)
    }

    /// Assigns every customer's value tier.
    ///
    /// # Errors
    ///
    /// The errors of [`FittedTiers::apply`].
    pub fn tier_value(self, tiers: &FittedTiers) -> Result<Self> {
        let tiers = tiers.apply(&self.table)?;
        self.with_value_tiers(tiers)
    }

    /// Assigns every customer's engagement tier.
    ///
    /// # Errors
    ///
    /// The errors of [`FittedTiers::apply`].
    pub fn tier_engagement(self, tiers: &FittedTiers) -> Result<Self> {
        let tiers = tiers.apply(&self.table)?;
        self.with_engagement_tiers(tiers)
    }

    /// Sets the RFM segments, one per customer.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] for the wrong length.
    pub fn with_rfm_segments(self, segments: Vec<RfmSegment>) -> Result<Self> {
        self.with_fixed("rfm_segment", &segments)
    }

    /// Sets the lifecycle stages, one per customer.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] for the wrong length.
    pub fn with_lifecycle_stages(self, stages: Vec<LifecycleStage>) -> Result<Self> {
        self.with_fixed("lifecycle_stage", &stages)
    }

    /// Sets the value tiers, one per customer.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] for the wrong length.
    pub fn with_value_tiers(self, tiers: Vec<Tier>) -> Result<Self> {
        self.with_fixed("value_tier", &tiers)
    }

    /// Sets the engagement tiers, one per customer.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] for the wrong length.
    pub fn with_engagement_tiers(self, tiers: Vec<Tier>) -> Result<Self> {
        self.with_fixed("engagement_tier", &tiers)
    }

    /// Sets `plan`, `channel`, `region` and `tags` from the customers'
    /// records. A customer without a plan (channel, region) has no label
    /// there: every comparison of it fails, and `not` of one holds.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] naming the first customer of these
    /// profiles that `history` does not have.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    /// use churnwise::score::Profiles;
    /// # let (history, table) = churnwise::doc_support::table(300, 2, 6)?;
    ///
    /// let profiles = Profiles::new(table)?.attributes_from(&history)?;
    /// let gold = profiles.iter().filter(|p| p.label("plan") == Some("premium")).count();
    /// let rows = Condition::parse_expr(r#"plan == "premium""#)?.rows_meeting(&profiles)?;
    /// assert_eq!(rows.iter().filter(|r| **r).count(), gold);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn attributes_from(self, history: &History) -> Result<Self> {
        let customers = self
            .ids()
            .iter()
            .map(|id| {
                history.find(id).ok_or_else(|| {
                    ErrorKind::UnknownName {
                        what: "customer (in the profiles but not in the history)",
                        name: id.to_string(),
                        suggestions: Vec::new(),
                    }
                    .into()
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let plan = Codes::encode(customers.iter().map(|c| c.plan()));
        let channel = Codes::encode(customers.iter().map(|c| c.channel()));
        let region = Codes::encode(customers.iter().map(|c| c.region()));
        let tags = LabelSets::encode(customers.iter().map(|c| c.tags()));
        Ok(self
            .put("plan", Column::Category(plan))
            .put("channel", Column::Category(channel))
            .put("region", Column::Category(region))
            .put("tags", Column::Labels(tags)))
    }

    /// Sets `cluster`: every customer's nearest k-means centre, labelled
    /// `0`, `1`, … (rules may compare it with a number: `cluster == 2`).
    ///
    /// # Errors
    ///
    /// The errors of [`FittedKMeans::predict`].
    pub fn cluster_with(self, kmeans: &FittedKMeans) -> Result<Self> {
        let clusters = kmeans.predict(&self.table)?;
        self.with_clusters(&clusters)
    }

    /// Sets `cluster` from cluster numbers of your own clustering.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] for the wrong length.
    pub fn with_clusters(self, clusters: &[usize]) -> Result<Self> {
        self.check_len("cluster", clusters.len())?;
        let k = clusters.iter().max().map_or(0, |m| m + 1);
        let codes = Codes {
            codes: clusters.iter().map(|&c| c as u32).collect(),
            dictionary: (0..k).map(|c| c.to_string().into()).collect(),
        };
        Ok(self.put("cluster", Column::Category(codes)))
    }

    /// Adds (or replaces) a numeric field of your own, one value per
    /// customer in table order; rules read it by `name`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::DuplicateName`] if `name` is a feature or a built-in
    /// field, [`ErrorKind::InvalidParameter`] for a blank name,
    /// [`ErrorKind::LengthMismatch`] for the wrong length,
    /// [`ErrorKind::NonFinite`] for a NaN or infinite value.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    /// use churnwise::score::Profiles;
    /// # let (_, table) = churnwise::doc_support::table(100, 1, 6)?;
    ///
    /// let n = table.nrows();
    /// let limits = (0..n).map(|i| if i % 2 == 0 { 5_000.0 } else { 500.0 }).collect();
    /// let profiles = Profiles::new(table)?.with_numeric("credit_limit", limits)?;
    /// let high = Condition::field("credit_limit").gte(1_000.0).rows_meeting(&profiles)?;
    /// assert_eq!(high.iter().filter(|r| **r).count(), n.div_ceil(2));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_numeric(self, name: impl Into<String>, values: Vec<f64>) -> Result<Self> {
        let name = name.into();
        self.check_user_name(&name)?;
        self.check_len("profile field of your own", values.len())?;
        if let Some(row) = values.iter().position(|v| !v.is_finite()) {
            return Err(ErrorKind::NonFinite {
                what: "profile field",
                row,
                column: name,
                value: values[row],
            }
            .into());
        }
        Ok(self.put(&name, Column::Number(values)))
    }

    /// Adds (or replaces) a category field of your own, one label per
    /// customer in table order; rules compare it with `==` and `in`.
    ///
    /// # Errors
    ///
    /// As [`with_numeric`](Self::with_numeric), without the check of values.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    /// use churnwise::score::Profiles;
    /// # let (_, table) = churnwise::doc_support::table(100, 1, 6)?;
    ///
    /// let n = table.nrows();
    /// let contract = (0..n).map(|i| if i < 10 { "yearly" } else { "monthly" });
    /// let profiles = Profiles::new(table)?.with_category("contract", contract)?;
    /// let yearly = Condition::parse_expr("contract == yearly")?.rows_meeting(&profiles)?;
    /// assert_eq!(yearly.iter().filter(|r| **r).count(), 10);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_category<S: AsRef<str>>(
        self,
        name: impl Into<String>,
        labels: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        self.with_optional_category(name, labels.into_iter().map(Some))
    }

    /// [`with_category`](Self::with_category) where some customers have no
    /// label (`None`): every comparison of a missing label fails, and `not`
    /// of one holds.
    ///
    /// # Errors
    ///
    /// As [`with_category`](Self::with_category).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profiles;
    /// # let (_, table) = churnwise::doc_support::table(100, 1, 6)?;
    ///
    /// let n = table.nrows();
    /// let contract = (0..n).map(|i| (i < 10).then_some("yearly"));
    /// let profiles = Profiles::new(table)?.with_optional_category("contract", contract)?;
    /// assert_eq!(profiles.iter().filter(|p| p.label("contract").is_some()).count(), 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_optional_category<S: AsRef<str>>(
        self,
        name: impl Into<String>,
        labels: impl IntoIterator<Item = Option<S>>,
    ) -> Result<Self> {
        let name = name.into();
        self.check_user_name(&name)?;
        let labels: Vec<Option<S>> = labels.into_iter().collect();
        self.check_len("profile field of your own", labels.len())?;
        let codes = Codes::encode(labels.iter().map(|l| l.as_ref().map(AsRef::as_ref)));
        Ok(self.put(&name, Column::Category(codes)))
    }

    /// The number of customers.
    pub fn len(&self) -> usize {
        self.table.nrows()
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The customers, in row order.
    pub fn ids(&self) -> &[CustomerId] {
        self.table.ids()
    }

    /// The features.
    pub fn table(&self) -> &FeatureTable {
        &self.table
    }

    /// The as-of time of the features, if known.
    pub fn as_of(&self) -> Option<DateTime<Utc>> {
        self.table.as_of()
    }

    /// Customer `i`'s profile, borrowed; `None` past the end.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profiles;
    /// # let (_, table) = churnwise::doc_support::table(100, 1, 6)?;
    ///
    /// let profiles = Profiles::new(table)?.values_from_column("spend_180d")?;
    /// let p = profiles.get(0).ok_or("empty")?;
    /// assert_eq!(p.id(), &profiles.ids()[0]);
    /// assert_eq!(p.customer_value(), profiles.customer_values().map(|v| v[0]));
    /// assert!(profiles.get(profiles.len()).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, i: usize) -> Option<ProfileRef<'_>> {
        (i < self.len()).then(|| ProfileRef::new(self, i))
    }

    /// Every customer's profile, borrowed, in row order.
    pub fn iter(&self) -> Iter<'_> {
        Iter::new(self)
    }

    /// Every field a rule can read: the features, then the other fields in
    /// the order they were set.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profiles;
    /// # let (_, table) = churnwise::doc_support::table(100, 1, 6)?;
    ///
    /// let profiles = Profiles::new(table)?.values_from_column("spend_180d")?;
    /// let names = profiles.field_names();
    /// assert_eq!(names[0], "recency_days");
    /// assert_eq!(names.last(), Some(&"customer_value"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn field_names(&self) -> Vec<&str> {
        let features = self.table.names().iter().map(String::as_str);
        features
            .chain(self.fields.iter().map(|f| f.name.as_str()))
            .collect()
    }

    /// What field (or feature) `name` holds, if these profiles have it.
    pub fn field_kind(&self, name: &str) -> Option<FieldKind> {
        match self.field(name) {
            Some(column) => Some(column.kind()),
            None => self.table.column_index(name).map(|_| FieldKind::Number),
        }
    }

    /// The churn probabilities, if set.
    pub fn churn_probabilities(&self) -> Option<&[f64]> {
        self.numbers("churn_probability")
    }

    /// The customer values, if set.
    pub fn customer_values(&self) -> Option<&[f64]> {
        self.numbers("customer_value")
    }

    /// The expected losses (churn probability × customer value), if both
    /// are set.
    pub fn expected_losses(&self) -> Option<&[f64]> {
        self.numbers("expected_loss")
    }

    /// A numeric field other than a feature (features are in
    /// [`table`](Self::table)), if set.
    pub fn numbers(&self, name: &str) -> Option<&[f64]> {
        match self.field(name)? {
            Column::Number(v) => Some(v),
            _ => None,
        }
    }

    /// A category field, if set.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profiles;
    /// # let (history, table) = churnwise::doc_support::table(100, 1, 6)?;
    ///
    /// let profiles = Profiles::new(table)?.attributes_from(&history)?;
    /// let plans = profiles.category("plan").ok_or("no plans")?;
    /// assert_eq!(plans.iter().count(), profiles.len());
    /// assert!(plans.labels().all(|l| !l.is_empty()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn category(&self, name: &str) -> Option<Category<'_>> {
        match self.field(name)? {
            Column::Category(c) => Some(Category::new(c)),
            _ => None,
        }
    }

    /// The column of field `name` (not a feature).
    pub(crate) fn field(&self, name: &str) -> Option<&Column> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| &f.column)
    }

    /// The fields' names and columns, in the order they were set.
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&str, &Column)> {
        self.fields.iter().map(|f| (f.name.as_str(), &f.column))
    }

    /// A built-in category column decoded into its enum.
    pub(crate) fn fixed<T: Coded>(&self, name: &str, i: usize) -> Option<T> {
        match self.field(name)? {
            Column::Category(c) => T::from_code(*c.codes.get(i)?),
            _ => None,
        }
    }

    /// Sets `name`, replacing an earlier column of that name.
    fn put(mut self, name: &str, column: Column) -> Self {
        match self.fields.iter_mut().find(|f| f.name == name) {
            Some(f) => f.column = column,
            None => self.fields.push(Field {
                name: name.to_owned(),
                column,
            }),
        }
        if matches!(name, "churn_probability" | "customer_value") {
            self.derive_expected_loss();
        }
        self
    }

    fn derive_expected_loss(&mut self) {
        let (Some(p), Some(v)) = (self.churn_probabilities(), self.customer_values()) else {
            return;
        };
        let loss = p.iter().zip(v).map(|(p, v)| p * v).collect();
        let column = Column::Number(loss);
        match self.fields.iter_mut().find(|f| f.name == "expected_loss") {
            Some(f) => f.column = column,
            None => self.fields.push(Field {
                name: "expected_loss".into(),
                column,
            }),
        }
    }

    fn with_builtin_number(self, name: &'static str, values: Vec<f64>) -> Result<Self> {
        let Some(Builtin::Number { min, max, .. }) = builtin(name).map(|b| b.kind) else {
            return Err(ErrorKind::UnknownName {
                what: "built-in numeric profile field",
                name: name.into(),
                suggestions: Vec::new(),
            }
            .into());
        };
        self.check_len(name, values.len())?;
        if let Some(row) = values
            .iter()
            .position(|x| !(x.is_finite() && (min..=max).contains(x)))
        {
            return Err(ErrorKind::OutOfRange {
                what: name,
                row,
                value: values[row],
                min,
                max,
            }
            .into());
        }
        Ok(self.put(name, Column::Number(values)))
    }

    fn with_fixed<T: Coded>(self, name: &'static str, values: &[T]) -> Result<Self> {
        self.check_len(name, values.len())?;
        Ok(self.put(name, Column::Category(Codes::of_fixed(values))))
    }

    fn check_user_name(&self, name: &str) -> Result<()> {
        if name.trim().is_empty() {
            return Err(crate::Error::invalid_parameter(
                "name",
                "a profile field needs a name",
            ));
        }
        let taken = if builtin(name).is_some() {
            Some("profile field (a built-in field's name; use its own setter)")
        } else if self.table.column_index(name).is_some() {
            Some("profile field (a feature of these profiles has this name)")
        } else {
            None
        };
        match taken {
            Some(what) => Err(ErrorKind::DuplicateName {
                what,
                name: name.to_owned(),
            }
            .into()),
            None => Ok(()),
        }
    }

    fn check_len(&self, field: &'static str, len: usize) -> Result<()> {
        if len == self.len() {
            return Ok(());
        }
        Err(ErrorKind::LengthMismatch {
            what: field,
            expected: self.len(),
            got: len,
        }
        .into())
    }

    /// An error for a field these profiles do not have: "not set" with the
    /// setter for a built-in one, or "unknown" with the closest names.
    pub(crate) fn missing_field_reason(&self, name: &str) -> (String, Vec<String>) {
        match builtin(name) {
            Some(b) => (
                format!(
                    "profile field `{name}` is not set on these profiles (set it with Profiles::{})",
                    b.set_by
                ),
                Vec::new(),
            ),
            None => (
                format!("unknown field `{name}`"),
                closest_names(name, &self.field_names()),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureTable;

    #[test]
    fn values_from_a_column_clamp_negatives_and_minus_zero_to_plus_zero() {
        let table = FeatureTable::new(
            (1..=4u64).map(Into::into).collect(),
            vec!["spend_180d".into()],
            ndarray::array![[-0.0], [-3.5], [0.0], [12.25]],
        )
        .unwrap();
        let profiles = Profiles::new(table)
            .unwrap()
            .values_from_column("spend_180d")
            .unwrap();
        let bits: Vec<u64> = profiles
            .customer_values()
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        assert_eq!(bits, [0.0, 0.0, 0.0, 12.25].map(f64::to_bits));
    }
}
