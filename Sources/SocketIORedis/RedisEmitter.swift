import NIOCore
import SocketIOCore
import SocketIOAdapter
import SocketIOCore

/// Publishes to a Socket.IO cluster from a process that is not a Socket.IO server (a job worker), like
/// Node.js's `@socket.io/redis-emitter`: the nodes' Redis adapters deliver to their clients.
///
/// ```swift
/// let redis = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:6379"))
/// let emitter = RedisEmitter(client: redis)
/// try await emitter.to("room1").except("room2").emit("news", ["title": "hello"])
/// try await emitter.in("room1").socketsJoin("room3")
/// ```
public struct RedisEmitter: Sendable {
    /// The uid the emitter's messages carry.
    public static let uid = "emitter"

    /// The client that publishes.
    public let client: RedisClient
    /// The channel prefix (`key` of the adapters).
    public let key: String
    /// The namespace reached.
    public let namespace: String
    /// The selection and flags.
    public var options: BroadcastOptions

    /// An emitter to `namespace` of the cluster whose adapters use `key`.
    public init(client: RedisClient, key: String = "socket.io", namespace: String = "/", options: BroadcastOptions = BroadcastOptions()) {
        self.client = client
        self.key = key
        self.namespace = namespace.hasPrefix("/") ? namespace : "/" + namespace
        self.options = options
    }

    private var channels: RedisAdapterChannels { RedisAdapterChannels(key: self.key, namespace: self.namespace) }

    private func with(_ change: (inout BroadcastOptions) -> Void) -> RedisEmitter {
        var copy = self
        change(&copy.options)
        return copy
    }

    /// The emitter of another namespace (no rooms selected).
    public func of(_ namespace: String) -> RedisEmitter {
        RedisEmitter(client: self.client, key: self.key, namespace: namespace)
    }

    /// Adds `room` to the targets.
    public func to(_ room: String) -> RedisEmitter { self.with { $0.rooms.insert(room) } }
    /// Adds `rooms` to the targets.
    public func to(_ rooms: some Sequence<String>) -> RedisEmitter { self.with { $0.rooms.formUnion(rooms) } }
    /// Same as `to(_:)`.
    public func `in`(_ room: String) -> RedisEmitter { self.to(room) }
    /// Skips the sockets in `room`.
    public func except(_ room: String) -> RedisEmitter { self.with { $0.except.insert(room) } }
    /// Skips the sockets in any of `rooms`.
    public func except(_ rooms: some Sequence<String>) -> RedisEmitter { self.with { $0.except.formUnion(rooms) } }
    /// Drops the packet for clients that cannot take it right now.
    public var volatile: RedisEmitter { self.with { $0.volatile = true } }
    /// Allows or forbids compression.
    public func compress(_ compress: Bool) -> RedisEmitter { self.with { $0.compress = compress } }

    /// Emits `event` with `arguments` to the selected sockets of every node; returns how many
    /// subscribers (nodes) Redis delivered the message to.
    @discardableResult
    public func emit(_ event: String, _ arguments: JSONValue...) async throws -> Int {
        try await self.emit(event, arguments: arguments)
    }

    /// Emits `event` with `arguments` to the selected sockets of every node.
    @discardableResult
    public func emit(_ event: String, arguments: [JSONValue]) async throws -> Int {
        let packet = SocketPacket.event(event, arguments, namespace: self.namespace)
        let message = RedisAdapterMessage.encodeBroadcast(uid: Self.uid, packet: packet, options: self.options)
        return Int(try await self.client.publish(self.channels.broadcastChannel(rooms: self.options.rooms), message).get())
    }

    /// Makes the selected sockets join `rooms`.
    public func socketsJoin(_ rooms: String...) async throws {
        try await self.request(.remoteJoin, ["rooms": .array(rooms.map { .string($0) })])
    }

    /// Makes the selected sockets leave `rooms`.
    public func socketsLeave(_ rooms: String...) async throws {
        try await self.request(.remoteLeave, ["rooms": .array(rooms.map { .string($0) })])
    }

    /// Disconnects the selected sockets; with `close`, closes their whole connections.
    public func disconnectSockets(close: Bool = false) async throws {
        try await self.request(.remoteDisconnect, ["close": .bool(close)])
    }

    /// Sends an event to the servers of the namespace (`io.on(event)` there); no acknowledgements.
    public func serverSideEmit(_ event: String, _ arguments: JSONValue...) async throws {
        let message = RedisAdapterMessage.json([
            "uid": .string(Self.uid),
            "type": .int(RedisRequestType.serverSideEmit.rawValue),
            "data": .array([.string(event)] + arguments),
        ])
        _ = try await self.client.publish(self.channels.request, message).get()
    }

    private func request(_ type: RedisRequestType, _ field: KeyValuePairs<String, JSONValue>) async throws {
        let (key, value) = field.first!
        let message = RedisAdapterMessage.json([
            "type": .int(type.rawValue),
            "opts": RedisAdapterMessage.selectionObject(self.options),
            key: value,
        ])
        _ = try await self.client.publish(self.channels.request, message).get()
    }
}

extension RedisEmitter {
    /// Runs one scripted operation, for tools and tests (`socketio-conformance-server --redis-emit`):
    /// `{"nsp":"/","to":["r"],"except":["x"],"op":"emit","event":"e","args":[...]}`, or `op` `join` /
    /// `leave` with `"rooms":[...]`, `disconnect` with `"close":bool`, `serverSideEmit` with `event`/`args`.
    public func run(script: JSONValue) async throws {
        guard let object = script.objectValue else { throw RedisError.unexpectedReply("emitter script is not an object") }
        var emitter = self.of(object["nsp"]?.stringValue ?? self.namespace)
        emitter = emitter.to(RedisAdapterMessage.strings(object["to"])).except(RedisAdapterMessage.strings(object["except"]))
        let rooms = RedisAdapterMessage.strings(object["rooms"])
        switch object["op"]?.stringValue ?? "emit" {
        case "emit":
            try await emitter.emit(object["event"]?.stringValue ?? "message", arguments: object["args"]?.arrayValue ?? [])
        case "join":
            try await emitter.request(.remoteJoin, ["rooms": .array(rooms.map { .string($0) })])
        case "leave":
            try await emitter.request(.remoteLeave, ["rooms": .array(rooms.map { .string($0) })])
        case "disconnect":
            try await emitter.disconnectSockets(close: object["close"]?.boolValue ?? false)
        case "serverSideEmit":
            let message = RedisAdapterMessage.json([
                "uid": .string(Self.uid),
                "type": .int(RedisRequestType.serverSideEmit.rawValue),
                "data": .array([.string(object["event"]?.stringValue ?? "message")] + (object["args"]?.arrayValue ?? [])),
            ])
            _ = try await emitter.client.publish(emitter.channels.request, message).get()
        case let other:
            throw RedisError.unexpectedReply("unknown emitter op \(other)")
        }
    }
}
