//! Queries across workers (`secviz worker`, datafusion-distributed): the same answers as in
//! one process, the plan really cut into stages that the workers run, members' queries
//! kept in the coordinator's sandbox, the workers' own limits, and clear failures (a wrong secret, a worker gone, a task's time limit)
//! instead of hangs.

use std::time::Duration;

use secviz_lake::query::{QueryErrorKind, QueryLimits, QueryOptions};

use super::*;

/// A lake with two datasets on the local disk, and the same lake across two workers.
async fn lakes() -> (TestLake, Lake, Workers, Lake) {
    let (dir, lake) = local_lake();
    ingest_text(&lake, "alpha", "a.log", pf_log(3000, 21), pf_options())
        .await
        .unwrap();
    ingest_text(&lake, "beta", "b.log", pf_log(1000, 22), pf_options())
        .await
        .unwrap();
    let (workers, cluster) = Workers::start(&lake, 2, WORKER_MAX_TIME);
    let spread = lake.clone().with_cluster(cluster);
    (dir, lake, workers, spread)
}

/// Questions the portal and the analyses ask, with the lake's own functions in them.
const QUESTIONS: &[&str] = &[
    "SELECT src_ip, count(*) AS n FROM alpha GROUP BY src_ip ORDER BY n DESC, src_ip LIMIT 10",
    "SELECT src_ip, dst_ip, count(*) AS n, sum(bytes) AS b FROM alpha GROUP BY src_ip, dst_ip ORDER BY n DESC, src_ip, dst_ip LIMIT 20",
    "SELECT dst_port, count(DISTINCT src_ip) AS n FROM events GROUP BY dst_port ORDER BY n DESC, dst_port",
    "SELECT date_trunc('hour', time) AS h, count(*) FROM alpha GROUP BY h ORDER BY h",
    "SELECT ip_prefix(src_ip, 16) AS net, count(*) FROM events GROUP BY net ORDER BY net",
    "SELECT dataset, count(*) FROM events WHERE dst_port = 53 GROUP BY dataset ORDER BY dataset",
    "SELECT a.src_ip, count(*) AS n FROM alpha a JOIN (SELECT DISTINCT src_ip FROM beta) b ON a.src_ip = b.src_ip GROUP BY a.src_ip ORDER BY n DESC, a.src_ip LIMIT 5",
    "SELECT count(*), min(time), max(time) FROM events",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_give_the_answers_of_one_process() {
    let (_d, here, _w, spread) = lakes().await;
    for q in QUESTIONS {
        let want = rows(&here, q).await;
        assert!(!want.is_empty(), "{q}");
        assert_eq!(rows(&spread, q).await, want, "{q}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_is_cut_into_stages_for_the_workers() {
    let (_d, here, _w, spread) = lakes().await;
    let q = "EXPLAIN ANALYZE SELECT src_ip, count(*) FROM alpha GROUP BY src_ip";
    let plan = rows(&spread, q).await.concat().join("\n");
    assert!(plan.contains("DistributedExec"), "{plan}");
    assert!(
        plan.contains("NetworkShuffleExec") || plan.contains("NetworkCoalesceExec"),
        "{plan}"
    );
    let local = rows(&here, q).await.concat().join("\n");
    assert!(!local.contains("Network"), "{local}");
}

/// A plan the distributed planner leaves whole (one worker: one task) runs in the
/// coordinator with the fast string grouping of one process, as without workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_left_whole_keeps_the_fast_grouping() {
    let (_d, here, _w, _spread) = lakes().await;
    let (_one, cluster) = Workers::start(&here, 1, WORKER_MAX_TIME);
    let single = here.clone().with_cluster(cluster);
    let q = "SELECT src_ip, count(*) AS n FROM alpha GROUP BY src_ip ORDER BY n DESC, src_ip";
    let plan = rows(&single, &format!("EXPLAIN ANALYZE {q}"))
        .await
        .concat()
        .join("\n");
    assert!(!plan.contains("Network"), "{plan}");
    assert!(plan.contains("ViewGroupAggregateExec"), "{plan}");
    assert_eq!(rows(&single, q).await, rows(&here, q).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_queries_stay_in_the_sandbox_with_the_same_answers() {
    let (_d, here, _w, spread) = lakes().await;
    let opts = QueryOptions::member(vec!["alpha".parse().unwrap(), "beta".parse().unwrap()]);
    for q in QUESTIONS {
        let want = member_query(&here, q, &opts).await.unwrap();
        let got = member_query(&spread, q, &opts)
            .await
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(
            datafusion::arrow::util::pretty::pretty_format_batches(&got.batches)
                .unwrap()
                .to_string(),
            datafusion::arrow::util::pretty::pretty_format_batches(&want.batches)
                .unwrap()
                .to_string(),
            "{q}"
        );
    }
    // What members may not do is refused the same way.
    let e = member_query(
        &spread,
        "SELECT * FROM alpha CROSS JOIN alpha b CROSS JOIN alpha c",
        &opts,
    )
    .await
    .unwrap_err();
    assert!(matches!(e.kind, QueryErrorKind::Limit(_)), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_beyond_the_workers_time_limit_stops_with_that_said() {
    let (dir, lake) = local_lake();
    ingest_text(&lake, "alpha", "a.log", pf_log(3000, 23), pf_options())
        .await
        .unwrap();
    let (_w, cluster) = Workers::start(&lake, 2, Duration::from_millis(1));
    let spread = lake.with_cluster(cluster);
    let e = spread
        .query(
            "SELECT src_ip, count(*) FROM alpha GROUP BY src_ip",
            &QueryOptions::operator(),
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("time limit"), "{e}");
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_refuse_plans_without_the_secret() {
    let (_d, lake) = local_lake();
    ingest_text(&lake, "alpha", "a.log", pf_log(3000, 24), pf_options())
        .await
        .unwrap();
    let w = Workers::start_with_secret(&lake, 2, WORKER_MAX_TIME, "another-secret-of-the-workers");
    let secret = secviz_lake::cluster::WorkerSecret::new(TEST_SECRET).unwrap();
    let cluster = secviz_lake::cluster::Cluster::new(w.urls.clone(), secret)
        .unwrap()
        .with_bytes_per_partition(4096);
    let spread = lake.with_cluster(cluster);
    let e = spread
        .query(
            "SELECT src_ip, count(*) FROM alpha GROUP BY src_ip",
            &QueryOptions::operator(),
        )
        .await
        .unwrap_err();
    assert!(
        e.message.contains("secret") && !e.message.contains("code: '"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_whose_workers_are_gone_fails_and_does_not_hang() {
    let (_d, _here, workers, spread) = lakes().await;
    drop(workers);
    let opts = QueryOptions {
        limits: QueryLimits {
            timeout: Some(Duration::from_secs(60)),
            ..QueryLimits::unlimited()
        },
        ..QueryOptions::operator()
    };
    let started = std::time::Instant::now();
    let e = spread
        .query("SELECT src_ip, count(*) FROM alpha GROUP BY src_ip", &opts)
        .await
        .unwrap_err();
    // Not the query's own time limit: the engine's connection error, at once.
    assert_ne!(
        e.kind,
        QueryErrorKind::Limit(secviz_lake::query::Limit::Time),
        "{e}"
    );
    assert!(started.elapsed() < Duration::from_secs(30), "{e}");
    assert!(
        e.message.contains("worker") && !e.message.contains("code: '"),
        "{e}"
    );
    // Members' queries stay in this process, in the sandbox: they are still answered.
    let member = QueryOptions::member(vec!["alpha".parse().unwrap()]);
    let r = member_query(
        &spread,
        "SELECT src_ip, count(*) FROM alpha GROUP BY src_ip",
        &member,
    )
    .await
    .unwrap();
    assert!(r.rows > 10, "{}", r.rows);
}
