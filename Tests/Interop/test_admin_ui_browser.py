"""Issue 18, in a real headless Chromium: a page of another origin (our stand-in for the official Admin
UI, Tests/Interop/fixtures/admin_ui_page.html) loads the server's browser client and speaks the Admin UI
protocol with credentials (CORS with credentials answered by --admin-ui): refused with a wrong password,
then connected, it receives session, config, all_sockets and server_stats, upgrades to WebSocket, sees a
socket connect, and its emit action reaches that socket."""
import functools
import http.server
import threading

import bcrypt
import pytest

from admin_ui_support import ALL_FEATURES, AdminServer
from browser_support import new_browser, wait_js
from cluster_support import Client, eventually
from conftest import HERE, HOST

PASSWORD = "browser-secret"


@pytest.fixture(scope="module")
def server():
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode()
    srv = AdminServer("--admin-ui-auth", f"admin:{hashed}")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def page_origin():
    """Serves the test page from another origin than the Socket.IO server's (as admin.socket.io is)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HERE / "fixtures"))
    httpd = http.server.ThreadingHTTPServer((HOST, 0), handler)
    httpd.RequestHandlerClass.log_message = lambda *args: None
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://{HOST}:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def browser():
    driver = new_browser()
    yield driver
    driver.quit()


def open_page(driver, origin, server_url, auth):
    driver.get(f"{origin}/admin_ui_page.html")
    wait_js(driver, "typeof startAdmin === 'function'")
    driver.execute_script("startAdmin(arguments[0], arguments[1])", server_url, auth)


def test_a_wrong_password_is_refused_with_invalid_credentials(browser, server, page_origin):
    open_page(browser, page_origin, server.url, {"username": "admin", "password": "nope"})
    errors = wait_js(browser, "window.admin.errors.length > 0 && window.admin.errors")
    assert errors == ["invalid credentials"]
    assert browser.execute_script("return window.admin.connected") is False


def test_the_page_connects_receives_the_protocol_and_acts(browser, server, page_origin):
    user = Client(server.url, ["websocket"])
    try:
        open_page(browser, page_origin, server.url, {"username": "admin", "password": PASSWORD})
        wait_js(browser, "window.admin.connected", message="the page connected")
        session = wait_js(browser, "received('session').length && received('session')[0][0]")
        assert len(session) == 16
        config = wait_js(browser, "received('config').length && received('config')[0][0]")
        assert config == {"supportedFeatures": ALL_FEATURES}
        sockets = wait_js(browser, "received('all_sockets').length && received('all_sockets')[0][0]")
        assert user.sid in [s["id"] for s in sockets]
        stats = wait_js(browser, "received('server_stats').length && received('server_stats')[0][0]")
        assert stats["clientsCount"] >= 2 and stats["pid"] == server.proc.pid
        wait_js(browser, "window.admin.socket.io.engine.transport.name === 'websocket'",
                message="the page upgraded to WebSocket across origins")

        newcomer = Client(server.url, ["websocket"])
        try:
            wait_js(browser, f"received('socket_connected').some(a => a[0].id === {newcomer.sid!r})")
            browser.execute_script("window.admin.socket.emit('emit', '/', arguments[0], 'from-page', 'hello')", newcomer.sid)
            assert eventually(lambda: newcomer.received("from-page") == [["hello"]])
            # fence: a later broadcast of the page reaches the other user after anything sent before it
            browser.execute_script("window.admin.socket.emit('emit', '/', null, 'fence', 'after-hello')")
            user.wait_for("fence", ["after-hello"])
            assert user.received("from-page") == []
        finally:
            newcomer.close()
        wait_js(browser, f"received('socket_disconnected').some(a => a[1] === {newcomer.sid!r})")
    finally:
        user.close()
