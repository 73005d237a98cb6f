//! The generator's own random number generator and samplers.
//!
//! xoshiro256++ (Blackman & Vigna, 2019) seeded through SplitMix64, with the
//! samplers the synthetic population needs. It is implemented here, not taken
//! from a crate, so that generated populations never change with a dependency
//! upgrade: the same seed gives the same bits in every release of churnwise
//! unless the changelog says otherwise.

use crate::util::mix::{GOLDEN_GAMMA, mix64, splitmix64};

/// xoshiro256++ with the samplers used by `synth`.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    s: [u64; 4],
    /// The second normal deviate of the last polar-method pair.
    spare_normal: Option<f64>,
}

impl Rng {
    /// A generator whose state is four SplitMix64 outputs from `seed`.
    pub(crate) fn seed_from_u64(seed: u64) -> Rng {
        let mut sm = seed;
        let mut s = [0u64; 4];
        for w in &mut s {
            *w = splitmix64(&mut sm);
        }
        if s == [0; 4] {
            // The all-zero state is the one fixed point of xoshiro; SplitMix64
            // cannot produce four zeros in a row, but keep the guard explicit.
            s[0] = GOLDEN_GAMMA;
        }
        Rng {
            s,
            spare_normal: None,
        }
    }

    /// An independent stream for item `index` (a customer) under `seed`.
    ///
    /// The SplitMix64 seed is `seed ^ mix64(index + γ)`, so each customer's
    /// stream depends only on `(seed, index)` and never on how customers are
    /// split among threads.
    pub(crate) fn stream(seed: u64, index: u64) -> Rng {
        Rng::seed_from_u64(seed ^ mix64(index.wrapping_add(GOLDEN_GAMMA)))
    }

    /// An independent stream for replica `replica` of item `index` under
    /// `seed`, for a purpose named by `salt` (one salt per use, so different
    /// uses never share a stream).
    ///
    /// The SplitMix64 seed is `mix64(seed ^ mix64(index + γ) ^ salt) ^
    /// mix64(replica + γ)`: it depends only on its four arguments, and it
    /// differs from every [`stream`](Rng::stream) of the same seed (unless a
    /// 64-bit hash collides).
    pub(crate) fn replica_stream(seed: u64, index: u64, salt: u64, replica: u64) -> Rng {
        Rng::stream(
            mix64(seed ^ mix64(index.wrapping_add(GOLDEN_GAMMA)) ^ salt),
            replica,
        )
    }

    /// The next 64 random bits (xoshiro256++).
    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform on [0, 1) with 53 random bits.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on the open interval (0, 1): safe to take the logarithm of.
    pub(crate) fn open01(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on [lo, hi).
    pub(crate) fn uniform_range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in `0..n` (`n > 0`), by Lemire's multiply-shift
    /// (bias below 2^-40 for the small `n` used here).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// `true` with probability `p` (`p` ≤ 0 is never, `p` ≥ 1 always).
    pub(crate) fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Standard normal, by Marsaglia's polar method (the spare deviate is kept).
    pub(crate) fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let f = (-2.0 * s.ln() / s).sqrt();
                self.spare_normal = Some(v * f);
                return u * f;
            }
        }
    }

    /// Log-normal: `exp(mu + sigma * Z)`.
    pub(crate) fn lognormal(&mut self, mu: f64, sigma: f64) -> f64 {
        (mu + sigma * self.normal()).exp()
    }

    /// Exponential with the given rate (mean `1 / rate`); `+inf` when `rate` ≤ 0.
    pub(crate) fn exponential(&mut self, rate: f64) -> f64 {
        if rate > 0.0 {
            -self.open01().ln() / rate
        } else {
            f64::INFINITY
        }
    }

    /// Gamma with `shape` > 0 and `rate` > 0 (mean `shape / rate`).
    ///
    /// Marsaglia & Tsang (2000); for `shape < 1` a Gamma(shape + 1) draw is
    /// multiplied by `U^(1/shape)`.
    pub(crate) fn gamma(&mut self, shape: f64, rate: f64) -> f64 {
        if shape < 1.0 {
            let boost = self.open01().powf(1.0 / shape);
            return self.gamma(shape + 1.0, rate) * boost;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.open01();
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
                return d * v / rate;
            }
        }
    }

    /// Beta(a, b) as `X / (X + Y)` with `X ~ Gamma(a)`, `Y ~ Gamma(b)`.
    pub(crate) fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a, 1.0);
        let y = self.gamma(b, 1.0);
        let sum = x + y;
        if sum > 0.0 {
            x / sum
        } else {
            // Both draws underflowed (tiny a and b): the Beta is then almost
            // surely at 0 or 1, with P(1) = a / (a + b).
            if self.bernoulli(a / (a + b)) {
                1.0
            } else {
                0.0
            }
        }
    }

    /// Poisson with the given mean: inversion by sequential search below 10,
    /// PTRS (Hörmann 1993, "The transformed rejection method for generating
    /// Poisson random variables") from 10 on. A mean ≤ 0 (or NaN) gives 0.
    pub(crate) fn poisson(&mut self, mean: f64) -> u64 {
        if mean.is_nan() || mean <= 0.0 {
            return 0;
        }
        if mean < 10.0 {
            let u = self.uniform();
            let mut k = 0u64;
            let mut p = (-mean).exp();
            let mut cdf = p;
            while u >= cdf && k < 1_000 {
                k += 1;
                p *= mean / k as f64;
                cdf += p;
            }
            return k;
        }
        let log_mean = mean.ln();
        let smu = mean.sqrt();
        let b = 0.931 + 2.53 * smu;
        let a = -0.059 + 0.02483 * b;
        let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
        let v_r = 0.9277 - 3.6224 / (b - 2.0);
        loop {
            let u = self.uniform() - 0.5;
            let v = self.uniform();
            let us = 0.5 - u.abs();
            let k = ((2.0 * a / us + b) * u + mean + 0.43).floor();
            if us >= 0.07 && v <= v_r {
                return k as u64;
            }
            if k < 0.0 || (us < 0.013 && v > us) {
                continue;
            }
            if v.ln() + inv_alpha.ln() - (a / (us * us) + b).ln()
                <= -mean + k * log_mean - ln_factorial(k)
            {
                return k as u64;
            }
        }
    }

    /// An index drawn with probability proportional to `weights[i]`
    /// (weights ≥ 0 with a positive sum).
    pub(crate) fn categorical(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.uniform() * total;
        for (i, &w) in weights.iter().enumerate() {
            if target < w {
                return i;
            }
            target -= w;
        }
        // Rounding left `target` just past the last positive weight.
        weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
    }
}

/// `ln(k!)` for integer-valued `k ≥ 0`: exact table below 10, Stirling series above.
fn ln_factorial(k: f64) -> f64 {
    const TABLE: [f64; 10] = [
        0.0,
        0.0,
        std::f64::consts::LN_2,
        1.791_759_469_228_055,
        3.178_053_830_347_945_7,
        4.787_491_742_782_046,
        6.579_251_212_010_101,
        8.525_161_361_065_415,
        10.604_602_902_745_25,
        12.801_827_480_081_469,
    ];
    if k < 10.0 {
        return TABLE[k as usize];
    }
    // ln Γ(n + 1) with n = k: Stirling with terms to 1/(1260 n^5).
    let n = k + 1.0;
    let inv = 1.0 / n;
    let inv2 = inv * inv;
    (n - 0.5) * n.ln() - n
        + 0.5 * (2.0 * std::f64::consts::PI).ln()
        + inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    /// Draws per moment check.
    const DRAWS: usize = 200_000;
    /// Allowed distance in standard errors. With ~30 independent checks, a
    /// 5-SE band fails by chance with probability ~2e-5 per run, and the
    /// seeds are fixed anyway.
    const Z: f64 = 5.0;

    /// Checks the sample mean and variance against the closed forms, with
    /// tolerances of `Z` standard errors: `sqrt(var / n)` for the mean and
    /// `sqrt((mu4 - var^2) / n) = var * sqrt((2 + excess_kurtosis) / n)` for
    /// the variance.
    fn check_moments(xs: &[f64], mean: f64, var: f64, excess_kurtosis: f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
        assert_abs_diff_eq!(m, mean, epsilon = Z * (var / n).sqrt());
        assert_abs_diff_eq!(
            v,
            var,
            epsilon = Z * var * ((2.0 + excess_kurtosis) / n).sqrt()
        );
    }

    fn draws(seed: u64, mut f: impl FnMut(&mut Rng) -> f64) -> Vec<f64> {
        let mut rng = Rng::seed_from_u64(seed);
        (0..DRAWS).map(|_| f(&mut rng)).collect()
    }

    #[test]
    fn same_seed_gives_same_sequence() {
        let mut a = Rng::seed_from_u64(7);
        let mut b = Rng::seed_from_u64(7);
        let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mut c = Rng::seed_from_u64(8);
        assert_ne!(xs[0], c.next_u64());
    }

    #[test]
    fn streams_depend_only_on_seed_and_index() {
        let mut a = Rng::stream(42, 3);
        let mut b = Rng::stream(42, 3);
        assert_eq!(a.next_u64(), b.next_u64());
        let firsts: Vec<u64> = (0..1000).map(|i| Rng::stream(42, i).next_u64()).collect();
        let mut sorted = firsts.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), firsts.len());
        assert_ne!(Rng::stream(42, 0).next_u64(), Rng::stream(43, 0).next_u64());
    }

    #[test]
    fn replica_streams_differ_by_every_argument_and_from_generation() {
        let first = |mut r: Rng| r.next_u64();
        let base = first(Rng::replica_stream(7, 3, 11, 0));
        assert_eq!(base, first(Rng::replica_stream(7, 3, 11, 0)));
        for other in [
            Rng::replica_stream(8, 3, 11, 0),
            Rng::replica_stream(7, 4, 11, 0),
            Rng::replica_stream(7, 3, 12, 0),
            Rng::replica_stream(7, 3, 11, 1),
            Rng::stream(7, 3),
        ] {
            assert_ne!(base, first(other));
        }
    }

    #[test]
    fn matches_xoshiro256plusplus_reference_step() {
        // State [1, 2, 3, 4]: first output rotl(1 + 4, 23) + 1 = 41943041,
        // as computed by the reference xoshiro256plusplus.c.
        let mut rng = Rng {
            s: [1, 2, 3, 4],
            spare_normal: None,
        };
        assert_eq!(rng.next_u64(), 41_943_041);
    }

    #[test]
    fn uniform_is_in_unit_interval_with_right_moments() {
        let xs = draws(1, Rng::uniform);
        assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
        check_moments(&xs, 0.5, 1.0 / 12.0, -1.2);
        let ys = draws(2, Rng::open01);
        assert!(ys.iter().all(|&y| y > 0.0 && y < 1.0));
    }

    #[test]
    fn below_is_uniform_over_range() {
        let xs = draws(3, |r| r.below(6) as f64);
        assert!(xs.iter().all(|&x| (0.0..6.0).contains(&x)));
        // Discrete uniform on 0..6: mean 2.5, variance 35/12, excess kurtosis -1.2686.
        check_moments(&xs, 2.5, 35.0 / 12.0, -1.268_571_428_571_428_6);
    }

    #[test]
    fn normal_has_unit_moments() {
        let xs = draws(4, Rng::normal);
        check_moments(&xs, 0.0, 1.0, 0.0);
    }

    #[test]
    fn exponential_has_closed_form_moments() {
        let rate = 2.5;
        let xs = draws(5, |r| r.exponential(rate));
        check_moments(&xs, 1.0 / rate, 1.0 / (rate * rate), 6.0);
        assert!(Rng::seed_from_u64(0).exponential(0.0).is_infinite());
    }

    #[test]
    fn gamma_has_closed_form_moments_above_and_below_shape_one() {
        for (seed, shape, rate) in [(6, 3.7, 0.5), (7, 0.4, 2.0), (8, 1.0, 1.0)] {
            let xs = draws(seed, |r| r.gamma(shape, rate));
            assert!(xs.iter().all(|&x| x >= 0.0));
            check_moments(&xs, shape / rate, shape / (rate * rate), 6.0 / shape);
        }
    }

    #[test]
    fn beta_has_closed_form_moments() {
        for (seed, a, b) in [(9, 2.0, 5.0), (10, 0.5, 0.5), (11, 1.0, 30.0)] {
            let xs = draws(seed, |r| r.beta(a, b));
            assert!(xs.iter().all(|&x| (0.0..=1.0).contains(&x)));
            let mean = a / (a + b);
            let var = a * b / ((a + b) * (a + b) * (a + b + 1.0));
            let kurt = 6.0 * ((a - b) * (a - b) * (a + b + 1.0) - a * b * (a + b + 2.0))
                / (a * b * (a + b + 2.0) * (a + b + 3.0));
            check_moments(&xs, mean, var, kurt);
        }
    }

    #[test]
    fn poisson_has_closed_form_moments_for_small_and_large_means() {
        for (seed, mean) in [(12, 0.3), (13, 4.5), (14, 10.0), (15, 37.5), (16, 1234.0)] {
            let xs = draws(seed, |r| r.poisson(mean) as f64);
            check_moments(&xs, mean, mean, 1.0 / mean);
        }
        assert_eq!(Rng::seed_from_u64(0).poisson(0.0), 0);
        assert_eq!(Rng::seed_from_u64(0).poisson(f64::NAN), 0);
    }

    #[test]
    fn ln_factorial_matches_direct_sum() {
        let mut direct = 0.0f64;
        for k in 1..200u32 {
            direct += f64::from(k).ln();
            assert_abs_diff_eq!(ln_factorial(f64::from(k)), direct, epsilon = 1e-9);
        }
    }

    #[test]
    fn bernoulli_has_closed_form_moments() {
        let p = 0.37;
        let xs = draws(17, |r| f64::from(u8::from(r.bernoulli(p))));
        let kurt = (1.0 - 6.0 * p * (1.0 - p)) / (p * (1.0 - p));
        check_moments(&xs, p, p * (1.0 - p), kurt);
    }

    #[test]
    fn lognormal_has_closed_form_moments() {
        let (mu, sigma) = (1.0f64, 0.5f64);
        let xs = draws(18, |r| r.lognormal(mu, sigma));
        let s2 = sigma * sigma;
        let mean = (mu + s2 / 2.0).exp();
        let var = (s2.exp() - 1.0) * (2.0 * mu + s2).exp();
        let kurt = (4.0 * s2).exp() + 2.0 * (3.0 * s2).exp() + 3.0 * (2.0 * s2).exp() - 6.0;
        check_moments(&xs, mean, var, kurt);
    }

    #[test]
    fn categorical_follows_weights() {
        let w = [0.2, 0.0, 0.5, 0.3];
        let mut rng = Rng::seed_from_u64(19);
        let mut counts = [0usize; 4];
        for _ in 0..DRAWS {
            counts[rng.categorical(&w)] += 1;
        }
        assert_eq!(counts[1], 0);
        let total: f64 = w.iter().sum();
        for (c, wi) in counts.iter().zip(w) {
            let p = wi / total;
            let se = (p * (1.0 - p) / DRAWS as f64).sqrt();
            assert_abs_diff_eq!(*c as f64 / DRAWS as f64, p, epsilon = Z * se + 1e-12);
        }
    }
}
