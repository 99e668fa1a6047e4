"""The python-socketio server the benchmarks compare against: aiohttp mode (its fastest setup), the same
events as socketio-conformance-server's fixture (bench-broadcast, echo, join, emit-to)."""
import argparse

import socketio
from aiohttp import web

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=3300)
args = parser.parse_args()

sio = socketio.AsyncServer(async_mode="aiohttp", ping_interval=25, ping_timeout=20, cors_allowed_origins="*")
app = web.Application()
sio.attach(app)


@sio.on("bench-broadcast")
async def bench_broadcast(sid, payload):
    await sio.emit("bench", payload)


@sio.on("echo")
async def echo(sid, *args):
    return args


@sio.on("join")
async def join(sid, room):
    await sio.enter_room(sid, room)


@sio.on("emit-to")
async def emit_to(sid, room, event, *rest):
    await sio.emit(event, rest[0] if len(rest) == 1 else list(rest), room=room)


if __name__ == "__main__":
    print(f"listening on {args.host}:{args.port}", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
