//! secviz-lake stores events as Parquet datasets and answers SQL over them with
//! DataFusion.
//!
//! - [`Lake`] opens a data location (a local directory or an object-store URL) and
//!   manages datasets: day-partitioned, zstd Parquet files named by a JSON
//!   [`Manifest`] whose atomic replacement is the commit point.
//! - [`Lake::ingest`] parses log sources (secviz-parse) into a dataset with bounded
//!   memory, optional prefix-preserving anonymization ([`anon`]), progress and rejects.
//! - [`query`] runs read-only SQL for members: only `SELECT`, only the datasets the
//!   caller may read, with limits on time, memory and rows.
//! - [`analyze`] holds the built-in analyses (top talkers, scanners, beacons, DNS, ...)
//!   shared by `secviz analyze` and the portal.
//!
//! Not here: parsing (secviz-parse), the executor that member queries run on
//! (secviz-sandbox: this crate's operators check its budgets), views and pictures
//! (secviz-views, secviz-graph, secviz-render), and who may read a dataset (the portal
//! decides; a query only gets the datasets it is given). DataFusion lives only in this crate.

pub mod analyze;
pub mod anon;
pub mod cluster;
pub mod compact;
mod error;
mod ingest;
pub mod inside;
mod lake;
mod lease;
pub mod live;
pub mod manifest;
mod name;
mod profile;
pub mod query;
pub mod rollup;
mod store;
pub mod summary;
mod table;
mod time;
mod write;

pub use error::{LakeError, Result};
pub use ingest::{
    IngestOptions, IngestProgress, IngestReport, IngestSource, Inside, ProgressFn, RejectFn,
};
pub use lake::{DatasetLock, GcReport, Lake};
pub use manifest::Manifest;
pub use name::{BadDatasetName, DatasetName, EVENTS_TABLE};
pub use profile::{ColumnProfile, ProfileError};
pub use store::{Listed, Store};
pub use table::{DATASET_COLUMN, LakeTable, table_file_schema};
pub use time::{format_micros, now_micros};
pub use write::{NO_DAY, StagedFile, WriteOptions};

/// Re-exported so callers use the same Arrow and DataFusion as the lake.
pub use datafusion;
pub use secviz_parse;
