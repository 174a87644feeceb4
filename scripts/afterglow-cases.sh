#!/usr/bin/env bash
# Regenerates the expected DOT of secviz's own AfterGlow conformance cases
# (crates/graph/tests/conformance/<case>/) by running AfterGlow 1.6.6 itself on each case's
# input (the shared case named in `input-from`), rules and flags. Not part of the tests:
# the expected files are committed; run this after adding or changing a case.
#
#   AFTERGLOW_DIR=/path/to/zrlram/afterglow scripts/afterglow-cases.sh
#
# Needs perl with Text::CSV (Debian: libtext-csv-perl).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${AFTERGLOW_DIR:?set AFTERGLOW_DIR to a checkout of zrlram/afterglow}"
shared="${SECVIZ_SHARED:-../shared}/conformance/afterglow"
for case in crates/graph/tests/conformance/*/; do
  input="$shared/$(cat "$case/input-from")/input.csv"
  # shellcheck disable=SC2046 # the flags are words
  perl "$AFTERGLOW_DIR/afterglow.pl" -a $(cat "$case/flags") -c "$case/rules.properties" \
    -i "$input" > "$case/expected.dot"
  echo "$case: $(grep -c '\[' "$case/expected.dot") nodes and edges"
done
