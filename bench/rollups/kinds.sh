#!/usr/bin/env bash
# Every built-in analysis over ROWS events of its kind (issue 19.3: under 1 s and at least
# 10× faster than DuckDB computing the same result from the raw Parquet, in the same run).
#
# Four datasets, ROWS events each (default 100 M; generated here, seeded, never committed:
# bench/rollups/gen_kinds.py, which says what each holds and what is planted in it): auth
# (sshd logins), web (access log), dns (Zeek dns), conn (Zeek conn). For each kind:
#  1. Generate its CSV and `secviz ingest` it into its own dataset of one lake
#     ($BENCH_OUT/rollups/kinds-ROWS/lake), timed once (rows/s), unless the dataset is
#     there already. The CSV is removed after the ingest (KEEP_CSV=1 keeps it): the four
#     take about 45 GB at 100 M rows.
#  2. `secviz analyze --json` of all analyses checks that every analysis meant for the kind
#     runs; then each of them as a user runs it, one whole `secviz analyze NAME` process per
#     run, REPS times (median wall and CPU); then all analyses in one process.
#  3. DuckDB computes each of them from the dataset's Parquet files, in-process, REPS times
#     (bench/rollups/duckdb_kinds.py).
#  4. The answers are compared (bench/rollups/compare.py, `differences`) and the planted
#     findings looked for (bench/rollups/kinds_report.py); any difference fails the script.
#     One ROW line per analysis and kind, for BENCHMARKS.md.
#
#   CARGO_TARGET_DIR=… cargo build --release -p secviz; bench/setup-venv.sh
#   [KINDS="auth web dns conn"] [KEEP_CSV=1] [NO_RAW=1] bench/rollups/kinds.sh [ROWS] [REPS]
#                                          defaults: 100000000 rows per kind, 3 repetitions
# NO_RAW=1 ingests with --no-raw (no raw line kept: smaller datasets, faster ingest).
source "$(dirname "$0")/../lib.sh"
ROWS=${1:-100000000}
REPS=${2:-3}
KINDS=${KINDS:-auth web dns conn}
PY=$(bench_python)
SV=$(secviz_bin)
D="$OUT/rollups/kinds-$ROWS"
DATA="$D/lake"
mkdir -p "$D"
RAW_FLAG=; [ "${NO_RAW:-0}" = 1 ] && RAW_FLAG=--no-raw
# The analyses meant for each kind: those whose columns the kind has (the others say
# "not run").
declare -A ANALYSES=(
  [auth]="top-talkers events-over-time password-guessing"
  [web]="top-talkers events-over-time web-probing"
  [dns]="top-talkers top-ports events-over-time fan-out fan-in dns-fixed-port dns-tunnel rare-destinations beacons dns"
  [conn]="top-talkers top-ports events-over-time fan-out fan-in dns-fixed-port rare-destinations beacons long-connections exfiltration"
)
echo "== kinds, $ROWS rows per kind, $REPS repetitions, commit $(git -C "$BENCH_ROOT" rev-parse --short HEAD); load average $(load)"
for kind in $KINDS; do
  [ -n "${ANALYSES[$kind]:-}" ] || die "no kind $kind (auth, web, dns, conn)"
  K="$D/$kind"
  mkdir -p "$K"
  if [ ! -f "$DATA/lake/datasets/$kind/manifest.json" ]; then
    CSV="$D/$kind.csv"
    if [ ! -s "$CSV" ]; then
      $MEASURE --reps 1 --json "$K/generate.json" -- "$PY $BENCH_DIR/rollups/gen_kinds.py $kind $ROWS 1 $CSV.tmp"
      mv "$CSV.tmp" "$CSV"
      python3 -c 'import json, sys; w = json.load(open(sys.argv[1]))["wall"]; print(f"generated {sys.argv[3]}: {int(sys.argv[2]):,} rows, {sys.argv[4]} MB of CSV in {w:.1f} s, {int(sys.argv[2]) / w:,.0f} rows/s")' \
        "$K/generate.json" "$ROWS" "$kind" "$(du -m "$CSV" | cut -f1)"
    fi
    $MEASURE --reps 1 --json "$K/ingest.json" -- \
      "$SV ingest --data $DATA --dataset $kind --format csv --quiet $RAW_FLAG $CSV > $K/ingest.txt 2>&1"
    python3 - "$K/ingest.json" "$ROWS" "$kind" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(f"ingest {sys.argv[3]}: {int(sys.argv[2]):,} rows in {m['wall']:.1f} s wall ({m['cpu']:.1f} s CPU), "
      f"{int(sys.argv[2]) / m['wall']:,.0f} rows/s, peak RSS {m['rss_mb']} MB")
PY
    [ "${KEEP_CSV:-0}" = 1 ] || rm -f "$CSV"
  fi
  python3 - "$DATA/lake/datasets/$kind/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
data = sum(f["bytes"] for f in m["files"])
summ = sum(f.get("summary", {}).get("bytes", 0) for f in m["files"])
print(f"dataset {m['name'] if 'name' in m else sys.argv[1]}: {m['rows']:,} rows in {len(m['files'])} files, "
      f"{data/1e6:.0f} MB of Parquet, {summ/1e6:.2f} MB of summaries; rollup: {'yes' if 'rollup' in m else 'no'}")
PY
  # Every analysis meant for the kind must run.
  $SV analyze --data "$DATA" --dataset "$kind" --json > "$K/all.json"
  for name in ${ANALYSES[$kind]}; do
    $SV analyze --data "$DATA" --dataset "$kind" --json "$name" > "$K/$name.json"
    $MEASURE --reps "$REPS" --json "$K/time-$name.json" -- "$SV analyze --data $DATA --dataset $kind $name > /dev/null"
  done
  $MEASURE --reps "$REPS" --json "$K/time-all.json" -- "$SV analyze --data $DATA --dataset $kind > /dev/null"
  echo "secviz analyze ($kind, all in one process): $(json "$K/time-all.json" wall) s wall, $(json "$K/time-all.json" cpu) s CPU, peak RSS $(json "$K/time-all.json" rss_mb) MB"
  # shellcheck disable=SC2086 # the names are words
  "$PY" "$BENCH_DIR/rollups/duckdb_kinds.py" "$DATA/lake/datasets/$kind" "$REPS" "$K" ${ANALYSES[$kind]} | tee "$K/duckdb.txt"
done
echo "== load average after: $(load)"
# shellcheck disable=SC2086
python3 "$BENCH_DIR/rollups/kinds_report.py" "$D" "$ROWS" $KINDS
