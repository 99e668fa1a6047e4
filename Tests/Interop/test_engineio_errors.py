"""B. Engine.IO error paths over raw HTTP and WebSocket against the `--engine` echo server.

Each test asserts what a peer sees (HTTP status, the JSON body `{"code": N, "message": ...}` that
Node's engine.io sends, the session being closed) and that other, healthy sessions on the same
server (one polling, one WebSocket, opened before the error) still send and receive afterwards.
Error codes and messages follow Node's engine.io 6.x (lib/server.ts):
0 "Transport unknown", 1 "Session ID unknown", 2 "Bad handshake method", 3 "Bad request",
5 "Unsupported protocol version" (Node treats a missing or non-"4" EIO as protocol 3, unsupported).
"""
from __future__ import annotations

import json
import socket
import time

import pytest
import requests
import websocket

from eio_raw import (
    MAX_PAYLOAD, PING_INTERVAL, PING_TIMEOUT, HealthyPolling, HealthyWebSocket, assert_error,
    assert_session_closed, decode_payload, encode_payload, eio_url, open_polling, poll, post,
    ws_close_code, ws_connect, ws_open, ws_recv)


# The server sends pings due within the next 5 ms in one batch (HeartbeatScheduler.pingLookahead): a
# ping may leave that much before pingInterval, which the protocol allows.
PING_LOOKAHEAD = 0.005


@pytest.fixture
def healthy(engine_server):
    sessions = [HealthyPolling(engine_server), HealthyWebSocket(engine_server)]
    yield sessions
    for s in sessions:
        s.close()


def check_healthy(sessions) -> None:
    for s in sessions:
        s.check()


def raw_get(server, query: str, method: str = "GET", **kw):
    return requests.request(method, server.url + query, timeout=5, **kw)


def assert_ws_refused(server, query: str, code: int, message: str) -> None:
    """A WebSocket upgrade the server must refuse as Node's engine.io does: HTTP 400 with the JSON
    error {"code": N, "message": ...} instead of 101. A dropped connection or silence is a failure."""
    url = server.ws_url + query
    try:
        ws = websocket.create_connection(url, timeout=10)
    except websocket.WebSocketBadStatusException as e:
        assert e.status_code == 400, f"upgrade {query!r}: refused with HTTP {e.status_code}, not 400"
        body = json.loads(e.resp_body)
        assert body == {"code": code, "message": message}, f"upgrade {query!r}: error body {body!r}"
        return
    try:
        data = ws_recv(ws)
    finally:
        ws.close()
    raise AssertionError(f"upgrade {query!r} was accepted and sent {data!r}")


# ------------------------------------------------------------------------ unknown transport
def test_unknown_transport(engine_server, healthy):
    assert_error(raw_get(engine_server, "?EIO=4&transport=abc"), 400, 0, "Transport unknown")
    assert_error(raw_get(engine_server, "?EIO=4"), 400, 0, "Transport unknown")
    assert_error(raw_get(engine_server, "?EIO=4&transport=flashsocket"), 400, 0)
    assert_error(raw_get(engine_server, "?EIO=4&transport=abc", "POST", data="4x"), 400, 0)
    assert_ws_refused(engine_server, "?EIO=4&transport=abc", 0, "Transport unknown")
    assert_ws_refused(engine_server, "?EIO=4", 0, "Transport unknown")
    check_healthy(healthy)


# ------------------------------------------------------------------------------ unknown sid
def test_unknown_sid(engine_server, healthy):
    assert_error(raw_get(engine_server, "?EIO=4&transport=polling&sid=doesnotexist"),
                 400, 1, "Session ID unknown")
    assert_error(raw_get(engine_server, "?EIO=4&transport=polling&sid=doesnotexist", "POST",
                         data="4hello"), 400, 1, "Session ID unknown")
    assert_ws_refused(engine_server, "?EIO=4&transport=websocket&sid=doesnotexist", 1, "Session ID unknown")
    check_healthy(healthy)


def test_sid_of_a_closed_session_is_unknown(engine_server, healthy):
    sid, _ = open_polling(engine_server)
    r = post(engine_server, sid, "1")
    assert r.status_code == 200
    assert_error(poll(engine_server, sid), 400, 1, "Session ID unknown")
    check_healthy(healthy)


# ---------------------------------------------------------------------- bad handshake method
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_bad_handshake_method(engine_server, healthy, method):
    r = raw_get(engine_server, "?EIO=4&transport=polling", method, data="4hello")
    assert_error(r, 400, 2, "Bad handshake method")
    check_healthy(healthy)


# ------------------------------------------------------------------------------ bad request
def test_websocket_transport_without_upgrade_is_bad_request(engine_server, healthy):
    # A plain GET (no Upgrade header) asking for the websocket transport: Node answers
    # 400 {"code":3,"message":"Bad request"} (TRANSPORT_HANDSHAKE_ERROR).
    assert_error(raw_get(engine_server, "?EIO=4&transport=websocket"), 400, 3, "Bad request")
    check_healthy(healthy)


def test_polling_request_on_websocket_session_is_bad_request(engine_server, healthy):
    # TRANSPORT_MISMATCH: the sid of a WebSocket-only session used with transport=polling.
    ws, info = ws_open(engine_server)
    try:
        assert_error(poll(engine_server, info["sid"]), 400, 3, "Bad request")
        assert_error(post(engine_server, info["sid"], "4hello"), 400, 3, "Bad request")
    finally:
        ws.close()
    check_healthy(healthy)


# ------------------------------------------------------------ unsupported protocol version
@pytest.mark.parametrize("query", [
    "?EIO=3&transport=polling",  # Engine.IO v3 client (allowEIO3 is off)
    "?EIO=5&transport=polling",
    "?EIO=abc&transport=polling",  # Node: anything but "4" is protocol 3 -> unsupported
    "?transport=polling",  # missing EIO: the same in Node
])
def test_unsupported_protocol_version(engine_server, healthy, query):
    assert_error(raw_get(engine_server, query), 400, 5, "Unsupported protocol version")
    check_healthy(healthy)


@pytest.mark.parametrize("query", ["?EIO=3&transport=websocket", "?transport=websocket",
                                   "?EIO=abc&transport=websocket"])
def test_unsupported_protocol_version_websocket(engine_server, healthy, query):
    assert_ws_refused(engine_server, query, 5, "Unsupported protocol version")
    check_healthy(healthy)


# ------------------------------------------------------------------ concurrent requests
def test_second_concurrent_poll_closes_session(engine_server, healthy):
    # Two GETs at once, without a sleep to order them: whichever the server takes second is refused.
    sid, _ = open_polling(engine_server)
    import concurrent.futures as cf
    with cf.ThreadPoolExecutor(2) as pool:
        gets = [pool.submit(poll, engine_server, sid, requests.Session(), 10) for _ in range(2)]
        answers = sorted((r.result() for r in gets), key=lambda r: r.status_code)
    # The spec: "the server MUST return an HTTP 400 error status and close the session"; the GET that
    # was waiting gets the close packet.
    held, refused = answers
    assert refused.status_code == 400, f"second GET: HTTP {refused.status_code} {refused.text!r}"
    assert held.status_code == 200, f"first GET: HTTP {held.status_code} {held.text!r}"
    assert [t for t, _ in decode_payload(held.text)] == ["1"], (
        f"first GET should end with a close packet, got {held.text!r}")
    assert_error(poll(engine_server, sid), 400, 1)
    check_healthy(healthy)


def test_second_concurrent_post_closes_session(engine_server, healthy):
    sid, _ = open_polling(engine_server)
    # A first POST whose body is still arriving (raw socket: half of its bytes sent) ...
    body = encode_payload(["first"]).encode()
    slow = socket.create_connection(("127.0.0.1", engine_server.port), timeout=5)
    try:
        slow.sendall((f"POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
                      f"Host: 127.0.0.1:{engine_server.port}\r\nContent-Type: text/plain\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n").encode() + body[:3])
        time.sleep(0.1)
        # ... and a second POST meanwhile: 400 and the session is closed.
        second = post(engine_server, sid, encode_payload(["second"]))
        assert second.status_code == 400, f"second POST: HTTP {second.status_code} {second.text!r}"
        try:
            slow.sendall(body[3:])
        except OSError:
            pass
    finally:
        slow.close()
    assert_session_closed(engine_server, sid)
    check_healthy(healthy)


# -------------------------------------------------------------------------- payload limits
def test_polling_post_over_max_http_buffer_size(engine_server, healthy):
    sid, _ = open_polling(engine_server)
    body = "4" + "x" * MAX_PAYLOAD  # 1 000 001 bytes
    try:
        r = post(engine_server, sid, body)
        status = r.status_code
    except requests.exceptions.ConnectionError as e:
        raise AssertionError(f"POST over maxHttpBufferSize: connection dropped instead of "
                             f"HTTP 413 ({e!r})") from None
    assert status == 413, f"POST of {len(body)} bytes: HTTP {status} {r.text!r} (expected 413)"
    assert_session_closed(engine_server, sid)
    check_healthy(healthy)


def test_polling_post_at_max_http_buffer_size_is_accepted(engine_server, healthy):
    sid, _ = open_polling(engine_server)
    body = "4" + "y" * (MAX_PAYLOAD - 1)  # exactly 1 000 000 bytes
    r = post(engine_server, sid, body, timeout=10)
    assert r.status_code == 200 and r.text == "ok", f"HTTP {r.status_code} {r.text[:80]!r}"
    r = poll(engine_server, sid, timeout=10)
    assert r.status_code == 200 and r.text == body, (
        f"echo of a 1 MB message: HTTP {r.status_code}, {len(r.text)} chars")
    check_healthy(healthy)


def test_websocket_message_over_max_payload_closes(engine_server, healthy):
    ws, _ = ws_open(engine_server)
    try:
        ws.send("4" + "z" * MAX_PAYLOAD)  # 1 000 001-byte frame
        assert ws_close_code(ws, 10) == 1009, "closed as 'message too big' (RFC 6455 7.4.1)"
    finally:
        ws.close()
    check_healthy(healthy)


# ------------------------------------------------------------------------ malformed packets
@pytest.mark.parametrize("body", ["abc", "9hello", "4ok\x1e\x1e4ok", "b!!!not-base64!!!", ""])
def test_malformed_polling_payload_closes_session(engine_server, healthy, body):
    sid, _ = open_polling(engine_server)
    try:
        r = post(engine_server, sid, body)
        assert r.status_code == 400, f"POST {body!r}: HTTP {r.status_code} {r.text!r}"
    except requests.exceptions.ConnectionError:
        pass  # an aborted request is accepted too (the suite allows it)
    assert_session_closed(engine_server, sid)
    check_healthy(healthy)


@pytest.mark.parametrize("frame", ["abc", "9hello", ""])
def test_malformed_websocket_packet_closes(engine_server, healthy, frame):
    ws, _ = ws_open(engine_server)
    try:
        ws.send(frame)
        assert ws_close_code(ws, 10) == 1000, "a proper close (normal closure), not a dropped connection"
    finally:
        ws.close()
    check_healthy(healthy)


# ------------------------------------------------------------------------------- missed pong
def test_missed_pong_polling(engine_server, healthy):
    # Order and outcome: the first GET is answered by a ping, never before pingInterval (measured
    # from before the handshake); the ping is never answered, so the session ends: the next GET is
    # answered with a close packet (or 400 if the session was already gone), and then it is unknown.
    t0 = time.monotonic()
    sid, _ = open_polling(engine_server)
    r = poll(engine_server, sid, timeout=10)
    elapsed = time.monotonic() - t0
    assert r.status_code == 200 and r.text == "2", f"HTTP {r.status_code} {r.text!r}"
    assert elapsed >= PING_INTERVAL / 1000 - PING_LOOKAHEAD, f"first ping after {elapsed:.3f}s, before pingInterval"
    r = poll(engine_server, sid, timeout=10)
    if r.status_code == 200:  # held until pingTimeout closed the session
        assert r.text == "1", f"the held GET got {r.text!r}, not the close packet"
        r = poll(engine_server, sid, timeout=10)
    assert_error(r, 400, 1, "Session ID unknown")
    check_healthy(healthy)


def test_missed_pong_websocket(engine_server, healthy):
    # Order and outcome, with lower bounds only (measured from before the handshake, so a loaded
    # machine cannot break them): a ping not before pingInterval, then, unanswered, a close not
    # before pingInterval + pingTimeout.
    t0 = time.monotonic()
    ws, _ = ws_open(engine_server)
    try:
        assert ws_recv(ws) == "2"
        ping_at = time.monotonic() - t0
        assert ping_at >= PING_INTERVAL / 1000 - PING_LOOKAHEAD, f"first ping after {ping_at:.3f}s, before pingInterval"
        assert ws_close_code(ws, 10) == 1000, "a proper close (normal closure), not a dropped connection"
        closed_at = time.monotonic() - t0
        assert closed_at >= (PING_INTERVAL + PING_TIMEOUT) / 1000 - PING_LOOKAHEAD, (
            f"closed {closed_at:.3f}s after the handshake, before pingInterval + pingTimeout")
    finally:
        ws.close()
    check_healthy(healthy)


def test_answering_pings_keeps_session_alive(engine_server):
    s = HealthyWebSocket(engine_server)
    p = HealthyPolling(engine_server)
    try:
        time.sleep(4 * (PING_INTERVAL + PING_TIMEOUT) / 1000)
        s.check()
        p.check()
    finally:
        s.close()
        p.close()


# ------------------------------------------------------------------------------------ CORS
def test_cors_headers(engine_server):
    origin = {"Origin": "http://example.test"}
    r = requests.get(eio_url(engine_server), headers=origin, timeout=5)
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") == "*", dict(r.headers)
    sid = r.text[1:].split('"sid":"')[1].split('"')[0]
    r = requests.post(eio_url(engine_server, sid=sid), data="4cors", headers=origin, timeout=5)
    assert r.status_code == 200 and r.text == "ok"
    assert r.headers.get("Access-Control-Allow-Origin") == "*", dict(r.headers)
    r = requests.get(eio_url(engine_server, sid=sid), headers=origin, timeout=5)
    assert r.text == "4cors"
    assert r.headers.get("Access-Control-Allow-Origin") == "*", dict(r.headers)
    # errors carry the CORS headers too (so a browser can read the JSON error)
    r = requests.get(engine_server.url + "?EIO=4&transport=abc", headers=origin, timeout=5)
    assert r.status_code == 400
    assert r.headers.get("Access-Control-Allow-Origin") == "*", dict(r.headers)


def test_cors_preflight(engine_server):
    r = requests.options(eio_url(engine_server), timeout=5, headers={
        "Origin": "http://example.test", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code in (200, 204), f"preflight: HTTP {r.status_code} {r.text!r}"
    assert r.headers.get("Access-Control-Allow-Origin") == "*", dict(r.headers)
    methods = {m.strip().upper() for m in r.headers.get("Access-Control-Allow-Methods", "").split(",")}
    assert {"GET", "POST"} <= methods, dict(r.headers)
    allowed = r.headers.get("Access-Control-Allow-Headers", "").lower()
    assert "content-type" in allowed, dict(r.headers)
