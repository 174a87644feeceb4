//! Clients that hold connections instead of sending requests: a reader that stops reading
//! its exports, and connections that never finish their headers.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use super::catalogue::enc;
use super::limits::{EXPORT_SECONDS, WRITE_SECONDS};

/// What a reader that stopped reading its exports got.
#[derive(Debug)]
pub(super) struct StalledExport {
    /// From the requests sent to the connection's end.
    pub(super) took: Duration,
    /// How long it read nothing.
    pub(super) stalled_for: Duration,
    /// The status of each answer that began (`200` an export, `429` turned away as busy).
    pub(super) statuses: Vec<String>,
    /// Whether every export asked for arrived whole.
    pub(super) whole: bool,
}

/// How long a reader stalls when nothing else competes for the server: longer than one
/// export may take, so the server has filled the buffers and stalled on it.
pub(super) const STALL_ALONE: Duration = Duration::from_secs(EXPORT_SECONDS + 2);

/// How long a reader stalls beside a storm. There the server may take up to its export
/// limit to make each of the pipelined exports, and the buffers may not be full before
/// the last has begun; a reader that woke earlier would take them in as they come, and a
/// server that never had to stall on it would rightly send them whole. So it reads nothing
/// until every export has had its time and the write timeout has run out behind them.
pub(super) const STALL_IN_STORM: Duration =
    Duration::from_secs(PIPELINED as u64 * EXPORT_SECONDS + WRITE_SECONDS + 2);

/// A CSV export whose client stops reading for `stall`: the server must close the
/// connection (its write timeout, and the export's time limit behind it) with the answer
/// incomplete.
pub(super) async fn stalled_export(addr: &str, dataset: &str, stall: Duration) -> StalledExport {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let spec = serde_json::json!({"version": 1, "kind": "bar", "fields": ["src_ip"], "top_k": 10})
        .to_string();
    let url = format!(
        "/api/v1/views/datasets/{dataset}/export.csv?spec={}",
        enc(&spec)
    );
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(addr.parse().unwrap()).await.unwrap();
    // The same export asked for four times on the connection (pipelined): more than the
    // kernel's buffers on both ends hold (the server's send buffer grows to 4 MiB on
    // loopback), so the server must stall on this reader and cut it, whatever one export's
    // size.
    let ask = |last: bool| {
        format!(
            "GET {url} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.77\r\n{}\r\n",
            if last { "Connection: close\r\n" } else { "" }
        )
    };
    let requests: String = (0..PIPELINED).map(|i| ask(i == PIPELINED - 1)).collect();
    s.write_all(requests.as_bytes()).await.unwrap();
    let t = Instant::now();
    tokio::time::sleep(stall).await;
    let mut all = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut all)).await;
    assert!(read.is_ok(), "the server kept the stalled connection open");
    let text = String::from_utf8_lossy(&all);
    let statuses = text
        .split("HTTP/1.1 ")
        .skip(1)
        .filter_map(|r| r.get(..3))
        .map(str::to_string)
        .collect();
    let whole = all.windows(5).filter(|w| w == b"0\r\n\r\n").count();
    StalledExport {
        took: t.elapsed(),
        stalled_for: stall,
        statuses,
        whole: whole == PIPELINED,
    }
}

/// How many exports the stalled reader asks for on its one connection.
pub(super) const PIPELINED: usize = 4;

/// Connections that send half a request and wait: closed at the header timeout.
pub(super) fn slow_headers(addr: &str, n: usize) -> Vec<Duration> {
    let mut conns: Vec<_> = (0..n)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            (s, Instant::now())
        })
        .collect();
    conns
        .iter_mut()
        .map(|(s, t)| {
            let mut b = [0u8; 256];
            while let Ok(n) = s.read(&mut b) {
                if n == 0 {
                    break;
                }
            }
            t.elapsed()
        })
        .collect()
}
