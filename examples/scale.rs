//! The whole churnwise pipeline at scale: one million customers and about ten
//! million orders, with the wall time and peak memory of every stage.
//!
//! ```text
//! cargo run --release --example scale                        # 1 000 000 customers, ≈ 10 M orders
//! cargo run --release --example scale -- --customers 100000  # a quicker check
//! ```
//!
//! The stages follow the quickstart: generate the synthetic population
//! (straight into a `HistoryBuilder`, so the raw records are never all held
//! at once); validate it into a `History`; extract point-in-time features
//! with churn labels for training (1 March, May and July 2024); fit the
//! logistic model; extract the features for scoring (1 October 2024);
//! segment (RFM, lifecycle, value tiers); score everyone with a
//! `ChurnScorer`; fit BG/NBD and
//! Gamma-Gamma and value every customer (CLV); build `Profiles` (now and a
//! month earlier, for the change rules); run the default alert policy; plan
//! retention within a budget and hold out a fifth of the plan as controls.
//! Intermediate data is dropped as soon as no later stage needs it.
//!
//! For each stage the table shows its wall time, the peak resident memory
//! during the stage (`VmHWM` from `/proc/self/status`, reset before each stage
//! by writing `5` to `/proc/self/clear_refs`; where that is refused, the peak
//! since the start) and the resident memory at its end (`VmRSS`), in MB of
//! 10⁶ bytes. On systems without `/proc` the memory columns read `n/a`. The
//! full size peaks just under 2 GB. Memory the allocator keeps after a
//! stage frees it still counts as resident. Because the high-water mark is
//! reset, outside tools that report the process's maximum RSS (such as
//! `/usr/bin/time -v`) see only the last stage's peak.

use std::collections::HashMap;
use std::error::Error;
use std::time::Instant;

use chrono::{TimeDelta, TimeZone, Utc};
use churnwise::alert::{AlertEngine, AlertPolicy};
use churnwise::clv::{BetaGeo, Calibration, Clv, GammaGamma, TimeUnit};
use churnwise::features::{ChurnLabeler, FeatureSpec, LapsedCustomers, Snapshot};
use churnwise::model::LogisticRegression;
use churnwise::model::metrics::roc_auc;
use churnwise::records::HistoryBuilder;
use churnwise::retention::{HoldOut, Planner, Playbook};
use churnwise::rules::Route;
use churnwise::score::{ChurnScorer, Profiles};
use churnwise::segment::{LifecyclePolicy, Rfm, Tiers};
use churnwise::synth::PopulationConfig;

type AnyResult<T> = Result<T, Box<dyn Error>>;

/// Prints an error with its message (not its debug form) and exits with 1.
fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> AnyResult<()> {
    let customers = parse_customers()?;
    let mut meter = Meter::new();

    // About ten orders per customer over the two years (the default mean
    // customer buys every 35 days but signs up late or drops out early).
    let config = PopulationConfig::default()
        .customers(customers)
        .seed(42)
        .signup_fraction(0.9)
        .purchase_alpha_days(45.0);
    let at = |y, m| Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single();
    let as_of = at(2024, 10).ok_or("bad date")?;
    let train_at = [at(2024, 3), at(2024, 5), at(2024, 7)]
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or("bad date")?;
    let snapshot = Snapshot::new(as_of);
    let spec = FeatureSpec::all();

    // 1. Simulate straight into the builder, a round of customers at a time.
    let mut builder = HistoryBuilder::new();
    let truth = meter.stage("generate", || config.generate_into(&mut builder))?;
    let truly_churned = truth.iter().filter(|t| t.is_churned()).count();
    drop(truth);

    // 2. Validate into the columnar History.
    let (history, report) = meter.stage("validate", || builder.build())?;
    let summary = history.summary();
    meter.note("customers", summary.customers.to_string());
    meter.note("orders", summary.orders.to_string());
    meter.note("interactions", summary.interactions.to_string());
    meter.note(
        "history size",
        format!("{:.0} MB", mb(history.memory().total() as u64)),
    );
    if !report.is_clean() {
        println!("data quality:\n{report}");
    }
    drop(report);

    // 3. Training rows: features on 1 March, May and July 2024 (their 90-day
    //    labels end before October), and 4. the churn model fitted on them.
    //    The model is fitted before the scoring snapshot is extracted, so the
    //    training rows are gone by then.
    let labeler = ChurnLabeler::new().lapsed_customers(LapsedCustomers::Exclude);
    let train = meter.stage("features: train", || {
        labeler.training_set(&history, &spec, &snapshot, &train_at)
    })?;
    meter.note(
        "training rows",
        format!(
            "{} × {}",
            train.features().nrows(),
            train.features().ncols()
        ),
    );
    let model = meter.stage("fit logistic", || LogisticRegression::new().fit(&train))?;
    drop(train);

    // 5. The scoring snapshot: everyone signed up by 1 October, and who
    //    placed no order in the 90 days after (to check the scores).
    let (table, labels) = meter.stage("features: score", || -> AnyResult<_> {
        let table = spec.extract(&history, &snapshot)?;
        let labels = ChurnLabeler::new().labels(&history, as_of)?;
        Ok((table, labels))
    })?;
    meter.note("scored rows", table.nrows().to_string());

    // 6. RFM segments, behavioural lifecycle stages (as the quickstart,
    //    before scores) and value tiers for the alert rules.
    let (segments, stages, tiers) = meter.stage("segment", || -> AnyResult<_> {
        let segments = Rfm::new().fit(&table)?.apply(&table)?;
        let segments: Vec<_> = segments.iter().map(|s| s.segment()).collect();
        let stages = LifecyclePolicy::default().apply(&table, None)?;
        let tiers = Tiers::value().fit(&table)?.apply(&table)?;
        Ok((segments, stages, tiers))
    })?;

    // 7. Score everyone on 1 October.
    let scores = meter.stage("score", || -> AnyResult<_> {
        let scorer = ChurnScorer::new(model, &snapshot)?;
        Ok(scorer.score_table(&table)?.to_vec())
    })?;
    if labels.ids() == table.ids() {
        meter.note(
            "test ROC-AUC",
            format!("{:.3}", roc_auc(&scores, labels.churned(), None)?),
        );
    }
    drop(labels);

    // 8. BG/NBD purchases, Gamma-Gamma spend, and a year's value (12 months
    //    of 4.345 weeks, 1% a month) for every customer.
    let values = meter.stage("fit BG/NBD + CLV", || -> AnyResult<_> {
        let summary = Calibration::new(as_of)
            .unit(TimeUnit::Weeks)
            .summarize(&history)?;
        let purchases = BetaGeo::new().fit(&summary)?;
        let spend = GammaGamma::new().fit(&summary)?;
        let values = Clv::new(4.345, 12)
            .discount_rate(0.01)
            .values(&purchases, &spend, &summary)?;
        // In the scoring table's order (both follow the History's order
        // when they cover the same customers).
        if summary.ids() == table.ids() {
            return Ok(values);
        }
        let by_id: HashMap<_, _> = summary.ids().iter().zip(values).collect();
        Ok(table
            .ids()
            .iter()
            .map(|id| by_id.get(id).copied().unwrap_or(0.0))
            .collect())
    })?;

    // 9. Profiles now, and a month earlier for the rules that test a change
    //    (only `spend_halved` does, and it reads `spend_90d`: one column, not
    //    all 42). The History is not needed afterwards.
    let (profiles, before) = meter.stage("profiles", || -> AnyResult<_> {
        let profiles = Profiles::new(table)?
            .with_churn_probabilities(scores)?
            .with_rfm_segments(segments)?
            .with_lifecycle_stages(stages)?
            .with_value_tiers(tiers)?
            .with_customer_values(values)?;
        let month_ago = snapshot.at(as_of - TimeDelta::days(30));
        let before = Profiles::new(FeatureSpec::new(["spend_90d"]).extract(&history, &month_ago)?)?;
        Ok((profiles, before))
    })?;
    drop(history);

    // 10. The default alert policy.
    let engine = AlertEngine::new(AlertPolicy::default_policy());
    let alerts = meter.stage("alerts", || engine.evaluate(&profiles, Some(&before)))?;
    let n_alerts = alerts.alerts().len();
    drop(alerts);
    drop(before);

    // 11. A budgeted plan (2 per customer of the base; customer service
    //     calls at most one customer in 200), with a fifth of each
    //     (intervention, segment) held out as controls.
    let budget = 2.0 * customers as f64;
    let (planned, treated) = meter.stage("plan retention", || -> AnyResult<_> {
        let plan = Planner::new(budget)
            .team_capacity(Route::CustomerService, customers / 200)
            .plan(&profiles, &Playbook::default_playbook())?;
        let control = HoldOut::new(0.2, 7).split(&plan)?;
        let held = control.iter().filter(|&&c| c).count();
        Ok((plan.assignments().len(), plan.assignments().len() - held))
    })?;
    meter.note("alerts", n_alerts.to_string());
    meter.note(
        "planned / treated",
        format!("{planned} / {treated} (budget {budget:.0})"),
    );
    meter.note(
        "truly churned",
        format!(
            "{:.1}% (generator's ground truth)",
            100.0 * truly_churned as f64 / customers as f64
        ),
    );
    drop(profiles);

    meter.print();
    Ok(())
}

/// `--customers N` (underscores allowed), 1 000 000 by default.
fn parse_customers() -> AnyResult<usize> {
    let mut customers = 1_000_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--customers" => args.next().ok_or("--customers needs a number")?,
            a if a.starts_with("--customers=") => a["--customers=".len()..].to_string(),
            "-h" | "--help" => {
                println!("usage: scale [--customers N]   (default 1000000)");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`; try --help").into()),
        };
        customers = value
            .replace('_', "")
            .parse()
            .map_err(|e| format!("--customers {value}: {e}"))?;
        if customers == 0 {
            return Err("--customers must be at least 1".into());
        }
    }
    Ok(customers)
}

/// One measured stage.
struct Row {
    stage: &'static str,
    seconds: f64,
    peak_kb: Option<u64>,
    live_kb: Option<u64>,
}

/// Times stages and reads the process's resident memory around them.
struct Meter {
    rows: Vec<Row>,
    notes: Vec<(&'static str, String)>,
    /// Whether the high-water mark could be reset (else it is cumulative).
    resets: bool,
    started: Instant,
    start_kb: Option<u64>,
}

impl Meter {
    fn new() -> Self {
        Meter {
            rows: Vec::new(),
            notes: Vec::new(),
            resets: true,
            started: Instant::now(),
            start_kb: memory().map(|m| m.1),
        }
    }

    /// Runs `f` as the stage `name`.
    fn stage<T, E>(
        &mut self,
        name: &'static str,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        if self.resets {
            self.resets = reset_peak();
        }
        let started = Instant::now();
        let out = f()?;
        let seconds = started.elapsed().as_secs_f64();
        let m = memory();
        self.rows.push(Row {
            stage: name,
            seconds,
            peak_kb: m.map(|m| m.0),
            live_kb: m.map(|m| m.1),
        });
        eprintln!("{name:<18} {seconds:>8.2} s");
        Ok(out)
    }

    fn note(&mut self, what: &'static str, value: String) {
        self.notes.push((what, value));
    }

    fn print(&self) {
        let fmt =
            |kb: Option<u64>| kb.map_or("n/a".to_string(), |kb| format!("{:.0}", mb(kb * 1024)));
        println!(
            "\n{:<18} {:>9} {:>13} {:>13}",
            "stage", "seconds", "peak RSS MB", "live RSS MB"
        );
        println!("{}", "-".repeat(56));
        for r in &self.rows {
            println!(
                "{:<18} {:>9.2} {:>13} {:>13}",
                r.stage,
                r.seconds,
                fmt(r.peak_kb),
                fmt(r.live_kb)
            );
        }
        println!("{}", "-".repeat(56));
        let peak = self.rows.iter().filter_map(|r| r.peak_kb).max();
        println!(
            "{:<18} {:>9.2} {:>13} {:>13}",
            "whole run",
            self.started.elapsed().as_secs_f64(),
            fmt(peak),
            fmt(memory().map(|m| m.1))
        );
        println!(
            "(peak: {}; {} MB resident at start)\n",
            if self.resets {
                "per stage, high-water mark reset before each"
            } else {
                "cumulative since start, the high-water mark could not be reset"
            },
            fmt(self.start_kb)
        );
        let width = self.notes.iter().map(|n| n.0.len()).max().unwrap_or(0);
        for (what, value) in &self.notes {
            println!("{what:<width$}  {value}");
        }
    }
}

/// Megabytes (10⁶ bytes).
fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// `(VmHWM, VmRSS)` in kB, from `/proc/self/status` (Linux only).
fn memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

/// Resets the peak-RSS high-water mark to the current RSS (Linux ≥ 4.0).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
