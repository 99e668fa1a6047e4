// A Socket.IO client made of the official packet encoder/decoder (Debian's node-socket.io-parser, the
// socket.io-parser package of the Socket.IO project) over Node's own WebSocket client, with the Engine.IO
// framing done here (it is four lines). It runs the steps given as JSON in argv[3] against argv[2] and
// prints every packet it decodes as one JSON line, binary attachments as {"$binary": [bytes]}.
//
// usage: node --experimental-websocket official_parser_client.js ws://host:port/socket.io/ STEPS-JSON
//   a step: {"send": PACKET} (a socket.io-parser packet; {"$binary": [bytes]} becomes a Buffer) or
//           {"expect": N} (wait until N packets have been decoded, at most 5 s each) or
//           {"reply": ARGS} (acknowledge the last decoded packet that asked for it, with ARGS)
"use strict";
const { Encoder, Decoder } = require("socket.io-parser");

const url = process.argv[2] + "?EIO=4&transport=websocket";
const steps = JSON.parse(process.argv[3]);

function revive(value) {
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === "object") {
    if (Array.isArray(value.$binary)) return Buffer.from(value.$binary);
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = revive(v);
    return out;
  }
  return value;
}

function show(value) {
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return { $binary: Array.from(new Uint8Array(value.buffer ? value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) : value)) };
  }
  if (Array.isArray(value)) return value.map(show);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = show(v);
    return out;
  }
  return value;
}

const encoder = new Encoder();
const decoder = new Decoder();
const decoded = [];
let waiter = null;
decoder.on("decoded", (packet) => {
  decoded.push(packet);
  console.log(JSON.stringify({ type: packet.type, nsp: packet.nsp, id: packet.id, data: show(packet.data) }));
  if (waiter && decoded.length >= waiter.count) { const w = waiter; waiter = null; w.resolve(); }
});

const ws = new WebSocket(url);
ws.binaryType = "arraybuffer";
let opened;
const open = new Promise((resolve) => { opened = resolve; });

ws.addEventListener("message", (event) => {
  if (typeof event.data !== "string") {
    decoder.add(Buffer.from(event.data));  // a binary attachment, sent as a bare Engine.IO binary message
    return;
  }
  const type = event.data[0];
  if (type === "0") opened();
  else if (type === "2") ws.send("3");
  else if (type === "4") decoder.add(event.data.slice(1));
});
ws.addEventListener("error", (event) => { console.error("websocket error", event.message || ""); process.exit(1); });

function send(packet) {
  for (const part of encoder.encode(revive(packet))) {
    ws.send(typeof part === "string" ? "4" + part : part);
  }
}

function expect(count) {
  if (decoded.length >= count) return Promise.resolve();
  return new Promise((resolve, reject) => {
    waiter = { count, resolve };
    setTimeout(() => reject(new Error(`expected ${count} packets, got ${decoded.length}`)), 5000);
  });
}

(async () => {
  await open;
  for (const step of steps) {
    if (step.send) send(step.send);
    if (step.expect) await expect(step.expect);
    if (step.reply) {
      const asking = [...decoded].reverse().find((packet) => packet.id !== undefined);
      send({ type: 3, nsp: asking.nsp, id: asking.id, data: step.reply });
    }
  }
  ws.close();
  process.exit(0);
})().catch((error) => { console.error(error.message); process.exit(1); });
