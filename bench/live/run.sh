#!/usr/bin/env bash
# Live ingest over syslog (issue 18): secviz's receiver (`secviz serve --syslog`) against
# rsyslog (Debian's rsyslogd, imtcp into a file), the same stream from the same load
# generator (bench/live/load.py), one after the other in this run:
#
#   - sustained rate: BURST messages (200 bytes, RFC 3164, newline-framed) on one TCP
#     connection as fast as it takes them, until the receiver shows all of them (secviz: the
#     dataset's committed rows, what a query reads; rsyslog: the messages in its file);
#   - delay from receipt to queryable: RATE messages a second for SECONDS, p50/p99/max of
#     the time from sending a chunk until the receiver shows it (both polled every 10 ms).
#
# Also the peak memory (VmHWM) of each receiver over the run. secviz's per-sender rate limit
# is raised for the run (--syslog-rate), as rsyslog has none.
#
# usage: bench/live/run.sh     (BURST=2000000 RATE=20000 SECONDS_STEADY=30 to change)
# needs: rsyslog (apt-get install -y rsyslog), cargo build --release -p secviz
source "$(dirname "$0")/../lib.sh"
source "$BENCH_DIR/stop.sh"
need_cmd rsyslogd rsyslog
SECVIZ=$(secviz_bin)
BURST=${BURST:-2000000}
RATE=${RATE:-20000}
SECS=${SECONDS_STEADY:-30}
WORK="$OUT/live"
rm -rf "$WORK"
mkdir -p "$WORK"
LOAD="python3 $BENCH_DIR/live/load.py"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }   # KiB
wait_port() {
  for _ in $(seq 100); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1)).close()" 2>/dev/null && return 0
    sleep 0.1
  done
  die "nothing listens on port $1"
}

PIDS=""
trap 'stop_bg $PIDS' EXIT

echo "== secviz serve --syslog" >&2
port=$(free_port)
( cd "$WORK" && exec "$SECVIZ" serve --addr 127.0.0.1:0 --syslog "127.0.0.1:$port" --syslog-rate 100000000 \
    > "$WORK/secviz.out" 2> "$WORK/secviz.err" ) &
SV=$!
PIDS="$SV"
wait_port "$port"
manifest="$WORK/secviz-data/lake/datasets/syslog/manifest.json"
$LOAD --tcp "127.0.0.1:$port" --mode burst --count "$BURST" --manifest "$manifest" > "$WORK/secviz-burst.json"
$LOAD --tcp "127.0.0.1:$port" --mode steady --rate "$RATE" --seconds "$SECS" --manifest "$manifest" --base "$BURST" > "$WORK/secviz-steady.json"
SV_HWM=$(hwm "$SV")
stop_bg "$SV"
PIDS=""

echo "== rsyslogd (imtcp into a file)" >&2
port=$(free_port)
cat > "$WORK/rsyslog.conf" <<CONF
global(workDirectory="$WORK")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="$port")
template(name="raw" type="string" string="%rawmsg%\n")
action(type="omfile" file="$WORK/rsyslog.log" template="raw")
CONF
rsyslogd -n -f "$WORK/rsyslog.conf" -i "$WORK/rsyslog.pid" > "$WORK/rsyslog.err" 2>&1 &
RS=$!
PIDS="$RS"
wait_port "$port"
$LOAD --tcp "127.0.0.1:$port" --mode burst --count "$BURST" --file "$WORK/rsyslog.log" > "$WORK/rsyslog-burst.json"
$LOAD --tcp "127.0.0.1:$port" --mode steady --rate "$RATE" --seconds "$SECS" --file "$WORK/rsyslog.log" --base "$BURST" > "$WORK/rsyslog-steady.json"
RS_HWM=$(hwm "$RS")
stop_bg "$RS"
PIDS=""

for f in secviz-burst secviz-steady rsyslog-burst rsyslog-steady; do echo "$f: $(cat "$WORK/$f.json")"; done
echo "peak memory: secviz $((SV_HWM / 1024)) MiB, rsyslogd $((RS_HWM / 1024)) MiB"
sv_rate=$(json "$WORK/secviz-burst.json" per_second)
rs_rate=$(json "$WORK/rsyslog-burst.json" per_second)
sv_p99=$(json "$WORK/secviz-steady.json" p99_ms)
rs_p99=$(json "$WORK/rsyslog-steady.json" p99_ms)
ratio=$(python3 -c "print(f'{$sv_rate/$rs_rate:.2f}')")
row "live ingest over syslog/TCP, $BURST messages, sustained" "none stated (rsyslog's rate for reference)" \
  "rsyslog $rs_rate msg/s" "$sv_rate msg/s (into Parquet, queryable)" "$ratio×" "-"
verdict=$(python3 -c "print('met' if $sv_p99 <= 5000 else 'missed')")
row "syslog receipt → queryable at $RATE msg/s, p99" "≤ 5 s (issue 18: queries see new events within 5 s)" \
  "rsyslog ${rs_p99} ms (written to its file)" "${sv_p99} ms" "-" "$verdict"

# Over HTTP: the same kind of stream as JSON lines (200 bytes each) into a member's dataset
# through the live-ingest endpoint (a token, POSTs of HTTP_CHUNK lines, each answered once
# durable), against rsyslog receiving the same JSON lines over TCP into a file (Debian's
# rsyslog has no HTTP input). The steady phase sends one POST a second (a shipper's batch;
# the endpoint allows 120 requests a minute per token), rsyslog the same chunks a second.
HTTP_BURST=${HTTP_BURST:-1000000}
HTTP_CHUNK=${HTTP_CHUNK:-20000}
HTTP_RATE=${HTTP_RATE:-20000}
echo "== secviz live ingest over HTTP" >&2
site=$(python3 -c "
import json, sys
sys.path.insert(0, '$BENCH_DIR/live')
from site_setup import make_site
data, dataset, token, _ = make_site('$SECVIZ', '$WORK/http')
print(json.dumps({'data': data, 'dataset': dataset, 'token': token}))
" 2>"$WORK/http-setup.err") || die "setting up the HTTP site failed: $(cat "$WORK/http-setup.err")"
hdata=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['data'])" "$site")
hds=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['dataset'])" "$site")
htoken=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['token'])" "$site")
( cd "$WORK/http" && exec env -u SECVIZ_DATA -u SECVIZ_DATABASE_URL RUST_LOG=warn "$SECVIZ" serve --addr 127.0.0.1:0 --data "$hdata" \
    > "$WORK/http/serve.out" 2> "$WORK/http/serve.err2" ) &
HV=$!
PIDS="$HV"
for _ in $(seq 100); do grep -q "http://" "$WORK/http/serve.out" 2>/dev/null && break; sleep 0.1; done
hurl=$(grep -o 'http://[^ ]*' "$WORK/http/serve.out" | head -1)
hmanifest="$hdata/lake/datasets/$hds/manifest.json"
hbase=$(json "$hmanifest" rows)
$LOAD --http "$hurl/api/v1/live/$hds" --token "$htoken" --format json --mode burst --count "$HTTP_BURST" \
  --chunk "$HTTP_CHUNK" --manifest "$hmanifest" --base "$hbase" > "$WORK/secviz-http-burst.json"
$LOAD --http "$hurl/api/v1/live/$hds" --token "$htoken" --format json --mode steady --rate "$HTTP_RATE" --tick 1 \
  --seconds "$SECS" --manifest "$hmanifest" --base $((hbase + HTTP_BURST)) > "$WORK/secviz-http-steady.json"
HV_HWM=$(hwm "$HV")
stop_bg "$HV"
PIDS=""

echo "== rsyslogd, the same JSON lines over TCP" >&2
port=$(free_port)
sed -e "s/port=\"[0-9]*\"/port=\"$port\"/" -e "s#rsyslog.log#rsyslog-json.log#" "$WORK/rsyslog.conf" > "$WORK/rsyslog-json.conf"
rsyslogd -n -f "$WORK/rsyslog-json.conf" -i "$WORK/rsyslog-json.pid" > "$WORK/rsyslog-json.err" 2>&1 &
RS=$!
PIDS="$RS"
wait_port "$port"
$LOAD --tcp "127.0.0.1:$port" --format json --mode burst --count "$HTTP_BURST" --chunk "$HTTP_CHUNK" \
  --file "$WORK/rsyslog-json.log" > "$WORK/rsyslog-json-burst.json"
$LOAD --tcp "127.0.0.1:$port" --format json --mode steady --rate "$HTTP_RATE" --tick 1 --seconds "$SECS" \
  --file "$WORK/rsyslog-json.log" --base "$HTTP_BURST" > "$WORK/rsyslog-json-steady.json"
RJ_HWM=$(hwm "$RS")
stop_bg "$RS"
PIDS=""
for f in secviz-http-burst secviz-http-steady rsyslog-json-burst rsyslog-json-steady; do echo "$f: $(cat "$WORK/$f.json")"; done
echo "peak memory: secviz (HTTP) $((HV_HWM / 1024)) MiB, rsyslogd (JSON over TCP) $((RJ_HWM / 1024)) MiB"
hv_rate=$(json "$WORK/secviz-http-burst.json" per_second)
rj_rate=$(json "$WORK/rsyslog-json-burst.json" per_second)
hv_p99=$(json "$WORK/secviz-http-steady.json" p99_ms)
rj_p99=$(json "$WORK/rsyslog-json-steady.json" p99_ms)
ratio=$(python3 -c "print(f'{$hv_rate/$rj_rate:.2f}')")
row "live ingest over HTTP (JSON lines, $HTTP_CHUNK per POST), $HTTP_BURST lines, sustained" "none stated (rsyslog's rate for reference)" \
  "rsyslog $rj_rate lines/s (same lines over TCP)" "$hv_rate lines/s (into Parquet, queryable)" "$ratio×" "-"
verdict=$(python3 -c "print('met' if $hv_p99 <= 5000 else 'missed')")
row "HTTP receipt → queryable at $HTTP_RATE lines/s (a POST a second), p99" "≤ 5 s (issue 18)" \
  "rsyslog ${rj_p99} ms (written to its file)" "${hv_p99} ms" "-" "$verdict"
