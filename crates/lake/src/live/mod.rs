//! Live ingest: datasets that keep growing while they are read.
//!
//! A live source appends small Parquet files through the lake's one commit protocol
//! ([`Lake::commit_with`]): each append is a manifest version holding the new files *and*
//! the source's record ([`StreamRecord`]: counts, latest rejects, and for a followed file
//! the byte offset and line reached). What a source acknowledges is therefore exactly what
//! a committed version holds: a follower killed at any moment restarts from the last
//! committed offset, and repeats and loses nothing. [`crate::compact`] later merges the
//! small files, never deleting one a running query reads.
//!
//! - [`follow`]: a log file tailed across rotation (`secviz ingest --follow`).

mod follow;
mod receive;
pub mod syslog;
mod tail;

pub use follow::{FollowOptions, FollowProgress, FollowReport};
pub use receive::{Messages, Receiver, ReceiverOptions, ReceiverStats, Source};

use crate::anon::Anonymizer;
use crate::manifest::{Manifest, ParseSummary, RejectSample, StreamRecord};
use secviz_parse::Reject;

/// Rejects a live source keeps in the manifest: the latest ones (all are counted).
pub const KEPT_REJECTS: usize = 100;

/// What one append parsed: counts to add to the source's record, and its rejects.
#[derive(Clone, Debug, Default)]
pub(crate) struct AppendCounts {
    pub summary: ParseSummary,
    pub rejects: Vec<RejectSample>,
}

impl AppendCounts {
    /// Keeps a sample of a reject, anonymized when the dataset is; returns it as kept
    /// (for the caller's own list). Rejects are counted from the stream's summary.
    pub fn reject(&mut self, r: &Reject, anon: Option<&mut Anonymizer>) -> Reject {
        let shown = match anon {
            Some(a) => Reject {
                detail: a.text(&r.detail),
                raw: a.text(&r.raw),
                ..r.clone()
            },
            None => r.clone(),
        };
        self.keep(
            RejectSample {
                line: shown.line,
                reason: shown.reason.as_str().to_string(),
                detail: shown.detail.clone(),
                raw: crate::ingest::truncate(&shown.raw, 512),
            },
            None,
        );
        shown
    }

    /// Keeps a sample of a message refused before parsing (anonymized when the dataset is).
    pub fn keep(&mut self, mut r: RejectSample, anon: Option<&mut Anonymizer>) {
        if let Some(a) = anon {
            r.detail = a.text(&r.detail);
            r.raw = a.text(&r.raw);
        }
        if self.rejects.len() == KEPT_REJECTS {
            self.rejects.remove(0);
        }
        self.rejects.push(r);
    }

    /// Adds the difference between two snapshots of a stream's summary.
    pub fn add_delta(&mut self, before: &secviz_parse::Summary, after: &secviz_parse::Summary) {
        let s = &mut self.summary;
        s.read += after.read - before.read;
        s.parsed += after.parsed - before.parsed;
        s.skipped += after.skipped - before.skipped;
        s.events += after.events - before.events;
        for (reason, n) in &after.rejected {
            let was = before.rejected.get(reason).copied().unwrap_or(0);
            if *n > was {
                *s.rejected.entry(reason.as_str().to_string()).or_default() += n - was;
            }
        }
        if let Some(y) = &after.year {
            s.year_note = Some(y.to_string());
        }
    }

    /// Whether anything was read.
    pub fn is_empty(&self) -> bool {
        self.summary.read == 0 && self.summary.skipped == 0
    }
}

/// Who a live source is, for its record.
pub(crate) struct SourceMeta<'a> {
    pub key: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub format: &'a str,
}

/// Adds one append of a live source to its record in `m` (made at its first append): the
/// counts, the latest rejects, what it is called and parsed as now, and when (`now`, RFC 3339).
/// Returns the record, for what only some sources keep (a cursor, drops).
pub(crate) fn record_append<'m>(
    m: &'m mut Manifest,
    source: &SourceMeta<'_>,
    now: &str,
    counts: &AppendCounts,
) -> &'m mut StreamRecord {
    let rec = m
        .streams
        .entry(source.key.to_string())
        .or_insert_with(|| StreamRecord {
            kind: source.kind.to_string(),
            name: String::new(),
            format: String::new(),
            started: now.to_string(),
            updated: String::new(),
            appends: 0,
            summary: Default::default(),
            rejects: Vec::new(),
            cursor: None,
            dropped: 0,
        });
    let s = &mut rec.summary;
    let c = &counts.summary;
    s.read += c.read;
    s.parsed += c.parsed;
    s.skipped += c.skipped;
    s.events += c.events;
    for (reason, n) in &c.rejected {
        *s.rejected.entry(reason.clone()).or_default() += n;
    }
    if c.year_note.is_some() {
        s.year_note = c.year_note.clone();
    }
    rec.rejects.extend(counts.rejects.iter().cloned());
    let extra = rec.rejects.len().saturating_sub(KEPT_REJECTS);
    rec.rejects.drain(..extra);
    rec.name = source.name.to_string();
    rec.format = source.format.to_string();
    rec.updated = now.to_string();
    rec.appends += 1;
    rec
}

/// A sortable, unique file prefix for one append: `part-l<time>-<random>`, so that a
/// dataset's files list in the order they were appended.
pub(crate) fn append_prefix(kind: char, at_us: i64) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("part-{kind}{:016x}-{}", at_us.max(0), &random[..8])
}
