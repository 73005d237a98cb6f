//! The quickstart's "Why customers leave" part on association rules and
//! churn reasons: which behaviours go together before churn, and which
//! complaint topics came before a cancellation.

use chrono::{DateTime, TimeDelta, Utc};
use churnwise::analysis::association::{AttributeItems, FpGrowth, ItemVocabulary, RuleFilter};
use churnwise::analysis::reasons::{ComplaintReasons, ReasonShares};
use churnwise::features::{ChurnLabeler, LapsedCustomers};
use churnwise::records::History;

/// Prints the five rules that lead to churn most strongly and the complaint
/// topics raised in the 90 days before each cancellation of the past year.
pub fn why_rules(history: &History, as_of: DateTime<Utc>) -> churnwise::Result<()> {
    // Customers active at `as_of` (an order in the last 90 days), their
    // behaviours of the 90 days before, and whether they then churned.
    let labels = ChurnLabeler::new()
        .lapsed_customers(LapsedCustomers::Exclude)
        .labels(history, as_of)?;
    let transactions = ItemVocabulary::new()
        .attributes(AttributeItems::Include)
        .transactions(history, as_of)?
        .with_label(&labels, "churned")?;
    let started = std::time::Instant::now();
    let itemsets = FpGrowth::new()
        .min_support(0.005)
        .max_len(4)
        .mine(&transactions)?;
    let rules = itemsets.rules_to("churned", &RuleFilter::new().min_lift(1.0))?;
    heading(&format!(
        "Why customers leave: behaviours before churn ({} active customers, {:.1}% churn; {} itemsets in {:.0} ms)",
        transactions.len(),
        100.0 * transactions.item_count("churned") as f64 / transactions.len().max(1) as f64,
        itemsets.len(),
        started.elapsed().as_secs_f64() * 1e3
    ));
    print!("{}", rules.top(5));

    // Complaint topics raised in the 90 days before each cancellation of
    // the year up to `as_of`, by acquisition channel and by month.
    let events = ComplaintReasons::new()
        .window_days(90)
        .segment_attribute("channel")
        .from_cancellations(history, as_of - TimeDelta::days(365), as_of)?;
    if events.is_empty() {
        return Ok(());
    }
    heading("Why customers leave: last complaint topic before cancelling");
    print!("{}", ReasonShares::new().report(&events)?);
    Ok(())
}

fn heading(title: &str) {
    let rule = "=".repeat(60usize.saturating_sub(title.len()));
    println!("\n{}", format!("== {title} {rule}").trim_end());
}
