//! Bytes in: transparent gzip with decompression limits, a peek at the head for
//! detection, damage tracking, and a line reader with a length cap.
//!
//! A truncated or corrupt gzip member does not fail the stream: [`Guarded`] turns the
//! decoder's error into end-of-input and records what happened in a [`Damage`] cell,
//! so everything before the damage is parsed and the summary says where it stopped.
//!
//! A gzip input that expands too far is the opposite case: it must fail, never be
//! parsed in part. [`Capped`] sits outside [`Guarded`] (so its error is not taken for
//! damage), counts what the decoder hands out against what [`Counted`] saw it take,
//! and at the limit records the [`DecompressionLimit`] in a [`Refusal`] cell and
//! returns an error. The stream checks that cell after every batch: a parser that
//! took the error for the end of its input (the pcap reader does) still stops.

use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use flate2::read::MultiGzDecoder;
use memchr::{memchr, memrchr};

use crate::error::{DecompressionLimit, ParseError};
use crate::options::{DECOMPRESSED_FLOOR, Limits};

/// Buffer size of the readers: large enough that almost every line is parsed in place.
pub(crate) const BUF_BYTES: usize = 256 * 1024;
/// How much of the head is read for format detection.
const PEEK_BYTES: usize = 64 * 1024;

/// Where the input was found damaged, if it was. Shared by the reader and the stream.
pub(crate) type Damage = Arc<OnceLock<String>>;

/// Converts decoding errors of a compressed stream into end-of-input plus a note.
struct Guarded<R> {
    inner: R,
    damage: Damage,
    what: &'static str,
    pos: u64,
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.damage.get().is_some() {
            return Ok(0);
        }
        match self.inner.read(buf) {
            Ok(n) => {
                self.pos += n as u64;
                Ok(n)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::UnexpectedEof
                        | io::ErrorKind::InvalidData
                        | io::ErrorKind::InvalidInput
                ) =>
            {
                let _ = self.damage.set(format!(
                    "{} ends early after {} decompressed bytes ({e})",
                    self.what, self.pos
                ));
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }
}

/// The decompression limit a compressed input passed, once it has. Shared by the reader
/// and the stream.
pub(crate) type Refusal = Arc<OnceLock<DecompressionLimit>>;

/// Counts the compressed bytes the decoder takes (read-ahead included, so the ratio
/// [`Capped`] sees is never above the true one).
struct Counted<R> {
    inner: R,
    taken: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.taken.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Stops a decompressed stream at the limits of [`Limits::max_decompressed_ratio`] and
/// [`Limits::max_decompressed_bytes`].
struct Capped<R> {
    inner: R,
    compressed: Arc<AtomicU64>,
    out: u64,
    max_ratio: Option<u64>,
    max_bytes: Option<u64>,
    refused: Refusal,
}

impl<R> Capped<R> {
    fn passed(&self) -> Option<DecompressionLimit> {
        if let Some(max_bytes) = self.max_bytes
            && self.out > max_bytes
        {
            return Some(DecompressionLimit::Bytes { max_bytes });
        }
        let max_ratio = self.max_ratio?;
        let compressed = self.compressed.load(Ordering::Relaxed);
        let over = self.out > DECOMPRESSED_FLOOR && self.out > compressed.saturating_mul(max_ratio);
        over.then_some(DecompressionLimit::Ratio {
            max_ratio,
            compressed,
            decompressed: self.out,
        })
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(limit) = self.refused.get() {
            return Err(io::Error::other(limit.clone()));
        }
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        if let Some(limit) = self.passed() {
            let _ = self.refused.set(limit.clone());
            return Err(io::Error::other(limit));
        }
        Ok(n)
    }
}

/// An opened input: the head (for detection) and the whole stream (head included).
pub(crate) struct Opened {
    pub head: Vec<u8>,
    pub reader: Box<dyn BufRead + Send>,
    pub damage: Damage,
    pub refused: Refusal,
    pub gzip: bool,
}

/// `e`, unless the input was refused for its expansion: then that.
pub(crate) fn or_refused(refused: &Refusal, e: ParseError) -> ParseError {
    match refused.get() {
        Some(limit) => ParseError::Decompression(limit.clone()),
        None => e,
    }
}

/// Opens a reader: sniffs gzip (decompressing within `limits`), then reads the head for
/// detection and chains it back.
pub(crate) fn open(
    mut reader: impl Read + Send + 'static,
    limits: &Limits,
) -> Result<Opened, ParseError> {
    let damage: Damage = Arc::new(OnceLock::new());
    let refused: Refusal = Arc::new(OnceLock::new());
    // Read the two magic bytes explicitly: a pipe may deliver them one at a time.
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match reader.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let gzip = got == 2 && magic == [0x1f, 0x8b];
    let raw = Cursor::new(magic[..got].to_vec()).chain(reader);
    // Plain input is buffered once, by the reader returned below; the decoder needs
    // its own buffer for the compressed bytes.
    let mut inner: Box<dyn Read + Send> = if gzip {
        let taken = Arc::new(AtomicU64::new(0));
        let compressed = BufReader::with_capacity(
            BUF_BYTES,
            Counted {
                inner: raw,
                taken: taken.clone(),
            },
        );
        Box::new(Capped {
            inner: Guarded {
                inner: MultiGzDecoder::new(compressed),
                damage: damage.clone(),
                what: "gzip stream",
                pos: 0,
            },
            compressed: taken,
            out: 0,
            max_ratio: limits.max_decompressed_ratio,
            max_bytes: limits.max_decompressed_bytes,
            refused: refused.clone(),
        })
    } else {
        Box::new(raw)
    };
    let mut head = Vec::with_capacity(PEEK_BYTES);
    (&mut inner)
        .take(PEEK_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| or_refused(&refused, e.into()))?;
    let reader = BufReader::with_capacity(BUF_BYTES, Cursor::new(head.clone()).chain(inner));
    Ok(Opened {
        head,
        reader: Box::new(reader),
        damage,
        refused,
        gzip,
    })
}

/// One line from [`LineReader::next_line`].
pub(crate) enum Line<'a> {
    /// A complete line (without `\n` or `\r\n`).
    Text(u64, &'a [u8]),
    /// A line over the cap: its number, full length, and its first KiB.
    TooLong(u64, usize, &'a [u8]),
    /// The last line, cut by damage to the input.
    Truncated(u64, &'a [u8]),
    Eof,
}

/// Reads lines without copying them when they lie within the buffer.
pub(crate) struct LineReader {
    inner: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    pending: usize,
    line_no: u64,
    max: usize,
    done: bool,
    damage: Damage,
}

impl LineReader {
    pub fn new(inner: Box<dyn BufRead + Send>, max: usize, damage: Damage) -> Self {
        // Lines over 256 MiB are refused whatever the option: text offsets of a batch
        // stay within i32 (see batch.rs).
        let max = max.clamp(1, 256 << 20);
        LineReader {
            inner,
            buf: Vec::new(),
            pending: 0,
            line_no: 0,
            max,
            done: false,
            damage,
        }
    }

    /// The complete lines waiting in the read buffer, as one slice ending with `\n`
    /// (empty when the buffer holds no whole line: then [`Self::next_line`] reads on).
    /// The caller walks the lines itself and reports what it took with
    /// [`Self::consume_lines`]: one call per buffer instead of one per line, which is
    /// what the hot loop of the text formats wants. Lines are handed out raw (a `\r`
    /// before the `\n` is still there, and no length cap is applied): the caller
    /// applies [`Self::max_line`] and hands a longer line to `next_line`, which rejects it.
    #[inline]
    pub fn buffered_lines(&mut self) -> io::Result<&[u8]> {
        if self.pending > 0 {
            self.inner.consume(self.pending);
            self.pending = 0;
        }
        if self.done {
            return Ok(&[]);
        }
        let avail = fill(&mut self.inner)?;
        Ok(match memrchr(b'\n', avail) {
            Some(i) => &avail[..=i],
            None => &[],
        })
    }

    /// Takes `bytes` bytes holding `lines` whole lines from the slice that
    /// [`Self::buffered_lines`] returned.
    #[inline]
    pub fn consume_lines(&mut self, bytes: usize, lines: u64) {
        self.pending = bytes;
        self.line_no += lines;
    }

    /// Goes on reading from `inner` after the end of the previous input, numbering its
    /// lines after the ones already read: a live source fed piece by piece.
    pub fn refill(&mut self, inner: Box<dyn BufRead + Send>) {
        self.inner = inner;
        self.pending = 0;
        self.done = false;
    }

    /// Numbers the next line `next` (resuming a followed log after a restart).
    pub fn set_next_line(&mut self, next: u64) {
        self.line_no = next.saturating_sub(1);
    }

    /// Number of the last line handed out (1-based; 0 before the first).
    #[inline]
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The length cap of a line, without its `\n`.
    #[inline]
    pub fn max_line(&self) -> usize {
        self.max
    }

    pub fn next_line(&mut self) -> io::Result<Line<'_>> {
        if self.pending > 0 {
            self.inner.consume(self.pending);
            self.pending = 0;
        }
        if self.done {
            return Ok(Line::Eof);
        }
        // Fast path: the whole line is in the buffer.
        let found = {
            let avail = fill(&mut self.inner)?;
            if avail.is_empty() {
                self.done = true;
                return Ok(Line::Eof);
            }
            memchr(b'\n', avail).filter(|&i| i <= self.max)
        };
        if let Some(i) = found {
            self.pending = i + 1;
            self.line_no += 1;
            let avail = self.inner.fill_buf()?;
            return Ok(Line::Text(self.line_no, trim_cr(&avail[..i])));
        }
        self.slow_line()
    }

    /// A line spanning buffer refills, or over the cap: assembled in `buf`.
    fn slow_line(&mut self) -> io::Result<Line<'_>> {
        const KEEP: usize = 1024;
        self.buf.clear();
        let mut total = 0usize;
        let mut newline = false;
        loop {
            let avail = fill(&mut self.inner)?;
            if avail.is_empty() {
                self.done = true;
                break;
            }
            let (take, used) = match memchr(b'\n', avail) {
                Some(i) => {
                    newline = true;
                    (i, i + 1)
                }
                None => (avail.len(), avail.len()),
            };
            // Over the cap, keep only the first KiB for the reject.
            let room = if total + take <= self.max {
                take
            } else {
                KEEP.saturating_sub(self.buf.len()).min(take)
            };
            if total <= self.max {
                self.buf.extend_from_slice(&avail[..room]);
            }
            total += take;
            self.inner.consume(used);
            if newline {
                break;
            }
        }
        self.line_no += 1;
        if total > self.max {
            self.buf.truncate(KEEP);
            return Ok(Line::TooLong(self.line_no, total, &self.buf));
        }
        if !newline && self.damage.get().is_some() {
            return Ok(Line::Truncated(self.line_no, &self.buf));
        }
        Ok(Line::Text(self.line_no, trim_cr(&self.buf)))
    }
}

fn fill(r: &mut Box<dyn BufRead + Send>) -> io::Result<&[u8]> {
    loop {
        match r.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    r.fill_buf()
}

#[inline]
pub(crate) fn trim_cr(b: &[u8]) -> &[u8] {
    match b.last() {
        Some(b'\r') => &b[..b.len() - 1],
        _ => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(data: Vec<u8>, max: usize) -> Vec<String> {
        let o = open(Cursor::new(data), &Limits::default()).unwrap();
        let mut r = LineReader::new(o.reader, max, o.damage);
        let mut out = Vec::new();
        loop {
            match r.next_line().unwrap() {
                Line::Text(n, b) => out.push(format!("{n}:{}", String::from_utf8_lossy(b))),
                Line::TooLong(n, len, _) => out.push(format!("{n}:too long {len}")),
                Line::Truncated(n, b) => {
                    out.push(format!("{n}:cut {}", String::from_utf8_lossy(b)))
                }
                Line::Eof => break,
            }
        }
        out
    }

    #[test]
    fn splits_lines_and_caps_length() {
        let got = lines(b"a\r\nbb\n\nccccc\ndd".to_vec(), 4);
        assert_eq!(got, ["1:a", "2:bb", "3:", "4:too long 5", "5:dd"]);
    }

    #[test]
    fn long_lines_across_buffers() {
        let long = "x".repeat(BUF_BYTES * 2 + 17);
        let got = lines(format!("{long}\nend\n").into_bytes(), usize::MAX);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len(), long.len() + 2);
        assert_eq!(got[1], "2:end");
    }

    #[test]
    fn gzip_is_transparent_and_truncation_is_damage() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for i in 0..50_000 {
            writeln!(enc, "line number {i}").unwrap();
        }
        let gz = enc.finish().unwrap();
        let all = lines(gz.clone(), 1000);
        assert_eq!(all.len(), 50_000);
        assert_eq!(all[49_999], "50000:line number 49999");

        let cut = gz[..gz.len() / 2].to_vec();
        let o = open(Cursor::new(cut), &Limits::default()).unwrap();
        assert!(o.gzip);
        let damage = o.damage.clone();
        let mut r = LineReader::new(o.reader, 1000, o.damage);
        let (mut n, mut truncated) = (0, 0);
        loop {
            match r.next_line().unwrap() {
                Line::Text(..) => n += 1,
                Line::Truncated(..) => truncated += 1,
                Line::TooLong(..) => unreachable!(),
                Line::Eof => break,
            }
        }
        assert!(n > 10_000 && n < 50_000, "kept the prefix: {n}");
        assert!(truncated <= 1);
        assert!(damage.get().is_some(), "damage recorded");
    }
}
