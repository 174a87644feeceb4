#!/usr/bin/env bash
# Every built-in analysis over 100 M events of its kind (auth, web, dns, conn) against DuckDB
# (issue 19.3) as an area of bench/run-all.sh, so that issue 19's comparisons run in one go:
#
#   AREAS="portal formats rollups kinds graph" bench/run-all.sh
#
# Knobs and arguments: those of bench/rollups/kinds.sh.
exec "$(dirname "$0")/../rollups/kinds.sh" "$@"
