//! Ingest: log sources in, one committed dataset version out.
//!
//! Two threads form a pipeline: this one parses (secviz-parse) and the other
//! anonymizes and encodes Parquet; between them a channel of at most
//! [`IngestOptions::queue_batches`] batches. Memory is therefore bounded by a few
//! batches plus the open row groups, whatever the input size. Nothing is visible until
//! the commit at the end; an error or a kill at any point leaves the dataset as it was.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;
use secviz_parse::{EventStream, ParseOptions, Reject};
use sha2::{Digest, Sha256};

use crate::anon::{AnonKey, Anonymizer};
use crate::error::{LakeError, Result};
use crate::lake::{Commit, Lake, check_anonymization};
use crate::manifest::{IngestRecord, Manifest, ParseSummary, RejectSample, SourceRecord};
use crate::name::DatasetName;
use crate::rollup::RollUp;
use crate::time::{format_micros, now_micros};
use crate::write::{PartitionWriter, StagedFile, WriteOptions};

/// One input of an ingest: a file, or any reader (an upload, stdin).
pub struct IngestSource {
    name: String,
    input: Input,
}

enum Input {
    Path(PathBuf),
    Reader {
        reader: Box<dyn Read + Send>,
        size: Option<u64>,
    },
}

impl IngestSource {
    /// A file; its name in the dataset is the path as given.
    pub fn path(path: impl Into<PathBuf>) -> IngestSource {
        let path = path.into();
        IngestSource {
            name: path.display().to_string(),
            input: Input::Path(path),
        }
    }

    /// A stream under a name (an uploaded file's name, `-` for stdin). `size`, when
    /// known, makes progress show an ETA.
    pub fn reader(
        name: impl Into<String>,
        reader: impl Read + Send + 'static,
        size: Option<u64>,
    ) -> IngestSource {
        IngestSource {
            name: name.into(),
            input: Input::Reader {
                reader: Box::new(reader),
                size,
            },
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A dataset's inside networks as given to an ingest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inside {
    /// Real networks: mapped with the key when the ingest anonymizes.
    Real(crate::inside::InsideNetworks),
    /// Already as the dataset stores addresses (mapped earlier with the same key).
    Stored(crate::inside::InsideNetworks),
}

/// `inside` as the dataset stores it: real networks mapped with the key when anonymizing.
pub(crate) fn stored_inside(
    inside: Option<&Inside>,
    key: Option<&AnonKey>,
) -> Option<crate::inside::InsideNetworks> {
    match (inside?, key) {
        (Inside::Stored(n), _) => Some(n.clone()),
        (Inside::Real(n), None) => Some(n.clone()),
        (Inside::Real(n), Some(k)) => {
            let mut anon = Anonymizer::new(k);
            Some(n.anonymized(|ip| anon.map_ip(ip)))
        }
    }
}

/// How to ingest.
pub struct IngestOptions {
    /// Parser options; `source` is set per input.
    pub parse: ParseOptions,
    /// Anonymize addresses with this key.
    pub anonymize: Option<AnonKey>,
    /// The member's own networks (default: the private ranges). Recorded in the manifest;
    /// real networks are mapped with the key when anonymizing.
    pub inside: Option<Inside>,
    /// Ingest a source again even though its SHA-256 is already in the dataset.
    pub force: bool,
    pub write: WriteOptions,
    /// Rejects kept per source in the manifest (all are counted).
    pub max_reject_samples: usize,
    /// Batches in flight between the parser and the writer.
    pub queue_batches: usize,
    /// Nice value of the parsing and writing threads (the portal ingests members' uploads
    /// below the priority of the threads that serve pages). `None`: unchanged.
    pub nice: Option<i32>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            parse: ParseOptions::default(),
            anonymize: None,
            inside: None,
            force: false,
            write: WriteOptions::default(),
            max_reject_samples: 100,
            queue_batches: 4,
            nice: None,
        }
    }
}

/// Where an ingest is, for progress bars.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestProgress {
    /// Index of the source being read, and how many there are.
    pub source: usize,
    pub sources: usize,
    pub source_name: String,
    /// Bytes read of all sources so far, and their total when known.
    pub bytes_read: u64,
    pub bytes_total: Option<u64>,
    /// Records read (lines or packets), events produced and records rejected, over all
    /// sources so far.
    pub records: u64,
    pub events: u64,
    pub rejected: u64,
    /// Set once parsing is over and the files are being committed.
    pub committing: bool,
}

/// What a finished ingest did.
#[derive(Clone, Debug)]
pub struct IngestReport {
    pub dataset: DatasetName,
    pub ingest_id: String,
    /// Manifest version after the commit.
    pub version: u64,
    pub rows: u64,
    pub files: usize,
    pub bytes: u64,
    pub sources: Vec<SourceRecord>,
    pub elapsed: Duration,
    /// Whether the key file was created by this ingest.
    pub manifest: Manifest,
    /// The dataset's rollup after the commit ([`crate::rollup`]).
    pub rollup: RollUp,
}

/// A progress callback. Called from the parsing thread.
pub type ProgressFn = Box<dyn FnMut(&IngestProgress) + Send>;
/// A reject sink: the source's name and the rejected record (anonymized when the
/// ingest is). Called from the parsing thread.
pub type RejectFn = Box<dyn FnMut(&str, &Reject) + Send>;

impl Lake {
    /// Parses `sources` into dataset `name` (created if missing) and commits them as
    /// one new version. Refuses a source whose SHA-256 the dataset already holds,
    /// unless `opts.force`. Returns after the commit.
    pub async fn ingest(
        &self,
        name: &DatasetName,
        sources: Vec<IngestSource>,
        opts: IngestOptions,
        progress: ProgressFn,
        rejects: RejectFn,
    ) -> Result<IngestReport> {
        let started = Instant::now();
        let _lock = self.lock(name).await?;
        let ingest_id = format!("{}", uuid::Uuid::new_v4().simple());
        self.gc_locked(name, Some(&ingest_id)).await?;
        let before = self.manifest(name).await?;
        let anonymizer_info = opts.anonymize.as_ref().map(|k| Anonymizer::new(k).info());
        // A later ingest that names no networks keeps the dataset's.
        let keep = opts.inside.is_none() && before.as_ref().is_some_and(|m| m.inside.is_some());
        let inside = (!keep).then(|| {
            let private = Inside::Real(crate::inside::InsideNetworks::private());
            stored_inside(
                Some(opts.inside.as_ref().unwrap_or(&private)),
                opts.anonymize.as_ref(),
            )
            .expect("networks are given")
        });
        if let Some(m) = &before {
            check_anonymization(m, anonymizer_info.as_ref())?;
        }

        let force = opts.force;
        let mut opts = opts;
        // The summaries' calls from inside to outside are counted with the networks the
        // dataset will have after this commit.
        opts.write.inside = inside
            .clone()
            .or_else(|| before.as_ref().and_then(|m| m.inside.clone()));
        let staging = self.staging_dir(name, &ingest_id);
        let job = Job {
            sources,
            opts,
            staging: staging.clone(),
            ingest_id: ingest_id.clone(),
            before: before.clone(),
        };
        let mut progress = progress;
        let outcome = tokio::task::spawn_blocking(move || {
            let r = job.run(&mut progress, rejects);
            (r, progress)
        })
        .await
        .map_err(|e| LakeError::Internal(format!("ingest thread: {e}")))?;
        let (result, mut progress) = outcome;
        let (files, records) = match result {
            Ok(x) => x,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e);
            }
        };
        progress(&IngestProgress {
            committing: true,
            ..Default::default()
        });

        let rows = files.iter().map(|f| f.rows).sum();
        let bytes = files.iter().map(|f| f.bytes).sum();
        let nfiles = files.len();
        let record = IngestRecord {
            id: ingest_id.clone(),
            at: format_micros(now_micros()),
            rows,
            sources: records.clone(),
        };
        let commit = Commit {
            files,
            record,
            anonymization: anonymizer_info,
            inside,
            force,
        };
        let manifest = self.commit(name, commit).await;
        let _ = std::fs::remove_dir_all(&staging);
        let manifest = manifest?;
        // The data is committed: a rollup that cannot be written only leaves the analyses
        // merging the files' summaries, so it is reported, not an error.
        let rollup = self
            .roll_up_from(name, &manifest, false)
            .await
            .unwrap_or_else(|e| RollUp::Failed(e.to_string()));
        Ok(IngestReport {
            dataset: name.clone(),
            ingest_id,
            version: manifest.version,
            rows,
            files: nfiles,
            bytes,
            sources: records,
            elapsed: started.elapsed(),
            manifest,
            rollup,
        })
    }
}

/// The blocking part of an ingest.
struct Job {
    sources: Vec<IngestSource>,
    opts: IngestOptions,
    staging: PathBuf,
    ingest_id: String,
    before: Option<Manifest>,
}

impl Job {
    fn run(
        self,
        progress: &mut ProgressFn,
        mut rejects: RejectFn,
    ) -> Result<(Vec<StagedFile>, Vec<SourceRecord>)> {
        let Job {
            sources,
            opts,
            staging,
            ingest_id,
            before,
        } = self;
        // Hash files first, so a duplicate is refused before any work.
        let mut prepared = Vec::with_capacity(sources.len());
        let mut seen = std::collections::HashSet::new();
        for s in sources {
            let p = Prepared::new(s)?;
            if let Some(sha) = &p.sha256 {
                Manifest::check_duplicate(before.as_ref(), &p.name, sha, opts.force)?;
                if !seen.insert(sha.clone()) && !opts.force {
                    return Err(LakeError::Invalid(format!(
                        "{} is given twice (same SHA-256)",
                        p.name
                    )));
                }
            }
            prepared.push(p);
        }
        let bytes_total = prepared.iter().map(|p| p.size).sum::<Option<u64>>();
        let writer =
            PartitionWriter::new(&staging, &format!("part-{ingest_id}"), opts.write.clone())?;
        let (tx, rx) = sync_channel::<RecordBatch>(opts.queue_batches.max(1));
        let anon_key = opts.anonymize.clone();

        let nice = opts.nice;
        let lower = move || {
            if let Some(n) = nice {
                secviz_sandbox::priority::lower_current(n);
            }
        };
        std::thread::scope(|scope| {
            let encoder = scope.spawn(move || -> Result<Vec<StagedFile>> {
                lower();
                let mut writer = writer;
                let mut anon = anon_key.as_ref().map(Anonymizer::new);
                for batch in rx {
                    match &mut anon {
                        Some(a) => writer.write(&a.batch(&batch)?)?,
                        None => writer.write(&batch)?,
                    }
                }
                writer.finish()
            });

            // Lowered, the parse runs on a thread of its own: this one belongs to a pool.
            // The parse owns the sender: the writer's input ends with it.
            let parse = || {
                let tx = tx;
                parse_all(
                    prepared,
                    &opts,
                    bytes_total,
                    &tx,
                    progress,
                    &mut rejects,
                    before.as_ref(),
                )
            };
            let parsed = if nice.is_some() {
                scope
                    .spawn(move || {
                        lower();
                        parse()
                    })
                    .join()
                    .map_err(|_| LakeError::Internal("the parser panicked".into()))
                    .and_then(|r| r)
            } else {
                parse()
            };
            let encoded = encoder
                .join()
                .map_err(|_| LakeError::Internal("the Parquet writer panicked".into()))?;
            // A parse error is the root cause when both fail (the writer then only
            // saw a closed channel).
            let records = parsed?;
            Ok((encoded?, records))
        })
    }
}

/// A source with its hash (files) and size, ready to parse.
struct Prepared {
    name: String,
    input: Input,
    sha256: Option<String>,
    size: Option<u64>,
}

impl Prepared {
    fn new(s: IngestSource) -> Result<Prepared> {
        match s.input {
            Input::Path(path) => {
                let (sha, size) = hash_file(&path)?;
                Ok(Prepared {
                    name: s.name,
                    input: Input::Path(path),
                    sha256: Some(sha),
                    size: Some(size),
                })
            }
            Input::Reader { reader, size } => Ok(Prepared {
                name: s.name,
                input: Input::Reader { reader, size },
                sha256: None,
                size,
            }),
        }
    }
}

fn hash_file(path: &Path) -> Result<(String, u64)> {
    let ctx = |e| LakeError::io(format!("reading {}", path.display()), e);
    let mut f = std::fs::File::open(path).map_err(ctx)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(ctx)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

/// A reader that counts bytes and (for streams) hashes them as they pass.
struct Tap<R> {
    inner: R,
    count: Arc<AtomicU64>,
    hasher: Option<Arc<Mutex<Sha256>>>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        if let Some(h) = &self.hasher {
            h.lock().expect("hasher lock").update(&buf[..n]);
        }
        Ok(n)
    }
}

/// Parses every source in turn, sending batches to the writer. Returns the source
/// records for the manifest.
fn parse_all(
    prepared: Vec<Prepared>,
    opts: &IngestOptions,
    bytes_total: Option<u64>,
    tx: &std::sync::mpsc::SyncSender<RecordBatch>,
    progress: &mut ProgressFn,
    rejects: &mut RejectFn,
    before: Option<&Manifest>,
) -> Result<Vec<SourceRecord>> {
    let sources = prepared.len();
    let mut anon = opts.anonymize.as_ref().map(Anonymizer::new);
    let mut records = Vec::with_capacity(sources);
    let mut done_bytes = 0u64;
    let (mut records_before, mut events_before, mut rejected_before) = (0u64, 0u64, 0u64);
    let mut last_report = Instant::now() - Duration::from_secs(1);
    for (index, p) in prepared.into_iter().enumerate() {
        let count = Arc::new(AtomicU64::new(0));
        let hasher = p
            .sha256
            .is_none()
            .then(|| Arc::new(Mutex::new(Sha256::new())));
        let mut popts = opts.parse.clone();
        popts.source = p.name.clone();
        let open_err = |error| LakeError::Parse {
            source_name: p.name.clone(),
            error,
        };
        let mut stream = match p.input {
            Input::Path(path) => {
                let file = std::fs::File::open(&path)
                    .map_err(|e| LakeError::io(format!("opening {}", path.display()), e))?;
                if popts.reference_time.is_none() {
                    popts.reference_time = file
                        .metadata()
                        .ok()
                        .and_then(|m| m.modified().ok())
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map(|d| d.as_micros() as i64);
                }
                let tap = Tap {
                    inner: file,
                    count: count.clone(),
                    hasher: None,
                };
                EventStream::open(tap, popts).map_err(open_err)?
            }
            Input::Reader { reader, .. } => {
                let tap = Tap {
                    inner: reader,
                    count: count.clone(),
                    hasher: hasher.clone(),
                };
                EventStream::open(tap, popts).map_err(open_err)?
            }
        };
        let mut samples: Vec<RejectSample> = Vec::new();
        loop {
            let mut on_reject = |r: &Reject| {
                let shown = match &mut anon {
                    Some(a) => Reject {
                        detail: a.text(&r.detail),
                        raw: a.text(&r.raw),
                        ..r.clone()
                    },
                    None => r.clone(),
                };
                if samples.len() < opts.max_reject_samples {
                    samples.push(RejectSample {
                        line: shown.line,
                        reason: shown.reason.as_str().to_string(),
                        detail: shown.detail.clone(),
                        raw: truncate(&shown.raw, 512),
                    });
                }
                rejects(&p.name, &shown);
            };
            let batch = stream
                .next_batch(&mut on_reject)
                .map_err(|error| LakeError::Parse {
                    source_name: p.name.clone(),
                    error,
                })?;
            let finished = batch.is_none();
            if let Some(b) = batch
                && tx.send(b).is_err()
            {
                // The writer stopped: its error is reported by the caller.
                return Err(LakeError::Internal("the Parquet writer stopped".into()));
            }
            if finished || last_report.elapsed() >= Duration::from_millis(50) {
                last_report = Instant::now();
                let s = stream.summary();
                progress(&IngestProgress {
                    source: index,
                    sources,
                    source_name: p.name.clone(),
                    bytes_read: done_bytes + count.load(Ordering::Relaxed),
                    bytes_total,
                    records: records_before + s.read,
                    events: events_before + s.events,
                    rejected: rejected_before + s.rejected_total(),
                    committing: false,
                });
            }
            if finished {
                break;
            }
        }
        let summary = stream.summary();
        let read_bytes = count.load(Ordering::Relaxed);
        done_bytes += read_bytes;
        records_before += summary.read;
        events_before += summary.events;
        rejected_before += summary.rejected_total();
        let sha256 = match (p.sha256, hasher) {
            (Some(s), _) => s,
            (None, Some(h)) => {
                let h = std::mem::take(&mut *h.lock().expect("hasher lock"));
                let sha = hex::encode(h.finalize());
                Manifest::check_duplicate(before, &p.name, &sha, opts.force)?;
                sha
            }
            (None, None) => unreachable!("streams are hashed while read"),
        };
        let mut damage = summary.damage.clone();
        if let (Some(a), Some(d)) = (&mut anon, &damage) {
            damage = Some(a.text(d));
        }
        let name = match &mut anon {
            Some(a) => a.text(&p.name),
            None => p.name,
        };
        records.push(SourceRecord {
            name,
            sha256,
            bytes: read_bytes,
            format: stream.format().name().to_string(),
            gzip: stream.gzip(),
            summary: ParseSummary {
                read: summary.read,
                parsed: summary.parsed,
                rejected: summary
                    .rejected
                    .iter()
                    .map(|(r, n)| (r.as_str().to_string(), *n))
                    .collect(),
                skipped: summary.skipped,
                events: summary.events,
                damage,
                year_note: summary.year.as_ref().map(|y| y.to_string()),
            },
            rejects: samples,
        });
    }
    Ok(records)
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
