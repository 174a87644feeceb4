//! CSV: with a header, columns are mapped by name (`--map` renames first, then the
//! aliases of the JSON parser: `src`/`source.ip`/`src_ip`..., `ts`/`timestamp`...);
//! unmapped columns go to `extra` under their header name. Without a header it is
//! AfterGlow's CSV: `source,event,target` becomes `src_ip`, `action` (or `dst_port`
//! when the first row's middle value is a number) and `dst_ip`; a fourth column and
//! beyond go to `extra` as `c4`, `c5`...
//!
//! Quoting follows RFC 4180 within a line (a quoted field cannot span lines). The
//! header is recognised when one of its names maps to a column and none of its
//! values is an address or a number.

use super::names::{self, T};
use super::scan;
use super::{Bad, LineParser, Outcome, count};
use crate::error::ParseError;
use crate::options::ParseOptions;
use crate::reject::RejectReason;
use crate::row::{I, Row, S};

/// Where one CSV column goes.
#[derive(Clone, Debug)]
enum Col {
    To(T),
    Extra,
}

#[derive(Clone)]
pub(crate) struct CsvParser {
    cols: Vec<(String, Col)>,
    /// The first line is the header (skipped once).
    header_pending: bool,
    delim: u8,
    spans: Vec<(bool, u32, u32)>,
    scratch: String,
}

impl CsvParser {
    pub fn new(opts: &ParseOptions, head: &[u8]) -> Result<Self, ParseError> {
        let text = String::from_utf8_lossy(head);
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let delim = if !first.contains(',') && first.contains('\t') {
            b'\t'
        } else {
            b','
        };
        let mut p = CsvParser {
            cols: Vec::new(),
            header_pending: false,
            delim,
            spans: Vec::new(),
            scratch: String::new(),
        };
        let mut renames = Vec::new();
        for (from, to) in &opts.csv_map {
            let t = names::column_target(to).ok_or_else(|| {
                ParseError::BadOption(format!("--map {from}={to}: {to:?} is not an event column"))
            })?;
            renames.push((from.trim().to_ascii_lowercase(), t));
        }
        p.split(first.trim_end_matches('\r'));
        let values: Vec<String> = (0..p.spans.len())
            .map(|i| p.field(first, i).to_string())
            .collect();
        let mapped: Vec<Option<T>> = values
            .iter()
            .map(|v| {
                let l = v.trim().to_ascii_lowercase();
                renames
                    .iter()
                    .find(|(f, _)| *f == l)
                    .map(|(_, t)| *t)
                    .or_else(|| names::lookup(v))
            })
            .collect();
        let looks_like_data = values.iter().any(|v| {
            scan::is_ipv4(v.trim())
                || v.contains(':') && v.parse::<std::net::Ipv6Addr>().is_ok()
                || scan::uint(v.trim()).is_some()
        });
        let is_header =
            !renames.is_empty() || mapped.iter().any(Option::is_some) && !looks_like_data;
        if is_header && !first.is_empty() {
            p.header_pending = true;
            let mut used: Vec<T> = Vec::new();
            for (name, m) in values.iter().zip(mapped) {
                let col = match m {
                    // The first column of a name wins; a second one keeps its data in extra.
                    Some(t) if !used.contains(&t) => {
                        used.push(t);
                        Col::To(t)
                    }
                    _ => Col::Extra,
                };
                p.cols.push((name.trim().to_string(), col));
            }
        } else {
            // AfterGlow: source,event,target[,more...]
            let middle_is_port = values
                .get(1)
                .is_some_and(|v| scan::port(v.trim()).is_some());
            for i in 0..values.len().max(1) {
                let col = match (i, values.len()) {
                    (0, _) => Col::To(T::Ip(S::SrcIp)),
                    (1, 2) => Col::To(T::Ip(S::DstIp)),
                    (1, _) if middle_is_port => Col::To(T::Port(I::DstPort)),
                    (1, _) => Col::To(T::Action),
                    (2, _) => Col::To(T::Ip(S::DstIp)),
                    _ => Col::Extra,
                };
                p.cols.push((format!("c{}", i + 1), col));
            }
        }
        Ok(p)
    }

    /// Splits a line into `spans`: (in scratch, start, end).
    fn split(&mut self, line: &str) {
        self.spans.clear();
        self.scratch.clear();
        let b = line.as_bytes();
        let d = self.delim;
        let mut i = 0;
        loop {
            if b.get(i) == Some(&b'"') {
                // Quoted: copy into scratch, "" is a quote.
                let start = self.scratch.len();
                let mut j = i + 1;
                let mut seg = j;
                loop {
                    match b.get(j) {
                        None => {
                            self.scratch.push_str(&line[seg..]);
                            i = b.len();
                            break;
                        }
                        Some(b'"') if b.get(j + 1) == Some(&b'"') => {
                            self.scratch.push_str(&line[seg..=j]);
                            j += 2;
                            seg = j;
                        }
                        Some(b'"') => {
                            self.scratch.push_str(&line[seg..j]);
                            i = j + 1;
                            break;
                        }
                        Some(_) => j += 1,
                    }
                }
                self.spans
                    .push((true, start as u32, self.scratch.len() as u32));
                // Skip to the delimiter (text after a closing quote is ignored).
                match memchr::memchr(d, &b[i.min(b.len())..]) {
                    Some(k) => i += k + 1,
                    None => break,
                }
            } else {
                match memchr::memchr(d, &b[i..]) {
                    Some(k) => {
                        self.spans.push((false, i as u32, (i + k) as u32));
                        i += k + 1;
                    }
                    None => {
                        self.spans.push((false, i as u32, b.len() as u32));
                        break;
                    }
                }
            }
        }
    }

    fn field<'a>(&'a self, line: &'a str, i: usize) -> &'a str {
        let (q, a, b) = self.spans[i];
        if q {
            &self.scratch[a as usize..b as usize]
        } else {
            &line[a as usize..b as usize]
        }
    }
}

impl LineParser for CsvParser {
    fn fork(&self) -> Box<dyn LineParser> {
        Box::new(self.clone())
    }

    fn state_key(&self) -> u64 {
        super::state_key(self.header_pending)
    }

    fn parse<'a>(&mut self, line: &'a str, row: &mut Row<'a>) -> Result<Outcome, Bad> {
        if self.header_pending {
            self.header_pending = false;
            return Ok(Outcome::Skip);
        }
        self.split(line);
        if self.spans.len() != self.cols.len() {
            return Err(Bad::new(
                RejectReason::FieldCount,
                format!("{} fields, expected {}", self.spans.len(), self.cols.len()),
            ));
        }
        for i in 0..self.cols.len() {
            let v = self.field(line, i);
            if v.is_empty() {
                continue;
            }
            let (name, col) = &self.cols[i];
            match col {
                Col::To(t) => {
                    // Unquoted cells are slices of the line (no copy); quoted ones
                    // were unescaped into scratch and are copied.
                    let (quoted, a, b) = self.spans[i];
                    let r = if quoted {
                        names::apply_text_copied(row, *t, name, v)
                    } else {
                        names::apply_text(row, *t, name, &line[a as usize..b as usize])
                    };
                    if let Err(e) = r {
                        if e.reason == RejectReason::BadAddress
                            && name.starts_with('c')
                            && name.len() == 2
                        {
                            return Err(Bad::new(
                                RejectReason::BadAddress,
                                format!(
                                    "{} (headerless AfterGlow CSV maps columns 1 and 3 to addresses: add a header line naming the columns to read other values)",
                                    e.detail
                                ),
                            ));
                        }
                        return Err(e);
                    }
                }
                Col::Extra => row.extra().str(name, v),
            }
        }
        if !row.has(S::EventClass) {
            row.set(S::EventClass, names::infer_class(row));
        }
        Ok(Outcome::Event)
    }
}

/// Lines of a consistent number (at least two) of comma-separated fields.
pub(crate) fn sniff(lines: &[&str]) -> usize {
    let n = |l: &str| l.bytes().filter(|&c| c == b',').count();
    let Some(first) = lines.first() else { return 0 };
    let k = n(first);
    if k == 0 {
        return 0;
    }
    count(lines, |l| n(l) == k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser(head: &str, map: &[(&str, &str)]) -> CsvParser {
        let opts = ParseOptions {
            csv_map: map
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            ..Default::default()
        };
        CsvParser::new(&opts, head.as_bytes()).unwrap()
    }

    fn rows<'a>(p: &mut CsvParser, text: &'a str) -> Vec<Result<Row<'a>, Bad>> {
        text.lines()
            .filter_map(|l| {
                let mut r = Row::default();
                match p.parse(l, &mut r) {
                    Ok(Outcome::Skip) => None,
                    Ok(Outcome::Event) => Some(Ok(r)),
                    Err(e) => Some(Err(e)),
                }
            })
            .collect()
    }

    #[test]
    fn flows_header_maps_by_name() {
        let text = "ts,src,sport,dst,dport,proto,bytes,packets\n1318291200.123,10.1.2.3,40000,198.51.100.7,6667,irc,512,4\n";
        let mut p = parser(text, &[]);
        let rs = rows(&mut p, text);
        assert_eq!(rs.len(), 1);
        let r = rs[0].as_ref().unwrap();
        assert_eq!(r.time, Some(1_318_291_200_123_000));
        assert_eq!(r.get(S::SrcIp), Some("10.1.2.3"));
        assert_eq!(r.get_int(I::SrcPort), Some(40000));
        assert_eq!(r.get(S::DstIp), Some("198.51.100.7"));
        assert_eq!(r.get_int(I::DstPort), Some(6667));
        assert_eq!(r.get(S::Protocol), Some("irc"));
        assert_eq!(r.get_int(I::Bytes), Some(512));
        assert_eq!(r.get_int(I::Packets), Some(4));
        assert_eq!(r.get(S::EventClass), Some("network_activity"));
    }

    #[test]
    fn afterglow_headerless() {
        let text =
            "10.1.2.3,irc-join,198.51.100.7\n10.1.2.4,\"web, slow\",198.51.100.8\n10.1.2.5,x\n";
        let mut p = parser(text, &[]);
        let rs = rows(&mut p, text);
        let r = rs[0].as_ref().unwrap();
        assert_eq!(r.get(S::SrcIp), Some("10.1.2.3"));
        assert_eq!(r.get(S::Action), Some("irc-join"));
        assert_eq!(r.get(S::DstIp), Some("198.51.100.7"));
        assert_eq!(rs[1].as_ref().unwrap().get(S::Action), Some("web, slow"));
        assert_eq!(rs[2].as_ref().unwrap_err().reason, RejectReason::FieldCount);
        let text = "10.1.2.3,445,10.1.2.9\n";
        let mut p = parser(text, &[]);
        assert_eq!(
            rows(&mut p, text)[0].as_ref().unwrap().get_int(I::DstPort),
            Some(445)
        );
    }

    #[test]
    fn map_renames_and_extra_keeps_the_rest() {
        let text = "when,who,from,note\n2024-01-01T00:00:00Z,alice,10.0.0.1,\"said \"\"hi\"\"\"\n";
        let mut p = parser(text, &[("when", "time"), ("from", "src_ip")]);
        let rs = rows(&mut p, text);
        let mut r = rs.into_iter().next().unwrap().unwrap();
        assert_eq!(r.time, Some(1_704_067_200_000_000));
        assert_eq!(r.get(S::User), None);
        assert_eq!(r.get(S::SrcIp), Some("10.0.0.1"));
        assert_eq!(
            r.extra_json(),
            Some(r#"{"who":"alice","note":"said \"hi\""}"#)
        );
        let bad = CsvParser::new(
            &ParseOptions {
                csv_map: vec![("a".into(), "nope".into())],
                ..Default::default()
            },
            b"a\n",
        );
        assert!(bad.is_err());
    }
}
