import EngineIOServer
import HummingbirdCore
import Logging
import NIOCore
import SocketIOServer

extension HTTPServerBuilder {
    /// An HTTP/1.1 server with Socket.IO mounted on it: requests under the Socket.IO path (`/socket.io/`)
    /// and the browser client (`/socket.io/socket.io.js`) are served by `io`, WebSocket upgrades there by
    /// its own WebSocket handling; every other request, upgrades included, goes to the application's router
    /// unchanged.
    ///
    /// ```swift
    /// let io = SocketIO()
    /// let app = Application(router: router, server: .http1(socketIO: io))
    /// ```
    ///
    /// TLS comes from the application's configuration (`.tls(.http1(socketIO: io), tlsConfiguration: ...)`
    /// from HummingbirdTLS), sessions live on the event loop of their connection, and the server's graceful
    /// shutdown (ServiceLifecycle) closes every Socket.IO session properly before its connection goes.
    /// Keep `configuration.idleTimeout` unset (or longer than `pingInterval` + `pingTimeout`): Hummingbird
    /// does not see the Socket.IO requests of a connection and would count it as idle.
    public static func http1(
        socketIO io: SocketIO,
        configuration: HTTP1Channel.Configuration = .init(),
        logger: Logger = Logger(label: "socket.io")
    ) -> HTTPServerBuilder {
        .init { responder in
            SocketIOHTTP1Channel(io: io, base: HTTP1Channel(responder: responder, configuration: configuration), logger: logger)
        }
    }
}

/// Hummingbird's HTTP/1.1 child channel with Socket.IO mounted in its pipeline, right after the HTTP
/// decoder (see `HTTPServerBuilder.http1(socketIO:configuration:logger:)`).
public struct SocketIOHTTP1Channel: ServerChildChannel {
    /// The value of the underlying HTTP/1.1 channel.
    public typealias Value = HTTP1Channel.Value

    let io: SocketIO
    let base: HTTP1Channel
    let logger: Logger

    /// Mounts `io` on the connections of `base`.
    public init(io: SocketIO, base: HTTP1Channel, logger: Logger = Logger(label: "socket.io")) {
        self.io = io
        self.base = base
        self.logger = logger
    }

    /// Sets up Hummingbird's HTTP/1.1 pipeline, then adds the Socket.IO handler after its HTTP decoder.
    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let io = self.io
        let mountLogger = self.logger
        do {
            // reads as on our own listener: a small first buffer per connection, grown for large messages
            try channel.syncOptions?.setOption(.recvAllocator, value: EngineMount.readBufferAllocator)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return self.base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            try EngineMount.addHandler(
                to: channel.pipeline.syncOperations,
                engine: io.engine,
                localPaths: [io.clientScriptPath],
                localHandler: io.httpHandler(),
                logger: mountLogger
            )
            return value
        }
    }

    /// Serves the application's requests, as Hummingbird's HTTP/1.1 channel does.
    public func handle(value: Value, logger: Logger) async {
        await self.base.handle(value: value, logger: logger)
    }
}
