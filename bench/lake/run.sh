#!/usr/bin/env bash
# The lake (issue 4, and the subnet aggregations of issue 6's charts): secviz against
# DuckDB on the same files in the same run.
#
#  1. Ingest: `secviz ingest` of ROWS generated flow rows (and of SMALL_ROWS, for memory),
#     whole process under measure.py; DuckDB's CSV -> Parquet (zstd) of the same CSV, timed
#     inside its process (so DuckDB's figure leaves out Python's start-up).
#  2. Queries on the ingested Parquet, in-process on both sides, median of REPS: secviz-lake
#     through its benchmark driver (`Lake::query`, as `secviz query` runs it), DuckDB through
#     its Python client. The SQL is the same text (bench/lake/queries.py); for the subnet
#     queries the lake's `ip_prefix` and a DuckDB macro of integer/string functions (no
#     regular expression on either side). Every query's rows are compared: `secviz query
#     --format csv` against DuckDB's rows; any difference fails the script.
#
#   cargo build --release -p secviz && cargo build --release -p secviz-lake --bench lake
#   bench/lake/run.sh [ROWS] [REPS]       defaults: 10000000 rows, 7 repetitions
#
# Env: SMALL_ROWS (1000000), INGEST_REPS (3), QUERIES_ONLY=1 (query the data of the last
# run), BENCH_PYTHON (python3 with duckdb; bench/setup-venv.sh makes one).
source "$(dirname "$0")/../lib.sh"
ROWS=${1:-10000000}
REPS=${2:-7}
SMALL_ROWS=${SMALL_ROWS:-1000000}
INGEST_REPS=${INGEST_REPS:-3}
PY=$(bench_python)
SV=$(secviz_bin)
DRIVER=$(lake_driver)
D="$OUT/lake"
mkdir -p "$D"
Q="$BENCH_DIR/lake/queries.py"
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
CSV="$D/flows-$ROWS.csv"; SMALL="$D/flows-$SMALL_ROWS.csv"
gen flows "$ROWS" 1 "$CSV"
gen flows "$SMALL_ROWS" 1 "$SMALL"

if [ -z "${QUERIES_ONLY:-}" ]; then
  echo "== ingest: $ROWS and $SMALL_ROWS flow rows; load average $(load)"
  for n in "$SMALL_ROWS" "$ROWS"; do
    $MEASURE --reps "$INGEST_REPS" --json "$D/ingest-$n.json" -- \
      "rm -rf $D/data-$n && $SV ingest -q --data $D/data-$n --dataset flows --format csv $D/flows-$n.csv > /dev/null"
    : > "$D/duck-ingest-$n.txt"
    for _ in $(seq "$INGEST_REPS"); do
      "$PY" "$BENCH_DIR/lake/duckdb_side.py" ingest "$D/flows-$n.csv" "$D/duck-$n.parquet" >> "$D/duck-ingest-$n.txt"
    done
  done
  python3 - "$D" "$ROWS" "$SMALL_ROWS" <<'PY' > "$D/ingest-rows.txt"
import json, statistics, sys
d, big, small = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def duck(n):
    runs = [list(map(float, l.split())) for l in open(f"{d}/duck-ingest-{n}.txt")]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), max(r[2] for r in runs)
sv = {n: json.load(open(f"{d}/ingest-{n}.json")) for n in (small, big)}
dw, dc, dr = duck(big)
s = sv[big]
rate = big / s["wall"] / 1e6
print("\t".join([f"ingest {big:,} flow rows (CSV) into Parquet, keeping the raw line",
                 "≥ 1 M rows/s (issue 4)",
                 f"DuckDB CSV → Parquet: {big / dw / 1e6:.2f} M rows/s ({dw:.2f} s wall, {dc:.2f} s CPU)",
                 f"{rate:.2f} M rows/s ({s['wall']:.2f} s wall, {s['cpu']:.2f} s CPU)",
                 f"{s['wall'] / dw:.2f}", "met" if rate >= 1 else "**missed**"]))
sw_, dsw = sv[small]["rss_mb"], duck(small)[2]
grow, dgrow = s["rss_mb"] / sw_, dr / dsw
print("\t".join([f"ingest memory, {small:,} → {big:,} rows",
                 "bounded by the batch, not the input (issue 4)",
                 f"DuckDB: {dsw:.0f} → {dr:.0f} MB ({dgrow:.2f}×)",
                 f"{sw_} → {s['rss_mb']} MB ({grow:.2f}×)",
                 f"{grow / dgrow:.2f}", "met" if grow < 1.5 else "**missed**"]))
PY
  while IFS=$'\t' read -r a b c e f g; do row "$a" "$b" "$c" "$e" "$f" "$g"; done < "$D/ingest-rows.txt"
fi

DATA="$D/data-$ROWS"
[ -d "$DATA" ] || die "$DATA is missing: run without QUERIES_ONLY first"
GLOB="$DATA/lake/datasets/flows/*/*.parquet"
echo "== queries on $ROWS rows, median of $REPS; load average $(load)"
mapfile -t NAMES < <(python3 "$Q" names)
SQLS=()
for n in "${NAMES[@]}"; do SQLS+=("$(python3 "$Q" sql "$n")"); done
"$DRIVER" queries "$DATA" flows "$REPS" "${SQLS[@]}" > "$D/secviz-queries.txt"
"$PY" "$BENCH_DIR/lake/duckdb_side.py" queries "$GLOB" "$REPS" "$D" > "$D/duckdb-queries.txt"
echo "   load average after: $(load)"

# The same rows on both sides, or the script fails.
fail=0
for n in "${NAMES[@]}"; do
  "$SV" query --data "$DATA" --format csv "$(python3 "$Q" sql "$n" | sed 's/{t}/flows/g')" > "$D/secviz-$n.csv"
  echo "   $n:" >&2
  python3 "$BENCH_DIR/lake/same_rows.py" "$D/secviz-$n.csv" "$D/duckdb-$n.json" "$(python3 "$Q" ordered "$n")" || fail=1
done
[ "$fail" = 0 ] || die "secviz and DuckDB returned different rows (above)"

i=0
while read -r _ _ sw sc srows; do
  n=${NAMES[$i]}; i=$((i + 1))
  read -r _ _ dw dc drows < <(grep "^duckdb $n " "$D/duckdb-queries.txt")
  case $n in
    treemap_*|heatmap_*) goal="none set (issue 6: chart times on 1 M events)"; v="(no goal)";;
    *) goal="≤ 1.5 × DuckDB (issue 4)"; v=$(python3 -c "print('met' if $sw <= 1.5 * $dw else '**missed**')");;
  esac
  row "query \`$n\` on $ROWS flow rows (${srows#rows=} rows out, same as DuckDB's)" "$goal" \
    "DuckDB $(python3 -c "print(f'{$dw * 1000:.0f} ms wall, {$dc * 1000:.0f} ms CPU')")" \
    "$(python3 -c "print(f'{$sw * 1000:.0f} ms wall, {$sc * 1000:.0f} ms CPU')")" \
    "$(ratio "$sw" "$dw") (CPU $(ratio "$sc" "$dc"))" "$v"
done < <(grep '^query ' "$D/secviz-queries.txt")
