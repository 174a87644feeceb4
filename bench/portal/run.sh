#!/usr/bin/env bash
# Portal under HTTP load: the front page and a post page of a portal holding 10,000 posts and
# 100,000 comments (SQLite), next to nginx serving the same two pages saved as static files,
# same machine, same run. wrk: 64 connections, 30 s, 2 threads. Prints a Markdown table.
#
# usage: bench/portal/run.sh            (DURATION=30s CONNECTIONS=64 to change)
# needs: wrk and nginx (apt-get install -y wrk nginx), a Rust toolchain.
set -euo pipefail
source "$(dirname "$0")/../stop.sh"
cd "$(dirname "$0")/../.."
DURATION="${DURATION:-30s}"
CONNECTIONS="${CONNECTIONS:-64}"
OUT="bench/out/portal"
mkdir -p "$OUT"
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx: apt-get install -y wrk nginx" >&2; exit 1; }

cargo build --release -q -p secviz-portal --example bench_server
BIN="${CARGO_TARGET_DIR:-target}/release/examples/bench_server"

SERVER=""
NGINX_PID=""
cleanup() {
  stop_bg "$SERVER" "$NGINX_PID"
}
trap cleanup EXIT
start_server() { # [nocache]
  stop_bg "$SERVER"
  # The seeded data is kept between runs (seeding takes a minute); delete $OUT/data to reseed.
  "$BIN" "$OUT/data" 127.0.0.1:18080 "$@" > "$OUT/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 600); do grep -q '^ready' "$OUT/server.log" && break; sleep 1; done
  grep -q '^ready' "$OUT/server.log" || { cat "$OUT/server.log"; exit 1; }
  cat "$OUT/server.log"
}
start_server
POST=$(sed -n 's/^ready .* post=\([0-9]*\)$/\1/p' "$OUT/server.log")
BASE=http://127.0.0.1:18080

# The same pages, saved for nginx.
mkdir -p "$OUT/www/p"
curl -sf "$BASE/" -o "$OUT/www/index.html"
curl -sf "$BASE/p/$POST" -o "$OUT/www/p/$POST.html"
cat > "$OUT/nginx.conf" <<NGINX
daemon off;
worker_processes auto;
pid $PWD/$OUT/nginx.pid;
error_log $PWD/$OUT/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  default_type text/html;
  server {
    listen 127.0.0.1:18081;
    root $PWD/$OUT/www;
    location = / { try_files /index.html =404; }
    location /p/ { try_files \$uri.html =404; }
  }
}
NGINX
nginx -c "$PWD/$OUT/nginx.conf" &
NGINX_PID=$!
sleep 1
curl -sf "http://127.0.0.1:18081/p/$POST" > /dev/null

run() { # name url
  wrk -t2 -c"$CONNECTIONS" -d5s "$2" > /dev/null          # warm-up
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$2" > "$OUT/$1.txt"
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$OUT/$1.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$OUT/$1.txt")
  local errors
  errors=$(awk '/Non-2xx|Socket errors/ {print}' "$OUT/$1.txt")
  echo "$1 $rps $p99 ${errors:-}" | tee -a "$OUT/summary.txt"
}
: > "$OUT/summary.txt"
run secviz-front "$BASE/"
run nginx-front "http://127.0.0.1:18081/"
run secviz-post "$BASE/p/$POST"
run nginx-post "http://127.0.0.1:18081/p/$POST"
# The same pages rendered from the database on every request (anonymous page cache off).
start_server nocache
run secviz-front-nocache "$BASE/"
run secviz-post-nocache "$BASE/p/$POST"

echo
echo "| page | secviz rps | secviz p99 | secviz, no page cache: rps | p99 | nginx static rps | nginx p99 | secviz / nginx | no cache / nginx |"
echo "|---|---|---|---|---|---|---|---|---|"
for page in front post; do
  read -r _ s_rps s_p99 _ < <(grep "^secviz-$page " "$OUT/summary.txt")
  read -r _ u_rps u_p99 _ < <(grep "^secviz-$page-nocache " "$OUT/summary.txt")
  read -r _ n_rps n_p99 _ < <(grep "^nginx-$page " "$OUT/summary.txt")
  ratio=$(awk -v a="$s_rps" -v b="$n_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')
  uratio=$(awk -v a="$u_rps" -v b="$n_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')
  echo "| $page | $s_rps | $s_p99 | $u_rps | $u_p99 | $n_rps | $n_p99 | $ratio | $uratio |"
done
