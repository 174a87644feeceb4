//! Generated data of every kind parses with zero rejects.

mod common;

use common::*;
use secviz_parse::{Format, ParseOptions};

#[test]
fn generated_pf_parses_without_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate(dir.path(), "pf", 20_000, 3);
    let p = parse_path(
        &path,
        ParseOptions {
            year: Some(2005),
            batch_rows: 4096,
            ..Default::default()
        },
    );
    assert_eq!(p.summary.format, Some(Format::Pf));
    assert_eq!(p.summary.read, 20_000);
    assert_eq!(
        p.summary.parsed,
        20_000,
        "rejects: {:?}",
        &p.rejects[..p.rejects.len().min(5)]
    );
    assert_eq!(p.batches.len(), 5);
    // Every line has a time in 2005, addresses and a rule.
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
    assert!(p.column("dns_qname").iter().any(|q| !q.is_empty()));
}
