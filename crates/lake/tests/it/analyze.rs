//! Built-in analyses on data with planted patterns: a scanner, a beacon, a client with
//! a fixed DNS source port and a DGA-like NXDOMAIN storm, in background traffic.

use std::fmt::Write;

use secviz_lake::analyze::{Detail, Params};
use secviz_lake::query::{Access, QueryLimits};
use secviz_lake::{IngestOptions, Lake};
use secviz_parse::{Format, ParseOptions};

use super::*;

/// JSON lines in Zeek conn/dns style, so DNS names and rcodes are present.
fn planted() -> String {
    let mut out = String::new();
    let t0 = 1_318_291_200.0_f64; // 2011-10-11 00:00:00 UTC
    let mut line = |ts: f64, src: &str, sport: u32, dst: &str, dport: u32, extra: &str| {
        writeln!(
            out,
            "{{\"ts\":{ts:.3},\"id.orig_h\":\"{src}\",\"id.orig_p\":{sport},\"id.resp_h\":\"{dst}\",\"id.resp_p\":{dport},\"proto\":\"udp\"{extra}}}"
        )
        .unwrap();
    };
    // Background: 20 clients to 5 web servers at random times (xorshift, fixed seed).
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..2000u32 {
        let r = rand();
        let ts = t0 + (r % 14_000_000) as f64 / 1000.0;
        line(
            ts,
            &format!("10.1.0.{}", (r >> 24) % 20 + 1),
            20000 + i,
            &format!("192.0.2.{}", (r >> 32) % 5 + 1),
            443,
            "",
        );
    }
    // A scanner: one source, 300 ports on one host.
    for p in 0..300u32 {
        line(
            t0 + 100.0 + p as f64 * 0.01,
            "10.9.9.9",
            40000,
            "192.0.2.200",
            1 + p,
            "",
        );
    }
    // A beacon: every 60 s (± 1 s) to one C&C.
    for k in 0..40u32 {
        line(
            t0 + 30.0 + k as f64 * 60.0 + (k % 3) as f64 * 0.5,
            "10.1.0.7",
            50000 + k,
            "203.0.113.66",
            8080,
            "",
        );
    }
    // A resolver client that always uses port 5353, and a DGA client.
    for k in 0..30u32 {
        let jitter = (rand() % 400) as f64;
        line(
            t0 + 5.0 + k as f64 * 11.0 + jitter,
            "10.1.0.3",
            5353,
            "10.0.0.53",
            53,
            ",\"query\":\"www.example.com\",\"qtype_name\":\"A\",\"rcode_name\":\"NOERROR\"",
        );
        line(
            t0 + 6.0 + k as f64 * 11.0 + jitter * 2.0,
            "10.1.0.4",
            30000 + k,
            "10.0.0.53",
            53,
            &format!(
                ",\"query\":\"x{k}q7z.example.net\",\"qtype_name\":\"A\",\"rcode_name\":\"NXDOMAIN\""
            ),
        );
    }
    out
}

async fn lake_with_planted() -> (TestLake, Lake) {
    let (dir, lake) = temp_lake();
    let opts = IngestOptions {
        parse: ParseOptions {
            format: Some(Format::Jsonl),
            ..ParseOptions::default()
        },
        ..IngestOptions::default()
    };
    let report = ingest_text(&lake, "planted", "conn.json", planted(), opts)
        .await
        .unwrap();
    assert!(report.rows >= 2400, "{report:?}");
    (dir, lake)
}

#[tokio::test]
async fn each_analysis_finds_what_was_planted() {
    let (_d, lake) = lake_with_planted().await;
    let access = Access::Only(vec!["planted".parse().unwrap()]);
    let limits = QueryLimits::unlimited();
    let run = |name: &'static str, params: Vec<&'static str>| {
        let (lake, access, limits) = (lake.clone(), access.clone(), limits.clone());
        async move {
            lake.analyze(&access, name, &Params::parse(params).unwrap(), &limits)
                .await
                .unwrap()
                .findings
        }
    };

    let fan = run("fan-out", vec![]).await;
    // 300 ports: counted from the summaries' sketch, within its bound (see summaries.rs).
    assert!(
        matches!(&fan[0].detail, Detail::FanOut { src, ports, .. } if src == "10.9.9.9" && ports.abs_diff(300) <= 15),
        "{fan:?}"
    );
    assert!(fan[0].notable(), "{fan:?}");

    let beacons = run("beacons", vec![]).await;
    assert!(
        matches!(&beacons[0].detail, Detail::Beacon { src, dst, events: 40, .. } if src == "10.1.0.7" && dst == "203.0.113.66"),
        "{beacons:?}"
    );
    if let Detail::Beacon {
        mean_interval_s, ..
    } = beacons[0].detail
    {
        assert!((mean_interval_s - 60.0).abs() < 1.0);
    }

    let fixed = run("dns-fixed-port", vec![]).await;
    assert_eq!(fixed.len(), 1, "{fixed:?}");
    assert!(
        matches!(&fixed[0].detail, Detail::FixedSourcePort { client, port: 5353, queries: 30 } if client == "10.1.0.3")
    );

    let dns = run("dns", vec![]).await;
    assert!(dns.iter().any(|f| matches!(&f.detail, Detail::Nxdomain { client: Some(c), nxdomain: 30, .. } if c == "10.1.0.4")), "{dns:?}");
    assert!(dns.iter().any(|f| matches!(
        &f.detail,
        Detail::Nxdomain {
            client: None,
            queries: 60,
            nxdomain: 30,
            ..
        }
    )));
    assert!(dns.iter().any(
        |f| matches!(&f.detail, Detail::DnsName { name, queries: 30, queries_at_most: None } if name == "www.example.com")
    ));

    let talkers = run("top-talkers", vec!["limit=3"]).await;
    assert!(
        matches!(&talkers[0].detail, Detail::Talker { ip, events: 300, .. } if ip == "10.9.9.9"),
        "{talkers:?}"
    );

    let ports = run("top-ports", vec!["limit=1"]).await;
    assert!(
        matches!(
            &ports[0].detail,
            Detail::Port {
                port: 443,
                events: 2000,
                ..
            }
        ),
        "{ports:?}"
    );

    let rare = run("rare-destinations", vec!["max=1"]).await;
    assert!(
        rare.is_empty(),
        "every planted destination is seen more than once: {rare:?}"
    );

    let time = run("events-over-time", vec!["buckets=30"]).await;
    // Findings come most unusual first: the histogram (context) after the spikes.
    let Some((bucket_seconds, buckets)) = time.iter().find_map(|f| match &f.detail {
        Detail::Histogram {
            bucket_seconds,
            buckets,
        } => Some((bucket_seconds, buckets)),
        _ => None,
    }) else {
        panic!("{time:?}")
    };
    assert_eq!(buckets.iter().map(|b| b.1).sum::<u64>(), 2400);
    assert!(
        buckets.len() <= 30 && *bucket_seconds >= 300,
        "{bucket_seconds} {}",
        buckets.len()
    );
    assert!(
        time.iter()
            .any(|f| matches!(f.detail, Detail::Spike { .. })),
        "the scan burst is a spike: {time:?}"
    );
}

#[tokio::test]
async fn running_all_ranks_findings_and_bad_parameters_are_refused() {
    let (_d, lake) = lake_with_planted().await;
    let all = lake
        .analyze_all(&Access::All, &QueryLimits::unlimited())
        .await
        .unwrap()
        .findings;
    assert!(all.windows(2).all(|w| w[0].score >= w[1].score));
    // The scan also makes its five minutes a spike of events; the NXDOMAIN client is the
    // fifth pattern planted.
    let top: Vec<_> = all.iter().take(5).map(|f| f.analysis).collect();
    for expected in ["fan-out", "beacons", "dns-fixed-port"] {
        assert!(
            top.contains(&expected),
            "{expected} not in the top findings: {top:?}"
        );
    }
    let e = lake
        .analyze(
            &Access::All,
            "fan-out",
            &Params::parse(["limt=3"]).unwrap(),
            &QueryLimits::unlimited(),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("limit"), "{e}");
    let e = lake
        .analyze(
            &Access::All,
            "fan-out",
            &Params::parse(["min=x"]).unwrap(),
            &QueryLimits::unlimited(),
        )
        .await;
    assert!(e.is_err());
    assert!(
        lake.analyze(
            &Access::All,
            "nope",
            &Params::default(),
            &QueryLimits::unlimited()
        )
        .await
        .is_err()
    );
}

/// Issue 16: the column profile the draft form lists and chooses presets from: only the
/// columns that hold values, each with its kind and about how many distinct values.
#[tokio::test]
async fn the_profile_lists_the_columns_that_hold_values() {
    let (_dir, lake) = lake_with_planted().await;
    let profile = lake
        .profile(
            &Access::Only(vec!["planted".parse().unwrap()]),
            &QueryLimits::unlimited(),
        )
        .await
        .unwrap();
    let col = |n: &str| profile.iter().find(|c| c.name == n);
    let rows: u64 = col("time").expect("time").values;
    let src = col("src_ip").expect("src_ip");
    assert_eq!((src.kind.as_str(), src.values), ("text", rows));
    // 20 clients, a scanner, a beacon, the fixed-port client and the storm's client.
    let distinct = src.distinct.unwrap();
    assert!((20..=30).contains(&distinct), "{src:?}");
    assert_eq!(col("dst_port").unwrap().kind, "whole number");
    assert!(col("time").unwrap().distinct.is_none());
    // Nothing of what a flow log lacks, and no provenance or free text.
    for absent in ["user", "http_uri", "raw", "line", "message"] {
        assert!(col(absent).is_none(), "{absent}: {profile:?}");
    }
}
