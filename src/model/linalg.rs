//! Small dense linear algebra for the d×d systems of the solvers.

/// Solves `A x = b` for symmetric positive-definite `A` (row-major, `n × n`)
/// by Cholesky factorization; `None` if `A` is not positive definite.
pub(crate) fn cholesky_solve(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let l = cholesky(a, b.len())?;
    Some(solve_factored(&l, b))
}

/// The lower-triangular Cholesky factor `L` of `A = L Lᵀ`, row-major.
pub(crate) fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    cholesky_checked(a, n, 0.0).ok()
}

/// The Cholesky factor, or the index of the first column that is
/// (numerically) a combination of the earlier ones: a pivot not above
/// `relative_pivot` times its diagonal entry (and above 0), or not finite.
pub(crate) fn cholesky_checked(
    a: &[f64],
    n: usize,
    relative_pivot: f64,
) -> Result<Vec<f64>, usize> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut sum = a[i * n + j];
            for k in 0..j {
                sum -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                let floor = relative_pivot * a[i * n + i].abs();
                if !(sum > 0.0 && sum.is_finite() && sum > floor) {
                    return Err(i);
                }
                l[i * n + i] = sum.sqrt();
            } else {
                l[i * n + j] = sum / l[j * n + j];
            }
        }
    }
    Ok(l)
}

/// Solves `L Lᵀ x = b` given the factor `L`.
pub(crate) fn solve_factored(l: &[f64], b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let mut y = b.to_vec();
    for i in 0..n {
        for k in 0..i {
            y[i] -= l[i * n + k] * y[k];
        }
        y[i] /= l[i * n + i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            y[i] -= l[k * n + i] * y[k];
        }
        y[i] /= l[i * n + i];
    }
    y
}

/// The diagonal of `A⁻¹` given the factor `L` of `A` (standard errors).
pub(crate) fn inverse_diagonal(l: &[f64], n: usize) -> Vec<f64> {
    (0..n)
        .map(|j| {
            let mut e = vec![0.0; n];
            e[j] = 1.0;
            solve_factored(l, &e)[j]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_hand_checked_system() {
        // A = [[4, 2], [2, 3]], b = [2, 1] → x = [0.5, 0]
        let x = cholesky_solve(&[4.0, 2.0, 2.0, 3.0], &[2.0, 1.0]).unwrap();
        approx::assert_abs_diff_eq!(x[0], 0.5, epsilon = 1e-15);
        approx::assert_abs_diff_eq!(x[1], 0.0, epsilon = 1e-15);
        assert!(cholesky_solve(&[1.0, 2.0, 2.0, 1.0], &[1.0, 1.0]).is_none());
        // A⁻¹ = [[3, −2], [−2, 4]] / 8.
        let d = inverse_diagonal(&cholesky(&[4.0, 2.0, 2.0, 3.0], 2).unwrap(), 2);
        approx::assert_abs_diff_eq!(d[0], 3.0 / 8.0, epsilon = 1e-15);
        approx::assert_abs_diff_eq!(d[1], 0.5, epsilon = 1e-15);
    }

    #[test]
    fn names_the_dependent_column() {
        // Column 2 = column 0 + column 1: its pivot is 0 up to rounding.
        let a = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 2.0];
        assert_eq!(cholesky_checked(&a, 3, 1e-12), Err(2));
    }
}
