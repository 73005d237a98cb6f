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
/// # use churnwise::rules::Route;
/// # use churnwise::retention::{Intervention, InterventionKind, Planner, Playbook, SegmentBy};
/// # use churnwise::score::{Profile, Profiles};
/// # use churnwise::segment::LifecycleStage;
/// # let profiles = Profiles::from_profiles((0..200u64).map(|i| Profile::new(i)
/// #     .with_churn_probability(0.5).with_customer_value(100.0)
/// #     .with_lifecycle_stage(if i % 2 == 0 { LifecycleStage::Active } else { LifecycleStage::Silent })).collect())?;
/// # let playbook = Playbook::new(vec![Intervention::new("call", InterventionKind::PersonalCallBack, 5.0, 0.3, Route::Sales)], SegmentBy::LifecycleStage)?;
/// let plan = Planner::new(10_000.0).plan(&profiles, &playbook)?;
/// let control = HoldOut::new(0.2, 7).split(&plan)?;
/// assert_eq!(control.iter().filter(|&&c| c).count(), 40); // 20 of each stage's 100
/// assert_eq!(HoldOut::new(0.2, 7).split(&plan)?, control); // reproducible
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "HoldOutRepr")]
pub struct HoldOut {
    fraction: f64,
    seed: u64,
}

/// The serialized form, checked by [`HoldOut::validate`] on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldOutRepr {
    fraction: f64,
    seed: u64,
}

impl TryFrom<HoldOutRepr> for HoldOut {
    type Error = Error;

    fn try_from(r: HoldOutRepr) -> Result<Self> {
        let hold_out = HoldOut::new(r.fraction, r.seed);
        hold_out.validate()?;
        Ok(hold_out)
    }
}

impl HoldOut {
    /// Holds back `fraction` of each stratum, drawn with `seed`; the
    /// fraction must be strictly between 0 and 1 ([`validate`](Self::validate)
    /// checks it).
    pub fn new(fraction: f64, seed: u64) -> Self {
        HoldOut { fraction, seed }
    }

    /// The fraction held back.
    pub fn fraction(&self) -> f64 {
        self.fraction
    }

    /// The seed of the draw.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Checks the settings; [`split`](Self::split) calls it, and so does
    /// deserialization.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `fraction` unless `0 < fraction < 1`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::HoldOut;
    ///
    /// assert!(HoldOut::new(0.2, 7).validate().is_ok());
    /// assert!(HoldOut::new(0.0, 7).validate().is_err()); // strictly between 0 and 1
    /// assert!(HoldOut::new(1.0, 7).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        if !(self.fraction > 0.0 && self.fraction < 1.0) {
            return Err(Error::invalid_parameter(
                "fraction",
                format!("must be strictly between 0 and 1, got {}", self.fraction),
            ));
        }
        Ok(())
    }

    /// Whether each of the plan's assignments is held back as a control.
    ///
    /// Each stratum holds back `⌊fraction × size⌋` customers; the customers
    /// still needed to reach `round(fraction × total)` go to the strata with
    /// the largest remainders (ties: stratum order), so small strata do not
    /// all round the same way.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::HoldOut;
    /// # use churnwise::rules::Route;
    /// # use churnwise::retention::{Intervention, InterventionKind, Planner, Playbook, SegmentBy};
    /// # use churnwise::score::{Profile, Profiles};
    /// # use churnwise::segment::LifecycleStage;
    /// # let profiles = Profiles::from_profiles((0..10u64).map(|i| Profile::new(i)
    /// #     .with_churn_probability(0.5).with_customer_value(100.0).with_lifecycle_stage(LifecycleStage::Active)).collect())?;
    /// # let playbook = Playbook::new(vec![Intervention::new("call", InterventionKind::PersonalCallBack, 5.0, 0.3, Route::Sales)], SegmentBy::LifecycleStage)?;
    /// let plan = Planner::new(1_000.0).plan(&profiles, &playbook)?; // ten calls
    /// let control = HoldOut::new(0.3, 7).split(&plan)?;
    /// assert_eq!(control.len(), plan.assignments().len());
    /// assert_eq!(control.iter().filter(|&&c| c).count(), 3);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn split(&self, plan: &Plan) -> Result<Vec<bool>> {
        self.validate()?;
        let a = plan.assignments();
        // Ranks once per customer, not once per comparison.
        let ranks: Vec<u64> = a.iter().map(|x| rank(self.seed, &x.customer)).collect();
        let mut order: Vec<usize> = (0..a.len()).collect();
        let key = |i: usize| (&a[i].intervention, &a[i].segment, ranks[i], &a[i].customer);
        order.sort_by(|&x, &y| key(x).cmp(&key(y)));
        // Strata as ranges of `order`.
        let mut strata: Vec<std::ops::Range<usize>> = Vec::new();
        let mut start = 0;
        while start < order.len() {
            let stratum = |i: usize| (&a[order[i]].intervention, &a[order[i]].segment);
            let end = (start..order.len())
                .find(|&i| stratum(i) != stratum(start))
                .unwrap_or(order.len());
            strata.push(start..end);
            start = end;
        }
        let ideal: Vec<f64> = strata
            .iter()
            .map(|r| self.fraction * r.len() as f64)
            .collect();
        let mut held: Vec<usize> = ideal.iter().map(|x| x.floor() as usize).collect();
        let target = (self.fraction * a.len() as f64).round() as usize;
        let mut by_remainder: Vec<usize> = (0..strata.len()).collect();
        by_remainder.sort_by(|&x, &y| {
            let rem = |k: usize| ideal[k] - ideal[k].floor();
            rem(y).total_cmp(&rem(x)).then(x.cmp(&y))
        });
        let missing = target.saturating_sub(held.iter().sum());
        for &k in by_remainder.iter().take(missing) {
            held[k] += 1;
        }
        let mut control = vec![false; a.len()];
        for (range, h) in strata.iter().zip(held) {
            for &i in &order[range.start..range.start + h.min(range.len())] {
                control[i] = true;
            }
        }
        Ok(control)
    }
}

/// A stable pseudo-random rank of a customer under a seed (FNV-1a, then SplitMix64).
fn rank(seed: u64, id: &CustomerId) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in id.to_string().bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    crate::util::mix::splitmix64(&mut h)
}
