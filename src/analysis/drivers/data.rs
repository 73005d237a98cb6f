//! The input of a driver analysis: churn labels with numeric and
//! categorical fields ([`DriverData`]).

use std::collections::HashMap;

use crate::features::{FeatureTable, Labels};
use crate::records::CustomerId;
use crate::score::Profiles;
use crate::{Error, ErrorKind, Result};

/// The label of a customer without a value in a categorical field.
pub const MISSING_LEVEL: &str = "(none)";

/// Churned-or-retained customers with the fields to compare them on:
/// numeric features and categorical fields, by name.
///
/// Build it from a [`FeatureTable`] and [`Labels`] with
/// [`from_table`](Self::from_table) (every feature becomes a numeric
/// field), add categories from [`Profiles`] (plan, channel, region, RFM
/// segment, lifecycle stage, fields of your own) with
/// [`with_categories_from`](Self::with_categories_from), or assemble any
/// table with [`new`](Self::new) and the `with_*` methods.
///
/// # Example
///
/// ```
/// use churnwise::analysis::drivers::DriverData;
///
/// let data = DriverData::new(vec![true, false, false, true])?
///     .with_numeric("logins_30d", vec![1.0, 7.0, 5.0, 0.0])?
///     .with_category("channel", &["web", "store", "web", "web"])?;
/// assert_eq!(data.len(), 4);
/// assert_eq!(data.numeric_names(), ["logins_30d"]);
/// assert_eq!(data.category_names(), ["channel"]);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DriverData {
    ids: Option<Vec<CustomerId>>,
    churned: Vec<bool>,
    numeric: Vec<(String, Vec<f64>)>,
    categorical: Vec<Category>,
}

/// A categorical field: its levels in order and each row's level.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Category {
    pub name: String,
    pub levels: Vec<String>,
    pub codes: Vec<u32>,
}

impl DriverData {
    /// Data with one churn flag per customer and no field yet.
    ///
    /// # Errors
    ///
    /// None at present; the flags are checked when the report is made
    /// (both classes must be present).
    pub fn new(churned: Vec<bool>) -> Result<Self> {
        Ok(DriverData {
            ids: None,
            churned,
            numeric: Vec::new(),
            categorical: Vec::new(),
        })
    }

    /// The labelled customers of `labels` with every column of `table` as
    /// a numeric field, matched by customer id (the table may hold more
    /// customers than were labelled).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingValue`] for a labelled customer the table lacks.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::analysis::drivers::{DriverData, Drivers};
    /// use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
    /// # use churnwise::doc_support::{history, month};
    ///
    /// # let history = history(800, 4)?;
    /// let table = FeatureSpec::all().extract(&history, &Snapshot::new(month(6)))?;
    /// let labels = ChurnLabeler::new().labels(&history, month(6))?;
    /// let report = Drivers::new().analyze(&DriverData::from_table(&table, &labels)?)?;
    /// assert_eq!(report.numeric().len(), table.ncols());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_table(table: &FeatureTable, labels: &Labels) -> Result<Self> {
        let rows = rows_of(labels.ids(), table.ids(), "feature table")?;
        let values = table.values();
        let numeric = table
            .names()
            .iter()
            .enumerate()
            .map(|(j, name)| (name.clone(), rows.iter().map(|&r| values[[r, j]]).collect()))
            .collect();
        Ok(DriverData {
            ids: Some(labels.ids().to_vec()),
            churned: labels.churned().to_vec(),
            numeric,
            categorical: Vec::new(),
        })
    }

    /// Attaches the customers' ids (needed by
    /// [`with_categories_from`](Self::with_categories_from)).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] unless there is one id per customer.
    pub fn with_ids(mut self, ids: Vec<CustomerId>) -> Result<Self> {
        self.check_len("customer ids per churn flag", ids.len())?;
        self.ids = Some(ids);
        Ok(self)
    }

    fn check_len(&self, what: &'static str, got: usize) -> Result<()> {
        if got != self.churned.len() {
            return Err(ErrorKind::LengthMismatch {
                what,
                expected: self.churned.len(),
                got,
            }
            .into());
        }
        Ok(())
    }

    fn check_name(&self, name: &str) -> Result<()> {
        let taken = self.numeric.iter().any(|(n, _)| n == name)
            || self.categorical.iter().any(|c| c.name == name);
        if taken {
            return Err(ErrorKind::DuplicateName {
                what: "driver field",
                name: name.to_owned(),
            }
            .into());
        }
        Ok(())
    }

    /// Adds a numeric field, one value per customer.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`], [`ErrorKind::DuplicateName`], and
    /// [`ErrorKind::NonFinite`] for a NaN or infinite value.
    pub fn with_numeric(mut self, name: impl Into<String>, values: Vec<f64>) -> Result<Self> {
        let name = name.into();
        self.check_len("numeric values per customer", values.len())?;
        self.check_name(&name)?;
        if let Some((row, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ErrorKind::NonFinite {
                what: "driver value",
                row,
                column: name,
                value,
            }
            .into());
        }
        self.numeric.push((name, values));
        Ok(self)
    }

    /// Adds a categorical field, one label per customer; the levels are
    /// sorted by label.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] or [`ErrorKind::DuplicateName`].
    pub fn with_category<S: AsRef<str>>(
        self,
        name: impl Into<String>,
        labels: &[S],
    ) -> Result<Self> {
        let labels: Vec<Option<&str>> = labels.iter().map(|l| Some(l.as_ref())).collect();
        self.with_optional_category(name, &labels)
    }

    /// [`with_category`](Self::with_category) where some customers have no
    /// label (`None`); they form the level [`MISSING_LEVEL`], counted like
    /// any other.
    ///
    /// # Errors
    ///
    /// As [`with_category`](Self::with_category).
    pub fn with_optional_category<S: AsRef<str>>(
        mut self,
        name: impl Into<String>,
        labels: &[Option<S>],
    ) -> Result<Self> {
        let name = name.into();
        self.check_len("category labels per customer", labels.len())?;
        self.check_name(&name)?;
        let (levels, codes) = super::super::levels::from_labels(
            labels
                .iter()
                .map(|l| l.as_ref().map_or(MISSING_LEVEL, AsRef::as_ref)),
        );
        self.categorical.push(Category {
            name,
            levels,
            codes,
        });
        Ok(self)
    }

    /// Adds category fields of `profiles` by name (`plan`, `channel`,
    /// `region`, `rfm_segment`, `lifecycle_stage`, `value_tier`, or your
    /// own), matching customers by id. Levels keep the field's order
    /// (built-in categories' fixed order, otherwise first appearance);
    /// customers without a label form [`MISSING_LEVEL`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] for a name that is not a category of
    /// `profiles`; [`ErrorKind::MissingValue`] without ids or for a
    /// customer the profiles lack; [`ErrorKind::DuplicateName`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::analysis::drivers::{DriverData, Drivers};
    /// use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
    /// use churnwise::score::Profiles;
    /// use churnwise::segment::LifecyclePolicy;
    /// # use churnwise::doc_support::{history, month};
    ///
    /// # let history = history(800, 4)?;
    /// let table = FeatureSpec::all().extract(&history, &Snapshot::new(month(6)))?;
    /// let labels = ChurnLabeler::new().labels(&history, month(6))?;
    /// let profiles = Profiles::new(table.clone())?
    ///     .stage_lifecycle(&LifecyclePolicy::default())?
    ///     .attributes_from(&history)?;
    /// let data = DriverData::from_table(&table, &labels)?
    ///     .with_categories_from(&profiles, &["lifecycle_stage", "plan"])?;
    /// let report = Drivers::new().analyze(&data)?;
    /// assert_eq!(report.categorical().len(), 2);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_categories_from<S: AsRef<str>>(
        mut self,
        profiles: &Profiles,
        names: &[S],
    ) -> Result<Self> {
        for name in names {
            let name = name.as_ref();
            let Some(category) = profiles.category(name) else {
                let suggestions = profiles
                    .field_names()
                    .into_iter()
                    .filter(|n| profiles.category(n).is_some())
                    .map(str::to_owned)
                    .collect();
                return Err(ErrorKind::UnknownName {
                    what: "category field",
                    name: name.to_owned(),
                    suggestions,
                }
                .into());
            };
            let Some(ids) = &self.ids else {
                return Err(ErrorKind::MissingValue {
                    record: "driver data".into(),
                    field: format!("customer ids (needed to match `{name}`)"),
                }
                .into());
            };
            let rows = rows_of(ids, profiles.ids(), "profiles")?;
            self.check_name(name)?;
            let (levels, codes) =
                super::super::levels::from_category(&category, &rows, MISSING_LEVEL);
            self.categorical.push(Category {
                name: name.to_owned(),
                levels,
                codes,
            });
        }
        Ok(self)
    }

    /// The number of customers.
    pub fn len(&self) -> usize {
        self.churned.len()
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.churned.is_empty()
    }

    /// Whether each customer churned.
    pub fn churned(&self) -> &[bool] {
        &self.churned
    }

    /// The numeric fields' names, in the order added.
    pub fn numeric_names(&self) -> Vec<&str> {
        self.numeric.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The categorical fields' names, in the order added.
    pub fn category_names(&self) -> Vec<&str> {
        self.categorical.iter().map(|c| c.name.as_str()).collect()
    }

    pub(super) fn numeric_fields(&self) -> &[(String, Vec<f64>)] {
        &self.numeric
    }

    pub(super) fn categorical_fields(&self) -> &[Category] {
        &self.categorical
    }
}

/// For each id of `wanted`, its row among `have`.
fn rows_of(wanted: &[CustomerId], have: &[CustomerId], what: &str) -> Result<Vec<usize>> {
    let index: HashMap<&CustomerId, usize> =
        have.iter().enumerate().map(|(i, id)| (id, i)).collect();
    wanted
        .iter()
        .map(|id| {
            index.get(id).copied().ok_or_else(|| {
                Error::from(ErrorKind::MissingValue {
                    record: format!("customer {id}"),
                    field: format!("row in the {what}"),
                })
            })
        })
        .collect()
}
