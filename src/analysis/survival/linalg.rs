//! Small dense symmetric positive-definite algebra for the log-rank
//! covariance and the Cox information matrix (p × p, row-major).

/// The lower Cholesky factor of `a` (`n × n`, row-major), or the index of
/// the first column that is (numerically) a combination of the earlier
/// ones: a pivot at or below `1e-12` of its diagonal entry, or not finite.
pub(super) fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>, usize> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut sum = a[i * n + j];
            for k in 0..j {
                sum -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                let scale = a[i * n + i].abs();
                if !(sum.is_finite() && sum > 1e-12 * scale && sum > 0.0) {
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
pub(super) fn solve(l: &[f64], b: &[f64]) -> Vec<f64> {
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

/// The diagonal of `A⁻¹` given the factor `L` of `A`.
pub(super) fn inverse_diagonal(l: &[f64], n: usize) -> Vec<f64> {
    (0..n)
        .map(|j| {
            let mut e = vec![0.0; n];
            e[j] = 1.0;
            solve(l, &e)[j]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// By hand: A = [[4, 2], [2, 3]], b = [2, 1] → x = [0.5, 0];
    /// A⁻¹ = [[3, −2], [−2, 4]] / 8.
    #[test]
    fn solves_and_inverts_a_hand_checked_system() {
        let l = cholesky(&[4.0, 2.0, 2.0, 3.0], 2).unwrap();
        let x = solve(&l, &[2.0, 1.0]);
        assert_abs_diff_eq!(x[0], 0.5, epsilon = 1e-15);
        assert_abs_diff_eq!(x[1], 0.0, epsilon = 1e-15);
        let d = inverse_diagonal(&l, 2);
        assert_abs_diff_eq!(d[0], 3.0 / 8.0, epsilon = 1e-15);
        assert_abs_diff_eq!(d[1], 0.5, epsilon = 1e-15);
    }

    #[test]
    fn names_the_dependent_column() {
        // Column 2 = column 0 + column 1.
        let a = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 2.0];
        assert_eq!(cholesky(&a, 3), Err(2));
    }
}
