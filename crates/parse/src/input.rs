//! Bytes in: transparent gzip with decompression limits, a peek at the head for
//! detection, damage tracking, and a line reader with a length cap.
//!
//! Reading lines is in [`lines`].
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

mod lines;

pub(crate) use lines::{Line, LineReader, trim_cr, whole_lines};

use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use flate2::read::MultiGzDecoder;

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
