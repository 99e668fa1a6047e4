"""Issue 18, in a real headless Chromium: the chat (socketio-chat --admin-ui-auth USER:HASH, its own CORS
defaults) watched and managed from the official UI's origin, https://admin.socket.io.

Chromium resolves admin.socket.io to a local HTTPS server (self-signed certificate, accepted with
--ignore-certificate-errors) holding our stand-in for the official page (Tests/Interop/fixtures/
admin_ui_page.html: the official files are not ours to commit). So the page's origin is exactly the hosted
page's, and, as when a user opens https://admin.socket.io and types http://127.0.0.1:PORT, it loads the
server's browser client and connects across origins with credentials, long-polling then WebSocket.

The page shows what it receives (servers, sockets with their data and rooms, events) the way the official
store keeps it, and its buttons send the official components' actions. The test reads the page."""
from __future__ import annotations

import functools
import http.server
import json
import socket
import ssl
import subprocess
import threading

import bcrypt
import pytest
from selenium.webdriver.common.by import By

from admin_ui_support import ALL_FEATURES
from browser_support import chat_server, new_browser, wait_js
from cluster_support import Client, eventually
from conftest import HERE, HOST

pytestmark = pytest.mark.timeout(180)

PASSWORD = "browser-secret"
NAMESPACE = "/admin-ui"  # the chat's default: its own admin page keeps /admin
HOSTED_PAGE = "https://admin.socket.io"


@pytest.fixture(scope="module")
def chat():
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode()
    srv = chat_server(extra=("--admin-ui-auth", f"admin:{hashed}", "--quiet"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def hosted_page_port(tmp_path_factory):
    """An HTTPS server for admin.socket.io (Chromium is told to resolve the name to it)."""
    folder = tmp_path_factory.mktemp("admin-socket-io")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=admin.socket.io", "-addext", "subjectAltName=DNS:admin.socket.io"],
                   check=True, capture_output=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HERE / "fixtures"))
    httpd = http.server.ThreadingHTTPServer((HOST, 0), handler)
    httpd.RequestHandlerClass.log_message = lambda *args: None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()


@pytest.fixture
def browser(hosted_page_port):
    driver = new_browser(width=1400, height=1000, extra_args=(
        f"--host-resolver-rules=MAP admin.socket.io:443 {HOST}:{hosted_page_port}",
        "--ignore-certificate-errors"))
    yield driver
    driver.quit()


def open_page(driver, chat, auth):
    driver.get(f"{HOSTED_PAGE}/admin_ui_page.html")
    assert driver.execute_script("return location.origin") == HOSTED_PAGE
    wait_js(driver, "typeof startAdmin === 'function'")
    driver.execute_script("startAdmin(arguments[0], arguments[1], arguments[2])", chat.base, auth, NAMESPACE)


def text(driver, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def socket_row(sid: str) -> str:
    return f'#sockets tr[data-nsp="/"][data-id="{sid}"]'


def wait_row_text(driver, sid: str, column: str, predicate: str, message: str):
    """Waits until the socket's cell satisfies the JavaScript `predicate` on `t` (its text)."""
    return wait_js(driver, f"""(() => {{
        const td = document.querySelector('{socket_row(sid)} td.{column}');
        const t = td && td.textContent;
        return td && ({predicate}) && t;
    }})()""", message=message)


def test_a_wrong_password_shows_invalid_credentials(browser, chat):
    open_page(browser, chat, {"username": "admin", "password": "nope"})
    wait_js(browser, "document.getElementById('status').textContent === 'invalid credentials'",
            message="the page shows the refusal")
    assert browser.execute_script("return window.admin.errors") == ["invalid credentials"]


def test_the_page_shows_the_chat_and_manages_a_user(browser, chat):
    open_page(browser, chat, {"username": "admin", "password": PASSWORD})
    wait_js(browser, "document.getElementById('status').textContent === 'connected'", message="the page connected")
    wait_js(browser, "window.admin.socket.io.engine.transport.name === 'websocket'",
            message="the page upgraded to WebSocket across origins")
    assert len(browser.execute_script("return localStorage.getItem('sessionId')")) == 16
    assert text(browser, "#features") == " ".join(ALL_FEATURES)

    # the Servers view: this chat process
    wait_js(browser, "document.querySelector('#servers tbody tr')", message="a server row")
    row = browser.find_element(By.CSS_SELECTOR, "#servers tbody tr")
    assert row.find_element(By.CSS_SELECTOR, ".server-id").text == socket.gethostname()
    assert row.find_element(By.CSS_SELECTOR, ".pid").text == str(chat.proc.pid)

    user = Client(chat.base, ["websocket"], auth={"nickname": "alice"})
    try:
        sid = user.sid
        # the socket appears, and the chat's socket.data (its nickname) arrives with socket_updated
        wait_row_text(browser, sid, "data", "t === '{\"nickname\":\"alice\"}'", "alice's socket with her nickname")
        assert text(browser, f"{socket_row(sid)} td.transport") == "websocket"
        assert text(browser, f"{socket_row(sid)} td.address") == "127.0.0.1"
        assert text(browser, f"{socket_row(sid)} td.rooms").split() == [sid]
        wait_js(browser, "document.querySelector('#servers td.namespaces').textContent.includes('/:1')",
                message="server_stats counts alice in /")
        namespaces = text(browser, "#servers td.namespaces").split()
        assert f"{NAMESPACE}:1" in namespaces and "/admin:0" in namespaces, namespaces

        # alice uses the chat: her events, room and new nickname show on the page
        assert user.call("join", "general")["ok"] is True
        wait_row_text(browser, sid, "rooms", "t.split(' ').includes('general')", "alice in general")
        assert user.call("nickname", "alicia")["ok"] is True
        wait_row_text(browser, sid, "data", "t === '{\"nickname\":\"alicia\"}'", "the renamed nickname")
        events = text(browser, "#events")
        assert f'/ event_received {sid} ["join","general"]' in events
        assert f'/ event_sent {sid} ["welcome",' in events

        # the page's actions, clicked: join a room, emit to it, disconnect alice
        browser.find_element(By.CSS_SELECTOR, socket_row(sid)).click()
        assert text(browser, "#selected") == f"/ {sid}"
        browser.find_element(By.ID, "room").send_keys("vip")
        browser.find_element(By.ID, "join").click()
        wait_row_text(browser, sid, "rooms", "t.split(' ').includes('vip')", "alice joined vip from the page")
        browser.find_element(By.ID, "event").send_keys("announcement")
        browser.find_element(By.ID, "text").send_keys("hello vip")
        browser.find_element(By.ID, "emit").click()
        # (the chat has connection state recovery: each event also carries its offset)
        assert eventually(lambda: [args[0] for args in user.received("announcement")] == ["hello vip"])
        browser.find_element(By.ID, "disconnect").click()
        assert user.disconnected.wait(10), "the chat disconnected alice"
        wait_js(browser, f"!document.querySelector('{socket_row(sid)}')", message="alice's row is gone")
        assert f"/ disconnection {sid} \"server namespace disconnect\"" in text(browser, "#events")
    finally:
        user.close()


def test_a_reloaded_page_is_recognised_by_its_session(browser, chat):
    open_page(browser, chat, {"username": "admin", "password": PASSWORD})
    wait_js(browser, "document.getElementById('status').textContent === 'connected'")
    user = Client(chat.base, ["websocket"], auth={"nickname": "bob"})
    try:
        browser.refresh()  # as the official page does after a reload: the saved session instead of the password
        wait_js(browser, "typeof startAdmin === 'function'")
        browser.execute_script("startAdmin(arguments[0], null, arguments[1])", chat.base, NAMESPACE)
        wait_js(browser, "document.getElementById('status').textContent === 'connected'",
                message="the saved session is accepted")
        # all_sockets lists bob, with his data
        wait_row_text(browser, user.sid, "data", "t === '{\"nickname\":\"bob\"}'", "bob listed by all_sockets")
        sockets = browser.execute_script("return received('all_sockets')[0][0]")
        assert {s["nsp"] for s in sockets} >= {"/", NAMESPACE}
        assert json.dumps(sockets).count(user.sid) >= 1
    finally:
        user.close()
