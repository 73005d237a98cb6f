//! Time to churn from a flat table: Kaplan–Meier curves (per group), the
//! log-rank test and a Cox proportional hazards model.
//!
//! ```text
//! cargo run --release --example survival_csv -- PATH --duration COL --event COL [--group COL]
//!     [--covariates a,b,...] [--times 1,6,12] [--json]
//! ```
//!
//! The CSV has a header and one row per customer: a duration (any unit) and
//! whether churn was observed (`1`/`0`, `true`/`false`, `yes`/`no`, any
//! case; otherwise the customer was still active: censored). `--group`
//! names a column to split the curves by and runs the log-rank test;
//! `--covariates` fits a Cox model on those columns (a column that is not
//! numeric is dummy-coded, its first level in sorted order being the
//! reference: `plan` becomes `plan_enterprise`, `plan_pro`). `--times` gives
//! the times at which to read the curves (default: the quartiles of the
//! durations).
//!
//! `--json` prints one object: `kaplan_meier` (per group, and `all`: `n`,
//! `events`, `median` (null when not reached), `survival_at` keyed by time
//! as text), `logrank` (`statistic`, `df`, `p`; with `--group`) and `cox`
//! (`coef`, `se`, `hazard_ratio` keyed by covariate, `log_likelihood`,
//! `concordance`; with `--covariates`).
//!
//! Try it on the reference fixture:
//!
//! ```text
//! cargo run --release --example survival_csv -- tests/fixtures/survival_data.csv \
//!     --duration duration_days --event churned --group plan \
//!     --covariates monthly_fee,support_tickets,auto_renew,plan --times 30,90,180,365
//! ```

use std::collections::BTreeSet;

use churnwise::analysis::survival::{CoxPh, FittedCoxPh, KaplanMeier, SurvivalData, logrank};
use serde_json::{Map, Value, json};

const USAGE: &str = "usage: survival_csv PATH --duration COL --event COL [--group COL] \
[--covariates a,b,...] [--times 1,6,12] [--json]";

struct Args {
    path: String,
    duration: String,
    event: String,
    group: Option<String>,
    covariates: Vec<String>,
    times: Option<Vec<(String, f64)>>,
    json: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut path, mut duration, mut event, mut group) = (None, None, None, None);
    let (mut covariates, mut times, mut json) = (Vec::new(), None, false);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value\n{USAGE}"));
        match a.as_str() {
            "--json" => json = true,
            "--duration" => duration = Some(value()?),
            "--event" => event = Some(value()?),
            "--group" => group = Some(value()?),
            "--covariates" => {
                covariates = value()?.split(',').map(|s| s.trim().to_owned()).collect();
            }
            "--times" => {
                let list = value()?
                    .split(',')
                    .map(|s| {
                        let s = s.trim();
                        s.parse::<f64>()
                            .map(|t| (s.to_owned(), t))
                            .map_err(|_| format!("--times: not a number: {s}"))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                times = Some(list);
            }
            f if f.starts_with("--") => return Err(format!("unknown option {f}\n{USAGE}")),
            _ => path = Some(a),
        }
    }
    Ok(Args {
        path: path.ok_or(USAGE)?,
        duration: duration.ok_or(format!("--duration is required\n{USAGE}"))?,
        event: event.ok_or(format!("--event is required\n{USAGE}"))?,
        group,
        covariates,
        times,
        json,
    })
}

/// Reads an event flag: 1/0, true/false, yes/no in any case.
fn parse_event(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// The whole table as columns of text, by header name.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn read(path: &str) -> Result<Table, Box<dyn std::error::Error>> {
        let mut reader = csv::Reader::from_path(path)?;
        let header = reader.headers()?.iter().map(str::to_owned).collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            rows.push(record?.iter().map(str::to_owned).collect());
        }
        Ok(Table { header, rows })
    }

    fn column(&self, name: &str) -> Result<Vec<&str>, String> {
        let j = self.header.iter().position(|h| h == name).ok_or(format!(
            "column `{name}` not in the header ({})",
            self.header.join(", ")
        ))?;
        Ok(self
            .rows
            .iter()
            .map(|r| r.get(j).map_or("", String::as_str))
            .collect())
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    // 1. Read the table: durations and event flags, with line numbers in errors.
    let table = Table::read(&args.path)?;
    let durations = table
        .column(&args.duration)?
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.trim()
                .parse::<f64>()
                .map_err(|_| format!("line {}: duration `{s}` is not a number", i + 2))
        })
        .collect::<Result<Vec<f64>, String>>()?;
    let events = table
        .column(&args.event)?
        .iter()
        .enumerate()
        .map(|(i, s)| {
            parse_event(s).ok_or(format!(
                "line {}: event `{s}` is not 1/0, true/false or yes/no",
                i + 2
            ))
        })
        .collect::<Result<Vec<bool>, String>>()?;
    let mut data = SurvivalData::new(durations, events)?;
    if let Some(group) = &args.group {
        data = data.with_groups(group.clone(), &table.column(group)?)?;
    }

    // 2. Covariates: numbers as they are, text dummy-coded.
    for name in &args.covariates {
        let column = table.column(name)?;
        let numbers: Option<Vec<f64>> = column.iter().map(|s| s.trim().parse().ok()).collect();
        match numbers {
            Some(values) => data = data.with_covariate(name.clone(), values)?,
            None => {
                let levels: BTreeSet<&str> = column.iter().copied().collect();
                for level in levels.iter().skip(1) {
                    let dummy = column
                        .iter()
                        .map(|s| f64::from(u8::from(s == level)))
                        .collect();
                    data = data.with_covariate(format!("{name}_{level}"), dummy)?;
                }
            }
        }
    }

    // 3. Kaplan–Meier curves, the log-rank test and the Cox model.
    let curves = KaplanMeier::new().fit(&data)?;
    let test = if args.group.is_some() {
        Some(logrank(&data)?)
    } else {
        None
    };
    let cox = if args.covariates.is_empty() {
        None
    } else {
        Some(CoxPh::new().fit(&data)?)
    };
    let times = match &args.times {
        Some(t) => t.clone(),
        None => {
            let mut sorted = data.durations().to_vec();
            sorted.sort_by(f64::total_cmp);
            [0.25, 0.5, 0.75]
                .iter()
                .map(|q| {
                    let t = sorted[((sorted.len() - 1) as f64 * q).round() as usize];
                    (t.to_string(), t)
                })
                .collect()
        }
    };

    // 4. Print: JSON, or tables.
    if args.json {
        let mut km = Map::new();
        for curve in std::iter::once(curves.overall()).chain(curves.groups()) {
            let at: Map<String, Value> = times
                .iter()
                .map(|(key, t)| (key.clone(), json!(curve.survival_at(*t))))
                .collect();
            km.insert(
                curve.label().to_owned(),
                json!({"n": curve.n(), "events": curve.events(), "median": curve.median(), "survival_at": at}),
            );
        }
        let mut out = json!({ "kaplan_meier": km });
        if let Some(t) = &test {
            out["logrank"] = json!({"statistic": t.statistic, "df": t.df, "p": t.p_value});
        }
        if let Some(c) = &cox {
            out["cox"] = cox_json(c);
        }
        println!("{out}");
        return Ok(());
    }
    print!("{curves}");
    println!();
    print!("{:<16}", "survival at");
    for (key, _) in &times {
        print!(" {key:>10}");
    }
    println!();
    for curve in std::iter::once(curves.overall()).chain(curves.groups()) {
        print!("{:<16}", curve.label());
        for (_, t) in &times {
            print!(" {:>10.3}", curve.survival_at(*t));
        }
        println!();
    }
    if let Some(t) = &test {
        println!(
            "\nlog-rank test across {}: chi2 = {:.3} on {} df, p = {:.3e}",
            t.groups.join(", "),
            t.statistic,
            t.df,
            t.p_value
        );
    }
    if let Some(c) = &cox {
        println!("\nCox proportional hazards (Efron ties):\n{c}");
    }
    Ok(())
}

fn cox_json(c: &FittedCoxPh) -> Value {
    let by_name =
        |f: fn(&churnwise::analysis::survival::CoxCoefficient) -> f64| -> Map<String, Value> {
            c.coefficients()
                .iter()
                .map(|k| (k.name.clone(), json!(f(k))))
                .collect()
        };
    json!({
        "coef": by_name(|k| k.coef),
        "se": by_name(|k| k.se),
        "hazard_ratio": by_name(|k| k.hazard_ratio),
        "log_likelihood": c.log_likelihood(),
        "concordance": c.concordance(),
    })
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
