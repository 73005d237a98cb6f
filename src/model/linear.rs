//! The linear part shared by logistic and ridge regression.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::standardize::FittedStandardizer;
use crate::{Error, ErrorKind, Result};

/// Rows per chunk of parallel prediction (fixed: results do not depend on the thread count).
const CHUNK: usize = 4096;

/// A linear function fitted on standardized features, kept with its
/// standardizer and its equivalent on the raw features.
///
/// Deserialization checks that every per-feature vector has one entry per
/// feature name and that every number is usable, so an edited or truncated
/// model file is rejected when it loads instead of failing (or scoring
/// wrongly) later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "LinearRepr")]
pub(crate) struct Linear {
    pub(crate) feature_names: Vec<String>,
    pub(crate) standardizer: FittedStandardizer,
    pub(crate) coefficients: Vec<f64>,
    pub(crate) intercept: f64,
    pub(crate) raw_coefficients: Vec<f64>,
    pub(crate) raw_intercept: f64,
}

/// The serialized form of [`Linear`], checked on the way in.
#[derive(Deserialize)]
struct LinearRepr {
    feature_names: Vec<String>,
    standardizer: FittedStandardizer,
    coefficients: Vec<f64>,
    intercept: f64,
    raw_coefficients: Vec<f64>,
    raw_intercept: f64,
}

impl TryFrom<LinearRepr> for Linear {
    type Error = Error;

    fn try_from(r: LinearRepr) -> Result<Self> {
        let n = r.feature_names.len();
        let vectors: [(&'static str, &[f64]); 4] = [
            ("standardizer means", r.standardizer.means()),
            ("standardizer scales", r.standardizer.raw_scales()),
            ("coefficients", &r.coefficients),
            ("raw coefficients", &r.raw_coefficients),
        ];
        for (what, v) in vectors {
            if v.len() != n {
                return Err(ErrorKind::SchemaMismatch {
                    reason: format!("the model has {n} feature names but {} {what}", v.len()),
                }
                .into());
            }
            if let Some((j, x)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                return Err(ErrorKind::SchemaMismatch {
                    reason: format!("{what} entry {j} is not finite ({x})"),
                }
                .into());
            }
        }
        if let Some((j, s)) = r
            .standardizer
            .raw_scales()
            .iter()
            .enumerate()
            .find(|(_, s)| **s < 0.0)
        {
            return Err(ErrorKind::SchemaMismatch {
                reason: format!("standardizer scale {j} is negative ({s})"),
            }
            .into());
        }
        for (what, b) in [
            ("intercept", r.intercept),
            ("raw intercept", r.raw_intercept),
        ] {
            if !b.is_finite() {
                return Err(ErrorKind::SchemaMismatch {
                    reason: format!("the {what} is not finite ({b})"),
                }
                .into());
            }
        }
        Ok(Linear {
            feature_names: r.feature_names,
            standardizer: r.standardizer,
            coefficients: r.coefficients,
            intercept: r.intercept,
            raw_coefficients: r.raw_coefficients,
            raw_intercept: r.raw_intercept,
        })
    }
}

impl Linear {
    /// From coefficients `w` and intercept `b` on standardized features:
    /// `w_raw = w / scale` (0 for constant columns), `b_raw = b − Σ w_raw · mean`.
    pub(crate) fn new(
        feature_names: Vec<String>,
        standardizer: FittedStandardizer,
        w: Vec<f64>,
        b: f64,
    ) -> Self {
        let constant = standardizer.constant_columns();
        let raw_coefficients: Vec<f64> = w
            .iter()
            .zip(standardizer.scales())
            .enumerate()
            .map(|(j, (w, s))| if constant.contains(&j) { 0.0 } else { w / s })
            .collect();
        let raw_intercept = b - raw_coefficients
            .iter()
            .zip(standardizer.means())
            .map(|(w, m)| w * m)
            .sum::<f64>();
        Linear {
            feature_names,
            standardizer,
            coefficients: w,
            intercept: b,
            raw_coefficients,
            raw_intercept,
        }
    }

    /// `b_raw + x · w_raw` for each raw row, then `link` applied to each
    /// chunk of results in place, in parallel.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if the column count differs;
    /// [`ErrorKind::NonFinite`] for a row whose terms overflow to +∞ and −∞.
    pub(crate) fn apply(
        &self,
        x: ArrayView2<'_, f64>,
        link: impl Fn(&mut [f64]) + Sync,
    ) -> Result<Vec<f64>> {
        let (w, b, d) = (
            &self.raw_coefficients,
            self.raw_intercept,
            self.raw_coefficients.len(),
        );
        if x.ncols() != d {
            return Err(ErrorKind::LengthMismatch {
                what: "feature columns for the model",
                expected: d,
                got: x.ncols(),
            }
            .into());
        }
        let mut out = vec![0.0; x.nrows()];
        let nan_in_chunk: Vec<bool> = out
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                match x.as_slice() {
                    // Row-major and contiguous: rows are slices and dot products
                    // vectorize. With AVX2, four rows at a time with prefetch;
                    // otherwise compiled for each SIMD level and dispatched at
                    // run time (pulp). Every kernel does the same operations in
                    // the same order, so results do not depend on the CPU.
                    Some(data) if d > 0 => {
                        let rows = &data[c * CHUNK * d..];
                        #[cfg(target_arch = "x86_64")]
                        let done = super::rows_avx2::linear_rows(rows, w, b, chunk, &link);
                        #[cfg(not(target_arch = "x86_64"))]
                        let done: Option<()> = None;
                        if done.is_none() {
                            pulp::Arch::new().dispatch(RowsKernel {
                                rows,
                                w,
                                b,
                                out: chunk,
                                link: &link,
                            });
                        }
                    }
                    _ => {
                        for (k, o) in chunk.iter_mut().enumerate() {
                            let row = x.row(c * CHUNK + k);
                            *o = b + row.iter().zip(w).map(|(a, b)| a * b).sum::<f64>();
                        }
                        link(chunk);
                    }
                }
                // Finite rows can still overflow: terms reaching +∞ and −∞
                // sum to NaN. Checked while the chunk is in cache (a fold,
                // not `any`, so it vectorizes).
                chunk.iter().fold(false, |nan, v| nan | v.is_nan())
            })
            .collect();
        if let Some(c) = nan_in_chunk.iter().position(|&nan| nan) {
            let i = c * CHUNK
                + out[c * CHUNK..]
                    .iter()
                    .position(|v| v.is_nan())
                    .unwrap_or(0);
            let row: Vec<f64> = x.row(i).to_vec();
            return Err(self.overflow(i, &row));
        }
        Ok(out)
    }

    /// The error for row `row` (raw values `values`) whose linear predictor
    /// is NaN because its terms overflow to +∞ and −∞: it names the first
    /// feature whose term `value × raw coefficient` is infinite.
    pub(crate) fn overflow(&self, row: usize, values: &[f64]) -> Error {
        let terms = values
            .iter()
            .zip(&self.raw_coefficients)
            .map(|(x, w)| x * w);
        let (j, term) = terms
            .enumerate()
            .find(|(_, t)| !t.is_finite())
            .unwrap_or((0, f64::NAN));
        ErrorKind::NonFinite {
            what: "feature value × coefficient (the value is too extreme for the model)",
            row,
            column: self.feature_names.get(j).cloned().unwrap_or_default(),
            value: term,
        }
        .into()
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
