//! The packet part of a tcpdump text line, shared by pf and tcpdump:
//! `SRC[.PORT] > DST[.PORT]: PAYLOAD`, with the payload read for TCP (old and new
//! tcpdump styles), UDP, DNS, ICMP and a few other IP protocols.
//!
//! tcpdump prints ports after the last dot of an address (`195.141.69.45.1030`,
//! `2001:db8::1.443`). TCP always starts its payload with flags, so a payload with
//! ports that is not TCP is UDP (its application decoders, e.g. NTP, print no "udp").

use std::net::Ipv6Addr;

use memchr::memrchr;

use super::payload::{dns, old_tcp_flags, tcp_new, tcp_old};
use super::scan::{self, port, set_ip, uint};
use super::{Bad, bad};
use crate::printable::quoted;
use crate::reject::RejectReason;
use crate::row::{I, Row, S};

/// OCSF class name written to `event_class` (DNS's is [`DNS`], next to its parser).
pub(crate) const NETWORK: &str = "network_activity";

/// Parses `SRC > DST: PAYLOAD` into the row (addresses, ports, protocol, flags,
/// bytes, DNS fields, extra). Sets `packets` to 1.
pub(crate) fn parse_body<'a>(body: &'a str, row: &mut Row<'a>) -> Result<(), Bad> {
    let (sport, dport, payload) = match endpoints_v4(body) {
        Some(e) => {
            row.set(S::SrcIp, e.src);
            row.set(S::DstIp, e.dst);
            if let Some(p) = e.sport {
                row.set_int(I::SrcPort, p);
            }
            if let Some(p) = e.dport {
                row.set_int(I::DstPort, p);
            }
            (e.sport, e.dport, e.payload)
        }
        None => endpoints(body, row)?,
    };
    row.set_int(I::Packets, 1);
    row.set(S::EventClass, NETWORK);

    let (payload, df) = match payload.strip_suffix(" (DF)") {
        Some(p) => (p, true),
        None => (payload, payload == "(DF)"),
    };
    let payload = if payload == "(DF)" { "" } else { payload };
    if df {
        row.extra().bool_lit("df", true);
    }
    if let Some(rest) = payload.strip_prefix("[|") {
        // Snapshot length cut the packet before this protocol's header.
        let proto = rest.split(']').next().unwrap_or("");
        if matches!(proto, "tcp" | "udp" | "icmp" | "icmp6") {
            row.set(S::Protocol, proto);
        }
        row.extra().bool_lit("truncated", true);
        return Ok(());
    }
    if sport.is_some() && dport.is_some() {
        if let Some(flags) = old_tcp_flags(payload) {
            return tcp_old(payload, flags, row);
        }
        if let Some(rest) = payload.strip_prefix("Flags [") {
            return tcp_new(rest, row);
        }
        row.set(S::Protocol, "udp");
        if let Some(n) = payload.strip_prefix("udp ") {
            if let Some(v) = uint(scan::before(n, b' ')) {
                row.set_int(I::Bytes, v as i64);
            }
        } else if let Some(n) = payload.strip_prefix("UDP, length ") {
            if let Some(v) = uint(scan::leading_digits(n)) {
                row.set_int(I::Bytes, v as i64);
            }
        } else if is_dns_port(sport) || is_dns_port(dport) {
            dns(payload, row);
        }
        return Ok(());
    }
    other_protocol(payload, row);
    Ok(())
}

/// The two endpoints of a packet line, read by [`endpoints_v4`].
struct Endpoints<'a> {
    src: &'a str,
    sport: Option<i64>,
    dst: &'a str,
    dport: Option<i64>,
    payload: &'a str,
}

/// `A.B.C.D[.PORT] > A.B.C.D[.PORT]: PAYLOAD` in one pass over the bytes: the common
/// shape of pf and tcpdump lines. `None` for anything else (IPv6, names, odd ports,
/// bad input), which [`endpoints`] then reads and explains. When this returns a value,
/// it is exactly what `endpoints` would set and return (see the equivalence test).
#[inline]
fn endpoints_v4(body: &str) -> Option<Endpoints<'_>> {
    let b = body.as_bytes();
    let (n, sport, i) = address_port_v4(b, 0)?;
    if b.get(i..i + 3) != Some(b" > ") {
        return None;
    }
    let d = i + 3;
    let (m, dport, j) = address_port_v4(b, d)?;
    if b.get(j..j + 2) != Some(b": ") {
        return None;
    }
    Some(Endpoints {
        src: &body[..n],
        sport,
        dst: &body[d..m],
        dport,
        payload: &body[j + 2..],
    })
}

/// An IPv4 address at `b[start..]` and its optional `.port`: (end of the address, port,
/// end of both).
#[inline]
fn address_port_v4(b: &[u8], start: usize) -> Option<(usize, Option<i64>, usize)> {
    let end = start + scan::ipv4_prefix(&b[start..])?;
    match b.get(end) {
        Some(b'.') => {
            let (p, len) = short_port(&b[end + 1..])?;
            Some((end, Some(p), end + 1 + len))
        }
        _ => Some((end, None, end)),
    }
}

/// A port of 1-5 digits (0-65535) at the start of `b`: (port, digits). Longer digit
/// runs (leading zeros) are left to the general path.
#[inline]
fn short_port(b: &[u8]) -> Option<(i64, usize)> {
    let mut v = 0u32;
    let mut n = 0;
    while n < 5 {
        match b.get(n) {
            Some(&c) if c.is_ascii_digit() => v = v * 10 + u32::from(c - b'0'),
            _ => break,
        }
        n += 1;
    }
    (n > 0 && v <= 65_535 && b.get(n).is_none_or(|c| !c.is_ascii_digit()))
        .then_some((i64::from(v), n))
}

/// Any `SRC[.PORT] > DST[.PORT]: PAYLOAD`: sets the addresses and ports, returns
/// (source port, destination port, payload) or why the line is bad.
fn endpoints<'a>(
    body: &'a str,
    row: &mut Row<'a>,
) -> Result<(Option<i64>, Option<i64>, &'a str), Bad> {
    let b = body.as_bytes();
    let Some(gt) = find2(b, b'>', b' ')
        .and_then(|i| i.checked_sub(1))
        .filter(|&i| b[i] == b' ')
    else {
        return bad(
            RejectReason::Unrecognized,
            "expected \"SRC > DST:\" after the header",
        );
    };
    let src = &body[..gt];
    let rest = &body[gt + 3..];
    let (dst, payload) = match find2(rest.as_bytes(), b':', b' ') {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => match rest.strip_suffix(':') {
            Some(d) => (d, ""),
            None => {
                return bad(
                    RejectReason::Unrecognized,
                    "expected \":\" after the destination",
                );
            }
        },
    };
    let (sa, sp, sa_ok) = endpoint(src);
    let (da, dp, da_ok) = endpoint(dst);
    if sa_ok {
        row.set(S::SrcIp, sa);
    } else {
        address(row, S::SrcIp, sa)?;
    }
    if da_ok {
        row.set(S::DstIp, da);
    } else {
        address(row, S::DstIp, da)?;
    }
    let sport = match sp {
        Some(p) => Some(port(p).ok_or_else(|| scan::bad_port(p))?),
        None => None,
    };
    let dport = match dp {
        Some(p) => Some(port(p).ok_or_else(|| scan::bad_port(p))?),
        None => None,
    };
    if let Some(p) = sport {
        row.set_int(I::SrcPort, p);
    }
    if let Some(p) = dport {
        row.set_int(I::DstPort, p);
    }
    Ok((sport, dport, payload))
}

fn is_dns_port(p: Option<i64>) -> bool {
    matches!(p, Some(53) | Some(5353))
}

/// Position of the first `a` that is directly followed by `b`.
#[inline]
fn find2(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    // Both separators sit within the first few dozen bytes: a plain loop is fastest.
    hay.windows(2).position(|w| w[0] == a && w[1] == b)
}

/// Splits `ADDR.PORT` (or a bare address) as tcpdump prints it. The flag is true when
/// the address was checked as dotted-quad IPv4 on the way (the common case).
#[inline]
fn endpoint(tok: &str) -> (&str, Option<&str>, bool) {
    let b = tok.as_bytes();
    if let Some(n) = scan::ipv4_prefix(b) {
        if n == b.len() {
            return (tok, None, true);
        }
        if b[n] == b'.' {
            return (&tok[..n], Some(&tok[n + 1..]), true);
        }
    }
    endpoint_slow(tok)
}

/// IPv6 endpoints, names (no `-n`) and anything else.
#[cold]
fn endpoint_slow(tok: &str) -> (&str, Option<&str>, bool) {
    let b = tok.as_bytes();
    if scan::pos(b, b':').is_some() {
        return endpoint_v6(tok);
    }
    let dots = b.iter().filter(|&&c| c == b'.').count();
    match (dots, memrchr(b'.', b)) {
        (4, Some(i)) => (&tok[..i], Some(&tok[i + 1..]), false),
        _ => (tok, None, false),
    }
}

#[cold]
fn endpoint_v6(tok: &str) -> (&str, Option<&str>, bool) {
    if let Some(i) = memrchr(b'.', tok.as_bytes()) {
        let addr = &tok[..i];
        if addr
            .split('%')
            .next()
            .unwrap_or(addr)
            .parse::<Ipv6Addr>()
            .is_ok()
        {
            return (addr, Some(&tok[i + 1..]), false);
        }
    }
    (tok, None, false)
}

fn address<'a>(row: &mut Row<'a>, c: S, s: &'a str) -> Result<(), Bad> {
    set_ip(row, c, s).map_err(|e| {
        if s.bytes().any(|c| c.is_ascii_alphabetic()) && !s.contains(':') {
            let shown: String = s.chars().take(64).collect();
            Bad::new(
                RejectReason::BadAddress,
                format!(
                    "{} is a name, not an address: print with tcpdump -n",
                    quoted(&shown)
                ),
            )
        } else {
            e
        }
    })
}

/// Payloads without ports: ICMP and other IP protocols.
fn other_protocol<'a>(payload: &'a str, row: &mut Row<'a>) {
    let (proto, desc) = if let Some(d) = payload.strip_prefix("icmp: ") {
        ("icmp", d)
    } else if let Some(d) = payload.strip_prefix("ICMP ") {
        ("icmp", d)
    } else if let Some(d) = payload.strip_prefix("icmp6: ") {
        ("icmp6", d)
    } else if let Some(d) = payload.strip_prefix("ICMP6, ") {
        ("icmp6", d)
    } else {
        let (w, _) = scan::word(payload);
        let w = w.trim_end_matches(',');
        let p = match w {
            _ if w.starts_with("GRE") => "gre",
            _ if w.starts_with("ESP") => "esp",
            _ if w.starts_with("AH") => "ah",
            "igmp" | "IGMP" => "igmp",
            _ if w.starts_with("OSPF") => "ospf",
            _ if w.starts_with("PIM") => "pim",
            "VRRPv2" | "VRRPv3" => "vrrp",
            "CARPv2" => "carp",
            _ if w.starts_with("ip-proto-") => &w[9..],
            _ => "",
        };
        if !p.is_empty() {
            row.set(S::Protocol, p);
        }
        return;
    };
    row.set(S::Protocol, proto);
    let mut d = desc;
    for cut in [", id ", ", seq ", ", length "] {
        if let Some(i) = scan::find(d.as_bytes(), cut.as_bytes()) {
            d = &d[..i];
        }
    }
    row.extra().str("icmp", d.trim_end_matches(','));
    if let Some(i) = scan::find(desc.as_bytes(), b"length ") {
        let n = &desc[i + 7..];
        let n = scan::leading_digits(n);
        if let Some(v) = uint(n) {
            row.set_int(I::Bytes, v as i64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::payload::DNS;

    fn parse(body: &str) -> Row<'_> {
        let mut r = Row::default();
        parse_body(body, &mut r).unwrap();
        r
    }

    #[test]
    fn dns_query_from_the_issue() {
        let mut r =
            parse("195.141.69.45.1030 > 61.215.160.253.53: 2520 [1au] MX? www.com.ar. (39) (DF)");
        assert_eq!(r.get(S::SrcIp), Some("195.141.69.45"));
        assert_eq!(r.get_int(I::SrcPort), Some(1030));
        assert_eq!(r.get(S::DstIp), Some("61.215.160.253"));
        assert_eq!(r.get_int(I::DstPort), Some(53));
        assert_eq!(r.get(S::Protocol), Some("udp"));
        assert_eq!(r.get(S::EventClass), Some(DNS));
        assert_eq!(r.get_int(I::DnsId), Some(2520));
        assert_eq!(r.get(S::DnsQtype), Some("MX"));
        assert_eq!(r.get(S::DnsQname), Some("www.com.ar"));
        assert_eq!(r.get(S::DnsRcode), None);
        assert_eq!(r.get_int(I::Bytes), Some(39));
        assert_eq!(r.extra_json(), Some(r#"{"df":true}"#));
    }

    #[test]
    fn dns_truncated_and_responses() {
        let mut r = parse("1.2.3.4.1030 > 5.6.7.8.53: 2520 [1au][|domain]");
        assert_eq!(r.get_int(I::DnsId), Some(2520));
        assert_eq!(r.extra_json(), Some(r#"{"truncated":true}"#));
        let r = parse("5.6.7.8.53 > 1.2.3.4.1030: 2520 NXDomain 0/1/0 (102)");
        assert_eq!(r.get(S::DnsRcode), Some("NXDOMAIN"));
        let r = parse("5.6.7.8.53 > 1.2.3.4.1030: 2520 q: A? x.org. 1/0/0 A 9.9.9.9 (55)");
        assert_eq!(r.get(S::DnsRcode), Some("NOERROR"));
        assert_eq!(r.get(S::DnsQname), Some("x.org"));
        let r = parse("10.0.0.1.5353 > 224.0.0.251.5353: 0 [2q] PTR (QM)? _ipps._tcp.local. (45)");
        assert_eq!(r.get(S::DnsQtype), Some("PTR"));
        assert_eq!(r.get(S::DnsQname), Some("_ipps._tcp.local"));
    }

    #[test]
    fn tcp_old_style() {
        let mut r = parse(
            "1.2.3.4.1030 > 5.6.7.8.80: S 123:123(0) win 8192 <mss 1460,nop,nop,sackOK> (DF)",
        );
        assert_eq!(r.get(S::Protocol), Some("tcp"));
        assert_eq!(r.get(S::TcpFlags), Some("S"));
        assert_eq!(r.get_int(I::Bytes), Some(0));
        assert_eq!(r.extra_json(), Some(r#"{"df":true,"seq":123,"win":8192}"#));
        let r = parse("1.2.3.4.1030 > 5.6.7.8.80: . ack 99 win 65535");
        assert_eq!(r.get(S::TcpFlags), Some("."));
        let r = parse("1.2.3.4.1030 > 5.6.7.8.80: P 1:10(9) ack 3 win 5840");
        assert_eq!(r.get(S::TcpFlags), Some("P."));
        assert_eq!(r.get_int(I::Bytes), Some(9));
        let r = parse("1.2.3.4.1030 > 5.6.7.8.80: R 5:5(0) win 0");
        assert_eq!(r.get(S::TcpFlags), Some("R"));
    }

    #[test]
    fn tcp_new_style_and_ipv6() {
        let mut r = parse(
            "2001:db8::1.22 > 2001:db8::2.51234: Flags [P.], seq 1:37, ack 1, win 501, options [nop,nop,TS val 1 ecr 2], length 36",
        );
        assert_eq!(r.get(S::SrcIp), Some("2001:db8::1"));
        assert_eq!(r.get_int(I::SrcPort), Some(22));
        assert_eq!(r.get(S::DstIp), Some("2001:db8::2"));
        assert_eq!(r.get(S::TcpFlags), Some("P."));
        assert_eq!(r.get_int(I::Bytes), Some(36));
        assert_eq!(r.extra_json(), Some(r#"{"seq":1,"ack":1,"win":501}"#));
    }

    #[test]
    fn udp_and_icmp() {
        let r = parse("1.2.3.4.1030 > 5.6.7.8.123: udp 48");
        assert_eq!(r.get(S::Protocol), Some("udp"));
        assert_eq!(r.get_int(I::Bytes), Some(48));
        let mut r = parse("1.2.3.4 > 5.6.7.8: icmp: echo request (DF)");
        assert_eq!(r.get(S::Protocol), Some("icmp"));
        assert_eq!(r.get_int(I::SrcPort), None);
        assert_eq!(r.extra_json(), Some(r#"{"df":true,"icmp":"echo request"}"#));
        let mut r = parse("10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64");
        assert_eq!(r.get_int(I::Bytes), Some(64));
        assert_eq!(r.extra_json(), Some(r#"{"icmp":"echo request"}"#));
        let r = parse("fe80::1 > ff02::1: ICMP6, router advertisement, length 56");
        assert_eq!(r.get(S::Protocol), Some("icmp6"));
        assert_eq!(r.get(S::DstIp), Some("ff02::1"));
    }

    /// The one-pass reader of IPv4 endpoints gives what the general reader gives,
    /// whenever it gives anything.
    fn same_as_general(body: &str) -> bool {
        let Some(e) = endpoints_v4(body) else {
            return false;
        };
        let mut r = Row::default();
        let (sp, dp, payload) = endpoints(body, &mut r).expect("general path accepts it too");
        assert_eq!(r.get(S::SrcIp), Some(e.src), "{body}");
        assert_eq!(r.get(S::DstIp), Some(e.dst), "{body}");
        assert_eq!((sp, dp, payload), (e.sport, e.dport, e.payload), "{body}");
        assert_eq!(r.get_int(I::SrcPort), e.sport, "{body}");
        assert_eq!(r.get_int(I::DstPort), e.dport, "{body}");
        true
    }

    #[test]
    fn ipv4_endpoints_fast_path_matches_general() {
        for body in [
            "1.2.3.4.1030 > 5.6.7.8.53: x",
            "1.2.3.4 > 5.6.7.8: icmp: echo request",
            "1.2.3.4.0 > 5.6.7.8.65535: ",
            "255.255.255.255.1 > 0.0.0.0.2: a: b > c",
        ] {
            assert!(same_as_general(body), "{body}");
        }
        // Left to the general path (which accepts or rejects them itself).
        for body in [
            "1.2.3.4.65536 > 5.6.7.8.53: x",
            "1.2.3.4.001030 > 5.6.7.8.53: x",
            "1.2.3.4. > 5.6.7.8.53: x",
            "1.2.3.4.80x > 5.6.7.8.53: x",
            "1.2.3.4567.80 > 5.6.7.8.53: x",
            "1.2.3.4.80 > 5.6.7.8.53:",
            "1.2.3.4.80  > 5.6.7.8.53: x",
            "2001:db8::1.22 > 2001:db8::2.51234: x",
            "1.2.3.4.80 > 5.6.7.8.53.1: x",
        ] {
            assert!(endpoints_v4(body).is_none(), "{body}");
        }
    }

    proptest::proptest! {
        #[test]
        fn ipv4_endpoints_agree_on_generated_bodies(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::string::string_regex("[0-9]{1,4}").unwrap(),
                    proptest::strategy::Just(".".to_string()),
                    proptest::strategy::Just(" > ".to_string()),
                    proptest::strategy::Just(": ".to_string()),
                    proptest::strategy::Just(":".to_string()),
                    proptest::strategy::Just(" ".to_string()),
                    proptest::strategy::Just("a".to_string()),
                ],
                0..24,
            )
        ) {
            let body: String = parts.concat();
            let _ = same_as_general(&body);
        }

        #[test]
        fn ipv4_endpoints_agree_on_address_shapes(
            a in proptest::collection::vec(0u32..300, 8),
            sp in proptest::option::of(0u32..70_000),
            dp in proptest::option::of(0u32..70_000),
            zeros in 0usize..3,
        ) {
            let port = |p: Option<u32>| p.map(|p| format!(".{}{p}", "0".repeat(zeros))).unwrap_or_default();
            let body = format!(
                "{}.{}.{}.{}{} > {}.{}.{}.{}{}: payload",
                a[0], a[1], a[2], a[3], port(sp), a[4], a[5], a[6], a[7], port(dp)
            );
            let fast = same_as_general(&body);
            let plain = a.iter().all(|&o| o <= 255)
                && sp.is_none_or(|p| p <= 65_535 && zeros + p.to_string().len() <= 5)
                && dp.is_none_or(|p| p <= 65_535 && zeros + p.to_string().len() <= 5);
            proptest::prop_assert_eq!(fast, plain, "{}", body);
        }
    }

    #[test]
    fn names_are_rejected_with_a_hint() {
        let mut r = Row::default();
        let e =
            parse_body("www.example.com.http > 5.6.7.8.80: S 1:1(0) win 1", &mut r).unwrap_err();
        assert_eq!(e.reason, RejectReason::BadAddress);
        assert!(e.detail.contains("tcpdump -n"));
        let e = parse_body("1.2.3.4.99999 > 5.6.7.8.80: S 1:1(0) win 1", &mut r).unwrap_err();
        assert_eq!(e.reason, RejectReason::BadPort);
    }
}
