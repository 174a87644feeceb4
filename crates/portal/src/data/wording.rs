//! What a member reads when their data could not be used, in the words of the web form
//! ("the Format list", "attach it again"), never the command line's flags. The libraries'
//! errors say what happened; this says it to a member and adds what to do. The matches are
//! exhaustive, so a new error variant does not compile until it is worded here (the command
//! line words the same enums in `secviz`'s `cmd::advice`).
//!
//! A message here completes "The data could not be read." (the draft page's heading of a
//! failed upload): it does not say that again.

use secviz_lake::LakeError;
use secviz_parse::{DecompressionLimit, ParseError};

/// Said when the failure was the server's: the details are in the server's log only.
pub const SERVER_PROBLEM: &str =
    "The ingest failed because of a problem on the server; it was logged. Try again later.";

/// The member's message for a parse error; `None` when the problem was the server's.
pub fn parse_error(e: &ParseError) -> Option<String> {
    Some(match e {
        ParseError::Io(io) => match io.kind() {
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof => format!(
                "The file is damaged or ends early ({io}). If it is compressed, check that the whole gzip file was attached."
            ),
            _ => return None,
        },
        ParseError::Open { .. } => return None,
        ParseError::UnknownFormat(why) => format!(
            "Its format was not recognised ({why}). Choose the format in the Format list, or check that the file is a text log, a pcap capture or a gzip of one."
        ),
        ParseError::BadFormatName(name) => format!(
            "{} is not a format secviz reads: choose one from the Format list.",
            secviz_parse::quoted(&name.0)
        ),
        ParseError::BadOption(why) => format!("A choice for reading it is not valid: {why}."),
        ParseError::Pcap(why) => format!(
            "The capture file is damaged or is not a pcap file: {why}. Export it again from the capturing tool (pcap or pcapng) and attach it again."
        ),
        ParseError::Strict(reject) => format!(
            "Line {} was rejected ({}: {}).",
            reject.line,
            reject.reason.as_str(),
            reject.detail
        ),
        ParseError::Decompression(limit) => bomb_message(limit),
    })
}

/// The member's message for a failed ingest; `None` when the problem was the server's.
pub fn lake_error(e: &LakeError) -> Option<String> {
    match e {
        LakeError::Parse { error, .. } => parse_error(error),
        LakeError::Invalid(m) | LakeError::Anonymization(m) => Some(format!("{m}.")),
        LakeError::Duplicate { .. } => {
            Some("This file is already in the dataset: nothing new was added.".into())
        }
        LakeError::Cancelled => {
            Some("The ingest was stopped before it ended; attach the data again.".into())
        }
        LakeError::BadName(_)
        | LakeError::NotFound(_)
        | LakeError::Sandbox(_)
        | LakeError::Worker(_)
        | LakeError::Key { .. }
        | LakeError::Io { .. }
        | LakeError::Store { .. }
        | LakeError::BadLocation(_)
        | LakeError::Manifest { .. }
        | LakeError::Parquet(_)
        | LakeError::Arrow(_)
        | LakeError::DataFusion(_)
        | LakeError::Internal(_) => None,
    }
}

/// A gzip file refused for what it expands to.
pub fn bomb_message(limit: &DecompressionLimit) -> String {
    let why = match limit {
        DecompressionLimit::Ratio { max_ratio, .. } => format!(
            "it expands to more than {max_ratio} times its compressed size, far more than logs do (a compression bomb?)"
        ),
        DecompressionLimit::Bytes { max_bytes } => format!(
            "uncompressed it is larger than the limit of {}",
            crate::data::upload::human_bytes(*max_bytes)
        ),
    };
    format!(
        "The gzip file was refused: {why}. Nothing of it was kept. Split the log into smaller files, or upload it uncompressed if it is within the upload limit."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every message a member can get from a parse error: no flag, no debug dump.
    #[test]
    fn parse_errors_are_worded_for_the_web_form() {
        let errors = [
            ParseError::UnknownFormat("first line: “x”".into()),
            ParseError::BadFormatName(secviz_parse::UnknownFormatName("nope\u{1b}".into())),
            ParseError::BadOption("year 99999".into()),
            ParseError::Pcap("truncated packet header".into()),
            ParseError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "invalid gzip header",
            )),
            ParseError::Decompression(DecompressionLimit::Ratio {
                max_ratio: 100,
                compressed: 1,
                decompressed: 200,
            }),
            ParseError::Decompression(DecompressionLimit::Bytes { max_bytes: 1 << 30 }),
        ];
        for e in &errors {
            let m = parse_error(e).expect("the member's to fix");
            assert!(!m.contains("--"), "a flag: {m}");
            assert!(
                !m.contains("Error") && !m.contains("\\\\u{"),
                "a dump, or escaped twice: {m}"
            );
            assert!(!m.contains('\u{1b}'), "a raw control character: {m}");
            assert!(
                !m.starts_with("The data could not be read"),
                "said twice: {m}"
            );
        }
        let other = ParseError::Io(std::io::Error::other("disk on fire"));
        assert_eq!(parse_error(&other), None, "the server's problem");
    }
}
