//! [`ChurnwiseFunctions`]: the fitted objects behind churnwise's SQL
//! functions, as one bundle that registers them and ships as one file.

use std::path::Path;

use churnwise::alert::AlertPolicy;
use churnwise::clv::{Calibration, Clv, FittedBetaGeo, FittedGammaGamma};
use churnwise::features::{FeatureSpec, Snapshot};
use churnwise::score::ChurnScorer;
use churnwise::segment::{FittedRfm, LifecyclePolicy};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::FunctionRegistry;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

use crate::aggregate::{ChurnFeatures, RfmSummary};
use crate::scalar::{
    ChurnAlerts, ChurnScore, ClvUdf, ExpectedPurchases, LifecycleStageUdf, PAlive, RfmSegmentUdf,
};

/// The fitted objects behind churnwise's SQL functions, each optional; a
/// function is registered only when its objects are present.
///
/// | object | setter | functions |
/// |---|---|---|
/// | [`ChurnScorer`] | [`scorer`](Self::scorer) | `churn_score` |
/// | [`FittedRfm`] | [`rfm`](Self::rfm) | `rfm_segment` |
/// | [`LifecyclePolicy`] | [`lifecycle`](Self::lifecycle) | `lifecycle_stage` |
/// | [`FittedBetaGeo`] | [`beta_geo`](Self::beta_geo) | `p_alive`, `expected_purchases` |
/// | + [`FittedGammaGamma`] and [`Clv`] settings | [`gamma_gamma`](Self::gamma_gamma), [`clv`](Self::clv) | `clv` |
/// | [`AlertPolicy`] | [`alerts`](Self::alerts) | `churn_alerts` |
/// | [`FeatureSpec`] + [`Snapshot`] | [`features`](Self::features) | the aggregate `churn_features` |
/// | [`Calibration`] | [`calibration`](Self::calibration) | the aggregate `rfm_summary` |
///
/// The bundle is serde data: [`to_json`](Self::to_json) /
/// [`from_json`](Self::from_json) and [`save`](Self::save) /
/// [`load`](Self::load) move it as one JSON file, so a client, a Ballista
/// scheduler and its executors register the same functions. Loading
/// validates every object as the core's own loaders do.
///
/// # Example
///
/// ```
/// use churnwise::segment::LifecyclePolicy;
/// use churnwise_datafusion::ChurnwiseFunctions;
/// use datafusion::execution::FunctionRegistry; // for ctx.udf(..)
/// use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let (_, scorer) = churnwise::doc_support::small_scorer()?;
/// let functions = ChurnwiseFunctions::new()
///     .scorer(scorer)
///     .lifecycle(LifecyclePolicy::default());
/// let ctx = SessionContext::new();
/// functions.register(&ctx)?;
/// assert!(ctx.udf("churn_score").is_ok() && ctx.udf("lifecycle_stage").is_ok());
/// assert!(ctx.udf("p_alive").is_err()); // no BG/NBD model in the bundle
/// // One JSON file carries the bundle.
/// assert_eq!(ChurnwiseFunctions::from_json(&functions.to_json()?)?, functions);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ChurnwiseFunctions {
    scorer: Option<ChurnScorer>,
    rfm: Option<FittedRfm>,
    lifecycle: Option<LifecyclePolicy>,
    beta_geo: Option<FittedBetaGeo>,
    gamma_gamma: Option<FittedGammaGamma>,
    clv: Option<Clv>,
    alerts: Option<AlertPolicy>,
    features: Option<Features>,
    calibration: Option<Calibration>,
}

/// The feature spec and snapshot the aggregates compute with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Features {
    spec: FeatureSpec,
    snapshot: Snapshot,
}

/// A churnwise error as a DataFusion error, with its message.
fn external(what: &str, e: churnwise::Error) -> DataFusionError {
    DataFusionError::Configuration(format!("churnwise functions: {what}: {e}"))
}

impl ChurnwiseFunctions {
    /// An empty bundle (registers nothing).
    pub fn new() -> Self {
        ChurnwiseFunctions::default()
    }

    /// The churn scorer for `churn_score`. Defaults to none.
    pub fn scorer(mut self, scorer: ChurnScorer) -> Self {
        self.scorer = Some(scorer);
        self
    }

    /// The fitted RFM for `rfm_segment`. Defaults to none.
    pub fn rfm(mut self, rfm: FittedRfm) -> Self {
        self.rfm = Some(rfm);
        self
    }

    /// The lifecycle policy for `lifecycle_stage`. Defaults to none.
    pub fn lifecycle(mut self, policy: LifecyclePolicy) -> Self {
        self.lifecycle = Some(policy);
        self
    }

    /// The BG/NBD model for `p_alive`, `expected_purchases` (and `clv`). Defaults to none.
    pub fn beta_geo(mut self, model: FittedBetaGeo) -> Self {
        self.beta_geo = Some(model);
        self
    }

    /// The Gamma-Gamma spend model for `clv`. Defaults to none.
    pub fn gamma_gamma(mut self, model: FittedGammaGamma) -> Self {
        self.gamma_gamma = Some(model);
        self
    }

    /// The CLV settings (period length in the BG/NBD model's time unit,
    /// periods, discount rate) for `clv`. Defaults to none.
    pub fn clv(mut self, settings: Clv) -> Self {
        self.clv = Some(settings);
        self
    }

    /// The alert policy for `churn_alerts`. Defaults to none.
    pub fn alerts(mut self, policy: AlertPolicy) -> Self {
        self.alerts = Some(policy);
        self
    }

    /// The feature spec and snapshot (as-of time, windows) for the
    /// aggregates. Defaults to none.
    pub fn features(mut self, spec: FeatureSpec, snapshot: Snapshot) -> Self {
        self.features = Some(Features { spec, snapshot });
        self
    }

    /// The calibration period (end, time unit, holdout) for the aggregate
    /// `rfm_summary`, whose output feeds `p_alive`, `expected_purchases` and
    /// `clv`. Defaults to none.
    pub fn calibration(mut self, calibration: Calibration) -> Self {
        self.calibration = Some(calibration);
        self
    }

    /// The scorer, if set.
    pub fn scorer_value(&self) -> Option<&ChurnScorer> {
        self.scorer.as_ref()
    }

    /// The fitted RFM, if set.
    pub fn rfm_value(&self) -> Option<&FittedRfm> {
        self.rfm.as_ref()
    }

    /// The lifecycle policy, if set.
    pub fn lifecycle_value(&self) -> Option<&LifecyclePolicy> {
        self.lifecycle.as_ref()
    }

    /// The BG/NBD model, if set.
    pub fn beta_geo_value(&self) -> Option<&FittedBetaGeo> {
        self.beta_geo.as_ref()
    }

    /// The Gamma-Gamma model, if set.
    pub fn gamma_gamma_value(&self) -> Option<&FittedGammaGamma> {
        self.gamma_gamma.as_ref()
    }

    /// The CLV settings, if set.
    pub fn clv_value(&self) -> Option<&Clv> {
        self.clv.as_ref()
    }

    /// The alert policy, if set.
    pub fn alerts_value(&self) -> Option<&AlertPolicy> {
        self.alerts.as_ref()
    }

    /// The feature spec and snapshot, if set.
    pub fn features_value(&self) -> Option<(&FeatureSpec, &Snapshot)> {
        self.features.as_ref().map(|f| (&f.spec, &f.snapshot))
    }

    /// The calibration period, if set.
    pub fn calibration_value(&self) -> Option<&Calibration> {
        self.calibration.as_ref()
    }

    /// Checks every object present, as the core's loaders do, and that
    /// `clv`'s three objects come together.
    ///
    /// # Errors
    ///
    /// A [`DataFusionError::Configuration`] naming the object and the
    /// problem (a scorer of another schema version, invalid RFM edges,
    /// thresholds, model parameters or CLV settings, an invalid alert
    /// policy or one reading fields no column can set, an invalid
    /// snapshot or feature spec, a Gamma-Gamma model or CLV settings
    /// without the other `clv` objects).
    pub fn validate(&self) -> Result<()> {
        self.scalar_udfs()?;
        if let Some(Features { spec, snapshot }) = &self.features {
            snapshot.validate().map_err(|e| external("snapshot", e))?;
            spec.resolve(snapshot)
                .map_err(|e| external("features", e))?;
        }
        let clv_parts = [
            self.beta_geo.is_some(),
            self.gamma_gamma.is_some(),
            self.clv.is_some(),
        ];
        if (self.gamma_gamma.is_some() || self.clv.is_some()) && clv_parts.contains(&false) {
            return Err(DataFusionError::Configuration(
                "churnwise functions: `clv` needs beta_geo, gamma_gamma and clv settings together; \
                 set the missing ones or remove gamma_gamma and clv"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The scalar functions of the objects present.
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate) for the scalar functions' objects.
    pub fn scalar_udfs(&self) -> Result<Vec<ScalarUDF>> {
        let mut out = Vec::new();
        if let Some(s) = &self.scorer {
            // A scorer built in memory passes the checks a loaded one does.
            let s = ChurnScorer::from_json(&s.to_json().map_err(|e| external("scorer", e))?)
                .map_err(|e| external("scorer", e))?;
            out.push(ScalarUDF::new_from_impl(ChurnScore::new(s)?));
        }
        if let Some(rfm) = &self.rfm {
            let checked = FittedRfm::from_edges(
                rfm.params().clone(),
                rfm.recency_edges(),
                rfm.frequency_edges(),
                rfm.monetary_edges(),
            )
            .map_err(|e| external("rfm", e))?;
            out.push(ScalarUDF::new_from_impl(RfmSegmentUdf::new(checked)?));
        }
        if let Some(p) = &self.lifecycle {
            p.validate().map_err(|e| external("lifecycle", e))?;
            out.push(ScalarUDF::new_from_impl(LifecycleStageUdf::new(p.clone())?));
        }
        if let Some(bg) = &self.beta_geo {
            out.push(ScalarUDF::new_from_impl(PAlive::new(bg.clone())?));
            out.push(ScalarUDF::new_from_impl(ExpectedPurchases::new(
                bg.clone(),
            )?));
            if let (Some(gg), Some(clv)) = (&self.gamma_gamma, &self.clv) {
                out.push(ScalarUDF::new_from_impl(ClvUdf::new(
                    bg.clone(),
                    gg.clone(),
                    clv.clone(),
                )?));
            }
        }
        if let Some(p) = &self.alerts {
            out.push(ScalarUDF::new_from_impl(ChurnAlerts::new(p.clone())?));
        }
        Ok(out)
    }

    /// The aggregate functions: `churn_features` when the feature spec and
    /// snapshot are set, `rfm_summary` when the calibration is.
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate) for the snapshot and spec (an
    /// invalid snapshot, a feature the snapshot's windows cannot compute).
    pub fn aggregate_udfs(&self) -> Result<Vec<AggregateUDF>> {
        let mut out = Vec::new();
        if let Some(Features { spec, snapshot }) = &self.features {
            snapshot.validate().map_err(|e| external("snapshot", e))?;
            let f = ChurnFeatures::new(spec, snapshot).map_err(|e| external("features", e))?;
            out.push(AggregateUDF::new_from_impl(f));
        }
        if let Some(c) = &self.calibration {
            out.push(AggregateUDF::new_from_impl(RfmSummary::new(c.clone())));
        }
        Ok(out)
    }

    /// Registers every function of the bundle on `ctx` (replacing functions
    /// of the same names).
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate).
    pub fn register(&self, ctx: &SessionContext) -> Result<()> {
        self.validate()?;
        for f in self.scalar_udfs()? {
            ctx.register_udf(f);
        }
        for f in self.aggregate_udfs()? {
            ctx.register_udaf(f);
        }
        Ok(())
    }

    /// Registers every function of the bundle on a session state (for a
    /// state built before its context, as Ballista's standalone mode and
    /// scheduler sessions are).
    ///
    /// # Errors
    ///
    /// As for [`validate`](Self::validate).
    pub fn register_state(&self, state: &mut SessionState) -> Result<()> {
        self.validate()?;
        for f in self.scalar_udfs()? {
            state.register_udf(std::sync::Arc::new(f))?;
        }
        for f in self.aggregate_udfs()? {
            state.register_udaf(std::sync::Arc::new(f))?;
        }
        Ok(())
    }

    /// The bundle as JSON.
    ///
    /// # Errors
    ///
    /// A [`DataFusionError::Configuration`] if an object cannot be written
    /// (a non-finite number).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| {
            DataFusionError::Configuration(format!("churnwise functions: cannot write JSON: {e}"))
        })
    }

    /// Loads a bundle written by [`to_json`](Self::to_json) and
    /// [validates](Self::validate) it.
    ///
    /// # Errors
    ///
    /// A [`DataFusionError::Configuration`] for text that is not a bundle
    /// (naming the JSON error: an unknown key, a wrong shape) or that does
    /// not validate.
    pub fn from_json(json: &str) -> Result<Self> {
        let bundle: ChurnwiseFunctions = serde_json::from_str(json).map_err(|e| {
            DataFusionError::Configuration(format!("churnwise functions: invalid JSON bundle: {e}"))
        })?;
        bundle.validate()?;
        Ok(bundle)
    }

    /// Saves the bundle as JSON to `path`.
    ///
    /// # Errors
    ///
    /// As for [`to_json`](Self::to_json); an I/O error naming the file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json()?).map_err(|e| {
            DataFusionError::Configuration(format!(
                "churnwise functions: cannot write {}: {e}",
                path.display()
            ))
        })
    }

    /// Loads a bundle saved with [`save`](Self::save).
    ///
    /// # Errors
    ///
    /// An I/O error naming the file; otherwise as [`from_json`](Self::from_json).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            DataFusionError::Configuration(format!(
                "churnwise functions: cannot read {}: {e}",
                path.display()
            ))
        })?;
        Self::from_json(&text)
            .map_err(|e| DataFusionError::Configuration(format!("{}: {e}", path.display())))
    }
}
