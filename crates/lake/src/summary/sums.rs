//! What a summary's tables hold per key: the sums of one source, port, destination,
//! client, pair or domain, and how a few of them grow and merge.

use serde::{Deserialize, Serialize};

use super::{Distinct, HashMap, TopNames, footprint};

/// Calls from inside hosts to one outside server's port.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Calls {
    pub sources: Distinct,
    pub events: u64,
}

/// A client's events with a login outcome (`auth_result`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoginSum {
    pub failures: u64,
    pub successes: u64,
    /// The distinct accounts (`user`) of its failures.
    pub accounts: Distinct,
    /// The first account in text order it failed at, and the first it got into.
    pub tried: Option<String>,
    pub got_in: Option<String>,
}

/// A client's events with an HTTP status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WebSum {
    pub requests: u64,
    /// The distinct paths (`http_uri`) answered 404, and the first of them in text order.
    pub missing: Distinct,
    pub example: Option<String>,
}

/// What passed between one source and one destination.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnSum {
    /// Events that count bytes both ways, and their sums.
    pub directional: u64,
    pub sent: i64,
    pub received: i64,
    /// Per destination port (`None`: events without one), of the events with a duration:
    /// the longest, in seconds, and how many.
    pub ports: Vec<(Option<i32>, Longest)>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Longest {
    pub seconds: f64,
    pub connections: u64,
}

/// Names kept per domain for the entropy of its names: the first in text order.
pub const DOMAIN_SAMPLE: usize = 64;

/// The DNS queries under one domain.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DomainSum {
    pub queries: u64,
    /// Distinct names, and the sum over queries of the characters before the domain (a
    /// query of the bare domain counts -1, as the SQL's difference of lengths does).
    pub names: Distinct,
    pub label_chars: i64,
    /// Distinct clients, and the first in text order.
    pub clients: Distinct,
    pub client: Option<String>,
    /// The first [`DOMAIN_SAMPLE`] distinct names under the domain in text order (the bare
    /// domain left out): the sample the entropy of its names is measured on.
    pub sample: Vec<String>,
}

impl DomainSum {
    /// Adds `name` to the sample if it is among the first [`DOMAIN_SAMPLE`]; the bytes the
    /// sample's allocations grew by.
    pub(crate) fn sample_name(&mut self, name: &str) -> usize {
        let full = self.sample.len() >= DOMAIN_SAMPLE;
        if full && self.sample.last().is_some_and(|l| name >= l.as_str()) {
            return 0;
        }
        match self.sample.binary_search_by(|x| x.as_str().cmp(name)) {
            Ok(_) => 0,
            Err(i) => {
                let before = self.sample.capacity();
                self.sample.insert(i, name.to_string());
                let grew = footprint::vec(&self.sample) - 24 * before;
                match full.then(|| self.sample.pop()).flatten() {
                    Some(gone) => (grew + name.len()).saturating_sub(gone.capacity()),
                    None => grew + name.len(),
                }
            }
        }
    }
}

/// What the DNS overview counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DnsNames {
    /// Queries per name (lower case, trailing dots trimmed): the most queried, in bounded
    /// space ([`TopNames`]).
    pub names: TopNames,
    /// Queries per query type (upper case).
    pub types: HashMap<String, u64>,
    /// Per client, its queries with an answer code, and how many were NXDOMAIN.
    pub clients: HashMap<String, Answers>,
}

impl DnsNames {
    /// Bytes held in memory beside its own size ([`footprint`]).
    pub(crate) fn held_bytes(&self) -> usize {
        self.names.held_bytes()
            + footprint::keyed(&self.types, |_| 0)
            + footprint::keyed(&self.clients, |_| 0)
    }

    pub(crate) fn merge(&mut self, o: &DnsNames) {
        self.names.merge(&o.names);
        for (k, v) in &o.types {
            *self.types.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.clients {
            let a = self.clients.entry(k.clone()).or_default();
            a.queries += v.queries;
            a.nxdomain += v.nxdomain;
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Answers {
    pub queries: u64,
    pub nxdomain: u64,
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
}

/// A source's DNS queries (to port 53, or with a query name) that have a source port:
/// how many, their distinct source ports and the smallest one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DnsSum {
    pub queries: u64,
    pub ports: Distinct,
    pub port_min: Option<i32>,
}

/// The most destinations `networks` (one source's) holds in one network, and whether
/// that count is estimated.
pub fn sweep(networks: &HashMap<String, Distinct>) -> (u64, bool) {
    networks
        .values()
        .map(|d| (d.count(), !d.is_exact()))
        .max()
        .unwrap_or((0, false))
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

impl ConnSum {
    pub(crate) fn merge(&mut self, o: &ConnSum) {
        self.directional += o.directional;
        self.sent = self.sent.saturating_add(o.sent);
        self.received = self.received.saturating_add(o.received);
        for (port, l) in &o.ports {
            self.longest(*port, l.seconds, l.connections);
        }
    }

    /// Counts `connections` with a duration to `port`, the longest `seconds` long.
    pub(crate) fn longest(&mut self, port: Option<i32>, seconds: f64, connections: u64) {
        ConnSum::longest_in(&mut self.ports, port, seconds, connections);
    }

    /// [`ConnSum::longest`] on its `ports` alone (so what they hold can be measured).
    pub(crate) fn longest_in(
        ports: &mut Vec<(Option<i32>, Longest)>,
        port: Option<i32>,
        seconds: f64,
        connections: u64,
    ) {
        match ports.iter_mut().find(|(p, _)| *p == port) {
            Some((_, l)) => {
                l.seconds = l.seconds.max(seconds);
                l.connections += connections;
            }
            None => ports.push((
                port,
                Longest {
                    seconds,
                    connections,
                },
            )),
        }
    }
}
