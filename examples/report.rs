//! A churn report people can open: the whole pipeline on the synthetic
//! population, written as one self-contained HTML file (and, with
//! `--markdown DIR`, as Markdown with the charts as SVG files beside it).
//!
//! ```text
//! cargo run --release --example report -- --out churn-report.html [--markdown DIR] [--customers N]
//! ```
//!
//! Without `--out` the report goes to `target/churn-report.html`. The file
//! has its CSS and charts inline and makes no external request: open it in
//! any browser, attach it to an e-mail, or print it (one section per page).

#[path = "common/campaign.rs"]
mod campaign;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use chrono::{TimeDelta, TimeZone, Utc};
use churnwise::alert::{AlertEngine, AlertPolicy};
use churnwise::analysis::drivers::{DriverData, Drivers};
use churnwise::analysis::survival::{KaplanMeier, Lifetimes, logrank};
use churnwise::features::{ChurnLabeler, FeatureSpec, LapsedCustomers, Snapshot};
use churnwise::model::LogisticRegression;
use churnwise::records::CustomerId;
use churnwise::report::{Chart, ChartOptions, Report, Section};
use churnwise::retention::uplift::qini_curve;
use churnwise::retention::{CampaignEvaluator, Planner, Playbook};
use churnwise::score::{ChurnScorer, Profiles};
use churnwise::segment::{
    ChurnDefinition, CohortRetention, CohortRule, LifecyclePolicy, Periods, Rfm, SegmentReport,
    Tiers, churn_rates,
};
use churnwise::synth::PopulationConfig;

struct Args {
    out: PathBuf,
    markdown: Option<PathBuf>,
    customers: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        out: PathBuf::from("target/churn-report.html"),
        markdown: None,
        customers: 20_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--out" => args.out = PathBuf::from(value()?),
            "--markdown" => args.markdown = Some(PathBuf::from(value()?)),
            "--customers" => {
                let v = value()?;
                args.customers = v.parse().ok().filter(|&n| n >= 500).ok_or(format!(
                    "--customers: `{v}` is not a whole number of at least 500"
                ))?;
            }
            "--help" | "-h" => {
                return Err(
                    "usage: report [--out FILE.html] [--markdown DIR] [--customers N]".into(),
                );
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    // The quickstart's pipeline, smaller: records, features, segments, a
    // model trained on past snapshots and tested on 1 October 2024, alerts,
    // a plan, and the campaign run on the simulated population.
    let config = PopulationConfig::default()
        .customers(args.customers)
        .seed(42)
        .signup_fraction(0.9)
        .dirty_fraction(0.001);
    let population = config.generate()?;
    let (history, quality) = population.history_builder().build()?;
    let truth = population.truth();
    let as_of = Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap();
    let month = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    let snapshot = Snapshot::new(as_of);
    let table = FeatureSpec::all().extract(&history, &snapshot)?;
    let labels = ChurnLabeler::new().labels(&history, as_of)?;
    let churned = labels.churned();

    let rfm = Rfm::new().fit(&table)?;
    let segments: Vec<_> = rfm.apply(&table)?.iter().map(|s| s.segment()).collect();
    let stages = LifecyclePolicy::default().apply(&table, None)?;
    let cohorts = CohortRetention::by_signup_month(
        &history,
        Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).unwrap(),
        12,
        &CohortRule::Ordered,
    )?;
    let monthly = churn_rates(
        &history,
        &Periods::months(month(1), 9)?,
        &ChurnDefinition::default(),
    )?;

    let labeler = ChurnLabeler::new().lapsed_customers(LapsedCustomers::Exclude);
    let spec = FeatureSpec::all();
    let train =
        labeler.training_set(&history, &spec, &snapshot, &[month(3), month(5), month(7)])?;
    let test = labeler.training_set(&history, &spec, &snapshot, &[as_of])?;
    let scorer = ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?;
    let scores = scorer.score_table(test.features())?.to_vec();

    let value_tiers = Tiers::value().fit(&table)?;
    let profiles_at = |t| -> churnwise::Result<Profiles> {
        let table = FeatureSpec::all().extract(&history, &snapshot.at(t))?;
        Profiles::new(table)?
            .score_with(&scorer)?
            .segment_rfm(&rfm)?
            .stage_lifecycle(&LifecyclePolicy::default())?
            .tier_value(&value_tiers)?
            .values_from_column("spend_180d")
    };
    let (before, profiles) = (
        profiles_at(as_of - TimeDelta::days(30))?,
        profiles_at(as_of)?,
    );
    let engine = AlertEngine::new(AlertPolicy::default_policy());
    let alerts = engine.evaluate(&profiles, Some(&before))?;
    let playbook = Playbook::default_playbook();
    let plan = Planner::new(10_000.0).plan(&profiles, &playbook)?;
    let outcomes = campaign::run_campaign(&config, &plan, &playbook, truth, as_of, 90.0)?;
    let evaluation = CampaignEvaluator::new("control").evaluate(&outcomes)?;

    // The Qini curve of the churn score as a targeting rule: among planned
    // customers, does treating the riskiest first retain more?
    let risk: HashMap<&CustomerId, f64> = profiles
        .iter()
        .filter_map(|p| Some((p.id(), p.churn_probability()?)))
        .collect();
    let (mut q_scores, mut retained, mut treated) = (vec![], vec![], vec![]);
    for o in &outcomes {
        if let Some(&p) = risk.get(&o.customer) {
            q_scores.push(p);
            retained.push(!o.churned);
            treated.push(o.arm != "control");
        }
    }
    let qini = qini_curve(&q_scores, &retained, &treated)?;

    // Why customers leave: time to churn by value tier, and what
    // distinguishes those who churned.
    let lifetimes = Lifetimes::new(as_of)
        .extract(&history)?
        .with_groups_from(&profiles, "value_tier")?;
    let survival = KaplanMeier::new().fit(&lifetimes)?;
    let survival_test = logrank(&lifetimes)?;
    let drivers = Drivers::new().analyze(
        &DriverData::from_table(&table, &labels)?
            .with_categories_from(&profiles, &["lifecycle_stage", "value_tier", "rfm_segment"])?,
    )?;

    // The report.
    let started = Instant::now();
    let options = ChartOptions::new();
    let report = Report::new("Churn report")
        .with_subtitle(format!(
            "Synthetic population of {} customers, as of {}",
            args.customers,
            as_of.format("%Y-%m-%d")
        ))
        .with_section(Section::data_quality(&quality))
        .with_section(
            Section::customer_base(&history.summary())
                .with_chart(Chart::cohort_retention(&cohorts, &options)?)
                .with_chart(Chart::churn_rates(&monthly, &options)?),
        )
        .with_section(Section::segments(
            "RFM segments",
            &SegmentReport::new(&segments, &table, Some(churned))?,
            &options,
        )?)
        .with_section(Section::segments(
            "Lifecycle stages",
            &SegmentReport::new(&stages, &table, Some(churned))?,
            &options,
        )?)
        .with_section(Section::model(
            &scores,
            test.labels().as_slice().unwrap_or(&[]),
            &options,
        )?)
        .with_section(Section::survival(
            &survival,
            Some(&survival_test),
            &[90.0, 180.0, 365.0],
            &options.clone().x_label("days since signup"),
        )?)
        .with_section(Section::drivers(&drivers, 10, &options)?)
        .with_section(Section::at_risk(&profiles, 15, Some(&scorer))?)
        .with_section(Section::alerts(&alerts))
        .with_section(Section::retention_plan(&plan))
        .with_section(Section::campaign(&evaluation, Some(&qini), &options)?);
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    report.write_html(&args.out)?;
    let rendered = started.elapsed();
    let bytes = std::fs::metadata(&args.out)?.len();
    println!(
        "report written to {} ({:.0} KiB, {} sections, rendered and written in {:.1} ms)",
        args.out.display(),
        bytes as f64 / 1024.0,
        report.sections().len(),
        rendered.as_secs_f64() * 1e3
    );
    if let Some(dir) = &args.markdown {
        let path = report.write_markdown(dir)?;
        println!("markdown written to {}", path.display());
    }
    Ok(())
}
