//! The contractual churn pipeline on a synthetic subscription business.
//!
//! ```text
//! cargo run --release --example subscriptions
//! ```
//!
//! Generates a subscription business with known ground truth (plans,
//! monthly and yearly billing, renewals, payment failures, cancellations
//! with their true reasons), validates it into a `History`, and reads it
//! the way a subscription business does: monthly MRR movements, renewal
//! rates by plan and by cohort, churn rates when a subscription ends, why
//! subscribers left (stated reasons against the truth), the best AUC any
//! churn model of these records could reach (the generator's records
//! oracle), a contractual churn model backtested next to it, and the default
//! subscription alert policy checked against who really left. With the
//! `charts` feature it writes an HTML report of the recurring revenue to
//! `target/subscriptions-report.html`.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{TimeDelta, TimeZone, Utc};
use churnwise::alert::{AlertEngine, AlertPolicy};
use churnwise::analysis::reasons::{ChurnEvent, ReasonShares};
use churnwise::features::{ChurnLabeler, FeatureSpec, LabelRule, Snapshot};
use churnwise::model::metrics::roc_auc;
use churnwise::model::{Backtest, LogisticRegression};
use churnwise::score::{ChurnScorer, Profiles};
use churnwise::segment::{
    ChurnDefinition, ChurnRatesTable, MrrMovementsTable, Period, Periods, RenewalGroup,
    RenewalRatesTable, churn_rates, mrr_movements, renewal_rates,
};
use churnwise::synth::{SubscriptionPopulation, SubscriptionPopulationConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A reproducible subscription business: 20 000 subscribers over
    //    2023–2024 (signing up through the first 75% of it), 30% billed
    //    yearly at a 15% discount, 80% on auto-renew, and a 10% price
    //    increase from 2024-01-01 at each subscription's next period end.
    let config = SubscriptionPopulationConfig::default()
        .customers(20_000)
        .seed(42);
    let started = Instant::now();
    let business = config.generate()?;
    let generated = started.elapsed();

    // 2. Validate everything into a columnar History (the builder declares
    //    the three plans, so a misspelt plan would be reported).
    let started = Instant::now();
    let (history, report) = business.history_builder().build()?;
    let built = started.elapsed();
    heading("Data quality");
    print!("{report}");
    println!(
        "\n{} customers, {} subscriptions, {} subscription events, {} interactions \
         (generated in {:.2?}, validated in {:.2?})",
        history.customer_count(),
        history.subscription_count(),
        history.subscription_event_count(),
        history.interaction_count(),
        generated,
        built,
    );

    // 3. Monthly recurring revenue, month by month through 2024: where it
    //    came from (new, reactivation, expansion) and where it went
    //    (contraction, churn). January shows the price increase as expansion.
    let jan = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let end = config.end_time();
    let movements = mrr_movements(&history, &Periods::months(jan, 12)?)?;
    heading("MRR movements, 2024");
    println!("{}", MrrMovementsTable::new(&movements));

    // 4. Renewal decisions in 2024: the share of period ends that renewed,
    //    by plan (in effect at the decision), by billing period and by
    //    signup cohort (first and last few months).
    let year = Period::new(jan, end)?;
    let by_plan = renewal_rates(&history, year, RenewalGroup::Plan)?;
    heading("Renewal rates in 2024");
    println!("{}", RenewalRatesTable::new(&by_plan));
    println!(
        "{}",
        RenewalRatesTable::new(&renewal_rates(&history, year, RenewalGroup::BillingPeriod)?)
    );
    let by_cohort = renewal_rates(&history, year, RenewalGroup::Cohort)?;
    let shown: Vec<_> = by_cohort
        .iter()
        .take(3)
        .chain(by_cohort.iter().rev().take(3).rev())
        .cloned()
        .collect();
    println!("By cohort (first and last three of {}):", by_cohort.len());
    println!("{}", RenewalRatesTable::new(&shown));

    // 5. Churn as a subscription business counts it: a customer has churned
    //    once every subscription has ended.
    heading("Churn rate: subscription ended");
    let months = Periods::months(jan, 12)?;
    println!(
        "{}",
        ChurnRatesTable::new(&churn_rates(
            &history,
            &months,
            &ChurnDefinition::SubscriptionEnded
        )?)
    );

    // 6. Why they left: the reasons stated with cancellation requests (and
    //    payment failures for involuntary churn) of everyone whose
    //    subscription ended in 2024, next to the generator's true reasons:
    //    one request in five gives no reason (`other`).
    heading("Churn reasons, 2024");
    let events = ChurnEvent::from_subscriptions(&history, jan, end)?;
    let reasons = ReasonShares::new().report(&events)?;
    let mut truth: BTreeMap<String, usize> = BTreeMap::new();
    let mut churned = 0usize;
    for t in business.truth() {
        if t.churn_time().is_some_and(|c| c >= jan) {
            churned += 1;
            if let Some(r) = t.reason() {
                *truth.entry(r.label().to_owned()).or_default() += 1;
            }
        }
    }
    println!("{:<18} {:>8} {:>8}", "reason", "stated", "true");
    for share in reasons.overall() {
        let true_share = truth.get(share.reason()).copied().unwrap_or(0) as f64 / churned as f64;
        println!(
            "{:<18} {:>7.1}% {:>7.1}%",
            share.reason(),
            100.0 * share.share(),
            100.0 * true_share
        );
    }
    println!("({} churned subscribers in 2024)", reasons.churned());

    // 7. The best any churn model of these records can do: the generator's
    //    records oracle, the probability that each running subscription ends
    //    in the next 90 days given everything the records show, scored
    //    against what really happened.
    heading("Best possible churn model (records oracle)");
    let as_of = end - TimeDelta::days(180);
    let until = as_of + TimeDelta::days(90);
    let started = Instant::now();
    let risks = config.churn_probabilities_given_records(as_of, 90.0, 16)?;
    let labels: Vec<bool> = risks
        .iter()
        .map(|r| {
            let i = r.id().as_u64().map_or(0, |v| v as usize - 1);
            business.truth()[i]
                .churn_time()
                .is_some_and(|t| t > as_of && t <= until)
        })
        .collect();
    let scores: Vec<f64> = risks.iter().map(|r| r.probability()).collect();
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    let realized = labels.iter().filter(|&&l| l).count() as f64 / labels.len() as f64;
    println!(
        "as of {}: {} running subscriptions, predicted 90-day churn {:.1}%, realized {:.1}%",
        as_of.date_naive(),
        risks.len(),
        100.0 * mean,
        100.0 * realized
    );
    println!(
        "best possible AUC {:.3} (oracle in {:.2?})",
        roc_auc(&scores, &labels, None)?,
        started.elapsed()
    );

    // 8. A contractual churn model: the subscription features (days to
    //    renewal, auto-renew, months on the plan, MRR and its 90-day change,
    //    downgrades, payment failures, paused) with the engagement and
    //    support features and plan, channel and region one-hot, labelled by
    //    subscriptions ending within 90 days (voluntary or not). Backtested
    //    on two dates, each time trained on three earlier snapshots whose
    //    label windows closed before it, next to the records oracle.
    let month = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    let spec = FeatureSpec::contractual().one_hot_attributes(&history, 4);
    let labeler = ChurnLabeler::new()
        .rule(LabelRule::SubscriptionEnd)
        .horizon_days(90);
    let snapshot = Snapshot::new(month(10));
    let backtest = Backtest::new(labeler.clone(), spec.clone(), snapshot.clone());
    let test_dates = [month(8), month(10)];
    let started = Instant::now();
    let report_bt = backtest.run(&LogisticRegression::new(), &history, &test_dates)?;
    heading("Contractual churn model: backtest next to the best possible");
    println!(
        "{:<12} {:>10} {:>11} {:>11}",
        "test date", "model AUC", "oracle AUC", "churn rate"
    );
    for (&t, fold) in test_dates.iter().zip(report_bt.folds()) {
        let (auc, rate) = oracle_auc(&config, &business, t)?;
        println!(
            "{:<12} {:>10.3} {:>11.3} {:>10.1}%",
            t.date_naive(),
            fold.roc_auc,
            auc,
            100.0 * rate
        );
    }
    println!("(backtest and oracles in {:.2?})", started.elapsed());

    // 9. Early warning on 1 October: the model trained on the snapshots
    //    before it scores every subscriber (and a month earlier, for the
    //    trends), and the default subscription alert policy raises alerts
    //    (renewal due with engagement down, repeated payment failures,
    //    recent downgrade). How many of the alerted really left?
    let as_of = month(10);
    let train = labeler.training_set(&history, &spec, &snapshot, &backtest.train_times(as_of))?;
    let scorer = ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?;
    let profiles_at = |t| -> churnwise::Result<Profiles> {
        Profiles::new(spec.extract(&history, &snapshot.at(t))?)?.score_with(&scorer)
    };
    let (before, now) = (
        profiles_at(as_of - TimeDelta::days(30))?,
        profiles_at(as_of)?,
    );
    let engine = AlertEngine::new(AlertPolicy::default_subscription_policy());
    let alerts = engine.evaluate(&now, Some(&before))?;
    let left = |id: &churnwise::records::CustomerId| {
        let i = id.as_u64().map_or(0, |v| v as usize - 1);
        business.truth()[i]
            .churn_time()
            .is_some_and(|t| t > as_of && t <= as_of + TimeDelta::days(90))
    };
    let mut by_rule: BTreeMap<String, (String, usize, usize)> = BTreeMap::new();
    for a in alerts.alerts() {
        let e = by_rule
            .entry(a.rule().to_owned())
            .or_insert_with(|| (a.route().name().to_owned(), 0, 0));
        e.1 += 1;
        e.2 += usize::from(left(a.customer()));
    }
    heading("Alerts on 2024-10-01: default subscription policy");
    println!(
        "{:<30} {:<8} {:>7} {:>16}",
        "rule", "team", "alerts", "left in 90 days"
    );
    for (rule, (team, n, gone)) in &by_rule {
        println!(
            "{rule:<30} {team:<8} {n:>7} {:>15.1}%",
            100.0 * *gone as f64 / *n as f64
        );
    }
    // The base rate: every subscription running on 1 October.
    let running: Vec<_> = business
        .customers()
        .iter()
        .zip(business.truth())
        .filter(|(c, t)| c.signup <= as_of && t.churn_time().is_none_or(|e| e > as_of))
        .collect();
    let gone = running.iter().filter(|(c, _)| left(&c.id)).count();
    println!(
        "(all {} running subscriptions: {:.1}% left in 90 days)",
        running.len(),
        100.0 * gone as f64 / running.len() as f64
    );

    // 10. An HTML report of the recurring revenue (with the `charts` feature).
    #[cfg(feature = "charts")]
    {
        use churnwise::report::{ChartOptions, Report, Section};
        let path = std::path::Path::new("target").join("subscriptions-report.html");
        Report::new("Subscriptions")
            .with_section(Section::data_quality(&report))
            .with_section(Section::recurring_revenue(
                &movements,
                &by_plan,
                &ChartOptions::new(),
            )?)
            .write_html(&path)?;
        heading("Report");
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The records oracle's AUC on the subscriptions running at `t` against
/// whether each truly ended in the next 90 days, and that churn rate.
fn oracle_auc(
    config: &SubscriptionPopulationConfig,
    business: &SubscriptionPopulation,
    t: chrono::DateTime<Utc>,
) -> churnwise::Result<(f64, f64)> {
    let until = t + TimeDelta::days(90);
    let risks = config.churn_probabilities_given_records(t, 90.0, 16)?;
    let labels: Vec<bool> = risks
        .iter()
        .map(|r| {
            let i = r.id().as_u64().map_or(0, |v| v as usize - 1);
            business.truth()[i]
                .churn_time()
                .is_some_and(|c| c > t && c <= until)
        })
        .collect();
    let scores: Vec<f64> = risks.iter().map(|r| r.probability()).collect();
    let rate = labels.iter().filter(|&&l| l).count() as f64 / labels.len() as f64;
    Ok((roc_auc(&scores, &labels, None)?, rate))
}

fn heading(title: &str) {
    let rule = "=".repeat(60usize.saturating_sub(title.len()));
    println!("\n{}", format!("== {title} {rule}").trim_end());
}
