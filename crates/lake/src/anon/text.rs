//! Finding and replacing IP addresses inside free text (`raw`, `message`, `extra`, ...).
//!
//! Anonymizing only the address columns would leave every original address in the raw
//! line next to it. This scanner finds dotted-quad IPv4 (also followed by a port, as
//! pf/tcpdump print `1.2.3.4.1030`, or reversed in `4.3.2.1.in-addr.arpa`) and IPv6
//! (validated by the standard parser), and rewrites each through the caller's mapping.
//! It errs on the side of anonymizing: a four-part version number with parts ≤ 255
//! is rewritten too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Rewrites every address in `s` through `map`; `None` when `s` holds no address.
pub fn replace_addresses(s: &str, map: &mut dyn FnMut(IpAddr) -> IpAddr) -> Option<String> {
    let b = s.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0; // bytes of `s` already copied to `out`
    let mut i = 0;
    while i < b.len() {
        if !is_addr_byte(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_addr_byte(b[i]) {
            i += 1;
        }
        // The run must not be glued to a word (`abc1.2.3.4` is not an address).
        if start > 0 && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_') {
            continue;
        }
        for (from, to, text) in addresses_in_run(s, start, i, map) {
            let o = out.get_or_insert_with(|| String::with_capacity(s.len() + 16));
            o.push_str(&s[copied..from]);
            o.push_str(&text);
            copied = to;
        }
    }
    out.map(|mut o| {
        o.push_str(&s[copied..]);
        o
    })
}

fn is_addr_byte(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b'.' || c == b':'
}

/// The addresses in the run `s[start..end]`, as (from, to, replacement).
fn addresses_in_run(
    s: &str,
    start: usize,
    end: usize,
    map: &mut dyn FnMut(IpAddr) -> IpAddr,
) -> Vec<(usize, usize, String)> {
    let run = &s[start..end];
    let mut found = Vec::new();
    if run.bytes().filter(|&c| c == b':').count() >= 2 {
        // IPv6, possibly with a trailing `.` or `:` of the sentence or a `:port`.
        let trimmed = run.trim_end_matches(['.', ':']);
        if let Some((len, v6)) = longest_ipv6(trimmed)
            && trimmed.bytes().any(|c| c.is_ascii_hexdigit())
        {
            found.push((start, start + len, map(IpAddr::V6(v6)).to_string()));
            return found;
        }
    }
    // IPv4 dotted quads, in each `:`-separated piece (`1.2.3.4:80`).
    let mut piece_start = start;
    for piece in run.split(':') {
        find_quads(s, piece_start, piece_start + piece.len(), map, &mut found);
        piece_start += piece.len() + 1;
    }
    found
}

/// The longest prefix of `run` that parses as IPv6, trying the whole run and then
/// without a trailing `:port`.
fn longest_ipv6(run: &str) -> Option<(usize, Ipv6Addr)> {
    if let Ok(v6) = run.parse::<Ipv6Addr>() {
        return Some((run.len(), v6));
    }
    let cut = run.rfind(':')?;
    run[..cut].parse::<Ipv6Addr>().ok().map(|v6| (cut, v6))
}

/// Dotted quads among the `.`-separated parts of `s[start..end]`.
fn find_quads(
    s: &str,
    start: usize,
    end: usize,
    map: &mut dyn FnMut(IpAddr) -> IpAddr,
    found: &mut Vec<(usize, usize, String)>,
) {
    let piece = &s[start..end];
    let parts: Vec<&str> = piece.split('.').collect();
    let octet = |p: &str| -> Option<u8> {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        p.parse::<u16>().ok().and_then(|v| u8::try_from(v).ok())
    };
    let mut offsets = Vec::with_capacity(parts.len());
    let mut off = start;
    for p in &parts {
        offsets.push(off);
        off += p.len() + 1;
    }
    let mut k = 0;
    while k + 4 <= parts.len() {
        let quad: Option<Vec<u8>> = parts[k..k + 4].iter().map(|p| octet(p)).collect();
        // A fifth numeric part of more than three digits glued before is not a quad
        // (`1234.1.2.3.4` is caught by the word check of the caller).
        let Some(q) = quad else {
            k += 1;
            continue;
        };
        let from = offsets[k];
        let to = offsets[k + 3] + parts[k + 3].len();
        let reversed = s[to..]
            .get(..13)
            .is_some_and(|t| t.eq_ignore_ascii_case(".in-addr.arpa"));
        let text = if reversed {
            let ip = Ipv4Addr::new(q[3], q[2], q[1], q[0]);
            let IpAddr::V4(a) = map(IpAddr::V4(ip)) else {
                unreachable!("IPv4 maps to IPv4")
            };
            let o = a.octets();
            format!("{}.{}.{}.{}", o[3], o[2], o[1], o[0])
        } else {
            map(IpAddr::V4(Ipv4Addr::new(q[0], q[1], q[2], q[3]))).to_string()
        };
        found.push((from, to, text));
        k += 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A visible mapping for tests: every address becomes a fixed one of its family.
    fn fixed(ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V4(v) => IpAddr::V4(Ipv4Addr::new(9, 9, 9, v.octets()[3])),
            IpAddr::V6(_) => "2001:db8::99".parse().unwrap(),
        }
    }

    fn rewrite(s: &str) -> String {
        replace_addresses(s, &mut fixed).unwrap_or_else(|| s.to_string())
    }

    #[test]
    fn rewrites_the_addresses_of_real_log_shapes() {
        assert_eq!(
            rewrite(
                "rule 57/0(match): pass in on xl1: 195.141.69.45.1030 > 61.215.160.253.53: 2520"
            ),
            "rule 57/0(match): pass in on xl1: 9.9.9.45.1030 > 9.9.9.253.53: 2520"
        );
        assert_eq!(
            rewrite("Failed password for root from 10.0.0.7 port 22 ssh2"),
            "Failed password for root from 9.9.9.7 port 22 ssh2"
        );
        assert_eq!(
            rewrite("GET http://10.1.2.3:8080/x"),
            "GET http://9.9.9.3:8080/x"
        );
        assert_eq!(
            rewrite("{\"ip\":\"fe80::1\",\"p\":1}"),
            "{\"ip\":\"2001:db8::99\",\"p\":1}"
        );
        assert_eq!(rewrite("from 2001:db8:1::5."), "from 2001:db8::99.");
        assert_eq!(rewrite("[2001:db8::5]:443"), "[2001:db8::99]:443");
        assert_eq!(
            rewrite("PTR? 4.3.2.1.in-addr.arpa."),
            "PTR? 4.9.9.9.in-addr.arpa."
        );
        assert_eq!(rewrite("a,10.0.0.1,b,10.0.0.2"), "a,9.9.9.1,b,9.9.9.2");
    }

    #[test]
    fn leaves_text_without_addresses_alone() {
        for s in [
            "Mozilla/5.0 Chrome/91.0.4472.124",
            "06:06:58.096785",
            "00:11:22:33:44:55",
            "std::vector",
            "version 300.1.2.3",
            "host1.2.3.4",
            "",
        ] {
            assert_eq!(replace_addresses(s, &mut fixed), None, "{s}");
        }
    }
}
