//! Column standardization learned on training data.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{ErrorKind, Result};

/// Standardization configuration: learns each column's mean and population
/// standard deviation (ddof = 0, as scikit-learn's `StandardScaler`).
///
/// # Example
///
/// ```
/// use churnwise::model::Standardizer;
/// use ndarray::array;
///
/// let x = array![[1.0, 5.0], [3.0, 5.0]];
/// let s = Standardizer::new().fit(x.view())?;
/// assert_eq!(s.means(), [2.0, 5.0]);
/// assert_eq!(s.scales(), [1.0, 1.0]); // the constant column keeps scale 1
/// assert_eq!(s.constant_columns(), [1]);
/// assert_eq!(s.transform(x.view())?, array![[-1.0, 0.0], [1.0, 0.0]]);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standardizer;

impl Standardizer {
    /// A standardizer.
    pub fn new() -> Self {
        Standardizer
    }

    /// Learns means and scales. A constant column gets scale 1 (it is only centred).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Empty`] without rows; [`ErrorKind::NonFinite`] for a NaN or infinite value.
    pub fn fit(&self, x: ArrayView2<'_, f64>) -> Result<FittedStandardizer> {
        let n = x.nrows();
        if n == 0 {
            return Err(ErrorKind::Empty("cannot standardize a matrix without rows".into()).into());
        }
        if let Some(((row, col), &value)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(ErrorKind::NonFinite {
                what: "feature value",
                row,
                column: format!("column {col}"),
                value,
            }
            .into());
        }
        // Row-major passes (columns of a row-major matrix are strided).
        let d = x.ncols();
        let owned;
        let data = match x.as_slice() {
            Some(s) => s,
            None => {
                owned = x.iter().copied().collect::<Vec<f64>>();
                &owned
            }
        };
        // Fixed chunks summed in order: the same result on any thread count.
        let chunk = 8192 * d.max(1);
        let column_sums = |f: &(dyn Fn(usize, f64) -> f64 + Sync)| -> Vec<f64> {
            let partials: Vec<Vec<f64>> = data
                .par_chunks(chunk)
                .map(|rows| {
                    let mut acc = vec![0.0; d];
                    for row in rows.chunks_exact(d.max(1)) {
                        acc.iter_mut()
                            .zip(row)
                            .enumerate()
                            .for_each(|(j, (a, v))| *a += f(j, *v));
                    }
                    acc
                })
                .collect();
            partials.iter().fold(vec![0.0; d], |mut total, p| {
                total.iter_mut().zip(p).for_each(|(t, v)| *t += v);
                total
            })
        };
        let means: Vec<f64> = column_sums(&|_, v| v)
            .iter()
            .map(|s| s / n as f64)
            .collect();
        let squares = column_sums(&|j, v| (v - means[j]) * (v - means[j]));
        let scales = squares.iter().map(|q| (q / n as f64).sqrt()).collect();
        Ok(FittedStandardizer { means, scales })
    }
}

/// Learned column means and scales; `(x − mean) / scale`, with scale 1 for constant columns.
///
/// # Example
///
/// See [`Standardizer`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedStandardizer {
    means: Vec<f64>,
    /// Population standard deviations; 0 marks a constant column.
    scales: Vec<f64>,
}

impl FittedStandardizer {
    /// The configuration it was fitted with.
    pub fn params(&self) -> Standardizer {
        Standardizer
    }

    /// Column means.
    pub fn means(&self) -> &[f64] {
        &self.means
    }

    /// Column scales (standard deviations; 1 for constant columns).
    pub fn scales(&self) -> Vec<f64> {
        self.scales
            .iter()
            .map(|&s| if s > 0.0 { s } else { 1.0 })
            .collect()
    }

    /// Columns that were constant on the training data.
    pub fn constant_columns(&self) -> Vec<usize> {
        self.scales
            .iter()
            .enumerate()
            .filter(|(_, s)| **s == 0.0)
            .map(|(i, _)| i)
            .collect()
    }

    /// Number of columns.
    pub fn ncols(&self) -> usize {
        self.means.len()
    }

    /// Standardizes a matrix.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if the column count differs from the fitted one.
    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if x.ncols() != self.means.len() {
            return Err(ErrorKind::LengthMismatch {
                what: "columns of the standardized matrix",
                expected: self.means.len(),
                got: x.ncols(),
            }
            .into());
        }
        let mut out = x.to_owned();
        for mut row in out.rows_mut() {
            for ((v, m), &s) in row.iter_mut().zip(&self.means).zip(&self.scales) {
                // A constant column is exactly 0, whatever rounding its mean carries.
                *v = if s > 0.0 { (*v - m) / s } else { 0.0 };
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn population_std_and_errors() {
        let s = Standardizer::new()
            .fit(array![[0.0], [2.0], [4.0], [6.0]].view())
            .unwrap();
        approx::assert_abs_diff_eq!(s.scales()[0], 5.0f64.sqrt(), epsilon = 1e-15);
        assert!(
            Standardizer::new()
                .fit(Array2::<f64>::zeros((0, 2)).view())
                .is_err()
        );
        assert!(Standardizer::new().fit(array![[f64::NAN]].view()).is_err());
        assert!(s.transform(array![[1.0, 2.0]].view()).is_err());
    }
}
