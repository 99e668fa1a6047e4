/// Why bytes could not be read as Engine.IO packets.
public struct EngineDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Reason: Hashable, Sendable {
        case emptyPacket
        case unknownPacketType(UInt8)
        case invalidBase64
        case binaryPacketNotAMessage
        case payloadTooLarge(limit: Int)
    }

    private let reason: Reason
    /// Byte offset in the input where the problem was found.
    public let offset: Int

    private init(_ reason: Reason, offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    /// A packet with no type digit.
    public static func emptyPacket(at offset: Int) -> Self { .init(.emptyPacket, offset: offset) }
    /// A packet whose first byte is not a known type digit.
    public static func unknownPacketType(_ byte: UInt8, at offset: Int) -> Self {
        .init(.unknownPacketType(byte), offset: offset)
    }
    /// A `b`-prefixed packet whose base64 is malformed.
    public static func invalidBase64(at offset: Int) -> Self { .init(.invalidBase64, offset: offset) }
    /// A binary frame or `b` packet in a place only messages may be.
    public static func binaryPacketNotAMessage(at offset: Int) -> Self { .init(.binaryPacketNotAMessage, offset: offset) }
    /// A payload over the configured limit.
    public static func payloadTooLarge(limit: Int) -> Self { .init(.payloadTooLarge(limit: limit), offset: 0) }

    /// Whether the error is a payload over its limit.
    public var isPayloadTooLarge: Bool {
        if case .payloadTooLarge = self.reason { return true }
        return false
    }

    public var description: String {
        switch self.reason {
        case .emptyPacket: return "empty packet at byte \(self.offset)"
        case .unknownPacketType(let byte): return "unknown packet type byte \(byte) at byte \(self.offset)"
        case .invalidBase64: return "invalid base64 at byte \(self.offset)"
        case .binaryPacketNotAMessage: return "binary data that is not a message at byte \(self.offset)"
        case .payloadTooLarge(let limit): return "payload larger than \(limit) bytes"
        }
    }
}
