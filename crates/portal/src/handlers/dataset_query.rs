//! `GET|POST /api/v1/datasets/{id}/query?sql=...`: a read-only SQL query over one dataset
//! the caller may read (its table is `events`, or the dataset's id), with the lake's member
//! limits (time, memory, rows) and a rate limit per client address. Answers are JSON:
//! `{"columns": [...], "rows": [{...}], "truncated": bool, "elapsed_ms": n}` or
//! `{"error": {"kind": ..., "message": ...}}` with the lake's public message. A dataset the
//! caller may not read answers exactly like a missing one (404).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secviz_lake::query::{OutputFormat, QueryOptions, write_batches};
use serde::Deserialize;
use serde_json::json;

use super::Visit;
use crate::data::ids::DatasetId;
use crate::data::policy::reader_of;
use crate::db::datasets;
use crate::state::AppState;

/// Longest SQL text accepted.
const MAX_SQL: usize = 16 * 1024;

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

fn json_response(status: StatusCode, v: &serde_json::Value) -> Response {
    let mut r = (status, v.to_string()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
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
    body: axum::body::Bytes,
) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let sql = q.sql.or_else(|| sql_of_body(ct, &body));
    run(&state, &visit, &id, sql).await
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
    if !state.limiter.take(
        &format!("query:{}", visit.ip),
        state.config.limits.queries_per_minute,
        60,
    ) {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many queries: wait a minute and try again",
        );
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
    let opts = QueryOptions::member(vec![ds.lake_name()]);
    let result = match state.lake.query(&sql, &opts).await {
        Ok(r) => r,
        Err(e) => {
            let kind = serde_json::to_value(e.kind).unwrap_or(json!("error"));
            let status = match e.kind {
                secviz_lake::query::QueryErrorKind::Internal => {
                    tracing::error!(error = %crate::logtext::bounded(&e.to_string(), 2048), "query failed inside");
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                _ => StatusCode::BAD_REQUEST,
            };
            return json_response(
                status,
                &json!({"error": {"kind": kind, "message": e.public_message()}}),
            );
        }
    };
    let mut out = Vec::new();
    if let Err(e) = write_batches(
        OutputFormat::Json,
        result.schema.clone(),
        &result.batches,
        &mut out,
    ) {
        tracing::error!(error = %crate::logtext::bounded(&e.to_string(), 2048), "writing a query result failed");
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        );
    }
    let rows: Vec<serde_json::Value> = out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect();
    let columns: Vec<&str> = result
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "columns": columns,
            "rows": rows,
            "truncated": result.truncated,
            "elapsed_ms": result.elapsed.as_millis() as u64,
        }),
    )
}
