#!/usr/bin/env bash
# The README's test command, and CI's: installs and checks what the tests need, checks the
# formatting and the lints, then runs every test. Prints the total time at its end.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
source scripts/test-env.sh
./scripts/setup-test-env.sh
echo "== cargo fmt --check"
cargo fmt --all --check
echo "== no import circles between the files of a crate"
python3 scripts/import-circles.py >/dev/null || { python3 scripts/import-circles.py; exit 1; }
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo nextest run (every test in its own process)"
cargo nextest run --workspace --locked
echo "== the lake's suite again, every lake on a real S3-compatible server (moto on 127.0.0.1)"
SECVIZ_TEST_LAKE=s3 cargo nextest run -p secviz-lake --locked --test it
echo "== the lake's suite again, every query across two query workers on 127.0.0.1 (datafusion-distributed)"
SECVIZ_TEST_WORKERS=2 cargo nextest run -p secviz-lake --locked --test it
echo "== doc tests"
cargo test --workspace --doc --locked
echo "== all checks passed in $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s"
