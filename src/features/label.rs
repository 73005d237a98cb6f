//! Churn labels and (features, labels) training sets.

use chrono::{DateTime, Utc};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::extract::fill_rows;
use super::{FeatureSpec, FeatureTable, Snapshot};
use crate::records::CompactKind;
use crate::records::History;
use crate::util::{MICROS_PER_DAY, from_micros, to_micros};
use crate::{Error, ErrorKind, Result};

/// What counts as churn after the as-of time.
///
/// # Example
///
/// ```
/// use churnwise::features::LabelRule;
///
/// assert_eq!(LabelRule::default(), LabelRule::NoOrder);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LabelRule {
    /// Non-contractual: churned when there is no purchase in `(t, t + horizon]`.
    #[default]
    NoOrder,
    /// Contractual: churned when a [`Cancellation`](crate::records::InteractionKind::Cancellation)
    /// falls in `(t, t + horizon]`. Customers who cancelled at or before `t` are left out.
    Cancellation,
}

/// Whether [`ChurnLabeler`] labels customers who had already lapsed at the
/// as-of time (no purchase in the `horizon` days up to it).
///
/// Serialized as `"keep"` or `"exclude"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LapsedCustomers {
    /// Label them like everybody else (most will be labelled churned).
    #[default]
    Keep,
    /// Leave them out, for [`LabelRule::NoOrder`]: their label would only
    /// restate the past.
    Exclude,
}

/// Labels customers as churned or not after an as-of time, and builds
/// training sets of (features at `t`, label) from one [`History`].
///
/// Only customers who had signed up by `t` are labelled. Labels need the
/// history to be observed up to `t + horizon`; by default that is its last
/// event, and [`observed_until`](Self::observed_until) sets it explicitly.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::{ChurnLabeler, FeatureSpec, LapsedCustomers, Snapshot};
///
/// # let history = churnwise::doc_support::history(500, 4)?;
/// let times = [
///     Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap(),
///     Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap(),
/// ];
/// let labeler = ChurnLabeler::new().horizon_days(90).lapsed_customers(LapsedCustomers::Exclude);
/// let snapshot = Snapshot::new(times[0]);
/// let train = labeler.training_set(&history, &FeatureSpec::all(), &snapshot, &times)?;
/// assert_eq!(train.features().nrows(), train.labels().len());
/// let rate = train.positive_rate();
/// assert!(rate > 0.0 && rate < 1.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChurnLabeler {
    horizon_days: u32,
    rule: LabelRule,
    lapsed_customers: LapsedCustomers,
    observed_until: Option<DateTime<Utc>>,
}

impl Default for ChurnLabeler {
    fn default() -> Self {
        ChurnLabeler {
            horizon_days: 90,
            rule: LabelRule::NoOrder,
            lapsed_customers: LapsedCustomers::Keep,
            observed_until: None,
        }
    }
}

/// Labels at one as-of time: customer ids (in [`History`] order) and whether each churned.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::ChurnLabeler;
///
/// # let history = churnwise::doc_support::history(200, 4)?;
/// let labels = ChurnLabeler::new().labels(&history, Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap())?;
/// assert_eq!(labels.ids().len(), labels.churned().len());
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    ids: Vec<crate::records::CustomerId>,
    churned: Vec<bool>,
}

impl Labels {
    /// The number of labelled customers.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no customer is labelled.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The labelled customers.
    pub fn ids(&self) -> &[crate::records::CustomerId] {
        &self.ids
    }

    /// Whether each churned.
    pub fn churned(&self) -> &[bool] {
        &self.churned
    }
}

impl ChurnLabeler {
    /// The defaults: no purchase within 90 days, lapsed customers included,
    /// observed until the history's last event.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::{ChurnLabeler, LabelRule, LapsedCustomers};
    ///
    /// let labeler = ChurnLabeler::new();
    /// assert_eq!(labeler.horizon_days_value(), 90);
    /// assert_eq!(labeler, ChurnLabeler::new().rule(LabelRule::NoOrder).lapsed_customers(LapsedCustomers::Keep));
    /// ```
    pub fn new() -> Self {
        ChurnLabeler::default()
    }

    /// The label horizon in days. Defaults to 90. Must be 1 to 36 500
    /// (checked by [`validate`](Self::validate)).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::*;
    /// # use churnwise::records::*;
    /// # use churnwise::doc_support::day;
    /// # // Customer 1 buys on days 20, 150 and 400, customer 2 on day 5, then cancels on day 120.
    /// # let history = churnwise::doc_support::buy_and_cancel()?;
    /// // With a 30-day horizon, customer 1 (next purchase on day 150) churned at day 100 too.
    /// let labels = ChurnLabeler::new().horizon_days(30).labels(&history, day(100))?;
    /// assert_eq!(labels.churned(), [true, true]);
    /// assert!(ChurnLabeler::new().horizon_days(0).labels(&history, day(100)).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn horizon_days(mut self, days: u32) -> Self {
        self.horizon_days = days;
        self
    }

    /// Checks the configuration; [`labels`](Self::labels) and
    /// [`training_set`](Self::training_set) call it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `horizon_days` unless 1 to 36 500.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::features::ChurnLabeler;
    ///
    /// let err = ChurnLabeler::new().horizon_days(0).validate().unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "horizon_days", .. }));
    /// ```
    pub fn validate(&self) -> Result<()> {
        let days = self.horizon_days;
        if !(1..=36_500).contains(&days) {
            return Err(Error::invalid_parameter(
                "horizon_days",
                format!("must be 1 to 36500, got {days}"),
            ));
        }
        Ok(())
    }

    /// The label rule. Defaults to [`LabelRule::NoOrder`].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::*;
    /// # use churnwise::records::*;
    /// # use churnwise::doc_support::day;
    /// # // Customer 1 buys on days 20, 150 and 400, customer 2 on day 5, then cancels on day 120.
    /// # let history = churnwise::doc_support::buy_and_cancel()?;
    /// // Contractual churn: customer 2 cancels on day 120.
    /// let labels = ChurnLabeler::new().rule(LabelRule::Cancellation).labels(&history, day(100))?;
    /// assert_eq!(labels.churned(), [false, true]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn rule(mut self, rule: LabelRule) -> Self {
        self.rule = rule;
        self
    }

    /// Whether to label customers already lapsed at `t`: no purchase in the
    /// `horizon` days up to `t` (for [`LabelRule::NoOrder`]; their label
    /// would only restate the past). Defaults to [`LapsedCustomers::Keep`].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::*;
    /// # use churnwise::records::*;
    /// # use churnwise::doc_support::day;
    /// # // Customer 1 buys on days 20, 150 and 400, customer 2 on day 5, then cancels on day 120.
    /// # let history = churnwise::doc_support::buy_and_cancel()?;
    /// // Customer 2's last purchase (day 5) is more than 90 days before day 100.
    /// let labels = ChurnLabeler::new().lapsed_customers(LapsedCustomers::Exclude).labels(&history, day(100))?;
    /// assert_eq!(labels.ids(), [CustomerId::from(1u64)]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn lapsed_customers(mut self, lapsed: LapsedCustomers) -> Self {
        self.lapsed_customers = lapsed;
        self
    }

    /// The last time the history is complete. Defaults to its last event.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::*;
    /// # use churnwise::records::*;
    /// # use churnwise::doc_support::day;
    /// # // Customer 1 buys on days 20, 150 and 400, customer 2 on day 5, then cancels on day 120.
    /// # let history = churnwise::doc_support::buy_and_cancel()?;
    /// // Day 100 + 90 days is after day 150: those labels would be censored.
    /// let labeler = ChurnLabeler::new().observed_until(day(150));
    /// assert!(labeler.labels(&history, day(100)).is_err());
    /// assert!(labeler.labels(&history, day(60)).is_ok());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn observed_until(mut self, until: DateTime<Utc>) -> Self {
        self.observed_until = Some(until);
        self
    }

    /// The horizon in days.
    pub fn horizon_days_value(&self) -> u32 {
        self.horizon_days
    }

    /// Labels every customer who had signed up by `as_of` (minus those left out).
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate); [`ErrorKind::Censored`] if
    /// `as_of + horizon` is after the end of observation.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::*;
    /// # use churnwise::records::*;
    /// # use churnwise::doc_support::day;
    /// # // Customer 1 buys on days 20, 150 and 400, customer 2 on day 5, then cancels on day 120.
    /// # let history = churnwise::doc_support::buy_and_cancel()?;
    /// let labels = ChurnLabeler::new().labels(&history, day(100))?;
    /// assert_eq!(labels.churned(), [false, true]);
    /// assert!(ChurnLabeler::new().labels(&history, day(350)).is_err()); // day 440 not observed
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn labels(&self, history: &History, as_of: DateTime<Utc>) -> Result<Labels> {
        let (rows, churned) = self.label_rows(history, as_of)?;
        let ids = rows
            .iter()
            .map(|&c| history.customer_ids()[c].clone())
            .collect();
        Ok(Labels { ids, churned })
    }

    /// [`labels`](Self::labels) with the customers' History indices.
    fn label_rows(
        &self,
        history: &History,
        as_of: DateTime<Utc>,
    ) -> Result<(Vec<usize>, Vec<bool>)> {
        self.validate()?;
        let t = to_micros(as_of);
        let h = i64::from(self.horizon_days) * MICROS_PER_DAY;
        let until = match self.observed_until {
            Some(u) => to_micros(u),
            None => history.event_span().map_or(i64::MIN, |(_, last)| last),
        };
        if t + h > until {
            return Err(ErrorKind::Censored {
                as_of,
                needed: from_micros(t + h),
                observed_until: from_micros(until),
            }
            .into());
        }
        let after = |times: &[i64], bound: i64| times.partition_point(|&x| x <= bound);
        let (mut rows, mut churned_all) = (Vec::new(), Vec::new());
        for view in history.customers() {
            let c = view.index();
            if view.signup_micros() > t {
                continue;
            }
            let churned = match self.rule {
                LabelRule::NoOrder => {
                    let orders = view.orders();
                    let (times, amounts) = (orders.micros(), orders.amounts());
                    let purchases = |lo: i64, hi: i64| {
                        amounts[after(times, lo)..after(times, hi)]
                            .iter()
                            .any(|&a| a >= 0.0)
                    };
                    if self.lapsed_customers == LapsedCustomers::Exclude && !purchases(t - h, t) {
                        continue;
                    }
                    !purchases(t, t + h)
                }
                LabelRule::Cancellation => {
                    let interactions = view.interactions();
                    let (times, kinds) = (interactions.micros(), interactions.compact_kinds());
                    let cancelled = |lo: i64, hi: i64| {
                        kinds[after(times, lo)..after(times, hi)]
                            .iter()
                            .any(|k| matches!(k, CompactKind::Cancellation))
                    };
                    if cancelled(i64::MIN, t) {
                        continue;
                    }
                    cancelled(t, t + h)
                }
            };
            rows.push(c);
            churned_all.push(churned);
        }
        Ok((rows, churned_all))
    }

    /// Features at each as-of time with their labels, stacked: one row per
    /// (customer, as-of time), in the order of `as_ofs`, then [`History`] order.
    /// `snapshot` gives the windows; its time is replaced by each of `as_ofs`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Empty`] without as-of times or without any labelled
    /// customer; as for [`labels`](Self::labels) and [`FeatureSpec::extract`].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::*;
    /// # use churnwise::records::*;
    /// # use churnwise::doc_support::day;
    /// # // Customer 1 buys on days 20, 150 and 400, customer 2 on day 5, then cancels on day 120.
    /// # let history = churnwise::doc_support::buy_and_cancel()?;
    /// let times = [day(100), day(200)];
    /// let set = ChurnLabeler::new().training_set(&history, &FeatureSpec::rfm(), &Snapshot::new(times[0]), &times)?;
    /// assert_eq!(set.features().nrows(), 4); // 2 customers × 2 as-of times
    /// assert_eq!(set.labels().to_vec(), [false, true, true, true]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn training_set(
        &self,
        history: &History,
        spec: &FeatureSpec,
        snapshot: &Snapshot,
        as_ofs: &[DateTime<Utc>],
    ) -> Result<TrainingSet> {
        if as_ofs.is_empty() {
            return Err(ErrorKind::Empty("no as-of times for the training set".into()).into());
        }
        // Labels first (small), so the stacked table is allocated once and
        // each as-of time's features are written straight into it: holding
        // a table per time and then their concatenation would triple the
        // peak memory of large training sets.
        let labelled = as_ofs
            .iter()
            .map(|&t| self.label_rows(history, t))
            .collect::<Result<Vec<_>>>()?;
        let total: usize = labelled.iter().map(|(rows, _)| rows.len()).sum();
        let mut ids = Vec::with_capacity(total);
        let mut labels = Vec::with_capacity(total);
        let mut times = Vec::with_capacity(total);
        let mut stacked: Option<(Vec<String>, Vec<f64>)> = None;
        for (&t, (rows, churned)) in as_ofs.iter().zip(labelled) {
            let at = snapshot.at(t);
            let features = spec.resolve(&at)?;
            let k = features.len();
            let (names, values) = stacked.get_or_insert_with(|| {
                let names = features.iter().map(|f| f.name().to_owned()).collect();
                (names, vec![0.0; total * k])
            });
            if names.len() != k
                || features
                    .iter()
                    .zip(names.iter())
                    .any(|(f, n)| f.name() != n)
            {
                return Err(ErrorKind::LengthMismatch {
                    what: "feature tables with the same columns",
                    expected: names.len(),
                    got: k,
                }
                .into());
            }
            let start = ids.len() * k;
            let out = &mut values[start..start + rows.len() * k];
            fill_rows(&features, history, &at, &rows, out);
            ids.extend(rows.iter().map(|&c| history.customer_ids()[c].clone()));
            times.extend(std::iter::repeat_n(t, churned.len()));
            labels.extend(churned);
        }
        let (names, values) = stacked.unwrap_or_default();
        let values = Array2::from_shape_vec((total, names.len()), values)
            .map_err(|e| ErrorKind::Empty(e.to_string()))?;
        let same_time = as_ofs.iter().all(|&t| t == as_ofs[0]);
        let as_of = same_time.then_some(as_ofs[0]);
        let features = FeatureTable::from_parts(ids, names, values, as_of);
        if features.is_empty() {
            return Err(ErrorKind::Empty("no customer to label at the as-of times".into()).into());
        }
        TrainingSet::new(features, Array1::from(labels)).map(|mut s| {
            s.as_ofs = Some(times);
            s
        })
    }
}

/// Features, churn labels and optional sample weights: what a model is fitted on.
///
/// Built by [`ChurnLabeler::training_set`] or from your own data with
/// [`TrainingSet::new`].
///
/// # Example
///
/// ```
/// use churnwise::features::{FeatureTable, TrainingSet};
/// use ndarray::array;
///
/// let x = FeatureTable::new(vec![1u64.into(), 2u64.into()], vec!["recency_days".into()], array![[5.0], [200.0]])?;
/// let set = TrainingSet::new(x, array![false, true])?.with_weights(array![1.0, 2.0])?;
/// assert_eq!(set.positive_rate(), 0.5);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingSet {
    features: FeatureTable,
    labels: Array1<bool>,
    weights: Option<Array1<f64>>,
    as_ofs: Option<Vec<DateTime<Utc>>>,
}

impl TrainingSet {
    /// Features with one label per row.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] unless there is one label per row.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::{FeatureTable, TrainingSet};
    /// use ndarray::array;
    ///
    /// let x = FeatureTable::new(vec![1u64.into(), 2u64.into()], vec!["recency_days".into()], array![[5.0], [200.0]])?;
    /// assert!(TrainingSet::new(x.clone(), array![true]).is_err()); // one label per row
    /// let set = TrainingSet::new(x, array![false, true])?;
    /// assert_eq!(set.labels().len(), 2);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(features: FeatureTable, labels: Array1<bool>) -> Result<Self> {
        if labels.len() != features.nrows() {
            return Err(ErrorKind::LengthMismatch {
                what: "labels per feature-table row",
                expected: features.nrows(),
                got: labels.len(),
            }
            .into());
        }
        // Contiguous, so that `churned` hands out a slice.
        let labels = if labels.as_slice().is_some() {
            labels
        } else {
            labels.iter().copied().collect()
        };
        Ok(TrainingSet {
            features,
            labels,
            weights: None,
            as_ofs: None,
        })
    }

    /// Adds sample weights, one per row.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] unless there is one weight per row;
    /// [`ErrorKind::InvalidParameter`] named `weights` if one is negative or not finite.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     vec![1u64.into(), 2u64.into(), 3u64.into()],
    /// #     vec!["recency_days".into()],
    /// #     array![[5.0], [200.0], [90.0]],
    /// # )?;
    /// # let set = TrainingSet::new(x, array![false, true, true])?;
    /// let weighted = set.clone().with_weights(array![1.0, 3.0, 3.0])?;
    /// assert_eq!(weighted.weights().map(|w| w.sum()), Some(7.0));
    /// assert!(set.with_weights(array![1.0, -1.0, 1.0]).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_weights(mut self, weights: Array1<f64>) -> Result<Self> {
        if weights.len() != self.labels.len() {
            return Err(ErrorKind::LengthMismatch {
                what: "weights per feature-table row",
                expected: self.labels.len(),
                got: weights.len(),
            }
            .into());
        }
        if let Some((i, w)) = weights
            .iter()
            .enumerate()
            .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
        {
            return Err(Error::invalid_parameter(
                "weights",
                format!("must be finite and >= 0, got {w} at row {i}"),
            ));
        }
        self.weights = Some(weights);
        Ok(self)
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// The labels as a slice (`true` = churned), as the
    /// [`metrics`](crate::model::metrics) take them.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::{LogisticRegression, metrics::roc_auc};
    /// # let train = churnwise::doc_support::recency_set()?;
    /// let model = LogisticRegression::new().fit(&train)?;
    /// let p = model.predict_proba_table(train.features())?.to_vec();
    /// assert!(roc_auc(&p, train.churned(), None)? > 0.5);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn churned(&self) -> &[bool] {
        self.labels.as_slice().unwrap_or_default()
    }

    /// Whether the set has no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The features.
    pub fn features(&self) -> &FeatureTable {
        &self.features
    }

    /// The labels (`true` = churned).
    pub fn labels(&self) -> &Array1<bool> {
        &self.labels
    }

    /// The sample weights, if any.
    pub fn weights(&self) -> Option<&Array1<f64>> {
        self.weights.as_ref()
    }

    /// The as-of time of each row, for sets built by [`ChurnLabeler::training_set`].
    pub fn as_ofs(&self) -> Option<&[DateTime<Utc>]> {
        self.as_ofs.as_deref()
    }

    /// The rows at `rows` (in that order), e.g. one fold of a cross-validation.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if an index is out of range.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     vec![1u64.into(), 2u64.into(), 3u64.into()],
    /// #     vec!["recency_days".into()],
    /// #     array![[5.0], [200.0], [90.0]],
    /// # )?;
    /// # let set = TrainingSet::new(x, array![false, true, true])?;
    /// let fold = set.subset(&[2, 0])?;
    /// assert_eq!(fold.labels().to_vec(), [true, false]);
    /// assert_eq!(fold.features().values()[[0, 0]], 90.0);
    /// assert!(set.subset(&[3]).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn subset(&self, rows: &[usize]) -> Result<TrainingSet> {
        let n = self.labels.len();
        if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
            return Err(ErrorKind::LengthMismatch {
                what: "training-set rows for a row index",
                expected: n,
                got: bad + 1,
            }
            .into());
        }
        let (ids, names, values) = self.features.clone().into_parts();
        let features = FeatureTable::from_parts(
            rows.iter().map(|&r| ids[r].clone()).collect(),
            names,
            values.select(ndarray::Axis(0), rows),
            self.features.as_of(),
        );
        Ok(TrainingSet {
            features,
            labels: rows.iter().map(|&r| self.labels[r]).collect(),
            weights: self
                .weights
                .as_ref()
                .map(|w| rows.iter().map(|&r| w[r]).collect()),
            as_ofs: self
                .as_ofs
                .as_ref()
                .map(|t| rows.iter().map(|&r| t[r]).collect()),
        })
    }

    /// The share of rows labelled churned (0 without rows).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::{FeatureTable, TrainingSet};
    /// # use ndarray::array;
    /// # let x = FeatureTable::new(
    /// #     vec![1u64.into(), 2u64.into(), 3u64.into()],
    /// #     vec!["recency_days".into()],
    /// #     array![[5.0], [200.0], [90.0]],
    /// # )?;
    /// # let set = TrainingSet::new(x, array![false, true, true])?;
    /// assert!((set.positive_rate() - 2.0 / 3.0).abs() < 1e-12);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn positive_rate(&self) -> f64 {
        let n = self.labels.len();
        if n == 0 {
            return 0.0;
        }
        self.labels.iter().filter(|&&l| l).count() as f64 / n as f64
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::records::{Customer, HistoryBuilder, Interaction, InteractionKind, Order};

    fn day(d: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + Duration::days(d)
    }

    /// 1 buys on days 10 and 150; 2 on day 10 only; 3 on days 95 and 120;
    /// 4 signs up on day 200; 5 cancels on day 130; the history ends on day 400.
    fn history() -> History {
        let mut b = HistoryBuilder::new();
        for (id, signup) in [(1u64, 0), (2, 0), (3, 0), (4, 200), (5, 0)] {
            b.push_customer(Customer::new(id, day(signup)));
        }
        for (id, d) in [(1u64, 10), (1, 150), (2, 10), (3, 95), (3, 120), (4, 400)] {
            b.push_order(Order::new(id, day(d), 5.0));
        }
        b.push_interaction(Interaction::new(
            5u64,
            day(130),
            InteractionKind::Cancellation,
        ));
        b.build_strict().unwrap()
    }

    fn labelled(l: &Labels) -> Vec<(u64, bool)> {
        l.ids()
            .iter()
            .map(|i| i.as_u64().unwrap())
            .zip(l.churned().iter().copied())
            .collect()
    }

    #[test]
    fn no_order_rule_labels_by_the_next_horizon() {
        let l = ChurnLabeler::new().labels(&history(), day(100)).unwrap();
        // (100, 190]: 1 buys on 150, 2 never, 3 on 120, 5 never; 4 not signed up.
        assert_eq!(labelled(&l), [(1, false), (2, true), (3, false), (5, true)]);
    }

    #[test]
    fn lapsed_customers_can_be_left_out() {
        let l = ChurnLabeler::new()
            .lapsed_customers(LapsedCustomers::Exclude)
            .labels(&history(), day(100))
            .unwrap();
        // Purchases in (10, 100]: only 3 (day 95); 1 and 2 bought on day 10 exactly, outside.
        assert_eq!(labelled(&l), [(3, false)]);
    }

    #[test]
    fn cancellation_rule_leaves_out_those_already_gone() {
        let labeler = ChurnLabeler::new().rule(LabelRule::Cancellation);
        let l = labeler.labels(&history(), day(100)).unwrap();
        assert_eq!(
            labelled(&l),
            [(1, false), (2, false), (3, false), (5, true)]
        );
        let l = labeler.labels(&history(), day(140)).unwrap();
        assert_eq!(labelled(&l), [(1, false), (2, false), (3, false)]);
    }

    #[test]
    fn labels_beyond_the_observed_history_are_refused() {
        let err = ChurnLabeler::new()
            .labels(&history(), day(320))
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Censored { .. }), "{err}");
        let ok = ChurnLabeler::new().labels(&history(), day(310));
        assert!(ok.is_ok());
        let err = ChurnLabeler::new()
            .observed_until(day(200))
            .labels(&history(), day(150))
            .unwrap_err();
        assert!(
            err.to_string().contains("observed until 2024-07-19"),
            "{err}"
        );
    }

    #[test]
    fn training_sets_stack_as_of_times_with_aligned_labels() {
        let labeler = ChurnLabeler::new().lapsed_customers(LapsedCustomers::Exclude);
        let spec = FeatureSpec::new(["recency_days", "orders_total"]);
        let set = labeler
            .training_set(
                &history(),
                &spec,
                &Snapshot::new(day(0)),
                &[day(100), day(200)],
            )
            .unwrap();
        // day 100: only 3 (not churned). day 200: purchases in (110, 200]: 1 (150), 3 (120);
        // (200, 290]: neither buys → both churned.
        assert_eq!(
            set.features().ids(),
            [3u64.into(), 1u64.into(), 3u64.into()]
        );
        assert_eq!(set.labels().to_vec(), [false, true, true]);
        assert_eq!(
            set.features().column("recency_days").unwrap().to_vec(),
            [5.0, 50.0, 80.0]
        );
        assert_eq!(set.as_ofs().unwrap(), [day(100), day(200), day(200)]);
        assert!(matches!(
            labeler
                .training_set(&history(), &spec, &Snapshot::new(day(0)), &[])
                .unwrap_err()
                .kind(),
            ErrorKind::Empty(_)
        ));
    }

    #[test]
    fn training_rows_are_each_times_extracted_features_of_the_labelled() {
        let pop = crate::synth::PopulationConfig::default()
            .customers(400)
            .seed(3)
            .generate()
            .unwrap();
        let (history, _) = pop.history_builder().build().unwrap();
        let at = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
        let (spec, snapshot) = (FeatureSpec::all(), Snapshot::new(at(9)));
        let labeler = ChurnLabeler::new().lapsed_customers(LapsedCustomers::Exclude);
        let times = [at(3), at(6), at(3)];
        let set = labeler
            .training_set(&history, &spec, &snapshot, &times)
            .unwrap();
        let mut row = 0;
        for t in times {
            let table = spec.extract(&history, &snapshot.at(t)).unwrap();
            let labels = labeler.labels(&history, t).unwrap();
            for (id, &churned) in labels.ids().iter().zip(labels.churned()) {
                let i = table.ids().iter().position(|x| x == id).unwrap();
                assert_eq!(&set.features().ids()[row], id);
                assert_eq!(set.features().values().row(row), table.values().row(i));
                assert_eq!(set.labels()[row], churned);
                assert_eq!(set.as_ofs().unwrap()[row], t);
                row += 1;
            }
        }
        assert_eq!(row, set.features().nrows());
        assert_eq!(
            set.features().names(),
            spec.extract(&history, &snapshot).unwrap().names()
        );
        assert_eq!(set.features().as_of(), None);
        let one = labeler
            .training_set(&history, &spec, &snapshot, &[at(3), at(3)])
            .unwrap();
        assert_eq!(one.features().as_of(), Some(at(3)));
    }

    #[test]
    fn validates_parameters_and_weights() {
        assert!(ChurnLabeler::new().horizon_days(0).validate().is_err());
        let x =
            FeatureTable::new(vec![1u64.into()], vec!["a".into()], ndarray::array![[1.0]]).unwrap();
        assert!(TrainingSet::new(x.clone(), ndarray::array![true, false]).is_err());
        let set = TrainingSet::new(x, ndarray::array![true]).unwrap();
        assert!(set.clone().with_weights(ndarray::array![-1.0]).is_err());
        assert!(set.with_weights(ndarray::array![f64::NAN]).is_err());
    }
}
