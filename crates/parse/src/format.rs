//! The input formats, their names, and detection from the first lines.

use std::fmt;
use std::str::FromStr;

use crate::error::ParseError;
use crate::text;

/// An input format. `name()` is what `--format` takes and the `format` column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// OpenBSD pf logs as tcpdump prints them from pflog.
    Pf,
    /// tcpdump text output (`-n`, with or without dates).
    Tcpdump,
    /// pcap (micro- or nanosecond) and pcapng captures.
    Pcap,
    /// Zeek logs, TSV (`#fields` header) or JSON lines.
    Zeek,
    /// CSV with a header mapped by name, or headerless AfterGlow CSV.
    Csv,
    /// JSON lines with ECS-, OCSF- or Zeek-like field names.
    Jsonl,
    /// Syslog (BSD and RFC 5424): sshd, sudo, iptables/ufw, other programs; also
    /// Apache error logs.
    Syslog,
    /// Web access logs: Apache and nginx, common and combined.
    Access,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Pf,
        Format::Tcpdump,
        Format::Pcap,
        Format::Zeek,
        Format::Csv,
        Format::Jsonl,
        Format::Syslog,
        Format::Access,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Pf => "pf",
            Format::Tcpdump => "tcpdump",
            Format::Pcap => "pcap",
            Format::Zeek => "zeek",
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Syslog => "syslog",
            Format::Access => "access",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let l = s.trim().to_ascii_lowercase();
        let f = match l.as_str() {
            "pf" | "pflog" => Format::Pf,
            "tcpdump" => Format::Tcpdump,
            "pcap" | "pcapng" => Format::Pcap,
            "zeek" | "bro" => Format::Zeek,
            "csv" => Format::Csv,
            "jsonl" | "json" | "ndjson" => Format::Jsonl,
            "syslog" => Format::Syslog,
            "access" | "apache" | "nginx" => Format::Access,
            _ => return Err(ParseError::BadFormatName(s.to_string())),
        };
        Ok(f)
    }
}

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
        ParseError::UnknownFormat(format!("first line: {first:?}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        assert!("nope".parse::<Format>().is_err());
    }
}
