//! Line-oriented formats: one record per line, parsed by a [`LineParser`] and driven
//! by [`LineSource`], which owns the line reader, the staging row and the batch.

use std::borrow::Cow;

use arrow_array::RecordBatch;

use crate::batch::BatchBuilder;
use crate::error::ParseError;
use crate::format::Format;
use crate::input::{Line, LineReader};
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
    pub reader: LineReader,
    pub parser: Box<dyn LineParser>,
    /// Text buffers of the row, handed from line to line.
    pub row_bufs: (String, String),
    pub batch: BatchBuilder,
    pub keep_raw: bool,
    pub strict: bool,
    /// Holds a line whose invalid UTF-8 bytes were escaped.
    escaped: String,
    /// The strict-mode error, returned after the batch holding the rows before it.
    stopped: Option<ParseError>,
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
            parser,
            row_bufs: (String::new(), String::new()),
            batch,
            keep_raw,
            strict,
            escaped: String::new(),
            stopped: None,
        }
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
            parser,
            row_bufs,
            batch,
            keep_raw,
            strict,
            escaped,
            stopped,
        } = self;
        while !batch.is_full() && stopped.is_none() {
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
                        *strict,
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
                        *strict,
                        n,
                        RejectReason::Truncated,
                        detail,
                        raw,
                    );
                    continue;
                }
            };
            let text: &str = match ascii_or_utf8(bytes) {
                Some(s) => s,
                None => {
                    escaped.clear();
                    escape_bytes(bytes, escaped);
                    escaped
                }
            };
            if text.trim_ascii().is_empty() {
                summary.skipped += 1;
                continue;
            }
            let (t, e) = std::mem::take(row_bufs);
            let mut r = Row::with_buffers(t, e);
            let outcome = parser.parse(text, &mut r);
            if let Ok(Outcome::Event) = outcome {
                batch.push(&mut r, line_no, keep_raw.then_some(text));
            }
            *row_bufs = r.into_buffers();
            match outcome {
                Ok(Outcome::Event) => {
                    summary.read += 1;
                    summary.parsed += 1;
                    summary.events += 1;
                }
                Ok(Outcome::Skip) => summary.skipped += 1,
                Err(b) => {
                    let (reason, detail) = (b.reason, b.detail.into_owned());
                    *stopped = reject(
                        summary,
                        on_reject,
                        *strict,
                        line_no,
                        reason,
                        detail,
                        text.to_string(),
                    );
                }
            }
        }
        match batch.finish() {
            None => stopped.take().map_or(Ok(None), Err),
            some => Ok(some),
        }
    }
}

/// The line as text if it is valid UTF-8. Log lines are nearly always ASCII, which is
/// checked several times faster than full UTF-8 validation.
#[inline]
fn ascii_or_utf8(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8.
        return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).ok()
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
