import NIOConcurrencyHelpers
import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// An HTTP/1.1 server on SwiftNIO that serves Engine.IO under its path (long-polling and WebSocket) and
/// hands every other request to the application's handler, so that an app serves its pages on the same
/// port. TLS is optional.
public final class HTTPServer: Sendable {
    /// Where and how to listen.
    public struct Configuration: Sendable {
        /// The address to bind (default 127.0.0.1).
        public var host: String
        /// The port to bind (0 picks a free one).
        public var port: Int
        /// TLS settings; nil serves plain HTTP.
        public var tls: TLSConfiguration?
        /// Largest body accepted for application requests.
        public var maxRequestBodySize: Int
        /// The listen backlog.
        public var backlog: Int32
        /// Largest request head (all header lines together); larger ones get 431 and the connection closes.
        public var maxHeaderSize: Int
        /// A connection that sends nothing for this long while idle between requests, or in the middle
        /// of one (a slow or stalled client), is closed. Long-polling GETs waiting for data are not idle.
        public var idleTimeout: Duration
        /// The size of a connection's first read buffer. NIO keeps one read buffer per connection, sized
        /// adaptively from what reads return (growing up to 64 KiB for large messages, shrinking back):
        /// starting small keeps idle real-time connections, whose messages are mostly tiny, cheap.
        public var initialReadBufferSize: Int

        /// Creates a configuration.
        public init(
            host: String = "127.0.0.1",
            port: Int = 3000,
            tls: TLSConfiguration? = nil,
            maxRequestBodySize: Int = 1 << 20,
            backlog: Int32 = 4096,
            maxHeaderSize: Int = 16 << 10,
            idleTimeout: Duration = .seconds(60),
            initialReadBufferSize: Int = 512
        ) {
            self.host = host
            self.port = port
            self.tls = tls
            self.maxRequestBodySize = maxRequestBodySize
            self.backlog = backlog
            self.maxHeaderSize = maxHeaderSize
            self.idleTimeout = idleTimeout
            self.initialReadBufferSize = initialReadBufferSize
        }
    }

    /// The listening options.
    public let configuration: Configuration

    /// NIO's adaptive read buffer allocator, starting at `initialSize` (64 bytes to 64 KiB).
    static func readBufferAllocator(initialSize: Int) -> AdaptiveRecvByteBufferAllocator {
        AdaptiveRecvByteBufferAllocator(minimum: 64, initial: min(max(64, initialSize), 64 << 10), maximum: 64 << 10)
    }
    private let engine: EngineServer?
    private let application: HTTPRequestHandler?
    private let group: EventLoopGroup
    private let logger: Logger
    private let channel: NIOLockedValueBoxChannel
    private let quiesce: ServerQuiescingHelper
    private let listening = ListeningState()
    private let shutdownTask = NIOLockedValueBox<Task<Void, Never>?>(nil)

    /// Creates a server; call `start()` to listen.
    public init(
        configuration: Configuration,
        engine: EngineServer?,
        application: HTTPRequestHandler? = nil,
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "http")
    ) {
        self.configuration = configuration
        self.engine = engine
        self.application = application
        self.group = group
        self.logger = logger
        self.channel = NIOLockedValueBoxChannel()
        self.quiesce = ServerQuiescingHelper(group: group)
    }

    /// Binds and starts accepting connections; returns the bound address. A `ServiceGroup` calls `run()`
    /// instead, which binds there.
    @discardableResult
    public func start() async throws -> SocketAddress {
        do {
            let address = try await self.bind()
            self.listening.bound(address)
            return address
        } catch {
            self.listening.failed(error)
            throw error
        }
    }

    private func bind() async throws -> SocketAddress {
        let sslContext = try self.configuration.tls.map { try NIOSSLContext(configuration: $0) }
        let engine = self.engine
        let application = self.application
        let logger = self.logger
        let maxBody = self.configuration.maxRequestBodySize
        let idleTimeout = self.configuration.idleTimeout
        let limits = {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderListSize = self.configuration.maxHeaderSize
            limits.maxHeaderFieldSize = self.configuration.maxHeaderSize
            return limits
        }()
        let quiesce = self.quiesce
        let channel = try await ServerBootstrap(group: self.group)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .serverChannelOption(.backlog, value: self.configuration.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.recvAllocator, value: Self.readBufferAllocator(initialSize: self.configuration.initialReadBufferSize))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let sslContext {
                        try sync.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    let encoder = HTTPResponseEncoder()
                    let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes, limitConfiguration: limits))
                    let idle = IdleStateHandler(readTimeout: TimeAmount(idleTimeout))
                    try sync.addHandler(idle)
                    try sync.addHandler(encoder)
                    try sync.addHandler(decoder)
                    try sync.addHandler(
                        HTTPConnectionHandler(
                            engine: engine,
                            application: application,
                            httpHandlers: [idle, encoder, decoder],
                            isSecure: sslContext != nil,
                            maxRequestBodySize: maxBody,
                            logger: logger
                        )
                    )
                }
            }
            .bind(host: self.configuration.host, port: self.configuration.port)
            .get()
        self.channel.set(channel)
        let address = channel.localAddress!
        self.logger.info("listening", metadata: ["http.address": "\(address)"])
        return address
    }

    /// The bound port, once started.
    public var port: Int? { self.channel.get()?.localAddress?.port }

    /// The address the server listens on: waits until `run()` (or `start()`) has bound it, and throws the
    /// error that binding failed with.
    public var localAddress: SocketAddress {
        get async throws { try await self.listening.address() }
    }

    /// Waits until the listening socket closes.
    public func waitUntilClosed() async throws {
        try await self.channel.get()?.closeFuture.get()
    }

    /// Shuts down gracefully: every Engine.IO session gets a proper close (reason `server shutting down`),
    /// pending writes drain, new connections are refused, and idle HTTP connections close. Returns once
    /// every connection is closed, or when `gracePeriod` has passed.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async throws {
        let deadline = NIODeadline.now() + TimeAmount(gracePeriod)
        await self.engine?.drain(until: deadline)
        let closed = self.group.next().makePromise(of: Void.self)
        self.quiesce.initiateShutdown(promise: closed)
        let remaining = deadline - NIODeadline.now()
        let finished = try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask {
                try await closed.futureResult.get()
                return true
            }
            tasks.addTask {
                try await Task.sleep(for: .nanoseconds(max(0, remaining.nanoseconds)))
                return false
            }
            let first = try await tasks.next() ?? false
            tasks.cancelAll()
            return first
        }
        if finished {
            self.logger.info("HTTP server shut down")
        } else {
            self.logger.warning("HTTP server shutdown: connections still open after the grace period")
        }
    }
}

extension HTTPServer: Service {
    /// Binds (unless `start()` already did), serves until a graceful shutdown is requested (SIGTERM with a
    /// `ServiceGroup`), then shuts down gracefully (`shutdown()`) and returns once that is done. Cancelling
    /// the task stops at once: sessions are closed and the listening socket with them.
    public func run() async throws {
        if self.channel.get() == nil { try await self.start() }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await self.waitUntilClosed()
            } onGracefulShutdown: {
                self.beginShutdown()
            }
        } onCancel: {
            self.engine?.closeAll(reason: .serverShuttingDown)
            self.channel.get()?.close(promise: nil)
        }
        await self.shutdownTask.withLockedValue { $0 }?.value
    }

    /// Starts `shutdown()` once, however many times a shutdown is requested.
    private func beginShutdown() {
        self.shutdownTask.withLockedValue { task in
            guard task == nil else { return }
            task = Task { try? await self.shutdown() }
        }
    }
}

/// The listening channel, set once `start()` has bound it.
final class NIOLockedValueBoxChannel: Sendable {
    private let box = NIOLockedValueBox<Channel?>(nil)
    func set(_ channel: Channel) { self.box.withLockedValue { $0 = channel } }
    func get() -> Channel? { self.box.withLockedValue { $0 } }
}
