//! The logistic link, written so the compiler can vectorize it.
//!
//! `f64::exp` is a libm call per element, which made it the largest cost of
//! batch prediction after reading the rows. This `exp` is branch-free
//! (Cody–Waite reduction, a degree-13 polynomial, the power of two built from
//! bits), so a loop over a slice compiles to SIMD code on baseline x86-64. It
//! is within a few ulp of `f64::exp` for the arguments it serves (`≤ 0`), and the single
//! and batch paths share it, so scoring one row equals scoring it in a batch
//! bit for bit.

/// `ln 2` split so that `k · LN2_HI` is exact for the `k` that occur.
const LN2_HI: f64 = 6.931_471_803_691_238e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// Adding then subtracting this rounds to the nearest integer, and the low
/// bits of the sum hold that integer (valid for |k| < 2⁵¹).
const ROUND: f64 = 6_755_399_441_055_744.0; // 1.5 · 2⁵²
/// Below this, `exp` would leave the normal range; the logistic value there
/// is below 1e-307 either way.
const MIN_ARG: f64 = -708.0;

/// 1/13!, 1/12!, ..., 1/1!, 1/0!: the Taylor coefficients of `eʳ`, highest first.
const INV_FACTORIALS: [f64; 14] = [
    1.0 / 6_227_020_800.0,
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    1.0 / 2.0,
    1.0,
    1.0,
];

/// `eˣ` for `x ≤ 0` (larger arguments are not needed by [`sigmoid`]).
#[inline(always)]
pub(crate) fn exp_non_positive(x: f64) -> f64 {
    // Not `max`, which would turn NaN into MIN_ARG.
    let x = if x < MIN_ARG { MIN_ARG } else { x };
    let t = x * std::f64::consts::LOG2_E + ROUND;
    let k = t - ROUND;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Taylor series to r¹³ (|r| ≤ ln2/2: truncation error < 1e-17), Horner.
    let mut p = INV_FACTORIALS[0];
    for c in &INV_FACTORIALS[1..] {
        p = p * r + c;
    }
    // 2^k from bits: the integer k sits in the low bits of t.
    let k_bits = t.to_bits().wrapping_sub(ROUND.to_bits());
    let scale = f64::from_bits(k_bits.wrapping_add(1023) << 52);
    p * scale
}

/// The logistic function `1 / (1 + e^(−z))`, stable for large `|z|`.
#[inline(always)]
pub(crate) fn sigmoid(z: f64) -> f64 {
    let e = exp_non_positive(-z.abs());
    let q = 1.0 / (1.0 + e);
    if z >= 0.0 { q } else { e * q }
}

/// [`sigmoid`] over a slice in place (a loop the compiler vectorizes).
#[inline(always)]
pub(crate) fn sigmoid_in_place(z: &mut [f64]) {
    for v in z {
        *v = sigmoid(*v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn exp_is_within_a_few_ulp_of_std() {
        let mut worst = 0;
        for i in 0..=200_000 {
            let x = -(i as f64) * 708.0 / 200_000.0;
            worst = worst.max(ulps(exp_non_positive(x), x.exp()));
        }
        for x in [
            0.0,
            -0.0,
            -1e-300,
            -1e-17,
            -0.5,
            -0.346_573_590_279_972_65,
            -1.0,
        ] {
            worst = worst.max(ulps(exp_non_positive(x), x.exp()));
        }
        assert!(worst <= 2, "worst error {worst} ulp");
    }

    #[test]
    fn sigmoid_matches_its_definition() {
        for z in [
            -40.0f64, -5.5, -1.0, -1e-9, 0.0, 1e-9, 0.75, 3.0, 36.0, 700.0,
        ] {
            let reference = 1.0 / (1.0 + (-z).exp());
            approx::assert_relative_eq!(sigmoid(z), reference, max_relative = 1e-15);
        }
        assert_eq!(sigmoid(0.0), 0.5);
        assert_eq!(sigmoid(f64::INFINITY), 1.0);
        assert!(sigmoid(f64::NEG_INFINITY) < 1e-300);
        assert!(sigmoid(f64::NAN).is_nan());
        // Symmetry: σ(−z) = 1 − σ(z) up to the rounding of the subtraction.
        for z in [0.1, 2.0, 9.0] {
            approx::assert_abs_diff_eq!(sigmoid(-z), 1.0 - sigmoid(z), epsilon = 1e-15);
        }
    }

    #[test]
    fn slice_and_scalar_agree_bit_for_bit() {
        let mut z: Vec<f64> = (0..1000).map(|i| (i as f64 - 500.0) * 0.037).collect();
        let expected: Vec<f64> = z.iter().map(|&v| sigmoid(v)).collect();
        sigmoid_in_place(&mut z);
        assert_eq!(z, expected);
    }
}
