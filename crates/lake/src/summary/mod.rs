//! Summaries: what the analyses ask of a dataset, kept beside each Parquet file.
//!
//! Every data file gets a summary, written by the same writer from the same batches and
//! published in the same commit (the manifest names it with the file), so a dataset's
//! summaries always describe exactly the rows its queries see: an ingest, a later append
//! or an object store cannot leave one without the other. A summary holds, for its file:
//!
//! - the non-null count of the columns the analyses need ([`FACTS`]);
//! - events per minute;
//! - per source address: events, bytes, distinct destinations and destination ports,
//!   distinct destinations per /24 network (what the fan-out analysis measures), and its
//!   DNS queries with their distinct source ports (the fixed-port analysis), and per
//!   destination the gaps between its events (the beacon analysis);
//! - per destination port and protocol: events and distinct sources ([`Distinct`]);
//! - per destination address: events, first time, smallest and largest source.
//!
//! Summaries of files merge into one for a whole dataset (or several): counts add,
//! distinct sketches take the union. Everything is exact except the distinct counts of
//! sources per port, and of destinations and ports per source, once above
//! [`distinct::EXACT_MAX`] (standard error 1.6 %), which the findings then call estimates.
//!
//! A table of a file's summary is given up (`None`) when it would pass [`BUDGET_BYTES`]
//! (a file of millions of distinct addresses): the analyses that need it then read the raw
//! rows, as they do for files written before summaries existed.

mod build;
mod cache;
pub mod distinct;
mod file;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use secviz_parse::schema::col;

use crate::inside::InsideNetworks;

pub(crate) use build::Summarizer;
pub use cache::SummaryCache;
pub use distinct::Distinct;
pub(crate) use file::{decode, encode, summary_path};

/// The tables' hash map: keyed per process at random ([`ahash::RandomState`]).
pub type HashMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;

/// Layout version of the summary files.
pub const SUMMARY_FORMAT: u32 = 1;

/// Events are counted per minute: any bucket of whole minutes is a sum of them.
pub const MINUTE_US: i64 = 60_000_000;

/// What a file's summary may hold in memory while the file is written. Above it the
/// largest table is given up, so the writer's memory stays bounded whatever the input.
pub const BUDGET_BYTES: usize = 48 << 20;

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

/// The summary of one file, or the merged summaries of many.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub rows: u64,
    pub time_min_us: Option<i64>,
    pub time_max_us: Option<i64>,
    /// [`FACTS`], [`FACT_DNS_QUERIES`] and [`FACT_DIRECTIONAL_BYTES`].
    pub facts: BTreeMap<String, u64>,
    /// Events with a time, per minute (`time` µs divided by [`MINUTE_US`], rounded down).
    pub minutes: Option<BTreeMap<i64, u64>>,
    /// Per source address.
    pub sources: Option<HashMap<String, SourceSum>>,
    /// Per destination port, then per protocol (few per port).
    pub ports: Option<HashMap<i32, Protocols>>,
    /// Per destination address.
    pub destinations: Option<HashMap<String, DestinationSum>>,
    /// The networks `calls` was counted with: `None` when it was not.
    pub calls_inside: Option<InsideNetworks>,
    /// Calls from an inside source to an outside destination, per destination and port:
    /// what the fan-in analysis measures.
    pub calls: Option<HashMap<String, HashMap<i32, Calls>>>,
}

/// Calls from inside hosts to one outside server's port.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Calls {
    pub sources: Distinct,
    pub events: u64,
}

/// The protocols seen on one port, with their sums.
pub type Protocols = Vec<(Option<String>, PortSum)>;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceSum {
    pub events: u64,
    /// The sum of the events' bytes; `None` when none counted any.
    pub bytes: Option<i64>,
    /// Distinct destination addresses and ports.
    pub destinations: Distinct,
    pub ports: Distinct,
    /// Distinct destinations per network: the first three dot-separated parts of the
    /// address (a /24 of IPv4), exactly as the fan-out analysis's SQL cuts it.
    pub networks: HashMap<String, Distinct>,
    /// DNS queries (to port 53, or with a query name) that have a source port, their
    /// distinct source ports and the smallest one.
    pub dns_queries: u64,
    pub dns_ports: Distinct,
    pub dns_port_min: Option<i32>,
    /// The times of its events per destination (with a time), as gaps: what the beacon
    /// analysis measures.
    pub peers: HashMap<String, Gaps>,
    /// Whether the address is inside, decided once per file (not kept on disk).
    #[serde(skip)]
    inside: Option<bool>,
}

/// The gaps between one pair's consecutive events: count, first and last time, and the
/// sum of the squared gaps, exact in integers, so the mean and the standard deviation of
/// the gaps come out as a pass over the sorted times would give them.
///
/// Only events that arrive in time order can be summed this way; a pair whose events
/// come out of order (in one file, or in files whose times overlap) is marked, and the
/// beacon analysis then reads the rows.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Gaps {
    pub events: u64,
    pub first_us: i64,
    pub last_us: i64,
    /// Σ gap², µs².
    pub sum_sq: u128,
    pub in_order: bool,
}

impl Gaps {
    fn start(t: i64) -> Gaps {
        Gaps {
            events: 1,
            first_us: t,
            last_us: t,
            sum_sq: 0,
            in_order: true,
        }
    }

    fn push(&mut self, t: i64) {
        self.events += 1;
        if t < self.last_us {
            self.in_order = false;
            return;
        }
        let g = (t - self.last_us) as u128;
        self.sum_sq = self.sum_sq.saturating_add(g * g);
        self.last_us = t;
    }

    fn merge(&mut self, o: &Gaps) {
        self.events += o.events;
        if !(self.in_order && o.in_order) {
            self.in_order = false;
            return;
        }
        let join = |sum: u128, earlier_last: i64, later_first: i64| {
            let g = (later_first - earlier_last) as u128;
            sum.saturating_add(o.sum_sq).saturating_add(g * g)
        };
        if self.last_us <= o.first_us {
            self.sum_sq = join(self.sum_sq, self.last_us, o.first_us);
            self.last_us = o.last_us;
        } else if o.last_us <= self.first_us {
            self.sum_sq = join(self.sum_sq, o.last_us, self.first_us);
            self.first_us = o.first_us;
        } else {
            self.in_order = false;
        }
    }

    /// The mean and the (population) standard deviation of the gaps, µs; `None` for one
    /// event or events out of order.
    pub fn mean_sd_us(&self) -> Option<(f64, f64)> {
        if !self.in_order || self.events < 2 {
            return None;
        }
        let n = i128::from(self.events - 1);
        let span = i128::from(self.last_us - self.first_us);
        // n² · variance = n · Σ gap² − (Σ gap)², with Σ gap = span.
        let sum_sq = i128::try_from(self.sum_sq).unwrap_or(i128::MAX);
        let scaled = sum_sq.saturating_mul(n).saturating_sub(span * span);
        let sd = (scaled.max(0) as f64).sqrt() / n as f64;
        Some((span as f64 / n as f64, sd))
    }
}

impl SourceSum {
    /// The most destinations in one network.
    pub fn sweep(&self) -> (u64, bool) {
        self.networks
            .values()
            .map(|d| (d.count(), !d.is_exact()))
            .max()
            .unwrap_or((0, false))
    }

    fn held_bytes(&self) -> usize {
        ENTRY_BYTES
            + self.destinations.held_bytes()
            + self.ports.held_bytes()
            + self.dns_ports.held_bytes()
            + self
                .peers
                .keys()
                .map(|k| ENTRY_BYTES + k.len())
                .sum::<usize>()
            + self
                .networks
                .iter()
                .map(|(k, d)| ENTRY_BYTES + k.len() + d.held_bytes())
                .sum::<usize>()
    }
}

/// The network of an address as the fan-out analysis's SQL names it:
/// `split_part(ip, '.', 1) || '.' || split_part(ip, '.', 2) || '.' || split_part(ip, '.', 3)`
/// (the first three parts of an IPv4 address; anything else padded as SQL pads it).
pub fn network_of(ip: &str) -> std::borrow::Cow<'_, str> {
    if let Some((third, _)) = ip.match_indices('.').nth(2) {
        return std::borrow::Cow::Borrowed(&ip[..third]);
    }
    let mut parts = ip.split('.');
    let mut out = String::with_capacity(ip.len() + 2);
    for i in 0..3 {
        if i > 0 {
            out.push('.');
        }
        out.push_str(parts.next().unwrap_or(""));
    }
    std::borrow::Cow::Owned(out)
}
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PortSum {
    pub events: u64,
    pub sources: Distinct,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DestinationSum {
    pub events: u64,
    pub first_us: Option<i64>,
    /// The smallest and the largest source address (text order): equal when one source
    /// made every event.
    pub source_min: Option<String>,
    pub source_max: Option<String>,
}

impl Summary {
    /// Adds `other` (another file's rows) to this summary. A table either side gave up
    /// is given up in the merge.
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
                for (peer, g) in &v.peers {
                    match s.peers.get_mut(peer) {
                        Some(mine) => mine.merge(g),
                        None => {
                            s.peers.insert(peer.clone(), g.clone());
                        }
                    }
                }
                s.dns_queries += v.dns_queries;
                s.dns_ports.merge(&v.dns_ports);
                s.dns_port_min = match (s.dns_port_min, v.dns_port_min) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                for (net, d) in &v.networks {
                    s.networks.entry(net.clone()).or_default().merge(d);
                }
            }
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
        merge_table(&mut self.destinations, &other.destinations, |m, o| {
            for (k, v) in o {
                let d = m.entry(k.clone()).or_default();
                d.events += v.events;
                d.first_us = min_opt(d.first_us, v.first_us);
                d.source_min = match (d.source_min.take(), &v.source_min) {
                    (Some(a), Some(b)) => Some(if *b < a { b.clone() } else { a }),
                    (a, b) => a.or_else(|| b.clone()),
                };
                d.source_max = d.source_max.take().max(v.source_max.clone());
            }
        });
    }

    /// An empty summary that every table is present in (calls counted with `inside`).
    pub fn empty(inside: Option<&InsideNetworks>) -> Summary {
        Summary {
            minutes: Some(BTreeMap::new()),
            sources: Some(HashMap::default()),
            ports: Some(HashMap::default()),
            destinations: Some(HashMap::default()),
            calls_inside: inside.cloned(),
            calls: inside.map(|_| HashMap::default()),
            ..Summary::default()
        }
    }

    /// About what the tables hold in memory, in bytes.
    pub fn held_bytes(&self) -> usize {
        self.held().iter().sum()
    }

    fn held(&self) -> [usize; 5] {
        [
            self.minutes.as_ref().map_or(0, |m| m.len() * 48),
            self.sources
                .as_ref()
                .map_or(0, |m| m.values().map(SourceSum::held_bytes).sum()),
            self.ports.as_ref().map_or(0, |m| {
                m.values()
                    .flatten()
                    .map(|(_, p)| ENTRY_BYTES + p.sources.held_bytes())
                    .sum()
            }),
            self.destinations
                .as_ref()
                .map_or(0, |m| m.len() * ENTRY_BYTES),
            self.calls.as_ref().map_or(0, |m| {
                m.values()
                    .flat_map(|p| p.values())
                    .map(|c| ENTRY_BYTES + c.sources.held_bytes())
                    .sum()
            }),
        ]
    }

    /// Gives up the largest tables until the rest hold about `budget` bytes at most.
    pub fn keep_within(&mut self, budget: usize) {
        loop {
            let held = self.held();
            if held.iter().sum::<usize>() <= budget {
                return;
            }
            let (largest, _) = held
                .iter()
                .enumerate()
                .max_by_key(|(_, b)| **b)
                .expect("five tables");
            self.give_up(largest);
        }
    }

    fn give_up(&mut self, table: usize) {
        match table {
            MINUTES => self.minutes = None,
            SOURCES => self.sources = None,
            PORTS => self.ports = None,
            DESTINATIONS => self.destinations = None,
            _ => self.calls = None,
        }
    }

    /// Damaged sketches are refused when read (see [`Distinct::is_well_formed`]).
    pub(crate) fn is_well_formed(&self) -> bool {
        self.ports.as_ref().is_none_or(|p| {
            p.values()
                .flatten()
                .all(|(_, s)| s.sources.is_well_formed())
        }) && self.sources.as_ref().is_none_or(|t| {
            t.values().all(|s| {
                s.destinations.is_well_formed()
                    && s.ports.is_well_formed()
                    && s.dns_ports.is_well_formed()
                    && s.networks.values().all(Distinct::is_well_formed)
            })
        }) && self.calls.as_ref().is_none_or(|t| {
            t.values()
                .flat_map(|p| p.values())
                .all(|c| c.sources.is_well_formed())
        })
    }
}

fn merge_table<T>(mine: &mut Option<T>, theirs: &Option<T>, f: impl FnOnce(&mut T, &T)) {
    match (mine.as_mut(), theirs) {
        (Some(m), Some(o)) => f(m, o),
        _ => *mine = None,
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

/// Bytes a new key costs a table, about: the key, the entry, the table's own slot.
const ENTRY_BYTES: usize = 96;

const MINUTES: usize = 0;
const SOURCES: usize = 1;
const PORTS: usize = 2;
const DESTINATIONS: usize = 3;
const CALLS: usize = 4;

#[cfg(test)]
mod tests {
    use datafusion::arrow::record_batch::RecordBatch;
    use secviz_parse::schema::event_schema;

    use super::*;

    fn gaps(times: &[i64]) -> Gaps {
        let mut g = Gaps::start(times[0]);
        for t in &times[1..] {
            g.push(*t);
        }
        g
    }

    /// Mean and population standard deviation of the gaps, directly.
    fn direct(times: &[i64]) -> (f64, f64) {
        let gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        (mean, var.sqrt())
    }

    #[test]
    fn gaps_of_files_in_time_order_merge_exactly_and_overlaps_are_marked() {
        let all = [0, 10, 30, 100, 130, 131, 400];
        let (a, b) = (gaps(&all[..3]), gaps(&all[3..]));
        for (x, y) in [(&a, &b), (&b, &a)] {
            let mut m = x.clone();
            m.merge(y);
            assert_eq!(m.events, 7);
            let (mean, sd) = m.mean_sd_us().unwrap();
            let (dm, dsd) = direct(&all);
            assert!(
                (mean - dm).abs() < 1e-9 && (sd - dsd).abs() < 1e-9,
                "{mean} {sd}"
            );
        }
        // Overlapping times, or a file out of order: unknown, never a wrong figure.
        let mut m = gaps(&[0, 50]);
        m.merge(&gaps(&[20, 70]));
        assert!(!m.in_order && m.mean_sd_us().is_none());
        assert!(gaps(&[5, 3, 9]).mean_sd_us().is_none());
        assert_eq!(gaps(&[5]).mean_sd_us(), None);
        // A steady series has no spread.
        assert_eq!(gaps(&[0, 60, 120, 180]).mean_sd_us(), Some((60.0, 0.0)));
    }

    #[test]
    fn networks_are_cut_as_the_sql_cuts_them() {
        assert_eq!(network_of("10.1.2.3"), "10.1.2");
        assert_eq!(network_of("2001:db8::1"), "2001:db8::1..");
        assert_eq!(network_of("a.b"), "a.b.");
    }

    #[test]
    fn a_table_over_the_budget_is_given_up_and_the_rest_kept() {
        use datafusion::arrow::array::{ArrayRef, new_null_array};
        let schema = event_schema();
        let n = 2000;
        let cols: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                col::SRC_IP => std::sync::Arc::new(datafusion::arrow::array::StringArray::from(
                    (0..n)
                        .map(|i| format!("10.0.{}.{}", i / 256, i % 256))
                        .collect::<Vec<_>>(),
                )) as ArrayRef,
                col::FORMAT | col::SOURCE => {
                    std::sync::Arc::new(datafusion::arrow::array::StringArray::from(vec!["x"; n]))
                }
                col::LINE => std::sync::Arc::new(datafusion::arrow::array::Int64Array::from(
                    (0..n as i64).collect::<Vec<_>>(),
                )),
                _ => new_null_array(f.data_type(), n),
            })
            .collect();
        let batch = RecordBatch::try_new(schema, cols).unwrap();
        let mut s = Summarizer::new(64 * 1024, None);
        s.add(&batch);
        let s = s.finish();
        assert!(s.sources.is_none(), "2,000 sources do not fit 64 KiB");
        assert!(s.minutes.is_some() && s.ports.is_some() && s.destinations.is_some());
        assert_eq!(s.facts[col::SRC_IP], 2000);
        assert_eq!(s.rows, 2000);
    }
}
