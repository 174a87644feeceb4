//! [`Summarizer`]: one file's summary, built from the batches written to the file (on the
//! summary thread of `crate::write`), within a memory budget.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use datafusion::arrow::record_batch::RecordBatch;
use secviz_parse::schema::{col, event_schema};

use super::keys::{dns_name, domain_of, network_of, upper};
use super::{
    Calls, ConnSum, DestinationSum, DnsSum, DomainSum, FACT_DIRECTIONAL_BYTES, FACT_DNS_QUERIES,
    FACTS, Gaps, HashMap, LoginSum, MINUTE_US, PortSum, SourceSum, Summary, Table, WebSum, add_opt,
    distinct, footprint, min_opt,
};
use crate::inside::InsideNetworks;

/// Builds the summary of one file from the batches written to it.
///
/// The tables keyed by source (sources, networks, DNS, peers, logins, web requests,
/// connections) are built in one map, one lookup per row, and split when the file is
/// finished.
pub(crate) struct Summarizer {
    /// The head and the tables not keyed by source.
    summary: Summary,
    /// Per source, while the sources table is kept.
    sources: Option<HashMap<String, Source>>,
    /// Which of the tables keyed by source are still kept.
    networks: bool,
    dns: bool,
    peers: bool,
    logins: bool,
    web: bool,
    conns: bool,
    /// What each table holds in memory, in bytes ([`Table::index`]), as [`held`] measures
    /// it. The tables keyed by source count here what the map of sources holds for them.
    held: [usize; TABLES],
    /// Per table keyed by source, its sources so far and their addresses' bytes:
    /// [`Summarizer::finish`] builds each such table as a map of its own, with a copy of
    /// each address, while the map of sources is still held, so the budget counts those
    /// maps too ([`Summarizer::split_bytes`]).
    keyed: [(usize, usize); TABLES],
    budget: usize,
    columns: &'static Columns,
    /// The inside networks, parsed, when calls are counted.
    inside: Option<Vec<ipnet::IpNet>>,
}

/// One source's sums while a file is written.
///
/// The map of sources holds every source's slot, used or not, so what most sources lack
/// is boxed: DNS queries, logins and web requests (a source's slot went from 496 bytes to
/// 216 with them boxed and the maps' hash keys held once, [`super::ProcessKeys`]).
#[derive(Default)]
struct Source {
    sum: SourceSum,
    /// Whether the address is inside, decided once per file.
    inside: Option<bool>,
    networks: HashMap<String, distinct::Distinct>,
    dns: Option<Box<DnsSum>>,
    peers: HashMap<String, Gaps>,
    logins: Option<Box<LoginSum>>,
    web: Option<Box<WebSum>>,
    conns: HashMap<String, ConnSum>,
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
    dns_qtype: usize,
    dns_rcode: usize,
    duration: usize,
    http_status: usize,
    http_uri: usize,
    user: usize,
    auth_result: usize,
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
            dns_qtype: i(col::DNS_QTYPE),
            dns_rcode: i(col::DNS_RCODE),
            duration: i(col::DURATION),
            http_status: i(col::HTTP_STATUS),
            http_uri: i(col::HTTP_URI),
            user: i(col::USER),
            auth_result: i(col::AUTH_RESULT),
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
const LOGINS: usize = Table::Logins as usize;
const WEB: usize = Table::Web as usize;
const CONNS: usize = Table::Conns as usize;
const DOMAINS: usize = Table::Domains as usize;
const NAMES: usize = Table::Names as usize;
const TABLES: usize = Table::ALL.len();

/// The tables built in the map of sources until the file is finished.
const PER_SOURCE: [Table; 7] = [
    Table::Sources,
    Table::Networks,
    Table::Dns,
    Table::Peers,
    Table::Logins,
    Table::Web,
    Table::Conns,
];

impl Summarizer {
    /// A summarizer whose tables hold about `budget` bytes at most ([`BUDGET_BYTES`]).
    pub fn new(budget: usize, inside: Option<&InsideNetworks>) -> Summarizer {
        let mut summary = Summary::empty(inside);
        // Built in `sources` until the file is finished.
        for t in PER_SOURCE {
            summary.give_up(t);
        }
        Summarizer {
            summary,
            sources: Some(HashMap::default()),
            networks: true,
            dns: true,
            peers: true,
            logins: true,
            web: true,
            conns: true,
            held: [0; TABLES],
            keyed: [(0, 0); TABLES],
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
        let qname = batch.column(c.dns_qname).as_string::<i32>();
        let qtype = batch.column(c.dns_qtype).as_string::<i32>();
        let rcode = batch.column(c.dns_rcode).as_string::<i32>();
        let duration = batch.column(c.duration).as_primitive::<Float64Type>();
        let status = batch.column(c.http_status).as_primitive::<Int32Type>();
        let uri = batch.column(c.http_uri).as_string::<i32>();
        let user = batch.column(c.user).as_string::<i32>();
        let outcome = batch.column(c.auth_result).as_string::<i32>();
        let (keep_networks, keep_dns, keep_peers) = (self.networks, self.dns, self.peers);
        let (keep_logins, keep_web, keep_conns) = (self.logins, self.web, self.conns);
        let held = &mut self.held;
        let keyed = &mut self.keyed;
        // A source's first entry in a table keyed by source: finish gives it a slot there.
        let mut first_in = |t: usize, ip: &str| {
            keyed[t].0 += 1;
            keyed[t].1 += ip.len();
        };
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
                        first_in(SOURCES, ip);
                        added(table, ip, &mut held[SOURCES])
                    }
                };
                entry.sum.events += 1;
                if let Some(nets) = &self.inside {
                    src_inside = Some(
                        *entry
                            .inside
                            .get_or_insert_with(|| InsideNetworks::holds(nets, ip)),
                    );
                }
                if bytes.is_valid(i) {
                    entry.sum.bytes = add_opt(entry.sum.bytes, Some(bytes.value(i)));
                }
                if let Some(p) = p {
                    held[SOURCES] += entry.sum.ports.insert(distinct::hash_int(i64::from(p)));
                }
                if let (Some(sp), true) = (dns_port, keep_dns) {
                    let d = entry.dns.get_or_insert_with(|| {
                        first_in(DNS, ip);
                        held[DNS] += size_of::<DnsSum>();
                        Box::default()
                    });
                    d.queries += 1;
                    held[DNS] += d.ports.insert(distinct::hash_int(i64::from(sp)));
                    d.port_min = Some(d.port_min.map_or(sp, |m| m.min(sp)));
                }
                if let (Some(result), true) = (text(outcome, i), keep_logins) {
                    let l = entry.logins.get_or_insert_with(|| {
                        first_in(LOGINS, ip);
                        held[LOGINS] += size_of::<LoginSum>();
                        Box::default()
                    });
                    held[LOGINS] += add_login(l, result, text(user, i));
                }
                if let (true, true) = (status.is_valid(i), keep_web) {
                    let w = entry.web.get_or_insert_with(|| {
                        first_in(WEB, ip);
                        held[WEB] += size_of::<WebSum>();
                        Box::default()
                    });
                    w.requests += 1;
                    if let (404, Some(u)) = (status.value(i), text(uri, i)) {
                        held[WEB] += w.missing.insert(distinct::hash_str(u));
                        held[WEB] += keep_first(&mut w.example, u);
                    }
                }
                if let Some(d) = d_ip {
                    let h = distinct::hash_str(d);
                    let both = sb.is_valid(i) && db.is_valid(i);
                    if keep_conns && (both || duration.is_valid(i)) {
                        if entry.conns.is_empty() {
                            first_in(CONNS, ip);
                        }
                        let c = match entry.conns.get_mut(d) {
                            Some(c) => c,
                            None => added(&mut entry.conns, d, &mut held[CONNS]),
                        };
                        if both {
                            c.directional += 1;
                            c.sent = c.sent.saturating_add(sb.value(i));
                            c.received = c.received.saturating_add(db.value(i));
                        }
                        if duration.is_valid(i) {
                            held[CONNS] += footprint::grown(&mut c.ports, footprint::vec, |v| {
                                ConnSum::longest_in(v, p, duration.value(i), 1)
                            });
                        }
                    }
                    held[SOURCES] += entry.sum.destinations.insert(h);
                    if keep_networks {
                        if entry.networks.is_empty() {
                            first_in(NETWORKS, ip);
                        }
                        let net = network_of(d);
                        let sketch = match entry.networks.get_mut(net.as_ref()) {
                            Some(x) => x,
                            None => added(&mut entry.networks, &net, &mut held[NETWORKS]),
                        };
                        held[NETWORKS] += sketch.insert(h);
                    }
                    if let (Some(t), true) = (t, keep_peers) {
                        match entry.peers.get_mut(d) {
                            Some(g) => g.push(t),
                            None => {
                                if entry.peers.is_empty() {
                                    first_in(PEERS, ip);
                                }
                                *added(&mut entry.peers, d, &mut held[PEERS]) = Gaps::start(t);
                            }
                        }
                    }
                }
            }
            if let (Some(p), Some(table)) = (p, &mut s.ports) {
                let pr = text(proto, i);
                let protocols = match table.get_mut(&p) {
                    Some(x) => x,
                    None => {
                        let grew = footprint::grown(table, footprint::map, |t| {
                            t.insert(p, Vec::new());
                        });
                        held[PORTS] += grew;
                        table.get_mut(&p).expect("inserted")
                    }
                };
                let slot = match protocols.iter().position(|(x, _)| x.as_deref() == pr) {
                    Some(k) => &mut protocols[k].1,
                    None => {
                        held[PORTS] += footprint::grown(protocols, footprint::vec, |v| {
                            v.push((pr.map(str::to_string), PortSum::default()))
                        });
                        held[PORTS] += pr.map_or(0, str::len);
                        &mut protocols.last_mut().expect("pushed").1
                    }
                };
                slot.events += 1;
                if let Some(ip) = s_ip {
                    held[PORTS] += slot.sources.insert(distinct::hash_str(ip));
                }
            }
            if let Some(q) = text(qname, i) {
                let name = dns_name(q);
                if let Some(n) = &mut s.names {
                    let before = n.names.map_bytes();
                    match n.names.count(&name) {
                        Some(true) => {
                            held[NAMES] += n.names.map_bytes().saturating_sub(before) + name.len()
                        }
                        Some(false) => {}
                        // Reduced to the most queried: measured again.
                        None => held[NAMES] = n.held_bytes(),
                    }
                }
                if let (Some(table), true) = (&mut s.domains, name.contains('.')) {
                    held[DOMAINS] += add_domain_query(table, &name, s_ip);
                }
            }
            if let (Some(n), Some(t)) = (&mut s.names, text(qtype, i)) {
                let t = upper(t);
                let slot = match n.types.get_mut(t.as_ref()) {
                    Some(x) => x,
                    None => added(&mut n.types, &t, &mut held[NAMES]),
                };
                *slot += 1;
            }
            if let (Some(n), Some(ip), Some(code), true) =
                (&mut s.names, s_ip, text(rcode, i), is_query)
            {
                let a = match n.clients.get_mut(ip) {
                    Some(x) => x,
                    None => added(&mut n.clients, ip, &mut held[NAMES]),
                };
                a.queries += 1;
                if upper(code) == "NXDOMAIN" || code == "3" {
                    a.nxdomain += 1;
                }
            }
            if let (Some(nets), Some(table), Some(src), Some(dst), Some(p)) =
                (&self.inside, &mut s.calls, s_ip, d_ip, p)
            {
                let from_inside = src_inside.unwrap_or_else(|| InsideNetworks::holds(nets, src));
                if from_inside && !InsideNetworks::holds(nets, dst) {
                    let ports = match table.get_mut(dst) {
                        Some(x) => x,
                        None => added(table, dst, &mut held[CALLS]),
                    };
                    let c = match ports.get_mut(&p) {
                        Some(c) => c,
                        None => {
                            held[CALLS] += footprint::grown(ports, footprint::map, |m| {
                                m.insert(p, Calls::default());
                            });
                            ports.get_mut(&p).expect("inserted")
                        }
                    };
                    c.events += 1;
                    held[CALLS] += c.sources.insert(distinct::hash_str(src));
                }
            }
            if let (Some(ip), Some(table)) = (d_ip, &mut s.destinations) {
                let entry = match table.get_mut(ip) {
                    Some(e) => e,
                    None => added(table, ip, &mut held[DESTINATIONS]),
                };
                entry.events += 1;
                entry.first_us = min_opt(entry.first_us, t);
                if let Some(sip) = s_ip {
                    held[DESTINATIONS] += add_source(entry, sip);
                }
            }
        }
        *s.facts.entry(FACT_DNS_QUERIES.into()).or_default() += dns;
        *s.facts.entry(FACT_DIRECTIONAL_BYTES.into()).or_default() += directional;
        self.keep_within_budget();
    }

    /// Gives up the largest tables until the rest fit the budget.
    fn keep_within_budget(&mut self) {
        loop {
            let held = self.held_per_table();
            if held.iter().sum::<usize>() <= self.budget {
                return;
            }
            let (largest, _) = held
                .iter()
                .enumerate()
                .max_by_key(|(_, b)| **b)
                .expect("a table");
            self.give_up(Table::from_index(largest).expect("a table's index"));
        }
    }

    /// What each table holds, with what [`Summarizer::finish`] will build for it.
    fn held_per_table(&self) -> [usize; TABLES] {
        let split = self.split_bytes();
        std::array::from_fn(|t| self.held[t] + split[t])
    }

    /// What the summary holds in memory now and will hold at most while it is finished,
    /// in bytes: what the budget bounds.
    #[cfg(test)]
    fn held_bytes(&self) -> usize {
        self.held_per_table().iter().sum()
    }

    /// What [`Summarizer::finish`] allocates for each table keyed by source: a map built
    /// to size, and a copy of each address.
    fn split_bytes(&self) -> [usize; TABLES] {
        fn table<V>((entries, keys): (usize, usize)) -> usize {
            footprint::map_for::<String, V>(entries) + keys
        }
        let k = &self.keyed;
        let mut split = [0; TABLES];
        split[SOURCES] = table::<SourceSum>(k[SOURCES]);
        split[NETWORKS] = table::<HashMap<String, distinct::Distinct>>(k[NETWORKS]);
        split[DNS] = table::<DnsSum>(k[DNS]);
        split[PEERS] = table::<HashMap<String, Gaps>>(k[PEERS]);
        split[LOGINS] = table::<LoginSum>(k[LOGINS]);
        split[WEB] = table::<WebSum>(k[WEB]);
        split[CONNS] = table::<HashMap<String, ConnSum>>(k[CONNS]);
        split
    }

    fn give_up(&mut self, table: Table) {
        self.held[table.index()] = 0;
        self.keyed[table.index()] = (0, 0);
        let each = |sources: &mut Option<HashMap<String, Source>>, f: fn(&mut Source)| {
            sources.iter_mut().flat_map(|m| m.values_mut()).for_each(f)
        };
        match table {
            // The map the other three are built in goes with it.
            Table::Sources => {
                self.sources = None;
                (self.networks, self.dns, self.peers) = (false, false, false);
                (self.logins, self.web, self.conns) = (false, false, false);
                for t in PER_SOURCE {
                    self.held[t.index()] = 0;
                    self.keyed[t.index()] = (0, 0);
                }
            }
            Table::Networks => {
                self.networks = false;
                each(&mut self.sources, |s| s.networks = HashMap::default());
            }
            Table::Dns => {
                self.dns = false;
                each(&mut self.sources, |s| s.dns = None);
            }
            Table::Peers => {
                self.peers = false;
                each(&mut self.sources, |s| s.peers = HashMap::default());
            }
            Table::Logins => {
                self.logins = false;
                each(&mut self.sources, |s| s.logins = None);
            }
            Table::Web => {
                self.web = false;
                each(&mut self.sources, |s| s.web = None);
            }
            Table::Conns => {
                self.conns = false;
                each(&mut self.sources, |s| s.conns = HashMap::default());
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
        // Each built to size, as `split_bytes` counts it.
        fn sized<V>(entries: usize) -> HashMap<String, V> {
            HashMap::with_capacity_and_hasher(entries, Default::default())
        }
        let k = self.keyed.map(|(entries, _)| entries);
        let mut sources = sized(k[SOURCES]);
        let mut networks = self.networks.then(|| sized(k[NETWORKS]));
        let mut dns = self.dns.then(|| sized(k[DNS]));
        let mut peers = self.peers.then(|| sized(k[PEERS]));
        let mut logins = self.logins.then(|| sized(k[LOGINS]));
        let mut web = self.web.then(|| sized(k[WEB]));
        let mut conns = self.conns.then(|| sized(k[CONNS]));
        for (ip, src) in map {
            if let (Some(t), Some(l)) = (&mut logins, src.logins) {
                t.insert(ip.clone(), *l);
            }
            if let (Some(t), Some(w)) = (&mut web, src.web) {
                t.insert(ip.clone(), *w);
            }
            if let Some(t) = &mut conns
                && !src.conns.is_empty()
            {
                t.insert(ip.clone(), src.conns);
            }
            if let Some(t) = &mut networks
                && !src.networks.is_empty()
            {
                t.insert(ip.clone(), src.networks);
            }
            if let (Some(t), Some(d)) = (&mut dns, src.dns) {
                t.insert(ip.clone(), *d);
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
        s.logins = logins;
        s.web = web;
        s.conns = conns;
        s
    }
}

/// Counts a login with `result` by the account `user`; the bytes it held more.
fn add_login(l: &mut LoginSum, result: &str, user: Option<&str>) -> usize {
    let mut grew = 0;
    match result {
        "failure" => {
            l.failures += 1;
            if let Some(u) = user {
                grew += l.accounts.insert(distinct::hash_str(u));
                grew += keep_first(&mut l.tried, u);
            }
        }
        "success" => {
            l.successes += 1;
            if let Some(u) = user {
                grew += keep_first(&mut l.got_in, u);
            }
        }
        _ => {}
    }
    grew
}

/// Keeps `v` in `slot` if it comes first in text order; the bytes its allocation grew by.
fn keep_first(slot: &mut Option<String>, v: &str) -> usize {
    match slot {
        Some(x) if x.as_str() <= v => 0,
        Some(x) => {
            let grew = v.len().saturating_sub(x.capacity());
            *x = v.to_string();
            grew
        }
        None => {
            *slot = Some(v.to_string());
            v.len()
        }
    }
}

/// Inserts `key`, not yet in `table`, with the default value; adds the bytes the table's
/// allocation grew by, and the key's, to `held`.
fn added<'a, V: Default>(
    table: &'a mut HashMap<String, V>,
    key: &str,
    held: &mut usize,
) -> &'a mut V {
    *held += footprint::grown(table, footprint::map, |t| {
        t.insert(key.to_string(), V::default());
    }) + key.len();
    table.get_mut(key).expect("inserted")
}

/// Counts `source` among a destination's: its smallest and largest source (text order).
/// The bytes its strings grew by.
fn add_source(d: &mut DestinationSum, source: &str) -> usize {
    let mut grew = 0;
    if d.source_min.as_deref().is_none_or(|m| source < m) {
        grew += source
            .len()
            .saturating_sub(footprint::opt_string(&d.source_min));
        d.source_min = Some(source.to_string());
    }
    if d.source_max.as_deref().is_none_or(|m| source > m) {
        grew += source
            .len()
            .saturating_sub(footprint::opt_string(&d.source_max));
        d.source_max = Some(source.to_string());
    }
    grew
}

/// Counts a query of `name` (which has a dot) by `client` under its domain; the bytes the
/// table held more.
fn add_domain_query(
    table: &mut HashMap<String, DomainSum>,
    name: &str,
    client: Option<&str>,
) -> usize {
    let domain = domain_of(name);
    let mut grew = 0;
    let d = match table.get_mut(domain) {
        Some(d) => d,
        None => added(table, domain, &mut grew),
    };
    d.queries += 1;
    let chars = |s: &str| {
        if s.is_ascii() {
            s.len()
        } else {
            s.chars().count()
        }
    };
    d.label_chars += chars(name) as i64 - chars(domain) as i64 - 1;
    grew += d.names.insert(distinct::hash_str(name));
    if let Some(c) = client {
        grew += d.clients.insert(distinct::hash_str(c));
        grew += keep_first(&mut d.client, c);
    }
    if name.len() > domain.len() {
        grew += d.sample_name(name);
    }
    grew
}

fn text(a: &datafusion::arrow::array::StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

#[cfg(test)]
mod tests;
