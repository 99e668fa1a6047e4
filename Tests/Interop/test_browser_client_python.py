"""Acceptance 4: our browser client (Sources/SocketIOServer/Resources/socket.io.js), running in a
real headless Chromium, against the python-socketio server (an implementation we did not write):
connection and upgrade, events, acks both ways, timeouts, binary, namespaces sharing one connection,
middleware refusals, reconnection with buffered emits, server restarts."""
from __future__ import annotations

import pytest

from browser_support import new_browser, python_socketio_server, run_async, wait_js

TRANSPORTS = {
    "polling": '["polling"]',
    "websocket": '["websocket"]',
    "upgrade": 'undefined',
}


@pytest.fixture(scope="module")
def server():
    srv = python_socketio_server()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    driver = new_browser()
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, server):
    browser.get(server.base + "/")
    wait_js(browser, "typeof io === 'function'", message="the client script")
    yield browser
    browser.execute_script("for (const s of (window.sockets || [])) s.disconnect();")


CONNECT = """
window.sockets = window.sockets || [];
const open = (nsp, opts) => new Promise((resolve, reject) => {
  const s = io(nsp, Object.assign({ reconnectionDelay: 100, reconnectionDelayMax: 500 }, opts));
  window.sockets.push(s);
  s.once("connect", () => resolve(s));
  s.once("connect_error", (e) => reject(new Error("connect_error " + e.message)));
});
const nextEvent = (s, ev, ms = 5000) => new Promise((resolve, reject) => {
  const t = setTimeout(() => reject(new Error("no " + ev)), ms);
  s.once(ev, (...a) => { clearTimeout(t); resolve(a); });
});
"""


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_connect_events_and_acks(page, transport):
    result = run_async(page, CONNECT + f"""
        const welcome = new Promise((r) => {{ window.welcomeArgs = null; }});
        const s = io("/", {{ transports: {TRANSPORTS[transport]}, auth: {{ user: "ada" }} }});
        window.sockets.push(s);
        const [welcomeData] = await nextEvent(s, "welcome");
        if (!s.connected || !s.id) throw new Error("not connected");
        const anyEvents = [];
        s.onAny((ev, ...a) => anyEvents.push(ev));
        // emit with an ack callback
        const viaCallback = await new Promise((r) => s.emit("echo", 1, "two", {{ three: [3] }}, (...a) => r(a)));
        // emitWithAck resolves with the first argument
        const viaPromise = await s.emitWithAck("echo", {{ ok: true }});
        // timeout(ms).emit with an answer: (err, ...args)
        const timed = await new Promise((r) => s.timeout(2000).emit("echo", "x", (err, ...a) => r([err && err.message, a])));
        // no answer within the timeout: an error
        const late = await new Promise((r) => s.timeout(200).emit("nobody-answers", (err) => r(err && err.message)));
        let rejected = null;
        try {{ await s.timeout(200).emitWithAck("nobody-answers"); }} catch (e) {{ rejected = e.message; }}
        // an event answered by an event
        const back = nextEvent(s, "echo-back");
        s.emit("echo-event", "hello");
        const [echoBack] = await back;
        // the server asks us with an ack
        s.on("ask", (data, ack) => ack({{ answer: data.q * 2 }}));
        const asked = nextEvent(s, "asked");
        s.emit("server-ack", {{ q: 21 }});
        const [askedAnswer] = await asked;
        // once / off
        let count = 0;
        const counter = () => count++;
        s.once("echo-back", counter);
        s.emit("echo-event", 1); await nextEvent(s, "echo-back");
        s.emit("echo-event", 2); await nextEvent(s, "echo-back");
        // the transport in use (after an upgrade when allowed)
        if ({'true' if transport == 'upgrade' else 'false'}) {{
          const t0 = Date.now();
          while (s.io.engine.transport.name !== "websocket" && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
        }}
        return {{ welcomeData, viaCallback, viaPromise, timed, late, rejected, echoBack, askedAnswer, count,
                 anyEvents, transport: s.io.engine.transport.name }};
    """)
    assert result["welcomeData"]["auth"] == {"user": "ada"}
    assert result["viaCallback"] == [1, "two", {"three": [3]}]
    assert result["viaPromise"] == {"ok": True}
    assert result["timed"] == [None, ["x"]]
    assert result["late"] == "operation has timed out"
    assert result["rejected"] == "operation has timed out"
    assert result["echoBack"] == "hello"
    assert result["askedAnswer"] == {"answer": 42}
    assert result["count"] == 1
    assert "echo-back" in result["anyEvents"] and "asked" in result["anyEvents"]
    expected = {"polling": "polling", "websocket": "websocket", "upgrade": "websocket"}[transport]
    assert result["transport"] == expected


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_binary_both_ways(page, transport):
    result = run_async(page, CONNECT + f"""
        const s = await open("/", {{ transports: {TRANSPORTS[transport]} }});
        const bytes = new Uint8Array(300); for (let i = 0; i < bytes.length; i++) bytes[i] = i % 256;
        const [a, b, c] = await new Promise((r) => s.emit("echo",
            bytes.buffer,
            {{ nested: [new Uint8Array([1, 2, 3]), "text"], more: {{ deep: new Int16Array([-1, 2]) }} }},
            "plain",
            (...args) => r(args)));
        const view = (x) => Array.from(new Uint8Array(x));
        const back = nextEvent(s, "echo-back");
        s.emit("echo-event", new Uint8Array([9, 8, 7]));
        const [echoed] = await back;
        return {{
          aIsBuffer: a instanceof ArrayBuffer, aLength: a.byteLength, aOk: view(a).every((v, i) => v === i % 256),
          nested: view(b.nested[0]), text: b.nested[1], deep: view(b.more.deep), c,
          echoed: view(echoed), echoedIsBuffer: echoed instanceof ArrayBuffer,
        }};
    """)
    assert result["aIsBuffer"] and result["aLength"] == 300 and result["aOk"]
    assert result["nested"] == [1, 2, 3]
    assert result["text"] == "text"
    assert result["deep"] == [255, 255, 2, 0]  # Int16Array [-1, 2], little-endian bytes
    assert result["c"] == "plain"
    assert result["echoed"] == [9, 8, 7] and result["echoedIsBuffer"]


def test_namespaces_share_one_connection_and_middleware(page):
    result = run_async(page, CONNECT + """
        const main = await open("/");
        // a function as auth; the namespace shares the connection of io()
        const admin = io("/admin", { auth: (cb) => cb({ token: "secret" }) });
        window.sockets.push(admin);
        const [welcome] = await nextEvent(admin, "welcome");
        const adminEcho = await admin.emitWithAck("echo", 5);
        const mainEcho = await main.emitWithAck("echo", 6);
        // refused by the namespace's middleware (a second socket on /admin gets its own connection)
        const refused = await new Promise((resolve) => {
          const bad = io("/admin", { auth: { token: "wrong" } });
          window.sockets.push(bad);
          bad.once("connect_error", (err) => resolve({ message: err.message, data: err.data, connected: bad.connected }));
        });
        return { refused, welcome, adminEcho, mainEcho, shared: admin.io === main.io,
                 sameEngine: admin.io.engine === main.io.engine, adminId: admin.id, mainId: main.id,
                 stillConnected: main.connected && admin.connected };
    """)
    assert result["refused"] == {"message": "unauthorized", "data": {"reason": "bad token"}, "connected": False}
    assert result["welcome"] == {"ns": "/admin"}
    assert result["adminEcho"] == ["admin", 5]  # a list returned by the handler is one argument
    assert result["stillConnected"]
    assert result["mainEcho"] == 6
    assert result["shared"] and result["sameEngine"]
    assert result["adminId"] != result["mainId"]


def test_reconnects_and_flushes_buffered_emits(page):
    result = run_async(page, CONNECT + """
        const s = await open("/", { transports: ["websocket"] });
        const events = [];
        s.io.on("reconnect_attempt", (n) => events.push("attempt " + n));
        s.io.on("reconnect", () => events.push("reconnect"));
        const firstId = s.id;
        const gone = nextEvent(s, "disconnect");
        s.emit("drop-transport");
        const [reason] = await gone;
        // while disconnected: buffered (in order), volatile dropped
        const answers = [];
        s.emit("echo", "first", (a) => answers.push(a));
        s.volatile.emit("echo", "volatile", (a) => answers.push(a));
        s.emit("echo", "second", (a) => answers.push(a));
        const bufferedBefore = s.sendBuffer.length;
        await nextEvent(s, "connect", 10000);
        const t0 = Date.now();
        while (answers.length < 2 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setTimeout(r, 200));
        return { reason, answers, bufferedBefore, events, changed: s.id !== firstId, connected: s.connected };
    """)
    assert result["reason"] == "transport close"
    assert result["bufferedBefore"] == 2
    assert result["answers"] == ["first", "second"]
    assert "reconnect" in result["events"] and "attempt 1" in result["events"]
    assert result["changed"] and result["connected"]


def test_server_restart_and_server_side_disconnect(page, server):
    page.execute_script("""
        window.sockets = window.sockets || [];
        const s = io("/", { reconnectionDelay: 100, reconnectionDelayMax: 400 });
        window.sockets.push(s);
        window.restartLog = [];
        s.on("connect", () => window.restartLog.push("connect"));
        s.on("disconnect", (r) => window.restartLog.push("disconnect:" + r));
        window.restartSocket = s;
    """)
    wait_js(page, "window.restartLog.length === 1 && window.restartSocket.io.engine.transport.name === 'websocket'")
    server.restart()
    wait_js(page, "window.restartLog.filter((e) => e === 'connect').length === 2", timeout=15,
            message="reconnection after the python server restarted")
    log = page.execute_script("return window.restartLog")
    assert log[1].startswith("disconnect:transport")
    answer = run_async(page, "return await window.restartSocket.timeout(3000).emitWithAck('echo', 'again');")
    assert answer == "again"
    # kicked by the server: no automatic reconnection
    run_async(page, """
        const s = window.restartSocket;
        const gone = new Promise((r) => s.once("disconnect", r));
        s.emit("kick");
        window.kickReason = await gone;
        await new Promise((r) => setTimeout(r, 600));
    """)
    assert page.execute_script("return [window.kickReason, window.restartSocket.connected, window.restartSocket.active]") \
        == ["io server disconnect", False, False]
