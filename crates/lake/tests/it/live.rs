//! Live ingest: a followed file across appends, rotation, truncation and restarts, and
//! compaction that never deletes what a running query reads.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use secviz_lake::compact::CompactOptions;
use secviz_lake::live::{FollowOptions, FollowReport};
use secviz_lake::{DatasetName, Lake};
use secviz_parse::ParseOptions;

use super::*;

/// A pf line, unique by `i` (its source port and fraction of a second).
fn pf_line(i: u64) -> String {
    format!(
        "Oct 21 06:{:02}:{:02}.{:06} rule 12/0(match): block in on xl1: 10.0.0.{}.{} > 192.0.2.1.80: S 1:1(0) win 8192 (DF)\n",
        i / 60 % 60,
        i % 60,
        i % 1_000_000,
        1 + i % 200,
        1024 + i
    )
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn lines(from: u64, to: u64) -> String {
    (from..to).map(pf_line).collect()
}

fn follow_options() -> FollowOptions {
    FollowOptions {
        parse: ParseOptions {
            year: Some(2005),
            ..ParseOptions::default()
        },
        interval: Duration::from_millis(100),
        compact_every: None,
        ..FollowOptions::default()
    }
}

/// A follower running in the background until [`Follower::stop`].
struct Follower {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<secviz_lake::Result<FollowReport>>,
}

impl Follower {
    fn start(lake: &Lake, dataset: &str, path: &Path, opts: FollowOptions) -> Follower {
        let stop = Arc::new(AtomicBool::new(false));
        let (lake, name, path, s) = (
            lake.clone(),
            DatasetName::parse(dataset).unwrap(),
            path.to_path_buf(),
            stop.clone(),
        );
        let task = tokio::spawn(async move {
            lake.follow(&name, &path, opts, s, Box::new(|_| {}), Box::new(|_, _| {}))
                .await
        });
        Follower { stop, task }
    }

    async fn stop(self) -> FollowReport {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap().unwrap()
    }
}

/// Waits (at most 10 s) until the dataset's follow record has read `n` lines.
async fn wait_read(lake: &Lake, dataset: &str, n: u64) -> secviz_lake::Manifest {
    let name = DatasetName::parse(dataset).unwrap();
    let started = Instant::now();
    loop {
        if let Ok(Some(m)) = lake.manifest(&name).await {
            let read: u64 = m.streams.values().map(|s| s.summary.read).sum();
            if read >= n {
                return m;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the follower did not read {n} lines within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn count(lake: &Lake, sql: &str) -> u64 {
    rows(lake, sql).await[0][0].parse().unwrap()
}

#[tokio::test]
async fn a_followed_file_is_read_across_rotation_truncation_and_restarts_exactly_once() {
    let (dir, lake) = temp_lake();
    let log = dir.path().join("pf.log");
    append(&log, &lines(0, 100));
    let f = Follower::start(&lake, "live", &log, follow_options());
    let m = wait_read(&lake, "live", 100).await;
    assert_eq!(m.rows, 100);
    assert_eq!(count(&lake, "SELECT count(*) FROM live").await, 100);

    // More lines, a malformed one, and a last line still being written (no newline).
    append(&log, &lines(100, 150));
    append(&log, "this is not a pf line\n");
    append(&log, &pf_line(150)[..40]);
    wait_read(&lake, "live", 151).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let m = lake.require(&"live".parse().unwrap()).await.unwrap();
    let rec = m.streams.values().next().unwrap();
    assert_eq!(rec.kind, "follow");
    assert_eq!(rec.format, "pf");
    assert_eq!((rec.summary.read, rec.summary.parsed), (151, 150));
    assert_eq!(rec.summary.rejected_total(), 1);
    assert_eq!(rec.rejects[0].line, 151, "{:?}", rec.rejects);
    assert!(rec.rejects[0].raw.contains("not a pf line"));
    // The half-written line is not read until its newline comes.
    assert_eq!(m.rows, 150);
    append(&log, &pf_line(150)[40..]);
    wait_read(&lake, "live", 152).await;

    // Rotation by rename: the old file gets a last line (without a newline) after the
    // rename, and a new file starts under the path.
    let rotated = dir.path().join("pf.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    append(&rotated, pf_line(151).trim_end());
    append(&log, &lines(152, 160));
    wait_read(&lake, "live", 161).await;
    let m = lake.require(&"live".parse().unwrap()).await.unwrap();
    assert_eq!(m.rows, 160);
    let rec = m.streams.values().next().unwrap();
    assert_eq!(
        rec.cursor.as_ref().unwrap().line,
        8,
        "numbered from 1 in the new file"
    );
    let report = f.stop().await;
    assert!(report.appends >= 3, "{report:?}");

    // Lines written while nobody followed: a restart goes on from the committed offset.
    append(&log, &lines(160, 170));
    let f = Follower::start(&lake, "live", &log, follow_options());
    wait_read(&lake, "live", 171).await;
    // copytruncate: the file is cut to nothing and written again from its start.
    std::fs::write(&log, "").unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    append(&log, &lines(170, 175));
    wait_read(&lake, "live", 176).await;
    f.stop().await;

    // Every line once: 175 events, no line twice.
    assert_eq!(count(&lake, "SELECT count(*) FROM live").await, 175);
    assert_eq!(
        count(&lake, "SELECT count(DISTINCT src_port) FROM live").await,
        175
    );
    let m = lake.require(&"live".parse().unwrap()).await.unwrap();
    let rec = m.streams.values().next().unwrap();
    assert_eq!(
        rec.summary.parsed + rec.summary.rejected_total(),
        rec.summary.read,
        "parsed + rejected = read"
    );
    assert_eq!((rec.summary.read, rec.summary.parsed), (176, 175));
}

#[tokio::test]
async fn a_follower_resumes_a_zeek_log_behind_its_header() {
    let (dir, lake) = temp_lake();
    let real = std::fs::read_to_string(secviz_testkit::real("zat/conn.log")).unwrap();
    let (header, body): (Vec<&str>, Vec<&str>) = real.lines().partition(|l| l.starts_with('#'));
    let body: Vec<&str> = body.into_iter().take(40).collect();
    let log = dir.path().join("conn.log");
    let head: Vec<&str> = header
        .iter()
        .copied()
        .filter(|l| !l.starts_with("#close"))
        .collect();
    append(
        &log,
        &(head.join("\n") + "\n" + &body[..20].join("\n") + "\n"),
    );
    let opts = FollowOptions {
        interval: Duration::from_millis(100),
        compact_every: None,
        ..FollowOptions::default()
    };
    let f = Follower::start(&lake, "zeek", &log, opts.clone());
    wait_read(&lake, "zeek", 20).await;
    f.stop().await;
    append(&log, &(body[20..].join("\n") + "\n"));
    let f = Follower::start(&lake, "zeek", &log, opts);
    wait_read(&lake, "zeek", 40).await;
    f.stop().await;
    let m = lake.require(&"zeek".parse().unwrap()).await.unwrap();
    let rec = m.streams.values().next().unwrap();
    assert_eq!(rec.format, "zeek");
    assert_eq!(rec.summary.rejected_total(), 0, "{:?}", rec.rejects);
    assert_eq!(m.rows, 40);
    // The resumed half parsed with the header's columns: every row has its addresses.
    assert_eq!(
        count(
            &lake,
            "SELECT count(*) FROM zeek WHERE src_ip IS NOT NULL AND dst_port IS NOT NULL"
        )
        .await,
        40
    );
}

#[tokio::test]
async fn one_follower_per_file_and_captures_are_refused() {
    let (dir, lake) = local_lake();
    let log = dir.path().join("pf.log");
    append(&log, &lines(0, 5));
    let f = Follower::start(&lake, "live", &log, follow_options());
    wait_read(&lake, "live", 5).await;
    let err = lake
        .follow(
            &"live".parse().unwrap(),
            &log,
            follow_options(),
            Arc::new(AtomicBool::new(true)),
            Box::new(|_| {}),
            Box::new(|_, _| {}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("already following"), "{err}");
    f.stop().await;

    let pcap = dir.path().join("x.pcap");
    let mut bytes = vec![0xd4, 0xc3, 0xb2, 0xa1];
    bytes.resize(64, 0);
    bytes.push(b'\n');
    std::fs::write(&pcap, bytes).unwrap();
    let err = lake
        .follow(
            &"cap".parse().unwrap(),
            &pcap,
            FollowOptions::default(),
            Arc::new(AtomicBool::new(true)),
            Box::new(|_| {}),
            Box::new(|_, _| {}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("text log"), "{err}");
}

#[tokio::test]
async fn compaction_merges_appends_and_keeps_what_a_running_query_reads() {
    let (dir, lake) = local_lake();
    let log = dir.path().join("pf.log");
    let f = Follower::start(&lake, "live", &log, follow_options());
    // Ten appends: one file each.
    for k in 0..10 {
        append(&log, &lines(k * 10, k * 10 + 10));
        wait_read(&lake, "live", k * 10 + 10).await;
    }
    f.stop().await;
    let name: DatasetName = "live".parse().unwrap();
    let before = lake.require(&name).await.unwrap();
    assert_eq!(before.files.len(), 10);
    let old: Vec<PathBuf> = before
        .files
        .iter()
        .map(|f| dir.path().join("lake/datasets/live").join(&f.path))
        .collect();

    // A query that has started (and read its manifest) but not finished.
    let mut stream = lake
        .query_stream(
            "SELECT src_port FROM live ORDER BY src_port",
            &secviz_lake::query::QueryOptions::operator(),
        )
        .await
        .unwrap();
    let opts = CompactOptions {
        min_files: 4,
        ..CompactOptions::default()
    };
    let report = lake.compact(&name, &opts).await.unwrap();
    assert_eq!(
        (report.files_in, report.files_out, report.rows),
        (10, 1, 100)
    );
    assert_eq!(report.deleted.files, 0, "a reader still reads them");
    let after = lake.require(&name).await.unwrap();
    assert_eq!(
        (after.files.len(), after.retired.len(), after.rows),
        (1, 10, 100)
    );
    assert!(old.iter().all(|p| p.exists()));
    // The running query reads the old files to the end.
    use futures::StreamExt;
    let mut n = 0;
    while let Some(b) = stream.next().await {
        n += b.unwrap().num_rows();
    }
    assert_eq!(n, 100);
    // New queries read the new file; the old ones go once no reader needs them.
    assert_eq!(
        count(&lake, "SELECT count(DISTINCT src_port) FROM live").await,
        100
    );
    drop(stream);
    let report = lake.compact(&name, &opts).await.unwrap();
    assert_eq!(report.files_in, 0);
    assert_eq!(
        report.deleted.files, 20,
        "each Parquet file with its summary: {report:?}"
    );
    assert!(old.iter().all(|p| !p.exists()));
    let m = lake.require(&name).await.unwrap();
    assert!(m.retired.is_empty());
    // The compacted file has its summary: the analyses answer from it as before.
    assert!(m.files[0].summary.is_some());
    // And a reader that died holding a lease (its process killed) blocks nothing.
    let lease_dir = dir.path().join("lake/locks/leases/live");
    std::fs::create_dir_all(&lease_dir).unwrap();
    std::fs::write(lease_dir.join("gone.lease"), "1").unwrap();
    lake.gc(&name).await.unwrap();
    assert!(!lease_dir.join("gone.lease").exists());
}

#[tokio::test]
async fn a_followed_file_follows_the_datasets_anonymization() {
    let (dir, lake) = temp_lake();
    let key = secviz_lake::anon::AnonKey::from_bytes(std::array::from_fn(|i| i as u8 ^ 0x33));
    let log = dir.path().join("pf.log");
    append(&log, &lines(0, 20));
    append(&log, "bad line from 10.0.0.99\n");
    let opts = FollowOptions {
        anonymize: Some(key.clone()),
        ..follow_options()
    };
    let f = Follower::start(&lake, "anon", &log, opts);
    wait_read(&lake, "anon", 21).await;
    f.stop().await;
    let m = lake.require(&"anon".parse().unwrap()).await.unwrap();
    assert!(m.anonymization.is_some());
    // No real address in the rows, nor in the rejects kept.
    assert_eq!(
        count(&lake, "SELECT count(*) FROM anon WHERE src_ip LIKE '10.0.0.%' OR dst_ip = '192.0.2.1' OR raw LIKE '%10.0.0.%'").await,
        0
    );
    let rec = m.streams.values().next().unwrap();
    assert!(
        !rec.rejects[0].raw.contains("10.0.0.99"),
        "{:?}",
        rec.rejects
    );
    // Following into it without the key is refused, before anything is read.
    let err = lake
        .follow(
            &"anon".parse().unwrap(),
            &log,
            follow_options(),
            Arc::new(AtomicBool::new(true)),
            Box::new(|_| {}),
            Box::new(|_, _| {}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("anonymized"), "{err}");
}
