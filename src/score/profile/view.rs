//! Per-customer views of [`Profiles`]: borrowed ([`ProfileRef`]) for
//! reading, owned ([`Profile`]) for building profiles by hand.

use std::sync::Arc;

use super::Profiles;
use super::field::{Builtin, Coded, Codes, Column, LabelSets, builtin};
use crate::records::CustomerId;
use crate::segment::{LifecycleStage, RfmSegment, Tier};
use crate::{ErrorKind, Result};

/// One customer's profile, borrowed from [`Profiles`]: nothing is copied
/// until you ask for a value.
///
/// # Example
///
/// ```
/// use churnwise::score::Profiles;
/// # let (history, table) = churnwise::doc_support::table(200, 3, 6)?;
///
/// let profiles = Profiles::new(table)?.attributes_from(&history)?.values_from_column("spend_180d")?;
/// for p in profiles.iter().take(5) {
///     let recency = p.feature("recency_days").ok_or("no recency")?;
///     assert_eq!(p.number("recency_days"), Some(recency)); // features are numbers too
///     assert!(p.customer_value().is_some_and(|v| v >= 0.0));
///     let _tags: Vec<&str> = p.labels("tags").collect();
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ProfileRef<'a> {
    profiles: &'a Profiles,
    row: usize,
}

impl<'a> ProfileRef<'a> {
    pub(super) fn new(profiles: &'a Profiles, row: usize) -> Self {
        ProfileRef { profiles, row }
    }

    /// The customer.
    pub fn id(&self) -> &'a CustomerId {
        &self.profiles.ids()[self.row]
    }

    /// The row of this customer in its [`Profiles`].
    pub fn row(&self) -> usize {
        self.row
    }

    /// A feature's value.
    pub fn feature(&self, name: &str) -> Option<f64> {
        let table = self.profiles.table();
        let j = table.column_index(name)?;
        table.values().get([self.row, j]).copied()
    }

    /// The features, in column order (names borrowed, not copied).
    pub fn features(&self) -> impl Iterator<Item = (&'a str, f64)> + use<'a> {
        let table = self.profiles.table();
        let row = table.values().index_axis_move(ndarray::Axis(0), self.row);
        let names = table.names().iter().map(String::as_str);
        names.zip(row.into_iter().copied())
    }

    /// A numeric field or feature by name.
    pub fn number(&self, name: &str) -> Option<f64> {
        match self.profiles.field(name) {
            Some(Column::Number(v)) => v.get(self.row).copied(),
            Some(_) => None,
            None => self.feature(name),
        }
    }

    /// A category field's label; `None` if the field is not set, is not a
    /// category, or this customer has no label.
    pub fn label(&self, name: &str) -> Option<&'a str> {
        match self.profiles.field(name)? {
            Column::Category(c) => c.label(self.row),
            _ => None,
        }
    }

    /// The labels of a multi-label field (`tags`); a category field gives
    /// its one label.
    pub fn labels(&self, name: &str) -> impl Iterator<Item = &'a str> + use<'a> {
        let (set, one) = match self.profiles.field(name) {
            Some(Column::Labels(s)) => (Some(s.labels_of(self.row)), None),
            Some(Column::Category(c)) => (None, c.label(self.row)),
            _ => (None, None),
        };
        set.into_iter().flatten().chain(one)
    }

    /// The churn probability.
    pub fn churn_probability(&self) -> Option<f64> {
        self.number_field("churn_probability")
    }

    /// The customer's value.
    pub fn customer_value(&self) -> Option<f64> {
        self.number_field("customer_value")
    }

    /// Expected value at risk: churn probability × customer value.
    pub fn expected_loss(&self) -> Option<f64> {
        self.number_field("expected_loss")
    }

    /// The RFM segment.
    pub fn rfm_segment(&self) -> Option<RfmSegment> {
        self.profiles.fixed("rfm_segment", self.row)
    }

    /// The lifecycle stage.
    pub fn lifecycle_stage(&self) -> Option<LifecycleStage> {
        self.profiles.fixed("lifecycle_stage", self.row)
    }

    /// The value tier.
    pub fn value_tier(&self) -> Option<Tier> {
        self.profiles.fixed("value_tier", self.row)
    }

    /// The engagement tier.
    pub fn engagement_tier(&self) -> Option<Tier> {
        self.profiles.fixed("engagement_tier", self.row)
    }

    /// An owned copy, for [`Profiles::from_profiles`] or to keep past the
    /// borrow.
    pub fn to_profile(&self) -> Profile {
        let mut p = Profile::new(self.id().clone());
        p.features = self.features().map(|(n, v)| (n.to_owned(), v)).collect();
        for (name, column) in self.profiles.fields() {
            if name == "expected_loss" {
                continue; // derived again from its parts
            }
            let value = match column {
                Column::Number(v) => Value::Number(v[self.row]),
                Column::Category(c) => Value::Label(c.label(self.row).map(Arc::from)),
                Column::Labels(s) => Value::Labels(s.labels_of(self.row).map(Arc::from).collect()),
            };
            p.fields.push((name.to_owned(), value));
        }
        p
    }

    fn number_field(&self, name: &str) -> Option<f64> {
        self.profiles.numbers(name)?.get(self.row).copied()
    }
}

/// The profiles of [`Profiles::iter`], in row order.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    profiles: &'a Profiles,
    rows: std::ops::Range<usize>,
}

impl<'a> Iter<'a> {
    pub(super) fn new(profiles: &'a Profiles) -> Self {
        Iter {
            profiles,
            rows: 0..profiles.len(),
        }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = ProfileRef<'a>;

    fn next(&mut self) -> Option<ProfileRef<'a>> {
        self.rows.next().map(|i| ProfileRef::new(self.profiles, i))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.rows.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.rows
            .next_back()
            .map(|i| ProfileRef::new(self.profiles, i))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Profiles {
    type Item = ProfileRef<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// A category field of [`Profiles`]: a label (or none) per customer.
///
/// See [`Profiles::category`].
#[derive(Debug, Clone, Copy)]
pub struct Category<'a> {
    codes: &'a Codes,
}

impl<'a> Category<'a> {
    pub(super) fn new(codes: &'a Codes) -> Self {
        Category { codes }
    }

    /// Customer `i`'s label; `None` if it has none or `i` is past the end.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        self.codes.label(i)
    }

    /// The number of customers.
    pub fn len(&self) -> usize {
        self.codes.codes.len()
    }

    /// Whether there is no customer.
    pub fn is_empty(&self) -> bool {
        self.codes.codes.is_empty()
    }

    /// Every customer's label, in row order.
    pub fn iter(&self) -> impl Iterator<Item = Option<&'a str>> + use<'a> {
        let codes = self.codes;
        (0..codes.codes.len()).map(move |i| codes.label(i))
    }

    /// The distinct labels, in order of first appearance (built-in
    /// categories: every label, in their fixed order).
    pub fn labels(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.codes.dictionary.iter().map(|l| &**l)
    }
}

/// A value of a named field in an owned [`Profile`].
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Number(f64),
    Label(Option<Arc<str>>),
    Labels(Vec<Arc<str>>),
}

/// One customer's profile, owned: how to bring profiles from a scorer or
/// segmentation of your own ([`Profiles::from_profiles`]).
///
/// # Example
///
/// ```
/// use churnwise::score::{Profile, Profiles};
/// use churnwise::segment::LifecycleStage;
///
/// let p = Profile::new(7u64)
///     .with_feature("recency_days", 120.0)
///     .with_churn_probability(0.8)
///     .with_customer_value(500.0)
///     .with_lifecycle_stage(LifecycleStage::Silent)
///     .with_label("contract", "yearly");
/// let set = Profiles::from_profiles(vec![p.clone()])?;
/// let back = set.get(0).ok_or("empty")?;
/// assert_eq!(back.expected_loss(), Some(400.0));
/// assert_eq!(back.label("contract"), Some("yearly"));
/// assert_eq!(back.to_profile(), p);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    id: CustomerId,
    features: Vec<(String, f64)>,
    fields: Vec<(String, Value)>,
}

impl Profile {
    /// A profile with no features and no fields.
    pub fn new(id: impl Into<CustomerId>) -> Self {
        Profile {
            id: id.into(),
            features: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// Adds (or replaces) a feature value.
    pub fn with_feature(mut self, name: impl Into<String>, value: f64) -> Self {
        let name = name.into();
        match self.features.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.features.push((name, value)),
        }
        self
    }

    /// Adds (or replaces) a numeric field (checked in
    /// [`Profiles::from_profiles`]).
    pub fn with_number(self, name: impl Into<String>, value: f64) -> Self {
        self.with_value(name.into(), Value::Number(value))
    }

    /// Adds (or replaces) a category field's label.
    pub fn with_label(self, name: impl Into<String>, label: impl Into<String>) -> Self {
        let label: String = label.into();
        self.with_value(name.into(), Value::Label(Some(label.into())))
    }

    /// Adds (or replaces) the labels of a multi-label field (`tags`).
    pub fn with_labels<S: AsRef<str>>(
        self,
        name: impl Into<String>,
        labels: impl IntoIterator<Item = S>,
    ) -> Self {
        let labels = labels.into_iter().map(|l| Arc::from(l.as_ref())).collect();
        self.with_value(name.into(), Value::Labels(labels))
    }

    /// Sets the churn probability.
    pub fn with_churn_probability(self, p: f64) -> Self {
        self.with_number("churn_probability", p)
    }

    /// Sets the customer's value: what is lost if they churn, in currency.
    pub fn with_customer_value(self, value: f64) -> Self {
        self.with_number("customer_value", value)
    }

    /// Sets the RFM segment.
    pub fn with_rfm_segment(self, segment: RfmSegment) -> Self {
        self.with_label("rfm_segment", segment.label())
    }

    /// Sets the lifecycle stage.
    pub fn with_lifecycle_stage(self, stage: LifecycleStage) -> Self {
        self.with_label("lifecycle_stage", stage.label())
    }

    /// Sets the value tier.
    pub fn with_value_tier(self, tier: Tier) -> Self {
        self.with_label("value_tier", tier.label())
    }

    /// Sets the engagement tier.
    pub fn with_engagement_tier(self, tier: Tier) -> Self {
        self.with_label("engagement_tier", tier.label())
    }

    /// The customer.
    pub fn id(&self) -> &CustomerId {
        &self.id
    }

    /// A feature's value.
    pub fn feature(&self, name: &str) -> Option<f64> {
        self.features.iter().find(|(n, _)| n == name).map(|f| f.1)
    }

    /// The features, in column order.
    pub fn features(&self) -> impl Iterator<Item = (&str, f64)> {
        self.features.iter().map(|(n, v)| (n.as_str(), *v))
    }

    fn with_value(mut self, name: String, value: Value) -> Self {
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name, value)),
        }
        self
    }

    fn value(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|f| &f.1)
    }
}

impl Profiles {
    /// Profiles from hand-made [`Profile`]s: every profile must have the
    /// same features and the same fields.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Empty`] for no profiles; [`ErrorKind::MissingValue`]
    /// naming the profile and the feature or field that one profile has and
    /// another lacks; [`ErrorKind::DuplicateName`] for a customer twice;
    /// [`ErrorKind::InvalidValue`] for an unknown label of a built-in
    /// category or a field given as a number on one profile and a label on
    /// another; and the errors of the setters (`with_*`) for bad values.
    pub fn from_profiles(profiles: Vec<Profile>) -> Result<Self> {
        let first = profiles
            .first()
            .ok_or_else(|| ErrorKind::Empty("profiles".into()))?;
        let names: Vec<String> = first.features.iter().map(|f| f.0.clone()).collect();
        let mut values = ndarray::Array2::zeros((profiles.len(), names.len()));
        for (i, p) in profiles.iter().enumerate() {
            check_same_names(i, p, names.iter(), p.features.iter().map(|f| &f.0))?;
            for (j, name) in names.iter().enumerate() {
                values[[i, j]] = p.feature(name).ok_or_else(|| missing(i, p, name))?;
            }
        }
        let ids: Vec<CustomerId> = profiles.iter().map(|p| p.id.clone()).collect();
        // `Profiles::new` refuses repeated customers.
        let mut out = Profiles::new(crate::features::FeatureTable::new(ids, names, values)?)?;
        let field_names = first.fields.iter().map(|f| &f.0);
        for (i, p) in profiles.iter().enumerate() {
            check_same_names(i, p, field_names.clone(), p.fields.iter().map(|f| &f.0))?;
        }
        for (name, kind) in &first.fields {
            let column: Vec<&Value> = profiles
                .iter()
                .enumerate()
                .map(|(i, p)| p.value(name).ok_or_else(|| missing(i, p, name)))
                .collect::<Result<_>>()?;
            out = out.set_from_values(name, kind, &column)?;
        }
        Ok(out)
    }

    fn set_from_values(self, name: &str, first: &Value, column: &[&Value]) -> Result<Self> {
        let mismatch = |row: usize| -> crate::Error {
            ErrorKind::InvalidValue {
                what: "profile",
                index: row,
                field: "fields",
                reason: format!("`{name}` is a number on one profile and a label on another"),
            }
            .into()
        };
        match first {
            Value::Number(_) => {
                let numbers = column
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Value::Number(x) => Ok(*x),
                        _ => Err(mismatch(i)),
                    })
                    .collect::<Result<Vec<f64>>>()?;
                match name {
                    "churn_probability" => self.with_churn_probabilities(numbers),
                    "customer_value" => self.with_customer_values(numbers),
                    _ => self.with_numeric(name, numbers),
                }
            }
            Value::Label(_) => {
                let labels = column
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Value::Label(l) => Ok(l.as_deref()),
                        _ => Err(mismatch(i)),
                    })
                    .collect::<Result<Vec<Option<&str>>>>()?;
                match (builtin(name).map(|b| b.kind), name) {
                    (None, _) => self.with_optional_category(name, labels),
                    (Some(Builtin::Open), _) => {
                        let codes = Codes::encode(labels.iter().copied());
                        Ok(self.put(name, Column::Category(codes)))
                    }
                    (_, "rfm_segment") => self.with_rfm_segments(decode(name, &labels)?),
                    (_, "lifecycle_stage") => self.with_lifecycle_stages(decode(name, &labels)?),
                    (_, "value_tier") => self.with_value_tiers(decode(name, &labels)?),
                    (_, "engagement_tier") => self.with_engagement_tiers(decode(name, &labels)?),
                    _ => Err(wrong_kind(name, "a label")),
                }
            }
            Value::Labels(_) => {
                let sets = column
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Value::Labels(l) => Ok(l.iter().map(|l| &**l)),
                        _ => Err(mismatch(i)),
                    })
                    .collect::<Result<Vec<_>>>()?;
                match builtin(name).map(|b| b.kind) {
                    None => self.check_user_name(name)?,
                    Some(Builtin::Labels) => {}
                    Some(_) => return Err(wrong_kind(name, "several labels")),
                }
                Ok(self.put(name, Column::Labels(LabelSets::encode(sets))))
            }
        }
    }
}

/// A built-in field given a value of the wrong kind on a hand-made profile.
fn wrong_kind(field: &str, given: &str) -> crate::Error {
    ErrorKind::InvalidValue {
        what: "profile",
        index: 0,
        field: "fields",
        reason: format!("built-in field `{field}` cannot hold {given}"),
    }
    .into()
}

/// The labels of a built-in category decoded into its enum.
fn decode<T: Coded>(field: &str, labels: &[Option<&str>]) -> Result<Vec<T>> {
    labels
        .iter()
        .enumerate()
        .map(|(row, label)| {
            label
                .and_then(|l| T::LABELS.iter().position(|k| *k == l))
                .and_then(|code| T::from_code(code as u32))
                .ok_or_else(|| {
                    ErrorKind::InvalidValue {
                        what: "profile",
                        index: row,
                        field: "fields",
                        reason: format!(
                            "`{field}` expects one of {}, got {}",
                            T::LABELS.join(", "),
                            label.unwrap_or("no label")
                        ),
                    }
                    .into()
                })
        })
        .collect()
}

fn missing(i: usize, p: &Profile, field: &str) -> crate::Error {
    ErrorKind::MissingValue {
        record: format!("profile {i} (customer {})", p.id),
        field: field.to_owned(),
    }
    .into()
}

/// Profile `i` has exactly the names of the first profile.
fn check_same_names<'n>(
    i: usize,
    p: &Profile,
    expected: impl Iterator<Item = &'n String> + Clone,
    got: impl Iterator<Item = &'n String> + Clone,
) -> Result<()> {
    if let Some(absent) = expected.clone().find(|n| !got.clone().any(|g| g == *n)) {
        return Err(missing(i, p, absent));
    }
    if let Some(extra) = got.clone().find(|g| !expected.clone().any(|n| n == *g)) {
        return Err(ErrorKind::MissingValue {
            record: "profile 0".into(),
            field: format!("{extra} (set on profile {i})"),
        }
        .into());
    }
    Ok(())
}
