//! Capture containers and link layers beyond the real samples: pcapng (with a
//! nanosecond interface), Linux SLL, raw IP, pflog and IPv6, built here byte by byte.

use crate::common;

use common::*;
use etherparse::PacketBuilder;
use secviz_parse::ParseOptions;

fn udp_dns_ipv4() -> Vec<u8> {
    // A DNS query for example.org, type MX.
    let mut dns = vec![0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7];
    dns.extend_from_slice(b"example\x03org\x00\x00\x0f\x00\x01");
    let b = PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 53], 64).udp(40000, 53);
    let mut out = Vec::new();
    b.write(&mut out, &dns).unwrap();
    out
}

fn tcp_ipv6() -> Vec<u8> {
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[15] = 1;
    let mut b = a;
    b[15] = 2;
    let p = PacketBuilder::ipv6(a, b, 64)
        .tcp(443, 50000, 7, 1000)
        .syn()
        .ack(1);
    let mut out = Vec::new();
    p.write(&mut out, &[]).unwrap();
    out
}

fn legacy_pcap(linktype: u32, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65535u32.to_le_bytes());
    f.extend_from_slice(&linktype.to_le_bytes());
    for (i, d) in frames.iter().enumerate() {
        f.extend_from_slice(&(1_600_000_000u32 + i as u32).to_le_bytes());
        f.extend_from_slice(&250_000u32.to_le_bytes());
        f.extend_from_slice(&(d.len() as u32).to_le_bytes());
        f.extend_from_slice(&(d.len() as u32).to_le_bytes());
        f.extend_from_slice(d);
    }
    f
}

fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let len = 12 + body.len().div_ceil(4) * 4;
    let mut b = Vec::new();
    b.extend_from_slice(&kind.to_le_bytes());
    b.extend_from_slice(&(len as u32).to_le_bytes());
    b.extend_from_slice(body);
    b.resize(len - 4, 0);
    b.extend_from_slice(&(len as u32).to_le_bytes());
    b
}

#[test]
fn pcapng_with_a_nanosecond_interface() {
    let mut f = Vec::new();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    f.extend(block(0x0a0d_0d0a, &shb));
    // Interface 0: raw IP, if_tsresol = 9 (nanoseconds).
    let mut idb = Vec::new();
    idb.extend_from_slice(&101u16.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&0u32.to_le_bytes());
    idb.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
    f.extend(block(1, &idb));
    let pkt = udp_dns_ipv4();
    let ts: u64 = 1_600_000_000_123_456_789;
    let mut epb = Vec::new();
    epb.extend_from_slice(&0u32.to_le_bytes());
    epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
    epb.extend_from_slice(&(ts as u32).to_le_bytes());
    epb.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
    epb.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
    epb.extend_from_slice(&pkt);
    f.extend(block(6, &epb));
    let p = parse_bytes(&f, ParseOptions::default());
    assert_eq!((p.summary.read, p.summary.parsed), (1, 1), "{}", p.summary);
    assert_eq!(
        p.row(
            0,
            "time,src_ip,dst_ip,dst_port,protocol,dns_id,dns_qtype,dns_qname,bytes"
        ),
        [
            "2020-09-13T12:26:40.123456Z",
            "10.0.0.1",
            "10.0.0.53",
            "53",
            "udp",
            "48879",
            "MX",
            "example.org",
            &pkt.len().to_string()
        ]
    );
}

#[test]
fn linux_sll_raw_ip_and_ipv6() {
    let ip = udp_dns_ipv4();
    let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&ip);
    let p = parse_bytes(&legacy_pcap(113, &[sll]), ParseOptions::default());
    assert_eq!(
        p.row(0, "time,src_ip,dns_qname"),
        ["2020-09-13T12:26:40.250000Z", "10.0.0.1", "example.org"]
    );

    let p = parse_bytes(
        &legacy_pcap(101, &[ip, tcp_ipv6()]),
        ParseOptions::default(),
    );
    assert_eq!(p.summary.parsed, 2);
    assert_eq!(
        p.row(1, "src_ip,src_port,dst_ip,protocol,tcp_flags"),
        ["2001::1", "443", "2001::2", "tcp", "S."]
    );
}

#[test]
fn pflog_header_gives_action_direction_interface_rule() {
    let ip = udp_dns_ipv4();
    let mut hdr = vec![0u8; 64];
    hdr[0] = 61; // header length (padded to 64)
    hdr[1] = 2; // AF_INET
    hdr[2] = 1; // PF_DROP
    hdr[4..7].copy_from_slice(b"em0");
    hdr[36..40].copy_from_slice(&57u32.to_be_bytes());
    hdr[60] = 1; // in
    hdr.extend_from_slice(&ip);
    let p = parse_bytes(&legacy_pcap(117, &[hdr]), ParseOptions::default());
    assert_eq!(
        p.row(0, "action,direction,interface,rule,src_ip"),
        ["block", "in", "em0", "57", "10.0.0.1"]
    );
}

#[test]
fn non_ip_frames_are_rejected_with_their_ethertype() {
    let mut lldp = vec![0u8; 60];
    lldp[12] = 0x88;
    lldp[13] = 0xcc;
    let p = parse_bytes(&legacy_pcap(1, &[lldp]), ParseOptions::default());
    assert_eq!(p.summary.parsed, 0);
    assert!(
        p.rejects[0].detail.contains("0x88cc"),
        "{}",
        p.rejects[0].detail
    );
    assert_eq!(p.rejects[0].line, 1);
}
