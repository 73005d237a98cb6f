//! The scoring pipeline as SQL over a Parquet lake, and the same pipeline in
//! process with the core crate, for comparison. Shared by the
//! `sql_pipeline` example and the Ballista integration test.

#![allow(dead_code)] // each user calls a part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use churnwise::alert::{AlertEngine, AlertPolicy};
use churnwise::clv::{BetaGeo, Calibration, Clv, FittedBetaGeo, FittedGammaGamma, GammaGamma};
use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
use churnwise::model::LogisticRegression;
use churnwise::records::{HistoryBuilder, InteractionKind};
use churnwise::rules::Condition;
use churnwise::score::{ChurnScorer, Profiles};
use churnwise::segment::{FittedRfm, LifecyclePolicy, Rfm};
use churnwise::synth::{PopulationConfig, PopulationParts};
use churnwise_datafusion::ChurnwiseFunctions;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    UInt64Array,
};
use datafusion::arrow::datatypes::{Float64Type, UInt64Type};
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::{ParquetReadOptions, SessionContext};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The as-of time of the pipeline.
pub fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0)
        .single()
        .expect("a valid date")
}

/// Feature names the lake can give: everything but the feedback features
/// (the lake has no survey table).
const FEEDBACK: [&str; 3] = ["satisfaction_last", "satisfaction_change", "has_feedback"];

/// A synthetic shop without invalid records (the SQL path reads the lake as
/// it is; the in-process path would drop invalid records).
pub fn shop(customers: usize, seed: u64) -> Result<PopulationParts, BoxError> {
    Ok(PopulationConfig::default()
        .customers(customers)
        .seed(seed)
        .dirty_fraction(0.0)
        .generate()?
        .into_parts())
}

/// How many rows the lake holds.
#[derive(Debug, Clone, Copy)]
pub struct LakeSize {
    pub customers: usize,
    pub orders: usize,
    pub interactions: usize,
}

/// Writes customers, orders and interactions as `files` Parquet files each
/// under `dir/{customers,orders,interactions}/`.
pub fn write_lake(parts: &PopulationParts, dir: &Path, files: usize) -> Result<LakeSize, BoxError> {
    let micros = |t: DateTime<Utc>| t.timestamp_micros();
    let ts =
        |v: Vec<i64>| Arc::new(TimestampMicrosecondArray::from(v).with_timezone("UTC")) as ArrayRef;
    let id = |c: &churnwise::records::CustomerId| {
        c.as_u64()
            .ok_or_else(|| BoxError::from(format!("customer id {c} is not numeric")))
    };

    let customers = RecordBatch::try_from_iter([
        (
            "customer_id",
            Arc::new(UInt64Array::from(
                parts
                    .customers
                    .iter()
                    .map(|c| id(&c.id))
                    .collect::<Result<Vec<_>, _>>()?,
            )) as ArrayRef,
        ),
        (
            "signup",
            ts(parts.customers.iter().map(|c| micros(c.signup)).collect()),
        ),
    ])?;
    let orders = RecordBatch::try_from_iter([
        (
            "customer_id",
            Arc::new(UInt64Array::from(
                parts
                    .orders
                    .iter()
                    .map(|o| id(&o.customer))
                    .collect::<Result<Vec<_>, _>>()?,
            )) as ArrayRef,
        ),
        (
            "ordered_at",
            ts(parts.orders.iter().map(|o| micros(o.time)).collect()),
        ),
        (
            "amount",
            Arc::new(Float64Array::from_iter_values(
                parts.orders.iter().map(|o| o.amount),
            )),
        ),
    ])?;
    let kind = |k: &InteractionKind| match k {
        InteractionKind::Login => Ok("login"),
        InteractionKind::Visit => Ok("visit"),
        InteractionKind::SupportTicket { .. } => Ok("support_ticket"),
        InteractionKind::Complaint { .. } => Ok("complaint"),
        InteractionKind::CampaignResponse { .. } => Ok("campaign_response"),
        InteractionKind::Cancellation => Ok("cancellation"),
        other => Err(BoxError::from(format!(
            "interaction kind {other:?} is not in the lake"
        ))),
    };
    let interactions = RecordBatch::try_from_iter([
        (
            "customer_id",
            Arc::new(UInt64Array::from(
                parts
                    .interactions
                    .iter()
                    .map(|i| id(&i.customer))
                    .collect::<Result<Vec<_>, _>>()?,
            )) as ArrayRef,
        ),
        (
            "at",
            ts(parts.interactions.iter().map(|i| micros(i.time)).collect()),
        ),
        (
            "kind",
            Arc::new(StringArray::from(
                parts
                    .interactions
                    .iter()
                    .map(|i| kind(&i.kind))
                    .collect::<Result<Vec<_>, _>>()?,
            )),
        ),
        (
            "response_hours",
            Arc::new(Float64Array::from(
                parts
                    .interactions
                    .iter()
                    .map(|i| match i.kind {
                        InteractionKind::SupportTicket {
                            first_response_hours,
                        } => first_response_hours,
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            )),
        ),
    ])?;
    for (name, batch) in [
        ("customers", &customers),
        ("orders", &orders),
        ("interactions", &interactions),
    ] {
        write_files(batch, &dir.join(name), files)?;
    }
    Ok(LakeSize {
        customers: customers.num_rows(),
        orders: orders.num_rows(),
        interactions: interactions.num_rows(),
    })
}

/// `batch` as `files` Parquet files of consecutive rows (a customer's rows
/// may land in several files, so the aggregates really merge partitions).
fn write_files(batch: &RecordBatch, dir: &Path, files: usize) -> Result<(), BoxError> {
    std::fs::create_dir_all(dir)?;
    let files = files.max(1);
    let per_file = batch.num_rows().div_ceil(files).max(1);
    for k in 0..files {
        let start = (k * per_file).min(batch.num_rows());
        let len = per_file.min(batch.num_rows() - start);
        let file = std::fs::File::create(dir.join(format!("part-{k:03}.parquet")))?;
        let mut writer = ArrowWriter::try_new(file, batch.schema(), None)?;
        let part = batch.slice(start, len);
        // Row groups of at most 64 k rows, streamed.
        let mut offset = 0;
        while offset < part.num_rows() {
            let n = (part.num_rows() - offset).min(65_536);
            writer.write(&part.slice(offset, n))?;
            offset += n;
        }
        writer.close()?;
    }
    Ok(())
}

/// Everything fitted in process, and the functions built from it.
pub struct Models {
    pub snapshot: Snapshot,
    pub spec: FeatureSpec,
    pub scorer: ChurnScorer,
    pub rfm: FittedRfm,
    pub lifecycle: LifecyclePolicy,
    pub calibration: Calibration,
    pub beta_geo: FittedBetaGeo,
    pub gamma_gamma: FittedGammaGamma,
    pub clv: Clv,
    pub alerts: AlertPolicy,
}

/// One customer's profile, as the pipeline writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub features: Vec<f64>,
    pub churn_probability: f64,
    pub rfm_segment: String,
    pub lifecycle_stage: String,
    pub customer_value: f64,
    pub p_alive: Option<f64>,
    pub clv: Option<f64>,
}

/// One customer's alerts: rule ids, severity and route of the first.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    pub rule_ids: Vec<String>,
    pub severity: String,
    pub route: String,
}

/// The pipeline's output by customer id.
#[derive(Debug, Default, PartialEq)]
pub struct Output {
    pub profiles: BTreeMap<u64, Row>,
    pub alerts: BTreeMap<u64, AlertRow>,
}

/// Fits the models in process and runs the in-process pipeline on the
/// same records as the lake.
pub fn fit_and_run(parts: &PopulationParts) -> Result<(Models, Output), BoxError> {
    let mut builder = HistoryBuilder::new();
    parts
        .customers
        .iter()
        .for_each(|c| builder.push_customer(c.clone()));
    parts
        .orders
        .iter()
        .for_each(|o| builder.push_order(o.clone()));
    parts
        .interactions
        .iter()
        .for_each(|i| builder.push_interaction(i.clone()));
    let (history, report) = builder.build()?;
    if !report.is_clean() {
        return Err(format!("the synthetic records are not clean:\n{report}").into());
    }

    // Features: the lake's (no feedback) for the scorer and the aggregate;
    // the full catalog for the lifecycle policy, whose feedback inputs are
    // then their no-feedback values (0.5 and 0), as the SQL gives them.
    let snapshot = Snapshot::new(as_of());
    let lake_names: Vec<String> = FeatureSpec::all()
        .resolve(&snapshot)?
        .iter()
        .map(|f| f.name().to_owned())
        .filter(|n| !FEEDBACK.contains(&n.as_str()))
        .collect();
    let spec = FeatureSpec::new(lake_names.clone());
    let table = FeatureSpec::all().extract(&history, &snapshot)?;

    // Models: a churn scorer trained on earlier snapshots, RFM edges,
    // lifecycle stages, BG/NBD + Gamma-Gamma CLV, an alert policy.
    let month = |m| {
        Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0)
            .single()
            .ok_or("bad date")
    };
    let train =
        ChurnLabeler::new().training_set(&history, &spec, &snapshot, &[month(4)?, month(6)?])?;
    let scorer = ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?;
    let rfm = Rfm::new().fit(&table)?;
    let lifecycle = LifecyclePolicy::default();
    let calibration = Calibration::new(as_of());
    let summary = calibration.summarize(&history)?;
    let beta_geo = BetaGeo::new().fit(&summary)?;
    let gamma_gamma = GammaGamma::new().fit(&summary)?;
    let clv = Clv::new(30.0, 12);
    // The default policy without its value-tier rule (no tier function).
    let default = AlertPolicy::default_policy();
    let rules = default
        .rules()
        .iter()
        .filter(|r| !format!("{:?}", r.condition()).contains("value_tier"))
        .cloned()
        .collect();
    let alerts = AlertPolicy::new(rules)?;

    // The in-process pipeline.
    let scores = scorer
        .score_table(&table.select(scorer.features())?)?
        .to_vec();
    let profiles = Profiles::new(table.clone())?
        .with_churn_probabilities(scores.clone())?
        .segment_rfm(&rfm)?
        .stage_lifecycle(&lifecycle)?
        .values_from_column("spend_180d")?;
    let segments = rfm.apply(&table)?;
    let stages = lifecycle.apply(&table, Some(&scores))?;
    let values = profiles.customer_values().ok_or("no values")?.to_vec();
    let p_alive = beta_geo.p_alive_all(&summary)?;
    let clv_values = clv.values(&beta_geo, &gamma_gamma, &summary)?;
    let mut by_id: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for (i, id) in summary.ids().iter().enumerate() {
        by_id.insert(id.as_u64().ok_or("id")?, (p_alive[i], clv_values[i]));
    }
    let mut output = Output::default();
    let columns: Vec<_> = lake_names
        .iter()
        .map(|n| table.column(n))
        .collect::<Result<_, _>>()?;
    for (i, id) in table.ids().iter().enumerate() {
        let id = id.as_u64().ok_or("id")?;
        let clv_row = by_id.get(&id);
        output.profiles.insert(
            id,
            Row {
                features: columns.iter().map(|c| c[i]).collect(),
                churn_probability: scores[i],
                rfm_segment: segments[i].segment().name().to_owned(),
                lifecycle_stage: stages[i].to_string(),
                customer_value: values[i],
                p_alive: clv_row.map(|r| r.0),
                clv: clv_row.map(|r| r.1),
            },
        );
    }
    let engine = AlertEngine::new(alerts.clone());
    let report = engine.evaluate(&profiles, None)?;
    for alert in report.alerts() {
        let id = alert.customer().as_u64().ok_or("id")?;
        let row = output.alerts.entry(id).or_insert_with(|| AlertRow {
            rule_ids: Vec::new(),
            severity: alert.severity().name().to_owned(),
            route: alert.route().name().to_owned(),
        });
        row.rule_ids.push(alert.rule().to_owned());
    }
    let models = Models {
        snapshot,
        spec,
        scorer,
        rfm,
        lifecycle,
        calibration,
        beta_geo,
        gamma_gamma,
        clv,
        alerts,
    };
    Ok((models, output))
}

impl Models {
    /// The feature names the lake gives, in order.
    pub fn feature_names(&self) -> Vec<String> {
        self.spec
            .names()
            .map(<[String]>::to_vec)
            .unwrap_or_default()
    }

    /// churnwise's functions for these models, as one bundle (serde data
    /// that could be saved and loaded by the cluster processes).
    pub fn functions(&self) -> ChurnwiseFunctions {
        ChurnwiseFunctions::new()
            .scorer(self.scorer.clone())
            .rfm(self.rfm.clone())
            .lifecycle(self.lifecycle.clone())
            .beta_geo(self.beta_geo.clone())
            .gamma_gamma(self.gamma_gamma.clone())
            .clv(self.clv.clone())
            .alerts(self.alerts.clone())
            .features(self.spec.clone(), self.snapshot.clone())
            .calibration(self.calibration.clone())
    }

    /// The bundle's functions.
    pub fn udfs(&self) -> Result<(Vec<ScalarUDF>, Vec<AggregateUDF>), BoxError> {
        let functions = self.functions();
        functions.validate()?;
        Ok((functions.scalar_udfs()?, functions.aggregate_udfs()?))
    }

    /// The SQL of the profiles: features (aggregate) → churn score, RFM
    /// segment, lifecycle stage, P(alive) and CLV.
    pub fn profiles_sql(&self) -> String {
        let names = self.feature_names();
        let fields = names
            .iter()
            .map(|n| format!("f['{n}'] AS {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let plain = names.join(", ");
        let score_args = self.scorer.features().join(", ");
        format!(
            "WITH events AS (
                 SELECT customer_id, ordered_at AS event_time, 'order' AS event_kind, amount AS value FROM orders
                 UNION ALL
                 SELECT customer_id, at, kind, response_hours FROM interactions
             ), feats AS (
                 SELECT c.customer_id, churn_features(c.signup, e.event_time, e.event_kind, e.value) AS f
                 FROM customers c LEFT JOIN events e ON c.customer_id = e.customer_id
                 GROUP BY c.customer_id
             ), summary AS (
                 SELECT customer_id, rfm_summary(ordered_at, amount) AS s FROM orders GROUP BY customer_id
             ), clv_rows AS (
                 SELECT customer_id,
                        p_alive(s['frequency'], s['recency'], s['age']) AS p_alive,
                        clv(s['frequency'], s['recency'], s['age'], s['monetary']) AS clv
                 FROM summary WHERE s IS NOT NULL
             ), flat AS (
                 SELECT customer_id, {fields}, 0.5 AS satisfaction_last, 0.0 AS has_feedback
                 FROM feats WHERE f IS NOT NULL
             ), scored AS (
                 SELECT *, churn_score({score_args}) AS churn_probability FROM flat
             )
             SELECT scored.customer_id, {plain}, churn_probability,
                    rfm_segment(recency_days, orders_total) AS rfm_segment,
                    lifecycle_stage(recency_days, tenure_days, orders_total, complaints_30d,
                                    satisfaction_last, has_feedback, order_trend_90d,
                                    churn_probability) AS lifecycle_stage,
                    CASE WHEN spend_180d > 0.0 THEN spend_180d ELSE 0.0 END AS customer_value,
                    p_alive, clv
             FROM scored LEFT JOIN clv_rows ON scored.customer_id = clv_rows.customer_id"
        )
    }

    /// The SQL of the alerts, over the written profiles.
    pub fn alerts_sql(&self) -> String {
        let mut fields = Vec::new();
        for rule in self.alerts.rules() {
            fields_of(rule.condition(), &mut fields);
        }
        let args = fields.join(", ");
        format!(
            "SELECT customer_id, a['rule_ids'] AS rule_ids, a['severity'] AS severity, a['route'] AS route
             FROM (SELECT customer_id, churn_alerts({args}) AS a FROM profiles)
             WHERE a['severity'] IS NOT NULL"
        )
    }
}

/// Every profile field a condition reads, in order of first appearance.
fn fields_of(c: &Condition, out: &mut Vec<String>) {
    match c {
        Condition::All(v) | Condition::Any(v) => v.iter().for_each(|c| fields_of(c, out)),
        Condition::Not(c) => fields_of(c, out),
        Condition::Test(t) if !out.iter().any(|f| f == t.field()) => {
            out.push(t.field().to_owned());
        }
        _ => {}
    }
}

/// Runs the pipeline as SQL on `ctx` over the lake in `lake`, writing
/// profiles and alerts as Parquet under `out`, and reads them back.
pub async fn run_sql(
    ctx: &SessionContext,
    models: &Models,
    lake: &Path,
    out: &Path,
) -> Result<Output, BoxError> {
    for table in ["customers", "orders", "interactions"] {
        if ctx.table_exist(table)? {
            ctx.deregister_table(table)?;
        }
        ctx.register_parquet(
            table,
            path_str(&lake.join(table))?,
            ParquetReadOptions::default(),
        )
        .await?;
    }
    let profiles_dir = dir_url(&out.join("profiles"))?;
    let alerts_dir = dir_url(&out.join("alerts"))?;
    ctx.sql(&format!(
        "COPY ({}) TO '{profiles_dir}' STORED AS PARQUET",
        models.profiles_sql()
    ))
    .await?
    .collect()
    .await?;
    if ctx.table_exist("profiles")? {
        ctx.deregister_table("profiles")?;
    }
    ctx.register_parquet("profiles", &profiles_dir, ParquetReadOptions::default())
        .await?;
    ctx.sql(&format!(
        "COPY ({}) TO '{alerts_dir}' STORED AS PARQUET",
        models.alerts_sql()
    ))
    .await?
    .collect()
    .await?;
    read_output(models, &profiles_dir, &alerts_dir).await
}

fn path_str(path: &Path) -> Result<String, BoxError> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("path {} is not UTF-8", path.display()).into())
}

/// A directory path ending in `/` (DataFusion writes a directory of files).
fn dir_url(path: &Path) -> Result<String, BoxError> {
    Ok(format!("{}/", path_str(path)?.trim_end_matches('/')))
}

/// Reads what the pipeline wrote, in this process.
async fn read_output(models: &Models, profiles: &str, alerts: &str) -> Result<Output, BoxError> {
    let local = SessionContext::new();
    let names = models.feature_names();
    let mut output = Output::default();
    let batches = local
        .read_parquet(profiles, ParquetReadOptions::default())
        .await?
        .collect()
        .await?;
    for batch in &batches {
        let f64s = |name: &str| -> Result<&Float64Array, BoxError> {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_primitive_opt::<Float64Type>())
                .ok_or_else(|| format!("profiles: no Float64 column `{name}`").into())
        };
        let strings = |name: &str| -> Result<Vec<String>, BoxError> {
            let column = batch
                .column_by_name(name)
                .ok_or_else(|| format!("profiles: no column `{name}`"))?;
            let cast = datafusion::arrow::compute::cast(
                column,
                &datafusion::arrow::datatypes::DataType::Utf8,
            )?;
            Ok(cast
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap_or_default().to_owned())
                .collect())
        };
        let ids = batch
            .column_by_name("customer_id")
            .and_then(|c| c.as_primitive_opt::<UInt64Type>())
            .ok_or("profiles: no UInt64 column `customer_id`")?;
        let features: Vec<&Float64Array> =
            names.iter().map(|n| f64s(n)).collect::<Result<_, _>>()?;
        let (churn, value, p_alive, clv) = (
            f64s("churn_probability")?,
            f64s("customer_value")?,
            f64s("p_alive")?,
            f64s("clv")?,
        );
        let (segments, stages) = (strings("rfm_segment")?, strings("lifecycle_stage")?);
        let opt = |a: &Float64Array, i: usize| (!a.is_null(i)).then(|| a.value(i));
        for i in 0..batch.num_rows() {
            let row = Row {
                features: features.iter().map(|c| c.value(i)).collect(),
                churn_probability: churn.value(i),
                rfm_segment: segments[i].clone(),
                lifecycle_stage: stages[i].clone(),
                customer_value: value.value(i),
                p_alive: opt(p_alive, i),
                clv: opt(clv, i),
            };
            if output.profiles.insert(ids.value(i), row).is_some() {
                return Err(format!("profiles: customer {} twice", ids.value(i)).into());
            }
        }
    }
    let batches = local
        .read_parquet(alerts, ParquetReadOptions::default())
        .await?
        .collect()
        .await?;
    for batch in &batches {
        let ids = batch
            .column_by_name("customer_id")
            .and_then(|c| c.as_primitive_opt::<UInt64Type>())
            .ok_or("alerts: no UInt64 column `customer_id`")?;
        let rules = batch
            .column_by_name("rule_ids")
            .ok_or("alerts: no `rule_ids`")?;
        let rules = rules
            .as_list_opt::<i32>()
            .ok_or("alerts: `rule_ids` is not a list")?;
        let text = |name: &str| -> Result<Vec<String>, BoxError> {
            let column = batch
                .column_by_name(name)
                .ok_or_else(|| format!("alerts: no `{name}`"))?;
            let cast = datafusion::arrow::compute::cast(
                column,
                &datafusion::arrow::datatypes::DataType::Utf8,
            )?;
            Ok(cast
                .as_string::<i32>()
                .iter()
                .map(|s| s.unwrap_or_default().to_owned())
                .collect())
        };
        let (severity, route) = (text("severity")?, text("route")?);
        for i in 0..batch.num_rows() {
            let ids_list = datafusion::arrow::compute::cast(
                &rules.value(i),
                &datafusion::arrow::datatypes::DataType::Utf8,
            )?;
            let row = AlertRow {
                rule_ids: ids_list
                    .as_string::<i32>()
                    .iter()
                    .map(|s| s.unwrap_or_default().to_owned())
                    .collect(),
                severity: severity[i].clone(),
                route: route[i].clone(),
            };
            if output.alerts.insert(ids.value(i), row).is_some() {
                return Err(format!("alerts: customer {} twice", ids.value(i)).into());
            }
        }
    }
    Ok(output)
}

/// Every value compared, floats bit for bit; the first differences listed.
pub fn compare(models: &Models, sql: &Output, in_process: &Output) -> Result<(), String> {
    let names = models.feature_names();
    let mut problems = Vec::new();
    if sql.profiles.len() != in_process.profiles.len() {
        problems.push(format!(
            "{} profiles from SQL, {} in process",
            sql.profiles.len(),
            in_process.profiles.len()
        ));
    }
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits();
    let same_opt = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (None, None) => true,
        _ => false,
    };
    for (id, want) in &in_process.profiles {
        let Some(got) = sql.profiles.get(id) else {
            problems.push(format!("customer {id}: missing from the SQL profiles"));
            continue;
        };
        for (k, name) in names.iter().enumerate() {
            if !same(got.features[k], want.features[k]) {
                problems.push(format!(
                    "customer {id}: {name} = {} (SQL) vs {} (in process)",
                    got.features[k], want.features[k]
                ));
            }
        }
        let checks = [
            (
                "churn_probability",
                same(got.churn_probability, want.churn_probability),
            ),
            ("rfm_segment", got.rfm_segment == want.rfm_segment),
            (
                "lifecycle_stage",
                got.lifecycle_stage == want.lifecycle_stage,
            ),
            (
                "customer_value",
                same(got.customer_value, want.customer_value),
            ),
            ("p_alive", same_opt(got.p_alive, want.p_alive)),
            ("clv", same_opt(got.clv, want.clv)),
        ];
        for (field, ok) in checks {
            if !ok {
                problems.push(format!(
                    "customer {id}: {field} differs: {got:?} vs {want:?}"
                ));
            }
        }
    }
    if sql.alerts != in_process.alerts {
        let mut n = 0;
        for (id, want) in &in_process.alerts {
            if sql.alerts.get(id) != Some(want) {
                n += 1;
                if n <= 5 {
                    problems.push(format!(
                        "customer {id}: alerts {:?} (SQL) vs {want:?} (in process)",
                        sql.alerts.get(id)
                    ));
                }
            }
        }
        let extra = sql
            .alerts
            .keys()
            .filter(|id| !in_process.alerts.contains_key(id))
            .count();
        problems.push(format!(
            "alerts differ: {n} customers' in-process alerts not matched, {extra} extra customers in SQL"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let total = problems.len();
        problems.truncate(10);
        Err(format!(
            "{total} differences, first ones:\n  {}",
            problems.join("\n  ")
        ))
    }
}

/// A fresh directory under the system's temporary directory.
pub fn scratch_dir(tag: &str) -> Result<PathBuf, BoxError> {
    let dir = std::env::temp_dir().join(format!(
        "churnwise-{tag}-{}-{}",
        std::process::id(),
        Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
