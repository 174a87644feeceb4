#!/usr/bin/env bash
# Pages under hostile queries (issue 14): the release `secviz serve` with the demo posts
# (SQLite, default limits), wrk with 200 connections for 60 s against the front page and
# against a post page, first alone and then while eight clients send hostile queries without
# pause, each request from a new address (the kinds the hostile-input suite sends: plan-time stack bombs, self-joins,
# string and series bombs, regular expressions, a views filter deep enough to overflow an
# unguarded planner, and a legitimate heavy
# GROUP BY). One run, same machine, same server. Prints a Markdown table: requests/s, p99,
# errors (socket errors and non-2xx), peak RSS of the server, and the hostile queries sent
# and how they ended.
#
# usage: bench/portal/hostile.sh            (DURATION=60s CONNECTIONS=200 to change)
# needs: wrk and curl (apt-get install -y wrk curl), a Rust toolchain.
set -euo pipefail
source "$(dirname "$0")/../stop.sh"
cd "$(dirname "$0")/../.."
DURATION="${DURATION:-60s}"
CONNECTIONS="${CONNECTIONS:-200}"
OUT="bench/out/hostile"
command -v wrk >/dev/null && command -v curl >/dev/null || { echo "needs wrk and curl: apt-get install -y wrk curl" >&2; exit 1; }

cargo build --release -q -p secviz
BIN="${CARGO_TARGET_DIR:-target}/release/secviz"
rm -rf "$OUT" && mkdir -p "$OUT"
"$BIN" demo --data "$OUT/data" > "$OUT/demo.log" 2>&1

PORT=18090
BASE="http://127.0.0.1:$PORT"
SERVER=""
LOADERS=()
cleanup() {
  stop_bg "${LOADERS[@]}" "$SERVER"
}
trap cleanup EXIT
"$BIN" serve --data "$OUT/data" --addr "127.0.0.1:$PORT" --trust-proxy > "$OUT/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "$BASE/healthz" >/dev/null || { cat "$OUT/server.log"; exit 1; }
# The largest demo dataset (the botnet).
DATASET=$(curl -sf "$BASE/p/1" | grep -o 'data-api="/api/v1/views/datasets/[^"]*"' | head -1 | sed 's|.*/||; s|"||')
[ -n "$DATASET" ] || { echo "no dataset on /p/1" >&2; exit 1; }
curl -sf "$BASE/" >/dev/null; curl -sf "$BASE/p/1" >/dev/null

plus=$(printf '1+%.0s' $(seq 1 5000))
ors=$(printf 'dst_port = 1 OR %.0s' $(seq 1 3000))
filter="dst_port = $(printf '1+%.0s' $(seq 1 1900))1"
nested="{\"version\":1,\"kind\":\"bar\",\"fields\":[\"src_ip\"],\"top_k\":10,\"filter\":\"$filter\"}"
cat > "$OUT/queries.txt" <<SQL
SELECT ${plus}1
SELECT count(*) FROM events WHERE ${ors}dst_port = 2
SELECT count(*) FROM events a JOIN events b ON a.protocol = b.protocol JOIN events c ON b.protocol = c.protocol JOIN events d ON c.protocol = d.protocol
SELECT max(length(repeat(raw, 100000))) FROM events
SELECT count(*) FROM generate_series(1, 1000000000000)
SELECT sum(value % 13) FROM generate_series(1, 300000000)
SELECT count(*) FROM events WHERE regexp_like(raw, '(a+)+\$')
SELECT length(string_agg(repeat(raw, 20000), ',')) FROM events
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r
SELECT src_ip, dst_ip, dst_port, count(*) AS n, sum(bytes) AS b FROM events GROUP BY 1, 2, 3 ORDER BY n DESC
SQL
printf '%s' "$nested" > "$OUT/nested.json"

# One hostile client: sends the queries (and the deep views filter) in turn, without pause,
# and counts the answers by status.
hostile_client() { # ip prefix
  local prefix=$1 n=0 ip status
  while true; do
    while IFS= read -r sql; do
      # Each request from another address (an attacker with many): the per-address rate
      # limits stay out of the way, and the executor's queue and limits do the work.
      n=$(( (n + 1) % 250 )); ip="$prefix.$n"
      status=$(curl -s -o /dev/null -w '%{http_code}' -m 60 -H "X-Forwarded-For: $ip" \
        --data-urlencode "sql=$sql" "$BASE/api/v1/datasets/$DATASET/query") || status=000
      echo "$status" >> "$OUT/hostile-$prefix.status"
    done < "$OUT/queries.txt"
    n=$(( (n + 1) % 250 )); ip="$prefix.$n"
    status=$(curl -s -o /dev/null -w '%{http_code}' -m 60 -H "X-Forwarded-For: $ip" -G \
      --data-urlencode "spec@$OUT/nested.json" "$BASE/api/v1/views/datasets/$DATASET/facets") || status=000
    echo "$status" >> "$OUT/hostile-$prefix.status"
  done
}

# Peak RSS (MiB) of the server while a command runs.
with_peak_rss() { # file cmd...
  local file=$1; shift
  ( peak=0; while kill -0 "$SERVER" 2>/dev/null; do
      kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER/status" 2>/dev/null || echo 0)
      [ "${kb:-0}" -gt "$peak" ] && { peak=$kb; echo $((peak / 1024)) > "$file"; }
      sleep 0.2; done ) &
  local sampler=$!
  "$@"
  stop_bg "$sampler"
}

run_wrk() { # name path
  local name=$1 path=$2
  with_peak_rss "$OUT/$name.rss" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$BASE$path" > "$OUT/$name.wrk"
}

row() { # label name
  local f="$OUT/$2.wrk"
  local rps p99 sock non2xx
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$f")
  p99=$(awk '$1 == "99%" {print $2}' "$f")
  sock=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$f")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$f")
  echo "| $1 | $rps | $p99 | ${sock:-0} socket, ${non2xx:-0} non-2xx | $(cat "$OUT/$2.rss") MiB |"
}

run_wrk front-calm /
run_wrk post-calm /p/1
for i in $(seq 1 8); do hostile_client "10.$i.0" & LOADERS+=($!); done
sleep 2
run_wrk front-hostile /
run_wrk post-hostile /p/1
stop_bg "${LOADERS[@]}"
LOADERS=()
kill -0 "$SERVER" || { echo "the server died" >&2; exit 1; }

echo "| page, load | requests/s | p99 | errors | peak RSS |"
echo "|---|---:|---:|---|---:|"
row "front page, alone" front-calm
row "front page, with hostile queries" front-hostile
row "post page, alone" post-calm
row "post page, with hostile queries" post-hostile
echo
echo "Hostile requests sent during the two loaded runs, by answer status:"
cat "$OUT"/hostile-*.status | sort | uniq -c | awk '{printf "%s × %s; ", $1, $2} END {print ""}'
