//! Arbitrary text as retention configuration. The first byte chooses:
//! `0` playbook JSON, `1` playbook TOML, `2` `Planner` JSON, `3` `HoldOut` JSON.
//!
//! Loading must return a value or a typed error, never panic. A playbook
//! that loads is planned on fixed profiles; a planner plans the default
//! playbook; a hold-out splits a fixed plan. Plans must respect the budget.

#![no_main]

use churnwise::retention::{HoldOut, Plan, Planner, Playbook};
use libfuzzer_sys::fuzz_target;

fn check(plan: &Plan) {
    let s = plan.summary();
    assert!(
        s.cost() <= plan.budget() * (1.0 + 1e-9) + 1e-9,
        "plan cost {} over budget {}",
        s.cost(),
        plan.budget()
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let f = churnwise_fuzz::fixture();
    match mode % 4 {
        0 | 1 => {
            let loaded = if mode % 4 == 0 {
                Playbook::from_json(text)
            } else {
                Playbook::from_toml(text)
            };
            if let Ok(playbook) = loaded {
                // A playbook that loads round-trips through JSON, equal.
                let json = serde_json::to_string(&playbook).expect("a playbook saves");
                assert_eq!(
                    Playbook::from_json(&json).ok().as_ref(),
                    Some(&playbook),
                    "a loaded playbook does not load back equal"
                );
                for budget in [0.0, 500.0, 1e12] {
                    if let Ok(plan) = Planner::new(budget).plan(&f.now, &playbook)
                    {
                        check(&plan);
                    }
                }
            }
        }
        2 => {
            if let Ok(planner) = serde_json_from::<Planner>(text)
                && let Ok(plan) = planner.plan(&f.now, &Playbook::default_playbook())
            {
                check(&plan);
            }
        }
        _ => {
            if let Ok(holdout) = serde_json_from::<HoldOut>(text) {
                let plan = churnwise_fuzz::default_plan();
                let split = holdout.split(plan).expect("a loaded hold-out is valid");
                assert_eq!(split.len(), plan.assignments().len());
            }
        }
    }
});

fn serde_json_from<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_str(text)
}
