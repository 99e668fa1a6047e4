"""Helpers of the connection state recovery tests of our clients (test_recovery_*.py, test_chat_page.py):
an observer straight to the server that emits to the clients under test, and the offsets check."""
from __future__ import annotations

import itertools

import pytest

from fixture_server import start, stop
from sio_raw import RawSocketIO
from test_connection_state_recovery import wait_gone

TRANSPORT_NAMES = ["polling", "websocket", "upgrade"]


def recovery_server(window_ms: int):
    """Starts the fixture with connection state recovery on; returns (process, port). A short heartbeat:
    a cut between two long-polling requests is noticed at the ping timeout."""
    return start("--connection-state-recovery", str(window_ms), ping=("1000", "2000"))


@pytest.fixture(scope="module")
def server():
    """The port of a fixture with a 60 s recovery window (import it into a test module to use it)."""
    proc, port = recovery_server(60000)
    yield port
    assert "Fatal error" not in stop(proc)


def values_and_offsets(events: list[list]) -> tuple[list, list[str]]:
    """Each event is [value, offset]: as in the official client, the offset (a string) stays the last
    argument handed to the listeners."""
    for event in events:
        assert len(event) == 2 and isinstance(event[1], str) and event[1], f"no offset in {event!r}"
    return [event[0] for event in events], [event[1] for event in events]


class Observer:
    """A raw client straight to the server (never through the proxy): emits `news` to a room or to
    everyone through the fixture, and waits until the server has let a cut socket go."""

    def __init__(self, port: int):
        self.raw = RawSocketIO(port, "websocket")
        self.raw.connect()
        self.ids = itertools.count(100)

    def emit_to(self, room: str, *args) -> None:
        assert self.raw.call("emit-to", room, "news", *args, ack_id=next(self.ids)) == []

    def emit_all(self, *args) -> None:
        assert self.raw.call("emit-all", "news", *args, ack_id=next(self.ids)) == []

    def wait_gone(self, sid: str) -> None:
        wait_gone(self.raw, sid, ack_id=next(self.ids))

    def close(self) -> None:
        self.raw.close()
