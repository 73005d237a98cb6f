//! Evaluation metrics for churn scores: ranking quality (ROC AUC, average
//! precision), probability quality (log-loss, Brier score, calibration),
//! targeting value (lift, cumulative gains, expected-profit threshold) and the
//! confusion matrix at a threshold.
//!
//! Every function takes `scores` (one predicted churn probability or score per
//! customer) and `labels` (`true` = churned) as parallel columns: slices,
//! `Vec`s, arrays or ndarray `Array1`s (see [`Values`]). The
//! definitions follow scikit-learn 1.9 and are checked against it on a fixture
//! with ties (`tests/fixtures/metrics_reference.json`); each function's
//! `# Formula` section names the scikit-learn function it matches and any
//! deliberate difference.
//!
//! Conventions shared by all functions:
//!
//! - **Ranking metrics** ([`roc_auc`], [`average_precision`], [`lift_at`],
//!   [`cumulative_gains`], [`Confusion::at`]) accept any finite score.
//!   **Probability metrics** ([`log_loss`], [`brier`], [`calibration`],
//!   [`best_profit_threshold`], [`Metrics::compute`]) require scores in `[0, 1]`.
//! - **Ties** among scores are handled exactly: tied rows share one ROC / PR
//!   point, and where an order is needed (lift, gains) tied rows keep their
//!   input order (a stable sort).
//! - **Weights** (`Option<&[f64]>`) are accepted where scikit-learn accepts
//!   `sample_weight`: [`roc_auc`], [`average_precision`], [`log_loss`],
//!   [`brier`]. They must be finite, `>= 0`, and not all zero; an integer
//!   weight is the same as repeating the row.
//! - **Cost**: each function sorts at most once (`O(n log n)` time, `O(n)`
//!   extra memory, single-threaded); [`Metrics::compute`] on a million rows
//!   takes about 0.1 s.
//!
//! # Example
//!
//! Evaluate a churn score on a synthetic population, where who churned is
//! known. Here the score is each customer's true per-purchase dropout
//! probability: it ranks churners above stayers better than chance, but it is
//! not a calibrated churn probability, which the log-loss and the reliability
//! diagram show.
//!
//! ```
//! use churnwise::model::metrics::{self, Metrics};
//! use churnwise::synth::PopulationConfig;
//!
//! let pop = PopulationConfig::default().customers(2_000).seed(7).generate()?;
//! let labels: Vec<bool> = pop.truth().iter().map(|t| t.is_churned()).collect();
//! let scores: Vec<f64> = pop.truth().iter().map(|t| t.dropout_probability()).collect();
//!
//! let summary = Metrics::compute(&scores, &labels, None)?;
//! assert_eq!(summary.n, 2_000);
//! assert!(summary.roc_auc > 0.5); // ranks better than chance
//! println!("{summary}");
//!
//! // Calibrated scores would have mean_predicted ≈ fraction_positive per bin.
//! for bin in metrics::calibration(&scores, &labels, 10)? {
//!     println!("{:.1}–{:.1}: predicted {:.2}, observed {:.2}", bin.lower, bin.upper,
//!         bin.mean_predicted, bin.fraction_positive);
//! }
//! # Ok::<(), churnwise::Error>(())
//! ```

use std::borrow::Cow;
use std::fmt;

use ndarray::{ArrayBase, Data, Ix1};
use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind, Result};

/// A column of scores, labels or values as the metrics read it: a slice, an
/// array, a `Vec`, or an ndarray `Array1` / `ArrayView1`, so the outputs of
/// `predict_proba` and [`TrainingSet::labels`](crate::features::TrainingSet::labels)
/// go in as they are.
///
/// Contiguous data is borrowed; a strided view (a column of a matrix) is
/// copied once.
///
/// # Example
///
/// ```
/// use churnwise::model::{LogisticRegression, metrics::roc_auc};
/// # let train = churnwise::doc_support::recency_set()?;
/// let model = LogisticRegression::new().fit(&train)?;
/// let p = model.predict_proba_table(train.features())?; // an Array1<f64>
/// assert!(roc_auc(&p, train.labels(), None)? > 0.5);
/// assert_eq!(roc_auc(&p, train.labels(), None)?, roc_auc(&p.to_vec(), train.churned(), None)?);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub trait Values<T: Clone> {
    /// The values in order, borrowed when contiguous.
    fn values(&self) -> Cow<'_, [T]>;
}

impl<T: Clone> Values<T> for [T] {
    fn values(&self) -> Cow<'_, [T]> {
        Cow::Borrowed(self)
    }
}

impl<T: Clone> Values<T> for Vec<T> {
    fn values(&self) -> Cow<'_, [T]> {
        Cow::Borrowed(self)
    }
}

impl<T: Clone, const N: usize> Values<T> for [T; N] {
    fn values(&self) -> Cow<'_, [T]> {
        Cow::Borrowed(self)
    }
}

impl<T: Clone, S: Data<Elem = T>> Values<T> for ArrayBase<S, Ix1> {
    fn values(&self) -> Cow<'_, [T]> {
        match self.as_slice() {
            Some(s) => Cow::Borrowed(s),
            None => Cow::Owned(self.to_vec()),
        }
    }
}

/// The fraction of customers [`Metrics::lift_at_10pct`] looks at.
const TOP_DECILE: f64 = 0.1;

/// [`calibration`] keeps per-bin totals in a dense array up to this many bins
/// (or one per row, if more); beyond, it sorts rows by bin.
const DENSE_BINS: usize = 1 << 16;

// ---------------------------------------------------------------------------
// Ranking metrics
// ---------------------------------------------------------------------------

/// Area under the ROC curve: the probability that a randomly chosen churner is
/// scored above a randomly chosen non-churner, ties counting one half.
///
/// Use it to compare models by how well they *rank* customers, independent of
/// any threshold and of calibration. 0.5 is random ranking, 1.0 is perfect.
///
/// # Formula
///
/// ```text
/// rows sorted by score, descending; t_1 > t_2 > … > t_m the distinct scores
/// TP_k = Σ w_i [y_i ∧ s_i ≥ t_k]      FP_k = Σ w_i [¬y_i ∧ s_i ≥ t_k]
/// TP_0 = FP_0 = 0,  P = TP_m,  N = FP_m
///
/// AUC = Σ_k (FP_k − FP_{k−1}) · (TP_k + TP_{k−1}) / 2  /  (P · N)
/// ```
///
/// This is the trapezoidal area under scikit-learn's `roc_curve`
/// (`sklearn.metrics.roc_auc_score`, binary case): tied scores form one ROC
/// point, so each tied (churner, non-churner) pair counts 1/2, the same as the
/// Mann–Whitney U statistic with average ranks. Without weights every term is
/// an exact integer (or half-integer) until the final division.
///
/// # Errors
///
/// - [`ErrorKind::LengthMismatch`] if `labels` or `weights` differ in length from `scores`;
/// - [`ErrorKind::Empty`] if there are no scores;
/// - [`ErrorKind::NonFinite`] for a NaN or infinite score or weight, naming its row;
/// - [`ErrorKind::SingleClass`] when every label is the same, where the AUC
///   is undefined;
/// - [`ErrorKind::InvalidParameter`] named `weights` for a negative weight, all-zero weights, or a class whose rows all have
///   weight zero.
///
/// # Example
///
/// ```
/// use churnwise::model::metrics::roc_auc;
///
/// // scikit-learn's docstring example: 3 of the 4 (churner, non-churner) pairs are ordered right.
/// let labels = [false, false, true, true];
/// let scores = [0.1, 0.4, 0.35, 0.8];
/// assert_eq!(roc_auc(&scores, &labels, None)?, 0.75);
///
/// // A tie between a churner and a non-churner counts one half.
/// let tied = roc_auc(&[0.8, 0.5, 0.5, 0.2], &[true, true, false, false], None)?;
/// assert_eq!(tied, 3.5 / 4.0);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn roc_auc(
    scores: &(impl Values<f64> + ?Sized),
    labels: &(impl Values<bool> + ?Sized),
    weights: Option<&[f64]>,
) -> Result<f64> {
    let (scores, labels) = (scores.values(), labels.values());
    let (scores, labels) = (&*scores, &*labels);
    check_inputs(scores, labels, weights, Domain::Finite)?;
    let totals = ClassTotals::new(labels, weights);
    totals.require_both_classes()?;
    Ok(auc_ranked(&rank_descending(scores), labels, weights))
}

/// Average precision: the precision at each threshold, weighted by the
/// recall it adds (scikit-learn's step-wise area under the precision–recall
/// curve, not the interpolated one).
///
/// Prefer it to [`roc_auc`] when churners are rare and what matters is how
/// clean the top of the list is. A random ranking scores about the positive
/// rate; a perfect one scores 1.0.
///
/// # Formula
///
/// ```text
/// with TP_k, FP_k, P as in roc_auc (distinct scores t_1 > … > t_m):
/// precision_k = TP_k / (TP_k + FP_k)      recall_k = TP_k / P,  recall_0 = 0
///
/// AP = Σ_k (recall_k − recall_{k−1}) · precision_k
/// ```
///
/// As `sklearn.metrics.average_precision_score` (binary case), which takes this
/// sum over the points of `precision_recall_curve`. Tied scores form one
/// point. When every label is `true` the result is 1.0, as in scikit-learn.
///
/// # Errors
///
/// As [`roc_auc`], except that only an all-`false` label vector (no churner,
/// so recall is undefined) is rejected, as [`ErrorKind::SingleClass`].
///
/// # Example
///
/// ```
/// use churnwise::model::metrics::average_precision;
///
/// // scikit-learn's docstring example: (1/2)·1 + (1/2)·(2/3).
/// let labels = [false, false, true, true];
/// let scores = [0.1, 0.4, 0.35, 0.8];
/// let ap = average_precision(&scores, &labels, None)?;
/// assert!((ap - 5.0 / 6.0).abs() < 1e-15);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn average_precision(
    scores: &(impl Values<f64> + ?Sized),
    labels: &(impl Values<bool> + ?Sized),
    weights: Option<&[f64]>,
) -> Result<f64> {
    let (scores, labels) = (scores.values(), labels.values());
    let (scores, labels) = (&*scores, &*labels);
    check_inputs(scores, labels, weights, Domain::Finite)?;
    let totals = ClassTotals::new(labels, weights);
    totals.require_positives()?;
    Ok(ap_ranked(&rank_descending(scores), labels, weights))
}

// ---------------------------------------------------------------------------
// Probability metrics
// ---------------------------------------------------------------------------

/// Mean negative log-likelihood of the labels under the predicted
/// probabilities (cross-entropy).
///
/// It rewards probabilities that are both sharp and right, and punishes a
/// confident mistake heavily: use it to compare calibrated models or to check
/// a model before its probabilities feed a value calculation.
///
/// # Formula
///
/// ```text
/// ε = f64::EPSILON = 2.220446049250313e-16
/// loss_i = −ln clip(s_i, ε, 1 − ε)        if y_i
///          −ln clip(1 − s_i, ε, 1 − ε)    otherwise
/// log_loss = Σ w_i · loss_i / Σ w_i
/// ```
///
/// As `sklearn.metrics.log_loss` in scikit-learn ≥ 1.5, which clips both
/// predicted class probabilities to `[eps, 1 − eps]` with
/// `eps = np.finfo(float64).eps` and no longer renormalizes them. So a score
/// of exactly 0 for a churner costs `−ln ε ≈ 36.04`, not infinity. One
/// difference: scikit-learn refuses labels of a single class unless
/// `labels=[0, 1]` is passed; here they are accepted, since the loss is
/// well defined.
///
/// # Errors
///
/// - [`ErrorKind::LengthMismatch`], [`ErrorKind::Empty`] and [`ErrorKind::NonFinite`] as [`roc_auc`];
/// - [`ErrorKind::InvalidParameter`] named `scores` for a score outside
///   `[0, 1]`, naming its row; named `weights` for a negative or all-zero weight.
///
/// # Example
///
/// ```
/// use churnwise::model::metrics::log_loss;
///
/// // scikit-learn's docstring example, as churn probabilities.
/// let labels = [true, false, false, true];
/// let scores = [0.9, 0.1, 0.2, 0.65];
/// let loss = log_loss(&scores, &labels, None)?;
/// assert!((loss - 0.21616187468057912).abs() < 1e-15);
///
/// // A weight of 2 is the same as repeating the row.
/// let weighted = log_loss(&[0.9, 0.3], &[true, false], Some(&[2.0, 1.0]))?;
/// let repeated = log_loss(&[0.9, 0.9, 0.3], &[true, true, false], None)?;
/// assert!((weighted - repeated).abs() < 1e-15);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn log_loss(
    scores: &(impl Values<f64> + ?Sized),
    labels: &(impl Values<bool> + ?Sized),
    weights: Option<&[f64]>,
) -> Result<f64> {
    let (scores, labels) = (scores.values(), labels.values());
    let (scores, labels) = (&*scores, &*labels);
    check_inputs(scores, labels, weights, Domain::Probability)?;
    Ok(weighted_mean(scores, labels, weights, row_log_loss))
}

/// Brier score: the mean squared difference between the predicted probability
/// and the outcome (1 for churned, 0 otherwise).
///
/// Like [`log_loss`] it measures calibration and sharpness together, but it
/// is bounded in `[0, 1]` and forgives a single confident mistake more, so it
/// reads well in reports. Predicting the base rate `p` for everyone scores
/// `p · (1 − p)`.
///
/// # Formula
///
/// ```text
/// brier = Σ w_i · (y_i − s_i)² / Σ w_i
/// ```
///
/// As `sklearn.metrics.brier_score_loss` for binary labels (whose
/// `scale_by_half="auto"` keeps this `[0, 1]` form).
///
/// # Errors
///
/// As [`log_loss`].
///
/// # Example
///
/// ```
/// use churnwise::model::metrics::brier;
///
/// // scikit-learn's docstring example.
/// let labels = [false, true, true, false];
/// let scores = [0.1, 0.9, 0.8, 0.3];
/// assert!((brier(&scores, &labels, None)? - 0.0375).abs() < 1e-15);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn brier(
    scores: &(impl Values<f64> + ?Sized),
    labels: &(impl Values<bool> + ?Sized),
    weights: Option<&[f64]>,
) -> Result<f64> {
    let (scores, labels) = (scores.values(), labels.values());
    let (scores, labels) = (&*scores, &*labels);
    check_inputs(scores, labels, weights, Domain::Probability)?;
    Ok(weighted_mean(scores, labels, weights, row_squared_error))
}

/// One bin of a reliability diagram, from [`calibration`].
///
/// # Example
///
/// ```
/// use churnwise::model::metrics::calibration;
///
/// let bins = calibration(&[0.1, 0.2, 0.9], &[false, true, true], 2)?;
/// let low = &bins[0];
/// assert_eq!((low.lower, low.upper, low.count), (0.0, 0.5, 2));
/// assert!((low.mean_predicted - 0.15).abs() < 1e-15);
/// assert_eq!(low.fraction_positive, 0.5);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CalibrationBin {
    /// The bin's lower edge (excluded, except 0 for the first bin).
    pub lower: f64,
    /// The bin's upper edge (included).
    pub upper: f64,
    /// The mean score of the rows in the bin (scikit-learn's `prob_pred`).
    pub mean_predicted: f64,
    /// The fraction of the bin's rows that churned (scikit-learn's `prob_true`).
    pub fraction_positive: f64,
    /// How many rows fall in the bin (at least 1: empty bins are omitted).
    pub count: usize,
}

/// A reliability diagram: `bins` equal-width bins on `[0, 1]`, and for each
/// non-empty one the mean predicted probability against the observed churn
/// rate.
///
/// A well-calibrated model has `mean_predicted ≈ fraction_positive` in every
/// bin; check this before using scores as probabilities (for expected value,
/// [`best_profit_threshold`], or budgets).
///
/// # Formula
///
/// ```text
/// edges e_j = j · (1 / bins), j = 0..=bins   (as numpy.linspace(0, 1, bins + 1))
/// bin(s)    = #{ j ∈ 1..bins−1 : e_j < s }   so bin b holds (e_b, e_{b+1}], and 0 ∈ bin 0
/// mean_predicted_b    = Σ_{bin(s_i)=b} s_i / count_b
/// fraction_positive_b = Σ_{bin(s_i)=b} y_i / count_b
/// ```
///
/// As `sklearn.calibration.calibration_curve(y, s, n_bins=bins,
/// strategy="uniform")`, bins in increasing order and empty bins omitted. A
/// score exactly on an inner edge goes to the *lower* bin
/// (`np.searchsorted(edges[1:-1], s, side="left")`): that is what the
/// scikit-learn 1.9.1 reference values show; with `side="right"` the edge
/// scores 0.1, 0.3, … of the fixture would move up a bin and no bin would
/// match. Unweighted, as in scikit-learn.
///
/// # Errors
///
/// - [`ErrorKind::LengthMismatch`], [`ErrorKind::Empty`] and [`ErrorKind::NonFinite`] as [`roc_auc`];
/// - [`ErrorKind::InvalidParameter`] named `scores` for a score outside
///   `[0, 1]`; named `bins` when `bins` is 0.
///
/// # Example
///
/// ```
/// use churnwise::model::metrics::calibration;
///
/// let scores = [0.05, 0.15, 0.1, 0.85, 0.95];
/// let labels = [false, false, true, true, true];
/// let bins = calibration(&scores, &labels, 10)?;
/// // 0.1 sits on an edge and joins the first bin; bins 2..=7 are empty and omitted.
/// let counts: Vec<usize> = bins.iter().map(|b| b.count).collect();
/// assert_eq!(counts, [2, 1, 1, 1]);
/// assert_eq!(bins[0].fraction_positive, 0.5);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn calibration(
    scores: &(impl Values<f64> + ?Sized),
    labels: &(impl Values<bool> + ?Sized),
    bins: usize,
) -> Result<Vec<CalibrationBin>> {
    let (scores, labels) = (scores.values(), labels.values());
    let (scores, labels) = (&*scores, &*labels);
    check_inputs(scores, labels, None, Domain::Probability)?;
    if bins == 0 {
        return Err(Error::invalid_parameter("bins", "must be >= 1, got 0"));
    }
    let dense = bins <= scores.len().max(DENSE_BINS);
    Ok(calibrate(scores, labels, bins, dense))
}

/// [`calibration`] on checked input (`bins >= 1`), with per-bin totals in a
/// dense array or by sorting rows by bin; both give identical bins.
fn calibrate(scores: &[f64], labels: &[bool], bins: usize, dense: bool) -> Vec<CalibrationBin> {
    let step = 1.0 / bins as f64;
    let bin_edges = |bin: usize| {
        let upper = if bin + 1 == bins {
            1.0
        } else {
            (bin + 1) as f64 * step
        };
        (bin as f64 * step, upper)
    };
    let mut out = Vec::new();
    if dense {
        // One pass into per-bin totals, added in input order like numpy's bincount.
        let mut totals = vec![(0.0, 0usize, 0usize); bins];
        for (&s, &y) in scores.iter().zip(labels) {
            let t = &mut totals[bin_of(s, bins, step)];
            t.0 += s;
            t.1 += usize::from(y);
            t.2 += 1;
        }
        for (bin, &(sum, positives, count)) in totals.iter().enumerate() {
            if count > 0 {
                out.push(calibration_bin(bin_edges(bin), sum, positives, count));
            }
        }
    } else {
        // More bins than rows: sort (bin, row) pairs instead of allocating every
        // bin; rows of a bin stay in input order, so the sums are the same.
        let mut rows: Vec<(usize, usize)> = scores
            .iter()
            .enumerate()
            .map(|(row, &s)| (bin_of(s, bins, step), row))
            .collect();
        rows.sort_unstable();
        for group in rows.chunk_by(|a, b| a.0 == b.0) {
            let Some(&(bin, _)) = group.first() else {
                continue;
            };
            let (mut sum, mut positives) = (0.0, 0usize);
            for &(_, row) in group {
                sum += scores[row];
                positives += usize::from(labels[row]);
            }
            out.push(calibration_bin(bin_edges(bin), sum, positives, group.len()));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Targeting metrics
// ---------------------------------------------------------------------------

/// Lift in the top `fraction` of customers: how many times more churners the
/// highest-scored customers hold than the population as a whole.
///
/// This answers the campaign question "if we contact the riskiest 10%, how
/// much better is that than contacting 10% at random?". A lift of 3 means the
/// targeted group churns three times as often as average.
///
/// # Formula
///
/// ```text
/// k    = ⌈fraction · n⌉   (at least 1; a product within 4 ulps above an
///                          integer counts as that integer, so 0.07 · 100 → 7)
/// top  = the first k rows by score, descending; tied rows in input order
/// lift = (Σ_{i ∈ top} y_i / k) / (Σ_i y_i / n)
/// ```
///
/// scikit-learn has no lift function; this is the usual decile-lift
/// definition, computed on rows rather than on score bins, so ties at the
/// cut-off are broken by input order (a stable sort). Unweighted.
///
/// # Errors
///
/// - [`ErrorKind::LengthMismatch`], [`ErrorKind::Empty`] and [`ErrorKind::NonFinite`] as [`roc_auc`];
/// - [`ErrorKind::InvalidParameter`] named `fraction` unless `0 < fraction ≤ 1`;
/// - [`ErrorKind::SingleClass`] when no label is `true` (the overall rate would be zero).
///
/// # Example
///
/// ```
/// use churnwise::model::metrics::lift_at;
///
/// // 2 churners among 10 customers; the top 20% (2 rows) hold one of them.
/// let scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0];
/// let mut labels = [false; 10];
/// labels[0] = true;
/// labels[5] = true;
/// // (1/2) / (2/10) = 2.5
/// assert_eq!(lift_at(&scores, &labels, 0.2)?, 2.5);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn lift_at(
    scores: &(impl Values<f64> + ?Sized),
    labels: &(impl Values<bool> + ?Sized),
    fraction: f64,
) -> Result<f64> {
    let (scores, labels) = (scores.values(), labels.values());
    let (scores, labels) = (&*scores, &*labels);
    check_inputs(scores, labels, None, Domain::Finite)?;
    check_fraction(fraction)?;
    let positives = count_true(labels);
    if positives == 0 {
        // No churner: lift and gains are undefined.
        return Err(ErrorKind::SingleClass { class: false }.into());
    }
    Ok(lift_ranked(
        &rank_descending(scores),
        labels,
        positives,
        fraction,
    ))
}

/// Cumulative gains: the share of all churners found in the top `k / bins`
/// of customers, for `k = 1..=bins`, as `(fraction of customers, fraction of
/// churners)` points.
///
/// Plot it to see how much of the churn a campaign of any size would reach:
/// with `bins = 10`, the first point says what the riskiest decile catches.
/// A random ranking follows the diagonal; the last point is always `(1, 1)`.
///
/// # Formula
///
/// ```text
/// rows sorted by score, descending; tied rows in input order
/// r_k    = ⌈k · n / bins⌉   (exact integer arithmetic)
/// gain_k = Σ_{i among the first r_k rows} y_i / Σ_i y_i
/// point_k = (k / bins, gain_k),  k = 1..=bins
/// ```
///
/// scikit-learn has no gains function; this is the cumulative gains curve
/// (as scikit-plot's `cumulative_gain_curve`) sampled at `bins` evenly spaced
/// population fractions. Tied rows keep their input order, as in [`lift_at`]
/// (scikit-plot's `argsort` leaves their order unspecified). Unweighted.
///
/// # Errors
///
/// - [`ErrorKind::LengthMismatch`], [`ErrorKind::Empty`] and [`ErrorKind::NonFinite`] as [`roc_auc`];
/// - [`ErrorKind::InvalidParameter`] named `bins` when `bins` is 0 or too large
///   to allocate;
/// - [`ErrorKind::SingleClass`] when no label is `true`.
///
/// # Example
///
/// ```
/// use churnwise::model::metrics::cumulative_gains;
///
/// let scores = [0.9, 0.8, 0.7, 0.6];
/// let labels = [true, false, true, false];
/// let gains = cumulative_gains(&scores, &labels, 4)?;
/// assert_eq!(gains, [(0.25, 0.5), (0.5, 0.5), (0.75, 1.0), (1.0, 1.0)]);
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn cumulative_gains(
    scores: &(impl Values<f64> + ?Sized),
    labels: &(impl Values<bool> + ?Sized),
    bins: usize,
) -> Result<Vec<(f64, f64)>> {
    let (scores, labels) = (scores.values(), labels.values());
    let (scores, labels) = (&*scores, &*labels);
    check_inputs(scores, labels, None, Domain::Finite)?;
    if bins == 0 {
        return Err(Error::invalid_parameter("bins", "must be >= 1, got 0"));
    }
    let positives = count_true(labels);
    if positives == 0 {
        // No churner: lift and gains are undefined.
        return Err(ErrorKind::SingleClass { class: false }.into());
    }
    let mut out = Vec::new();
    out.try_reserve_exact(bins).map_err(|_| {
        Error::invalid_parameter("bins", format!("too many bins to allocate, got {bins}"))
    })?;
    let ranked = rank_descending(scores);
    let n = ranked.len();
    let (mut taken, mut found) = (0usize, 0usize);
    for k in 1..=bins {
        // k ≤ bins, so k · n / bins ≤ n: the conversion back cannot fail.
        let rows = usize::try_from((k as u128 * n as u128).div_ceil(bins as u128)).unwrap_or(n);
        for &(_, row) in ranked.get(taken..rows).unwrap_or_default() {
            found += usize::from(labels[row]);
        }
        taken = taken.max(rows);
        out.push((k as f64 / bins as f64, found as f64 / positives as f64));
    }
    Ok(out)
}

/// How a customer's value enters [`best_profit_threshold`]: one value for
/// everybody, or one per customer.
///
/// Built implicitly from an `f64` or a slice, so callers write
/// `best_profit_threshold(&scores, 120.0, …)` or
/// `best_profit_threshold(&scores, &clv, …)`.
///
/// # Example
///
/// ```
/// use churnwise::model::metrics::CustomerValue;
///
/// let clv = [80.0, 250.0];
/// assert_eq!(CustomerValue::from(100.0), CustomerValue::Constant(100.0));
/// assert_eq!(CustomerValue::from(&clv), CustomerValue::PerCustomer(&clv));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum CustomerValue<'a> {
    /// The same value for every customer.
    Constant(f64),
    /// One value per customer, aligned with the scores.
    PerCustomer(&'a [f64]),
}

impl From<f64> for CustomerValue<'_> {
    fn from(value: f64) -> Self {
        CustomerValue::Constant(value)
    }
}

impl<'a> From<&'a [f64]> for CustomerValue<'a> {
    fn from(values: &'a [f64]) -> Self {
        CustomerValue::PerCustomer(values)
    }
}

impl<'a, const N: usize> From<&'a [f64; N]> for CustomerValue<'a> {
    fn from(values: &'a [f64; N]) -> Self {
        CustomerValue::PerCustomer(values)
    }
}

impl<'a> From<&'a Vec<f64>> for CustomerValue<'a> {
    fn from(values: &'a Vec<f64>) -> Self {
        CustomerValue::PerCustomer(values)
    }
}

/// The result of [`best_profit_threshold`]: where to cut, what it is expected
/// to earn, and how many customers it targets.
///
/// # Example
///
/// ```
/// use churnwise::model::metrics::best_profit_threshold;
///
/// let plan = best_profit_threshold(&[0.9, 0.6, 0.3, 0.1], 100.0, 10.0, 0.5)?;
/// assert_eq!(plan.threshold, Some(0.3));
/// assert_eq!(plan.targeted, 3);
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProfitThreshold {
    /// Target every customer whose score is `>=` this; `None` when no
    /// threshold has a positive expected profit (target nobody).
    pub threshold: Option<f64>,
    /// The expected profit of targeting at `threshold` (0 when `None`).
    pub expected_profit: f64,
    /// How many customers have a score `>= threshold`.
    pub targeted: usize,
}

/// The score threshold that maximizes the expected profit of a retention
/// campaign that contacts every customer scored at or above it.
///
/// Contacting a customer costs `cost`; with probability `score` they would
/// churn, and the contact then saves them with probability `success_rate`,
/// keeping `value`. No labels are needed: the expected profit follows from the
/// scores read as calibrated churn probabilities (check that with
/// [`calibration`] first). Using labels instead would pick the threshold that
/// happened to be best on past outcomes, which overfits the cut.
///
/// # Formula
///
/// ```text
/// profit(t) = Σ_{i : s_i ≥ t} (s_i · v_i · success_rate − cost)
/// t*        = argmax over the distinct scores t of profit(t),
///             taking the highest such t on a tie, and only if profit(t*) > 0
/// ```
///
/// The search covers thresholds on the score only. With a constant value each
/// term grows with the score, so the best threshold is also the best set of
/// customers; with per-customer values a customer with a low score and a high
/// value may be worth contacting although the threshold set excludes them.
/// `value` and `cost` are in the same currency. There is no scikit-learn
/// counterpart; this is the expected-profit framing of profit-driven churn
/// modelling (e.g. Verbeke et al., "New insights into churn prediction in the
/// telecommunication sector: a profit driven data mining approach", European
/// Journal of Operational Research, 2012), restricted to a score threshold.
///
/// # Errors
///
/// - [`ErrorKind::LengthMismatch`] if per-customer values differ in length from `scores`;
/// - [`ErrorKind::Empty`] if there are no scores;
/// - [`ErrorKind::NonFinite`] for a NaN or infinite score or value, naming its row;
/// - [`ErrorKind::InvalidParameter`] named `scores` for a score outside
///   `[0, 1]`; named `value` for a non-finite constant value; named `cost`
///   unless finite and `>= 0`; named `success_rate` unless in `[0, 1]`.
///
/// # Example
///
/// ```
/// use churnwise::model::metrics::best_profit_threshold;
///
/// // Each contact costs 10, saves half of the churners it reaches, who are worth 100:
/// // expected profits per customer are 35, 20, 5 and −5.
/// let scores = [0.9, 0.6, 0.3, 0.1];
/// let plan = best_profit_threshold(&scores, 100.0, 10.0, 0.5)?;
/// assert_eq!(plan.threshold, Some(0.3));
/// assert_eq!(plan.targeted, 3);
/// assert!((plan.expected_profit - 60.0).abs() < 1e-12);
///
/// // Per-customer values: the second customer is worth little.
/// let plan = best_profit_threshold(&scores, &[100.0, 10.0, 100.0, 100.0], 10.0, 0.5)?;
/// assert_eq!(plan.threshold, Some(0.9));
/// # Ok::<(), churnwise::Error>(())
/// ```
pub fn best_profit_threshold<'a>(
    scores: &(impl Values<f64> + ?Sized),
    value: impl Into<CustomerValue<'a>>,
    cost: f64,
    success_rate: f64,
) -> Result<ProfitThreshold> {
    let scores = scores.values();
    let scores = &*scores;
    let value = value.into();
    if let CustomerValue::PerCustomer(values) = value
        && values.len() != scores.len()
    {
        return Err(ErrorKind::LengthMismatch {
            what: "values per score",
            expected: scores.len(),
            got: values.len(),
        }
        .into());
    }
    if scores.is_empty() {
        return Err(ErrorKind::Empty("no scores to evaluate".into()).into());
    }
    check_scores(scores, Domain::Probability)?;
    match value {
        CustomerValue::Constant(v) if !v.is_finite() => {
            return Err(Error::invalid_parameter(
                "value",
                format!("must be finite, got {v}"),
            ));
        }
        CustomerValue::Constant(_) => {}
        CustomerValue::PerCustomer(values) => {
            if let Some((row, &v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(ErrorKind::NonFinite {
                    what: "customer value",
                    row,
                    column: "value".into(),
                    value: v,
                }
                .into());
            }
        }
    }
    if !(cost.is_finite() && cost >= 0.0) {
        return Err(Error::invalid_parameter(
            "cost",
            format!("must be finite and >= 0, got {cost}"),
        ));
    }
    if !(0.0..=1.0).contains(&success_rate) {
        return Err(Error::invalid_parameter(
            "success_rate",
            format!("must be in [0, 1], got {success_rate}"),
        ));
    }
    let value_of = |row: usize| match value {
        CustomerValue::Constant(v) => v,
        CustomerValue::PerCustomer(values) => values[row],
    };
    let ranked = rank_descending(scores);
    let mut best = ProfitThreshold {
        threshold: None,
        expected_profit: 0.0,
        targeted: 0,
    };
    let (mut profit, mut targeted) = (0.0, 0usize);
    for group in ranked.chunk_by(|a, b| a.0 == b.0) {
        for &(_, row) in group {
            profit += scores[row] * value_of(row) * success_rate - cost;
        }
        targeted += group.len();
        if profit > best.expected_profit {
            best = ProfitThreshold {
                threshold: group.first().map(|&(_, row)| scores[row]),
                expected_profit: profit,
                targeted,
            };
        }
    }
    Ok(best)
}

// ---------------------------------------------------------------------------
// Confusion matrix
// ---------------------------------------------------------------------------

/// Counts of a binary confusion matrix: churners caught (`tp`), customers
/// wrongly flagged (`fp`), customers rightly left alone (`tn`) and churners
/// missed (`fn_`).
///
/// Build it at a decision threshold with [`Confusion::at`], then read
/// [`precision`](Confusion::precision), [`recall`](Confusion::recall),
/// [`f1`](Confusion::f1) and [`accuracy`](Confusion::accuracy). Serialized
/// with the keys `tp`, `fp`, `tn`, `fn`.
///
/// # Example
///
/// ```
/// use churnwise::model::metrics::Confusion;
///
/// let c = Confusion::new(8, 2, 85, 5);
/// assert_eq!(c.precision(), 0.8);
/// assert_eq!(c.accuracy(), 0.93);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Confusion {
    /// Churners predicted to churn (true positives).
    pub tp: u64,
    /// Non-churners predicted to churn (false positives).
    pub fp: u64,
    /// Non-churners predicted to stay (true negatives).
    pub tn: u64,
    /// Churners predicted to stay (false negatives).
    #[serde(rename = "fn")]
    pub fn_: u64,
}

impl Confusion {
    /// A confusion matrix from its four counts, in the order `tp, fp, tn, fn`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::metrics::Confusion;
    ///
    /// let c = Confusion::new(1, 2, 3, 4);
    /// assert_eq!((c.tp, c.fp, c.tn, c.fn_), (1, 2, 3, 4));
    /// ```
    pub const fn new(tp: u64, fp: u64, tn: u64, fn_: u64) -> Self {
        Confusion { tp, fp, tn, fn_ }
    }

    /// The confusion matrix when every customer with `score >= threshold` is
    /// predicted to churn.
    ///
    /// The inequality is `>=`, as scikit-learn's `roc_curve` thresholds (a
    /// row is positive when `y_score >= threshold`) and as the reference
    /// fixture's `confusion_at_0.5` (a strict `>` would give 54 true
    /// positives instead of 57). Scores need only be finite.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::LengthMismatch`], [`ErrorKind::Empty`] and [`ErrorKind::NonFinite`] as [`roc_auc`];
    /// - [`ErrorKind::InvalidParameter`] named `threshold` when it is NaN.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::metrics::Confusion;
    ///
    /// let scores = [0.9, 0.5, 0.4, 0.2];
    /// let labels = [true, false, true, false];
    /// let c = Confusion::at(&scores, &labels, 0.5)?; // 0.5 counts as churn
    /// assert_eq!(c, Confusion::new(1, 1, 1, 1));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn at(
        scores: &(impl Values<f64> + ?Sized),
        labels: &(impl Values<bool> + ?Sized),
        threshold: f64,
    ) -> Result<Self> {
        let (scores, labels) = (scores.values(), labels.values());
        let (scores, labels) = (&*scores, &*labels);
        check_inputs(scores, labels, None, Domain::Finite)?;
        if threshold.is_nan() {
            return Err(Error::invalid_parameter("threshold", "must not be NaN"));
        }
        let mut c = Confusion::default();
        for (&s, &y) in scores.iter().zip(labels) {
            match (s >= threshold, y) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                (false, false) => c.tn += 1,
                (false, true) => c.fn_ += 1,
            }
        }
        Ok(c)
    }

    /// Precision: the share of flagged customers who churn, `tp / (tp + fp)`;
    /// 0 when nobody is flagged.
    ///
    /// The 0 for the undefined case is scikit-learn's `zero_division=0`.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::metrics::Confusion;
    ///
    /// assert_eq!(Confusion::new(3, 1, 0, 0).precision(), 0.75);
    /// assert_eq!(Confusion::new(0, 0, 5, 2).precision(), 0.0);
    /// ```
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    /// Recall: the share of churners who are flagged, `tp / (tp + fn)`; 0
    /// when there is no churner.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::metrics::Confusion;
    ///
    /// assert_eq!(Confusion::new(3, 1, 0, 1).recall(), 0.75);
    /// assert_eq!(Confusion::new(0, 1, 5, 0).recall(), 0.0);
    /// ```
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// F1 score, the harmonic mean of precision and recall,
    /// `2·tp / (2·tp + fp + fn)`; 0 when there is neither a churner nor a
    /// flagged customer.
    ///
    /// The count form is scikit-learn's (`f1_score`), which equals
    /// `2·P·R / (P + R)` whenever that is defined.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::metrics::Confusion;
    ///
    /// assert_eq!(Confusion::new(2, 1, 0, 1).f1(), 4.0 / 6.0);
    /// assert_eq!(Confusion::new(0, 0, 5, 0).f1(), 0.0);
    /// ```
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }

    /// Accuracy: the share of customers classified right, `(tp + tn) / total`;
    /// 0 for an empty matrix.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::metrics::Confusion;
    ///
    /// assert_eq!(Confusion::new(1, 1, 2, 0).accuracy(), 0.75);
    /// assert_eq!(Confusion::default().accuracy(), 0.0);
    /// ```
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.tp + self.fp + self.tn + self.fn_)
    }
}

// ---------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------

/// The headline metrics of a churn model on one evaluation set, computed with
/// one validation pass and one sort.
///
/// Use it for model reports and to persist evaluation results next to a
/// model (it is serializable). `Display` prints an aligned two-column table;
/// the formatter's precision sets the decimals (4 by default).
///
/// # Example
///
/// ```
/// use churnwise::model::metrics::Metrics;
///
/// let scores = [0.9, 0.7, 0.4, 0.3, 0.2, 0.1];
/// let labels = [true, true, false, true, false, false];
/// let m = Metrics::compute(&scores, &labels, None)?;
/// assert_eq!(m.n, 6);
/// assert_eq!(m.positive_rate, 0.5);
/// assert_eq!(m.roc_auc, 8.0 / 9.0);
/// let table = format!("{m:.2}"); // two decimals
/// assert!(table.lines().any(|l| l.starts_with("ROC AUC") && l.ends_with(" 0.89")));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Metrics {
    /// [`roc_auc`], weighted if weights were given.
    pub roc_auc: f64,
    /// [`average_precision`], weighted if weights were given.
    pub average_precision: f64,
    /// [`log_loss`], weighted if weights were given.
    pub log_loss: f64,
    /// [`brier`], weighted if weights were given.
    pub brier: f64,
    /// [`lift_at`] 0.1 (the top decile), unweighted.
    pub lift_at_10pct: f64,
    /// The share of churners: `Σ w_i y_i / Σ w_i` (a plain share without weights).
    pub positive_rate: f64,
    /// The number of rows.
    pub n: usize,
}

impl Metrics {
    /// Computes every metric of the summary on `scores` (churn
    /// probabilities), `labels` and optional `weights`.
    ///
    /// The results are identical to calling [`roc_auc`], [`average_precision`],
    /// [`log_loss`], [`brier`] and [`lift_at`]`(…, 0.1)` one by one, but the
    /// inputs are checked and sorted once.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::LengthMismatch`], [`ErrorKind::Empty`] and [`ErrorKind::NonFinite`] as [`roc_auc`];
    /// - [`ErrorKind::SingleClass`] when only one class is present (the AUC
    ///   is undefined);
    /// - [`ErrorKind::InvalidParameter`] named `scores` for a score outside
    ///   `[0, 1]`; named `weights` as [`roc_auc`].
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::metrics::{Metrics, roc_auc};
    ///
    /// let scores = [0.8, 0.6, 0.6, 0.1];
    /// let labels = [true, false, true, false];
    /// let weights = [1.0, 2.0, 1.0, 1.0];
    /// let m = Metrics::compute(&scores, &labels, Some(&weights))?;
    /// assert_eq!(m.roc_auc, roc_auc(&scores, &labels, Some(&weights))?);
    /// assert_eq!(m.positive_rate, 2.0 / 5.0);
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn compute(
        scores: &(impl Values<f64> + ?Sized),
        labels: &(impl Values<bool> + ?Sized),
        weights: Option<&[f64]>,
    ) -> Result<Self> {
        let (scores, labels) = (scores.values(), labels.values());
        let (scores, labels) = (&*scores, &*labels);
        check_inputs(scores, labels, weights, Domain::Probability)?;
        let totals = ClassTotals::new(labels, weights);
        totals.require_both_classes()?;
        let ranked = rank_descending(scores);
        Ok(Metrics {
            roc_auc: auc_ranked(&ranked, labels, weights),
            average_precision: ap_ranked(&ranked, labels, weights),
            log_loss: weighted_mean(scores, labels, weights, row_log_loss),
            brier: weighted_mean(scores, labels, weights, row_squared_error),
            lift_at_10pct: lift_ranked(&ranked, labels, totals.positive_rows, TOP_DECILE),
            positive_rate: totals.positive / (totals.positive + totals.negative),
            n: scores.len(),
        })
    }
}

impl fmt::Display for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = f.precision().unwrap_or(4);
        let rows = [
            ("positive rate", self.positive_rate),
            ("ROC AUC", self.roc_auc),
            ("average precision", self.average_precision),
            ("log-loss", self.log_loss),
            ("Brier score", self.brier),
            ("lift at 10%", self.lift_at_10pct),
        ];
        writeln!(f, "{:<18} {:>10}", "rows", self.n)?;
        for (name, value) in rows {
            writeln!(f, "{name:<18} {value:>10.p$}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Kernels (private)
// ---------------------------------------------------------------------------

/// What the scores must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Domain {
    /// Any finite number (ranking metrics).
    Finite,
    /// A probability in `[0, 1]`.
    Probability,
}

/// Checks lengths, emptiness, scores and weights, in that order.
fn check_inputs(
    scores: &[f64],
    labels: &[bool],
    weights: Option<&[f64]>,
    domain: Domain,
) -> Result<()> {
    let n = scores.len();
    if labels.len() != n {
        return Err(ErrorKind::LengthMismatch {
            what: "labels per score",
            expected: n,
            got: labels.len(),
        }
        .into());
    }
    if let Some(w) = weights
        && w.len() != n
    {
        return Err(ErrorKind::LengthMismatch {
            what: "weights per score",
            expected: n,
            got: w.len(),
        }
        .into());
    }
    if n == 0 {
        return Err(ErrorKind::Empty("no scores to evaluate".into()).into());
    }
    check_scores(scores, domain)?;
    if let Some(w) = weights {
        check_weights(w)?;
    }
    Ok(())
}

fn check_scores(scores: &[f64], domain: Domain) -> Result<()> {
    for (row, &s) in scores.iter().enumerate() {
        if !s.is_finite() {
            return Err(ErrorKind::NonFinite {
                what: "score",
                row,
                column: "scores".into(),
                value: s,
            }
            .into());
        }
        if domain == Domain::Probability && !(0.0..=1.0).contains(&s) {
            return Err(Error::invalid_parameter(
                "scores",
                format!("must be probabilities in [0, 1], got {s} at row {row}"),
            ));
        }
    }
    Ok(())
}

fn check_weights(weights: &[f64]) -> Result<()> {
    for (row, &w) in weights.iter().enumerate() {
        if !w.is_finite() {
            return Err(ErrorKind::NonFinite {
                what: "weight",
                row,
                column: "weights".into(),
                value: w,
            }
            .into());
        }
        if w < 0.0 {
            return Err(Error::invalid_parameter(
                "weights",
                format!("must be >= 0, got {w} at row {row}"),
            ));
        }
    }
    if weights.iter().all(|&w| w == 0.0) {
        return Err(Error::invalid_parameter("weights", "must not all be zero"));
    }
    Ok(())
}

fn check_fraction(fraction: f64) -> Result<()> {
    if fraction > 0.0 && fraction <= 1.0 {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            "fraction",
            format!("must be in (0, 1], got {fraction}"),
        ))
    }
}

/// The weight of `row` (1 without weights).
fn weight_of(weights: Option<&[f64]>, row: usize) -> f64 {
    weights.map_or(1.0, |w| w[row])
}

fn count_true(labels: &[bool]) -> usize {
    labels.iter().filter(|&&y| y).count()
}

/// `num / den`, or 0 when `den` is 0.
fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Row counts and weight totals per class.
#[derive(Debug, Clone, Copy)]
struct ClassTotals {
    rows: usize,
    positive_rows: usize,
    positive: f64,
    negative: f64,
}

impl ClassTotals {
    fn new(labels: &[bool], weights: Option<&[f64]>) -> Self {
        let (mut positive, mut negative) = (0.0, 0.0);
        for (row, &y) in labels.iter().enumerate() {
            let w = weight_of(weights, row);
            if y {
                positive += w;
            } else {
                negative += w;
            }
        }
        ClassTotals {
            rows: labels.len(),
            positive_rows: count_true(labels),
            positive,
            negative,
        }
    }

    /// Both classes present, each with positive total weight (AUC, summary).
    fn require_both_classes(&self) -> Result<()> {
        self.require_positives()?;
        if self.positive_rows == self.rows {
            return Err(ErrorKind::SingleClass { class: true }.into());
        }
        if self.negative == 0.0 {
            return Err(Error::invalid_parameter(
                "weights",
                "every row labelled false has weight zero",
            ));
        }
        Ok(())
    }

    /// At least one positive row with positive total weight (average precision).
    fn require_positives(&self) -> Result<()> {
        if self.positive_rows == 0 {
            return Err(ErrorKind::SingleClass { class: false }.into());
        }
        if self.positive == 0.0 {
            return Err(Error::invalid_parameter(
                "weights",
                "every row labelled true has weight zero",
            ));
        }
        Ok(())
    }
}

/// `(key, row)` sorted by score descending, ties by row ascending: the order
/// of a stable descending sort. Rows are distinct, so the key is a total order
/// and the (faster) unstable sort gives that unique result. Tied scores have
/// equal keys. Scores must be finite (checked by the callers).
fn rank_descending(scores: &[f64]) -> Vec<(u64, usize)> {
    let mut ranked: Vec<(u64, usize)> = scores.iter().map(|&s| !order_key(s)).zip(0..).collect();
    ranked.sort_unstable();
    ranked
}

/// A key whose unsigned order is the numeric order of finite `x`, with
/// `-0.0` and `0.0` equal: integer comparisons sort several times faster
/// than `f64::partial_cmp`.
fn order_key(x: f64) -> u64 {
    let bits = (x + 0.0).to_bits(); // -0.0 + 0.0 = 0.0
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Trapezoidal ROC area over the groups of tied scores; both classes must
/// have positive weight.
fn auc_ranked(ranked: &[(u64, usize)], labels: &[bool], weights: Option<&[f64]>) -> f64 {
    let (mut tp, mut fp, mut twice_area) = (0.0, 0.0, 0.0);
    for group in ranked.chunk_by(|a, b| a.0 == b.0) {
        let (tp0, fp0) = (tp, fp);
        for &(_, row) in group {
            let w = weight_of(weights, row);
            if labels[row] {
                tp += w;
            } else {
                fp += w;
            }
        }
        twice_area += (fp - fp0) * (tp + tp0);
    }
    twice_area / (2.0 * tp * fp)
}

/// Step-wise average precision over the groups of tied scores; the positive
/// class must have positive weight.
fn ap_ranked(ranked: &[(u64, usize)], labels: &[bool], weights: Option<&[f64]>) -> f64 {
    let (mut tp, mut fp, mut sum) = (0.0, 0.0, 0.0);
    for group in ranked.chunk_by(|a, b| a.0 == b.0) {
        let tp0 = tp;
        for &(_, row) in group {
            let w = weight_of(weights, row);
            if labels[row] {
                tp += w;
            } else {
                fp += w;
            }
        }
        if tp > tp0 {
            sum += (tp - tp0) * tp / (tp + fp);
        }
    }
    sum / tp
}

/// The number of top rows for `fraction` of `n`: ⌈fraction·n⌉, ignoring a
/// product that lies within 4 ulps above an integer (0.07 · 100 =
/// 7.000000000000001 → 7), clamped to `1..=n`.
fn top_rows(fraction: f64, n: usize) -> usize {
    let x = fraction * n as f64;
    let k = (x * (1.0 - 4.0 * f64::EPSILON)).ceil();
    // `as` saturates; k is finite and ≥ 0 for a valid fraction.
    (k as usize).clamp(1, n)
}

fn lift_ranked(ranked: &[(u64, usize)], labels: &[bool], positives: usize, fraction: f64) -> f64 {
    let n = ranked.len();
    let k = top_rows(fraction, n);
    let hits = ranked
        .iter()
        .take(k)
        .filter(|&&(_, row)| labels[row])
        .count();
    (hits as f64 * n as f64) / (k as f64 * positives as f64)
}

/// The bin of probability `p` among `bins` uniform bins: the number of inner
/// edges `j · step` (j = 1..bins−1) strictly below `p`.
fn bin_of(p: f64, bins: usize, step: f64) -> usize {
    let last = bins - 1;
    let edge = |j: usize| j as f64 * step;
    // `as` saturates; the guess is within one or two bins of the answer.
    let mut k = ((p / step) as usize).min(last);
    while k > 0 && edge(k) >= p {
        k -= 1;
    }
    while k < last && edge(k + 1) < p {
        k += 1;
    }
    k
}

fn calibration_bin(
    (lower, upper): (f64, f64),
    sum: f64,
    positives: usize,
    count: usize,
) -> CalibrationBin {
    CalibrationBin {
        lower,
        upper,
        mean_predicted: sum / count as f64,
        fraction_positive: positives as f64 / count as f64,
        count,
    }
}

/// `Σ w_i · f(s_i, y_i) / Σ w_i` (a plain mean without weights).
fn weighted_mean(
    scores: &[f64],
    labels: &[bool],
    weights: Option<&[f64]>,
    f: impl Fn(f64, bool) -> f64,
) -> f64 {
    match weights {
        None => {
            let sum: f64 = scores.iter().zip(labels).map(|(&s, &y)| f(s, y)).sum();
            sum / scores.len() as f64
        }
        Some(w) => {
            let (mut sum, mut total) = (0.0, 0.0);
            for ((&s, &y), &w) in scores.iter().zip(labels).zip(w) {
                sum += w * f(s, y);
                total += w;
            }
            sum / total
        }
    }
}

/// scikit-learn ≥ 1.5 `log_loss` for one row: both class probabilities are
/// clipped to `[ε, 1 − ε]`, ε = `f64::EPSILON`.
fn row_log_loss(p: f64, churned: bool) -> f64 {
    let q = if churned { p } else { 1.0 - p };
    -q.clamp(f64::EPSILON, 1.0 - f64::EPSILON).ln()
}

fn row_squared_error(p: f64, churned: bool) -> f64 {
    let y = if churned { 1.0 } else { 0.0 };
    (y - p) * (y - p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use std::cmp::Ordering;

    #[test]
    fn arrays_vecs_slices_and_strided_views_give_the_same_metrics() {
        // Scores in the second column of a matrix: a strided, non-contiguous view.
        let m = ndarray::array![[0.0, 0.1], [0.0, 0.4], [0.0, 0.35], [0.0, 0.8]];
        let column = m.column(1);
        assert!(column.as_slice().is_none());
        let labels = ndarray::array![false, false, true, true];
        let want = roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true], None).unwrap();
        assert_eq!(want, 0.75);
        assert_eq!(roc_auc(&column, &labels, None).unwrap(), want);
        assert_eq!(
            roc_auc(&column.to_owned(), &labels.to_vec(), None).unwrap(),
            want
        );
        let c = Confusion::at(&column, labels.as_slice().unwrap(), 0.3).unwrap();
        assert_eq!(
            c,
            Confusion::at(&[0.1, 0.4, 0.35, 0.8], &labels, 0.3).unwrap()
        );
    }

    /// Test tolerances, named once (STYLE 2.7).
    mod tol {
        /// Against the scikit-learn 1.9.1 reference values.
        pub const ORACLE: f64 = 1e-12;
        /// Hand-computed values and identities that differ only by rounding.
        pub const EXACT: f64 = 1e-15;
    }

    /// `tests/fixtures/metrics_data.csv`: 400 rows of `label,score`, scores
    /// rounded to 2 decimals (so there are many ties, and 35 scores of 0).
    fn fixture_data() -> (Vec<f64>, Vec<bool>) {
        let text = include_str!("../../tests/fixtures/metrics_data.csv");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("label,score"));
        let (mut scores, mut labels) = (Vec::new(), Vec::new());
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let (label, score) = line.split_once(',').expect("two columns");
            labels.push(match label.trim() {
                "1" => true,
                "0" => false,
                other => panic!("bad label {other}"),
            });
            scores.push(score.trim().parse::<f64>().expect("numeric score"));
        }
        assert_eq!(scores.len(), 400);
        (scores, labels)
    }

    /// `tests/fixtures/metrics_reference.json`: values computed with
    /// scikit-learn 1.9.1 / numpy 2.4.6 on `metrics_data.csv` (`roc_auc_score`,
    /// `average_precision_score`, `log_loss`, `brier_score_loss`,
    /// `calibration_curve(n_bins=10, strategy="uniform")`, a confusion matrix at
    /// 0.5, and a stable-sort top-decile lift).
    fn reference() -> serde_json::Value {
        serde_json::from_str(include_str!("../../tests/fixtures/metrics_reference.json"))
            .expect("valid JSON")
    }

    fn number(v: &serde_json::Value, key: &str) -> f64 {
        v[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} is a number"))
    }

    fn numbers(v: &serde_json::Value, key: &str) -> Vec<f64> {
        v[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} is an array"))
            .iter()
            .map(|x| x.as_f64().expect("number"))
            .collect()
    }

    fn kind(err: Error) -> ErrorKind {
        err.into_kind()
    }

    // ----- oracle: scikit-learn 1.9.1 -----------------------------------

    #[test]
    fn matches_sklearn_ranking_metrics_on_fixture() {
        let (s, y) = fixture_data();
        let r = reference();
        assert_abs_diff_eq!(
            roc_auc(&s, &y, None).unwrap(),
            number(&r, "roc_auc"),
            epsilon = tol::ORACLE
        );
        assert_abs_diff_eq!(
            average_precision(&s, &y, None).unwrap(),
            number(&r, "average_precision"),
            epsilon = tol::ORACLE
        );
    }

    #[test]
    fn matches_sklearn_probability_metrics_on_fixture() {
        let (s, y) = fixture_data();
        let r = reference();
        assert_abs_diff_eq!(
            log_loss(&s, &y, None).unwrap(),
            number(&r, "log_loss"),
            epsilon = tol::ORACLE
        );
        assert_abs_diff_eq!(
            brier(&s, &y, None).unwrap(),
            number(&r, "brier"),
            epsilon = tol::ORACLE
        );
    }

    #[test]
    fn log_loss_clips_with_machine_epsilon_like_sklearn_1_9() {
        // The fixture has two churners scored 0: with eps = 1e-15 (scikit-learn
        // < 1.3) the loss would be 0.64238, far from the reference.
        let (s, y) = fixture_data();
        let r = reference();
        assert!(s.iter().zip(&y).any(|(&s, &y)| s == 0.0 && y));
        let old_eps = weighted_mean(&s, &y, None, |p, c| {
            let q = if c { p } else { 1.0 - p };
            -q.clamp(1e-15, 1.0 - 1e-15).ln()
        });
        assert!((old_eps - number(&r, "log_loss")).abs() > 1e-3);
    }

    #[test]
    fn matches_reference_lift_on_fixture() {
        let (s, y) = fixture_data();
        assert_abs_diff_eq!(
            lift_at(&s, &y, 0.1).unwrap(),
            number(&reference(), "lift_at_10pct"),
            epsilon = tol::ORACLE
        );
    }

    #[test]
    fn matches_sklearn_calibration_curve_on_fixture() {
        let (s, y) = fixture_data();
        let r = reference();
        let bins = calibration(&s, &y, 10).unwrap();
        let fraction = numbers(&r, "calibration_fraction_of_positives");
        let mean = numbers(&r, "calibration_mean_predicted");
        assert_eq!(bins.len(), fraction.len());
        assert_eq!(bins.len(), mean.len());
        for ((bin, &f), &m) in bins.iter().zip(&fraction).zip(&mean) {
            assert_abs_diff_eq!(bin.fraction_positive, f, epsilon = tol::ORACLE);
            assert_abs_diff_eq!(bin.mean_predicted, m, epsilon = tol::ORACLE);
        }
        assert_eq!(bins.iter().map(|b| b.count).sum::<usize>(), 400);
    }

    #[test]
    fn matches_reference_confusion_at_half_with_greater_or_equal() {
        let (s, y) = fixture_data();
        let expected: Confusion =
            serde_json::from_value(reference()["confusion_at_0.5"].clone()).unwrap();
        assert_eq!(expected, Confusion::new(57, 25, 252, 66));
        assert_eq!(Confusion::at(&s, &y, 0.5).unwrap(), expected);
        // A strict inequality would not match: some rows score exactly 0.5.
        assert_ne!(Confusion::at(&s, &y, 0.5 + f64::EPSILON).unwrap(), expected);
    }

    #[test]
    fn summary_matches_fixture_and_individual_functions() {
        let (s, y) = fixture_data();
        let r = reference();
        let m = Metrics::compute(&s, &y, None).unwrap();
        assert_abs_diff_eq!(m.roc_auc, number(&r, "roc_auc"), epsilon = tol::ORACLE);
        assert_abs_diff_eq!(
            m.average_precision,
            number(&r, "average_precision"),
            epsilon = tol::ORACLE
        );
        assert_abs_diff_eq!(m.log_loss, number(&r, "log_loss"), epsilon = tol::ORACLE);
        assert_abs_diff_eq!(m.brier, number(&r, "brier"), epsilon = tol::ORACLE);
        assert_abs_diff_eq!(
            m.lift_at_10pct,
            number(&r, "lift_at_10pct"),
            epsilon = tol::ORACLE
        );
        assert_eq!(m.n, 400);
        assert_eq!(m.positive_rate, 123.0 / 400.0);
        // Bit-identical to the one-by-one functions.
        assert_eq!(m.roc_auc, roc_auc(&s, &y, None).unwrap());
        assert_eq!(
            m.average_precision,
            average_precision(&s, &y, None).unwrap()
        );
        assert_eq!(m.log_loss, log_loss(&s, &y, None).unwrap());
        assert_eq!(m.brier, brier(&s, &y, None).unwrap());
        assert_eq!(m.lift_at_10pct, lift_at(&s, &y, 0.1).unwrap());
    }

    // ----- hand-computed cases ------------------------------------------

    #[test]
    fn auc_counts_tied_pairs_as_one_half() {
        // Pairs (churner, non-churner): (0.8, 0.5) 1, (0.8, 0.2) 1, (0.5, 0.5) ½, (0.5, 0.2) 1.
        let auc = roc_auc(&[0.8, 0.5, 0.5, 0.2], &[true, true, false, false], None).unwrap();
        assert_eq!(auc, 3.5 / 4.0);
        // All scores tied: every pair is a tie.
        let auc = roc_auc(&[0.3; 5], &[true, false, true, false, false], None).unwrap();
        assert_eq!(auc, 0.5);
        // Perfect and reversed rankings.
        assert_eq!(
            roc_auc(&[0.9, 0.8, 0.1], &[true, true, false], None).unwrap(),
            1.0
        );
        assert_eq!(
            roc_auc(&[0.1, 0.2, 0.9], &[true, true, false], None).unwrap(),
            0.0
        );
    }

    #[test]
    fn auc_does_not_depend_on_row_order_or_score_scale() {
        let s = [0.3, 0.7, 0.7, 0.1, 0.5, 0.5, 0.9];
        let y = [false, true, false, false, true, true, false];
        let auc = roc_auc(&s, &y, None).unwrap();
        let mut rev_s = s;
        let mut rev_y = y;
        rev_s.reverse();
        rev_y.reverse();
        assert_eq!(roc_auc(&rev_s, &rev_y, None).unwrap(), auc);
        // Ranking metrics accept any finite score.
        let scaled: Vec<f64> = s.iter().map(|v| 100.0 * v - 30.0).collect();
        assert_eq!(roc_auc(&scaled, &y, None).unwrap(), auc);
    }

    #[test]
    fn ranking_orders_negative_scores_and_ties_signed_zeros() {
        let s = [-0.0, 3.5, -2.0, 0.0, -1e-300, f64::MAX, -f64::MAX];
        let order: Vec<usize> = rank_descending(&s).iter().map(|&(_, row)| row).collect();
        assert_eq!(order, [5, 1, 0, 3, 4, 2, 6]);
        // -0.0 and 0.0 are one tie group, kept in input order.
        let ranked = rank_descending(&[0.0, -0.0, 0.0]);
        assert_eq!(ranked.chunk_by(|a, b| a.0 == b.0).count(), 1);
        assert_eq!(roc_auc(&[-0.0, 0.0], &[true, false], None).unwrap(), 0.5);
    }

    #[test]
    fn auc_with_integer_weights_equals_duplicated_rows() {
        let s = [0.9, 0.6, 0.6, 0.4, 0.2];
        let y = [true, false, true, false, true];
        let w = [2.0, 3.0, 1.0, 0.0, 2.0];
        let (ds, dy) = duplicate(&s, &y, &w);
        assert_abs_diff_eq!(
            roc_auc(&s, &y, Some(&w)).unwrap(),
            roc_auc(&ds, &dy, None).unwrap(),
            epsilon = tol::EXACT
        );
        assert_abs_diff_eq!(
            average_precision(&s, &y, Some(&w)).unwrap(),
            average_precision(&ds, &dy, None).unwrap(),
            epsilon = tol::EXACT
        );
    }

    #[test]
    fn unit_weights_change_nothing() {
        let (s, y) = fixture_data();
        let ones = vec![1.0; s.len()];
        let m = Metrics::compute(&s, &y, None).unwrap();
        let w = Metrics::compute(&s, &y, Some(&ones)).unwrap();
        assert_eq!(m, w);
    }

    #[test]
    fn average_precision_steps_over_distinct_scores() {
        // Thresholds 0.9 (P 1, R ½) and 0.5 (P ⅔, R 1): ½·1 + ½·⅔.
        let ap =
            average_precision(&[0.9, 0.5, 0.5, 0.1], &[true, false, true, false], None).unwrap();
        assert_abs_diff_eq!(ap, 5.0 / 6.0, epsilon = tol::EXACT);
        // Not interpolated: a later higher precision does not lift an earlier step.
        // 0.9 F, 0.8 T, 0.7 T: P = ½ then ⅔ → ½·½ + ½·⅔ = 7/12.
        let ap = average_precision(&[0.9, 0.8, 0.7], &[false, true, true], None).unwrap();
        assert_abs_diff_eq!(ap, 7.0 / 12.0, epsilon = tol::EXACT);
        // Only churners: precision is 1 everywhere, as scikit-learn.
        assert_eq!(
            average_precision(&[0.2, 0.4], &[true, true], None).unwrap(),
            1.0
        );
    }

    #[test]
    fn log_loss_clips_certain_mistakes_to_minus_ln_epsilon() {
        let max = -f64::EPSILON.ln();
        assert_abs_diff_eq!(max, 36.04365338911715, epsilon = 1e-12);
        assert_eq!(log_loss(&[0.0], &[true], None).unwrap(), max);
        assert_eq!(log_loss(&[1.0], &[false], None).unwrap(), max);
        assert_abs_diff_eq!(
            log_loss(&[1.0], &[true], None).unwrap(),
            0.0,
            epsilon = 1e-15
        );
        // Single-class labels are fine for log-loss.
        assert_abs_diff_eq!(
            log_loss(&[0.5, 0.5], &[false, false], None).unwrap(),
            std::f64::consts::LN_2,
            epsilon = tol::EXACT
        );
    }

    #[test]
    fn log_loss_and_brier_with_integer_weights_equal_duplicated_rows() {
        let s = [0.9, 0.6, 0.05, 0.4, 0.0];
        let y = [true, false, true, false, false];
        let w = [3.0, 1.0, 2.0, 0.0, 4.0];
        let (ds, dy) = duplicate(&s, &y, &w);
        assert_abs_diff_eq!(
            log_loss(&s, &y, Some(&w)).unwrap(),
            log_loss(&ds, &dy, None).unwrap(),
            epsilon = tol::EXACT
        );
        assert_abs_diff_eq!(
            brier(&s, &y, Some(&w)).unwrap(),
            brier(&ds, &dy, None).unwrap(),
            epsilon = tol::EXACT
        );
    }

    #[test]
    fn weights_are_scale_free() {
        let s = [0.9, 0.6, 0.3, 0.2];
        let y = [true, false, true, false];
        let w = [0.5, 1.5, 1.0, 2.0];
        let w10: Vec<f64> = w.iter().map(|v| 10.0 * v).collect();
        let a = Metrics::compute(&s, &y, Some(&w)).unwrap();
        let b = Metrics::compute(&s, &y, Some(&w10)).unwrap();
        assert_abs_diff_eq!(a.roc_auc, b.roc_auc, epsilon = tol::EXACT);
        assert_abs_diff_eq!(a.log_loss, b.log_loss, epsilon = tol::EXACT);
        assert_abs_diff_eq!(a.brier, b.brier, epsilon = tol::EXACT);
        assert_abs_diff_eq!(a.positive_rate, 1.5 / 5.0, epsilon = tol::EXACT);
    }

    #[test]
    fn brier_of_base_rate_is_p_times_one_minus_p() {
        let y = [true, false, false, false];
        assert_abs_diff_eq!(
            brier(&[0.25; 4], &y, None).unwrap(),
            0.25 * 0.75,
            epsilon = tol::EXACT
        );
    }

    #[test]
    fn lift_keeps_tied_rows_in_input_order() {
        // Top 2 of 4 rows: 0.9 and the first 0.5 (a non-churner), not the second 0.5.
        let s = [0.5, 0.9, 0.5, 0.1];
        let y = [false, true, true, false];
        // (1/2) / (2/4) = 1
        assert_eq!(lift_at(&s, &y, 0.5).unwrap(), 1.0);
        // Swapping the tied rows changes the top 2: (2/2) / (2/4) = 2.
        let y = [true, true, false, false];
        assert_eq!(lift_at(&s, &y, 0.5).unwrap(), 2.0);
    }

    #[test]
    fn lift_rounds_the_row_count_up_and_ignores_float_noise() {
        assert_eq!(top_rows(0.1, 400), 40);
        assert_eq!(top_rows(0.07, 100), 7); // 0.07 · 100 = 7.000000000000001
        assert_eq!(top_rows(0.101, 100), 11);
        assert_eq!(top_rows(0.001, 10), 1);
        assert_eq!(top_rows(f64::MIN_POSITIVE, 10), 1);
        assert_eq!(top_rows(1.0, 10), 10);
        // Top 1 of 3 rows for 0.2 (0.6 rows round up).
        let lift = lift_at(&[0.9, 0.5, 0.1], &[true, false, true], 0.2).unwrap();
        assert_abs_diff_eq!(lift, 1.5, epsilon = tol::EXACT);
        // All of them: lift 1.
        assert_eq!(
            lift_at(&[0.9, 0.5, 0.1], &[true, false, true], 1.0).unwrap(),
            1.0
        );
    }

    #[test]
    fn gains_are_cumulative_shares_of_churners() {
        let s = [0.1, 0.9, 0.3, 0.7, 0.5];
        let y = [true, true, false, false, true];
        // Sorted: 0.9 T, 0.7 F, 0.5 T, 0.3 F, 0.1 T; rows ⌈k·5/2⌉ = 3, 5.
        let g = cumulative_gains(&s, &y, 2).unwrap();
        assert_eq!(g, [(0.5, 2.0 / 3.0), (1.0, 1.0)]);
        // More bins than rows: points repeat the reachable shares.
        let g = cumulative_gains(&s, &y, 10).unwrap();
        assert_eq!(g.len(), 10);
        assert_eq!(g[0], (0.1, 1.0 / 3.0));
        assert_eq!(g[9], (1.0, 1.0));
        assert!(g.windows(2).all(|w| w[0].1 <= w[1].1));
    }

    #[test]
    fn gains_at_the_top_decile_agree_with_lift() {
        let (s, y) = fixture_data();
        let g = cumulative_gains(&s, &y, 10).unwrap();
        let lift = lift_at(&s, &y, 0.1).unwrap();
        // gain = lift · fraction when the decile is a whole number of rows.
        assert_abs_diff_eq!(g[0].1, lift * 0.1, epsilon = tol::EXACT);
        assert_eq!(g[9], (1.0, 1.0));
    }

    #[test]
    fn calibration_puts_edge_scores_in_the_lower_bin() {
        let bins =
            calibration(&[0.0, 0.5, 0.50000001, 1.0], &[false, true, true, true], 2).unwrap();
        assert_eq!(bins.len(), 2);
        assert_eq!((bins[0].lower, bins[0].upper, bins[0].count), (0.0, 0.5, 2));
        assert_eq!((bins[1].lower, bins[1].upper, bins[1].count), (0.5, 1.0, 2));
        assert_eq!(bins[0].fraction_positive, 0.5);
        assert_eq!(bins[0].mean_predicted, 0.25);
        // 0.3 is just below numpy's edge 3 · 0.1 = 0.30000000000000004.
        assert_eq!(bin_of(0.3, 10, 0.1), 2);
        assert_eq!(bin_of(0.30000000000000004, 10, 0.1), 2);
        assert_eq!(bin_of(0.3000000000000001, 10, 0.1), 3);
        assert_eq!(bin_of(0.0, 10, 0.1), 0);
        assert_eq!(bin_of(1.0, 10, 0.1), 9);
        assert_eq!(bin_of(0.7, 1, 1.0), 0);
    }

    #[test]
    fn calibration_dense_and_sorted_paths_agree() {
        let (s, y) = fixture_data();
        for bins in [1, 2, 7, 10, 100, 1000] {
            assert_eq!(
                calibrate(&s, &y, bins, true),
                calibrate(&s, &y, bins, false)
            );
        }
    }

    #[test]
    fn calibration_omits_empty_bins_and_keeps_order() {
        let bins = calibration(&[0.95, 0.05, 0.55], &[true, false, false], 10).unwrap();
        let lowers: Vec<f64> = bins.iter().map(|b| b.lower).collect();
        assert_eq!(lowers, [0.0, 0.5, 0.9]);
        // Huge bin counts allocate nothing per bin.
        let bins = calibration(&[0.25, 0.75], &[true, false], usize::MAX).unwrap();
        assert_eq!(bins.len(), 2);
    }

    #[test]
    fn confusion_ratios_are_zero_when_undefined() {
        let c = Confusion::at(&[0.1, 0.2], &[false, false], 0.5).unwrap();
        assert_eq!(c, Confusion::new(0, 0, 2, 0));
        assert_eq!(c.precision(), 0.0);
        assert_eq!(c.recall(), 0.0);
        assert_eq!(c.f1(), 0.0);
        assert_eq!(c.accuracy(), 1.0);
        let c = Confusion::new(6, 2, 10, 4);
        assert_eq!(c.precision(), 0.75);
        assert_eq!(c.recall(), 0.6);
        let (p, r) = (c.precision(), c.recall());
        assert_abs_diff_eq!(c.f1(), 2.0 * p * r / (p + r), epsilon = tol::EXACT);
        assert_abs_diff_eq!(c.accuracy(), 16.0 / 22.0, epsilon = tol::EXACT);
    }

    #[test]
    fn confusion_serializes_fn_as_fn() {
        let json = serde_json::to_string(&Confusion::new(1, 2, 3, 4)).unwrap();
        assert_eq!(json, r#"{"tp":1,"fp":2,"tn":3,"fn":4}"#);
    }

    #[test]
    fn profit_threshold_maximizes_expected_profit() {
        // Per-customer expected profits: 35, 20, 5, −5.
        let p = best_profit_threshold(&[0.1, 0.9, 0.3, 0.6], 100.0, 10.0, 0.5).unwrap();
        assert_eq!(p.threshold, Some(0.3));
        assert_eq!(p.targeted, 3);
        assert_abs_diff_eq!(p.expected_profit, 60.0, epsilon = 1e-12);
    }

    #[test]
    fn profit_threshold_keeps_ties_together_and_prefers_fewer_targets() {
        // The two 0.5 rows go in or out together: 0.5·100·1 − 50 = 0 each.
        let p = best_profit_threshold(&[0.5, 0.8, 0.5], 100.0, 50.0, 1.0).unwrap();
        assert_eq!(p.threshold, Some(0.8));
        assert_eq!(p.targeted, 1);
        assert_abs_diff_eq!(p.expected_profit, 30.0, epsilon = 1e-12);
        // Per-customer values: (0.8·10 − 5) + (0.5·100 − 5) beats 0.8 alone.
        let p = best_profit_threshold(&[0.8, 0.5, 0.2], &[10.0, 100.0, 1.0], 5.0, 1.0).unwrap();
        assert_eq!(p.threshold, Some(0.5));
        assert_eq!(p.targeted, 2);
        assert_abs_diff_eq!(p.expected_profit, 48.0, epsilon = 1e-12);
    }

    #[test]
    fn profit_threshold_targets_nobody_when_nothing_pays() {
        let p = best_profit_threshold(&[0.2, 0.1], 10.0, 5.0, 0.5).unwrap();
        assert_eq!(
            p,
            ProfitThreshold {
                threshold: None,
                expected_profit: 0.0,
                targeted: 0
            }
        );
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<ProfitThreshold>(&json).unwrap(), p);
    }

    #[test]
    fn summary_displays_an_aligned_table() {
        let (s, y) = fixture_data();
        let m = Metrics::compute(&s, &y, None).unwrap();
        let table = m.to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 7);
        assert_eq!(lines[0], "rows                      400");
        assert_eq!(lines[2], "ROC AUC                0.8094");
        assert!(lines.iter().all(|l| l.len() == lines[0].len()));
        assert!(format!("{m:.2}").contains("lift at 10%              2.36"));
    }

    #[test]
    fn summary_round_trips_through_json() {
        // serde_json without its `float_roundtrip` feature may parse the last
        // digit of an f64 differently, so floats compare within one rounding.
        let (s, y) = fixture_data();
        let m = Metrics::compute(&s, &y, None).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("\"lift_at_10pct\""));
        let back: Metrics = serde_json::from_str(&json).unwrap();
        assert_eq!(back.n, m.n);
        for (a, b) in [
            (back.roc_auc, m.roc_auc),
            (back.average_precision, m.average_precision),
            (back.log_loss, m.log_loss),
            (back.brier, m.brier),
            (back.lift_at_10pct, m.lift_at_10pct),
            (back.positive_rate, m.positive_rate),
        ] {
            assert_abs_diff_eq!(a, b, epsilon = tol::EXACT);
        }
        let bins = calibration(&s, &y, 10).unwrap();
        let json = serde_json::to_string(&bins).unwrap();
        let back: Vec<CalibrationBin> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.len(), bins.len());
        for (a, b) in back.iter().zip(&bins) {
            assert_eq!(a.count, b.count);
            assert_abs_diff_eq!(a.lower, b.lower, epsilon = tol::EXACT);
            assert_abs_diff_eq!(a.upper, b.upper, epsilon = tol::EXACT);
            assert_abs_diff_eq!(a.mean_predicted, b.mean_predicted, epsilon = tol::EXACT);
            assert_abs_diff_eq!(
                a.fraction_positive,
                b.fraction_positive,
                epsilon = tol::EXACT
            );
        }
    }

    #[test]
    fn public_types_are_send_sync_unpin() {
        fn assert_auto<T: Send + Sync + Unpin + 'static>() {}
        assert_auto::<Metrics>();
        assert_auto::<Confusion>();
        assert_auto::<CalibrationBin>();
        assert_auto::<ProfitThreshold>();
        assert_auto::<CustomerValue<'static>>();
    }

    #[test]
    fn handles_a_million_rows() {
        // A deterministic pseudo-random million rows with many ties: the
        // linearithmic path finishes quickly even in debug builds.
        let n = 1_000_000;
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut s, mut y) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            let p = (next() * 1000.0).round() / 1000.0;
            s.push(p);
            y.push(next() < p);
        }
        let m = Metrics::compute(&s, &y, None).unwrap();
        // Labels drawn with probability = score: calibrated, AUC well above ½.
        assert!(m.roc_auc > 0.8, "{m}");
        assert_abs_diff_eq!(m.brier, 1.0 / 6.0, epsilon = 2e-3);
    }

    // ----- properties ---------------------------------------------------

    /// Expands integer weights into repeated rows.
    fn duplicate(s: &[f64], y: &[bool], w: &[f64]) -> (Vec<f64>, Vec<bool>) {
        let mut ds = Vec::new();
        let mut dy = Vec::new();
        for ((&s, &y), &w) in s.iter().zip(y).zip(w) {
            for _ in 0..(w as usize) {
                ds.push(s);
                dy.push(y);
            }
        }
        (ds, dy)
    }

    /// The O(n²) Mann–Whitney definition, ties counted ½.
    fn pairwise_auc(s: &[f64], y: &[bool], w: &[f64]) -> f64 {
        let (mut num, mut den) = (0.0, 0.0);
        for i in (0..s.len()).filter(|&i| y[i]) {
            for j in (0..s.len()).filter(|&j| !y[j]) {
                let pair = w[i] * w[j];
                den += pair;
                num += pair
                    * match s[i].partial_cmp(&s[j]) {
                        Some(Ordering::Greater) => 1.0,
                        Some(Ordering::Equal) => 0.5,
                        _ => 0.0,
                    };
            }
        }
        num / den
    }

    proptest::proptest! {
        #[test]
        fn auc_equals_the_pairwise_definition(
            rows in proptest::collection::vec((0u8..8, proptest::bool::ANY, 0u8..4), 2..40)
        ) {
            let s: Vec<f64> = rows.iter().map(|r| f64::from(r.0) / 8.0).collect();
            let y: Vec<bool> = rows.iter().map(|r| r.1).collect();
            let w: Vec<f64> = rows.iter().map(|r| f64::from(r.2)).collect();
            let pos: f64 = w.iter().zip(&y).filter(|p| *p.1).map(|p| p.0).sum();
            let neg: f64 = w.iter().zip(&y).filter(|p| !*p.1).map(|p| p.0).sum();
            proptest::prop_assume!(pos > 0.0 && neg > 0.0);
            let auc = roc_auc(&s, &y, Some(&w)).unwrap();
            proptest::prop_assert!((auc - pairwise_auc(&s, &y, &w)).abs() < 1e-12);
            let (ds, dy) = duplicate(&s, &y, &w);
            let dup = roc_auc(&ds, &dy, None).unwrap();
            proptest::prop_assert!((auc - dup).abs() < 1e-12);
        }

        #[test]
        fn metrics_stay_in_range(
            rows in proptest::collection::vec((0u16..=100, proptest::bool::ANY), 2..60)
        ) {
            let s: Vec<f64> = rows.iter().map(|r| f64::from(r.0) / 100.0).collect();
            let y: Vec<bool> = rows.iter().map(|r| r.1).collect();
            proptest::prop_assume!(y.iter().any(|&v| v) && y.iter().any(|&v| !v));
            let m = Metrics::compute(&s, &y, None).unwrap();
            proptest::prop_assert!((0.0..=1.0).contains(&m.roc_auc));
            proptest::prop_assert!((0.0..=1.0).contains(&m.average_precision));
            proptest::prop_assert!((0.0..=1.0).contains(&m.brier));
            proptest::prop_assert!(m.log_loss >= 0.0);
            proptest::prop_assert!(m.lift_at_10pct >= 0.0);
            let g = cumulative_gains(&s, &y, 7).unwrap();
            proptest::prop_assert!(g.windows(2).all(|w| w[0].1 <= w[1].1));
            proptest::prop_assert_eq!(g[6], (1.0, 1.0));
        }
    }

    // ----- error paths --------------------------------------------------

    #[test]
    fn rejects_mismatched_lengths() {
        let err = roc_auc(&[0.1, 0.2], &[true], None).unwrap_err();
        assert!(matches!(
            kind(err),
            ErrorKind::LengthMismatch {
                what: "labels per score",
                expected: 2,
                got: 1
            }
        ));
        let err = log_loss(&[0.1, 0.2], &[true, false], Some(&[1.0])).unwrap_err();
        assert!(matches!(
            kind(err),
            ErrorKind::LengthMismatch {
                what: "weights per score",
                expected: 2,
                got: 1
            }
        ));
        let err = best_profit_threshold(&[0.1, 0.2], &[1.0, 2.0, 3.0], 1.0, 0.5).unwrap_err();
        assert!(matches!(
            kind(err),
            ErrorKind::LengthMismatch {
                what: "values per score",
                expected: 2,
                got: 3
            }
        ));
    }

    #[test]
    fn rejects_empty_input_everywhere() {
        let errors = [
            roc_auc(&[], &[], None).unwrap_err(),
            average_precision(&[], &[], None).unwrap_err(),
            log_loss(&[], &[], None).unwrap_err(),
            brier(&[], &[], None).unwrap_err(),
            lift_at(&[], &[], 0.1).unwrap_err(),
            cumulative_gains(&[], &[], 10).unwrap_err(),
            calibration(&[], &[], 10).unwrap_err(),
            Confusion::at(&[], &[], 0.5).unwrap_err(),
            best_profit_threshold(&[], 1.0, 1.0, 0.5).unwrap_err(),
            Metrics::compute(&[], &[], None).unwrap_err(),
            Metrics::compute(&[], &[], Some(&[])).unwrap_err(),
        ];
        for err in errors {
            assert!(matches!(err.kind(), ErrorKind::Empty(_)), "{err:?}");
        }
    }

    #[test]
    fn rejects_non_finite_scores_naming_the_row() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let s = [0.2, bad, 0.4];
            let y = [true, false, true];
            let errors = [
                roc_auc(&s, &y, None).unwrap_err(),
                average_precision(&s, &y, None).unwrap_err(),
                log_loss(&s, &y, None).unwrap_err(),
                brier(&s, &y, None).unwrap_err(),
                lift_at(&s, &y, 0.5).unwrap_err(),
                cumulative_gains(&s, &y, 2).unwrap_err(),
                calibration(&s, &y, 2).unwrap_err(),
                Confusion::at(&s, &y, 0.5).unwrap_err(),
                best_profit_threshold(&s, 1.0, 0.0, 1.0).unwrap_err(),
                Metrics::compute(&s, &y, None).unwrap_err(),
            ];
            for err in errors {
                assert!(
                    matches!(
                        err.kind(),
                        ErrorKind::NonFinite {
                            what: "score",
                            row: 1,
                            ..
                        }
                    ),
                    "{err:?}"
                );
            }
        }
    }

    #[test]
    fn probability_metrics_reject_scores_outside_unit_interval() {
        for bad in [-0.01, 1.5] {
            let s = [0.2, 0.3, bad];
            let y = [true, false, true];
            let errors = [
                log_loss(&s, &y, None).unwrap_err(),
                brier(&s, &y, None).unwrap_err(),
                calibration(&s, &y, 10).unwrap_err(),
                best_profit_threshold(&s, 1.0, 0.0, 1.0).unwrap_err(),
                Metrics::compute(&s, &y, None).unwrap_err(),
            ];
            for err in errors {
                assert!(
                    matches!(
                        err.kind(),
                        ErrorKind::InvalidParameter { name: "scores", .. }
                    ),
                    "{err:?}"
                );
                assert!(err.to_string().contains("at row 2"), "{err}");
            }
        }
    }

    #[test]
    fn single_class_labels_are_a_typed_error_for_auc_and_ap() {
        for labels in [[true, true, true], [false, false, false]] {
            let class = labels[0];
            let err = roc_auc(&[0.1, 0.5, 0.9], &labels, None).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::SingleClass { class });
            let err = Metrics::compute(&[0.1, 0.5, 0.9], &labels, None).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::SingleClass { class });
        }
        let err = average_precision(&[0.1, 0.5], &[false, false], None).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::SingleClass { class: false });
        // Average precision is defined without non-churners.
        assert_eq!(
            average_precision(&[0.1, 0.5], &[true, true], None).unwrap(),
            1.0
        );
    }

    #[test]
    fn rejects_weights_that_zero_out_a_class() {
        let s = [0.1, 0.5, 0.9];
        let y = [true, false, true];
        let err = roc_auc(&s, &y, Some(&[0.0, 1.0, 0.0])).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter {
                name: "weights",
                ..
            }
        ));
        let err = roc_auc(&s, &y, Some(&[1.0, 0.0, 1.0])).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter {
                name: "weights",
                ..
            }
        ));
        let err = average_precision(&s, &y, Some(&[0.0, 1.0, 0.0])).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter {
                name: "weights",
                ..
            }
        ));
        // Average precision needs no negatives.
        assert_eq!(
            average_precision(&s, &y, Some(&[1.0, 0.0, 1.0])).unwrap(),
            1.0
        );
    }

    #[test]
    fn rejects_bad_weights() {
        let s = [0.1, 0.5];
        let y = [true, false];
        let err = brier(&s, &y, Some(&[1.0, f64::NAN])).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::NonFinite {
                what: "weight",
                row: 1,
                ..
            }
        ));
        let err = log_loss(&s, &y, Some(&[-1.0, 1.0])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid parameter `weights`: must be >= 0, got -1 at row 0"
        );
        let err = Metrics::compute(&s, &y, Some(&[0.0, 0.0])).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter {
                name: "weights",
                ..
            }
        ));
    }

    #[test]
    fn lift_and_gains_reject_bad_parameters_and_no_churners() {
        let s = [0.1, 0.5];
        let y = [true, false];
        for fraction in [0.0, -0.1, 1.01, f64::NAN, f64::INFINITY] {
            let err = lift_at(&s, &y, fraction).unwrap_err();
            assert!(matches!(
                err.kind(),
                ErrorKind::InvalidParameter {
                    name: "fraction",
                    ..
                }
            ));
        }
        let err = lift_at(&s, &[false, false], 0.5).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::SingleClass { class: false });
        let err = cumulative_gains(&s, &[false, false], 2).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::SingleClass { class: false });
        let err = cumulative_gains(&s, &y, 0).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter { name: "bins", .. }
        ));
        let err = cumulative_gains(&s, &y, usize::MAX).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter { name: "bins", .. }
        ));
        let err = calibration(&s, &y, 0).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter { name: "bins", .. }
        ));
    }

    #[test]
    fn confusion_rejects_nan_threshold() {
        let err = Confusion::at(&[0.1], &[true], f64::NAN).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::InvalidParameter {
                name: "threshold",
                ..
            }
        ));
    }

    #[test]
    fn profit_threshold_rejects_bad_parameters() {
        let s = [0.1, 0.5];
        let cases = [
            (best_profit_threshold(&s, f64::NAN, 1.0, 0.5), "value"),
            (best_profit_threshold(&s, 1.0, -1.0, 0.5), "cost"),
            (best_profit_threshold(&s, 1.0, f64::INFINITY, 0.5), "cost"),
            (best_profit_threshold(&s, 1.0, 1.0, 1.5), "success_rate"),
            (
                best_profit_threshold(&s, 1.0, 1.0, f64::NAN),
                "success_rate",
            ),
        ];
        for (result, expected) in cases {
            let err = result.unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::InvalidParameter { name, .. } if *name == expected),
                "{err:?}"
            );
        }
        let err = best_profit_threshold(&s, &[1.0, f64::NAN], 1.0, 0.5).unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::NonFinite {
                what: "customer value",
                row: 1,
                ..
            }
        ));
    }
}
