# Shared by the benchmark scripts (sourced, not run). Finds the shared data, the binaries
# and a Python with DuckDB; fails with a message that says what is missing and how to get it.
#
# Environment:
#   SECVIZ_SHARED    the shared data folder (default: ../shared next to the repository)
#   CARGO_TARGET_DIR where the release binaries are (default: target/ in the repository)
#   BENCH_OUT        scratch folder for inputs and outputs (default: bench/out, gitignored)
#   BENCH_PYTHON     a python3 that imports duckdb (default: the venv made by
#                    bench/setup-venv.sh in $HOME/.cache/secviz-bench-venv)
#   BENCH_ROWS       rows file the table is collected in (set by bench/run-all.sh)

set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR="$BENCH_ROOT/bench"

die() { echo "bench: $*" >&2; exit 1; }

SHARED=${SECVIZ_SHARED:-$BENCH_ROOT/../shared}
[ -d "$SHARED" ] || die "shared data not found at $SHARED: put the shared folder next to the repository (../shared) or set SECVIZ_SHARED"
SHARED=$(cd "$SHARED" && pwd)
GEN="$SHARED/tools/gen_security_data.py"
REAL="$SHARED/data/real"
[ -f "$GEN" ] || die "$GEN is missing (SECVIZ_SHARED=$SHARED looks wrong)"
[ -d "$REAL" ] || die "$REAL is missing (SECVIZ_SHARED=$SHARED looks wrong)"

TARGET=${CARGO_TARGET_DIR:-$BENCH_ROOT/target}
OUT=${BENCH_OUT:-$BENCH_DIR/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

MEASURE="python3 $BENCH_DIR/measure.py"

# need_bin PATH HOW: the release binary at PATH, or a message with the build command.
need_bin() {
  [ -x "$1" ] || die "$1 is missing: build it first with: $2"
  echo "$1"
}
secviz_bin() { need_bin "$TARGET/release/secviz" "cargo build --release -p secviz"; }

# The lake's benchmark driver (crates/lake/benches/lake.rs): the newest build of it.
lake_driver() {
  local f driver=
  for f in "$TARGET"/release/deps/lake-*; do
    case $f in *.d) continue;; esac
    if [ -x "$f" ] && { [ -z "$driver" ] || [ "$f" -nt "$driver" ]; }; then driver=$f; fi
  done
  [ -n "$driver" ] || die "the lake benchmark driver is missing: cargo build --release -p secviz-lake --bench lake"
  echo "$driver"
}

# need_cmd CMD PACKAGE
need_cmd() {
  command -v "$1" >/dev/null || die "$1 is missing: apt-get install -y $2"
}

bench_python() {
  local py=${BENCH_PYTHON:-$HOME/.cache/secviz-bench-venv/bin/python3}
  [ -x "$py" ] || die "no Python with DuckDB at $py: run bench/setup-venv.sh or set BENCH_PYTHON"
  "$py" -c 'import duckdb' 2>/dev/null || die "$py cannot import duckdb: run bench/setup-venv.sh"
  echo "$py"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

# gen KIND LINES SEED FILE [extra args]: a generated input, made once (seeded, so the same
# arguments always give the same file).
gen() {
  local kind=$1 lines=$2 seed=$3 file=$4
  shift 4
  if [ ! -s "$file" ]; then
    echo "== generating $file ($kind, $lines lines, seed $seed)" >&2
    python3 "$GEN" --kind "$kind" --lines "$lines" --seed "$seed" --out "$file.tmp" "$@"
    mv "$file.tmp" "$file"
  fi
}

# row WORK GOAL BASELINE SECVIZ RATIO VERDICT: one row of the BENCHMARKS.md table, printed
# and appended to $BENCH_ROWS when run-all collects them.
row() {
  local line
  line=$(printf '| %s | %s | %s | %s | %s | %s |' "$@")
  echo "ROW $line"
  if [ -n "${BENCH_ROWS:-}" ]; then echo "$line" >> "$BENCH_ROWS"; fi
}

# json FILE KEY: a number from measure.py's JSON.
json() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
