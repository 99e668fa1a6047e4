"""socketio-chat --metrics serves the server's swift-metrics through swift-prometheus at /metrics."""
import socket
import subprocess
import time
import urllib.request

import socketio

from conftest import HOST, free_port, swift_bin_dir


def test_chat_metrics_endpoint_counts_connections_and_packets():
    port = free_port()
    proc = subprocess.Popen([str(swift_bin_dir() / "socketio-chat"), "--port", str(port), "--metrics", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection((HOST, port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        client = socketio.Client(reconnection=False)
        client.connect(f"http://{HOST}:{port}", transports=["websocket"], wait_timeout=5)
        time.sleep(0.3)
        text = urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=5).read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        assert values.get('engineio_connections{transport="websocket"}') == 1, text
        assert values.get("socketio_sockets") == 1, text
        assert values.get("engineio_packets_in_total", 0) >= 1 and values.get("engineio_packets_out_total", 0) >= 2
        client.disconnect()
        time.sleep(0.3)
        text = urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=5).read().decode()
        assert 'engineio_connections{transport="websocket"} 0' in text
        assert 'engineio_disconnects_total{reason="transport close"} 1' in text
    finally:
        proc.kill()
        proc.wait()
