"""The load generator behind docs/benchmarks.md (socketio-bench), run small in CI against our server (the
full interop fixture, the four benchmark events only, the full fixture with connection state recovery on),
the bare SwiftNIO loop and the python-socketio benchmark server: every scenario delivers what it sent and
reports the figures the report is built from (rates, latency percentiles, server CPU and memory)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import HOST, free_port, swift_bin_dir
from fixture_server import start, stop
from swiftclient_support import wait_port

ROOT = Path(__file__).resolve().parents[2]


def bench(*args: str) -> dict:
    binary = os.environ.get("SOCKETIO_BENCH_BIN") or str(swift_bin_dir() / "socketio-bench")
    out = subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])


SWIFT_SERVERS = {
    "swift": ["--quiet"],
    "swift-bench": ["--bench", "--quiet"],
    "swift-recovery": ["--quiet", "--connection-state-recovery", "120000"],
}


@pytest.fixture(params=[*SWIFT_SERVERS, "bare", "python"])
def server(request):
    if request.param in SWIFT_SERVERS:
        proc, port = start(*SWIFT_SERVERS[request.param])
        yield request.param, proc, port
        stop(proc)
        return
    port = free_port()
    if request.param == "bare":
        binary = os.environ.get("SOCKETIO_BENCH_BIN") or str(swift_bin_dir() / "socketio-bench")
        cmd = [binary, "bare-server", "--host", HOST, "--port", str(port)]
    else:
        cmd = [sys.executable, str(ROOT / "benchmarks" / "python_server.py"), "--host", HOST, "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    yield request.param, proc, port
    proc.kill()
    proc.wait()


@pytest.mark.timeout(300)
def test_every_scenario_reports_complete_figures(server):
    kind, proc, port = server
    common = ["--port", str(port), "--server-pid", str(proc.pid), "--label", kind] + (["--bare"] if kind == "bare" else [])

    connect = bench("connect", "--clients", "200", "--processes", "2", "--hold", "0.5", *common)
    assert connect["connected"] == 200
    assert connect["handshakes_per_s"] > 0 and connect["rss_after"] > connect["rss_before"] > 0

    for in_flight in ("1", "16"):
        # enough deliveries for the server's CPU time (counted in 10 ms clock ticks) to show
        result = bench("broadcast", "--clients", "100", "--messages", "300", "--in-flight", in_flight, *common)
        assert result["delivered"] == result["expected"] == 30000, result
        assert 0 < result["p50_us"] <= result["p99_us"] <= result["p999_us"], result
        assert result["server_cpu_us_per_delivery"] > 0 and result["deliveries_per_s"] > 0
        assert result["rss_after"] > 0 and result["rss_before"] > 0 and result["broadcasts_sent"] == 300 + 20

    echo = bench("echo", "--clients", "20", "--seconds", "1", *common)
    assert echo["round_trips_per_s"] > 0 and echo["server_cpu_us_per_round_trip"] > 0
    assert 0 < echo["p50_us"] <= echo["p99_us"]

    if kind != "bare":
        rooms = bench("rooms", "--clients", "100", "--rooms", "5", "--messages", "20", *common)
        assert rooms["delivered"] == rooms["expected"] == 20 * 100 // 5, rooms
