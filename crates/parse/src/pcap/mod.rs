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
mod rows;

use std::io::BufRead;

use arrow_array::RecordBatch;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{Block, PcapBlockOwned, PcapError, create_reader};

use crate::batch::BatchBuilder;
use crate::error::ParseError;
use crate::input::Damage;
use crate::options::{ParseOptions, PcapMode};
use crate::reject::{Reject, RejectReason, Summary};
use crate::row::Row;
use decode::{Packet, decode};
use dns::DnsInfo;
use flows::FlowTable;
use rows::{hex_head, write_flow, write_packet};

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
