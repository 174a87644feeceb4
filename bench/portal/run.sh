#!/usr/bin/env bash
# Portal under HTTP load: the front page and a post page of a portal holding 10,000 posts and
# 100,000 comments (SQLite), anonymous and as a logged-in member (issue 19.1: a session
# made through the real log-in form), next to nginx serving the same pages, the same HTML
# byte for byte, saved as static files; same machine, same run. wrk: 32 connections, 30 s,
# 2 threads. Prints a Markdown table.
#
# usage: bench/portal/run.sh            (DURATION=30s CONNECTIONS=32 to change)
# needs: wrk and nginx (apt-get install -y wrk nginx), a Rust toolchain.
set -euo pipefail
source "$(dirname "$0")/../stop.sh"
cd "$(dirname "$0")/../.."
DURATION="${DURATION:-30s}"
CONNECTIONS="${CONNECTIONS:-32}"
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

# A member's session, through the real log-in form (a seeded account).
JAR="$OUT/member.jar"
rm -f "$JAR"
CSRF=$(curl -sf -c "$JAR" "$BASE/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
[ -n "$CSRF" ] || { echo "no CSRF token on the log-in form" >&2; exit 1; }
code=$(curl -s -b "$JAR" -c "$JAR" -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$CSRF" \
  --data-urlencode "username=analyst1" --data-urlencode "password=bench passphrase long enough" "$BASE/login")
[ "$code" = 303 ] || { echo "log-in answered $code, not 303" >&2; exit 1; }
# curl writes HttpOnly cookies as "#HttpOnly_host ..." lines.
COOKIE=$(sed 's/^#HttpOnly_//' "$JAR" | awk '!/^#/ && NF >= 7 { printf "%s%s=%s", sep, $6, $7; sep = "; " }')
curl -sf -H "Cookie: $COOKIE" "$BASE/" | grep -q 'analyst1' || { echo "the member's front page does not name the member" >&2; exit 1; }

# The same pages, saved for nginx (the member's under /m/, as the member sees them).
mkdir -p "$OUT/www/p" "$OUT/www/m/p"
curl -sf "$BASE/" -o "$OUT/www/index.html"
curl -sf "$BASE/p/$POST" -o "$OUT/www/p/$POST.html"
curl -sf -H "Cookie: $COOKIE" "$BASE/" -o "$OUT/www/m/index.html"
curl -sf -H "Cookie: $COOKIE" "$BASE/p/$POST" -o "$OUT/www/m/p/$POST.html"
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
    location = /m/ { try_files /m/index.html =404; }
    location /m/p/ { try_files \$uri.html =404; }
  }
}
NGINX
nginx -c "$PWD/$OUT/nginx.conf" &
NGINX_PID=$!
sleep 1
curl -sf "http://127.0.0.1:18081/p/$POST" > /dev/null

# CPU seconds (user + system) the server's processes have used: secviz's one process, or
# nginx's workers. Requests a second depend on how costly the machine's loopback is for
# everyone; CPU per request is the server's own cost.
server_cpu() { # name
  local pids
  case $1 in
    secviz-*) pids=$SERVER ;;
    nginx-*) pids=$(pgrep -P "$NGINX_PID" | tr '\n' ' ') ;;
  esac
  local ticks=0 p
  for p in $pids; do
    ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}
run() { # name url [wrk args]
  local name=$1 url=$2
  shift 2
  wrk -t2 -c"$CONNECTIONS" -d5s "$@" "$url" > /dev/null          # warm-up
  local cpu0 cpu1
  cpu0=$(server_cpu "$name")
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" > "$OUT/$name.txt"
  cpu1=$(server_cpu "$name")
  local rps p99 requests us
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$OUT/$name.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$OUT/$name.txt")
  requests=$(awk '/requests in/ {print $1}' "$OUT/$name.txt")
  us=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$requests" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')
  local errors
  errors=$(awk '/Non-2xx|Socket errors/ {print}' "$OUT/$name.txt")
  echo "$name $rps $p99 $us ${errors:-}" | tee -a "$OUT/summary.txt"
}
: > "$OUT/summary.txt"
run secviz-front "$BASE/"
run nginx-front "http://127.0.0.1:18081/"
run secviz-post "$BASE/p/$POST"
run nginx-post "http://127.0.0.1:18081/p/$POST"
run secviz-member-front "$BASE/" -H "Cookie: $COOKIE"
run nginx-member-front "http://127.0.0.1:18081/m/"
run secviz-member-post "$BASE/p/$POST" -H "Cookie: $COOKIE"
run nginx-member-post "http://127.0.0.1:18081/m/p/$POST"
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
echo
echo "| member page (issue 19.1: ≥ 25% of nginx, p99 < 20 ms) | secviz rps | secviz p99 | nginx static rps | nginx p99 | secviz / nginx | server CPU µs per request: secviz | nginx | nginx ÷ secviz |"
echo "|---|---|---|---|---|---|---|---|---|"
for page in front post; do
  read -r _ s_rps s_p99 s_us _ < <(grep "^secviz-member-$page " "$OUT/summary.txt")
  read -r _ n_rps n_p99 n_us _ < <(grep "^nginx-member-$page " "$OUT/summary.txt")
  ratio=$(awk -v a="$s_rps" -v b="$n_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')
  cpu_ratio=$(awk -v a="$s_us" -v b="$n_us" 'BEGIN { printf "%.0f%%", 100 * b / a }')
  echo "| $page | $s_rps | $s_p99 | $n_rps | $n_p99 | $ratio | $s_us | $n_us | $cpu_ratio |"
done
