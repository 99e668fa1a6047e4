"""The chat page (socketio-chat) in headless Chromium: the first screen a new user sees, and a
conversation that survives a network blip through connection state recovery (on in the chat server).

Alice's page reaches the server through a proxy (cut_proxy.py) whose connections are reset while Bob
writes; when the proxy lets Alice's page reconnect, the server recovers her session: she sees every
message once, in order, without joining again nor fetching the history again, and Bob's messages get
their ✓✓ once her page has them.

CHAT_SCREENSHOT_DIR=folder keeps the screenshots (first screen, after the blip); by default they go to
a temporary folder."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from browser_support import chat_server, new_browser, wait_js
from cut_proxy import CutProxy
from test_browser_chat import enter, has_message, send, texts

pytestmark = pytest.mark.timeout(120)

TRANSPORTS = {"polling": "?transports=polling", "websocket": "?transports=websocket", "upgrade": ""}


def screenshot(driver, name: str) -> Path:
    folder = Path(os.environ.get("CHAT_SCREENSHOT_DIR") or tempfile.gettempdir())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 5_000
    return path


@pytest.fixture(scope="module")
def server():
    srv = chat_server()
    srv.start()
    yield srv
    srv.stop()


@pytest.mark.parametrize("width", [1000, 390])  # a desktop window, a phone
def test_the_first_screen_shows_the_nickname_card_alone(server, width):
    page = new_browser(width=width)
    try:
        page.get(server.base + "/")
        wait_js(page, "document.getElementById('login-form') && typeof io === 'function'")
        # the chat layout stays hidden under the nickname card, and nothing claims a connection yet
        assert page.execute_script("return getComputedStyle(document.getElementById('app')).display") == "none"
        assert page.execute_script("return getComputedStyle(document.getElementById('login')).display") != "none"
        assert page.find_element("id", "status").text == "not connected"
        assert not page.find_element("id", "menu").is_displayed()  # (the rooms' menu of narrow windows)
        assert page.execute_script("return chatSocket.io.engine") is None  # no connection attempted
        screenshot(page, f"chat-first-screen-{width}.png")

        page.find_element("id", "nickname").send_keys("newcomer")
        page.find_element("id", "enter").click()
        wait_js(page, "document.getElementById('status').dataset.state === 'connected'", message="connected")
        assert page.find_element("id", "status").text == "online"
        assert page.execute_script("return getComputedStyle(document.getElementById('login')).display") == "none"
        assert page.execute_script("return getComputedStyle(document.getElementById('app')).display") == "grid"
        assert page.find_element("id", "menu").is_displayed() == (width < 700)
    finally:
        page.quit()


def room_texts(room: str) -> str:
    return texts(f"#messages ol[data-room={room}] li.message .text")


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_a_network_blip_loses_no_message(server, transport):
    proxy = CutProxy(server.port)
    alice = new_browser()
    bob = new_browser()
    room = f"blip-{transport}"  # a room of its own (the server keeps each room's history)
    try:
        enter(alice, proxy.base, "alice", room, TRANSPORTS[transport])
        enter(bob, server.base, "bob", room)
        if transport == "upgrade":
            wait_js(alice, "chatSocket.io.engine.transport.name === 'websocket'", message="alice upgraded")
        wait_js(bob, f"{texts('#users li')}.includes('alice')", message="alice online")
        send(bob, "before the blip")
        has_message(alice, "before the blip")
        first_id = alice.execute_script("return chatSocket.id")
        history_items = alice.execute_script("return document.querySelectorAll('li.from-history').length")

        alice.execute_script("window.sentSinceCut = []; chatSocket.onAnyOutgoing((event) => sentSinceCut.push(event));")
        assert proxy.cut() >= 1
        wait_js(alice, "document.getElementById('status').dataset.state === 'reconnecting'", message="alice offline")
        # Bob's page shows Alice away (not gone) once the server has let her connection go
        wait_js(bob, "[...document.querySelectorAll('#users li.away')].some((li) => li.textContent === 'alice')",
                timeout=15, message="alice away for bob")
        written = [f"while alice was away {n}" for n in range(1, 6)]
        for text in written:
            send(bob, text)
        wait_js(bob, "[...document.querySelectorAll('li.message.mine')].every((m) => m.dataset.status !== 'pending')",
                message="bob's messages sent")
        proxy.resume()

        wait_js(alice, "document.getElementById('status').dataset.state === 'connected'", timeout=20,
                message="alice back online")
        assert alice.execute_script("return document.body.dataset.recovered") == "true"
        assert alice.execute_script("return chatSocket.id") == first_id
        wait_js(alice, f"{room_texts(room)}.length >= 6", message="missed messages")
        send(bob, "after the blip")
        has_message(alice, "after the blip")
        # every message once, in order; the history was not fetched again
        assert alice.execute_script(f"return {room_texts(room)};") == ["before the blip", *written, "after the blip"]
        assert alice.execute_script("return document.querySelectorAll('li.from-history').length") == history_items
        assert "join" not in alice.execute_script("return sentSinceCut")  # (the page only confirmed receipts)
        # nor did the page get the notice of its own departure among what it missed
        assert "alice left" not in alice.execute_script(f"return {texts('#messages li.notice')};")
        # Alice's page confirmed the messages it got after the blip: Bob sees ✓✓ on all of them
        wait_js(bob, "[...document.querySelectorAll('li.message.mine')].every((m) => m.dataset.status === 'delivered')",
                message="bob's messages delivered")
        wait_js(bob, "[...document.querySelectorAll('#users li:not(.away)')].some((li) => li.textContent === 'alice')",
                message="alice online again")
        # she was away, never gone: Bob's page was told neither that she left nor that she joined again
        notices = bob.execute_script(f"return {texts('#messages li.notice')};")
        assert "alice left" not in notices and "alice joined" not in notices, notices
        screenshot(alice, f"chat-after-blip-{transport}.png")
    finally:
        alice.quit()
        bob.quit()
        proxy.close()
