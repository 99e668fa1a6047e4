import EngineIOCore
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The WebSocket transport, on NIO's client upgrader and frame aggregator. Confined to its event loop.
final class WebSocketClientTransport: ClientTransport {
    let kind = EngineTransport.websocket
    private let eventLoop: EventLoop
    private let configuration: EngineClientConfiguration
    private let factory: ClientChannelFactory
    weak var owner: ClientTransportOwner?
    private var channel: Channel?
    private var isClosed = false
    private var closeFrameSent = false

    init(eventLoop: EventLoop, configuration: EngineClientConfiguration, factory: ClientChannelFactory) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.factory = factory
    }

    var isWritable: Bool { self.channel != nil && !self.isClosed }

    /// Connects and upgrades; `sid` is nil for a new session, the polling session's id for an upgrade.
    /// The future succeeds once the WebSocket is open.
    func connect(sid: String?) -> EventLoopFuture<Void> {
        let upgraded = self.eventLoop.makePromise(of: Void.self)
        let maxFrameSize = self.configuration.maxFrameSize
        let bound = NIOLoopBound(self, eventLoop: self.eventLoop)
        var head = HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: self.configuration.requestURI(transport: .websocket, sid: sid),
            headers: self.configuration.headers()
        )
        head.headers.replaceOrAdd(name: "Content-Length", value: "0")
        let requestHead = head
        self.factory.connect(on: self.eventLoop) { channel in
            let requestHandler = WebSocketUpgradeRequestHandler(head: requestHead, upgraded: upgraded)
            let upgrader = NIOWebSocketClientUpgrader(
                maxFrameSize: maxFrameSize,
                automaticErrorHandling: true,
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOWebSocketFrameAggregator(
                                minNonFinalFragmentSize: 0,
                                maxAccumulatedFrameCount: 1 << 16,
                                maxAccumulatedFrameSize: maxFrameSize
                            )
                        )
                        try channel.pipeline.syncOperations.addHandler(WebSocketClientFrameHandler(transport: bound.value))
                        bound.value.didOpen(channel)
                        upgraded.succeed()
                    }
                }
            )
            // The server's first frame (the open packet) may arrive in the same read as the 101 response.
            try channel.pipeline.syncOperations.addHTTPClientHandlers(
                leftOverBytesStrategy: .forwardBytes,
                withClientUpgrade: (
                    upgraders: [upgrader],
                    completionHandler: { context in
                        // Before the WebSocket handlers go in behind it.
                        context.pipeline.syncOperations.removeHandler(name: WebSocketUpgradeRequestHandler.name, promise: nil)
                    }
                )
            )
            try channel.pipeline.syncOperations.addHandler(requestHandler, name: WebSocketUpgradeRequestHandler.name)
        }.whenComplete { result in
            if case .failure(let error) = result {
                upgraded.fail(EngineClientError.connection("\(error)"))
            }
        }
        return upgraded.futureResult
    }

    private func didOpen(_ channel: Channel) {
        if self.isClosed {
            channel.close(promise: nil)
            return
        }
        self.channel = channel
        channel.closeFuture.assumeIsolated().whenComplete { _ in
            self.channel = nil
            guard !self.isClosed else { return }
            self.isClosed = true
            self.owner?.transport(self, failed: .connection("WebSocket closed"))
        }
    }

    func received(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        switch frame.opcode {
        case .text:
            let packet: EnginePacket
            do {
                packet = try EnginePacketCodec.decodeText(frame.unmaskedData)
            } catch {
                self.owner?.transport(self, failed: .parse("\(error)"))
                return
            }
            self.owner?.transport(self, received: [packet])
        case .binary:
            self.owner?.transport(self, received: [EnginePacketCodec.decodeBinary(frame.unmaskedData)])
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(NIOAny(pong), promise: nil)
        case .connectionClose:
            if !self.closeFrameSent {
                self.closeFrameSent = true
                var data = frame.unmaskedData
                let code = data.readSlice(length: min(2, data.readableBytes)) ?? ByteBuffer()
                let close = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: code)
                context.writeAndFlush(NIOAny(close)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            } else {
                context.close(promise: nil)
            }
        default:
            break
        }
    }

    func write(_ packets: [EnginePacket]) {
        guard let channel = self.channel, !self.isClosed else { return }
        for packet in packets {
            var buffer = channel.allocator.buffer(capacity: packet.payload.readableBytes + 1)
            let binary = EnginePacketCodec.encode(packet, into: &buffer)
            let frame = WebSocketFrame(fin: true, opcode: binary ? .binary : .text, maskKey: .random(), data: buffer)
            channel.write(frame, promise: nil)
        }
        channel.flush()
    }

    /// Sends a WebSocket close frame and closes the connection.
    func close() {
        guard !self.isClosed else { return }
        self.isClosed = true
        guard let channel = self.channel else { return }
        if !self.closeFrameSent {
            self.closeFrameSent = true
            var data = channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: .normalClosure)
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
            channel.writeAndFlush(frame).assumeIsolated().whenComplete { _ in
                // Give the server a moment to answer, then close.
                channel.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(200)) { channel.close(promise: nil) }
            }
        }
    }
}

/// Sends the upgrade request when the connection opens; reports a refused upgrade.
private final class WebSocketUpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    static let name = "engine.io-websocket-request"

    private let head: HTTPRequestHead
    private let upgraded: EventLoopPromise<Void>
    private var responseHead: HTTPResponseHead?
    private var body = ByteBuffer()

    init(head: HTTPRequestHead, upgraded: EventLoopPromise<Void>) {
        self.head = head
        self.upgraded = upgraded
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(self.wrapOutboundOut(.head(self.head)), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { self.channelActive(context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Only a refused upgrade reaches here.
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.responseHead = head
        case .body(var part):
            self.body.writeBuffer(&part)
        case .end:
            let status = self.responseHead.map { Int($0.status.code) }
            if let code = EngineErrorCode(jsonBody: self.body) {
                self.upgraded.fail(EngineClientError.server(code))
            } else {
                self.upgraded.fail(EngineClientError.webSocketUpgradeFailed(status: status))
            }
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A refused upgrade: the response follows.
        if error is NIOHTTPClientUpgradeError { return }
        if let status = self.responseHead.map({ Int($0.status.code) }) {
            self.upgraded.fail(EngineClientError.webSocketUpgradeFailed(status: status))
        } else {
            // No response yet: the connection itself failed (a TLS handshake that did not verify, a reset).
            self.upgraded.fail(EngineClientError.connection("\(error)"))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.upgraded.fail(EngineClientError.connection("connection closed during the WebSocket upgrade"))
        context.fireChannelInactive()
    }
}

/// Hands aggregated frames to the transport.
private final class WebSocketClientFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame

    private let transport: WebSocketClientTransport

    init(transport: WebSocketClientTransport) {
        self.transport = transport
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.transport.received(self.unwrapInboundIn(data), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
