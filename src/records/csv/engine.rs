//! Reading CSV input in blocks, each parsed in parallel pieces cut at record boundaries.

use super::*;

/// Largest size of the blocks read and parsed in parallel.
const BLOCK_BYTES: usize = 32 << 20;
/// Size of the first block; each full block doubles the next, up to
/// [`BLOCK_BYTES`], so a small file never allocates (and zeroes) 32 MiB.
const FIRST_BLOCK_BYTES: usize = 1 << 20;
/// Smallest piece of a block parsed on its own thread.
const PIECE_BYTES: usize = 1 << 16;

pub(super) fn io_error(source: &str, e: std::io::Error) -> Error {
    Error::io(source, e)
}

/// One `read`, retried while it is interrupted (as [`Read`] documents:
/// `ErrorKind::Interrupted` is not an error of the stream).
pub(super) fn read_some<R: Read>(reader: &mut R, buf: &mut [u8], source: &str) -> Result<usize> {
    loop {
        match reader.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(source, e)),
        }
    }
}

/// [`ErrorKind::TooLarge`] for a line longer than [`MAX_LINE_BYTES`].
fn line_too_long(source: &str, line: u64, size: usize) -> Error {
    ErrorKind::TooLarge {
        location: format!("{source} line {line}"),
        what: "line length in bytes",
        size,
        limit: MAX_LINE_BYTES,
    }
    .into()
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
    /// The byte whose occurrences are counted as line ends (see [`Layout::newline`]).
    pub(super) newline: u8,
    pub(super) delimiter: u8,
    /// Bytes read per block, doubling up to `max_block` (parameters so tests
    /// can cross many block boundaries).
    pub(super) block: usize,
    pub(super) max_block: usize,
    /// Smallest piece of a block parsed on its own thread (a parameter so
    /// tests can cut small inputs into many pieces).
    pub(super) piece: usize,
    /// The input's size in bytes, when known, to size the builder's columns once.
    pub(super) size_hint: Option<u64>,
}

impl<R: Read> Input<R> {
    pub(super) fn open(mut reader: R, format: &CsvFormat) -> Result<Self> {
        format.validate()?;
        let source: Arc<str> = Arc::from(format.source_name.as_deref().unwrap_or("<reader>"));
        let mut pending = Vec::new();
        // Read until the header line ends (LF, CRLF or CR), scanning each
        // byte once, and no further than the line limit.
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            let n = read_some(&mut reader, &mut chunk, &source)?;
            let new = &chunk[..n];
            pending.extend_from_slice(new);
            if n == 0 || memchr::memchr2(b'\n', b'\r', new).is_some() {
                break;
            }
            if pending.len() > MAX_LINE_BYTES {
                return Err(line_too_long(&source, 1, pending.len()));
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
        if consumed > MAX_LINE_BYTES {
            return Err(line_too_long(&source, 1, consumed));
        }
        // Lines are counted by the line end the header uses: CR in a
        // classic-Mac file, LF otherwise (a CRLF file counts either way).
        let header_line = &pending[..consumed.min(pending.len())];
        let newline = match header_line.last() {
            Some(b'\r') if pending.get(consumed) != Some(&b'\n') => b'\r',
            _ => b'\n',
        };
        let line = 1 + memchr::memchr_iter(newline, header_line).count() as u64;
        let header: Vec<String> = rec
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_owned()
            })
            .collect();
        // A repeated column name would silently read only its first column.
        let mut seen = crate::util::FastMap::default();
        for name in header.iter().filter(|h| !h.is_empty()) {
            if seen.insert(name.as_str(), ()).is_some() {
                return Err(ErrorKind::DuplicateName {
                    what: "column in the CSV header",
                    name: crate::util::quote_truncated(name).into_owned(),
                }
                .into());
            }
        }
        pending.drain(..consumed.min(pending.len()));
        Ok(Input {
            reader,
            source,
            header,
            filled: pending.len(),
            buf: pending,
            line,
            newline,
            delimiter: format.delimiter,
            block: FIRST_BLOCK_BYTES,
            max_block: BLOCK_BYTES,
            piece: PIECE_BYTES,
            size_hint: None,
        })
    }

    pub(super) fn column(&self, c: &Column) -> Result<usize> {
        c.find(&self.header).ok_or_else(|| {
            ErrorKind::MissingColumn {
                source_name: self.source.to_string(),
                column: c.describe(),
                available: crate::util::quote_truncated(&self.header.join(",")).into_owned(),
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
        let layout = Layout {
            delimiter: self.delimiter,
            newline: self.newline,
            width: self.header.len(),
            piece: self.piece,
        };
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
            let previous = std::mem::take(&mut parsed);
            let (block, ()) = rayon::join(
                || parse_block(pending, eof, self.line, &layout, parser),
                || push(builder, previous),
            );
            if let Some((size, line)) = block.longest.filter(|l| l.0 > MAX_LINE_BYTES) {
                return Err(line_too_long(&source, line, size));
            }
            if block.consumed == 0 {
                if self.filled > MAX_LINE_BYTES {
                    // No whole record in more than a line's worth of bytes.
                    return Err(line_too_long(&source, self.line, self.filled));
                }
                continue; // no whole record yet (a record longer than the buffer): read more
            }
            if let Some(size) = self.size_hint.take() {
                // Extrapolate the rows of the whole input from the first block.
                let first_rows: usize = block.chunks.iter().map(|c| c.lines.len()).sum();
                let estimate =
                    (size as f64 / block.consumed as f64 * first_rows as f64 * 1.01) as usize;
                parser.reserve(builder, estimate);
            }
            parsed = block.chunks;
            self.line += block.lines;
            self.buf.copy_within(block.consumed..self.filled, 0);
            self.filled -= block.consumed;
        }
        push(builder, parsed);
        Ok(rows)
    }

    /// Reads until the buffer holds a full block or the input ends; returns whether it ended.
    fn fill(&mut self, source: &str) -> Result<bool> {
        // Grow only when a single record is longer than what the buffer holds,
        // then geometrically, so a huge record is re-scanned a bounded number of times.
        let target = self
            .block
            .max(self.filled + (self.block / 32).max(self.filled / 2) + 1);
        if self.buf.len() < target {
            self.buf.resize(target, 0);
        }
        while self.filled < target {
            let n = read_some(&mut self.reader, &mut self.buf[self.filled..target], source)?;
            if n == 0 {
                return Ok(true);
            }
            self.filled += n;
        }
        self.block = (2 * self.block).min(self.max_block);
        Ok(false)
    }
}

/// Parsed rows of one chunk and the line of each.
pub(super) struct Chunk<R> {
    pub(super) lines: LineRuns,
    pub(super) rows: R,
}

/// What every piece of a file needs to know to parse its rows.
pub(super) struct Layout {
    pub(super) delimiter: u8,
    /// The byte counted as a line end: `\r` when the header ends with a
    /// lone CR (classic Mac), `\n` otherwise. Records end at any of CR, LF
    /// and CRLF either way; this only numbers lines.
    pub(super) newline: u8,
    /// Fields per row (the header's).
    pub(super) width: usize,
    /// Smallest piece parsed on its own thread.
    pub(super) piece: usize,
}

/// The rows of a block, in order, and how much of the block they cover.
pub(super) struct Block<R> {
    pub(super) chunks: Vec<Chunk<R>>,
    /// Bytes up to the end of the last whole record: the rest (a record cut
    /// by the end of the buffer) is parsed with the next block.
    pub(super) consumed: usize,
    /// Line ends ([`Layout::newline`]) in the consumed bytes.
    pub(super) lines: u64,
    /// The longest record in bytes and its line (the first of the longest).
    pub(super) longest: Option<(usize, u64)>,
}

/// Parses a block that starts at a record boundary, in parallel pieces, in
/// order. `last`: the input ends with the block, so its last record ends there too.
///
/// Pieces are cut at line ends outside quoted fields, as counted by quote
/// parity from the block start (a quoted field holds an even number of quotes).
/// Each piece is parsed as if it started a record; when a piece does not end
/// at a record boundary (parity misled by a quote in the middle of an unquoted
/// field, which the grammar keeps as a literal), the rest of the block is
/// parsed again in one piece from the last record boundary. The result is thus
/// that of one sequential parse, whatever the pieces and the thread count.
pub(super) fn parse_block<P: RowParser>(
    block: &[u8],
    last: bool,
    first_line: u64,
    layout: &Layout,
    parser: &P,
) -> Block<P::Rows> {
    let pieces = cut_pieces(block, layout.piece, layout.newline);
    let count = pieces.len();
    let parsed: Vec<(Chunk<P::Rows>, Parsed)> = pieces
        .par_iter()
        .enumerate()
        .map(|(k, &(start, end, line))| {
            let piece = &block[start..end];
            parse_chunk(
                piece,
                last && k + 1 == count,
                first_line + line,
                layout,
                parser,
            )
        })
        .collect();
    let mut chunks = Vec::with_capacity(count);
    let (mut consumed, mut lines) = (0, 0);
    let mut longest: Option<(usize, u64)> = None;
    let mut longer = |l: Option<(usize, u64)>| {
        if l.map(|l| l.0) > longest.map(|l| l.0) {
            longest = l;
        }
    };
    for ((chunk, done), &(start, _, line)) in parsed.into_iter().zip(&pieces) {
        if start != consumed {
            // The previous piece ended inside a record: this piece's start was a guess.
            let (chunk, done) =
                parse_chunk(&block[consumed..], last, first_line + lines, layout, parser);
            chunks.push(chunk);
            consumed += done.consumed;
            lines += done.lines;
            longer(done.longest);
            break;
        }
        chunks.push(chunk);
        consumed = start + done.consumed;
        lines = line + done.lines;
        longer(done.longest);
    }
    Block {
        chunks,
        consumed,
        lines,
        longest,
    }
}

/// Cuts a block into pieces for the threads: `(start, end, line ends before start)`,
/// cutting after `newline` bytes outside quotes.
pub(super) fn cut_pieces(block: &[u8], smallest: usize, newline: u8) -> Vec<(usize, usize, u64)> {
    let threads = rayon::current_num_threads().max(1);
    let target = (block.len() / (threads * 4)).max(smallest).max(1);
    let regions = block.len().div_ceil(target);
    if regions <= 1 {
        return vec![(0, block.len(), 0)];
    }
    let region = |k: usize| k * target..((k + 1) * target).min(block.len());
    // Quotes and line ends per region, counted in parallel.
    let counts: Vec<(usize, u64)> = (0..regions)
        .into_par_iter()
        .map(|k| {
            let r = &block[region(k)];
            (
                memchr::memchr_iter(QUOTE, r).count(),
                memchr::memchr_iter(newline, r).count() as u64,
            )
        })
        .collect();
    let mut pieces = Vec::with_capacity(regions);
    let (mut start, mut start_line) = (0, 0);
    let (mut quotes, mut lines) = (0, 0);
    for (k, &(q, l)) in counts.iter().enumerate() {
        if k > 0 {
            // The first line end outside quotes in region k, if any.
            let r = region(k);
            let (mut inside, mut line, mut at) = (quotes % 2 == 1, lines, r.start);
            while let Some(i) = memchr::memchr2(QUOTE, newline, &block[at..r.end]) {
                let hit = at + i;
                at = hit + 1;
                if block[hit] == QUOTE {
                    inside = !inside;
                } else {
                    line += 1;
                    if !inside {
                        if at < block.len() {
                            pieces.push((start, at, start_line));
                            (start, start_line) = (at, line);
                        }
                        break;
                    }
                }
            }
        }
        quotes += q;
        lines += l;
    }
    pieces.push((start, block.len(), start_line));
    pieces
}

/// Parses the records of one piece into a chunk of rows.
fn parse_chunk<P: RowParser>(
    piece: &[u8],
    last: bool,
    first_line: u64,
    layout: &Layout,
    parser: &P,
) -> (Chunk<P::Rows>, Parsed) {
    let width = layout.width;
    let mut chunk = Chunk {
        lines: LineRuns::default(),
        rows: parser.rows_with_capacity(piece.len() / 12 + 16),
    };
    let (delimiter, newline) = (layout.delimiter, layout.newline);
    let done = parse_records(
        piece,
        last,
        delimiter,
        newline,
        first_line,
        |fields, line| {
            chunk.lines.push(line);
            if fields.len() == width {
                parser.parse_into(fields, &mut chunk.rows);
            } else {
                parser.reject(wrong_width(width, fields.len()), &mut chunk.rows);
            }
        },
    );
    (chunk, done)
}

/// The quote character: fields starting with it are quoted.
const QUOTE: u8 = b'"';

/// How far [`parse_records`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Parsed {
    /// Bytes up to the end of the last whole record (and the blank lines after it).
    pub(super) consumed: usize,
    /// Line ends (`\n`) in the consumed bytes.
    pub(super) lines: u64,
    /// The longest whole record in bytes (its line ends included) and its line.
    pub(super) longest: Option<(usize, u64)>,
}

/// A field's value: bytes of the input, or of the unescaped copy.
enum Value {
    Input(usize, usize),
    Copy(usize, usize),
}

/// Splits `data`, which starts at a record boundary, into records and calls
/// `record(fields, line)` for each, with the line its first byte is on
/// (lines counted by `newline` bytes, see [`Layout::newline`]).
///
/// The grammar is the csv crate's (RFC 4180 with its leniencies), so results
/// match it byte for byte: records end at `\n`, `\r` or `\r\n`, and empty
/// lines are skipped; a field starting with `"` is quoted: delimiters, line
/// ends and `""` (one quote) may appear inside, and bytes after the closing
/// quote are kept as they are; a quote elsewhere is an ordinary byte. A record
/// cut by the end of `data` is left for the next call unless `last`, when the
/// input ends there (an unterminated quoted field runs to the end).
pub(super) fn parse_records(
    data: &[u8],
    last: bool,
    delimiter: u8,
    newline: u8,
    first_line: u64,
    mut record: impl FnMut(&[&[u8]], u64),
) -> Parsed {
    let n = data.len();
    let mut fields: Vec<&[u8]> = Vec::new();
    // Unescaped copies of quoted fields: `(field, start, end)` in `copy`.
    let mut copies: Vec<(usize, usize, usize)> = Vec::new();
    let mut copy: Vec<u8> = Vec::new();
    let (mut pos, mut line) = (0, first_line);
    let mut longest: Option<(usize, u64)> = None;
    let mut done;
    'records: loop {
        // Line ends between records (blank lines, the LF of a CRLF) are skipped.
        while let Some(&b) = data.get(pos) {
            match b {
                b'\n' | b'\r' => line += u64::from(b == newline),
                _ => break,
            }
            pos += 1;
        }
        done = Parsed {
            consumed: pos,
            lines: line - first_line,
            longest,
        };
        if pos == n {
            break;
        }
        let (record_line, record_start) = (line, pos);
        fields.clear();
        copies.clear();
        copy.clear();
        loop {
            // At the start of a field.
            let Some(&first) = data.get(pos) else {
                // After a delimiter at the end of the input: an empty last field.
                if !last {
                    break 'records;
                }
                fields.push(&[]);
                break;
            };
            let (value, stop) = if first == QUOTE {
                match quoted_field(data, pos, last, delimiter, newline, &mut line, &mut copy) {
                    Some(field) => field,
                    None => break 'records,
                }
            } else {
                match memchr::memchr3(delimiter, b'\n', b'\r', &data[pos..]) {
                    Some(i) => (Value::Input(pos, pos + i), pos + i),
                    None if last => (Value::Input(pos, n), n),
                    None => break 'records,
                }
            };
            match value {
                Value::Input(s, e) => fields.push(&data[s..e]),
                Value::Copy(s, e) => {
                    copies.push((fields.len(), s, e));
                    fields.push(&[]);
                }
            }
            // `stop` is the delimiter or line end after the field, or the end of the input.
            pos = (stop + 1).min(n);
            match data.get(stop) {
                Some(&b) if b == delimiter => {}
                Some(&b) if b == newline => {
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        if longest.is_none_or(|l| pos - record_start > l.0) {
            longest = Some((pos - record_start, record_line));
        }
        if copies.is_empty() {
            record(&fields, record_line);
        } else {
            let mut full = fields.clone();
            for &(i, s, e) in &copies {
                full[i] = &copy[s..e];
            }
            record(&full, record_line);
        }
    }
    done
}

/// Parses the quoted field whose opening quote is at `open`: returns its
/// value and the position of the delimiter or line end after it (or the end
/// of the input), or `None` when `data` ends before the field does.
/// Line ends inside are counted into `line`.
fn quoted_field(
    data: &[u8],
    open: usize,
    last: bool,
    delimiter: u8,
    newline: u8,
    line: &mut u64,
    copy: &mut Vec<u8>,
) -> Option<(Value, usize)> {
    let n = data.len();
    let start = copy.len();
    // `data[from..]` is not yet copied; `copied` once a `""` forced a copy.
    let (mut from, mut at, mut copied) = (open + 1, open + 1, false);
    let close = loop {
        match memchr::memchr2(QUOTE, newline, &data[at..]) {
            None if last => {
                // Unterminated: the field runs to the end of the input.
                return Some(if copied {
                    copy.extend_from_slice(&data[from..]);
                    (Value::Copy(start, copy.len()), n)
                } else {
                    (Value::Input(from, n), n)
                });
            }
            None => return None,
            Some(i) => {
                let hit = at + i;
                at = hit + 1;
                if data[hit] == newline {
                    *line += 1;
                    continue;
                }
                match data.get(at) {
                    Some(&QUOTE) => {
                        // `""`: one quote.
                        copy.extend_from_slice(&data[from..at]);
                        copied = true;
                        at += 1;
                        from = at;
                    }
                    None if !last => return None, // a `""` may be cut in two
                    _ => break hit,
                }
            }
        }
    };
    let after = close + 1;
    match data.get(after) {
        Some(&b) if b != delimiter && b != b'\n' && b != b'\r' => {
            // Bytes after the closing quote belong to the field, quotes included.
            let stop = match memchr::memchr3(delimiter, b'\n', b'\r', &data[after..]) {
                Some(i) => after + i,
                None if last => n,
                None => return None,
            };
            copy.extend_from_slice(&data[from..close]);
            copy.extend_from_slice(&data[after..stop]);
            Some((Value::Copy(start, copy.len()), stop))
        }
        _ if copied => {
            copy.extend_from_slice(&data[from..close]);
            Some((Value::Copy(start, copy.len()), after))
        }
        _ => Some((Value::Input(from, close), after)),
    }
}

pub(super) fn wrong_width(width: usize, found: usize) -> RowError {
    RowError {
        field: None,
        problem: Problem::Malformed {
            message: format!("expected {width} fields, found {found}"),
        },
    }
}
