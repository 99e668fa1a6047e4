"""Redis goes away in the middle of a run and comes back (docs/scaling-out.md, "When Redis goes away").
Three nodes share a password-protected redis-server; two python-socketio clients per node. Counted:

- before the outage: an io.emit reaches all six clients once;
- during it: N emits from node 0 and N from node 1 reach exactly their own node's two clients, all N
  of them; a burst of large emits from node 2 does not grow node 2's memory by what it would take to
  queue them (sampled as it goes); fetchSockets answers with the asking node's own sockets; the nodes
  log the loss once per connection and then only on power-of-two attempts, and they attempt no more
  often than the 100 ms-doubling backoff allows;
- after Redis is back (same port, same password: the nodes must authenticate again): cross-node
  delivery resumes from every node, nothing sent during the outage is replayed, and an io.emit reaches
  all six once more.
"""
import re
import socket
import time
import uuid

from cluster_support import Cluster, eventually, fence

N = 50  # emits per node during the outage
BURST = 400  # large emits during the outage from node 2
BURST_SIZE = 64 * 1024  # 25 MiB in all: what queueing them for the other nodes would cost at least
MEMORY_SLACK = 12 * 1024 * 1024
LOST = "Redis connection lost; reconnecting"
CANNOT = "cannot connect to Redis; retrying with backoff"


def deliveries(clients, event):
    return [len(client.received(event)) for client in clients]


def values(client, event):
    return sorted(args[0] for args in client.received(event))


def most_attempts(duration: float) -> int:
    """The most connection attempts one Redis connection can make in `duration` seconds with the
    documented backoff (the delay before attempt k+1 is 100 ms * 2^k, capped at 5 s, jitter down to
    80 %): a loaded machine makes fewer, never more."""
    attempts, elapsed, failures = 1, 0.0, 1
    while True:
        elapsed += 0.8 * min(0.1 * 2 ** failures, 5.0)
        if elapsed > duration:
            return attempts
        attempts += 1
        failures += 1


def requires_password(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"PING\r\n")
        return raw.recv(100).startswith(b"-NOAUTH")


def test_redis_outage_local_delivery_goes_on_nothing_is_queued_and_the_cluster_resumes():
    cluster = Cluster(3, redis_password="pw-" + uuid.uuid4().hex[:12])
    try:
        assert requires_password(cluster.redis.port), "the Redis of this test must require AUTH"
        clients = [cluster.client(index // 2) for index in range(6)]
        by_node = [clients[0:2], clients[2:4], clients[4:6]]
        everyone = sorted(client.sid for client in clients)

        clients[0].call("emit-all", "before", 0)
        fence(clients[0], clients)
        assert deliveries(clients, "before") == [1] * 6

        # ---- the outage
        cluster.redis.stop()
        outage_started = time.monotonic()
        assert eventually(lambda: all(sum(LOST in line for line in node.log()) >= 2 for node in cluster.nodes),
                          timeout=10), "every node notices that Redis went away (on both its connections)"

        for n in range(N):
            clients[0].call("emit-all", "during-0", n)
            clients[2].call("emit-all", "during-1", n)
        for sender, own in ((clients[0], by_node[0]), (clients[2], by_node[1])):
            fence(sender, own)  # local delivery: in order, complete
        for client in by_node[0]:
            assert values(client, "during-0") == list(range(N))
        for client in by_node[1]:
            assert values(client, "during-1") == list(range(N))

        # cluster queries answer with the asking node's part
        for node, own in enumerate(by_node):
            assert sorted(own[1].call("fetch-sockets", timeout=15)) == sorted(c.sid for c in own), node

        # many large broadcasts while Redis is away: dropped for the other nodes, not queued
        node2 = cluster.nodes[2]
        blob = "x" * BURST_SIZE
        samples = [node2.rss_bytes()]
        for n in range(BURST):
            clients[4].call("emit-all", "burst", n, blob)
            if n % 50 == 49:
                samples.append(node2.rss_bytes())
        fence(clients[4], by_node[2])
        for client in by_node[2]:
            assert values(client, "burst") == list(range(BURST))
        growth = max(samples) - samples[0]
        print(f"node 2 memory during the burst: {[round(s / 2**20, 1) for s in samples]} MiB")
        assert growth < MEMORY_SLACK, (
            f"node 2 grew by {growth / 2**20:.1f} MiB during {BURST} emits of {BURST_SIZE // 1024} KiB "
            f"(samples {[s // 2**20 for s in samples]} MiB): are they queued?")
        cluster.assert_alive()

        # ---- Redis is back: same port, same password
        outage = time.monotonic() - outage_started
        cluster.redis.start()
        for sender in (clients[0], clients[2], clients[4]):
            others = [client for client in clients if cluster_node(client, by_node) != cluster_node(sender, by_node)]

            def resumed(sender=sender, others=others):
                sender.call("emit-all", "probe", sender.sid)
                return all([sender.sid] in client.received("probe") for client in others)
            # reconnection attempts are at most 5 s apart (+ re-authentication and re-subscription)
            assert eventually(resumed, timeout=30, interval=0.2), f"no cross-node delivery from {sender.sid}"

        clients[0].call("emit-all", "after", 1)
        clients[2].call("emit-all", "after", 2)
        clients[4].call("emit-all", "after", 3)
        for sender in (clients[0], clients[2], clients[4]):
            fence(sender, clients)
        # after every fence: nothing of the outage replayed anywhere, the rest exactly once
        for node, own in enumerate(by_node):
            for client in own:
                assert values(client, "after") == [1, 2, 3]
                assert len(client.received("during-0")) == (N if node == 0 else 0), node
                assert len(client.received("during-1")) == (N if node == 1 else 0), node
                assert len(client.received("burst")) == (BURST if node == 2 else 0), node
        assert sorted(clients[0].call("fetch-sockets", timeout=15)) == everyone
        cluster.assert_alive()

        # the logs: the loss once per Redis connection (one publishes, one subscribes), the failed
        # attempts only on powers of two, and never more attempts than the backoff allows
        for index, node in enumerate(cluster.nodes):
            log = node.log()
            assert sum(LOST in line for line in log) == 2, f"node {index}:\n" + "\n".join(log)
            attempts = [int(m.group(1)) for line in log if CANNOT in line
                        for m in [re.search(r"redis\.attempt=(\d+)", line)] if m]
            print(f"node {index}: failed attempts logged {attempts} in a {outage:.1f} s outage")
            assert attempts and 1 in attempts, f"node {index} never logged a failed attempt:\n" + "\n".join(log)
            assert all(a & (a - 1) == 0 for a in attempts), f"node {index} logged attempts {attempts}"
            assert all(attempts.count(a) <= 2 for a in attempts), f"node {index} logged attempts {attempts}"
            assert max(attempts) <= most_attempts(outage + 2), (
                f"node {index}: attempt {max(attempts)} in a {outage:.1f} s outage: faster than the backoff")
    finally:
        cluster.stop()


def cluster_node(client, by_node) -> int:
    return next(index for index, own in enumerate(by_node) if client in own)
