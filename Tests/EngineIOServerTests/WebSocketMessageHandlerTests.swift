import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import EngineIOServer

/// Collects what reaches the application.
final class WebSocketMessageCollector: ChannelInboundHandler {
    typealias InboundIn = WebSocketMessage
    var messages: [WebSocketMessage] = []
    var inactive = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.messages.append(Self.unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.inactive = true
        context.fireChannelInactive()
    }
}

/// The bytes of a masked client frame (encoded by NIO's frame encoder, which masks the payload).
func clientFrame(
    _ opcode: WebSocketOpcode,
    _ bytes: [UInt8],
    fin: Bool = true,
    rsv1: Bool = false,
    rsv2: Bool = false,
    masked: Bool = true
) throws -> ByteBuffer {
    let key: WebSocketMaskingKey = [0x12, 0x34, 0x56, 0x78]
    let frame = WebSocketFrame(fin: fin, rsv1: rsv1, rsv2: rsv2, opcode: opcode, maskKey: masked ? key : nil, data: ByteBuffer(bytes: bytes))
    let encoder = EmbeddedChannel(handler: WebSocketFrameEncoder())
    try encoder.writeOutbound(frame)
    var wire = ByteBuffer()
    while var chunk = try encoder.readOutbound(as: ByteBuffer.self) { wire.writeBuffer(&chunk) }
    return wire
}

func closePayload(_ code: UInt16, _ reason: String = "") -> [UInt8] {
    [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8)
}

/// The frames a handler wrote to `channel` (unmasked server frames), decoded from its output bytes.
func writtenFrames(_ channel: EmbeddedChannel) throws -> [WebSocketFrame] {
    let decoder = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
    while let chunk = try channel.readOutbound(as: ByteBuffer.self) { try decoder.writeInbound(chunk) }
    var frames: [WebSocketFrame] = []
    while let frame = try decoder.readInbound(as: WebSocketFrame.self) { frames.append(frame) }
    return frames
}

@Suite("WebSocket message handler")
struct WebSocketMessageHandlerTests {
    private let channel: EmbeddedChannel
    private let collector = WebSocketMessageCollector()

    init(
        configuration: WebSocketConfiguration = .init(maxMessageSize: 100),
        deflate: PerMessageDeflateParameters? = nil
    ) throws {
        self.channel = EmbeddedChannel()
        try self.channel.pipeline.syncOperations.addHandler(
            WebSocketMessageHandler(configuration: configuration, permessageDeflate: deflate)
        )
        try self.channel.pipeline.syncOperations.addHandler(self.collector)
        try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    private func send(_ frames: ByteBuffer...) throws {
        for frame in frames {
            try self.channel.writeInbound(frame)
        }
    }

    private func sentFrames() throws -> [WebSocketFrame] {
        try writtenFrames(self.channel)
    }

    /// Expects exactly one close frame with `code` and a closed channel.
    private func expectClosed(with code: UInt16, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let frames = try self.sentFrames()
        #expect(frames.count == 1, sourceLocation: sourceLocation)
        #expect(frames.first?.opcode == .connectionClose, sourceLocation: sourceLocation)
        #expect(frames.first.map { Array($0.data.readableBytesView) } == closePayload(code), sourceLocation: sourceLocation)
    }

    @Test func deliversSingleFrameMessages() throws {
        try self.send(clientFrame(.text, Array("héllo".utf8)), clientFrame(.binary, [0, 1, 2]))
        #expect(self.collector.messages == [.text("héllo"), .binary(ByteBuffer(bytes: [0, 1, 2]))])
    }

    @Test func reassemblesFragmentsWithInterleavedPing() throws {
        try self.send(
            clientFrame(.text, Array("Hel".utf8), fin: false),
            clientFrame(.ping, [9, 9]),
            clientFrame(.continuation, Array("lo ".utf8), fin: false),
            clientFrame(.continuation, Array("world".utf8))
        )
        #expect(self.collector.messages == [.text("Hello world")])
        let frames = try self.sentFrames()
        #expect(frames.count == 1)
        #expect(frames[0].opcode == .pong)
        #expect(Array(frames[0].data.readableBytesView) == [9, 9])
        #expect(frames[0].maskKey == nil)
    }

    @Test func multibyteCharacterSplitAcrossFragments() throws {
        let euro = Array("€".utf8)
        try self.send(clientFrame(.text, [euro[0]], fin: false), clientFrame(.continuation, Array(euro[1...])))
        #expect(self.collector.messages == [.text("€")])
    }

    @Test func unsolicitedPongIsIgnored() throws {
        try self.send(clientFrame(.pong, [1]))
        #expect(try self.sentFrames().isEmpty)
        #expect(self.channel.isActive)
    }

    @Test func unmaskedFrameIsProtocolError() throws {
        try self.send(clientFrame(.text, Array("hi".utf8), masked: false))
        #expect(self.collector.messages.isEmpty)
        try self.expectClosed(with: 1002)
    }

    @Test func reservedBitsAndOpcodesAreProtocolErrors() throws {
        try self.send(clientFrame(.text, [0x41], rsv2: true))
        try self.expectClosed(with: 1002)
    }

    @Test func rsv1WithoutDeflateIsProtocolError() throws {
        try self.send(clientFrame(.text, [0x41], rsv1: true))
        try self.expectClosed(with: 1002)
    }

    @Test func reservedOpcodeIsProtocolError() throws {
        try self.send(clientFrame(WebSocketOpcode(encodedWebSocketOpcode: 0x3)!, []))
        try self.expectClosed(with: 1002)
    }

    @Test func continuationWithoutStartIsProtocolError() throws {
        try self.send(clientFrame(.continuation, [0x41]))
        try self.expectClosed(with: 1002)
    }

    @Test func newMessageInsideFragmentedOneIsProtocolError() throws {
        try self.send(clientFrame(.text, [0x41], fin: false), clientFrame(.text, [0x42]))
        #expect(self.collector.messages.isEmpty)
        try self.expectClosed(with: 1002)
    }

    @Test func invalidUTF8Is1007() throws {
        try self.send(clientFrame(.text, [0xCE, 0xBA, 0xED, 0xA0, 0x80]))
        #expect(self.collector.messages.isEmpty)
        try self.expectClosed(with: 1007)
    }

    @Test func invalidUTF8FailsFastInFirstFragment() throws {
        try self.send(clientFrame(.text, [0x41, 0xFF], fin: false))
        try self.expectClosed(with: 1007)
    }

    @Test func truncatedUTF8AtMessageEndIs1007() throws {
        try self.send(clientFrame(.text, [0x41, 0xE2], fin: false), clientFrame(.continuation, [0x82]))
        try self.expectClosed(with: 1007)
    }

    @Test func oversizeMessageIs1009() throws {
        try self.send(clientFrame(.binary, Array(repeating: 1, count: 101)))
        try self.expectClosed(with: 1009)
    }

    @Test func oversizeFragmentedMessageIs1009() throws {
        try self.send(
            clientFrame(.binary, Array(repeating: 1, count: 60), fin: false),
            clientFrame(.continuation, Array(repeating: 1, count: 60))
        )
        #expect(self.collector.messages.isEmpty)
        try self.expectClosed(with: 1009)
    }

    @Test(arguments: [
        [UInt8](), closePayload(1000), closePayload(1001, "bye"), closePayload(3000), closePayload(4999),
        closePayload(1012), closePayload(1014),
    ])
    func peerCloseIsEchoed(payload: [UInt8]) throws {
        try self.send(clientFrame(.connectionClose, payload))
        let frames = try self.sentFrames()
        #expect(frames.count == 1)
        #expect(frames.first?.opcode == .connectionClose)
        #expect(frames.first.map { Array($0.data.readableBytesView) } == Array(payload.prefix(2)))
        #expect(!self.channel.isActive)
        #expect(self.collector.inactive)
    }

    @Test(arguments: [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] as [UInt16])
    func invalidCloseCodesAre1002(code: UInt16) throws {
        try self.send(clientFrame(.connectionClose, closePayload(code)))
        try self.expectClosed(with: 1002)
    }

    @Test func oneByteClosePayloadIs1002() throws {
        try self.send(clientFrame(.connectionClose, [0x03]))
        try self.expectClosed(with: 1002)
    }

    @Test func invalidUTF8CloseReasonIs1007() throws {
        try self.send(clientFrame(.connectionClose, closePayload(1000) + [0xFF]))
        try self.expectClosed(with: 1007)
    }

    @Test func serverCloseWaitsForPeerClose() throws {
        let closed = self.channel.close()
        var done = false
        closed.assumeIsolated().whenComplete { _ in done = true }
        try self.expectClosed(with: 1000)
        #expect(self.channel.isActive)
        #expect(!done)
        // Frames after our close are discarded; writes fail.
        try self.send(clientFrame(.text, Array("late".utf8)))
        #expect(self.collector.messages.isEmpty)
        let write = self.channel.writeAndFlush(WebSocketMessage.text("nope"))
        #expect(throws: ChannelError.ioOnClosedChannel) { try write.wait() }
        try self.send(clientFrame(.connectionClose, closePayload(1000)))
        #expect(done)
        #expect(!self.channel.isActive)
        #expect(self.collector.inactive)
    }

    @Test func serverCloseTimesOut() throws {
        let closed = self.channel.close()
        try self.expectClosed(with: 1000)
        self.channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(self.channel.isActive)
        self.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!self.channel.isActive)
        try closed.wait()
    }

    @Test func writesAreFramedAndNotFlushed() throws {
        self.channel.write(WebSocketMessage.text("a"), promise: nil)
        self.channel.write(WebSocketMessage.binary(ByteBuffer(bytes: [1])), promise: nil)
        #expect(try self.sentFrames().isEmpty)
        self.channel.flush()
        let frames = try self.sentFrames()
        #expect(frames.map(\.opcode) == [.text, .binary])
        #expect(frames.allSatisfy { $0.fin && !$0.rsv1 && $0.maskKey == nil })
    }

    @Test func framesMessagesOfEveryHeaderLength() throws {
        for length in [0, 125, 126, 65_535, 65_536] {
            var payload = ByteBuffer()
            payload.writeRepeatingByte(UInt8(ascii: "a"), count: length)
            self.channel.write(WebSocketMessage.text(payload), promise: nil)
        }
        // Free bytes in front of the payload: its header is written there, in the same buffer.
        var roomy = ByteBuffer(bytes: Array(repeating: 0, count: 10) + [1, 2])
        roomy.moveReaderIndex(forwardBy: 10)
        self.channel.write(WebSocketMessage.binary(roomy), promise: nil)
        self.channel.flush()
        let frames = try self.sentFrames()
        #expect(frames.map(\.data.readableBytes) == [0, 125, 126, 65_535, 65_536, 2])
        #expect(frames.map(\.opcode) == [.text, .text, .text, .text, .text, .binary])
        #expect(frames.last.map { Array($0.data.readableBytesView) } == [1, 2])
        #expect(frames.allSatisfy { $0.fin && !$0.rsv1 && $0.maskKey == nil })
    }
}

@Suite("WebSocket message handler with permessage-deflate")
struct WebSocketMessageHandlerDeflateTests {
    private let channel = EmbeddedChannel()
    private let collector = WebSocketMessageCollector()

    init() throws {
        let configuration = WebSocketConfiguration(
            maxMessageSize: 1 << 16,
            permessageDeflate: PerMessageDeflateConfiguration(minimumCompressionSize: 10)
        )
        try self.channel.pipeline.syncOperations.addHandler(
            WebSocketMessageHandler(configuration: configuration, permessageDeflate: PerMessageDeflateParameters())
        )
        try self.channel.pipeline.syncOperations.addHandler(self.collector)
    }

    @Test func inflatesCompressedMessagesAndFragments() throws {
        try self.channel.writeInbound(clientFrame(.text, [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00], rsv1: true))
        try self.channel.writeInbound(clientFrame(.text, [0xF2, 0x00], fin: false, rsv1: true))
        try self.channel.writeInbound(clientFrame(.continuation, [0x11, 0x00, 0x00]))
        try self.channel.writeInbound(clientFrame(.text, Array("plain".utf8)))
        #expect(self.collector.messages == [.text("Hello"), .text("Hello"), .text("plain")])
    }

    @Test func rsv1OnContinuationIsProtocolError() throws {
        try self.channel.writeInbound(clientFrame(.text, [0xF2, 0x48], fin: false, rsv1: true))
        try self.channel.writeInbound(clientFrame(.continuation, [0xCD], rsv1: true))
        let frame = try writtenFrames(self.channel).first
        #expect(frame.map { Array($0.data.readableBytesView) } == closePayload(1002))
    }

    @Test func compressionBombIs1009() throws {
        let compressor = PerMessageDeflateCompressor(windowBits: 15, compressionLevel: 6, memoryLevel: 8, noContextTakeover: false)
        let bomb = try compressor.compress(ByteBuffer(repeating: 0, count: 1 << 20), allocator: ByteBufferAllocator())
        try self.channel.writeInbound(clientFrame(.binary, Array(bomb.readableBytesView), rsv1: true))
        #expect(self.collector.messages.isEmpty)
        let frame = try writtenFrames(self.channel).first
        #expect(frame.map { Array($0.data.readableBytesView) } == closePayload(1009))
    }

    @Test func compressesLargeOutgoingMessagesOnly() throws {
        self.channel.write(WebSocketMessage.text("tiny"), promise: nil)
        self.channel.write(WebSocketMessage.text("Hello Hello Hello Hello"), promise: nil)
        self.channel.flush()
        let frames = try writtenFrames(self.channel)
        try #require(frames.count == 2)
        let small = frames[0]
        let large = frames[1]
        #expect(!small.rsv1)
        #expect(String(buffer: small.data) == "tiny")
        #expect(large.rsv1)
        let decompressor = PerMessageDeflateDecompressor(noContextTakeover: false)
        var output = ByteBuffer()
        try decompressor.inflate(large.data, into: &output, limit: 1000)
        try decompressor.finishMessage(into: &output, limit: 1000)
        #expect(String(buffer: output) == "Hello Hello Hello Hello")
    }
}

@Suite("WebSocket framing errors")
struct WebSocketDecoderErrorTests {
    @Test func oversizeFrameIs1009() throws {
        let channel = EmbeddedChannel()
        let collector = WebSocketMessageCollector()
        try channel.pipeline.syncOperations.addHandler(
            WebSocketMessageHandler(configuration: .init(maxFrameSize: 10), permessageDeflate: nil)
        )
        try channel.pipeline.syncOperations.addHandler(collector)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        // Masked binary frame announcing 20 bytes.
        try channel.writeInbound(ByteBuffer(bytes: [0x82, 0x80 | 20, 1, 2, 3, 4] + Array(repeating: 0, count: 20)))
        var sent = ByteBuffer()
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) {
            sent.writeBuffer(&chunk)
        }
        #expect(Array(sent.readableBytesView) == [0x88, 0x02, 0x03, 0xF1])
        #expect(!channel.isActive)
        #expect(collector.inactive)
    }

    @Test func fragmentedPingIs1002() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            WebSocketMessageHandler(configuration: .init(), permessageDeflate: nil)
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(ByteBuffer(bytes: [0x09, 0x80, 1, 2, 3, 4]))
        var sent = ByteBuffer()
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) {
            sent.writeBuffer(&chunk)
        }
        #expect(Array(sent.readableBytesView) == [0x88, 0x02, 0x03, 0xEA])
    }
}
