//! Integration tests of the lake against the real parser, real Parquet files on disk
//! and real DataFusion (one binary, so DataFusion is linked once).

mod analyze;
mod anonymize;
mod duckdb;
mod fuzz;
mod ingest;
mod query;
mod s3;
mod sandbox;

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
        return local_lake();
    }
    let server = secviz_testkit::s3::S3Server::start();
    server.bucket("lake");
    let opts = server.options();
    let opts: Vec<(&str, &str)> = opts.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let lake = Lake::open_with("s3://lake/site", &opts).unwrap();
    let dir = tempfile::tempdir().unwrap();
    (
        TestLake {
            dir,
            _s3: Some(server),
        },
        lake,
    )
}

/// A fresh lake on the local disk, whatever the run: for tests about the local disk itself,
/// or that compare with it, or whose other tool reads only local files (DuckDB).
pub fn local_lake() -> (TestLake, Lake) {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    (TestLake { dir, _s3: None }, lake)
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
    let mut out = Vec::new();
    for b in &r.batches {
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
