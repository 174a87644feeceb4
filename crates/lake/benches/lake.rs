//! Lake benchmark driver (run by `bench/lake/run.sh`, which also runs DuckDB on the same
//! files and measures peak RSS):
//!
//! - `lake ingest DATA DATASET FILE`: ingests FILE, prints `ingest_rows_per_s <n>`.
//! - `lake queries DATA DATASET REPS`: runs each benchmark query REPS times in one
//!   process and prints `query <name> <median seconds>`.

use std::time::Instant;

use secviz_lake::query::QueryOptions;
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
        ["ingest", data, dataset, file] => {
            let lake = Lake::open(data)?;
            let name: DatasetName = dataset.parse()?;
            let started = Instant::now();
            let report = rt.block_on(lake.ingest(
                &name,
                vec![IngestSource::path(file)],
                IngestOptions {
                    force: true,
                    ..IngestOptions::default()
                },
                Box::new(|_| {}),
                Box::new(|_, _| {}),
            ))?;
            let secs = started.elapsed().as_secs_f64();
            println!("ingest_rows {}", report.rows);
            println!("ingest_seconds {secs:.3}");
            println!("ingest_rows_per_s {:.0}", report.rows as f64 / secs);
            println!("ingest_bytes {}", report.bytes);
        }
        ["queries", data, dataset, reps] => {
            let lake = Lake::open(data)?;
            let reps: usize = reps.parse()?;
            for (name, sql) in QUERIES {
                let sql = sql.replace("{t}", dataset);
                let mut times = Vec::with_capacity(reps);
                let mut rows = 0;
                for _ in 0..reps {
                    let started = Instant::now();
                    let r = rt.block_on(lake.query(&sql, &QueryOptions::operator()))?;
                    times.push(started.elapsed().as_secs_f64());
                    rows = r.rows;
                }
                times.sort_by(f64::total_cmp);
                println!("query {name} {:.4} rows={rows}", times[times.len() / 2]);
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
            "usage: lake ingest DATA DATASET FILE | lake queries DATA DATASET REPS | lake sql NAME"
                .into(),
        ),
    }
    Ok(())
}
