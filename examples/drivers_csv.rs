//! What distinguishes churned customers from retained ones, column by
//! column: a ranked driver report from a flat table.
//!
//! ```text
//! cargo run --release --example drivers_csv -- PATH --label COL [--id COL] [--categorical a,b,...] [--json]
//! ```
//!
//! The CSV has a header and one row per customer. `--label` is the churn
//! flag (`1`/`0`, `true`/`false`, `yes`/`no`, any case); `--id` names a
//! column to leave out; the columns listed in `--categorical` are compared
//! level by level (churn rate with its Wilson interval, chi-square test);
//! every other column is numeric when all its values parse as numbers
//! (means, medians, standardized mean difference, Mann–Whitney U, Welch's t)
//! and is skipped otherwise. p-values are adjusted across the report
//! (Benjamini–Hochberg and Holm).
//!
//! `--json` prints one object: `numeric` keyed by feature (`mean_churned`,
//! `mean_retained`, `smd`, `mann_whitney_u`, `mann_whitney_p`, `welch_t`,
//! `welch_p`, `p_bh`, `p_holm`) and `categorical` keyed by field (`levels`,
//! `churn_rate`, `chi2`, `dof`, `p`, `p_bh`, `p_holm`).
//!
//! Try it on the reference fixture:
//!
//! ```text
//! cargo run --release --example drivers_csv -- tests/fixtures/drivers_data.csv \
//!     --label churned --id customer_id --categorical region,channel
//! ```

use churnwise::analysis::drivers::{DriverData, Drivers};
use serde_json::{Map, Value, json};

const USAGE: &str =
    "usage: drivers_csv PATH --label COL [--id COL] [--categorical a,b,...] [--json]";

struct Args {
    path: String,
    label: String,
    id: Option<String>,
    categorical: Vec<String>,
    json: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut path, mut label, mut id) = (None, None, None);
    let (mut categorical, mut json) = (Vec::new(), false);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value\n{USAGE}"));
        match a.as_str() {
            "--json" => json = true,
            "--label" => label = Some(value()?),
            "--id" => id = Some(value()?),
            "--categorical" => {
                categorical = value()?.split(',').map(|s| s.trim().to_owned()).collect();
            }
            f if f.starts_with("--") => return Err(format!("unknown option {f}\n{USAGE}")),
            _ => path = Some(a),
        }
    }
    Ok(Args {
        path: path.ok_or(USAGE)?,
        label: label.ok_or(format!("--label is required\n{USAGE}"))?,
        id,
        categorical,
        json,
    })
}

/// Reads a churn flag: 1/0, true/false, yes/no in any case.
fn parse_flag(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    // 1. Read the whole table as text.
    let mut reader = csv::Reader::from_path(&args.path)?;
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    for record in reader.records() {
        rows.push(record?.iter().map(str::to_owned).collect());
    }
    let position = |name: &str| {
        header.iter().position(|h| h == name).ok_or(format!(
            "column `{name}` not in the header ({})",
            header.join(", ")
        ))
    };
    let cell = |r: &Vec<String>, j: usize| r.get(j).map_or(String::new(), Clone::clone);

    // 2. The churn flags, then every other column as a numeric or categorical field.
    let label = position(&args.label)?;
    let churned = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let v = cell(r, label);
            parse_flag(&v).ok_or(format!(
                "line {}: label `{v}` is not 1/0, true/false or yes/no",
                i + 2
            ))
        })
        .collect::<Result<Vec<bool>, String>>()?;
    for name in &args.categorical {
        position(name)?;
    }
    let mut data = DriverData::new(churned)?;
    let mut skipped = Vec::new();
    for (j, name) in header.iter().enumerate() {
        if j == label || Some(name) == args.id.as_ref() {
            continue;
        }
        let column: Vec<String> = rows.iter().map(|r| cell(r, j)).collect();
        if args.categorical.contains(name) {
            data = data.with_category(name.clone(), &column)?;
            continue;
        }
        let numbers: Option<Vec<f64>> = column.iter().map(|s| s.trim().parse().ok()).collect();
        match numbers {
            Some(values) if values.iter().all(|v| v.is_finite()) => {
                data = data.with_numeric(name.clone(), values)?;
            }
            _ => skipped.push(name.clone()),
        }
    }

    // 3. The report.
    let report = Drivers::new().analyze(&data)?;

    // 4. Print: JSON, or the ranked table.
    if args.json {
        let numeric: Map<String, Value> = report
            .numeric()
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    json!({
                        "mean_churned": d.mean_churned, "mean_retained": d.mean_retained, "smd": d.smd,
                        "mann_whitney_u": d.mann_whitney.u, "mann_whitney_p": d.mann_whitney.p_value,
                        "welch_t": d.welch.t, "welch_p": d.welch.p_value,
                        "p_bh": d.p_bh, "p_holm": d.p_holm,
                    }),
                )
            })
            .collect();
        let categorical: Map<String, Value> = report
            .categorical()
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    json!({
                        "levels": d.levels.iter().map(|l| l.level.clone()).collect::<Vec<_>>(),
                        "churn_rate": d.levels.iter().map(|l| l.churn_rate).collect::<Vec<_>>(),
                        "chi2": d.chi_square.statistic, "dof": d.chi_square.dof, "p": d.p_value,
                        "p_bh": d.p_bh, "p_holm": d.p_holm,
                    }),
                )
            })
            .collect();
        println!(
            "{}",
            json!({"numeric": numeric, "categorical": categorical})
        );
        return Ok(());
    }
    print!("{report}");
    for d in report.categorical() {
        println!("\n{}: churn rate by level (95% Wilson interval)", d.name);
        for l in &d.levels {
            println!(
                "  {:<16} {:>7} customers  {:>6.1}%  [{:.1}%, {:.1}%]",
                l.level,
                l.customers,
                100.0 * l.churn_rate,
                100.0 * l.interval.lower,
                100.0 * l.interval.upper
            );
        }
    }
    if !skipped.is_empty() {
        println!(
            "\nskipped (not numeric, not --categorical): {}",
            skipped.join(", ")
        );
    }
    Ok(())
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
