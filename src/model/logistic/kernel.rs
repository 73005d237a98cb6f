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

/// Rows per block of [`linear_columns`]: its four lane sums stay in L1.
const COLUMN_BLOCK: usize = 256;

/// `out[k] = b + row(start + k) · w` where row `i` is `columns[j][i]` for
/// each column `j`: column-major data, such as Arrow arrays, read in place.
/// Each row is summed in exactly the order of [`dot`] (four lane sums over
/// the columns in steps of four, `(l0 + l1) + (l2 + l3)`, plus the
/// remaining columns in order), so the results are bit-identical to
/// [`linear_rows`] and single-row scoring. (The remaining columns are
/// summed from +0 where `dot` starts from −0; the sign of a zero there
/// never reaches the result, since the lane sums are never −0.) The caller
/// applies the link, after checking the linear predictors. Compiled for
/// each SIMD level and dispatched at run time (pulp).
pub(crate) fn linear_columns(columns: &[&[f64]], start: usize, w: &[f64], b: f64, out: &mut [f64]) {
    pulp::Arch::new().dispatch(ColumnsKernel {
        columns,
        start,
        w,
        b,
        out,
    });
}

/// [`linear_columns`] for one SIMD level.
struct ColumnsKernel<'a> {
    columns: &'a [&'a [f64]],
    start: usize,
    w: &'a [f64],
    b: f64,
    out: &'a mut [f64],
}

impl pulp::WithSimd for ColumnsKernel<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let lanes_end = self.w.len() / 4 * 4;
        let mut lanes = [[0.0; COLUMN_BLOCK]; 4];
        for (block, out) in self.out.chunks_mut(COLUMN_BLOCK).enumerate() {
            let (n, first) = (out.len(), self.start + block * COLUMN_BLOCK);
            let rows = first..first + n;
            for lane in &mut lanes {
                lane[..n].fill(0.0);
            }
            for j in 0..lanes_end {
                let (lane, wj) = (&mut lanes[j % 4][..n], self.w[j]);
                for (acc, x) in lane.iter_mut().zip(&self.columns[j][rows.clone()]) {
                    *acc += x * wj;
                }
            }
            // The columns after the last full step of four, summed in order.
            out.fill(0.0);
            for (column, wj) in self.columns[lanes_end..].iter().zip(&self.w[lanes_end..]) {
                for (tail, x) in out.iter_mut().zip(&column[rows.clone()]) {
                    *tail += x * wj;
                }
            }
            let [l0, l1, l2, l3] = &lanes;
            for (k, o) in out.iter_mut().enumerate() {
                *o = self.b + ((l0[k] + l1[k]) + (l2[k] + l3[k]) + *o);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Values over many magnitudes, so that summing in another order would
    /// change the last bits; signed zeros included.
    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            (-1.0e3..1.0e3_f64, -12..12_i32).prop_map(|(m, e)| m * 10f64.powi(e)),
            Just(0.0),
            Just(-0.0),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn columns_sum_like_dot_row_by_row(
            (d, n, start, x, w, b) in (0..14_usize, 0..700_usize, 0..3_usize).prop_flat_map(|(d, n, start)| (
                Just(d),
                Just(n),
                Just(start),
                proptest::collection::vec(value(), d * (n + start)),
                proptest::collection::vec(value(), d),
                value(),
            ))
        ) {
            let rows = n + start;
            // Column-major storage of a row-major `rows × d` matrix `x`.
            let columns: Vec<Vec<f64>> =
                (0..d).map(|j| (0..rows).map(|i| x[i * d + j]).collect()).collect();
            let columns: Vec<&[f64]> = columns.iter().map(Vec::as_slice).collect();
            let mut out = vec![f64::NAN; n];
            linear_columns(&columns, start, &w, b, &mut out);
            for (k, o) in out.iter().enumerate() {
                let i = start + k;
                let expected = b + dot(&x[i * d..(i + 1) * d], &w);
                prop_assert_eq!(o.to_bits(), expected.to_bits(), "row {}", i);
            }
        }
    }

    #[test]
    fn columns_give_the_linear_predictor_by_hand() {
        let (a, b) = ([1.0, 2.0, 3.0], [10.0, 20.0, 30.0]);
        let mut out = [0.0; 2];
        linear_columns(&[&a, &b], 1, &[2.0, 1.0], 0.5, &mut out);
        // Rows 1 and 2: 0.5 + 2·2 + 20 and 0.5 + 2·3 + 30.
        assert_eq!(out, [24.5, 36.5]);
    }
}
