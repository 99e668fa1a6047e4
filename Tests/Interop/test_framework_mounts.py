"""Socket.IO mounted on a Hummingbird 2 and a Vapor 4 application (`socketio-conformance-server --mount`):
the application keeps its routes, its middleware and its 404s, upgrades outside the Socket.IO path stay
the application's, and under the path our server answers (the client script, CORS, polling, WebSocket
with permessage-deflate), bypassing the application's middleware as Node's socket.io bypasses express's.

The same fixture also runs the Socket.IO client suites (test_socketio_client_interop.py), the protocol
suite (test_socketio_protocol_suite.py), TLS (test_tls.py) and graceful shutdown
(test_graceful_shutdown.py) on both mounts; the chat examples run in Chromium (test_browser_chat.py)."""
from __future__ import annotations

import json
import socket
import threading

import pytest
import requests
import socketio
import websocket
import websockets.sync.client

from conftest import HOST
from fixture_server import start, stop

FRAMEWORKS = ["hummingbird", "vapor"]
MARKER = "X-App-Middleware"


@pytest.fixture(scope="module", params=FRAMEWORKS)
def app(request):
    """The fixture mounted on the framework's application, with permessage-deflate offered."""
    proc, port = start("--quiet", "--per-message-deflate", mount=request.param)
    yield request.param, f"http://{HOST}:{port}", port
    stop(proc)


def test_the_applications_route_and_middleware_answer(app):
    framework, base, _ = app
    response = requests.get(base + "/health", timeout=5)
    assert response.status_code == 200 and response.text == "ok"
    assert response.headers[MARKER] == framework


@pytest.mark.parametrize("path", ["/nope", "/socket.iox", "/socket", "/health/more"])
def test_the_applications_404s_are_its_own(app, path):
    framework, base, _ = app
    response = requests.get(base + path, timeout=5)
    assert response.status_code == 404 and response.text == "app 404"
    assert response.headers[MARKER] == framework


def test_socketio_answers_under_its_path_without_the_applications_middleware(app):
    _, base, _ = app
    response = requests.get(base + "/socket.io/?EIO=4&transport=polling", timeout=5)
    assert response.status_code == 200 and response.text.startswith('0{"sid":')
    assert MARKER not in response.headers
    # engine.io's own errors, not the application's 404
    response = requests.get(base + "/socket.io/?EIO=4&transport=polling&sid=unknown", timeout=5)
    assert response.status_code == 400 and response.json() == {"code": 1, "message": "Session ID unknown"}
    assert MARKER not in response.headers


def test_the_client_script_is_served(app):
    _, base, _ = app
    response = requests.get(base + "/socket.io/socket.io.js", timeout=5)
    assert response.status_code == 200 and "javascript" in response.headers["Content-Type"]
    assert "function lookup" in response.text and MARKER not in response.headers
    again = requests.get(base + "/socket.io/socket.io.js", headers={"If-None-Match": response.headers["ETag"]}, timeout=5)
    assert again.status_code == 304 and again.content == b""


def test_cors_as_on_our_own_listener(app):
    _, base, _ = app
    origin = "http://elsewhere.example"
    preflight = requests.options(base + "/socket.io/?EIO=4&transport=polling", timeout=5, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] in ("*", origin)
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    response = requests.get(base + "/socket.io/?EIO=4&transport=polling", headers={"Origin": origin}, timeout=5)
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] in ("*", origin)


def test_websocket_under_the_path_is_ours_with_permessage_deflate(app):
    """The 101 carries our handshake's negotiation (permessage-deflate, which neither framework's
    WebSocket stack was asked for), and a compressed session works both ways."""
    _, _, port = app
    url = f"ws://{HOST}:{port}/socket.io/?EIO=4&transport=websocket"
    with websockets.sync.client.connect(url, compression="deflate", open_timeout=5) as ws:
        assert "permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", "")
        assert ws.recv(timeout=5).startswith('0{"sid":')
        ws.send("40")
        assert ws.recv(timeout=5).startswith('40{"sid":')
        big = "x" * 5000  # over the compression threshold: compressed both ways
        ws.send('421["message-with-ack","%s"]' % big)
        answer = ws.recv(timeout=5)
        while not answer.startswith("43"):  # the fixture's welcome events come first
            answer = ws.recv(timeout=5)
        assert answer == '431["%s"]' % big


def raw_request(port: int, request: bytes) -> bytes:
    with socket.create_connection((HOST, port), timeout=5) as conn:
        conn.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        return data


def test_an_upgrade_outside_the_path_is_left_to_the_application(app):
    framework, _, port = app
    if framework == "vapor":
        # the application's own WebSocket route, served by Vapor's WebSocket stack
        ws = websocket.create_connection(f"ws://{HOST}:{port}/app-echo", timeout=5)
        try:
            ws.send("hello app")
            assert ws.recv() == "hello app"
        finally:
            ws.close()
    # an upgrade to one of the application's plain routes gets the route's answer, not our 101
    head = raw_request(port, (
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"))
    status_line = head.split(b"\r\n")[0]
    assert b" 101 " not in status_line
    assert MARKER.lower().encode() in head.lower()


def test_python_socketio_clients_chat_through_the_mount(app):
    """Two clients, one on each transport, reach each other through the fixture's broadcast."""
    _, base, _ = app
    received = threading.Event()
    got = []
    listener = socketio.Client(reconnection=False)
    sender = socketio.Client(reconnection=False)

    @listener.on("news")
    def on_news(*args):
        got.append(list(args))
        received.set()

    try:
        listener.connect(base, transports=["websocket"], wait_timeout=5)
        sender.connect(base, transports=["polling"], wait_timeout=5)
        sender.call("broadcast", ("news", "hi all", {"n": 1}), timeout=5)
        assert received.wait(5)
        assert got == [["hi all", {"n": 1}]]
    finally:
        listener.disconnect()
        sender.disconnect()


def read_response(conn: socket.socket, buffered: bytes = b"") -> tuple[bytes, bytes, bytes]:
    """One HTTP/1.1 response with a Content-Length body: (status line and headers, body, bytes after it)."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        assert chunk, f"connection closed before a whole response head: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                  if line.lower().startswith(b"content-length:"))
    while len(rest) < length:
        chunk = conn.recv(4096)
        assert chunk, "connection closed in a response body"
        rest += chunk
    return head, rest[:length], rest[length:]


def test_one_connection_carries_socketio_and_the_application_in_turn(app):
    """Keep-alive across both: Socket.IO requests first (no framework request yet on the connection), then
    the application's route, middleware and 404, then Socket.IO again, all on one connection."""
    framework, _, port = app
    host = b"Host: 127.0.0.1\r\n"
    with socket.create_connection((HOST, port), timeout=5) as conn:
        conn.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n" + host + b"\r\n")
        head, body, rest = read_response(conn)
        assert head.startswith(b"HTTP/1.1 200") and body.startswith(b'0{"sid":')
        assert MARKER.lower().encode() not in head.lower()
        conn.sendall(b"GET /health HTTP/1.1\r\n" + host + b"\r\n")
        head, body, rest = read_response(conn, rest)
        assert head.startswith(b"HTTP/1.1 200") and body == b"ok"
        assert (MARKER.lower() + ": " + framework).encode() in head.lower()
        conn.sendall(b"GET /nope HTTP/1.1\r\n" + host + b"\r\n")
        head, body, rest = read_response(conn, rest)
        assert head.startswith(b"HTTP/1.1 404") and body == b"app 404"
        conn.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n" + host + b"\r\n")
        head, body, rest = read_response(conn, rest)
        assert head.startswith(b"HTTP/1.1 200") and body.startswith(b'0{"sid":')
        conn.sendall(b"GET /health HTTP/1.1\r\n" + host + b"\r\n")
        head, body, rest = read_response(conn, rest)
        assert head.startswith(b"HTTP/1.1 200") and body == b"ok"


def test_a_malformed_first_request_ends_the_connection_as_the_framework_does(app):
    """Hummingbird answers 400 then closes (so does the mount before Hummingbird's handlers serve the
    connection); Vapor closes."""
    framework, _, port = app
    with socket.create_connection((HOST, port), timeout=5) as conn:
        conn.sendall(b"NOT AN HTTP REQUEST\r\n\r\n")
        data = b""
        while chunk := conn.recv(4096):
            data += chunk
        if framework == "hummingbird":
            assert data.startswith(b"HTTP/1.1 400")
        else:
            assert data == b""


@pytest.mark.parametrize("first", ["nothing", "a Socket.IO request", "a Socket.IO WebSocket"])
def test_a_client_that_closes_its_side_is_disconnected(app, first):
    """The frameworks allow half-closed connections: one whose client is done writing is closed by the
    server (before any request, or after one of Socket.IO's) rather than kept open."""
    _, _, port = app
    with socket.create_connection((HOST, port), timeout=5) as conn:
        rest = b""
        if first == "a Socket.IO request":
            conn.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            head, _, rest = read_response(conn)
            assert head.startswith(b"HTTP/1.1 200") and rest == b""
        elif first == "a Socket.IO WebSocket":
            conn.sendall(
                b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
                b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            while b"\r\n\r\n" not in rest:
                chunk = conn.recv(4096)
                assert chunk, "connection closed before the 101"
                rest += chunk
            assert rest.startswith(b"HTTP/1.1 101")
        conn.shutdown(socket.SHUT_WR)
        while chunk := conn.recv(4096):  # (a WebSocket's open packet may come first)
            assert first == "a Socket.IO WebSocket", f"unexpected data {chunk!r}"


@pytest.fixture(scope="module")
def signed_in_app():
    """The fixture on Vapor behind the application's bearer-token authentication (`vapor-signed-in`):
    token alice-token is user alice; the fixture's Socket.IO middleware reads the user from the handshake."""
    proc, port = start("--quiet", mount="vapor-signed-in")
    yield f"http://{HOST}:{port}"
    stop(proc)


SIGNED_IN = {"Authorization": "Bearer alice-token"}


def test_behind_the_applications_middleware_a_request_without_credentials_is_refused_by_it(signed_in_app):
    base = signed_in_app
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = requests.get(base + "/socket.io/?EIO=4&transport=polling", headers=headers, timeout=5)
        assert response.status_code == 401  # (from the application's guard, through its error middleware)
        for transports in (["polling"], ["websocket"]):
            client = socketio.Client(reconnection=False)
            with pytest.raises(socketio.exceptions.ConnectionError):
                client.connect(base, headers=headers, transports=transports, wait_timeout=5)
    # the application's other routes are as before
    assert requests.get(base + "/health", timeout=5).text == "ok"


@pytest.mark.parametrize("transports", [["polling"], ["websocket"], ["polling", "websocket"]])
def test_behind_the_applications_middleware_socketio_middleware_sees_its_user(signed_in_app, transports):
    """The user the application's authenticator logged in reaches `socket.handshake.user`, read by a
    Socket.IO middleware (which puts its name in socket.data, acked by `whoami`)."""
    base = signed_in_app
    response = requests.get(base + "/socket.io/?EIO=4&transport=polling", headers=SIGNED_IN, timeout=5)
    assert response.status_code == 200 and response.text.startswith('0{"sid":')
    assert response.headers[MARKER] == "vapor"  # through the application's middleware this time
    # the session's later requests are the session's: answered ahead of the application's middleware,
    # without credentials (python-socketio sends its headers with the handshake only)
    sid = json.loads(response.text[1:])["sid"]
    later = requests.post(f"{base}/socket.io/?EIO=4&transport=polling&sid={sid}", data="40", timeout=5)
    assert later.status_code == 200 and later.text == "ok" and MARKER not in later.headers
    client = socketio.Client(reconnection=False)
    try:
        client.connect(base, headers=SIGNED_IN, transports=transports, wait_timeout=5)
        assert client.call("whoami", timeout=5) == "alice"
        assert client.call("echo", "still served", timeout=5) == "still served"
    finally:
        client.disconnect()
