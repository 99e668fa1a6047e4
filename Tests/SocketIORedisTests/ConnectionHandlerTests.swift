import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
@testable import SocketIORedis
import Testing

/// The connection handler on raw bytes: sharded messages, and a `sunsubscribe` the server pushes (the
/// slot moved) told apart from the answer to our own `SUNSUBSCRIBE`.
@Suite struct RedisConnectionHandlerTests {
    @Test func serverPushedShardUnsubscribeIsNotTakenForAReply() throws {
        let messages = NIOLockedValueBox<[String]>([])
        let dropped = NIOLockedValueBox<[String]>([])
        let handler = RedisConnectionHandler(
            parserLimits: RESPParser.Limits(),
            maxPending: 100,
            onMessage: { message in messages.withLockedValue { $0.append("\(message.isSharded ? "s" : "")\(message.channel)=\(String(buffer: message.payload))") } },
            onShardUnsubscribed: { channel in dropped.withLockedValue { $0.append(channel) } }
        )
        let channel = EmbeddedChannel(handler: handler)
        defer { _ = try? channel.finish() }
        let subscribed = channel.eventLoop.makePromise(of: RESPValue.self)
        let unsubscribed = channel.eventLoop.makePromise(of: RESPValue.self)
        try channel.writeOutbound(RedisRequest(command: RedisCommand("SSUBSCRIBE", "a"), promise: subscribed))
        try channel.writeOutbound(RedisRequest(command: RedisCommand("SUNSUBSCRIBE", "a"), promise: unsubscribed))
        #expect(String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self))) == "*2\r\n$10\r\nSSUBSCRIBE\r\n$1\r\na\r\n")

        try channel.writeInbound(ByteBuffer(string: "*3\r\n$10\r\nssubscribe\r\n$1\r\na\r\n:1\r\n"))
        #expect(try subscribed.futureResult.wait().elements?.first?.string == "ssubscribe")
        // A message on the sharded channel, then the server drops channel "b" while our SUNSUBSCRIBE of
        // "a" waits for its answer: a push, reported, not the answer.
        try channel.writeInbound(ByteBuffer(string: "*3\r\n$8\r\nsmessage\r\n$1\r\na\r\n$2\r\nhi\r\n"))
        try channel.writeInbound(ByteBuffer(string: "*3\r\n$12\r\nsunsubscribe\r\n$1\r\nb\r\n:0\r\n"))
        #expect(dropped.withLockedValue { $0 } == ["b"])
        #expect(messages.withLockedValue { $0 } == ["sa=hi"])
        // The answer for "a", split anywhere, completes the SUNSUBSCRIBE.
        for piece in ["*3\r\n$12\r\nsunsub", "scribe\r\n$1\r\na\r\n", ":0\r\n"] { try channel.writeInbound(ByteBuffer(string: piece)) }
        #expect(try unsubscribed.futureResult.wait().elements?[1].string == "a")
        #expect(dropped.withLockedValue { $0 } == ["b"])
        // With nothing pending, a sunsubscribe can only be a push.
        try channel.writeInbound(ByteBuffer(string: "*3\r\n$12\r\nsunsubscribe\r\n$1\r\na\r\n:0\r\n"))
        #expect(dropped.withLockedValue { $0 } == ["b", "a"])
    }

    @Test func refusedShardSubscriptionFailsItsPromiseWithTheRedirection() throws {
        let handler = RedisConnectionHandler(parserLimits: RESPParser.Limits(), maxPending: 100, onMessage: { _ in })
        let channel = EmbeddedChannel(handler: handler)
        defer { _ = try? channel.finish() }
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        try channel.writeOutbound(RedisRequest(command: RedisCommand("SSUBSCRIBE", "socket.io#/#"), promise: promise))
        try channel.writeInbound(ByteBuffer(string: "-MOVED 13868 127.0.0.1:7002\r\n"))
        #expect {
            try promise.futureResult.wait()
        } throws: { error in
            RedisRedirection(error) == RedisRedirection(errorMessage: "MOVED 13868 127.0.0.1:7002")
        }
    }
}
