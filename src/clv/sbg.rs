//! Contractual churn: the shifted-beta-geometric (sBG) model of Fader &
//! Hardie (2007), "How to Project Customer Retention".

use serde::{Deserialize, Serialize};

use chrono::{DateTime, Datelike, Utc};

use super::beta_geo::{Options, finite};
use super::optimize::{FitStats, minimize};
use super::special::{digamma, hyp2f1, ln_beta};
use crate::records::{BillingPeriod, History, SubscriptionView};
use crate::{Error, Result};

/// sBG configuration: fits the churn model of a cohort of subscribers
/// observed period by period (renewals of a yearly contract, monthly
/// subscriptions), giving a [`FittedShiftedBetaGeometric`].
///
/// Each customer has a churn probability θ ~ Beta(α, β) and, at the end of
/// every period, leaves with probability θ. Why: heterogeneity alone makes
/// cohort retention rates *rise* over time (the likely churners leave
/// first), which simple exponential or linear fits of the survival curve
/// miss; the sBG projects retention from a few periods of counts.
///
/// # Fitting
///
/// From the counts of customers still active at the start (`active[0]`, the
/// cohort size) and after each period, by maximum likelihood (BFGS on
/// ln α, ln β, analytic gradient):
///
/// ```text
/// ln L = Σ_{t=1..n} (active[t−1] − active[t]) ln P(T = t) + active[n] ln S(n)
/// P(T = t) = B(α+1, β+t−1) / B(α, β),   S(t) = B(α, β+t) / B(α, β)
/// ```
///
/// # Example
///
/// ```
/// use churnwise::clv::ShiftedBetaGeometric;
///
/// // The "Regular" cohort of Fader & Hardie (2007), years 0–7.
/// let active = [1000, 631, 468, 382, 326, 289, 262, 241];
/// let model = ShiftedBetaGeometric::new().fit(&active)?;
/// assert!((model.alpha() - 0.704).abs() < 1e-3 && (model.beta() - 1.182).abs() < 1e-3);
/// // Projected survivors in year 12 (observed: 173).
/// assert!((1000.0 * model.survival(12) - 173.0).abs() < 10.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShiftedBetaGeometric {
    options: Options,
}

impl ShiftedBetaGeometric {
    /// At most 200 iterations, tolerance `1e-8`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::ShiftedBetaGeometric;
    ///
    /// assert_eq!(ShiftedBetaGeometric::new(), ShiftedBetaGeometric::default());
    /// assert!(ShiftedBetaGeometric::new().fit(&[1000, 631, 468, 382]).is_ok());
    /// ```
    pub fn new() -> Self {
        ShiftedBetaGeometric::default()
    }

    /// Quasi-Newton iterations before giving up. Defaults to 200.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::ErrorKind;
    /// use churnwise::clv::ShiftedBetaGeometric;
    ///
    /// let err = ShiftedBetaGeometric::new().max_iterations(1).fit(&[1000, 631, 468, 382]).unwrap_err();
    /// assert!(matches!(err.kind(), ErrorKind::NotConverged { .. }));
    /// ```
    pub fn max_iterations(mut self, iterations: u32) -> Self {
        self.options.max_iterations = iterations;
        self
    }

    /// Convergence tolerance on the largest gradient component. Defaults to
    /// `1e-8`. Must be finite and > 0 (checked by [`validate`](Self::validate)).
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.options.tolerance = tolerance;
        self
    }

    /// Checks the configuration; [`fit`](Self::fit) calls it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `tolerance` unless finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::ShiftedBetaGeometric;
    ///
    /// assert!(ShiftedBetaGeometric::new().tolerance(1e-6).validate().is_ok());
    /// assert!(ShiftedBetaGeometric::new().tolerance(0.0).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        Options::check_tolerance(self.options.tolerance)?;
        Ok(())
    }

    /// Fits α and β from the active counts.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate);
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `active` unless there are at least two counts, the first is
    /// positive and none exceeds the one before;
    /// [`ErrorKind::Fit`](crate::ErrorKind::Fit) when nobody churned or
    /// everybody churned at once (no information on heterogeneity);
    /// [`ErrorKind::NotConverged`](crate::ErrorKind::NotConverged).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::ShiftedBetaGeometric;
    ///
    /// // Subscribers active at the start and after each of four years.
    /// let model = ShiftedBetaGeometric::new().fit(&[1000, 631, 468, 382, 326])?;
    /// assert!((model.survival(1) - 0.631).abs() < 0.02);
    /// assert!(ShiftedBetaGeometric::new().fit(&[1000, 1000, 1000]).is_err()); // nobody churned
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit(&self, active: &[u64]) -> Result<FittedShiftedBetaGeometric> {
        self.validate()?;
        check_active(active)?;
        let n = active[0] as f64;
        let last = active[active.len() - 1];
        if last == active[0] || (last == 0 && active[1] == 0) {
            return Err(crate::ErrorKind::Fit {
                what: "sBG",
                message: format!(
                    "counts {active:?}: with no churn, or all churn in the first period, α and β are not identified"
                ),
            }
            .into());
        }
        let objective = |theta: &[f64; 2]| {
            let (alpha, beta) = (theta[0].exp(), theta[1].exp());
            let (ll, g) = log_likelihood(alpha, beta, active);
            (-ll / n, [-alpha * g[0] / n, -beta * g[1] / n])
        };
        let m = minimize(
            objective,
            [0.0, 0.0],
            None,
            self.options.max_iterations,
            self.options.tolerance,
            "sBG",
        )?;
        let (alpha, beta) = (m.x[0].exp(), m.x[1].exp());
        Ok(FittedShiftedBetaGeometric {
            fit_stats: Some(FitStats {
                log_likelihood: log_likelihood(alpha, beta, active).0,
                customers: active[0] as usize,
                iterations: m.iterations,
                gradient_norm: m.gradient_norm,
            }),
            ..FittedShiftedBetaGeometric::new(alpha, beta)?
        })
    }
}

impl ShiftedBetaGeometric {
    /// Fits α and β straight from a history's subscriptions billed every
    /// `period`, pooled over every start cohort, with right-censoring: see
    /// [`RenewalCounts::from_subscriptions`] for how each subscription
    /// counts. Fit one cohort with [`RenewalCounts::by_cohort`] and
    /// [`fit_counts`](Self::fit_counts).
    ///
    /// # Errors
    ///
    /// As for [`fit_counts`](Self::fit_counts).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::ShiftedBetaGeometric;
    /// use churnwise::records::BillingPeriod;
    /// # use churnwise::doc_support::{cohort_end, renewal_cohort};
    /// // The "Regular" cohort of Fader & Hardie (2007) as 1000 yearly
    /// // subscriptions started on 2024-01-01, renewed or lapsed each January.
    /// let active = [1000, 631, 468, 382, 326];
    /// # let history = renewal_cohort(&active)?;
    /// let as_of = cohort_end(4); // 2028-01-01, the fourth period end
    /// let model = ShiftedBetaGeometric::new().fit_subscriptions(&history, as_of, BillingPeriod::Yearly)?;
    /// let direct = ShiftedBetaGeometric::new().fit(&active)?;
    /// assert!((model.alpha() - direct.alpha()).abs() < 1e-9 && (model.beta() - direct.beta()).abs() < 1e-9);
    /// // Earlier, fewer periods are observed: the same subscriptions, censored sooner.
    /// let early = ShiftedBetaGeometric::new().fit_subscriptions(&history, cohort_end(2), BillingPeriod::Yearly)?;
    /// assert_eq!(early.fit_stats().map(|s| s.customers), Some(1000));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit_subscriptions(
        &self,
        history: &History,
        as_of: DateTime<Utc>,
        period: BillingPeriod,
    ) -> Result<FittedShiftedBetaGeometric> {
        self.fit_counts(&RenewalCounts::from_subscriptions(history, as_of, period))
    }

    /// Fits α and β from right-censored renewal counts (cohorts of any
    /// ages pooled), by maximum likelihood as [`fit`](Self::fit).
    ///
    /// # Formula
    ///
    /// ```text
    /// ln L = Σ_t churned[t] ln P(T = t) + Σ_n survived[n] ln S(n)
    /// ```
    ///
    /// (Fader & Hardie 2007, with every cohort's survivors censored at its
    /// own age). `fit(active)` is `fit_counts` of
    /// [`RenewalCounts::from_active`]`(active)`.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate);
    /// [`ErrorKind::Empty`](crate::ErrorKind::Empty) without any
    /// subscription observed over a period end or churned;
    /// [`ErrorKind::Fit`](crate::ErrorKind::Fit) when nobody churned, or
    /// everybody churned in the first period with no survivor;
    /// [`ErrorKind::NotConverged`](crate::ErrorKind::NotConverged).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{RenewalCounts, ShiftedBetaGeometric};
    ///
    /// let active = [1000, 631, 468, 382, 326];
    /// let counts = RenewalCounts::from_active(&active)?;
    /// let pooled = ShiftedBetaGeometric::new().fit_counts(&counts)?;
    /// let direct = ShiftedBetaGeometric::new().fit(&active)?;
    /// assert!((pooled.alpha() - direct.alpha()).abs() < 1e-9);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn fit_counts(&self, counts: &RenewalCounts) -> Result<FittedShiftedBetaGeometric> {
        self.validate()?;
        let (lost, survived) = (&counts.churned, &counts.survived);
        let n = counts.subscriptions();
        if n == 0 {
            return Err(crate::ErrorKind::Empty(
                "no subscription churned or was observed over a period end".into(),
            )
            .into());
        }
        let churned: u64 = lost.iter().sum();
        let late: u64 = lost.iter().skip(1).sum::<u64>() + survived.iter().skip(2).sum::<u64>();
        let survived_one = survived.get(1).copied().unwrap_or(0);
        if churned == 0 || (late == 0 && survived_one == 0) {
            return Err(crate::ErrorKind::Fit {
                what: "sBG",
                message: format!(
                    "renewal counts churned {lost:?}, survived {survived:?}: with no churn, or all churn in the first period, α and β are not identified"
                ),
            }
            .into());
        }
        let nf = n as f64;
        let objective = |theta: &[f64; 2]| {
            let (alpha, beta) = (theta[0].exp(), theta[1].exp());
            let (ll, g) = censored_log_likelihood(alpha, beta, lost, survived);
            (-ll / nf, [-alpha * g[0] / nf, -beta * g[1] / nf])
        };
        let m = minimize(
            objective,
            [0.0, 0.0],
            None,
            self.options.max_iterations,
            self.options.tolerance,
            "sBG",
        )?;
        let (alpha, beta) = (m.x[0].exp(), m.x[1].exp());
        Ok(FittedShiftedBetaGeometric {
            fit_stats: Some(FitStats {
                log_likelihood: censored_log_likelihood(alpha, beta, lost, survived).0,
                customers: n as usize,
                iterations: m.iterations,
                gradient_norm: m.gradient_norm,
            }),
            ..FittedShiftedBetaGeometric::new(alpha, beta)?
        })
    }
}

/// Right-censored renewal counts of subscriptions, what the sBG model is
/// fitted on: how many churned in each period, and how many were still
/// subscribed, observed over how many periods.
///
/// # Example
///
/// ```
/// use churnwise::clv::RenewalCounts;
///
/// let counts = RenewalCounts::from_active(&[100, 60, 45])?;
/// assert_eq!(counts.churned(), [40, 15]); // in periods 1 and 2
/// assert_eq!(counts.survived(), [0, 0, 45]); // 45 observed over 2 periods
/// assert_eq!(counts.subscriptions(), 100);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RenewalCounts {
    churned: Vec<u64>,
    survived: Vec<u64>,
}

impl RenewalCounts {
    /// The counts of one cohort observed period by period: `active[0]`
    /// subscribers at the start, `active[t]` still active after `t` periods.
    ///
    /// # Errors
    ///
    /// As for [`ShiftedBetaGeometric::fit`]'s `active`.
    pub fn from_active(active: &[u64]) -> Result<RenewalCounts> {
        check_active(active)?;
        let n = active.len() - 1;
        let mut survived = vec![0; n + 1];
        survived[n] = active[n];
        Ok(RenewalCounts {
            churned: active.windows(2).map(|w| w[0] - w[1]).collect(),
            survived,
        })
    }

    /// The counts of a history's subscriptions billed every `period` that
    /// had started by `as_of`, reading nothing after `as_of`:
    ///
    /// - a subscription that had ended by `as_of` (its
    ///   [`ended_at`](crate::records::SubscriptionView::ended_at)) churned
    ///   in period `t` = 1 + the number of its period ends before the end
    ///   (a lapse at the end of period `t`, or an end inside it);
    /// - one still subscribed at `as_of` (active, paused or pending
    ///   cancellation) survived the `n` period ends up to `as_of`
    ///   ([`next_period_end_after`](crate::records::SubscriptionView::next_period_end_after));
    ///   with `n = 0` it tells nothing and is left out.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::RenewalCounts;
    /// use churnwise::records::BillingPeriod;
    /// # let day = churnwise::doc_support::day;
    /// # let history = churnwise::doc_support::subscribers()?;
    /// // S-1 (from day 0) ended on day 91, its third period end; S-3 (from day 10)
    /// // ended on day 45, inside its second period.
    /// let counts = RenewalCounts::from_subscriptions(&history, day(120), BillingPeriod::Monthly);
    /// assert_eq!(counts.churned(), [0, 1, 1]);
    /// // At day 50, S-1 was subscribed over one period end (day 31).
    /// let early = RenewalCounts::from_subscriptions(&history, day(50), BillingPeriod::Monthly);
    /// assert_eq!((early.churned(), early.survived()), (&[0, 1][..], &[0, 1][..]));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn from_subscriptions(
        history: &History,
        as_of: DateTime<Utc>,
        period: BillingPeriod,
    ) -> RenewalCounts {
        let mut counts = RenewalCounts::default();
        for s in history.subscriptions() {
            counts.add(&s, as_of, period);
        }
        counts
    }

    /// [`from_subscriptions`](Self::from_subscriptions) per start cohort:
    /// the calendar month (UTC) of each subscription's start, ascending,
    /// with the first instant of the month.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::RenewalCounts;
    /// use churnwise::records::BillingPeriod;
    /// # let day = churnwise::doc_support::day;
    /// # let history = churnwise::doc_support::subscribers()?;
    /// let cohorts = RenewalCounts::by_cohort(&history, day(120), BillingPeriod::Monthly);
    /// assert_eq!(cohorts.len(), 1); // S-1 and S-3 both started in January 2024
    /// assert_eq!(cohorts[0].0, day(0));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn by_cohort(
        history: &History,
        as_of: DateTime<Utc>,
        period: BillingPeriod,
    ) -> Vec<(DateTime<Utc>, RenewalCounts)> {
        let mut cohorts: std::collections::BTreeMap<DateTime<Utc>, RenewalCounts> =
            Default::default();
        for s in history.subscriptions() {
            let start = s.start();
            let Some(month) = start
                .date_naive()
                .with_day(1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
            else {
                continue;
            };
            let c = cohorts.entry(month).or_default();
            c.add(&s, as_of, period);
        }
        cohorts
            .into_iter()
            .filter(|(_, c)| c.subscriptions() > 0)
            .collect()
    }

    /// Counts one subscription (see [`from_subscriptions`](Self::from_subscriptions)).
    fn add(&mut self, s: &SubscriptionView<'_>, as_of: DateTime<Utc>, period: BillingPeriod) {
        if s.period() != period || s.start() > as_of {
            return;
        }
        // Period ends strictly before `bound` (or at it, with `inclusive`);
        // the subscription has not ended at any of them.
        let period_ends = |bound: DateTime<Utc>, inclusive: bool| {
            let mut n = 0usize;
            let mut b = s.next_period_end_after(s.start());
            while let Some(end) = b.filter(|&e| e < bound || (inclusive && e == bound)) {
                n += 1;
                b = s.next_period_end_after(end);
            }
            n
        };
        match s.ended_at().filter(|&e| e <= as_of) {
            Some(end) => {
                let t = period_ends(end, false) + 1;
                bump(&mut self.churned, t - 1);
            }
            None => {
                let n = period_ends(as_of, true);
                if n > 0 {
                    bump(&mut self.survived, n);
                }
            }
        }
    }

    /// Churned in each period: `churned()[t − 1]` subscriptions churned in period `t`.
    pub fn churned(&self) -> &[u64] {
        &self.churned
    }

    /// Survivors by observed age: `survived()[n]` subscriptions were still
    /// subscribed after `n` periods, observed no longer.
    pub fn survived(&self) -> &[u64] {
        &self.survived
    }

    /// The number of subscriptions counted.
    pub fn subscriptions(&self) -> u64 {
        self.churned.iter().sum::<u64>() + self.survived.iter().sum::<u64>()
    }
}

/// Adds one at `i`, growing `v` with zeros.
fn bump(v: &mut Vec<u64>, i: usize) {
    if v.len() <= i {
        v.resize(i + 1, 0);
    }
    v[i] += 1;
}

/// ln L of right-censored counts and its gradient in (α, β):
/// `lost[t − 1]` churned in period t, `survived[n]` censored after n periods.
fn censored_log_likelihood(
    alpha: f64,
    beta: f64,
    lost: &[u64],
    survived: &[u64],
) -> (f64, [f64; 2]) {
    let ab = alpha + beta;
    let (ln_b0, psi_a, psi_b, psi_ab) = (
        ln_beta(alpha, beta),
        digamma(alpha),
        digamma(beta),
        digamma(ab),
    );
    let (mut ll, mut g) = (0.0, [0.0; 2]);
    for (i, &k) in lost.iter().enumerate() {
        if k > 0 {
            let (tf, k) = ((i + 1) as f64, k as f64);
            let psi_end = digamma(ab + tf);
            ll += k * (ln_beta(alpha + 1.0, beta + tf - 1.0) - ln_b0);
            g[0] += k * (digamma(alpha + 1.0) - psi_end - psi_a + psi_ab);
            g[1] += k * (digamma(beta + tf - 1.0) - psi_end - psi_b + psi_ab);
        }
    }
    for (n, &k) in survived.iter().enumerate() {
        if k > 0 && n > 0 {
            let (nf, k) = (n as f64, k as f64);
            let psi_end = digamma(ab + nf);
            ll += k * (ln_beta(alpha, beta + nf) - ln_b0);
            g[0] += k * (psi_ab - psi_end);
            g[1] += k * (digamma(beta + nf) - psi_end - psi_b + psi_ab);
        }
    }
    (ll, g)
}

fn check_active(active: &[u64]) -> Result<()> {
    let bad = |reason: String| Err(Error::invalid_parameter("active", reason));
    if active.len() < 2 {
        return bad(format!(
            "needs the cohort size and at least one later count, got {active:?}"
        ));
    }
    if active[0] == 0 {
        return bad("the cohort size active[0] must be positive".into());
    }
    if let Some(t) = (1..active.len()).find(|&t| active[t] > active[t - 1]) {
        return bad(format!(
            "counts must not increase: active[{t}] = {} > active[{}] = {}",
            active[t],
            t - 1,
            active[t - 1]
        ));
    }
    Ok(())
}

/// ln L and its gradient in (α, β), by
/// ∂ ln B(x, y)/∂x = ψ(x) − ψ(x+y).
fn log_likelihood(alpha: f64, beta: f64, active: &[u64]) -> (f64, [f64; 2]) {
    let ab = alpha + beta;
    let (ln_b0, psi_a, psi_b, psi_ab) = (
        ln_beta(alpha, beta),
        digamma(alpha),
        digamma(beta),
        digamma(ab),
    );
    let mut ll = 0.0;
    let mut g = [0.0; 2];
    for t in 1..active.len() {
        let tf = t as f64;
        let lost = (active[t - 1] - active[t]) as f64;
        if lost > 0.0 {
            let psi_end = digamma(ab + tf);
            ll += lost * (ln_beta(alpha + 1.0, beta + tf - 1.0) - ln_b0);
            g[0] += lost * (digamma(alpha + 1.0) - psi_end - psi_a + psi_ab);
            g[1] += lost * (digamma(beta + tf - 1.0) - psi_end - psi_b + psi_ab);
        }
    }
    let n = active.len() - 1;
    let (nf, survivors) = (n as f64, active[n] as f64);
    if survivors > 0.0 {
        let psi_end = digamma(ab + nf);
        ll += survivors * (ln_beta(alpha, beta + nf) - ln_b0);
        g[0] += survivors * (psi_ab - psi_end);
        g[1] += survivors * (digamma(beta + nf) - psi_end - psi_b + psi_ab);
    }
    (ll, g)
}

/// A fitted sBG model: churn and retention by period, survival, and
/// (discounted) expected residual lifetime.
///
/// Periods are numbered from 1; a customer "churns in period t" when they
/// fail to renew at its end, so S(t) is the share still active after t periods.
///
/// # Example
///
/// ```
/// use churnwise::clv::FittedShiftedBetaGeometric;
///
/// // The published "High End" estimates (Fader & Hardie 2007).
/// let model = FittedShiftedBetaGeometric::new(0.668, 3.806)?;
/// // Retention rises with tenure: r(t) = (β + t − 1) / (α + β + t − 1).
/// assert!(model.retention_rate(1) < model.retention_rate(5));
/// assert!((model.survival(1) - 3.806 / (0.668 + 3.806)).abs() < 1e-12);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SbgRepr", into = "SbgRepr")]
pub struct FittedShiftedBetaGeometric {
    alpha: f64,
    beta: f64,
    fit_stats: Option<FitStats>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SbgRepr {
    alpha: f64,
    beta: f64,
    fit_stats: Option<FitStats>,
}

impl TryFrom<SbgRepr> for FittedShiftedBetaGeometric {
    type Error = Error;
    fn try_from(r: SbgRepr) -> Result<Self> {
        Ok(FittedShiftedBetaGeometric {
            fit_stats: r.fit_stats,
            ..FittedShiftedBetaGeometric::new(r.alpha, r.beta)?
        })
    }
}

impl From<FittedShiftedBetaGeometric> for SbgRepr {
    fn from(f: FittedShiftedBetaGeometric) -> Self {
        SbgRepr {
            alpha: f.alpha,
            beta: f.beta,
            fit_stats: f.fit_stats,
        }
    }
}

impl FittedShiftedBetaGeometric {
    /// A model with given α, β.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `alpha` or `beta` unless each is finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::FittedShiftedBetaGeometric;
    ///
    /// let model = FittedShiftedBetaGeometric::new(0.704, 1.182)?;
    /// assert!(model.fit_stats().is_none());
    /// assert!(FittedShiftedBetaGeometric::new(0.0, 1.182).is_err());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn new(alpha: f64, beta: f64) -> Result<Self> {
        for (name, v) in [("alpha", alpha), ("beta", beta)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid_parameter(
                    name,
                    format!("must be finite and > 0, got {v}"),
                ));
            }
        }
        Ok(FittedShiftedBetaGeometric {
            alpha,
            beta,
            fit_stats: None,
        })
    }

    /// α of the Beta distribution of churn probabilities.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// β of the Beta distribution of churn probabilities.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// The fit's log-likelihood and cohort size (`None` when built by [`new`](Self::new)).
    pub fn fit_stats(&self) -> Option<&FitStats> {
        self.fit_stats.as_ref()
    }

    /// P(T = t): the share of the cohort that churns in period t (0 for t = 0).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::FittedShiftedBetaGeometric;
    ///
    /// let m = FittedShiftedBetaGeometric::new(1.0, 1.0)?;
    /// // α = β = 1: P(T = t) = 1 / (t (t + 1)).
    /// assert!((m.churn_probability(3) - 1.0 / 12.0).abs() < 1e-15);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn churn_probability(&self, t: u32) -> f64 {
        if t == 0 {
            return 0.0;
        }
        let tf = f64::from(t);
        (ln_beta(self.alpha + 1.0, self.beta + tf - 1.0) - ln_beta(self.alpha, self.beta)).exp()
    }

    /// S(t): the share still active after t periods (1 for t = 0).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::FittedShiftedBetaGeometric;
    ///
    /// let m = FittedShiftedBetaGeometric::new(1.0, 1.0)?;
    /// assert!((m.survival(4) - 0.2).abs() < 1e-15); // 1 / (t + 1)
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn survival(&self, t: u32) -> f64 {
        (ln_beta(self.alpha, self.beta + f64::from(t)) - ln_beta(self.alpha, self.beta)).exp()
    }

    /// The retention rate of period t ≥ 1, S(t)/S(t−1) = (β+t−1)/(α+β+t−1)
    /// (for t = 0, that of period 1).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::FittedShiftedBetaGeometric;
    ///
    /// let m = FittedShiftedBetaGeometric::new(1.0, 1.0)?;
    /// assert_eq!(m.retention_rate(3), 0.75);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn retention_rate(&self, t: u32) -> f64 {
        let tf = f64::from(t.max(1));
        (self.beta + tf - 1.0) / (self.alpha + self.beta + tf - 1.0)
    }

    /// Expected active customers after each of periods 0..=periods for a cohort of `cohort_size`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::FittedShiftedBetaGeometric;
    ///
    /// let projected = FittedShiftedBetaGeometric::new(0.704, 1.182)?.project(1000.0, 12);
    /// assert_eq!(projected.len(), 13);
    /// assert!((projected[8] - 223.0).abs() < 10.0); // observed: 223
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn project(&self, cohort_size: f64, periods: u32) -> Vec<f64> {
        (0..=periods)
            .map(|t| cohort_size * self.survival(t))
            .collect()
    }

    /// Expected further renewals of a customer who has renewed `renewals`
    /// times: E[T − (renewals + 1) | T > renewals] = (β + renewals)/(α − 1)
    /// for α > 1; infinite for α ≤ 1 (the churn-probability distribution
    /// has so much mass near 0 that the mean lifetime diverges; use the
    /// discounted version).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::FittedShiftedBetaGeometric;
    ///
    /// assert_eq!(FittedShiftedBetaGeometric::new(3.0, 1.0)?.expected_residual_lifetime(2), 1.5);
    /// assert!(FittedShiftedBetaGeometric::new(0.7, 1.2)?.expected_residual_lifetime(0).is_infinite());
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn expected_residual_lifetime(&self, renewals: u32) -> f64 {
        if self.alpha > 1.0 {
            (self.beta + f64::from(renewals)) / (self.alpha - 1.0)
        } else {
            f64::INFINITY
        }
    }

    /// Discounted expected residual lifetime (Fader & Hardie 2010, eq. 6):
    /// the expected present value, in payments, of a customer who has
    /// renewed `renewals` times (n − 1 in the paper), the next payment
    /// counted undiscounted and each later one discounted by `discount_rate`
    /// per period:
    ///
    /// ```text
    /// DERL = Σ_{k≥0} S(n+k)/S(n−1) / (1+d)^k = (β+n−1)/(α+β+n−1) · ₂F₁(1, β+n; α+β+n; 1/(1+d))
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `discount_rate` unless finite and > 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::FittedShiftedBetaGeometric;
    ///
    /// let m = FittedShiftedBetaGeometric::new(1.0, 1.0)?;
    /// // S(n+k)/S(n−1) = n/(n+k+1): with n = 1, Σ 1/(k+2) · 0.5^k at d = 1.
    /// let want: f64 = (0..200).map(|k| 0.5f64.powi(k) / f64::from(k + 2)).sum();
    /// assert!((m.discounted_expected_residual_lifetime(0, 1.0)? - want).abs() < 1e-12);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn discounted_expected_residual_lifetime(
        &self,
        renewals: u32,
        discount_rate: f64,
    ) -> Result<f64> {
        if !(discount_rate.is_finite() && discount_rate > 0.0) {
            return Err(Error::invalid_parameter(
                "discount_rate",
                format!("must be finite and > 0, got {discount_rate}"),
            ));
        }
        let n = f64::from(renewals) + 1.0;
        let (a, b) = (self.alpha, self.beta);
        let value = (b + n - 1.0) / (a + b + n - 1.0)
            * hyp2f1(1.0, b + n, a + b + n, 1.0 / (1.0 + discount_rate));
        finite(
            "discounted expected residual lifetime",
            0,
            "discount_rate",
            value,
        )
    }

    /// The log-likelihood of active counts (see [`ShiftedBetaGeometric`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
    /// named `active` for invalid counts.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::FittedShiftedBetaGeometric;
    ///
    /// // α = β = 1, 10 customers, 5 left after period 1: 5 ln P(1) + 5 ln S(1) = 10 ln 0.5.
    /// let ll = FittedShiftedBetaGeometric::new(1.0, 1.0)?.log_likelihood(&[10, 5])?;
    /// assert!((ll - 10.0 * 0.5f64.ln()).abs() < 1e-12);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn log_likelihood(&self, active: &[u64]) -> Result<f64> {
        check_active(active)?;
        Ok(log_likelihood(self.alpha, self.beta, active).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::{assert_abs_diff_eq, assert_relative_eq};

    #[test]
    fn gradient_matches_finite_differences() {
        let active = [1000, 631, 468, 382, 326, 289, 262, 241];
        let (a, b) = (0.9, 1.7);
        let (_, g) = log_likelihood(a, b, &active);
        let h = 1e-6;
        let da =
            (log_likelihood(a + h, b, &active).0 - log_likelihood(a - h, b, &active).0) / (2.0 * h);
        let db =
            (log_likelihood(a, b + h, &active).0 - log_likelihood(a, b - h, &active).0) / (2.0 * h);
        assert_relative_eq!(g[0], da, max_relative = 1e-6);
        assert_relative_eq!(g[1], db, max_relative = 1e-6);
    }

    #[test]
    fn probabilities_follow_the_recursions_of_the_paper() {
        // Fader & Hardie (2007) eq. 7: P(1) = α/(α+β), P(t) = (β+t−2)/(α+β+t−1) P(t−1),
        // S(t) = S(t−1) − P(t).
        let m = FittedShiftedBetaGeometric::new(0.704, 1.182).unwrap();
        let (a, b) = (m.alpha, m.beta);
        let mut p = a / (a + b);
        let mut s = 1.0 - p;
        assert_abs_diff_eq!(m.churn_probability(1), p, epsilon = 1e-14);
        for t in 2..=12u32 {
            let tf = f64::from(t);
            p *= (b + tf - 2.0) / (a + b + tf - 1.0);
            s -= p;
            assert_abs_diff_eq!(m.churn_probability(t), p, epsilon = 1e-14);
            assert_abs_diff_eq!(m.survival(t), s, epsilon = 1e-13);
            assert_abs_diff_eq!(
                m.retention_rate(t),
                m.survival(t) / m.survival(t - 1),
                epsilon = 1e-13
            );
        }
    }

    #[test]
    fn discounted_residual_lifetime_matches_its_series() {
        for (alpha, beta, renewals, d) in [
            (0.704, 1.182, 0, 0.1f64),
            (0.668, 3.806, 4, 0.1),
            (2.5, 1.0, 2, 0.02),
        ] {
            let m = FittedShiftedBetaGeometric::new(alpha, beta).unwrap();
            let n = renewals + 1;
            let base = m.survival(n - 1);
            let series: f64 = (0..20_000u32)
                .map(|k| m.survival(n + k) / base / (1.0 + d).powi(k as i32))
                .sum();
            assert_relative_eq!(
                m.discounted_expected_residual_lifetime(renewals, d)
                    .unwrap(),
                series,
                max_relative = 1e-9
            );
        }
    }

    #[test]
    fn rejects_invalid_counts_by_name() {
        for active in [&[][..], &[10][..], &[0, 0][..], &[10, 11][..]] {
            let err = ShiftedBetaGeometric::new().fit(active).unwrap_err();
            assert!(
                matches!(
                    err.kind(),
                    crate::ErrorKind::InvalidParameter { name: "active", .. }
                ),
                "{active:?}"
            );
        }
        assert!(matches!(
            ShiftedBetaGeometric::new()
                .fit(&[10, 10, 10])
                .unwrap_err()
                .kind(),
            crate::ErrorKind::Fit { .. }
        ));
        let m = FittedShiftedBetaGeometric::new(1.0, 1.0).unwrap();
        assert!(m.discounted_expected_residual_lifetime(0, 0.0).is_err());
    }

    #[test]
    fn censored_likelihood_of_one_cohort_is_the_cohort_likelihood() {
        let active = [1000, 631, 468, 382, 326, 289, 262, 241];
        let c = RenewalCounts::from_active(&active).unwrap();
        for (a, b) in [(0.704, 1.182), (2.0, 0.5)] {
            let (l1, g1) = log_likelihood(a, b, &active);
            let (l2, g2) = censored_log_likelihood(a, b, c.churned(), c.survived());
            assert_relative_eq!(l1, l2, max_relative = 1e-12);
            assert_relative_eq!(g1[0], g2[0], max_relative = 1e-10);
            assert_relative_eq!(g1[1], g2[1], max_relative = 1e-10);
        }
    }

    #[test]
    fn censored_gradient_matches_finite_differences() {
        let (lost, survived) = ([50, 30, 20, 10], [0, 40, 25, 0, 60]);
        let (a, b) = (0.8, 2.3);
        let ll = |a, b| censored_log_likelihood(a, b, &lost, &survived).0;
        let (_, g) = censored_log_likelihood(a, b, &lost, &survived);
        let h = 1e-6;
        assert_relative_eq!(
            g[0],
            (ll(a + h, b) - ll(a - h, b)) / (2.0 * h),
            max_relative = 1e-6
        );
        assert_relative_eq!(
            g[1],
            (ll(a, b + h) - ll(a, b - h)) / (2.0 * h),
            max_relative = 1e-6
        );
    }

    /// Simulated monthly subscriptions: θ ~ Beta(0.8, 2.5) per subscriber,
    /// cohorts starting every month of 2022–2023, each renewing at its
    /// period ends with probability 1 − θ (else an `Ended` event at the
    /// period end), observed on 2024-07-01.
    #[test]
    fn recovers_alpha_and_beta_from_simulated_subscriptions() {
        use crate::records::{
            Customer, HistoryBuilder, Subscription, SubscriptionEvent, SubscriptionEventKind,
        };
        use chrono::TimeZone;
        let (alpha, beta) = (0.8, 2.5);
        let mut rng = crate::synth::rng::Rng::seed_from_u64(7);
        let as_of = Utc.with_ymd_and_hms(2024, 7, 1, 0, 0, 0).unwrap();
        let mut b = HistoryBuilder::new();
        let mut id = 0u64;
        for m in 0..24u32 {
            let start = Utc
                .with_ymd_and_hms(2022 + (m / 12) as i32, m % 12 + 1, 1 + m % 20, 0, 0, 0)
                .unwrap();
            for _ in 0..250 {
                id += 1;
                b.push_customer(Customer::new(id, start));
                b.push_subscription(Subscription::new(
                    id,
                    "S",
                    "basic",
                    start,
                    BillingPeriod::Monthly,
                    10.0,
                ));
                let theta = rng.beta(alpha, beta);
                let mut k = 1u32;
                loop {
                    let end = BillingPeriod::Monthly.shift(start, i64::from(k)).unwrap();
                    if end > as_of {
                        break;
                    }
                    if rng.uniform() < theta {
                        b.push_subscription_event(SubscriptionEvent::new(
                            id,
                            "S",
                            end,
                            SubscriptionEventKind::Ended,
                        ));
                        break;
                    }
                    k += 1;
                }
            }
        }
        let (history, report) = b.build().unwrap();
        assert!(report.is_clean(), "{report}");
        let fitted = ShiftedBetaGeometric::new()
            .fit_subscriptions(&history, as_of, BillingPeriod::Monthly)
            .unwrap();
        // 6000 subscribers: the estimates land within about 15% of the truth.
        assert_relative_eq!(fitted.alpha(), alpha, max_relative = 0.15);
        assert_relative_eq!(fitted.beta(), beta, max_relative = 0.15);
        // Yearly subscriptions: none.
        let err = ShiftedBetaGeometric::new()
            .fit_subscriptions(&history, as_of, BillingPeriod::Yearly)
            .unwrap_err();
        assert!(matches!(err.kind(), crate::ErrorKind::Empty(_)), "{err}");
        // Per cohort: 24 start months of 250 subscriptions each.
        let cohorts = RenewalCounts::by_cohort(&history, as_of, BillingPeriod::Monthly);
        assert_eq!(cohorts.len(), 24);
        assert!(cohorts.iter().all(|(_, c)| c.subscriptions() == 250));
        // Nothing after as_of is read: on 2023-01-01 the 2023 cohorts have
        // not started and December 2022's (from Dec 12) has no period end yet.
        let early = Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).unwrap();
        let cohorts = RenewalCounts::by_cohort(&history, early, BillingPeriod::Monthly);
        assert_eq!(cohorts.len(), 11);
    }

    #[test]
    fn unidentified_counts_are_refused() {
        let fit = |lost: Vec<u64>, survived: Vec<u64>| {
            ShiftedBetaGeometric::new().fit_counts(&RenewalCounts {
                churned: lost,
                survived,
            })
        };
        assert!(matches!(
            fit(vec![], vec![]).unwrap_err().kind(),
            crate::ErrorKind::Empty(_)
        ));
        assert!(matches!(
            fit(vec![0, 0], vec![0, 5]).unwrap_err().kind(),
            crate::ErrorKind::Fit { .. }
        ));
        assert!(matches!(
            fit(vec![7], vec![]).unwrap_err().kind(),
            crate::ErrorKind::Fit { .. }
        ));
        assert!(fit(vec![7], vec![0, 3]).is_ok());
    }
}
