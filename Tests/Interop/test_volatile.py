"""Volatile packets (docs/reliability.md): dropped for a client whose connection cannot take them now,
and counted in `socketio_volatile_dropped_total`; the non-volatile packets sent meanwhile still arrive,
all of them, in order, once the client reads again. (A client that stays stuck past the server's
bound is cut instead: test_hostile_clients.py, test_flow_control.py.)

Client A speaks Socket.IO by hand over a WebSocket with a small receive buffer, joins room "v", and
stops reading. Client B (python-socketio) makes the fixture send large non-volatile events to "v" until
A's connection is congested (the metric moves for a volatile probe, sent to everyone: B, which reads,
gets each), then volatile events to everyone and non-volatile ones to "v" alternately. Then A reads
everything."""
import json
import socket

import socketio
import websocket

from conftest import HOST
from fixture_server import scrape_metrics, start, stop

DROPPED = "socketio_volatile_dropped_total"
BIG = 65536
ROOM = "v"


def dropped(port: int) -> float:
    return scrape_metrics(port).get(DROPPED, 0)


def test_volatile_packets_are_dropped_for_a_congested_client_and_counted():
    # flow control off: with it, B would be read no further while A is congested, and A cut once it
    # stalls (test_flow_control.py); here the volatile path alone
    proc, port = start("--metrics", "--quiet", "--flow-high-water-mark", "0")
    a = b = None
    try:
        a = websocket.create_connection(f"ws://{HOST}:{port}/socket.io/?EIO=4&transport=websocket", timeout=30,
                                        sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
        assert a.recv().startswith("0{")
        a.send("40")
        sid = json.loads(a.recv()[2:])["sid"]
        assert a.recv() == '42["auth",{}]'
        a.send(f'420["join","{ROOM}"]')
        assert a.recv() == "430[]"
        # from here A does not read until the end

        b = socketio.Client(reconnection=False)
        b.connect(f"http://{HOST}:{port}", transports=["websocket"], wait_timeout=5)
        before = dropped(port)
        fills = probes = 0
        while True:
            assert fills < 200, "A's connection never became congested"
            b.call("big-to", (ROOM, BIG, 4), timeout=10)
            fills += 1
            b.call("emit-volatile", ("probe", probes), timeout=10)
            probes += 1
            if dropped(port) > before:
                break
        b.call("big-to", (ROOM, BIG, 4), timeout=10)  # deeper into congestion (far below the 8 MiB bound)
        fills += 1
        congested = dropped(port)
        probes_dropped = congested - before
        print(f"congested after {fills - 1} fills of 4 x {BIG} bytes; {probes_dropped:.0f} of {probes} probes dropped")

        # meanwhile: volatile and non-volatile alternately, A still not reading
        for n in range(20):
            b.call("emit-volatile", ("vol", n), timeout=10)
            b.call("emit-to", (ROOM, "keep", n), timeout=10)
        assert dropped(port) == congested + 20, "every volatile packet for the congested client is counted"

        # A reads again: every non-volatile event, in order, and none of the volatile ones sent meanwhile
        events = []
        while events[-1:] != [("keep", 19)]:
            frame = a.recv()
            if frame == "2":
                a.send("3")
                continue
            assert frame.startswith("42["), frame[:80]
            name, *args = json.loads(frame[2:])
            if name == "big":
                assert args == ["a" * BIG], "a large event arrived damaged"
                events.append(("big", None))
            else:
                events.append((name, args[0]))
        names = [name for name, _ in events]
        assert "vol" not in names, f"a volatile packet sent while A was congested arrived: {events}"
        assert names.count("big") == 4 * fills, "every non-volatile event arrived"
        assert [n for name, n in events if name == "keep"] == list(range(20))
        received_probes = [n for name, n in events if name == "probe"]
        assert received_probes == list(range(len(received_probes))), received_probes
        assert len(received_probes) + probes_dropped == probes, \
            f"{probes} probes: {len(received_probes)} arrived, {probes_dropped} counted as dropped"
        assert probes_dropped >= 1

        # and A is still connected
        a.send('421["echo","alive"]')
        assert a.recv() == '431["alive"]'
        assert sid in b.call("fetch-sockets", timeout=10)
    finally:
        if a is not None:
            a.close()
        if b is not None:
            b.disconnect()
        stop(proc)
