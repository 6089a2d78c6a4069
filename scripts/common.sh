# Shared by scripts/run-demo and scripts/test: system packages and the virtualenv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "error: '$*' needs root; run it as root or install sudo" >&2; return 1; fi
}

APT_UPDATED=0
apt_install() {
    # apt_install PACKAGE... : install the Debian packages that are missing.
    local missing=()
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || { echo "error: missing ${missing[*]} and no apt-get to install them" >&2; return 1; }
    echo "installing Debian packages: ${missing[*]}"
    if [ "$APT_UPDATED" -eq 0 ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_python() {
    command -v python3 >/dev/null || apt_install python3
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
        echo "error: Python 3.11 or newer is needed, found $(python3 --version)" >&2; exit 1; }
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
}

ensure_venv() {
    # ensure_venv LOCK : a virtualenv with exactly the packages pinned in requirements/LOCK.txt
    # (app or test), installed with their hashes checked, and the project itself (editable).
    local lock="$ROOT/requirements/${1:-app}.txt"
    ensure_python
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    local stamp="$VENV/.installed-${1:-app}"
    if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
        "$VENV/bin/python" -m pip install -q --require-hashes --no-deps -r "$ROOT/requirements/build.txt"
        "$VENV/bin/python" -m pip install -q --require-hashes --no-deps -r "$lock"
        "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e "$ROOT"
        touch "$stamp"
    fi
}
