#!/usr/bin/env bash
# Runs every comparison of BENCHMARKS.md's table in one go and prints the table: each row
# is secviz and its baseline measured by the same script, on the same input, minutes
# apart at most.
#
#   cargo build --release -p secviz
#   cargo build --release -p secviz-parse --example parse_bench
#   cargo build --release -p secviz-lake --bench lake
#   bench/setup-venv.sh                       # DuckDB, pinned, in a venv
#   AFTERGLOW_DIR=/tmp/afterglow bench/run-all.sh
#
# AREAS="parse pcap graph lake" (the default) picks the areas; "s3" (the lake on moto
# against the local disk; needs `source scripts/test-env.sh`) and "cluster" (queries across
# `secviz worker` processes against embedded) and "analyses" (each built-in analysis against
# DuckDB computing the same baseline and top 10) are run on request; issue 19's comparisons
# run in one go with AREAS="portal formats rollups kinds graph" (nginx, awk, DuckDB over
# 100 M flow events and over 100 M events of each kind: logins, web, DNS, connections;
# sfdp). Each area's script runs on
# its own too (bench/<area>/run.sh) and says what it needs: the shared data (../shared or
# SECVIZ_SHARED), tshark, graphviz, perl's Text::CSV, AfterGlow (AFTERGLOW_DIR), DuckDB
# (BENCH_PYTHON or the venv). A failing comparison, a missing tool or results that differ
# between secviz and the baseline stop the run with a non-zero status.
# Output: the table on stdout and in $BENCH_OUT/table.md (bench/out, gitignored).
source "$(dirname "$0")/lib.sh"
AREAS=${AREAS:-parse pcap graph lake}
export BENCH_ROWS="$OUT/rows.md"
: > "$BENCH_ROWS"
log="$OUT/run-all.log"
commit=$(git -C "$BENCH_ROOT" rev-parse --short HEAD)
dirty=$(git -C "$BENCH_ROOT" status --porcelain --untracked-files=no -- crates Cargo.toml Cargo.lock | head -c1)
{
  echo "run of $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit${dirty:+ (crates/ modified in the work tree)}"
  echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/^Mem:/ {print $2}') GiB; load average at start: $(load)"
} | tee "$log"
for area in $AREAS; do
  [ -x "$BENCH_DIR/$area/run.sh" ] || die "no area $area (bench/$area/run.sh)"
  echo "== $area: load average $(load)" | tee -a "$log"
  start=$(date +%s)
  "$BENCH_DIR/$area/run.sh" 2>&1 | tee -a "$log"
  echo "== $area done in $(( $(date +%s) - start )) s; load average $(load)" | tee -a "$log"
done
{
  echo
  echo "load average at the end: $(load)"
  echo
  echo "| work | goal | baseline (same run, same input) | secviz | ratio secviz ÷ baseline | goal met? |"
  echo "|---|---|---|---|---|---|"
  cat "$BENCH_ROWS"
} | tee "$OUT/table.md" | tee -a "$log"
