#!/usr/bin/env bash
# The IVR benchmark in one command: seeds the bench letters if needed, runs the load,
# writes bench/results/ivr.json and bench/results/ivr.md. Options: see `--help`.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
exec "$python" -m bench "$@"
