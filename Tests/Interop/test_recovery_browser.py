"""Connection state recovery with our browser client (/socket.io/socket.io.js) in headless Chromium,
against our server (`socketio-conformance-server --connection-state-recovery MS`), for the three ways of
connecting (long-polling, WebSocket, polling upgraded to WebSocket).

The page reaches the server through a proxy (cut_proxy.py) whose connections are reset, as a network
blip would; while it is cut, another client emits to the page's room; then the proxy lets the page's
reconnection through. Recovered: the same `socket.id`, `socket.recovered` true (and the server's), every
missed event once, in order. Not recovered: after `socket.disconnect()`, and after a cut longer than the
server's window. As in the official client, each event keeps its offset as its last argument."""
from __future__ import annotations

import json
import time

import pytest

from browser_support import new_browser, run_async, wait_js
from cut_proxy import CutProxy
from fixture_server import stop
from recovery_support import TRANSPORT_NAMES, Observer, recovery_server, server, values_and_offsets  # noqa: F401 (server: fixture)

pytestmark = pytest.mark.timeout(120)

TRANSPORTS = {"polling": '["polling"]', "websocket": '["websocket"]', "upgrade": 'undefined'}

OPEN = """
const transports = args[0] || undefined;
await new Promise((resolve, reject) => {
  const script = document.createElement("script");
  script.src = "/socket.io/socket.io.js";
  script.onload = resolve;
  script.onerror = () => reject(new Error("no client script"));
  document.head.appendChild(script);
});
window.log = { connects: [], disconnects: [], news: [], auths: [] };
const s = io({ transports, auth: { token: "t" }, reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0 });
window.s = s;
s.on("connect", () => log.connects.push({ id: s.id, recovered: s.recovered }));
s.on("disconnect", (reason) => log.disconnects.push(reason));
s.on("news", (...args) => log.news.push(args));
s.on("auth", (payload) => log.auths.push(payload)); // the fixture's echo of each CONNECT payload
"""


@pytest.fixture(scope="module")
def browser():
    driver = new_browser()
    yield driver
    driver.quit()




class Page:
    """The client script in a page served through the proxy."""

    def __init__(self, driver, proxy: CutProxy, transport: str):
        self.driver = driver
        self.transport = transport
        driver.get(proxy.base + "/socket.io/socket.io.js")  # a page of the server's origin
        transports = json.loads(TRANSPORTS[transport]) if transport != "upgrade" else None
        run_async(driver, OPEN, transports)

    def js(self, expression: str):
        return self.driver.execute_script(f"return {expression};")

    def wait(self, expression: str, message: str = ""):
        return wait_js(self.driver, expression, timeout=20, message=message)

    def connection(self, count: int) -> dict:
        """The `count`th connection: {id, recovered} as the socket had them at its connect event."""
        self.wait(f"log.connects.length >= {count}", f"connection {count}")
        if self.transport == "upgrade":
            self.wait("s.io.engine && s.io.engine.transport.name === 'websocket'", "the upgrade")
        return self.js(f"log.connects[{count - 1}]")

    def disconnection(self, count: int) -> str:
        self.wait(f"log.disconnects.length >= {count}", f"disconnection {count}")
        return self.js(f"log.disconnects[{count - 1}]")

    def call(self, event: str, *args):
        return run_async(self.driver, "return await s.timeout(10000).emitWithAck(...args);", event, *args)

    def auth(self, count: int) -> dict:
        """The CONNECT payload of the `count`th connection, as the server got it."""
        self.wait(f"log.auths.length >= {count}", f"auth {count}")
        return self.js(f"log.auths[{count - 1}]")

    def news(self, count: int) -> list[list]:
        self.wait(f"log.news.length >= {count}", f"{count} news events")
        return self.js("log.news")

    def close(self) -> None:
        self.driver.execute_script("if (window.s) s.disconnect();")


@pytest.fixture
def setup(server, browser, request):
    proxy = CutProxy(server)
    observer = Observer(server)
    page = Page(browser, proxy, request.param)
    yield proxy, observer, page
    page.close()
    observer.close()
    proxy.close()


def joined(page: Page, observer: Observer) -> dict:
    """The page, connected, in room r, having received one news event (so it has an offset)."""
    first = page.connection(1)
    assert first["recovered"] is False and first["id"]
    assert page.auth(1) == {"token": "t"}  # no pid yet
    assert page.call("join", "r") is None
    observer.emit_to("r", 0)
    values, offsets = values_and_offsets(page.news(1))
    assert values == [0]
    first["offset"] = offsets[0]
    return first


@pytest.mark.parametrize("setup", TRANSPORT_NAMES, indirect=True)
def test_a_cut_connection_is_recovered_with_every_missed_event_once_in_order(setup):
    proxy, observer, page = setup
    first = joined(page, observer)
    assert proxy.cut() >= 1
    assert page.disconnection(1) in ("transport close", "transport error")
    observer.wait_gone(first["id"])
    for value in range(1, 6):
        observer.emit_to("r", value)  # to the room: the rooms come back too
    observer.emit_all(6)
    proxy.resume()

    assert page.connection(2) == {"id": first["id"], "recovered": True}
    # the CONNECT carried the session's pid and the offset of the last event handled, with the auth object
    auth = page.auth(2)
    assert auth == {"pid": auth["pid"], "offset": first["offset"], "token": "t"} and isinstance(auth["pid"], str)
    values, offsets = values_and_offsets(page.news(7))
    assert values == [0, 1, 2, 3, 4, 5, 6]
    assert len(set(offsets)) == 7
    assert page.call("recovered") is True  # the server's socket.recovered
    observer.emit_to("r", 7)
    assert values_and_offsets(page.news(8))[0] == [0, 1, 2, 3, 4, 5, 6, 7]  # nothing else came


@pytest.mark.parametrize("setup", TRANSPORT_NAMES, indirect=True)
def test_a_client_disconnect_is_not_recovered(setup):
    _, observer, page = setup
    first = joined(page, observer)
    page.driver.execute_script("s.disconnect();")
    assert page.disconnection(1) == "io client disconnect"
    observer.wait_gone(first["id"])
    observer.emit_to("r", 1)
    page.driver.execute_script("s.connect();")

    again = page.connection(2)
    assert again["recovered"] is False and again["id"] != first["id"]
    # as the official client, it still sent its pid: the server, which forgot the session, made a new one
    assert set(page.auth(2)) == {"pid", "offset", "token"}
    assert page.call("recovered") is False
    observer.emit_all(2)  # a new socket, in no room: 1 is not delivered
    assert values_and_offsets(page.news(2))[0] == [0, 2]


@pytest.mark.parametrize("transport", TRANSPORT_NAMES)
def test_past_the_window_a_cut_connection_is_not_recovered(browser, transport):
    proc, port = recovery_server(300)
    proxy = CutProxy(port)
    observer = Observer(port)
    page = Page(browser, proxy, transport)
    try:
        first = joined(page, observer)
        proxy.cut()
        page.disconnection(1)
        observer.wait_gone(first["id"])
        observer.emit_to("r", 1)
        time.sleep(1.0)  # well past the 300 ms window
        proxy.resume()
        again = page.connection(2)
        assert again["recovered"] is False and again["id"] != first["id"]
        assert page.call("recovered") is False
        observer.emit_all(2)
        assert values_and_offsets(page.news(2))[0] == [0, 2]
    finally:
        page.close()
        observer.close()
        proxy.close()
        stop(proc)
