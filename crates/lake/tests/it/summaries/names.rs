//! The DNS overview's names in bounded space (issue 19.3): past 8,192 distinct names a
//! file's summary keeps the most queried, the busy ones exact and the others as a range
//! that holds the exact count, and every name it drops within the stated bound.

use std::collections::HashMap;
use std::fmt::Write;

use secviz_lake::analyze::Detail;
use secviz_lake::summary::TOP_NAMES;

use super::*;

/// One part of two: 33,000 DNS queries, interleaved: eight busy names (1,500 queries
/// each), 500 names of six queries, and 18,000 names queried once (a tunnel).
fn many_names(part: u32) -> String {
    let mut out = String::new();
    for i in 0..33_000u32 {
        let name = match i % 11 {
            0..=3 => format!("busy{}.example.com", i / 11 % 8),
            4 => format!("medium{}.example.net", i / 11 % 500),
            _ => format!("u{part}x{i}.t.tunnel.example"),
        };
        writeln!(
            out,
            r#"{{"ts":{},"src_ip":"10.4.0.{}","dst_ip":"192.0.2.53","dst_port":53,"query":"{name}","qtype_name":"A","rcode_name":"NOERROR"}}"#,
            1_318_291_200 + part * 100_000 + i / 4,
            i % 50
        )
        .unwrap();
    }
    out
}

/// Name, queries and the most it may have had, of a DNS overview's findings.
fn names(r: &AnalysisResult) -> Vec<(String, u64, Option<u64>)> {
    r.findings
        .iter()
        .filter_map(|f| match &f.detail {
            Detail::DnsName {
                name,
                queries,
                queries_at_most,
            } => {
                assert_eq!(
                    f.headline.contains(" to "),
                    queries_at_most.is_some(),
                    "{}",
                    f.headline
                );
                Some((name.clone(), *queries, *queries_at_most))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn dns_names_past_the_table_come_as_ranges_that_hold_the_exact_counts() {
    let (_d, lake) = temp_lake();
    for part in 0..2 {
        ingest_text(&lake, "names", "n.json", many_names(part), {
            let mut o = json_options();
            o.force = true;
            o
        })
        .await
        .unwrap();
    }
    let all = ["limit=100000"];
    let s = run(&lake, "names", "dns", &all).await;
    assert_eq!(s.read, Read::Summaries);
    let r = run(&lake.clone().reading_rows(), "names", "dns", &all).await;
    assert_eq!(r.read, Read::Rows);
    let (kept, exact) = (names(&s), names(&r));
    let counts: HashMap<&str, u64> = exact.iter().map(|(n, q, _)| (n.as_str(), *q)).collect();
    let total: u64 = counts.values().sum();
    assert_eq!(total, 66_000);
    assert_eq!(counts.len(), 8 + 500 + 36_000);
    // Bounded: far fewer names than were queried, some of them as a range.
    assert!(kept.len() <= 2 * TOP_NAMES, "{} names kept", kept.len());
    assert!(kept.iter().any(|(_, _, most)| most.is_some()));
    // The busy names first, exact, in the rows' order.
    assert_eq!(kept[..8], exact[..8]);
    assert!(
        kept[..8]
            .iter()
            .all(|(n, q, most)| n.starts_with("busy") && *q == 3_000 && most.is_none())
    );
    // Every range holds the exact count; every name left out was queried at most
    // N / (k + 1) times.
    for (name, queries, most) in &kept {
        let exact = counts[name.as_str()];
        assert!(
            *queries <= exact && exact <= most.unwrap_or(*queries),
            "{name}: {queries}..{most:?}, exact {exact}"
        );
    }
    let bound = total / (TOP_NAMES as u64 + 1);
    let listed: std::collections::HashSet<&str> = kept.iter().map(|(n, _, _)| n.as_str()).collect();
    for (name, exact) in &counts {
        if !listed.contains(name) {
            assert!(
                *exact <= bound,
                "{name}: {exact} queries left out (bound {bound})"
            );
        }
    }
}
