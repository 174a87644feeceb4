#!/usr/bin/env bash
# Charts and viewer benchmarks (BENCHMARKS.md, "Charts and viewer"):
#  1. server-side render time of each chart type on 1,000,000 generated pf events, against
#     DuckDB running the same aggregations on the same Parquet files (same run, a ratio);
#  2. the viewer in headless Chromium (software WebGL: SwiftShader and llvmpipe; env GLS picks):
#     time to the first drawn graph frame, frame times while panning (scripted camera and mouse
#     drag) and hover, for 5,000- and 50,000-node graphs.
# VIEWER_DIR=DIR measures the viewer bundle in DIR (`node build.mjs --outdir=DIR` in web/ of
# another version) instead of the one the server embeds: before/after on the same server.
# Data and results go to bench/out/views (gitignored). Needs python3 with duckdb, node,
# chromium and the npm packages of tests/browser (scripts/setup-test-env.sh installs them).
set -euo pipefail
source "$(dirname "$0")/../stop.sh"
cd "$(dirname "$0")/../.."
OUT="$PWD/bench/out/views"  # absolute: cargo bench runs in the crate directory
mkdir -p "$OUT"
SHARED=${SECVIZ_SHARED:-../shared}
GEN="$SHARED/tools/gen_security_data.py"
[ -f "$GEN" ] || { echo "shared data not found ($GEN): put the shared folder next to the repository (../shared) or set SECVIZ_SHARED" >&2; exit 1; }
export SECVIZ_DATA="$OUT/data"

[ -f "$OUT/pf-1m.log" ] || python3 "$GEN" --kind pf --lines 1000000 --seed 42 --out "$OUT/pf-1m.log"

echo "== server-side charts, 1,000,000 events (median of 5)"
SECVIZ_BENCH_DATASET=bench SECVIZ_BENCH_INPUT="$OUT/pf-1m.log" cargo bench -p secviz-views --bench charts --quiet | tee "$OUT/charts.jsonl"

echo "== DuckDB, the same aggregations on the same Parquet files (median of 5)"
python3 bench/views/duckdb_charts.py "$SECVIZ_DATA/lake/datasets/bench" | tee "$OUT/duckdb.jsonl"

python3 - "$OUT/charts.jsonl" "$OUT/duckdb.jsonl" <<'PY'
import json, sys
ours = {r["chart"]: r for r in map(json.loads, open(sys.argv[1]))}
duck = {r["chart"]: r for r in map(json.loads, open(sys.argv[2]))}
print("| chart | secviz query + SVG (ms) | SVG to PNG (ms) | DuckDB queries (ms) | secviz / DuckDB |")
print("|---|---|---|---|---|")
for k, r in ours.items():
    d = duck.get(k, {}).get("ms")
    print(f"| {k} | {r['svg_ms']:.0f} | {r['png_ms']:.0f} | {d:.0f} | {r['svg_ms'] / d:.2f} |")
PY

echo "== viewer frames in headless Chromium"
cargo bench -p secviz-viewer --bench serve --no-run --quiet
for n in 5000 50000; do
  name="graph$n"
  [ -f "$OUT/$name.jsonl" ] || python3 bench/views/gen_graph.py --nodes "$n" --edges $((n * 4)) --out "$OUT/$name.jsonl"
  rm -f "$OUT/$name.url"
  SECVIZ_BENCH_DATASET="$name" SECVIZ_BENCH_INPUT="$OUT/$name.jsonl" cargo bench -p secviz-viewer --bench serve --quiet > "$OUT/$name.url" &
  pid=$!
  for _ in $(seq 1 600); do grep -q http "$OUT/$name.url" 2>/dev/null && break; sleep 0.5; done
  # Both software renderers: SwiftShader (Chromium's own) and Mesa's llvmpipe (GL=llvmpipe).
  for gl in ${GLS:-swiftshader llvmpipe}; do
    (cd tests/browser && GL=$gl node ../../bench/views/frames.mjs "$(grep http "../../$OUT/$name.url")" "$n") | tee -a "$OUT/frames.jsonl"
  done
  stop_bg "$pid"
done
