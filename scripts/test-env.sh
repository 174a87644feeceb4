# Sourced by the test scripts: where the test tools live. Not a command.
# The build cache outside the clone holds the Python venv; a fresh machine creates it.
SECVIZ_CACHE="${SECVIZ_CACHE:-$HOME/.cache/secviz}"
SECVIZ_VENV="$SECVIZ_CACHE/venv-$(sha256sum "$(dirname "${BASH_SOURCE[0]}")/requirements-test.txt" | cut -c1-12)"
export SECVIZ_CACHE SECVIZ_VENV
# The tests run `python3`: the venv's, with the pinned packages.
export PATH="$SECVIZ_VENV/bin:$PATH"
