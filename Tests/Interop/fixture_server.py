"""Starts socketio-conformance-server (the Socket.IO fixture) with extra flags, for tests that need their
own server process (signals, limits, storms)."""
import os
import socket
import subprocess
import time
import urllib.request

from conftest import HOST, free_port, swift_bin_dir


def start(*flags, ping=("25000", "20000"), mount="own"):
    """Starts the fixture on a free port (on our own listener, or mounted on a framework's application:
    `mount` is one of sio_support.MOUNTS); returns (process, port). stderr is captured for log checks."""
    if mount != "own":
        flags = (*flags, "--mount", mount)
    port = free_port()
    binary = os.environ.get("CONFORMANCE_SERVER_BIN") or str(swift_bin_dir() / "socketio-conformance-server")
    proc = subprocess.Popen([binary, "--host", HOST, "--port", str(port), "--ping-interval", ping[0],
                             "--ping-timeout", ping[1], *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("socketio-conformance-server did not start")


def stop(proc):
    """Kills the server; returns what it logged."""
    proc.kill()
    proc.wait()
    return proc.stderr.read()


def scrape_metrics(port: int) -> dict[str, float]:
    """The Prometheus text at /metrics (socketio-chat --metrics, or this fixture with --metrics) as
    {name with labels: value}."""
    text = urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=5).read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values
