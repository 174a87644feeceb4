//! Errors that stop a stream (as opposed to rejects, which only skip a record).

use crate::format::UnknownFormatName;
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
    #[error("could not detect the format ({0})")]
    UnknownFormat(String),
    #[error(transparent)]
    BadFormatName(#[from] UnknownFormatName),
    #[error("invalid option: {0}")]
    BadOption(String),
    #[error("pcap: {0}")]
    Pcap(String),
    /// `strict` was set and a record was rejected.
    #[error("strict mode: {0}")]
    Strict(Reject),
    /// A compressed input expanded past a limit of [`crate::Limits`]: refused whole.
    #[error("compressed input refused: {0}")]
    Decompression(DecompressionLimit),
}

/// Which decompression limit a compressed input passed, and by how much.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecompressionLimit {
    /// More than `max_ratio` times the compressed bytes read so far.
    #[error(
        "it expands to more than {max_ratio} times its compressed size ({decompressed} bytes from {compressed} compressed bytes; a compression bomb?)"
    )]
    Ratio {
        max_ratio: u64,
        compressed: u64,
        decompressed: u64,
    },
    /// More than `max_bytes` in all.
    #[error("it expands to more than {max_bytes} bytes")]
    Bytes { max_bytes: u64 },
}
