"""Misbehaving clients get a clear answer or a disconnect, and the other clients keep being served:
oversized headers, stalled requests, a reader too slow for its broadcasts, too many dynamic namespaces."""
import socket
import threading
import time

import pytest
import socketio

from conftest import HOST
from fixture_server import start, stop


def healthy_echo(port):
    client = socketio.Client(reconnection=False)
    client.connect(f"http://{HOST}:{port}", transports=["websocket"], wait_timeout=5)
    try:
        assert client.call("echo", {"still": "served"}, timeout=5) == {"still": "served"}
    finally:
        client.disconnect()


def test_oversized_request_head_gets_431_and_others_are_served():
    proc, port = start()
    try:
        with socket.create_connection((HOST, port)) as raw:
            raw.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
            answer = raw.recv(4096)
            assert answer.startswith(b"HTTP/1.1 431")
        healthy_echo(port)
    finally:
        stop(proc)


def test_stalled_request_is_closed_after_the_idle_timeout():
    proc, port = start("--idle-timeout", "400")
    try:
        with socket.create_connection((HOST, port)) as raw:
            raw.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n")  # never finished
            raw.settimeout(5)
            started = time.monotonic()
            assert raw.recv(100) == b"", "the server closes the stalled connection"
            assert time.monotonic() - started < 4
        healthy_echo(port)
    finally:
        stop(proc)


def test_a_client_that_stops_reading_is_disconnected_and_others_keep_receiving():
    proc, port = start("--max-buffered-bytes", "1000000")
    try:
        # the slow client: a raw WebSocket that joins the main namespace, then never reads again
        slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: a small window
        slow.connect((HOST, port))
        slow.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        time.sleep(0.2)
        slow.sendall(bytes([0x81, 0x82, 0, 0, 0, 0]) + b"40")  # masked text frame "40" (zero mask)
        time.sleep(0.2)

        healthy = socketio.Client(reconnection=False)
        got = []
        arrived = threading.Event()
        payload = "z" * 65536
        rounds = 250  # ~16 MB to each client, far more than kernel buffers + the 1 MB limit

        @healthy.on("flood")
        def on_flood(data):
            got.append(len(data))
            arrived.set()

        healthy.connect(f"http://{HOST}:{port}", transports=["websocket"], wait_timeout=5)
        before = healthy.call("fetch-sockets", timeout=5)
        assert len(before) == 2, "the slow client is connected at first"
        for index in range(rounds):  # paced by the healthy client: only the slow one falls behind
            arrived.clear()
            healthy.emit("emit-all", ("flood", payload))
            assert arrived.wait(10), f"the healthy client got {len(got)} of {index + 1}"
        assert len(got) == rounds
        deadline = time.time() + 10
        while time.time() < deadline:
            after = healthy.call("fetch-sockets", timeout=5)
            if len(after) == 1:
                break
            time.sleep(0.1)
        assert len(after) == 1, "the slow client was disconnected"
        healthy.disconnect()
        slow.close()
    finally:
        log = stop(proc)
    assert "client too slow" in log


def test_dynamic_namespace_limit_refuses_extra_namespaces_only():
    proc, port = start("--max-dynamic-namespaces", "2")
    try:
        client = socketio.Client(reconnection=False)
        client.connect(f"http://{HOST}:{port}", namespaces=["/", "/dyn-a", "/dyn-b"], transports=["websocket"], wait_timeout=5)
        refused = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            refused.connect(f"http://{HOST}:{port}", namespaces=["/dyn-c"], transports=["websocket"], wait_timeout=3)
        assert client.call("echo", 1, timeout=5) == 1
        client.disconnect()
    finally:
        stop(proc)


def test_a_session_id_is_refused_from_another_address_when_bound():
    proc, port = start("--bind-session-to-address")
    try:
        def get(path, source):
            with socket.create_connection((HOST, port), source_address=(source, 0)) as raw:
                raw.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                data = b""
                while chunk := raw.recv(65536):
                    data += chunk
                return data

        answer = get("/socket.io/?EIO=4&transport=polling", "127.0.0.1")
        sid = answer.split(b'"sid":"')[1].split(b'"')[0].decode()
        stolen = get(f"/socket.io/?EIO=4&transport=polling&sid={sid}", "127.0.0.2")
        assert stolen.startswith(b"HTTP/1.1 400") and b'"code":1' in stolen
        own = get(f"/socket.io/?EIO=4&transport=polling&sid={sid}", "127.0.0.1")
        assert own.startswith(b"HTTP/1.1 200"), "the session itself is untouched"
    finally:
        stop(proc)
