//! pcap and pcapng captures: one event per packet, or bidirectional flows.
//!
//! Reading is streaming (pcap-parser's block reader over a bounded buffer). A capture
//! cut short keeps every whole packet before the cut; the partial one is rejected as
//! `truncated` and the summary's `damage` says where the capture ended. Nanosecond
//! pcap, pcapng interface time resolutions and offsets are honoured; times are kept
//! to microseconds.

mod decode;
mod dns;
mod flows;

use std::fmt::Write as _;
use std::io::BufRead;
use std::net::IpAddr;

use arrow_array::RecordBatch;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{Block, PcapBlockOwned, PcapError, create_reader};

use crate::batch::BatchBuilder;
use crate::error::ParseError;
use crate::input::Damage;
use crate::options::{ParseOptions, PcapMode};
use crate::reject::{Reject, RejectReason, Summary};
use crate::row::{I, Row, S};
use crate::text::packet::{DNS, NETWORK, write_flags};
use decode::{Packet, decode, proto_name};
use dns::DnsInfo;
use flows::{Flow, FlowTable, Key};

/// Time base of one capture interface.
#[derive(Clone, Copy, Debug)]
struct Iface {
    linktype: i32,
    /// Time units per second.
    resolution: u64,
    /// Seconds added to every time stamp.
    offset: i64,
}

pub(crate) struct PcapSource {
    reader: Box<dyn PcapReaderIterator + Send>,
    batch: BatchBuilder,
    row: Row<'static>,
    flows: Option<FlowTable>,
    ifaces: Vec<Iface>,
    packet_no: u64,
    max_snaplen: usize,
    strict: bool,
    stopped: Option<ParseError>,
    done: bool,
    damage: Damage,
    name: String,
}

impl PcapSource {
    pub fn new(
        reader: Box<dyn BufRead + Send>,
        opts: &ParseOptions,
        batch: BatchBuilder,
        damage: Damage,
    ) -> Result<Self, ParseError> {
        let capacity = (opts.limits.max_snaplen + 64 * 1024).max(128 * 1024);
        let reader = match create_reader(capacity, reader) {
            Ok(r) => r,
            Err(PcapError::Eof) => return Err(ParseError::Pcap("the input is empty".into())),
            Err(PcapError::HeaderNotRecognized) => {
                return Err(ParseError::Pcap("not a pcap or pcapng file".into()));
            }
            Err(PcapError::Incomplete(_)) | Err(PcapError::UnexpectedEof) => {
                return Err(ParseError::Pcap("the file ends inside its header".into()));
            }
            Err(e) => {
                return Err(ParseError::Pcap(format!(
                    "cannot read the file header: {e:?}"
                )));
            }
        };
        let flows = match opts.pcap {
            PcapMode::Packets => None,
            PcapMode::Flows { idle_timeout } => Some(FlowTable::new(
                idle_timeout.as_micros().min(i64::MAX as u128) as i64,
                opts.limits.max_open_flows,
            )),
        };
        Ok(PcapSource {
            reader,
            batch,
            row: Row::default(),
            flows,
            ifaces: Vec::new(),
            packet_no: 0,
            max_snaplen: opts.limits.max_snaplen,
            strict: opts.strict,
            stopped: None,
            done: false,
            damage,
            name: String::new(),
        })
    }

    pub fn next_batch(
        &mut self,
        summary: &mut Summary,
        on_reject: &mut dyn FnMut(&Reject),
    ) -> Result<Option<RecordBatch>, ParseError> {
        if let Some(e) = self.stopped.take() {
            return Err(e);
        }
        loop {
            if let Some(ft) = &mut self.flows {
                while !self.batch.is_full() {
                    let Some((k, f)) = ft.done.pop_front() else {
                        break;
                    };
                    self.row.clear();
                    write_flow(&mut self.row, &k, &f);
                    self.batch.push(&mut self.row, f.first_no, None);
                    summary.events += 1;
                }
            }
            if self.batch.is_full() || self.done || self.stopped.is_some() {
                break;
            }
            self.step(summary, on_reject);
        }
        match self.batch.finish() {
            None => self.stopped.take().map_or(Ok(None), Err),
            some => Ok(some),
        }
    }

    /// Reads one block; handles end of input and damage.
    fn step(&mut self, summary: &mut Summary, on_reject: &mut dyn FnMut(&Reject)) {
        let PcapSource {
            reader,
            batch,
            row,
            flows,
            ifaces,
            packet_no,
            max_snaplen,
            strict,
            stopped,
            done,
            damage,
            name,
        } = self;
        let mut reject = |no: u64, reason: RejectReason, detail: String, data: &[u8]| {
            summary.reject(reason);
            let r = Reject {
                line: no,
                reason,
                detail,
                raw: hex_head(data),
            };
            on_reject(&r);
            if *strict && stopped.is_none() {
                *stopped = Some(ParseError::Strict(r));
            }
        };
        let finish = |flows: &mut Option<FlowTable>| {
            if let Some(ft) = flows {
                ft.finish();
            }
        };
        match reader.next() {
            Ok((offset, block)) => {
                let packet = match &block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        let resolution = if h.is_nanosecond_precision() {
                            1_000_000_000
                        } else {
                            1_000_000
                        };
                        ifaces.clear();
                        ifaces.push(Iface {
                            linktype: h.network.0,
                            resolution,
                            offset: i64::from(h.thiszone),
                        });
                        None
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let iface = ifaces.first().copied().unwrap_or(Iface {
                            linktype: 1,
                            resolution: 1_000_000,
                            offset: 0,
                        });
                        let t = stamp(
                            u64::from(b.ts_sec) * iface.resolution + u64::from(b.ts_usec),
                            iface,
                        );
                        Some((iface.linktype, Some(t), b.data, b.origlen, b.caplen))
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                        ifaces.clear();
                        None
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        ifaces.push(Iface {
                            linktype: idb.linktype.0,
                            resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                            offset: idb.ts_offset(),
                        });
                        None
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        match ifaces.get(epb.if_id as usize) {
                            Some(&iface) => {
                                let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                                Some((
                                    iface.linktype,
                                    Some(stamp(raw, iface)),
                                    epb.packet_data(),
                                    epb.origlen,
                                    epb.caplen,
                                ))
                            }
                            None => {
                                *packet_no += 1;
                                reject(
                                    *packet_no,
                                    RejectReason::BadPacket,
                                    format!(
                                        "packet names interface {} that was not described",
                                        epb.if_id
                                    ),
                                    epb.packet_data(),
                                );
                                None
                            }
                        }
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        let linktype = ifaces.first().map_or(1, |i| i.linktype);
                        Some((
                            linktype,
                            None,
                            spb.packet_data(),
                            spb.origlen,
                            spb.data.len() as u32,
                        ))
                    }
                    PcapBlockOwned::NG(_) => None,
                };
                if let Some((linktype, ts, data, orig_len, cap_len)) = packet {
                    *packet_no += 1;
                    let no = *packet_no;
                    if cap_len as usize > *max_snaplen {
                        reject(
                            no,
                            RejectReason::TooLarge,
                            format!("a packet record of {cap_len} bytes is over the snaplen limit"),
                            data,
                        );
                    } else {
                        match decode(linktype, data) {
                            Err((reason, detail)) => reject(no, reason, detail.into_owned(), data),
                            Ok(p) => {
                                summary.read += 1;
                                summary.parsed += 1;
                                let dns = dns_of(&p, name);
                                let wire = u64::from(orig_len.max(data.len() as u32));
                                match flows {
                                    Some(ft) => {
                                        ft.add(&p, ts, no, wire, dns.map(|d| (d, name.as_str())))
                                    }
                                    None => {
                                        row.clear();
                                        write_packet(
                                            row,
                                            &p,
                                            ts,
                                            wire,
                                            dns,
                                            name,
                                            cap_len < orig_len,
                                        );
                                        batch.push(row, no, None);
                                        summary.events += 1;
                                    }
                                }
                            }
                        }
                    }
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => {
                *done = true;
                finish(flows);
            }
            Err(PcapError::Incomplete(_)) => {
                if let Err(e) = reader.refill() {
                    let _ = damage.set(format!("read error after packet {packet_no}: {e:?}"));
                    *done = true;
                    finish(flows);
                }
            }
            Err(e) => {
                let (reason, what) = match e {
                    PcapError::UnexpectedEof => (
                        RejectReason::Truncated,
                        "the capture ends inside this packet".to_string(),
                    ),
                    PcapError::BufferTooSmall => (
                        RejectReason::TooLarge,
                        "a packet record larger than the snaplen limit (corrupt capture?)"
                            .to_string(),
                    ),
                    other => (RejectReason::BadPacket, format!("corrupt block: {other:?}")),
                };
                let no = *packet_no + 1;
                let _ = damage.set(format!(
                    "capture damaged at packet {no}: {what}; {} packets before it were read",
                    *packet_no
                ));
                reject(no, reason, what, &[]);
                *done = true;
                finish(flows);
            }
        }
    }
}

/// Microseconds since the epoch of a raw time stamp in interface units.
fn stamp(raw: u64, iface: Iface) -> i64 {
    let us = u128::from(raw) * 1_000_000 / u128::from(iface.resolution);
    (us.min(i64::MAX as u128) as i64).saturating_add(iface.offset.saturating_mul(1_000_000))
}

fn dns_of(p: &Packet<'_>, name: &mut String) -> Option<DnsInfo> {
    let (sp, dp) = p.ports?;
    if !matches!(sp, 53 | 5353) && !matches!(dp, 53 | 5353) {
        return None;
    }
    match p.proto {
        Some(17) => dns::parse(p.payload, name),
        // DNS over TCP: a two-byte length, then the message (when the segment starts one).
        Some(6) if p.payload.len() > 14 => dns::parse(&p.payload[2..], name),
        _ => None,
    }
}

fn set_addr(row: &mut Row, c: S, a: IpAddr) {
    row.set_with(c, |o| {
        let _ = write!(o, "{a}");
    });
}

fn write_packet(
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

fn write_flow(row: &mut Row, k: &Key, f: &Flow) {
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
fn hex_head(data: &[u8]) -> String {
    let mut s = String::with_capacity(128);
    for b in data.iter().take(64) {
        let _ = write!(s, "{b:02x}");
    }
    if data.len() > 64 {
        s.push_str("...");
    }
    s
}
