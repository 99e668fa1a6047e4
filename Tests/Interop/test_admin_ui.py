"""Issue 18: the official Socket.IO Admin UI (@socket.io/admin-ui 0.5) manages the Swift server.
A python-socketio client acts as the page: authentication (bcrypt hashes made by PyPI's bcrypt, sessions
reused), every event with the official payload shapes after real connections, joins, upgrades, data
changes and disconnections, each action with each filter kind, read-only and production modes."""
import os
import subprocess

import bcrypt
import pytest

from admin_ui_support import (ALL_FEATURES, JS_DATE, AdminPage, AdminServer, UpgradingClient,
                              check_serialized_socket, page_fence, refused)
from cluster_support import Client, eventually
from conftest import HOST, free_port, swift_bin_dir

PASSWORD = "correct horse battery staple"


def bcrypt_hash(password: str, prefix: bytes = b"2b", rounds: int = 10) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds, prefix=prefix)).decode()


# --- authentication ------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["2a", "2b", "2y"])
def auth_server(request):
    hashed = bcrypt_hash(PASSWORD, prefix=b"2a" if request.param == "2a" else b"2b")
    if request.param == "2y":
        hashed = "$2y$" + hashed[4:]  # PHP's name for the same algorithm
    server = AdminServer("--admin-ui-auth", f"admin:{hashed}")
    yield server
    server.stop()


def test_basic_auth_with_a_pypi_bcrypt_hash_gives_a_session_that_is_accepted_again(auth_server):
    page = AdminPage(auth_server.url, auth={"username": "admin", "password": PASSWORD})
    try:
        (session_id,) = page.wait_for("session")
        assert isinstance(session_id, str) and len(session_id) == 16 and int(session_id, 16) >= 0
        (config,) = page.wait_for("config")
        assert config == {"supportedFeatures": ALL_FEATURES}
        page.wait_for("all_sockets")
    finally:
        page.close()
    again = AdminPage(auth_server.url, auth={"sessionId": session_id})
    try:
        again.wait_for("config")
        assert again.all("session") == [], "a known session gets no new one"
    finally:
        again.close()


@pytest.mark.parametrize("auth", [
    {"username": "admin", "password": "wrong"},
    {"username": "root", "password": PASSWORD},
    {"username": "admin"},
    {"sessionId": "0123456789abcdef"},
    None,
])
def test_wrong_credentials_are_refused_with_invalid_credentials(auth_server, auth):
    errors = refused(auth_server.url, auth)
    assert errors and errors[0] == {"message": "invalid credentials"}, errors


def test_a_password_hash_that_is_not_bcrypt_stops_the_server():
    binary = os.environ.get("CONFORMANCE_SERVER_BIN") or str(swift_bin_dir() / "socketio-conformance-server")
    out = subprocess.run([binary, "--host", HOST, "--port", str(free_port()), "--quiet",
                          "--admin-ui-auth", "admin:plaintext"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "bcrypt hash" in out.stderr + out.stdout


def test_hashes_made_by_the_swift_bcrypt_verify_with_pypi_bcrypt():
    binary = os.environ.get("CONFORMANCE_SERVER_BIN") or str(swift_bin_dir() / "socketio-conformance-server")
    for password in ["", "a", "pässwörd ☃", "x" * 72]:
        out = subprocess.run([binary, "--bcrypt-hash", password], capture_output=True, text=True, timeout=60)
        hashed = out.stdout.strip()
        assert out.returncode == 0 and hashed.startswith("$2b$10$") and len(hashed) == 60, out
        assert bcrypt.checkpw(password.encode(), hashed.encode())
        assert not bcrypt.checkpw((password + "!").encode()[:72] if len(password) < 72 else b"y" * 72, hashed.encode())


# --- development mode: every event ---------------------------------------------------------------


@pytest.fixture(scope="module")
def dev_server():
    server = AdminServer("--admin-ui")
    yield server
    server.stop()


@pytest.fixture
def page(dev_server):
    page = AdminPage(dev_server.url)
    yield page
    page.close()


def test_config_all_sockets_and_server_stats(dev_server, page):
    user = Client(dev_server.url, ["websocket"])
    try:
        (config,) = page.wait_for("config")
        assert config == {"supportedFeatures": ALL_FEATURES}, "no auth: no session event either"
        assert page.all("session") == []
        (sockets,) = page.wait_for("all_sockets")
        assert isinstance(sockets, list)
        admin_sid = page.sio.get_sid("/admin")
        mine = [s for s in sockets if s["id"] == admin_sid]
        assert len(mine) == 1 and mine[0]["nsp"] == "/admin", sockets
        page2 = AdminPage(dev_server.url, transports=["websocket"])
        try:
            (listed,) = page2.wait_for("all_sockets")
            found = [s for s in listed if s["id"] == user.sid]
            assert len(found) == 1, listed
            check_serialized_socket(found[0], user.sid, "/", "websocket")
        finally:
            page2.close()

        user.call("echo", "x")  # traffic in this second
        (stats,) = page.wait_for("server_stats", lambda a: any(e["type"] == "packetsIn" for e in a[0]["aggregatedEvents"]))
        assert set(stats) == {"serverId", "hostname", "pid", "uptime", "clientsCount", "pollingClientsCount",
                              "aggregatedEvents", "namespaces"}
        assert stats["serverId"] == stats["hostname"] and stats["hostname"]
        assert isinstance(stats["pid"], int) and stats["pid"] == dev_server.proc.pid
        assert isinstance(stats["uptime"], (int, float)) and stats["uptime"] >= 0
        assert stats["clientsCount"] >= 2
        assert isinstance(stats["pollingClientsCount"], int) and stats["pollingClientsCount"] >= 0
        names = {n["name"]: n["socketsCount"] for n in stats["namespaces"]}
        assert names.get("/", 0) >= 1 and names.get("/admin", 0) >= 1, names
        for event in stats["aggregatedEvents"]:
            assert set(event) <= {"timestamp", "type", "subType", "count"}
            assert event["timestamp"] % 1000 == 0 and event["count"] >= 1
            assert event["type"] in {"rawConnection", "rawDisconnection", "packetsIn", "packetsOut", "bytesIn", "bytesOut"}
    finally:
        user.close()


def test_aggregated_events_count_connections_disconnections_packets_and_bytes(dev_server, page):
    page.wait_for("config")
    user = Client(dev_server.url, ["websocket"])
    user.call("echo", "hello")
    user.close()
    seen: dict = {}

    def collect():
        for (stats,) in page.all("server_stats"):
            for event in stats["aggregatedEvents"]:
                key = (event["type"], event.get("subType"))
                seen[key] = seen.get(key, 0) + event["count"]
        return seen

    assert eventually(lambda: ("rawDisconnection", "transport close") in collect() or
                      ("rawDisconnection", "forced close") in collect(), timeout=8), seen
    assert ("rawConnection", None) in seen and ("packetsIn", None) in seen and ("packetsOut", None) in seen
    assert seen[("bytesIn", None)] >= len('0/,') and seen[("bytesOut", None)] > 0


def test_polling_clients_are_counted_until_they_leave(dev_server, page):
    page.wait_for("config")
    before = len(page.all("server_stats"))
    poller = Client(dev_server.url, ["polling"])
    try:
        assert eventually(lambda: any(s[0]["pollingClientsCount"] >= 1 for s in page.all("server_stats")[before:]),
                          timeout=8)
    finally:
        poller.close()
    later = len(page.all("server_stats"))
    assert eventually(lambda: any(s[0]["pollingClientsCount"] == 0 for s in page.all("server_stats")[later:]),
                      timeout=8)


def test_a_user_socket_lifecycle_as_the_page_sees_it(dev_server, page):
    page.wait_for("config")
    user = Client(dev_server.url, ["websocket"])
    sid = user.sid
    try:
        socket, date = page.wait_for("socket_connected", lambda a: a[0]["id"] == sid)
        check_serialized_socket(socket, sid, "/", "websocket")
        assert socket["data"] == {} and socket["rooms"] == [sid] and JS_DATE.match(date)
        assert page.wait_for("room_joined", lambda a: a[2] == sid)[:3] == ["/", sid, sid]

        user.call("join", "red")
        nsp, room, joined_id, date = page.wait_for("room_joined", lambda a: a[1] == "red")
        assert (nsp, room, joined_id) == ("/", "red", sid) and JS_DATE.match(date)
        nsp, from_id, args, date = page.wait_for("event_received", lambda a: a[2][0] == "join")
        assert (nsp, from_id, args) == ("/", sid, ["join", "red"]) and JS_DATE.match(date)

        user.call("set-data", {"name": "bob", "level": 3})
        update = page.wait_for("socket_updated", lambda a: a[0].get("id") == sid and "data" in a[0])[0]
        assert update == {"id": sid, "nsp": "/", "data": {"name": "bob", "level": 3}}
        data = user.call("get-data")
        assert data["name"] == "bob" and data["_admin"]["transport"] == "websocket", \
            "socket.data carries _admin, as with the official server (remote fetchSockets read it)"
        assert len(data["_admin"]["clientId"]) == 12

        user.sio.emit("message", "ping")
        nsp, to_id, args, date = page.wait_for("event_sent", lambda a: a[2][0] == "message-back")
        assert (nsp, to_id, args) == ("/", sid, ["message-back", "ping"]) and JS_DATE.match(date)
        user.call("emit-all", "news", 7)  # a broadcast: event_sent for each recipient, as Node's adapter does
        nsp, to_id, args, date = page.wait_for("event_sent", lambda a: a[2][0] == "news")
        assert (nsp, to_id, args) == ("/", sid, ["news", 7]) and JS_DATE.match(date)

        user.call("leave", "red")
        nsp, room, left_id, date = page.wait_for("room_left", lambda a: a[1] == "red")
        assert (nsp, room, left_id) == ("/", "red", sid) and JS_DATE.match(date)
        user.call("leave", "red")  # not a member any more: no second room_left
    finally:
        user.close()
    nsp, gone, reason, date = page.wait_for("socket_disconnected", lambda a: a[1] == sid)
    # python-socketio closes the connection as it leaves: either reason, as with Node.js
    assert nsp == "/" and reason in ("client namespace disconnect", "transport close") and JS_DATE.match(date)
    page.wait_for("room_left", lambda a: a[1] == sid and a[2] == sid)
    assert len([a for a in page.all("room_left") if a[1] == "red" and a[2] == sid]) == 1


def test_data_changes_nested_ones_included_reach_the_page_as_nodes_proxy_sends_them(dev_server, page):
    """@socket.io/admin-ui proxies socket.data: the keys a middleware set are taken over one by one at the
    connection (one socket_updated each, before socket_connected), then every assignment, however deep,
    sends one socket_updated with the whole data (without _admin)."""
    page.wait_for("config")
    initial = {"user": {"name": "ann", "tags": ["a"]}, "level": 1}
    user = Client(dev_server.url, ["websocket"], auth={"data": initial})
    sid = user.sid
    try:
        page.wait_for("socket_connected", lambda a: a[0]["id"] == sid)
        with page.cond:
            recorded = list(page.events)
        mine = [(name, args[0]) for name, args in recorded
                if name in ("socket_updated", "socket_connected") and args[0]["id"] == sid]
        assert [(name, body.get("data")) for name, body in mine] == [
            ("socket_updated", {"user": {"name": "ann", "tags": ["a"]}}),
            ("socket_updated", initial),
            ("socket_connected", initial),
        ]
        assert mine[0][1] == {"id": sid, "nsp": "/", "data": {"user": {"name": "ann", "tags": ["a"]}}}

        expected = {"user": {"name": "ann", "tags": ["a"]}, "level": 1}
        for path, value in ((["user", "name"], "bea"),              # a nested key
                            (["user", "tags", 0], "b"),             # an element of a nested array
                            (["user", "address"], {"city": "Oslo"}),  # a new nested object
                            (["user", "address", "city"], "Bergen"),  # inside it
                            (["level"], 2)):                        # a top-level key
            user.call("set-data-at", path, value)
            target = expected
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
            update = page.wait_for("socket_updated", lambda a: a[0]["id"] == sid and a[0].get("data") == expected)[0]
            assert update == {"id": sid, "nsp": "/", "data": expected}
        data = user.call("get-data")
        assert data["_admin"]["transport"] == "websocket" and data["user"] == expected["user"]
        # fence: a room change the page sees after every update sent before it; one update per change
        user.call("join", "after-updates")
        page.wait_for("room_joined", lambda a: a[1] == "after-updates")
        updates = [a[0] for a in page.all("socket_updated") if a[0]["id"] == sid]
        assert len(updates) == 2 + 5, updates
    finally:
        user.close()


def test_a_transport_upgrade_is_reported(dev_server, page):
    page.wait_for("config")
    client = UpgradingClient(dev_server.port)
    try:
        socket, _ = page.wait_for("socket_connected", lambda a: a[0]["id"] == client.sid)
        check_serialized_socket(socket, client.sid, "/", "polling")
        before = len(page.all("server_stats"))
        assert eventually(lambda: any(s[0]["pollingClientsCount"] >= 1 for s in page.all("server_stats")[before:]),
                          timeout=8)
        client.upgrade()
        update = page.wait_for("socket_updated", lambda a: a[0].get("id") == client.sid)[0]
        assert update == {"id": client.sid, "nsp": "/", "transport": "websocket"}
        later = len(page.all("server_stats"))
        assert eventually(lambda: any(s[0]["pollingClientsCount"] == 0 for s in page.all("server_stats")[later:]),
                          timeout=8), "an upgraded client is no longer counted as polling"
        page2 = AdminPage(dev_server.url, transports=["websocket"])
        try:
            (listed,) = page2.wait_for("all_sockets")
            (mine,) = [s for s in listed if s["id"] == client.sid]
            assert mine["transport"] == "websocket", "the socket's _admin data follows the upgrade"
        finally:
            page2.close()
    finally:
        client.close()
    page.wait_for("socket_disconnected", lambda a: a[1:3] == [client.sid, "transport close"])


def test_other_and_dynamic_namespaces_are_watched(dev_server, page):
    import socketio as sio_module
    page.wait_for("config")
    client = sio_module.Client(reconnection=False)
    client.connect(dev_server.url, namespaces=["/custom", "/dyn-abc1"], transports=["websocket"], wait_timeout=10)
    try:
        custom_sid = client.get_sid("/custom")
        dyn_sid = client.get_sid("/dyn-abc1")
        socket, _ = page.wait_for("socket_connected", lambda a: a[0]["id"] == custom_sid)
        check_serialized_socket(socket, custom_sid, "/custom", "websocket")
        socket, _ = page.wait_for("socket_connected", lambda a: a[0]["id"] == dyn_sid)
        check_serialized_socket(socket, dyn_sid, "/dyn-abc1", "websocket")
        assert socket["clientId"] == page.wait_for("socket_connected", lambda a: a[0]["id"] == custom_sid)[0]["clientId"], \
            "two namespaces of one client: one clientId"
        page.wait_for("server_stats", lambda a: "/dyn-abc1" in [n["name"] for n in a[0]["namespaces"]])
    finally:
        client.disconnect()
    page.wait_for("socket_disconnected", lambda a: a[:2] == ["/dyn-abc1", dyn_sid])


# --- actions -------------------------------------------------------------------------------------


@pytest.fixture
def users(dev_server):
    made = [Client(dev_server.url, ["websocket"]) for _ in range(3)]
    yield made
    for user in made:
        user.close()


def rooms(user) -> set:
    return set(user.call("my-rooms"))


@pytest.mark.parametrize("filter_kind", ["none", "room", "socket id"])
def test_emit_action(page, users, filter_kind):
    page.wait_for("config")
    users[0].call("join", "red")
    target = {"none": None, "room": "red", "socket id": users[1].sid}[filter_kind]
    expected = {"none": [1, 1, 1], "room": [1, 0, 0], "socket id": [0, 1, 0]}[filter_kind]
    page.act("emit", "/", target, "from-admin", 1, {"two": 2})
    assert eventually(lambda: [len(u.received("from-admin")) for u in users] == expected)
    page_fence(page, users)
    assert [len(u.received("from-admin")) for u in users] == expected
    assert users[expected.index(1)].received("from-admin") == [[1, {"two": 2}]]


@pytest.mark.parametrize("filter_kind", ["none", "room", "socket id"])
def test_join_and_leave_actions(page, users, filter_kind):
    page.wait_for("config")
    users[0].call("join", "red")
    target = {"none": None, "room": "red", "socket id": users[2].sid}[filter_kind]
    members = {"none": [True, True, True], "room": [True, False, False], "socket id": [False, False, True]}[filter_kind]
    page.act("join", "/", "blue", target)
    assert eventually(lambda: ["blue" in rooms(u) for u in users] == members)
    for user, member in zip(users, members):
        if member:
            page.wait_for("room_joined", lambda a, sid=user.sid: a[1:3] == ["blue", sid])
    page.act("leave", "/", "blue", target)
    assert eventually(lambda: ["blue" in rooms(u) for u in users] == [False, False, False])
    for user, member in zip(users, members):
        if member:
            page.wait_for("room_left", lambda a, sid=user.sid: a[1:3] == ["blue", sid])


@pytest.mark.parametrize("filter_kind,close", [("none", False), ("room", True), ("socket id", False), ("socket id", True)])
def test_disconnect_action(page, users, filter_kind, close):
    page.wait_for("config")
    users[1].call("join", "red")
    target = {"none": None, "room": "red", "socket id": users[2].sid}[filter_kind]
    gone = {"none": [True, True, True], "room": [False, True, False], "socket id": [False, False, True]}[filter_kind]
    page.act("_disconnect", "/", close, target)
    assert eventually(lambda: [u.disconnected.is_set() for u in users] == gone)
    page_fence(page, [u for u, left in zip(users, gone) if not left])
    assert [u.disconnected.is_set() for u in users] == gone
    for user, left in zip(users, gone):
        if left:  # as Node.js: with close too, every socket of the client is disconnected by the server first
            page.wait_for("socket_disconnected", lambda a, sid=user.sid: a[1:3] == [sid, "server namespace disconnect"])


# --- read-only and production --------------------------------------------------------------------


def test_readonly_refuses_every_action():
    server = AdminServer("--admin-ui", "--admin-ui-readonly")
    try:
        page = AdminPage(server.url, also_main=True)
        user = Client(server.url, ["websocket"])
        try:
            (config,) = page.wait_for("config")
            assert config == {"supportedFeatures": ["AGGREGATED_EVENTS", "ALL_EVENTS"]}
            page.wait_for("all_sockets")  # the page's connection handler is done: its events run at once
            page.act("emit", "/", None, "from-admin", 1)
            page.act("join", "/", "blue", None)
            page.act("_disconnect", "/", True, None)
            # fence: the page's round trip on `/` is answered after the server handled the actions, and the
            # user's own round trip (rooms) comes after anything they would have sent the user
            page.round_trip()
            assert "blue" not in rooms(user)
            assert user.received("from-admin") == []
            assert not user.disconnected.is_set()
        finally:
            user.close()
            page.close()
    finally:
        server.stop()


def test_production_mode_sends_statistics_only():
    server = AdminServer("--admin-ui", "--admin-ui-production", "--server-id", "prod-1")
    try:
        page = AdminPage(server.url)
        try:
            (config,) = page.wait_for("config")
            assert config == {"supportedFeatures": ALL_FEATURES[:-1]}
            user = Client(server.url, ["websocket"])
            user.call("join", "red")
            assert "_admin" not in (user.call("get-data") or {}), "sockets are not watched in production"
            (stats,) = page.wait_for("server_stats", lambda a: any(n["name"] == "/" and n["socketsCount"] == 1
                                                                   for n in a[0]["namespaces"]))
            assert stats["serverId"] == "prod-1"
            # the actions still work
            page.act("emit", "/", None, "from-admin", "p")
            assert eventually(lambda: user.received("from-admin") == [["p"]])
            user.close()
            # statistics made after the socket left (its disconnection handled before them)
            later = len(page.all("server_stats"))
            assert eventually(lambda: any(all(n["socketsCount"] == 0 for n in stats["namespaces"] if n["name"] == "/")
                                          for (stats,) in page.all("server_stats")[later:]), timeout=8)
            names = {name for name, _ in page.events}
            assert names <= {"config", "server_stats"}, names
        finally:
            page.close()
    finally:
        server.stop()
