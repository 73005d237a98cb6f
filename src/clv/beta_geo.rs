//! What BG/NBD and MBG/NBD share: parameters, likelihood with analytic
//! gradient, maximum-likelihood fit and predictions.
//!
//! The two models differ only in whether a customer can drop out right after
//! the first purchase (MBG/NBD) or only after repeat purchases (BG/NBD). In
//! every formula this is a shift `s` (0 or 1) of the Beta parameter b by the
//! number of dropout opportunities, so one implementation serves both.

use serde::{Deserialize, Serialize};

use super::compress::Compressed;
use super::optimize::{FitStats, minimize, ordered_sum};
use super::special::{digamma, hyp2f1, ln_gamma};
use super::summary::{CalibrationSummary, SummaryRow};
use crate::{Error, ErrorKind, Result};

/// Which model of the BG/NBD family a [`BetaGeo`](super::BetaGeo) fits and
/// a [`FittedBetaGeo`](super::FittedBetaGeo) is.
///
/// Serialized as `"standard"` or `"modified"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Variant {
    /// BG/NBD (Fader, Hardie & Lee 2005): a customer may drop out after each
    /// repeat purchase, so one without repeat purchases is certainly alive.
    #[default]
    Standard,
    /// MBG/NBD (Batislam, Denizel & Filiztekin 2007): a customer may also
    /// drop out right after the first purchase.
    Modified,
}

impl Variant {
    /// Extra dropout opportunities beyond the x repeat purchases.
    fn shift(self) -> f64 {
        match self {
            Variant::Standard => 0.0,
            Variant::Modified => 1.0,
        }
    }

    /// Whether a customer with x repeats may already have dropped out.
    fn can_be_dead(self, x: u32) -> bool {
        x > 0 || self == Variant::Modified
    }

    /// The model's usual name: `"BG/NBD"` or `"MBG/NBD"`.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Standard => "BG/NBD",
            Variant::Modified => "MBG/NBD",
        }
    }
}

/// r, α (purchase rates λ ~ Gamma(r, α)) and a, b (dropout p ~ Beta(a, b)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ParamsRepr", into = "ParamsRepr")]
pub(crate) struct Params {
    pub(crate) r: f64,
    pub(crate) alpha: f64,
    pub(crate) a: f64,
    pub(crate) b: f64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamsRepr {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

impl TryFrom<ParamsRepr> for Params {
    type Error = Error;
    fn try_from(p: ParamsRepr) -> Result<Self> {
        Params::new(p.r, p.alpha, p.a, p.b)
    }
}

impl From<Params> for ParamsRepr {
    fn from(p: Params) -> Self {
        ParamsRepr {
            r: p.r,
            alpha: p.alpha,
            a: p.a,
            b: p.b,
        }
    }
}

impl Params {
    pub(crate) fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self> {
        for (name, v) in [("r", r), ("alpha", alpha), ("a", a), ("b", b)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid_parameter(
                    name,
                    format!("must be finite and > 0, got {v}"),
                ));
            }
        }
        Ok(Params { r, alpha, a, b })
    }

    fn from_logs(theta: &[f64; 4]) -> Params {
        Params {
            r: theta[0].exp(),
            alpha: theta[1].exp(),
            a: theta[2].exp(),
            b: theta[3].exp(),
        }
    }
}

/// Fitting options of [`BetaGeo`](super::BetaGeo),
/// [`GammaGamma`](super::GammaGamma) and
/// [`ShiftedBetaGeometric`](super::ShiftedBetaGeometric).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Options {
    pub(crate) penalizer: f64,
    pub(crate) max_iterations: u32,
    pub(crate) tolerance: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            penalizer: 0.0,
            max_iterations: 200,
            tolerance: 1e-8,
        }
    }
}

impl Options {
    pub(crate) fn check_penalizer(penalizer: f64) -> Result<f64> {
        if penalizer.is_finite() && penalizer >= 0.0 {
            Ok(penalizer)
        } else {
            Err(Error::invalid_parameter(
                "penalizer",
                format!("must be finite and >= 0, got {penalizer}"),
            ))
        }
    }

    pub(crate) fn check_tolerance(tolerance: f64) -> Result<f64> {
        if tolerance.is_finite() && tolerance > 0.0 {
            Ok(tolerance)
        } else {
            Err(Error::invalid_parameter(
                "tolerance",
                format!("must be finite and > 0, got {tolerance}"),
            ))
        }
    }
}

/// The terms of the log-likelihood and gradient that depend on x alone.
#[derive(Debug, Clone, Copy)]
struct PerX {
    x: f64,
    /// ln Γ(r+x) − ln Γ(r) + ln B(a, b+x+s) − ln B(a, b).
    constant: f64,
    /// ∂constant/∂r, ∂/∂a, ∂/∂b.
    d_r: f64,
    d_a: f64,
    d_b: f64,
    /// ln a − ln(b + x − 1 + s) when the customer can be dead, else −∞.
    dead: f64,
    /// −1 / (b + x − 1 + s): ∂dead/∂b.
    dead_d_b: f64,
}

fn per_x(variant: Variant, p: &Params, x: u32) -> PerX {
    let s = variant.shift();
    let xf = f64::from(x);
    let (ab, bxs) = (p.a + p.b, p.b + xf + s);
    let constant = ln_gamma(p.r + xf) - ln_gamma(p.r) + ln_gamma(ab) + ln_gamma(bxs)
        - ln_gamma(p.b)
        - ln_gamma(ab + xf + s);
    let psi_ab = digamma(ab);
    let psi_abxs = digamma(ab + xf + s);
    let (dead, dead_d_b) = if variant.can_be_dead(x) {
        let m = p.b + xf - 1.0 + s;
        (p.a.ln() - m.ln(), -1.0 / m)
    } else {
        (f64::NEG_INFINITY, 0.0)
    };
    PerX {
        x: xf,
        constant,
        d_r: digamma(p.r + xf) - digamma(p.r),
        d_a: psi_ab - psi_abxs,
        d_b: psi_ab + digamma(bxs) - digamma(p.b) - psi_abxs,
        dead,
        dead_d_b,
    }
}

/// ln(α + t) and 1 / (α + t) for one t, tabulated per distinct age or recency.
#[derive(Debug, Clone, Copy)]
struct Logs {
    ln: f64,
    inv: f64,
}

impl Logs {
    fn new(v: f64) -> Logs {
        Logs {
            ln: v.ln(),
            inv: 1.0 / v,
        }
    }
}

/// ln L of one customer and its gradient in (r, α, a, b) added to `grad` × `weight`.
///
/// ```text
/// ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x+s) − ln B(a, b)
///        + ln[ (α+T)^−(r+x) + δ · a/(b+x−1+s) · (α+t_x)^−(r+x) ]
/// ```
///
/// with δ = 1 when the customer can be dead (x > 0, or always for MBG/NBD):
/// Fader, Hardie & Lee (2005) eq. 6 / Hardie's note 004 for s = 0;
/// Batislam, Denizel & Filiztekin (2007) for s = 1.
#[inline]
fn row_terms(
    p: &Params,
    ln_alpha: f64,
    k: &PerX,
    age: Logs,
    recency: Logs,
    weight: f64,
    grad: &mut [f64; 4],
) -> f64 {
    let (ln_t, inv_t, ln_tx, inv_tx) = (age.ln, age.inv, recency.ln, recency.inv);
    let rx = p.r + k.x;
    let alive = -rx * ln_t;
    let (ll, w) = if k.dead.is_finite() {
        let dead = k.dead - rx * ln_tx;
        // log-sum-exp; w is the posterior probability of being dead (1 − P(alive)).
        let e = (-(alive - dead).abs()).exp();
        let w = if dead > alive {
            1.0 / (1.0 + e)
        } else {
            e / (1.0 + e)
        };
        // ln(1 + e) with e in (0, 1]: plain ln is exact enough here and much faster than ln_1p.
        (alive.max(dead) + (1.0 + e).ln(), w)
    } else {
        (alive, 0.0)
    };
    let v = 1.0 - w;
    grad[0] += weight * (k.d_r + ln_alpha - v * ln_t - w * ln_tx);
    grad[1] += weight * (p.r / p.alpha - rx * (v * inv_t + w * inv_tx));
    grad[2] += weight * (k.d_a + w / p.a);
    grad[3] += weight * (k.d_b + w * k.dead_d_b);
    weight * (k.constant + p.r * ln_alpha + ll)
}

/// Σ ln L over all customers and its gradient in (r, α, a, b), in one
/// parallel pass with a fixed summation order.
fn log_likelihood_pass(variant: Variant, p: &Params, data: &Compressed) -> (f64, [f64; 4]) {
    let per: Vec<PerX> = data
        .x_values
        .iter()
        .map(|&x| per_x(variant, p, x))
        .collect();
    let ages: Vec<Logs> = data
        .t_values
        .iter()
        .map(|&t| Logs::new(p.alpha + t))
        .collect();
    let recencies: Vec<Logs> = data
        .tx_values
        .iter()
        .map(|&t| Logs::new(p.alpha + t))
        .collect();
    let ln_alpha = p.alpha.ln();
    ordered_sum(data.len(), |i, grad| {
        row_terms(
            p,
            ln_alpha,
            &per[data.x_group[i] as usize],
            ages[data.t_index[i] as usize],
            recencies[data.tx_index[i] as usize],
            data.weight[i],
            grad,
        )
    })
}

/// ln L of one customer.
pub(crate) fn row_log_likelihood(variant: Variant, p: &Params, row: &SummaryRow) -> f64 {
    let k = per_x(variant, p, row.frequency());
    let (age, recency) = (
        Logs::new(p.alpha + row.age()),
        Logs::new(p.alpha + row.recency()),
    );
    let mut unused = [0.0; 4];
    row_terms(p, p.alpha.ln(), &k, age, recency, 1.0, &mut unused)
}

/// Above this many distinct rows the fit is warm-started on a subsample.
const WARM_START_ROWS: usize = 60_000;
/// Rows of the warm-start subsample (about).
const WARM_START_SAMPLE: usize = 20_000;
/// The warm start stops here: its optimum differs from the full one by sampling error anyway.
const WARM_START_TOLERANCE: f64 = 1e-5;

/// The mean negative log-likelihood plus penalty, and its gradient, in log-parameters.
fn objective(
    variant: Variant,
    data: &Compressed,
    theta: &[f64; 4],
    scale: f64,
    penalizer: f64,
) -> (f64, [f64; 4]) {
    let n = data.customers as f64;
    let p = Params::from_logs(theta);
    let (ll, g) = log_likelihood_pass(variant, &p, data);
    let natural = [p.r, p.alpha * scale, p.a, p.b];
    let penalty: f64 = natural.iter().map(|v| v * v).sum();
    // Chain rule to log-parameters: ∂/∂ln θ = θ ∂/∂θ; the penalty's is 2 θ².
    let values = [p.r, p.alpha, p.a, p.b];
    let grad =
        std::array::from_fn(|k| -values[k] * g[k] / n + penalizer * 2.0 * natural[k] * natural[k]);
    (-ll / n + penalizer * penalty, grad)
}

/// Maximum likelihood on log-parameters (positivity for free), minimizing
///
/// ```text
/// −(1/N) Σᵢ ln Lᵢ + penalizer · (r² + (α / max T)² + a² + b²)
/// ```
///
/// (lifetimes' objective: its penalty reads α in time scaled to max T = 1).
pub(crate) fn fit(
    variant: Variant,
    summary: &CalibrationSummary,
    options: &Options,
) -> Result<(Params, FitStats)> {
    Options::check_penalizer(options.penalizer)?;
    Options::check_tolerance(options.tolerance)?;
    let data = Compressed::new(summary);
    let repeats = data.total_repeats();
    if repeats == 0.0 {
        return Err(ErrorKind::Fit {
            what: variant.name(),
            message: format!(
                "none of the {} customers made a repeat purchase: purchase rates and dropout are not identified",
                data.customers
            ),
        }
        .into());
    }
    let scale = 1.0 / data.max_age().max(f64::MIN_POSITIVE);
    // Start: r = a = b = 1 and the α that matches the mean purchase rate r / α = Σx / ΣT.
    let alpha0 = (data.total_age() / repeats).max(1e-6);
    let mut start = [0.0, alpha0.ln(), 0.0, 0.0];
    let mut h0 = None;
    // Large data: most iterations are spent far from the optimum, so take them
    // on a systematic subsample (every k-th distinct row, weight × k: still
    // stratified by x, t_x and T), then finish on all rows from its optimum
    // and curvature. The optimum reached is that of the full data either way.
    if data.len() > WARM_START_ROWS {
        let sample = data.subsample(data.len() / WARM_START_SAMPLE);
        let objective =
            |theta: &[f64; 4]| objective(variant, &sample, theta, scale, options.penalizer);
        if let Ok(m) = minimize(
            objective,
            start,
            None,
            options.max_iterations,
            WARM_START_TOLERANCE,
            variant.name(),
        ) {
            start = m.x;
            h0 = Some(m.inverse_hessian);
        }
    }
    let full = |theta: &[f64; 4]| objective(variant, &data, theta, scale, options.penalizer);
    let m = minimize(
        full,
        start,
        h0,
        options.max_iterations,
        options.tolerance,
        variant.name(),
    )?;
    let p = Params::from_logs(&m.x);
    Params::new(p.r, p.alpha, p.a, p.b).map_err(|e| {
        Error::from(ErrorKind::Fit {
            what: variant.name(),
            message: format!("the optimum is degenerate: {e}"),
        })
    })?;
    let (ll, _) = log_likelihood_pass(variant, &p, &data);
    Ok((
        p,
        FitStats {
            log_likelihood: ll,
            customers: data.customers,
            iterations: m.iterations,
            gradient_norm: m.gradient_norm,
        },
    ))
}

/// P(alive at T | x, t_x, T) = 1 / (1 + δ · a/(b+x−1+s) · ((α+T)/(α+t_x))^(r+x)).
pub(crate) fn p_alive(variant: Variant, p: &Params, row: &SummaryRow) -> f64 {
    let x = row.frequency();
    if !variant.can_be_dead(x) {
        return 1.0;
    }
    let xf = f64::from(x);
    let log_odds_dead = p.a.ln() - (p.b + xf - 1.0 + variant.shift()).ln()
        + (p.r + xf) * ((p.alpha + row.age()).ln() - (p.alpha + row.recency()).ln());
    1.0 / (1.0 + log_odds_dead.exp())
}

/// P(alive at T + h | x, t_x, T): alive at T, then no dropout in (T, T + h].
///
/// Given alive at T, λ ~ Gamma(r+x, α+T) and p ~ Beta(a, b+x+s)
/// independently, and dropouts form a Poisson process of rate λp, so
///
/// ```text
/// P(alive at T+h) = P(alive at T) · E[e^(−λph)]
///                 = P(alive at T) · ₂F₁(r+x, a; a+b+x+s; −h/(α+T))
/// ```
pub(crate) fn p_alive_at(variant: Variant, p: &Params, row: &SummaryRow, h: f64) -> f64 {
    let xf = f64::from(row.frequency());
    let z = -h / (p.alpha + row.age());
    // ₂F₁ is symmetric in its first two arguments; a first makes the Pfaff
    // transform's parameters independent of x (stable for large x).
    let survive = hyp2f1(p.a, p.r + xf, p.a + p.b + xf + variant.shift(), z);
    p_alive(variant, p, row) * survive
}

/// Below this distance from 1, a is nudged to a ± A_STEP and the two results
/// averaged: the formula's factor 1 / (a − 1) meets a bracket that vanishes at a = 1.
const A_STEP: f64 = 1e-4;

/// E[X(T, T+t) | x, t_x, T]: expected purchases in the next t time units.
///
/// ```text
/// E = P(alive) · (a+b+x−1+s)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x+s; a+b+x−1+s; z)]
/// z = t / (α+T+t)
/// ```
///
/// (Fader, Hardie & Lee 2005 eq. 10 for s = 0; Batislam et al. 2007 for s = 1),
/// evaluated after Euler's transformation, which turns the bracket into
/// `1 − (1−z)^(a−1) ₂F₁(a+b−1+s−r, a−1; a+b+x−1+s; z)`: no parameter grows
/// with x, so large x neither overflows nor converges slowly.
pub(crate) fn conditional_expected(variant: Variant, p: &Params, row: &SummaryRow, t: f64) -> f64 {
    if t == 0.0 {
        return 0.0;
    }
    let alive = p_alive(variant, p, row);
    let body = |a: f64| {
        let s = variant.shift();
        let xf = f64::from(row.frequency());
        let z = t / (p.alpha + row.age() + t);
        let c = a + p.b + xf - 1.0 + s;
        let bracket =
            1.0 - (1.0 - z).powf(a - 1.0) * hyp2f1(a + p.b - 1.0 + s - p.r, a - 1.0, c, z);
        c / (a - 1.0) * bracket
    };
    let expected = if (p.a - 1.0).abs() < A_STEP {
        0.5 * (body(1.0 - A_STEP) + body(1.0 + A_STEP))
    } else {
        body(p.a)
    };
    alive * expected
}

/// Checks a horizon argument.
pub(crate) fn check_horizon(name: &'static str, t: f64) -> Result<f64> {
    if t.is_finite() && t >= 0.0 {
        Ok(t)
    } else {
        Err(Error::invalid_parameter(
            name,
            format!("must be finite and >= 0, got {t}"),
        ))
    }
}

/// A prediction that came out non-finite (parameters outside the range the
/// closed form supports, e.g. a + b − 1 a non-positive integer).
pub(crate) fn finite(what: &'static str, row: usize, column: &str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ErrorKind::NonFinite {
            what,
            row,
            column: column.to_owned(),
            value,
        }
        .into())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::clv::special::ln_beta;
    use approx::{assert_abs_diff_eq, assert_relative_eq};

    /// E[f(p)] for p ~ Beta(a, b) (b ≥ 1) by Simpson's rule after p = u^(1/a),
    /// which absorbs the p^(a−1) singularity: an independent check of the
    /// closed forms.
    pub(crate) fn beta_expectation(a: f64, b: f64, f: impl Fn(f64) -> f64) -> f64 {
        let n = 20_000;
        let h = 1.0 / n as f64;
        let g = |u: f64| {
            let p = u.powf(1.0 / a);
            f(p) * (1.0 - p).powf(b - 1.0)
        };
        let mut sum = g(0.0) + g(1.0);
        for i in 1..n {
            sum += g(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        sum * h / 3.0 / (a * ln_beta(a, b).exp())
    }

    fn cdnow() -> Params {
        Params::new(0.242_593, 4.413_532, 0.792_886, 2.425_752).unwrap()
    }

    #[test]
    fn log_likelihood_matches_a_hand_calculation() {
        // r = 1, α = 2, a = 1, b = 2; customer x = 1, t_x = 1, T = 3 (BG/NBD):
        // L = B(1,3)/B(1,2) · Γ(2)·2/(Γ(1)·5²) + B(2,2)/B(1,2) · Γ(2)·2/(Γ(1)·3²)
        //   = (2/3)(2/25) + (1/3)(2/9) = 4/75 + 2/27.
        let p = Params::new(1.0, 2.0, 1.0, 2.0).unwrap();
        let row = SummaryRow::new(1, 1.0, 3.0).unwrap();
        let want: f64 = 4.0 / 75.0 + 2.0 / 27.0;
        assert_abs_diff_eq!(
            row_log_likelihood(Variant::Standard, &p, &row),
            want.ln(),
            epsilon = 1e-14
        );
        // x = 0, T = 3: L = (α/(α+T))^r = 2/5.
        let row0 = SummaryRow::new(0, 0.0, 3.0).unwrap();
        assert_abs_diff_eq!(
            row_log_likelihood(Variant::Standard, &p, &row0),
            0.4f64.ln(),
            epsilon = 1e-14
        );
        // MBG/NBD, x = 0: L = B(1,3)/B(1,2) · (2/5) + B(2,2)/B(1,2) · 1 (the p-branch with t_x = 0)
        //   = (2/3)(2/5) + 1/3 · (α/α)^r = 4/15 + 1/3 = 3/5.
        assert_abs_diff_eq!(
            row_log_likelihood(Variant::Modified, &p, &row0),
            0.6f64.ln(),
            epsilon = 1e-14
        );
    }

    #[test]
    fn analytic_gradient_matches_finite_differences() {
        let s = CalibrationSummary::from_columns(
            crate::clv::TimeUnit::Weeks,
            vec![0, 1, 3, 7, 0, 2],
            vec![0.0, 2.0, 20.0, 30.5, 0.0, 11.0],
            vec![39.0, 38.0, 35.0, 31.0, 20.0, 12.0],
        )
        .unwrap();
        let data = Compressed::new(&s);
        for variant in [Variant::Standard, Variant::Modified] {
            let p = Params::new(0.6, 3.0, 0.8, 2.5).unwrap();
            let (_, g) = log_likelihood_pass(variant, &p, &data);
            let values = [p.r, p.alpha, p.a, p.b];
            for k in 0..4 {
                let h = 1e-6 * values[k];
                let mut up = values;
                let mut down = values;
                up[k] += h;
                down[k] -= h;
                let f = |v: [f64; 4]| {
                    log_likelihood_pass(
                        variant,
                        &Params::new(v[0], v[1], v[2], v[3]).unwrap(),
                        &data,
                    )
                    .0
                };
                assert_relative_eq!(g[k], (f(up) - f(down)) / (2.0 * h), max_relative = 1e-6);
            }
        }
    }

    #[test]
    fn expected_purchases_match_quadrature_over_dropout_probability() {
        // Given alive at T: λ ~ Gamma(r+x, α+T), p ~ Beta(a, b+x+s), and
        // E[purchases in t | λ, p] = (1 − e^(−λpt))/p, whose λ-expectation is
        // (1 − ((α+T)/(α+T+pt))^(r+x)) / p.
        let p = cdnow();
        for variant in [Variant::Standard, Variant::Modified] {
            for (x, tx, big_t, t) in [
                (0, 0.0, 0.0, 39.0),
                (2, 30.43, 38.86, 39.0),
                (7, 29.43, 35.0, 10.0),
                (0, 0.0, 38.86, 52.0),
            ] {
                let row = SummaryRow::new(x, tx, big_t).unwrap();
                let xf = f64::from(x);
                let scale = p.alpha + big_t;
                let given_alive = beta_expectation(p.a, p.b + xf + variant.shift(), |q| {
                    if q == 0.0 {
                        (p.r + xf) * t / scale
                    } else {
                        (1.0 - (scale / (scale + q * t)).powf(p.r + xf)) / q
                    }
                });
                let want = p_alive(variant, &p, &row) * given_alive;
                assert_relative_eq!(
                    conditional_expected(variant, &p, &row, t),
                    want,
                    max_relative = 1e-6
                );
            }
        }
    }

    #[test]
    fn future_p_alive_matches_quadrature() {
        let p = cdnow();
        for variant in [Variant::Standard, Variant::Modified] {
            for (x, tx, big_t, h) in [
                (0, 0.0, 38.86, 52.0),
                (3, 20.0, 38.0, 10.0),
                (12, 37.0, 38.0, 100.0),
            ] {
                let row = SummaryRow::new(x, tx, big_t).unwrap();
                let xf = f64::from(x);
                let scale = p.alpha + big_t;
                let survive = beta_expectation(p.a, p.b + xf + variant.shift(), |q| {
                    (scale / (scale + q * h)).powf(p.r + xf)
                });
                assert_relative_eq!(
                    p_alive_at(variant, &p, &row, h),
                    p_alive(variant, &p, &row) * survive,
                    max_relative = 1e-6
                );
            }
        }
    }

    #[test]
    fn expected_purchases_are_continuous_through_a_equal_one() {
        let row = SummaryRow::new(2, 10.0, 30.0).unwrap();
        let at = |a: f64| {
            conditional_expected(
                Variant::Standard,
                &Params::new(0.5, 4.0, a, 2.0).unwrap(),
                &row,
                20.0,
            )
        };
        assert_relative_eq!(at(1.0), 0.5 * (at(0.999) + at(1.001)), max_relative = 1e-6);
        assert!(at(1.0).is_finite() && at(1.0) > 0.0);
    }
}
