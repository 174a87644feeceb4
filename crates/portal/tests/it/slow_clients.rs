//! Slow clients cannot hold the portal (issue 14), on SQLite and PostgreSQL, with raw TCP
//! against the real server: half a request line is disconnected after the header timeout,
//! and so is an idle keep-alive connection; a body that trickles, stalls or never ends is
//! cut with 408; one address cannot open more than its share of connections; and
//! meanwhile normal requests are served. Timeouts are set to a second or two here; the
//! assertions bound them loosely (at least the timeout, well under ten times it).

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

/// Reads until the server closes the connection (or resets it); returns what came and
/// when the connection ended.
async fn until_closed(s: &mut TcpStream, bound: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(bound.saturating_sub(started.elapsed()), s.read(&mut buf)).await
        {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "the server kept the connection open for {bound:?}; got {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

async fn half_requests_and_idle_connections_are_closed(backend: Backend) {
    let app = spawn_with(backend, |c| c.header_timeout = Duration::from_secs(1)).await;
    let visitor = app.client();

    // Half a request line, then nothing.
    let mut slow = TcpStream::connect(addr(&app)).await.unwrap();
    slow.write_all(b"GET / HT").await.unwrap();
    let waiting =
        tokio::spawn(async move { until_closed(&mut slow, Duration::from_secs(10)).await });
    // Served meanwhile.
    let r = visitor.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    let (got, after) = waiting.await.unwrap();
    assert!(!got.contains(" 200 "), "{got}");
    assert!(
        after >= Duration::from_millis(900),
        "closed before the timeout: {after:?}"
    );
    assert!(after < Duration::from_secs(5), "{after:?}");

    // A whole request is answered; the connection left idle after it is then closed.
    let mut idle = TcpStream::connect(addr(&app)).await.unwrap();
    idle.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", addr(&app)).as_bytes())
        .await
        .unwrap();
    let (got, after) = until_closed(&mut idle, Duration::from_secs(10)).await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(5),
        "{after:?}"
    );
}

/// Sends a POST /login with a 200-byte body announced, the headers at once and then
/// `sent` bytes of body, one every `every`; returns what the server answered and when.
async fn trickle(to: String, sent: usize, every: Duration) -> (String, Duration) {
    let mut s = TcpStream::connect(&to).await.unwrap();
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: {to}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let (mut read, mut write) = s.into_split();
    let writer = tokio::spawn(async move {
        for _ in 0..sent {
            if write.write_all(b"a").await.is_err() {
                return;
            }
            tokio::time::sleep(every).await;
        }
        // Then nothing more: hold the connection open until the server closes it.
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(20), read.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server waited 20 s for a trickling body"),
        }
    }
    writer.abort();
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

async fn slow_bodies_are_cut_with_408(backend: Backend) {
    let app = spawn_with(backend, |c| {
        c.body_idle_timeout = Duration::from_secs(1);
        c.body_min_rate = 100;
        c.body_timeout = Duration::from_secs(30);
    })
    .await;
    let visitor = app.client();

    // Ten bytes a second, under the floor of 100: cut once the first second is over.
    let trickling = tokio::spawn(trickle(addr(&app), 200, Duration::from_millis(100)));
    // Served meanwhile: a page, and a whole form.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(visitor.get("/").await.status, StatusCode::OK);
    let r = visitor
        .submit(
            "/login",
            "/login",
            &[("username", "nobody"), ("password", "wrong password 1")],
        )
        .await;
    assert_ne!(r.status, StatusCode::REQUEST_TIMEOUT, "{}", r.body);
    let (got, after) = trickling.await.unwrap();
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(
        got.to_ascii_lowercase().contains("connection: close"),
        "{got}"
    );
    assert!(got.contains("came in too slowly"), "{got}");
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(5),
        "{after:?}"
    );

    // Half a body, then silence: cut after the idle timeout.
    let (got, after) = trickle(addr(&app), 50, Duration::ZERO).await;
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(5),
        "{after:?}"
    );
}

async fn a_body_that_never_ends_is_cut_with_408(backend: Backend) {
    let app = spawn_with(backend, |c| {
        c.body_idle_timeout = Duration::from_secs(2);
        c.body_min_rate = 0;
        c.body_timeout = Duration::from_secs(2);
    })
    .await;
    // A byte every half second never idles for 2 s, but the body is not done in 2 s.
    let (got, after) = trickle(addr(&app), 200, Duration::from_millis(500)).await;
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(
        after >= Duration::from_millis(1900) && after < Duration::from_secs(8),
        "{after:?}"
    );
}

async fn one_address_cannot_hold_every_connection(backend: Backend) {
    let app = spawn_with(backend, |c| {
        c.max_connections_per_ip = 3;
        c.header_timeout = Duration::from_secs(30);
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(addr(&app)).await.unwrap());
    }
    // Give the server a moment to count them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fourth = TcpStream::connect(addr(&app)).await.unwrap();
    let _ = fourth
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", addr(&app)).as_bytes())
        .await;
    let (got, after) = until_closed(&mut fourth, Duration::from_secs(5)).await;
    assert!(got.is_empty(), "the fourth was served: {got}");
    assert!(after < Duration::from_secs(2), "{after:?}");

    // Closing one frees its place.
    drop(held.pop());
    let started = Instant::now();
    loop {
        let mut s = TcpStream::connect(addr(&app)).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").await.unwrap();
        let (got, _) = until_closed(&mut s, Duration::from_secs(5)).await;
        if got.starts_with("HTTP/1.0 200") || got.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a freed place was not given back: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

on_both!(
    half_requests_and_idle_connections_are_closed,
    slow_bodies_are_cut_with_408,
    a_body_that_never_ends_is_cut_with_408,
    one_address_cannot_hold_every_connection
);
