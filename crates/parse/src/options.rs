//! How a stream is parsed: format, year, limits, pcap mode, CSV column mapping.

use std::time::Duration;

use crate::format::Format;

/// What a pcap becomes.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum PcapMode {
    /// One event per packet.
    #[default]
    Packets,
    /// Bidirectional flows keyed by the 5-tuple (like Argus/NetFlow): a flow ends when
    /// it has been idle for `idle_timeout` (capture time), or at the end of the input.
    Flows { idle_timeout: Duration },
}

/// Caps that keep hostile input from exhausting memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Longest line accepted, in bytes; a longer line is rejected (`line_too_long`)
    /// without being held in memory. Default 1 MiB; at most 256 MiB.
    pub max_line_bytes: usize,
    /// Deepest JSON nesting accepted in a JSON line. Default 64.
    pub max_json_depth: usize,
    /// Largest pcap record accepted, in bytes. Default 262,144 (tcpdump's snaplen).
    pub max_snaplen: usize,
    /// Most flows held open at once in flow mode; beyond it the longest-idle flow is
    /// emitted early. Default 1,000,000 (about 150 MB worst case).
    pub max_open_flows: usize,
    /// A compressed (gzip) input may expand to at most this many times the compressed
    /// bytes read so far; the first [`DECOMPRESSED_FLOOR`] bytes are always allowed.
    /// Beyond it the stream stops with [`crate::ParseError::Decompression`]. Default 100:
    /// text logs compress 10-20x with gzip (very repetitive ones up to ~50x), captures
    /// 2-5x, while a compression bomb reaches ~1000x (deflate's maximum). `None`: no
    /// ratio limit.
    pub max_decompressed_ratio: Option<u64>,
    /// Most bytes a compressed input may expand to in all. Default `None` (the ratio
    /// alone); the portal sets one.
    pub max_decompressed_bytes: Option<u64>,
}

/// Bytes a compressed input may always expand to, whatever the ratio: small inputs
/// cannot harm, and a tiny, very repetitive file (a test log of one line repeated)
/// should not be refused for its ratio alone.
pub const DECOMPRESSED_FLOOR: u64 = 16 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: 1 << 20,
            max_json_depth: 64,
            max_snaplen: 262_144,
            max_open_flows: 1_000_000,
            max_decompressed_ratio: Some(100),
            max_decompressed_bytes: None,
        }
    }
}

/// Options of [`crate::EventStream::open`].
#[derive(Clone, Debug)]
pub struct ParseOptions {
    /// The format, or `None` to detect it from the first lines.
    pub format: Option<Format>,
    /// Year of timestamps that print none (pf, BSD syslog). `None`: the year rule of
    /// `docs/schema.md` from `reference_time`.
    pub year: Option<i32>,
    /// Microseconds since the epoch the year/day rule counts from: the file's
    /// modification time (`open_path` sets it) or, when `None`, the current time.
    pub reference_time: Option<i64>,
    /// Written to the `source` column of every event (`open_path` sets the path).
    pub source: String,
    /// Rows per record batch. Default 8192.
    pub batch_rows: usize,
    /// Packets or flows from pcap input.
    pub pcap: PcapMode,
    /// CSV header renames, `(header name, schema column)`, applied before the
    /// built-in aliases (`--map ts=time`).
    pub csv_map: Vec<(String, String)>,
    /// Keep the raw line in the `raw` column. Default true.
    pub keep_raw: bool,
    /// Stop with [`crate::ParseError::Strict`] at the first rejected record.
    pub strict: bool,
    /// Threads that parse a text input longer than a chunk (1 MiB) at once; 1 parses
    /// on the calling thread only. Batches, rejects and line numbers are the same
    /// whatever the number (pcap is always read on one thread). Default 1.
    pub threads: usize,
    pub limits: Limits,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            format: None,
            year: None,
            reference_time: None,
            source: String::new(),
            batch_rows: 8192,
            pcap: PcapMode::Packets,
            csv_map: Vec::new(),
            keep_raw: true,
            strict: false,
            threads: 1,
            limits: Limits::default(),
        }
    }
}
