/// The Socket.IO v5 packet types, the first character of an encoded packet.
public enum SocketPacketType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Connection to a namespace (client → server with optional auth; server → client with `{"sid":…}`).
    case connect = 0
    /// Disconnection from a namespace.
    case disconnect = 1
    /// An event: `["name", args…]`.
    case event = 2
    /// An acknowledgement: `[args…]` with the id of the event it answers.
    case ack = 3
    /// A refused namespace connection: `{"message":…, "data":…}`.
    case connectError = 4
    /// An event carrying binary attachments.
    case binaryEvent = 5
    /// An acknowledgement carrying binary attachments.
    case binaryAck = 6

    /// Whether packets of this type are followed by binary attachments.
    @inlinable
    public var isBinary: Bool { self == .binaryEvent || self == .binaryAck }

    /// The protocol's name for the type, e.g. `BINARY_EVENT`.
    public var description: String {
        switch self {
        case .connect: "CONNECT"
        case .disconnect: "DISCONNECT"
        case .event: "EVENT"
        case .ack: "ACK"
        case .connectError: "CONNECT_ERROR"
        case .binaryEvent: "BINARY_EVENT"
        case .binaryAck: "BINARY_ACK"
        }
    }
}
