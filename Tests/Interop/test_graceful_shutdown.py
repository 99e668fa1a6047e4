"""SIGTERM: the server stops accepting, sends every client a proper close, drains, and exits 0.

Each client sends a burst of messages and the signal follows at once, so the server receives the
signal while it is reading them and writing the answers: every answer it wrote must reach the client
before the close (the ones it answered form an unbroken run from the first), and each client's
disconnect reason must be the server's close, not a transport error."""
import signal
import socket
import threading

import pytest
import socketio

from conftest import HOST
from fixture_server import start
from sio_support import MOUNTS, Dispatch

BURST = 200


@pytest.mark.parametrize("mount", MOUNTS)
def test_sigterm_closes_clients_properly_and_exits_zero(mount):
    """On our own listener, and through each framework's own shutdown (ServiceLifecycle for Hummingbird,
    the application's lifecycle for Vapor)."""
    proc, port = start("--quiet", mount=mount)
    clients = {}
    try:
        for name, transports in (("websocket", ["websocket"]), ("polling", ["polling"])):
            client = socketio.Client(reconnection=False)
            client.dispatch = Dispatch(client)
            client.answers, client.reasons, client.ended = [], [], threading.Event()
            client.on("message-back", lambda n, c=client: c.answers.append(n))

            def on_disconnect(*reason, c=client):
                c.reasons.append(reason)
                c.ended.set()
            client.on("disconnect", on_disconnect)
            client.connect(f"http://{HOST}:{port}", transports=transports, wait_timeout=5)
            assert client.call("echo", "ready", timeout=5) == "ready"
            clients[name] = client

        for client in clients.values():
            for n in range(BURST):
                client.emit("message", n)
        proc.send_signal(signal.SIGTERM)  # while the bursts are on their way

        assert proc.wait(15) == 0, "graceful shutdown exits 0"
        for name, client in clients.items():
            assert client.ended.wait(5), f"{name}: the client never saw its connection end"
            client.dispatch.wait_idle()
            assert client.reasons == [("server disconnect",)], \
                f"{name}: disconnect reason {client.reasons} (a proper close from the server expected)"
            answers = sorted(client.answers)
            assert answers == list(range(len(answers))), \
                f"{name}: answers lost before the close: got {len(answers)} of a run, {answers[:20]}..."
        # nothing listens any more
        with socket.socket() as probe:
            assert probe.connect_ex((HOST, port)) != 0
    finally:
        for client in clients.values():
            try:
                client.disconnect()
            except Exception:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()
