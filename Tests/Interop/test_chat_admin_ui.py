"""Issue 18 on the chat: `socketio-chat --admin-ui` lets the official Admin UI in on its own namespace
(/admin-ui by default: the chat's own admin page keeps /admin, and both work side by side), answers CORS
with credentials for the hosted page's origin (https://admin.socket.io) and for --admin-ui-origin, and
refuses bad options with a clear message. A python-socketio client acts as the page (see admin_ui_support);
Chromium drives the same chat from https://admin.socket.io in test_admin_ui_browser.py."""
from __future__ import annotations

import subprocess
import types

import bcrypt
import pytest
import requests
import socketio
import websocket

import eio_raw
from admin_ui_support import ALL_FEATURES, AdminPage, check_serialized_socket, refused
from browser_support import chat_binary, chat_server
from cluster_support import Client, Redis, eventually

HOSTED_PAGE = "https://admin.socket.io"
SELF_SERVED = "http://localhost:8080"
ADMIN_TOKEN = "chat-token"


@pytest.fixture(scope="module")
def chat():
    srv = chat_server(admin_token=ADMIN_TOKEN, extra=("--admin-ui", "--admin-ui-origin", SELF_SERVED, "--quiet"))
    srv.start()
    yield srv
    srv.stop()


def engine(srv):
    return types.SimpleNamespace(url=f"{srv.base}/socket.io/", ws_url=f"ws://127.0.0.1:{srv.port}/socket.io/")


def test_the_admin_ui_and_the_chats_own_admin_page_work_side_by_side(chat):
    page = AdminPage(chat.base, namespace="/admin-ui")
    person = Client(chat.base, ["websocket"])
    chat_admin = socketio.Client(reconnection=False)
    try:
        assert page.wait_for("config")[0] == {"supportedFeatures": ALL_FEATURES}
        # (the chat has connection state recovery: as with Node.js, every packet then ends with its offset)
        socket = page.wait_for("socket_connected", lambda a: a[0]["id"] == person.sid)[0]
        check_serialized_socket(socket, person.sid, "/", "websocket")
        update = page.wait_for("socket_updated", lambda a: a[0]["id"] == person.sid and "data" in a[0])[0]
        assert update == {"id": person.sid, "nsp": "/", "data": {"nickname": f"guest-{person.sid[:4]}"}}, \
            "the chat's socket.data reaches the page"

        # the chat's own admin page, on /admin with its token, as before
        assert refused(chat.base, {"token": "wrong"}, namespace="/admin") == \
            [{"message": "invalid admin token", "data": {"reason": "unauthorized"}}]
        chat_admin.connect(chat.base, namespaces=["/admin"], auth={"token": ADMIN_TOKEN}, transports=["websocket"])
        stats = chat_admin.call("stats", namespace="/admin", timeout=10)
        assert stats["connections"] == 1 and stats["admins"] == 1
        # and the Admin UI watches it like any other namespace
        watched = page.wait_for("socket_connected", lambda a: a[0]["nsp"] == "/admin")[0]
        assert watched["id"] == chat_admin.get_sid("/admin")
    finally:
        chat_admin.disconnect()
        person.close()
        page.close()


def test_cors_with_credentials_for_the_hosted_page_and_the_given_origin(chat):
    url = f"{chat.base}/socket.io/?EIO=4&transport=polling"
    for origin in (HOSTED_PAGE, SELF_SERVED):
        preflight = requests.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"}, timeout=5)
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == origin
        assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
        handshake = requests.get(url, headers={"Origin": origin}, timeout=5)
        assert handshake.status_code == 200 and handshake.text.startswith("0{")
        assert handshake.headers["Access-Control-Allow-Origin"] == origin
        assert handshake.headers["Access-Control-Allow-Credentials"] == "true"
        ws = eio_raw.ws_connect(engine(chat), origin=origin)
        assert eio_raw.ws_recv(ws).startswith("0{")
        ws.close()
    other = requests.get(url, headers={"Origin": "https://elsewhere.example"}, timeout=5)
    assert "Access-Control-Allow-Origin" not in other.headers
    with pytest.raises(websocket.WebSocketBadStatusException) as refusal:
        eio_raw.ws_connect(engine(chat), origin="https://elsewhere.example")
    assert refusal.value.status_code == 403


def test_without_admin_ui_the_chat_answers_no_cors_and_has_no_admin_ui_namespace():
    srv = chat_server(extra=("--quiet",))
    srv.start()
    try:
        answer = requests.get(f"{srv.base}/socket.io/?EIO=4&transport=polling", headers={"Origin": HOSTED_PAGE}, timeout=5)
        assert answer.status_code == 200 and "Access-Control-Allow-Origin" not in answer.headers
        assert refused(srv.base, None, namespace="/admin-ui") == [{"message": "Invalid namespace"}]
    finally:
        srv.stop()


def test_auth_namespace_and_bcrypt_hash_options():
    binary = str(chat_binary())
    hashed = subprocess.run([binary, "--bcrypt-hash", "s3cret"], capture_output=True, text=True, timeout=60,
                            check=True).stdout.strip()
    assert hashed.startswith("$2b$10$") and bcrypt.checkpw(b"s3cret", hashed.encode())
    srv = chat_server(extra=("--admin-ui-auth", f"admin:{hashed}", "--admin-ui-namespace", "/watch", "--quiet"))
    srv.start()
    try:
        assert refused(srv.base, {"username": "admin", "password": "nope"}, namespace="/watch") == [{"message": "invalid credentials"}]
        page = AdminPage(srv.base, auth={"username": "admin", "password": "s3cret"}, namespace="/watch")
        try:
            session = page.wait_for("session")[0]
            assert len(session) == 16
            page.wait_for("server_stats")
        finally:
            page.close()
        again = AdminPage(srv.base, auth={"sessionId": session}, namespace="/watch")
        try:
            again.wait_for("config")
            assert again.all("session") == []
        finally:
            again.close()
    finally:
        srv.stop()
    for flags, message in ((["--admin-ui", "--admin-ui-namespace", "/admin"], "own admin page uses /admin"),
                           (["--admin-ui-auth", "admin:plaintext"], "bcrypt hash"),
                           (["--admin-ui-auth", "no-colon"], "USER:BCRYPT_HASH")):
        out = subprocess.run([binary, "--port", "0", *flags], capture_output=True, text=True, timeout=60)
        assert out.returncode != 0 and message in out.stderr, (flags, out.stderr)


@pytest.mark.parametrize("adapter", ["--redis", "--redis-streams"])
def test_two_chat_nodes_behind_redis_show_both_servers_and_share_the_session(adapter):
    redis = Redis()
    hashed = bcrypt.hashpw(b"cluster", bcrypt.gensalt(4)).decode()
    nodes = [chat_server(extra=(adapter, redis.url, "--admin-ui-auth", f"admin:{hashed}",
                                "--admin-ui-server-id", name, "--quiet")) for name in ("chat-a", "chat-b")]
    people = []
    page = None
    try:
        for node in nodes:
            node.start()
        page = AdminPage(nodes[0].base, auth={"username": "admin", "password": "cluster"}, namespace="/admin-ui")
        people = [Client(node.base, ["websocket"]) for node in nodes]
        # every node's server_stats reaches the page, each counting its own person
        assert eventually(lambda: {s[0]["serverId"] for s in page.all("server_stats")} == {"chat-a", "chat-b"},
                          timeout=8)
        for name in ("chat-a", "chat-b"):
            assert eventually(lambda: any(s[0]["serverId"] == name and {"name": "/", "socketsCount": 1} in s[0]["namespaces"]
                                          for s in page.all("server_stats")), timeout=8), name
        page.close()
        # a page reloaded against the other node: the session is found in Redis, every person is listed
        session = page.all("session")[0][0]
        page = AdminPage(nodes[1].base, auth={"sessionId": session}, namespace="/admin-ui")
        listed = page.wait_for("all_sockets")[0]
        by_id = {s["id"]: s for s in listed if s["nsp"] == "/"}
        assert set(by_id) == {p.sid for p in people}
        assert all(by_id[p.sid]["data"]["nickname"] == f"guest-{p.sid[:4]}" for p in people), \
            "each node's socket.data crosses the cluster (fetchSockets)"
    finally:
        for person in people:
            person.close()
        if page is not None:
            page.close()
        for node in nodes:
            node.stop()
        redis.stop()
