//! Parsing one large text input on several cores, with the output of a serial run.
//!
//! The reading thread cuts the input into chunks of whole lines (about [`CHUNK_BYTES`]
//! each, numbered by the line they start at) and hands them to worker threads; it then
//! takes the results back **in input order**, so batches, rejects and line numbers come
//! out exactly as [`super::LineSource`] alone would give them. The input is read
//! straight into the chunk buffers (`LineReader::read_lines_into`): copying each chunk out
//! of the read buffer cost this thread, which the workers wait for, 6-10% of the wall
//! time on two threads.
//!
//! Lines are not always independent: a log without years is dated by a rule that
//! follows the months line by line (`time::YearGuess`), plain tcpdump dates its times
//! of day by counting midnights, and a Zeek log can change its header half-way. A
//! worker therefore parses *speculatively*: from a copy of the parser as it was when
//! the chunk was handed out (possibly a few chunks behind), after first running the
//! previous chunk's last line through it to catch up. Merging compares the worker's
//! [`LineParser::state_key`] at the chunk's start with the true parser's state after
//! the previous chunk: equal keys mean every line of the chunk parses the same, and
//! the worker's result is kept; different keys (a New Year, a midnight or a new header
//! between the two) mean the chunk is parsed again on the reading thread from the true
//! state. Either way the output is the serial output. When speculation keeps missing
//! (a log whose every chunk crosses midnight), the rest is parsed serially.
//!
//! Memory stays bounded: at most `2 × threads` chunks are in flight, each with its
//! input and its batches.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use arrow_array::RecordBatch;

use super::{LineParser, Work, reject};
use crate::batch::BatchBuilder;
use crate::error::ParseError;
use crate::input::{BUF_BYTES, Line, LineReader, trim_cr, whole_lines};
use crate::reject::{Reject, RejectReason, Summary, escape_bytes};

/// Input bytes per chunk: one to three thousand log lines, enough to make handing a
/// chunk to another thread cheap beside parsing it. Every chunk in flight holds its
/// input and its batches: at 1 MiB, a parse on two threads peaked at 38–49 MB and
/// spent 6% of its CPU time faulting in fresh pages; at 256 KiB it peaks at 23–29 MB
/// and runs 3–4% faster (tcpdump and syslog lines, `bench/parse/formats.sh`).
pub(crate) const CHUNK_BYTES: usize = 256 << 10;

/// Consecutive speculation misses after which the rest of the input is parsed serially.
const GIVE_UP_AFTER: u32 = 8;

/// What a batch needs besides its rows.
#[derive(Clone)]
pub(crate) struct Settings {
    pub batch_rows: usize,
    pub format: &'static str,
    pub source: String,
    pub keep_raw: bool,
    pub strict: bool,
}

/// Room of a chunk's buffer: a chunk, and a read of the input's buffer size after it
/// (see [`LineReader::read_lines_into`]).
const CHUNK_ROOM: usize = CHUNK_BYTES + BUF_BYTES + 4096;

/// A run of whole lines, each ending with `\n`, and the number of its first line.
struct Chunk {
    first_line: u64,
    /// The lines are `bytes[..len]`. The rest is room, kept initialised (zeroed once,
    /// when the buffer is made) so the input can be read into it again.
    bytes: Vec<u8>,
    len: usize,
}

impl Chunk {
    fn lines(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// What the input holds next, in order.
enum Pending {
    /// Parsed on the reading thread (the first chunk, and all chunks once speculation
    /// was given up).
    Local(Chunk),
    /// Handed to a worker.
    Worker(Receiver<Parsed>),
    /// A line over the length cap or cut by damage: rejected in order.
    Reject(u64, RejectReason, String, String),
}

/// A worker's task.
struct Job {
    chunk: Chunk,
    /// The previous chunk's last line, run through the parser before the chunk.
    context: Option<Vec<u8>>,
    parser: Box<dyn LineParser>,
    reply: SyncSender<Parsed>,
}

/// A worker's result.
struct Parsed {
    chunk: Chunk,
    /// The parser's state key at the chunk's first line.
    key: u64,
    /// New Year crossings the parser had counted at the chunk's first line.
    crossings_before: u32,
    out: ChunkOut,
}

/// The parse of one chunk.
struct ChunkOut {
    batches: Vec<RecordBatch>,
    rejects: Vec<Reject>,
    summary: Summary,
    stopped: Option<ParseError>,
    /// The parser after the chunk's last line.
    parser: Box<dyn LineParser>,
}

/// The parallel driver behind [`super::LineSource`] when more than one thread is
/// allowed.
pub(crate) struct Parallel {
    threads: usize,
    settings: Settings,
    pending: VecDeque<Pending>,
    ready: VecDeque<RecordBatch>,
    /// Last line of the last chunk read, for the next worker to catch up on.
    last_line: Option<Vec<u8>>,
    chunks_merged: u64,
    /// Chunks whose worker result was kept, and that were parsed again here.
    kept: u64,
    reparsed: u64,
    misses: u32,
    /// Buffers of merged chunks, for the next ones: a fresh megabyte per chunk was
    /// mapped and faulted in page by page.
    spare: Vec<Vec<u8>>,
    serial: bool,
    eof: bool,
    jobs: Option<SyncSender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl Parallel {
    pub fn new(threads: usize, settings: Settings) -> Self {
        Parallel {
            threads: threads.max(1),
            settings,
            pending: VecDeque::new(),
            ready: VecDeque::new(),
            last_line: None,
            chunks_merged: 0,
            kept: 0,
            reparsed: 0,
            misses: 0,
            spare: Vec::new(),
            serial: false,
            eof: false,
            jobs: None,
            workers: Vec::new(),
        }
    }

    /// The next batch, in input order. `work` holds the true parser: its state is
    /// always that after the last merged line.
    pub fn next_batch(
        &mut self,
        reader: &mut LineReader,
        work: &mut Work,
        summary: &mut Summary,
        on_reject: &mut dyn FnMut(&Reject),
        stopped: &mut Option<ParseError>,
    ) -> Result<Option<RecordBatch>, ParseError> {
        loop {
            if let Some(b) = self.ready.pop_front() {
                summary.year = work.parser.year_note();
                return Ok(Some(b));
            }
            if let Some(e) = stopped.take() {
                self.shut_down();
                return Err(e);
            }
            // Until the first chunk is merged, every copy of the parser would be of
            // its blank starting state (no header, no month yet): read no further.
            let depth = if self.chunks_merged == 0 || self.serial {
                1
            } else {
                2 * self.threads
            };
            while self.pending.len() < depth && !self.eof {
                self.read_next(reader, &*work.parser)?;
            }
            let Some(next) = self.pending.pop_front() else {
                summary.year = work.parser.year_note();
                self.shut_down();
                return Ok(None);
            };
            self.merge(next, work, summary, on_reject, stopped);
        }
    }

    /// Reads the next chunk (and a reject that ended it, if any) into `pending`.
    fn read_next(
        &mut self,
        reader: &mut LineReader,
        parser: &dyn LineParser,
    ) -> Result<(), ParseError> {
        let first_line = reader.line_no() + 1;
        let mut bytes = self.spare.pop().unwrap_or_else(|| vec![0; CHUNK_ROOM]);
        let mut len = 0;
        let mut after = None;
        let max = reader.max_line();
        while len < CHUNK_BYTES {
            // Straight from the input into the chunk where it can be; what is buffered
            // is copied.
            if reader.read_lines_into(&mut bytes, &mut len, CHUNK_BYTES)? > 0 {
                continue;
            }
            let avail = reader.buffered_lines()?;
            if !avail.is_empty() {
                let (take, lines) = whole_lines(avail, max);
                if lines > 0 {
                    put(&mut bytes, &mut len, &avail[..take]);
                    reader.consume_lines(take, lines);
                    continue;
                }
            }
            match reader.next_line()? {
                Line::Eof => {
                    self.eof = true;
                    break;
                }
                Line::Text(_, b) => {
                    put(&mut bytes, &mut len, b);
                    put(&mut bytes, &mut len, b"\n");
                }
                Line::TooLong(n, len, prefix) => {
                    let mut raw = String::new();
                    escape_bytes(prefix, &mut raw);
                    let detail = format!("line of {len} bytes is over the limit");
                    after = Some(Pending::Reject(n, RejectReason::LineTooLong, detail, raw));
                    break;
                }
                Line::Truncated(n, b) => {
                    let mut raw = String::new();
                    escape_bytes(b, &mut raw);
                    let detail = "the input ends inside this line".to_string();
                    after = Some(Pending::Reject(n, RejectReason::Truncated, detail, raw));
                    break;
                }
            }
        }
        if len == 0 {
            self.recycle(bytes);
        } else {
            let context = self.last_line.take();
            self.last_line = Some(last_line(&bytes[..len]).to_vec());
            let chunk = Chunk {
                first_line,
                bytes,
                len,
            };
            let first = self.chunks_merged == 0 && self.pending.is_empty();
            let item = if first || self.serial {
                Pending::Local(chunk)
            } else {
                let (reply, result) = sync_channel(1);
                let job = Job {
                    chunk,
                    context,
                    parser: parser.fork(),
                    reply,
                };
                self.submit(job);
                Pending::Worker(result)
            };
            self.pending.push_back(item);
        }
        if let Some(r) = after {
            // The next chunk follows a rejected line: its worker has nothing to catch
            // up on, and merging checks the state as always.
            self.last_line = None;
            self.pending.push_back(r);
        }
        Ok(())
    }

    fn submit(&mut self, job: Job) {
        if self.jobs.is_none() {
            let (tx, rx) = sync_channel::<Job>(2 * self.threads);
            let rx = Arc::new(Mutex::new(rx));
            for _ in 0..self.threads {
                let rx = Arc::clone(&rx);
                let settings = self.settings.clone();
                self.workers
                    .push(std::thread::spawn(move || worker(rx, settings)));
            }
            self.jobs = Some(tx);
        }
        if let Some(tx) = &self.jobs {
            // A send fails only when every worker is gone (a parser panicked); the
            // job's reply channel then closes, and merging reports it.
            let _ = tx.send(job);
        }
    }

    fn merge(
        &mut self,
        next: Pending,
        work: &mut Work,
        summary: &mut Summary,
        on_reject: &mut dyn FnMut(&Reject),
        stopped: &mut Option<ParseError>,
    ) {
        match next {
            Pending::Reject(n, reason, detail, raw) => {
                *stopped = reject(summary, on_reject, work.strict, n, reason, detail, raw);
            }
            Pending::Local(chunk) => {
                self.local(&chunk, work, summary, on_reject, stopped);
                self.recycle(chunk.bytes);
            }
            Pending::Worker(result) => {
                let parsed = match result.recv() {
                    Ok(p) => p,
                    Err(_) => {
                        // The worker died (a panic in a parser): a serial run would
                        // have panicked too, on this thread. Say so rather than hang.
                        panic!("a parsing thread stopped without a result");
                    }
                };
                if parsed.key == work.parser.state_key() {
                    self.misses = 0;
                    let before = work.parser.crossings();
                    let out = parsed.out;
                    let mut parser = out.parser;
                    parser.set_crossings(before + parser.crossings() - parsed.crossings_before);
                    work.parser = parser;
                    self.take(out.batches, out.rejects, &out.summary, summary, on_reject);
                    *stopped = out.stopped;
                    self.chunks_merged += 1;
                    self.kept += 1;
                } else {
                    self.misses += 1;
                    self.reparsed += 1;
                    if self.misses >= GIVE_UP_AFTER {
                        self.serial = true;
                    }
                    self.local(&parsed.chunk, work, summary, on_reject, stopped);
                }
                self.recycle(parsed.chunk.bytes);
            }
        }
    }

    /// Keeps a merged chunk's buffer for a later chunk (as many as can be in flight),
    /// unless a long line grew it.
    fn recycle(&mut self, bytes: Vec<u8>) {
        if self.spare.len() <= 2 * self.threads && bytes.len() == CHUNK_ROOM {
            self.spare.push(bytes);
        }
    }

    /// Parses a chunk on this thread with the true parser.
    fn local(
        &mut self,
        chunk: &Chunk,
        work: &mut Work,
        summary: &mut Summary,
        on_reject: &mut dyn FnMut(&Reject),
        stopped: &mut Option<ParseError>,
    ) {
        let mut batches = Vec::new();
        *stopped = parse_lines(work, chunk, summary, on_reject, &mut batches);
        self.ready.extend(batches);
        self.chunks_merged += 1;
    }

    fn take(
        &mut self,
        batches: Vec<RecordBatch>,
        rejects: Vec<Reject>,
        chunk: &Summary,
        summary: &mut Summary,
        on_reject: &mut dyn FnMut(&Reject),
    ) {
        self.ready.extend(batches);
        for r in &rejects {
            on_reject(r);
        }
        summary.read += chunk.read;
        summary.parsed += chunk.parsed;
        summary.skipped += chunk.skipped;
        summary.events += chunk.events;
        for (reason, n) in &chunk.rejected {
            *summary.rejected.entry(*reason).or_insert(0) += n;
        }
    }

    fn shut_down(&mut self) {
        self.pending.clear();
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Drop for Parallel {
    fn drop(&mut self) {
        self.shut_down();
    }
}

fn worker(jobs: Arc<Mutex<Receiver<Job>>>, settings: Settings) {
    let mut batch = BatchBuilder::new(
        settings.batch_rows,
        settings.format,
        settings.source.clone(),
    );
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let mut parser = job.parser;
        if let Some(line) = &job.context {
            catch_up(&mut *parser, line);
        }
        let key = parser.state_key();
        let crossings_before = parser.crossings();
        let (out, b) = parse_chunk(parser, &job.chunk, &settings, batch);
        batch = b;
        // The reader may have stopped waiting (an error, or the stream was dropped).
        let _ = job.reply.send(Parsed {
            chunk: job.chunk,
            key,
            crossings_before,
            out,
        });
    }
}

/// Runs a line through the parser for its effect on the parser's state only.
fn catch_up(parser: &mut dyn LineParser, line: &[u8]) {
    let Ok(text) = std::str::from_utf8(line) else {
        return;
    };
    if text.trim_ascii().is_empty() {
        return;
    }
    let mut row = crate::row::Row::with_buffers(String::new(), String::new());
    let _ = parser.parse(text, &mut row);
}

fn parse_chunk(
    parser: Box<dyn LineParser>,
    chunk: &Chunk,
    settings: &Settings,
    batch: BatchBuilder,
) -> (ChunkOut, BatchBuilder) {
    let mut work = Work {
        parser,
        row_bufs: (String::new(), String::new()),
        batch,
        keep_raw: settings.keep_raw,
        strict: settings.strict,
        escaped: String::new(),
    };
    let mut summary = Summary::default();
    let mut rejects = Vec::new();
    let mut batches = Vec::new();
    let stopped = parse_lines(
        &mut work,
        chunk,
        &mut summary,
        &mut |r: &Reject| rejects.push(r.clone()),
        &mut batches,
    );
    let Work { parser, batch, .. } = work;
    let out = ChunkOut {
        batches,
        rejects,
        summary,
        stopped,
        parser,
    };
    (out, batch)
}

/// Parses every line of a chunk into `batches` (the last one possibly short), stopping
/// at a strict-mode reject.
fn parse_lines(
    work: &mut Work,
    chunk: &Chunk,
    summary: &mut Summary,
    on_reject: &mut dyn FnMut(&Reject),
    batches: &mut Vec<RecordBatch>,
) -> Option<ParseError> {
    let mut stopped = None;
    let bytes = chunk.lines();
    let mut start = 0;
    let mut row = work.row();
    // Every line of a chunk ends with `\n`; `memchr` finds it (splitting with a closure
    // over single bytes was an eighth of a parallel tcpdump parse).
    for line_no in chunk.first_line.. {
        let Some(nl) = memchr::memchr(b'\n', &bytes[start..]) else {
            break;
        };
        let line = &bytes[start..start + nl];
        start += nl + 1;
        stopped = work.line(&mut row, line_no, trim_cr(line), summary, on_reject);
        if work.batch.is_full() {
            batches.extend(work.batch.finish());
        }
        if stopped.is_some() {
            break;
        }
    }
    work.put_back(row);
    batches.extend(work.batch.finish());
    stopped
}

/// Appends `b` to the chunk buffer `bytes` at `*len`, growing it if needed (a line
/// longer than the room).
fn put(bytes: &mut Vec<u8>, len: &mut usize, b: &[u8]) {
    let end = *len + b.len();
    if bytes.len() < end {
        bytes.resize(end.max(bytes.len() * 2), 0);
    }
    bytes[*len..end].copy_from_slice(b);
    *len = end;
}

/// The last line of a chunk, without its `\n`.
fn last_line(bytes: &[u8]) -> &[u8] {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    match memchr::memrchr(b'\n', body) {
        Some(i) => &body[i + 1..],
        None => body,
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::io::Cursor;
    use std::sync::{Arc, OnceLock};

    use super::*;
    use crate::text::syslog::SyslogParser;
    use crate::text::zeek::ZeekParser;

    /// Parses text on two threads; returns the rows, the summary and the driver.
    fn run(text: String, parser: Box<dyn LineParser>) -> (u64, Summary, Parallel) {
        let settings = Settings {
            batch_rows: 8192,
            format: "test",
            source: String::new(),
            keep_raw: true,
            strict: false,
        };
        let mut reader = LineReader::new(
            Box::new(std::io::BufReader::new(Cursor::new(text.into_bytes()))),
            1 << 20,
            Arc::new(OnceLock::new()),
        );
        let mut work = Work {
            parser,
            row_bufs: (String::new(), String::new()),
            batch: BatchBuilder::new(8192, "test", String::new()),
            keep_raw: true,
            strict: false,
            escaped: String::new(),
        };
        let mut p = Parallel::new(2, settings);
        let (mut summary, mut stopped, mut rows) = (Summary::default(), None, 0);
        while let Some(b) = p
            .next_batch(
                &mut reader,
                &mut work,
                &mut summary,
                &mut |_| {},
                &mut stopped,
            )
            .unwrap()
        {
            rows += b.num_rows() as u64;
        }
        assert_eq!(rows, summary.parsed);
        (rows, summary, p)
    }

    fn syslog(months: &[&str], per_month: u32) -> (u64, Summary, Parallel) {
        let mut s = String::new();
        for m in months {
            for i in 0..per_month {
                writeln!(
                    s,
                    "{m} 10 10:{:02}:{:02} gw sshd[{i}]: Failed password for root from 10.0.0.{} port 22 ssh2",
                    i / 60 % 60,
                    i % 60,
                    i % 250
                )
                .unwrap();
            }
        }
        run(s, Box::new(SyslogParser::new(None, 1_781_481_600_000_000)))
    }

    #[test]
    fn workers_do_the_parsing_of_a_steady_log() {
        let (rows, _, p) = syslog(&["Oct"], 60_000);
        assert_eq!(rows, 60_000);
        assert!(p.chunks_merged >= 5, "{} chunks", p.chunks_merged);
        // Every chunk but the first (parsed here to learn the month) came from a worker.
        assert_eq!(p.kept, p.chunks_merged - 1);
        assert_eq!(p.reparsed, 0);
    }

    /// A worker catches up on the previous chunk's last line, so a new month or a
    /// new year between its copy of the parser and its chunk costs nothing.
    #[test]
    fn months_and_new_year_are_caught_up_on() {
        let (rows, summary, p) = syslog(&["Oct", "Nov", "Dec", "Jan"], 25_000);
        assert_eq!(rows, 100_000);
        assert_eq!(p.reparsed, 0);
        assert_eq!(p.kept, p.chunks_merged - 1);
        let year = summary.year.unwrap();
        assert_eq!((year.first_year, year.crossings), (2025, 1), "{year}");
    }

    /// A Zeek header in the middle changes how later lines parse: chunks read ahead
    /// with the old header are parsed again, and only those.
    #[test]
    fn a_new_header_makes_chunks_read_ahead_parse_again() {
        let mut s = String::new();
        for part in 0..2 {
            s.push_str("#separator \\x09\n#path\tconn\n");
            s.push_str(if part == 0 {
                "#fields\tts\tid.orig_h\tid.resp_h\n"
            } else {
                "#fields\tts\tid.resp_h\tid.orig_h\n"
            });
            for i in 0..150_000u32 {
                writeln!(
                    s,
                    "{}\t10.0.0.{}\t10.1.1.{}",
                    1_600_000_000 + i,
                    i % 250,
                    i % 9
                )
                .unwrap();
            }
        }
        let parser = Box::new(ZeekParser::new(&crate::ParseOptions::default()));
        let (rows, _, p) = run(s, parser);
        assert_eq!(rows, 300_000);
        assert!(p.reparsed >= 1, "the new header must be noticed");
        assert!(
            p.reparsed <= 4 && p.kept > p.reparsed,
            "{} chunks kept, {} parsed again of {}",
            p.kept,
            p.reparsed,
            p.chunks_merged
        );
    }
}
