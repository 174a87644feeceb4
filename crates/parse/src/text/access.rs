//! Web access logs: Apache and nginx, common and combined, with an optional virtual
//! host in front (Apache `vhost_combined`):
//!
//! `83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /x.png HTTP/1.1" 200 203023
//! "http://referer/" "Mozilla/5.0 ..."`
//!
//! Apache *error* logs have another shape (`[date] [level] message`); they are read
//! by the syslog parser, and a line of one given to this parser is rejected saying so.

use memchr::{memchr, memchr2};

use super::scan::{self, uint};
use super::syslog::is_apache_error;
use super::{Bad, LineParser, Outcome, bad, count};
use crate::reject::RejectReason;
use crate::row::{I, Row, S};
use crate::time::{self, digits, micros};

pub(crate) const HTTP: &str = "http_activity";

#[derive(Clone)]
pub(crate) struct AccessParser {
    /// Unescaped quoted strings (only used when a value holds `\"` or `\\`).
    scratch: String,
}

impl AccessParser {
    pub fn new() -> Self {
        AccessParser {
            scratch: String::new(),
        }
    }
}

impl LineParser for AccessParser {
    fn fork(&self) -> Box<dyn LineParser> {
        Box::new(self.clone())
    }

    fn parse<'a>(&mut self, line: &'a str, row: &mut Row<'a>) -> Result<Outcome, Bad> {
        if is_apache_error(line) {
            return bad(
                RejectReason::Unrecognized,
                "an Apache error log line, not an access log line: read it as syslog",
            );
        }
        // "CLIENT IDENT USER [date]", or "VHOST CLIENT IDENT USER [date]" (vhost_combined).
        let Some(open) = scan::find(line.as_bytes(), b" [") else {
            return bad(
                RejectReason::Unrecognized,
                "expected \"CLIENT IDENT USER [date]\"",
            );
        };
        let mut words = scan::words(&line[..open]);
        let (client, ident, user) = match (
            words.next(),
            words.next(),
            words.next(),
            words.next(),
            words.next(),
        ) {
            (Some(c), Some(i), Some(u), None, _) => (c, i, u),
            (Some(v), Some(c), Some(i), Some(u), None) => {
                row.set(S::Host, v);
                (c, i, u)
            }
            _ => {
                return bad(
                    RejectReason::Unrecognized,
                    "expected \"CLIENT IDENT USER [date]\"",
                );
            }
        };
        let mut rest = &line[open + 1..];
        if client.is_empty() {
            return bad(
                RejectReason::Unrecognized,
                "expected \"CLIENT IDENT USER [date]\"",
            );
        }
        let Some(close) = memchr(b']', rest.as_bytes()) else {
            return bad(RejectReason::Unrecognized, "unterminated [date]");
        };
        row.time = Some(clf_date(&rest[1..close]).ok_or_else(|| {
            Bad::new(
                RejectReason::BadTime,
                "expected [dd/Mon/yyyy:hh:mm:ss +zzzz]",
            )
        })?);
        rest = rest[close + 1..].trim_start_matches(' ');
        row.set(S::EventClass, HTTP);
        if scan::set_ip(row, S::SrcIp, client).is_err() {
            // HostnameLookups On: the client is a name. Keep it.
            row.extra().str("client", client);
        }
        if ident != "-" {
            row.extra().str("ident", ident);
        }
        if user != "-" {
            row.set(S::User, user);
        }
        let (raw, esc, r) = quoted(rest).ok_or_else(|| {
            Bad::new(
                RejectReason::Unrecognized,
                "expected the quoted request line",
            )
        })?;
        // Without escapes the values are slices of the line, set without a copy.
        if esc {
            let request = unescape(raw, esc, &mut self.scratch);
            request_line(request, row, |row, c, v| row.set_copy(c, v));
        } else {
            request_line(raw, row, Row::set);
        }
        rest = r.trim_start_matches(' ');
        let (status, r) = scan::word(rest);
        match uint(status).filter(|&s| s <= 999) {
            Some(s) => row.set_int(I::HttpStatus, s as i64),
            None => return bad(RejectReason::BadNumber, "status is not a number"),
        }
        let (size, r) = scan::word(r);
        match size {
            "-" => {}
            _ => row.set_int(
                I::Bytes,
                uint(size).ok_or_else(|| {
                    Bad::new(RejectReason::BadNumber, "size is not a number or \"-\"")
                })? as i64,
            ),
        }
        rest = r.trim_start_matches(' ');
        if rest.is_empty() {
            return Ok(Outcome::Event); // common log format
        }
        let (raw, esc, r) = quoted(rest).ok_or_else(|| {
            Bad::new(
                RejectReason::Unrecognized,
                "expected the quoted referrer (or none, for the common format)",
            )
        })?;
        let referrer = unescape(raw, esc, &mut self.scratch);
        if referrer != "-" && !referrer.is_empty() {
            row.extra().str("referrer", referrer);
        }
        rest = r.trim_start_matches(' ');
        if !rest.is_empty() {
            let (raw, esc, r) = quoted(rest).ok_or_else(|| {
                Bad::new(
                    RejectReason::Unrecognized,
                    "the user agent has no closing quote",
                )
            })?;
            if esc {
                let ua = unescape(raw, esc, &mut self.scratch);
                if ua != "-" {
                    row.set_copy(S::UserAgent, ua);
                }
            } else if raw != "-" {
                row.set(S::UserAgent, raw);
            }
            let tail = r.trim();
            if !tail.is_empty() {
                // nginx/Apache custom formats append more fields; keep them.
                row.extra().str("tail", tail);
            }
        }
        Ok(Outcome::Event)
    }
}

/// `GET /path HTTP/1.1`; anything else (a TLS handshake sent to port 80) goes to extra.
/// `set` sets a column: a slice of the line as is, or a copy of an unescaped value.
fn request_line<'a, 'r>(
    request: &'r str,
    row: &mut Row<'a>,
    set: impl Fn(&mut Row<'a>, S, &'r str),
) {
    // "METHOD URI" or "METHOD URI PROTO", as `split(' ')` into two or three parts: the
    // method is short (a byte loop), the URI long (`memchr`).
    let parts = scan::pos(request.as_bytes(), b' ').and_then(|p| {
        let (m, rest) = (&request[..p], &request[p + 1..]);
        match memchr(b' ', rest.as_bytes()) {
            None => Some((m, rest, None)),
            Some(q) => {
                let proto = &rest[q + 1..];
                (scan::pos(proto.as_bytes(), b' ').is_none()).then_some((
                    m,
                    &rest[..q],
                    Some(proto),
                ))
            }
        }
    });
    match parts {
        Some((m, uri, proto))
            if !m.is_empty()
                && m.len() <= 16
                && m.bytes()
                    .all(|c| c.is_ascii_uppercase() || c == b'-' || c == b'_') =>
        {
            set(row, S::HttpMethod, m);
            set(row, S::HttpUri, uri);
            if let Some(p) = proto {
                row.extra().str("http_version", p);
            }
        }
        _ => {
            if request != "-" && !request.is_empty() {
                row.extra().str("request", request);
            }
        }
    }
}

/// A `"quoted"` value: (raw text, whether it holds `\` escapes, rest after it).
fn quoted(s: &str) -> Option<(&str, bool, &str)> {
    let body = s.strip_prefix('"')?;
    let b = body.as_bytes();
    let mut i = 0;
    let mut escaped = false;
    // The request, referrer and user agent are long: `memchr2` jumps to the next quote or
    // backslash (a byte loop here was a fifth of an access log's parse).
    loop {
        let at = i + memchr2(b'\\', b'"', b.get(i..)?)?;
        if b[at] == b'"' {
            return Some((&body[..at], escaped, &body[at + 1..]));
        }
        escaped = true;
        i = at + 2;
    }
}

/// Undoes Apache's `\"` and `\\` escapes (other escapes such as `\x16` are kept).
fn unescape<'b>(raw: &'b str, escaped: bool, scratch: &'b mut String) -> &'b str {
    if !escaped {
        return raw;
    }
    scratch.clear();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('"') => scratch.push('"'),
                Some('\\') => scratch.push('\\'),
                Some(o) => {
                    scratch.push('\\');
                    scratch.push(o);
                }
                None => scratch.push('\\'),
            }
        } else {
            scratch.push(c);
        }
    }
    scratch.as_str()
}

/// `17/May/2015:10:05:03 +0000`.
fn clf_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    let d = digits(b, 0, 2)?;
    let mo = time::month_from_abbr(&b[3..6])?;
    let y = digits(b, 7, 4)? as i32;
    let (sod, us, n) = time::hms_frac(b, 12)?;
    let mut t = micros(y, mo, d, 0, 0, 0, us)? + i64::from(sod) * time::MICROS_PER_SEC;
    let z = &b[12 + n..];
    if z.len() == 6 && z[0] == b' ' && matches!(z[1], b'+' | b'-') {
        let off = i64::from(digits(z, 2, 2)? * 60 + digits(z, 4, 2)?) * 60 * time::MICROS_PER_SEC;
        t -= if z[1] == b'+' { off } else { -off };
    } else if !z.is_empty() {
        return None;
    }
    Some(t)
}

/// Lines shaped like access log lines.
pub(crate) fn sniff(lines: &[&str]) -> usize {
    let mut p = AccessParser::new();
    count(lines, |l| {
        let mut row = Row::default();
        p.parse(l, &mut row).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Row<'_>, Bad> {
        let mut r = Row::default();
        AccessParser::new().parse(line, &mut r).map(|_| r)
    }

    #[test]
    fn combined() {
        let mut r = parse(r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1)""#).unwrap();
        assert_eq!(r.time, micros(2015, 5, 17, 10, 5, 3, 0));
        assert_eq!(r.get(S::SrcIp), Some("83.149.9.216"));
        assert_eq!(r.get(S::HttpMethod), Some("GET"));
        assert_eq!(
            r.get(S::HttpUri),
            Some("/presentations/logstash-monitorama-2013/images/kibana-search.png")
        );
        assert_eq!(r.get_int(I::HttpStatus), Some(200));
        assert_eq!(r.get_int(I::Bytes), Some(203_023));
        assert_eq!(
            r.get(S::UserAgent),
            Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1)")
        );
        assert_eq!(r.get(S::EventClass), Some(HTTP));
        assert_eq!(
            r.extra_json(),
            Some(
                r#"{"http_version":"HTTP/1.1","referrer":"http://semicomplete.com/presentations/logstash-monitorama-2013/"}"#
            )
        );
    }

    #[test]
    fn common_vhost_escapes_and_zones() {
        let r = parse(
            r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 -"#,
        )
        .unwrap();
        assert_eq!(r.get(S::User), Some("frank"));
        assert_eq!(r.time, micros(2000, 10, 10, 20, 55, 36, 0));
        assert_eq!(r.get_int(I::Bytes), None);
        let r = parse(r#"www.example.com:80 10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 404 12 "-" "say \"hi\"""#).unwrap();
        assert_eq!(r.get(S::Host), Some("www.example.com:80"));
        assert_eq!(r.get(S::UserAgent), Some("say \"hi\""));
        let mut r =
            parse(r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "\x16\x03\x01" 400 0 "-" "-""#)
                .unwrap();
        assert_eq!(r.get(S::HttpMethod), None);
        assert_eq!(r.extra_json(), Some(r#"{"request":"\\x16\\x03\\x01"}"#));
    }

    #[test]
    fn apache_error_lines_are_refused_with_a_pointer() {
        let e = parse("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties").unwrap_err();
        assert_eq!(e.reason, RejectReason::Unrecognized);
        assert!(e.detail.contains("read it as syslog"));
        assert_eq!(
            parse(r#"1.2.3.4 - - [32/May/2015:10:05:03 +0000] "GET / HTTP/1.1" 200 1"#)
                .unwrap_err()
                .reason,
            RejectReason::BadTime
        );
    }
}
