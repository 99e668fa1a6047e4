"""Issue 5, acceptance 3: Redis is stopped and restarted in the middle of a test. Local delivery goes on
during the outage, cross-node delivery resumes after it, and no node crashes."""
import time

from cluster_support import Cluster, eventually


def deliveries(clients, event):
    return [len(client.received(event)) for client in clients]


def test_redis_restart_keeps_local_delivery_and_resumes_cross_node():
    cluster = Cluster(3)
    try:
        clients = [cluster.client(index // 2) for index in range(6)]
        clients[0].call("emit-all", "before")
        assert eventually(lambda: deliveries(clients, "before") == [1] * 6)

        cluster.redis.stop()
        time.sleep(0.5)
        # During the outage: each node still serves its own clients (and acks answer).
        clients[0].call("emit-all", "during")
        clients[2].call("emit-all", "during")
        assert eventually(lambda: deliveries(clients, "during")[:4] == [1, 1, 1, 1])
        time.sleep(0.3)
        assert deliveries(clients, "during") == [1, 1, 1, 1, 0, 0]
        assert clients[4].call("echo", "alive") == "alive"
        assert clients[1].call("fetch-sockets") is not None  # answers from this node without Redis
        # Many broadcasts while Redis is away: dropped for other nodes, not queued without bound.
        for n in range(200):
            clients[3].call("emit-to", clients[3].sid, "burst", n) if n % 50 == 0 else None
        cluster.assert_alive()

        cluster.redis.start()
        # The nodes reconnect with backoff (at most 5 s between attempts) and resubscribe.
        def resumed():
            clients[0].call("emit-all", "after")
            time.sleep(0.3)
            return all(len(client.received("after")) >= 1 for client in clients)
        assert eventually(resumed, timeout=20, interval=0.2), deliveries(clients, "after")
        count = len(clients[5].received("after"))
        clients[4].call("emit-all", "final")
        assert eventually(lambda: deliveries(clients, "final") == [1] * 6)
        assert sorted(clients[0].call("fetch-sockets")) == sorted(client.sid for client in clients)
        assert count >= 1
        cluster.assert_alive()
    finally:
        cluster.stop()
