//! Ingest, manifests, duplicates, removal and garbage collection.

use secviz_lake::{IngestOptions, IngestSource, LakeError, NO_DAY};

use super::*;

#[tokio::test]
async fn ingest_writes_day_partitions_and_a_complete_manifest() {
    let (_dir, lake) = temp_lake();
    let log = pf_log(500, 1);
    let report = ingest_text(&lake, "pf", "pf.log", log.clone(), pf_options())
        .await
        .unwrap();
    assert_eq!(report.rows, 1000);
    let m = lake.require(&"pf".parse().unwrap()).await.unwrap();
    assert_eq!((m.rows, m.version, m.files.len()), (1000, 1, 2));
    let days: Vec<_> = m.files.iter().map(|f| f.day.clone().unwrap()).collect();
    assert_eq!(days, ["2005-10-21", "2005-10-22"]);
    for f in &m.files {
        assert!(
            f.path
                .starts_with(&format!("day={}/", f.day.as_ref().unwrap()))
        );
        let stored = lake_file(&lake, &format!("datasets/pf/{}", f.path))
            .await
            .unwrap();
        assert_eq!(stored.len() as u64, f.bytes);
        // zstd-compressed Parquet.
        let reader = datafusion::parquet::file::reader::SerializedFileReader::new(stored).unwrap();
        use datafusion::parquet::file::reader::FileReader;
        let col = reader.metadata().row_group(0).column(0).compression();
        assert!(
            matches!(col, datafusion::parquet::basic::Compression::ZSTD(_)),
            "{col:?}"
        );
    }
    // Parse summary with the reject, its line number and reason; parsed + rejected = read.
    let src = &m.ingests[0].sources[0];
    use sha2::Digest;
    assert_eq!(
        src.sha256,
        hex::encode(sha2::Sha256::digest(log.as_bytes()))
    );
    assert_eq!(src.bytes, log.len() as u64);
    assert_eq!(src.format, "pf");
    assert_eq!(
        src.summary.parsed + src.summary.rejected_total(),
        src.summary.read
    );
    assert_eq!(src.summary.rejected_total(), 1);
    assert_eq!(src.rejects[0].line, 501);
    assert!(!src.rejects[0].reason.is_empty());
    assert!(secviz_lake::format_micros(m.time_min_us.unwrap()).starts_with("2005-10-21T06:00:00"));
    assert!(secviz_lake::format_micros(m.time_max_us.unwrap()).starts_with("2005-10-22T06:58:"));
    // The data reads back: per-day counts.
    let per_day = rows(
        &lake,
        "SELECT date_trunc('day', time) AS d, count(*) FROM pf GROUP BY d ORDER BY d",
    )
    .await;
    assert_eq!(per_day.len(), 2);
    assert_eq!(per_day[0][1], "500");
    assert_eq!(per_day[1][1], "500");
    let _ = NO_DAY;
}

#[tokio::test]
async fn the_same_file_twice_is_refused_unless_forced() {
    let (_dir, lake) = temp_lake();
    let log = pf_log(50, 2);
    ingest_text(&lake, "pf", "a.log", log.clone(), pf_options())
        .await
        .unwrap();
    let err = ingest_text(&lake, "pf", "renamed.log", log.clone(), pf_options())
        .await
        .unwrap_err();
    assert!(matches!(err, LakeError::Duplicate { .. }), "{err}");
    assert!(err.to_string().contains("is already in dataset"), "{err}");
    let m = lake.require(&"pf".parse().unwrap()).await.unwrap();
    assert_eq!(
        (m.rows, m.version),
        (100, 1),
        "a refused ingest changes nothing"
    );
    let forced = IngestOptions {
        force: true,
        ..pf_options()
    };
    ingest_text(&lake, "pf", "again.log", log, forced)
        .await
        .unwrap();
    assert_eq!(
        lake.require(&"pf".parse().unwrap()).await.unwrap().rows,
        200
    );

    // Files are refused before parsing, by their hash.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.log");
    std::fs::write(&path, pf_log(10, 3)).unwrap();
    let one = || vec![IngestSource::path(&path)];
    let ds = "files".parse().unwrap();
    lake.ingest(
        &ds,
        one(),
        pf_options(),
        Box::new(|_| {}),
        Box::new(|_, _| {}),
    )
    .await
    .unwrap();
    let again = lake
        .ingest(
            &ds,
            one(),
            pf_options(),
            Box::new(|_| {}),
            Box::new(|_, _| {}),
        )
        .await;
    assert!(matches!(again, Err(LakeError::Duplicate { .. })));
}

#[tokio::test]
async fn progress_and_rejects_reach_the_callbacks() {
    let (_dir, lake) = temp_lake();
    let seen = std::sync::Arc::new(std::sync::Mutex::new((Vec::new(), Vec::new())));
    let (s1, s2) = (seen.clone(), seen.clone());
    let text = pf_log(300, 4);
    let size = text.len() as u64;
    let src = IngestSource::reader("p.log", std::io::Cursor::new(text.into_bytes()), Some(size));
    lake.ingest(
        &"pf".parse().unwrap(),
        vec![src],
        pf_options(),
        Box::new(move |p| s1.lock().unwrap().0.push(p.clone())),
        Box::new(move |name, r| s2.lock().unwrap().1.push((name.to_string(), r.line))),
    )
    .await
    .unwrap();
    let (progress, rejects) = &*seen.lock().unwrap();
    assert_eq!(rejects, &vec![("p.log".to_string(), 301)]);
    let last_parse = progress.iter().rev().find(|p| !p.committing).unwrap();
    assert_eq!(
        (last_parse.bytes_read, last_parse.bytes_total),
        (size, Some(size))
    );
    assert_eq!(
        (last_parse.records, last_parse.events, last_parse.rejected),
        (601, 600, 1)
    );
    assert!(progress.last().unwrap().committing);
}

#[tokio::test]
async fn orphan_files_are_invisible_and_collected_and_rm_removes_everything() {
    let (_dir, lake) = temp_lake();
    ingest_text(&lake, "pf", "a.log", pf_log(100, 5), pf_options())
        .await
        .unwrap();
    let ds = "pf".parse().unwrap();
    let before = lake.require(&ds).await.unwrap();
    // What a killed ingest leaves: a Parquet file the manifest does not name.
    let named = format!("datasets/pf/{}", before.files[0].path);
    let orphan = format!(
        "{}/part-orphan-00000.parquet",
        named.rsplit_once('/').unwrap().0
    );
    let bytes = lake_file(&lake, &named).await.unwrap();
    lake.store().put_atomic(&orphan, bytes).await.unwrap();
    assert_eq!(rows(&lake, "SELECT count(*) FROM pf").await[0][0], "200");
    let gc = lake.gc(&ds).await.unwrap();
    if on_s3() {
        // An object store has no lock: a young unnamed file may be another writer's commit
        // in progress, so it is kept for `GC_GRACE_SECS` (and stays invisible meanwhile).
        assert_eq!(gc.files, 0);
        assert!(lake_file(&lake, &orphan).await.is_some());
        assert_eq!(rows(&lake, "SELECT count(*) FROM pf").await[0][0], "200");
    } else {
        assert_eq!(gc.files, 1);
        assert!(lake_file(&lake, &orphan).await.is_none());
    }
    assert!(lake_file(&lake, &named).await.is_some());
    assert_eq!(lake.require(&ds).await.unwrap(), before);

    let removed = lake.remove(&ds).await.unwrap();
    assert_eq!(removed.rows, 200);
    assert!(lake.manifest(&ds).await.unwrap().is_none());
    assert_eq!(lake.store().list("datasets/pf").await.unwrap(), []);
    assert!(matches!(
        lake.remove(&ds).await,
        Err(LakeError::NotFound(_))
    ));
    assert!(lake.datasets().await.unwrap().is_empty());
}

#[tokio::test]
async fn object_store_lakes_commit_and_query_the_same_way() {
    // memory:// goes through object_store uploads and puts, as S3 would.
    let lake = secviz_lake::Lake::open("memory:///data").unwrap();
    ingest_text(&lake, "pf", "a.log", pf_log(40, 6), pf_options())
        .await
        .unwrap();
    assert_eq!(lake.datasets().await.unwrap().len(), 1);
    assert_eq!(rows(&lake, "SELECT count(*) FROM events").await[0][0], "80");
}
