#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine with Python 3.11 (run as root, or with sudo for apt):
# Debian packages (ngspice shared library, Chromium, Node.js), the venv in .venv with the Python
# packages (torch pinned to the CPU wheel), and the Node packages the tests use. Each step is skipped
# when what it installs is already there and unchanged.
#   scripts/setup.sh        what `make run` needs (Chromium included: the browser tests and `--desktop` use it)
#   scripts/setup.sh test   and what only the tests need: a virtual X display (xvfb) and xdotool, for the
#                           test that opens the desktop window
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libngspice0 libngspice0-dev ngspice chromium nodejs npm kicad-symbols)
for group in "$@"; do
    case "$group" in
        test) APT_PACKAGES+=(xvfb xdotool) ;;
        *) echo "setup: unknown group '$group' (known: test)" >&2; exit 2 ;;
    esac
done
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if [ "$pkg" = nodejs ] || [ "$pkg" = npm ]; then
        command -v "${pkg/nodejs/node}" >/dev/null 2>&1 && continue
    fi
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
    echo "setup: installing Python packages (torch CPU wheel first)"
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q torch==2.13.0
    .venv/bin/pip install -q -e ".[dev]"
    rm -f .venv/.installed-*
    touch "$stamp"
fi

node_stamp=tests/js/node_modules/.installed-$(sha256sum tests/js/package-lock.json | cut -c1-16)
if [ ! -f "$node_stamp" ]; then
    echo "setup: installing Node packages for the Circuit JSON validator"
    npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
    touch "$node_stamp"
fi
