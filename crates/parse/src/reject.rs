//! What happened to every line: rejects with their reasons, and the stream summary.
//!
//! Nothing is dropped silently. Every record read is either parsed into an event or
//! rejected with a [`RejectReason`], so `parsed + rejected = read` always holds.
//! Lines that are not records (blank lines, Zeek `#` headers, a CSV header, pcap file
//! headers) are counted as `skipped` and not in `read`.

use std::collections::BTreeMap;
use std::fmt;

use crate::format::Format;

/// Why a record was rejected. The stable short names ([`RejectReason::as_str`]) are
/// what the summary and the rejects file print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// The line is longer than `Limits::max_line_bytes`.
    LineTooLong,
    /// The input ended (truncated gzip or pcap) in the middle of this record.
    Truncated,
    /// The line does not have the shape of the format (no header, wrong layout).
    Unrecognized,
    /// The timestamp is missing or invalid (bad date, month name, zone).
    BadTime,
    /// An address is not a valid IPv4/IPv6 address (also: names where tcpdump `-n`
    /// would print numbers).
    BadAddress,
    /// A port is not a number in 0-65535.
    BadPort,
    /// A number field (bytes, packets, status, duration) is not a number.
    BadNumber,
    /// A Zeek/CSV line does not have as many fields as its header.
    FieldCount,
    /// A JSON line is not valid JSON, or not an object.
    BadJson,
    /// A JSON line nests deeper than `Limits::max_json_depth`.
    JsonTooDeep,
    /// A tcpdump `-v` continuation line (indented); run tcpdump without `-v`.
    Continuation,
    /// A packet too short or malformed for its headers.
    BadPacket,
    /// A packet of a link layer or protocol this parser does not decode.
    Unsupported,
    /// A packet record larger than `Limits::max_snaplen`.
    TooLarge,
}

impl RejectReason {
    /// Stable short name, e.g. `bad_time`.
    pub fn as_str(self) -> &'static str {
        use RejectReason::*;
        match self {
            LineTooLong => "line_too_long",
            Truncated => "truncated",
            Unrecognized => "unrecognized",
            BadTime => "bad_time",
            BadAddress => "bad_address",
            BadPort => "bad_port",
            BadNumber => "bad_number",
            FieldCount => "field_count",
            BadJson => "bad_json",
            JsonTooDeep => "json_too_deep",
            Continuation => "continuation",
            BadPacket => "bad_packet",
            Unsupported => "unsupported",
            TooLarge => "too_large",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rejected record, as handed to the caller's reject sink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// 1-based line number (pcap: packet number).
    pub line: u64,
    pub reason: RejectReason,
    /// Human explanation, e.g. `month "Foo" is not a month name`.
    pub detail: String,
    /// The line as read (invalid UTF-8 bytes escaped as `\xNN`; an over-long line is
    /// cut to its first KiB; a packet is shown as hex of its first 64 bytes).
    pub raw: String,
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.reason, self.detail)
    }
}

/// Counts for a whole stream, complete once `next_batch` has returned `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// The format parsed (detected or given).
    pub format: Option<Format>,
    /// Records read: lines (text formats) or packets (pcap).
    pub read: u64,
    /// Records turned into events (pcap flows: packets counted into a flow).
    pub parsed: u64,
    /// Rejected records by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// Lines that are not records: blank lines, comments and headers.
    pub skipped: u64,
    /// Event rows produced (equals `parsed` except for pcap flows).
    pub events: u64,
    /// Set when the input was cut short (truncated gzip or pcap): what and where.
    /// Everything before the damage was parsed.
    pub damage: Option<String>,
    /// What the year rule decided, for a log that prints no year (pf, syslog, tcpdump).
    pub year: Option<crate::YearNote>,
}

impl Summary {
    /// Total rejected records.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    pub(crate) fn reject(&mut self, reason: RejectReason) {
        self.read += 1;
        *self.rejected.entry(reason).or_insert(0) += 1;
    }
}

impl fmt::Display for Summary {
    /// One line: `read 10 parsed 8 rejected 2 (bad_time 1, unrecognized 1) skipped 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read {} parsed {} rejected {}",
            self.read,
            self.parsed,
            self.rejected_total()
        )?;
        if !self.rejected.is_empty() {
            f.write_str(" (")?;
            for (i, (r, n)) in self.rejected.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{r} {n}")?;
            }
            f.write_str(")")?;
        }
        write!(f, " skipped {}", self.skipped)?;
        if self.events != self.parsed {
            write!(f, " events {}", self.events)?;
        }
        if let Some(d) = &self.damage {
            write!(f, "; input damaged: {d}")?;
        }
        Ok(())
    }
}

/// Escapes a line for display: valid UTF-8 is kept, other bytes become `\xNN`.
pub(crate) fn escape_bytes(b: &[u8], out: &mut String) {
    let mut rest = b;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let n = e.error_len().unwrap_or(bad.len());
                for byte in &bad[..n] {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
                rest = &bad[n..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_escaped_not_lost() {
        let mut s = String::new();
        escape_bytes(b"ab\xffc\xe2\x82", &mut s);
        assert_eq!(s, "ab\\xffc\\xe2\\x82");
    }

    #[test]
    fn summary_line() {
        let mut s = Summary {
            parsed: 3,
            read: 3,
            events: 3,
            ..Summary::default()
        };
        s.reject(RejectReason::BadTime);
        assert_eq!(
            s.to_string(),
            "read 4 parsed 3 rejected 1 (bad_time 1) skipped 0"
        );
    }
}
