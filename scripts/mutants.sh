#!/usr/bin/env bash
# Mutation check: plant each known bug of scripts/mutants.py in a temporary copy of the working tree, run the tests
# meant to catch it, and print which mutants were killed (exit 1 if any survived, 2 if a patch no longer applies).
# Run it before submitting a change to the runner, the audit, the report or the consumer.
#   bash scripts/mutants.sh                 # every mutant
#   bash scripts/mutants.sh --list          # their names
#   bash scripts/mutants.sh NAME ...        # some of them (--all-failures: every catching test, not the first)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${SIGNALBENCH_PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || { echo "mutants: $PY not found: run bash scripts/setup.sh first (or set SIGNALBENCH_PYTHON)" >&2; exit 2; }
exec "$PY" scripts/mutants.py "$@"
