"""Helpers of the Swift client's interop tests: start a Socket.IO server (python-socketio fixture or ours)
on a free port, run socketio-cli, read its JSON lines."""
from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import HOST, free_port, swift_bin_dir

HERE = Path(__file__).resolve().parent


def cli_path() -> str:
    return os.environ.get("SOCKETIO_CLI_BIN") or str(swift_bin_dir() / "socketio-cli")


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


class Server:
    """A server process: kind "python" (swiftclient_server.py) or "swift" (socketio-conformance-server)."""

    def __init__(self, kind: str, port: int | None = None, tls: tuple[str, str] | None = None):
        self.kind = kind
        self.port = port or free_port()
        self.tls = tls  # (certificate, key) PEM files: serve HTTPS/WSS
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}"

    def start(self) -> None:
        if self.kind == "python":
            cmd = [sys.executable, str(HERE / "swiftclient_server.py"), "--host", HOST, "--port", str(self.port)]
        else:
            binary = os.environ.get("CONFORMANCE_SERVER_BIN") or str(swift_bin_dir() / "socketio-conformance-server")
            cmd = [binary, "--host", HOST, "--port", str(self.port), "--quiet"]
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_cli(*args: str, timeout: float = 30) -> tuple[int, list[dict], str]:
    """Runs socketio-cli to completion; returns (exit code, stdout JSON lines, stderr)."""
    out = subprocess.run([cli_path(), *args], capture_output=True, text=True, timeout=timeout)
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return out.returncode, lines, out.stderr


class LiveCLI:
    """socketio-cli running in the background, fed through stdin, read line by line."""

    def __init__(self, *args: str):
        self.proc = subprocess.Popen([cli_path(), *args, "--stdin"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.stdout: queue.Queue = queue.Queue()
        self.stderr: queue.Queue = queue.Queue()
        self.stderr_lines: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr), daemon=True).start()

    @staticmethod
    def _pump(stream, sink) -> None:
        for line in stream:
            sink.put(line.rstrip("\n"))

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def next_event(self, timeout: float = 15) -> dict:
        return json.loads(self.stdout.get(timeout=timeout))

    def wait_stderr(self, predicate, timeout: float = 15) -> dict:
        """The next stderr JSON line matching predicate (non-JSON lines are kept too)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = self.stderr.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            self.stderr_lines.append(line)
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if predicate(value):
                return value
        raise AssertionError(f"no matching stderr line; got {self.stderr_lines}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
