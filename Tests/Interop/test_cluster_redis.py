"""Issue 5, acceptance 1 and 3: three socketio-conformance-server nodes joined by a real redis-server
(`--redis`), python-socketio clients spread over them. Every broadcast reaches every intended client on
every node exactly once and nobody else; fetchSockets, socketsJoin, socketsLeave, disconnectSockets and
broadcast acks act across nodes, io.local stays on its node; the Redis emitter reaches clients; Redis stopped and restarted mid-test."""
import json
import uuid

import pytest

from cluster_support import Cluster, eventually, fence


@pytest.fixture(scope="module")
def cluster():
    cluster = Cluster(3)
    yield cluster
    cluster.stop()


@pytest.fixture
def clients(cluster):
    """Two clients per node: clients[0], clients[1] on node 0, clients[2], clients[3] on node 1, ..."""
    made = [cluster.client(index // 2) for index in range(6)]
    yield made
    cluster.disconnect_clients()
    cluster.assert_alive()


def deliveries(clients, event):
    return [len(client.received(event)) for client in clients]


def assert_exactly(sender, clients, event, expected):
    """`event`, broadcast from `sender`'s node, reaches exactly the `expected` number of times each
    client: first wait for them, then a fence from the same node shows nothing more is coming."""
    assert eventually(lambda: deliveries(clients, event) == expected), deliveries(clients, event)
    fence(sender, clients)
    assert deliveries(clients, event) == expected


def test_io_emit_reaches_every_client_on_every_node_once(clients):
    clients[0].call("emit-all", "everyone", 42, {"b": b"\x00\x01binary"})
    assert_exactly(clients[0], clients, "everyone", [1] * 6)
    for client in clients:
        assert client.received("everyone") == [[42, {"b": b"\x00\x01binary"}]]


def test_room_broadcast_reaches_members_on_every_node_only(clients):
    for client in (clients[1], clients[2], clients[5]):
        client.call("join", "blue")
    clients[4].call("emit-to", "blue", "blue-news", "hi")
    assert_exactly(clients[4], clients, "blue-news", [0, 1, 1, 0, 0, 1])


def test_except_skips_excluded_room_on_every_node(clients):
    for client in clients:
        client.call("join", "all")
    for client in (clients[0], clients[3], clients[4]):
        client.call("join", "muted")
    clients[1].call("emit-except", "all", "muted", "loud", 1)
    assert_exactly(clients[1], clients, "loud", [0, 1, 1, 0, 0, 1])


def test_socket_broadcast_reaches_everyone_but_the_sender(clients):
    clients[2].call("broadcast", "from-2", "x")
    assert_exactly(clients[2], clients, "from-2", [1, 1, 0, 1, 1, 1])


def test_multi_room_broadcast_reaches_each_member_once(clients):
    for client in (clients[0], clients[3]):
        client.call("join", "r1")
    for client in (clients[3], clients[5]):
        client.call("join", "r2")
    clients[1].call("emit-to-many", ["r1", "r2"], "multi", 7)
    assert_exactly(clients[1], clients, "multi", [1, 0, 0, 1, 0, 1])


def test_fetch_sockets_sees_every_node(clients):
    for asker in (clients[0], clients[3], clients[5]):
        ids = asker.call("fetch-sockets")
        assert sorted(ids) == sorted(client.sid for client in clients)


def test_sockets_join_acts_across_nodes(clients):
    for client in (clients[0], clients[2], clients[4]):
        client.call("join", "source")
    clients[1].call("sockets-join", "source", "joined")
    fence(clients[1], clients)  # the other nodes applied the join before the fence
    for index, client in enumerate(clients):
        rooms = client.call("my-rooms")
        assert ("joined" in rooms) == (index in (0, 2, 4)), (index, rooms)
    clients[5].call("emit-to", "joined", "via-joined")
    assert_exactly(clients[5], clients, "via-joined", [1, 0, 1, 0, 1, 0])


def test_sockets_leave_acts_across_nodes(clients):
    for client in clients:
        client.call("join", "group")
    for client in (clients[0], clients[3], clients[4]):
        client.call("join", "leavers")
    clients[1].call("sockets-leave", "leavers", "group")
    fence(clients[1], clients)  # the other nodes applied the leave before the fence
    assert ["group" in client.call("my-rooms") for client in clients] == [False, True, True, False, False, True]
    clients[2].call("emit-to", "group", "to-group")
    assert_exactly(clients[2], clients, "to-group", [0, 1, 1, 0, 0, 1])


def test_local_emit_stays_on_the_node(clients):
    clients[2].call("emit-local", "node-only", 5)
    assert_exactly(clients[2], clients, "node-only", [0, 0, 1, 1, 0, 0])
    assert clients[2].received("node-only") == [[5]]


def test_disconnect_sockets_acts_across_nodes(clients):
    for client in (clients[1], clients[3], clients[5]):
        client.call("join", "doomed")
    clients[0].call("disconnect-room", "doomed")
    for index in (1, 3, 5):
        assert clients[index].disconnected.wait(5), f"client {index} still connected"
    for index in (0, 2, 4):
        assert not clients[index].disconnected.is_set()
        assert clients[index].call("echo", "still") == "still"


def test_broadcast_with_acks_collects_answers_from_every_node(clients):
    members = [clients[0], clients[3], clients[4]]
    for client in members:
        client.call("join", "ackers")
    answer = clients[1].call("room-ack", "ackers", "please-ack", 3000)
    assert answer["ok"], answer
    assert sorted(r[0] if isinstance(r, list) else r for r in answer["responses"]) == \
        sorted("ack-" + client.sid for client in members)


def test_emitter_reaches_clients_on_every_node(cluster, clients):
    for client in (clients[0], clients[2], clients[4]):
        client.call("join", "jobs")
    clients[2].call("join", "quiet")
    cluster.emit_via_emitter(json.dumps({"op": "emit", "to": ["jobs"], "except": ["quiet"],
                                         "event": "job-done", "args": [{"id": 7}]}))
    assert eventually(lambda: deliveries(clients, "job-done") == [1, 0, 0, 0, 1, 0])
    assert clients[0].received("job-done") == [[{"id": 7}]]
    cluster.emit_via_emitter(json.dumps({"op": "emit", "event": "to-all", "args": [1, "two"]}))
    assert eventually(lambda: deliveries(clients, "to-all") == [1] * 6)
    # socketsJoin and disconnectSockets from the emitter
    cluster.emit_via_emitter(json.dumps({"op": "join", "to": ["jobs"], "rooms": ["emitted"]}))
    emitter_fence(cluster, clients)
    assert ["emitted" in client.call("my-rooms") for client in clients] == [True, False, True, False, True, False]
    cluster.emit_via_emitter(json.dumps({"op": "disconnect", "to": ["emitted"], "close": True}))
    for index in (0, 2, 4):
        assert clients[index].disconnected.wait(5), f"client {index} still connected"
    emitter_fence(cluster, [clients[index] for index in (1, 3, 5)])
    assert not any(clients[index].disconnected.is_set() for index in (1, 3, 5))


def emitter_fence(cluster, receivers):
    """A fence for the emitter: a later emitter run's `fence` event reaches a client after whatever
    an earlier run published (Redis handles one publication after the other)."""
    token = uuid.uuid4().hex
    cluster.emit_via_emitter(json.dumps({"op": "emit", "to": [r.sid for r in receivers], "event": "fence",
                                         "args": [token]}))
    for receiver in receivers:
        receiver.wait_for("fence", [token])
