//! Arbitrary text as a saved `ChurnScorer` (JSON).
//!
//! Loading must return a scorer or a typed error, never panic; a scorer that
//! loads scores and explains a fixed row of its own width, scores the fixed
//! profiles' feature table, and saves again.

#![no_main]

use churnwise::score::ChurnScorer;
use libfuzzer_sys::fuzz_target;

const ROW: [f64; 5] = [0.0, 1.0, 3.5, 120.0, 1e6];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(scorer) = ChurnScorer::from_json(text) else {
        return;
    };
    let row: Vec<f64> = (0..scorer.features().len()).map(|j| ROW[j % 5]).collect();
    if let Ok(p) = scorer.score_one(&row) {
        assert!((0.0..=1.0).contains(&p), "probability {p} out of [0, 1]");
    }
    let _ = scorer.explain(&row);
    let _ = scorer.score_one(&[]);
    let f = churnwise_fuzz::fixture();
    if let Ok(p) = scorer.score_table(f.now.table()) {
        assert!(
            p.iter().all(|p| (0.0..=1.0).contains(p)),
            "probability out of [0, 1]"
        );
    }
    // A scorer that loads saves and loads back equal.
    let json = scorer.to_json().expect("a loaded scorer saves");
    assert_eq!(
        ChurnScorer::from_json(&json).ok().as_ref(),
        Some(&scorer),
        "a loaded scorer does not load back equal"
    );
});
