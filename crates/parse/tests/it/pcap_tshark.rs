//! pcap flows agree with Wireshark: for every real capture, per IPv4 conversation
//! (`tshark -q -z conv,ip`), frames in each direction and bytes agree with the sum of
//! secviz's flows between the same two addresses. tshark 4.0 prints bytes rounded
//! (`308 kB`), so bytes are also checked exactly against tshark's per-frame lengths.
//!
//! Needs tshark (scripts/setup-test-env.sh installs it).

use crate::common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use common::*;
use secviz_parse::{ParseOptions, PcapMode};

/// (A, B) -> (frames A->B, frames B->A, bytes A->B, bytes B->A)
type Convs = BTreeMap<(String, String), (u64, u64, u64, u64)>;

const CAPTURES: &[&str] = &[
    "dns.pcap",
    "http.pcap",
    "port-scan-of-a-host.pcap",
    "445-tcp-scan.pcap",
    "identify-services-per-host.pcap",
    "ssh-over-443.pcap",
    "scanner.pcap",
    "ssl.pcap",
    "http-basic-auth.pcap",
];

fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(args)
        .output()
        .expect("tshark is installed (scripts/setup-test-env.sh installs it)");
    assert!(
        out.status.success(),
        "tshark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Wireshark 4.0's `format_size` for conversation bytes: SI units, integer division.
fn wireshark_size(b: u64) -> String {
    if b / 1_000_000_000_000 >= 10 {
        format!("{} TB", b / 1_000_000_000_000)
    } else if b / 1_000_000_000 >= 10 {
        format!("{} GB", b / 1_000_000_000)
    } else if b / 1_000_000 >= 10 {
        format!("{} MB", b / 1_000_000)
    } else if b / 1000 >= 10 {
        format!("{} kB", b / 1000)
    } else {
        format!("{b} bytes")
    }
}

/// Conversations from `-z conv,ip`: (A, B) -> (frames B->A "<-", bytes text, frames A->B "->", bytes text).
fn conv_ip(path: &str) -> BTreeMap<(String, String), (u64, String, u64, String)> {
    let text = tshark(&["-r", path, "-q", "-z", "conv,ip"]);
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.len() < 9 || w[1] != "<->" {
            continue;
        }
        // A <-> B  f_in n unit  f_out n unit  total n unit  start duration
        let left = (w[3].parse().unwrap(), format!("{} {}", w[4], w[5]));
        let right = (w[6].parse().unwrap(), format!("{} {}", w[7], w[8]));
        out.insert(
            (w[0].to_string(), w[2].to_string()),
            (left.0, left.1, right.0, right.1),
        );
    }
    out
}

/// Exact bytes per directed IPv4 pair from tshark's frame lengths (outer IP layer).
fn frame_bytes(path: &str) -> BTreeMap<(String, String), (u64, u64)> {
    let text = tshark(&[
        "-r",
        path,
        "-T",
        "fields",
        "-E",
        "occurrence=f",
        "-e",
        "ip.src",
        "-e",
        "ip.dst",
        "-e",
        "frame.len",
        "ip",
    ]);
    let mut out: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split('\t').collect();
        let e = out.entry((w[0].to_string(), w[1].to_string())).or_default();
        e.0 += 1;
        e.1 += w[2].parse::<u64>().unwrap();
    }
    out
}

fn secviz_convs(path: &str) -> Convs {
    let p = parse_path(
        path,
        ParseOptions {
            pcap: PcapMode::Flows {
                idle_timeout: Duration::from_secs(60),
            },
            ..Default::default()
        },
    );
    assert_eq!(p.summary.rejected_total(), 0, "{path}: {}", p.summary);
    let rows = p.column("src_ip").into_iter().zip(p.column("dst_ip"));
    let (sp, dp) = (p.column("src_packets"), p.column("dst_packets"));
    let (sb, db) = (p.column("src_bytes"), p.column("dst_bytes"));
    let mut out = Convs::new();
    for (i, (s, d)) in rows.enumerate() {
        if s.contains(':') {
            continue; // IPv6: not in conv,ip
        }
        let n = |v: &Vec<String>| v[i].parse::<u64>().unwrap();
        let (ab, key) = if s <= d {
            (true, (s, d))
        } else {
            (false, (d, s))
        };
        let e = out.entry(key).or_default();
        if ab {
            e.0 += n(&sp);
            e.1 += n(&dp);
            e.2 += n(&sb);
            e.3 += n(&db);
        } else {
            e.0 += n(&dp);
            e.1 += n(&sp);
            e.2 += n(&db);
            e.3 += n(&sb);
        }
    }
    out
}

#[test]
fn pcap_flows_agree_with_tshark_per_conversation() {
    for name in CAPTURES {
        let path = real(&format!("zeek-training/{name}"));
        let path = path.to_str().unwrap();
        let ours = secviz_convs(path);
        let theirs = conv_ip(path);
        assert!(!theirs.is_empty(), "{name}: tshark found no conversations");
        assert_eq!(ours.len(), theirs.len(), "{name}: number of conversations");
        let exact = frame_bytes(path);
        for ((a, b), (b_to_a, b_to_a_bytes, a_to_b, a_to_b_bytes)) in &theirs {
            let key = if a <= b {
                (a.clone(), b.clone())
            } else {
                (b.clone(), a.clone())
            };
            let &(f_ab, f_ba, by_ab, by_ba) = ours
                .get(&key)
                .unwrap_or_else(|| panic!("{name}: no flow between {a} and {b}"));
            // Orient our sums as tshark's A -> B.
            let (ours_a_to_b, ours_b_to_a, bytes_a_to_b, bytes_b_to_a) = if a <= b {
                (f_ab, f_ba, by_ab, by_ba)
            } else {
                (f_ba, f_ab, by_ba, by_ab)
            };
            assert_eq!(
                (ours_a_to_b, ours_b_to_a),
                (*a_to_b, *b_to_a),
                "{name}: frames {a} <-> {b}"
            );
            assert_eq!(
                &wireshark_size(bytes_a_to_b),
                a_to_b_bytes,
                "{name}: bytes {a} -> {b}"
            );
            assert_eq!(
                &wireshark_size(bytes_b_to_a),
                b_to_a_bytes,
                "{name}: bytes {b} -> {a}"
            );
            let exact_ab = exact.get(&(a.clone(), b.clone())).map_or(0, |e| e.1);
            let exact_ba = exact.get(&(b.clone(), a.clone())).map_or(0, |e| e.1);
            assert_eq!(
                (bytes_a_to_b, bytes_b_to_a),
                (exact_ab, exact_ba),
                "{name}: exact bytes {a} <-> {b}"
            );
        }
    }
}

#[test]
fn packets_mode_counts_every_frame_like_tshark() {
    for name in CAPTURES {
        let path = real(&format!("zeek-training/{name}"));
        let frames = tshark(&[
            "-r",
            path.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "frame.number",
        ])
        .lines()
        .count() as u64;
        let p = parse_path(&path, ParseOptions::default());
        assert_eq!(p.summary.read, frames, "{name}");
        assert_eq!(p.summary.parsed, frames, "{name}: {}", p.summary);
    }
}
