//! The viewer's HTTP API and page through a real server on port 0 (reqwest), over a real
//! lake: routes, status codes, headers, the access policy, the no-JavaScript page and the
//! CSV export (formula injection neutralised, same rows as a lake query).

use crate::common;

use axum::http::request::Parts;
use common::{default_graph_nodes, graph_ids, hostile_lake, lake_count, pf_lake};
use secviz_lake::DatasetName;
use secviz_viewer::page::encode;
use secviz_viewer::{ReadPolicy, ViewsState};
use secviz_views::ViewSpec;

#[tokio::test]
async fn page_assets_and_api_answer() {
    let t = pf_lake(1000).await;
    let base =
        common::serve::explorer(t.lake.clone(), t.name.clone(), ViewSpec::linked_default()).await;
    let http = reqwest::Client::new();
    let page = http.get(&base).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline'; script"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("data-secviz-viewer") && html.contains(r#"data-api="api/datasets/pf""#));
    // Without JavaScript the page still shows server-rendered pictures.
    assert!(html.contains(r#"class="sv-static""#) && html.matches("<img src=").count() >= 4);
    let js = http
        .get(format!("{base}assets/viewer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert!(
        js.bytes().await.unwrap().len() > 100_000,
        "the bundle holds sigma, graphology and d3"
    );

    let facets: serde_json::Value = http
        .get(format!("{base}api/datasets/pf/facets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        facets["total"].as_u64().unwrap() as i64,
        lake_count(&t.lake, "SELECT count(*) FROM pf").await
    );
    let sel = encode(r#"{"values":{"dst_port":[53]}}"#);
    let brushed: serde_json::Value = http
        .get(format!("{base}api/datasets/pf/facets?sel={sel}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        brushed["selected"].as_i64().unwrap(),
        lake_count(&t.lake, "SELECT count(*) FROM pf WHERE dst_port = 53").await
    );

    let svg = http
        .get(format!(
            "{base}api/datasets/pf/chart.svg?spec={}",
            encode(r#"{"kind":"bar","fields":["dst_port"]}"#)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        svg.headers()["content-type"],
        "image/svg+xml; charset=utf-8"
    );
    assert!(
        svg.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    let graph: serde_json::Value = http
        .get(format!("{base}api/datasets/pf/graph"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids = graph_ids(&graph);
    assert_eq!(ids, default_graph_nodes(&t.lake).await);
    assert_eq!(graph["nodes"]["x"].as_array().unwrap().len(), ids.len());

    for (url, status) in [
        ("api/datasets/nope/facets", 404),
        ("api/datasets/..%2Fetc/facets", 404),
        (
            "api/datasets/pf/facets?sel=%7B%22values%22%3A%7B%22nope%22%3A%5B1%5D%7D%7D",
            400,
        ),
        (
            "api/datasets/pf/facets?spec=%7B%22kind%22%3A%22bar%22%7D",
            400,
        ),
        (
            "api/datasets/pf/facets?spec=%7B%22fields%22%3A%5B%22src_ip%22%5D%2C%22filter%22%3A%22nope%20%3D%201%22%7D",
            400,
        ),
    ] {
        let r = http.get(format!("{base}{url}")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{url}");
    }
}

/// Reads only datasets whose name starts with "ok".
#[derive(Clone)]
struct OnlyOk;

impl ReadPolicy for OnlyOk {
    async fn may_read(&self, _: &Parts, d: &DatasetName) -> bool {
        d.as_str().starts_with("ok")
    }
}

#[tokio::test]
async fn a_dataset_the_policy_denies_is_not_found() {
    let t = pf_lake(200).await;
    let app = secviz_viewer::router(ViewsState::new(
        t.lake.clone(),
        OnlyOk,
        ViewSpec::linked_default(),
        common::serve::executor(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    for route in [
        "info",
        "facets",
        "timeline",
        "graph",
        "rows",
        "export.csv",
        "chart.svg",
    ] {
        let r = reqwest::get(format!("http://{addr}/datasets/pf/{route}"))
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{route}");
        let missing = reqwest::get(format!("http://{addr}/datasets/ok-missing/{route}"))
            .await
            .unwrap();
        assert_eq!(missing.status(), 404, "{route}");
        assert_eq!(
            r.text().await.unwrap(),
            missing.text().await.unwrap(),
            "denied and missing look alike"
        );
    }
}

#[tokio::test]
async fn csv_export_neutralises_formulas_and_matches_the_lake() {
    let t = hostile_lake().await;
    let spec = ViewSpec::from_json(r#"{"fields":["http_uri","user_agent"]}"#).unwrap();
    let base = common::serve::explorer(t.lake.clone(), t.name.clone(), spec).await;
    let r = reqwest::get(format!("{base}api/datasets/jsonl/export.csv"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let text = r.text().await.unwrap();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let header = rd.headers().unwrap().clone();
    let uri = header.iter().position(|h| h == "http_uri").unwrap();
    let ua = header.iter().position(|h| h == "user_agent").unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len() as i64,
        lake_count(&t.lake, "SELECT count(*) FROM jsonl").await
    );
    for row in &rows {
        for cell in [&row[uri], &row[ua]] {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "formula left active: {cell}"
            );
        }
    }
    assert!(
        rows.iter()
            .any(|r| &r[uri] == "'=HYPERLINK(\"http://evil.example\",\"x\")")
    );
    assert!(
        rows.iter().any(|r| &r[ua] == "<script>alert(1)</script>"),
        "text kept verbatim (CSV is not HTML)"
    );
    // The same labels in a chart come out escaped.
    let svg = reqwest::get(format!(
        "{base}api/datasets/jsonl/chart.svg?spec={}",
        encode(r#"{"kind":"bar","fields":["user_agent"]}"#)
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;"));
}
