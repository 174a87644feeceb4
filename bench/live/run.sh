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
