//! The per-customer view that alerts and retention read.

use chrono::{DateTime, Utc};
use ndarray::Array2;

use super::ChurnScorer;
use crate::features::FeatureTable;
use crate::records::CustomerId;
use crate::segment::{FittedRfm, FittedTiers, LifecyclePolicy, LifecycleStage, RfmSegment, Tier};
use crate::{ErrorKind, Result};

/// Names a [`Profiles`] set answers besides its features; a feature may not
/// take one of them.
///
/// # Example
///
/// ```
/// use churnwise::features::FeatureTable;
/// use churnwise::score::{PROFILE_FIELDS, Profiles};
///
/// assert!(PROFILE_FIELDS.contains(&"churn_probability"));
/// // A feature column may not take a reserved name.
/// let table = FeatureTable::new(vec![1u64.into()], vec!["expected_loss".into()], ndarray::array![[1.0]])?;
/// assert!(Profiles::new(table).is_err());
/// # Ok::<(), churnwise::Error>(())
/// ```
pub const PROFILE_FIELDS: [&str; 7] = [
    "churn_probability",
    "customer_value",
    "expected_loss",
    "rfm_segment",
    "lifecycle_stage",
    "value_tier",
    "engagement_tier",
];

/// One customer's profile, owned: what [`Profiles::get`] returns, and how to
/// bring profiles from a scorer or segmentation of your own
/// ([`Profiles::from_profiles`]).
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
///     .with_lifecycle_stage(LifecycleStage::Silent);
/// assert_eq!(p.feature("recency_days"), Some(120.0));
/// assert_eq!(p.expected_loss(), Some(400.0));
/// let set = Profiles::from_profiles(vec![p.clone()])?;
/// assert_eq!(set.get(0), p);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    id: CustomerId,
    features: Vec<(String, f64)>,
    churn_probability: Option<f64>,
    customer_value: Option<f64>,
    rfm_segment: Option<RfmSegment>,
    lifecycle_stage: Option<LifecycleStage>,
    value_tier: Option<Tier>,
    engagement_tier: Option<Tier>,
}

impl Profile {
    /// A profile with no features and no scores.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    ///
    /// let p = Profile::new(7u64);
    /// assert_eq!(p.id().to_string(), "7");
    /// assert_eq!(p.features().count(), 0);
    /// assert_eq!(p.churn_probability(), None);
    /// ```
    pub fn new(id: impl Into<CustomerId>) -> Self {
        Profile {
            id: id.into(),
            features: Vec::new(),
            churn_probability: None,
            customer_value: None,
            rfm_segment: None,
            lifecycle_stage: None,
            value_tier: None,
            engagement_tier: None,
        }
    }

    /// Adds (or replaces) a feature value.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    ///
    /// let p = Profile::new(7u64).with_feature("recency_days", 30.0).with_feature("recency_days", 45.0);
    /// assert_eq!(p.feature("recency_days"), Some(45.0)); // replaced, not added
    /// assert_eq!(p.features().count(), 1);
    /// ```
    pub fn with_feature(mut self, name: impl Into<String>, value: f64) -> Self {
        let name = name.into();
        match self.features.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.features.push((name, value)),
        }
        self
    }

    /// Sets the churn probability (checked in [`Profiles::from_profiles`]).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    ///
    /// let p = Profile::new(7u64).with_churn_probability(0.25);
    /// assert_eq!(p.churn_probability(), Some(0.25));
    /// ```
    pub fn with_churn_probability(mut self, p: f64) -> Self {
        self.churn_probability = Some(p);
        self
    }

    /// Sets the customer's value: what is lost if they churn, in currency.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    ///
    /// let p = Profile::new(7u64).with_customer_value(800.0).with_churn_probability(0.25);
    /// assert_eq!(p.customer_value(), Some(800.0));
    /// assert_eq!(p.expected_loss(), Some(200.0));
    /// ```
    pub fn with_customer_value(mut self, value: f64) -> Self {
        self.customer_value = Some(value);
        self
    }

    /// Sets the RFM segment.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    /// use churnwise::segment::RfmSegment;
    ///
    /// let p = Profile::new(7u64).with_rfm_segment(RfmSegment::Champions);
    /// assert_eq!(p.rfm_segment(), Some(RfmSegment::Champions));
    /// ```
    pub fn with_rfm_segment(mut self, segment: RfmSegment) -> Self {
        self.rfm_segment = Some(segment);
        self
    }

    /// Sets the lifecycle stage.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    /// use churnwise::segment::LifecycleStage;
    ///
    /// let p = Profile::new(7u64).with_lifecycle_stage(LifecycleStage::AtRisk);
    /// assert_eq!(p.lifecycle_stage(), Some(LifecycleStage::AtRisk));
    /// ```
    pub fn with_lifecycle_stage(mut self, stage: LifecycleStage) -> Self {
        self.lifecycle_stage = Some(stage);
        self
    }

    /// Sets the value tier.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    /// use churnwise::segment::Tier;
    ///
    /// let p = Profile::new(7u64).with_value_tier(Tier::High);
    /// assert_eq!(p.value_tier(), Some(Tier::High));
    /// ```
    pub fn with_value_tier(mut self, tier: Tier) -> Self {
        self.value_tier = Some(tier);
        self
    }

    /// Sets the engagement tier.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    /// use churnwise::segment::Tier;
    ///
    /// let p = Profile::new(7u64).with_engagement_tier(Tier::Low);
    /// assert_eq!(p.engagement_tier(), Some(Tier::Low));
    /// ```
    pub fn with_engagement_tier(mut self, tier: Tier) -> Self {
        self.engagement_tier = Some(tier);
        self
    }

    /// The customer.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::records::CustomerId;
    /// use churnwise::score::Profile;
    ///
    /// assert_eq!(Profile::new(7u64).id(), &CustomerId::from(7u64));
    /// ```
    pub fn id(&self) -> &CustomerId {
        &self.id
    }

    /// A feature's value.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    ///
    /// let p = Profile::new(7u64).with_feature("orders_total", 3.0);
    /// assert_eq!(p.feature("orders_total"), Some(3.0));
    /// assert_eq!(p.feature("spend_total"), None);
    /// ```
    pub fn feature(&self, name: &str) -> Option<f64> {
        self.features.iter().find(|(n, _)| n == name).map(|f| f.1)
    }

    /// The features, in column order.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    ///
    /// let p = Profile::new(7u64).with_feature("b", 2.0).with_feature("a", 1.0);
    /// assert_eq!(p.features().collect::<Vec<_>>(), [("b", 2.0), ("a", 1.0)]);
    /// ```
    pub fn features(&self) -> impl Iterator<Item = (&str, f64)> {
        self.features.iter().map(|(n, v)| (n.as_str(), *v))
    }

    /// The churn probability.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    ///
    /// assert_eq!(Profile::new(7u64).churn_probability(), None);
    /// assert_eq!(Profile::new(7u64).with_churn_probability(0.9).churn_probability(), Some(0.9));
    /// ```
    pub fn churn_probability(&self) -> Option<f64> {
        self.churn_probability
    }

    /// The customer's value.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    ///
    /// assert_eq!(Profile::new(7u64).customer_value(), None);
    /// assert_eq!(Profile::new(7u64).with_customer_value(120.0).customer_value(), Some(120.0));
    /// ```
    pub fn customer_value(&self) -> Option<f64> {
        self.customer_value
    }

    /// Expected value at risk: churn probability × customer value.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    ///
    /// let p = Profile::new(7u64).with_churn_probability(0.5);
    /// assert_eq!(p.expected_loss(), None); // no value yet
    /// assert_eq!(p.with_customer_value(300.0).expected_loss(), Some(150.0));
    /// ```
    pub fn expected_loss(&self) -> Option<f64> {
        Some(self.churn_probability? * self.customer_value?)
    }

    /// The RFM segment.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    /// use churnwise::segment::RfmSegment;
    ///
    /// assert_eq!(Profile::new(7u64).rfm_segment(), None);
    /// assert_eq!(Profile::new(7u64).with_rfm_segment(RfmSegment::Loyal).rfm_segment(), Some(RfmSegment::Loyal));
    /// ```
    pub fn rfm_segment(&self) -> Option<RfmSegment> {
        self.rfm_segment
    }

    /// The lifecycle stage.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    /// use churnwise::segment::LifecycleStage;
    ///
    /// assert_eq!(Profile::new(7u64).lifecycle_stage(), None);
    /// let p = Profile::new(7u64).with_lifecycle_stage(LifecycleStage::Active);
    /// assert_eq!(p.lifecycle_stage(), Some(LifecycleStage::Active));
    /// ```
    pub fn lifecycle_stage(&self) -> Option<LifecycleStage> {
        self.lifecycle_stage
    }

    /// The value tier.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    /// use churnwise::segment::Tier;
    ///
    /// assert_eq!(Profile::new(7u64).value_tier(), None);
    /// assert_eq!(Profile::new(7u64).with_value_tier(Tier::Mid).value_tier(), Some(Tier::Mid));
    /// ```
    pub fn value_tier(&self) -> Option<Tier> {
        self.value_tier
    }

    /// The engagement tier.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::Profile;
    /// use churnwise::segment::Tier;
    ///
    /// assert_eq!(Profile::new(7u64).engagement_tier(), None);
    /// assert_eq!(Profile::new(7u64).with_engagement_tier(Tier::High).engagement_tier(), Some(Tier::High));
    /// ```
    pub fn engagement_tier(&self) -> Option<Tier> {
        self.engagement_tier
    }
}

/// Every customer's profile, column by column: features (a
/// [`FeatureTable`]) plus the optional churn probability, customer value,
/// RFM segment, lifecycle stage and value / engagement tiers.
///
/// Assemble it in one chain from a table, a scorer and fitted segmentations
/// (each step validates lengths and values), or from hand-made [`Profile`]s.
/// Alerts and retention read nothing else, so they work with a scorer or
/// segmentation of your own.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::{FeatureSpec, Snapshot};
/// use churnwise::score::Profiles;
/// use churnwise::segment::{LifecyclePolicy, Rfm, Tiers};
/// use churnwise::synth::PopulationConfig;
///
/// let (history, _) = PopulationConfig::default().customers(500).generate()?.history_builder().build()?;
/// let table = FeatureSpec::all().extract(&history, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
/// let rfm = Rfm::new().fit(&table)?;
/// let value = Tiers::value().fit(&table)?;
/// let table_rows = table.nrows();
/// let profiles = Profiles::new(table)?
///     .segment_rfm(&rfm)?
///     .stage_lifecycle(&LifecyclePolicy::default())?
///     .tier_value(&value)?
///     .values_from_column("spend_180d")?;
/// assert_eq!(profiles.len(), table_rows); // customers signed up by the as-of time
/// assert!(profiles.get(0).rfm_segment().is_some());
/// assert!(profiles.churn_probabilities().is_none()); // no scorer given
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Profiles {
    table: FeatureTable,
    churn_probability: Option<Vec<f64>>,
    customer_value: Option<Vec<f64>>,
    rfm_segment: Option<Vec<RfmSegment>>,
    lifecycle_stage: Option<Vec<LifecycleStage>>,
    value_tier: Option<Vec<Tier>>,
    engagement_tier: Option<Vec<Tier>>,
}

impl Profiles {
    /// Profiles holding only the table's features.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::DuplicateName`] if a column takes one of the
    /// [`PROFILE_FIELDS`] names.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::FeatureTable;
    /// use churnwise::score::Profiles;
    /// use ndarray::array;
    ///
    /// let table = FeatureTable::new((1..=2u64).map(Into::into).collect(), vec!["recency_days".into()], array![[10.0], [90.0]])?;
    /// let profiles = Profiles::new(table)?;
    /// assert_eq!(profiles.len(), 2);
    /// assert_eq!(profiles.field_names(), ["recency_days"]); // nothing else set yet
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(table: FeatureTable) -> Result<Self> {
        if let Some(name) = table
            .names()
            .iter()
            .find(|n| PROFILE_FIELDS.contains(&n.as_str()))
        {
            return Err(ErrorKind::DuplicateName {
                what: "profile field (a feature column takes a reserved name)",
                name: name.clone(),
            }
            .into());
        }
        Ok(Profiles {
            table,
            churn_probability: None,
            customer_value: None,
            rfm_segment: None,
            lifecycle_stage: None,
            value_tier: None,
            engagement_tier: None,
        })
    }

    /// Profiles from hand-made [`Profile`]s. The first profile's features
    /// set the column order; every profile must have the same features and
    /// either all or none of each optional field.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Empty`] for no profiles; [`ErrorKind::MissingValue`]
    /// naming the profile (its index and id) and the feature or field it
    /// lacks; [`ErrorKind::DuplicateName`] for a repeated customer or a
    /// reserved feature name; the checks of the `with_*` setters.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::score::{Profile, Profiles};
    ///
    /// let profiles = Profiles::from_profiles(vec![
    ///     Profile::new(1u64).with_feature("recency_days", 10.0).with_churn_probability(0.1),
    ///     Profile::new(2u64).with_feature("recency_days", 90.0).with_churn_probability(0.7),
    /// ])?;
    /// assert_eq!(profiles.churn_probabilities(), Some(&[0.1, 0.7][..]));
    /// // Either every profile has a field or none does.
    /// assert!(Profiles::from_profiles(vec![Profile::new(1u64), Profile::new(2u64).with_churn_probability(0.5)]).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_profiles(profiles: Vec<Profile>) -> Result<Self> {
        let first = profiles
            .first()
            .ok_or_else(|| ErrorKind::Empty("profiles".into()))?;
        let names: Vec<String> = first.features.iter().map(|f| f.0.clone()).collect();
        let mut values = Array2::zeros((profiles.len(), names.len()));
        for (i, p) in profiles.iter().enumerate() {
            let missing = |field: &str| ErrorKind::MissingValue {
                record: format!("profile {i} (customer {})", p.id),
                field: field.to_owned(),
            };
            if p.features.len() != names.len() {
                let extra = p.features.iter().find(|f| !names.contains(&f.0));
                let absent = names.iter().find(|n| p.feature(n).is_none());
                return Err(match (extra, absent) {
                    (_, Some(n)) => missing(n),
                    (Some(f), None) => ErrorKind::MissingValue {
                        record: "profile 0".into(),
                        field: f.0.clone(),
                    },
                    (None, None) => missing("features"),
                }
                .into());
            }
            for (j, name) in names.iter().enumerate() {
                values[[i, j]] = p.feature(name).ok_or_else(|| missing(name))?;
            }
        }
        let ids: Vec<CustomerId> = profiles.iter().map(|p| p.id.clone()).collect();
        let mut sorted: Vec<&CustomerId> = ids.iter().collect();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(ErrorKind::DuplicateName {
                what: "customer in profiles",
                name: w[0].to_string(),
            }
            .into());
        }
        let mut out = Profiles::new(FeatureTable::new(ids, names, values)?)?;
        out.churn_probability =
            all_or_none(&profiles, "churn_probability", |p| p.churn_probability)?;
        out.customer_value = all_or_none(&profiles, "customer_value", |p| p.customer_value)?;
        if let Some(p) = all_or_none(&profiles, "churn_probability", |p| p.churn_probability)? {
            out = out.with_churn_probabilities(p)?;
        }
        if let Some(v) = all_or_none(&profiles, "customer_value", |p| p.customer_value)? {
            out = out.with_customer_values(v)?;
        }
        out.rfm_segment = all_or_none(&profiles, "rfm_segment", |p| p.rfm_segment)?;
        out.lifecycle_stage = all_or_none(&profiles, "lifecycle_stage", |p| p.lifecycle_stage)?;
        out.value_tier = all_or_none(&profiles, "value_tier", |p| p.value_tier)?;
        out.engagement_tier = all_or_none(&profiles, "engagement_tier", |p| p.engagement_tier)?;
        Ok(out)
    }

    /// Sets the churn probabilities, one per row.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`]; [`ErrorKind::OutOfRange`] naming the row
    /// of a value that is not a probability in [0, 1].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// # let table = FeatureTable::new((1..=2u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0]])?;
    /// let profiles = Profiles::new(table)?.with_churn_probabilities(vec![0.2, 0.6])?;
    /// assert_eq!(profiles.get(1).churn_probability(), Some(0.6));
    /// assert!(profiles.clone().with_churn_probabilities(vec![0.2, 1.5]).is_err()); // not a probability
    /// assert!(profiles.with_churn_probabilities(vec![0.2]).is_err()); // wrong length
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_churn_probabilities(mut self, p: Vec<f64>) -> Result<Self> {
        self.check_column("churn_probability", &p, 0.0, 1.0)?;
        self.churn_probability = Some(p);
        Ok(self)
    }

    /// Scores every row with a scorer.
    ///
    /// # Errors
    ///
    /// As for [`ChurnScorer::score_table`].
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureTable, Snapshot, TrainingSet};
    /// # use churnwise::model::LogisticRegression;
    /// # use churnwise::score::{ChurnScorer, Profiles};
    /// # use ndarray::array;
    /// # let table = FeatureTable::new((0..4u64).map(Into::into).collect(), vec!["recency_days".into()], array![[1.0], [20.0], [90.0], [200.0]])?;
    /// # let model = LogisticRegression::new().fit(&TrainingSet::new(table.clone(), array![false, true, false, true])?)?;
    /// # let scorer = ChurnScorer::new(model, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// let profiles = Profiles::new(table.clone())?.score_with(&scorer)?;
    /// assert_eq!(profiles.churn_probabilities(), Some(scorer.score_table(&table)?.as_slice().unwrap()));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn score_with(self, scorer: &ChurnScorer) -> Result<Self> {
        let p = scorer.score_table(&self.table)?.to_vec();
        self.with_churn_probabilities(p)
    }

    /// Sets each customer's value (what churn would lose, in currency, ≥ 0),
    /// e.g. a CLV forecast.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`]; [`ErrorKind::OutOfRange`] naming the row
    /// of a negative, NaN or infinite value.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// # let table = FeatureTable::new((1..=2u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0]])?;
    /// let profiles = Profiles::new(table)?.with_customer_values(vec![500.0, 80.0])?;
    /// assert_eq!(profiles.customer_values(), Some(&[500.0, 80.0][..]));
    /// assert!(profiles.with_customer_values(vec![500.0, -1.0]).is_err()); // values are ≥ 0
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_customer_values(mut self, values: Vec<f64>) -> Result<Self> {
        self.check_column("customer_value", &values, 0.0, f64::INFINITY)?;
        self.customer_value = Some(values);
        Ok(self)
    }

    /// Takes each customer's value from a feature column (e.g. `spend_180d`;
    /// negative net amounts count as 0).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] for a column the table lacks.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// # let table = FeatureTable::new((1..=2u64).map(Into::into).collect(), vec!["spend_180d".into()], ndarray::array![[250.0], [-20.0]])?;
    /// let profiles = Profiles::new(table)?.values_from_column("spend_180d")?;
    /// assert_eq!(profiles.customer_values(), Some(&[250.0, 0.0][..])); // refunds count as 0
    /// assert!(profiles.values_from_column("spend_total").is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn values_from_column(self, name: &str) -> Result<Self> {
        let values = self
            .table
            .column(name)?
            .iter()
            .map(|v| v.max(0.0))
            .collect();
        self.with_customer_values(values)
    }

    /// Assigns RFM segments with a fitted RFM model.
    ///
    /// # Errors
    ///
    /// As for [`FittedRfm::apply`].
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureSpec, Snapshot};
    /// use churnwise::score::Profiles;
    /// use churnwise::segment::Rfm;
    /// # use churnwise::synth::PopulationConfig;
    /// # let (history, _) = PopulationConfig::default().customers(100).generate()?.history_builder().build()?;
    /// # let table = FeatureSpec::all().extract(&history, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// let rfm = Rfm::new().fit(&table)?;
    /// let profiles = Profiles::new(table)?.segment_rfm(&rfm)?;
    /// assert_eq!(profiles.rfm_segments().map(<[_]>::len), Some(profiles.len()));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn segment_rfm(self, rfm: &FittedRfm) -> Result<Self> {
        let segments = rfm
            .apply(&self.table)?
            .iter()
            .map(|s| s.segment())
            .collect();
        self.with_rfm_segments(segments)
    }

    /// Assigns lifecycle stages; the churn probabilities, when already set,
    /// replace the behavioural at-risk signals (see [`LifecyclePolicy::apply`]).
    ///
    /// # Errors
    ///
    /// As for [`LifecyclePolicy::apply`].
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureSpec, Snapshot};
    /// use churnwise::score::Profiles;
    /// use churnwise::segment::LifecyclePolicy;
    /// # use churnwise::synth::PopulationConfig;
    /// # let (history, _) = PopulationConfig::default().customers(100).generate()?.history_builder().build()?;
    /// # let table = FeatureSpec::all().extract(&history, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// let profiles = Profiles::new(table)?.stage_lifecycle(&LifecyclePolicy::default())?;
    /// assert!(profiles.get(0).lifecycle_stage().is_some());
    /// assert_eq!(profiles.lifecycle_stages().map(<[_]>::len), Some(profiles.len()));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn stage_lifecycle(self, policy: &LifecyclePolicy) -> Result<Self> {
        let stages = policy.apply(&self.table, self.churn_probability.as_deref())?;
        self.with_lifecycle_stages(stages)
    }

    /// Assigns value tiers with fitted tiers.
    ///
    /// # Errors
    ///
    /// As for [`FittedTiers::apply`].
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureSpec, Snapshot};
    /// use churnwise::score::Profiles;
    /// use churnwise::segment::{Tier, Tiers};
    /// # use churnwise::synth::PopulationConfig;
    /// # let (history, _) = PopulationConfig::default().customers(100).generate()?.history_builder().build()?;
    /// # let table = FeatureSpec::all().extract(&history, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// let profiles = Profiles::new(table.clone())?.tier_value(&Tiers::value().fit(&table)?)?;
    /// let tiers = profiles.value_tiers().unwrap();
    /// assert!(tiers.contains(&Tier::High) && tiers.contains(&Tier::Low));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn tier_value(self, tiers: &FittedTiers) -> Result<Self> {
        let tiers = tiers.apply(&self.table)?;
        self.with_value_tiers(tiers)
    }

    /// Assigns engagement tiers with fitted tiers.
    ///
    /// # Errors
    ///
    /// As for [`FittedTiers::apply`].
    ///
    /// # Example
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureSpec, Snapshot};
    /// use churnwise::score::Profiles;
    /// use churnwise::segment::Tiers;
    /// # use churnwise::synth::PopulationConfig;
    /// # let (history, _) = PopulationConfig::default().customers(100).generate()?.history_builder().build()?;
    /// # let table = FeatureSpec::all().extract(&history, &Snapshot::new(Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()))?;
    /// let profiles = Profiles::new(table.clone())?.tier_engagement(&Tiers::engagement().fit(&table)?)?;
    /// assert_eq!(profiles.engagement_tiers().map(<[_]>::len), Some(profiles.len()));
    /// assert!(profiles.field_names().contains(&"engagement_tier"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn tier_engagement(self, tiers: &FittedTiers) -> Result<Self> {
        let tiers = tiers.apply(&self.table)?;
        self.with_engagement_tiers(tiers)
    }

    /// Sets the RFM segments, one per row (from a segmentation of your own).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// use churnwise::segment::RfmSegment;
    /// # let table = FeatureTable::new((1..=2u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0]])?;
    /// let profiles = Profiles::new(table)?.with_rfm_segments(vec![RfmSegment::Champions, RfmSegment::Loyal])?;
    /// assert_eq!(profiles.get(1).rfm_segment(), Some(RfmSegment::Loyal));
    /// assert!(profiles.with_rfm_segments(vec![RfmSegment::Loyal]).is_err()); // one per row
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_rfm_segments(mut self, segments: Vec<RfmSegment>) -> Result<Self> {
        self.check_len("rfm_segment", segments.len())?;
        self.rfm_segment = Some(segments);
        Ok(self)
    }

    /// Sets the lifecycle stages, one per row.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// use churnwise::segment::LifecycleStage;
    /// # let table = FeatureTable::new((1..=2u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0]])?;
    /// let profiles = Profiles::new(table)?.with_lifecycle_stages(vec![LifecycleStage::Active, LifecycleStage::Silent])?;
    /// assert_eq!(profiles.lifecycle_stages(), Some(&[LifecycleStage::Active, LifecycleStage::Silent][..]));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_lifecycle_stages(mut self, stages: Vec<LifecycleStage>) -> Result<Self> {
        self.check_len("lifecycle_stage", stages.len())?;
        self.lifecycle_stage = Some(stages);
        Ok(self)
    }

    /// Sets the value tiers, one per row.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// use churnwise::segment::Tier;
    /// # let table = FeatureTable::new((1..=2u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0]])?;
    /// let profiles = Profiles::new(table)?.with_value_tiers(vec![Tier::High, Tier::Low])?;
    /// assert_eq!(profiles.get(0).value_tier(), Some(Tier::High));
    /// assert!(profiles.with_value_tiers(vec![]).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_value_tiers(mut self, tiers: Vec<Tier>) -> Result<Self> {
        self.check_len("value_tier", tiers.len())?;
        self.value_tier = Some(tiers);
        Ok(self)
    }

    /// Sets the engagement tiers, one per row.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`].
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// use churnwise::segment::Tier;
    /// # let table = FeatureTable::new((1..=2u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0]])?;
    /// let profiles = Profiles::new(table)?.with_engagement_tiers(vec![Tier::Mid, Tier::Mid])?;
    /// assert_eq!(profiles.engagement_tiers(), Some(&[Tier::Mid, Tier::Mid][..]));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn with_engagement_tiers(mut self, tiers: Vec<Tier>) -> Result<Self> {
        self.check_len("engagement_tier", tiers.len())?;
        self.engagement_tier = Some(tiers);
        Ok(self)
    }

    /// The number of customers.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// # let table = FeatureTable::new((1..=3u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0], [200.0]])?;
    /// assert_eq!(Profiles::new(table)?.len(), 3);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.table.nrows()
    }

    /// Whether there are no customers.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// # let table = FeatureTable::new((1..=3u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0], [200.0]])?;
    /// assert!(!Profiles::new(table)?.is_empty());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The customers, in row order.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// use churnwise::records::CustomerId;
    /// # let table = FeatureTable::new((1..=3u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0], [200.0]])?;
    /// let profiles = Profiles::new(table)?;
    /// assert_eq!(profiles.ids()[2], CustomerId::from(3u64));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn ids(&self) -> &[CustomerId] {
        self.table.ids()
    }

    /// The features.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// # let table = FeatureTable::new((1..=3u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0], [200.0]])?;
    /// let profiles = Profiles::new(table.clone())?;
    /// assert_eq!(profiles.table(), &table);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn table(&self) -> &FeatureTable {
        &self.table
    }

    /// The as-of time of the features, when known.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// # use churnwise::features::{FeatureSpec, Snapshot};
    /// # use churnwise::score::Profiles;
    /// # use churnwise::synth::PopulationConfig;
    /// # let (history, _) = PopulationConfig::default().customers(50).generate()?.history_builder().build()?;
    /// let as_of = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
    /// let table = FeatureSpec::new(["recency_days"]).extract(&history, &Snapshot::new(as_of))?;
    /// assert_eq!(Profiles::new(table)?.as_of(), Some(as_of));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn as_of(&self) -> Option<DateTime<Utc>> {
        self.table.as_of()
    }

    /// Churn probabilities, if set.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// # let table = FeatureTable::new((1..=3u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0], [200.0]])?;
    /// let profiles = Profiles::new(table)?;
    /// assert_eq!(profiles.churn_probabilities(), None);
    /// let profiles = profiles.with_churn_probabilities(vec![0.1, 0.4, 0.8])?;
    /// assert_eq!(profiles.churn_probabilities(), Some(&[0.1, 0.4, 0.8][..]));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn churn_probabilities(&self) -> Option<&[f64]> {
        self.churn_probability.as_deref()
    }

    /// Customer values, if set.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// # let table = FeatureTable::new((1..=3u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0], [200.0]])?;
    /// let profiles = Profiles::new(table)?;
    /// assert_eq!(profiles.customer_values(), None);
    /// let profiles = profiles.with_customer_values(vec![10.0, 0.0, 99.5])?;
    /// assert_eq!(profiles.customer_values(), Some(&[10.0, 0.0, 99.5][..]));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn customer_values(&self) -> Option<&[f64]> {
        self.customer_value.as_deref()
    }

    /// RFM segments, if set.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// use churnwise::segment::RfmSegment;
    /// # let table = FeatureTable::new((1..=1u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0]])?;
    /// let profiles = Profiles::new(table)?;
    /// assert_eq!(profiles.rfm_segments(), None);
    /// assert_eq!(profiles.with_rfm_segments(vec![RfmSegment::Champions])?.rfm_segments(), Some(&[RfmSegment::Champions][..]));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn rfm_segments(&self) -> Option<&[RfmSegment]> {
        self.rfm_segment.as_deref()
    }

    /// Lifecycle stages, if set.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// use churnwise::segment::LifecycleStage;
    /// # let table = FeatureTable::new((1..=1u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0]])?;
    /// let profiles = Profiles::new(table)?;
    /// assert_eq!(profiles.lifecycle_stages(), None);
    /// let staged = profiles.with_lifecycle_stages(vec![LifecycleStage::New])?;
    /// assert_eq!(staged.lifecycle_stages(), Some(&[LifecycleStage::New][..]));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn lifecycle_stages(&self) -> Option<&[LifecycleStage]> {
        self.lifecycle_stage.as_deref()
    }

    /// Value tiers, if set.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// use churnwise::segment::Tier;
    /// # let table = FeatureTable::new((1..=1u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0]])?;
    /// let profiles = Profiles::new(table)?;
    /// assert_eq!(profiles.value_tiers(), None);
    /// assert_eq!(profiles.with_value_tiers(vec![Tier::Low])?.value_tiers(), Some(&[Tier::Low][..]));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn value_tiers(&self) -> Option<&[Tier]> {
        self.value_tier.as_deref()
    }

    /// Engagement tiers, if set.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// use churnwise::segment::Tier;
    /// # let table = FeatureTable::new((1..=1u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0]])?;
    /// let profiles = Profiles::new(table)?;
    /// assert_eq!(profiles.engagement_tiers(), None);
    /// assert_eq!(profiles.with_engagement_tiers(vec![Tier::High])?.engagement_tiers(), Some(&[Tier::High][..]));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn engagement_tiers(&self) -> Option<&[Tier]> {
        self.engagement_tier.as_deref()
    }

    /// Expected value at risk of row `i`: churn probability × customer value,
    /// when both are set (`None` also for a row out of range).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// # let table = FeatureTable::new((1..=2u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0]])?;
    /// let profiles = Profiles::new(table)?.with_churn_probabilities(vec![0.1, 0.5])?;
    /// assert_eq!(profiles.expected_loss(1), None); // no values yet
    /// let profiles = profiles.with_customer_values(vec![100.0, 300.0])?;
    /// assert_eq!(profiles.expected_loss(1), Some(150.0));
    /// assert_eq!(profiles.expected_loss(2), None); // out of range
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn expected_loss(&self, i: usize) -> Option<f64> {
        Some(self.churn_probability.as_ref()?.get(i)? * self.customer_value.as_ref()?.get(i)?)
    }

    /// Row `i` as an owned [`Profile`].
    ///
    /// # Panics
    ///
    /// If `i >= self.len()`, like slice indexing.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// # let table = FeatureTable::new((1..=2u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0]])?;
    /// let profiles = Profiles::new(table)?.with_churn_probabilities(vec![0.1, 0.5])?;
    /// let p = profiles.get(1);
    /// assert_eq!(p.feature("recency_days"), Some(90.0));
    /// assert_eq!(p.churn_probability(), Some(0.5));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn get(&self, i: usize) -> Profile {
        let values = self.table.values();
        let row = values.row(i);
        Profile {
            id: self.table.ids()[i].clone(),
            features: self
                .table
                .names()
                .iter()
                .cloned()
                .zip(row.iter().copied())
                .collect(),
            churn_probability: self.churn_probability.as_ref().map(|v| v[i]),
            customer_value: self.customer_value.as_ref().map(|v| v[i]),
            rfm_segment: self.rfm_segment.as_ref().map(|v| v[i]),
            lifecycle_stage: self.lifecycle_stage.as_ref().map(|v| v[i]),
            value_tier: self.value_tier.as_ref().map(|v| v[i]),
            engagement_tier: self.engagement_tier.as_ref().map(|v| v[i]),
        }
    }

    /// The names a condition can read: the features, then the optional
    /// fields that are set.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::features::FeatureTable;
    /// # use churnwise::score::Profiles;
    /// # let table = FeatureTable::new((1..=2u64).map(Into::into).collect(), vec!["recency_days".into()], ndarray::array![[10.0], [90.0]])?;
    /// let profiles = Profiles::new(table)?
    ///     .with_churn_probabilities(vec![0.1, 0.5])?
    ///     .with_customer_values(vec![100.0, 300.0])?;
    /// assert_eq!(profiles.field_names(), ["recency_days", "churn_probability", "customer_value", "expected_loss"]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn field_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.table.names().iter().map(String::as_str).collect();
        let set = [
            self.churn_probability.is_some(),
            self.customer_value.is_some(),
            self.churn_probability.is_some() && self.customer_value.is_some(),
            self.rfm_segment.is_some(),
            self.lifecycle_stage.is_some(),
            self.value_tier.is_some(),
            self.engagement_tier.is_some(),
        ];
        names.extend(PROFILE_FIELDS.iter().zip(set).filter(|f| f.1).map(|f| *f.0));
        names
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

    fn check_column(&self, field: &'static str, v: &[f64], lo: f64, hi: f64) -> Result<()> {
        self.check_len(field, v.len())?;
        match v
            .iter()
            .position(|x| !(x.is_finite() && (lo..=hi).contains(x)))
        {
            Some(row) => Err(ErrorKind::OutOfRange {
                what: field,
                row,
                value: v[row],
                min: lo,
                max: hi,
            }
            .into()),
            None => Ok(()),
        }
    }
}

/// `field` of every profile, or of none.
fn all_or_none<T>(
    profiles: &[Profile],
    field: &str,
    get: impl Fn(&Profile) -> Option<T>,
) -> Result<Option<Vec<T>>> {
    if get(&profiles[0]).is_none() {
        return match profiles.iter().position(|p| get(p).is_some()) {
            Some(i) => Err(ErrorKind::MissingValue {
                record: "profile 0".into(),
                field: format!("{field} (set on profile {i})"),
            }
            .into()),
            None => Ok(None),
        };
    }
    profiles
        .iter()
        .enumerate()
        .map(|(i, p)| {
            get(p).ok_or_else(|| {
                ErrorKind::MissingValue {
                    record: format!("profile {i} (customer {})", p.id),
                    field: field.to_owned(),
                }
                .into()
            })
        })
        .collect::<Result<Vec<T>>>()
        .map(Some)
}
