//! Connections between the inside and the outside: fan-in to a rare server, long
//! connections, exfiltration by byte ratio.

use std::collections::HashMap;

use super::baseline::{ln1p, rank, score_of_z, times, typical_count};
use super::cells::each_row;
use super::{Detail, Finding, Focus, Read, Sql};
use crate::inside::InsideNetworks;
use crate::query::QueryError;
use crate::summary::Summary;

/// Ports of services so common that a server on them is never "rare": the web, mail,
/// DNS, time, remote shells.
const COMMON_PORTS: &[i64] = &[
    20, 21, 22, 25, 53, 80, 110, 123, 143, 443, 465, 587, 853, 993, 995,
];

/// Most outside servers on one port for the port to count as rare.
const RARE_PORT_SERVERS: u64 = 2;

/// Outside servers on a port that at most one other outside server uses here (and not a
/// common service port), called by many inside hosts: what bots do with their command
/// and control. Scored by the number of inside callers, log scale, against every outside
/// server on such a rare port (model one caller, floor 0.35).
pub(crate) async fn fan_in(
    q: &Sql<'_>,
    summary: Option<&Summary>,
    inside: &InsideNetworks,
    limit: usize,
    min: i64,
) -> Result<(Vec<Finding>, Read), QueryError> {
    // (server, port, inside callers, events, outside servers on the port, callers estimated)
    type Row = (String, i64, u64, u64, u64, bool);
    // From the summaries when they counted calls with the networks asked about.
    let same = |n: &InsideNetworks| InsideNetworks::union([n]) == InsideNetworks::union([inside]);
    let (rows, read): (Vec<Row>, Read) = match summary
        .filter(|s| s.calls_inside.as_ref().is_some_and(same))
        .and_then(|s| s.calls.as_ref())
    {
        Some(calls) => {
            let mut servers: HashMap<i32, u64> = HashMap::new();
            for ports in calls.values() {
                for port in ports.keys() {
                    *servers.entry(*port).or_default() += 1;
                }
            }
            let rows = calls
                .iter()
                .flat_map(|(dst, ports)| {
                    let servers = &servers;
                    ports.iter().map(move |(port, c)| {
                        (
                            dst.clone(),
                            i64::from(*port),
                            c.sources.count(),
                            c.events,
                            servers[port],
                            !c.sources.is_exact(),
                        )
                    })
                })
                .collect();
            (rows, Read::Summaries)
        }
        None => (
            fan_in_rows(q, inside)
                .await?
                .into_iter()
                .map(|(d, p, s, e, n)| (d, p, s, e, n, false))
                .collect(),
            Read::Rows,
        ),
    };
    let mut rows: Vec<Row> = rows
        .into_iter()
        .filter(|r| r.4 <= RARE_PORT_SERVERS && !COMMON_PORTS.contains(&r.1))
        .collect();
    rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let found = rank(
        rows,
        |r| ln1p(r.2),
        ln1p(1),
        0.35,
        |r| r.2 as i64 >= min,
        limit,
        |(dst, port, sources, events, servers, estimated), b, z| {
            let typical = typical_count(b);
            let alone = if servers <= 1 {
                format!("the only outside server on port {port} here")
            } else {
                format!("one of {servers} outside servers on port {port} here")
            };
            Finding {
                analysis: "fan-in",
                score: score_of_z(z),
                z: Some(z),
                headline: format!(
                    "{}{sources} inside hosts called {dst} on port {port} ({events} events), {alone}, where a typical server on a rare port has {typical:.0} caller{}: shared command and control, or a service nobody else uses.",
                    if estimated { "About " } else { "" },
                    if typical.round() == 1.0 { "" } else { "s" }
                ),
                focus: Focus::on([("dst_ip", dst.clone()), ("dst_port", port.to_string())]),
                detail: Detail::FanIn {
                    dst,
                    port,
                    sources,
                    events,
                    sources_estimated: estimated,
                },
            }
        },
    );
    Ok((found, read))
}

/// Every outside server and port with its inside callers, from the rows.
async fn fan_in_rows(
    q: &Sql<'_>,
    inside: &InsideNetworks,
) -> Result<Vec<(String, i64, u64, u64, u64)>, QueryError> {
    let sql = format!(
        "WITH s AS ( \
           SELECT dst_ip, dst_port, count(DISTINCT src_ip) AS sources, count(*) AS events \
           FROM events \
           WHERE src_ip IS NOT NULL AND dst_ip IS NOT NULL AND dst_port IS NOT NULL \
             AND {} AND NOT {} \
           GROUP BY dst_ip, dst_port), \
         p AS (SELECT dst_port, count(*) AS servers FROM s GROUP BY dst_port) \
         SELECT s.dst_ip, s.dst_port, s.sources, s.events, p.servers \
         FROM s JOIN p ON s.dst_port = p.dst_port",
        inside.sql_predicate("src_ip"),
        inside.sql_predicate("dst_ip"),
    );
    let batches = q.rows(&sql, vec![], None).await?;
    Ok(each_row(&batches, |r| {
        Some((r.string(0)?, r.int(1)?, r.count(2), r.count(3), r.count(4)))
    }))
}

/// The longest connection of a source, destination and port: (source, destination,
/// port, seconds, connections with a duration).
type Connection = (String, String, Option<i64>, f64, u64);

/// Connections that stay open far longer than the typical connection (the longest of
/// each source, destination and port; seconds on a log scale, model one second, floor
/// 0.5), at least `min_seconds`: remote shells, tunnels, forgotten sessions. Read from the
/// summaries' connections when they are kept (exact).
pub(crate) async fn long_connections(
    q: &Sql<'_>,
    summary: Option<&Summary>,
    limit: usize,
    min_seconds: f64,
) -> Result<(Vec<Finding>, Read), QueryError> {
    let (mut rows, read): (Vec<Connection>, Read) = match summary.and_then(|s| s.conns.as_ref()) {
        Some(conns) => (
            conns
                .iter()
                .flat_map(|(src, dsts)| {
                    dsts.iter().flat_map(move |(dst, c)| {
                        c.ports.iter().map(move |(port, l)| {
                            (
                                src.clone(),
                                dst.clone(),
                                port.map(i64::from),
                                l.seconds,
                                l.connections,
                            )
                        })
                    })
                })
                .collect(),
            Read::Summaries,
        ),
        None => (connection_rows(q).await?, Read::Rows),
    };
    rows.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    let found = rank(
        rows,
        |r| r.3.max(0.0).ln_1p(),
        1f64.ln_1p(),
        0.5,
        |r| r.3 >= min_seconds,
        limit,
        |(src, dst, port, seconds, connections), b, z| {
            let typical = b.median.exp_m1().max(0.0);
            let to = match port {
                Some(p) => format!("{dst} port {p}"),
                None => dst.clone(),
            };
            let mut focus = Focus::on([("src_ip", src.clone()), ("dst_ip", dst.clone())]);
            if let Some(p) = port {
                focus.values.insert("dst_port".into(), p.to_string());
            }
            Finding {
                analysis: "long-connections",
                score: score_of_z(z),
                z: Some(z),
                headline: format!(
                    "{src} kept a connection to {to} open for {}, where a typical connection lasts {}: a remote shell, a tunnel or a forgotten session.",
                    human_duration(seconds),
                    human_duration(typical)
                ),
                focus,
                detail: Detail::LongConnection {
                    src,
                    dst,
                    port,
                    seconds,
                    connections,
                },
            }
        },
    );
    Ok((found, read))
}

/// The longest connection of every source, destination and port, from the rows.
async fn connection_rows(q: &Sql<'_>) -> Result<Vec<Connection>, QueryError> {
    let sql = "SELECT src_ip, dst_ip, dst_port, max(duration) AS longest, count(*) AS conns \
               FROM events WHERE duration IS NOT NULL AND src_ip IS NOT NULL AND dst_ip IS NOT NULL \
               GROUP BY src_ip, dst_ip, dst_port";
    let batches = q.rows(sql, vec![], None).await?;
    Ok(each_row(&batches, |r| {
        Some((
            r.string(0)?,
            r.string(1)?,
            r.int(2),
            r.float(3)?,
            r.count(4),
        ))
    }))
}

/// When a pair is reported as exfiltration.
pub(crate) struct Exfiltration {
    /// Bytes sent at least.
    pub min_bytes: u64,
    /// Bytes sent per byte received at least.
    pub ratio: f64,
}

/// Inside hosts that send an outside host at least `min_bytes`, and `ratio` times what
/// they receive from it; scored by bytes sent, log scale, against every inside→outside
/// pair (model 1 kB, floor 0.5). Read from the summaries' connections when they are kept
/// (exact).
pub(crate) async fn exfiltration(
    q: &Sql<'_>,
    summary: Option<&Summary>,
    inside: &InsideNetworks,
    limit: usize,
    bounds: &Exfiltration,
) -> Result<(Vec<Finding>, Read), QueryError> {
    let (mut rows, read): (Vec<(String, String, u64, u64)>, Read) =
        match summary.and_then(|s| s.conns.as_ref()) {
            Some(conns) => {
                let nets = inside.nets();
                let holds = |ip: &str| InsideNetworks::holds(&nets, ip);
                let rows = conns
                    .iter()
                    .filter(|(src, _)| holds(src))
                    .flat_map(|(src, dsts)| {
                        dsts.iter()
                            .filter(|(dst, c)| c.directional > 0 && !holds(dst))
                            .map(move |(dst, c)| {
                                let bytes = |b: i64| b.max(0) as u64;
                                (src.clone(), dst.clone(), bytes(c.sent), bytes(c.received))
                            })
                    })
                    .collect();
                (rows, Read::Summaries)
            }
            None => (byte_rows(q, inside).await?, Read::Rows),
        };
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let found = rank(
        rows,
        |r| ln1p(r.2),
        ln1p(1000),
        0.5,
        |r| r.2 >= bounds.min_bytes && r.2 as f64 >= bounds.ratio * r.3.max(1) as f64,
        limit,
        |(src, dst, sent, received), b, z| {
            let typical = typical_count(b);
            Finding {
                analysis: "exfiltration",
                score: score_of_z(z),
                z: Some(z),
                headline: format!(
                    "{src} sent {} to {dst} and received {} ({}:1), {} what a typical inside host sends one outside host ({}): possible exfiltration.",
                    human_bytes(sent as f64),
                    human_bytes(received as f64),
                    (sent as f64 / received.max(1) as f64).round(),
                    times(sent as f64, typical),
                    human_bytes(typical)
                ),
                focus: Focus::on([("src_ip", src.clone()), ("dst_ip", dst.clone())]),
                detail: Detail::Exfiltration {
                    src,
                    dst,
                    sent,
                    received,
                },
            }
        },
    );
    Ok((found, read))
}

/// Bytes each way of every inside→outside pair, from the rows.
async fn byte_rows(
    q: &Sql<'_>,
    inside: &InsideNetworks,
) -> Result<Vec<(String, String, u64, u64)>, QueryError> {
    let sql = format!(
        "SELECT src_ip, dst_ip, sum(src_bytes) AS sent, sum(dst_bytes) AS received \
         FROM events \
         WHERE src_bytes IS NOT NULL AND dst_bytes IS NOT NULL AND src_ip IS NOT NULL AND dst_ip IS NOT NULL \
           AND {} AND NOT {} \
         GROUP BY src_ip, dst_ip",
        inside.sql_predicate("src_ip"),
        inside.sql_predicate("dst_ip"),
    );
    let batches = q.rows(&sql, vec![], None).await?;
    Ok(each_row(&batches, |r| {
        Some((r.string(0)?, r.string(1)?, r.count(2), r.count(3)))
    }))
}

fn human_duration(s: f64) -> String {
    if s >= 86_400.0 {
        format!("{:.1} days", s / 86_400.0)
    } else if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{s:.1} s")
    }
}

fn human_bytes(b: f64) -> String {
    const UNITS: &[&str] = &["B", "kB", "MB", "GB", "TB"];
    let mut v = b;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
