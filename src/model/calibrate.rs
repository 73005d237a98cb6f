//! Probability calibration: Platt scaling and isotonic regression, fitted
//! on held-out scores and applied to any churn model's probabilities.

use serde::{Deserialize, Serialize};

use crate::model::link::sigmoid;
use crate::{Error, ErrorKind, Result};

/// How to calibrate a churn model's probabilities.
///
/// A model ranks customers well yet can be over- or under-confident (trees
/// fitted long, class weights, resampling): its 0.8 need not mean that 80 %
/// of such customers churn. Alerts, expected values and budgets read
/// scores as probabilities, so fit a calibration on rows the model did not
/// train on (a held-out part, or out-of-fold predictions) and deploy it
/// with the model ([`FittedModel::calibrate`](crate::model::FittedModel::calibrate)).
///
/// - `Platt`: a logistic curve on the log-odds, `P = 1 / (1 + exp(a·f + b))`
///   with `f = logit(p)`; two parameters, smooth, keeps the ranking, needs
///   few rows.
/// - `Isotonic`: the best non-decreasing step function (pool adjacent
///   violators), linearly interpolated between its steps; fits any
///   monotone distortion, needs more rows (a few thousand).
///
/// # Example
///
/// ```
/// use churnwise::model::Calibrator;
/// use churnwise::model::metrics::brier;
///
/// // Over-confident scores: churners at 0.9 churn only 60 % of the time.
/// let scores = [0.9, 0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1];
/// let labels = [true, true, true, false, false, false, false, false, false, true];
/// let platt = Calibrator::Platt.fit(&scores, &labels)?;
/// let iso = Calibrator::Isotonic.fit(&scores, &labels)?;
/// assert_eq!(iso.apply(0.9), 0.6);
/// let calibrated: Vec<f64> = scores.iter().map(|&p| platt.apply(p)).collect();
/// assert!(brier(&calibrated, &labels, None)? < brier(&scores, &labels, None)?);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Calibrator {
    /// Platt scaling (a logistic regression on the log-odds).
    Platt,
    /// Isotonic regression.
    Isotonic,
}

impl Calibrator {
    /// Fits the calibration on scores (probabilities) and what happened.
    ///
    /// Platt follows scikit-learn's `_SigmoidCalibration` on `f = logit(p)`:
    /// Platt's smoothed targets `(N₊ + 1)/(N₊ + 2)` for churners and
    /// `1/(N₋ + 2)` for the others, solved exactly by Newton's method.
    /// Isotonic follows `IsotonicRegression(y_min=0, y_max=1,
    /// out_of_bounds="clip")`: tied scores averaged, pool adjacent
    /// violators, only the ends of each flat step kept; scores outside the
    /// fitted range are clipped to it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] unless there is one label per score;
    /// [`ErrorKind::Empty`] without scores; [`ErrorKind::InvalidParameter`]
    /// named `scores` for a score outside [0, 1] or NaN;
    /// [`ErrorKind::SingleClass`] for Platt when every label is the same;
    /// [`ErrorKind::NotConverged`] if Newton's method does not converge.
    ///
    /// # Example
    ///
    /// See [`Calibrator`].
    pub fn fit(self, scores: &[f64], labels: &[bool]) -> Result<FittedCalibrator> {
        if scores.len() != labels.len() {
            return Err(ErrorKind::LengthMismatch {
                what: "labels per score",
                expected: scores.len(),
                got: labels.len(),
            }
            .into());
        }
        if scores.is_empty() {
            return Err(ErrorKind::Empty("no scores to calibrate on".into()).into());
        }
        if let Some((i, s)) = scores
            .iter()
            .enumerate()
            .find(|(_, s)| !(0.0..=1.0).contains(*s))
        {
            return Err(Error::invalid_parameter(
                "scores",
                format!("must be probabilities in [0, 1], got {s} at row {i}"),
            ));
        }
        match self {
            Calibrator::Platt => platt(scores, labels),
            Calibrator::Isotonic => Ok(isotonic(scores, labels)),
        }
    }
}

/// A fitted calibration: maps a model's probability to a calibrated one.
/// Serializable, and checked on load.
///
/// # Example
///
/// See [`Calibrator`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "CalibrationRepr")]
#[non_exhaustive]
pub enum FittedCalibrator {
    /// `P = 1 / (1 + exp(a · logit(p) + b))`.
    Platt {
        /// The slope on the log-odds (negative for a useful model).
        a: f64,
        /// The offset.
        b: f64,
    },
    /// Linear interpolation through `(x[k], y[k])`, clipped to `[x₀, x_last]`.
    Isotonic {
        /// Increasing scores.
        x: Vec<f64>,
        /// Non-decreasing calibrated probabilities, one per score.
        y: Vec<f64>,
    },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum CalibrationRepr {
    Platt { a: f64, b: f64 },
    Isotonic { x: Vec<f64>, y: Vec<f64> },
}

impl TryFrom<CalibrationRepr> for FittedCalibrator {
    type Error = Error;

    fn try_from(r: CalibrationRepr) -> Result<Self> {
        let schema = |reason: String| -> Error { ErrorKind::SchemaMismatch { reason }.into() };
        match r {
            CalibrationRepr::Platt { a, b } => {
                if !(a.is_finite() && b.is_finite()) {
                    return Err(schema(format!(
                        "Platt parameters must be finite, got {a} and {b}"
                    )));
                }
                Ok(FittedCalibrator::Platt { a, b })
            }
            CalibrationRepr::Isotonic { x, y } => {
                if x.is_empty() || x.len() != y.len() {
                    return Err(schema(format!(
                        "isotonic calibration needs as many scores as values, at least one; got {} and {}",
                        x.len(),
                        y.len()
                    )));
                }
                if !x.windows(2).all(|w| w[0] < w[1]) || !x.iter().all(|v| v.is_finite()) {
                    return Err(schema(
                        "isotonic scores must be finite and increasing".into(),
                    ));
                }
                if !y.windows(2).all(|w| w[0] <= w[1]) || !y.iter().all(|v| (0.0..=1.0).contains(v))
                {
                    return Err(schema(
                        "isotonic values must be non-decreasing probabilities".into(),
                    ));
                }
                Ok(FittedCalibrator::Isotonic { x, y })
            }
        }
    }
}

impl FittedCalibrator {
    /// The calibrated probability for a model's probability `p` (NaN stays NaN).
    pub fn apply(&self, p: f64) -> f64 {
        match self {
            FittedCalibrator::Platt { a, b } => {
                let f = logit(p);
                let u = a * f + b;
                // 0 · ∞ (a flat calibration of a certain score) is just b.
                let u = if u.is_nan() && !p.is_nan() { *b } else { u };
                sigmoid(-u)
            }
            FittedCalibrator::Isotonic { x, y } => interpolate(x, y, p),
        }
    }

    /// The kind, as its JSON `"type"` tag: `"platt"` or `"isotonic"`.
    pub fn kind(&self) -> &'static str {
        match self {
            FittedCalibrator::Platt { .. } => "platt",
            FittedCalibrator::Isotonic { .. } => "isotonic",
        }
    }
}

/// `ln(p / (1 − p))`, ±∞ at 1 and 0.
pub(crate) fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn platt(scores: &[f64], labels: &[bool]) -> Result<FittedCalibrator> {
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return Err(ErrorKind::SingleClass { class: neg == 0.0 }.into());
    }
    let (hi, lo) = ((pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0));
    // Scores of exactly 0 or 1 would have infinite log-odds: nudge them in.
    let f: Vec<f64> = scores
        .iter()
        .map(|&p| logit(p.clamp(1e-15, 1.0 - 1e-15)))
        .collect();
    let t: Vec<f64> = labels.iter().map(|&l| if l { hi } else { lo }).collect();
    // L(a, b) = Σ t·log(1 + e^u) + (1 − t)·log(1 + e^−u), u = a·f + b.
    let loss = |a: f64, b: f64| -> f64 {
        f.iter()
            .zip(&t)
            .map(|(&f, &t)| {
                let u = a * f + b;
                t * softplus(u) + (1.0 - t) * softplus(-u)
            })
            .sum()
    };
    let (mut a, mut b) = (0.0, ((neg + 1.0) / (pos + 1.0)).ln());
    let mut current = loss(a, b);
    let mut norm = f64::INFINITY;
    for iteration in 0..100u32 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&f, &t) in f.iter().zip(&t) {
            let s = sigmoid(a * f + b);
            let r = s - (1.0 - t);
            let w = s * (1.0 - s);
            ga += r * f;
            gb += r;
            haa += w * f * f;
            hab += w * f;
            hbb += w;
        }
        norm = ga.abs().max(gb.abs()) / labels.len() as f64;
        if norm <= 1e-11 {
            return Ok(FittedCalibrator::Platt { a, b });
        }
        let det = haa * hbb - hab * hab;
        if det.is_nan() || det <= 0.0 {
            return Err(ErrorKind::NotConverged {
                solver: "Platt scaling",
                iterations: iteration,
                gradient_norm: norm,
            }
            .into());
        }
        let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
        let mut step = 1.0;
        loop {
            let (na, nb) = (a - step * da, b - step * db);
            let next = loss(na, nb);
            // Near the optimum the loss changes by less than its rounding
            // error: a step within that error counts as no worse.
            if next <= current + 1e-13 * current.abs() || step < 1e-10 {
                (a, b, current) = (na, nb, next);
                break;
            }
            step /= 2.0;
        }
    }
    Err(ErrorKind::NotConverged {
        solver: "Platt scaling",
        iterations: 100,
        gradient_norm: norm,
    }
    .into())
}

/// `ln(1 + eᵘ)`, stable for either sign.
fn softplus(u: f64) -> f64 {
    if u > 0.0 {
        u + (-u).exp().ln_1p()
    } else {
        u.exp().ln_1p()
    }
}

fn isotonic(scores: &[f64], labels: &[bool]) -> FittedCalibrator {
    // Sort by score; average the labels of tied scores (weight = count).
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&i, &j| scores[i].total_cmp(&scores[j]));
    let (mut xs, mut ys, mut ws): (Vec<f64>, Vec<f64>, Vec<f64>) = (vec![], vec![], vec![]);
    for &i in &order {
        let y = if labels[i] { 1.0 } else { 0.0 };
        match xs.last() {
            Some(&x) if x == scores[i] => {
                let k = ys.len() - 1;
                ys[k] += y;
                ws[k] += 1.0;
            }
            _ => {
                xs.push(scores[i]);
                ys.push(y);
                ws.push(1.0);
            }
        }
    }
    for (y, w) in ys.iter_mut().zip(&ws) {
        *y /= w;
    }
    // Pool adjacent violators: blocks of (weighted mean, weight, length).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(xs.len());
    for (&y, &w) in ys.iter().zip(&ws) {
        blocks.push((y, w, 1));
        while blocks.len() > 1 {
            let (y2, w2, n2) = blocks[blocks.len() - 1];
            let (y1, w1, n1) = blocks[blocks.len() - 2];
            if y1 <= y2 {
                break;
            }
            blocks.truncate(blocks.len() - 2);
            let w = w1 + w2;
            blocks.push(((y1 * w1 + y2 * w2) / w, w, n1 + n2));
        }
    }
    let fitted: Vec<f64> = blocks
        .iter()
        .flat_map(|&(y, _, n)| std::iter::repeat_n(y.clamp(0.0, 1.0), n))
        .collect();
    // Keep only the ends of each flat run (scikit-learn's trim_duplicates).
    let m = fitted.len();
    let keep: Vec<usize> = (0..m)
        .filter(|&i| {
            i == 0 || i == m - 1 || fitted[i] != fitted[i - 1] || fitted[i] != fitted[i + 1]
        })
        .collect();
    FittedCalibrator::Isotonic {
        x: keep.iter().map(|&i| xs[i]).collect(),
        y: keep.iter().map(|&i| fitted[i]).collect(),
    }
}

/// scipy's `interp1d(x, y)` at `p` clipped to `[x₀, x_last]`.
fn interpolate(x: &[f64], y: &[f64], p: f64) -> f64 {
    if p.is_nan() {
        return p;
    }
    let n = x.len();
    if n == 1 {
        return y[0];
    }
    let p = p.clamp(x[0], x[n - 1]);
    // searchsorted(x, p, side="left"), clipped to 1..n−1.
    let hi = x.partition_point(|&v| v < p).clamp(1, n - 1);
    let lo = hi - 1;
    let slope = (y[hi] - y[lo]) / (x[hi] - x[lo]);
    slope * (p - x[lo]) + y[lo]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_pools_violators_and_interpolates() {
        // Scores 1..5 with labels 0 1 0 1 1: the 1, 0 pair pools to 0.5.
        let c = Calibrator::Isotonic
            .fit(
                &[0.1, 0.2, 0.3, 0.4, 0.5],
                &[false, true, false, true, true],
            )
            .unwrap();
        let FittedCalibrator::Isotonic { x, y } = &c else {
            panic!("isotonic")
        };
        assert_eq!(y, &[0.0, 0.5, 0.5, 1.0, 1.0]);
        assert_eq!(x, &[0.1, 0.2, 0.3, 0.4, 0.5]);
        approx::assert_abs_diff_eq!(c.apply(0.35), 0.75, epsilon = 1e-15);
        assert_eq!(c.apply(0.0), 0.0);
        assert_eq!(c.apply(0.9), 1.0);
        assert!(c.apply(f64::NAN).is_nan());
    }

    #[test]
    fn platt_recovers_a_known_curve_and_bad_input_is_refused() {
        // Scores already calibrated: a ≈ −1, b ≈ 0 (the smoothed targets pull a little).
        let scores: Vec<f64> = (1..200).map(|i| f64::from(i) / 200.0).collect();
        let labels: Vec<bool> = scores
            .iter()
            .enumerate()
            .map(|(i, &p)| ((i * 7919) % 199) as f64 / 199.0 < p)
            .collect();
        let FittedCalibrator::Platt { a, b } = Calibrator::Platt.fit(&scores, &labels).unwrap()
        else {
            panic!("platt")
        };
        assert!((a + 1.0).abs() < 0.25 && b.abs() < 0.25, "{a} {b}");
        assert!(Calibrator::Platt.fit(&[0.5, 0.2], &[true, true]).is_err());
        assert!(Calibrator::Isotonic.fit(&[1.5], &[true]).is_err());
        assert!(Calibrator::Isotonic.fit(&[], &[]).is_err());
        assert!(Calibrator::Isotonic.fit(&[0.5], &[true, false]).is_err());
        let c = FittedCalibrator::Platt { a: 0.0, b: 1.0 };
        assert_eq!(c.apply(1.0), sigmoid(-1.0));
    }

    #[test]
    fn saved_calibrations_are_checked_on_load() {
        let ok = r#"{"type":"isotonic","x":[0.1,0.5],"y":[0.2,0.4]}"#;
        let c: FittedCalibrator = serde_json::from_str(ok).unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), ok);
        for bad in [
            r#"{"type":"isotonic","x":[0.5,0.1],"y":[0.2,0.4]}"#,
            r#"{"type":"isotonic","x":[0.1,0.5],"y":[0.4,0.2]}"#,
            r#"{"type":"isotonic","x":[0.1],"y":[0.2,0.4]}"#,
            r#"{"type":"isotonic","x":[0.1,0.5],"y":[0.2,1.5]}"#,
            r#"{"type":"platt","a":1.0}"#,
        ] {
            assert!(
                serde_json::from_str::<FittedCalibrator>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
