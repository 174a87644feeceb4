#!/usr/bin/env bash
# Queries across query workers against the same queries in one process (issue 20): the same
# `secviz` binary, the same lake, the same run.
#
#  1. Ingest ROWS generated flow rows into a local lake (once).
#  2. Start WORKERS `secviz worker` processes on 127.0.0.1 reading that lake.
#  3. Run the four lake queries of issue 4 (bench/lake/queries.py) through `secviz query`,
#     REPS times each, without workers and with `--workers` (a process each, as a CLI user
#     runs them). The CSV answers must be byte-equal, or the script fails.
#
# The workers' CPU time (from /proc, before and after) is reported beside the coordinator's:
# on one machine the workers share its cores with the coordinator, so this measures the
# engine's overhead (planning stages, gRPC, Arrow IPC between processes), not a speed-up.
#
#   cargo build --release -p secviz
#   bench/cluster/run.sh [ROWS] [REPS]       defaults: 10000000 rows, 5 repetitions
#
# Env: WORKERS (2), TASK_BYTES (Parquet bytes per worker task; default: the engine's 16 MiB).
source "$(dirname "$0")/../lib.sh"
ROWS=${1:-10000000}
REPS=${2:-5}
WORKERS=${WORKERS:-2}
SV=$(secviz_bin)
D="$OUT/cluster"
mkdir -p "$D"
Q="$BENCH_DIR/lake/queries.py"
CSV="$D/flows-$ROWS.csv"
gen flows "$ROWS" 1 "$CSV"
DATA="$D/data-$ROWS"
if [ ! -d "$DATA/lake/datasets/flows" ]; then
  rm -rf "$DATA"
  $SV ingest -q --data "$DATA" --dataset flows --format csv "$CSV" > /dev/null
fi
export SECVIZ_WORKER_SECRET
SECVIZ_WORKER_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
[ -n "${TASK_BYTES:-}" ] && export SECVIZ_WORKER_TASK_BYTES=$TASK_BYTES

pids=()
urls=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
for i in $(seq "$WORKERS"); do
  $SV worker --data "$DATA" --listen 127.0.0.1:0 2> "$D/worker-$i.log" &
  pids+=($!)
done
for i in $(seq "$WORKERS"); do
  for _ in $(seq 100); do
    grep -q 'listening on' "$D/worker-$i.log" && break
    sleep 0.1
  done
  url=$(grep -o 'http://[0-9.:]*' "$D/worker-$i.log" | head -1)
  [ -n "$url" ] || die "worker $i did not start ($D/worker-$i.log)"
  urls+=("$url")
done
W=$(IFS=,; echo "${urls[*]}")

# CPU seconds the workers have used so far.
workers_cpu() {
  python3 - "${pids[@]}" <<'PY'
import os, sys
t = 0
for p in sys.argv[1:]:
    f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
    t += int(f[11]) + int(f[12])
print(t / os.sysconf("SC_CLK_TCK"))
PY
}
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

echo "== $WORKERS workers at $W; queries over $ROWS rows, median of $REPS; load average $(load)"
fail=0
while read -r name; do
  sql=$(python3 "$Q" sql "$name" | sed 's/{t}/flows/g')
  $SV query --data "$DATA" --format csv "$sql" > "$D/here-$name.csv"
  $SV query --data "$DATA" --workers "$W" --format csv "$sql" > "$D/workers-$name.csv"
  if ! cmp -s "$D/here-$name.csv" "$D/workers-$name.csv"; then
    echo "   $name: the answers differ ($D/here-$name.csv, $D/workers-$name.csv)" >&2
    fail=1
    continue
  fi
  $SV query --data "$DATA" --workers "$W" --format csv "EXPLAIN ANALYZE $sql" | grep -q Network \
    || { echo "   $name: the plan was not distributed" >&2; fail=1; continue; }
  $MEASURE --reps "$REPS" --json "$D/q-here-$name.json" -- \
    "$SV query --data $DATA --format csv \"$sql\" > /dev/null"
  c0=$(workers_cpu)
  $MEASURE --reps "$REPS" --json "$D/q-workers-$name.json" -- \
    "$SV query --data $DATA --workers $W --format csv \"$sql\" > /dev/null"
  c1=$(workers_cpu)
  hw=$(json "$D/q-here-$name.json" wall); hc=$(json "$D/q-here-$name.json" cpu)
  ww=$(json "$D/q-workers-$name.json" wall); wc=$(json "$D/q-workers-$name.json" cpu)
  wk=$(python3 -c "print(f'{($c1 - $c0) / $REPS * 1000:.0f}')")
  rows=$(($(wc -l < "$D/workers-$name.csv") - 1))
  row "\`secviz query --workers\` \`$name\` on $ROWS rows, $WORKERS workers on this machine, $rows rows out, equal to one process" \
    "none set (issue 20 asks for the figures)" \
    "one process: $(python3 -c "print(f'{$hw * 1000:.0f} ms wall, {$hc * 1000:.0f} ms CPU')")" \
    "$(python3 -c "print(f'{$ww * 1000:.0f} ms wall, coordinator {$wc * 1000:.0f} ms CPU, workers {$wk} ms CPU')")" \
    "$(ratio "$ww" "$hw") (all CPU $(python3 -c "print(f'{($wc + $wk / 1000) / $hc:.2f}')"))" "(no goal)"
done < <(python3 "$Q" names | sed -n 1,4p)
[ "$fail" = 0 ] || die "the workers answered differently from one process, or did not get the work (above)"
for p in "${pids[@]}"; do
  echo "   worker $p peak RSS: $(grep VmHWM /proc/$p/status | awk '{printf "%.0f MB", $2/1024}')"
done
lake_bytes=$(du -sb "$DATA/lake" | cut -f1)
csv_bytes=$(stat -c %s "$CSV")
echo "   lake: $lake_bytes bytes for $ROWS rows ($(python3 -c "print(f'{$lake_bytes / $ROWS:.1f}')") bytes a row; the CSV: $(python3 -c "print(f'{$csv_bytes / $ROWS:.1f}')") bytes a row)"
echo "   load average after: $(load)"
