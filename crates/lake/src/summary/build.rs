//! [`Summarizer`]: one file's summary, built from the batches written to the file (on the
//! summary thread of `crate::write`), within a memory budget.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{Int32Type, Int64Type, TimestampMicrosecondType};
use datafusion::arrow::record_batch::RecordBatch;
use secviz_parse::schema::{col, event_schema};

use super::{
    CALLS, Calls, DESTINATIONS, ENTRY_BYTES, FACT_DIRECTIONAL_BYTES, FACT_DNS_QUERIES, FACTS, Gaps,
    MINUTE_US, MINUTES, PORTS, PortSum, SOURCES, Summary, add_opt, distinct, min_opt, network_of,
};
use crate::inside::InsideNetworks;

/// Builds the summary of one file from the batches written to it.
pub(crate) struct Summarizer {
    summary: Summary,
    /// About what the tables hold, in bytes.
    held: [usize; 5],
    budget: usize,
    columns: &'static Columns,
    /// The inside networks, parsed, when calls are counted.
    inside: Option<Vec<ipnet::IpNet>>,
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

impl Summarizer {
    /// A summarizer whose tables hold about `budget` bytes at most ([`BUDGET_BYTES`]).
    pub fn new(budget: usize, inside: Option<&InsideNetworks>) -> Summarizer {
        Summarizer {
            summary: Summary::empty(inside),
            held: [0; 5],
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
                        self.held[MINUTES] += 48;
                        0
                    });
                    *slot += 1;
                }
            }
            let mut src_inside = None;
            if let (Some(ip), Some(table)) = (s_ip, &mut s.sources) {
                let entry = match table.get_mut(ip) {
                    Some(e) => e,
                    None => {
                        self.held[SOURCES] += ENTRY_BYTES + ip.len();
                        table.entry(ip.to_string()).or_default()
                    }
                };
                entry.events += 1;
                if let Some(nets) = &self.inside {
                    src_inside = Some(*entry.inside.get_or_insert_with(|| is_inside(nets, ip)));
                }
                if bytes.is_valid(i) {
                    entry.bytes = add_opt(entry.bytes, Some(bytes.value(i)));
                }
                if let Some(p) = p {
                    self.held[SOURCES] += entry.ports.insert(distinct::hash_int(i64::from(p)));
                }
                if let Some(sp) = dns_port {
                    entry.dns_queries += 1;
                    self.held[SOURCES] += entry.dns_ports.insert(distinct::hash_int(i64::from(sp)));
                    entry.dns_port_min = Some(entry.dns_port_min.map_or(sp, |m| m.min(sp)));
                }
                if let Some(d) = d_ip {
                    let h = distinct::hash_str(d);
                    self.held[SOURCES] += entry.destinations.insert(h);
                    let net = network_of(d);
                    let sketch = match entry.networks.get_mut(net.as_ref()) {
                        Some(x) => x,
                        None => {
                            self.held[SOURCES] += ENTRY_BYTES + net.len();
                            entry.networks.entry(net.into_owned()).or_default()
                        }
                    };
                    self.held[SOURCES] += sketch.insert(h);
                    if let Some(t) = t {
                        match entry.peers.get_mut(d) {
                            Some(g) => g.push(t),
                            None => {
                                self.held[SOURCES] += ENTRY_BYTES + d.len();
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
                        self.held[PORTS] += ENTRY_BYTES;
                        protocols.push((pr.map(str::to_string), PortSum::default()));
                        &mut protocols.last_mut().expect("pushed").1
                    }
                };
                slot.events += 1;
                if let Some(ip) = s_ip {
                    self.held[PORTS] += slot.sources.insert(distinct::hash_str(ip));
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
                            self.held[CALLS] += ENTRY_BYTES + dst.len();
                            table.entry(dst.to_string()).or_default()
                        }
                    };
                    let c = ports.entry(p).or_insert_with(|| {
                        self.held[CALLS] += ENTRY_BYTES;
                        Calls::default()
                    });
                    c.events += 1;
                    self.held[CALLS] += c.sources.insert(distinct::hash_str(src));
                }
            }
            if let (Some(ip), Some(table)) = (d_ip, &mut s.destinations) {
                let entry = match table.get_mut(ip) {
                    Some(e) => e,
                    None => {
                        self.held[DESTINATIONS] += ENTRY_BYTES + ip.len();
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
                .expect("five tables");
            self.summary.give_up(largest);
            self.held[largest] = 0;
            if largest == CALLS {
                self.inside = None;
            }
        }
    }

    pub fn finish(self) -> Summary {
        self.summary
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
