//! Lake benchmark driver (run by `bench/lake/run.sh`, which also runs DuckDB on the same
//! files and measures peak RSS):
//!
//! - `lake ingest DATA DATASET FILE [--no-summaries]`: ingests FILE, prints
//!   `ingest_rows_per_s <n>` (without writing the summaries beside the files: what they
//!   cost).
//! - `lake analyses DATA DATASET REPS [--rows] [NAME...]`: runs each built-in analysis
//!   (default parameters) REPS times in one process, each run a whole `Lake::analyze`
//!   (reading the manifests and summaries included), and prints
//!   `analysis <name> <median wall s> <median CPU s> read=<summaries|rows> findings=<n>
//!   first=<wall s of the first run>` (each analysis opens the lake anew: its first run
//!   reads and merges the summaries' tables it needs, later runs find the merge kept);
//!   with `--rows`, from the raw rows only.
//! - `lake queries DATA DATASET REPS [SQL...]`: runs each benchmark query (or each SQL
//!   given, `{t}` for the table) REPS times in one process (the way `secviz query` runs
//!   it: one `Lake::query` per run, planning included) and prints
//!   `query <name> <median wall s> <median CPU s> rows=<n>`.
//!
//! CPU time (user + system, all threads, from `getrusage`) is printed beside wall time
//! because the benchmark machine is shared: wall time measures the neighbours' load as
//! much as our code.

use std::time::Instant;

use secviz_lake::analyze::{ANALYSES, Params, Read};
use secviz_lake::query::{Access, QueryLimits, QueryOptions};
use secviz_lake::{DatasetName, IngestOptions, IngestSource, Lake};

/// The benchmark queries; `{t}` is the table. The DuckDB side of the script uses the same
/// text with `{t}` replaced by its `read_parquet(...)`.
pub const QUERIES: &[(&str, &str)] = &[
    (
        "top_talkers",
        "SELECT src_ip, count(*) AS n, sum(bytes) AS b FROM {t} GROUP BY src_ip ORDER BY n DESC, src_ip LIMIT 10",
    ),
    (
        "per_hour",
        "SELECT date_trunc('hour', time) AS h, count(*) AS n FROM {t} GROUP BY h ORDER BY h",
    ),
    (
        "fan_out",
        "SELECT src_ip, count(DISTINCT dst_ip) AS d, count(DISTINCT dst_port) AS p FROM {t} GROUP BY src_ip ORDER BY d DESC, p DESC, src_ip LIMIT 10",
    ),
    (
        "src_dst_top100",
        "SELECT src_ip, dst_ip, count(*) AS n FROM {t} GROUP BY src_ip, dst_ip ORDER BY n DESC, src_ip, dst_ip LIMIT 100",
    ),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["ingest", data, dataset, file, flags @ ..] => {
            let lake = Lake::open(data)?;
            let write = secviz_lake::WriteOptions {
                summaries: !flags.contains(&"--no-summaries"),
                ..Default::default()
            };
            let name: DatasetName = dataset.parse()?;
            let started = Instant::now();
            let cpu0 = cpu_seconds();
            let report = rt.block_on(lake.ingest(
                &name,
                vec![IngestSource::path(file)],
                IngestOptions {
                    force: true,
                    write,
                    ..IngestOptions::default()
                },
                Box::new(|_| {}),
                Box::new(|_, _| {}),
            ))?;
            let secs = started.elapsed().as_secs_f64();
            println!("ingest_rows {}", report.rows);
            println!("ingest_seconds {secs:.3}");
            println!("ingest_cpu_seconds {:.3}", cpu_seconds() - cpu0);
            println!("ingest_rows_per_s {:.0}", report.rows as f64 / secs);
            println!("ingest_bytes {}", report.bytes);
        }
        ["queries", data, dataset, reps, rest @ ..] => {
            let lake = Lake::open(data)?;
            let reps: usize = reps.parse()?;
            // Extra arguments are SQL to time instead of the benchmark queries (profiling).
            let own: Vec<(&str, &str)> = rest.iter().map(|s| ("sql", *s)).collect();
            let queries = if own.is_empty() { QUERIES } else { own.as_slice() };
            for (name, sql) in queries {
                let sql = sql.replace("{t}", dataset);
                let mut times = Vec::with_capacity(reps);
                let mut cpus = Vec::with_capacity(reps);
                let mut rows = 0;
                for _ in 0..reps {
                    let started = Instant::now();
                    let cpu0 = cpu_seconds();
                    let r = rt.block_on(lake.query(&sql, &QueryOptions::operator()))?;
                    times.push(started.elapsed().as_secs_f64());
                    cpus.push(cpu_seconds() - cpu0);
                    rows = r.rows;
                }
                println!(
                    "query {name} {:.4} {:.4} rows={rows}",
                    median(&mut times),
                    median(&mut cpus)
                );
            }
        }
        ["analyses", data, dataset, reps, rest @ ..] => {
            // Each analysis starts with a lake of its own (nothing merged yet), as in a new
            // process: its first run reads and merges the summaries' tables it needs.
            let open = || -> Result<Lake, Box<dyn std::error::Error>> {
                let lake = Lake::open(data)?;
                Ok(if rest.contains(&"--rows") {
                    lake.reading_rows()
                } else {
                    lake
                })
            };
            let reps: usize = reps.parse()?;
            let names: Vec<&str> = rest.iter().copied().filter(|a| *a != "--rows").collect();
            let access = Access::Only(vec![dataset.parse()?]);
            let limits = QueryLimits::unlimited();
            for spec in ANALYSES {
                if !names.is_empty() && !names.contains(&spec.name) {
                    continue;
                }
                let lake = open()?;
                let mut times = Vec::with_capacity(reps);
                let mut cpus = Vec::with_capacity(reps);
                let mut last = None;
                for _ in 0..reps {
                    let started = Instant::now();
                    let cpu0 = cpu_seconds();
                    let r = rt.block_on(lake.analyze(
                        &access,
                        spec.name,
                        &Params::default(),
                        &limits,
                    ))?;
                    times.push(started.elapsed().as_secs_f64());
                    cpus.push(cpu_seconds() - cpu0);
                    last = Some(r);
                }
                let r = last.ok_or("REPS must be at least 1")?;
                // The first run merges the summaries; the later ones find the merge kept.
                let first = times[0];
                println!(
                    "analysis {} {:.4} {:.4} read={} findings={} first={first:.4}",
                    spec.name,
                    median(&mut times),
                    median(&mut cpus),
                    if r.not_run.is_some() {
                        "not_run"
                    } else if r.read == Read::Summaries {
                        "summaries"
                    } else {
                        "rows"
                    },
                    r.findings.len()
                );
                if let Some(dir) = std::env::var_os("ANALYSES_JSON") {
                    let path = std::path::Path::new(&dir).join(format!("{}.json", spec.name));
                    std::fs::write(path, serde_json::to_vec(&r.findings)?)?;
                }
            }
        }
        ["sql", name] => {
            // The SQL of one query, for the DuckDB side.
            let sql = QUERIES
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, s)| *s)
                .ok_or("no such query")?;
            println!("{sql}");
        }
        _ => return Err(
            "usage: lake ingest DATA DATASET FILE [--no-summaries] | lake analyses DATA DATASET REPS [--rows] [NAME...] | lake queries DATA DATASET REPS [SQL...] | lake sql NAME"
                .into(),
        ),
    }
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// User + system CPU seconds of this process, all threads.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage only writes the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(u.ru_utime) + tv(u.ru_stime)
}
