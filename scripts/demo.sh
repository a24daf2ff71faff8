#!/usr/bin/env bash
# Set everything up (.venv, pinned dependencies) and run the main job: the signalbench demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/signalbench demo "$@"
