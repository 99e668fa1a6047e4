import EngineIOServer
import NIOCore

/// Gives every connection a Vapor server accepts our own listener's read buffer allocator (a 512-byte
/// first buffer instead of NIO's 2 KiB one, grown for large messages), before the connection's first read.
///
/// Vapor has no option for it, and a connection keeps the first buffer it read with for its whole life
/// (NIO pools it), so setting the option at the upgrade is too late for that connection. Instead, the
/// first Socket.IO WebSocket reaches the listening channel (its `parent`) and puts this handler at the
/// head of its pipeline, where it sees each accepted connection before Vapor sets it up.
final class ReadBufferInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let accepted = Self.unwrapInboundIn(data)
        // runs on the connection's event loop before Vapor's setup, which is submitted there after this
        accepted.setOption(.recvAllocator, value: EngineMount.readBufferAllocator).whenFailure { _ in }
        context.fireChannelRead(data)
    }

    /// Installs the handler, once, on the listening channel that accepted `connection` (an HTTP/1.1
    /// connection of the server; nothing for other channels).
    static func install(forServerOf connection: any Channel) {
        guard let listener = connection.parent, listener.parent == nil else { return }
        listener.eventLoop.execute {
            let pipeline = listener.pipeline.syncOperations
            guard (try? pipeline.handler(type: ReadBufferInstaller.self)) == nil else { return }
            try? pipeline.addHandler(ReadBufferInstaller(), position: .first)
        }
    }
}
