"""Events of one socket reach an async handler one at a time, in arrival order (DESIGN: where user code
runs), and their answers leave in that order. The fixture's `ordered` handler suspends for a random moment
before echoing. The asyncio client is used: it runs received events in order (python-engineio's sync client
runs each in its own thread, which can reorder them on the client side)."""
import asyncio

import socketio

from conftest import HOST
from fixture_server import start, stop


async def exchange(port, transports, count):
    received = []
    done = asyncio.Event()
    client = socketio.AsyncClient(reconnection=False)

    @client.on("ordered-back")
    def on_back(n):
        received.append(n)
        if len(received) == count:
            done.set()

    await client.connect(f"http://{HOST}:{port}", transports=transports, wait_timeout=5)
    for n in range(count):
        await client.emit("ordered", n)
    await asyncio.wait_for(done.wait(), 30)
    await client.disconnect()
    return received


def test_async_handler_completes_events_in_arrival_order():
    proc, port = start("--quiet")
    try:
        for transports in (["websocket"], ["polling"]):
            received = asyncio.run(exchange(port, transports, 300))
            assert received == list(range(300)), f"{transports}: out of order"
    finally:
        stop(proc)
