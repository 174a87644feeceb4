#!/usr/bin/env bash
# Each built-in analysis the summaries answer, as a user runs it: one `secviz analyze NAME`
# process per run, so every run is its process's first analysis (it reads and merges only
# the summaries' tables that analysis reads), against DuckDB computing the same result from
# the same Parquet files in the same run (bench/rollups/duckdb_side.py), and with the answers
# of the five analyses DuckDB computes compared. Needs the dataset bench/rollups/run.sh made
# (or `secviz ingest --data $BENCH_OUT/rollups/data-ROWS --dataset flows` of its CSV).
# Also `secviz analyze` of all 13 analyses in one process.
#
#   [WITHOUT_ROLLUP=1] bench/rollups/first-runs.sh [ROWS] [REPS]   defaults: 100000000 rows, 3 repetitions
source "$(dirname "$0")/../lib.sh"
ROWS=${1:-100000000}
REPS=${2:-3}
PY=$(bench_python)
SV=$(secviz_bin)
D="$OUT/rollups"
DATA="$D/data-$ROWS"
[ -f "$DATA/lake/datasets/flows/manifest.json" ] || die "no dataset at $DATA: run bench/rollups/run.sh $ROWS first"
mkdir -p "$D/first"
echo "== first runs, $ROWS rows, commit $(git -C "$BENCH_ROOT" rev-parse --short HEAD); load average $(load)"
MANIFEST="$DATA/lake/datasets/flows/manifest.json"
# Every analysis, one process per run; then all 13 in one process. With WITHOUT_ROLLUP=1,
# first the same with the dataset's rollup left out of its manifest (the analyses then merge
# every file's summary, as before rollups existed), for a comparison in the same run.
first_runs() { # label
  for name in top-talkers top-ports events-over-time rare-destinations fan-out fan-in dns-fixed-port beacons; do
    $SV analyze --data "$DATA" --dataset flows --json "$name" > "$D/first/$1$name.json"
    $MEASURE --reps "$REPS" --json "$D/first/time-$1$name.json" -- "$SV analyze --data $DATA --dataset flows $name > /dev/null"
    echo "secviz $name $(json "$D/first/time-$1$name.json" wall) $(json "$D/first/time-$1$name.json" cpu) rss_mb=$(json "$D/first/time-$1$name.json" rss_mb)"
  done
}
all_in_one() { # label
  $MEASURE --reps "$REPS" --json "$D/first/time-$1all.json" -- "$SV analyze --data $DATA --dataset flows > /dev/null"
  echo "secviz analyze (all 13, one process, $1): $(json "$D/first/time-$1all.json" wall) s wall, $(json "$D/first/time-$1all.json" cpu) s CPU, peak RSS $(json "$D/first/time-$1all.json" rss_mb) MB"
}
grep -q '"rollup"' "$MANIFEST" && echo "the dataset has a rollup" || echo "the dataset has no rollup"
if [ "${WITHOUT_ROLLUP:-0}" = 1 ] && grep -q '"rollup"' "$MANIFEST"; then
  cp "$MANIFEST" "$D/first/manifest-with-rollup.json"
  python3 - "$MANIFEST" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
del m["rollup"]
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
  first_runs no-rollup- | tee "$D/first/secviz-no-rollup.txt"
  all_in_one no-rollup- | tee -a "$D/first/secviz-no-rollup.txt"
  cp "$D/first/manifest-with-rollup.json" "$MANIFEST"
fi
first_runs "" | tee "$D/first/secviz.txt"
all_in_one "" | tee "$D/first/all.txt"
GLOB="$DATA/lake/datasets/flows/*/*.parquet"
"$PY" "$BENCH_DIR/rollups/duckdb_side.py" "$GLOB" "$REPS" "$D/first" | tee "$D/first/duckdb.txt"
echo "== load average after: $(load)"
python3 - "$D/first" "$BENCH_DIR/rollups" <<'PY'
import json, sys
d = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from compare import same
ours = {l.split()[1]: l.split() for l in open(f"{d}/secviz.txt")}
duck = {l.split()[1]: l.split() for l in open(f"{d}/duckdb.txt")}
bad = []
for name, dl in duck.items():
    f = json.load(open(f"{d}/{name}.json"))["findings"]
    ok, a, b = same(name, f, json.load(open(f"{d}/duckdb-{name}.json")))
    if not ok:
        bad.append(f"{name}: secviz {a} != duckdb {b}")
    first, dw = float(ours[name][2]), float(dl[2])
    goal = "met" if first < 1.0 and dw / first >= 10 else "**missed**"
    print(f"ROW | `{name}`, whole `secviz analyze` process | under 1 s, ≥ 10× faster than DuckDB | DuckDB {dw*1000:.0f} ms "
          f"| {first*1000:.0f} ms wall, {float(ours[name][3])*1000:.0f} ms CPU, {ours[name][4]} | {dw/first:.1f}× | {goal} |")
# With and without the rollup: the same findings.
import os
for name in ours:
    other = f"{d}/no-rollup-{name}.json"
    if os.path.exists(other):
        a = json.load(open(f"{d}/{name}.json"))["findings"]
        b = json.load(open(other))["findings"]
        if a != b:
            bad.append(f"{name}: findings with the rollup differ from those without")
        else:
            print(f"{name}: the same {len(a)} findings with and without the rollup")
for name, l in ours.items():
    if name not in duck:
        print(f"secviz only: {name} {float(l[2])*1000:.0f} ms wall, {l[4]}")
if bad:
    print("ANSWERS DIFFER:\n" + "\n".join(bad))
    sys.exit(1)
PY
