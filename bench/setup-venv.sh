#!/usr/bin/env bash
# Makes the Python venv the benchmark scripts use for DuckDB ($HOME/.cache/secviz-bench-venv,
# or BENCH_VENV), from bench/requirements.txt (pinned), never system-wide.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${BENCH_VENV:-$HOME/.cache/secviz-bench-venv}
python3 -m venv "$venv" || { echo "could not create a venv: apt-get install -y python3-venv" >&2; exit 1; }
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
"$venv/bin/python3" -c 'import duckdb; print("duckdb", duckdb.__version__, "in '"$venv"'")'
