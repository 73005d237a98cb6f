//! Lifecycle stages: new, active, silent, at risk, churned.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Segment;
use crate::features::FeatureTable;
use crate::{Error, ErrorKind, Result};

/// Where a customer is in their lifecycle.
///
/// # Example
///
/// ```
/// use churnwise::segment::LifecycleStage;
///
/// assert_eq!(LifecycleStage::AtRisk.to_string(), "at risk");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LifecycleStage {
    /// Recently signed up, at most one purchase.
    New,
    /// Buying regularly.
    Active,
    /// Behaviour stalled: no purchase for a while, not yet churned.
    Silent,
    /// Warning signs: a high churn score, or complaints, low ratings, falling orders.
    AtRisk,
    /// No purchase for longer than the churn threshold.
    Churned,
}

impl fmt::Display for LifecycleStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LifecycleStage::New => "new",
            LifecycleStage::Active => "active",
            LifecycleStage::Silent => "silent",
            LifecycleStage::AtRisk => "at risk",
            LifecycleStage::Churned => "churned",
        })
    }
}

impl Segment for LifecycleStage {
    fn all() -> &'static [Self] {
        &[
            LifecycleStage::New,
            LifecycleStage::Active,
            LifecycleStage::Silent,
            LifecycleStage::AtRisk,
            LifecycleStage::Churned,
        ]
    }
}

/// Thresholds that assign every customer exactly one [`LifecycleStage`].
///
/// Rules, in order of precedence (the first that holds wins):
///
/// 1. **Churned**: `recency_days > churned_after_days` (a customer who never
///    ordered has recency = tenure).
/// 2. **At risk**: with churn scores, `score >= at_risk_score`; without, any
///    of: `complaints_30d >= at_risk_complaints_30d`; a survey answer with
///    `satisfaction_last <= at_risk_satisfaction`; `order_trend_90d <=
///    at_risk_order_trend` with `orders_total >= 2` (falling purchases).
/// 3. **New**: `tenure_days <= new_within_days` and `orders_total <= 1`.
/// 4. **Active**: `recency_days <= active_within_days`.
/// 5. **Silent**: everyone else (no purchase for a while, not yet churned).
///
/// Reads the feature columns named above. Serde data with defaults, so an
/// operations team can edit a policy file that lists only what it changes.
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::features::{FeatureSpec, Snapshot};
/// use churnwise::segment::{LifecyclePolicy, LifecycleStage};
///
/// # let history = churnwise::doc_support::history(1_000, 6)?;
/// let table = FeatureSpec::all().extract(&history, &Snapshot::new(Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap()))?;
/// let policy: LifecyclePolicy = serde_json::from_str(r#"{"churned_after_days": 120}"#).unwrap();
/// let stages = policy.apply(&table, None)?;
/// assert_eq!(stages.len(), table.nrows());
/// assert!(stages.iter().any(|s| *s == LifecycleStage::Churned));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct LifecyclePolicy {
    /// Days since signup within which a customer with at most one purchase is new. Default 60.
    pub new_within_days: f64,
    /// Days since the last purchase within which a customer is active. Default 45.
    pub active_within_days: f64,
    /// Days since the last purchase beyond which a customer is churned. Default 180.
    pub churned_after_days: f64,
    /// Churn probability at or above which a customer is at risk (when scores are given). Default 0.7.
    pub at_risk_score: f64,
    /// Complaints in the last 30 days that make a customer at risk. Default 2.
    pub at_risk_complaints_30d: f64,
    /// Last satisfaction (0–1) at or below which a customer is at risk. Default 0.25 (2 on a 1–5 scale).
    pub at_risk_satisfaction: f64,
    /// 90-day order trend at or below which a repeat buyer is at risk. Default −0.5.
    pub at_risk_order_trend: f64,
}

impl Default for LifecyclePolicy {
    fn default() -> Self {
        LifecyclePolicy {
            new_within_days: 60.0,
            active_within_days: 45.0,
            churned_after_days: 180.0,
            at_risk_score: 0.7,
            at_risk_complaints_30d: 2.0,
            at_risk_satisfaction: 0.25,
            at_risk_order_trend: -0.5,
        }
    }
}

/// The feature columns a policy reads, in this order.
const COLUMNS: [&str; 7] = [
    "recency_days",
    "tenure_days",
    "orders_total",
    "complaints_30d",
    "satisfaction_last",
    "has_feedback",
    "order_trend_90d",
];

impl LifecyclePolicy {
    /// Checks the thresholds.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] naming the first threshold that is not
    /// finite or out of range (days ≥ 0, `active_within_days <
    /// churned_after_days`, score and satisfaction in [0, 1], trend in [−1, 1]).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::segment::LifecyclePolicy;
    ///
    /// assert!(LifecyclePolicy::default().validate().is_ok());
    /// let mut policy = LifecyclePolicy::default();
    /// policy.active_within_days = 200.0; // not below churned_after_days (180)
    /// assert!(policy.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        let fields = [
            ("new_within_days", self.new_within_days, 0.0, f64::MAX),
            ("active_within_days", self.active_within_days, 0.0, f64::MAX),
            ("churned_after_days", self.churned_after_days, 0.0, f64::MAX),
            ("at_risk_score", self.at_risk_score, 0.0, 1.0),
            (
                "at_risk_complaints_30d",
                self.at_risk_complaints_30d,
                0.0,
                f64::MAX,
            ),
            ("at_risk_satisfaction", self.at_risk_satisfaction, 0.0, 1.0),
            ("at_risk_order_trend", self.at_risk_order_trend, -1.0, 1.0),
        ];
        for (name, v, lo, hi) in fields {
            if !(v.is_finite() && v >= lo && v <= hi) {
                return Err(Error::invalid_parameter(
                    name,
                    format!("must be in [{lo}, {hi}], got {v}"),
                ));
            }
        }
        if self.active_within_days >= self.churned_after_days {
            return Err(Error::invalid_parameter(
                "active_within_days",
                format!(
                    "must be below churned_after_days ({}), got {}",
                    self.churned_after_days, self.active_within_days
                ),
            ));
        }
        Ok(())
    }

    /// The stage of every row; `scores` (churn probabilities, one per row)
    /// replace the behavioural at-risk signals when given.
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate); [`ErrorKind::UnknownName`] for a
    /// missing column; [`ErrorKind::LengthMismatch`] if `scores` has the wrong length.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::features::FeatureTable;
    /// use churnwise::segment::{LifecyclePolicy, LifecycleStage};
    /// use ndarray::array;
    ///
    /// let names = ["recency_days", "tenure_days", "orders_total", "complaints_30d",
    ///     "satisfaction_last", "has_feedback", "order_trend_90d"];
    /// let table = FeatureTable::new(vec![1u64.into(), 2u64.into(), 3u64.into()], names.map(String::from).to_vec(),
    ///     array![[200.0, 400.0, 5.0, 0.0, 0.5, 0.0, 0.0], [10.0, 400.0, 6.0, 0.0, 0.5, 0.0, 0.0], [10.0, 400.0, 6.0, 0.0, 0.5, 0.0, 0.0]])?;
    /// use LifecycleStage::*;
    /// assert_eq!(LifecyclePolicy::default().apply(&table, None)?, [Churned, Active, Active]);
    /// // A churn score at or above `at_risk_score` (0.7) marks a customer at risk.
    /// assert_eq!(LifecyclePolicy::default().apply(&table, Some(&[0.1, 0.1, 0.9]))?, [Churned, Active, AtRisk]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn apply(
        &self,
        table: &FeatureTable,
        scores: Option<&[f64]>,
    ) -> Result<Vec<LifecycleStage>> {
        self.validate()?;
        if let Some(s) = scores
            && s.len() != table.nrows()
        {
            return Err(ErrorKind::LengthMismatch {
                what: "churn scores per feature-table row",
                expected: table.nrows(),
                got: s.len(),
            }
            .into());
        }
        let cols = COLUMNS.map(|c| table.column(c));
        let cols = cols.into_iter().collect::<Result<Vec<_>>>()?;
        let stages = (0..table.nrows())
            .map(|i| {
                let row: [f64; 7] = std::array::from_fn(|j| cols[j][i]);
                self.stage(row, scores.map(|s| s[i]))
            })
            .collect();
        Ok(stages)
    }

    fn stage(
        &self,
        [
            recency,
            tenure,
            orders,
            complaints,
            satisfaction,
            has_feedback,
            trend,
        ]: [f64; 7],
        score: Option<f64>,
    ) -> LifecycleStage {
        if recency > self.churned_after_days {
            return LifecycleStage::Churned;
        }
        let at_risk = match score {
            Some(p) => p >= self.at_risk_score,
            None => {
                complaints >= self.at_risk_complaints_30d
                    || (has_feedback > 0.0 && satisfaction <= self.at_risk_satisfaction)
                    || (orders >= 2.0 && trend <= self.at_risk_order_trend)
            }
        };
        if at_risk {
            LifecycleStage::AtRisk
        } else if tenure <= self.new_within_days && orders <= 1.0 {
            LifecycleStage::New
        } else if recency <= self.active_within_days {
            LifecycleStage::Active
        } else {
            LifecycleStage::Silent
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn table(rows: &[[f64; 7]]) -> FeatureTable {
        let ids = (0..rows.len() as u64).map(Into::into).collect();
        let values = Array2::from_shape_fn((rows.len(), 7), |(i, j)| rows[i][j]);
        FeatureTable::new(ids, COLUMNS.iter().map(|c| c.to_string()).collect(), values).unwrap()
    }

    #[test]
    fn precedence_is_churned_at_risk_new_active_silent() {
        // recency, tenure, orders, complaints_30d, satisfaction, has_feedback, trend
        let rows = [
            [200.0, 300.0, 5.0, 3.0, 0.0, 1.0, -1.0], // churned beats at risk
            [10.0, 20.0, 1.0, 2.0, 1.0, 1.0, 0.0],    // at risk beats new (two complaints)
            [10.0, 20.0, 1.0, 0.0, 0.5, 1.0, 0.0],    // new
            [10.0, 400.0, 6.0, 0.0, 0.5, 0.0, 0.0],   // active
            [90.0, 400.0, 6.0, 0.0, 0.5, 0.0, 0.0],   // silent
            [30.0, 400.0, 6.0, 0.0, 0.2, 1.0, 0.0],   // at risk: low satisfaction
            [30.0, 400.0, 6.0, 0.0, 0.2, 0.0, 0.0], // active: no survey, the default 0.2 is ignored
            [30.0, 400.0, 4.0, 0.0, 0.5, 0.0, -0.6], // at risk: falling orders
        ];
        use LifecycleStage::*;
        let stages = LifecyclePolicy::default()
            .apply(&table(&rows), None)
            .unwrap();
        assert_eq!(
            stages,
            [Churned, AtRisk, New, Active, Silent, AtRisk, Active, AtRisk]
        );
    }

    #[test]
    fn scores_replace_behavioural_signals() {
        let rows = [
            [10.0, 400.0, 6.0, 5.0, 0.0, 1.0, -1.0],
            [10.0, 400.0, 6.0, 0.0, 0.5, 0.0, 0.0],
        ];
        let stages = LifecyclePolicy::default()
            .apply(&table(&rows), Some(&[0.2, 0.9]))
            .unwrap();
        assert_eq!(stages, [LifecycleStage::Active, LifecycleStage::AtRisk]);
        let err = LifecyclePolicy::default()
            .apply(&table(&rows), Some(&[0.2]))
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::LengthMismatch { .. }));
    }

    #[test]
    fn bad_thresholds_are_named() {
        let p = LifecyclePolicy {
            at_risk_score: 1.5,
            ..LifecyclePolicy::default()
        };
        assert!(matches!(
            p.validate().unwrap_err().kind(),
            ErrorKind::InvalidParameter {
                name: "at_risk_score",
                ..
            }
        ));
        let p = LifecyclePolicy {
            active_within_days: 200.0,
            ..LifecyclePolicy::default()
        };
        assert!(matches!(
            p.validate().unwrap_err().kind(),
            ErrorKind::InvalidParameter {
                name: "active_within_days",
                ..
            }
        ));
        let err = serde_json::from_str::<LifecyclePolicy>(r#"{"churned_after": 3}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }
}
