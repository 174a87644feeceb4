//! What to do about an error, in the command line's words. The libraries' errors say what
//! happened in words every interface shares; the flags that fix them exist only here, so
//! this is where they are named. The matches are exhaustive: a new error variant does not
//! compile until it is worded here (and in the portal's `data::wording`).

use secviz_lake::LakeError;
use secviz_parse::{DecompressionLimit, ParseError};

/// The advice for the first error in `err`'s chain that has one.
pub fn for_chain(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<ParseError>() {
            parse(e)
        } else if let Some(e) = cause.downcast_ref::<LakeError>() {
            lake(e)
        } else {
            None
        }
    })
}

/// What to do about a parse error, if the command line offers something.
pub fn parse(e: &ParseError) -> Option<String> {
    match e {
        ParseError::Io(_) | ParseError::Open { .. } | ParseError::Pcap(_) => None,
        ParseError::UnknownFormat(_) => {
            Some("name the format with --format (`secviz parse --help` lists them)".into())
        }
        ParseError::BadFormatName(_) => {
            Some("`secviz parse --help` lists the formats --format takes".into())
        }
        ParseError::BadOption(_) => Some("`secviz parse --help` shows the options".into()),
        ParseError::Strict(_) => {
            Some("without --strict, rejected lines are counted, reported and skipped".into())
        }
        ParseError::Decompression(limit) => Some(match limit {
            DecompressionLimit::Ratio { .. } => {
                "if the file is genuine, raise the limit with --max-decompressed-ratio N (0 turns it off)"
                    .to_string()
            }
            DecompressionLimit::Bytes { max_bytes } => format!(
                "if the file is genuine, raise the limit with --max-decompressed-bytes (now {max_bytes})"
            ),
        }),
    }
}

/// What to do about a lake error, if the command line offers something.
pub fn lake(e: &LakeError) -> Option<String> {
    match e {
        LakeError::Parse { error, .. } => parse(error),
        LakeError::Duplicate { .. } => Some("--force ingests it again".into()),
        LakeError::NotFound(_) => Some("`secviz datasets` lists the datasets".into()),
        LakeError::BadName(_) => Some(
            "dataset names are letters, digits, '_' and '-', starting with a letter".into(),
        ),
        LakeError::BadLocation(_) => {
            Some("set --data (or SECVIZ_DATA) to a folder or an s3:// URL".into())
        }
        LakeError::Key { .. } => Some(
            "the anonymization key file must hold the key written by secviz; remove it only if no dataset needs it".into(),
        ),
        LakeError::Worker(_) => Some(
            "check that the address is free and that --listen names an address of this machine".into(),
        ),
        LakeError::Anonymization(_)
        | LakeError::Invalid(_)
        | LakeError::Sandbox(_)
        | LakeError::Io { .. }
        | LakeError::Store { .. }
        | LakeError::Manifest { .. }
        | LakeError::Parquet(_)
        | LakeError::Arrow(_)
        | LakeError::DataFusion(_)
        | LakeError::Cancelled
        | LakeError::Internal(_) => None,
    }
}
