//! A table of formatted cells, written as aligned text, HTML or Markdown
//! from the same strings, so every output shows the same numbers.

use std::fmt;

use super::svg::escape;

/// Whether a column holds text (left-aligned) or numbers (right-aligned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Align {
    /// Left-aligned: names, labels, dates.
    Left,
    /// Right-aligned: counts, rates, amounts.
    Right,
}

/// A table of already formatted cells: a header, rows, and the alignment
/// of each column.
///
/// The cells are strings, formatted once, so the aligned text of
/// [`Display`](fmt::Display), the HTML of a [`Report`](super::Report) and
/// its Markdown all show the same numbers. Rows may be shorter than the
/// header (a cohort triangle); missing cells are blank.
///
/// # Example
///
/// ```
/// use churnwise::report::{Align, Table};
///
/// let table = Table::new(["segment", "customers", "churn rate"])
///     .with_align(0, Align::Left)
///     .with_row(["champions", "120", "4.2%"])
///     .with_row(["at risk", "87", "31.0%"]);
/// assert_eq!(
///     table.to_string(),
///     "segment    customers  churn rate\n\
///      champions        120        4.2%\n\
///      at risk           87       31.0%\n"
/// );
/// assert!(table.to_html().contains("<td class=\"num\">31.0%</td>"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    header: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names and no rows. The first column is
    /// left-aligned, the others right-aligned; change it with
    /// [`with_align`](Self::with_align).
    pub fn new<I, S>(header: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let header: Vec<String> = header.into_iter().map(Into::into).collect();
        let align = (0..header.len())
            .map(|j| if j == 0 { Align::Left } else { Align::Right })
            .collect();
        Table {
            header,
            align,
            rows: Vec::new(),
        }
    }

    /// Sets the alignment of column `column` (ignored past the last column).
    pub fn with_align(mut self, column: usize, align: Align) -> Self {
        if let Some(a) = self.align.get_mut(column) {
            *a = align;
        }
        self
    }

    /// Adds a row. Cells past the header's width are dropped; a short row
    /// leaves the rest blank.
    pub fn with_row<I, S>(mut self, row: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.push_row(row);
        self
    }

    /// Adds a row, as [`with_row`](Self::with_row).
    pub fn push_row<I, S>(&mut self, row: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let row = row
            .into_iter()
            .take(self.header.len())
            .map(Into::into)
            .collect();
        self.rows.push(row);
    }

    /// The column names.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The rows of cells.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    /// How many rows the table has.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as an HTML `<table>` (numbers in cells of class `num`).
    pub fn to_html(&self) -> String {
        let mut out = String::from("<div class=\"table\"><table><thead><tr>");
        for (h, a) in self.header.iter().zip(&self.align) {
            out.push_str(&format!("<th{}>{}</th>", class(*a), escape(h)));
        }
        out.push_str("</tr></thead><tbody>");
        for row in &self.rows {
            out.push_str("<tr>");
            for (j, a) in self.align.iter().enumerate() {
                let cell = row.get(j).map_or("", String::as_str);
                out.push_str(&format!("<td{}>{}</td>", class(*a), escape(cell)));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table></div>");
        out
    }

    /// The table in GitHub-flavoured Markdown.
    pub fn to_markdown(&self) -> String {
        let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let mut out = String::from("|");
        for h in &self.header {
            out.push_str(&format!(" {} |", cell(h)));
        }
        out.push_str("\n|");
        for a in &self.align {
            out.push_str(match a {
                Align::Left => " :--- |",
                Align::Right => " ---: |",
            });
        }
        out.push('\n');
        for row in &self.rows {
            out.push('|');
            for j in 0..self.header.len() {
                out.push_str(&format!(
                    " {} |",
                    cell(row.get(j).map_or("", String::as_str))
                ));
            }
            out.push('\n');
        }
        out
    }
}

fn class(align: Align) -> &'static str {
    match align {
        Align::Left => "",
        Align::Right => " class=\"num\"",
    }
}

impl fmt::Display for Table {
    /// Aligned columns, two spaces apart, one line per row.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &[String]| -> fmt::Result {
            for (j, (&w, a)) in widths.iter().zip(&self.align).enumerate() {
                let cell = cells.get(j).map_or("", String::as_str);
                if j > 0 {
                    f.write_str("  ")?;
                }
                match a {
                    // The last left-aligned column is not padded.
                    Align::Left if j + 1 == widths.len() => f.write_str(cell)?,
                    Align::Left => write!(f, "{cell:<w$}")?,
                    Align::Right => write!(f, "{cell:>w$}")?,
                }
            }
            writeln!(f)
        };
        line(f, &self.header)?;
        for row in &self.rows {
            line(f, row)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_rows_are_blank_and_long_rows_are_cut() {
        let t = Table::new(["a", "b"])
            .with_row(["1"])
            .with_row(["1", "2", "3"]);
        assert_eq!(t.rows()[1], vec!["1", "2"]);
        assert_eq!(t.to_string(), "a  b\n1   \n1  2\n");
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn markdown_escapes_pipes_and_aligns_numbers_right() {
        let t = Table::new(["name", "n"]).with_row(["a|b", "3"]);
        assert_eq!(
            t.to_markdown(),
            "| name | n |\n| :--- | ---: |\n| a\\|b | 3 |\n"
        );
    }

    #[test]
    fn html_escapes_cells() {
        let t = Table::new(["x"]).with_row(["<b>"]);
        assert!(t.to_html().contains("<td>&lt;b&gt;</td>"));
    }
}
