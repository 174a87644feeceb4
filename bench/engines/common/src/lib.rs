//! Shared query list, timing loop and answer canonicalisation for the
//! engine comparison. Every engine binary hands this a ready
//! `SessionContext` (plain, datafusion-distributed coordinator, or Ballista
//! client) on which the `flows` table is already registered.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::Result;
use datafusion::prelude::{ParquetReadOptions, SessionContext};

/// The same SQL text is sent to all three engines.
pub const QUERIES: [(&str, &str); 5] = [
    (
        "q1_top_talkers",
        "SELECT src_ip, count(*) c FROM flows GROUP BY src_ip ORDER BY c DESC, src_ip LIMIT 10",
    ),
    (
        "q2_pairs",
        "SELECT src_ip, dst_ip, count(*) c, sum(bytes) b FROM flows GROUP BY src_ip, dst_ip ORDER BY c DESC, src_ip, dst_ip LIMIT 10",
    ),
    (
        "q3_distinct",
        "SELECT dst_port, count(DISTINCT src_ip) n FROM flows GROUP BY dst_port ORDER BY n DESC, dst_port LIMIT 10",
    ),
    (
        "q4_per_hour",
        "SELECT date_trunc('hour', ts) h, count(*) FROM flows GROUP BY h ORDER BY h",
    ),
    (
        "q5_filter",
        "SELECT count(*) FROM flows WHERE dst_port = 53 AND bytes > 1000",
    ),
];

/// Registers the Parquet folder as table `flows` (plain DataFusion API; the
/// Ballista client and the datafusion-distributed coordinator use the same call).
pub async fn register_flows(ctx: &SessionContext, dir: &str) -> Result<()> {
    let dir = if dir.ends_with('/') { dir.to_string() } else { format!("{dir}/") };
    ctx.register_parquet("flows", &dir, ParquetReadOptions::default().file_extension(".parquet"))
        .await
}

/// One row per line, cells tab-separated; column names are left out because
/// engines name unaliased aggregates differently.
pub fn canonical(batches: &[RecordBatch]) -> Result<String> {
    let opts = FormatOptions::default().with_null("NULL");
    let mut out = String::new();
    for b in batches {
        let fmts = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for row in 0..b.num_rows() {
            for (i, f) in fmts.iter().enumerate() {
                if i > 0 {
                    out.push('\t');
                }
                write!(out, "{}", f.value(row)).unwrap();
            }
            out.push('\n');
        }
    }
    Ok(out)
}

async fn run_once(ctx: &SessionContext, sql: &str) -> Result<(f64, String)> {
    let t = Instant::now();
    let batches = ctx.sql(sql).await?.collect().await?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    Ok((ms, canonical(&batches)?))
}

/// 1 warm-up + `runs` timed runs per query. Writes `<out>/<engine>.tsv`
/// (query, median_ms, min_ms, max_ms, all runs) and one answer file per query.
pub async fn run_all(ctx: &SessionContext, engine: &str, runs: usize, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out)?;
    let mut tsv = String::from("query\tmedian_ms\tmin_ms\tmax_ms\truns_ms\n");
    for (name, sql) in QUERIES {
        let (_, warm) = run_once(ctx, sql).await?;
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let (ms, ans) = run_once(ctx, sql).await?;
            if ans != warm {
                eprintln!("!!! {engine} {name}: answer changed between runs");
                std::process::exit(3);
            }
            times.push(ms);
        }
        let mut sorted = times.clone();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = sorted[sorted.len() / 2];
        let all = times.iter().map(|t| format!("{t:.1}")).collect::<Vec<_>>().join(",");
        writeln!(tsv, "{name}\t{median:.1}\t{:.1}\t{:.1}\t{all}", sorted[0], sorted[sorted.len() - 1]).unwrap();
        eprintln!("[{engine}] {name}: median {median:.1} ms  ({all})");
        std::fs::write(out.join(format!("{engine}-{name}.txt")), &warm)?;
    }
    std::fs::write(out.join(format!("{engine}.tsv")), tsv)?;
    Ok(())
}

/// `<parquet dir> <out dir> [runs]` from argv after the given offset.
pub fn args_after(skip: usize) -> (String, std::path::PathBuf, usize) {
    let a: Vec<String> = std::env::args().skip(skip).collect();
    let data = a.first().cloned().expect("parquet dir");
    let out = a.get(1).cloned().expect("out dir").into();
    let runs = a.get(2).map(|s| s.parse().expect("runs")).unwrap_or(5);
    (data, out, runs)
}
