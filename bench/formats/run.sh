#!/usr/bin/env bash
# The parse by format against awk (issue 19.2) as an area of bench/run-all.sh, so that
# issue 19's comparisons run in one go:
#
#   AREAS="portal formats rollups kinds graph" bench/run-all.sh
#
# (nginx, awk, DuckDB over 100 M events, sfdp). Knobs: those of bench/parse/formats.sh.
exec "$(dirname "$0")/../parse/formats.sh" "$@"
