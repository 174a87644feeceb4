//! DNS: fixed source ports, top names and query types, NXDOMAIN ratios.

use datafusion::common::ScalarValue;

use super::cells::each_row;
use super::{Detail, Finding, Sql};
use crate::query::QueryError;

/// A DNS query: to port 53, or any event with a query name.
const IS_QUERY: &str = "(dst_port = 53 OR dns_qname IS NOT NULL)";

/// Clients whose queries all leave from one source port: their resolver library does
/// not randomise ports, so answers can be spoofed (Kaminsky, CVE-2008-1447). Score
/// 0.6, up to 0.9 with many queries (the more queries, the surer the pattern).
pub(crate) async fn fixed_port(
    q: &Sql<'_>,
    limit: usize,
    min: i64,
) -> Result<Vec<Finding>, QueryError> {
    let sql = format_query(
        "SELECT src_ip, min(src_port) AS port, count(*) AS queries FROM events \
         WHERE src_ip IS NOT NULL AND src_port IS NOT NULL AND {IS_QUERY} \
         GROUP BY src_ip HAVING count(DISTINCT src_port) = 1 AND count(*) >= $1 \
         ORDER BY queries DESC, src_ip",
    );
    let batches = q
        .rows(&sql, vec![ScalarValue::Int64(Some(min))], Some(limit))
        .await?;
    Ok(each_row(&batches, |r| {
        let (client, port, queries) = (r.string(0)?, r.int(1)?, r.count(2));
        Some(Finding {
            analysis: "dns-fixed-port",
            score: 0.6 + 0.3 * (queries as f64 / 100.0).min(1.0),
            headline: format!(
                "{client} sent all its {queries} DNS queries from source port {port}"
            ),
            detail: Detail::FixedSourcePort {
                client,
                port,
                queries,
            },
        })
    }))
}

/// Top names and types (context, score ≤ 0.2), the overall NXDOMAIN ratio (notable
/// above 20 %: typos are rare, DGA malware is not), and clients with at least 10
/// queries of which half or more got NXDOMAIN (score 0.5 to 0.95).
pub(crate) async fn overview(q: &Sql<'_>, limit: usize) -> Result<Vec<Finding>, QueryError> {
    let mut out = Vec::new();
    let names = q
        .rows(
            "SELECT lower(trim(trailing '.' from dns_qname)) AS name, count(*) AS n, \
                    CAST(count(*) AS DOUBLE) / sum(count(*)) OVER () AS share \
             FROM events WHERE dns_qname IS NOT NULL GROUP BY name ORDER BY n DESC, name",
            vec![],
            Some(limit),
        )
        .await?;
    out.extend(each_row(&names, |r| {
        let (name, queries, share) = (r.string(0)?, r.count(1), r.float(2)?);
        Some(Finding {
            analysis: "dns",
            score: 0.2 * share,
            headline: format!("{name} was queried {queries} times"),
            detail: Detail::DnsName { name, queries },
        })
    }));
    let types = q
        .rows(
            "SELECT upper(dns_qtype) AS t, count(*) AS n, CAST(count(*) AS DOUBLE) / sum(count(*)) OVER () AS share \
             FROM events WHERE dns_qtype IS NOT NULL GROUP BY t ORDER BY n DESC, t",
            vec![],
            Some(limit),
        )
        .await?;
    out.extend(each_row(&types, |r| {
        let (qtype, queries, share) = (r.string(0)?, r.count(1), r.float(2)?);
        Some(Finding {
            analysis: "dns",
            score: 0.1 * share,
            headline: format!("{queries} {qtype} queries ({:.1} %)", share * 100.0),
            detail: Detail::DnsType { qtype, queries },
        })
    }));
    let nx = "CASE WHEN upper(dns_rcode) IN ('NXDOMAIN', '3') THEN 1 ELSE 0 END";
    let total = q
        .rows(
            &format_query_nx(
                "SELECT count(*) AS q, sum({NX}) AS nx FROM events WHERE dns_rcode IS NOT NULL AND {IS_QUERY}",
                nx,
            ),
            vec![],
            None,
        )
        .await?;
    out.extend(each_row(&total, |r| {
        let (queries, nxdomain) = (r.count(0), r.count(1));
        (queries > 0).then(|| {
            let ratio = nxdomain as f64 / queries as f64;
            Finding {
                analysis: "dns",
                score: if ratio > 0.2 { 0.4 + ratio * 0.5 } else { 0.1 },
                headline: format!(
                    "{nxdomain} of {queries} answered DNS queries were NXDOMAIN ({:.1} %)",
                    ratio * 100.0
                ),
                detail: Detail::Nxdomain {
                    client: None,
                    queries,
                    nxdomain,
                    ratio,
                },
            }
        })
    }));
    let clients = q
        .rows(
            &format_query_nx(
                "SELECT src_ip, count(*) AS q, sum({NX}) AS nx FROM events \
                 WHERE src_ip IS NOT NULL AND dns_rcode IS NOT NULL AND {IS_QUERY} \
                 GROUP BY src_ip HAVING count(*) >= 10 AND sum({NX}) * 2 >= count(*) \
                 ORDER BY CAST(sum({NX}) AS DOUBLE) / count(*) DESC, q DESC, src_ip",
                nx,
            ),
            vec![],
            Some(limit),
        )
        .await?;
    out.extend(each_row(&clients, |r| {
        let (client, queries, nxdomain) = (r.string(0)?, r.count(1), r.count(2));
        let ratio = nxdomain as f64 / queries.max(1) as f64;
        Some(Finding {
            analysis: "dns",
            score: (0.5 + (ratio - 0.5) * 0.9).min(0.95),
            headline: format!("{client}: {nxdomain} of {queries} DNS queries got NXDOMAIN ({:.0} %), a DGA pattern", ratio * 100.0),
            detail: Detail::Nxdomain { client: Some(client), queries, nxdomain, ratio },
        })
    }));
    Ok(out)
}

/// Expands the fixed fragments of the DNS queries: constant SQL written here, never
/// input, so the text stays fixed.
fn format_query(sql: &str) -> String {
    sql.replace("{IS_QUERY}", IS_QUERY)
}

fn format_query_nx(sql: &str, nx: &str) -> String {
    format_query(sql).replace("{NX}", nx)
}
