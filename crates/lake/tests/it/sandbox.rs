//! Members' SQL in the sandbox: hostile queries end within their limits with the limit
//! named, ordinary ones give the operator's answers, and nothing runs off an executor.

use std::time::{Duration, Instant};

use secviz_lake::query::{Limit, QueryErrorKind, QueryLimits, QueryOptions};

use super::*;

async fn alpha() -> (TestLake, Lake) {
    let (dir, lake) = temp_lake();
    ingest_text(&lake, "alpha", "a.log", pf_log(200, 11), pf_options())
        .await
        .unwrap();
    (dir, lake)
}

fn member(time: Duration, memory: usize) -> QueryOptions {
    QueryOptions {
        limits: QueryLimits::member_with(time, memory),
        ..QueryOptions::member(vec!["alpha".parse().unwrap()])
    }
}

#[tokio::test]
async fn member_work_outside_the_executor_is_refused() {
    let (_d, lake) = alpha().await;
    let e = lake
        .query("SELECT 1", &QueryOptions::member(vec![]))
        .await
        .unwrap_err();
    assert_eq!(e.kind, QueryErrorKind::Internal, "{e}");
}

/// Doubling `raw` through `levels` nested subqueries: each twice the text of the one below.
fn doubling(levels: usize) -> String {
    format!(
        "SELECT length(x) FROM {}(SELECT raw AS x FROM alpha) t{}",
        "(SELECT x || x AS x FROM ".repeat(levels),
        ") t".repeat(levels)
    )
}

#[tokio::test]
async fn hostile_queries_end_within_their_limits_and_name_them() {
    let (_d, lake) = alpha().await;
    let opts = member(Duration::from_secs(2), 64 << 20);
    let depth = QueryErrorKind::Limit(Limit::ExpressionDepth);
    let memory = QueryErrorKind::Limit(Limit::Memory);
    let estimated = QueryErrorKind::Limit(Limit::EstimatedRows);
    let cases: Vec<(String, Vec<QueryErrorKind>)> = vec![
        (format!("SELECT {}1", "1+".repeat(5_000)), vec![depth]),
        (
            format!("SELECT * FROM alpha WHERE {}", vec!["dst_port = 1"; 3_000].join(" OR ")),
            vec![depth],
        ),
        (
            format!("SELECT {}1{}", "(".repeat(400), ")".repeat(400)),
            vec![depth, QueryErrorKind::Syntax],
        ),
        (
            "SELECT count(*) FROM alpha a, alpha b, alpha c, alpha d".into(),
            vec![estimated],
        ),
        (
            "SELECT count(*) FROM alpha a JOIN alpha b ON a.src_ip < b.src_ip JOIN alpha c ON b.src_ip < c.src_ip JOIN alpha d ON c.src_ip < d.src_ip".into(),
            vec![estimated],
        ),
        ("SELECT count(*) FROM generate_series(1, 1000000000000)".into(), vec![estimated]),
        ("SELECT repeat('x', 1000000000)".into(), vec![memory]),
        ("SELECT max(length(repeat(raw, 100000))) FROM alpha".into(), vec![memory]),
        ("SELECT lpad('x', 2000000000)".into(), vec![memory]),
        ("SELECT rpad(raw, 100000000) FROM alpha".into(), vec![memory]),
        (doubling(24), vec![memory]),
        (
            "SELECT replace(raw, ' ', repeat('y', 60000)) FROM alpha".into(),
            vec![memory],
        ),
        (
            "SELECT length(regexp_replace(repeat(raw, 100), '.', '$0$0$0$0', 'g')) FROM alpha".into(),
            vec![memory],
        ),
        ("SELECT unnest(range(1, 100000000))".into(), vec![memory]),
        ("SELECT cardinality(array_repeat(raw, 10000000)) FROM alpha".into(), vec![memory]),
        (
            "SELECT length(string_agg(raw, repeat('x', 10000000))) FROM alpha".into(),
            vec![QueryErrorKind::Forbidden],
        ),
        (
            "SELECT length(string_agg(repeat(raw, 20000), ',')) FROM alpha".into(),
            vec![memory],
        ),
        (
            "SELECT length(CAST(array_agg(raw) AS VARCHAR)) FROM (SELECT repeat(raw, 2000) AS raw FROM alpha)".into(),
            vec![memory],
        ),
        (
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r".into(),
            vec![QueryErrorKind::Forbidden],
        ),
        ("SELECT input_file_name() FROM alpha".into(), vec![QueryErrorKind::Forbidden]),
        ("SELECT version()".into(), vec![QueryErrorKind::Forbidden]),
        ("SELECT count(*) FROM alpha WHERE raw LIKE src_ip".into(), vec![QueryErrorKind::Forbidden]),
        (
            "SELECT count(*) FROM alpha WHERE regexp_like(raw, src_ip)".into(),
            vec![QueryErrorKind::Forbidden],
        ),
        (
            "SELECT array_transform([1, 2], x -> x * 2)".into(),
            vec![QueryErrorKind::Forbidden, QueryErrorKind::Plan],
        ),
        (
            "SELECT sum(value % 13) FROM generate_series(1, 300000000)".into(),
            vec![QueryErrorKind::Limit(Limit::Time)],
        ),
        (
            "SELECT count(*) FROM alpha a JOIN alpha b ON a.action = b.action JOIN alpha c ON b.action = c.action JOIN alpha d ON c.action = d.action".into(),
            vec![QueryErrorKind::Limit(Limit::Time), estimated, memory],
        ),
    ];
    for (sql, kinds) in cases {
        let started = Instant::now();
        let e = member_query(&lake, &sql, &opts)
            .await
            .err()
            .unwrap_or_else(|| panic!("ran: {}", &sql[..sql.len().min(200)]));
        let took = started.elapsed();
        assert!(
            kinds.contains(&e.kind),
            "{}: {:?} {e}",
            &sql[..sql.len().min(200)],
            e.kind
        );
        // Within the time limit plus a generous margin for a debug build on a busy machine.
        assert!(
            took < Duration::from_secs(6),
            "{}: took {took:?}",
            &sql[..sql.len().min(200)]
        );
        // Messages speak to people: no Rust names, and the limit is named.
        let m = e.public_message();
        assert!(
            !m.contains("DataFusionError") && !m.contains("External("),
            "{m}"
        );
    }
    // The lake still answers.
    let r = member_query(&lake, "SELECT count(*) FROM alpha", &opts)
        .await
        .unwrap();
    assert_eq!(r.rows, 1);
}

#[tokio::test]
async fn ordinary_member_queries_give_the_operators_answers() {
    let (_d, lake) = alpha().await;
    let opts = member(Duration::from_secs(30), 256 << 20);
    for sql in [
        "SELECT src_ip, count(*) AS n, sum(bytes) FROM alpha GROUP BY src_ip ORDER BY n DESC, src_ip LIMIT 10",
        "SELECT ip_prefix(src_ip, 24) AS net, count(DISTINCT dst_port) FROM alpha GROUP BY net ORDER BY net",
        "SELECT date_trunc('hour', time) AS h, count(*) FROM alpha GROUP BY h ORDER BY h",
        "SELECT upper(action) || ':' || CAST(dst_port AS VARCHAR) AS k, count(*) FROM alpha GROUP BY k ORDER BY k",
        "SELECT a.src_ip, count(*) FROM alpha a JOIN alpha b ON a.src_ip = b.src_ip AND a.dst_port = b.dst_port GROUP BY 1 ORDER BY 1",
        "SELECT count(*) FROM alpha WHERE raw LIKE '%block%' AND regexp_like(raw, 'rule [0-9]+')",
        "SELECT split_part(src_ip, '.', 1), string_agg(action, ',' ORDER BY action, line) FROM alpha GROUP BY 1 ORDER BY 1",
        "SELECT count(*) FROM generate_series(1, 1000) t(v) WHERE v % 7 = 0",
    ] {
        let mine = member_query(&lake, sql, &opts)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let theirs = lake.query(sql, &QueryOptions::operator()).await.unwrap();
        let text = |b: &[datafusion::arrow::record_batch::RecordBatch]| {
            datafusion::arrow::util::pretty::pretty_format_batches(b)
                .unwrap()
                .to_string()
        };
        assert_eq!(text(&mine.batches), text(&theirs.batches), "{sql}");
        assert!(mine.rows > 0, "{sql}");
    }
}

/// Found by the SQL fuzzer: both panicked inside DataFusion 55.
#[tokio::test]
async fn queries_that_panicked_inside_datafusion_are_answered() {
    let (_d, lake) = alpha().await;
    let opts = member(Duration::from_secs(30), 256 << 20);
    let r = member_query(&lake, "SELECT rpad(raw, -1, raw) AS p FROM alpha", &opts)
        .await
        .unwrap();
    assert_eq!(r.rows, 400);
    let col = r.batches[0].column(0);
    let s = datafusion::arrow::util::display::array_value_to_string(col, 0).unwrap();
    assert_eq!(s, "", "a negative length pads to nothing");
    let sql =
        "SELECT src_port, count(*) FROM alpha GROUP BY 1 ORDER BY 1 LIMIT 9223372036854775807";
    let mine = member_query(&lake, sql, &opts).await.unwrap();
    let all = member_query(
        &lake,
        "SELECT count(DISTINCT src_port) AS n FROM alpha",
        &opts,
    )
    .await
    .unwrap();
    let n = datafusion::arrow::util::display::array_value_to_string(all.batches[0].column(0), 0)
        .unwrap();
    assert_eq!(mine.rows.to_string(), n);
}

#[tokio::test]
async fn every_analysis_runs_in_the_sandbox_with_the_operators_findings() {
    use secviz_lake::analyze::{ANALYSES, Params};
    let (_d, lake) = alpha().await;
    let access = secviz_lake::query::Access::Only(vec!["alpha".parse().unwrap()]);
    for a in ANALYSES {
        let theirs = lake
            .analyze(
                &access,
                a.name,
                &Params::default(),
                &QueryLimits::unlimited(),
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", a.name));
        let (l, acc) = (lake.clone(), access.clone());
        let name = a.name;
        let ex = executor();
        let mine = ex
            .run(
                ex.admit("analyses").unwrap(),
                secviz_sandbox::JobLimits {
                    time: Duration::from_secs(60),
                    memory: 512 << 20,
                },
                move || async move {
                    l.analyze(&acc, name, &Params::default(), &QueryLimits::member())
                        .await
                        .map_err(|e| e.to_string())
                },
            )
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{name} in the sandbox: {e}"));
        assert_eq!(
            format!("{:?}", mine.findings),
            format!("{:?}", theirs.findings),
            "{name}"
        );
    }
}

/// CPU time (user + system) of one thread, in clock ticks.
fn thread_cpu(tid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the whole line are 12 and 13 after the command.
    f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

#[tokio::test]
async fn a_stopped_query_stops_using_the_cpu_within_a_second() {
    let (_d, lake) = alpha().await;
    let mut cfg = secviz_sandbox::ExecutorConfig::for_machine("lake-test-cpu");
    cfg.slots = 1;
    let ex = secviz_sandbox::Executor::new(cfg);
    let tid = ex.thread_ids()[0];
    let opts = member(Duration::from_secs(1), 256 << 20);
    // A join whose work stays under the estimate but needs far longer than a second.
    let sql = "SELECT count(*) FROM alpha a JOIN alpha b ON a.action = b.action JOIN alpha c ON b.action = c.action WHERE a.src_port + b.src_port + c.src_port > 0";
    let (l, o) = (lake.clone(), opts.clone());
    let r = ex
        .run(
            ex.admit("cpu").unwrap(),
            secviz_sandbox::JobLimits {
                time: Duration::from_secs(1),
                memory: 256 << 20,
            },
            move || async move { l.query(sql, &o).await },
        )
        .await;
    let e = match r {
        Ok(Err(e)) => e.kind,
        Ok(Ok(_)) => panic!("the query finished within a second"),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(e, QueryErrorKind::Limit(Limit::Time));
    let at_answer = thread_cpu(tid);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let a_second_later = thread_cpu(tid);
    assert!(
        a_second_later - at_answer <= 10,
        "the query thread used {} ticks after its answer",
        a_second_later - at_answer
    );
}
