#!/usr/bin/env bash
# pcap (issue 3 asks for packets per second): secviz against tshark printing the same
# fields, on a capture built from all the real captures in ../shared/data/real repeated
# COPIES times (mergecap -a, never committed), large enough that tshark's start-up is a
# small share of its time. The start-up is measured on the smallest real capture (2
# packets) in the same run; the script prints its share and fails if it is 5% or more.
#
#   cargo build --release -p secviz && bench/pcap/run.sh
#
# Env: COPIES (16), REPS (3). Needs tshark and mergecap:
#   DEBIAN_FRONTEND=noninteractive apt-get install -y tshark
source "$(dirname "$0")/../lib.sh"
COPIES=${COPIES:-16}
REPS=${REPS:-3}
need_cmd tshark tshark
need_cmd mergecap tshark
need_cmd capinfos tshark
SV=$(secviz_bin)
D="$OUT/pcap"
mkdir -p "$D"
SRC=("$REAL"/zeek-training/*.pcap)
BIG="$D/real-x$COPIES.pcap"
if [ ! -s "$BIG" ]; then
  files=()
  for _ in $(seq "$COPIES"); do files+=("${SRC[@]}"); done
  mergecap -a -F pcap -w "$BIG.tmp" "${files[@]}"
  mv "$BIG.tmp" "$BIG"
fi
TINY="$REAL/zeek-training/dns.pcap"
packets=$(capinfos -T -r -c "$BIG" | cut -f2)
tiny_packets=$(capinfos -T -r -c "$TINY" | cut -f2)
echo "== pcap: $packets packets (${#SRC[@]} real captures x $COPIES); load average $(load)"

TS="tshark -n -r"
TF="-T fields -E separator=, -E occurrence=f -e ip.src -e ip.dst -e tcp.dstport -e udp.dstport"
# Same rows: one per packet on both sides.
$TS "$BIG" $TF 2>/dev/null > "$D/tshark.csv"
"$SV" parse "$BIG" --fields src_ip,dst_ip,dst_port --to csv --no-header --rejects "$D/rejects" \
  > "$D/secviz.csv" 2> "$D/secviz.stderr"
nt=$(wc -l < "$D/tshark.csv"); ns=$(wc -l < "$D/secviz.csv")
[ "$nt" -eq "$packets" ] || die "tshark printed $nt rows for $packets packets"
[ "$ns" -eq "$packets" ] || die "secviz printed $ns rows for $packets packets (see $D/secviz.stderr)"
# Same addresses and destination port wherever tshark shows IPv4 and a TCP/UDP port.
python3 - "$D/tshark.csv" "$D/secviz.csv" <<'PY' || die "tshark and secviz disagree (above)"
import sys
bad = same = 0
for i, (t, s) in enumerate(zip(open(sys.argv[1]), open(sys.argv[2]))):
    t = t.rstrip("\n").split(","); s = s.rstrip("\n").split(",")
    if not t[0] or not (t[2] or t[3]):
        continue
    want = [t[0], t[1], t[2] or t[3]]
    if s != want:
        bad += 1
        if bad <= 5: print(f"packet {i + 1}: tshark {want} secviz {s}", file=sys.stderr)
    else:
        same += 1
print(f"   tshark and secviz agree on {same} IPv4 TCP/UDP packets, {bad} differ", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
rm -f "$D/tshark.csv" "$D/secviz.csv"

$MEASURE --reps "$REPS" --json "$D/tshark-tiny.json" -- "$TS $TINY $TF > /dev/null 2>&1"
$MEASURE --reps "$REPS" --json "$D/tshark.json" -- "$TS $BIG $TF > /dev/null 2>&1"
$MEASURE --reps "$REPS" --json "$D/secviz.json" -- \
  "$SV parse $BIG --fields src_ip,dst_ip,dst_port --to csv --no-header --rejects $D/rejects > /dev/null 2>&1"
python3 - "$D" "$packets" "$tiny_packets" <<'PY' > "$D/row.txt"
import json, sys
d, n, tiny_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t, tiny, s = (json.load(open(f"{d}/{k}.json")) for k in ["tshark", "tshark-tiny", "secviz"])
share = tiny["cpu"] / t["cpu"]
print(f"   tshark start-up ({tiny_n} packets): {tiny['cpu']:.2f} s CPU = {share:.1%} of its {t['cpu']:.2f} s CPU on {n:,} packets", file=sys.stderr)
if share >= 0.05:
    sys.exit(f"tshark's start-up is {share:.1%} of its time: raise COPIES")
fig = lambda r: f"{n / r['cpu'] / 1e6:.2f} M packets/s ({r['cpu']:.2f} s CPU, {r['wall']:.2f} s wall)"
print("\t".join([f"read {n:,} packets (pcap, the real captures repeated) and print src, dst, dst port as CSV",
                 "none set (issue 3: record packets/s)",
                 f"tshark -T fields: {fig(t)}; its start-up {share:.1%} of that", fig(s),
                 f"{s['cpu'] / t['cpu']:.3f} (CPU)", "(no goal)"]))
PY
IFS=$'\t' read -r a b c e f g < "$D/row.txt"
row "$a" "$b" "$c" "$e" "$f" "$g"
