//! `GET|POST /api/v1/datasets/{id}/query?sql=...`: a read-only SQL query over one dataset
//! the caller may read (its table is `events`, or the dataset's id).
//!
//! The query is member work: it is admitted per client address (429 with `Retry-After`
//! when the address has enough in flight or the executor is full), then parsed, planned and
//! run in a job of the query executor, in the lake's sandbox, under the configured limits
//! (time, memory, rows). The answer is written as JSON in that job and streamed out a piece
//! at a time, cut at [`crate::config::QueryConfig::answer_bytes`]:
//!
//! `{"columns": [...], "rows": [{...}], "truncated": bool, "truncated_by": "rows"|"bytes"|null,
//! "elapsed_ms": n}`
//!
//! An error before the first piece is a 4xx/5xx `{"error": {"kind": ..., "message": ...}}`.
//! One after rows were sent (the time limit in the middle of a long answer) still ends the
//! JSON: `"error": {...}` follows the rows, and `truncated` is true. A dataset the caller may
//! not read answers exactly like a missing one (404).

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use secviz_lake::query::{
    OutputFormat, QueryError, QueryErrorKind, QueryLimits, QueryOptions, write_batches,
};
use secviz_sandbox::{RunError, Sink, StreamError};
use serde::Deserialize;
use serde_json::json;

use super::Visit;
use crate::data::ids::DatasetId;
use crate::data::policy::{client_key, reader_of};
use crate::db::datasets;
use crate::state::AppState;

/// Longest SQL text accepted.
const MAX_SQL: usize = 16 * 1024;

/// Bytes gathered before a piece of the answer is sent.
const PIECE: usize = 64 * 1024;

#[derive(Deserialize, Default)]
pub struct SqlParam {
    #[serde(default)]
    sql: Option<String>,
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({"error": {"kind": kind, "message": message}}),
    )
}

fn with_api_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

fn json_response(status: StatusCode, v: &serde_json::Value) -> Response {
    with_api_headers((status, v.to_string()).into_response())
}

/// The SQL of a POST body: a form (`sql=`), JSON (`{"sql": ...}`) or plain text.
fn sql_of_body(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.starts_with("application/json") {
        return serde_json::from_slice::<SqlParam>(body).ok()?.sql;
    }
    if ct.starts_with("application/x-www-form-urlencoded") {
        return form_urlencoded::parse(body)
            .find(|(k, _)| k == "sql")
            .map(|(_, v)| v.into_owned());
    }
    String::from_utf8(body.to_vec()).ok()
}

pub async fn get(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Query(q): Query<SqlParam>,
) -> Response {
    run(&state, &visit, &id, q.sql).await
}

pub async fn post(
    State(state): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Query(q): Query<SqlParam>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let sql = q.sql.or_else(|| sql_of_body(ct, &body));
    run(&state, &visit, &id, sql).await
}

/// The HTTP status of a query error.
fn status_of(e: &QueryError) -> StatusCode {
    match e.kind {
        QueryErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        QueryErrorKind::Limit(_) => StatusCode::UNPROCESSABLE_ENTITY,
        QueryErrorKind::Cancelled => StatusCode::REQUEST_TIMEOUT,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn query_error(e: &QueryError) -> Response {
    if e.kind == QueryErrorKind::Internal {
        tracing::error!(error = %crate::logtext::bounded(&e.to_string(), 2048), "query failed inside");
    }
    json_response(status_of(e), &json!({"error": error_body(e)}))
}

fn error_body(e: &QueryError) -> serde_json::Value {
    let kind = serde_json::to_value(e.kind).unwrap_or(json!("error"));
    json!({"kind": kind, "message": e.public_message(), "position": e.position})
}

fn run_error(e: RunError) -> Response {
    match e {
        RunError::Busy(b) => {
            let mut r = error(StatusCode::TOO_MANY_REQUESTS, "busy", &b.to_string());
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(b.retry_after.as_secs().max(1)),
            );
            r
        }
        RunError::Exceeded(x) => {
            query_error(&secviz_lake::query::SandboxFailure::Exceeded(x).to_query_error())
        }
        RunError::Panicked => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error while running the query",
        ),
        RunError::Stopped => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is restarting: try again in a moment",
        ),
    }
}

async fn run(state: &AppState, visit: &Visit, id: &str, sql: Option<String>) -> Response {
    let not_found = || error(StatusCode::NOT_FOUND, "not_found", "no such dataset");
    let Some(ds) = DatasetId::parse(id) else {
        return not_found();
    };
    match datasets::may_read(&state.db, ds.as_str(), reader_of(visit)).await {
        Ok(true) => {}
        Ok(false) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "dataset access check failed");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
            );
        }
    }
    if !state
        .limiter
        .take(
            &format!("query:{}", visit.ip),
            state.config.limits.queries_per_minute,
            60,
        )
        .await
    {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many queries: wait a minute and try again",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return r;
    }
    let Some(sql) = sql.filter(|s| !s.trim().is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "missing",
            "give the query in the `sql` parameter",
        );
    };
    if sql.len() > MAX_SQL {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "limit",
            "the query is longer than 16 KiB",
        );
    }
    let admission = match state
        .executor
        .admit_at_most(&client_key(visit), state.config.queries.sql_per_client)
    {
        Ok(a) => a,
        Err(b) => return run_error(RunError::Busy(b)),
    };
    let q = &state.config.queries;
    let limits = state.query_limits();
    let opts = QueryOptions {
        limits: QueryLimits {
            max_rows: Some(q.max_rows),
            ..QueryLimits::member_with(limits.time, limits.memory)
        },
        ..QueryOptions::member(vec![ds.lake_name()])
    };
    let (lake, cap) = (state.lake.clone(), q.answer_bytes);
    let mut pieces = state
        .executor
        .stream(admission, limits, move |out| async move {
            answer(&lake, &sql, &opts, cap, &out).await
        });
    match pieces.next().await {
        Some(Ok(first)) => {
            let rest = pieces.map(|r| {
                r.map_err(|e| {
                    tracing::warn!(error = %crate::logtext::bounded(&e.to_string(), 2048), "a query answer ended early");
                    std::io::Error::other(e.to_string())
                })
            });
            let body =
                futures::stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(rest);
            with_api_headers(Body::from_stream(body).into_response())
        }
        Some(Err(StreamError::Job(e))) => query_error(&e),
        Some(Err(StreamError::Run(e))) => run_error(e),
        Some(Err(StreamError::Incomplete)) | None => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error while running the query",
        ),
    }
}

/// Runs the query and writes its JSON answer through `out` (in the job).
async fn answer(
    lake: &secviz_lake::Lake,
    sql: &str,
    opts: &QueryOptions,
    cap: usize,
    out: &Sink<Bytes, QueryError>,
) -> Result<(), QueryError> {
    let started = Instant::now();
    let cancelled = |_| QueryError::new(QueryErrorKind::Cancelled, "the client went away");
    let mut stream = lake.query_stream(sql, opts).await?;
    let columns: Vec<String> = stream
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut buf = Vec::with_capacity(PIECE + 4096);
    buf.extend_from_slice(b"{\"columns\":");
    serde_json::to_writer(&mut buf, &columns).map_err(internal)?;
    buf.extend_from_slice(b",\"rows\":[");
    let (mut sent, mut rows, mut any_sent) = (0usize, 0usize, false);
    let mut cut_by: Option<&str> = None;
    let mut failed: Option<QueryError> = None;
    let mut lines = Vec::new();
    'batches: while let Some(batch) = stream.next().await {
        let batch = match batch {
            Ok(b) => b,
            Err(e) if !any_sent => return Err(e),
            Err(e) => {
                failed = Some(e);
                break;
            }
        };
        lines.clear();
        write_batches(OutputFormat::Json, batch.schema(), &[batch], &mut lines)
            .map_err(internal)?;
        for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            if sent + buf.len() + line.len() + 1 > cap {
                cut_by = Some("bytes");
                break 'batches;
            }
            if rows > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(line);
            rows += 1;
        }
        if buf.len() >= PIECE {
            let piece = Bytes::from(std::mem::replace(
                &mut buf,
                Vec::with_capacity(PIECE + 4096),
            ));
            sent += piece.len();
            any_sent = true;
            let n = piece.len();
            out.send(piece, n).await.map_err(cancelled)?;
        }
    }
    if cut_by.is_none() && stream.truncated() {
        cut_by = Some("rows");
    }
    // Dropping the stream here cancels whatever of the query is left.
    drop(stream);
    buf.extend_from_slice(b"],\"truncated\":");
    let truncated = cut_by.is_some() || failed.is_some();
    buf.extend_from_slice(if truncated { b"true" } else { b"false" });
    buf.extend_from_slice(b",\"truncated_by\":");
    serde_json::to_writer(&mut buf, &cut_by).map_err(internal)?;
    buf.extend_from_slice(format!(",\"elapsed_ms\":{}", started.elapsed().as_millis()).as_bytes());
    if let Some(e) = &failed {
        buf.extend_from_slice(b",\"error\":");
        serde_json::to_writer(&mut buf, &error_body(e)).map_err(internal)?;
    }
    buf.push(b'}');
    let n = buf.len();
    out.send(Bytes::from(buf), n).await.map_err(cancelled)?;
    Ok(())
}

fn internal(e: impl std::fmt::Display) -> QueryError {
    QueryError::new(QueryErrorKind::Internal, e.to_string())
}
