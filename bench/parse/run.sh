#!/usr/bin/env bash
# Parsing (issue 3): secviz-parse against awk and a Python regex parser printing the same
# nine fields, on the same generated pf log, in this run; peak RSS on 1 M and 10 M lines.
#
#   cargo build --release -p secviz && cargo build --release -p secviz-parse --example parse_bench
#   bench/parse/run.sh
#
# Env: REPS (5), LINES (1000000), SKIP_10M=1 leaves out the 10 M-line memory check (its
# input is 1.4 GB). See bench/lib.sh for SECVIZ_SHARED, CARGO_TARGET_DIR, BENCH_OUT.
#
# Rates are per CPU second (user + sys), which is the one-core figure the goals name; wall
# times are printed beside them. Before timing, the script checks that awk, Python and
# secviz print the same fields for every line (the time column aside: secviz adds the year
# and writes RFC 3339) and exits non-zero if they do not.
source "$(dirname "$0")/../lib.sh"
REPS=${REPS:-5}
LINES=${LINES:-1000000}
SV=$(secviz_bin)
# Into Arrow is measured by the parse_bench example (no CLI command stops at Arrow batches).
# Without it (ARROW=0) the Arrow row says "not run" and the rest is measured.
if [ "${ARROW:-1}" = 1 ]; then
  PB=$(need_bin "$TARGET/release/examples/parse_bench" "cargo build --release -p secviz-parse --example parse_bench (or ARROW=0)")
fi
D="$OUT/parse"
mkdir -p "$D"
LOG="$D/pf-$LINES.log"
gen pf "$LINES" 1 "$LOG"
FIELDS=time,rule,action,direction,interface,src_ip,src_port,dst_ip,dst_port
echo "== parse, $LINES pf lines; load average $(load)"

# Same fields, every line.
awk -f "$BENCH_DIR/parse/pf_fields.awk" "$LOG" > "$D/awk.csv"
python3 "$BENCH_DIR/parse/pf_regex.py" "$LOG" > "$D/python.csv"
"$SV" parse "$LOG" --year 2005 --fields "$FIELDS" --to csv --no-header --rejects "$D/rejects" \
  > "$D/secviz.csv" 2> "$D/secviz.stderr"
for f in awk python secviz; do cut -d, -f2- "$D/$f.csv" > "$D/$f.cut"; done
n=$(wc -l < "$D/secviz.cut")
[ "$n" -eq "$LINES" ] || die "secviz printed $n rows for $LINES lines (see $D/secviz.stderr)"
cmp -s "$D/awk.cut" "$D/python.cut" || die "awk and Python print different fields: diff $D/awk.cut $D/python.cut"
cmp -s "$D/awk.cut" "$D/secviz.cut" || die "awk and secviz print different fields: diff $D/awk.cut $D/secviz.cut"
echo "   awk, Python and secviz print the same 8 fields on all $n lines (time formats differ)"
rm -f "$D"/*.cut "$D"/*.csv

m() { local name=$1; shift; $MEASURE --reps "$REPS" --json "$D/$name.json" -- "$@"; }
m wc "wc -l $LOG > /dev/null"
m awk "awk -f $BENCH_DIR/parse/pf_fields.awk $LOG > /dev/null"
m python "python3 $BENCH_DIR/parse/pf_regex.py $LOG > /dev/null 2>&1"
rm -f "$D/arrow.json"
[ "${ARROW:-1}" = 1 ] && m arrow "$PB $LOG arrow --year 2005 > /dev/null"
m csv_fields "$SV parse $LOG --year 2005 --fields $FIELDS --to csv --no-header --rejects $D/rejects > /dev/null 2>&1"
m csv_all "$SV parse $LOG --year 2005 --to csv --rejects $D/rejects > /dev/null 2>&1"

python3 - "$D" "$LINES" <<'PY' > "$D/rows.txt"
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
import os
r = {k: json.load(open(f"{d}/{k}.json")) for k in ["wc", "awk", "python", "arrow", "csv_fields", "csv_all"]
     if os.path.exists(f"{d}/{k}.json")}
rate = lambda k: n / r[k]["cpu"] / 1e6
def fig(k):
    return f"{rate(k):.2f} M lines/s ({r[k]['cpu']:.2f} s CPU, {r[k]['wall']:.2f} s wall)"
base = {"awk": "awk, same 9 fields to CSV", "python": "Python regex parser, same 9 fields to CSV"}
work = {
    "arrow": (f"parse {n:,} pf lines into Arrow batches (all 38 columns), one core", 3.0),
    "csv_fields": (f"parse {n:,} pf lines to CSV, the same 9 fields (`secviz parse --fields`)", 1.5),
    "csv_all": (f"parse {n:,} pf lines to CSV, all 38 columns (`secviz parse --to csv`)", 1.5),
}
for k, (w, goal) in work.items():
    if k not in r:
        print("\t".join([w, f"≥ {goal} M lines/s (issue 3)", "—", "not run (parse_bench not built)", "—", "not measured"]))
        continue
    for b in ["awk", "python"]:
        verdict = "met" if rate(k) >= goal else "**missed**"
        print("\t".join([w, f"≥ {goal} M lines/s (issue 3)", f"{base[b]}: {fig(b)}", fig(k),
                         f"{r[k]['cpu'] / r[b]['cpu']:.2f} (CPU)", verdict]))
print(f"# floor: wc -l {rate('wc'):.1f} M lines/s", file=sys.stderr)
PY
while IFS=$'\t' read -r a b c e f g; do row "$a" "$b" "$c" "$e" "$f" "$g"; done < "$D/rows.txt"

# Memory: 1 M lines (above) and 10 M lines, same parse into Arrow and to CSV.
rss1=$(python3 -c "import json; print(max(json.load(open('$D/' + k + '.json'))['rss_mb'] for k in ['arrow', 'csv_all', 'csv_fields'] if __import__('os').path.exists('$D/' + k + '.json')))")
py1=$(json "$D/python.json" rss_mb)
row "peak RSS parsing $LINES pf lines (into Arrow; to CSV)" "< 100 MB (issue 3)" "Python regex parser: $py1 MB" "$rss1 MB" \
  "$(python3 -c "print(f'{$rss1 / $py1:.2f} (memory)')")" "$([ "$rss1" -lt 100 ] && echo met || echo '**missed**')"
if [ -z "${SKIP_10M:-}" ]; then
  BIG="$D/pf-10000000.log"
  gen pf 10000000 1 "$BIG"
  $MEASURE --reps 1 --json "$D/awk10.json" -- "awk -f $BENCH_DIR/parse/pf_fields.awk $BIG > /dev/null"
  rm -f "$D/arrow10.json"
  [ "${ARROW:-1}" = 1 ] && $MEASURE --reps 1 --json "$D/arrow10.json" -- "$PB $BIG arrow --year 2005 > /dev/null"
  $MEASURE --reps 1 --json "$D/csv10.json" -- "$SV parse $BIG --year 2005 --to csv --rejects $D/rejects > /dev/null 2>&1"
  a10=$(json "$D/awk10.json" rss_mb)
  r10=$(python3 -c "import json, os; print(max(json.load(open('$D/' + k + '.json'))['rss_mb'] for k in ['arrow10', 'csv10'] if os.path.exists('$D/' + k + '.json')))")
  c10=$(json "$D/csv10.json" cpu)
  row "peak RSS parsing 10,000,000 pf lines (to CSV, all columns: $(python3 -c "print(f'{1e7 / $c10 / 1e6:.2f}')") M lines/s; into Arrow unless ARROW=0)" \
    "< 100 MB (issue 3)" "awk, same 9 fields: $a10 MB" "$r10 MB" \
    "$(python3 -c "print(f'{$r10 / $a10:.2f} (memory)')")" "$([ "$r10" -lt 100 ] && echo met || echo '**missed**')"
fi
echo "   load average after: $(load)"
