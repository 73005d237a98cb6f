//! Special functions the customer-base models need: digamma, log-beta and
//! the Gauss hypergeometric function 2F1 (log-gamma comes from
//! [`stats`](crate::stats), where the distributions need it too).
//!
//! Written here rather than pulled from a crate (the crate has no special-
//! function dependency); each is checked against closed forms and published
//! values in the tests below.

use std::f64::consts::PI;

/// ln Γ(x) for x > 0 (NaN otherwise), shared with the statistics.
pub(crate) use crate::stats::ln_gamma;

/// Γ(x) for any real x that is not a pole, as `(ln |Γ(x)|, sign)`; `None` at
/// a pole (0, −1, −2, ...) or for non-finite x.
fn gamma_signed(x: f64) -> Option<(f64, f64)> {
    if !x.is_finite() || (x <= 0.0 && x == x.floor()) {
        return None;
    }
    if x > 0.0 {
        return Some((ln_gamma(x), 1.0));
    }
    // Γ(x) = π / (sin(πx) Γ(1 − x)), with 1 − x > 1.
    let s = (PI * x).sin();
    Some(((PI / s.abs()).ln() - ln_gamma(1.0 - x), s.signum()))
}

/// ψ(x) = d/dx ln Γ(x) for x > 0: the recurrence ψ(x) = ψ(x + 1) − 1/x up
/// to x ≥ 10, then the asymptotic series (Abramowitz & Stegun 6.3.18).
pub(crate) fn digamma(mut x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let mut acc = 0.0;
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    let series = f
        * (-1.0 / 12.0
            + f * (1.0 / 120.0
                + f * (-1.0 / 252.0
                    + f * (1.0 / 240.0 + f * (-1.0 / 132.0 + f * 691.0 / 32760.0)))));
    acc + x.ln() - 0.5 / x + series
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), for a, b > 0.
pub(crate) fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Terms of the power series before giving up (reached only for z within
/// about 1e-5 of 1 with c − a − b next to an integer).
const MAX_SERIES_TERMS: usize = 2_000_000;

/// Beyond this z the series converges slowly; the 1 − z connection formula is used.
const SERIES_LIMIT: f64 = 0.9;

/// Gauss hypergeometric function ₂F₁(a, b; c; z) for real z < 1 and c not a
/// non-positive integer; NaN when it cannot be evaluated.
///
/// ```text
/// ₂F₁(a, b; c; z) = Σₙ (a)ₙ (b)ₙ / ((c)ₙ n!) zⁿ
/// z < 0:        Pfaff   ₂F₁(a, b; c; z) = (1 − z)^(−a) ₂F₁(a, c − b; c; z / (z − 1))
/// 0.9 < z < 1:  the 1 − z connection formula (Abramowitz & Stegun 15.3.6)
/// ```
pub(crate) fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    if z.is_nan() || z >= 1.0 || !a.is_finite() || !b.is_finite() || !c.is_finite() {
        return f64::NAN;
    }
    if z < 0.0 {
        let w = z / (z - 1.0);
        return (1.0 - z).powf(-a) * hyp2f1_unit(a, c - b, c, w);
    }
    hyp2f1_unit(a, b, c, z)
}

/// ₂F₁ for 0 ≤ z < 1.
fn hyp2f1_unit(a: f64, b: f64, c: f64, z: f64) -> f64 {
    if z <= SERIES_LIMIT {
        return hyp2f1_series(a, b, c, z);
    }
    let s = c - a - b;
    let offset = s - s.round();
    if offset.abs() > NEAR_INTEGER {
        return hyp2f1_connection(a, b, c, z).unwrap_or_else(|| hyp2f1_series(a, b, c, z));
    }
    // Next to an integer s the connection formula is ill-conditioned (its
    // Γ(±s) have poles there). Try the series; if z is too close to 1 for it,
    // interpolate in c through four points at a safe distance from the
    // integer case (cubic Lagrange, error O(h⁴)).
    let series = hyp2f1_series(a, b, c, z);
    if series.is_finite() {
        return series;
    }
    let h = 2.0 * NEAR_INTEGER;
    let nodes = [-2.0 * h, -h, h, 2.0 * h];
    let mut value = 0.0;
    for (i, &di) in nodes.iter().enumerate() {
        let Some(fi) = hyp2f1_connection(a, b, c - offset + di, z) else {
            return f64::NAN;
        };
        let weight: f64 = nodes
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, &dj)| (offset - dj) / (di - dj))
            .product();
        value += weight * fi;
    }
    value
}

/// Distance of c − a − b from an integer below which the connection formula is avoided.
const NEAR_INTEGER: f64 = 1e-4;

/// The power series; exact for a polynomial (a or b a non-positive integer).
fn hyp2f1_series(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 0..MAX_SERIES_TERMS {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term == 0.0 || term.abs() <= 1e-17 * sum.abs() {
            return sum;
        }
        if !sum.is_finite() {
            return f64::NAN;
        }
    }
    f64::NAN
}

/// A&S 15.3.6 for non-integer s = c − a − b:
///
/// ```text
/// ₂F₁(a,b;c;z) = Γ(c)Γ(s)/(Γ(c−a)Γ(c−b)) ₂F₁(a, b; 1−s; 1−z)
///              + (1−z)^s Γ(c)Γ(−s)/(Γ(a)Γ(b)) ₂F₁(c−a, c−b; 1+s; 1−z)
/// ```
///
/// A Γ at a pole in a denominator makes that term vanish.
fn hyp2f1_connection(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    let s = c - a - b;
    let w = 1.0 - z;
    let (lc, sc) = gamma_signed(c)?;
    let coefficient = |num: f64, d1: f64, d2: f64| -> Option<f64> {
        let (ln, sn) = gamma_signed(num)?;
        match (gamma_signed(d1), gamma_signed(d2)) {
            (Some((l1, s1)), Some((l2, s2))) => Some(sc * sn * s1 * s2 * (lc + ln - l1 - l2).exp()),
            // 1 / Γ(pole) = 0.
            _ => Some(0.0),
        }
    };
    let first = coefficient(s, c - a, c - b)?;
    let second = coefficient(-s, a, b)?;
    let mut value = 0.0;
    if first != 0.0 {
        value += first * hyp2f1_series(a, b, 1.0 - s, w);
    }
    if second != 0.0 {
        value += second * w.powf(s) * hyp2f1_series(c - a, c - b, 1.0 + s, w);
    }
    value.is_finite().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::{assert_abs_diff_eq, assert_relative_eq};

    #[test]
    fn ln_gamma_matches_known_values() {
        // Γ(n) = (n − 1)!, Γ(1/2) = √π, Γ(0.1) = 9.513507698668731836 (A&S table 6.1).
        assert_abs_diff_eq!(ln_gamma(1.0), 0.0, epsilon = 1e-15);
        assert_abs_diff_eq!(ln_gamma(2.0), 0.0, epsilon = 1e-15);
        assert_relative_eq!(ln_gamma(10.0), 362_880f64.ln(), max_relative = 1e-14);
        assert_relative_eq!(ln_gamma(0.5), PI.sqrt().ln(), max_relative = 1e-14);
        assert_relative_eq!(
            ln_gamma(0.1),
            9.513_507_698_668_732f64.ln(),
            max_relative = 1e-14
        );
        // Stirling with two correction terms is accurate to 1e-15 at x = 1e6.
        let x: f64 = 1e6;
        let stirling = (x - 0.5) * x.ln() - x + 0.5 * (2.0 * PI).ln() + 1.0 / (12.0 * x)
            - 1.0 / (360.0 * x.powi(3));
        assert_relative_eq!(ln_gamma(x), stirling, max_relative = 1e-14);
        assert!(ln_gamma(0.0).is_nan() && ln_gamma(-1.5).is_nan());
    }

    #[test]
    fn signed_gamma_reflects_to_negative_arguments() {
        // Γ(−1/2) = −2√π, Γ(−3/2) = 4√π / 3.
        let (l, s) = gamma_signed(-0.5).unwrap();
        assert_relative_eq!(s * l.exp(), -2.0 * PI.sqrt(), max_relative = 1e-14);
        let (l, s) = gamma_signed(-1.5).unwrap();
        assert_relative_eq!(s * l.exp(), 4.0 * PI.sqrt() / 3.0, max_relative = 1e-14);
        assert!(gamma_signed(-2.0).is_none() && gamma_signed(0.0).is_none());
    }

    #[test]
    fn digamma_matches_known_values() {
        // ψ(1) = −γ (Euler–Mascheroni), ψ(1/2) = −γ − 2 ln 2, ψ(n + 1) = ψ(n) + 1/n.
        let euler = 0.577_215_664_901_532_9;
        assert_abs_diff_eq!(digamma(1.0), -euler, epsilon = 1e-14);
        assert_abs_diff_eq!(digamma(0.5), -euler - 2.0 * 2f64.ln(), epsilon = 1e-14);
        assert_abs_diff_eq!(
            digamma(4.0),
            -euler + 1.0 + 0.5 + 1.0 / 3.0,
            epsilon = 1e-14
        );
        // The derivative of ln Γ by central differences.
        for x in [0.05, 0.7, 3.3, 25.0, 400.0] {
            let h = 1e-5 * x;
            let numeric = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert_relative_eq!(digamma(x), numeric, max_relative = 1e-7);
        }
    }

    #[test]
    fn ln_beta_matches_closed_forms() {
        // B(1, b) = 1/b; B(1/2, 1/2) = π.
        assert_abs_diff_eq!(ln_beta(1.0, 4.0), -(4f64.ln()), epsilon = 1e-14);
        assert_abs_diff_eq!(ln_beta(0.5, 0.5), PI.ln(), epsilon = 1e-14);
    }

    #[test]
    fn hyp2f1_matches_closed_forms_on_the_whole_range() {
        for z in [-50.0f64, -3.0, -0.5, 0.0, 0.3, 0.85, 0.95, 0.999, 0.999_999] {
            // ₂F₁(1, 1; 2; z) = −ln(1 − z) / z.
            let want = if z == 0.0 { 1.0 } else { -(1.0 - z).ln() / z };
            assert_relative_eq!(hyp2f1(1.0, 1.0, 2.0, z), want, max_relative = 1e-12);
            // ₂F₁(a, b; b; z) = (1 − z)^(−a).
            assert_relative_eq!(
                hyp2f1(0.3, 2.7, 2.7, z),
                (1.0 - z).powf(-0.3),
                max_relative = 1e-12
            );
            // ₂F₁(1/2, 1; 3/2; −x²) = atan(x) / x  (z < 0 only).
            if z < 0.0 {
                let x = (-z).sqrt();
                assert_relative_eq!(hyp2f1(0.5, 1.0, 1.5, z), x.atan() / x, max_relative = 1e-12);
            }
        }
        // ₂F₁(1/2, 1/2; 3/2; x²) = asin(x) / x.
        for x in [0.5f64, 0.97, 0.9999] {
            assert_relative_eq!(
                hyp2f1(0.5, 0.5, 1.5, x * x),
                x.asin() / x,
                max_relative = 1e-12
            );
        }
    }

    #[test]
    fn hyp2f1_matches_scipy_at_bgnbd_arguments() {
        // scipy.special.hyp2f1 1.17.1 at the CDNOW parameters (r, b, a + b − 1, t / (α + t)).
        let (r, alpha, a, b) = (0.242_593, 4.413_532, 0.792_886, 2.425_752);
        let cases = [
            (39.0, 1.935_474_706_409_839_2),
            (1000.0, 6.020_341_709_100_321),
        ];
        for (t, want) in cases {
            let got = hyp2f1(r, b, a + b - 1.0, t / (alpha + t));
            assert_relative_eq!(got, want, max_relative = 1e-10);
        }
    }
}
