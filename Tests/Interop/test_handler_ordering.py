"""Events of one socket reach an async handler one at a time, in arrival order (DESIGN: where user code
runs). The fixture's `ordered` handler suspends for a random moment before echoing."""
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import socketio

from conftest import HOST, free_port, swift_bin_dir


def start_socketio_fixture():
    port = free_port()
    binary = os.environ.get("CONFORMANCE_SERVER_BIN") or str(swift_bin_dir() / "socketio-conformance-server")
    proc = subprocess.Popen([binary, "--host", HOST, "--port", str(port), "--quiet",
                             "--ping-interval", "25000", "--ping-timeout", "20000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("socketio-conformance-server did not start")


def test_async_handler_completes_events_in_arrival_order():
    proc, port = start_socketio_fixture()
    try:
        count = 300
        for transport in (["websocket"], ["polling"]):
            received = []
            done = threading.Event()
            client = socketio.Client(reconnection=False)

            @client.on("ordered-back")
            def on_back(n):
                received.append(n)
                if len(received) == count:
                    done.set()

            client.connect(f"http://{HOST}:{port}", transports=transport, wait_timeout=5)
            for n in range(count):
                client.emit("ordered", n)
            assert done.wait(30), f"{transport}: got {len(received)} of {count}"
            assert received == list(range(count)), f"{transport}: out of order"
            client.disconnect()
    finally:
        proc.kill()
        proc.wait()
