//! A pure BG/NBD simulator (Fader, Hardie & Lee 2005), for parameter-recovery tests.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::rng::Rng;
use crate::{Error, Result};

/// Salt mixed into the seed so BG/NBD streams differ from population streams.
const STREAM_SALT: u64 = 0xB60B_0D00_5EED;

/// The four BG/NBD parameters: purchase rates λ ~ Gamma(shape `r`, rate `α`)
/// and dropout probabilities p ~ Beta(`a`, `b`).
///
/// `α` is in the same time unit as the observation horizons (days in this
/// crate). Build with [`BgNbdParams::new`], which validates; deserializing
/// validates too.
///
/// # Example
///
/// ```
/// use churnwise::synth::BgNbdParams;
///
/// // The CDNOW estimates of Fader, Hardie & Lee (2005), in weeks.
/// let params = BgNbdParams::new(0.243, 4.414, 0.793, 2.426)?;
/// assert_eq!(params.alpha(), 4.414);
/// assert!(BgNbdParams::new(0.0, 4.414, 0.793, 2.426).is_err());
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ParamsRepr", into = "ParamsRepr")]
pub struct BgNbdParams {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamsRepr {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

impl TryFrom<ParamsRepr> for BgNbdParams {
    type Error = Error;
    fn try_from(p: ParamsRepr) -> Result<Self> {
        BgNbdParams::new(p.r, p.alpha, p.a, p.b)
    }
}

impl From<BgNbdParams> for ParamsRepr {
    fn from(p: BgNbdParams) -> Self {
        ParamsRepr {
            r: p.r,
            alpha: p.alpha,
            a: p.a,
            b: p.b,
        }
    }
}

impl BgNbdParams {
    /// Parameters `r`, `α`, `a`, `b`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) named
    /// `r`, `alpha`, `a` or `b` unless each is finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::{ErrorKind, synth::BgNbdParams};
    ///
    /// let err = BgNbdParams::new(0.5, f64::NAN, 1.0, 2.0).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "alpha", .. }));
    /// ```
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self> {
        for (name, v) in [("r", r), ("alpha", alpha), ("a", a), ("b", b)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid_parameter(
                    name,
                    format!("must be finite and > 0, got {v}"),
                ));
            }
        }
        Ok(BgNbdParams { r, alpha, a, b })
    }

    /// Shape `r` of the Gamma distribution of purchase rates.
    pub fn r(&self) -> f64 {
        self.r
    }

    /// Rate `α` of the Gamma distribution of purchase rates (mean rate `r / α`).
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Parameter `a` of the Beta distribution of dropout probabilities.
    pub fn a(&self) -> f64 {
        self.a
    }

    /// Parameter `b` of the Beta distribution of dropout probabilities.
    pub fn b(&self) -> f64 {
        self.b
    }
}

/// One simulated BG/NBD customer: the summary statistics `(x, t_x, T)` the
/// model is fitted on, plus the latent values that produced them.
///
/// # Example
///
/// ```
/// use churnwise::synth::{BgNbdParams, simulate_bgnbd};
///
/// let params = BgNbdParams::new(0.243, 4.414, 0.793, 2.426)?;
/// let sim = simulate_bgnbd(params, 100, 39.0, 1)?;
/// for c in &sim {
///     assert!(c.t_x <= c.t && (c.x == 0) == (c.t_x == 0.0));
/// }
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BgNbdCustomer {
    /// Number of repeat purchases in (0, T].
    pub x: u32,
    /// Time of the last repeat purchase (0 when `x == 0`).
    pub t_x: f64,
    /// Length of the observation period `T` (from the first purchase).
    pub t: f64,
    /// The customer's latent purchase rate λ.
    pub lambda: f64,
    /// The customer's latent dropout probability p.
    pub p: f64,
    /// Whether the customer is still alive at `T`.
    pub alive: bool,
}

/// Simulates `customers` BG/NBD customers, each observed for `observation_days`
/// after their first (trial) purchase at time 0.
///
/// Follows Fader, Hardie & Lee (2005), "Counting your customers the easy way":
/// λ ~ Gamma(r, α), p ~ Beta(a, b); while alive, purchases arrive as a Poisson
/// process with rate λ; right after each *repeat* purchase the customer drops
/// out with probability p. The trial purchase at time 0 is not a dropout
/// opportunity, matching the paper's likelihood
/// `L = (1-p)^x λ^x e^{-λT} + δ(x>0) p (1-p)^(x-1) λ^x e^{-λ t_x}`.
/// Customer `i` uses its own random stream, so the result does not depend on
/// the number of threads.
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) named
/// `observation_days` unless it is finite and ≥ 0.
///
/// # Example
///
/// ```
/// use churnwise::synth::{BgNbdParams, simulate_bgnbd};
///
/// let params = BgNbdParams::new(0.243, 4.414, 0.793, 2.426)?;
/// let sim = simulate_bgnbd(params, 2_000, 39.0, 42)?;
/// let mean_x = sim.iter().map(|c| f64::from(c.x)).sum::<f64>() / sim.len() as f64;
/// assert!((mean_x - 1.20).abs() < 0.3); // E[X(39)] ≈ 1.197 for these parameters
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn simulate_bgnbd(
    params: BgNbdParams,
    customers: usize,
    observation_days: f64,
    seed: u64,
) -> Result<Vec<BgNbdCustomer>> {
    check_horizon(observation_days)?;
    Ok((0..customers)
        .into_par_iter()
        .map(|i| simulate_one(&params, observation_days, seed, i))
        .collect())
}

/// Like [`simulate_bgnbd`], with one observation horizon `T` per customer
/// (e.g. `end - first purchase` for a cohort that joined over time).
///
/// # Errors
///
/// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) named
/// `observation_days` unless every horizon is finite and ≥ 0.
///
/// # Example
///
/// ```
/// use churnwise::synth::{BgNbdParams, simulate_bgnbd_horizons};
///
/// let params = BgNbdParams::new(0.243, 4.414, 0.793, 2.426)?;
/// let horizons: Vec<f64> = (0..300).map(|i| 20.0 + f64::from(i % 20)).collect();
/// let sim = simulate_bgnbd_horizons(params, &horizons, 42)?;
/// assert!(sim.iter().zip(&horizons).all(|(c, &t)| c.t == t));
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn simulate_bgnbd_horizons(
    params: BgNbdParams,
    observation_days: &[f64],
    seed: u64,
) -> Result<Vec<BgNbdCustomer>> {
    for &t in observation_days {
        check_horizon(t)?;
    }
    Ok(observation_days
        .par_iter()
        .enumerate()
        .map(|(i, &t)| simulate_one(&params, t, seed, i))
        .collect())
}

fn check_horizon(t: f64) -> Result<()> {
    if t.is_finite() && t >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            "observation_days",
            format!("must be finite and >= 0, got {t}"),
        ))
    }
}

fn simulate_one(params: &BgNbdParams, horizon: f64, seed: u64, index: usize) -> BgNbdCustomer {
    let mut rng = Rng::stream(seed ^ STREAM_SALT, index as u64);
    let lambda = rng.gamma(params.r, params.alpha);
    let p = rng.beta(params.a, params.b);
    let mut time = 0.0;
    let mut x = 0u32;
    let mut t_x = 0.0;
    let mut alive = true;
    loop {
        time += rng.exponential(lambda);
        if time > horizon || x == u32::MAX {
            break;
        }
        x += 1;
        t_x = time;
        if rng.bernoulli(p) {
            alive = false;
            break;
        }
    }
    BgNbdCustomer {
        x,
        t_x,
        t: horizon,
        lambda,
        p,
        alive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// Gauss hypergeometric 2F1(a, b; c; z) for |z| < 1 by its power series.
    fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
        let mut term = 1.0;
        let mut sum = 1.0;
        for j in 0..100_000 {
            let j = f64::from(j);
            term *= (a + j) * (b + j) / ((c + j) * (j + 1.0)) * z;
            sum += term;
            if term.abs() < 1e-16 * sum.abs() {
                break;
            }
        }
        sum
    }

    /// E[X(t)] of BG/NBD (Fader, Hardie & Lee 2005, eq. 9).
    fn expected_x(p: &BgNbdParams, t: f64) -> f64 {
        let z = t / (p.alpha + t);
        (p.a + p.b - 1.0) / (p.a - 1.0)
            * (1.0 - (p.alpha / (p.alpha + t)).powf(p.r) * hyp2f1(p.r, p.b, p.a + p.b - 1.0, z))
    }

    fn mean_and_se(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
        (m, (v / n).sqrt())
    }

    #[test]
    fn hypergeometric_series_matches_closed_forms() {
        // 2F1(1, 1; 2; z) = -ln(1 - z) / z.
        let z: f64 = 0.7;
        assert_abs_diff_eq!(
            hyp2f1(1.0, 1.0, 2.0, z),
            -(1.0 - z).ln() / z,
            epsilon = 1e-12
        );
        // 2F1(a, b; b; z) = (1 - z)^(-a).
        assert_abs_diff_eq!(
            hyp2f1(0.3, 2.0, 2.0, 0.5),
            0.5f64.powf(-0.3),
            epsilon = 1e-12
        );
    }

    #[test]
    fn mean_repeat_purchases_match_closed_form() {
        // CDNOW estimates (weeks) and a second set with a > 1.
        for (params, t) in [
            (BgNbdParams::new(0.243, 4.414, 0.793, 2.426), 39.0),
            (BgNbdParams::new(1.5, 54.0, 2.0, 50.0), 456.0),
        ] {
            let params = params.unwrap();
            let sim = simulate_bgnbd(params, 40_000, t, 11).unwrap();
            let xs: Vec<f64> = sim.iter().map(|c| f64::from(c.x)).collect();
            let (m, se) = mean_and_se(&xs);
            assert_abs_diff_eq!(m, expected_x(&params, t), epsilon = 5.0 * se);
        }
    }

    #[test]
    fn probability_of_no_repeat_matches_closed_form() {
        // P(X(t) = 0) = (α / (α + t))^r: no dropout before the first repeat.
        let params = BgNbdParams::new(0.8, 10.0, 1.2, 3.0).unwrap();
        let t = 30.0;
        let sim = simulate_bgnbd(params, 40_000, t, 5).unwrap();
        let zeros: Vec<f64> = sim.iter().map(|c| f64::from(u8::from(c.x == 0))).collect();
        let (m, se) = mean_and_se(&zeros);
        assert_abs_diff_eq!(
            m,
            (params.alpha / (params.alpha + t)).powf(params.r),
            epsilon = 5.0 * se
        );
    }

    #[test]
    fn summaries_are_consistent() {
        let params = BgNbdParams::new(0.5, 5.0, 1.0, 4.0).unwrap();
        let horizons: Vec<f64> = (0..2_000).map(|i| f64::from(i % 50)).collect();
        let sim = simulate_bgnbd_horizons(params, &horizons, 3).unwrap();
        for (c, &t) in sim.iter().zip(&horizons) {
            assert_eq!(c.t, t);
            assert!(c.t_x <= c.t);
            assert_eq!(c.x == 0, c.t_x == 0.0);
            assert!(c.alive || c.x > 0, "dropout needs a repeat purchase");
        }
    }

    #[test]
    fn is_deterministic_and_thread_independent() {
        let params = BgNbdParams::new(0.5, 5.0, 1.0, 4.0).unwrap();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| simulate_bgnbd(params, 3_000, 20.0, 9).unwrap())
        };
        assert_eq!(run(1), run(3));
        assert_ne!(run(1), simulate_bgnbd(params, 3_000, 20.0, 10).unwrap());
    }

    #[test]
    fn rejects_bad_parameters_by_name() {
        use crate::ErrorKind;
        let err = BgNbdParams::new(1.0, 1.0, -2.0, 1.0).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter { name: "a", .. }
        ));
        let p = BgNbdParams::new(1.0, 1.0, 1.0, 1.0).unwrap();
        let err = simulate_bgnbd(p, 10, f64::INFINITY, 0).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter {
                name: "observation_days",
                ..
            }
        ));
        let json = r#"{"r":1.0,"alpha":0.0,"a":1.0,"b":1.0}"#;
        assert!(serde_json::from_str::<BgNbdParams>(json).is_err());
        let back: BgNbdParams = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
