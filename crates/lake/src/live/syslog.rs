//! A syslog receiver: RFC 3164 and RFC 5424 messages over UDP and TCP into a live dataset
//! (`secviz serve --syslog ADDR`).
//!
//! - TCP takes both framings of RFC 6587: octet counting (`<length> <message>`) and
//!   newline-terminated messages. A connection's messages are read, committed, and only
//!   then is more read from it: what was read is durable before the next read, and a
//!   sender faster than the lake is slowed by TCP's own flow control.
//! - UDP datagrams are one message each. UDP cannot be slowed: datagrams the receiver's
//!   queue cannot take are dropped and counted, and so are those the kernel dropped
//!   (its receive-buffer overflow counter for the socket, from `/proc/net/udp`).
//! - Limits: a frame longer than [`SyslogOptions::max_frame_bytes`] is refused and counted
//!   (its bytes are skipped, never held); each sender address has a rate
//!   ([`SyslogOptions::rate_per_source`] messages a second, with a burst of one second's
//!   worth): over it, TCP is slowed and UDP dropped and counted; at most
//!   [`SyslogOptions::max_connections`] TCP connections at once, and an idle one is closed.
//! - The address is loopback unless the operator names another.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secviz_parse::Format;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use super::receive::{Messages, Receiver, Source};
use crate::error::{LakeError, Result};
use crate::manifest::RejectSample;

/// The default address: loopback, an unprivileged port.
pub const DEFAULT_ADDR: &str = "127.0.0.1:5514";

/// Limits of the receiver.
#[derive(Clone, Debug)]
pub struct SyslogOptions {
    /// Longest message accepted, in bytes (RFC 5425 asks receivers for at least 2048).
    pub max_frame_bytes: usize,
    /// Messages a second one sender address may send (its burst: one second's worth).
    pub rate_per_source: u32,
    /// TCP connections open at once; more are closed at once.
    pub max_connections: usize,
    /// A TCP connection that sends nothing this long is closed.
    pub idle_timeout: Duration,
}

impl Default for SyslogOptions {
    fn default() -> Self {
        SyslogOptions {
            max_frame_bytes: 64 << 10,
            rate_per_source: 20_000,
            max_connections: 256,
            idle_timeout: Duration::from_secs(600),
        }
    }
}

/// A running receiver's addresses.
pub struct SyslogServer {
    pub udp: SocketAddr,
    pub tcp: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for SyslogServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Binds `addr` for UDP and TCP (port 0: one free port for both) and serves until dropped.
pub async fn serve(
    receiver: Receiver,
    addr: SocketAddr,
    opts: SyslogOptions,
) -> Result<SyslogServer> {
    let bind_err = |what: &str| {
        let what = what.to_string();
        move |e| LakeError::io(format!("listening for syslog over {what} on {addr}"), e)
    };
    let tcp = TcpListener::bind(addr).await.map_err(bind_err("TCP"))?;
    let tcp_addr = tcp.local_addr().map_err(bind_err("TCP"))?;
    let udp = UdpSocket::bind(tcp_addr).await.map_err(bind_err("UDP"))?;
    let udp_addr = udp.local_addr().map_err(bind_err("UDP"))?;
    let rates = Arc::new(Rates::new(opts.rate_per_source));
    let tcp_source = Source {
        key: "syslog-tcp".into(),
        kind: "syslog",
        label: format!("syslog over TCP on {tcp_addr}"),
        format: Format::Syslog,
    };
    let udp_source = Source {
        key: "syslog-udp".into(),
        kind: "syslog",
        label: format!("syslog over UDP on {udp_addr}"),
        format: Format::Syslog,
    };
    let tasks = vec![
        tokio::spawn(accept(
            tcp,
            receiver.clone(),
            tcp_source,
            opts.clone(),
            rates.clone(),
        )),
        tokio::spawn(datagrams(udp, receiver, udp_source, opts, rates)),
    ];
    Ok(SyslogServer {
        udp: udp_addr,
        tcp: tcp_addr,
        tasks,
    })
}

async fn accept(
    listener: TcpListener,
    receiver: Receiver,
    source: Source,
    opts: SyslogOptions,
    rates: Arc<Rates>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(opts.max_connections.max(1)));
    let (mut refused, mut last_told) = (0u64, None::<Instant>);
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            // Out of descriptors, say: wait rather than spin.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            // Told at most every ten seconds: a flood of connections must not flood the log.
            refused += 1;
            if last_told.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                tracing::warn!(%peer, refused, "syslog: too many connections; closing new ones");
                last_told = Some(Instant::now());
                refused = 0;
            }
            drop(stream);
            continue;
        };
        let (receiver, source, opts, rates) = (
            receiver.clone(),
            source.clone(),
            opts.clone(),
            rates.clone(),
        );
        tokio::spawn(async move {
            if let Err(e) = connection(stream, peer, &receiver, &source, &opts, &rates).await {
                tracing::info!(%peer, error = %e, "syslog connection ended");
            }
            drop(permit);
        });
    }
}

/// One TCP connection: read what is there, frame it, commit it, read on.
async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    receiver: &Receiver,
    source: &Source,
    opts: &SyslogOptions,
    rates: &Rates,
) -> Result<()> {
    let mut framer = Framer::new(opts.max_frame_bytes);
    let mut buf = vec![0u8; 64 << 10];
    let max = receiver.max_batch_bytes().max(opts.max_frame_bytes + 16);
    let io = |e| LakeError::io(format!("reading syslog from {peer}"), e);
    loop {
        let n = match tokio::time::timeout(opts.idle_timeout, stream.read(&mut buf)).await {
            Ok(r) => r.map_err(io)?,
            Err(_) => return Ok(()), // idle
        };
        let mut out = Messages {
            lines: Vec::new(),
            refused: Vec::new(),
            dropped: 0,
        };
        let mut count = 0u64;
        if n == 0 {
            count += framer.finish(&mut out);
        } else {
            count += framer.push(&buf[..n], &mut out);
            // Whatever else is there already: one commit for all of it.
            while out.lines.len() < max {
                match stream.try_read(&mut buf) {
                    Ok(0) => break,
                    Ok(k) => count += framer.push(&buf[..k], &mut out),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(io(e)),
                }
            }
        }
        // Over its rate, a sender waits: TCP's flow control slows it down.
        rates.wait(peer.ip(), count).await;
        if !out.lines.is_empty() || !out.refused.is_empty() {
            receiver.deliver(source, out).await?;
        }
        if n == 0 {
            return Ok(());
        }
    }
}

async fn datagrams(
    socket: UdpSocket,
    receiver: Receiver,
    source: Source,
    opts: SyslogOptions,
    rates: Arc<Rates>,
) {
    let inode = socket_inode(&socket);
    let mut kernel_drops = inode.and_then(udp_drops).unwrap_or(0);
    let mut buf = vec![0u8; 65_536];
    let mut out = Messages {
        lines: Vec::new(),
        refused: Vec::new(),
        dropped: 0,
    };
    let mut first_at: Option<Instant> = None;
    let flush_after = Duration::from_millis(50);
    loop {
        // While quiet, look at the kernel's counter every second: drops happen in floods,
        // and are told even when nothing follows them.
        let wait = match first_at {
            Some(t) => flush_after.saturating_sub(t.elapsed()),
            None => Duration::from_secs(1),
        };
        let got = tokio::time::timeout(wait, socket.recv_from(&mut buf)).await;
        if let Ok(Ok((n, peer))) = got {
            first_at.get_or_insert_with(Instant::now);
            let msg = &buf[..n];
            if !rates.try_take(peer.ip(), 1) {
                out.refused.push(refusal(
                    "rate_limited",
                    format!(
                        "{} sends more than {} messages a second",
                        peer.ip(),
                        opts.rate_per_source
                    ),
                    msg,
                ));
            } else if n > opts.max_frame_bytes {
                out.refused.push(too_long(n, opts.max_frame_bytes, msg));
            } else {
                push_message(msg, &mut out.lines);
            }
        }
        let due = first_at.is_some_and(|t| t.elapsed() >= flush_after)
            || out.lines.len() >= receiver.max_batch_bytes();
        if let Some(now) = inode.and_then(udp_drops)
            && (due || first_at.is_none())
        {
            out.dropped += now.saturating_sub(kernel_drops);
            kernel_drops = now;
        }
        let idle_news = first_at.is_none() && out.dropped > 0;
        if !due && !idle_news {
            continue;
        }
        let batch = std::mem::replace(
            &mut out,
            Messages {
                lines: Vec::new(),
                refused: Vec::new(),
                dropped: 0,
            },
        );
        let messages = memchr::memchr_iter(b'\n', &batch.lines).count() as u64
            + batch.refused.len() as u64
            + batch.dropped;
        if !receiver.offer(&source, batch) {
            // The appender is behind: these are lost, and counted with the next batch.
            out.dropped += messages;
        }
        first_at = None;
    }
}

/// Appends one message as one line: line ends inside it become spaces, trailing ones go.
fn push_message(msg: &[u8], lines: &mut Vec<u8>) {
    let mut msg = msg;
    while let [rest @ .., b'\n' | b'\r' | 0] = msg {
        msg = rest;
    }
    if msg.is_empty() {
        return;
    }
    lines.extend(
        msg.iter()
            .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }),
    );
    lines.push(b'\n');
}

fn refusal(reason: &str, detail: String, raw: &[u8]) -> RejectSample {
    let shown = &raw[..raw.len().min(256)];
    RejectSample {
        line: 0,
        reason: reason.to_string(),
        detail,
        raw: String::from_utf8_lossy(shown).into_owned(),
    }
}

fn too_long(len: usize, max: usize, start: &[u8]) -> RejectSample {
    refusal(
        "line_too_long",
        format!("a message of {len} bytes is over the limit of {max}"),
        start,
    )
}

/// TCP framing (RFC 6587): octet counting or newline-terminated, told apart by the first
/// byte of each frame (a digit starts a length). Holds at most one frame's start.
pub(crate) struct Framer {
    max: usize,
    pending: Vec<u8>,
    /// Bytes of a refused frame still to skip.
    skip: usize,
    /// Inside a refused newline-terminated frame: skip to its end.
    skip_line: bool,
}

impl Framer {
    pub fn new(max: usize) -> Framer {
        Framer {
            max,
            pending: Vec::new(),
            skip: 0,
            skip_line: false,
        }
    }

    /// Takes bytes read; appends the whole messages to `out`. Returns how many messages
    /// (taken or refused) it found.
    pub fn push(&mut self, mut data: &[u8], out: &mut Messages) -> u64 {
        if self.skip > 0 {
            let k = self.skip.min(data.len());
            self.skip -= k;
            data = &data[k..];
        }
        if self.skip_line {
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    self.skip_line = false;
                    data = &data[i + 1..];
                }
                None => return 0,
            }
        }
        self.pending.extend_from_slice(data);
        let mut found = 0;
        let mut at = 0;
        loop {
            let rest = &self.pending[at..];
            if rest.is_empty() {
                break;
            }
            if rest[0] == b'\n' || rest[0] == b'\r' || rest[0] == 0 {
                at += 1;
                continue;
            }
            if rest[0].is_ascii_digit() {
                // `<digits> ` then that many bytes.
                let digits = rest
                    .iter()
                    .take(11)
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                match rest.get(digits) {
                    None if digits < 10 => break, // the length is still arriving
                    Some(b' ') => {
                        let len: usize = std::str::from_utf8(&rest[..digits])
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(usize::MAX);
                        let start = digits + 1;
                        if len > self.max {
                            out.refused.push(too_long(len, self.max, &rest[start..]));
                            found += 1;
                            let have = rest.len() - start;
                            if have >= len {
                                at += start + len;
                                continue;
                            }
                            self.skip = len - have;
                            at = self.pending.len();
                            break;
                        }
                        if rest.len() < start + len {
                            break; // the frame is still arriving
                        }
                        push_message(&rest[start..start + len], &mut out.lines);
                        found += 1;
                        at += start + len;
                        continue;
                    }
                    // Not a length: a newline-terminated message that starts with digits.
                    _ => {}
                }
            }
            match memchr::memchr(b'\n', rest) {
                Some(i) if i <= self.max => {
                    push_message(&rest[..i], &mut out.lines);
                    found += 1;
                    at += i + 1;
                }
                Some(i) => {
                    out.refused.push(too_long(i, self.max, rest));
                    found += 1;
                    at += i + 1;
                }
                None if rest.len() > self.max => {
                    out.refused.push(too_long(rest.len(), self.max, rest));
                    found += 1;
                    self.skip_line = true;
                    at = self.pending.len();
                    break;
                }
                None => break,
            }
        }
        self.pending.drain(..at);
        found
    }

    /// The connection ended: a last message without its newline is complete.
    pub fn finish(&mut self, out: &mut Messages) -> u64 {
        let rest = std::mem::take(&mut self.pending);
        if self.skip > 0 || self.skip_line || rest.iter().all(|b| b.is_ascii_whitespace()) {
            return 0;
        }
        push_message(&rest, &mut out.lines);
        1
    }
}

/// Token buckets per sender address (one second's burst). The table is bounded: when it
/// fills, buckets that are full again (idle senders) are forgotten.
struct Rates {
    rate: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

const MAX_SENDERS: usize = 65_536;

impl Rates {
    fn new(rate: u32) -> Rates {
        Rates {
            rate: f64::from(rate.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `n` tokens; returns how long to wait before they are there (0: at once). The
    /// debt is taken now, so waiting senders queue up fairly.
    fn take(&self, ip: IpAddr, n: u64) -> Duration {
        let mut b = self.buckets.lock().expect("rates lock");
        if b.len() >= MAX_SENDERS && !b.contains_key(&ip) {
            let rate = self.rate;
            b.retain(|_, (tokens, at)| *tokens + at.elapsed().as_secs_f64() * rate < rate);
        }
        let now = Instant::now();
        let (tokens, at) = b.entry(ip).or_insert((self.rate, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.rate);
        *at = now;
        *tokens -= n as f64;
        if *tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-*tokens / self.rate)
        }
    }

    /// Takes `n` tokens if there are that many.
    fn try_take(&self, ip: IpAddr, n: u64) -> bool {
        let wait = self.take(ip, n);
        if wait.is_zero() {
            return true;
        }
        // Give them back: a dropped datagram costs nothing.
        if let Some((tokens, _)) = self.buckets.lock().expect("rates lock").get_mut(&ip) {
            *tokens += n as f64;
        }
        false
    }

    async fn wait(&self, ip: IpAddr, n: u64) {
        let d = self.take(ip, n);
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }
}

/// The socket's inode, which names it in `/proc/net/udp`.
fn socket_inode(socket: &UdpSocket) -> Option<u64> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    let fd = socket.as_raw_fd();
    std::fs::metadata(format!("/proc/self/fd/{fd}"))
        .ok()
        .map(|m| m.ino())
}

/// The kernel's drop counter of the UDP socket with this inode (the last column of
/// `/proc/net/udp` and `/proc/net/udp6`).
fn udp_drops(inode: u64) -> Option<u64> {
    for table in ["/proc/net/udp", "/proc/net/udp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() >= 13 && cols[9].parse() == Ok(inode) {
                return cols.last()?.parse().ok();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(max: usize, pieces: &[&[u8]]) -> (Vec<String>, Vec<String>, u64) {
        let mut f = Framer::new(max);
        let mut out = Messages {
            lines: Vec::new(),
            refused: Vec::new(),
            dropped: 0,
        };
        let mut n = 0;
        for p in pieces {
            n += f.push(p, &mut out);
        }
        n += f.finish(&mut out);
        let lines = String::from_utf8(out.lines)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let refused = out.refused.iter().map(|r| r.detail.clone()).collect();
        (lines, refused, n)
    }

    #[test]
    fn octet_counted_and_newline_frames_in_any_pieces() {
        let msg = "<34>1 2003-10-11T22:14:15.003Z host su - ID47 - hello\nworld";
        let framed = format!("{} {msg}<13>Oct 11 22:14:15 host app: plain\n", msg.len());
        // Whole, and byte by byte: the same messages.
        let whole = frames(1024, &[framed.as_bytes()]);
        let pieces: Vec<&[u8]> = framed.as_bytes().chunks(1).collect();
        assert_eq!(frames(1024, &pieces), whole);
        let (lines, refused, n) = whole;
        assert_eq!(
            lines,
            [
                "<34>1 2003-10-11T22:14:15.003Z host su - ID47 - hello world",
                "<13>Oct 11 22:14:15 host app: plain"
            ]
        );
        assert!(refused.is_empty());
        assert_eq!(n, 2);
        // A message that starts with digits but no length, and one cut by the end.
        let (lines, _, _) = frames(1024, &[b"2024-01-01T00:00:00Z host app: x\n<13>last"]);
        assert_eq!(lines, ["2024-01-01T00:00:00Z host app: x", "<13>last"]);
    }

    #[test]
    fn frames_over_the_cap_are_refused_and_skipped_without_being_held() {
        let big = "x".repeat(5000);
        let framed = format!("5000 {big}<13>after\n{big}\n<13>end\n");
        let pieces: Vec<&[u8]> = framed.as_bytes().chunks(700).collect();
        let (lines, refused, n) = frames(100, &pieces);
        assert_eq!(lines, ["<13>after", "<13>end"]);
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert!(refused[0].contains("5000 bytes"), "{refused:?}");
        assert_eq!(n, 4);
        // A declared length of 10^10 is refused, not allocated.
        let (lines, refused, _) = frames(100, &[b"9999999999 abc"]);
        assert!(lines.is_empty());
        assert_eq!(refused.len(), 1);
    }

    #[test]
    fn a_sender_over_its_rate_waits_or_is_refused() {
        let r = Rates::new(100);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(r.try_take(ip, 100), "the burst");
        assert!(!r.try_take(ip, 10));
        let wait = r.take(ip, 50);
        assert!(wait > Duration::from_millis(400), "{wait:?}");
        // Another sender is not held back by the first.
        assert!(r.try_take("192.0.2.2".parse().unwrap(), 100));
    }

    /// The kernel's own count of what it dropped, read back: a socket nobody reads fills
    /// its receive buffer, and every datagram sent is either in the buffer or counted.
    #[tokio::test]
    async fn udp_drops_reads_the_kernels_count_of_a_full_buffer() {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let inode = socket_inode(&socket).expect("the socket's inode");
        assert_eq!(udp_drops(inode), Some(0));
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = socket.local_addr().unwrap();
        let datagram = [b'x'; 1000];
        let sent = 20_000u64;
        for _ in 0..sent {
            sender.send_to(&datagram, to).unwrap();
        }
        let dropped = udp_drops(inode).expect("the socket is in /proc/net/udp");
        assert!(
            dropped > 0,
            "20 MB into a socket nobody reads: nothing dropped?"
        );
        let mut buf = [0u8; 2048];
        let mut received = 0u64;
        while let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_millis(200), socket.recv_from(&mut buf)).await
        {
            received += 1;
        }
        assert_eq!(
            received + dropped,
            sent,
            "received {received}, dropped {dropped}"
        );
    }
}
