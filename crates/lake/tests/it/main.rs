//! Integration tests of the lake against the real parser, real Parquet files on disk
//! and real DataFusion (one binary, so DataFusion is linked once).

mod analyze;
mod anonymize;
mod cluster;
mod duckdb;
mod fuzz;
mod ingest;
mod live;
mod puzzles;
mod query;
mod receiver;
mod s3;
mod sandbox;
mod summaries;

use std::fmt::Write;

use secviz_lake::{IngestOptions, IngestReport, IngestSource, Lake};
use secviz_parse::ParseOptions;

/// A pf log over two days (2005-10-21 and 2005-10-22): `per_day` lines a day, hosts in
/// three /24s, TCP to a few ports and DNS queries, and one line that does not parse.
pub fn pf_log(per_day: usize, seed: u64) -> String {
    let mut out = String::new();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for (day, date) in [(21, "Oct 21"), (22, "Oct 22")] {
        for i in 0..per_day {
            let secs = 6 * 3600 + i as u64 * 7;
            let (h, m, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
            let r = next();
            let src = format!("10.0.{}.{}", r % 3, 1 + r % 50);
            let dst = format!("192.0.2.{}", 1 + (r >> 8) % 20);
            let sport = 1024 + (r >> 16) % 60000;
            let _ = day;
            if r % 4 == 0 {
                writeln!(
                    out,
                    "{date} {h:02}:{m:02}:{s:02}.{:06} rule 57/0(match): pass out on xl1: {src}.{sport} > 198.51.100.53.53: 2520+ A? www.example.com. (33)",
                    r % 1_000_000
                )
                .unwrap();
            } else {
                let port = [80, 443, 22, 25][(r >> 24) as usize % 4];
                writeln!(
                    out,
                    "{date} {h:02}:{m:02}:{s:02}.{:06} rule 12/0(match): block in on xl1: {src}.{sport} > {dst}.{port}: S 1:1(0) win 8192 (DF)",
                    r % 1_000_000
                )
                .unwrap();
            }
        }
        if day == 21 {
            out.push_str("this line is not a pf log line\n");
        }
    }
    out
}

/// Ingest options for the pf fixtures (their year is not in the lines).
pub fn pf_options() -> IngestOptions {
    IngestOptions {
        parse: ParseOptions {
            year: Some(2005),
            ..ParseOptions::default()
        },
        ..IngestOptions::default()
    }
}

/// Ingests `text` under a source name.
pub async fn ingest_text(
    lake: &Lake,
    dataset: &str,
    name: &str,
    text: String,
    opts: IngestOptions,
) -> secviz_lake::Result<IngestReport> {
    let size = text.len() as u64;
    let source = IngestSource::reader(name, std::io::Cursor::new(text.into_bytes()), Some(size));
    lake.ingest(
        &dataset.parse().unwrap(),
        vec![source],
        opts,
        Box::new(|_| {}),
        Box::new(|_, _| {}),
    )
    .await
}

/// The query executor of this test binary, as the portal has one: member work must run
/// on its threads (two slots, member-sized).
pub fn executor() -> &'static secviz_sandbox::Executor {
    static EXECUTOR: std::sync::OnceLock<secviz_sandbox::Executor> = std::sync::OnceLock::new();
    EXECUTOR.get_or_init(|| {
        let mut cfg = secviz_sandbox::ExecutorConfig::for_machine("lake-test-query");
        cfg.slots = 2;
        cfg.per_client = 64;
        cfg.queue = 64;
        cfg.queue_wait = std::time::Duration::from_secs(120);
        secviz_sandbox::Executor::new(cfg)
    })
}

/// Runs `sql` as a member would: on the executor, its job limited like the query.
pub async fn member_query(
    lake: &Lake,
    sql: &str,
    opts: &secviz_lake::query::QueryOptions,
) -> Result<secviz_lake::query::QueryResult, secviz_lake::query::QueryError> {
    let limits = secviz_sandbox::JobLimits {
        time: opts
            .limits
            .timeout
            .unwrap_or(std::time::Duration::from_secs(600)),
        memory: opts.limits.memory_bytes.unwrap_or(usize::MAX / 2),
    };
    let (lake, sql, opts) = (lake.clone(), sql.to_string(), opts.clone());
    let ex = executor();
    ex.run(ex.admit("test").unwrap(), limits, move || async move {
        lake.query(&sql, &opts).await
    })
    .await
    .unwrap_or_else(|e| {
        Err(secviz_lake::query::QueryError::new(
            match e {
                secviz_sandbox::RunError::Exceeded(secviz_sandbox::Exceeded::Time { .. }) => {
                    secviz_lake::query::QueryErrorKind::Limit(secviz_lake::query::Limit::Time)
                }
                _ => secviz_lake::query::QueryErrorKind::Internal,
            },
            e.to_string(),
        ))
    })
}

/// What a test's lake lives in: a scratch folder (for files a test writes beside the lake,
/// such as keys and logs) and, when the suite runs on S3, the test's own S3 server. Kept
/// alive as long as the lake is used.
pub struct TestLake {
    dir: tempfile::TempDir,
    _s3: Option<secviz_testkit::s3::S3Server>,
    _workers: Option<Workers>,
}

impl TestLake {
    /// The scratch folder; on a local lake, the lake is its `lake/` folder.
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// Whether this run of the suite keeps its lakes on a real S3-compatible server:
/// `SECVIZ_TEST_LAKE=s3`, as scripts/test.sh runs the suite a second time. Anything else
/// (or nothing) is the local disk.
pub fn on_s3() -> bool {
    std::env::var("SECVIZ_TEST_LAKE").is_ok_and(|v| v == "s3")
}

/// A fresh lake: in a temporary directory, or in a bucket of a moto server started for this
/// test when the suite runs on S3 ([`on_s3`]). Tests look at the lake's files only through
/// its [`secviz_lake::Store`], so they check the same things in both places.
pub fn temp_lake() -> (TestLake, Lake) {
    if !on_s3() {
        let (mut t, lake) = local_lake();
        let lake = match test_workers() {
            0 => lake,
            n => {
                let (w, cluster) = Workers::start(&lake, n, WORKER_MAX_TIME);
                t._workers = Some(w);
                lake.with_cluster(cluster)
            }
        };
        return (t, lake);
    }
    let server = secviz_testkit::s3::S3Server::start();
    server.bucket("lake");
    let opts = server.options();
    let opts: Vec<(&str, &str)> = opts.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let lake = Lake::open_with("s3://lake/site", &opts).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (workers, lake) = match test_workers() {
        0 => (None, lake),
        n => {
            let (w, cluster) = Workers::start(&lake, n, WORKER_MAX_TIME);
            (Some(w), lake.with_cluster(cluster))
        }
    };
    (
        TestLake {
            dir,
            _s3: Some(server),
            _workers: workers,
        },
        lake,
    )
}

/// A fresh lake on the local disk, whatever the run: for tests about the local disk itself,
/// or that compare with it, or whose other tool reads only local files (DuckDB).
pub fn local_lake() -> (TestLake, Lake) {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    (
        TestLake {
            dir,
            _s3: None,
            _workers: None,
        },
        lake,
    )
}

/// How many query workers the suite's lakes use: `SECVIZ_TEST_WORKERS=N`, as
/// scripts/test.sh runs the suite a third time (with 2). 0 (the default): queries run in
/// the test's own process.
pub fn test_workers() -> usize {
    std::env::var("SECVIZ_TEST_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The secret of the test clusters.
pub const TEST_SECRET: &str = "test-secret-0123456789";

/// What the suite's workers let a task run.
pub const WORKER_MAX_TIME: std::time::Duration = std::time::Duration::from_secs(120);

/// Real `secviz worker` servers (the library's [`secviz_lake::cluster::worker::serve`]) on
/// 127.0.0.1, on a runtime of their own, reading the same lake. Stopped when dropped.
pub struct Workers {
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
    pub urls: Vec<url::Url>,
}

impl Workers {
    /// `n` workers, and a cluster of them whose tasks read a few KiB each, so that even the
    /// suite's small datasets are spread over the workers.
    pub fn start(
        lake: &Lake,
        n: usize,
        max_time: std::time::Duration,
    ) -> (Workers, secviz_lake::cluster::Cluster) {
        let w = Workers::start_with_secret(lake, n, max_time, TEST_SECRET);
        let secret = secviz_lake::cluster::WorkerSecret::new(TEST_SECRET).unwrap();
        let cluster = secviz_lake::cluster::Cluster::new(w.urls.clone(), secret)
            .unwrap()
            .with_bytes_per_partition(4096);
        (w, cluster)
    }

    pub fn start_with_secret(
        lake: &Lake,
        n: usize,
        max_time: std::time::Duration,
        secret: &str,
    ) -> Workers {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let (tx, rx) = std::sync::mpsc::channel();
        let lake = lake.clone();
        let secret = secviz_lake::cluster::WorkerSecret::new(secret).unwrap();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            // Stopping drops the runtime, and with it every connection: a graceful stop
            // would wait for the coordinators' idle connections to close.
            rt.block_on(async move {
                for _ in 0..n {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                    tx.send(listener.local_addr().unwrap()).unwrap();
                    let config = secviz_lake::cluster::worker::WorkerConfig {
                        secret: secret.clone(),
                        max_time,
                        max_memory: 1 << 30,
                    };
                    let lake = lake.clone();
                    tokio::spawn(async move {
                        secviz_lake::cluster::worker::serve(
                            listener,
                            &lake,
                            config,
                            std::future::pending(),
                        )
                        .await
                        .unwrap();
                    });
                }
                let mut stopped = stopped;
                let _ = stopped.wait_for(|s| *s).await;
            });
            rt.shutdown_timeout(std::time::Duration::from_secs(1));
        });
        let urls = (0..n)
            .map(|_| {
                let addr = rx.recv().unwrap();
                url::Url::parse(&format!("http://{addr}")).unwrap()
            })
            .collect();
        Workers {
            stop: Some(stop),
            thread: Some(thread),
            urls,
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(true);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The bytes of a file of the lake (`datasets/<name>/...`), wherever the lake lives.
pub async fn lake_file(lake: &Lake, rel: &str) -> Option<bytes::Bytes> {
    lake.store().get(rel).await.unwrap()
}

/// Runs trusted SQL as the operator and returns the rows as strings (CSV-ish).
pub async fn rows(lake: &Lake, sql: &str) -> Vec<Vec<String>> {
    let r = lake
        .query(sql, &secviz_lake::query::QueryOptions::operator())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    batch_rows(&r.batches)
}

/// The rows of `batches` as strings (CSV-ish).
pub fn batch_rows(batches: &[datafusion::arrow::record_batch::RecordBatch]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for b in batches {
        let cols: Vec<_> = b
            .columns()
            .iter()
            .map(|c| {
                datafusion::arrow::util::display::ArrayFormatter::try_new(
                    c.as_ref(),
                    &Default::default(),
                )
                .unwrap()
            })
            .collect();
        for i in 0..b.num_rows() {
            out.push(cols.iter().map(|f| f.value(i).to_string()).collect());
        }
    }
    out
}
