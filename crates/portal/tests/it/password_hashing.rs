//! Password hashing under a burst (SECURITY.md row 4, issue 14): 200 concurrent log-ins with
//! large bodies each get 401 or 429 with `Retry-After` (never a 5xx, never a dropped
//! connection), and the process's memory stays flat because argon2 (19 MiB a hash) runs on a
//! bounded pool. The test server runs in this process, so its resident set is ours: each
//! backend's test must be alone in its process (`secviz_testkit::require_own_process`).

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use reqwest::StatusCode;

/// A `kB` field of /proc/self/status, in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib * 1024
}

async fn security_row_4_concurrent_hashing_keeps_memory_flat(backend: Backend) {
    const LOGINS: usize = 200;
    const MAX_GROWTH: u64 = 200 * 1024 * 1024;
    secviz_testkit::require_own_process("the password-hashing memory test");
    // Generous rate limits: every attempt reaches the hashing pool, which alone decides.
    let app = spawn(backend).await;
    app.member("ana").await;
    let c = app.client();
    let token = c.csrf("/login").await;
    // One attempt first, so what every log-in needs once (the dummy hash, pools) is counted
    // before the measurement starts.
    let warm = c
        .post(
            "/login",
            &[
                ("csrf", &token),
                ("username", "ana"),
                ("password", "warm up"),
            ],
        )
        .await;
    assert_eq!(warm.status, StatusCode::UNAUTHORIZED);

    // Half guess ana's password, half send a 7 KiB user name; all bodies are as large as
    // the log-in form takes (16 KiB: a larger one is refused with 413 before any hashing).
    // Built before the measurement: the client's copies are not the server's memory.
    let big = "x".repeat(7 * 1024);
    let payloads: Vec<(String, String)> = (0..LOGINS)
        .map(|i| {
            if i % 2 == 0 {
                ("ana".to_string(), format!("{big}{i}"))
            } else {
                (format!("{big}{i}"), format!("guess {i} {big}"))
            }
        })
        .collect();

    let before = status_bytes("VmRSS:");
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(status_bytes("VmRSS:"));
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            peak
        })
    };
    let attempts: Vec<_> = payloads
        .into_iter()
        .map(|(name, password)| {
            let c = c.clone();
            let token = token.clone();
            tokio::spawn(async move {
                let fields = [
                    ("csrf", token.as_str()),
                    ("username", name.as_str()),
                    ("password", password.as_str()),
                ];
                // A dropped connection fails here.
                let r = c.post("/login", &fields).await;
                (name, r)
            })
        })
        .collect();
    let mut counts = [0usize; 2];
    for a in attempts {
        let (name, r) = a.await.unwrap();
        match r.status {
            StatusCode::UNAUTHORIZED => counts[0] += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                counts[1] += 1;
                assert!(r.headers.contains_key("retry-after"), "429 says when");
                assert!(r.body.contains("busy"), "in the site's words");
                assert!(
                    r.body.contains(&format!("value=\"{name}\"")),
                    "the form keeps the user name"
                );
            }
            other => panic!("unexpected {other}: {}", &r.body[..r.body.len().min(500)]),
        }
    }
    done.store(true, Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    assert_eq!(counts.iter().sum::<usize>(), LOGINS);
    assert!(counts[0] > 0, "some attempts were checked: {counts:?}");
    assert!(counts[1] > 0, "the pool refused the rest: {counts:?}");
    let grown = peak.saturating_sub(before);

    assert!(
        grown < MAX_GROWTH,
        "the resident set grew by {} MiB (from {} MiB)",
        grown >> 20,
        before >> 20
    );
}

on_both!(security_row_4_concurrent_hashing_keeps_memory_flat);
