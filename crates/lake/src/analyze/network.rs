//! Who talks to whom: top talkers, top ports, fan-out (scanners), rare destinations.

use super::baseline::{Baseline, ln1p, rank, score_of_z, times, typical_count};
use super::cells::each_row;
use super::{Detail, Finding, Focus, Read, Sql};
use crate::query::QueryError;
use crate::summary::Summary;

/// Rare destinations are weak evidence alone: their score stays below notable.
const RARE_CAP: f64 = 0.45;

/// Top sources by events and by bytes, against the typical source (events and bytes on a
/// log scale; floor 0.5, so a source needs about 100× the typical to be notable: one host
/// carrying most of the traffic stands out, a busy server among clients does not).
pub(crate) async fn top_talkers(
    q: &Sql<'_>,
    summary: Option<&Summary>,
    limit: usize,
) -> Result<(Vec<Finding>, Read), QueryError> {
    let bytes = |b: Option<i64>| b.map(|b| b.max(0) as u64);
    let (mut rows, read): (Vec<(String, u64, Option<u64>)>, Read) =
        match summary.and_then(|s| s.sources.as_ref()) {
            Some(sources) => (
                sources
                    .iter()
                    .map(|(ip, s)| (ip.clone(), s.events, bytes(s.bytes)))
                    .collect(),
                Read::Summaries,
            ),
            None => {
                let batches = q
                    .rows(
                        "SELECT src_ip, count(*) AS events, sum(bytes) AS bytes \
                         FROM events WHERE src_ip IS NOT NULL GROUP BY src_ip",
                        vec![],
                        None,
                    )
                    .await?;
                let rows = each_row(&batches, |r| {
                    Some((r.string(0)?, r.count(1), bytes(r.int(2))))
                });
                (rows, Read::Rows)
            }
        };
    // Groups come in any order (and differently across workers): ties rank by address.
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let total_events: u64 = rows.iter().map(|r| r.1).sum();
    let total_bytes: u64 = rows.iter().filter_map(|r| r.2).sum();
    let mut out: Vec<Finding> = Vec::new();
    for by_bytes in [false, true] {
        if by_bytes && total_bytes == 0 {
            continue;
        }
        let value = |r: &(String, u64, Option<u64>)| {
            if by_bytes { r.2.unwrap_or(0) } else { r.1 }
        };
        // By bytes, the baseline is the sources whose events count bytes at all (a format
        // may count them for some events only).
        let measured: Vec<_> = rows
            .iter()
            .filter(|r| !by_bytes || r.2.unwrap_or(0) > 0)
            .cloned()
            .collect();
        let found = rank(
            measured,
            |r| ln1p(value(r)),
            0.0,
            0.5,
            |_| true,
            limit,
            |(ip, events, bytes), b, z| {
                let v = if by_bytes { bytes.unwrap_or(0) } else { events };
                let total = if by_bytes { total_bytes } else { total_events };
                let share = v as f64 / total.max(1) as f64;
                let typical = typical_count(b);
                // `bytes` is whatever the format counts (an access log's is the response
                // the server sent to this client), so the sentence does not say who sent
                // them.
                let headline = if by_bytes {
                    format!(
                        "{ip}'s events carry {v} bytes ({:.1} % of all bytes), {} the typical source's {typical:.0}.",
                        share * 100.0,
                        times(v as f64, typical)
                    )
                } else {
                    format!(
                        "{ip} is the source of {v} events ({:.1} % of all), {} the typical source's {typical:.0}.",
                        share * 100.0,
                        times(v as f64, typical)
                    )
                };
                Finding {
                    analysis: "top-talkers",
                    score: score_of_z(z),
                    z: Some(z),
                    headline,
                    focus: Focus::on([("src_ip", ip.clone())]),
                    detail: Detail::Talker {
                        ip,
                        events,
                        bytes: bytes.unwrap_or(0),
                        share,
                    },
                }
            },
        );
        for f in found {
            // A host on both lists is reported once, with the higher score.
            let ip = |f: &Finding| match &f.detail {
                Detail::Talker { ip, .. } => ip.clone(),
                _ => String::new(),
            };
            match out.iter_mut().find(|o| ip(o) == ip(&f)) {
                Some(o) if o.score >= f.score => {}
                Some(o) => *o = f,
                None => out.push(f),
            }
        }
    }
    Ok((out, read))
}

/// One destination port and protocol: events, distinct sources (and whether that count is
/// an estimate), share of all events with a port.
type PortRow = (i64, Option<String>, u64, u64, bool, f64);

/// Top destination ports: context for the other findings, not an alarm (score 0).
pub(crate) async fn top_ports(
    q: &Sql<'_>,
    summary: Option<&Summary>,
    limit: usize,
) -> Result<(Vec<Finding>, Read), QueryError> {
    let (rows, read): (Vec<PortRow>, Read) = match summary.and_then(|s| s.ports.as_ref()) {
        Some(ports) => {
            let total: u64 = ports.values().flatten().map(|(_, p)| p.events).sum();
            let mut rows: Vec<PortRow> = ports
                .iter()
                .flat_map(|(port, protocols)| {
                    protocols.iter().map(move |(proto, p)| {
                        (
                            i64::from(*port),
                            proto.clone(),
                            p.events,
                            p.sources.count(),
                            !p.sources.is_exact(),
                            p.events as f64 / total.max(1) as f64,
                        )
                    })
                })
                .collect();
            rows.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
            rows.truncate(limit);
            (rows, Read::Summaries)
        }
        None => {
            let sql = "SELECT dst_port, protocol, count(*) AS events, count(DISTINCT src_ip) AS sources, \
                              CAST(count(*) AS DOUBLE) / sum(count(*)) OVER () AS share \
                       FROM events WHERE dst_port IS NOT NULL \
                       GROUP BY dst_port, protocol ORDER BY events DESC, dst_port, protocol";
            let batches = q.rows(sql, vec![], Some(limit)).await?;
            let rows = each_row(&batches, |r| {
                Some((
                    r.int(0)?,
                    r.string(1),
                    r.count(2),
                    r.count(3),
                    false,
                    r.float(4)?,
                ))
            });
            (rows, Read::Rows)
        }
    };
    let findings = rows
        .into_iter()
        .map(|(port, protocol, events, sources, estimated, share)| Finding {
            analysis: "top-ports",
            score: 0.0,
            z: None,
            headline: format!(
                "Port {port}{} received {events} events from {}{sources} sources ({:.1} % of all).",
                protocol
                    .as_ref()
                    .map(|p| format!("/{p}"))
                    .unwrap_or_default(),
                if estimated { "about " } else { "" },
                share * 100.0
            ),
            focus: Focus::on([("dst_port", port.to_string())]),
            detail: Detail::Port {
                port,
                protocol,
                events,
                sources,
                sources_estimated: estimated,
            },
        })
        .collect();
    Ok((findings, read))
}

/// Sources that reach far more than the typical source, in one of three ways, each on a
/// log scale against every source: distinct destination ports (a port scan; model 1,
/// floor 0.25), distinct destinations (model 1, floor 0.35), and the most destinations in
/// one /24 network (a sweep; model 1, floor 0.35). The largest of the three deviations is
/// the source's. A source must reach at least `min` ports or destinations.
pub(crate) async fn fan_out(
    q: &Sql<'_>,
    summary: Option<&Summary>,
    limit: usize,
    min: i64,
) -> Result<(Vec<Finding>, Read), QueryError> {
    // (src, destinations, ports, events, most destinations in one /24, any estimated)
    type Row = (String, u64, u64, u64, u64, bool);
    let tables = summary.and_then(|s| Some((s.sources.as_ref()?, s.networks.as_ref()?)));
    let (mut rows, read): (Vec<Row>, Read) = match tables {
        Some((sources, networks)) => (
            sources
                .iter()
                .map(|(src, s)| {
                    let (sweep, sweep_estimated) =
                        networks.get(src).map_or((0, false), crate::summary::sweep);
                    (
                        src.clone(),
                        s.destinations.count(),
                        s.ports.count(),
                        s.events,
                        sweep,
                        sweep_estimated || !s.destinations.is_exact() || !s.ports.is_exact(),
                    )
                })
                .collect(),
            Read::Summaries,
        ),
        None => {
            let sql = "WITH n AS ( \
                 SELECT src_ip, concat(split_part(dst_ip, '.', 1), '.', split_part(dst_ip, '.', 2), '.', split_part(dst_ip, '.', 3)) AS net, \
                        count(DISTINCT dst_ip) AS hosts \
                 FROM events WHERE src_ip IS NOT NULL AND dst_ip IS NOT NULL GROUP BY src_ip, net), \
               w AS (SELECT src_ip, max(hosts) AS sweep FROM n GROUP BY src_ip), \
               b AS (SELECT src_ip, count(DISTINCT dst_ip) AS dsts, count(DISTINCT dst_port) AS ports, count(*) AS events \
                     FROM events WHERE src_ip IS NOT NULL GROUP BY src_ip) \
               SELECT b.src_ip, b.dsts, b.ports, b.events, coalesce(w.sweep, 0) \
               FROM b LEFT JOIN w ON b.src_ip = w.src_ip";
            let batches = q.rows(sql, vec![], None).await?;
            let rows = each_row(&batches, |r| {
                Some((
                    r.string(0)?,
                    r.count(1),
                    r.count(2),
                    r.count(3),
                    r.count(4),
                    false,
                ))
            });
            (rows, Read::Rows)
        }
    };
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let ports = Baseline::of(rows.iter().map(|r| ln1p(r.2)), ln1p(1), 0.25);
    let dsts = Baseline::of(rows.iter().map(|r| ln1p(r.1)), ln1p(1), 0.35);
    let sweep = Baseline::of(rows.iter().map(|r| ln1p(r.4)), ln1p(1), 0.35);
    // The way a source stands out most: (z, its count, baseline, what is counted, meaning).
    let best = |r: &Row| {
        let (_, destinations, nports, _, in_one_net, _) = *r;
        [
            (
                ports.z(ln1p(nports)),
                nports,
                &ports,
                "ports",
                "a port scan",
            ),
            (
                dsts.z(ln1p(destinations)),
                destinations,
                &dsts,
                "hosts",
                "a scan or a sweep",
            ),
            (
                sweep.z(ln1p(in_one_net)),
                in_one_net,
                &sweep,
                "hosts in one /24 network",
                "a sweep of a network",
            ),
        ]
        .into_iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .expect("three ways")
    };
    // Ranked first, and only the shown ones put into words (a window can hold tens of
    // thousands of sources).
    let mut scored: Vec<(f64, Row)> = rows
        .into_iter()
        .filter(|r| r.1.max(r.2) as i64 >= min)
        .map(|r| (best(&r).0, r))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let found = scored
        .into_iter()
        .take(limit)
        .map(|(_, r)| {
            let (z, n, b, what, means) = best(&r);
            let (src, destinations, nports, events, _, estimated) = r;
            let typical = typical_count(b);
            Finding {
                analysis: "fan-out",
                score: score_of_z(z),
                z: Some(z),
                headline: format!(
                    "{src} reached {about}{destinations} hosts on {about}{nports} ports in {events} events: {about}{n} {what} is {} the typical source's {typical:.0}, {means}.",
                    times(n as f64, typical.max(1.0)),
                    about = if estimated { "about " } else { "" },
                ),
                focus: Focus::on([("src_ip", src.clone())]),
                detail: Detail::FanOut {
                    src,
                    destinations,
                    ports: nports,
                    events,
                    estimated,
                },
            }
        })
        .collect();
    Ok((found, read))
}

/// Destinations with at most `max` events, all from one source, scored by how rare that
/// is for this dataset (events per destination, log scale, below the typical destination's)
/// and capped below notable: one rare destination is a lead, not a finding.
pub(crate) async fn rare_destinations(
    q: &Sql<'_>,
    summary: Option<&Summary>,
    limit: usize,
    max: i64,
) -> Result<(Vec<Finding>, Read), QueryError> {
    // (destination, events, sources: 0, 1 or 2 for "more", the smallest source, first time)
    type Row = (String, u64, u64, Option<String>, Option<i64>);
    let (mut rows, read): (Vec<Row>, Read) = match summary.and_then(|s| s.destinations.as_ref()) {
        Some(destinations) => (
            destinations
                .iter()
                .map(|(dst, d)| {
                    let sources = match (&d.source_min, &d.source_max) {
                        (None, _) | (_, None) => 0,
                        (Some(a), Some(b)) if a == b => 1,
                        _ => 2,
                    };
                    (
                        dst.clone(),
                        d.events,
                        sources,
                        d.source_min.clone(),
                        d.first_us,
                    )
                })
                .collect(),
            Read::Summaries,
        ),
        None => {
            let sql = "SELECT dst_ip, count(*) AS events, count(DISTINCT src_ip) AS sources, min(src_ip) AS src, \
                              min(CAST(time AS BIGINT)) AS first \
                       FROM events WHERE dst_ip IS NOT NULL GROUP BY dst_ip";
            let batches = q.rows(sql, vec![], None).await?;
            let rows = each_row(&batches, |r| {
                Some((r.string(0)?, r.count(1), r.count(2), r.string(3), r.int(4)))
            });
            (rows, Read::Rows)
        }
    };
    // Earliest first among equals, so the order is stable.
    rows.sort_by(|a, b| a.4.cmp(&b.4).then_with(|| a.0.cmp(&b.0)));
    let found = rank(
        rows,
        |r| -ln1p(r.1),
        -ln1p(1),
        0.5,
        |r| r.1 as i64 <= max && r.2 <= 1,
        limit,
        |(dst, events, _, source, first_us), b: &Baseline, z| {
            let typical = (-b.median).exp_m1().max(0.0);
            Finding {
                analysis: "rare-destinations",
                score: score_of_z(z).min(RARE_CAP),
                z: Some(z),
                headline: format!(
                    "{dst} was contacted {events} time{}{}, where a typical destination sees {typical:.0} events.",
                    if events == 1 { "" } else { "s" },
                    source
                        .as_ref()
                        .map(|s| format!(", only by {s}"))
                        .unwrap_or_default()
                ),
                focus: Focus::on([("dst_ip", dst.clone())]),
                detail: Detail::RareDestination {
                    dst,
                    events,
                    source,
                    first_us,
                },
            }
        },
    );
    Ok((found, read))
}
