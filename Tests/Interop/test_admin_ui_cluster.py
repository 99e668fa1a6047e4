"""Issue 18, multi-node: two Swift nodes joined by a real redis-server, both instrumented for the Admin UI.
The page, connected to one node, sees both servers (two serverIds in server_stats), every socket of the
cluster, and acts on sockets of the other node; a session made on one node is accepted by the other
(sessions in Redis under the official key, socket.io-admin#<sessionId>). With each Redis adapter: Pub/Sub,
Streams, and sharded Pub/Sub over a Redis Cluster."""
import socket

import bcrypt
import pytest

from admin_ui_support import AdminPage, check_serialized_socket, page_fence
from cluster_support import Client, Node, Redis, eventually
from conftest import HOST
from redis_cluster_support import RedisCluster, ShardedNode, key_slot

PASSWORD = "cluster-secret"


@pytest.fixture(scope="module", params=["--redis", "--redis-streams", "--redis-sharded"])
def cluster(request):
    """Two nodes on the Pub/Sub adapter, the Streams adapter, or the sharded adapter over a Redis Cluster."""
    sharded = request.param == "--redis-sharded"
    redis = RedisCluster() if sharded else Redis()
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode()
    nodes = []
    try:
        for index, name in enumerate(("node-a", "node-b")):
            admin_ui = ("--admin-ui-auth", f"admin:{hashed}", "--server-id", name)
            if sharded:
                nodes.append(ShardedNode(f"redis://{HOST}:{redis.ports[index]}", admin_ui))
            else:
                nodes.append(Node(redis.url, admin_ui, adapter_flag=request.param))
        yield redis, nodes
    finally:
        for node in nodes:
            node.stop()
        redis.stop()


def redis_command(port: int, *args: str):
    """One command over RESP (no client library needed); returns the reply line."""
    payload = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
    with socket.create_connection((HOST, port), timeout=5) as conn:
        conn.sendall(payload.encode())
        return conn.recv(4096).decode().split("\r\n")[0]


def test_the_page_sees_both_servers_and_every_socket(cluster):
    redis, (node_a, node_b) = cluster
    user_a = Client(node_a.url, ["websocket"])
    user_b = Client(node_b.url, ["websocket"])
    page = AdminPage(node_a.url, auth={"username": "admin", "password": PASSWORD})
    try:
        page.wait_for("server_stats", lambda a: a[0]["serverId"] == "node-a", timeout=8)
        page.wait_for("server_stats", lambda a: a[0]["serverId"] == "node-b", timeout=8)
        server_ids = {stats["serverId"] for (stats,) in page.all("server_stats")}
        assert server_ids == {"node-a", "node-b"}
        pids = {stats["serverId"]: stats["pid"] for (stats,) in page.all("server_stats")}
        assert pids == {"node-a": node_a.proc.pid, "node-b": node_b.proc.pid}

        (sockets,) = page.wait_for("all_sockets")
        by_id = {s["id"]: s for s in sockets}
        assert user_a.sid in by_id and user_b.sid in by_id, sockets
        check_serialized_socket(by_id[user_a.sid], user_a.sid, "/", "websocket")
        check_serialized_socket(by_id[user_b.sid], user_b.sid, "/", "websocket")  # _admin came through Redis

        # events of the other node reach the page too (the admin namespace's emits cross nodes)
        late = Client(node_b.url, ["websocket"])
        socket_info, _ = page.wait_for("socket_connected", lambda a: a[0]["id"] == late.sid)
        check_serialized_socket(socket_info, late.sid, "/", "websocket")
        late.call("join", "far")
        page.wait_for("room_joined", lambda a: a[1:3] == ["far", late.sid])

        # actions from the page (on node a) reach sockets of node b
        page.act("emit", "/", late.sid, "from-admin", "hi")
        assert eventually(lambda: late.received("from-admin") == [["hi"]])
        assert user_b.received("from-admin") == []
        page.act("join", "/", "blue", user_b.sid)
        assert eventually(lambda: "blue" in set(user_b.call("my-rooms")))
        page.act("_disconnect", "/", False, "far")
        assert eventually(lambda: late.disconnected.is_set())
        page.wait_for("socket_disconnected", lambda a: a[1:3] == [late.sid, "server namespace disconnect"])
        page_fence(page, [user_a, user_b])  # through Redis too, in order with the _disconnect before it
        assert not user_a.disconnected.is_set() and not user_b.disconnected.is_set()
    finally:
        page.close()
        user_a.close()
        user_b.close()


def test_a_session_made_on_one_node_is_accepted_by_the_other(cluster):
    redis, (node_a, node_b) = cluster
    page = AdminPage(node_a.url, auth={"username": "admin", "password": PASSWORD})
    try:
        (session_id,) = page.wait_for("session")
    finally:
        page.close()
    key = f"socket.io-admin#{session_id}"
    port = redis.owner(key_slot(key)) if isinstance(redis, RedisCluster) else redis.port  # the key's master
    assert redis_command(port, "EXISTS", key) == ":1"
    ttl = int(redis_command(port, "TTL", key)[1:])
    assert 86000 < ttl <= 86400
    again = AdminPage(node_b.url, auth={"sessionId": session_id})
    try:
        again.wait_for("config")
        assert again.all("session") == []
    finally:
        again.close()
