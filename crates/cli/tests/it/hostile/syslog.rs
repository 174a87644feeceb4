//! Hostile syslog senders (issue 18) beside the storm: frames over the cap and a declared
//! length of 10 GB over TCP, a UDP flood over the per-sender rate, and more connections than
//! the receiver takes, all while the portal's pages are measured.

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// What the senders sent.
#[derive(Debug, Default)]
pub(super) struct Sent {
    pub(super) udp_datagrams: u64,
    pub(super) oversized_frames: u64,
    pub(super) connections_tried: u64,
}

fn valid(i: u64) -> String {
    let msg = format!(
        "<34>1 2026-12-05T10:00:00Z fw1 sshd 4242 - - Failed password for root from 192.0.2.{} port 22 ssh2",
        1 + i % 200
    );
    format!("{} {msg}", msg.len())
}

/// Runs the senders for `length` (blocking: call on a thread of its own).
pub(super) fn senders(tcp: &str, udp: &str, length: Duration) -> Sent {
    let started = Instant::now();
    let (tcp2, tcp3, udp) = (tcp.to_string(), tcp.to_string(), udp.to_string());
    // Oversized frames and a 10 GB declared length, after a valid message (so the receiver's
    // record of the connection's transport exists).
    let big = std::thread::spawn(move || {
        let mut frames = 0;
        while started.elapsed() < length {
            if let Ok(mut s) = TcpStream::connect(&tcp2) {
                let _ = s.write_all(valid(frames).as_bytes());
                let line = format!("{}\n", "A".repeat(100_000));
                for _ in 0..5 {
                    if s.write_all(line.as_bytes()).is_err() {
                        break;
                    }
                    frames += 1;
                }
                let _ = s.write_all(b"10000000000 ");
                let _ = s.write_all(&vec![b'x'; 64 * 1024]);
                frames += 1;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        frames
    });
    // More connections than the receiver takes, held open.
    let many = std::thread::spawn(move || {
        let mut tried = 0;
        let mut held = Vec::new();
        while started.elapsed() < length {
            held.retain(|s: &TcpStream| s.peer_addr().is_ok());
            while held.len() < 40 {
                tried += 1;
                match TcpStream::connect(&tcp3) {
                    Ok(s) => held.push(s),
                    Err(_) => break,
                }
            }
            std::thread::sleep(Duration::from_millis(500));
            held.clear();
        }
        tried
    });
    // A UDP flood: 2,000 datagrams a second from one sender (its rate is 200).
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut datagrams = 0;
    while started.elapsed() < length {
        for _ in 0..20 {
            let _ = sock.send_to(valid(datagrams).as_bytes(), &udp);
            datagrams += 1;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Sent {
        udp_datagrams: datagrams,
        oversized_frames: big.join().unwrap(),
        connections_tried: many.join().unwrap(),
    }
}
