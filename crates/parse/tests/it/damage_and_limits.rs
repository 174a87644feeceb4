//! Bad input gets a clear error and loses nothing: truncated gzip and pcap keep their
//! prefix, over-long lines are rejected without being held, strict mode stops at the
//! first reject, and odd readers (one byte at a time, CRLF, invalid UTF-8) work.

use crate::common;

use std::io::{Read, Write};

use common::*;
use secviz_parse::{EventStream, Format, Limits, ParseError, ParseOptions, PcapMode, RejectReason};

fn pf_text(lines: usize) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = generate(dir.path(), "pf", lines, 11);
    std::fs::read_to_string(p).unwrap()
}

fn opts() -> ParseOptions {
    ParseOptions {
        year: Some(2005),
        ..Default::default()
    }
}

#[test]
fn issue_3_truncated_gzip_keeps_prefix() {
    let text = pf_text(20_000);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    let cut = &gz[..gz.len() * 2 / 3];
    let p = parse_bytes(cut, opts());
    let s = &p.summary;
    assert!(
        s.damage.as_deref().is_some_and(|d| d.contains("gzip")),
        "{s}"
    );
    assert!(s.parsed > 5_000 && s.parsed < 20_000, "{s}");
    // Only the line the cut went through may be rejected, as truncated.
    assert!(s.rejected_total() <= 1);
    if let Some(r) = p.rejects.first() {
        assert_eq!(r.reason, RejectReason::Truncated);
        assert_eq!(r.line, s.parsed + 1);
    }
    // What was kept is exactly the start of the file.
    let want: Vec<String> = text
        .lines()
        .take(s.parsed as usize)
        .map(String::from)
        .collect();
    assert_eq!(p.column("raw"), want);
}

/// Number of whole packet records of a legacy pcap within `len` bytes.
fn whole_records(pcap: &[u8], len: usize) -> u64 {
    let mut at = 24;
    let mut n = 0;
    while at + 16 <= len {
        let caplen = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().unwrap()) as usize;
        if at + 16 + caplen > len {
            break;
        }
        at += 16 + caplen;
        n += 1;
    }
    n
}

#[test]
fn issue_3_truncated_pcap_keeps_prefix() {
    let pcap = std::fs::read(real("zeek-training/scanner.pcap")).unwrap();
    assert_eq!(
        &pcap[..4],
        &[0x4d, 0x3c, 0xb2, 0xa1],
        "little-endian nanosecond pcap"
    );
    for cut in [pcap.len() / 3, pcap.len() / 2 + 7, pcap.len() - 5] {
        let kept = whole_records(&pcap, cut);
        let p = parse_bytes(&pcap[..cut], ParseOptions::default());
        assert_eq!(p.summary.parsed, kept, "cut at {cut}");
        assert_eq!(
            p.summary.rejected.get(&RejectReason::Truncated),
            Some(&1),
            "cut at {cut}: {}",
            p.summary
        );
        assert!(
            p.summary
                .damage
                .as_deref()
                .is_some_and(|d| d.contains(&format!("packet {}", kept + 1)))
        );
        // Flows are still emitted for the prefix.
        let f = parse_bytes(
            &pcap[..cut],
            ParseOptions {
                pcap: PcapMode::Flows {
                    idle_timeout: std::time::Duration::from_secs(60),
                },
                ..Default::default()
            },
        );
        assert_eq!(f.summary.parsed, kept);
        let pk: u64 = f
            .column("packets")
            .iter()
            .map(|x| x.parse::<u64>().unwrap())
            .sum();
        assert_eq!(pk, kept);
    }
}

#[test]
fn over_long_lines_are_rejected_not_held() {
    let mut text = pf_text(100);
    let insert_at = text.match_indices('\n').nth(49).unwrap().0 + 1;
    text.insert_str(insert_at, &format!("{}\n", "A".repeat(3 << 20)));
    let p = parse_bytes(
        text.as_bytes(),
        ParseOptions {
            limits: Limits {
                max_line_bytes: 4096,
                ..Limits::default()
            },
            ..opts()
        },
    );
    assert_eq!((p.summary.read, p.summary.parsed), (101, 100));
    let r = &p.rejects[0];
    assert_eq!((r.line, r.reason), (51, RejectReason::LineTooLong));
    assert_eq!(r.raw.len(), 1024, "only the first KiB is kept");
    assert!(r.detail.contains(&(3usize << 20).to_string()));
}

#[test]
fn strict_stops_at_the_first_reject_after_the_good_rows() {
    let mut text = pf_text(50);
    text.push_str("this is not pf\n");
    text.push_str(&pf_text(5));
    let mut s = EventStream::open(
        std::io::Cursor::new(text.into_bytes()),
        ParseOptions {
            strict: true,
            ..opts()
        },
    )
    .unwrap();
    let mut seen = Vec::new();
    let first = s.next_batch(&mut |r| seen.push(r.line)).unwrap().unwrap();
    assert_eq!(first.num_rows(), 50);
    match s.next_batch(&mut |_| {}) {
        Err(ParseError::Strict(r)) => {
            assert_eq!(r.line, 51);
            assert_eq!(r.reason, RejectReason::Unrecognized);
        }
        other => panic!("expected the strict error, got {other:?}"),
    }
    assert_eq!(seen, [51]);
}

/// A reader that hands out one byte per read, like a slow pipe.
struct Trickle(std::io::Cursor<Vec<u8>>);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(1);
        self.0.read(&mut buf[..n])
    }
}

#[test]
fn detection_works_on_a_trickling_gzip_pipe() {
    let text = pf_text(300);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    let s =
        EventStream::open(Trickle(std::io::Cursor::new(enc.finish().unwrap())), opts()).unwrap();
    assert!(s.gzip());
    assert_eq!(s.format(), Format::Pf);
    let p = run(s);
    assert_eq!(p.summary.parsed, 300);
}

#[test]
fn crlf_blank_lines_and_invalid_utf8() {
    let data = b"Dec 10 06:55:46 LabSZ sshd[1]: Invalid user b\xffd from 1.2.3.4\r\n\r\n\nDec 10 06:55:47 LabSZ sshd[1]: ok\r\n".to_vec();
    let p = parse_bytes(&data, opts());
    assert_eq!(
        (p.summary.read, p.summary.parsed, p.summary.skipped),
        (2, 2, 2)
    );
    assert_eq!(p.row(0, "user,src_ip"), ["b\\xffd", "1.2.3.4"]);
    assert!(p.row(1, "raw")[0].ends_with("ok"), "CR stripped");
}

#[test]
fn unknown_or_empty_input_is_a_clear_error() {
    for data in [
        &b""[..],
        b"\x00\x01\x02\x03 binary \xff\xfe",
        b"just some words\nand more words\n",
    ] {
        match EventStream::open(std::io::Cursor::new(data.to_vec()), ParseOptions::default()) {
            Err(ParseError::UnknownFormat(why)) => assert!(!why.is_empty()),
            Err(e) => panic!("unexpected error {e}"),
            Ok(s) => panic!("detected {} for {data:?}", s.format()),
        }
    }
    let e = EventStream::open(
        std::io::Cursor::new(b"\xa1\xb2\xc3\xd4".to_vec()),
        ParseOptions::default(),
    )
    .err()
    .unwrap();
    assert!(matches!(e, ParseError::Pcap(_)), "{e}");
}

#[test]
fn detection_picks_each_format() {
    let cases: &[(&str, Format)] = &[
        (
            "Oct 21 06:06:58.096785 rule 57/0(match): pass in on xl1: 1.2.3.4.1030 > 5.6.7.8.53: 2520+ A? x.org. (39)\n",
            Format::Pf,
        ),
        (
            "06:06:58.096785 IP 1.2.3.4.1030 > 5.6.7.8.53: 2520+ A? x.org. (39)\n",
            Format::Tcpdump,
        ),
        (
            "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\n",
            Format::Syslog,
        ),
        (
            "<34>1 2003-10-11T22:14:15.003Z host su - ID47 - msg\n",
            Format::Syslog,
        ),
        (
            "[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok\n",
            Format::Syslog,
        ),
        (
            "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 12 \"-\" \"ua\"\n",
            Format::Access,
        ),
        (
            "{\"source.ip\":\"1.2.3.4\",\"message\":\"x\"}\n",
            Format::Jsonl,
        ),
        (
            "{\"ts\":1.5,\"uid\":\"C1\",\"id.orig_h\":\"1.2.3.4\"}\n",
            Format::Zeek,
        ),
        ("#separator \\x09\n#fields\tts\n", Format::Zeek),
        ("src,dst,dport\n1.2.3.4,5.6.7.8,80\n", Format::Csv),
        ("1.2.3.4,scan,5.6.7.8\n", Format::Csv),
    ];
    for (text, want) in cases {
        let s = EventStream::open(
            std::io::Cursor::new(text.as_bytes().to_vec()),
            ParseOptions::default(),
        )
        .unwrap();
        assert_eq!(s.format(), *want, "{text}");
        let p = run(s);
        assert_eq!(p.summary.rejected_total(), 0, "{text}: {:?}", p.rejects);
    }
}
