#!/usr/bin/env bash
# Installs the real peers the interop tests talk to: a Python virtualenv (.venv) with the pinned
# packages of Tests/Interop/requirements.txt, and the Debian packages listed in DEBIAN_PACKAGES.
# Idempotent and fast when everything is already there. Fails loudly (non-zero exit) when anything
# cannot be installed: a missing peer is an error, never a skipped test.
#
# Environment:
#   VENV            virtualenv folder (default: <repo>/.venv)
#   PYTHON          interpreter used to create it (default: python3 from PATH)
#   DEBIAN_PACKAGES space-separated Debian packages the tests need (default below)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
REQUIREMENTS="$ROOT/Tests/Interop/requirements.txt"

# Debian packages needed by the tests. Add redis-server / nginx here when tests need them
# (e.g. DEBIAN_PACKAGES="redis-server nginx"); only the missing ones are installed.
DEBIAN_PACKAGES="${DEBIAN_PACKAGES:-redis-server nginx}"  # the cluster tests (Tests/Interop/test_cluster_*.py, SocketIORedisTests)
# chromium + chromium-driver: the browser tests (Tests/Interop/test_browser_*.py, headless, via Selenium)
DEBIAN_PACKAGES="$DEBIAN_PACKAGES chromium chromium-driver"
# nodejs + node-socket.io-parser: the official Socket.IO packet encoder/decoder, driven over Node's own
# WebSocket client (Tests/Interop/test_official_parser.py)
DEBIAN_PACKAGES="$DEBIAN_PACKAGES nodejs node-socket.io-parser"

log() { printf '[setup-peers] %s\n' "$*"; }
die() { printf '[setup-peers] ERROR: %s\n' "$*" >&2; exit 1; }

# --- Debian packages -------------------------------------------------------------------------
# install_debian_packages PKG...: installs the packages that are not installed yet.
install_debian_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "apt-get not found; cannot install: ${missing[*]}"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
        sudo="sudo"
    fi
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq || die "apt-get update failed"
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        || die "apt-get install failed for: ${missing[*]}"
    for pkg in "${missing[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || die "Debian package $pkg is still not installed"
    done
}

# --- Python virtualenv -----------------------------------------------------------------------
setup_venv() {
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found on PATH"
    local stamp="$VENV/.requirements.sha256"
    local want
    want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)-$("$PYTHON" --version 2>&1)"
    if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        log "venv up to date ($VENV)"
        return 0
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating venv $VENV with $("$PYTHON" --version 2>&1)"
        "$PYTHON" -m venv "$VENV" || die "could not create venv at $VENV"
    fi
    log "installing $REQUIREMENTS"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQUIREMENTS" \
        || die "pip install -r $REQUIREMENTS failed"
    # Verify the peers import (a broken install must fail here, not as skipped tests later).
    "$VENV/bin/python" - <<'PY' || die "installed peers do not import"
import engineio, socketio, aiohttp, requests, websocket, websockets, pytest, pytest_timeout, selenium
from importlib.metadata import version
print("[setup-peers] peers:", ", ".join(f"{p} {version(p)}" for p in (
    "python-engineio", "python-socketio", "aiohttp", "websocket-client", "websockets", "pytest", "selenium")))
PY
    echo "$want" > "$stamp"
}

# shellcheck disable=SC2086
install_debian_packages $DEBIAN_PACKAGES
setup_venv
