//! Trains a churn model on a flat CSV table (one row per customer) rather
//! than on event records.
//!
//! ```text
//! cargo run --release --example train_csv -- PATH --label COL [--id COL] [--drop COL,...]
//!     [--model logistic|gbdt] [--c F] [--trees N] [--learning-rate F] [--max-leaves N]
//!     [--class-weight balanced] [--weight COL] [--max-categories N]
//!     [--calibrate none|platt|isotonic] [--folds K] [--seed S] [--save MODEL.json] [--json]
//! ```
//!
//! Numeric columns are used as numbers (a blank cell is missing and takes the
//! training median); text columns are one-hot encoded (at most
//! `--max-categories` categories each, default 100); the label may be 1/0,
//! true/false or yes/no in any case. `--model logistic` (the default) is a
//! logistic regression, `--c` being scikit-learn's C on the standardized
//! features; `--model gbdt` is gradient-boosted trees (`--trees`, default
//! 100; `--learning-rate`, default 0.1; `--max-leaves`, default 31).
//! `--calibrate` holds out a stratified fifth of the rows, fits the model on
//! the rest and calibrates it on that fifth (Brier score before and after is
//! printed). `--save` writes a `TableModel` (the encoder and the model) that
//! scores new rows of the same layout identically. Errors are printed as
//! text and exit with status 1.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Instant;

use churnwise::features::{FeatureTable, TrainingSet};
use churnwise::model::metrics::brier;
use churnwise::model::{
    Calibrator, ClassWeight, CrossValidation, CrossValidationReport, FittedModel, GradientBoosting,
    LogisticRegression, TableEncoder, TableModel,
};
use ndarray::Array1;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Logistic,
    Gbdt,
}

struct Args {
    path: String,
    label: String,
    id: Option<String>,
    drop: Vec<String>,
    model: Kind,
    c: f64,
    trees: u32,
    learning_rate: f64,
    max_leaves: u32,
    max_categories: usize,
    calibrate: Option<Calibrator>,
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
        model: match get("model").as_deref() {
            None | Some("logistic") => Kind::Logistic,
            Some("gbdt") => Kind::Gbdt,
            Some(other) => return Err(format!("--model: logistic or gbdt, got {other}")),
        },
        c: number("c", 1.0)?,
        trees: number("trees", 100.0)? as u32,
        learning_rate: number("learning-rate", 0.1)?,
        max_leaves: number("max-leaves", 31.0)? as u32,
        max_categories: number("max-categories", 100.0)? as usize,
        calibrate: match get("calibrate").as_deref() {
            None | Some("none") => None,
            Some("platt") => Some(Calibrator::Platt),
            Some("isotonic") => Some(Calibrator::Isotonic),
            Some(other) => {
                return Err(format!("--calibrate: none, platt or isotonic, got {other}"));
            }
        },
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

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Fits the chosen model on `train`.
fn fit(args: &Args, train: &TrainingSet) -> churnwise::Result<FittedModel> {
    let class_weight = if args.balanced {
        ClassWeight::Balanced
    } else {
        ClassWeight::None
    };
    Ok(match args.model {
        Kind::Logistic => logistic(args, class_weight).fit(train)?.into(),
        Kind::Gbdt => gbdt(args, class_weight).fit(train)?.into(),
    })
}

fn logistic(args: &Args, class_weight: ClassWeight) -> LogisticRegression {
    LogisticRegression::new()
        .c(args.c)
        .class_weight(class_weight)
}

fn gbdt(args: &Args, class_weight: ClassWeight) -> GradientBoosting {
    GradientBoosting::new()
        .trees(args.trees)
        .learning_rate(args.learning_rate)
        .max_leaves(args.max_leaves)
        .seed(args.seed)
        .class_weight(class_weight)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
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
    let encoder = TableEncoder::new()
        .max_categories(args.max_categories)
        .fit(&names, &rows)?;
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

    // 3. Fit (on four fifths if calibrating), then cross-validate the same configuration.
    let started = Instant::now();
    let mut calibration_note = None;
    let model = match args.calibrate {
        None => fit(&args, &train)?,
        Some(method) => {
            let labels = train.labels().to_vec();
            let fold = CrossValidation::new()
                .folds(5)
                .seed(args.seed)
                .assign(&labels);
            let (held, rest): (Vec<usize>, Vec<usize>) =
                (0..labels.len()).partition(|&i| fold[i] == 0);
            let held_out = train.subset(&held)?;
            let raw = fit(&args, &train.subset(&rest)?)?;
            let before = raw.predict_proba_table(held_out.features())?;
            let calibrated = raw.calibrate(method, &held_out)?;
            let after = calibrated.predict_proba_table(held_out.features())?;
            let y = held_out.labels();
            calibration_note = Some((brier(&before, y, None)?, brier(&after, y, None)?));
            calibrated
        }
    };
    let fit_seconds = started.elapsed().as_secs_f64();
    let cv: CrossValidationReport = {
        let cv = CrossValidation::new().folds(args.folds).seed(args.seed);
        let class_weight = if args.balanced {
            ClassWeight::Balanced
        } else {
            ClassWeight::None
        };
        match args.model {
            Kind::Logistic => cv.run(&logistic(&args, class_weight), &train)?,
            Kind::Gbdt => cv.run(&gbdt(&args, class_weight), &train)?,
        }
    };
    // The linear model's raw coefficients, if it is one.
    let linear = match &model {
        FittedModel::Logistic(m) => Some(m.clone()),
        FittedModel::Calibrated { model, .. } => match model.as_ref() {
            FittedModel::Logistic(m) => Some(m.clone()),
            _ => None,
        },
        _ => None,
    };
    let kind = match args.model {
        Kind::Logistic => "logistic",
        Kind::Gbdt => "gbdt",
    };

    if args.json {
        let (mean, std) = (cv.mean(), cv.std());
        let mut out = serde_json::json!({
            "model": kind,
            "features": model.feature_names(),
            "cv": {
                "roc_auc_mean": mean.roc_auc, "roc_auc_std": std.roc_auc,
                "log_loss_mean": mean.log_loss, "brier_mean": mean.brier,
                "lift_at_10pct_mean": mean.lift_at_10pct,
            },
            "n_rows": train.labels().len(),
            "n_missing_imputed": imputed,
            "fit_seconds": fit_seconds,
        });
        if let Some(m) = &linear {
            out["coef_raw"] = serde_json::json!(m.raw_coefficients());
            out["intercept_raw"] = serde_json::json!(m.raw_intercept());
        }
        if let (Some(method), Some((before, after))) = (args.calibrate, calibration_note) {
            out["calibration"] = serde_json::json!({
                "method": method, "brier_before": before, "brier_after": after,
            });
        }
        println!("{out}");
    } else {
        println!(
            "{} rows, {} features, {} missing cells imputed with the training median; model {kind}",
            train.labels().len(),
            model.feature_names().len(),
            imputed
        );
        if let Some(m) = &linear {
            println!("\n{:<28} {:>14}", "feature", "coef (raw)");
            for (name, coef) in m.feature_names().iter().zip(m.raw_coefficients()) {
                println!("{name:<28} {coef:>14.6}");
            }
            println!("{:<28} {:>14.6}", "(intercept)", m.raw_intercept());
        }
        println!("\ncross-validation\n{cv}");
        if let Some((before, after)) = calibration_note {
            println!(
                "calibration on the held-out fifth: Brier {before:.5} before, {after:.5} after"
            );
        }
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
