//! Bidirectional flows from packets, like Argus or NetFlow: packets with the same
//! protocol and the same two endpoints (address and port, in either direction) belong
//! to one flow until it has been idle for the timeout (in capture time). The first
//! packet's sender is the originator (`src_*`); counts and bytes are kept per direction.
//!
//! Memory is bounded: idle flows are swept out as capture time advances, and at most
//! `max_open` flows are held (beyond it the longest-idle tenth is emitted early).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use super::decode::{Packet, PfMeta};
use super::dns::DnsInfo;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    /// IP protocol number; 256 for ARP.
    pub proto: u16,
    pub a: IpAddr,
    pub pa: u16,
    pub b: IpAddr,
    pub pb: u16,
}

/// One flow's counters.
#[derive(Clone, Debug)]
pub(crate) struct Flow {
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    /// Packet number of the first packet (the event's `line`).
    pub first_no: u64,
    pub last_no: u64,
    /// True when endpoint `a` of the key sent the first packet.
    pub orig_is_a: bool,
    /// Packets and bytes sent by the originator [0] and the responder [1].
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    /// Union of the TCP flags seen in the flow.
    pub tcp_flags: Option<u8>,
    /// First DNS question and the first response code seen.
    pub dns: Option<FlowDns>,
    pub pf: Option<PfMeta>,
    pub vlan: Option<u16>,
}

#[derive(Clone, Debug)]
pub(crate) struct FlowDns {
    pub id: u16,
    pub qname: String,
    pub qtype: Option<u16>,
    pub rcode: Option<u8>,
}

pub(crate) struct FlowTable {
    open: HashMap<Key, Flow>,
    idle_us: i64,
    max_open: usize,
    last_sweep: Option<i64>,
    since_sweep: u32,
    /// Finished flows waiting to be written.
    pub done: VecDeque<(Key, Flow)>,
}

impl FlowTable {
    pub fn new(idle_us: i64, max_open: usize) -> Self {
        FlowTable {
            open: HashMap::new(),
            idle_us: idle_us.max(1),
            max_open: max_open.max(16),
            last_sweep: None,
            since_sweep: 0,
            done: VecDeque::new(),
        }
    }

    /// Counts one packet into its flow.
    pub fn add(
        &mut self,
        p: &Packet<'_>,
        ts: Option<i64>,
        no: u64,
        wire_len: u64,
        dns: Option<(DnsInfo, &str)>,
    ) {
        let (sport, dport) = p.ports.unwrap_or((0, 0));
        let proto = p.proto.map_or(256, u16::from);
        let (key, from_a) = if (p.src, sport) <= (p.dst, dport) {
            (
                Key {
                    proto,
                    a: p.src,
                    pa: sport,
                    b: p.dst,
                    pb: dport,
                },
                true,
            )
        } else {
            (
                Key {
                    proto,
                    a: p.dst,
                    pa: dport,
                    b: p.src,
                    pb: sport,
                },
                false,
            )
        };
        if let (Some(t), Some(f)) = (ts, self.open.get(&key))
            && f.last_ts.is_some_and(|l| t - l > self.idle_us)
        {
            let f = self.open.remove(&key).expect("present");
            self.done.push_back((key, f));
        }
        let flow = self.open.entry(key).or_insert_with(|| Flow {
            first_ts: ts,
            last_ts: ts,
            first_no: no,
            last_no: no,
            orig_is_a: from_a,
            packets: [0; 2],
            bytes: [0; 2],
            tcp_flags: None,
            dns: None,
            pf: p.pf.clone(),
            vlan: p.vlan,
        });
        let dir = usize::from(from_a != flow.orig_is_a);
        flow.packets[dir] += 1;
        flow.bytes[dir] += wire_len;
        if ts.is_some() {
            flow.last_ts = ts;
        }
        flow.last_no = no;
        if let Some(f) = p.tcp_flags {
            flow.tcp_flags = Some(flow.tcp_flags.unwrap_or(0) | f);
        }
        if let Some((info, name)) = dns {
            let d = flow.dns.get_or_insert_with(|| FlowDns {
                id: info.id,
                qname: name.to_string(),
                qtype: info.qtype,
                rcode: None,
            });
            if info.response && d.rcode.is_none() {
                d.rcode = Some(info.rcode);
            }
        }
        self.since_sweep += 1;
        if self.open.len() > self.max_open {
            self.evict_oldest();
        } else if let Some(t) = ts
            && self.since_sweep >= 4096
            && self.last_sweep.is_none_or(|s| t - s >= self.idle_us / 2)
        {
            self.sweep(t);
        }
    }

    /// Moves flows idle at time `now` to `done`, oldest first.
    fn sweep(&mut self, now: i64) {
        self.since_sweep = 0;
        self.last_sweep = Some(now);
        let idle = self.idle_us;
        let mut expired: Vec<(Key, Flow)> = Vec::new();
        self.open.retain(|k, f| {
            let keep = f.last_ts.is_none_or(|l| now - l <= idle);
            if !keep {
                expired.push((*k, f.clone()));
            }
            keep
        });
        expired.sort_by_key(|(_, f)| f.first_no);
        self.done.extend(expired);
    }

    fn evict_oldest(&mut self) {
        let mut all: Vec<(i64, u64, Key)> = self
            .open
            .iter()
            .map(|(k, f)| (f.last_ts.unwrap_or(0), f.last_no, *k))
            .collect();
        all.sort_unstable();
        let n = (self.open.len() / 10).max(1);
        let mut out: Vec<(Key, Flow)> = all[..n]
            .iter()
            .filter_map(|(_, _, k)| self.open.remove(k).map(|f| (*k, f)))
            .collect();
        out.sort_by_key(|(_, f)| f.first_no);
        self.done.extend(out);
    }

    /// Ends every open flow (end of input), in order of their first packet.
    pub fn finish(&mut self) {
        let mut rest: Vec<(Key, Flow)> = self.open.drain().collect();
        rest.sort_by_key(|(_, f)| f.first_no);
        self.done.extend(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkt(src: &str, sp: u16, dst: &str, dp: u16) -> Packet<'static> {
        Packet {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            proto: Some(6),
            ports: Some((sp, dp)),
            tcp_flags: Some(0x02),
            payload: &[],
            icmp: None,
            vlan: None,
            fragment: false,
            pf: None,
        }
    }

    #[test]
    fn both_directions_make_one_flow_and_idle_splits() {
        let mut t = FlowTable::new(60_000_000, 100);
        t.add(&pkt("10.0.0.2", 5000, "10.0.0.1", 80), Some(0), 1, 60, None);
        t.add(
            &pkt("10.0.0.1", 80, "10.0.0.2", 5000),
            Some(1_000),
            2,
            1500,
            None,
        );
        t.add(
            &pkt("10.0.0.2", 5000, "10.0.0.1", 80),
            Some(2_000),
            3,
            60,
            None,
        );
        // Idle for more than a minute: a new flow.
        t.add(
            &pkt("10.0.0.1", 80, "10.0.0.2", 5000),
            Some(70_000_000),
            4,
            40,
            None,
        );
        t.finish();
        let flows: Vec<_> = t.done.iter().collect();
        assert_eq!(flows.len(), 2);
        let (k, f) = flows[0];
        assert_eq!(f.first_no, 1);
        assert_eq!(f.packets, [2, 1]);
        assert_eq!(f.bytes, [120, 1500]);
        // The originator is 10.0.0.2 (sent the first packet).
        let orig = if f.orig_is_a { k.a } else { k.b };
        assert_eq!(orig.to_string(), "10.0.0.2");
        let (k, f) = flows[1];
        assert_eq!(f.packets, [1, 0]);
        let orig = if f.orig_is_a { k.a } else { k.b };
        assert_eq!(orig.to_string(), "10.0.0.1");
    }

    #[test]
    fn open_flows_are_bounded() {
        let mut t = FlowTable::new(i64::MAX / 4, 16);
        for i in 0..1000u16 {
            t.add(
                &pkt("10.0.0.2", i, "10.0.0.1", 80),
                Some(i64::from(i)),
                u64::from(i) + 1,
                60,
                None,
            );
            assert!(t.open.len() <= 17);
        }
        t.finish();
        assert_eq!(t.done.len(), 1000);
        assert_eq!(t.done.iter().map(|(_, f)| f.packets[0]).sum::<u64>(), 1000);
    }
}
