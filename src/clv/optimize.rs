//! A small quasi-Newton minimizer (BFGS with a backtracking line search) for
//! the 2–4 log-parameters of the customer-base models, and the fit statistics
//! every fitted model reports.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{ErrorKind, Result};

/// What a maximum-likelihood fit reached: reported by every fitted model of
/// [`clv`](crate::clv) that was fitted to data (not built from given parameters).
///
/// # Example
///
/// ```
/// use churnwise::clv::{BetaGeo, CalibrationSummary, TimeUnit};
/// use churnwise::synth::{BgNbdParams, simulate_bgnbd};
///
/// let sim = simulate_bgnbd(BgNbdParams::new(0.5, 5.0, 0.8, 3.0)?, 2_000, 52.0, 1)?;
/// let summary = CalibrationSummary::from_columns(
///     TimeUnit::Weeks,
///     sim.iter().map(|c| c.x).collect(),
///     sim.iter().map(|c| c.t_x).collect(),
///     sim.iter().map(|c| c.t).collect(),
/// )?;
/// let fitted = BetaGeo::new().fit(&summary)?;
/// let stats = fitted.fit_stats().expect("fitted to data");
/// assert_eq!(stats.customers, 2_000);
/// assert!(stats.log_likelihood < 0.0 && stats.gradient_norm <= 1e-8);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FitStats {
    /// The maximized log-likelihood (summed over customers, penalty excluded).
    pub log_likelihood: f64,
    /// Customers (or cohort members) the model was fitted on.
    pub customers: usize,
    /// Quasi-Newton iterations done.
    pub iterations: u32,
    /// The largest gradient component of the per-customer mean objective in
    /// log-parameters at the optimum.
    pub gradient_norm: f64,
}

/// The optimum found by [`minimize`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Minimum<const N: usize> {
    pub(crate) x: [f64; N],
    /// The final inverse-Hessian approximation (to warm-start a related problem).
    pub(crate) inverse_hessian: [[f64; N]; N],
    pub(crate) iterations: u32,
    pub(crate) gradient_norm: f64,
}

/// Largest step, per coordinate, of one line search: log-parameters move by
/// at most e^4 ≈ 55× per iteration, which keeps the first steps from an
/// uninformed start out of overflow.
const MAX_STEP: f64 = 4.0;
/// Armijo sufficient-decrease constant.
const ARMIJO: f64 = 1e-4;
/// Backtracking steps before the line search gives up.
const MAX_BACKTRACKS: u32 = 60;

fn max_abs<const N: usize>(v: &[f64; N]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

fn dot<const N: usize>(a: &[f64; N], b: &[f64; N]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimizes `f` (value and gradient; a non-finite value marks a point
/// outside the domain) from `x0` by BFGS on the inverse Hessian, starting
/// from `h0` when given (else a scaled identity).
///
/// Stops when the largest gradient component is at most `tolerance`.
/// Why BFGS: the objectives are smooth, have 2–4 parameters and analytic
/// gradients, and one evaluation is a pass over all customers, so a method
/// with superlinear convergence and one evaluation per iteration is the
/// cheapest robust choice. The line search backtracks on non-finite values,
/// and the Hessian approximation is reset to a scaled identity whenever the
/// direction is not a descent direction.
///
/// # Errors
///
/// [`ErrorKind::NotConverged`] after `max_iterations`, or when the line
/// search can make no progress before the tolerance is reached;
/// [`ErrorKind::Fit`] when the start is outside the domain.
pub(crate) fn minimize<const N: usize>(
    mut f: impl FnMut(&[f64; N]) -> (f64, [f64; N]),
    x0: [f64; N],
    h0: Option<[[f64; N]; N]>,
    max_iterations: u32,
    tolerance: f64,
    solver: &'static str,
) -> Result<Minimum<N>> {
    let mut x = x0;
    let (mut fx, mut g) = f(&x);
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return Err(ErrorKind::Fit {
            what: solver,
            message: format!("the objective is not finite at the start {x0:?}"),
        }
        .into());
    }
    let mut fresh = h0.is_none();
    let mut h = h0.unwrap_or_else(|| identity::<N>(1.0));
    for iteration in 0..max_iterations {
        let gnorm = max_abs(&g);
        if gnorm <= tolerance {
            return Ok(Minimum {
                x,
                inverse_hessian: h,
                iterations: iteration,
                gradient_norm: gnorm,
            });
        }
        let mut d = mat_vec(&h, &g).map(|v| -v);
        if dot(&d, &g) >= 0.0 {
            h = identity::<N>(1.0);
            fresh = true;
            d = g.map(|v| -v);
        }
        match line_search(&mut f, &x, fx, &g, &d) {
            Some((x_new, f_new, g_new)) => {
                let s: [f64; N] = std::array::from_fn(|i| x_new[i] - x[i]);
                let y: [f64; N] = std::array::from_fn(|i| g_new[i] - g[i]);
                let sy = dot(&s, &y);
                // Skip the update without positive curvature: H stays positive definite.
                if sy > 1e-12 * dot(&s, &s).sqrt() * dot(&y, &y).sqrt() {
                    if fresh {
                        // Scale the first approximation to the observed curvature (Nocedal & Wright 6.20).
                        h = identity::<N>(sy / dot(&y, &y));
                        fresh = false;
                    }
                    bfgs_update(&mut h, &s, &y, sy);
                }
                x = x_new;
                fx = f_new;
                g = g_new;
            }
            None if !fresh => {
                // A stale curvature model: restart from steepest descent.
                h = identity::<N>(1.0);
                fresh = true;
            }
            None => {
                return Err(ErrorKind::NotConverged {
                    solver,
                    iterations: iteration,
                    gradient_norm: gnorm,
                }
                .into());
            }
        }
    }
    let gnorm = max_abs(&g);
    if gnorm <= tolerance {
        return Ok(Minimum {
            x,
            inverse_hessian: h,
            iterations: max_iterations,
            gradient_norm: gnorm,
        });
    }
    Err(ErrorKind::NotConverged {
        solver,
        iterations: max_iterations,
        gradient_norm: gnorm,
    }
    .into())
}

type Point<const N: usize> = ([f64; N], f64, [f64; N]);

/// Backtracking (quadratic interpolation, safeguarded) until Armijo holds at a
/// finite point; `None` if no decrease is found.
fn line_search<const N: usize>(
    f: &mut impl FnMut(&[f64; N]) -> (f64, [f64; N]),
    x: &[f64; N],
    fx: f64,
    g: &[f64; N],
    d: &[f64; N],
) -> Option<Point<N>> {
    let slope = dot(g, d);
    let longest = max_abs(d);
    let mut t = if longest > MAX_STEP {
        MAX_STEP / longest
    } else {
        1.0
    };
    for _ in 0..MAX_BACKTRACKS {
        let trial: [f64; N] = std::array::from_fn(|i| x[i] + t * d[i]);
        let (ft, gt) = f(&trial);
        if ft.is_finite() && gt.iter().all(|v| v.is_finite()) {
            let armijo = ft <= fx + ARMIJO * t * slope;
            // Near the optimum the decrease sinks below the rounding of f; the
            // approximate Wolfe conditions of Hager & Zhang (2005) then judge
            // the step by the directional derivative, which stays accurate.
            let dt = dot(&gt, d);
            let approximate_wolfe =
                ft <= fx + 1e-12 * fx.abs() && dt >= 0.9 * slope && dt <= -0.8 * slope;
            if armijo || approximate_wolfe {
                return Some((trial, ft, gt));
            }
        }
        let next = if ft.is_finite() {
            // Minimizer of the quadratic through f(x), f'(x; d) and f(x + t d).
            -slope * t * t / (2.0 * (ft - fx - slope * t))
        } else {
            0.1 * t
        };
        t = next.clamp(0.1 * t, 0.5 * t);
    }
    None
}

fn identity<const N: usize>(scale: f64) -> [[f64; N]; N] {
    std::array::from_fn(|i| std::array::from_fn(|j| if i == j { scale } else { 0.0 }))
}

fn mat_vec<const N: usize>(m: &[[f64; N]; N], v: &[f64; N]) -> [f64; N] {
    std::array::from_fn(|i| dot(&m[i], v))
}

/// H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, with ρ = 1 / (yᵀ s).
fn bfgs_update<const N: usize>(h: &mut [[f64; N]; N], s: &[f64; N], y: &[f64; N], sy: f64) {
    let rho = 1.0 / sy;
    let hy = mat_vec(h, y);
    let yhy = dot(y, &hy);
    for i in 0..N {
        for j in 0..N {
            h[i][j] += (1.0 + rho * yhy) * rho * s[i] * s[j] - rho * (hy[i] * s[j] + s[i] * hy[j]);
        }
    }
}

/// Rows per parallel piece: large enough to amortize scheduling, small
/// enough to balance two to dozens of threads.
const CHUNK: usize = 4096;

/// Σᵢ `row(i)` over `0..n` with its gradient, on all rayon threads, summed
/// in a fixed order (fixed chunks, then chunk totals left to right), so the
/// result is bit-identical whatever the number of threads.
pub(crate) fn ordered_sum<const N: usize>(
    n: usize,
    row: impl Fn(usize, &mut [f64; N]) -> f64 + Sync,
) -> (f64, [f64; N]) {
    let pieces: Vec<(f64, [f64; N])> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut grad = [0.0; N];
            let mut value = 0.0;
            for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                value += row(i, &mut grad);
            }
            (value, grad)
        })
        .collect();
    let mut total = 0.0;
    let mut grad = [0.0; N];
    for (v, g) in pieces {
        total += v;
        for (a, b) in grad.iter_mut().zip(g) {
            *a += b;
        }
    }
    (total, grad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// The Rosenbrock function, a standard hard case for quasi-Newton methods.
    fn rosenbrock(x: &[f64; 2]) -> (f64, [f64; 2]) {
        let (a, b) = (1.0 - x[0], x[1] - x[0] * x[0]);
        (
            a * a + 100.0 * b * b,
            [-2.0 * a - 400.0 * x[0] * b, 200.0 * b],
        )
    }

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let m = minimize(rosenbrock, [-1.2, 1.0], None, 500, 1e-10, "test").unwrap();
        assert_abs_diff_eq!(m.x[0], 1.0, epsilon = 1e-8);
        assert_abs_diff_eq!(m.x[1], 1.0, epsilon = 1e-8);
    }

    #[test]
    fn backs_off_from_points_outside_the_domain() {
        // f(x) = x − ln x on x > 0 (∞ outside): minimum at x = 1.
        let f = |x: &[f64; 1]| {
            if x[0] <= 0.0 {
                (f64::INFINITY, [0.0])
            } else {
                (x[0] - x[0].ln(), [1.0 - 1.0 / x[0]])
            }
        };
        let m = minimize(f, [30.0], None, 200, 1e-12, "test").unwrap();
        assert_abs_diff_eq!(m.x[0], 1.0, epsilon = 1e-10);
    }

    #[test]
    fn reports_non_convergence_with_the_gradient_reached() {
        let err = minimize(rosenbrock, [-1.2, 1.0], None, 3, 1e-10, "test").unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::NotConverged { solver: "test", iterations: 3, gradient_norm } if *gradient_norm > 0.0
        ));
        let bad = |_: &[f64; 1]| (f64::NAN, [0.0]);
        let err = minimize(bad, [0.0], None, 10, 1e-8, "test").unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Fit { what: "test", .. }));
    }

    #[test]
    fn ordered_sum_is_thread_count_independent() {
        let row = |i: usize, g: &mut [f64; 1]| {
            let v = 1.0 / (1.0 + i as f64);
            g[0] += v * v;
            v
        };
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| ordered_sum(100_000, row))
        };
        let one = run(1);
        assert_eq!(one, run(4));
        // Σ 1/k for k ≤ 100 000 = ln(100 000) + γ + 1/(2n) − … (harmonic number).
        assert_abs_diff_eq!(one.0, 12.090_146_129_863_428, epsilon = 1e-9);
    }
}
