//! The numeric inner loops of logistic (and ridge) regression: the solver's
//! per-chunk pass, the dot product, and the batch linear predictor (portable,
//! and four rows at a time with AVX2 in [`avx2`]).
//!
//! Every kernel does the same floating-point operations in the same order
//! at every SIMD level, so fits and scores are bit-identical whatever the CPU.

#[cfg(target_arch = "x86_64")]
mod avx2;

use super::solver::{BLOCK, Pass, Problem, Want};
use crate::model::link::exp_non_positive;

/// One chunk of rows of [`Problem::pass`], accumulated into `pass`.
pub(super) struct ChunkPass<'p, 'a> {
    pub(super) problem: &'p Problem<'a>,
    pub(super) w: &'p [f64],
    pub(super) b: f64,
    pub(super) want: Want,
    pub(super) rows: std::ops::Range<usize>,
    pub(super) pass: Pass,
}

impl pulp::WithSimd for ChunkPass<'_, '_> {
    type Output = Pass;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Pass {
        let ChunkPass {
            problem,
            w,
            b,
            want,
            rows,
            pass: mut p,
        } = self;
        let (hessian, with_loss) = (want == Want::Hessian, want == Want::Loss);
        let d = problem.dim();
        let m = d + 1;
        let (mut z, mut r, mut q, mut t, mut e) = (
            [0.0; BLOCK],
            [0.0; BLOCK],
            [0.0; BLOCK],
            [0.0; BLOCK],
            [0.0; BLOCK],
        );
        let mut buf = vec![0.0; d * BLOCK];
        for start in rows.clone().step_by(BLOCK) {
            let len = BLOCK.min(rows.end - start);
            problem.block(start, len, &mut buf);
            let col = |j: usize| &buf[j * BLOCK..j * BLOCK + len];
            let (z, r, q, t, e) = (
                &mut z[..len],
                &mut r[..len],
                &mut q[..len],
                &mut t[..len],
                &mut e[..len],
            );
            z.fill(b);
            for (j, wj) in w.iter().enumerate() {
                for (zi, x) in z.iter_mut().zip(col(j)) {
                    *zi += wj * x;
                }
            }
            // One exponential serves both σ(z) and log(1 + eᶻ); a loop of its own vectorizes.
            for (ei, zi) in e.iter_mut().zip(z.iter()) {
                *ei = exp_non_positive(-zi.abs());
            }
            for k in 0..len {
                let (zi, ei) = (z[k], e[k]);
                let i = start + k;
                let prob = if zi >= 0.0 {
                    1.0 / (1.0 + ei)
                } else {
                    ei / (1.0 + ei)
                };
                let (yi, si) = (f64::from(u8::from(problem.y[i])), problem.s[i]);
                if with_loss {
                    p.loss += si * (zi.max(0.0) + ei.ln_1p() - yi * zi);
                }
                r[k] = si * (prob - yi);
                q[k] = si * prob * (1.0 - prob);
            }
            for j in 0..d {
                p.grad[j] += dot(col(j), r);
            }
            p.grad[d] += r.iter().sum::<f64>();
            if hessian {
                for j in 0..d {
                    for ((ti, x), qi) in t.iter_mut().zip(col(j)).zip(q.iter()) {
                        *ti = x * qi;
                    }
                    for k in 0..=j {
                        p.hess[j * m + k] += dot(t, col(k));
                    }
                    p.hess[d * m + j] += t.iter().sum::<f64>();
                }
                p.hess[d * m + d] += q.iter().sum::<f64>();
            }
        }
        p
    }
}

/// `out[k] = link(b + rows[k] · w)` for the first `out.len()` contiguous rows
/// of `w.len()` columns (`rows` may run past them: they are only
/// prefetched). With AVX2, four rows at a time with prefetch; otherwise
/// compiled for each SIMD level and dispatched at run time (pulp). Every
/// path gives the same bits as [`dot`] row by row.
pub(crate) fn linear_rows(
    rows: &[f64],
    w: &[f64],
    b: f64,
    out: &mut [f64],
    link: &impl Fn(&mut [f64]),
) {
    #[cfg(target_arch = "x86_64")]
    let done = avx2::linear_rows(rows, w, b, out, link);
    #[cfg(not(target_arch = "x86_64"))]
    let done: Option<()> = None;
    if done.is_none() {
        pulp::Arch::new().dispatch(RowsKernel {
            rows,
            w,
            b,
            out,
            link,
        });
    }
}

/// `out[k] = link(b + rows[k] · w)` for contiguous rows, for one SIMD level.
struct RowsKernel<'a, L> {
    rows: &'a [f64],
    w: &'a [f64],
    b: f64,
    out: &'a mut [f64],
    link: &'a L,
}

impl<L: Fn(&mut [f64])> pulp::WithSimd for RowsKernel<'_, L> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let d = self.w.len();
        for (o, row) in self.out.iter_mut().zip(self.rows.chunks_exact(d)) {
            *o = self.b + dot(row, self.w);
        }
        (self.link)(self.out);
    }
}

/// Dot product with four accumulators, so it vectorizes (a fixed order: deterministic).
#[inline(always)]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a4.zip(b4) {
        // Four named lanes, so they are one vector operation (chunks_exact
        // always yields four: the pattern always matches).
        if let (&[x0, x1, x2, x3], &[y0, y1, y2, y3]) = (x, y) {
            acc = [
                acc[0] + x0 * y0,
                acc[1] + x1 * y1,
                acc[2] + x2 * y2,
                acc[3] + x3 * y3,
            ];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}
