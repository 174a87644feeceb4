//! The line reader: whole lines out of an opened input, numbered, under a length cap,
//! without a copy where they lie within the read buffer, and straight into the chunks
//! of the parallel reader (see [`LineReader::read_lines_into`]).

use std::io::{self, BufRead};

use memchr::{memchr, memrchr};

use super::{BUF_BYTES, Damage};

/// One line from [`LineReader::next_line`].
pub(crate) enum Line<'a> {
    /// A complete line (without `\n` or `\r\n`).
    Text(u64, &'a [u8]),
    /// A line over the cap: its number, full length, and its first KiB.
    TooLong(u64, usize, &'a [u8]),
    /// The last line, cut by damage to the input.
    Truncated(u64, &'a [u8]),
    Eof,
}

/// Reads lines without copying them when they lie within the buffer.
pub(crate) struct LineReader {
    inner: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    /// Input that comes before what `inner` holds: what a direct read
    /// ([`Self::read_lines_into`]) got past its last whole line.
    front: Vec<u8>,
    front_at: usize,
    /// `inner`'s buffer is known to be empty, so a read of [`BUF_BYTES`] goes past it.
    drained: bool,
    pending: usize,
    line_no: u64,
    max: usize,
    done: bool,
    damage: Damage,
}

impl LineReader {
    pub fn new(inner: Box<dyn BufRead + Send>, max: usize, damage: Damage) -> Self {
        // Lines over 256 MiB are refused whatever the option: text offsets of a batch
        // stay within i32 (see batch.rs).
        let max = max.clamp(1, 256 << 20);
        LineReader {
            inner,
            buf: Vec::new(),
            front: Vec::new(),
            front_at: 0,
            drained: false,
            pending: 0,
            line_no: 0,
            max,
            done: false,
            damage,
        }
    }

    /// The complete lines waiting in the read buffer, as one slice ending with `\n`
    /// (empty when the buffer holds no whole line: then [`Self::next_line`] reads on).
    /// The caller walks the lines itself and reports what it took with
    /// [`Self::consume_lines`]: one call per buffer instead of one per line, which is
    /// what the hot loop of the text formats wants. Lines are handed out raw (a `\r`
    /// before the `\n` is still there, and no length cap is applied): the caller
    /// applies [`Self::max_line`] and hands a longer line to `next_line`, which rejects it.
    #[inline]
    pub fn buffered_lines(&mut self) -> io::Result<&[u8]> {
        self.consume_pending();
        if self.done {
            return Ok(&[]);
        }
        let avail = self.avail()?;
        Ok(match memrchr(b'\n', avail) {
            Some(i) => &avail[..=i],
            None => &[],
        })
    }

    /// Takes `bytes` bytes holding `lines` whole lines from the slice that
    /// [`Self::buffered_lines`] returned.
    #[inline]
    pub fn consume_lines(&mut self, bytes: usize, lines: u64) {
        self.pending = bytes;
        self.line_no += lines;
    }

    /// Goes on reading from `inner` after the end of the previous input, numbering its
    /// lines after the ones already read: a live source fed piece by piece.
    pub fn refill(&mut self, inner: Box<dyn BufRead + Send>) {
        self.inner = inner;
        self.pending = 0;
        self.drained = false;
        self.done = false;
    }

    /// Numbers the next line `next` (resuming a followed log after a restart).
    pub fn set_next_line(&mut self, next: u64) {
        self.line_no = next.saturating_sub(1);
    }

    /// Number of the last line handed out (1-based; 0 before the first).
    #[inline]
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The length cap of a line, without its `\n`.
    #[inline]
    pub fn max_line(&self) -> usize {
        self.max
    }

    pub fn next_line(&mut self) -> io::Result<Line<'_>> {
        self.consume_pending();
        if self.done {
            return Ok(Line::Eof);
        }
        // Fast path: the whole line is in the buffer.
        let max = self.max;
        let found = {
            let avail = self.avail()?;
            if avail.is_empty() {
                self.done = true;
                return Ok(Line::Eof);
            }
            memchr(b'\n', avail).filter(|&i| i <= max)
        };
        if let Some(i) = found {
            self.pending = i + 1;
            self.line_no += 1;
            let n = self.line_no;
            let avail = self.avail()?;
            return Ok(Line::Text(n, trim_cr(&avail[..i])));
        }
        self.slow_line()
    }

    /// What is buffered next: the rest of `front`, else `inner`'s buffer (read into
    /// when empty).
    #[inline]
    fn avail(&mut self) -> io::Result<&[u8]> {
        if self.front_at < self.front.len() {
            return Ok(&self.front[self.front_at..]);
        }
        self.drained = false;
        fill(&mut self.inner)
    }

    /// Takes `n` bytes of what [`Self::avail`] returned.
    #[inline]
    fn consume(&mut self, n: usize) {
        if self.front_at < self.front.len() {
            self.front_at += n;
            if self.front_at >= self.front.len() {
                self.front.clear();
                self.front_at = 0;
            }
        } else {
            self.inner.consume(n);
        }
    }

    #[inline]
    fn consume_pending(&mut self) {
        if self.pending > 0 {
            self.consume(self.pending);
            self.pending = 0;
        }
    }

    /// Appends whole lines (raw, as [`Self::buffered_lines`] gives them) to `out` from
    /// `*len` on, until `*len` reaches `want`, reading the input straight into `out`,
    /// and returns how many. For the parallel reader, whose chunks were otherwise
    /// copied out of the read buffer: a second pass over every byte of the input, on the
    /// thread all the workers wait for.
    ///
    /// `out` is written within its length, which the caller keeps initialised and at
    /// least `want` + [`BUF_BYTES`]: a read of `BUF_BYTES` into an empty `BufReader`
    /// goes past its buffer. Returns 0 when the caller must take the next line(s) with
    /// [`Self::buffered_lines`] or [`Self::next_line`]: whole lines are buffered, a
    /// line is over the length cap, the input ended, or there is no room.
    pub fn read_lines_into(
        &mut self,
        out: &mut [u8],
        len: &mut usize,
        want: usize,
    ) -> io::Result<u64> {
        self.consume_pending();
        let mut lines = 0;
        while *len < want && !self.done {
            if memchr(b'\n', &self.front[self.front_at..]).is_some() {
                break;
            }
            if !self.drained {
                // `front` is empty here (it is only filled once drained). A partial
                // line left in `inner`'s buffer moves to `front`, which empties it.
                let avail = fill(&mut self.inner)?;
                if avail.is_empty() || memchr(b'\n', avail).is_some() {
                    break;
                }
                self.front.clear();
                self.front.extend_from_slice(avail);
                self.front_at = 0;
                let n = avail.len();
                self.inner.consume(n);
                self.drained = true;
                continue;
            }
            // The partial line first, then a read straight after it.
            let start = *len;
            let partial = self.front.len() - self.front_at;
            let end = start + partial + BUF_BYTES;
            if out.len() < end {
                break;
            }
            out[start..start + partial].copy_from_slice(&self.front[self.front_at..]);
            self.front.clear();
            self.front_at = 0;
            let read = loop {
                match self.inner.read(&mut out[start + partial..end]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.front.extend_from_slice(&out[start..start + partial]);
                        return Err(e);
                    }
                }
            };
            let got = &out[start..start + partial + read];
            let (take, n) = whole_lines(got, self.max);
            // What is past the last whole line (or from a line over the cap on) is
            // read first next time.
            self.front.extend_from_slice(&got[take..]);
            *len += take;
            lines += n;
            self.line_no += n;
            if read == 0 || n == 0 {
                break;
            }
        }
        Ok(lines)
    }

    /// A line spanning buffer refills, or over the cap: assembled in `buf`.
    fn slow_line(&mut self) -> io::Result<Line<'_>> {
        // `buf` is taken out while the line is gathered: what is read borrows `self`
        // (the reader's buffer or `front`).
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let gathered = self.gather_line(&mut buf);
        self.buf = buf;
        let (total, newline) = gathered?;
        self.line_no += 1;
        if total > self.max {
            self.buf.truncate(KEEP_OF_LONG_LINE);
            return Ok(Line::TooLong(self.line_no, total, &self.buf));
        }
        if !newline && self.damage.get().is_some() {
            return Ok(Line::Truncated(self.line_no, &self.buf));
        }
        Ok(Line::Text(self.line_no, trim_cr(&self.buf)))
    }

    /// Reads the next line into `buf` (only its first KiB if it is over the cap):
    /// its full length, and whether it ended with a newline.
    fn gather_line(&mut self, buf: &mut Vec<u8>) -> io::Result<(usize, bool)> {
        let max = self.max;
        let mut total = 0usize;
        loop {
            let avail = self.avail()?;
            if avail.is_empty() {
                self.done = true;
                return Ok((total, false));
            }
            let (take, used, newline) = match memchr(b'\n', avail) {
                Some(i) => (i, i + 1, true),
                None => (avail.len(), avail.len(), false),
            };
            // Over the cap, keep only the first KiB for the reject.
            let room = if total + take <= max {
                take
            } else {
                KEEP_OF_LONG_LINE.saturating_sub(buf.len()).min(take)
            };
            if total <= max {
                buf.extend_from_slice(&avail[..room]);
            }
            total += take;
            self.consume(used);
            if newline {
                return Ok((total, true));
            }
        }
    }
}

/// How much of a line over the cap is kept for its reject.
const KEEP_OF_LONG_LINE: usize = 1024;

/// The bytes of the whole lines at the start of `b` up to the first one over `max`
/// (without its `\n`), and their count.
pub(crate) fn whole_lines(b: &[u8], max: usize) -> (usize, u64) {
    if b.len() <= max {
        // No line of a slice shorter than the cap can be over it.
        return match memrchr(b'\n', b) {
            Some(i) => (i + 1, memchr::memchr_iter(b'\n', b).count() as u64),
            None => (0, 0),
        };
    }
    let mut used = 0;
    let mut lines = 0;
    while let Some(nl) = memchr(b'\n', &b[used..]) {
        if nl > max {
            break;
        }
        used += nl + 1;
        lines += 1;
    }
    (used, lines)
}

fn fill(r: &mut Box<dyn BufRead + Send>) -> io::Result<&[u8]> {
    loop {
        match r.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    r.fill_buf()
}

#[inline]
pub(crate) fn trim_cr(b: &[u8]) -> &[u8] {
    match b.last() {
        Some(b'\r') => &b[..b.len() - 1],
        _ => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::open;
    use crate::options::Limits;
    use std::io::{Cursor, Write};

    /// A line as the tests compare them (`None` at the end).
    fn shown(line: Line<'_>) -> Option<String> {
        Some(match line {
            Line::Text(n, b) => format!("{n}:{}", String::from_utf8_lossy(b)),
            Line::TooLong(n, len, _) => format!("{n}:too long {len}"),
            Line::Truncated(n, b) => format!("{n}:cut {}", String::from_utf8_lossy(b)),
            Line::Eof => return None,
        })
    }

    fn lines(data: Vec<u8>, max: usize) -> Vec<String> {
        let o = open(Cursor::new(data), &Limits::default()).unwrap();
        let mut r = LineReader::new(o.reader, max, o.damage);
        let mut out = Vec::new();
        while let Some(l) = shown(r.next_line().unwrap()) {
            out.push(l);
        }
        out
    }

    /// The lines as the parallel reader takes them: read straight into a chunk buffer
    /// ([`LineReader::read_lines_into`]), taken from what is buffered, and one by one
    /// with `next_line` for the rest. Numbered and written as [`lines`] does.
    fn chunked_lines(data: Vec<u8>, max: usize, chunk: usize) -> (Vec<String>, u64) {
        let o = open(Cursor::new(data), &Limits::default()).unwrap();
        let mut r = LineReader::new(o.reader, max, o.damage);
        let mut out = Vec::new();
        let mut room = vec![0u8; chunk + BUF_BYTES + 4096];
        let mut direct = 0;
        let push = |out: &mut Vec<String>, first: u64, text: &[u8]| {
            let body = text.strip_suffix(b"\n").unwrap_or(text);
            for (i, l) in body.split(|&b| b == b'\n').enumerate() {
                let l = String::from_utf8_lossy(trim_cr(l));
                out.push(format!("{}:{l}", first + i as u64));
            }
        };
        loop {
            let first = r.line_no() + 1;
            let mut len = 0;
            let n = r.read_lines_into(&mut room, &mut len, chunk).unwrap();
            if n > 0 {
                direct += n;
                assert_eq!(room[len - 1], b'\n');
                push(&mut out, first, &room[..len]);
                continue;
            }
            let avail = r.buffered_lines().unwrap();
            let (take, n) = whole_lines(avail, max);
            if n > 0 {
                let text = avail[..take].to_vec();
                r.consume_lines(take, n);
                push(&mut out, first, &text);
                continue;
            }
            match shown(r.next_line().unwrap()) {
                Some(l) => out.push(l),
                None => break,
            }
        }
        (out, direct)
    }

    /// Read straight into chunks, the input gives the lines, numbers, rejects and
    /// ends that reading line by line gives.
    #[test]
    fn direct_reads_give_the_same_lines() {
        let mut text = Vec::new();
        for i in 0..60_000u32 {
            match i % 997 {
                0 => text.extend_from_slice(b"\n"),
                1 => text.extend_from_slice(b"crlf line\r\n"),
                2 => text.extend(std::iter::repeat_n(b'y', 300 + i as usize % 50).chain([b'\n'])),
                _ => writeln!(text, "line {i} {}", "z".repeat(i as usize % 120)).unwrap(),
            }
        }
        let mut long = text.clone();
        // A line longer than a read, in the middle.
        let at = long.len() / 2;
        let at = at + long[at..].iter().position(|&b| b == b'\n').unwrap() + 1;
        long.splice(
            at..at,
            std::iter::repeat_n(b'x', 3 * BUF_BYTES + 5).chain([b'\n']),
        );
        let mut unterminated = text.clone();
        unterminated.extend_from_slice(b"no newline at the end");
        for (what, data) in [
            ("plain", text),
            ("long line", long),
            ("unterminated", unterminated),
        ] {
            for max in [usize::MAX, 200] {
                for chunk in [4096, 256 << 10] {
                    let want = lines(data.clone(), max);
                    let (got, direct) = chunked_lines(data.clone(), max, chunk);
                    assert_eq!(got.len(), want.len(), "{what}, cap {max}, chunk {chunk}");
                    if max == usize::MAX {
                        // Under a cap that some lines pass, what follows such a line in
                        // a read is taken from the buffer: fewer lines are read straight.
                        assert!(
                            direct > got.len() as u64 / 2,
                            "{what}: {direct} lines read straight"
                        );
                    }
                    if let Some(i) = (0..want.len()).find(|&i| got[i] != want[i]) {
                        panic!(
                            "{what}, cap {max}, chunk {chunk}: line {i}: {} != {}",
                            got[i], want[i]
                        );
                    }
                }
            }
        }
        assert_eq!(chunked_lines(Vec::new(), 100, 4096).0, Vec::<String>::new());
    }

    /// A gzip stream cut in half: the same lines, and the cut last line, either way.
    #[test]
    fn direct_reads_of_a_damaged_stream() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for i in 0..200_000 {
            writeln!(enc, "line number {i}").unwrap();
        }
        let gz = enc.finish().unwrap();
        let cut = gz[..gz.len() / 2].to_vec();
        let want = lines(cut.clone(), 1000);
        assert!(want.len() > 50_000);
        let (got, direct) = chunked_lines(cut, 1000, 256 << 10);
        assert_eq!(got, want);
        assert!(direct > 50_000, "{direct} lines read straight");
    }

    #[test]
    fn splits_lines_and_caps_length() {
        let got = lines(b"a\r\nbb\n\nccccc\ndd".to_vec(), 4);
        assert_eq!(got, ["1:a", "2:bb", "3:", "4:too long 5", "5:dd"]);
    }

    #[test]
    fn long_lines_across_buffers() {
        let long = "x".repeat(BUF_BYTES * 2 + 17);
        let got = lines(format!("{long}\nend\n").into_bytes(), usize::MAX);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len(), long.len() + 2);
        assert_eq!(got[1], "2:end");
    }

    #[test]
    fn gzip_is_transparent_and_truncation_is_damage() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for i in 0..50_000 {
            writeln!(enc, "line number {i}").unwrap();
        }
        let gz = enc.finish().unwrap();
        let all = lines(gz.clone(), 1000);
        assert_eq!(all.len(), 50_000);
        assert_eq!(all[49_999], "50000:line number 49999");

        let cut = gz[..gz.len() / 2].to_vec();
        let o = open(Cursor::new(cut), &Limits::default()).unwrap();
        assert!(o.gzip);
        let damage = o.damage.clone();
        let mut r = LineReader::new(o.reader, 1000, o.damage);
        let (mut n, mut truncated) = (0, 0);
        loop {
            match r.next_line().unwrap() {
                Line::Text(..) => n += 1,
                Line::Truncated(..) => truncated += 1,
                Line::TooLong(..) => unreachable!(),
                Line::Eof => break,
            }
        }
        assert!(n > 10_000 && n < 50_000, "kept the prefix: {n}");
        assert!(truncated <= 1);
        assert!(damage.get().is_some(), "damage recorded");
    }
}
