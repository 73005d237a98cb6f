//! Trains a churn model on a flat CSV table (one row per customer) rather
//! than on event records.
//!
//! ```text
//! cargo run --release --example train_csv -- PATH --label COL [--id COL] [--drop COL,...]
//!     [--c F] [--class-weight balanced] [--weight COL] [--folds K] [--seed S]
//!     [--save MODEL.json] [--json]
//! ```
//!
//! Numeric columns are used as numbers (a blank cell is missing and takes the
//! training median); text columns are one-hot encoded; the label may be
//! 1/0, true/false or yes/no in any case; `--c` is scikit-learn's C on the
//! standardized features. `--save` writes a `TableModel` (the encoder and the
//! model) that scores new rows of the same layout identically.

use std::collections::HashMap;
use std::time::Instant;

use churnwise::features::{FeatureTable, TrainingSet};
use churnwise::model::{
    ClassWeight, CrossValidation, LogisticRegression, TableEncoder, TableModel,
};
use ndarray::Array1;

struct Args {
    path: String,
    label: String,
    id: Option<String>,
    drop: Vec<String>,
    c: f64,
    balanced: bool,
    weight: Option<String>,
    folds: usize,
    seed: u64,
    save: Option<String>,
    json: bool,
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
    let number = |k: &str, default: f64| -> Result<f64, String> {
        get(k).map_or(Ok(default), |v| {
            v.parse().map_err(|_| format!("--{k}: not a number: {v}"))
        })
    };
    Ok(Args {
        path: path.ok_or("usage: train_csv PATH --label COL [options]")?,
        label: get("label").ok_or("--label COL is required")?,
        id: get("id"),
        drop: get("drop")
            .map(|d| d.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        c: number("c", 1.0)?,
        balanced: match get("class-weight").as_deref() {
            None => false,
            Some("balanced") => true,
            Some(other) => {
                return Err(format!(
                    "--class-weight: only `balanced` is supported, got {other}"
                ));
            }
        },
        weight: get("weight"),
        folds: number("folds", 5.0)? as usize,
        seed: number("seed", 42.0)? as u64,
        save: get("save"),
        json,
    })
}

fn parse_label(cell: &str, row: usize) -> Result<bool, String> {
    match cell.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        other => Err(format!(
            "row {row}: label {other:?} is not 1/0, true/false or yes/no"
        )),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;

    // 1. Read the table as text cells.
    let mut reader = csv::Reader::from_path(&args.path)?;
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let mut cells = Vec::new();
    for record in reader.records() {
        cells.push(record?.iter().map(str::to_owned).collect::<Vec<String>>());
    }
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(format!("no column `{name}`"))
    };
    let label = column(&args.label)?;
    let weight = args.weight.as_deref().map(column).transpose()?;
    let id = args.id.as_deref().map(column).transpose()?;
    let mut excluded = vec![label];
    excluded.extend(weight);
    excluded.extend(id);
    for d in &args.drop {
        excluded.push(column(d)?);
    }
    let keep: Vec<usize> = (0..header.len())
        .filter(|j| !excluded.contains(j))
        .collect();

    // 2. Encode the feature columns (learned on this table) and the label.
    let names: Vec<String> = keep.iter().map(|&j| header[j].clone()).collect();
    let rows: Vec<Vec<String>> = cells
        .iter()
        .map(|r| keep.iter().map(|&j| r[j].clone()).collect())
        .collect();
    let encoder = TableEncoder::new().fit(&names, &rows)?;
    let (x, imputed) = encoder.transform(&rows)?;
    let y: Array1<bool> = cells
        .iter()
        .enumerate()
        .map(|(i, r)| parse_label(&r[label], i))
        .collect::<Result<_, _>>()?;
    let ids = match id {
        Some(j) => cells.iter().map(|r| r[j].as_str().into()).collect(),
        None => (0..cells.len() as u64).map(Into::into).collect(),
    };
    let table = FeatureTable::new(ids, encoder.feature_names(), x)?;
    let mut train = TrainingSet::new(table, y)?;
    if let Some(j) = weight {
        let w: Array1<f64> = cells
            .iter()
            .map(|r| r[j].trim().parse::<f64>())
            .collect::<Result<_, _>>()?;
        train = train.with_weights(w)?;
    }

    // 3. Fit, then cross-validate the same configuration.
    let mut config = LogisticRegression::new().c(args.c);
    if args.balanced {
        config = config.class_weight(ClassWeight::Balanced);
    }
    let started = Instant::now();
    let model = config.fit(&train)?;
    let fit_seconds = started.elapsed().as_secs_f64();
    let cv = CrossValidation::new()
        .folds(args.folds)
        .seed(args.seed)
        .run(&config, &train)?;

    if args.json {
        let (mean, std) = (cv.mean(), cv.std());
        let out = serde_json::json!({
            "model": "logistic",
            "features": model.feature_names(),
            "coef_raw": model.raw_coefficients(),
            "intercept_raw": model.raw_intercept(),
            "cv": {
                "roc_auc_mean": mean.roc_auc, "roc_auc_std": std.roc_auc,
                "log_loss_mean": mean.log_loss, "brier_mean": mean.brier,
                "lift_at_10pct_mean": mean.lift_at_10pct,
            },
            "n_rows": train.labels().len(),
            "n_missing_imputed": imputed,
            "fit_seconds": fit_seconds,
        });
        println!("{out}");
    } else {
        println!(
            "{} rows, {} features, {} missing cells imputed with the training median",
            train.labels().len(),
            model.feature_names().len(),
            imputed
        );
        println!("\n{:<28} {:>14}", "feature", "coef (raw)");
        for (name, coef) in model.feature_names().iter().zip(model.raw_coefficients()) {
            println!("{name:<28} {coef:>14.6}");
        }
        println!("{:<28} {:>14.6}", "(intercept)", model.raw_intercept());
        println!("\ncross-validation\n{cv}");
        println!("fit time {fit_seconds:.3} s");
    }

    // 4. Save the encoder and the model together.
    if let Some(path) = &args.save {
        std::fs::write(
            path,
            serde_json::to_string_pretty(&TableModel::new(encoder, model)?)?,
        )?;
        if !args.json {
            println!("saved to {path}");
        }
    }
    Ok(())
}
