"""Issue 13: three Swift nodes on the Redis Streams adapter (`--redis-streams`), real redis-server processes.
Broadcasts, rooms, fetchSockets, serverSideEmit and broadcasts with acks across nodes; a client that lost
its connection recovers on another node than the one it left (session and packets in Redis); Redis is
restarted while one node broadcasts, and every broadcast reaches every client, in order."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

from cluster_support import Client, Node, Redis, eventually, wait_port
from conftest import HOST, free_port, swift_bin_dir
from sio_raw import RawSocketIO
from test_connection_state_recovery import wait_gone


class StreamsNode(Node):
    """A socketio-conformance-server on the streams adapter, with connection state recovery on."""

    def __init__(self, redis_url: str):  # noqa: super().__init__ would start a --redis node
        self.port = free_port()
        binary = os.environ.get("CONFORMANCE_SERVER_BIN") or str(swift_bin_dir() / "socketio-conformance-server")
        self.lines: deque[str] = deque(maxlen=200)
        self.proc = subprocess.Popen(
            [binary, "--host", HOST, "--port", str(self.port), "--quiet", "--redis-streams", redis_url,
             "--connection-state-recovery", "60000", "--ping-interval", "25000", "--ping-timeout", "20000"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
        threading.Thread(target=self._pump, daemon=True).start()
        wait_port(self.port, proc=self.proc)


class PersistentRedis(Redis):
    """A redis-server that keeps its data across a restart (append-only file, fsync on every write), as a
    production Redis does: what it acknowledged before it stopped is still in the stream afterwards."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="sio-redis-"))
        super().__init__()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.dir), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_port(self.port, proc=self.proc)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class StreamsCluster:
    def __init__(self, redis: Redis, nodes: int = 3):
        self.redis = redis
        self.nodes: list[StreamsNode] = []
        self.clients: list[Client] = []
        try:
            for _ in range(nodes):
                self.nodes.append(StreamsNode(redis.url))
        except Exception:
            self.stop()
            raise

    def client(self, node: int) -> Client:
        client = Client(self.nodes[node].url, ["websocket"])
        self.clients.append(client)
        return client

    def assert_alive(self) -> None:
        for index, node in enumerate(self.nodes):
            assert node.alive(), f"node {index} died:\n" + "\n".join(node.lines)

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        for node in self.nodes:
            node.stop()
        if isinstance(self.redis, PersistentRedis):
            self.redis.remove()
        else:
            self.redis.stop()


def counts(clients, event):
    return [len(client.received(event)) for client in clients]


def test_broadcasts_rooms_fetch_sockets_and_server_side_emit_across_three_nodes():
    cluster = StreamsCluster(Redis())
    try:
        clients = [cluster.client(index % 3) for index in range(6)]
        # to everyone, from each node: every client once, with the stream entry id as offset
        for sender in (0, 1, 2):
            assert clients[sender].call("emit-all", "hello", sender) is None
        assert eventually(lambda: counts(clients, "hello") == [3] * 6, timeout=10), counts(clients, "hello")
        for client in clients:
            values = sorted(args[0] for args in client.received("hello"))
            assert values == [0, 1, 2]
            offsets = [args[-1] for args in client.received("hello")]
            assert all(isinstance(o, str) and o.count("-") == 1 for o in offsets), offsets

        # rooms: members on two nodes, the sender on a third
        clients[1].call("join", "blue")
        clients[5].call("join", "blue")
        clients[3].call("emit-to", "blue", "blue-news", 7)
        assert eventually(lambda: counts(clients, "blue-news") == [0, 1, 0, 0, 0, 1], timeout=10)
        # socketsJoin through the stream (node 0 makes node 1's socket join), then a broadcast to that room
        clients[0].call("sockets-join", clients[1].sid, "green")
        assert eventually(lambda: clients[1].call("my-rooms") == sorted([clients[1].sid, "blue", "green"]), timeout=10)
        clients[2].call("emit-to", "green", "green-news")
        assert eventually(lambda: counts(clients, "green-news") == [0, 1, 0, 0, 0, 0], timeout=10), counts(clients, "green-news")

        # fetchSockets: every node's sockets
        assert eventually(lambda: sorted(clients[4].call("fetch-sockets")) == sorted(c.sid for c in clients))

        # serverSideEmit with acks: the two other nodes answer
        answer = clients[0].call("server-side-emit", ["ping", 1], 3000)
        assert answer["ok"], answer
        assert sorted(map(str, answer["answers"])) == sorted(map(str, [["pong", 1], ["pong", 1]]))

        # a broadcast with acks over Pub/Sub: the room's members on other nodes answer
        result = clients[2].call("room-ack", "blue", "question", 3000)
        assert result["ok"], result
        assert sorted(result["responses"]) == sorted([f"ack-{clients[1].sid}", f"ack-{clients[5].sid}"])
        cluster.assert_alive()
    finally:
        cluster.stop()


def test_a_client_recovers_on_another_node_with_its_missed_packets():
    cluster = StreamsCluster(Redis())
    try:
        a, b, c = (node.port for node in cluster.nodes)
        other = RawSocketIO(b, "websocket")
        other.connect()
        assert other.next_event()[0] == "auth"
        client = RawSocketIO(a, "websocket")
        first = client.connect({"user": "a"})
        assert client.next_event()[0] == "auth"
        sid, pid = first["sid"], first["pid"]
        assert client.call("join", "r1", ack_id=1) == []
        assert client.call("set-data", {"x": 1}, ack_id=2) == []
        client.send('2["message","before"]')
        event = client.next_event()
        assert event[:2] == ["message-back", "before"]
        offset = event[-1]

        client.cut()
        wait_gone(other, sid, ack_id=2)
        # sent from node B while the client is away
        assert other.call("emit-all", "news", 1, ack_id=3) == []
        assert other.call("emit-to", "r1", "room-news", 2, ack_id=4) == []
        assert other.call("emit-to", "elsewhere", "not-for-you", 3, ack_id=5) == []
        assert other.call("emit-volatile", "volatile-news", 4, ack_id=6) == []
        assert other.call("emit-to", sid, "direct", 5, ack_id=7) == []
        assert other.call("emit-all", "news", 6, ack_id=8) == []
        time.sleep(0.3)  # the appends are in the stream (the acks above came before them)

        # back on node C
        again = RawSocketIO(c, "websocket")
        answer = again.connect({"user": "a", "pid": pid, "offset": offset})
        assert answer == {"sid": sid, "pid": pid}, "same socket id and private id, on another node"
        missed = [again.next_event() for _ in range(4)]
        assert [m[:-1] for m in missed] == [["news", 1], ["room-news", 2], ["direct", 5], ["news", 6]]
        offsets = [m[-1] for m in missed]
        assert len(set(offsets)) == 4 and offset not in offsets
        assert again.next_event()[:2] == ["auth", {"user": "a", "pid": pid, "offset": offset}]
        assert again.call("recovered", ack_id=1) == [True]
        assert again.call("my-rooms", ack_id=2) == [sorted([sid, "r1"])]
        assert again.call("get-data", ack_id=3) == [{"x": 1}]
        # once only: the session was taken from Redis (GETDEL)
        third = RawSocketIO(a, "websocket")
        assert third.connect({"pid": pid, "offset": offset})["sid"] != sid
        third.close()
        again.close()
        other.close()
        cluster.assert_alive()
    finally:
        cluster.stop()


def test_a_redis_restart_loses_no_broadcast():
    """Node 0 broadcasts a numbered sequence without pause while Redis is killed and started again (its data
    kept, as a production Redis keeps it). Every client on every node receives every number, in order:
    readers resume from their last entry id and the sender's appends wait, in order, in its buffer."""
    cluster = StreamsCluster(PersistentRedis())
    total = 300
    try:
        clients = [cluster.client(index % 3) for index in range(6)]
        sender = cluster.client(0)
        done = threading.Event()
        outage = threading.Event()

        def send():
            for n in range(total):
                sender.call("emit-all", "seq", n)
                if n == total // 3:
                    outage.set()
                time.sleep(0.01)
            done.set()

        thread = threading.Thread(target=send, daemon=True)
        thread.start()
        assert outage.wait(30)
        cluster.redis.stop()
        time.sleep(1.5)  # the sender goes on: its broadcasts wait in node 0's buffer
        cluster.redis.start()
        assert done.wait(60)
        thread.join(5)

        def numbers(client):
            return [args[0] for args in client.received("seq")]

        assert eventually(lambda: all(len(set(numbers(c))) == total for c in clients), timeout=40, interval=0.2), \
            [sorted(set(range(total)) - set(numbers(c))) for c in clients] + ["\n".join(cluster.nodes[0].log())]
        assert any("Redis connection lost" in line for line in cluster.nodes[0].lines), "the outage was seen"
        for client in clients:
            got = numbers(client)
            first_seen = list(dict.fromkeys(got))
            assert first_seen == list(range(total)), "in order, none lost"
            # an append on the wire when the connection dropped may be written twice (at most a few)
            assert len(got) - total <= 5, f"{len(got) - total} duplicates"
        cluster.assert_alive()
    finally:
        cluster.stop()
