import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// The calibration server: a bare SwiftNIO WebSocket loop with no Socket.IO semantics. A text frame
/// starting with `B` is broadcast (one prebuilt frame written to every connection, flushed per
/// connection); one starting with `E` is echoed. It marks what NIO and the kernel cost by themselves.
enum BareServer {
    final class Registry: @unchecked Sendable {
        // Only touched on the single event loop of the server. In connection order, as Socket.IO servers
        // deliver broadcasts to everyone (the benchmark's sender, connected last, gets its copy last).
        var channels: [Channel] = []
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame
        let registry: Registry

        init(registry: Registry) { self.registry = registry }

        func handlerAdded(context: ChannelHandlerContext) {
            self.registry.channels.append(context.channel)
        }

        func channelInactive(context: ChannelHandlerContext) {
            let channel = context.channel
            self.registry.channels.removeAll { $0 === channel }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = self.unwrapInboundIn(data)
            guard frame.opcode == .text else {
                if frame.opcode == .connectionClose { context.close(promise: nil) }
                return
            }
            var payload = frame.unmaskedData
            guard let kind = payload.readInteger(as: UInt8.self) else { return }
            let out = WebSocketFrame(fin: true, opcode: .text, data: payload)
            if kind == UInt8(ascii: "B") {
                for channel in self.registry.channels { channel.writeAndFlush(out, promise: nil) }
            } else {
                context.writeAndFlush(self.wrapOutboundOut(out), promise: nil)
            }
        }
    }

    static func run(host: String, port: Int) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let registry = Registry()
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 20,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture([:]) },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Handler(registry: registry)) }
            }
        )
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
            }
            .bind(host: host, port: port)
            .get()
        print("listening on \(channel.localAddress!)")
        try await channel.closeFuture.get()
    }
}
