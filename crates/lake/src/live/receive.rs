//! [`Receiver`]: messages from the network appended to a live dataset in group commits.
//!
//! Senders (syslog connections and datagrams, HTTP requests) hand whole messages to the
//! receiver's one appender task through a bounded queue. The appender takes everything
//! queued, waits at most [`ReceiverOptions::interval`] since its last commit for more,
//! parses it (one parser per source, so the year rule and line numbers carry on), writes one
//! small Parquet file per day and commits it with every source's record in one manifest
//! version; then it answers each delivery. A sender that can wait ([`Receiver::deliver`]: TCP,
//! HTTP) acknowledges only after that answer, so what it acknowledged is durable; one that
//! cannot ([`Receiver::offer`]: UDP) has its messages dropped and counted when the queue is
//! full. The queue's bound is the back-pressure: memory never holds more than
//! [`ReceiverOptions::queue`] deliveries of at most [`ReceiverOptions::max_batch_bytes`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use secviz_parse::{EventStream, Format, ParseOptions};
use tokio::sync::{mpsc, oneshot};

use super::{AppendCounts, SourceMeta, append_prefix, record_append};
use crate::anon::{AnonKey, Anonymizer};
use crate::compact::CompactOptions;
use crate::error::{LakeError, Result};
use crate::lake::{Lake, check_anonymization};
use crate::manifest::RejectSample;
use crate::name::DatasetName;
use crate::time::{format_micros, now_micros};
use crate::write::{PartitionWriter, StagedFile, WriteOptions};

/// A batch this large is committed without waiting for more.
const MIN_COMMIT_BYTES: usize = 1 << 20;

/// How a receiver parses and commits.
#[derive(Clone)]
pub struct ReceiverOptions {
    pub parse: ParseOptions,
    pub anonymize: Option<AnonKey>,
    /// Most time between two commits while messages arrive (and so the longest a message
    /// waits to be queryable, plus the commit itself).
    pub interval: Duration,
    /// Most bytes of messages in one delivery and in one commit.
    pub max_batch_bytes: usize,
    /// Deliveries waiting for the appender.
    pub queue: usize,
    /// Compact the dataset's small files after this many commits.
    pub compact_every: Option<u64>,
    pub compact: CompactOptions,
}

impl Default for ReceiverOptions {
    fn default() -> Self {
        ReceiverOptions {
            parse: ParseOptions::default(),
            anonymize: None,
            interval: Duration::from_millis(250),
            max_batch_bytes: 4 << 20,
            queue: 64,
            compact_every: Some(64),
            compact: CompactOptions::default(),
        }
    }
}

/// Where messages come from: the source's record in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Source {
    /// The record's key (`syslog-tcp`, `http-<token id>`).
    pub key: String,
    /// `syslog`, `http`.
    pub kind: &'static str,
    /// Shown with the record (`syslog over TCP on 127.0.0.1:5514`).
    pub label: String,
    /// How its messages are parsed.
    pub format: Format,
}

/// Messages to append: each ends with a newline, none holds another.
pub struct Messages {
    pub lines: Vec<u8>,
    /// Messages refused before parsing (a frame over the size cap, a sender over its rate),
    /// counted as rejected with the parsed ones.
    pub refused: Vec<RejectSample>,
    /// Messages lost before they could be read (UDP: the kernel's receive-buffer overflows,
    /// and datagrams the full queue could not take).
    pub dropped: u64,
}

struct Delivery {
    source: Source,
    messages: Messages,
    ack: Option<oneshot::Sender<std::result::Result<u64, String>>>,
}

/// Counters of a running receiver, for its status.
#[derive(Debug, Default)]
pub struct ReceiverStats {
    pub commits: AtomicU64,
    pub events: AtomicU64,
    /// The dataset version of the last commit.
    pub version: AtomicU64,
}

/// The sending side of a running receiver; clone it for every connection.
#[derive(Clone)]
pub struct Receiver {
    tx: mpsc::Sender<Delivery>,
    pub stats: Arc<ReceiverStats>,
    max_batch_bytes: usize,
}

impl Receiver {
    /// Starts the appender of dataset `name` on the current runtime. It runs until every
    /// clone of the returned receiver is dropped, then commits what it holds and ends.
    pub fn start(
        lake: &Lake,
        name: &DatasetName,
        opts: ReceiverOptions,
    ) -> (Receiver, tokio::task::JoinHandle<Result<()>>) {
        let (tx, rx) = mpsc::channel(opts.queue.max(1));
        let stats = Arc::new(ReceiverStats::default());
        let receiver = Receiver {
            tx,
            stats: stats.clone(),
            max_batch_bytes: opts.max_batch_bytes,
        };
        let appender = Appender {
            lake: lake.clone(),
            name: name.clone(),
            streams: HashMap::new(),
            anon: opts.anonymize.as_ref().map(Anonymizer::new),
            opts,
            stats,
        };
        (receiver, tokio::spawn(appender.run(rx)))
    }

    /// Most bytes of messages one delivery should carry.
    pub fn max_batch_bytes(&self) -> usize {
        self.max_batch_bytes
    }

    /// Appends `messages` and waits until they are committed: returns the dataset version
    /// that holds them. Waits for room in the queue first (back-pressure).
    pub async fn deliver(&self, source: &Source, messages: Messages) -> Result<u64> {
        let (ack, answer) = oneshot::channel();
        let d = Delivery {
            source: source.clone(),
            messages,
            ack: Some(ack),
        };
        self.tx
            .send(d)
            .await
            .map_err(|_| LakeError::Internal("the receiver has stopped".into()))?;
        match answer.await {
            Ok(Ok(version)) => Ok(version),
            Ok(Err(why)) => Err(LakeError::Internal(why)),
            Err(_) => Err(LakeError::Internal("the receiver has stopped".into())),
        }
    }

    /// Appends `messages` without waiting. False when the queue is full: the caller counts
    /// them as dropped.
    pub fn offer(&self, source: &Source, messages: Messages) -> bool {
        self.tx
            .try_send(Delivery {
                source: source.clone(),
                messages,
                ack: None,
            })
            .is_ok()
    }
}

/// A source's parser, resumed at its next message number.
struct Parsing {
    stream: EventStream,
}

struct Appender {
    lake: Lake,
    name: DatasetName,
    streams: HashMap<String, Parsing>,
    anon: Option<Anonymizer>,
    opts: ReceiverOptions,
    stats: Arc<ReceiverStats>,
}

/// What one commit holds: per source, its counts and what it was.
struct Group {
    files: Vec<StagedFile>,
    sources: BTreeMap<String, (Source, AppendCounts, u64)>,
}

impl Appender {
    async fn run(mut self, mut rx: mpsc::Receiver<Delivery>) -> Result<()> {
        let mut last_commit = Instant::now() - self.opts.interval;
        let mut commits = 0u64;
        let mut compaction: Option<tokio::task::JoinHandle<Result<crate::compact::CompactReport>>> =
            None;
        // The networks the summaries count as inside: the dataset's.
        let inside = self
            .lake
            .manifest(&self.name)
            .await?
            .and_then(|m| m.inside.clone());
        loop {
            let Some(first) = rx.recv().await else {
                break;
            };
            let mut batch = vec![first];
            let mut bytes = batch[0].messages.lines.len();
            // Take what else is queued already; then, while the batch is small, gather what
            // arrives until the interval since the last commit is over (fewer, larger files
            // under a trickle). A large batch is committed at once: its senders wait for it.
            while bytes < self.opts.max_batch_bytes {
                match rx.try_recv() {
                    Ok(d) => {
                        bytes += d.messages.lines.len();
                        batch.push(d);
                    }
                    Err(_) => break,
                }
            }
            let until = tokio::time::Instant::from_std(last_commit + self.opts.interval);
            while bytes < MIN_COMMIT_BYTES {
                match tokio::time::timeout_at(until, rx.recv()).await {
                    Ok(Some(d)) => {
                        bytes += d.messages.lines.len();
                        batch.push(d);
                    }
                    _ => break,
                }
            }
            let outcome = self.commit(&mut batch, inside.clone()).await;
            last_commit = Instant::now();
            let answer = outcome.as_ref().map(|v| *v).map_err(|e| e.to_string());
            for d in batch {
                if let Some(ack) = d.ack {
                    let _ = ack.send(answer.clone());
                }
            }
            if let Err(e) = outcome {
                tracing::warn!(dataset = %self.name, error = %e, "a live append failed");
                // The parsers may hold half a batch: start them afresh from the records.
                self.streams.clear();
                continue;
            }
            commits += 1;
            if compaction.as_ref().is_some_and(|h| h.is_finished()) {
                compaction = None;
            }
            if compaction.is_none()
                && self
                    .opts
                    .compact_every
                    .is_some_and(|n| commits.is_multiple_of(n))
            {
                let (lake, name, c) = (
                    self.lake.clone(),
                    self.name.clone(),
                    self.opts.compact.clone(),
                );
                compaction = Some(tokio::spawn(async move { lake.compact(&name, &c).await }));
            }
        }
        if let Some(h) = compaction {
            let _ = h.await;
        }
        Ok(())
    }

    /// Parses, writes and commits a batch of deliveries; returns the new version.
    async fn commit(
        &mut self,
        batch: &mut [Delivery],
        inside: Option<crate::inside::InsideNetworks>,
    ) -> Result<u64> {
        let before = self.lake.manifest(&self.name).await?;
        for d in batch.iter() {
            if self.streams.contains_key(&d.source.key) {
                continue;
            }
            let next = before
                .as_ref()
                .and_then(|m| m.streams.get(&d.source.key))
                .map_or(1, |r| r.summary.read + r.summary.skipped + 1);
            let mut opts = self.opts.parse.clone();
            opts.format = Some(d.source.format);
            opts.source = d.source.label.clone();
            let mut stream = EventStream::lines(b"", opts).map_err(|error| LakeError::Parse {
                source_name: d.source.label.clone(),
                error,
            })?;
            stream.set_next_line(next);
            self.streams
                .insert(d.source.key.clone(), Parsing { stream });
        }
        let staging = self.lake.staging_dir(
            &self.name,
            &format!("live-{}", uuid::Uuid::new_v4().simple()),
        );
        let work: Vec<(Source, Vec<u8>, Vec<RejectSample>, u64)> = batch
            .iter_mut()
            .map(|d| {
                (
                    d.source.clone(),
                    std::mem::take(&mut d.messages.lines),
                    std::mem::take(&mut d.messages.refused),
                    d.messages.dropped,
                )
            })
            .collect();
        let mut streams = std::mem::take(&mut self.streams);
        let mut anon = self.anon.take();
        let write = WriteOptions {
            inside,
            ..WriteOptions::default()
        };
        let dir = staging.clone();
        let (streams, anon, group) = tokio::task::spawn_blocking(move || {
            let g = parse_group(&dir, work, &mut streams, anon.as_mut(), write);
            (streams, anon, g)
        })
        .await
        .map_err(|e| LakeError::Internal(format!("receiver thread: {e}")))?;
        self.streams = streams;
        self.anon = anon;
        let group = match group {
            Ok(g) => g,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e);
            }
        };
        let info = self.anon.as_ref().map(|a| a.info());
        let committed = {
            let _lock = self.lake.lock(&self.name).await?;
            let now = format_micros(now_micros());
            self.lake
                .commit_with(&self.name, &group.files, "receiver", |m| {
                    check_anonymization(m, info.as_ref())?;
                    if m.anonymization.is_none() && m.files.is_empty() {
                        m.anonymization = info.clone();
                    }
                    for (key, (source, counts, dropped)) in &group.sources {
                        let meta = SourceMeta {
                            key,
                            kind: source.kind,
                            name: &source.label,
                            format: source.format.name(),
                        };
                        record_append(m, &meta, &now, counts).dropped += dropped;
                    }
                    Ok(())
                })
                .await
        };
        let _ = std::fs::remove_dir_all(&staging);
        let m = committed?;
        let events: u64 = group
            .sources
            .values()
            .map(|(_, c, _)| c.summary.events)
            .sum();
        self.stats.commits.fetch_add(1, Ordering::Relaxed);
        self.stats.events.fetch_add(events, Ordering::Relaxed);
        self.stats.version.store(m.version, Ordering::Relaxed);
        Ok(m.version)
    }
}

/// Parses every delivery with its source's parser into one writer.
fn parse_group(
    staging: &std::path::Path,
    work: Vec<(Source, Vec<u8>, Vec<RejectSample>, u64)>,
    streams: &mut HashMap<String, Parsing>,
    mut anon: Option<&mut Anonymizer>,
    write: WriteOptions,
) -> Result<Group> {
    let mut writer = PartitionWriter::new(staging, &append_prefix('r', now_micros()), write)?;
    let mut sources: BTreeMap<String, (Source, AppendCounts, u64)> = BTreeMap::new();
    for (source, lines, refused, dropped) in work {
        let entry = sources
            .entry(source.key.clone())
            .or_insert_with(|| (source.clone(), AppendCounts::default(), 0));
        entry.2 += dropped;
        let counts = &mut entry.1;
        for r in refused {
            counts.summary.read += 1;
            *counts.summary.rejected.entry(r.reason.clone()).or_default() += 1;
            counts.keep(r, anon.as_deref_mut());
        }
        if lines.is_empty() {
            continue;
        }
        let p = streams.get_mut(&source.key).expect("a parser per source");
        let before = p.stream.summary().clone();
        p.stream.feed(lines);
        loop {
            let batch = p
                .stream
                .next_batch(&mut |r| {
                    counts.reject(r, anon.as_deref_mut());
                })
                .map_err(|error| LakeError::Parse {
                    source_name: source.label.clone(),
                    error,
                })?;
            let Some(batch) = batch else { break };
            match anon.as_deref_mut() {
                Some(a) => writer.write(&a.batch(&batch)?)?,
                None => writer.write(&batch)?,
            }
        }
        counts.add_delta(&before, p.stream.summary());
    }
    Ok(Group {
        files: writer.finish()?,
        sources,
    })
}
