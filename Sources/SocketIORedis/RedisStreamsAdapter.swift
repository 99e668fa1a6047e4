import EngineIOCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SocketIOCore
import SocketIOAdapter
import SocketIOCore

/// Options of the Redis Streams adapter; names and defaults are those of Node.js's
/// `@socket.io/redis-streams-adapter` 0.3.
public struct RedisStreamsAdapterOptions: Sendable, Hashable {
    /// The stream's name, or its prefix with several streams (default `socket.io`).
    public var streamName: String
    /// The number of streams; each namespace goes to one of them (default 1).
    public var streamCount: Int
    /// The prefix of the Pub/Sub channels (default `socket.io`).
    public var channelPrefix: String
    /// The stream's approximate length limit (`MAXLEN ~`, default 10 000).
    public var maxLength: Int
    /// The prefix of session keys (default `sio:session:`).
    public var sessionKeyPrefix: String
    /// How long requests to other nodes wait when the call gives no timeout (default 5 s).
    public var requestsTimeout: Duration

    /// Creates options.
    public init(
        streamName: String = "socket.io",
        streamCount: Int = 1,
        channelPrefix: String = "socket.io",
        maxLength: Int = 10_000,
        sessionKeyPrefix: String = "sio:session:",
        requestsTimeout: Duration = .seconds(5)
    ) {
        self.streamName = streamName
        self.streamCount = max(1, streamCount)
        self.channelPrefix = channelPrefix
        self.maxLength = maxLength
        self.sessionKeyPrefix = sessionKeyPrefix
        self.requestsTimeout = requestsTimeout
    }

    /// The stream of `namespace`: `streamName`, or with several streams `streamName-<i>` where `i` is the
    /// Node.js adapter's `hashCode(nsp) % streamCount` (a 32-bit Java-style string hash over UTF-16 units;
    /// JavaScript's `%` keeps the sign, so a negative hash gives a name like `socket.io--1`, as in Node.js).
    public func streamName(for namespace: String) -> String {
        guard self.streamCount > 1 else { return self.streamName }
        return self.streamName + "-" + String(Self.hashCode(namespace) % Int32(clamping: self.streamCount))
    }

    /// The Node.js adapter's `hashCode`.
    public static func hashCode(_ text: String) -> Int32 {
        var hash: Int32 = 0
        for unit in text.utf16 { hash = hash &* 31 &+ Int32(unit) }
        return hash
    }
}

/// The wire format of the Redis Streams adapter (pure functions, for the adapter and golden tests).
public enum RedisStreamsMessage {
    /// The types sent over Pub/Sub rather than the stream: a broadcast with acks, `SERVER_SIDE_EMIT`,
    /// `FETCH_SOCKETS` (Node.js's `isEphemeral`).
    public static func isEphemeral(_ type: ClusterMessageType, _ data: JSONValue) -> Bool {
        (type == .broadcast && data.objectValue?["requestId"] != nil) || type == .serverSideEmit || type == .fetchSockets
    }

    /// The fields of a stream entry: `uid`, `nsp`, `type` (decimal), `data` (JSON text, or base64 of the
    /// MessagePack of `data` when a type that may carry binary does).
    public static func entryFields(type: ClusterMessageType, data: JSONValue, uid: String, namespace: String) -> [(name: String, value: ByteBuffer)] {
        let encoded: ByteBuffer
        if type.mayContainBinary, data.containsBinary {
            let packed = MessagePack.encode(data)
            var text = ByteBuffer()
            Base64.encode(packed.readableBytesView, into: &text)
            encoded = text
        } else {
            encoded = data.jsonBytes()
        }
        return [("uid", ByteBuffer(string: uid)), ("nsp", ByteBuffer(string: namespace)), ("type", ByteBuffer(string: String(type.rawValue))), ("data", encoded)]
    }

    /// Decodes a stream entry (`data` starting with `{` is JSON, else base64 MessagePack).
    public static func decode(_ entry: StreamEntry) throws(RedisError) -> ClusterAdapterMessage.Decoded {
        guard let typeText = entry.string("type"), let type = Int(typeText) else { throw .protocolError("stream entry without a type") }
        var data = JSONObject()
        if let raw = entry.fields.first(where: { $0.name == "data" })?.value, raw.readableBytes > 0 {
            if raw.readableBytesView.first == UInt8(ascii: "{") {
                data = try RedisAdapterMessage.decodeObject(raw)
            } else {
                guard let packed = Base64.decode(raw.readableBytesView) else { throw .protocolError("stream entry data is neither JSON nor base64") }
                data = try RedisAdapterMessage.decodeObject(packed)
            }
        }
        return ClusterAdapterMessage.Decoded(type: ClusterMessageType(rawValue: type), uid: entry.string("uid"), namespace: entry.string("nsp"), data: data)
    }

    /// A Pub/Sub message (request or response): MessagePack of `{type, data, uid, nsp}` (Node.js encodes
    /// these with msgpack whatever they carry).
    public static func pubSubMessage(type: ClusterMessageType, data: JSONValue, uid: String, namespace: String) -> ByteBuffer {
        MessagePack.encode(ClusterAdapterMessage.message(type: type, data: data, uid: uid, namespace: namespace))
    }

    /// A persisted session: base64 of the MessagePack of `{sid, pid, rooms, data}`.
    public static func encodeSession(_ session: PersistedSession) -> ByteBuffer {
        let value: JSONValue = [
            "sid": .string(session.sid),
            "pid": .string(session.pid),
            "rooms": .array(session.rooms.sorted().map { .string($0) }),
            "data": session.data,
        ]
        var text = ByteBuffer()
        Base64.encode(MessagePack.encode(value).readableBytesView, into: &text)
        return text
    }

    /// Decodes a persisted session.
    public static func decodeSession(_ text: ByteBuffer) throws(RedisError) -> PersistedSession {
        guard let packed = Base64.decode(text.readableBytesView) else { throw .protocolError("session is not base64") }
        let object = try RedisAdapterMessage.decodeObject(packed)
        guard let sid = object["sid"]?.stringValue, let pid = object["pid"]?.stringValue else { throw .protocolError("session without sid or pid") }
        return PersistedSession(sid: sid, pid: pid, rooms: Set(RedisAdapterMessage.strings(object["rooms"])), data: object["data"] ?? .null)
    }

    /// Whether `offset` is a stream entry id (`<digits>-<digits>`).
    public static func isEntryId(_ offset: String) -> Bool {
        let parts = offset.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    /// The id just after `id` (Node.js's `nextOffset`: sequence + 1).
    public static func nextId(_ id: String) -> String {
        let parts = id.split(separator: "-")
        return String(parts[0]) + "-" + String((UInt64(parts[1]) ?? 0) + 1)
    }
}

/// An adapter on Redis Streams, wire-compatible with Node.js's `@socket.io/redis-streams-adapter` 0.3:
/// Swift and Node.js nodes can share one Redis. It is socket.io-adapter's `ClusterAdapter` over a
/// `StreamDriver`: broadcasts (without acks), `socketsJoin`, `socketsLeave` and `disconnectSockets` are
/// appended to the namespace's stream, which every node reads in order from the last entry it saw (so
/// nothing is lost while a node's connection is away, within the stream's length); broadcasts with acks,
/// `serverSideEmit`, `fetchSockets` and every response go over Pub/Sub.
///
/// With connection state recovery on, packets carry their stream entry id as offset, sessions are kept in
/// Redis (`sio:session:<pid>`), and a client recovers on any node.
///
/// A broadcast reaches this node's sockets once Redis took it (with its entry id), in the order of the
/// stream. While Redis is away, broadcasts wait in the driver's bounded buffer and are delivered, locally
/// and to the other nodes, when it is back; a broadcast the buffer refuses is delivered locally at once
/// (without offset) and lost for the other nodes.
public final class RedisStreamsAdapter: Adapter {
    /// The namespace.
    public unowned let namespace: any AdapterNamespace
    /// This node's id.
    public let uid: String
    /// The namespace's stream.
    public let streamName: String
    /// The channel every node of the namespace subscribes to.
    public let publicChannel: String
    /// This node's response channel.
    public let privateChannel: String
    /// The rooms and local sockets (no recovery log: offsets and sessions live in Redis).
    public let local: any LocalAdapter
    private let factory: RedisStreamsAdapterFactory
    private let transport: Transport
    private let core: ClusterAdapterCore
    private var options: RedisStreamsAdapterOptions { self.factory.options }

    private struct Transport: ClusterTransport {
        let driver: any StreamDriver
        let stream: String
        let maxLength: Int
        let channelPrefix: String
        let namespace: String
        let uid: String
        let logger: Logger

        var eventLoop: EventLoop { self.driver.eventLoop }

        func publish(_ type: ClusterMessageType, _ data: JSONValue) {
            _ = self.publishAndReturnOffset(type, data)
        }

        /// Ephemeral messages over Pub/Sub (no offset), the others appended to the stream (their entry id).
        func publishAndReturnOffset(_ type: ClusterMessageType, _ data: JSONValue) -> EventLoopFuture<String?> {
            if RedisStreamsMessage.isEphemeral(type, data) {
                let channel = self.channelPrefix + "#" + self.namespace + "#"
                let payload = RedisStreamsMessage.pubSubMessage(type: type, data: data, uid: self.uid, namespace: self.namespace)
                self.driver.publish(channel, payload).whenFailure { error in
                    self.logger.trace("publish failed", metadata: ["redis.channel": "\(channel)", "error": "\(error)"])
                }
                return self.eventLoop.makeSucceededFuture(nil)
            }
            let fields = RedisStreamsMessage.entryFields(type: type, data: data, uid: self.uid, namespace: self.namespace)
            return self.driver.append(stream: self.stream, fields: fields, maxLength: self.maxLength).map { Optional($0) }
        }

        func publishResponse(to requester: String, _ type: ClusterMessageType, _ data: JSONValue) {
            let channel = self.channelPrefix + "#" + self.namespace + "#" + requester + "#"
            self.driver.publish(channel, RedisStreamsMessage.pubSubMessage(type: type, data: data, uid: self.uid, namespace: self.namespace)).whenFailure { error in
                self.logger.trace("publish failed", metadata: ["redis.channel": "\(channel)", "error": "\(error)"])
            }
        }

        func serverCount() -> EventLoopFuture<Int> {
            self.driver.numberOfSubscribers(self.channelPrefix + "#" + self.namespace + "#")
        }
    }

    init(namespace: any AdapterNamespace, factory: RedisStreamsAdapterFactory) {
        self.namespace = namespace
        self.factory = factory
        let uid = ClusterAdapterMessage.randomId()
        self.uid = uid
        self.streamName = factory.options.streamName(for: namespace.name)
        self.publicChannel = factory.options.channelPrefix + "#" + namespace.name + "#"
        self.privateChannel = self.publicChannel + uid + "#"
        self.local = namespace.makeLocalAdapter(keepsRecoveryLog: false)
        self.transport = Transport(
            driver: factory.driver,
            stream: self.streamName,
            maxLength: factory.options.maxLength,
            channelPrefix: factory.options.channelPrefix,
            namespace: namespace.name,
            uid: uid,
            logger: factory.logger
        )
        self.core = ClusterAdapterCore(
            namespace: namespace,
            uid: uid,
            local: self.local,
            transport: self.transport,
            requestsTimeout: TimeAmount(factory.options.requestsTimeout),
            logger: factory.logger
        )
    }

    // MARK: Rooms (local)

    public func addAll(_ id: String, rooms: Set<String>) { self.local.addAll(id, rooms: rooms) }
    public func del(_ id: String, room: String) { self.local.del(id, room: room) }
    public func delAll(_ id: String) { self.local.delAll(id) }
    public func socketRooms(_ id: String) -> Set<String>? { self.local.socketRooms(id) }
    public var rooms: [String: Set<String>] { self.local.rooms }

    // MARK: Broadcasting

    /// Appends the broadcast to the stream, then delivers it to this node's sockets with its entry id as
    /// offset (ClusterAdapter's `broadcast`).
    public func broadcast(_ packet: SocketPacket, options: BroadcastOptions) {
        var stamped = packet
        stamped.namespace = self.namespace.name
        let packet = stamped
        guard !options.local else { return self.local.broadcast(packet, options: options) }
        self.transport.publishAndReturnOffset(.broadcast, ClusterAdapterMessage.broadcastData(packet: packet, options: options)).whenComplete { result in
            switch result {
            case .success(let offset):
                self.local.broadcast(self.core.withOffset(packet, options: options, offset: offset), options: options)
            case .failure(let error):
                // Dropped by the driver (logged there): this node's sockets still get it, without offset.
                self.factory.logger.debug("broadcast not appended to the stream", metadata: ["redis.stream": "\(self.streamName)", "error": "\(error)"])
                self.local.broadcast(packet, options: options)
            }
        }
    }

    public func broadcastWithAck(
        _ packet: SocketPacket,
        options: BroadcastOptions,
        clientCount: @escaping @Sendable (Int) -> Void,
        ack: @escaping @Sendable ([JSONValue]) -> Void
    ) {
        self.core.broadcastWithAck(packet, options: options, clientCount: clientCount, ack: ack)
    }

    /// The number of nodes: the subscribers of the namespace channel (`PUBSUB NUMSUB`).
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

    // MARK: Connection state recovery (in Redis: any node)

    /// `SET sio:session:<pid> <base64 msgpack> PX <maxDisconnectionDuration>`.
    public func persistSession(_ session: PersistedSession) {
        guard let recovery = self.namespace.connectionStateRecovery else { return }
        let key = self.options.sessionKeyPrefix + session.pid
        self.factory.driver.saveSession(key: key, value: RedisStreamsMessage.encodeSession(session), expiry: recovery.maxDisconnectionDuration).whenFailure { error in
            self.factory.logger.warning("session not saved in Redis; it cannot be recovered", metadata: ["error": "\(error)"])
        }
    }

    /// The most `XRANGE` calls (of `restoreBatch` entries) one restoration makes, as Node.js bounds them.
    static let maxRangeCalls = 100
    static let restoreBatch = 1000

    /// Takes the session (`GETDEL`), checks that the offset is still in the stream (`XRANGE offset offset`),
    /// and gathers the broadcasts of this namespace after it that reach the session's rooms.
    public func restoreSession(pid: String, offset: String) async throws -> RestoredSession? {
        guard RedisStreamsMessage.isEntryId(offset) else { return nil }
        let driver = self.factory.driver
        let rawSession = driver.takeSession(key: self.options.sessionKeyPrefix + pid)
        let offsetEntry = driver.range(stream: self.streamName, from: offset, to: offset, count: 1)
        guard let raw = try await rawSession.get(), !(try await offsetEntry.get()).isEmpty else { return nil }
        let session = try RedisStreamsMessage.decodeSession(raw)
        var missed: [EncodedMessages] = []
        var last = offset
        for _ in 0..<Self.maxRangeCalls {
            let entries = try await driver.range(stream: self.streamName, from: RedisStreamsMessage.nextId(last), to: "+", count: Self.restoreBatch).get()
            for entry in entries {
                last = entry.id
                guard entry.string("nsp") == self.namespace.name, entry.string("type") == "3",
                      let message = try? RedisStreamsMessage.decode(entry),
                      var packet = RedisAdapterMessage.packet(from: message.data["packet"]) else { continue }
                let options = RedisAdapterMessage.options(from: message.data["opts"])
                // Volatile packets and packets with an ack are not replayed (Node.js 0.3.1 replays volatile ones).
                guard !options.volatile, packet.ackId == nil, Self.reaches(options, rooms: session.rooms),
                      case .array(var arguments) = packet.data else { continue }
                arguments.append(.string(entry.id))
                packet = SocketPacket(type: .event, namespace: self.namespace.name, data: .array(arguments))
                missed.append(EncodedMessages(packet, compress: options.compress))
            }
            if entries.count < Self.restoreBatch { break }
        }
        return RestoredSession(session: session, missedPackets: missed)
    }

    /// Socket.IO's `shouldIncludePacket`.
    static func reaches(_ options: BroadcastOptions, rooms: Set<String>) -> Bool {
        (options.rooms.isEmpty || !options.rooms.isDisjoint(with: rooms)) && options.except.isDisjoint(with: rooms)
    }

    // MARK: Incoming

    /// An entry of the stream (from any node; this node's own are skipped: they were delivered locally).
    func receive(entry: StreamEntry) {
        let message: ClusterAdapterMessage.Decoded
        do {
            message = try RedisStreamsMessage.decode(entry)
        } catch {
            self.factory.logger.debug("ignoring malformed stream entry", metadata: ["error": "\(error)", "redis.entry": "\(entry.id)"])
            return
        }
        guard message.uid != self.uid else { return }
        self.core.onMessage(message, offset: entry.id)
    }

    /// A Pub/Sub message on the public or private channel.
    func receive(channel: String, payload: ByteBuffer) {
        let message: ClusterAdapterMessage.Decoded
        do {
            message = try ClusterAdapterMessage.decode(payload)
        } catch {
            self.factory.logger.debug("ignoring malformed cluster message", metadata: ["error": "\(error)", "redis.channel": "\(channel)"])
            return
        }
        guard message.uid != self.uid else { return }
        // ClusterAdapter's onMessage takes requests and responses alike.
        self.core.onMessage(message)
    }
}

/// Joins a Socket.IO server to other nodes through Redis Streams: one driver shared by the
/// `RedisStreamsAdapter` of every namespace, one reader per stream.
///
/// ```swift
/// let streams = try RedisStreamsAdapterFactory(url: "redis://127.0.0.1:6379")
/// let io = SocketIO(configuration: SocketIOServerConfiguration(adapter: streams.adapter,
///     connectionStateRecovery: ConnectionStateRecovery()))
/// ```
public final class RedisStreamsAdapterFactory: Sendable {
    /// The adapter options.
    public let options: RedisStreamsAdapterOptions
    /// The store.
    public let driver: any StreamDriver
    let logger: Logger
    private let channels = NIOLockedValueBox<[String: Weak]>([:])
    private let namespaces = NIOLockedValueBox<[String: Weak]>([:])
    private let streamsRead = NIOLockedValueBox<Set<String>>([])

    private struct Weak: @unchecked Sendable {
        weak var adapter: RedisStreamsAdapter?
    }

    /// Adapters over `driver`.
    public init(driver: any StreamDriver, options: RedisStreamsAdapterOptions = RedisStreamsAdapterOptions(), logger: Logger = Logger(label: "socket.io.redis")) {
        self.driver = driver
        self.options = options
        self.logger = logger
        let channels = self.channels
        driver.setMessageHandler { channel, payload in
            channels.withLockedValue { $0[channel]?.adapter }?.receive(channel: channel, payload: payload)
        }
        // Every stream is read from the start (`$`), before any namespace exists, as in Node.js.
        var streams = Set([options.streamName(for: "/")])
        if options.streamCount > 1 { for index in 0..<options.streamCount { streams.insert(options.streamName + "-" + String(index)) } }
        for stream in streams.sorted() { self.startReading(stream) }
    }

    /// Adapters on the Redis at `url` (`redis://[[user]:password@]host[:port][/db]`).
    public convenience init(
        url: String,
        options: RedisStreamsAdapterOptions = RedisStreamsAdapterOptions(),
        maxBufferedAppends: Int = 10_000,
        logger: Logger = Logger(label: "socket.io.redis")
    ) throws(RedisError) {
        let driver = RedisStreamsDriver(configuration: try RedisConfiguration(url: url), maxBufferedAppends: maxBufferedAppends, logger: logger)
        self.init(driver: driver, options: options, logger: logger)
    }

    private func startReading(_ stream: String) {
        guard self.streamsRead.withLockedValue({ $0.insert(stream).inserted }) else { return }
        let namespaces = self.namespaces
        self.driver.startReading(stream: stream) { entry in
            guard let nsp = entry.string("nsp") else { return }
            namespaces.withLockedValue { $0[nsp]?.adapter }?.receive(entry: entry)
        }
    }

    /// The factory to put in `SocketIOServerConfiguration.adapter`.
    public var adapter: @Sendable (any AdapterNamespace) -> any Adapter {
        { namespace in self.makeAdapter(for: namespace) }
    }

    /// Creates the adapter of `namespace` and subscribes to its channels.
    public func makeAdapter(for namespace: any AdapterNamespace) -> RedisStreamsAdapter {
        let adapter = RedisStreamsAdapter(namespace: namespace, factory: self)
        // A namespace whose stream no reader covers (a negative hash with several streams) gets one.
        self.startReading(adapter.streamName)
        self.namespaces.withLockedValue { $0[namespace.name] = Weak(adapter: adapter) }
        self.channels.withLockedValue { channels in
            channels[adapter.publicChannel] = Weak(adapter: adapter)
            channels[adapter.privateChannel] = Weak(adapter: adapter)
        }
        self.driver.subscribe([adapter.publicChannel, adapter.privateChannel])
        return adapter
    }

    /// Waits until every connection is up.
    public func waitUntilReady(timeout: Duration = .seconds(10)) async throws {
        try await self.driver.waitUntilReady(timeout: timeout)
    }

    /// Closes the connections.
    public func shutdown() async {
        await self.driver.shutdown()
    }
}
