//! `secviz serve --syslog`: RFC 3164 and 5424 over UDP and TCP into a live dataset,
//! queryable within 5 s; hostile senders (huge frames, floods, too many connections,
//! garbage) are refused and counted while the portal goes on serving; `kill -9` loses and
//! repeats nothing that was committed.

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use crate::common::{ok, secviz_in, serve_lines};

struct Server {
    child: Child,
    http: String,
    udp: String,
    tcp: String,
}

/// A failed test must not leave its server running (it holds the test's output open).
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, extra: &[&str]) -> Server {
    let mut args = vec!["--syslog", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let (child, lines) = serve_lines(dir, &args, 2);
    let word = |line: &str, scheme: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(scheme))
            .unwrap_or_else(|| panic!("no {scheme} in {line:?}"))
            .to_string()
    };
    Server {
        child,
        http: word(&lines[0], "http://"),
        udp: word(&lines[1], "udp://"),
        tcp: word(&lines[1], "tcp://"),
    }
}

fn data(dir: &Path) -> PathBuf {
    dir.join("secviz-data")
}

fn count(dir: &Path, sql: &str) -> Option<u64> {
    let out = secviz_in(&data(dir), &["query", "--format", "csv", sql]);
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .nth(1)?
        .parse()
        .ok()
}

fn wait_count(dir: &Path, sql: &str, want: u64, within: Duration) {
    let started = Instant::now();
    loop {
        let got = count(dir, sql);
        if got == Some(want) {
            return;
        }
        assert!(
            started.elapsed() < within,
            "{sql}: {got:?}, not {want}, within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn stream_record(dir: &Path, key: &str) -> serde_json::Value {
    let bytes = std::fs::read(data(dir).join("lake/datasets/syslog/manifest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    m["streams"][key].clone()
}

fn rfc5424(i: u64) -> String {
    format!(
        "<34>1 2026-12-05T10:00:{:02}.{i:06}Z fw1 sshd 4242 - - Failed password for root from 192.0.2.{} port {} ssh2 id={i}",
        i % 60,
        1 + i % 200,
        1024 + i
    )
}

fn rfc3164(i: u64) -> String {
    format!(
        "<13>Dec  5 10:00:{:02} web1 app[7]: request served id={i}",
        i % 60
    )
}

fn octet(msg: &str) -> String {
    format!("{} {msg}", msg.len())
}

fn get_ok(http: &str, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(http) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let req = format!("GET {path} HTTP/1.1\r\nHost: {http}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

#[test]
fn syslog_over_tcp_and_udp_is_queryable_within_5_s_and_hostile_senders_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        dir.path(),
        &[
            "--syslog-max-message-bytes",
            "1024",
            "--syslog-rate",
            "500",
            "--syslog-max-connections",
            "4",
        ],
    );

    // TCP: octet-counted RFC 5424 and newline-terminated RFC 3164 on one connection, one
    // message that is no syslog at all.
    let mut tcp = TcpStream::connect(&server.tcp).unwrap();
    let mut text = String::new();
    for i in 0..200 {
        text.push_str(&octet(&rfc5424(i)));
    }
    for i in 200..250 {
        text.push_str(&rfc3164(i));
        text.push('\n');
    }
    text.push_str("no syslog header here\n");
    let sent = Instant::now();
    tcp.write_all(text.as_bytes()).unwrap();
    // UDP: one datagram a message.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 250..350 {
        udp.send_to(rfc5424(i).as_bytes(), &server.udp).unwrap();
    }
    wait_count(
        dir.path(),
        "SELECT count(*) FROM syslog",
        350,
        Duration::from_secs(5),
    );
    assert!(sent.elapsed() < Duration::from_secs(5));
    // Parsed as syslog: the 5424 messages' host, app and the failed login read from them.
    assert_eq!(
        count(
            dir.path(),
            "SELECT count(*) FROM syslog WHERE host = 'fw1' AND app = 'sshd'"
        ),
        Some(300)
    );
    let rec = stream_record(dir.path(), "syslog-tcp");
    assert_eq!(rec["kind"], "syslog");
    assert_eq!(rec["summary"]["read"], 251);
    assert_eq!(rec["summary"]["parsed"], 250);
    assert_eq!(
        rec["rejects"][0]["line"], 251,
        "numbered in the order received: {rec}"
    );
    assert_eq!(
        stream_record(dir.path(), "syslog-udp")["summary"]["read"],
        100
    );

    // Hostile: a frame over the cap, and a declared length of 10 GB, on the same
    // connection: refused and counted, and the connection goes on.
    let big = "A".repeat(5000);
    tcp.write_all(octet(&big).as_bytes()).unwrap();
    tcp.write_all(b"9999999999 ").unwrap();
    drop(tcp);
    let mut tcp = TcpStream::connect(&server.tcp).unwrap();
    tcp.write_all(format!("{}\n", rfc3164(350)).as_bytes())
        .unwrap();
    wait_count(
        dir.path(),
        "SELECT count(*) FROM syslog",
        351,
        Duration::from_secs(5),
    );
    // The first connection's refusals are committed on their own (that connection was
    // closed after them, the new one's message may come first).
    let started = Instant::now();
    loop {
        let rec = stream_record(dir.path(), "syslog-tcp");
        if rec["summary"]["rejected"]["line_too_long"] == 2 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{rec}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Binary garbage: rejected, counted, nothing breaks.
    let garbage: Vec<u8> = (0..4000u32).map(|i| (i * 37 % 251) as u8).collect();
    tcp.write_all(&garbage).unwrap();
    tcp.write_all(b"\n").unwrap();
    // A UDP flood over the sender's rate (500/s, burst 500): dropped and counted.
    for i in 0..3000 {
        let _ = udp.send_to(rfc5424(10_000 + i).as_bytes(), &server.udp);
    }
    // More connections than allowed: the extra ones are closed at once.
    let extra: Vec<TcpStream> = (0..8)
        .filter_map(|_| TcpStream::connect(&server.tcp).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let closed = extra
        .iter()
        .filter(|s| {
            let mut s = *s;
            let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            matches!(s.read(&mut [0u8; 1]), Ok(0))
        })
        .count();
    assert!(
        closed >= 5,
        "only {closed} of 8 connections over the cap of 4 were closed"
    );
    drop(extra);
    let started = Instant::now();
    loop {
        let udp_rec = stream_record(dir.path(), "syslog-udp");
        let limited = udp_rec["summary"]["rejected"]["rate_limited"]
            .as_u64()
            .unwrap_or(0);
        let read = udp_rec["summary"]["read"].as_u64().unwrap();
        let dropped = udp_rec["dropped"].as_u64().unwrap_or(0);
        // Every datagram is accounted for: read (parsed or refused) or dropped (by the
        // kernel, its buffer full).
        if read + dropped >= 3100 {
            assert_eq!(read + dropped, 3100, "{udp_rec}");
            assert!(limited + dropped >= 2000, "{udp_rec}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{udp_rec}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The portal served pages all along.
    assert!(get_ok(&server.http, "/"), "the portal stopped answering");
    let rec = stream_record(dir.path(), "syslog-tcp");
    let s = &rec["summary"];
    let rejected: u64 = s["rejected"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(
        s["parsed"].as_u64().unwrap() + rejected,
        s["read"].as_u64().unwrap()
    );
    // The dataset's page on the command line shows every source's counts, the rejects by
    // reason, and the datagrams lost before reading.
    let shown = ok(secviz_in(&data(dir.path()), &["datasets", "syslog"]));
    let tcp_line = format!(
        "read {} parsed {} rejected {rejected} (",
        s["read"], s["parsed"]
    );
    assert!(shown.contains(&tcp_line), "{tcp_line:?} in:\n{shown}");
    assert!(shown.contains("line_too_long 2"), "{shown}");
    let udp_rec = stream_record(dir.path(), "syslog-udp");
    let limited = udp_rec["summary"]["rejected"]["rate_limited"]
        .as_u64()
        .unwrap_or(0);
    assert!(
        limited == 0 || shown.contains(&format!("rate_limited {limited}")),
        "{udp_rec}\n{shown}"
    );
    let dropped = udp_rec["dropped"].as_u64().unwrap_or(0);
    assert_eq!(
        shown.contains("before reading"),
        dropped > 0,
        "dropped datagrams are shown when there are some: {udp_rec}\n{shown}"
    );
    if dropped > 0 {
        assert!(shown.contains(&format!("dropped {dropped} before reading")));
    }
}

#[test]
fn kill_9_of_the_receiver_keeps_every_committed_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve(dir.path(), &[]);
    let mut committed = 0;
    for round in 0..3u64 {
        // A burst over TCP, waited for until queryable (committed)...
        let mut tcp = TcpStream::connect(&server.tcp).unwrap();
        let mut text = String::new();
        for i in round * 1000..round * 1000 + 500 {
            text.push_str(&octet(&rfc5424(i)));
        }
        tcp.write_all(text.as_bytes()).unwrap();
        committed += 500;
        wait_count(
            dir.path(),
            "SELECT count(*) FROM syslog",
            committed,
            Duration::from_secs(10),
        );
        // ... then another one, killed in the middle.
        let mut text = String::new();
        for i in round * 1000 + 500..round * 1000 + 1000 {
            text.push_str(&octet(&rfc5424(i)));
        }
        let _ = tcp.write_all(text.as_bytes());
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        drop(server);
        // Whatever of the second burst was committed before the kill is there; nothing twice.
        let n = count(dir.path(), "SELECT count(*) FROM syslog").unwrap();
        assert!(n >= committed, "{n} < {committed}");
        let distinct = count(
            dir.path(),
            "SELECT count(DISTINCT regexp_replace(message, '.*id=', '')) FROM syslog",
        )
        .unwrap();
        assert_eq!(distinct, n, "a message was stored twice");
        committed = n;
        server = serve(dir.path(), &[]);
    }
    // The restarted receiver goes on: its messages are numbered after the earlier ones.
    let mut tcp = TcpStream::connect(&server.tcp).unwrap();
    tcp.write_all(format!("{}\n", rfc3164(99_999)).as_bytes())
        .unwrap();
    wait_count(
        dir.path(),
        "SELECT count(*) FROM syslog",
        committed + 1,
        Duration::from_secs(10),
    );
    let rec = stream_record(dir.path(), "syslog-tcp");
    assert_eq!(rec["summary"]["read"].as_u64().unwrap(), committed + 1);
}

#[test]
fn syslog_is_refused_into_an_anonymized_dataset() {
    // The receiver writes the addresses it is sent: it must not mix them into a dataset
    // whose addresses are pseudonyms, shown publicly as anonymized.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, format!("{}\n", rfc5424(1))).unwrap();
    let key = dir.path().join("anon.key");
    ok(secviz_in(
        &data(dir.path()),
        &[
            "ingest",
            "--dataset",
            "syslog",
            "--format",
            "syslog",
            "--anonymize",
            key.to_str().unwrap(),
            log.to_str().unwrap(),
        ],
    ));
    let out = std::process::Command::new(crate::common::BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--syslog", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("SECVIZ_DATA")
        .env_remove("SECVIZ_DATABASE_URL")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "served: {err}");
    assert!(
        err.contains("dataset syslog is anonymized") && err.contains("--syslog-dataset"),
        "{err}"
    );
    // The dataset is as it was: one row, under its pseudonym.
    assert_eq!(count(dir.path(), "SELECT count(*) FROM syslog"), Some(1));
}
