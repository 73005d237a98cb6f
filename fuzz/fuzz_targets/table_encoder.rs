//! Arbitrary text as a flat table for `TableEncoder`: lines split on `\n`,
//! cells on `,`; the first line is the header. The first byte is the
//! category limit (1 to 256).
//!
//! Fitting must return an encoder or a typed error, never panic. An encoder
//! that fits transforms its own rows into a finite matrix as wide as its
//! feature names, counts at most one imputation per numeric cell, and
//! round-trips through JSON, equal.

#![no_main]

use churnwise::model::{FittedTableEncoder, TableEncoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&limit, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let mut lines = text.split('\n');
    let Some(header) = lines.next() else {
        return;
    };
    let header: Vec<String> = header.split(',').map(str::to_owned).collect();
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    let encoder = TableEncoder::new().max_categories(usize::from(limit) + 1);
    let Ok(fitted) = encoder.fit(&header, &rows) else {
        return;
    };
    let names = fitted.feature_names();
    let (x, imputed) = fitted
        .transform(&rows)
        .expect("an encoder transforms the rows it was fitted on");
    assert_eq!(x.ncols(), names.len());
    assert_eq!(x.nrows(), rows.len());
    assert!(x.iter().all(|v| v.is_finite()), "a non-finite encoded value");
    assert!(imputed <= rows.len() * header.len());
    let json = serde_json::to_string(&fitted).expect("an encoder saves");
    let back: FittedTableEncoder = serde_json::from_str(&json).expect("an encoder loads");
    assert_eq!(back, fitted);
});
