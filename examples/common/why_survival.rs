//! The quickstart's "Why customers leave" section, part one: when they
//! leave (survival by value tier, with the log-rank test) and what
//! distinguishes those who left (the top five drivers).

use std::time::Instant;

use chrono::{DateTime, Utc};
use churnwise::analysis::drivers::{Driver, DriverData, Drivers};
use churnwise::analysis::survival::{KaplanMeier, Lifetimes, logrank};
use churnwise::features::{FeatureTable, Labels};
use churnwise::records::History;
use churnwise::score::Profiles;

/// Prints survival curves by value tier with the log-rank test, and the
/// five strongest churn drivers among features and profile categories.
pub fn why_customers_leave(
    history: &History,
    as_of: DateTime<Utc>,
    table: &FeatureTable,
    labels: &Labels,
    profiles: &Profiles,
) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    // Time from signup to churn (90 days without an order), censored at the
    // as-of time, by value tier at that time.
    let lifetimes = Lifetimes::new(as_of)
        .extract(history)?
        .with_groups_from(profiles, "value_tier")?;
    let curves = KaplanMeier::new().fit(&lifetimes)?;
    let test = logrank(&lifetimes)?;
    heading("Why customers leave: time to churn by value tier (Kaplan–Meier)");
    println!(
        "{:<10} {:>9} {:>9} {:>12} {:>9} {:>9} {:>9}",
        "tier", "customers", "churned", "median days", "S(90)", "S(180)", "S(365)"
    );
    for curve in std::iter::once(curves.overall()).chain(curves.groups()) {
        println!(
            "{:<10} {:>9} {:>9} {:>12} {:>9.3} {:>9.3} {:>9.3}",
            curve.label(),
            curve.n(),
            curve.events(),
            curve
                .median()
                .map_or_else(|| "not reached".to_owned(), |m| format!("{m:.0}")),
            curve.survival_at(90.0),
            curve.survival_at(180.0),
            curve.survival_at(365.0)
        );
    }
    println!(
        "log-rank test: chi2 = {:.1} on {} df, p = {:.2e}",
        test.statistic, test.df, test.p_value
    );

    // Churned (no order in the next 90 days) vs retained: every feature and
    // the profile categories, ranked by effect size.
    let data = DriverData::from_table(table, labels)?
        .with_categories_from(profiles, &["lifecycle_stage", "value_tier", "rfm_segment"])?;
    let report = Drivers::new().analyze(&data)?;
    heading(&format!(
        "Why customers leave: top five drivers ({} churned vs {} retained)",
        report.churned(),
        report.retained()
    ));
    for d in report.ranked().iter().take(5) {
        let detail = match d {
            Driver::Numeric(n) => format!(
                "mean {:.2} churned vs {:.2} retained (SMD {:+.2})",
                n.mean_churned, n.mean_retained, n.smd
            ),
            Driver::Categorical(c) => c
                .levels
                .iter()
                .max_by(|a, b| a.churn_rate.total_cmp(&b.churn_rate))
                .map_or_else(String::new, |l| {
                    format!("highest churn: {} {:.1}%", l.level, 100.0 * l.churn_rate)
                }),
            _ => String::new(),
        };
        println!(
            "  {:<26} effect {:.2}  p(BH) {:.1e}  {}",
            d.name(),
            d.effect(),
            d.p_bh(),
            detail
        );
    }
    println!("({:.2} s)", started.elapsed().as_secs_f64());
    Ok(())
}

fn heading(title: &str) {
    let rule = "=".repeat(60usize.saturating_sub(title.chars().count()));
    println!("\n{}", format!("== {title} {rule}").trim_end());
}
