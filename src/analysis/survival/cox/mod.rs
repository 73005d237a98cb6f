//! Cox proportional hazards ([`CoxPh`] → [`FittedCoxPh`]).

mod efron;

use std::fmt;

use serde::{Deserialize, Serialize};

use self::efron::{Evaluation, Prepared};
use super::data::SurvivalData;
use crate::model::linalg;
use crate::stats::{Interval, chi_square_sf, critical_value, normal_sf};
use crate::{Error, ErrorKind, Result};

/// Cox's proportional hazards model: how each covariate multiplies the rate
/// of churn, at every tenure, without assuming the shape of the baseline.
///
/// Where a Kaplan–Meier curve compares groups one field at a time, the Cox
/// model weighs several covariates together (fee, support tickets,
/// auto-renewal, plan): `exp(coef)` is the hazard ratio of one unit more,
/// the others held fixed. Fitted by Newton's method on Efron's partial
/// likelihood (the standard handling of tied durations, which whole-day
/// tenures always have), with step halving whenever a step would lower the
/// likelihood.
///
/// # Formula
///
/// ```text
/// hazard(t | x) = h₀(t) · exp(xβ)
/// ℓ(β) = Σ_events [ Σ_D xᵢβ − Σ_{l<d} log(Σ_R exp(xβ) − (l/d) Σ_D exp(xβ)) ]   (Efron)
/// β ← β + s·I(β)⁻¹ ∇ℓ(β),  s = 1, ½, ¼, … until ℓ does not fall
/// stop once the Newton decrement ∇ℓᵀ I⁻¹ ∇ℓ < tolerance (after taking that step)
/// SE = √diag(I(β̂)⁻¹),  z = β/SE,  p = 2(1 − Φ(|z|)),  HR = exp(β) [exp(β ± z₀ SE)]
/// LR = 2(ℓ(β̂) − ℓ(0)) ~ χ²_p
/// ```
///
/// D. R. Cox (1972); B. Efron (1977); the baseline is Breslow's estimator at
/// the covariate means. As lifelines' `CoxPHFitter` (which centres the
/// covariates the same way for its baseline).
///
/// # Example
///
/// ```
/// use churnwise::analysis::survival::{CoxPh, SurvivalData};
///
/// let durations = vec![2.0, 3.0, 5.0, 6.0, 8.0, 9.0, 11.0, 12.0, 14.0, 15.0];
/// let events = vec![true, true, true, false, true, true, false, true, false, false];
/// let tickets = vec![4.0, 1.0, 2.0, 3.0, 0.0, 2.0, 1.0, 0.0, 1.0, 0.0];
/// let data = SurvivalData::new(durations, events)?.with_covariate("tickets", tickets)?;
/// let cox = CoxPh::new().fit(&data)?;
/// let tickets = &cox.coefficients()[0];
/// assert!(tickets.hazard_ratio > 1.0); // more tickets, earlier churn
/// assert!(cox.concordance() > 0.5);
/// // A customer with 3 tickets survives less than one with none.
/// assert!(cox.survival_at(&[3.0], 8.0)? < cox.survival_at(&[0.0], 8.0)?);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoxPh {
    tolerance: f64,
    max_iterations: u32,
    confidence: f64,
}

impl Default for CoxPh {
    fn default() -> Self {
        CoxPh {
            tolerance: 1e-10,
            max_iterations: 50,
            confidence: 0.95,
        }
    }
}

impl CoxPh {
    /// The default configuration.
    pub fn new() -> Self {
        CoxPh::default()
    }

    /// The convergence tolerance on the Newton decrement `∇ℓᵀ I⁻¹ ∇ℓ` (about
    /// twice the log-likelihood still to gain). Defaults to `1e-10`. Must be
    /// finite and > 0.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The most Newton iterations. Defaults to 50. Must be at least 1.
    pub fn max_iterations(mut self, iterations: u32) -> Self {
        self.max_iterations = iterations;
        self
    }

    /// The confidence level of the coefficient and hazard-ratio intervals.
    /// Defaults to `0.95`. Must be in `(0, 1)`.
    pub fn confidence(mut self, confidence: f64) -> Self {
        self.confidence = confidence;
        self
    }

    /// The tolerance.
    pub fn tolerance_value(&self) -> f64 {
        self.tolerance
    }

    /// The iteration limit.
    pub fn max_iterations_value(&self) -> u32 {
        self.max_iterations
    }

    /// The confidence level.
    pub fn confidence_value(&self) -> f64 {
        self.confidence
    }

    /// Checks the configuration; [`fit`](Self::fit) calls it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `tolerance`, `max_iterations`
    /// or `confidence` when out of range.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::analysis::survival::CoxPh;
    ///
    /// let err = CoxPh::new().tolerance(0.0).validate().unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "tolerance", .. }));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(Error::invalid_parameter(
                "tolerance",
                format!("must be finite and > 0, got {}", self.tolerance),
            ));
        }
        if self.max_iterations == 0 {
            return Err(Error::invalid_parameter(
                "max_iterations",
                "must be at least 1, got 0",
            ));
        }
        critical_value(self.confidence).map(|_| ())
    }

    /// Fits the model on the covariates of `data`.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate); [`ErrorKind::Empty`] without rows or
    /// covariates; [`ErrorKind::Fit`] when no event is observed, or when a
    /// covariate is constant or collinear with the ones before it (the
    /// information matrix is singular; the message names it), or when a
    /// coefficient diverges (a covariate that separates churners from the
    /// others perfectly: |β|·SD(x) above 10);
    /// [`ErrorKind::NotConverged`] when the iterations run out. Non-finite input is refused earlier, by
    /// [`SurvivalData`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::analysis::survival::{CoxPh, SurvivalData};
    ///
    /// let data = SurvivalData::new(vec![1.0, 2.0, 3.0, 4.0], vec![true, false, true, true])?
    ///     .with_covariate("fee", vec![10.0, 20.0, 15.0, 30.0])?
    ///     .with_covariate("fee_cents", vec![1000.0, 2000.0, 1500.0, 3000.0])?;
    /// let err = CoxPh::new().fit(&data).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::Fit { .. }));
    /// assert!(err.to_string().contains("fee_cents"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit(&self, data: &SurvivalData) -> Result<FittedCoxPh> {
        self.validate()?;
        let z_crit = critical_value(self.confidence)?;
        let names: Vec<String> = data
            .covariate_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        if data.is_empty() || names.is_empty() {
            return Err(ErrorKind::Empty(format!(
                "a Cox model needs rows and covariates, got {} rows and {} covariates",
                data.len(),
                names.len()
            ))
            .into());
        }
        let events = data.events_observed();
        if events == 0 {
            return Err(ErrorKind::Fit {
                what: "Cox proportional hazards",
                message: format!("no events: all {} durations are censored", data.len()),
            }
            .into());
        }
        let columns: Vec<&[f64]> = data.covariate_columns().collect();
        let n = data.len() as f64;
        let means: Vec<f64> = columns.iter().map(|c| c.iter().sum::<f64>() / n).collect();
        let prepared = Prepared::new(data.durations(), data.events(), &columns, &means);
        let p = names.len();

        let singular = |j: usize| -> Error {
            let message = if j == 0 {
                format!(
                    "covariate `{}` has no variation among the customers at risk (singular information matrix)",
                    names[0]
                )
            } else {
                format!(
                    "covariate `{}` is constant or collinear with {} (singular information matrix)",
                    names[j],
                    names[..j]
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            ErrorKind::Fit {
                what: "Cox proportional hazards",
                message,
            }
            .into()
        };

        let mut beta = vec![0.0; p];
        let mut current = efron::evaluate(&prepared, &beta);
        let null_log_likelihood = current.log_likelihood;
        let mut converged = false;
        let mut iterations = 0;
        let mut decrement = f64::INFINITY;
        while iterations < self.max_iterations {
            iterations += 1;
            let l = linalg::cholesky_checked(&current.information, p, super::SINGULAR_PIVOT)
                .map_err(singular)?;
            let delta = linalg::solve_factored(&l, &current.gradient);
            decrement = delta
                .iter()
                .zip(&current.gradient)
                .map(|(a, b)| a * b)
                .sum();
            let (next_beta, next) = step(&prepared, &beta, &delta, &current);
            beta = next_beta;
            current = next;
            if decrement < self.tolerance {
                converged = true;
                break;
            }
        }
        if !converged {
            return Err(ErrorKind::NotConverged {
                solver: "Cox proportional hazards (Newton)",
                iterations,
                gradient_norm: decrement.abs().sqrt(),
            }
            .into());
        }
        // A monotone likelihood (a covariate that orders churners perfectly)
        // "converges" at a huge coefficient whose gradient has vanished.
        for (j, column) in columns.iter().enumerate() {
            let sd = (column.iter().map(|v| (v - means[j]).powi(2)).sum::<f64>() / n).sqrt();
            if (beta[j] * sd).abs() > MAX_EFFECT_PER_SD {
                return Err(ErrorKind::Fit {
                    what: "Cox proportional hazards",
                    message: format!(
                        "the coefficient of `{}` diverges (it reached {:.3e}): the covariate separates churners from the others, so the likelihood has no maximum",
                        names[j], beta[j]
                    ),
                }
                .into());
            }
        }
        let l = linalg::cholesky_checked(&current.information, p, super::SINGULAR_PIVOT)
            .map_err(singular)?;
        let variances = linalg::inverse_diagonal(&l, p);
        let coefficients = names
            .iter()
            .zip(&beta)
            .zip(&variances)
            .map(|((name, &coef), &variance)| {
                let se = variance.sqrt();
                let z = coef / se;
                let (lower, upper) = (coef - z_crit * se, coef + z_crit * se);
                CoxCoefficient {
                    name: name.clone(),
                    coef,
                    se,
                    hazard_ratio: coef.exp(),
                    interval: Interval { lower, upper },
                    hazard_ratio_interval: Interval {
                        lower: lower.exp(),
                        upper: upper.exp(),
                    },
                    z,
                    p_value: (2.0 * normal_sf(z.abs())).min(1.0),
                }
            })
            .collect();
        let eta = prepared.eta(&beta);
        let concordance = efron::concordance(
            &prepared.time,
            &prepared.event,
            &eta.iter().map(|e| e.exp()).collect::<Vec<_>>(),
        )
        .unwrap_or(0.5);
        let cumulative = efron::baseline_cumulative_hazard(&prepared, &eta);
        let baseline_times = prepared
            .blocks
            .iter()
            .map(|&(s, _)| prepared.time[s])
            .collect();
        Ok(FittedCoxPh {
            params: self.clone(),
            coefficients,
            means,
            log_likelihood: current.log_likelihood,
            null_log_likelihood,
            iterations,
            concordance,
            baseline_times,
            baseline_cumulative_hazard: cumulative,
            n: data.len(),
            events,
        })
    }
}

/// The largest |β|·SD(x) accepted: a hazard ratio of e¹⁰ ≈ 22 000 per
/// standard deviation only arises from a diverging coefficient.
const MAX_EFFECT_PER_SD: f64 = 10.0;

/// One Newton step from `beta` along `delta`, halved until the likelihood
/// does not fall (beyond rounding), at most 40 times.
fn step(
    prepared: &Prepared,
    beta: &[f64],
    delta: &[f64],
    current: &Evaluation,
) -> (Vec<f64>, Evaluation) {
    let slack = 1e-12 * (1.0 + current.log_likelihood.abs());
    let mut scale = 1.0;
    for _ in 0..40 {
        let candidate: Vec<f64> = beta.iter().zip(delta).map(|(b, d)| b + scale * d).collect();
        let e = efron::evaluate(prepared, &candidate);
        if e.log_likelihood.is_finite() && e.log_likelihood >= current.log_likelihood - slack {
            return (candidate, e);
        }
        scale *= 0.5;
    }
    (
        beta.to_vec(),
        Evaluation {
            log_likelihood: current.log_likelihood,
            gradient: current.gradient.clone(),
            information: current.information.clone(),
        },
    )
}

/// One covariate's estimate in a [`FittedCoxPh`].
///
/// # Example
///
/// ```
/// # use churnwise::analysis::survival::{CoxPh, SurvivalData};
/// # let data = SurvivalData::new(vec![2.0, 3.0, 5.0, 6.0, 8.0, 9.0], vec![true, true, true, false, true, false])?
/// #     .with_covariate("tickets", vec![4.0, 1.0, 2.0, 3.0, 0.0, 2.0])?;
/// let cox = CoxPh::new().fit(&data)?;
/// let c = &cox.coefficients()[0];
/// assert_eq!(c.name, "tickets");
/// assert!((c.hazard_ratio - c.coef.exp()).abs() < 1e-15);
/// assert!(c.hazard_ratio_interval.contains(c.hazard_ratio));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CoxCoefficient {
    /// The covariate.
    pub name: String,
    /// The coefficient β (log hazard ratio per unit).
    pub coef: f64,
    /// Its standard error.
    pub se: f64,
    /// `exp(β)`: the hazard multiplied by one unit more.
    pub hazard_ratio: f64,
    /// The confidence interval of β.
    pub interval: Interval,
    /// The confidence interval of the hazard ratio.
    pub hazard_ratio_interval: Interval,
    /// The Wald statistic `β / SE`.
    pub z: f64,
    /// The two-sided p-value of `β = 0`.
    pub p_value: f64,
}

/// A Cox model fitted by [`CoxPh::fit`]: coefficients, fit statistics, the
/// baseline survival and per-customer survival curves.
///
/// Its [`Display`](fmt::Display) prints the coefficient table with the
/// log-likelihood, likelihood-ratio test and concordance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FittedCoxPh {
    params: CoxPh,
    coefficients: Vec<CoxCoefficient>,
    means: Vec<f64>,
    log_likelihood: f64,
    null_log_likelihood: f64,
    iterations: u32,
    concordance: f64,
    baseline_times: Vec<f64>,
    baseline_cumulative_hazard: Vec<f64>,
    n: usize,
    events: usize,
}

/// The likelihood-ratio test of a [`FittedCoxPh`] against the model without
/// covariates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LikelihoodRatioTest {
    /// `2(ℓ(β̂) − ℓ(0))`.
    pub statistic: f64,
    /// The number of covariates.
    pub df: u32,
    /// `P(χ²_df > statistic)`.
    pub p_value: f64,
}

impl FittedCoxPh {
    /// The configuration it was fitted with.
    pub fn params(&self) -> &CoxPh {
        &self.params
    }

    /// The estimates, one per covariate in the data's order.
    pub fn coefficients(&self) -> &[CoxCoefficient] {
        &self.coefficients
    }

    /// The estimate of covariate `name`, if it is one.
    pub fn coefficient(&self, name: &str) -> Option<&CoxCoefficient> {
        self.coefficients.iter().find(|c| c.name == name)
    }

    /// The covariate means, at which [`baseline_survival`](Self::baseline_survival) is taken.
    pub fn means(&self) -> &[f64] {
        &self.means
    }

    /// The maximized log partial likelihood (Efron).
    pub fn log_likelihood(&self) -> f64 {
        self.log_likelihood
    }

    /// The log partial likelihood at β = 0.
    pub fn null_log_likelihood(&self) -> f64 {
        self.null_log_likelihood
    }

    /// The likelihood-ratio test against the model without covariates.
    pub fn likelihood_ratio_test(&self) -> LikelihoodRatioTest {
        let statistic = (2.0 * (self.log_likelihood - self.null_log_likelihood)).max(0.0);
        let df = self.coefficients.len() as u32;
        LikelihoodRatioTest {
            statistic,
            df,
            p_value: chi_square_sf(statistic, f64::from(df)),
        }
    }

    /// Harrell's concordance index on the training data: the share of
    /// comparable pairs of customers whose order of churn the model's risk
    /// gets right (0.5 is chance, 1 perfect).
    pub fn concordance(&self) -> f64 {
        self.concordance
    }

    /// The Newton iterations taken.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// The number of rows fitted on.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The number of observed events.
    pub fn events(&self) -> usize {
        self.events
    }

    /// The distinct durations of the training data, ascending: where the
    /// baseline and predicted curves step.
    pub fn baseline_times(&self) -> &[f64] {
        &self.baseline_times
    }

    /// Breslow's baseline survival at the covariate means, at each of
    /// [`baseline_times`](Self::baseline_times).
    pub fn baseline_survival(&self) -> Vec<f64> {
        self.baseline_cumulative_hazard
            .iter()
            .map(|h| (-h).exp())
            .collect()
    }

    /// The baseline survival at `t` (1 before the first duration).
    pub fn baseline_survival_at(&self, t: f64) -> f64 {
        (-self.cumulative_hazard_at(t)).exp()
    }

    fn cumulative_hazard_at(&self, t: f64) -> f64 {
        let i = self.baseline_times.partition_point(|&x| x <= t);
        i.checked_sub(1)
            .map_or(0.0, |i| self.baseline_cumulative_hazard[i])
    }

    /// The relative hazard `exp((x − x̄)β)` of a customer with covariates
    /// `x` (in the order of [`coefficients`](Self::coefficients)) against
    /// the average customer.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] unless there is one value per
    /// covariate; [`ErrorKind::NonFinite`] for a NaN or infinite value.
    pub fn partial_hazard(&self, x: &[f64]) -> Result<f64> {
        if x.len() != self.coefficients.len() {
            return Err(ErrorKind::LengthMismatch {
                what: "covariate values per coefficient",
                expected: self.coefficients.len(),
                got: x.len(),
            }
            .into());
        }
        if let Some((j, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ErrorKind::NonFinite {
                what: "covariate",
                row: 0,
                column: self.coefficients[j].name.clone(),
                value,
            }
            .into());
        }
        let eta: f64 = x
            .iter()
            .zip(&self.means)
            .zip(&self.coefficients)
            .map(|((v, m), c)| (v - m) * c.coef)
            .sum();
        Ok(eta.exp())
    }

    /// The predicted survival `S₀(t)^exp((x − x̄)β)` of a customer with
    /// covariates `x` at time `t`.
    ///
    /// # Errors
    ///
    /// As [`partial_hazard`](Self::partial_hazard).
    pub fn survival_at(&self, x: &[f64], t: f64) -> Result<f64> {
        let hazard = self.partial_hazard(x)?;
        Ok((-self.cumulative_hazard_at(t) * hazard).exp())
    }

    /// A customer's predicted survival curve at each of
    /// [`baseline_times`](Self::baseline_times).
    ///
    /// # Errors
    ///
    /// As [`partial_hazard`](Self::partial_hazard).
    pub fn survival_curve(&self, x: &[f64]) -> Result<Vec<f64>> {
        let hazard = self.partial_hazard(x)?;
        Ok(self
            .baseline_cumulative_hazard
            .iter()
            .map(|h| (-h * hazard).exp())
            .collect())
    }
}

impl fmt::Display for FittedCoxPh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<20} {:>10} {:>10} {:>10} {:>21} {:>8} {:>10}",
            "covariate", "coef", "se", "HR", "HR interval", "z", "p"
        )?;
        for c in &self.coefficients {
            writeln!(
                f,
                "{:<20} {:>10.4} {:>10.4} {:>10.4} {:>10.4}–{:<10.4} {:>8.2} {:>10.2e}",
                c.name,
                c.coef,
                c.se,
                c.hazard_ratio,
                c.hazard_ratio_interval.lower,
                c.hazard_ratio_interval.upper,
                c.z,
                c.p_value
            )?;
        }
        let lr = self.likelihood_ratio_test();
        writeln!(
            f,
            "{} customers, {} churned; log-likelihood {:.3}; LR test {:.2} on {} df (p = {:.2e}); concordance {:.3}",
            self.n,
            self.events,
            self.log_likelihood,
            lr.statistic,
            lr.df,
            lr.p_value,
            self.concordance
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// By hand: x = (1, 0), events at 1 and 2: ℓ(β) = β − log(e^β + 1) is
    /// increasing, so the maximum is at β → ∞: a diverging coefficient.
    #[test]
    fn separation_is_an_error() {
        let data = SurvivalData::new(vec![1.0, 2.0], vec![true, true])
            .unwrap()
            .with_covariate("x", vec![1.0, 0.0])
            .unwrap();
        let err = CoxPh::new().fit(&data).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Fit { .. }), "{err}");
        assert!(err.to_string().contains("diverges"), "{err}");
        let err = CoxPh::new().max_iterations(3).fit(&data).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::NotConverged { iterations: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn errors_for_no_events_and_constant_covariates() {
        let data = SurvivalData::new(vec![1.0, 2.0, 3.0], vec![false; 3])
            .unwrap()
            .with_covariate("x", vec![1.0, 0.0, 2.0])
            .unwrap();
        let err = CoxPh::new().fit(&data).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Fit { .. }) && err.to_string().contains("no events")
        );
        let constant = SurvivalData::new(vec![1.0, 2.0, 3.0], vec![true, false, true])
            .unwrap()
            .with_covariate("x", vec![1.0; 3])
            .unwrap();
        let err = CoxPh::new().fit(&constant).unwrap_err();
        assert!(err.to_string().contains("`x`"), "{err}");
        let none = SurvivalData::new(vec![1.0], vec![true]).unwrap();
        assert!(matches!(
            CoxPh::new().fit(&none).unwrap_err().kind(),
            ErrorKind::Empty(_)
        ));
    }

    /// Two groups of two, x = 1 dies at 1 and 3, x = 0 at 2 and 4 (no ties):
    /// ℓ(β) = β − log(2e^β + 2) + 0 − log(e^β + 2) + β − log(e^β + 1);
    /// the score equation solved numerically by bisection gives β̂.
    #[test]
    fn estimate_solves_the_score_equation() {
        let data = SurvivalData::new(vec![1.0, 3.0, 2.0, 4.0], vec![true; 4])
            .unwrap()
            .with_covariate("x", vec![1.0, 1.0, 0.0, 0.0])
            .unwrap();
        let fit = CoxPh::new().fit(&data).unwrap();
        let score = |b: f64| {
            let w = b.exp();
            2.0 - 2.0 * w / (2.0 * w + 2.0) - w / (w + 2.0) - w / (w + 1.0)
        };
        let (mut lo, mut hi) = (-5.0, 5.0);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if score(mid) > 0.0 { lo = mid } else { hi = mid }
        }
        assert_abs_diff_eq!(fit.coefficients()[0].coef, lo, epsilon = 1e-9);
        let w = lo.exp();
        let ll = lo - (2.0 * w + 2.0).ln() - (w + 2.0).ln() + lo - (w + 1.0).ln();
        assert_abs_diff_eq!(fit.log_likelihood(), ll, epsilon = 1e-12);
        assert_abs_diff_eq!(
            fit.null_log_likelihood(),
            -(4.0f64.ln() + 3.0f64.ln() + 2.0f64.ln()),
            epsilon = 1e-12
        );
        // The average customer's curve is the baseline.
        let mean = fit.means()[0];
        assert_abs_diff_eq!(
            fit.survival_at(&[mean], 2.5).unwrap(),
            fit.baseline_survival_at(2.5),
            epsilon = 1e-15
        );
    }
}
