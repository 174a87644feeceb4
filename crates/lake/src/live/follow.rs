//! [`Lake::follow`]: a log file tailed into a dataset (`secviz ingest --follow`).
//!
//! Every round reads the file's new whole lines (at most [`FollowOptions::max_append_bytes`]),
//! parses them, writes them as small Parquet files and commits them together with the
//! offset reached. Rounds come as fast as the file grows, and at least every
//! [`FollowOptions::interval`] when it does: new lines are queryable a round later.
//! One follower per file and dataset at a time (local lakes lock it).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use secviz_parse::{EventStream, Format, ParseOptions};

use super::tail::{Next, Tail};
use super::{AppendCounts, SourceMeta, append_prefix, record_append};
use crate::anon::{AnonKey, Anonymizer};
use crate::compact::{CompactOptions, CompactReport};
use crate::error::{LakeError, Result};
use crate::ingest::Inside;
use crate::lake::{Lake, check_anonymization};
use crate::manifest::FileCursor;
use crate::name::DatasetName;
use crate::time::{format_micros, now_micros};
use crate::write::{PartitionWriter, StagedFile, WriteOptions};

/// How to follow a file.
#[derive(Clone)]
pub struct FollowOptions {
    /// Parser options (format, year, raw lines, limits); read on one thread.
    pub parse: ParseOptions,
    /// Anonymize addresses with this key (the dataset's key, if it has one).
    pub anonymize: Option<AnonKey>,
    /// The member's networks; `None` keeps the dataset's.
    pub inside: Option<Inside>,
    pub write: WriteOptions,
    /// The longest a new line waits before it is committed (when the file is quiet, how
    /// often it is looked at).
    pub interval: Duration,
    /// Most bytes of lines in one append: what a round holds in memory.
    pub max_append_bytes: usize,
    /// Compact the dataset's small files in the background after this many appends.
    pub compact_every: Option<u64>,
    pub compact: CompactOptions,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            parse: ParseOptions::default(),
            anonymize: None,
            inside: None,
            write: WriteOptions::default(),
            interval: Duration::from_secs(1),
            max_append_bytes: 8 << 20,
            compact_every: Some(64),
            compact: CompactOptions::default(),
        }
    }
}

/// Where a follower is, after each append (and on news).
#[derive(Clone, Debug, Default)]
pub struct FollowProgress {
    /// The file being read.
    pub reading: String,
    /// Appends committed by this run, and the dataset version after the last one.
    pub appends: u64,
    pub version: u64,
    /// Over every run of this follower (the source's record).
    pub lines: u64,
    pub events: u64,
    pub rejected: u64,
    /// Bytes of the file read so far.
    pub offset: u64,
    /// Something worth telling: a rotation, a truncation, a compaction.
    pub note: Option<String>,
    /// A background compaction that finished.
    pub compacted: Option<CompactReport>,
}

/// What a follower did when it stopped.
#[derive(Clone, Debug, Default)]
pub struct FollowReport {
    pub appends: u64,
    pub version: u64,
    /// Events and rejected lines committed by this run.
    pub events: u64,
    pub rejected: u64,
}

/// The key of a followed file's record in the manifest.
fn stream_key(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let h = Sha256::digest(abs.as_os_str().as_encoded_bytes());
    format!("follow-{}", &hex::encode(h)[..16])
}

/// The parsing half of a follower, moved onto a blocking thread for each round.
struct Reader {
    tail: Tail,
    parse: ParseOptions,
    /// Set once the format is known (given, recorded, or detected from the first lines).
    format: Option<Format>,
    stream: Option<EventStream>,
    anon: Option<Anonymizer>,
    max_bytes: usize,
    write: WriteOptions,
    /// Told of every rejected line (as kept: anonymized when the dataset is).
    on_reject: crate::ingest::RejectFn,
}

/// One round's output: files staged, counts, and the cursor after them.
pub(crate) struct Round {
    files: Vec<StagedFile>,
    counts: AppendCounts,
    cursor: FileCursor,
    note: Option<String>,
    /// More lines are waiting (the round stopped at its byte limit).
    more: bool,
}

/// How many bytes of a file's start are looked at for its format and its header.
const START_BYTES: usize = 64 << 10;

impl Reader {
    /// A stream for the file being read, resumed at its line: formats with a header
    /// (Zeek, CSV) read it again from the file's start first.
    fn open_stream(&mut self, line_before: u64) -> Result<Option<EventStream>> {
        let start = self.tail.start(START_BYTES)?;
        if start.is_empty() {
            return Ok(None);
        }
        let mut opts = self.parse.clone();
        opts.format = self.format.or(opts.format);
        opts.source = self.tail.reading().display().to_string();
        let parse_err = |error| LakeError::Parse {
            source_name: self.tail.reading().display().to_string(),
            error,
        };
        let mut stream = EventStream::lines(&start, opts).map_err(parse_err)?;
        self.format = Some(stream.format());
        if line_before > 0 {
            let header = header_lines(stream.format(), &start);
            if !header.is_empty() {
                stream.feed(header);
                stream.set_next_line(1);
                while stream.next_batch(&mut |_| {}).map_err(parse_err)?.is_some() {}
            }
        }
        stream.set_next_line(line_before + 1);
        Ok(Some(stream))
    }

    fn round(&mut self, staging: &Path) -> Result<Round> {
        let mut note = None;
        let mut line_before;
        let (lines, more) = loop {
            line_before = self.tail.line();
            match self.tail.next(self.max_bytes)? {
                Next::Lines(bytes) => {
                    let more = bytes.len() >= self.max_bytes / 2;
                    break (Some(bytes), more);
                }
                Next::Nothing => break (None, false),
                Next::Switched(why) => {
                    // A new file: its own parser (its own header, year rule, numbering).
                    self.stream = None;
                    note = Some(why);
                }
            }
        };
        let mut counts = AppendCounts::default();
        let mut files = Vec::new();
        if let Some(bytes) = lines {
            if self.stream.is_none() {
                self.stream = self.open_stream(line_before)?;
            }
            let stream = self.stream.as_mut().expect("opened on lines");
            let before = stream.summary().clone();
            let source = self.tail.reading().display().to_string();
            let prefix = append_prefix('l', now_micros());
            let mut writer = PartitionWriter::new(staging, &prefix, self.write.clone())?;
            stream.feed(bytes);
            let anon = &mut self.anon;
            let on_reject = &mut self.on_reject;
            loop {
                let batch = stream
                    .next_batch(&mut |r| {
                        let shown = counts.reject(r, anon.as_mut());
                        on_reject(&source, &shown);
                    })
                    .map_err(|error| LakeError::Parse {
                        source_name: source.clone(),
                        error,
                    })?;
                let Some(batch) = batch else { break };
                match anon {
                    Some(a) => writer.write(&a.batch(&batch)?)?,
                    None => writer.write(&batch)?,
                }
            }
            counts.add_delta(&before, stream.summary());
            files = writer.finish()?;
        }
        Ok(Round {
            files,
            counts,
            cursor: self.tail.cursor()?,
            note,
            more,
        })
    }
}

/// The header lines at a file's start that the parser must see again before it resumes
/// in the middle: Zeek's `#` lines, a CSV file's first line.
fn header_lines(format: Format, start: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in start.split_inclusive(|b| *b == b'\n') {
        if !line.ends_with(b"\n") {
            break;
        }
        match format {
            Format::Zeek if line.starts_with(b"#") => out.extend_from_slice(line),
            Format::Csv if out.is_empty() => {
                out.extend_from_slice(line);
                break;
            }
            _ => break,
        }
    }
    out
}

impl Lake {
    /// Follows `path` into dataset `name` until `stop` is set: each round's new lines are
    /// committed with the offset they reach, and a restart goes on from the last committed
    /// offset. Returns after the round in which `stop` was seen.
    pub async fn follow(
        &self,
        name: &DatasetName,
        path: &Path,
        opts: FollowOptions,
        stop: Arc<AtomicBool>,
        mut progress: Box<dyn FnMut(&FollowProgress) + Send>,
        on_reject: crate::ingest::RejectFn,
    ) -> Result<FollowReport> {
        let key = stream_key(path);
        let _follower = self.follow_lock(name, &key).await?;
        let before = {
            let _lock = self.lock(name).await?;
            self.gc_locked(name, None).await?;
            self.manifest(name).await?
        };
        let record = before.as_ref().and_then(|m| m.streams.get(&key)).cloned();
        let anonymizer_info = opts.anonymize.as_ref().map(|k| Anonymizer::new(k).info());
        if let Some(m) = &before {
            check_anonymization(m, anonymizer_info.as_ref())?;
        }
        let inside = crate::ingest::stored_inside(opts.inside.as_ref(), opts.anonymize.as_ref());
        let mut write = opts.write.clone();
        write.inside = inside
            .clone()
            .or_else(|| before.as_ref().and_then(|m| m.inside.clone()));
        let (tail, note) = Tail::open(path, record.as_ref().and_then(|r| r.cursor.as_ref()))?;
        let format = match record.as_ref().map(|r| r.format.parse::<Format>()) {
            Some(Ok(f)) => Some(f),
            _ => opts.parse.format,
        };
        if let (Some(given), Some(Ok(had))) = (
            opts.parse.format,
            record.as_ref().map(|r| r.format.parse::<Format>()),
        ) && given != had
        {
            return Err(LakeError::Invalid(format!(
                "{} was followed as {had} before; follow it with that format",
                path.display()
            )));
        }
        let mut reader = Some(Reader {
            tail,
            parse: opts.parse.clone(),
            format,
            stream: None,
            anon: opts.anonymize.as_ref().map(Anonymizer::new),
            max_bytes: opts
                .max_append_bytes
                .max(opts.parse.limits.max_line_bytes + 2),
            write,
            on_reject,
        });
        let shown_name = match &opts.anonymize {
            Some(k) => Anonymizer::new(k).text(&path.display().to_string()),
            None => path.display().to_string(),
        };

        let mut report = FollowReport::default();
        let mut status = FollowProgress {
            note,
            ..Default::default()
        };
        if let Some(r) = &record {
            status.lines = r.summary.read + r.summary.skipped;
            status.events = r.summary.events;
            status.rejected = r.summary.rejected_total();
        }
        let mut compaction: Option<tokio::task::JoinHandle<Result<CompactReport>>> = None;
        let mut since_compaction = 0u64;
        loop {
            let stopping = stop.load(Ordering::Relaxed);
            let staging =
                self.staging_dir(name, &format!("live-{}", uuid::Uuid::new_v4().simple()));
            let mut r = reader.take().expect("the reader is back after each round");
            let dir = staging.clone();
            let (r, round) = tokio::task::spawn_blocking(move || {
                let round = r.round(&dir);
                (r, round)
            })
            .await
            .map_err(|e| LakeError::Internal(format!("follow thread: {e}")))?;
            status.reading = r.tail.reading().display().to_string();
            status.offset = r.tail.offset();
            let format = r.format;
            reader = Some(r);
            let round = match round {
                Ok(round) => round,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&staging);
                    return Err(e);
                }
            };
            if round.note.is_some() {
                status.note = round.note.clone();
            }
            let changed = !round.counts.is_empty() || round.note.is_some();
            if changed {
                let m = self
                    .append_commit(
                        name,
                        &key,
                        &round,
                        AppendMeta {
                            kind: "follow",
                            name: &shown_name,
                            format: format.map(|f| f.name()).unwrap_or("unknown"),
                            anonymization: anonymizer_info.as_ref(),
                            inside: inside.as_ref(),
                        },
                    )
                    .await;
                let _ = std::fs::remove_dir_all(&staging);
                let m = m?;
                report.appends += 1;
                report.version = m.version;
                report.events += round.counts.summary.events;
                report.rejected += round.counts.summary.rejected_total();
                let rec = &m.streams[&key];
                status.appends = report.appends;
                status.version = m.version;
                status.lines = rec.summary.read + rec.summary.skipped;
                status.events = rec.summary.events;
                status.rejected = rec.summary.rejected_total();
                since_compaction += 1;
            } else {
                let _ = std::fs::remove_dir_all(&staging);
            }
            if let Some(h) = &compaction
                && h.is_finished()
            {
                let h = compaction.take().expect("checked");
                match h.await {
                    Ok(Ok(c)) => status.compacted = Some(c),
                    Ok(Err(e)) => status.note = Some(format!("compaction failed: {e}")),
                    Err(e) => status.note = Some(format!("compaction stopped: {e}")),
                }
            }
            if compaction.is_none()
                && opts.compact_every.is_some_and(|n| since_compaction >= n)
                && !stopping
            {
                since_compaction = 0;
                let lake = self.clone();
                let (n, c) = (name.clone(), opts.compact.clone());
                compaction = Some(tokio::spawn(async move { lake.compact(&n, &c).await }));
            }
            if changed || status.compacted.is_some() || status.note.is_some() {
                progress(&status);
                status.note = None;
                status.compacted = None;
            }
            if stopping {
                break;
            }
            if !round.more {
                // Quiet: look again after the interval, or sooner when asked to stop.
                let until = Instant::now() + opts.interval;
                while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(50).min(opts.interval)).await;
                }
            }
        }
        if let Some(h) = compaction {
            // Let a compaction in progress finish: its commit is atomic, and waiting
            // leaves no staged files behind.
            if let Ok(Ok(c)) = h.await {
                status.compacted = Some(c);
                progress(&status);
            }
        }
        Ok(report)
    }

    /// Commits one append of a live source: its files and its record, atomically.
    pub(crate) async fn append_commit(
        &self,
        name: &DatasetName,
        key: &str,
        round: &Round,
        meta: AppendMeta<'_>,
    ) -> Result<crate::manifest::Manifest> {
        let _lock = self.lock(name).await?;
        let now = format_micros(now_micros());
        self.commit_with(name, &round.files, key, |m| {
            check_anonymization(m, meta.anonymization)?;
            if m.anonymization.is_none() && m.files.is_empty() {
                m.anonymization = meta.anonymization.cloned();
            }
            if let Some(i) = meta.inside {
                m.inside = Some(i.clone());
            }
            let source = SourceMeta {
                key,
                kind: meta.kind,
                name: meta.name,
                format: meta.format,
            };
            record_append(m, &source, &now, &round.counts).cursor = Some(round.cursor.clone());
            Ok(())
        })
        .await
    }

    /// Only one follower of a file per dataset (local lakes): two would ingest its lines
    /// twice.
    async fn follow_lock(&self, name: &DatasetName, key: &str) -> Result<Option<std::fs::File>> {
        let Some(dir) = self.store().local_dir() else {
            return Ok(None);
        };
        let path: PathBuf = dir.join("locks").join(format!("{name}.{key}.lock"));
        let ctx = |e| LakeError::io(format!("locking {}", path.display()), e);
        std::fs::create_dir_all(path.parent().expect("has a parent")).map_err(ctx)?;
        let f = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(ctx)?;
        match f.try_lock() {
            Ok(()) => Ok(Some(f)),
            Err(_) => Err(LakeError::Invalid(format!(
                "another secviz is already following this file into dataset {name}"
            ))),
        }
    }
}

/// Who an append comes from, for its record.
pub(crate) struct AppendMeta<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub format: &'a str,
    pub anonymization: Option<&'a crate::manifest::AnonymizationInfo>,
    pub inside: Option<&'a crate::inside::InsideNetworks>,
}
