"""Fixtures for the interop tests: start the server under test on a free 127.0.0.1 port.

Server under test (EIO_SERVER):
  swift  (default) `socketio-conformance-server --engine --port N` from `swift build --show-bin-path`
         (honours SWIFT_SCRATCH as --scratch-path); CONFORMANCE_SERVER_BIN overrides the path.
  python the reference peer Tests/Interop/fixtures/engineio_echo_server.py (python-engineio), only
         for developing tests: it is not fully conformant itself.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
HOST = "127.0.0.1"  # never anything else


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


_bin_path_cache: dict[str, Path] = {}


def swift_bin_dir() -> Path:
    if "dir" not in _bin_path_cache:
        cmd = ["swift", "build", "--show-bin-path"]
        scratch = os.environ.get("SWIFT_SCRATCH")
        if scratch:
            cmd += ["--scratch-path", scratch]
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr}")
        _bin_path_cache["dir"] = Path(out.stdout.strip().splitlines()[-1])
    return _bin_path_cache["dir"]


def server_command(kind: str, port: int, extra_args=()) -> list[str]:
    impl = os.environ.get("EIO_SERVER", "swift")
    if impl == "python":
        if kind != "engine":
            raise RuntimeError(f"no python reference server for {kind!r}")
        return [sys.executable, str(HERE / "fixtures" / "engineio_echo_server.py"),
                "--host", HOST, "--port", str(port), *extra_args]
    if impl != "swift":
        raise RuntimeError(f"EIO_SERVER must be 'swift' or 'python', not {impl!r}")
    binary = os.environ.get("CONFORMANCE_SERVER_BIN")
    path = Path(binary) if binary else swift_bin_dir() / "socketio-conformance-server"
    if not path.is_file():
        raise RuntimeError(
            f"server binary {path} not found: run `swift build` first "
            "(or set CONFORMANCE_SERVER_BIN / EIO_SERVER=python)")
    return [str(path), f"--{kind}", "--host", HOST, "--port", str(port), *extra_args]


class ServerProcess:
    """One running server; its output is kept (last lines) for failure reports."""

    def __init__(self, kind: str = "engine", extra_args=()):
        self.kind = kind
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.lines: deque[str] = deque(maxlen=200)
        self.start()

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:  # Engine.IO endpoint
        return f"{self.base}/engine.io/"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/engine.io/"

    def start(self, timeout: float = 30.0) -> None:
        self.port = free_port()
        cmd = server_command(self.kind, self.port, self.extra_args)
        self.lines.clear()
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            errors="replace", start_new_session=True)
        ready = threading.Event()

        def pump(stream):
            for line in stream:
                self.lines.append(line.rstrip("\n"))
                if "listening" in line:
                    ready.set()
        threading.Thread(target=pump, args=(self.proc.stdout,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                time.sleep(0.1)
                raise RuntimeError(
                    f"server exited with {self.proc.returncode} before listening: {cmd}\n"
                    + self.log_tail())
            if ready.is_set() and self._accepts():
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"server did not report 'listening' and accept within {timeout}s: {cmd}\n"
                           + self.log_tail())

    def _accepts(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 40) -> str:
        return "--- server output (last lines) ---\n" + "\n".join(list(self.lines)[-n:])

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.proc = None


@pytest.fixture(scope="module")
def _engine_server_process():
    server = ServerProcess("engine")
    yield server
    server.stop()


def _checked(server):
    if not server.alive():
        server.start()
    yield server
    if not server.alive():
        code = server.proc.returncode if server.proc else None
        tail = server.log_tail()
        server.start()
        pytest.fail(f"the server process died during this test (exit code {code})\n{tail}")


@pytest.fixture
def engine_server(_engine_server_process):
    """The `--engine` echo server (shared by a test module). A test after which the server is no
    longer running fails, and the server is restarted for the next test."""
    yield from _checked(_engine_server_process)


@pytest.fixture(scope="module")
def _bulk_engine_server_process():
    server = ServerProcess("engine", ["--ping-timeout", "5000"])
    yield server
    server.stop()


@pytest.fixture
def bulk_engine_server(_bulk_engine_server_process):
    """The `--engine` echo server with pingTimeout 5 s instead of 200 ms (pingInterval stays 300 ms,
    so pings still interleave with the data), for bulk transfers: a real client's pong waits in
    its send queue behind the data queued before it, and CI machines are loaded."""
    yield from _checked(_bulk_engine_server_process)


@pytest.fixture
def fresh_engine_server():
    """A server of its own for a test (for cases that need an idle server)."""
    server = ServerProcess("engine")
    yield server
    alive = server.alive()
    server.stop()
    if not alive:
        pytest.fail("the server process died during this test\n" + server.log_tail())


def pytest_report_header(config):
    impl = os.environ.get("EIO_SERVER", "swift")
    return f"server under test: {impl}"
