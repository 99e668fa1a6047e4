import Logging
import NIOConcurrencyHelpers
import NIOCore
import SocketIOCore
import SocketIOAdapter
import SocketIOCore

/// Options of the sharded adapter; names and defaults are those of Node.js's `createShardedAdapter`
/// (`@socket.io/redis-adapter` 8.x).
public struct RedisShardedAdapterOptions: Sendable, Hashable {
    /// Which rooms get a channel of their own.
    public enum SubscriptionMode: String, Sendable, Hashable {
        /// Only the namespace's channels: every node receives every broadcast.
        case `static`
        /// Also one channel per public room (not a socket's own room), subscribed while a local socket is
        /// in it: a broadcast to one such room reaches only the nodes that have members.
        case dynamic
        /// Like `dynamic`, and sockets' own rooms get channels too (for much one-to-one traffic).
        case dynamicPrivate = "dynamic-private"
    }

    /// The prefix of every channel (default `socket.io`).
    public var channelPrefix: String
    /// The subscription mode (default `dynamic`).
    public var subscriptionMode: SubscriptionMode
    /// How long requests that need answers from other nodes wait when the call gives no timeout (default
    /// 5 s, the Node.js adapter's fixed value).
    public var requestsTimeout: Duration

    /// Creates options.
    public init(channelPrefix: String = "socket.io", subscriptionMode: SubscriptionMode = .dynamic, requestsTimeout: Duration = .seconds(5)) {
        self.channelPrefix = channelPrefix
        self.subscriptionMode = subscriptionMode
        self.requestsTimeout = requestsTimeout
    }
}

/// The channels of one namespace in the sharded adapter: `<prefix>#<nsp>#` for messages to every node,
/// `<prefix>#<nsp>#<uid>#` for the responses to node `uid`, `<prefix>#<nsp>#<room>#` for a room's broadcasts.
public struct ShardedAdapterChannels: Sendable, Hashable {
    /// The prefix.
    public let prefix: String
    /// The namespace name.
    public let namespace: String

    /// The channels of `namespace` under `prefix`.
    public init(prefix: String = "socket.io", namespace: String) {
        self.prefix = prefix
        self.namespace = namespace
    }

    /// Broadcasts to everyone and requests: every node subscribes.
    public var main: String { self.prefix + "#" + self.namespace + "#" }
    /// Where a broadcast without acks to `rooms` goes: its room's channel when it targets one room that
    /// has a channel by the Node.js adapter's rule (in `dynamic`, a room whose name is not 20 characters
    /// long, the length of a socket id; any room in `dynamic-private`), else the namespace channel.
    public func broadcastChannel(rooms: Set<String>, mode: RedisShardedAdapterOptions.SubscriptionMode) -> String {
        guard rooms.count == 1, let room = rooms.first else { return self.main }
        switch mode {
        case .static: return self.main
        case .dynamic: return Self.looksLikeASocketId(room) ? self.main : self.room(room)
        case .dynamicPrivate: return self.room(room)
        }
    }

    /// The Node.js adapter's test: a string of 20 characters (JavaScript's UTF-16 length).
    public static func looksLikeASocketId(_ room: String) -> Bool { room.utf16.count == 20 }

    /// The responses to node `uid`.
    public func response(_ uid: String) -> String { self.main + uid + "#" }
    /// Broadcasts to exactly `room` (dynamic subscription modes).
    public func room(_ room: String) -> String { self.main + room + "#" }
}

/// An adapter on sharded Pub/Sub, wire-compatible with Node.js's `createShardedAdapter`: Swift and
/// Node.js nodes can share a Redis Cluster. It is socket.io-adapter's `ClusterAdapter` over a
/// `PubSubDriver`: messages are `{type, data, uid, nsp}`, JSON (MessagePack when they carry binary);
/// the number of nodes is the number of subscribers of the namespace channel.
///
/// Like the Pub/Sub adapter, nothing is kept: a message published while a node cannot receive it (Redis
/// away, or the channel's slot moving between masters) does not reach that node. Create adapters with
/// `RedisShardedAdapterFactory`.
public final class RedisShardedAdapter: Adapter {
    /// The namespace.
    public unowned let namespace: any AdapterNamespace
    /// This node's id in the cluster (16 hex digits, like `ClusterAdapter`'s).
    public let uid: String
    /// The channel names.
    public let channels: ShardedAdapterChannels
    /// The rooms and local sockets.
    public let local: any LocalAdapter
    private let factory: RedisShardedAdapterFactory
    private let core: ClusterAdapterCore
    private let transport: Transport
    /// Rooms with a channel of their own → local members.
    private let roomMembers = NIOLockedValueBox<[String: Int]>([:])
    private var driver: any PubSubDriver { self.factory.driver }
    private var options: RedisShardedAdapterOptions { self.factory.options }
    private var logger: Logger { self.factory.logger }

    /// Sharded Pub/Sub for the core: everything to the namespace channel, responses to the requester's.
    private struct Transport: ClusterTransport {
        let driver: any PubSubDriver
        let channels: ShardedAdapterChannels
        let uid: String
        let logger: Logger

        var eventLoop: EventLoop { self.driver.eventLoop }
        func publish(_ type: ClusterMessageType, _ data: JSONValue) { self.publish(type, data, to: self.channels.main) }
        func publishResponse(to requester: String, _ type: ClusterMessageType, _ data: JSONValue) {
            self.publish(type, data, to: self.channels.response(requester))
        }
        func serverCount() -> EventLoopFuture<Int> { self.driver.numberOfSubscribers(self.channels.main) }

        func publish(_ type: ClusterMessageType, _ data: JSONValue, to channel: String) {
            let message = ClusterAdapterMessage.encode(type: type, data: data, uid: self.uid, namespace: self.channels.namespace)
            self.driver.publish(channel, message).whenFailure { error in
                // The bus is away (the driver logs the outage and reconnects): cross-node delivery is lost meanwhile.
                self.logger.trace("publish failed", metadata: ["redis.channel": "\(channel)", "error": "\(error)"])
            }
        }
    }

    init(namespace: any AdapterNamespace, factory: RedisShardedAdapterFactory) {
        self.namespace = namespace
        self.factory = factory
        let uid = ClusterAdapterMessage.randomId()
        self.uid = uid
        self.channels = ShardedAdapterChannels(prefix: factory.options.channelPrefix, namespace: namespace.name)
        self.local = namespace.makeLocalAdapter(keepsRecoveryLog: true)
        self.transport = Transport(driver: factory.driver, channels: self.channels, uid: uid, logger: factory.logger)
        self.core = ClusterAdapterCore(
            namespace: namespace,
            uid: uid,
            local: self.local,
            transport: self.transport,
            requestsTimeout: TimeAmount(factory.options.requestsTimeout),
            logger: factory.logger
        )
    }

    // MARK: Rooms (local, with a channel per room in the dynamic modes)

    public func addAll(_ id: String, rooms: Set<String>) {
        let before = self.local.socketRooms(id) ?? []
        self.local.addAll(id, rooms: rooms)
        guard self.options.subscriptionMode != .static else { return }
        self.roomMembers.withLockedValue { roomMembers in
            for room in rooms.subtracting(before) where roomMembers[room] != nil || self.hasOwnChannel(room, joiningSocket: id) {
                roomMembers[room, default: 0] += 1
                // Subscribed under the lock, so that a room emptied and filled again concurrently ends subscribed.
                if roomMembers[room] == 1 { self.factory.subscribe(self.channels.room(room), for: self) }
            }
        }
    }

    public func del(_ id: String, room: String) {
        let wasMember = self.local.socketRooms(id)?.contains(room) ?? false
        self.local.del(id, room: room)
        if wasMember { self.roomsLeft([room]) }
    }

    public func delAll(_ id: String) {
        let before = self.local.socketRooms(id) ?? []
        self.local.delAll(id)
        self.roomsLeft(before)
    }

    private func roomsLeft(_ rooms: Set<String>) {
        guard self.options.subscriptionMode != .static else { return }
        self.roomMembers.withLockedValue { roomMembers in
            for room in rooms {
                guard let members = roomMembers[room] else { continue }
                if members > 1 {
                    roomMembers[room] = members - 1
                } else {
                    roomMembers[room] = nil
                    self.factory.unsubscribe(self.channels.room(room))
                }
            }
        }
    }

    /// Whether `room` gets a channel: any room in `dynamic-private`, public rooms (not a local socket's id)
    /// in `dynamic`.
    private func hasOwnChannel(_ room: String, joiningSocket id: String) -> Bool {
        switch self.options.subscriptionMode {
        case .static: return false
        case .dynamicPrivate: return true
        case .dynamic: return room != id && self.local.socketRooms(room) == nil
        }
    }

    public func socketRooms(_ id: String) -> Set<String>? { self.local.socketRooms(id) }
    public var rooms: [String: Set<String>] { self.local.rooms }

    /// The rooms that have a channel of their own here, with their local member counts.
    public var roomChannels: [String: Int] { self.roomMembers.withLockedValue { $0 } }

    // MARK: Broadcasting

    public func broadcast(_ packet: SocketPacket, options: BroadcastOptions) {
        var packet = packet
        packet.namespace = self.namespace.name
        if !options.local {
            self.transport.publish(.broadcast, ClusterAdapterMessage.broadcastData(packet: packet, options: options), to: self.channel(forBroadcastTo: options.rooms))
        }
        self.local.broadcast(packet, options: options)
    }

    /// Where a broadcast without acks to `rooms` goes (see `ShardedAdapterChannels.broadcastChannel`).
    public func channel(forBroadcastTo rooms: Set<String>) -> String {
        self.channels.broadcastChannel(rooms: rooms, mode: self.options.subscriptionMode)
    }

    public func broadcastWithAck(
        _ packet: SocketPacket,
        options: BroadcastOptions,
        clientCount: @escaping @Sendable (Int) -> Void,
        ack: @escaping @Sendable ([JSONValue]) -> Void
    ) {
        // Always the namespace channel: every node reports a count, room members or not.
        self.core.broadcastWithAck(packet, options: options, clientCount: clientCount, ack: ack)
    }

    /// The number of nodes: the subscribers of the namespace channel (`PUBSUB SHARDNUMSUB`).
    public func serverCount() -> EventLoopFuture<Int> { self.transport.serverCount() }

    // MARK: Queries and acting on sockets everywhere

    public func sockets(in rooms: Set<String>) async throws -> Set<String> {
        Set(try await self.fetchSockets(BroadcastOptions(rooms: rooms)).map(\.id))
    }
    public func fetchSockets(_ options: BroadcastOptions) async throws -> [FetchedSocket] { try await self.core.fetchSockets(options) }
    public func addSockets(_ options: BroadcastOptions, rooms: Set<String>) { self.core.addSockets(options, rooms: rooms) }
    public func delSockets(_ options: BroadcastOptions, rooms: Set<String>) { self.core.delSockets(options, rooms: rooms) }
    public func disconnectSockets(_ options: BroadcastOptions, close: Bool) { self.core.disconnectSockets(options, close: close) }
    public func serverSideEmit(_ arguments: [JSONValue], timeout: TimeAmountMilliseconds?) async throws -> [JSONValue] {
        try await self.core.serverSideEmit(arguments, timeout: timeout)
    }

    // MARK: Connection state recovery (this node only)

    /// Kept by this node's log: a client recovers only if it reconnects to the same node (the sharded
    /// protocol keeps nothing in Redis, as in Node.js).
    public func persistSession(_ session: PersistedSession) { self.local.persistSession(session) }

    public func restoreSession(pid: String, offset: String) async throws -> RestoredSession? {
        try await self.local.restoreSession(pid: pid, offset: offset)
    }

    // MARK: Incoming

    /// A message on one of this namespace's channels.
    func receive(channel: String, payload: ByteBuffer) {
        let message: ClusterAdapterMessage.Decoded
        do {
            message = try ClusterAdapterMessage.decode(payload)
        } catch {
            self.logger.debug("ignoring malformed cluster message", metadata: ["error": "\(error)", "redis.channel": "\(channel)"])
            return
        }
        guard message.uid != self.uid else { return }
        if channel == self.channels.response(self.uid) {
            self.core.onResponse(message)
        } else {
            self.core.onMessage(message)
        }
    }
}

/// Joins a Socket.IO server to a Redis Cluster with sharded Pub/Sub (or to any bus a `PubSubDriver`
/// speaks): one driver shared by the `RedisShardedAdapter` of every namespace.
///
/// ```swift
/// let sharded = try RedisShardedAdapterFactory(clusterURL: "redis://10.0.0.5:7000")  // any one node
/// let io = SocketIO(configuration: SocketIOServerConfiguration(adapter: sharded.adapter))
/// ```
public final class RedisShardedAdapterFactory: Sendable {
    /// The adapter options.
    public let options: RedisShardedAdapterOptions
    /// The bus.
    public let driver: any PubSubDriver
    let logger: Logger
    private let routes = NIOLockedValueBox<[String: Weak]>([:])

    private struct Weak: @unchecked Sendable {
        weak var adapter: RedisShardedAdapter?
    }

    /// Adapters over `driver`.
    public init(driver: any PubSubDriver, options: RedisShardedAdapterOptions = RedisShardedAdapterOptions(), logger: Logger = Logger(label: "socket.io.redis")) {
        self.driver = driver
        self.options = options
        self.logger = logger
        let routes = self.routes
        driver.setMessageHandler { channel, payload in
            routes.withLockedValue { $0[channel]?.adapter }?.receive(channel: channel, payload: payload)
        }
    }

    /// Adapters on the Redis Cluster that the node at `clusterURL` (`redis://[[user]:password@]host:port`)
    /// belongs to; the other nodes are discovered.
    public convenience init(
        clusterURL: String,
        options: RedisShardedAdapterOptions = RedisShardedAdapterOptions(),
        clusterOptions: RedisClusterOptions = RedisClusterOptions(),
        logger: Logger = Logger(label: "socket.io.redis")
    ) throws(RedisError) {
        let driver = RedisClusterPubSubDriver(configuration: try RedisConfiguration(url: clusterURL), options: clusterOptions, logger: logger)
        self.init(driver: driver, options: options, logger: logger)
    }

    /// The factory to put in `SocketIOServerConfiguration.adapter`.
    public var adapter: @Sendable (any AdapterNamespace) -> any Adapter {
        { namespace in self.makeAdapter(for: namespace) }
    }

    /// Creates the adapter of `namespace` and subscribes to its channels.
    public func makeAdapter(for namespace: any AdapterNamespace) -> RedisShardedAdapter {
        let adapter = RedisShardedAdapter(namespace: namespace, factory: self)
        self.subscribe(adapter.channels.main, for: adapter)
        self.subscribe(adapter.channels.response(adapter.uid), for: adapter)
        return adapter
    }

    func subscribe(_ channel: String, for adapter: RedisShardedAdapter) {
        self.routes.withLockedValue { $0[channel] = Weak(adapter: adapter) }
        self.driver.subscribe([channel])
    }

    func unsubscribe(_ channel: String) {
        self.routes.withLockedValue { $0[channel] = nil }
        self.driver.unsubscribe([channel])
    }

    /// Waits until the bus is reachable and every subscription is in place.
    public func waitUntilReady(timeout: Duration = .seconds(10)) async throws {
        try await self.driver.waitUntilReady(timeout: timeout)
    }

    /// Closes the bus's connections.
    public func shutdown() async {
        await self.driver.shutdown()
    }
}
