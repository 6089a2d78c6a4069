#!/usr/bin/env bash
# Every benchmark in one command: seeds what is missing, runs each part, writes
# bench/results/<part>.md and .json. Parts first, then options:
#   bench/run.sh                      all parts (ivr, scale, console, kpis), ~25 min
#   bench/run.sh console --quick      one part, short phases (a smoke run)
# Options: bench/run.sh --help; details in bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
exec "$python" -m bench "$@"
