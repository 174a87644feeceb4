//! Line-oriented formats: one record per line, parsed by a [`LineParser`] and driven
//! by [`LineSource`], which owns the line reader, the staging row and the batch.

use std::borrow::Cow;

use arrow_array::RecordBatch;

use crate::batch::BatchBuilder;
use crate::error::ParseError;
use crate::format::Format;
use crate::input::{Line, LineReader, trim_cr};
use crate::reject::{Reject, RejectReason, Summary, escape_bytes};
use crate::row::Row;

pub(crate) mod access;
pub(crate) mod auth;
pub(crate) mod csv;
pub(crate) mod firewall;
pub(crate) mod json;
pub(crate) mod jsonl;
pub(crate) mod names;
pub(crate) mod packet;
pub(crate) mod parallel;
pub(crate) mod payload;
pub(crate) mod pf;
pub(crate) mod scan;
pub(crate) mod syslog;
pub(crate) mod tcpdump;
pub(crate) mod zeek;

/// What a line turned out to be.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The row holds an event.
    Event,
    /// Not a record: a header or comment (counted as skipped).
    Skip,
}

/// Why a line was rejected.
#[derive(Debug)]
pub(crate) struct Bad {
    pub reason: RejectReason,
    pub detail: Cow<'static, str>,
}

impl Bad {
    pub fn new(reason: RejectReason, detail: impl Into<Cow<'static, str>>) -> Self {
        Bad {
            reason,
            detail: detail.into(),
        }
    }
}

/// Shorthand for a rejection with a fixed explanation.
pub(crate) fn bad<T>(reason: RejectReason, detail: &'static str) -> Result<T, Bad> {
    Err(Bad {
        reason,
        detail: Cow::Borrowed(detail),
    })
}

/// Parses one line of a format into the row (already cleared).
pub(crate) trait LineParser: Send {
    fn parse<'a>(&mut self, line: &'a str, row: &mut Row<'a>) -> Result<Outcome, Bad>;

    /// What the year rule decided, for formats that print no year.
    fn year_note(&self) -> Option<crate::YearNote> {
        None
    }

    /// A copy of this parser in its present state, for a thread that parses a later
    /// chunk of the same input ([`parallel`]).
    fn fork(&self) -> Box<dyn LineParser>;

    /// A digest of everything in the parser's state that decides how a line parses
    /// (the year rule's year and month, the midnights counted, a Zeek header), and
    /// nothing else: two parsers with equal keys parse every line alike, which is
    /// what lets [`parallel`] keep a chunk parsed ahead from an older copy.
    fn state_key(&self) -> u64 {
        0
    }

    /// New Year crossings counted so far (for the year note). Not part of the state
    /// key: a chunk parsed from a copy adds its own crossings to the true count.
    fn crossings(&self) -> u32 {
        0
    }

    fn set_crossings(&mut self, _n: u32) {}
}

/// Hashes the parts of a parser's state for [`LineParser::state_key`].
pub(crate) fn state_key(parts: impl std::hash::Hash) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(parts)
}

/// A format's detector: how many of the given first lines it recognises.
pub(crate) type Sniffer = fn(&[&str]) -> usize;

/// Detectors in tie-breaking order (most specific first).
pub(crate) const SNIFFERS: &[(Format, Sniffer)] = &[
    (Format::Zeek, zeek::sniff),
    (Format::Pf, pf::sniff),
    (Format::Tcpdump, tcpdump::sniff),
    (Format::Access, access::sniff),
    (Format::Syslog, syslog::sniff),
    (Format::Jsonl, jsonl::sniff),
    (Format::Csv, csv::sniff),
];

/// Counts lines for which `f` holds.
pub(crate) fn count(lines: &[&str], mut f: impl FnMut(&str) -> bool) -> usize {
    lines.iter().filter(|l| f(l)).count()
}

/// Drives a [`LineParser`] over a line reader and fills batches.
pub(crate) struct LineSource {
    reader: LineReader,
    work: Work,
    /// The strict-mode error, returned after the batch holding the rows before it.
    stopped: Option<ParseError>,
    /// Set when more than one thread may parse.
    parallel: Option<parallel::Parallel>,
}

/// Everything [`LineSource`] needs per line besides the reader.
pub(crate) struct Work {
    parser: Box<dyn LineParser>,
    /// Text buffers of the row, handed from line to line.
    row_bufs: (String, String),
    batch: BatchBuilder,
    keep_raw: bool,
    strict: bool,
    /// Holds a line whose invalid UTF-8 bytes were escaped.
    escaped: String,
}

impl LineSource {
    pub fn new(
        reader: LineReader,
        parser: Box<dyn LineParser>,
        batch: BatchBuilder,
        keep_raw: bool,
        strict: bool,
    ) -> Self {
        LineSource {
            reader,
            work: Work {
                parser,
                row_bufs: (String::new(), String::new()),
                batch,
                keep_raw,
                strict,
                escaped: String::new(),
            },
            stopped: None,
            parallel: None,
        }
    }

    /// Parses on up to `threads` worker threads (beside the reading one) once the
    /// input is longer than one chunk; the output is that of a serial run.
    pub fn with_threads(mut self, threads: usize, settings: parallel::Settings) -> Self {
        if threads > 1 {
            self.parallel = Some(parallel::Parallel::new(threads, settings));
        }
        self
    }

    /// Parses `inner` next, after what was read before (see [`LineReader::refill`]).
    /// Only for a serial source: the parallel reader holds chunks read ahead.
    pub fn refill(&mut self, inner: Box<dyn std::io::BufRead + Send>) {
        debug_assert!(self.parallel.is_none());
        self.reader.refill(inner);
    }

    pub fn set_next_line(&mut self, next: u64) {
        self.reader.set_next_line(next);
    }

    /// Number of the last line read.
    pub fn line_no(&self) -> u64 {
        self.reader.line_no()
    }

    pub fn next_batch(
        &mut self,
        summary: &mut Summary,
        on_reject: &mut dyn FnMut(&Reject),
    ) -> Result<Option<RecordBatch>, ParseError> {
        if let Some(e) = self.stopped.take() {
            return Err(e);
        }
        let LineSource {
            reader,
            work,
            stopped,
            parallel,
        } = self;
        if let Some(p) = parallel {
            return p.next_batch(reader, work, summary, on_reject, stopped);
        }
        while !work.batch.is_full() && stopped.is_none() {
            // The hot path: every whole line already in the read buffer, one after the
            // other, without a call into the reader per line.
            let max = reader.max_line();
            let first = reader.line_no();
            let chunk = reader.buffered_lines()?;
            let mut used = 0;
            let mut lines = 0u64;
            let mut row = work.row();
            while used < chunk.len() && !work.batch.is_full() && stopped.is_none() {
                let rest = &chunk[used..];
                // The chunk ends with a newline, so every line in it has one.
                let nl = memchr::memchr(b'\n', rest).unwrap_or(rest.len() - 1);
                if nl > max {
                    // Over the cap: `next_line` rejects it the usual way.
                    break;
                }
                lines += 1;
                used += nl + 1;
                *stopped = work.line(
                    &mut row,
                    first + lines,
                    trim_cr(&rest[..nl]),
                    summary,
                    on_reject,
                );
            }
            work.put_back(row);
            reader.consume_lines(used, lines);
            if lines > 0 {
                continue;
            }
            // A line across the end of the buffer, an over-long or cut line, or the end.
            let (line_no, bytes) = match reader.next_line()? {
                Line::Eof => break,
                Line::Text(n, b) => (n, b),
                Line::TooLong(n, len, prefix) => {
                    let mut raw = String::new();
                    escape_bytes(prefix, &mut raw);
                    let detail = format!("line of {len} bytes is over the limit");
                    *stopped = reject(
                        summary,
                        on_reject,
                        work.strict,
                        n,
                        RejectReason::LineTooLong,
                        detail,
                        raw,
                    );
                    continue;
                }
                Line::Truncated(n, b) => {
                    let mut raw = String::new();
                    escape_bytes(b, &mut raw);
                    let detail = "the input ends inside this line".to_string();
                    *stopped = reject(
                        summary,
                        on_reject,
                        work.strict,
                        n,
                        RejectReason::Truncated,
                        detail,
                        raw,
                    );
                    continue;
                }
            };
            let mut row = work.row();
            *stopped = work.line(&mut row, line_no, bytes, summary, on_reject);
            work.put_back(row);
        }
        summary.year = work.parser.year_note();
        match work.batch.finish() {
            None => stopped.take().map_or(Ok(None), Err),
            some => Ok(some),
        }
    }
}

impl Work {
    /// A row for a run of lines that share a lifetime (those of one read buffer or one
    /// chunk), holding the row's text buffers until [`Self::put_back`]. Lines used to
    /// take the buffers out and put them back one by one, and the compiler moved them
    /// in pieces wider than it had written them: a stall on every line (2–5% of a
    /// parse).
    fn row<'a>(&mut self) -> Row<'a> {
        let (t, e) = std::mem::take(&mut self.row_bufs);
        Row::with_buffers(t, e)
    }

    /// Keeps the buffers of a row from [`Self::row`] for the next run of lines.
    fn put_back(&mut self, row: Row<'_>) {
        self.row_bufs = row.into_buffers();
    }

    /// Parses one line (without its line end) into the batch, or counts it as skipped
    /// or rejected, using `row` (cleared first). Returns the strict-mode error if the
    /// line was rejected in strict mode.
    #[inline]
    fn line<'a>(
        &mut self,
        row: &mut Row<'a>,
        line_no: u64,
        bytes: &'a [u8],
        summary: &mut Summary,
        on_reject: &mut dyn FnMut(&Reject),
    ) -> Option<ParseError> {
        match ascii_or_utf8(bytes) {
            Some(text) => self.text_line(row, line_no, text, summary, on_reject),
            None => {
                // Invalid UTF-8 (rare): the escaped copy lives in `self.escaped`, not
                // as long as the run's lines, so it is parsed with a row of its own.
                let mut escaped = std::mem::take(&mut self.escaped);
                escaped.clear();
                escape_bytes(bytes, &mut escaped);
                let mut own = Row::default();
                let stopped = self.text_line(&mut own, line_no, &escaped, summary, on_reject);
                self.escaped = escaped;
                stopped
            }
        }
    }

    #[inline]
    fn text_line<'a>(
        &mut self,
        row: &mut Row<'a>,
        line_no: u64,
        text: &'a str,
        summary: &mut Summary,
        on_reject: &mut dyn FnMut(&Reject),
    ) -> Option<ParseError> {
        if text.trim_ascii().is_empty() {
            summary.skipped += 1;
            return None;
        }
        row.clear();
        let outcome = self.parser.parse(text, row);
        if let Ok(Outcome::Event) = outcome {
            self.batch.push(row, line_no, self.keep_raw.then_some(text));
        }
        match outcome {
            Ok(Outcome::Event) => {
                summary.read += 1;
                summary.parsed += 1;
                summary.events += 1;
                None
            }
            Ok(Outcome::Skip) => {
                summary.skipped += 1;
                None
            }
            Err(b) => {
                let (reason, detail) = (b.reason, b.detail.into_owned());
                reject(
                    summary,
                    on_reject,
                    self.strict,
                    line_no,
                    reason,
                    detail,
                    text.to_string(),
                )
            }
        }
    }
}

/// The line as text if it is valid UTF-8. Log lines are nearly always ASCII, which is
/// checked several times faster than full UTF-8 validation.
#[inline]
fn ascii_or_utf8(bytes: &[u8]) -> Option<&str> {
    if is_ascii(bytes) {
        // SAFETY: ASCII bytes are valid UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).ok()
}

/// `bytes.is_ascii()`, 32 bytes at a time: the standard library's version compiled to a
/// loop over single bytes here (3% of a tcpdump parse), this one to vector ORs.
#[inline]
fn is_ascii(bytes: &[u8]) -> bool {
    let or = |c: &[u8]| c.iter().fold(0u8, |a, &x| a | x);
    let mut chunks = bytes.chunks_exact(32);
    for c in &mut chunks {
        if or(c) >= 0x80 {
            return false;
        }
    }
    or(chunks.remainder()) < 0x80
}

fn reject(
    summary: &mut Summary,
    on_reject: &mut dyn FnMut(&Reject),
    strict: bool,
    line: u64,
    reason: RejectReason,
    detail: String,
    raw: String,
) -> Option<ParseError> {
    summary.reject(reason);
    let r = Reject {
        line,
        reason,
        detail,
        raw,
    };
    on_reject(&r);
    strict.then_some(ParseError::Strict(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_ascii_agrees_with_the_standard_library_at_every_position() {
        for len in [0, 1, 31, 32, 33, 64, 100] {
            let line = vec![b'a'; len];
            assert!(is_ascii(&line));
            for at in 0..len {
                let mut bad = line.clone();
                bad[at] = 0x80 | (at as u8);
                assert_eq!(is_ascii(&bad), bad.is_ascii(), "len {len}, at {at}");
                assert!(!is_ascii(&bad));
            }
        }
    }
}
