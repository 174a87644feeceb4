//! The network receiver's appender (syslog and HTTP go through it): its small files are
//! compacted in the background while it runs, and a full queue holds its senders back
//! instead of growing.

use std::path::Path;
use std::time::{Duration, Instant};

use secviz_lake::compact::CompactOptions;
use secviz_lake::live::{Messages, Receiver, ReceiverOptions, Source};
use secviz_lake::{DatasetName, Lake};
use secviz_parse::Format;

use super::*;

fn source() -> Source {
    Source {
        key: "syslog-tcp".into(),
        kind: "syslog",
        label: "syslog over TCP in a test".into(),
        format: Format::Syslog,
    }
}

/// `n` RFC 5424 messages, each naming its own number (`from` on) once.
fn messages(from: u64, n: u64) -> Messages {
    let lines: String = (from..from + n)
        .map(|i| {
            format!(
                "<34>1 2026-12-06T10:{:02}:{:02}Z fw1 sshd 4242 - - Failed password for root from 10.1.{}.{} port {} ssh2\n",
                i / 60 % 60,
                i % 60,
                i / 250 % 250,
                1 + i % 250,
                1024 + i
            )
        })
        .collect();
    Messages {
        lines: lines.into_bytes(),
        refused: Vec::new(),
        dropped: 0,
    }
}

async fn distinct_messages(lake: &Lake) -> (u64, u64) {
    let r = rows(lake, "SELECT count(*), count(DISTINCT message) FROM net").await;
    (r[0][0].parse().unwrap(), r[0][1].parse().unwrap())
}

#[tokio::test]
async fn a_receiver_compacts_its_small_files_while_it_runs() {
    let (_dir, lake) = local_lake();
    let name: DatasetName = "net".parse().unwrap();
    let opts = ReceiverOptions {
        interval: Duration::from_millis(5),
        compact_every: Some(4),
        compact: CompactOptions {
            min_files: 4,
            ..CompactOptions::default()
        },
        ..ReceiverOptions::default()
    };
    let (receiver, appender) = Receiver::start(&lake, &name, opts);
    // Twelve deliveries, one after the other: each is answered once committed, so each is
    // one commit and one small file, and a compaction starts after every fourth.
    for k in 0..12 {
        receiver
            .deliver(&source(), messages(k * 10, 10))
            .await
            .unwrap();
    }
    drop(receiver);
    // The appender ends once its senders are gone, after the compaction it started.
    appender.await.unwrap().unwrap();
    let m = lake.require(&name).await.unwrap();
    assert!(
        m.files.len() < 12,
        "twelve appends left {} files: no compaction ran",
        m.files.len()
    );
    assert_eq!(m.rows, 120);
    let record = &m.streams["syslog-tcp"];
    assert_eq!(
        (record.appends, record.summary.read, record.summary.parsed),
        (12, 120, 120)
    );
    // Every message once: compaction neither lost nor repeated one.
    assert_eq!(distinct_messages(&lake).await, (120, 120));
}

/// Whether the appender has taken a delivery: it stages the delivery's file (in a
/// `live-…` folder) before it takes the dataset's lock to commit.
fn staged(root: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(root) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        p.is_dir() && (e.file_name().to_string_lossy().starts_with("live-") || staged(&p))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_receiver_queue_holds_waiting_senders_and_refuses_the_others() {
    let (dir, lake) = local_lake();
    let name: DatasetName = "net".parse().unwrap();
    let opts = ReceiverOptions {
        interval: Duration::from_millis(5),
        queue: 2,
        compact_every: None,
        ..ReceiverOptions::default()
    };
    let (receiver, appender) = Receiver::start(&lake, &name, opts);
    // Another writer holds the dataset: the appender's commit waits for it, as it would
    // behind a slow disk.
    let lock = lake.lock(&name).await.unwrap();
    let first = {
        let r = receiver.clone();
        tokio::spawn(async move { r.deliver(&source(), messages(0, 10)).await })
    };
    let started = Instant::now();
    while !staged(dir.path()) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the appender did not take the first delivery"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The appender holds the first delivery; the queue takes two more, then no more.
    assert!(receiver.offer(&source(), messages(10, 10)));
    assert!(receiver.offer(&source(), messages(20, 10)));
    assert!(
        !receiver.offer(&source(), messages(30, 10)),
        "a full queue refused a sender that cannot wait (UDP: counted as dropped)"
    );
    // A sender that can wait (TCP, HTTP) is held: it gets no answer, and its messages
    // are not held in memory beyond the queue's bound.
    let held = {
        let r = receiver.clone();
        tokio::spawn(async move { r.deliver(&source(), messages(40, 10)).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!first.is_finished(), "answered before it was committed");
    assert!(
        !held.is_finished(),
        "a sender was not held by the full queue"
    );
    // The writer finishes: everything taken is committed and answered, once.
    drop(lock);
    first.await.unwrap().unwrap();
    held.await.unwrap().unwrap();
    drop(receiver);
    appender.await.unwrap().unwrap();
    let (n, distinct) = distinct_messages(&lake).await;
    assert_eq!(
        (n, distinct),
        (40, 40),
        "the first, the two queued and the held delivery; not the refused one"
    );
    let m = lake.require(&name).await.unwrap();
    assert_eq!(m.streams["syslog-tcp"].summary.read, 40);
}
