//! CSV line numbers of input rows, stored as runs.

use super::*;

/// The data rows of one CSV source and their lines.
#[derive(Debug, Clone)]
pub(super) struct SourceSpan {
    pub(super) kind: RecordKind,
    /// Input index of the first row.
    pub(super) first: usize,
    pub(super) name: Arc<str>,
    pub(super) lines: LineRuns,
}

/// The line numbers of consecutive rows, stored as runs of consecutive lines
/// (one run per blank line or multi-line record, not one entry per row).
#[derive(Debug, Clone, Default)]
pub(crate) struct LineRuns {
    /// Rows recorded.
    len: usize,
    /// `(row, line)` where numbering jumps: row `r` is on line
    /// `line + (r - row)` for the last run with `row <= r`.
    runs: Vec<(usize, u64)>,
}

impl LineRuns {
    /// Rows recorded.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn line_of(&self, row: usize) -> Option<u64> {
        if row >= self.len {
            return None;
        }
        let i = self.runs.partition_point(|&(r, _)| r <= row);
        let &(start, line) = self.runs.get(i.checked_sub(1)?)?;
        Some(line + (row - start) as u64)
    }

    /// Records the line of the next row.
    pub(crate) fn push(&mut self, line: u64) {
        let continues = self
            .runs
            .last()
            .is_some_and(|&(start, first)| first + (self.len - start) as u64 == line);
        if !continues {
            self.runs.push((self.len, line));
        }
        self.len += 1;
    }

    /// Appends the rows of `other` after these.
    pub(super) fn append(&mut self, other: &LineRuns) {
        for &(row, line) in &other.runs {
            let continues = self
                .runs
                .last()
                .is_some_and(|&(start, first)| first + (self.len + row - start) as u64 == line);
            if !continues {
                self.runs.push((self.len + row, line));
            }
        }
        self.len += other.len;
    }
}
