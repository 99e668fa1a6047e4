"""Connection state recovery on the wire, checked packet by packet with a raw client, for the three ways of
connecting (long-polling, WebSocket, polling upgraded to WebSocket).

The format is the Node.js server's (socket.io 4.6+, lib/socket.ts and socket.io-adapter's
SessionAwareAdapter): the CONNECT answer carries `pid`; every EVENT that reaches a socket without an ack id
and not volatile carries its offset as its last argument; a CONNECT with `{pid, offset}` after a lost
connection gets the same sid and pid back, then every missed packet in order (our server sends them after
the CONNECT answer; Node.js writes them just before it, and the official client buffers them until it is
connected, so either order reaches the application the same way)."""
import json
import time

import pytest

from fixture_server import start, stop
from sio_raw import TRANSPORTS, RawSocketIO


def wait_gone(observer: RawSocketIO, sid: str, ack_id: int = 90):
    """Waits until the server no longer lists `sid` (it has handled the lost connection)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        [ids] = observer.call("fetch-sockets", ack_id=ack_id)
        if sid not in ids:
            return
        time.sleep(0.05)
    raise AssertionError(f"socket {sid} still listed after its connection was cut")


def connected(port: int, transport: str = "websocket", auth: dict | None = None) -> tuple[RawSocketIO, dict]:
    """A connected client past the fixture's welcome event; returns it and the CONNECT answer."""
    client = RawSocketIO(port, transport)
    answer = client.connect(auth)
    assert client.next_event()[0] == "auth"
    return client, answer


def with_offset(port: int, transport: str = "websocket") -> tuple[RawSocketIO, dict, str]:
    """A connected client that has received one event: it, the CONNECT answer and that event's offset."""
    client, answer = connected(port, transport)
    client.send('2["message","m"]')
    return client, answer, offset_of(client.next_event())


def offset_of(event: list) -> str:
    offset = event[-1]
    assert isinstance(offset, str) and offset, f"no offset as the last argument of {event!r}"
    return offset


@pytest.fixture(scope="module")
def server():
    proc, port = start("--connection-state-recovery", "60000", ping=("25000", "20000"))
    yield port
    log = stop(proc)
    assert "Fatal error" not in log


def test_connect_answer_carries_pid_and_events_carry_offsets(server):
    client = RawSocketIO(server, "websocket")
    answer = client.connect()
    assert set(answer) == {"sid", "pid"} and all(isinstance(v, str) and v for v in answer.values())
    assert answer["pid"] != answer["sid"] and answer["pid"] != client.sid
    assert client.next_event()[0] == "auth"  # the fixture's welcome (socket.emit): it has an offset too
    client.send('2["message","hello",1]')
    back = client.next_event()
    assert back[:3] == ["message-back", "hello", 1] and len(back) == 4
    first = offset_of(back)
    # a broadcast to everyone, and one to a room, carry offsets too, each a new one
    assert client.call("join", "r", ack_id=1) == []
    assert client.call("emit-all", "to-all", 2, ack_id=2) == []
    assert client.call("emit-to", "r", "to-room", 3, ack_id=3) == []
    events = [json.loads(p[1:]) for p in client.early if p.startswith("2")]
    client.early.clear()
    assert [e[:2] for e in events] == [["to-all", 2], ["to-room", 3]]
    offsets = [first] + [offset_of(e) for e in events]
    assert len(set(offsets)) == 3
    # an acknowledgement carries no offset, nor does a volatile packet or an event that asks for an ack
    assert client.call("echo", "x", ack_id=4) == ["x"]
    assert client.call("emit-volatile", "vol", 5, ack_id=5) == []
    volatile = [json.loads(p[1:]) for p in client.early if p.startswith("2")]
    client.early.clear()
    assert volatile == [["vol", 5]]
    client.send('26["server-ack","ask",2000]')
    asked = client.next_packet()
    assert asked.startswith("2") and json.loads(asked[asked.index("["):]) == ["ask"], asked
    client.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_lost_connection_is_recovered_with_rooms_data_and_missed_packets(server, transport):
    other, _ = connected(server)
    client, first = connected(server, transport, {"user": "a"})
    sid, pid = first["sid"], first["pid"]
    assert client.call("join", "r1", ack_id=1) == []
    assert client.call("set-data", {"x": 1}, ack_id=2) == []
    client.send('2["message","before"]')
    offset = offset_of(client.next_event())

    client.cut()
    wait_gone(other, sid)
    # sent while the client is away: to everyone, to its room, to another room, volatile, to it alone
    assert other.call("emit-all", "news", 1, ack_id=3) == []
    assert other.call("emit-to", "r1", "room-news", 2, ack_id=4) == []
    assert other.call("emit-to", "elsewhere", "not-for-you", 3, ack_id=5) == []
    assert other.call("emit-volatile", "volatile-news", 4, ack_id=6) == []
    assert other.call("emit-to", sid, "direct", 5, ack_id=7) == []
    assert other.call("emit-all", "news", 6, ack_id=8) == []

    again = RawSocketIO(server, transport)
    answer = again.connect({"user": "a", "pid": pid, "offset": offset})
    assert answer == {"sid": sid, "pid": pid}, "same socket id and private id"
    missed = [again.next_event() for _ in range(4)]
    assert [m[:-1] for m in missed] == [["news", 1], ["room-news", 2], ["direct", 5], ["news", 6]]
    offsets = [offset_of(m) for m in missed]
    assert len(set(offsets)) == 4 and offset not in offsets
    # the recovered socket: the fixture's connection handler ran again (its emit comes next), then the
    # socket answers with what the server sees
    assert again.next_event()[:2] == ["auth", {"user": "a", "pid": pid, "offset": offset}]
    assert again.call("recovered", ack_id=1) == [True]
    assert again.call("my-rooms", ack_id=2) == [sorted([sid, "r1"])]
    assert again.call("get-data", ack_id=3) == [{"x": 1}]
    assert again.early == [], f"nothing else was missed: {again.early!r}"
    # the other client sees the same socket id again, once
    [ids] = other.call("fetch-sockets", ack_id=9)
    assert ids.count(sid) == 1
    again.close()
    other.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_client_disconnect_is_not_recovered(server, transport):
    client, first, offset = with_offset(server, transport)
    client.send("1")  # DISCONNECT: the client's own choice
    observer, _ = connected(server)
    wait_gone(observer, first["sid"])
    client.close()
    again = RawSocketIO(server, transport)
    answer = again.connect({"pid": first["pid"], "offset": offset})
    assert answer["sid"] != first["sid"] and answer["pid"] != first["pid"]
    again.next_event()
    assert again.call("recovered", ack_id=1) == [False]
    again.close()
    observer.close()


def test_a_session_is_recovered_once_only(server):
    client, first, offset = with_offset(server)
    client.cut()
    observer, _ = connected(server)
    wait_gone(observer, first["sid"])
    again = RawSocketIO(server, "websocket")
    assert again.connect({"pid": first["pid"], "offset": offset})["sid"] == first["sid"]
    third = RawSocketIO(server, "websocket")
    assert third.connect({"pid": first["pid"], "offset": offset})["sid"] != first["sid"]
    for c in (again, third, observer):
        c.close()


def test_past_the_window_a_client_is_not_recovered():
    proc, port = start("--connection-state-recovery", "600")
    try:
        client, first, offset = with_offset(port)
        client.cut()
        time.sleep(1.5)  # longer than maxDisconnectionDuration (600 ms)
        again = RawSocketIO(port, "websocket")
        answer = again.connect({"pid": first["pid"], "offset": offset})
        assert answer["sid"] != first["sid"]
        again.next_event()
        assert again.call("recovered", ack_id=1) == [False]
        again.close()
    finally:
        stop(proc)


def test_the_kept_packets_are_bounded_in_bytes():
    """With a 64 KiB bound, a client that missed 40 KiB is recovered; one that missed 160 KiB (its offset
    evicted) connects as a new socket rather than with a gap."""
    proc, port = start("--connection-state-recovery", "60000", "--recovery-max-bytes", "65536")
    try:
        observer, _ = connected(port)
        outcomes = []
        for missed_kib in (40, 160):
            client, first, offset = with_offset(port)
            client.cut()
            wait_gone(observer, first["sid"])
            for i in range(missed_kib // 4):
                assert observer.call("emit-to", first["sid"], "chunk", i, "z" * 4096, ack_id=10 + i) == []
            again = RawSocketIO(port, "websocket")
            answer = again.connect({"pid": first["pid"], "offset": offset})
            recovered = answer["sid"] == first["sid"]
            if recovered:
                chunks = [again.next_event() for _ in range(missed_kib // 4)]
                assert [c[1] for c in chunks] == list(range(missed_kib // 4))
            outcomes.append(recovered)
            again.close()
        assert outcomes == [True, False]
        observer.close()
    finally:
        stop(proc)


def test_recovery_off_sends_no_pid_and_no_offsets():
    proc, port = start()
    try:
        client = RawSocketIO(port, "websocket")
        assert set(client.connect()) == {"sid"}
        assert client.next_event() == ["auth", {}]
        client.send('2["message","m"]')
        assert client.next_event() == ["message-back", "m"]
        client.close()
    finally:
        stop(proc)
