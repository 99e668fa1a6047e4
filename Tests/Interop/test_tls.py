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


@pytest.mark.parametrize("kind", ["python", "swift"])
@pytest.mark.parametrize("transports", ["websocket", "polling", "polling,websocket"])
def test_swift_client_over_tls_verifies_the_server(certificate, kind, transports):
    """Our client (socketio-cli) over HTTPS/WSS to the python-socketio server (aiohttp with an ssl context)
    and to ours, trusting only the self-signed certificate: events with acks and binary arrive; without
    that trust the certificate is refused."""
    from swiftclient_support import Server, run_cli

    cert, key = certificate
    server = Server(kind, tls=(cert, key))
    try:
        code, lines, err = run_cli(server.url, "--transports", transports, "--ca-file", cert,
                                   "--emit", "echo", '["over tls", {"$binary": "AAH/"}]', "--ack",
                                   "--count", "0", "--timeout", "15")
        assert code == 0, err
        assert lines == [{"ack": "echo", "args": ["over tls", {"$binary": "AAH/"}]}]
        # The system's roots do not include our certificate: the handshake fails, clearly.
        code, _, err = run_cli(server.url, "--transports", transports, "--count", "0", "--timeout", "5")
        assert code == 1
        assert "connect_error" in err and "CERTIFICATE_VERIFY_FAILED" in err, err
    finally:
        server.kill()
