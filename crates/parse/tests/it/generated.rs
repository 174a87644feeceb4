//! Generated data of every kind parses with zero rejects, also gzip-compressed.

use crate::common;

use std::io::Write;

use common::*;
use secviz_parse::{Format, ParseOptions};

#[test]
fn generated_pf_parses_without_rejects() {
    let dir = tempfile::tempdir().unwrap();
    for seed in [1, 3, 7] {
        let path = generate(dir.path(), "pf", 20_000, seed);
        let p = parse_path(
            &path,
            ParseOptions {
                year: Some(2005),
                batch_rows: 4096,
                ..Default::default()
            },
        );
        assert_eq!(p.summary.format, Some(Format::Pf));
        assert_eq!(
            (p.summary.read, p.summary.parsed),
            (20_000, 20_000),
            "seed {seed}: {:?}",
            &p.rejects[..p.rejects.len().min(3)]
        );
        assert_eq!(p.batches.len(), 5);
        assert!(
            p.column("time")
                .iter()
                .all(|t| t.starts_with("2005-10-21T"))
        );
        assert!(p.column("src_ip").iter().all(|s| !s.is_empty()));
        assert!(p.column("rule").iter().all(|s| !s.is_empty()));
        let protos = p.column("protocol");
        for want in ["tcp", "udp", "icmp"] {
            assert!(protos.iter().any(|x| x == want), "{want} present");
        }
        // Every UDP line to port 53 is a DNS event with an id.
        let (dport, class, id) = (
            p.column("dst_port"),
            p.column("event_class"),
            p.column("dns_id"),
        );
        for i in 0..dport.len() {
            if dport[i] == "53" && protos[i] == "udp" {
                assert_eq!(class[i], "dns_activity");
                assert!(!id[i].is_empty());
            }
        }
        assert!(
            p.column("dns_qname")
                .iter()
                .any(|q| q == "www.wireshark.org")
        );
        assert!(
            p.column("extra")
                .iter()
                .any(|e| e.contains(r#""truncated":true"#))
        );
    }
}

#[test]
fn generated_flows_csv_maps_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate(dir.path(), "flows", 30_000, 2);
    let p = parse_path(&path, ParseOptions::default());
    assert_eq!(p.summary.format, Some(Format::Csv));
    assert_eq!(
        (p.summary.read, p.summary.parsed, p.summary.skipped),
        (30_000, 30_000, 1)
    );
    // ts,src,sport,dst,dport,proto,bytes,packets
    let first = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let v: Vec<&str> = first.split(',').collect();
    let row = p.row(0, "src_ip,src_port,dst_ip,dst_port,protocol,bytes,packets");
    assert_eq!(
        row,
        v[1..].iter().map(|s| s.to_string()).collect::<Vec<_>>()
    );
    assert!(p.row(0, "time")[0].starts_with("2011-10-11T00:00:00."));
    assert!(
        p.column("extra").iter().all(String::is_empty),
        "nothing left unmapped"
    );
}

#[test]
fn generated_afterglow_csv_is_headerless() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate(dir.path(), "afterglow", 10_000, 4);
    let p = parse_path(&path, ParseOptions::default());
    assert_eq!(p.summary.format, Some(Format::Csv));
    assert_eq!(
        (p.summary.read, p.summary.parsed, p.summary.skipped),
        (10_000, 10_000, 0)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let first: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(p.row(0, "src_ip,action,dst_ip"), first);
    let actions = p.column("action");
    for a in ["irc-join", "dns-query", "web"] {
        assert!(actions.iter().any(|x| x == a), "{a}");
    }
}

#[test]
fn gzip_input_is_read_transparently() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate(dir.path(), "pf", 5_000, 9);
    let plain = std::fs::read(&path).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&plain).unwrap();
    let gz = enc.finish().unwrap();
    let a = parse_bytes(
        &plain,
        ParseOptions {
            year: Some(2005),
            ..Default::default()
        },
    );
    let b = parse_bytes(
        &gz,
        ParseOptions {
            year: Some(2005),
            ..Default::default()
        },
    );
    assert_eq!(b.summary.parsed, 5_000);
    assert_eq!(a.column("raw"), b.column("raw"));
    assert_eq!(a.column("time"), b.column("time"));
}
