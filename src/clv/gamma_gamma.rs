//! The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV";
//! Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value").

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::beta_geo::{Options, finite};
use super::optimize::{FitStats, minimize, ordered_sum};
use super::special::{digamma, ln_gamma};
use super::summary::{CalibrationSummary, SummaryRow};
use crate::{Error, ErrorKind, Result};

/// Gamma-Gamma configuration: fits the spend model (p, q, γ) on the mean
/// repeat-order values of customers with repeat purchases, giving a
/// [`FittedGammaGamma`].
///
/// Each purchase of a customer is worth Gamma(p, ν); ν varies across
/// customers as Gamma(q, γ). Why: a customer's observed mean spend over few
/// purchases is noisy; the model shrinks it toward the population mean by an
/// amount that falls with the number of purchases. It assumes spend is
/// independent of purchase frequency (check the correlation first).
///
/// # Fitting
///
/// Maximum likelihood on log-parameters by BFGS with analytic gradient, over
/// customers with x > 0 (the first purchase is not used, as in the paper):
///
/// ```text
/// ln L = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(γ + m x)
/// minimize −(1/N) Σ ln L + penalizer · (p² + q² + γ²)        (lifetimes' penalty)
/// ```
///
/// # Example
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use churnwise::clv::{Calibration, GammaGamma};
/// use churnwise::synth::PopulationConfig;
///
/// # let history = churnwise::doc_support::history(2_000, 5)?;
/// let summary = Calibration::new(Utc.with_ymd_and_hms(2024, 6, 30, 0, 0, 0).unwrap()).summarize(&history)?;
/// let model = GammaGamma::new().fit(&summary)?;
/// let mean = model.mean_spend()?;
/// // A big spender's expected order value is shrunk toward the population mean.
/// let (i, big) = summary.rows().enumerate().filter(|(_, r)| r.frequency() > 0)
///     .max_by(|a, b| a.1.monetary().total_cmp(&b.1.monetary())).expect("repeat buyers");
/// let spend = model.conditional_expected_spend(&big)?;
/// assert!(mean < spend && spend < summary.monetary()[i]);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GammaGamma {
    options: Options,
}

impl GammaGamma {
    /// No penalty, at most 200 iterations, tolerance `1e-8`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::GammaGamma;
    ///
    /// assert_eq!(GammaGamma::new(), GammaGamma::default());
    /// assert_eq!(GammaGamma::new(), GammaGamma::new().penalizer(0.0)); // no penalty
    /// ```
    pub fn new() -> Self {
        GammaGamma::default()
    }

    /// The L2 penalty on (p, q, γ). Defaults to 0. Must be finite and ≥ 0
    /// (checked by [`validate`](Self::validate)).
    pub fn penalizer(mut self, penalizer: f64) -> Self {
        self.options.penalizer = penalizer;
        self
    }

    /// Quasi-Newton iterations before giving up. Defaults to 200.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::clv::GammaGamma;
    /// # use chrono::{TimeZone, Utc};
    /// # use churnwise::clv::Calibration;
    /// # use churnwise::synth::PopulationConfig;
    /// # let history = churnwise::doc_support::history(200, 5)?;
    /// # let summary = Calibration::new(Utc.with_ymd_and_hms(2024, 6, 30, 0, 0, 0).unwrap()).summarize(&history)?;
    ///
    /// let err = GammaGamma::new().max_iterations(1).fit(&summary).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::NotConverged { .. }));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn max_iterations(mut self, iterations: u32) -> Self {
        self.options.max_iterations = iterations;
        self
    }

    /// Convergence tolerance on the largest gradient component. Defaults to
    /// `1e-8`. Must be finite and > 0 (checked by [`validate`](Self::validate)).
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.options.tolerance = tolerance;
        self
    }

    /// Checks the configuration; [`fit`](Self::fit) calls it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `penalizer` unless finite and
    /// ≥ 0, or `tolerance` unless finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::clv::GammaGamma;
    ///
    /// assert!(GammaGamma::new().penalizer(0.01).validate().is_ok());
    /// let err = GammaGamma::new().penalizer(f64::NAN).validate().unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "penalizer", .. }));
    /// ```
    pub fn validate(&self) -> Result<()> {
        Options::check_penalizer(self.options.penalizer)?;
        Options::check_tolerance(self.options.tolerance)?;
        Ok(())
    }

    /// Fits p, q, γ on the customers of `summary` with repeat purchases.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate);
    /// [`ErrorKind::Fit`] when no customer has a repeat purchase, or one with
    /// repeat purchases has a mean value of 0 (the model needs positive
    /// spend; the message names the customer);
    /// [`ErrorKind::NotConverged`] when the optimizer stops short.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::clv::{Calibration, GammaGamma};
    /// use churnwise::synth::PopulationConfig;
    ///
    /// let (history, _) = PopulationConfig::default().customers(200).seed(5).generate()?.history_builder().build()?;
    /// let summary = Calibration::new(Utc.with_ymd_and_hms(2024, 6, 30, 0, 0, 0).unwrap()).summarize(&history)?;
    /// let model = GammaGamma::new().fit(&summary)?;
    /// let repeat_buyers = summary.frequency().iter().filter(|&&x| x > 0).count();
    /// assert_eq!(model.fit_stats().map(|s| s.customers), Some(repeat_buyers));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit(&self, summary: &CalibrationSummary) -> Result<FittedGammaGamma> {
        self.validate()?;
        let data = Spend::new(summary)?;
        let n = data.m.len() as f64;
        let penalizer = self.options.penalizer;
        let objective = |theta: &[f64; 3]| {
            let params = [theta[0].exp(), theta[1].exp(), theta[2].exp()];
            let (ll, g) = data.log_likelihood(params);
            let penalty: f64 = params.iter().map(|v| v * v).sum();
            let grad = std::array::from_fn(|k| {
                -params[k] * g[k] / n + 2.0 * penalizer * params[k] * params[k]
            });
            (-ll / n + penalizer * penalty, grad)
        };
        // Start at p = 1, q = 2 and the γ that matches the mean spend p γ / (q − 1).
        let mean = data.m.iter().sum::<f64>() / n;
        let start = [0.0, 2f64.ln(), mean.ln()];
        let m = minimize(
            objective,
            start,
            None,
            self.options.max_iterations,
            self.options.tolerance,
            "Gamma-Gamma",
        )?;
        let (p, q, gamma) = (m.x[0].exp(), m.x[1].exp(), m.x[2].exp());
        let fitted = FittedGammaGamma::new(p, q, gamma).map_err(|e| {
            Error::from(ErrorKind::Fit {
                what: "Gamma-Gamma",
                message: format!("the optimum is degenerate: {e}"),
            })
        })?;
        Ok(FittedGammaGamma {
            fit_stats: Some(FitStats {
                log_likelihood: data.log_likelihood([p, q, gamma]).0,
                customers: data.m.len(),
                iterations: m.iterations,
                gradient_norm: m.gradient_norm,
            }),
            ..fitted
        })
    }
}

/// Repeat buyers' x and mean value, with the parameter-free logarithms precomputed.
struct Spend {
    x: Vec<f64>,
    m: Vec<f64>,
    ln_m: Vec<f64>,
    ln_x: Vec<f64>,
    /// Index into `x_values` per customer.
    group: Vec<u32>,
    x_values: Vec<u32>,
}

impl Spend {
    fn new(summary: &CalibrationSummary) -> Result<Spend> {
        let mut x_values: Vec<u32> = summary
            .frequency()
            .iter()
            .copied()
            .filter(|&x| x > 0)
            .collect();
        x_values.sort_unstable();
        x_values.dedup();
        if x_values.is_empty() {
            return Err(ErrorKind::Fit {
                what: "Gamma-Gamma",
                message: "no customer has a repeat purchase, so there is no repeat spend to model"
                    .into(),
            }
            .into());
        }
        let mut out = Spend {
            x: Vec::new(),
            m: Vec::new(),
            ln_m: Vec::new(),
            ln_x: Vec::new(),
            group: Vec::new(),
            x_values,
        };
        for (i, row) in summary.rows().enumerate() {
            if row.frequency() == 0 {
                continue;
            }
            if row.monetary() <= 0.0 {
                return Err(ErrorKind::Fit {
                    what: "Gamma-Gamma",
                    message: format!(
                        "customer {} (row {i}) has {} repeat purchases but a mean repeat value of {}; the model needs positive spend",
                        summary.ids()[i],
                        row.frequency(),
                        row.monetary()
                    ),
                }
                .into());
            }
            let x = f64::from(row.frequency());
            out.x.push(x);
            out.m.push(row.monetary());
            out.ln_m.push(row.monetary().ln());
            out.ln_x.push(x.ln());
            out.group
                .push(out.x_values.partition_point(|&v| v < row.frequency()) as u32);
        }
        Ok(out)
    }

    /// Σ ln L and its gradient in (p, q, γ).
    fn log_likelihood(&self, [p, q, gamma]: [f64; 3]) -> (f64, [f64; 3]) {
        // Terms of x alone: ln Γ(px+q) − ln Γ(px), ψ(px+q), ψ(px).
        let per: Vec<(f64, f64, f64)> = self
            .x_values
            .iter()
            .map(|&x| {
                let px = p * f64::from(x);
                (
                    ln_gamma(px + q) - ln_gamma(px),
                    digamma(px + q),
                    digamma(px),
                )
            })
            .collect();
        let (ln_gamma_q, psi_q, ln_g) = (ln_gamma(q), digamma(q), gamma.ln());
        ordered_sum(self.x.len(), |i, grad| {
            let (x, m) = (self.x[i], self.m[i]);
            let (lg, psi_pxq, psi_px) = per[self.group[i] as usize];
            let px = p * x;
            let ln_den = (gamma + m * x).ln();
            grad[0] += x * (psi_pxq - psi_px + self.ln_m[i] + self.ln_x[i] - ln_den);
            grad[1] += psi_pxq - psi_q + ln_g - ln_den;
            grad[2] += q / gamma - (px + q) / (gamma + m * x);
            lg - ln_gamma_q + q * ln_g + (px - 1.0) * self.ln_m[i] + px * self.ln_x[i]
                - (px + q) * ln_den
        })
    }
}

/// A fitted Gamma-Gamma spend model.
///
/// # Formula
///
/// ```text
/// E[M | x, m] = (γ + m x) p / (p x + q − 1)
///             = (q−1)/(px+q−1) · pγ/(q−1)  +  px/(px+q−1) · m
/// ```
///
/// a weighted mean of the population mean pγ/(q−1) and the customer's own
/// mean m (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 5).
///
/// # Example
///
/// ```
/// use churnwise::clv::{FittedGammaGamma, SummaryRow};
///
/// // The published CDNOW estimates (Fader & Hardie 2013).
/// let model = FittedGammaGamma::new(6.25, 3.74, 15.44)?;
/// let row = SummaryRow::new(2, 30.43, 38.86)?.with_monetary(22.35)?;
/// let want = (15.44 + 22.35 * 2.0) * 6.25 / (6.25 * 2.0 + 3.74 - 1.0);
/// assert!((model.conditional_expected_spend(&row)? - want).abs() < 1e-12);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GammaGammaRepr", into = "GammaGammaRepr")]
pub struct FittedGammaGamma {
    p: f64,
    q: f64,
    gamma: f64,
    fit_stats: Option<FitStats>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GammaGammaRepr {
    p: f64,
    q: f64,
    gamma: f64,
    fit_stats: Option<FitStats>,
}

impl TryFrom<GammaGammaRepr> for FittedGammaGamma {
    type Error = Error;
    fn try_from(r: GammaGammaRepr) -> Result<Self> {
        Ok(FittedGammaGamma {
            fit_stats: r.fit_stats,
            ..FittedGammaGamma::new(r.p, r.q, r.gamma)?
        })
    }
}

impl From<FittedGammaGamma> for GammaGammaRepr {
    fn from(f: FittedGammaGamma) -> Self {
        GammaGammaRepr {
            p: f.p,
            q: f.q,
            gamma: f.gamma,
            fit_stats: f.fit_stats,
        }
    }
}

impl FittedGammaGamma {
    /// A model with given parameters.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `p`, `q` or `gamma` unless each is finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::FittedGammaGamma;
    ///
    /// let model = FittedGammaGamma::new(6.25, 3.74, 15.44)?;
    /// assert!(model.fit_stats().is_none()); // not fitted to data
    /// assert!(FittedGammaGamma::new(6.25, 0.0, 15.44).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(p: f64, q: f64, gamma: f64) -> Result<Self> {
        for (name, v) in [("p", p), ("q", q), ("gamma", gamma)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid_parameter(
                    name,
                    format!("must be finite and > 0, got {v}"),
                ));
            }
        }
        Ok(FittedGammaGamma {
            p,
            q,
            gamma,
            fit_stats: None,
        })
    }

    /// Shape p of each purchase's value.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Shape q of the distribution of the scale ν across customers.
    pub fn q(&self) -> f64 {
        self.q
    }

    /// Rate γ of the distribution of ν across customers.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// The fit's log-likelihood, customers and iterations (`None` when built by [`new`](Self::new)).
    pub fn fit_stats(&self) -> Option<&FitStats> {
        self.fit_stats.as_ref()
    }

    /// The population mean value of a purchase, pγ / (q − 1).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NonFinite`] when q ≤ 1 (the mean does not exist).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::FittedGammaGamma;
    ///
    /// assert!((FittedGammaGamma::new(6.25, 3.74, 15.44)?.mean_spend()? - 35.22).abs() < 0.01);
    /// assert!(FittedGammaGamma::new(1.0, 0.9, 1.0)?.mean_spend().is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn mean_spend(&self) -> Result<f64> {
        let value = if self.q > 1.0 {
            self.p * self.gamma / (self.q - 1.0)
        } else {
            f64::INFINITY
        };
        finite("mean spend", 0, "q", value)
    }

    /// E[value of a purchase | x, m] from the row's frequency and mean repeat value.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NonFinite`] when p x + q ≤ 1 (the expectation does not exist).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{FittedGammaGamma, SummaryRow};
    ///
    /// let model = FittedGammaGamma::new(6.25, 3.74, 15.44)?;
    /// let big = SummaryRow::new(2, 20.0, 30.0)?.with_monetary(100.0)?;
    /// let spend = model.conditional_expected_spend(&big)?;
    /// // Shrunk from the observed 100 toward the population mean (≈ 35.2).
    /// assert!(model.mean_spend()? < spend && spend < 100.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn conditional_expected_spend(&self, row: &SummaryRow) -> Result<f64> {
        self.expected_at(row, 0)
    }

    fn expected_at(&self, row: &SummaryRow, i: usize) -> Result<f64> {
        let x = f64::from(row.frequency());
        let den = self.p * x + self.q - 1.0;
        let value = if den > 0.0 {
            (self.gamma + row.monetary() * x) * self.p / den
        } else {
            f64::INFINITY
        };
        finite("conditional expected spend", i, "q", value)
    }

    /// [`conditional_expected_spend`](Self::conditional_expected_spend) of every customer (parallel).
    ///
    /// # Errors
    ///
    /// As `conditional_expected_spend`, naming the row.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{CalibrationSummary, FittedGammaGamma, TimeUnit};
    ///
    /// let s = CalibrationSummary::from_columns(TimeUnit::Weeks, vec![0, 3], vec![0.0, 20.0], vec![30.0, 30.0])?
    ///     .with_monetary(vec![0.0, 80.0])?;
    /// let spend = FittedGammaGamma::new(6.25, 3.74, 15.44)?.conditional_expected_spend_all(&s)?;
    /// assert!(spend[1] > spend[0]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn conditional_expected_spend_all(&self, summary: &CalibrationSummary) -> Result<Vec<f64>> {
        (0..summary.len())
            .into_par_iter()
            .map(|i| self.expected_at(&summary.row_unchecked(i), i))
            .collect()
    }

    /// The log-likelihood of the repeat buyers' mean values.
    ///
    /// # Errors
    ///
    /// As [`GammaGamma::fit`] for data it cannot read.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{CalibrationSummary, FittedGammaGamma, TimeUnit};
    ///
    /// // One purchase of value m: the density of a Gamma(p, ν) mixed over ν ~ Gamma(q, γ)
    /// // at p = q = γ = 1 is 1 / (1 + m)², so ln L = −2 ln 3 at m = 2.
    /// let s = CalibrationSummary::from_columns(TimeUnit::Days, vec![1], vec![5.0], vec![9.0])?.with_monetary(vec![2.0])?;
    /// let ll = FittedGammaGamma::new(1.0, 1.0, 1.0)?.log_likelihood(&s)?;
    /// assert!((ll + 2.0 * 3f64.ln()).abs() < 1e-12);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn log_likelihood(&self, summary: &CalibrationSummary) -> Result<f64> {
        Ok(Spend::new(summary)?
            .log_likelihood([self.p, self.q, self.gamma])
            .0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::TimeUnit;
    use approx::assert_relative_eq;

    #[test]
    fn gradient_matches_finite_differences() {
        let s = CalibrationSummary::from_columns(
            TimeUnit::Days,
            vec![1, 2, 5, 2],
            vec![1.0, 2.0, 3.0, 4.0],
            vec![9.0; 4],
        )
        .unwrap()
        .with_monetary(vec![10.0, 25.0, 17.5, 40.0])
        .unwrap();
        let data = Spend::new(&s).unwrap();
        let at = [2.5, 3.0, 12.0];
        let (_, g) = data.log_likelihood(at);
        for k in 0..3 {
            let (mut up, mut down) = (at, at);
            let h = 1e-6 * at[k];
            up[k] += h;
            down[k] -= h;
            let numeric = (data.log_likelihood(up).0 - data.log_likelihood(down).0) / (2.0 * h);
            assert_relative_eq!(g[k], numeric, max_relative = 1e-6);
        }
    }

    #[test]
    fn rejects_repeat_buyers_without_spend_and_bad_parameters() {
        let s = CalibrationSummary::from_columns(
            TimeUnit::Days,
            vec![1, 0],
            vec![1.0, 0.0],
            vec![9.0, 9.0],
        )
        .unwrap();
        let err = GammaGamma::new().fit(&s).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Fit { what: "Gamma-Gamma", message } if message.contains("row 0"))
        );
        let none = CalibrationSummary::from_columns(TimeUnit::Days, vec![0], vec![0.0], vec![9.0])
            .unwrap();
        assert!(matches!(
            GammaGamma::new().fit(&none).unwrap_err().kind(),
            ErrorKind::Fit { .. }
        ));
        let err = FittedGammaGamma::new(1.0, f64::NAN, 1.0).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter { name: "q", .. }
        ));
        assert!(
            serde_json::from_str::<FittedGammaGamma>(
                r#"{"p":1.0,"q":-1.0,"gamma":1.0,"fit_stats":null}"#
            )
            .is_err()
        );
    }
}
