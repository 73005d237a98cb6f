//! Probabilistic customer-base models: who is still a customer, how much
//! they will buy and spend, and what they are worth.
//!
//! In a business without contracts, "churned" is never observed: customers
//! simply stop buying. The models here infer it from the purchase record.
//!
//! - [`Calibration`] summarizes a [`History`](crate::records::History) into a
//!   [`CalibrationSummary`]: per customer, repeat purchases x, recency t_x,
//!   age T (days or weeks), mean repeat-order value, and optionally holdout
//!   purchases.
//! - [`BetaGeo`] → [`FittedBetaGeo`]: BG/NBD (Fader, Hardie & Lee 2005) or,
//!   with [`Variant::Modified`], MBG/NBD (Batislam et al. 2007): P(alive),
//!   P(alive) at a future time, expected purchases (unconditional and given
//!   the history), log-likelihood.
//! - [`GammaGamma`] → [`FittedGammaGamma`]: expected value of a purchase.
//! - [`Clv`]: discounted lifetime value from a [`PurchaseModel`] and a spend model.
//! - [`ShiftedBetaGeometric`] → [`FittedShiftedBetaGeometric`] (sBG, Fader &
//!   Hardie 2007): contractual churn of cohorts, retention projections and
//!   (discounted) expected residual lifetime.
//!
//! Fitted models are serde data. Fits are deterministic and bit-identical
//! whatever the number of rayon threads.
//!
//! # Example: P(alive) as a churn score
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use churnwise::clv::{BetaGeo, Calibration, TimeUnit};
//! use churnwise::synth::PopulationConfig;
//!
//! let pop = PopulationConfig::default().customers(2_000).seed(11).generate()?;
//! let (history, _) = pop.history_builder().build()?;
//! let as_of = Utc.with_ymd_and_hms(2024, 6, 30, 0, 0, 0).unwrap();
//! let summary = Calibration::new(as_of).unit(TimeUnit::Weeks).summarize(&history)?;
//! let model = BetaGeo::new().fit(&summary)?;
//! let p_alive = model.p_alive_all(&summary)?;
//! // A churn score per customer of the summary (ids in `summary.ids()`).
//! let churn_score: Vec<f64> = p_alive.iter().map(|p| 1.0 - p).collect();
//! assert_eq!(churn_score.len(), summary.len());
//! assert!(churn_score.iter().all(|s| (0.0..=1.0).contains(s)));
//! # Ok::<(), churnwise::Error>(())
//! ```

mod beta_geo;
mod bgnbd;
mod compress;
mod gamma_gamma;
mod optimize;
mod sbg;
pub(crate) mod special;
mod summary;
mod value;

pub use bgnbd::{BetaGeo, FittedBetaGeo, Variant};
pub use gamma_gamma::{FittedGammaGamma, GammaGamma};
pub use optimize::FitStats;
pub use sbg::{FittedShiftedBetaGeometric, RenewalCounts, ShiftedBetaGeometric};
pub use summary::{Calibration, CalibrationSummary, SummaryRow, TimeUnit};
#[doc(hidden)]
pub use summary::{Occasions, purchase_occasions};
pub use value::{Clv, PurchaseModel};
