//! Charts of the crate's results, rendered as standalone SVG documents.

use std::fmt;
use std::path::Path;

use super::plot::{
    Axis, BarLayout, BarPlot, ForestPlot, Format, Heatmap, Mark, PALETTE, Series, XyPlot,
};
use super::svg;
use crate::analysis::drivers::DriverReport;
use crate::analysis::survival::{FittedKaplanMeier, LogRankTest, SurvivalCurve};
use crate::model::metrics::CalibrationBin;
use crate::retention::uplift::CurvePoint;
use crate::segment::{CohortRetention, MrrMovement, PeriodChurn, SegmentReport};
use crate::{Error, ErrorKind, Result};

/// A chart: a standalone SVG document and its title.
///
/// Charts are made from the crate's result types by the constructors below
/// ([`Chart::gains`], [`Chart::calibration`], [`Chart::qini`], …) and are
/// plain text: print them, [`save`](Chart::save) them as `.svg` files, or
/// put them in a [`Report`](super::Report), which inlines them in HTML.
///
/// Every chart is readable as it comes: a title, axis labels with units,
/// a legend when there are several series, the Okabe–Ito colour-blind-safe
/// palette (a viridis scale for heatmaps), percentages written as
/// percentages, and category labels turned or shortened so they do not
/// overlap. The same input gives the same bytes. Points that are not
/// finite are left out, and data with nothing to draw gives a chart that
/// says so ("no data to show") rather than an error or a blank image.
///
/// # Example
///
/// ```
/// use churnwise::model::metrics::cumulative_gains;
/// use churnwise::report::{Chart, ChartOptions};
///
/// let scores = [0.9, 0.8, 0.3, 0.2, 0.1];
/// let churned = [true, false, true, false, false];
/// let gains = cumulative_gains(&scores, &churned, 5)?;
/// let chart = Chart::gains(&gains, &ChartOptions::new())?;
/// assert!(chart.svg().starts_with("<svg"));
/// assert!(chart.svg().contains("Cumulative gains"));
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    title: String,
    svg: String,
}

/// Size and title of a chart.
///
/// The default is 640 × 400 pixels with each chart's own title. Setters are
/// infallible; [`validate`](Self::validate), called by every chart
/// constructor, checks the size.
///
/// # Example
///
/// ```
/// use churnwise::report::ChartOptions;
///
/// let options = ChartOptions::new().width(800.0).height(300.0).title("Churn by segment, Q3");
/// assert!(options.validate().is_ok());
/// assert!(ChartOptions::new().width(10.0).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ChartOptions {
    width: f64,
    height: f64,
    title: Option<String>,
    x_label: Option<String>,
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions {
            width: 640.0,
            height: 400.0,
            title: None,
            x_label: None,
        }
    }
}

/// Allowed chart sizes, in pixels: wide enough for axis labels, small
/// enough that a typo cannot ask for a gigapixel document.
const WIDTH: (f64, f64) = (240.0, 4000.0);
const HEIGHT: (f64, f64) = (160.0, 4000.0);

impl ChartOptions {
    /// The defaults: 640 × 400 pixels, each chart's own title.
    pub fn new() -> Self {
        Self::default()
    }

    /// The width in pixels, 240 to 4000.
    pub fn width(mut self, pixels: f64) -> Self {
        self.width = pixels;
        self
    }

    /// The height in pixels, 160 to 4000.
    pub fn height(mut self, pixels: f64) -> Self {
        self.height = pixels;
        self
    }

    /// A title replacing the chart's own.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// An x-axis label replacing the chart's own (to name the unit of
    /// survival times, for example).
    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = Some(label.into());
        self
    }

    /// The width in pixels.
    pub fn width_value(&self) -> f64 {
        self.width
    }

    /// The height in pixels.
    pub fn height_value(&self) -> f64 {
        self.height
    }

    /// The title set with [`title`](Self::title), if any.
    pub fn title_value(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// The label set with [`x_label`](Self::x_label), if any.
    pub fn x_label_value(&self) -> Option<&str> {
        self.x_label.as_deref()
    }

    /// Checks the size.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for a width outside 240–4000 or a
    /// height outside 160–4000 pixels (or one that is not finite).
    pub fn validate(&self) -> Result<()> {
        for (name, value, (lo, hi)) in [
            ("width", self.width, WIDTH),
            ("height", self.height, HEIGHT),
        ] {
            if !(lo..=hi).contains(&value) {
                return Err(Error::invalid_parameter(
                    name,
                    format!("{value} pixels is outside [{lo}, {hi}]"),
                ));
            }
        }
        Ok(())
    }

    fn size(&self) -> (f64, f64) {
        (self.width, self.height)
    }

    fn title_or(&self, default: &str) -> String {
        self.title.clone().unwrap_or_else(|| default.to_string())
    }

    fn x_label_or(&self, default: &str) -> String {
        self.x_label.clone().unwrap_or_else(|| default.to_string())
    }
}

impl Chart {
    /// The chart's title (also the SVG's accessible `<title>`).
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The SVG document.
    pub fn svg(&self) -> &str {
        &self.svg
    }

    /// Writes the SVG document to `path`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] naming the path if it cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, &self.svg).map_err(|e| Error::io(path.display().to_string(), e))
    }

    fn new(title: String, svg: String) -> Chart {
        Chart { title, svg }
    }

    /// The cumulative gains curve of a churn model with the random baseline:
    /// the share of churners reached (y) when contacting the top-scored
    /// share of customers (x). Takes the points of
    /// [`cumulative_gains`](crate::model::metrics::cumulative_gains).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid options.
    ///
    /// # Example
    ///
    /// See [`Chart`].
    pub fn gains(gains: &[(f64, f64)], options: &ChartOptions) -> Result<Chart> {
        options.validate()?;
        let title = options.title_or("Cumulative gains");
        let mut points = Vec::with_capacity(gains.len() + 1);
        if !gains.is_empty() {
            points.push((0.0, 0.0));
        }
        points.extend_from_slice(gains);
        let plot = XyPlot {
            title: title.clone(),
            note: None,
            x: Axis::percent(options.x_label_or("customers contacted, top-scored first")),
            y: Axis::percent("churners reached"),
            series: vec![
                Series::data(
                    "model",
                    PALETTE[0],
                    Mark::Line {
                        points,
                        dashed: false,
                    },
                ),
                Series::reference("random", vec![(0.0, 0.0), (1.0, 1.0)]),
            ],
            empty: "no scores to rank",
        };
        Ok(Chart::new(title, plot.render(options.size())))
    }

    /// The lift curve: the churn rate among the top-scored share of
    /// customers divided by the overall churn rate, with the random
    /// baseline at 1. Takes the points of
    /// [`cumulative_gains`](crate::model::metrics::cumulative_gains)
    /// (lift = gain ÷ share contacted).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::metrics::cumulative_gains;
    /// use churnwise::report::{Chart, ChartOptions};
    ///
    /// let gains = cumulative_gains(&[0.9, 0.8, 0.3, 0.2], &[true, false, true, false], 4)?;
    /// let chart = Chart::lift(&gains, &ChartOptions::new())?;
    /// assert!(chart.svg().contains("lift"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn lift(gains: &[(f64, f64)], options: &ChartOptions) -> Result<Chart> {
        options.validate()?;
        let title = options.title_or("Lift");
        let points: Vec<(f64, f64)> = gains
            .iter()
            .filter(|(x, _)| *x > 0.0)
            .map(|&(x, y)| (x, y / x))
            .collect();
        let y = Axis::fitted(
            "lift over random (×)",
            points.iter().map(|p| p.1).chain([1.0]),
            Format::Number,
            true,
        );
        let plot = XyPlot {
            title: title.clone(),
            note: None,
            x: Axis::percent(options.x_label_or("customers contacted, top-scored first")),
            y,
            series: vec![
                Series::data(
                    "model",
                    PALETTE[0],
                    Mark::Line {
                        points,
                        dashed: false,
                    },
                ),
                Series::reference("random", vec![(0.0, 1.0), (1.0, 1.0)]),
            ],
            empty: "no scores to rank",
        };
        Ok(Chart::new(title, plot.render(options.size())))
    }

    /// The reliability diagram: for each score bin, the mean predicted
    /// churn probability (x) against the observed churn rate (y), each dot
    /// labelled with its bin's customer count, and the diagonal of perfect
    /// calibration. Takes the bins of
    /// [`calibration`](crate::model::metrics::calibration).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::model::metrics::calibration;
    /// use churnwise::report::{Chart, ChartOptions};
    ///
    /// let bins = calibration(&[0.1, 0.2, 0.9], &[false, true, true], 2)?;
    /// let chart = Chart::calibration(&bins, &ChartOptions::new())?;
    /// assert!(chart.svg().contains("n=2")); // the low bin holds two customers
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn calibration(bins: &[CalibrationBin], options: &ChartOptions) -> Result<Chart> {
        options.validate()?;
        let title = options.title_or("Calibration");
        let points: Vec<(f64, f64)> = bins
            .iter()
            .map(|b| (b.mean_predicted, b.fraction_positive))
            .collect();
        let labels = bins.iter().map(|b| format!("n={}", b.count)).collect();
        let plot = XyPlot {
            title: title.clone(),
            note: None,
            x: Axis::percent(options.x_label_or("mean predicted churn probability")),
            y: Axis::percent("observed churn rate"),
            series: vec![
                Series::reference("perfectly calibrated", vec![(0.0, 0.0), (1.0, 1.0)]),
                Series::data(
                    "model",
                    PALETTE[0],
                    Mark::Line {
                        points: points.clone(),
                        dashed: false,
                    },
                ),
                Series::data("", PALETTE[0], Mark::Dots { points, labels }),
            ],
            empty: "no scored customers",
        };
        Ok(Chart::new(title, plot.render(options.size())))
    }

    /// The Qini curve of an uplift model with the random line: incremental
    /// customers retained (y) when treating the top-ranked customers (x).
    /// Takes the points of [`qini_curve`](crate::retention::uplift::qini_curve)
    /// (or [`uplift_curve`](crate::retention::uplift::uplift_curve) with a
    /// title set in the options).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::report::{Chart, ChartOptions};
    /// use churnwise::retention::uplift::qini_curve;
    ///
    /// let retained = [true, true, false, true, false, false];
    /// let treated = [true, false, true, true, false, false];
    /// let curve = qini_curve(&[0.9, 0.8, 0.7, 0.6, 0.5, 0.4], &retained, &treated)?;
    /// let chart = Chart::qini(&curve, &ChartOptions::new())?;
    /// assert!(chart.svg().contains("random"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn qini(curve: &[CurvePoint], options: &ChartOptions) -> Result<Chart> {
        options.validate()?;
        let title = options.title_or("Qini curve");
        let points: Vec<(f64, f64)> = curve.iter().map(|p| (p.targeted as f64, p.value)).collect();
        let end = points.last().copied().unwrap_or((0.0, 0.0));
        let x = Axis::fitted(
            "customers treated, top-ranked first",
            points.iter().map(|p| p.0),
            Format::Number,
            true,
        );
        let y = Axis::fitted(
            "incremental customers retained",
            points.iter().map(|p| p.1).chain([0.0]),
            Format::Number,
            true,
        );
        let plot = XyPlot {
            title: title.clone(),
            note: None,
            x,
            y,
            series: vec![
                Series::data(
                    "model",
                    PALETTE[0],
                    Mark::Line {
                        points,
                        dashed: false,
                    },
                ),
                Series::reference("random", vec![(0.0, 0.0), end]),
            ],
            empty: "no treated and control customers",
        };
        Ok(Chart::new(title, plot.render(options.size())))
    }

    /// The cohort retention heatmap: one row per signup-month cohort, one
    /// column per month since signup, each cell the share retained,
    /// coloured on a viridis scale and written in the cell when it fits.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid options.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use churnwise::report::{Chart, ChartOptions};
    /// use churnwise::segment::{CohortRetention, CohortRule};
    /// # let history = churnwise::doc_support::history(300, 1)?;
    ///
    /// let jan = Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).unwrap();
    /// let cohorts = CohortRetention::by_signup_month(&history, jan, 6, &CohortRule::Ordered)?;
    /// let chart = Chart::cohort_retention(&cohorts, &ChartOptions::new())?;
    /// assert!(chart.svg().contains("2023-01"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn cohort_retention(cohorts: &CohortRetention, options: &ChartOptions) -> Result<Chart> {
        options.validate()?;
        let title = options.title_or("Retention by signup cohort");
        let rows: Vec<String> = cohorts.cohorts().iter().map(|c| c.label()).collect();
        let cells = cohorts
            .cohorts()
            .iter()
            .map(|c| c.shares().iter().map(|&s| Some(s)).collect())
            .collect();
        let heatmap = Heatmap {
            title: title.clone(),
            note: Some(format!(
                "{} customers in {} cohorts; share of each cohort retained",
                cohorts.cohorts().iter().map(|c| c.size()).sum::<usize>(),
                rows.len()
            )),
            rows,
            columns: (0..cohorts.months()).map(|m| format!("m{m}")).collect(),
            cells,
            x_label: options.x_label_or("months since signup"),
            y_label: "signup month".to_string(),
            empty: "no cohorts in the window",
        };
        Ok(Chart::new(title, heatmap.render(options.size())))
    }

    /// Segment sizes and churn rates side by side: for each segment the
    /// share of customers and, where labels were given, the churn rate.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::report::{Chart, ChartOptions};
    /// use churnwise::segment::{Rfm, SegmentReport};
    /// # let (_history, table) = churnwise::doc_support::table(500, 2, 6)?;
    ///
    /// let segments: Vec<_> = Rfm::new().fit(&table)?.apply(&table)?.iter().map(|s| s.segment()).collect();
    /// let report = SegmentReport::new(&segments, &table, None)?;
    /// let chart = Chart::segments(&report, &ChartOptions::new())?;
    /// assert!(chart.svg().contains("Champions")); // one bar per segment
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn segments(report: &SegmentReport, options: &ChartOptions) -> Result<Chart> {
        options.validate()?;
        let title = options.title_or("Segments: size and churn rate");
        let rows = report.rows();
        let mut series = vec![(
            "share of customers".to_string(),
            PALETTE[0],
            rows.iter().map(|r| Some(r.share())).collect::<Vec<_>>(),
        )];
        if rows.iter().any(|r| r.churn_rate().is_some()) {
            series.push((
                "churn rate".to_string(),
                PALETTE[1],
                rows.iter().map(|r| r.churn_rate()).collect(),
            ));
        }
        let [_, max] = BarPlot::extent(&series, BarLayout::Grouped);
        let plot = BarPlot {
            title: title.clone(),
            note: Some(format!("{} customers", report.customers())),
            categories: rows.iter().map(|r| r.segment().to_string()).collect(),
            series,
            y: Axis::fitted("share / churn rate", [0.0, max], Format::Percent, true),
            x_label: options.x_label_or("segment"),
            empty: "no segments",
            layout: BarLayout::Grouped,
        };
        Ok(Chart::new(title, plot.render(options.size())))
    }

    /// The churn rate over time, one point per period of
    /// [`churn_rates`](crate::segment::churn_rates), labelled with the
    /// customers active at the period's start.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::report::{Chart, ChartOptions};
    /// use churnwise::segment::{ChurnDefinition, Periods, churn_rates};
    /// # let history = churnwise::doc_support::history(300, 1)?;
    /// # let jan = churnwise::doc_support::month(1);
    ///
    /// let rates = churn_rates(&history, &Periods::months(jan, 6)?, &ChurnDefinition::default())?;
    /// let chart = Chart::churn_rates(&rates, &ChartOptions::new())?;
    /// assert!(chart.svg().contains("churn rate"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn churn_rates(periods: &[PeriodChurn], options: &ChartOptions) -> Result<Chart> {
        options.validate()?;
        let title = options.title_or("Churn rate by period");
        let points: Vec<(f64, f64)> = periods
            .iter()
            .enumerate()
            .map(|(i, p)| (i as f64, p.rate()))
            .collect();
        let labels = periods
            .iter()
            .map(|p| p.start().format("%Y-%m-%d").to_string())
            .collect::<Vec<_>>();
        let max = points.iter().map(|p| p.1).fold(0.0, f64::max);
        let plot = BarPlot {
            title: title.clone(),
            note: periods.first().zip(periods.last()).map(|(a, b)| {
                format!(
                    "{} periods from {} to {}",
                    periods.len(),
                    a.start().format("%Y-%m-%d"),
                    b.end().format("%Y-%m-%d")
                )
            }),
            categories: labels,
            series: vec![(
                "churn rate".to_string(),
                PALETTE[1],
                points.iter().map(|p| Some(p.1)).collect(),
            )],
            y: Axis::fitted("churn rate", [0.0, max], Format::Percent, true),
            x_label: options.x_label_or("period start"),
            empty: "no periods",
            layout: BarLayout::Grouped,
        };
        Ok(Chart::new(title, plot.render(options.size())))
    }

    /// MRR movements per period, from
    /// [`mrr_movements`](crate::segment::mrr_movements): one stacked bar per
    /// period, new, reactivation and expansion MRR up from zero, contraction
    /// and churned MRR down, with the MRR at the start and end in the note.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::report::{Chart, ChartOptions};
    /// use churnwise::segment::{Periods, mrr_movements};
    /// # let history = churnwise::doc_support::subscribers()?;
    /// # let jan = churnwise::doc_support::month(1);
    ///
    /// let rows = mrr_movements(&history, &Periods::months(jan, 6)?)?;
    /// let chart = Chart::mrr_movements(&rows, &ChartOptions::new())?;
    /// assert!(chart.svg().contains("churned") && chart.svg().contains("expansion"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn mrr_movements(rows: &[MrrMovement], options: &ChartOptions) -> Result<Chart> {
        options.validate()?;
        let title = options.title_or("MRR movements");
        let column = |f: fn(&MrrMovement) -> f64, sign: f64| -> Vec<Option<f64>> {
            rows.iter().map(|r| Some(sign * f(r))).collect()
        };
        let series = vec![
            (
                "new".to_string(),
                PALETTE[2],
                column(MrrMovement::new_mrr, 1.0),
            ),
            (
                "reactivation".to_string(),
                PALETTE[5],
                column(MrrMovement::reactivation, 1.0),
            ),
            (
                "expansion".to_string(),
                PALETTE[0],
                column(MrrMovement::expansion, 1.0),
            ),
            (
                "contraction".to_string(),
                PALETTE[4],
                column(MrrMovement::contraction, -1.0),
            ),
            (
                "churned".to_string(),
                PALETTE[1],
                column(MrrMovement::churned, -1.0),
            ),
        ];
        let extent = BarPlot::extent(&series, BarLayout::Stacked);
        let plot = BarPlot {
            title: title.clone(),
            note: rows.first().zip(rows.last()).map(|(a, b)| {
                format!(
                    "MRR {} on {} → {} on {}",
                    svg::num(a.opening()),
                    a.period().start().format("%Y-%m-%d"),
                    svg::num(b.closing()),
                    b.period().end().format("%Y-%m-%d")
                )
            }),
            categories: rows
                .iter()
                .map(|r| r.period().start().format("%Y-%m").to_string())
                .collect(),
            series,
            y: Axis::fitted("MRR change per period", extent, Format::Number, true),
            x_label: options.x_label_or("period start"),
            empty: "no periods",
            layout: BarLayout::Stacked,
        };
        Ok(Chart::new(title, plot.render(options.size())))
    }

    /// The distribution of churn scores among customers who churned and
    /// those who stayed: for each of 20 score bins on [0, 1], the share of
    /// each group in it. Scores that are not finite are left out and
    /// counted in the note.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LengthMismatch`] if `scores` and `churned` differ in
    /// length; [`ErrorKind::InvalidParameter`] for invalid options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::report::{Chart, ChartOptions};
    ///
    /// let chart = Chart::score_distribution(&[0.9, 0.2, 0.7, 0.1], &[true, false, true, false], &ChartOptions::new())?;
    /// assert!(chart.svg().contains("churned") && chart.svg().contains("retained"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn score_distribution(
        scores: &[f64],
        churned: &[bool],
        options: &ChartOptions,
    ) -> Result<Chart> {
        options.validate()?;
        if scores.len() != churned.len() {
            return Err(ErrorKind::LengthMismatch {
                what: "churn labels per score",
                expected: scores.len(),
                got: churned.len(),
            }
            .into());
        }
        const BINS: usize = 20;
        let title = options.title_or("Churn scores of churned and retained customers");
        let mut counts = [[0u64; BINS]; 2];
        let mut totals = [0u64; 2];
        let mut skipped = 0usize;
        for (&s, &c) in scores.iter().zip(churned) {
            if !s.is_finite() {
                skipped += 1;
                continue;
            }
            let bin = ((s.clamp(0.0, 1.0) * BINS as f64) as usize).min(BINS - 1);
            counts[usize::from(c)][bin] += 1;
            totals[usize::from(c)] += 1;
        }
        let share = |group: usize| -> Vec<(f64, f64)> {
            if totals[group] == 0 {
                return Vec::new();
            }
            let mut points = Vec::with_capacity(BINS + 1);
            for (b, &n) in counts[group].iter().enumerate() {
                points.push((b as f64 / BINS as f64, n as f64 / totals[group] as f64));
            }
            // The last step runs to a score of 1.
            points.push((1.0, points.last().map_or(0.0, |p| p.1)));
            points
        };
        let (retained, churned_points) = (share(0), share(1));
        let max = retained
            .iter()
            .chain(&churned_points)
            .map(|p| p.1)
            .fold(0.0, f64::max);
        let mut note = format!("{} churned, {} retained", totals[1], totals[0]);
        if skipped > 0 {
            note.push_str(&format!("; {skipped} scores not finite, not shown"));
        }
        let plot = XyPlot {
            title: title.clone(),
            note: Some(note),
            x: Axis::percent(options.x_label_or("churn score")),
            y: Axis::fitted("share of the group", [0.0, max], Format::Percent, true),
            series: vec![
                Series::data(
                    "churned",
                    PALETTE[1],
                    Mark::Step {
                        points: churned_points,
                    },
                ),
                Series::data("retained", PALETTE[0], Mark::Step { points: retained }),
            ],
            empty: "no scores",
        };
        Ok(Chart::new(title, plot.render(options.size())))
    }
}

impl Chart {
    /// Kaplan–Meier survival curves: one step curve per group (or the
    /// overall curve when the data were not grouped) with its confidence
    /// band, the median of each group in the legend, and the log-rank test
    /// written under the title when given. Times are in the data's unit
    /// (days for [`Lifetimes`](crate::analysis::survival::Lifetimes)); name
    /// it with [`ChartOptions::x_label`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::analysis::survival::{KaplanMeier, SurvivalData, logrank};
    /// use churnwise::report::{Chart, ChartOptions};
    ///
    /// let data = SurvivalData::new(vec![5.0, 8.0, 12.0, 3.0, 9.0, 20.0], vec![true, true, false, true, true, false])?
    ///     .with_groups("plan", &["basic", "basic", "basic", "gold", "gold", "gold"])?;
    /// let km = KaplanMeier::new().fit(&data)?;
    /// let test = logrank(&data)?;
    /// let chart = Chart::survival(&km, Some(&test), &ChartOptions::new().x_label("days since signup"))?;
    /// assert!(chart.svg().contains("log-rank"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn survival(
        km: &FittedKaplanMeier,
        logrank: Option<&LogRankTest>,
        options: &ChartOptions,
    ) -> Result<Chart> {
        options.validate()?;
        let title = options.title_or(&match km.group_name() {
            Some(name) => format!("Customers still active, by {name}"),
            None => "Customers still active".to_string(),
        });
        let curves: Vec<&SurvivalCurve> = if km.groups().is_empty() {
            vec![km.overall()]
        } else {
            km.groups().iter().collect()
        };
        let mut series = Vec::with_capacity(2 * curves.len());
        for (k, curve) in curves.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let mut band = vec![(0.0, 1.0, 1.0)];
            let mut points = vec![(0.0, 1.0)];
            for (i, &t) in curve.times().iter().enumerate() {
                band.push((t, curve.lower()[i], curve.upper()[i]));
                points.push((t, curve.survival()[i]));
            }
            let median = curve.median().map_or_else(
                || "median not reached".to_string(),
                |m| format!("median {}", short(m)),
            );
            series.push(Series::data(
                "",
                color,
                Mark::Band {
                    points: band,
                    step: true,
                },
            ));
            series.push(Series::data(
                format!("{} (n={}, {median})", curve.label(), curve.n()),
                color,
                Mark::Step { points },
            ));
        }
        let note = logrank.map(|t| {
            format!(
                "log-rank χ² = {:.2}, df = {}, p {}",
                t.statistic,
                t.df,
                p_value(t.p_value)
            )
        });
        let x = Axis::fitted(
            options.x_label_or("time since signup"),
            curves.iter().flat_map(|c| c.times().iter().copied()),
            Format::Number,
            true,
        );
        let plot = XyPlot {
            title: title.clone(),
            note,
            x,
            y: Axis::percent("still active (survival)"),
            series,
            empty: "no customers",
        };
        Ok(Chart::new(title, plot.render(options.size())))
    }

    /// Churn drivers: the standardized mean difference of each numeric
    /// feature between churned and retained customers (positive: higher
    /// among those who churned) with its 95% interval, the 15 largest in
    /// absolute value, largest first.
    ///
    /// The interval is `d ± 1.96 · se` with
    /// `se = √((n₁ + n₂) / (n₁ n₂) + d² / (2 (n₁ + n₂)))` (Hedges and Olkin),
    /// `n₁` churned and `n₂` retained customers.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidParameter`] for invalid options.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::analysis::drivers::{DriverData, Drivers};
    /// use churnwise::report::{Chart, ChartOptions};
    ///
    /// let data = DriverData::new(vec![true, true, false, false, false])?
    ///     .with_numeric("days_since_order", vec![90.0, 120.0, 10.0, 20.0, 15.0])?;
    /// let report = Drivers::new().analyze(&data)?;
    /// let chart = Chart::drivers(&report, &ChartOptions::new())?;
    /// assert!(chart.svg().contains("days_since_order"));
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn drivers(report: &DriverReport, options: &ChartOptions) -> Result<Chart> {
        const SHOWN: usize = 15;
        options.validate()?;
        let title = options.title_or("What distinguishes customers who churned");
        let (n1, n2) = (report.churned() as f64, report.retained() as f64);
        let z = crate::stats::normal_quantile(0.975);
        let mut drivers: Vec<_> = report
            .numeric()
            .iter()
            .filter(|d| d.smd.is_finite())
            .collect();
        drivers.sort_by(|a, b| {
            b.smd
                .abs()
                .total_cmp(&a.smd.abs())
                .then(a.name.cmp(&b.name))
        });
        let rows: Vec<(String, f64, f64, f64, &'static str)> = drivers
            .iter()
            .take(SHOWN)
            .map(|d| {
                let se = ((n1 + n2) / (n1 * n2) + d.smd * d.smd / (2.0 * (n1 + n2))).sqrt();
                let color = if d.smd > 0.0 { PALETTE[1] } else { PALETTE[0] };
                (d.name.clone(), d.smd, d.smd - z * se, d.smd + z * se, color)
            })
            .collect();
        let x = Axis::fitted(
            options.x_label_or("standardized mean difference, churned − retained"),
            rows.iter().flat_map(|r| [r.2, r.3]).chain([0.0]),
            Format::Number,
            false,
        );
        let plot = ForestPlot {
            title: title.clone(),
            note: Some(format!(
                "{} churned, {} retained; {} of {} numeric features, 95% intervals",
                report.churned(),
                report.retained(),
                rows.len(),
                report.numeric().len()
            )),
            rows,
            x,
            legend: vec![
                ("higher among churned".to_string(), PALETTE[1]),
                ("lower among churned".to_string(), PALETTE[0]),
            ],
            empty: "no numeric features",
        };
        Ok(Chart::new(title, plot.render(options.size())))
    }
}

/// A number without trailing zeros, at most one decimal.
fn short(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

/// A p-value with its relation: `= 0.722`, `= 3.10e-5`, or `< 1e-16`.
fn p_value(p: f64) -> String {
    if p < 1e-16 {
        "< 1e-16".to_string()
    } else if p < 0.001 {
        format!("= {p:.2e}")
    } else {
        format!("= {p:.3}")
    }
}

impl fmt::Display for Chart {
    /// The SVG document.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.svg)
    }
}
