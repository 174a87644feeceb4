//! [`Summarizer`]: one file's summary, built from the batches written to the file (on the
//! summary thread of `crate::write`), within a memory budget.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Int32Type, Int64Type, TimestampMicrosecondType};
use datafusion::arrow::record_batch::RecordBatch;
use secviz_parse::schema::{col, event_schema};

use super::{
    Calls, DnsSum, ENTRY_BYTES, FACT_DIRECTIONAL_BYTES, FACT_DNS_QUERIES, FACTS, Gaps, HashMap,
    MINUTE_US, PortSum, SourceSum, Summary, Table, add_opt, distinct, min_opt, network_of,
};
use crate::inside::InsideNetworks;

/// Builds the summary of one file from the batches written to it.
///
/// The four tables keyed by source (sources, networks, DNS, peers) are built in one map,
/// one lookup per row, and split when the file is finished.
pub(crate) struct Summarizer {
    /// The head and the tables not keyed by source.
    summary: Summary,
    /// Per source, while the sources table is kept.
    sources: Option<HashMap<String, Source>>,
    /// Which of the tables keyed by source are still kept.
    networks: bool,
    dns: bool,
    peers: bool,
    /// About what each table holds, in bytes ([`Table::index`]).
    held: [usize; 8],
    budget: usize,
    columns: &'static Columns,
    /// The inside networks, parsed, when calls are counted.
    inside: Option<Vec<ipnet::IpNet>>,
}

/// One source's sums while a file is written.
#[derive(Default)]
struct Source {
    sum: SourceSum,
    /// Whether the address is inside, decided once per file.
    inside: Option<bool>,
    networks: HashMap<String, distinct::Distinct>,
    dns: DnsSum,
    peers: HashMap<String, Gaps>,
}

/// Indexes of the columns a summary reads, in [`event_schema`].
struct Columns {
    time: usize,
    src_ip: usize,
    dst_ip: usize,
    dst_port: usize,
    src_port: usize,
    protocol: usize,
    bytes: usize,
    src_bytes: usize,
    dst_bytes: usize,
    dns_qname: usize,
    facts: Vec<(&'static str, usize)>,
}

fn columns() -> &'static Columns {
    static COLUMNS: std::sync::OnceLock<Columns> = std::sync::OnceLock::new();
    COLUMNS.get_or_init(|| {
        let s = event_schema();
        let i = |c: &str| s.index_of(c).expect("an event column");
        Columns {
            time: i(col::TIME),
            src_ip: i(col::SRC_IP),
            dst_ip: i(col::DST_IP),
            dst_port: i(col::DST_PORT),
            src_port: i(col::SRC_PORT),
            protocol: i(col::PROTOCOL),
            bytes: i(col::BYTES),
            src_bytes: i(col::SRC_BYTES),
            dst_bytes: i(col::DST_BYTES),
            dns_qname: i(col::DNS_QNAME),
            facts: FACTS.iter().map(|c| (*c, i(c))).collect(),
        }
    })
}

const SOURCES: usize = Table::Sources as usize;
const NETWORKS: usize = Table::Networks as usize;
const DNS: usize = Table::Dns as usize;
const PEERS: usize = Table::Peers as usize;
const MINUTES: usize = Table::Minutes as usize;
const PORTS: usize = Table::Ports as usize;
const DESTINATIONS: usize = Table::Destinations as usize;
const CALLS: usize = Table::Calls as usize;

impl Summarizer {
    /// A summarizer whose tables hold about `budget` bytes at most ([`BUDGET_BYTES`]).
    pub fn new(budget: usize, inside: Option<&InsideNetworks>) -> Summarizer {
        let mut summary = Summary::empty(inside);
        // Built in `sources` until the file is finished.
        for t in [Table::Sources, Table::Networks, Table::Dns, Table::Peers] {
            summary.give_up(t);
        }
        Summarizer {
            summary,
            sources: Some(HashMap::default()),
            networks: true,
            dns: true,
            peers: true,
            held: [0; 8],
            budget,
            inside: inside.map(InsideNetworks::nets),
            columns: columns(),
        }
    }

    /// Adds a batch of [`event_schema`] rows.
    pub fn add(&mut self, batch: &RecordBatch) {
        let c = self.columns;
        let n = batch.num_rows();
        let s = &mut self.summary;
        s.rows += n as u64;
        for (name, i) in &c.facts {
            let a = batch.column(*i);
            *s.facts.entry((*name).to_string()).or_default() += (n - a.null_count()) as u64;
        }
        let time = batch
            .column(c.time)
            .as_primitive::<TimestampMicrosecondType>();
        let src = batch.column(c.src_ip).as_string::<i32>();
        let dst = batch.column(c.dst_ip).as_string::<i32>();
        let port = batch.column(c.dst_port).as_primitive::<Int32Type>();
        let sport = batch.column(c.src_port).as_primitive::<Int32Type>();
        let proto = batch.column(c.protocol).as_string::<i32>();
        let bytes = batch.column(c.bytes).as_primitive::<Int64Type>();
        let (sb, db) = (
            batch.column(c.src_bytes).as_primitive::<Int64Type>(),
            batch.column(c.dst_bytes).as_primitive::<Int64Type>(),
        );
        let qname = batch.column(c.dns_qname);
        let (keep_networks, keep_dns, keep_peers) = (self.networks, self.dns, self.peers);
        let held = &mut self.held;
        let mut dns = 0u64;
        let mut directional = 0u64;
        for i in 0..n {
            let t = time.is_valid(i).then(|| time.value(i));
            let s_ip = text(src, i);
            let d_ip = text(dst, i);
            let p = port.is_valid(i).then(|| port.value(i));
            let is_query = p == Some(53) || qname.is_valid(i);
            if is_query {
                dns += 1;
            }
            let dns_port = (is_query && sport.is_valid(i)).then(|| sport.value(i));
            if sb.is_valid(i) && db.is_valid(i) {
                directional += 1;
            }
            if let Some(t) = t {
                s.time_min_us = min_opt(s.time_min_us, Some(t));
                s.time_max_us = s.time_max_us.max(Some(t));
                if let Some(m) = &mut s.minutes {
                    let slot = m.entry(t.div_euclid(MINUTE_US)).or_insert_with(|| {
                        held[MINUTES] += 48;
                        0
                    });
                    *slot += 1;
                }
            }
            let mut src_inside = None;
            if let (Some(ip), Some(table)) = (s_ip, &mut self.sources) {
                let entry = match table.get_mut(ip) {
                    Some(e) => e,
                    None => {
                        held[SOURCES] += ENTRY_BYTES + ip.len();
                        table.entry(ip.to_string()).or_default()
                    }
                };
                entry.sum.events += 1;
                if let Some(nets) = &self.inside {
                    src_inside = Some(*entry.inside.get_or_insert_with(|| is_inside(nets, ip)));
                }
                if bytes.is_valid(i) {
                    entry.sum.bytes = add_opt(entry.sum.bytes, Some(bytes.value(i)));
                }
                if let Some(p) = p {
                    held[SOURCES] += entry.sum.ports.insert(distinct::hash_int(i64::from(p)));
                }
                if let (Some(sp), true) = (dns_port, keep_dns) {
                    let d = &mut entry.dns;
                    if d.queries == 0 {
                        held[DNS] += ENTRY_BYTES + ip.len();
                    }
                    d.queries += 1;
                    held[DNS] += d.ports.insert(distinct::hash_int(i64::from(sp)));
                    d.port_min = Some(d.port_min.map_or(sp, |m| m.min(sp)));
                }
                if let Some(d) = d_ip {
                    let h = distinct::hash_str(d);
                    held[SOURCES] += entry.sum.destinations.insert(h);
                    if keep_networks {
                        if entry.networks.is_empty() {
                            held[NETWORKS] += ENTRY_BYTES + ip.len();
                        }
                        let net = network_of(d);
                        let sketch = match entry.networks.get_mut(net.as_ref()) {
                            Some(x) => x,
                            None => {
                                held[NETWORKS] += ENTRY_BYTES + net.len();
                                entry.networks.entry(net.into_owned()).or_default()
                            }
                        };
                        held[NETWORKS] += sketch.insert(h);
                    }
                    if let (Some(t), true) = (t, keep_peers) {
                        match entry.peers.get_mut(d) {
                            Some(g) => g.push(t),
                            None => {
                                if entry.peers.is_empty() {
                                    held[PEERS] += ENTRY_BYTES + ip.len();
                                }
                                held[PEERS] += ENTRY_BYTES + d.len();
                                entry.peers.insert(d.to_string(), Gaps::start(t));
                            }
                        }
                    }
                }
            }
            if let (Some(p), Some(table)) = (p, &mut s.ports) {
                let pr = text(proto, i);
                let protocols = table.entry(p).or_default();
                let slot = match protocols.iter().position(|(x, _)| x.as_deref() == pr) {
                    Some(k) => &mut protocols[k].1,
                    None => {
                        held[PORTS] += ENTRY_BYTES;
                        protocols.push((pr.map(str::to_string), PortSum::default()));
                        &mut protocols.last_mut().expect("pushed").1
                    }
                };
                slot.events += 1;
                if let Some(ip) = s_ip {
                    held[PORTS] += slot.sources.insert(distinct::hash_str(ip));
                }
            }
            if let (Some(nets), Some(table), Some(src), Some(dst), Some(p)) =
                (&self.inside, &mut s.calls, s_ip, d_ip, p)
            {
                let from_inside = src_inside.unwrap_or_else(|| is_inside(nets, src));
                if from_inside && !is_inside(nets, dst) {
                    let ports = match table.get_mut(dst) {
                        Some(x) => x,
                        None => {
                            held[CALLS] += ENTRY_BYTES + dst.len();
                            table.entry(dst.to_string()).or_default()
                        }
                    };
                    let c = ports.entry(p).or_insert_with(|| {
                        held[CALLS] += ENTRY_BYTES;
                        Calls::default()
                    });
                    c.events += 1;
                    held[CALLS] += c.sources.insert(distinct::hash_str(src));
                }
            }
            if let (Some(ip), Some(table)) = (d_ip, &mut s.destinations) {
                let entry = match table.get_mut(ip) {
                    Some(e) => e,
                    None => {
                        held[DESTINATIONS] += ENTRY_BYTES + ip.len();
                        table.entry(ip.to_string()).or_default()
                    }
                };
                entry.events += 1;
                entry.first_us = min_opt(entry.first_us, t);
                if let Some(sip) = s_ip {
                    if entry.source_min.as_deref().is_none_or(|m| sip < m) {
                        entry.source_min = Some(sip.to_string());
                    }
                    if entry.source_max.as_deref().is_none_or(|m| sip > m) {
                        entry.source_max = Some(sip.to_string());
                    }
                }
            }
        }
        *s.facts.entry(FACT_DNS_QUERIES.into()).or_default() += dns;
        *s.facts.entry(FACT_DIRECTIONAL_BYTES.into()).or_default() += directional;
        self.keep_within_budget();
    }

    /// Gives up the largest tables until the rest fit the budget.
    fn keep_within_budget(&mut self) {
        while self.held.iter().sum::<usize>() > self.budget {
            let (largest, _) = self
                .held
                .iter()
                .enumerate()
                .max_by_key(|(_, b)| **b)
                .expect("eight tables");
            self.give_up(Table::from_index(largest).expect("a table's index"));
        }
    }

    fn give_up(&mut self, table: Table) {
        self.held[table.index()] = 0;
        let each = |sources: &mut Option<HashMap<String, Source>>, f: fn(&mut Source)| {
            sources.iter_mut().flat_map(|m| m.values_mut()).for_each(f)
        };
        match table {
            // The map the other three are built in goes with it.
            Table::Sources => {
                self.sources = None;
                (self.networks, self.dns, self.peers) = (false, false, false);
                for t in [NETWORKS, DNS, PEERS] {
                    self.held[t] = 0;
                }
            }
            Table::Networks => {
                self.networks = false;
                each(&mut self.sources, |s| s.networks = HashMap::default());
            }
            Table::Dns => {
                self.dns = false;
                each(&mut self.sources, |s| s.dns = DnsSum::default());
            }
            Table::Peers => {
                self.peers = false;
                each(&mut self.sources, |s| s.peers = HashMap::default());
            }
            Table::Calls => {
                self.summary.give_up(table);
                self.inside = None;
            }
            _ => self.summary.give_up(table),
        }
    }

    pub fn finish(self) -> Summary {
        let mut s = self.summary;
        let Some(map) = self.sources else {
            return s;
        };
        let mut sources = HashMap::with_capacity_and_hasher(map.len(), Default::default());
        let mut networks = self.networks.then(HashMap::default);
        let mut dns = self.dns.then(HashMap::default);
        let mut peers = self.peers.then(HashMap::default);
        for (ip, src) in map {
            if let Some(t) = &mut networks
                && !src.networks.is_empty()
            {
                t.insert(ip.clone(), src.networks);
            }
            if let Some(t) = &mut dns
                && src.dns.queries > 0
            {
                t.insert(ip.clone(), src.dns);
            }
            if let Some(t) = &mut peers
                && !src.peers.is_empty()
            {
                t.insert(ip.clone(), src.peers);
            }
            sources.insert(ip, src.sum);
        }
        s.sources = Some(sources);
        s.networks = networks;
        s.dns = dns;
        s.peers = peers;
        s
    }
}

/// `ip` is an address in one of `nets` (as the lake's SQL function `ip_in` decides).
fn is_inside(nets: &[ipnet::IpNet], ip: &str) -> bool {
    ip.parse::<std::net::IpAddr>()
        .is_ok_and(|a| nets.iter().any(|n| n.contains(&a)))
}

fn text(a: &datafusion::arrow::array::StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}
