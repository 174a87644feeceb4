#!/usr/bin/env bash
# The README's screenshots: a fresh `secviz demo` site, served on a free loopback port, and
# every demo post and the gallery in headless Chromium at 1280 px and 390 px wide, light
# and dark, and the first demo dashboard's big screen at 1920×1080, written to
# docs/screenshots/. Needs `scripts/setup-test-env.sh` (playwright-core
# in tests/browser) and Debian's chromium.
#
# usage: scripts/screenshots.sh [SECVIZ_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-${CARGO_TARGET_DIR:-target}/release/secviz}"
[ -x "$bin" ] || { echo "no secviz binary at $bin (build it, or pass its path)" >&2; exit 1; }
data="$(mktemp -d)"
trap 'if [ -n "${server:-}" ] && kill -0 "$server" 2>/dev/null; then kill "$server"; fi; rm -rf "$data"' EXIT
"$bin" demo --data "$data" > "$data/demo.log"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" serve --data "$data" --addr "127.0.0.1:$port" > "$data/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" > /dev/null && break
  sleep 0.2
done
out=docs/screenshots
mkdir -p "$out"
shoot() { # page-url name
  for width in 1280 390; do
    for scheme in light dark; do
      node tests/browser/shot.mjs "$1" "$out/$2-$width-$scheme.png" "$scheme" "$width"
    done
  done
}
shoot "http://127.0.0.1:$port/gallery" gallery
for id in $(awk '$1 == "post" { print $2 }' "$data/demo.log"); do
  shoot "http://127.0.0.1:$port/p/$id" "post-$id"
done
# The demo's first SOC screen in big-screen mode, as a wall at 1080p shows it.
node tests/browser/shot.mjs "http://127.0.0.1:$port/dash/1/screen" "$out/screen-1920-dark.png" dark 1920 1080
