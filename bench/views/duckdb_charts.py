"""The aggregations behind each server-side chart, run by DuckDB (in-process) on the
dataset's Parquet files: the comparison column of bench/views/run.sh. Prints one JSON
line per chart with the median of 5 runs in milliseconds.

Subnets: secviz groups by the lake's `ip_prefix(ip, 24)`; DuckDB gets the `ip_prefix`
macro of bench/lake/queries.py (integer and string functions, no regular expression), so
both engines do the same kind of work. bench/lake/run.sh checks that both give the same rows."""
import json, os, statistics, sys, time

import duckdb

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lake"))
from queries import DUCKDB_MACROS  # noqa: E402

root = sys.argv[1]
con = duckdb.connect()
for m in DUCKDB_MACROS:
    con.execute(m)
con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{root}/**/*.parquet', hive_partitioning = false)")
QUERIES = {
    "bar": ["SELECT dst_port, count(*) n FROM events GROUP BY 1 ORDER BY n DESC LIMIT 10",
            "SELECT count(*), count(DISTINCT dst_port) FROM events"],
    "timeline": ["SELECT min(time), max(time) FROM events",
                 "SELECT CAST(floor(epoch_us(time) / 3600000000) AS BIGINT) k, CAST(action AS VARCHAR) s, count(*) FROM events GROUP BY 1, 2 ORDER BY 1, 2"],
    "histogram": ["SELECT min(bytes), max(bytes) FROM events",
                  "SELECT floor(bytes / 100) k, count(*) FROM events WHERE bytes IS NOT NULL GROUP BY 1 ORDER BY 1"],
    "parallel": ["SELECT src_ip, dst_ip, dst_port, count(*) n FROM events GROUP BY 1, 2, 3 ORDER BY n DESC LIMIT 300"],
    "treemap": ["SELECT g, l, s FROM (SELECT g, l, s, row_number() OVER (PARTITION BY g ORDER BY s DESC) rn FROM "
                "(SELECT ip_prefix(dst_ip, 24) g, dst_ip l, count(*) s FROM events GROUP BY 1, 2)) WHERE rn <= 20"],
    "heatmap": ["SELECT dst_port x, ip_prefix(src_ip, 24) y, count(*) FROM events GROUP BY 1, 2"],
    "scatter": ["SELECT epoch_us(time) x, dst_port y, protocol g, count(*) n FROM events GROUP BY 1, 2, 3 ORDER BY n DESC LIMIT 5000"],
}
for chart, qs in QUERIES.items():
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        for q in qs:
            con.execute(q).fetchall()
        runs.append((time.perf_counter() - t) * 1000)
    print(json.dumps({"chart": chart, "ms": statistics.median(runs)}))
