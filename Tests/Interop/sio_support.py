"""Socket.IO interop helpers: the fixture server process, python-socketio clients, an event recorder
and a raw Socket.IO-over-WebSocket client for speaking the protocol by hand.

Server under test (SIO_SERVER, default: EIO_SERVER, default swift):
  swift   `socketio-conformance-server --port N` (no --engine: the Socket.IO fixture at /socket.io/),
          binary found like conftest does (CONFORMANCE_SERVER_BIN, else `swift build --show-bin-path`).
  python  Tests/Interop/fixtures/socketio_fixture_server.py (python-socketio), the reference peer the
          tests were written against; it is not fully conformant itself (see its header).
"""
from __future__ import annotations

import json
import os
import queue
import struct
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import socketio
import websocket

from conftest import HERE, HOST, ROOT, ServerProcess, free_port, swift_bin_dir

PING_INTERVAL = 300  # ms, the Socket.IO fixture's values (the protocol suite's README)
PING_TIMEOUT = 200
CONNECT_TIMEOUT = 1000
WAIT = 3.0  # seconds: how long a test waits for something that should happen at once

# transports as python-socketio names them; "upgrade" starts with polling and upgrades to WebSocket
TRANSPORTS = {"websocket": ["websocket"], "polling": ["polling"], "upgrade": ["polling", "websocket"]}


def implementation() -> str:
    return os.environ.get("SIO_SERVER") or os.environ.get("EIO_SERVER", "swift")


# Where the Swift fixture is served: our own listener, or mounted on an application of each framework
# (`--mount`, with routes and middleware of its own).
MOUNTS = ["own", "hummingbird", "vapor"]


def mount_args(mount: str) -> list[str]:
    return [] if mount == "own" else ["--mount", mount]


def sio_server_command(port: int, mount: str = "own") -> list[str]:
    impl = implementation()
    if impl == "python":
        return [sys.executable, str(HERE / "fixtures" / "socketio_fixture_server.py"),
                "--host", HOST, "--port", str(port)]
    if impl != "swift":
        raise RuntimeError(f"SIO_SERVER must be 'swift' or 'python', not {impl!r}")
    binary = os.environ.get("CONFORMANCE_SERVER_BIN")
    path = Path(binary) if binary else swift_bin_dir() / "socketio-conformance-server"
    if not path.is_file():
        raise RuntimeError(f"server binary {path} not found: run `swift build` first "
                           "(or set CONFORMANCE_SERVER_BIN / SIO_SERVER=python)")
    return [str(path), "--host", HOST, "--port", str(port), "--quiet", *mount_args(mount)]


class SioServerProcess(ServerProcess):
    """The Socket.IO fixture (see ServerProcess for the lifecycle and log capture)."""

    def __init__(self, mount: str = "own"):
        self.mount = mount
        super().__init__("socketio")

    @property
    def url(self) -> str:  # Engine.IO endpoint of the Socket.IO server
        return f"{self.base}/socket.io/"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/socket.io/"

    def start(self, timeout: float = 30.0) -> None:
        self.port = free_port()
        cmd = sio_server_command(self.port, self.mount)
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
                raise RuntimeError(f"server exited with {self.proc.returncode} before listening: "
                                   f"{cmd}\n" + self.log_tail())
            if ready.is_set() and self._accepts():
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"server did not report 'listening' within {timeout}s: {cmd}\n"
                           + self.log_tail())


# ------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def _sio_server_process():
    server = SioServerProcess()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=MOUNTS, name="_sio_server_process")
def _sio_server_process_across_mounts(request):
    """`_sio_server_process` for the suites that also run against the mounts: a module that imports this
    one instead runs each test against our own listener, then Hummingbird's mount, then Vapor's (with
    SIO_SERVER=python, against the reference server each time)."""
    server = SioServerProcess(request.param)
    yield server
    server.stop()


@pytest.fixture
def sio_server(_sio_server_process):
    """The Socket.IO fixture server, shared by a test module; a test after which it is no longer
    running fails, and it is restarted for the next test."""
    server = _sio_server_process
    if not server.alive():
        server.start()
    yield server
    if not server.alive():
        code = server.proc.returncode if server.proc else None
        tail = server.log_tail()
        server.start()
        pytest.fail(f"the server process died during this test (exit code {code})\n{tail}")


@pytest.fixture
def sio_clients(sio_server):
    """A factory of connected python-socketio clients, all disconnected after the test:
    `sio_clients(transport="websocket", namespaces=None, auth=None, setup=None)`."""
    made: list[socketio.Client] = []

    def make(transport: str = "websocket", setup=None, wait_timeout: float = 5, **kw):
        client = socketio.Client(reconnection=False)
        client.dispatch = Dispatch(client)
        recorder = Recorder()
        client.recorder = recorder
        recorder.attach(client, kw.get("namespaces") or ["/"])
        if setup:
            setup(client)
        made.append(client)
        client.connect(sio_server.base, transports=TRANSPORTS[transport],
                       wait_timeout=wait_timeout, **kw)
        return client

    yield make
    for client in made:
        try:
            client.disconnect()
        except Exception:  # noqa: BLE001
            pass
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            pass


# ------------------------------------------------------------------------------- recorder
class Dispatch:
    """python-engineio's sync client hands every received message to a thread of its own, so its
    handlers may run out of arrival order. This counts the messages handed over and not handled yet:
    after a fence (a packet the server sends after the ones under test, on the same path) has been
    handled, wait_idle() returns once every message that arrived before it has been handled too, so
    that "nothing else arrived" is a fact, not a guess after a fixed wait. (Handlers that block, such
    as ones waiting for a test's release, keep it from being idle.)"""

    def __init__(self, client: socketio.Client):
        self.pending = 0
        self.cond = threading.Condition()
        eio = client.eio
        original = eio._trigger_event

        def trigger(event, *args, run_async=False, **kwargs):
            if event != "message" or not run_async or event not in eio.handlers:
                return original(event, *args, run_async=run_async, **kwargs)
            handler = eio.handlers[event]
            with self.cond:
                self.pending += 1  # on the reader thread, in arrival order

            def run(*a):
                try:
                    handler(*a)
                finally:
                    with self.cond:
                        self.pending -= 1
                        self.cond.notify_all()
            return eio.start_background_task(run, *args)
        eio._trigger_event = trigger

    def wait_idle(self, timeout: float = WAIT) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: self.pending == 0, timeout):
                raise AssertionError(f"{self.pending} received messages still being handled after {timeout}s")


def fence(sender, receivers, timeout: float = WAIT) -> None:
    """Sends every receiver a `fence` event through the fixture's `emit-to-many` (a broadcast, like the
    ones under test) from `sender`, waits until each has handled it and everything that arrived before
    it. Whatever the sender's earlier broadcasts were going to deliver has been delivered by then: one
    sender's broadcasts reach a client in the order they were sent."""
    token = uuid.uuid4().hex
    sender.call("emit-to-many", ([r.get_sid("/") for r in receivers], "fence", token), timeout=timeout)
    for receiver in receivers:
        receiver.recorder.wait_for("fence", (token,), timeout=timeout)
        receiver.dispatch.wait_idle(timeout)


class Recorder:
    """Every event a client receives, in order: (namespace, event, args). Thread-safe; wait() blocks
    until a matching event arrived."""

    def __init__(self):
        self.events: list[tuple[str, str, tuple]] = []
        self.cond = threading.Condition()

    def attach(self, client, namespaces) -> None:
        for ns in set(namespaces) | {"/"}:
            def make_handler(ns):
                def on_any(event, *args):
                    self.add(ns, event, args)
                return on_any
            client.on("*", make_handler(ns), namespace=ns)

            def make_disconnect(ns):
                def on_disconnect(*reason):
                    self.add(ns, "disconnect", reason)
                return on_disconnect
            client.on("disconnect", make_disconnect(ns), namespace=ns)

            def make_connect_error(ns):
                def on_connect_error(*data):
                    self.add(ns, "connect_error", data)
                return on_connect_error
            client.on("connect_error", make_connect_error(ns), namespace=ns)

    def add(self, ns, event, args) -> None:
        with self.cond:
            self.events.append((ns, event, tuple(args)))
            self.cond.notify_all()

    def of(self, event: str, ns: str = "/") -> list[tuple]:
        with self.cond:
            return [a for n, e, a in self.events if e == event and n == ns]

    def wait_for(self, event: str, args: tuple, ns: str = "/", timeout: float = WAIT) -> None:
        """Waits until `event` with exactly these arguments arrived."""
        with self.cond:
            if not self.cond.wait_for(lambda: (ns, event, tuple(args)) in self.events, timeout):
                raise AssertionError(f"waited {timeout}s for {event!r}{args!r} on {ns}; "
                                     f"all events: {self.events!r}"[:2000])

    def wait(self, event: str, ns: str = "/", count: int = 1, timeout: float = WAIT) -> list[tuple]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [a for n, e, a in self.events if e == event and n == ns]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"waited {timeout}s for {count} {event!r} on {ns}, got {len(got)}; "
                        f"all events: {self.events!r}"[:2000])
                self.cond.wait(left)


def wait_until(predicate, timeout: float = WAIT, interval: float = 0.02, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout}s")


# -------------------------------------------------------------------------- raw Socket.IO
class RawSocket:
    """Socket.IO spoken by hand over one Engine.IO WebSocket session. A reader thread answers pings
    (unless answer_pings is False) and queues every other frame: Engine.IO text frames keep their
    type digit ("4..." for Socket.IO packets), binary frames are bytes."""

    def __init__(self, server, answer_pings: bool = True, query: str = "EIO=4&transport=websocket"):
        self.ws = websocket.create_connection(server.ws_url + "?" + query, timeout=WAIT)
        first = self.ws.recv()
        assert isinstance(first, str) and first.startswith("0"), f"open packet expected: {first!r}"
        self.handshake = json.loads(first[1:])
        self.answer_pings = answer_pings
        self.inbox: queue.Queue = queue.Queue()
        self.closed = threading.Event()
        self.close_reason: str | None = None  # "close frame", or the error that ended the connection
        self.close_code: int | None = None  # the close frame's status code
        self.lock = threading.Lock()
        self.ws.settimeout(None)
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        try:
            while True:
                opcode, data = self.ws.recv_data(control_frame=False)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    self.close_reason = "close frame"
                    self.close_code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
                    break
                if opcode == websocket.ABNF.OPCODE_BINARY:
                    self.inbox.put(bytes(data))
                    continue
                text = data.decode("utf-8")
                if text == "2" and self.answer_pings:
                    self.send("3")
                    continue
                self.inbox.put(text)
        except Exception as e:  # noqa: BLE001
            self.close_reason = self.close_reason or repr(e)
        finally:
            self.closed.set()

    def send(self, data: str | bytes) -> None:
        with self.lock:
            if isinstance(data, bytes):
                self.ws.send_binary(data)
            else:
                self.ws.send(data)

    def recv(self, timeout: float = WAIT, skip_pings: bool = True):
        """Next frame (skipping Engine.IO pings); AssertionError if none within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                item = self.inbox.get(timeout=max(0.001, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no frame within {timeout}s (closed: {self.closed.is_set()}, "
                                     f"{self.close_reason})") from None
            if skip_pings and item == "2":
                continue
            return item

    def connect(self, nsp: str = "/", auth: dict | None = None) -> tuple[str, list]:
        """CONNECT to a namespace; returns (socket id, the packets that followed the CONNECT answer
        within a short moment, such as the fixture's `auth` event)."""
        prefix = "" if nsp == "/" else nsp + ","
        self.send("40" + prefix + (json.dumps(auth, separators=(",", ":")) if auth is not None else ""))
        answer = self.recv()
        assert answer.startswith("40" + prefix), f"CONNECT answer expected, got {answer!r}"
        return json.loads(answer[2 + len(prefix):])["sid"], []

    def wait_closed(self, timeout: float = WAIT) -> bool:
        return self.closed.wait(timeout)

    def drain(self, quiet: float = 0.1) -> list:
        out = []
        while True:
            try:
                out.append(self.inbox.get(timeout=quiet))
            except queue.Empty:
                return out

    def close(self):
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001
            pass


def compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def run_async(coro, timeout: float = 20):
    import asyncio
    return asyncio.run(asyncio.wait_for(coro, timeout))


def log_tail(server, n: int = 20) -> str:
    return server.log_tail(n)

