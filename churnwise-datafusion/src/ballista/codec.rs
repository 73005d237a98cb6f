//! The logical and physical extension codecs: Ballista's own codecs, plus
//! churnwise's functions with their fitted state.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{Result, TableReference, exec_err, plan_err};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{
    AggregateUDF, AggregateUDFImpl, Extension, HigherOrderUDF, LogicalPlan, ScalarUDF,
    ScalarUDFImpl, WindowUDF,
};
use datafusion::physical_expr_common::physical_expr::proto_decode::PhysicalExprDecodeCtx;
use datafusion::physical_expr_common::physical_expr::proto_encode::PhysicalExprEncodeCtx;
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use crate::aggregate::{ChurnFeatures, RfmSummary};
use crate::scalar::{
    ChurnAlerts, ChurnScore, ClvUdf, ExpectedPurchases, LifecycleStageUdf, PAlive, RfmSegmentUdf,
};
use crate::wire::{self, Portable};

/// How many decoded functions of each kind a codec keeps (per codec).
const CACHE_CAPACITY: usize = 256;

/// Encodes and decodes one portable scalar function type.
#[derive(Clone, Copy)]
pub(crate) struct ScalarKind {
    tag: &'static str,
    encode: fn(&ScalarUDF, &mut Vec<u8>) -> Option<Result<()>>,
    decode: fn(&str, &[u8]) -> Result<Arc<ScalarUDF>>,
}

impl ScalarKind {
    /// The kind of `T`.
    pub(crate) const fn of<T: ScalarUDFImpl + Portable>() -> Self {
        Self {
            tag: T::TAG,
            encode: |udf, buf| {
                udf.inner()
                    .downcast_ref::<T>()
                    .map(|f| wire::encode(f, buf))
            },
            decode: |name, json| {
                Ok(Arc::new(ScalarUDF::new_from_impl(wire::decode::<T>(
                    name, json,
                )?)))
            },
        }
    }
}

/// Encodes and decodes one portable aggregate function type.
#[derive(Clone, Copy)]
pub(crate) struct AggregateKind {
    tag: &'static str,
    encode: fn(&AggregateUDF, &mut Vec<u8>) -> Option<Result<()>>,
    decode: fn(&str, &[u8]) -> Result<Arc<AggregateUDF>>,
}

impl AggregateKind {
    /// The kind of `T`.
    pub(crate) const fn of<T: AggregateUDFImpl + Portable>() -> Self {
        Self {
            tag: T::TAG,
            encode: |udaf, buf| {
                udaf.inner()
                    .downcast_ref::<T>()
                    .map(|f| wire::encode(f, buf))
            },
            decode: |name, json| {
                Ok(Arc::new(AggregateUDF::new_from_impl(wire::decode::<T>(
                    name, json,
                )?)))
            },
        }
    }
}

/// churnwise's scalar function types whose fitted state travels in a plan.
const SCALAR_KINDS: &[ScalarKind] = &[
    ScalarKind::of::<ChurnScore>(),
    ScalarKind::of::<RfmSegmentUdf>(),
    ScalarKind::of::<LifecycleStageUdf>(),
    ScalarKind::of::<PAlive>(),
    ScalarKind::of::<ExpectedPurchases>(),
    ScalarKind::of::<ClvUdf>(),
    ScalarKind::of::<ChurnAlerts>(),
];

/// churnwise's aggregate function types whose fitted state travels in a plan.
const AGGREGATE_KINDS: &[AggregateKind] = &[
    AggregateKind::of::<ChurnFeatures>(),
    AggregateKind::of::<RfmSummary>(),
];

/// Decoded functions by (name, payload), so an executor that decodes the
/// same plan for every task parses each model once.
struct Cache<T> {
    entries: Mutex<Entries<T>>,
}

/// Decoded functions by name and payload.
type Entries<T> = HashMap<(String, Vec<u8>), Arc<T>>;

impl<T> Default for Cache<T> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> Cache<T> {
    fn get_or_decode(
        &self,
        name: &str,
        buf: &[u8],
        decode: impl FnOnce() -> Result<Arc<T>>,
    ) -> Result<Arc<T>> {
        let key = (name.to_owned(), buf.to_vec());
        if let Ok(entries) = self.entries.lock()
            && let Some(found) = entries.get(&key)
        {
            return Ok(Arc::clone(found));
        }
        let decoded = decode()?;
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(key, Arc::clone(&decoded));
        }
        Ok(decoded)
    }

    fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

/// The churnwise part shared by both codecs: function payloads and the cache.
#[derive(Default)]
struct Functions {
    scalar_kinds: Vec<ScalarKind>,
    aggregate_kinds: Vec<AggregateKind>,
    scalars: Cache<ScalarUDF>,
    aggregates: Cache<AggregateUDF>,
}

impl Functions {
    fn new() -> Self {
        Self {
            scalar_kinds: SCALAR_KINDS.to_vec(),
            aggregate_kinds: AGGREGATE_KINDS.to_vec(),
            ..Self::default()
        }
    }

    /// Writes the payload of a churnwise scalar function; leaves `buf` empty
    /// for any other function (looked up by name on the receiving side).
    fn encode_udf(&self, udf: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        for kind in &self.scalar_kinds {
            if let Some(done) = (kind.encode)(udf, buf) {
                return done;
            }
        }
        Ok(())
    }

    fn encode_udaf(&self, udaf: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        for kind in &self.aggregate_kinds {
            if let Some(done) = (kind.encode)(udaf, buf) {
                return done;
            }
        }
        Ok(())
    }

    fn decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        let (tag, json) = payload(name, buf, "scalar")?;
        let Some(kind) = self.scalar_kinds.iter().find(|k| k.tag == tag) else {
            return unknown_tag(name, tag, "scalar");
        };
        self.scalars
            .get_or_decode(name, buf, || (kind.decode)(name, json))
    }

    fn decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        let (tag, json) = payload(name, buf, "aggregate")?;
        let Some(kind) = self.aggregate_kinds.iter().find(|k| k.tag == tag) else {
            return unknown_tag(name, tag, "aggregate");
        };
        self.aggregates
            .get_or_decode(name, buf, || (kind.decode)(name, json))
    }
}

impl fmt::Debug for Functions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Functions")
            .field(
                "scalar_kinds",
                &self.scalar_kinds.iter().map(|k| k.tag).collect::<Vec<_>>(),
            )
            .field(
                "aggregate_kinds",
                &self
                    .aggregate_kinds
                    .iter()
                    .map(|k| k.tag)
                    .collect::<Vec<_>>(),
            )
            .field("cached_scalars", &self.scalars.len())
            .field("cached_aggregates", &self.aggregates.len())
            .finish()
    }
}

/// The tag and JSON of a churnwise payload; an empty buffer means the plan
/// named a function that the receiving process does not have.
fn payload<'a>(name: &str, buf: &'a [u8], kind: &str) -> Result<(&'a str, &'a [u8])> {
    if buf.is_empty() {
        return plan_err!(
            "{kind} function `{name}` is not registered on this executor/scheduler: \
             the plan names it without a definition, so every Ballista process must \
             register it (churnwise-ballista --functions bundle.json, or \
             `override_function_registry` / `override_session_builder`)"
        );
    }
    match wire::split(buf) {
        Some(parts) => Ok(parts),
        None => exec_err!(
            "{kind} function `{name}` arrived with a definition that is not a churnwise \
             payload ({} bytes); its codec is not churnwise's",
            buf.len()
        ),
    }
}

fn unknown_tag<T>(name: &str, tag: &str, kind: &str) -> Result<T> {
    exec_err!(
        "{kind} function `{name}` arrived as churnwise function type `{tag}`, which this \
         process does not know: run the same churnwise-datafusion version on the client, \
         the scheduler and every executor"
    )
}

/// Ballista's logical extension codec, plus churnwise's functions with their
/// fitted models.
///
/// Ballista does not ship function code: a plan names its functions, and the
/// scheduler and executors look the names up when they decode it. This codec
/// writes the fitted state (model, policy, feature spec) of every churnwise
/// function into the plan, and rebuilds the function from it on the other
/// side, so the executors need no copy of the models. Any other function
/// travels by name, as before.
///
/// Everything else (Ballista's own plan nodes, tables, file formats for
/// `COPY ... TO`) is forwarded to [`BallistaLogicalExtensionCodec`]. Set it on
/// the client ([`super::session_config`] does), the scheduler and every
/// executor (the `churnwise-ballista` binary does).
///
/// # Errors
///
/// Decoding a function that arrived without a definition (a name only) fails
/// with "function `x` is not registered on this executor/scheduler", since
/// DataFusion asks the codec only after the process's own registry failed.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use ballista_core::extension::SessionConfigExt;
/// use churnwise_datafusion::ballista::ChurnwiseLogicalCodec;
/// use datafusion::prelude::SessionConfig;
///
/// let config = SessionConfig::new_with_ballista()
///     .with_ballista_logical_extension_codec(Arc::new(ChurnwiseLogicalCodec::new()));
/// # let _ = config;
/// ```
#[derive(Debug)]
pub struct ChurnwiseLogicalCodec {
    inner: BallistaLogicalExtensionCodec,
    functions: Functions,
}

impl ChurnwiseLogicalCodec {
    /// A codec wrapping Ballista's default logical codec.
    pub fn new() -> Self {
        Self {
            inner: BallistaLogicalExtensionCodec::default(),
            functions: Functions::new(),
        }
    }

    #[cfg(test)]
    pub(crate) fn with_kinds(mut self, scalar: &[ScalarKind], aggregate: &[AggregateKind]) -> Self {
        self.functions.scalar_kinds.extend_from_slice(scalar);
        self.functions.aggregate_kinds.extend_from_slice(aggregate);
        self
    }
}

impl Default for ChurnwiseLogicalCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl LogicalExtensionCodec for ChurnwiseLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.inner
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        self.functions.decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.functions.encode_udf(node, buf)?;
        if buf.is_empty() {
            self.inner.try_encode_udf(node, buf)?;
        }
        Ok(())
    }

    fn try_decode_higher_order_function(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<HigherOrderUDF>> {
        self.inner.try_decode_higher_order_function(name, buf)
    }

    fn try_encode_higher_order_function(
        &self,
        node: &HigherOrderUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_higher_order_function(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.functions.decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.functions.encode_udaf(node, buf)?;
        if buf.is_empty() {
            self.inner.try_encode_udaf(node, buf)?;
        }
        Ok(())
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.inner.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udwf(node, buf)
    }
}

/// Ballista's physical extension codec, plus churnwise's functions with their
/// fitted models.
///
/// The physical twin of [`ChurnwiseLogicalCodec`]: the scheduler encodes each
/// stage's physical plan with it and the executors decode it, so a churnwise
/// function reaches every task with its model. Ballista's own nodes (shuffle
/// readers and writers, ...) are forwarded to
/// [`BallistaPhysicalExtensionCodec`].
///
/// # Errors
///
/// As for [`ChurnwiseLogicalCodec`]: a function that arrived by name only and
/// is not registered on the decoding process fails with an error naming it.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use ballista_core::extension::SessionConfigExt;
/// use churnwise_datafusion::ballista::ChurnwisePhysicalCodec;
/// use datafusion::prelude::SessionConfig;
///
/// let config = SessionConfig::new_with_ballista()
///     .with_ballista_physical_extension_codec(Arc::new(ChurnwisePhysicalCodec::new()));
/// # let _ = config;
/// ```
#[derive(Debug)]
pub struct ChurnwisePhysicalCodec {
    inner: BallistaPhysicalExtensionCodec,
    functions: Functions,
}

impl ChurnwisePhysicalCodec {
    /// A codec wrapping Ballista's default physical codec.
    pub fn new() -> Self {
        Self {
            inner: BallistaPhysicalExtensionCodec::default(),
            functions: Functions::new(),
        }
    }

    #[cfg(test)]
    pub(crate) fn with_kinds(mut self, scalar: &[ScalarKind], aggregate: &[AggregateKind]) -> Self {
        self.functions.scalar_kinds.extend_from_slice(scalar);
        self.functions.aggregate_kinds.extend_from_slice(aggregate);
        self
    }
}

impl Default for ChurnwisePhysicalCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl PhysicalExtensionCodec for ChurnwisePhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.inner.try_encode(node, buf, proto_converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        self.functions.decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.functions.encode_udf(node, buf)?;
        if buf.is_empty() {
            self.inner.try_encode_udf(node, buf)?;
        }
        Ok(())
    }

    fn try_decode_higher_order_function(
        &self,
        name: &str,
        buf: &[u8],
    ) -> Result<Arc<HigherOrderUDF>> {
        self.inner.try_decode_higher_order_function(name, buf)
    }

    fn try_encode_higher_order_function(
        &self,
        node: &HigherOrderUDF,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_higher_order_function(node, buf)
    }

    fn try_decode_expr(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn PhysicalExpr>],
        ctx: &PhysicalExprDecodeCtx<'_>,
    ) -> Result<Arc<dyn PhysicalExpr>> {
        self.inner.try_decode_expr(buf, inputs, ctx)
    }

    fn try_encode_expr(
        &self,
        node: &Arc<dyn PhysicalExpr>,
        buf: &mut Vec<u8>,
        ctx: &PhysicalExprEncodeCtx<'_>,
    ) -> Result<()> {
        self.inner.try_encode_expr(node, buf, ctx)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.functions.decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.functions.encode_udaf(node, buf)?;
        if buf.is_empty() {
            self.inner.try_encode_udaf(node, buf)?;
        }
        Ok(())
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.inner.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode_udwf(node, buf)
    }
}
