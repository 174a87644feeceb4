"""Deterministic flow-like Parquet data for the engine benchmark.

usage: python gen_data.py OUT_DIR [N_ROWS] [N_FILES]
All values derive from hash(row number, column salt), so the same DuckDB
version always writes the same rows. Writes OUT_DIR/flows-<k>.parquet.
"""
import os
import sys
import time

import duckdb

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
files = int(sys.argv[3]) if len(sys.argv) > 3 else 8
os.makedirs(out, exist_ok=True)

# hash(i, salt) is a UBIGINT; the min of two draws skews ids toward small
# numbers so "top talkers" is a real ranking and not a tie-break.
SELECT = """
SELECT
  TIMESTAMP '2024-01-01 00:00:00' + to_seconds(CAST((i * 604800) // {n} AS BIGINT)) AS ts,
  '10.' || (s // 65536) || '.' || ((s // 256) % 256) || '.' || (s % 256) AS src_ip,
  '192.168.' || (d // 256) || '.' || (d % 256) AS dst_ip,
  CAST(CASE WHEN p < 30 THEN 443 WHEN p < 45 THEN 80 WHEN p < 60 THEN 53 WHEN p < 65 THEN 22
       ELSE 1024 + hash(i, 5) % 20000 END AS INTEGER) AS dst_port,
  CASE WHEN p BETWEEN 45 AND 59 THEN 'udp' WHEN p = 99 THEN 'icmp' ELSE 'tcp' END AS proto,
  CAST((hash(i, 6) % 1500) * (1 + hash(i, 7) % 40) AS BIGINT) AS bytes
FROM (
  SELECT i,
         least(hash(i, 1) % 50000, hash(i, 2) % 50000) AS s,
         least(hash(i, 3) % 5000, hash(i, 4) % 5000) AS d,
         hash(i, 8) % 100 AS p
  FROM range({lo}, {hi}) t(i)
)
"""

con = duckdb.connect()
con.execute("SET threads=2")
t0 = time.time()
per = (n + files - 1) // files
for k in range(files):
    lo, hi = k * per, min(n, (k + 1) * per)
    path = os.path.join(out, f"flows-{k}.parquet")
    con.execute(
        f"COPY ({SELECT.format(n=n, lo=lo, hi=hi)}) TO '{path}' (FORMAT parquet, COMPRESSION snappy)"
    )
print(f"wrote {n} rows in {files} files to {out} in {time.time() - t0:.1f}s", file=sys.stderr)
print(con.execute(f"SELECT count(*), count(DISTINCT src_ip), count(DISTINCT dst_ip), count(DISTINCT dst_port), min(ts), max(ts) FROM '{out}/*.parquet'").fetchall(), file=sys.stderr)
