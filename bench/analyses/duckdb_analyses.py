#!/usr/bin/env python3
"""DuckDB's side of bench/analyses/run.sh (run with a python3 that has duckdb).

    duckdb_analyses.py GLOB REPS OUTDIR

For each analysis below, computes in SQL what secviz's analysis computes (docs/lake.md,
"Built-in analyses"): the statistic of every entity, the median and the median absolute
deviation of the population, each candidate's robust z against them, the top 10. Runs it
REPS times in-process on the lake's Parquet files; prints `duckdb NAME median_wall
median_cpu rows=N` and writes OUTDIR/duckdb-NAME.json: [[entity..., z], ...] in rank order.
"""
import json
import statistics
import sys
import time

import duckdb

LIMIT = 10

# The population statistics the analyses use, with their floors (crates/lake/src/analyze).
QUERIES = {
    "top-talkers": """
        WITH per AS (SELECT src_ip, count(*) AS events, sum(bytes) AS bytes FROM {t}
                     WHERE src_ip IS NOT NULL GROUP BY src_ip),
             s AS (SELECT median(ln(1 + events)) AS m FROM per),
             a AS (SELECT median(abs(ln(1 + events) - m)) AS mad FROM per, s),
             sb AS (SELECT median(ln(1 + bytes)) AS m FROM per WHERE bytes > 0),
             ab AS (SELECT median(abs(ln(1 + bytes) - sb.m)) AS mad FROM per, sb WHERE bytes > 0),
             ev AS (SELECT src_ip, (ln(1 + events) - s.m) / (1.4826 * greatest(a.mad, 0.5)) AS z, 0 AS by_bytes
                    FROM per, s, a ORDER BY z DESC, src_ip LIMIT 10),
             bb AS (SELECT src_ip, (ln(1 + bytes) - sb.m) / (1.4826 * greatest(ab.mad, 0.5)) AS z, 1 AS by_bytes
                    FROM per, sb, ab WHERE bytes > 0 ORDER BY z DESC, src_ip LIMIT 10)
        SELECT * FROM ev UNION ALL SELECT * FROM bb""",
    "fan-out": """
        WITH n AS (SELECT src_ip, concat(split_part(dst_ip, '.', 1), '.', split_part(dst_ip, '.', 2), '.',
                          split_part(dst_ip, '.', 3)) AS net, count(DISTINCT dst_ip) AS hosts
                   FROM {t} WHERE src_ip IS NOT NULL AND dst_ip IS NOT NULL GROUP BY ALL),
             w AS (SELECT src_ip, max(hosts) AS sweep FROM n GROUP BY src_ip),
             b AS (SELECT src_ip, count(DISTINCT dst_ip) AS dsts, count(DISTINCT dst_port) AS ports
                   FROM {t} WHERE src_ip IS NOT NULL GROUP BY src_ip),
             per AS (SELECT b.*, coalesce(w.sweep, 0) AS sweep FROM b LEFT JOIN w USING (src_ip)),
             s AS (SELECT median(ln(1 + ports)) AS mp, median(ln(1 + dsts)) AS md, median(ln(1 + sweep)) AS ms FROM per),
             a AS (SELECT median(abs(ln(1 + ports) - mp)) AS ap, median(abs(ln(1 + dsts) - md)) AS ad,
                          median(abs(ln(1 + sweep) - ms)) AS aw FROM per, s)
        SELECT src_ip, greatest((ln(1 + ports) - mp) / (1.4826 * greatest(ap, 0.25)),
                                (ln(1 + dsts) - md) / (1.4826 * greatest(ad, 0.35)),
                                (ln(1 + sweep) - ms) / (1.4826 * greatest(aw, 0.35))) AS z
        FROM per, s, a WHERE greatest(dsts, ports) >= 10 ORDER BY z DESC, src_ip LIMIT 10""",
    "rare-destinations": """
        WITH per AS (SELECT dst_ip, count(*) AS events, count(DISTINCT src_ip) AS sources,
                            min(epoch_us(time)) AS first FROM {t} WHERE dst_ip IS NOT NULL GROUP BY dst_ip),
             s AS (SELECT median(-ln(1 + events)) AS m FROM per),
             a AS (SELECT median(abs(-ln(1 + events) - m)) AS mad FROM per, s)
        SELECT dst_ip, (-ln(1 + events) - m) / (1.4826 * greatest(mad, 0.5)) AS z
        FROM per, s, a WHERE events <= 2 AND sources <= 1
        ORDER BY z DESC, first NULLS FIRST, dst_ip LIMIT 10""",
    "beacons": """
        WITH g AS (SELECT src_ip, dst_ip, epoch_us(time) - lag(epoch_us(time))
                          OVER (PARTITION BY src_ip, dst_ip ORDER BY time) AS gap
                   FROM {t} WHERE src_ip IS NOT NULL AND dst_ip IS NOT NULL AND time IS NOT NULL),
             p AS (SELECT src_ip, dst_ip, count(gap) + 1 AS events, avg(gap) AS mean, stddev_pop(gap) AS sd
                   FROM g WHERE gap IS NOT NULL GROUP BY ALL HAVING count(gap) + 1 >= 8),
             x AS (SELECT *, CASE WHEN mean > 0 THEN coalesce(sd, 0) / mean ELSE 0 END AS cv FROM p),
             y AS (SELECT *, -ln(greatest(cv, 0.01)) AS st FROM x),
             s AS (SELECT median(st) AS m FROM y),
             a AS (SELECT median(abs(st - m)) AS mad FROM y, s)
        SELECT src_ip, dst_ip, (st - m) / (1.4826 * greatest(mad, 0.15)) AS z
        FROM y, s, a WHERE cv <= 0.25 AND mean / 1e6 >= 1 ORDER BY z DESC, src_ip, dst_ip LIMIT 10""",
}


def merge_talkers(rows):
    """The events list, then the bytes list, a host once with its higher z (as secviz)."""
    out = {}
    order = []
    for ip, z, _ in rows:
        if ip not in out:
            order.append(ip)
            out[ip] = z
        elif z > out[ip]:
            out[ip] = z
    ranked = sorted(order, key=lambda ip: (-out[ip], ip))
    return [[ip, out[ip]] for ip in ranked]


def main():
    glob, reps, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    table = f"read_parquet('{glob}', hive_partitioning = false)"
    for name, sql in QUERIES.items():
        sql = sql.replace("{t}", table)
        walls, cpus = [], []
        for _ in range(reps):
            t, c = time.perf_counter(), time.process_time()
            rows = con.execute(sql).fetchall()
            if name == "top-talkers":
                rows = merge_talkers(rows)
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
        rows = [list(r) for r in rows]
        with open(f"{outdir}/duckdb-{name}.json", "w") as f:
            json.dump(rows, f)
        print(f"duckdb {name} {statistics.median(walls):.4f} {statistics.median(cpus):.4f} rows={len(rows)}",
              flush=True)


if __name__ == "__main__":
    main()
