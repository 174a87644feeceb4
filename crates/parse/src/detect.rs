//! Detection of the input format from the first bytes: the pcap magic, else the line
//! format whose sniffer recognises most of the first lines.
//!
//! Separate from `format` (the names, which the line parsers use) so that `text` and
//! `format` do not import each other.

use crate::error::ParseError;
use crate::format::Format;
use crate::text;

/// True if the bytes start like a pcap or pcapng file.
pub(crate) fn is_pcap_magic(head: &[u8]) -> bool {
    matches!(
        head.get(..4),
        Some([0xa1, 0xb2, 0xc3, 0xd4])
            | Some([0xd4, 0xc3, 0xb2, 0xa1])
            | Some([0xa1, 0xb2, 0x3c, 0x4d])
            | Some([0x4d, 0x3c, 0xb2, 0xa1])
            | Some([0x0a, 0x0d, 0x0d, 0x0a])
    )
}

/// Why `head` is not text, when more than a tenth of it is control characters (other than
/// tabs and line ends) or bytes that are not UTF-8: such input gets that said plainly, not
/// a first "line" of escapes.
fn binary(head: &[u8]) -> Option<String> {
    let mut not_text = 0usize;
    for chunk in head.utf8_chunks() {
        not_text += chunk.invalid().len();
        not_text += chunk
            .valid()
            .chars()
            .filter(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            .count();
    }
    (not_text * 10 > head.len()).then(|| {
        format!(
            "the file starts with binary data, not text: {} of its first {} bytes are not printable",
            not_text,
            head.len()
        )
    })
}

/// Detects the format from the first bytes of the (decompressed) input: the pcap
/// magic, else the format that recognises most of the first ten non-blank lines
/// (ties go to the more specific format, in the order of [`text::SNIFFERS`]).
pub(crate) fn detect(head: &[u8]) -> Result<Format, ParseError> {
    if is_pcap_magic(head) {
        return Ok(Format::Pcap);
    }
    if head.is_empty() {
        return Err(ParseError::UnknownFormat("the input is empty".into()));
    }
    if let Some(why) = binary(head) {
        return Err(ParseError::UnknownFormat(why));
    }
    let text = String::from_utf8_lossy(head);
    let mut lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .take(11)
        .collect();
    // The last line of the peek may be cut; only use it if it is the only one.
    if lines.len() > 1 && !head.ends_with(b"\n") {
        lines.pop();
    }
    lines.truncate(10);
    let mut best: Option<(Format, usize)> = None;
    for (fmt, sniff) in text::SNIFFERS {
        let n = sniff(&lines);
        if n > 0 && best.is_none_or(|(_, b)| n > b) {
            best = Some((*fmt, n));
        }
    }
    best.map(|(f, _)| f).ok_or_else(|| {
        let first: String = lines
            .first()
            .map(|l| l.chars().take(80).collect())
            .unwrap_or_default();
        ParseError::UnknownFormat(format!("first line: {}", crate::printable::quoted(&first)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_input_is_called_binary_not_shown() {
        let garbage: Vec<u8> = (0..2000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let Err(ParseError::UnknownFormat(why)) = detect(&garbage) else {
            panic!("garbage was detected as a format");
        };
        assert!(why.starts_with("the file starts with binary data"), "{why}");
        assert!(!why.contains('\\'), "no escapes: {why}");
    }

    #[test]
    fn text_with_a_stray_control_character_is_still_text() {
        let head = b"hello world\x07 this is not a log\nnor is this\n";
        let Err(ParseError::UnknownFormat(why)) = detect(head) else {
            panic!("detected");
        };
        assert!(why.starts_with("first line: "), "{why}");
    }
}
