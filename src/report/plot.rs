//! The three chart layouts every chart is drawn with: an x–y plot (lines,
//! steps, bands, dots), grouped bars over categories, and a heatmap. They
//! take plain data, filter what is not finite, and lay out titles, legends,
//! axes and ticks so that labels do not overlap.

use super::svg::{Anchor, Stroke, Svg, TextStyle};

/// The Okabe–Ito palette (colour-blind safe), yellow left out because it
/// does not show on white.
pub(crate) const PALETTE: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
];
/// Reference lines: the random baseline, the diagonal of perfect calibration.
pub(crate) const REFERENCE: &str = "#777777";
const GRID: &str = "#e6e6e6";
const AXIS: &str = "#444444";
const MUTED: &str = "#555555";

const TITLE_SIZE: f64 = 16.0;
const TEXT_SIZE: f64 = 12.0;
const TICK_SIZE: f64 = 11.0;
/// Average glyph width as a share of the font size, to estimate text widths
/// without font metrics (generous, so estimates err towards no overlap).
const GLYPH: f64 = 0.6;
const MAX_LABEL_CHARS: usize = 18;

/// How an axis writes its tick labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Shares in [0, 1] written as percentages.
    Percent,
    /// Plain numbers, with k and M for thousands and millions.
    Number,
}

impl Format {
    fn tick(self, value: f64, step: f64) -> String {
        match self {
            Format::Percent => {
                let decimals = decimals_for(step * 100.0);
                format!("{:.*}%", decimals, value * 100.0)
            }
            Format::Number => {
                let (scaled, scaled_step, suffix) = if step >= 1e6 {
                    (value / 1e6, step / 1e6, "M")
                } else if step >= 1e3 {
                    (value / 1e3, step / 1e3, "k")
                } else {
                    (value, step, "")
                };
                let text = format!("{:.*}{suffix}", decimals_for(scaled_step), scaled);
                if text.starts_with("-0") && text.trim_start_matches(['-', '0', '.']).is_empty() {
                    text[1..].to_string()
                } else {
                    text
                }
            }
        }
    }
}

/// Decimals needed to tell ticks `step` apart.
fn decimals_for(step: f64) -> usize {
    if step >= 1.0 || step <= 0.0 || !step.is_finite() {
        0
    } else {
        (-step.log10().floor()).clamp(0.0, 6.0) as usize
    }
}

/// One axis: its label, range and tick format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    pub label: String,
    pub min: f64,
    pub max: f64,
    pub format: Format,
}

impl Axis {
    /// An axis over [0, 1] written in percent.
    pub(crate) fn percent(label: impl Into<String>) -> Self {
        Axis {
            label: label.into(),
            min: 0.0,
            max: 1.0,
            format: Format::Percent,
        }
    }

    /// An axis fitted to `values` (non-finite ones ignored), starting at 0
    /// when `from_zero` and all values are positive.
    pub(crate) fn fitted(
        label: impl Into<String>,
        values: impl IntoIterator<Item = f64>,
        format: Format,
        from_zero: bool,
    ) -> Self {
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.into_iter().filter(|v| v.is_finite()) {
            min = min.min(v);
            max = max.max(v);
        }
        if !min.is_finite() {
            (min, max) = (0.0, 1.0);
        }
        if from_zero && min > 0.0 {
            min = 0.0;
        }
        if from_zero && max < 0.0 {
            max = 0.0;
        }
        if max - min <= f64::EPSILON * max.abs().max(1.0) {
            let pad = if min == 0.0 { 1.0 } else { min.abs() * 0.1 };
            (min, max) = (min - pad, max + pad);
            if from_zero && min < 0.0 && max > 0.0 && pad == 1.0 {
                min = 0.0;
            }
        }
        // Round outwards to whole ticks, so the top and bottom are labelled.
        let (_, step) = nice_ticks(min, max);
        Axis {
            label: label.into(),
            min: (min / step).floor() * step,
            max: (max / step).ceil() * step,
            format,
        }
    }
}

/// Ticks at 1, 2 or 5 × 10^k covering [min, max] with 4–7 of them, and their
/// step.
pub(crate) fn nice_ticks(min: f64, max: f64) -> (Vec<f64>, f64) {
    let span = max - min;
    if !span.is_finite() || span <= 0.0 {
        return (vec![min], 1.0);
    }
    let exponent = (span / 5.0).log10().floor() as i32;
    let magnitude = 10f64.powi(exponent);
    let multiple = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .find(|m| span / (m * magnitude) <= 6.0)
        .unwrap_or(10.0);
    // k · multiple · 10^exponent, divided rather than multiplied by a power
    // of ten below 1 so that 3 × 0.2 is written 0.6, not 0.6000000000000001.
    let tick = |k: f64| {
        if exponent < 0 {
            k * multiple / 10f64.powi(-exponent)
        } else {
            k * multiple * magnitude
        }
    };
    let step = tick(1.0);
    let first = (min / step).ceil();
    let last = (max / step).floor();
    let count = ((last - first).max(0.0) as usize).min(20);
    ((0..=count).map(|i| tick(first + i as f64)).collect(), step)
}

/// What a series draws.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mark {
    /// A line through the points; dashed for reference lines.
    Line {
        points: Vec<(f64, f64)>,
        dashed: bool,
    },
    /// A step function: constant until the next point (survival curves).
    Step { points: Vec<(f64, f64)> },
    /// A shaded interval: `(x, lower, upper)`, stepped like [`Mark::Step`]
    /// when `step`.
    Band {
        points: Vec<(f64, f64, f64)>,
        step: bool,
    },
    /// Dots, each with an optional label drawn beside it.
    Dots {
        points: Vec<(f64, f64)>,
        labels: Vec<String>,
    },
}

impl Mark {
    fn is_empty(&self) -> bool {
        match self {
            Mark::Line { points, .. } | Mark::Step { points } | Mark::Dots { points, .. } => {
                points.is_empty()
            }
            Mark::Band { points, .. } => points.is_empty(),
        }
    }

    /// The mark with every non-finite point removed.
    fn finite(&self) -> Mark {
        let ok = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite();
        match self {
            Mark::Line { points, dashed } => Mark::Line {
                points: points.iter().copied().filter(ok).collect(),
                dashed: *dashed,
            },
            Mark::Step { points } => Mark::Step {
                points: points.iter().copied().filter(ok).collect(),
            },
            Mark::Band { points, step } => Mark::Band {
                points: points
                    .iter()
                    .copied()
                    .filter(|&(x, lo, hi)| x.is_finite() && lo.is_finite() && hi.is_finite())
                    .collect(),
                step: *step,
            },
            Mark::Dots { points, labels } => {
                let (points, labels) = points
                    .iter()
                    .zip(labels.iter().map(Some).chain(std::iter::repeat(None)))
                    .filter(|(p, _)| ok(p))
                    .map(|(p, l)| (*p, l.cloned().unwrap_or_default()))
                    .unzip();
                Mark::Dots { points, labels }
            }
        }
    }
}

/// One series: a legend name (empty for none), a colour, what it draws, and
/// whether it is a reference (a baseline drawn even without data).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub name: String,
    pub color: &'static str,
    pub mark: Mark,
    pub reference: bool,
}

impl Series {
    /// A data series.
    pub(crate) fn data(name: impl Into<String>, color: &'static str, mark: Mark) -> Self {
        Series {
            name: name.into(),
            color,
            mark,
            reference: false,
        }
    }

    /// A dashed grey reference line.
    pub(crate) fn reference(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            color: REFERENCE,
            mark: Mark::Line {
                points,
                dashed: true,
            },
            reference: true,
        }
    }
}

/// The frame shared by every layout: title, optional note line and legend,
/// and the plot area left for the data.
struct Frame {
    svg: Svg,
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Frame {
    fn new(
        size: (f64, f64),
        title: &str,
        note: Option<&str>,
        legend: &[(&str, &str)],
        margins: (f64, f64),
    ) -> Frame {
        let (width, height) = size;
        let mut svg = Svg::new(width, height, title);
        let title = fit_text(title, width - 24.0, TITLE_SIZE);
        svg.text(
            (12.0, 22.0),
            &title,
            TextStyle::new(TITLE_SIZE, Anchor::Start).bold(),
        );
        let mut y = 22.0;
        if let Some(note) = note {
            y += 18.0;
            let note = fit_text(note, width - 24.0, TEXT_SIZE);
            svg.text(
                (12.0, y),
                &note,
                TextStyle::new(TEXT_SIZE, Anchor::Start).fill(MUTED),
            );
        }
        if !legend.is_empty() {
            y += 20.0;
            y = draw_legend(&mut svg, legend, 12.0, y, width - 12.0);
        }
        let (left, bottom) = margins;
        Frame {
            svg,
            left,
            top: y + 16.0,
            right: width - 16.0,
            bottom: height - bottom,
        }
    }

    fn width(&self) -> f64 {
        self.right - self.left
    }

    fn height(&self) -> f64 {
        self.bottom - self.top
    }

    /// The "nothing to show" message in the middle of the plot area.
    fn empty(mut self, message: &str) -> String {
        self.svg.rect(
            self.left,
            self.top,
            self.width(),
            self.height(),
            "#f7f7f7",
            1.0,
        );
        self.svg.text(
            (
                self.left + self.width() / 2.0,
                self.top + self.height() / 2.0,
            ),
            message,
            TextStyle::new(TEXT_SIZE + 2.0, Anchor::Middle).fill(MUTED),
        );
        self.svg.finish()
    }
}

/// Legend entries laid out left to right, wrapping; returns the y of the
/// last line.
fn draw_legend(svg: &mut Svg, entries: &[(&str, &str)], x0: f64, y0: f64, x_max: f64) -> f64 {
    let (mut x, mut y) = (x0, y0);
    for &(name, color) in entries {
        let name = truncate(name, 28);
        let w = 22.0 + text_width(&name, TEXT_SIZE) + 16.0;
        if x > x0 && x + w > x_max {
            x = x0;
            y += 18.0;
        }
        // Reference lines are the grey dashed ones, in the legend too.
        let stroke = if color == REFERENCE {
            Stroke::new(color, 2.0).dashed()
        } else {
            Stroke::new(color, 3.0)
        };
        svg.line((x, y - 4.0), (x + 16.0, y - 4.0), stroke);
        svg.text(
            (x + 22.0, y),
            &name,
            TextStyle::new(TEXT_SIZE, Anchor::Start),
        );
        x += w;
    }
    y
}

/// An x–y chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct XyPlot {
    pub title: String,
    pub note: Option<String>,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
    /// The message drawn when no series has a finite point.
    pub empty: &'static str,
}

impl XyPlot {
    pub(crate) fn render(&self, size: (f64, f64)) -> String {
        let series: Vec<Series> = self
            .series
            .iter()
            .map(|s| Series {
                mark: s.mark.finite(),
                ..s.clone()
            })
            .collect();
        let legend: Vec<(&str, &str)> = series
            .iter()
            .filter(|s| !s.name.is_empty())
            .map(|s| (s.name.as_str(), s.color))
            .collect();
        let frame = Frame::new(
            size,
            &self.title,
            self.note.as_deref(),
            &legend,
            (68.0, 50.0),
        );
        if series.iter().all(|s| s.reference || s.mark.is_empty()) {
            return frame.empty(self.empty);
        }
        let mut frame = frame;
        let area = Area::new(&frame, &self.x, &self.y);
        draw_axes(&mut frame, &area, &self.x, &self.y);
        for s in &series {
            draw_mark(&mut frame.svg, &area, &s.mark, s.color);
        }
        frame.svg.finish()
    }
}

/// Maps data coordinates to pixels, clamping into the plot area.
struct Area {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    x: (f64, f64),
    y: (f64, f64),
}

impl Area {
    fn new(frame: &Frame, x: &Axis, y: &Axis) -> Area {
        Area {
            left: frame.left,
            top: frame.top,
            width: frame.width(),
            height: frame.height(),
            x: (x.min, x.max),
            y: (y.min, y.max),
        }
    }

    fn px(&self, x: f64) -> f64 {
        let t = ((x - self.x.0) / (self.x.1 - self.x.0)).clamp(0.0, 1.0);
        self.left + t * self.width
    }

    fn py(&self, y: f64) -> f64 {
        let t = ((y - self.y.0) / (self.y.1 - self.y.0)).clamp(0.0, 1.0);
        self.top + (1.0 - t) * self.height
    }

    fn at(&self, (x, y): (f64, f64)) -> (f64, f64) {
        (self.px(x), self.py(y))
    }
}

fn draw_axes(frame: &mut Frame, area: &Area, x: &Axis, y: &Axis) {
    let svg = &mut frame.svg;
    let (y_ticks, y_step) = nice_ticks(y.min, y.max);
    for &t in &y_ticks {
        let py = area.py(t);
        svg.line(
            (area.left, py),
            (area.left + area.width, py),
            Stroke::new(GRID, 1.0),
        );
        svg.text(
            (area.left - 6.0, py + 4.0),
            &y.format.tick(t, y_step),
            TextStyle::new(TICK_SIZE, Anchor::End),
        );
    }
    let (mut x_ticks, x_step) = nice_ticks(x.min, x.max);
    // Thin the x ticks until their labels fit side by side.
    let widest = x_ticks
        .iter()
        .map(|&t| text_width(&x.format.tick(t, x_step), TICK_SIZE))
        .fold(0.0, f64::max);
    let every = (((widest + 8.0) * x_ticks.len() as f64 / area.width).ceil() as usize).max(1);
    x_ticks = x_ticks.into_iter().step_by(every).collect();
    for &t in &x_ticks {
        let px = area.px(t);
        svg.line(
            (px, area.top + area.height),
            (px, area.top + area.height + 4.0),
            Stroke::new(AXIS, 1.0),
        );
        svg.text(
            (px, area.top + area.height + 17.0),
            &x.format.tick(t, x_step),
            TextStyle::new(TICK_SIZE, Anchor::Middle),
        );
    }
    let bottom = area.top + area.height;
    svg.line(
        (area.left, bottom),
        (area.left + area.width, bottom),
        Stroke::new(AXIS, 1.0),
    );
    svg.line(
        (area.left, area.top),
        (area.left, bottom),
        Stroke::new(AXIS, 1.0),
    );
    svg.text(
        (area.left + area.width / 2.0, bottom + 38.0),
        &fit_text(&x.label, area.width, TEXT_SIZE),
        TextStyle::new(TEXT_SIZE, Anchor::Middle),
    );
    let y_label_at = (16.0, area.top + area.height / 2.0);
    svg.text(
        y_label_at,
        &fit_text(&y.label, area.height, TEXT_SIZE),
        TextStyle::new(TEXT_SIZE, Anchor::Middle).rotate(-90.0),
    );
}

fn draw_mark(svg: &mut Svg, area: &Area, mark: &Mark, color: &str) {
    match mark {
        Mark::Line { points, dashed } => {
            let pixels = thin(points.iter().map(|&p| area.at(p)).collect());
            let stroke = if *dashed {
                Stroke::new(color, 1.5).dashed()
            } else {
                Stroke::new(color, 2.0)
            };
            svg.polyline(&pixels, stroke);
        }
        Mark::Step { points } => {
            svg.polyline(
                &thin(stepped(points, |&p| area.at(p))),
                Stroke::new(color, 2.0),
            );
        }
        Mark::Band { points, step } => {
            let lower: Vec<(f64, f64)> = points.iter().map(|&(x, lo, _)| (x, lo)).collect();
            let upper: Vec<(f64, f64)> = points.iter().map(|&(x, _, hi)| (x, hi)).collect();
            let (mut lo, mut hi) = if *step {
                (
                    stepped(&lower, |&p| area.at(p)),
                    stepped(&upper, |&p| area.at(p)),
                )
            } else {
                (
                    lower.iter().map(|&p| area.at(p)).collect(),
                    upper.iter().map(|&p| area.at(p)).collect::<Vec<_>>(),
                )
            };
            (lo, hi) = (thin(lo), thin(hi));
            hi.reverse();
            lo.extend(hi);
            svg.polygon(&lo, color, 0.18);
        }
        Mark::Dots { points, labels } => {
            for (i, &p) in points.iter().enumerate() {
                let at = area.at(p);
                svg.circle(at, 4.5, color);
                if let Some(label) = labels.get(i).filter(|l| !l.is_empty()) {
                    svg.text(
                        (at.0 + 7.0, at.1 - 6.0),
                        label,
                        TextStyle::new(TICK_SIZE - 1.0, Anchor::Start).fill(MUTED),
                    );
                }
            }
        }
    }
}

/// Pixel points with those that fall in the same one-pixel column reduced to the first, lowest, highest and last of them, in order:
/// a curve of a million steps draws the same as one of a thousand, and the
/// document stays small.
fn thin(pixels: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if pixels.len() < 4 {
        return pixels;
    }
    let mut out = Vec::with_capacity(pixels.len().min(4096));
    let mut run: Vec<(f64, f64)> = Vec::new();
    let column = |x: f64| x.floor();
    let flush = |run: &mut Vec<(f64, f64)>, out: &mut Vec<(f64, f64)>| {
        if run.len() <= 4 {
            out.append(run);
            return;
        }
        let (first, last) = (run[0], run[run.len() - 1]);
        let low = run
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.1.total_cmp(&b.1.1))
            .map_or(0, |m| m.0);
        let high = run
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.1.total_cmp(&b.1.1))
            .map_or(0, |m| m.0);
        let (a, b) = (low.min(high), low.max(high));
        out.push(first);
        for i in [a, b] {
            if i != 0 && i != run.len() - 1 && out.last() != Some(&run[i]) {
                out.push(run[i]);
            }
        }
        out.push(last);
        run.clear();
    };
    for p in pixels {
        if run.last().is_some_and(|q| column(q.0) != column(p.0)) {
            flush(&mut run, &mut out);
        }
        run.push(p);
    }
    flush(&mut run, &mut out);
    out
}

/// The corners of a step function through `points` (right-continuous: the
/// value holds until the next x).
fn stepped<T>(points: &[T], at: impl Fn(&T) -> (f64, f64)) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    for (i, p) in points.iter().enumerate() {
        let (x, y) = at(p);
        if i > 0 {
            let (_, prev_y) = out[out.len() - 1];
            out.push((x, prev_y));
        }
        out.push((x, y));
    }
    out
}

/// Vertical bars over categories, one per series side by side, or stacked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BarPlot {
    pub title: String,
    pub note: Option<String>,
    pub categories: Vec<String>,
    /// `(name, colour, one value per category)`; `None` leaves a gap.
    pub series: Vec<(String, &'static str, Vec<Option<f64>>)>,
    pub y: Axis,
    pub x_label: String,
    pub empty: &'static str,
    pub layout: BarLayout,
}

/// How a [`BarPlot`] places the series of one category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BarLayout {
    /// Side by side.
    Grouped,
    /// One bar: positive values stacked up from zero, negative values down,
    /// in series order (a bridge of gains and losses).
    Stacked,
}

impl BarPlot {
    /// The lowest and highest point any bar reaches, for the value axis.
    pub(crate) fn extent(
        series: &[(String, &'static str, Vec<Option<f64>>)],
        layout: BarLayout,
    ) -> [f64; 2] {
        let categories = series.iter().map(|s| s.2.len()).max().unwrap_or(0);
        let finite = |k: usize| {
            series
                .iter()
                .filter_map(move |s| s.2.get(k).copied().flatten())
                .filter(|v| v.is_finite())
        };
        (0..categories).fold([0.0, 0.0], |[lo, hi], k| match layout {
            BarLayout::Grouped => finite(k).fold([lo, hi], |[a, b], v| [a.min(v), b.max(v)]),
            BarLayout::Stacked => {
                let down: f64 = finite(k).filter(|v| *v < 0.0).sum();
                let up: f64 = finite(k).filter(|v| *v > 0.0).sum();
                [lo.min(down), hi.max(up)]
            }
        })
    }
}

impl BarPlot {
    pub(crate) fn render(&self, size: (f64, f64)) -> String {
        let legend: Vec<(&str, &str)> = if self.series.len() > 1 {
            self.series
                .iter()
                .map(|(n, c, _)| (n.as_str(), *c))
                .collect()
        } else {
            Vec::new()
        };
        let labels: Vec<String> = self
            .categories
            .iter()
            .map(|c| truncate(c, MAX_LABEL_CHARS))
            .collect();
        let plot_width = size.0 - 68.0 - 16.0;
        let slot = plot_width / labels.len().max(1) as f64;
        let widest = labels
            .iter()
            .map(|l| text_width(l, TICK_SIZE))
            .fold(0.0, f64::max);
        // Labels that do not fit their slot are turned 40°, and the bottom
        // margin grows to hold them.
        let rotate = widest + 6.0 > slot;
        let bottom = if rotate { 50.0 + widest * 0.65 } else { 50.0 };
        let frame = Frame::new(
            size,
            &self.title,
            self.note.as_deref(),
            &legend,
            (68.0, bottom),
        );
        let has_value = self
            .series
            .iter()
            .any(|(_, _, v)| v.iter().flatten().any(|x| x.is_finite()));
        if self.categories.is_empty() || !has_value {
            return frame.empty(self.empty);
        }
        let mut frame = frame;
        let x_axis = Axis {
            label: self.x_label.clone(),
            min: 0.0,
            max: 1.0,
            format: Format::Number,
        };
        let area = Area::new(&frame, &x_axis, &self.y);
        draw_value_axis(&mut frame, &area, &self.y);
        let svg = &mut frame.svg;
        let groups = match self.layout {
            BarLayout::Grouped => self.series.len().max(1) as f64,
            BarLayout::Stacked => 1.0,
        };
        let bar = (slot * 0.8 / groups).min(48.0);
        let clamp = |v: f64| v.clamp(self.y.min, self.y.max);
        for (i, label) in labels.iter().enumerate() {
            let center = area.left + slot * (i as f64 + 0.5);
            let group_left = center - bar * groups / 2.0;
            // Running ends of the stack above and below zero.
            let (mut up, mut down) = (0.0, 0.0);
            for (k, (_, color, values)) in self.series.iter().enumerate() {
                let stacked = self.layout == BarLayout::Stacked;
                // A zero adds nothing to a stack (and would be an empty rectangle).
                let drawn = |v: &f64| v.is_finite() && !(stacked && *v == 0.0);
                if let Some(v) = values.get(i).copied().flatten().filter(drawn) {
                    let (x, from, to) = match self.layout {
                        BarLayout::Grouped => (group_left + bar * k as f64, 0.0, v),
                        BarLayout::Stacked if v >= 0.0 => {
                            up += v;
                            (group_left, up - v, up)
                        }
                        BarLayout::Stacked => {
                            down += v;
                            (group_left, down - v, down)
                        }
                    };
                    let (a, b) = (area.py(clamp(from)), area.py(clamp(to)));
                    svg.rect(x, a.min(b), bar, (a - b).abs(), color, 1.0);
                }
            }
            let y = area.top + area.height + 16.0;
            if rotate {
                svg.text(
                    (center, y - 4.0),
                    label,
                    TextStyle::new(TICK_SIZE, Anchor::End).rotate(-40.0),
                );
            } else {
                svg.text(
                    (center, y),
                    label,
                    TextStyle::new(TICK_SIZE, Anchor::Middle),
                );
            }
        }
        let bottom = area.top + area.height;
        svg.line(
            (area.left, bottom),
            (area.left + area.width, bottom),
            Stroke::new(AXIS, 1.0),
        );
        svg.text(
            (area.left + area.width / 2.0, size.1 - 10.0),
            &fit_text(&self.x_label, area.width, TEXT_SIZE),
            TextStyle::new(TEXT_SIZE, Anchor::Middle),
        );
        frame.svg.finish()
    }
}

/// The value axis of a bar chart: grid lines, tick labels and the label.
fn draw_value_axis(frame: &mut Frame, area: &Area, y: &Axis) {
    let (ticks, step) = nice_ticks(y.min, y.max);
    for &t in &ticks {
        let py = area.py(t);
        frame.svg.line(
            (area.left, py),
            (area.left + area.width, py),
            Stroke::new(GRID, 1.0),
        );
        frame.svg.text(
            (area.left - 6.0, py + 4.0),
            &y.format.tick(t, step),
            TextStyle::new(TICK_SIZE, Anchor::End),
        );
    }
    frame.svg.text(
        (16.0, area.top + area.height / 2.0),
        &fit_text(&y.label, area.height, TEXT_SIZE),
        TextStyle::new(TEXT_SIZE, Anchor::Middle).rotate(-90.0),
    );
}

/// Estimates with intervals, one row each (a forest plot): a dot at the
/// estimate, a whisker over the interval, and a reference line at zero.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ForestPlot {
    pub title: String,
    pub note: Option<String>,
    /// `(label, estimate, lower, upper, colour)`, drawn top to bottom.
    pub rows: Vec<(String, f64, f64, f64, &'static str)>,
    pub x: Axis,
    pub legend: Vec<(String, &'static str)>,
    pub empty: &'static str,
}

impl ForestPlot {
    pub(crate) fn render(&self, size: (f64, f64)) -> String {
        let rows: Vec<(String, f64, f64, f64, &str)> = self
            .rows
            .iter()
            .filter(|r| r.1.is_finite())
            .map(|r| (truncate(&r.0, 24), r.1, r.2, r.3, r.4))
            .collect();
        let left = 16.0
            + rows
                .iter()
                .map(|r| text_width(&r.0, TICK_SIZE))
                .fold(0.0, f64::max)
                .max(40.0);
        let legend: Vec<(&str, &str)> = self.legend.iter().map(|(n, c)| (n.as_str(), *c)).collect();
        let frame = Frame::new(
            size,
            &self.title,
            self.note.as_deref(),
            &legend,
            (left, 50.0),
        );
        if rows.is_empty() {
            return frame.empty(self.empty);
        }
        let mut frame = frame;
        let y_axis = Axis {
            label: String::new(),
            min: 0.0,
            max: rows.len() as f64,
            format: Format::Number,
        };
        let area = Area::new(&frame, &self.x, &y_axis);
        let (ticks, step) = nice_ticks(self.x.min, self.x.max);
        let svg = &mut frame.svg;
        let bottom = area.top + area.height;
        for &t in &ticks {
            let px = area.px(t);
            svg.line((px, area.top), (px, bottom), Stroke::new(GRID, 1.0));
            svg.text(
                (px, bottom + 17.0),
                &self.x.format.tick(t, step),
                TextStyle::new(TICK_SIZE, Anchor::Middle),
            );
        }
        if self.x.min < 0.0 && self.x.max > 0.0 {
            let zero = area.px(0.0);
            svg.line(
                (zero, area.top),
                (zero, bottom),
                Stroke::new(REFERENCE, 1.5).dashed(),
            );
        }
        let row_h = area.height / rows.len() as f64;
        let show_every = ((12.0 / row_h).ceil() as usize).max(1);
        for (i, (label, estimate, lower, upper, color)) in rows.iter().enumerate() {
            let y = area.top + row_h * (i as f64 + 0.5);
            if lower.is_finite() && upper.is_finite() {
                svg.line(
                    (area.px(*lower), y),
                    (area.px(*upper), y),
                    Stroke::new(color, 2.0),
                );
            }
            svg.circle(
                (area.px(*estimate), y),
                (row_h * 0.3).clamp(2.0, 5.0),
                color,
            );
            if i % show_every == 0 {
                svg.text(
                    (area.left - 6.0, y + 4.0),
                    label,
                    TextStyle::new(TICK_SIZE, Anchor::End),
                );
            }
        }
        svg.line(
            (area.left, bottom),
            (area.left + area.width, bottom),
            Stroke::new(AXIS, 1.0),
        );
        svg.text(
            (area.left + area.width / 2.0, bottom + 38.0),
            &fit_text(&self.x.label, area.width, TEXT_SIZE),
            TextStyle::new(TEXT_SIZE, Anchor::Middle),
        );
        frame.svg.finish()
    }
}

/// A grid of shares in [0, 1] coloured on a sequential colour-blind-safe
/// scale, with the value written in each cell large enough to hold it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Heatmap {
    pub title: String,
    pub note: Option<String>,
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    /// Row-major; `None` for a cell that does not exist (a cohort triangle).
    pub cells: Vec<Vec<Option<f64>>>,
    pub x_label: String,
    pub y_label: String,
    pub empty: &'static str,
}

/// Viridis at five stops: dark to light, readable in grey and by every
/// common colour-vision deficiency.
const SCALE: [(f64, f64, f64); 5] = [
    (68.0, 1.0, 84.0),
    (59.0, 82.0, 139.0),
    (33.0, 145.0, 140.0),
    (94.0, 201.0, 98.0),
    (253.0, 231.0, 37.0),
];

/// The colour of share `t` in [0, 1] on [`SCALE`].
pub(crate) fn scale_color(t: f64) -> String {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = t * (SCALE.len() - 1) as f64;
    let i = (pos.floor() as usize).min(SCALE.len() - 2);
    let f = pos - i as f64;
    let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
    let (a, b) = (SCALE[i], SCALE[i + 1]);
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

impl Heatmap {
    pub(crate) fn render(&self, size: (f64, f64)) -> String {
        let rows: Vec<String> = self
            .rows
            .iter()
            .map(|r| truncate(r, MAX_LABEL_CHARS))
            .collect();
        let left = 24.0
            + rows
                .iter()
                .map(|r| text_width(r, TICK_SIZE))
                .fold(0.0, f64::max)
                .max(30.0)
            + 8.0;
        let frame = Frame::new(size, &self.title, self.note.as_deref(), &[], (left, 50.0));
        let has_value = self.cells.iter().flatten().flatten().any(|v| v.is_finite());
        if rows.is_empty() || self.columns.is_empty() || !has_value {
            return frame.empty(self.empty);
        }
        let mut frame = frame;
        // Room on the right for the colour bar.
        let right = frame.right - 56.0;
        let (top, bottom) = (frame.top, frame.bottom);
        let cell_w = (right - left) / self.columns.len() as f64;
        let cell_h = (bottom - top) / rows.len() as f64;
        let svg = &mut frame.svg;
        for (i, row) in rows.iter().enumerate() {
            let y = top + cell_h * i as f64;
            for (j, value) in self
                .cells
                .get(i)
                .into_iter()
                .flatten()
                .enumerate()
                .take(self.columns.len())
            {
                let Some(v) = value.filter(|v| v.is_finite()) else {
                    continue;
                };
                let x = left + cell_w * j as f64;
                svg.rect(x, y, cell_w - 1.0, cell_h - 1.0, &scale_color(v), 1.0);
                let text = format!("{:.0}%", v * 100.0);
                if cell_w >= text_width(&text, 10.0) + 4.0 && cell_h >= 13.0 {
                    let fill = if v > 0.6 { "#222222" } else { "#ffffff" };
                    svg.text(
                        (x + cell_w / 2.0, y + cell_h / 2.0 + 3.5),
                        &text,
                        TextStyle::new(10.0, Anchor::Middle).fill(fill),
                    );
                }
            }
            if cell_h >= 10.0 || i % ((10.0 / cell_h).ceil() as usize).max(1) == 0 {
                svg.text(
                    (left - 6.0, y + cell_h / 2.0 + 4.0),
                    row,
                    TextStyle::new(TICK_SIZE, Anchor::End),
                );
            }
        }
        let widest = self
            .columns
            .iter()
            .map(|c| text_width(c, TICK_SIZE))
            .fold(0.0, f64::max);
        let every = (((widest + 6.0) / cell_w).ceil() as usize).max(1);
        for (j, column) in self.columns.iter().enumerate().step_by(every) {
            svg.text(
                (left + cell_w * (j as f64 + 0.5), bottom + 15.0),
                column,
                TextStyle::new(TICK_SIZE, Anchor::Middle),
            );
        }
        svg.text(
            ((left + right) / 2.0, bottom + 36.0),
            &fit_text(&self.x_label, right - left, TEXT_SIZE),
            TextStyle::new(TEXT_SIZE, Anchor::Middle),
        );
        svg.text(
            (14.0, (top + bottom) / 2.0),
            &fit_text(&self.y_label, bottom - top, TEXT_SIZE),
            TextStyle::new(TEXT_SIZE, Anchor::Middle).rotate(-90.0),
        );
        // The colour bar: 0% at the bottom, 100% at the top.
        let bar_x = right + 16.0;
        let steps = 20;
        let h = (bottom - top) / steps as f64;
        for k in 0..steps {
            let t = (k as f64 + 0.5) / steps as f64;
            svg.rect(
                bar_x,
                bottom - h * (k + 1) as f64,
                12.0,
                h + 0.5,
                &scale_color(t),
                1.0,
            );
        }
        for (t, label) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")] {
            svg.text(
                (bar_x + 16.0, bottom - (bottom - top) * t + 4.0),
                label,
                TextStyle::new(TICK_SIZE - 1.0, Anchor::Start),
            );
        }
        frame.svg.finish()
    }
}

/// The estimated width of `text` in pixels at `size`.
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * GLYPH
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// `text` cut to fit `width` pixels at `size`.
fn fit_text(text: &str, width: f64, size: f64) -> String {
    let max = (width / (size * GLYPH)).floor().max(4.0) as usize;
    truncate(text, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let (ticks, step) = nice_ticks(0.0, 1.0);
        assert_eq!(step, 0.2);
        assert_eq!(ticks, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        let (ticks, step) = nice_ticks(3.0, 97.0);
        assert_eq!(step, 20.0);
        assert_eq!(ticks, vec![20.0, 40.0, 60.0, 80.0]);
        let (ticks, _) = nice_ticks(5.0, 5.0);
        assert_eq!(ticks, vec![5.0]);
    }

    #[test]
    fn tick_labels_use_percent_and_thousands() {
        assert_eq!(Format::Percent.tick(0.2, 0.2), "20%");
        assert_eq!(Format::Percent.tick(0.025, 0.005), "2.5%");
        assert_eq!(Format::Number.tick(20_000.0, 5_000.0), "20k");
        assert_eq!(Format::Number.tick(0.5, 0.1), "0.5");
        assert_eq!(Format::Number.tick(-0.0, 1.0), "0");
    }

    #[test]
    fn a_fitted_axis_covers_its_values_and_ignores_non_finite_ones() {
        let axis = Axis::fitted("x", [3.0, f64::NAN, 97.0], Format::Number, true);
        assert_eq!((axis.min, axis.max), (0.0, 100.0)); // rounded out to whole ticks
        let flat = Axis::fitted("x", [5.0, 5.0], Format::Number, false);
        assert!(flat.min < 5.0 && flat.max > 5.0);
        let none = Axis::fitted("x", [f64::INFINITY], Format::Number, false);
        assert_eq!((none.min, none.max), (0.0, 1.0));
    }

    #[test]
    fn the_colour_scale_runs_from_dark_to_light() {
        assert_eq!(scale_color(0.0), "#440154");
        assert_eq!(scale_color(1.0), "#fde725");
        assert_eq!(scale_color(f64::NAN), "#440154");
    }

    #[test]
    fn thinning_keeps_the_extremes_of_each_pixel_column() {
        let many: Vec<(f64, f64)> = (0..1000)
            .map(|i| (10.0 + i as f64 / 10_000.0, (i % 7) as f64))
            .collect();
        let thin = thin(many);
        assert_eq!(thin.len(), 3); // first (also the lowest), highest, last
        assert_eq!(thin[0], (10.0, 0.0));
        assert_eq!(thin[1].1, 6.0);
        assert_eq!(thin[2], (10.0999, 999.0 % 7.0));
        let few = vec![(0.0, 1.0), (5.0, 2.0), (9.0, 3.0), (20.0, 4.0)];
        assert_eq!(super::thin(few.clone()), few);
    }

    #[test]
    fn steps_hold_their_value_until_the_next_point() {
        let corners = stepped(&[(0.0, 1.0), (2.0, 0.5)], |&p| p);
        assert_eq!(corners, vec![(0.0, 1.0), (2.0, 1.0), (2.0, 0.5)]);
    }

    #[test]
    fn long_labels_are_cut_with_an_ellipsis() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }
}
