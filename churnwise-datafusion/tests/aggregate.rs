//! The `churn_features` and `rfm_summary` aggregates against the core's
//! in-process results on a synthetic population: every value compared
//! bit for bit, over partitioned MemTables and a multi-file Parquet
//! directory, with 1 and 3 target partitions.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, TimeZone, Utc};
use churnwise::clv::{Calibration, TimeUnit};
use churnwise::features::{EventFeatures, FeatureSpec, FeatureTable, Snapshot};
use churnwise::records::{Customer, History, InteractionKind};
use churnwise::synth::{Population, PopulationConfig};
use churnwise_datafusion::aggregate::{ChurnFeatures, RfmSummary};
use datafusion::arrow::array::{
    Array, AsArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    TimestampNanosecondArray,
};
use datafusion::arrow::datatypes::{
    DataType, Field, Float64Type, Int64Type, Schema, TimeUnit as Unit,
};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::AggregateUDF;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use proptest::prelude::*;

/// Customers added to the population without any event (ids above the synth's).
const SILENT: [u64; 3] = [900_001, 900_002, 900_003];

struct Fixture {
    population: Population,
    history: History,
    snapshot: Snapshot,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let population = PopulationConfig::default()
            .customers(2_000)
            .seed(18)
            .generate()
            .unwrap();
        let mut b = population.history_builder();
        for id in SILENT {
            b.push_customer(Customer::new(id, ts(2024, 2, 1)));
        }
        let (history, _) = b.build().unwrap();
        let snapshot = Snapshot::new(ts(2024, 6, 1));
        Fixture {
            population,
            history,
            snapshot,
        }
    })
}

fn ts(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
}

/// Every catalog feature event rows can compute (`orders_only`: and that
/// needs no interactions).
fn event_spec(snapshot: &Snapshot, orders_only: bool) -> FeatureSpec {
    let names: Vec<String> = snapshot
        .catalog()
        .into_iter()
        .filter(|f| {
            EventFeatures::new(std::slice::from_ref(f))
                .is_ok_and(|e| !orders_only || e.interaction_feature().is_none())
        })
        .map(|f| f.name().to_owned())
        .collect();
    FeatureSpec::new(names)
}

fn utc() -> Option<Arc<str>> {
    Some("UTC".into())
}

/// The customers table: id, signup (ns, no time zone), with the silent customers.
fn customers(p: &Population) -> RecordBatch {
    let mut ids: Vec<i64> = p.customers().iter().map(|c| id(&c.id)).collect();
    let mut signup: Vec<i64> = p
        .customers()
        .iter()
        .map(|c| c.signup.timestamp_nanos_opt().unwrap())
        .collect();
    for s in SILENT {
        ids.push(s as i64);
        signup.push(ts(2024, 2, 1).timestamp_nanos_opt().unwrap());
    }
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("customer_id", DataType::Int64, false),
            Field::new("signup", DataType::Timestamp(Unit::Nanosecond, None), true),
        ])),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(TimestampNanosecondArray::from(signup)),
        ],
    )
    .unwrap()
}

fn id(c: &churnwise::records::CustomerId) -> i64 {
    c.as_u64().unwrap() as i64
}

/// The orders table in the row order `perm` gives: id, time (µs, UTC), amount.
fn orders(p: &Population, perm: &[usize]) -> RecordBatch {
    let o = p.orders();
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("customer_id", DataType::Int64, false),
            Field::new("time", DataType::Timestamp(Unit::Microsecond, utc()), false),
            Field::new("amount", DataType::Float64, false),
        ])),
        vec![
            Arc::new(Int64Array::from_iter_values(
                perm.iter().map(|&i| id(&o[i].customer)),
            )),
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(
                    perm.iter().map(|&i| o[i].time.timestamp_micros()),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(Float64Array::from_iter_values(
                perm.iter().map(|&i| o[i].amount),
            )),
        ],
    )
    .unwrap()
}

/// The interactions table: id, time (µs, UTC), kind, hours (support tickets).
fn interactions(p: &Population, perm: &[usize]) -> RecordBatch {
    let x = p.interactions();
    let kind = |k: &InteractionKind| match k {
        InteractionKind::Login => "login",
        InteractionKind::Visit => "visit",
        InteractionKind::SupportTicket { .. } => "support_ticket",
        InteractionKind::Complaint { .. } => "complaint",
        InteractionKind::CampaignResponse { .. } => "campaign_response",
        InteractionKind::Cancellation => "cancellation",
        _ => "unknown",
    };
    let hours = |k: &InteractionKind| match k {
        InteractionKind::SupportTicket {
            first_response_hours,
        } => *first_response_hours,
        _ => None,
    };
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("customer_id", DataType::Int64, false),
            Field::new("time", DataType::Timestamp(Unit::Microsecond, utc()), false),
            Field::new("kind", DataType::Utf8, false),
            Field::new("hours", DataType::Float64, true),
        ])),
        vec![
            Arc::new(Int64Array::from_iter_values(
                perm.iter().map(|&i| id(&x[i].customer)),
            )),
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(
                    perm.iter().map(|&i| x[i].time.timestamp_micros()),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from_iter_values(
                perm.iter().map(|&i| kind(&x[i].kind)),
            )),
            Arc::new(Float64Array::from(
                perm.iter().map(|&i| hours(&x[i].kind)).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap()
}

/// `batch` split into `parts` partitions of about equal size.
fn partitioned(batch: &RecordBatch, parts: usize) -> Arc<MemTable> {
    let n = batch.num_rows();
    let step = n.div_ceil(parts.max(1)).max(1);
    let partitions: Vec<Vec<RecordBatch>> = (0..n)
        .step_by(step)
        .map(|lo| vec![batch.slice(lo, step.min(n - lo))])
        .collect();
    Arc::new(MemTable::try_new(batch.schema(), partitions).unwrap())
}

fn context(target_partitions: usize) -> SessionContext {
    SessionContext::new_with_config(SessionConfig::new().with_target_partitions(target_partitions))
}

/// A context that skips partial aggregation early, so partial states come
/// from `convert_to_state` (as on high-cardinality inputs).
fn skipping_context(target_partitions: usize) -> SessionContext {
    let mut config = SessionConfig::new().with_target_partitions(target_partitions);
    let e = &mut config.options_mut().execution;
    e.skip_partial_aggregation_probe_rows_threshold = 10;
    e.skip_partial_aggregation_probe_ratio_threshold = 0.0;
    SessionContext::new_with_config(config)
}

const ORDERS_SQL: &str = "SELECT c.customer_id, churn_features(c.signup, o.time, o.amount) AS f
    FROM customers c LEFT JOIN orders o ON c.customer_id = o.customer_id
    GROUP BY c.customer_id";

const EVENTS_SQL: &str = "WITH events AS (
        SELECT customer_id, time, 'order' AS kind, amount AS value FROM orders
        UNION ALL
        SELECT customer_id, time, kind, hours AS value FROM interactions)
    SELECT c.customer_id, churn_features(c.signup, e.time, e.kind, e.value) AS f
    FROM customers c LEFT JOIN events e ON c.customer_id = e.customer_id
    GROUP BY c.customer_id";

/// The `(id, struct)` rows of a query's result.
async fn run(ctx: &SessionContext, sql: &str) -> datafusion::error::Result<Vec<RecordBatch>> {
    ctx.sql(sql).await?.collect().await
}

/// Checks a `customer_id, f` result against the in-process table, bit for bit.
fn assert_same(batches: &[RecordBatch], table: &FeatureTable, history: &History) {
    let rows: HashMap<i64, usize> = table
        .ids()
        .iter()
        .enumerate()
        .map(|(r, c)| (id(c), r))
        .collect();
    let mut seen = 0;
    let mut customers = 0;
    for b in batches {
        let ids = b.column(0).as_primitive::<Int64Type>();
        let f = b.column(1).as_struct();
        assert_eq!(f.num_columns(), table.names().len());
        for (j, name) in table.names().iter().enumerate() {
            assert_eq!(f.fields()[j].name(), name);
        }
        for i in 0..b.num_rows() {
            customers += 1;
            let c = ids.value(i);
            match rows.get(&c) {
                None => assert!(f.is_null(i), "customer {c} signed up after the as-of time"),
                Some(&r) => {
                    assert!(f.is_valid(i), "customer {c}");
                    for j in 0..f.num_columns() {
                        let v = f.column(j).as_primitive::<Float64Type>().value(i);
                        let want = table.values()[[r, j]];
                        assert_eq!(
                            v.to_bits(),
                            want.to_bits(),
                            "customer {c}, {}: {v} vs {want}",
                            table.names()[j]
                        );
                    }
                    seen += 1;
                }
            }
        }
    }
    assert_eq!(seen, table.ids().len());
    assert_eq!(customers, history.customer_count());
}

fn register(ctx: &SessionContext, spec: &FeatureSpec, snapshot: &Snapshot) {
    let f = ChurnFeatures::new(spec, snapshot).unwrap();
    ctx.register_udaf(AggregateUDF::new_from_impl(f));
}

fn identity(n: usize) -> Vec<usize> {
    (0..n).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn features_equal_extract_bit_for_bit_over_memtables() {
    let fx = fixture();
    let p = &fx.population;
    let order_spec = event_spec(&fx.snapshot, true);
    let event_spec = event_spec(&fx.snapshot, false);
    let order_table = order_spec.extract(&fx.history, &fx.snapshot).unwrap();
    let event_table = event_spec.extract(&fx.history, &fx.snapshot).unwrap();
    assert!(event_table.names().len() > order_table.names().len());
    // Some customers had not signed up by the as-of time.
    assert!(event_table.ids().len() < fx.history.customer_count());
    for (target, skip) in [(1, false), (3, false), (3, true)] {
        let ctx = if skip {
            skipping_context(target)
        } else {
            context(target)
        };
        ctx.register_table("customers", partitioned(&customers(p), 2))
            .unwrap();
        ctx.register_table(
            "orders",
            partitioned(&orders(p, &identity(p.orders().len())), 4),
        )
        .unwrap();
        ctx.register_table(
            "interactions",
            partitioned(&interactions(p, &identity(p.interactions().len())), 3),
        )
        .unwrap();
        register(&ctx, &order_spec, &fx.snapshot);
        assert_same(
            &run(&ctx, ORDERS_SQL).await.unwrap(),
            &order_table,
            &fx.history,
        );
        register(&ctx, &event_spec, &fx.snapshot);
        assert_same(
            &run(&ctx, EVENTS_SQL).await.unwrap(),
            &event_table,
            &fx.history,
        );
    }
    // Without GROUP BY (the plain accumulator): one customer's row.
    let ctx = context(2);
    ctx.register_table("customers", partitioned(&customers(p), 2))
        .unwrap();
    ctx.register_table(
        "orders",
        partitioned(&orders(p, &identity(p.orders().len())), 3),
    )
    .unwrap();
    register(&ctx, &order_spec, &fx.snapshot);
    let c = id(&order_table.ids()[7]);
    let sql = format!(
        "SELECT churn_features(c.signup, o.time, o.amount) FROM customers c
         JOIN orders o ON c.customer_id = o.customer_id WHERE c.customer_id = {c}"
    );
    let batches = run(&ctx, &sql).await.unwrap();
    let f = batches[0].column(0).as_struct();
    for j in 0..f.num_columns() {
        let v = f.column(j).as_primitive::<Float64Type>().value(0);
        assert_eq!(v.to_bits(), order_table.values()[[7, j]].to_bits());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn features_equal_extract_over_a_parquet_directory() {
    let fx = fixture();
    let p = &fx.population;
    let dir = tempfile::tempdir().unwrap();
    let all = orders(p, &identity(p.orders().len()));
    let n = all.num_rows();
    for k in 0..3 {
        let (lo, hi) = (k * n / 3, (k + 1) * n / 3);
        let file = std::fs::File::create(dir.path().join(format!("part-{k}.parquet"))).unwrap();
        let mut w = ArrowWriter::try_new(file, all.schema(), None).unwrap();
        w.write(&all.slice(lo, hi - lo)).unwrap();
        w.close().unwrap();
    }
    let spec = event_spec(&fx.snapshot, true);
    let table = spec.extract(&fx.history, &fx.snapshot).unwrap();
    for target in [1, 3] {
        let ctx = context(target);
        ctx.register_table("customers", partitioned(&customers(p), 1))
            .unwrap();
        ctx.register_parquet(
            "orders",
            dir.path().to_str().unwrap(),
            ParquetReadOptions::default(),
        )
        .await
        .unwrap();
        register(&ctx, &spec, &fx.snapshot);
        assert_same(&run(&ctx, ORDERS_SQL).await.unwrap(), &table, &fx.history);
    }
}

#[tokio::test]
async fn rfm_summary_equals_the_core_summary() {
    let fx = fixture();
    let p = &fx.population;
    let calibration = Calibration::new(ts(2024, 3, 31))
        .unit(TimeUnit::Weeks)
        .holdout_end(ts(2024, 9, 30));
    let summary = calibration.summarize(&fx.history).unwrap();
    let ctx = context(3);
    ctx.register_table(
        "orders",
        partitioned(&orders(p, &identity(p.orders().len())), 3),
    )
    .unwrap();
    ctx.register_udaf(AggregateUDF::new_from_impl(RfmSummary::new(calibration)));
    let batches = run(
        &ctx,
        "SELECT customer_id, rfm_summary(time, amount) FROM orders GROUP BY customer_id",
    )
    .await
    .unwrap();
    let rows: HashMap<i64, usize> = summary
        .ids()
        .iter()
        .enumerate()
        .map(|(r, c)| (id(c), r))
        .collect();
    let holdout = summary.holdout_purchases().unwrap();
    let mut seen = 0;
    for b in &batches {
        let ids = b.column(0).as_primitive::<Int64Type>();
        let s = b.column(1).as_struct();
        for i in 0..b.num_rows() {
            let Some(&r) = rows.get(&ids.value(i)) else {
                assert!(s.is_null(i));
                continue;
            };
            seen += 1;
            let int = |j: usize| s.column(j).as_primitive::<Int64Type>().value(i);
            let float = |j: usize| s.column(j).as_primitive::<Float64Type>().value(i).to_bits();
            assert_eq!(int(0), i64::from(summary.frequency()[r]));
            assert_eq!(float(1), summary.recency()[r].to_bits());
            assert_eq!(float(2), summary.age()[r].to_bits());
            assert_eq!(float(3), summary.monetary()[r].to_bits());
            assert_eq!(int(4), i64::from(holdout[r]));
        }
    }
    assert_eq!(seen, summary.len());
}

/// A one-customer context with the given signup, order time and amount SQL literals.
async fn one_row(signup: &str, amount: &str) -> datafusion::error::Result<Vec<RecordBatch>> {
    let fx = fixture();
    let ctx = context(1);
    register(&ctx, &FeatureSpec::rfm(), &fx.snapshot);
    let sql = format!(
        "SELECT id, churn_features(signup, t, amount) FROM (VALUES
            (1, TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-02-01 00:00:00', 10.0),
            (1, {signup}, TIMESTAMP '2024-03-01 00:00:00', {amount})) AS o(id, signup, t, amount)
         GROUP BY id"
    );
    run(&ctx, &sql).await
}

#[tokio::test]
async fn bad_input_is_an_error_naming_the_column_or_feature() {
    let ok = one_row("TIMESTAMP '2024-01-01 00:00:00'", "20.0")
        .await
        .unwrap();
    let f = ok[0].column(1).as_struct();
    assert_eq!(f.column(1).as_primitive::<Float64Type>().value(0), 2.0); // orders_total

    let err = one_row("NULL", "20.0").await.unwrap_err().to_string();
    assert!(
        err.contains("churn_features") && err.contains("`signup`"),
        "{err}"
    );
    let err = one_row("TIMESTAMP '2024-01-01 00:00:00'", "'NaN'::double")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`amount`") && err.contains("non-finite"),
        "{err}"
    );
    let err = one_row("TIMESTAMP '2024-01-01 00:00:00'", "NULL")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("`amount`") && err.contains("null"), "{err}");
    let err = one_row("TIMESTAMP '2024-02-02 00:00:00'", "20.0")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`signup`") && err.contains("two values"),
        "{err}"
    );

    // Features event rows cannot compute, and interaction features in the orders form.
    let fx = fixture();
    let err = ChurnFeatures::new(&FeatureSpec::all(), &fx.snapshot)
        .unwrap_err()
        .to_string();
    let rejected = fx
        .snapshot
        .catalog()
        .into_iter()
        .find(|f| EventFeatures::new(std::slice::from_ref(f)).is_err())
        .unwrap();
    assert!(err.contains(&format!("`{}`", rejected.name())), "{err}");
    let ctx = context(1);
    register(&ctx, &event_spec(&fx.snapshot, false), &fx.snapshot);
    let err = ctx
        .sql("SELECT churn_features(s, t, a) FROM (VALUES (1, 2, 3.0)) AS x(s, t, a)")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("reads interactions") && err.contains("feature `"),
        "{err}"
    );
    let err = run(
        &ctx,
        "SELECT churn_features(s, t, k, v) FROM (VALUES (1, 2, 'refund', 3.0)) AS x(s, t, k, v)",
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("`k`") && err.contains("refund"), "{err}");
}

/// Small population for the property test: expected features computed once.
fn small() -> &'static (Population, FeatureTable, FeatureSpec, Snapshot) {
    static S: OnceLock<(Population, FeatureTable, FeatureSpec, Snapshot)> = OnceLock::new();
    S.get_or_init(|| {
        let p = PopulationConfig::default()
            .customers(150)
            .seed(3)
            .generate()
            .unwrap();
        let mut b = p.history_builder();
        for id in SILENT {
            b.push_customer(Customer::new(id, ts(2024, 2, 1)));
        }
        let (history, _) = b.build().unwrap();
        let snapshot = Snapshot::new(ts(2024, 9, 1));
        let spec = event_spec(&snapshot, false);
        let table = spec.extract(&history, &snapshot).unwrap();
        (p, table, spec, snapshot)
    })
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    let mut s = seed | 1;
    for i in (1..n).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        v.swap(i, (s % (i as u64 + 1)) as usize);
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 6,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn row_order_and_partitioning_change_no_bit(
        seed in any::<u64>(),
        parts in 1usize..6,
        target in 1usize..4,
    ) {
        let (p, table, spec, snapshot) = small();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let batches = rt.block_on(async {
            let ctx = context(target);
            let c = customers(p);
            ctx.register_table("customers", partitioned(&c, parts)).unwrap();
            ctx.register_table(
                "orders",
                partitioned(&orders(p, &shuffled(p.orders().len(), seed)), parts),
            ).unwrap();
            ctx.register_table(
                "interactions",
                partitioned(&interactions(p, &shuffled(p.interactions().len(), !seed)), parts + 1),
            ).unwrap();
            register(&ctx, spec, snapshot);
            run(&ctx, EVENTS_SQL).await.unwrap()
        });
        let mut got: HashMap<i64, Vec<u64>> = HashMap::new();
        for b in &batches {
            let ids = b.column(0).as_primitive::<Int64Type>();
            let f = b.column(1).as_struct();
            for i in 0..b.num_rows() {
                if f.is_valid(i) {
                    let row = (0..f.num_columns())
                        .map(|j| f.column(j).as_primitive::<Float64Type>().value(i).to_bits())
                        .collect();
                    got.insert(ids.value(i), row);
                }
            }
        }
        prop_assert_eq!(got.len(), table.ids().len());
        for (r, c) in table.ids().iter().enumerate() {
            let want: Vec<u64> = table.values().row(r).iter().map(|v| v.to_bits()).collect();
            prop_assert_eq!(got.get(&id(c)), Some(&want), "customer {}", c);
        }
    }
}
