//! SECURITY.md row 22: a compressed input that expands past the limits of
//! [`Limits`] is refused whole, whether it holds log lines or a capture; genuine gzip
//! passes. Bombs are built here as multi-member gzip (`cat a.gz a.gz ...`), so a few
//! hundred KiB stand for hundreds of MiB without anything large on disk.

use std::io::Write;

use secviz_parse::{
    DECOMPRESSED_FLOOR, DecompressionLimit, EventStream, Format, Limits, ParseError, ParseOptions,
};

/// `members` copies of one gzip member holding `head` and then `unit` repeated up to
/// `member_bytes` (the head only in the first copy).
fn gzip_bomb(head: &[u8], unit: &[u8], member_bytes: usize, members: usize) -> Vec<u8> {
    let member = |with_head: bool| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        if with_head {
            enc.write_all(head).unwrap();
        }
        for _ in 0..member_bytes / unit.len() {
            enc.write_all(unit).unwrap();
        }
        enc.finish().unwrap()
    };
    let mut out = member(true);
    let rest = member(false);
    for _ in 1..members {
        out.extend_from_slice(&rest);
    }
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

const PF_LINE: &str = "Oct 21 06:00:01.015678 rule 57/0(match): pass out on xl1: 10.9.8.7.1030 > 192.0.2.1.53: 46523+ A? h.example. (43) (DF)\n";

/// Varied pf lines (as real logs are: they compress about 10x, not 1000x).
fn pf_lines(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 200);
    let mut i = 0u64;
    while s.len() < bytes {
        let x = i.wrapping_mul(2_654_435_761) % 1_000_003;
        s.push_str(&format!(
            "Oct 21 {:02}:{:02}:{:02}.{:06} rule {}/0(match): block in on xl1: 10.{}.{}.{}.{} > 192.0.2.{}.{}: S {}:{}(0) win {} (DF)\n",
            i / 3600 % 24,
            i / 60 % 60,
            i % 60,
            x % 1_000_000,
            x % 97,
            x % 251,
            (x / 7) % 253,
            (x / 13) % 254,
            1024 + x % 60000,
            x % 200,
            [22, 80, 443, 53, 25][(x % 5) as usize],
            x,
            x + 1,
            1024 + x % 64000
        ));
        i += 1;
    }
    s
}

fn opts(format: Option<Format>, limits: Limits) -> ParseOptions {
    ParseOptions {
        format,
        year: Some(2005),
        limits,
        ..ParseOptions::default()
    }
}

/// Reads the whole stream; returns the events seen before the end or the error.
fn drain(data: Vec<u8>, o: ParseOptions) -> (u64, Result<(), ParseError>) {
    let mut s = match EventStream::open(std::io::Cursor::new(data), o) {
        Ok(s) => s,
        Err(e) => return (0, Err(e)),
    };
    let mut events = 0;
    loop {
        match s.next_batch(&mut |_| {}) {
            Ok(Some(b)) => events += b.num_rows() as u64,
            Ok(None) => return (events, Ok(())),
            Err(e) => return (events, Err(e)),
        }
    }
}

#[test]
fn security_row_22_gzip_bomb_of_log_lines_is_refused() {
    // 300 MiB of pf lines from about 1 MiB: about 280x (a line repeated; zeros reach
    // deflate's ~1000x).
    let bomb = gzip_bomb(b"", PF_LINE.as_bytes(), 1 << 20, 300);
    assert!(bomb.len() < 2 << 20, "{}", bomb.len());
    let (events, end) = drain(bomb.clone(), opts(Some(Format::Pf), Limits::default()));
    let Err(e) = end else {
        panic!("the bomb was parsed whole: {events} events")
    };
    let ParseError::Decompression(DecompressionLimit::Ratio {
        max_ratio,
        compressed,
        decompressed,
    }) = &e
    else {
        panic!("wrong error: {e}")
    };
    assert_eq!(*max_ratio, 100);
    assert!(
        *decompressed > DECOMPRESSED_FLOOR && *decompressed < 64 << 20,
        "stopped early: {e}"
    );
    assert!(*decompressed > 100 * compressed);
    assert!(e.to_string().contains("more than 100 times"), "{e}");

    // Detected format, and the limit off: the same input is all log lines.
    let (events, end) = drain(
        gzip_bomb(b"", PF_LINE.as_bytes(), 1 << 20, 20),
        opts(
            None,
            Limits {
                max_decompressed_ratio: None,
                ..Limits::default()
            },
        ),
    );
    assert!(end.is_ok());
    assert!(events > 150_000, "{events}");
}

#[test]
fn security_row_22_gzip_bomb_of_a_capture_is_refused() {
    // A legacy pcap (Ethernet) of one UDP packet repeated: 200 MiB from well under 1 MiB.
    let mut head = Vec::new();
    head.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    head.extend_from_slice(&2u16.to_le_bytes());
    head.extend_from_slice(&4u16.to_le_bytes());
    head.extend_from_slice(&[0; 8]);
    head.extend_from_slice(&65535u32.to_le_bytes());
    head.extend_from_slice(&1u32.to_le_bytes());
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x08, 0x00]);
    let payload = [0x55u8; 22];
    let ip_len = (20 + 8 + payload.len()) as u16;
    frame.extend_from_slice(&[
        0x45,
        0,
        (ip_len >> 8) as u8,
        ip_len as u8,
        0,
        1,
        0,
        0,
        64,
        17,
        0,
        0,
    ]);
    frame.extend_from_slice(&[10, 0, 0, 1, 192, 0, 2, 1]);
    frame.extend_from_slice(&4000u16.to_be_bytes());
    frame.extend_from_slice(&9999u16.to_be_bytes());
    frame.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(&payload);
    let mut record = Vec::new();
    record.extend_from_slice(&1_000_000_000u32.to_le_bytes());
    record.extend_from_slice(&0u32.to_le_bytes());
    record.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    record.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    record.extend_from_slice(&frame);

    // Within the floor it is an ordinary capture.
    let small = gzip_bomb(&head, &record, 1 << 20, 2);
    let (events, end) = drain(small, opts(None, Limits::default()));
    assert!(end.is_ok(), "{end:?}");
    assert!(events > 20_000, "{events}");

    let bomb = gzip_bomb(&head, &record, 1 << 20, 200);
    let (_, end) = drain(bomb, opts(None, Limits::default()));
    assert!(
        matches!(
            end,
            Err(ParseError::Decompression(DecompressionLimit::Ratio { .. }))
        ),
        "the capture reader took the refusal for the end of its input: {end:?}"
    );
}

#[test]
fn genuine_gzip_passes_and_the_byte_limit_holds() {
    // Past the floor at a log's ratio: parsed whole.
    let text = pf_lines(24 << 20);
    let gz = gzip(text.as_bytes());
    let ratio = text.len() / gz.len();
    assert!((3..50).contains(&ratio), "a log-like ratio: {ratio}");
    let lines = text.lines().count() as u64;
    let (events, end) = drain(gz.clone(), opts(Some(Format::Pf), Limits::default()));
    assert!(end.is_ok(), "{end:?}");
    assert_eq!(events, lines);

    // An absolute limit refuses it whatever the ratio.
    let (_, end) = drain(
        gz,
        opts(
            Some(Format::Pf),
            Limits {
                max_decompressed_bytes: Some(8 << 20),
                ..Limits::default()
            },
        ),
    );
    match end {
        Err(ParseError::Decompression(DecompressionLimit::Bytes { max_bytes })) => {
            assert_eq!(max_bytes, 8 << 20)
        }
        other => panic!("{other:?}"),
    }

    // Plain input is not decompressed, so no decompression limit applies.
    let (events, end) = drain(
        text.into_bytes(),
        opts(
            Some(Format::Pf),
            Limits {
                max_decompressed_bytes: Some(1 << 20),
                ..Limits::default()
            },
        ),
    );
    assert!(end.is_ok());
    assert_eq!(events, lines);
}

#[test]
fn a_tiny_byte_limit_refuses_while_the_head_is_read() {
    let gz = gzip(pf_lines(256 << 10).as_bytes());
    let e = EventStream::open(
        std::io::Cursor::new(gz),
        opts(
            None,
            Limits {
                max_decompressed_bytes: Some(1000),
                ..Limits::default()
            },
        ),
    )
    .err()
    .expect("refused at open");
    assert!(
        matches!(
            e,
            ParseError::Decompression(DecompressionLimit::Bytes { max_bytes: 1000 })
        ),
        "{e}"
    );
}
