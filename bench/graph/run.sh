#!/usr/bin/env bash
# Link graphs (issue 5): secviz against AfterGlow + Graphviz sfdp, end to end, on the same
# inputs in the same run.
#
#  1. A raw pf log of GRAPH_LINES lines (100,000) to a laid-out SVG, parsing included.
#     Baseline, the AfterGlow way: AfterGlow's own pf parser (pf2csv.pl from
#     github.com/zrlram/parsers) writes src,dport,dst CSV, afterglow.pl turns it into DOT
#     under bench/graph/firewall.properties, sfdp lays it out to SVG. secviz: `secviz graph`
#     straight from the raw log with `--columns src_ip,dst_port,dst_ip` and the same
#     property file.
#  2. The 20,000-row botnet CSV (about 5,500 nodes) to a laid-out SVG: afterglow.pl + sfdp
#     against `secviz graph`, both with bench/graph/botnet.properties.
#  3. Layout quality on the botnet graph: normalized stress (bench/graph/stress.py) of
#     secviz's layout and of sfdp's layout of the same graph.
#  4. 1,000,000 edges laid out (two-node flows): secviz against sfdp on the same DOT
#     (SKIP_BIG=1 leaves it out).
#  5. 10,000,000 edges (the same flow model, ten times the hosts) to an SVG: `secviz graph`
#     aggregates them automatically (its default --max-edges) and says how; sfdp gets the
#     whole graph's DOT (SKIP_HUGE=1 leaves it out; ONLY_BIG=1 runs 4 and 5 alone).
#
#   cargo build --release -p secviz && AFTERGLOW_DIR=/tmp/afterglow bench/graph/run.sh
#
# AFTERGLOW_DIR: a folder with afterglow.pl (github.com/zrlram/afterglow); AFTERGLOW_PARSERS:
# a folder with pf2csv.pl (github.com/zrlram/parsers; default $AFTERGLOW_DIR/parsers). Neither
# is part of this repository. pf2csv.pl is run with its client/server reversal turned off
# (the one variable it documents for that, `$reverse`), so that both sides graph the same
# rows; the script checks the rows and prints both graphs' sizes. Needs perl's Text::CSV
# (apt-get install -y libtext-csv-perl) and graphviz (apt-get install -y graphviz).
#
# Env: REPS (3; baselines run once: they take minutes), GRAPH_LINES (100000),
# BASELINE_TIMEOUT (600 s: an AfterGlow + sfdp run still going then is stopped and reported
# as "more than"), BIG_TIMEOUT (300 s, sfdp on 1 M and 10 M edges), SKIP_BIG, SKIP_HUGE,
# ONLY_BIG.
source "$(dirname "$0")/../lib.sh"
REPS=${REPS:-3}
LINES=${GRAPH_LINES:-100000}
BASELINE_TIMEOUT=${BASELINE_TIMEOUT:-600}
BIG_TIMEOUT=${BIG_TIMEOUT:-300}
need_cmd sfdp graphviz
if [ -z "${ONLY_BIG:-}" ]; then
  need_cmd perl perl
  perl -MText::CSV -e 1 2>/dev/null || die "perl's Text::CSV is missing: apt-get install -y libtext-csv-perl"
  [ -n "${AFTERGLOW_DIR:-}" ] || die "set AFTERGLOW_DIR to a folder with afterglow.pl (git clone https://github.com/zrlram/afterglow)"
  AG="$AFTERGLOW_DIR/afterglow.pl"
  [ -f "$AG" ] || die "$AG not found (AFTERGLOW_DIR=$AFTERGLOW_DIR)"
  PARSERS=${AFTERGLOW_PARSERS:-$AFTERGLOW_DIR/parsers}
  [ -f "$PARSERS/pf2csv.pl" ] || die "$PARSERS/pf2csv.pl not found: set AFTERGLOW_PARSERS to a clone of https://github.com/zrlram/parsers"
fi
SV=$(secviz_bin)
D="$OUT/graph"
mkdir -p "$D"
H="$BENCH_DIR/graph"
ratio() { python3 -c "print(f'{$1 / $2:.3f}')"; }
wratio() { python3 -c "
import json; a, b = (json.load(open(f)) for f in ('$1', '$2'))
lt = '< ' if b['timed_out'] else ''
print(f\"< {a['wall'] / b['wall']:.3f} (wall)\" if lt else f\"{a['wall'] / b['wall']:.3f} (wall; CPU {a['cpu'] / b['cpu']:.3f})\")"; }
sec() { python3 -c "
import json; r = json.load(open('$1'))
if r['timed_out']: print(f\"more than {r['wall']:.0f} s wall (stopped; its CPU not counted)\")
else: print(f\"{r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU\")"; }
verdict() { python3 -c "print('met' if $1 <= $2 else '**missed**')"; }

if [ -z "${ONLY_BIG:-}" ]; then
# pf2csv.pl with its server/client reversal off; everything else as shipped.
PF2CSV="$D/pf2csv-noreverse.pl"
sed 's/^my \$reverse=1;/my $reverse=0;/' "$PARSERS/pf2csv.pl" > "$PF2CSV"
grep -q '^my \$reverse=0;' "$PF2CSV" || die "pf2csv.pl changed: its \$reverse switch was not found"

# 1. Raw pf log to a laid-out SVG.
LOG="$D/pf-$LINES.log"
gen pf "$LINES" 1 "$LOG"
echo "== graph: $LINES pf lines to SVG; load average $(load)"
perl "$PF2CSV" "sip dport dip" < "$LOG" > "$D/pf2csv.csv"
"$SV" parse "$LOG" --fields src_ip,dst_port,dst_ip --to csv --no-header --rejects "$D/rejects" > "$D/secviz-rows.csv" 2>/dev/null
python3 - "$D/pf2csv.csv" "$D/secviz-rows.csv" <<'PY'
import sys
a, b = open(sys.argv[1]).read().splitlines(), open(sys.argv[2]).read().splitlines()
if len(a) != len(b):
    sys.exit(f"pf2csv.pl gave {len(a)} rows, secviz {len(b)}")
diff = [(x, y) for x, y in zip(a, b) if x != y]
kinds = {}
for x, y in diff:
    k = x.split(",")[1] if x.split(",")[0] == y.split(",")[0] else "other"
    kinds[k] = kinds.get(k, 0) + 1
print(f"   rows: {len(a)} on both sides, {len(a) - len(diff)} identical; differing: {kinds or 'none'}", file=sys.stderr)
if set(kinds) - {"echo request", "echo reply"}:
    sys.exit("pf2csv.pl and secviz disagree beyond ICMP echo (pf2csv puts 'echo request' in the port column)")
PY
perl "$AG" -a -c "$H/firewall.properties" -i "$D/pf2csv.csv" > "$D/afterglow.dot" 2>/dev/null
"$SV" graph -i "$LOG" --columns src_ip,dst_port,dst_ip -c "$H/firewall.properties" -w "$D/secviz.dot" 2>/dev/null
read -r agn age < <(python3 "$H/dot_size.py" "$D/afterglow.dot")
read -r svn sve < <(python3 "$H/dot_size.py" "$D/secviz.dot")
echo "   graphs: AfterGlow $agn nodes / $age edges, secviz $svn nodes / $sve edges"

$MEASURE --reps "$REPS" --json "$D/fw-secviz.json" -- \
  "$SV graph -i $LOG --columns src_ip,dst_port,dst_ip -c $H/firewall.properties --to svg -w $D/fw-secviz.svg 2>/dev/null"
$MEASURE --reps 1 --timeout "$BASELINE_TIMEOUT" --json "$D/fw-afterglow.json" -- \
  "perl $PF2CSV 'sip dport dip' < $LOG | perl $AG -a -c $H/firewall.properties 2>/dev/null | sfdp -Tsvg -o $D/fw-afterglow.svg"
sw=$(json "$D/fw-secviz.json" wall); bw=$(json "$D/fw-afterglow.json" wall)
row "$LINES raw pf lines to a laid-out SVG, parsing included ($svn nodes / $sve edges; AfterGlow: $agn / $age)" \
  "≤ 2 s (issue 5)" "pf2csv.pl + afterglow.pl + sfdp: $(sec "$D/fw-afterglow.json")" "$(sec "$D/fw-secviz.json")" \
  "$(wratio "$D/fw-secviz.json" "$D/fw-afterglow.json")" "$(verdict "$sw" 2)"

# 2. The botnet graph (about 5,500 nodes, 20,000 rows) to a laid-out SVG.
BOT="$D/botnet20k.csv"
gen afterglow 20000 1 "$BOT"
echo "== graph: botnet CSV to SVG; load average $(load)"
perl "$AG" -a -c "$H/botnet.properties" -i "$BOT" > "$D/botnet-afterglow.dot" 2>/dev/null
"$SV" graph -i "$BOT" -c "$H/botnet.properties" -w "$D/botnet-secviz.dot" 2>/dev/null
read -r agn age < <(python3 "$H/dot_size.py" "$D/botnet-afterglow.dot")
read -r svn sve < <(python3 "$H/dot_size.py" "$D/botnet-secviz.dot")
echo "   graphs: AfterGlow $agn nodes / $age edges, secviz $svn nodes / $sve edges"
$MEASURE --reps "$REPS" --json "$D/bot-secviz.json" -- \
  "$SV graph -i $BOT -c $H/botnet.properties --to svg -w $D/bot-secviz.svg 2>/dev/null"
$MEASURE --reps 1 --timeout "$BASELINE_TIMEOUT" --json "$D/bot-afterglow.json" -- \
  "perl $AG -a -c $H/botnet.properties -i $BOT 2>/dev/null | sfdp -Tsvg -o $D/bot-afterglow.svg"
sw=$(json "$D/bot-secviz.json" wall); bw=$(json "$D/bot-afterglow.json" wall)
row "20,000 botnet CSV rows to a laid-out SVG ($svn nodes / $sve edges; AfterGlow: $agn / $age)" \
  "≤ 0.5 s (issue 5)" "afterglow.pl + sfdp: $(sec "$D/bot-afterglow.json")" "$(sec "$D/bot-secviz.json")" \
  "$(wratio "$D/bot-secviz.json" "$D/bot-afterglow.json")" "$(verdict "$sw" 0.5)"

# 3. Layout quality: both layouts of the graph secviz built (same node names).
"$SV" graph -i "$BOT" -c "$H/botnet.properties" --to json -w "$D/bot-secviz.json-graph" 2>/dev/null
sfdp -Tplain "$D/botnet-secviz.dot" > "$D/bot-sfdp.plain"
python3 "$H/stress.py" "$D/bot-secviz.json-graph" "$D/bot-sfdp.plain" > "$D/stress.json"
read -r s_sv s_sf < <(python3 -c "
import json; r = json.load(open('$D/stress.json')); print(r['secviz'], r['graphviz'])")
row "layout quality, botnet graph: normalized stress (64 pivots; lower is better)" "≤ 1.25 × sfdp's (issue 5)" \
  "sfdp: $s_sf" "secviz: $s_sv" "$(ratio "$s_sv" "$s_sf") (stress)" "$(python3 -c "print('met' if $s_sv <= 1.25 * $s_sf else '**missed**')")"

fi

# 4. 1,000,000 edges laid out, and memory against 250,000 edges (two-node flows src ->
#    dst:port, from the flow generator; the CSV is made once and not timed).
if [ -z "${SKIP_BIG:-}" ]; then
  for n in 250000 1000000; do
    f="$D/flows$n.csv"
    if [ ! -s "$f" ]; then
      gen flows $((n * 22 / 10)) 2 "$D/flows$n.raw" --hosts $((n * 37 / 100))
      awk -F, 'NR > 1 { print $2 "," $4 ":" $5 }' "$D/flows$n.raw" > "$f"
    fi
    echo "== graph: layout of $f; load average $(load)"
    $MEASURE --reps 1 --json "$D/big$n-secviz.json" -- "$SV graph -t -i $f --to json -w $D/flows$n.json 2> $D/flows$n.stats"
  done
  f="$D/flows1000000.csv"
  "$SV" graph -t -i "$f" -w "$D/flows1000000.dot" 2>/dev/null
  read -r bn be < <(python3 "$H/dot_size.py" "$D/flows1000000.dot")
  read -r sn se < <(python3 "$H/dot_size.py" <("$SV" graph -t -i "$D/flows250000.csv" 2>/dev/null))
  $MEASURE --reps 1 --timeout "$BIG_TIMEOUT" --json "$D/big-sfdp.json" -- "sfdp -Tplain $D/flows1000000.dot > /dev/null"
  sw=$(json "$D/big1000000-secviz.json" wall); bw=$(json "$D/big-sfdp.json" wall)
  row "$be edges ($bn nodes) laid out, to JSON with positions" "≤ 15 s (issue 19; issue 5 asked ≤ 60 s)" \
    "sfdp -Tplain on the same graph: $(sec "$D/big-sfdp.json")" "$(sec "$D/big1000000-secviz.json")" \
    "$(wratio "$D/big1000000-secviz.json" "$D/big-sfdp.json")" "$(verdict "$sw" 15)"
  r1=$(json "$D/big250000-secviz.json" rss_mb); r2=$(json "$D/big1000000-secviz.json" rss_mb)
  row "memory of that layout against $se edges ($sn nodes)" "linear in the graph (issue 5)" \
    "none run (secviz against itself)" "$r1 MB → $r2 MB for $(ratio "$be" "$se")× the edges" \
    "$(ratio "$r2" "$r1")× the memory (secviz 1 M ÷ 250 k)" "$(python3 -c "print('met' if $r2 / $r1 <= 1.1 * $be / $se else '**missed**')")"
fi

# 5. 10,000,000 edges aggregated automatically into a picture; the CSV is made once and not
#    timed. The whole graph's DOT (--max-edges 0, not timed) is sfdp's input.
if [ -z "${SKIP_HUGE:-}" ]; then
  f="$D/flows10m.csv"
  if [ ! -s "$f" ]; then
    gen flows 24000000 2 "$D/flows10m.raw" --hosts 3700000
    awk -F, 'NR > 1 { print $2 "," $4 ":" $5 }' "$D/flows10m.raw" > "$f"
    rm "$D/flows10m.raw"
  fi
  echo "== graph: 10 M edges aggregated, $f; load average $(load)"
  $MEASURE --reps 1 --json "$D/huge-secviz.json" -- "$SV graph -t -i $f --to svg -w $D/flows10m.svg 2> $D/flows10m.stats"
  cat "$D/flows10m.stats"
  read -r he hn hm < <(python3 - "$D/flows10m.stats" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
before = re.search(r"aggregated automatically: ([\d,]+) edges", t)
after = re.search(r"; ([\d,]+) nodes, ([\d,]+) edges", t)
if not (before and after):
    sys.exit("secviz graph did not say it aggregated the graph")
print(before.group(1), after.group(1), after.group(2))
PY
)
  "$SV" graph -t -i "$f" --max-edges 0 -w "$D/flows10m.dot" 2>/dev/null
  read -r bn be < <(python3 "$H/dot_size.py" "$D/flows10m.dot")
  $MEASURE --reps 1 --timeout "$BIG_TIMEOUT" --json "$D/huge-sfdp.json" -- "sfdp -Tplain $D/flows10m.dot > /dev/null"
  rm "$D/flows10m.dot"
  row "$be edges ($bn nodes) to an SVG: aggregated automatically into $hn nodes / $hm edges, with notes saying how" \
    "aggregated automatically into a picture that reads, saying how (issue 19; no time goal)" \
    "sfdp -Tplain on the whole graph: $(sec "$D/huge-sfdp.json")" \
    "$(sec "$D/huge-secviz.json"), $(json "$D/huge-secviz.json" rss_mb) MB" \
    "$(wratio "$D/huge-secviz.json" "$D/huge-sfdp.json")" \
    "$(python3 -c "print('met' if int('$he'.replace(',', '')) == $be and int('$hn'.replace(',', '')) <= 600 else '**missed**')")"
fi
echo "   load average after: $(load)"
