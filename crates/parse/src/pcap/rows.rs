//! Event rows from decoded packets and from finished flows.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::decode::{self, Packet, proto_name};
use super::dns::{self, DnsInfo};
use super::flows::{Flow, Key};
use crate::row::{I, Row, S};
use crate::text::packet::NETWORK;
use crate::text::payload::{DNS, write_flags};

fn set_addr(row: &mut Row, c: S, a: IpAddr) {
    row.set_with(c, |o| {
        let _ = write!(o, "{a}");
    });
}

pub(super) fn write_packet(
    row: &mut Row,
    p: &Packet<'_>,
    ts: Option<i64>,
    wire: u64,
    dns: Option<DnsInfo>,
    name: &str,
    truncated: bool,
) {
    row.time = ts;
    set_addr(row, S::SrcIp, p.src);
    set_addr(row, S::DstIp, p.dst);
    row.set_copy(S::Protocol, &proto_name(p.proto));
    if let Some((sp, dp)) = p.ports {
        row.set_int(I::SrcPort, i64::from(sp));
        row.set_int(I::DstPort, i64::from(dp));
    }
    if let Some(f) = p.tcp_flags {
        row.set_with(S::TcpFlags, |o| write_flags(o, f));
    }
    row.set_int(I::Bytes, wire as i64);
    row.set_int(I::Packets, 1);
    write_pf(row, p.pf.as_ref());
    match dns {
        Some(d) => {
            row.set(S::EventClass, DNS);
            row.set_int(I::DnsId, i64::from(d.id));
            if !name.is_empty() {
                row.set_copy(S::DnsQname, name);
            }
            if let Some(t) = d.qtype {
                row.set_with(S::DnsQtype, |o| dns::qtype_name(t, o));
            }
            if d.response {
                row.set_with(S::DnsRcode, |o| dns::rcode_name(d.rcode, o));
            }
        }
        None => row.set(S::EventClass, NETWORK),
    }
    if let Some((t, c)) = p.icmp {
        if p.proto.is_none() {
            row.extra().int("arp_op", i64::from(t));
        } else {
            row.extra().int("icmp_type", i64::from(t));
            row.extra().int("icmp_code", i64::from(c));
        }
    }
    if let Some(v) = p.vlan {
        row.extra().int("vlan", i64::from(v));
    }
    if p.fragment {
        row.extra().bool("fragment", true);
    }
    if truncated {
        row.extra().bool("truncated", true);
    }
}

fn write_pf(row: &mut Row, pf: Option<&decode::PfMeta>) {
    if let Some(m) = pf {
        row.set(S::Action, m.action);
        if !m.dir.is_empty() {
            row.set(S::Direction, m.dir);
        }
        if !m.ifname.is_empty() {
            row.set_copy(S::Interface, &m.ifname);
        }
        row.set_with(S::Rule, |o| {
            let _ = write!(o, "{}", m.rule);
        });
    }
}

pub(super) fn write_flow(row: &mut Row, k: &Key, f: &Flow) {
    let ((sa, sp), (da, dp)) = if f.orig_is_a {
        ((k.a, k.pa), (k.b, k.pb))
    } else {
        ((k.b, k.pb), (k.a, k.pa))
    };
    row.time = f.first_ts;
    if let (Some(a), Some(b)) = (f.first_ts, f.last_ts) {
        row.duration = Some((b - a) as f64 / 1e6);
    }
    set_addr(row, S::SrcIp, sa);
    set_addr(row, S::DstIp, da);
    let proto = if k.proto == 256 {
        None
    } else {
        Some(k.proto as u8)
    };
    row.set_copy(S::Protocol, &proto_name(proto));
    if matches!(proto, Some(6) | Some(17) | Some(132)) {
        row.set_int(I::SrcPort, i64::from(sp));
        row.set_int(I::DstPort, i64::from(dp));
    }
    if let Some(fl) = f.tcp_flags {
        row.set_with(S::TcpFlags, |o| write_flags(o, fl));
    }
    row.set_int(I::SrcPackets, f.packets[0] as i64);
    row.set_int(I::DstPackets, f.packets[1] as i64);
    row.set_int(I::SrcBytes, f.bytes[0] as i64);
    row.set_int(I::DstBytes, f.bytes[1] as i64);
    row.set_int(I::Packets, (f.packets[0] + f.packets[1]) as i64);
    row.set_int(I::Bytes, (f.bytes[0] + f.bytes[1]) as i64);
    write_pf(row, f.pf.as_ref());
    match &f.dns {
        Some(d) => {
            row.set(S::EventClass, DNS);
            row.set_int(I::DnsId, i64::from(d.id));
            if !d.qname.is_empty() {
                row.set_copy(S::DnsQname, &d.qname);
            }
            if let Some(t) = d.qtype {
                row.set_with(S::DnsQtype, |o| dns::qtype_name(t, o));
            }
            if let Some(r) = d.rcode {
                row.set_with(S::DnsRcode, |o| dns::rcode_name(r, o));
            }
        }
        None => row.set(S::EventClass, NETWORK),
    }
    row.extra().int("last_packet", f.last_no as i64);
    if let Some(v) = f.vlan {
        row.extra().int("vlan", i64::from(v));
    }
}

/// Hex of a packet's first 64 bytes, for the reject's `raw`.
pub(super) fn hex_head(data: &[u8]) -> String {
    let mut s = String::with_capacity(128);
    for b in data.iter().take(64) {
        let _ = write!(s, "{b:02x}");
    }
    if data.len() > 64 {
        s.push_str("...");
    }
    s
}
