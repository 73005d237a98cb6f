//! `p_alive`, `expected_purchases` and `clv`: BG/NBD and Gamma-Gamma as
//! SQL functions.

use std::sync::Arc;

use churnwise::clv::{Clv, FittedBetaGeo, FittedGammaGamma, SummaryRow};
use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, exec_err};
use serde::{Deserialize, Serialize};

use super::args::{Arg, Input, Layout, Matching};
use super::{Kernel, Shared, build_error, exec_error, json_error, scalar_udf};

/// The summary rows of a batch: frequency, recency, T (and monetary).
fn rows(function: &str, args: &[Option<Arg>], monetary: bool) -> Result<Vec<SummaryRow>> {
    let get = |i: usize| -> Result<std::borrow::Cow<'_, [f64]>> {
        match &args[i] {
            Some(a) => a.numbers(function),
            None => Err(DataFusionError::Internal(format!(
                "{function}: arguments not bound"
            ))),
        }
    };
    let (x, t_x, t) = (get(0)?, get(1)?, get(2)?);
    let m = if monetary { Some(get(3)?) } else { None };
    (0..x.len())
        .map(|i| {
            let frequency = x[i];
            if !(frequency >= 0.0 && frequency <= f64::from(u32::MAX) && frequency.fract() == 0.0) {
                return exec_err!(
                    "{function}: frequency {frequency} at row {i} of the batch is not a whole number of repeat purchases"
                );
            }
            let row = SummaryRow::new(frequency as u32, t_x[i], t[i])
                .map_err(|e| DataFusionError::Execution(format!("{function}: row {i} of the batch: {e}")))?;
            match &m {
                Some(m) => row.with_monetary(m[i]).map_err(|e| {
                    DataFusionError::Execution(format!("{function}: row {i} of the batch: {e}"))
                }),
                None => Ok(row),
            }
        })
        .collect()
}

fn layout(function: &'static str, names: &[&str]) -> Layout {
    Layout {
        function,
        noun: "argument",
        inputs: names.iter().map(|n| Input::number(*n)).collect(),
        matching: Matching::ByPosition,
    }
}

fn check_finite(function: &str, what: &str, row: usize, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        exec_err!("{function}: {what} at row {row} of the batch is not finite ({v})")
    }
}

/// `p_alive(frequency, recency, T) → Float64`: the probability that a
/// customer is still alive at the end of calibration, from a fitted BG/NBD
/// (or MBG/NBD), equal to [`FittedBetaGeo::p_alive`] (and so to
/// [`p_alive_all`](FittedBetaGeo::p_alive_all)).
///
/// # SQL
///
/// ```sql
/// p_alive(frequency, recency, T)  -- by position, in the model's time unit
/// ```
///
/// `frequency`: repeat purchases (a whole number ≥ 0); `recency`: time of
/// the last repeat purchase since the first; `T`: the customer's age since
/// the first purchase; recency and T in the model's
/// [`unit`](FittedBetaGeo::unit) (days or weeks), as a
/// [`CalibrationSummary`](churnwise::clv::CalibrationSummary) holds them.
///
/// # Errors
///
/// A plan error for another number of arguments or a non-numeric one; an
/// execution error naming the row for a null, a fractional frequency, or a
/// row the core refuses (recency above T, recency ≠ 0 without repeats).
#[derive(Debug, Clone)]
pub struct PAlive {
    model: Arc<FittedBetaGeo>,
    shared: Shared,
}

impl PAlive {
    /// The SQL name, `p_alive`.
    pub const NAME: &'static str = "p_alive";

    /// The function for `model`.
    ///
    /// # Errors
    ///
    /// A plan error if the model's parameters are invalid.
    pub fn new(model: FittedBetaGeo) -> Result<Self> {
        let model = checked(Self::NAME, model)?;
        let json = serde_json::to_string(&model).map_err(|e| json_error(Self::NAME, e))?;
        Ok(PAlive {
            model: Arc::new(model),
            shared: Shared::new(layout(Self::NAME, &["frequency", "recency", "T"]), json),
        })
    }

    /// The model.
    pub fn model(&self) -> &FittedBetaGeo {
        &self.model
    }
}

/// A deserialized model, checked as [`FittedBetaGeo::new`] checks.
fn checked(function: &str, m: FittedBetaGeo) -> Result<FittedBetaGeo> {
    FittedBetaGeo::new(m.variant(), m.r(), m.alpha(), m.a(), m.b(), m.unit())
        .map_err(|e| build_error(function, e))?;
    Ok(m)
}

impl Kernel for PAlive {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn with_shared(&self, shared: Shared) -> Self {
        PAlive {
            model: Arc::clone(&self.model),
            shared,
        }
    }

    fn return_type(&self) -> DataType {
        DataType::Float64
    }

    fn eval(&self, args: Vec<Option<Arg>>, _rows: usize) -> Result<ArrayRef> {
        let rows = rows(Self::NAME, &args, false)?;
        let p: Vec<f64> = rows.iter().map(|r| self.model.p_alive(r)).collect();
        for (i, &v) in p.iter().enumerate() {
            check_finite(Self::NAME, "P(alive)", i, v)?;
        }
        Ok(Arc::new(Float64Array::from(p)))
    }
}

scalar_udf!(PAlive, "p_alive", |state: serde_json::Value| {
    let m: FittedBetaGeo =
        serde_json::from_value(state).map_err(|e| json_error(PAlive::NAME, e))?;
    PAlive::new(m)
});

/// `expected_purchases(frequency, recency, T, horizon) → Float64`: the
/// expected number of purchases in the next `horizon` time units given the
/// customer's history, equal to
/// [`FittedBetaGeo::conditional_expected_purchases`].
///
/// # SQL
///
/// ```sql
/// expected_purchases(frequency, recency, T, horizon)  -- by position, in the model's time unit
/// ```
///
/// Arguments as for [`PAlive`], and `horizon` (a column or a constant such
/// as `52.0`) in the model's time unit.
///
/// # Errors
///
/// As for [`PAlive`], and for a horizon the core refuses (negative).
#[derive(Debug, Clone)]
pub struct ExpectedPurchases {
    model: Arc<FittedBetaGeo>,
    shared: Shared,
}

impl ExpectedPurchases {
    /// The SQL name, `expected_purchases`.
    pub const NAME: &'static str = "expected_purchases";

    /// The function for `model`.
    ///
    /// # Errors
    ///
    /// A plan error if the model's parameters are invalid.
    pub fn new(model: FittedBetaGeo) -> Result<Self> {
        let model = checked(Self::NAME, model)?;
        let json = serde_json::to_string(&model).map_err(|e| json_error(Self::NAME, e))?;
        Ok(ExpectedPurchases {
            model: Arc::new(model),
            shared: Shared::new(
                layout(Self::NAME, &["frequency", "recency", "T", "horizon"]),
                json,
            ),
        })
    }

    /// The model.
    pub fn model(&self) -> &FittedBetaGeo {
        &self.model
    }
}

impl Kernel for ExpectedPurchases {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn with_shared(&self, shared: Shared) -> Self {
        ExpectedPurchases {
            model: Arc::clone(&self.model),
            shared,
        }
    }

    fn return_type(&self) -> DataType {
        DataType::Float64
    }

    fn eval(&self, args: Vec<Option<Arg>>, _rows: usize) -> Result<ArrayRef> {
        let f = Self::NAME;
        let rows = rows(f, &args, false)?;
        let horizon = match &args[3] {
            Some(a) => a.numbers(f)?,
            None => {
                return Err(DataFusionError::Internal(format!(
                    "{f}: arguments not bound"
                )));
            }
        };
        let out = rows
            .iter()
            .zip(horizon.iter())
            .enumerate()
            .map(|(i, (r, &t))| {
                let v = self
                    .model
                    .conditional_expected_purchases(r, t)
                    .map_err(|e| exec_error(f, e))?;
                check_finite(f, "expected purchases", i, v)
            })
            .collect::<Result<Vec<f64>>>()?;
        Ok(Arc::new(Float64Array::from(out)))
    }
}

scalar_udf!(
    ExpectedPurchases,
    "expected_purchases",
    |state: serde_json::Value| {
        let m: FittedBetaGeo =
            serde_json::from_value(state).map_err(|e| json_error(ExpectedPurchases::NAME, e))?;
        ExpectedPurchases::new(m)
    }
);

/// The fitted state of [`ClvUdf`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClvState {
    beta_geo: FittedBetaGeo,
    gamma_gamma: FittedGammaGamma,
    clv: Clv,
}

/// `clv(frequency, recency, T, monetary) → Float64`: the discounted
/// customer lifetime value of BG/NBD purchases times Gamma-Gamma spend,
/// equal to [`Clv::value`] (and so to [`Clv::values`]) with the bundle's
/// [`Clv`] settings (period length in the model's time unit, number of
/// periods, discount rate per period).
///
/// # SQL
///
/// ```sql
/// clv(frequency, recency, T, monetary)  -- by position, in the model's time unit
/// ```
///
/// Arguments as for [`PAlive`], and `monetary`, the mean repeat-order value
/// (≥ 0).
///
/// # Errors
///
/// As for [`PAlive`], and for a negative monetary value.
#[derive(Debug, Clone)]
pub struct ClvUdf {
    state: Arc<ClvState>,
    shared: Shared,
}

impl ClvUdf {
    /// The SQL name, `clv`.
    pub const NAME: &'static str = "clv";

    /// The function for a purchase model, a spend model and CLV settings.
    ///
    /// # Errors
    ///
    /// A plan error if a model's parameters or the settings are invalid.
    pub fn new(beta_geo: FittedBetaGeo, gamma_gamma: FittedGammaGamma, clv: Clv) -> Result<Self> {
        let beta_geo = checked(Self::NAME, beta_geo)?;
        FittedGammaGamma::new(gamma_gamma.p(), gamma_gamma.q(), gamma_gamma.gamma())
            .map_err(|e| build_error(Self::NAME, e))?;
        clv.validate().map_err(|e| build_error(Self::NAME, e))?;
        let state = ClvState {
            beta_geo,
            gamma_gamma,
            clv,
        };
        let json = serde_json::to_string(&state).map_err(|e| json_error(Self::NAME, e))?;
        Ok(ClvUdf {
            state: Arc::new(state),
            shared: Shared::new(
                layout(Self::NAME, &["frequency", "recency", "T", "monetary"]),
                json,
            ),
        })
    }

    /// The purchase model.
    pub fn beta_geo(&self) -> &FittedBetaGeo {
        &self.state.beta_geo
    }

    /// The spend model.
    pub fn gamma_gamma(&self) -> &FittedGammaGamma {
        &self.state.gamma_gamma
    }

    /// The CLV settings.
    pub fn clv(&self) -> &Clv {
        &self.state.clv
    }
}

impl Kernel for ClvUdf {
    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn with_shared(&self, shared: Shared) -> Self {
        ClvUdf {
            state: Arc::clone(&self.state),
            shared,
        }
    }

    fn return_type(&self) -> DataType {
        DataType::Float64
    }

    fn eval(&self, args: Vec<Option<Arg>>, _rows: usize) -> Result<ArrayRef> {
        let f = Self::NAME;
        let s = &self.state;
        let out = rows(f, &args, true)?
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let v = s
                    .clv
                    .value(&s.beta_geo, &s.gamma_gamma, r)
                    .map_err(|e| exec_error(f, e))?;
                check_finite(f, "customer lifetime value", i, v)
            })
            .collect::<Result<Vec<f64>>>()?;
        Ok(Arc::new(Float64Array::from(out)))
    }
}

scalar_udf!(ClvUdf, "clv", |state: serde_json::Value| {
    let s: ClvState = serde_json::from_value(state).map_err(|e| json_error(ClvUdf::NAME, e))?;
    ClvUdf::new(s.beta_geo, s.gamma_gamma, s.clv)
});
