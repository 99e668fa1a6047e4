// The chat page: uses the browser client served at /socket.io/socket.io.js.
// Query options (for trying things out): ?transports=polling or ?transports=websocket.
(() => {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const options = {
    autoConnect: false,
    reconnectionDelay: 300,
    reconnectionDelayMax: 2000,
    // The nickname travels in the handshake, so it is known again after a reconnection.
    auth: (cb) => cb({ nickname: state.nickname }),
  };
  if (params.get("transports")) options.transports = params.get("transports").split(",");

  const state = {
    nickname: sessionStorage.getItem("chat.nickname") || "",
    rooms: new Map(),       // room -> { list: <ol>, seen: Set<string> }
    current: null,
    typingTimer: null,
    typingSent: false,
    typingSentAt: 0,
    typers: new Map(),      // room -> Map(id -> { nickname, timer })
    wasConnected: false,
    clientIds: 0,
  };

  const socket = io(options);
  window.chatSocket = socket; // for tests and the curious
  // Leaving the page is leaving the chat: said at once, so that the others do not see this person "away"
  // for the whole recovery window, as they do after a network blip.
  window.addEventListener("pagehide", () => socket.disconnect());

  // --- connection state ------------------------------------------------------------------
  function setStatus(kind, text) {
    const status = $("status");
    status.dataset.state = kind;
    status.textContent = text;
    const banner = $("offline-banner");
    if (kind === "reconnecting") {
      banner.hidden = false;
      banner.classList.remove("back");
      banner.textContent = "Connection lost — reconnecting…";
    } else if (kind === "connected" && !banner.hidden) {
      banner.classList.add("back");
      banner.textContent = "Back online";
      setTimeout(() => { if ($("status").dataset.state === "connected") banner.hidden = true; }, 1500);
    }
  }

  socket.on("connect", () => {
    setStatus("connected", "online");
    document.body.dataset.recovered = String(socket.recovered);
    const again = state.wasConnected;
    state.wasConnected = true;
    // The first connection sends the joins made before it (buffered by the client).
    // After a network blip the server may recover the session (connection state recovery): same socket,
    // same rooms, and the messages missed meanwhile follow, in order; nothing to join or fetch again.
    // Otherwise (a long outage, a restarted server) join the rooms again, which brings their history.
    if (!again || socket.recovered) return;
    for (const room of state.rooms.keys()) joinRoom(room, { again });
  });
  socket.on("disconnect", (reason) => {
    setStatus("reconnecting", "offline");
    document.body.dataset.disconnectReason = reason;
    if (reason === "io server disconnect") socket.connect();
  });
  socket.on("connect_error", () => setStatus("reconnecting", "offline"));
  socket.io.on("reconnect_attempt", (attempt) => setStatus("reconnecting", `reconnecting (${attempt})…`));
  socket.io.on("reconnect", () => { document.body.dataset.reconnected = String(Number(document.body.dataset.reconnected || 0) + 1); });

  // --- rooms -------------------------------------------------------------------------------
  function roomView(room) {
    let view = state.rooms.get(room);
    if (!view) {
      const list = document.createElement("ol");
      list.dataset.room = room;
      list.hidden = true;
      $("messages").appendChild(list);
      view = { list, seen: new Set() };
      state.rooms.set(room, view);
    }
    return view;
  }

  function joinRoom(room, { again = false } = {}) {
    roomView(room);
    if (!again) showRoom(room);
    socket.emit("join", room, (answer) => {
      if (!answer || !answer.ok) { addNotice(room, answer ? answer.error : "could not join"); return; }
      const view = roomView(answer.room);
      for (const message of answer.history) addMessage(message, { history: true });
      if (!again && answer.history.length) {
        const marker = element("li", "history-marker", `— last ${answer.history.length} messages —`);
        view.list.insertBefore(marker, view.list.querySelector(":scope > li.live") || null);
      }
      renderRooms();
    });
    renderRooms();
  }

  function leaveRoom(room) {
    socket.emit("leave", room);
    const view = state.rooms.get(room);
    if (view) view.list.remove();
    state.rooms.delete(room);
    if (state.current === room) showRoom(state.rooms.keys().next().value || null);
    renderRooms();
  }

  function showRoom(room) {
    state.current = room;
    for (const [name, view] of state.rooms) view.list.hidden = name !== room;
    $("room-title").textContent = room ? `#${room}` : "No room";
    $("leave").hidden = !room;
    $("message").disabled = !room;
    renderRooms();
    renderTyping();
    scrollDown(true);
    $("app").classList.remove("show-sidebar");
  }

  let lastPresence = { users: [], rooms: [] };
  function renderRooms() {
    const counts = new Map(lastPresence.rooms.map((r) => [r.name, r.members]));
    const list = $("rooms");
    list.textContent = "";
    for (const room of state.rooms.keys()) {
      const item = element("li");
      item.dataset.room = room;
      if (room === state.current) item.classList.add("current");
      const button = element("button", "room", `#${room}`);
      button.type = "button";
      button.addEventListener("click", () => showRoom(room));
      item.append(button, element("span", "count", String(counts.get(room) || 0)));
      list.appendChild(item);
    }
  }

  function renderUsers() {
    const list = $("users");
    list.textContent = "";
    for (const user of lastPresence.users) {
      const item = element("li", [user.id === socket.id ? "me-user" : "", user.away ? "away" : ""].join(" ").trim(), user.nickname);
      item.dataset.id = user.id;
      item.title = (user.away ? "connection lost, may be back in a moment · " : "") + user.rooms.map((r) => `#${r}`).join(" ");
      list.appendChild(item);
    }
    $("online-count").textContent = String(lastPresence.users.filter((u) => !u.away).length);
  }

  socket.on("presence", (presence) => {
    lastPresence = presence;
    renderUsers();
    renderRooms();
  });

  // --- messages ------------------------------------------------------------------------------
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function time(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function scrollDown(force) {
    const box = $("messages");
    if (force || box.scrollHeight - box.scrollTop - box.clientHeight < 120) box.scrollTop = box.scrollHeight;
  }

  function messageNode(message, mine) {
    const item = element("li", mine ? "message mine live" : "message live");
    const meta = element("div", "meta");
    meta.append(element("span", "nick", message.nickname), element("span", "time", time(message.time || Date.now())));
    if (mine) meta.append(element("span", "tick"));
    item.append(meta, element("div", "text", message.text));
    return item;
  }

  function setStatusTick(item, status) {
    item.dataset.status = status;
    const tick = item.querySelector(".tick");
    if (tick) {
      tick.textContent = { pending: "🕓", sent: "✓", delivered: "✓✓", failed: "!" }[status];
      tick.title = { pending: "waiting for the connection", sent: "sent to the server", delivered: "delivered", failed: "not sent" }[status];
    }
  }

  function addMessage(message, { history = false } = {}) {
    const view = roomView(message.room);
    const key = `${message.id}:${message.time}`;
    if (view.seen.has(key)) return;
    view.seen.add(key);
    const mine = message.nickname === state.nickname && history;
    const item = messageNode(message, mine);
    item.dataset.id = String(message.id);
    if (mine) setStatusTick(item, "sent");
    if (history) item.classList.add("from-history");
    view.list.appendChild(item);
    if (message.room === state.current) scrollDown(!history);
  }

  function addNotice(room, text, className = "notice") {
    const view = roomView(room);
    view.list.appendChild(element("li", `${className} live`, text));
    if (room === state.current) scrollDown(false);
  }

  // (with connection state recovery on, a second argument carries the message's offset: unused here)
  socket.on("message", (message) => {
    addMessage(message);
    clearTyper(message.room, null, message.nickname);
    socket.emit("received", { id: message.id }); // drives the sender's ✓✓
  });

  socket.on("notice", (notice) => addNotice(notice.room, notice.text, `notice ${notice.kind}`));

  socket.on("delivered", ({ clientId }) => {
    const item = document.querySelector(`li.message[data-client-id="${CSS.escape(String(clientId))}"]`);
    if (item) setStatusTick(item, "delivered");
  });

  socket.on("announcement", ({ text, time: at }) => {
    const toast = element("div", "announcement-toast");
    toast.append(element("strong", "", "Announcement"), element("span", "announcement-text", text));
    $("announcements").appendChild(toast);
    setTimeout(() => toast.remove(), 8000);
    for (const room of state.rooms.keys()) addNotice(room, `📣 ${text} (${time(at)})`, "announcement");
  });

  function send(text) {
    const room = state.current;
    if (!room) return;
    const clientId = `${Date.now().toString(36)}-${(state.clientIds++).toString(36)}`;
    const item = messageNode({ nickname: state.nickname, text, time: Date.now() }, true);
    item.dataset.clientId = clientId;
    setStatusTick(item, "pending");
    roomView(room).list.appendChild(item);
    scrollDown(true);
    // Buffered by the client while offline, sent in order on reconnection.
    socket.emit("message", { room, text, clientId }, (answer) => {
      if (answer && answer.ok) {
        item.dataset.id = String(answer.id);
        roomView(room).seen.add(`${answer.id}:${answer.time}`);
        if (item.dataset.status !== "delivered") setStatusTick(item, "sent");
      } else {
        setStatusTick(item, "failed");
      }
    });
    stopTyping();
  }

  // --- typing ----------------------------------------------------------------------------------
  function stopTyping() {
    clearTimeout(state.typingTimer);
    if (state.typingSent && state.current) socket.volatile.emit("typing", { room: state.current, typing: false });
    state.typingSent = false;
  }

  $("message").addEventListener("input", () => {
    if (!state.current) return;
    // volatile: may be dropped, so it is repeated while typing goes on
    if (!state.typingSent || Date.now() - state.typingSentAt > 1500) {
      socket.volatile.emit("typing", { room: state.current, typing: true });
      state.typingSent = true;
      state.typingSentAt = Date.now();
    }
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(stopTyping, 2000);
  });

  function clearTyper(room, id, nickname) {
    const typers = state.typers.get(room);
    if (!typers) return;
    for (const [key, typer] of typers) {
      if (key === id || typer.nickname === nickname) { clearTimeout(typer.timer); typers.delete(key); }
    }
    renderTyping();
  }

  socket.on("typing", ({ room, id, nickname, typing }) => {
    if (!state.typers.has(room)) state.typers.set(room, new Map());
    const typers = state.typers.get(room);
    const old = typers.get(id);
    if (old) clearTimeout(old.timer);
    if (typing) {
      typers.set(id, { nickname, timer: setTimeout(() => clearTyper(room, id), 4000) });
    } else {
      typers.delete(id);
    }
    renderTyping();
  });

  function renderTyping() {
    const typers = [...(state.typers.get(state.current) || new Map()).values()].map((t) => t.nickname);
    $("typing").textContent = typers.length === 0 ? "" :
      typers.length === 1 ? `${typers[0]} is typing…` : `${typers.join(", ")} are typing…`;
  }

  // --- forms -----------------------------------------------------------------------------------
  function start(nickname, room) {
    state.nickname = nickname;
    sessionStorage.setItem("chat.nickname", nickname);
    $("login").hidden = true;
    $("app").hidden = false;
    $("menu").hidden = false; // (narrow windows: the rooms and people behind it)
    $("me").textContent = nickname;
    setStatus("connecting", "connecting…");
    joinRoom(room);
    socket.connect();
    $("message").focus();
  }

  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const nickname = $("nickname").value.trim();
    const room = $("first-room").value.trim().toLowerCase() || "general";
    if (nickname) start(nickname, room);
  });

  $("join-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const room = $("room-input").value.trim().toLowerCase();
    if (!room) return;
    $("room-input").value = "";
    if (state.rooms.has(room)) showRoom(room); else joinRoom(room);
  });

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("message").value.trim();
    if (!text) return;
    $("message").value = "";
    send(text);
  });

  $("leave").addEventListener("click", () => { if (state.current) leaveRoom(state.current); });

  $("menu").addEventListener("click", () => {
    const open = $("app").classList.toggle("show-sidebar");
    $("menu").setAttribute("aria-expanded", String(open));
  });

  if (state.nickname) $("nickname").value = state.nickname;
})();
