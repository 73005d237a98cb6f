//! The damped (proximal) Newton solver: the problem data, the passes over
//! the rows (chunks in parallel, summed in a fixed order), the line search
//! and the optimality measure.

use std::borrow::Cow;

use rayon::prelude::*;

use super::kernel::ChunkPass;
use crate::model::linalg::{cholesky, solve_factored};
use crate::model::link::sigmoid;
use crate::{ErrorKind, Result};

/// Rows per chunk of the parallel passes: fixed, so sums do not depend on the thread count.
const CHUNK: usize = 4096;

/// Above twice this many rows, the solver first fits an evenly spaced
/// subsample of about this size to start near the optimum.
const SUBSAMPLE: usize = 50_000;

/// The data of one fit: the raw features (row-major, borrowed from the
/// table) and their standardization, applied block by block as the passes
/// transpose rows into columns; no standardized copy of the data is made.
pub(super) struct Problem<'a> {
    pub(super) x: Cow<'a, [f64]>,
    pub(super) n: usize,
    pub(super) means: Vec<f64>,
    pub(super) inv_scales: Vec<f64>,
    pub(super) y: Vec<bool>,
    pub(super) s: Vec<f64>,
    pub(super) intercept: bool,
    pub(super) constant: Vec<usize>,
}

/// Rows per block inside a chunk: a block of every column fits in L1 cache.
pub(super) const BLOCK: usize = 128;

/// Coefficients on the standardized scale, and how the solver got there.
/// Where the solver starts: coefficients, and optionally a Hessian (from a
/// subsample, its weights scaled up) to precondition the first steps.
#[derive(Clone)]
struct Start {
    w: Vec<f64>,
    b: f64,
    hess: Option<Vec<f64>>,
}

pub(super) struct Solution {
    pub(super) w: Vec<f64>,
    pub(super) b: f64,
    pub(super) iterations: u32,
}

/// What a pass computes besides the gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    Gradient,
    Loss,
    Hessian,
}

/// Gradient, and loss or Hessian, of the objective at one point.
pub(super) struct Pass {
    /// NaN unless computed.
    pub(super) loss: f64,
    /// d + 1 entries; the last is the intercept.
    pub(super) grad: Vec<f64>,
    /// (d + 1)², row-major, upper and lower filled.
    pub(super) hess: Vec<f64>,
}

impl Problem<'_> {
    #[inline(always)]
    pub(super) fn dim(&self) -> usize {
        self.means.len()
    }

    /// Rows `start..start + len`, standardized, column by column into `buf`
    /// (`buf[j * BLOCK + k]`). Inlined into the kernel's pass, so it is
    /// compiled at the kernel's SIMD level (it lives in another module).
    #[inline(always)]
    pub(super) fn block(&self, start: usize, len: usize, buf: &mut [f64]) {
        let d = self.dim();
        for k in 0..len {
            let row = &self.x[(start + k) * d..(start + k + 1) * d];
            for j in 0..d {
                buf[j * BLOCK + k] = (row[j] - self.means[j]) * self.inv_scales[j];
            }
        }
    }

    fn total_weight(&self) -> f64 {
        self.s.iter().sum()
    }

    /// The gradient of the unpenalized objective at (w, b), plus its value or
    /// its Hessian as asked: chunks of rows in parallel, each in blocks over
    /// which every column is contiguous. (The loss costs a logarithm per row,
    /// so it is computed only when a line search needs it.)
    fn pass(&self, w: &[f64], b: f64, want: Want) -> Pass {
        let hessian = want == Want::Hessian;
        let with_loss = want == Want::Loss;
        let (n, d) = (self.n, self.dim());
        let m = d + 1;
        let empty = || Pass {
            loss: if with_loss { 0.0 } else { f64::NAN },
            grad: vec![0.0; m],
            hess: if hessian {
                vec![0.0; m * m]
            } else {
                Vec::new()
            },
        };
        let partials: Vec<Pass> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                // Compiled for each SIMD level and dispatched at run time; the
                // same operations in the same order at every level.
                pulp::Arch::new().dispatch(ChunkPass {
                    problem: self,
                    w,
                    b,
                    want,
                    rows: c * CHUNK..((c + 1) * CHUNK).min(n),
                    pass: empty(),
                })
            })
            .collect();
        let mut total = empty();
        for p in partials {
            total.loss += p.loss;
            total
                .grad
                .iter_mut()
                .zip(&p.grad)
                .for_each(|(a, b)| *a += b);
            total
                .hess
                .iter_mut()
                .zip(&p.hess)
                .for_each(|(a, b)| *a += b);
        }
        if hessian {
            for j in 0..m {
                for k in 0..j {
                    total.hess[k * m + j] = total.hess[j * m + k];
                }
            }
        }
        total
    }

    /// Adds the L2 part, pins constant columns and (without intercept) the intercept.
    fn regularize(&self, pass: &mut Pass, w: &[f64], l2: f64) {
        let d = self.dim();
        let m = d + 1;
        pass.loss += 0.5 * l2 * w.iter().map(|v| v * v).sum::<f64>();
        let hessian = !pass.hess.is_empty();
        for (j, wj) in w.iter().enumerate() {
            pass.grad[j] += l2 * wj;
            if hessian {
                pass.hess[j * m + j] += l2;
            }
        }
        // Constant columns (all 0 after standardization) and an absent
        // intercept get a unit curvature and zero gradient: their step is 0.
        let pinned = self
            .constant
            .iter()
            .copied()
            .chain((!self.intercept).then_some(d));
        for j in pinned {
            pass.grad[j] = 0.0;
            if !hessian {
                continue;
            }
            for k in 0..m {
                pass.hess[j * m + k] = 0.0;
                pass.hess[k * m + j] = 0.0;
            }
            pass.hess[j * m + j] = 1.0;
        }
    }

    /// Whether the solution classifies every row with certainty (the mark of
    /// separable data, where the unpenalized solver only stops because the
    /// gradient underflows).
    pub(super) fn separates(&self, s: &Solution) -> bool {
        let d = self.dim();
        (0..self.n).into_par_iter().all(|i| {
            let row = &self.x[i * d..(i + 1) * d];
            let z = s.b
                + (0..d)
                    .map(|j| s.w[j] * (row[j] - self.means[j]) * self.inv_scales[j])
                    .sum::<f64>();
            let p = sigmoid(z);
            (if self.y[i] { 1.0 - p } else { p }) < 1e-6
        })
    }

    /// A starting point: zeros, or for large inputs the solution on an
    /// evenly spaced subsample (weights scaled up to keep the loss/penalty
    /// balance), so the full-data iterations start near the optimum.
    fn warm_start(&self, l1: f64, l2: f64) -> Start {
        let (n, d) = (self.n, self.dim());
        let stride = n / SUBSAMPLE;
        let cold = Start {
            w: vec![0.0; d],
            b: 0.0,
            hess: None,
        };
        if stride < 2 {
            return cold;
        }
        let rows: Vec<usize> = (0..n).step_by(stride).collect();
        let sub = Problem {
            x: Cow::Owned(
                rows.iter()
                    .flat_map(|&i| self.x[i * d..(i + 1) * d].iter().copied())
                    .collect(),
            ),
            n: rows.len(),
            means: self.means.clone(),
            inv_scales: self.inv_scales.clone(),
            y: rows.iter().map(|&i| self.y[i]).collect(),
            s: rows.iter().map(|&i| self.s[i] * stride as f64).collect(),
            intercept: self.intercept,
            constant: self.constant.clone(),
        };
        // The subsample's optimum is within sampling error (~1e-3) of the
        // full one: solving it further would not bring the start closer.
        match sub.iterate(cold.clone(), l1, l2, 100, 1e-5) {
            Ok(sol) => {
                // The Hessian at the subsample's optimum preconditions the
                // full-data steps (its weights are scaled to the full size).
                let mut at_start = sub.pass(&sol.w, sol.b, Want::Hessian);
                sub.regularize(&mut at_start, &sol.w, l2);
                Start {
                    w: sol.w,
                    b: sol.b,
                    hess: Some(at_start.hess),
                }
            }
            Err(_) => cold,
        }
    }

    pub(super) fn solve(
        &self,
        l1: f64,
        l2: f64,
        max_iterations: u32,
        tol: f64,
    ) -> Result<Solution> {
        let start = self.warm_start(l1, l2);
        self.iterate(start, l1, l2, max_iterations, tol)
    }

    /// Damped (proximal) Newton from `start`. For smooth problems the
    /// Hessian's factorization is reused while the gradient keeps shrinking
    /// fast, so late iterations cost one gradient pass (n·d) instead of a
    /// Hessian pass (n·d²/2).
    fn iterate(
        &self,
        start: Start,
        l1: f64,
        l2: f64,
        max_iterations: u32,
        tol: f64,
    ) -> Result<Solution> {
        let Start { mut w, mut b, hess } = start;
        let d = self.dim();
        let scale = self.total_weight();
        let l1_norm = |w: &[f64]| l1 * w.iter().map(|v| v.abs()).sum::<f64>();
        let evaluate = |w: &[f64], b: f64, want: Want| {
            let mut p = self.pass(w, b, want);
            self.regularize(&mut p, w, l2);
            p
        };
        let d1 = d + 1;
        // With a preconditioner, start with a cheap gradient pass.
        let mut factor = hess.as_ref().and_then(|h| cholesky(h, d1));
        let mut pass = evaluate(
            &w,
            b,
            if factor.is_some() {
                Want::Gradient
            } else {
                Want::Hessian
            },
        );
        let mut last_norm = f64::INFINITY;
        for iteration in 0..max_iterations {
            let norm = optimality(&pass.grad, &w, l1) / scale;
            if norm <= tol {
                return Ok(Solution {
                    w,
                    b,
                    iterations: iteration,
                });
            }
            // Refresh the Hessian unless the last step cut the gradient tenfold.
            if l1 > 0.0 || norm > 0.1 * last_norm || factor.is_none() {
                if pass.hess.is_empty() {
                    pass = Pass {
                        loss: pass.loss,
                        ..evaluate(&w, b, Want::Hessian)
                    };
                }
                factor = cholesky(&pass.hess, d1);
            }
            last_norm = norm;
            let Some(l) = &factor else { break };
            let target = if l1 > 0.0 {
                proximal_step(&pass, &w, b, l1)
            } else {
                let delta = solve_factored(l, &pass.grad);
                w.iter()
                    .zip(&delta)
                    .map(|(v, dv)| v - dv)
                    .chain([b - delta[d]])
                    .collect()
            };
            let dir: Vec<f64> = (0..d)
                .map(|j| target[j] - w[j])
                .chain([target[d] - b])
                .collect();
            let along = |grad: &[f64]| dir.iter().zip(grad).map(|(a, g)| a * g).sum::<f64>();
            let slope = along(&pass.grad) + l1_norm(&target[..d]) - l1_norm(&w);
            // Smooth problems: accept the full step when it shrinks the
            // gradient (the convergence measure), without evaluating the loss,
            // whose logarithms cost more than the gradient itself.
            if l1 == 0.0 {
                let trial = evaluate(&target[..d], target[d], Want::Gradient);
                if optimality(&trial.grad, &target[..d], l1) < norm * scale {
                    (w, b, pass) = (target[..d].to_vec(), target[d], trial);
                    continue;
                }
            }
            // Otherwise backtrack on the objective (Armijo).
            if pass.loss.is_nan() {
                pass.loss = evaluate(&w, b, Want::Loss).loss;
            }
            let current = pass.loss + l1_norm(&w);
            let mut step = 1.0;
            let mut accepted = None;
            for _ in 0..40 {
                let w_new: Vec<f64> = (0..d).map(|j| w[j] + step * dir[j]).collect();
                let b_new = b + step * dir[d];
                let trial = evaluate(&w_new, b_new, Want::Loss);
                let objective = trial.loss + l1_norm(&w_new);
                // Near the optimum the objective stops resolving the change
                // (its rounding exceeds the decrease): then a smaller
                // gradient decides.
                let within_rounding = objective <= current + 1e-12 * current.abs().max(1.0)
                    && optimality(&trial.grad, &w_new, l1) < norm * scale;
                if objective <= current + 1e-4 * step * slope.min(0.0) || within_rounding {
                    accepted = Some((w_new, b_new, trial));
                    break;
                }
                step *= 0.5;
            }
            match accepted {
                Some((w_new, b_new, trial)) => {
                    if step < 1.0 {
                        factor = None; // a damped step: the model was poor, refresh
                    }
                    (w, b, pass) = (w_new, b_new, trial);
                }
                // No decrease is possible at machine precision: accept if optimal enough.
                None if norm <= tol * 1e3 => {
                    return Ok(Solution {
                        w,
                        b,
                        iterations: iteration,
                    });
                }
                None => break,
            }
        }
        Err(ErrorKind::NotConverged {
            solver: if l1 > 0.0 {
                "proximal Newton"
            } else {
                "Newton"
            },
            iterations: max_iterations,
            gradient_norm: last_norm,
        }
        .into())
    }
}

/// The largest violation of the optimality conditions: the gradient for
/// smooth problems; with L1, the subgradient distance from zero.
fn optimality(grad: &[f64], w: &[f64], l1: f64) -> f64 {
    let d = w.len();
    let mut worst = grad[d].abs();
    for j in 0..d {
        let v = if l1 == 0.0 {
            grad[j].abs()
        } else if w[j] != 0.0 {
            (grad[j] + l1 * w[j].signum()).abs()
        } else {
            (grad[j].abs() - l1).max(0.0)
        };
        worst = worst.max(v);
    }
    worst
}

/// Minimizes `gᵀ(v − θ) + ½ (v − θ)ᵀ H (v − θ) + l1 ‖v_w‖₁` over `v` by cyclic
/// coordinate descent (soft-thresholding), from `θ = (w, b)`.
fn proximal_step(pass: &Pass, w: &[f64], b: f64, l1: f64) -> Vec<f64> {
    let d = w.len();
    let m = d + 1;
    let theta: Vec<f64> = w.iter().copied().chain([b]).collect();
    let mut v = theta.clone();
    // hd = H (v − θ), kept up to date.
    let mut hd = vec![0.0; m];
    for _ in 0..10_000 {
        let mut largest = 0.0f64;
        for j in 0..m {
            let a = pass.hess[j * m + j];
            let c = pass.grad[j] + hd[j] - a * (v[j] - theta[j]);
            let new = if j == d {
                theta[j] - c / a
            } else {
                let z = a * theta[j] - c;
                z.signum() * (z.abs() - l1).max(0.0) / a
            };
            let change = new - v[j];
            if change != 0.0 {
                for (k, h) in hd.iter_mut().enumerate() {
                    *h += pass.hess[k * m + j] * change;
                }
                v[j] = new;
                largest = largest.max(change.abs());
            }
        }
        if largest <= 1e-15 * (1.0 + v.iter().fold(0.0f64, |a, x| a.max(x.abs()))) {
            break;
        }
    }
    v
}
#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2};

    use crate::features::{FeatureTable, TrainingSet};
    use crate::model::{ClassWeight, Intercept, LogisticRegression, Penalty};

    fn golden_data(n: usize) -> TrainingSet {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let d = 6;
        let mut x = Array2::zeros((n, d));
        let mut y = Array1::from_elem(n, false);
        for i in 0..n {
            let mut z = -0.5;
            for j in 0..d {
                let v = next() * (1.0 + j as f64) * 10.0 - 3.0 * j as f64;
                x[[i, j]] = if j == 5 { 7.0 } else { v };
                z += [0.08, -0.05, 0.03, 0.0, 0.01, 0.0][j] * v;
            }
            y[i] = next() < 1.0 / (1.0 + (-z).exp());
        }
        let table = FeatureTable::new(
            (0..n as u64).map(Into::into).collect(),
            (0..d).map(|j| format!("x{j}")).collect(),
            x,
        )
        .unwrap();
        TrainingSet::new(table, y).unwrap()
    }

    /// The bits of the coefficients, intercepts, sum of the predictions and
    /// last prediction, recorded before `logistic.rs` was split into this
    /// folder (same data, same configs): the split changed no result. The
    /// 120 000-row fits take the subsample warm start.
    const GOLDEN: [(usize, &str, u32, &[u64; 16]); 8] = [
        (
            500,
            "l2",
            5,
            &[
                4597445265891028235,
                13817648551870618216,
                4600246659612106224,
                4590299951983113368,
                4597610318773721761,
                0,
                4584981577114545674,
                4590495670387015145,
                13806257271896565156,
                4586119883567176859,
                4574419227434493972,
                4580351758780383618,
                0,
                13829555903996105933,
                4643140847074800787,
                4602952523775178355,
            ],
        ),
        (
            500,
            "l1",
            4,
            &[
                4596440836308398258,
                13816382917878200676,
                4599799236818201798,
                4587515216262517775,
                4596494118219767482,
                0,
                4584939906526327789,
                4589788058216368750,
                13804933965277522592,
                4585714377208151511,
                4571719447110152991,
                4579301317716683444,
                0,
                13828667244806999783,
                4643140847074803712,
                4603087139866270011,
            ],
        ),
        (
            500,
            "en",
            4,
            &[
                4597088315002980844,
                13817310757228177287,
                4600079578613418480,
                4589634733317002245,
                4597209030814652704,
                0,
                4564166534258504265,
                4590244201496539005,
                13805779325962952763,
                4585968455413843530,
                4573502149686145678,
                4580096405429125148,
                0,
                13829527575490920705,
                4643007851259075258,
                4602926256628413840,
            ],
        ),
        (
            500,
            "none_noint",
            5,
            &[
                4597531951024991148,
                13817696028680824277,
                4600308822834294325,
                4590349369583692032,
                4597702952997634359,
                0,
                0,
                4590556739332879584,
                13806324446876650408,
                4586176223079240621,
                4574487355080599269,
                4580403270205494477,
                0,
                13829942292069044220,
                4643002135233887034,
                4602879158481832660,
            ],
        ),
        (
            120000,
            "l2",
            4,
            &[
                4597643944670857263,
                13822173992598217084,
                4598521460654198943,
                4568129409035007242,
                4594346567738649104,
                0,
                13810166299577636649,
                4590528229312563831,
                13810657584193169493,
                4584631396481625672,
                4552435682901667781,
                4576894413512748505,
                0,
                13826216384520038568,
                4678299243201316334,
                4599641635595541069,
            ],
        ),
        (
            120000,
            "l1",
            2,
            &[
                4597640101192702668,
                13822172082594190852,
                4598519550569433910,
                4567885098901465959,
                4594342739934634384,
                0,
                13810166008581626822,
                4590525570319935368,
                13810654931685344171,
                4584627862049049817,
                4552096610097795050,
                4576890170117113256,
                0,
                13826213096838962422,
                4678299243201279712,
                4599643492709917522,
            ],
        ),
        (
            120000,
            "en",
            2,
            &[
                4597643227116527562,
                13822173374051869370,
                4598520875441473221,
                4568077982439304617,
                4594345155324458888,
                0,
                13791025785436009053,
                4590527732894580834,
                13810656725190253739,
                4584630313600405183,
                4552364309030491161,
                4576892847750189377,
                0,
                13825594260610030617,
                4678469760488733894,
                4599817644386144930,
            ],
        ),
        (
            120000,
            "none_noint",
            4,
            &[
                4597639916006524511,
                13822171704068658365,
                4598519325282629519,
                4568100556993697395,
                4594343755030620050,
                0,
                0,
                4590525442204550603,
                13810654406010045471,
                4584627445176963862,
                4552395639771231161,
                4576891295423910148,
                0,
                13825548329276386146,
                4678479094521590439,
                4599828075238171536,
            ],
        ),
    ];

    #[test]
    fn fits_and_scores_are_bit_identical_to_before_the_split() {
        for n in [500, 120_000] {
            let data = golden_data(n);
            for (name, cfg) in [
                ("l2", LogisticRegression::new()),
                (
                    "l1",
                    LogisticRegression::new().penalty(Penalty::L1 { alpha: 3.0 }),
                ),
                (
                    "en",
                    LogisticRegression::new()
                        .penalty(Penalty::ElasticNet {
                            alpha: 2.0,
                            l1_ratio: 0.5,
                        })
                        .class_weight(ClassWeight::Balanced),
                ),
                (
                    "none_noint",
                    LogisticRegression::new()
                        .penalty(Penalty::None)
                        .intercept(Intercept::None),
                ),
            ] {
                let m = cfg.fit(&data).unwrap();
                let p = m.predict_proba(data.features().values()).unwrap();
                let psum: f64 = p.iter().sum();
                let bits: Vec<u64> = m
                    .coefficients()
                    .iter()
                    .chain([m.intercept()].iter())
                    .chain(m.raw_coefficients())
                    .chain([m.raw_intercept(), psum, p[n - 1]].iter())
                    .map(|v| v.to_bits())
                    .collect();
                let (_, _, iterations, expected) =
                    GOLDEN.iter().find(|g| g.0 == n && g.1 == name).unwrap();
                assert_eq!(m.iterations(), *iterations, "{n} {name}");
                assert_eq!(bits, expected.to_vec(), "{n} {name}");
            }
        }
    }
}
