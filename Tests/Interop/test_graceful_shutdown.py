"""SIGTERM: the server stops accepting, sends every client a proper close, drains, and exits 0."""
import signal
import socket
import subprocess
import threading
import time

import socketio

from conftest import HOST
from fixture_server import start


def test_sigterm_closes_clients_properly_and_exits_zero():
    proc, port = start("--quiet")
    clients = []
    disconnected = {}
    try:
        for transport in (["websocket"], ["polling"]):
            client = socketio.Client(reconnection=False)
            name = transport[0]
            event = threading.Event()

            @client.on("disconnect")
            def on_disconnect(*reason, name=name, event=event):
                disconnected[name] = reason
                event.set()

            client.connect(f"http://{HOST}:{port}", transports=transport, wait_timeout=5)
            clients.append((client, event))
        # a message in flight right before the signal is still delivered
        got = threading.Event()
        clients[0][0].on("message-back", lambda *args: got.set())
        clients[0][0].emit("message", "last words")
        assert got.wait(5)

        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0, "graceful shutdown exits 0"
        elapsed = time.monotonic() - started
        for client, event in clients:
            assert event.wait(5), "every client sees its connection end"
        assert set(disconnected) == {"websocket", "polling"}
        # nothing listens any more
        with socket.socket() as probe:
            assert probe.connect_ex((HOST, port)) != 0
        assert elapsed < 12
    finally:
        for client, _ in clients:
            try:
                client.disconnect()
            except Exception:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()
