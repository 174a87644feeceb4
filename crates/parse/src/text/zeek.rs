//! Zeek logs, TSV (with `#separator`/`#fields`/`#types` headers) or JSON lines.
//!
//! Fields with an event column are mapped (`id.orig_h` to `src_ip`, `query` to
//! `dns_qname`, ...); every other field goes to `extra` under its Zeek name, typed by
//! its Zeek type, so nothing is lost (`files`, `x509`, `weird`, `notice`, `smtp`,
//! `ftp`, `kerberos` and any other log). `app` is `zeek.<path>` (`zeek.conn`).
//!
//! Conn logs: `src_bytes`/`dst_bytes` are `orig_ip_bytes`/`resp_ip_bytes` (IP level,
//! like pcap flows), `bytes` and `packets` their sums; Zeek's payload counts
//! `orig_bytes`/`resp_bytes` stay in `extra`.

use memchr::memmem;
use serde_json::Value;

use super::json;
use super::scan::{self, set_ip};
use super::{Bad, LineParser, Outcome, bad, count};
use crate::options::ParseOptions;
use crate::reject::RejectReason;
use crate::row::{I, Row, S, json_key};
use crate::time;

/// Where one Zeek field goes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Time,
    Ip(S),
    Port(I),
    Count(I),
    Text(S),
    Duration,
    /// `true`/`false` (`T`/`F`) to `success`/`failure`.
    Outcome,
    Extra,
}

/// Zeek value types, for `extra`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Number,
    Bool,
    List,
    Text,
}

fn kind_of(zeek_type: &str) -> Kind {
    match zeek_type {
        "count" | "int" | "port" | "double" | "interval" | "time" => Kind::Number,
        "bool" => Kind::Bool,
        t if t.starts_with("set[") || t.starts_with("vector[") || t.starts_with("table[") => {
            Kind::List
        }
        _ => Kind::Text,
    }
}

/// The column of a field of log `path`.
fn target(path: &str, name: &str) -> Target {
    use Target::*;
    match name {
        "ts" => return Time,
        "id.orig_h" => return Ip(S::SrcIp),
        "id.orig_p" => return Port(I::SrcPort),
        "id.resp_h" => return Ip(S::DstIp),
        "id.resp_p" => return Port(I::DstPort),
        "proto" => return Text(S::Protocol),
        _ => {}
    }
    match (path, name) {
        ("conn", "duration") => Duration,
        ("conn", "orig_ip_bytes") => Count(I::SrcBytes),
        ("conn", "resp_ip_bytes") => Count(I::DstBytes),
        ("conn", "orig_pkts") => Count(I::SrcPackets),
        ("conn", "resp_pkts") => Count(I::DstPackets),
        ("dns", "trans_id") => Count(I::DnsId),
        ("dns", "query") => Text(S::DnsQname),
        ("dns", "qtype_name") => Text(S::DnsQtype),
        ("dns", "rcode_name") => Text(S::DnsRcode),
        ("http", "method") => Text(S::HttpMethod),
        ("http", "host") => Text(S::HttpHost),
        ("http", "uri") => Text(S::HttpUri),
        ("http", "status_code") => Count(I::HttpStatus),
        ("http", "user_agent") => Text(S::UserAgent),
        ("http" | "ftp" | "smb_files", "username") | ("ftp", "user") => Text(S::User),
        ("kerberos", "client") => Text(S::User),
        ("kerberos", "success") | ("ssh", "auth_success") => Outcome,
        ("notice", "src") => Ip(S::SrcIp),
        ("notice", "dst") => Ip(S::DstIp),
        ("notice", "p") => Port(I::DstPort),
        ("notice", "msg") => Text(S::Message),
        ("weird", "name") => Text(S::Message),
        _ => Extra,
    }
}

fn event_class(path: &str) -> &'static str {
    match path {
        "conn" | "ssl" | "ssh" | "ftp" | "smtp" | "dhcp" | "ntp" | "snmp" | "rdp" | "smb_files" => {
            "network_activity"
        }
        "dns" => "dns_activity",
        "http" => "http_activity",
        "kerberos" | "ntlm" | "radius" => "authentication",
        _ => "base_event",
    }
}

/// Guesses the log type of a JSON line from its keys (Zeek JSON carries no `#path`).
fn path_from_keys(m: &serde_json::Map<String, Value>) -> Option<&'static str> {
    let has = |k: &str| m.contains_key(k);
    Some(
        if has("conn_state") || has("history") || has("orig_ip_bytes") {
            "conn"
        } else if has("trans_id") || has("qtype_name") || has("rcode_name") {
            "dns"
        } else if has("status_code") || has("method") && has("uri") {
            "http"
        } else if has("certificate.version") || has("certificate.serial") {
            "x509"
        } else if has("server_name") || has("cipher") || has("ja3") {
            "ssl"
        } else if has("request_type") && has("client") {
            "kerberos"
        } else if has("fuid") && (has("mime_type") || has("seen_bytes")) {
            "files"
        } else if has("mailfrom") || has("rcptto") || has("helo") {
            "smtp"
        } else if has("reply_code") && has("command") {
            "ftp"
        } else if has("note") {
            "notice"
        } else if has("name") && has("notice") {
            "weird"
        } else {
            return None;
        },
    )
}

/// One field of the `#fields` header.
#[derive(Clone, Debug)]
struct Field {
    name: String,
    /// `"name":`, rendered once for the `extra` object of every row.
    key: String,
    target: Target,
    kind: Kind,
}

#[derive(Clone)]
pub(crate) struct ZeekParser {
    sep: String,
    set_sep: String,
    empty: String,
    unset: String,
    path: String,
    /// Log type from the file name (`dns.log`), used when a JSON line does not say.
    hint: Option<String>,
    fields: Vec<Field>,
    /// Where the separators of the line being parsed are (kept for its allocation).
    seps: Vec<usize>,
    max_depth: usize,
    key: String,
}

impl ZeekParser {
    pub fn new(opts: &ParseOptions) -> Self {
        let hint = std::path::Path::new(&opts.source)
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('.').next())
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        ZeekParser {
            sep: "\t".into(),
            set_sep: ",".into(),
            empty: "(empty)".into(),
            unset: "-".into(),
            path: String::new(),
            hint,
            fields: Vec::new(),
            seps: Vec::new(),
            max_depth: opts.limits.max_json_depth,
            key: String::new(),
        }
    }

    fn header(&mut self, line: &str) -> Result<(), Bad> {
        if let Some(v) = line.strip_prefix("#separator ") {
            self.sep = unescape_hex(v);
            if self.sep.is_empty() {
                return bad(RejectReason::Unrecognized, "empty #separator");
            }
            return Ok(());
        }
        let Some((key, value)) = line[1..].split_once(self.sep.as_str()) else {
            return Ok(()); // "#close" without a value, comments
        };
        match key {
            "set_separator" => self.set_sep = value.to_string(),
            "empty_field" => self.empty = value.to_string(),
            "unset_field" => self.unset = value.to_string(),
            "path" => {
                self.path = value.to_string();
                self.retarget();
            }
            "fields" => {
                self.fields = value
                    .split(self.sep.as_str())
                    .map(|n| Field {
                        name: n.to_string(),
                        key: json_key(n),
                        target: Target::Extra,
                        kind: Kind::Text,
                    })
                    .collect();
                self.retarget();
            }
            "types" => {
                let types: Vec<&str> = value.split(self.sep.as_str()).collect();
                if types.len() != self.fields.len() {
                    return bad(RejectReason::FieldCount, "#types does not match #fields");
                }
                for (f, t) in self.fields.iter_mut().zip(types) {
                    f.kind = kind_of(t);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn retarget(&mut self) {
        let path = if self.path.is_empty() {
            self.hint.as_deref().unwrap_or("")
        } else {
            &self.path
        };
        for f in &mut self.fields {
            f.target = target(path, &f.name);
        }
    }

    fn tsv<'a>(&mut self, line: &'a str, row: &mut Row<'a>) -> Result<(), Bad> {
        if self.fields.is_empty() {
            return bad(
                RejectReason::Unrecognized,
                "a data line before the #fields header",
            );
        }
        let mut seps = std::mem::take(&mut self.seps);
        separators(line.as_bytes(), self.sep.as_bytes(), &mut seps);
        let r = self.tsv_fields(line, &seps, row);
        self.seps = seps;
        r
    }

    /// [`Self::tsv`] once the separators are found.
    fn tsv_fields<'a>(&self, line: &'a str, seps: &[usize], row: &mut Row<'a>) -> Result<(), Bad> {
        let n = seps.len() + 1;
        if n != self.fields.len() {
            return Err(Bad::new(
                RejectReason::FieldCount,
                format!("{n} fields, the #fields header has {}", self.fields.len()),
            ));
        }
        for (v, f) in fields_at(line, seps, self.sep.len()).zip(&self.fields) {
            if same(v, &self.unset) {
                continue;
            }
            let empty = same(v, &self.empty);
            let (name, key) = (&f.name, &f.key);
            match f.target {
                Target::Time => {
                    row.time = Some(time::epoch_secs(v).ok_or_else(|| {
                        Bad::new(RejectReason::BadTime, "ts is not epoch seconds")
                    })?)
                }
                Target::Ip(c) => set_ip(row, c, v)?,
                Target::Port(c) => row.set_int(c, scan::port(v).ok_or_else(|| scan::bad_port(v))?),
                Target::Count(c) => row.set_int(
                    c,
                    scan::uint(v).ok_or_else(|| {
                        Bad::new(RejectReason::BadNumber, format!("{name} is not a count"))
                    })? as i64,
                ),
                Target::Text(c) => {
                    if !empty {
                        row.set(c, v)
                    }
                }
                Target::Duration => {
                    row.duration = Some(
                        v.parse::<f64>()
                            .ok()
                            .filter(|d| d.is_finite())
                            .ok_or_else(|| {
                                Bad::new(RejectReason::BadNumber, "duration is not a number")
                            })?,
                    )
                }
                Target::Outcome => {
                    row.set(S::AuthResult, if v == "T" { "success" } else { "failure" })
                }
                Target::Extra => match f.kind {
                    Kind::Number if json::is_json_number(v) => {
                        row.extra().raw_json_rendered(key, v)
                    }
                    Kind::Bool if v == "T" || v == "F" => row.extra().bool_rendered(key, v == "T"),
                    Kind::List => {
                        let items = (!empty).then(|| v.split(self.set_sep.as_str()));
                        row.extra()
                            .str_list_rendered(key, items.into_iter().flatten());
                    }
                    _ => row.extra().str_rendered(key, if empty { "" } else { v }),
                },
            }
        }
        Ok(())
    }

    fn json(&mut self, line: &str, row: &mut Row<'_>) -> Result<(), Bad> {
        let m = json::object(line, self.max_depth)?;
        let path: String = match m.get("_path").and_then(Value::as_str) {
            Some(p) => p.to_string(),
            None => path_from_keys(&m)
                .map(str::to_string)
                .or_else(|| self.hint.clone())
                .unwrap_or_default(),
        };
        self.key.clear();
        let mut key = std::mem::take(&mut self.key);
        let r = json::flatten(&m, &mut key, &mut |k, v| {
            if k == "_path" || v.is_null() {
                return Ok(());
            }
            match target(&path, k) {
                Target::Time => row.time = Some(json::time_value(v)?),
                Target::Ip(c) => json::set_ip(row, c, v)?,
                Target::Port(c) => json::set_port(row, c, v)?,
                Target::Count(c) => json::set_count(row, c, v)?,
                Target::Text(c) => {
                    if let Some(t) = json::text(v) {
                        row.set_copy(c, &t);
                    }
                }
                Target::Duration => {
                    row.duration = Some(json::float(v).ok_or_else(|| {
                        Bad::new(RejectReason::BadNumber, "duration is not a number")
                    })?)
                }
                Target::Outcome => row.set(
                    S::AuthResult,
                    if v.as_bool().unwrap_or(false) {
                        "success"
                    } else {
                        "failure"
                    },
                ),
                Target::Extra => json::extra(row, k, v),
            }
            Ok(())
        });
        self.key = key;
        r?;
        self.path = path;
        Ok(())
    }
}

impl LineParser for ZeekParser {
    fn fork(&self) -> Box<dyn LineParser> {
        Box::new(self.clone())
    }

    fn state_key(&self) -> u64 {
        let fields: Vec<_> = self
            .fields
            .iter()
            .map(|f| (&f.name, format!("{:?}", f.target), format!("{:?}", f.kind)))
            .collect();
        super::state_key((
            &self.sep,
            &self.set_sep,
            &self.empty,
            &self.unset,
            &self.path,
            fields,
        ))
    }

    fn parse<'a>(&mut self, line: &'a str, row: &mut Row<'a>) -> Result<Outcome, Bad> {
        if line.starts_with('#') {
            self.header(line)?;
            return Ok(Outcome::Skip);
        }
        if line.starts_with('{') {
            self.json(line, row)?;
        } else {
            self.tsv(line, row)?;
        }
        let path = if self.path.is_empty() {
            self.hint.as_deref().unwrap_or("")
        } else {
            self.path.as_str()
        };
        row.set(S::EventClass, event_class(path));
        if path.is_empty() {
            row.set(S::App, "zeek");
        } else {
            row.set_with(S::App, |o| {
                o.push_str("zeek.");
                o.push_str(path);
            });
        }
        if let (Some(a), Some(b)) = (row.get_int(I::SrcBytes), row.get_int(I::DstBytes)) {
            row.set_int(I::Bytes, a.saturating_add(b));
        }
        if let (Some(a), Some(b)) = (row.get_int(I::SrcPackets), row.get_int(I::DstPackets)) {
            row.set_int(I::Packets, a.saturating_add(b));
        }
        Ok(Outcome::Event)
    }
}

/// `a == b`, inline: most fields are compared with the one-byte unset mark, where a call
/// to `memcmp` costs more than the comparison.
#[inline]
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

/// Where each separator of a TSV line begins, in `out`. Zeek's separator is one byte (a
/// tab): the line is compared 16 bytes at a time into a bit mask (the compiler makes it a
/// vector compare), which beats both `str::split` with a string pattern (a third of a
/// Zeek parse) and a `memchr` call per field (fields are a few bytes long). A longer
/// separator is found with `memmem`. The fields are then those `str::split` gives.
fn separators(line: &[u8], sep: &[u8], out: &mut Vec<usize>) {
    out.clear();
    let &[b] = sep else {
        out.extend(memmem::find_iter(line, sep));
        return;
    };
    let mut chunks = line.chunks_exact(16);
    let mut base = 0;
    for c in &mut chunks {
        let mut mask = c
            .iter()
            .enumerate()
            .fold(0u32, |m, (i, &x)| m | (u32::from(x == b) << i));
        while mask != 0 {
            out.push(base + mask.trailing_zeros() as usize);
            mask &= mask - 1;
        }
        base += 16;
    }
    for (i, &x) in chunks.remainder().iter().enumerate() {
        if x == b {
            out.push(base + i);
        }
    }
}

/// The fields of `line` between the separators [`separators`] found (each `sep_len`
/// bytes long).
fn fields_at<'a>(line: &'a str, seps: &[usize], sep_len: usize) -> impl Iterator<Item = &'a str> {
    let starts = std::iter::once(0).chain(seps.iter().map(move |&p| p + sep_len));
    let ends = seps.iter().copied().chain([line.len()]);
    starts.zip(ends).map(|(a, b)| &line[a..b])
}

/// `\x09` to a tab (the `#separator` line is written that way).
fn unescape_hex(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(i) = rest.find("\\x") {
        out.push_str(&rest[..i]);
        match u8::from_str_radix(rest.get(i + 2..i + 4).unwrap_or(""), 16) {
            Ok(b) => {
                out.push(char::from(b));
                rest = &rest[i + 4..];
            }
            Err(_) => {
                out.push_str("\\x");
                rest = &rest[i + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A `#separator` header, or JSON lines with Zeek's connection keys.
pub(crate) fn sniff(lines: &[&str]) -> usize {
    if lines.first().is_some_and(|l| l.starts_with("#separator ")) {
        return 100;
    }
    count(lines, |l| {
        l.starts_with('{')
            && l.contains("\"ts\":")
            && [
                "\"id.orig_h\":",
                "\"uid\":",
                "\"fuid\":",
                "\"_path\":",
                "\"certificate.version\":",
            ]
            .iter()
            .any(|k| l.contains(k))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONN_HEAD: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tcount\tstring\tcount\tcount\tcount\tcount\ttable[string]";

    #[test]
    fn tsv_conn() {
        let mut p = ZeekParser::new(&ParseOptions::default());
        let mut r = Row::default();
        for h in CONN_HEAD.lines() {
            assert!(matches!(p.parse(h, &mut r).unwrap(), Outcome::Skip));
        }
        let line = "1379288667.706265\tCoyZrY2g74UvMMgp4a\t192.168.33.10\t1032\t54.245.228.191\t80\ttcp\thttp\t0.447460\t601\t38393\tRSTO\t-\t0\tShADadR\t22\t1489\t31\t39641\t(empty)";
        p.parse(line, &mut r).unwrap();
        assert_eq!(r.time, Some(1_379_288_667_706_265));
        assert_eq!(r.get(S::SrcIp), Some("192.168.33.10"));
        assert_eq!(r.get_int(I::DstPort), Some(80));
        assert_eq!(r.get(S::Protocol), Some("tcp"));
        assert_eq!(r.duration, Some(0.44746));
        assert_eq!(r.get_int(I::SrcBytes), Some(1489));
        assert_eq!(r.get_int(I::Bytes), Some(1489 + 39641));
        assert_eq!(r.get_int(I::Packets), Some(53));
        assert_eq!(r.get(S::App), Some("zeek.conn"));
        assert_eq!(r.get(S::EventClass), Some("network_activity"));
        assert_eq!(
            r.extra_json(),
            Some(
                r#"{"uid":"CoyZrY2g74UvMMgp4a","service":"http","orig_bytes":601,"resp_bytes":38393,"conn_state":"RSTO","missed_bytes":0,"history":"ShADadR","tunnel_parents":[]}"#
            )
        );
        let e = p.parse("1\t2", &mut r).unwrap_err();
        assert_eq!(e.reason, RejectReason::FieldCount);
    }

    #[test]
    fn separators_split_as_str_split_does() {
        let long = format!("{}\t{}", "a".repeat(40), "b\t".repeat(20));
        for (line, sep) in [
            ("a\tb\t\tc\t", "\t"),
            ("", "\t"),
            ("\t", "\t"),
            (long.as_str(), "\t"),
            ("x|y||z", "|"),
            ("a::b:::c", "::"),
            ("é\u{2009}ü\u{2009}", "\u{2009}"),
        ] {
            let mut seps = Vec::new();
            separators(line.as_bytes(), sep.as_bytes(), &mut seps);
            let fields: Vec<&str> = fields_at(line, &seps, sep.len()).collect();
            assert_eq!(fields, line.split(sep).collect::<Vec<_>>(), "{line:?}");
        }
    }

    #[test]
    fn json_dns_and_kerberos() {
        let mut p = ZeekParser::new(&ParseOptions::default());
        let mut r = Row::default();
        p.parse(r#"{"ts":1575413122.764317,"uid":"CWwU9s3h33kFsa9Ljg","id.orig_h":"10.18.20.97","id.orig_p":59102,"id.resp_h":"10.18.20.8","id.resp_p":53,"proto":"udp","trans_id":19084,"query":"_ldap._tcp.example.com","qclass":1,"qtype":33,"qtype_name":"SRV","rcode":3,"rcode_name":"NXDOMAIN","AA":false,"rejected":false}"#, &mut r).unwrap();
        assert_eq!(r.get(S::EventClass), Some("dns_activity"));
        assert_eq!(r.get(S::DnsQname), Some("_ldap._tcp.example.com"));
        assert_eq!(r.get(S::DnsQtype), Some("SRV"));
        assert_eq!(r.get(S::DnsRcode), Some("NXDOMAIN"));
        assert_eq!(r.get_int(I::DnsId), Some(19084));
        r.clear();
        p.parse(r#"{"ts":1575413096.052549,"uid":"C","id.orig_h":"10.18.20.97","id.orig_p":49187,"id.resp_h":"10.18.20.8","id.resp_p":88,"request_type":"AS","client":"JUANITA-WORK-PC$/ICEMAIDEN.COM","service":"krbtgt/ICEMAIDEN.COM","success":false,"error_msg":"KDC_ERR_PREAUTH_REQUIRED"}"#, &mut r).unwrap();
        assert_eq!(r.get(S::EventClass), Some("authentication"));
        assert_eq!(r.get(S::User), Some("JUANITA-WORK-PC$/ICEMAIDEN.COM"));
        assert_eq!(r.get(S::AuthResult), Some("failure"));
        assert_eq!(r.get(S::App), Some("zeek.kerberos"));
    }
}
