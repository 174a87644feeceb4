//! The files are plain Parquet: DuckDB (from PyPI, installed by
//! scripts/setup-test-env.sh) reads a dataset and gets the same aggregates.

use super::*;

#[tokio::test]
async fn duckdb_reads_the_dataset_and_agrees_with_datafusion() {
    // DuckDB reads the files where they lie: on the local disk (it would fetch an
    // extension from the network to read S3), so this test keeps its lake there.
    let (dir, lake) = local_lake();
    ingest_text(&lake, "pf", "a.log", pf_log(700, 31), pf_options())
        .await
        .unwrap();
    ingest_text(&lake, "pf", "b.log", pf_log(300, 32), pf_options())
        .await
        .unwrap();
    let sql = "SELECT src_ip, count(*) AS n, count(DISTINCT dst_port) AS ports, min(time) AS first, max(line) AS last_line \
               FROM pf GROUP BY src_ip ORDER BY n DESC, src_ip LIMIT 10";
    let ours = rows(&lake, sql).await;
    let glob = dir.path().join("lake/datasets/pf/*/*.parquet");
    let script = format!(
        r#"
import duckdb, sys
con = duckdb.connect()
con.execute("SET TimeZone='UTC'")
q = """{}""".replace("FROM pf", "FROM read_parquet('{}', hive_partitioning=true)")
for r in con.execute(q).fetchall():
    print("|".join([str(r[0]), str(r[1]), str(r[2]), r[3].strftime('%Y-%m-%dT%H:%M:%S.%f'), str(r[4])]))
print("total|" + str(con.execute("SELECT count(*) FROM read_parquet('{}')").fetchone()[0]))
"#,
        sql,
        glob.display(),
        glob.display()
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "DuckDB failed (run scripts/setup-test-env.sh to install it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let duck: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split('|').map(str::to_string).collect())
        .collect();
    assert_eq!(
        duck.last().unwrap(),
        &vec!["total".to_string(), "2000".to_string()]
    );
    assert_eq!(duck.len() - 1, ours.len());
    for (d, o) in duck.iter().zip(&ours) {
        assert_eq!(d[0], o[0]);
        assert_eq!(d[1], o[1]);
        assert_eq!(d[2], o[2]);
        assert_eq!(d[3], o[3].trim_end_matches('Z'), "first time of {}", o[0]);
        assert_eq!(d[4], o[4]);
    }
}
