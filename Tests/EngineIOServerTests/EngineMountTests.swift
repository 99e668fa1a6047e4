import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket
import Testing

@testable import EngineIOServer

/// Stands for a framework's handlers after the mount: records what reaches them.
private final class FrameworkRecorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart

    var heads: [String] = []
    var ends = 0
    var reads = 0
    var quiesced = false
    var inactive = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.reads += 1
        switch Self.unwrapInboundIn(data) {
        case .head(let head): self.heads.append(head.uri)
        case .body: break
        case .end: self.ends += 1
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { self.quiesced = true }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.inactive = true
    }
}

/// What a handoff was told, in order.
private final class HandoffLog {
    var calls: [String] = []
}

/// A connection as a framework builds it (HTTP codec, then its own handler), with Engine.IO mounted;
/// with `handoff`, the recorder is the framework's handler that is there from the start, and the
/// framework's request-serving part (`served`) comes with the first request for the framework.
private struct MountedConnection {
    let channel = EmbeddedChannel()
    let recorder = FrameworkRecorder()
    let served = FrameworkRecorder()
    let handoffLog = HandoffLog()
    let engine = EngineServer()

    init(handoff withHandoff: Bool = false) throws {
        let sync = self.channel.pipeline.syncOperations
        try sync.addHandler(HTTPResponseEncoder())
        try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
        try sync.addHandler(self.recorder)
        let log = self.handoffLog
        let served = self.served
        let handoff = EngineMountHandoff(
            handlers: [self.recorder],
            beforeFirstRequest: { pipeline in
                log.calls.append("beforeFirstRequest")
                try pipeline.addHandler(served)
            },
            withoutRequest: { log.calls.append("withoutRequest") }
        )
        try EngineMount.addHandler(to: sync, engine: self.engine, handoff: withHandoff ? handoff : nil, logger: .init(label: "test"))
        try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    func send(_ text: String) throws {
        try self.send(bytes: Array(text.utf8))
    }

    func send(bytes: [UInt8]) throws {
        try self.channel.writeInbound(ByteBuffer(bytes: bytes))
        self.channel.embeddedEventLoop.run()
    }

    func sentBytes() throws -> [UInt8] {
        var all = ByteBuffer()
        while var chunk = try self.channel.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&chunk) }
        return Array(all.readableBytesView)
    }

    func sent() throws -> String {
        String(decoding: try self.sentBytes(), as: UTF8.self)
    }
}

@Suite("Engine.IO mounted in another server's pipeline")
struct EngineMountTests {
    @Test func requestsOutsideThePathReachTheFrameworkUntouched() throws {
        let connection = try MountedConnection()
        try connection.send("GET /health?x=1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /socket.iox HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi")
        #expect(connection.recorder.heads == ["/health?x=1", "/socket.iox"])
        #expect(connection.recorder.ends == 2)
        #expect(try connection.sent() == "")
    }

    @Test func requestsUnderThePathAreAnsweredByTheEngine() throws {
        let connection = try MountedConnection()
        try connection.send("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\n\r\n")
        let answer = try connection.sent()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(answer.contains("0{\"sid\":"))
        #expect(connection.engine.clientsCount == 1)
        // then the framework's next request on the same connection still reaches it
        try connection.send("GET /after HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(connection.recorder.heads == ["/after"])
    }

    @Test func aWebSocketUnderThePathTakesTheConnectionOver() throws {
        let connection = try MountedConnection()
        try connection.send(
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        let answer = try connection.sent()
        #expect(answer.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(answer.contains("0{\"sid\":"))  // the open packet, in a WebSocket frame after the 101
        let pipeline = connection.channel.pipeline.syncOperations
        #expect(throws: (any Error).self) { try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self) }
        #expect(throws: (any Error).self) { try pipeline.handler(type: HTTPResponseEncoder.self) }
        _ = try pipeline.handler(type: WebSocketMessageHandler.self)
        // frames go to the session, nothing to the framework; a shutdown is not the framework's either
        try connection.send(bytes: [0x81, 0x82, 0, 0, 0, 0, 0x34, 0x78])  // a masked message "4x"
        connection.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        connection.channel.embeddedEventLoop.run()
        #expect(connection.recorder.reads == 0)
        #expect(!connection.recorder.quiesced)
        // the session got a proper close on the shutdown: its close packet ("1") went out
        let closing = try connection.sentBytes()
        #expect(closing.count >= 3 && Array(closing.prefix(3)) == [0x81, 0x01, 0x31])
        #expect(closing.contains(0x88))  // and the WebSocket close frame
        // the end of the connection does reach the framework, so that it can let go of it
        #expect(!connection.recorder.inactive)
        try connection.send(bytes: [0x88, 0x80, 0, 0, 0, 0])  // the client's close frame ends the connection
        #expect(connection.recorder.inactive)
    }

    @Test func aShutdownReachesTheFrameworkOnceTheSessionsAreClosed() throws {
        let connection = try MountedConnection()
        try connection.send("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try connection.sent().contains("0{\"sid\":"))
        #expect(connection.engine.clientsCount == 1)
        connection.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        connection.channel.embeddedEventLoop.run()
        // the session was told to close (its close packet waits for its next GET): the framework waits
        #expect(!connection.recorder.quiesced)
        #expect(connection.channel.isActive)
        try connection.send("GET /socket.io/?EIO=4&transport=polling&sid=\(try #require(Self.sid(connection))) HTTP/1.1\r\nHost: a\r\n\r\n")
        let answer = try connection.sent()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK") && answer.hasSuffix("1"))
        connection.channel.embeddedEventLoop.advanceTime(by: .milliseconds(20))
        #expect(connection.engine.clientsCount == 0)
        #expect(connection.recorder.quiesced)
    }

    @Test func withAHandoffTheFrameworkServesFromItsFirstRequestOn() throws {
        let connection = try MountedConnection(handoff: true)
        try connection.send("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try connection.sent().contains("0{\"sid\":"))
        #expect(connection.handoffLog.calls.isEmpty)
        try connection.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(connection.handoffLog.calls == ["beforeFirstRequest"])
        #expect(connection.recorder.heads == ["/first", "/second"])
        #expect(connection.served.heads == ["/first", "/second"])
        connection.channel.pipeline.fireChannelInactive()
        #expect(connection.handoffLog.calls == ["beforeFirstRequest"])
    }

    @Test func aWebSocketBeforeAnyFrameworkRequestDropsTheFrameworksHandlers() throws {
        let connection = try MountedConnection(handoff: true)
        try connection.send(
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        #expect(try connection.sent().hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(connection.handoffLog.calls == ["withoutRequest"])
        let pipeline = connection.channel.pipeline.syncOperations
        #expect(throws: (any Error).self) { try pipeline.handler(type: FrameworkRecorder.self) }
        #expect(throws: (any Error).self) { try pipeline.handler(type: MountBarrier.self) }
        _ = try pipeline.handler(type: WebSocketMessageHandler.self)
    }

    @Test func aConnectionEndingBeforeAnyFrameworkRequestIsHandedOffWithout() throws {
        let connection = try MountedConnection(handoff: true)
        try connection.send("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: a\r\n\r\n")
        connection.channel.pipeline.fireChannelInactive()
        #expect(connection.handoffLog.calls == ["withoutRequest"])
    }

    @Test func withAHandoffPendingTheEndOfInputClosesTheConnection() throws {
        let connection = try MountedConnection(handoff: true)
        connection.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        connection.channel.embeddedEventLoop.run()
        #expect(!connection.channel.isActive)
        #expect(connection.handoffLog.calls == ["withoutRequest"])
    }

    private static func sid(_ connection: MountedConnection) -> String? {
        connection.engine.sessionIDs.first
    }
}
