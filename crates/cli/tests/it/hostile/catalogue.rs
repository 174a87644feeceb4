//! Every kind of hostile request the suite sends to the SQL API and the views API, what
//! each must be answered with, and how one is sent.

use std::time::{Duration, Instant};

/// One kind of hostile request.
#[derive(Clone)]
pub(super) struct Hostile {
    pub(super) name: &'static str,
    pub(super) request: Request,
    /// Statuses that count as the request evaluated and refused as it should be.
    pub(super) expect: &'static [u16],
    /// Text the JSON error must contain (a limit's or a kind's name).
    pub(super) says: &'static str,
    /// The answer is a JSON error (the APIs); `false` for pages, whose errors are pages,
    /// and for the dashboards' refresh, which answers every viewer with the shared panels.
    pub(super) json_error: bool,
}

#[derive(Clone)]
pub(super) enum Request {
    Sql(String),
    View {
        route: &'static str,
        spec: String,
        sel: Option<String>,
    },
    /// Live ingest over HTTP (issue 18) with this `Authorization` header (or none) and a
    /// body of JSON lines.
    Live {
        authorization: Option<String>,
        body: String,
    },
    /// A GET of a path (dashboards and share links, issue 18).
    Get(String),
}

/// A GET of `path` (a dashboard's or a share link's).
pub(super) fn get(
    name: &'static str,
    path: String,
    expect: &'static [u16],
    says: &'static str,
    json_error: bool,
) -> Hostile {
    Hostile {
        name,
        request: Request::Get(path),
        expect,
        says,
        json_error,
    }
}

pub(super) fn live(
    name: &'static str,
    authorization: Option<String>,
    expect: &'static [u16],
    says: &'static str,
) -> Hostile {
    let line =
        r#"{"ts":"2025-10-21T06:01:00Z","src_ip":"192.0.2.1","dst_ip":"192.0.2.2","dst_port":22}"#;
    Hostile {
        name,
        request: Request::Live {
            authorization,
            body: format!("{line}\n").repeat(500),
        },
        expect,
        says,
        json_error: true,
    }
}

pub(super) fn sql(
    name: &'static str,
    sql: String,
    expect: &'static [u16],
    says: &'static str,
) -> Hostile {
    Hostile {
        name,
        request: Request::Sql(sql),
        expect,
        says,
        json_error: true,
    }
}

pub(super) fn view(
    name: &'static str,
    route: &'static str,
    spec: serde_json::Value,
    expect: &'static [u16],
    says: &'static str,
) -> Hostile {
    Hostile {
        name,
        request: Request::View {
            route,
            spec: spec.to_string(),
            sel: None,
        },
        expect,
        says,
        json_error: true,
    }
}

pub(super) fn hostile_requests() -> Vec<Hostile> {
    let doubling = format!(
        "SELECT max(length(x)) FROM {}(SELECT raw AS x FROM events) t{}",
        "(SELECT x || x AS x FROM ".repeat(26),
        ") t".repeat(26)
    );
    let spec = |filter: &str| serde_json::json!({"version": 1, "kind": "bar", "fields": ["src_ip"], "top_k": 10, "filter": filter});
    let mut v = vec![
        sql("long arithmetic", format!("SELECT {}1", "1+".repeat(5_000)), &[422], "expression_depth"),
        sql("deep parentheses", format!("SELECT {}1{}", "(".repeat(400), ")".repeat(400)), &[400, 422], "error"),
        sql("cross join of three", "SELECT count(*) FROM events a, events b, events c".into(), &[422], "estimated_rows"),
        sql(
            "self-join three times",
            "SELECT count(*) FROM events a JOIN events b ON a.protocol = b.protocol JOIN events c ON b.protocol = c.protocol".into(),
            &[422],
            "limit",
        ),
        sql("a gigabyte string", "SELECT repeat('x', 1000000000)".into(), &[422], "memory"),
        sql("doubling strings", doubling, &[422], "memory"),
        sql("huge generate_series", "SELECT count(*) FROM generate_series(1, 1000000000000)".into(), &[422], "estimated_rows"),
        sql("long generate_series", "SELECT sum(value % 13) FROM generate_series(1, 500000000)".into(), &[422], "limit"),
        sql(
            "recursive CTE",
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r".into(),
            &[400],
            "forbidden",
        ),
        sql(
            "regex blow-up",
            "SELECT max(length(regexp_replace(repeat(raw, 200), '.', '$0$0$0$0', 'g'))) FROM events".into(),
            &[422],
            "memory",
        ),
        sql("pattern from a column", "SELECT count(*) FROM events WHERE regexp_like(raw, src_ip)".into(), &[400], "forbidden"),
        sql(
            "sort of a join",
            "SELECT a.raw, b.raw FROM events a JOIN events b ON a.protocol = b.protocol ORDER BY a.raw, b.raw".into(),
            &[422],
            "limit",
        ),
        sql(
            "array_agg of a join",
            "SELECT cardinality(array_agg(a.raw)) FROM events a JOIN events b ON a.protocol = b.protocol".into(),
            &[422],
            "limit",
        ),
        sql("SQL too long", format!("SELECT 1 -- {}", "x".repeat(20_000)), &[413], "longer than"),
        sql("many unions", vec!["SELECT 1"; 40].join(" UNION ALL "), &[422], "tables"),
        sql("a file path", "SELECT input_file_name() FROM events".into(), &[400], "forbidden"),
        sql("writing", "COPY (SELECT 1) TO '/tmp/x.csv'".into(), &[400], "forbidden"),
        view("views filter arithmetic", "facets", spec(&format!("dst_port = {}1", "1+".repeat(1_900))), &[400, 422], "error"),
        view("views filter strings", "facets", spec("length(repeat(raw, 1000000)) > 0"), &[422], "memory"),
        view(
            "views filter join",
            "timeline",
            spec("dst_port IN (SELECT a.dst_port FROM events a, events b, events c)"),
            &[400, 422],
            "error",
        ),
        view(
            "views deep rules",
            "graph",
            serde_json::json!({"version": 1, "kind": "graph", "fields": ["src_ip", "dst_ip"],
                "graph": {"source": "src_ip", "target": "dst_ip", "seed": 1,
                          "rules": format!("color=\"red\" if {}src_ip eq \"a\"{}", "(".repeat(3_000), ")".repeat(3_000))}}),
            &[400],
            "nests",
        ),
    ];
    v.push(Hostile {
        name: "deep selection",
        request: Request::View {
            route: "facets",
            spec:
                serde_json::json!({"version": 1, "kind": "bar", "fields": ["src_ip"], "top_k": 10})
                    .to_string(),
            sel: Some("[".repeat(5_000)),
        },
        expect: &[400],
        says: "error",
        json_error: true,
    });
    // Live ingest (issue 18): without a token, with a forged one, with one that is no token.
    v.push(live(
        "live ingest without a token",
        None,
        &[401],
        "unauthorized",
    ));
    v.push(live(
        "live ingest with a forged token",
        Some(format!("Bearer svz_0123456789abcdef_{}", "ab".repeat(32))),
        &[401],
        "unauthorized",
    ));
    v.push(live(
        "live ingest with a malformed token",
        Some(format!("Bearer svz_../../{}", "%".repeat(4000))),
        &[401],
        "unauthorized",
    ));
    // Dashboards and share links (issue 18): `secviz demo` makes dashboard 1 public. Its
    // refresh from many addresses at once is answered from the one computation of the
    // interval; a drill-down's selection is bounded like the views'; a share link that is
    // forged or no link at all is a 404 like any missing page.
    v.push(get(
        "dashboard refresh from everyone",
        "/dash/1/panels".into(),
        &[200, 304],
        "panels",
        false,
    ));
    v.push(get(
        "dashboard drill-down with a deep selection",
        format!("/dash/1/events?sel={}", "%5B".repeat(5_000)),
        &[400],
        "selection",
        false,
    ));
    v.push(get(
        "dashboard drill-down with a long selection",
        format!("/dash/1/events?sel={}", "x".repeat(40_000)),
        &[400],
        "too long",
        false,
    ));
    v.push(get(
        "share link forged",
        format!("/s/0123456789abcdef_{}/panels", "ab".repeat(32)),
        &[404],
        "Not found",
        false,
    ));
    v.push(get(
        "share link that is no link",
        format!("/s/{}/panels", "%2E%2E%2F".repeat(2_000)),
        &[404],
        "Not found",
        false,
    ));
    v
}

/// What one hostile request ended with.
#[derive(Debug)]
pub(super) struct Outcome {
    pub(super) status: u16,
    pub(super) took: Duration,
    pub(super) body: String,
}

pub(super) async fn send(
    http: &reqwest::Client,
    base: &str,
    dataset: &str,
    ip: &str,
    h: &Hostile,
) -> Outcome {
    let t = Instant::now();
    let req = match &h.request {
        Request::Sql(q) => http
            .post(format!("{base}/api/v1/datasets/{dataset}/query"))
            .form(&[("sql", q.as_str())]),
        Request::View { route, spec, sel } => {
            let mut query = format!("spec={}", enc(spec));
            if let Some(s) = sel {
                query.push_str(&format!("&sel={}", enc(s)));
            }
            http.get(format!(
                "{base}/api/v1/views/datasets/{dataset}/{route}?{query}"
            ))
        }
        Request::Get(path) => http.get(format!("{base}{path}")),
        Request::Live {
            authorization,
            body,
        } => {
            let r = http
                .post(format!("{base}/api/v1/live/{dataset}"))
                .body(body.clone());
            match authorization {
                Some(a) => r.header("authorization", a.as_str()),
                None => r,
            }
        }
    };
    let r = req
        .header("x-forwarded-for", ip)
        .timeout(Duration::from_secs(60))
        .send()
        .await;
    match r {
        Ok(r) => {
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            Outcome {
                status,
                took: t.elapsed(),
                body,
            }
        }
        Err(e) => Outcome {
            status: 0,
            took: t.elapsed(),
            body: e.to_string(),
        },
    }
}

/// Percent-encodes everything but unreserved characters.
pub(super) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A JSON error body (the SQL API's `{"error": {...}}` or the views API's `{"error": "..."}`).
pub(super) fn is_json_error(body: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(body).is_ok_and(|v| v.get("error").is_some())
}
