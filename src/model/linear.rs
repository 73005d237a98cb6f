//! The linear part shared by logistic and ridge regression.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::logistic::kernel::{dot, linear_columns, linear_rows};
use super::standardize::FittedStandardizer;
use crate::{Error, ErrorKind, Result};

/// Whether a linear model fits an intercept.
///
/// # Example
///
/// ```
/// use churnwise::model::{Intercept, LogisticRegression};
/// # let train = churnwise::doc_support::recency_set()?;
///
/// // Through the origin of the standardized features: the log-odds are 0
/// // (a probability of one half) at the training means.
/// let model = LogisticRegression::new().intercept(Intercept::None).fit(&train)?;
/// assert_eq!(model.intercept(), 0.0);
/// let at_mean = model.predict_proba(ndarray::array![[model.standardizer().means()[0]]].view())?;
/// approx::assert_abs_diff_eq!(at_mean[0], 0.5, epsilon = 1e-12);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Intercept {
    /// Fit an intercept (the default).
    #[default]
    Fit,
    /// No intercept: the model passes through the origin of the
    /// standardized features.
    None,
}

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
        // The raw-scale coefficients are derived from the standardized ones;
        // a file whose two sets disagree would score with one and explain
        // with the other, so it is refused.
        let derived = Linear::new(r.feature_names, r.standardizer, r.coefficients, r.intercept);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-3);
        let saved = r.raw_coefficients.iter().chain([&r.raw_intercept]);
        let want = derived
            .raw_coefficients
            .iter()
            .chain([&derived.raw_intercept]);
        if let Some((j, (a, b))) = saved
            .zip(want)
            .enumerate()
            .find(|(_, (a, b))| !close(**a, **b))
        {
            let what = if j == derived.feature_names.len() {
                "the raw intercept".to_owned()
            } else {
                format!("raw coefficient {j} (`{}`)", derived.feature_names[j])
            };
            return Err(ErrorKind::SchemaMismatch {
                reason: format!(
                    "{what} is {a} but the standardized coefficients and the standardizer give {b}"
                ),
            }
            .into());
        }
        Ok(derived)
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
        check_column_count(d, x.ncols())?;
        self.chunked(
            x.nrows(),
            |first, chunk| {
                match x.as_slice() {
                    // Row-major and contiguous: rows are slices and dot products
                    // vectorize. With AVX2, four rows at a time with prefetch;
                    // otherwise compiled for each SIMD level and dispatched at
                    // run time (pulp). Every kernel does the same operations in
                    // the same order, so results do not depend on the CPU.
                    Some(data) if d > 0 => linear_rows(&data[first * d..], w, b, chunk, &link),
                    // Strided rows (a column selection, a transposed view):
                    // copied into a buffer so that every row is summed by
                    // `dot`, as in single-row scoring.
                    _ => {
                        let mut row = vec![0.0; d];
                        for (k, o) in chunk.iter_mut().enumerate() {
                            row.iter_mut()
                                .zip(x.row(first + k))
                                .for_each(|(r, v)| *r = *v);
                            *o = b + dot(&row, w);
                        }
                        link(chunk);
                    }
                }
                Ok(())
            },
            |i| x.row(i).to_vec(),
        )
    }

    /// [`apply`](Self::apply) for `rows` rows held as columns (one slice per
    /// feature, in feature order), read in place; bit-identical to
    /// [`apply`](Self::apply) on the same rows. Unlike `apply`, NaN and
    /// infinite values are errors; they cost no pass of their own, since a
    /// non-finite value always makes its row's linear predictor non-finite:
    /// the values are scanned only in chunks where a predictor is.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if the column count differs or a
    /// column does not have `rows` values; [`ErrorKind::NonFinite`] naming
    /// the feature and row of the first NaN or infinite value, or as for
    /// [`apply`](Self::apply).
    pub(crate) fn apply_columns(
        &self,
        columns: &[&[f64]],
        rows: usize,
        link: impl Fn(&mut [f64]) + Sync,
    ) -> Result<Vec<f64>> {
        let (w, b, d) = (
            &self.raw_coefficients,
            self.raw_intercept,
            self.raw_coefficients.len(),
        );
        check_columns(columns, d, rows)?;
        self.chunked(
            rows,
            |first, chunk| {
                linear_columns(columns, first, w, b, chunk);
                if !chunk.iter().fold(true, |finite, z| finite & z.is_finite()) {
                    let inputs = first..first + chunk.len();
                    check_finite(columns, inputs, &self.feature_names)?;
                }
                link(chunk);
                Ok(())
            },
            |i| columns.iter().map(|c| c[i]).collect(),
        )
    }

    /// Runs `kernel(first_row, chunk)` over the output in fixed chunks of
    /// [`CHUNK`] rows in parallel, and reports
    /// the first chunk's error in row order, or the first row whose result
    /// is NaN (its values from `row`) as an overflow.
    fn chunked(
        &self,
        rows: usize,
        kernel: impl Fn(usize, &mut [f64]) -> Result<()> + Sync,
        row: impl Fn(usize) -> Vec<f64>,
    ) -> Result<Vec<f64>> {
        let mut out = vec![0.0; rows];
        let nan_in_chunk: Vec<Result<bool>> = out
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                kernel(c * CHUNK, chunk)?;
                // Finite rows can still overflow: terms reaching +∞ and −∞
                // sum to NaN. Checked while the chunk is in cache (a fold,
                // not `any`, so it vectorizes).
                Ok(chunk.iter().fold(false, |nan, v| nan | v.is_nan()))
            })
            .collect();
        for (c, nan) in nan_in_chunk.into_iter().enumerate() {
            if nan? {
                let i = c * CHUNK
                    + out[c * CHUNK..]
                        .iter()
                        .position(|v| v.is_nan())
                        .unwrap_or(0);
                return Err(self.overflow(i, &row(i)));
            }
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

/// Checks that a model of `expected` features gets `got` columns.
///
/// # Errors
///
/// [`ErrorKind::LengthMismatch`] if it does not.
pub(crate) fn check_column_count(expected: usize, got: usize) -> Result<()> {
    if got != expected {
        return Err(ErrorKind::LengthMismatch {
            what: "feature columns for the model",
            expected,
            got,
        }
        .into());
    }
    Ok(())
}

/// Checks that there are `expected` feature columns of `rows` values each.
///
/// # Errors
///
/// [`ErrorKind::LengthMismatch`] if there are not.
pub(crate) fn check_columns(columns: &[&[f64]], expected: usize, rows: usize) -> Result<()> {
    check_column_count(expected, columns.len())?;
    match columns.iter().find(|c| c.len() != rows) {
        Some(column) => Err(ErrorKind::LengthMismatch {
            what: "values in each feature column",
            expected: rows,
            got: column.len(),
        }
        .into()),
        None => Ok(()),
    }
}

/// Checks that the values of `rows` in every column are finite.
///
/// # Errors
///
/// [`ErrorKind::NonFinite`] naming the feature (from `names`) and row of
/// the first value that is not, in row order.
pub(crate) fn check_finite(
    columns: &[&[f64]],
    rows: std::ops::Range<usize>,
    names: &[String],
) -> Result<()> {
    let first_bad = columns
        .iter()
        .enumerate()
        .filter_map(|(j, column)| {
            let values = &column[rows.clone()];
            // A fold first, so the common all-finite case vectorizes.
            if values.iter().fold(true, |finite, v| finite & v.is_finite()) {
                return None;
            }
            let k = values.iter().position(|v| !v.is_finite())?;
            Some((rows.start + k, j, values[k]))
        })
        .min_by_key(|&(row, j, _)| (row, j));
    match first_bad {
        Some((row, j, value)) => Err(ErrorKind::NonFinite {
            what: "feature value",
            row,
            column: names.get(j).cloned().unwrap_or_default(),
            value,
        }
        .into()),
        None => Ok(()),
    }
}
