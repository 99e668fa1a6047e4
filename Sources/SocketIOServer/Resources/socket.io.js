/*!
 * socket.io.js: a dependency-free Socket.IO v4 browser client (Engine.IO v4, Socket.IO protocol v5),
 * written for swift-socketio. Served by the server at /socket.io/socket.io.js.
 *
 *   const socket = io();                       // same origin, namespace "/"
 *   const admin = io("/admin", { auth: { token } });   // shares the connection of io()
 *   socket.emit("hello", "world", (answer) => console.log(answer));
 *   const reply = await socket.timeout(5000).emitWithAck("ping");
 *
 * Exposes a global `io(url?, options)` with `io.Manager`, `io.Socket`, `io.protocol` (5).
 *
 * Connection state recovery (when the server has it on), as the official client 4.8: after a lost
 * connection the socket sends back its session's pid and the offset of the last event it handled;
 * `socket.recovered` is true when the server gave the session back (same `socket.id`, same rooms) and
 * the missed events follow, in order. Each event keeps its offset as its last argument.
 */
(function (global) {
  "use strict";

  // ---------------------------------------------------------------------------------------------
  // Emitter: the small event emitter every object below extends.
  // ---------------------------------------------------------------------------------------------
  class Emitter {
    constructor() { this._listeners = new Map(); }

    on(event, fn) {
      if (!this._listeners.has(event)) this._listeners.set(event, []);
      this._listeners.get(event).push(fn);
      return this;
    }

    once(event, fn) {
      const wrapper = (...args) => { this.off(event, wrapper); fn.apply(this, args); };
      wrapper.fn = fn;
      return this.on(event, wrapper);
    }

    off(event, fn) {
      if (event === undefined) { this._listeners.clear(); return this; }
      if (fn === undefined) { this._listeners.delete(event); return this; }
      const list = this._listeners.get(event);
      if (list) {
        const index = list.findIndex((l) => l === fn || l.fn === fn);
        if (index >= 0) list.splice(index, 1);
        if (list.length === 0) this._listeners.delete(event);
      }
      return this;
    }

    // Aliases of the official emitter.
    addEventListener(event, fn) { return this.on(event, fn); }
    removeListener(event, fn) { return this.off(event, fn); }
    removeAllListeners(event) { return this.off(event); }
    removeEventListener(event, fn) { return this.off(event, fn); }

    emit(event, ...args) { return this.emitReserved(event, ...args); }

    emitReserved(event, ...args) {
      const list = this._listeners.get(event);
      if (list) {
        for (const fn of list.slice()) {
          try { fn.apply(this, args); } catch (err) { setTimeout(() => { throw err; }); }
        }
      }
      return this;
    }

    listeners(event) { return (this._listeners.get(event) || []).slice(); }
    hasListeners(event) { return this.listeners(event).length > 0; }
  }

  // ---------------------------------------------------------------------------------------------
  // Binary helpers
  // ---------------------------------------------------------------------------------------------
  const hasBlob = typeof Blob === "function";

  function isBinary(value) {
    return (typeof ArrayBuffer === "function" && (value instanceof ArrayBuffer || ArrayBuffer.isView(value))) ||
      (hasBlob && value instanceof Blob);
  }

  function hasBinary(value, depth = 0) {
    if (depth > 100 || value === null || typeof value !== "object") return false;
    if (isBinary(value)) return true;
    if (Array.isArray(value)) return value.some((v) => hasBinary(v, depth + 1));
    if (typeof value.toJSON === "function") {
      const json = value.toJSON();
      return json !== value && hasBinary(json, depth + 1);
    }
    return Object.keys(value).some((k) => hasBinary(value[k], depth + 1));
  }

  function toUint8(data) {
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  function base64Encode(data) {
    const bytes = toUint8(data);
    let binary = "";
    const chunk = 0x8000;
    for (let i = 0; i < bytes.length; i += chunk) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
    }
    return btoa(binary);
  }

  function base64Decode(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function utf8Length(text) {
    let length = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) length += 1;
      else if (c < 0x800) length += 2;
      else if (c < 0xd800 || c >= 0xe000) length += 3;
      else { i++; length += 4; }
    }
    return length;
  }

  // ---------------------------------------------------------------------------------------------
  // Engine.IO v4 packets
  // ---------------------------------------------------------------------------------------------
  const EIO_TYPES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];
  const EIO_CODES = { open: 0, close: 1, ping: 2, pong: 3, message: 4, upgrade: 5, noop: 6 };
  const SEPARATOR = "\x1e";

  /** Decodes one packet: a string ("4hello", "bAAEC" for binary in polling) or binary data. */
  function decodeEnginePacket(data) {
    if (typeof data !== "string") return { type: "message", data: data };
    if (data.charAt(0) === "b") return { type: "message", data: base64Decode(data.slice(1)) };
    const type = EIO_TYPES[Number(data.charAt(0))];
    if (!type || data.length === 0) return { type: "error", data: "parser error" };
    return data.length > 1 ? { type: type, data: data.slice(1) } : { type: type };
  }

  /** Encodes one packet for the polling payload (binary as "b" + base64). */
  async function encodePollingPacket(packet) {
    let data = packet.data;
    if (hasBlob && data instanceof Blob) data = await data.arrayBuffer();
    if (data !== undefined && isBinary(data)) return "b" + base64Encode(data);
    return String(EIO_CODES[packet.type]) + (data === undefined ? "" : data);
  }

  function packetLength(packet) {
    const data = packet.data;
    if (data === undefined) return 1;
    if (typeof data === "string") return 1 + utf8Length(data);
    if (hasBlob && data instanceof Blob) return Math.ceil((data.size * 4) / 3) + 1;
    return Math.ceil((data.byteLength * 4) / 3) + 1;
  }

  // ---------------------------------------------------------------------------------------------
  // Engine.IO transports
  // ---------------------------------------------------------------------------------------------
  function buildQuery(query) {
    return Object.keys(query)
      .filter((k) => query[k] !== undefined && query[k] !== null)
      .map((k) => encodeURIComponent(k) + "=" + encodeURIComponent(query[k]))
      .join("&");
  }

  class Transport extends Emitter {
    constructor(opts) {
      super();
      this.opts = opts;
      this.readyState = "";
      this.writable = false;
    }

    uri(scheme) {
      const query = Object.assign({}, this.opts.query, { EIO: 4, transport: this.name });
      if (this.opts.sid) query.sid = this.opts.sid;
      if (this.name === "polling" && this.opts.timestampRequests !== false) {
        query[this.opts.timestampParam || "t"] = Date.now().toString(36) + (Transport.counter++).toString(36);
      }
      const host = this.opts.hostname.indexOf(":") >= 0 ? "[" + this.opts.hostname + "]" : this.opts.hostname;
      const port = this.opts.port ? ":" + this.opts.port : "";
      return scheme + "://" + host + port + this.opts.path + "?" + buildQuery(query);
    }

    open() {
      if (this.readyState === "closed" || this.readyState === "") {
        this.readyState = "opening";
        this.doOpen();
      }
      return this;
    }

    close() {
      if (this.readyState === "opening" || this.readyState === "open") {
        this.doClose();
        this.onClose("forced close");
      }
      return this;
    }

    send(packets) { if (this.readyState === "open") this.write(packets); }

    onOpen() {
      this.readyState = "open";
      this.writable = true;
      this.emitReserved("open");
    }

    onPacket(packet) { this.emitReserved("packet", packet); }

    onError(reason, description) {
      const err = new Error(reason);
      err.type = "TransportError";
      err.description = description;
      this.emitReserved("error", err);
      return this;
    }

    onClose(reason) {
      if (this.readyState === "closed") return;
      this.readyState = "closed";
      this.writable = false;
      this.emitReserved("close", reason);
    }

    pause(onPause) { onPause(); }
  }
  Transport.counter = 0;

  /** HTTP long-polling: one GET at a time for the server's packets, POSTs for ours. */
  class Polling extends Transport {
    get name() { return "polling"; }

    doOpen() { this.poll(); }

    request(method, body) {
      const controller = typeof AbortController === "function" ? new AbortController() : null;
      this.controllers = this.controllers || new Set();
      if (controller) this.controllers.add(controller);
      const init = {
        method: method,
        cache: "no-store",
        credentials: this.opts.withCredentials ? "include" : "same-origin",
        headers: Object.assign({}, this.opts.extraHeaders || {}),
        signal: controller ? controller.signal : undefined,
      };
      if (body !== undefined) {
        init.body = body;
        init.headers["Content-Type"] = "text/plain;charset=UTF-8";
      }
      const scheme = this.opts.secure ? "https" : "http";
      return fetch(this.uri(scheme), init)
        .then((response) => {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .finally(() => { if (controller) this.controllers.delete(controller); });
    }

    poll() {
      this.polling = true;
      this.request("GET").then(
        (text) => this.onPollData(text),
        (err) => { if (this.readyState !== "closed") this.onError("xhr poll error", err); }
      );
      this.emitReserved("poll");
    }

    onPollData(text) {
      if (this.readyState === "closed") return;
      const packets = text.length ? text.split(SEPARATOR) : [];
      for (const encoded of packets) {
        const packet = decodeEnginePacket(encoded);
        if (this.readyState === "opening" && packet.type === "open") this.onOpen();
        if (packet.type === "close") { this.onClose("transport close"); return; }
        this.onPacket(packet);
        if (this.readyState === "closed") return;
      }
      this.polling = false;
      this.emitReserved("pollComplete");
      if (this.readyState === "open") this.poll();
    }

    write(packets) {
      this.writable = false;
      Promise.all(packets.map(encodePollingPacket))
        .then((encoded) => this.request("POST", encoded.join(SEPARATOR)))
        .then(
          () => { this.writable = true; this.emitReserved("drain"); },
          (err) => { if (this.readyState !== "closed") this.onError("xhr post error", err); }
        );
    }

    pause(onPause) {
      this.readyState = "pausing";
      const pause = () => { this.readyState = "paused"; onPause(); };
      let waiting = 0;
      const done = () => { if (--waiting === 0) pause(); };
      if (this.polling) { waiting++; this.once("pollComplete", done); }
      if (!this.writable) { waiting++; this.once("drain", done); }
      if (waiting === 0) pause();
    }

    doClose() {
      const abortAll = () => {
        for (const controller of this.controllers || []) controller.abort();
      };
      if (this.readyState === "open") {
        // Tell the server, then stop listening.
        this.write([{ type: "close" }]);
        setTimeout(abortAll, 0);
      } else {
        abortAll();
      }
    }
  }

  /** WebSocket: text frames for text packets, binary frames for binary messages. */
  class WS extends Transport {
    get name() { return "websocket"; }

    doOpen() {
      const scheme = this.opts.secure ? "wss" : "ws";
      try {
        this.ws = new WebSocket(this.uri(scheme), this.opts.protocols);
      } catch (err) {
        this.onError("websocket error", err);
        return;
      }
      this.ws.binaryType = "arraybuffer";
      this.ws.onopen = () => this.onOpen();
      this.ws.onclose = (event) => this.onClose("websocket connection closed", event);
      this.ws.onmessage = (event) => this.onPacket(decodeEnginePacket(event.data));
      this.ws.onerror = (event) => this.onError("websocket error", event);
    }

    write(packets) {
      this.writable = false;
      for (const packet of packets) {
        const data = packet.data;
        if (data !== undefined && isBinary(data)) {
          this.ws.send(data);
        } else {
          this.ws.send(String(EIO_CODES[packet.type]) + (data === undefined ? "" : data));
        }
      }
      // WebSocket.send queues synchronously: the next write may follow at once.
      setTimeout(() => {
        if (this.readyState === "closed") return;
        this.writable = true;
        this.emitReserved("drain");
      }, 0);
    }

    doClose() {
      if (this.ws) {
        this.ws.onclose = null;
        this.ws.onerror = null;
        this.ws.onmessage = null;
        try { this.ws.close(); } catch (_) { /* already closed */ }
      }
    }
  }

  const TRANSPORTS = { polling: Polling, websocket: WS };

  // ---------------------------------------------------------------------------------------------
  // Engine.IO socket: handshake, heartbeat, upgrade, write buffer
  // ---------------------------------------------------------------------------------------------
  class EngineSocket extends Emitter {
    constructor(opts) {
      super();
      this.opts = opts;
      this.transports = (opts.transports || ["polling", "websocket"]).filter((t) => TRANSPORTS[t]);
      this.readyState = "opening";
      this.writeBuffer = [];
      this.prevBufferLen = 0;
      this.upgrading = false;
      this.id = null;
      this.maxPayload = 0;
      this.open();
    }

    createTransport(name) {
      const Kind = TRANSPORTS[name];
      const opts = Object.assign({}, this.opts, { sid: this.id || undefined });
      return new Kind(opts);
    }

    open() {
      if (this.transports.length === 0) {
        setTimeout(() => this.emitReserved("error", new Error("No transports available")), 0);
        return;
      }
      const transport = this.createTransport(this.transports[0]);
      transport.open();
      this.setTransport(transport);
    }

    setTransport(transport) {
      if (this.transport) this.transport.off();
      this.transport = transport;
      transport.on("drain", () => this.onDrain());
      transport.on("packet", (packet) => this.onPacket(packet));
      transport.on("error", (err) => this.onError(err));
      transport.on("close", (reason) => this.onClose("transport close", reason));
    }

    onPacket(packet) {
      if (this.readyState !== "opening" && this.readyState !== "open" && this.readyState !== "closing") return;
      this.emitReserved("packet", packet);
      switch (packet.type) {
        case "open": {
          let handshake;
          try { handshake = JSON.parse(packet.data); } catch (_) { this.onError(new Error("bad handshake")); return; }
          this.onHandshake(handshake);
          break;
        }
        case "ping":
          this.resetPingTimeout();
          this.sendPacket("pong");
          this.emitReserved("ping");
          break;
        case "message":
          this.emitReserved("data", packet.data);
          break;
        case "close":
          this.onClose("transport close");
          break;
        case "error":
          this.onError(new Error("server error"));
          break;
        default:
          break;
      }
    }

    onHandshake(data) {
      this.id = data.sid;
      this.transport.opts.sid = data.sid;
      this.upgrades = (data.upgrades || []).filter((u) => this.transports.indexOf(u) >= 0);
      this.pingInterval = data.pingInterval;
      this.pingTimeout = data.pingTimeout;
      this.maxPayload = data.maxPayload || 0;
      this.readyState = "open";
      this.emitReserved("open");
      this.flush();
      this.resetPingTimeout();
      if (this.readyState === "open" && this.opts.upgrade !== false && this.transport.name === "polling") {
        for (const name of this.upgrades) if (name === "websocket") this.probe(name);
      }
    }

    resetPingTimeout() {
      clearTimeout(this.pingTimeoutTimer);
      this.pingTimeoutTimer = setTimeout(() => this.onClose("ping timeout"), this.pingInterval + this.pingTimeout);
    }

    /** Tries a WebSocket beside the polling transport; switches once it answered the probe. */
    probe(name) {
      let failed = false;
      const transport = this.createTransport(name);
      const cleanup = () => {
        transport.off("open", onOpen);
        transport.off("error", onError);
        transport.off("close", onTransportClose);
        this.off("close", onClose);
      };
      const fail = () => {
        if (failed) return;
        failed = true;
        cleanup();
        transport.close();
        this.upgrading = false;
      };
      const onOpen = () => {
        if (failed) return;
        transport.send([{ type: "ping", data: "probe" }]);
        transport.once("packet", (packet) => {
          if (failed) return;
          if (packet.type !== "pong" || packet.data !== "probe") { fail(); return; }
          this.upgrading = true;
          this.emitReserved("upgrading", transport);
          this.transport.pause(() => {
            if (failed || this.readyState === "closed") return;
            cleanup();
            this.setTransport(transport);
            transport.send([{ type: "upgrade" }]);
            this.emitReserved("upgrade", transport);
            this.upgrading = false;
            this.flush();
          });
        });
      };
      const onError = () => fail();
      const onTransportClose = () => fail();
      const onClose = () => fail();
      transport.once("open", onOpen);
      transport.once("error", onError);
      transport.once("close", onTransportClose);
      this.once("close", onClose);
      transport.open();
    }

    onDrain() {
      this.writeBuffer.splice(0, this.prevBufferLen);
      this.prevBufferLen = 0;
      if (this.writeBuffer.length === 0) this.emitReserved("drain");
      else this.flush();
    }

    flush() {
      if (this.readyState !== "closed" && this.transport.writable && !this.upgrading && this.writeBuffer.length) {
        const packets = this.writablePackets();
        this.transport.send(packets);
        this.prevBufferLen = packets.length;
        this.emitReserved("flush");
      }
    }

    /** For polling, at most maxPayload bytes per request (at least one packet). */
    writablePackets() {
      if (!(this.maxPayload && this.transport.name === "polling" && this.writeBuffer.length > 1)) {
        return this.writeBuffer.slice();
      }
      let size = 1;
      for (let i = 0; i < this.writeBuffer.length; i++) {
        size += packetLength(this.writeBuffer[i]) + (i > 0 ? 1 : 0);
        if (i > 0 && size > this.maxPayload) return this.writeBuffer.slice(0, i);
      }
      return this.writeBuffer.slice();
    }

    /** Whether a volatile packet could leave now. */
    get canWriteNow() {
      return this.readyState === "open" && this.transport && this.transport.writable && !this.upgrading;
    }

    send(data) { this.sendPacket("message", data); return this; }
    write(data) { return this.send(data); }

    sendPacket(type, data) {
      if (this.readyState === "closing" || this.readyState === "closed") return;
      this.writeBuffer.push(data === undefined ? { type: type } : { type: type, data: data });
      this.flush();
    }

    close() {
      const close = () => {
        this.onClose("forced close");
        this.transport.close();
      };
      if (this.readyState === "opening" || this.readyState === "open") {
        this.readyState = "closing";
        if (this.writeBuffer.length) this.once("drain", () => (this.upgrading ? this.once("upgrade", close) : close()));
        else if (this.upgrading) this.once("upgrade", close);
        else close();
      }
      return this;
    }

    onError(err) {
      this.emitReserved("error", err);
      this.onClose("transport error", err);
    }

    onClose(reason, description) {
      if (this.readyState !== "opening" && this.readyState !== "open" && this.readyState !== "closing") return;
      clearTimeout(this.pingTimeoutTimer);
      this.transport.off();
      this.transport.close();
      this.readyState = "closed";
      this.id = null;
      this.emitReserved("close", reason, description);
      this.writeBuffer = [];
      this.prevBufferLen = 0;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Socket.IO v5 packets
  // ---------------------------------------------------------------------------------------------
  const PacketType = { CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4, BINARY_EVENT: 5, BINARY_ACK: 6 };

  /** Replaces binary parts by placeholders; returns the JSON-ready data and the attachments. */
  function deconstruct(data) {
    const buffers = [];
    const walk = (value) => {
      if (value === null || typeof value !== "object") return value;
      if (isBinary(value)) {
        buffers.push(value);
        return { _placeholder: true, num: buffers.length - 1 };
      }
      if (Array.isArray(value)) return value.map(walk);
      if (typeof value.toJSON === "function" && !(value instanceof Date)) return walk(value.toJSON());
      if (value instanceof Date) return value.toJSON();
      const out = {};
      for (const key of Object.keys(value)) {
        if (value[key] !== undefined) out[key] = walk(value[key]);
      }
      return out;
    };
    return { data: walk(data), buffers: buffers };
  }

  function reconstruct(data, buffers) {
    const walk = (value) => {
      if (value === null || typeof value !== "object") return value;
      if (value._placeholder === true && typeof value.num === "number") {
        if (value.num >= 0 && value.num < buffers.length) return buffers[value.num];
        throw new Error("illegal attachments");
      }
      if (Array.isArray(value)) return value.map(walk);
      for (const key of Object.keys(value)) value[key] = walk(value[key]);
      return value;
    };
    return walk(data);
  }

  /** Encodes a packet into a string followed by its binary attachments. */
  function encodePacket(packet) {
    let type = packet.type;
    let data = packet.data;
    let buffers = [];
    if ((type === PacketType.EVENT || type === PacketType.ACK) && hasBinary(data, 0)) {
      type = type === PacketType.EVENT ? PacketType.BINARY_EVENT : PacketType.BINARY_ACK;
      const parts = deconstruct(data);
      data = parts.data;
      buffers = parts.buffers;
    }
    let text = String(type);
    if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) text += buffers.length + "-";
    if (packet.nsp && packet.nsp !== "/") text += packet.nsp + ",";
    if (packet.id !== undefined && packet.id !== null) text += packet.id;
    if (data !== undefined) text += JSON.stringify(data);
    return [text].concat(buffers);
  }

  /** Decodes packets; binary packets wait for their attachments. Emits "decoded". */
  class Decoder extends Emitter {
    add(data) {
      if (typeof data === "string") {
        if (this.pending) throw new Error("got plaintext data when reconstructing a packet");
        const packet = this.decodeString(data);
        if (packet.type === PacketType.BINARY_EVENT || packet.type === PacketType.BINARY_ACK) {
          if (packet.attachments === 0) {
            packet.type = packet.type === PacketType.BINARY_EVENT ? PacketType.EVENT : PacketType.ACK;
            this.emitReserved("decoded", packet);
          } else {
            this.pending = { packet: packet, buffers: [] };
          }
        } else {
          this.emitReserved("decoded", packet);
        }
      } else if (isBinary(data)) {
        if (!this.pending) throw new Error("got binary data when not reconstructing a packet");
        this.pending.buffers.push(data);
        if (this.pending.buffers.length === this.pending.packet.attachments) {
          const { packet, buffers } = this.pending;
          this.pending = null;
          packet.data = reconstruct(packet.data, buffers);
          packet.type = packet.type === PacketType.BINARY_EVENT ? PacketType.EVENT : PacketType.ACK;
          delete packet.attachments;
          this.emitReserved("decoded", packet);
        }
      } else {
        throw new Error("unknown type: " + data);
      }
    }

    decodeString(text) {
      let i = 0;
      const type = Number(text.charAt(0));
      if (!(type >= 0 && type <= 6) || text.length === 0) throw new Error("unknown packet type " + text.charAt(0));
      const packet = { type: type, nsp: "/" };
      if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) {
        const start = i + 1;
        while (text.charAt(++i) !== "-" && i < text.length) { /* digits */ }
        const count = text.substring(start, i);
        if (count === "" || Number(count) != count || text.charAt(i) !== "-") throw new Error("Illegal attachments");
        packet.attachments = Number(count);
      }
      if (text.charAt(i + 1) === "/") {
        const start = i + 1;
        while (++i) {
          if (text.charAt(i) === ",") break;
          if (i === text.length) break;
        }
        packet.nsp = text.substring(start, i);
      }
      const next = text.charAt(i + 1);
      if (next !== "" && Number(next) == next) {
        const start = i + 1;
        while (++i) {
          const c = text.charAt(i);
          if (c === "" || Number(c) != c) { --i; break; }
          if (i === text.length) break;
        }
        packet.id = Number(text.substring(start, i + 1));
      }
      if (text.charAt(++i)) {
        packet.data = JSON.parse(text.substr(i));
      }
      if (!Decoder.isPayloadValid(packet.type, packet.data)) throw new Error("invalid payload");
      return packet;
    }

    static isPayloadValid(type, payload) {
      const isObject = payload !== null && typeof payload === "object" && !Array.isArray(payload);
      switch (type) {
        case PacketType.CONNECT: return payload === undefined || isObject;
        case PacketType.DISCONNECT: return payload === undefined;
        case PacketType.CONNECT_ERROR: return typeof payload === "string" || isObject;
        case PacketType.EVENT:
        case PacketType.BINARY_EVENT:
          return Array.isArray(payload) && payload.length > 0 &&
            (typeof payload[0] === "string" || typeof payload[0] === "number");
        case PacketType.ACK:
        case PacketType.BINARY_ACK:
          return Array.isArray(payload);
        default: return false;
      }
    }

    destroy() { this.pending = null; }
  }

  // ---------------------------------------------------------------------------------------------
  // Backoff: exponential with jitter
  // ---------------------------------------------------------------------------------------------
  class Backoff {
    constructor(opts) {
      this.ms = opts.min || 100;
      this.max = opts.max || 10000;
      this.factor = opts.factor || 2;
      this.jitter = opts.jitter > 0 && opts.jitter <= 1 ? opts.jitter : 0;
      this.attempts = 0;
    }

    duration() {
      let ms = this.ms * Math.pow(this.factor, this.attempts++);
      if (this.jitter) {
        const rand = Math.random();
        const deviation = Math.floor(rand * this.jitter * ms);
        ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
      }
      return Math.min(ms, this.max) | 0;
    }

    reset() { this.attempts = 0; }
  }

  // ---------------------------------------------------------------------------------------------
  // Manager: one Engine.IO connection, many namespaces, reconnection
  // ---------------------------------------------------------------------------------------------
  class Manager extends Emitter {
    constructor(uri, opts) {
      super();
      if (uri && typeof uri === "object") { opts = uri; uri = undefined; }
      opts = Object.assign({}, opts || {});
      const base = parseUri(uri, opts);
      opts.path = normalizePath(opts.path || "/socket.io", opts.addTrailingSlash !== false);
      this.uri = uri;
      this.opts = opts;
      this.engineOpts = {
        hostname: base.hostname,
        port: base.port,
        secure: base.secure,
        path: opts.path,
        query: Object.assign({}, base.query, typeof opts.query === "string" ? parseQuery(opts.query) : opts.query || {}),
        transports: opts.transports || ["polling", "websocket"],
        upgrade: opts.upgrade !== false,
        withCredentials: !!opts.withCredentials,
        extraHeaders: opts.extraHeaders,
        timestampRequests: opts.timestampRequests,
        timestampParam: opts.timestampParam,
        protocols: opts.protocols,
      };
      this.nsps = {};
      this.subs = [];
      this._reconnection = opts.reconnection !== false;
      this._reconnectionAttempts = opts.reconnectionAttempts === undefined ? Infinity : opts.reconnectionAttempts;
      this._reconnectionDelay = opts.reconnectionDelay === undefined ? 1000 : opts.reconnectionDelay;
      this._reconnectionDelayMax = opts.reconnectionDelayMax === undefined ? 5000 : opts.reconnectionDelayMax;
      this._randomizationFactor = opts.randomizationFactor === undefined ? 0.5 : opts.randomizationFactor;
      this._timeout = opts.timeout === undefined ? 20000 : opts.timeout;
      this.backoff = new Backoff({ min: this._reconnectionDelay, max: this._reconnectionDelayMax, jitter: this._randomizationFactor });
      this._readyState = "closed";
      this._autoConnect = opts.autoConnect !== false;
      this.skipReconnect = false;
      this._reconnecting = false;
      this.decoder = new Decoder();
      this.decoder.on("decoded", (packet) => this.emitReserved("packet", packet));
      if (opts.autoConnect !== false) this.open();
    }

    // Getters/setters of the official client.
    reconnection(v) { if (v === undefined) return this._reconnection; this._reconnection = !!v; if (!v) this.skipReconnect = true; return this; }
    reconnectionAttempts(v) { if (v === undefined) return this._reconnectionAttempts; this._reconnectionAttempts = v; return this; }
    reconnectionDelay(v) { if (v === undefined) return this._reconnectionDelay; this._reconnectionDelay = v; this.backoff.ms = v; return this; }
    reconnectionDelayMax(v) { if (v === undefined) return this._reconnectionDelayMax; this._reconnectionDelayMax = v; this.backoff.max = v; return this; }
    randomizationFactor(v) { if (v === undefined) return this._randomizationFactor; this._randomizationFactor = v; this.backoff.jitter = v; return this; }
    timeout(v) { if (v === undefined) return this._timeout; this._timeout = v; return this; }

    get engine() { return this._engine; }

    open(callback) {
      if (this._readyState.indexOf("open") >= 0) return this;
      const engine = new EngineSocket(Object.assign({}, this.engineOpts));
      this._engine = engine;
      this._readyState = "opening";
      this.skipReconnect = false;
      const onOpen = () => {
        clearTimeout(timer);
        this.onopen();
        if (callback) callback();
      };
      const onError = (err) => {
        clearTimeout(timer);
        this.cleanup();
        this._readyState = "closed";
        this.emitReserved("error", err);
        if (callback) callback(err);
        else this.maybeReconnectOnOpen();
      };
      const openSub = () => engine.off("open", onOpen);
      const errorSub = () => engine.off("error", onError);
      engine.once("open", onOpen);
      engine.once("error", onError);
      // A close before the handshake (server down, refused) is an error too.
      const onEarlyClose = (reason) => { if (this._readyState === "opening") onError(new Error(reason || "connection closed")); };
      engine.once("close", onEarlyClose);
      const closeSub = () => engine.off("close", onEarlyClose);
      let timer;
      if (this._timeout !== false) {
        timer = setTimeout(() => {
          openSub(); errorSub(); closeSub();
          engine.close();
          onError(new Error("timeout"));
        }, this._timeout);
      }
      this.subs.push(openSub, errorSub, closeSub, () => clearTimeout(timer));
      return this;
    }

    connect(callback) { return this.open(callback); }

    onopen() {
      this.cleanup();
      this._readyState = "open";
      this.emitReserved("open");
      const engine = this._engine;
      const onData = (data) => {
        try { this.decoder.add(data); } catch (err) { this.onclose("parse error", err); }
      };
      const onPing = () => this.emitReserved("ping");
      const onError = (err) => this.emitReserved("error", err);
      const onClose = (reason, description) => this.onclose(reason, description);
      engine.on("data", onData);
      engine.on("ping", onPing);
      engine.on("error", onError);
      engine.on("close", onClose);
      this.subs.push(
        () => engine.off("data", onData), () => engine.off("ping", onPing),
        () => engine.off("error", onError), () => engine.off("close", onClose));
    }

    maybeReconnectOnOpen() {
      if (!this._reconnecting && this._reconnection && this.backoff.attempts === 0) this.reconnect();
    }

    socket(nsp, opts) {
      let socket = this.nsps[nsp];
      if (!socket) {
        socket = new Socket(this, nsp, opts);
        this.nsps[nsp] = socket;
      } else if (this._autoConnect && !socket.active) {
        socket.connect();
      }
      return socket;
    }

    _destroy(socket) {
      for (const nsp of Object.keys(this.nsps)) {
        if (this.nsps[nsp].active) return;
      }
      this._close();
    }

    /** Writes a Socket.IO packet (string + attachments) to the engine. */
    _packet(packet) {
      const parts = encodePacket(packet);
      for (const part of parts) this._engine.write(part);
    }

    cleanup() {
      for (const unsub of this.subs) unsub();
      this.subs = [];
      this.decoder.destroy();
    }

    _close() {
      this.skipReconnect = true;
      this._reconnecting = false;
      clearTimeout(this.reconnectTimer);
      this.onclose("forced close");
    }

    disconnect() { return this._close(); }

    onclose(reason, description) {
      this.cleanup();
      if (this._engine) this._engine.close();
      this.backoff.reset();
      const wasOpen = this._readyState !== "closed";
      this._readyState = "closed";
      if (wasOpen || reason === "forced close") this.emitReserved("close", reason, description);
      if (this._reconnection && !this.skipReconnect) this.reconnect();
    }

    reconnect() {
      if (this._reconnecting || this.skipReconnect) return this;
      if (this.backoff.attempts >= this._reconnectionAttempts) {
        this.backoff.reset();
        this.emitReserved("reconnect_failed");
        this._reconnecting = false;
        return this;
      }
      const delay = this.backoff.duration();
      this._reconnecting = true;
      this.reconnectTimer = setTimeout(() => {
        if (this.skipReconnect) return;
        this.emitReserved("reconnect_attempt", this.backoff.attempts);
        if (this.skipReconnect) return;
        this.open((err) => {
          if (err) {
            this._reconnecting = false;
            this.reconnect();
            this.emitReserved("reconnect_error", err);
          } else {
            this.onreconnect();
          }
        });
      }, delay);
      return this;
    }

    onreconnect() {
      const attempt = this.backoff.attempts;
      this._reconnecting = false;
      this.backoff.reset();
      this.emitReserved("reconnect", attempt);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Socket: one namespace
  // ---------------------------------------------------------------------------------------------
  const RESERVED_EVENTS = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);

  class Socket extends Emitter {
    constructor(manager, nsp, opts) {
      super();
      opts = opts || {};
      this.io = manager;
      this.nsp = nsp;
      this.id = undefined;
      this.connected = false;
      // Connection state recovery (when the server has it on): the server's private session id, from its
      // CONNECT answer, and the offset of the last event handed to the listeners (each event the server sends
      // without an ack id carries its offset as its last argument, left there for the listeners as the
      // official client does). Both go back in the next CONNECT; `recovered` says whether the server restored
      // the session (same id, rooms, and the missed events, which follow in order).
      this._pid = undefined;
      this._lastOffset = undefined;
      this.recovered = false;
      this.receiveBuffer = [];
      this.sendBuffer = [];
      this.ids = 0;
      this.acks = {};
      this.flags = {};
      this._anyListeners = [];
      this._anyOutgoingListeners = [];
      this._opts = opts;
      this.auth = opts.auth;
      this.ackTimeout = opts.ackTimeout;
      if (manager._autoConnect) this.open();
    }

    get disconnected() { return !this.connected; }
    get active() { return !!this.subs; }

    subEvents() {
      if (this.subs) return;
      const io = this.io;
      const onOpen = () => this.onopen();
      const onPacket = (packet) => this.onpacket(packet);
      const onError = (err) => { if (!this.connected) this.emitReserved("connect_error", err); };
      const onClose = (reason, description) => this.onclose(reason, description);
      io.on("open", onOpen);
      io.on("packet", onPacket);
      io.on("error", onError);
      io.on("close", onClose);
      this.subs = [
        () => io.off("open", onOpen), () => io.off("packet", onPacket),
        () => io.off("error", onError), () => io.off("close", onClose),
      ];
    }

    connect() {
      if (this.connected) return this;
      this.subEvents();
      if (!this.io._reconnecting) this.io.open();
      if (this.io._readyState === "open") this.onopen();
      return this;
    }

    open() { return this.connect(); }

    send(...args) { args.unshift("message"); this.emit.apply(this, args); return this; }

    emit(event, ...args) {
      if (RESERVED_EVENTS.has(event)) throw new Error('"' + String(event) + '" is a reserved event name');
      args.unshift(event);
      const packet = { type: PacketType.EVENT, data: args };
      const flags = this.flags;
      this.flags = {};
      if (typeof args[args.length - 1] === "function") {
        const id = this.ids++;
        const ack = args.pop();
        this.registerAckCallback(id, ack, flags);
        packet.id = id;
      }
      const canWrite = this.io._engine && this.io._engine.canWriteNow;
      const discard = flags.volatile && (!canWrite || !this.connected);
      if (discard) {
        // volatile: dropped while it cannot leave at once
      } else if (this.connected) {
        this.notifyOutgoing(packet);
        this.packet(packet);
      } else {
        this.sendBuffer.push(packet);
      }
      return this;
    }

    registerAckCallback(id, ack, flags) {
      const timeout = flags.timeout !== undefined ? flags.timeout : this.ackTimeout;
      if (timeout === undefined) {
        this.acks[id] = ack;
        return;
      }
      const timer = setTimeout(() => {
        delete this.acks[id];
        this.sendBuffer = this.sendBuffer.filter((p) => p.id !== id);
        ack.call(this, new Error("operation has timed out"));
      }, timeout);
      const fn = (...args) => { clearTimeout(timer); ack.apply(this, args); };
      fn.withError = true;
      this.acks[id] = fn;
    }

    emitWithAck(event, ...args) {
      const withErr = this.flags.timeout !== undefined || this.ackTimeout !== undefined;
      return new Promise((resolve, reject) => {
        args.push((arg1, arg2) => {
          if (withErr) return arg1 ? reject(arg1) : resolve(arg2);
          return resolve(arg1);
        });
        this.emit(event, ...args);
      });
    }

    packet(packet) {
      packet.nsp = this.nsp;
      this.io._packet(packet);
    }

    onopen() {
      if (typeof this.auth === "function") {
        this.auth((data) => this.sendConnectPacket(data));
      } else {
        this.sendConnectPacket(this.auth);
      }
    }

    sendConnectPacket(data) {
      // auth's own keys win over {pid, offset}; an undefined offset is left out by JSON.stringify
      const payload = this._pid ? Object.assign({ pid: this._pid, offset: this._lastOffset }, data) : data;
      this.packet({ type: PacketType.CONNECT, data: payload || undefined });
    }

    onclose(reason, description) {
      this.connected = false;
      delete this.id;
      this.emitReserved("disconnect", reason, description);
      this.clearAcks();
    }

    /** Acks that expect an error argument learn the socket went away; others wait for a reconnection. */
    clearAcks() {
      for (const id of Object.keys(this.acks)) {
        const pending = this.sendBuffer.some((p) => String(p.id) === id);
        if (!pending) {
          const ack = this.acks[id];
          delete this.acks[id];
          if (ack.withError) ack.call(this, new Error("socket has been disconnected"));
        }
      }
    }

    onpacket(packet) {
      if (packet.nsp !== this.nsp) return;
      switch (packet.type) {
        case PacketType.CONNECT:
          if (packet.data && packet.data.sid) this.onconnect(packet.data.sid, packet.data.pid);
          else this.emitReserved("connect_error", new Error("It seems you are trying to reach a Socket.IO server in v2.x with a v3.x client, but they are not compatible (more information here: https://socket.io/docs/v3/migrating-from-2-x-to-3-0/)"));
          break;
        case PacketType.EVENT:
        case PacketType.BINARY_EVENT:
          this.onevent(packet);
          break;
        case PacketType.ACK:
        case PacketType.BINARY_ACK:
          this.onack(packet);
          break;
        case PacketType.DISCONNECT:
          this.ondisconnect();
          break;
        case PacketType.CONNECT_ERROR: {
          this.destroy();
          const data = packet.data || {};
          const err = new Error(typeof data === "string" ? data : data.message);
          err.data = data.data;
          this.emitReserved("connect_error", err);
          break;
        }
        default:
          break;
      }
    }

    onevent(packet) {
      const args = packet.data || [];
      if (packet.id !== undefined && packet.id !== null) args.push(this.ack(packet.id));
      if (this.connected) this.emitEvent(args);
      else this.receiveBuffer.push(Object.freeze(args));
    }

    emitEvent(args) {
      for (const listener of this._anyListeners.slice()) listener.apply(this, args);
      Emitter.prototype.emitReserved.apply(this, args);
      if (this._pid && args.length && typeof args[args.length - 1] === "string") {
        this._lastOffset = args[args.length - 1];
      }
    }

    ack(id) {
      let sent = false;
      return (...args) => {
        if (sent) return;
        sent = true;
        this.packet({ type: PacketType.ACK, id: id, data: args });
      };
    }

    onack(packet) {
      const ack = this.acks[packet.id];
      if (typeof ack !== "function") return;
      delete this.acks[packet.id];
      const args = packet.data || [];
      if (ack.withError) args.unshift(null);
      ack.apply(this, args);
    }

    onconnect(id, pid) {
      this.id = id;
      this.recovered = !!pid && this._pid === pid;
      this._pid = pid; // undefined when the server has recovery off
      this.connected = true;
      this.emitBuffered();
      this.emitReserved("connect");
    }

    emitBuffered() {
      for (const args of this.receiveBuffer) this.emitEvent(args);
      this.receiveBuffer = [];
      for (const packet of this.sendBuffer) {
        this.notifyOutgoing(packet);
        this.packet(packet);
      }
      this.sendBuffer = [];
    }

    ondisconnect() {
      this.destroy();
      this.onclose("io server disconnect");
    }

    destroy() {
      if (this.subs) {
        for (const unsub of this.subs) unsub();
        this.subs = undefined;
      }
      this.io._destroy(this);
    }

    disconnect() {
      if (this.connected) this.packet({ type: PacketType.DISCONNECT });
      this.destroy();
      if (this.connected) this.onclose("io client disconnect");
      return this;
    }

    close() { return this.disconnect(); }

    compress() { return this; }

    get volatile() { this.flags.volatile = true; return this; }

    timeout(ms) { this.flags.timeout = ms; return this; }

    onAny(fn) { this._anyListeners.push(fn); return this; }
    prependAny(fn) { this._anyListeners.unshift(fn); return this; }
    offAny(fn) {
      if (fn) this._anyListeners = this._anyListeners.filter((l) => l !== fn);
      else this._anyListeners = [];
      return this;
    }
    listenersAny() { return this._anyListeners.slice(); }

    onAnyOutgoing(fn) { this._anyOutgoingListeners.push(fn); return this; }
    prependAnyOutgoing(fn) { this._anyOutgoingListeners.unshift(fn); return this; }
    offAnyOutgoing(fn) {
      if (fn) this._anyOutgoingListeners = this._anyOutgoingListeners.filter((l) => l !== fn);
      else this._anyOutgoingListeners = [];
      return this;
    }
    listenersAnyOutgoing() { return this._anyOutgoingListeners.slice(); }

    notifyOutgoing(packet) {
      if (!this._anyOutgoingListeners.length) return;
      for (const listener of this._anyOutgoingListeners.slice()) listener.apply(this, packet.data);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // URLs and the io() lookup
  // ---------------------------------------------------------------------------------------------
  function parseQuery(text) {
    const out = {};
    for (const pair of text.replace(/^\?/, "").split("&")) {
      if (!pair) continue;
      const [key, value] = pair.split("=");
      out[decodeURIComponent(key)] = decodeURIComponent(value || "");
    }
    return out;
  }

  function normalizePath(path, trailingSlash) {
    let p = path.replace(/\/$/, "");
    if (p.charAt(0) !== "/") p = "/" + p;
    return trailingSlash ? p + "/" : p;
  }

  function parseUri(uri, opts) {
    const loc = typeof location !== "undefined" ? location : null;
    let text = uri;
    if (text === undefined || text === null) text = loc ? loc.protocol + "//" + loc.host : "http://localhost";
    if (typeof text === "string") {
      if (text.charAt(0) === "/" && text.charAt(1) === "/") text = (loc ? loc.protocol : "https:") + text;
      else if (text.charAt(0) === "/" && loc) text = loc.protocol + "//" + loc.host + text;
      if (!/^(https?|wss?):\/\//.test(text)) text = (loc ? loc.protocol : "https:") + "//" + text;
    }
    const url = new URL(text);
    const secure = url.protocol === "https:" || url.protocol === "wss:";
    const port = url.port || (opts && opts.port) || "";
    return {
      hostname: (opts && opts.hostname) || url.hostname.replace(/^\[|\]$/g, ""),
      port: port,
      secure: opts && opts.secure !== undefined ? !!opts.secure : secure,
      nsp: url.pathname || "/",
      query: parseQuery(url.search),
      id: url.protocol + "//" + url.host,
      source: url.protocol + "//" + url.host + url.search,
    };
  }

  const cache = {};

  function lookup(uri, opts) {
    if (uri && typeof uri === "object") { opts = uri; uri = undefined; }
    opts = opts || {};
    const parsed = parseUri(uri, opts);
    const path = normalizePath(opts.path || "/socket.io", opts.addTrailingSlash !== false);
    const id = parsed.id + path;
    const sameNamespace = cache[id] && parsed.nsp in cache[id].nsps;
    const newConnection = opts.forceNew || opts["force new connection"] || opts.multiplex === false || sameNamespace;
    let manager;
    if (newConnection) {
      manager = new Manager(parsed.source, opts);
    } else {
      if (!cache[id]) cache[id] = new Manager(parsed.source, opts);
      manager = cache[id];
    }
    return manager.socket(parsed.nsp, opts);
  }

  Object.assign(lookup, {
    Manager: Manager,
    Socket: Socket,
    io: lookup,
    connect: lookup,
    protocol: 5,
    parser: { encode: encodePacket, Decoder: Decoder, PacketType: PacketType },
  });

  if (typeof module === "object" && module.exports) module.exports = lookup;
  global.io = lookup;
})(typeof globalThis !== "undefined" ? globalThis : typeof self !== "undefined" ? self : this);
