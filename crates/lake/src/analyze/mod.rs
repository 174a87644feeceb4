//! Built-in analyses: named queries with parameters that return typed findings,
//! shared by `secviz analyze` and the portal.
//!
//! Every analysis reads the `events` table of a session that holds only the datasets
//! asked for, so the SQL is fixed text and parameters are bound values, never spliced
//! into it. Each finding carries a notability score in 0..=1 so that findings of
//! different analyses can be ranked together ("most notable first"); the scores are
//! heuristics documented with each analysis.

mod cells;
mod dns;
mod network;
mod time;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;
use serde::Serialize;

use crate::error::LakeError;
use crate::lake::Lake;
use crate::query::{Access, QueryError, QueryLimits};

/// A parameter an analysis takes.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ParamSpec {
    pub name: &'static str,
    pub default: &'static str,
    pub description: &'static str,
}

/// An analysis: its name (for the command line and URLs), title and parameters.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct AnalysisSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub params: &'static [ParamSpec],
}

const LIMIT: ParamSpec = ParamSpec {
    name: "limit",
    default: "10",
    description: "findings to return at most",
};

/// Every built-in analysis, in the order `secviz analyze` lists them.
pub const ANALYSES: &[AnalysisSpec] = &[
    AnalysisSpec {
        name: "top-talkers",
        title: "Top talkers",
        description: "Sources with the most events and the most bytes.",
        params: &[LIMIT],
    },
    AnalysisSpec {
        name: "top-ports",
        title: "Top destination ports",
        description: "Destination ports by events, with their protocol and number of sources.",
        params: &[LIMIT],
    },
    AnalysisSpec {
        name: "events-over-time",
        title: "Events over time",
        description: "Events per time bucket (bucket size chosen from the time range), and the buckets that spike.",
        params: &[ParamSpec {
            name: "buckets",
            default: "60",
            description: "aim for about this many buckets",
        }],
    },
    AnalysisSpec {
        name: "fan-out",
        title: "Fan-out (scanners)",
        description: "Sources by distinct destinations and by distinct destination ports.",
        params: &[
            LIMIT,
            ParamSpec {
                name: "min",
                default: "10",
                description: "distinct destinations or ports to report a source",
            },
        ],
    },
    AnalysisSpec {
        name: "dns-fixed-port",
        title: "DNS from one fixed source port",
        description: "Clients whose DNS queries all leave from the same source port (spoofable, Kaminsky).",
        params: &[
            LIMIT,
            ParamSpec {
                name: "min",
                default: "5",
                description: "queries a client must have sent",
            },
        ],
    },
    AnalysisSpec {
        name: "rare-destinations",
        title: "Rare destinations",
        description: "Destinations seen in very few events, from a single source.",
        params: &[
            LIMIT,
            ParamSpec {
                name: "max",
                default: "2",
                description: "most events for a destination to count as rare",
            },
        ],
    },
    AnalysisSpec {
        name: "beacons",
        title: "Beacon candidates",
        description: "Source/destination pairs whose events come at regular intervals (low coefficient of variation).",
        params: &[
            LIMIT,
            ParamSpec {
                name: "min",
                default: "8",
                description: "events a pair must have",
            },
            ParamSpec {
                name: "max-cv",
                default: "0.25",
                description: "largest standard deviation / mean of the gaps",
            },
            ParamSpec {
                name: "min-interval",
                default: "1",
                description: "smallest mean gap in seconds (bursts are not beacons)",
            },
        ],
    },
    AnalysisSpec {
        name: "dns",
        title: "DNS names, query types and NXDOMAIN",
        description: "Top query names and types, the NXDOMAIN ratio, and clients with many NXDOMAIN answers.",
        params: &[LIMIT],
    },
];

/// Parameter values given by the caller (`name=value`); missing ones take defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(pub BTreeMap<String, String>);

impl Params {
    /// Parses `name=value` pairs.
    pub fn parse<'a>(pairs: impl IntoIterator<Item = &'a str>) -> Result<Params, AnalysisError> {
        let mut map = BTreeMap::new();
        for p in pairs {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| AnalysisError::BadParam(format!("{p:?}: expected name=value")))?;
            map.insert(k.trim().to_string(), v.trim().to_string());
        }
        Ok(Params(map))
    }

    fn value(&self, spec: &AnalysisSpec, name: &str) -> String {
        let default = spec
            .params
            .iter()
            .find(|p| p.name == name)
            .map_or("", |p| p.default);
        self.0
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }

    fn number<T: std::str::FromStr>(
        &self,
        spec: &AnalysisSpec,
        name: &str,
    ) -> Result<T, AnalysisError> {
        let v = self.value(spec, name);
        v.parse().map_err(|_| {
            AnalysisError::BadParam(format!("{}: {name}={v:?} is not a valid number", spec.name))
        })
    }

    /// Refuses parameters the analysis does not take (a typo would silently do nothing).
    fn check(&self, spec: &AnalysisSpec) -> Result<(), AnalysisError> {
        for k in self.0.keys() {
            if !spec.params.iter().any(|p| p.name == k) {
                let known: Vec<_> = spec.params.iter().map(|p| p.name).collect();
                return Err(AnalysisError::BadParam(format!(
                    "{} takes no parameter {k:?} (it takes: {})",
                    spec.name,
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// What one finding says, by kind. Serialized with a `kind` tag for the portal.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Detail {
    Talker {
        ip: String,
        events: u64,
        bytes: u64,
        share: f64,
    },
    Port {
        port: i64,
        protocol: Option<String>,
        events: u64,
        sources: u64,
    },
    Histogram {
        bucket_seconds: u64,
        buckets: Vec<(i64, u64)>,
    },
    Spike {
        start_us: i64,
        bucket_seconds: u64,
        events: u64,
        typical: f64,
    },
    FanOut {
        src: String,
        destinations: u64,
        ports: u64,
        events: u64,
    },
    FixedSourcePort {
        client: String,
        port: i64,
        queries: u64,
    },
    RareDestination {
        dst: String,
        events: u64,
        source: Option<String>,
        first_us: Option<i64>,
    },
    Beacon {
        src: String,
        dst: String,
        events: u64,
        mean_interval_s: f64,
        stddev_s: f64,
        cv: f64,
    },
    DnsName {
        name: String,
        queries: u64,
    },
    DnsType {
        qtype: String,
        queries: u64,
    },
    Nxdomain {
        client: Option<String>,
        queries: u64,
        nxdomain: u64,
        ratio: f64,
    },
}

/// One finding of an analysis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub analysis: &'static str,
    /// Notability, 0 (context) to 1 (look at this now).
    pub score: f64,
    /// One line for people (values from logs are not escaped here: escape when shown).
    pub headline: String,
    pub detail: Detail,
}

/// The result of one analysis.
#[derive(Clone, Debug, Serialize)]
pub struct AnalysisResult {
    pub name: &'static str,
    pub title: &'static str,
    pub findings: Vec<Finding>,
    #[serde(skip)]
    pub elapsed: Duration,
}

/// Why an analysis could not run.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("no analysis named {0:?}; see `secviz analyze --list`")]
    Unknown(String),
    #[error("bad parameter: {0}")]
    BadParam(String),
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("{0}")]
    Query(#[from] QueryError),
}

/// The spec of an analysis by name.
pub fn spec(name: &str) -> Option<&'static AnalysisSpec> {
    ANALYSES.iter().find(|a| a.name == name)
}

impl Lake {
    /// Runs one analysis over the datasets in `access`.
    pub async fn analyze(
        &self,
        access: &Access,
        name: &str,
        params: &Params,
        limits: &QueryLimits,
    ) -> Result<AnalysisResult, AnalysisError> {
        let spec = spec(name).ok_or_else(|| AnalysisError::Unknown(name.to_string()))?;
        params.check(spec)?;
        let ctx = self.session(access, limits).await?;
        run_one(&ctx, spec, params, limits).await
    }

    /// Runs every analysis with default parameters and returns all findings, most
    /// notable first.
    pub async fn analyze_all(
        &self,
        access: &Access,
        limits: &QueryLimits,
    ) -> Result<Vec<Finding>, AnalysisError> {
        let ctx = self.session(access, limits).await?;
        let mut all = Vec::new();
        for spec in ANALYSES {
            all.extend(
                run_one(&ctx, spec, &Params::default(), limits)
                    .await?
                    .findings,
            );
        }
        all.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(all)
    }
}

async fn run_one(
    ctx: &SessionContext,
    spec: &'static AnalysisSpec,
    params: &Params,
    limits: &QueryLimits,
) -> Result<AnalysisResult, AnalysisError> {
    let started = Instant::now();
    let q = Sql { ctx, limits };
    let findings = match spec.name {
        "top-talkers" => network::top_talkers(&q, params.number(spec, "limit")?).await?,
        "top-ports" => network::top_ports(&q, params.number(spec, "limit")?).await?,
        "events-over-time" => time::events_over_time(&q, params.number(spec, "buckets")?).await?,
        "fan-out" => {
            network::fan_out(
                &q,
                params.number(spec, "limit")?,
                params.number(spec, "min")?,
            )
            .await?
        }
        "dns-fixed-port" => {
            dns::fixed_port(
                &q,
                params.number(spec, "limit")?,
                params.number(spec, "min")?,
            )
            .await?
        }
        "rare-destinations" => {
            network::rare_destinations(
                &q,
                params.number(spec, "limit")?,
                params.number(spec, "max")?,
            )
            .await?
        }
        "beacons" => {
            let b = time::BeaconParams {
                limit: params.number(spec, "limit")?,
                min_events: params.number(spec, "min")?,
                max_cv: params.number(spec, "max-cv")?,
                min_interval_s: params.number(spec, "min-interval")?,
            };
            time::beacons(&q, &b).await?
        }
        "dns" => dns::overview(&q, params.number(spec, "limit")?).await?,
        other => return Err(AnalysisError::Unknown(other.to_string())),
    };
    Ok(AnalysisResult {
        name: spec.name,
        title: spec.title,
        findings,
        elapsed: started.elapsed(),
    })
}

/// Runs the fixed SQL of the analyses with bound parameters under the caller's limits.
pub(crate) struct Sql<'a> {
    ctx: &'a SessionContext,
    limits: &'a QueryLimits,
}

impl Sql<'_> {
    /// Runs `sql` with `$1, $2, ...` bound to `params`, keeping at most `limit` rows.
    pub async fn rows(
        &self,
        sql: &str,
        params: Vec<ScalarValue>,
        limit: Option<usize>,
    ) -> Result<Vec<RecordBatch>, QueryError> {
        let run = async {
            let df = self.ctx.sql(sql).await?.with_param_values(params)?;
            let df = match limit {
                Some(n) => df.limit(0, Some(n))?,
                None => df,
            };
            df.collect().await
        };
        let result = match self.limits.timeout {
            Some(t) => tokio::time::timeout(t, run).await.map_err(|_| {
                QueryError::new(
                    crate::query::QueryErrorKind::Limit(crate::query::Limit::Time),
                    "the analysis ran out of time",
                )
            })?,
            None => run.await,
        };
        result.map_err(|e| QueryError::from_datafusion(e, sql))
    }
}
