//! The lake commands end to end through the real binary: ingest with a summary and
//! rejects, query in every format and its errors, datasets, analyze, rm.

use crate::common::{ok, secviz_in as secviz};

const PF: &str = "\
Oct 21 06:06:58.096785 rule 57/0(match): pass in on xl1: 195.141.69.45.1030 > 61.215.160.253.53: 2520+ A? www.example.com. (33) (DF)
Oct 21 06:07:01.000001 rule 12/0(match): block in on xl1: 195.141.69.46.2000 > 61.215.160.1.80: S 1:1(0) win 8192 (DF)
not a pf line
Oct 22 01:00:00.500000 rule 12/0(match): block in on xl1: 10.1.1.1.2000 > 61.215.160.2.445: S 1:1(0) win 8192
";

#[test]
fn ingest_query_datasets_analyze_rm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let log = data.join("pf.log");
    std::fs::write(&log, PF).unwrap();
    let rejects = data.join("rejects.jsonl");
    let out = secviz(
        data,
        &[
            "ingest",
            log.to_str().unwrap(),
            "--dataset",
            "fw",
            "--year",
            "2005",
            "--rejects",
            rejects.to_str().unwrap(),
        ],
    );
    let text = ok(out);
    assert!(text.contains("ingested 3 events"), "{text}");
    assert!(text.contains("read 4 parsed 3 rejected 1"), "{text}");
    let rj = std::fs::read_to_string(&rejects).unwrap();
    let first: serde_json::Value = serde_json::from_str(rj.lines().next().unwrap()).unwrap();
    assert_eq!(first["line"], 3);

    // Same file again: refused by hash, and nothing changes.
    let again = secviz(
        data,
        &[
            "ingest",
            log.to_str().unwrap(),
            "--dataset",
            "fw",
            "--year",
            "2005",
        ],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

    let csv = ok(secviz(
        data,
        &[
            "query",
            "-f",
            "csv",
            "SELECT src_ip, dst_port FROM fw ORDER BY time",
        ],
    ));
    assert_eq!(
        csv,
        "src_ip,dst_port\n195.141.69.45,53\n195.141.69.46,80\n10.1.1.1,445\n"
    );
    let json = ok(secviz(
        data,
        &["query", "-f", "json", "SELECT count(*) AS n FROM events"],
    ));
    assert_eq!(json.trim(), "{\"n\":3}");
    let table = ok(secviz(
        data,
        &[
            "query",
            "SELECT dataset, count(*) AS n FROM events GROUP BY dataset",
        ],
    ));
    assert!(table.contains("| fw      | 3 |"), "{table}");
    let pq = data.join("out.parquet");
    ok(secviz(
        data,
        &[
            "query",
            "-f",
            "parquet",
            "-o",
            pq.to_str().unwrap(),
            "SELECT * FROM fw",
        ],
    ));
    assert_eq!(&std::fs::read(&pq).unwrap()[..4], b"PAR1");

    // Errors: message, position and caret; exit status 1; never a panic.
    let bad = secviz(data, &["query", "SELECT nope FROM fw"]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("nope") && err.contains("line 1, column 8") && err.contains("       ^"),
        "{err}"
    );
    let bad = secviz(data, &["query", "DELETE FROM fw"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not allowed"));

    let list = ok(secviz(data, &["datasets"]));
    assert!(list.lines().nth(1).unwrap().starts_with("fw "), "{list}");
    let detail = ok(secviz(data, &["datasets", "fw"]));
    assert!(
        detail.contains("sha256") && detail.contains("line 3:"),
        "{detail}"
    );

    let findings = ok(secviz(data, &["analyze", "--dataset", "fw"]));
    assert!(findings.contains("top-talkers"), "{findings}");
    // A pf log has no login outcomes: the analysis says so instead of finding nothing.
    assert!(
        findings.contains("not run: password-guessing") && findings.contains("login outcomes"),
        "{findings}"
    );
    let one_not_run = secviz(data, &["analyze", "password-guessing", "--dataset", "fw"]);
    assert!(!one_not_run.status.success());
    assert!(
        String::from_utf8_lossy(&one_not_run.stdout).contains("It needs login outcomes"),
        "{one_not_run:?}"
    );
    let one = ok(secviz(
        data,
        &[
            "analyze",
            "top-ports",
            "--dataset",
            "fw",
            "--param",
            "limit=1",
            "--json",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["findings"][0]["focus"]["values"]["dst_port"], "53");
    // Answered from the summaries written with the data; --rows reads the events, with the
    // same answer.
    assert_eq!(v["read"], "summaries");
    let by_rows = ok(secviz(
        data,
        &[
            "analyze",
            "top-ports",
            "--dataset",
            "fw",
            "--param",
            "limit=1",
            "--json",
            "--rows",
        ],
    ));
    let r: serde_json::Value = serde_json::from_str(&by_rows).unwrap();
    assert_eq!(r["read"], "rows");
    assert_eq!(r["findings"], v["findings"]);
    assert!(
        ok(secviz(data, &["analyze", "top-talkers", "--dataset", "fw"]))
            .contains("answered from the summaries kept beside the data"),
    );

    assert!(ok(secviz(data, &["rm", "fw"])).contains("removed dataset fw (3 rows"));
    assert!(!secviz(data, &["rm", "fw"]).status.success());
    assert!(!data.join("lake/datasets/fw").exists());
}
