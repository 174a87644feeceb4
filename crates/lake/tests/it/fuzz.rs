//! The SQL fuzzer (issue 14): random queries, from a grammar of the SQL members can send
//! and from token soup, go through the pre-planning guard, the planner's guards and the
//! query executor exactly as the portal sends them. Whatever comes in, the query ends
//! within its time limit plus a margin (no hang), the process survives (a stack overflow
//! or an abort would end this test binary), the answer or error speaks to people (no Rust
//! names, no debug output), and the lake still answers afterwards.
//!
//! The grammar leans on what hurts: deep nesting, joins, huge literals, string builders
//! (`repeat`, `lpad`, `regexp_replace`, `string_agg`), series and arrays, recursive CTEs,
//! LIKE and regular expressions built from columns. Cases are few (each may run for up to
//! its time limit on 2 cores) but every run draws new ones; a failure prints the query and
//! proptest's seed.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use secviz_lake::query::{QueryErrorKind, QueryLimits, QueryOptions};

use super::*;

/// The time limit each fuzzed query runs under.
const TIME: Duration = Duration::from_millis(700);
/// How long a query may take before it counts as a hang: its limit, the executor's grace,
/// and room for a debug build on a busy machine.
const HANG: Duration = Duration::from_secs(8);

/// The dataset's columns by type: the grammar is typed so that most queries plan and run,
/// and reach the executor's guards rather than the planner's type checks.
const NUMBERS: &[&str] = &["src_port", "dst_port", "bytes", "packets"];
const STRINGS: &[&str] = &["raw", "src_ip", "dst_ip", "action", "protocol"];

fn number_leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(NUMBERS).prop_map(str::to_string),
        1 => (0i64..70_000).prop_map(|n| n.to_string()),
        1 => prop::sample::select(vec!["0", "1", "-1", "1000000", "2147483647", "1000000000"]).prop_map(str::to_string),
    ]
}

fn string_leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(STRINGS).prop_map(str::to_string),
        1 => "[a-z %_.]{0,8}".prop_map(|s| format!("'{s}'")),
    ]
}

/// A regular expression or LIKE pattern (constant, as the guard requires), some of them
/// the classic catastrophic ones.
fn pattern() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "'(a+)+$'",
        "'(.*)*x'",
        "'^(\\d+)+$'",
        "'.'",
        "'[0-9]+'",
        "'%'",
        "'%a%b%c%d%'",
        "'_%_%_%'",
        "'(x|x|x|x|x)*y'",
        "''",
    ])
    .prop_map(str::to_string)
}

/// Typed expressions: numbers, strings, conditions.
#[derive(Clone, Copy, Debug)]
enum Ty {
    Number,
    Text,
    Bool,
}

fn typed(ty: Ty, depth: u32) -> BoxedStrategy<String> {
    let leaf = match ty {
        Ty::Number => number_leaf().boxed(),
        Ty::Text => string_leaf().boxed(),
        Ty::Bool => (prop::sample::select(NUMBERS), 0i64..70_000)
            .prop_map(|(c, n)| format!("{c} > {n}"))
            .boxed(),
    };
    if depth == 0 {
        return leaf;
    }
    let n = || typed(Ty::Number, depth - 1);
    let t = || typed(Ty::Text, depth - 1);
    let b = || typed(Ty::Bool, depth - 1);
    let deep = move |e: BoxedStrategy<String>| {
        (e, 1usize..200).prop_map(|(e, k)| format!("{}{e}{}", "(".repeat(k), ")".repeat(k)))
    };
    let grown = match ty {
        Ty::Number => prop_oneof![
            (
                n(),
                prop::sample::select(vec!["+", "-", "*", "/", "%"]),
                n()
            )
                .prop_map(|(a, o, b)| format!("({a} {o} {b})")),
            t().prop_map(|s| format!("length({s})")),
            (t(), t()).prop_map(|(a, b)| format!("strpos({a}, {b})")),
            (b(), n(), n()).prop_map(|(c, a, b)| format!("CASE WHEN {c} THEN {a} ELSE {b} END")),
            n().prop_map(|e| format!("(SELECT max({e}) FROM alpha)")),
            (n(), 0u32..3000).prop_map(|(e, k)| format!("{e}{}", " + 1".repeat(k as usize))),
            (t(), n()).prop_map(|(s, k)| format!("cardinality(array_repeat({s}, {k}))")),
            n().prop_map(|e| format!("abs({e})")),
            deep(n()),
        ]
        .boxed(),
        Ty::Text => prop_oneof![
            (t(), t()).prop_map(|(a, b)| format!("({a} || {b})")),
            (t(), n()).prop_map(|(s, k)| format!("repeat({s}, {k})")),
            (t(), n()).prop_map(|(s, k)| format!("lpad({s}, {k})")),
            (t(), n(), t()).prop_map(|(s, k, f)| format!("rpad({s}, {k}, {f})")),
            (t(), t(), t()).prop_map(|(s, a, b)| format!("replace({s}, {a}, {b})")),
            (t(), pattern()).prop_map(|(s, p)| format!("regexp_replace({s}, {p}, '$0$0', 'g')")),
            (t(), n(), n()).prop_map(|(s, a, b)| format!("substr({s}, {a}, {b})")),
            n().prop_map(|e| format!("CAST({e} AS VARCHAR)")),
            t().prop_map(|s| format!("upper({s})")),
            t().prop_map(|s| format!("md5({s})")),
            (b(), t(), t()).prop_map(|(c, a, b)| format!("CASE WHEN {c} THEN {a} ELSE {b} END")),
            t().prop_map(|e| format!("(SELECT max({e}) FROM alpha)")),
            Just("ip_prefix(src_ip, 24)".to_string()),
            deep(t()),
        ]
        .boxed(),
        Ty::Bool => prop_oneof![
            (n(), prop::sample::select(vec!["=", "<", ">=", "<>"]), n())
                .prop_map(|(a, o, b)| format!("{a} {o} {b}")),
            (t(), t()).prop_map(|(a, b)| format!("{a} = {b}")),
            (t(), pattern()).prop_map(|(s, p)| format!("{s} LIKE {p}")),
            (t(), pattern()).prop_map(|(s, p)| format!("regexp_like({s}, {p})")),
            (b(), prop::sample::select(vec!["AND", "OR"]), b())
                .prop_map(|(a, o, b)| format!("({a} {o} {b})")),
            b().prop_map(|e| format!("NOT ({e})")),
            n().prop_map(|e| format!("{e} IN (SELECT dst_port FROM alpha)")),
            (n(), 1usize..2500).prop_map(|(e, k)| (0..k)
                .map(|i| format!("{e} = {i}"))
                .collect::<Vec<_>>()
                .join(" OR ")),
        ]
        .boxed(),
    };
    prop_oneof![2 => leaf, 3 => grown].boxed()
}

fn any_value(depth: u32) -> BoxedStrategy<String> {
    prop_oneof![typed(Ty::Number, depth), typed(Ty::Text, depth)].boxed()
}

/// What a query reads: the dataset, joined with itself, crossed with a series, or a
/// subquery; every form exposes the dataset's columns unambiguously.
fn from() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => Just("alpha".to_string()),
        2 => (2usize..6, prop::sample::select(vec!["action", "protocol", "src_ip", "dst_port", "raw"]))
            .prop_map(|(n, on)| {
                let mut s = "alpha t0".to_string();
                for i in 1..n {
                    s += &format!(" JOIN alpha t{i} ON t{}.{on} = t{i}.{on}", i - 1);
                }
                format!("(SELECT t0.* FROM {s}) j")
            }),
        1 => (1usize..4).prop_map(|n| {
            let tables = (0..n).map(|i| format!("alpha c{i}")).collect::<Vec<_>>().join(", ");
            format!("(SELECT c0.* FROM {tables}) c")
        }),
        1 => prop::sample::select(vec!["1000", "100000000", "1000000000000"])
            .prop_map(|n| format!("(SELECT a.* FROM alpha a, generate_series(1, {n}) g) s")),
        1 => prop::sample::select(vec!["10", "1000000000"])
            .prop_map(|n| format!("(SELECT a.* FROM alpha a, (SELECT unnest(range(1, {n}))) u) s")),
        1 => typed(Ty::Bool, 2).prop_map(|c| format!("(SELECT * FROM alpha WHERE {c}) w")),
    ]
}

fn select() -> impl Strategy<Value = String> {
    let aggregate = prop_oneof![
        Just("count(*)".to_string()),
        typed(Ty::Number, 2).prop_map(|e| format!("sum({e})")),
        any_value(2).prop_map(|e| format!("max({e})")),
        any_value(2).prop_map(|e| format!("count(DISTINCT {e})")),
        typed(Ty::Text, 2).prop_map(|e| format!("string_agg({e}, ',')")),
        typed(Ty::Text, 2).prop_map(|e| format!("length(string_agg({e}, ','))")),
        any_value(1).prop_map(|e| format!("cardinality(array_agg({e}))")),
        any_value(2).prop_map(|e| format!("approx_distinct({e})")),
    ];
    (
        prop::collection::vec(any_value(3), 1..3),
        prop::collection::vec(aggregate, 0..3),
        from(),
        prop::option::of(typed(Ty::Bool, 3)),
        prop::option::of(prop::sample::select(vec!["1", "1 DESC"])),
        prop::option::of(prop::sample::select(vec![
            "0",
            "10",
            "1000000",
            "9223372036854775807",
        ])),
        any::<bool>(),
    )
        .prop_map(
            |(values, aggregates, from, filter, order, limit, distinct)| {
                let grouped = !aggregates.is_empty();
                let items = if grouped {
                    std::iter::once(values[0].clone())
                        .chain(aggregates)
                        .collect::<Vec<_>>()
                } else {
                    values
                };
                let mut s = format!(
                    "SELECT {}{} FROM {from}",
                    if distinct && !grouped {
                        "DISTINCT "
                    } else {
                        ""
                    },
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, e)| format!("{e} AS c{i}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                if let Some(w) = filter {
                    s += &format!(" WHERE {w}");
                }
                if grouped {
                    s += " GROUP BY 1";
                }
                if let Some(o) = order {
                    s += &format!(" ORDER BY {o}");
                }
                if let Some(l) = limit {
                    s += &format!(" LIMIT {l}");
                }
                s
            },
        )
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => select(),
        1 => (select(), select()).prop_map(|(a, b)| format!("SELECT count(*) FROM ({a}) x, ({b}) y")),
        1 => select().prop_map(|s| format!("WITH t AS ({s}) SELECT count(*) FROM t a, t b")),
        1 => Just("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r".to_string()),
        1 => (1usize..200).prop_map(|n| format!("{}SELECT 1 AS x{}", "SELECT * FROM (".repeat(n), ") t".repeat(n))),
        1 => prop::sample::select(vec![
            "DROP TABLE alpha", "COPY alpha TO '/tmp/x.csv'", "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/'",
            "SET datafusion.execution.batch_size = 1", "INSERT INTO alpha SELECT * FROM alpha", "EXPLAIN ANALYZE SELECT 1",
            "SELECT 1; SELECT 2", "SELECT * FROM '/etc/passwd'", "SELECT version()", "SELECT input_file_name() FROM alpha",
        ])
        .prop_map(str::to_string),
    ]
}

/// Token soup: SQL's words and symbols in random order, for the parser and the guard.
fn soup() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "SELECT",
        "FROM",
        "WHERE",
        "alpha",
        "(",
        ")",
        ",",
        "*",
        "+",
        "JOIN",
        "ON",
        "WITH",
        "RECURSIVE",
        "AS",
        "UNION",
        "ALL",
        "GROUP",
        "BY",
        "ORDER",
        "LIMIT",
        "1",
        "'x'",
        "raw",
        "CASE",
        "WHEN",
        "THEN",
        "END",
        "[",
        "]",
        "::",
        "->",
        "$1",
        "\"",
        "'",
        ";",
        "--",
        "/*",
        "repeat",
        "generate_series",
        "OVER",
        "PARTITION",
        "LATERAL",
        "VALUES",
        "\u{0}",
        "é",
    ]);
    prop::collection::vec(tokens, 0..400).prop_map(|t| t.join(" "))
}

/// Runs one query as the portal would and checks that it ended well.
fn check(
    rt: &tokio::runtime::Runtime,
    lake: &Lake,
    opts: &QueryOptions,
    sql: &str,
    answered: &std::sync::atomic::AtomicU32,
) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let r = rt.block_on(async { tokio::time::timeout(HANG, member_query(lake, sql, opts)).await });
    let took = started.elapsed();
    let short = &sql[..sql.floor_char_boundary(300)];
    let r = r.map_err(|_| TestCaseError::fail(format!("hung for {took:?}: {short}")))?;
    if r.is_ok() {
        answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    if let Err(e) = r {
        prop_assert!(
            e.kind != QueryErrorKind::Internal,
            "an internal error ({e}) for: {short}"
        );
        let m = e.public_message();
        for rust in [
            "DataFusionError",
            "ArrowError",
            "External(",
            "Some(",
            "panicked",
            "{ ",
            "Error {",
            "Error(\"",
        ] {
            prop_assert!(
                !m.contains(rust),
                "a message with {rust:?}: {m}\nfor: {short}"
            );
        }
        prop_assert!(
            !secviz_testkit::has_debug_name(&m),
            "a Rust name in: {m}\nfor: {short}"
        );
        prop_assert!(!m.is_empty());
    }
    Ok(())
}

fn lake_and_runtime() -> (TestLake, Lake, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (dir, lake) = temp_lake();
    rt.block_on(ingest_text(
        &lake,
        "alpha",
        "a.log",
        pf_log(200, 7),
        pf_options(),
    ))
    .unwrap();
    (dir, lake, rt)
}

fn options() -> QueryOptions {
    QueryOptions {
        limits: QueryLimits::member_with(TIME, 64 << 20),
        ..QueryOptions::member(vec!["alpha".parse().unwrap()])
    }
}

/// Runs `cases` random queries; returns how many were answered.
fn fuzz(cases: u32, strategy: impl Strategy<Value = String>) -> u32 {
    let (_dir, lake, rt) = lake_and_runtime();
    let opts = options();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        // Shrinking replays failing queries many times; the printed query is enough.
        max_shrink_iters: 32,
        ..Config::default()
    });
    let answered = std::sync::atomic::AtomicU32::new(0);
    let result = runner.run(&strategy, |sql| check(&rt, &lake, &opts, &sql, &answered));
    if let Err(e) = result {
        panic!("{e}");
    }
    // The lake and the executor still answer.
    let r = rt
        .block_on(member_query(
            &lake,
            "SELECT count(*) AS n FROM alpha",
            &opts,
        ))
        .expect("the lake answers after the fuzzing");
    assert_eq!(r.rows, 1);
    answered.into_inner()
}

#[test]
fn fuzzed_member_queries_end_in_time_with_clear_errors() {
    // The grammar is typed so that many queries run (the executor's guards, not only the
    // planner's checks, are exercised): at least a fifth of them are answered.
    let answered = fuzz(300, query());
    assert!(
        answered >= 60,
        "only {answered} of 300 fuzzed queries were answered"
    );
}

#[test]
fn token_soup_is_refused_clearly() {
    let _ = fuzz(400, soup());
}
