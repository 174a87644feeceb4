//! What tcpdump prints after the addresses, for TCP and DNS: flags (old `S 1:1(0) ack 2
//! win 512` and new `Flags [S.], seq 1, ack 2, win 512, length 0` styles), sequence and
//! window numbers, and DNS queries and responses (`2520+ [1au] MX? www.com.ar. (39)`).
//! Called by [`super::packet::parse_body`].

use memchr::memchr;

use super::scan::{self, uint, uint_bytes};
use super::{Bad, bad};
use crate::reject::RejectReason;
use crate::row::{I, Row, S};

/// OCSF class name written to `event_class` for DNS (here, not in `packet`, which calls
/// this module: the two do not import each other).
pub(crate) const DNS: &str = "dns_activity";

/// TCP flag bits in tcpdump's printing order.
const FLAG_CHARS: [(u8, char); 8] = [
    (0x01, 'F'),
    (0x02, 'S'),
    (0x04, 'R'),
    (0x08, 'P'),
    (0x10, '.'),
    (0x20, 'U'),
    (0x40, 'E'),
    (0x80, 'W'),
];

/// Writes TCP flag bits the way tcpdump prints them (`S`, `S.`, `P.`, `F.`, `R`).
pub(crate) fn write_flags(out: &mut String, bits: u8) {
    for (bit, c) in FLAG_CHARS {
        if bits & bit != 0 {
            out.push(c);
        }
    }
}

/// Sets the `tcp_flags` column: the common combinations from static text (no copy),
/// the others written by [`write_flags`]. Same text either way.
#[inline]
pub(crate) fn set_flags(row: &mut Row<'_>, bits: u8) {
    let common = match bits {
        0x02 => "S",
        0x12 => "S.",
        0x10 => ".",
        0x18 => "P.",
        0x11 => "F.",
        0x04 => "R",
        0x14 => "R.",
        0x19 => "FP.",
        0x08 => "P",
        0x01 => "F",
        0x00 => "",
        _ => return row.set_with(S::TcpFlags, |o| write_flags(o, bits)),
    };
    row.set(S::TcpFlags, common);
}

/// The bit of a flag letter (the inverse of [`FLAG_CHARS`]).
#[inline]
fn flag_bit(c: u8) -> Option<u8> {
    Some(match c {
        b'F' => 0x01,
        b'S' => 0x02,
        b'R' => 0x04,
        b'P' => 0x08,
        b'.' => 0x10,
        b'U' => 0x20,
        b'E' => 0x40,
        b'W' => 0x80,
        _ => return None,
    })
}

/// Old tcpdump (pf era): the payload starts with a flags word (`S`, `.`, `FP`, ...).
#[inline]
pub(crate) fn old_tcp_flags(payload: &str) -> Option<u8> {
    let (w, _) = scan::word(payload);
    if w.is_empty() || w.len() > 8 {
        return None;
    }
    let mut bits = 0;
    for &c in w.as_bytes() {
        bits |= flag_bit(c)?;
    }
    Some(bits)
}

/// `S 123:123(0) win 8192 <mss 1460>`, `. ack 1 win 65535`, `P 1:10(9) ack 1 win 5840`.
///
/// One pass over the bytes (no word slices scanned twice): the words after the flags
/// are read in place; same results as splitting on single spaces and reading each word.
pub(crate) fn tcp_old(payload: &str, mut bits: u8, row: &mut Row<'_>) -> Result<(), Bad> {
    row.set(S::Protocol, "tcp");
    let b = payload.as_bytes();
    // Skip the flags word and its space.
    let mut i = match scan::pos(b, b' ') {
        Some(n) => n + 1,
        None => b.len() + 1,
    };
    while i <= b.len() {
        let end = word_end(b, i);
        let w = &b[i..end];
        match w {
            [b'<' | b'[' | b'(', ..] => break,
            b"ack" | b"win" | b"urg" => {
                // The value is the next word (if any).
                let (v, next) = if end < b.len() {
                    let ve = word_end(b, end + 1);
                    (Some(&b[end + 1..ve]), ve + 1)
                } else {
                    (None, end + 1)
                };
                match w[0] {
                    b'a' => {
                        bits |= 0x10;
                        if let Some(v) = v.and_then(uint_bytes) {
                            row.extra().int_lit("ack", v as i64);
                        }
                    }
                    b'w' => {
                        if let Some(v) = v.and_then(uint_bytes) {
                            row.extra().int_lit("win", v as i64);
                        }
                    }
                    _ => bits |= 0x20,
                }
                i = next;
                continue;
            }
            _ => seq_word(w, row),
        }
        i = end + 1;
    }
    set_flags(row, bits);
    Ok(())
}

/// End of the space-separated word starting at `i` (the next space or the end).
#[inline]
fn word_end(b: &[u8], i: usize) -> usize {
    match scan::pos(&b[i..], b' ') {
        Some(n) => i + n,
        None => b.len(),
    }
}

/// `seq:end(len)`: the sequence number into `extra`, the length into `bytes`.
#[inline]
fn seq_word(w: &[u8], row: &mut Row<'_>) {
    let Some(c) = scan::pos(w, b':') else { return };
    let Some(p) = scan::pos(w, b'(') else { return };
    if c < p && w.last() == Some(&b')') {
        if let Some(seq) = uint_bytes(&w[..c]) {
            row.extra().int_lit("seq", seq as i64);
        }
        if let Some(len) = uint_bytes(&w[p + 1..w.len() - 1]) {
            row.set_int(I::Bytes, len as i64);
        }
    }
}

/// `S.], seq 1:37, ack 1, win 501, options [...], length 36[: app data]`.
pub(crate) fn tcp_new(rest: &str, row: &mut Row<'_>) -> Result<(), Bad> {
    row.set(S::Protocol, "tcp");
    let Some(end) = memchr(b']', rest.as_bytes()) else {
        return bad(RejectReason::Unrecognized, "unterminated \"Flags [\"");
    };
    let f = &rest[..end];
    let mut bits = 0;
    if f != "none" {
        for &c in f.as_bytes() {
            bits |= flag_bit(c).unwrap_or(0);
        }
    }
    set_flags(row, bits);
    for item in items(&rest[end + 1..]) {
        let item = item.trim_start_matches(',');
        let (k, v) = scan::word(item);
        match k {
            "seq" => {
                if let Some(v) = uint(scan::before(v, b':')) {
                    row.extra().int_lit("seq", v as i64);
                }
            }
            "ack" => {
                if let Some(v) = uint(v) {
                    row.extra().int_lit("ack", v as i64);
                }
            }
            "win" => {
                if let Some(v) = uint(v) {
                    row.extra().int_lit("win", v as i64);
                }
            }
            "length" => {
                let n = scan::leading_digits(v);
                if let Some(v) = uint(n) {
                    row.set_int(I::Bytes, v as i64);
                }
                break;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The items of a new-style TCP payload after its flags, split at `", "` exactly as
/// `str::split(", ")` would. The separator's comma is looked for with a byte loop: the
/// general [`scan::find`] spent a tenth of a tcpdump parse here, on payloads of a few
/// dozen bytes.
fn items(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let s = rest?;
        let b = s.as_bytes();
        let mut i = 0;
        while i + 1 < b.len() {
            if b[i] == b',' && b[i + 1] == b' ' {
                rest = Some(&s[i + 2..]);
                return Some(&s[..i]);
            }
            i += 1;
        }
        rest = None;
        Some(s)
    })
}

/// DNS as tcpdump prints it: `2520+ [1au] MX? www.com.ar. (39)` (query),
/// `2520 q: A? x. 1/0/0 A 1.2.3.4 (55)` or `2520 NXDomain 0/1/0 (102)` (response),
/// `2520 [1au][|domain]` (cut by the snapshot length).
pub(crate) fn dns<'a>(payload: &'a str, row: &mut Row<'a>) {
    let b = payload.as_bytes();
    let n = scan::digit_run(b);
    let Some(id) = uint(&payload[..n]).filter(|&v| v <= 65_535) else {
        return;
    };
    row.set(S::EventClass, DNS);
    row.set_int(I::DnsId, id as i64);
    let mut response = false;
    let mut rcode: Option<&str> = None;
    let mut words = scan::words(&payload[n..]);
    let mut len = None;
    while let Some(w) = words.next() {
        if w.as_bytes().contains(&b'|') && w.contains("[|domain]") {
            row.extra().bool("truncated", true);
            break;
        }
        if let Some(t) = w.strip_suffix('?') {
            // mDNS prints "PTR (QM)?": then the type was the word before.
            if t != "(QM)" && t != "(QU)" && !t.is_empty() {
                row.set(S::DnsQtype, t);
            }
            if let Some(name) = words.next() {
                set_qname(row, name);
            }
            continue;
        }
        if w == "q:" {
            response = true;
            continue;
        }
        if let Some(code) = rcode_name(w) {
            rcode = Some(code);
            response = true;
            continue;
        }
        if is_counts(w) {
            response = true;
            continue;
        }
        if w.len() > 2 && w.starts_with('(') && w.ends_with(')') {
            len = uint(&w[1..w.len() - 1]);
        }
        if !row.has(S::DnsQtype) && is_type_word(w) {
            // mDNS type before "(QM)?"
            row.set(S::DnsQtype, w);
        }
    }
    if response {
        row.set(S::DnsRcode, rcode.unwrap_or("NOERROR"));
    }
    if let Some(l) = len {
        row.set_int(I::Bytes, l as i64);
    }
}

fn set_qname<'a>(row: &mut Row<'a>, name: &'a str) {
    let name = if name.len() > 1 {
        name.strip_suffix('.').unwrap_or(name)
    } else {
        name
    };
    row.set(S::DnsQname, name);
}

/// `1/0/0`: answer/authority/additional counts of a response.
fn is_counts(w: &str) -> bool {
    let mut parts = w.split('/');
    let ok = (0..3).all(|_| parts.next().is_some_and(|p| uint(p).is_some()));
    ok && parts.next().is_none()
}

fn is_type_word(w: &str) -> bool {
    matches!(
        w,
        "A" | "AAAA" | "PTR" | "MX" | "TXT" | "NS" | "SRV" | "SOA" | "CNAME" | "ANY" | "HINFO"
    )
}

/// tcpdump's rcode names to the RFC mnemonics Zeek also uses.
fn rcode_name(w: &str) -> Option<&'static str> {
    Some(match w {
        "FormErr" => "FORMERR",
        "ServFail" => "SERVFAIL",
        "NXDomain" => "NXDOMAIN",
        "NotImp" => "NOTIMP",
        "Refused" => "REFUSED",
        "YXDomain" => "YXDOMAIN",
        "YXRRSet" => "YXRRSET",
        "NXRRSet" => "NXRRSET",
        "NotAuth" => "NOTAUTH",
        "NotZone" => "NOTZONE",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_letters_round_trip() {
        for c in 0..=255u8 {
            let want = FLAG_CHARS
                .iter()
                .find(|(_, ch)| *ch as u8 == c)
                .map(|(b, _)| *b);
            assert_eq!(flag_bit(c), want, "{c}");
        }
    }

    #[test]
    fn static_flags_match_written_ones() {
        for bits in 0..=255u8 {
            let mut want = String::new();
            write_flags(&mut want, bits);
            let mut r = Row::default();
            set_flags(&mut r, bits);
            assert_eq!(r.get(S::TcpFlags), Some(want.as_str()), "{bits:#x}");
        }
    }

    #[test]
    fn tcp_items_split_like_str_split() {
        for s in [
            ", seq 1:37, ack 1, win 501, options [mss 1460,nop,TS val 1 ecr 0], length 36",
            ", seq 636770946, win 34220, length 220",
            "",
            ",",
            ", ",
            ",,  , ,",
            "no separator",
            "ends with a comma,",
            "ends with the separator, ",
            ", , ",
        ] {
            assert_eq!(
                items(s).collect::<Vec<_>>(),
                s.split(", ").collect::<Vec<_>>(),
                "{s:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn tcp_items_split_like_str_split_on_any_text(s in "[, a1é]{0,24}") {
            proptest::prop_assert_eq!(
                items(&s).collect::<Vec<_>>(),
                s.split(", ").collect::<Vec<_>>()
            );
        }
    }
}
