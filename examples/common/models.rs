//! The quickstart's model comparison: logistic regression against
//! gradient-boosted trees on the same training and test customers, next to
//! the best possible AUC, and the trees calibrated on a held-out fifth;
//! then both backtested on several test dates (mean ± std).

use std::time::Instant;

use chrono::{DateTime, Utc};
use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot, TrainingSet};
use churnwise::model::metrics::{Metrics, calibration};
use churnwise::model::{
    Backtest, Calibrator, Comparison, CrossValidation, FittedModel, GradientBoosting,
    LogisticRegression, ModelConfig,
};
use churnwise::records::History;

/// The trees the quickstart compares with logistic regression.
fn trees() -> GradientBoosting {
    GradientBoosting::new()
        .trees(200)
        .learning_rate(0.05)
        .max_leaves(15)
        .min_rows_per_leaf(50)
}

/// Backtests both models on the same test dates (observed churn, each date
/// trained on the snapshots whose label windows end by it) and prints the
/// comparison table, mean ± std over the dates, next to the best possible AUC.
pub fn backtest_models(
    history: &History,
    labeler: &ChurnLabeler,
    snapshot: &Snapshot,
    test_times: &[DateTime<Utc>],
    best_auc: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let backtest = Backtest::new(labeler.clone(), FeatureSpec::all(), snapshot.clone());
    let models = [
        ("logistic", ModelConfig::from(LogisticRegression::new())),
        ("trees 200 × 15", trees().into()),
    ];
    let comparison = Comparison::backtest(&backtest, history, test_times, &models)?;
    let dates: Vec<String> = test_times
        .iter()
        .map(|t| t.format("%-d %b").to_string())
        .collect();
    println!(
        "\nBacktest, observed churn, tested on {} (mean ± std over the dates):\n{comparison}\
         best possible ROC-AUC for true churn on 1 Oct (above; a harder target than observed churn): {best_auc:.3}",
        dates.join(", ")
    );
    Ok(())
}

/// Fits both models on `train`, scores `test`, and prints one row per model.
pub fn compare_models(
    train: &TrainingSet,
    test: &TrainingSet,
    best_auc: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "\n{:<40} {:>7} {:>7} {:>8} {:>7} {:>7} {:>7}",
        "model (test on 1 Oct)", "ROC-AUC", "AP", "log-loss", "Brier", "lift10", "fit s"
    );
    let y = test.labels().to_vec();
    let row = |name: &str, p: &[f64], seconds: f64| -> churnwise::Result<Metrics> {
        let m = Metrics::compute(p, &y, None)?;
        println!(
            "{name:<40} {:>7.3} {:>7.3} {:>8.4} {:>7.4} {:>7.2} {seconds:>7.2}",
            m.roc_auc, m.average_precision, m.log_loss, m.brier, m.lift_at_10pct
        );
        Ok(m)
    };
    // 1. Logistic regression.
    let started = Instant::now();
    let logistic = LogisticRegression::new().fit(train)?;
    let seconds = started.elapsed().as_secs_f64();
    row(
        "logistic regression",
        &logistic.predict_proba_table(test.features())?.to_vec(),
        seconds,
    )?;
    // 2. Gradient-boosted trees, fitted on four fifths of the rows so the
    //    last fifth can calibrate them.
    let labels = train.labels().to_vec();
    let fold = CrossValidation::new().folds(5).seed(1).assign(&labels);
    let (held, rest): (Vec<usize>, Vec<usize>) = (0..labels.len()).partition(|&i| fold[i] == 0);
    let started = Instant::now();
    let trees = FittedModel::from(trees().fit(&train.subset(&rest)?)?);
    let seconds = started.elapsed().as_secs_f64();
    let raw = trees.predict_proba_table(test.features())?.to_vec();
    let before = row("gradient-boosted trees (200 × 15 leaves)", &raw, seconds)?;
    // 3. The same trees with Platt scaling fitted on the held-out fifth.
    let calibrated = trees.calibrate(Calibrator::Platt, &train.subset(&held)?)?;
    let p = calibrated.predict_proba_table(test.features())?.to_vec();
    let after = row("  calibrated (Platt, held-out fifth)", &p, 0.0)?;
    println!("{:<40} {best_auc:>7.3}", "best possible (true probability)");
    // 4. Calibration: the reliability of the riskiest scores, before and after.
    let top = |p: &[f64]| -> churnwise::Result<String> {
        let bins = calibration(p, &y, 10)?;
        Ok(bins
            .iter()
            .rev()
            .take(3)
            .map(|b| format!("{:.2}→{:.2}", b.mean_predicted, b.fraction_positive))
            .collect::<Vec<_>>()
            .join(", "))
    };
    println!(
        "calibration (mean predicted → observed churn, top three bins): before {}; after {}",
        top(&raw)?,
        top(&p)?
    );
    println!(
        "Brier {:.4} → {:.4}: alert thresholds such as the default policy's 0.7 assume calibrated probabilities",
        before.brier, after.brier
    );
    Ok(())
}
