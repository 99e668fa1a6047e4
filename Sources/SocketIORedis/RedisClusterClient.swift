import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Options of the cluster client.
public struct RedisClusterOptions: Sendable, Hashable {
    /// The most redirections and retries of one command (`MOVED`, `ASK`, `TRYAGAIN`, a node not yet
    /// connected) before it fails (default 16).
    public var maxAttempts: Int
    /// How often the slot map is fetched again even without a sign of change (default 5 s); a `MOVED`, a
    /// lost connection or a subscription the server ended trigger a fetch at once.
    public var topologyRefreshInterval: Duration
    /// How long a fetch of the slot map waits for a node that is not connected (default 1 s).
    public var discoveryTimeout: Duration

    /// Creates options.
    public init(maxAttempts: Int = 16, topologyRefreshInterval: Duration = .seconds(5), discoveryTimeout: Duration = .seconds(1)) {
        self.maxAttempts = maxAttempts
        self.topologyRefreshInterval = topologyRefreshInterval
        self.discoveryTimeout = discoveryTimeout
    }
}

/// A Redis Cluster client: discovers the masters from any one node (`CLUSTER SHARDS`, or `CLUSTER SLOTS`
/// before Redis 7), sends each command to the master of its key's slot, follows `MOVED` and `ASK`, and
/// fetches the slot map again after a failover or a resharding.
///
/// For sharded Pub/Sub it keeps one subscriber connection per master and subscribes each channel
/// (`SSUBSCRIBE`) on the master that owns its slot; when a slot moves, the server ends the subscription
/// (a `sunsubscribe` push) and the client subscribes again where the slot went. Messages published while
/// a channel is between two masters are not delivered to this client (Pub/Sub keeps nothing).
public final class RedisClusterClient: Sendable {
    /// Receives sharded messages, on a connection's event loop.
    public typealias MessageHandler = @Sendable (RedisPubSubMessage) -> Void

    private struct Node {
        var commands: RedisClient
        var subscriber: RedisClient?
    }

    /// Where a wanted sharded channel is subscribed (nil: nowhere yet) and whether the node confirmed it.
    private struct Placement {
        var node: RedisNodeAddress?
        var confirmed = false
    }

    /// Commands of one slot in flight: they all went to `node`; commands for the slot that would go
    /// elsewhere (the slot moved) wait in `queue` until these completed, so that a slot's commands keep
    /// their order through a move (the redirected ones first, then the new ones).
    private struct SlotTraffic {
        var node: RedisNodeAddress?
        var pending: Int
        var queue: [(command: RedisCommand, promise: EventLoopPromise<RESPValue>)] = []
    }

    private struct State {
        var topology: RedisClusterTopology?
        var traffic: [Int: SlotTraffic] = [:]
        var nodes: [RedisNodeAddress: Node] = [:]
        var channels: [String: Placement] = [:]
        var refresh: EventLoopFuture<Void>?
        var refreshAgain = false
        var refreshFailures = 0
        var timer: RepeatedTask?
        var isShutdown = false
    }

    /// The settings of every connection; host and port are the first node's.
    public let configuration: RedisConfiguration
    /// The cluster options.
    public let options: RedisClusterOptions
    private let seeds: [RedisNodeAddress]
    private let eventLoopGroup: EventLoopGroup
    /// The loop of the client's timers.
    public let eventLoop: EventLoop
    private let logger: Logger
    private let onMessage: MessageHandler?
    private let state = NIOLockedValueBox(State())

    /// Starts discovering the cluster from the node at `configuration` (and `otherSeeds`, tried in turn).
    /// With `onMessage`, the client can subscribe to sharded channels.
    public init(
        configuration: RedisConfiguration,
        otherSeeds: [RedisNodeAddress] = [],
        options: RedisClusterOptions = RedisClusterOptions(),
        eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "redis.cluster"),
        onMessage: MessageHandler? = nil
    ) {
        var configuration = configuration
        configuration.database = 0  // a cluster has database 0 only
        self.configuration = configuration
        self.options = options
        self.seeds = [RedisNodeAddress(host: configuration.host, port: configuration.port)] + otherSeeds
        self.eventLoopGroup = eventLoopGroup
        self.eventLoop = eventLoopGroup.any()
        self.logger = logger
        self.onMessage = onMessage
        let timer = self.eventLoop.scheduleRepeatedTask(initialDelay: TimeAmount(options.topologyRefreshInterval), delay: TimeAmount(options.topologyRefreshInterval)) { [weak self] _ in
            self?.requestRefresh()
        }
        self.state.withLockedValue { $0.timer = timer }
        self.requestRefresh()
    }

    /// The slot map last fetched (nil before the first discovery).
    public var topology: RedisClusterTopology? { self.state.withLockedValue { $0.topology } }

    // MARK: Commands

    /// Sends `command` to the master of `key`'s slot (any master without a key), following redirections.
    /// Commands of one slot reach Redis in the order they were sent, also while the slot moves.
    public func send(_ command: RedisCommand, key: String?) -> EventLoopFuture<RESPValue> {
        guard let key else { return self.send(command, slot: nil, attempt: 1, asking: nil) }
        let slot = RedisClusterSlot.slot(forKey: key)
        let promise = self.eventLoop.makePromise(of: RESPValue.self)
        let admitted = self.state.withLockedValue { state -> Bool? in
            let owner = state.topology?.master(forSlot: slot)
            guard var traffic = state.traffic[slot] else {
                state.traffic[slot] = SlotTraffic(node: owner, pending: 1)
                return true
            }
            if traffic.queue.isEmpty, traffic.node == owner {
                traffic.pending += 1
                state.traffic[slot] = traffic
                return true
            }
            guard traffic.queue.count < self.configuration.maxPendingCommands else { return nil }
            traffic.queue.append((command, promise))
            state.traffic[slot] = traffic
            return false
        }
        switch admitted {
        case true?: self.start(command, slot: slot, promise: promise)
        case false?: break  // sent when the slot's earlier commands completed
        case nil: promise.fail(RedisError.tooManyPendingCommands)
        }
        return promise.futureResult
    }

    private func start(_ command: RedisCommand, slot: Int, promise: EventLoopPromise<RESPValue>) {
        self.send(command, slot: slot, attempt: 1, asking: nil).whenComplete { result in
            promise.completeWith(result)
            self.completed(slot: slot)
        }
    }

    /// One command of `slot` completed: when it was the last in flight, the waiting ones go, in order.
    private func completed(slot: Int) {
        let ready = self.state.withLockedValue { state -> [(command: RedisCommand, promise: EventLoopPromise<RESPValue>)] in
            guard var traffic = state.traffic[slot] else { return [] }
            traffic.pending -= 1
            guard traffic.pending == 0 else {
                state.traffic[slot] = traffic
                return []
            }
            guard !traffic.queue.isEmpty else {
                state.traffic[slot] = nil
                return []
            }
            state.traffic[slot] = SlotTraffic(node: state.topology?.master(forSlot: slot), pending: traffic.queue.count)
            return traffic.queue
        }
        for (command, promise) in ready { self.start(command, slot: slot, promise: promise) }
    }

    /// `SPUBLISH channel message` on the master of the channel's slot: the number of subscribers reached.
    @discardableResult
    public func spublish(_ channel: String, _ message: ByteBuffer) -> EventLoopFuture<Int64> {
        let command = RedisCommand(arguments: [ByteBuffer(string: "SPUBLISH"), ByteBuffer(string: channel), message])
        return self.send(command, key: channel).flatMapThrowing { reply in
            guard let count = reply.int else { throw RedisError.unexpectedReply("SPUBLISH answered \(reply)") }
            return count
        }
    }

    /// `PUBSUB SHARDNUMSUB channel` on the master of the channel's slot: how many connections subscribe.
    public func numberOfShardSubscribers(_ channel: String) -> EventLoopFuture<Int> {
        self.send(RedisCommand("PUBSUB", "SHARDNUMSUB", channel), key: channel).flatMapThrowing { reply in
            guard let elements = reply.elements, elements.count >= 2, let count = elements[1].int else {
                throw RedisError.unexpectedReply("PUBSUB SHARDNUMSUB answered \(reply)")
            }
            return Int(count)
        }
    }

    private func send(_ command: RedisCommand, slot: Int?, attempt: Int, asking: RedisNodeAddress?) -> EventLoopFuture<RESPValue> {
        let target = self.state.withLockedValue { state -> RedisClient? in
            guard !state.isShutdown else { return nil }
            if let asking { return self.node(asking, in: &state).commands }
            guard let topology = state.topology else { return nil }
            guard let address = slot.map({ topology.master(forSlot: $0) }) ?? topology.masters.first else { return nil }
            return self.node(address, in: &state).commands
        }
        guard let target else {
            if self.state.withLockedValue({ $0.isShutdown }) { return self.eventLoop.makeFailedFuture(RedisError.shutdown) }
            // No map yet, or the slot is unassigned: fetch it and try again.
            return self.retry(command, slot: slot, attempt: attempt, error: RedisError.notConnected, refresh: true)
        }
        guard target.isConnected else {
            // A node met for the first time (or reconnecting): wait for it rather than fail.
            guard attempt < self.options.maxAttempts else { return self.eventLoop.makeFailedFuture(RedisError.notConnected) }
            return target.whenConnected(timeout: TimeAmount(self.options.discoveryTimeout)).flatMap {
                self.send(command, slot: slot, attempt: attempt + 1, asking: asking)
            }.flatMapError { error in
                self.retry(command, slot: slot, attempt: attempt, error: error, refresh: true)
            }
        }
        let reply = asking == nil ? target.send(command) : target.sendAsking(command)
        return reply.flatMapError { error in
            guard attempt < self.options.maxAttempts else { return self.eventLoop.makeFailedFuture(error) }
            if var redirection = RedisRedirection(error) {
                if redirection.address.host.isEmpty { redirection.address.host = target.configuration.host }
                switch redirection.kind {
                case .moved:
                    self.state.withLockedValue { _ = $0.topology?.move(slot: redirection.slot, to: redirection.address) }
                    self.requestRefresh()
                    return self.send(command, slot: redirection.slot, attempt: attempt + 1, asking: nil)
                case .ask:
                    return self.send(command, slot: slot, attempt: attempt + 1, asking: redirection.address)
                }
            }
            let message = (error as? RedisError)?.serverMessage ?? ""
            if message.hasPrefix("TRYAGAIN") || message.hasPrefix("CLUSTERDOWN") || message.hasPrefix("LOADING") || (error as? RedisError) == .notConnected {
                return self.retry(command, slot: slot, attempt: attempt, error: error, refresh: !message.hasPrefix("TRYAGAIN"))
            }
            // Anything else, including a connection that closed with the command in flight (it may have
            // run): the caller decides.
            return self.eventLoop.makeFailedFuture(error)
        }
    }

    /// Tries `command` again after a short backoff (and a fresh slot map when `refresh`).
    private func retry(_ command: RedisCommand, slot: Int?, attempt: Int, error: Error, refresh: Bool) -> EventLoopFuture<RESPValue> {
        guard attempt < self.options.maxAttempts else { return self.eventLoop.makeFailedFuture(error) }
        let delay = TimeAmount.milliseconds(min(10 << Int64(min(attempt, 6)), 500))
        return self.eventLoop.scheduleTask(in: delay) {}.futureResult.flatMap {
            refresh ? self.refreshTopology().recover { _ in } : self.eventLoop.makeSucceededVoidFuture()
        }.flatMap {
            self.send(command, slot: slot, attempt: attempt + 1, asking: nil)
        }
    }

    /// The node at `address`, connecting to it if new. Call under the lock.
    private func node(_ address: RedisNodeAddress, in state: inout State) -> Node {
        if let node = state.nodes[address] { return node }
        var configuration = self.configuration
        configuration.host = address.host
        configuration.port = address.port
        let node = Node(commands: RedisClient(configuration: configuration, eventLoopGroup: self.eventLoopGroup, logger: self.logger))
        state.nodes[address] = node
        return node
    }

    // MARK: Discovery

    /// Fetches the slot map from a known node (connected ones first, then the seeds) and applies it: new
    /// masters get connections, nodes that are no longer masters are closed, and sharded subscriptions
    /// move to their slots' masters. Concurrent calls share one fetch.
    @discardableResult
    public func refreshTopology() -> EventLoopFuture<Void> {
        let promise = self.eventLoop.makePromise(of: Void.self)
        let (existing, candidates) = self.state.withLockedValue { state -> (EventLoopFuture<Void>?, [RedisNodeAddress]) in
            if let refresh = state.refresh {
                state.refreshAgain = true  // a change may have come after that fetch started
                return (refresh, [])
            }
            if state.isShutdown { return (self.eventLoop.makeFailedFuture(RedisError.shutdown), []) }
            state.refresh = promise.futureResult
            let known = state.topology?.masters ?? []
            var candidates = known.filter { state.nodes[$0]?.commands.isConnected == true }
            for address in known + self.seeds where !candidates.contains(address) { candidates.append(address) }
            return (nil, candidates)
        }
        if let existing {
            promise.succeed()  // not used
            return existing
        }
        self.discover(from: candidates[...]).whenComplete { result in
            let (again, failures) = self.state.withLockedValue { state -> (Bool, Int) in
                state.refresh = nil
                state.refreshFailures = (try? result.get()) == nil ? state.refreshFailures + 1 : 0
                defer { state.refreshAgain = false }
                return (state.refreshAgain, state.refreshFailures)
            }
            switch result {
            case .success(let topology):
                self.apply(topology)
                promise.succeed()
            case .failure(let error):
                // Warn on the first failure and then on every power of two, to keep logs readable in long outages.
                let level: Logger.Level = failures & (failures - 1) == 0 ? .warning : .debug
                self.logger.log(level: level, "cannot fetch the Redis Cluster slot map", metadata: ["error": "\(error)", "redis.attempt": "\(failures)"])
                promise.fail(error)
            }
            if again { self.requestRefresh() }
        }
        return promise.futureResult
    }

    /// Fetches the map in the background (errors are logged).
    private func requestRefresh() {
        self.refreshTopology().whenFailure { _ in }
    }

    private func discover(from candidates: ArraySlice<RedisNodeAddress>) -> EventLoopFuture<RedisClusterTopology> {
        guard let address = candidates.first else {
            return self.eventLoop.makeFailedFuture(RedisError.notConnected)
        }
        let client: RedisClient? = self.state.withLockedValue { state in
            state.isShutdown ? nil : self.node(address, in: &state).commands
        }
        guard let client else { return self.eventLoop.makeFailedFuture(RedisError.shutdown) }
        return client.whenConnected(timeout: TimeAmount(self.options.discoveryTimeout)).flatMap {
            client.send(RedisCommand("CLUSTER", "SHARDS")).flatMapThrowing { reply in
                try RedisClusterTopology.parse(shardsReply: reply, answeringHost: address.host)
            }.flatMapError { error in
                // Before Redis 7: CLUSTER SLOTS.
                guard (error as? RedisError)?.serverMessage != nil else { return self.eventLoop.makeFailedFuture(error) }
                return client.send(RedisCommand("CLUSTER", "SLOTS")).flatMapThrowing { reply in
                    try RedisClusterTopology.parse(slotsReply: reply, answeringHost: address.host)
                }
            }
        }.flatMapThrowing { topology in
            guard !topology.shards.isEmpty else { throw RedisError.unexpectedReply("the cluster has no master with slots") }
            return topology
        }.flatMapError { error in
            self.logger.debug("slot map unavailable from a node", metadata: ["redis.address": "\(address)", "error": "\(error)"])
            return self.discover(from: candidates.dropFirst())
        }
    }

    private struct Move {
        var channel: String
        var from: RedisClient?
        var to: RedisClient
    }

    private func apply(_ topology: RedisClusterTopology) {
        let (moves, closed, changed) = self.state.withLockedValue { state -> ([Move], [RedisClient], Bool) in
            guard !state.isShutdown else { return ([], [], false) }
            let changed = state.topology != topology
            state.topology = topology
            let masters = Set(topology.masters)
            for master in masters { _ = self.node(master, in: &state) }
            var closed: [RedisClient] = []
            for (address, node) in state.nodes where !masters.contains(address) {
                closed.append(node.commands)
                if let subscriber = node.subscriber { closed.append(subscriber) }
                state.nodes[address] = nil
            }
            var moves: [Move] = []
            for (channel, placement) in state.channels {
                guard let owner = topology.master(forKey: channel), owner != placement.node else { continue }
                let from = placement.node.flatMap { state.nodes[$0]?.subscriber }
                moves.append(Move(channel: channel, from: from, to: self.subscriber(owner, in: &state)))
                state.channels[channel] = Placement(node: owner)
            }
            return (moves, closed, changed)
        }
        if changed {
            self.logger.debug("Redis Cluster slot map", metadata: ["redis.masters": "\(topology.masters.map(\.description))"])
        }
        for client in closed { client.close() }
        for move in moves {
            move.from?.sunsubscribe([move.channel])
            move.to.ssubscribe([move.channel])
        }
    }

    // MARK: Sharded Pub/Sub

    /// The subscriber connection to `address`, created if needed. Call under the lock.
    private func subscriber(_ address: RedisNodeAddress, in state: inout State) -> RedisClient {
        var node = self.node(address, in: &state)
        if let subscriber = node.subscriber { return subscriber }
        guard let onMessage = self.onMessage else { preconditionFailure("sharded subscriptions need a client created with onMessage") }
        var configuration = self.configuration
        configuration.host = address.host
        configuration.port = address.port
        let subscriber = RedisClient(
            configuration: configuration,
            eventLoopGroup: self.eventLoopGroup,
            logger: self.logger,
            onMessage: onMessage,
            onEvent: { [weak self] event in self?.subscriberEvent(event, from: address) }
        )
        node.subscriber = subscriber
        state.nodes[address] = node
        return subscriber
    }

    /// Subscribes to the sharded `channels`, each on its slot's master (kept across moves and reconnections).
    public func ssubscribe(_ channels: [String]) {
        let placed = self.state.withLockedValue { state -> [(String, RedisClient)] in
            var placed: [(String, RedisClient)] = []
            for channel in channels where state.channels[channel] == nil {
                guard let owner = state.topology?.master(forKey: channel) else {
                    state.channels[channel] = Placement()  // placed when the map arrives
                    continue
                }
                state.channels[channel] = Placement(node: owner)
                placed.append((channel, self.subscriber(owner, in: &state)))
            }
            return placed
        }
        for (channel, subscriber) in placed { subscriber.ssubscribe([channel]) }
    }

    /// Ends the sharded subscriptions to `channels`.
    public func sunsubscribe(_ channels: [String]) {
        let placed = self.state.withLockedValue { state -> [(String, RedisClient)] in
            var placed: [(String, RedisClient)] = []
            for channel in channels {
                guard let placement = state.channels.removeValue(forKey: channel) else { continue }
                if let node = placement.node, let subscriber = state.nodes[node]?.subscriber { placed.append((channel, subscriber)) }
            }
            return placed
        }
        for (channel, subscriber) in placed { subscriber.sunsubscribe([channel]) }
    }

    /// Whether every sharded channel asked for is subscribed on its master, confirmed.
    public var allSubscriptionsConfirmed: Bool {
        self.state.withLockedValue { state in state.channels.values.allSatisfy(\.confirmed) }
    }

    /// The node the sharded `channel` is subscribed on (nil when not asked for, or while between nodes).
    public func node(subscribedTo channel: String) -> RedisNodeAddress? {
        self.state.withLockedValue { $0.channels[channel]?.node }
    }

    private func subscriberEvent(_ event: RedisClient.Event, from address: RedisNodeAddress) {
        switch event {
        case .connectionLost:
            // Subscribed again on reconnection (or moved by the new map): unconfirmed until then.
            self.state.withLockedValue { state in
                for (channel, placement) in state.channels where placement.node == address { state.channels[channel]?.confirmed = false }
            }
            self.requestRefresh()
        case .shardChannelSubscribed(let channel):
            self.state.withLockedValue { state in
                if state.channels[channel]?.node == address { state.channels[channel]?.confirmed = true }
            }
        case .shardChannelUnsubscribedByServer(let channel):
            // The slot moved away: subscribe wherever the new map puts it.
            let wanted = self.state.withLockedValue { state -> Bool in
                guard state.channels[channel]?.node == address else { return false }
                state.channels[channel] = Placement()
                return true
            }
            if wanted {
                self.logger.debug("sharded channel moved away from its node", metadata: ["redis.channel": "\(channel)", "redis.address": "\(address)"])
                self.requestRefresh()
            }
        case .shardChannelRefused(let channel, let error):
            let target = self.state.withLockedValue { state -> RedisClient? in
                guard state.channels[channel]?.node == address else { return nil }
                guard var redirection = RedisRedirection(error), redirection.kind == .moved else {
                    state.channels[channel] = Placement()
                    return nil
                }
                if redirection.address.host.isEmpty { redirection.address.host = address.host }
                _ = state.topology?.move(slot: redirection.slot, to: redirection.address)
                state.channels[channel] = Placement(node: redirection.address)
                return self.subscriber(redirection.address, in: &state)
            }
            if let target {
                target.ssubscribe([channel])
                self.requestRefresh()
            } else {
                // Refused for another reason (the cluster is down, say): placed again by the next fetch.
                self.logger.debug("sharded subscription refused", metadata: ["redis.channel": "\(channel)", "error": "\(error)"])
                self.eventLoop.scheduleTask(in: .milliseconds(200)) { self.requestRefresh() }
            }
        }
    }

    // MARK: Lifecycle

    /// Waits until the slot map is known and every sharded subscription is confirmed, or throws
    /// `RedisError.notConnected` after `timeout`.
    public func waitUntilReady(timeout: Duration = .seconds(10)) async throws {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        while NIODeadline.now() < deadline {
            if self.topology != nil, self.allSubscriptionsConfirmed { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw RedisError.notConnected
    }

    /// Closes every connection and stops the refresh timer.
    public func shutdown() async {
        let clients = self.state.withLockedValue { state -> [RedisClient] in
            state.isShutdown = true
            state.timer?.cancel()
            state.timer = nil
            defer { state.nodes = [:] }
            return state.nodes.values.flatMap { [$0.commands] + ($0.subscriber.map { [$0] } ?? []) }
        }
        for client in clients { await client.shutdown() }
    }
}
