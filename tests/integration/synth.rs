//! The synthetic population, through the builder, on any number of threads.

use churnwise::records::{HistoryBuilder, RecordKind};
use churnwise::synth::PopulationConfig;

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
