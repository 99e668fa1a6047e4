// The admin page: the /admin namespace, guarded by the server's --admin-token.
(() => {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const options = { autoConnect: false, reconnectionDelay: 300, reconnectionDelayMax: 2000 };
  if (params.get("transports")) options.transports = params.get("transports").split(",");

  const socket = io("/admin", options);
  window.adminSocket = socket;
  let signedIn = false;

  function setStatus(kind, text) {
    $("status").dataset.state = kind;
    $("status").textContent = text;
    $("offline-banner").hidden = !(signedIn && kind === "reconnecting");
  }

  function showError(message) {
    $("error").textContent = message;
    $("error").hidden = !message;
  }

  socket.on("connect", () => {
    signedIn = true;
    sessionStorage.setItem("chat.adminToken", socket.auth.token);
    showError("");
    $("login").hidden = true;
    $("dashboard").hidden = false;
    setStatus("connected", "signed in");
  });

  socket.on("connect_error", (err) => {
    // Refused by the server's middleware: show its message (and stay on the form).
    showError(err.data && err.data.reason ? `${err.message} (${err.data.reason})` : err.message);
    if (!signedIn) setStatus("disconnected", "signed out");
    else setStatus("reconnecting", "reconnecting…");
    if (signedIn && !socket.active) { signedIn = false; $("login").hidden = false; $("dashboard").hidden = true; }
  });

  socket.on("disconnect", (reason) => {
    setStatus("reconnecting", "reconnecting…");
    if (reason === "io server disconnect") socket.connect();
  });

  socket.on("stats", (stats) => {
    $("connections").textContent = String(stats.connections);
    $("room-count").textContent = String(stats.roomCount);
    $("stored").textContent = String(stats.storedMessages);
    const body = $("rooms-table").querySelector("tbody");
    body.textContent = "";
    for (const room of stats.rooms) {
      const row = document.createElement("tr");
      row.dataset.room = room.name;
      const name = document.createElement("td");
      name.textContent = `#${room.name}`;
      const members = document.createElement("td");
      members.textContent = String(room.members);
      row.append(name, members);
      body.appendChild(row);
    }
  });

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    showError("");
    setStatus("connecting", "signing in…");
    socket.auth = { token: $("token").value };
    socket.disconnect();
    socket.connect();
  });

  $("announce-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("announcement").value.trim();
    if (!text) return;
    $("announce-result").textContent = "sending…";
    try {
      const answer = await socket.timeout(5000).emitWithAck("announce", text);
      $("announce-result").textContent = answer.ok
        ? `Announced to ${answer.recipients} connection${answer.recipients === 1 ? "" : "s"}.`
        : `Refused: ${answer.error}`;
      if (answer.ok) $("announcement").value = "";
    } catch (err) {
      $("announce-result").textContent = `Not confirmed: ${err.message}`;
    }
  });

  const saved = sessionStorage.getItem("chat.adminToken");
  if (saved) { $("token").value = saved; $("token-form").requestSubmit(); }
})();
