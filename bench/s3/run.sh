#!/usr/bin/env bash
# The lake on an S3-compatible server against the local disk (issue 20): the same `secviz`
# binary, the same generated flows, the same run.
#
#  1. Ingest: `secviz ingest` of ROWS flow rows (CSV) into a local data folder and into
#     `s3://bench/<fresh prefix>` on moto_server (127.0.0.1, configured only through the
#     AWS_* variables), INGEST_REPS times each, whole process under measure.py.
#  2. Queries: the four lake queries of issue 4 (bench/lake/queries.py) through
#     `secviz query`, REPS times each on both, as a CLI user runs them (a process each:
#     open the lake, read the manifest, plan, read Parquet). The CSV answers of both sides
#     must be byte-equal, or the script fails.
#
# moto is a test server written in Python, keeping objects in its memory: its own CPU time
# (read from /proc before and after each phase) is reported beside secviz's, so the table
# says how much of the difference is the server's cost and how much the client's.
#
#   cargo build --release -p secviz
#   source scripts/test-env.sh    # puts moto_server (pinned, in the test venv) on PATH
#   bench/s3/run.sh [ROWS] [REPS]       defaults: 2000000 rows, 5 repetitions
#
# Env: INGEST_REPS (3).
source "$(dirname "$0")/../lib.sh"
ROWS=${1:-2000000}
REPS=${2:-5}
INGEST_REPS=${INGEST_REPS:-3}
SV=$(secviz_bin)
need_cmd moto_server "nothing: run scripts/setup-test-env.sh and source scripts/test-env.sh"
D="$OUT/s3"
mkdir -p "$D"
Q="$BENCH_DIR/lake/queries.py"
CSV="$D/flows-$ROWS.csv"
gen flows "$ROWS" 1 "$CSV"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$PORT" > "$D/moto.log" 2>&1 &
MOTO=$!
trap 'kill $MOTO 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
  sleep 0.1
done
curl -sf -X PUT "http://127.0.0.1:$PORT/bench" > /dev/null || die "moto_server did not start on port $PORT ($D/moto.log)"
export AWS_ENDPOINT="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench \
  AWS_REGION=us-east-1 AWS_ALLOW_HTTP=true AWS_EC2_METADATA_DISABLED=true

# CPU seconds moto has used so far (user + sys of its process).
moto_cpu() {
  python3 - "$MOTO" <<'PY'
import os, sys
f = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()
print((int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK"))
PY
}
sub() { python3 -c "print(f'{$1 - $2:.2f}')"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

echo "== ingest: $ROWS flow rows, $INGEST_REPS times each; load average $(load)"
$MEASURE --reps "$INGEST_REPS" --json "$D/ingest-local.json" -- \
  "rm -rf $D/local && $SV ingest -q --data $D/local --dataset flows --format csv $CSV > /dev/null"
m0=$(moto_cpu)
$MEASURE --reps "$INGEST_REPS" --json "$D/ingest-s3.json" -- \
  "$SV ingest -q --data s3://bench/run-\$(date +%s%N) --dataset flows --format csv $CSV > /dev/null"
m1=$(moto_cpu)
# The last run's prefix stays for the queries.
S3_DATA=s3://bench/queries
$SV ingest -q --data "$S3_DATA" --dataset flows --format csv "$CSV" > /dev/null
moto_ingest=$(python3 -c "print(f'{($m1 - $m0) / $INGEST_REPS:.2f}')")
lw=$(json "$D/ingest-local.json" wall); lc=$(json "$D/ingest-local.json" cpu)
sw=$(json "$D/ingest-s3.json" wall); sc=$(json "$D/ingest-s3.json" cpu)
row "ingest $ROWS flow rows (CSV) into the lake on S3 (moto on 127.0.0.1)" \
  "none set (issue 20 asks for the figures)" \
  "local disk: $(python3 -c "print(f'{$lw:.2f} s wall, {$lc:.2f} s CPU')")" \
  "$(python3 -c "print(f'{$sw:.2f} s wall, {$sc:.2f} s CPU; moto used {$moto_ingest} s CPU a run')")" \
  "$(ratio "$sw" "$lw") (secviz CPU $(ratio "$sc" "$lc"))" "(no goal)"

echo "== queries, median of $REPS; load average $(load)"
fail=0
while read -r name; do
  sql=$(python3 "$Q" sql "$name" | sed 's/{t}/flows/g')
  $SV query --data "$D/local" --format csv "$sql" > "$D/local-$name.csv"
  $SV query --data "$S3_DATA" --format csv "$sql" > "$D/s3-$name.csv"
  if ! cmp -s "$D/local-$name.csv" "$D/s3-$name.csv"; then
    echo "   $name: the answers differ ($D/local-$name.csv, $D/s3-$name.csv)" >&2
    fail=1
    continue
  fi
  $MEASURE --reps "$REPS" --json "$D/q-local-$name.json" -- \
    "$SV query --data $D/local --format csv \"$sql\" > /dev/null"
  q0=$(moto_cpu)
  $MEASURE --reps "$REPS" --json "$D/q-s3-$name.json" -- \
    "$SV query --data $S3_DATA --format csv \"$sql\" > /dev/null"
  q1=$(moto_cpu)
  lw=$(json "$D/q-local-$name.json" wall); lc=$(json "$D/q-local-$name.json" cpu)
  sw=$(json "$D/q-s3-$name.json" wall); sc=$(json "$D/q-s3-$name.json" cpu)
  mq=$(python3 -c "print(f'{($q1 - $q0) / $REPS * 1000:.0f}')")
  rows=$(($(wc -l < "$D/s3-$name.csv") - 1))
  row "\`secviz query\` \`$name\` on $ROWS rows on S3 (moto), $rows rows out, equal to the local answer" \
    "none set (issue 20 asks for the figures)" \
    "local disk: $(python3 -c "print(f'{$lw * 1000:.0f} ms wall, {$lc * 1000:.0f} ms CPU')")" \
    "$(python3 -c "print(f'{$sw * 1000:.0f} ms wall, {$sc * 1000:.0f} ms CPU; moto used {$mq} ms CPU')")" \
    "$(ratio "$sw" "$lw") (secviz CPU $(ratio "$sc" "$lc"))" "(no goal)"
done < <(python3 "$Q" names | sed -n 1,4p)
[ "$fail" = 0 ] || die "the lake on S3 answered differently from the local disk (above)"
echo "   load average after: $(load)"
