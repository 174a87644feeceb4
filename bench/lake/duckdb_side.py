#!/usr/bin/env python3
"""DuckDB's side of bench/lake/run.sh (run with a python3 that has duckdb).

    duckdb_side.py ingest CSV PARQUET
        CSV to Parquet (zstd); prints `wall cpu peak_rss_mb` of this process's work.
    duckdb_side.py queries GLOB REPS OUTDIR
        each query of queries.py REPS times, in-process, on the Parquet files;
        prints `duckdb NAME median_wall median_cpu rows=N` and writes OUTDIR/duckdb-NAME.json
        (the last run's rows, canonical) for the equality check.
"""
import json
import os
import resource
import statistics
import sys
import time

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from queries import DUCKDB_MACROS, QUERIES  # noqa: E402
from same_rows import canon  # noqa: E402


def main():
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    if sys.argv[1] == "ingest":
        t, c = time.perf_counter(), time.process_time()
        con.execute(f"COPY (SELECT * FROM read_csv_auto('{sys.argv[2]}')) TO '{sys.argv[3]}' "
                    "(FORMAT parquet, COMPRESSION zstd)")
        print(time.perf_counter() - t, time.process_time() - c,
              resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
        return
    glob, reps, out = sys.argv[2], int(sys.argv[3]), sys.argv[4]
    for m in DUCKDB_MACROS:
        con.execute(m)
    table = f"read_parquet('{glob}', hive_partitioning = false)"
    for name, _, sql in QUERIES:
        sql = sql.replace("{t}", table)
        walls, cpus = [], []
        for _ in range(reps):
            t, c = time.perf_counter(), time.process_time()
            rows = con.execute(sql).fetchall()
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
        with open(f"{out}/duckdb-{name}.json", "w") as f:
            json.dump([[canon(v) for v in r] for r in rows], f)
        print(f"duckdb {name} {statistics.median(walls):.4f} {statistics.median(cpus):.4f} rows={len(rows)}",
              flush=True)


if __name__ == "__main__":
    main()
