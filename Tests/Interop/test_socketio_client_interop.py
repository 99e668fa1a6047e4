"""The real python-socketio client (socketio.Client and socketio.AsyncClient) against the Socket.IO
fixture, one test per feature, over WebSocket, HTTP long-polling and polling upgraded to WebSocket.
Every test asserts what the client observes. One server per module; tests use their own rooms."""
from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
import socketio

from sio_support import (TRANSPORTS, WAIT, Recorder, _sio_server_process_across_mounts, fence, run_async,  # noqa: F401
                         sio_clients, sio_server, wait_until)

pytestmark = pytest.mark.timeout(30)
ALL = pytest.mark.parametrize("transport", list(TRANSPORTS))


def room() -> str:
    return "room-" + uuid.uuid4().hex[:10]


# Every JSON kind: unicode (2-, 3-, 4-byte UTF-8, emoji, U+2028, escapes), nested containers, the
# largest exact integers, negatives, floats, null, booleans, empty containers.
JSON_ARGS = (
    "héllo wörld ✓ 中文 😀🚀 𝄞 \u2028 \"quoted\" back\\slash\ttab\nnewline \x01",
    {"nested": {"list": [1, [2, [3, {"deep": None}]], {"k": "v"}], "empty": {}}, "ünï": "😀"},
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    -42,
    0,
    3.141592653589793,
    -0.5,
    1.5e-7,
    1.7976931348623157e308,
    None,
    True,
    False,
    [],
    {},
    "",
    [None, True, False, 1, -1.25, "s", [], {}],
)


def assert_json_equal(got, want):
    """Equality that also checks the JSON kind (python-socketio decodes with json.loads)."""
    assert got == want, f"got {got!r}, want {want!r}"
    assert type(got) is type(want) or (isinstance(want, float) and isinstance(got, (int, float))), (
        f"kind changed: sent {type(want).__name__} {want!r}, got {type(got).__name__} {got!r}")
    if isinstance(want, dict):
        for k in want:
            assert_json_equal(got[k], want[k])
    elif isinstance(want, list):
        for a, b in zip(got, want):
            assert_json_equal(a, b)


# ==================================================================== connection, namespaces
@ALL
def test_main_and_custom_namespaces_over_one_engine_connection(sio_clients, transport):
    auth = {"token": "abc", "n": 1}
    client = sio_clients(transport, namespaces=["/", "/custom"], auth=auth)
    assert set(client.namespaces) == {"/", "/custom"}
    main_sid, custom_sid = client.get_sid("/"), client.get_sid("/custom")
    assert main_sid and custom_sid and main_sid != custom_sid, "socket ids are per namespace"
    engine_sid = client.eio.sid
    assert engine_sid and engine_sid not in (main_sid, custom_sid), "socket ids are not the engine sid"
    assert client.recorder.wait("auth", "/")[0] == (auth,)
    assert client.recorder.wait("auth", "/custom")[0] == (auth,)
    if transport == "upgrade":
        wait_until(lambda: client.transport() == "websocket", message="never upgraded")
    assert client.call("echo", "after connect", timeout=WAIT) == "after connect"
    assert client.eio.sid == engine_sid, "one Engine.IO session carries both namespaces"
    assert main_sid in client.call("fetch-sockets", timeout=WAIT)


@ALL
def test_auth_is_echoed_and_defaults_to_empty_object(sio_clients, transport):
    client = sio_clients(transport)
    assert client.recorder.wait("auth")[0] == ({},)


@ALL
def test_admin_accepts_the_right_token(sio_clients, transport):
    client = sio_clients(transport, namespaces=["/admin"], auth={"token": "secret"})
    assert client.recorder.wait("welcome", "/admin")[0] == ({"ns": "/admin"},)
    assert "/admin" in client.namespaces


@ALL
def test_admin_rejects_a_bad_token_with_message_and_data(sio_clients, transport):
    seen = []

    def setup(client):
        client.on("connect_error", lambda *data: seen.append(data), namespace="/admin")
    with pytest.raises(socketio.exceptions.ConnectionError) as failure:
        sio_clients(transport, namespaces=["/admin"], auth={"token": "wrong"}, setup=setup)
    assert "/admin" in str(failure.value)
    # the CONNECT_ERROR's message and its data, as the server's middleware threw them
    assert seen == [({"message": "unauthorized", "data": {"reason": "bad token"}},)]


def test_admin_rejection_reaches_connect_error_handler(sio_server):
    client = socketio.Client(reconnection=False)
    seen = []
    client.on("connect_error", lambda data: seen.append(data), namespace="/admin")
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(sio_server.base, namespaces=["/admin"], auth={"token": "nope"},
                       transports=["websocket"], wait_timeout=WAIT)
    client.disconnect()
    assert seen == [{"message": "unauthorized", "data": {"reason": "bad token"}}]


def test_admin_rejection_leaves_the_main_namespace_connected(sio_server):
    client = socketio.Client(reconnection=False)
    errors = []
    client.on("connect_error", lambda data: errors.append(data), namespace="/admin")
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(sio_server.base, namespaces=["/", "/admin"], auth={"token": "bad"},
                           transports=["websocket"], wait_timeout=WAIT)
        assert errors == [{"message": "unauthorized", "data": {"reason": "bad token"}}]
        assert "/" in client.namespaces, "only /admin was refused"
    finally:
        client.disconnect()


def test_async_client_auth_and_rejection(sio_server):
    async def main():
        ok = socketio.AsyncClient(reconnection=False)
        got = asyncio.get_running_loop().create_future()
        ok.on("auth", lambda auth: got.done() or got.set_result(auth))
        await ok.connect(sio_server.base, auth={"token": "xyz"}, transports=["websocket"], wait_timeout=WAIT)
        assert await asyncio.wait_for(got, WAIT) == {"token": "xyz"}
        assert await ok.call("echo", {"a": [1, 2]}, timeout=WAIT) == {"a": [1, 2]}
        await ok.disconnect()

        refused = socketio.AsyncClient(reconnection=False)
        seen = []
        refused.on("connect_error", lambda data: seen.append(data), namespace="/admin")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await refused.connect(sio_server.base, namespaces=["/admin"], auth={},
                                  transports=["polling"], wait_timeout=WAIT)
        await refused.disconnect()
        assert seen == [{"message": "unauthorized", "data": {"reason": "bad token"}}]
    run_async(main())


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_dynamic_namespace_is_created_on_demand(sio_clients, transport):
    ns = "/dyn-" + uuid.uuid4().hex[:8]
    client = sio_clients(transport, namespaces=[ns, "/dyn-abc123"])
    assert client.recorder.wait("dyn", ns)[0] == (ns,)
    assert client.recorder.wait("dyn", "/dyn-abc123")[0] == ("/dyn-abc123",)


@pytest.mark.parametrize("ns", ["/nonexistent", "/dyn-UPPER", "/dyn-"])
def test_unknown_namespace_gets_invalid_namespace(sio_server, ns):
    client = socketio.Client(reconnection=False)
    seen = []
    client.on("connect_error", lambda data: seen.append(data), namespace=ns)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(sio_server.base, namespaces=[ns], transports=["websocket"], wait_timeout=WAIT)
    client.disconnect()
    assert seen == [{"message": "Invalid namespace"}]


# =========================================================================== events, acks
@ALL
def test_every_json_kind_round_trips_as_event_and_ack(sio_clients, transport):
    client = sio_clients(transport)
    client.emit("message", JSON_ARGS)
    (back,) = client.recorder.wait("message-back")
    assert len(back) == len(JSON_ARGS)
    for got, want in zip(back, JSON_ARGS):
        assert_json_equal(got, want)
    answer = client.call("echo", JSON_ARGS, timeout=WAIT)
    assert len(answer) == len(JSON_ARGS)
    for got, want in zip(answer, JSON_ARGS):
        assert_json_equal(got, want)
    answer = client.call("message-with-ack", JSON_ARGS, timeout=WAIT)
    assert list(answer) == list(JSON_ARGS)


@ALL
def test_event_without_arguments_and_ack_without_arguments(sio_clients, transport):
    client = sio_clients(transport)
    client.emit("message")
    assert client.recorder.wait("message-back")[0] == ()
    assert client.call("echo", timeout=WAIT) is None  # ack called with no arguments
    r = room()
    assert client.call("join", r, timeout=WAIT) is None


def test_many_events_all_arrive(sio_clients):
    # python-engineio's sync client runs each received message in its own thread (run_async=True), so the
    # order it hands them over is not the order they arrived in; the order itself is checked with the
    # asyncio client in test_handler_ordering.py.
    client = sio_clients("polling")
    for i in range(200):
        client.emit("message", i)
    got = client.recorder.wait("message-back", count=200)
    assert sorted(a[0] for a in got) == list(range(200))


@ALL
def test_server_to_client_ack(sio_clients, transport):
    def setup(c):
        c.on("question", lambda: ("answer", 42, {"ok": [True, None]}))
        c.on("single", lambda: "only")
        c.on("nothing", lambda: None)
    client = sio_clients(transport, setup=setup)
    assert client.call("server-ack", ("question", 2000), timeout=WAIT) == {
        "ok": True, "args": ["answer", 42, {"ok": [True, None]}]}
    assert client.call("server-ack", ("single", 2000), timeout=WAIT) == {"ok": True, "args": ["only"]}
    assert client.call("server-ack", ("nothing", 2000), timeout=WAIT) == {"ok": True, "args": []}


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_server_ack_times_out_when_the_client_never_answers(sio_clients, transport):
    release = threading.Event()

    answered = threading.Event()

    def slow():  # answers only after the server gave up (handlers run on their own thread)
        release.wait(60)
        answered.set()
        return "too late"

    client = sio_clients(transport, setup=lambda c: c.on("slow", slow))
    started = time.monotonic()
    # the client does not answer before the test gets the server's verdict, so only the server's own
    # 200 ms deadline can produce it (never earlier than that deadline)
    answer = client.call("server-ack", ("slow", 200), timeout=WAIT)
    elapsed = time.monotonic() - started
    release.set()
    assert answer == {"ok": False, "error": "timeout"}
    assert elapsed >= 0.2, f"gave up after {elapsed:.3f}s, before its 200 ms deadline"
    assert answered.wait(WAIT)  # the late ack is sent: ignored, the socket keeps working
    assert client.call("echo", "still here", timeout=WAIT) == "still here"
    assert client.connected


def test_async_client_events_acks_and_server_ack(sio_server):
    async def main():
        client = socketio.AsyncClient(reconnection=False)
        backs = asyncio.Queue()

        async def on_back(*args):
            await backs.put(args)

        async def question(x):
            await asyncio.sleep(0.01)
            return {"doubled": x * 2}

        async def never():
            await asyncio.sleep(3)

        client.on("message-back", on_back)
        client.on("question", question)
        client.on("never", never)
        await client.connect(sio_server.base, transports=["polling", "websocket"], wait_timeout=WAIT)
        await client.emit("message", JSON_ARGS)
        got = await asyncio.wait_for(backs.get(), WAIT)
        assert list(got) == list(JSON_ARGS)
        assert list(await client.call("echo", JSON_ARGS, timeout=WAIT)) == list(JSON_ARGS)
        blob = {"bin": b"\x00\xff" * 100, "list": [b"a", {"b": b""}]}
        assert await client.call("echo", blob, timeout=WAIT) == blob
        # the fixture's server-ack sends "question" with no arguments: x is missing -> use a default
        client.on("question", lambda *a: {"doubled": 2 * (a[0] if a else 21)})
        assert await client.call("server-ack", ("question", 1000), timeout=WAIT) == {
            "ok": True, "args": [{"doubled": 42}]}
        answer = await client.call("server-ack", ("never", 200), timeout=WAIT)
        assert answer == {"ok": False, "error": "timeout"}
        await client.disconnect()
    run_async(main())


# ================================================================================= binary
BLOB = bytes(range(256)) * 4


@ALL
def test_binary_nested_in_objects_and_arrays_both_ways(sio_clients, transport):
    payload = ({"file": BLOB, "meta": {"name": "x.bin", "parts": [b"\x00", b"", {"deep": b"\xff\xfe"}]}},
               [b"one", "text", [b"two"]],
               b"top-level")
    client = sio_clients(transport)
    client.emit("message", payload)
    (back,) = client.recorder.wait("message-back")
    assert list(back) == list(payload)
    assert list(client.call("echo", payload, timeout=WAIT)) == list(payload)
    # server -> client -> server -> client: binary in the client's ack, nested in the fixture's answer
    client.on("give-binary", lambda: {"blob": BLOB, "list": [b"\x01\x02"]})
    answer = client.call("server-ack", ("give-binary", 2000), timeout=WAIT)
    assert answer == {"ok": True, "args": [{"blob": BLOB, "list": [b"\x01\x02"]}]}


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_binary_broadcast_to_a_room(sio_clients, transport):
    r = room()
    a, b = sio_clients(transport), sio_clients(transport)
    a.call("join", r, timeout=WAIT)
    b.call("emit-to", (r, "bin", {"data": BLOB}, [b"x"]), timeout=WAIT)
    assert a.recorder.wait("bin")[0] == ({"data": BLOB}, [b"x"])


# ================================================================================== rooms
@ALL
def test_join_emit_to_and_leave(sio_clients, transport):
    r = room()
    a, b, c = (sio_clients(transport) for _ in range(3))
    assert a.call("join", r, timeout=WAIT) is None
    b.call("join", r, timeout=WAIT)
    assert a.call("my-rooms", timeout=WAIT) == sorted([a.get_sid("/"), r])
    c.call("emit-to", (r, "news", 1, {"x": "y"}), timeout=WAIT)
    assert a.recorder.wait("news")[0] == (1, {"x": "y"})
    assert b.recorder.wait("news")[0] == (1, {"x": "y"})
    fence(c, [c])
    assert c.recorder.of("news") == [], "c is not in the room"
    a.call("leave", r, timeout=WAIT)
    assert a.call("my-rooms", timeout=WAIT) == [a.get_sid("/")]
    c.call("emit-to", (r, "news", 2), timeout=WAIT)
    assert b.recorder.wait("news", count=2)[1] == (2,)
    fence(c, [a])
    assert len(a.recorder.of("news")) == 1, "a left the room"


def test_each_socket_is_in_the_room_of_its_own_id(sio_clients):
    a, b = sio_clients("websocket"), sio_clients("polling")
    b.call("emit-to", (a.get_sid("/"), "private", "for a"), timeout=WAIT)
    assert a.recorder.wait("private")[0] == ("for a",)
    fence(b, [b])
    assert b.recorder.of("private") == []


@ALL
def test_emit_to_many_rooms_reaches_each_socket_once(sio_clients, transport):
    r1, r2, r3 = room(), room(), room()
    a, b, both, none = (sio_clients(transport) for _ in range(4))
    a.call("join", r1, timeout=WAIT)
    b.call("join", r2, timeout=WAIT)
    both.call("join", r1, timeout=WAIT)
    both.call("join", r2, timeout=WAIT)
    none.call("join", r3, timeout=WAIT)
    none.call("emit-to-many", ([r1, r2], "multi", "hi"), timeout=WAIT)
    for client in (a, b, both):
        client.recorder.wait("multi")
    fence(none, [a, b, both, none])
    assert [len(c.recorder.of("multi")) for c in (a, b, both, none)] == [1, 1, 1, 0]


@ALL
def test_emit_except_skips_the_excepted_room(sio_clients, transport):
    r, skip = room(), room()
    a, b, c = (sio_clients(transport) for _ in range(3))
    for client in (a, b):
        client.call("join", r, timeout=WAIT)
    b.call("join", skip, timeout=WAIT)
    c.call("emit-except", (r, skip, "partial", [1, 2]), timeout=WAIT)
    assert a.recorder.wait("partial")[0] == ([1, 2],)
    fence(c, [b, c])
    assert b.recorder.of("partial") == [] and c.recorder.of("partial") == []


@ALL
def test_broadcast_skips_the_sender(sio_clients, transport):
    tag = uuid.uuid4().hex
    a, b, c = (sio_clients(transport) for _ in range(3))
    a.call("broadcast", ("bcast", tag), timeout=WAIT)
    assert (tag,) in b.recorder.wait("bcast") and (tag,) in c.recorder.wait("bcast")
    fence(a, [a])
    assert (tag,) not in a.recorder.of("bcast")


@ALL
def test_emit_all_reaches_everyone_including_the_sender(sio_clients, transport):
    tag = uuid.uuid4().hex
    a, b = sio_clients(transport), sio_clients(transport)
    both = sio_clients(transport, namespaces=["/", "/custom"])  # one connection, two namespaces
    a.call("emit-all", ("everyone", tag), timeout=WAIT)
    for client in (a, b, both):
        assert (tag,) in client.recorder.wait("everyone")
    fence(a, [both])  # on the same connection as a /custom copy would have come
    assert both.recorder.of("everyone", "/custom") == [], "io.emit is the main namespace only"


@ALL
def test_disconnect_room_disconnects_its_members_only(sio_clients, transport):
    doomed = room()
    a, b, c = (sio_clients(transport) for _ in range(3))
    a.call("join", doomed, timeout=WAIT)
    b.call("join", doomed, timeout=WAIT)
    assert c.call("disconnect-room", doomed, timeout=WAIT) is None
    a.recorder.wait("disconnect")
    b.recorder.wait("disconnect")
    wait_until(lambda: not a.connected and not b.connected, message="members still connected")
    assert c.call("echo", "alive", timeout=WAIT) == "alive"
    assert c.recorder.of("disconnect") == []
    ids = c.call("fetch-sockets", timeout=WAIT)
    assert c.get_sid("/") in ids
    assert a.get_sid("/") not in ids and b.get_sid("/") not in ids


@ALL
def test_sockets_join_adds_the_room_to_every_member(sio_clients, transport):
    src, dst = room(), room()
    a, b, c = (sio_clients(transport) for _ in range(3))
    a.call("join", src, timeout=WAIT)
    b.call("join", src, timeout=WAIT)
    c.call("sockets-join", (src, dst), timeout=WAIT)
    assert a.call("my-rooms", timeout=WAIT) == sorted([a.get_sid("/"), src, dst])
    c.call("emit-to", (dst, "moved", 1), timeout=WAIT)
    a.recorder.wait("moved")
    b.recorder.wait("moved")
    fence(c, [c])
    assert c.recorder.of("moved") == []


def test_fetch_sockets_lists_the_main_namespace(sio_clients):
    a, b = sio_clients("websocket"), sio_clients("polling")
    custom = sio_clients("websocket", namespaces=["/custom"])
    ids = a.call("fetch-sockets", timeout=WAIT)
    assert isinstance(ids, list)
    assert {a.get_sid("/"), b.get_sid("/")} <= set(ids)
    assert custom.get_sid("/custom") not in ids


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_room_ack_collects_every_answer(sio_clients, transport):
    r = room()
    members = []
    for i in range(3):
        members.append(sio_clients(transport, setup=lambda c, i=i: c.on("roll-call", lambda: {"n": i})))
        members[-1].call("join", r, timeout=WAIT)
    caller = sio_clients(transport)
    answer = caller.call("room-ack", (r, "roll-call", 2000), timeout=WAIT)
    assert answer["ok"] is True, answer
    responses = answer["responses"]
    # One response per client; the fixture passes each client's ack arguments as an array.
    normalized = [x[0] if isinstance(x, list) and len(x) == 1 else x for x in responses]
    assert sorted(n["n"] for n in normalized) == [0, 1, 2], answer


def test_room_ack_times_out_when_one_client_never_answers(sio_clients):
    r = room()
    release = threading.Event()
    fast = sio_clients("websocket", setup=lambda c: c.on("q", lambda: "fast"))
    slow = sio_clients("websocket", setup=lambda c: c.on("q", lambda: release.wait(60) and "slow"))
    fast.call("join", r, timeout=WAIT)
    slow.call("join", r, timeout=WAIT)
    # the slow client answers only after the verdict: a timeout is the only possible outcome
    answer = fast.call("room-ack", (r, "q", 300), timeout=WAIT)
    release.set()
    assert answer == {"ok": False, "error": "timeout"}


def test_room_ack_on_an_empty_room_answers_at_once(sio_clients):
    client = sio_clients("websocket")
    # a 60 s deadline and a call that gives up after WAIT: an answer at all means the server did
    # not wait for its deadline (no client to wait for; Node.js answers at once)
    answer = client.call("room-ack", (room(), "q", 60_000), timeout=WAIT)
    assert answer == {"ok": True, "responses": []}


# ========================================================== onAny, middleware, other events
@ALL
def test_on_any_counts_every_event(sio_clients, transport):
    client = sio_clients(transport)
    assert client.call("any-count", timeout=WAIT) == 0
    client.emit("message", 1)
    client.emit("unhandled-event", {"x": 1})
    client.call("echo", 2, timeout=WAIT)
    assert client.call("any-count", timeout=WAIT) == 3


@ALL
def test_per_packet_middleware_rejects_forbidden_events(sio_clients, transport):
    client = sio_clients(transport)
    acked = []
    client.emit("forbidden-thing", {"a": 1})
    assert client.recorder.wait("error")[0] == ({"message": "forbidden event"},)
    client.emit("forbidden-echo", "x", callback=lambda *a: acked.append(a))  # the handler never runs
    # packets of one socket are handled in order: by the echo's answer the forbidden one was refused
    assert client.call("echo", "allowed", timeout=WAIT) == "allowed"
    assert client.connected
    assert len(client.recorder.wait("error", count=2)) == 2
    client.dispatch.wait_idle()
    assert acked == [], "a refused event is never acknowledged"


@ALL
def test_client_disconnect_is_seen_by_the_server(sio_clients, transport):
    a, b = sio_clients(transport), sio_clients("websocket")
    a_sid = a.get_sid("/")
    assert a_sid in b.call("fetch-sockets", timeout=WAIT)
    a.disconnect()
    wait_until(lambda: a_sid not in b.call("fetch-sockets", timeout=WAIT), message="a still listed")


def test_namespace_disconnect_keeps_the_other_namespace(sio_clients):
    # python-socketio has no per-namespace disconnect: send the DISCONNECT packet as it would
    client = sio_clients("websocket", namespaces=["/", "/custom"])
    client._send_packet(client.packet_class(socketio.packet.DISCONNECT, namespace="/custom"))
    # packets of one client are handled in order: the echo comes after the DISCONNECT
    assert client.call("echo", "main still works", timeout=WAIT) == "main still works"


@pytest.mark.parametrize("transport", ["polling", "upgrade"])
def test_bench_broadcast_reaches_everyone(sio_clients, transport):
    tag = uuid.uuid4().hex
    a, b = sio_clients(transport), sio_clients(transport)
    a.emit("bench-broadcast", {"tag": tag, "t": 1.5})
    assert ({"tag": tag, "t": 1.5},) in a.recorder.wait("bench")
    assert ({"tag": tag, "t": 1.5},) in b.recorder.wait("bench")


def test_upgrade_loses_and_duplicates_nothing(sio_clients):
    # The sync client hands each received message to a thread of its own, so the order in which its
    # handlers run is not the order of arrival: with it, completeness only (every one, once).
    client = sio_clients("upgrade")
    for i in range(300):  # sent while polling, across the upgrade, and after it
        client.emit("message", i)
        if i == 100:
            wait_until(lambda: client.transport() == "websocket", message="never upgraded")
    client.recorder.wait("message-back", count=300)
    fence(client, [client])
    got = client.recorder.of("message-back")
    assert sorted(a[0] for a in got) == list(range(300)), "each message back exactly once"


def test_upgrade_keeps_the_order(sio_server):
    # The order across the upgrade, with the asyncio client: it hands received events over in arrival
    # order (see test_handler_ordering.py).
    async def main():
        client = socketio.AsyncClient(reconnection=False)
        got = []
        done = asyncio.Event()

        @client.on("message-back")
        def on_back(n):
            got.append(n)
            if len(got) == 300:
                done.set()

        await client.connect(sio_server.base, transports=["polling", "websocket"], wait_timeout=WAIT)
        for i in range(300):  # sent while polling, across the upgrade, and after it
            await client.emit("message", i)
            if i == 100:
                while client.transport() != "websocket":
                    await asyncio.sleep(0.01)
        await asyncio.wait_for(done.wait(), 10)
        assert await client.call("echo", "last", timeout=WAIT) == "last"
        await client.disconnect()
        return got
    assert run_async(main()) == list(range(300))
