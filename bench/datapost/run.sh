#!/usr/bin/env bash
# Data-post benchmark (BENCHMARKS.md, "Data posts"): the time from the upload of a pf log of
# LINES lines to the published graph, with the share of each stage (upload, parse+ingest,
# layout, thumbnail, publish), through the real portal over HTTP (bench/datapost/driver.py).
#
#   bench/datapost/run.sh [LINES] [REPS]      defaults: 1000000 lines, 3 repetitions
#   env: PROFILE=dev for a quick indicative run (default release); BIN=path skips the build
#
# Each repetition starts a fresh portal (SQLite) on a scratch data folder under
# bench/out/datapost (gitignored). The load average is printed: the machine is shared.
set -euo pipefail
source "$(dirname "$0")/../stop.sh"
cd "$(dirname "$0")/../.."
LINES=${1:-1000000}
REPS=${2:-3}
PROFILE=${PROFILE:-release}
OUT=bench/out/datapost
SHARED=${SECVIZ_SHARED:-../shared}
GEN="$SHARED/tools/gen_security_data.py"
[ -f "$GEN" ] || { echo "shared data not found ($GEN): put the shared folder next to the repository (../shared) or set SECVIZ_SHARED" >&2; exit 1; }
TARGET=${CARGO_TARGET_DIR:-target}
if [ -n "${BIN:-}" ]; then
  :  # a binary given: no build
elif [ "$PROFILE" = release ]; then
  cargo build --release -p secviz
  BIN=$TARGET/release/secviz
else
  cargo build -p secviz
  BIN=$TARGET/debug/secviz
fi
mkdir -p "$OUT"
LOG="$OUT/pf-$LINES.log"
[ -f "$LOG" ] || python3 "$GEN" --kind pf --lines "$LINES" --seed 1 --out "$LOG"
echo "log: $LOG, $(wc -l < "$LOG") lines, $(du -h "$LOG" | cut -f1); binary: $BIN; $(nproc) cores"
PORT=${PORT:-18733}
for rep in $(seq 1 "$REPS"); do
  DATA="$OUT/site-$rep"
  rm -rf "$DATA"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$BIN" serve --data "$DATA" --addr "127.0.0.1:$PORT" > "$OUT/serve-$rep.log" 2>&1 &
  PID=$!
  trap 'stop_bg $PID' EXIT
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 0.1; done
  python3 bench/datapost/driver.py "http://127.0.0.1:$PORT" "$LOG" | tee "$OUT/result-$rep.json"
  # The server logs how long each publish step took, when it publishes.
  if ! grep -o '"publish_timings".*\|publish_timings.*' "$OUT/serve-$rep.log" | tail -1; then
    echo "(no publish timings in $OUT/serve-$rep.log)"
  fi
  stop_bg "$PID"
  trap - EXIT
done
