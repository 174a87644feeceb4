//! The lake on a real S3-compatible server (moto on 127.0.0.1, started per test by
//! `secviz_testkit::s3`), against the same work on the local disk: ingest, list, query and
//! remove give the same answers; conditional writes let exactly one of two writers of a
//! manifest version win; concurrent ingests into one dataset all land, one version each;
//! the same file ingested twice at once lands once; a writer that dies after uploading its
//! files and before committing leaves the last version readable.

use crate::{ingest_text, local_lake, pf_log, pf_options, rows};

use bytes::Bytes;
use secviz_lake::Lake;
use secviz_testkit::s3::S3Server;

fn s3_lake(server: &S3Server, bucket: &str) -> Lake {
    server.bucket(bucket);
    let opts = server.options();
    let opts: Vec<(&str, &str)> = opts.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Lake::open_with(&format!("s3://{bucket}/site"), &opts).unwrap()
}

const QUERIES: &[&str] = &[
    "SELECT count(*) FROM events",
    "SELECT src_ip, count(*) AS n, sum(bytes) AS b FROM events GROUP BY src_ip ORDER BY n DESC, src_ip",
    "SELECT date_trunc('hour', time) AS h, count(*) FROM pf GROUP BY h ORDER BY h",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_query_and_remove_on_s3_answer_as_on_disk() {
    let server = S3Server::start();
    let s3 = s3_lake(&server, "lake");
    let (_dir, disk) = local_lake();
    for lake in [&s3, &disk] {
        ingest_text(lake, "pf", "a.log", pf_log(300, 4), pf_options())
            .await
            .unwrap();
        ingest_text(lake, "pf", "b.log", pf_log(200, 5), pf_options())
            .await
            .unwrap();
    }
    assert!(s3.store().local_dir().is_none());
    assert!(
        s3.store().describe().starts_with("s3://lake/"),
        "{}",
        s3.store().describe()
    );
    let m = s3.require(&"pf".parse().unwrap()).await.unwrap();
    assert_eq!((m.version, m.ingests.len()), (2, 2));
    for sql in QUERIES {
        let sql = sql.replace("FROM events", "FROM pf");
        assert_eq!(rows(&s3, &sql).await, rows(&disk, &sql).await, "{sql}");
    }
    assert_eq!(s3.datasets().await.unwrap().len(), 1);
    s3.remove(&"pf".parse().unwrap()).await.unwrap();
    assert!(s3.datasets().await.unwrap().is_empty());
    assert!(
        s3.store().list("datasets").await.unwrap().is_empty(),
        "its files went too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_writers_of_one_version_exactly_one_wins_on_s3() {
    let server = S3Server::start();
    let lake = s3_lake(&server, "race");
    let store = lake.store();
    let rel = "datasets/x/manifest.json";
    assert!(
        store
            .put_if(rel, Bytes::from_static(b"one"), None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .put_if(rel, Bytes::from_static(b"two"), None)
            .await
            .unwrap(),
        "If-None-Match: the second create loses"
    );
    let (_, v1) = store.get_versioned(rel).await.unwrap().unwrap();
    let (_, v1_again) = store.get_versioned(rel).await.unwrap().unwrap();
    assert!(
        store
            .put_if(rel, Bytes::from_static(b"three"), Some(&v1))
            .await
            .unwrap()
    );
    assert!(
        !store
            .put_if(rel, Bytes::from_static(b"four"), Some(&v1_again))
            .await
            .unwrap(),
        "If-Match: a write from the same read loses"
    );
    assert_eq!(
        store.get(rel).await.unwrap().unwrap(),
        Bytes::from_static(b"three")
    );
    // Creating a dataset that exists is refused, not overwritten.
    lake.create(&"made".parse().unwrap()).await.unwrap();
    assert!(lake.create(&"made".parse().unwrap()).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ingests_into_one_dataset_on_s3_all_land() {
    let server = S3Server::start();
    let lake = s3_lake(&server, "busy");
    let writers: Vec<_> = (0..4u64)
        .map(|i| {
            let lake = lake.clone();
            tokio::spawn(async move {
                ingest_text(
                    &lake,
                    "pf",
                    &format!("part-{i}.log"),
                    pf_log(50 + 10 * i as usize, 10 + i),
                    pf_options(),
                )
                .await
                .map(|r| r.rows)
            })
        })
        .collect();
    let mut total = 0;
    for w in writers {
        total += w.await.unwrap().unwrap();
    }
    let m = lake.require(&"pf".parse().unwrap()).await.unwrap();
    assert_eq!(m.ingests.len(), 4, "no commit was lost");
    assert_eq!(m.version, 4, "one version each");
    assert_eq!(m.rows, total);
    assert_eq!(
        rows(&lake, "SELECT count(*) FROM pf").await[0][0],
        total.to_string()
    );
}

/// Two writers ingesting the same file at once (a portal job taken over from an instance
/// that was only slow): both pass the duplicate check before parsing, and the commit checks
/// again against the version it replaces, so exactly one lands and the lines are there once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_file_ingested_twice_at_once_lands_once_on_s3() {
    let server = S3Server::start();
    let lake = s3_lake(&server, "twice");
    let text = pf_log(20_000, 42);
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let (lake, text) = (lake.clone(), text.clone());
            tokio::spawn(
                async move { ingest_text(&lake, "pf", "same.log", text, pf_options()).await },
            )
        })
        .collect();
    let mut landed = Vec::new();
    let mut refused = 0;
    for w in writers {
        match w.await.unwrap() {
            Ok(r) => landed.push(r.rows),
            Err(secviz_lake::LakeError::Duplicate { .. }) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((landed.len(), refused), (1, 1), "exactly one lands");
    let m = lake.require(&"pf".parse().unwrap()).await.unwrap();
    assert_eq!((m.version, m.ingests.len(), m.rows), (1, 1, landed[0]));
    assert_eq!(
        rows(&lake, "SELECT count(*) FROM pf").await[0][0],
        landed[0].to_string()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_that_dies_before_its_commit_leaves_the_last_version_readable_on_s3() {
    let server = S3Server::start();
    let lake = s3_lake(&server, "crash");
    ingest_text(&lake, "pf", "a.log", pf_log(100, 2), pf_options())
        .await
        .unwrap();
    let before = rows(&lake, "SELECT count(*) FROM pf").await;
    // What a writer killed between its upload and its commit leaves: a file the manifest
    // does not name.
    let staged = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(staged.path(), b"not even parquet").unwrap();
    lake.store()
        .publish_file(
            staged.path(),
            "datasets/pf/day=2005-10-21/part-dead-0.parquet",
        )
        .await
        .unwrap();
    assert_eq!(rows(&lake, "SELECT count(*) FROM pf").await, before);
    // It is young: another writer's commit may still be coming, so collection leaves it.
    let gc = lake.gc(&"pf".parse().unwrap()).await.unwrap();
    assert_eq!(gc.files, 0);
    assert_eq!(rows(&lake, "SELECT count(*) FROM pf").await, before);
}
