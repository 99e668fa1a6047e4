import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket
import Testing

@testable import EngineIOServer

/// A stand-in for the lead's HTTP handler: upgrades on `.end`.
private final class UpgradingHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let httpHandlers: [RemovableChannelHandler]
    let collector: WebSocketMessageCollector
    let configuration = WebSocketConfiguration(permessageDeflate: .init())
    var head: HTTPRequestHead?
    var upgraded: EventLoopFuture<Void>?

    init(httpHandlers: [RemovableChannelHandler], collector: WebSocketMessageCollector) {
        self.httpHandlers = httpHandlers
        self.collector = collector
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            let accepted = try! WebSocketHandshake.accept(self.head!, configuration: self.configuration)
            let collector = self.collector
            self.upgraded = WebSocketUpgrade.upgrade(
                context: context,
                accepted: accepted,
                configuration: self.configuration,
                removing: self.httpHandlers + [self]
            ) { pipeline in
                try pipeline.addHandler(collector)
            }
        }
    }
}

@Suite("WebSocket upgrade")
struct WebSocketUpgradeTests {
    @Test func frameInSameBufferAsRequestIsDelivered() throws {
        let channel = EmbeddedChannel()
        let encoder = HTTPResponseEncoder()
        let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
        let collector = WebSocketMessageCollector()
        let handler = UpgradingHTTPHandler(httpHandlers: [encoder, decoder], collector: collector)
        try channel.pipeline.syncOperations.addHandlers([encoder, decoder, handler])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()

        var bytes = ByteBuffer(
            string: "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        )
        // A masked text frame "Hi" and a compressed one "Hello", right behind the request.
        bytes.writeBytes([0x81, 0x82, 0x00, 0x00, 0x00, 0x00, 0x48, 0x69])
        bytes.writeBytes([0xC1, 0x87, 0x00, 0x00, 0x00, 0x00, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        try channel.writeInbound(bytes)
        channel.embeddedEventLoop.run()

        var response = ByteBuffer()
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) {
            response.writeBuffer(&chunk)
        }
        let text = String(buffer: response)
        #expect(text.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
        #expect(text.contains("Sec-WebSocket-Extensions: permessage-deflate\r\n"))
        #expect(text.hasSuffix("\r\n\r\n"))
        #expect(collector.messages == [.text("Hi"), .text("Hello")])
        try handler.upgraded?.wait()

        // The HTTP handlers are gone; the pipeline speaks WebSocket both ways.
        #expect(throws: (any Error).self) { try channel.pipeline.syncOperations.context(handler: handler) }
        #expect(throws: (any Error).self) { try channel.pipeline.syncOperations.context(handler: encoder) }
        #expect(throws: (any Error).self) { try channel.pipeline.syncOperations.context(handler: decoder) }
        try channel.writeInbound(ByteBuffer(bytes: [0x82, 0x81, 0x01, 0x02, 0x03, 0x04, 0x01 ^ 0x07]))
        #expect(collector.messages.last == .binary(ByteBuffer(bytes: [0x07])))
        try channel.writeOutbound(WebSocketMessage.binary(ByteBuffer(bytes: [5])))
        var frame = ByteBuffer()
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) {
            frame.writeBuffer(&chunk)
        }
        #expect(Array(frame.readableBytesView) == [0x82, 0x01, 0x05])
    }
}
