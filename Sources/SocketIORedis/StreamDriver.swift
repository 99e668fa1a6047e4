import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One entry of a stream: its id (`<ms>-<seq>`) and its fields in order.
public struct StreamEntry: Sendable {
    /// The entry id.
    public var id: String
    /// The field names and values, in the order they were written.
    public var fields: [(name: String, value: ByteBuffer)]

    /// Creates an entry.
    public init(id: String, fields: [(name: String, value: ByteBuffer)]) {
        self.id = id
        self.fields = fields
    }

    /// The value of field `name` as text.
    public func string(_ name: String) -> String? {
        self.fields.first { $0.name == name }.map { String(buffer: $0.value) }
    }
}

/// The store under the Redis Streams adapter: a Pub/Sub bus plus an append-only log (a stream) that every
/// node reads in order, and sessions kept with an expiry. The adapter logic never sees RESP.
public protocol StreamDriver: PubSubDriver {
    /// Appends an entry to `stream` (trimmed to about `maxLength` entries); the future has its id.
    /// Appends are written in call order; while the store is away they wait, in order, in a bounded buffer,
    /// and the future fails only when the entry is dropped (buffer full, refused by the store, shutdown).
    func append(stream: String, fields: [(name: String, value: ByteBuffer)], maxLength: Int) -> EventLoopFuture<String>
    /// Reads `stream` from the entries appended after this call, handing each entry to `handler` in order;
    /// after an error (the store away), reading resumes after the last entry handed over. Once per stream.
    func startReading(stream: String, handler: @escaping @Sendable (StreamEntry) -> Void)
    /// The entries of `stream` from `start` to `end` (inclusive ids, `+` for the end), at most `count`.
    func range(stream: String, from start: String, to end: String, count: Int) -> EventLoopFuture<[StreamEntry]>
    /// Keeps `value` under `key` for `expiry`.
    func saveSession(key: String, value: ByteBuffer, expiry: TimeAmount) -> EventLoopFuture<Void>
    /// Takes the value under `key` and deletes it (nil when absent or expired).
    func takeSession(key: String) -> EventLoopFuture<ByteBuffer?>
}

/// Redis as a `StreamDriver`, as Node.js's `@socket.io/redis-streams-adapter` uses it: one connection for
/// commands (`XADD`, `PUBLISH`, `PUBSUB NUMSUB`, `SET`, `GETDEL`, `XRANGE`), one subscribed connection,
/// and one connection per stream for the blocking `XREAD COUNT <readCount> BLOCK <blockTime> STREAMS <stream>
/// <last id>` loop, started from `$`.
///
/// Appends go through an in-order buffer of at most `maxBufferedAppends` entries: when Redis is away,
/// they wait there and are written, in order, once the connection is back. Past the limit, a new append is
/// refused at once (its future fails with `RedisError.tooManyPendingCommands`); a warning is logged on the
/// first refusal of an outage and then on every power of two. An `XADD` that was on the wire when the
/// connection dropped is written again (Redis may have applied it: that entry can then appear twice).
public final class RedisStreamsDriver: StreamDriver {
    private struct Append {
        var stream: String
        var fields: [(name: String, value: ByteBuffer)]
        var maxLength: Int
        var promise: EventLoopPromise<String>
    }

    private struct AppendState {
        var queue: [Append] = []
        var pumping = false
        var refused = 0
        var shutdown = false
        /// After a transient failure, one append at a time until one goes through (so that a Redis that
        /// finishes loading in the middle of a pipelined batch cannot take a later entry before an earlier).
        var probing = false
    }

    /// The connection for commands.
    public let commands: RedisClient
    /// The connection in subscribed mode.
    public let subscriber: RedisClient
    /// The most appends waiting while Redis is away.
    public let maxBufferedAppends: Int
    /// Entries per `XREAD`.
    public let readCount: Int
    /// How long one `XREAD` blocks.
    public let blockTime: TimeAmount
    private let configuration: RedisConfiguration
    private let eventLoopGroup: EventLoopGroup
    private let logger: Logger
    private let handler: MessageHandlerBox
    private let appends = NIOLockedValueBox(AppendState())
    private let readers = NIOLockedValueBox<[String: RedisClient]>([:])
    private let stopped = NIOLockedValueBox(false)
    /// The streams whose first `XREAD` was sent (entries appended from then on are read).
    private let reading = NIOLockedValueBox<Set<String>>([])

    /// Connects (in the background) to the Redis at `configuration`.
    public init(
        configuration: RedisConfiguration,
        maxBufferedAppends: Int = 10_000,
        readCount: Int = 100,
        blockTime: TimeAmount = .seconds(5),
        eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "socket.io.redis")
    ) {
        let handler = MessageHandlerBox()
        self.handler = handler
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.maxBufferedAppends = maxBufferedAppends
        self.readCount = readCount
        self.blockTime = blockTime
        self.commands = RedisClient(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger)
        self.subscriber = RedisClient(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger, onMessage: { handler.deliver($0) })
    }

    // MARK: Pub/Sub

    public var eventLoop: EventLoop { self.commands.eventLoopForTimers }
    public func setMessageHandler(_ handler: @escaping @Sendable (String, ByteBuffer) -> Void) { self.handler.set(handler) }
    public func publish(_ channel: String, _ message: ByteBuffer) -> EventLoopFuture<Void> {
        self.commands.publish(channel, message).map { _ in }
    }
    public func subscribe(_ channels: [String]) { self.subscriber.subscribe(channels) }
    public func unsubscribe(_ channels: [String]) { self.subscriber.unsubscribe(channels) }
    public func numberOfSubscribers(_ channel: String) -> EventLoopFuture<Int> { self.commands.numberOfSubscribers(channel) }

    public func waitUntilReady(timeout: Duration) async throws {
        try await self.commands.waitUntilConnected(timeout: timeout)
        try await self.subscriber.waitUntilConnected(timeout: timeout)
        for reader in self.readers.withLockedValue({ Array($0.values) }) { try await reader.waitUntilConnected(timeout: timeout) }
        // Every reader has its first XREAD on the wire: what is appended from now on reaches this node.
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        while Set(self.readers.withLockedValue { $0.keys }).subtracting(self.reading.withLockedValue { $0 }).count > 0 {
            guard NIODeadline.now() < deadline else { throw RedisError.notConnected }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    public func shutdown() async {
        self.stopped.withLockedValue { $0 = true }
        let dropped = self.appends.withLockedValue { state -> [Append] in
            state.shutdown = true
            defer { state.queue.removeAll() }
            return Array(state.queue)
        }
        for append in dropped { append.promise.fail(RedisError.shutdown) }
        await self.commands.shutdown()
        await self.subscriber.shutdown()
        for reader in self.readers.withLockedValue({ Array($0.values) }) { await reader.shutdown() }
    }

    // MARK: Appending, in order, through a bounded buffer

    public func append(stream: String, fields: [(name: String, value: ByteBuffer)], maxLength: Int) -> EventLoopFuture<String> {
        let promise = self.eventLoop.makePromise(of: String.self)
        let (accepted, refused, pump) = self.appends.withLockedValue { state -> (Bool, Int, Bool) in
            guard !state.shutdown else { return (false, 0, false) }
            guard state.queue.count < self.maxBufferedAppends else {
                state.refused += 1
                return (false, state.refused, false)
            }
            state.queue.append(Append(stream: stream, fields: fields, maxLength: maxLength, promise: promise))
            defer { state.pumping = true }
            return (true, 0, !state.pumping)
        }
        guard accepted else {
            if refused > 0, refused & (refused - 1) == 0 {
                self.logger.warning(
                    "Redis unavailable and the append buffer is full; messages to other nodes are dropped",
                    metadata: ["redis.stream": "\(stream)", "redis.buffered": "\(self.maxBufferedAppends)", "redis.dropped": "\(refused)"]
                )
            }
            promise.fail(refused > 0 ? RedisError.tooManyPendingCommands : RedisError.shutdown)
            return promise.futureResult
        }
        if pump { self.eventLoop.execute { self.pump() } }
        return promise.futureResult
    }

    /// Writes the buffered appends, a batch at a time (pipelined on the one connection); after a connection
    /// error the unwritten ones stay at the head and are written again once Redis is back.
    private func pump() {
        let batch = self.appends.withLockedValue { state -> [Append] in
            guard !state.queue.isEmpty, !state.shutdown else {
                state.pumping = false
                return []
            }
            return Array(state.queue.prefix(state.probing ? 1 : 256))
        }
        guard !batch.isEmpty else { return }
        let replies = batch.map { append in
            self.commands.send(Self.xadd(stream: append.stream, fields: append.fields, maxLength: append.maxLength)).map { $0 }
        }
        EventLoopFuture.whenAllComplete(replies, on: self.eventLoop).whenSuccess { results in
            var done = 0
            var connectionLost = false
            for (append, result) in zip(batch, results) {
                switch result {
                case .success(let reply):
                    if let id = reply.string { append.promise.succeed(id) } else { append.promise.fail(RedisError.unexpectedReply("XADD answered \(reply)")) }
                    done += 1
                case .failure(let error) where Self.isTransient(error):
                    connectionLost = true
                case .failure(let error):
                    // Refused by Redis (not a connection problem): writing it again would not help.
                    if connectionLost { continue }
                    self.logger.warning("Redis refused a stream append; dropped", metadata: ["redis.stream": "\(append.stream)", "error": "\(error)"])
                    append.promise.fail(error)
                    done += 1
                }
                if connectionLost { break }
            }
            let recovered = self.appends.withLockedValue { state -> Bool in
                state.queue.removeFirst(min(done, state.queue.count))
                state.probing = connectionLost
                defer { if !connectionLost { state.refused = 0 } }
                return state.refused > 0 && !connectionLost
            }
            if recovered { self.logger.info("Redis stream appends resumed", metadata: ["redis.stream": "\(batch[0].stream)"]) }
            guard connectionLost else { return self.pump() }
            // Wait a little and for the connection (bounded steps, so that a shutdown ends the wait), then retry in order.
            self.eventLoop.scheduleTask(in: .milliseconds(50)) {
                self.commands.whenConnected(timeout: .seconds(1)).whenComplete { _ in self.pump() }
            }
        }
    }

    /// Errors after which an append is written again: no connection (or an I/O error of the connection,
    /// such as a reset when Redis is killed), or a Redis that cannot take writes for a moment (`LOADING` its
    /// data after a restart, `BUSY`, `TRYAGAIN`, `CLUSTERDOWN`, `MASTERDOWN`).
    static func isTransient(_ error: any Error) -> Bool {
        guard let error = error as? RedisError else { return true }
        if error == .notConnected || error == .connectionClosed || error == .tooManyPendingCommands { return true }
        guard let message = error.serverMessage else { return false }
        return ["LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN"].contains { message.hasPrefix($0) }
    }

    /// `XADD <stream> MAXLEN ~ <maxLength> * <field> <value> ...`.
    static func xadd(stream: String, fields: [(name: String, value: ByteBuffer)], maxLength: Int) -> RedisCommand {
        var arguments = ["XADD", stream, "MAXLEN", "~", String(maxLength), "*"].map { ByteBuffer(string: $0) }
        for field in fields {
            arguments.append(ByteBuffer(string: field.name))
            arguments.append(field.value)
        }
        return RedisCommand(arguments: arguments)
    }

    // MARK: Reading

    public func startReading(stream: String, handler: @escaping @Sendable (StreamEntry) -> Void) {
        let reader = RedisClient(configuration: self.configuration, eventLoopGroup: self.eventLoopGroup, logger: self.logger)
        let started = self.readers.withLockedValue { readers -> Bool in
            guard readers[stream] == nil else { return false }
            readers[stream] = reader
            return true
        }
        guard started else {
            Task { await reader.shutdown() }
            return
        }
        reader.whenConnected(timeout: .seconds(1)).whenComplete { _ in
            self.read(stream, from: "$", on: reader, failures: 0, handler: handler)
        }
    }

    /// `XREAD COUNT <readCount> BLOCK <ms> STREAMS <stream> <last id>`.
    static func xread(stream: String, after lastId: String, count: Int, block: TimeAmount) -> RedisCommand {
        RedisCommand("XREAD", "COUNT", String(count), "BLOCK", String(block.nanoseconds / 1_000_000), "STREAMS", stream, lastId)
    }

    private func read(_ stream: String, from lastId: String, on reader: RedisClient, failures: Int, handler: @escaping @Sendable (StreamEntry) -> Void) {
        guard !self.stopped.withLockedValue({ $0 }) else { return }
        if reader.isConnected { _ = self.reading.withLockedValue { $0.insert(stream) } }
        reader.send(Self.xread(stream: stream, after: lastId, count: self.readCount, block: self.blockTime)).whenComplete { result in
            switch result {
            case .success(let reply):
                var last = lastId
                do {
                    for entry in try Self.streamEntries(fromXREAD: reply) {
                        handler(entry)
                        last = entry.id
                    }
                } catch {
                    self.logger.warning("unexpected XREAD reply", metadata: ["redis.stream": "\(stream)", "error": "\(error)"])
                }
                self.read(stream, from: last, on: reader, failures: 0, handler: handler)
            case .failure(let error):
                if failures == 0 {
                    self.logger.debug("reading the stream failed; resuming after the last entry read", metadata: ["redis.stream": "\(stream)", "redis.last_id": "\(lastId)", "error": "\(error)"])
                }
                // Resume from the last id once the connection is back (a pause growing to 1 s, then waits in
                // bounded steps).
                let pause = TimeAmount.milliseconds(Int64(min(failures + 1, 10)) * 100)
                reader.eventLoopForTimers.scheduleTask(in: pause) {
                    reader.whenConnected(timeout: .seconds(1)).whenComplete { _ in
                        self.read(stream, from: lastId, on: reader, failures: failures + 1, handler: handler)
                    }
                }
            }
        }
    }

    public func range(stream: String, from start: String, to end: String, count: Int) -> EventLoopFuture<[StreamEntry]> {
        self.commands.send(RedisCommand("XRANGE", stream, start, end, "COUNT", String(count))).flatMapThrowing { reply in
            try Self.entries(reply)
        }
    }

    // MARK: Sessions

    public func saveSession(key: String, value: ByteBuffer, expiry: TimeAmount) -> EventLoopFuture<Void> {
        let milliseconds = ByteBuffer(string: String(max(1, expiry.nanoseconds / 1_000_000)))
        return self.commands.send(RedisCommand(arguments: [ByteBuffer(string: "SET"), ByteBuffer(string: key), value, ByteBuffer(string: "PX"), milliseconds])).map { _ in }
    }

    public func takeSession(key: String) -> EventLoopFuture<ByteBuffer?> {
        self.commands.send(RedisCommand("GETDEL", key)).map { $0.bytes }
    }

    // MARK: Replies

    /// The entries of an `XREAD` reply for one stream (nil reply: none).
    static func streamEntries(fromXREAD reply: RESPValue) throws(RedisError) -> [StreamEntry] {
        guard let streams = reply.elements else { return [] }  // null: BLOCK timed out
        var result: [StreamEntry] = []
        for stream in streams {
            // RESP2: [name, entries]; RESP3 would be a map, not used here.
            guard let pair = stream.elements, pair.count == 2 else { throw .unexpectedReply("XREAD stream \(stream)") }
            result.append(contentsOf: try self.entries(pair[1]))
        }
        return result
    }

    /// `[[id, [field, value, ...]], ...]`.
    static func entries(_ reply: RESPValue) throws(RedisError) -> [StreamEntry] {
        guard let items = reply.elements else { throw .unexpectedReply("stream entries \(reply)") }
        return try items.map { item throws(RedisError) -> StreamEntry in
            guard let pair = item.elements, pair.count == 2, let id = pair[0].string else { throw .unexpectedReply("stream entry \(item)") }
            let values = pair[1].elements ?? []
            var fields: [(name: String, value: ByteBuffer)] = []
            var index = 0
            while index + 1 < values.count {
                if let name = values[index].string, let value = values[index + 1].bytes { fields.append((name, value)) }
                index += 2
            }
            return StreamEntry(id: id, fields: fields)
        }
    }
}
