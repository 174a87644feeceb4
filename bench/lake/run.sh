#!/usr/bin/env bash
# Lake benchmark: ingest of 10,000,000 generated flow rows (rows/s, peak RSS) and four
# queries on the resulting Parquet, each timed in-process by secviz-lake (DataFusion) and
# by DuckDB (Python, in-process) on the same files in the same run.
#
#   bench/lake/run.sh [ROWS] [REPS]     defaults: 10000000 rows, 5 repetitions
#
# Data goes to bench/out/lake (gitignored). Needs python3 with duckdb (scripts/setup-test-env.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-10000000}
REPS=${2:-5}
OUT=bench/out/lake
GEN=../shared/tools/gen_security_data.py
[ -f "$GEN" ] || GEN=/work/shared/tools/gen_security_data.py
mkdir -p "$OUT"
CSV="$OUT/flows-$ROWS.csv"
if [ ! -f "$CSV" ]; then
  echo "== generating $ROWS flow rows"
  python3 "$GEN" --kind flows --lines "$ROWS" --seed 1 --out "$CSV"
fi

# PROFILE=dev measures a debug build (quick to build, slower to run: indicative only).
PROFILE=${PROFILE:-bench}
echo "== building the benchmark driver ($PROFILE profile)"
if [ "$PROFILE" = dev ]; then
  cargo build -p secviz-lake --bench lake 2>&1 | tail -n 1
  DIR=debug
else
  cargo bench -p secviz-lake --bench lake --no-run 2>&1 | tail -n 1
  DIR=release
fi
BIN=$(ls -t "${CARGO_TARGET_DIR:-target}"/$DIR/deps/lake-* | grep -v '\.d$' | head -n 1)

rm -rf "$OUT/data"
echo "== ingest ($(du -h "$CSV" | cut -f1) CSV)"
/usr/bin/time -v "$BIN" ingest "$OUT/data" flows "$CSV" > "$OUT/ingest.txt" 2> "$OUT/ingest.time"
cat "$OUT/ingest.txt"
RSS_KB=$(grep 'Maximum resident set size' "$OUT/ingest.time" | awk '{print $NF}')
echo "ingest_peak_rss_mib $((RSS_KB / 1024))"

echo "== DuckDB: CSV to Parquet on the same file (reference for ingest)"
python3 - "$CSV" "$OUT/duck.parquet" <<'PY'
import sys, time, duckdb
con = duckdb.connect()
t = time.perf_counter()
con.execute(f"COPY (SELECT * FROM read_csv_auto('{sys.argv[1]}')) TO '{sys.argv[2]}' (FORMAT parquet, COMPRESSION zstd)")
print(f"duckdb_csv_to_parquet_seconds {time.perf_counter() - t:.3f}")
PY

echo "== queries: secviz-lake (DataFusion) vs DuckDB, median of $REPS, in-process"
"$BIN" queries "$OUT/data" flows "$REPS" | tee "$OUT/ours.txt"
GLOB="$OUT/data/lake/datasets/flows/*/*.parquet"
python3 - "$GLOB" "$REPS" "$BIN" <<'PY' | tee "$OUT/duck.txt"
import statistics, subprocess, sys, time, duckdb
glob, reps, binary = sys.argv[1], int(sys.argv[2]), sys.argv[3]
con = duckdb.connect()
con.execute("SET TimeZone='UTC'")
table = f"read_parquet('{glob}', hive_partitioning=false)"
for name in ["top_talkers", "per_hour", "fan_out", "src_dst_top100"]:
    sql = subprocess.run([binary, "sql", name], capture_output=True, text=True, check=True).stdout.strip()
    sql = sql.replace("{t}", table)
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        rows = con.execute(sql).fetchall()
        times.append(time.perf_counter() - t)
    print(f"duckdb {name} {statistics.median(times):.4f} rows={len(rows)}")
PY

echo "== ratio (secviz / DuckDB; goal <= 1.5)"
join <(awk '/^query/ {print $2, $3}' "$OUT/ours.txt" | sort) <(awk '/^duckdb/ {print $2, $3}' "$OUT/duck.txt" | sort) \
  | awk '{printf "%-16s secviz %.3f s  duckdb %.3f s  ratio %.2f\n", $1, $2, $3, $2 / $3}'
