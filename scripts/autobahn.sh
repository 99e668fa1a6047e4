#!/usr/bin/env bash
# Runs the Autobahn|Testsuite fuzzing client (RFC 6455 + RFC 7692) against the WebSocket echo server
# (`socketio-conformance-server --websocket-echo`) and fails if any case FAILED.
#
# Usage: scripts/autobahn.sh [--ci] [--cases 'PATTERN,PATTERN']
#   --ci       a representative subset (every group, including 12.* and 13.*) that takes a few minutes
#   --cases    explicit comma-separated case patterns (e.g. '6.*,12.1.*'); default '*' (the full suite)
# Environment:
#   AUTOBAHN_SCRATCH_PATH    swift build --scratch-path (default .build)
#   AUTOBAHN_CONFIGURATION   debug or release (default debug)
#   AUTOBAHN_SERVER_BINARY   use this server binary instead of building one
#   AUTOBAHN_VENV            the Python 2.7 virtualenv (default .venv-autobahn)
# The report goes to reports/autobahn/<mode>/ (index.json, index.html).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

fail() {
    echo "autobahn: ERROR: $*" >&2
    exit 1
}

MODE="full"
CASES='*'
while [ $# -gt 0 ]; do
    case "$1" in
        --ci) MODE="ci"; shift ;;
        --cases) [ $# -ge 2 ] || fail "--cases needs a value"; MODE="custom"; CASES="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) fail "unknown argument: $1" ;;
    esac
done

# A subset that finishes in a few minutes on two cores: all framing, pings, reserved bits, opcodes,
# fragmentation, UTF-8 and close cases, a few big-message cases, and compression cases of each kind.
CI_CASES='1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.1.1,9.1.2,9.1.3,9.2.1,9.2.2,9.3.1,9.4.1,9.7.1,9.8.1,10.*,12.1.1,12.1.2,12.1.3,12.1.4,12.1.5,12.1.6,12.1.7,12.1.8,12.1.11,12.2.1,12.2.5,12.2.10,12.3.1,12.4.1,12.5.1,12.5.10,13.1.1,13.1.2,13.1.5,13.1.10,13.2.1,13.2.10,13.3.1,13.3.5,13.3.10,13.4.1,13.4.10,13.5.1,13.5.10,13.6.1,13.6.10,13.7.1,13.7.5,13.7.10'
if [ "$MODE" = "ci" ]; then
    CASES="$CI_CASES"
fi

# ---------------------------------------------------------------------------------------------------
# 1. The Python 2.7 virtualenv with autobahntestsuite (idempotent).
VENV="${AUTOBAHN_VENV:-$ROOT/.venv-autobahn}"
TOOLS="$ROOT/.venv-tools"
REQUIREMENTS="$ROOT/scripts/autobahn/requirements-py27.txt"
STAMP="$VENV/.requirements.sha256"
[ -f "$REQUIREMENTS" ] || fail "missing $REQUIREMENTS"
WANT_HASH="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"

if [ ! -x "$VENV/bin/wstest" ] || [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT_HASH" ]; then
    echo "autobahn: setting up $VENV"
    command -v python3 >/dev/null || fail "python3 is required to create the virtualenv tool"
    if command -v pyenv >/dev/null; then
        PY27_PREFIX="$(pyenv prefix 2.7.18 2>/dev/null)" || fail "pyenv has no Python 2.7.18 (pyenv install 2.7.18)"
    else
        PY27_PREFIX="${AUTOBAHN_PY27_PREFIX:-}"
        [ -n "$PY27_PREFIX" ] || fail "pyenv not found; install Python 2.7.18 with pyenv or set AUTOBAHN_PY27_PREFIX"
    fi
    PY27="$PY27_PREFIX/bin/python"
    [ -x "$PY27" ] || fail "no Python 2.7 interpreter at $PY27"
    if [ ! -x "$TOOLS/bin/virtualenv" ]; then
        python3 -m venv "$TOOLS" || fail "cannot create $TOOLS"
        "$TOOLS/bin/pip" install --quiet 'virtualenv<20.22' || fail "cannot install virtualenv<20.22"
    fi
    rm -rf "$VENV"
    "$TOOLS/bin/virtualenv" -p "$PY27" "$VENV" || fail "cannot create the Python 2.7 virtualenv"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS" \
        || fail "cannot install the pinned autobahntestsuite requirements"
    [ -x "$VENV/bin/wstest" ] || fail "wstest missing after installation"
    echo "$WANT_HASH" > "$STAMP"
fi
"$VENV/bin/wstest" --autobahnversion >/dev/null 2>&1 || fail "wstest does not run ($VENV/bin/wstest --autobahnversion)"

# ---------------------------------------------------------------------------------------------------
# 2. The server.
if [ -n "${AUTOBAHN_SERVER_BINARY:-}" ]; then
    SERVER="$AUTOBAHN_SERVER_BINARY"
else
    SCRATCH="${AUTOBAHN_SCRATCH_PATH:-$ROOT/.build}"
    CONFIGURATION="${AUTOBAHN_CONFIGURATION:-debug}"
    echo "autobahn: building socketio-conformance-server ($CONFIGURATION, scratch $SCRATCH)"
    swift build --scratch-path "$SCRATCH" -c "$CONFIGURATION" --product socketio-conformance-server \
        || fail "swift build failed"
    SERVER="$(swift build --scratch-path "$SCRATCH" -c "$CONFIGURATION" --show-bin-path)/socketio-conformance-server"
fi
[ -x "$SERVER" ] || fail "server binary not found: $SERVER"

REPORTS="$ROOT/reports/autobahn/$MODE"
rm -rf "$REPORTS"
mkdir -p "$REPORTS"

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT INT TERM

"$SERVER" --websocket-echo --host 127.0.0.1 --port "$PORT" --quiet > "$REPORTS/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    if python3 -c "import socket, sys; socket.create_connection(('127.0.0.1', $PORT), 0.2).close()" 2>/dev/null; then
        break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$REPORTS/server.log" >&2; fail "the server exited"; }
    sleep 0.1
done
python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.5).close()" 2>/dev/null \
    || fail "the server does not listen on 127.0.0.1:$PORT"
echo "autobahn: server pid $SERVER_PID on ws://127.0.0.1:$PORT, cases: $CASES"

# ---------------------------------------------------------------------------------------------------
# 3. The fuzzing client.
SPEC="$REPORTS/fuzzingclient.json"
python3 - "$SPEC" "$REPORTS" "$PORT" "$CASES" <<'PY'
import json, sys
spec, outdir, port, cases = sys.argv[1:]
json.dump({
    "outdir": outdir,
    "servers": [{"agent": "swift-socketio", "url": "ws://127.0.0.1:%s" % port}],
    "cases": [case for case in cases.split(",") if case],
    "exclude-cases": [],
    "exclude-agent-cases": {},
}, open(spec, "w"), indent=2)
PY
START=$(date +%s)
(cd "$REPORTS" && "$VENV/bin/wstest" -m fuzzingclient -s "$SPEC") > "$REPORTS/wstest.log" 2>&1 \
    || { tail -20 "$REPORTS/wstest.log" >&2; fail "wstest exited with an error (log: $REPORTS/wstest.log)"; }
echo "autobahn: wstest finished in $(( $(date +%s) - START )) s"
kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$REPORTS/server.log" >&2; fail "the server died during the run"; }

INDEX="$REPORTS/index.json"
[ -f "$INDEX" ] || fail "no report at $INDEX"
python3 "$ROOT/scripts/autobahn/summarize.py" "$INDEX" --strict-groups 12,13
