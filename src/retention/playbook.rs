//! Interventions and the playbook that says who is eligible for which.

use std::collections::BTreeMap;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::rules::{Condition, Path, Route};
use crate::score::Profiles;
use crate::{ErrorKind, Result};

/// What an intervention does.
///
/// # Example
///
/// ```
/// use churnwise::retention::InterventionKind;
///
/// let kind: InterventionKind = serde_json::from_str("\"free_repair\"").unwrap();
/// assert_eq!(kind, InterventionKind::FreeRepair);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InterventionKind {
    /// A limited-time discount or coupon.
    Discount,
    /// VIP or personalised service.
    VipService,
    /// Free inspection or repair after a product complaint.
    FreeRepair,
    /// A personal call-back from an account manager.
    PersonalCallBack,
    /// Loyalty points and member benefits.
    LoyaltyPoints,
    /// A care message (birthday, holiday, check-in).
    CareMessage,
    /// A win-back campaign for customers who went quiet.
    Reactivation,
    /// An onboarding programme for new customers.
    Onboarding,
    /// Anything else, by name.
    Custom(String),
}

/// Which profile field defines the segments that effects are known for:
/// a built-in category, or any category field by name (`plan`, `region`,
/// `cluster`, a column of your own).
///
/// In documents it is the field's name: `segment_by = "plan"`.
///
/// # Example
///
/// ```
/// use churnwise::retention::SegmentBy;
///
/// assert_eq!(SegmentBy::default(), SegmentBy::LifecycleStage);
/// assert_eq!(SegmentBy::from_name("value_tier"), SegmentBy::ValueTier);
/// assert_eq!(SegmentBy::from_name("plan"), SegmentBy::Field("plan".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SegmentBy {
    /// The lifecycle stage (new, active, silent, at risk, churned).
    #[default]
    LifecycleStage,
    /// The RFM segment.
    RfmSegment,
    /// The value tier.
    ValueTier,
    /// The engagement tier.
    EngagementTier,
    /// Any other category field, by name.
    Field(String),
}

impl SegmentBy {
    /// The segmentation by the field `name`.
    pub fn from_name(name: &str) -> SegmentBy {
        match name {
            "lifecycle_stage" => SegmentBy::LifecycleStage,
            "rfm_segment" => SegmentBy::RfmSegment,
            "value_tier" => SegmentBy::ValueTier,
            "engagement_tier" => SegmentBy::EngagementTier,
            other => SegmentBy::Field(other.to_owned()),
        }
    }

    /// The profile field's name.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::SegmentBy;
    ///
    /// assert_eq!(SegmentBy::LifecycleStage.field(), "lifecycle_stage");
    /// assert_eq!(SegmentBy::Field("plan".into()).field(), "plan");
    /// ```
    pub fn field(&self) -> &str {
        match self {
            SegmentBy::LifecycleStage => "lifecycle_stage",
            SegmentBy::RfmSegment => "rfm_segment",
            SegmentBy::ValueTier => "value_tier",
            SegmentBy::EngagementTier => "engagement_tier",
            SegmentBy::Field(name) => name,
        }
    }

    /// Each profile's segment label (`(none)` for a customer without one),
    /// or `None` if the profiles lack the field or it is not a category.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::SegmentBy;
    /// use churnwise::score::{Profile, Profiles};
    /// use churnwise::segment::LifecycleStage;
    ///
    /// let profiles = Profiles::from_profiles(vec![
    ///     Profile::new(1u64).with_lifecycle_stage(LifecycleStage::Silent).with_label("plan", "gold"),
    ///     Profile::new(2u64).with_lifecycle_stage(LifecycleStage::AtRisk).with_label("plan", "basic"),
    /// ])?;
    /// assert_eq!(SegmentBy::LifecycleStage.labels(&profiles), Some(vec!["silent", "at_risk"]));
    /// assert_eq!(SegmentBy::from_name("plan").labels(&profiles), Some(vec!["gold", "basic"]));
    /// assert_eq!(SegmentBy::ValueTier.labels(&profiles), None); // no value tiers set
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn labels<'a>(&self, profiles: &'a Profiles) -> Option<Vec<&'a str>> {
        let category = profiles.category(self.field())?;
        Some(category.iter().map(|l| l.unwrap_or(NO_SEGMENT)).collect())
    }
}

/// The segment of a customer without a label in the playbook's field.
const NO_SEGMENT: &str = "(none)";

impl fmt::Display for SegmentBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.field())
    }
}

impl Serialize for SegmentBy {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.field())
    }
}

impl<'de> Deserialize<'de> for SegmentBy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        if name.trim().is_empty() {
            return Err(serde::de::Error::custom("segment_by needs a field name"));
        }
        Ok(SegmentBy::from_name(&name))
    }
}

/// One retention action: what it costs, how much it is expected to cut a
/// customer's churn probability, who may receive it, which team delivers
/// it and how many it can serve.
///
/// The effect is a relative reduction: 0.3 turns a churn probability of
/// 0.5 into 0.35. It may differ by segment (see [`SegmentBy`]); segments
/// without their own figure use the default.
///
/// # Example
///
/// ```
/// use churnwise::rules::{Condition, Route};
/// use churnwise::retention::{Intervention, InterventionKind};
///
/// let repair = Intervention::new("free_repair", InterventionKind::FreeRepair, 40.0, 0.3, Route::AfterSales)
///     .with_name("Free inspection or repair")
///     .with_segment_effect("at_risk", 0.45)
///     .with_eligibility(Condition::field("complaints_90d").gte(1))
///     .with_capacity(500);
/// assert_eq!(repair.effect_for(Some("at_risk")), 0.45);
/// assert_eq!(repair.effect_for(Some("silent")), 0.3);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intervention {
    id: String,
    #[serde(default)]
    name: String,
    kind: InterventionKind,
    cost: f64,
    effect: f64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    effect_by_segment: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    eligibility: Option<Condition>,
    owner: Route,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    capacity: Option<usize>,
}

impl Intervention {
    /// An intervention open to everyone, without a capacity limit.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Route;
    /// use churnwise::retention::{Intervention, InterventionKind};
    ///
    /// let repair = Intervention::new("free_repair", InterventionKind::FreeRepair, 40.0, 0.3, Route::AfterSales);
    /// assert_eq!(repair.name(), "free_repair"); // the id until `with_name`
    /// assert_eq!((repair.eligibility(), repair.capacity()), (None, None));
    /// ```
    pub fn new(
        id: impl Into<String>,
        kind: InterventionKind,
        cost: f64,
        effect: f64,
        owner: Route,
    ) -> Self {
        let id = id.into();
        Intervention {
            name: id.clone(),
            id,
            kind,
            cost,
            effect,
            effect_by_segment: BTreeMap::new(),
            eligibility: None,
            owner,
            capacity: None,
        }
    }

    /// Sets the display name.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::rules::Route;
    /// # use churnwise::retention::{Intervention, InterventionKind};
    /// let repair = Intervention::new("free_repair", InterventionKind::FreeRepair, 40.0, 0.3, Route::AfterSales).with_name("Free inspection or repair");
    /// assert_eq!(repair.name(), "Free inspection or repair");
    /// assert_eq!(repair.id(), "free_repair");
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the effect for one segment.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::rules::Route;
    /// # use churnwise::retention::{Intervention, InterventionKind};
    /// let repair = Intervention::new("free_repair", InterventionKind::FreeRepair, 40.0, 0.3, Route::AfterSales).with_segment_effect("at_risk", 0.45);
    /// assert_eq!(repair.effect_for(Some("at_risk")), 0.45);
    /// assert_eq!(repair.effect(), 0.3); // the default is unchanged
    /// ```
    pub fn with_segment_effect(mut self, segment: impl Into<String>, effect: f64) -> Self {
        self.effect_by_segment.insert(segment.into(), effect);
        self
    }

    /// Restricts it to customers meeting `condition`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Condition;
    /// # use churnwise::rules::Route;
    /// # use churnwise::retention::{Intervention, InterventionKind};
    /// let repair = Intervention::new("free_repair", InterventionKind::FreeRepair, 40.0, 0.3, Route::AfterSales).with_eligibility(Condition::field("complaints_90d").gte(1));
    /// assert_eq!(repair.eligibility().map(|c| c.to_string()), Some("complaints_90d >= 1".into()));
    /// ```
    pub fn with_eligibility(mut self, condition: Condition) -> Self {
        self.eligibility = Some(condition);
        self
    }

    /// At most `n` customers.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::rules::Route;
    /// # use churnwise::retention::{Intervention, InterventionKind};
    /// let repair = Intervention::new("free_repair", InterventionKind::FreeRepair, 40.0, 0.3, Route::AfterSales).with_capacity(500);
    /// assert_eq!(repair.capacity(), Some(500));
    /// ```
    pub fn with_capacity(mut self, n: usize) -> Self {
        self.capacity = Some(n);
        self
    }

    /// The id, unique in its playbook.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kind.
    pub fn kind(&self) -> &InterventionKind {
        &self.kind
    }

    /// The cost per customer.
    pub fn cost(&self) -> f64 {
        self.cost
    }

    /// The default effect (relative churn reduction).
    pub fn effect(&self) -> f64 {
        self.effect
    }

    /// The effect in a segment (the default for segments without a figure).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::rules::Route;
    /// # use churnwise::retention::{Intervention, InterventionKind};
    /// let repair = Intervention::new("free_repair", InterventionKind::FreeRepair, 40.0, 0.3, Route::AfterSales);
    /// let repair = repair.with_segment_effect("at_risk", 0.45);
    /// assert_eq!(repair.effect_for(Some("at_risk")), 0.45);
    /// assert_eq!(repair.effect_for(Some("new")), 0.3);
    /// assert_eq!(repair.effect_for(None), 0.3);
    /// ```
    pub fn effect_for(&self, segment: Option<&str>) -> f64 {
        segment
            .and_then(|s| self.effect_by_segment.get(s))
            .copied()
            .unwrap_or(self.effect)
    }

    /// The per-segment effects.
    pub fn segment_effects(&self) -> &BTreeMap<String, f64> {
        &self.effect_by_segment
    }

    /// Who may receive it (`None`: everyone).
    pub fn eligibility(&self) -> Option<&Condition> {
        self.eligibility.as_ref()
    }

    /// The team that delivers it.
    pub fn owner(&self) -> &Route {
        &self.owner
    }

    /// The most customers it can serve.
    pub fn capacity(&self) -> Option<usize> {
        self.capacity
    }

    /// Reads an intervention member by member (errors name their path);
    /// [`Playbook::new`] validates it.
    fn parse(value: &Value, path: &Path) -> Result<Intervention> {
        let map = object(value, path)?;
        known_keys(
            map,
            &[
                "id",
                "name",
                "kind",
                "cost",
                "effect",
                "effect_by_segment",
                "eligibility",
                "owner",
                "capacity",
            ],
            path,
        )?;
        let required = |key: &str| {
            map.get(key)
                .ok_or_else(|| path.error(format!("an intervention needs `{key}`")))
        };
        Ok(Intervention {
            id: member(required("id")?, &path.key("id"))?,
            name: map
                .get("name")
                .map(|v| member(v, &path.key("name")))
                .transpose()?
                .unwrap_or_default(),
            kind: member(required("kind")?, &path.key("kind"))?,
            cost: member(required("cost")?, &path.key("cost"))?,
            effect: member(required("effect")?, &path.key("effect"))?,
            effect_by_segment: map
                .get("effect_by_segment")
                .map(|v| member(v, &path.key("effect_by_segment")))
                .transpose()?
                .unwrap_or_default(),
            eligibility: map
                .get("eligibility")
                .map(|v| Condition::parse(v, &path.key("eligibility")))
                .transpose()?,
            owner: member(required("owner")?, &path.key("owner"))?,
            capacity: map
                .get("capacity")
                .map(|v| member(v, &path.key("capacity")))
                .transpose()?,
        })
    }

    fn validate(&self, path: &Path) -> Result<()> {
        if self.id.trim().is_empty() {
            return Err(path.key("id").error("an intervention id cannot be blank"));
        }
        if !(self.cost.is_finite() && self.cost >= 0.0) {
            return Err(path
                .key("cost")
                .error(format!("expected a cost of 0 or more, got {}", self.cost)));
        }
        let effect = |v: f64, at: Path| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(at.error(format!(
                    "expected a relative churn reduction in [0, 1], got {v}"
                )))
            }
        };
        effect(self.effect, path.key("effect"))?;
        for (segment, &v) in &self.effect_by_segment {
            effect(v, path.key("effect_by_segment").key(segment))?;
        }
        if let Some(c) = &self.eligibility {
            c.validate_at(&path.key("eligibility"))?;
        }
        if self.capacity == Some(0) {
            return Err(path.key("capacity").error("a capacity must be at least 1"));
        }
        Ok(())
    }
}

/// The interventions on offer and how effects are segmented.
///
/// [`Playbook::default_playbook`] implements the classic strategy table:
/// discounts for the price-sensitive, VIP service for the service-minded,
/// free repair after product complaints, reactivation for the silent,
/// onboarding for the new. Playbooks are serde data (JSON, or TOML with the
/// `toml` feature) validated as they load.
///
/// # Example
///
/// ```
/// use churnwise::retention::Playbook;
///
/// let playbook = Playbook::default_playbook();
/// assert_eq!(playbook.interventions().len(), 5);
/// let json = serde_json::to_string(&playbook).unwrap();
/// assert_eq!(Playbook::from_json(&json)?, playbook);
/// assert!(Playbook::from_json(r#"{"interventions": [{"id": "d", "kind": "discount", "cost": 5,
///     "effect": 1.5, "owner": "marketing"}]}"#).is_err()); // an effect above 1
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    interventions: Vec<Intervention>,
    #[serde(default)]
    segment_by: SegmentBy,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    fields: Vec<String>,
}

impl Playbook {
    /// A playbook of `interventions` with effects segmented by `segment_by`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidPolicy`] for no interventions, a repeated id, a
    /// negative cost, an effect outside [0, 1] or a capacity of 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Route;
    /// use churnwise::retention::{Intervention, InterventionKind, Playbook, SegmentBy};
    ///
    /// let call = Intervention::new("call", InterventionKind::PersonalCallBack, 25.0, 0.2, Route::Sales);
    /// let playbook = Playbook::new(vec![call.clone()], SegmentBy::ValueTier)?;
    /// assert_eq!(playbook.interventions().len(), 1);
    /// assert!(Playbook::new(vec![call.clone(), call], SegmentBy::ValueTier).is_err()); // repeated id
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(interventions: Vec<Intervention>, segment_by: SegmentBy) -> Result<Self> {
        let mut playbook = Playbook {
            interventions,
            segment_by,
            fields: Vec::new(),
        };
        playbook.validate()?;
        playbook.fields = playbook.own_fields(Vec::new());
        Ok(playbook)
    }

    /// The fields of your own its eligibility conditions read (names that
    /// are neither built-in profile fields nor catalog features), sorted: a
    /// document declares them in `fields`, so that a typo in a name is
    /// caught as it loads.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::Playbook;
    ///
    /// let doc = r#"{"fields": ["contract"], "interventions": [{"id": "d", "kind": "discount", "cost": 5,
    ///     "effect": 0.2, "owner": "marketing", "eligibility": {"field": "contract", "==": "monthly"}}]}"#;
    /// assert_eq!(Playbook::from_json(doc)?.fields(), ["contract"]);
    /// let typo = doc.replace(r#""field": "contract""#, r#""field": "contrat""#);
    /// assert!(Playbook::from_json(&typo).unwrap_err().to_string().contains("did you mean `contract`"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// `declared` and the fields of your own the eligibility conditions read, sorted.
    fn own_fields(&self, declared: Vec<String>) -> Vec<String> {
        let mut fields = declared;
        fields.extend(
            self.interventions
                .iter()
                .filter_map(|i| i.eligibility.as_ref())
                .flat_map(Condition::own_fields),
        );
        fields.sort_unstable();
        fields.dedup();
        fields
    }

    /// The strategy table of everyday practice, with effects as planning
    /// guesses (measure them, then update them with
    /// [`EffectLearner`](super::EffectLearner)):
    ///
    /// | id | for | cost | effect | team |
    /// |---|---|---|---|---|
    /// | `discount` | customers with a price complaint or campaign responses in 180 days | 15 | 0.20 | marketing |
    /// | `vip_service` | customers with slow support replies or support tickets in 90 days, mid or high value | 40 | 0.20 | customer service |
    /// | `free_repair` | customers with a complaint in 90 days | 60 | 0.25 | after-sales |
    /// | `reactivation` | silent customers | 5 | 0.10 | marketing |
    /// | `onboarding` | new customers | 10 | 0.15 | customer service |
    ///
    /// Effects are segmented by lifecycle stage; eligibility reads
    /// `campaign_responses_180d`, `complaints_90d`, `tickets_90d`,
    /// `response_hours_max_90d`, `lifecycle_stage` and `value_tier`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::{Playbook, SegmentBy};
    ///
    /// let playbook = Playbook::default_playbook();
    /// assert_eq!(playbook.segment_by(), &SegmentBy::LifecycleStage);
    /// assert_eq!(playbook.get("reactivation").map(|i| i.cost()), Some(5.0));
    /// ```
    pub fn default_playbook() -> Playbook {
        use Condition as C;
        let interventions = vec![
            Intervention::new(
                "discount",
                InterventionKind::Discount,
                15.0,
                0.2,
                Route::Marketing,
            )
            .with_name("Limited-time discount")
            .with_eligibility(C::any([
                C::field("campaign_responses_180d").gte(1),
                C::field("complaints_90d").gte(1),
            ])),
            Intervention::new(
                "vip_service",
                InterventionKind::VipService,
                40.0,
                0.2,
                Route::CustomerService,
            )
            .with_name("VIP service")
            .with_eligibility(C::all([
                C::any([
                    C::field("response_hours_max_90d").gt("24h"),
                    C::field("tickets_90d").gte(1),
                ]),
                C::field("value_tier").is_in(["mid", "high"]),
            ])),
            Intervention::new(
                "free_repair",
                InterventionKind::FreeRepair,
                60.0,
                0.25,
                Route::AfterSales,
            )
            .with_name("Free inspection or repair")
            .with_eligibility(C::field("complaints_90d").gte(1)),
            Intervention::new(
                "reactivation",
                InterventionKind::Reactivation,
                5.0,
                0.1,
                Route::Marketing,
            )
            .with_name("Win-back campaign")
            .with_eligibility(C::field("lifecycle_stage").eq("silent")),
            Intervention::new(
                "onboarding",
                InterventionKind::Onboarding,
                10.0,
                0.15,
                Route::CustomerService,
            )
            .with_name("Onboarding programme")
            .with_eligibility(C::field("lifecycle_stage").eq("new")),
        ];
        Playbook {
            interventions,
            segment_by: SegmentBy::LifecycleStage,
            fields: Vec::new(),
        }
    }

    /// The interventions.
    pub fn interventions(&self) -> &[Intervention] {
        &self.interventions
    }

    /// How effects are segmented.
    pub fn segment_by(&self) -> &SegmentBy {
        &self.segment_by
    }

    /// The intervention with `id`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::Playbook;
    ///
    /// let playbook = Playbook::default_playbook();
    /// assert_eq!(playbook.get("free_repair").map(|i| i.effect()), Some(0.25));
    /// assert!(playbook.get("free_lunch").is_none());
    /// ```
    pub fn get(&self, id: &str) -> Option<&Intervention> {
        self.interventions.iter().find(|i| i.id == id)
    }

    /// Replaces the effects of one intervention (default and per segment).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownName`] for an unknown id; [`ErrorKind::InvalidPolicy`] for an effect outside [0, 1].
    ///
    /// # Example
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use churnwise::retention::Playbook;
    ///
    /// let mut playbook = Playbook::default_playbook();
    /// playbook.set_effects("discount", 0.12, BTreeMap::from([("at_risk".to_string(), 0.3)]))?;
    /// assert_eq!(playbook.get("discount").map(|i| i.effect_for(Some("at_risk"))), Some(0.3));
    /// assert!(playbook.set_effects("discount", 1.5, BTreeMap::new()).is_err()); // outside [0, 1]
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn set_effects(
        &mut self,
        id: &str,
        effect: f64,
        by_segment: BTreeMap<String, f64>,
    ) -> Result<()> {
        let known: Vec<&str> = self.interventions.iter().map(|i| i.id.as_str()).collect();
        let Some(k) = self.interventions.iter().position(|i| i.id == id) else {
            return Err(crate::features::unknown_name("intervention", id, &known));
        };
        let mut updated = self.interventions[k].clone();
        updated.effect = effect;
        updated.effect_by_segment = by_segment;
        updated.validate(&Path::root().key("interventions").index(k))?;
        self.interventions[k] = updated;
        Ok(())
    }

    /// Parses and validates a playbook from JSON.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidPolicy`] naming the first problem.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::{InterventionKind, Playbook};
    ///
    /// let playbook = Playbook::from_json(r#"{"interventions": [{"id": "d", "kind": "discount", "cost": 5,
    ///     "effect": 0.2, "owner": "marketing"}]}"#)?;
    /// assert_eq!(playbook.get("d").map(|i| i.kind()), Some(&InterventionKind::Discount));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Playbook> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| crate::rules::json_error("playbook", e))?;
        Playbook::from_value(value)
    }

    /// Parses and validates a playbook from TOML (feature `toml`).
    ///
    /// # Errors
    ///
    /// As for [`from_json`](Self::from_json).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::{Playbook, SegmentBy};
    ///
    /// let playbook = Playbook::from_toml(r#"
    /// segment_by = "value_tier"
    /// [[interventions]]
    /// id = "call"
    /// kind = "personal_call_back"
    /// cost = 25
    /// effect = 0.2
    /// owner = "sales"
    /// "#)?;
    /// assert_eq!(playbook.segment_by(), &SegmentBy::ValueTier);
    /// assert_eq!(playbook.get("call").map(|i| i.cost()), Some(25.0));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    #[cfg(feature = "toml")]
    pub fn from_toml(text: &str) -> Result<Playbook> {
        Playbook::from_value(crate::rules::toml_value(text)?)
    }

    /// Loads a playbook file: JSON for `.json`, TOML for `.toml` (feature
    /// `toml`), chosen by the extension.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `path` for another extension;
    /// [`ErrorKind::Io`] if the file cannot be read; otherwise as
    /// [`from_json`](Self::from_json). Every error names the file.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::Playbook;
    ///
    /// let dir = std::env::temp_dir().join(format!("churnwise-playbook-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let playbook = Playbook::default_playbook();
    /// for name in ["playbook.json", "playbook.toml"] {
    ///     playbook.save(dir.join(name))?;
    ///     assert_eq!(Playbook::load(dir.join(name))?, playbook);
    /// }
    /// std::fs::write(dir.join("bad.json"), r#"{"interventions": []}"#)?;
    /// let err = Playbook::load(dir.join("bad.json")).unwrap_err();
    /// assert!(err.to_string().contains("bad.json: interventions"), "{err}");
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Playbook> {
        let path = path.as_ref();
        let format = crate::error::DocumentFormat::of(path, true)?;
        let text = crate::error::read_document(path)?;
        match format {
            crate::error::DocumentFormat::Json => Playbook::from_json(&text),
            #[cfg(feature = "toml")]
            crate::error::DocumentFormat::Toml => Playbook::from_toml(&text),
        }
        .map_err(|e| e.in_file(path))
    }

    /// Saves the playbook to a file that [`load`](Self::load) reads back:
    /// JSON for `.json`, TOML for `.toml` (feature `toml`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `path` for another extension;
    /// [`ErrorKind::Io`] naming the file if it cannot be written.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        let value = serde_json::to_value(self)
            .map_err(|e| crate::Error::json(path.display().to_string(), e))?;
        let text = match crate::error::DocumentFormat::of(path, true)? {
            crate::error::DocumentFormat::Json => serde_json::to_string_pretty(&value)
                .map_err(|e| crate::Error::json(path.display().to_string(), e))?,
            #[cfg(feature = "toml")]
            crate::error::DocumentFormat::Toml => crate::rules::to_toml(&value, path)?,
        };
        crate::error::write_document(path, &text)
    }

    /// Reads a playbook member by member, so that every error names its
    /// path (`interventions[2].cost`), then validates it.
    fn from_value(value: Value) -> Result<Playbook> {
        let root = Path::root();
        let map = object(&value, &root)?;
        known_keys(map, &["interventions", "segment_by", "fields"], &root)?;
        let declared = crate::rules::declared_fields(map.get("fields"), &root.key("fields"))?;
        let segment_by = match map.get("segment_by") {
            None => SegmentBy::default(),
            Some(v) => member(v, &root.key("segment_by"))?,
        };
        let at = root.key("interventions");
        let interventions = match map.get("interventions") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(k, v)| Intervention::parse(v, &at.index(k)))
                .collect::<Result<Vec<_>>>()?,
            Some(other) => {
                return Err(at.error(format!(
                    "expected a list of interventions, got {}",
                    crate::rules::describe(other)
                )));
            }
            None => return Err(root.error("a playbook needs `interventions`")),
        };
        let mut playbook = Playbook::new(interventions, segment_by)?;
        for (k, i) in playbook.interventions.iter().enumerate() {
            if let Some(c) = &i.eligibility {
                c.check_names(&at.index(k).key("eligibility"), &declared)?;
            }
        }
        playbook.fields = playbook.own_fields(declared);
        Ok(playbook)
    }

    fn validate(&self) -> Result<()> {
        let path = Path::root().key("interventions");
        if self.interventions.is_empty() {
            return Err(path.error("a playbook needs at least one intervention"));
        }
        let conditions: usize = self
            .interventions
            .iter()
            .filter_map(|i| i.eligibility.as_ref())
            .map(|c| c.measure().1)
            .sum();
        if conditions > crate::rules::MAX_CONDITIONS {
            return Err(path.too_large(
                "number of conditions",
                conditions,
                crate::rules::MAX_CONDITIONS,
            ));
        }
        // Segment labels are checked when the segmentation's labels are fixed.
        let labels = match crate::score::builtin(self.segment_by.field()).map(|b| b.kind) {
            Some(crate::score::Builtin::Fixed(labels)) => Some(labels),
            _ => None,
        };
        for (k, i) in self.interventions.iter().enumerate() {
            i.validate(&path.index(k))?;
            if let Some(labels) = labels
                && let Some(bad) = i
                    .effect_by_segment
                    .keys()
                    .find(|s| !labels.contains(&s.as_str()))
            {
                return Err(path.index(k).key("effect_by_segment").unknown(
                    &format!("{} label", self.segment_by.field()),
                    bad,
                    labels,
                ));
            }
            if self.interventions[..k].iter().any(|o| o.id == i.id) {
                return Err(path
                    .index(k)
                    .key("id")
                    .error(format!("duplicate intervention id `{}`", i.id)));
            }
        }
        Ok(())
    }

    /// For each profile, the eligible interventions (indices into
    /// [`interventions`](Self::interventions)).
    pub(crate) fn eligibility(&self, profiles: &Profiles) -> Result<Vec<Vec<bool>>> {
        self.interventions
            .iter()
            .enumerate()
            .map(|(k, i)| match &i.eligibility {
                None => Ok(vec![true; profiles.len()]),
                Some(c) => {
                    let path = Path::root()
                        .key("interventions")
                        .index(k)
                        .key("eligibility");
                    crate::rules::rows_meeting(c, path, profiles, None)
                }
            })
            .collect()
    }
}

impl Default for Playbook {
    fn default() -> Self {
        Playbook::default_playbook()
    }
}

fn object<'a>(value: &'a Value, path: &Path) -> Result<&'a serde_json::Map<String, Value>> {
    value.as_object().ok_or_else(|| {
        path.error(format!(
            "expected an object, got {}",
            crate::rules::describe(value)
        ))
    })
}

fn known_keys(map: &serde_json::Map<String, Value>, known: &[&str], path: &Path) -> Result<()> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(path.unknown("key", k, known)),
        None => Ok(()),
    }
}

/// One member, read with its serde form; errors name `path`.
fn member<T: serde::de::DeserializeOwned>(value: &Value, path: &Path) -> Result<T> {
    T::deserialize(value).map_err(|e| path.error(e))
}

/// `Err` unless the playbook can read segments from the profiles.
pub(crate) fn segment_labels<'a>(
    playbook: &Playbook,
    profiles: &'a Profiles,
) -> Result<Vec<&'a str>> {
    playbook.segment_by.labels(profiles).ok_or_else(|| {
        ErrorKind::MissingValue {
            record: "profiles".into(),
            field: format!("{} (the playbook's segments)", playbook.segment_by.field()),
        }
        .into()
    })
}
