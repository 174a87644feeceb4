//! The dataset manifest: the one file that says what a dataset is.
//!
//! `datasets/<name>/manifest.json` names every Parquet file of the dataset with its row
//! count, size and time range, and records every ingest: its source files with their
//! SHA-256, and their parse summaries with rejects. Writing the manifest (atomically)
//! is the commit point: Parquet files it does not name are invisible to queries and are
//! garbage-collected.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{LakeError, Result};
use crate::name::DatasetName;
use crate::time::format_micros;

/// Layout version of `manifest.json` itself.
pub const MANIFEST_FORMAT: u32 = 1;

/// Everything known about one dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Layout of this file ([`MANIFEST_FORMAT`]).
    pub format: u32,
    /// Event schema version of the Parquet files (`secviz_parse::schema::SCHEMA_VERSION`).
    pub schema_version: u32,
    pub name: DatasetName,
    /// Number of commits so far; 1 after the first ingest.
    pub version: u64,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339, time of the last commit.
    pub updated: String,
    /// Set when the addresses of this dataset are anonymized; every later ingest must
    /// use the same key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymization: Option<AnonymizationInfo>,
    /// The networks the analyses call inside, as stored (mapped with the key when the
    /// dataset is anonymized: see `crate::inside`). `None` in manifests written before
    /// secviz recorded it: the private ranges, unless the dataset is anonymized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inside: Option<crate::inside::InsideNetworks>,
    /// Total rows of all files.
    pub rows: u64,
    /// Total bytes of all files.
    pub bytes: u64,
    /// Earliest and latest event time, microseconds since the epoch (UTC).
    pub time_min_us: Option<i64>,
    pub time_max_us: Option<i64>,
    pub files: Vec<DataFile>,
    pub ingests: Vec<IngestRecord>,
    /// Live sources appending to the dataset ([`crate::live`]), by key: their counts,
    /// latest rejects and, for a followed file, how far it was read. Updated in the same
    /// commit as the files of each append, so what a source acknowledged is exactly what
    /// the dataset holds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub streams: BTreeMap<String, StreamRecord>,
    /// Files a compaction replaced ([`crate::compact`]): no longer read by new queries,
    /// kept until no running reader can still be reading them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<RetiredFile>,
    /// The merged summary of many of its files ([`crate::rollup`]): analyses read it in
    /// place of theirs. Derived data: committed without a new version, and ignored when a
    /// file it covers is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollup: Option<Rollup>,
}

/// A summary of many data files, merged ([`crate::rollup`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollup {
    /// `rollup-<id>.summary`, in the dataset directory.
    pub path: String,
    /// The data files it covers, in the manifest's order.
    pub files: Vec<String>,
    pub bytes: u64,
    /// [`crate::summary::SUMMARY_FORMAT`] when written.
    pub format: u32,
}

/// One live source of a dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamRecord {
    /// `follow` (a tailed file); receivers add their own kinds.
    pub kind: String,
    /// The file followed, or the source's label (anonymized when the dataset is).
    pub name: String,
    /// Format parsed (`pf`, `syslog`, ...).
    pub format: String,
    /// RFC 3339: first and latest append.
    pub started: String,
    pub updated: String,
    /// Commits made by this source.
    pub appends: u64,
    /// Parse counts over all its appends: `parsed + rejected = read`.
    pub summary: ParseSummary,
    /// The latest rejects, with line numbers and reasons (all are counted in `summary`).
    pub rejects: Vec<RejectSample>,
    /// Where a followed file was read to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<FileCursor>,
    /// Messages lost before they could be read: UDP datagrams the kernel dropped (its
    /// receive-buffer overflow counter) or the receiver's full queue could not take.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How far a followed file was read: committed with the events it covers, so a follower
/// restarted after a crash goes on from here, losing and repeating nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCursor {
    /// Device and inode of the file read: a file rotated away is recognised by them.
    pub dev: u64,
    pub ino: u64,
    /// Bytes read, up to the end of the last whole line.
    pub offset: u64,
    /// Lines read.
    pub line: u64,
    /// SHA-256 of the file's first bytes (up to 1 KiB), so that a new file that happens to
    /// get a recycled inode is not taken for the old one.
    pub head_sha256: String,
    pub head_bytes: u64,
}

/// A file a compaction took out of the dataset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredFile {
    pub path: String,
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<SummaryInfo>,
    /// The first manifest version without it: readers of older versions may read it.
    pub version: u64,
    /// When it was retired, microseconds since the epoch.
    pub at_us: i64,
}

impl RetiredFile {
    pub fn summary_path(&self) -> Option<String> {
        self.summary
            .as_ref()
            .map(|_| crate::summary::summary_path(&self.path))
    }
}

/// How a dataset's addresses were anonymized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnonymizationInfo {
    /// `cryptopan-aes128`.
    pub scheme: String,
    /// SHA-256 of the key, to recognise the same key later without storing it.
    pub key_fingerprint: String,
}

/// One Parquet file of a dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataFile {
    /// Path relative to the dataset directory: `day=2005-10-21/part-<ingest>-<n>.parquet`.
    pub path: String,
    /// `YYYY-MM-DD` (UTC) of every row, or `None` for rows without a time.
    pub day: Option<String>,
    pub rows: u64,
    pub bytes: u64,
    pub time_min_us: Option<i64>,
    pub time_max_us: Option<i64>,
    /// Id of the ingest that wrote it.
    pub ingest: String,
    /// Its summary, beside it under the same name with `.summary` ([`crate::summary`]);
    /// `None` for files written without one (before secviz kept them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<SummaryInfo>,
}

/// A data file's summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryInfo {
    pub bytes: u64,
    /// [`crate::summary::SUMMARY_FORMAT`] when written.
    pub format: u32,
}

impl DataFile {
    /// The path of its summary, relative to the dataset directory.
    pub fn summary_path(&self) -> Option<String> {
        self.summary
            .as_ref()
            .map(|_| crate::summary::summary_path(&self.path))
    }
}

/// One committed ingest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IngestRecord {
    pub id: String,
    /// RFC 3339.
    pub at: String,
    pub rows: u64,
    pub sources: Vec<SourceRecord>,
}

/// One input of an ingest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// The file name or label given for it.
    pub name: String,
    /// SHA-256 of the bytes as read (compressed, if it was).
    pub sha256: String,
    pub bytes: u64,
    /// Format parsed (`pf`, `zeek`, ...).
    pub format: String,
    pub gzip: bool,
    pub summary: ParseSummary,
    /// The first rejects, with line numbers and reasons (all are counted in `summary`).
    pub rejects: Vec<RejectSample>,
}

/// The parse summary of a source: `parsed + rejected = read`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseSummary {
    pub read: u64,
    pub parsed: u64,
    /// Rejected records by reason (`bad_time`, ...).
    pub rejected: BTreeMap<String, u64>,
    pub skipped: u64,
    pub events: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damage: Option<String>,
    /// How the events of a log that prints no year were dated ([`secviz_parse::YearNote`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_note: Option<String>,
}

impl ParseSummary {
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

/// One rejected record, as kept in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectSample {
    pub line: u64,
    pub reason: String,
    pub detail: String,
    /// The start of the line as read (anonymized when the dataset is).
    pub raw: String,
}

impl Manifest {
    /// Refuses a source whose SHA-256 `before` already holds with events (unless `force`):
    /// checked before parsing, and again at the commit against the version it replaces.
    pub(crate) fn check_duplicate(
        before: Option<&Manifest>,
        name: &str,
        sha: &str,
        force: bool,
    ) -> Result<()> {
        if force {
            return Ok(());
        }
        if let Some(m) = before
            && let Some((ingest, _)) = m.find_source(sha).filter(|(_, s)| s.summary.events > 0)
        {
            return Err(LakeError::Duplicate {
                dataset: m.name.clone(),
                source_name: name.to_string(),
                sha256: sha.to_string(),
                ingested_at: ingest.at.clone(),
            });
        }
        Ok(())
    }

    /// An empty manifest for a new dataset.
    pub fn new(name: DatasetName, now_us: i64) -> Manifest {
        let now = format_micros(now_us);
        Manifest {
            format: MANIFEST_FORMAT,
            schema_version: secviz_parse::schema::SCHEMA_VERSION,
            name,
            version: 0,
            created: now.clone(),
            updated: now,
            anonymization: None,
            inside: None,
            rows: 0,
            bytes: 0,
            time_min_us: None,
            time_max_us: None,
            files: Vec::new(),
            ingests: Vec::new(),
            streams: BTreeMap::new(),
            retired: Vec::new(),
            rollup: None,
        }
    }

    /// Parses and checks a manifest read from `path` (for messages).
    pub fn from_json(bytes: &[u8], path: &str) -> Result<Manifest> {
        let bad = |why: String| LakeError::Manifest {
            path: path.to_string(),
            why,
        };
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if m.format > MANIFEST_FORMAT {
            return Err(bad(format!(
                "layout {} is newer than this secviz understands ({MANIFEST_FORMAT})",
                m.format
            )));
        }
        if m.schema_version > secviz_parse::schema::SCHEMA_VERSION {
            return Err(bad(format!(
                "event schema {} is newer than this secviz's ({})",
                m.schema_version,
                secviz_parse::schema::SCHEMA_VERSION
            )));
        }
        // The manifest names files to read; never let it point outside the dataset.
        for p in m
            .files
            .iter()
            .map(|f| &f.path)
            .chain(m.retired.iter().map(|r| &r.path))
        {
            if !is_safe_data_path(p) {
                return Err(bad(format!("file path {p:?} is not a dataset file")));
            }
        }
        if let Some(r) = &m.rollup
            && !is_rollup_path(&r.path)
        {
            return Err(bad(format!(
                "rollup path {:?} is not a dataset file",
                r.path
            )));
        }
        Ok(m)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("a manifest always serializes");
        v.push(b'\n');
        v
    }

    /// The ingest and source that read bytes with this SHA-256, if any.
    pub fn find_source(&self, sha256: &str) -> Option<(&IngestRecord, &SourceRecord)> {
        self.ingests.iter().find_map(|i| {
            i.sources
                .iter()
                .find(|s| s.sha256 == sha256)
                .map(|s| (i, s))
        })
    }

    /// Recomputes the totals from the file list.
    pub fn recompute_totals(&mut self) {
        self.rows = self.files.iter().map(|f| f.rows).sum();
        self.bytes = self.files.iter().map(|f| f.bytes).sum();
        self.time_min_us = self.files.iter().filter_map(|f| f.time_min_us).min();
        self.time_max_us = self.files.iter().filter_map(|f| f.time_max_us).max();
    }

    /// Rejected records over all ingests and live sources.
    pub fn rejected_total(&self) -> u64 {
        let ingested: u64 = self
            .ingests
            .iter()
            .flat_map(|i| &i.sources)
            .map(|s| s.summary.rejected_total())
            .sum();
        ingested
            + self
                .streams
                .values()
                .map(|s| s.summary.rejected_total())
                .sum::<u64>()
    }

    /// Every file path the manifest names, live or retired, with their summaries: what
    /// [`crate::Lake::gc`] must keep.
    pub fn named_paths(&self) -> impl Iterator<Item = String> + '_ {
        let live = self
            .files
            .iter()
            .flat_map(|f| std::iter::once(f.path.clone()).chain(f.summary_path()));
        let retired = self
            .retired
            .iter()
            .flat_map(|f| std::iter::once(f.path.clone()).chain(f.summary_path()));
        live.chain(retired)
            .chain(self.rollup.iter().map(|r| r.path.clone()))
    }

    /// The rollup, when every file it covers is still a file of the dataset.
    pub fn usable_rollup(&self) -> Option<&Rollup> {
        let r = self.rollup.as_ref()?;
        let present: std::collections::HashSet<&str> =
            self.files.iter().map(|f| f.path.as_str()).collect();
        r.files
            .iter()
            .all(|f| present.contains(f.as_str()))
            .then_some(r)
    }

    /// The summaries that together describe every file, relative to the dataset
    /// directory: with `rollup`, the usable rollup and the summaries of the files it does
    /// not cover; otherwise every file's. `None` when a file needed has no summary.
    pub fn summary_paths(&self, rollup: bool) -> Option<Vec<String>> {
        let mut paths = Vec::new();
        let mut covered = std::collections::HashSet::new();
        if let Some(r) = self.usable_rollup().filter(|_| rollup) {
            paths.push(r.path.clone());
            covered.extend(r.files.iter().map(String::as_str));
        }
        for f in self
            .files
            .iter()
            .filter(|f| !covered.contains(f.path.as_str()))
        {
            paths.push(f.summary_path()?);
        }
        Some(paths)
    }
}

/// `rollup-<id>.summary`, the id of hexadecimal digits.
pub(crate) fn is_rollup_path(p: &str) -> bool {
    p.strip_prefix("rollup-")
        .and_then(|r| r.strip_suffix(".summary"))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `day=<something>/part-<id>-<n>.parquet` with only safe characters.
fn is_safe_data_path(p: &str) -> bool {
    let safe = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_=.".contains(&b))
    };
    let parts: Vec<&str> = p.split('/').collect();
    parts.len() == 2
        && parts[0].starts_with("day=")
        && parts[1].ends_with(".parquet")
        && parts.iter().all(|s| safe(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_paths_outside_the_dataset() {
        let mut m = Manifest::new(DatasetName::parse("pf").unwrap(), 0);
        m.files.push(DataFile {
            path: "day=1970-01-01/part-a-0.parquet".into(),
            day: Some("1970-01-01".into()),
            rows: 3,
            bytes: 10,
            time_min_us: Some(5),
            time_max_us: Some(9),
            ingest: "a".into(),
            summary: None,
        });
        m.recompute_totals();
        let back = Manifest::from_json(&m.to_json(), "m").unwrap();
        assert_eq!(back, m);
        assert_eq!(
            (back.rows, back.time_min_us, back.time_max_us),
            (3, Some(5), Some(9))
        );

        for evil in [
            "../../etc/passwd",
            "day=x/../../y.parquet",
            "/abs.parquet",
            "day=1/a/b.parquet",
            "x.parquet",
        ] {
            let mut bad = m.clone();
            bad.files[0].path = evil.into();
            let err = Manifest::from_json(&bad.to_json(), "m")
                .unwrap_err()
                .to_string();
            assert!(err.contains("not a dataset file"), "{evil}: {err}");
        }
        for (path, ok) in [
            ("rollup-0af3.summary", true),
            ("../rollup-0af3.summary", false),
            ("rollup-.summary", false),
            ("rollup-x/../../y.summary", false),
            ("day=1/part-a-0.summary", false),
        ] {
            let mut r = m.clone();
            r.rollup = Some(Rollup {
                path: path.into(),
                files: vec![m.files[0].path.clone()],
                bytes: 1,
                format: 3,
            });
            let back = Manifest::from_json(&r.to_json(), "m");
            assert_eq!(back.is_ok(), ok, "{path}");
            if ok {
                assert_eq!(back.unwrap().named_paths().last(), Some(path.to_string()));
            }
        }
        let mut newer = m.clone();
        newer.format = MANIFEST_FORMAT + 1;
        assert!(
            Manifest::from_json(&newer.to_json(), "m")
                .unwrap_err()
                .to_string()
                .contains("newer")
        );
        assert!(Manifest::from_json(b"{not json", "m").is_err());
    }
}
