"""Helpers of the Admin UI tests: the fixture with --admin-ui, and a python-socketio client acting as the
official Admin UI page (@socket.io/admin-ui's ui/: the /admin namespace, auth in the CONNECT packet,
every event recorded in order)."""
from __future__ import annotations

import json
import re
import threading
import time
import types
import uuid

import socketio

import eio_raw
import fixture_server

JS_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
# JavaScript's Date.toString(), as a Node.js server writes handshake.time (in UTC here)
JS_DATE_STRING = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d\d \d{4} \d\d:\d\d:\d\d GMT\+0000 "
                            r"\(Coordinated Universal Time\)$")
ALL_FEATURES = ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT",
                "AGGREGATED_EVENTS", "ALL_EVENTS"]
WAIT = 6.0


class AdminServer:
    """socketio-conformance-server with Admin UI flags."""

    def __init__(self, *flags):
        self.proc, self.port = fixture_server.start("--quiet", *flags)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> str:
        return fixture_server.stop(self.proc)


class AdminPage:
    """What the page does: connects to /admin (polling then WebSocket, as the page does by default) with
    its auth, and records every event."""

    def __init__(self, url: str, auth: dict | None = None, namespace: str = "/admin",
                 transports=("polling", "websocket"), also_main: bool = False):
        self.namespace = namespace
        self.events: list[tuple[str, list]] = []
        self.errors: list = []
        self.cond = threading.Condition()
        self.sio = socketio.Client(reconnection=False)

        @self.sio.on("*", namespace=namespace)
        def any_event(event, *args):
            with self.cond:
                self.events.append((event, list(args)))
                self.cond.notify_all()

        @self.sio.on("connect_error", namespace=namespace)
        def connect_error(data=None):
            with self.cond:
                self.errors.append(data)
                self.cond.notify_all()

        # also_main: the page's connection also joins `/`, so that a round trip there (answered after every
        # packet the page sent before it) can serve as a fence for actions that answer nothing
        namespaces = [namespace, "/"] if also_main else [namespace]
        self.sio.connect(url, namespaces=namespaces, auth=auth, transports=list(transports), wait_timeout=10)

    def all(self, event: str) -> list[list]:
        with self.cond:
            return [args for name, args in self.events if name == event]

    def wait_for(self, event: str, match=lambda args: True, timeout: float = WAIT) -> list:
        """The arguments of the first `event` (recorded so far or coming) for which `match` is true."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for name, args in self.events:
                    if name == event and match(args):
                        return args
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = sorted({name for name, _ in self.events})
                    raise AssertionError(f"no matching {event!r} within {timeout}s (events seen: {seen})")
                self.cond.wait(remaining)

    def act(self, event: str, *args) -> None:
        """One of the page's actions (emit, join, leave, _disconnect)."""
        self.sio.emit(event, tuple(args), namespace=self.namespace)

    def round_trip(self) -> None:
        """An echo on `/` over the page's connection (see also_main)."""
        assert self.sio.call("echo", "fence", namespace="/", timeout=WAIT) == "fence"

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:
            pass


def refused(url: str, auth: dict | None, namespace: str = "/admin") -> list:
    """Connects as the page with `auth`, expecting a refusal; returns the connect_error data received."""
    errors: list = []
    got = threading.Event()
    sio = socketio.Client(reconnection=False)

    @sio.on("connect_error", namespace=namespace)
    def connect_error(data=None):
        errors.append(data)
        got.set()

    try:
        sio.connect(url, namespaces=[namespace], auth=auth, transports=["websocket"], wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        pass
    else:
        sio.disconnect()
        raise AssertionError("the admin namespace accepted the page")
    got.wait(WAIT)
    sio.disconnect()
    return errors


def check_serialized_socket(socket: dict, sid: str, nsp: str, transport: str) -> None:
    """The official server's serialized socket."""
    assert set(socket) == {"id", "clientId", "transport", "nsp", "data", "handshake", "rooms"}, socket
    assert socket["id"] == sid and socket["nsp"] == nsp and socket["transport"] == transport
    assert isinstance(socket["clientId"], str) and len(socket["clientId"]) == 12
    assert "_admin" not in socket["data"]
    assert set(socket["handshake"]) == {"address", "headers", "query", "issued", "secure", "time", "url", "xdomain"}
    assert socket["handshake"]["address"] == "127.0.0.1"
    assert socket["handshake"]["query"]["EIO"] == "4"
    assert isinstance(socket["handshake"]["issued"], int) and socket["handshake"]["secure"] is False
    assert socket["handshake"]["url"].startswith("/socket.io/")
    assert JS_DATE_STRING.match(socket["handshake"]["time"]), socket["handshake"]["time"]
    assert "host" in socket["handshake"]["headers"]
    assert sid in socket["rooms"]


class UpgradingClient:
    """A client of the main namespace that connects over long-polling and upgrades to WebSocket only when
    told, as a browser may (python-socketio upgrades before its CONNECT, so the page would never see it)."""

    def __init__(self, port: int):
        self.server = types.SimpleNamespace(url=f"http://127.0.0.1:{port}/socket.io/",
                                            ws_url=f"ws://127.0.0.1:{port}/socket.io/")
        self.eio_sid, _ = eio_raw.open_polling(self.server)
        assert eio_raw.post(self.server, self.eio_sid, "40").status_code == 200
        self.sid = None
        deadline = time.monotonic() + WAIT
        while self.sid is None and time.monotonic() < deadline:
            for packet in eio_raw.poll(self.server, self.eio_sid).text.split("\x1e"):
                if packet.startswith("40{"):
                    self.sid = json.loads(packet[2:])["sid"]
        assert self.sid, "no CONNECT answer"
        self.ws = None

    def upgrade(self) -> None:
        self.ws = eio_raw.ws_connect(self.server, sid=self.eio_sid)
        self.ws.send("2probe")
        assert eio_raw.ws_recv(self.ws) == "3probe"
        self.ws.send("5")

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()


def page_fence(page: AdminPage, users) -> None:
    """A `fence` event from the page to every socket of `/` (the page's broadcasts reach each client in the
    order it sent them, across nodes too): once these users have it, whatever the page's earlier actions
    sent them has arrived."""
    token = uuid.uuid4().hex
    page.act("emit", "/", None, "fence", token)
    for user in users:
        user.wait_for("fence", [token])
