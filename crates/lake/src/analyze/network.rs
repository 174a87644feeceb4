//! Who talks to whom: top talkers, top ports, fan-out (scanners), rare destinations.

use datafusion::common::ScalarValue;

use super::cells::each_row;
use super::{Detail, Finding, Sql};
use crate::query::QueryError;

/// Top sources by events and by bytes. Score: the source's share of all events (or
/// bytes) — one host carrying most of the traffic stands out; 50 % or more scores 1.
pub(crate) async fn top_talkers(q: &Sql<'_>, limit: usize) -> Result<Vec<Finding>, QueryError> {
    let mut out: Vec<Finding> = Vec::new();
    for by_bytes in [false, true] {
        let sql = if by_bytes {
            "SELECT src_ip, count(*) AS events, sum(bytes) AS bytes, \
                    CAST(sum(bytes) AS DOUBLE) / sum(sum(bytes)) OVER () AS share \
             FROM events WHERE src_ip IS NOT NULL AND bytes IS NOT NULL \
             GROUP BY src_ip ORDER BY bytes DESC, src_ip"
        } else {
            "SELECT src_ip, count(*) AS events, coalesce(sum(bytes), 0) AS bytes, \
                    CAST(count(*) AS DOUBLE) / sum(count(*)) OVER () AS share \
             FROM events WHERE src_ip IS NOT NULL \
             GROUP BY src_ip ORDER BY events DESC, src_ip"
        };
        let batches = q.rows(sql, vec![], Some(limit)).await?;
        for f in each_row(&batches, |r| {
            let (ip, events, bytes, share) = (
                r.string(0)?,
                r.count(1),
                r.count(2),
                r.float(3).unwrap_or(0.0),
            );
            // `bytes` is whatever the format counts (an access log's is the response the
            // server sent to this client), so the headline does not say who sent them.
            let headline = if by_bytes {
                format!(
                    "{ip}'s events carry {bytes} bytes ({:.1} % of all bytes)",
                    share * 100.0
                )
            } else {
                format!(
                    "{ip} is the source of {events} events ({:.1} % of all)",
                    share * 100.0
                )
            };
            Some(Finding {
                analysis: "top-talkers",
                score: (share * 2.0).min(1.0) * 0.8,
                headline,
                detail: Detail::Talker {
                    ip,
                    events,
                    bytes,
                    share,
                },
            })
        }) {
            // A host on both lists is reported once, with the higher score.
            match out.iter_mut().find(|o| matches!((&o.detail, &f.detail), (Detail::Talker { ip: a, .. }, Detail::Talker { ip: b, .. }) if a == b)) {
                Some(o) if o.score >= f.score => {}
                Some(o) => *o = f,
                None => out.push(f),
            }
        }
    }
    Ok(out)
}

/// Top destination ports. Context rather than alarm: score at most 0.3, by share.
pub(crate) async fn top_ports(q: &Sql<'_>, limit: usize) -> Result<Vec<Finding>, QueryError> {
    let sql = "SELECT dst_port, protocol, count(*) AS events, count(DISTINCT src_ip) AS sources, \
                      CAST(count(*) AS DOUBLE) / sum(count(*)) OVER () AS share \
               FROM events WHERE dst_port IS NOT NULL \
               GROUP BY dst_port, protocol ORDER BY events DESC, dst_port";
    let batches = q.rows(sql, vec![], Some(limit)).await?;
    Ok(each_row(&batches, |r| {
        let (port, protocol, events, sources, share) =
            (r.int(0)?, r.string(1), r.count(2), r.count(3), r.float(4)?);
        Some(Finding {
            analysis: "top-ports",
            score: 0.3 * share,
            headline: format!(
                "port {port}{} received {events} events from {sources} sources ({:.1} %)",
                protocol
                    .as_ref()
                    .map(|p| format!("/{p}"))
                    .unwrap_or_default(),
                share * 100.0
            ),
            detail: Detail::Port {
                port,
                protocol,
                events,
                sources,
            },
        })
    }))
}

/// Sources that reach many destinations or many ports. Score grows with the larger
/// of distinct destinations / 200 and distinct ports / 100 (a port scan of 100 ports
/// or a sweep of 200 hosts scores 1).
pub(crate) async fn fan_out(
    q: &Sql<'_>,
    limit: usize,
    min: i64,
) -> Result<Vec<Finding>, QueryError> {
    let sql = "SELECT src_ip, count(DISTINCT dst_ip) AS dsts, count(DISTINCT dst_port) AS ports, count(*) AS events \
               FROM events WHERE src_ip IS NOT NULL \
               GROUP BY src_ip HAVING count(DISTINCT dst_ip) >= $1 OR count(DISTINCT dst_port) >= $1 \
               ORDER BY greatest(count(DISTINCT dst_ip) * 2, count(DISTINCT dst_port) * 4) DESC, src_ip";
    let batches = q
        .rows(sql, vec![ScalarValue::Int64(Some(min))], Some(limit))
        .await?;
    Ok(each_row(&batches, |r| {
        let (src, destinations, ports, events) = (r.string(0)?, r.count(1), r.count(2), r.count(3));
        let score = (destinations as f64 / 200.0)
            .max(ports as f64 / 100.0)
            .min(1.0);
        Some(Finding {
            analysis: "fan-out",
            score,
            headline: format!(
                "{src} reached {destinations} destinations on {ports} ports ({events} events)"
            ),
            detail: Detail::FanOut {
                src,
                destinations,
                ports,
                events,
            },
        })
    }))
}

/// Destinations with at most `max` events, all from one source. Each is weak evidence
/// (score 0.2), worth a look when little else stands out.
pub(crate) async fn rare_destinations(
    q: &Sql<'_>,
    limit: usize,
    max: i64,
) -> Result<Vec<Finding>, QueryError> {
    let sql = "SELECT dst_ip, count(*) AS events, min(src_ip) AS src, min(CAST(time AS BIGINT)) AS first \
               FROM events WHERE dst_ip IS NOT NULL \
               GROUP BY dst_ip HAVING count(*) <= $1 AND count(DISTINCT src_ip) <= 1 \
               ORDER BY events, first, dst_ip";
    let batches = q
        .rows(sql, vec![ScalarValue::Int64(Some(max))], Some(limit))
        .await?;
    Ok(each_row(&batches, |r| {
        let (dst, events, source, first_us) = (r.string(0)?, r.count(1), r.string(2), r.int(3));
        Some(Finding {
            analysis: "rare-destinations",
            score: 0.2,
            headline: format!(
                "{dst} was contacted {events} time{}{}",
                if events == 1 { "" } else { "s" },
                source
                    .as_ref()
                    .map(|s| format!(", only by {s}"))
                    .unwrap_or_default()
            ),
            detail: Detail::RareDestination {
                dst,
                events,
                source,
                first_us,
            },
        })
    }))
}
