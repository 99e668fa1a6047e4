"""Cross-node delivery latency and throughput of each Redis adapter (not a test: run it by hand, see
docs/benchmarks.md). Two socketio-conformance-server nodes on real redis-server processes, one
python-socketio client on each: the client on node 0 asks for `io.emit(...)` (the fixture's `emit-all`),
the client on node 1 receives it.

- latency: one broadcast at a time (the next once the previous arrived), send to receipt, same clock;
- throughput: `--count` broadcasts sent back to back, from the first send to the last receipt.

    CONFORMANCE_SERVER_BIN=$(swift build -c release --show-bin-path)/socketio-conformance-server \\
        .venv/bin/python Tests/Interop/bench_cluster_adapters.py --samples 500 --count 5000
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import threading
import time
from collections import deque

import socketio

from cluster_support import Node, Redis, wait_port
from conftest import HOST, free_port, swift_bin_dir
from redis_cluster_support import RedisCluster


class AdapterNode(Node):
    def __init__(self, flag: str, redis_url: str):  # noqa: super().__init__ would start a --redis node
        self.port = free_port()
        binary = os.environ.get("CONFORMANCE_SERVER_BIN") or str(swift_bin_dir() / "socketio-conformance-server")
        self.lines: deque[str] = deque(maxlen=2000)
        self.proc = subprocess.Popen(
            [binary, "--host", HOST, "--port", str(self.port), "--quiet", flag, redis_url,
             "--ping-interval", "25000", "--ping-timeout", "20000", "--flow-high-water-mark", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
        threading.Thread(target=self._pump, daemon=True).start()
        wait_port(self.port, proc=self.proc)


class Receiver:
    def __init__(self, url: str):
        self.times: dict[int, float] = {}
        self.arrived = threading.Condition()
        self.sio = socketio.Client(reconnection=False)

        @self.sio.on("m")
        def on_message(n, *_):
            now = time.perf_counter()
            with self.arrived:
                self.times.setdefault(n, now)
                self.arrived.notify_all()

        self.sio.connect(url, transports=["websocket"])

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.times) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.arrived.wait(left)
        return True


def measure(name: str, flag: str, url: str, samples: int, count: int) -> dict:
    nodes = [AdapterNode(flag, url), AdapterNode(flag, url)]
    try:
        sender = socketio.Client(reconnection=False)
        sender.connect(nodes[0].url, transports=["websocket"])
        receiver = Receiver(nodes[1].url)
        time.sleep(0.5)
        # warm-up, and a check that the path works
        sender.emit("emit-all", ("m", -1))
        assert receiver.wait_for(1, 10), f"{name}: nothing crosses"
        latencies = []
        for n in range(samples):
            sent = time.perf_counter()
            sender.emit("emit-all", ("m", n))
            assert receiver.wait_for(n + 2, 10), f"{name}: broadcast {n} lost"
            latencies.append(receiver.times[n] - sent)
        base = samples + 1
        start = time.perf_counter()
        for n in range(count):
            sender.emit("emit-all", ("m", base + n))
        complete = receiver.wait_for(base + count, 60)
        end = max(receiver.times.values())
        received = len(receiver.times) - base
        latencies.sort()
        result = {
            "adapter": name,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
            "throughput": received / (end - start),
            "received": f"{received}/{count}" + ("" if complete else " (incomplete)"),
        }
        sender.disconnect()
        receiver.sio.disconnect()
        return result
    finally:
        for node in nodes:
            node.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    results = []
    redis = Redis()
    try:
        results.append(measure("Pub/Sub (--redis)", "--redis", redis.url, args.samples, args.count))
        results.append(measure("Streams (--redis-streams)", "--redis-streams", redis.url, args.samples, args.count))
    finally:
        redis.stop()
    cluster = RedisCluster(3)
    try:
        results.append(measure("Sharded (--redis-sharded, 3 masters)", "--redis-sharded", cluster.url, args.samples, args.count))
    finally:
        cluster.stop()
    print("| Adapter | p50 | p99 | Throughput (broadcasts/s) | Received |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['adapter']} | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | {r['throughput']:.0f} | {r['received']} |")


if __name__ == "__main__":
    main()
