//! Reads a transaction log (`customer_id,date,amount`) into a History and
//! prints the data-quality report, a summary and the time taken.
//!
//! ```text
//! cargo run --release --example read_transactions -- path/to/transactions.csv
//! ```

use std::time::Instant;

use churnwise::records::{Duplicates, HistoryBuilder, OrderCsv, UnknownCustomers};

fn main() -> Result<(), Box<dyn std::error::Error>> {
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
    Ok(())
}
