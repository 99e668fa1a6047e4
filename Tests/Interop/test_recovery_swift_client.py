"""Connection state recovery with the Swift client (socketio-cli) against our server
(`socketio-conformance-server --connection-state-recovery MS`), for the three ways of connecting
(long-polling, WebSocket, polling upgraded to WebSocket).

The client goes through a proxy (cut_proxy.py) whose connections are reset, as a network blip would:
no Engine.IO close, no Socket.IO DISCONNECT. While it is cut, another client emits to the first one's
room; then the proxy lets the reconnection through. Recovered: the same socket id, `recovered` true on
both sides, and every missed event once, in order (then the live ones). Not recovered: after the
client's own `disconnect()`, and after a cut longer than the server's window.

As in the official client, each event keeps its offset (a string) as its last argument."""
from __future__ import annotations

import json
import queue
import time

import pytest

from cut_proxy import CutProxy
from fixture_server import stop
from recovery_support import Observer, recovery_server, server, values_and_offsets  # noqa: F401 (server: fixture)
from swiftclient_support import LiveCLI

pytestmark = pytest.mark.timeout(120)

TRANSPORTS = {"polling": "polling", "websocket": "websocket", "upgrade": "polling,websocket"}


class Client:
    """socketio-cli through the proxy, reconnecting, printing its `news` and `auth` events (the fixture's
    echo of each CONNECT payload) and its acknowledgements."""

    def __init__(self, url: str, transport: str):
        self.transport = transport
        self.cli = LiveCLI(url, "--transports", TRANSPORTS[transport], "--reconnect", "--reconnection-delay", "100",
                           "--reconnection-delay-max", "300", "--randomization-factor", "0", "--verbose", "--ack",
                           "--auth", '{"token": "t"}', "--listen", "news", "--listen", "auth", "--timeout", "110")
        self.pending: list[dict] = []  # stdout lines read while looking for something else
        self.lines: list[dict] = []  # standard error's JSON lines
        self.cursor = 0  # in `lines`: what connected() and disconnected() have gone past

    def _stderr(self, key: str, value: str, start: int) -> int:
        """The index in `lines` (the --verbose JSON lines of standard error, all kept) of the first line at or
        after `start` whose `key` is `value`; waits for it."""
        deadline = time.monotonic() + 20
        index = start
        while True:
            while index < len(self.lines):
                if self.lines[index].get(key) == value:
                    return index
                index += 1
            try:
                raw = self.cli.stderr.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {key} {value} line; stderr: {self.cli.stderr_lines}") from None
            self.cli.stderr_lines.append(raw)
            try:
                line = json.loads(raw)
            except ValueError:
                line = None
            self.lines.append(line if isinstance(line, dict) else {"text": raw})

    def connected(self) -> dict:
        """The next connection: {"socket": "connect", "id": …, "recovered": …} (and, polling then WebSocket,
        the upgrade of its Engine.IO connection, which may come before or after)."""
        index = self._stderr("socket", "connect", self.cursor)
        self.cursor = index + 1
        if self.transport == "upgrade":
            opened = max(i for i in range(index + 1) if self.lines[i].get("manager") == "open")
            self._stderr("manager", "upgrade", opened)
        return self.lines[index]

    def disconnected(self) -> str:
        index = self._stderr("socket", "disconnect", self.cursor)
        self.cursor = index + 1
        return self.lines[index]["reason"]

    def _next(self, key: str, value: str) -> dict:
        """The next stdout line whose `key` is `value` (the others are kept for later)."""
        for index, line in enumerate(self.pending):
            if line.get(key) == value:
                return self.pending.pop(index)
        while True:
            try:
                line = self.cli.next_event(timeout=20)
            except queue.Empty:
                raise AssertionError(f"no {key} {value} line; stderr: {self.cli.stderr_lines}") from None
            if line.get(key) == value:
                return line
            self.pending.append(line)

    def call(self, event: str, *args) -> list:
        """Emits with an acknowledgement; returns the acknowledgement's arguments."""
        self.cli.send(f"{event} {json.dumps(list(args))}")
        return self._next("ack", event)["args"]

    def news(self, count: int) -> list[list]:
        """The arguments of the next `count` news events."""
        return [self._next("event", "news")["args"] for _ in range(count)]

    def auth(self) -> dict:
        """The CONNECT payload of the last connection, as the server got it."""
        return self._next("event", "auth")["args"][0]

    def close(self) -> None:
        self.cli.close()



@pytest.fixture
def setup(server, request):
    proxy = CutProxy(server)
    observer = Observer(server)
    client = Client(proxy.base, request.param)
    yield proxy, observer, client
    client.close()
    observer.close()
    proxy.close()


def joined(client: Client, observer: Observer) -> dict:
    """The client, connected, in room r, having received one news event (so it has an offset)."""
    first = client.connected()
    assert first["recovered"] is False and first["id"]
    assert client.auth() == {"token": "t"}  # no pid yet
    assert client.call("join", "r") == []
    observer.emit_to("r", 0)
    values, offsets = values_and_offsets(client.news(1))
    assert values == [0]
    first["offset"] = offsets[0]
    return first


@pytest.mark.parametrize("setup", list(TRANSPORTS), indirect=True)
def test_a_cut_connection_is_recovered_with_every_missed_event_once_in_order(setup):
    proxy, observer, client = setup
    first = joined(client, observer)
    assert proxy.cut() >= 1
    assert client.disconnected() in ("transport close", "transport error")
    observer.wait_gone(first["id"])
    for value in range(1, 6):
        observer.emit_to("r", value)  # to the room: the rooms come back too
    observer.emit_all(6)
    proxy.resume()

    again = client.connected()
    assert again == {"socket": "connect", "id": first["id"], "recovered": True}
    # the CONNECT carried the session's pid and the offset of the last event handled, with the auth object
    auth = client.auth()
    assert auth == {"pid": auth["pid"], "offset": first["offset"], "token": "t"} and isinstance(auth["pid"], str)
    values, offsets = values_and_offsets(client.news(6))
    assert values == [1, 2, 3, 4, 5, 6]
    assert len(set(offsets)) == 6
    assert client.call("recovered") == [True]  # the server's socket.recovered
    # nothing more was pending: the next event is the next one sent
    observer.emit_to("r", 7)
    assert values_and_offsets(client.news(1))[0] == [7]

    # and it recovers again after a second cut
    proxy.cut()
    client.disconnected()
    observer.wait_gone(first["id"])
    observer.emit_to("r", 8)
    proxy.resume()
    assert client.connected() == {"socket": "connect", "id": first["id"], "recovered": True}
    assert values_and_offsets(client.news(1))[0] == [8]


@pytest.mark.parametrize("setup", list(TRANSPORTS), indirect=True)
def test_a_client_disconnect_is_not_recovered(setup):
    _, observer, client = setup
    first = joined(client, observer)
    client.cli.send(":disconnect")
    assert client.disconnected() == "io client disconnect"
    observer.wait_gone(first["id"])
    observer.emit_to("r", 1)
    client.cli.send(":connect")

    again = client.connected()
    assert again["recovered"] is False and again["id"] != first["id"]
    # as the official client, it still sent its pid: the server, which forgot the session, made a new one
    assert set(client.auth()) == {"pid", "offset", "token"}
    assert client.call("recovered") == [False]
    observer.emit_all(2)  # a new socket, in no room: 1 is not delivered
    assert values_and_offsets(client.news(1))[0] == [2]


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_past_the_window_a_cut_connection_is_not_recovered(transport):
    proc, port = recovery_server(300)
    proxy = CutProxy(port)
    observer = Observer(port)
    client = Client(proxy.base, transport)
    try:
        first = joined(client, observer)
        proxy.cut()
        client.disconnected()
        observer.wait_gone(first["id"])
        observer.emit_to("r", 1)
        time.sleep(1.0)  # well past the 300 ms window
        proxy.resume()
        again = client.connected()
        assert again["recovered"] is False and again["id"] != first["id"]
        assert client.call("recovered") == [False]
        observer.emit_all(2)
        assert values_and_offsets(client.news(1))[0] == [2]
    finally:
        client.close()
        observer.close()
        proxy.close()
        stop(proc)
