//! Byte-level scanning helpers shared by the text parsers: numbers, addresses, ports,
//! words. No allocation, no regex: these run once or more per input line.

use std::net::IpAddr;

use super::Bad;
use crate::printable::quoted;
use crate::reject::RejectReason;
use crate::row::{Row, S};

/// Where `needle` first occurs in `hay`, as `memchr::memmem::find` says. That function
/// builds a searcher on every call, which cost more than a third of a syslog parse:
/// log lines are short and the needles are a few bytes. Here `memchr` finds the
/// needle's first byte and the rest is compared. On a long haystack (a hostile line
/// of one repeated byte would make that quadratic) the linear-time searcher is used.
#[inline]
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let Some((&first, rest)) = needle.split_first() else {
        return Some(0);
    };
    if hay.len() > SHORT_HAYSTACK {
        return memchr::memmem::find(hay, needle);
    }
    let last = hay.len().checked_sub(needle.len())?;
    let tail_matches = |at: usize| {
        hay[at + 1..at + needle.len()]
            .iter()
            .zip(rest)
            .all(|(a, b)| a == b)
    };
    if hay.len() <= TINY_HAYSTACK {
        // A few words: a byte loop, without a call per candidate.
        return (0..=last).find(|&at| hay[at] == first && tail_matches(at));
    }
    let mut from = 0;
    while from <= last {
        let at = from + memchr::memchr(first, &hay[from..=last])?;
        // Compared inline: a call to `memcmp` for a few bytes cost more than the search.
        if tail_matches(at) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Haystacks up to this long are searched byte by byte by [`find`].
const TINY_HAYSTACK: usize = 48;

/// Haystacks up to this long are searched by [`find`] itself (most log lines).
const SHORT_HAYSTACK: usize = 512;

/// The searcher for a fixed needle, built once. For the phrases looked for in whole
/// messages (sshd and PAM): its vector search skips what [`find`] would stop at for
/// each occurrence of the needle's first byte (measured on syslog: 0.37 s with [`find`],
/// 0.31 s with these).
macro_rules! finder {
    ($needle:literal) => {{
        static F: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new($needle));
        &*F
    }};
}
pub(crate) use finder;

/// Unsigned decimal number filling the whole string.
#[inline]
pub(crate) fn uint(s: &str) -> Option<u64> {
    uint_bytes(s.as_bytes())
}

/// [`uint`] on bytes.
#[inline]
pub(crate) fn uint_bytes(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut v = 0u64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    Some(v)
}

/// A port number 0-65535.
#[inline]
pub(crate) fn port(s: &str) -> Option<i64> {
    uint(s).filter(|&p| p <= 65_535).map(|p| p as i64)
}

/// Length of the leading run of ASCII digits.
#[inline]
pub(crate) fn digit_run(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// True if `s` is a dotted-quad IPv4 address (no leading `+`, each octet 0-255,
/// at most three digits). One pass, by [`ipv4_prefix`]: the check that first measured
/// each octet's digits and then read them cost a tenth of a syslog parse.
#[inline]
pub(crate) fn is_ipv4(s: &str) -> bool {
    ipv4_prefix(s.as_bytes()) == Some(s.len())
}

/// Length of a valid dotted-quad IPv4 address at the start of `b`.
#[inline]
pub(crate) fn ipv4_prefix(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    for octet in 0..4 {
        if octet > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let d0 = b.get(i).copied().filter(u8::is_ascii_digit)?;
        let mut v = u32::from(d0 - b'0');
        i += 1;
        for _ in 0..2 {
            match b.get(i) {
                Some(&c) if c.is_ascii_digit() => {
                    v = v * 10 + u32::from(c - b'0');
                    i += 1;
                }
                _ => break,
            }
        }
        if v > 255 {
            return None;
        }
    }
    Some(i)
}

/// Sets an address column after checking it. IPv4 text is stored as given (it is
/// canonical once checked, apart from leading zeros, which are rare and kept); IPv6
/// is stored in its canonical lower-case form so the same host always looks the same.
pub(crate) fn set_ip<'a>(row: &mut Row<'a>, c: S, s: &'a str) -> Result<(), Bad> {
    if is_ipv4(s) {
        row.set(c, s);
        return Ok(());
    }
    set_ip_slow(row, c, s)
}

/// Like [`set_ip`] for a value that does not outlive the call (copied).
pub(crate) fn set_ip_copy(row: &mut Row<'_>, c: S, s: &str) -> Result<(), Bad> {
    if is_ipv4(s) {
        row.set_copy(c, s);
        return Ok(());
    }
    set_ip_slow(row, c, s)
}

#[cold]
fn set_ip_slow(row: &mut Row<'_>, c: S, s: &str) -> Result<(), Bad> {
    let (addr, zone) = match s.split_once('%') {
        Some((a, z)) => (a, Some(z)),
        None => (s, None),
    };
    match addr.parse::<IpAddr>() {
        Ok(IpAddr::V6(a)) if s.len() <= 64 => {
            row.set_with(c, |out| {
                use std::fmt::Write as _;
                let _ = write!(out, "{a}");
                if let Some(z) = zone {
                    out.push('%');
                    out.push_str(z);
                }
            });
            Ok(())
        }
        _ => Err(bad_address(s)),
    }
}

#[cold]
pub(crate) fn bad_address(s: &str) -> Bad {
    let shown: String = s.chars().take(64).collect();
    Bad::new(
        RejectReason::BadAddress,
        format!("{} is not an IP address", quoted(&shown)),
    )
}

#[cold]
pub(crate) fn bad_port(s: &str) -> Bad {
    let shown: String = s.chars().take(32).collect();
    Bad::new(
        RejectReason::BadPort,
        format!("port {} is not a number 0-65535", quoted(&shown)),
    )
}

/// Splits off the first space-separated word: (word, rest after the space).
#[inline]
pub(crate) fn word(s: &str) -> (&str, &str) {
    // Words are short: a plain loop beats a SIMD search's setup here.
    match pos(s.as_bytes(), b' ') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    }
}

/// Space-separated words (empty words between double spaces included), like
/// `split(' ')` but with a plain byte loop, faster on short lines.
pub(crate) fn words(s: &str) -> Words<'_> {
    Words(Some(s))
}

pub(crate) struct Words<'a>(Option<&'a str>);

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let s = self.0?;
        match pos(s.as_bytes(), b' ') {
            Some(i) => {
                self.0 = Some(&s[i + 1..]);
                Some(&s[..i])
            }
            None => {
                self.0 = None;
                Some(s)
            }
        }
    }
}

/// `s` up to the first `b` (all of `s` without one): `s.split(b).next()` without a
/// char searcher, for short values.
#[inline]
pub(crate) fn before(s: &str, b: u8) -> &str {
    debug_assert!(b.is_ascii());
    pos(s.as_bytes(), b).map_or(s, |i| &s[..i])
}

/// The leading ASCII digits of `s`: `s.split(|c: char| !c.is_ascii_digit()).next()`.
#[inline]
pub(crate) fn leading_digits(s: &str) -> &str {
    &s[..digit_run(s.as_bytes())]
}

/// Position of a byte in a short slice.
#[inline]
pub(crate) fn pos(b: &[u8], c: u8) -> Option<usize> {
    b.iter().position(|&x| x == c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_checks() {
        assert!(is_ipv4("195.141.69.45"));
        assert!(is_ipv4("0.0.0.0"));
        assert!(!is_ipv4("256.1.1.1"));
        assert!(!is_ipv4("1.2.3"));
        assert!(!is_ipv4("1.2.3.4.5"));
        assert!(!is_ipv4("1.2.3.4 "));
        assert!(!is_ipv4("1..3.4"));
        assert!(!is_ipv4(""));
        assert!(!is_ipv4("1234.1.1.1"));
        assert!(!is_ipv4("1.2.3.4567"));
        assert!(!is_ipv4("1.2.3.+4"));
        assert!(!is_ipv4("1.2.3."));
        assert!(is_ipv4("001.02.3.255"));
        assert_eq!(ipv4_prefix(b"10.0.61.131.26814 >"), Some(11));
        assert_eq!(ipv4_prefix(b"10.0.61"), None);
    }

    #[test]
    fn ipv6_is_canonicalised() {
        let mut r = Row::default();
        set_ip(&mut r, S::SrcIp, "2001:DB8:0:0::1").unwrap();
        assert_eq!(r.get(S::SrcIp), Some("2001:db8::1"));
        set_ip(&mut r, S::DstIp, "fe80::1%em0").unwrap();
        assert_eq!(r.get(S::DstIp), Some("fe80::1%em0"));
        assert!(set_ip(&mut r, S::DstIp, "www.example.com").is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(uint("0065535"), Some(65_535));
        assert_eq!(port("65536"), None);
        assert_eq!(uint(""), None);
        assert_eq!(uint("99999999999999999999"), None);
        assert_eq!(word("a b c"), ("a", "b c"));
        assert_eq!(find(b"echo request, id 1", b", id "), Some(12));
        assert_eq!(find(b"ab", b"abc"), None);
        assert_eq!(find(b"aab", b"ab"), Some(1));
        assert_eq!(find(b"ab", b"ab"), Some(0));
        assert_eq!(find(b"x aa a", b"a a"), Some(3));
        let long = format!("{}needle", "n".repeat(2 * SHORT_HAYSTACK));
        assert_eq!(find(long.as_bytes(), b"needle"), Some(2 * SHORT_HAYSTACK));
        assert_eq!(find(b"abc", b""), Some(0));
    }
}
