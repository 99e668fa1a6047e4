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
    """socketio-cli through the proxy, reconnecting, printing its `news` events and acknowledgements."""

    def __init__(self, url: str, transport: str):
        self.transport = transport
        self.cli = LiveCLI(url, "--transports", TRANSPORTS[transport], "--reconnect", "--reconnection-delay", "100",
                           "--reconnection-delay-max", "300", "--randomization-factor", "0", "--verbose", "--ack",
                           "--listen", "news", "--timeout", "110")
        self.pending: list[dict] = []  # stdout lines read while looking for something else

    def stderr(self, kind: str, value: str) -> dict:
        return self.cli.wait_stderr(lambda line: line.get(kind) == value)

    def connected(self) -> dict:
        """The next connection: {"socket": "connect", "id": …, "recovered": …}."""
        line = self.stderr("socket", "connect")
        if self.transport == "upgrade":
            self.stderr("manager", "upgrade")
        return line

    def disconnected(self) -> str:
        return self.stderr("socket", "disconnect")["reason"]

    def _next(self, key: str) -> dict:
        for index, line in enumerate(self.pending):
            if key in line:
                return self.pending.pop(index)
        while True:
            try:
                line = self.cli.next_event(timeout=20)
            except queue.Empty:
                raise AssertionError(f"no {key} line; stderr: {self.cli.stderr_lines}") from None
            if key in line:
                return line
            self.pending.append(line)

    def call(self, event: str, *args) -> list:
        """Emits with an acknowledgement; returns the acknowledgement's arguments."""
        self.cli.send(f"{event} {json.dumps(list(args))}")
        line = self._next("ack")
        assert line["ack"] == event, line
        return line["args"]

    def news(self, count: int) -> list[list]:
        """The arguments of the next `count` news events."""
        return [self._next("event")["args"] for _ in range(count)]

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
    assert client.call("join", "r") == []
    observer.emit_to("r", 0)
    values, _ = values_and_offsets(client.news(1))
    assert values == [0]
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
