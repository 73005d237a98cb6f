//! The report document: sections of text, key figures, tables and charts,
//! written as one self-contained HTML file or as Markdown with SVG files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::chart::Chart;
use super::svg::escape;
use super::table::Table;
use crate::{Error, Result};

/// One piece of a [`Section`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Block {
    /// A paragraph of plain text.
    Text(String),
    /// Key figures: `(label, value)` pairs shown as tiles.
    Figures(Vec<(String, String)>),
    /// A table.
    Table(Table),
    /// A chart, inlined as SVG.
    Chart(Chart),
    /// Text shown verbatim in a fixed-width font (a terminal table).
    Preformatted(String),
}

/// A titled part of a [`Report`]: blocks in order.
///
/// Build one by hand with the `with_*` methods, or take a ready-made one
/// for a result of the crate (see [`Report`]).
///
/// # Example
///
/// ```
/// use churnwise::report::{Section, Table};
///
/// let section = Section::new("Retention plan")
///     .with_text("Budget 5 000, 412 customers planned.")
///     .with_figures([("planned", "412"), ("expected saves", "37.5")])
///     .with_table(Table::new(["intervention", "customers"]).with_row(["discount", "300"]));
/// assert_eq!(section.blocks().len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    title: String,
    blocks: Vec<Block>,
}

impl Section {
    /// An empty section with this title.
    pub fn new(title: impl Into<String>) -> Self {
        Section {
            title: title.into(),
            blocks: Vec::new(),
        }
    }

    /// Adds a paragraph.
    pub fn with_text(self, text: impl Into<String>) -> Self {
        self.with_block(Block::Text(text.into()))
    }

    /// Adds key figures, shown as tiles.
    pub fn with_figures<I, L, V>(self, figures: I) -> Self
    where
        I: IntoIterator<Item = (L, V)>,
        L: Into<String>,
        V: Into<String>,
    {
        let figures = figures
            .into_iter()
            .map(|(l, v)| (l.into(), v.into()))
            .collect();
        self.with_block(Block::Figures(figures))
    }

    /// Adds a table.
    pub fn with_table(self, table: Table) -> Self {
        self.with_block(Block::Table(table))
    }

    /// Adds a chart.
    pub fn with_chart(self, chart: Chart) -> Self {
        self.with_block(Block::Chart(chart))
    }

    /// Adds text shown verbatim in a fixed-width font.
    pub fn with_preformatted(self, text: impl Into<String>) -> Self {
        self.with_block(Block::Preformatted(text.into()))
    }

    /// Adds any block.
    pub fn with_block(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }

    /// The section's title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The section's blocks, in order.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }
}

/// A churn report: a title and sections, written as one self-contained
/// HTML file ([`to_html`](Self::to_html)) or as Markdown with the charts as
/// SVG files beside it ([`write_markdown`](Self::write_markdown)).
///
/// The HTML has its CSS and charts inline and makes no external request, so
/// it opens from a file, an e-mail attachment or a wiki upload. It is also
/// well-formed XML (every element closed), so tools can parse it. It reads on
/// a phone (the layout narrows, charts scale, wide tables scroll) and prints
/// with each section on a new page. The same report gives the same bytes:
/// nothing in it depends on the time it was written.
///
/// Sections for the crate's results come ready-made
/// ([`Section::data_quality`], [`Section::model`], [`Section::alerts`], …)
/// or are built by hand with [`Section::new`].
///
/// # Example
///
/// ```
/// use churnwise::report::{Chart, ChartOptions, Report, Section};
///
/// let gains = Chart::gains(&[(0.5, 0.8), (1.0, 1.0)], &ChartOptions::new())?;
/// let report = Report::new("Churn report, October")
///     .with_subtitle("Synthetic population, 5 000 customers")
///     .with_section(Section::new("Model").with_chart(gains));
/// let html = report.to_html();
/// assert!(html.starts_with("<!DOCTYPE html>"));
/// assert!(html.contains("<svg") && !html.contains("http://example")); // charts inline
/// # Ok::<(), churnwise::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    title: String,
    subtitle: Option<String>,
    sections: Vec<Section>,
}

const CSS: &str = "\
:root{color-scheme:light}\
*{box-sizing:border-box}\
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#222;background:#fff;line-height:1.45}\
header,main,footer{max-width:980px;margin:0 auto;padding:0 16px}\
header{padding-top:24px}\
h1{font-size:1.7rem;margin:0 0 4px}\
h2{font-size:1.3rem;margin:0 0 12px;padding-top:8px;border-top:2px solid #0072B2}\
.subtitle{color:#555;margin:0 0 12px}\
nav ol{margin:8px 0 16px;padding-left:20px;columns:2}\
section{margin:28px 0}\
p{margin:8px 0}\
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:8px;margin:12px 0}\
.figure{border:1px solid #ddd;border-radius:6px;padding:8px 10px}\
.figure .value{font-size:1.25rem;font-weight:600}\
.figure .label{color:#555;font-size:.85rem}\
.table{overflow-x:auto;margin:12px 0}\
table{border-collapse:collapse;font-size:.9rem}\
th,td{padding:4px 10px;border-bottom:1px solid #e6e6e6;text-align:left;white-space:nowrap}\
th{border-bottom:2px solid #999}\
.num{text-align:right;font-variant-numeric:tabular-nums}\
figure{margin:12px 0}\
figure svg{max-width:100%;height:auto}\
pre{overflow-x:auto;background:#f7f7f7;padding:8px;font-size:.8rem}\
footer{color:#777;font-size:.8rem;padding-bottom:24px}\
@media print{nav{display:none}section{break-before:page}section:first-of-type{break-before:auto}figure,table{break-inside:avoid}}\
";

impl Report {
    /// An empty report with this title.
    pub fn new(title: impl Into<String>) -> Self {
        Report {
            title: title.into(),
            subtitle: None,
            sections: Vec::new(),
        }
    }

    /// Sets a line shown under the title (the data, the as-of date).
    pub fn with_subtitle(mut self, subtitle: impl Into<String>) -> Self {
        self.subtitle = Some(subtitle.into());
        self
    }

    /// Adds a section at the end.
    pub fn with_section(mut self, section: Section) -> Self {
        self.sections.push(section);
        self
    }

    /// Adds a section at the end, as [`with_section`](Self::with_section).
    pub fn push_section(&mut self, section: Section) {
        self.sections.push(section);
    }

    /// The report's title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The sections, in order.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// The report as one self-contained HTML document.
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(64 * 1024);
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
             <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n",
            escape(&self.title),
            escape(&self.title)
        );
        if let Some(subtitle) = &self.subtitle {
            let _ = writeln!(out, "<p class=\"subtitle\">{}</p>", escape(subtitle));
        }
        if self.sections.len() > 1 {
            out.push_str("<nav><ol>");
            for (i, s) in self.sections.iter().enumerate() {
                let _ = write!(
                    out,
                    "<li><a href=\"#{}\">{}</a></li>",
                    anchor(i, &s.title),
                    escape(&s.title)
                );
            }
            out.push_str("</ol></nav>\n");
        }
        out.push_str("</header>\n<main>\n");
        for (i, section) in self.sections.iter().enumerate() {
            let _ = writeln!(
                out,
                "<section id=\"{}\">\n<h2>{}</h2>",
                anchor(i, &section.title),
                escape(&section.title)
            );
            for block in &section.blocks {
                block_html(&mut out, block);
                out.push('\n');
            }
            out.push_str("</section>\n");
        }
        let _ = write!(
            out,
            "</main>\n<footer>Made with churnwise {}.</footer>\n</body>\n</html>\n",
            env!("CARGO_PKG_VERSION")
        );
        out
    }

    /// Writes [`to_html`](Self::to_html) to `path`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) naming the path if it cannot
    /// be written.
    pub fn write_html(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_html()).map_err(|e| Error::io(path.display().to_string(), e))
    }

    /// The report as Markdown files: `("report.md", text)` first, then one
    /// `("NN-chart-title.svg", svg)` per chart, which the Markdown links to
    /// by that relative name.
    ///
    /// # Example
    ///
    /// ```
    /// use churnwise::report::{Chart, ChartOptions, Report, Section, Table};
    ///
    /// let report = Report::new("Churn").with_section(
    ///     Section::new("Model")
    ///         .with_table(Table::new(["metric", "value"]).with_row(["ROC-AUC", "0.812"]))
    ///         .with_chart(Chart::gains(&[(1.0, 1.0)], &ChartOptions::new())?),
    /// );
    /// let files = report.to_markdown_files();
    /// assert_eq!(files[0].0, "report.md");
    /// assert!(files[0].1.contains("| ROC-AUC | 0.812 |"));
    /// assert!(files[0].1.contains("![Cumulative gains](01-cumulative-gains.svg)"));
    /// assert_eq!(files[1].0, "01-cumulative-gains.svg");
    /// # Ok::<(), churnwise::Error>(())
    /// ```
    pub fn to_markdown_files(&self) -> Vec<(String, String)> {
        let mut md = format!("# {}\n\n", md_line(&self.title));
        if let Some(subtitle) = &self.subtitle {
            let _ = writeln!(md, "_{}_\n", md_line(subtitle));
        }
        let mut files = Vec::new();
        for section in &self.sections {
            let _ = writeln!(md, "## {}\n", md_line(&section.title));
            for block in &section.blocks {
                match block {
                    Block::Text(text) => {
                        let _ = writeln!(md, "{}\n", md_line(text));
                    }
                    Block::Figures(figures) => {
                        for (label, value) in figures {
                            let _ = writeln!(md, "- {}: **{}**", md_line(label), md_line(value));
                        }
                        md.push('\n');
                    }
                    Block::Table(table) => {
                        let _ = writeln!(md, "{}", table.to_markdown());
                    }
                    Block::Chart(chart) => {
                        let name = format!("{:02}-{}.svg", files.len() + 1, slug(chart.title()));
                        let _ = writeln!(md, "![{}]({name})\n", md_line(chart.title()));
                        files.push((name, chart.svg().to_string()));
                    }
                    Block::Preformatted(text) => {
                        let _ = writeln!(md, "```text\n{}\n```\n", text.trim_end());
                    }
                }
            }
        }
        let mut out = vec![("report.md".to_string(), md)];
        out.extend(files);
        out
    }

    /// Writes [`to_markdown_files`](Self::to_markdown_files) into the
    /// directory `dir` (created if missing) and returns the path of
    /// `report.md`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) naming the file or directory
    /// that could not be written.
    pub fn write_markdown(&self, dir: impl AsRef<Path>) -> Result<PathBuf> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        for (name, text) in self.to_markdown_files() {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| Error::io(path.display().to_string(), e))?;
        }
        Ok(dir.join("report.md"))
    }
}

fn block_html(out: &mut String, block: &Block) {
    match block {
        Block::Text(text) => {
            let _ = write!(out, "<p>{}</p>", escape(text));
        }
        Block::Figures(figures) => {
            out.push_str("<div class=\"figures\">");
            for (label, value) in figures {
                let _ = write!(
                    out,
                    "<div class=\"figure\"><div class=\"value\">{}</div><div class=\"label\">{}</div></div>",
                    escape(value),
                    escape(label)
                );
            }
            out.push_str("</div>");
        }
        Block::Table(table) => out.push_str(&table.to_html()),
        Block::Chart(chart) => {
            let _ = write!(out, "<figure>{}</figure>", chart.svg().trim_end());
        }
        Block::Preformatted(text) => {
            let _ = write!(out, "<pre>{}</pre>", escape(text.trim_end()));
        }
    }
}

/// A section's HTML id: its number and a slug of its title.
fn anchor(index: usize, title: &str) -> String {
    format!("s{}-{}", index + 1, slug(title))
}

/// Lower-case ASCII letters and digits, other runs turned into one `-`.
fn slug(text: &str) -> String {
    let mut s = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    let s = s.trim_end_matches('-');
    if s.is_empty() {
        "chart".to_string()
    } else {
        s.chars()
            .take(40)
            .collect::<String>()
            .trim_end_matches('-')
            .to_string()
    }
}

/// Text on one Markdown line, with the characters that would start markup
/// escaped.
fn md_line(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => s.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' => {
                s.push('\\');
                s.push(c);
            }
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_ascii_words() {
        assert_eq!(slug("Cumulative gains"), "cumulative-gains");
        assert_eq!(slug("  Churn: by segment (Q3) "), "churn-by-segment-q3");
        assert_eq!(slug("日本"), "chart");
    }

    #[test]
    fn markdown_escapes_markup() {
        assert_eq!(md_line("a *b* [c]\nd"), "a \\*b\\* \\[c\\] d");
    }

    #[test]
    fn html_escapes_titles_and_text_and_numbers_sections() {
        let report = Report::new("<R>")
            .with_section(Section::new("A & B").with_text("x < y"))
            .with_section(Section::new("C").with_preformatted("a  b\n"));
        let html = report.to_html();
        assert!(html.contains("<title>&lt;R&gt;</title>"));
        assert!(html.contains("<section id=\"s1-a-b\">"));
        assert!(html.contains("<p>x &lt; y</p>"));
        assert!(html.contains("<a href=\"#s2-c\">C</a>"));
        assert!(html.contains("<pre>a  b</pre>"));
    }
}
