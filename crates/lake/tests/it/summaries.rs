//! Issue 19.3: the analyses answer from the summaries kept beside the data files, and the
//! answer is the one the raw rows give (generated and real data), with the one estimate
//! (distinct sources per port, above 32) within its stated bound. Files without a usable
//! summary, and tables given up for size, send the analyses back to the rows.

use std::fmt::Write;

use secviz_lake::analyze::{AnalysisResult, Detail, Finding, Params, Read};
use secviz_lake::compact::CompactOptions;
use secviz_lake::query::{Access, QueryLimits};
use secviz_lake::rollup::RollUp;
use secviz_lake::summary::distinct::STANDARD_ERROR;
use secviz_lake::{IngestOptions, IngestSource, Lake, WriteOptions};
use secviz_parse::{Format, ParseOptions};

use super::*;

mod logs;
mod names;

/// The analyses that read summaries.
const SUMMARIZED: &[(&str, &[&str])] = &[
    ("top-talkers", &[]),
    ("fan-out", &["limit=1000", "min=2"]),
    ("dns-fixed-port", &["limit=1000", "min=1"]),
    ("beacons", &["limit=1000", "min=3", "max-cv=2"]),
    ("fan-in", &["limit=1000", "min=1"]),
    ("top-ports", &["limit=1000"]),
    ("events-over-time", &[]),
    ("events-over-time", &["buckets=7"]),
    ("rare-destinations", &["limit=1000", "max=3"]),
    ("password-guessing", &["limit=1000", "min=1"]),
    ("web-probing", &["limit=1000", "min=1"]),
    ("long-connections", &["limit=1000", "min=0"]),
    ("exfiltration", &["limit=1000", "min-bytes=0", "ratio=0"]),
    ("dns-tunnel", &["limit=1000", "min=1", "min-length=0"]),
    ("dns", &["limit=1000"]),
];

async fn run(lake: &Lake, dataset: &str, name: &str, params: &[&str]) -> AnalysisResult {
    lake.analyze(
        &Access::Only(vec![dataset.parse().unwrap()]),
        name,
        &Params::parse(params.iter().copied()).unwrap(),
        &QueryLimits::unlimited(),
    )
    .await
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Equal findings, except a distinct count the summaries estimate: within three standard
/// errors of the exact count, and said to be an estimate.
fn assert_same(from_summaries: &[Finding], from_rows: &[Finding], what: &str) {
    assert_eq!(from_summaries.len(), from_rows.len(), "{what}");
    for (s, r) in from_summaries.iter().zip(from_rows) {
        match (&s.detail, &r.detail) {
            (
                Detail::Port {
                    port: p1,
                    protocol: q1,
                    events: e1,
                    sources: estimate,
                    sources_estimated: true,
                },
                Detail::Port {
                    port: p2,
                    protocol: q2,
                    events: e2,
                    sources: exact,
                    sources_estimated: false,
                },
            ) => {
                assert_eq!((p1, q1, e1), (p2, q2, e2), "{what}");
                let err = (*estimate as f64 - *exact as f64).abs() / *exact as f64;
                assert!(
                    err <= 3.0 * STANDARD_ERROR,
                    "{what}: port {p1}: {estimate} estimated, {exact} exact"
                );
                assert!(s.headline.contains(" about "), "{}", s.headline);
            }
            (
                Detail::FanOut {
                    src: s1,
                    destinations: d1,
                    ports: p1,
                    events: e1,
                    estimated: true,
                },
                Detail::FanOut {
                    src: s2,
                    destinations: d2,
                    ports: p2,
                    events: e2,
                    estimated: false,
                },
            ) => {
                assert_eq!((s1, e1), (s2, e2), "{what}");
                for (estimate, exact) in [(d1, d2), (p1, p2)] {
                    let err = (*estimate as f64 - *exact as f64).abs() / *exact as f64;
                    assert!(
                        err <= 3.0 * STANDARD_ERROR,
                        "{what}: {s1}: {estimate} for {exact}"
                    );
                }
                assert!(s.headline.contains("about "), "{}", s.headline);
            }
            // The summaries' gaps are exact integer sums; the rows' are DataFusion's
            // floating-point standard deviation: equal to rounding.
            (
                Detail::Beacon {
                    src: s1,
                    dst: d1,
                    events: e1,
                    mean_interval_s: m1,
                    stddev_s: sd1,
                    cv: c1,
                },
                Detail::Beacon {
                    src: s2,
                    dst: d2,
                    events: e2,
                    mean_interval_s: m2,
                    stddev_s: sd2,
                    cv: c2,
                },
            ) => {
                assert_eq!((s1, d1, e1), (s2, d2, e2), "{what}");
                let near = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-3);
                assert!(
                    near(*m1, *m2) && near(*sd1, *sd2) && near(*c1, *c2),
                    "{what}: {s:?} {r:?}"
                );
                assert!(
                    near(s.score, r.score) && near(s.z.unwrap(), r.z.unwrap()),
                    "{what}"
                );
            }
            (
                Detail::FanIn {
                    dst: d1,
                    port: p1,
                    sources: estimate,
                    events: e1,
                    sources_estimated: true,
                },
                Detail::FanIn {
                    dst: d2,
                    port: p2,
                    sources: exact,
                    events: e2,
                    sources_estimated: false,
                },
            ) => {
                assert_eq!((d1, p1, e1), (d2, p2, e2), "{what}");
                let err = (*estimate as f64 - *exact as f64).abs() / *exact as f64;
                assert!(
                    err <= 3.0 * STANDARD_ERROR,
                    "{what}: {estimate} for {exact}"
                );
            }
            (
                Detail::PasswordGuessing {
                    accounts: estimate,
                    accounts_estimated: true,
                    ..
                },
                Detail::PasswordGuessing {
                    accounts: exact,
                    accounts_estimated: false,
                    ..
                },
            ) => {
                within_bound(*estimate, *exact, what);
                assert_eq!(s.z, r.z, "{what}: z rests on the failures, which are exact");
                assert!(s.headline.contains("about "), "{}", s.headline);
            }
            (
                Detail::WebProbing {
                    src: s1,
                    missing_paths: estimate,
                    requests: q1,
                    example_path: e1,
                    missing_estimated: true,
                },
                Detail::WebProbing {
                    src: s2,
                    missing_paths: exact,
                    requests: q2,
                    example_path: e2,
                    missing_estimated: false,
                },
            ) => {
                assert_eq!((s1, q1, e1), (s2, q2, e2), "{what}");
                within_bound(*estimate, *exact, what);
                assert!(s.headline.contains("about "), "{}", s.headline);
            }
            // The rows' mean is DataFusion's floating-point average, the summaries' an
            // integer sum divided once: equal to rounding. Estimated counts within the
            // bound.
            (
                Detail::DnsTunnel {
                    domain: d1,
                    names: n1,
                    queries: q1,
                    clients: c1,
                    mean_length: m1,
                    entropy_bits: e1,
                    estimated: est,
                },
                Detail::DnsTunnel {
                    domain: d2,
                    names: n2,
                    queries: q2,
                    clients: c2,
                    mean_length: m2,
                    entropy_bits: e2,
                    estimated: false,
                },
            ) => {
                assert_eq!((d1, q1, e1), (d2, q2, e2), "{what}");
                assert!((m1 - m2).abs() <= 1e-9 * m2.abs().max(1.0), "{what}");
                if *est {
                    within_bound(*n1, *n2, what);
                    within_bound(*c1, *c2, what);
                    assert!(s.headline.contains("about "), "{}", s.headline);
                } else {
                    assert_eq!((n1, c1, &s.headline), (n2, c2, &r.headline), "{what}");
                    assert_eq!(s.z, r.z, "{what}");
                }
            }
            _ => assert_eq!(s, r, "{what}"),
        }
    }
}

/// An estimated distinct count within three standard errors of the exact one.
fn within_bound(estimate: u64, exact: u64, what: &str) {
    let err = (estimate as f64 - exact as f64).abs() / exact.max(1) as f64;
    assert!(
        err <= 3.0 * STANDARD_ERROR,
        "{what}: {estimate} estimated, {exact} exact"
    );
}

/// Runs every summarized analysis from the summaries and from the rows, and checks that
/// the summaries were read (or, with `expect`, where each one read) and that they agree.
async fn compare(lake: &Lake, dataset: &str, expect: Option<Read>) -> usize {
    let rows_only = lake.clone().reading_rows();
    let mut compared = 0;
    for (name, params) in SUMMARIZED {
        let s = run(lake, dataset, name, params).await;
        let r = run(&rows_only, dataset, name, params).await;
        assert_eq!(r.read, Read::Rows, "{name}");
        if let Some(e) = expect {
            assert_eq!(s.read, e, "{dataset}: {name}");
        }
        assert_eq!(s.not_run, r.not_run, "{dataset}: {name}");
        assert_same(
            &s.findings,
            &r.findings,
            &format!("{dataset}: {name} {params:?}"),
        );
        compared += s.findings.len();
    }
    // Every analysis together: the same findings in the same order, the same ones not run
    // (the facts that decide it come from the summaries).
    let all = |l: Lake| async move {
        l.analyze_all(
            &Access::Only(vec![dataset.parse().unwrap()]),
            &QueryLimits::unlimited(),
        )
        .await
        .unwrap()
    };
    let (s, r) = (all(lake.clone()).await, all(rows_only).await);
    assert_eq!(s.not_run, r.not_run, "{dataset}");
    assert_same(&s.findings, &r.findings, &format!("{dataset}: all"));
    compared
}

async fn ingest_file(lake: &Lake, dataset: &str, path: std::path::PathBuf, opts: IngestOptions) {
    lake.ingest(
        &dataset.parse().unwrap(),
        vec![IngestSource::path(path)],
        opts,
        Box::new(|_| {}),
        Box::new(|_, _| {}),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn summaries_answer_as_the_rows_do_on_generated_and_real_data() {
    let (_d, lake) = temp_lake();
    // Generated: a pf log over two days, ingested in two parts (several files to merge).
    ingest_text(&lake, "pf", "a.log", pf_log(3000, 1), pf_options())
        .await
        .unwrap();
    ingest_text(&lake, "pf", "b.log", pf_log(2000, 2), pf_options())
        .await
        .unwrap();
    let m = lake.require(&"pf".parse().unwrap()).await.unwrap();
    assert!(m.files.len() >= 4, "{}", m.files.len());
    for f in &m.files {
        let path = f.summary_path().expect("every new file has a summary");
        let bytes = lake_file(&lake, &format!("datasets/pf/{path}")).await;
        assert_eq!(
            bytes.map(|b| b.len() as u64),
            f.summary.as_ref().map(|s| s.bytes)
        );
    }
    // Two ingests over the same days: a pair's events in two files overlap in time, so the
    // beacons read the rows there (see below for the summaries' own gaps).
    assert!(compare(&lake, "pf", None).await > 10);
    // One ingest, two days, in time order: every analysis from the summaries, beacons too.
    ingest_text(&lake, "pf1", "a.log", pf_log(3000, 7), pf_options())
        .await
        .unwrap();
    assert!(compare(&lake, "pf1", Some(Read::Summaries)).await > 10);
    let beacons = run(
        &lake,
        "pf1",
        "beacons",
        &["min=3", "max-cv=2", "limit=1000"],
    )
    .await;
    assert!(beacons.findings.len() > 10, "{}", beacons.findings.len());

    // Real: Zeek conn and dns logs, a web server's access log, sshd's syslog.
    for (dataset, file) in [
        ("conn", "zat/conn.log"),
        ("dns", "zat/dns.log"),
        ("web", "elastic-examples/apache_logs"),
        ("ssh", "loghub/OpenSSH_2k.log"),
    ] {
        let opts = IngestOptions {
            parse: ParseOptions {
                year: Some(2015),
                ..ParseOptions::default()
            },
            ..IngestOptions::default()
        };
        ingest_file(&lake, dataset, secviz_testkit::real(file), opts).await;
        compare(&lake, dataset, None).await;
    }
}

/// Zeek-style JSON lines: `sources` clients each calling port 443 of one server, and a
/// few other ports, at a steady pace from `t0`; and a scanner that tries 600 ports of 250
/// hosts in one /24, spread over the same time (so over every file).
fn many_sources(first: u32, sources: u32, t0: f64) -> String {
    let mut out = String::new();
    for k in 0..600u32 {
        writeln!(
            out,
            "{{\"ts\":{:.3},\"id.orig_h\":\"10.66.6.6\",\"id.orig_p\":40000,\"id.resp_h\":\"198.51.100.{}\",\"id.resp_p\":{},\"proto\":\"tcp\"}}",
            t0 + f64::from(first + k * sources / 600) * 0.5,
            k % 250,
            1000 + (k * 7 + first) % 600,
        )
        .unwrap();
    }
    for i in first..first + sources {
        let src = format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255);
        for (k, port) in [(0, 443), (1, 443), (2, 22 + i % 3)] {
            writeln!(
                out,
                "{{\"ts\":{:.3},\"id.orig_h\":\"{src}\",\"id.orig_p\":{},\"id.resp_h\":\"192.0.2.{}\",\"id.resp_p\":{port},\"proto\":\"tcp\",\"orig_bytes\":{},\"resp_bytes\":10}}",
                t0 + f64::from(i) * 0.5 + f64::from(k),
                20000 + k,
                1 + i % 7,
                100 + i % 13
            )
            .unwrap();
        }
    }
    out
}

fn json_options() -> IngestOptions {
    IngestOptions {
        parse: ParseOptions {
            format: Some(Format::Jsonl),
            ..ParseOptions::default()
        },
        ..IngestOptions::default()
    }
}

#[tokio::test]
async fn distinct_sources_merged_across_files_are_estimated_within_the_bound() {
    let (_d, lake) = temp_lake();
    // Three ingests that overlap: 6,000 distinct sources in all, each file with thousands.
    let t0 = 1_318_291_200.0;
    for (first, n) in [(0, 3000), (2000, 3000), (4500, 1500)] {
        ingest_text(&lake, "many", "c.json", many_sources(first, n, t0), {
            let mut o = json_options();
            o.force = true;
            o
        })
        .await
        .unwrap();
    }
    let ports = run(&lake, "many", "top-ports", &[]).await;
    assert_eq!(ports.read, Read::Summaries);
    let Some(sources) = ports.findings.iter().find_map(|f| match f.detail {
        Detail::Port {
            port: 443,
            sources,
            sources_estimated: true,
            ..
        } => Some(sources),
        _ => None,
    }) else {
        panic!("{:?}", ports.findings)
    };
    let err = (sources as f64 - 6000.0).abs() / 6000.0;
    assert!(err <= 3.0 * STANDARD_ERROR, "{sources}");
    // The scanner's ports and hosts, merged from three files, within the bound.
    let fan = run(&lake, "many", "fan-out", &[]).await;
    assert_eq!(fan.read, Read::Summaries);
    let Detail::FanOut {
        ref src,
        destinations,
        ports,
        estimated: true,
        ..
    } = fan.findings[0].detail
    else {
        panic!("{:?}", fan.findings)
    };
    assert_eq!(src, "10.66.6.6");
    assert!(
        destinations.abs_diff(250) as f64 <= 250.0 * 3.0 * STANDARD_ERROR,
        "{destinations}"
    );
    assert!(
        ports.abs_diff(600) as f64 <= 600.0 * 3.0 * STANDARD_ERROR,
        "{ports}"
    );
    // The three ingests overlap in time: beacons read the rows, the rest the summaries.
    compare(&lake, "many", None).await;
    assert_eq!(run(&lake, "many", "beacons", &[]).await.read, Read::Rows);
    // The scanner's rare ports are inside-to-outside calls: fan-in from the summaries,
    // counted with the dataset's networks.
    let fan_in = run(&lake, "many", "fan-in", &["min=1"]).await;
    assert_eq!(fan_in.read, Read::Summaries);
    assert!(!fan_in.findings.is_empty());
}

#[tokio::test]
async fn files_without_a_usable_summary_are_read_from_their_rows() {
    // A dataset whose first ingest kept no summaries (as before secviz wrote them).
    let (_d, lake) = temp_lake();
    let mut old = pf_options();
    old.write = WriteOptions {
        summaries: false,
        ..WriteOptions::default()
    };
    ingest_text(&lake, "mixed", "a.log", pf_log(500, 3), old)
        .await
        .unwrap();
    ingest_text(&lake, "mixed", "b.log", pf_log(500, 4), pf_options())
        .await
        .unwrap();
    compare(&lake, "mixed", Some(Read::Rows)).await;

    // A damaged summary: the rows answer, and nothing fails.
    ingest_text(&lake, "damaged", "a.log", pf_log(500, 5), pf_options())
        .await
        .unwrap();
    let m = lake.require(&"damaged".parse().unwrap()).await.unwrap();
    let path = format!("datasets/damaged/{}", m.files[0].summary_path().unwrap());
    let mut bytes = lake_file(&lake, &path).await.unwrap().to_vec();
    let n = bytes.len();
    bytes.truncate(n / 2);
    lake.store()
        .put_atomic(&path, bytes::Bytes::from(bytes))
        .await
        .unwrap();
    // (Its rollup, merged before, is damaged too: see the rollups' own test.)
    let rollup = format!("datasets/damaged/{}", m.rollup.as_ref().unwrap().path);
    lake.store()
        .put_atomic(&rollup, bytes::Bytes::from_static(b"SECVIZ"))
        .await
        .unwrap();
    compare(&lake, "damaged", Some(Read::Rows)).await;
    // A new commit is never answered from the merge of the files before it (the merged
    // summaries are kept by the list of files they cover).
    ingest_text(&lake, "grows", "a.log", pf_log(300, 8), pf_options())
        .await
        .unwrap();
    let before = run(&lake, "grows", "top-talkers", &["limit=1"]).await;
    ingest_text(&lake, "grows", "b.log", pf_log(300, 9), pf_options())
        .await
        .unwrap();
    let after = run(&lake, "grows", "top-talkers", &["limit=1"]).await;
    assert_eq!(after.read, Read::Summaries);
    assert_ne!(before.findings, after.findings);
    compare(&lake, "grows", None).await;

    // Tables given up for size (a budget of a few entries): those analyses read the rows,
    // the others still the summaries, all with the rows' answers.
    let mut small = json_options();
    small.write.summary_budget_bytes = 4096;
    ingest_text(
        &lake,
        "big",
        "c.json",
        many_sources(0, 400, 1_318_291_200.0),
        small,
    )
    .await
    .unwrap();
    let talkers = run(&lake, "big", "top-talkers", &[]).await;
    assert_eq!(talkers.read, Read::Rows);
    let time = run(&lake, "big", "events-over-time", &["buckets=3"]).await;
    assert_eq!(time.read, Read::Summaries);
    compare(&lake, "big", None).await;
}

/// The summary objects of `dataset`'s files, read and then deleted (so only a rollup
/// can answer for them).
async fn take_file_summaries(lake: &Lake, dataset: &str) -> Vec<(String, bytes::Bytes)> {
    let m = lake.require(&dataset.parse().unwrap()).await.unwrap();
    let mut taken = Vec::new();
    for f in &m.files {
        let path = format!("datasets/{dataset}/{}", f.summary_path().unwrap());
        taken.push((path.clone(), lake_file(lake, &path).await.unwrap()));
        lake.store().delete(&path).await.unwrap();
    }
    taken
}

/// Compares every analysis's answers from the summaries with the rows' (see [`compare`]),
/// and checks that those that need no order of events read summaries: the beacons read
/// the rows of pairs whose events lie in files that overlap in time (several ingests over
/// the same days).
async fn compare_summarized(lake: &Lake, dataset: &str) -> usize {
    let compared = compare(lake, dataset, None).await;
    for (name, params) in SUMMARIZED.iter().filter(|(n, _)| *n != "beacons") {
        let r = run(lake, dataset, name, params).await;
        assert_eq!(r.read, Read::Summaries, "{dataset}: {name}");
    }
    compared
}

#[tokio::test]
async fn a_rollup_answers_for_the_files_it_covers_and_only_for_them() {
    let (_d, lake) = temp_lake();
    // Two ingests, two days each: the second rollup is merged from the first and the new
    // files, and replaces it.
    let first = ingest_text(&lake, "rolled", "a.log", pf_log(2000, 11), pf_options())
        .await
        .unwrap();
    let m1 = lake.require(&"rolled".parse().unwrap()).await.unwrap();
    let r1 = m1
        .rollup
        .clone()
        .expect("an ingest of several files rolls up");
    assert!(m1.files.len() >= 2);
    assert_eq!(
        first.rollup,
        RollUp::Written {
            files: m1.files.len(),
            bytes: r1.bytes
        }
    );
    let files = |m: &secviz_lake::Manifest| -> Vec<String> {
        m.files.iter().map(|f| f.path.clone()).collect()
    };
    assert_eq!(r1.files, files(&m1));
    let r1_path = format!("datasets/rolled/{}", r1.path);
    let r1_bytes = lake_file(&lake, &r1_path).await.unwrap();
    assert_eq!(r1_bytes.len() as u64, r1.bytes);
    ingest_text(&lake, "rolled", "b.log", pf_log(1500, 12), pf_options())
        .await
        .unwrap();
    let m2 = lake.require(&"rolled".parse().unwrap()).await.unwrap();
    assert_eq!(m2.version, m1.version + 1, "a rollup is not a new version");
    let r2 = m2.rollup.clone().unwrap();
    assert_eq!(r2.files, files(&m2));
    assert!(
        lake_file(&lake, &r1_path).await.is_none(),
        "the one replaced is deleted"
    );
    // Without the files' summaries the rollup alone answers, as the rows do.
    take_file_summaries(&lake, "rolled").await;
    assert!(compare_summarized(&lake, "rolled").await > 10);
    // A rollup that covers some files: it and the others' summaries. (The first rollup
    // put back as the dataset's, then the summaries of its files taken away.)
    ingest_text(&lake, "part", "a.log", pf_log(2000, 11), pf_options())
        .await
        .unwrap();
    let before = lake.require(&"part".parse().unwrap()).await.unwrap();
    let old = before.rollup.clone().unwrap();
    let old_bytes = lake_file(&lake, &format!("datasets/part/{}", old.path))
        .await
        .unwrap();
    ingest_text(&lake, "part", "b.log", pf_log(1500, 12), pf_options())
        .await
        .unwrap();
    let mut m = lake.require(&"part".parse().unwrap()).await.unwrap();
    lake.store()
        .put_atomic(&format!("datasets/part/{}", old.path), old_bytes)
        .await
        .unwrap();
    m.rollup = Some(old.clone());
    lake.store()
        .put_atomic("datasets/part/manifest.json", m.to_json().into())
        .await
        .unwrap();
    assert!(m.files.len() > old.files.len());
    for f in &old.files {
        let path = format!("datasets/part/{}", f.replace(".parquet", ".summary"));
        lake.store().delete(&path).await.unwrap();
    }
    assert!(compare_summarized(&lake, "part").await > 10);

    // A damaged rollup: the files' summaries answer; with one of those damaged too, the
    // rows.
    ingest_text(&lake, "damaged", "a.log", pf_log(1000, 13), pf_options())
        .await
        .unwrap();
    let m = lake.require(&"damaged".parse().unwrap()).await.unwrap();
    let rollup = format!("datasets/damaged/{}", m.rollup.as_ref().unwrap().path);
    let bytes = lake_file(&lake, &rollup).await.unwrap();
    lake.store()
        .put_atomic(&rollup, bytes.slice(..bytes.len() / 2))
        .await
        .unwrap();
    compare(&lake, "damaged", Some(Read::Summaries)).await;
    // A rollup gone (replaced since the manifest was read): the same.
    ingest_text(&lake, "gone", "a.log", pf_log(1000, 14), pf_options())
        .await
        .unwrap();
    let m = lake.require(&"gone".parse().unwrap()).await.unwrap();
    let rollup = format!("datasets/gone/{}", m.rollup.as_ref().unwrap().path);
    lake.store().delete(&rollup).await.unwrap();
    compare(&lake, "gone", Some(Read::Summaries)).await;

    // Collection keeps the rollup named by the manifest and deletes any other (on an
    // object store only once it is old: it may be another writer's, not yet committed).
    let named = format!("datasets/rolled/{}", r2.path);
    let stray = "datasets/rolled/rollup-0123abcd.summary";
    lake.store()
        .put_atomic(stray, bytes::Bytes::from_static(b"x"))
        .await
        .unwrap();
    lake.gc(&"rolled".parse().unwrap()).await.unwrap();
    assert!(lake_file(&lake, &named).await.is_some());
    let local = lake.store().local_dir().is_some();
    assert_eq!(lake_file(&lake, stray).await.is_none(), local);
}

#[tokio::test]
async fn a_compaction_of_files_a_rollup_covers_rolls_up_again() {
    let (_d, lake) = temp_lake();
    let name: secviz_lake::DatasetName = "small".parse().unwrap();
    // Small files (a few hundred rows each, four a day), all covered by the last
    // ingest's rollup.
    for seed in 21..25 {
        ingest_text(&lake, "small", "a.log", pf_log(300, seed), pf_options())
            .await
            .unwrap();
    }
    let before = lake.require(&name).await.unwrap();
    assert!(before.files.len() >= 8, "{}", before.files.len());
    assert_eq!(
        before.rollup.as_ref().unwrap().files.len(),
        before.files.len()
    );
    let compact = CompactOptions {
        small_file_rows: 1000,
        min_files: 2,
        max_rows: 1 << 20,
    };
    let report = lake.compact(&name, &compact).await.unwrap();
    assert!(report.files_in >= 8, "{report:?}");
    let after = lake.require(&name).await.unwrap();
    assert!(after.files.len() < before.files.len());
    let rollup = after.rollup.clone().expect("rolled up again");
    assert_eq!(
        report.rollup,
        Some(RollUp::Written {
            files: after.files.len(),
            bytes: rollup.bytes
        })
    );
    assert_eq!(
        rollup.files,
        after
            .files
            .iter()
            .map(|f| f.path.clone())
            .collect::<Vec<_>>()
    );
    assert!(compare_summarized(&lake, "small").await > 10);
    // A compaction into one file: its summary is the merge, the rollup is taken out.
    for first in [0, 100, 200] {
        ingest_text(
            &lake,
            "one",
            "c.json",
            many_sources(first, 50, 1_318_291_200.0),
            json_options(),
        )
        .await
        .unwrap();
    }
    let one: secviz_lake::DatasetName = "one".parse().unwrap();
    let m = lake.require(&one).await.unwrap();
    assert_eq!(m.files.len(), 3);
    let gone = format!("datasets/one/{}", m.rollup.as_ref().unwrap().path);
    let report = lake.compact(&one, &compact).await.unwrap();
    assert_eq!((report.files_in, report.files_out), (3, 1));
    assert_eq!(report.rollup, Some(RollUp::Current));
    let m = lake.require(&one).await.unwrap();
    assert!(m.rollup.is_none());
    assert!(lake_file(&lake, &gone).await.is_none());
    // (Its events span seconds: events over time reads the rows, finer than a minute.)
    compare(&lake, "one", None).await;
    let talkers = run(&lake, "one", "top-talkers", &[]).await;
    assert_eq!(talkers.read, Read::Summaries);
    // A compaction that leaves its rollup unusable is read from the files meanwhile: the
    // old rollup over files that are gone answers nothing.
    let mut stale = after.clone();
    stale.rollup = before.rollup.clone();
    assert!(stale.usable_rollup().is_none());
    assert_eq!(
        stale.summary_paths(true),
        stale.summary_paths(false),
        "an unusable rollup is not read"
    );
}
