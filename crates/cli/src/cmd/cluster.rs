//! The flags that point a command at query workers (`secviz query`, `secviz analyze`,
//! `secviz serve`) and the secret they share with them (`secviz worker` too).

use std::path::PathBuf;

use anyhow::Context;
use secviz_lake::cluster::{Cluster, WorkerSecret};

/// The cluster's shared secret: from a file, or from the environment.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SecretArg {
    /// File holding the secret shared by the coordinators and the workers (16 characters
    /// or more; `openssl rand -hex 32` makes one). SECVIZ_WORKER_SECRET may hold it instead.
    #[arg(long, env = "SECVIZ_WORKER_SECRET_FILE", value_name = "FILE")]
    pub worker_secret_file: Option<PathBuf>,
}

impl SecretArg {
    /// The secret, or why there is none.
    pub fn secret(&self) -> anyhow::Result<WorkerSecret> {
        let text = match (
            &self.worker_secret_file,
            std::env::var("SECVIZ_WORKER_SECRET"),
        ) {
            (Some(p), _) => std::fs::read_to_string(p)
                .with_context(|| format!("reading the worker secret from {}", p.display()))?,
            (None, Ok(s)) if !s.is_empty() => s,
            _ => anyhow::bail!(
                "workers need a shared secret: give --worker-secret-file FILE or set SECVIZ_WORKER_SECRET"
            ),
        };
        WorkerSecret::new(&text).map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// Where queries run: here, or across workers.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct WorkersArg {
    /// Run queries across these workers (`secviz worker`), comma-separated
    /// `http://HOST:PORT`; they must read the same lake (an object store, or a shared path).
    #[arg(long, env = "SECVIZ_WORKERS", value_name = "URL,...")]
    pub workers: Option<String>,
    #[command(flatten)]
    pub secret: SecretArg,
    /// Parquet bytes one worker task reads (smaller: more tasks).
    #[arg(long, env = "SECVIZ_WORKER_TASK_BYTES", hide = true)]
    pub worker_task_bytes: Option<usize>,
}

impl WorkersArg {
    /// The cluster named, if any.
    pub fn cluster(&self) -> anyhow::Result<Option<Cluster>> {
        let Some(list) = self.workers.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        let urls = Cluster::parse_workers(list).map_err(|e| anyhow::anyhow!("--workers: {e}"))?;
        let mut cluster = Cluster::new(urls, self.secret.secret()?)
            .map_err(|e| anyhow::anyhow!("--workers: {e}"))?;
        if let Some(b) = self.worker_task_bytes {
            cluster = cluster.with_bytes_per_partition(b);
        }
        Ok(Some(cluster))
    }
}
