//! The whole churn scoring pipeline as SQL over a partitioned Parquet lake,
//! checked value for value against the in-process pipeline.
//!
//! ```text
//! cargo run --release --example sql_pipeline --features ballista                      # DataFusion, in process
//! cargo run --release --example sql_pipeline --features ballista -- --standalone      # Ballista, in process
//! cargo run --release --example sql_pipeline --features ballista -- --remote df://localhost:50050
//! cargo run --release --example sql_pipeline --features ballista -- --orders 10000000 # the issue's 10 M orders
//! ```
//!
//! Steps: a synthetic shop (20 000 customers by default) is written as
//! customers, orders and interactions, each in several Parquet files; the
//! models are fitted in process with the core crate (churn scorer, RFM,
//! lifecycle, BG/NBD + Gamma-Gamma, alert policy); then SQL computes the
//! point-in-time features per customer (`churn_features`), the CLV summary
//! (`rfm_summary`), `churn_score`, `rfm_segment`, `lifecycle_stage`,
//! `p_alive`, `clv` and `churn_alerts`, and writes profiles and alerts back
//! as Parquet (`COPY ... TO`). What was written is read back and compared
//! with the in-process pipeline, every value, floats bit for bit; any
//! difference makes the example fail. It runs with 1 and 2 target
//! partitions and prints the timings.
//!
//! `--remote` needs a scheduler and executors with churnwise's codecs
//! (`churnwise-ballista`, see `scripts/ballista-localhost.sh`) that can read
//! the lake's paths (on one machine: a temporary directory). Other options:
//! `--customers N`, `--files N` (Parquet files per table, default 4),
//! `--seed N`, `--dir PATH` (keep the lake and the output there).

#[path = "common/pipeline.rs"]
mod pipeline;

use std::path::PathBuf;
use std::time::Instant;

use churnwise_datafusion::ballista;
use datafusion::prelude::{SessionConfig, SessionContext};
use pipeline::BoxError;

/// Where the SQL runs.
enum Mode {
    DataFusion,
    Standalone,
    Remote(String),
}

struct Args {
    customers: usize,
    orders: Option<usize>,
    files: usize,
    seed: u64,
    dir: Option<PathBuf>,
    mode: Mode,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        customers: 20_000,
        orders: None,
        files: 4,
        seed: 42,
        dir: None,
        mode: Mode::DataFusion,
    };
    let mut it = std::env::args().skip(1);
    let number = |name: &str, v: Option<String>| -> Result<usize, String> {
        let v = v.ok_or_else(|| format!("`{name}` needs a value"))?;
        match v.replace('_', "").parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("`{name}` must be a positive integer, got `{v}`")),
        }
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--customers" => args.customers = number("--customers", it.next())?,
            "--orders" => args.orders = Some(number("--orders", it.next())?),
            "--files" => args.files = number("--files", it.next())?,
            "--seed" => args.seed = number("--seed", it.next())? as u64,
            "--dir" => args.dir = Some(it.next().ok_or("`--dir` needs a value")?.into()),
            "--standalone" => args.mode = Mode::Standalone,
            "--remote" => {
                args.mode = Mode::Remote(it.next().ok_or("`--remote` needs df://host:port")?)
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = parse_args().map_err(|e| {
        format!("{e}\nusage: sql_pipeline [--customers N | --orders N] [--files N] [--seed N] [--dir PATH] [--standalone | --remote df://host:port]")
    })?;
    let (dir, keep) = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            (std::path::absolute(dir)?, true)
        }
        None => (pipeline::scratch_dir("sql-pipeline")?, false),
    };
    let result = run(&args, &dir).await;
    if !keep {
        std::fs::remove_dir_all(&dir)?;
    }
    result
}

async fn run(args: &Args, dir: &std::path::Path) -> Result<(), BoxError> {
    // 1. The shop. With --orders, size the population from a small pilot
    //    so that it has about that many orders.
    let customers = match args.orders {
        Some(orders) => {
            let pilot = pipeline::shop(2_000, args.seed)?;
            let per_customer = pilot.orders.len() as f64 / pilot.customers.len() as f64;
            ((orders as f64 / per_customer).ceil() as usize).max(1)
        }
        None => args.customers,
    };
    let started = Instant::now();
    let parts = pipeline::shop(customers, args.seed)?;
    let generated = started.elapsed();

    // 2. The lake: customers, orders and interactions as Parquet files.
    let started = Instant::now();
    let lake = dir.join("lake");
    let size = pipeline::write_lake(&parts, &lake, args.files)?;
    let written = started.elapsed();
    println!(
        "lake: {} customers, {} orders, {} interactions in {} files per table under {}",
        size.customers,
        size.orders,
        size.interactions,
        args.files,
        lake.display()
    );

    // 3. Fit in process, and run the in-process pipeline for comparison.
    let started = Instant::now();
    let (models, in_process) = pipeline::fit_and_run(&parts)?;
    let fitted = started.elapsed();
    drop(parts);
    println!(
        "in process: {} profiles, {} customers with alerts",
        in_process.profiles.len(),
        in_process.alerts.len()
    );

    // 4. A session where the SQL runs, with churnwise's functions.
    let functions = models.functions();
    let (ctx, engine) = match &args.mode {
        Mode::DataFusion => {
            let ctx = SessionContext::new_with_config(SessionConfig::new());
            functions.register(&ctx)?;
            (ctx, "DataFusion (in process)".to_owned())
        }
        Mode::Standalone => (
            ballista::standalone(&functions, 2).await?,
            "Ballista standalone (2 task slots)".to_owned(),
        ),
        Mode::Remote(url) => (
            ballista::remote(url, &functions).await?,
            format!("Ballista at {url}"),
        ),
    };

    // 5. The SQL pipeline with 1 and 2 target partitions, each checked.
    println!("\n{:<28} {:>10}", "step", "seconds");
    println!(
        "{:<28} {:>10.2}",
        "generate the shop",
        generated.as_secs_f64()
    );
    println!(
        "{:<28} {:>10.2}",
        "write the Parquet lake",
        written.as_secs_f64()
    );
    println!(
        "{:<28} {:>10.2}",
        "fit + in-process pipeline",
        fitted.as_secs_f64()
    );
    for partitions in [1, 2] {
        ctx.sql(&format!(
            "SET datafusion.execution.target_partitions = {partitions}"
        ))
        .await?
        .collect()
        .await?;
        let out = dir.join(format!("out-{partitions}"));
        let started = Instant::now();
        let sql = pipeline::run_sql(&ctx, &models, &lake, &out).await?;
        let took = started.elapsed();
        pipeline::compare(&models, &sql, &in_process)
            .map_err(|e| format!("{engine}, {partitions} target partitions: {e}"))?;
        println!(
            "{:<28} {:>10.2}",
            format!(
                "SQL, {partitions} target partition{}",
                if partitions == 1 { "" } else { "s" }
            ),
            took.as_secs_f64()
        );
    }
    println!(
        "\n{engine}: profiles and alerts equal the in-process pipeline ({} profiles, {} with alerts, every value)",
        in_process.profiles.len(),
        in_process.alerts.len()
    );
    Ok(())
}
