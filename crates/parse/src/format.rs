//! The input formats and their names (detection from the first lines is in `detect`).

use std::fmt;
use std::str::FromStr;

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

/// A format name that `--format` does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown format {0:?}; expected one of pf, tcpdump, pcap, zeek, csv, jsonl, syslog, access"
)]
pub struct UnknownFormatName(pub String);

impl FromStr for Format {
    type Err = UnknownFormatName;

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
            _ => return Err(UnknownFormatName(s.to_string())),
        };
        Ok(f)
    }
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
