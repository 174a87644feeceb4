//! The read-only query API: the gate, access, limits, errors with positions, pruning.

use std::time::Duration;

use secviz_lake::query::{Access, Limit, QueryErrorKind, QueryLimits, QueryOptions};

use super::*;

/// The rows of an EXPLAIN (or EXPLAIN ANALYZE) as one text.
async fn plan_text(lake: &Lake, sql: &str) -> String {
    let plan = rows(lake, sql).await;
    plan.iter()
        .map(|r| r.join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn two_datasets() -> (TestLake, Lake) {
    let (dir, lake) = temp_lake();
    ingest_text(&lake, "alpha", "a.log", pf_log(200, 11), pf_options())
        .await
        .unwrap();
    ingest_text(&lake, "beta", "b.log", pf_log(100, 12), pf_options())
        .await
        .unwrap();
    (dir, lake)
}

#[tokio::test]
async fn events_is_the_union_of_all_datasets_with_their_names() {
    let (_d, lake) = two_datasets().await;
    let r = rows(
        &lake,
        "SELECT dataset, count(*) FROM events GROUP BY dataset ORDER BY dataset",
    )
    .await;
    assert_eq!(
        r,
        vec![
            vec!["alpha".to_string(), "400".into()],
            vec!["beta".into(), "200".into()]
        ]
    );
    let r = rows(
        &lake,
        "SELECT count(*) FROM events WHERE dataset = 'beta' AND dst_port = 53",
    )
    .await;
    let direct = rows(&lake, "SELECT count(*) FROM beta WHERE dst_port = 53").await;
    assert_eq!(r, direct);
}

#[tokio::test]
async fn members_see_only_the_datasets_they_may_read() {
    let (_d, lake) = two_datasets().await;
    let opts = QueryOptions::member(vec!["beta".parse().unwrap(), "missing".parse().unwrap()]);
    let r = member_query(&lake, "SELECT count(*) FROM events", &opts)
        .await
        .unwrap();
    let n = r.batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Int64Array>()
        .unwrap()
        .value(0);
    assert_eq!(n, 200, "events holds only beta");
    // A dataset the member may not read is as absent as one that does not exist.
    for (sql, name) in [
        ("SELECT * FROM alpha", "alpha"),
        ("SELECT * FROM missing", "missing"),
    ] {
        let e = member_query(&lake, sql, &opts).await.unwrap_err();
        assert_eq!(e.kind, QueryErrorKind::Plan, "{sql}: {e}");
        assert_eq!(e.message, format!("no dataset named {name}"), "{e}");
        let p = e.position.expect("position of the table name");
        assert_eq!((p.line, p.column), (1, 15), "{e}");
    }
    let none = QueryOptions {
        access: Access::Only(vec![]),
        ..QueryOptions::member(vec![])
    };
    let r = member_query(&lake, "SELECT count(*) FROM events", &none)
        .await
        .unwrap();
    assert_eq!(r.rows, 1);
}

#[tokio::test]
async fn forbidden_statements_and_bad_sql_get_clear_errors() {
    let (_d, lake) = two_datasets().await;
    let member = QueryOptions::member(vec!["alpha".parse().unwrap()]);
    for sql in [
        "DROP TABLE alpha",
        "INSERT INTO alpha SELECT * FROM alpha",
        "CREATE TABLE t AS SELECT 1",
        "COPY alpha TO '/tmp/out.parquet'",
        "SET datafusion.execution.target_partitions = 1",
        "EXPLAIN SELECT * FROM alpha",
        "SELECT 1; SELECT 2",
    ] {
        let e = member_query(&lake, sql, &member).await.unwrap_err();
        assert_eq!(e.kind, QueryErrorKind::Forbidden, "{sql}: {e}");
    }
    let e = member_query(
        &lake,
        "SELECT src_ip,\n       no_such_column\nFROM alpha",
        &member,
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, QueryErrorKind::Plan, "{e}");
    assert!(e.message.contains("no_such_column"), "{e}");
    let p = e.position.expect("a position");
    assert_eq!((p.line, p.column), (2, 8), "{e}");
    assert!(
        e.caret("SELECT src_ip,\n       no_such_column\nFROM alpha")
            .unwrap()
            .ends_with("       ^")
    );

    // Found by the SQL fuzzer: arguments that fit no signature (a UInt64 length) were an
    // "internal error" with DataFusion's list of signatures; they are the member's to fix.
    for sql in [
        "SELECT substr(raw, 1, cardinality(array_repeat('x', 3))) FROM alpha",
        "SELECT substr(raw, 32273, cardinality(array_repeat('._', 10))) LIKE 'a' FROM alpha LIMIT 0",
    ] {
        let e = member_query(&lake, sql, &member).await.unwrap_err();
        assert_eq!(e.kind, QueryErrorKind::Plan, "{sql}: {e}");
        assert!(
            e.message
                .starts_with("substr() does not take these arguments"),
            "{e}"
        );
    }

    // Found by the SQL fuzzer: DataFusion's planners disagree on a column's nullability
    // and it refuses its own plan; the member is told to rephrase, not "internal error".
    let sql = "SELECT DISTINCT CASE WHEN (bytes > 0 AND dst_port > 51293) THEN bytes ELSE 1000000 END AS c0 FROM alpha ORDER BY 1";
    let e = member_query(&lake, sql, &member).await.unwrap_err();
    assert_eq!(e.kind, QueryErrorKind::Plan, "{e}");
    assert!(e.message.contains("GROUP BY instead of DISTINCT"), "{e}");

    // Found by the SQL fuzzer: a count(DISTINCT ..) under a LIMIT in a subquery made DataFusion
    // refuse its own plan ("Ordering direction required for DISTINCT with limit"), an
    // internal error; the member is told to rephrase.
    let sql = "SELECT count(*) FROM (SELECT DISTINCT rpad(raw, (SELECT max(CASE WHEN src_port > 1039 THEN dst_port ELSE src_port END) FROM alpha), ' ') AS c0 FROM alpha LIMIT 10) x, (SELECT ip_prefix(src_ip, 24) AS c0, count(DISTINCT raw) AS c1, count(DISTINCT strpos(replace(action, '.', raw), ('..t_ w%' || dst_ip))) AS c2 FROM (SELECT * FROM alpha WHERE ' _' = ip_prefix(src_ip, 24)) w WHERE dst_port > 6909 GROUP BY 1 LIMIT 1000000) y";
    let e = member_query(&lake, sql, &member).await.unwrap_err();
    assert_eq!(e.kind, QueryErrorKind::Plan, "{e}");
    assert!(e.message.contains("without the LIMIT"), "{e}");
    // As the message advises, without the LIMIT in the subquery the query is answered.
    let unlimited = sql.replace("GROUP BY 1 LIMIT 1000000) y", "GROUP BY 1) y");
    assert_ne!(unlimited, sql);
    member_query(&lake, &unlimited, &member).await.unwrap();

    let e = member_query(&lake, "SELEC * FROM alpha", &member)
        .await
        .unwrap_err();
    assert_eq!(e.kind, QueryErrorKind::Syntax, "{e}");
    assert_eq!(e.position.map(|p| p.line), Some(1), "{e}");

    let e = member_query(&lake, "SELECT CAST('x' AS INT) FROM alpha", &member)
        .await
        .unwrap_err();
    assert!(
        matches!(e.kind, QueryErrorKind::Execution | QueryErrorKind::Plan),
        "{e:?}"
    );
    assert!(!e.public_message().is_empty());
}

#[tokio::test]
async fn row_time_and_memory_limits_hold() {
    let (_d, lake) = two_datasets().await;
    let mut opts = QueryOptions::member(vec!["alpha".parse().unwrap()]);
    opts.limits.max_rows = Some(7);
    let r = member_query(&lake, "SELECT * FROM alpha", &opts)
        .await
        .unwrap();
    assert_eq!((r.rows, r.truncated), (7, true));
    let r = member_query(&lake, "SELECT * FROM alpha LIMIT 7", &opts)
        .await
        .unwrap();
    assert_eq!(
        (r.rows, r.truncated),
        (7, false),
        "exactly the limit is not truncated"
    );

    let slow = QueryOptions {
        limits: QueryLimits {
            timeout: Some(Duration::from_millis(300)),
            ..QueryLimits::member()
        },
        ..opts.clone()
    };
    let started = std::time::Instant::now();
    // Far beyond what the time limit allows: refused before it runs.
    let e = member_query(
        &lake,
        "SELECT count(*) FROM generate_series(1, 10000000000) a",
        &slow,
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, QueryErrorKind::Limit(Limit::EstimatedRows), "{e}");
    // Within the estimate, still longer than the limit: stopped.
    let e = member_query(
        &lake,
        "SELECT sum(value % 7) FROM generate_series(1, 100000000) a",
        &slow,
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, QueryErrorKind::Limit(Limit::Time), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10));

    let small = QueryOptions {
        limits: QueryLimits {
            memory_bytes: Some(256 * 1024),
            ..QueryLimits::member()
        },
        ..opts
    };
    let e = member_query(&lake, "SELECT value % 1000003 AS k, count(*) FROM generate_series(1, 5000000) GROUP BY k ORDER BY k", &small)
        .await
        .unwrap_err();
    assert_eq!(e.kind, QueryErrorKind::Limit(Limit::Memory), "{e}");
}

#[tokio::test]
async fn a_time_predicate_reads_only_the_files_of_that_day() {
    let (_d, lake) = two_datasets().await;
    let text = plan_text(&lake, "EXPLAIN ANALYZE SELECT count(*) FROM alpha WHERE time >= '2005-10-22T00:00:00Z' AND time < '2005-10-23T00:00:00Z'").await;
    assert!(text.contains("day=2005-10-22"), "{text}");
    assert!(
        !text.contains("day=2005-10-21"),
        "the other day's file was scanned:\n{text}"
    );
    assert_eq!(
        rows(
            &lake,
            "SELECT count(*) FROM alpha WHERE time >= '2005-10-22T00:00:00Z'"
        )
        .await[0][0],
        "200"
    );
    // And on the union, by dataset too.
    let text = plan_text(&lake, "EXPLAIN SELECT count(*) FROM events WHERE dataset = 'beta' AND time < '2005-10-22T00:00:00Z'").await;
    assert!(
        text.contains("beta/day=2005-10-21")
            && !text.contains("alpha/")
            && !text.contains("day=2005-10-22"),
        "{text}"
    );
}

/// Several `count(DISTINCT …)` in one GROUP BY are rewritten into one aggregate per argument
/// joined on the keys (the lake's optimizer rule): the answers must be the ones counted here
/// from the rows themselves, NULL keys included, and the plan must show the rewrite.
#[tokio::test]
async fn several_distinct_counts_per_group_are_exact() {
    use std::collections::{BTreeMap, BTreeSet};
    let (_d, lake) = two_datasets().await;
    // The reference, from the raw rows. dns_qname is NULL on every non-DNS row: a NULL group.
    let raw = rows(
        &lake,
        "SELECT coalesce(dns_qname, '<null>'), src_ip, dst_ip, coalesce(CAST(dst_port AS VARCHAR), '<null>') FROM events",
    )
    .await;
    type Sets = (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>, usize);
    let mut want: BTreeMap<String, Sets> = BTreeMap::new();
    for r in &raw {
        let e = want.entry(r[0].clone()).or_default();
        e.0.insert(r[1].clone());
        e.1.insert(r[2].clone());
        if r[3] != "<null>" {
            e.2.insert(r[3].clone());
        }
        e.3 += 1;
    }
    let want: Vec<Vec<String>> = want
        .into_iter()
        .map(|(k, (s, d, p, n))| {
            vec![
                k,
                s.len().to_string(),
                d.len().to_string(),
                p.len().to_string(),
                n.to_string(),
            ]
        })
        .collect();
    assert!(want.len() >= 2, "a NULL group and a named one: {want:?}");

    let sql = "SELECT coalesce(dns_qname, '<null>') AS q, count(DISTINCT src_ip) AS s, \
               count(DISTINCT dst_ip) AS d, count(DISTINCT dst_port), count(*) AS n \
               FROM events GROUP BY dns_qname ORDER BY q";
    assert_eq!(rows(&lake, sql).await, want);

    // The plan went through the rewrite: a join of per-argument aggregates.
    let text = plan_text(&lake, &format!("EXPLAIN {sql}")).await;
    assert!(text.contains("Join"), "no join in the plan:\n{text}");

    // Two group keys, one of them an expression, with the distinct counts in another order.
    let by_hand = rows(
        &lake,
        "SELECT a.src_ip, a.h, a.p, b.d FROM \
         (SELECT src_ip, date_trunc('day', time) AS h, count(DISTINCT dst_port) AS p FROM events GROUP BY src_ip, date_trunc('day', time)) a \
         JOIN (SELECT src_ip, date_trunc('day', time) AS h, count(DISTINCT dst_ip) AS d FROM events GROUP BY src_ip, date_trunc('day', time)) b \
         ON a.src_ip = b.src_ip AND a.h = b.h ORDER BY a.src_ip, a.h",
    )
    .await;
    let rewritten = rows(
        &lake,
        "SELECT src_ip, date_trunc('day', time) AS h, count(DISTINCT dst_port) AS p, count(DISTINCT dst_ip) AS d \
         FROM events GROUP BY src_ip, date_trunc('day', time) ORDER BY src_ip, h",
    )
    .await;
    assert!(!by_hand.is_empty());
    assert_eq!(rewritten, by_hand);
}

/// One distinct argument beside a `count(*)`, and behind DataFusion's alias of a coerced
/// literal (`action = 'block'` compares a Utf8View column with text), is rewritten into two
/// GROUP BY levels (the lake's `SingleDistinctToGroups`): the answers must be the ones
/// counted here from the rows, and the plan must show the two levels.
#[tokio::test]
async fn one_distinct_count_beside_other_aggregates_is_exact() {
    use std::collections::{BTreeMap, BTreeSet};
    let (_d, lake) = two_datasets().await;
    let raw = rows(
        &lake,
        "SELECT src_ip, action, dst_ip, CAST(dst_port AS VARCHAR) FROM events",
    )
    .await;
    // Per source: events, the blocked destinations, the sum of the ports.
    let mut want: BTreeMap<String, (usize, BTreeSet<String>, i64)> = BTreeMap::new();
    for r in &raw {
        let e = want.entry(r[0].clone()).or_default();
        e.0 += 1;
        if r[1] == "block" {
            e.1.insert(r[2].clone());
        }
        e.2 += r[3].parse::<i64>().unwrap();
    }
    assert!(
        want.values().any(|w| w.1.is_empty()) && want.values().any(|w| w.1.len() > 1),
        "sources with no blocked destination and with several: {want:?}"
    );
    let want: Vec<Vec<String>> = want
        .into_iter()
        .map(|(src, (n, blocked, ports))| {
            vec![
                src,
                n.to_string(),
                blocked.len().to_string(),
                blocked.first().cloned().unwrap_or_default(),
                ports.to_string(),
            ]
        })
        .collect();
    let sql = "SELECT src_ip, count(*) AS n, count(DISTINCT CASE WHEN action = 'block' THEN dst_ip END) AS d, \
               coalesce(min(CASE WHEN action = 'block' THEN dst_ip END), '') AS m, sum(dst_port) AS p \
               FROM events GROUP BY src_ip ORDER BY src_ip";
    assert_eq!(rows(&lake, sql).await, want);
    let text = plan_text(&lake, &format!("EXPLAIN {sql}")).await;
    assert!(
        text.contains("__secviz_distinct"),
        "not rewritten into two levels:\n{text}"
    );
}

/// A distinct count of strings per group, beside a `count(*)`, over many groups: one
/// hash set per group took about 16 KiB each (40,000 groups: over 600 MiB); in two
/// GROUP BY levels it is answered within a member's 64 MiB, and exactly.
#[tokio::test]
async fn a_distinct_count_over_many_groups_stays_within_a_members_memory() {
    let (_d, lake) = two_datasets().await;
    let opts = QueryOptions {
        limits: QueryLimits {
            memory_bytes: Some(64 << 20),
            ..QueryLimits::member()
        },
        ..QueryOptions::member(vec!["alpha".parse().unwrap()])
    };
    // Every key k < 40,000 is the remainder of 5 values, k + 40,000 i, whose remainders
    // mod 7 are all different (40,000 is 2 mod 7): n = 5 and d = 5 in every group.
    let sql = "SELECT count(*), min(n), max(n), min(d), max(d) FROM ( \
               SELECT CAST(value % 40000 AS VARCHAR) AS k, count(*) AS n, \
               count(DISTINCT CAST(value % 7 AS VARCHAR)) AS d \
               FROM generate_series(0, 199999) GROUP BY k)";
    let r = member_query(&lake, sql, &opts).await.unwrap();
    assert_eq!(
        batch_rows(&r.batches),
        vec![vec!["40000", "5", "5", "5", "5"]]
    );
}

/// The rewrite reads the input once per distinct argument, so it must not apply when the
/// input is volatile (each read would see other rows).
#[tokio::test]
async fn several_distinct_counts_over_a_volatile_input_are_not_split() {
    let (_d, lake) = two_datasets().await;
    let sql = "SELECT g, count(DISTINCT src_ip), count(DISTINCT dst_ip) FROM \
               (SELECT CAST(random() * 3 AS BIGINT) AS g, src_ip, dst_ip FROM events) GROUP BY g";
    let text = plan_text(&lake, &format!("EXPLAIN {sql}")).await;
    assert!(
        !text.contains("Join"),
        "a volatile input was split:\n{text}"
    );
    let total: u64 = rows(&lake, &format!("SELECT count(*) FROM ({sql})")).await[0][0]
        .parse()
        .unwrap();
    assert!((1..=3).contains(&total), "{total} groups");
}

/// `ip_prefix` through SQL: every row's /24 agrees with one computed here from the address,
/// a member may call it, and a prefix length that is not a constant in range is an error.
#[tokio::test]
async fn ip_prefix_gives_each_address_its_network() {
    let (_d, lake) = two_datasets().await;
    let got = rows(
        &lake,
        "SELECT src_ip, ip_prefix(src_ip, 24), ip_prefix(src_ip, 16) FROM events ORDER BY src_ip",
    )
    .await;
    assert!(got.len() >= 300, "{}", got.len());
    for r in &got {
        let addr: std::net::Ipv4Addr = r[0].parse().unwrap_or_else(|_| panic!("{r:?}"));
        let o = addr.octets();
        assert_eq!(r[1], format!("{}.{}.{}.0/24", o[0], o[1], o[2]), "{r:?}");
        assert_eq!(r[2], format!("{}.{}.0.0/16", o[0], o[1]), "{r:?}");
    }
    // Grouping by the prefix counts every row once.
    let groups = rows(
        &lake,
        "SELECT ip_prefix(src_ip, 24) AS net, count(*) FROM events GROUP BY net",
    )
    .await;
    let total: usize = groups.iter().map(|r| r[1].parse::<usize>().unwrap()).sum();
    assert_eq!(total, got.len());

    let member = QueryOptions::member(vec!["alpha".parse().unwrap()]);
    let r = member_query(
            &lake,
            "SELECT ip_prefix('2001:db8:7::1', 24, 48), ip_prefix('not an address', 24), ip_prefix(NULL, 24) FROM alpha LIMIT 1",
            &member,
        )
        .await
        .unwrap();
    let b = &r.batches[0];
    use datafusion::arrow::array::AsArray;
    assert_eq!(b.column(0).as_string::<i32>().value(0), "2001:db8:7::/48");
    assert_eq!(b.column(1).as_string::<i32>().value(0), "not an address");
    assert!(b.column(2).is_null(0));

    for bad in [
        "SELECT ip_prefix(src_ip, 33) FROM alpha",
        "SELECT ip_prefix(src_ip, src_port) FROM alpha",
        "SELECT ip_prefix(src_ip, 24, 129) FROM alpha",
    ] {
        let e = member_query(&lake, bad, &member).await.unwrap_err();
        assert!(e.message.contains("ip_prefix"), "{bad}: {e}");
    }
}

/// `ip_in` through SQL (the analyses' "inside" test): every row agrees with a test made here
/// from the address, IPv6 works, non-addresses are in no network, NULL stays NULL, and a
/// network list that is not a constant list of networks is an error a member can read.
#[tokio::test]
async fn ip_in_says_whether_an_address_is_in_the_networks() {
    let (_d, lake) = two_datasets().await;
    let got = rows(
        &lake,
        "SELECT src_ip, ip_in(src_ip, '10.0.1.0/24, 10.0.2.7'), ip_in(src_ip, '10.0.0.0/8') FROM events ORDER BY src_ip",
    )
    .await;
    assert!(got.len() >= 300, "{}", got.len());
    let mut some_in = false;
    for r in &got {
        let addr: std::net::Ipv4Addr = r[0].parse().unwrap_or_else(|_| panic!("{r:?}"));
        let o = addr.octets();
        let expect = (o[0], o[1], o[2]) == (10, 0, 1) || r[0] == "10.0.2.7";
        some_in |= expect;
        assert_eq!(r[1], expect.to_string(), "{r:?}");
        assert_eq!(r[2], (o[0] == 10).to_string(), "{r:?}");
    }
    assert!(some_in, "the data has addresses in 10.0.1.0/24");

    let member = QueryOptions::member(vec!["alpha".parse().unwrap()]);
    let r = member_query(
            &lake,
            "SELECT ip_in('2001:db8:7::1', 'fc00::/7, 2001:db8::/32'), ip_in('not an address', '0.0.0.0/0'), ip_in(NULL, '10.0.0.0/8') FROM alpha LIMIT 1",
            &member,
        )
        .await
        .unwrap();
    let b = &r.batches[0];
    use datafusion::arrow::array::AsArray;
    assert!(b.column(0).as_boolean().value(0));
    assert!(!b.column(1).as_boolean().value(0));
    assert!(b.column(2).is_null(0));
    for bad in [
        "SELECT ip_in(src_ip, 'corp') FROM alpha",
        "SELECT ip_in(src_ip, src_ip) FROM alpha",
    ] {
        let e = member_query(&lake, bad, &member).await.unwrap_err();
        assert!(e.message.contains("ip_in"), "{bad}: {e}");
    }
}

/// GROUP BY one string column, or a pair, runs through the key-based partial aggregate
/// (`ViewGroupAggregateExec`), reading dictionary keys or, when a filter needs the
/// strings, views. Its answers must equal counts taken from the rows, over many small row
/// groups and batches, so that keys and views are met again over new dictionary pages (the
/// case where a cache keyed by buffer addresses once gave wrong counts), with short
/// (inline) and long strings, and NULL groups.
#[tokio::test]
async fn grouping_by_one_string_column_matches_the_rows() {
    let (_d, lake) = temp_lake();
    // Many addresses: 10.a.b.c of 8 to 15 characters, so both inline and buffer-backed views.
    let many = |x: u64| {
        format!(
            "10.{}.{}.{}",
            x % 3 * 100 + 7,
            (x >> 8) % 256,
            (x >> 16) % 40
        )
    };
    check_grouping(&lake, "many", &many, 5_000).await;
    // 100 long addresses: every row group holds all of them, so each page's dictionary has
    // the same length as the last one, with the addresses in another order.
    let few = |x: u64| format!("172.16.{}.{}", 100 + x % 10, 200 + (x >> 8) % 10);
    check_grouping(&lake, "few", &few, 99).await;
}

async fn check_grouping(
    lake: &Lake,
    dataset: &str,
    src_of: &dyn Fn(u64) -> String,
    min_groups: usize,
) {
    use secviz_parse::{Format, ParseOptions};
    use std::collections::BTreeMap;
    let mut text = String::new();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..40_000u32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let src = src_of(x);
        let query = if x.is_multiple_of(3) {
            format!(
                ",\"query\":\"h{}.a-long-subdomain.example.net\"",
                (x >> 24) % 50
            )
        } else {
            String::new()
        };
        writeln!(
            text,
            "{{\"ts\":{}.5,\"id.orig_h\":\"{src}\",\"id.orig_p\":{},\"id.resp_h\":\"192.0.2.1\",\"id.resp_p\":{},\"proto\":\"udp\"{query}}}",
            1_300_000_000 + i,
            1024 + (x >> 32) % 60000,
            (x >> 40) % 1000,
        )
        .unwrap();
    }
    let mut opts = IngestOptions {
        parse: ParseOptions {
            format: Some(Format::Jsonl),
            batch_rows: 700,
            ..ParseOptions::default()
        },
        ..IngestOptions::default()
    };
    opts.write.row_group_rows = 1500;
    ingest_text(lake, dataset, "conn.json", text, opts)
        .await
        .unwrap();

    let raw = rows(
        lake,
        &format!("SELECT src_ip, coalesce(dns_qname, '<null>'), CAST(dst_port AS VARCHAR), CAST(src_port AS VARCHAR) FROM {dataset}"),
    )
    .await;
    assert_eq!(raw.len(), 40_000);
    type Acc = (usize, u64, u64, usize); // rows, min dst_port, max src_port, non-null names
    let mut by_src: BTreeMap<String, Acc> = BTreeMap::new();
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    for r in &raw {
        let (dport, sport): (u64, u64) = (r[2].parse().unwrap(), r[3].parse().unwrap());
        let e = by_src.entry(r[0].clone()).or_insert((0, u64::MAX, 0, 0));
        e.0 += 1;
        e.1 = e.1.min(dport);
        e.2 = e.2.max(sport);
        e.3 += usize::from(r[1] != "<null>");
        *by_name.entry(r[1].clone()).or_default() += 1;
    }
    assert!(by_src.len() >= min_groups, "{}", by_src.len());
    let want: Vec<Vec<String>> = by_src
        .into_iter()
        .map(|(k, (n, d, s, q))| {
            vec![
                k,
                n.to_string(),
                d.to_string(),
                s.to_string(),
                q.to_string(),
            ]
        })
        .collect();
    let sql = format!(
        "SELECT src_ip, count(*), min(dst_port), max(src_port), count(dns_qname) FROM {dataset} GROUP BY src_ip ORDER BY src_ip"
    );
    // Read straight from the files, the addresses arrive as dictionary keys.
    assert_grouped(lake, &sql, &want, "keys=dictionary").await;
    // The same through `events`, whose scan adds the `dataset` partition column.
    let counts: Vec<Vec<String>> = want.iter().map(|r| r[..2].to_vec()).collect();
    let through_events = format!(
        "SELECT src_ip, count(*) FROM events WHERE dataset = '{dataset}' GROUP BY src_ip ORDER BY src_ip"
    );
    assert_grouped(lake, &through_events, &counts, "keys=dictionary").await;
    // A filter on the address, or an aggregate of it, needs the column as planned (views);
    // the answers are the same.
    let filtered = format!(
        "SELECT src_ip, count(*) FROM {dataset} WHERE src_ip >= '1' GROUP BY src_ip ORDER BY src_ip"
    );
    assert_grouped(lake, &filtered, &counts, "keys=views").await;
    let of_itself =
        format!("SELECT src_ip, count(src_ip) FROM {dataset} GROUP BY src_ip ORDER BY src_ip");
    assert_grouped(lake, &of_itself, &counts, "keys=views").await;
    // Strings made by a function are not the scan's views: DataFusion's own aggregate.
    let computed =
        format!("SELECT k, count(*) FROM (SELECT lower(src_ip) AS k FROM {dataset}) GROUP BY k");
    let plan = plan_text(lake, &format!("EXPLAIN {computed}")).await;
    assert!(!plan.contains("ViewGroupAggregateExec"), "{plan}");

    // Pairs: an address and a port; an address and a name that is often NULL.
    let mut by_port: BTreeMap<(String, u64), usize> = BTreeMap::new();
    let mut by_src_name: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &raw {
        *by_port
            .entry((r[0].clone(), r[2].parse().unwrap()))
            .or_default() += 1;
        *by_src_name.entry((r[0].clone(), r[1].clone())).or_default() += 1;
    }
    let want: Vec<Vec<String>> = by_port
        .into_iter()
        .map(|((s, p), n)| vec![s, p.to_string(), n.to_string()])
        .collect();
    let pairs = format!(
        "SELECT src_ip, dst_port, count(*) FROM {dataset} GROUP BY src_ip, dst_port ORDER BY src_ip, dst_port"
    );
    assert_grouped(lake, &pairs, &want, "keys=dictionary,integer").await;
    let want: Vec<Vec<String>> = by_src_name
        .into_iter()
        .map(|((s, q), n)| vec![s, q, n.to_string()])
        .collect();
    let pairs = format!(
        "SELECT src_ip, coalesce(dns_qname, '<null>') AS q, count(*) FROM {dataset} GROUP BY src_ip, dns_qname ORDER BY src_ip, q"
    );
    assert_grouped(lake, &pairs, &want, "keys=dictionary,dictionary").await;

    let want: Vec<Vec<String>> = by_name
        .into_iter()
        .map(|(k, n)| vec![k, n.to_string()])
        .collect();
    assert_eq!(want.len(), 51, "50 names and NULL");
    let got = rows(
        lake,
        &format!("SELECT coalesce(q, '<null>') AS k, n FROM (SELECT dns_qname AS q, count(*) AS n FROM {dataset} GROUP BY dns_qname) ORDER BY k"),
    )
    .await;
    assert_eq!(got, want);
}

/// `sql` answers `want`, through the lake's grouping operator with group columns as `keys`
/// (in one process: across workers DataFusion's own aggregation takes its place, with the
/// same answers).
async fn assert_grouped(lake: &Lake, sql: &str, want: &[Vec<String>], keys: &str) {
    assert_eq!(rows(lake, sql).await, want, "{sql}");
    if lake.cluster().is_some() {
        return;
    }
    let plan = plan_text(lake, &format!("EXPLAIN {sql}")).await;
    assert!(
        plan.contains("ViewGroupAggregateExec") && plan.contains(keys),
        "{sql}: {plan}"
    );
}

/// `date_trunc` by hour and day over UTC event times (the lake's fast path) agrees with the
/// times truncated here, keeps the UTC zone, and other units still work.
#[tokio::test]
async fn date_trunc_by_hour_and_day_in_utc() {
    let (_d, lake) = two_datasets().await;
    let got = rows(
        &lake,
        "SELECT CAST(time AS BIGINT), CAST(date_trunc('hour', time) AS BIGINT), CAST(date_trunc('DAY', time) AS BIGINT), \
         arrow_typeof(date_trunc('hour', time)), CAST(date_trunc('minute', time) AS BIGINT) FROM events WHERE time IS NOT NULL",
    )
    .await;
    assert!(got.len() >= 300, "{}", got.len());
    for r in &got {
        let t: i64 = r[0].parse().unwrap();
        let (hour, day, minute) = (3_600_000_000i64, 86_400_000_000i64, 60_000_000i64);
        assert_eq!(r[1], (t.div_euclid(hour) * hour).to_string(), "{r:?}");
        assert_eq!(r[2], (t.div_euclid(day) * day).to_string(), "{r:?}");
        assert_eq!(r[3], "Timestamp(µs, \"UTC\")", "{r:?}");
        assert_eq!(r[4], (t.div_euclid(minute) * minute).to_string(), "{r:?}");
    }
    let months = rows(&lake, "SELECT DISTINCT CAST(date_trunc('month', time) AS VARCHAR) FROM events WHERE time IS NOT NULL").await;
    assert_eq!(months, vec![vec!["2005-10-01T00:00:00Z".to_string()]]);
}
