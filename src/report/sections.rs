//! Ready-made report sections for the crate's results.

use std::collections::BTreeMap;

use super::chart::{Chart, ChartOptions};
use super::document::Section;
use super::svg::num;
use super::table::{Align, Table};
use crate::alert::AlertReport;
use crate::analysis::drivers::{Driver, DriverReport};
use crate::analysis::survival::{FittedKaplanMeier, LogRankTest};
use crate::model::metrics::{Metrics, calibration, cumulative_gains};
use crate::records::{DataQualityReport, HistorySummary, RecordKind};
use crate::retention::uplift::CurvePoint;
use crate::retention::{CampaignReport, Plan};
use crate::score::{ChurnScorer, Profiles};
use crate::segment::{
    MrrMovement, MrrMovementsTable, RenewalRate, RenewalRatesTable, SegmentReport,
};
use crate::{ErrorKind, Result};

/// How many bins the model section's calibration chart uses.
const CALIBRATION_BINS: usize = 10;
/// How many points the model section's gains and lift charts use.
const GAINS_POINTS: usize = 20;

impl Section {
    /// Data quality: records received, accepted, dropped and repaired, and
    /// every kind of problem with its count, as in the report's terminal
    /// output.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::report::Section;
    /// # let population = churnwise::synth::PopulationConfig::default().customers(300).seed(1).dirty_fraction(0.01).generate()?;
    ///
    /// let (_history, quality) = population.history_builder().build()?;
    /// let section = Section::data_quality(&quality);
    /// assert_eq!(section.title(), "Data quality");
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn data_quality(report: &DataQualityReport) -> Section {
        let (received, accepted) = (report.received(), report.accepted());
        let mut counts = Table::new(["records", "received", "accepted", "dropped"]);
        for (name, kind) in [
            ("customers", RecordKind::Customer),
            ("orders", RecordKind::Order),
            ("interactions", RecordKind::Interaction),
            ("feedback", RecordKind::Feedback),
            ("subscriptions", RecordKind::Subscription),
            ("subscription events", RecordKind::SubscriptionEvent),
        ] {
            let subs = matches!(
                kind,
                RecordKind::Subscription | RecordKind::SubscriptionEvent
            );
            if subs && received.get(kind) == 0 {
                continue; // a business without subscriptions
            }
            counts.push_row([
                name.to_string(),
                received.get(kind).to_string(),
                accepted.get(kind).to_string(),
                report.dropped(kind).to_string(),
            ]);
        }
        let mut section = Section::new("Data quality")
            .with_figures([
                ("records received", received.total().to_string()),
                ("records accepted", accepted.total().to_string()),
                ("values repaired", report.repaired().to_string()),
            ])
            .with_table(counts);
        let summary = report.summary();
        if summary.is_empty() {
            section = section.with_text("No problem found: every record was accepted as given.");
        } else {
            let mut problems = Table::new(["record", "field", "problem", "action", "count"])
                .with_align(1, Align::Left)
                .with_align(2, Align::Left)
                .with_align(3, Align::Left);
            for issue in &summary {
                problems.push_row([
                    issue.kind.to_string(),
                    issue.field.to_string(),
                    issue.problem.to_string(),
                    issue.action.to_string(),
                    issue.count.to_string(),
                ]);
            }
            section = section.with_table(problems);
        }
        section
    }

    /// The customer base: customers, orders, interactions, feedback,
    /// revenue and the time span of the records.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::report::Section;
    /// # let history = churnwise::doc_support::history(300, 1)?;
    ///
    /// let section = Section::customer_base(&history.summary());
    /// assert_eq!(section.title(), "Customer base");
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn customer_base(summary: &HistorySummary) -> Section {
        let date = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map_or_else(|| "-".to_string(), |t| t.format("%Y-%m-%d").to_string())
        };
        Section::new("Customer base").with_figures([
            ("customers", summary.customers.to_string()),
            ("orders", summary.orders.to_string()),
            ("interactions", summary.interactions.to_string()),
            ("feedback", summary.feedback.to_string()),
            ("net revenue", money(summary.net_revenue())),
            ("first event", date(summary.first_event)),
            ("last event", date(summary.last_event)),
        ])
    }

    /// Segments: each segment's size, behaviour and churn rate (the columns
    /// of the [`SegmentReport`]'s terminal table), and the sizes and churn
    /// rates as a chart.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid chart options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::report::{ChartOptions, Section};
    /// use churnwise::segment::{Rfm, SegmentReport};
    /// # let (_history, table) = churnwise::doc_support::table(500, 2, 6)?;
    ///
    /// let segments: Vec<_> = Rfm::new().fit(&table)?.apply(&table)?.iter().map(|s| s.segment()).collect();
    /// let report = SegmentReport::new(&segments, &table, None)?;
    /// let section = Section::segments("RFM segments", &report, &ChartOptions::new())?;
    /// assert_eq!(section.blocks().len(), 2); // the table and the chart
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn segments(
        title: &str,
        report: &SegmentReport,
        options: &ChartOptions,
    ) -> Result<Section> {
        let mut table = Table::new([
            "segment",
            "customers",
            "share",
            "recency d",
            "orders",
            "spend",
            "revenue",
            "churn",
        ]);
        for r in report.rows() {
            table.push_row([
                r.segment().to_string(),
                r.count().to_string(),
                format!("{:.1}%", 100.0 * r.share()),
                format!("{:.1}", r.recency_mean()),
                format!("{:.2}", r.frequency_mean()),
                format!("{:.2}", r.monetary_mean()),
                format!("{:.1}%", 100.0 * r.revenue_share()),
                r.churn_rate()
                    .map_or_else(|| "-".to_string(), |c| format!("{:.1}%", 100.0 * c)),
            ]);
        }
        let chart_options = options
            .clone()
            .title(format!("{title}: size and churn rate"));
        Ok(Section::new(title)
            .with_table(table)
            .with_chart(Chart::segments(report, &chart_options)?))
    }

    /// The churn model on held-out customers: its metrics as key figures,
    /// and the cumulative gains, lift, calibration and score distribution
    /// charts.
    ///
    /// # Errors
    ///
    /// As [`Metrics::compute`] (both classes must be present, scores in
    /// [0, 1], equal lengths); [`ErrorKind::InvalidParameter`] for invalid
    /// chart options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::report::{ChartOptions, Section};
    ///
    /// let scores = [0.9, 0.7, 0.4, 0.3, 0.2, 0.1];
    /// let churned = [true, true, false, true, false, false];
    /// let section = Section::model(&scores, &churned, &ChartOptions::new())?;
    /// assert!(section.blocks().len() >= 5); // figures and four charts
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn model(scores: &[f64], churned: &[bool], options: &ChartOptions) -> Result<Section> {
        options.validate()?;
        let metrics = Metrics::compute(scores, churned, None)?;
        let gains = cumulative_gains(scores, churned, GAINS_POINTS)?;
        let bins = calibration(scores, churned, CALIBRATION_BINS)?;
        Ok(Section::new("Churn model")
            .with_text(format!(
                "Scored {} held-out customers, of whom {:.1}% churned.",
                metrics.n,
                100.0 * metrics.positive_rate
            ))
            .with_figures(metric_figures(&metrics))
            .with_chart(Chart::gains(&gains, options)?)
            .with_chart(Chart::lift(&gains, options)?)
            .with_chart(Chart::calibration(&bins, options)?)
            .with_chart(Chart::score_distribution(scores, churned, options)?))
    }

    /// The `n` customers most at risk (highest churn probability, then
    /// highest expected loss), with their value, lifecycle stage and RFM
    /// segment where set, and, given the scorer, the two features that
    /// raise each one's risk most.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingValue`] if the profiles are not scored; as
    /// [`ChurnScorer::explain`] if a profile lacks one of the scorer's
    /// features.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::report::Section;
    /// use churnwise::score::Profiles;
    /// # let (table, scorer) = churnwise::doc_support::small_scorer()?;
    ///
    /// let profiles = Profiles::new(table)?.score_with(&scorer)?;
    /// let section = Section::at_risk(&profiles, 10, Some(&scorer))?;
    /// assert_eq!(section.title(), "Customers most at risk");
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn at_risk(profiles: &Profiles, n: usize, scorer: Option<&ChurnScorer>) -> Result<Section> {
        let mut ranked = Vec::with_capacity(profiles.len());
        for p in profiles.iter() {
            let Some(prob) = p.churn_probability() else {
                return Err(ErrorKind::MissingValue {
                    record: format!("profile {} (customer {})", p.row(), p.id()),
                    field: "churn_probability".to_string(),
                }
                .into());
            };
            ranked.push((prob, p.expected_loss().unwrap_or(0.0), p));
        }
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)));
        let mut header = vec![
            "customer",
            "churn probability",
            "value",
            "expected loss",
            "stage",
            "segment",
        ];
        if scorer.is_some() {
            header.push("why");
        }
        let mut table = Table::new(header)
            .with_align(4, Align::Left)
            .with_align(5, Align::Left)
            .with_align(6, Align::Left);
        for (prob, _, p) in ranked.into_iter().take(n) {
            let mut row = vec![
                p.id().to_string(),
                format!("{:.1}%", 100.0 * prob),
                p.customer_value().map_or_else(|| "-".to_string(), money),
                p.expected_loss().map_or_else(|| "-".to_string(), money),
                p.lifecycle_stage()
                    .map_or_else(|| "-".to_string(), |s| s.to_string()),
                p.rfm_segment()
                    .map_or_else(|| "-".to_string(), |s| s.to_string()),
            ];
            if let Some(scorer) = scorer {
                row.push(top_reasons(scorer, &p)?);
            }
            table.push_row(row);
        }
        Ok(Section::new("Customers most at risk")
            .with_text(format!(
                "The {} customers with the highest churn probability of {} scored.",
                table.len(),
                profiles.len()
            ))
            .with_table(table))
    }

    /// Early-warning alerts: how many each team received, by severity, and
    /// how many were suppressed or capped.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::alert::{AlertEngine, AlertPolicy};
    /// use churnwise::features::FeatureSpec;
    /// use churnwise::report::Section;
    /// use churnwise::score::Profiles;
    /// use churnwise::segment::{LifecyclePolicy, Tiers};
    /// # let (history, snapshot, scorer) = churnwise::doc_support::scorer(500, 3)?;
    ///
    /// let table = FeatureSpec::all().extract(&history, &snapshot)?;
    /// let tiers = Tiers::value().fit(&table)?;
    /// let profiles = Profiles::new(table)?
    ///     .score_with(&scorer)?
    ///     .stage_lifecycle(&LifecyclePolicy::default())?
    ///     .tier_value(&tiers)?;
    /// let engine = AlertEngine::new(AlertPolicy::default_policy());
    /// let alerts = engine.evaluate(&profiles, None)?;
    /// let section = Section::alerts(&alerts);
    /// assert_eq!(section.title(), "Alerts by team");
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn alerts(report: &AlertReport<'_>) -> Section {
        let mut by_team: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        let mut severities: Vec<String> = Vec::new();
        for (route, severity, count) in report.counts() {
            let severity = severity.to_string();
            if !severities.contains(&severity) {
                severities.push(severity.clone());
            }
            *by_team
                .entry(route.to_string())
                .or_default()
                .entry(severity)
                .or_default() += count;
        }
        let mut header = vec!["team".to_string()];
        header.extend(severities.iter().cloned());
        header.push("total".to_string());
        let mut table = Table::new(header);
        for (team, counts) in &by_team {
            let mut row = vec![team.clone()];
            row.extend(
                severities
                    .iter()
                    .map(|s| counts.get(s).copied().unwrap_or(0).to_string()),
            );
            row.push(counts.values().sum::<usize>().to_string());
            table.push_row(row);
        }
        Section::new("Alerts by team")
            .with_figures([
                (
                    "customers evaluated",
                    report.profiles_evaluated().to_string(),
                ),
                ("alerts", report.alerts().len().to_string()),
                ("suppressed (cooldown)", report.suppressed().to_string()),
                ("capped per customer", report.capped().to_string()),
            ])
            .with_table(table)
    }

    /// The retention plan: budget, customers, cost, expected saves,
    /// revenue protected and ROI, overall and by intervention.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::report::Section;
    /// use churnwise::retention::Planner;
    /// # let (profiles, playbook) = churnwise::doc_support::plan_inputs()?;
    ///
    /// let plan = Planner::new(1_000.0).plan(&profiles, &playbook)?;
    /// let section = Section::retention_plan(&plan);
    /// assert_eq!(section.title(), "Retention plan");
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn retention_plan(plan: &Plan) -> Section {
        let s = plan.summary();
        let mut table = Table::new([
            "intervention",
            "customers",
            "cost",
            "expected saved",
            "revenue protected",
            "net value",
        ]);
        for (name, p) in plan.by_intervention() {
            table.push_row([
                name.clone(),
                p.customers().to_string(),
                money(p.cost()),
                format!("{:.1}", p.expected_saved()),
                money(p.revenue_protected()),
                money(p.net_value()),
            ]);
        }
        Section::new("Retention plan")
            .with_figures([
                ("budget", money(plan.budget())),
                ("customers planned", s.customers().to_string()),
                ("cost", money(s.cost())),
                (
                    "expected customers saved",
                    format!("{:.1}", s.expected_saved()),
                ),
                ("revenue protected", money(s.revenue_protected())),
                (
                    "ROI",
                    s.roi()
                        .map_or_else(|| "-".to_string(), |r| format!("{:.0}%", 100.0 * r)),
                ),
            ])
            .with_table(table)
    }

    /// A campaign's evaluation: the report's terminal output verbatim (arms
    /// against control with intervals, tests and ROI) and, given the curve,
    /// the Qini chart of the targeting model.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid chart options.
    ///
    /// # Example
    ///
    /// See `examples/report.rs`.
    pub fn campaign(
        report: &CampaignReport,
        qini: Option<&[CurvePoint]>,
        options: &ChartOptions,
    ) -> Result<Section> {
        let mut section = Section::new("Campaign evaluation")
            .with_figures([
                ("customers", report.n.to_string()),
                ("control arm", report.control_arm.clone()),
            ])
            .with_preformatted(report.to_string());
        if let Some(curve) = qini {
            section = section.with_chart(Chart::qini(curve, options)?);
        }
        Ok(section)
    }
}

impl Section {
    /// When customers leave: for each group its customers, churned
    /// customers and median time to churn, the share still active at each
    /// of `times`, and the Kaplan–Meier chart with the log-rank test.
    /// Times are in the data's unit; name it with
    /// [`ChartOptions::x_label`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid chart options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::analysis::survival::{KaplanMeier, SurvivalData};
    /// use churnwise::report::{ChartOptions, Section};
    ///
    /// let data = SurvivalData::new(vec![5.0, 8.0, 12.0, 30.0], vec![true, true, false, false])?;
    /// let km = KaplanMeier::new().fit(&data)?;
    /// let section = Section::survival(&km, None, &[10.0, 20.0], &ChartOptions::new())?;
    /// assert_eq!(section.blocks().len(), 2); // the table and the chart
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn survival(
        km: &FittedKaplanMeier,
        logrank: Option<&LogRankTest>,
        times: &[f64],
        options: &ChartOptions,
    ) -> Result<Section> {
        let mut header = vec![
            km.group_name().unwrap_or("group").to_string(),
            "customers".to_string(),
            "churned".to_string(),
            "median".to_string(),
        ];
        header.extend(times.iter().map(|t| format!("S({})", num(*t))));
        let mut table = Table::new(header);
        for curve in std::iter::once(km.overall()).chain(km.groups()) {
            let mut row = vec![
                curve.label().to_string(),
                curve.n().to_string(),
                curve.events().to_string(),
                curve
                    .median()
                    .map_or_else(|| "not reached".to_string(), |m| format!("{m:.1}")),
            ];
            row.extend(
                times
                    .iter()
                    .map(|&t| format!("{:.3}", curve.survival_at(t))),
            );
            table.push_row(row);
        }
        Ok(Section::new("When customers leave")
            .with_table(table)
            .with_chart(Chart::survival(km, logrank, options)?))
    }

    /// Recurring revenue: the MRR bridge of every period (opening, new,
    /// reactivation, expansion, contraction, churned, closing, with gross
    /// and net MRR retention and logo churn) as a table and a stacked bar
    /// chart, and the renewal rates, with the same cells as
    /// [`MrrMovementsTable`] and [`RenewalRatesTable`] print.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid chart options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::report::{ChartOptions, Section};
    /// use churnwise::segment::{Period, Periods, RenewalGroup, mrr_movements, renewal_rates};
    /// # let history = churnwise::doc_support::subscribers()?;
    /// # let (jan, next_jan) = (churnwise::doc_support::day(0), churnwise::doc_support::day(366));
    ///
    /// let movements = mrr_movements(&history, &Periods::months(jan, 12)?)?;
    /// let renewals = renewal_rates(&history, Period::new(jan, next_jan)?, RenewalGroup::Plan)?;
    /// let section = Section::recurring_revenue(&movements, &renewals, &ChartOptions::new())?;
    /// assert_eq!(section.blocks().len(), 3); // MRR table, chart, renewal table
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn recurring_revenue(
        movements: &[MrrMovement],
        renewals: &[RenewalRate],
        options: &ChartOptions,
    ) -> Result<Section> {
        let table = |header: &[&str], cells: Vec<Vec<String>>| {
            let mut t = Table::new(header.iter().copied());
            for row in cells {
                t.push_row(row);
            }
            t.with_align(0, Align::Left)
        };
        let mrr = MrrMovementsTable::new(movements);
        let renewal = RenewalRatesTable::new(renewals);
        Ok(Section::new("Recurring revenue")
            .with_table(table(&MrrMovementsTable::HEADER, mrr.cells()))
            .with_chart(Chart::mrr_movements(movements, options)?)
            .with_table(table(&RenewalRatesTable::HEADER, renewal.cells())))
    }

    /// What distinguishes customers who churned: the `n` strongest drivers
    /// (numeric features and categories, largest effect first) with their
    /// effect and adjusted p-values, and the chart of the numeric features'
    /// standardized differences.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid chart options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::analysis::drivers::{DriverData, Drivers};
    /// use churnwise::report::{ChartOptions, Section};
    ///
    /// let data = DriverData::new(vec![true, true, false, false, false])?
    ///     .with_numeric("days_since_order", vec![90.0, 120.0, 10.0, 20.0, 15.0])?;
    /// let report = Drivers::new().analyze(&data)?;
    /// let section = Section::drivers(&report, 10, &ChartOptions::new())?;
    /// assert_eq!(section.title(), "What distinguishes customers who churned");
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn drivers(report: &DriverReport, n: usize, options: &ChartOptions) -> Result<Section> {
        let mut table = Table::new(["driver", "kind", "effect", "detail", "p (BH)", "p (Holm)"])
            .with_align(1, Align::Left)
            .with_align(3, Align::Left);
        for driver in report.ranked().into_iter().take(n) {
            let (kind, detail, p_holm) = match driver {
                Driver::Numeric(d) => (
                    "numeric",
                    format!(
                        "mean {:.2} churned vs {:.2} retained",
                        d.mean_churned, d.mean_retained
                    ),
                    d.p_holm,
                ),
                Driver::Categorical(c) => (
                    "category",
                    c.levels
                        .iter()
                        .max_by(|a, b| a.churn_rate.total_cmp(&b.churn_rate))
                        .map_or_else(String::new, |l| {
                            format!("highest churn: {} {:.1}%", l.level, 100.0 * l.churn_rate)
                        }),
                    c.p_holm,
                ),
            };
            table.push_row([
                driver.name().to_string(),
                kind.to_string(),
                format!("{:+.2}", driver.effect()),
                detail,
                format!("{:.2e}", driver.p_bh()),
                format!("{p_holm:.2e}"),
            ]);
        }
        Ok(Section::new("What distinguishes customers who churned")
            .with_text(format!(
                "{} churned and {} retained customers; effects are standardized mean differences \
                 (numeric) or Cohen's w on the same scale (categories), p-values adjusted across \
                 the report.",
                report.churned(),
                report.retained()
            ))
            .with_table(table)
            .with_chart(Chart::drivers(report, options)?))
    }
}

fn metric_figures(m: &Metrics) -> Vec<(&'static str, String)> {
    vec![
        ("ROC-AUC", format!("{:.3}", m.roc_auc)),
        ("average precision", format!("{:.3}", m.average_precision)),
        ("log-loss", format!("{:.4}", m.log_loss)),
        ("Brier score", format!("{:.4}", m.brier)),
        ("lift in the top 10%", format!("{:.2}×", m.lift_at_10pct)),
    ]
}

/// The (at most) two features that raise this customer's log-odds most, as
/// `feature = value`.
fn top_reasons(scorer: &ChurnScorer, profile: &crate::score::ProfileRef<'_>) -> Result<String> {
    let values = scorer
        .features()
        .iter()
        .map(|name| {
            profile.feature(name).ok_or_else(|| {
                ErrorKind::UnknownName {
                    what: "feature",
                    name: name.clone(),
                    suggestions: Vec::new(),
                }
                .into()
            })
        })
        .collect::<Result<Vec<f64>>>()?;
    let explanation = scorer.explain(&values)?;
    let mut up: Vec<_> = explanation
        .iter()
        .filter(|r| r.contribution > 0.0)
        .collect();
    up.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    let text: Vec<String> = up
        .iter()
        .take(2)
        .map(|r| format!("{} = {}", r.feature, num(r.value)))
        .collect();
    Ok(if text.is_empty() {
        "-".to_string()
    } else {
        text.join(", ")
    })
}

/// An amount with two decimals and thousands separators (`12,345.67`).
fn money(x: f64) -> String {
    let s = format!("{:.2}", x.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if x < 0.0 && s != "0.00" { "-" } else { "" };
    format!("{sign}{grouped}.{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands_and_never_prints_negative_zero() {
        assert_eq!(money(1234567.891), "1,234,567.89");
        assert_eq!(money(-1234.5), "-1,234.50");
        assert_eq!(money(-0.001), "0.00");
        assert_eq!(money(999.0), "999.00");
    }
}
