import NIOCore
import SocketIOCore
import SocketIOAdapter
import SocketIOCore

/// The message types of socket.io-adapter's `ClusterAdapter` (2.5), which Node.js's sharded Redis adapter
/// and its Redis Streams adapter speak.
public struct ClusterMessageType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The wire number.
    public let rawValue: Int
    /// Creates a type from its wire number.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// A node announces itself (heartbeat adapters only).
    public static let initialHeartbeat = ClusterMessageType(rawValue: 1)
    /// A node is alive (heartbeat adapters only).
    public static let heartbeat = ClusterMessageType(rawValue: 2)
    /// A packet for the selected sockets (with `requestId`: a broadcast that expects acks).
    public static let broadcast = ClusterMessageType(rawValue: 3)
    /// `socketsJoin`.
    public static let socketsJoin = ClusterMessageType(rawValue: 4)
    /// `socketsLeave`.
    public static let socketsLeave = ClusterMessageType(rawValue: 5)
    /// `disconnectSockets`.
    public static let disconnectSockets = ClusterMessageType(rawValue: 6)
    /// `fetchSockets`.
    public static let fetchSockets = ClusterMessageType(rawValue: 7)
    /// The answer to `fetchSockets`.
    public static let fetchSocketsResponse = ClusterMessageType(rawValue: 8)
    /// `serverSideEmit` (with `requestId`: expecting acknowledgements).
    public static let serverSideEmit = ClusterMessageType(rawValue: 9)
    /// One node's acknowledgement of a `serverSideEmit`.
    public static let serverSideEmitResponse = ClusterMessageType(rawValue: 10)
    /// How many clients a node reached with a broadcast that expects acks.
    public static let broadcastClientCount = ClusterMessageType(rawValue: 11)
    /// One client's ack of such a broadcast.
    public static let broadcastAck = ClusterMessageType(rawValue: 12)
    /// A node's adapter closes (heartbeat adapters only).
    public static let adapterClose = ClusterMessageType(rawValue: 13)

    /// The types whose data may carry binary (encoded as MessagePack when they do).
    public var mayContainBinary: Bool {
        [.broadcast, .broadcastAck, .fetchSocketsResponse, .serverSideEmit, .serverSideEmitResponse].contains(self)
    }

    public var description: String {
        let names = ["INITIAL_HEARTBEAT", "HEARTBEAT", "BROADCAST", "SOCKETS_JOIN", "SOCKETS_LEAVE", "DISCONNECT_SOCKETS", "FETCH_SOCKETS",
                     "FETCH_SOCKETS_RESPONSE", "SERVER_SIDE_EMIT", "SERVER_SIDE_EMIT_RESPONSE", "BROADCAST_CLIENT_COUNT", "BROADCAST_ACK", "ADAPTER_CLOSE"]
        return (1...names.count).contains(self.rawValue) ? names[self.rawValue - 1] : "UNKNOWN(\(self.rawValue))"
    }
}

/// The pure encoders and decoders of `ClusterAdapter` messages, `{type, data, uid, nsp}` in the order
/// Node.js writes them (`publishAndReturnOffset` adds `uid` and `nsp` after `type` and `data`), with each
/// `data` object's keys in the order of socket.io-adapter's `cluster-adapter.ts`.
///
/// Encoding follows the sharded Redis adapter: JSON, unless the type may carry binary and does, then
/// MessagePack (notepack.io); decoding takes JSON when the first byte is `{`, MessagePack otherwise.
public enum ClusterAdapterMessage {
    /// A decoded message.
    public struct Decoded: Sendable {
        /// The type.
        public var type: ClusterMessageType
        /// The sending node (`emitter` for an emitter).
        public var uid: String?
        /// The namespace.
        public var namespace: String?
        /// The type's data (an empty object when absent).
        public var data: JSONObject
    }

    /// A 16-hex-digit random id (8 random bytes), like `ClusterAdapter`'s `randomId()`.
    public static func randomId() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The whole message.
    public static func message(type: ClusterMessageType, data: JSONValue?, uid: String, namespace: String) -> JSONValue {
        var object: JSONObject = ["type": .int(type.rawValue)]
        if let data { _ = object.updateValue(data, forKey: "data") }
        _ = object.updateValue(.string(uid), forKey: "uid")
        _ = object.updateValue(.string(namespace), forKey: "nsp")
        return .object(object)
    }

    /// The bytes of a message: JSON, or MessagePack for a type that may carry binary and does.
    public static func encode(type: ClusterMessageType, data: JSONValue?, uid: String, namespace: String) -> ByteBuffer {
        let value = self.message(type: type, data: data, uid: uid, namespace: namespace)
        if type.mayContainBinary, data?.containsBinary == true { return MessagePack.encode(value) }
        return value.jsonBytes()
    }

    /// Decodes a message (JSON when it starts with `{`, MessagePack otherwise).
    public static func decode(_ bytes: ByteBuffer) throws(RedisError) -> Decoded {
        let object = try RedisAdapterMessage.decodeObject(bytes)
        guard let type = object["type"]?.intValue else { throw .protocolError("cluster message without a type") }
        return Decoded(
            type: ClusterMessageType(rawValue: type),
            uid: object["uid"]?.stringValue,
            namespace: object["nsp"]?.stringValue,
            data: object["data"]?.objectValue ?? JSONObject()
        )
    }

    // MARK: The data of each type

    /// A packet as socket.io's broadcast operator builds it: `{type, data}` (the namespace is added by the
    /// receiving side), plus `id` when set; binary types are written as their plain type.
    public static func packetObject(_ packet: SocketPacket) -> JSONValue {
        let type: SocketPacketType = packet.type == .binaryEvent ? .event : packet.type == .binaryAck ? .ack : packet.type
        var object: JSONObject = ["type": .int(Int(type.rawValue))]
        if let data = packet.data { _ = object.updateValue(data, forKey: "data") }
        if let id = packet.ackId { _ = object.updateValue(.int(id), forKey: "id") }
        return .object(object)
    }

    /// `BROADCAST`: `{packet, opts}`, or `{packet, requestId, opts}` for a broadcast with acks.
    public static func broadcastData(packet: SocketPacket, options: BroadcastOptions, requestId: String? = nil) -> JSONValue {
        var object: JSONObject = ["packet": self.packetObject(packet)]
        if let requestId { _ = object.updateValue(.string(requestId), forKey: "requestId") }
        _ = object.updateValue(RedisAdapterMessage.optionsObject(options), forKey: "opts")
        return .object(object)
    }

    /// `SOCKETS_JOIN` / `SOCKETS_LEAVE`: `{opts, rooms}`.
    public static func roomsData(options: BroadcastOptions, rooms: Set<String>) -> JSONValue {
        ["opts": RedisAdapterMessage.optionsObject(options), "rooms": .array(rooms.sorted().map { .string($0) })]
    }

    /// `DISCONNECT_SOCKETS`: `{opts, close}`.
    public static func disconnectData(options: BroadcastOptions, close: Bool) -> JSONValue {
        ["opts": RedisAdapterMessage.optionsObject(options), "close": .bool(close)]
    }

    /// `FETCH_SOCKETS`: `{opts, requestId}`.
    public static func fetchSocketsData(options: BroadcastOptions, requestId: String) -> JSONValue {
        ["opts": RedisAdapterMessage.optionsObject(options), "requestId": .string(requestId)]
    }

    /// `FETCH_SOCKETS_RESPONSE`: `{requestId, sockets: [{id, handshake, rooms, data}]}`.
    public static func fetchSocketsResponseData(requestId: String, sockets: [JSONValue]) -> JSONValue {
        ["requestId": .string(requestId), "sockets": .array(sockets)]
    }

    /// `SERVER_SIDE_EMIT`: `{packet}`, or `{requestId, packet}` when acknowledgements are expected.
    public static func serverSideEmitData(arguments: [JSONValue], requestId: String?) -> JSONValue {
        guard let requestId else { return ["packet": .array(arguments)] }
        return ["requestId": .string(requestId), "packet": .array(arguments)]
    }

    /// `SERVER_SIDE_EMIT_RESPONSE` and `BROADCAST_ACK`: `{requestId, packet}` (one value).
    public static func answerData(requestId: String, packet: JSONValue?) -> JSONValue {
        var object: JSONObject = ["requestId": .string(requestId)]
        if let packet { _ = object.updateValue(packet, forKey: "packet") }
        return .object(object)
    }

    /// `BROADCAST_CLIENT_COUNT`: `{requestId, clientCount}`.
    public static func clientCountData(requestId: String, clientCount: Int) -> JSONValue {
        ["requestId": .string(requestId), "clientCount": .int(clientCount)]
    }
}
