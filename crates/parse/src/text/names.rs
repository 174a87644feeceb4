//! Field names to event columns, shared by the JSON lines and CSV parsers: the aliases
//! of ECS, OCSF, Zeek and secviz itself in priority order, and the conversion of a
//! value (JSON or text) into its column, with the vocabulary normalised (`allowed` to
//! `pass`, `Failed` to `failure`, `Network Activity` to `network_activity`).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::Bad;
use super::json;
use crate::reject::RejectReason;
use crate::row::{I, Row, S};

/// What a recognised field becomes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum T {
    Time,
    Ip(S),
    Port(I),
    Count(I),
    Text(S),
    /// Lower-cased text (protocol, direction).
    Lower(S),
    /// pass/block vocabulary.
    Action,
    /// success/failure vocabulary.
    Result,
    /// OCSF class name to snake case.
    Class,
    /// Seconds.
    Duration,
    /// Nanoseconds (ECS `event.duration`).
    DurationNs,
    /// secviz's own `extra` object: members copied into `extra`.
    ExtraObject,
}

/// Names in priority order (first wins when several are present).
const ALIASES: &[(&str, T)] = &[
    ("@timestamp", T::Time),
    ("time", T::Time),
    ("timestamp", T::Time),
    ("ts", T::Time),
    ("event.start", T::Time),
    ("start_time", T::Time),
    ("date", T::Time),
    ("datetime", T::Time),
    ("source.ip", T::Ip(S::SrcIp)),
    ("src_endpoint.ip", T::Ip(S::SrcIp)),
    ("client.ip", T::Ip(S::SrcIp)),
    ("id.orig_h", T::Ip(S::SrcIp)),
    ("src_ip", T::Ip(S::SrcIp)),
    ("srcip", T::Ip(S::SrcIp)),
    ("source_ip", T::Ip(S::SrcIp)),
    ("src", T::Ip(S::SrcIp)),
    ("source.port", T::Port(I::SrcPort)),
    ("src_endpoint.port", T::Port(I::SrcPort)),
    ("client.port", T::Port(I::SrcPort)),
    ("id.orig_p", T::Port(I::SrcPort)),
    ("src_port", T::Port(I::SrcPort)),
    ("srcport", T::Port(I::SrcPort)),
    ("sport", T::Port(I::SrcPort)),
    ("destination.ip", T::Ip(S::DstIp)),
    ("dst_endpoint.ip", T::Ip(S::DstIp)),
    ("server.ip", T::Ip(S::DstIp)),
    ("id.resp_h", T::Ip(S::DstIp)),
    ("dst_ip", T::Ip(S::DstIp)),
    ("dstip", T::Ip(S::DstIp)),
    ("dest_ip", T::Ip(S::DstIp)),
    ("destination_ip", T::Ip(S::DstIp)),
    ("dst", T::Ip(S::DstIp)),
    ("destination.port", T::Port(I::DstPort)),
    ("dst_endpoint.port", T::Port(I::DstPort)),
    ("server.port", T::Port(I::DstPort)),
    ("id.resp_p", T::Port(I::DstPort)),
    ("dst_port", T::Port(I::DstPort)),
    ("dstport", T::Port(I::DstPort)),
    ("dest_port", T::Port(I::DstPort)),
    ("dport", T::Port(I::DstPort)),
    ("network.transport", T::Lower(S::Protocol)),
    ("connection_info.protocol_name", T::Lower(S::Protocol)),
    ("protocol", T::Lower(S::Protocol)),
    ("proto", T::Lower(S::Protocol)),
    ("network.direction", T::Lower(S::Direction)),
    ("connection_info.direction", T::Lower(S::Direction)),
    ("direction", T::Lower(S::Direction)),
    ("observer.ingress.interface.name", T::Text(S::Interface)),
    ("interface", T::Text(S::Interface)),
    ("rule.name", T::Text(S::Rule)),
    ("firewall_rule.name", T::Text(S::Rule)),
    ("rule.id", T::Text(S::Rule)),
    ("rule", T::Text(S::Rule)),
    ("disposition", T::Action),
    ("action", T::Action),
    ("event.action", T::Action),
    ("network.bytes", T::Count(I::Bytes)),
    ("traffic.bytes", T::Count(I::Bytes)),
    ("bytes", T::Count(I::Bytes)),
    ("network.packets", T::Count(I::Packets)),
    ("traffic.packets", T::Count(I::Packets)),
    ("packets", T::Count(I::Packets)),
    ("source.bytes", T::Count(I::SrcBytes)),
    ("traffic.bytes_out", T::Count(I::SrcBytes)),
    ("src_bytes", T::Count(I::SrcBytes)),
    ("destination.bytes", T::Count(I::DstBytes)),
    ("traffic.bytes_in", T::Count(I::DstBytes)),
    ("dst_bytes", T::Count(I::DstBytes)),
    ("source.packets", T::Count(I::SrcPackets)),
    ("traffic.packets_out", T::Count(I::SrcPackets)),
    ("src_packets", T::Count(I::SrcPackets)),
    ("destination.packets", T::Count(I::DstPackets)),
    ("traffic.packets_in", T::Count(I::DstPackets)),
    ("dst_packets", T::Count(I::DstPackets)),
    ("event.duration", T::DurationNs),
    ("duration", T::Duration),
    ("tcp_flags", T::Text(S::TcpFlags)),
    ("dns.id", T::Count(I::DnsId)),
    ("dns_id", T::Count(I::DnsId)),
    ("trans_id", T::Count(I::DnsId)),
    ("dns.question.type", T::Text(S::DnsQtype)),
    ("query.type", T::Text(S::DnsQtype)),
    ("dns_qtype", T::Text(S::DnsQtype)),
    ("qtype_name", T::Text(S::DnsQtype)),
    ("dns.question.name", T::Text(S::DnsQname)),
    ("query.hostname", T::Text(S::DnsQname)),
    ("dns_qname", T::Text(S::DnsQname)),
    ("query", T::Text(S::DnsQname)),
    ("dns.response_code", T::Text(S::DnsRcode)),
    ("dns_rcode", T::Text(S::DnsRcode)),
    ("rcode_name", T::Text(S::DnsRcode)),
    ("rcode", T::Text(S::DnsRcode)),
    ("http.request.method", T::Text(S::HttpMethod)),
    ("http_request.http_method", T::Text(S::HttpMethod)),
    ("http_method", T::Text(S::HttpMethod)),
    ("method", T::Text(S::HttpMethod)),
    ("url.domain", T::Text(S::HttpHost)),
    ("http_request.url.hostname", T::Text(S::HttpHost)),
    ("http_host", T::Text(S::HttpHost)),
    ("url.original", T::Text(S::HttpUri)),
    ("url.path", T::Text(S::HttpUri)),
    ("http_request.url.path", T::Text(S::HttpUri)),
    ("http_uri", T::Text(S::HttpUri)),
    ("uri", T::Text(S::HttpUri)),
    ("url", T::Text(S::HttpUri)),
    ("http.response.status_code", T::Count(I::HttpStatus)),
    ("http_response.code", T::Count(I::HttpStatus)),
    ("http_status", T::Count(I::HttpStatus)),
    ("status_code", T::Count(I::HttpStatus)),
    ("user_agent.original", T::Text(S::UserAgent)),
    ("http_request.user_agent", T::Text(S::UserAgent)),
    ("user_agent", T::Text(S::UserAgent)),
    ("useragent", T::Text(S::UserAgent)),
    ("user.name", T::Text(S::User)),
    ("actor.user.name", T::Text(S::User)),
    ("user", T::Text(S::User)),
    ("username", T::Text(S::User)),
    ("event.outcome", T::Result),
    ("auth_result", T::Result),
    ("status", T::Result),
    ("host.name", T::Text(S::Host)),
    ("host.hostname", T::Text(S::Host)),
    ("device.hostname", T::Text(S::Host)),
    ("observer.hostname", T::Text(S::Host)),
    ("hostname", T::Text(S::Host)),
    ("host", T::Text(S::Host)),
    ("process.name", T::Text(S::App)),
    ("metadata.product.name", T::Text(S::App)),
    ("app", T::Text(S::App)),
    ("program", T::Text(S::App)),
    ("message", T::Text(S::Message)),
    ("msg", T::Text(S::Message)),
    ("class_name", T::Class),
    ("event_class", T::Class),
    ("extra", T::ExtraObject),
];

pub(crate) fn aliases() -> &'static HashMap<&'static str, (usize, T)> {
    static MAP: OnceLock<HashMap<&'static str, (usize, T)>> = OnceLock::new();
    MAP.get_or_init(|| {
        ALIASES
            .iter()
            .enumerate()
            .map(|(i, (k, t))| (*k, (i, *t)))
            .collect()
    })
}

/// The column a field name (any case; `-` and spaces read as `_`) maps to, if any.
/// Also used for CSV headers.
pub(crate) fn lookup(name: &str) -> Option<T> {
    let mut l = String::with_capacity(name.len());
    for c in name.trim().chars() {
        l.push(match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        });
    }
    aliases().get(l.as_str()).map(|&(_, t)| t)
}

/// The column a schema column name maps to (for `--map FROM=TO`): exact names only.
pub(crate) fn column_target(col: &str) -> Option<T> {
    use crate::schema::col as c;
    Some(match col {
        c::TIME => T::Time,
        c::EVENT_CLASS => T::Class,
        c::SRC_IP => T::Ip(S::SrcIp),
        c::DST_IP => T::Ip(S::DstIp),
        c::SRC_PORT => T::Port(I::SrcPort),
        c::DST_PORT => T::Port(I::DstPort),
        c::DURATION => T::Duration,
        c::ACTION => T::Action,
        c::AUTH_RESULT => T::Result,
        c::EXTRA => T::ExtraObject,
        _ => lookup(col).filter(|t| !matches!(t, T::Time | T::ExtraObject | T::DurationNs))?,
    })
}

/// Applies a text value (a CSV cell) to the row.
pub(crate) fn apply_text<'a>(row: &mut Row<'a>, t: T, name: &str, s: &'a str) -> Result<(), Bad> {
    match t {
        T::Text(c) => {
            row.set(c, s);
            Ok(())
        }
        T::Ip(c) => super::scan::set_ip(row, c, s),
        _ => apply_text_copied(row, t, name, s),
    }
}

/// Like [`apply_text`] for a value that does not outlive the call (copied).
pub(crate) fn apply_text_copied(row: &mut Row<'_>, t: T, name: &str, s: &str) -> Result<(), Bad> {
    match t {
        T::Time => {
            let v = crate::time::epoch_secs(s)
                .or_else(|| crate::time::iso8601(s))
                .or_else(|| super::scan::uint(s).and_then(|n| json::epoch_any(n as f64)));
            row.time = Some(v.ok_or_else(|| {
                Bad::new(
                    RejectReason::BadTime,
                    format!("{name} is not ISO 8601 or epoch time"),
                )
            })?);
        }
        T::Ip(c) => super::scan::set_ip_copy(row, c, s)?,
        T::Port(c) => row.set_int(
            c,
            super::scan::port(s).ok_or_else(|| super::scan::bad_port(s))?,
        ),
        T::Count(c) => row.set_int(
            c,
            super::scan::uint(s)
                .and_then(|v| i64::try_from(v).ok())
                .ok_or_else(|| {
                    Bad::new(
                        RejectReason::BadNumber,
                        format!("{name} is not a non-negative integer"),
                    )
                })?,
        ),
        T::Duration | T::DurationNs => {
            let d: f64 = s
                .parse()
                .ok()
                .filter(|d: &f64| d.is_finite())
                .ok_or_else(|| {
                    Bad::new(RejectReason::BadNumber, format!("{name} is not a number"))
                })?;
            row.duration = Some(if t == T::DurationNs { d / 1e9 } else { d });
        }
        T::ExtraObject => row.extra().str(name, s),
        T::Text(c) => row.set_copy(c, s),
        T::Lower(c) => row.set_with(c, |o| {
            o.push_str(s);
            o.make_ascii_lowercase();
        }),
        other => apply(row, other, name, &Value::String(s.to_string()))?,
    }
    Ok(())
}

pub(crate) fn apply(row: &mut Row<'_>, t: T, name: &str, v: &Value) -> Result<(), Bad> {
    match t {
        T::Time => row.time = Some(json::time_value(v)?),
        T::Ip(c) => json::set_ip(row, c, v)?,
        T::Port(c) => json::set_port(row, c, v)?,
        T::Count(c) => json::set_count(row, c, v).map_err(|_| {
            Bad::new(
                RejectReason::BadNumber,
                format!("{name} is not a non-negative integer"),
            )
        })?,
        T::Text(c) => match json::text(v) {
            Some(s) => row.set_copy(c, &s),
            None => json::extra(row, name, v),
        },
        T::Lower(c) => {
            if let Some(s) = json::text(v) {
                row.set_with(c, |o| {
                    o.push_str(&s);
                    o.make_ascii_lowercase();
                });
            }
        }
        T::Action => {
            if let Some(s) = json::text(v) {
                let l = s.to_ascii_lowercase();
                let a = match l.as_str() {
                    "allow" | "allowed" | "accept" | "accepted" | "permit" | "permitted"
                    | "pass" | "passed" => "pass",
                    "block" | "blocked" | "deny" | "denied" | "drop" | "dropped" | "reject"
                    | "rejected" => "block",
                    other => other,
                };
                row.set_copy(S::Action, a);
            }
        }
        T::Result => {
            if let Some(s) = json::text(v) {
                let l = s.to_ascii_lowercase();
                let r = match l.as_str() {
                    "success" | "succeeded" | "successful" | "true" | "ok" => "success",
                    "failure" | "failed" | "fail" | "false" => "failure",
                    other => other,
                };
                row.set_copy(S::AuthResult, r);
            }
        }
        T::Class => {
            if let Some(s) = json::text(v) {
                row.set_with(S::EventClass, |o| {
                    for c in s.trim().chars() {
                        o.push(if c == ' ' {
                            '_'
                        } else {
                            c.to_ascii_lowercase()
                        });
                    }
                });
            }
        }
        T::Duration => {
            row.duration = Some(
                json::float(v)
                    .ok_or_else(|| Bad::new(RejectReason::BadNumber, "duration is not a number"))?,
            )
        }
        T::DurationNs => {
            row.duration = Some(
                json::float(v).ok_or_else(|| {
                    Bad::new(RejectReason::BadNumber, "event.duration is not a number")
                })? / 1e9,
            )
        }
        T::ExtraObject => json::extra(row, name, v),
    }
    Ok(())
}

/// The OCSF class an event most likely belongs to, from the columns it filled.
pub(crate) fn infer_class(row: &Row) -> &'static str {
    if row.has(S::DnsQname) || row.get_int(I::DnsId).is_some() {
        "dns_activity"
    } else if row.has(S::HttpMethod) || row.has(S::HttpUri) || row.get_int(I::HttpStatus).is_some()
    {
        "http_activity"
    } else if row.has(S::AuthResult) {
        "authentication"
    } else if row.has(S::SrcIp) || row.has(S::DstIp) {
        "network_activity"
    } else {
        "base_event"
    }
}
