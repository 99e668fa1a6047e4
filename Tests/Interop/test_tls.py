"""TLS (swift-nio-ssl): Socket.IO over HTTPS long-polling and WSS, with a self-signed certificate."""
import asyncio
import ssl
import subprocess

import aiohttp
import pytest
import socketio

from conftest import HOST
from fixture_server import start, stop
from sio_support import MOUNTS


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return str(cert), str(key)


@pytest.mark.parametrize("mount", MOUNTS)
@pytest.mark.parametrize("transports", [["websocket"], ["polling"], ["polling", "websocket"]])
def test_socketio_over_tls(certificate, transports, mount):
    """python-socketio's asyncio client (aiohttp) over HTTPS long-polling and WSS, verifying our
    self-signed certificate: an event with binary comes back through its acknowledgement. On our own
    listener, and mounted on Hummingbird (HummingbirdTLS) and Vapor (its server's tlsConfiguration):
    the certificate is the framework's, Socket.IO rides on it.

    Not its threaded client: that one reads and writes one `ssl.SSLSocket` from two threads at once
    (websocket-client's read loop and write loop), which OpenSSL does not allow; about one run in
    twelve, a write that overlaps the server's first event leaves its reader with a false end of stream
    and the client resets the connection (seen as "Connection reset by peer" on our side, nothing sent
    wrong). The asyncio client reads and writes on one thread.

    A short ping interval: python-engineio's `disconnect()` over long-polling sometimes never sends its
    close packet (its write loop stops once the state leaves "connected", even with the packet queued),
    then waits for its pending GET, which our server ends with the next ping."""
    cert, key = certificate
    proc, port = start("--tls-cert", cert, "--tls-key", key, ping=("2000", "5000"), mount=mount)

    async def round_trip():
        context = ssl.create_default_context(cafile=cert)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as http:
            client = socketio.AsyncClient(reconnection=False, http_session=http)
            await client.connect(f"https://{HOST}:{port}", transports=transports, wait_timeout=5)
            try:
                answer = await client.call("echo", {"over": "tls", "bytes": b"\x00\x01"}, timeout=5)
                assert answer == {"over": "tls", "bytes": b"\x00\x01"}
                assert client.transport() == transports[-1]
            finally:
                await client.disconnect()

    try:
        asyncio.run(round_trip())
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
