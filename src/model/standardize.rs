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
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::Standardizer;
    ///
    /// assert_eq!(Standardizer::new(), Standardizer::default());
    /// ```
    pub fn new() -> Self {
        Standardizer
    }

    /// Learns means and scales. A constant column gets scale 1 (it is only centred).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Empty`] without rows; [`ErrorKind::NonFinite`] for a NaN or infinite value.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::Standardizer;
    /// use ndarray::array;
    ///
    /// let fitted = Standardizer::new().fit(array![[2.0], [4.0], [6.0], [8.0]].view())?;
    /// assert_eq!(fitted.means(), [5.0]);
    /// assert_eq!(fitted.scales()[0], 5.0_f64.sqrt()); // population standard deviation
    /// assert!(Standardizer::new().fit(array![[f64::NAN]].view()).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit(&self, x: ArrayView2<'_, f64>) -> Result<FittedStandardizer> {
        let n = x.nrows();
        if n == 0 {
            return Err(ErrorKind::Empty("cannot standardize a matrix without rows".into()).into());
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
        if let Some(i) = first_non_finite(data) {
            return Err(ErrorKind::NonFinite {
                what: "feature value",
                row: i / d.max(1),
                column: format!("column {}", i % d.max(1)),
                value: data[i],
            }
            .into());
        }
        // Fixed chunks summed in order: the same result on any thread count.
        let chunk = 8192 * d.max(1);
        let add = |total: Vec<f64>, part: Vec<f64>| {
            total
                .into_iter()
                .zip(part)
                .map(|(a, b)| a + b)
                .collect::<Vec<f64>>()
        };
        let sums: Vec<Vec<f64>> = data
            .par_chunks(chunk)
            .map(|rows| {
                let mut acc = vec![0.0; d];
                for row in rows.chunks_exact(d.max(1)) {
                    for (a, v) in acc.iter_mut().zip(row) {
                        *a += v;
                    }
                }
                acc
            })
            .collect();
        let means: Vec<f64> = sums
            .into_iter()
            .fold(vec![0.0; d], add)
            .iter()
            .map(|s| s / n as f64)
            .collect();
        let squares: Vec<Vec<f64>> = data
            .par_chunks(chunk)
            .map(|rows| {
                let mut acc = vec![0.0; d];
                for row in rows.chunks_exact(d.max(1)) {
                    for ((a, v), m) in acc.iter_mut().zip(row).zip(&means) {
                        *a += (v - m) * (v - m);
                    }
                }
                acc
            })
            .collect();
        let squares = squares.into_iter().fold(vec![0.0; d], add);
        let scales = squares.iter().map(|q| (q / n as f64).sqrt()).collect();
        Ok(FittedStandardizer { means, scales })
    }
}

/// The index of the first NaN or infinite value. The common all-finite case
/// is one vectorized pass: `v · 0` is 0 for finite `v` and NaN otherwise.
fn first_non_finite(data: &[f64]) -> Option<usize> {
    let mut acc = [0.0f64; 8];
    let chunks = data.chunks_exact(8);
    let tail_finite = chunks.remainder().iter().all(|v| v.is_finite());
    for c in chunks {
        for k in 0..8 {
            acc[k] += c[k] * 0.0;
        }
    }
    if tail_finite && acc.iter().all(|a| *a == 0.0) {
        return None;
    }
    data.iter().position(|v| !v.is_finite())
}

/// Learned column means and scales; `(x − mean) / scale`, with scale 1 for constant columns.
///
/// Fitted on training rows and applied unchanged to new rows, so scoring
/// sees the same scale as training.
///
/// # Example
///
/// ```
/// use churnwise::model::Standardizer;
/// use ndarray::array;
///
/// let fitted = Standardizer::new().fit(array![[1.0, 7.0], [3.0, 7.0]].view())?;
/// assert_eq!(fitted.means(), [2.0, 7.0]);
/// assert_eq!(fitted.scales(), [1.0, 1.0]); // the constant column keeps scale 1
/// assert_eq!(fitted.constant_columns(), [1]);
/// let z = fitted.transform(array![[4.0, 7.0]].view())?;
/// assert_eq!(z.row(0).to_vec(), [2.0, 0.0]);
/// assert!(fitted.transform(array![[4.0]].view()).is_err()); // wrong column count
/// # Ok::<(), churnwise::Error>(())
/// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::Standardizer;
    /// # use ndarray::array;
    /// # let fitted = Standardizer::new().fit(array![[1.0, 7.0], [3.0, 7.0]].view())?;
    /// assert_eq!(fitted.scales(), [1.0, 1.0]); // column 1 is constant: scale 1
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn scales(&self) -> Vec<f64> {
        self.scales
            .iter()
            .map(|&s| if s > 0.0 { s } else { 1.0 })
            .collect()
    }

    /// The stored scales, 0 for constant columns (for validation on load).
    pub(crate) fn raw_scales(&self) -> &[f64] {
        &self.scales
    }

    /// Columns that were constant on the training data.
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::Standardizer;
    /// # use ndarray::array;
    /// # let fitted = Standardizer::new().fit(array![[1.0, 7.0], [3.0, 7.0]].view())?;
    /// assert_eq!(fitted.constant_columns(), [1]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # use churnwise::model::Standardizer;
    /// # use ndarray::array;
    /// # let fitted = Standardizer::new().fit(array![[1.0, 7.0], [3.0, 7.0]].view())?;
    /// // A column constant in training maps to 0.
    /// assert_eq!(fitted.transform(array![[0.0, 8.0]].view())?, array![[-2.0, 0.0]]);
    /// assert!(fitted.transform(array![[0.0]].view()).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
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
    fn finds_the_first_non_finite_value_anywhere() {
        let mut v = vec![1.5; 37];
        assert_eq!(first_non_finite(&v), None);
        for (i, bad) in [(3, f64::NAN), (17, f64::INFINITY), (36, f64::NEG_INFINITY)] {
            v[i] = bad;
            assert_eq!(first_non_finite(&v), Some(3));
        }
        let err = Standardizer::new()
            .fit(Array2::from_shape_vec((37, 1), v).unwrap().view())
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::NonFinite { row: 3, .. }));
    }

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
