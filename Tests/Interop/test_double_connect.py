"""The official client's double CONNECT: `manager.socket("/ns")` connects by itself, and an application that
then calls `socket.connect()` makes the client send a second CONNECT for the same namespace before the
first is answered. Node.js serves both (a second socket, a second answer); ours answers the first and
ignores the second, so the client has one socket and one answer, and the connection (with its other
namespaces) stays up. Both packets are sent back to back, as the client does, over each transport."""
import json

import pytest

from fixture_server import start, stop
from sio_raw import TRANSPORTS, RawSocketIO


@pytest.fixture(scope="module")
def server():
    proc, port = start()
    yield port
    stop(proc)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("namespace", ["/", "/custom"])
def test_a_second_connect_for_a_namespace_is_answered_once_and_breaks_nothing(server, transport, namespace):
    client = RawSocketIO(server, transport)
    if namespace != "/":
        client.connect()  # the main namespace first: it must survive the other's double CONNECT
        assert client.next_event()[0] == "auth"
    prefix = "" if namespace == "/" else namespace + ","
    client.send("0" + prefix + '{"n":1}')
    client.send("0" + prefix + '{"n":2}')
    answer = client.next_packet()
    assert answer.startswith("0" + prefix + '{"sid":'), answer
    welcome = client.next_packet()
    assert welcome == "2" + prefix + '["auth",{"n":1}]', "one socket, made by the first CONNECT"
    # the connection still works on every namespace, and nothing else came (no second answer, no error)
    [sids] = client.call("fetch-sockets", ack_id=1)
    assert client.early == [], client.early
    if namespace == "/":
        assert sids == [json.loads(answer[1:])["sid"]], "exactly one socket in the namespace"
    client.send('2["message","still here"]')
    assert client.next_event() == ["message-back", "still here"]
    assert not client.closed.is_set()
    client.close()
