//! Glue shared by the examples: the synthetic population's ground truth
//! for customers, and running a retention plan on it.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use churnwise::records::CustomerId;
use churnwise::retention::{CampaignOutcome, HoldOut, InterventionKind, Plan, Playbook};
use churnwise::synth::{CampaignResult, CustomerTruth, PopulationConfig, Treatment};

/// Whether a customer is alive (signed up and not churned) at `t`.
#[allow(dead_code)] // used by quickstart, not by retention_loop
pub fn truth_alive(truth: &[CustomerTruth], id: &CustomerId, t: DateTime<Utc>) -> bool {
    // Truth is in id order: customers 1..=n.
    truth
        .binary_search_by(|x| x.id().cmp(id))
        .is_ok_and(|k| truth[k].churn_time().is_none_or(|c| c > t))
}

/// Who truly churns in (as_of, as_of + horizon days], by customer.
#[allow(dead_code)] // used by quickstart, not by retention_loop
pub fn truth_by_id(
    truth: &[CustomerTruth],
    as_of: DateTime<Utc>,
    horizon: f64,
) -> HashMap<CustomerId, bool> {
    let end = as_of + TimeDelta::seconds((horizon * 86_400.0) as i64);
    truth
        .iter()
        .map(|t| {
            (
                t.id().clone(),
                t.churn_time().is_some_and(|c| c > as_of && c <= end),
            )
        })
        .collect()
}

/// Runs a plan on the simulated population: treated customers' churn hazard
/// falls by their true response to what they received; controls get nothing.
pub fn run_campaign(
    config: &PopulationConfig,
    plan: &Plan,
    playbook: &Playbook,
    truth: &[CustomerTruth],
    as_of: DateTime<Utc>,
    horizon: f64,
) -> churnwise::Result<Vec<CampaignOutcome>> {
    let control = HoldOut::new(0.2, 7).split(plan)?;
    let effects = true_effects(plan, playbook, truth);
    let treatments = plan
        .assignments()
        .iter()
        .zip(&control)
        .zip(effects)
        .map(|((a, &held), e)| {
            Ok((
                a.customer.clone(),
                Treatment::new(if held { 0.0 } else { e })?,
            ))
        })
        .collect::<churnwise::Result<Vec<_>>>()?;
    let results = config.simulate_campaign(as_of, horizon, &treatments)?;
    let by_id: HashMap<&CustomerId, _> = results.iter().map(|r| (r.id(), r)).collect();
    Ok(plan
        .assignments()
        .iter()
        .zip(&control)
        .filter_map(|(a, &held)| {
            let r = by_id.get(&a.customer)?;
            let arm = if held { "control" } else { a.intervention() };
            Some(
                CampaignOutcome::new(a.customer.clone(), arm, r.is_churned())
                    .intervention(a.intervention())
                    .segment(a.segment.clone())
                    .repurchased(r.has_repurchased())
                    .revenue_after(r.revenue())
                    .cost(if held { 0.0 } else { a.cost }),
            )
        })
        .collect())
}

/// Each assignment's true effect: the customer's response to what they get
/// (interventions the generator has no response for do nothing).
fn true_effects(plan: &Plan, playbook: &Playbook, truth: &[CustomerTruth]) -> Vec<f64> {
    let responses: HashMap<&CustomerId, &CustomerTruth> =
        truth.iter().map(|t| (t.id(), t)).collect();
    plan.assignments()
        .iter()
        .map(|a| {
            let Some(t) = responses.get(&a.customer) else {
                return 0.0;
            };
            let r = t.responses();
            match playbook.get(a.intervention()).map(|i| i.kind()) {
                Some(InterventionKind::Discount) => r.discount(),
                Some(InterventionKind::VipService) => r.vip_service(),
                Some(InterventionKind::FreeRepair) => r.free_repair(),
                Some(InterventionKind::Reactivation) => r.reactivation(),
                Some(InterventionKind::Onboarding) => r.onboarding(),
                _ => 0.0,
            }
        })
        .collect()
}

/// What a plan really achieves when everyone in it is treated: the value of
/// the churners it saves (each customer simulated with and without their
/// treatment on the same random stream) less its cost. Returns
/// (customers saved, net value).
#[allow(dead_code)] // used by retention_loop, not by quickstart
pub fn realized_value(
    config: &PopulationConfig,
    plan: &Plan,
    playbook: &Playbook,
    truth: &[CustomerTruth],
    as_of: DateTime<Utc>,
    horizon: f64,
) -> churnwise::Result<(f64, f64)> {
    let treatments = plan
        .assignments()
        .iter()
        .zip(true_effects(plan, playbook, truth))
        .map(|(a, e)| Ok((a.customer.clone(), Treatment::new(e)?)))
        .collect::<churnwise::Result<Vec<_>>>()?;
    let churned = |results: Vec<CampaignResult>| -> HashMap<CustomerId, bool> {
        results
            .into_iter()
            .map(|r| (r.id().clone(), r.is_churned()))
            .collect()
    };
    let without = churned(config.simulate_campaign(as_of, horizon, &[])?);
    let with = churned(config.simulate_campaign(as_of, horizon, &treatments)?);
    let (mut saved, mut value) = (0.0, 0.0);
    for a in plan.assignments() {
        let delta = f64::from(u8::from(without.get(&a.customer) == Some(&true)))
            - f64::from(u8::from(with.get(&a.customer) == Some(&true)));
        saved += delta;
        value += delta * a.customer_value - a.cost;
    }
    Ok((saved, value))
}
