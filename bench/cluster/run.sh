#!/usr/bin/env bash
# Queries across query workers against the same queries in one process (issue 20): the same
# `secviz` binary, the same lake, the same run.
#
#  1. Ingest ROWS generated flow rows into a local lake (once).
#  2. Start WORKERS `secviz worker` processes on 127.0.0.1 reading that lake.
#  3. Run the four lake queries of issue 4 (bench/lake/queries.py) through `secviz query`
#     and every analysis through `secviz analyze`, REPS times each: in one process
#     (embedded), with `--workers` naming the first worker, and naming both (a process
#     each, as a CLI user runs them). The answers must be equal, or the script fails.
#
# The workers' CPU time (from /proc, before and after) is reported beside the coordinator's:
# on one machine the workers share its cores with the coordinator, so this measures the
# engine's overhead (planning stages, gRPC, Arrow IPC between processes), not a speed-up.
#
#   cargo build --release -p secviz
#   bench/cluster/run.sh [ROWS] [REPS]       defaults: 10000000 rows, 5 repetitions
#
# Env: TASK_BYTES (Parquet bytes per worker task; default: the engine's 16 MiB).
# The goal (issue 20): across workers at most 1.3x the embedded engine's wall time.
source "$(dirname "$0")/../lib.sh"
ROWS=${1:-10000000}
REPS=${2:-5}
WORKERS=2
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
py() { python3 -c "$1"; }

# compare NAME WHAT CMD...: runs CMD (a secviz command line without --workers) embedded,
# with one worker and with two; checks the answers are equal; prints two rows.
compare() {
  local name=$1 what=$2
  shift 2
  local cmd="$SV $*"
  eval "$cmd" > "$D/here-$name.out"
  eval "$cmd --workers ${urls[0]}" > "$D/w1-$name.out"
  eval "$cmd --workers $W" > "$D/w2-$name.out"
  for n in w1 w2; do
    if ! cmp -s "$D/here-$name.out" "$D/$n-$name.out"; then
      echo "   $name: the answers differ ($D/here-$name.out, $D/$n-$name.out)" >&2
      fail=1
      return
    fi
  done
  $MEASURE --reps "$REPS" --json "$D/here-$name.json" -- "$cmd > /dev/null"
  local hw hc
  hw=$(json "$D/here-$name.json" wall)
  hc=$(json "$D/here-$name.json" cpu)
  for n in 1 2; do
    local list=${urls[0]}
    [ "$n" = 2 ] && list=$W
    local c0 c1 ww wc wk
    c0=$(workers_cpu)
    $MEASURE --reps "$REPS" --json "$D/w$n-$name.json" -- "$cmd --workers $list > /dev/null"
    c1=$(workers_cpu)
    ww=$(json "$D/w$n-$name.json" wall)
    wc=$(json "$D/w$n-$name.json" cpu)
    wk=$(py "print(($c1 - $c0) / $REPS)")
    local r verdict
    r=$(py "print(f'{$ww / $hw:.2f}')")
    verdict=$(py "print('met' if $ww / $hw <= 1.3 else '**missed**')")
    row "$what, $n worker$([ "$n" = 2 ] && echo s) on this machine, answer equal to embedded" \
      "≤ 1.3 × embedded (issue 20)" \
      "embedded: $(py "print(f'{$hw * 1000:.0f} ms wall, {$hc * 1000:.0f} ms CPU')")" \
      "$(py "print(f'{$ww * 1000:.0f} ms wall; CPU: coordinator {$wc * 1000:.0f} ms, workers {$wk * 1000:.0f} ms')")" \
      "$r (all CPU $(py "print(f'{($wc + $wk) / $hc:.2f}')"))" "$verdict"
  done
}

echo "== workers at $W; $ROWS rows, median of $REPS; load average $(load)"
fail=0
while read -r name; do
  sql=$(python3 "$Q" sql "$name" | sed 's/{t}/flows/g')
  $SV query --data "$DATA" --workers "$W" --format csv "EXPLAIN ANALYZE $sql" | grep -q Network \
    || { echo "   $name: the plan was not distributed" >&2; fail=1; continue; }
  rows=$(($($SV query --data "$DATA" --format csv "$sql" | wc -l) - 1))
  compare "$name" "\`secviz query\` \`$name\` on $ROWS rows ($rows rows out)" \
    query --data "$DATA" --format csv "\"$sql\""
done < <(python3 "$Q" names | sed -n 1,4p)
# Every built-in analysis (the findings table: scores to two decimals, see cluster_cli.rs).
nf=$($SV analyze --data "$DATA" --dataset flows --top 1000 | wc -l)
compare analyze "\`secviz analyze\` (all $($SV analyze --list | grep -c '^[a-z]') analyses) on $ROWS rows ($nf findings)" \
  analyze --data "$DATA" --dataset flows --top 1000
[ "$fail" = 0 ] || die "the workers answered differently from one process, or did not get the work (above)"
for p in "${pids[@]}"; do
  echo "   worker $p peak RSS: $(grep VmHWM /proc/$p/status | awk '{printf "%.0f MB", $2/1024}')"
done
lake_bytes=$(du -sb "$DATA/lake" | cut -f1)
files=$(find "$DATA/lake/datasets/flows" -name '*.parquet' | wc -l)
csv_bytes=$(stat -c %s "$CSV")
echo "   lake: $lake_bytes bytes in $files Parquet files for $ROWS rows ($(py "print(f'{$lake_bytes / $ROWS:.1f}')") bytes a row; the CSV: $(py "print(f'{$csv_bytes / $ROWS:.1f}')") bytes a row)"
echo "   load average after: $(load)"
