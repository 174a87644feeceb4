//! `secviz chart`, `secviz view` and `secviz demo` through the real binary: a chart's bars are
//! the lake's counts, a file and the dataset ingested from it give the same picture, the
//! viewer serves its page and API for a dataset, and the demo fills a site that the other
//! commands can read, the same for the same seed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::{ok, secviz_in as secviz};

fn failed(out: Output) -> String {
    assert!(
        !out.status.success(),
        "succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// A generated pf log ingested as dataset `fw`; returns the log's path.
fn pf_dataset(data: &Path, lines: usize) -> std::path::PathBuf {
    let log = secviz_testkit::generate("pf", lines, 11, &data.join("pf.log"));
    let l = log.to_str().unwrap();
    ok(secviz(data, &["ingest", l, "--dataset", "fw"]));
    log
}

/// One integer the lake answers.
fn count(data: &Path, sql: &str) -> u64 {
    let text = ok(secviz(data, &["query", "--format", "csv", sql]));
    text.lines().nth(1).unwrap().trim().parse().unwrap()
}

/// Text of the SVG's `<text>` elements, in order.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .map(|t| {
            let inner = &t[t.find('>').unwrap() + 1..];
            inner[..inner.find("</text>").unwrap()].to_string()
        })
        .collect()
}

#[test]
fn chart_bars_are_the_lakes_counts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let log = pf_dataset(data, 3_000);
    let svg = ok(secviz(
        data,
        &[
            "chart",
            "--dataset",
            "fw",
            "--type",
            "bar",
            "--field",
            "dst_port",
            "--top",
            "5",
        ],
    ));
    assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"), "{svg}");
    let shown = texts(&svg);
    // The five busiest ports, as the lake counts them, each labelled with its count.
    let top = ok(secviz(
        data,
        &[
            "query",
            "--format",
            "csv",
            "SELECT dst_port, count(*) AS n FROM fw GROUP BY dst_port \
             ORDER BY n DESC, dst_port LIMIT 5",
        ],
    ));
    let mut rows = 0;
    for line in top.lines().skip(1) {
        let (port, n) = line.split_once(',').unwrap();
        // Records without a port (ICMP) are a bar of their own.
        let port = if port.is_empty() { "(none)" } else { port };
        let n: u64 = n.trim().parse().unwrap();
        let formatted = format_count(n);
        assert!(
            shown.iter().any(|t| t == port),
            "port {port} not in {shown:?}"
        );
        assert!(
            shown.iter().any(|t| t.contains(&formatted)),
            "count {formatted} of port {port} not in {shown:?}"
        );
        rows += 1;
    }
    assert_eq!(rows, 5);

    // The file charted directly is the same picture as the dataset ingested from it,
    // apart from the dataset's name in the subtitle.
    let from_file = ok(secviz(
        data,
        &[
            "chart",
            log.to_str().unwrap(),
            "--type",
            "bar",
            "--field",
            "dst_port",
            "--top",
            "5",
        ],
    ));
    assert_eq!(texts(&from_file).len(), shown.len());
    assert_eq!(
        from_file.replace("dataset chart", "dataset fw"),
        svg,
        "the file and its dataset draw differently"
    );

    // PNG: a real image of the asked width.
    let png = data.join("ports.png");
    ok(secviz(
        data,
        &[
            "chart",
            "--dataset",
            "fw",
            "--field",
            "dst_port",
            "--to",
            "png",
            "--width",
            "640",
            "-w",
            png.to_str().unwrap(),
        ],
    ));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    assert!(width >= 640, "{width}");

    // Mistakes are named in the CLI's words, and nothing is written.
    let out = data.join("nothing.svg");
    let e = failed(secviz(
        data,
        &[
            "chart",
            "--dataset",
            "fw",
            "--field",
            "no_such_field",
            "-w",
            out.to_str().unwrap(),
        ],
    ));
    assert!(e.contains("no_such_field"), "{e}");
    assert!(!e.contains("Error {") && !e.contains("Some("), "{e}");
    assert!(!out.exists());
    let e = failed(secviz(
        data,
        &["chart", "--dataset", "nope", "--field", "dst_port"],
    ));
    assert!(e.contains("nope"), "{e}");
    let e = failed(secviz(data, &["chart", "--dataset", "fw", "--type", "pie"]));
    assert!(e.contains("pie"), "{e}");
}

/// `1234` as the charts print it: `1,234`.
fn format_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Kills the viewer when the test ends, pass or fail.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn view_serves_the_viewer_of_a_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    pf_dataset(data, 1_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_secviz"))
        .env("SECVIZ_DATA", data)
        .args(["view", "--dataset", "fw", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _running = Running(child);
    let mut url = String::new();
    BufReader::new(stdout).read_line(&mut url).unwrap();
    let url = url.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let page = http.get(&url).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("data-secviz-viewer"), "{html}");
        let facets: serde_json::Value = http
            .get(format!("{url}api/datasets/fw/facets"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            facets["total"].as_u64().unwrap(),
            count(data, "SELECT count(*) FROM fw")
        );
        let other = http
            .get(format!("{url}api/datasets/other/facets"))
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), 404, "the viewer serves its one dataset");
    });
    // An unknown dataset: a clear refusal, not a server of nothing.
    let e = failed(secviz(
        data,
        &["view", "--dataset", "nope", "--addr", "127.0.0.1:0"],
    ));
    assert!(e.contains("nope"), "{e}");
}

/// Issue 16: `secviz analyze --links` prints under each finding the `secviz view` command
/// that opens the viewer on its events; that command's URL carries the selection and the
/// page starts with it. A selection that does not parse is refused before serving.
#[test]
fn a_finding_opens_the_viewer_with_its_events_selected() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    pf_dataset(data, 1_000);
    let out = ok(secviz(
        data,
        &["analyze", "top-talkers", "--dataset", "fw", "--links"],
    ));
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("secviz view -d fw --sel '"))
        .unwrap_or_else(|| panic!("no view command in {out}"));
    let sel = line
        .split_once("--sel '")
        .unwrap()
        .1
        .strip_suffix('\'')
        .unwrap()
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&sel).unwrap();
    assert!(v["values"]["src_ip"][0].is_string(), "{sel}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_secviz"))
        .env("SECVIZ_DATA", data)
        .args([
            "view",
            "--dataset",
            "fw",
            "--addr",
            "127.0.0.1:0",
            "--sel",
            &sel,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _running = Running(child);
    let mut url = String::new();
    BufReader::new(stdout).read_line(&mut url).unwrap();
    let url = url.trim().to_string();
    assert!(url.contains("/?sel=%7B%22values%22"), "{url:?}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let html = rt.block_on(async { reqwest::get(&url).await.unwrap().text().await.unwrap() });
    let ip = v["values"]["src_ip"][0].as_str().unwrap();
    let data_sel = html
        .split("data-sel=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(
        data_sel.contains(ip) && data_sel.contains("values"),
        "{data_sel}"
    );

    let e = failed(secviz(
        data,
        &[
            "view",
            "--dataset",
            "fw",
            "--addr",
            "127.0.0.1:0",
            "--sel",
            "{not json",
        ],
    ));
    assert!(e.to_lowercase().contains("selection"), "{e}");
}

/// The demo's `post ID EVENTS events TITLE` lines.
fn demo_posts(stdout: &str) -> Vec<(u64, u64, String)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("post "))
        .map(|l| {
            let mut w = l.split_whitespace();
            let id = w.next().unwrap().parse().unwrap();
            let events = w.next().unwrap().parse().unwrap();
            assert_eq!(w.next(), Some("events"));
            (id, events, w.collect::<Vec<_>>().join(" "))
        })
        .collect()
}

#[test]
fn demo_fills_an_empty_site_the_same_for_the_same_seed() {
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    let a = ok(secviz(
        one.path(),
        &["demo", "--data", one.path().to_str().unwrap()],
    ));
    let b = ok(secviz(
        two.path(),
        &[
            "demo",
            "--data",
            two.path().to_str().unwrap(),
            "--admin",
            "Boss",
        ],
    ));
    // The administrator's generated password is printed once, on its own line.
    let shown = b
        .lines()
        .find_map(|l| l.strip_prefix("administrator `boss`, password "))
        .unwrap_or_else(|| panic!("no administrator line: {b}"));
    assert!(shown.split(' ').next().unwrap().len() >= 32, "{shown}");
    assert!(!a.contains("administrator"), "{a}");
    let posts = demo_posts(&a);
    assert!(posts.len() >= 3, "{a}");
    let titles: Vec<&str> = posts.iter().map(|p| p.2.as_str()).collect();
    assert!(
        titles.iter().any(|t| t.to_lowercase().contains("botnet")),
        "{titles:?}"
    );
    assert!(titles.iter().any(|t| t.contains("DNS")), "{titles:?}");
    assert_eq!(demo_posts(&b), posts, "same seed, same posts");
    // Each post's events are in the lake, where `secviz query` reads them.
    let datasets = ok(secviz(one.path(), &["datasets", "--json"]));
    let list: serde_json::Value = serde_json::from_str(&datasets).unwrap();
    let mut total = 0;
    for d in list.as_array().unwrap() {
        let name = d["name"].as_str().unwrap();
        let n = count(one.path(), &format!("SELECT count(*) FROM \"{name}\""));
        assert_eq!(n, d["rows"].as_u64().unwrap(), "{name}");
        total += n;
    }
    assert_eq!(total, posts.iter().map(|p| p.1).sum::<u64>(), "{datasets}");
    // A site with posts is refused, and left as it was.
    let e = failed(secviz(
        one.path(),
        &["demo", "--data", one.path().to_str().unwrap()],
    ));
    assert!(e.to_lowercase().contains("demo"), "{e}");
    assert_eq!(ok(secviz(one.path(), &["datasets", "--json"])), datasets);
}

/// Issue 16: every demo post's picture, as the post page shows it, is the SVG its
/// reproduce commands write byte for byte: download the events and the view, ingest them
/// into a lake of one's own, `secviz chart --spec`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_demo_posts_picture_is_reproduced_byte_for_byte() {
    let site = tempfile::tempdir().unwrap();
    let dir = site.path().to_str().unwrap();
    let posts = demo_posts(&ok(secviz(site.path(), &["demo", "--data", dir])));
    assert_eq!(posts.len(), 3);
    let (mut server, addr) = crate::common::serve(site.path(), &["--data", dir]);
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let url = format!("http://{addr}{path}");
        async move {
            let r = http.get(&url).send().await.unwrap();
            assert!(r.status().is_success(), "{url}: {}", r.status());
            r.bytes().await.unwrap().to_vec()
        }
    };
    let mine = tempfile::tempdir().unwrap();
    for (id, _, title) in posts {
        let page = String::from_utf8(get(format!("/p/{id}")).await).unwrap();
        // The reproduce commands the page gives.
        let chart =
            format!("secviz chart --dataset post{id} --spec post-{id}.view.json -w post-{id}.svg");
        assert!(page.contains(&chart), "{title}: {page}");
        let src = page
            .split("<img src=\"")
            .find(|s| s.contains("/graph.svg") || s.contains("/chart.svg"))
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("{title}: no picture in {page}"))
            .replace("&amp;", "&")
            .replace("&#38;", "&");
        let shown = get(src).await;
        let data = mine.path().join(format!("post-{id}.jsonl.gz"));
        std::fs::write(&data, get(format!("/p/{id}/data.jsonl.gz")).await).unwrap();
        let view = mine.path().join(format!("post-{id}.view.json"));
        std::fs::write(&view, get(format!("/p/{id}/view.json")).await).unwrap();
        let out = mine.path().join(format!("post-{id}.svg"));
        let name = format!("post{id}");
        ok(secviz(
            mine.path(),
            &[
                "ingest",
                data.to_str().unwrap(),
                "--format",
                "jsonl",
                "--dataset",
                &name,
            ],
        ));
        ok(secviz(
            mine.path(),
            &[
                "chart",
                "--dataset",
                &name,
                "--spec",
                view.to_str().unwrap(),
                "-w",
                out.to_str().unwrap(),
            ],
        ));
        let drawn = std::fs::read(&out).unwrap();
        assert!(
            drawn == shown,
            "{title}: the reproduced picture differs from the post's ({} and {} bytes)\n{}\n---\n{}",
            drawn.len(),
            shown.len(),
            String::from_utf8_lossy(&drawn),
            String::from_utf8_lossy(&shown)
        );
    }
    let _ = server.kill();
}

/// `secviz presets`: the portal's preset views for a dataset, best first, written as specs
/// that `secviz chart --spec` draws; a dataset no preset fits exits 1 and says what it holds.
#[test]
fn presets_name_the_questions_a_dataset_answers() {
    let data = tempfile::tempdir().unwrap();
    pf_dataset(data.path(), 3000);
    let dir = data.path().join("views");
    let out = ok(secviz(
        data.path(),
        &[
            "presets",
            "--dataset",
            "fw",
            "--write",
            dir.to_str().unwrap(),
        ],
    ));
    let keys: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        keys.contains(&"scans") && keys.contains(&"talkers"),
        "{out}"
    );
    assert!(out.contains("Who scans whom?"), "{out}");
    let svg = data.path().join("scans.svg");
    ok(secviz(
        data.path(),
        &[
            "chart",
            "--dataset",
            "fw",
            "--spec",
            dir.join("scans.json").to_str().unwrap(),
            "-w",
            svg.to_str().unwrap(),
        ],
    ));
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.contains("<circle") && svg.contains(">Legend<"), "{svg}");

    // Only times and byte counts: no preset fits.
    let csv = data.path().join("bytes.csv");
    std::fs::write(
        &csv,
        "time,bytes\n2025-01-01T00:00:00Z,10\n2025-01-01T00:00:01Z,20\n",
    )
    .unwrap();
    ok(secviz(
        data.path(),
        &[
            "ingest",
            csv.to_str().unwrap(),
            "--format",
            "csv",
            "--dataset",
            "nums",
        ],
    ));
    let e = failed(secviz(data.path(), &["presets", "--dataset", "nums"]));
    assert!(
        e.contains("no preset fits dataset nums: it holds time, event_class, bytes"),
        "{e}"
    );
}
