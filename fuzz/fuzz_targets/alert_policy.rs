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
    let again = AlertPolicy::from_json(&policy.to_json());
    assert!(
        again.is_ok(),
        "a loaded policy's JSON does not load: {again:?}"
    );
    let f = churnwise_fuzz::fixture();
    let engine = AlertEngine::new(policy);
    let _ = engine.check(&f.now);
    if let Ok(report) = engine.evaluate(&f.now, Some(&f.before)) {
        let _ = report.counts();
        let _ = report.work_lists();
        for alert in report.alerts() {
            let _ = alert.reasons().iter().map(ToString::to_string).count();
        }
    }
    let _ = engine.evaluate(&f.now, None);
});
