"""A storm: 10,000 clients connect at once (three times over). All are served; afterwards the server's
file descriptors are back to their baseline and its memory does not grow from storm to storm."""
import json
import os
import subprocess
import time

import pytest

from conftest import HOST, swift_bin_dir
from fixture_server import start, stop


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def wait_for_fds(pid, target, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline and fds(pid) > target:
        time.sleep(0.1)
    return fds(pid)


@pytest.mark.timeout(480)
def test_ten_thousand_clients_at_once_three_times():
    proc, port = start("--quiet", "--connect-timeout", "45000")
    bench = os.environ.get("SOCKETIO_BENCH_BIN") or str(swift_bin_dir() / "socketio-bench")
    try:
        time.sleep(0.5)
        baseline_fds = fds(proc.pid)
        after_storm = []
        for storm in range(3):
            out = subprocess.run(
                [bench, "connect", "--port", str(port), "--clients", "10000", "--processes", "2", "--hold", "0.5",
                 "--server-pid", str(proc.pid), "--label", f"storm{storm}"],
                capture_output=True, text=True, timeout=240)
            assert out.returncode == 0, out.stderr[-2000:]
            result = json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])
            assert result["connected"] == 10000, result
            left = wait_for_fds(proc.pid, baseline_fds)
            assert left <= baseline_fds, f"storm {storm}: {left - baseline_fds} file descriptors leaked"
            after_storm.append(rss(proc.pid))
        # memory returns to a plateau: the third storm leaves no more resident memory than the first (+10%)
        assert after_storm[2] <= after_storm[0] * 1.10, after_storm
    finally:
        stop(proc)
