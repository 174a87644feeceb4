#!/usr/bin/env bash
# Installs and starts everything the test suite needs, and checks it: Debian packages, a
# Python venv with pinned versions in the build cache, the npm packages of the browser tests
# from their lockfile, and the PostgreSQL on 127.0.0.1:5432. Idempotent: fast when all is
# present. Fails with what is missing and how to fix it; nothing is masked.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/test-env.sh

fail() {
  echo "setup-test-env: $*" >&2
  exit 1
}

# Debian packages.
need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v sfdp >/dev/null || need_apt+=(graphviz)
command -v tshark >/dev/null || need_apt+=(tshark)
command -v psql >/dev/null && command -v pg_isready >/dev/null || need_apt+=(postgresql-client)
python3 -c 'import ensurepip, venv' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || fail "missing ${need_apt[*]}, and there is no apt-get to install them: install them by hand"
  echo "== apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || fail "apt-get update failed: check the network or the apt sources"
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null \
    || fail "apt-get install ${need_apt[*]} failed (run it by hand to see why)"
fi

# Versions the tests rely on.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) \
  || fail "Node.js is missing: install Node.js 20 or newer (https://nodejs.org or your package manager)"
[ "$node_major" -ge 20 ] || fail "Node.js $(node --version) is too old: the viewer's build and the browser tests need Node.js 20 or newer"
command -v npm >/dev/null || fail "npm is missing: it comes with Node.js 20 or newer"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
  || fail "Python $(python3 --version 2>&1) is too old: the test tools need Python 3.9 or newer"

# The test runner: every test in its own process (.config/nextest.toml says why).
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "== cargo install cargo-nextest"
  cargo install cargo-nextest --locked --quiet \
    || fail "cargo install cargo-nextest failed: check access to crates.io"
fi

# The shared test data (real logs, the generator, conformance cases) is not in the
# repository: ../shared next to it, or the folder SECVIZ_SHARED names.
shared="${SECVIZ_SHARED:-$(cd .. && pwd)/shared}"
[ -d "$shared/data/real" ] && [ -f "$shared/tools/gen_security_data.py" ] && [ -d "$shared/conformance" ] \
  || fail "the shared test data is missing at $shared (want data/real, tools/gen_security_data.py, conformance): put it at ../shared next to the repository or set SECVIZ_SHARED to its folder"

# Python tools, pinned, in a venv of the build cache (never system-wide: Debian's Python is
# externally managed). The venv's name carries the requirements' hash: a change makes a new one.
if [ ! -x "$SECVIZ_VENV/bin/python3" ] || ! "$SECVIZ_VENV/bin/python3" -c 'import duckdb' 2>/dev/null; then
  echo "== python venv $SECVIZ_VENV"
  rm -rf "$SECVIZ_VENV"
  mkdir -p "$SECVIZ_CACHE"
  python3 -m venv "$SECVIZ_VENV" || fail "could not create a Python venv (apt-get install python3-venv)"
  "$SECVIZ_VENV/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-test.txt \
    || fail "pip could not install scripts/requirements-test.txt: check access to PyPI"
fi
"$SECVIZ_VENV/bin/python3" -c 'import duckdb' || fail "DuckDB does not import in $SECVIZ_VENV: delete it and run again"

# PostgreSQL runs before CI starts; start the local cluster again if it stopped.
PG_URL="${SECVIZ_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "== starting PostgreSQL"
    for v in /etc/postgresql/*; do
      pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start \
        || echo "setup-test-env: pg_ctlcluster $(basename "$v") main start failed" >&2
    done
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
fi
pg_isready -h 127.0.0.1 -p 5432 -q \
  || fail "PostgreSQL does not answer on 127.0.0.1:5432: start it (the tests need a server there, trust authentication, database 'test'), or set SECVIZ_TEST_PG_URL"
psql "$PG_URL" -Atqc 'SELECT 1' >/dev/null \
  || fail "PostgreSQL answers, but '$PG_URL' does not let the tests in: they need trust authentication for user postgres and a database 'test' (createdb -h 127.0.0.1 -U postgres test)"
psql "$PG_URL" -Atqc 'DROP DATABASE IF EXISTS secviz_setup_probe' >/dev/null 2>&1 \
  && psql "$PG_URL" -Atqc 'CREATE DATABASE secviz_setup_probe' >/dev/null 2>&1 \
  && psql "$PG_URL" -Atqc 'DROP DATABASE secviz_setup_probe' >/dev/null \
  || fail "the PostgreSQL user of '$PG_URL' cannot create databases: the tests make one each (ALTER ROLE postgres CREATEDB)"

# npm packages of the browser tests (playwright-core drives Debian's chromium; no browser download).
echo "== npm ci (tests/browser)"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) \
  || fail "npm ci in tests/browser failed: check access to the npm registry"
