"""python-socketio (aiohttp) server for the Swift client's interop tests (test_swift_client_*.py).

    swiftclient_server.py --host 127.0.0.1 --port N

Events: message -> message-back; echo (ack with the arguments); server-ack EVENT (the server emits EVENT
with an ack and acknowledges {"ok":true,"args":[...]}); flaky KEY (the first receipt of KEY is never
acknowledged, as if the ack were lost; later ones are, with [KEY, receipts]; each receipt is reported
with a "flaky-seen" event). /custom and / emit "auth" with the CONNECT auth on connection; /admin
requires auth {"token":"secret"} else CONNECT_ERROR "unauthorized" with data {"reason":"bad token"}.
No handler answers "no-ack", so its acknowledgement never comes.
"""
from __future__ import annotations

import argparse
import asyncio

import socketio
from aiohttp import web


def build() -> web.Application:
    sio = socketio.AsyncServer(async_mode="aiohttp", ping_interval=5, ping_timeout=5,
                               max_http_buffer_size=1_000_000)
    app = web.Application()
    sio.attach(app, socketio_path="socket.io")
    receipts: dict[str, int] = {}

    @sio.on("connect")
    async def connect(sid, environ, auth=None):
        await sio.emit("auth", auth or {}, to=sid)

    @sio.on("connect", namespace="/custom")
    async def connect_custom(sid, environ, auth=None):
        await sio.emit("auth", auth or {}, to=sid, namespace="/custom")

    @sio.on("echo", namespace="/custom")
    async def echo_custom(sid, *args):
        return args

    @sio.on("connect", namespace="/admin")
    async def connect_admin(sid, environ, auth=None):
        if not isinstance(auth, dict) or auth.get("token") != "secret":
            raise socketio.exceptions.ConnectionRefusedError("unauthorized", {"reason": "bad token"})
        await sio.emit("welcome", {"ns": "/admin"}, to=sid, namespace="/admin")

    @sio.on("message")
    async def message(sid, *args):
        await sio.emit("message-back", tuple(args), to=sid)

    @sio.on("echo")
    async def echo(sid, *args):
        return args

    @sio.on("server-ack")
    async def server_ack(sid, event, *args):
        future = asyncio.get_running_loop().create_future()
        await sio.emit(event, tuple(args), to=sid,
                       callback=lambda *a: future.done() or future.set_result(list(a)))
        try:
            return {"ok": True, "args": await asyncio.wait_for(future, 2)}
        except asyncio.TimeoutError:
            return {"ok": False}

    @sio.on("flaky")
    async def flaky(sid, key, *_):
        receipts[key] = receipts.get(key, 0) + 1
        count = receipts[key]
        await sio.emit("flaky-seen", (key, count), to=sid)
        if count == 1:
            await asyncio.sleep(60)  # the acknowledgement is "lost"
            return None
        return key, count

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    ssl_context = None
    if args.tls_cert:
        import ssl
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(args.tls_cert, args.tls_key)
    web.run_app(build(), host=args.host, port=args.port, print=None, ssl_context=ssl_context)


if __name__ == "__main__":
    main()
