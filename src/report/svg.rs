//! A minimal SVG writer: the few elements the charts draw, with every number
//! written the same way so the same chart is the same bytes.

use std::fmt::Write as _;

/// The typeface stack of every chart: system sans-serif fonts, no download.
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

/// Where a text's anchor point sits on the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// A text's look: size in pixels, bold or not, colour, rotation in degrees
/// about its anchor point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TextStyle {
    pub size: f64,
    pub bold: bool,
    pub fill: &'static str,
    pub anchor: Anchor,
    pub rotate: f64,
}

impl TextStyle {
    pub(crate) fn new(size: f64, anchor: Anchor) -> Self {
        TextStyle {
            size,
            bold: false,
            fill: "#222222",
            anchor,
            rotate: 0.0,
        }
    }

    pub(crate) fn bold(mut self) -> Self {
        self.bold = true;
        self
    }

    pub(crate) fn fill(mut self, fill: &'static str) -> Self {
        self.fill = fill;
        self
    }

    pub(crate) fn rotate(mut self, degrees: f64) -> Self {
        self.rotate = degrees;
        self
    }
}

/// A stroke: colour, width and an optional dash pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stroke<'a> {
    pub color: &'a str,
    pub width: f64,
    pub dash: Option<&'static str>,
}

impl<'a> Stroke<'a> {
    pub(crate) fn new(color: &'a str, width: f64) -> Self {
        Stroke {
            color,
            width,
            dash: None,
        }
    }

    pub(crate) fn dashed(mut self) -> Self {
        self.dash = Some("5 3");
        self
    }

    fn attrs(&self) -> String {
        let mut s = format!(
            r#"stroke="{}" stroke-width="{}" fill="none""#,
            self.color,
            num(self.width)
        );
        if let Some(dash) = self.dash {
            let _ = write!(s, r#" stroke-dasharray="{dash}""#);
        }
        s
    }
}

/// An SVG document being written.
#[derive(Debug)]
pub(crate) struct Svg {
    out: String,
}

impl Svg {
    /// Opens a document of `width` × `height` pixels, with an accessible
    /// title and a white background.
    pub(crate) fn new(width: f64, height: f64, title: &str) -> Self {
        let mut out = String::with_capacity(8 * 1024);
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" font-family="{FONT}">"#,
            w = num(width),
            h = num(height),
        );
        let _ = write!(out, "<title>{}</title>", escape(title));
        let mut svg = Svg { out };
        svg.rect(0.0, 0.0, width, height, "#ffffff", 1.0);
        svg
    }

    /// A filled rectangle.
    pub(crate) fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, opacity: f64) {
        let _ = write!(
            self.out,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}""#,
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0)),
        );
        self.opacity(opacity);
        self.out.push_str("/>");
    }

    /// A straight line.
    pub(crate) fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: Stroke<'_>) {
        let _ = write!(
            self.out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" {}/>"#,
            num(from.0),
            num(from.1),
            num(to.0),
            num(to.1),
            stroke.attrs()
        );
    }

    /// A line through `points`.
    pub(crate) fn polyline(&mut self, points: &[(f64, f64)], stroke: Stroke<'_>) {
        if points.is_empty() {
            return;
        }
        let _ = write!(
            self.out,
            r#"<polyline points="{}" {} stroke-linejoin="round"/>"#,
            point_list(points),
            stroke.attrs()
        );
    }

    /// A filled polygon (an interval band).
    pub(crate) fn polygon(&mut self, points: &[(f64, f64)], fill: &str, opacity: f64) {
        if points.len() < 3 {
            return;
        }
        let _ = write!(
            self.out,
            r#"<polygon points="{}" fill="{fill}" stroke="none""#,
            point_list(points)
        );
        self.opacity(opacity);
        self.out.push_str("/>");
    }

    /// A filled circle.
    pub(crate) fn circle(&mut self, center: (f64, f64), radius: f64, fill: &str) {
        let _ = write!(
            self.out,
            r##"<circle cx="{}" cy="{}" r="{}" fill="{fill}" stroke="#ffffff" stroke-width="1"/>"##,
            num(center.0),
            num(center.1),
            num(radius)
        );
    }

    /// A line of text.
    pub(crate) fn text(&mut self, at: (f64, f64), text: &str, style: TextStyle) {
        let _ = write!(
            self.out,
            r#"<text x="{}" y="{}" font-size="{}" fill="{}" text-anchor="{}""#,
            num(at.0),
            num(at.1),
            num(style.size),
            style.fill,
            style.anchor.as_str()
        );
        if style.bold {
            self.out.push_str(r#" font-weight="bold""#);
        }
        if style.rotate != 0.0 {
            let _ = write!(
                self.out,
                r#" transform="rotate({} {} {})""#,
                num(style.rotate),
                num(at.0),
                num(at.1)
            );
        }
        let _ = write!(self.out, ">{}</text>", escape(text));
    }

    /// Closes the document.
    pub(crate) fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }

    fn opacity(&mut self, opacity: f64) {
        if opacity < 1.0 {
            let _ = write!(self.out, r#" fill-opacity="{}""#, num(opacity));
        }
    }
}

/// A number with at most two decimals and no trailing zeros (coordinates,
/// and the feature values and times the report writes), `-0` written as `0`, and
/// anything not finite as `0` (the charts never pass one; this keeps the
/// document valid if they ever did).
pub(crate) fn num(x: f64) -> String {
    if !x.is_finite() {
        return "0".to_string();
    }
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match s {
        "-0" | "" => "0".to_string(),
        _ => s.to_string(),
    }
}

fn point_list(points: &[(f64, f64)]) -> String {
    let mut s = String::with_capacity(points.len() * 14);
    for (i, &(x, y)) in points.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{},{}", num(x), num(y));
    }
    s
}

/// Escapes text for XML content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            // Control characters other than tab and newline are not allowed
            // in XML 1.0 at all.
            c if c.is_control() && c != '\t' && c != '\n' => s.push('\u{FFFD}'),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_never_negative_zero_or_non_finite() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.5), "1.5");
        assert_eq!(num(1.256), "1.26");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(-2.5), "-2.5");
        assert_eq!(num(100.0), "100");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(f64::INFINITY), "0");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape(r#"a<b & "c"'"#), "a&lt;b &amp; &quot;c&quot;&#39;");
        assert_eq!(escape("a\u{1}b"), "a\u{FFFD}b");
    }

    #[test]
    fn a_document_is_opened_and_closed() {
        let mut svg = Svg::new(100.0, 50.0, "t & t");
        svg.line(
            (0.0, 0.0),
            (10.0, 10.0),
            Stroke::new("#000000", 1.0).dashed(),
        );
        let text = svg.finish();
        assert!(text.starts_with("<svg "));
        assert!(text.contains("<title>t &amp; t</title>"));
        assert!(text.contains(r#"stroke-dasharray="5 3""#));
        assert!(text.ends_with("</svg>\n"));
    }
}
