//! The BG/NBD family: BG/NBD (Fader, Hardie & Lee 2005) and its modified
//! variant MBG/NBD (Batislam, Denizel & Filiztekin 2007), one configuration
//! and one fitted type that knows its [`Variant`]: P(alive) and expected
//! purchases from recency and frequency.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use super::beta_geo::Variant;
use super::beta_geo::{self, Options, Params};
use super::optimize::FitStats;
use super::summary::{CalibrationSummary, SummaryRow, TimeUnit};
use super::value::{PurchaseModel, check_unit};
use crate::Result;

/// BG/NBD configuration: fits the beta-geometric/negative-binomial model of
/// Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", or its
/// modified variant (MBG/NBD, Batislam, Denizel & Filiztekin 2007), by
/// maximum likelihood, giving a [`FittedBetaGeo`].
///
/// In a business without contracts, customers never announce that they
/// left; the model infers the probability that each is still "alive" from
/// how many repeat purchases they made (x), when the last was (t_x) and how
/// long they have been observed (T). While alive, a customer buys as a
/// Poisson process with rate λ ~ Gamma(r, α); after each repeat purchase they
/// drop out with probability p ~ Beta(a, b). With
/// [`Variant::Modified`] they may also drop out right after the *first*
/// purchase, so a customer without repeat purchases is no longer certainly
/// alive (BG/NBD gives them P(alive) = 1 however long ago they bought).
///
/// # Fitting
///
/// The summary is compressed to distinct (x, t_x, T) rows with counts; the
/// log-likelihood and its analytic gradient are summed over them on all
/// rayon threads in a fixed order (bit-identical results whatever the thread
/// count); BFGS with a backtracking line search runs on the log-parameters,
/// which keeps them positive. The optional penalty is lifetimes':
///
/// ```text
/// minimize  −(1/N) Σᵢ ln Lᵢ + penalizer · (r² + (α / max T)² + a² + b²)
/// ```
///
/// # Example
///
/// ```
/// use churnwise::clv::{BetaGeo, CalibrationSummary, SummaryRow, TimeUnit, Variant};
/// use churnwise::synth::{BgNbdParams, simulate_bgnbd};
///
/// // 5 000 simulated customers observed for 52 weeks.
/// let truth = BgNbdParams::new(0.5, 5.0, 0.8, 3.0)?;
/// let sim = simulate_bgnbd(truth, 5_000, 52.0, 7)?;
/// let summary = CalibrationSummary::from_columns(
///     TimeUnit::Weeks,
///     sim.iter().map(|c| c.x).collect(),
///     sim.iter().map(|c| c.t_x).collect(),
///     sim.iter().map(|c| c.t).collect(),
/// )?;
/// let model = BetaGeo::new().fit(&summary)?;
/// assert!((model.r() - 0.5).abs() < 0.1);
/// // A customer who bought 5 times, the last 40 weeks ago, is less likely alive
/// // than one who bought 5 times recently.
/// let old = model.p_alive(&SummaryRow::new(5, 12.0, 52.0)?);
/// let recent = model.p_alive(&SummaryRow::new(5, 50.0, 52.0)?);
/// assert!(old < recent);
/// // The modified variant doubts a one-time buyer of a year ago.
/// let modified = BetaGeo::new().variant(Variant::Modified).fit(&summary)?;
/// let one_timer = SummaryRow::new(0, 0.0, 52.0)?;
/// assert_eq!(model.p_alive(&one_timer), 1.0);
/// assert!(modified.p_alive(&one_timer) < 1.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BetaGeo {
    variant: Variant,
    penalizer: f64,
    max_iterations: u32,
    tolerance: f64,
}

impl Default for BetaGeo {
    fn default() -> Self {
        let options = Options::default();
        BetaGeo {
            variant: Variant::Standard,
            penalizer: options.penalizer,
            max_iterations: options.max_iterations,
            tolerance: options.tolerance,
        }
    }
}

impl BetaGeo {
    /// BG/NBD ([`Variant::Standard`]), no penalty, at most 200 iterations,
    /// tolerance `1e-8`.
    pub fn new() -> Self {
        BetaGeo::default()
    }

    /// Which model of the family to fit. Defaults to [`Variant::Standard`] (BG/NBD).
    pub fn variant(mut self, variant: Variant) -> Self {
        self.variant = variant;
        self
    }

    /// The L2 penalty on the parameters (see the type docs). Defaults to 0.
    /// Must be finite and ≥ 0 (checked by [`validate`](Self::validate)).
    pub fn penalizer(mut self, penalizer: f64) -> Self {
        self.penalizer = penalizer;
        self
    }

    /// Quasi-Newton iterations before giving up. Defaults to 200.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::clv::BetaGeo;
    /// # use churnwise::clv::{CalibrationSummary, TimeUnit};
    /// # use churnwise::synth::{BgNbdParams, simulate_bgnbd};
    /// # let sim = simulate_bgnbd(BgNbdParams::new(0.5, 5.0, 0.8, 3.0)?, 300, 52.0, 1)?;
    /// # let summary = CalibrationSummary::from_columns(TimeUnit::Weeks, sim.iter().map(|c| c.x).collect(), sim.iter().map(|c| c.t_x).collect(), sim.iter().map(|c| c.t).collect())?;
    ///
    /// let err = BetaGeo::new().max_iterations(1).fit(&summary).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::NotConverged { .. }));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn max_iterations(mut self, iterations: u32) -> Self {
        self.max_iterations = iterations;
        self
    }

    /// Convergence: the largest gradient component of the per-customer mean
    /// objective in log-parameters. Defaults to `1e-8`. Must be finite and > 0
    /// (checked by [`validate`](Self::validate)).
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Checks the configuration; [`fit`](Self::fit) calls it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `penalizer` unless finite and ≥ 0, or `tolerance` unless finite
    /// and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::clv::BetaGeo;
    ///
    /// assert!(BetaGeo::new().penalizer(0.01).validate().is_ok());
    /// let err = BetaGeo::new().tolerance(0.0).validate().unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::InvalidParameter { name: "tolerance", .. }));
    /// ```
    pub fn validate(&self) -> Result<()> {
        Options::check_penalizer(self.penalizer)?;
        Options::check_tolerance(self.tolerance)?;
        Ok(())
    }

    /// Fits r, α, a, b by maximum likelihood.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate);
    /// [`ErrorKind::Fit`](crate::ErrorKind::Fit) when no customer made a
    /// repeat purchase (the model is not identified) or the optimum is
    /// degenerate; [`ErrorKind::NotConverged`](crate::ErrorKind::NotConverged)
    /// when the optimizer stops short of the tolerance.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{BetaGeo, CalibrationSummary, TimeUnit};
    /// use churnwise::synth::{BgNbdParams, simulate_bgnbd};
    ///
    /// let sim = simulate_bgnbd(BgNbdParams::new(0.5, 5.0, 0.8, 3.0)?, 300, 52.0, 1)?;
    /// let summary = CalibrationSummary::from_columns(TimeUnit::Weeks, sim.iter().map(|c| c.x).collect(), sim.iter().map(|c| c.t_x).collect(), sim.iter().map(|c| c.t).collect())?;
    /// let model = BetaGeo::new().fit(&summary)?;
    /// assert_eq!(model.unit(), TimeUnit::Weeks);
    /// assert_eq!(model.fit_stats().map(|s| s.customers), Some(300));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit(&self, summary: &CalibrationSummary) -> Result<FittedBetaGeo> {
        self.validate()?;
        let options = Options {
            penalizer: self.penalizer,
            max_iterations: self.max_iterations,
            tolerance: self.tolerance,
        };
        let (params, stats) = beta_geo::fit(self.variant, summary, &options)?;
        Ok(FittedBetaGeo {
            variant: self.variant,
            params,
            unit: summary.unit(),
            fit_stats: Some(stats),
        })
    }
}

/// A fitted BG/NBD or MBG/NBD model (see [`variant`](Self::variant)):
/// P(alive), expected purchases and the likelihood.
///
/// # Formulas
///
/// BG/NBD (Fader, Hardie & Lee 2005):
///
/// ```text
/// P(alive | x, t_x, T) = 1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))
/// E[X(t)] = (a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))]
/// E[X(T,T+t) | x, t_x, T] = P(alive) · (a+b+x−1)/(a−1)
///     · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))]
/// ```
///
/// MBG/NBD (Batislam, Denizel & Filiztekin 2007): b is shifted by one
/// dropout opportunity,
///
/// ```text
/// P(alive | x, t_x, T) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x))
/// E[X(t)] = b/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))]
/// E[X(T,T+t) | x, t_x, T] = P(alive) · (a+b+x)/(a−1)
///     · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x+1; a+b+x; t/(α+T+t))]
/// ```
///
/// Under BG/NBD a customer with no repeat purchase always gets P(alive) = 1
/// (they cannot have dropped out yet): use [`p_alive_at`](Self::p_alive_at)
/// or [`Variant::Modified`] when that matters.
///
/// # Example
///
/// ```
/// use churnwise::clv::{FittedBetaGeo, SummaryRow, TimeUnit, Variant};
///
/// // The published CDNOW estimates (weeks).
/// let model = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
/// let row = SummaryRow::new(2, 30.43, 38.86)?;
/// assert!((model.p_alive(&row) - 0.726).abs() < 1e-3);
/// assert!((model.conditional_expected_purchases(&row, 39.0)? - 1.226).abs() < 1e-2);
/// // MBG/NBD estimates on the same sample.
/// let modified = FittedBetaGeo::new(Variant::Modified, 0.525, 6.183, 0.891, 1.614, TimeUnit::Weeks)?;
/// assert!((modified.p_alive(&SummaryRow::new(0, 0.0, 38.86)?) - 0.390).abs() < 1e-3);
/// assert!((modified.p_alive(&row) - 0.706).abs() < 1e-3);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedBetaGeo {
    variant: Variant,
    params: Params,
    unit: TimeUnit,
    fit_stats: Option<FitStats>,
}

impl FittedBetaGeo {
    /// A model of the given variant with given parameters (e.g. published
    /// ones), α in `unit`s.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `r`, `alpha`, `a` or `b` unless each is finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{FittedBetaGeo, TimeUnit, Variant};
    ///
    /// let model = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
    /// assert!(model.fit_stats().is_none()); // not fitted to data
    /// assert!(FittedBetaGeo::new(Variant::Standard, 0.243, -4.4, 0.793, 2.426, TimeUnit::Weeks).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(
        variant: Variant,
        r: f64,
        alpha: f64,
        a: f64,
        b: f64,
        unit: TimeUnit,
    ) -> Result<Self> {
        Ok(FittedBetaGeo {
            variant,
            params: Params::new(r, alpha, a, b)?,
            unit,
            fit_stats: None,
        })
    }

    /// Shape r of the Gamma distribution of purchase rates.
    pub fn r(&self) -> f64 {
        self.params.r
    }

    /// Rate α of the Gamma distribution of purchase rates, in [`unit`](Self::unit)s.
    pub fn alpha(&self) -> f64 {
        self.params.alpha
    }

    /// Parameter a of the Beta distribution of dropout probabilities.
    pub fn a(&self) -> f64 {
        self.params.a
    }

    /// Parameter b of the Beta distribution of dropout probabilities.
    pub fn b(&self) -> f64 {
        self.params.b
    }

    /// The time unit of α, recency, age and horizons.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// Which model of the family this is.
    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// The fit's log-likelihood, customers and iterations (`None` when built by [`new`](Self::new)).
    pub fn fit_stats(&self) -> Option<&FitStats> {
        self.fit_stats.as_ref()
    }

    /// P(alive at the end of calibration | x, t_x, T).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{FittedBetaGeo, SummaryRow, TimeUnit, Variant};
    ///
    /// let model = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
    /// // Five purchases, the last 40 weeks ago, versus the last 2 weeks ago.
    /// let lapsed = model.p_alive(&SummaryRow::new(5, 12.0, 52.0)?);
    /// let recent = model.p_alive(&SummaryRow::new(5, 50.0, 52.0)?);
    /// assert!(lapsed < recent && recent <= 1.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn p_alive(&self, row: &SummaryRow) -> f64 {
        beta_geo::p_alive(self.variant, &self.params, row)
    }

    /// P(alive `horizon` time units after the end of calibration | x, t_x, T),
    /// whatever the purchases in between: alive now, and no dropout after any
    /// purchase in the next `horizon`.
    ///
    /// ```text
    /// P(alive at T+h) = P(alive at T) · ₂F₁(r+x, a; a+b+x; −h/(α+T))
    /// ```
    ///
    /// Unlike [`p_alive`](Self::p_alive), this is below 1 for a customer
    /// without repeat purchases. (lifetimes' "P(alive) history" asks
    /// something else, what P(alive) would be if *no* purchase happened up to
    /// T + h; get it with `p_alive` on a row with age T + h.)
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `horizon` unless finite and ≥ 0;
    /// [`ErrorKind::NonFinite`](crate::ErrorKind::NonFinite) if the result is not finite.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{FittedBetaGeo, SummaryRow, TimeUnit, Variant};
    ///
    /// let model = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
    /// let one_timer = SummaryRow::new(0, 0.0, 38.86)?;
    /// assert_eq!(model.p_alive(&one_timer), 1.0);
    /// let in_a_year = model.p_alive_at(&one_timer, 52.0)?;
    /// assert!(in_a_year < 1.0 && in_a_year > 0.9);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn p_alive_at(&self, row: &SummaryRow, horizon: f64) -> Result<f64> {
        let h = beta_geo::check_horizon("horizon", horizon)?;
        beta_geo::finite(
            "P(alive) at a future time",
            0,
            "horizon",
            beta_geo::p_alive_at(self.variant, &self.params, row, h),
        )
    }

    /// Expected repeat purchases of a new customer in their first `t` time units, E[X(t)].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `t` unless finite and ≥ 0;
    /// [`ErrorKind::NonFinite`](crate::ErrorKind::NonFinite) if the closed
    /// form cannot be evaluated at these parameters.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{FittedBetaGeo, TimeUnit, Variant};
    ///
    /// let model = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
    /// assert!((model.expected_purchases(39.0)? - 1.197).abs() < 2e-3);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn expected_purchases(&self, t: f64) -> Result<f64> {
        let t = beta_geo::check_horizon("t", t)?;
        let new_customer = SummaryRow::new(0, 0.0, 0.0)?;
        beta_geo::finite(
            "expected purchases",
            0,
            "t",
            beta_geo::conditional_expected(self.variant, &self.params, &new_customer, t),
        )
    }

    /// Expected purchases in the `t` time units after the end of calibration,
    /// given the customer's x, t_x and T.
    ///
    /// # Errors
    ///
    /// As for [`expected_purchases`](Self::expected_purchases).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{FittedBetaGeo, SummaryRow, TimeUnit, Variant};
    ///
    /// let model = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
    /// let row = SummaryRow::new(2, 30.43, 38.86)?;
    /// let year = model.conditional_expected_purchases(&row, 52.0)?;
    /// assert!(year > model.conditional_expected_purchases(&row, 13.0)?); // longer horizon, more purchases
    /// assert!(model.conditional_expected_purchases(&row, -1.0).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn conditional_expected_purchases(&self, row: &SummaryRow, t: f64) -> Result<f64> {
        let t = beta_geo::check_horizon("t", t)?;
        beta_geo::finite(
            "conditional expected purchases",
            0,
            "t",
            beta_geo::conditional_expected(self.variant, &self.params, row, t),
        )
    }

    /// The log-likelihood of a summary (summed over customers).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::SchemaMismatch`](crate::ErrorKind::SchemaMismatch) when
    /// the summary's time unit differs from the model's.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{CalibrationSummary, FittedBetaGeo, TimeUnit, Variant};
    ///
    /// let model = FittedBetaGeo::new(Variant::Standard, 1.0, 2.0, 1.0, 2.0, TimeUnit::Days)?;
    /// let one = CalibrationSummary::from_columns(TimeUnit::Days, vec![0], vec![0.0], vec![3.0])?;
    /// // (α / (α + T))^r = 2/5 for a customer without repeat purchases.
    /// assert!((model.log_likelihood(&one)? - 0.4f64.ln()).abs() < 1e-12);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn log_likelihood(&self, summary: &CalibrationSummary) -> Result<f64> {
        check_unit(self.unit, summary.unit())?;
        let values: Vec<f64> = (0..summary.len())
            .into_par_iter()
            .map(|i| {
                beta_geo::row_log_likelihood(self.variant, &self.params, &summary.row_unchecked(i))
            })
            .collect();
        Ok(values.iter().sum())
    }

    /// P(alive) of every customer of a summary, in its order (parallel).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::SchemaMismatch`](crate::ErrorKind::SchemaMismatch) when the time units differ.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{CalibrationSummary, FittedBetaGeo, TimeUnit, Variant};
    ///
    /// let model = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
    /// let s = CalibrationSummary::from_columns(TimeUnit::Weeks, vec![0, 3], vec![0.0, 5.0], vec![30.0, 30.0])?;
    /// let p = model.p_alive_all(&s)?;
    /// assert_eq!(p[0], 1.0);
    /// assert!(p[1] < 0.5);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn p_alive_all(&self, summary: &CalibrationSummary) -> Result<Vec<f64>> {
        check_unit(self.unit, summary.unit())?;
        Ok((0..summary.len())
            .into_par_iter()
            .map(|i| self.p_alive(&summary.row_unchecked(i)))
            .collect())
    }

    /// Expected purchases in the next `t` time units for every customer of a summary.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::SchemaMismatch`](crate::ErrorKind::SchemaMismatch) when the
    /// time units differ; as [`expected_purchases`](Self::expected_purchases)
    /// otherwise (`NonFinite` names the row).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{CalibrationSummary, FittedBetaGeo, TimeUnit, Variant};
    ///
    /// let model = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
    /// let s = CalibrationSummary::from_columns(TimeUnit::Weeks, vec![0, 3], vec![0.0, 28.0], vec![30.0, 30.0])?;
    /// let e = model.conditional_expected_purchases_all(&s, 52.0)?;
    /// assert!(e[1] > e[0]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn conditional_expected_purchases_all(
        &self,
        summary: &CalibrationSummary,
        t: f64,
    ) -> Result<Vec<f64>> {
        check_unit(self.unit, summary.unit())?;
        let t = beta_geo::check_horizon("t", t)?;
        (0..summary.len())
            .into_par_iter()
            .map(|i| {
                let v = beta_geo::conditional_expected(
                    self.variant,
                    &self.params,
                    &summary.row_unchecked(i),
                    t,
                );
                beta_geo::finite("conditional expected purchases", i, "t", v)
            })
            .collect()
    }
}

impl PurchaseModel for FittedBetaGeo {
    fn unit(&self) -> TimeUnit {
        self.unit
    }

    fn p_alive(&self, row: &SummaryRow) -> f64 {
        FittedBetaGeo::p_alive(self, row)
    }

    fn conditional_expected_purchases(&self, row: &SummaryRow, t: f64) -> Result<f64> {
        FittedBetaGeo::conditional_expected_purchases(self, row, t)
    }
}
