import EngineIOServer
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves a plain WebSocket echo at `/` (text stays text, binary stays binary, no Engine.IO) with
/// permessage-deflate enabled, for the Autobahn fuzzing client. Any other request gets 404 (wrong path) or
/// 426 (not a WebSocket upgrade). Runs until the server channel closes.
func runWebSocketEchoServer(host: String, port: Int) async throws {
    let configuration = WebSocketConfiguration(
        // Autobahn's section 9 sends messages and frames of up to 16 MiB.
        maxFrameSize: 20 << 20,
        maxMessageSize: 20 << 20,
        permessageDeflate: PerMessageDeflateConfiguration(minimumCompressionSize: 0)
    )
    let group = MultiThreadedEventLoopGroup.singleton
    let channel = try await ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 256)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let encoder = HTTPResponseEncoder()
                let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
                let sync = channel.pipeline.syncOperations
                try sync.addHandler(encoder)
                try sync.addHandler(decoder)
                try sync.addHandler(EchoHTTPHandler(configuration: configuration, httpHandlers: [encoder, decoder]))
            }
        }
        .bind(host: host, port: port)
        .get()
    try await channel.closeFuture.get()
}

/// Routes one HTTP connection: upgrades WebSocket requests for `/`, refuses everything else.
private final class EchoHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let configuration: WebSocketConfiguration
    private let httpHandlers: [RemovableChannelHandler]
    private var head: HTTPRequestHead?

    init(configuration: WebSocketConfiguration, httpHandlers: [RemovableChannelHandler]) {
        self.configuration = configuration
        self.httpHandlers = httpHandlers
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            self.route(head, context: context)
        }
    }

    private func route(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard path == "/" else {
            return self.respond(.notFound, headers: [:], head: head, context: context)
        }
        guard WebSocketHandshake.isUpgradeRequest(head) else {
            return self.respond(.upgradeRequired, headers: ["Upgrade": "websocket"], head: head, context: context)
        }
        do {
            let accepted = try WebSocketHandshake.accept(head, configuration: self.configuration)
            _ = WebSocketUpgrade.upgrade(
                context: context,
                accepted: accepted,
                configuration: self.configuration,
                removing: self.httpHandlers
            ) { pipeline in
                try pipeline.addHandler(EchoHandler())
            }
        } catch {
            self.respond(error.status, headers: error.responseHeaders, head: head, context: context)
        }
    }

    private func respond(
        _ status: HTTPResponseStatus,
        headers: HTTPHeaders,
        head: HTTPRequestHead,
        context: ChannelHandlerContext
    ) {
        var headers = headers
        let body = ByteBuffer(string: "\(status.code) \(status.reasonPhrase)\n")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Content-Type", value: "text/plain")
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(Self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let done = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}

/// Echoes every message back with the same kind, flushing once per read burst.
private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketMessage
    typealias OutboundOut = WebSocketMessage

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}
