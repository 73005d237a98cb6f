//! Reading CSV input in blocks, parsing unquoted blocks in parallel.

use super::*;

/// Largest size of the blocks read and parsed in parallel.
pub(super) const BLOCK_BYTES: usize = 32 << 20;
/// Size of the first block; each full block doubles the next, up to
/// [`BLOCK_BYTES`], so a small file never allocates (and zeroes) 32 MiB.
const FIRST_BLOCK_BYTES: usize = 1 << 20;

pub(super) fn io_error(source: &str, e: std::io::Error) -> Error {
    Error::io(source, e)
}

/// The header and the rest of the input, read up to the end of the header line.
pub(super) struct Input<R> {
    pub(super) reader: R,
    /// The source's name in issues and errors.
    pub(super) source: Arc<str>,
    pub(super) header: Vec<String>,
    /// Read buffer: `buf[..filled]` holds bytes read past the header, not yet
    /// parsed. It is reused across blocks (never re-zeroed).
    pub(super) buf: Vec<u8>,
    pub(super) filled: usize,
    /// 1-based line number of the first line in `buf`.
    pub(super) line: u64,
    pub(super) delimiter: u8,
    /// Bytes read per block (a parameter so tests can cross block boundaries).
    pub(super) block: usize,
    /// The input's size in bytes, when known, to size the builder's columns once.
    pub(super) size_hint: Option<u64>,
}

impl<R: Read> Input<R> {
    pub(super) fn open(mut reader: R, format: &CsvFormat) -> Result<Self> {
        let source: Arc<str> = Arc::from(format.source_name.as_deref().unwrap_or("<reader>"));
        let mut pending = Vec::new();
        // Read until the header line is complete (a header with quoted newlines is read whole by csv).
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            let n = reader.read(&mut chunk).map_err(|e| io_error(&source, e))?;
            pending.extend_from_slice(&chunk[..n]);
            if n == 0 || memchr::memchr(b'\n', &pending).is_some() {
                break;
            }
        }
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(format.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(&pending[..]);
        let mut rec = ByteRecord::new();
        let found = rdr
            .read_byte_record(&mut rec)
            .map_err(|e| Error::csv(&*source, e))?;
        if !found {
            return Err(io_error(
                &source,
                std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file is empty: a header row is required",
                ),
            ));
        }
        let consumed = rdr.position().byte() as usize;
        let line = rdr.position().line();
        let header = rec
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_owned()
            })
            .collect();
        pending.drain(..consumed.min(pending.len()));
        Ok(Input {
            reader,
            source,
            header,
            filled: pending.len(),
            buf: pending,
            line,
            delimiter: format.delimiter,
            block: FIRST_BLOCK_BYTES,
            size_hint: None,
        })
    }

    pub(super) fn column(&self, c: &Column) -> Result<usize> {
        c.find(&self.header).ok_or_else(|| {
            ErrorKind::MissingColumn {
                source_name: self.source.to_string(),
                column: c.describe(),
                available: self.header.join(","),
            }
            .into()
        })
    }

    pub(super) fn optional(
        &self,
        c: &Option<Column>,
        default: &'static [&'static str],
    ) -> Result<Option<usize>> {
        match c {
            Some(c) => self.column(c).map(Some),
            None => Ok(Column::Guess(default).find(&self.header)),
        }
    }

    /// Parses every remaining row with `parser` and pushes it into `builder`.
    /// Parses every remaining row with `parser` and pushes it into `builder`.
    ///
    /// Blocks are pipelined: while one block's rows are pushed into the
    /// builder (sequential: id interning), the next block is parsed on the
    /// other threads.
    pub(super) fn run<P: RowParser>(
        mut self,
        parser: &P,
        builder: &mut HistoryBuilder,
    ) -> Result<usize> {
        let source = self.source.clone();
        builder.begin_source(P::KIND, source.clone());
        let width = self.header.len();
        let mut rows = 0;
        let mut parsed: Vec<Chunk<P::Rows>> = Vec::new();
        let mut push = |builder: &mut HistoryBuilder, chunks: Vec<Chunk<P::Rows>>| {
            for chunk in chunks {
                rows += chunk.lines.len();
                builder.extend_lines(&chunk.lines);
                parser.push_rows(builder, chunk.rows);
            }
        };
        let mut eof = false;
        while !eof {
            eof = self.fill(&source)?;
            let pending = &self.buf[..self.filled];
            if memchr::memchr(b'"', pending).is_some() {
                // Quoted fields may hold newlines: finish sequentially with the csv parser.
                push(builder, std::mem::take(&mut parsed));
                let reader = std::io::Cursor::new(pending).chain(&mut self.reader);
                let more = sequential(
                    reader,
                    self.delimiter,
                    self.line,
                    width,
                    parser,
                    builder,
                    &source,
                )?;
                return Ok(rows + more);
            }
            let end = match memchr::memrchr(b'\n', pending) {
                _ if eof => pending.len(),
                Some(i) => i + 1,
                None => continue, // a line longer than a block: read more
            };
            let block = &pending[..end];
            let previous = std::mem::take(&mut parsed);
            let ((next, lines), ()) = rayon::join(
                || parse_block(block, self.delimiter, self.line, width, parser),
                || push(builder, previous),
            );
            if let Some(size) = self.size_hint.take() {
                // Extrapolate the rows of the whole input from the first block.
                let first_rows: usize = next.iter().map(|c| c.lines.len()).sum();
                let estimate =
                    (size as f64 / end.max(1) as f64 * first_rows as f64 * 1.01) as usize;
                parser.reserve(builder, estimate);
            }
            parsed = next;
            self.line += lines;
            self.buf.copy_within(end..self.filled, 0);
            self.filled -= end;
        }
        push(builder, parsed);
        Ok(rows)
    }

    /// Reads until the buffer holds a full block or the input ends; returns whether it ended.
    fn fill(&mut self, source: &str) -> Result<bool> {
        // Grow only when a single line is longer than what the buffer holds.
        let target = self.block.max(self.filled + self.block / 32 + 1);
        if self.buf.len() < target {
            self.buf.resize(target, 0);
        }
        while self.filled < target {
            let n = self
                .reader
                .read(&mut self.buf[self.filled..target])
                .map_err(|e| io_error(source, e))?;
            if n == 0 {
                return Ok(true);
            }
            self.filled += n;
        }
        self.block = (2 * self.block).min(BLOCK_BYTES);
        Ok(false)
    }
}

/// Parsed rows of one chunk and the line of each.
pub(super) struct Chunk<R> {
    pub(super) lines: LineRuns,
    pub(super) rows: R,
}

/// Parses a block of whole lines (no quotes) in parallel chunks, in order;
/// also returns the number of lines in the block.
pub(super) fn parse_block<P: RowParser>(
    block: &[u8],
    delimiter: u8,
    first_line: u64,
    width: usize,
    parser: &P,
) -> (Vec<Chunk<P::Rows>>, u64) {
    let threads = rayon::current_num_threads().max(1);
    let target = (block.len() / (threads * 4)).max(1 << 16);
    // Cut at newlines; each piece knows its first line number.
    let mut pieces = Vec::new();
    let (mut start, mut line) = (0usize, first_line);
    while start < block.len() {
        let mut end = (start + target).min(block.len());
        if end < block.len() {
            end = memchr::memchr(b'\n', &block[end..]).map_or(block.len(), |i| end + i + 1);
        }
        pieces.push((start, end, line));
        line += memchr::memchr_iter(b'\n', &block[start..end]).count() as u64;
        start = end;
    }
    let chunks = pieces
        .into_par_iter()
        .map(|(s, e, line)| split_lines(&block[s..e], delimiter, line, width, parser))
        .collect();
    (chunks, line - first_line)
}

/// Parses unquoted CSV lines: fields are the bytes between delimiters, a
/// trailing `\r` is dropped and empty lines are skipped (as the csv crate does).
pub(super) fn split_lines<P: RowParser>(
    piece: &[u8],
    delimiter: u8,
    mut line: u64,
    width: usize,
    parser: &P,
) -> Chunk<P::Rows> {
    let mut chunk = Chunk {
        lines: LineRuns::default(),
        rows: parser.rows_with_capacity(piece.len() / 12 + 16),
    };
    let mut fields: Vec<&[u8]> = Vec::with_capacity(width);
    let mut emit = |fields: &mut Vec<&[u8]>, line: u64| {
        // An empty line (one empty field) is skipped, as the csv crate does.
        if fields.len() > 1 || fields.first().is_some_and(|f| !f.is_empty()) {
            chunk.lines.push(line);
            if fields.len() == width {
                parser.parse_into(fields, &mut chunk.rows);
            } else {
                parser.reject(wrong_width(width, fields.len()), &mut chunk.rows);
            }
        }
        fields.clear();
    };
    // One vectorized scan finds both delimiters and line ends.
    let mut start = 0;
    for i in memchr::memchr2_iter(delimiter, b'\n', piece) {
        if piece[i] == b'\n' {
            let end = if i > start && piece[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            fields.push(&piece[start..end]);
            emit(&mut fields, line);
            line += 1;
        } else {
            fields.push(&piece[start..i]);
        }
        start = i + 1;
    }
    if start < piece.len() || !fields.is_empty() {
        let rest = &piece[start..];
        fields.push(rest.strip_suffix(b"\r").unwrap_or(rest));
        emit(&mut fields, line);
    }
    chunk
}

pub(super) fn wrong_width(width: usize, found: usize) -> RowError {
    RowError {
        field: None,
        problem: Problem::Malformed {
            message: format!("expected {width} fields, found {found}"),
        },
    }
}

pub(super) fn csv_reader<R: Read>(r: R, delimiter: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(r)
}

/// Parses every remaining row with the csv crate (quoted fields may span
/// lines), pushing them in batches; `first_line` is the line of the reader's first byte.
pub(super) fn sequential<R: Read, P: RowParser>(
    reader: R,
    delimiter: u8,
    first_line: u64,
    width: usize,
    parser: &P,
    builder: &mut HistoryBuilder,
    source: &str,
) -> Result<usize> {
    let mut rdr = csv_reader(reader, delimiter);
    let mut rec = ByteRecord::new();
    let mut total = 0;
    let mut chunk = Chunk {
        lines: LineRuns::default(),
        rows: P::Rows::default(),
    };
    loop {
        let line_before = rdr.position().line();
        let done = match rdr.read_byte_record(&mut rec) {
            Ok(false) => true,
            Ok(true) => {
                chunk
                    .lines
                    .push(first_line + rec.position().map_or(line_before, |p| p.line()) - 1);
                let fields: Vec<&[u8]> = rec.iter().collect();
                if fields.len() == width {
                    parser.parse_into(&fields, &mut chunk.rows);
                } else {
                    parser.reject(wrong_width(width, fields.len()), &mut chunk.rows);
                }
                false
            }
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                return Err(Error::csv(source, e));
            }
            Err(e) => {
                chunk
                    .lines
                    .push(first_line + e.position().map_or(line_before, |p| p.line()) - 1);
                let problem = Problem::Malformed {
                    message: e.to_string(),
                };
                parser.reject(
                    RowError {
                        field: None,
                        problem,
                    },
                    &mut chunk.rows,
                );
                false
            }
        };
        if done || chunk.lines.len() >= 1 << 16 {
            total += chunk.lines.len();
            let full = std::mem::replace(
                &mut chunk,
                Chunk {
                    lines: LineRuns::default(),
                    rows: P::Rows::default(),
                },
            );
            builder.extend_lines(&full.lines);
            parser.push_rows(builder, full.rows);
        }
        if done {
            return Ok(total);
        }
    }
}
