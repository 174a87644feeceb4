#!/usr/bin/env bash
# Seeds each fuzz target's corpus with real samples and generated lines, then runs every
# target for SECS seconds (default 60). Needs cargo-fuzz and a nightly toolchain.
#   ./seed.sh            seed and run all targets
#   SECS=600 ./seed.sh pf   one target, longer
set -euo pipefail
cd "$(dirname "$0")"
REAL=${REAL:-../../shared/data/real}
[ -d "$REAL" ] || REAL=/work/shared/data/real
GEN=${GEN:-../../shared/tools/gen_security_data.py}
[ -f "$GEN" ] || GEN=/work/shared/tools/gen_security_data.py
SECS=${SECS:-60}

seed() { # target, files...
  local t=$1; shift
  mkdir -p "corpus/$t"
  for f in "$@"; do
    # Small slices: libFuzzer prefers short inputs; keep headers with the first lines.
    head -c 4096 "$f" > "corpus/$t/$(basename "$f")-head"
  done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$GEN" --kind pf --lines 50 --out "$tmp/pf.log"
python3 "$GEN" --kind flows --lines 50 --out "$tmp/flows.csv"
python3 "$GEN" --kind afterglow --lines 50 --out "$tmp/ag.csv"

seed pf "$tmp/pf.log"
seed tcpdump "$tmp/pf.log"
seed csv "$tmp/flows.csv" "$tmp/ag.csv"
seed zeek "$REAL"/zat/*.log "$REAL"/zat/json/*.log
seed jsonl "$REAL"/zat/json/*.log
seed syslog "$REAL"/loghub/*.log
seed access "$REAL"/elastic-examples/apache_logs
mkdir -p corpus/pcap
for f in "$REAL"/zeek-training/*.pcap; do
  # The pcap target reads its mode from the first byte.
  { printf '\x00'; head -c 8192 "$f"; } > "corpus/pcap/$(basename "$f")-packets"
  { printf '\x79'; head -c 8192 "$f"; } > "corpus/pcap/$(basename "$f")-flows"
done
mkdir -p corpus/detect
cp corpus/*/* corpus/detect/ 2>/dev/null || true

targets=${1:-"pf tcpdump pcap zeek csv jsonl syslog access detect"}
for t in $targets; do
  echo "== fuzz $t for ${SECS}s"
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$SECS" -max_len=8192 -rss_limit_mb=1024
done
