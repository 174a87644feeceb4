#!/usr/bin/env bash
# The viewer's first picture of a whole dataset from its summaries (issue 19.3, "default
# views"): `secviz chart` of the top 10 source addresses, destination addresses and
# destination ports over the dataset bench/rollups/run.sh made (100 M flow events), by this
# secviz (which reads the summaries) against a secviz built before views read them
# (SECVIZ_ROWS_BIN: SQL over every row, DataFusion) and DuckDB computing the same bars from
# the same Parquet files, all in this run. The two secviz pictures must be the same bytes,
# and DuckDB's bars the same counts.
#
#   SECVIZ_ROWS_BIN=/path/to/older/secviz bench/rollups/views.sh [ROWS] [REPS]
source "$(dirname "$0")/../lib.sh"
ROWS=${1:-100000000}
REPS=${2:-3}
PY=$(bench_python)
SV=$(secviz_bin)
OLD=${SECVIZ_ROWS_BIN:?set SECVIZ_ROWS_BIN to a secviz built before views read the summaries (commit d242f36 or earlier)}
DATA="$OUT/rollups/data-$ROWS"
[ -f "$DATA/lake/datasets/flows/manifest.json" ] || die "no dataset at $DATA: run bench/rollups/run.sh $ROWS first"
D="$OUT/rollups/views"
mkdir -p "$D"
echo "== views from summaries, $ROWS rows, commit $(git -C "$BENCH_ROOT" rev-parse --short HEAD); load average $(load)"
for field in src_ip dst_ip dst_port; do
  "$SV" chart --data "$DATA" --dataset flows --field "$field" --top 10 > "$D/new-$field.svg"
  "$OLD" chart --data "$DATA" --dataset flows --field "$field" --top 10 > "$D/old-$field.svg"
  cmp -s "$D/new-$field.svg" "$D/old-$field.svg" || die "the bar charts of $field differ: $D/new-$field.svg, $D/old-$field.svg"
  $MEASURE --reps "$REPS" --json "$D/time-new-$field.json" -- "$SV chart --data $DATA --dataset flows --field $field --top 10 > /dev/null"
  $MEASURE --reps "$REPS" --json "$D/time-old-$field.json" -- "$OLD chart --data $DATA --dataset flows --field $field --top 10 > /dev/null"
  echo "chart $field: summaries $(json "$D/time-new-$field.json" wall) s ($(json "$D/time-new-$field.json" rss_mb) MB), rows $(json "$D/time-old-$field.json" wall) s ($(json "$D/time-old-$field.json" rss_mb) MB), same picture"
done | tee "$D/secviz.txt"
# DuckDB: the same bars (top 10 by events, ties by value, and the rest), from the Parquet.
"$PY" - "$DATA/lake/datasets/flows/*/*.parquet" "$REPS" "$D" <<'PY' | tee "$D/duckdb.txt"
import json, re, statistics, sys, time
import duckdb
glob, reps, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
con = duckdb.connect()
for field in ["src_ip", "dst_ip", "dst_port"]:
    sql = (f"WITH g AS (SELECT {field} AS v, count(*) AS n FROM read_parquet('{glob}') GROUP BY 1) "
           f"SELECT v, n FROM g ORDER BY n DESC, v ASC NULLS LAST LIMIT 10")
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        rows = con.execute(sql).fetchall()
        times.append(time.perf_counter() - t)
    # The bars of secviz's picture against DuckDB's.
    svg = open(f"{d}/new-{field}.svg").read()
    # Each bar's tooltip: "<value>: <events> events (<share>)".
    missing = [(v, n) for v, n in rows if f"<title>{v}: {n:,} events" not in svg]
    print(f"duckdb {field} {statistics.median(times):.4f} s; bars {'the same counts' if not missing else 'DIFFER: ' + str(missing)}")
    if missing:
        sys.exit(1)
PY
echo "== load average after: $(load)"
