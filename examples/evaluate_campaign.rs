//! Evaluates a retention campaign from a per-customer outcome table: every
//! treatment arm against the control (churn rate with its 95% Wilson
//! interval, difference vs control with Newcombe's interval, z-test, p-value
//! and Holm-adjusted p-value), optionally per segment, and with a targeting
//! score also uplift by decile, the Qini coefficient and uplift at 30%.
//!
//! ```text
//! cargo run --release --example evaluate_campaign -- PATH --arm COL --control VALUE
//!     --outcome COL [--outcome-is churned|retained] [--score COL] [--segment COL]
//!     [--design auto|stratified|randomized] [--id COL] [--json]
//! ```
//!
//! PATH is a CSV file with a header. The outcome column holds 1/0, true/false
//! or yes/no (any case); `--outcome-is` says whether 1 means churned (the
//! default) or retained. Rates are always **churn** rates (a negative
//! difference vs control means fewer churned). The uplift metrics rank by
//! `--score` (higher = treat first) and measure retention, as scikit-uplift
//! does. Customers are identified by `--id` if given, else by row number.
//! `--design` says how the arms were assigned (`CampaignDesign`): with the
//! default `auto`, a `--segment` column whose labels the controls share makes
//! every comparison stratified by segment (Mantel–Haenszel and CMH test);
//! `randomized` keeps the pooled comparison as the headline.
//!
//! Try it on the fixtures:
//!
//! ```text
//! cargo run --release --example evaluate_campaign -- tests/fixtures/campaign_outcomes.csv \
//!     --arm arm --control control --outcome churned --segment segment --design randomized
//! cargo run --release --example evaluate_campaign -- tests/fixtures/uplift_data.csv \
//!     --arm treatment --control 0 --outcome retained --outcome-is retained --score uplift_score --json
//! ```
//!
//! `--json` prints one object: `control` (`arm`, `n`, `churned`, `rate`,
//! `rate_ci95`), `arms` keyed by arm name (`n`, `churned`, `rate`,
//! `rate_ci95`, `basis` (`pooled` or `stratified`), `diff_vs_control`,
//! `diff_ci95`, `pooled_diff`, `relative_reduction`, `z`, `p_value`,
//! `p_value_holm`), `multiple_comparisons`, `segments` (with
//! `--segment`, keyed by label: `control` and `arms` as above, or `note`) and
//! `uplift` (with `--score`, keyed by arm: `qini_coefficient`, `uplift_auc`,
//! `uplift_at_30pct`, `uplift_at_30pct_by_group`, `deciles`).

use std::collections::HashMap;
use std::fmt::Write as _;

use churnwise::records::CustomerId;
use churnwise::retention::uplift::UpliftReport;
use churnwise::retention::{
    ArmSummary, CampaignDesign, CampaignEvaluator, CampaignOutcome, CampaignReport, Comparison,
    EffectBasis,
};
use churnwise::stats::Interval;
use serde_json::{Map, Value, json};

/// The command line.
pub struct Args {
    path: String,
    arm: String,
    control: String,
    outcome: String,
    outcome_is_retained: bool,
    score: Option<String>,
    segment: Option<String>,
    design: CampaignDesign,
    id: Option<String>,
    json: bool,
}

const USAGE: &str = "usage: evaluate_campaign PATH --arm COL --control VALUE --outcome COL \
    [--outcome-is churned|retained] [--score COL] [--segment COL] \
    [--design auto|stratified|randomized] [--id COL] [--json]";

/// Parses the arguments after the program name.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut it = args.into_iter();
    let mut flags: HashMap<String, String> = HashMap::new();
    let mut path = None;
    let mut json = false;
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json = true,
            "--help" | "-h" => return Err(USAGE.into()),
            f if f.starts_with("--") => {
                let v = it.next().ok_or(format!("{f} needs a value"))?;
                flags.insert(f.trim_start_matches("--").to_owned(), v);
            }
            _ if path.is_some() => return Err(format!("unexpected argument `{a}`\n{USAGE}")),
            _ => path = Some(a),
        }
    }
    let known = [
        "arm",
        "control",
        "outcome",
        "outcome-is",
        "score",
        "segment",
        "design",
        "id",
    ];
    if let Some(unknown) = flags.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(format!("unknown option --{unknown}\n{USAGE}"));
    }
    let mut take = |k: &str| flags.remove(k);
    let required = |v: Option<String>, k: &str| v.ok_or(format!("--{k} is required\n{USAGE}"));
    Ok(Args {
        path: path.ok_or(USAGE)?,
        arm: required(take("arm"), "arm")?,
        control: required(take("control"), "control")?,
        outcome: required(take("outcome"), "outcome")?,
        outcome_is_retained: match take("outcome-is").as_deref() {
            None | Some("churned") => false,
            Some("retained") => true,
            Some(other) => {
                return Err(format!(
                    "--outcome-is: expected `churned` or `retained`, got `{other}`"
                ));
            }
        },
        score: take("score"),
        segment: take("segment"),
        design: match take("design").as_deref() {
            None | Some("auto") => CampaignDesign::Auto,
            Some("stratified") => CampaignDesign::Stratified,
            Some("randomized") => CampaignDesign::Randomized,
            Some(other) => {
                return Err(format!(
                    "--design: expected `auto`, `stratified` or `randomized`, got `{other}`"
                ));
            }
        },
        id: take("id"),
        json,
    })
}

fn parse_flag(cell: &str, row: usize, column: &str) -> Result<bool, String> {
    match cell.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        other => Err(format!(
            "row {row}, column `{column}`: {other:?} is not 1/0, true/false or yes/no"
        )),
    }
}

/// The outcomes and, with `--score`, each row's score.
struct Table {
    outcomes: Vec<CampaignOutcome>,
    scores: Option<Vec<f64>>,
}

fn read_table(args: &Args) -> Result<Table, Box<dyn std::error::Error>> {
    let mut reader =
        csv::Reader::from_path(&args.path).map_err(|e| format!("{}: {e}", args.path))?;
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let column = |name: &str| {
        header.iter().position(|h| h == name).ok_or(format!(
            "{}: no column `{name}` (columns: {})",
            args.path,
            header.join(", ")
        ))
    };
    let arm = column(&args.arm)?;
    let outcome = column(&args.outcome)?;
    let score = args.score.as_deref().map(column).transpose()?;
    let segment = args.segment.as_deref().map(column).transpose()?;
    let id = args.id.as_deref().map(column).transpose()?;

    let mut outcomes = Vec::new();
    let mut scores = score.map(|_| Vec::new());
    for (row, record) in reader.records().enumerate() {
        let record = record?;
        let cell = |j: usize| record.get(j).unwrap_or("").trim();
        let arm_name = cell(arm);
        if arm_name.is_empty() {
            return Err(format!("row {row}, column `{}`: empty arm", args.arm).into());
        }
        let flag = parse_flag(cell(outcome), row, &args.outcome)?;
        let churned = flag != args.outcome_is_retained;
        let customer = match id {
            Some(j) => CustomerId::from(cell(j)),
            None => CustomerId::from(row as u64),
        };
        let mut o = CampaignOutcome::new(customer, arm_name, churned);
        if let Some(j) = segment.filter(|&j| !cell(j).is_empty()) {
            o = o.segment(cell(j));
        }
        outcomes.push(o);
        if let (Some(j), Some(scores)) = (score, scores.as_mut()) {
            let text = cell(j);
            let value: f64 = text.parse().map_err(|_| {
                format!(
                    "row {row}, column `{}`: {text:?} is not a number",
                    header[j]
                )
            })?;
            scores.push(value);
        }
    }
    Ok(Table { outcomes, scores })
}

/// Uplift of each treatment arm against the control, by the score.
fn uplift_by_arm(
    table: &Table,
    scores: &[f64],
    control: &str,
    report: &CampaignReport,
) -> Vec<(String, Result<UpliftReport, churnwise::Error>)> {
    report
        .overall
        .arms
        .iter()
        .map(|arm| {
            let name = arm.summary.arm.as_str();
            let rows: Vec<usize> = (0..table.outcomes.len())
                .filter(|&i| [name, control].contains(&table.outcomes[i].arm.as_str()))
                .collect();
            let s: Vec<f64> = rows.iter().map(|&i| scores[i]).collect();
            let retained: Vec<bool> = rows.iter().map(|&i| !table.outcomes[i].churned).collect();
            let treated: Vec<bool> = rows
                .iter()
                .map(|&i| table.outcomes[i].arm == name)
                .collect();
            (
                name.to_owned(),
                UpliftReport::compute(&s, &retained, &treated),
            )
        })
        .collect()
}

fn ci(i: &Interval) -> Value {
    json!([i.lower, i.upper])
}

fn summary_json(s: &ArmSummary) -> Value {
    json!({
        "arm": s.arm, "n": s.n, "churned": s.churned,
        "rate": s.churn.rate, "rate_ci95": ci(&s.churn.ci),
    })
}

fn comparison_json(c: &Comparison) -> Value {
    let mut arms = Map::new();
    for a in &c.arms {
        arms.insert(
            a.summary.arm.clone(),
            json!({
                "n": a.summary.n, "churned": a.summary.churned,
                "rate": a.summary.churn.rate, "rate_ci95": ci(&a.summary.churn.ci),
                "basis": match a.basis {
                    EffectBasis::Stratified => "stratified",
                    _ => "pooled",
                },
                "diff_vs_control": a.churn_difference, "diff_ci95": ci(&a.churn_difference_ci),
                "pooled_diff": a.pooled.estimate,
                "relative_reduction": a.relative_churn_reduction,
                "z": a.z, "p_value": a.p_value, "p_value_holm": a.p_value_holm,
            }),
        );
    }
    json!({
        "control": summary_json(&c.control),
        "arms": arms,
        "multiple_comparisons": c.multiple_comparisons,
    })
}

fn uplift_json(u: &UpliftReport) -> Value {
    let deciles: Vec<Value> = u
        .deciles
        .iter()
        .map(|b| {
            json!({
                "n": b.n, "n_treated": b.n_treated, "n_control": b.n_control,
                "score_max": b.score_max, "score_min": b.score_min,
                "rate_treated": b.rate_treated, "rate_control": b.rate_control,
                "uplift": b.uplift, "std_error": b.std_error,
            })
        })
        .collect();
    json!({
        "n": u.n, "n_treated": u.n_treated, "n_control": u.n_control,
        "qini_coefficient": u.qini_coefficient, "uplift_auc": u.uplift_auc,
        "uplift_at_30pct": u.uplift_at_30pct,
        "uplift_at_30pct_by_group": u.uplift_at_30pct_by_group,
        "deciles": deciles,
    })
}

/// Reads the table, evaluates it and returns what the example prints.
pub fn run(args: &Args) -> Result<String, Box<dyn std::error::Error>> {
    // 1. Read the outcome table.
    let table = read_table(args)?;

    // 2. Every treatment arm against the control, overall and per segment.
    let report = CampaignEvaluator::new(args.control.as_str())
        .design(args.design)
        .evaluate(&table.outcomes)?;

    // 3. With a score: uplift of each arm against the control.
    let uplift = table
        .scores
        .as_deref()
        .map(|scores| uplift_by_arm(&table, scores, &args.control, &report));

    let mut out = String::new();
    if args.json {
        let mut value = comparison_json(&report.overall);
        value["file"] = json!(args.path);
        value["n"] = json!(report.n);
        value["rate_of"] = json!("churn");
        value["confidence"] = json!(report.confidence);
        if args.segment.is_some() {
            let mut segments = Map::new();
            for b in &report.by_segment {
                let v = match &b.comparison {
                    Some(c) => comparison_json(c),
                    None => json!({ "n": b.n, "note": b.note }),
                };
                segments.insert(b.label.clone(), v);
            }
            value["segments"] = Value::Object(segments);
        }
        if let Some(uplift) = &uplift {
            let mut by_arm = Map::new();
            for (arm, u) in uplift {
                let v = match u {
                    Ok(u) => uplift_json(u),
                    Err(e) => json!({ "error": e.to_string() }),
                };
                by_arm.insert(arm.clone(), v);
            }
            value["uplift"] = Value::Object(by_arm);
        }
        writeln!(out, "{value}")?;
        return Ok(out);
    }

    write!(out, "{report}")?;
    for (arm, u) in uplift.iter().flatten() {
        writeln!(
            out,
            "\nuplift of `{arm}` vs `{}` by score (retention)",
            args.control
        )?;
        let u = match u {
            Ok(u) => u,
            Err(e) => {
                writeln!(out, "  not computed: {e}")?;
                continue;
            }
        };
        let opt = |x: Option<f64>| x.map_or("-".to_owned(), |v| format!("{v:.4}"));
        writeln!(
            out,
            "Qini coefficient {:.4}, uplift AUC {:.4}, uplift@30% {} (by group {})",
            u.qini_coefficient,
            u.uplift_auc,
            opt(u.uplift_at_30pct),
            opt(u.uplift_at_30pct_by_group)
        )?;
        writeln!(
            out,
            "{:>6} {:>9} {:>9} {:>6} {:>6} {:>9} {:>9} {:>8} {:>8}",
            "decile",
            "score max",
            "score min",
            "n_t",
            "n_c",
            "retain_t",
            "retain_c",
            "uplift",
            "se"
        )?;
        for (k, b) in u.deciles.iter().enumerate() {
            writeln!(
                out,
                "{:>6} {:>9.4} {:>9.4} {:>6} {:>6} {:>9} {:>9} {:>8} {:>8}",
                k + 1,
                b.score_max,
                b.score_min,
                b.n_treated,
                b.n_control,
                opt(b.rate_treated),
                opt(b.rate_control),
                opt(b.uplift),
                opt(b.std_error)
            )?;
        }
    }
    Ok(out)
}

/// Prints an error with its message (not its debug form) and exits with 1.
fn main() {
    if let Err(e) = try_main() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn try_main() -> Result<(), Box<dyn std::error::Error>> {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    print!("{}", run(&args)?);
    Ok(())
}
