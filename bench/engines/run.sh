#!/usr/bin/env bash
# Engine comparison: embedded DataFusion vs datafusion-distributed (2 workers)
# vs Ballista (scheduler + 2 executors), same Parquet, same SQL, one run.
#
#   bench/engines/run.sh [N_ROWS]           (default 10000000)
# env: RUNS=5  CARGO_TARGET_DIR=/root/.cache/engines-target  DATA_DIR=/tmp/engines-data-$N
#      OUT=/tmp/engines-out  SEPARATE_BUILDS=1 [CLEAN_BUILD=1] (time each engine's build alone; slow)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"
N="${1:-10000000}"
RUNS="${RUNS:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/root/.cache/engines-target}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
DATA_DIR="${DATA_DIR:-/tmp/engines-data-$N}"
OUT="${OUT:-/tmp/engines-out}"
PY="${PY:-$(ls /root/.cache/secviz/venv-*/bin/python 2>/dev/null | head -1)}"
if [ -z "$PY" ] || ! "$PY" -c 'import duckdb' 2>/dev/null; then
  PY=/tmp/engvenv/bin/python
  [ -x "$PY" ] || { python3 -m venv /tmp/engvenv && /tmp/engvenv/bin/pip install -q duckdb==1.4.2; }
fi
mkdir -p "$OUT"; rm -f "$OUT"/*.tsv "$OUT"/*.txt

PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
stop_all() { cleanup; PIDS=(); }

# ---- build ----
# Default: ONE cargo invocation for all three binaries. Building them one by one
# with `-p` resolves features per package (tokio "full", smallvec, chrono...
# differ), so the whole DataFusion stack is compiled again for each engine:
# ~48 min per engine on this 2-core box with CARGO_BUILD_JOBS=1.
# SEPARATE_BUILDS=1 does exactly that, to time each engine's build alone
# (add CLEAN_BUILD=1 to also start each from an empty target dir).
echo -e "engine\tbuild_s\tcargo_finished\tbinary_bytes\tcrates_normal_deps" > "$OUT/build.tsv"
PKGS=(bench-embedded bench-distributed bench-ballista)
build() { # $1 = target dir, rest = cargo -p args
  local tgt="$1"; shift
  CARGO_TARGET_DIR="$tgt" nice -n 19 cargo build --release --locked "$@" 2>&1
}
if [ "${SEPARATE_BUILDS:-0}" = 1 ]; then
  for pkg in "${PKGS[@]}"; do
    tgt="$CARGO_TARGET_DIR"
    if [ "${CLEAN_BUILD:-0}" = 1 ]; then tgt="$CARGO_TARGET_DIR/alone-$pkg"; rm -rf "$tgt"; fi
    t0=$(date +%s)
    build "$tgt" -p "$pkg" > "$OUT/build-$pkg.log" || { tail -30 "$OUT/build-$pkg.log"; exit 1; }
    echo "$pkg $(( $(date +%s) - t0 )) $(grep -o 'Finished .*' "$OUT/build-$pkg.log" | sed 's/.* in /in /')" > "$OUT/time-$pkg"
    cp "$tgt/release/$pkg" "$OUT/$pkg"
  done
else
  t0=$(date +%s)
  build "$CARGO_TARGET_DIR" -p bench-embedded -p bench-distributed -p bench-ballista > "$OUT/build-all.log" \
    || { tail -30 "$OUT/build-all.log"; exit 1; }
  for pkg in "${PKGS[@]}"; do
    echo "$pkg $(( $(date +%s) - t0 )) all-three:$(grep -o 'Finished .*' "$OUT/build-all.log" | sed 's/.* in /in /')" > "$OUT/time-$pkg"
    cp "$CARGO_TARGET_DIR/release/$pkg" "$OUT/$pkg"
  done
fi
for pkg in "${PKGS[@]}"; do
  read -r _ secs fin < "$OUT/time-$pkg"
  crates=$(nice -n 19 cargo tree --locked -p "$pkg" -e normal --prefix none | sed 's/ (\*)//' | sort -u | wc -l)
  # already stripped (profile.release strip = true)
  echo -e "$pkg\t$secs\t$fin\t$(stat -c %s "$OUT/$pkg")\t$crates" >> "$OUT/build.tsv"
done
BIN="$OUT"

# ---- data ----
if [ ! -f "$DATA_DIR/flows-7.parquet" ]; then
  nice -n 5 "$PY" gen_data.py "$DATA_DIR" "$N" 8
fi
du -sh "$DATA_DIR"

free_ports() { "$PY" - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()
PY
}
wait_port() { for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened"; exit 1; }

# ---- (c) embedded baseline ----
"$BIN/bench-embedded" "$DATA_DIR" "$OUT" "$RUNS"

# ---- (b) datafusion-distributed: 2 worker processes + coordinator ----
read -r W1 W2 < <(free_ports 2)
for p in $W1 $W2; do "$BIN/bench-distributed" worker "$p" > "$OUT/dd-worker-$p.log" 2>&1 & PIDS+=($!); done
wait_port "$W1"; wait_port "$W2"
"$BIN/bench-distributed" run "$W1,$W2" "$DATA_DIR" "$OUT" "$RUNS" 2> >(tee "$OUT/dd-coordinator.log" >&2)
stop_all

# ---- (a) Ballista: scheduler + 2 executor processes + client ----
read -r S E1 G1 E2 G2 < <(free_ports 5)
"$BIN/bench-ballista" scheduler "$S" > "$OUT/ballista-scheduler.log" 2>&1 & PIDS+=($!)
wait_port "$S"
"$BIN/bench-ballista" executor "$S" "$E1" "$G1" > "$OUT/ballista-executor-1.log" 2>&1 & PIDS+=($!)
"$BIN/bench-ballista" executor "$S" "$E2" "$G2" > "$OUT/ballista-executor-2.log" 2>&1 & PIDS+=($!)
wait_port "$E1"; wait_port "$E2"; wait_port "$G1"; wait_port "$G2"; sleep 2
"$BIN/bench-ballista" run "$S" "$DATA_DIR" "$OUT" "$RUNS"
stop_all

# ---- report ----
echo
echo "N = $N rows, 8 Parquet files ($(du -sh "$DATA_DIR" | cut -f1)), $(nproc) cores, runs = $RUNS"
echo
"$PY" report.py "$OUT"
echo
echo "| binary | build s (wall, this run) | cargo Finished | stripped bytes | crates (cargo tree -e normal) |"
echo "|---|---:|---|---:|---:|"
tail -n +2 "$OUT/build.tsv" | while IFS=$'\t' read -r a b c d e; do echo "| $a | $b | $c | $d | $e |"; done
