#!/usr/bin/env bash
# Parsing speed by format (issue 19.2): secviz-parse into Arrow batches (every column, what
# ingest does), on one thread and on every core, against awk printing the same fields, on
# the same 1 M-line inputs, in this run.
#
#   cargo build --release -p secviz-parse --example parse_bench
#   bench/parse/formats.sh
#
# Env: LINES (5000000), REPS (5), FORMATS ("pf tcpdump syslog access zeek"). See
# bench/lib.sh for SECVIZ_SHARED, CARGO_TARGET_DIR, BENCH_OUT.
#
# Five million lines per input: at one million, a parse on two threads took 0.2 s, and a
# burst of the machine's noise moved a median of nine runs by up to a quarter (seen on a
# 2-core VM: tcpdump on two threads 0.18-0.31 s within one run); runs of 1-3.5 s vary by
# a few percent. The first run generates the inputs (about a minute each).
#
# The awk baselines split each line on whitespace (Zeek: tabs) and print the fields that
# hold what secviz reads (time, addresses and ports, action or status, sizes) as CSV,
# without validating or converting anything: less work than parsing, so a fair floor.
# Two awks: the system's `awk` (gawk 5.2 on Debian 12) and mawk, usually the faster; the
# goals are judged against the faster of the two.
#
# parse_bench runs on the secviz binary's allocator (jemalloc under the sandbox's counting,
# which the sandbox crate sets for every binary that links it), as `secviz parse` does.
#
# One thread: lines per CPU second (user + sys) of `parse_bench --threads 1`, against awk's
# lines per CPU second; goal ≥ 1.5×. All cores: lines per wall second of
# `parse_bench --threads $(nproc)` against awk's lines per wall second (one process);
# goal ≥ 2.5× on two cores. Before timing, the script checks that the parallel parse gives
# the serial one's output (CSV of every column, byte for byte).
source "$(dirname "$0")/../lib.sh"
REPS=${REPS:-5}
LINES=${LINES:-5000000}
FORMATS=${FORMATS:-pf tcpdump syslog access zeek}
CORES=$(nproc)
PB=$(need_bin "$TARGET/release/examples/parse_bench" "cargo build --release -p secviz-parse --example parse_bench")
need_cmd mawk mawk
D="$OUT/parse-formats"
mkdir -p "$D"
export SECVIZ_SHARED="$SHARED"

declare -A PROG SEP
PROG[pf]='{print $1" "$2" "$3","$5","$6","$7","$9","$10","$12}'
PROG[tcpdump]='{print $1","$3","$5","$6","$NF}'
PROG[syslog]='{print $1" "$2" "$3","$4","$5","$6","$(NF-2)","$NF}'
PROG[access]='{print $1","$4" "$5","$6" "$7" "$8","$9","$10}'
PROG[zeek]='!/^#/ {print $1","$3","$4","$5","$6","$7","$10","$11}'
SEP[zeek]='\t'

echo "== parse by format, $LINES lines each, $CORES cores; load average $(load)"
for f in $FORMATS; do
  IN="$D/$f-$LINES.log"
  if [ ! -s "$IN" ]; then
    if [ "$f" = pf ]; then gen pf "$LINES" 1 "$IN"; else python3 "$BENCH_DIR/parse/gen_formats.py" "$f" "$LINES" "$IN.tmp" && mv "$IN.tmp" "$IN"; fi
  fi
  # The parallel parse is the serial one, byte for byte (CSV of every column).
  "$PB" "$IN" csv --year 2005 --threads 1 --out "$D/$f.serial.csv" > /dev/null
  "$PB" "$IN" csv --year 2005 --threads "$CORES" --out "$D/$f.parallel.csv" > /dev/null
  cmp -s "$D/$f.serial.csv" "$D/$f.parallel.csv" || die "$f: the parse on $CORES threads differs from the serial one: diff $D/$f.serial.csv $D/$f.parallel.csv"
  rows=$(($(wc -l < "$D/$f.serial.csv") - 1))
  rm -f "$D/$f.serial.csv" "$D/$f.parallel.csv"
  sep=${SEP[$f]:-}
  fs=${sep:+-F "'$sep'"}
  # The four take turns, round after round (measure.py --pair): a drift of the machine's
  # speed then weighs on awk and secviz alike.
  $MEASURE --reps "$REPS" \
    --pair "$D/$f.gawk.json" "awk $fs '${PROG[$f]}' $IN > /dev/null" \
    --pair "$D/$f.mawk.json" "mawk $fs '${PROG[$f]}' $IN > /dev/null" \
    --pair "$D/$f.one.json" "$PB $IN arrow --year 2005 --threads 1 > /dev/null" \
    --pair "$D/$f.all.json" "$PB $IN arrow --year 2005 --threads $CORES > /dev/null"
  python3 - "$D" "$f" "$LINES" "$rows" "$CORES" <<'PY' > "$D/$f.rows"
import json, sys
d, f, n, rows, cores = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
r = {k: json.load(open(f"{d}/{f}.{k}.json")) for k in ["gawk", "mawk", "one", "all"]}
cpu = lambda k: n / r[k]["cpu"] / 1e6
wall = lambda k: n / r[k]["wall"] / 1e6
best = max(["gawk", "mawk"], key=cpu)
bestw = max(["gawk", "mawk"], key=wall)
name = {"gawk": "gawk", "mawk": "mawk"}
def out(work, goal, base, mine, ratio, ok):
    print("\t".join([work, goal, base, mine, f"{ratio:.2f}", "met" if ok else "**missed**"]))
others = lambda fn, b: "; ".join(f"{name[k]} {fn(k):.2f}" for k in ["gawk", "mawk"] if k != b)
out(f"{f}: parse {n:,} lines into Arrow ({rows:,} events), one thread, per CPU second",
    "≥ 1.5× awk (issue 19)",
    f"{name[best]} printing the same fields: {cpu(best):.2f} M lines/s ({others(cpu, best)})",
    f"{cpu('one'):.2f} M lines/s", cpu("one") / cpu(best), cpu("one") >= 1.5 * cpu(best))
out(f"{f}: the same on {cores} threads, per wall second",
    f"≥ 2.5× awk on two cores (issue 19)",
    f"{name[bestw]}: {wall(bestw):.2f} M lines/s ({others(wall, bestw)})",
    f"{wall('all'):.2f} M lines/s ({wall('one'):.2f} on one thread; peak RSS {r['all']['rss_mb']} MB)",
    wall("all") / wall(bestw), wall("all") >= 2.5 * wall(bestw))
PY
  while IFS=$'\t' read -r a b c e g h; do row "$a" "$b" "$c" "$e" "$g" "$h"; done < "$D/$f.rows"
done
echo "   load average after: $(load)"
