//! The summarizer's tests: what it keeps, and what its budget counts against the
//! counting allocator.

use std::fmt::Write;

use secviz_parse::{EventStream, Format, ParseOptions};
use secviz_sandbox::budget;

use super::*;
use crate::summary::Tables;

/// JSON lines parsed into batches.
fn parsed(text: String, lines: usize) -> Vec<RecordBatch> {
    let opts = ParseOptions {
        format: Some(Format::Jsonl),
        ..ParseOptions::default()
    };
    let mut stream = EventStream::open(std::io::Cursor::new(text.into_bytes()), opts).unwrap();
    let mut batches = Vec::new();
    while let Some(b) = stream.next_batch(&mut |r| panic!("rejected: {r}")).unwrap() {
        batches.push(b);
    }
    assert_eq!(stream.summary().parsed, lines as u64);
    batches
}

/// The big screen's HTTP feed (bench/live/site_setup.py): one flow from each of
/// `sources` clients to one server.
fn feed(sources: usize) -> Vec<RecordBatch> {
    let mut text = String::new();
    for s in 0..sources {
        let _ = writeln!(
            text,
            r#"{{"ts":"2026-12-07T00:{:02}:{:02}Z","src_ip":"198.19.{}.{}","dst_ip":"192.0.2.99","dst_port":443,"proto":"tcp"}}"#,
            (s / 60) % 60,
            s % 60,
            s / 250 % 250,
            1 + s % 250
        );
    }
    parsed(text, sources)
}

/// Four events from each of `sources` clients, as JSON lines parsed into batches: web
/// requests (half answered 404), DNS queries, logins, and connections with bytes both
/// ways and a duration, to outside and inside addresses: every table gets rows.
fn events(sources: usize) -> Vec<RecordBatch> {
    let mut text = String::new();
    for s in 0..sources {
        let src = format!("10.{}.{}.{}", (s >> 16) & 255, (s >> 8) & 255, s & 255);
        for k in 0..4 {
            let dst = match k {
                0 => format!("192.168.{}.{}", s % 3, s % 200),
                _ => format!("203.0.{}.{}", (s + k) % 50, (s * 7 + k) % 250),
            };
            let _ = writeln!(
                text,
                r#"{{"time":"2026-12-07T00:{:02}:{:02}Z","src_ip":"{src}","dst_ip":"{dst}","dst_port":{},"src_port":{},"protocol":"tcp","http_status":{},"http_uri":"/page/{s}/{k}","user":"user{k}","auth_result":"{}","duration":{}.5,"src_bytes":{},"dst_bytes":20,"bytes":30,"dns_qname":"h{k}.n{}.example{}.com","dns_qtype":"A","dns_rcode":"NXDOMAIN"}}"#,
                (s / 60) % 60,
                s % 60,
                [80, 443, 53, 22][k],
                1024 + s % 5000,
                [200, 404][k % 2],
                ["failure", "success"][k % 2],
                k,
                10 * k,
                s % 900,
                s % 40,
            );
        }
    }
    parsed(text, 4 * sources)
}

/// Bytes this thread holds now, by the counting allocator the tests run on.
fn held_here(slot: budget::SlotId) -> i64 {
    budget::used(slot)
}

#[test]
fn the_budget_counts_what_the_tables_hold_in_memory() {
    // Every table, and the feed's one flow per source (where a source's slot is most
    // of what it takes).
    for (shape, batches) in [("every table", events(20_000)), ("feed", feed(62_500))] {
        let inside = InsideNetworks::private();
        let slot = budget::claim_slot().expect("a slot");
        budget::enter(slot);
        let start = held_here(slot);
        let mut s = Summarizer::new(usize::MAX, Some(&inside));
        for b in &batches {
            s.add(b);
        }
        let building = (held_here(slot) - start) as f64;
        let counted: usize = s.held.iter().sum();
        let peak = s.held_bytes();
        let ratio = counted as f64 / building;
        assert!(
            (0.9..=1.1).contains(&ratio),
            "{shape}: the tables hold {building} bytes, counted {counted}"
        );
        let summary = s.finish();
        let finished = (held_here(slot) - start) as f64;
        assert!(
            finished <= peak as f64,
            "{shape}: finished, the summary holds {finished} bytes, more than the {peak} counted for it"
        );
        let ratio = summary.held_bytes() as f64 / finished;
        assert!(
            (0.9..=1.1).contains(&ratio),
            "{shape}: the summary holds {finished} bytes, counted {}",
            summary.held_bytes()
        );
        let kept = if shape == "feed" {
            // No logins, web requests, connections or DNS in the feed.
            Tables::of(&[Table::Sources, Table::Networks, Table::Peers])
        } else {
            Tables::of(&PER_SOURCE)
        };
        assert!(kept.within(summary.tables()), "{shape}");
        eprintln!(
            "{shape}: {building} bytes while built, {counted} counted, {} sources",
            summary.sources.as_ref().map_or(0, |m| m.len())
        );
    }
}

#[test]
fn a_file_of_many_sources_stays_within_the_budget() {
    let batches = events(20_000);
    let slot = budget::claim_slot().expect("a slot");
    budget::enter(slot);
    let start = held_here(slot);
    let budget_bytes = 8 << 20;
    let mut s = Summarizer::new(budget_bytes, None);
    let mut most = 0;
    for b in &batches {
        s.add(b);
        most = most.max(held_here(slot) - start);
    }
    let summary = s.finish();
    most = most.max(held_here(slot) - start);
    assert!(
        most as f64 <= budget_bytes as f64 * 1.1,
        "held {most} bytes for a budget of {budget_bytes}"
    );
    // The largest were given up; the sources' sums (what top talkers read) fit.
    assert!(!summary.tables().has(Table::Peers));
    assert!(summary.tables().has(Table::Minutes));
}

#[test]
fn a_domain_keeps_its_first_names_in_text_order() {
    let mut t = HashMap::default();
    for i in (0..200).rev() {
        add_domain_query(&mut t, &format!("n{i:03}.example.com"), Some("10.0.0.1"));
    }
    add_domain_query(&mut t, "example.com", None);
    let d = &t["example.com"];
    assert_eq!(d.queries, 201);
    assert_eq!(d.sample.len(), crate::summary::DOMAIN_SAMPLE);
    assert_eq!(d.sample[0], "n000.example.com");
    assert_eq!(d.sample[63], "n063.example.com");
    // 200 names of 4 characters before the domain, and the bare domain's -1.
    assert_eq!(d.label_chars, 200 * 4 - 1);
    assert_eq!(d.client.as_deref(), Some("10.0.0.1"));
}
