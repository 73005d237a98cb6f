//! Arbitrary bytes as CSV text for the four `HistoryBuilder` readers.
//!
//! The first byte chooses the reader(s) and format: `0..=3` feed the whole
//! rest to customers, orders, interactions or feedback; `4` splits the rest
//! on NUL bytes into up to four sections, one per reader (customers first).
//! Bit 3 switches to `;` as delimiter, bit 4 to strict unknown customers.
//! Reading and building must return a typed error or a history, never panic;
//! a built history is then put through feature extraction.

#![no_main]

use chrono::{TimeZone, Utc};
use churnwise::features::{FeatureSpec, Snapshot};
use churnwise::records::{
    CsvFormat, CustomerCsv, FeedbackCsv, HistoryBuilder, InteractionCsv, OrderCsv, UnknownCustomers,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let format = if mode & 8 != 0 {
        CsvFormat::new().delimiter(b';')
    } else {
        CsvFormat::new()
    };
    let policy = if mode & 16 != 0 {
        UnknownCustomers::Reject
    } else {
        UnknownCustomers::Create
    };
    let mut builder = HistoryBuilder::new().unknown_customers(policy);
    let sections: Vec<&[u8]> = match mode & 7 {
        4 => rest.splitn(4, |&b| b == 0).collect(),
        k => {
            let mut s: Vec<&[u8]> = vec![&[]; 4];
            s[usize::from(k % 4)] = rest;
            s
        }
    };
    let mut ok = true;
    let mut rows_read = 0;
    for (k, text) in sections.iter().enumerate() {
        if text.is_empty() {
            continue;
        }
        let read = match k {
            0 => builder.read_customers_csv(*text, &CustomerCsv::new().format(format.clone())),
            1 => builder.read_orders_csv(*text, &OrderCsv::new().format(format.clone())),
            2 => {
                builder.read_interactions_csv(*text, &InteractionCsv::new().format(format.clone()))
            }
            _ => builder.read_feedback_csv(*text, &FeedbackCsv::new().format(format.clone())),
        };
        // A whole-file failure (bad header, I/O) is a typed error: stop there.
        match read {
            Ok(rows) => {
                // Never more rows than line ends after the header, plus one.
                let ends = text.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
                assert!(rows <= ends + 1, "{rows} rows from {ends} line ends");
                rows_read += rows;
            }
            Err(_) => {
                ok = false;
                break;
            }
        }
    }
    if !ok {
        return;
    }
    let Ok((history, report)) = builder.build() else {
        return;
    };
    // Never more records accepted than received, nor received than rows read.
    let (received, accepted) = (report.received(), report.accepted());
    assert!(accepted.orders <= received.orders);
    assert!(accepted.interactions <= received.interactions);
    assert!(accepted.feedback <= received.feedback);
    // (Customers are also created implicitly from other files' ids.)
    assert!(received.orders + received.interactions + received.feedback <= rows_read);
    let _ = report.to_string();
    for issue in report.iter() {
        let _ = issue.to_string();
    }
    let as_of = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
    let _ = FeatureSpec::all().extract(&history, &Snapshot::new(as_of));
});
