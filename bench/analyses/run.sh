#!/usr/bin/env bash
# The built-in analyses over ROWS generated flow events (issue 16): each analysis's time
# through `secviz analyze NAME --json` (whole process, median of REPS), and DuckDB computing
# the same result in the same run on the same Parquet files (the lake's): every entity's
# statistic, the population's median and MAD, each candidate's robust z, the top 10
# (bench/analyses/duckdb_analyses.py; in-process, median of REPS). The two answers (entities
# and z) must agree, or the script fails.
#
# Analyses DuckDB does not redo here are timed on secviz's side only, and `secviz analyze`
# with no name (all of them) is timed too.
#
#   cargo build --release -p secviz
#   bench/analyses/run.sh [ROWS] [REPS]       defaults: 10000000 rows, 3 repetitions
source "$(dirname "$0")/../lib.sh"
ROWS=${1:-10000000}
REPS=${2:-3}
PY=$(bench_python)
SV=$(secviz_bin)
D="$OUT/analyses"
mkdir -p "$D"
CSV="$OUT/lake/flows-$ROWS.csv"
mkdir -p "$OUT/lake"
gen flows "$ROWS" 1 "$CSV"
DATA="$D/data-$ROWS"
if [ ! -d "$DATA/lake/datasets/flows" ]; then
  rm -rf "$DATA"
  $SV ingest -q --data "$DATA" --dataset flows --format csv "$CSV" > /dev/null
fi
GLOB="$DATA/lake/datasets/flows/*/*.parquet"
ls $DATA/lake/datasets/flows/*/*.parquet > /dev/null || die "no Parquet files under $DATA"
echo "== analyses over $ROWS flow events; load average $(load)"

"$PY" "$BENCH_DIR/analyses/duckdb_analyses.py" "$GLOB" "$REPS" "$D" | tee "$D/duckdb.txt"

names=$($SV analyze --list | awk '/^[a-z]/ {print $1}')
: > "$D/secviz.txt"
for name in $names; do
  $MEASURE --reps "$REPS" --json "$D/secviz-$name.json" -- \
    "$SV analyze $name --data $DATA --dataset flows --json > $D/secviz-$name.out; [ \$? -le 1 ]"
  python3 - "$D" "$name" <<'PY' | tee -a "$D/secviz.txt"
import json, sys
d, name = sys.argv[1], sys.argv[2]
m = json.load(open(f"{d}/secviz-{name}.json"))
out = json.load(open(f"{d}/secviz-{name}.out"))
ran = "not_run" if out["not_run"] else "ran"
print(f"secviz {name} {m['wall']:.4f} {m['cpu']:.4f} {ran} findings={len(out['findings'])}")
PY
done
$MEASURE --reps "$REPS" --json "$D/secviz-all.json" -- \
  "$SV analyze --data $DATA --dataset flows --top 1000 > /dev/null"

python3 - "$D" "$ROWS" <<'PY'
import json, sys
d, rows = sys.argv[1], int(sys.argv[2])

def key(f):
    x = f["detail"]
    ent = {"talker": ["ip"], "fan_out": ["src"], "rare_destination": ["dst"], "beacon": ["src", "dst"]}[x["kind"]]
    return [x[k] for k in ent]

duck = {l.split()[1]: l.split() for l in open(f"{d}/duckdb.txt")}
sv = {l.split()[1]: l.split() for l in open(f"{d}/secviz.txt")}
bad = []
for name, dl in duck.items():
    ours = json.load(open(f"{d}/secviz-{name}.out"))["findings"]
    theirs = json.load(open(f"{d}/duckdb-{name}.json"))
    a = sorted(([*key(f), round(f["z"], 4)] for f in ours), key=lambda r: (-r[-1], r[:-1]))
    b = sorted(([*r[:-1], round(r[-1], 4)] for r in theirs), key=lambda r: (-r[-1], r[:-1]))
    if a != b:
        bad.append(f"{name}: secviz {a[:3]} ... != duckdb {b[:3]} ...")
    sw, sc = float(sv[name][2]), float(sv[name][3])
    dw, dc = float(dl[2]), float(dl[3])
    print(f"ROW | analysis `{name}` over {rows:,} flow events (top 10 by robust z, same entities and z) "
          f"| (issue 16: time per analysis) | DuckDB {dw*1000:.0f} ms wall, {dc*1000:.0f} ms CPU "
          f"| {sw*1000:.0f} ms wall, {sc*1000:.0f} ms CPU (whole process) | {sw/dw:.2f} (CPU {sc/dc:.2f}) | (no goal) |")
for name, l in sv.items():
    if name not in duck:
        print(f"secviz only: {name} {float(l[2])*1000:.0f} ms wall, {float(l[3])*1000:.0f} ms CPU, {l[4]}, {l[5]}")
m = json.load(open(f"{d}/secviz-all.json"))
print(f"secviz all analyses: {m['wall']*1000:.0f} ms wall, {m['cpu']*1000:.0f} ms CPU, peak RSS {m['rss_mb']} MB")
if bad:
    print("ANSWERS DIFFER:\n" + "\n".join(bad))
    sys.exit(1)
PY
