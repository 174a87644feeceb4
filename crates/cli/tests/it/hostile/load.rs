//! The steady page load beside the attack, and its latencies.

use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

/// The page load, in a process of its own (this test binary run again with
/// `HOSTILE_LOAD` set, see [`page_load_process`]): like a visitor's machine, its measuring
/// is not disturbed by the attackers' work in this process. It runs on the cores the
/// server keeps for pages, in both phases alike. Returns the latencies of each path, and
/// the requests that failed.
pub(super) fn measure_pages(addr: &str, paths: &[&str], seconds: u64) -> (Vec<Vec<Duration>>, u64) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            // The test's path in this binary (`tests/it/hostile/load.rs`).
            "hostile::load::page_load_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            "HOSTILE_LOAD",
            format!("{addr} {seconds} {}", paths.join(" ")),
        )
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lat = vec![Vec::new(); paths.len()];
    let mut failed = 0;
    for line in text.lines() {
        let mut w = line.split_whitespace();
        match (w.next(), w.next(), w.next()) {
            (Some("LATENCY"), Some(i), Some(us)) => {
                lat[i.parse::<usize>().unwrap()].push(Duration::from_micros(us.parse().unwrap()))
            }
            (Some("FAILED"), _, _) => failed += 1,
            _ => {}
        }
    }
    (lat, failed)
}

/// The page load process: two keep-alive connections per path, a request every 20 ms on
/// each, for the given seconds; prints each latency in microseconds. Run by
/// [`measure_pages`] with `HOSTILE_LOAD` set; run as a plain test, it checks itself against
/// a minimal HTTP server: every request measured, none failed.
#[test]
fn page_load_process() {
    match std::env::var("HOSTILE_LOAD") {
        Ok(spec) => {
            for line in page_load(&spec) {
                println!("{line}");
            }
        }
        Err(_) => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    let mut conn = conn.unwrap();
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 4096];
                        let mut seen = Vec::new();
                        while let Ok(n @ 1..) = conn.read(&mut buf) {
                            seen.extend_from_slice(&buf[..n]);
                            while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                                seen.drain(..end + 4);
                                let reply = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                                if conn.write_all(reply.as_bytes()).is_err() {
                                    return;
                                }
                            }
                        }
                    });
                }
            });
            let lines = page_load(&format!("{addr} 1 /a /b"));
            let measured = lines.iter().filter(|l| l.starts_with("LATENCY ")).count();
            assert!(lines.iter().all(|l| !l.starts_with("FAILED")), "{lines:?}");
            // Four connections, one request every 20 ms each, for a second.
            assert!(
                measured >= 4 * 20,
                "{measured} requests measured: {lines:?}"
            );
            let mut samples = vec![Vec::new(); 2];
            for l in &lines {
                let mut w = l.split_whitespace().skip(1);
                let (i, us) = (w.next().unwrap(), w.next().unwrap());
                samples[i.parse::<usize>().unwrap()].push(us.parse::<u64>().unwrap());
            }
            assert!(samples.iter().all(|s| s.len() >= 40), "both paths measured");
        }
    }
}

/// The work of [`page_load_process`]: `spec` is `ADDR SECONDS PATH...`; returns a
/// `LATENCY <path index> <µs>` or `FAILED <path index> <why>` line per request.
fn page_load(spec: &str) -> Vec<String> {
    let all = secviz_sandbox::priority::allowed_cpus();
    let work = secviz_sandbox::priority::work_cpus().unwrap_or_default();
    let pages: Vec<usize> = all.into_iter().filter(|c| !work.contains(c)).collect();
    let mut w = spec.split_whitespace();
    let addr = w.next().unwrap().to_string();
    let seconds: u64 = w.next().unwrap().parse().unwrap();
    let paths: Vec<String> = w.map(str::to_string).collect();
    let until = Instant::now() + Duration::from_secs(seconds);
    let threads: Vec<_> = paths
        .iter()
        .enumerate()
        .flat_map(|(i, p)| [(i, p.clone()), (i, p.clone())])
        .map(|(i, path)| {
            let (addr, pages) = (addr.clone(), pages.clone());
            std::thread::spawn(move || {
                let tid = secviz_sandbox::priority::thread_id();
                secviz_sandbox::priority::pin(tid, &pages);
                // The visitors stand for other machines: their own wake-ups must not wait
                // behind the server's threads, or the p99 would be partly the client's. A
                // higher priority needs privilege (CI runs as root); without it, unchanged.
                secviz_sandbox::priority::set_nice(tid, -10);
                let mut out = Vec::new();
                let mut conn: Option<std::net::TcpStream> = None;
                while Instant::now() < until {
                    let t = Instant::now();
                    match get_keepalive(&mut conn, &addr, &path) {
                        Ok(()) => out.push(format!("LATENCY {i} {}", t.elapsed().as_micros())),
                        Err(e) => {
                            out.push(format!("FAILED {i} {e}"));
                            conn = None;
                        }
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                out
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect()
}

/// One GET on a kept-alive connection (opened when there is none), body read whole.
fn get_keepalive(
    conn: &mut Option<std::net::TcpStream>,
    addr: &str,
    path: &str,
) -> std::io::Result<()> {
    if conn.is_none() {
        let s = std::net::TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        *conn = Some(s);
    }
    let s = conn.as_mut().unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n")?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte)? == 0 {
            return Err(std::io::Error::other("closed"));
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    if !head.starts_with("http/1.1 200") {
        return Err(std::io::Error::other(
            head.lines().next().unwrap_or("").to_string(),
        ));
    }
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| std::io::Error::other("no content-length"))?;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body)
}

pub(super) fn p99(mut v: Vec<Duration>) -> Duration {
    assert!(v.len() >= 20, "too few samples: {}", v.len());
    v.sort();
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}
