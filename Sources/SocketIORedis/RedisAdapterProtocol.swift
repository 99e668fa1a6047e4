import NIOCore
import SocketIOCore
import SocketIOAdapter
import SocketIOCore

/// The kinds of requests and responses nodes exchange on the request/response channels; the numbers
/// are `@socket.io/redis-adapter`'s `RequestType`.
public struct RedisRequestType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The wire number.
    public let rawValue: Int
    /// Creates a type from its wire number.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Ids of the sockets in some rooms (`allSockets`).
    public static let sockets = RedisRequestType(rawValue: 0)
    /// Every room of every node.
    public static let allRooms = RedisRequestType(rawValue: 1)
    /// `socketsJoin`.
    public static let remoteJoin = RedisRequestType(rawValue: 2)
    /// `socketsLeave`.
    public static let remoteLeave = RedisRequestType(rawValue: 3)
    /// `disconnectSockets`.
    public static let remoteDisconnect = RedisRequestType(rawValue: 4)
    /// `fetchSockets`.
    public static let remoteFetch = RedisRequestType(rawValue: 5)
    /// `serverSideEmit`, and its acknowledgements.
    public static let serverSideEmit = RedisRequestType(rawValue: 6)
    /// A broadcast that expects client acknowledgements.
    public static let broadcast = RedisRequestType(rawValue: 7)
    /// How many clients a node reached with such a broadcast.
    public static let broadcastClientCount = RedisRequestType(rawValue: 8)
    /// One client's acknowledgement of such a broadcast.
    public static let broadcastAck = RedisRequestType(rawValue: 9)

    public var description: String {
        let names = ["SOCKETS", "ALL_ROOMS", "REMOTE_JOIN", "REMOTE_LEAVE", "REMOTE_DISCONNECT", "REMOTE_FETCH", "SERVER_SIDE_EMIT", "BROADCAST",
                     "BROADCAST_CLIENT_COUNT", "BROADCAST_ACK"]
        return names.indices.contains(self.rawValue) ? names[self.rawValue] : "UNKNOWN(\(self.rawValue))"
    }
}

/// The channel names of one namespace: `<key>#<nsp>#` (+ `<room>#` for a one-room broadcast),
/// `<key>-request#<nsp>#`, `<key>-response#<nsp>#` (+ `<uid>#` for the node-specific one).
public struct RedisAdapterChannels: Sendable, Hashable {
    /// The prefix (`key` option, default `socket.io`).
    public let key: String
    /// The namespace name.
    public let namespace: String

    /// The channels of `namespace` under `key`.
    public init(key: String = "socket.io", namespace: String) {
        self.key = key
        self.namespace = namespace
    }

    /// Broadcasts to the whole namespace or to several rooms.
    public var broadcast: String { self.key + "#" + self.namespace + "#" }
    /// Broadcasts to exactly one room.
    public func room(_ room: String) -> String { self.broadcast + room + "#" }
    /// Requests to every node.
    public var request: String { self.key + "-request#" + self.namespace + "#" }
    /// Responses to requests.
    public var response: String { self.key + "-response#" + self.namespace + "#" }
    /// Responses addressed to the node `uid` only.
    public func specificResponse(_ uid: String) -> String { self.response + uid + "#" }
    /// The `PSUBSCRIBE` pattern of every broadcast channel (glob characters of the name escaped).
    public var broadcastPattern: String {
        var escaped = ""
        for character in self.broadcast {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped + "*"
    }

    /// The channel a broadcast to `rooms` goes to.
    public func broadcastChannel(rooms: Set<String>) -> String {
        rooms.count == 1 ? self.room(rooms.first!) : self.broadcast
    }
}

/// The pure encoders and decoders of the messages of `@socket.io/redis-adapter` v8 (and
/// `@socket.io/redis-emitter`): broadcasts are MessagePack `[uid, packet, opts]`; requests and responses
/// are JSON objects, or MessagePack maps for `BROADCAST` and `BROADCAST_ACK` (both are accepted on input).
public enum RedisAdapterMessage {
    /// A decoded broadcast.
    public struct Broadcast: Sendable, Hashable {
        /// The sending node (`emitter` for the emitter).
        public var uid: String
        /// The packet.
        public var packet: SocketPacket
        /// Rooms, except, flags.
        public var options: BroadcastOptions
    }

    /// A packet as a JS object: `{type, data, nsp}` plus `id` when set.
    public static func packetObject(_ packet: SocketPacket) -> JSONValue {
        var object: JSONObject = ["type": .int(Int(packet.type.rawValue))]
        if let data = packet.data { _ = object.updateValue(data, forKey: "data") }
        _ = object.updateValue(.string(packet.namespace), forKey: "nsp")
        if let id = packet.ackId { _ = object.updateValue(.int(id), forKey: "id") }
        return .object(object)
    }

    /// The packet of a JS packet object (namespace `/` when missing).
    public static func packet(from value: JSONValue?) -> SocketPacket? {
        guard let object = value?.objectValue,
              let typeNumber = object["type"]?.intValue, let type = SocketPacketType(rawValue: UInt8(clamping: typeNumber))
        else { return nil }
        let namespace = object["nsp"]?.stringValue ?? "/"
        return SocketPacket(type: type, namespace: namespace, ackId: object["id"]?.intValue, data: object["data"])
    }

    /// `{rooms, except, flags}` as the adapter sends it with a broadcast.
    public static func optionsObject(_ options: BroadcastOptions) -> JSONValue {
        [
            "rooms": .array(options.rooms.sorted().map { .string($0) }),
            "except": .array(options.except.sorted().map { .string($0) }),
            "flags": .object(self.flags(options)),
        ]
    }

    static func flags(_ options: BroadcastOptions) -> JSONObject {
        var flags = JSONObject()
        if options.volatile { _ = flags.updateValue(true, forKey: "volatile") }
        if !options.compress { _ = flags.updateValue(false, forKey: "compress") }
        if let timeout = options.timeout { _ = flags.updateValue(.int(Int(timeout.nanoseconds / 1_000_000)), forKey: "timeout") }
        return flags
    }

    /// `{rooms, except}` (the selection part of a request).
    public static func selectionObject(_ options: BroadcastOptions) -> JSONValue {
        ["rooms": .array(options.rooms.sorted().map { .string($0) }), "except": .array(options.except.sorted().map { .string($0) })]
    }

    /// Broadcast options from an `opts` object (`rooms`, `except`, `flags`).
    public static func options(from value: JSONValue?) -> BroadcastOptions {
        let object = value?.objectValue ?? JSONObject()
        func strings(_ key: String) -> Set<String> {
            // Node.js rooms may be numbers; they are strings here.
            Set((object[key]?.arrayValue ?? []).compactMap { $0.stringValue ?? $0.intValue.map(String.init) })
        }
        var options = BroadcastOptions(rooms: strings("rooms"), except: strings("except"))
        if let flags = object["flags"]?.objectValue {
            options.volatile = flags["volatile"]?.boolValue ?? false
            options.compress = flags["compress"]?.boolValue ?? true
            options.local = false
            if let timeout = flags["timeout"]?.intValue { options.timeout = .milliseconds(Int64(timeout)) }
        }
        return options
    }

    /// A broadcast message: MessagePack `[uid, packet, {rooms, except, flags}]`.
    public static func encodeBroadcast(uid: String, packet: SocketPacket, options: BroadcastOptions) -> ByteBuffer {
        MessagePack.encode(.array([.string(uid), self.packetObject(packet), self.optionsObject(options)]))
    }

    /// Decodes a broadcast message.
    public static func decodeBroadcast(_ bytes: ByteBuffer) throws(RedisError) -> Broadcast {
        let value: JSONValue
        do {
            value = try MessagePack.decode(bytes)
        } catch {
            throw .protocolError("broadcast: \(error)")
        }
        guard let elements = value.arrayValue, elements.count >= 3, let uid = elements[0].stringValue ?? elements[0].intValue.map(String.init),
              let packet = self.packet(from: elements[1])
        else { throw .protocolError("broadcast is not [uid, packet, opts]") }
        return Broadcast(uid: uid, packet: packet, options: self.options(from: elements[2]))
    }

    /// Decodes a request or response: JSON when it starts with `{`, MessagePack otherwise.
    public static func decodeObject(_ bytes: ByteBuffer) throws(RedisError) -> JSONObject {
        let value: JSONValue
        if bytes.readableBytesView.first == UInt8(ascii: "{") {
            do {
                value = try JSONValue(parsing: bytes)
            } catch {
                throw .protocolError("request JSON: \(error)")
            }
        } else {
            do {
                value = try MessagePack.decode(bytes)
            } catch {
                throw .protocolError("request: \(error)")
            }
        }
        guard let object = value.objectValue else { throw .protocolError("request is not an object") }
        return object
    }

    /// A JSON request or response from its fields, in the given order (nil fields left out, as
    /// `JSON.stringify` leaves out `undefined`).
    public static func json(_ fields: KeyValuePairs<String, JSONValue?>) -> ByteBuffer {
        JSONValue.object(self.object(fields)).jsonBytes()
    }

    /// A MessagePack request or response from its fields (nil fields left out).
    public static func msgpack(_ fields: KeyValuePairs<String, JSONValue?>) -> ByteBuffer {
        MessagePack.encode(.object(self.object(fields)))
    }

    private static func object(_ fields: KeyValuePairs<String, JSONValue?>) -> JSONObject {
        var object = JSONObject(minimumCapacity: fields.count)
        for (key, value) in fields { if let value { _ = object.updateValue(value, forKey: key) } }
        return object
    }

    /// A local socket as a `fetchSockets` answer describes it: `{id, handshake, rooms, data}`.
    public static func socketObject(_ socket: FetchedSocket) -> JSONValue {
        [
            "id": .string(socket.id),
            "handshake": socket.handshake,
            "rooms": .array(socket.rooms.sorted().map { .string($0) }),
            "data": socket.data,
        ]
    }

    /// The socket an answer to `fetchSockets` describes.
    public static func fetchedSocket(from value: JSONValue) -> FetchedSocket? {
        guard let object = value.objectValue, let id = object["id"]?.stringValue else { return nil }
        return FetchedSocket(
            id: id,
            handshake: object["handshake"] ?? .null,
            rooms: Set(self.strings(object["rooms"])),
            data: object["data"] ?? .null
        )
    }

    /// The strings of an array value.
    static func strings(_ value: JSONValue?) -> [String] {
        (value?.arrayValue ?? []).compactMap { $0.stringValue ?? $0.intValue.map(String.init) }
    }
}
