"""A raw Socket.IO v5 client over Engine.IO v4 (text packets only) for wire-level tests: the three ways of
connecting (long-polling, WebSocket, polling upgraded to WebSocket), pings answered in the background,
every received Socket.IO packet kept in order, and an abrupt cut of the transport (no close packet, no
DISCONNECT: what a network blip looks like to the server). Targets 127.0.0.1 only."""
from __future__ import annotations

import http.client
import json
import queue
import socket
import threading
import time

import websocket

SEP = "\x1e"
TRANSPORTS = ("polling", "websocket", "upgrade")


class RawSocketIO:
    """One Engine.IO session with its Socket.IO packets. `packets` gets each Socket.IO packet text
    (without the Engine.IO '4'), in arrival order."""

    def __init__(self, port: int, transport: str, timeout: float = 10):
        assert transport in TRANSPORTS
        self.port = port
        self.transport = transport
        self.timeout = timeout
        self.packets: queue.Queue[str] = queue.Queue()
        self.closed = threading.Event()
        self._ws: websocket.WebSocket | None = None
        self._poll_conn: http.client.HTTPConnection | None = None
        self._send_lock = threading.Lock()
        self._stop = False
        self.early: list[str] = []  # packets that arrived while `call` waited for its ACK
        self.sid = self._open()

    # ------------------------------------------------------------------ transport
    def _path(self, **params) -> str:
        query = {"EIO": "4", "transport": "polling", **params}
        return "/socket.io/?" + "&".join(f"{k}={v}" for k, v in query.items())

    def _http(self, method: str, path: str, body: str | None = None, timeout: float | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout or self.timeout)
        try:
            conn.request(method, path, body=body, headers={"Content-Type": "text/plain;charset=UTF-8"})
            response = conn.getresponse()
            return response.status, response.read().decode()
        finally:
            conn.close()

    def _open(self) -> str:
        if self.transport == "websocket":
            self._ws = websocket.create_connection(f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket",
                                                   timeout=self.timeout)
            first = self._ws.recv()
            assert first.startswith("0"), first
            sid = json.loads(first[1:])["sid"]
            threading.Thread(target=self._read_ws, daemon=True).start()
            return sid
        status, text = self._http("GET", self._path())
        assert status == 200 and text.startswith("0"), (status, text)
        sid = json.loads(text[1:].split(SEP)[0])["sid"]
        if self.transport == "upgrade":
            ws = websocket.create_connection(
                f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket&sid={sid}", timeout=self.timeout)
            ws.send("2probe")
            assert ws.recv() == "3probe"
            ws.send("5")
            self._ws = ws
            threading.Thread(target=self._read_ws, daemon=True).start()
        else:
            threading.Thread(target=self._read_polling, args=(sid,), daemon=True).start()
        return sid

    def _read_ws(self):
        try:
            while True:
                text = self._ws.recv()
                if not isinstance(text, str) or text == "":
                    break
                self._engine_packet(text)
        except Exception:
            pass
        self.closed.set()

    def _read_polling(self, sid: str):
        try:
            while not self._stop:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self._poll_conn = conn
                conn.request("GET", self._path(sid=sid))
                response = conn.getresponse()
                body = response.read().decode()
                conn.close()
                if response.status != 200:
                    break
                for part in body.split(SEP):
                    if part == "1":
                        self.closed.set()
                        return
                    self._engine_packet(part)
        except Exception:
            pass
        self.closed.set()

    def _engine_packet(self, text: str):
        if text == "2":
            self._send_engine("3")
        elif text.startswith("4"):
            self.packets.put(text[1:])
        elif text == "1":
            self.closed.set()

    def _send_engine(self, text: str):
        with self._send_lock:
            if self._ws is not None:
                self._ws.send(text)
            else:
                status, _ = self._http("POST", self._path(sid=self.sid), body=text)
                assert status == 200, status

    # ------------------------------------------------------------------ Socket.IO
    def send(self, packet: str):
        """Sends one Socket.IO packet (text), e.g. '0{"token":1}' or '2["event",1]'."""
        self._send_engine("4" + packet)

    def connect(self, auth: dict | None = None, namespace: str = "/") -> dict:
        """CONNECT and the server's answer (its JSON payload)."""
        prefix = "" if namespace == "/" else namespace + ","
        self.send("0" + prefix + (json.dumps(auth, separators=(",", ":")) if auth is not None else ""))
        answer = self.next_packet()
        assert answer.startswith("0" + prefix + "{"), f"CONNECT answer expected, got {answer!r}"
        return json.loads(answer[1 + len(prefix):])

    def next_packet(self, timeout: float | None = None) -> str:
        try:
            return self.packets.get(timeout=timeout or self.timeout)
        except queue.Empty:
            raise AssertionError(f"no packet within {timeout or self.timeout}s") from None

    def next_event(self, timeout: float | None = None) -> list:
        """The next EVENT packet's array (name first), skipping nothing: any other packet fails."""
        packet = self.next_packet(timeout)
        assert packet.startswith("2"), f"EVENT expected, got {packet!r}"
        return json.loads(packet[1:])

    def call(self, event: str, *args, ack_id: int = 1, timeout: float | None = None) -> list:
        """Emits with an ack id and returns the ACK's arguments; events that arrive first are kept in
        `self.early` (in order)."""
        self.send(f"2{ack_id}" + json.dumps([event, *args], separators=(",", ":")))
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            packet = self.next_packet(max(0.01, deadline - time.monotonic()))
            if packet.startswith(f"3{ack_id}["):
                return json.loads(packet[1 + len(str(ack_id)):])
            self.early.append(packet)

    def cut(self):
        """Drops the connection abruptly: no Engine.IO close packet, no Socket.IO DISCONNECT."""
        self._stop = True
        if self._ws is not None:
            raw = self._ws.sock
            if raw is not None:
                try:
                    raw.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                raw.close()
        else:
            # The pending GET's connection goes away (the server sees the transport close). The reader may
            # be between two GETs: then a GET of our own, dropped at once, ends the session the same way.
            conn = self._poll_conn
            if conn is not None and conn.sock is not None:
                try:
                    conn.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            raw = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
            raw.sendall(f"GET {self._path(sid=self.sid)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            time.sleep(0.05)  # the request reaches the server before the connection drops
            raw.close()
        self.closed.wait(5)

    def close(self):
        """A clean client close (Engine.IO close packet)."""
        self._stop = True
        try:
            self._send_engine("1")
        except Exception:
            pass
        if self._ws is not None:
            try:
                self._ws.close()
            except Exception:
                pass
