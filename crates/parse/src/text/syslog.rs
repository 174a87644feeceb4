//! Syslog lines: BSD (RFC 3164, `Oct 11 22:14:15 host app[pid]: msg`, with or without
//! `<PRI>`), RFC 5424 (`<34>1 2003-10-11T22:14:15.003Z host app procid msgid [sd]
//! msg`), high-precision BSD (`2024-01-01T00:00:00.123+00:00 host app: msg`) and Apache
//! error logs (`[Sun Dec 04 04:47:44 2005] [notice] msg`), which are not access logs
//! but the same shape of event: a time, a level and a message.
//!
//! Every line with a valid header is an event carrying `host`, `app` and `message`;
//! [`super::auth`] then reads what it can from the message (sshd, sudo, su, PAM,
//! iptables/ufw kernel lines).

use memchr::memchr;

use super::auth;
use super::tcpdump::Clock;
use super::{Bad, LineParser, Outcome, bad, count, scan};
use crate::reject::RejectReason;
use crate::row::{Row, S};
use crate::time::{self, digits, hms_frac, micros};

pub(crate) const BASE: &str = "base_event";

#[derive(Clone)]
pub(crate) struct SyslogParser {
    clock: Clock,
}

impl SyslogParser {
    pub fn new(year: Option<i32>, reference: i64) -> Self {
        SyslogParser {
            clock: Clock::new(year, reference),
        }
    }
}

impl LineParser for SyslogParser {
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
        if line.starts_with('[') {
            apache_error(line, row)?;
            return Ok(Outcome::Event);
        }
        let (pri, rest) = priority(line)?;
        if let Some(p) = pri {
            row.extra().int("facility", i64::from(p / 8));
            row.extra().int("severity", i64::from(p % 8));
        }
        let (app, msg) = if let Some(r) = rest.strip_prefix("1 ") {
            rfc5424(r, row)?
        } else {
            let (t, after) = match self.clock.leading(rest)? {
                (Some(t), after) => (t, after),
                (None, _) => {
                    return bad(
                        RejectReason::BadTime,
                        "expected a syslog time stamp (\"Oct 11 22:14:15\" or ISO 8601)",
                    );
                }
            };
            row.time = Some(t);
            let after = after.trim_start_matches(' ');
            let (host, msg) = scan::word(after);
            if host.is_empty() {
                return bad(
                    RejectReason::Unrecognized,
                    "expected a host name after the time stamp",
                );
            }
            row.set(S::Host, host);
            tag_and_message(msg.trim_start_matches(' '), row)
        };
        row.set(S::EventClass, BASE);
        auth::enrich(app, msg, row);
        Ok(Outcome::Event)
    }
}

/// `<PRI>` prefix, if any.
fn priority(line: &str) -> Result<(Option<u32>, &str), Bad> {
    let Some(r) = line.strip_prefix('<') else {
        return Ok((None, line));
    };
    let Some(end) = memchr(b'>', r.as_bytes()).filter(|&e| e <= 3) else {
        return bad(RejectReason::Unrecognized, "unterminated <PRI>");
    };
    match scan::uint(&r[..end]).filter(|&p| p <= 191) {
        Some(p) => Ok((Some(p as u32), &r[end + 1..])),
        None => bad(RejectReason::Unrecognized, "<PRI> is not a number 0-191"),
    }
}

/// `app[pid]: message`, `app: message`, or just a message. Returns (app, message).
fn tag_and_message<'a>(rest: &'a str, row: &mut Row<'a>) -> (Option<&'a str>, &'a str) {
    if let Some(i) =
        scan::find(rest.as_bytes(), b": ").or_else(|| rest.strip_suffix(':').map(|r| r.len()))
    {
        let tag = &rest[..i];
        if !tag.is_empty() && tag.len() <= 64 {
            let (app, pid) = match (memchr(b'[', tag.as_bytes()), tag.ends_with(']')) {
                (Some(o), true) => (&tag[..o], Some(&tag[o + 1..tag.len() - 1])),
                _ => (tag, None),
            };
            row.set(S::App, app);
            if let Some(pid) = pid.and_then(scan::uint) {
                row.extra().int("pid", pid as i64);
            }
            let msg = rest.get(i + 2..).unwrap_or("").trim_start_matches(' ');
            row.set(S::Message, msg);
            return (Some(app), msg);
        }
    }
    row.set(S::Message, rest);
    (None, rest)
}

/// RFC 5424 after `<PRI>1 `: `TIMESTAMP HOST APP PROCID MSGID SD MSG`.
fn rfc5424<'a>(r: &'a str, row: &mut Row<'a>) -> Result<(Option<&'a str>, &'a str), Bad> {
    let (ts, r) = scan::word(r);
    if ts != "-" {
        row.time = Some(
            time::iso8601(ts)
                .ok_or_else(|| Bad::new(RejectReason::BadTime, "bad RFC 5424 time stamp"))?,
        );
    }
    let (host, r) = scan::word(r);
    let (app, r) = scan::word(r);
    let (procid, r) = scan::word(r);
    let (msgid, r) = scan::word(r);
    if msgid.is_empty() {
        return bad(
            RejectReason::Unrecognized,
            "RFC 5424 header is missing fields",
        );
    }
    for (c, v) in [(S::Host, host), (S::App, app)] {
        if v != "-" {
            row.set(c, v);
        }
    }
    if procid != "-" {
        match scan::uint(procid) {
            Some(p) => row.extra().int("pid", p as i64),
            None => row.extra().str("procid", procid),
        }
    }
    if msgid != "-" {
        row.extra().str("msgid", msgid);
    }
    let msg = if let Some(m) = r.strip_prefix("- ").or_else(|| (r == "-").then_some("")) {
        m
    } else if r.starts_with('[') {
        let end = structured_data_end(r)
            .ok_or_else(|| Bad::new(RejectReason::Unrecognized, "unterminated structured data"))?;
        row.extra().str("sd", &r[..end]);
        r[end..].trim_start_matches(' ')
    } else {
        return bad(
            RejectReason::Unrecognized,
            "expected structured data or \"-\"",
        );
    };
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    row.set(S::Message, msg);
    Ok(((app != "-").then_some(app), msg))
}

/// End of `[id k="v"][id2 ...]`, honouring `\"` and `\]` escapes in values.
fn structured_data_end(r: &str) -> Option<usize> {
    let b = r.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut in_q = false;
        i += 1;
        loop {
            match *b.get(i)? {
                b'\\' if in_q => i += 1,
                b'"' => in_q = !in_q,
                b']' if !in_q => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    Some(i)
}

/// `[Sun Dec 04 04:47:44 2005] [notice] msg`, also Apache 2.4's
/// `[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 43] [client 1.2.3.4:5] msg`.
fn apache_error<'a>(line: &'a str, row: &mut Row<'a>) -> Result<(), Bad> {
    let b = line.as_bytes();
    let Some(close) = memchr(b']', b) else {
        return bad(RejectReason::Unrecognized, "expected \"[date]\"");
    };
    let t = apache_date(&line[1..close]).ok_or_else(|| {
        Bad::new(
            RejectReason::BadTime,
            "expected \"[Sun Dec 04 04:47:44 2005]\"",
        )
    })?;
    row.time = Some(t);
    row.set(S::EventClass, BASE);
    row.set(S::App, "apache");
    let mut rest = line[close + 1..].trim_start_matches(' ');
    let mut level_seen = false;
    // Bracketed fields: level, then pid/client in 2.4.
    while let Some(r) = rest.strip_prefix('[') {
        let Some(end) = memchr(b']', r.as_bytes()) else {
            break;
        };
        let field = &r[..end];
        if let Some(client) = field.strip_prefix("client ") {
            let addr = client_address(client);
            if scan::set_ip(row, S::SrcIp, addr).is_err() {
                row.extra().str("client", client);
            }
        } else if let Some(pid) = field.strip_prefix("pid ") {
            if let Some(p) = scan::uint(scan::before(pid, b':')) {
                row.extra().int("pid", p as i64);
            }
        } else if !level_seen {
            let level = field.rsplit(':').next().unwrap_or(field);
            row.extra().str("level", level);
            level_seen = true;
        }
        rest = r[end + 1..].trim_start_matches(' ');
    }
    row.set(S::Message, rest);
    Ok(())
}

/// `1.2.3.4`, `1.2.3.4:5678` or `[2001:db8::1]:5678`.
fn client_address(c: &str) -> &str {
    if let Some(r) = c.strip_prefix('[') {
        return r.split(']').next().unwrap_or(r);
    }
    match c.rsplit_once(':') {
        Some((a, p)) if !a.contains(':') && scan::uint(p).is_some() => a,
        _ => c,
    }
}

/// `Sun Dec 04 04:47:44 2005` (optionally with a fraction after the seconds).
fn apache_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 24 || b[3] != b' ' || b[7] != b' ' {
        return None;
    }
    let mo = time::month_from_abbr(&b[4..7])?;
    let d = match b[8] {
        b' ' => digits(b, 9, 1)?,
        _ => digits(b, 8, 2)?,
    };
    let (sod, us, n) = hms_frac(b, 11)?;
    let y = digits(b, 11 + n + 1, 4)? as i32;
    Some(micros(y, mo, d, 0, 0, 0, us)? + i64::from(sod) * time::MICROS_PER_SEC)
}

/// True if the line looks like an Apache error log line.
pub(crate) fn is_apache_error(l: &str) -> bool {
    l.starts_with('[')
        && memchr(b']', l.as_bytes()).is_some_and(|c| apache_date(&l[1..c]).is_some())
}

/// Lines with a syslog header.
pub(crate) fn sniff(lines: &[&str]) -> usize {
    let mut p = SyslogParser {
        clock: Clock::new(None, 0),
    };
    count(lines, |l| {
        let mut row = Row::default();
        if l.starts_with('[') {
            return is_apache_error(l);
        }
        p.parse(l, &mut row).is_ok() && (row.has(S::App) || l.starts_with('<'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::I;

    fn parse(line: &str) -> Result<Row<'_>, Bad> {
        let mut p = SyslogParser::new(Some(2024), 0);
        let mut r = Row::default();
        p.parse(line, &mut r).map(|_| r)
    }

    #[test]
    fn bsd_header() {
        let mut r =
            parse("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186")
                .unwrap();
        assert_eq!(r.time, micros(2024, 12, 10, 6, 55, 46, 0));
        assert_eq!(r.get(S::Host), Some("LabSZ"));
        assert_eq!(r.get(S::App), Some("sshd"));
        assert_eq!(
            r.get(S::Message),
            Some("Invalid user webmaster from 173.234.31.186")
        );
        assert_eq!(r.get(S::User), Some("webmaster"));
        assert_eq!(r.get(S::SrcIp), Some("173.234.31.186"));
        assert_eq!(
            r.extra_json(),
            Some(r#"{"pid":24200,"activity":"invalid_user"}"#)
        );
        let r = parse("Jun  9 06:06:20 combo syslogd 1.4.1: restart.").unwrap();
        assert_eq!(r.get(S::App), Some("syslogd 1.4.1"));
        assert_eq!(r.get(S::EventClass), Some(BASE));
    }

    #[test]
    fn rfc5424_and_priority() {
        let mut r = parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"App]\"] 'su root' failed for lonvick on /dev/pts/8").unwrap();
        assert_eq!(r.time, crate::time::iso8601("2003-10-11T22:14:15.003Z"));
        assert_eq!(r.get(S::Host), Some("mymachine.example.com"));
        assert_eq!(r.get(S::App), Some("su"));
        assert_eq!(
            r.get(S::Message),
            Some("'su root' failed for lonvick on /dev/pts/8")
        );
        let e = r.extra_json().unwrap().to_string();
        assert!(e.contains(r#""facility":4,"severity":2"#), "{e}");
        assert!(e.contains(r#""msgid":"ID47""#), "{e}");
        let r = parse("<13>Oct 11 22:14:15 mymachine myproc: hi").unwrap();
        assert_eq!(r.get(S::App), Some("myproc"));
        let r = parse("2024-01-02T03:04:05.123456+00:00 web1 nginx[7]: started").unwrap();
        assert_eq!(r.get(S::Host), Some("web1"));
        assert_eq!(r.time, micros(2024, 1, 2, 3, 4, 5, 123_456));
    }

    #[test]
    fn apache_error_lines_are_message_events() {
        let mut r = parse("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties").unwrap();
        assert_eq!(r.time, micros(2005, 12, 4, 4, 47, 44, 0));
        assert_eq!(r.get(S::App), Some("apache"));
        assert_eq!(
            r.get(S::Message),
            Some("workerEnv.init() ok /etc/httpd/conf/workers2.properties")
        );
        assert_eq!(r.extra_json(), Some(r#"{"level":"notice"}"#));
        let r = parse("[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:5555] File does not exist").unwrap();
        assert_eq!(r.get(S::SrcIp), Some("72.15.99.187"));
        assert_eq!(r.get_int(I::SrcPort), None);
    }

    #[test]
    fn rejects() {
        assert_eq!(
            parse("hello world").unwrap_err().reason,
            RejectReason::BadTime
        );
        assert_eq!(
            parse("Dec 32 06:55:46 h a: b").unwrap_err().reason,
            RejectReason::BadTime
        );
        assert_eq!(
            parse("<999>x").unwrap_err().reason,
            RejectReason::Unrecognized
        );
    }
}
