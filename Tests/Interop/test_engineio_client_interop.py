"""A. The real peer, python-engineio's asyncio client, against the `--engine` echo server.

In each transport mode the client sends 1000 text and 1000 binary messages (1 byte to 64 KiB,
unicode text, interleaved); the server echoes each; the client checks that every echo comes back
complete, with its type (text stays text, binary stays binary), in the order sent.
In upgrade mode sending starts in the connect handler, i.e. while the upgrade is in progress.

A raw-protocol test then checks the server side of an upgrade under traffic: echoes queued on the
polling transport while the WebSocket is being probed are neither lost nor duplicated.
"""
from __future__ import annotations

import asyncio
import threading
import time

import engineio
import pytest
import requests

from eio_raw import (assert_error, decode_payload, encode_payload, open_polling, poll, post,
                     ws_connect, ws_recv)
from messages import describe_mismatch, mixed_messages

N_TEXT = 1000
N_BINARY = 1000
# python-engineio's client puts every queued packet into one POST, ignoring maxPayload, and queues
# its pongs behind the data already queued; the sender waits for the queue to drain every PACE
# bytes so that no POST exceeds the server's 1 MB limit and no pong waits behind megabytes.
# The server runs with pingTimeout 5 s here (bulk_engine_server), pingInterval 300 ms.
PACE = 200_000
WINDOW = 1_000_000

SEEDS = {"websocket": 4101, "polling": 4102, "upgrade": 4103}  # one per MODES entry

MODES = {
    "polling": (["polling"], "polling"),
    "websocket": (["websocket"], "websocket"),
    "upgrade": (["polling", "websocket"], "websocket"),
}


async def exchange(url: str, transports: list[str], messages: list, start_in_connect: bool,
                   timeout: float = 90.0):
    client = engineio.AsyncClient(request_timeout=10, handle_sigint=False)
    received: list = []
    done = asyncio.Event()
    disconnects: list = []  # filled by on_disconnect
    send_errors: list = []

    def on_message(data):  # plain function: python-engineio runs it in arrival order
        received.append(data)
        if len(received) >= len(messages):
            done.set()

    def on_disconnect(reason=None):
        disconnects.append(reason)
        done.set()

    echoed_bytes = [0]
    for m in messages:
        echoed_bytes.append(echoed_bytes[-1] + len(m))

    async def sender():
        try:
            pending = 0
            sent_bytes = 0
            for m in messages:
                # flow control, as an application would: at most WINDOW bytes sent and not yet
                # echoed (the server disconnects a client whose unsent backlog passes 8 MB, and
                # polling hands python-engineio at most 16 packets per GET)
                while sent_bytes - echoed_bytes[len(received)] > WINDOW:
                    await asyncio.sleep(0.002)
                    if disconnects:
                        return
                sent_bytes += len(m)
                await client.send(m)
                pending += len(m) * 4 // 3 + 2
                if pending >= PACE:
                    try:
                        await asyncio.wait_for(client.queue.join(), 20)
                    except asyncio.TimeoutError:
                        raise RuntimeError("the client's send queue did not drain in 20 s "
                                           "(its write loop gave up?)") from None
                    pending = 0
        except Exception as e:  # noqa: BLE001
            send_errors.append(repr(e))
            done.set()

    tasks: list = []

    def on_connect():
        if start_in_connect:  # still inside connect(): the upgrade has not been attempted yet
            tasks.append(asyncio.get_running_loop().create_task(sender()))

    client.on("message", on_message)
    client.on("disconnect", on_disconnect)
    client.on("connect", on_connect)
    t0 = time.monotonic()
    await client.connect(url, transports=transports, engineio_path="engine.io")
    if not start_in_connect:
        tasks.append(asyncio.get_running_loop().create_task(sender()))
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except asyncio.TimeoutError:
        pass
    elapsed = time.monotonic() - t0
    transport = client.transport()
    connected = client.state == "connected"
    for t in tasks:
        if not t.done():
            t.cancel()
    early_disconnects = list(disconnects)  # those before our own disconnect() below
    if connected:
        await client.disconnect()
    return {"received": received, "disconnects": early_disconnects, "send_errors": send_errors,
            "transport": transport, "elapsed": elapsed}


@pytest.mark.timeout(150)
@pytest.mark.parametrize("mode", list(MODES))
def test_python_engineio_client_echo(bulk_engine_server, mode):
    engine_server = bulk_engine_server
    transports, final_transport = MODES[mode]
    # a fixed seed per mode (hash() of a str changes with every process), printed so that a failure
    # can be replayed with the same messages
    seed = SEEDS[mode]
    print(f"mixed_messages seed for {mode}: {seed}")
    messages = mixed_messages(seed=seed, n_text=N_TEXT, n_binary=N_BINARY)
    result = asyncio.run(exchange(engine_server.base, transports, messages,
                                  start_in_connect=(mode == "upgrade")))
    received = result["received"]
    assert not result["send_errors"], f"sending failed: {result['send_errors']}"
    assert not result["disconnects"], (
        f"disconnected ({result['disconnects']}) after {len(received)} of {len(messages)} "
        f"echoes, {result['elapsed']:.1f}s\n{engine_server.log_tail(15)}")
    assert result["transport"] == final_transport
    if received != messages:  # (no pytest diff of 2000 messages of up to 64 KiB)
        pytest.fail(describe_mismatch(messages, received))
    n_text = sum(isinstance(m, str) for m in received)
    assert (n_text, len(received) - n_text) == (N_TEXT, N_BINARY)


# ------------------------------------------------------------------------------------------
class RawUpgradingClient:
    """Does what engine.io-client does on upgrade, with traffic on both transports:
    polls and posts until the probe is answered, then pauses polling (lets the pending GET end,
    which the server must do with a noop), sends the upgrade packet and goes on over WebSocket."""

    def __init__(self, server):
        self.server = server
        self.get_http, self.post_http = requests.Session(), requests.Session()
        self.sid, _ = open_polling(server, self.get_http)
        self.post_lock = threading.Lock()
        self.via_polling: list = []
        self.errors: list[str] = []
        self.pausing = threading.Event()
        self.poll_packets: list[str] = []
        self.poller = threading.Thread(target=self._poll_loop, daemon=True)
        self.poller.start()

    def post(self, body: str) -> None:
        with self.post_lock:
            r = post(self.server, self.sid, body, self.post_http, timeout=10)
        if r.status_code != 200 or r.text != "ok":
            self.errors.append(f"POST: HTTP {r.status_code} {r.text!r}")

    def _poll_loop(self) -> None:
        while not self.pausing.is_set():
            try:
                r = poll(self.server, self.sid, self.get_http, timeout=10)
            except requests.RequestException as e:
                self.errors.append(f"GET failed: {e!r}")
                return
            if r.status_code != 200:
                self.errors.append(f"GET: HTTP {r.status_code} {r.text!r}")
                return
            for kind, data in decode_payload(r.text):
                self.poll_packets.append(kind)
                if kind == "4":
                    self.via_polling.append(data)
                elif kind == "2":
                    self.post("3")
                elif kind == "1":
                    self.errors.append("server closed the session during the upgrade")
                    return


@pytest.mark.parametrize("round", range(3))
def test_upgrade_under_traffic_loses_and_duplicates_nothing(bulk_engine_server, round):
    engine_server = bulk_engine_server
    messages = mixed_messages(seed=1000 + round, n_text=200, n_binary=200, largest=8192)
    before, during, after = messages[:100], messages[100:300], messages[300:]
    c = RawUpgradingClient(engine_server)
    for i in range(0, len(before), 10):
        c.post(encode_payload(before[i:i + 10]))

    ws = ws_connect(engine_server, sid=c.sid, timeout=5)
    stop_posting = threading.Event()

    def keep_posting():  # the client may go on sending over polling while it probes
        for i in range(0, len(during), 5):
            if stop_posting.is_set():
                return i
            c.post(encode_payload(during[i:i + 5]))
        return len(during)

    posted = {}
    poster = threading.Thread(target=lambda: posted.setdefault("n", keep_posting()), daemon=True)
    poster.start()
    time.sleep(0.01)
    ws.send("2probe")
    via_ws: list = []
    probe_answer = ws_recv(ws)
    while probe_answer == "2":  # a ping may come first; answer it
        ws.send("3")
        probe_answer = ws_recv(ws)
    assert probe_answer == "3probe", f"probe answered with {probe_answer!r}"

    stop_posting.set()
    poster.join(10)
    n_during = posted["n"]
    c.pausing.set()
    c.poller.join(3)
    assert not c.poller.is_alive(), (
        "the pending GET was not ended by the server (a noop is due once the probe is answered)")
    assert not c.errors, c.errors
    ws.send("5")
    rest = during[n_during:] + after
    for m in rest:
        if isinstance(m, bytes):
            ws.send_binary(m)
        else:
            ws.send("4" + m)
    expected = before + during[:n_during] + rest
    deadline = time.monotonic() + 20
    ws.settimeout(2)
    while len(c.via_polling) + len(via_ws) < len(expected) and time.monotonic() < deadline:
        data = ws_recv(ws)
        if data == "2":
            ws.send("3")
        elif isinstance(data, bytes):
            via_ws.append(data)
        elif data.startswith("4"):
            via_ws.append(data[1:])
        elif data != "6":
            raise AssertionError(f"unexpected packet over WebSocket after upgrade: {data[:40]!r}")
    got = c.via_polling + via_ws
    if got != expected:
        pytest.fail(describe_mismatch(expected, got) +
                    f" ({len(c.via_polling)} echoes via polling, {len(via_ws)} via WebSocket)")
    # once upgraded, polling requests for the session are refused (Node: 400 "Bad request")
    assert_error(poll(engine_server, c.sid), 400, 3)
    ws.send("1")
    ws.close()
