//! Scoring from several threads through one shared, loaded scorer, as
//! another team's service would.
//!
//! ```text
//! cargo run --release --example score_service [-- SCORER.json]
//! ```
//!
//! Without an argument it trains a small scorer first (the quickstart saves
//! one to the temp directory; pass that path to load it instead).

use std::sync::Arc;
use std::thread;

use chrono::{TimeZone, Utc};
use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
use churnwise::model::LogisticRegression;
use churnwise::score::ChurnScorer;
use churnwise::synth::PopulationConfig;

fn main() -> std::process::ExitCode {
    // Errors are printed as text (not Debug) and exit with status 1.
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // The customer base the service scores.
    let population = PopulationConfig::default()
        .customers(20_000)
        .seed(8)
        .generate()?;
    let (history, _) = population.history_builder().build()?;
    let as_of = Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap();

    // 1. Load the scorer (or train one), then share it read-only.
    let scorer = match std::env::args().nth(1) {
        Some(path) => ChurnScorer::from_json(&std::fs::read_to_string(path)?)?,
        None => {
            let month = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
            let snapshot = Snapshot::new(as_of);
            let train = ChurnLabeler::new().training_set(
                &history,
                &FeatureSpec::all(),
                &snapshot,
                &[month(4), month(6)],
            )?;
            ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?
        }
    };
    let scorer = Arc::new(scorer);

    // 2. The features of every customer as of today, computed once.
    let (table, batch) = scorer.score_history(&history, as_of)?;
    let table = Arc::new(table);

    // 3. Four request threads score disjoint customers one at a time.
    let threads = 4;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (scorer, table) = (Arc::clone(&scorer), Arc::clone(&table));
            thread::spawn(move || -> Result<Vec<(usize, f64)>, churnwise::Error> {
                let values = table.values();
                (t..table.nrows())
                    .step_by(threads)
                    .map(|i| {
                        Ok((
                            i,
                            scorer.score_one(values.row(i).as_slice().unwrap_or(&[]))?,
                        ))
                    })
                    .collect()
            })
        })
        .collect();
    let mut scored = 0;
    let mut identical = 0;
    for h in handles {
        for (i, p) in h.join().map_err(|_| "a scoring thread panicked")?? {
            identical += usize::from(p.to_bits() == batch[i].to_bits());
            scored += 1;
        }
    }
    println!("scored {scored} customers on {threads} threads with one shared scorer");
    println!("{identical} of {scored} scores are bit-identical to the batch scores");
    let high = batch.iter().filter(|&&p| p >= 0.7).count();
    println!("{high} customers at risk (p >= 0.7)");
    Ok(())
}
