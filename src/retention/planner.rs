//! Budgeted campaign planning: at most one intervention per customer,
//! maximising expected net value.
//!
//! # The problem
//!
//! Giving intervention `j` to customer `i` is worth
//! `v_ij = p_i · value_i · effect_j(segment_i) − cost_j` in expectation
//! (churn probability × what churn would lose × the relative reduction, less
//! the cost). Choose at most one eligible intervention per customer to
//! maximise `Σ v_ij` with `Σ cost_j ≤ budget`, each team serving at most its
//! capacity and each intervention at most its own. This is a multiple-choice
//! knapsack problem with side constraints (NP-hard).
//!
//! # The algorithm
//!
//! 1. Each customer's options, with "nothing" at (0, 0), are reduced to
//!    their upper convex hull in the (cost, value) plane; walking up a hull
//!    gives incremental steps of falling efficiency (Δvalue / Δcost).
//! 2. All steps of all customers are taken in order of efficiency while the
//!    budget and capacities allow (a step that does not fit closes that
//!    customer's hull). Without capacities, this is the classic greedy for
//!    the LP relaxation of the multiple-choice knapsack (Sinha & Zoltners
//!    1979): it stops one fractional step short of the LP optimum.
//! 3. A repair pass then spends what is left on the best single upgrades,
//!    including options under the hull.
//! 4. Plans with at most [`EXACT_CUSTOMERS`] candidate customers (and no
//!    negative actions) are solved exactly by branch and bound.
//!
//! The LP optimum (budget only) bounds every plan from above, so
//! [`PlanSummary::upper_bound`] and [`PlanSummary::optimality_gap`] report
//! how far from optimal a plan can be at most. Without binding capacities
//! the greedy loses at most the value of one step, so the gap shrinks as
//! `1 / customers` on campaigns of realistic size (well below 1% at
//! hundreds of customers; see the tests).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::playbook::{Playbook, segment_labels};
use crate::records::CustomerId;
use crate::rules::Route;
use crate::score::Profiles;
use crate::{Error, ErrorKind, Result};

/// Plans with at most this many candidate customers are solved exactly.
///
/// # Example
///
/// ```
/// use churnwise::retention::EXACT_CUSTOMERS;
/// # use churnwise::rules::Route;
/// # use churnwise::retention::{Intervention, InterventionKind, Planner, Playbook, SegmentBy};
/// # use churnwise::score::{Profile, Profiles};
/// # use churnwise::segment::LifecycleStage;
/// # let profiles = Profiles::from_profiles((0..4u64).map(|i| {
/// #     Profile::new(i)
/// #         .with_churn_probability(0.2 * (i + 1) as f64)
/// #         .with_customer_value(500.0)
/// #         .with_lifecycle_stage(LifecycleStage::Active)
/// # }).collect())?;
/// # let playbook = Playbook::new(
/// #     vec![Intervention::new("discount", InterventionKind::Discount, 25.0, 0.3, Route::Marketing)],
/// #     SegmentBy::LifecycleStage,
/// # )?;
/// // Four candidates, at most EXACT_CUSTOMERS: the plan is solved exactly.
/// assert!(profiles.len() <= EXACT_CUSTOMERS);
/// assert!(Planner::new(60.0).plan(&profiles, &playbook)?.summary().is_optimal());
/// # Ok::<(), churnwise::Error>(())
/// ```
pub const EXACT_CUSTOMERS: usize = 20;

/// Plans a retention campaign under a budget and team capacities.
///
/// # Example
///
/// ```
/// use churnwise::rules::Route;
/// use churnwise::retention::{Intervention, InterventionKind, Planner, Playbook, SegmentBy};
/// use churnwise::score::{Profile, Profiles};
/// use churnwise::segment::LifecycleStage;
///
/// let profiles = Profiles::from_profiles((0..6u64).map(|i| {
///     Profile::new(i)
///         .with_feature("complaints_90d", (i % 2) as f64)
///         .with_churn_probability(0.1 * (i + 2) as f64)
///         .with_customer_value(400.0)
///         .with_lifecycle_stage(LifecycleStage::Active)
/// }).collect())?;
/// let playbook = Playbook::new(vec![
///     Intervention::new("discount", InterventionKind::Discount, 20.0, 0.2, Route::Marketing),
///     Intervention::new("call", InterventionKind::PersonalCallBack, 50.0, 0.5, Route::Sales),
/// ], SegmentBy::LifecycleStage)?;
/// let plan = Planner::new(150.0).team_capacity(Route::Sales, 1).plan(&profiles, &playbook)?;
/// let s = plan.summary();
/// assert!(s.cost() <= 150.0);
/// assert!(plan.assignments().iter().filter(|a| a.intervention() == "call").count() <= 1);
/// assert!(plan.assignments().iter().all(|a| a.net_value() > 0.0));
/// assert!(s.is_optimal()); // six customers: solved exactly
/// assert!(s.net_value() <= s.upper_bound());
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PlannerRepr")]
pub struct Planner {
    budget: f64,
    team_capacity: BTreeMap<Route, usize>,
    unprofitable: Unprofitable,
}

/// The serialized form, checked by [`Planner::validate`] on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlannerRepr {
    budget: f64,
    #[serde(default)]
    team_capacity: BTreeMap<Route, usize>,
    #[serde(default)]
    unprofitable: Unprofitable,
}

impl TryFrom<PlannerRepr> for Planner {
    type Error = Error;

    fn try_from(r: PlannerRepr) -> Result<Self> {
        let planner = Planner {
            budget: r.budget,
            team_capacity: r.team_capacity,
            unprofitable: r.unprofitable,
        };
        planner.validate()?;
        Ok(planner)
    }
}

/// What the [`Planner`] does with interventions whose expected net value
/// is negative (expected value saved below their cost).
///
/// # Example
///
/// See [`Planner::unprofitable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unprofitable {
    /// Leave them out: only interventions worth their cost are planned. The default.
    #[default]
    Skip,
    /// Assign them too: each eligible customer gets their best option while
    /// the budget lasts, even at an expected loss.
    Assign,
}

impl Planner {
    /// A planner spending at most `budget`, which must be finite and `≥ 0`
    /// ([`validate`](Self::validate) checks it).
    pub fn new(budget: f64) -> Self {
        Planner {
            budget,
            team_capacity: BTreeMap::new(),
            unprofitable: Unprofitable::Skip,
        }
    }

    /// At most `customers` for one team. By default teams are unlimited.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Route;
    /// use churnwise::retention::Planner;
    /// # let (profiles, playbook) = churnwise::doc_support::plan_inputs()?;
    ///
    /// // The budget would buy four discounts, but marketing can only reach one customer.
    /// let plan = Planner::new(1_000.0).team_capacity(Route::Marketing, 1).plan(&profiles, &playbook)?;
    /// assert_eq!(plan.summary().customers(), 1);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn team_capacity(mut self, team: Route, customers: usize) -> Self {
        self.team_capacity.insert(team, customers);
        self
    }

    /// Whether to plan interventions whose expected net value is negative.
    /// Defaults to [`Unprofitable::Skip`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Route;
    /// use churnwise::retention::{Intervention, InterventionKind, Planner, Playbook, SegmentBy, Unprofitable};
    /// # let (profiles, _) = churnwise::doc_support::plan_inputs()?;
    ///
    /// // At a cost of 40, a discount is not worth it for the customer least likely to churn.
    /// let playbook = Playbook::new(
    ///     vec![Intervention::new("discount", InterventionKind::Discount, 40.0, 0.3, Route::Marketing)],
    ///     SegmentBy::LifecycleStage,
    /// )?;
    /// assert_eq!(Planner::new(1_000.0).plan(&profiles, &playbook)?.summary().customers(), 3);
    /// let all = Planner::new(1_000.0).unprofitable(Unprofitable::Assign).plan(&profiles, &playbook)?;
    /// assert_eq!(all.summary().customers(), 4);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn unprofitable(mut self, unprofitable: Unprofitable) -> Self {
        self.unprofitable = unprofitable;
        self
    }

    /// The budget.
    pub fn budget(&self) -> f64 {
        self.budget
    }

    /// The team's capacity in customers; `None` when unlimited.
    pub fn team_capacity_value(&self, team: Route) -> Option<usize> {
        self.team_capacity.get(&team).copied()
    }

    /// What is done with unprofitable interventions.
    pub fn unprofitable_value(&self) -> Unprofitable {
        self.unprofitable
    }

    /// Checks the settings; [`plan`](Self::plan) calls it, and so does
    /// deserialization.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `budget` for a negative or non-finite budget.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::retention::Planner;
    ///
    /// assert!(Planner::new(1_000.0).validate().is_ok());
    /// assert!(Planner::new(-1.0).validate().is_err());
    /// assert!(Planner::new(f64::INFINITY).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        if !(self.budget.is_finite() && self.budget >= 0.0) {
            return Err(Error::invalid_parameter(
                "budget",
                format!("must be finite and ≥ 0, got {}", self.budget),
            ));
        }
        Ok(())
    }

    /// Plans the campaign.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] as [`validate`](Self::validate);
    /// [`ErrorKind::MissingValue`] if the profiles lack churn probabilities,
    /// customer values or the playbook's segments; the eligibility
    /// conditions' errors ([`ErrorKind::InvalidPolicy`] for an unknown field).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::rules::Route;
    /// use churnwise::retention::{Intervention, InterventionKind, Planner, Playbook, SegmentBy};
    /// use churnwise::score::{Profile, Profiles};
    /// use churnwise::segment::LifecycleStage;
    ///
    /// let profile = |i: u64, p: f64| Profile::new(i).with_churn_probability(p).with_customer_value(500.0).with_lifecycle_stage(LifecycleStage::Active);
    /// let profiles = Profiles::from_profiles(vec![profile(1, 0.1), profile(2, 0.7)])?;
    /// let playbook = Playbook::new(vec![Intervention::new("call", InterventionKind::PersonalCallBack, 50.0, 0.4, Route::Sales)], SegmentBy::LifecycleStage)?;
    /// let plan = Planner::new(100.0).plan(&profiles, &playbook)?;
    /// // Only customer 2 is worth a call: 0.7 × 500 × 0.4 = 140 > 50, but 0.1 × 500 × 0.4 = 20 < 50.
    /// assert_eq!(plan.assignments().len(), 1);
    /// assert_eq!(plan.assignments()[0].customer.to_string(), "2");
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn plan(&self, profiles: &Profiles, playbook: &Playbook) -> Result<Plan> {
        self.validate()?;
        let include_negative = self.unprofitable == Unprofitable::Assign;
        let missing = |field: &str| -> Error {
            ErrorKind::MissingValue {
                record: "profiles".into(),
                field: field.into(),
            }
            .into()
        };
        let p = profiles
            .churn_probabilities()
            .ok_or_else(|| missing("churn_probability"))?;
        let value = profiles
            .customer_values()
            .ok_or_else(|| missing("customer_value"))?;
        let segments = segment_labels(playbook, profiles)?;
        let eligible = playbook.eligibility(profiles)?;
        let interventions = playbook.interventions();

        // Each customer's options: (intervention, cost, value), positive unless asked.
        let mut candidates: Vec<Candidate> = Vec::new();
        for i in 0..profiles.len() {
            let options: Vec<Opt> = interventions
                .iter()
                .enumerate()
                .filter(|(j, _)| eligible[*j][i])
                .map(|(j, iv)| {
                    let effect = iv.effect_for(Some(segments[i]));
                    Opt {
                        j,
                        cost: iv.cost(),
                        value: p[i] * value[i] * effect - iv.cost(),
                    }
                })
                .filter(|o| include_negative || o.value > 0.0)
                .collect();
            if !options.is_empty() {
                candidates.push(Candidate { row: i, options });
            }
        }
        let limits = Limits::new(self, playbook);
        // Positive options only: the bound and the greedy; negative ones (when
        // asked for) are added by the repair pass from what is left.
        let hulls: Vec<Vec<Opt>> = candidates.iter().map(|c| hull(&c.options)).collect();
        let order = steps(&hulls);
        let upper_bound = lp_bound(&hulls, &order, self.budget);
        let mut choice = greedy(&candidates, &hulls, &order, self.budget, &limits);
        repair(
            &candidates,
            &mut choice,
            self.budget,
            &limits,
            include_negative,
        );
        let mut optimal = false;
        if !include_negative && candidates.len() <= EXACT_CUSTOMERS {
            (choice, optimal) = exact(&candidates, self.budget, &limits, choice);
        }
        let mut plan = Plan::assemble(
            self,
            profiles,
            playbook,
            &segments,
            &candidates,
            &choice,
            upper_bound,
        );
        plan.summary.optimal = optimal || candidates.is_empty();
        Ok(plan)
    }
}

/// One option of one customer.
#[derive(Debug, Clone, Copy)]
struct Opt {
    j: usize,
    cost: f64,
    value: f64,
}

/// A customer with at least one option.
#[derive(Debug, Clone)]
struct Candidate {
    row: usize,
    options: Vec<Opt>,
}

/// Capacity per team and per intervention, with the team of each intervention.
struct Limits {
    team_of: Vec<usize>,
    team_cap: Vec<usize>,
    intervention_cap: Vec<usize>,
}

impl Limits {
    fn new(planner: &Planner, playbook: &Playbook) -> Self {
        let mut teams: Vec<&Route> = Vec::new();
        let team_of = playbook
            .interventions()
            .iter()
            .map(|iv| match teams.iter().position(|t| *t == iv.owner()) {
                Some(t) => t,
                None => {
                    teams.push(iv.owner());
                    teams.len() - 1
                }
            })
            .collect();
        Limits {
            team_of,
            team_cap: teams
                .iter()
                .map(|t| planner.team_capacity.get(t).copied().unwrap_or(usize::MAX))
                .collect(),
            intervention_cap: playbook
                .interventions()
                .iter()
                .map(|iv| iv.capacity().unwrap_or(usize::MAX))
                .collect(),
        }
    }

    fn usage(&self) -> Usage {
        Usage {
            team: vec![0; self.team_cap.len()],
            intervention: vec![0; self.intervention_cap.len()],
        }
    }
}

/// Customers served per team and per intervention.
#[derive(Clone)]
struct Usage {
    team: Vec<usize>,
    intervention: Vec<usize>,
}

impl Usage {
    /// Whether switching a customer from `from` to `to` keeps within capacity.
    fn allows(&self, limits: &Limits, from: Option<usize>, to: usize) -> bool {
        if from == Some(to) {
            return true;
        }
        let team = limits.team_of[to];
        let freed_team = from.is_some_and(|f| limits.team_of[f] == team);
        (freed_team || self.team[team] < limits.team_cap[team])
            && self.intervention[to] < limits.intervention_cap[to]
    }

    fn switch(&mut self, limits: &Limits, from: Option<usize>, to: Option<usize>) {
        if let Some(f) = from {
            self.team[limits.team_of[f]] -= 1;
            self.intervention[f] -= 1;
        }
        if let Some(t) = to {
            self.team[limits.team_of[t]] += 1;
            self.intervention[t] += 1;
        }
    }
}

/// A customer's upper convex hull above "nothing": options by rising cost
/// with falling incremental efficiency.
fn hull(options: &[Opt]) -> Vec<Opt> {
    let mut sorted: Vec<Opt> = options.to_vec();
    sorted.sort_by(|a, b| {
        a.cost
            .total_cmp(&b.cost)
            .then(b.value.total_cmp(&a.value))
            .then(a.j.cmp(&b.j))
    });
    let start = Opt {
        j: usize::MAX,
        cost: 0.0,
        value: 0.0,
    };
    let mut out: Vec<Opt> = Vec::new();
    for o in sorted {
        let last = out.last().copied().unwrap_or(start);
        if o.value <= last.value {
            continue; // dominated: costs at least as much, worth no more
        }
        // Drop points that would make the hull non-concave.
        while let Some(&b) = out.last() {
            let a = if out.len() >= 2 {
                out[out.len() - 2]
            } else {
                start
            };
            let (e_ab, e_bo) = (slope(a, b), slope(b, o));
            if e_bo >= e_ab {
                out.pop();
            } else {
                break;
            }
        }
        out.push(o);
    }
    out
}

fn slope(a: Opt, b: Opt) -> f64 {
    let dc = b.cost - a.cost;
    if dc <= 0.0 {
        f64::INFINITY
    } else {
        (b.value - a.value) / dc
    }
}

/// Incremental steps of every hull: (efficiency, candidate, hull position).
fn steps(hulls: &[Vec<Opt>]) -> Vec<(f64, usize, usize)> {
    let mut steps = Vec::new();
    for (c, h) in hulls.iter().enumerate() {
        for k in 0..h.len() {
            let prev = if k == 0 {
                Opt {
                    j: usize::MAX,
                    cost: 0.0,
                    value: 0.0,
                }
            } else {
                h[k - 1]
            };
            steps.push((slope(prev, h[k]), c, k));
        }
    }
    // By efficiency, then candidate and position: a total, deterministic order
    // in which each hull's steps stay in sequence.
    steps.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    steps
}

/// The LP relaxation's optimum (budget only): an upper bound on any plan.
fn lp_bound(hulls: &[Vec<Opt>], order: &[(f64, usize, usize)], budget: f64) -> f64 {
    let (mut left, mut total) = (budget, 0.0);
    let mut at: Vec<Option<usize>> = vec![None; hulls.len()];
    for &(e, c, k) in order {
        if e <= 0.0 || at[c].map_or(k != 0, |p| p + 1 != k) {
            continue;
        }
        let prev = at[c].map_or((0.0, 0.0), |p| (hulls[c][p].cost, hulls[c][p].value));
        let (dc, dv) = (hulls[c][k].cost - prev.0, hulls[c][k].value - prev.1);
        if dc <= left {
            left -= dc;
            total += dv;
            at[c] = Some(k);
        } else {
            total += dv * left / dc;
            break;
        }
    }
    total
}

/// Greedy along the hulls in order of efficiency; returns each candidate's option index.
fn greedy(
    candidates: &[Candidate],
    hulls: &[Vec<Opt>],
    order: &[(f64, usize, usize)],
    budget: f64,
    limits: &Limits,
) -> Vec<Option<usize>> {
    let mut at: Vec<Option<usize>> = vec![None; hulls.len()];
    let mut closed = vec![false; hulls.len()];
    let mut usage = limits.usage();
    let mut left = budget;
    for &(_, c, k) in order {
        if closed[c] || at[c].map_or(k != 0, |p| p + 1 != k) {
            continue;
        }
        let from = at[c].map(|p| hulls[c][p]);
        let to = hulls[c][k];
        let dc = to.cost - from.map_or(0.0, |f| f.cost);
        if dc > left || !usage.allows(limits, from.map(|f| f.j), to.j) {
            closed[c] = true;
            continue;
        }
        left -= dc;
        usage.switch(limits, from.map(|f| f.j), Some(to.j));
        at[c] = Some(k);
    }
    // Hull positions → option indices.
    at.iter()
        .zip(hulls)
        .zip(candidates)
        .map(|((p, h), cand)| p.and_then(|p| cand.options.iter().position(|o| o.j == h[p].j)))
        .collect()
}

/// Spends what is left on the best single upgrades that fit (any option, on the hull or not).
fn repair(
    candidates: &[Candidate],
    choice: &mut [Option<usize>],
    budget: f64,
    limits: &Limits,
    include_negative: bool,
) {
    let mut usage = limits.usage();
    let mut left = budget;
    for (c, ch) in choice.iter().enumerate() {
        if let Some(o) = ch {
            let opt = candidates[c].options[*o];
            left -= opt.cost;
            usage.switch(limits, None, Some(opt.j));
        }
    }
    let mut upgrades: Vec<(f64, usize, usize)> = Vec::new();
    for (c, cand) in candidates.iter().enumerate() {
        let current = choice[c].map(|o| cand.options[o]);
        for (o, opt) in cand.options.iter().enumerate() {
            let gain = opt.value - current.map_or(0.0, |x| x.value);
            if gain > 0.0 || (include_negative && current.is_none()) {
                upgrades.push((gain, c, o));
            }
        }
    }
    upgrades.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    for (_, c, o) in upgrades {
        let cand = &candidates[c];
        let current = choice[c].map(|x| cand.options[x]);
        let opt = cand.options[o];
        let gain = opt.value - current.map_or(0.0, |x| x.value);
        let extra = opt.cost - current.map_or(0.0, |x| x.cost);
        if !(gain > 0.0 || (include_negative && current.is_none())) || extra > left {
            continue;
        }
        if !usage.allows(limits, current.map(|x| x.j), opt.j) {
            continue;
        }
        left -= extra;
        usage.switch(limits, current.map(|x| x.j), Some(opt.j));
        choice[c] = Some(o);
    }
}

/// Branch and bound over candidates (each: nothing or one option), starting
/// from `best`; also whether the search completed (the plan is optimal).
fn exact(
    candidates: &[Candidate],
    budget: f64,
    limits: &Limits,
    best: Vec<Option<usize>>,
) -> (Vec<Option<usize>>, bool) {
    struct Search<'a> {
        candidates: &'a [Candidate],
        limits: &'a Limits,
        best_value: f64,
        best: Vec<Option<usize>>,
        current: Vec<Option<usize>>,
        /// Σ of each later candidate's best option value, for pruning.
        rest: Vec<f64>,
        /// Nodes left before the search stops with the best plan so far.
        budget_nodes: u64,
    }
    impl Search<'_> {
        fn go(&mut self, c: usize, left: f64, value: f64, usage: &mut Usage) {
            if value > self.best_value + 1e-12 {
                self.best_value = value;
                self.best.clone_from(&self.current);
            }
            if c == self.candidates.len()
                || value + self.rest[c] <= self.best_value + 1e-12
                || self.budget_nodes == 0
            {
                return;
            }
            self.budget_nodes -= 1;
            let cand = &self.candidates[c];
            let mut order: Vec<usize> = (0..cand.options.len()).collect();
            order.sort_by(|&a, &b| cand.options[b].value.total_cmp(&cand.options[a].value));
            for o in order {
                let opt = cand.options[o];
                if opt.cost <= left && usage.allows(self.limits, None, opt.j) {
                    usage.switch(self.limits, None, Some(opt.j));
                    self.current[c] = Some(o);
                    self.go(c + 1, left - opt.cost, value + opt.value, usage);
                    self.current[c] = None;
                    usage.switch(self.limits, Some(opt.j), None);
                }
            }
            self.go(c + 1, left, value, usage);
        }
    }
    let value_of = |choice: &[Option<usize>]| -> f64 {
        choice
            .iter()
            .zip(candidates)
            .filter_map(|(o, cand)| o.map(|o| cand.options[o].value))
            .sum()
    };
    let mut rest = vec![0.0; candidates.len() + 1];
    for c in (0..candidates.len()).rev() {
        let top = candidates[c]
            .options
            .iter()
            .map(|o| o.value)
            .fold(0.0, f64::max);
        rest[c] = rest[c + 1] + top;
    }
    let mut search = Search {
        candidates,
        limits,
        best_value: value_of(&best),
        best,
        current: vec![None; candidates.len()],
        rest,
        budget_nodes: 5_000_000,
    };
    search.go(0, budget, 0.0, &mut limits.usage());
    (search.best, search.budget_nodes > 0)
}

/// One customer's planned intervention.
///
/// # Example
///
/// See [`Planner`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Assignment {
    /// The customer.
    pub customer: CustomerId,
    /// The customer's row in the profiles.
    pub row: usize,
    /// The intervention's id.
    pub intervention: String,
    /// The team that delivers it.
    pub owner: Route,
    /// The customer's segment (as the playbook segments effects).
    pub segment: String,
    /// The customer's churn probability.
    pub churn_probability: f64,
    /// The customer's value.
    pub customer_value: f64,
    /// The effect assumed (relative churn reduction).
    pub effect: f64,
    /// The intervention's cost.
    pub cost: f64,
}

impl Assignment {
    /// The intervention's id.
    pub fn intervention(&self) -> &str {
        &self.intervention
    }

    /// Expected churners saved: `p × effect`.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::retention::Planner;
    /// # let (profiles, playbook) = churnwise::doc_support::plan_inputs()?;
    /// # let plan = Planner::new(60.0).plan(&profiles, &playbook)?;
    /// let a = &plan.assignments()[1]; // churn probability 0.8, effect 0.3
    /// assert!((a.expected_saved() - 0.24).abs() < 1e-12);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn expected_saved(&self) -> f64 {
        self.churn_probability * self.effect
    }

    /// Expected revenue protected: `p × value × effect`.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::retention::Planner;
    /// # let (profiles, playbook) = churnwise::doc_support::plan_inputs()?;
    /// # let plan = Planner::new(60.0).plan(&profiles, &playbook)?;
    /// let a = &plan.assignments()[1]; // 0.8 × 500 × 0.3
    /// assert!((a.revenue_protected() - 120.0).abs() < 1e-9);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn revenue_protected(&self) -> f64 {
        self.expected_saved() * self.customer_value
    }

    /// Expected net value: revenue protected − cost.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::retention::Planner;
    /// # let (profiles, playbook) = churnwise::doc_support::plan_inputs()?;
    /// # let plan = Planner::new(60.0).plan(&profiles, &playbook)?;
    /// let a = &plan.assignments()[1]; // 0.8 × 500 × 0.3 − 25
    /// assert!((a.net_value() - 95.0).abs() < 1e-9);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn net_value(&self) -> f64 {
        self.revenue_protected() - self.cost
    }
}

/// Totals of a plan (or of one intervention within it).
///
/// # Example
///
/// See [`Planner`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PlanSummary {
    customers: usize,
    expected_saved: f64,
    revenue_protected: f64,
    cost: f64,
    upper_bound: f64,
    optimal: bool,
}

impl PlanSummary {
    fn of<'a>(assignments: impl Iterator<Item = &'a Assignment>, upper_bound: f64) -> Self {
        let mut s = PlanSummary {
            upper_bound,
            ..PlanSummary::default()
        };
        for a in assignments {
            s.customers += 1;
            s.expected_saved += a.expected_saved();
            s.revenue_protected += a.revenue_protected();
            s.cost += a.cost;
        }
        s
    }

    /// Customers treated.
    pub fn customers(&self) -> usize {
        self.customers
    }

    /// Expected churners saved.
    pub fn expected_saved(&self) -> f64 {
        self.expected_saved
    }

    /// Expected revenue protected.
    pub fn revenue_protected(&self) -> f64 {
        self.revenue_protected
    }

    /// Total cost.
    pub fn cost(&self) -> f64 {
        self.cost
    }

    /// Expected net value: revenue protected − cost.
    pub fn net_value(&self) -> f64 {
        self.revenue_protected - self.cost
    }

    /// Return on investment: net value / cost (`None` without cost).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::retention::Planner;
    /// # let (profiles, playbook) = churnwise::doc_support::plan_inputs()?;
    /// # let plan = Planner::new(60.0).plan(&profiles, &playbook)?;
    /// assert!((plan.summary().roi().unwrap() - 3.2).abs() < 1e-9); // 160 / 50
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn roi(&self) -> Option<f64> {
        (self.cost > 0.0).then(|| self.net_value() / self.cost)
    }

    /// The best net value any plan could reach (LP relaxation, budget only).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::retention::Planner;
    /// # let (profiles, playbook) = churnwise::doc_support::plan_inputs()?;
    /// # let plan = Planner::new(60.0).plan(&profiles, &playbook)?;
    /// // Two discounts plus 10/25 of the next best one (worth 35).
    /// assert!((plan.summary().upper_bound() - 174.0).abs() < 1e-9);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn upper_bound(&self) -> f64 {
        self.upper_bound
    }

    /// Whether the plan is proven optimal (small plans, solved exactly).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::retention::Planner;
    /// # let (profiles, playbook) = churnwise::doc_support::plan_inputs()?;
    /// # let plan = Planner::new(60.0).plan(&profiles, &playbook)?;
    /// assert!(plan.summary().is_optimal()); // few customers: solved exactly
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn is_optimal(&self) -> bool {
        self.optimal
    }

    /// `(upper bound − net value) / upper bound`: the most this plan can
    /// fall short of the optimum, as a fraction (0 when nothing is worth doing).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::retention::Planner;
    /// # let (profiles, playbook) = churnwise::doc_support::plan_inputs()?;
    /// # let plan = Planner::new(60.0).plan(&profiles, &playbook)?;
    /// let s = plan.summary();
    /// assert!((s.optimality_gap() - (174.0 - 160.0) / 174.0).abs() < 1e-9);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn optimality_gap(&self) -> f64 {
        if self.upper_bound <= 0.0 {
            0.0
        } else {
            ((self.upper_bound - self.net_value()) / self.upper_bound).max(0.0)
        }
    }
}

/// A planned campaign: who gets what, and what it is expected to achieve.
///
/// # Example
///
/// ```
/// use churnwise::rules::Route;
/// use churnwise::retention::{Intervention, InterventionKind, Planner, Playbook, SegmentBy};
/// use churnwise::score::{Profile, Profiles};
/// use churnwise::segment::LifecycleStage;
///
/// let profiles = Profiles::from_profiles(
///     (0..4u64)
///         .map(|i| {
///             Profile::new(i)
///                 .with_churn_probability(0.2 * (i + 1) as f64)
///                 .with_customer_value(500.0)
///                 .with_lifecycle_stage(LifecycleStage::Active)
///         })
///         .collect(),
/// )?;
/// let playbook = Playbook::new(
///     vec![Intervention::new("discount", InterventionKind::Discount, 25.0, 0.3, Route::Marketing)],
///     SegmentBy::LifecycleStage,
/// )?;
/// let plan = Planner::new(60.0).plan(&profiles, &playbook)?;
/// // The budget buys two discounts: the two customers most likely to churn.
/// assert_eq!(plan.summary().customers(), 2);
/// assert_eq!(plan.summary().cost(), 50.0);
/// let mut who: Vec<String> = plan.assignments().iter().map(|a| a.customer.to_string()).collect();
/// who.sort();
/// assert_eq!(who, ["2", "3"]);
/// for a in plan.assignments() {
///     // expected saved = churn probability × effect; revenue protected = that × value
///     assert!((a.expected_saved() - a.churn_probability * a.effect).abs() < 1e-12);
/// }
/// let (id, discount) = &plan.by_intervention()[0];
/// assert_eq!((id.as_str(), discount.customers()), ("discount", 2));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    assignments: Vec<Assignment>,
    budget: f64,
    summary: PlanSummary,
    by_intervention: Vec<(String, PlanSummary)>,
}

impl Plan {
    fn assemble(
        planner: &Planner,
        profiles: &Profiles,
        playbook: &Playbook,
        segments: &[&str],
        candidates: &[Candidate],
        choice: &[Option<usize>],
        upper_bound: f64,
    ) -> Plan {
        let (p, v) = (
            profiles.churn_probabilities().unwrap_or_default(),
            profiles.customer_values().unwrap_or_default(),
        );
        let assignments: Vec<Assignment> = candidates
            .iter()
            .zip(choice)
            .filter_map(|(cand, o)| {
                let opt = cand.options[(*o)?];
                let iv = &playbook.interventions()[opt.j];
                let i = cand.row;
                Some(Assignment {
                    customer: profiles.ids()[i].clone(),
                    row: i,
                    intervention: iv.id().to_owned(),
                    owner: iv.owner().clone(),
                    segment: segments[i].to_owned(),
                    churn_probability: p[i],
                    customer_value: v[i],
                    effect: iv.effect_for(Some(segments[i])),
                    cost: iv.cost(),
                })
            })
            .collect();
        let by_intervention = playbook
            .interventions()
            .iter()
            .map(|iv| {
                let mine = assignments.iter().filter(|a| a.intervention == iv.id());
                (iv.id().to_owned(), PlanSummary::of(mine, 0.0))
            })
            .collect();
        Plan {
            summary: PlanSummary::of(assignments.iter(), upper_bound),
            assignments,
            budget: planner.budget,
            by_intervention,
        }
    }

    /// The assignments, in profile order.
    pub fn assignments(&self) -> &[Assignment] {
        &self.assignments
    }

    /// The budget planned for.
    pub fn budget(&self) -> f64 {
        self.budget
    }

    /// The totals.
    pub fn summary(&self) -> &PlanSummary {
        &self.summary
    }

    /// Totals per intervention, in playbook order (upper bounds are 0).
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::retention::Planner;
    /// # let (profiles, playbook) = churnwise::doc_support::plan_inputs()?;
    /// # let plan = Planner::new(60.0).plan(&profiles, &playbook)?;
    /// let (id, discount) = &plan.by_intervention()[0];
    /// assert_eq!((id.as_str(), discount.customers()), ("discount", 2));
    /// assert_eq!(discount.upper_bound(), 0.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn by_intervention(&self) -> &[(String, PlanSummary)] {
        &self.by_intervention
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(j: usize, cost: f64, value: f64) -> Opt {
        Opt { j, cost, value }
    }

    #[test]
    fn hull_drops_dominated_and_concave_points() {
        // (10, 5) is dominated by (5, 6); (20, 8) lies under the chord from (5, 6) to (30, 16).
        let h = hull(&[
            opt(0, 5.0, 6.0),
            opt(1, 10.0, 5.0),
            opt(2, 20.0, 8.0),
            opt(3, 30.0, 16.0),
        ]);
        let js: Vec<usize> = h.iter().map(|o| o.j).collect();
        assert_eq!(js, [0, 3]);
    }

    #[test]
    fn lp_bound_is_the_fractional_knapsack_on_hand_data() {
        // One option each: values 10, 6, 4 at costs 5, 4, 4; budget 7 → 10 + 6 · 2/4 = 13.
        let cands: Vec<Candidate> = [(5.0, 10.0), (4.0, 6.0), (4.0, 4.0)]
            .iter()
            .enumerate()
            .map(|(row, &(c, v))| Candidate {
                row,
                options: vec![opt(0, c, v)],
            })
            .collect();
        let hulls: Vec<Vec<Opt>> = cands.iter().map(|c| hull(&c.options)).collect();
        assert!((lp_bound(&hulls, &steps(&hulls), 7.0) - 13.0).abs() < 1e-12);
    }
}
