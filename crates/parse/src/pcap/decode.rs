//! One captured frame to the fields of an event: link layer (Ethernet with VLAN tags,
//! Linux SLL/SLL2, raw IP, BSD loopback, pflog), IPv4/IPv6, TCP/UDP/ICMP, ARP.
//! Layers are sliced by etherparse in its lax mode, so a frame cut by the snapshot
//! length still yields what its headers hold.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};

use crate::reject::RejectReason;

/// Link types (LINKTYPE_* values of pcap).
pub(crate) mod link {
    pub const NULL: i32 = 0;
    pub const ETHERNET: i32 = 1;
    pub const RAW_BSD: i32 = 12;
    pub const RAW_OPENBSD: i32 = 14;
    pub const RAW: i32 = 101;
    pub const LOOP: i32 = 108;
    pub const LINUX_SLL: i32 = 113;
    pub const PFLOG: i32 = 117;
    pub const IPV4: i32 = 228;
    pub const IPV6: i32 = 229;
    pub const LINUX_SLL2: i32 = 276;
}

/// pf's log header (link type PFLOG): what the firewall did with the packet.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PfMeta {
    pub action: &'static str,
    pub dir: &'static str,
    pub ifname: String,
    pub rule: u32,
}

/// The decoded fields of one frame.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Packet<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP protocol number; `None` for ARP.
    pub proto: Option<u8>,
    pub ports: Option<(u16, u16)>,
    pub tcp_flags: Option<u8>,
    /// Transport payload (possibly cut by the snapshot length).
    pub payload: &'a [u8],
    pub icmp: Option<(u8, u8)>,
    pub vlan: Option<u16>,
    /// A non-first IPv4/IPv6 fragment (no transport header).
    pub fragment: bool,
    pub pf: Option<PfMeta>,
}

pub(crate) type DecodeError = (RejectReason, Cow<'static, str>);

fn err<T>(r: RejectReason, d: impl Into<Cow<'static, str>>) -> Result<T, DecodeError> {
    Err((r, d.into()))
}

/// Decodes a frame of the given link type.
pub(crate) fn decode(linktype: i32, data: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let mut pf = None;
    let sliced = match linktype {
        link::ETHERNET => match LaxSlicedPacket::from_ethernet(data) {
            Ok(s) => s,
            Err(_) => {
                return err(
                    RejectReason::BadPacket,
                    "frame shorter than an Ethernet header",
                );
            }
        },
        link::LINUX_SLL => {
            let Some(h) = data.get(..16) else {
                return err(
                    RejectReason::BadPacket,
                    "frame shorter than a Linux SLL header",
                );
            };
            LaxSlicedPacket::from_ether_type(
                EtherType(u16::from_be_bytes([h[14], h[15]])),
                &data[16..],
            )
        }
        link::LINUX_SLL2 => {
            let Some(h) = data.get(..20) else {
                return err(
                    RejectReason::BadPacket,
                    "frame shorter than a Linux SLL2 header",
                );
            };
            LaxSlicedPacket::from_ether_type(
                EtherType(u16::from_be_bytes([h[0], h[1]])),
                &data[20..],
            )
        }
        link::RAW | link::RAW_BSD | link::RAW_OPENBSD | link::IPV4 | link::IPV6 => from_ip(data)?,
        link::NULL | link::LOOP => {
            let Some(rest) = data.get(4..) else {
                return err(
                    RejectReason::BadPacket,
                    "frame shorter than a loopback header",
                );
            };
            from_ip(rest)?
        }
        link::PFLOG => {
            let (meta, rest) = pflog(data)?;
            pf = Some(meta);
            from_ip(rest)?
        }
        other => {
            return err(
                RejectReason::Unsupported,
                format!("link type {other} is not decoded"),
            );
        }
    };
    let vlan = sliced.link_exts.iter().find_map(|e| match e {
        etherparse::LaxLinkExtSlice::Vlan(v) => Some(v.vlan_identifier().value()),
        _ => None,
    });
    let mut p = match &sliced.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let pl = ip.payload();
            Packet {
                src: IpAddr::V4(Ipv4Addr::from(h.source())),
                dst: IpAddr::V4(Ipv4Addr::from(h.destination())),
                proto: Some(pl.ip_number.0),
                ports: None,
                tcp_flags: None,
                payload: pl.payload,
                icmp: None,
                vlan,
                fragment: pl.fragmented && u16::from(h.fragments_offset()) != 0,
                pf,
            }
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let h = ip.header();
            let pl = ip.payload();
            Packet {
                src: IpAddr::V6(Ipv6Addr::from(h.source())),
                dst: IpAddr::V6(Ipv6Addr::from(h.destination())),
                proto: Some(pl.ip_number.0),
                ports: None,
                tcp_flags: None,
                payload: pl.payload,
                icmp: None,
                vlan,
                fragment: pl.fragmented && sliced.transport.is_none(),
                pf,
            }
        }
        Some(LaxNetSlice::Arp(a)) => {
            let (s, t) = (a.sender_protocol_addr(), a.target_protocol_addr());
            let (Ok(s), Ok(t)) = (<[u8; 4]>::try_from(s), <[u8; 4]>::try_from(t)) else {
                return err(
                    RejectReason::Unsupported,
                    "ARP for a protocol other than IPv4",
                );
            };
            return Ok(Packet {
                src: IpAddr::V4(Ipv4Addr::from(s)),
                dst: IpAddr::V4(Ipv4Addr::from(t)),
                proto: None,
                ports: None,
                tcp_flags: None,
                payload: &[],
                icmp: Some((a.operation().0 as u8, 0)),
                vlan,
                fragment: false,
                pf,
            });
        }
        None => {
            if let Some((e, layer)) = &sliced.stop_err {
                return err(RejectReason::BadPacket, format!("{layer:?} header: {e}"));
            }
            let et = ether_type(linktype, data);
            return match et {
                Some(t) if t < 0x0600 => err(
                    RejectReason::Unsupported,
                    "an IEEE 802.3 frame (STP, CDP, ...), not IP",
                ),
                Some(t) => err(
                    RejectReason::Unsupported,
                    format!("ethertype 0x{t:04x} is not IP or ARP"),
                ),
                None => err(RejectReason::Unsupported, "not an IP packet"),
            };
        }
    };
    match &sliced.transport {
        Some(TransportSlice::Tcp(t)) => {
            p.ports = Some((t.source_port(), t.destination_port()));
            p.tcp_flags = Some(t.slice().get(13).copied().unwrap_or(0));
            p.payload = t.payload();
        }
        Some(TransportSlice::Udp(u)) => {
            p.ports = Some((u.source_port(), u.destination_port()));
            p.payload = u.payload();
        }
        Some(TransportSlice::Icmpv4(i)) => {
            p.icmp = Some((i.type_u8(), i.code_u8()));
            p.payload = i.payload();
        }
        Some(TransportSlice::Icmpv6(i)) => {
            p.icmp = Some((i.type_u8(), i.code_u8()));
            p.payload = i.payload();
        }
        _ => {
            // Cut by the snapshot length inside the transport header: ports may still be there.
            if matches!(p.proto, Some(6) | Some(17) | Some(132))
                && !p.fragment
                && p.payload.len() >= 4
            {
                let b = p.payload;
                p.ports = Some((
                    u16::from_be_bytes([b[0], b[1]]),
                    u16::from_be_bytes([b[2], b[3]]),
                ));
                if p.proto == Some(6) && b.len() >= 14 {
                    p.tcp_flags = Some(b[13]);
                }
                p.payload = &[];
            }
        }
    }
    Ok(p)
}

fn from_ip(data: &[u8]) -> Result<LaxSlicedPacket<'_>, DecodeError> {
    LaxSlicedPacket::from_ip(data)
        .or_else(|e| err(RejectReason::BadPacket, format!("IP header: {e}")))
}

/// The ethertype of an Ethernet/SLL frame, for messages about unsupported ones.
fn ether_type(linktype: i32, data: &[u8]) -> Option<u16> {
    let at = match linktype {
        link::ETHERNET => {
            let mut at = 12;
            while matches!(
                data.get(at..at + 2),
                Some([0x81, 0x00]) | Some([0x88, 0xa8])
            ) {
                at += 4;
            }
            at
        }
        link::LINUX_SLL => 14,
        link::LINUX_SLL2 => 0,
        _ => return None,
    };
    data.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
}

/// OpenBSD/FreeBSD `struct pfloghdr`: length, af, action, reason, ifname[16],
/// ruleset[16], rulenr, subrulenr, uid, pid, rule_uid, rule_pid, dir, ...
fn pflog(data: &[u8]) -> Result<(PfMeta, &[u8]), DecodeError> {
    let Some(&len) = data.first() else {
        return err(RejectReason::BadPacket, "empty pflog frame");
    };
    let hlen = (usize::from(len) + 3) & !3;
    if hlen < 61 || data.len() < hlen {
        return err(RejectReason::BadPacket, "pflog header too short");
    }
    let action = match data[2] {
        0 => "pass",
        1 => "block",
        2 => "scrub",
        3 => "noscrub",
        4 => "nat",
        5 => "nonat",
        6 => "binat",
        7 => "nobinat",
        8 => "rdr",
        9 => "nordr",
        10 => "synproxy-drop",
        11 => "defer",
        12 => "match",
        13 => "divert",
        14 => "rt",
        15 => "afrt",
        _ => "unknown",
    };
    let ifname = &data[4..20];
    let ifname =
        String::from_utf8_lossy(&ifname[..ifname.iter().position(|&c| c == 0).unwrap_or(16)])
            .into_owned();
    let rule = u32::from_be_bytes([data[36], data[37], data[38], data[39]]);
    let dir = match data[60] {
        1 => "in",
        2 => "out",
        _ => "",
    };
    Ok((
        PfMeta {
            action,
            dir,
            ifname,
            rule,
        },
        &data[hlen..],
    ))
}

/// Name of an IP protocol number.
pub(crate) fn proto_name(p: Option<u8>) -> Cow<'static, str> {
    Cow::Borrowed(match p {
        None => "arp",
        Some(1) => "icmp",
        Some(2) => "igmp",
        Some(6) => "tcp",
        Some(17) => "udp",
        Some(41) => "ipv6",
        Some(47) => "gre",
        Some(50) => "esp",
        Some(51) => "ah",
        Some(58) => "icmp6",
        Some(89) => "ospf",
        Some(103) => "pim",
        Some(112) => "vrrp",
        Some(132) => "sctp",
        Some(n) => return Cow::Owned(n.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn tcp_frame() -> Vec<u8> {
        let b = PacketBuilder::ethernet2([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12])
            .ipv4([192, 168, 1, 1], [192, 168, 1, 2], 64)
            .tcp(40000, 80, 1, 65535)
            .syn()
            .ack(5);
        let payload = b"GET / HTTP/1.1\r\n";
        let mut out = Vec::with_capacity(b.size(payload.len()));
        b.write(&mut out, payload).unwrap();
        out
    }

    #[test]
    fn ethernet_ipv4_tcp() {
        let f = tcp_frame();
        let p = decode(link::ETHERNET, &f).unwrap();
        assert_eq!(p.src.to_string(), "192.168.1.1");
        assert_eq!(p.dst.to_string(), "192.168.1.2");
        assert_eq!(p.proto, Some(6));
        assert_eq!(p.ports, Some((40000, 80)));
        assert_eq!(p.tcp_flags, Some(0x12));
        assert_eq!(p.payload, b"GET / HTTP/1.1\r\n");
    }

    #[test]
    fn cut_by_snaplen_keeps_the_ports() {
        let f = tcp_frame();
        let p = decode(link::ETHERNET, &f[..14 + 20 + 8]).unwrap();
        assert_eq!(p.ports, Some((40000, 80)));
        assert_eq!(p.tcp_flags, None);
    }

    #[test]
    fn raw_ipv6_udp_and_garbage() {
        let b = PacketBuilder::ipv6(
            [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
            64,
        )
        .udp(5353, 53);
        let mut out = Vec::new();
        b.write(&mut out, &[0u8; 12]).unwrap();
        let p = decode(link::RAW, &out).unwrap();
        assert_eq!(p.src.to_string(), "2001:db8::1");
        assert_eq!(p.ports, Some((5353, 53)));
        assert_eq!(
            decode(link::RAW, &[0x45, 0]).unwrap_err().0,
            RejectReason::BadPacket
        );
        assert_eq!(
            decode(link::ETHERNET, &[0; 5]).unwrap_err().0,
            RejectReason::BadPacket
        );
        let mut lldp = vec![0u8; 14];
        lldp[12] = 0x88;
        lldp[13] = 0xcc;
        assert_eq!(
            decode(link::ETHERNET, &lldp).unwrap_err().0,
            RejectReason::Unsupported
        );
        assert_eq!(decode(999, &lldp).unwrap_err().0, RejectReason::Unsupported);
    }
}
