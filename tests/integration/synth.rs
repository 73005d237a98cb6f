//! The synthetic population, through the builder, on any number of threads.

use chrono::TimeDelta;
use churnwise::model::metrics::roc_auc;
use churnwise::records::{CustomerId, HistoryBuilder, RecordKind};
use churnwise::synth::{ChurnCause, PopulationConfig, Treatment};

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn generation_and_build_are_identical_on_one_and_two_threads() {
    let config = PopulationConfig::default()
        .customers(3_000)
        .seed(11)
        .dirty_fraction(0.01);
    let run = || {
        let population = config.generate().unwrap();
        let (history, report) = population.history_builder().build().unwrap();
        (history, report, population.truth().to_vec())
    };
    let (h1, r1, t1) = in_pool(1, run);
    let (h2, r2, t2) = in_pool(2, run);
    assert!(h1 == h2, "histories differ");
    // Reports hold NaN amounts (NaN != NaN): compare their full Debug text.
    assert!(format!("{r1:?}") == format!("{r2:?}"), "reports differ");
    assert!(t1 == t2, "ground truth differs");
}

#[test]
fn streaming_into_a_builder_gives_the_same_history() {
    let config = PopulationConfig::default()
        .customers(2_000)
        .seed(5)
        .dirty_fraction(0.005);
    let population = config.generate().unwrap();
    let (from_records, report_a) = population.history_builder().build().unwrap();
    let mut builder = HistoryBuilder::new();
    let truth = config.generate_into(&mut builder).unwrap();
    let (streamed, report_b) = builder.build().unwrap();
    assert!(streamed == from_records, "histories differ");
    assert!(
        format!("{report_a:?}") == format!("{report_b:?}"),
        "reports differ"
    );
    assert!(truth == population.truth(), "ground truth differs");
}

#[test]
fn the_report_accounts_for_every_injected_record() {
    let population = PopulationConfig::default()
        .customers(4_000)
        .seed(3)
        .dirty_fraction(0.02)
        .generate()
        .unwrap();
    let (history, report) = population.history_builder().build().unwrap();
    let injected = population.injected();
    assert!(injected.total() > 100);
    let dropped: usize = [
        RecordKind::Order,
        RecordKind::Interaction,
        RecordKind::Feedback,
    ]
    .into_iter()
    .map(|k| report.dropped(k))
    .sum();
    assert_eq!(dropped as u64, injected.total(), "{report}");
    assert_eq!(
        report.count("duplicate") as u64,
        injected.duplicate_orders()
    );
    assert_eq!(
        report.count("unknown_customer") as u64,
        injected.unknown_customers()
    );
    assert_eq!(
        report.count("before_signup") as u64,
        injected.before_signup()
    );
    assert_eq!(
        report.count("out_of_scale") as u64,
        injected.satisfaction_out_of_scale()
    );
    assert_eq!(
        (report.count("non_finite") + report.count("absurd_amount")) as u64,
        injected.invalid_amounts()
    );
    assert_eq!(history.customer_count(), 4_000);
    assert_eq!(
        history.order_count(),
        population.orders().len() - report.dropped(RecordKind::Order)
    );
}

#[test]
fn no_orders_after_the_true_churn_time() {
    let population = PopulationConfig::default()
        .customers(3_000)
        .seed(8)
        .generate()
        .unwrap();
    let (history, _) = population.history_builder().build().unwrap();
    for truth in population.truth() {
        let Some(churn) = truth.churn_time() else {
            continue;
        };
        let customer = history.find(truth.id()).unwrap();
        assert!(
            customer.orders().times().all(|t| t <= churn),
            "{:?}",
            truth.id()
        );
    }
}

/// The 0-based index of a synthetic customer id.
fn index(id: &CustomerId) -> usize {
    id.as_u64().map_or(usize::MAX, |v| v as usize - 1)
}

#[test]
fn the_churn_oracle_is_calibrated_and_discriminates() {
    let config = PopulationConfig::default().customers(5_000).seed(23);
    let population = config.generate().unwrap();
    let as_of = config.end_time() - TimeDelta::days(180);
    let until = as_of + TimeDelta::days(90);
    let risks = config.churn_probabilities(as_of, 90.0, 50).unwrap();
    let scores: Vec<f64> = risks.iter().map(|r| r.probability()).collect();
    let labels: Vec<bool> = risks
        .iter()
        .map(|r| {
            population.truth()[index(r.id())]
                .churn_time()
                .is_some_and(|t| t > as_of && t <= until)
        })
        .collect();
    assert!(scores.iter().all(|p| (0.0..=1.0).contains(p)));
    let n = scores.len() as f64;
    let mean = scores.iter().sum::<f64>() / n;
    let realized = labels.iter().filter(|&&l| l).count() as f64 / n;
    // Given the oracle, the realized churns are independent Bernoulli(p_i).
    let se = scores.iter().map(|p| p * (1.0 - p)).sum::<f64>().sqrt() / n;
    assert!(
        (realized - mean).abs() < 4.0 * se,
        "realized {realized:.4} vs oracle {mean:.4} (se {se:.4})"
    );
    let auc = roc_auc(&scores, &labels, None).unwrap();
    assert!(auc > 0.62, "oracle AUC {auc:.3}");
}

#[test]
fn a_campaign_without_effects_reproduces_churn_and_full_effects_leave_only_dropout() {
    let config = PopulationConfig::default().customers(5_000).seed(29);
    let population = config.generate().unwrap();
    let as_of = config.end_time() - TimeDelta::days(180);
    let until = as_of + TimeDelta::days(90);
    let control = config.simulate_campaign(as_of, 90.0, &[]).unwrap();
    let n = control.len() as f64;
    let simulated = control.iter().filter(|r| r.is_churned()).count() as f64 / n;
    let realized = control
        .iter()
        .filter(|r| {
            population.truth()[index(r.id())]
                .churn_time()
                .is_some_and(|t| t > as_of && t <= until)
        })
        .count() as f64
        / n;
    let se = (2.0 * realized * (1.0 - realized) / n).sqrt();
    assert!(
        (simulated - realized).abs() < 4.0 * se,
        "simulated {simulated:.4} vs realized {realized:.4} (se {se:.4})"
    );

    let everyone: Vec<_> = population
        .truth()
        .iter()
        .map(|t| (t.id().clone(), Treatment::new(1.0).unwrap()))
        .collect();
    let treated = config.simulate_campaign(as_of, 90.0, &everyone).unwrap();
    assert!(
        treated
            .iter()
            .all(|r| r.churn_cause() != Some(ChurnCause::Hazard))
    );
    let dropout = treated.iter().filter(|r| r.is_churned()).count() as f64 / n;
    assert!(
        dropout > 0.01 && dropout < simulated - 0.02,
        "{dropout} vs {simulated}"
    );
}

#[test]
fn oracle_and_campaign_are_identical_on_one_and_two_threads() {
    let config = PopulationConfig::default().customers(2_000).seed(31);
    let as_of = config.end_time() - TimeDelta::days(200);
    let plan: Vec<_> = (1..=2_000u64)
        .step_by(2)
        .map(|i| (CustomerId::from(i), Treatment::new(0.4).unwrap()))
        .collect();
    let run = || {
        (
            config.churn_probabilities(as_of, 90.0, 20).unwrap(),
            config.simulate_campaign(as_of, 400.0, &plan).unwrap(),
        )
    };
    let (r1, c1) = in_pool(1, run);
    let (r2, c2) = in_pool(2, run);
    assert!(r1 == r2, "probabilities differ");
    assert!(c1 == c2, "campaign results differ");
}
