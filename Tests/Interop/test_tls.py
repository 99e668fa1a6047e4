"""TLS (swift-nio-ssl): Socket.IO over HTTPS long-polling and WSS, with a self-signed certificate."""
import subprocess

import pytest
import socketio

from conftest import HOST
from fixture_server import start, stop


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return str(cert), str(key)


@pytest.mark.parametrize("transports", [["websocket"], ["polling"], ["polling", "websocket"]])
def test_socketio_over_tls(certificate, transports, monkeypatch):
    cert, key = certificate
    # the client verifies the server against our self-signed certificate (requests and ssl read these)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    proc, port = start("--tls-cert", cert, "--tls-key", key)
    try:
        client = socketio.Client(reconnection=False)
        client.connect(f"https://{HOST}:{port}", transports=transports, wait_timeout=5)
        assert client.call("echo", {"over": "tls", "bytes": b"\x00\x01"}, timeout=5) == {"over": "tls", "bytes": b"\x00\x01"}
        client.disconnect()
    finally:
        stop(proc)
