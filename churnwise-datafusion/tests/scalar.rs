//! The scalar SQL functions against the core's in-process results, on a
//! synthetic population: every value compared, with 1 and 3 target
//! partitions; and the planning and run-time errors of bad input.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, TimeZone, Utc};
use churnwise::alert::{AlertEngine, AlertPolicy, AlertRule, Severity};
use churnwise::clv::{
    BetaGeo, Calibration, CalibrationSummary, Clv, GammaGamma, SummaryRow, TimeUnit,
};
use churnwise::features::{ChurnLabeler, FeatureSpec, FeatureTable, Snapshot};
use churnwise::model::LogisticRegression;
use churnwise::records::History;
use churnwise::rules::{Condition, Route};
use churnwise::score::{ChurnScorer, Profiles};
use churnwise::segment::{LifecyclePolicy, Rfm};
use churnwise::synth::PopulationConfig;
use churnwise_datafusion::ChurnwiseFunctions;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};

fn at(month: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, month, 1, 0, 0, 0).unwrap()
}

/// A synthetic population, its features as of June, the fitted objects and
/// the core's in-process profiles.
struct Fixture {
    table: FeatureTable,
    summary: CalibrationSummary,
    functions: ChurnwiseFunctions,
    profiles: Profiles,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| build().expect("fixture"))
}

fn policy() -> AlertPolicy {
    use Condition as C;
    AlertPolicy::new(vec![
        AlertRule::new(
            "high_risk",
            C::all([
                C::field("churn_probability").gt(0.5),
                C::not(C::field("lifecycle_stage").eq("churned")),
            ]),
            Severity::Critical,
            Route::Sales,
        ),
        AlertRule::new(
            "lapsing",
            C::field("recency_days").gt("90d"),
            Severity::High,
            Route::Sales,
        ),
        AlertRule::new(
            "complaints",
            C::field("complaints_30d").gte(1),
            Severity::High,
            Route::CustomerService,
        ),
        AlertRule::new(
            "slipping",
            C::field("rfm_segment").is_in(["at_risk", "cant_lose_them"]),
            Severity::Medium,
            Route::Marketing,
        ),
        AlertRule::new(
            "valuable",
            C::field("expected_loss").gt(50),
            Severity::Low,
            Route::Marketing,
        ),
    ])
    .unwrap()
    .with_max_alerts_per_customer(2)
}

fn build() -> churnwise::Result<Fixture> {
    let population = PopulationConfig::default()
        .customers(1_500)
        .seed(18)
        .generate()?;
    let history: History = population.history_builder().build()?.0;
    let snapshot = Snapshot::new(at(6));
    let train = ChurnLabeler::new().training_set(
        &history,
        &FeatureSpec::all(),
        &snapshot,
        &[at(2), at(3)],
    )?;
    let scorer = ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?;
    let table = FeatureSpec::all().extract(&history, &snapshot)?;
    let rfm = Rfm::new().fit(&table)?;
    let lifecycle = LifecyclePolicy::default();
    let profiles = Profiles::new(table.clone())?
        .score_with(&scorer)?
        .segment_rfm(&rfm)?
        .stage_lifecycle(&lifecycle)?
        .values_from_column("spend_180d")?;
    let summary = Calibration::new(at(6))
        .unit(TimeUnit::Weeks)
        .summarize(&history)?;
    let beta_geo = BetaGeo::new().fit(&summary)?;
    let gamma_gamma = GammaGamma::new().fit(&summary)?;
    let functions = ChurnwiseFunctions::new()
        .scorer(scorer)
        .rfm(rfm)
        .lifecycle(lifecycle)
        .beta_geo(beta_geo)
        .gamma_gamma(gamma_gamma)
        .clv(Clv::new(4.345, 12).discount_rate(0.01))
        .alerts(policy());
    Ok(Fixture {
        table,
        summary,
        functions,
        profiles,
    })
}

/// `columns` as a table of `parts` partitions, with a `row` column.
fn mem_table(columns: Vec<(String, ArrayRef)>, parts: usize) -> MemTable {
    let n = columns[0].1.len();
    let mut fields = vec![Field::new("row", DataType::Int64, false)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(Int64Array::from_iter_values(0..n as i64))];
    for (name, a) in columns {
        fields.push(Field::new(name, a.data_type().clone(), true));
        arrays.push(a);
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    let chunk = n.div_ceil(parts);
    let partitions = (0..parts)
        .map(|p| {
            let start = (p * chunk).min(n);
            vec![batch.slice(start, chunk.min(n - start))]
        })
        .collect();
    MemTable::try_new(schema, partitions).unwrap()
}

fn features_table(table: &FeatureTable, parts: usize) -> MemTable {
    let columns = table
        .names()
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let a: ArrayRef = Arc::new(Float64Array::from(table.values().column(j).to_vec()));
            (name.clone(), a)
        })
        .collect();
    mem_table(columns, parts)
}

fn context(partitions: usize) -> SessionContext {
    let f = fixture();
    let ctx =
        SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
    f.functions.register(&ctx).unwrap();
    ctx.register_table("features", Arc::new(features_table(&f.table, 4)))
        .unwrap();
    let s = &f.summary;
    let summary = mem_table(
        vec![
            (
                "frequency".into(),
                Arc::new(Int64Array::from_iter_values(
                    s.frequency().iter().map(|&x| i64::from(x)),
                )) as ArrayRef,
            ),
            (
                "recency".into(),
                Arc::new(Float64Array::from(s.recency().to_vec())),
            ),
            ("T".into(), Arc::new(Float64Array::from(s.age().to_vec()))),
            (
                "monetary".into(),
                Arc::new(Float64Array::from(s.monetary().to_vec())),
            ),
        ],
        3,
    );
    ctx.register_table("summary", Arc::new(summary)).unwrap();
    ctx
}

async fn query(ctx: &SessionContext, sql: &str) -> RecordBatch {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}

fn floats(b: &RecordBatch, name: &str) -> Vec<f64> {
    b.column_by_name(name)
        .unwrap()
        .as_primitive::<Float64Type>()
        .values()
        .to_vec()
}

fn strings(b: &RecordBatch, name: &str) -> Vec<String> {
    let a: &StringArray = b.column_by_name(name).unwrap().as_string::<i32>();
    a.iter().map(|s| s.unwrap().to_owned()).collect()
}

fn rows(b: &RecordBatch) -> Vec<usize> {
    b.column_by_name("row")
        .unwrap()
        .as_primitive::<Int64Type>()
        .values()
        .iter()
        .map(|&r| r as usize)
        .collect()
}

/// The scorer's features, reversed (order does not matter), as SQL arguments.
fn feature_args() -> String {
    let scorer = fixture().functions.scorer_value().unwrap();
    let mut names: Vec<&str> = scorer.features().iter().map(String::as_str).collect();
    names.reverse();
    names.join(", ")
}

const LIFECYCLE: &str = "has_feedback, recency_days, tenure_days, orders_total, complaints_30d, satisfaction_last, order_trend_90d";

#[tokio::test]
async fn scores_segments_and_stages_equal_the_core_with_1_and_3_partitions() {
    let f = fixture();
    let p = f.profiles.churn_probabilities().unwrap();
    let scorer = f.functions.scorer_value().unwrap();
    let policy = f.functions.lifecycle_value().unwrap();
    let rfm = f.functions.rfm_value().unwrap().apply(&f.table).unwrap();
    let behavioural = policy.apply(&f.table, None).unwrap();
    let scored = policy.apply(&f.table, Some(p)).unwrap();
    for partitions in [1, 3] {
        let ctx = context(partitions);
        let args = feature_args();
        let b = query(
            &ctx,
            &format!(
                "SELECT row, churn_score({args}) AS p, rfm_segment(orders_total, recency_days) AS rfm, \
                 lifecycle_stage({LIFECYCLE}) AS stage, \
                 lifecycle_stage({LIFECYCLE}, churn_score({args})) AS stage_scored \
                 FROM features ORDER BY row"
            ),
        )
        .await;
        assert_eq!(rows(&b), (0..f.table.nrows()).collect::<Vec<_>>());
        // Bit-identical: the same kernel computes every row alone.
        assert_eq!(floats(&b, "p"), p, "{partitions} partitions");
        let rfm_sql = strings(&b, "rfm");
        let stage_sql = strings(&b, "stage");
        let scored_sql = strings(&b, "stage_scored");
        for i in 0..f.table.nrows() {
            assert_eq!(rfm_sql[i], rfm[i].segment().name(), "row {i}");
            assert_eq!(stage_sql[i], behavoural_name(&behavioural[i]), "row {i}");
            assert_eq!(scored_sql[i], behavoural_name(&scored[i]), "row {i}");
        }
        // Scores through a renamed subquery column and a cast equal the core's too.
        let others = scorer
            .features()
            .iter()
            .filter(|n| *n != "recency_days")
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let args = scorer
            .features()
            .iter()
            .map(|n| {
                if n == "recency_days" {
                    "CAST(recency_days AS DOUBLE)".to_owned()
                } else {
                    n.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let renamed = query(
            &ctx,
            &format!(
                "WITH t AS (SELECT row, recency_days AS r, {others} FROM features) \
                 SELECT row, churn_score({args}) AS p \
                 FROM (SELECT row, r AS recency_days, {others} FROM t) ORDER BY row"
            ),
        )
        .await;
        assert_eq!(floats(&renamed, "p"), p);
    }
}

fn behavoural_name(stage: &churnwise::segment::LifecycleStage) -> String {
    stage.to_string()
}

#[tokio::test]
async fn struct_fields_feed_churn_score_by_their_names() {
    let f = fixture();
    let scorer = f.functions.scorer_value().unwrap();
    let ctx = context(2);
    let fields: Vec<String> = scorer
        .features()
        .iter()
        .map(|n| format!("'{n}', {n}"))
        .collect();
    let args: Vec<String> = scorer
        .features()
        .iter()
        .map(|n| format!("s['{n}']"))
        .collect();
    let b = query(
        &ctx,
        &format!(
            "SELECT row, churn_score({}) AS p FROM (SELECT row, named_struct({}) AS s FROM features) ORDER BY row",
            args.join(", "),
            fields.join(", ")
        ),
    )
    .await;
    assert_eq!(floats(&b, "p"), f.profiles.churn_probabilities().unwrap());
}

#[tokio::test]
async fn bg_nbd_functions_equal_the_core_with_1_and_3_partitions() {
    let f = fixture();
    let s = &f.summary;
    let bg = f.functions.beta_geo_value().unwrap();
    let gg = f.functions.gamma_gamma_value().unwrap();
    let clv = f.functions.clv_value().unwrap();
    let p_alive = bg.p_alive_all(s).unwrap();
    let expected = bg.conditional_expected_purchases_all(s, 52.0).unwrap();
    let values = clv.values(bg, gg, s).unwrap();
    for partitions in [1, 3] {
        let ctx = context(partitions);
        let b = query(
            &ctx,
            "SELECT row, p_alive(frequency, recency, \"T\") AS p, \
             expected_purchases(frequency, recency, \"T\", 52) AS e, \
             clv(frequency, recency, \"T\", monetary) AS v FROM summary ORDER BY row",
        )
        .await;
        assert_eq!(rows(&b).len(), s.len());
        assert_eq!(floats(&b, "p"), p_alive);
        assert_eq!(floats(&b, "e"), expected);
        assert_eq!(floats(&b, "v"), values);
        // Constant arguments give the constant's value on every row.
        let b = query(&ctx, "SELECT p_alive(2, 30.43, 38.86) AS p FROM summary").await;
        let row = SummaryRow::new(2, 30.43, 38.86).unwrap();
        assert_eq!(floats(&b, "p"), vec![bg.p_alive(&row); s.len()]);
    }
}

#[tokio::test]
async fn alerts_equal_the_alert_engine_with_1_and_3_partitions() {
    let f = fixture();
    let engine = AlertEngine::new(policy());
    let report = engine.evaluate(&f.profiles, None).unwrap();
    let n = f.profiles.len();
    let mut want: Vec<(Vec<String>, Option<String>, Option<String>)> =
        vec![(vec![], None, None); n];
    for a in report.alerts() {
        let w = &mut want[a.row()];
        if w.0.is_empty() {
            w.1 = Some(a.severity().name().to_owned());
            w.2 = Some(a.route().name().to_owned());
        }
        w.0.push(a.rule().to_owned());
    }
    assert!(want.iter().any(|w| w.0.len() == 2) && want.iter().any(|w| w.0.is_empty()));
    let args = feature_args();
    for partitions in [1, 3] {
        let ctx = context(partitions);
        let b = query(
            &ctx,
            &format!(
                "WITH p AS (SELECT row, recency_days, complaints_30d, churn_score({args}) AS churn_probability, \
                 rfm_segment(recency_days, orders_total) AS rfm_segment, \
                 lifecycle_stage({LIFECYCLE}, churn_score({args})) AS lifecycle_stage, \
                 GREATEST(spend_180d, 0.0) AS customer_value FROM features) \
                 SELECT row, churn_alerts(lifecycle_stage, churn_probability, recency_days, complaints_30d, \
                 rfm_segment, customer_value) AS a FROM p ORDER BY row"
            ),
        )
        .await;
        let a = b.column_by_name("a").unwrap().as_struct();
        let ids = a.column_by_name("rule_ids").unwrap().as_list::<i32>();
        let severity = a.column_by_name("severity").unwrap().as_string::<i32>();
        let route = a.column_by_name("route").unwrap().as_string::<i32>();
        assert_eq!(a.len(), n);
        for (i, w) in want.iter().enumerate() {
            let got: Vec<String> = ids
                .value(i)
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap().to_owned())
                .collect();
            assert_eq!(got, w.0, "row {i}");
            assert_eq!(
                severity.is_valid(i).then(|| severity.value(i).to_owned()),
                w.1,
                "row {i}"
            );
            assert_eq!(
                route.is_valid(i).then(|| route.value(i).to_owned()),
                w.2,
                "row {i}"
            );
        }
    }
}

async fn plan_error(ctx: &SessionContext, sql: &str) -> String {
    match ctx.sql(sql).await {
        Err(e) => e.to_string(),
        Ok(df) => match df.collect().await {
            Err(e) => format!("not at planning: {e}"),
            Ok(_) => "no error".into(),
        },
    }
}

#[tokio::test]
async fn a_scorer_schema_mismatch_fails_at_planning_naming_the_column() {
    let ctx = context(1);
    let scorer = fixture().functions.scorer_value().unwrap();
    let features = scorer.features();
    let missing = features[1..].join(", ");
    let e = plan_error(
        &ctx,
        &format!("SELECT churn_score({missing}) FROM features"),
    )
    .await;
    assert!(
        e.contains(&format!(
            "churn_score: missing feature column `{}`",
            features[0]
        )),
        "{e}"
    );
    let extra = format!("{}, spend_180d", features.join(", "));
    if !features.iter().any(|f| f == "spend_180d") {
        let e = plan_error(&ctx, &format!("SELECT churn_score({extra}) FROM features")).await;
        assert!(
            e.contains("churn_score: argument") && e.contains("`spend_180d` is not a feature"),
            "{e}"
        );
    }
    let wrong_type = features
        .iter()
        .map(|n| {
            if n == &features[0] {
                format!("CAST({n} AS VARCHAR)")
            } else {
                n.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let e = plan_error(
        &ctx,
        &format!("SELECT churn_score({wrong_type}) FROM features"),
    )
    .await;
    assert!(
        e.contains(&format!("churn_score: feature `{}`", features[0]))
            && e.contains("must be numeric, got Utf8"),
        "{e}"
    );
    let e = plan_error(&ctx, "SELECT p_alive(frequency, recency) FROM summary").await;
    assert!(
        e.contains("p_alive: takes 3 arguments (frequency, recency, T), got 2"),
        "{e}"
    );
}

/// The run-time error of `churn_score` over the features table with
/// `feature` replaced by `value` (SQL) in row `row`.
async fn score_error_with(feature: &str, row: usize, value: &str) -> String {
    let features = fixture().functions.scorer_value().unwrap().features();
    let select: Vec<String> = features
        .iter()
        .map(|n| {
            if n == feature {
                format!("CASE WHEN row = {row} THEN {value} ELSE {n} END AS {n}")
            } else {
                n.clone()
            }
        })
        .collect();
    let sql = format!(
        "SELECT churn_score({}) FROM (SELECT row, {} FROM features)",
        features.join(", "),
        select.join(", ")
    );
    context(1)
        .sql(&sql)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap_err()
        .to_string()
}

#[tokio::test]
async fn a_null_feature_fails_at_run_time_naming_the_column() {
    let features = fixture().functions.scorer_value().unwrap().features();
    let e = score_error_with(&features[0], 7, "NULL").await;
    assert!(
        e.contains(&format!("churn_score: null in `{}`", features[0])),
        "{e}"
    );
}

#[tokio::test]
async fn a_non_finite_feature_fails_at_run_time_naming_the_column() {
    let features = fixture().functions.scorer_value().unwrap().features();
    let last = &features[features.len() - 1];
    for bad in ["'NaN'", "'inf'", "'-inf'"] {
        let e = score_error_with(last, 5, &format!("CAST({bad} AS DOUBLE)")).await;
        assert!(
            e.contains("churn_score: feature value at row 5")
                && e.contains(&format!("column `{last}` is not finite")),
            "{bad}: {e}"
        );
    }
}

#[tokio::test]
async fn the_bundle_round_trips_through_json_and_a_file() {
    let f = fixture();
    let functions = f
        .functions
        .clone()
        .features(
            FeatureSpec::new(["recency_days", "orders_90d"]),
            Snapshot::new(at(6)),
        )
        .calibration(Calibration::new(at(6)).unit(TimeUnit::Weeks));
    let json = functions.to_json().unwrap();
    let back = ChurnwiseFunctions::from_json(&json).unwrap();
    assert_eq!(back, functions);
    let aggregates: Vec<String> = back
        .aggregate_udfs()
        .unwrap()
        .iter()
        .map(|u| u.name().to_owned())
        .collect();
    assert_eq!(aggregates, ["churn_features", "rfm_summary"]);
    let names = |b: &ChurnwiseFunctions| -> Vec<String> {
        b.scalar_udfs()
            .unwrap()
            .iter()
            .map(|u| u.name().to_owned())
            .collect()
    };
    assert_eq!(
        names(&back),
        [
            "churn_score",
            "rfm_segment",
            "lifecycle_stage",
            "p_alive",
            "expected_purchases",
            "clv",
            "churn_alerts"
        ]
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("functions.json");
    back.save(&path).unwrap();
    assert_eq!(ChurnwiseFunctions::load(&path).unwrap(), functions);
    let e = ChurnwiseFunctions::load(dir.path().join("missing.json"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.json"), "{e}");
    // A typo fails loudly, naming the key.
    let e = ChurnwiseFunctions::from_json(r#"{"scorre": null}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `scorre`"), "{e}");
    // clv needs its three objects.
    let partial =
        ChurnwiseFunctions::new().gamma_gamma(f.functions.gamma_gamma_value().unwrap().clone());
    let e = partial.validate().unwrap_err().to_string();
    assert!(
        e.contains("`clv` needs beta_geo, gamma_gamma and clv settings"),
        "{e}"
    );
}
