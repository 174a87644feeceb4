//! Web servers: clients probing for pages that do not exist.

use super::baseline::{ln1p, rank, score_of_z, times, typical_count};
use super::cells::each_row;
use super::{Detail, Finding, Focus, Sql};
use crate::query::QueryError;

/// Clients that asked for far more distinct missing paths (answered 404) than the typical
/// client (log scale, against every client of the server; model none, floor 0.35), at
/// least `min`: scanners trying `wp-login.php`, `.env`, `phpmyadmin/`... Crawlers that
/// follow a few dead links stay typical.
pub(crate) async fn probing(
    q: &Sql<'_>,
    limit: usize,
    min: i64,
) -> Result<Vec<Finding>, QueryError> {
    let sql = "SELECT src_ip, count(DISTINCT CASE WHEN http_status = 404 THEN http_uri END) AS missing, \
                      count(*) AS requests, min(CASE WHEN http_status = 404 THEN http_uri END) AS example \
               FROM events WHERE src_ip IS NOT NULL AND http_status IS NOT NULL GROUP BY src_ip";
    let batches = q.rows(sql, vec![], None).await?;
    let mut rows: Vec<(String, u64, u64, Option<String>)> = each_row(&batches, |r| {
        Some((r.string(0)?, r.count(1), r.count(2), r.string(3)))
    });
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(rank(
        rows,
        |r| ln1p(r.1),
        0.0,
        0.35,
        |r| r.1 as i64 >= min,
        limit,
        |(src, missing, requests, example), b, z| {
            let typical = typical_count(b);
            Finding {
                analysis: "web-probing",
                score: score_of_z(z),
                z: Some(z),
                headline: format!(
                    "{src} asked for {missing} pages that do not exist (404){} in {requests} requests, {} the typical client's {typical:.0}: a scan for vulnerable software.",
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
                },
            }
        },
    ))
}
