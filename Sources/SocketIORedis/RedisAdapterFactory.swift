import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SocketIOAdapter
import SocketIOCore

/// Options of the Redis adapter; the names and defaults are `@socket.io/redis-adapter`'s.
public struct RedisAdapterOptions: Sendable, Hashable {
    /// The prefix of every channel (default `socket.io`).
    public var key: String
    /// How long requests that need answers from other nodes (`fetchSockets`, `allRooms`, ...) wait
    /// (default 5 s).
    public var requestsTimeout: Duration
    /// Publish responses on the requesting node's own channel (`<key>-response#<nsp>#<uid>#`) instead of
    /// the shared one (default false, like the Node.js adapter; every node accepts both).
    public var publishOnSpecificResponseChannel: Bool

    /// Creates options.
    public init(key: String = "socket.io", requestsTimeout: Duration = .seconds(5), publishOnSpecificResponseChannel: Bool = false) {
        self.key = key
        self.requestsTimeout = requestsTimeout
        self.publishOnSpecificResponseChannel = publishOnSpecificResponseChannel
    }
}

/// Joins a Socket.IO server to a cluster through Redis: one publishing and one subscribing connection
/// shared by the `RedisAdapter` of every namespace.
///
/// ```swift
/// let redis = try RedisAdapterFactory(url: "redis://127.0.0.1:6379")
/// let io = SocketIO(configuration: SocketIOServerConfiguration(adapter: redis.adapter))
/// ```
public final class RedisAdapterFactory: Sendable {
    /// The adapter options.
    public let options: RedisAdapterOptions
    /// The connection that publishes and sends commands.
    public let publisher: RedisClient
    /// The connection in subscribed mode.
    public let subscriber: RedisClient
    let logger: Logger
    private let router: Router

    /// Connects (in the background; see `waitUntilConnected`) to the Redis at `configuration`.
    public init(
        configuration: RedisConfiguration,
        options: RedisAdapterOptions = RedisAdapterOptions(),
        eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "socket.io.redis")
    ) {
        let router = Router()
        self.router = router
        self.options = options
        self.logger = logger
        self.publisher = RedisClient(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        self.subscriber = RedisClient(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger) { message in
            router.route(message)
        }
    }

    /// Connects to the Redis at `url` (`redis://[[user]:password@]host[:port][/db]`).
    public convenience init(
        url: String,
        options: RedisAdapterOptions = RedisAdapterOptions(),
        eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "socket.io.redis")
    ) throws(RedisError) {
        self.init(configuration: try RedisConfiguration(url: url), options: options, eventLoopGroup: eventLoopGroup, logger: logger)
    }

    /// The factory to put in `SocketIOServerConfiguration.adapter`.
    public var adapter: @Sendable (any AdapterNamespace) -> any Adapter {
        { namespace in self.makeAdapter(for: namespace) }
    }

    /// Creates the adapter of `namespace` and subscribes to its channels.
    public func makeAdapter(for namespace: any AdapterNamespace) -> RedisAdapter {
        let adapter = RedisAdapter(namespace: namespace, factory: self)
        let channels = adapter.channels
        self.router.register(adapter, pattern: channels.broadcastPattern, channels: [channels.request, channels.response, channels.specificResponse(adapter.uid)])
        self.subscriber.psubscribe([channels.broadcastPattern])
        self.subscriber.subscribe([channels.request, channels.response, channels.specificResponse(adapter.uid)])
        return adapter
    }

    /// Waits until both connections are up.
    public func waitUntilConnected(timeout: Duration = .seconds(10)) async throws {
        try await self.publisher.waitUntilConnected(timeout: timeout)
        try await self.subscriber.waitUntilConnected(timeout: timeout)
    }

    /// Closes both connections.
    public func shutdown() async {
        await self.publisher.shutdown()
        await self.subscriber.shutdown()
    }

    /// Hands subscribed messages to the adapter owning the channel or pattern (held weakly: an adapter
    /// lives as long as its namespace).
    private final class Router: Sendable {
        private struct Weak: @unchecked Sendable {
            weak var adapter: RedisAdapter?
        }

        private let routes = NIOLockedValueBox<(patterns: [String: Weak], channels: [String: Weak])>(([:], [:]))

        func register(_ adapter: RedisAdapter, pattern: String, channels: [String]) {
            self.routes.withLockedValue { routes in
                routes.patterns[pattern] = Weak(adapter: adapter)
                for channel in channels { routes.channels[channel] = Weak(adapter: adapter) }
            }
        }

        func route(_ message: RedisPubSubMessage) {
            let adapter = self.routes.withLockedValue { routes -> RedisAdapter? in
                if let pattern = message.pattern { return routes.patterns[pattern]?.adapter }
                return routes.channels[message.channel]?.adapter
            }
            guard let adapter else { return }
            if message.pattern != nil {
                adapter.onBroadcast(channel: message.channel, payload: message.payload)
            } else {
                adapter.onRequestOrResponse(channel: message.channel, payload: message.payload)
            }
        }
    }
}
