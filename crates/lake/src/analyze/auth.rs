//! Logins: password guessing and spraying.

use super::baseline::{ln1p, rank, score_of_z, times, typical_count};
use super::cells::each_row;
use super::{Detail, Finding, Focus, Read, Sql};
use crate::query::QueryError;
use crate::summary::Summary;

/// A client's logins: (client, failures, distinct accounts failed at, successes, the
/// first account failed at, the first got into, whether the accounts are estimated).
type Row = (String, u64, u64, u64, Option<String>, Option<String>, bool);

/// Clients with far more failed logins than the typical client (failures on a log scale
/// against every client that tried to log in; model none, floor 0.3, so about 20 failures
/// are notable where clients rarely fail). Many failures at few accounts is guessing; at
/// least 5 accounts with at most 3 tries each is spraying (one password against many
/// accounts, to stay under lock-out limits). A success after the failures is named: the
/// guess may have worked.
///
/// Read from the summaries' logins when they are kept: exact, except a client's distinct
/// accounts above 32, which are estimated and said to be.
pub(crate) async fn password_guessing(
    q: &Sql<'_>,
    summary: Option<&Summary>,
    limit: usize,
    min: i64,
) -> Result<(Vec<Finding>, Read), QueryError> {
    let (mut rows, read): (Vec<Row>, Read) = match summary.and_then(|s| s.logins.as_ref()) {
        Some(clients) => (
            clients
                .iter()
                .map(|(ip, l)| {
                    (
                        ip.clone(),
                        l.failures,
                        l.accounts.count(),
                        l.successes,
                        l.tried.clone(),
                        l.got_in.clone(),
                        !l.accounts.is_exact(),
                    )
                })
                .collect(),
            Read::Summaries,
        ),
        None => (login_rows(q).await?, Read::Rows),
    };
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let found = rank(
        rows,
        |r| ln1p(r.1),
        0.0,
        0.3,
        |r| r.1 as i64 >= min,
        limit,
        |(src, failures, accounts, successes, tried, got_in, estimated), b, z| {
            let spraying = accounts >= 5 && failures <= 3 * accounts;
            let typical = typical_count(b);
            let about = if estimated { "about " } else { "" };
            let what = if spraying {
                format!("{about}{accounts} accounts, a few tries each: password spraying")
            } else if accounts <= 1 {
                format!(
                    "the account {}: password guessing",
                    tried.as_deref().unwrap_or("(unnamed)")
                )
            } else {
                format!(
                    "{about}{accounts} accounts (such as {}): password guessing",
                    tried.as_deref().unwrap_or("(unnamed)")
                )
            };
            let after = match (&got_in, successes) {
                (Some(u), n) if n > 0 => format!(" It also logged in as {u}: check that login."),
                _ => String::new(),
            };
            Finding {
                analysis: "password-guessing",
                score: score_of_z(z),
                z: Some(z),
                headline: format!(
                    "{src} failed to log in {failures} times ({} the typical client's {typical:.0}) against {what}.{after}",
                    times(failures as f64, typical.max(1.0))
                ),
                focus: Focus::on([("src_ip", src.clone())]),
                detail: Detail::PasswordGuessing {
                    src,
                    failures,
                    accounts,
                    successes,
                    spraying,
                    example_account: tried,
                    got_in_as: got_in,
                    accounts_estimated: estimated,
                },
            }
        },
    );
    Ok((found, read))
}

/// Every client's logins, from the rows.
async fn login_rows(q: &Sql<'_>) -> Result<Vec<Row>, QueryError> {
    let sql = "SELECT src_ip, \
                      sum(CASE WHEN auth_result = 'failure' THEN 1 ELSE 0 END) AS failures, \
                      count(DISTINCT CASE WHEN auth_result = 'failure' THEN \"user\" END) AS accounts, \
                      sum(CASE WHEN auth_result = 'success' THEN 1 ELSE 0 END) AS successes, \
                      min(CASE WHEN auth_result = 'failure' THEN \"user\" END) AS tried, \
                      min(CASE WHEN auth_result = 'success' THEN \"user\" END) AS got_in \
               FROM events WHERE src_ip IS NOT NULL AND auth_result IS NOT NULL GROUP BY src_ip";
    let batches = q.rows(sql, vec![], None).await?;
    Ok(each_row(&batches, |r| {
        Some((
            r.string(0)?,
            r.count(1),
            r.count(2),
            r.count(3),
            r.string(4),
            r.string(5),
            false,
        ))
    }))
}
