//! [`PartitionWriter`]: event batches in, day-partitioned Parquet files out (staged).
//!
//! Rows go to `day=YYYY-MM-DD/` by their UTC time (rows without a time to the Hive
//! default partition). At most [`WriteOptions::max_open_files`] files are open at
//! once; when a new day needs one, the least recently used is finished, so memory is
//! bounded by the open row groups whatever the input's time spread. Files are written
//! under a staging directory and fsynced; the lake publishes them at commit.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, AsArray, UInt32Array};
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::metadata::KeyValue;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;
use secviz_parse::schema::{SCHEMA_VERSION, col, event_schema};

use crate::error::{LakeError, Result};
use crate::summary::{Summarizer, Summary};
use crate::time::{day_label, day_number};

/// Partition value of rows without a time (Hive's convention, understood by Spark,
/// Trino and DuckDB).
pub const NO_DAY: &str = "__HIVE_DEFAULT_PARTITION__";

/// Columns written without a dictionary; every other column is dictionary-encoded, which
/// queries rely on to read a column as dictionary keys.
///
/// The raw line is there for provenance: nearly every value is unique, so a dictionary
/// attempt is thrown away page after page. Microsecond times are unique too.
pub(crate) const PLAIN_COLUMNS: [&str; 2] = [col::RAW, col::TIME];

/// How files are laid out.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Rows per row group. 256 Ki rows: large enough for long sequential column reads,
    /// small enough that time-range statistics prune and two cores share a file.
    pub row_group_rows: usize,
    /// A file is finished after this many rows and the next one started.
    pub max_file_rows: u64,
    /// Files open at once (one per day being written).
    pub max_open_files: usize,
    /// zstd level; 1 keeps ingest fast, and security logs compress well even so.
    pub zstd_level: i32,
    /// Write a summary beside each file ([`crate::summary`]), which the analyses read
    /// instead of the rows where it answers their question.
    pub summaries: bool,
    /// What one file's summary may hold in memory while it is written; above it, its
    /// largest tables are given up ([`crate::summary::BUDGET_BYTES`] by default).
    pub summary_budget_bytes: usize,
    /// The dataset's inside networks (as stored), for the summaries' calls from inside
    /// to outside; set by the ingest.
    pub inside: Option<crate::inside::InsideNetworks>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            row_group_rows: 256 * 1024,
            max_file_rows: 8 * 1024 * 1024,
            max_open_files: 8,
            zstd_level: 1,
            summaries: true,
            summary_budget_bytes: crate::summary::BUDGET_BYTES,
            inside: None,
        }
    }
}

/// A finished Parquet file in the staging directory, not yet part of any dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct StagedFile {
    /// Where it is now.
    pub local: PathBuf,
    /// Path relative to the dataset directory once published.
    pub rel: String,
    pub day: Option<String>,
    pub rows: u64,
    pub bytes: u64,
    pub time_min_us: Option<i64>,
    pub time_max_us: Option<i64>,
    /// The size of its summary, staged beside it (`<name>.summary`, see [`crate::summary`]).
    pub summary_bytes: Option<u64>,
}

struct OpenFile {
    writer: ArrowWriter<BufWriter<File>>,
    local: PathBuf,
    rel: String,
    rows: u64,
    time_min: Option<i64>,
    time_max: Option<i64>,
    last_used: u64,
    summary: Option<SummaryThread>,
}

/// A file's summary, built on a thread of its own from the batches written to the file, so
/// that summarizing runs beside the Parquet encoding rather than after it. The channel is
/// bounded: a summary that falls behind holds the writer back instead of queueing batches.
struct SummaryThread {
    batches: std::sync::mpsc::SyncSender<RecordBatch>,
    thread: std::thread::JoinHandle<Summary>,
}

impl SummaryThread {
    fn start(
        budget: usize,
        inside: Option<crate::inside::InsideNetworks>,
    ) -> Result<SummaryThread> {
        let (batches, rx) = std::sync::mpsc::sync_channel::<RecordBatch>(2);
        let thread = std::thread::Builder::new()
            .name("summary".into())
            .spawn(move || {
                let mut s = Summarizer::new(budget, inside.as_ref());
                for b in rx {
                    s.add(&b);
                }
                s.finish()
            })
            .map_err(|e| LakeError::io("starting the summary thread", e))?;
        Ok(SummaryThread { batches, thread })
    }

    fn add(&self, batch: &RecordBatch) -> Result<()> {
        self.batches
            .send(batch.clone())
            .map_err(|_| LakeError::Internal("the summary thread stopped".into()))
    }

    fn finish(self) -> Result<Summary> {
        drop(self.batches);
        self.thread
            .join()
            .map_err(|_| LakeError::Internal("the summary thread panicked".into()))
    }
}

/// Writes event batches into day-partitioned Parquet files under a staging directory.
pub struct PartitionWriter {
    staging: PathBuf,
    file_prefix: String,
    opts: WriteOptions,
    props: WriterProperties,
    open: HashMap<Option<i64>, OpenFile>,
    finished: Vec<StagedFile>,
    next_file: u64,
    clock: u64,
    time_idx: usize,
}

impl PartitionWriter {
    /// `file_prefix` names the files (`part-<ingest id>`), so that files of different
    /// ingests never collide in one day directory.
    pub fn new(staging: &Path, file_prefix: &str, opts: WriteOptions) -> Result<PartitionWriter> {
        fs::create_dir_all(staging)
            .map_err(|e| LakeError::io(format!("creating {}", staging.display()), e))?;
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(opts.zstd_level)?))
            .set_max_row_group_row_count(Some(opts.row_group_rows))
            // Row-group statistics are what pruning uses (row groups of 256 Ki rows);
            // page-level min/max of every column cost a comparison per value at ingest
            // for a page index that only the time column really gains from.
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_column_statistics_enabled(ColumnPath::from(col::TIME), EnabledStatistics::Page)
            // Min/max of log lines prunes nothing and costs ingest time on the longest column.
            .set_column_statistics_enabled(ColumnPath::from(col::RAW), EnabledStatistics::None)
            .set_key_value_metadata(Some(vec![KeyValue::new(
                "secviz.schema_version".to_string(),
                SCHEMA_VERSION.to_string(),
            )]));
        for column in PLAIN_COLUMNS {
            props = props.set_column_dictionary_enabled(ColumnPath::from(column), false);
        }
        let props = props.build();
        let time_idx = event_schema().index_of(col::TIME)?;
        Ok(PartitionWriter {
            staging: staging.to_path_buf(),
            file_prefix: file_prefix.to_string(),
            opts,
            props,
            open: HashMap::new(),
            finished: Vec::new(),
            next_file: 0,
            clock: 0,
            time_idx,
        })
    }

    /// Appends a batch of [`event_schema`]. Rows are split by day; the order of rows
    /// within a day is kept.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if batch.schema().fields() != event_schema().fields() {
            return Err(LakeError::Internal(
                "batch does not have the event schema".into(),
            ));
        }
        let times = batch
            .column(self.time_idx)
            .as_primitive::<TimestampMicrosecondType>();
        let day_of = |i: usize| times.is_valid(i).then(|| day_number(times.value(i)));
        // Most inputs are in time order, so a batch usually falls on one day.
        let first = day_of(0);
        if (1..batch.num_rows()).all(|i| day_of(i) == first) {
            return self.write_day(first, batch);
        }
        let mut groups: Vec<(Option<i64>, Vec<u32>)> = Vec::new();
        for i in 0..batch.num_rows() {
            let d = day_of(i);
            match groups.iter_mut().find(|(g, _)| *g == d) {
                Some((_, idx)) => idx.push(i as u32),
                None => groups.push((d, vec![i as u32])),
            }
        }
        for (day, idx) in groups {
            let part = take_record_batch(batch, &UInt32Array::from(idx))?;
            self.write_day(day, &part)?;
        }
        Ok(())
    }

    fn write_day(&mut self, day: Option<i64>, batch: &RecordBatch) -> Result<()> {
        self.clock += 1;
        if !self.open.contains_key(&day) {
            if self.open.len() >= self.opts.max_open_files {
                let lru = self
                    .open
                    .iter()
                    .min_by_key(|(_, f)| f.last_used)
                    .map(|(d, _)| *d);
                if let Some(d) = lru {
                    self.finish_file(d)?;
                }
            }
            let file = self.start_file(day)?;
            self.open.insert(day, file);
        }
        let f = self.open.get_mut(&day).expect("opened above");
        f.writer.write(batch)?;
        if let Some(s) = &f.summary {
            s.add(batch)?;
        }
        f.rows += batch.num_rows() as u64;
        f.last_used = self.clock;
        let times = batch
            .column(self.time_idx)
            .as_primitive::<TimestampMicrosecondType>();
        if let Some(lo) = datafusion::arrow::compute::min(times) {
            f.time_min = Some(f.time_min.map_or(lo, |m| m.min(lo)));
        }
        if let Some(hi) = datafusion::arrow::compute::max(times) {
            f.time_max = Some(f.time_max.map_or(hi, |m| m.max(hi)));
        }
        if f.rows >= self.opts.max_file_rows {
            self.finish_file(day)?;
        }
        Ok(())
    }

    fn start_file(&mut self, day: Option<i64>) -> Result<OpenFile> {
        let label = day.map(day_label).unwrap_or_else(|| NO_DAY.to_string());
        let name = format!("{}-{:05}.parquet", self.file_prefix, self.next_file);
        self.next_file += 1;
        let local = self.staging.join(&name);
        let file = File::create(&local)
            .map_err(|e| LakeError::io(format!("creating {}", local.display()), e))?;
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 20, file),
            event_schema(),
            Some(self.props.clone()),
        )?;
        Ok(OpenFile {
            writer,
            local,
            rel: format!("day={label}/{name}"),
            rows: 0,
            time_min: None,
            time_max: None,
            last_used: self.clock,
            summary: match self.opts.summaries {
                true => Some(SummaryThread::start(
                    self.opts.summary_budget_bytes,
                    self.opts.inside.clone(),
                )?),
                false => None,
            },
        })
    }

    fn finish_file(&mut self, day: Option<i64>) -> Result<()> {
        let Some(f) = self.open.remove(&day) else {
            return Ok(());
        };
        let buffered = f.writer.into_inner()?;
        let file = buffered
            .into_inner()
            .map_err(|e| LakeError::io("flushing a Parquet file", e.into_error()))?;
        file.sync_all()
            .map_err(|e| LakeError::io(format!("syncing {}", f.local.display()), e))?;
        let bytes = file
            .metadata()
            .map_err(|e| LakeError::io("reading file size", e))?
            .len();
        let summary_bytes = match f.summary {
            Some(s) => Some(write_summary(&summary_path_of(&f.local), &s.finish()?)?),
            None => None,
        };
        self.finished.push(StagedFile {
            local: f.local,
            rel: f.rel,
            day: day.map(day_label),
            rows: f.rows,
            bytes,
            time_min_us: f.time_min,
            time_max_us: f.time_max,
            summary_bytes,
        });
        Ok(())
    }

    /// Finishes every open file and returns all staged files, in write order by day.
    pub fn finish(mut self) -> Result<Vec<StagedFile>> {
        let days: Vec<_> = self.open.keys().copied().collect();
        for d in days {
            self.finish_file(d)?;
        }
        let _ = crate::store::sync_dir(&self.staging);
        self.finished.sort_by(|a, b| a.rel.cmp(&b.rel));
        Ok(self.finished)
    }
}

/// The staged summary of the staged data file at `local`.
pub(crate) fn summary_path_of(local: &Path) -> PathBuf {
    local.with_extension("summary")
}

/// Writes and syncs a summary; returns its size.
fn write_summary(path: &Path, summary: &Summary) -> Result<u64> {
    let bytes = crate::summary::encode(summary)?;
    let ctx = |e| LakeError::io(format!("writing {}", path.display()), e);
    let mut file = File::create(path).map_err(ctx)?;
    std::io::Write::write_all(&mut file, &bytes).map_err(ctx)?;
    file.sync_all().map_err(ctx)?;
    Ok(bytes.len() as u64)
}
