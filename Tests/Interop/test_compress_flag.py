"""permessage-deflate on the Socket.IO server: large emits are compressed (RSV1 set), `compress(false)`
emits are not (checked frame by frame over a raw socket), and a real python-socketio client that
negotiates deflate (the asyncio client, whose aiohttp WebSocket is asked for `compress=15`) reads both
intact."""
import asyncio
import socket
import struct
import zlib

import socketio

from conftest import HOST
from fixture_server import start, stop


def read_frame(sock):
    def exact(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            assert chunk, "connection closed"
            data += chunk
        return data
    b0, b1 = exact(2)
    length = b1 & 0x7F
    if length == 126:
        length = struct.unpack("!H", exact(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", exact(8))[0]
    return bool(b0 & 0x40), b0 & 0x0F, exact(length)


def send_text(sock, text):
    data = text.encode()
    assert len(data) < 126
    sock.sendall(bytes([0x81, 0x80 | len(data), 0, 0, 0, 0]) + data)  # masked with a zero key


def test_compress_flag_decides_rsv1():
    proc, port = start("--per-message-deflate")
    try:
        raw = socket.create_connection((HOST, port))
        raw.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += raw.recv(1)
        assert b"101" in head.split(b"\r\n")[0] and b"permessage-deflate" in head.lower()
        assert read_frame(raw)[2].startswith(b"0{")  # Engine.IO open
        send_text(raw, "40")
        assert read_frame(raw)[2].startswith(b"40{")  # Socket.IO connect
        read_frame(raw)  # the fixture's "auth" event
        inflater = zlib.decompressobj(-15)

        send_text(raw, '42["big",5000,true]')
        compressed, opcode, payload = read_frame(raw)
        assert compressed and opcode == 1
        text = inflater.decompress(payload + b"\x00\x00\xff\xff")
        assert text == b'42["big","' + b"a" * 5000 + b'"]'

        send_text(raw, '42["big",5000,false]')
        compressed, opcode, payload = read_frame(raw)
        assert not compressed and payload == b'42["big","' + b"a" * 5000 + b'"]'
        raw.close()

        # a real client that negotiates deflate reads both kinds
        asyncio.run(asyncio.wait_for(read_both_with_deflate(port), 20))
    finally:
        stop(proc)


async def read_both_with_deflate(port):
    client = socketio.AsyncClient(reconnection=False, websocket_extra_options={"compress": 15})
    got = asyncio.Queue()
    client.on("big", got.put)
    await client.connect(f"http://{HOST}:{port}", transports=["websocket"], wait_timeout=5)
    try:
        assert client.eio.ws.compress == 15, "the client did not negotiate permessage-deflate"
        for size, compress in ((3000, True), (3000, False), (70_000, True)):
            await client.emit("big", (size, compress))
            text = await asyncio.wait_for(got.get(), 5)
            assert text == "a" * size, f"big({size}, compress={compress}): {len(text)} characters, not intact"
    finally:
        await client.disconnect()
