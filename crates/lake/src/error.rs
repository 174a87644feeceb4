//! [`LakeError`]: everything that can go wrong storing, listing and removing datasets.
//!
//! Query errors are separate ([`crate::query::QueryError`]): they are shown to members
//! with a position and a kind, while these are operator errors with a context chain.

use std::path::PathBuf;

use crate::name::{BadDatasetName, DatasetName};

/// Errors of the lake's storage side. Not `non_exhaustive`: the interfaces word each
/// variant in exhaustive matches, so a new one cannot go unworded.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error(transparent)]
    BadName(#[from] BadDatasetName),

    #[error("no dataset named {0}")]
    NotFound(DatasetName),

    #[error(
        "{source_name} (sha256 {sha256}) is already in dataset {dataset} (ingested {ingested_at})"
    )]
    Duplicate {
        dataset: DatasetName,
        source_name: String,
        sha256: String,
        ingested_at: String,
    },

    #[error("{0}")]
    Anonymization(String),

    #[error("{0}")]
    Invalid(String),

    /// A query worker could not start or stopped (`secviz worker`).
    #[error("{0}")]
    Worker(String),

    /// Member work was started where the sandbox cannot hold it (a bug of ours).
    #[error("{0}")]
    Sandbox(String),

    #[error("key file {path}: {why}")]
    Key { path: PathBuf, why: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{context}: {source}")]
    Store {
        context: String,
        #[source]
        source: object_store::Error,
    },

    #[error("invalid data location {}: use a local path or a URL such as s3://bucket/prefix", secviz_parse::quoted(.0))]
    BadLocation(String),

    #[error("manifest {path}: {why}")]
    Manifest { path: String, why: String },

    /// The parse error is in the message, not also a `source`: printed with its chain, it
    /// would be said twice.
    #[error("parsing {source_name}: {error}")]
    Parse {
        source_name: String,
        error: secviz_parse::ParseError,
    },

    #[error("writing Parquet: {0}")]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),

    #[error("{0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),

    #[error("{0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),

    #[error("ingest was cancelled")]
    Cancelled,

    #[error("internal error: {0}")]
    Internal(String),
}

impl LakeError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> LakeError {
        LakeError::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn store(context: impl Into<String>, source: object_store::Error) -> LakeError {
        LakeError::Store {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = LakeError> = std::result::Result<T, E>;
