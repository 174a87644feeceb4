#!/usr/bin/env bash
# Lake benchmark, secviz next to DuckDB on the same data in the same run:
#
# 1. ingest: `secviz ingest` of ROWS generated flow rows (and of SMALL_ROWS, to show that
#    peak RSS does not grow with the input), wall time, CPU time (user + sys) and peak RSS
#    from /usr/bin/time; with the raw line (the default) and with --no-raw. DuckDB's
#    CSV-to-Parquet of the same file is the reference.
# 2. queries: four queries on the ingested Parquet, in-process, median of REPS, run by
#    secviz-lake (DataFusion, through `Lake::query` as `secviz query` runs them) and by
#    DuckDB (Python, in-process) on the same files; wall and CPU medians and their ratios.
#
#   bench/lake/run.sh [ROWS] [REPS]      defaults: 10000000 rows, 5 repetitions
#   env: SMALL_ROWS (1000000), INGEST_REPS (3), PROFILE=dev for a quick indicative run,
#        SKIP_BUILD=1 to use the binaries already built, QUERIES_ONLY=1 to skip the ingest
#        phase and query the data of the last run
#
# The machine is shared: the load average is printed before each phase, and CPU seconds
# are the fairer figure when it is high. Data goes to bench/out/lake (gitignored). Needs
# python3 with duckdb (scripts/setup-test-env.sh) and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-10000000}
REPS=${2:-5}
SMALL_ROWS=${SMALL_ROWS:-1000000}
INGEST_REPS=${INGEST_REPS:-3}
OUT=bench/out/lake
GEN=../shared/tools/gen_security_data.py
[ -f "$GEN" ] || GEN=/work/shared/tools/gen_security_data.py
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p "$OUT"

load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }

csv_of() {
  local csv="$OUT/flows-$1.csv"
  if [ ! -f "$csv" ]; then
    echo "== generating $1 flow rows" >&2
    python3 "$GEN" --kind flows --lines "$1" --seed 1 --out "$csv"
  fi
  echo "$csv"
}
CSV=$(csv_of "$ROWS")
SMALL_CSV=$(csv_of "$SMALL_ROWS")

# One build for both binaries, so the dependencies are compiled once.
PROFILE=${PROFILE:-release}
echo "== building secviz and the benchmark driver ($PROFILE profile)"
if [ -n "${SKIP_BUILD:-}" ]; then
  echo "(SKIP_BUILD: using the binaries already built)"
  [ "$PROFILE" = dev ] && DIR=debug || DIR=release
elif [ "$PROFILE" = dev ]; then
  cargo build -p secviz -p secviz-lake --bench lake --bin secviz 2>&1 | tail -n 1
  DIR=debug
else
  cargo build --release -p secviz -p secviz-lake --bench lake --bin secviz 2>&1 | tail -n 1
  DIR=release
fi
SECVIZ="$TARGET/$DIR/secviz"
BIN=$(ls -t "$TARGET"/$DIR/deps/lake-* | grep -v '\.d$' | head -n 1)

# ingest LABEL CSV ROWS [secviz ingest flags...]: INGEST_REPS fresh ingests; prints one line
# per run and the medians.
ingest() {
  local label=$1 csv=$2 rows=$3
  shift 3
  local runs="$OUT/ingest-$label.runs"
  : > "$runs"
  for _ in $(seq "$INGEST_REPS"); do
    rm -rf "$OUT/data-$label"
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/time.txt" \
      "$SECVIZ" ingest -q --data "$OUT/data-$label" --dataset flows --format csv "$@" "$csv" \
      > "$OUT/ingest-$label.txt"
    read -r wall user sys rss < "$OUT/time.txt"
    echo "$wall $user $sys $rss" >> "$runs"
    awk -v l="$label" -v r="$rows" '{printf "  %-12s wall %6.2f s  cpu %6.2f s  peak RSS %5d MiB  %5.2f M rows/s wall  %5.2f M rows/CPU-s\n", l, $1, $2 + $3, $4 / 1024, r / $1 / 1e6, r / ($2 + $3) / 1e6}' <<< "$wall $user $sys $rss"
  done
  python3 - "$runs" "$label" "$rows" <<'PY' | tee -a "$OUT/summary.txt"
import statistics, sys
runs = [[float(x) for x in l.split()] for l in open(sys.argv[1])]
rows = int(sys.argv[3])
w = statistics.median(r[0] for r in runs)
c = statistics.median(r[1] + r[2] for r in runs)
m = max(r[3] for r in runs) / 1024
print(f"ingest {sys.argv[2]} median_wall {w:.2f} median_cpu {c:.2f} max_rss_mib {m:.0f} "
      f"rows_per_s {rows / w:.0f} rows_per_cpu_s {rows / c:.0f}")
PY
  head -n 1 "$OUT/ingest-$label.txt"
}

: > "$OUT/summary.txt"
if [ -z "${QUERIES_ONLY:-}" ]; then
echo "== ingest with secviz ($INGEST_REPS runs each); $(load)"
ingest "small" "$SMALL_CSV" "$SMALL_ROWS"
ingest "big" "$CSV" "$ROWS"
ingest "big-noraw" "$CSV" "$ROWS" --no-raw
echo "after ingest: $(load)"

echo "== DuckDB: CSV to Parquet (zstd) on the same files; $(load)"
python3 - "$SMALL_CSV" "$SMALL_ROWS" "$CSV" "$ROWS" "$OUT" "$INGEST_REPS" <<'PY' | tee -a "$OUT/summary.txt"
import resource, statistics, subprocess, sys
out, reps = sys.argv[5], int(sys.argv[6])
# Each run in a fresh process, so peak RSS is per run as for secviz.
code = """
import sys, time, resource, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
t, c = time.perf_counter(), time.process_time()
con.execute(f"COPY (SELECT * FROM read_csv_auto('{sys.argv[1]}')) TO '{sys.argv[2]}' (FORMAT parquet, COMPRESSION zstd)")
print(time.perf_counter() - t, time.process_time() - c, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
for label, csv, rows in [("small", sys.argv[1], int(sys.argv[2])), ("big", sys.argv[3], int(sys.argv[4]))]:
    walls, cpus, rss = [], [], []
    for _ in range(reps):
        w, c, m = subprocess.run([sys.executable, "-c", code, csv, f"{out}/duck-{label}.parquet"],
                                 capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1].split()
        walls.append(float(w)); cpus.append(float(c)); rss.append(int(m))
    w, c = statistics.median(walls), statistics.median(cpus)
    print(f"duckdb_ingest {label} median_wall {w:.2f} median_cpu {c:.2f} max_rss_mib {max(rss) // 1024} "
          f"rows_per_s {rows / w:.0f} rows_per_cpu_s {rows / c:.0f}")
PY
fi

echo "== queries: secviz-lake (DataFusion) vs DuckDB, median of $REPS, in-process; $(load)"
DATA="$OUT/data-big"
"$BIN" queries "$DATA" flows "$REPS" | tee "$OUT/ours.txt"
GLOB="$DATA/lake/datasets/flows/*/*.parquet"
python3 - "$GLOB" "$REPS" "$BIN" <<'PY' | tee "$OUT/duck.txt"
import statistics, subprocess, sys, time, duckdb
glob, reps, binary = sys.argv[1], int(sys.argv[2]), sys.argv[3]
con = duckdb.connect()
con.execute("SET TimeZone='UTC'")
table = f"read_parquet('{glob}', hive_partitioning=false)"
for name in ["top_talkers", "per_hour", "fan_out", "src_dst_top100"]:
    sql = subprocess.run([binary, "sql", name], capture_output=True, text=True, check=True).stdout.strip()
    sql = sql.replace("{t}", table)
    walls, cpus = [], []
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        rows = con.execute(sql).fetchall()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    print(f"duckdb {name} {statistics.median(walls):.4f} {statistics.median(cpus):.4f} rows={len(rows)}")
PY
echo "after queries: $(load)"

echo "== ratio (secviz / DuckDB; goal <= 1.5)" | tee -a "$OUT/summary.txt"
join <(awk '/^query/ {print $2, $3, $4}' "$OUT/ours.txt" | sort) \
  <(awk '/^duckdb/ {print $2, $3, $4}' "$OUT/duck.txt" | sort) \
  | awk '{printf "%-16s wall: secviz %.3f s duckdb %.3f s ratio %.2f | cpu: secviz %.3f s duckdb %.3f s ratio %.2f\n", $1, $2, $4, $2 / $4, $3, $5, $3 / $5}' \
  | tee -a "$OUT/summary.txt"
