"""Issue 16, point 7, seen from python-socketio: the handshake a Socket.IO middleware or handler reads is
swift-http-types' `HTTPFields` (`socket.handshake.headers`, `Host` included as Node's
`socket.handshake.headers.host` is) plus the query; the server binds when its ServiceGroup runs it (the
fixture prints "listening on" only once `HTTPServer.localAddress` resolved, which this whole suite waits
for)."""
from __future__ import annotations

import pytest
import socketio

from sio_support import TRANSPORTS, _sio_server_process, sio_server  # noqa: F401

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_handshake_headers_and_query_as_the_server_sees_them(sio_server, transport):
    client = socketio.Client(reconnection=False)
    try:
        client.connect(sio_server.base + "?room=lobby", transports=TRANSPORTS[transport],
                       headers={"X-Token": "abc", "User-Agent": "interop-test/1"}, wait_timeout=5)
        seen = client.call("handshake", timeout=5)
        host = sio_server.base.split("://", 1)[1].rstrip("/")
        assert seen == {"host": host, "x-token": "abc", "user-agent": "interop-test/1", "room": "lobby",
                        "secure": False}, seen
    finally:
        client.disconnect()
        client.shutdown()


def test_a_header_the_client_did_not_send_is_absent(sio_server):
    client = socketio.Client(reconnection=False)
    try:
        client.connect(sio_server.base, transports=["websocket"], wait_timeout=5)
        seen = client.call("handshake", timeout=5)
        assert seen["x-token"] is None and seen["room"] is None, seen
    finally:
        client.disconnect()
        client.shutdown()
