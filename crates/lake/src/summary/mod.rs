//! Summaries: what the analyses ask of a dataset, kept beside each Parquet file.
//!
//! Every data file gets a summary, written by the same writer from the same batches and
//! published in the same commit (the manifest names it with the file), so a dataset's
//! summaries always describe exactly the rows its queries see: an ingest, a later append
//! or an object store cannot leave one without the other. A summary holds, for its file,
//! a head (rows, time range, the non-null count of the columns the analyses need:
//! [`FACTS`]) and these tables ([`Table`]):
//!
//! - events per minute;
//! - per source address: events, bytes, distinct destinations and destination ports;
//! - per source, distinct destinations per /24 network (what the fan-out analysis
//!   measures);
//! - per source, its DNS queries with their distinct source ports (the fixed-port
//!   analysis);
//! - per source and destination, the gaps between their events (the beacon analysis);
//! - per destination port and protocol: events and distinct sources ([`Distinct`]);
//! - per destination address: events, first time, smallest and largest source;
//! - calls from inside to outside, per destination and port (the fan-in analysis);
//! - per client, its logins: failures, successes, the accounts it failed at (password
//!   guessing);
//! - per client, its web requests and the missing pages it asked for (web probing);
//! - per source and destination, the bytes each way and the longest connection per port
//!   (exfiltration, long connections);
//! - per DNS domain, its distinct names, queries, clients and a sample of its names (DNS
//!   tunnels);
//! - DNS query types with their queries, the most queried names ([`TopNames`]: at most
//!   8,192, the busy ones counted exactly and the others within a stated bound), and each
//!   client's NXDOMAIN answers (the DNS overview).
//!
//! Each table is stored, compressed and read on its own: an analysis decodes only the
//! tables it reads ([`Tables`]), so the top talkers of 100 M events do not wait for the
//! beacon analysis's gaps of every pair.
//!
//! Summaries of files merge into one for a whole dataset (or several): counts add,
//! distinct sketches take the union. Everything is exact except the distinct counts once
//! above [`distinct::EXACT_MAX`] (standard error 1.6 %), which the findings then call
//! estimates, and the queries of DNS names once a table held more than 8,192 names, which
//! the findings then give as a range.
//!
//! A table of a file's summary is given up (`None`) when it would pass [`BUDGET_BYTES`]
//! (a file of millions of distinct addresses): the analyses that need it then read the raw
//! rows, as they do for files written before summaries existed.

mod build;
mod cache;
pub(crate) mod codec;
pub mod distinct;
mod file;
mod footprint;
mod gaps;
mod keys;
mod legacy;
mod sums;
mod top;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use secviz_parse::schema::col;

use crate::inside::InsideNetworks;

pub(crate) use build::Summarizer;
pub use cache::SummaryCache;
pub use distinct::Distinct;
pub(crate) use file::{decode, encode, summary_path};
pub use gaps::Gaps;
pub use keys::network_of;
pub use sums::*;
pub(crate) use top::first_by_count;
pub use top::{NameCount, TOP_NAMES, TopNames};

/// The tables' hash map: ahash, keyed per process at random ([`ProcessKeys`]).
pub type HashMap<K, V> = std::collections::HashMap<K, V, ProcessKeys>;

/// ahash's keys, drawn at random once per process: what [`ahash::RandomState`] holds in
/// every map, held once. Why: a summary holds a few maps per source (its networks, peers
/// and connections), and their keys, 32 bytes in each, were 96 of the 496 bytes of a
/// source's slot while a file was written. Keys drawn at random still keep a sender from
/// choosing addresses that collide.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessKeys;

impl std::hash::BuildHasher for ProcessKeys {
    type Hasher = ahash::AHasher;

    fn build_hasher(&self) -> ahash::AHasher {
        static KEYS: std::sync::OnceLock<ahash::RandomState> = std::sync::OnceLock::new();
        KEYS.get_or_init(ahash::RandomState::new).build_hasher()
    }
}

/// Layout version of the summary files: 2 stores each table on its own (1, one body for
/// all, is still read); 3 is 2 with sparse sketches ([`Distinct::Sparse`]), which a reader
/// of format 2 would not know, so it reads the rows of such files instead; 4 is 3 with the
/// tables of logins, web requests, connections and DNS names, which a reader of format 3
/// would take for damage; 5 is 4 with the DNS names kept in bounded space ([`TopNames`]).
/// All are read: a file of format 3 has none of the new tables, so the analyses that need
/// them read its rows; format 4's names, every name with its exact count, are reduced as
/// they are read.
pub const SUMMARY_FORMAT: u32 = 5;

/// Events are counted per minute: any bucket of whole minutes is a sum of them.
pub const MINUTE_US: i64 = 60_000_000;

/// What a file's summary may hold in memory while the file is written (measured from the
/// tables' allocations, [`footprint`], with the maps that finishing it builds). Above it
/// the largest table is given up, so the writer's memory stays bounded whatever the input.
/// A file of 7 M DNS queries with a tunnel among them (a million names queried once)
/// holds about 70 MB: its names, and its clients' source ports. 48 MiB, the budget when
/// the summaries had eight tables, gave up its names, and the DNS overview of 100 M
/// such queries read the rows (12 s, BENCHMARKS.md, issue 19.3).
pub const BUDGET_BYTES: usize = 128 << 20;

/// The facts the analyses check before they run (what the data holds): the non-null
/// count of each column, and two counts of their own.
pub const FACTS: &[&str] = &[
    col::TIME,
    col::SRC_IP,
    col::DST_IP,
    col::DST_PORT,
    col::SRC_PORT,
    col::DNS_QNAME,
    col::AUTH_RESULT,
    col::HTTP_STATUS,
    col::DURATION,
];
/// Events to port 53 or with a query name.
pub const FACT_DNS_QUERIES: &str = "dns_queries";
/// Events with bytes counted in both directions.
pub const FACT_DIRECTIONAL_BYTES: &str = "directional_bytes";

/// One table of a summary: stored, read and given up on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Minutes,
    Sources,
    Networks,
    Dns,
    Peers,
    Ports,
    Destinations,
    Calls,
    Logins,
    Web,
    Conns,
    Domains,
    Names,
}

impl Table {
    pub const ALL: [Table; 13] = [
        Table::Minutes,
        Table::Sources,
        Table::Networks,
        Table::Dns,
        Table::Peers,
        Table::Ports,
        Table::Destinations,
        Table::Calls,
        Table::Logins,
        Table::Web,
        Table::Conns,
        Table::Domains,
        Table::Names,
    ];

    /// Its tag in a summary file (and its index in per-table arrays).
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn from_index(i: usize) -> Option<Table> {
        Table::ALL.get(i).copied()
    }
}

/// A set of tables: what an analysis reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tables(u16);

impl Tables {
    pub const NONE: Tables = Tables(0);
    pub const ALL: Tables = Tables((1 << Table::ALL.len()) - 1);

    pub const fn of(tables: &[Table]) -> Tables {
        let mut bits = 0;
        let mut i = 0;
        while i < tables.len() {
            bits |= 1 << tables[i] as u16;
            i += 1;
        }
        Tables(bits)
    }

    pub fn has(self, t: Table) -> bool {
        self.0 & (1 << t.index()) != 0
    }

    pub fn union(self, o: Tables) -> Tables {
        Tables(self.0 | o.0)
    }

    /// Every table of `self` is in `o`.
    pub fn within(self, o: Tables) -> bool {
        self.0 & !o.0 == 0
    }
}

/// The summary of one file, or the merged summaries of many. A table is `None` when it
/// was given up (over the budget), or not read (not asked for).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub rows: u64,
    pub time_min_us: Option<i64>,
    pub time_max_us: Option<i64>,
    /// [`FACTS`], [`FACT_DNS_QUERIES`] and [`FACT_DIRECTIONAL_BYTES`].
    pub facts: BTreeMap<String, u64>,
    /// The networks `calls` was counted with: `None` when it was not.
    pub calls_inside: Option<InsideNetworks>,
    /// Events with a time, per minute (`time` µs divided by [`MINUTE_US`], rounded down).
    pub minutes: Option<BTreeMap<i64, u64>>,
    /// Per source address.
    pub sources: Option<HashMap<String, SourceSum>>,
    /// Per source address, distinct destinations per network: the first three
    /// dot-separated parts of the address (a /24 of IPv4), exactly as the fan-out
    /// analysis's SQL cuts it.
    pub networks: Option<HashMap<String, HashMap<String, Distinct>>>,
    /// Per source address that made DNS queries with a source port.
    pub dns: Option<HashMap<String, DnsSum>>,
    /// Per source address, then per destination: the gaps between their events (with a
    /// time), what the beacon analysis measures.
    pub peers: Option<HashMap<String, HashMap<String, Gaps>>>,
    /// Per destination port, then per protocol (few per port).
    pub ports: Option<HashMap<i32, Protocols>>,
    /// Per destination address.
    pub destinations: Option<HashMap<String, DestinationSum>>,
    /// Calls from an inside source to an outside destination, per destination and port:
    /// what the fan-in analysis measures.
    pub calls: Option<HashMap<String, HashMap<i32, Calls>>>,
    /// Per client address, its events with a login outcome.
    pub logins: Option<HashMap<String, LoginSum>>,
    /// Per client address, its events with an HTTP status.
    pub web: Option<HashMap<String, WebSum>>,
    /// Per source address, then per destination: bytes each way and connection lengths.
    pub conns: Option<HashMap<String, HashMap<String, ConnSum>>>,
    /// Per DNS domain (the last two labels of the query names that have a dot, as the
    /// tunnel analysis's SQL cuts them).
    pub domains: Option<HashMap<String, DomainSum>>,
    /// Query names, query types and clients' answers: what the DNS overview counts.
    pub names: Option<DnsNames>,
}

/// The head of a summary file: everything but the tables.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Head {
    pub rows: u64,
    pub time_min_us: Option<i64>,
    pub time_max_us: Option<i64>,
    pub facts: BTreeMap<String, u64>,
    pub calls_inside: Option<InsideNetworks>,
}

impl Summary {
    /// Adds `other` (another file's rows) to this summary. A table either side gave up
    /// (or did not read) is `None` in the merge.
    pub fn merge(&mut self, other: &Summary) {
        self.rows += other.rows;
        self.time_min_us = min_opt(self.time_min_us, other.time_min_us);
        self.time_max_us = self.time_max_us.max(other.time_max_us);
        for (k, v) in &other.facts {
            *self.facts.entry(k.clone()).or_default() += v;
        }
        merge_table(&mut self.minutes, &other.minutes, |m, o| {
            for (k, v) in o {
                *m.entry(*k).or_default() += v;
            }
        });
        merge_table(&mut self.sources, &other.sources, |m, o| {
            for (k, v) in o {
                let s = m.entry(k.clone()).or_default();
                s.events += v.events;
                s.bytes = add_opt(s.bytes, v.bytes);
                s.destinations.merge(&v.destinations);
                s.ports.merge(&v.ports);
            }
        });
        merge_table(&mut self.networks, &other.networks, |m, o| {
            merge_nested(m, o, Distinct::merge)
        });
        merge_table(&mut self.dns, &other.dns, |m, o| {
            for (src, d) in o {
                let mine = m.entry(src.clone()).or_default();
                mine.queries += d.queries;
                mine.ports.merge(&d.ports);
                mine.port_min = match (mine.port_min, d.port_min) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        });
        merge_table(&mut self.peers, &other.peers, |m, o| {
            merge_nested(m, o, Gaps::merge)
        });
        merge_table(&mut self.ports, &other.ports, |m, o| {
            for (port, protocols) in o {
                let mine = m.entry(*port).or_default();
                for (proto, sum) in protocols {
                    let slot = match mine.iter().position(|(p, _)| p == proto) {
                        Some(i) => &mut mine[i].1,
                        None => {
                            mine.push((proto.clone(), PortSum::default()));
                            &mut mine.last_mut().expect("pushed").1
                        }
                    };
                    slot.events += sum.events;
                    slot.sources.merge(&sum.sources);
                }
            }
        });
        if self.calls_inside != other.calls_inside {
            self.calls = None;
        }
        merge_table(&mut self.calls, &other.calls, |m, o| {
            for (dst, ports) in o {
                let mine = m.entry(dst.clone()).or_default();
                for (port, c) in ports {
                    let slot = mine.entry(*port).or_default();
                    slot.events += c.events;
                    slot.sources.merge(&c.sources);
                }
            }
        });
        merge_table(&mut self.logins, &other.logins, |m, o| {
            for (k, v) in o {
                let l = m.entry(k.clone()).or_default();
                l.failures += v.failures;
                l.successes += v.successes;
                l.accounts.merge(&v.accounts);
                l.tried = first(l.tried.take(), &v.tried);
                l.got_in = first(l.got_in.take(), &v.got_in);
            }
        });
        merge_table(&mut self.web, &other.web, |m, o| {
            for (k, v) in o {
                let w = m.entry(k.clone()).or_default();
                w.requests += v.requests;
                w.missing.merge(&v.missing);
                w.example = first(w.example.take(), &v.example);
            }
        });
        merge_table(&mut self.conns, &other.conns, |m, o| {
            merge_nested(m, o, ConnSum::merge)
        });
        merge_table(&mut self.domains, &other.domains, |m, o| {
            for (k, v) in o {
                let d = m.entry(k.clone()).or_default();
                d.queries += v.queries;
                d.names.merge(&v.names);
                d.label_chars = d.label_chars.saturating_add(v.label_chars);
                d.clients.merge(&v.clients);
                d.client = first(d.client.take(), &v.client);
                for n in &v.sample {
                    d.sample_name(n);
                }
            }
        });
        merge_table(&mut self.names, &other.names, DnsNames::merge);
        merge_table(&mut self.destinations, &other.destinations, |m, o| {
            for (k, v) in o {
                let d = m.entry(k.clone()).or_default();
                d.events += v.events;
                d.first_us = min_opt(d.first_us, v.first_us);
                d.source_min = first(d.source_min.take(), &v.source_min);
                d.source_max = d.source_max.take().max(v.source_max.clone());
            }
        });
    }

    /// An empty summary that every table is present in (calls counted with `inside`).
    pub fn empty(inside: Option<&InsideNetworks>) -> Summary {
        Summary {
            minutes: Some(BTreeMap::new()),
            sources: Some(HashMap::default()),
            networks: Some(HashMap::default()),
            dns: Some(HashMap::default()),
            peers: Some(HashMap::default()),
            ports: Some(HashMap::default()),
            destinations: Some(HashMap::default()),
            calls_inside: inside.cloned(),
            calls: inside.map(|_| HashMap::default()),
            logins: Some(HashMap::default()),
            web: Some(HashMap::default()),
            conns: Some(HashMap::default()),
            domains: Some(HashMap::default()),
            names: Some(DnsNames::default()),
            ..Summary::default()
        }
    }

    /// The tables it holds.
    pub fn tables(&self) -> Tables {
        let present = [
            self.minutes.is_some(),
            self.sources.is_some(),
            self.networks.is_some(),
            self.dns.is_some(),
            self.peers.is_some(),
            self.ports.is_some(),
            self.destinations.is_some(),
            self.calls.is_some(),
            self.logins.is_some(),
            self.web.is_some(),
            self.conns.is_some(),
            self.domains.is_some(),
            self.names.is_some(),
        ];
        let kept: Vec<Table> = Table::ALL
            .iter()
            .zip(present)
            .filter_map(|(t, p)| p.then_some(*t))
            .collect();
        Tables::of(&kept)
    }

    /// Keeps only the tables in `wanted` (the others are `None`).
    pub(crate) fn keep_only(&mut self, wanted: Tables) {
        for t in Table::ALL {
            if !wanted.has(t) {
                self.give_up(t);
            }
        }
    }

    pub(crate) fn head(&self) -> Head {
        Head {
            rows: self.rows,
            time_min_us: self.time_min_us,
            time_max_us: self.time_max_us,
            facts: self.facts.clone(),
            calls_inside: self.calls_inside.clone(),
        }
    }

    pub(crate) fn from_head(h: Head) -> Summary {
        Summary {
            rows: h.rows,
            time_min_us: h.time_min_us,
            time_max_us: h.time_max_us,
            facts: h.facts,
            calls_inside: h.calls_inside,
            ..Summary::default()
        }
    }

    /// About what the tables hold in memory, in bytes.
    pub fn held_bytes(&self) -> usize {
        self.held().iter().sum()
    }

    fn held(&self) -> [usize; Table::ALL.len()] {
        use footprint::{keyed, map, opt_string as text, vec};
        let sketches = |m: &HashMap<String, Distinct>| keyed(m, Distinct::held_bytes);
        [
            self.minutes.as_ref().map_or(0, |m| m.len() * 48),
            self.sources.as_ref().map_or(0, |m| {
                keyed(m, |s| s.destinations.held_bytes() + s.ports.held_bytes())
            }),
            self.networks.as_ref().map_or(0, |m| keyed(m, sketches)),
            self.dns
                .as_ref()
                .map_or(0, |m| keyed(m, |d| d.ports.held_bytes())),
            self.peers
                .as_ref()
                .map_or(0, |m| keyed(m, |p| keyed(p, |_| 0))),
            self.ports.as_ref().map_or(0, |m| {
                map(m)
                    + m.values()
                        .map(|v| {
                            vec(v)
                                + v.iter()
                                    .map(|(p, s)| text(p) + s.sources.held_bytes())
                                    .sum::<usize>()
                        })
                        .sum::<usize>()
            }),
            self.destinations.as_ref().map_or(0, |m| {
                keyed(m, |d| text(&d.source_min) + text(&d.source_max))
            }),
            self.calls.as_ref().map_or(0, |m| {
                keyed(m, |p| {
                    map(p) + p.values().map(|c| c.sources.held_bytes()).sum::<usize>()
                })
            }),
            self.logins.as_ref().map_or(0, |m| {
                keyed(m, |l| {
                    l.accounts.held_bytes() + text(&l.tried) + text(&l.got_in)
                })
            }),
            self.web.as_ref().map_or(0, |m| {
                keyed(m, |w| w.missing.held_bytes() + text(&w.example))
            }),
            self.conns
                .as_ref()
                .map_or(0, |m| keyed(m, |p| keyed(p, |c| vec(&c.ports)))),
            self.domains.as_ref().map_or(0, |m| {
                keyed(m, |d| {
                    d.names.held_bytes()
                        + d.clients.held_bytes()
                        + text(&d.client)
                        + vec(&d.sample)
                        + d.sample.iter().map(String::capacity).sum::<usize>()
                })
            }),
            self.names.as_ref().map_or(0, DnsNames::held_bytes),
        ]
    }

    /// Gives up the largest tables until the rest hold about `budget` bytes at most;
    /// returns those it gave up.
    pub fn keep_within(&mut self, budget: usize) -> Tables {
        let mut given_up = Vec::new();
        loop {
            let held = self.held();
            if held.iter().sum::<usize>() <= budget {
                return Tables::of(&given_up);
            }
            let (largest, _) = held
                .iter()
                .enumerate()
                .max_by_key(|(_, b)| **b)
                .expect("a table");
            let t = Table::from_index(largest).expect("a table's index");
            self.give_up(t);
            given_up.push(t);
        }
    }

    pub(crate) fn give_up(&mut self, table: Table) {
        match table {
            Table::Minutes => self.minutes = None,
            Table::Sources => self.sources = None,
            Table::Networks => self.networks = None,
            Table::Dns => self.dns = None,
            Table::Peers => self.peers = None,
            Table::Ports => self.ports = None,
            Table::Destinations => self.destinations = None,
            Table::Calls => self.calls = None,
            Table::Logins => self.logins = None,
            Table::Web => self.web = None,
            Table::Conns => self.conns = None,
            Table::Domains => self.domains = None,
            Table::Names => self.names = None,
        }
    }

    /// Damaged sketches are refused when read (see [`Distinct::is_well_formed`]).
    pub(crate) fn is_well_formed(&self) -> bool {
        self.ports.as_ref().is_none_or(|p| {
            p.values()
                .flatten()
                .all(|(_, s)| s.sources.is_well_formed())
        }) && self.sources.as_ref().is_none_or(|t| {
            t.values()
                .all(|s| s.destinations.is_well_formed() && s.ports.is_well_formed())
        }) && self
            .networks
            .as_ref()
            .is_none_or(|t| t.values().all(|n| n.values().all(Distinct::is_well_formed)))
            && self
                .dns
                .as_ref()
                .is_none_or(|t| t.values().all(|d| d.ports.is_well_formed()))
            && self.calls.as_ref().is_none_or(|t| {
                t.values()
                    .flat_map(|p| p.values())
                    .all(|c| c.sources.is_well_formed())
            })
            && self
                .logins
                .as_ref()
                .is_none_or(|t| t.values().all(|l| l.accounts.is_well_formed()))
            && self
                .web
                .as_ref()
                .is_none_or(|t| t.values().all(|w| w.missing.is_well_formed()))
            && self.domains.as_ref().is_none_or(|t| {
                t.values()
                    .all(|d| d.names.is_well_formed() && d.clients.is_well_formed())
            })
    }
}

fn merge_table<T>(mine: &mut Option<T>, theirs: &Option<T>, f: impl FnOnce(&mut T, &T)) {
    match (mine.as_mut(), theirs) {
        (Some(m), Some(o)) => f(m, o),
        _ => *mine = None,
    }
}

/// Merges a table keyed by source, then by another key, entry by entry with `merge`.
fn merge_nested<V: Clone>(
    mine: &mut HashMap<String, HashMap<String, V>>,
    theirs: &HashMap<String, HashMap<String, V>>,
    merge: fn(&mut V, &V),
) {
    for (src, entries) in theirs {
        let m = mine.entry(src.clone()).or_default();
        for (k, v) in entries {
            match m.get_mut(k) {
                Some(x) => merge(x, v),
                None => {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

/// The first of two texts in text order (either may be missing).
fn first(a: Option<String>, b: &Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) if *b < a => Some(b.clone()),
        (a, b) => a.or_else(|| b.clone()),
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn add_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.saturating_add(y)),
        (x, y) => x.or(y),
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::record_batch::RecordBatch;
    use secviz_parse::schema::event_schema;

    use super::*;

    /// A batch of events with these sources, destinations and times (other columns null).
    fn batch(rows: &[(String, Option<String>, Option<i64>)]) -> RecordBatch {
        use datafusion::arrow::array::{
            ArrayRef, Int64Array, StringArray, TimestampMicrosecondArray, new_null_array,
        };
        use std::sync::Arc;
        let schema = event_schema();
        let n = rows.len();
        let cols: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                col::SRC_IP => Arc::new(StringArray::from(
                    rows.iter().map(|r| Some(r.0.clone())).collect::<Vec<_>>(),
                )) as ArrayRef,
                col::DST_IP => Arc::new(StringArray::from(
                    rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
                )),
                col::TIME => Arc::new(
                    TimestampMicrosecondArray::from(rows.iter().map(|r| r.2).collect::<Vec<_>>())
                        .with_timezone("UTC"),
                ),
                col::FORMAT | col::SOURCE => Arc::new(StringArray::from(vec!["x"; n])),
                col::LINE => Arc::new(Int64Array::from((0..n as i64).collect::<Vec<_>>())),
                _ => new_null_array(f.data_type(), n),
            })
            .collect();
        RecordBatch::try_new(schema, cols).unwrap()
    }

    #[test]
    fn a_table_over_the_budget_is_given_up_and_the_rest_kept() {
        let rows: Vec<_> = (0..2000)
            .map(|i| (format!("10.0.{}.{}", i / 256, i % 256), None, None))
            .collect();
        let mut s = Summarizer::new(64 * 1024, None);
        s.add(&batch(&rows));
        let s = s.finish();
        assert!(s.sources.is_none(), "2,000 sources do not fit 64 KiB");
        // The tables kept per source go with the sources.
        assert!(s.networks.is_none() && s.dns.is_none() && s.peers.is_none());
        assert!(s.minutes.is_some() && s.ports.is_some() && s.destinations.is_some());
        assert_eq!(s.facts[col::SRC_IP], 2000);
        assert_eq!(s.rows, 2000);
    }

    #[test]
    fn the_peers_of_a_scanner_are_given_up_and_its_sums_kept() {
        // One source calling 3,000 destinations: the destinations and its gaps per
        // destination are the largest tables (about 400 and 360 KB); giving them up keeps
        // the source's sums and its networks.
        let rows: Vec<_> = (0..3000)
            .map(|i| {
                (
                    "10.9.9.9".to_string(),
                    Some(format!("10.1.{}.{}", i / 256, i % 256)),
                    Some(1_000_000 * i as i64),
                )
            })
            .collect();
        let mut s = Summarizer::new(200 * 1024, None);
        s.add(&batch(&rows));
        let s = s.finish();
        assert!(s.peers.is_none(), "3,000 peers do not fit beside the rest");
        assert!(s.destinations.is_none());
        let src = &s.sources.as_ref().unwrap()["10.9.9.9"];
        assert_eq!(src.events, 3000);
        let d = src.destinations.count() as f64;
        assert!(
            (d - 3000.0).abs() / 3000.0 < 3.0 * distinct::STANDARD_ERROR,
            "{d}"
        );
        let nets = &s.networks.as_ref().unwrap()["10.9.9.9"];
        assert_eq!(nets.len(), 12);
        assert!(s.minutes.is_some());
        // Without a budget, every table is kept, and each comes back alone.
        let mut all = Summarizer::new(BUDGET_BYTES, None);
        all.add(&batch(&rows));
        let all = all.finish();
        // Calls are counted only with inside networks.
        let no_calls: Vec<Table> = Table::ALL
            .into_iter()
            .filter(|t| *t != Table::Calls)
            .collect();
        assert_eq!(all.tables(), Tables::of(&no_calls));
        let bytes = encode(&all).unwrap();
        for t in Table::ALL {
            let one = decode(&bytes, Tables::of(&[t])).unwrap().unwrap();
            assert_eq!(one.rows, 3000);
            let expect = if t == Table::Calls {
                Tables::NONE
            } else {
                Tables::of(&[t])
            };
            assert_eq!(one.tables(), expect, "{t:?}");
        }
        assert_eq!(decode(&bytes, Tables::ALL).unwrap().unwrap(), all);
    }
}
