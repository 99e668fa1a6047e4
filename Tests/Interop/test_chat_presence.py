"""The chat's presence around connection state recovery (socketio-chat, python-socketio clients as the
pages; Alice is a raw client that recovers its session as the official client does, python-socketio
does not): a person whose connection is lost is shown away, not gone; back within the recovery window, the
others are told nothing (no "left", no "joined"); not back in time, they are told that the person left;
leaving on purpose (`disconnect()`) is told at once."""
import threading

import socketio

from browser_support import chat_server
from cluster_support import eventually
from sio_raw import RawSocketIO


class Page:
    """A chat page: a python-socketio client that keeps the notices and the last presence it got."""

    def __init__(self, base: str, nickname: str, room: str):
        self.notices: list[str] = []
        self.presence: dict = {}
        self.lock = threading.Lock()
        self.client = socketio.Client(reconnection_delay=0.2, reconnection_delay_max=0.5)
        self.client.on("notice", self._notice)
        self.client.on("presence", self._presence)
        self.client.connect(base, auth={"nickname": nickname}, transports=["websocket"], wait_timeout=5)
        assert self.client.call("join", room, timeout=5)["ok"] is True

    def _notice(self, notice, *_offset):
        with self.lock:
            self.notices.append(notice["text"])

    def _presence(self, presence, *_offset):
        with self.lock:
            self.presence = presence

    def state_of(self, nickname: str) -> str:
        """'online', 'away' or 'gone', as the page's list of people shows it."""
        with self.lock:
            users = [u for u in self.presence.get("users", []) if u["nickname"] == nickname]
        if not users:
            return "gone"
        return "away" if users[0].get("away") else "online"

    def told(self) -> list[str]:
        with self.lock:
            return list(self.notices)


def test_away_during_a_blip_then_back_without_notices_or_gone_after_the_window():
    server = chat_server(extra=("--recovery-window", "3"))
    server.start()
    bob = Page(server.base, "bob", "presence")
    alice = RawSocketIO(server.port, "websocket")
    again = None
    try:
        first = alice.connect({"nickname": "alice"})
        welcome = alice.next_event()
        assert welcome[0] == "welcome"
        offset = welcome[-1]  # with recovery on, the socket's own emits carry their offset
        assert alice.call("join", "presence")[0]["ok"] is True
        assert eventually(lambda: bob.state_of("alice") == "online")
        assert eventually(lambda: bob.told() == ["alice joined"])

        # a blip: away, nothing told; back within the window (same socket): online again, nothing told
        alice.cut()
        assert eventually(lambda: bob.state_of("alice") == "away", timeout=10)
        again = RawSocketIO(server.port, "websocket")
        assert again.connect({"nickname": "alice", "pid": first["pid"], "offset": offset})["sid"] == first["sid"]
        assert eventually(lambda: bob.state_of("alice") == "online", timeout=10)
        assert bob.told() == ["alice joined"], "a recovered blip was announced"

        # lost for longer than the window: away, then gone, with the notice
        again.cut()
        assert eventually(lambda: bob.state_of("alice") == "away", timeout=10)
        assert eventually(lambda: bob.state_of("alice") == "gone", timeout=15)
        assert bob.told() == ["alice joined", "alice left"]
    finally:
        for client in (alice, again):
            if client is not None:
                client.close()

    # leaving on purpose (the client's DISCONNECT, as `socket.disconnect()` sends it) is told at once, with
    # no away phase (a raw client: python-socketio's threaded client may close its connection before its
    # DISCONNECT has gone out, which the server must take for a lost connection)
    carol = RawSocketIO(server.port, "websocket")
    try:
        carol.connect({"nickname": "carol"})
        assert carol.call("join", "presence")[0]["ok"] is True
        assert eventually(lambda: bob.state_of("carol") == "online")
        carol.send("1")  # DISCONNECT of the main namespace
        assert eventually(lambda: bob.state_of("carol") == "gone", timeout=2)
        assert eventually(lambda: bob.told()[-1] == "carol left")
    finally:
        carol.close()
        bob.client.disconnect()
        server.stop()
