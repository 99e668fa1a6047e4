"""Malformed and out-of-order Socket.IO packets, sent by hand over a raw Engine.IO session. Node.js
(socket.io 4.8 / socket.io-parser 4.2) closes the whole Engine.IO connection on any decoding error and
on any packet that does not fit the connection's state (client.ts `ondecoded`: an event for a
namespace not joined, a CONNECT_ERROR from the client; a second CONNECT, which Node.js also refuses,
is ignored here). Each bad client must be closed cleanly, and exactly so: the Engine.IO close packet
"1", then a WebSocket close frame with status 1000 (a reset or a silent drop fails), never the server,
and never another client: two healthy python-socketio clients (WebSocket and polling), connected for
the whole module, must keep working after every case."""
from __future__ import annotations

import json
import time

import pytest
import requests
import socketio

from sio_support import (CONNECT_TIMEOUT, PING_INTERVAL, PING_TIMEOUT, WAIT, RawSocket,  # noqa: F401
                         _sio_server_process, sio_server)

pytestmark = pytest.mark.timeout(20)

PH = '{"_placeholder":true,"num":%d}'


class _CustomConnectAnswer:
    """Equal to the server's answer to a CONNECT to /custom, whatever the socket id."""

    def __eq__(self, other):
        return isinstance(other, str) and other.startswith('40/custom,{"sid":"') and other.endswith('"}')

    def __repr__(self):
        return '\'40/custom,{"sid":...}\''


CUSTOM_SID = _CustomConnectAnswer()

# (id, frames sent after the main namespace is joined)
CLOSING_CASES = [
    ("bad-json", ['42["a",']),
    ("bad-json-object", ['42{"a":1']),
    ("unknown-type-8", ["48"]),
    ("unknown-type-8-with-payload", ['48["a"]']),
    ("unknown-type-letter", ["4abc"]),
    ("empty-socketio-packet", ["4"]),
    ("event-payload-not-array", ['42{"a":1}']),
    ("event-empty-array", ["42[]"]),
    ("event-name-null", ["42[null]"]),
    ("event-name-object", ["42[{}]"]),
    ("reserved-event-connect", ['42["connect"]']),
    ("reserved-event-disconnecting", ['42["disconnecting"]']),
    ("reserved-event-newListener", ['42["newListener"]']),
    ("trailing-garbage", ['42["message"]x']),
    ("ack-id-not-a-number", ['42abc["message-with-ack",1]']),
    ("negative-attachment-count", ['45-1-["a"]']),
    ("disconnect-with-payload", ['41["x"]']),
    ("attachment-count-mismatch-index", ['451-["a",%s]' % (PH % 1), b"\x01"]),
    ("absurd-attachment-count", ['4599999999-["a",%s]' % (PH % 0)]),
    ("attachment-count-overflow", ['45999999999999999999999-["a"]']),
    ("text-while-awaiting-attachments", ['452-["message",%s,%s]' % (PH % 0, PH % 1), b"\x01", '42["message",1]']),
    ("binary-without-binary-packet", [b"\x01\x02\x03"]),
    ("event-for-namespace-never-joined", ['42/other,["x"]']),
    ("event-for-known-namespace-not-joined", ['42/custom,["x"]']),
    ("event-for-dynamic-namespace-not-joined", ['42/dyn-abc,["x"]']),
    ("event-without-comma-namespace", ['42/custom["x"]']),
    ("ack-for-namespace-never-joined", ["43/x,1[1]"]),
    ("connect-malformed-auth", ['40/custom,{"a":']),
    ("connect-auth-not-object", ["40/custom,[1]"]),
    ("connect-auth-string", ['40/custom,"s"']),
    ("connect-error-from-client", ['44{"message":"x"}']),
    ("event-after-namespace-left", ["40/custom,", "41/custom,", '42/custom,["x"]']),
]


@pytest.fixture(scope="module")
def healthy(_sio_server_process):
    """Two well-behaved clients connected for the whole module."""
    server = _sio_server_process
    clients = []
    for transport in (["websocket"], ["polling"]):
        client = socketio.Client(reconnection=False)
        client.disconnects = []
        client.on("disconnect", lambda *reason, c=client: c.disconnects.append(reason))
        client.connect(server.base, transports=transport, wait_timeout=WAIT)
        clients.append(client)
    yield clients
    for client in clients:
        client.disconnect()


def check_healthy(clients, note: str) -> None:
    for client in clients:
        token = {"after": note, "t": time.monotonic()}
        assert client.connected and not client.disconnects, (
            f"healthy {client.transport()} client was disconnected after {note}: {client.disconnects}")
        assert client.call("echo", token, timeout=WAIT) == token, f"healthy client after {note}"


def joined_raw(server) -> RawSocket:
    raw = RawSocket(server)
    raw.connect()
    assert raw.recv() == '42["auth",{}]'
    return raw


def assert_closed_cleanly(raw: RawSocket, case: str, answers=()) -> None:
    """The server's exact answer to a bad packet: `answers` (what the packets before it called for),
    the Engine.IO close packet, then a WebSocket close frame with status 1000 (normal closure)."""
    closed = raw.wait_closed(10)
    rest = raw.drain(0.01)
    assert closed, f"{case}: the connection is still open; it received {rest!r}"
    assert raw.close_reason == "close frame", f"{case}: no WebSocket close frame ({raw.close_reason})"
    assert raw.close_code == 1000, f"{case}: close status {raw.close_code}, not 1000"
    # /custom's connection handler emits `auth` from a task: it may or may not have run before the
    # packet that left the namespace (both are right), so it is accepted right after the CONNECT answer
    if CUSTOM_SID in answers and '42/custom,["auth",{}]' in rest:
        rest = [frame for frame in rest if frame != '42/custom,["auth",{}]']
    assert rest == [*answers, "1"], f"{case}: received {rest!r} before the close"


@pytest.mark.parametrize("frames", [c[1] for c in CLOSING_CASES], ids=[c[0] for c in CLOSING_CASES])
def test_bad_packet_closes_that_client_only(sio_server, healthy, frames):
    raw = joined_raw(sio_server)
    bystander = joined_raw(sio_server)  # a raw client on the same server, never misbehaving
    try:
        for frame in frames:
            raw.send(frame)
        # a CONNECT to /custom among them is answered first
        answers = [CUSTOM_SID] if "40/custom," in frames[:-1] else []
        assert_closed_cleanly(raw, repr(frames), answers)
        bystander.send('42["message","still here"]')
        assert bystander.recv() == '42["message-back","still here"]'
        check_healthy(healthy, repr(frames))
    finally:
        raw.close()
        bystander.close()


@pytest.mark.parametrize("frames", [['42["message",1]'], ['42/custom,["x"]'], ["43/x,1[1]"], ["41"]],
                         ids=["event", "custom-event", "ack", "disconnect"])
def test_packet_before_connect_closes_the_session(sio_server, healthy, frames):
    raw = RawSocket(sio_server)
    try:
        for frame in frames:
            raw.send(frame)
        assert_closed_cleanly(raw, repr(frames))
        check_healthy(healthy, repr(frames))
    finally:
        raw.close()


# Packets that are valid and must NOT close the connection (Node.js behaviour).
def test_ack_with_unknown_id_is_ignored(sio_server, healthy):
    raw = joined_raw(sio_server)
    try:
        raw.send('4399["x"]')
        raw.send('42["message","after"]')
        assert raw.recv() == '42["message-back","after"]'
    finally:
        raw.close()
    check_healthy(healthy, "unknown ack id")


def test_second_connect_for_a_joined_namespace_is_ignored(sio_server, healthy):
    """Unlike Node.js (which closes), a second CONNECT for a namespace the client has joined is ignored
    (see test_double_connect.py): no answer, no close, the socket goes on."""
    raw = joined_raw(sio_server)
    try:
        raw.send("40")
        raw.send('42["message","after"]')
        assert raw.recv() == '42["message-back","after"]', "the first thing back is the event's answer"
        assert not raw.closed.is_set(), raw.close_reason
    finally:
        raw.close()
    check_healthy(healthy, "second CONNECT")


def test_numeric_event_name_is_accepted(sio_server, healthy):
    raw = joined_raw(sio_server)
    try:
        raw.send("42[1]")
        raw.send('42["message","after"]')
        assert raw.recv() == '42["message-back","after"]'
    finally:
        raw.close()


def test_huge_ack_id_is_refused(sio_server, healthy):
    """Node.js takes any digit run as the id (Number("12345678901234567890"), which loses digits); this
    server refuses ids beyond its bound (a 64-bit integer) like any other malformed packet: closed."""
    raw = joined_raw(sio_server)
    try:
        raw.send('4212345678901234567890["message-with-ack",1]')
        raw.send('42["message","after"]')
        assert_closed_cleanly(raw, "huge ack id")
    finally:
        raw.close()
    check_healthy(healthy, "huge ack id")


def test_whitespace_before_the_payload_is_accepted(sio_server):
    raw = joined_raw(sio_server)
    try:
        raw.send('42 ["message","spaced"]')  # JSON.parse accepts leading whitespace
        assert raw.recv() == '42["message-back","spaced"]'
    finally:
        raw.close()


def test_main_namespace_disconnect_keeps_the_engine_session(sio_server):
    raw = joined_raw(sio_server)
    try:
        raw.send("41")
        raw.send("40/custom,")
        assert raw.recv().startswith('40/custom,{"sid":')
        assert raw.recv() == '42/custom,["auth",{}]'
        raw.send('42["message","to the left namespace"]')  # the main namespace was left: close
        assert_closed_cleanly(raw, "event after leaving the main namespace")
    finally:
        raw.close()


def test_invalid_namespace_is_a_connect_error_not_a_close(sio_server):
    raw = joined_raw(sio_server)
    try:
        raw.send("40/nonexistent,")
        assert raw.recv() == '44/nonexistent,{"message":"Invalid namespace"}'
        raw.send("40/dyn-UPPER,")
        assert raw.recv() == '44/dyn-UPPER,{"message":"Invalid namespace"}'
        raw.send('40/admin,{"token":"no"}')
        assert json.loads(raw.recv()[len("44/admin,"):]) == {"message": "unauthorized",
                                                             "data": {"reason": "bad token"}}
        raw.send('42["message","main still joined"]')
        assert raw.recv() == '42["message-back","main still joined"]'
    finally:
        raw.close()


def test_binary_attachments_reassembled_with_an_ack_in_another_namespace(sio_server):
    raw = joined_raw(sio_server)
    try:
        raw.send('451-/custom,["x",%s]' % (PH % 0))  # /custom never joined: close, after the binary
        raw.send(b"\x00")
        assert_closed_cleanly(raw, "binary event for an unjoined namespace")
    finally:
        raw.close()


def test_bad_packet_over_polling_closes_the_session(sio_server, healthy):
    http = requests.Session()
    url = sio_server.url + "?EIO=4&transport=polling"
    sid = json.loads(http.get(url, timeout=WAIT).text[1:])["sid"]
    session = f"{url}&sid={sid}"
    assert http.post(session, data="40", timeout=WAIT).status_code == 200
    answers = []
    while '42["auth",{}]' not in answers:  # the CONNECT answer, then the fixture's auth event
        answers += http.get(session, timeout=WAIT).text.split("\x1e")
    assert answers[0].startswith('40{"sid":"') and answers[1:] == ['42["auth",{}]'], answers
    # the POST itself was read: "ok"; the session is closed: the next GET gets the close packet, then
    # the session is unknown
    r = http.post(session, data='42["a",', timeout=WAIT)
    assert (r.status_code, r.text) == (200, "ok"), f"POST of a bad Socket.IO packet: HTTP {r.status_code} {r.text!r}"
    poll = http.get(session, timeout=WAIT)
    assert (poll.status_code, poll.text) == (200, "1"), f"GET after the bad packet: HTTP {poll.status_code} {poll.text!r}"
    poll = http.get(session, timeout=WAIT)
    assert poll.status_code == 400 and poll.json() == {"code": 1, "message": "Session ID unknown"}, poll.text
    check_healthy(healthy, "bad packet over polling")


def test_connect_timeout_closes_a_session_that_never_connects(sio_server):
    started = time.monotonic()
    raw = RawSocket(sio_server, answer_pings=True)  # alive at the Engine.IO level, never sends CONNECT
    try:
        assert_closed_cleanly(raw, "connectTimeout")
        elapsed = time.monotonic() - started
        assert elapsed >= CONNECT_TIMEOUT / 1000, f"closed after {elapsed:.3f}s, before connectTimeout"
    finally:
        raw.close()


def test_connect_timeout_spares_a_session_that_connected(sio_server):
    raw = joined_raw(sio_server)
    # a session opened after it and never connected: once connectTimeout has closed that one, the
    # connected session's own deadline has passed too
    witness = RawSocket(sio_server, answer_pings=True)
    try:
        assert_closed_cleanly(witness, "connectTimeout of the witness")
        assert not raw.closed.is_set(), raw.close_reason
        raw.send('42["message","late"]')
        assert raw.recv() == '42["message-back","late"]'
    finally:
        witness.close()
        raw.close()


def test_healthy_clients_survived_the_whole_module(healthy):
    check_healthy(healthy, "every case of this module")
