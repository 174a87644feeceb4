//! Data-backed posts (issue 7) against the real app, on SQLite and PostgreSQL: upload ->
//! background ingest -> draft -> view -> publish -> viewer, downloads, query API, remix;
//! anonymization leaves no original address anywhere; private datasets and drafts are 404
//! to others; bad uploads get clear messages; an interrupted ingest is resumed.

use crate::common;

use std::io::Read;

use common::data::{add_post_with_file, pf_log, wait_ingest};
use common::*;
use reqwest::StatusCode;

/// Addresses in the uploaded log that must never come back.
const ORIGINAL: &[&str] = &["10.77.5.3", "10.77.5.201", "192.0.2.99", "198.51.100.23"];

fn gunzip(bytes: &[u8]) -> String {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn assert_no_original(what: &str, text: &str) {
    for a in ORIGINAL {
        assert!(
            !text.contains(a),
            "{what} shows the original address {a}:\n{}",
            &text[..text.len().min(3000)]
        );
    }
}

fn dataset_of(html: &str) -> String {
    let at = html.find("/datasets/d").expect("a dataset link") + "/datasets/".len();
    html[at..at + 25].to_string()
}

async fn data_post_path(backend: Backend) {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    let bob = app.member("bob").await;
    let anon = app.client();

    // Add Post with pasted lines: a draft at once.
    let log = pf_log();
    let r = add_post_with_file(
        &ana,
        &[
            ("title", "Why do DNS lookups leave from port 1030?"),
            ("body", "All of them, from two hosts."),
            ("data_format", "pf"),
            ("data_year", "2025"),
            ("data_text", &log),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let draft = r.location();
    assert!(draft.starts_with("/drafts/"), "{draft}");

    // Others do not see the draft.
    assert_eq!(bob.get(&draft).await.status, StatusCode::NOT_FOUND);
    assert_eq!(anon.get(&draft).await.status, StatusCode::UNAUTHORIZED);

    let page = wait_ingest(&ana, &draft).await;
    assert!(page.contains("data-status=\"ready\""), "{page}");
    // The parse report: the broken line with its number and reason.
    assert!(page.contains("<td>4</td>"), "{page}");
    assert!(page.contains("Anonymization is on"), "{page}");
    assert_no_original("the draft page", &page);

    // Pick a link graph, preview it.
    let token = csrf_of(&page);
    let view = [
        ("csrf", token.as_str()),
        ("action", "save"),
        ("title", "Why do DNS lookups leave from port 1030?"),
        ("body", "All of them, from two hosts."),
        ("kind", "graph"),
        ("source", "src_ip"),
        ("event", "src_port"),
        ("target", "dst_ip"),
        ("color", "protocol"),
        ("size", "degree"),
        ("cluster_source", "none"),
        ("cluster_target", "none"),
        ("cluster_event", "none"),
        ("fields", "src_ip, dst_ip"),
        ("seed", "3"),
        ("top_k", "10"),
    ];
    let r = ana.post(&draft, &view).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("preview.svg"), "{}", r.body);
    let (st, h, svg) = ana.get_bytes(&format!("{draft}/preview.svg")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h["content-type"], "image/svg+xml");
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.contains("<svg"), "{svg}");
    assert_no_original("the preview", &svg);
    assert_eq!(
        bob.get(&format!("{draft}/preview.svg")).await.status,
        StatusCode::NOT_FOUND
    );

    // Private until published: the dataset is 404 to others everywhere.
    let ds = {
        let q = ana.get("/drafts").await;
        assert!(q.body.contains(&draft), "{}", q.body);
        // The dataset id is on the post page after publishing; before, ask the query API
        // with the id from the database.
        let row: (String,) = sqlx::query_as("SELECT id FROM datasets")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        row.0
    };
    let q = format!("/api/v1/datasets/{ds}/query?sql=SELECT%20count(*)%20AS%20n%20FROM%20events");
    assert_eq!(bob.get(&q).await.status, StatusCode::NOT_FOUND);
    assert_eq!(anon.get(&q).await.status, StatusCode::NOT_FOUND);
    let mine = ana.get(&q).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert!(mine.body.contains("\"n\":39"), "{}", mine.body);
    assert_eq!(
        bob.get(&format!("/api/v1/views/datasets/{ds}/info"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Publish.
    let mut publish = view.to_vec();
    publish[1] = ("action", "publish");
    let r = ana.post(&draft, &publish).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let post = r.location();
    assert!(post.starts_with("/p/"), "{post}");
    assert_eq!(
        ana.get(&draft).await.status,
        StatusCode::NOT_FOUND,
        "the draft became the post"
    );

    // The post as someone else: the viewer island over server pictures, no original address.
    let page = bob.get(&post).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-secviz-viewer"), "{}", page.body);
    assert!(page.body.contains("/assets/viewer.js"), "{}", page.body);
    assert_eq!(dataset_of(&page.body), ds);
    assert_no_original("the post page", &page.body);
    let anon_page = anon.get(&post).await;
    assert_no_original("the anonymous post page", &anon_page.body);
    assert!(bob.get("/assets/viewer.js").await.status.is_success());

    // The graph picture, recipe, data, CSV, query API: all readable now, all anonymized.
    let spec = page
        .body
        .split("data-spec=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(!spec.is_empty());
    let (st, _, svg) = anon
        .get_bytes(&format!("/api/v1/views/datasets/{ds}/graph.svg"))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_no_original("the graph SVG", &String::from_utf8_lossy(&svg));
    let recipe = anon.get(&format!("{post}/recipe.json")).await;
    assert_eq!(recipe.status, StatusCode::OK);
    let recipe_json: serde_json::Value = serde_json::from_str(&recipe.body).unwrap();
    assert_eq!(recipe_json["view"]["graph"]["seed"], 3);
    assert_eq!(recipe_json["parser"]["format"], "pf");
    assert_eq!(recipe_json["dataset"], ds.as_str());
    assert_no_original("the recipe", &recipe.body);
    // The view alone (for `secviz view`), the same as the recipe's but for the dataset's
    // local name, and the rules alone (for `secviz graph -c`), as downloads.
    let view = anon.get(&format!("{post}/view.json")).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    assert_eq!(view.headers["content-type"], "application/json");
    assert!(
        view.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".view.json"),
        "{:?}",
        view.headers
    );
    let mut view_json: serde_json::Value = serde_json::from_str(&view.body).unwrap();
    assert!(view_json["dataset"].is_string(), "{view_json}");
    let mut want = recipe_json["view"].clone();
    view_json["dataset"] = serde_json::Value::Null;
    want["dataset"] = serde_json::Value::Null;
    assert_eq!(view_json, want);
    let rules = anon.get(&format!("{post}/rules.txt")).await;
    assert_eq!(rules.status, StatusCode::OK, "{}", rules.body);
    assert_eq!(rules.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(
        rules.body,
        recipe_json["view"]["graph"]["rules"].as_str().unwrap()
    );
    assert!(
        rules.body.contains("protocol"),
        "the colour rule: {}",
        rules.body
    );
    assert_no_original("the rules", &rules.body);
    let (st, _, gz) = anon.get_bytes(&format!("{post}/data.jsonl.gz")).await;
    assert_eq!(st, StatusCode::OK);
    let jsonl = gunzip(&gz);
    assert_eq!(jsonl.lines().count(), 39, "{jsonl}");
    assert_no_original("the data export", &jsonl);
    let (st, _, csv) = anon
        .get_bytes(&format!("/api/v1/views/datasets/{ds}/export.csv"))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_no_original("the CSV export", &String::from_utf8_lossy(&csv));
    let ans = anon
        .get(&format!(
            "/api/v1/datasets/{ds}/query?sql=SELECT%20DISTINCT%20src_ip%2C%20raw%20FROM%20events"
        ))
        .await;
    assert_eq!(ans.status, StatusCode::OK, "{}", ans.body);
    assert_no_original("the query API", &ans.body);
    // Prefixes are preserved: the two sources shared a /24 and still do.
    let v: serde_json::Value = serde_json::from_str(&ans.body).unwrap();
    let mut srcs: Vec<String> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["src_ip"].as_str().unwrap().to_string())
        .collect();
    srcs.sort();
    srcs.dedup();
    assert_eq!(srcs.len(), 2, "{srcs:?}");
    let net = |a: &str| a.rsplit_once('.').unwrap().0.to_string();
    assert_eq!(net(&srcs[0]), net(&srcs[1]), "{srcs:?}");
    let search = anon.get("/search?q=10.77.5.3").await;
    assert_no_original(
        "search",
        &search
            .body
            .replace("value=\"10.77.5.3\"", "")
            .replace("10.77.5.3</", "</"),
    );

    // The gallery shows the server-drawn thumbnail (a PNG), in a light and a dark variant
    // that the browser chooses, so a cached page is right for both (issue 16).
    let gallery = anon.get("/gallery").await;
    let image = gallery
        .body
        .split("/img/")
        .nth(1)
        .expect("a thumbnail")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    assert!(
        gallery.body.contains(&format!(
            "<picture><source srcset=\"/img/{image}/thumb-dark\" media=\"(prefers-color-scheme: dark)\"><img src=\"/img/{image}/thumb\""
        )),
        "{}",
        gallery.body
    );
    // The corner of each is its theme's background.
    let mut corners = Vec::new();
    for variant in ["thumb", "thumb-dark"] {
        let (st, h, bytes) = anon.get_bytes(&format!("/img/{image}/{variant}")).await;
        assert_eq!(st, StatusCode::OK, "{variant}");
        assert_eq!(h["content-type"], "image/png", "{variant}");
        let png = image::load_from_memory(&bytes).unwrap().to_rgb8();
        let p = png.get_pixel(1, 1).0;
        corners.push(p.iter().map(|c| u32::from(*c)).sum::<u32>() / 3);
    }
    assert!(corners[0] > 200 && corners[1] < 60, "{corners:?}");

    // The query API is read-only and limited.
    let bad = anon
        .get(&format!(
            "/api/v1/datasets/{ds}/query?sql=DROP%20TABLE%20events"
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    let e: serde_json::Value = serde_json::from_str(&bad.body).unwrap();
    assert_eq!(e["error"]["kind"], "forbidden", "{}", bad.body);
    let r = anon
        .http
        .post(format!("{}/api/v1/datasets/{ds}/query", anon.base))
        .json(&serde_json::json!({"sql": "SELECT count(*) AS n FROM events"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("\"n\":39"));

    // A selection link opens the viewer with it.
    let sel = "%7B%22values%22%3A%7B%22dst_port%22%3A%5B53%5D%7D%7D";
    let page = bob.get(&format!("{post}?sel={sel}")).await;
    assert!(page.body.contains("data-sel=\"{"), "{}", page.body);

    // Remix by bob, with the data: a draft of his own, ready at once.
    let token = csrf_of(&page.body);
    let r = bob
        .post(
            &format!("{post}/remix"),
            &[("csrf", token.as_str()), ("with_data", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let remix = r.location();
    let page = bob.get(&remix).await;
    assert!(page.body.contains("data-status=\"ready\""), "{}", page.body);
    assert!(
        page.body.contains("value=\"3\""),
        "the seed came along: {}",
        page.body
    );
    assert_eq!(ana.get(&remix).await.status, StatusCode::NOT_FOUND);
}

async fn bad_uploads(backend: Backend) {
    let app = spawn_with(backend, |c| c.max_upload_bytes = 64 * 1024).await;
    let ana = app.member("ana").await;

    // Over the limit: 413, a clear message, the text kept.
    let big = vec![b'x'; 64 * 1024 + 1];
    let r = add_post_with_file(
        &ana,
        &[("title", "Kept title"), ("body", "Kept body text")],
        Some(("big.log", big)),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert!(
        r.body.contains("larger than the limit of 64 KiB"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Kept title") && r.body.contains("Kept body text"),
        "{}",
        r.body
    );

    // Turning anonymization off needs the confirmation.
    let r = add_post_with_file(
        &ana,
        &[
            ("title", "t"),
            ("body", "b"),
            ("data_text", "x"),
            ("keep_addresses", "1"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("tick the confirmation"), "{}", r.body);

    // A corrupt gzip: the ingest fails clearly, the draft is kept.
    let mut gz = Vec::new();
    {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::default());
        e.write_all(pf_log().as_bytes()).unwrap();
        e.finish().unwrap();
    }
    let mid = gz.len() / 2;
    for b in &mut gz[mid..mid + 8] {
        *b ^= 0x5a;
    }
    let r = add_post_with_file(
        &ana,
        &[("title", "gz"), ("body", "b")],
        Some(("fw.log.gz", gz)),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let draft = r.location();
    let page = wait_ingest(&ana, &draft).await;
    assert!(
        page.contains("data-status=\"failed\"") || page.contains("damaged"),
        "{page}"
    );
    assert!(page.contains("gzip") || page.contains("damaged"), "{page}");

    // No known format.
    let r = add_post_with_file(
        &ana,
        &[("title", "junk"), ("body", "b")],
        Some(("notes.txt", b"hello world\nthis is not a log\n".to_vec())),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let draft = r.location();
    let page = wait_ingest(&ana, &draft).await;
    assert!(page.contains("data-status=\"failed\""), "{page}");
    assert!(page.contains("Your draft is kept"), "{page}");

    // Nothing else broke: a plain post still works, and the failed draft takes new data.
    let r = ana
        .submit_post(
            "/new",
            &[
                ("title", "plain"),
                ("body", "plain post"),
                ("kind", "discussion"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let token = csrf_of(&ana.get(&draft).await.body);
    let form = reqwest::multipart::Form::new()
        .text("csrf", token)
        .text("data_format", "pf")
        .text("data_year", "2025")
        .text("data_text", pf_log());
    let r = ana
        .http
        .post(format!("{}{draft}/data", ana.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = wait_ingest(&ana, &draft).await;
    assert!(page.contains("data-status=\"ready\""), "{page}");
}

/// Issue 16: the member's own networks ride with the upload. Anonymized, the recipe (which
/// is public) holds them mapped with the site key like the addresses, never as typed; a
/// value that is not a network is refused with the form kept.
async fn inside_networks(backend: Backend) {
    let app = spawn(backend).await;
    let ana = app.member("ana").await;
    let fields = |inside: &'static str, log: &'static str| {
        vec![
            ("title", "Our side of the firewall"),
            ("body", "Which hosts are ours."),
            ("data_format", "pf"),
            ("data_year", "2025"),
            ("data_inside", inside),
            ("data_text", log),
        ]
    };
    let log: &'static str = Box::leak(pf_log().into_boxed_str());
    let r = add_post_with_file(&ana, &fields("corp network", log), None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("Your networks:"), "{}", r.body);
    assert!(r.body.contains("value=\"corp network\""), "{}", r.body);

    let r = add_post_with_file(&ana, &fields("10.77.5.0/24", log), None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = wait_ingest(&ana, &r.location()).await;
    assert!(page.contains("data-status=\"ready\""), "{page}");
    let (parse,): (String,) = sqlx::query_as("SELECT parse FROM datasets")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&parse).unwrap();
    // Exactly the typed network mapped with the site's key (which a prefix-preserving
    // mapping may, rarely, leave alike: compared to the mapping, not to the original).
    let (key, created) =
        secviz_lake::anon::AnonKey::load_or_create(&app.data.path().join("anonymization.key"))
            .unwrap();
    assert!(!created, "the site key is in the data folder");
    let mut anon = secviz_lake::anon::Anonymizer::new(&key);
    let typed: secviz_lake::inside::InsideNetworks = "10.77.5.0/24".parse().unwrap();
    let expected = typed.anonymized(|ip| anon.map_ip(ip));
    assert_eq!(
        v["inside"],
        serde_json::to_value(&expected).unwrap(),
        "{parse}"
    );
    assert!(v["inside"][0].as_str().unwrap().ends_with("/24"), "{parse}");
}

on_both!(data_post_path, bad_uploads, inside_networks);
