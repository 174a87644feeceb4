#!/usr/bin/env bash
# Link graphs: secviz against AfterGlow + Graphviz sfdp on the same generated inputs.
#
#   cargo build --release -p secviz && bench/graph/run.sh
#
# Env: RUNS (default 3), OUT (scratch folder), SECVIZ (binary), AFTERGLOW_DIR (folder with
# afterglow.pl; optional, needs perl's Text::CSV: apt-get install -y libtext-csv-perl),
# SKIP_BIG=1 to skip the 1,000,000-edge run. Needs graphviz (apt-get install -y graphviz).
# Prints one JSON line per measurement; BENCHMARKS.md records them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
gen=${GEN:-$root/../shared/tools/gen_security_data.py}
out=${OUT:-/tmp/secviz-bench-graph}
runs=${RUNS:-3}
target=${CARGO_TARGET_DIR:-$root/target}
# `secviz graph`, or the same library pipeline without DataFusion (graph_bench example:
# cargo build --release -p secviz-render --example graph_bench).
if [ -n "${SECVIZ:-}" ] || [ -x "$target/release/secviz" ]; then
  sv="${SECVIZ:-$target/release/secviz} graph"
else
  sv="$target/release/examples/graph_bench"
fi
timeit="python3 $here/timeit.py"
mkdir -p "$out"
command -v sfdp >/dev/null || { echo "graphviz missing: apt-get install -y graphviz" >&2; exit 1; }
[ -x "${sv%% *}" ] || { echo "build first: cargo build --release -p secviz" >&2; exit 1; }
echo "{\"secviz\":\"$sv\"}"

# Inputs. Firewall rows are src,dport,dst from the pf log (AfterGlow's classic use).
pf_csv() { # lines seed out
  python3 "$gen" --kind pf --lines "$1" --seed "$2" --out "$out/pf.$1.log"
  awk '{ for (i = 1; i <= NF; i++) if ($i == ">") { s = $(i-1); d = $(i+1); break }
         sub(/:$/, "", d); ns = split(s, a, "."); nd = split(d, b, ".");
         if (ns == 5 && nd == 5) print a[1]"."a[2]"."a[3]"."a[4]","b[5]","b[1]"."b[2]"."b[3]"."b[4] }' \
    "$out/pf.$1.log" > "$3"
}
[ -s "$out/fw100k.csv" ] || pf_csv 100000 1 "$out/fw100k.csv"
[ -s "$out/botnet20k.csv" ] || python3 "$gen" --kind afterglow --lines 20000 --seed 1 --out "$out/botnet20k.csv"
echo "{\"input\":\"fw100k.csv\",\"rows\":$(wc -l < "$out/fw100k.csv")}"

# 1. 100,000 firewall rows to a laid-out SVG.
r=$($timeit "$runs" "$sv -i $out/fw100k.csv --to svg --timings -w $out/fw100k.svg 2>> $out/fw100k.timings")
echo "{\"case\":\"fw100k-svg\",\"tool\":\"secviz\",$(echo "$r" | cut -c2-)"
$sv -i "$out/fw100k.csv" --to json -w "$out/fw100k.json" 2> "$out/fw100k.stats"
cat "$out/fw100k.stats" >&2
$sv -i "$out/fw100k.csv" -w "$out/fw100k.dot"
if [ -n "${AFTERGLOW_DIR:-}" ]; then
  r=$($timeit 1 "perl $AFTERGLOW_DIR/afterglow.pl -a -i $out/fw100k.csv > $out/fw100k.ag.dot 2>/dev/null")
  echo "{\"case\":\"fw100k-svg\",\"tool\":\"afterglow-only\",$(echo "$r" | cut -c2-)"
  if [ -z "${SKIP_SFDP_BIG:-}" ]; then
    r=$($timeit 1 "perl $AFTERGLOW_DIR/afterglow.pl -a -i $out/fw100k.csv 2>/dev/null | sfdp -Tsvg -o $out/fw100k.ag.svg")
    echo "{\"case\":\"fw100k-svg\",\"tool\":\"afterglow+sfdp\",$(echo "$r" | cut -c2-)"
  fi
fi
if [ -z "${SKIP_SFDP_BIG:-}" ]; then
  r=$($timeit 1 "sfdp -Tplain $out/fw100k.dot > $out/fw100k.plain && sfdp -n2 -Tsvg $out/fw100k.dot -o $out/fw100k.sfdp.svg")
  echo "{\"case\":\"fw100k-svg\",\"tool\":\"sfdp-on-secviz-dot(x2: plain+svg)\",$(echo "$r" | cut -c2-)"
  echo "{\"case\":\"fw100k-stress\",$(python3 "$here/stress.py" "$out/fw100k.json" "$out/fw100k.plain" | cut -c2-)"
fi

tail -n "$runs" "$out/fw100k.timings" >&2

# 2. The ~5,600-node / 20,000-row botnet graph: layout to SVG.
$sv -i "$out/botnet20k.csv" -w "$out/botnet20k.dot" 2> "$out/botnet20k.stats"
cat "$out/botnet20k.stats" >&2
r=$($timeit "$runs" "$sv -i $out/botnet20k.csv --to svg --timings -w $out/botnet20k.svg 2>> $out/botnet20k.timings")
echo "{\"case\":\"botnet20k-svg\",\"tool\":\"secviz\",$(echo "$r" | cut -c2-)"
tail -n "$runs" "$out/botnet20k.timings" >&2
r=$($timeit "$runs" "sfdp -Tsvg $out/botnet20k.dot -o $out/botnet20k.sfdp.svg")
echo "{\"case\":\"botnet20k-svg\",\"tool\":\"sfdp\",$(echo "$r" | cut -c2-)"
$sv -i "$out/botnet20k.csv" --to json -w "$out/botnet20k.json" 2>/dev/null
sfdp -Tplain "$out/botnet20k.dot" > "$out/botnet20k.plain"
echo "{\"case\":\"botnet20k-stress\",$(python3 "$here/stress.py" "$out/botnet20k.json" "$out/botnet20k.plain" | cut -c2-)"

# 3. 1,000,000 edges laid out (two-node flows src,dst), and memory against 250,000.
if [ -z "${SKIP_BIG:-}" ]; then
  for n in 250000 1000000; do
    f="$out/flows$n.csv"
    if [ ! -s "$f" ]; then
      # About n distinct src -> dst:port edges.
      python3 "$gen" --kind flows --lines $((n * 22 / 10)) --hosts $((n * 37 / 100)) --seed 2 --out "$out/flows$n.raw"
      awk -F, 'NR > 1 { print $2 "," $4 ":" $5 }' "$out/flows$n.raw" > "$f"
    fi
    r=$($timeit 1 "$sv -t -i $f --to json --timings -w $out/flows$n.json 2> $out/flows$n.stats")
    cat "$out/flows$n.stats" >&2
    echo "{\"case\":\"flows$n-layout\",\"tool\":\"secviz\",$(echo "$r" | cut -c2-)"
  done
fi
