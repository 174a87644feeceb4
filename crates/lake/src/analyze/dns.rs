//! DNS: fixed source ports, tunnels, top names and query types, NXDOMAIN ratios.

use datafusion::common::ScalarValue;

use super::baseline::{ln1p, rank, score_of_z, times, typical_count};
use super::cells::each_row;
use super::{Detail, Finding, Focus, Read, Sql};
use crate::query::QueryError;
use crate::summary::{DOMAIN_SAMPLE, Summary, first_by_count};

/// A DNS query: to port 53, or any event with a query name.
const IS_QUERY: &str = "(dst_port = 53 OR dns_qname IS NOT NULL)";

/// Clients whose queries all leave from one source port: their resolver library does not
/// randomise ports, so answers can be spoofed (Kaminsky, CVE-2008-1447). Scored by queries
/// per source port, log scale, against every DNS client (model: a new port per query;
/// floor 0.25), so a handful of queries from one port is not notable and hundreds are.
pub(crate) async fn fixed_port(
    q: &Sql<'_>,
    summary: Option<&Summary>,
    limit: usize,
    min: i64,
) -> Result<(Vec<Finding>, Read), QueryError> {
    // (client, distinct source ports, queries, smallest port). Above 32 ports the summaries
    // estimate the count; the finding itself needs exactly one port, which is exact.
    let (mut rows, read): (Vec<(String, u64, u64, i64)>, Read) = match summary
        .and_then(|s| s.dns.as_ref())
    {
        Some(clients) => (
            clients
                .iter()
                .filter_map(|(ip, d)| {
                    Some((
                        ip.clone(),
                        d.ports.count(),
                        d.queries,
                        i64::from(d.port_min?),
                    ))
                })
                .collect(),
            Read::Summaries,
        ),
        None => {
            let sql = format!(
                "SELECT src_ip, count(DISTINCT src_port) AS ports, count(*) AS queries, min(src_port) AS port \
                     FROM events WHERE src_ip IS NOT NULL AND src_port IS NOT NULL AND {IS_QUERY} \
                     GROUP BY src_ip"
            );
            let batches = q.rows(&sql, vec![], None).await?;
            let rows = each_row(&batches, |r| {
                Some((r.string(0)?, r.count(1), r.count(2), r.int(3)?))
            });
            (rows, Read::Rows)
        }
    };
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    let per_port = |r: &(String, u64, u64, i64)| (r.2 as f64 / r.1.max(1) as f64).ln();
    let found = rank(
        rows,
        per_port,
        0.0,
        0.25,
        |r| r.1 == 1 && r.2 as i64 >= min,
        limit,
        |(client, _, queries, port), b, z| {
            let typical = b.median.exp();
            Finding {
                analysis: "dns-fixed-port",
                score: score_of_z(z),
                z: Some(z),
                headline: format!(
                    "{client} sent all its {queries} DNS queries from source port {port}, where a typical client uses a port for {typical:.1} queries: its answers can be spoofed."
                ),
                focus: Focus::on([("src_ip", client.clone()), ("src_port", port.to_string())]),
                detail: Detail::FixedSourcePort {
                    client,
                    port,
                    queries,
                },
            }
        },
    );
    Ok((found, read))
}

/// The registered part of a DNS name in SQL: its last two labels (`a.b.example.com` →
/// `example.com`). Without the public suffix list, `co.uk`-style names group one level
/// too high, which only merges more names into one domain.
const DOMAIN: &str =
    "reverse(concat(split_part(reverse(name), '.', 1), '.', split_part(reverse(name), '.', 2)))";

/// A domain's queries: (domain, distinct names, queries, mean characters before the
/// domain, distinct clients, the first client, whether a distinct count is estimated).
type DomainRow = (String, u64, u64, f64, u64, Option<String>, bool);

/// Domains under which clients query far more distinct names than under the typical
/// domain (log scale, model one name, floor 0.35), whose names are long before the domain
/// (mean at least `min_length` characters): data encoded into names, as DNS tunnels and
/// some malware do. A content network also has many names, but short ones. The entropy of
/// the names' characters is reported (random-looking encodings give 4 to 5 bits), measured
/// on the domain's first [`DOMAIN_SAMPLE`] names in text order.
///
/// Read from the summaries' domains when they are kept: exact, except distinct names and
/// clients above 32, which are estimated and said to be.
pub(crate) async fn tunnel(
    q: &Sql<'_>,
    summary: Option<&Summary>,
    limit: usize,
    min: i64,
    min_length: f64,
) -> Result<(Vec<Finding>, Read), QueryError> {
    let domains = summary.and_then(|s| s.domains.as_ref());
    let mut rows: Vec<DomainRow> = match domains {
        Some(domains) => domains
            .iter()
            .map(|(domain, d)| {
                (
                    domain.clone(),
                    d.names.count(),
                    d.queries,
                    d.label_chars as f64 / d.queries.max(1) as f64,
                    d.clients.count(),
                    d.client.clone(),
                    !d.names.is_exact() || !d.clients.is_exact(),
                )
            })
            .collect(),
        None => domain_rows(q).await?,
    };
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let found = rank(
        rows,
        |r| ln1p(r.1),
        ln1p(1),
        0.35,
        |r| r.1 as i64 >= min && r.3 >= min_length,
        limit,
        |row, b, z| (row, typical_count(b), z),
    );
    let mut out = Vec::new();
    for ((domain, names, queries, mean_length, clients, client, estimated), typical, z) in found {
        let sample = match domains {
            Some(d) => d[&domain].sample.clone(),
            None => sample_rows(q, &domain).await?,
        };
        let subs: Vec<&str> = sample
            .iter()
            .filter_map(|n| n.strip_suffix(&format!(".{domain}")))
            .collect();
        let entropy_bits = entropy(subs.iter().flat_map(|s| s.chars().filter(|c| *c != '.')));
        let about = if estimated { "about " } else { "" };
        let who = match (clients, &client) {
            (1, Some(c)) => format!("{c} queried"),
            _ => format!("{about}{clients} clients queried"),
        };
        out.push(Finding {
            analysis: "dns-tunnel",
            score: score_of_z(z),
            z: Some(z),
            headline: format!(
                "{who} {about}{names} distinct names under {domain} ({} the typical domain's {typical:.0}), {mean_length:.0} characters before the domain on average at {entropy_bits:.1} bits per character: data may be tunnelled through DNS.",
                times(names as f64, typical)
            ),
            focus: match (clients, client) {
                (1, Some(c)) => Focus::on([("src_ip", c)]),
                _ => Focus::default(),
            },
            detail: Detail::DnsTunnel {
                domain,
                names,
                queries,
                clients,
                mean_length,
                entropy_bits,
                estimated,
            },
        });
    }
    let read = if domains.is_some() {
        Read::Summaries
    } else {
        Read::Rows
    };
    Ok((out, read))
}

/// Every domain's queries, from the rows.
async fn domain_rows(q: &Sql<'_>) -> Result<Vec<DomainRow>, QueryError> {
    let sql = format!(
        "WITH q AS (SELECT lower(trim(trailing '.' from dns_qname)) AS name, src_ip FROM events \
                    WHERE dns_qname IS NOT NULL), \
              d AS (SELECT name, src_ip, {DOMAIN} AS domain FROM q WHERE strpos(name, '.') > 0) \
         SELECT domain, count(DISTINCT name) AS names, count(*) AS queries, \
                avg(character_length(name) - character_length(domain) - 1) AS sub_len, \
                count(DISTINCT src_ip) AS clients, min(src_ip) AS client \
         FROM d GROUP BY domain"
    );
    let batches = q.rows(&sql, vec![], None).await?;
    Ok(each_row(&batches, |r| {
        Some((
            r.string(0)?,
            r.count(1),
            r.count(2),
            r.float(3).unwrap_or(0.0),
            r.count(4),
            r.string(5),
            false,
        ))
    }))
}

/// The first [`DOMAIN_SAMPLE`] distinct names under `domain` in text order, from the rows.
async fn sample_rows(q: &Sql<'_>, domain: &str) -> Result<Vec<String>, QueryError> {
    let sample = q
        .rows(
            "SELECT DISTINCT name FROM (SELECT lower(trim(trailing '.' from dns_qname)) AS name \
             FROM events WHERE dns_qname IS NOT NULL) WHERE ends_with(name, $1) ORDER BY name",
            vec![ScalarValue::Utf8(Some(format!(".{domain}")))],
            Some(DOMAIN_SAMPLE),
        )
        .await?;
    Ok(each_row(&sample, |r| r.string(0)))
}

/// Shannon entropy of a sequence of characters, bits per character.
fn entropy(chars: impl Iterator<Item = char>) -> f64 {
    // In char order, so the sum is rounded the same way every time.
    let mut counts: std::collections::BTreeMap<char, u64> = Default::default();
    let mut n = 0u64;
    for c in chars {
        *counts.entry(c).or_default() += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    counts
        .values()
        .map(|&k| {
            let p = k as f64 / n as f64;
            -p * p.log2()
        })
        .sum()
}

/// What the DNS overview reports: the top names and query types (with their share of
/// the queries that have a type) and every client's answered queries and NXDOMAIN answers.
struct Overview {
    /// Per name, its queries, or the least and the most it may have had when the summaries
    /// kept only the most queried names ([`crate::summary::TopNames`]).
    names: Vec<(String, u64, Option<u64>)>,
    types: Vec<(String, u64, f64)>,
    clients: Vec<(String, u64, u64)>,
}

impl Overview {
    /// From the summaries' DNS names: exact but for the queries of names that were not
    /// always among the most queried, which come as a range.
    fn of(n: &crate::summary::DnsNames, limit: usize) -> Overview {
        let total: u64 = n.types.values().sum();
        Overview {
            names: n
                .names
                .top(limit)
                .into_iter()
                .map(|(name, c)| {
                    (
                        name,
                        c.queries,
                        (c.missed > 0).then(|| c.queries + c.missed),
                    )
                })
                .collect(),
            types: first_by_count(&n.types, limit, |n| *n)
                .into_iter()
                .map(|(t, k)| (t, k, k as f64 / total.max(1) as f64))
                .collect(),
            clients: n
                .clients
                .iter()
                .map(|(c, a)| (c.clone(), a.queries, a.nxdomain))
                .collect(),
        }
    }

    /// From the rows.
    async fn read(q: &Sql<'_>, limit: usize) -> Result<Overview, QueryError> {
        let names = q
            .rows(
                "SELECT lower(trim(trailing '.' from dns_qname)) AS name, count(*) AS n \
                 FROM events WHERE dns_qname IS NOT NULL GROUP BY name ORDER BY n DESC, name",
                vec![],
                Some(limit),
            )
            .await?;
        let types = q
            .rows(
                "SELECT upper(dns_qtype) AS t, count(*) AS n, CAST(count(*) AS DOUBLE) / sum(count(*)) OVER () AS share \
                 FROM events WHERE dns_qtype IS NOT NULL GROUP BY t ORDER BY n DESC, t",
                vec![],
                Some(limit),
            )
            .await?;
        let nx = "CASE WHEN upper(dns_rcode) IN ('NXDOMAIN', '3') THEN 1 ELSE 0 END";
        let clients = q
            .rows(
                &format!(
                    "SELECT src_ip, count(*) AS q, sum({nx}) AS nx FROM events \
                     WHERE src_ip IS NOT NULL AND dns_rcode IS NOT NULL AND {IS_QUERY} GROUP BY src_ip"
                ),
                vec![],
                None,
            )
            .await?;
        Ok(Overview {
            names: each_row(&names, |r| Some((r.string(0)?, r.count(1), None))),
            types: each_row(&types, |r| Some((r.string(0)?, r.count(1), r.float(2)?))),
            clients: each_row(&clients, |r| Some((r.string(0)?, r.count(1), r.count(2)))),
        })
    }
}

/// Top names and types and the overall NXDOMAIN ratio (context, score 0), and clients
/// with at least 10 answered queries of which half or more got NXDOMAIN, scored by their
/// NXDOMAIN ratio against every client's (model 5 %, floor 0.05): a DGA pattern. Read from
/// the summaries' DNS names when they are kept.
pub(crate) async fn overview(
    q: &Sql<'_>,
    summary: Option<&Summary>,
    limit: usize,
) -> Result<(Vec<Finding>, Read), QueryError> {
    let (o, read) = match summary.and_then(|s| s.names.as_ref()) {
        Some(n) => (Overview::of(n, limit), Read::Summaries),
        None => (Overview::read(q, limit).await?, Read::Rows),
    };
    let mut out = Vec::new();
    out.extend(
        o.names
            .into_iter()
            .map(|(name, queries, queries_at_most)| Finding {
                analysis: "dns",
                score: 0.0,
                z: None,
                headline: match queries_at_most {
                    None => format!("{name} was queried {queries} times."),
                    Some(most) => format!("{name} was queried {queries} to {most} times."),
                },
                focus: Focus::default(),
                detail: Detail::DnsName {
                    name,
                    queries,
                    queries_at_most,
                },
            }),
    );
    out.extend(o.types.into_iter().map(|(qtype, queries, share)| Finding {
        analysis: "dns",
        score: 0.0,
        z: None,
        headline: format!("{queries} {qtype} queries ({:.1} % of all).", share * 100.0),
        focus: Focus::default(),
        detail: Detail::DnsType { qtype, queries },
    }));
    let mut rows = o.clients;
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let (queries, nxdomain) = rows.iter().fold((0, 0), |(q, n), r| (q + r.1, n + r.2));
    if queries > 0 {
        let ratio = nxdomain as f64 / queries as f64;
        out.push(Finding {
            analysis: "dns",
            score: 0.0,
            z: None,
            headline: format!(
                "{nxdomain} of {queries} answered DNS queries were NXDOMAIN ({:.1} %).",
                ratio * 100.0
            ),
            focus: Focus::default(),
            detail: Detail::Nxdomain {
                client: None,
                queries,
                nxdomain,
                ratio,
            },
        });
    }
    let ratio = |r: &(String, u64, u64)| r.2 as f64 / r.1.max(1) as f64;
    out.extend(rank(
        rows.into_iter().filter(|r| r.1 >= 10).collect(),
        ratio,
        0.05,
        0.05,
        |r| ratio(r) >= 0.5,
        limit,
        |(client, queries, nxdomain), b, z| {
            let ratio = nxdomain as f64 / queries.max(1) as f64;
            Finding {
                analysis: "dns",
                score: score_of_z(z),
                z: Some(z),
                headline: format!(
                    "{client} got NXDOMAIN for {nxdomain} of {queries} DNS queries ({:.0} %), where a typical client gets {:.0} %: names made up by an algorithm (DGA) look like this.",
                    ratio * 100.0,
                    b.median * 100.0
                ),
                focus: Focus::on([("src_ip", client.clone())]),
                detail: Detail::Nxdomain {
                    client: Some(client),
                    queries,
                    nxdomain,
                    ratio,
                },
            }
        },
    ));
    Ok((out, read))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_random_and_plain_names() {
        assert_eq!(entropy("aaaa".chars()), 0.0);
        assert_eq!(entropy("abcd".chars()), 2.0);
    }

    /// As `ORDER BY n DESC, name LIMIT k`, whatever the order of the map.
    #[test]
    fn the_top_names_are_those_a_whole_sort_gives() {
        let mut counts = crate::summary::HashMap::default();
        for i in 0..500u64 {
            counts.insert(format!("n{i}"), i % 7);
        }
        let mut sorted: Vec<(String, u64)> = counts.iter().map(|(k, v)| (k.clone(), *v)).collect();
        sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        for k in [0, 1, 10, 71, 72, 73, 499, 500, 501] {
            let want: Vec<_> = sorted.iter().take(k).cloned().collect();
            assert_eq!(first_by_count(&counts, k, |n| *n), want, "{k}");
        }
    }
}
