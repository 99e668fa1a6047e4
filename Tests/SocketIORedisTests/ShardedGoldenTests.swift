import NIOCore
import SocketIOCore
import SocketIORedis
import SocketIOServer
import Testing

/// The sharded adapter's wire format, byte for byte, as Node.js's `createShardedAdapter`
/// (`@socket.io/redis-adapter` 8.3, lib/sharded-adapter.ts) over socket.io-adapter 2.5's `ClusterAdapter`
/// (lib/cluster-adapter.ts) writes it:
/// - `publishAndReturnOffset` sets `uid` then `nsp` on `{type, data}`, so JSON keys come in that order;
/// - socket.io's `BroadcastOperator.emit` builds the packet as `{type: 2, data}` and the adapter publishes
///   it before the in-memory adapter adds `nsp`;
/// - `encodeOptions` writes `{rooms, except, flags}`, flags being the operator's (`{}` by default);
/// - `encode()` writes JSON unless the type may carry binary (BROADCAST, BROADCAST_ACK,
///   FETCH_SOCKETS_RESPONSE, SERVER_SIDE_EMIT, SERVER_SIDE_EMIT_RESPONSE) and does: then notepack.io.
@Suite struct ShardedGoldenTests {
    let uid = "0123456789abcdef"

    func json(_ type: ClusterMessageType, _ data: JSONValue?, nsp: String = "/") -> String {
        String(buffer: ClusterAdapterMessage.encode(type: type, data: data, uid: self.uid, namespace: nsp))
    }

    @Test func channelNames() {
        let channels = ShardedAdapterChannels(namespace: "/")
        #expect(channels.main == "socket.io#/#")
        #expect(channels.response(self.uid) == "socket.io#/#0123456789abcdef#")
        #expect(channels.room("room1") == "socket.io#/#room1#")
        let custom = ShardedAdapterChannels(prefix: "app", namespace: "/admin")
        #expect(custom.main == "app#/admin#" && custom.room("r") == "app#/admin#r#")
    }

    @Test func broadcastChannelFollowsTheSubscriptionMode() {
        let channels = ShardedAdapterChannels(namespace: "/")
        let socketId = "AbCdEfGhIjKlMnOpQrSt"  // 20 characters, like a socket id
        #expect(channels.broadcastChannel(rooms: [], mode: .dynamic) == "socket.io#/#")
        #expect(channels.broadcastChannel(rooms: ["room1"], mode: .dynamic) == "socket.io#/#room1#")
        #expect(channels.broadcastChannel(rooms: [socketId], mode: .dynamic) == "socket.io#/#")
        #expect(channels.broadcastChannel(rooms: [socketId], mode: .dynamicPrivate) == "socket.io#/#\(socketId)#")
        #expect(channels.broadcastChannel(rooms: ["room1", "room2"], mode: .dynamic) == "socket.io#/#")
        #expect(channels.broadcastChannel(rooms: ["room1"], mode: .static) == "socket.io#/#")
        // JavaScript counts UTF-16 units: "é" × 20 is 20 long, "😀" × 10 too.
        #expect(ShardedAdapterChannels.looksLikeASocketId(String(repeating: "😀", count: 10)))
    }

    @Test func broadcastIsJSON() {
        let packet = SocketPacket.event("hello", ["world", 1], namespace: "/")
        #expect(json(.broadcast, ClusterAdapterMessage.broadcastData(packet: packet, options: BroadcastOptions()))
            == #"{"type":3,"data":{"packet":{"type":2,"data":["hello","world",1]},"opts":{"rooms":[],"except":[],"flags":{}}},"uid":"0123456789abcdef","nsp":"/"}"#)
        var options = BroadcastOptions(rooms: ["room1"], except: ["muted"])
        options.volatile = true
        #expect(json(.broadcast, ClusterAdapterMessage.broadcastData(packet: packet, options: options))
            == #"{"type":3,"data":{"packet":{"type":2,"data":["hello","world",1]},"opts":{"rooms":["room1"],"except":["muted"],"flags":{"volatile":true}}},"uid":"0123456789abcdef","nsp":"/"}"#)
    }

    @Test func broadcastWithAcksCarriesTheRequestIdBetweenPacketAndOpts() {
        let packet = SocketPacket.event("question", [], namespace: "/chat")
        var options = BroadcastOptions()
        options.timeout = .milliseconds(1000)
        #expect(json(.broadcast, ClusterAdapterMessage.broadcastData(packet: packet, options: options, requestId: "fedcba9876543210"), nsp: "/chat")
            == #"{"type":3,"data":{"packet":{"type":2,"data":["question"]},"requestId":"fedcba9876543210","opts":{"rooms":[],"except":[],"flags":{"timeout":1000}}},"uid":"0123456789abcdef","nsp":"/chat"}"#)
    }

    @Test func binaryBroadcastIsMessagePack() {
        let packet = SocketPacket.event("bin", [.binary(ByteBuffer(bytes: [1, 2]))], namespace: "/")
        let bytes = ClusterAdapterMessage.encode(type: .broadcast, data: ClusterAdapterMessage.broadcastData(packet: packet, options: BroadcastOptions()), uid: "u", namespace: "/")
        // notepack.io: fixmap 4 {type: 3, data: {packet: {type: 2, data: ["bin", <bin 01 02>]}, opts: {rooms: [], except: [], flags: {}}}, uid: "u", nsp: "/"}
        #expect(hex(bytes) == [
            "84", "a474797065", "03",
            "a464617461", "82",
            "a67061636b6574", "82", "a474797065", "02", "a464617461", "92", "a362696e", "c4020102",
            "a46f707473", "83", "a5726f6f6d73", "90", "a6657863657074", "90", "a5666c616773", "80",
            "a3756964", "a175",
            "a36e7370", "a12f",
        ].joined())
        // A binary packet type is written as the plain EVENT type, as socket.io's operator builds it.
        var binaryType = packet
        binaryType.type = .binaryEvent
        #expect(ClusterAdapterMessage.packetObject(binaryType).objectValue?["type"] == .int(2))
    }

    @Test func requestsAndResponses() {
        let selection = BroadcastOptions(rooms: ["r"])
        #expect(json(.socketsJoin, ClusterAdapterMessage.roomsData(options: selection, rooms: ["a", "b"]))
            == #"{"type":4,"data":{"opts":{"rooms":["r"],"except":[],"flags":{}},"rooms":["a","b"]},"uid":"0123456789abcdef","nsp":"/"}"#)
        #expect(json(.socketsLeave, ClusterAdapterMessage.roomsData(options: selection, rooms: ["a"]))
            == #"{"type":5,"data":{"opts":{"rooms":["r"],"except":[],"flags":{}},"rooms":["a"]},"uid":"0123456789abcdef","nsp":"/"}"#)
        #expect(json(.disconnectSockets, ClusterAdapterMessage.disconnectData(options: selection, close: true))
            == #"{"type":6,"data":{"opts":{"rooms":["r"],"except":[],"flags":{}},"close":true},"uid":"0123456789abcdef","nsp":"/"}"#)
        #expect(json(.fetchSockets, ClusterAdapterMessage.fetchSocketsData(options: selection, requestId: "r1"))
            == #"{"type":7,"data":{"opts":{"rooms":["r"],"except":[],"flags":{}},"requestId":"r1"},"uid":"0123456789abcdef","nsp":"/"}"#)
        let socket: JSONValue = ["id": "AbCdEfGhIjKlMnOpQrSt", "handshake": ["auth": [:]], "rooms": ["AbCdEfGhIjKlMnOpQrSt", "r"], "data": [:]]
        #expect(json(.fetchSocketsResponse, ClusterAdapterMessage.fetchSocketsResponseData(requestId: "r1", sockets: [socket]))
            == #"{"type":8,"data":{"requestId":"r1","sockets":[{"id":"AbCdEfGhIjKlMnOpQrSt","handshake":{"auth":{}},"rooms":["AbCdEfGhIjKlMnOpQrSt","r"],"data":{}}]},"uid":"0123456789abcdef","nsp":"/"}"#)
        #expect(json(.serverSideEmit, ClusterAdapterMessage.serverSideEmitData(arguments: ["ping", 1], requestId: nil))
            == #"{"type":9,"data":{"packet":["ping",1]},"uid":"0123456789abcdef","nsp":"/"}"#)
        #expect(json(.serverSideEmit, ClusterAdapterMessage.serverSideEmitData(arguments: ["ping"], requestId: "r2"))
            == #"{"type":9,"data":{"requestId":"r2","packet":["ping"]},"uid":"0123456789abcdef","nsp":"/"}"#)
        #expect(json(.serverSideEmitResponse, ClusterAdapterMessage.answerData(requestId: "r2", packet: "pong"))
            == #"{"type":10,"data":{"requestId":"r2","packet":"pong"},"uid":"0123456789abcdef","nsp":"/"}"#)
        #expect(json(.broadcastClientCount, ClusterAdapterMessage.clientCountData(requestId: "r3", clientCount: 2))
            == #"{"type":11,"data":{"requestId":"r3","clientCount":2},"uid":"0123456789abcdef","nsp":"/"}"#)
        #expect(json(.broadcastAck, ClusterAdapterMessage.answerData(requestId: "r3", packet: ["ok"]))
            == #"{"type":12,"data":{"requestId":"r3","packet":["ok"]},"uid":"0123456789abcdef","nsp":"/"}"#)
    }

    @Test func decodesWhatNodeJSNodesSend() throws {
        // JSON from a Node.js node: a broadcast whose packet has no nsp.
        let json = ByteBuffer(string: #"{"type":3,"data":{"packet":{"type":2,"data":["hello",{"a":1}]},"opts":{"rooms":["room1"],"except":[],"flags":{"compress":false}}},"uid":"9f2c1b7a5e3d8c40","nsp":"/"}"#)
        let message = try ClusterAdapterMessage.decode(json)
        #expect(message.type == .broadcast && message.uid == "9f2c1b7a5e3d8c40" && message.namespace == "/")
        let packet = try #require(RedisAdapterMessage.packet(from: message.data["packet"]))
        #expect(packet.type == .event && packet.data == ["hello", ["a": 1]])
        let options = RedisAdapterMessage.options(from: message.data["opts"])
        #expect(options.rooms == ["room1"] && !options.compress)
        // notepack.io from a Node.js node: a BROADCAST_ACK with a Buffer.
        let msgpack = bytes("84 a474797065 0c a464617461 82 a9726571756573744964 a27231 a67061636b6574 c403616263 a3756964 a178 a36e7370 a12f")
        let ack = try ClusterAdapterMessage.decode(msgpack)
        #expect(ack.type == .broadcastAck && ack.uid == "x" && ack.data["requestId"] == "r1")
        #expect(ack.data["packet"] == .binary(ByteBuffer(string: "abc")))
        // Types of the heartbeat adapters are known by name.
        #expect(ClusterMessageType.adapterClose.description == "ADAPTER_CLOSE" && ClusterMessageType(rawValue: 99).description == "UNKNOWN(99)")
        #expect(throws: RedisError.self) { try ClusterAdapterMessage.decode(ByteBuffer(string: #"{"data":{}}"#)) }
    }

    @Test func randomIdsAreSixteenHexDigits() {
        let ids = (0..<50).map { _ in ClusterAdapterMessage.randomId() }
        #expect(ids.allSatisfy { $0.count == 16 && $0.allSatisfy(\.isHexDigit) })
        #expect(Set(ids).count == 50)
    }
}
