//! Compaction: a day's many small files (live appends, small uploads) into few large ones.
//!
//! Live ingest commits a small file every round; queries pay per file opened, and the
//! manifest grows with every name. [`Lake::compact`] rewrites the small files of a day,
//! in the order they were appended, into files of up to [`CompactOptions::max_rows`] rows
//! (with their summaries), and commits the swap in one manifest version. The files it
//! replaces become *retired*: new queries no longer read them, and they are deleted only
//! once no running reader can be reading them ([`crate::lease`]). The rewrite itself runs
//! without the dataset's lock, so appends go on meanwhile; only the commit takes it.

use std::collections::{BTreeMap, HashSet};

use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use secviz_parse::schema::event_schema;

use crate::error::{LakeError, Result};
use crate::lake::{GcReport, Lake};
use crate::manifest::{DataFile, RetiredFile};
use crate::name::DatasetName;
use crate::rollup::RollUp;
use crate::time::now_micros;
use crate::write::{PartitionWriter, WriteOptions};

/// Which files are compacted, into what.
#[derive(Clone, Debug)]
pub struct CompactOptions {
    /// Files with fewer rows than this are small.
    pub small_file_rows: u64,
    /// A day is compacted once it has this many small files.
    pub min_files: usize,
    /// Most rows in one compacted file.
    pub max_rows: u64,
}

impl Default for CompactOptions {
    fn default() -> Self {
        CompactOptions {
            small_file_rows: 1 << 20,
            min_files: 8,
            max_rows: WriteOptions::default().max_file_rows,
        }
    }
}

/// What a compaction did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactReport {
    /// Files replaced, and files written in their place.
    pub files_in: u64,
    pub files_out: u64,
    pub rows: u64,
    /// The dataset version after the last swap (none when nothing was compacted).
    pub version: Option<u64>,
    /// Retired files deleted, now that no reader needs them.
    pub deleted: GcReport,
    /// The rollup written after the swaps, if any were made ([`crate::rollup`]).
    pub rollup: Option<RollUp>,
}

/// Runs of small files of one day, in path order (the order they were appended), each
/// at most `max_rows` rows and at least two files.
fn plan(files: &[DataFile], opts: &CompactOptions) -> Vec<Vec<DataFile>> {
    let mut days: BTreeMap<Option<String>, Vec<&DataFile>> = BTreeMap::new();
    for f in files.iter().filter(|f| f.rows < opts.small_file_rows) {
        days.entry(f.day.clone()).or_default().push(f);
    }
    let mut runs = Vec::new();
    for (_, mut small) in days {
        if small.len() < opts.min_files.max(2) {
            continue;
        }
        small.sort_by(|a, b| a.path.cmp(&b.path));
        let mut run: Vec<DataFile> = Vec::new();
        let mut rows = 0;
        for f in small {
            if !run.is_empty() && rows + f.rows > opts.max_rows {
                if run.len() >= 2 {
                    runs.push(std::mem::take(&mut run));
                }
                run.clear();
                rows = 0;
            }
            rows += f.rows;
            run.push(f.clone());
        }
        if run.len() >= 2 {
            runs.push(run);
        }
    }
    runs
}

impl Lake {
    /// Compacts the small files of `name` ([`CompactOptions`]), then deletes the retired
    /// files no reader needs any more.
    pub async fn compact(
        &self,
        name: &DatasetName,
        opts: &CompactOptions,
    ) -> Result<CompactReport> {
        let m = self.require(name).await?;
        let mut report = CompactReport::default();
        let dir = Lake::dataset_dir(name);
        for run in plan(&m.files, opts) {
            let staging = self.staging_dir(
                name,
                &format!("live-compact-{}", uuid::Uuid::new_v4().simple()),
            );
            let result = self.rewrite(&dir, &run, &staging, &m).await;
            let files = match result {
                Ok(Some(files)) => files,
                Ok(None) => {
                    let _ = std::fs::remove_dir_all(&staging);
                    continue;
                }
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&staging);
                    return Err(e);
                }
            };
            let replaced: HashSet<&str> = run.iter().map(|f| f.path.as_str()).collect();
            let committed = {
                let _lock = self.lock(name).await?;
                self.commit_with(name, &files, "compaction", |m| {
                    let present = m
                        .files
                        .iter()
                        .filter(|f| replaced.contains(f.path.as_str()));
                    if present.count() != replaced.len() {
                        return Err(LakeError::Invalid(
                            "the dataset changed under the compaction (another one ran)".into(),
                        ));
                    }
                    let at_us = now_micros();
                    let version = m.version + 1;
                    let (gone, kept): (Vec<DataFile>, Vec<DataFile>) = std::mem::take(&mut m.files)
                        .into_iter()
                        .partition(|f| replaced.contains(f.path.as_str()));
                    m.files = kept;
                    m.retired.extend(gone.into_iter().map(|f| RetiredFile {
                        path: f.path,
                        bytes: f.bytes,
                        summary: f.summary,
                        version,
                        at_us,
                    }));
                    Ok(())
                })
                .await
            };
            let _ = std::fs::remove_dir_all(&staging);
            let m = committed?;
            report.files_in += run.len() as u64;
            report.files_out += files.len() as u64;
            report.rows += files.iter().map(|f| f.rows).sum::<u64>();
            report.version = Some(m.version);
        }
        {
            let _lock = self.lock(name).await?;
            report.deleted = self.sweep_retired(name).await?;
        }
        // The files replaced made the rollup unusable; the new ones are not in it.
        if report.version.is_some() {
            report.rollup = Some(
                self.roll_up(name)
                    .await
                    .unwrap_or_else(|e| RollUp::Failed(e.to_string())),
            );
        }
        Ok(report)
    }

    /// The rows of `run`, in order, written as new staged files; `None` when a file is
    /// not of the current event schema (left as it is).
    ///
    /// Batch by batch: each file is decoded a batch at a time and each batch written
    /// before the next is read, on a blocking thread. Decoding a whole file first held a
    /// day's compacted rows in memory at every compaction, and the live day's file is
    /// compacted again with every few minutes of appends.
    async fn rewrite(
        &self,
        dir: &str,
        run: &[DataFile],
        staging: &std::path::Path,
        m: &crate::manifest::Manifest,
    ) -> Result<Option<Vec<crate::write::StagedFile>>> {
        let first = run.iter().filter_map(|f| f.time_min_us).min().unwrap_or(0);
        let prefix = crate::live::append_prefix('c', first);
        let write = WriteOptions {
            inside: m.inside.clone(),
            ..WriteOptions::default()
        };
        let mut writer = PartitionWriter::new(staging, &prefix, write)?;
        for f in run {
            let rel = format!("{dir}/{}", f.path);
            let bytes = self.store().get(&rel).await?.ok_or_else(|| {
                LakeError::Internal(format!("{rel} is named by the manifest but missing"))
            })?;
            let copied = tokio::task::spawn_blocking(move || {
                copy_rows(bytes, &mut writer).map(|ok| (ok, writer))
            })
            .await
            .map_err(|e| LakeError::Internal(e.to_string()))??;
            let ok;
            (ok, writer) = copied;
            if !ok {
                return Ok(None);
            }
        }
        Ok(Some(
            tokio::task::spawn_blocking(move || writer.finish())
                .await
                .map_err(|e| LakeError::Internal(e.to_string()))??,
        ))
    }
}

/// Writes the rows of the Parquet file `bytes` to `writer`, a batch at a time; false
/// (and stops) at a batch not of the current event schema.
fn copy_rows(bytes: bytes::Bytes, writer: &mut PartitionWriter) -> Result<bool> {
    let schema = event_schema();
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?.build()?;
    for b in reader {
        let b = b?;
        if b.schema().fields() != schema.fields() {
            return Ok(false);
        }
        writer.write(&b)?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, day: &str, rows: u64) -> DataFile {
        DataFile {
            path: format!("day={day}/{path}.parquet"),
            day: Some(day.into()),
            rows,
            bytes: rows,
            time_min_us: None,
            time_max_us: None,
            ingest: "x".into(),
            summary: None,
        }
    }

    #[test]
    fn plans_runs_of_small_files_per_day_within_the_row_cap() {
        let opts = CompactOptions {
            small_file_rows: 100,
            min_files: 3,
            max_rows: 250,
        };
        let files = vec![
            file("a", "2026-01-01", 100), // not small
            file("b", "2026-01-01", 90),
            file("c", "2026-01-01", 90),
            file("d", "2026-01-01", 90), // would pass 250: starts a new run
            file("e", "2026-01-01", 10),
            file("f", "2026-01-02", 5), // two small files: under min_files
            file("g", "2026-01-02", 5),
        ];
        let runs: Vec<Vec<String>> = plan(&files, &opts)
            .into_iter()
            .map(|r| r.into_iter().map(|f| f.path).collect())
            .collect();
        assert_eq!(
            runs,
            vec![
                vec!["day=2026-01-01/b.parquet", "day=2026-01-01/c.parquet"],
                vec!["day=2026-01-01/d.parquet", "day=2026-01-01/e.parquet"],
            ]
        );
    }
}
