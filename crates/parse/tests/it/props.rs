//! Property tests: no input makes a parser panic, and parsed + rejected = read holds
//! for every format, on random bytes and on mutations of valid lines and captures.

use proptest::prelude::*;
use secviz_parse::{EventStream, Format, Limits, ParseOptions, PcapMode};

/// Valid lines of every text format, to mutate.
const SEEDS: &[(Format, &str)] = &[
    (
        Format::Pf,
        "Oct 21 06:06:58.096785 rule 57/0(match): pass in on xl1: 195.141.69.45.1030 > 61.215.160.253.53: 2520 [1au] MX? www.com.ar. (39) (DF)",
    ),
    (
        Format::Pf,
        "Oct 21 06:07:01.000001 rule 2/0(match): block in on xl0: 1.2.3.4.1030 > 5.6.7.8.80: S 123:123(0) win 8192 <mss 1460,nop,nop,sackOK> (DF)",
    ),
    (
        Format::Tcpdump,
        "2024-03-05 10:11:12.345678 IP6 2001:db8::1.22 > 2001:db8::2.51234: Flags [P.], seq 1:37, ack 1, win 501, length 36",
    ),
    (
        Format::Tcpdump,
        "10:11:12.000001 00:0c:29:aa:bb:cc > 00:50:56:dd:ee:ff, ethertype IPv4 (0x0800), length 74: 192.168.1.5.22 > 192.168.1.9.40000: Flags [S.], seq 1, ack 2, win 1, length 0",
    ),
    (
        Format::Syslog,
        "Dec 10 06:55:46 LabSZ sshd[24200]: Failed password for invalid user admin from 173.234.31.186 port 38926 ssh2",
    ),
    (
        Format::Syslog,
        "<34>1 2003-10-11T22:14:15.003Z host su - ID47 [a b=\"c\\]\"] 'su root' failed",
    ),
    (
        Format::Syslog,
        "Jan  1 00:00:01 fw kernel: [ 5.4] [UFW BLOCK] IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 LEN=60 PROTO=TCP SPT=1 DPT=2 SYN",
    ),
    (
        Format::Syslog,
        "[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:5555] File does not exist",
    ),
    (
        Format::Access,
        "83.149.9.216 - - [17/May/2015:10:05:03 +0000] \"GET /x HTTP/1.1\" 200 203023 \"http://r/\" \"Mozilla \\\"5\\\"\"",
    ),
    (
        Format::Jsonl,
        "{\"@timestamp\":\"2024-05-01T10:00:00.5Z\",\"source\":{\"ip\":\"10.0.0.1\",\"port\":5353},\"dns\":{\"question\":{\"name\":\"a.org\"}},\"tags\":[1,[2]]}",
    ),
    (
        Format::Zeek,
        "{\"ts\":1575413122.764317,\"uid\":\"C\",\"id.orig_h\":\"10.18.20.97\",\"id.orig_p\":59102,\"query\":\"x\",\"rcode_name\":\"NXDOMAIN\"}",
    ),
    (
        Format::Csv,
        "1318291200.123,10.1.2.3,40000,198.51.100.7,6667,irc,512,4",
    ),
    (Format::Csv, "10.1.2.4,\"web, \"\"slow\"\"\",198.51.100.8"),
];

const ZEEK_HEAD: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tid.orig_h\tid.orig_p\tduration\ttunnel_parents\n#types\ttime\taddr\tport\tinterval\tset[string]\n";

fn run(data: Vec<u8>, format: Option<Format>) {
    let opts = ParseOptions {
        format,
        year: Some(2020),
        batch_rows: 7,
        limits: Limits {
            max_line_bytes: 512,
            max_json_depth: 8,
            ..Limits::default()
        },
        ..Default::default()
    };
    let Ok(mut s) = EventStream::open(std::io::Cursor::new(data), opts) else {
        return;
    };
    let (mut rows, mut rejects) = (0u64, 0u64);
    loop {
        match s.next_batch(&mut |_| rejects += 1) {
            Ok(Some(b)) => rows += b.num_rows() as u64,
            Ok(None) => break,
            Err(_) => return,
        }
    }
    let sum = s.summary();
    assert_eq!(sum.parsed + sum.rejected_total(), sum.read, "{sum}");
    assert_eq!(sum.rejected_total(), rejects);
    assert_eq!(sum.events, rows);
}

/// Applies byte edits: (position, kind, byte).
fn mutate(seed: &str, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut b = seed.as_bytes().to_vec();
    for &(pos, kind, byte) in edits {
        let at = if b.is_empty() { 0 } else { pos % (b.len() + 1) };
        match kind % 4 {
            0 if at < b.len() => b[at] = byte,
            1 => b.insert(at, byte),
            2 if at < b.len() => {
                b.remove(at);
            }
            _ => b.truncate(at),
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..3000), fmt in 0usize..9) {
        let format = Format::ALL.get(fmt).copied();
        run(data, format);
    }

    #[test]
    fn mutated_lines_never_panic(
        seed in 0usize..SEEDS.len(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..6),
        repeat in 1usize..4,
        auto in any::<bool>(),
    ) {
        let (format, line) = SEEDS[seed];
        let mut data = Vec::new();
        if format == Format::Zeek && seed % 2 == 0 {
            data.extend_from_slice(ZEEK_HEAD.as_bytes());
        }
        for _ in 0..repeat {
            data.extend(mutate(line, &edits));
            data.push(b'\n');
        }
        run(data, if auto { None } else { Some(format) });
    }

    #[test]
    fn mutated_zeek_tsv_never_panics(edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..8)) {
        let text = format!("{ZEEK_HEAD}1379288667.706265\t192.168.33.10\t1032\t0.44\ta,b\n");
        run(mutate(&text, &edits), Some(Format::Zeek));
    }

    #[test]
    fn mutated_pcaps_never_panic(
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..10),
        flows in any::<bool>(),
    ) {
        let pcap = std::fs::read(secviz_testkit::real("zeek-training/http.pcap")).unwrap();
        let mut b = pcap.clone();
        for &(pos, kind, byte) in &edits {
            // Keep the magic so the pcap path is exercised.
            let at = 4 + pos % (b.len() - 4).max(1);
            match kind % 3 {
                0 if at < b.len() => b[at] = byte,
                1 => b.truncate(at.max(4)),
                _ => b.insert(at.min(b.len()), byte),
            }
        }
        let opts = ParseOptions {
            pcap: if flows { PcapMode::Flows { idle_timeout: std::time::Duration::from_secs(1) } } else { PcapMode::Packets },
            batch_rows: 3,
            ..Default::default()
        };
        if let Ok(mut s) = EventStream::open(std::io::Cursor::new(b), opts) {
            let mut rows = 0u64;
            while let Ok(Some(batch)) = s.next_batch(&mut |_| {}) {
                rows += batch.num_rows() as u64;
            }
            let sum = s.summary();
            prop_assert_eq!(sum.parsed + sum.rejected_total(), sum.read);
            prop_assert_eq!(sum.events, rows);
        }
    }
}
