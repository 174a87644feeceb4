#!/usr/bin/env bash
# The README's test command: installs what the tests need, then runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-test-env.sh
echo "== cargo test"
cargo test --workspace --locked
