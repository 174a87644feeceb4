//! `POST /api/v1/live/{dataset}`: JSON lines appended to a dataset, authorized by an API
//! token of its owner's (`Authorization: Bearer svz_<id>_<secret>`, made on the account page).
//!
//! The body is read as it arrives, cut into lines, and handed to the dataset's receiver a
//! batch at a time; each batch is committed before more of the body is read, so a sender
//! faster than the lake is slowed (TCP flow control), and the answer, `200 {"received": n,
//! "refused": n, "version": v}`, comes only once every line of the request is durable: a
//! 2xx means nothing of it can be lost. Malformed lines are counted and kept with their
//! numbers in the dataset's record of the token (`datasets NAME` on the command line).
//!
//! Limits: the body (16 MiB, then 413), a line (1 MiB: longer ones are refused and counted),
//! requests per token (120 a minute, then 429), and the portal's body timeouts. A token that
//! is unknown, wrong, expired or revoked is 401; one for another dataset 403; a dataset that
//! is gone or not ready 404/409. Errors are JSON: `{"error": {"kind", "message"}}`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use secviz_lake::live::{Messages, Source};
use secviz_lake::manifest::RejectSample;
use serde_json::json;

use crate::auth;
use crate::db::datasets;
use crate::db::states::DatasetStatus;
use crate::db::tokens::{self, TokenState};
use crate::state::AppState;

/// Largest request body.
pub const MAX_BODY: usize = 16 << 20;
/// Longest line.
const MAX_LINE: usize = 1 << 20;
/// Requests a minute one token may make.
const PER_MINUTE: u32 = 120;

/// An error answer. The body may be partly unread: the connection is closed after it, so
/// that the client does not send its next request on a connection the server drops.
fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    let mut r = (
        status,
        json!({"error": {"kind": kind, "message": message}}).to_string(),
    )
        .into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// `svz_<id>_<secret>` from the Authorization header.
fn bearer(headers: &HeaderMap) -> Option<(&str, &str)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = v.strip_prefix("Bearer ")?.trim();
    let rest = token.strip_prefix("svz_")?;
    let (id, secret) = rest.split_once('_')?;
    let hexish = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hexish(id, 16) && hexish(secret, 64)).then_some((id, secret))
}

pub async fn post(
    State(state): State<AppState>,
    Path(dataset): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let now = state.clock.now();
    let unauthorized = || {
        error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send a valid API token of this dataset: Authorization: Bearer svz_…",
        )
    };
    let Some((id, secret)) = bearer(&headers) else {
        return unauthorized();
    };
    let token = match tokens::get(&state.db, id).await {
        Ok(Some(t)) => t,
        Ok(None) => return unauthorized(),
        Err(e) => return internal(e),
    };
    if !auth::same(&auth::token_hash(secret), &token.secret_hash) {
        tracing::warn!(target: "security", event = "api_token_wrong_secret", token = %token.id);
        return unauthorized();
    }
    match token.state(now) {
        TokenState::Active => {}
        TokenState::Expired => {
            return error(
                StatusCode::UNAUTHORIZED,
                "expired",
                "this API token has expired",
            );
        }
        TokenState::Revoked => {
            return error(
                StatusCode::UNAUTHORIZED,
                "revoked",
                "this API token was revoked",
            );
        }
    }
    if token.dataset_id != dataset {
        return error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this API token is for another dataset",
        );
    }
    let ds = match datasets::get_owned(&state.db, &dataset, token.owner_id).await {
        Ok(Some(d)) => d,
        Ok(None) => return error(StatusCode::NOT_FOUND, "not_found", "no such dataset"),
        Err(e) => return internal(e),
    };
    if ds.status != DatasetStatus::Ready {
        return error(
            StatusCode::CONFLICT,
            "not_ready",
            "the dataset's first upload is not ingested yet",
        );
    }
    let key = format!("live-token:{}", token.id);
    let Some(slot) = state.limiter.reserve(&[&key], PER_MINUTE, 60).await else {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "limit",
            "too many requests with this token; wait a minute",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return r;
    };
    slot.keep();
    let _ = tokens::touch(&state.db, &token.id, now).await;
    let receiver = match state.live.of(&state.lake, &state.anon_key, &ds) {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let source = Source {
        key: format!("http-{}", token.id),
        kind: "http",
        label: format!("HTTP, token {}", token.label),
        format: secviz_parse::Format::Jsonl,
    };
    // Batches committed before a failure stay, so the count is recorded whatever the end;
    // in a task of its own, which a client that goes away mid-body does not cancel.
    let task = {
        let (state, dataset) = (state.clone(), ds.id.clone());
        tokio::spawn(async move {
            let delivered = read_and_deliver(body, &receiver, &source).await;
            record_rows(&state, &dataset, now).await;
            delivered
        })
    };
    let delivered = match task.await {
        Ok(d) => d,
        Err(e) => return internal(e),
    };
    match delivered {
        Ok((received, refused, version)) => {
            let mut r = (
                StatusCode::OK,
                json!({"received": received, "refused": refused, "version": version}).to_string(),
            )
                .into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Err(Failure::TooLarge) => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "limit",
            "the body is over 16 MiB; what came before the limit was not appended",
        ),
        Err(Failure::Body) => error(
            StatusCode::BAD_REQUEST,
            "body",
            "the body ended early; send the request again (lines already committed stay)",
        ),
        Err(Failure::Commit(why)) => {
            tracing::error!(dataset = %ds.id, error = %why, "a live append failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the lines could not be stored; send them again",
            )
        }
    }
}

/// Records the dataset's rows after appends, as its manifest counts them, so the pages that
/// show the count (the data post, the dashboard) do not keep the first upload's. A failure
/// here is logged: the lines are committed either way.
async fn record_rows(state: &AppState, dataset: &str, now: i64) {
    let Ok(name) = secviz_lake::DatasetName::parse(dataset) else {
        return;
    };
    let rows = match state.lake.manifest(&name).await {
        Ok(Some(m)) => i64::try_from(m.rows).unwrap_or(i64::MAX),
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(dataset, error = %e, "reading the row count after a live append");
            return;
        }
    };
    if let Err(e) = datasets::grow_rows(&state.db, dataset, rows, now).await {
        tracing::warn!(dataset, error = %e, "recording the row count after a live append");
    }
}

enum Failure {
    TooLarge,
    Body,
    Commit(String),
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "live ingest");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "something went wrong on our side",
    )
}

/// Reads the body's lines and delivers them a batch at a time, each committed before more is
/// read. Returns lines received, lines refused and the last version.
async fn read_and_deliver(
    body: Body,
    receiver: &secviz_lake::live::Receiver,
    source: &Source,
) -> Result<(u64, u64, u64), Failure> {
    let batch_bytes = receiver.max_batch_bytes().min(4 << 20);
    let mut stream = body.into_data_stream();
    let mut pending: Vec<u8> = Vec::new();
    let mut skipping = false;
    let mut out = empty();
    let (mut received, mut refused, mut version, mut total) = (0u64, 0u64, 0u64, 0usize);
    let mut ended = false;
    while !ended {
        match stream.next().await {
            Some(Ok(chunk)) => {
                total += chunk.len();
                if total > MAX_BODY {
                    return Err(Failure::TooLarge);
                }
                pending.extend_from_slice(&chunk);
            }
            Some(Err(e)) => {
                let too_large = std::error::Error::source(&e)
                    .is_some_and(|s| s.to_string().contains("length limit"))
                    || e.to_string().contains("length limit");
                return Err(if too_large {
                    Failure::TooLarge
                } else {
                    Failure::Body
                });
            }
            None => {
                ended = true;
                if !pending.is_empty() && !pending.ends_with(b"\n") {
                    pending.push(b'\n');
                }
            }
        }
        // Whole lines out of what arrived.
        let mut at = 0;
        while let Some(i) = memchr::memchr(b'\n', &pending[at..]) {
            let line = &pending[at..at + i];
            at += i + 1;
            if std::mem::take(&mut skipping) {
                continue; // the rest of a refused line
            }
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            received += 1;
            if line.len() > MAX_LINE {
                refused += 1;
                out.refused.push(too_long(line.len(), line));
                continue;
            }
            out.lines.extend_from_slice(line);
            out.lines.push(b'\n');
        }
        pending.drain(..at);
        if pending.len() > MAX_LINE && !skipping {
            // A line over the cap, still arriving: refused now, its rest skipped.
            received += 1;
            refused += 1;
            out.refused.push(too_long(pending.len(), &pending));
            pending.clear();
            skipping = true;
        } else if skipping {
            pending.clear();
        }
        if out.lines.len() >= batch_bytes
            || (ended && (!out.lines.is_empty() || !out.refused.is_empty()))
        {
            let batch = std::mem::replace(&mut out, empty());
            version = receiver
                .deliver(source, batch)
                .await
                .map_err(|e| Failure::Commit(e.to_string()))?;
        }
    }
    Ok((received, refused, version))
}

fn empty() -> Messages {
    Messages {
        lines: Vec::new(),
        refused: Vec::new(),
        dropped: 0,
    }
}

fn too_long(len: usize, start: &[u8]) -> RejectSample {
    RejectSample {
        line: 0,
        reason: "line_too_long".into(),
        detail: format!("a line of {len} bytes or more is over the limit of {MAX_LINE}"),
        raw: String::from_utf8_lossy(&start[..start.len().min(256)]).into_owned(),
    }
}
