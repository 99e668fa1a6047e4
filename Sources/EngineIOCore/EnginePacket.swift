import NIOCore

/// One Engine.IO v4 packet.
///
/// `payload` holds the packet's data after the type digit: UTF-8 text for every type, or raw bytes when
/// `isBinary` is true (only message packets can be binary).
public struct EnginePacket: Sendable, Hashable {
    /// The packet's type.
    public var type: EnginePacketType
    /// The data after the type digit (text as UTF-8 bytes, or the raw bytes of a binary message).
    public var payload: ByteBuffer
    /// Whether this is a binary message.
    public var isBinary: Bool

    /// A packet of `type` with a text payload.
    public init(_ type: EnginePacketType, payload: ByteBuffer = ByteBuffer()) {
        self.type = type
        self.payload = payload
        self.isBinary = false
    }

    /// A message packet carrying `message`.
    public init(message: EngineMessage) {
        self.type = .message
        switch message {
        case .text(let text):
            self.payload = text
            self.isBinary = false
        case .binary(let bytes):
            self.payload = bytes
            self.isBinary = true
        }
    }

    /// A packet of `type` with a text payload given as a string.
    public init(_ type: EnginePacketType, text: String) {
        self.init(type, payload: ByteBuffer(string: text))
    }

    /// The message this packet carries, if it is a message packet.
    public var message: EngineMessage? {
        guard self.type == .message else { return nil }
        return self.isBinary ? .binary(self.payload) : .text(self.payload)
    }

    /// The payload read as a UTF-8 string.
    public var text: String { String(buffer: self.payload) }

    /// `2probe`: the first packet a client sends on a WebSocket it wants to upgrade to.
    public static var probe: EnginePacket { EnginePacket(.ping, text: "probe") }
    /// `3probe`: the server's answer to a probe.
    public static var probeAnswer: EnginePacket { EnginePacket(.pong, text: "probe") }
    /// `2`: a heartbeat ping.
    public static var ping: EnginePacket { EnginePacket(.ping) }
    /// `6`: a noop packet.
    public static var noop: EnginePacket { EnginePacket(.noop) }
    /// `1`: a close packet.
    public static var close: EnginePacket { EnginePacket(.close) }
}

/// Application data carried by Engine.IO message packets.
public enum EngineMessage: Sendable, Hashable {
    /// A text message, as UTF-8 bytes.
    case text(ByteBuffer)
    /// A binary message.
    case binary(ByteBuffer)

    /// A text message made from a string.
    public static func text(_ string: String) -> EngineMessage { .text(ByteBuffer(string: string)) }

    /// The message's bytes.
    public var bytes: ByteBuffer {
        switch self {
        case .text(let buffer), .binary(let buffer): return buffer
        }
    }

    /// Whether the message is binary.
    public var isBinary: Bool {
        if case .binary = self { return true }
        return false
    }
}
