//! [`EventStream`]: the one way to read any supported input as event batches.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::SystemTime;

use arrow_array::RecordBatch;

use crate::batch::BatchBuilder;
use crate::detect::detect;
use crate::error::ParseError;
use crate::format::Format;
use crate::input::{self, Damage, LineReader, Refusal, or_refused};
use crate::options::ParseOptions;
use crate::pcap::PcapSource;
use crate::reject::{Reject, Summary};
use crate::text::{
    LineParser, LineSource, access, csv, jsonl, parallel, pf, syslog, tcpdump, zeek,
};

/// A streaming parser over one input. Holds one batch at a time, whatever the input
/// size.
///
/// ```no_run
/// use secviz_parse::{EventStream, ParseOptions};
/// let mut s = EventStream::open_path("pf.log", ParseOptions::default())?;
/// eprintln!("format: {}", s.format());
/// while let Some(batch) = s.next_batch(&mut |r| eprintln!("{r}"))? {
///     println!("{} events", batch.num_rows());
/// }
/// eprintln!("{}", s.summary());
/// # Ok::<(), secviz_parse::ParseError>(())
/// ```
pub struct EventStream {
    format: Format,
    gzip: bool,
    inner: Inner,
    summary: Summary,
    damage: Damage,
    refused: Refusal,
}

enum Inner {
    Lines(Box<LineSource>),
    Pcap(Box<PcapSource>),
}

impl EventStream {
    /// Opens a stream over any reader. Gzip is detected from the magic bytes (and held
    /// to the decompression limits of `opts.limits`); the format (unless given in
    /// `opts.format`) from the first lines. Counting bytes for progress is left to the
    /// caller: wrap the reader.
    pub fn open(
        reader: impl Read + Send + 'static,
        opts: ParseOptions,
    ) -> Result<EventStream, ParseError> {
        let opened = input::open(reader, &opts.limits)?;
        let refused = opened.refused.clone();
        EventStream::start(opened, opts).map_err(|e| or_refused(&refused, e))
    }

    fn start(opened: input::Opened, opts: ParseOptions) -> Result<EventStream, ParseError> {
        let format = match opts.format {
            Some(f) => f,
            None => detect(&opened.head)?,
        };
        let reference = opts.reference_time.unwrap_or_else(now_micros);
        let batch = BatchBuilder::new(opts.batch_rows, format.name(), opts.source.clone());
        let inner = if format == Format::Pcap {
            Inner::Pcap(Box::new(PcapSource::new(
                opened.reader,
                &opts,
                batch,
                opened.damage.clone(),
            )?))
        } else {
            let parser: Box<dyn LineParser> = match format {
                Format::Pf => Box::new(pf::PfParser::new(opts.year, reference)),
                Format::Tcpdump => Box::new(tcpdump::TcpdumpParser::new(opts.year, reference)),
                Format::Zeek => Box::new(zeek::ZeekParser::new(&opts)),
                Format::Csv => Box::new(csv::CsvParser::new(&opts, &opened.head)?),
                Format::Jsonl => Box::new(jsonl::JsonParser::new(&opts)),
                Format::Syslog => Box::new(syslog::SyslogParser::new(opts.year, reference)),
                Format::Access => Box::new(access::AccessParser::new()),
                Format::Pcap => unreachable!("handled above"),
            };
            let reader = LineReader::new(
                opened.reader,
                opts.limits.max_line_bytes,
                opened.damage.clone(),
            );
            let settings = parallel::Settings {
                batch_rows: opts.batch_rows,
                format: format.name(),
                source: opts.source.clone(),
                keep_raw: opts.keep_raw,
                strict: opts.strict,
            };
            Inner::Lines(Box::new(
                LineSource::new(reader, parser, batch, opts.keep_raw, opts.strict)
                    .with_threads(opts.threads, settings),
            ))
        };
        let summary = Summary {
            format: Some(format),
            ..Summary::default()
        };
        Ok(EventStream {
            format,
            gzip: opened.gzip,
            inner,
            summary,
            damage: opened.damage,
            refused: opened.refused,
        })
    }

    /// A stream over lines the caller hands it as they arrive ([`EventStream::feed`]): a
    /// followed log, a receiver. The parser's state (a Zeek header, the year rule) and the
    /// line numbers carry from one piece to the next, as if the pieces were one input.
    /// The format is `opts.format`, or detected from `first` (the first lines, which must
    /// then be fed too). Text formats only, read on one thread, never compressed.
    pub fn lines(first: &[u8], mut opts: ParseOptions) -> Result<EventStream, ParseError> {
        let format = match opts.format {
            Some(f) => f,
            None => detect(first)?,
        };
        if format == Format::Pcap || first.starts_with(&[0x1f, 0x8b]) {
            return Err(ParseError::BadOption(
                "a live input must be a text log, not a capture or a compressed file".into(),
            ));
        }
        opts.format = Some(format);
        opts.threads = 1;
        let opened = input::Opened {
            head: Vec::new(),
            reader: Box::new(std::io::Cursor::new(Vec::new())),
            damage: Damage::default(),
            refused: Refusal::default(),
            gzip: false,
        };
        EventStream::start(opened, opts)
    }

    /// Hands a live stream ([`EventStream::lines`]) its next lines: whole lines, each
    /// ending with a newline. [`EventStream::next_batch`] then returns their events and
    /// `None` once they are parsed; the summary counts on over all pieces.
    pub fn feed(&mut self, lines: Vec<u8>) {
        if let Inner::Lines(l) = &mut self.inner {
            l.refill(Box::new(std::io::Cursor::new(lines)));
        }
    }

    /// Numbers the next line fed `next` (a followed log resumed after a restart).
    pub fn set_next_line(&mut self, next: u64) {
        if let Inner::Lines(l) = &mut self.inner {
            l.set_next_line(next);
        }
    }

    /// Number of the last line read (text formats; 0 for captures).
    pub fn line_no(&self) -> u64 {
        match &self.inner {
            Inner::Lines(l) => l.line_no(),
            Inner::Pcap(_) => 0,
        }
    }

    /// Opens a file. Sets `opts.source` to the path (unless already set) and the
    /// reference time of the year rule to the file's modification time (unless set).
    pub fn open_path(
        path: impl AsRef<Path>,
        mut opts: ParseOptions,
    ) -> Result<EventStream, ParseError> {
        let path = path.as_ref();
        let open_err = |source| ParseError::Open {
            path: path.display().to_string(),
            source,
        };
        let file = File::open(path).map_err(open_err)?;
        if opts.source.is_empty() {
            opts.source = path.display().to_string();
        }
        if opts.reference_time.is_none() {
            let meta = file.metadata().map_err(open_err)?;
            opts.reference_time = meta.modified().ok().map(system_micros);
        }
        EventStream::open(file, opts)
    }

    /// The format being parsed.
    pub fn format(&self) -> Format {
        self.format
    }

    /// True if the input was gzip-compressed.
    pub fn gzip(&self) -> bool {
        self.gzip
    }

    /// The next batch of events (`None` at the end). Each rejected record is passed to
    /// `on_reject` as it is met. After `None`, [`EventStream::summary`] is complete.
    /// A compressed input that passes a decompression limit ends with
    /// [`ParseError::Decompression`], whatever was parsed before: the caller drops it all.
    pub fn next_batch(
        &mut self,
        on_reject: &mut dyn FnMut(&Reject),
    ) -> Result<Option<RecordBatch>, ParseError> {
        let out = match &mut self.inner {
            Inner::Lines(l) => l.next_batch(&mut self.summary, on_reject),
            Inner::Pcap(p) => p.next_batch(&mut self.summary, on_reject),
        };
        if let Some(limit) = self.refused.get() {
            return Err(ParseError::Decompression(limit.clone()));
        }
        let out = out?;
        if out.is_none() && self.summary.damage.is_none() {
            self.summary.damage = self.damage.get().cloned();
        }
        Ok(out)
    }

    /// Counts so far; final once `next_batch` has returned `None`.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }
}

fn now_micros() -> i64 {
    system_micros(SystemTime::now())
}

fn system_micros(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    }
}

#[cfg(test)]
mod live_tests {
    use super::*;

    /// Pieces fed one after the other parse as one input: line numbers go on, a Zeek
    /// header read in the first piece still names the columns of the last.
    #[test]
    fn fed_pieces_parse_as_one_input() {
        let header = "#separator \\x09\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\n#types\ttime\taddr\tport\taddr\tport\n";
        let row = |i: u32| format!("1379288667.{i:06}\t10.0.0.{i}\t1032\t192.0.2.1\t80\n");
        let first = format!("{header}{}", row(1));
        let mut s = EventStream::lines(first.as_bytes(), ParseOptions::default()).unwrap();
        assert_eq!(s.format(), Format::Zeek);
        let mut rejects = Vec::new();
        let mut rows = 0;
        for piece in [
            first,
            row(2) + &row(3),
            "not a zeek line\n".to_string(),
            row(4),
        ] {
            s.feed(piece.into_bytes());
            while let Some(b) = s.next_batch(&mut |r| rejects.push(r.line)).unwrap() {
                rows += b.num_rows();
            }
        }
        assert_eq!(rows, 4);
        assert_eq!(rejects, [7], "numbered after the lines of earlier pieces");
        assert_eq!(s.line_no(), 8);
        assert_eq!((s.summary().events, s.summary().skipped), (4, 3));
        // Resumed elsewhere: numbering from a given line.
        s.set_next_line(100);
        s.feed(b"also not zeek\n".to_vec());
        while s
            .next_batch(&mut |r| rejects.push(r.line))
            .unwrap()
            .is_some()
        {}
        assert_eq!(rejects, [7, 100]);
        // Captures and compressed input are no live text.
        assert!(EventStream::lines(&[0x1f, 0x8b, 8, 0], ParseOptions::default()).is_err());
    }
}
