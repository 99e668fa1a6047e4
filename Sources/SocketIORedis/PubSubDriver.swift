import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The message bus under a cluster adapter: publish, subscribe, count the subscribers of a channel.
/// Drivers speak to a particular bus (sharded Pub/Sub on a Redis Cluster, or on one Redis); the adapter
/// logic above never sees RESP.
public protocol PubSubDriver: AnyObject, Sendable {
    /// The loop for the adapter's timers.
    var eventLoop: EventLoop { get }
    /// Sets the receiver of the messages of every subscribed channel (set once, before subscribing).
    func setMessageHandler(_ handler: @escaping @Sendable (_ channel: String, _ payload: ByteBuffer) -> Void)
    /// Publishes `message` on `channel`; the future fails when the bus did not take it.
    func publish(_ channel: String, _ message: ByteBuffer) -> EventLoopFuture<Void>
    /// Subscribes to `channels`, kept across reconnections (and slot moves).
    func subscribe(_ channels: [String])
    /// Ends the subscriptions to `channels`.
    func unsubscribe(_ channels: [String])
    /// How many subscribers (one connection per server) `channel` has.
    func numberOfSubscribers(_ channel: String) -> EventLoopFuture<Int>
    /// Waits until the bus is reachable and every subscription is in place.
    func waitUntilReady(timeout: Duration) async throws
    /// Closes the connections.
    func shutdown() async
}

/// Holds the message handler of a driver.
final class MessageHandlerBox: Sendable {
    private let handler = NIOLockedValueBox<(@Sendable (String, ByteBuffer) -> Void)?>(nil)

    func set(_ handler: @escaping @Sendable (String, ByteBuffer) -> Void) {
        self.handler.withLockedValue { $0 = handler }
    }

    func deliver(_ message: RedisPubSubMessage) {
        self.handler.withLockedValue { $0 }?(message.channel, message.payload)
    }
}

/// Sharded Pub/Sub on a Redis Cluster (`SPUBLISH`, `SSUBSCRIBE`, `PUBSUB SHARDNUMSUB`), each channel on
/// the master of its slot, through a `RedisClusterClient` that discovers the cluster from one node.
public final class RedisClusterPubSubDriver: PubSubDriver {
    /// The cluster client (commands and subscriptions).
    public let client: RedisClusterClient
    private let handler: MessageHandlerBox

    /// Joins the cluster that the node at `configuration` belongs to.
    public init(
        configuration: RedisConfiguration,
        options: RedisClusterOptions = RedisClusterOptions(),
        eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "socket.io.redis")
    ) {
        let handler = MessageHandlerBox()
        self.handler = handler
        self.client = RedisClusterClient(configuration: configuration, options: options, eventLoopGroup: eventLoopGroup, logger: logger) { message in
            handler.deliver(message)
        }
    }

    public var eventLoop: EventLoop { self.client.eventLoop }
    public func setMessageHandler(_ handler: @escaping @Sendable (String, ByteBuffer) -> Void) { self.handler.set(handler) }
    public func publish(_ channel: String, _ message: ByteBuffer) -> EventLoopFuture<Void> {
        self.client.spublish(channel, message).map { _ in }
    }
    public func subscribe(_ channels: [String]) { self.client.ssubscribe(channels) }
    public func unsubscribe(_ channels: [String]) { self.client.sunsubscribe(channels) }
    public func numberOfSubscribers(_ channel: String) -> EventLoopFuture<Int> { self.client.numberOfShardSubscribers(channel) }
    public func waitUntilReady(timeout: Duration) async throws { try await self.client.waitUntilReady(timeout: timeout) }
    public func shutdown() async { await self.client.shutdown() }
}

/// Sharded Pub/Sub commands on one Redis 7 that is not a cluster (what Node.js's sharded adapter does
/// with a plain client): one connection publishes, one subscribes.
public final class RedisShardedPubSubDriver: PubSubDriver {
    /// The connection that publishes and counts.
    public let publisher: RedisClient
    /// The connection in subscribed mode.
    public let subscriber: RedisClient
    private let handler: MessageHandlerBox
    private let confirmed: NIOLockedValueBox<Set<String>>

    /// Connects (in the background) to the Redis at `configuration`.
    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "socket.io.redis")
    ) {
        let handler = MessageHandlerBox()
        let confirmed = NIOLockedValueBox<Set<String>>([])
        self.confirmed = confirmed
        self.handler = handler
        self.publisher = RedisClient(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        self.subscriber = RedisClient(
            configuration: configuration,
            eventLoopGroup: eventLoopGroup,
            logger: logger,
            onMessage: { message in handler.deliver(message) },
            onEvent: { event in
                switch event {
                case .shardChannelSubscribed(let channel): _ = confirmed.withLockedValue { $0.insert(channel) }
                case .connectionLost: confirmed.withLockedValue { $0.removeAll() }
                default: break
                }
            }
        )
    }

    public var eventLoop: EventLoop { self.publisher.eventLoopForTimers }
    public func setMessageHandler(_ handler: @escaping @Sendable (String, ByteBuffer) -> Void) { self.handler.set(handler) }
    public func publish(_ channel: String, _ message: ByteBuffer) -> EventLoopFuture<Void> {
        self.publisher.send(RedisCommand(arguments: [ByteBuffer(string: "SPUBLISH"), ByteBuffer(string: channel), message])).map { _ in }
    }
    public func subscribe(_ channels: [String]) { self.subscriber.ssubscribe(channels) }
    public func unsubscribe(_ channels: [String]) {
        self.confirmed.withLockedValue { $0.subtract(channels) }
        self.subscriber.sunsubscribe(channels)
    }
    public func numberOfSubscribers(_ channel: String) -> EventLoopFuture<Int> {
        self.publisher.send(RedisCommand("PUBSUB", "SHARDNUMSUB", channel)).flatMapThrowing { reply in
            guard let elements = reply.elements, elements.count >= 2, let count = elements[1].int else {
                throw RedisError.unexpectedReply("PUBSUB SHARDNUMSUB answered \(reply)")
            }
            return Int(count)
        }
    }
    public func waitUntilReady(timeout: Duration) async throws {
        try await self.publisher.waitUntilConnected(timeout: timeout)
        try await self.subscriber.waitUntilConnected(timeout: timeout)
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        while self.subscriber.shardChannels.subtracting(self.confirmed.withLockedValue { $0 }).count > 0 {
            guard NIODeadline.now() < deadline else { throw RedisError.notConnected }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
    public func shutdown() async {
        await self.publisher.shutdown()
        await self.subscriber.shutdown()
    }
}
