import EngineIOCore
import Glibc
import NIOCore
import SocketIOCore
@testable import SocketIORedis
import SocketIOServer
import Testing

/// The Redis Streams adapter's wire format, as Node.js's `@socket.io/redis-streams-adapter` 0.3.1 writes it
/// (lib/adapter.ts, lib/util.ts) over socket.io-adapter 2.5's `ClusterAdapter`:
/// - `XADD(client, stream, payload, maxLen)` with ioredis: `[stream, "MAXLEN", "~", maxLen, "*", ...fields]`,
///   fields in the order of `encode()`: `uid`, `nsp`, `type` (`message.type.toString()`), `data`;
/// - `data` is `JSON.stringify(message.data)`, or, for a type that may carry binary and does,
///   `Buffer.from(encode(message.data)).toString("base64")` (`@msgpack/msgpack`); `decode()` takes JSON
///   when `data` starts with `{`;
/// - ephemeral messages (BROADCAST with `requestId`, SERVER_SIDE_EMIT, FETCH_SOCKETS) and responses are
///   `encode(message)` (msgpack of `{type, data, uid, nsp}`) on `socket.io#<nsp>#` / `socket.io#<nsp>#<uid>#`;
/// - sessions: `SET <prefix><pid> base64(msgpack({sid, pid, rooms, data})) PX <maxDisconnectionDuration>`;
/// - `computeStreamName`: `streamName` or `streamName-<hashCode(nsp) % streamCount>`.
/// Expected bytes were written by hand from those rules (msgpack by its spec: fixmap, fixstr, bin 8).
@Suite struct StreamsGoldenTests {
    let uid = "0123456789abcdef"

    func strings(_ command: RedisCommand) -> [String] { command.arguments.map { String(buffer: $0) } }

    @Test func broadcastEntryIsAnXADDWithJSONData() {
        let packet = SocketPacket.event("hello", ["world", 1], namespace: "/")
        let fields = RedisStreamsMessage.entryFields(
            type: .broadcast, data: ClusterAdapterMessage.broadcastData(packet: packet, options: BroadcastOptions()), uid: self.uid, namespace: "/")
        #expect(strings(RedisStreamsDriver.xadd(stream: "socket.io", fields: fields, maxLength: 10_000)) == [
            "XADD", "socket.io", "MAXLEN", "~", "10000", "*",
            "uid", "0123456789abcdef", "nsp", "/", "type", "3",
            "data", #"{"packet":{"type":2,"data":["hello","world",1]},"opts":{"rooms":[],"except":[],"flags":{}}}"#,
        ])
    }

    @Test func socketsJoinGoesToTheStreamAsJSON() {
        let data = ClusterAdapterMessage.roomsData(options: BroadcastOptions(rooms: ["a"]), rooms: ["b"])
        #expect(!RedisStreamsMessage.isEphemeral(.socketsJoin, data))
        let fields = RedisStreamsMessage.entryFields(type: .socketsJoin, data: data, uid: self.uid, namespace: "/chat")
        #expect(fields.map(\.name) == ["uid", "nsp", "type", "data"])
        #expect(fields.map { String(buffer: $0.value) } == ["0123456789abcdef", "/chat", "4", #"{"opts":{"rooms":["a"],"except":[],"flags":{}},"rooms":["b"]}"#])
    }

    @Test func binaryDataIsBase64MessagePack() throws {
        var bytes = ByteBuffer()
        bytes.writeBytes([1, 2, 3])
        let packet = SocketPacket.event("bin", [.binary(bytes)], namespace: "/")
        let fields = RedisStreamsMessage.entryFields(
            type: .broadcast, data: ClusterAdapterMessage.broadcastData(packet: packet, options: BroadcastOptions()), uid: self.uid, namespace: "/")
        let expected = "gqZwYWNrZXSCpHR5cGUCpGRhdGGSo2JpbsQDAQIDpG9wdHODpXJvb21zkKZleGNlcHSQpWZsYWdzgA=="
        #expect(String(buffer: fields[3].value) == expected)
        // and an entry Node.js wrote decodes back to the packet with its binary argument
        let entry = StreamEntry(id: "1700000000000-0", fields: [
            ("uid", ByteBuffer(string: "node-js-uid")), ("nsp", ByteBuffer(string: "/")),
            ("type", ByteBuffer(string: "3")), ("data", ByteBuffer(string: expected)),
        ])
        let decoded = try RedisStreamsMessage.decode(entry)
        #expect(decoded.type == .broadcast && decoded.uid == "node-js-uid" && decoded.namespace == "/")
        let restored = try #require(RedisAdapterMessage.packet(from: decoded.data["packet"]))
        #expect(restored.data == .array(["bin", .binary(bytes)]))
    }

    @Test func ephemeralMessagesAreMessagePackOnPubSub() {
        let data = ClusterAdapterMessage.serverSideEmitData(arguments: ["ping", 1], requestId: "fedcba9876543210")
        #expect(RedisStreamsMessage.isEphemeral(.serverSideEmit, data))
        #expect(RedisStreamsMessage.isEphemeral(.fetchSockets, ClusterAdapterMessage.fetchSocketsData(options: BroadcastOptions(), requestId: "r")))
        let packet = SocketPacket.event("q", [], namespace: "/")
        #expect(RedisStreamsMessage.isEphemeral(.broadcast, ClusterAdapterMessage.broadcastData(packet: packet, options: BroadcastOptions(), requestId: "r")))
        #expect(!RedisStreamsMessage.isEphemeral(.broadcast, ClusterAdapterMessage.broadcastData(packet: packet, options: BroadcastOptions())))
        let bytes = RedisStreamsMessage.pubSubMessage(type: .serverSideEmit, data: data, uid: self.uid, namespace: "/")
        let hex = bytes.readableBytesView.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        #expect(hex == "84a47479706509a46461746182a9726571756573744964b066656463626139383736353433323130a67061636b657492a470696e6701"
            + "a3756964b030313233343536373839616263646566a36e7370a12f")
    }

    @Test func sessionIsBase64MessagePackOfSidPidRoomsData() throws {
        let session = PersistedSession(sid: "AbCdEfGhIjKlMnOpQrSt", pid: "p1", rooms: ["room1", "AbCdEfGhIjKlMnOpQrSt"], data: ["x": 1])
        let encoded = "hKNzaWS0QWJDZEVmR2hJaktsTW5PcFFyU3SjcGlkonAxpXJvb21zkrRBYkNkRWZHaElqS2xNbk9wUXJTdKVyb29tMaRkYXRhgaF4AQ=="
        #expect(String(buffer: RedisStreamsMessage.encodeSession(session)) == encoded)
        #expect(try RedisStreamsMessage.decodeSession(ByteBuffer(string: encoded)) == session)
    }

    @Test func readAndRangeCommands() {
        #expect(strings(RedisStreamsDriver.xread(stream: "socket.io", after: "$", count: 100, block: .seconds(5)))
            == ["XREAD", "COUNT", "100", "BLOCK", "5000", "STREAMS", "socket.io", "$"])
        #expect(RedisStreamsMessage.isEntryId("1700000000000-12") && !RedisStreamsMessage.isEntryId("abc")
            && !RedisStreamsMessage.isEntryId("507f191e810c19729de860ea") && !RedisStreamsMessage.isEntryId("1-") && !RedisStreamsMessage.isEntryId("-1"))
        #expect(RedisStreamsMessage.nextId("1700000000000-12") == "1700000000000-13")
    }

    @Test func appendsAreWrittenAgainAfterTransientErrorsOnly() {
        #expect(RedisStreamsDriver.isTransient(RedisError.notConnected) && RedisStreamsDriver.isTransient(RedisError.connectionClosed))
        // the connection's own I/O errors (a reset when Redis is killed with replies in flight)
        #expect(RedisStreamsDriver.isTransient(IOError(errnoCode: ECONNRESET, reason: "read")))
        // a Redis restarted with its data answers LOADING until it has read it
        #expect(RedisStreamsDriver.isTransient(RedisError.server("LOADING Redis is loading the dataset in memory")))
        #expect(!RedisStreamsDriver.isTransient(RedisError.server("OOM command not allowed when used memory > 'maxmemory'.")))
        #expect(!RedisStreamsDriver.isTransient(RedisError.server("WRONGTYPE Operation against a key holding the wrong kind of value")))
    }

    @Test func xreadRepliesParse() throws {
        var parser = RESPParser()
        var bytes = ByteBuffer(string: "*1\r\n*2\r\n$9\r\nsocket.io\r\n*1\r\n*2\r\n$15\r\n1700000000000-0\r\n*4\r\n$3\r\nuid\r\n$1\r\nu\r\n$3\r\nnsp\r\n$1\r\n/\r\n")
        let reply = try #require(try parser.parseNext(&bytes))
        let entries = try RedisStreamsDriver.streamEntries(fromXREAD: reply)
        #expect(entries.map(\.id) == ["1700000000000-0"])
        #expect(entries[0].string("uid") == "u" && entries[0].string("nsp") == "/")
        // BLOCK timed out: a null array
        var empty = ByteBuffer(string: "*-1\r\n")
        #expect(try RedisStreamsDriver.streamEntries(fromXREAD: try #require(try parser.parseNext(&empty))).isEmpty)
    }

    @Test func streamNamesFollowNodeJSHashCode() {
        #expect(RedisStreamsAdapterOptions().streamName(for: "/chat") == "socket.io")
        let three = RedisStreamsAdapterOptions(streamCount: 3)
        #expect(RedisStreamsAdapterOptions.hashCode("/") == 47)
        #expect(RedisStreamsAdapterOptions.hashCode("/a-rather-long-namespace") == -1_420_888_980)
        #expect(three.streamName(for: "/") == "socket.io-2")
        #expect(three.streamName(for: "/chat") == "socket.io-1")
        // JavaScript's % keeps the sign of a negative hash
        #expect(three.streamName(for: "/notifications") == "socket.io--2")
    }

    @Test func packetsOfARestoredSessionFollowShouldIncludePacket() {
        #expect(RedisStreamsAdapter.reaches(BroadcastOptions(), rooms: ["s"]))
        #expect(RedisStreamsAdapter.reaches(BroadcastOptions(rooms: ["r1"]), rooms: ["s", "r1"]))
        #expect(!RedisStreamsAdapter.reaches(BroadcastOptions(rooms: ["r2"]), rooms: ["s", "r1"]))
        #expect(!RedisStreamsAdapter.reaches(BroadcastOptions(except: ["r1"]), rooms: ["s", "r1"]))
    }
}
