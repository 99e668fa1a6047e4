"""Issue 5, acceptance 2: nginx (deploy/nginx.conf) in front of a three-node cluster. Polling-only clients,
each from its own loopback address so that the address hash spreads them over the nodes, complete the
handshake and exchange events through the proxy, every request of a client reaching one node; the same
clients fail through a round-robin upstream (no stickiness). WebSocket clients work through the proxy."""
import re
import time
from collections import defaultdict

import pytest
import socketio

from cluster_support import Cluster, Nginx, eventually

ADDRESSES = [f"127.0.0.{n}" for n in range(10, 22)]


@pytest.fixture(scope="module")
def cluster():
    cluster = Cluster(3)
    yield cluster
    cluster.stop()


def upstreams_by_client(nginx: Nginx) -> dict[str, set[str]]:
    result: dict[str, set[str]] = defaultdict(set)
    log = (nginx.dir / "socketio-access.log").read_text()
    for line in log.splitlines():
        match = re.match(r"(\S+) .* upstream=(\S+)", line)
        if match and "/socket.io/" in line:
            result[match.group(1)].add(match.group(2))
    return result


def test_polling_clients_through_sticky_nginx(cluster):
    nginx = Nginx(cluster.nodes, sticky=True)
    try:
        clients = [cluster.client(0, transports=["polling"], url=nginx.url, source_address=address)
                   for address in ADDRESSES]
        # Events both ways: acks, a cluster-wide broadcast, a room across nodes.
        for client in clients:
            assert client.call("echo", "ping") == "ping"
        clients[0].call("emit-all", "hello-polling", 1)
        assert eventually(lambda: all(len(c.received("hello-polling")) == 1 for c in clients), timeout=10)
        ids = clients[3].call("fetch-sockets")
        assert sorted(ids) == sorted(client.sid for client in clients)
        time.sleep(0.5)
        # Stickiness: each client address always reached one node; the clients used all three nodes.
        upstreams = upstreams_by_client(nginx)
        for address in ADDRESSES:
            assert len(upstreams[address]) == 1, (address, upstreams[address])
        used = set().union(*upstreams.values())
        assert len(used) == 3, used
        assert all(len(c.received("hello-polling")) == 1 for c in clients)
    finally:
        cluster.disconnect_clients()
        nginx.stop()
        cluster.assert_alive()


def test_polling_clients_fail_without_stickiness(cluster):
    nginx = Nginx(cluster.nodes, sticky=False)
    try:
        failures = 0
        for address in ADDRESSES[:6]:
            try:
                client = cluster.client(0, transports=["polling"], url=nginx.url, source_address=address,
                                        wait_timeout=2)
                # Even if the handshake landed well, the next requests go to other nodes.
                client.call("echo", "ping", timeout=3)
                client.call("echo", "pong", timeout=3)
            except (socketio.exceptions.ConnectionError, socketio.exceptions.TimeoutError,
                    socketio.exceptions.BadNamespaceError):
                failures += 1
        assert failures == 6, f"only {failures} of 6 polling clients failed through round robin"
    finally:
        cluster.disconnect_clients()
        nginx.stop()
        cluster.assert_alive()


def test_websocket_clients_through_nginx(cluster):
    nginx = Nginx(cluster.nodes, sticky=True)
    try:
        proxied = [cluster.client(0, transports=["websocket"], url=nginx.url) for _ in range(3)]
        direct = [cluster.client(index) for index in range(3)]
        everyone = proxied + direct
        proxied[0].call("emit-all", "ws-hello", "x")
        assert eventually(lambda: all(len(c.received("ws-hello")) == 1 for c in everyone))
        direct[2].call("emit-all", "ws-back")
        assert eventually(lambda: all(len(c.received("ws-back")) == 1 for c in everyone))
        for client in proxied:
            assert client.call("echo", {"a": [1, 2]}) == {"a": [1, 2]}
        # polling first, then upgrade to WebSocket through the proxy (the default client behaviour); both
        # from 127.0.0.1 (websocket-client cannot bind another source address), as a real client would.
        upgraded = cluster.client(0, transports=["polling", "websocket"], url=nginx.url)
        assert eventually(lambda: upgraded.sio.transport() == "websocket")
        assert upgraded.call("echo", "up") == "up"
    finally:
        cluster.disconnect_clients()
        nginx.stop()
        cluster.assert_alive()
