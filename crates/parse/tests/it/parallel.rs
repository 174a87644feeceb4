//! Parsing on several threads gives exactly the serial output: the same rows in the same
//! order with the same line numbers, the same rejects and the same summary, also where
//! lines depend on the lines before them (years without a year, midnights, Zeek headers)
//! and around over-long, malformed and invalid UTF-8 lines.
//!
//! Every input is many times the 256 KiB chunk, so the threads really split it.

use crate::common;

use std::fmt::Write as _;

use common::*;
use secviz_parse::{FieldSelection, Limits, ParseOptions};

/// Every field of every row, in order.
fn cells(p: &Parsed) -> Vec<Vec<Option<String>>> {
    let all = FieldSelection::all();
    p.batches.iter().flat_map(|b| all.rows(b)).collect()
}

/// Parses `data` serially and on 2 and 3 threads, asserts the outputs are equal, and
/// returns the serial parse.
fn same_on_threads(data: &[u8], opts: ParseOptions) -> Parsed {
    assert!(
        data.len() > 3 << 20,
        "the input ({} bytes) must span several chunks",
        data.len()
    );
    let serial = parse_bytes(
        data,
        ParseOptions {
            threads: 1,
            ..opts.clone()
        },
    );
    let rows = cells(&serial);
    for threads in [2, 3] {
        let par = parse_bytes(
            data,
            ParseOptions {
                threads,
                ..opts.clone()
            },
        );
        assert_eq!(par.summary, serial.summary, "summary on {threads} threads");
        assert_eq!(par.rejects, serial.rejects, "rejects on {threads} threads");
        let got = cells(&par);
        assert_eq!(got.len(), rows.len(), "rows on {threads} threads");
        if let Some(i) = (0..rows.len()).find(|&i| got[i] != rows[i]) {
            panic!(
                "row {i} differs on {threads} threads:\n serial   {:?}\n parallel {:?}",
                rows[i], got[i]
            );
        }
        assert!(par.batches.iter().all(|b| b.num_rows() <= opts.batch_rows));
    }
    serial
}

fn opts() -> ParseOptions {
    ParseOptions {
        // 2026-06-15: the year rule dates Dec/Jan logs in 2025/2026.
        reference_time: Some(1_781_481_600_000_000),
        ..Default::default()
    }
}

#[test]
fn generated_pf_log_is_the_same_on_every_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate(dir.path(), "pf", 40_000, 5);
    let data = std::fs::read(path).unwrap();
    let p = same_on_threads(&data, opts());
    assert_eq!(p.summary.parsed, 40_000);
    // Line numbers run 1..=n without a gap across the chunk boundaries.
    let lines: Vec<u64> = p
        .column("line")
        .iter()
        .map(|l| l.parse().unwrap())
        .collect();
    assert!(lines.iter().copied().eq(1..=40_000));
}

/// A syslog file that crosses New Year (with late December lines after it), with
/// rejects of every kind the reader makes sprinkled through it.
#[test]
fn year_rule_rejects_and_long_lines_across_chunks() {
    let mut s = String::new();
    let mut n = 0u64;
    for (month, days) in [("Dec", 30..32), ("Jan", 1..3)] {
        for day in days {
            for i in 0..12_000u32 {
                n += 1;
                match n % 4_999 {
                    0 => s.push_str("this is not a syslog line\n"),
                    1_000 => s.push_str("Foo 12 10:00:00 host sshd[1]: bad month\n"),
                    2_000 => s.push('\n'),
                    3_000 if month == "Jan" => {
                        s.push_str("Dec 31 23:59:59 gw sshd[7]: a late line from last year\n")
                    }
                    _ => {
                        let (h, m, sec) = (i / 3600 % 24, i / 60 % 60, i % 60);
                        writeln!(
                            s,
                            "{month} {day:>2} {h:02}:{m:02}:{sec:02} gw sshd[{i}]: Failed password for root from 10.1.{}.{} port {} ssh2",
                            i % 200,
                            i % 250,
                            1024 + i
                        )
                        .unwrap();
                    }
                }
            }
        }
    }
    let mut data = s.into_bytes();
    // Invalid UTF-8 and an over-long line in the middle of the second chunk.
    let at = (1 << 20) + 12_345;
    let at = at + data[at..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut extra = b"Dec 30 11:00:00 gw sshd[9]: user \xff\xfe from 10.9.9.9\n".to_vec();
    extra.extend(std::iter::repeat_n(b'x', 9_000));
    extra.push(b'\n');
    data.splice(at..at, extra);
    let p = same_on_threads(
        &data,
        ParseOptions {
            limits: Limits {
                max_line_bytes: 8_192,
                ..Limits::default()
            },
            ..opts()
        },
    );
    let year = p.summary.year.as_ref().expect("a year note");
    assert_eq!(year.crossings, 1, "{year}");
    assert!(
        p.rejects
            .iter()
            .any(|r| r.reason.as_str() == "line_too_long")
    );
    assert!(p.rejects.iter().any(|r| r.reason.as_str() == "bad_time"));
    assert!(p.column("raw").iter().any(|r| r.contains("\\xff")));
    let times = p.column("time");
    assert!(
        times.first().unwrap().starts_with("2025-12-30"),
        "{}",
        times[0]
    );
    assert!(
        times.last().unwrap().starts_with("2026-01-02"),
        "{}",
        times.last().unwrap()
    );
}

/// Plain tcpdump prints only the time of day: the date moves at each midnight, which
/// a chunk parsed ahead cannot know.
#[test]
fn tcpdump_midnights_are_counted_as_in_a_serial_run() {
    let mut s = String::new();
    for round in 0..3u32 {
        for i in 0..40_000u32 {
            // From 22:00 to 02:00, three times: three midnights.
            let sod = (79_200 + i * 360 / 1000 + round) % 86_400;
            writeln!(
                s,
                "{:02}:{:02}:{:02}.{:06} IP 10.0.{}.{}.{} > 10.0.0.53.53: UDP, length {}",
                sod / 3600,
                sod / 60 % 60,
                sod % 60,
                i,
                i % 100,
                i % 200,
                1024 + i % 5000,
                40 + i % 100
            )
            .unwrap();
        }
    }
    let p = same_on_threads(s.as_bytes(), opts());
    assert_eq!(p.summary.parsed, 120_000);
    let days: std::collections::BTreeSet<String> = p
        .column("time")
        .iter()
        .map(|t| t[..10].to_string())
        .collect();
    assert_eq!(days.len(), 4, "three midnights: {days:?}");
}

/// A Zeek log whose header changes half-way (two logs concatenated): the second half
/// is read with the second header's columns.
#[test]
fn zeek_header_change_mid_file() {
    let mut s = String::new();
    for (part, fields) in [
        (
            0,
            "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto",
        ),
        (
            1,
            "ts\tuid\tid.resp_h\tid.resp_p\tid.orig_h\tid.orig_p\tproto",
        ),
    ] {
        s.push_str("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n");
        writeln!(s, "#fields\t{fields}").unwrap();
        s.push_str("#types\ttime\tstring\taddr\tport\taddr\tport\tenum\n");
        for i in 0..60_000u32 {
            writeln!(
                s,
                "{}.{:06}\tC{part}x{i}\t10.{part}.{}.{}\t{}\t192.168.{}.1\t{}\ttcp",
                1_600_000_000 + i,
                i,
                i % 256,
                i % 200,
                1024 + i % 6000,
                i % 50,
                [22, 80, 443][i as usize % 3]
            )
            .unwrap();
        }
    }
    let p = same_on_threads(s.as_bytes(), opts());
    assert_eq!(p.summary.parsed, 120_000);
    // In the second half the first address column is the responder.
    let last = p.row(119_999, "src_ip,dst_ip");
    assert!(last[0].starts_with("192.168."), "{last:?}");
    let first = p.row(0, "src_ip,dst_ip");
    assert!(first[0].starts_with("10.0."), "{first:?}");
}

#[test]
fn access_csv_and_json_lines_are_the_same_on_every_thread_count() {
    let mut access = String::new();
    let mut csv = String::from("ts,src,sport,dst,dport,proto,bytes\n");
    let mut json = String::new();
    for i in 0..70_000u32 {
        writeln!(
            access,
            "10.0.{}.{} - - [17/May/2015:10:{:02}:{:02} +0000] \"GET /page/{i}?q=x HTTP/1.1\" {} {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64) secviz-test\"",
            i % 256,
            i % 200,
            i / 60 % 60,
            i % 60,
            [200, 404, 301][i as usize % 3],
            100 + i
        )
        .unwrap();
        writeln!(
            csv,
            "2024-05-01T10:{:02}:{:02}Z,10.0.0.{},{},10.9.9.{},443,tcp,{}",
            i / 60 % 60,
            i % 60,
            i % 250,
            1024 + i % 60000,
            i % 9,
            i
        )
        .unwrap();
        if i % 1_000 == 7 {
            csv.push_str("only,three,fields\n");
            json.push_str("{\"broken\": \n");
        }
        writeln!(
            json,
            "{{\"timestamp\":\"2024-05-01T10:{:02}:{:02}Z\",\"src_ip\":\"10.0.{}.1\",\"dst_ip\":\"10.8.0.{}\",\"dst_port\":{},\"action\":\"blocked\",\"note\":\"{}\"}}",
            i / 60 % 60,
            i % 60,
            i % 256,
            i % 250,
            i % 1000,
            "x".repeat(10)
        )
        .unwrap();
    }
    for (name, data) in [("access", access), ("csv", csv), ("json", json)] {
        let p = same_on_threads(data.as_bytes(), opts());
        assert_eq!(p.summary.parsed, 70_000, "{name}: {}", p.summary);
    }
}

/// With `strict`, the first reject stops the stream after the rows before it, on any
/// number of threads.
#[test]
fn strict_stops_at_the_same_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate(dir.path(), "pf", 40_000, 2);
    let mut data = std::fs::read(path).unwrap();
    let at = (2 << 20) + 777;
    let at = at + data[at..].iter().position(|&b| b == b'\n').unwrap() + 1;
    data.splice(at..at, b"Oct 21 no time here\n".to_vec());
    let bad_line = data[..at].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let mut results = Vec::new();
    for threads in [1, 2, 3] {
        let mut s = secviz_parse::EventStream::open(
            std::io::Cursor::new(data.clone()),
            ParseOptions {
                strict: true,
                threads,
                ..opts()
            },
        )
        .unwrap();
        let mut rows = 0;
        let err = loop {
            match s.next_batch(&mut |_| {}) {
                Ok(Some(b)) => rows += b.num_rows(),
                Ok(None) => panic!("strict parse of a bad line ended without an error"),
                Err(e) => break e.to_string(),
            }
        };
        results.push((rows, err));
    }
    assert_eq!(results[0].0 as u64, bad_line - 1);
    assert!(
        results[0].1.contains(&format!("line {bad_line}")),
        "{}",
        results[0].1
    );
    assert_eq!(results[1], results[0]);
    assert_eq!(results[2], results[0]);
}
