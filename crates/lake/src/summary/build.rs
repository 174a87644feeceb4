//! [`Summarizer`]: one file's summary, built from the batches written to the file (on the
//! summary thread of `crate::write`), within a memory budget.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use datafusion::arrow::record_batch::RecordBatch;
use secviz_parse::schema::{col, event_schema};

use super::keys::{dns_name, domain_of, network_of, upper};
use super::top::NAME_BYTES;
use super::{
    Calls, ConnSum, DnsSum, DomainSum, ENTRY_BYTES, FACT_DIRECTIONAL_BYTES, FACT_DNS_QUERIES,
    FACTS, Gaps, HashMap, LoginSum, MINUTE_US, PortSum, SourceSum, Summary, Table, WebSum, add_opt,
    distinct, min_opt,
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
    /// About what each table holds, in bytes ([`Table::index`]).
    held: [usize; TABLES],
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
    logins: Option<LoginSum>,
    web: Option<WebSum>,
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
                    let d = &mut entry.dns;
                    if d.queries == 0 {
                        held[DNS] += ENTRY_BYTES + ip.len();
                    }
                    d.queries += 1;
                    held[DNS] += d.ports.insert(distinct::hash_int(i64::from(sp)));
                    d.port_min = Some(d.port_min.map_or(sp, |m| m.min(sp)));
                }
                if let (Some(result), true) = (text(outcome, i), keep_logins) {
                    let l = entry.logins.get_or_insert_with(|| {
                        held[LOGINS] += ENTRY_BYTES + ip.len();
                        LoginSum::default()
                    });
                    held[LOGINS] += add_login(l, result, text(user, i));
                }
                if let (true, true) = (status.is_valid(i), keep_web) {
                    let w = entry.web.get_or_insert_with(|| {
                        held[WEB] += ENTRY_BYTES + ip.len();
                        WebSum::default()
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
                        let c = match entry.conns.get_mut(d) {
                            Some(c) => c,
                            None => {
                                if entry.conns.is_empty() {
                                    held[CONNS] += ENTRY_BYTES + ip.len();
                                }
                                held[CONNS] += ENTRY_BYTES + d.len();
                                entry.conns.entry(d.to_string()).or_default()
                            }
                        };
                        if both {
                            c.directional += 1;
                            c.sent = c.sent.saturating_add(sb.value(i));
                            c.received = c.received.saturating_add(db.value(i));
                        }
                        if duration.is_valid(i) {
                            let before = c.ports.len();
                            c.longest(p, duration.value(i), 1);
                            held[CONNS] += 24 * (c.ports.len() - before);
                        }
                    }
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
            if let Some(q) = text(qname, i) {
                let name = dns_name(q);
                if let Some(n) = &mut s.names {
                    match n.names.count(&name) {
                        Some(true) => held[NAMES] += NAME_BYTES + name.len(),
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
                    None => {
                        held[NAMES] += ENTRY_BYTES + t.len();
                        n.types.entry(t.into_owned()).or_default()
                    }
                };
                *slot += 1;
            }
            if let (Some(n), Some(ip), Some(code), true) =
                (&mut s.names, s_ip, text(rcode, i), is_query)
            {
                let a = match n.clients.get_mut(ip) {
                    Some(x) => x,
                    None => {
                        held[NAMES] += ENTRY_BYTES + ip.len();
                        n.clients.entry(ip.to_string()).or_default()
                    }
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
                .expect("a table");
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
                (self.logins, self.web, self.conns) = (false, false, false);
                for t in PER_SOURCE {
                    self.held[t.index()] = 0;
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
        let mut sources = HashMap::with_capacity_and_hasher(map.len(), Default::default());
        let mut networks = self.networks.then(HashMap::default);
        let mut dns = self.dns.then(HashMap::default);
        let mut peers = self.peers.then(HashMap::default);
        let mut logins = self.logins.then(HashMap::default);
        let mut web = self.web.then(HashMap::default);
        let mut conns = self.conns.then(HashMap::default);
        for (ip, src) in map {
            if let (Some(t), Some(l)) = (&mut logins, src.logins) {
                t.insert(ip.clone(), l);
            }
            if let (Some(t), Some(w)) = (&mut web, src.web) {
                t.insert(ip.clone(), w);
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

/// Keeps `v` in `slot` if it comes first in text order; the bytes it held more.
fn keep_first(slot: &mut Option<String>, v: &str) -> usize {
    match slot {
        Some(x) if x.as_str() <= v => 0,
        Some(x) => {
            let grew = v.len().saturating_sub(x.len());
            *x = v.to_string();
            grew
        }
        None => {
            *slot = Some(v.to_string());
            v.len() + 24
        }
    }
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
        None => {
            grew += ENTRY_BYTES + domain.len();
            table.entry(domain.to_string()).or_default()
        }
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
mod tests {
    use super::*;

    #[test]
    fn a_domain_keeps_its_first_names_in_text_order() {
        let mut t = HashMap::default();
        for i in (0..200).rev() {
            add_domain_query(&mut t, &format!("n{i:03}.example.com"), Some("10.0.0.1"));
        }
        add_domain_query(&mut t, "example.com", None);
        let d = &t["example.com"];
        assert_eq!(d.queries, 201);
        assert_eq!(d.sample.len(), crate::summary::DOMAIN_SAMPLE);
        assert_eq!(d.sample[0], "n000.example.com");
        assert_eq!(d.sample[63], "n063.example.com");
        // 200 names of 4 characters before the domain, and the bare domain's -1.
        assert_eq!(d.label_chars, 200 * 4 - 1);
        assert_eq!(d.client.as_deref(), Some("10.0.0.1"));
    }
}
