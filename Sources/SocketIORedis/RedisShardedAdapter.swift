import Logging
import NIOConcurrencyHelpers
import NIOCore
import SocketIOCore
import SocketIOServer

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
    public var requestsTimeout: TimeAmount

    /// Creates options.
    public init(channelPrefix: String = "socket.io", subscriptionMode: SubscriptionMode = .dynamic, requestsTimeout: TimeAmount = .seconds(5)) {
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
    /// A broadcast with acks this node sent: where the other nodes' counts and acks go.
    private struct AckRequest {
        var clientCount: ClientCountAggregator
        var ack: @Sendable ([JSONValue]) -> Void
    }

    private struct State {
        var ackRequests: [String: AckRequest] = [:]
        /// Rooms with a channel of their own → local members.
        var roomMembers: [String: Int] = [:]
    }

    /// The namespace.
    public unowned let namespace: Namespace
    /// This node's id in the cluster (16 hex digits, like `ClusterAdapter`'s).
    public let uid: String
    /// The channel names.
    public let channels: ShardedAdapterChannels
    /// The rooms and local sockets.
    public let local: InMemoryAdapter
    private let factory: RedisShardedAdapterFactory
    private let requests = PendingRequests()
    private let state = NIOLockedValueBox(State())
    private var driver: any PubSubDriver { self.factory.driver }
    private var options: RedisShardedAdapterOptions { self.factory.options }
    private var logger: Logger { self.factory.logger }

    init(namespace: Namespace, factory: RedisShardedAdapterFactory) {
        self.namespace = namespace
        self.factory = factory
        self.uid = ClusterAdapterMessage.randomId()
        self.channels = ShardedAdapterChannels(prefix: factory.options.channelPrefix, namespace: namespace.name)
        self.local = InMemoryAdapter(namespace: namespace)
    }

    // MARK: Rooms (local, with a channel per room in the dynamic modes)

    public func addAll(_ id: String, rooms: Set<String>) {
        let before = self.local.socketRooms(id) ?? []
        self.local.addAll(id, rooms: rooms)
        guard self.options.subscriptionMode != .static else { return }
        self.state.withLockedValue { state in
            for room in rooms.subtracting(before) where state.roomMembers[room] != nil || self.hasOwnChannel(room, joiningSocket: id) {
                state.roomMembers[room, default: 0] += 1
                // Subscribed under the lock, so that a room emptied and filled again concurrently ends subscribed.
                if state.roomMembers[room] == 1 { self.factory.subscribe(self.channels.room(room), for: self) }
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
        self.state.withLockedValue { state in
            for room in rooms {
                guard let members = state.roomMembers[room] else { continue }
                if members > 1 {
                    state.roomMembers[room] = members - 1
                } else {
                    state.roomMembers[room] = nil
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
    public var roomChannels: [String: Int] { self.state.withLockedValue { $0.roomMembers } }

    // MARK: Broadcasting

    public func broadcast(_ packet: SocketPacket, options: BroadcastOptions) {
        var packet = packet
        packet.namespace = self.namespace.name
        if !options.local {
            self.publish(.broadcast, ClusterAdapterMessage.broadcastData(packet: packet, options: options), to: self.channel(forBroadcastTo: options.rooms))
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
        var packet = packet
        packet.namespace = self.namespace.name
        packet.ackId = nil
        let aggregator = ClientCountAggregator(report: clientCount)
        if options.local {
            aggregator.expectNodes(1)
        } else {
            let requestId = ClusterAdapterMessage.randomId()
            self.state.withLockedValue { $0.ackRequests[requestId] = AckRequest(clientCount: aggregator, ack: ack) }
            // Always the namespace channel: every node reports a count, room members or not.
            self.publish(.broadcast, ClusterAdapterMessage.broadcastData(packet: packet, options: options, requestId: requestId), to: self.channels.main)
            self.serverCount().whenComplete { result in aggregator.expectNodes(max(1, (try? result.get()) ?? 1)) }
            let timeout = options.timeout ?? self.options.requestsTimeout
            self.driver.eventLoop.scheduleTask(in: timeout) { [weak self] in
                _ = self?.state.withLockedValue { $0.ackRequests.removeValue(forKey: requestId) }
            }
        }
        self.local.broadcastWithAck(packet, options: options, clientCount: { aggregator.add($0) }, ack: ack)
    }

    /// The number of nodes: the subscribers of the namespace channel (`PUBSUB SHARDNUMSUB`).
    public func serverCount() -> EventLoopFuture<Int> {
        self.driver.numberOfSubscribers(self.channels.main)
    }

    // MARK: Queries

    public func sockets(in rooms: Set<String>) async throws -> Set<String> {
        Set(try await self.fetchSockets(BroadcastOptions(rooms: rooms)).map(\.id))
    }

    public func fetchSockets(_ options: BroadcastOptions) async throws -> [RemoteSocket] {
        var result = try await self.local.fetchSockets(options)
        guard !options.local else { return result }
        let remote = try await self.request(
            .fetchSockets,
            expectedTag: ClusterMessageType.fetchSocketsResponse,
            timeout: options.timeout ?? self.options.requestsTimeout,
            what: "fetchSockets response"
        ) { requestId in ClusterAdapterMessage.fetchSocketsData(options: options, requestId: requestId) }
        result.append(contentsOf: remote.compactMap { RedisAdapterMessage.remoteSocket(from: $0, namespace: self.namespace) })
        return result
    }

    // MARK: Acting on sockets everywhere

    public func addSockets(_ options: BroadcastOptions, rooms: Set<String>) {
        if !options.local { self.publish(.socketsJoin, ClusterAdapterMessage.roomsData(options: options, rooms: rooms), to: self.channels.main) }
        self.local.addSockets(options, rooms: rooms)
    }

    public func delSockets(_ options: BroadcastOptions, rooms: Set<String>) {
        if !options.local { self.publish(.socketsLeave, ClusterAdapterMessage.roomsData(options: options, rooms: rooms), to: self.channels.main) }
        self.local.delSockets(options, rooms: rooms)
    }

    public func disconnectSockets(_ options: BroadcastOptions, close: Bool) {
        if !options.local { self.publish(.disconnectSockets, ClusterAdapterMessage.disconnectData(options: options, close: close), to: self.channels.main) }
        self.local.disconnectSockets(options, close: close)
    }

    public func serverSideEmit(_ arguments: [JSONValue], timeout: TimeAmountMilliseconds?) async throws -> [JSONValue] {
        guard let timeout else {
            self.publish(.serverSideEmit, ClusterAdapterMessage.serverSideEmitData(arguments: arguments, requestId: nil), to: self.channels.main)
            return []
        }
        return try await self.request(
            .serverSideEmit,
            expectedTag: ClusterMessageType.serverSideEmitResponse,
            timeout: .milliseconds(timeout),
            what: "serverSideEmit acknowledgements"
        ) { requestId in ClusterAdapterMessage.serverSideEmitData(arguments: arguments, requestId: requestId) }
    }

    /// Publishes a request on the namespace channel and gathers one answer from every other node.
    private func request(
        _ type: ClusterMessageType,
        expectedTag: ClusterMessageType,
        timeout: TimeAmount,
        what: String,
        data: (String) -> JSONValue
    ) async throws -> [JSONValue] {
        let servers: Int
        do {
            servers = try await self.serverCount().get()
        } catch let error as RedisError where error == .notConnected {
            // Redis is away: answer with this node's part rather than fail local work.
            self.logger.debug("Redis unavailable; answering \(what) from this node only", metadata: ["sio.nsp": "\(self.namespace.name)"])
            return []
        }
        let expected = servers - 1
        guard expected > 0 else { return [] }
        let requestId = ClusterAdapterMessage.randomId()
        let answers = self.requests.start(id: requestId, tag: expectedTag.rawValue, expected: expected, timeout: timeout, on: self.driver.eventLoop, what: what)
        self.publish(type, data(requestId), to: self.channels.main)
        return try await answers.get()
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
            self.onResponse(message)
        } else {
            self.onMessage(message)
        }
    }

    private func onMessage(_ message: ClusterAdapterMessage.Decoded) {
        let data = message.data
        switch message.type {
        case .broadcast:
            guard var packet = RedisAdapterMessage.packet(from: data["packet"]) else { return }
            packet.namespace = self.namespace.name
            let options = RedisAdapterMessage.options(from: data["opts"])
            guard let requestId = data["requestId"]?.stringValue else {
                self.local.broadcast(packet, options: options)
                return
            }
            guard let requester = message.uid else { return }
            self.local.broadcastWithAck(
                packet,
                options: options,
                clientCount: { count in
                    self.publishResponse(to: requester, .broadcastClientCount, ClusterAdapterMessage.clientCountData(requestId: requestId, clientCount: count))
                },
                ack: { arguments in
                    self.publishResponse(to: requester, .broadcastAck, ClusterAdapterMessage.answerData(requestId: requestId, packet: arguments.first))
                }
            )
        case .socketsJoin:
            self.local.addSockets(RedisAdapterMessage.options(from: data["opts"]), rooms: Set(RedisAdapterMessage.strings(data["rooms"])))
        case .socketsLeave:
            self.local.delSockets(RedisAdapterMessage.options(from: data["opts"]), rooms: Set(RedisAdapterMessage.strings(data["rooms"])))
        case .disconnectSockets:
            self.local.disconnectSockets(RedisAdapterMessage.options(from: data["opts"]), close: data["close"]?.boolValue ?? false)
        case .fetchSockets:
            guard let requester = message.uid, let requestId = data["requestId"]?.stringValue else { return }
            let sockets = self.local.targets(RedisAdapterMessage.options(from: data["opts"])).map(RedisAdapterMessage.socketObject)
            self.publishResponse(to: requester, .fetchSocketsResponse, ClusterAdapterMessage.fetchSocketsResponseData(requestId: requestId, sockets: sockets))
        case .serverSideEmit:
            let arguments = data["packet"]?.arrayValue ?? []
            guard let requestId = data["requestId"]?.stringValue, let requester = message.uid else {
                self.namespace.receiveServerSideEmit(arguments, ack: nil)
                return
            }
            let called = NIOLockedValueBox(false)
            self.namespace.receiveServerSideEmit(arguments) { answer in
                // Only the first call and its first argument cross, as in the Node.js adapter.
                guard called.withLockedValue({ called in defer { called = true }; return !called }) else { return }
                self.publishResponse(to: requester, .serverSideEmitResponse, ClusterAdapterMessage.answerData(requestId: requestId, packet: answer.first))
            }
        case .broadcastClientCount, .broadcastAck, .fetchSocketsResponse, .serverSideEmitResponse:
            // A response that arrived on a shared channel: handled like one on ours (as ClusterAdapter does).
            self.onResponse(message)
        default:
            // Heartbeats and ADAPTER_CLOSE belong to the heartbeat adapters; nothing to do here.
            break
        }
    }

    private func onResponse(_ message: ClusterAdapterMessage.Decoded) {
        guard let requestId = message.data["requestId"]?.stringValue else { return }
        switch message.type {
        case .broadcastClientCount:
            let request = self.state.withLockedValue { $0.ackRequests[requestId] }
            request?.clientCount.add(message.data["clientCount"]?.intValue ?? 0)
        case .broadcastAck:
            let request = self.state.withLockedValue { $0.ackRequests[requestId] }
            request?.ack(message.data["packet"].map { [$0] } ?? [])
        case .fetchSocketsResponse, .serverSideEmitResponse:
            self.requests.answer(id: requestId) { tag in
                guard tag == message.type.rawValue else { return [] }
                return message.type == .fetchSocketsResponse ? message.data["sockets"]?.arrayValue ?? [] : [message.data["packet"] ?? .null]
            }
        default:
            break
        }
    }

    // MARK: Publishing

    private func publishResponse(to requester: String, _ type: ClusterMessageType, _ data: JSONValue) {
        self.publish(type, data, to: self.channels.response(requester))
    }

    private func publish(_ type: ClusterMessageType, _ data: JSONValue, to channel: String) {
        let message = ClusterAdapterMessage.encode(type: type, data: data, uid: self.uid, namespace: self.namespace.name)
        self.driver.publish(channel, message).whenFailure { error in
            // The bus is away (the driver logs the outage and reconnects): cross-node delivery is lost meanwhile.
            self.logger.trace("publish failed", metadata: ["redis.channel": "\(channel)", "error": "\(error)"])
        }
    }
}

/// Joins a Socket.IO server to a Redis Cluster with sharded Pub/Sub (or to any bus a `PubSubDriver`
/// speaks): one driver shared by the `RedisShardedAdapter` of every namespace.
///
/// ```swift
/// let sharded = try RedisShardedAdapterFactory(clusterURL: "redis://10.0.0.5:7000")  // any one node
/// let io = SocketIOServer(configuration: SocketIOServerConfiguration(adapter: sharded.adapter))
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
    public var adapter: @Sendable (Namespace) -> Adapter {
        { namespace in self.makeAdapter(for: namespace) }
    }

    /// Creates the adapter of `namespace` and subscribes to its channels.
    public func makeAdapter(for namespace: Namespace) -> RedisShardedAdapter {
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
    public func waitUntilReady(timeout: TimeAmount = .seconds(10)) async throws {
        try await self.driver.waitUntilReady(timeout: timeout)
    }

    /// Closes the bus's connections.
    public func shutdown() async {
        await self.driver.shutdown()
    }
}
