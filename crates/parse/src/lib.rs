//! secviz-parse turns security logs into one event schema.
//!
//! Every format (pf/tcpdump text, pcap/pcapng, Zeek, syslog, web access logs, CSV and
//! JSON lines) is read as a stream and appended to Arrow record batches of
//! [`schema::event_schema`]. Lines that do not parse are never dropped: they are
//! counted and handed to a reject sink with their line number and reason.
//!
//! The API in one picture:
//!
//! ```no_run
//! use secviz_parse::{EventStream, FieldSelection, ParseOptions};
//! let mut stream = EventStream::open_path("pf.log", ParseOptions::default())?;
//! let fields = FieldSelection::parse("src_ip,dst_port,dst_ip")?;
//! while let Some(batch) = stream.next_batch(&mut |reject| eprintln!("{reject}"))? {
//!     for row in fields.rows(&batch) {
//!         println!("{row:?}");
//!     }
//! }
//! eprintln!("{}", stream.summary()); // read, parsed, rejected by reason
//! # Ok::<(), secviz_parse::ParseError>(())
//! ```
//!
//! Guarantees: memory is bounded by one batch (plus open flows in pcap flow mode);
//! `summary.parsed + summary.rejected_total() == summary.read`; a truncated gzip or
//! pcap keeps everything before the damage and reports it in `summary.damage`; a gzip
//! input that expands past [`Limits::max_decompressed_ratio`] or
//! [`Limits::max_decompressed_bytes`] stops the stream with
//! [`ParseError::Decompression`] (a compression bomb is refused, not parsed in part).
//!
//! Where things live:
//!
//! | module | owns |
//! |---|---|
//! | `stream` | [`EventStream`]: opening (gzip, detection), driving a parser, the summary |
//! | `input` | gzip sniffing, decompression limits, the head for detection, damage tracking, the capped line reader |
//! | `format`, `detect` | [`Format`] names; detection from the first lines |
//! | `text::*` | one module per line format (pf, tcpdump, syslog + auth/firewall, access, zeek, csv, jsonl) and their shared scanners |
//! | `pcap::*` | capture reading, frame decoding, DNS in packets, flows |
//! | `row`, `batch` | the staging row borrowed from the line, and the Arrow column builders |
//! | `fields`, `output` | reading batches back as strings; CSV and JSON lines writers |
//!
//! The columns, the year rule and which format fills what are documented in
//! `docs/schema.md`.
//!
//! Not here: storing events (secviz-lake writes the batches to Parquet), queries, and
//! pictures. This crate depends on no other secviz crate; everything else reads its events.

mod batch;
mod detect;
mod error;
mod fields;
mod format;
mod input;
mod options;
mod output;
mod pcap;
mod printable;
mod reject;
mod row;
pub mod schema;
mod stream;
mod text;
mod time;

pub use error::{DecompressionLimit, ParseError};
pub use fields::{BatchView, CellKind, FieldSelection};
pub use format::{Format, UnknownFormatName};
pub use options::{DECOMPRESSED_FLOOR, Limits, ParseOptions, PcapMode};
pub use output::{EventWriter, OutputFormat, csv_text};
pub use printable::{escape_control, quoted};
pub use reject::{Reject, RejectReason, Summary};
pub use stream::EventStream;
pub use time::YearNote;
