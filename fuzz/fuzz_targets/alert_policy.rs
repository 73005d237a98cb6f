//! Arbitrary text as an alert policy, JSON (first byte even) or TOML (odd).
//!
//! Loading must return a policy or a typed error, never panic; a policy that
//! loads is evaluated on fixed profiles, with and without a previous
//! snapshot, and must round-trip through its JSON form.

#![no_main]

use churnwise::alert::{AlertEngine, AlertPolicy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let loaded = if mode % 2 == 0 {
        AlertPolicy::from_json(text)
    } else {
        AlertPolicy::from_toml(text)
    };
    let Ok(policy) = loaded else {
        return;
    };
    // A policy that loads round-trips through JSON, equal.
    let again = AlertPolicy::from_json(&policy.to_json());
    assert_eq!(
        again.as_ref().ok(),
        Some(&policy),
        "a loaded policy's JSON does not load back equal: {again:?}"
    );
    // Its conditions are within the limits, so walking them is bounded.
    for rule in policy.rules() {
        assert!(rule.condition().depth() <= churnwise::rules::MAX_DEPTH);
        let _ = rule.condition().to_string();
    }
    let f = churnwise_fuzz::fixture();
    let engine = AlertEngine::new(policy);
    let _ = engine.check(&f.now);
    if let Ok(report) = engine.evaluate(&f.now, Some(&f.before)) {
        let _ = report.counts();
        let _ = report.work_lists();
        for alert in report.alerts() {
            assert!(alert.reasons().len() <= churnwise::alert::MAX_REASONS);
            let _ = alert.to_string();
        }
    }
    let _ = engine.evaluate(&f.now, None);
});
