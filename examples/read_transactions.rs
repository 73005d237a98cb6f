//! Reads a transaction log (`customer_id,date,amount`) into a History, prints
//! the data-quality report, a summary and the time taken, then computes the
//! RFM features as of the day after the last order and prints their totals
//! (to check against a group-by elsewhere) and the time they took.
//!
//! ```text
//! cargo run --release --example read_transactions -- path/to/transactions.csv
//! ```

use std::time::Instant;

use chrono::{Days, TimeZone, Utc};
use churnwise::features::{FeatureSpec, Snapshot};
use churnwise::records::{Duplicates, HistoryBuilder, OrderCsv, UnknownCustomers};

/// Prints an error with its message (not its debug form) and exits with 1.
fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: read_transactions <transactions.csv>");
        std::process::exit(2);
    };
    let start = Instant::now();
    // A bare transaction log has no customer file: create customers from their
    // first order, and keep same-day same-amount orders (dates carry no time).
    let mut builder = HistoryBuilder::new()
        .unknown_customers(UnknownCustomers::Create)
        .duplicates(Duplicates::Keep);
    let rows = builder.read_orders_csv_path(&path, &OrderCsv::new())?;
    let read = start.elapsed();
    let (history, report) = builder.build()?;
    let total = start.elapsed();
    println!("{report}");
    println!("{}", history.summary());
    let mem = history.memory();
    println!(
        "rows {rows}: read {:.3} s, build {:.3} s, total {:.3} s; {:.1} bytes per order, {:.0} MiB in all",
        read.as_secs_f64(),
        (total - read).as_secs_f64(),
        total.as_secs_f64(),
        mem.bytes_per_order(),
        mem.total() as f64 / (1 << 20) as f64
    );

    // RFM as of the midnight after the last event; best of 5 runs.
    let Some(last) = history.summary().last_event else {
        return Ok(());
    };
    let day = last.date_naive() + Days::new(1);
    let as_of = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default());
    let snapshot = Snapshot::new(as_of);
    let mut best = f64::INFINITY;
    let mut table = None;
    for _ in 0..5 {
        let start = Instant::now();
        table = Some(FeatureSpec::rfm().extract(&history, &snapshot)?);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let Some(table) = table else { return Ok(()) };
    let sum = |name: &str| table.column(name).map(|c| c.sum());
    println!(
        "rfm as of {}: {} customers, sum frequency {}, sum recency {}, sum tenure {}, sum monetary {:.2}; best of 5: {:.4} s",
        as_of.format("%Y-%m-%d"),
        table.nrows(),
        sum("orders_total")?,
        sum("recency_days")?,
        sum("tenure_days")?,
        sum("spend_total")?,
        best
    );
    Ok(())
}
