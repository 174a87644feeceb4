//! Web servers: clients probing for pages that do not exist.

use super::baseline::{ln1p, rank, score_of_z, times, typical_count};
use super::cells::each_row;
use super::{Detail, Finding, Focus, Read, Sql};
use crate::query::QueryError;
use crate::summary::Summary;

/// A client's requests: (client, distinct missing paths, requests, the first missing path,
/// whether the missing paths are estimated).
type Row = (String, u64, u64, Option<String>, bool);

/// Clients that asked for far more distinct missing paths (answered 404) than the typical
/// client (log scale, against every client of the server; model none, floor 0.35), at
/// least `min`: scanners trying `wp-login.php`, `.env`, `phpmyadmin/`... Crawlers that
/// follow a few dead links stay typical.
///
/// Read from the summaries' web requests when they are kept: exact, except a client's
/// distinct missing paths above 32, which are estimated and said to be.
pub(crate) async fn probing(
    q: &Sql<'_>,
    summary: Option<&Summary>,
    limit: usize,
    min: i64,
) -> Result<(Vec<Finding>, Read), QueryError> {
    let (mut rows, read): (Vec<Row>, Read) = match summary.and_then(|s| s.web.as_ref()) {
        Some(clients) => (
            clients
                .iter()
                .map(|(ip, w)| {
                    (
                        ip.clone(),
                        w.missing.count(),
                        w.requests,
                        w.example.clone(),
                        !w.missing.is_exact(),
                    )
                })
                .collect(),
            Read::Summaries,
        ),
        None => (request_rows(q).await?, Read::Rows),
    };
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let found = rank(
        rows,
        |r| ln1p(r.1),
        0.0,
        0.35,
        |r| r.1 as i64 >= min,
        limit,
        |(src, missing, requests, example, estimated), b, z| {
            let typical = typical_count(b);
            Finding {
                analysis: "web-probing",
                score: score_of_z(z),
                z: Some(z),
                headline: format!(
                    "{src} asked for {}{missing} pages that do not exist (404){} in {requests} requests, {} the typical client's {typical:.0}: a scan for vulnerable software.",
                    if estimated { "about " } else { "" },
                    example
                        .as_ref()
                        .map(|p| format!(", such as {p}"))
                        .unwrap_or_default(),
                    times(missing as f64, typical.max(1.0))
                ),
                focus: Focus::on([("src_ip", src.clone())]),
                detail: Detail::WebProbing {
                    src,
                    missing_paths: missing,
                    requests,
                    example_path: example,
                    missing_estimated: estimated,
                },
            }
        },
    );
    Ok((found, read))
}

/// Every client's requests, from the rows.
async fn request_rows(q: &Sql<'_>) -> Result<Vec<Row>, QueryError> {
    let sql = "SELECT src_ip, count(DISTINCT CASE WHEN http_status = 404 THEN http_uri END) AS missing, \
                      count(*) AS requests, min(CASE WHEN http_status = 404 THEN http_uri END) AS example \
               FROM events WHERE src_ip IS NOT NULL AND http_status IS NOT NULL GROUP BY src_ip";
    let batches = q.rows(sql, vec![], None).await?;
    Ok(each_row(&batches, |r| {
        Some((r.string(0)?, r.count(1), r.count(2), r.string(3), false))
    }))
}
