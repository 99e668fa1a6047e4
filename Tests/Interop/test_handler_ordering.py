"""Events of one socket reach an async handler one at a time, in arrival order (DESIGN: where user code
runs). The fixture's `ordered` handler suspends for a random moment before echoing."""
import threading

import socketio

from conftest import HOST
from fixture_server import start, stop


def test_async_handler_completes_events_in_arrival_order():
    proc, port = start("--quiet")
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
        stop(proc)
