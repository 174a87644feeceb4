#!/usr/bin/env bash
# Installs and starts everything the test suite needs. Idempotent: fast when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium chromium-driver)
command -v sfdp >/dev/null || need_apt+=(graphviz)
command -v tshark >/dev/null || need_apt+=(tshark)
command -v wrk >/dev/null || need_apt+=(wrk)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! python3 -c 'import duckdb' 2>/dev/null; then
  echo "== pip install duckdb"
  python3 -m pip install -q duckdb
fi

# PostgreSQL runs before CI starts; start it again if it stopped.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "== starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi

# npm packages of the browser tests (playwright-core drives Debian's chromium; no browser download).
if [ -f tests/browser/package.json ]; then
  echo "== npm ci (tests/browser)"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
