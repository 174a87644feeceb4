//! The view computations over a real lake (DataFusion over Parquet in a temporary
//! directory), checked against the numbers the lake's own query entry point gives.

use crate::common;

use common::{default_graph_nodes, graph_ids, lake_count, lake_strings, pf_lake};
use secviz_views::compute::{charts, facets, graph, parallel, rows, timeline};
use secviz_views::selection::Scalar;
use secviz_views::{Field, Limits, Selection, Source, ViewSpec};

fn port_selection(port: i64) -> Selection {
    let mut sel = Selection::default();
    sel.values
        .insert("dst_port".into(), vec![Some(Scalar::Int(port))]);
    sel
}

#[tokio::test]
async fn facets_match_lake_queries_with_and_without_a_selection() {
    let t = pf_lake(3000).await;
    let src = Source::open(&t.lake, &t.name, None, Limits::operator())
        .await
        .unwrap();
    let fields = [
        Field::parse("dst_port").unwrap(),
        Field::parse("src_ip").unwrap(),
    ];
    let all = facets::facets(&src, &fields, 5, &Selection::default())
        .await
        .unwrap();
    let rows = lake_count(&t.lake, "SELECT count(*) FROM pf").await as u64;
    assert_eq!(all.total, rows);
    assert_eq!(all.selected, rows);
    let ports = &all.facets[0];
    assert_eq!(ports.values.len(), 5);
    for v in &ports.values {
        let cond = v
            .value
            .as_deref()
            .map_or("dst_port IS NULL".to_string(), |p| {
                format!("dst_port = {p}")
            });
        let n = lake_count(&t.lake, &format!("SELECT count(*) FROM pf WHERE {cond}")).await as u64;
        assert_eq!(v.total, n, "port {:?}", v.value);
    }
    let shown: u64 = ports.values.iter().map(|v| v.total).sum();
    assert_eq!(ports.other.as_ref().map_or(0, |o| o.total) + shown, rows);

    // Brush the top port: every count becomes the lake's count for that port.
    let top: i64 = ports
        .values
        .iter()
        .find_map(|v| v.value.as_deref())
        .unwrap()
        .parse()
        .unwrap();
    let sel = port_selection(top);
    let brushed = facets::facets(&src, &fields, 5, &sel).await.unwrap();
    assert_eq!(
        brushed.selected,
        lake_count(
            &t.lake,
            &format!("SELECT count(*) FROM pf WHERE dst_port = {top}")
        )
        .await as u64
    );
    let addresses: Vec<_> = brushed.facets[1]
        .values
        .iter()
        .filter(|v| v.value.is_some())
        .collect();
    let sources = lake_count(
        &t.lake,
        &format!("SELECT count(DISTINCT src_ip) FROM pf WHERE dst_port = {top}"),
    )
    .await as usize;
    assert!(sources > 0);
    assert_eq!(addresses.len(), sources.min(5), "the top source addresses");
    for v in addresses {
        let ip = v.value.as_deref().unwrap();
        let n = lake_count(
            &t.lake,
            &format!("SELECT count(*) FROM pf WHERE dst_port = {top} AND src_ip = '{ip}'"),
        )
        .await as u64;
        assert_eq!(v.selected, n, "src_ip {ip}");
    }
}

#[tokio::test]
async fn timeline_and_parallel_account_for_every_record() {
    let t = pf_lake(2000).await;
    let src = Source::open(&t.lake, &t.name, None, Limits::operator())
        .await
        .unwrap();
    let sel = port_selection(53);
    let expect = lake_count(&t.lake, "SELECT count(*) FROM pf WHERE dst_port = 53").await as u64;
    let tl = timeline::timeline(&src, &sel).await.unwrap();
    assert!(!tl.bins.is_empty());
    assert_eq!(
        tl.bins.iter().map(|b| b.total).sum::<u64>(),
        2000.min(
            lake_count(&t.lake, "SELECT count(*) FROM pf WHERE time IS NOT NULL").await as u64
        )
    );
    assert_eq!(tl.bins.iter().map(|b| b.selected).sum::<u64>(), expect);
    assert!(
        tl.bins
            .windows(2)
            .all(|w| w[0].t < w[1].t && (w[1].t - w[0].t) % tl.bucket_us == 0)
    );

    let fields = ["src_ip", "dst_port", "protocol"].map(|f| Field::parse(f).unwrap());
    let pc = parallel::tuples(&src, &fields, &sel, 2000).await.unwrap();
    assert_eq!(pc.axes.len(), 3);
    assert_eq!(
        pc.lines.iter().map(|l| l.total).sum::<u64>() + pc.omitted,
        2000
    );
    assert!(pc.lines.iter().all(|l| l.selected <= l.total));
}

#[tokio::test]
async fn selection_values_are_parameters_not_sql() {
    let t = pf_lake(500).await;
    let src = Source::open(&t.lake, &t.name, None, Limits::operator())
        .await
        .unwrap();
    let mut sel = Selection::default();
    sel.values.insert(
        "src_ip".into(),
        vec![Some(Scalar::Text("' OR 1=1 --".into()))],
    );
    let f = facets::facets(&src, &[Field::parse("protocol").unwrap()], 5, &sel)
        .await
        .unwrap();
    assert_eq!(f.total, 500);
    assert_eq!(f.selected, 0, "the injection matched rows");
}

#[tokio::test]
async fn filters_narrow_the_view_and_bad_filters_are_refused() {
    let t = pf_lake(1000).await;
    let src = Source::open(
        &t.lake,
        &t.name,
        Some("action = 'block'"),
        Limits::operator(),
    )
    .await
    .unwrap();
    let (total, _) = facets::totals(&src, &Selection::default()).await.unwrap();
    assert_eq!(
        total as i64,
        lake_count(&t.lake, "SELECT count(*) FROM pf WHERE action = 'block'").await
    );
    for bad in [
        "1=1) UNION SELECT * FROM pf WHERE (1=1",
        "no_such_column = 1",
        "1=1; DROP TABLE pf",
    ] {
        let r = Source::open(&t.lake, &t.name, Some(bad), Limits::operator()).await;
        assert!(r.is_err(), "{bad} was accepted");
    }
}

#[tokio::test]
async fn every_chart_kind_renders_from_the_lake() {
    let t = pf_lake(1500).await;
    let src = Source::open(&t.lake, &t.name, None, Limits::operator())
        .await
        .unwrap();
    for json in [
        r#"{"kind":"bar","fields":["dst_port"]}"#,
        r#"{"kind":"timeline","series":"action"}"#,
        r#"{"kind":"histogram","fields":["bytes"]}"#,
        r#"{"kind":"parallel","fields":["src_ip","dst_ip","dst_port"]}"#,
        r#"{"kind":"treemap","fields":["dst_ip/24","dst_ip"]}"#,
        r#"{"kind":"heatmap","fields":["dst_port","src_ip/24"]}"#,
        r#"{"kind":"scatter","fields":["time","dst_port"],"series":"protocol"}"#,
    ] {
        let spec = ViewSpec::from_json(json).unwrap();
        let svg = charts::render(
            &src,
            "pf",
            &spec,
            &Selection::default(),
            secviz_render::Theme::LIGHT,
            800.0,
        )
        .await
        .unwrap_or_else(|e| panic!("{json}: {e}"));
        assert!(
            svg.starts_with("<?xml") && svg.contains("dataset pf · 1,500 events"),
            "{json}"
        );
        charts::png(&svg).unwrap_or_else(|e| panic!("{json}: {e}"));
    }
}

#[tokio::test]
async fn graph_is_laid_out_and_selection_highlights_its_nodes() {
    let t = pf_lake(800).await;
    let src = Source::open(&t.lake, &t.name, None, Limits::operator())
        .await
        .unwrap();
    let spec = ViewSpec::linked_default();
    let g = spec.graph.as_ref().unwrap();
    let data = graph::build(&src, g).await.unwrap();
    let doc: serde_json::Value = serde_json::from_str(&data.json).unwrap();
    let n = doc["nodes"]["id"].as_array().unwrap().len();
    // The nodes are exactly the addresses and ports of the rows that have all three.
    assert_eq!(graph_ids(&doc), default_graph_nodes(&t.lake).await);
    assert_eq!(doc["nodes"]["x"].as_array().unwrap().len(), n);
    let sel = port_selection(53);
    let (nodes, truncated) = graph::selected_nodes(&src, g, &data, &sel).await.unwrap();
    assert!(!truncated);
    let ids: Vec<&str> = nodes
        .iter()
        .map(|&i| doc["nodes"]["id"][i as usize].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"53"), "the port node is highlighted");
    // And every source address that sent to port 53 is highlighted.
    for ip in lake_strings(
        &t.lake,
        "SELECT DISTINCT src_ip FROM pf WHERE dst_port = 53 AND dst_ip IS NOT NULL",
    )
    .await
    {
        assert!(
            ids.contains(&ip.as_str()),
            "{ip} sent to port 53 but is not highlighted"
        );
    }
    // Every highlighted source address really sent to port 53.
    for id in ids.iter().filter(|s| s.contains('.')) {
        let c = lake_count(&t.lake, &format!("SELECT count(*) FROM pf WHERE dst_port = 53 AND (src_ip = '{id}' OR dst_ip = '{id}')")).await;
        assert!(c > 0, "{id}");
    }
    // The same recipe gives the same picture.
    let again = graph::build(&src, g).await.unwrap();
    assert_eq!(again.json, data.json);
}

#[tokio::test]
async fn rows_of_a_small_selection() {
    let t = pf_lake(600).await;
    let src = Source::open(&t.lake, &t.name, None, Limits::operator())
        .await
        .unwrap();
    let sel = port_selection(53);
    let r = rows::rows(&src, &[Field::parse("dst_port").unwrap()], &sel, 5)
        .await
        .unwrap();
    let dns = lake_count(&t.lake, "SELECT count(*) FROM pf WHERE dst_port = 53").await;
    assert!(dns > 5, "the generated log has {dns} DNS rows");
    assert_eq!(
        r.rows.len(),
        5,
        "a selection of {dns} rows, at most 5 asked"
    );
    let port = r.columns.iter().position(|c| c == "dst_port").unwrap();
    assert!(r.rows.iter().all(|row| row[port].as_deref() == Some("53")));
}

/// Rules that name roles (`source.cluster`, `target.color`) and schema columns (`protocol`)
/// build: role words never pull the schema's provenance column `source` into the query.
#[tokio::test]
async fn rules_naming_roles_and_columns_build() {
    let t = pf_lake(400).await;
    let src = Source::open(&t.lake, &t.name, None, Limits::operator())
        .await
        .unwrap();
    let spec = ViewSpec::linked_default();
    let mut g = spec.graph.clone().unwrap();
    g.rules = "source.cluster = cidr(value, 16)\ntarget.color = \"red\" when protocol == \"udp\"\nsource.top = 50\n".into();
    let data = graph::build(&src, &g).await.unwrap();
    let doc: serde_json::Value = serde_json::from_str(&data.json).unwrap();
    let ids = graph_ids(&doc);
    // Sources are clustered into their /16s: no source address is a node of its own
    // (unless it is also a target), and the clusters are there.
    let sources = lake_strings(&t.lake, "SELECT DISTINCT src_ip FROM pf").await;
    let targets = lake_strings(&t.lake, "SELECT DISTINCT dst_ip FROM pf").await;
    assert!(
        sources.len() > 50,
        "the generated log has {} sources",
        sources.len()
    );
    for ip in &sources {
        assert!(
            !ids.contains(ip) || targets.contains(ip),
            "{ip} is a node of its own"
        );
    }
    assert!(ids.iter().any(|id| id.ends_with("/16")), "{ids:?}");
    assert!(ids.contains("53"), "the ports are still there: {ids:?}");
}

/// A view's graph with more distinct edges than a view draws whole (150,000) is aggregated
/// automatically: the hub stays, the rest is grouped by network, and the notes say how.
#[tokio::test]
async fn a_graph_over_the_views_edge_limit_is_aggregated() {
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let lake = secviz_lake::Lake::open(dir.path().join("data").to_str().unwrap()).unwrap();
    let name = secviz_lake::DatasetName::parse("big").unwrap();
    // 400 hosts; every fifth flow goes to the resolver, each other to a server of its own.
    let mut text = String::new();
    for i in 0..200_000u32 {
        let src = format!("10.1.{}.{}", (i % 400) / 256, (i % 400) % 256);
        let dst = if i % 5 == 0 {
            "192.0.2.53".to_string()
        } else {
            format!("172.{}.{}.{}", 16 + (i >> 16), (i >> 8) & 255, i & 255)
        };
        writeln!(
            text,
            r#"{{"time":"2024-03-01T10:00:00Z","src_ip":"{src}","dst_ip":"{dst}","dst_port":53}}"#
        )
        .unwrap();
    }
    let path = dir.path().join("big.jsonl");
    std::fs::write(&path, text).unwrap();
    common::ingest(&lake, &name, &path).await;
    let distinct = lake_count(
        &lake,
        "SELECT count(*) FROM (SELECT DISTINCT src_ip, dst_ip FROM big)",
    )
    .await as u64;
    assert!(distinct > 150_000, "{distinct} distinct edges");
    let src = Source::open(&lake, &name, None, Limits::operator())
        .await
        .unwrap();
    let spec: secviz_views::spec::GraphSpec =
        serde_json::from_str(r#"{"source": "src_ip", "target": "dst_ip"}"#).unwrap();
    let data = graph::build(&src, &spec).await.unwrap();
    let doc: serde_json::Value = serde_json::from_str(&data.json).unwrap();
    assert_eq!(doc["counts"]["aggregated_from_edges"], distinct);
    let ids = graph_ids(&doc);
    assert!(ids.len() <= 600, "{} nodes", ids.len());
    assert!(ids.contains("192.0.2.53"), "the resolver stays itself");
    let notes = doc["notes"].to_string();
    assert!(notes.contains("aggregated automatically"), "{notes}");
    assert!(notes.contains("by /24 network"), "{notes}");
}

/// What the viewer shows of a whole dataset before anything is filtered or selected (the
/// totals, the time line, the bars of addresses and ports) is read from the dataset's
/// summaries, and is exactly what SQL over every row gives, on generated and real data;
/// a filter or a selection is answered by SQL.
#[tokio::test]
async fn a_whole_datasets_first_picture_comes_from_its_summaries_as_sql_gives_it() {
    let t = pf_lake(4000).await;
    // A second ingest: two sets of files, merged by the dataset's rollup.
    let more = common::gen_pf(t.dir.path(), 3000, 8);
    common::ingest(&t.lake, &t.name, &more).await;
    // Real: Zeek connections (minutes), a web server's access log and sshd's (days).
    let conn = secviz_lake::DatasetName::parse("conn").unwrap();
    common::ingest(&t.lake, &conn, &secviz_testkit::real("zat/conn.log")).await;
    let web = secviz_lake::DatasetName::parse("web").unwrap();
    common::ingest(
        &t.lake,
        &web,
        &secviz_testkit::real("elastic-examples/apache_logs"),
    )
    .await;
    let ssh = secviz_lake::DatasetName::parse("ssh").unwrap();
    common::ingest(
        &t.lake,
        &ssh,
        &secviz_testkit::real("loghub/OpenSSH_2k.log"),
    )
    .await;
    let rows_only = t.lake.clone().reading_rows();
    let fields = [
        Field::parse("dst_port").unwrap(),
        Field::parse("src_ip").unwrap(),
        Field::parse("dst_ip").unwrap(),
    ];
    let mut timelines_from_summaries = 0;
    for name in [&t.name, &conn, &web, &ssh] {
        let open = |lake: secviz_lake::Lake, filter: Option<&'static str>| async move {
            Source::open(&lake, name, filter, Limits::operator())
                .await
                .unwrap()
        };
        let (s, r) = (
            open(t.lake.clone(), None).await,
            open(rows_only.clone(), None).await,
        );
        for k in [1, 5, 1000] {
            let a = facets::facets(&s, &fields, k, &Selection::default())
                .await
                .unwrap();
            let b = facets::facets(&r, &fields, k, &Selection::default())
                .await
                .unwrap();
            assert!(a.from_summaries && !b.from_summaries, "{name} k={k}");
            assert_eq!(a.facets, b.facets, "{name} k={k}");
            assert_eq!((a.total, a.selected), (b.total, b.selected), "{name}");
        }
        assert_eq!(
            facets::totals(&s, &Selection::default()).await.unwrap(),
            facets::totals(&r, &Selection::default()).await.unwrap()
        );
        assert_eq!(
            timeline::span(&s).await.unwrap(),
            timeline::span(&r).await.unwrap()
        );
        let a = timeline::timeline(&s, &Selection::default()).await.unwrap();
        let b = timeline::timeline(&r, &Selection::default()).await.unwrap();
        assert!(!b.from_summaries);
        assert_eq!(
            a.from_summaries,
            a.bucket_us % 60_000_000 == 0,
            "{name}: buckets of whole minutes come from the summaries"
        );
        timelines_from_summaries += usize::from(a.from_summaries);
        assert_eq!(
            (a.bucket_us, a.min, a.max, &a.bins),
            (b.bucket_us, b.min, b.max, &b.bins),
            "{name}"
        );
        // The check before a chart (events, and events with a value in each field).
        let counted = [
            Field::parse("dst_port").unwrap(),
            Field::parse("src_ip").unwrap(),
            Field::parse("dns_qname").unwrap(),
            Field::parse("time").unwrap(),
        ];
        assert_eq!(
            secviz_views::compute::value_counts(&s, &counted)
                .await
                .unwrap(),
            secviz_views::compute::value_counts(&r, &counted)
                .await
                .unwrap(),
            "{name}"
        );
        // The server-side bar charts (pages without JavaScript, thumbnails) likewise.
        for f in fields {
            assert_eq!(
                charts::bar(&s, f, 5, &Selection::default()).await.unwrap(),
                charts::bar(&r, f, 5, &Selection::default()).await.unwrap(),
                "{name}: {f}"
            );
        }
        // A selection, or a filter: SQL, with the summaries' lake too.
        let sel = port_selection(53);
        let picked = facets::facets(&s, &fields, 5, &sel).await.unwrap();
        assert!(!picked.from_summaries);
        assert_eq!(
            picked.facets,
            facets::facets(&r, &fields, 5, &sel).await.unwrap().facets
        );
        let narrowed = open(t.lake.clone(), Some("dst_port = 53")).await;
        let f = facets::facets(&narrowed, &fields, 5, &Selection::default())
            .await
            .unwrap();
        assert!(!f.from_summaries);
        let n = lake_count(
            &t.lake,
            &format!("SELECT count(*) FROM \"{name}\" WHERE dst_port = 53"),
        )
        .await as u64;
        assert_eq!(f.total, n);
    }
    assert!(
        timelines_from_summaries > 0,
        "no time line of whole minutes"
    );
}
