use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    AggregateUDF, ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::PhysicalExtensionCodec;

use super::{ChurnwiseLogicalCodec, ChurnwisePhysicalCodec, ScalarKind};
use crate::wire::{self, Portable};

/// A tiny portable function with "fitted" state: `x + offset`.
#[derive(Debug)]
struct AddOffset {
    name: String,
    offset: f64,
    sig: Signature,
}

impl AddOffset {
    fn new(name: &str, offset: f64) -> Self {
        Self {
            name: name.to_owned(),
            offset,
            sig: Signature::exact(vec![DataType::Float64], Volatility::Immutable),
        }
    }
}

impl PartialEq for AddOffset {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.offset.to_bits() == other.offset.to_bits()
    }
}
impl Eq for AddOffset {}
impl Hash for AddOffset {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.name.hash(h);
        self.offset.to_bits().hash(h);
    }
}

impl ScalarUDFImpl for AddOffset {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.sig
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(x) = arrays[0].as_any().downcast_ref::<Float64Array>() else {
            return exec_err!("{}: argument must be Float64", self.name);
        };
        let out: Float64Array = x.iter().map(|v| v.map(|v| v + self.offset)).collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

impl Portable for AddOffset {
    const TAG: &'static str = "test_add_offset";
    fn to_json(&self) -> Result<serde_json::Value> {
        Ok(serde_json::json!({ "name": self.name, "offset": self.offset }))
    }
    fn from_json(value: serde_json::Value) -> Result<Self> {
        let (Some(name), Some(offset)) = (value["name"].as_str(), value["offset"].as_f64()) else {
            return exec_err!("test_add_offset: bad state {value}");
        };
        Ok(Self::new(name, offset))
    }
}

const KINDS: &[ScalarKind] = &[ScalarKind::of::<AddOffset>()];

fn logical() -> ChurnwiseLogicalCodec {
    ChurnwiseLogicalCodec::new().with_kinds(KINDS, &[])
}

fn physical() -> ChurnwisePhysicalCodec {
    ChurnwisePhysicalCodec::new().with_kinds(KINDS, &[])
}

#[test]
fn portable_function_round_trips_through_both_codecs() -> Result<()> {
    let udf = ScalarUDF::new_from_impl(AddOffset::new("plus", 2.5));
    let mut logical_buf = Vec::new();
    logical().try_encode_udf(&udf, &mut logical_buf)?;
    let mut physical_buf = Vec::new();
    physical().try_encode_udf(&udf, &mut physical_buf)?;
    assert_eq!(logical_buf, physical_buf);
    assert_eq!(
        wire::split(&logical_buf).map(|(t, _)| t),
        Some("test_add_offset")
    );

    let from_logical = logical().try_decode_udf("plus", &logical_buf)?;
    let from_physical = physical().try_decode_udf("plus", &physical_buf)?;
    for decoded in [from_logical, from_physical] {
        assert_eq!(decoded.name(), "plus");
        assert_eq!(
            decoded.inner().downcast_ref::<AddOffset>(),
            udf.inner().downcast_ref()
        );
    }
    Ok(())
}

#[test]
fn decoded_functions_are_cached_by_payload() -> Result<()> {
    let codec = physical();
    let mut buf = Vec::new();
    codec.try_encode_udf(
        &ScalarUDF::new_from_impl(AddOffset::new("plus", 1.0)),
        &mut buf,
    )?;
    let first = codec.try_decode_udf("plus", &buf)?;
    let again = codec.try_decode_udf("plus", &buf)?;
    assert!(Arc::ptr_eq(&first, &again));

    let mut other = Vec::new();
    codec.try_encode_udf(
        &ScalarUDF::new_from_impl(AddOffset::new("plus", 2.0)),
        &mut other,
    )?;
    let different = codec.try_decode_udf("plus", &other)?;
    assert!(!Arc::ptr_eq(&first, &different));
    assert_eq!(
        different
            .inner()
            .downcast_ref::<AddOffset>()
            .map(|f| f.offset),
        Some(2.0)
    );
    Ok(())
}

#[test]
fn other_functions_travel_by_name() -> Result<()> {
    let abs = datafusion::functions::math::abs();
    let mut buf = Vec::new();
    logical().try_encode_udf(&abs, &mut buf)?;
    assert!(buf.is_empty());
    physical().try_encode_udf(&abs, &mut buf)?;
    assert!(buf.is_empty());
    let sum = datafusion::functions_aggregate::sum::sum_udaf();
    logical().try_encode_udaf(&sum, &mut buf)?;
    physical().try_encode_udaf(&sum, &mut buf)?;
    assert!(buf.is_empty());
    Ok(())
}

#[test]
fn unregistered_function_error_names_it() {
    let message = |e: datafusion::error::DataFusionError| e.to_string();
    let errors = [
        logical()
            .try_decode_udf("my_score", &[])
            .map(|_| ())
            .map_err(message),
        physical()
            .try_decode_udf("my_score", &[])
            .map(|_| ())
            .map_err(message),
        logical()
            .try_decode_udaf("my_score", &[])
            .map(|_| ())
            .map_err(message),
        physical()
            .try_decode_udaf("my_score", &[])
            .map(|_| ())
            .map_err(message),
    ];
    for error in errors {
        let error = error.expect_err("an empty definition cannot be decoded");
        assert!(
            error.contains("function `my_score` is not registered on this executor/scheduler"),
            "{error}"
        );
    }
}

#[test]
fn unknown_payloads_are_rejected_with_the_function_named() {
    let mut foreign = Vec::new();
    foreign.extend_from_slice(b"CW1");
    foreign.extend_from_slice(b"from_the_future\0{}");
    let error = physical()
        .try_decode_udf("plus", &foreign)
        .map(|_| ())
        .expect_err("unknown type");
    assert!(error.to_string().contains("`plus`"), "{error}");
    assert!(error.to_string().contains("`from_the_future`"), "{error}");

    let error = logical()
        .try_decode_udf("plus", b"not churnwise")
        .map(|_| ())
        .expect_err("not a payload");
    assert!(error.to_string().contains("`plus`"), "{error}");

    let error = logical()
        .try_decode_udf("plus", b"CW1test_add_offset\0{\"name\":1}")
        .map(|_| ())
        .expect_err("bad state");
    assert!(error.to_string().contains("test_add_offset"), "{error}");
}

async fn standalone_with_plus(
    logical: ChurnwiseLogicalCodec,
    physical: ChurnwisePhysicalCodec,
) -> Result<Vec<f64>> {
    use ballista::prelude::SessionContextExt;
    use ballista_core::extension::SessionConfigExt;
    use datafusion::execution::SessionStateBuilder;
    use datafusion::prelude::SessionContext;

    let config = datafusion::prelude::SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(Arc::new(logical))
        .with_ballista_physical_extension_codec(Arc::new(physical))
        .with_ballista_standalone_parallelism(1);
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .build();
    let ctx = SessionContext::standalone_with_state(state).await?;
    // Registered on the client only, after the in-process cluster started.
    ctx.register_udf(ScalarUDF::new_from_impl(AddOffset::new("plus", 0.5)));
    let batches = ctx
        .sql("SELECT plus(CAST(column1 AS DOUBLE)) AS y FROM (VALUES (1), (2), (3)) ORDER BY y")
        .await?
        .collect()
        .await?;
    Ok(batches
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Float64Array>()
                .map(|a| a.values().to_vec())
                .unwrap_or_default()
        })
        .collect())
}

/// The fitted state really travels: the function is registered on the
/// client only, yet the query runs on the cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_travels_to_a_standalone_cluster_that_lacks_it() -> Result<()> {
    assert_eq!(
        standalone_with_plus(logical(), physical()).await?,
        vec![1.5, 2.5, 3.5]
    );
    Ok(())
}

/// The control: a codec that does not know the type sends the name only,
/// and the scheduler reports the missing function by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_unknown_to_the_codec_is_reported_missing() {
    let error = standalone_with_plus(ChurnwiseLogicalCodec::new(), ChurnwisePhysicalCodec::new())
        .await
        .expect_err("the cluster does not have `plus`")
        .to_string();
    assert!(
        error.contains("function `plus` is not registered on this executor/scheduler"),
        "{error}"
    );
}

/// Every churnwise function type, fitted on a small synthetic shop.
fn every_churnwise_function()
-> std::result::Result<(Vec<ScalarUDF>, Vec<AggregateUDF>), Box<dyn std::error::Error>> {
    use chrono::{TimeZone, Utc};
    use churnwise::alert::AlertPolicy;
    use churnwise::clv::{BetaGeo, Calibration, Clv, GammaGamma};
    use churnwise::features::{ChurnLabeler, FeatureSpec, Snapshot};
    use churnwise::model::LogisticRegression;
    use churnwise::score::ChurnScorer;
    use churnwise::segment::{LifecyclePolicy, Rfm};
    use churnwise::synth::PopulationConfig;

    let (history, _) = PopulationConfig::default()
        .customers(300)
        .seed(3)
        .generate()?
        .history_builder()
        .build()?;
    let date = |m| {
        Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0)
            .single()
            .ok_or("date")
    };
    let snapshot = Snapshot::new(date(10)?);
    let spec = FeatureSpec::rfm();
    let train =
        ChurnLabeler::new().training_set(&history, &spec, &snapshot, &[date(4)?, date(6)?])?;
    let scorer = ChurnScorer::new(LogisticRegression::new().fit(&train)?, &snapshot)?;
    let table = FeatureSpec::all().extract(&history, &snapshot)?;
    let calibration = Calibration::new(date(10)?);
    let summary = calibration.summarize(&history)?;
    let functions = crate::ChurnwiseFunctions::new()
        .scorer(scorer)
        .rfm(Rfm::new().fit(&table)?)
        .lifecycle(LifecyclePolicy::default())
        .beta_geo(BetaGeo::new().fit(&summary)?)
        .gamma_gamma(GammaGamma::new().fit(&summary)?)
        .clv(Clv::new(30.0, 12))
        .alerts(AlertPolicy::default_policy())
        .features(spec.clone(), snapshot.clone());
    let scalar = functions.scalar_udfs()?;
    let aggregate = vec![
        AggregateUDF::new_from_impl(crate::aggregate::ChurnFeatures::new(&spec, &snapshot)?),
        AggregateUDF::new_from_impl(crate::aggregate::RfmSummary::new(calibration)),
    ];
    Ok((scalar, aggregate))
}

#[test]
fn every_churnwise_function_round_trips_through_both_codecs()
-> std::result::Result<(), Box<dyn std::error::Error>> {
    let (scalar, aggregate) = every_churnwise_function()?;
    let mut names: Vec<&str> = scalar.iter().map(|f| f.name()).collect();
    names.extend(aggregate.iter().map(|f| f.name()));
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "churn_alerts",
            "churn_features",
            "churn_score",
            "clv",
            "expected_purchases",
            "lifecycle_stage",
            "p_alive",
            "rfm_segment",
            "rfm_summary",
        ]
    );
    let (logical, physical) = (ChurnwiseLogicalCodec::new(), ChurnwisePhysicalCodec::new());
    for f in &scalar {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        logical.try_encode_udf(f, &mut a)?;
        physical.try_encode_udf(f, &mut b)?;
        assert_eq!(wire::split(&a).map(|(tag, _)| tag), Some(f.name()));
        assert_eq!(a, b);
        assert_eq!(&*logical.try_decode_udf(f.name(), &a)?, f, "{}", f.name());
        assert_eq!(&*physical.try_decode_udf(f.name(), &b)?, f, "{}", f.name());
    }
    for f in &aggregate {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        logical.try_encode_udaf(f, &mut a)?;
        physical.try_encode_udaf(f, &mut b)?;
        assert_eq!(wire::split(&a).map(|(tag, _)| tag), Some(f.name()));
        assert_eq!(a, b);
        assert_eq!(&*logical.try_decode_udaf(f.name(), &a)?, f, "{}", f.name());
        assert_eq!(&*physical.try_decode_udaf(f.name(), &b)?, f, "{}", f.name());
    }
    Ok(())
}
