#!/usr/bin/env bash
# Each built-in analysis the summaries answer, as a user runs it: one `secviz analyze NAME`
# process per run, so every run is its process's first analysis (it reads and merges only
# the summaries' tables that analysis reads), against DuckDB computing the same result from
# the same Parquet files in the same run (bench/rollups/duckdb_side.py), and with the answers
# of the five analyses DuckDB computes compared. Needs the dataset bench/rollups/run.sh made
# (or `secviz ingest --data $BENCH_OUT/rollups/data-ROWS --dataset flows` of its CSV).
#
#   bench/rollups/first-runs.sh [ROWS] [REPS]      defaults: 100000000 rows, 3 repetitions
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
for name in top-talkers top-ports events-over-time rare-destinations fan-out fan-in dns-fixed-port beacons; do
  $SV analyze --data "$DATA" --dataset flows --json "$name" > "$D/first/$name.json"
  $MEASURE --reps "$REPS" --json "$D/first/time-$name.json" -- "$SV analyze --data $DATA --dataset flows $name > /dev/null"
  echo "secviz $name $(json "$D/first/time-$name.json" wall) $(json "$D/first/time-$name.json" cpu) rss_mb=$(json "$D/first/time-$name.json" rss_mb)"
done | tee "$D/first/secviz.txt"
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
for name, l in ours.items():
    if name not in duck:
        print(f"secviz only: {name} {float(l[2])*1000:.0f} ms wall, {l[4]}")
if bad:
    print("ANSWERS DIFFER:\n" + "\n".join(bad))
    sys.exit(1)
PY
