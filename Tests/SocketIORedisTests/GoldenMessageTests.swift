import NIOCore
import SocketIOCore
import SocketIORedis
import SocketIOServer
import Testing

/// Messages in the exact bytes `@socket.io/redis-adapter` v8 (notepack.io, JSON.stringify) and
/// `@socket.io/redis-emitter` produce, built from their sources (lib/index.ts, broadcast-operator.ts).
@Suite struct GoldenMessageTests {
    // MessagePack of ["abcdef", {type: 2, data: ["hello", "world"], nsp: "/"},
    //                 {rooms: ["room1"], except: [], flags: {}}]: io.to("room1").emit("hello", "world").
    static let roomBroadcast = """
        93 a6 616263646566
           83 a4 74797065 02 a4 64617461 92 a5 68656c6c6f a5 776f726c64 a3 6e7370 a1 2f
           83 a5 726f6f6d73 91 a5 726f6f6d31 a6 657863657074 90 a5 666c616773 80
        """

    @Test func broadcastEncodesLikeNode() {
        let message = RedisAdapterMessage.encodeBroadcast(
            uid: "abcdef",
            packet: .event("hello", ["world"]),
            options: BroadcastOptions(rooms: ["room1"])
        )
        #expect(hex(message) == hex(bytes(Self.roomBroadcast)))
        #expect(RedisAdapterChannels(namespace: "/").broadcastChannel(rooms: ["room1"]) == "socket.io#/#room1#")
    }

    @Test func broadcastDecodesNodeMessages() throws {
        let message = try RedisAdapterMessage.decodeBroadcast(bytes(Self.roomBroadcast))
        #expect(message.uid == "abcdef")
        #expect(message.packet == .event("hello", ["world"]))
        #expect(message.options.rooms == ["room1"] && message.options.except.isEmpty && !message.options.volatile)

        // socket.broadcast.volatile.compress(false).emit("file", <Buffer 01 02 03>) from a Node.js node on /chat,
        // with an undefined value as notepack writes it (fixext 1, type 0).
        let binary = bytes("""
            93 a6 58595a313233
               83 a4 74797065 02 a4 64617461 93 a4 66696c65 c4 03 010203 d4 0000 a3 6e7370 a5 2f63686174
               83 a5 726f6f6d73 90 a6 657863657074 91 a4 73696431 a5 666c616773 82 a8 766f6c6174696c65 c3 a8 636f6d7072657373 c2
            """)
        let decoded = try RedisAdapterMessage.decodeBroadcast(binary)
        #expect(decoded.packet == SocketPacket(type: .event, namespace: "/chat", data: ["file", .binary(bytes: [1, 2, 3]), .null]))
        #expect(decoded.options.except == ["sid1"] && decoded.options.volatile && !decoded.options.compress)
    }

    @Test func emitterBroadcastIsAccepted() throws {
        // The emitter orders opts as {rooms, flags, except} and uses uid "emitter".
        let message = bytes("""
            93 a7 656d6974746572
               83 a4 74797065 02 a4 64617461 91 a4 70696e67 a3 6e7370 a1 2f
               83 a5 726f6f6d73 92 a1 61 a1 62 a5 666c616773 80 a6 657863657074 91 a1 63
            """)
        let decoded = try RedisAdapterMessage.decodeBroadcast(message)
        #expect(decoded.uid == RedisEmitter.uid && decoded.options.rooms == ["a", "b"] && decoded.options.except == ["c"])
    }

    @Test func broadcastWithAckRequest() throws {
        // {uid, requestId, type: BROADCAST, packet, opts} with flags.timeout 5000, as MessagePack.
        let expected = bytes("""
            85 a3 756964 a6 616263646566 a9 726571756573744964 a6 58795a313233 a4 74797065 07
               a6 7061636b6574 83 a4 74797065 02 a4 64617461 91 a4 70696e67 a3 6e7370 a1 2f
               a4 6f707473 83 a5 726f6f6d73 90 a6 657863657074 90 a5 666c616773 81 a7 74696d656f7574 cd 1388
            """)
        let encoded = RedisAdapterMessage.msgpack([
            "uid": "abcdef",
            "requestId": "XyZ123",
            "type": .int(RedisRequestType.broadcast.rawValue),
            "packet": RedisAdapterMessage.packetObject(.event("ping")),
            "opts": RedisAdapterMessage.optionsObject(BroadcastOptions(timeout: .seconds(5))),
        ])
        #expect(hex(encoded) == hex(expected))
        let object = try RedisAdapterMessage.decodeObject(expected)
        #expect(object["type"]?.intValue == 7 && object["requestId"]?.stringValue == "XyZ123")
        #expect(RedisAdapterMessage.options(from: object["opts"]).timeout == .seconds(5))
    }

    @Test func jsonRequestsMatchNode() throws {
        let join = RedisAdapterMessage.json([
            "uid": "abcdef",
            "type": .int(RedisRequestType.remoteJoin.rawValue),
            "opts": RedisAdapterMessage.selectionObject(BroadcastOptions(rooms: ["a"])),
            "rooms": ["b"],
        ])
        #expect(String(buffer: join) == #"{"uid":"abcdef","type":2,"opts":{"rooms":["a"],"except":[]},"rooms":["b"]}"#)
        let ack = RedisAdapterMessage.json(["type": 6, "requestId": "r1", "data": nil])
        #expect(String(buffer: ack) == #"{"type":6,"requestId":"r1"}"#)  // JSON.stringify drops undefined
        let count = try RedisAdapterMessage.decodeObject(ByteBuffer(string: #"{"type":8,"requestId":"r1","clientCount":3}"#))
        #expect(count["clientCount"]?.intValue == 3)
    }

    @Test func channelNames() {
        let channels = RedisAdapterChannels(key: "my-app", namespace: "/admin")
        #expect(channels.broadcast == "my-app#/admin#")
        #expect(channels.room("r") == "my-app#/admin#r#")
        #expect(channels.request == "my-app-request#/admin#")
        #expect(channels.response == "my-app-response#/admin#")
        #expect(channels.specificResponse("abc123") == "my-app-response#/admin#abc123#")
        #expect(channels.broadcastPattern == "my-app#/admin#*")
        #expect(RedisAdapterChannels(namespace: "/a*b").broadcastPattern == #"socket.io#/a\*b#*"#)
        #expect(RedisRequestType.broadcastAck.rawValue == 9 && RedisRequestType.remoteFetch.description == "REMOTE_FETCH")
    }

    @Test func malformedMessagesThrow() {
        for input in ["", "93 a1 61", "92 a1 61 80", "93 01 80 80", "93 a1 61 81 a4 74797065 a1 78 80"] {
            #expect(throws: RedisError.self, "\(input)") { try RedisAdapterMessage.decodeBroadcast(bytes(input)) }
        }
        #expect(throws: RedisError.self) { try RedisAdapterMessage.decodeObject(ByteBuffer(string: "{not json")) }
        #expect(throws: RedisError.self) { try RedisAdapterMessage.decodeObject(bytes("91 01")) }
    }
}
