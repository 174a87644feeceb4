#!/usr/bin/env bash
# The big screen's soak (issue 18): a share link's screen rotating two SOC dashboards in
# headless Chromium for SOAK_SECONDS (an hour unless told) while a line a second arrives over
# syslog and over HTTP, the page's JS heap and the server's RSS sampled (bench/dashboard/soak.py).
# The goal: neither grows; the last tenth of the run is compared with the second tenth
# (after warm-up).
#
# usage: bench/dashboard/run.sh     (SOAK_SECONDS=3600 REFRESH=5 LINES=1 to change; LINES is
#        the lines a second sent over each path: 24 at 1 h send a day's lines at one a second)
# needs: cargo build --release -p secviz; node and npm ci in tests/browser; /usr/bin/chromium
source "$(dirname "$0")/../lib.sh"
SECVIZ=$(secviz_bin)
SOAK_SECONDS=${SOAK_SECONDS:-3600}
REFRESH=${REFRESH:-5}
LINES=${LINES:-1}
[ -d "$BENCH_ROOT/tests/browser/node_modules/playwright-core" ] || die "run npm ci in tests/browser first"
WORK="$OUT/dashboard-soak"
rm -rf "$WORK"
mkdir -p "$WORK"
echo "== soak of the big screen: $SOAK_SECONDS s, refreshed every $REFRESH s, $LINES lines/s over each path (started $(date -u +%H:%M) UTC)" >&2
python3 "$BENCH_DIR/dashboard/soak.py" "$SECVIZ" "$WORK" "$SOAK_SECONDS" "$REFRESH" "$LINES" | tee "$WORK/result.json"
echo "samples: $WORK/heap.csv (page), $WORK/rss.csv (server)" >&2
