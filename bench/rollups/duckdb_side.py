#!/usr/bin/env python3
"""DuckDB's side of bench/rollups/run.sh (run with a python3 that has duckdb).

    duckdb_side.py GLOB REPS OUTDIR

Computes from the raw Parquet files what secviz's summary-backed analyses compute
(crates/lake/src/analyze): top-talkers, top-ports, events-over-time, fan-out and
rare-destinations, each REPS times in-process. Prints `duckdb NAME median_wall median_cpu
rows=N` and writes OUTDIR/duckdb-NAME.json with the answer, for run.sh to compare.
"""
import json
import statistics
import sys
import time

import duckdb

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/analyses")
from duckdb_analyses import QUERIES as Z_QUERIES, merge_talkers  # noqa: E402

# crates/lake/src/analyze/time.rs BUCKETS and bucket_seconds.
BUCKETS = [1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400, 604_800]


def bucket_seconds(span_us, wanted=60):
    span_s = max(1, -(-max(span_us, 0) // 1_000_000))
    for b in BUCKETS:
        if -(-span_s // b) <= wanted:
            return b
    return BUCKETS[-1]


def events_over_time(con, t):
    lo, hi = con.execute(f"SELECT min(epoch_us(time)), max(epoch_us(time)) FROM {t} WHERE time IS NOT NULL").fetchone()
    b = bucket_seconds(hi - lo) * 1_000_000
    rows = con.execute(f"SELECT epoch_us(time) // {b} AS k, count(*) FROM {t} WHERE time IS NOT NULL GROUP BY k ORDER BY k").fetchall()
    counts = dict(rows)
    return [[k * b, counts.get(k, 0)] for k in range(lo // b, hi // b + 1)]


def top_ports(con, t):
    return con.execute(f"""
        SELECT dst_port, protocol, count(*) AS events, count(DISTINCT src_ip) AS sources FROM {t}
        WHERE dst_port IS NOT NULL GROUP BY ALL ORDER BY events DESC, dst_port, protocol NULLS LAST LIMIT 10""").fetchall()


def main():
    glob, reps, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    t = f"read_parquet('{glob}', hive_partitioning = false)"
    work = {
        "top-talkers": lambda: merge_talkers(con.execute(Z_QUERIES["top-talkers"].replace("{t}", t)).fetchall()),
        "top-ports": lambda: top_ports(con, t),
        "events-over-time": lambda: events_over_time(con, t),
        "fan-out": lambda: con.execute(Z_QUERIES["fan-out"].replace("{t}", t)).fetchall(),
        "rare-destinations": lambda: con.execute(Z_QUERIES["rare-destinations"].replace("{t}", t)).fetchall(),
    }
    for name, f in work.items():
        walls, cpus = [], []
        for _ in range(reps):
            w, c = time.perf_counter(), time.process_time()
            rows = f()
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        with open(f"{outdir}/duckdb-{name}.json", "w") as out:
            json.dump([list(r) for r in rows], out)
        print(f"duckdb {name} {statistics.median(walls):.4f} {statistics.median(cpus):.4f} rows={len(rows)}",
              flush=True)


if __name__ == "__main__":
    main()
