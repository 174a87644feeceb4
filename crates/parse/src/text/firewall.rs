//! Firewall lines in the kernel log: iptables `LOG` and ufw (`[UFW BLOCK] IN=eth0 OUT=
//! SRC=1.2.3.4 DST=5.6.7.8 LEN=60 PROTO=TCP SPT=443 DPT=51234 ... ACK RST`), as OCSF
//! Network Activity with action, rule, interface, direction, addresses and flags.

use super::payload::write_flags;
use super::scan::{self, port, uint};
use crate::row::{I, Row, S};

/// iptables/ufw LOG lines: `[UFW BLOCK] IN=eth0 OUT= MAC=... SRC=1.2.3.4 DST=5.6.7.8
/// LEN=60 ... PROTO=TCP SPT=443 DPT=51234 WINDOW=0 RES=0x00 ACK RST URGP=0`.
pub(crate) fn firewall<'a>(msg: &'a str, row: &mut Row<'a>) {
    row.set(S::EventClass, super::packet::NETWORK);
    row.set_int(I::Packets, 1);
    // The log prefix is what precedes IN=; ufw's is "[UFW BLOCK]".
    let start = scan::find(msg.as_bytes(), b"IN=").unwrap_or(0);
    let mut prefix = msg[..start].trim();
    // Kernel time "[12345.678]" in front of the prefix.
    if let Some((stamp, r)) = prefix.strip_prefix('[').and_then(|p| p.split_once(']'))
        && stamp
            .bytes()
            .all(|c| c.is_ascii_digit() || c == b'.' || c == b' ')
    {
        prefix = r.trim();
    }
    if !prefix.is_empty() {
        let p = prefix
            .trim_matches(|c| c == '[' || c == ']' || c == ':')
            .trim();
        row.set(S::Rule, p);
        let up = p.to_ascii_uppercase();
        let action = if ["BLOCK", "DROP", "DENY", "REJECT"]
            .iter()
            .any(|k| up.contains(k))
        {
            Some("block")
        } else if ["ALLOW", "ACCEPT", "PASS"].iter().any(|k| up.contains(k)) {
            Some("pass")
        } else {
            None
        };
        if let Some(a) = action {
            row.set(S::Action, a);
        }
    }
    let (mut inn, mut out) = ("", "");
    let mut flags = 0u8;
    for tok in msg[start..].split(' ') {
        let (k, v) = tok.split_once('=').unwrap_or((tok, ""));
        match k {
            "IN" => inn = v,
            "OUT" => out = v,
            "SRC" if scan::set_ip(row, S::SrcIp, v).is_err() => {
                row.extra().str("src", v);
            }
            "DST" if scan::set_ip(row, S::DstIp, v).is_err() => {
                row.extra().str("dst", v);
            }
            "PROTO" => {
                let p = v.to_ascii_lowercase();
                row.set_copy(S::Protocol, if p == "icmpv6" { "icmp6" } else { &p });
            }
            "SPT" => {
                if let Some(p) = port(v) {
                    row.set_int(I::SrcPort, p);
                }
            }
            "DPT" => {
                if let Some(p) = port(v) {
                    row.set_int(I::DstPort, p);
                }
            }
            "LEN" if row.get_int(I::Bytes).is_none() => {
                if let Some(n) = uint(v) {
                    row.set_int(I::Bytes, n as i64);
                }
            }
            "MAC" if !v.is_empty() => row.extra().str("mac", v),
            "TTL" => {
                if let Some(n) = uint(v) {
                    row.extra().int("ttl", n as i64);
                }
            }
            "FIN" => flags |= 0x01,
            "SYN" => flags |= 0x02,
            "RST" => flags |= 0x04,
            "PSH" => flags |= 0x08,
            "ACK" => flags |= 0x10,
            "URG" => flags |= 0x20,
            "ECE" => flags |= 0x40,
            "CWR" => flags |= 0x80,
            _ => {}
        }
    }
    match (inn.is_empty(), out.is_empty()) {
        (false, true) => {
            row.set(S::Interface, inn);
            row.set(S::Direction, "in");
        }
        (true, false) => {
            row.set(S::Interface, out);
            row.set(S::Direction, "out");
        }
        (false, false) => {
            row.set(S::Interface, inn);
            row.set(S::Direction, "fwd");
        }
        _ => {}
    }
    if row.get(S::Protocol) == Some("tcp") {
        row.set_with(S::TcpFlags, |o| write_flags(o, flags));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(msg: &str) -> Row<'_> {
        let mut r = Row::default();
        firewall(msg, &mut r);
        r
    }

    #[test]
    fn ufw_and_iptables() {
        let mut r = run(
            "[ 5634.418530] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56 SRC=203.0.113.9 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=49 ID=0 DF PROTO=TCP SPT=443 DPT=51234 WINDOW=0 RES=0x00 ACK RST URGP=0",
        );
        assert_eq!(r.get(S::EventClass), Some("network_activity"));
        assert_eq!(r.get(S::Action), Some("block"));
        assert_eq!(r.get(S::Rule), Some("UFW BLOCK"));
        assert_eq!(r.get(S::Interface), Some("eth0"));
        assert_eq!(r.get(S::Direction), Some("in"));
        assert_eq!(r.get(S::SrcIp), Some("203.0.113.9"));
        assert_eq!(r.get(S::DstIp), Some("192.0.2.10"));
        assert_eq!(r.get(S::Protocol), Some("tcp"));
        assert_eq!(r.get_int(I::SrcPort), Some(443));
        assert_eq!(r.get_int(I::DstPort), Some(51234));
        assert_eq!(r.get_int(I::Bytes), Some(60));
        assert_eq!(r.get(S::TcpFlags), Some("R."));
        assert_eq!(
            r.extra_json(),
            Some(r#"{"mac":"52:54:00:12:34:56","ttl":49}"#)
        );
        let r = run(
            "IPTables-Dropped: IN= OUT=eth0 SRC=10.0.0.1 DST=10.0.0.2 LEN=84 PROTO=ICMP TYPE=8 CODE=0",
        );
        assert_eq!(r.get(S::Action), Some("block"));
        assert_eq!(r.get(S::Direction), Some("out"));
        assert_eq!(r.get(S::Protocol), Some("icmp"));
    }
}
