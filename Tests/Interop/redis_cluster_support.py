"""A real Redis Cluster for the sharded adapter's interop tests: three masters (redis-server
--cluster-enabled yes, joined by redis-cli --cluster create) on free 127.0.0.1 ports whose cluster bus
ports (port + 10000) are free too, in a temp dir; stop() kills them. Nodes of socketio-conformance-server
joined with --redis-sharded. A missing redis-server is an error (scripts/setup-peers.sh installs it)."""
from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import deque

from cluster_support import Node, find_binary, wait_port
from conftest import HOST, swift_bin_dir


def crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key: str) -> int:
    data = key.encode()
    start = data.find(b"{")
    if start >= 0:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1:end]
    return crc16(data) % 16384


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
            return True
        except OSError:
            return False


class RedisCluster:
    def __init__(self, masters: int = 3):
        self.server = find_binary("redis-server")
        self.cli = find_binary("redis-cli")
        self.dir = tempfile.mkdtemp(prefix="redis-cluster-")
        self.procs: list[subprocess.Popen] = []
        self.ports: list[int] = []
        for _ in range(500):
            if len(self.ports) == masters:
                break
            # below Linux's ephemeral ports (32768+) with the bus port (+10000) too
            port = random.randrange(12000, 22700)
            if port not in self.ports and _free(port) and _free(port + 10000):
                self.ports.append(port)
        try:
            self._start()
        except Exception:
            self.stop()
            raise

    def _start(self) -> None:
        for port in self.ports:
            folder = os.path.join(self.dir, str(port))
            os.makedirs(folder)
            self.procs.append(subprocess.Popen(
                [self.server, "--port", str(port), "--bind", HOST, "--cluster-enabled", "yes",
                 "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
                 "--appendonly", "no", "--save", ""],
                cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        for port, proc in zip(self.ports, self.procs):
            wait_port(port, proc=proc)
        out = subprocess.run([self.cli, "--cluster", "create", *[f"{HOST}:{p}" for p in self.ports], "--cluster-yes"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        deadline = time.monotonic() + 30
        for port in self.ports:
            while "cluster_state:ok" not in self.cmd(port, "CLUSTER", "INFO"):
                assert time.monotonic() < deadline, "the cluster did not become healthy"
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.ports[0]}"

    def cmd(self, port: int, *args: str) -> str:
        out = subprocess.run([self.cli, "-h", HOST, "-p", str(port), *args], capture_output=True, text=True, timeout=10)
        return out.stdout.strip()

    def node_id(self, port: int) -> str:
        return self.cmd(port, "CLUSTER", "MYID")

    def owner(self, slot: int) -> int:
        """The port of the master serving `slot`, from CLUSTER SLOTS on the first node."""
        lines = self.cmd(self.ports[0], "CLUSTER", "SLOTS").splitlines()
        # redis-cli prints each range as: start, end, host, port, id (then replicas)
        for index in range(0, len(lines) - 4):
            if lines[index].isdigit() and lines[index + 1].isdigit() and lines[index + 2] == HOST:
                if int(lines[index]) <= slot <= int(lines[index + 1]):
                    return int(lines[index + 3])
        raise AssertionError(f"no owner for slot {slot}")

    def shard_subscribers(self, channel: str) -> int:
        port = self.owner(key_slot(channel))
        return int(self.cmd(port, "PUBSUB", "SHARDNUMSUB", channel).splitlines()[1])

    def migrate(self, slot: int, source: int, target: int) -> None:
        """The CLUSTER SETSLOT sequence of a resharding, for an empty slot."""
        source_id, target_id = self.node_id(source), self.node_id(target)
        assert self.cmd(target, "CLUSTER", "SETSLOT", str(slot), "IMPORTING", source_id) == "OK"
        assert self.cmd(source, "CLUSTER", "SETSLOT", str(slot), "MIGRATING", target_id) == "OK"
        assert self.cmd(target, "CLUSTER", "SETSLOT", str(slot), "NODE", target_id) == "OK"
        assert self.cmd(source, "CLUSTER", "SETSLOT", str(slot), "NODE", target_id) == "OK"
        for port in self.ports:
            if port not in (source, target):
                self.cmd(port, "CLUSTER", "SETSLOT", str(slot), "NODE", target_id)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
        self.procs = []
        shutil.rmtree(self.dir, ignore_errors=True)


class ShardedNode(Node):
    """A socketio-conformance-server joined to the cluster with --redis-sharded (any one node's URL)."""

    def __init__(self, redis_url: str, extra_args: tuple = ()):  # noqa: super().__init__ would start a --redis node
        from conftest import free_port
        self.port = free_port()
        binary = os.environ.get("CONFORMANCE_SERVER_BIN") or str(swift_bin_dir() / "socketio-conformance-server")
        self.lines: deque[str] = deque(maxlen=200)
        self.proc = subprocess.Popen(
            [binary, "--host", HOST, "--port", str(self.port), "--quiet", "--redis-sharded", redis_url,
             "--ping-interval", "25000", "--ping-timeout", "20000", *extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
        threading.Thread(target=self._pump, daemon=True).start()
        wait_port(self.port, proc=self.proc)
