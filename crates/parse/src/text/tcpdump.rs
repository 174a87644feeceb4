//! tcpdump text output (`tcpdump -n`), with any of its time stamps: none (`-t`),
//! time of day (default), epoch (`-tt`), date and time (`-tttt`), or the month-day
//! form of pflog (`-ttt` on OpenBSD). Link headers of `-e` and the interface and
//! direction of `-i any` are understood. The packet part is read by
//! [`super::packet::parse_body`].

use super::packet::{NETWORK, parse_body};
use super::scan::{self, set_ip};
use super::{Bad, LineParser, Outcome, bad, count};
use crate::reject::RejectReason;
use crate::row::{Row, S};
use crate::time::{self, DayGuess, YearGuess, digits, hms_frac, micros};

/// Reads the leading time stamp of a packet line and resolves missing years/dates.
#[derive(Clone)]
pub(crate) struct Clock {
    year: YearGuess,
    day: DayGuess,
    /// The last `Mon DD ` prefix that resolved, and midnight of its day: consecutive
    /// lines of a log mostly share the day, so the calendar work is done once per day.
    /// Only set right after the year guess saw that very prefix, and cleared before it
    /// sees another, so skipping the guess on a hit leaves its state as it would be.
    last_day: Option<([u8; 7], i64)>,
}

impl Clock {
    pub fn new(year: Option<i32>, reference: i64) -> Self {
        let y = match year {
            Some(y) => YearGuess::explicit(y),
            None => YearGuess::from_reference(reference),
        };
        Clock {
            year: y,
            day: DayGuess::from_reference(reference),
            last_day: None,
        }
    }

    /// What the year rule decided, once a line was dated by it.
    pub fn year_note(&self) -> Option<crate::YearNote> {
        self.year.note()
    }

    /// The year and day rules' state (the day cache is left out: a hit gives what the
    /// rules would).
    pub fn key(&self) -> u64 {
        super::state_key((self.year.key(), self.day.key()))
    }

    pub fn crossings(&self) -> u32 {
        self.year.crossings()
    }

    pub fn set_crossings(&mut self, n: u32) {
        self.year.set_crossings(n);
    }

    /// Returns the time (None if the line has no time stamp) and the rest of the line.
    #[inline]
    pub fn leading<'a>(&mut self, line: &'a str) -> Result<(Option<i64>, &'a str), Bad> {
        let b = line.as_bytes();
        let Some(&c) = b.first() else {
            return Ok((None, line));
        };
        if c.is_ascii_uppercase() {
            if let Some((key, midnight)) = self.last_day
                && b.get(..7) == Some(&key[..])
            {
                // Same `Mon DD ` as the last line that resolved: month, day and year
                // are as they were (see `last_day`).
                let (sod, us, n) = hms_frac(b, 7)
                    .ok_or_else(|| Bad::new(RejectReason::BadTime, "bad time of day"))?;
                let rest = after_space(line, 7 + n)?;
                return Ok((
                    Some(midnight + i64::from(us) + i64::from(sod) * time::MICROS_PER_SEC),
                    rest,
                ));
            }
            let Some(mo) = b.get(..3).and_then(time::month_from_abbr) else {
                return Ok((None, line));
            };
            // "Oct 21 06:06:58.096785 " or "Oct  1 06:06:58 "
            if b.get(3) != Some(&b' ') {
                return Ok((None, line));
            }
            let day = match (b.get(4), b.get(5)) {
                (Some(b' '), Some(d)) if d.is_ascii_digit() => u32::from(d - b'0'),
                _ => digits(b, 4, 2)
                    .ok_or_else(|| Bad::new(RejectReason::BadTime, "bad day of month"))?,
            };
            if b.get(6) != Some(&b' ') {
                return bad(RejectReason::BadTime, "bad day of month");
            }
            let (sod, us, n) =
                hms_frac(b, 7).ok_or_else(|| Bad::new(RejectReason::BadTime, "bad time of day"))?;
            self.last_day = None;
            let y = self.year.year_for(mo, day);
            let midnight = micros(y, mo, day, 0, 0, 0, 0).ok_or_else(|| {
                Bad::new(
                    RejectReason::BadTime,
                    format!("no day {day} in month {mo} of {y}"),
                )
            })?;
            let mut key = [0u8; 7];
            key.copy_from_slice(&b[..7]);
            self.last_day = Some((key, midnight));
            let rest = after_space(line, 7 + n)?;
            return Ok((
                Some(midnight + i64::from(us) + i64::from(sod) * time::MICROS_PER_SEC),
                rest,
            ));
        }
        if !c.is_ascii_digit() {
            return Ok((None, line));
        }
        if b.get(4) == Some(&b'-') {
            let (t, n) = time::iso8601_prefix(b)
                .ok_or_else(|| Bad::new(RejectReason::BadTime, "bad date and time"))?;
            return Ok((Some(t), after_space(line, n)?));
        }
        if b.get(2) == Some(&b':') {
            let (sod, us, n) =
                hms_frac(b, 0).ok_or_else(|| Bad::new(RejectReason::BadTime, "bad time of day"))?;
            return Ok((Some(self.day.at(sod, us)), after_space(line, n)?));
        }
        let n = scan::digit_run(b);
        if n >= 9 && b.get(n) == Some(&b'.') {
            let end = n + 1 + scan::digit_run(&b[n + 1..]);
            let t = time::epoch_secs(&line[..end])
                .ok_or_else(|| Bad::new(RejectReason::BadTime, "bad epoch time"))?;
            return Ok((Some(t), after_space(line, end)?));
        }
        Ok((None, line))
    }
}

#[inline]
fn after_space(line: &str, i: usize) -> Result<&str, Bad> {
    match line.as_bytes().get(i) {
        Some(b' ') => Ok(&line[i + 1..]),
        _ => bad(RejectReason::BadTime, "time stamp not followed by a space"),
    }
}

/// Parser for tcpdump text lines.
#[derive(Clone)]
pub(crate) struct TcpdumpParser {
    clock: Clock,
}

impl TcpdumpParser {
    pub fn new(year: Option<i32>, reference: i64) -> Self {
        TcpdumpParser {
            clock: Clock::new(year, reference),
        }
    }
}

impl LineParser for TcpdumpParser {
    fn year_note(&self) -> Option<crate::YearNote> {
        self.clock.year_note()
    }

    fn fork(&self) -> Box<dyn LineParser> {
        Box::new(self.clone())
    }

    fn state_key(&self) -> u64 {
        self.clock.key()
    }

    fn crossings(&self) -> u32 {
        self.clock.crossings()
    }

    fn set_crossings(&mut self, n: u32) {
        self.clock.set_crossings(n);
    }

    fn parse<'a>(&mut self, line: &'a str, row: &mut Row<'a>) -> Result<Outcome, Bad> {
        if line.starts_with([' ', '\t']) {
            return bad(
                RejectReason::Continuation,
                "indented continuation line (tcpdump -v output): run tcpdump without -v",
            );
        }
        let (t, rest) = self.clock.leading(line)?;
        row.time = t;
        let rest = interface_prefix(rest, row);
        let rest = link_prefix(rest)?;
        if let Some(body) = rest
            .strip_prefix("IP6 ")
            .or_else(|| rest.strip_prefix("IP "))
        {
            if body.starts_with('(') {
                return bad(
                    RejectReason::Unrecognized,
                    "tcpdump -v output (header in parentheses) is not supported: run tcpdump without -v",
                );
            }
            parse_body(body, row)?;
            return Ok(Outcome::Event);
        }
        if let Some(arp) = rest.strip_prefix("ARP, ").or_else(|| {
            (rest.starts_with("Request who-has ") || rest.starts_with("Reply ")).then_some(rest)
        }) {
            parse_arp(arp, row)?;
            return Ok(Outcome::Event);
        }
        if looks_like_body(rest) {
            // `-e` output: the ethertype prefix replaced "IP ".
            parse_body(rest, row)?;
            return Ok(Outcome::Event);
        }
        let (w, _) = scan::word(rest);
        let shown: String = w.chars().take(24).collect();
        Err(Bad::new(
            RejectReason::Unsupported,
            format!("not an IP or ARP packet ({shown})"),
        ))
    }
}

/// `eth0  In  IP ...` (tcpdump -i any, 4.99+): interface and direction.
fn interface_prefix<'a>(rest: &'a str, row: &mut Row<'a>) -> &'a str {
    // The name is the first word, of at most 32 bytes, and two spaces follow it: only
    // the line's first space is looked for, not a double space anywhere in the line.
    let b = rest.as_bytes();
    let i = match scan::pos(&b[..b.len().min(33)], b' ') {
        Some(i) if i > 0 && b.get(i + 1) == Some(&b' ') => i,
        _ => return rest,
    };
    let ifname = &rest[..i];
    let after = rest[i..].trim_start_matches(' ');
    let (dir, body) = scan::word(after);
    let d = match dir {
        "In" => "in",
        "Out" => "out",
        "B" | "M" | "P" => "in",
        _ => return rest,
    };
    let body = body.trim_start_matches(' ');
    row.set(S::Interface, ifname);
    row.set(S::Direction, d);
    body
}

/// Skips `-e` link headers: `MAC > MAC, ethertype IPv4 (0x0800), length 74: `,
/// including one 802.1Q tag.
fn link_prefix(rest: &str) -> Result<&str, Bad> {
    if !is_mac_start(rest) {
        return Ok(rest);
    }
    let Some(i) = scan::find(rest.as_bytes(), b"ethertype ") else {
        return Ok(rest);
    };
    let et = &rest[i + 10..];
    let after_len = |s: &'_ str| -> Option<usize> {
        let j = scan::find(s.as_bytes(), b", length ")?;
        let k = scan::find(&s.as_bytes()[j..], b": ")?;
        Some(j + k + 2)
    };
    if et.starts_with("IPv4") || et.starts_with("IPv6") {
        let n = after_len(et)
            .ok_or_else(|| Bad::new(RejectReason::Unrecognized, "link header without length"))?;
        return Ok(&et[n..]);
    }
    if et.starts_with("ARP") {
        // The caller recognises the ARP body by its first word ("Request"/"Reply").
        let n = after_len(et)
            .ok_or_else(|| Bad::new(RejectReason::Unrecognized, "link header without length"))?;
        return Ok(&et[n..]);
    }
    if et.starts_with("802.1Q")
        && let Some(j) = scan::find(et.as_bytes(), b"ethertype IPv")
    {
        let inner = &et[j + 10..];
        if let Some(k) = scan::find(inner.as_bytes(), b"), ") {
            return Ok(&inner[k + 3..]);
        }
    }
    let name: String = et
        .split([' ', ','])
        .next()
        .unwrap_or("")
        .chars()
        .take(24)
        .collect();
    Err(Bad::new(
        RejectReason::Unsupported,
        format!("not an IP or ARP packet (ethertype {name})"),
    ))
}

fn is_mac_start(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 17
        && b[2] == b':'
        && b[5] == b':'
        && b[14] == b':'
        && b[17] == b' '
        && b[..2].iter().all(u8::is_ascii_hexdigit)
}

/// `Request who-has 10.0.0.1 tell 10.0.0.2, length 28` or `Reply 10.0.0.1 is-at MAC`.
fn parse_arp<'a>(arp: &'a str, row: &mut Row<'a>) -> Result<(), Bad> {
    let arp = arp
        .strip_prefix("Ethernet (len 6), IPv4 (len 4), ")
        .unwrap_or(arp);
    row.set(S::EventClass, NETWORK);
    row.set(S::Protocol, "arp");
    row.set_int(crate::row::I::Packets, 1);
    let words: Vec<&str> = arp.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    match words.as_slice() {
        ["Request", "who-has", target, "tell", sender, ..] => {
            set_ip(row, S::SrcIp, sender)?;
            set_ip(row, S::DstIp, target)?;
            row.extra().str("arp", "request");
        }
        ["Reply", sender, "is-at", mac, ..] => {
            set_ip(row, S::SrcIp, sender)?;
            row.extra().str("arp", "reply");
            row.extra().str("mac", mac);
        }
        _ => {
            let (w, _) = scan::word(arp);
            row.extra().str("arp", w);
        }
    }
    Ok(())
}

/// `1.2.3.4.5 > 6.7.8.9.10: ...` without the "IP " prefix.
fn looks_like_body(s: &str) -> bool {
    let (w, rest) = scan::word(s);
    rest.starts_with("> ")
        && (w.bytes().next().is_some_and(|c| c.is_ascii_hexdigit()) || w.starts_with(':'))
}

/// Lines that look like tcpdump output.
pub(crate) fn sniff(lines: &[&str]) -> usize {
    let mut clock = Clock::new(None, 0);
    count(lines, |l| {
        let Ok((_, rest)) = clock.leading(l) else {
            return false;
        };
        let mut scratch = Row::default();
        let rest = interface_prefix(rest, &mut scratch);
        rest.starts_with("IP ")
            || rest.starts_with("IP6 ")
            || rest.starts_with("ARP, ")
            || is_mac_start(rest)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::I;

    fn parse(line: &str) -> Result<Row<'_>, Bad> {
        let mut p = TcpdumpParser::new(Some(2024), micros(2024, 3, 5, 12, 0, 0, 0).unwrap());
        let mut r = Row::default();
        p.parse(line, &mut r).map(|_| r)
    }

    #[test]
    fn time_stamp_forms() {
        let want = micros(2024, 3, 5, 10, 11, 12, 345_678).unwrap();
        for l in [
            "2024-03-05 10:11:12.345678 IP 10.0.0.1.22 > 10.0.0.2.5555: Flags [S], seq 1, win 1, length 0",
            "10:11:12.345678 IP 10.0.0.1.22 > 10.0.0.2.5555: Flags [S], seq 1, win 1, length 0",
            "Mar  5 10:11:12.345678 IP 10.0.0.1.22 > 10.0.0.2.5555: Flags [S], seq 1, win 1, length 0",
            "1709633472.345678 IP 10.0.0.1.22 > 10.0.0.2.5555: Flags [S], seq 1, win 1, length 0",
        ] {
            let r = parse(l).unwrap();
            assert_eq!(r.time, Some(want), "{l}");
            assert_eq!(r.get(S::TcpFlags), Some("S"));
        }
        let r = parse("IP 10.0.0.1.22 > 10.0.0.2.5555: Flags [S], seq 1, win 1, length 0").unwrap();
        assert_eq!(r.time, None);
        assert_eq!(
            parse("2024-02-30 10:11:12 IP 1.2.3.4 > 1.2.3.5: ICMP echo request")
                .unwrap_err()
                .reason,
            RejectReason::BadTime
        );
    }

    #[test]
    fn link_headers_any_interface_and_arp() {
        let r = parse("10:11:12.000001 00:0c:29:aa:bb:cc > 00:50:56:dd:ee:ff, ethertype IPv4 (0x0800), length 74: 192.168.1.5.22 > 192.168.1.9.40000: Flags [S.], seq 1, ack 2, win 1, length 0").unwrap();
        assert_eq!(r.get(S::SrcIp), Some("192.168.1.5"));
        assert_eq!(r.get(S::TcpFlags), Some("S."));
        let r = parse(
            "10:11:12.000001 eth0  In  IP 10.0.0.1.53 > 10.0.0.2.4000: 7 1/0/0 A 1.1.1.1 (45)",
        )
        .unwrap();
        assert_eq!(r.get(S::Interface), Some("eth0"));
        assert_eq!(r.get(S::Direction), Some("in"));
        assert_eq!(r.get(S::DnsRcode), Some("NOERROR"));
        let r = parse("10:11:12.000001 ARP, Request who-has 10.0.0.1 tell 10.0.0.2, length 28")
            .unwrap();
        assert_eq!(r.get(S::Protocol), Some("arp"));
        assert_eq!(r.get(S::SrcIp), Some("10.0.0.2"));
        assert_eq!(r.get_int(I::Packets), Some(1));
        assert_eq!(
            parse("10:11:12.000001 STP 802.1d, Config BPDU")
                .unwrap_err()
                .reason,
            RejectReason::Unsupported
        );
        assert_eq!(
            parse("    10.0.0.1.1 > 10.0.0.2.2: udp 4")
                .unwrap_err()
                .reason,
            RejectReason::Continuation
        );
    }

    #[test]
    fn sniffs_tcpdump_not_pf() {
        assert_eq!(
            sniff(&["10:11:12.000001 IP 1.2.3.4.1 > 1.2.3.5.2: udp 3"]),
            1
        );
        assert_eq!(
            sniff(&[
                "Oct 21 06:06:58.096785 rule 57/0(match): pass in on xl1: 1.2.3.4 > 1.2.3.5: icmp: echo request"
            ]),
            0
        );
    }
}
