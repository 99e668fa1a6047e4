"""A small raw Engine.IO v4 client for the protocol tests: HTTP long-polling with `requests`,
WebSocket with `websocket-client`. Everything targets 127.0.0.1 only (see conftest.HOST)."""
from __future__ import annotations

import base64
import json
import queue
import struct
import threading
import time
import uuid

import requests
import websocket

SEP = "\x1e"
PING_INTERVAL = 300  # ms, the --engine fixture's values
PING_TIMEOUT = 200
MAX_PAYLOAD = 1_000_000


# ----------------------------------------------------------------------------------- payloads
def decode_payload(text: str) -> list[tuple[str, object]]:
    """Polling payload -> [(type digit or 'b', data)]; binary 'b<base64>' decoded to bytes."""
    out: list[tuple[str, object]] = []
    for part in text.split(SEP):
        if part == "":
            raise AssertionError(f"empty packet in payload {text!r}")
        if part[0] == "b":
            out.append(("4", base64.b64decode(part[1:], validate=True)))
        else:
            out.append((part[0], part[1:]))
    return out


def encode_packet(data: str | bytes) -> str:
    if isinstance(data, (bytes, bytearray)):
        return "b" + base64.b64encode(bytes(data)).decode("ascii")
    return "4" + data


def encode_payload(messages) -> str:
    return SEP.join(encode_packet(m) for m in messages)


# ---------------------------------------------------------------------------------- polling
def eio_url(server, **params) -> str:
    query = {"EIO": "4", "transport": "polling"}
    query.update({k: v for k, v in params.items() if v is not None})
    return server.url + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def open_polling(server, http=requests) -> tuple[str, dict]:
    r = http.get(eio_url(server), timeout=5)
    assert r.status_code == 200, f"handshake: HTTP {r.status_code} {r.text!r}"
    assert r.text.startswith("0"), f"handshake did not start with an open packet: {r.text!r}"
    info = json.loads(r.text[1:].split(SEP)[0])
    return info["sid"], info


def poll(server, sid, http=requests, timeout=5, **params):
    return http.get(eio_url(server, sid=sid, **params), timeout=timeout)


def post(server, sid, body, http=requests, timeout=5, headers=None, **params):
    return http.post(eio_url(server, sid=sid, **params), data=body, timeout=timeout,
                     headers=headers)


def error_json(r) -> dict:
    try:
        body = r.json()
    except ValueError:
        raise AssertionError(f"HTTP {r.status_code} body is not JSON: {r.text!r}") from None
    assert isinstance(body, dict), f"HTTP {r.status_code} body is not a JSON object: {r.text!r}"
    return body


def assert_error(r, status: int, code: int, message: str | None = None) -> None:
    """An Engine.IO HTTP error: status, JSON {"code": N, "message": "..."}."""
    assert r.status_code == status, (
        f"expected HTTP {status}, got {r.status_code} {r.headers.get('content-type')} {r.text!r}")
    body = error_json(r)
    assert body.get("code") == code, f"expected error code {code}, got body {body!r}"
    assert isinstance(body.get("message"), str) and body["message"], f"no message in {body!r}"
    if message is not None:
        assert body["message"] == message, f"expected message {message!r}, got {body!r}"


def assert_session_closed(server, sid, within: float = 0.25) -> None:
    """The session is closed: a GET on it answers at once with 400 (unknown sid), possibly after
    one response that carries a close/noop packet. A GET that is answered with a ping, or hangs,
    means the session is still alive."""
    for _ in range(3):
        t0 = time.monotonic()
        try:
            r = poll(server, sid, timeout=max(within, 0.25) + 0.25)
        except requests.exceptions.Timeout:
            raise AssertionError(f"session {sid} still open: its GET hung (no 400)") from None
        if r.status_code == 400:
            assert error_json(r).get("code") in (1, 3), f"unexpected 400 body {r.text!r}"
            return
        assert r.status_code == 200, f"GET on closed session: HTTP {r.status_code} {r.text!r}"
        kinds = [t for t, _ in decode_payload(r.text)]
        assert "2" not in kinds and "4" not in kinds, (
            f"session {sid} still alive: GET answered {r.text!r} after "
            f"{time.monotonic() - t0:.3f}s")
    raise AssertionError(f"session {sid} never answered 400 after its close")


# -------------------------------------------------------------------------------- websocket
def ws_connect(server, sid=None, timeout=5, eio="4", transport="websocket", **kw):
    url = server.ws_url + f"?EIO={eio}&transport={transport}"
    if sid:
        url += f"&sid={sid}"
    return websocket.create_connection(url, timeout=timeout, **kw)


def ws_recv(ws):
    """Next data frame: str for text, bytes for binary; raises on close."""
    opcode, data = ws.recv_data(control_frame=False)
    if opcode == websocket.ABNF.OPCODE_TEXT:
        return data.decode("utf-8")
    if opcode == websocket.ABNF.OPCODE_BINARY:
        return bytes(data)
    if opcode == websocket.ABNF.OPCODE_CLOSE:
        raise websocket.WebSocketConnectionClosedException("closed by server")
    raise AssertionError(f"unexpected opcode {opcode}")


def ws_open(server, timeout=5):
    ws = ws_connect(server, timeout=timeout)
    first = ws_recv(ws)
    assert isinstance(first, str) and first.startswith("0"), f"open packet expected: {first!r}"
    return ws, json.loads(first[1:])


def ws_wait_closed(ws, timeout: float) -> None:
    """Waits until the server closes the WebSocket; fails if it is still open after timeout.
    Pings received meanwhile are NOT answered."""
    ws.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE or (opcode == 0 and not data):
                return
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError) as e:
        if isinstance(e, websocket.WebSocketTimeoutException):
            raise AssertionError(f"WebSocket still open after {timeout}s") from None
        return
    raise AssertionError(f"WebSocket still open after {timeout}s")


def ws_close_code(ws, timeout: float) -> int | None:
    """Waits for the server's WebSocket close frame and returns its status code (None for a close
    frame without one). Fails if the connection drops without a close frame (a reset is not a clean
    close) or is still open after `timeout`. Data frames meanwhile (pings included) are ignored."""
    ws.settimeout(timeout)
    try:
        while True:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
    except websocket.WebSocketTimeoutException:
        raise AssertionError(f"WebSocket still open after {timeout}s") from None
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError) as e:
        raise AssertionError(f"the connection dropped without a WebSocket close frame ({e!r})") from None


# --------------------------------------------------------------------- healthy sessions
class HealthyPolling:
    """A well-behaved polling session kept alive by a background poller that answers pings.
    check() proves it still works: a text and a binary message come back as sent."""

    def __init__(self, server):
        self.server = server
        self.http_get = requests.Session()
        self.http_post = requests.Session()
        self.post_lock = threading.Lock()
        self.sid, self.info = open_polling(server, self.http_get)
        self.inbox: queue.Queue = queue.Queue()
        self.error: str | None = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _post(self, body):
        with self.post_lock:
            r = post(self.server, self.sid, body, self.http_post)
        if r.status_code != 200:  # the exact "ok" body is asserted by the protocol tests
            self.error = f"POST {body[:40]!r}: HTTP {r.status_code} {r.text!r}"
        return r

    def _run(self):
        while not self.stopped.is_set():
            try:
                r = poll(self.server, self.sid, self.http_get, timeout=10)
            except Exception as e:  # noqa: BLE001
                self.error = f"GET failed: {e!r}"
                return
            if r.status_code != 200:
                if not self.stopped.is_set():
                    self.error = f"GET: HTTP {r.status_code} {r.text!r}"
                return
            for kind, data in decode_payload(r.text):
                if kind == "2":
                    self._post("3")
                elif kind == "4":
                    self.inbox.put(data)
                elif kind == "1":
                    self.error = "server closed the healthy session"
                    return

    def check(self, timeout=3.0) -> None:
        token = uuid.uuid4().hex
        blob = token.encode() + b"\x00\xff"
        r = self._post(encode_payload(["healthy " + token, blob]))
        assert r.status_code == 200, (
            f"healthy polling session POST: HTTP {r.status_code} {r.text!r} ({self.error})")
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < 2:
            try:
                got.append(self.inbox.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"healthy polling session: echoes missing, got {got!r}, "
                                     f"poller error: {self.error}") from None
        assert got == ["healthy " + token, blob], f"healthy polling session echoed {got!r}"
        assert self.error is None, self.error

    def close(self):
        self.stopped.set()
        try:
            with self.post_lock:
                post(self.server, self.sid, "1", self.http_post, timeout=2)
        except Exception:  # noqa: BLE001
            pass
        self.thread.join(timeout=3)


class HealthyWebSocket:
    """A well-behaved WebSocket session whose reader thread answers pings."""

    def __init__(self, server):
        self.ws, self.info = ws_open(server)
        self.ws.settimeout(None)
        self.inbox: queue.Queue = queue.Queue()
        self.error: str | None = None
        self.stopped = threading.Event()
        self.send_lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopped.is_set():
            try:
                data = ws_recv(self.ws)
            except Exception as e:  # noqa: BLE001
                if not self.stopped.is_set():
                    self.error = f"WebSocket closed: {e!r}"
                return
            if data == "2":
                with self.send_lock:
                    self.ws.send("3")
            elif isinstance(data, bytes) or data.startswith("4"):
                self.inbox.put(data if isinstance(data, bytes) else data[1:])
            elif data.startswith("1"):
                self.error = "server closed the healthy WebSocket session"
                return

    def check(self, timeout=3.0) -> None:
        token = uuid.uuid4().hex
        blob = b"\x01" + token.encode()
        with self.send_lock:
            self.ws.send("4healthy " + token)
            self.ws.send_binary(blob)
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < 2:
            try:
                got.append(self.inbox.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"healthy WebSocket session: echoes missing, got {got!r}, "
                                     f"reader: {self.error}") from None
        assert got == ["healthy " + token, blob], f"healthy WebSocket session echoed {got!r}"
        assert self.error is None, self.error

    def close(self):
        self.stopped.set()
        try:
            with self.send_lock:
                self.ws.send("1")
            self.ws.close()
        except Exception:  # noqa: BLE001
            pass
