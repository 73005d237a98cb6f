//! Shared statistics: the normal distribution, confidence intervals for
//! rates and their differences, two-proportion and stratified tests,
//! multiple-testing corrections and power.
//!
//! Campaign evaluation ([`retention`](crate::retention)) is built on these,
//! and later analyses (survival, drivers) use them too; they are public so
//! that a user's own analysis gets the same figures. The module depends on
//! nothing in the crate but [`error`](crate::error) (no statistics
//! dependency either), and every function is checked against statsmodels,
//! mpmath or a published example (`tests/fixtures/campaign_reference.json`,
//! `tests/fixtures/stratified_reference.json`).
//!
//! - The standard normal distribution: [`normal_cdf`], [`normal_sf`],
//!   [`normal_quantile`], [`erfc`], [`critical_value`].
//! - Intervals: [`wilson_interval`] for a rate; [`newcombe_interval`] and
//!   [`wald_difference_interval`] for a difference of two rates;
//!   [`risk_ratio_interval`] for their ratio; all as [`Interval`].
//! - Tests: [`two_proportion_z_test`] ([`ZTest`]); and, over strata, the
//!   Mantel–Haenszel risk difference and ratio with the
//!   Cochran–Mantel–Haenszel test, [`mantel_haenszel`] ([`Stratum`] →
//!   [`MantelHaenszel`]).
//! - The chi-square and Student t distributions: [`chi_square_sf`],
//!   [`student_t_sf`] (accurate far into the tails).
//! - Two-sample tests: [`mann_whitney_u`] ([`MannWhitney`]) and
//!   [`welch_t_test`] ([`WelchTTest`]); Pearson's chi-square test of
//!   independence, [`chi_square_independence`] ([`ChiSquareTest`]).
//! - Multiple testing: [`holm`] (family-wise error rate) and
//!   [`benjamini_hochberg`] (false discovery rate).
//! - Power: [`cohens_h`], [`z_test_power`], [`z_test_effect`].
//!
//! # Example
//!
//! ```
//! use churnwise::stats::{newcombe_interval, two_proportion_z_test, wilson_interval};
//!
//! // 312 of 2 400 treated customers churned, 136 of 800 controls.
//! let treated = wilson_interval(312, 2_400, 0.95)?;
//! let difference = newcombe_interval(312, 2_400, 136, 800, 0.95)?;
//! let test = two_proportion_z_test(312, 2_400, 136, 800)?;
//! assert!(treated.contains(0.13) && difference.upper < 0.0 && test.p_value < 0.01);
//! # Ok::<(), churnwise::Error>(())
//! ```

mod distribution;
pub(crate) use distribution::ln_gamma;
mod hypothesis;
mod interval;
mod normal;
pub(crate) mod power;
mod significance;
mod stratified;

pub use distribution::{chi_square_sf, student_t_sf};
pub(crate) use hypothesis::mean_variance;
pub use hypothesis::{
    ChiSquareTest, MannWhitney, WelchTTest, chi_square_independence, mann_whitney_u, welch_t_test,
};
pub use interval::{
    Interval, critical_value, newcombe_interval, risk_ratio_interval, wald_difference_interval,
    wilson_interval,
};
pub(crate) use interval::{newcombe_z, ratio_z, wilson_z};
pub use normal::{erfc, normal_cdf, normal_quantile, normal_sf};
pub use power::{cohens_h, z_test_effect, z_test_power};
pub use significance::{ZTest, benjamini_hochberg, holm, two_proportion_z_test};
pub(crate) use significance::{holm_unchecked, z_test_counts};
pub(crate) use stratified::mantel_haenszel_z;
pub use stratified::{MantelHaenszel, Stratum, mantel_haenszel};

#[cfg(test)]
pub(crate) mod tol {
    //! Tolerances of the statistics tests (and of the retention tests built
    //! on them), named once.

    /// Against values computed with mpmath at 40 digits, relative.
    pub const MPMATH: f64 = 1e-14;
    /// Against statsmodels / scikit-uplift reference values, absolute.
    pub const ORACLE: f64 = 1e-12;
    /// Hand-computed values and identities that differ only by rounding.
    pub const EXACT: f64 = 1e-15;
    /// statsmodels' `solve_power` stops its root finder at about `2e-10`
    /// relative; an exact solution agrees with its figure to this, relative.
    pub const ROOT_FINDER: f64 = 1e-9;
}
