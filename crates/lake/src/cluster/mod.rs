//! Distributed SQL: a query's plan cut into stages that `secviz worker` processes run.
//!
//! The engine is datafusion-distributed (datafusion-contrib, on DataFusion 55): the
//! coordinator (the portal or `secviz query`) plans as usual, the distributed planner cuts
//! the plan at its shuffles into stages, and each stage's tasks go to the workers over
//! gRPC (Arrow Flight), which read their share of the lake's Parquet files themselves.
//! docs/scale.md says why this engine and not Ballista.
//!
//! What makes it safe to run on shared machines:
//! - workers listen on loopback unless told otherwise, and run a plan only when the
//!   request carries the cluster's shared secret ([`WorkerSecret`]), checked before the
//!   plan is decoded;
//! - the coordinator sends its limits with every task ([`StageLimits`]); a worker holds
//!   each task to those, capped by its own: a memory pool, a deadline, and cancellation
//!   when the coordinator goes away;
//! - members' queries are not sent: the sandbox accounts every allocation of the query
//!   thread that runs a member's job, which a worker's tasks would escape, so they stay
//!   in the coordinator's sandbox;
//! - the lake's own operators either travel with a codec ([`codec`]) or are left out of
//!   distributed plans: the fast string grouping (`view_groups`) is a single-process
//!   optimisation and DataFusion's own aggregation takes its place, with the same answers.

mod codec;
mod stage;
pub mod worker;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use datafusion::error::DataFusionError;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion_distributed::{DistributedExt, SessionStateBuilderExt, WorkerResolver};
use http::{HeaderMap, HeaderValue};
use url::Url;

pub use codec::LakeCodec;

/// The header that carries the shared secret to a worker.
pub(crate) const SECRET_HEADER: &str = "x-secviz-worker-secret";
/// The header that carries a task's limits to a worker.
pub(crate) const LIMITS_HEADER: &str = "x-secviz-limits";

/// The shortest secret accepted: 16 characters.
pub const MIN_SECRET_LEN: usize = 16;

/// The secret that a coordinator shows a worker. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkerSecret(Arc<str>);

/// Why a secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadSecret {
    #[error("the worker secret is shorter than {MIN_SECRET_LEN} characters")]
    TooShort,
    #[error("the worker secret may only hold visible ASCII characters (no spaces)")]
    Characters,
}

impl WorkerSecret {
    pub fn new(s: &str) -> Result<WorkerSecret, BadSecret> {
        let s = s.trim_end_matches(['\r', '\n']);
        if s.len() < MIN_SECRET_LEN {
            return Err(BadSecret::TooShort);
        }
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(BadSecret::Characters);
        }
        Ok(WorkerSecret(Arc::from(s)))
    }

    /// Whether `given` is this secret, in time that does not depend on where they differ.
    pub fn matches(&self, given: &[u8]) -> bool {
        let mine = self.0.as_bytes();
        mine.len() == given.len() && mine.iter().zip(given).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
    }

    fn header(&self) -> HeaderValue {
        HeaderValue::from_str(&self.0).expect("visible ASCII is a valid header value")
    }
}

impl fmt::Debug for WorkerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WorkerSecret(…)")
    }
}

/// The workers a coordinator sends its queries' stages to.
#[derive(Clone, Debug)]
pub struct Cluster {
    workers: Vec<Url>,
    secret: WorkerSecret,
    bytes_per_partition: usize,
}

/// Why a worker address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadWorkers {
    #[error("no worker address given")]
    None,
    #[error("{0:?} is not a worker address (write it as http://HOST:PORT)")]
    Address(String),
}

impl Cluster {
    /// Parquet bytes one task reads, unless [`Cluster::with_bytes_per_partition`]: the
    /// engine's own default, so small queries stay on the coordinator.
    pub const DEFAULT_BYTES_PER_PARTITION: usize = 16 << 20;

    pub fn new(workers: Vec<Url>, secret: WorkerSecret) -> Result<Cluster, BadWorkers> {
        if workers.is_empty() {
            return Err(BadWorkers::None);
        }
        Ok(Cluster {
            workers,
            secret,
            bytes_per_partition: Cluster::DEFAULT_BYTES_PER_PARTITION,
        })
    }

    /// Parses `http://host:port,http://host:port` (a bare `host:port` gets `http://`).
    pub fn parse_workers(list: &str) -> Result<Vec<Url>, BadWorkers> {
        let urls = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                let full = if s.contains("://") {
                    s.to_string()
                } else {
                    format!("http://{s}")
                };
                match Url::parse(&full) {
                    Ok(u) if u.scheme() == "http" && u.host().is_some() && u.port().is_some() => {
                        Ok(u)
                    }
                    _ => Err(BadWorkers::Address(s.to_string())),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        if urls.is_empty() {
            return Err(BadWorkers::None);
        }
        Ok(urls)
    }

    /// Splits scans into tasks of about this many Parquet bytes (tests make it small so
    /// that small lakes are distributed too).
    pub fn with_bytes_per_partition(mut self, bytes: usize) -> Cluster {
        self.bytes_per_partition = bytes.max(1);
        self
    }

    pub fn workers(&self) -> &[Url] {
        &self.workers
    }

    /// `builder` as a coordinator of this cluster under `limits`. Called before any query
    /// planner of the caller is set ([`crate::query::sandbox`] wraps the distributed one).
    pub(crate) fn coordinate(
        &self,
        builder: SessionStateBuilder,
        limits: StageLimits,
    ) -> Result<SessionStateBuilder, DataFusionError> {
        let mut headers = HeaderMap::new();
        headers.insert(SECRET_HEADER, self.secret.header());
        headers.insert(LIMITS_HEADER, limits.header());
        builder
            .with_distributed_planner()
            .with_distributed_worker_resolver(Workers(self.workers.clone()))
            .with_distributed_user_codec(LakeCodec)
            .with_distributed_passthrough_headers(headers)?
            .with_distributed_file_scan_config_bytes_per_partition(self.bytes_per_partition)?
            // Workers run each task as a job with budget checks around its operators
            // (see `worker`), which the engine's per-node metrics cannot follow.
            .with_distributed_metrics_collection(false)
    }
}

/// A fixed list of workers.
struct Workers(Vec<Url>);

impl WorkerResolver for Workers {
    fn get_urls(&self) -> Result<Vec<Url>, DataFusionError> {
        Ok(self.0.clone())
    }
}

/// The limits a coordinator asks a worker to hold each task of a query to. A worker
/// applies the smaller of these and its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageLimits {
    /// Wall time of one task; `None`: the worker's own limit.
    pub time: Option<Duration>,
    /// Memory of one task; `None`: the worker's own limit.
    pub memory: Option<usize>,
    /// A member's query: budget checks around every operator.
    pub sandbox: bool,
    /// Whether operators may spill to disk.
    pub spill: bool,
}

impl StageLimits {
    fn header(&self) -> HeaderValue {
        let text = format!(
            "t={};m={};s={};p={}",
            self.time.map_or(0, |t| t.as_millis().max(1) as u64),
            self.memory.unwrap_or(0),
            u8::from(self.sandbox),
            u8::from(self.spill)
        );
        HeaderValue::from_str(&text).expect("digits are a valid header value")
    }

    /// The limits in `headers`; the strictest ones when they are missing or garbled (only
    /// holders of the secret get this far, but a bug must not lift the limits).
    pub(crate) fn from_headers(headers: &HeaderMap) -> StageLimits {
        let strict = StageLimits {
            time: None,
            memory: None,
            sandbox: true,
            spill: false,
        };
        let Some(text) = headers.get(LIMITS_HEADER).and_then(|v| v.to_str().ok()) else {
            return strict;
        };
        let mut out = strict;
        for part in text.split(';') {
            let Some((k, v)) = part.split_once('=') else {
                return strict;
            };
            let Ok(n) = v.parse::<u64>() else {
                return strict;
            };
            match k {
                "t" => out.time = (n > 0).then(|| Duration::from_millis(n)),
                "m" => out.memory = (n > 0).then_some(n as usize),
                "s" => out.sandbox = n != 0,
                "p" => out.spill = n != 0,
                _ => return strict,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        let s = WorkerSecret::new("0123456789abcdef").unwrap();
        assert!(s.matches(b"0123456789abcdef"));
        assert!(!s.matches(b"0123456789abcdeF"));
        assert!(!s.matches(b"0123456789abcdef0"));
        assert!(!s.matches(b"0123456789abcde"));
        assert!(!s.matches(b""));
        assert_eq!(WorkerSecret::new("short"), Err(BadSecret::TooShort));
        assert_eq!(
            WorkerSecret::new("0123456789 abcdef"),
            Err(BadSecret::Characters)
        );
        assert!(!format!("{s:?}").contains("0123"));
    }

    #[test]
    fn limits_travel_and_garbage_is_strict() {
        let l = StageLimits {
            time: Some(Duration::from_millis(1500)),
            memory: Some(1 << 20),
            sandbox: true,
            spill: false,
        };
        let mut h = HeaderMap::new();
        h.insert(LIMITS_HEADER, l.header());
        assert_eq!(StageLimits::from_headers(&h), l);
        let open = StageLimits {
            time: None,
            memory: None,
            sandbox: false,
            spill: true,
        };
        h.insert(LIMITS_HEADER, open.header());
        assert_eq!(StageLimits::from_headers(&h), open);
        h.insert(LIMITS_HEADER, HeaderValue::from_static("t=1;s=0;x=2"));
        assert!(StageLimits::from_headers(&h).sandbox);
        assert!(StageLimits::from_headers(&HeaderMap::new()).sandbox);
    }

    #[test]
    fn worker_lists() {
        let urls = Cluster::parse_workers("127.0.0.1:9001, http://127.0.0.1:9002").unwrap();
        assert_eq!(urls.len(), 2);
        assert_eq!(urls[0].as_str(), "http://127.0.0.1:9001/");
        assert!(matches!(
            Cluster::parse_workers("127.0.0.1"),
            Err(BadWorkers::Address(_))
        ));
        assert!(matches!(
            Cluster::parse_workers("https://h:1"),
            Err(BadWorkers::Address(_))
        ));
        assert_eq!(Cluster::parse_workers(" , "), Err(BadWorkers::None));
    }
}
