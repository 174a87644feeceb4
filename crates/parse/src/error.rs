//! Errors that stop a stream (as opposed to rejects, which only skip a record).

use crate::reject::Reject;

/// Why a stream could not be opened or continued.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("reading input: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("could not detect the format ({0}); pass one explicitly (--format)")]
    UnknownFormat(String),
    #[error(
        "unknown format {0:?}; expected one of pf, tcpdump, pcap, zeek, csv, jsonl, syslog, access"
    )]
    BadFormatName(String),
    #[error("invalid option: {0}")]
    BadOption(String),
    #[error("pcap: {0}")]
    Pcap(String),
    /// `strict` was set and a record was rejected.
    #[error("strict mode: {0}")]
    Strict(Reject),
}
