"""Issue 13, sharded Pub/Sub: three socketio-conformance-server nodes joined by a real 3-master Redis
Cluster with --redis-sharded (each given a different node's URL; the rest is discovered), python-socketio
clients on every node. Broadcasts, room broadcasts on per-room channels (subscribed while a node has
members, as Node.js's createShardedAdapter "dynamic" mode does), fetchSockets, socketsJoin and broadcasts
with acks across nodes; then the namespace channel's slot migrates to another master while broadcasts
flow, with every delivery counted."""
import threading
import time

import pytest

from cluster_support import Client, eventually
from redis_cluster_support import RedisCluster, ShardedNode, key_slot
# The Pub/Sub adapter's cluster scenarios, collected here again: they run on this module's `clients`
# fixture, so against the sharded cluster.
from test_cluster_redis import (  # noqa: F401
    deliveries,
    test_broadcast_with_acks_collects_answers_from_every_node,
    test_disconnect_sockets_acts_across_nodes,
    test_except_skips_excluded_room_on_every_node,
    test_fetch_sockets_sees_every_node,
    test_io_emit_reaches_every_client_on_every_node_once,
    test_multi_room_broadcast_reaches_each_member_once,
    test_room_broadcast_reaches_members_on_every_node_only,
    test_socket_broadcast_reaches_everyone_but_the_sender,
    test_sockets_join_acts_across_nodes,
)

MAIN = "socket.io#/#"


def settle():
    time.sleep(0.4)  # let in-flight messages arrive before asserting that nobody else got one


class ShardedCluster:
    def __init__(self):
        self.redis = RedisCluster()
        self.nodes = []
        try:
            for index in range(3):
                self.nodes.append(ShardedNode(f"redis://127.0.0.1:{self.redis.ports[index]}"))
        except Exception:
            self.stop()
            raise
        self.clients = []

    def client(self, node: int) -> Client:
        client = Client(self.nodes[node].url, ["websocket"])
        self.clients.append(client)
        return client

    def disconnect_clients(self):
        for client in self.clients:
            client.close()
        self.clients.clear()

    def assert_alive(self):
        for index, node in enumerate(self.nodes):
            assert node.alive(), f"node {index} died:\n" + "\n".join(node.lines)

    def stop(self):
        self.disconnect_clients()
        for node in self.nodes:
            node.stop()
        self.redis.stop()


@pytest.fixture(scope="module")
def cluster():
    cluster = ShardedCluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def clients(cluster):
    """Two clients per node: clients[0], clients[1] on node 0, clients[2], clients[3] on node 1, ..."""
    made = [cluster.client(index // 2) for index in range(6)]
    # Every node subscribed to the namespace channel (one connection each).
    assert eventually(lambda: cluster.redis.shard_subscribers(MAIN) == 3, timeout=10)
    yield made
    cluster.disconnect_clients()
    cluster.assert_alive()


def test_room_broadcast_travels_on_the_room_channel_to_members_only(cluster, clients):
    room_channel = MAIN + "blue#"
    members = [clients[1], clients[2], clients[5]]
    for client in members:
        client.call("join", "blue")
    # One subscription per node that has members (nodes 0, 1, 2).
    assert eventually(lambda: cluster.redis.shard_subscribers(room_channel) == 3), cluster.redis.shard_subscribers(room_channel)
    clients[4].call("emit-to", "blue", "blue-news", "hi")
    assert eventually(lambda: deliveries(members, "blue-news") == [1, 1, 1])
    settle()
    assert deliveries(clients, "blue-news") == [0, 1, 1, 0, 0, 1]
    # The last member on node 0 leaves: node 0 drops the channel, and does not get the next broadcast.
    clients[1].call("leave", "blue")
    assert eventually(lambda: cluster.redis.shard_subscribers(room_channel) == 2)
    clients[0].call("emit-to", "blue", "blue-news", "again")
    assert eventually(lambda: deliveries(clients, "blue-news") == [0, 1, 2, 0, 0, 2])
    settle()
    assert deliveries(clients, "blue-news") == [0, 1, 2, 0, 0, 2]


def test_sockets_join_subscribes_the_room_channel_on_the_other_node(cluster, clients):
    # From node 0, make the socket of clients[5] (node 2) join "green" (SOCKETS_JOIN on the namespace channel).
    clients[0].call("sockets-join", clients[5].sid, "green")
    assert eventually(lambda: cluster.redis.shard_subscribers(MAIN + "green#") == 1)
    clients[1].call("emit-to", "green", "green-news")
    assert eventually(lambda: deliveries(clients, "green-news") == [0, 0, 0, 0, 0, 1])
    assert clients[5].call("my-rooms") == sorted([clients[5].sid, "green"])


def test_namespace_channel_slot_migrates_while_broadcasts_flow(cluster, clients):
    """The slot of the namespace channel moves to another master in the middle of 300 broadcasts sent
    from node 0 (each awaited by the sender). What may be lost, precisely: on each other node, the
    broadcasts published between the moment the old master gives the slot up (it ends that node's
    subscription with a sunsubscribe push) and the moment the node's SSUBSCRIBE lands on the new master:
    one contiguous run per node, identical for that node's clients. Nothing is duplicated or reordered;
    node 0's own clients get everything; and once the move is over every broadcast reaches every node."""
    total, move_at = 300, 100
    slot = key_slot(MAIN)
    source = cluster.redis.owner(slot)
    target = next(port for port in cluster.redis.ports if port != source)
    errors = []

    def send():
        try:
            for number in range(total):
                if number == move_at:
                    moving.set()
                clients[0].call("emit-all", "tick", number)
        except Exception as error:  # reported below
            errors.append(error)

    moving = threading.Event()
    sender = threading.Thread(target=send)
    sender.start()
    assert moving.wait(30)
    cluster.redis.migrate(slot, source, target)
    sender.join(60)
    assert not errors, errors
    assert cluster.redis.owner(slot) == target
    # The nodes resubscribed on the new master, and a broadcast after the move reaches every client.
    assert eventually(lambda: cluster.redis.shard_subscribers(MAIN) == 3, timeout=10)
    clients[0].call("emit-all", "tick", total)
    assert eventually(lambda: all(client.received("tick")[-1:] == [[total]] for client in clients), timeout=10)

    lost = []
    for index, client in enumerate(clients):
        numbers = [args[0] for args in client.received("tick")]
        assert len(set(numbers)) == len(numbers), f"client {index}: a broadcast arrived twice"
        assert numbers == sorted(numbers), f"client {index}: broadcasts out of order"
        missing = sorted(set(range(total + 1)) - set(numbers))
        if index < 2:
            assert missing == [], "the sender's node delivers locally whatever Redis does"
        elif missing:
            assert missing == list(range(missing[0], missing[-1] + 1)), f"client {index}: losses not contiguous: {missing}"
            # (a broadcast acknowledged just before the move may still be on its way to Redis)
            assert missing[0] >= move_at - 10, f"client {index}: lost {missing[0]}, long before the move began"
        lost.append(len(missing))
    # Clients of one node lose the same broadcasts (the node's subscription is what moved).
    assert lost[2] == lost[3] and lost[4] == lost[5], lost
    print(f"slot migration under load: lost per client {lost} of {total + 1} broadcasts")
