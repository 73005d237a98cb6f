//! Customer lifetime value: expected purchases (BG/NBD or MBG/NBD) times
//! expected spend (Gamma-Gamma), discounted period by period.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::beta_geo::finite;
use super::gamma_gamma::FittedGammaGamma;
use super::summary::{CalibrationSummary, SummaryRow, TimeUnit};
use crate::{Error, ErrorKind, Result};

/// A fitted model of purchase counts that [`Clv`] can value, such as
/// [`FittedBetaGeo`](super::FittedBetaGeo) (either variant).
///
/// Each implementation delegates to the type's inherent methods of the same
/// name, so using them needs no trait import.
///
/// # Example
///
/// ```
/// use churnwise::clv::{FittedBetaGeo, PurchaseModel, SummaryRow, TimeUnit, Variant};
///
/// fn expected_next_year(model: &impl PurchaseModel, row: &SummaryRow) -> churnwise::Result<f64> {
///     model.conditional_expected_purchases(row, 52.0)
/// }
/// let row = SummaryRow::new(3, 30.0, 38.0)?;
/// let bg = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
/// let mbg = FittedBetaGeo::new(Variant::Modified, 0.525, 6.183, 0.891, 1.614, TimeUnit::Weeks)?;
/// assert!(expected_next_year(&bg, &row)? > 0.0 && expected_next_year(&mbg, &row)? > 0.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub trait PurchaseModel: Sync {
    /// The time unit of the model's rate parameter and horizons.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{FittedBetaGeo, PurchaseModel, SummaryRow, TimeUnit, Variant};
    ///
    /// let model = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
    /// assert_eq!(PurchaseModel::unit(&model), TimeUnit::Weeks);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    fn unit(&self) -> TimeUnit;
    /// P(alive at the end of calibration).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{FittedBetaGeo, PurchaseModel, SummaryRow, TimeUnit, Variant};
    ///
    /// let model = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
    /// let row = SummaryRow::new(2, 30.43, 38.86)?;
    /// assert_eq!(PurchaseModel::p_alive(&model, &row), model.p_alive(&row)); // the inherent method
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    fn p_alive(&self, row: &SummaryRow) -> f64;
    /// Expected purchases in the next `t` time units.
    ///
    /// # Errors
    ///
    /// As the implementing type's method.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{FittedBetaGeo, PurchaseModel, SummaryRow, TimeUnit, Variant};
    ///
    /// let model = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
    /// let row = SummaryRow::new(2, 30.43, 38.86)?;
    /// let next_year = PurchaseModel::conditional_expected_purchases(&model, &row, 52.0)?;
    /// assert_eq!(next_year, model.conditional_expected_purchases(&row, 52.0)?);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    fn conditional_expected_purchases(&self, row: &SummaryRow, t: f64) -> Result<f64>;
}

/// Refuses a summary in another time unit than the model's.
pub(crate) fn check_unit(model: TimeUnit, summary: TimeUnit) -> Result<()> {
    if model == summary {
        Ok(())
    } else {
        Err(ErrorKind::SchemaMismatch {
            reason: format!(
                "the model's time unit is {} but the summary's is {}",
                model.name(),
                summary.name()
            ),
        }
        .into())
    }
}

/// Customer lifetime value over a horizon of `periods` periods of
/// `period_length` time units, discounted per period.
///
/// # Formula
///
/// ```text
/// CLV = Σ_{k=1..K} [E(kΔ) − E((k−1)Δ)] · E[M | x, m] / (1 + d)^k
/// ```
///
/// with E(t) the expected purchases in the t time units after the end of
/// calibration given the customer's history, E[M | x, m] the Gamma-Gamma
/// expected value of a purchase, Δ the period length, d the discount rate
/// per period (cash flows of a period discounted at its end). This is
/// lifetimes' `customer_lifetime_value` (which fixes Δ to 30 days or 4.345
/// weeks for its "months"). Margins are the caller's: multiply by them.
///
/// # Example
///
/// ```
/// use churnwise::clv::{Clv, FittedBetaGeo, FittedGammaGamma, SummaryRow, TimeUnit, Variant};
///
/// let purchases = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
/// let spend = FittedGammaGamma::new(6.25, 3.74, 15.44)?;
/// let row = SummaryRow::new(2, 30.43, 38.86)?.with_monetary(22.35)?;
/// // 12 "months" of 4.345 weeks, 1% per month.
/// let clv = Clv::new(4.345, 12).discount_rate(0.01);
/// let value = clv.value(&purchases, &spend, &row)?;
/// let undiscounted = Clv::new(4.345, 12).value(&purchases, &spend, &row)?;
/// assert!(0.0 < value && value < undiscounted);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ClvRepr", into = "ClvRepr")]
pub struct Clv {
    period_length: f64,
    periods: u32,
    discount_rate: f64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClvRepr {
    period_length: f64,
    periods: u32,
    #[serde(default)]
    discount_rate: f64,
}

impl TryFrom<ClvRepr> for Clv {
    type Error = Error;
    fn try_from(r: ClvRepr) -> Result<Self> {
        let clv = Clv::new(r.period_length, r.periods).discount_rate(r.discount_rate);
        clv.validate()?;
        Ok(clv)
    }
}

impl From<Clv> for ClvRepr {
    fn from(c: Clv) -> Self {
        ClvRepr {
            period_length: c.period_length,
            periods: c.periods,
            discount_rate: c.discount_rate,
        }
    }
}

impl Clv {
    /// `periods` periods of `period_length` time units (the purchase model's
    /// unit), undiscounted. `period_length` must be finite and > 0 and
    /// `periods` at least 1 (checked by [`validate`](Self::validate)).
    pub fn new(period_length: f64, periods: u32) -> Self {
        Clv {
            period_length,
            periods,
            discount_rate: 0.0,
        }
    }

    /// Checks the configuration; [`value`](Self::value) and
    /// [`values`](Self::values) call it first.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] named `period_length` unless finite
    /// and > 0, `periods` unless ≥ 1, or `discount_rate` unless finite and ≥ 0.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::Clv;
    ///
    /// assert!(Clv::new(4.345, 12).validate().is_ok()); // 12 "months" of 4.345 weeks
    /// assert!(Clv::new(4.345, 0).validate().is_err());
    /// assert!(Clv::new(0.0, 12).validate().is_err());
    /// assert!(Clv::new(4.345, 12).discount_rate(-0.1).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        let period_length = self.period_length;
        if !(period_length.is_finite() && period_length > 0.0) {
            return Err(Error::invalid_parameter(
                "period_length",
                format!("must be finite and > 0, got {period_length}"),
            ));
        }
        if self.periods == 0 {
            return Err(Error::invalid_parameter(
                "periods",
                "must be at least 1, got 0",
            ));
        }
        let rate = self.discount_rate;
        if !(rate.is_finite() && rate >= 0.0) {
            return Err(Error::invalid_parameter(
                "discount_rate",
                format!("must be finite and >= 0, got {rate}"),
            ));
        }
        Ok(())
    }

    /// The discount rate per period. Defaults to 0. Must be finite and ≥ 0
    /// (checked by [`validate`](Self::validate)).
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{Clv, FittedBetaGeo, FittedGammaGamma, SummaryRow, TimeUnit, Variant};
    /// # let purchases = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
    /// # let spend = FittedGammaGamma::new(6.25, 3.74, 15.44)?;
    /// # let row = SummaryRow::new(2, 30.43, 38.86)?.with_monetary(22.35)?;
    ///
    /// let plain = Clv::new(52.0, 1).value(&purchases, &spend, &row)?;
    /// let discounted = Clv::new(52.0, 1).discount_rate(0.1).value(&purchases, &spend, &row)?;
    /// assert!((discounted - plain / 1.1).abs() < 1e-9); // one period, discounted once
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn discount_rate(mut self, rate: f64) -> Self {
        self.discount_rate = rate;
        self
    }

    /// The value of one customer.
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate); what the purchase and spend models
    /// return for this row.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{Clv, FittedBetaGeo, FittedGammaGamma, SummaryRow, TimeUnit, Variant};
    ///
    /// let purchases = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
    /// let spend = FittedGammaGamma::new(6.25, 3.74, 15.44)?;
    /// let row = SummaryRow::new(2, 30.43, 38.86)?.with_monetary(22.35)?;
    /// let value = Clv::new(52.0, 1).value(&purchases, &spend, &row)?;
    /// // One undiscounted period: expected purchases × expected value per purchase.
    /// let expected = purchases.conditional_expected_purchases(&row, 52.0)? * spend.conditional_expected_spend(&row)?;
    /// assert!((value - expected).abs() < 1e-9);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn value(
        &self,
        purchases: &impl PurchaseModel,
        spend: &FittedGammaGamma,
        row: &SummaryRow,
    ) -> Result<f64> {
        self.validate()?;
        let per_purchase = spend.conditional_expected_spend(row)?;
        let mut previous = 0.0;
        let mut total = 0.0;
        for k in 1..=self.periods {
            let cumulative =
                purchases.conditional_expected_purchases(row, f64::from(k) * self.period_length)?;
            total +=
                (cumulative - previous) * per_purchase / (1.0 + self.discount_rate).powi(k as i32);
            previous = cumulative;
        }
        Ok(total)
    }

    /// The value of every customer of a summary, in its order (parallel).
    ///
    /// # Errors
    ///
    /// As [`validate`](Self::validate);
    /// [`ErrorKind::SchemaMismatch`] when the summary's time unit is not the
    /// purchase model's; otherwise as [`value`](Self::value), with the row
    /// named for [`ErrorKind::NonFinite`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::clv::{CalibrationSummary, Clv, FittedBetaGeo, FittedGammaGamma, TimeUnit, Variant};
    ///
    /// let s = CalibrationSummary::from_columns(TimeUnit::Weeks, vec![0, 4], vec![0.0, 35.0], vec![38.0, 38.0])?
    ///     .with_monetary(vec![0.0, 30.0])?;
    /// let purchases = FittedBetaGeo::new(Variant::Standard, 0.243, 4.414, 0.793, 2.426, TimeUnit::Weeks)?;
    /// let spend = FittedGammaGamma::new(6.25, 3.74, 15.44)?;
    /// let values = Clv::new(52.0, 2).discount_rate(0.1).values(&purchases, &spend, &s)?;
    /// assert!(values[1] > values[0]);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn values(
        &self,
        purchases: &impl PurchaseModel,
        spend: &FittedGammaGamma,
        summary: &CalibrationSummary,
    ) -> Result<Vec<f64>> {
        self.validate()?;
        check_unit(purchases.unit(), summary.unit())?;
        (0..summary.len())
            .into_par_iter()
            .map(|i| {
                let v = self
                    .value(purchases, spend, &summary.row_unchecked(i))
                    .map_err(|e| at_row(e, i))?;
                finite("customer lifetime value", i, "value", v)
            })
            .collect()
    }
}

/// Puts the row into a row-less `NonFinite` error.
fn at_row(e: Error, row: usize) -> Error {
    match e.into_kind() {
        ErrorKind::NonFinite {
            what,
            column,
            value,
            ..
        } => ErrorKind::NonFinite {
            what,
            row,
            column,
            value,
        }
        .into(),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clv::{FittedBetaGeo, Variant};
    use approx::assert_relative_eq;

    /// BG/NBD and Gamma-Gamma at the published CDNOW parameters (weeks).
    fn cdnow_models() -> (FittedBetaGeo, FittedGammaGamma) {
        let purchases = FittedBetaGeo::new(
            Variant::Standard,
            0.243,
            4.414,
            0.793,
            2.426,
            TimeUnit::Weeks,
        )
        .unwrap();
        (purchases, FittedGammaGamma::new(6.25, 3.74, 15.44).unwrap())
    }

    #[test]
    fn value_matches_a_hand_computed_discounted_sum() {
        let (purchases, spend) = cdnow_models();
        let row = SummaryRow::new(2, 30.43, 38.86)
            .unwrap()
            .with_monetary(22.35)
            .unwrap();
        let e = |t: f64| purchases.conditional_expected_purchases(&row, t).unwrap();
        let m = (15.44 + 2.0 * 22.35) * 6.25 / (2.0 * 6.25 + 3.74 - 1.0);
        // Two periods of 26 weeks at 5%: [E(26) / 1.05 + (E(52) − E(26)) / 1.05²] · m.
        let want = (e(26.0) / 1.05 + (e(52.0) - e(26.0)) / 1.05f64.powi(2)) * m;
        let clv = Clv::new(26.0, 2).discount_rate(0.05);
        assert_relative_eq!(
            clv.value(&purchases, &spend, &row).unwrap(),
            want,
            max_relative = 1e-13
        );
        // Undiscounted, the sum telescopes to E(52) · m.
        let flat = Clv::new(26.0, 2);
        assert_relative_eq!(
            flat.value(&purchases, &spend, &row).unwrap(),
            e(52.0) * m,
            max_relative = 1e-13
        );
    }

    #[test]
    fn refuses_another_time_unit_and_bad_settings() {
        let (purchases, spend) = cdnow_models();
        let days = CalibrationSummary::from_columns(TimeUnit::Days, vec![0], vec![0.0], vec![10.0])
            .unwrap();
        let err = Clv::new(1.0, 1)
            .values(&purchases, &spend, &days)
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::SchemaMismatch { .. }));
        assert!(matches!(
            Clv::new(0.0, 1).validate().unwrap_err().kind(),
            ErrorKind::InvalidParameter {
                name: "period_length",
                ..
            }
        ));
        assert!(matches!(
            Clv::new(1.0, 0)
                .value(&purchases, &spend, &SummaryRow::new(0, 0.0, 1.0).unwrap())
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidParameter {
                name: "periods",
                ..
            }
        ));
        let err = Clv::new(1.0, 1)
            .discount_rate(f64::NAN)
            .values(&purchases, &spend, &days)
            .unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter {
                name: "discount_rate",
                ..
            }
        ));
    }
}
