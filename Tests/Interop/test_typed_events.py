"""Issue 16, points 2 and 6: the typed event `typed-echo` (payload {"text": String, "n": Int}, registered with
`socket.on(TypedEcho.self)`) seen from python-socketio. A payload that decodes is acknowledged with
the decoded value re-encoded; one that does not is acknowledged with the documented decode-error reply
{"error": "invalid payload", "event": ..., "message": ...} (never left unanswered), reaches the socket's
error handlers (the fixture emits them as "error" events), and the connection stays up."""
from __future__ import annotations

import pytest

from sio_support import _sio_server_process, sio_clients, sio_server  # noqa: F401

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_typed_echo_acknowledges_the_decoded_value(sio_clients, transport):
    client = sio_clients(transport=transport)
    assert client.call("typed-echo", {"text": "héllo", "n": 3}, timeout=5) == {"text": "héllo", "n": 3}
    # keys the type does not have are dropped by decoding, so the echo shows what was decoded
    assert client.call("typed-echo", {"n": -1, "text": "", "extra": [1]}, timeout=5) == {"text": "", "n": -1}


@pytest.mark.parametrize("payload, message", [
    ({"text": "x", "n": "3"}, "n: expected Int, found a string"),
    ({"text": "x", "n": 1.5}, ""),  # Foundation's wording for a fraction where an Int goes varies
    ({"text": "x"}, "missing key n"),
    ({"n": 1, "text": None}, "text: expected String"),
    ("just a string", "payload: expected "),
    (None, "payload: "),
])
def test_undecodable_payload_gets_the_decode_error_reply(sio_clients, payload, message):
    client = sio_clients()
    answer = client.call("typed-echo", payload, timeout=5)
    assert set(answer) == {"error", "event", "message"}, answer
    assert answer["error"] == "invalid payload"
    assert answer["event"] == "typed-echo"
    assert answer["message"] and answer["message"].startswith(message), answer
    # the socket is still there and still answers
    assert client.call("typed-echo", {"text": "ok", "n": 0}, timeout=5) == {"text": "ok", "n": 0}
    assert client.connected


def test_no_arguments_at_all_is_an_undecodable_payload(sio_clients):
    client = sio_clients()
    answer = client.call("typed-echo", timeout=5)
    assert answer["error"] == "invalid payload" and answer["event"] == "typed-echo"


def test_decode_error_reaches_the_error_handlers(sio_clients):
    client = sio_clients()
    errors = []
    client.on("error", lambda *args: errors.append(args))
    client.call("typed-echo", {"text": 1, "n": 1}, timeout=5)
    # the fixture's onError emits ("error", {"message": ...}) right after the reply: a later round trip on
    # the same socket is the fence, and wait_idle lets every event received before it be handled
    client.call("echo", "fence", timeout=5)
    client.dispatch.wait_idle()
    assert len(errors) == 1, errors
    assert "event typed-echo: payload is not a TypedEcho" in errors[0][0]["message"], errors


def test_handler_answers_a_bad_payload_itself_with_as_result(sio_clients):
    client = sio_clients()
    assert client.call("typed-echo-result", {"text": "a", "n": 2}, timeout=5) == {"text": "a", "n": 2}
    assert client.call("typed-echo-result", {"text": "a"}, timeout=5) == {"rejected": "missing key n"}


def test_server_typed_emit_with_ack_decodes_the_clients_answer(sio_clients):
    def setup(client):
        client.on("typed-echo", lambda payload: {"text": payload["text"].upper(), "n": payload["n"] + 1})
    client = sio_clients(setup=setup)
    assert client.call("typed-ask", timeout=5) == {"ok": True, "answer": {"text": "FROM SERVER", "n": 8}}


def test_server_typed_emit_with_ack_rejects_an_answer_that_does_not_decode(sio_clients):
    def setup(client):
        client.on("typed-echo", lambda payload: {"text": payload["text"]})
    client = sio_clients(setup=setup)
    answer = client.call("typed-ask", timeout=5)
    assert answer["ok"] is False
    assert "event typed-echo: payload is not a TypedEcho: missing key n" in answer["error"], answer


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_several_codable_arguments_both_ways(sio_clients, transport):
    """`socket.on("typed-pair", as: TypedEcho.self, Int.self)` decodes two arguments; the acknowledgement
    `ack.send(encoding: n, TypedEcho(...))` carries two."""
    client = sio_clients(transport=transport)
    assert client.call("typed-pair", ({"text": "lot", "n": 1}, 9), timeout=5) == (9, {"text": "lot", "n": 9})


@pytest.mark.parametrize("args, message", [
    (({"text": "lot", "n": 1}, "nine"), "argument 2: payload: expected Int, found a string"),
    (({"text": "lot", "n": 1},), "argument 2: payload: expected Int, found null or nothing"),
    (({"text": "lot"}, 9), "missing key n"),
])
def test_several_arguments_a_bad_one_gets_the_decode_error_reply(sio_clients, args, message):
    client = sio_clients()
    answer = client.call("typed-pair", args, timeout=5)
    assert answer == {"error": "invalid payload", "event": "typed-pair", "message": message}, answer
    assert client.call("typed-pair", ({"text": "ok", "n": 0}, 1), timeout=5) == (1, {"text": "ok", "n": 1})
