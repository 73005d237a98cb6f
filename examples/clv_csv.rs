//! Fits BG/NBD (or MBG/NBD) and, with amounts, Gamma-Gamma to a transaction
//! log, and checks the forecast against a holdout period.
//!
//! ```text
//! cargo run --release --example clv_csv -- PATH --customer COL --date COL [--amount COL]
//!     [--date-format FMT] --calibration-end DATE [--holdout-end DATE]
//!     [--unit days|weeks] [--model bgnbd|mbgnbd] [--json]
//! ```
//!
//! The CSV has a header and one row per purchase; several rows of one
//! customer on one day are one purchase occasion (as in Fader, Hardie & Lee
//! 2005). Dates are `YYYY-MM-DD` (or timestamps) unless `--date-format` gives
//! a chrono format. The calibration period ends on `--calibration-end`
//! (inclusive); the holdout runs from the next day to `--holdout-end`
//! (inclusive). Weeks are days / 7, fractional. `--json` prints one object
//! with `r`, `alpha`, `a`, `b`, `log_likelihood`, `n_customers`,
//! `fit_seconds`, and `gamma_gamma` / `holdout` when computed.
//!
//! Try it on the CDNOW sample (the published fit: r = 0.243, α = 4.414,
//! a = 0.793, b = 2.426, LL = −9582.4):
//!
//! ```text
//! cargo run --release --example clv_csv -- tests/fixtures/cdnow_sample.csv --customer customer_id \
//!     --date date --amount amount --calibration-end 1997-09-30 --holdout-end 1998-06-30 --unit weeks
//! ```

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use churnwise::clv::{
    BetaGeo, Calibration, CalibrationSummary, FittedGammaGamma, GammaGamma, PurchaseModel,
    TimeUnit, Variant,
};
use churnwise::records::{
    CsvFormat, Duplicates, HistoryBuilder, Order, OrderCsv, RecordKind, UnknownCustomers,
};
use serde_json::{Value, json};

struct Args {
    path: String,
    customer: String,
    date: String,
    amount: Option<String>,
    date_format: Option<String>,
    calibration_end: DateTime<Utc>,
    holdout_end: Option<DateTime<Utc>>,
    unit: TimeUnit,
    modified: bool,
    json: bool,
}

const USAGE: &str = "usage: clv_csv PATH --customer COL --date COL [--amount COL] [--date-format FMT] \
--calibration-end DATE [--holdout-end DATE] [--unit days|weeks] [--model bgnbd|mbgnbd] [--json]";

fn parse_day(s: &str) -> Result<DateTime<Utc>, String> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("not a YYYY-MM-DD date: {s}"))?;
    Ok(Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)))
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut flags: HashMap<String, String> = HashMap::new();
    let mut path = None;
    let mut json = false;
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json = true,
            f if f.starts_with("--") => {
                let v = it.next().ok_or(format!("{f} needs a value"))?;
                flags.insert(f.trim_start_matches("--").to_owned(), v);
            }
            _ => path = Some(a),
        }
    }
    let get = |k: &str| flags.get(k).cloned();
    let required = |k: &str| get(k).ok_or(format!("--{k} is required\n{USAGE}"));
    Ok(Args {
        path: path.ok_or(USAGE)?,
        customer: required("customer")?,
        date: required("date")?,
        amount: get("amount"),
        date_format: get("date-format"),
        calibration_end: parse_day(&required("calibration-end")?)?,
        holdout_end: get("holdout-end").map(|d| parse_day(&d)).transpose()?,
        unit: match get("unit").as_deref() {
            None | Some("days") => TimeUnit::Days,
            Some("weeks") => TimeUnit::Weeks,
            Some(other) => return Err(format!("--unit: days or weeks, got {other}")),
        },
        modified: match get("model").as_deref() {
            None | Some("bgnbd") => false,
            Some("mbgnbd") => true,
            Some(other) => return Err(format!("--model: bgnbd or mbgnbd, got {other}")),
        },
        json,
    })
}

/// Reads the log into a builder: the crate's parallel CSV reader when there
/// are amounts; otherwise customer and date columns only, with amount 0.
fn read(args: &Args) -> Result<HistoryBuilder, Box<dyn std::error::Error>> {
    // No customer file: customers come from their first order; same-day
    // orders are all kept (they become one purchase occasion in the summary).
    let mut builder = HistoryBuilder::new()
        .unknown_customers(UnknownCustomers::Create)
        .duplicates(Duplicates::Keep);
    if let Some(amount) = &args.amount {
        let mut format = CsvFormat::new();
        if let Some(f) = &args.date_format {
            format = format.time_format(f.clone());
        }
        let spec = OrderCsv::new()
            .customer(args.customer.clone())
            .time(args.date.clone())
            .amount(amount.clone())
            .format(format);
        builder.read_orders_csv_path(&args.path, &spec)?;
        return Ok(builder);
    }
    let mut reader = csv::Reader::from_path(&args.path)?;
    let header = reader.headers()?.clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(format!("column {name} not in the header"))
    };
    let (c, d) = (column(&args.customer)?, column(&args.date)?);
    for (line, record) in reader.records().enumerate() {
        let record = record?;
        let (Some(id), Some(date)) = (record.get(c), record.get(d)) else {
            return Err(format!("line {}: missing field", line + 2).into());
        };
        let time = parse_time(date, args.date_format.as_deref())
            .ok_or(format!("line {}: cannot read the date {date:?}", line + 2))?;
        builder.push_order(Order::new(id, time, 0.0));
    }
    Ok(builder)
}

fn parse_time(s: &str, format: Option<&str>) -> Option<DateTime<Utc>> {
    let f = format.unwrap_or("%Y-%m-%d");
    if let Ok(d) = NaiveDate::parse_from_str(s, f) {
        return Some(Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, format.unwrap_or("%Y-%m-%d %H:%M:%S")) {
        return Some(Utc.from_utc_datetime(&t));
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Predicted against actual holdout purchases, in total and by calibration frequency 0..7+.
fn holdout_report(
    model: &impl PurchaseModel,
    summary: &CalibrationSummary,
) -> Result<Option<Value>, churnwise::Error> {
    let (Some(length), Some(actual)) = (summary.holdout_length(), summary.holdout_purchases())
    else {
        return Ok(None);
    };
    let mut buckets = [(0usize, 0.0f64, 0.0f64); 8];
    for (i, row) in summary.rows().enumerate() {
        let b = (row.frequency() as usize).min(7);
        buckets[b].0 += 1;
        buckets[b].1 += f64::from(actual[i]);
        buckets[b].2 += model.conditional_expected_purchases(&row, length)?;
    }
    let by_frequency: Vec<Value> = buckets
        .iter()
        .enumerate()
        .map(|(b, &(n, a, p))| {
            json!({"frequency": if b == 7 { "7+".to_owned() } else { b.to_string() },
                   "customers": n, "actual": a, "predicted": p})
        })
        .collect();
    Ok(Some(json!({
        "length": length,
        "actual_total": buckets.iter().map(|b| b.1).sum::<f64>(),
        "predicted_total": buckets.iter().map(|b| b.2).sum::<f64>(),
        "by_frequency": by_frequency,
    })))
}

fn gamma_gamma(summary: &CalibrationSummary) -> Value {
    match GammaGamma::new().fit(summary) {
        Ok(g) => json!({
            "p": g.p(), "q": g.q(), "gamma": g.gamma(),
            "log_likelihood": g.fit_stats().map(|s| s.log_likelihood),
            "customers": g.fit_stats().map(|s| s.customers),
            "mean_spend": FittedGammaGamma::mean_spend(&g).ok(),
        }),
        Err(e) => json!({"error": e.to_string()}),
    }
}

/// Prints an error with its message (not its debug form) and exits with 1.
fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    // 1. Read the log and validate it into a History.
    let start = Instant::now();
    let (history, report) = read(&args)?.build()?;
    let read_seconds = start.elapsed().as_secs_f64();
    let rejected = report.dropped(RecordKind::Order);
    if history.order_count() == 0
        && let Some(first) = report.issues().first()
    {
        // Say why nothing was read before the model says there is no customer.
        let what = match (&args.date_format, first.field()) {
            (Some(f), Some("time")) => format!("no row matched the date format {f:?}"),
            (None, Some("time")) => "no row has a YYYY-MM-DD date (give --date-format)".to_owned(),
            _ => "no row could be read".to_owned(),
        };
        return Err(format!("{what}: {rejected} rows rejected, the first: {first}").into());
    }

    // 2. Summarize: x, t_x, T (and mean repeat value, holdout counts) per customer.
    let start = Instant::now();
    let mut calibration = Calibration::new(args.calibration_end).unit(args.unit);
    if let Some(h) = args.holdout_end {
        calibration = calibration.holdout_end(h);
    }
    let summary = calibration.summarize(&history)?;
    let summary_seconds = start.elapsed().as_secs_f64();

    // 3. Fit the purchase model; time the fit alone.
    let start = Instant::now();
    let (params, stats, holdout) = if args.modified {
        let m = BetaGeo::new().variant(Variant::Modified).fit(&summary)?;
        let fit = start.elapsed().as_secs_f64();
        (
            (m.r(), m.alpha(), m.a(), m.b()),
            (m.fit_stats().copied(), fit),
            holdout_report(&m, &summary)?,
        )
    } else {
        let m = BetaGeo::new().fit(&summary)?;
        let fit = start.elapsed().as_secs_f64();
        (
            (m.r(), m.alpha(), m.a(), m.b()),
            (m.fit_stats().copied(), fit),
            holdout_report(&m, &summary)?,
        )
    };
    let (stats, fit_seconds) = stats;
    let log_likelihood = stats.map(|s| s.log_likelihood);

    // 4. The spend model, when there are amounts.
    let spend = args.amount.is_some().then(|| gamma_gamma(&summary));

    let mut out = json!({
        "model": if args.modified { "mbgnbd" } else { "bgnbd" },
        "unit": args.unit.name(),
        "r": params.0, "alpha": params.1, "a": params.2, "b": params.3,
        "log_likelihood": log_likelihood,
        "n_customers": summary.len(),
        "fit_seconds": fit_seconds,
        "iterations": stats.map(|s| s.iterations),
        "read_seconds": read_seconds,
        "summary_seconds": summary_seconds,
        "rows_rejected": rejected,
    });
    if let Some(s) = spend {
        out["gamma_gamma"] = s;
    }
    if let Some(h) = holdout {
        out["holdout"] = h;
    }
    if args.json {
        println!("{out}");
        return Ok(());
    }
    println!(
        "{} in {}: {} customers, {rejected} rows rejected (read {read_seconds:.3} s, summary {summary_seconds:.3} s)",
        if args.modified { "MBG/NBD" } else { "BG/NBD" },
        args.unit.name(),
        summary.len()
    );
    println!(
        "r = {:.4}  alpha = {:.4}  a = {:.4}  b = {:.4}  log-likelihood = {:.2}  fit {fit_seconds:.4} s",
        params.0,
        params.1,
        params.2,
        params.3,
        log_likelihood.unwrap_or(f64::NAN)
    );
    if let Some(g) = out.get("gamma_gamma") {
        println!("Gamma-Gamma: {g}");
    }
    if let Some(h) = out.get("holdout") {
        println!(
            "holdout ({} {}): actual {} purchases, predicted {:.1}",
            h["length"],
            args.unit.name(),
            h["actual_total"],
            h["predicted_total"].as_f64().unwrap_or(f64::NAN)
        );
        println!(
            "{:>9} {:>9} {:>10} {:>10}",
            "frequency", "customers", "actual", "predicted"
        );
        for b in h["by_frequency"].as_array().into_iter().flatten() {
            println!(
                "{:>9} {:>9} {:>10.0} {:>10.1}",
                b["frequency"].as_str().unwrap_or(""),
                b["customers"].as_u64().unwrap_or(0),
                b["actual"].as_f64().unwrap_or(f64::NAN),
                b["predicted"].as_f64().unwrap_or(f64::NAN)
            );
        }
    }
    Ok(())
}
