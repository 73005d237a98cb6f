//! The registry of profile fields: every built-in field in one table, and
//! the column types that hold built-in and user-supplied fields alike.

use std::sync::Arc;

use crate::features::Unit;
use crate::segment::{LifecycleStage, RfmSegment, Segment, Tier};

/// What a profile field holds, as rules see it.
///
/// # Example
///
/// ```
/// use churnwise::score::{FieldKind, Profiles};
/// # let (_, table) = churnwise::doc_support::table(200, 1, 6)?;
///
/// let n = table.nrows();
/// let profiles = Profiles::new(table)?.with_category("contract", vec!["monthly"; n])?;
/// assert_eq!(profiles.field_kind("contract"), Some(FieldKind::Category));
/// assert_eq!(profiles.field_kind("recency_days"), Some(FieldKind::Number));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldKind {
    /// A number per customer: compared with `>`, `>=`, `<`, `<=`, `==`,
    /// `between` and `in`, or by its change since a previous snapshot.
    Number,
    /// One label per customer (or none): compared with `==` and `in`.
    Category,
    /// Any number of labels per customer (tags): `==` and `in` hold when
    /// the customer has one of the given labels.
    Labels,
}

/// How a built-in field is typed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Builtin {
    /// A number in `[min, max]` measured in `unit`.
    Number { unit: Unit, min: f64, max: f64 },
    /// A category with a fixed set of labels, in code order.
    Fixed(&'static [&'static str]),
    /// A category whose labels come from the data.
    Open,
    /// Several labels per customer, from the data.
    Labels,
}

/// One entry of the registry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BuiltinField {
    pub(crate) name: &'static str,
    pub(crate) kind: Builtin,
    /// The `Profiles` methods that set it, quoted by "field not set" errors.
    pub(crate) set_by: &'static str,
}

/// Every built-in profile field. Adding one means adding a row here and
/// the method that fills it.
pub(crate) const BUILTINS: [BuiltinField; 12] = [
    BuiltinField {
        name: "churn_probability",
        kind: Builtin::Number {
            unit: Unit::Fraction,
            min: 0.0,
            max: 1.0,
        },
        set_by: "score_with or with_churn_probabilities",
    },
    BuiltinField {
        name: "customer_value",
        kind: Builtin::Number {
            unit: Unit::Currency,
            min: 0.0,
            max: f64::INFINITY,
        },
        set_by: "values_from_column or with_customer_values",
    },
    BuiltinField {
        name: "expected_loss",
        kind: Builtin::Number {
            unit: Unit::Currency,
            min: 0.0,
            max: f64::INFINITY,
        },
        set_by: "a churn probability and a customer value (it is their product)",
    },
    BuiltinField {
        name: "rfm_segment",
        kind: Builtin::Fixed(RfmSegment::LABELS),
        set_by: "segment_rfm or with_rfm_segments",
    },
    BuiltinField {
        name: "lifecycle_stage",
        kind: Builtin::Fixed(LifecycleStage::LABELS),
        set_by: "stage_lifecycle or with_lifecycle_stages",
    },
    BuiltinField {
        name: "value_tier",
        kind: Builtin::Fixed(Tier::LABELS),
        set_by: "tier_value or with_value_tiers",
    },
    BuiltinField {
        name: "engagement_tier",
        kind: Builtin::Fixed(Tier::LABELS),
        set_by: "tier_engagement or with_engagement_tiers",
    },
    BuiltinField {
        name: "plan",
        kind: Builtin::Open,
        set_by: "attributes_from",
    },
    BuiltinField {
        name: "channel",
        kind: Builtin::Open,
        set_by: "attributes_from",
    },
    BuiltinField {
        name: "region",
        kind: Builtin::Open,
        set_by: "attributes_from",
    },
    BuiltinField {
        name: "tags",
        kind: Builtin::Labels,
        set_by: "attributes_from",
    },
    BuiltinField {
        name: "cluster",
        kind: Builtin::Open,
        set_by: "cluster_with",
    },
];

/// The registry entry of a built-in field.
pub(crate) fn builtin(name: &str) -> Option<&'static BuiltinField> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// The names of the built-in profile fields, which a feature column or a
/// user field may not take.
///
/// # Example
///
/// ```
/// let names: Vec<&str> = churnwise::score::builtin_fields().collect();
/// assert!(names.contains(&"churn_probability") && names.contains(&"plan"));
/// ```
pub fn builtin_fields() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|b| b.name)
}

/// The code of a customer without a label.
pub(crate) const MISSING: u32 = u32::MAX;

/// One field's values for every customer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Column {
    Number(Vec<f64>),
    Category(Codes),
    Labels(LabelSets),
}

impl Column {
    pub(crate) fn kind(&self) -> FieldKind {
        match self {
            Column::Number(_) => FieldKind::Number,
            Column::Category(_) => FieldKind::Category,
            Column::Labels(_) => FieldKind::Labels,
        }
    }

    pub(crate) fn dictionary(&self) -> &[Arc<str>] {
        match self {
            Column::Number(_) => &[],
            Column::Category(c) => &c.dictionary,
            Column::Labels(s) => &s.dictionary,
        }
    }
}

/// A category column: a code per customer into a dictionary of labels.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Codes {
    pub(crate) codes: Vec<u32>,
    pub(crate) dictionary: Vec<Arc<str>>,
}

impl Codes {
    /// Codes for `labels`, the dictionary in order of first appearance.
    pub(crate) fn encode<'a>(labels: impl IntoIterator<Item = Option<&'a str>>) -> Codes {
        let mut dict = Dictionary::default();
        let codes = labels
            .into_iter()
            .map(|l| l.map_or(MISSING, |l| dict.code(l)))
            .collect();
        Codes {
            codes,
            dictionary: dict.labels,
        }
    }

    /// Codes of a built-in enum, whose dictionary is its fixed label list.
    pub(crate) fn of_fixed<T: Coded>(values: &[T]) -> Codes {
        Codes {
            codes: values.iter().map(|v| v.code()).collect(),
            dictionary: T::LABELS.iter().map(|&l| Arc::from(l)).collect(),
        }
    }

    pub(crate) fn label(&self, i: usize) -> Option<&str> {
        let code = *self.codes.get(i)?;
        self.dictionary.get(code as usize).map(|l| &**l)
    }
}

/// A multi-label column: the labels of customer `i` are
/// `codes[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct LabelSets {
    pub(crate) offsets: Vec<usize>,
    pub(crate) codes: Vec<u32>,
    pub(crate) dictionary: Vec<Arc<str>>,
}

impl LabelSets {
    pub(crate) fn encode<'a, S>(sets: impl IntoIterator<Item = S>) -> LabelSets
    where
        S: IntoIterator<Item = &'a str>,
    {
        let mut dict = Dictionary::default();
        let mut out = LabelSets {
            offsets: vec![0],
            ..LabelSets::default()
        };
        for set in sets {
            let start = out.codes.len();
            for label in set {
                let code = dict.code(label);
                if !out.codes[start..].contains(&code) {
                    out.codes.push(code);
                }
            }
            out.offsets.push(out.codes.len());
        }
        out.dictionary = dict.labels;
        out
    }

    pub(crate) fn codes_of(&self, i: usize) -> &[u32] {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.codes[a..b],
            _ => &[],
        }
    }

    pub(crate) fn labels_of(&self, i: usize) -> impl Iterator<Item = &str> {
        self.codes_of(i)
            .iter()
            .filter_map(|&c| self.dictionary.get(c as usize).map(|l| &**l))
    }
}

/// Interns labels into codes in order of first appearance.
#[derive(Default)]
struct Dictionary {
    labels: Vec<Arc<str>>,
    index: std::collections::HashMap<Arc<str>, u32>,
}

impl Dictionary {
    fn code(&mut self, label: &str) -> u32 {
        if let Some(&c) = self.index.get(label) {
            return c;
        }
        let code = self.labels.len() as u32;
        let label: Arc<str> = Arc::from(label);
        self.labels.push(label.clone());
        self.index.insert(label, code);
        code
    }
}

/// A built-in category stored by code: its labels are the dictionary.
pub(crate) trait Coded: Segment {
    /// Labels in code order (`code()` indexes this list).
    const LABELS: &'static [&'static str];

    fn code(self) -> u32;

    fn from_code(code: u32) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.code() == code)
    }

    fn label(self) -> &'static str {
        Self::LABELS[self.code() as usize]
    }
}

impl Coded for RfmSegment {
    const LABELS: &'static [&'static str] = &[
        "champions",
        "loyal",
        "potential_loyalist",
        "new_customers",
        "promising",
        "need_attention",
        "about_to_sleep",
        "at_risk",
        "cant_lose_them",
        "hibernating",
        "lost",
    ];

    fn code(self) -> u32 {
        self as u32
    }
}

impl Coded for LifecycleStage {
    const LABELS: &'static [&'static str] = &["new", "active", "silent", "at_risk", "churned"];

    fn code(self) -> u32 {
        self as u32
    }
}

impl Coded for Tier {
    const LABELS: &'static [&'static str] = &["low", "mid", "high"];

    fn code(self) -> u32 {
        self as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: Coded + std::fmt::Debug>() {
        assert_eq!(T::all().len(), T::LABELS.len());
        for &v in T::all() {
            assert_eq!(T::from_code(v.code()), Some(v));
            assert_eq!(T::LABELS[v.code() as usize], v.label());
        }
    }

    #[test]
    fn codes_index_the_label_lists() {
        round_trips::<RfmSegment>();
        round_trips::<LifecycleStage>();
        round_trips::<Tier>();
        assert_eq!(RfmSegment::CantLoseThem.label(), "cant_lose_them");
        assert_eq!(Tier::from_code(7), None);
    }

    #[test]
    fn builtin_names_are_unique() {
        let mut names: Vec<&str> = builtin_fields().collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), BUILTINS.len());
    }

    #[test]
    fn encoding_interns_labels_in_order_of_appearance() {
        let c = Codes::encode([Some("gold"), None, Some("basic"), Some("gold")]);
        assert_eq!(c.codes, [0, MISSING, 1, 0]);
        assert_eq!(c.label(1), None);
        assert_eq!(c.label(2), Some("basic"));
        let s = LabelSets::encode([vec!["vip", "b2b", "vip"], vec![], vec!["b2b"]]);
        assert_eq!(s.offsets.len(), 4);
        assert_eq!(s.labels_of(0).collect::<Vec<_>>(), ["vip", "b2b"]);
        assert_eq!(s.labels_of(1).count(), 0);
        assert_eq!(s.codes_of(2), [1]);
        assert_eq!(s.codes_of(9), [] as [u32; 0]);
    }
}
