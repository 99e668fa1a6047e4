"""Helpers of the cluster tests: a real redis-server and nginx on free 127.0.0.1 ports (configs in a temp
dir, stopped afterwards), Socket.IO fixture nodes joined through Redis, and recording python-socketio
clients. A missing redis-server or nginx is an error (scripts/setup-peers.sh installs them), never a skip."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import defaultdict, deque
from pathlib import Path

import requests
import socketio
from requests.adapters import HTTPAdapter

from conftest import HOST, free_port, swift_bin_dir
from sio_support import Dispatch

ROOT = Path(__file__).resolve().parents[2]


def wait_port(port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after {timeout}s")


def find_binary(name: str) -> str:
    path = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.path.exists(p)), None)
    if path is None:
        raise RuntimeError(f"{name} not found: run scripts/setup-peers.sh (it installs redis-server and nginx)")
    return path


class Redis:
    """A throwaway redis-server: no persistence, loopback only, optionally password-protected
    (`requirepass`); stop() and start() keep the port and the password."""

    def __init__(self, password: str | None = None):
        self.binary = find_binary("redis-server")
        self.port = free_port()
        self.password = password
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        credentials = f":{self.password}@" if self.password else ""
        return f"redis://{credentials}{HOST}:{self.port}"

    def start(self) -> None:
        auth = ["--requirepass", self.password] if self.password else []
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no",
             "--protected-mode", "yes", *auth],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_port(self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None


class Node:
    """One socketio-conformance-server joined to the cluster with --redis."""

    def __init__(self, redis_url: str, extra_args: tuple = (), adapter_flag: str = "--redis"):
        self.port = free_port()
        binary = os.environ.get("CONFORMANCE_SERVER_BIN") or str(swift_bin_dir() / "socketio-conformance-server")
        self.lines: deque[str] = deque(maxlen=2000)
        self.proc = subprocess.Popen(
            [binary, "--host", HOST, "--port", str(self.port), "--quiet", adapter_flag, redis_url,
             "--ping-interval", "25000", "--ping-timeout", "20000", *extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
        threading.Thread(target=self._pump, daemon=True).start()
        wait_port(self.port, proc=self.proc)

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> list[str]:
        return list(self.lines)

    def rss_bytes(self) -> int:
        """The node's resident memory now (Linux /proc)."""
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


class Cluster:
    def __init__(self, nodes: int = 3, redis_password: str | None = None):
        self.redis = Redis(redis_password)
        self.nodes: list[Node] = []
        try:
            for _ in range(nodes):
                self.nodes.append(Node(self.redis.url))
        except Exception:
            self.stop()
            raise
        self.clients: list[Client] = []

    def client(self, node: int, transports=("websocket",), url: str | None = None,
               source_address: str | None = None, wait_timeout: float = 10) -> "Client":
        client = Client(url or self.nodes[node].url, list(transports), source_address, wait_timeout)
        self.clients.append(client)
        return client

    def disconnect_clients(self) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()

    def emit_via_emitter(self, script: str) -> None:
        binary = os.environ.get("CONFORMANCE_SERVER_BIN") or str(swift_bin_dir() / "socketio-conformance-server")
        out = subprocess.run([binary, "--quiet", "--redis", self.redis.url, "--redis-emit", script],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, f"emitter failed: {out.stdout}{out.stderr}"

    def assert_alive(self) -> None:
        for index, node in enumerate(self.nodes):
            assert node.alive(), f"node {index} died:\n" + "\n".join(node.lines)

    def stop(self) -> None:
        self.disconnect_clients()
        for node in self.nodes:
            node.stop()
        self.redis.stop()


def fence(sender: "Client", receivers: list["Client"], timeout: float = 10) -> None:
    """A `fence` event to every receiver, broadcast from the sender's node the way the broadcasts
    under test were: once each receiver has it, whatever that node sent before has arrived (one
    node's messages reach another node in order through one Redis connection, and a node delivers
    to its clients in order). Then "nobody else got it" is a fact, without a fixed wait. (With the
    sharded adapter this holds for broadcasts on the namespace channel, which the fence uses; a room's
    own channel may live on another master, with no order between the two.)"""
    token = uuid.uuid4().hex
    sender.call("emit-to-many", [r.sid for r in receivers], "fence", token)
    for receiver in receivers:
        receiver.wait_for("fence", [token], timeout)


class Client:
    """A python-socketio client that records every event it receives."""

    def __init__(self, url: str, transports: list[str], source_address: str | None = None,
                 wait_timeout: float = 10, auth: dict | None = None):
        self.events: dict[str, list] = defaultdict(list)
        self.lock = threading.Lock()
        session = None
        if source_address is not None:
            # A distinct client address (127.0.0.x), so that nginx's address hash spreads clients.
            session = requests.Session()
            session.mount("http://", SourceAddressAdapter(source_address))
        self.sio = socketio.Client(reconnection=False, http_session=session)
        self.dispatch = Dispatch(self.sio)
        self.disconnected = threading.Event()
        self.sid: str | None = None

        @self.sio.on("*")
        def catch_all(event, *args):
            with self.lock:
                self.events[event].append(list(args))
            return "ack-" + (self.sid or "")

        @self.sio.event
        def disconnect(*_):
            self.disconnected.set()

        self.sio.connect(url, transports=transports, wait_timeout=wait_timeout, auth=auth)
        self.sid = self.sio.get_sid("/")

    def call(self, event: str, *args, timeout: float = 10):
        return self.sio.call(event, args if len(args) != 1 else args[0], timeout=timeout) if args else \
            self.sio.call(event, timeout=timeout)

    def received(self, event: str) -> list:
        with self.lock:
            return list(self.events.get(event, []))

    def wait_for(self, event: str, args: list, timeout: float = 10) -> None:
        """Waits until `event` with exactly these arguments arrived and everything received before
        it has been handled."""
        assert eventually(lambda: args in self.received(event), timeout=timeout), \
            f"no {event!r} {args!r} within {timeout}s: {dict(self.events)!r}"[:2000]
        self.dispatch.wait_idle(timeout)

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:
            pass


class SourceAddressAdapter(HTTPAdapter):
    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def eventually(predicate, timeout: float = 5.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class Nginx:
    """nginx in front of the nodes, from deploy/nginx.conf's upstream choice: sticky (`hash
    $remote_addr consistent`) or plain round robin, to show why stickiness is needed."""

    def __init__(self, nodes: list[Node], sticky: bool = True):
        self.binary = find_binary("nginx")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="sio-nginx-"))
        os.chmod(self.dir, 0o777)
        servers = "\n".join(f"        server {HOST}:{node.port} max_fails=0;" for node in nodes)
        balance = "        hash $remote_addr consistent;" if sticky else "        # round robin: no stickiness"
        conf = (ROOT / "deploy" / "nginx.conf").read_text()
        # The shipped config with the test's ports and paths: its upstream block is replaced, the rest kept.
        start = conf.index("upstream socketio_nodes {")
        end = conf.index("}", start) + 1
        conf = conf[:start] + "upstream socketio_nodes {\n" + balance + "\n" + servers + "\n        keepalive 32;\n    }" + conf[end:]
        conf = conf.replace("listen 80;", f"listen {HOST}:{self.port};")
        conf = conf.replace("/var/run/nginx.pid", str(self.dir / "nginx.pid"))
        conf = conf.replace("/var/log/nginx/", str(self.dir) + "/")
        conf = conf.replace("/var/lib/nginx/", str(self.dir) + "/")
        (self.dir / "nginx.conf").write_text(conf)
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"), "-e", str(self.dir / "error.log"),
             "-g", "daemon off;"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            wait_port(self.port, proc=self.proc)
        except RuntimeError:
            out = self.proc.stdout.read() if self.proc.stdout else ""
            raise RuntimeError(f"nginx did not start: {out}\n{conf}")

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)
