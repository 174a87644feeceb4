//! `secviz demo` (issue 7): an empty site gets three live data posts with thumbnails; a
//! site with content is refused.

use crate::common;

use common::*;
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_fills_an_empty_site_and_refuses_a_full_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = secviz_portal::Config::new(dir.path());
    let password = secviz_portal::demo::random_password();
    let admin = secviz_portal::demo::DemoAdmin {
        name: "Boss".into(),
        password: password.clone(),
    };
    let report = secviz_portal::demo::run(config, 1, Some(admin))
        .await
        .expect("demo runs");
    assert_eq!(report.admin.as_deref(), Some("boss"));
    assert_eq!(report.posts.len(), 3, "{report:?}");
    assert!(report.posts.iter().all(|p| p.events > 1000), "{report:?}");

    let again = secviz_portal::demo::run(secviz_portal::Config::new(dir.path()), 1, None).await;
    let msg = format!("{:#}", again.unwrap_err());
    assert!(msg.contains("not empty"), "{msg}");

    let path = dir.path().to_path_buf();
    let app = spawn_with(Backend::Sqlite, |c| c.data_dir = path.clone()).await;
    let anon = app.client();
    let gallery = anon.get("/gallery").await;
    assert_eq!(
        gallery.body.matches("/thumb\"").count(),
        3,
        "{}",
        gallery.body
    );
    assert_eq!(gallery.body.matches("/thumb-dark\"").count(), 3);
    for p in &report.posts {
        let page = anon.get(&format!("/p/{}", p.id)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("data-secviz-viewer"), "{}", page.body);
        // The server pictures behind the viewer draw.
        let src = page
            .body
            .split("<img src=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&");
        let src = src.replace("&#38;", "&");
        let (st, _, body) = anon.get_bytes(&src).await;
        assert_eq!(
            st,
            StatusCode::OK,
            "{src}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let puzzle = anon.get(&format!("/p/{}", report.posts[2].id)).await;
    assert!(puzzle.body.contains("dns-fixed-port"), "{}", puzzle.body);
    assert!(puzzle.body.contains("1030"), "{}", puzzle.body);
    // Its findings are a table whose notable rows open the view on the finding's events.
    assert!(
        puzzle.body.contains("<table class=\"findings\">")
            && puzzle.body.contains("<strong>notable</strong>")
            && puzzle.body.contains("?sel=%7B%22values%22"),
        "{}",
        puzzle.body
    );

    // Tags have pages, and the administrator can log in and see the admin page.
    let tag = anon.get("/t/puzzle").await;
    assert_eq!(tag.status, StatusCode::OK);
    assert!(
        tag.body.contains(&format!("/p/{}", report.posts[2].id)),
        "{}",
        tag.body
    );
    let boss = app.client();
    assert_ne!(
        boss.get("/admin").await.status,
        StatusCode::OK,
        "before logging in"
    );
    let r = boss
        .submit(
            "/login",
            "/login",
            &[("username", "boss"), ("password", password.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let admin = boss.get("/admin").await;
    assert_eq!(admin.status, StatusCode::OK, "{}", admin.body);
}

/// Issue 16: the pattern each demo dataset was generated around is its most unusual
/// finding, with the addresses anonymized as the demo stores them (so the inside networks
/// are mapped with the key too): the botnet's IRC command-and-control server, the DNS
/// client that asks far too often, and the hosts behind the NAT box that send every lookup
/// from source port 1030.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_demo_datasets_planted_pattern_is_its_top_finding() {
    use secviz_lake::anon::{AnonKey, Anonymizer};
    use secviz_lake::query::{Access, QueryLimits};
    use secviz_lake::{IngestOptions, IngestSource, Lake};
    use secviz_parse::{Format, ParseOptions};
    use secviz_portal::demo;

    let key = AnonKey::from_bytes([42; 32]);
    let mut anon = Anonymizer::new(&key);
    let mut map = |ip: &str| anon.map_ip(ip.parse().unwrap()).to_string();
    let cases = [
        (
            "botnet",
            demo::botnet_csv(1, 20_000),
            Format::Csv,
            vec![map("198.51.100.7"), map("198.51.100.8")],
            "fan-in",
        ),
        (
            "dns",
            demo::dns_pf(2, 6_000),
            Format::Pf,
            vec![map("10.40.1.19")],
            "top-talkers",
        ),
        (
            "puzzle",
            demo::puzzle_pf(3, 4_000),
            Format::Pf,
            (40..46).map(|i| map(&format!("195.141.69.{i}"))).collect(),
            "dns-fixed-port",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    for (name, text, format, planted, analysis) in cases {
        let size = text.len() as u64;
        let opts = IngestOptions {
            parse: ParseOptions {
                format: Some(format),
                year: Some(2026),
                ..ParseOptions::default()
            },
            anonymize: Some(key.clone()),
            ..IngestOptions::default()
        };
        lake.ingest(
            &name.parse().unwrap(),
            vec![IngestSource::reader(
                "demo",
                std::io::Cursor::new(text.into_bytes()),
                Some(size),
            )],
            opts,
            Box::new(|_| {}),
            Box::new(|_, _| {}),
        )
        .await
        .unwrap();
        let report = lake
            .analyze_all(
                &Access::Only(vec![name.parse().unwrap()]),
                &QueryLimits::unlimited(),
            )
            .await
            .unwrap();
        let top = &report.findings[0];
        let shown: Vec<String> = report
            .findings
            .iter()
            .take(5)
            .map(|f| format!("{:.2} {} {}", f.score, f.analysis, f.headline))
            .collect();
        assert_eq!(top.analysis, analysis, "{name}: {shown:#?}");
        assert!(
            top.focus.values.values().any(|v| planted.contains(v)),
            "{name}: the top finding names none of {planted:?}: {shown:#?}"
        );
    }
}
