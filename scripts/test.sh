#!/usr/bin/env bash
# Set everything up (.venv, pinned dependencies) and run the lint and the whole test suite.
# Extra arguments go to pytest (e.g. -k oracle, --runslow).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
.venv/bin/ruff check signalbench tests benchmarks examples
exec .venv/bin/python -m pytest "$@"
