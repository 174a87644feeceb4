//! OpenBSD/FreeBSD pf logs as tcpdump prints them from pflog (`tcpdump -n -e -ttt -r
//! pflog`):
//!
//! `Oct 21 06:06:58.096785 rule 57/0(match): pass in on xl1: 195.141.69.45.1030 >
//! 61.215.160.253.53: 2520 [1au] MX? www.com.ar. (39) (DF)`
//!
//! Both header styles are read: `rule 57/0(match): pass in on xl1:` (older) and
//! `rule 3/(match) block in on em0:` (newer), with an optional `[uid 0, pid 1]`.
//! The packet after the header is read by [`super::packet::parse_body`].

use super::packet::parse_body;
use super::tcpdump::Clock;
use super::{Bad, LineParser, Outcome, bad, count, scan};
use crate::reject::RejectReason;
use crate::row::{Row, S};

#[derive(Clone)]
pub(crate) struct PfParser {
    clock: Clock,
}

impl PfParser {
    pub fn new(year: Option<i32>, reference: i64) -> Self {
        PfParser {
            clock: Clock::new(year, reference),
        }
    }
}

impl LineParser for PfParser {
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

    #[inline]
    fn parse<'a>(&mut self, line: &'a str, row: &mut Row<'a>) -> Result<Outcome, Bad> {
        let (t, rest) = self.clock.leading(line)?;
        row.time = t;
        let body = header(rest, row)?;
        parse_body(body, row)?;
        Ok(Outcome::Event)
    }
}

/// Reads `rule N/S(reason)[:] [ [uid U, pid P] ] ACTION DIR on IF: ` and returns the rest.
#[inline]
fn header<'a>(rest: &'a str, row: &mut Row<'a>) -> Result<&'a str, Bad> {
    let Some(r) = rest.strip_prefix("rule ") else {
        return bad(
            RejectReason::Unrecognized,
            "expected \"rule N/N(reason)\" after the time stamp",
        );
    };
    let b = r.as_bytes();
    let Some(open) = scan::pos(b, b'(') else {
        return bad(
            RejectReason::Unrecognized,
            "expected \"(reason)\" after the rule number",
        );
    };
    let Some(close) = scan::pos(&b[open..], b')').map(|i| open + i) else {
        return bad(RejectReason::Unrecognized, "unterminated \"(reason)\"");
    };
    let rule = r[..open].trim_end_matches('/');
    row.set(S::Rule, rule);
    let reason = &r[open + 1..close];
    if reason != "match" {
        row.extra().str("reason", reason);
    }
    let mut rest = &r[close + 1..];
    rest = rest.strip_prefix(':').unwrap_or(rest);
    rest = rest.strip_prefix(' ').unwrap_or(rest);
    if rest.starts_with('[') {
        // [uid 0, pid 12345]
        let Some(end) = scan::pos(rest.as_bytes(), b']') else {
            return bad(RejectReason::Unrecognized, "unterminated \"[uid, pid]\"");
        };
        rest = rest[end + 1..].trim_start_matches(' ');
    }
    let (action, rest) = scan::word(rest);
    let (dir, rest) = scan::word(rest);
    let (on, rest) = scan::word(rest);
    let (ifname, rest) = scan::word(rest);
    if action.is_empty() || on != "on" || !ifname.ends_with(':') {
        return bad(
            RejectReason::Unrecognized,
            "expected \"ACTION DIR on IF:\" after the rule",
        );
    }
    row.set(S::Action, action);
    if matches!(dir, "in" | "out" | "fwd") {
        row.set(S::Direction, dir);
    } else {
        return bad(
            RejectReason::Unrecognized,
            "direction is not in, out or fwd",
        );
    }
    row.set(S::Interface, &ifname[..ifname.len() - 1]);
    Ok(rest)
}

/// Lines that carry a pf header after an optional time stamp.
pub(crate) fn sniff(lines: &[&str]) -> usize {
    let mut clock = Clock::new(None, 0);
    count(lines, |l| {
        let Ok((_, rest)) = clock.leading(l) else {
            return false;
        };
        rest.starts_with("rule ") && rest.contains(" on ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::I;
    use crate::time::micros;

    fn parse(line: &str) -> Result<Row<'_>, Bad> {
        let mut p = PfParser::new(Some(2005), 0);
        let mut r = Row::default();
        p.parse(line, &mut r).map(|_| r)
    }

    #[test]
    fn the_issue_example() {
        let mut r = parse("Oct 21 06:06:58.096785 rule 57/0(match): pass in on xl1: 195.141.69.45.1030 > 61.215.160.253.53: 2520 [1au] MX? www.com.ar. (39) (DF)").unwrap();
        assert_eq!(r.time, micros(2005, 10, 21, 6, 6, 58, 96_785));
        assert_eq!(r.get(S::Rule), Some("57/0"));
        assert_eq!(r.get(S::Action), Some("pass"));
        assert_eq!(r.get(S::Direction), Some("in"));
        assert_eq!(r.get(S::Interface), Some("xl1"));
        assert_eq!(r.get(S::SrcIp), Some("195.141.69.45"));
        assert_eq!(r.get_int(I::DstPort), Some(53));
        assert_eq!(r.get(S::DnsQtype), Some("MX"));
        assert_eq!(r.get(S::DnsQname), Some("www.com.ar"));
        assert_eq!(r.extra_json(), Some(r#"{"df":true}"#));
    }

    #[test]
    fn newer_header_block_and_ipv6() {
        let r = parse("Oct 21 06:06:58.096785 rule 3/(match) [uid 0, pid 9] block out on em0: 2001:db8::5.4433 > 2001:db8::9.443: Flags [S], seq 7, win 16384, length 0").unwrap();
        assert_eq!(r.get(S::Rule), Some("3"));
        assert_eq!(r.get(S::Action), Some("block"));
        assert_eq!(r.get(S::Direction), Some("out"));
        assert_eq!(r.get(S::SrcIp), Some("2001:db8::5"));
        assert_eq!(r.get(S::TcpFlags), Some("S"));
    }

    #[test]
    fn bad_lines_say_why() {
        assert_eq!(
            parse("Oct 21 06:06:58 hello").unwrap_err().reason,
            RejectReason::Unrecognized
        );
        assert_eq!(
            parse("Foo 21 06:06:58 rule 1/0(match): pass in on a: 1.2.3.4 > 1.2.3.5: icmp: x")
                .unwrap_err()
                .reason,
            RejectReason::Unrecognized
        );
        assert_eq!(
            parse("Feb 30 06:06:58 rule 1/0(match): pass in on a: 1.2.3.4 > 1.2.3.5: icmp: x")
                .unwrap_err()
                .reason,
            RejectReason::BadTime
        );
        assert_eq!(
            parse("Oct 21 06:06:58 rule 1/0(match): pass in on a: 1.2.3.400 > 1.2.3.5: icmp: x")
                .unwrap_err()
                .reason,
            RejectReason::BadAddress
        );
    }
}
