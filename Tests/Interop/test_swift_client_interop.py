"""The Swift client (through socketio-cli) against the real python-socketio server (swiftclient_server.py,
aiohttp) and against ours (socketio-conformance-server): every transport mode, namespaces, auth accepted
and refused (message and data), events and acks both ways, binary both ways, ack timeout, onAny;
reconnection after the server process is killed and restarted (backoff with jitter within bounds, auth
sent again, offline emits delivered once and in order); `retries` redelivering an emit whose ack was lost."""
from __future__ import annotations

import time

import pytest

from swiftclient_support import LiveCLI, Server, run_cli

pytestmark = pytest.mark.timeout(90)

TRANSPORTS = {"polling": "polling", "websocket": "websocket", "upgrade": "polling,websocket"}
SERVERS = ["python", "swift"]


@pytest.fixture(scope="module", params=SERVERS)
def server(request):
    server = Server(request.param)
    yield server
    server.kill()


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_events_acks_binary(server, transport):
    # Client to server with acks, and server to client with an ack our client answers (--reply).
    code, lines, err = run_cli(
        server.url, "--transports", TRANSPORTS[transport],
        "--emit", "echo", '["a", 1, {"k": [true, null]}, {"$binary": "AAEC/w=="}]',
        "--emit", "server-ack", '["ping-me"]',
        "--ack", "--reply", '["pong", {"$binary": "BwgJ"}]', "--count", "0", "--timeout", "15")
    assert code == 0, err
    assert lines[0] == {"ack": "echo", "args": ["a", 1, {"k": [True, None]}, {"$binary": "AAEC/w=="}]}
    assert lines[1]["ack"] == "server-ack"
    assert lines[1]["args"][0]["ok"] is True
    assert lines[1]["args"][0]["args"] == ["pong", {"$binary": "BwgJ"}]
    # Events both ways, binary both ways, a large message.
    large = "x" * 100_000  # one argv string may not exceed 128 KiB
    code, lines, err = run_cli(
        server.url, "--transports", TRANSPORTS[transport],
        "--emit", "message", '["hello", {"$binary": "3q2+7w=="}]',
        "--emit", "message", f'["{large}"]',
        "--listen", "message-back", "--count", "2", "--timeout", "15")
    assert code == 0, err
    assert lines == [{"event": "message-back", "args": ["hello", {"$binary": "3q2+7w=="}]},
                     {"event": "message-back", "args": [large]}]


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_namespaces_and_auth(server, transport):
    # (our fixture's /custom has no echo handler)
    emits = ["--emit", "echo", '["c"]', "--ack"] if server.kind == "python" else []
    code, lines, err = run_cli(server.url, "--namespace", "/custom", "--transports", TRANSPORTS[transport],
                               "--auth", '{"user": "ü"}', *emits, "--listen", "auth", "--count", "1")
    assert code == 0, err
    assert {"event": "auth", "args": [{"user": "ü"}]} in lines
    if emits:
        assert {"ack": "echo", "args": ["c"]} in lines

    code, lines, err = run_cli(server.url + "/admin", "--transports", TRANSPORTS[transport],
                               "--auth", '{"token": "secret"}', "--listen", "welcome", "--count", "1")
    assert code == 0, err
    assert lines == [{"event": "welcome", "args": [{"ns": "/admin"}]}]

    code, lines, err = run_cli(server.url, "--namespace", "/admin", "--transports", TRANSPORTS[transport],
                               "--auth", '{"token": "wrong"}', "--count", "1")
    assert code == 1
    # socketio-cli connects with `try await socket.connect()`, which throws the server's message and data
    assert 'connect_error: unauthorized {"reason":"bad token"} (thrown by connect())' in err


def test_ack_timeout_and_on_any(server):
    started = time.time()
    code, lines, err = run_cli(server.url, "--transports", "websocket", "--emit", "no-ack", "[]", "--ack",
                               "--ack-timeout", "300", "--timeout", "5")
    assert code == 1
    assert "no acknowledgement for no-ack" in err and "timed out" in err
    assert time.time() - started < 10
    # Without --listen every event is printed (onAny): the auth event and the echo of "message".
    code, lines, err = run_cli(server.url, "--emit", "message", '["any"]', "--count", "2")
    assert code == 0, err
    assert {"event": "message-back", "args": ["any"]} in lines
    assert any(line.get("event") == "auth" for line in lines)


def test_transport_error_is_reported():
    code, _, err = run_cli("http://127.0.0.1:1", "--timeout", "3")
    assert code == 1
    assert "connect_error" in err


def backoff_bounds(attempt: int, minimum: int, maximum: int, jitter: float) -> tuple[int, int]:
    base = minimum * 2 ** (attempt - 1)
    return int(min(maximum, base * (1 - jitter))), int(min(maximum, base * (1 + jitter)) + 1)


@pytest.mark.parametrize("kind", SERVERS)
@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_reconnection_after_server_restart(kind, transport):
    server = Server(kind)
    cli = LiveCLI(server.url, "--transports", transport, "--reconnect", "--verbose",
                  "--auth", '{"token": "t1"}', "--reconnection-delay", "200", "--reconnection-delay-max", "800",
                  "--randomization-factor", "0.5", "--listen", "auth", "--listen", "message-back", "--timeout", "60")
    try:
        assert cli.next_event() == {"event": "auth", "args": [{"token": "t1"}]}
        server.kill()
        cli.wait_stderr(lambda v: v.get("manager") == "close")
        for index in range(5):
            cli.send(f'message [{index}, "offline"]')
        # Let a few attempts fail before the server comes back.
        cli.wait_stderr(lambda v: v.get("manager") == "reconnect_error", timeout=20)
        time.sleep(0.5)
        server.start()
        cli.wait_stderr(lambda v: v.get("manager") == "reconnect", timeout=20)
        # Auth is sent again with the new CONNECT.
        assert cli.next_event() == {"event": "auth", "args": [{"token": "t1"}]}
        backs = [cli.next_event() for _ in range(5)]
        assert backs == [{"event": "message-back", "args": [i, "offline"]} for i in range(5)]
        time.sleep(0.5)
        assert cli.stdout.empty(), "an offline emit arrived twice"
        scheduled = [json_line for json_line in map(_json, cli.stderr_lines)
                     if json_line and json_line.get("manager") == "reconnect_scheduled"]
        assert len(scheduled) >= 2
        for entry in scheduled:
            low, high = backoff_bounds(entry["attempt"], 200, 800, 0.5)
            assert low <= entry["delay"] <= high, entry
    finally:
        cli.close()
        server.kill()


def _json(line: str):
    import json
    try:
        return json.loads(line)
    except ValueError:
        return None


def test_retries_redeliver_an_emit_whose_ack_was_lost():
    server = Server("python")
    try:
        code, lines, err = run_cli(server.url, "--transports", "websocket", "--retries", "3",
                                   "--ack-timeout", "500", "--emit", "flaky", '["k1"]', "--ack",
                                   "--listen", "flaky-seen", "--count", "2", "--timeout", "10")
        assert code == 0, err
        assert {"event": "flaky-seen", "args": ["k1", 1]} in lines
        assert {"event": "flaky-seen", "args": ["k1", 2]} in lines
        assert {"ack": "flaky", "args": ["k1", 2]} in lines
    finally:
        server.kill()
