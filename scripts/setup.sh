#!/usr/bin/env bash
# Create (or reuse) the local virtual environment .venv and install signalbench with pinned dependencies.
# Re-installs only when pyproject.toml or constraints.txt changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "signalbench needs Python >= 3.11; '$PY' is $("$PY" --version 2>&1)" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "[setup] creating .venv with $("$PY" --version)"
    "$PY" -m venv .venv
fi
stamp=.venv/.signalbench-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! .venv/bin/python -c 'import signalbench' 2>/dev/null; then
    echo "[setup] installing pinned dependencies (constraints.txt) into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test,reports,onnx,lightgbm,streaming,distributed]"
    echo "$want" > "$stamp"
else
    echo "[setup] .venv is up to date"
fi
