/// One Socket.IO v5 packet: a type, a namespace, an optional acknowledgement id and an optional payload.
///
/// Binary values (``JSONValue/binary(_:)``) may appear anywhere inside `data`. When encoding, the wire type is
/// chosen from the content: an `.event`/`.ack` holding binary values is sent as `BINARY_EVENT`/`BINARY_ACK`, and a
/// `.binaryEvent`/`.binaryAck` without any is sent as a plain `EVENT`/`ACK`. Decoded packets keep the wire type;
/// use ``isEvent`` and ``isAck`` to handle both forms alike.
public struct SocketPacket: Sendable, Hashable {
    /// The packet type.
    public var type: SocketPacketType
    /// The namespace, starting with "/" and containing no ","; "/" is the main namespace.
    public var namespace: String
    /// The acknowledgement id: on an event, the sender wants an ack with this id; on an ack, the event it answers.
    public var ackId: Int?
    /// The payload: an array for events and acks, an object for connect and connect errors, nil for disconnect.
    public var data: JSONValue?

    /// Creates a packet from its fields.
    @inlinable
    public init(type: SocketPacketType, namespace: String = "/", ackId: Int? = nil, data: JSONValue? = nil) {
        self.type = type
        self.namespace = namespace
        self.ackId = ackId
        self.data = data
    }

    /// An event `name` with `arguments`; pass `ackId` to ask the receiver for an acknowledgement.
    @inlinable
    public static func event(
        _ name: String,
        _ arguments: [JSONValue] = [],
        namespace: String = "/",
        ackId: Int? = nil
    ) -> SocketPacket {
        var array: [JSONValue] = []
        array.reserveCapacity(arguments.count + 1)
        array.append(.string(name))
        array.append(contentsOf: arguments)
        return SocketPacket(type: .event, namespace: namespace, ackId: ackId, data: .array(array))
    }

    /// The acknowledgement of event `ackId`, answering with `arguments` (possibly none).
    @inlinable
    public static func ack(_ arguments: [JSONValue], ackId: Int, namespace: String = "/") -> SocketPacket {
        SocketPacket(type: .ack, namespace: namespace, ackId: ackId, data: .array(arguments))
    }

    /// A namespace connection: from a client with its optional `auth` payload, from a server with `{"sid":…}`.
    @inlinable
    public static func connect(namespace: String = "/", payload: JSONObject? = nil) -> SocketPacket {
        SocketPacket(type: .connect, namespace: namespace, data: payload.map { .object($0) })
    }

    /// The server's acceptance of a namespace connection, carrying the socket id, and with connection state
    /// recovery the private session id: `0/nsp,{"sid":"…","pid":"…"}`.
    @inlinable
    public static func connect(namespace: String = "/", sid: String, pid: String? = nil) -> SocketPacket {
        var object: JSONObject = ["sid": .string(sid)]
        if let pid { object["pid"] = .string(pid) }
        return SocketPacket(type: .connect, namespace: namespace, data: .object(object))
    }

    /// A refused namespace connection: `{"message":…}` plus `"data"` when given.
    @inlinable
    public static func connectError(namespace: String = "/", message: String, data: JSONValue? = nil) -> SocketPacket {
        var object: JSONObject = ["message": .string(message)]
        if let data { object["data"] = data }
        return SocketPacket(type: .connectError, namespace: namespace, data: .object(object))
    }

    /// A disconnection from `namespace`.
    @inlinable
    public static func disconnect(namespace: String = "/") -> SocketPacket {
        SocketPacket(type: .disconnect, namespace: namespace)
    }

    /// Whether this is an `EVENT` or a `BINARY_EVENT`.
    @inlinable
    public var isEvent: Bool { self.type == .event || self.type == .binaryEvent }

    /// Whether this is an `ACK` or a `BINARY_ACK`.
    @inlinable
    public var isAck: Bool { self.type == .ack || self.type == .binaryAck }

    /// For an event, its name: the first element of the payload when it is a string, or a number written in
    /// decimal (Node.js accepts numeric event names). Nil for other packets.
    public var eventName: String? {
        guard self.isEvent, case .array(let array) = self.data, let first = array.first else { return nil }
        switch first {
        case .string(let name): return name
        case .int(let number): return String(number)
        case .double: return first.description
        default: return nil
        }
    }

    /// For an event, its arguments (the payload after the name); for an ack, the whole payload; else empty.
    ///
    /// A slice of the payload array, so no copy is made; like any `ArraySlice` its indices are those of the
    /// payload (an event's first argument is at index 1, i.e. `arguments.startIndex`). Use `Array(arguments)` for
    /// zero-based indices.
    public var arguments: ArraySlice<JSONValue> {
        guard case .array(let array) = self.data else { return [] }
        if self.isEvent { return array.dropFirst() }
        if self.isAck { return array[...] }
        return []
    }

    /// Whether `data` holds any binary value (so the packet will travel as `BINARY_EVENT`/`BINARY_ACK`).
    public var containsBinary: Bool { self.data?.containsBinary ?? false }
}

extension SocketPacket: CustomStringConvertible {
    /// A readable form for logs, e.g. `EVENT /admin #12 ["hello",1]`.
    public var description: String {
        var text = "\(self.type) \(self.namespace)"
        if let ackId { text += " #\(ackId)" }
        if let data { text += " \(data)" }
        return text
    }
}
