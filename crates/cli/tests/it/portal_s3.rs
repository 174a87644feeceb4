//! The portal with its lake, uploads and images on an S3-compatible store (moto on
//! 127.0.0.1, configured only through the usual `AWS_*` variables, as an operator would), as
//! several instances run when they share nothing but PostgreSQL and the object store
//! (issue 20):
//!
//! - an upload received by instance A, which is killed at once, is ingested by instance B
//!   from the object store, B having a data folder of its own;
//! - the picture B publishes is served by A when A comes back;
//! - both anonymize with the one key kept in the store: the same log ingested by each gives
//!   the same pseudonyms;
//! - nothing of the lake, the uploads or the images is left in either data folder, and the
//!   staged upload is gone from the store once ingested.

use crate::common;

use std::time::Duration;

use common::portal::{Browser, Site, csrf_in, pf_lines, whole_image};
use common::walk;
use reqwest::StatusCode;
use secviz_lake::query::QueryOptions;
use secviz_lake::{Lake, Store};
use secviz_testkit::s3::S3Server;

const LOCATION: &str = "s3://shared/secviz";

/// The rows of a trusted query on the lake, as strings.
async fn lake_rows(lake: &Lake, sql: &str) -> Vec<String> {
    let r = lake
        .query(sql, &QueryOptions::operator())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out = Vec::new();
    for b in &r.batches {
        let cols: Vec<_> = b
            .columns()
            .iter()
            .map(|c| {
                secviz_lake::datafusion::arrow::util::display::ArrayFormatter::try_new(
                    c.as_ref(),
                    &Default::default(),
                )
                .unwrap()
            })
            .collect();
        for i in 0..b.num_rows() {
            let row: Vec<String> = cols.iter().map(|f| f.value(i).to_string()).collect();
            out.push(row.join("|"));
        }
    }
    out
}

/// The names of the lake's datasets.
async fn dataset_names(lake: &Lake) -> Vec<String> {
    let all = lake.datasets().await.unwrap();
    all.into_iter().map(|d| d.name.to_string()).collect()
}

/// Files in a data folder's areas that belong on the object store.
fn local_shared_files(data: &std::path::Path) -> Vec<std::path::PathBuf> {
    ["lake/datasets", "staging", "images", "receiving"]
        .iter()
        .flat_map(|area| walk(&data.join(area)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_sharing_only_postgresql_and_s3() {
    let s3 = S3Server::start();
    s3.bucket("shared");
    let env = s3.env();
    let opts = s3.options();
    let opts: Vec<(&str, &str)> = opts.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let site = Site::new(true);
    let data_a = site.data();
    let other = tempfile::tempdir().unwrap();
    let data_b = other.path().join("data");
    let lake_flags = |name: &'static str| ["--instance", name, "--lake", LOCATION];

    // ---- A receives an upload and dies at once (SIGKILL).
    let a = site.start_at(&data_a, &lake_flags("a"), &env);
    let mut ana = Browser::login(&a).await;
    let lines = 50_000;
    let log = pf_lines(0, lines);
    let r = ana
        .add_post(
            &[
                ("title", "Knocks on port 80"),
                ("body", "b"),
                ("data_format", "pf"),
                ("data_year", "2025"),
            ],
            Some(log.clone().into_bytes()),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let draft = r.location;
    a.kill9();

    // ---- B, with a data folder of its own, ingests it from the object store.
    let b = site.start_at(&data_b, &lake_flags("b"), &env);
    ana.base = b.base.clone();
    let page = ana.wait_ready(&draft).await;
    assert!(page.contains(&format!("Ready: {lines} events")), "{page}");
    let jobs = site.sql("SELECT state, owner FROM ingest_jobs");
    assert_eq!(jobs, ["done|b"], "B finished the job A received");

    let lake = Lake::open_with(LOCATION, &opts).unwrap();
    let first = dataset_names(&lake).await;
    assert_eq!(first.len(), 1, "{first:?}");
    let count = format!("SELECT count(*) FROM {}", first[0]);
    assert_eq!(lake_rows(&lake, &count).await, [lines.to_string()]);
    let staging = Store::open_area(LOCATION, &opts, "staging").unwrap();
    assert_eq!(
        staging.list("").await.unwrap(),
        [],
        "the staged upload is removed once ingested"
    );

    // ---- B publishes the picture; A, back, serves it.
    let token = csrf_in(&ana.get(&draft).await.body);
    let fields = Browser::view(&token, "publish", "Knocks on port 80", "7");
    let r = ana.post_form(&draft, &fields).await.unwrap();
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let post = r.location;
    let images = Store::open_area(LOCATION, &opts, "images").unwrap();
    let stored: Vec<String> = images
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.rel)
        .collect();
    assert_eq!(
        stored.len(),
        3,
        "the picture, its thumbnail and the thumbnail for dark pages: {stored:?}"
    );
    assert!(stored[2].ends_with(".thumb-dark"), "{stored:?}");
    let a = site.start_at(&data_a, &lake_flags("a"), &env);
    ana.base = a.base.clone();
    ana.assert_picture_whole(&post).await;
    let (status, bytes) = ana.bytes(&format!("/img/{}", stored[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(whole_image(&bytes));
    let (status, bytes) = ana.bytes(&format!("/img/{}/thumb-dark", stored[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(whole_image(&bytes));

    // ---- The same log through A, with B gone: the same pseudonyms (one shared key).
    drop(b);
    let r = ana
        .add_post(
            &[
                ("title", "The same knocks"),
                ("body", "b"),
                ("data_format", "pf"),
                ("data_year", "2025"),
            ],
            Some(log.into_bytes()),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    ana.wait_ready(&r.location).await;
    let jobs = site.sql("SELECT state, owner FROM ingest_jobs ORDER BY id");
    assert_eq!(jobs, ["done|b", "done|a"]);
    let both = dataset_names(&lake).await;
    let second = both
        .iter()
        .find(|d| !first.contains(d))
        .expect("a second dataset");
    let addresses = |ds: &str| format!("SELECT src_ip, dst_ip FROM {ds} ORDER BY line LIMIT 50");
    let by_b = lake_rows(&lake, &addresses(&first[0])).await;
    let by_a = lake_rows(&lake, &addresses(second)).await;
    assert_eq!(by_b.len(), 50);
    assert_eq!(by_a, by_b, "one key on both instances");
    assert!(
        !by_a.iter().any(|r| r.starts_with("10.0.")),
        "the addresses are anonymized: {by_a:?}"
    );
    let keys = Store::open_area(LOCATION, &opts, "keys").unwrap();
    assert!(keys.get("anonymization.key").await.unwrap().is_some());

    // ---- Nothing of it in either data folder.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for data in [&data_a, &data_b] {
        assert_eq!(local_shared_files(data), Vec::<std::path::PathBuf>::new());
        assert!(!data.join("anonymization.key").exists());
    }
}
