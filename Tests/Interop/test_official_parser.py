"""Our server against the Socket.IO project's own packet encoder and decoder (socket.io-parser, from
Debian's node-socket.io-parser), driven over Node's WebSocket client by node/official_parser_client.js:
packets the official encoder builds (binary attachments at any depth, ack ids, namespaces, auth) are
understood by our server, and what our server sends decodes with the official decoder."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import HOST
from fixture_server import start, stop

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "node" / "official_parser_client.js"
PARSER_MODULES = "/usr/share/nodejs"  # where Debian installs node-socket.io-parser

CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK = range(7)


@pytest.fixture(scope="module")
def server():
    assert shutil.which("node"), "nodejs is installed by scripts/setup-peers.sh"
    assert Path(PARSER_MODULES, "socket.io-parser").is_dir(), "node-socket.io-parser is installed by scripts/setup-peers.sh"
    proc, port = start()
    yield f"ws://{HOST}:{port}/socket.io/"
    stop(proc)


def run(url: str, steps: list[dict]) -> list[dict]:
    out = subprocess.run(["node", "--experimental-websocket", "--no-warnings", str(SCRIPT), url, json.dumps(steps)],
                         capture_output=True, text=True, timeout=30, env={"NODE_PATH": PARSER_MODULES, "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def binary(*values: int) -> dict:
    return {"$binary": list(values)}


def test_connect_with_auth(server):
    packets = run(server, [{"send": {"type": CONNECT, "nsp": "/", "data": {"token": "t1", "n": [1, None]}}}, {"expect": 2}])
    assert packets[0]["type"] == CONNECT and packets[0]["nsp"] == "/"
    assert isinstance(packets[0]["data"]["sid"], str) and len(packets[0]["data"]["sid"]) >= 16
    assert packets[1] == {"type": EVENT, "nsp": "/", "data": ["auth", {"token": "t1", "n": [1, None]}]}


def test_event_with_nested_binary_is_acknowledged_with_the_same_binary(server):
    args = ["a", {"k": binary(0, 1, 2), "list": [binary(255), "s", binary()]}, [binary(7)], 1.5, True]
    packets = run(server, [{"send": {"type": CONNECT, "nsp": "/"}}, {"expect": 2},
                           {"send": {"type": EVENT, "nsp": "/", "id": 7, "data": ["echo", *args]}}, {"expect": 3}])
    assert packets[2] == {"type": BINARY_ACK, "nsp": "/", "id": 7, "data": args}


def test_server_emits_binary_and_plain_acks(server):
    packets = run(server, [{"send": {"type": CONNECT, "nsp": "/"}}, {"expect": 2},
                           {"send": {"type": EVENT, "nsp": "/", "data": ["message", binary(9, 8, 7), "x", {"deep": [binary(1)]}]}},
                           {"expect": 3},
                           {"send": {"type": EVENT, "nsp": "/", "id": 8, "data": ["join", "r1"]}}, {"expect": 4},
                           {"send": {"type": EVENT, "nsp": "/", "id": 9, "data": ["echo", "plain", {"u": "ü😀"}]}}, {"expect": 5}])
    assert packets[2] == {"type": BINARY_EVENT, "nsp": "/", "data": ["message-back", binary(9, 8, 7), "x", {"deep": [binary(1)]}]}
    assert packets[3] == {"type": ACK, "nsp": "/", "id": 8, "data": []}
    assert packets[4] == {"type": ACK, "nsp": "/", "id": 9, "data": ["plain", {"u": "ü😀"}]}


def test_server_asks_for_an_ack_and_gets_the_official_clients_binary_answer(server):
    packets = run(server, [{"send": {"type": CONNECT, "nsp": "/"}}, {"expect": 2},
                           {"send": {"type": EVENT, "nsp": "/", "id": 1, "data": ["server-ack", "ping-me", 3000]}},
                           {"expect": 3}, {"reply": ["pong", binary(4, 2)]}, {"expect": 4}])
    asked = packets[2]
    assert asked["type"] == EVENT and asked["data"] == ["ping-me"] and isinstance(asked["id"], int)
    assert packets[3]["type"] == BINARY_ACK and packets[3]["id"] == 1  # the answer carries the binary on
    assert packets[3]["data"] == [{"ok": True, "args": ["pong", binary(4, 2)]}]


def test_namespaces_and_refusals(server):
    packets = run(server, [{"send": {"type": CONNECT, "nsp": "/custom", "data": {"u": "ü"}}}, {"expect": 2},
                           {"send": {"type": CONNECT, "nsp": "/nope"}}, {"expect": 3},
                           {"send": {"type": CONNECT, "nsp": "/admin", "data": {"token": "wrong"}}}, {"expect": 4},
                           {"send": {"type": CONNECT, "nsp": "/admin", "data": {"token": "secret"}}}, {"expect": 6}])
    assert packets[0]["type"] == CONNECT and packets[0]["nsp"] == "/custom"
    assert packets[1] == {"type": EVENT, "nsp": "/custom", "data": ["auth", {"u": "ü"}]}
    assert packets[2] == {"type": CONNECT_ERROR, "nsp": "/nope", "data": {"message": "Invalid namespace"}}
    assert packets[3] == {"type": CONNECT_ERROR, "nsp": "/admin", "data": {"message": "unauthorized", "data": {"reason": "bad token"}}}
    assert packets[4]["type"] == CONNECT and packets[4]["nsp"] == "/admin"
    assert packets[5] == {"type": EVENT, "nsp": "/admin", "data": ["welcome", {"ns": "/admin"}]}


def test_disconnect_from_a_namespace(server):
    packets = run(server, [{"send": {"type": CONNECT, "nsp": "/"}}, {"expect": 2},
                           {"send": {"type": EVENT, "nsp": "/", "id": 1, "data": ["disconnect-room", None]}},
                           {"send": {"type": DISCONNECT, "nsp": "/"}},
                           {"send": {"type": CONNECT, "nsp": "/"}}, {"expect": 4}])
    # the ack of disconnect-room, then a new CONNECT on the same Engine.IO connection after leaving
    assert packets[2] == {"type": ACK, "nsp": "/", "id": 1, "data": []}
    assert packets[3]["type"] == CONNECT and packets[3]["data"]["sid"] != packets[0]["data"]["sid"]
