//! Seeded, stratified hold-out groups, so every campaign can be evaluated causally.

use serde::{Deserialize, Serialize};

use super::planner::Plan;
use crate::records::CustomerId;
use crate::{Error, Result};

/// Holds a fraction of a plan's customers back as a control group, within
/// each stratum of (intervention, segment), so every intervention in every
/// segment has comparable controls; several interventions thus share one
/// control group that can also be split by planned intervention.
///
/// Customers are ranked within their stratum by a hash of the seed and their
/// id, and the first `round(fraction × size)` are held back: the split
/// depends only on the seed and the plan's contents, not on input order or
/// thread count.
///
/// # Example
///
/// ```
/// use churnwise::retention::HoldOut;
/// # use churnwise::alert::Route;
/// # use churnwise::retention::{Intervention, InterventionKind, Planner, Playbook, SegmentBy};
/// # use churnwise::score::{Profile, Profiles};
/// # use churnwise::segment::LifecycleStage;
/// # let profiles = Profiles::from_profiles((0..200u64).map(|i| Profile::new(i)
/// #     .with_churn_probability(0.5).with_customer_value(100.0)
/// #     .with_lifecycle_stage(if i % 2 == 0 { LifecycleStage::Active } else { LifecycleStage::Silent })).collect())?;
/// # let playbook = Playbook::new(vec![Intervention::new("call", InterventionKind::PersonalCallBack, 5.0, 0.3, Route::Sales)], SegmentBy::LifecycleStage)?;
/// let plan = Planner::new(10_000.0)?.plan(&profiles, &playbook)?;
/// let control = HoldOut::new(0.2, 7)?.split(&plan);
/// assert_eq!(control.iter().filter(|&&c| c).count(), 40); // 20 of each stage's 100
/// assert_eq!(HoldOut::new(0.2, 7)?.split(&plan), control); // reproducible
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HoldOut {
    fraction: f64,
    seed: u64,
}

impl HoldOut {
    /// Holds back `fraction` of each stratum, drawn with `seed`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) unless `0 < fraction < 1`.
    pub fn new(fraction: f64, seed: u64) -> Result<Self> {
        if !(fraction > 0.0 && fraction < 1.0) {
            return Err(Error::invalid_parameter(
                "fraction",
                format!("must be strictly between 0 and 1, got {fraction}"),
            ));
        }
        Ok(HoldOut { fraction, seed })
    }

    /// Whether each of the plan's assignments is held back as a control.
    pub fn split(&self, plan: &Plan) -> Vec<bool> {
        let a = plan.assignments();
        let mut order: Vec<usize> = (0..a.len()).collect();
        let key = |i: usize| {
            (
                &a[i].intervention,
                &a[i].segment,
                rank(self.seed, &a[i].customer),
                &a[i].customer,
            )
        };
        order.sort_by(|&x, &y| key(x).cmp(&key(y)));
        let mut control = vec![false; a.len()];
        let mut start = 0;
        while start < order.len() {
            let stratum = |i: usize| (&a[order[i]].intervention, &a[order[i]].segment);
            let end = (start..order.len())
                .find(|&i| stratum(i) != stratum(start))
                .unwrap_or(order.len());
            let held = (self.fraction * (end - start) as f64).round() as usize;
            for &i in &order[start..start + held] {
                control[i] = true;
            }
            start = end;
        }
        control
    }
}

/// A stable pseudo-random rank of a customer under a seed (FNV-1a, then SplitMix64).
fn rank(seed: u64, id: &CustomerId) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in id.to_string().bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
