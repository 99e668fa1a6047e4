"""socketio-chat --metrics serves the server's swift-metrics through swift-prometheus at /metrics."""
import subprocess

import socketio

from cluster_support import eventually, wait_port
from conftest import HOST, free_port, swift_bin_dir
from fixture_server import scrape_metrics as scrape


def test_chat_metrics_endpoint_counts_connections_and_packets():
    port = free_port()
    proc = subprocess.Popen([str(swift_bin_dir() / "socketio-chat"), "--port", str(port), "--metrics", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc=proc)
        client = socketio.Client(reconnection=False)
        welcome = []
        # (recovery is on in the chat: each event carries its offset as a last argument)
        client.on("welcome", lambda data, *offset: welcome.append(data))
        client.connect(f"http://{HOST}:{port}", transports=["websocket"], wait_timeout=5)
        # the chat's welcome is sent after the connection was counted: wait for it, then for the gauge
        assert eventually(lambda: welcome), "no welcome from the chat"
        connected = 'engineio_connections{transport="websocket"}'
        assert eventually(lambda: scrape(port).get(connected) == 1), scrape(port)
        values = scrape(port)
        assert values.get("socketio_sockets") == 1, values
        # in: the Socket.IO CONNECT; out: the open packet, the CONNECT answer, welcome, presence
        assert values.get("engineio_packets_in_total", 0) >= 1 and values.get("engineio_packets_out_total", 0) >= 2, values
        client.disconnect()
        closed = 'engineio_disconnects_total{reason="transport close"}'
        assert eventually(lambda: scrape(port).get(closed) == 1), scrape(port)
        values = scrape(port)
        assert values.get(connected) == 0 and values.get("socketio_sockets") == 0, values
    finally:
        proc.kill()
        proc.wait()
