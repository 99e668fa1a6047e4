import EngineIOServer
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
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
///
/// The pipeline is `HTTP1Channel`'s, but its `NIOAsyncChannel`, and so Hummingbird's task serving the
/// connection, starts only with the connection's first request for the application: a connection that
/// carries only Socket.IO (long-polling requests, a WebSocket) costs what it costs on Socket.IO's own
/// listener, and one that becomes a WebSocket first also drops Hummingbird's handlers.
public struct SocketIOHTTP1Channel: ServerChildChannel {
    /// A connection: its channel, and Hummingbird's async channel once a request for the application came.
    public struct Value: ServerChildChannelValue {
        /// The connection.
        public let channel: any Channel
        /// Completes with the async channel serving the application's requests when the first of them
        /// arrives, or with nil when the connection ends, or becomes a Socket.IO WebSocket, before one.
        let application: EventLoopFuture<HTTP1Channel.Value?>
    }

    let io: SocketIO
    let base: HTTP1Channel
    let logger: Logger

    /// Mounts `io` on the connections of `base` (its configuration and responder serve the application).
    public init(io: SocketIO, base: HTTP1Channel, logger: Logger = Logger(label: "socket.io")) {
        self.io = io
        self.base = base
        self.logger = logger
    }

    /// Sets up Hummingbird's HTTP/1.1 pipeline with the Socket.IO handler after its HTTP decoder.
    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            // reads as on our own listener: a small first buffer per connection, grown for large messages
            try channel.syncOptions?.setOption(.recvAllocator, value: EngineMount.readBufferAllocator)
            let configuration = self.base.configuration
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = configuration.httpDecoder.maxHeaderFieldSize
            limits.maxHeaderListSize = configuration.httpDecoder.maxHeaderListSize
            limits.maxHeaderFieldCount = configuration.httpDecoder.maxHeaderFieldCount
            // as `HTTP1Channel.setup` builds it
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false,
                withErrorHandling: false,
                withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: limits
            )
            var handlers: [any RemovableChannelHandler] = [HTTP1ToHTTPServerCodec(secure: false)]
            handlers += configuration.additionalChannelHandlers()
            handlers.append(HTTPConnectionStateHandler(idleTimeout: configuration.idleTimeout.map { .init($0) }, logger: logger))
            try pipeline.addHandlers(handlers)
            let application = channel.eventLoop.makePromise(of: HTTP1Channel.Value?.self)
            let handoff = EngineMountHandoff(
                handlers: handlers,
                beforeFirstRequest: { _ in
                    application.succeed(
                        try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                    )
                },
                withoutRequest: { application.succeed(nil) }
            )
            do {
                try EngineMount.addHandler(
                    to: pipeline,
                    engine: self.io.engine,
                    localPaths: [self.io.clientScriptPath],
                    localHandler: self.io.httpHandler(),
                    handoff: handoff,
                    logger: self.logger
                )
            } catch {
                application.succeed(nil)
                throw error
            }
            return Value(channel: channel, application: application.futureResult)
        }
    }

    /// Serves the application's requests, as Hummingbird's HTTP/1.1 channel does, from the first of them;
    /// returns at once when the connection has none before it closes or becomes a Socket.IO WebSocket.
    public func handle(value: Value, logger: Logger) async {
        guard let asyncChannel = try? await value.application.get() else { return }
        await self.base.handle(value: asyncChannel, logger: logger)
    }
}
