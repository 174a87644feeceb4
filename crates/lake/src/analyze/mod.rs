//! Built-in analyses: named queries with parameters that return typed findings,
//! shared by `secviz analyze` and the portal.
//!
//! Every analysis reads the `events` table of a session that holds only the datasets
//! asked for, so the SQL is fixed text and parameters are bound values, never spliced
//! into it. Each finding is scored by how unusual it is for this dataset, on one scale
//! for every analysis ([`baseline`]), so findings of different analyses rank together
//! and "notable" means the same everywhere. An analysis whose data is missing (no DNS
//! names, no login outcomes, ...) says so instead of finding nothing.

mod auth;
pub mod baseline;
pub mod cells;
mod dns;
mod flows;
mod network;
pub(crate) mod summaries;
mod time;
mod web;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;
use serde::Serialize;

use crate::error::LakeError;
use crate::inside::InsideNetworks;
use crate::lake::Lake;
use crate::manifest::Manifest;
use crate::query::{Access, QueryError, QueryLimits};
use crate::summary::{Summary, Tables};

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
    /// What the dataset must hold for the analysis to say anything.
    pub needs: &'static [Need],
}

const LIMIT: ParamSpec = ParamSpec {
    name: "limit",
    default: "10",
    description: "findings to return at most",
};

/// What an analysis needs of a dataset, checked before it runs (see [`Facts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    Time,
    SrcIp,
    DstIp,
    DstPort,
    SrcPort,
    DnsQueries,
    DnsNames,
    LoginOutcomes,
    Durations,
    DirectionalBytes,
    HttpStatus,
    /// The dataset's inside networks are known (see `crate::inside`).
    InsideNetworks,
}

impl Need {
    /// What is missing, in the words of the data.
    pub fn describe(self) -> &'static str {
        match self {
            Need::Time => "event times (time)",
            Need::SrcIp => "source addresses (src_ip)",
            Need::DstIp => "destination addresses (dst_ip)",
            Need::DstPort => "destination ports (dst_port)",
            Need::SrcPort => "source ports (src_port)",
            Need::DnsQueries => "DNS queries (to port 53, or with query names)",
            Need::DnsNames => "DNS query names (dns_qname), as in Zeek dns or tcpdump logs",
            Need::LoginOutcomes => "login outcomes (auth_result), as in sshd or Windows logon logs",
            Need::Durations => {
                "connection durations (duration), as in Zeek conn logs or flow records"
            }
            Need::DirectionalBytes => {
                "bytes per direction (src_bytes and dst_bytes), as in Zeek conn logs or flow records"
            }
            Need::HttpStatus => "HTTP status codes (http_status), as in web access logs",
            Need::InsideNetworks => {
                "to know which networks are inside, which this anonymized dataset does not \
                 record (it was ingested before secviz kept them; ingest it again)"
            }
        }
    }
}

/// Every built-in analysis, in the order `secviz analyze` lists them.
pub const ANALYSES: &[AnalysisSpec] = &[
    AnalysisSpec {
        name: "top-talkers",
        title: "Top talkers",
        description: "Sources with the most events and the most bytes, against the typical source.",
        params: &[LIMIT],
        needs: &[Need::SrcIp],
    },
    AnalysisSpec {
        name: "top-ports",
        title: "Top destination ports",
        description: "Destination ports by events, with their protocol and number of sources (context).",
        params: &[LIMIT],
        needs: &[Need::DstPort],
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
        needs: &[Need::Time],
    },
    AnalysisSpec {
        name: "fan-out",
        title: "Fan-out (scanners)",
        description: "Sources that reach far more destinations or ports than the typical source.",
        params: &[
            LIMIT,
            ParamSpec {
                name: "min",
                default: "10",
                description: "distinct destinations or ports to report a source",
            },
        ],
        needs: &[Need::SrcIp, Need::DstIp],
    },
    AnalysisSpec {
        name: "fan-in",
        title: "Fan-in (one rare outside server, many inside callers)",
        description: "Outside servers on a port no other server uses here, called by many inside hosts (shared command and control).",
        params: &[
            LIMIT,
            ParamSpec {
                name: "min",
                default: "3",
                description: "inside hosts that must call the server",
            },
        ],
        needs: &[
            Need::SrcIp,
            Need::DstIp,
            Need::DstPort,
            Need::InsideNetworks,
        ],
    },
    AnalysisSpec {
        name: "password-guessing",
        title: "Password guessing and spraying",
        description: "Clients with far more failed logins than the typical client: many tries at few accounts (guessing) or a few at many (spraying).",
        params: &[
            LIMIT,
            ParamSpec {
                name: "min",
                default: "5",
                description: "failed logins to report a client",
            },
        ],
        needs: &[Need::SrcIp, Need::LoginOutcomes],
    },
    AnalysisSpec {
        name: "web-probing",
        title: "Web probing",
        description: "Clients that ask a web server for far more missing pages (404) than the typical client: scanners looking for vulnerable software.",
        params: &[
            LIMIT,
            ParamSpec {
                name: "min",
                default: "10",
                description: "distinct missing paths to report a client",
            },
        ],
        needs: &[Need::SrcIp, Need::HttpStatus],
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
        needs: &[Need::SrcIp, Need::SrcPort, Need::DnsQueries],
    },
    AnalysisSpec {
        name: "dns-tunnel",
        title: "DNS tunnelling",
        description: "Domains with far more distinct, long, random-looking names than the typical domain.",
        params: &[
            LIMIT,
            ParamSpec {
                name: "min",
                default: "20",
                description: "distinct names under the domain",
            },
            ParamSpec {
                name: "min-length",
                default: "20",
                description: "mean length of the part before the domain, in characters",
            },
        ],
        needs: &[Need::DnsNames],
    },
    AnalysisSpec {
        name: "rare-destinations",
        title: "Rare destinations",
        description: "Destinations seen in very few events, from a single source (weak evidence alone).",
        params: &[
            LIMIT,
            ParamSpec {
                name: "max",
                default: "2",
                description: "most events for a destination to count as rare",
            },
        ],
        needs: &[Need::DstIp],
    },
    AnalysisSpec {
        name: "beacons",
        title: "Beacon candidates",
        description: "Source/destination pairs whose events come at regular intervals, steadier than the typical pair.",
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
        needs: &[Need::SrcIp, Need::DstIp, Need::Time],
    },
    AnalysisSpec {
        name: "long-connections",
        title: "Long connections",
        description: "Connections that stay open far longer than the typical connection (tunnels, remote shells).",
        params: &[
            LIMIT,
            ParamSpec {
                name: "min",
                default: "1800",
                description: "shortest duration to report, in seconds",
            },
        ],
        needs: &[Need::SrcIp, Need::DstIp, Need::Durations],
    },
    AnalysisSpec {
        name: "exfiltration",
        title: "Exfiltration by byte ratio",
        description: "Inside hosts that send an outside host far more than they receive, and more than the typical pair sends.",
        params: &[
            LIMIT,
            ParamSpec {
                name: "min-bytes",
                default: "1000000",
                description: "bytes sent to report a pair",
            },
            ParamSpec {
                name: "ratio",
                default: "10",
                description: "bytes sent per byte received to report a pair",
            },
        ],
        needs: &[
            Need::SrcIp,
            Need::DstIp,
            Need::DirectionalBytes,
            Need::InsideNetworks,
        ],
    },
    AnalysisSpec {
        name: "dns",
        title: "DNS names, query types and NXDOMAIN",
        description: "Top query names and types, the NXDOMAIN ratio, and clients with far more NXDOMAIN answers than the typical client.",
        params: &[LIMIT],
        needs: &[Need::DnsNames],
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
    pub fn check(&self, spec: &AnalysisSpec) -> Result<(), AnalysisError> {
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
        /// `sources` is estimated from the summaries' sketches (standard error 1.6 %).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        sources_estimated: bool,
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
        /// A count above is estimated from the summaries' sketches (standard error 1.6 %).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        estimated: bool,
    },
    FanIn {
        dst: String,
        port: i64,
        sources: u64,
        events: u64,
        /// `sources` is estimated from the summaries' sketches (standard error 1.6 %).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        sources_estimated: bool,
    },
    PasswordGuessing {
        src: String,
        failures: u64,
        accounts: u64,
        successes: u64,
        spraying: bool,
        /// An account the client tried, and one it got into (if any).
        example_account: Option<String>,
        got_in_as: Option<String>,
        /// `accounts` is estimated from the summaries' sketches (standard error 1.6 %).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        accounts_estimated: bool,
    },
    FixedSourcePort {
        client: String,
        port: i64,
        queries: u64,
    },
    DnsTunnel {
        domain: String,
        names: u64,
        queries: u64,
        clients: u64,
        mean_length: f64,
        /// Shannon entropy of the names' characters before the domain, bits per character,
        /// over the first 64 names in text order.
        entropy_bits: f64,
        /// `names` or `clients` is estimated from the summaries' sketches (standard error
        /// 1.6 %).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        estimated: bool,
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
    LongConnection {
        src: String,
        dst: String,
        port: Option<i64>,
        seconds: f64,
        connections: u64,
    },
    WebProbing {
        src: String,
        missing_paths: u64,
        requests: u64,
        example_path: Option<String>,
        /// `missing_paths` is estimated from the summaries' sketches (standard error 1.6 %).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        missing_estimated: bool,
    },
    Exfiltration {
        src: String,
        dst: String,
        sent: u64,
        received: u64,
    },
    DnsName {
        name: String,
        /// Its queries; with `queries_at_most`, the least it had: the summaries keep the
        /// busiest names counted exactly and the others from when they became busy
        /// ([`crate::summary::TopNames`]).
        queries: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        queries_at_most: Option<u64>,
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

/// The events a finding is about, as a selection of the linked views: columns and their
/// values, and a time range (microseconds, `[from, to)`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Focus {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<[i64; 2]>,
}

impl Focus {
    /// The selection of the linked views (`?sel=` of the portal and of `secviz view`) that
    /// shows these events: each column's value (a number where the column holds numbers),
    /// and the time range. `None` when the finding is about no events in particular.
    pub fn selection_json(&self) -> Option<String> {
        use serde_json::{Value, json};
        if self.values.is_empty() && self.time.is_none() {
            return None;
        }
        let schema = secviz_parse::schema::event_schema();
        let mut values = serde_json::Map::new();
        for (col, v) in &self.values {
            let numeric = schema
                .field_with_name(col)
                .is_ok_and(|f| f.data_type().is_integer());
            let value = match v.parse::<i64>() {
                Ok(n) if numeric => json!(n),
                _ => json!(v),
            };
            values.insert(col.clone(), Value::Array(vec![value]));
        }
        let mut sel = serde_json::Map::new();
        if !values.is_empty() {
            sel.insert("values".into(), Value::Object(values));
        }
        if let Some(t) = self.time {
            sel.insert("time".into(), json!(t));
        }
        Some(Value::Object(sel).to_string())
    }

    /// A focus on columns equal to values.
    pub fn on<const N: usize>(pairs: [(&str, String); N]) -> Focus {
        Focus {
            values: pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            time: None,
        }
    }
}

/// One finding of an analysis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub analysis: &'static str,
    /// How unusual this is for the dataset, 0 (typical or context) to 1; notable from
    /// [`baseline::NOTABLE`] (see [`baseline`] for the scale).
    pub score: f64,
    /// Robust deviations above the dataset's typical value (`None`: context, no baseline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub z: Option<f64>,
    /// One plain sentence for people (values from logs are not escaped here: escape when
    /// shown).
    pub headline: String,
    pub detail: Detail,
    /// What to select in the views to see it.
    pub focus: Focus,
}

impl Finding {
    /// Worth an analyst's look ([`baseline::NOTABLE`] or more).
    pub fn notable(&self) -> bool {
        self.score >= baseline::NOTABLE
    }
}

/// Where an analysis found its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Read {
    /// The summaries kept beside the data files ([`crate::summary`]).
    Summaries,
    /// The events themselves.
    Rows,
}

/// The result of one analysis.
#[derive(Clone, Debug, Serialize)]
pub struct AnalysisResult {
    pub name: &'static str,
    pub title: &'static str,
    pub findings: Vec<Finding>,
    /// Where it read its answer.
    pub read: Read,
    /// Why the analysis could not run on this data (then there are no findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_run: Option<String>,
    #[serde(skip)]
    pub elapsed: Duration,
}

/// An analysis that could not run, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NotRun {
    pub analysis: &'static str,
    pub title: &'static str,
    pub reason: String,
}

/// Every analysis over a dataset: findings most unusual first, and those that could not
/// run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub not_run: Vec<NotRun>,
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

/// What the datasets analysed hold: counted once, in one pass, before any analysis runs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Facts {
    counts: BTreeMap<&'static str, u64>,
    inside: Option<InsideNetworks>,
}

/// The columns (and conditions) [`Facts`] counts, by the need they answer.
const FACT_SQL: &[(Need, &str)] = &[
    (Need::Time, "count(time)"),
    (Need::SrcIp, "count(src_ip)"),
    (Need::DstIp, "count(dst_ip)"),
    (Need::DstPort, "count(dst_port)"),
    (Need::SrcPort, "count(src_port)"),
    (
        Need::DnsQueries,
        "sum(CASE WHEN dst_port = 53 OR dns_qname IS NOT NULL THEN 1 ELSE 0 END)",
    ),
    (Need::DnsNames, "count(dns_qname)"),
    (Need::LoginOutcomes, "count(auth_result)"),
    (Need::HttpStatus, "count(http_status)"),
    (Need::Durations, "count(duration)"),
    (
        Need::DirectionalBytes,
        "sum(CASE WHEN src_bytes IS NOT NULL AND dst_bytes IS NOT NULL THEN 1 ELSE 0 END)",
    ),
];

impl Facts {
    /// The same counts from the datasets' summaries (exact: they count every row).
    fn from_summary(s: &Summary, inside: Option<InsideNetworks>) -> Facts {
        let counts = FACT_SQL
            .iter()
            .map(|(need, _)| {
                let key = need_key(*need);
                (key, s.facts.get(key).copied().unwrap_or(0))
            })
            .collect();
        Facts { counts, inside }
    }

    async fn count(q: &Sql<'_>, inside: Option<InsideNetworks>) -> Result<Facts, QueryError> {
        let sql = format!(
            "SELECT {} FROM events",
            FACT_SQL
                .iter()
                .map(|(_, s)| *s)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let batches = q.rows(&sql, vec![], None).await?;
        let mut counts = BTreeMap::new();
        if let Some(row) = cells::each_row(&batches, |r| {
            Some((0..FACT_SQL.len()).map(|i| r.count(i)).collect::<Vec<_>>())
        })
        .into_iter()
        .next()
        {
            for ((need, _), n) in FACT_SQL.iter().zip(row) {
                counts.insert(need_key(*need), n);
            }
        }
        Ok(Facts { counts, inside })
    }

    /// Why `spec` cannot run here, if it cannot.
    fn missing(&self, spec: &AnalysisSpec) -> Option<String> {
        let missing: Vec<&str> = spec
            .needs
            .iter()
            .filter(|n| match n {
                Need::InsideNetworks => self.inside.is_none(),
                other => self.counts.get(need_key(**other)).copied().unwrap_or(0) == 0,
            })
            .map(|n| n.describe())
            .collect();
        if missing.is_empty() {
            None
        } else if missing == [Need::InsideNetworks.describe()] {
            Some(format!("It needs {}.", missing[0]))
        } else {
            Some(format!(
                "It needs {}, and this data has none.",
                missing.join(" and ")
            ))
        }
    }
}

fn need_key(n: Need) -> &'static str {
    match n {
        Need::Time => "time",
        Need::SrcIp => "src_ip",
        Need::DstIp => "dst_ip",
        Need::DstPort => "dst_port",
        Need::SrcPort => "src_port",
        Need::DnsQueries => "dns_queries",
        Need::DnsNames => "dns_qname",
        Need::LoginOutcomes => "auth_result",
        Need::Durations => "duration",
        Need::DirectionalBytes => "directional_bytes",
        Need::HttpStatus => "http_status",
        Need::InsideNetworks => "inside",
    }
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
        let q = Sql { ctx: &ctx, limits };
        let wanted = summaries::tables_of(spec.name);
        let (facts, summary) = self.facts(access, &q, wanted).await?;
        run_one(&q, &facts, summary.as_deref(), spec, params).await
    }

    /// Runs every analysis with default parameters: all findings, most unusual first, and
    /// the analyses that could not run on this data.
    pub async fn analyze_all(
        &self,
        access: &Access,
        limits: &QueryLimits,
    ) -> Result<Report, AnalysisError> {
        let ctx = self.session(access, limits).await?;
        let q = Sql { ctx: &ctx, limits };
        let wanted = ANALYSES
            .iter()
            .fold(Tables::NONE, |t, a| t.union(summaries::tables_of(a.name)));
        let (facts, summary) = self.facts(access, &q, wanted).await?;
        run_all(&q, &facts, summary.as_deref(), None).await
    }

    /// Runs every analysis with default parameters over the events of `access` with
    /// `from <= time < to` (microseconds): what a dashboard's findings panel shows for its
    /// moving window. The summaries describe whole files, not a window, so this reads the
    /// rows (the window is pushed down to the files as a time filter).
    ///
    /// `only` narrows it to the analyses named (a dashboard asks the window before its own
    /// only for the analyses that found something in its own).
    pub async fn analyze_all_between(
        &self,
        access: &Access,
        window: [i64; 2],
        only: Option<&[&str]>,
        limits: &QueryLimits,
    ) -> Result<Report, AnalysisError> {
        let ctx = self.window_session(access, window, limits).await?;
        let q = Sql { ctx: &ctx, limits };
        let manifests = self.manifests_of(access).await?;
        let facts = Facts::count(&q, inside_networks(&manifests)).await?;
        run_all(&q, &facts, None, only).await
    }

    /// Runs one analysis over the events of `access` with `from <= time < to` (see
    /// [`Lake::analyze_all_between`]).
    pub async fn analyze_between(
        &self,
        access: &Access,
        name: &str,
        params: &Params,
        window: [i64; 2],
        limits: &QueryLimits,
    ) -> Result<AnalysisResult, AnalysisError> {
        let spec = spec(name).ok_or_else(|| AnalysisError::Unknown(name.to_string()))?;
        params.check(spec)?;
        let ctx = self.window_session(access, window, limits).await?;
        let q = Sql { ctx: &ctx, limits };
        let manifests = self.manifests_of(access).await?;
        let facts = Facts::count(&q, inside_networks(&manifests)).await?;
        run_one(&q, &facts, None, spec, params).await
    }

    /// A session whose `events` holds only the events with `from <= time < to`.
    async fn window_session(
        &self,
        access: &Access,
        [from, to]: [i64; 2],
        limits: &QueryLimits,
    ) -> Result<SessionContext, AnalysisError> {
        use datafusion::prelude::{col, lit};
        let ctx = self.session(access, limits).await?;
        let ts = |us: i64| {
            lit(ScalarValue::TimestampMicrosecond(
                Some(us),
                Some("UTC".into()),
            ))
        };
        let time = col(secviz_parse::schema::col::TIME);
        let swap = async {
            let window = ctx
                .table(crate::name::EVENTS_TABLE)
                .await?
                .filter(time.clone().gt_eq(ts(from)).and(time.lt(ts(to))))?
                .into_view();
            ctx.deregister_table(crate::name::EVENTS_TABLE)?;
            ctx.register_table(crate::name::EVENTS_TABLE, window)?;
            Ok::<_, datafusion::error::DataFusionError>(())
        };
        swap.await
            .map_err(|e| QueryError::from_datafusion(e, "the time window"))?;
        Ok(ctx)
    }

    /// What the datasets in `access` hold, and their merged summary when every file has
    /// one (and summaries are not turned off): the counts come from it then, not from a
    /// pass over every row. Only the summaries' tables in `wanted` are read.
    async fn facts(
        &self,
        access: &Access,
        q: &Sql<'_>,
        wanted: Tables,
    ) -> Result<(Facts, Option<std::sync::Arc<Summary>>), AnalysisError> {
        let manifests = self.manifests_of(access).await?;
        let inside = inside_networks(&manifests);
        let summary = match self.summaries {
            true => summaries::load(self, &manifests, wanted).await?,
            false => None,
        };
        let facts = match summary.as_deref() {
            Some(s) => Facts::from_summary(s, inside),
            None => Facts::count(q, inside).await?,
        };
        Ok((facts, summary))
    }

    /// The manifests of the datasets in `access` (names that do not exist are left out).
    async fn manifests_of(&self, access: &Access) -> Result<Vec<Manifest>, LakeError> {
        Ok(match access {
            Access::All => self.datasets().await?,
            Access::Only(names) => {
                let mut out = Vec::new();
                for n in names {
                    if let Some(m) = self.manifest(n).await? {
                        out.push(m);
                    }
                }
                out
            }
        })
    }
}

/// The inside networks of the datasets, as stored; `None` when one of them is anonymized
/// and does not record its networks.
fn inside_networks(manifests: &[Manifest]) -> Option<InsideNetworks> {
    let private = InsideNetworks::private();
    let mut all = Vec::new();
    for m in manifests {
        match (&m.inside, &m.anonymization) {
            (Some(i), _) => all.push(i.clone()),
            (None, None) => all.push(private.clone()),
            (None, Some(_)) => return None,
        }
    }
    if all.is_empty() {
        all.push(private);
    }
    Some(InsideNetworks::union(&all))
}

/// Most unusual first; ties by analysis order and then by headline, so the order is stable.
fn sort_findings(findings: &mut [Finding]) {
    let order = |a: &str| {
        ANALYSES
            .iter()
            .position(|s| s.name == a)
            .unwrap_or(usize::MAX)
    };
    findings.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| order(a.analysis).cmp(&order(b.analysis)))
            .then_with(|| a.headline.cmp(&b.headline))
    });
}

/// Every analysis with default parameters (or those in `only`): findings most unusual
/// first, and those that could not run.
async fn run_all(
    q: &Sql<'_>,
    facts: &Facts,
    summary: Option<&Summary>,
    only: Option<&[&str]>,
) -> Result<Report, AnalysisError> {
    let mut findings = Vec::new();
    let mut not_run = Vec::new();
    for spec in ANALYSES {
        if only.is_some_and(|names| !names.contains(&spec.name)) {
            continue;
        }
        let r = run_one(q, facts, summary, spec, &Params::default()).await?;
        match r.not_run {
            Some(reason) => not_run.push(NotRun {
                analysis: spec.name,
                title: spec.title,
                reason,
            }),
            None => findings.extend(r.findings),
        }
    }
    sort_findings(&mut findings);
    Ok(Report { findings, not_run })
}

async fn run_one(
    q: &Sql<'_>,
    facts: &Facts,
    summary: Option<&Summary>,
    spec: &'static AnalysisSpec,
    params: &Params,
) -> Result<AnalysisResult, AnalysisError> {
    let started = Instant::now();
    if let Some(reason) = facts.missing(spec) {
        return Ok(AnalysisResult {
            name: spec.name,
            title: spec.title,
            findings: vec![],
            read: if summary.is_some() {
                Read::Summaries
            } else {
                Read::Rows
            },
            not_run: Some(reason),
            elapsed: started.elapsed(),
        });
    }
    let limit = || params.number::<usize>(spec, "limit");
    let min = || params.number::<i64>(spec, "min");
    let inside = || facts.inside.clone().unwrap_or_else(InsideNetworks::private);
    let (mut findings, read) = match spec.name {
        "top-talkers" => network::top_talkers(q, summary, limit()?).await?,
        "top-ports" => network::top_ports(q, summary, limit()?).await?,
        "events-over-time" => {
            time::events_over_time(q, summary, params.number(spec, "buckets")?).await?
        }
        "rare-destinations" => {
            network::rare_destinations(q, summary, limit()?, params.number(spec, "max")?).await?
        }
        "fan-out" => network::fan_out(q, summary, limit()?, min()?).await?,
        "fan-in" => flows::fan_in(q, summary, &inside(), limit()?, min()?).await?,
        "password-guessing" => auth::password_guessing(q, summary, limit()?, min()?).await?,
        "web-probing" => web::probing(q, summary, limit()?, min()?).await?,
        "dns-fixed-port" => dns::fixed_port(q, summary, limit()?, min()?).await?,
        "dns-tunnel" => {
            let min_length = params.number(spec, "min-length")?;
            dns::tunnel(q, summary, limit()?, min()?, min_length).await?
        }
        "beacons" => {
            let b = time::BeaconParams {
                limit: limit()?,
                min_events: min()?,
                max_cv: params.number(spec, "max-cv")?,
                min_interval_s: params.number(spec, "min-interval")?,
            };
            time::beacons(q, summary, &b).await?
        }
        "long-connections" => {
            flows::long_connections(q, summary, limit()?, params.number(spec, "min")?).await?
        }
        "exfiltration" => {
            let bounds = flows::Exfiltration {
                min_bytes: params.number(spec, "min-bytes")?,
                ratio: params.number(spec, "ratio")?,
            };
            flows::exfiltration(q, summary, &inside(), limit()?, &bounds).await?
        }
        "dns" => dns::overview(q, summary, limit()?).await?,
        other => return Err(AnalysisError::Unknown(other.to_string())),
    };
    sort_findings(&mut findings);
    let elapsed = started.elapsed();
    tracing::debug!(
        analysis = spec.name,
        ms = elapsed.as_millis() as u64,
        ?read,
        "analysis ran"
    );
    Ok(AnalysisResult {
        name: spec.name,
        title: spec.title,
        findings,
        read,
        not_run: None,
        elapsed,
    })
}

/// Runs the fixed SQL of the analyses with bound parameters under the caller's limits.
pub(crate) struct Sql<'a> {
    ctx: &'a SessionContext,
    limits: &'a QueryLimits,
}

impl<'a> Sql<'a> {
    pub(crate) fn new(ctx: &'a SessionContext, limits: &'a QueryLimits) -> Sql<'a> {
        Sql { ctx, limits }
    }

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
