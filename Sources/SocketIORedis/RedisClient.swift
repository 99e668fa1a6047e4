import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A small Redis client on SwiftNIO that keeps one connection open: it reconnects with exponential
/// backoff when the connection drops, re-sends `AUTH`/`SELECT`, and re-subscribes its channels and
/// patterns.
///
/// A client is either a command client (`PUBLISH`, `PUBSUB NUMSUB`, any command, pipelined) or, when
/// created with `onMessage`, a subscriber on a dedicated connection. Nothing is queued while
/// disconnected: commands fail at once with `RedisError.notConnected`, so memory stays bounded.
public final class RedisClient: Sendable {
    /// Receives the messages of a subscriber client, on the connection's event loop.
    public typealias MessageHandler = @Sendable (RedisPubSubMessage) -> Void

    /// What a client tells its owner besides messages (for a cluster client that places subscriptions).
    public enum Event: Sendable {
        /// The connection dropped (the client reconnects with backoff).
        case connectionLost
        /// `SSUBSCRIBE channel` was confirmed.
        case shardChannelSubscribed(String)
        /// `SSUBSCRIBE channel` was refused (`MOVED` when the channel's slot is elsewhere); the channel was
        /// dropped from this client's set.
        case shardChannelRefused(String, RedisError)
        /// The server ended the sharded subscription on its own (the slot moved away); the channel was
        /// dropped from this client's set.
        case shardChannelUnsubscribedByServer(String)
    }

    private enum Phase {
        case idle
        case connecting
        case ready(Channel)
        case waitingToReconnect
        case shutdown
    }

    private struct State {
        var phase: Phase = .idle
        var failures = 0
        var wasConnected = false
        var channels: Set<String> = []
        var patterns: Set<String> = []
        var shardChannels: Set<String> = []
        var waiters: [(id: Int, promise: EventLoopPromise<Void>)] = []
        var nextWaiterId = 0
        var reconnectTask: Scheduled<Void>?
    }

    /// The connection settings.
    public let configuration: RedisConfiguration
    private let eventLoop: EventLoop
    private let logger: Logger
    private let onMessage: MessageHandler?
    private let onEvent: (@Sendable (Event) -> Void)?
    private let state = NIOLockedValueBox(State())

    /// Creates a client and starts connecting in the background. With `onMessage`, the client is a
    /// subscriber: use `subscribe`/`psubscribe`, not other commands.
    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "redis"),
        onMessage: MessageHandler? = nil,
        onEvent: (@Sendable (Event) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.eventLoop = eventLoopGroup.any()
        self.logger = logger
        self.onMessage = onMessage
        self.onEvent = onEvent
        self.state.withLockedValue { $0.phase = .connecting }
        self.eventLoop.execute { self.connect() }
    }

    /// The event loop the client's own work and timers run on.
    public var eventLoopForTimers: EventLoop { self.eventLoop }

    /// Whether the connection is up (and, for a subscriber, subscriptions were re-sent).
    public var isConnected: Bool {
        self.state.withLockedValue { state in
            if case .ready = state.phase { return true }
            return false
        }
    }

    // MARK: Commands

    /// Sends `command`; the future fails with `RedisError.server` for an error reply.
    public func send(_ command: RedisCommand) -> EventLoopFuture<RESPValue> {
        self.send(command, replies: 1)
    }

    private func send(_ command: RedisCommand, replies: Int) -> EventLoopFuture<RESPValue> {
        guard let channel = self.readyChannel else { return self.notReadyFailure() }
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        channel.writeAndFlush(RedisRequest(command: command, promise: promise, replies: replies), promise: nil)
        return promise.futureResult
    }

    /// `ASKING` then `command`, adjacent on the connection (a cluster's `ASK` redirection); the future is
    /// `command`'s reply.
    func sendAsking(_ command: RedisCommand) -> EventLoopFuture<RESPValue> {
        guard let channel = self.readyChannel else { return self.notReadyFailure() }
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        channel.eventLoop.execute {
            // Both written in one turn of the loop: nothing else can come between them.
            channel.write(RedisRequest(command: RedisCommand("ASKING"), promise: nil), promise: nil)
            channel.writeAndFlush(RedisRequest(command: command, promise: promise), promise: nil)
        }
        return promise.futureResult
    }

    private var readyChannel: Channel? {
        self.state.withLockedValue { state in
            if case .ready(let channel) = state.phase { return channel }
            return nil
        }
    }

    private func notReadyFailure<Value>() -> EventLoopFuture<Value> {
        let isShutdown = self.state.withLockedValue { if case .shutdown = $0.phase { return true } else { return false } }
        return self.eventLoop.makeFailedFuture(isShutdown ? RedisError.shutdown : RedisError.notConnected)
    }

    /// `PUBLISH channel message`: the number of subscribers that received it.
    @discardableResult
    public func publish(_ channel: String, _ message: ByteBuffer) -> EventLoopFuture<Int64> {
        self.send(RedisCommand(arguments: [ByteBuffer(string: "PUBLISH"), ByteBuffer(string: channel), message])).flatMapThrowing { reply in
            guard let count = reply.int else { throw RedisError.unexpectedReply("PUBLISH answered \(reply)") }
            return count
        }
    }

    /// `PUBSUB NUMSUB channel`: how many connections subscribe to `channel`.
    public func numberOfSubscribers(_ channel: String) -> EventLoopFuture<Int> {
        self.send(RedisCommand("PUBSUB", "NUMSUB", channel)).flatMapThrowing { reply in
            guard let elements = reply.elements, elements.count >= 2, let count = elements[1].int else {
                throw RedisError.unexpectedReply("PUBSUB NUMSUB answered \(reply)")
            }
            return Int(count)
        }
    }

    // MARK: Subscriptions

    /// Subscribes to `channels` (kept across reconnections).
    public func subscribe(_ channels: [String]) {
        self.changeSubscriptions("SUBSCRIBE", channels) { state in
            channels.filter { state.channels.insert($0).inserted }
        }
    }

    /// Subscribes to the glob `patterns` (kept across reconnections).
    public func psubscribe(_ patterns: [String]) {
        self.changeSubscriptions("PSUBSCRIBE", patterns) { state in
            patterns.filter { state.patterns.insert($0).inserted }
        }
    }

    /// Unsubscribes from `channels`.
    public func unsubscribe(_ channels: [String]) {
        self.changeSubscriptions("UNSUBSCRIBE", channels) { state in
            channels.filter { state.channels.remove($0) != nil }
        }
    }

    /// Unsubscribes from the `patterns`.
    public func punsubscribe(_ patterns: [String]) {
        self.changeSubscriptions("PUNSUBSCRIBE", patterns) { state in
            patterns.filter { state.patterns.remove($0) != nil }
        }
    }

    /// Sharded Pub/Sub (Redis 7): subscribes to `channels` with one `SSUBSCRIBE` each (kept across
    /// reconnections); the outcome of each arrives as an `Event`.
    public func ssubscribe(_ channels: [String]) {
        precondition(self.onMessage != nil, "subscriptions need a client created with onMessage")
        let (added, channel) = self.state.withLockedValue { state -> ([String], Channel?) in
            let added = channels.filter { state.shardChannels.insert($0).inserted }
            if case .ready(let channel) = state.phase { return (added, channel) }
            return (added, nil)
        }
        guard let channel else { return }
        for name in added { self.writeShardSubscribe(name, on: channel) }
        channel.flush()
    }

    /// Ends the sharded subscriptions to `channels` (one `SUNSUBSCRIBE` each).
    public func sunsubscribe(_ channels: [String]) {
        let (removed, channel) = self.state.withLockedValue { state -> ([String], Channel?) in
            let removed = channels.filter { state.shardChannels.remove($0) != nil }
            if case .ready(let channel) = state.phase { return (removed, channel) }
            return (removed, nil)
        }
        guard let channel else { return }
        for name in removed {
            channel.write(RedisRequest(command: RedisCommand("SUNSUBSCRIBE", name), promise: nil), promise: nil)
        }
        channel.flush()
    }

    /// Forgets `channels` without telling the server (it already dropped them).
    func forgetShardChannels(_ channels: [String]) {
        self.state.withLockedValue { state in
            for channel in channels { state.shardChannels.remove(channel) }
        }
    }

    /// The sharded channels this client keeps subscribed.
    public var shardChannels: Set<String> { self.state.withLockedValue { $0.shardChannels } }

    private func writeShardSubscribe(_ name: String, on channel: Channel) {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        channel.write(RedisRequest(command: RedisCommand("SSUBSCRIBE", name), promise: promise), promise: nil)
        promise.futureResult.whenComplete { result in
            switch result {
            case .success:
                self.onEvent?(.shardChannelSubscribed(name))
            case .failure(let error as RedisError) where error.serverMessage != nil:
                let wanted = self.state.withLockedValue { $0.shardChannels.remove(name) != nil }
                if wanted { self.onEvent?(.shardChannelRefused(name, error)) }
            case .failure:
                break  // the connection dropped: the reconnection subscribes again
            }
        }
    }

    private func shardUnsubscribedByServer(_ name: String) {
        let wanted = self.state.withLockedValue { $0.shardChannels.remove(name) != nil }
        if wanted { self.onEvent?(.shardChannelUnsubscribedByServer(name)) }
    }

    private func changeSubscriptions(_ verb: String, _ names: [String], _ change: (inout State) -> [String]) {
        precondition(self.onMessage != nil, "subscriptions need a client created with onMessage")
        let (changed, channel) = self.state.withLockedValue { state -> ([String], Channel?) in
            let changed = change(&state)
            if case .ready(let channel) = state.phase { return (changed, channel) }
            return (changed, nil)
        }
        // While (re)connecting, the connection sequence sends the whole set once ready.
        guard let channel, !changed.isEmpty else { return }
        let command = RedisCommand(arguments: [ByteBuffer(string: verb)] + changed.map { ByteBuffer(string: $0) })
        channel.writeAndFlush(RedisRequest(command: command, promise: nil, replies: changed.count), promise: nil)
    }

    // MARK: Lifecycle

    /// Waits until the client is connected, or throws `RedisError.notConnected` after `timeout`.
    public func waitUntilConnected(timeout: Duration = .seconds(10)) async throws {
        try await self.whenConnected(timeout: TimeAmount(timeout)).get()
    }

    /// Succeeds once the client is connected (at once if it is), fails with `RedisError.notConnected`
    /// after `timeout` or `RedisError.shutdown`.
    func whenConnected(timeout: TimeAmount) -> EventLoopFuture<Void> {
        let promise = self.eventLoop.makePromise(of: Void.self)
        let id: Int? = self.state.withLockedValue { state in
            if case .ready = state.phase { return nil }
            if case .shutdown = state.phase { return nil }
            let id = state.nextWaiterId
            state.nextWaiterId += 1
            state.waiters.append((id, promise))
            return id
        }
        guard let id else {
            // Already connected (or shut down): the promise is not needed.
            let connected = self.isConnected
            connected ? promise.succeed() : promise.fail(RedisError.shutdown)
            return promise.futureResult
        }
        let timer = self.eventLoop.scheduleTask(in: timeout) {
            let waiter = self.state.withLockedValue { state -> EventLoopPromise<Void>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).promise
            }
            waiter?.fail(RedisError.notConnected)
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        return promise.futureResult
    }

    /// Closes the connection and stops reconnecting.
    public func shutdown() async {
        try? await self.close().get()
    }

    /// Closes the connection and stops reconnecting, without waiting.
    @discardableResult
    func close() -> EventLoopFuture<Void> {
        let (channel, waiters) = self.state.withLockedValue { state -> (Channel?, [EventLoopPromise<Void>]) in
            var channel: Channel? = nil
            if case .ready(let current) = state.phase { channel = current }
            state.phase = .shutdown
            state.reconnectTask?.cancel()
            state.reconnectTask = nil
            defer { state.waiters = [] }
            return (channel, state.waiters.map(\.promise))
        }
        for waiter in waiters { waiter.fail(RedisError.shutdown) }
        guard let channel else { return self.eventLoop.makeSucceededVoidFuture() }
        return channel.close().recover { _ in }
    }

    // MARK: Connecting

    private func connect() {
        self.eventLoop.assertInEventLoop()
        let configuration = self.configuration
        let onMessage = self.onMessage
        let onShardUnsubscribed: @Sendable (String) -> Void = { [weak self] name in self?.shardUnsubscribedByServer(name) }
        let bootstrap = ClientBootstrap(group: self.eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RedisConnectionHandler(
                            parserLimits: configuration.parserLimits,
                            maxPending: configuration.maxPendingCommands,
                            onMessage: onMessage,
                            onShardUnsubscribed: onShardUnsubscribed
                        )
                    )
                }
            }
        bootstrap.connect(host: configuration.host, port: configuration.port).flatMap { channel in
            self.handshake(channel).map { channel }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }.whenComplete { result in
            switch result {
            case .success(let channel): self.connected(channel)
            case .failure(let error): self.failed(error)
            }
        }
    }

    /// AUTH and SELECT, pipelined; then, for a subscriber, the subscriptions.
    private func handshake(_ channel: Channel) -> EventLoopFuture<Void> {
        var commands: [RedisCommand] = []
        if let password = self.configuration.password {
            if let username = self.configuration.username {
                commands.append(RedisCommand("AUTH", username, password))
            } else {
                commands.append(RedisCommand("AUTH", password))
            }
        }
        if self.onMessage == nil, self.configuration.database != 0 {
            commands.append(RedisCommand("SELECT", String(self.configuration.database)))
        }
        let (channels, patterns, shardChannels) = self.state.withLockedValue { ($0.channels, $0.patterns, $0.shardChannels) }
        var futures: [EventLoopFuture<RESPValue>] = []
        func write(_ command: RedisCommand, replies: Int) {
            let promise = channel.eventLoop.makePromise(of: RESPValue.self)
            channel.write(RedisRequest(command: command, promise: promise, replies: replies), promise: nil)
            futures.append(promise.futureResult)
        }
        for command in commands { write(command, replies: 1) }
        if !channels.isEmpty {
            write(RedisCommand(arguments: [ByteBuffer(string: "SUBSCRIBE")] + channels.sorted().map { ByteBuffer(string: $0) }), replies: channels.count)
        }
        if !patterns.isEmpty {
            write(RedisCommand(arguments: [ByteBuffer(string: "PSUBSCRIBE")] + patterns.sorted().map { ByteBuffer(string: $0) }), replies: patterns.count)
        }
        // Refusals of sharded subscriptions (a slot moved while disconnected) are events, not handshake failures.
        for name in shardChannels.sorted() { self.writeShardSubscribe(name, on: channel) }
        channel.flush()
        return EventLoopFuture.andAllSucceed(futures, on: channel.eventLoop).map {
            // Subscriptions added while the handshake ran.
            let (newChannels, newPatterns) = self.state.withLockedValue { ($0.channels.subtracting(channels), $0.patterns.subtracting(patterns)) }
            if !newChannels.isEmpty {
                let command = RedisCommand(arguments: [ByteBuffer(string: "SUBSCRIBE")] + newChannels.map { ByteBuffer(string: $0) })
                channel.writeAndFlush(RedisRequest(command: command, promise: nil, replies: newChannels.count), promise: nil)
            }
            let newShardChannels = self.state.withLockedValue { $0.shardChannels.subtracting(shardChannels) }
            for name in newShardChannels.sorted() { self.writeShardSubscribe(name, on: channel) }
            if !newShardChannels.isEmpty { channel.flush() }
            if !newPatterns.isEmpty {
                let command = RedisCommand(arguments: [ByteBuffer(string: "PSUBSCRIBE")] + newPatterns.map { ByteBuffer(string: $0) })
                channel.writeAndFlush(RedisRequest(command: command, promise: nil, replies: newPatterns.count), promise: nil)
            }
        }
    }

    private func connected(_ channel: Channel) {
        let (accepted, waiters, restored) = self.state.withLockedValue { state -> (Bool, [EventLoopPromise<Void>], Bool) in
            guard case .connecting = state.phase else { return (false, [], false) }
            state.phase = .ready(channel)
            let restored = state.wasConnected || state.failures > 0
            state.failures = 0
            state.wasConnected = true
            defer { state.waiters = [] }
            return (true, state.waiters.map(\.promise), restored)
        }
        guard accepted else {
            channel.close(promise: nil)
            return
        }
        if restored {
            self.logger.info("Redis connection established", metadata: ["redis.address": "\(self.configuration.host):\(self.configuration.port)"])
        } else {
            self.logger.debug("Redis connection established", metadata: ["redis.address": "\(self.configuration.host):\(self.configuration.port)"])
        }
        for waiter in waiters { waiter.succeed() }
        channel.closeFuture.whenComplete { _ in self.connectionLost(channel) }
    }

    private func connectionLost(_ channel: Channel) {
        let lost = self.state.withLockedValue { state -> Bool in
            guard case .ready(let current) = state.phase, current === channel else { return false }
            state.phase = .waitingToReconnect
            return true
        }
        guard lost else { return }
        self.logger.warning("Redis connection lost; reconnecting", metadata: ["redis.address": "\(self.configuration.host):\(self.configuration.port)"])
        self.onEvent?(.connectionLost)
        self.scheduleReconnect()
    }

    private func failed(_ error: Error) {
        let failures = self.state.withLockedValue { state -> Int? in
            guard case .connecting = state.phase else { return nil }
            state.phase = .waitingToReconnect
            state.failures += 1
            return state.failures
        }
        guard let failures else { return }
        // Warn on the first failure and then on every power of two, to keep logs readable in long outages.
        let metadata: Logger.Metadata = [
            "redis.address": "\(self.configuration.host):\(self.configuration.port)",
            "redis.attempt": "\(failures)",
            "error": "\(error)",
        ]
        if failures & (failures - 1) == 0 {
            self.logger.warning("cannot connect to Redis; retrying with backoff", metadata: metadata)
        } else {
            self.logger.debug("cannot connect to Redis; retrying with backoff", metadata: metadata)
        }
        self.scheduleReconnect()
    }

    private func scheduleReconnect() {
        let delay = self.state.withLockedValue { state -> TimeAmount in
            Self.backoff(failures: state.failures, initial: TimeAmount(self.configuration.initialReconnectDelay), maximum: TimeAmount(self.configuration.maxReconnectDelay))
        }
        let task = self.eventLoop.scheduleTask(in: delay) {
            let go = self.state.withLockedValue { state -> Bool in
                guard case .waitingToReconnect = state.phase else { return false }
                state.phase = .connecting
                state.reconnectTask = nil
                return true
            }
            if go { self.connect() }
        }
        self.state.withLockedValue { state in
            if case .waitingToReconnect = state.phase { state.reconnectTask = task } else { task.cancel() }
        }
    }

    /// The delay before reconnection attempt `failures + 1`: `initial · 2^failures`, capped at `maximum`,
    /// with ±20 % jitter so that many nodes do not reconnect in lockstep.
    static func backoff(failures: Int, initial: TimeAmount, maximum: TimeAmount) -> TimeAmount {
        let exponent = min(failures, 20)
        let base = min(initial.nanoseconds << Int64(exponent), maximum.nanoseconds)
        let jitter = Double.random(in: 0.8...1.2)
        return .nanoseconds(min(Int64(Double(base) * jitter), maximum.nanoseconds))
    }
}
