//! JSON lines: one object per line, with ECS-, OCSF-, Zeek- or secviz-style field
//! names (`source.ip`, `src_endpoint.ip`, `id.orig_h`, `src_ip`, `src`, ...). Nested
//! objects are read as dotted names. When several names for one column occur, the
//! more specific wins (ECS/OCSF before short aliases); every field that fills no
//! column goes to `extra`, so nothing is lost. secviz's own JSON output parses back.

use serde_json::Value;

use super::json;
use super::names::{T, aliases, apply, infer_class};
use super::{Bad, LineParser, Outcome, bad, count};
use crate::options::ParseOptions;
use crate::reject::RejectReason;
use crate::row::{Row, S};

#[derive(Clone)]
pub(crate) struct JsonParser {
    max_depth: usize,
    key: String,
    lower: String,
}

impl JsonParser {
    pub fn new(opts: &ParseOptions) -> Self {
        JsonParser {
            max_depth: opts.limits.max_json_depth,
            key: String::new(),
            lower: String::new(),
        }
    }
}

impl LineParser for JsonParser {
    fn fork(&self) -> Box<dyn LineParser> {
        Box::new(self.clone())
    }

    fn parse<'a>(&mut self, line: &'a str, row: &mut Row<'a>) -> Result<Outcome, Bad> {
        let trimmed = line.trim();
        if !trimmed.starts_with('{') {
            return bad(RejectReason::BadJson, "not a JSON object");
        }
        let m = json::object(trimmed, self.max_depth)?;
        // Pick, per column, the most specific name present.
        let mut chosen: Vec<(usize, T, String, &Value)> = Vec::new();
        let mut rest: Vec<(String, &Value)> = Vec::new();
        let map = aliases();
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        let lower = &mut self.lower;
        json::flatten(&m, &mut key, &mut |k, v| {
            // The `extra` object arrives flattened as "extra.x": copy its members back.
            if let Some(inner) = k.strip_prefix("extra.") {
                rest.push((inner.to_string(), v));
                return Ok(());
            }
            lower.clear();
            lower.push_str(k);
            lower.make_ascii_lowercase();
            match map.get(lower.as_str()) {
                Some(&(prio, t)) if !v.is_null() => match chosen.iter_mut().find(|c| c.1 == t) {
                    Some(c) if c.0 > prio => {
                        let loser = std::mem::replace(c, (prio, t, k.to_string(), v));
                        rest.push((loser.2, loser.3));
                    }
                    Some(_) => rest.push((k.to_string(), v)),
                    None => chosen.push((prio, t, k.to_string(), v)),
                },
                _ => rest.push((k.to_string(), v)),
            }
            Ok(())
        })?;
        self.key = key;
        for (_, t, name, v) in &chosen {
            apply(row, *t, name, v)?;
        }
        for (k, v) in &rest {
            json::extra(row, k, v);
        }
        if !row.has(S::EventClass) {
            row.set(S::EventClass, infer_class(row));
        }
        Ok(Outcome::Event)
    }
}

/// Lines that are JSON objects.
pub(crate) fn sniff(lines: &[&str]) -> usize {
    count(lines, |l| {
        let t = l.trim();
        t.starts_with('{')
            && t.ends_with('}')
            && serde_json::from_str::<serde_json::Value>(t).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::I;

    fn parse(line: &str) -> Result<Row<'_>, Bad> {
        let mut r = Row::default();
        JsonParser::new(&ParseOptions::default())
            .parse(line, &mut r)
            .map(|_| r)
    }

    #[test]
    fn ecs() {
        let mut r = parse(r#"{"@timestamp":"2024-05-01T10:00:00.5Z","source":{"ip":"10.0.0.1","port":5353},"destination":{"ip":"8.8.8.8","port":53},"network":{"transport":"UDP"},"dns":{"question":{"name":"example.com","type":"A"},"id":7},"event":{"duration":1500000000,"kind":"event"},"ip":"not mine"}"#).unwrap();
        assert_eq!(r.time, crate::time::iso8601("2024-05-01T10:00:00.5Z"));
        assert_eq!(r.get(S::SrcIp), Some("10.0.0.1"));
        assert_eq!(r.get_int(I::DstPort), Some(53));
        assert_eq!(r.get(S::Protocol), Some("udp"));
        assert_eq!(r.get(S::DnsQname), Some("example.com"));
        assert_eq!(r.get(S::EventClass), Some("dns_activity"));
        assert_eq!(r.duration, Some(1.5));
        assert_eq!(
            r.extra_json(),
            Some(r#"{"event.kind":"event","ip":"not mine"}"#)
        );
    }

    #[test]
    fn ocsf_and_priorities() {
        let mut r = parse(r#"{"time":1714557600000,"class_name":"Network Activity","src_endpoint":{"ip":"10.0.0.1"},"dst_endpoint":{"ip":"10.0.0.2","port":443},"disposition":"Blocked","src":"10.9.9.9"}"#).unwrap();
        assert_eq!(r.time, Some(1_714_557_600_000_000));
        assert_eq!(r.get(S::EventClass), Some("network_activity"));
        assert_eq!(r.get(S::Action), Some("block"));
        // src_endpoint.ip outranks "src"; "src" is kept in extra.
        assert_eq!(r.get(S::SrcIp), Some("10.0.0.1"));
        assert_eq!(r.extra_json(), Some(r#"{"src":"10.9.9.9"}"#));
    }

    #[test]
    fn own_output_round_trips() {
        let mut r = parse(r#"{"time":"2005-10-21T06:06:58.096785Z","event_class":"network_activity","src_ip":"1.2.3.4","dst_port":53,"extra":{"df":true},"format":"pf","line":3}"#).unwrap();
        assert_eq!(r.time, Some(1_129_874_818_096_785));
        assert_eq!(r.get_int(I::DstPort), Some(53));
        assert_eq!(
            r.extra_json(),
            Some(r#"{"df":true,"format":"pf","line":3}"#)
        );
    }

    #[test]
    fn bad_values_are_rejected() {
        assert_eq!(
            parse(r#"{"src_ip":"999.1.1.1"}"#).unwrap_err().reason,
            RejectReason::BadAddress
        );
        assert_eq!(
            parse(r#"{"dst_port":70000}"#).unwrap_err().reason,
            RejectReason::BadPort
        );
        assert_eq!(
            parse(r#"{"time":"yesterday"}"#).unwrap_err().reason,
            RejectReason::BadTime
        );
        assert_eq!(parse(r#"[1,2]"#).unwrap_err().reason, RejectReason::BadJson);
        assert_eq!(parse(r#"{"a":"#).unwrap_err().reason, RejectReason::BadJson);
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100), "]".repeat(100));
        assert_eq!(parse(&deep).unwrap_err().reason, RejectReason::JsonTooDeep);
    }
}
